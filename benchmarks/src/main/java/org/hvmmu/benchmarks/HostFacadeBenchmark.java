package org.hvmmu.benchmarks;

import java.util.concurrent.TimeUnit;
import org.hvmmu.host.GuestDomain;
import org.hvmmu.host.Host;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.p2m.P2mDomainConfig;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.ept.EptP2m;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.hvmmu.x86.pv.Domain;
import org.hvmmu.x86.pv.GuestType;
import org.hvmmu.x86.pv.PvMmu;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The {@link Host} facade against the bare module calls it wraps: a PV {@code mod_l1_entry} of a
 * writable MMIO entry (the host also keeps its reverse map) and an EPT {@code p2m_set_entry} of an
 * {@code mmio_direct} 4-KByte leaf (the host also looks the old leaf up and keeps the reverse map),
 * with {@code n} ranges registered in {@code mmio_ro_ranges}. The frames are {@link RangeWorkload}'s
 * queries, half of them protected. Target: within 2x of the bare call, 0 B/op.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar HostFacade -prof gc -rf json -rff host.json
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@State(Scope.Benchmark)
public class HostFacadeBenchmark {
  static final long TABLE = 0x100;
  static final int P2M_TABLE_PAGES = 16384;

  /** Number of ranges in mmio_ro_ranges. */
  @Param({"16", "1024", "65536"})
  int n;

  long[] queries;
  long[] entries;
  Host host;
  GuestDomain pvGuest;
  GuestDomain eptGuest;
  PvMmu barePv;
  Domain bareGuest;
  EptP2m bareEpt;

  /** Builds the host and the bare modules with the same ranges. */
  @Setup(Level.Trial)
  public void setup() {
    RangeWorkload workload = RangeWorkload.of(n);
    queries = workload.queries.clone();
    entries = new long[queries.length];
    for (int i = 0; i < queries.length; i++) {
      entries[i] = Pte.fromMfn(queries[i],
          PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW | PteFlags.PAGE_USER);
    }
    host = new Host(0x1000, Policy.HARDENED, CpuFeatures.ALL, P2M_TABLE_PAGES);
    for (int i = 0; i < workload.size(); i++) {
      check(host.protect("range " + i, workload.starts[i], workload.ends[i]));
    }
    pvGuest = host.createDomain(1, PagingMode.PV, false);
    host.giveRam(pvGuest, TABLE, TABLE);
    pvGuest.mmuView().iomemCaps().addRange(0, ~0L);
    check(host.pinL1Table(pvGuest, TABLE));
    eptGuest = host.createDomain(2, PagingMode.HVM_EPT, false);
    eptGuest.mmuView().iomemCaps().addRange(0, ~0L);

    IntervalTreeRangeSet ro = RangeStructures.intervalTree(workload);
    barePv = new PvMmu(0x1000, ro, CpuFeatures.ALL, Policy.HARDENED.pv());
    bareGuest = barePv.createDomain(1, false, GuestType.PV64);
    bareGuest.iomemCaps().addRange(0, ~0L);
    barePv.frameTable().assignRange(TABLE, TABLE, 1);
    check(barePv.pinL1Table(bareGuest, TABLE));
    bareEpt = new EptP2m(P2mSwitches.HARDENED, CpuFeatures.ALL,
        new P2mDomainConfig(0x1000, false, false, true, org.hvmmu.p2m.P2mAccess.RWX), ro,
        P2M_TABLE_PAGES);
  }

  private static void check(int rc) {
    if (rc != 0) {
      throw new IllegalStateException("set-up failed: " + rc);
    }
  }

  /**
   * {@link PvMmu#mmuUpdate} on a PV MMU of its own.
   *
   * @return the sum of the results
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int pvModL1EntryBare() {
    PvMmu m = barePv;
    Domain d = bareGuest;
    long[] es = entries;
    int sum = 0;
    for (int i = 0; i < es.length; i++) {
      sum += m.mmuUpdate(d, TABLE, i & 511, es[i], d, false);
    }
    return sum;
  }

  /**
   * {@link Host#mmuUpdate}: the same, plus the reverse map.
   *
   * @return the sum of the results
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int pvModL1EntryHost() {
    Host h = host;
    GuestDomain d = pvGuest;
    long[] es = entries;
    int sum = 0;
    for (int i = 0; i < es.length; i++) {
      sum += h.mmuUpdate(d, TABLE, i & 511, es[i]);
    }
    return sum;
  }

  /**
   * {@code EptP2m.setEntry} of an mmio_direct 4-KByte leaf at gfn = mfn.
   *
   * @return the sum of the results
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int eptSetEntryBare() {
    EptP2m p2m = bareEpt;
    long[] qs = queries;
    int sum = 0;
    for (int i = 0; i < qs.length; i++) {
      sum += p2m.setEntry(qs[i], qs[i], PageOrder.ORDER_4K, P2mType.MMIO_DIRECT);
    }
    return sum;
  }

  /**
   * {@link Host#setP2mEntry}: the same, plus the old-leaf lookup and the reverse map.
   *
   * @return the sum of the results
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int eptSetEntryHost() {
    Host h = host;
    GuestDomain d = eptGuest;
    long[] qs = queries;
    int sum = 0;
    for (int i = 0; i < qs.length; i++) {
      sum += h.setP2mEntry(d, qs[i], qs[i], PageOrder.ORDER_4K, P2mType.MMIO_DIRECT);
    }
    return sum;
  }
}
