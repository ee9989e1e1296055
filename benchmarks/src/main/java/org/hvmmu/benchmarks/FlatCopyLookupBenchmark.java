package org.hvmmu.benchmarks;

import java.util.concurrent.TimeUnit;
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
 * What a one-array read copy of all N ranges would read at, published as the library's copy is
 * (behind one volatile reference, read once per query): the Eytzinger limit of {@link
 * RangeSetLookupBenchmark}, the same layout behind the reference, and a sorted array padded to a
 * power of two, whose writes are cheapest. Same workload and queries as {@link
 * RangeSetLookupBenchmark}; the score is nanoseconds per lookup.
 *
 * <p>The library reads a two-level copy instead, because rebuilding any one-array copy costs more
 * than its write bound allows ({@link FlatCopyBuildBenchmark}); this benchmark measures what that
 * choice costs the reads ({@code docs/performance.md}, issue 14).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar FlatCopyLookup -f 3 -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(3)
@State(Scope.Benchmark)
public class FlatCopyLookupBenchmark {
  /** Number of ranges in the set. */
  @Param({"16", "1024", "65536"})
  int n;

  long[] queries;
  EytzingerRanges eytzinger;
  Published eytzingerCopy;
  Published sortedCopy;

  /** A copy published as the library publishes its own: one volatile reference. */
  static final class Published {
    volatile long[] copy;

    Published(long[] copy) {
      this.copy = copy;
    }
  }

  /** Builds the workload and the copies from the fixed seed. */
  @Setup(Level.Trial)
  public void setup() {
    RangeWorkload w = RangeWorkload.of(n);
    queries = w.queries.clone();
    eytzinger = RangeStructures.eytzinger(w);
    eytzingerCopy = new Published(FlatRangeCopies.eytzingerByLevels(w.starts, w.ends));
    sortedCopy = new Published(FlatRangeCopies.sortedPow2(w.starts, w.ends));
  }

  /**
   * The limit: {@link EytzingerRanges#contains}, fields final and read once per call.
   *
   * @return hits
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int eytzinger() {
    EytzingerRanges r = eytzinger;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += r.contains(qs[i]) ? 1 : 0;
    }
    return hits;
  }

  /**
   * The Eytzinger copy behind a volatile reference, read once per query.
   *
   * @return hits
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int publishedEytzinger() {
    Published p = eytzingerCopy;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += FlatRangeCopies.eytzingerContains(p.copy, qs[i]) ? 1 : 0;
    }
    return hits;
  }

  /**
   * The sorted power-of-two copy behind a volatile reference, read once per query.
   *
   * @return hits
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int publishedSorted() {
    Published p = sortedCopy;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += FlatRangeCopies.sortedPow2Contains(p.copy, qs[i]) ? 1 : 0;
    }
    return hits;
  }
}
