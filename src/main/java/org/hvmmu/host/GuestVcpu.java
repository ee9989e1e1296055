package org.hvmmu.host;

import java.util.Objects;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
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
  /** How often one access may be retried after the hypervisor fixed a fault (a shadow built). */
  static final int MAX_RETRIES = 16;

  private final GuestDomain domain;
  private final int index;
  private final Vcpu cpu;
  private FaultHandler handler;
  private long lastFault;

  /**
   * What the hypervisor does with a fault the hardware raised before the guest sees it: a shadow
   * page fault builds the missing shadow entries, an EPT violation on an emulated page is emulated.
   */
  @FunctionalInterface
  interface FaultHandler {
    /**
     * Handles {@code fault}, raised by {@code v}'s hardware for an access of kind {@code access} to
     * {@code la}.
     *
     * @return 0 to retry the access (the hypervisor fixed it), or the fault the guest sees
     */
    long handle(GuestVcpu v, long fault, long la, int access);
  }

  GuestVcpu(GuestDomain domain, int index, Vcpu cpu) {
    this.domain = Objects.requireNonNull(domain, "domain");
    this.index = index;
    this.cpu = Objects.requireNonNull(cpu, "cpu");
  }

  void setFaultHandler(FaultHandler handler) {
    this.handler = handler;
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
   * @param access {@link Access} bits
   * @return the value, or 0 with {@link #lastFault()} set
   */
  public long read(long la, int size, int access) {
    for (int tries = 0; ; tries++) {
      long value = cpu.read(la, size, access);
      long fault = cpu.lastFault();
      if (fault == 0 || handler == null || tries == MAX_RETRIES) {
        lastFault = fault;
        return value;
      }
      fault = handler.handle(this, fault, faultAddress(la), access);
      if (fault != 0) {
        lastFault = fault;
        return 0;
      }
    }
  }

  /**
   * A guest store: {@link Vcpu#write}.
   *
   * @param la the linear address
   * @param size 1, 2, 4 or 8
   * @param value the value
   * @param access {@link Access} bits (WRITE is added)
   * @return 0 or the fault
   */
  public long write(long la, int size, long value, int access) {
    for (int tries = 0; ; tries++) {
      long fault = cpu.write(la, size, value, access);
      if (fault == 0 || handler == null || tries == MAX_RETRIES) {
        lastFault = fault;
        return fault;
      }
      fault = handler.handle(this, fault, faultAddress(la), access | Access.WRITE);
      if (fault != 0) {
        lastFault = fault;
        return fault;
      }
    }
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
    return read(la, size, Access.FETCH | (user ? Access.USER : 0));
  }

  /**
   * A translation, as {@link Vcpu#translate}, with the hypervisor handling the faults it handles.
   *
   * @param la the linear address
   * @param access {@link Access} bits
   * @return the machine address, or the fault the guest sees
   */
  public long translate(long la, int access) {
    for (int tries = 0; ; tries++) {
      long r = cpu.translate(la, access);
      if (r >= 0 || handler == null || tries == MAX_RETRIES) {
        return r;
      }
      r = handler.handle(this, r, la, access);
      if (r != 0) {
        return r;
      }
    }
  }

  /**
   * The fault the guest saw in the last {@link #read}, {@link #write} or {@link #fetch}, or 0.
   *
   * @return a negative {@link Fault}, or 0
   */
  public long lastFault() {
    return lastFault;
  }

  /** The address a fault concerns: CR2 for a page fault (the second page of a split access). */
  private long faultAddress(long la) {
    long fault = cpu.lastFault();
    return fault != 0 && Fault.kindCode(fault) == FaultKind.PAGE_FAULT.code() ? cpu.cr2() : la;
  }

  @Override
  public String toString() {
    return domain + " vcpu " + index;
  }
}
