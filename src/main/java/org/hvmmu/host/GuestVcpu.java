package org.hvmmu.host;

import java.util.Objects;
import org.hvmmu.mmu.Vcpu;

/**
 * A vCPU of a {@link GuestDomain}: the MMU layer's {@link Vcpu} (control registers, TLBs and caches,
 * cycle counters) running on the host's machine memory, configured for the domain's paging mode by
 * {@link Host#createVcpu}. Guest loads, stores and fetches go through it; what the hypervisor changes
 * under it (p2m entries, PV entries it revalidates, shadows) is followed by the flushes {@link
 * FlushSwitches} names.
 *
 * <pre>{@code
 * GuestVcpu v = host.createVcpu(hvmGuest);
 * v.cpu().loadState(cr0, cr3, cr4, efer);        // the guest's own registers
 * long value = v.read(la, 8, Access.USER);
 * if (v.lastFault() != 0) { ... Fault.describe(v.lastFault()) ... }
 * }</pre>
 *
 * <p>Like its {@link Vcpu}, a guest vCPU belongs to one thread.
 */
public final class GuestVcpu {
  private final GuestDomain domain;
  private final int index;
  private final Vcpu cpu;

  GuestVcpu(GuestDomain domain, int index, Vcpu cpu) {
    this.domain = Objects.requireNonNull(domain, "domain");
    this.index = index;
    this.cpu = Objects.requireNonNull(cpu, "cpu");
  }

  /**
   * The domain it belongs to.
   *
   * @return the domain
   */
  public GuestDomain domain() {
    return domain;
  }

  /**
   * Its index in the domain (Xen's {@code vcpu_id}).
   *
   * @return 0, 1, ...
   */
  public int index() {
    return index;
  }

  /**
   * The MMU layer's vCPU: registers, translation, invalidations, counters.
   *
   * @return the vCPU
   */
  public Vcpu cpu() {
    return cpu;
  }

  /**
   * A guest load: {@link Vcpu#read}.
   *
   * @param la the linear address
   * @param size 1, 2, 4 or 8
   * @param access {@link org.hvmmu.mmu.Access} bits
   * @return the value, or 0 with {@link #lastFault()} set
   */
  public long read(long la, int size, int access) {
    return cpu.read(la, size, access);
  }

  /**
   * A guest store: {@link Vcpu#write}.
   *
   * @param la the linear address
   * @param size 1, 2, 4 or 8
   * @param value the value
   * @param access {@link org.hvmmu.mmu.Access} bits (WRITE is added)
   * @return 0 or the fault
   */
  public long write(long la, int size, long value, int access) {
    return cpu.write(la, size, value, access);
  }

  /**
   * A guest instruction fetch: {@link Vcpu#fetch}.
   *
   * @param la the linear address
   * @param size 1, 2, 4 or 8
   * @param user whether the fetch is a user-mode access
   * @return the bytes, or 0 with {@link #lastFault()} set
   */
  public long fetch(long la, int size, boolean user) {
    return cpu.fetch(la, size, user);
  }

  /**
   * The fault of the last {@link #read} or {@link #fetch}, or 0.
   *
   * @return a negative {@link org.hvmmu.mmu.Fault}, or 0
   */
  public long lastFault() {
    return cpu.lastFault();
  }

  @Override
  public String toString() {
    return domain + " vcpu " + index;
  }
}
