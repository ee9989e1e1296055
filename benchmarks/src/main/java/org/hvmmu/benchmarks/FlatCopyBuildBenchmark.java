package org.hvmmu.benchmarks;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
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
 * What one rebuild of a one-array read copy of N ranges costs, the price a write would pay to let
 * reads run at {@link FlatCopyLookupBenchmark}'s speed: the floor of any such copy (a new array
 * filled by two {@code System.arraycopy} calls), the Eytzinger copy placed level by level, and the
 * sorted power-of-two copy. The score is nanoseconds per rebuild; an add + remove of a fresh range
 * rebuilds twice, against issue 14's bound of 2 us at N = 1024 and 150 us at N = 65536.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar FlatCopyBuild -f 2 -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(2)
@State(Scope.Benchmark)
public class FlatCopyBuildBenchmark {
  /** Number of ranges in the copy: the sizes of issue 14's write bound. */
  @Param({"1024", "65536"})
  int n;

  long[] starts;
  long[] ends;

  /** Takes the workload's ranges, sorted. */
  @Setup(Level.Trial)
  public void setup() {
    RangeWorkload w = RangeWorkload.of(n);
    starts = Arrays.copyOf(w.starts, n);
    ends = Arrays.copyOf(w.ends, n);
  }

  /**
   * A new array of the Eytzinger copy's size, filled sorted by two {@code System.arraycopy} calls.
   *
   * @return the array
   */
  @Benchmark
  public long[] copyFloor() {
    return FlatRangeCopies.copyFloor(starts, ends);
  }

  /**
   * The Eytzinger copy, placed level by level.
   *
   * @return the copy
   */
  @Benchmark
  public long[] eytzinger() {
    return FlatRangeCopies.eytzingerByLevels(starts, ends);
  }

  /**
   * The sorted copy padded to a power of two.
   *
   * @return the copy
   */
  @Benchmark
  public long[] sortedPow2() {
    return FlatRangeCopies.sortedPow2(starts, ends);
  }
}
