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
 * Guest accesses through the {@code Host}: an HVM guest on EPT reading its RAM with an 8-byte load,
 * on a TLB hit (against the same load on the bare MMU vCPU, the limit: target within 2x) and on a
 * 2-D miss (a vCPU without caches: 24 references). 0 B/op on every path.
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

  private long readAll(GuestVcpu v) {
    long sum = 0;
    for (long la : addresses) {
      sum += v.read(la, 8, Access.READ);
    }
    return sum;
  }
}
