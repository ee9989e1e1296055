package org.hvmmu.benchmarks;

import java.util.concurrent.TimeUnit;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Reads of {@link IntervalTreeRangeSet#containsSingleton} while one writer thread adds and removes
 * fresh ranges on the same set, against the same reads with no writer. Target: the {@code
 * contended:read} score is within 1.5x of the {@code uncontended} score, i.e. readers neither block
 * on nor retry much behind the writer.
 *
 * <p>Group {@code contended} runs one reader and one writer thread, the writer pausing for {@code
 * writerPause} tokens between pairs (the benchmark machine has two
 * cores); group {@code uncontended} runs the reader alone. Every invocation is one operation, so
 * both reader scores are nanoseconds per lookup (JMH's per-invocation cost, a few nanoseconds, is
 * in both alike) and the writer's is nanoseconds per add + remove pair.
 * {@code @OperationsPerInvocation} is not used because JMH applies one value to a whole group. Each
 * thread walks the queries or fresh ranges with its own cursor in a padded thread-scoped state, so
 * the cursors do not share a cache line with the set.
 *
 * <p>The writer's fresh ranges lie in gaps, so a reader may briefly see a miss become a hit; a hit
 * never becomes a miss.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar RangeSetContended -rf json -rff contended.json
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@State(Scope.Group)
public class RangeSetContendedBenchmark {
  /** Number of ranges in the set. */
  @Param({"16", "1024", "65536"})
  int n;

  /**
   * Work (JMH {@code Blackhole.consumeCPU} tokens) the writer does between two add + remove pairs: 0
   * is a writer that never stops, the worst case; 2000 is about one pair every few microseconds,
   * still far more often than devices enable MSI-X.
   */
  @Param({"0", "2000"})
  int writerPause;

  long[] queries;
  long[] freshStarts;
  long[] freshEnds;
  IntervalTreeRangeSet intervalTree;

  /** A set like {@link #intervalTree} that only group {@code neighbour}'s writer changes. */
  IntervalTreeRangeSet other;

  /** A reader thread's position in the query array. */
  @State(Scope.Thread)
  public static class ReadCursor {
    int next;
  }

  /** The writer thread's position in the fresh ranges. */
  @State(Scope.Thread)
  public static class WriteCursor {
    int next;
  }

  /** Builds the workload and the shared set from the fixed seed. */
  @Setup(Level.Trial)
  public void setup() {
    RangeWorkload workload = RangeWorkload.of(n);
    queries = workload.queries.clone();
    freshStarts = workload.freshStarts.clone();
    freshEnds = workload.freshEnds.clone();
    intervalTree = RangeStructures.intervalTree(workload);
    other = RangeStructures.intervalTree(workload);
  }

  /**
   * The reader of group {@code contended}: the next query.
   *
   * @param cursor this thread's position
   * @return whether it hit
   */
  @Benchmark
  @Group("contended")
  @GroupThreads(1)
  public boolean read(ReadCursor cursor) {
    return lookup(cursor);
  }

  /**
   * The writer of group {@code contended}: add then remove the next fresh range.
   *
   * @param cursor this thread's position
   * @return the two return codes, or-ed (0)
   */
  @Benchmark
  @Group("contended")
  @GroupThreads(1)
  public int write(WriteCursor cursor) {
    return addRemove(intervalTree, cursor);
  }

  /** The cursor's next query, on the shared set. */
  private boolean lookup(ReadCursor cursor) {
    return intervalTree.containsSingleton(queries[cursor.next++ & RangeWorkload.QUERY_MASK]);
  }

  /** Adds then removes the cursor's next fresh range on {@code set}, then pauses. */
  private int addRemove(IntervalTreeRangeSet set, WriteCursor cursor) {
    int i = cursor.next++ & RangeWorkload.FRESH_MASK;
    long s = freshStarts[i];
    long e = freshEnds[i];
    int rc = set.addRange(s, e) | set.removeRange(s, e);
    if (writerPause > 0) {
      Blackhole.consumeCPU(writerPause);
    }
    return rc;
  }

  /**
   * The same reads with no writer, alone in group {@code uncontended}: the baseline of {@link
   * #read}.
   *
   * @param cursor this thread's position
   * @return whether it hit
   */
  @Benchmark
  @Group("uncontended")
  @GroupThreads(1)
  public boolean uncontendedRead(ReadCursor cursor) {
    return lookup(cursor);
  }

  /**
   * The control of group {@code contended}: the same reads while the same writer works on another
   * set of the same size, so the two threads compete for the machine (its cores, caches and
   * memory, and the allocator) but share no data. {@code neighbour:read} over {@link
   * #uncontendedRead} is what running two threads costs here; {@code contended:read} over {@code
   * neighbour:read} is what sharing the set costs.
   *
   * @param cursor this thread's position
   * @return whether it hit
   */
  @Benchmark
  @Group("neighbour")
  @GroupThreads(1)
  public boolean neighbourRead(ReadCursor cursor) {
    return lookup(cursor);
  }

  /**
   * The writer of group {@code neighbour}: {@link #write}'s work on {@link #other}.
   *
   * @param cursor this thread's position
   * @return the two return codes, or-ed (0)
   */
  @Benchmark
  @Group("neighbour")
  @GroupThreads(1)
  public int neighbourWrite(WriteCursor cursor) {
    return addRemove(other, cursor);
  }
}
