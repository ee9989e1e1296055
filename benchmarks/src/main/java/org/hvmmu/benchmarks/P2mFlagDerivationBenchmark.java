package org.hvmmu.benchmarks;

import java.util.concurrent.TimeUnit;
import org.hvmmu.p2m.P2mAccess;
import org.hvmmu.p2m.P2mDomainConfig;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.PtP2mFlags;
import org.hvmmu.p2m.ept.EptEntry;
import org.hvmmu.p2m.ept.EptP2mFlags;
import org.hvmmu.p2m.shadow.ShadowFlags;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.x86.CpuFeatures;
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
 * Flag derivation for mmio_direct with {@code n} ranges in mmio_ro_ranges: the generic format's {@code
 * p2m_type_to_flags} (seed and hardened), EPT's {@code ept_p2m_type_to_flags} plus its memory type, and
 * shadow propagation's read-only step. The frames are {@link RangeWorkload}'s {@value
 * RangeWorkload#QUERIES} shuffled queries from the fixed seed, half of them in a range; each method
 * derives all of them and returns a checksum, so the score is nanoseconds per derivation. Each should
 * allocate nothing ({@code -prof gc}); the cost is the one range-set lookup.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar P2mFlagDerivation -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@State(Scope.Benchmark)
public class P2mFlagDerivationBenchmark {
  /** Number of ranges in mmio_ro_ranges. */
  @Param({"16", "1024", "65536"})
  int n;

  long[] mfns;
  IntervalTreeRangeSet mmioRoRanges;
  CpuFeatures cpu;
  P2mDomainConfig domain;
  int seedCode;
  int todayCode;

  /** Builds mmio_ro_ranges and the shuffled frames from the fixed seed. */
  @Setup(Level.Trial)
  public void setup() {
    RangeWorkload workload = RangeWorkload.of(n);
    mfns = workload.queries.clone();
    mmioRoRanges = RangeStructures.intervalTree(workload);
    cpu = CpuFeatures.ALL;
    domain = P2mDomainConfig.DEFAULT;
    seedCode = P2mType.MMIO_DIRECT.seedCode;
    todayCode = P2mType.MMIO_DIRECT.code;
  }

  /**
   * The seed's {@code p2m_type_to_flags(p2m_mmio_direct, mfn)}: 0xA77 or 0xA75.
   *
   * @return the sum of the flags
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public long ptSeed() {
    long sum = 0;
    for (long mfn : mfns) {
      sum += PtP2mFlags.typeToFlags(P2mSwitches.SEED_2010, seedCode, mfn, 0, mmioRoRanges, false);
    }
    return sum;
  }

  /**
   * Today's {@code p2m_type_to_flags}: 0x5077 or 0x507D.
   *
   * @return the sum of the flags
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public long ptHardened() {
    long sum = 0;
    for (long mfn : mfns) {
      sum += PtP2mFlags.typeToFlags(P2mSwitches.HARDENED, todayCode, mfn, 0, mmioRoRanges, false);
    }
    return sum;
  }

  /**
   * Today's {@code ept_p2m_type_to_flags} and memory type for a 4K entry: two range-set lookups.
   *
   * @return the sum of the entries
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public long eptHardened() {
    long sum = 0;
    for (long mfn : mfns) {
      int emt =
          EptP2mFlags.entryEmt(
              P2mSwitches.HARDENED, mmioRoRanges, todayCode, mfn, org.hvmmu.x86.PageOrder.ORDER_4K);
      long entry = EptEntry.withEmt(EptEntry.withMfn(0L, mfn), emt & 7);
      sum +=
          EptP2mFlags.typeToFlags(
              P2mSwitches.HARDENED, cpu, domain, mmioRoRanges, entry, todayCode, P2mAccess.RWX);
    }
    return sum;
  }

  /**
   * {@code _sh_propagate}'s read-only step, hardened (UC forcing).
   *
   * @return the sum of the shadow flags
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public long shadowHardened() {
    long sum = 0;
    for (long mfn : mfns) {
      sum += ShadowFlags.shPropagateFlags(P2mSwitches.HARDENED, 0x67, todayCode, mfn, mmioRoRanges);
    }
    return sum;
  }
}
