package org.hvmmu.benchmarks;

import java.util.concurrent.TimeUnit;
import org.hvmmu.host.GuestDomain;
import org.hvmmu.host.GuestVcpu;
import org.hvmmu.host.Host;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.mmu.Access;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A guest's 4-byte store to a protected page (a frame in {@code mmio_ro_ranges}, mapped
 * read-only), through the {@code Host}'s vCPU, from the access to its outcome, per paging mode,
 * under {@code HARDENED} (= Xen 4.22 for these decisions; docs/access.md), 0 B/op on every path:
 *
 * <ul>
 *   <li>{@code pvDomU}: a PV domU's kernel store: the processor's #PF, {@code pv_ro_page_fault}
 *       finds no page table behind the frame ({@code PV_NOT_HARDWARE_DOMAIN}), the #PF is the
 *       guest's;
 *   <li>{@code pvDom0}: the hardware domain's aligned kernel store: the #PF, {@code
 *       mmio_ro_emulated_write} drops it ({@code MMIO_RO_DROPPED}), the store completes;
 *   <li>{@code hvmEpt} / {@code hvmNpt}: an HVM guest's store to read-only {@code mmio_direct}: the
 *       EPT violation / #NPF exit, {@code hvmemul_do_io} finds only the null handler, which
 *       discards it ({@code NULL_HANDLER_WRITE}, Xen 4.21+);
 *   <li>{@code hvmShadow}: an HVM shadow guest's store: {@code sh_page_fault} leaves the read-only
 *       shadow entry as it was, a re-fault loop in Xen that the model ends at once with the #PF
 *       ({@code SHADOW_REFAULT}).
 * </ul>
 *
 * <p>Every vCPU keeps its TLB: the translation of the protected page is read-only, so each store
 * faults again. Each method returns the fault (0 for none) plus the outcome's code, so that nothing
 * is dead code.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar ProtectedStore -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@State(Scope.Benchmark)
public class ProtectedStoreBenchmark {
  /** The protected frame: an MSI-X table page, mapped by every guest. */
  static final long TABLE = 0xfe010;

  /** The PV guests' linear address of the table (slot 5 of their L1 table). */
  static final long PV_VA = 0x5000;

  /** The HVM guests' linear address of the table (identity gfn = mfn). */
  static final long HVM_VA = 0x40_0000L;

  private static final int URW = PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW | PteFlags.PAGE_USER;

  GuestVcpu pvDomU;
  GuestVcpu pvDom0;
  GuestVcpu ept;
  GuestVcpu npt;
  GuestVcpu shadow;
  int value;

  /** Builds one host per guest, each with the table frame protected and mapped read-only. */
  @Setup(Level.Trial)
  public void setup() {
    pvDomU = pv(false);
    pvDom0 = pv(true);
    ept = hvm(PagingMode.HVM_EPT);
    npt = hvm(PagingMode.HVM_NPT);
    shadow = shadowGuest();
  }

  /** A PV domain: L4 0x100, L3 0x101, L2 0x102, L1 0x103; linear 0x5000 maps the table. */
  static GuestVcpu pv(boolean hardwareDomain) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(hardwareDomain ? 0 : 1, PagingMode.PV, hardwareDomain);
    check(host.giveRam(d, 0x100, 0x1ff), "giveRam");
    check(host.grantIomem(d, 0xfe000, 0xfe0ff), "grantIomem");
    host.writeGuestEntry(d, 0x100, 0, Pte.fromMfn(0x101, URW));
    host.writeGuestEntry(d, 0x101, 0, Pte.fromMfn(0x102, URW));
    host.writeGuestEntry(d, 0x102, 0, Pte.fromMfn(0x103, URW));
    GuestVcpu v = host.createVcpu(d);
    check(host.newBaseptr(v, 0x100), "new_baseptr");
    check(host.protect("msix table", TABLE, TABLE), "protect");
    check(host.updateVaMapping(v, PV_VA, Pte.fromMfn(TABLE, URW),
        PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL, 0), "update_va_mapping");
    return v;
  }

  /** An HVM guest on EPT or NPT: 4-level tables at gfn 0x100-0x103, 0x400000 maps the table. */
  static GuestVcpu hvm(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, mode, false);
    check(host.giveRam(d, 0x100, 0x1ff), "giveRam");
    check(host.protect("msix table", TABLE, TABLE), "protect");
    check(host.grantIomem(d, TABLE, TABLE), "grantIomem");
    tables(host, d, 0x23, 0x63);
    GuestVcpu v = host.createVcpu(d);
    check(v.cpu().loadState(0x8005_0033L, 0x10_0000L, 0x20, 0xD00), "loadState");
    return v;
  }

  /** An HVM guest under shadow paging with the same tables; the frame protected afterwards. */
  static GuestVcpu shadowGuest() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_SHADOW, false);
    check(host.giveRam(d, 0x100, 0x1ff), "giveRam");
    check(host.grantIomem(d, TABLE, TABLE), "grantIomem");
    tables(host, d, 0x27, 0x67);
    GuestVcpu v = host.createVcpu(d);
    check(v.loadGuestState(0x8005_0033L, 0x10_0000L, 0x20, 0xD00), "loadGuestState");
    check(host.protect("msix table", TABLE, TABLE), "protect");
    return v;
  }

  private static void tables(Host host, GuestDomain d, long upper, long leaf) {
    host.writeGuestPhysical(d, 0x10_0000L, 8, 0x10_1000L | upper);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | upper);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, 0x10_3000L | upper);
    host.writeGuestPhysical(d, 0x10_3000L, 8, (TABLE << 12) | leaf);
  }

  private static void check(long rc, String what) {
    if (rc != 0) {
      throw new IllegalStateException(what + " failed: " + rc);
    }
  }

  private long store(GuestVcpu v, long la, int access) {
    long fault = v.write(la, 4, ++value, access);
    return fault + v.lastOutcome();
  }

  /** A PV domU's kernel store: #PF, given back to the guest. */
  @Benchmark
  public long pvDomU() {
    return store(pvDomU, PV_VA + 8, Access.USER);
  }

  /** The hardware domain's aligned kernel store: #PF, dropped by mmio_ro_emulated_write. */
  @Benchmark
  public long pvDom0() {
    return store(pvDom0, PV_VA + 8, Access.USER);
  }

  /** An EPT guest's store: EPT violation, discarded by the null handler. */
  @Benchmark
  public long hvmEpt() {
    return store(ept, HVM_VA + 8, Access.READ);
  }

  /** An NPT guest's store: #NPF, discarded by the null handler. */
  @Benchmark
  public long hvmNpt() {
    return store(npt, HVM_VA + 8, Access.READ);
  }

  /** An HVM shadow guest's store: the re-fault loop, ended at once with the #PF. */
  @Benchmark
  public long hvmShadow() {
    return store(shadow, HVM_VA + 8, Access.USER);
  }
}
