package org.hvmmu.benchmarks;

import java.util.concurrent.TimeUnit;
import org.hvmmu.p2m.P2mDomainConfig;
import org.hvmmu.p2m.P2mSetResult;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.PtP2m;
import org.hvmmu.p2m.RadixP2m;
import org.hvmmu.p2m.ept.EptP2m;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.PageOrder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A global re-derivation of a p2m holding 1 GiB of 4 KiB mappings (262144 leaves in 512 L1 tables),
 * in both formats:
 *
 * <ul>
 *   <li>{@code SEED}: all mappings mmio_direct, and {@code p2m_change_type_global(mmio_direct,
 *       mmio_direct)}, the seed's revocation pass after an MSI-X table is registered; every leaf costs
 *       one mmio_ro_ranges lookup ({@link RangeWorkload}'s ranges, {@code n} of them, cover part of
 *       the frames).
 *   <li>{@code HARDENED}: all mappings ram_rw, re-typed to logdirty and back on alternate calls (the
 *       log-dirty switch, the global re-type today's Xen still allows).
 * </ul>
 *
 * <p>The score is milliseconds per full pass. A pass allocates nothing.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar P2mRetypeGlobal -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@State(Scope.Benchmark)
public class P2mRetypeGlobalBenchmark {
  /** 4 KiB pages in 1 GiB. */
  static final int PAGES = 1 << 18;

  /** Table pages needed: root, L3, L2 and 512 L1, with some spare. */
  static final int TABLE_PAGES = 520;

  /** The era preset. */
  @Param({"SEED", "HARDENED"})
  String preset;

  /** The entry format. */
  @Param({"PT", "EPT"})
  String format;

  /** Ranges in mmio_ro_ranges. */
  @Param({"1024"})
  int n;

  RadixP2m p2m;
  boolean toLogdirty;

  /** Builds the p2m: 262144 4 KiB entries mapping frames from {@link RangeWorkload#BASE}. */
  @Setup(Level.Trial)
  public void setup() {
    P2mSwitches switches = "SEED".equals(preset) ? P2mSwitches.SEED_2010 : P2mSwitches.HARDENED;
    IntervalTreeRangeSet ro = RangeStructures.intervalTree(RangeWorkload.of(n));
    P2mDomainConfig domain = P2mDomainConfig.DEFAULT;
    p2m =
        "PT".equals(format)
            ? new PtP2m(switches, domain, ro, TABLE_PAGES)
            : new EptP2m(switches, CpuFeatures.ALL, domain, ro, TABLE_PAGES);
    P2mType type = "SEED".equals(preset) ? P2mType.MMIO_DIRECT : P2mType.RAM_RW;
    long mfnBase = "SEED".equals(preset) ? RangeWorkload.BASE : 0;
    for (int gfn = 0; gfn < PAGES; gfn++) {
      if (p2m.setEntry(gfn, mfnBase + gfn, PageOrder.ORDER_4K, type) != P2mSetResult.OK) {
        throw new IllegalStateException("setup failed at gfn 0x" + Integer.toHexString(gfn));
      }
    }
    toLogdirty = true;
  }

  /**
   * One global re-derivation pass.
   *
   * @return the number of table pages, so the pass cannot be eliminated
   */
  @Benchmark
  public int retypeGlobal() {
    if ("SEED".equals(preset)) {
      p2m.changeTypeGlobal(P2mType.MMIO_DIRECT, P2mType.MMIO_DIRECT);
    } else if (toLogdirty) {
      p2m.changeTypeGlobal(P2mType.RAM_RW, P2mType.RAM_LOGDIRTY);
    } else {
      p2m.changeTypeGlobal(P2mType.RAM_LOGDIRTY, P2mType.RAM_RW);
    }
    toLogdirty = !toLogdirty;
    return p2m.tablePages();
  }
}
