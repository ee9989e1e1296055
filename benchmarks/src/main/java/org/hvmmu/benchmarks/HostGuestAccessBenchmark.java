package org.hvmmu.benchmarks;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.hvmmu.host.GuestDomain;
import org.hvmmu.host.GuestVcpu;
import org.hvmmu.host.Host;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.LatencyModel;
import org.hvmmu.mmu.MmuSwitches;
import org.hvmmu.mmu.TlbConfig;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Guest accesses through the {@code Host}, 0 B/op on every path:
 *
 * <ul>
 *   <li>an HVM guest on EPT reading its RAM with an 8-byte load, on a TLB hit (against the same load
 *       on the bare MMU vCPU, the limit: target within 2x) and on a 2-D miss (a vCPU without
 *       caches: 24 references);
 *   <li>a 64-bit PV guest on its validated 4-level tables: the load on a TLB hit (and on the bare
 *       vCPU) and on a 4-level miss (4 references);
 *   <li>an HVM guest under shadow paging taking a shadow fault that builds one shadow L1 entry: its
 *       loader clears the accessed flag of the guest entry (the shadow entry goes, Xen's flush
 *       follows), then the load misses, the processor faults on the shadows, Xen walks the guest's
 *       tables, sets A and installs the entry, and the retried load hits.
 * </ul>
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar HostGuestAccess -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@State(Scope.Benchmark)
public class HostGuestAccessBenchmark {
  /** Pages the guest reads, one 8-byte value each. */
  static final int PAGES = 32;

  /** The first guest-linear address. */
  static final long BASE = 0x40_0000L;

  /** The guest-physical address of page i is DATA + i pages (its RAM, gfn = mfn). */
  static final long DATA = 0x15_0000L;

  long[] addresses;
  Host host;
  GuestVcpu eptHit;
  GuestVcpu eptCold;
  GuestVcpu pvHit;
  GuestVcpu pvCold;
  GuestVcpu shadow;
  GuestDomain shadowDomain;
  int next;

  /** Builds an EPT guest with 4-level tables over its RAM, and its two vCPUs. */
  @Setup(Level.Trial)
  public void setup() {
    host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    host.giveRam(d, 0x100, 0x1ff);
    long pml4 = 0x10_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x10_1000L | 0x23);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | 0x23);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, 0x10_3000L | 0x23);
    addresses = new long[PAGES];
    java.util.SplittableRandom random = new java.util.SplittableRandom(0x5EED);
    for (int i = 0; i < PAGES; i++) {
      host.writeGuestPhysical(d, 0x10_3000L + 8L * i, 8, (DATA + ((long) i << 12)) | 0x63);
      long offset = 8L * random.nextInt(512);
      host.writeGuestPhysical(d, DATA + ((long) i << 12) + offset, 8, i + 1);
      addresses[i] = BASE + ((long) i << 12) + offset;
    }
    eptHit = host.createVcpu(d);
    host.configureVcpus(TlbConfig.none(), LatencyModel.GOLDEN_COVE, MmuSwitches.TlbMode.STRICT);
    eptCold = host.createVcpu(d);
    for (GuestVcpu v : List.of(eptHit, eptCold)) {
      if (v.cpu().loadState(0x8005_0033L, pml4, 0x20, 0xD00) != 0) {
        throw new IllegalStateException("loadState failed");
      }
    }
    for (long la : addresses) {
      eptHit.read(la, 8, Access.READ);
    }
    setupPv();
    setupShadow();
  }

  /** L4 0x200, L3 0x201, L2 0x202, L1 0x203, data frames from 0x210: the guest-linear layout. */
  private void setupPv() {
    host.configureVcpus(TlbConfig.goldenCove(), LatencyModel.GOLDEN_COVE,
        MmuSwitches.TlbMode.STRICT);
    GuestDomain pv = host.createDomain(2, PagingMode.PV, false);
    host.giveRam(pv, 0x200, 0x2ff);
    int urw = PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW | PteFlags.PAGE_USER;
    host.writeGuestEntry(pv, 0x200, 0, Pte.fromMfn(0x201, urw));
    host.writeGuestEntry(pv, 0x201, 0, Pte.fromMfn(0x202, urw));
    host.writeGuestEntry(pv, 0x202, 2, Pte.fromMfn(0x203, urw)); // BASE is in L2 slot 2
    for (int i = 0; i < PAGES; i++) {
      long frame = 0x210 + i;
      host.writeGuestEntry(pv, 0x203, i, Pte.fromMfn(frame, urw));
      host.machine().write((frame << 12) + (addresses[i] & 0xFFF), 8, i + 1);
    }
    pvHit = host.createVcpu(pv);
    host.configureVcpus(TlbConfig.none(), LatencyModel.GOLDEN_COVE, MmuSwitches.TlbMode.STRICT);
    pvCold = host.createVcpu(pv);
    for (GuestVcpu v : List.of(pvHit, pvCold)) {
      if (host.newBaseptr(v, 0x200) != 0) {
        throw new IllegalStateException("new_baseptr failed");
      }
    }
    for (long la : addresses) {
      pvHit.read(la, 8, Access.USER);
    }
  }

  /** The EPT guest's layout, in a shadowed HVM guest (RAM gfn 0x300-0x3ff). */
  private void setupShadow() {
    host.configureVcpus(TlbConfig.goldenCove(), LatencyModel.GOLDEN_COVE,
        MmuSwitches.TlbMode.STRICT);
    GuestDomain d = host.createDomain(3, PagingMode.HVM_SHADOW, false);
    host.giveRam(d, 0x300, 0x3ff);
    long pml4 = 0x30_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x30_1000L | 0x27);
    host.writeGuestPhysical(d, 0x30_1000L, 8, 0x30_2000L | 0x27);
    host.writeGuestPhysical(d, 0x30_2000L + 8 * 2, 8, 0x30_3000L | 0x27);
    for (int i = 0; i < PAGES; i++) {
      host.writeGuestPhysical(d, shadowPte(i), 8, shadowData(i) | 0x63);
      host.writeGuestPhysical(d, shadowData(i) + (addresses[i] & 0xFFF), 8, i + 1);
    }
    shadowDomain = d;
    shadow = host.createVcpu(d);
    if (shadow.loadGuestState(0x8005_0033L, pml4, 0x20, 0xD00) != 0) {
      throw new IllegalStateException("loadGuestState failed");
    }
    for (long la : addresses) {
      shadow.read(la, 8, Access.READ);
    }
  }

  /** The guest-physical address of the shadowed guest's page-table entry for page {@code i}. */
  static long shadowPte(int i) {
    return 0x30_3000L + 8L * i;
  }

  /** The guest-physical address of the shadowed guest's data page {@code i}. */
  static long shadowData(int i) {
    return 0x35_0000L + ((long) i << 12);
  }

  /** The limit: the same 8-byte load on the bare MMU vCPU, hitting its TLB. */
  @Benchmark
  @OperationsPerInvocation(PAGES)
  public long bareMmuRead() {
    long sum = 0;
    org.hvmmu.mmu.Vcpu v = eptHit.cpu();
    for (long la : addresses) {
      sum += v.read(la, 8, Access.READ);
    }
    return sum;
  }

  /** A guest load through the host's vCPU, hitting the TLB. */
  @Benchmark
  @OperationsPerInvocation(PAGES)
  public long eptReadHit() {
    return readAll(eptHit);
  }

  /** A guest load through the host's vCPU on a 2-D miss (no TLB, no caches: 24 references). */
  @Benchmark
  @OperationsPerInvocation(PAGES)
  public long eptReadTwoDimensionalMiss() {
    return readAll(eptCold);
  }

  /** The limit for PV: the 8-byte load on the bare MMU vCPU, hitting its TLB. */
  @Benchmark
  @OperationsPerInvocation(PAGES)
  public long pvBareMmuRead() {
    long sum = 0;
    org.hvmmu.mmu.Vcpu v = pvHit.cpu();
    for (long la : addresses) {
      sum += v.read(la, 8, Access.USER);
    }
    return sum;
  }

  /** A PV guest's load through the host's vCPU, hitting the TLB. */
  @Benchmark
  @OperationsPerInvocation(PAGES)
  public long pvReadHit() {
    return readAll(pvHit, Access.USER);
  }

  /** A PV guest's load on a 4-level miss (no TLB, no caches: 4 references, then the data). */
  @Benchmark
  @OperationsPerInvocation(PAGES)
  public long pvReadFourLevelMiss() {
    return readAll(pvCold, Access.USER);
  }

  /**
   * A shadow fault that builds one shadow L1 entry: the loader clears the guest entry's A flag
   * (Xen removes the shadow entry and flushes), the load faults on the shadows, the shadow code
   * walks the guest's tables, sets A and installs the entry, the load is retried and hits.
   */
  @Benchmark
  public long shadowFaultBuildingOneEntry() {
    int i = next;
    next = (i + 1) & (PAGES - 1);
    host.writeGuestPhysical(shadowDomain, shadowPte(i), 8, shadowData(i) | 0x43); // A clear
    return shadow.read(addresses[i], 8, Access.READ);
  }

  private long readAll(GuestVcpu v) {
    return readAll(v, Access.READ);
  }

  private long readAll(GuestVcpu v, int access) {
    long sum = 0;
    for (long la : addresses) {
      sum += v.read(la, 8, access);
    }
    return sum;
  }
}
