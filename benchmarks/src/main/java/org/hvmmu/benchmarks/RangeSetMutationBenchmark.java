package org.hvmmu.benchmarks;

import com.google.common.collect.Range;
import com.google.common.collect.TreeRangeSet;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.XenListRangeSet;
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
import org.roaringbitmap.RoaringBitmap;

/**
 * Add + remove of a fresh range: each invocation adds the next of {@link
 * RangeWorkload#FRESH_RANGES} pre-generated ranges (inside a gap, touching no neighbour, so a new
 * range is created) and removes it again, leaving the set as it was. The score is nanoseconds per
 * add + remove pair.
 *
 * <p>Target: the library's {@link IntervalTreeRangeSet} is O(log n), no slower than {@code TreeMap}
 * at 1024 and 65536 ranges in the same run. The Xen-style list is O(n) per add, which the 65536 row
 * shows.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar RangeSetMutation -prof gc -rf json -rff mutation.json
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@State(Scope.Benchmark)
public class RangeSetMutationBenchmark {
  /** Number of ranges in the set. */
  @Param({"16", "1024", "65536"})
  int n;

  long[] freshStarts;
  long[] freshEnds;
  int cursor;
  IntervalTreeRangeSet intervalTree;
  XenListRangeSet xenList;
  TreeRangeSet<Long> guavaTreeRangeSet;
  TreeMap<Long, Long> treeMap;
  ConcurrentSkipListMap<Long, Long> skipList;
  RoaringBitmap roaringBitmap;

  /** Builds the workload and every structure from the fixed seed. */
  @Setup(Level.Trial)
  public void setup() {
    RangeWorkload workload = RangeWorkload.of(n);
    freshStarts = workload.freshStarts.clone();
    freshEnds = workload.freshEnds.clone();
    cursor = 0;
    intervalTree = RangeStructures.intervalTree(workload);
    xenList = RangeStructures.xenList(workload);
    guavaTreeRangeSet = RangeStructures.guavaTreeRangeSet(workload);
    treeMap = RangeStructures.treeMap(workload);
    skipList = RangeStructures.skipList(workload);
    roaringBitmap = RangeStructures.roaringBitmap(workload);
  }

  /**
   * {@link IntervalTreeRangeSet#addRange} then {@link IntervalTreeRangeSet#removeRange}.
   *
   * @return the two return codes, or-ed (0)
   */
  @Benchmark
  public int intervalTree() {
    int i = cursor++ & RangeWorkload.FRESH_MASK;
    long s = freshStarts[i];
    long e = freshEnds[i];
    return intervalTree.addRange(s, e) | intervalTree.removeRange(s, e);
  }

  /**
   * {@link XenListRangeSet#addRange} then {@link XenListRangeSet#removeRange}: a list walk each.
   *
   * @return the two return codes, or-ed (0)
   */
  @Benchmark
  public int xenList() {
    int i = cursor++ & RangeWorkload.FRESH_MASK;
    long s = freshStarts[i];
    long e = freshEnds[i];
    return xenList.addRange(s, e) | xenList.removeRange(s, e);
  }

  /**
   * Guava {@code TreeRangeSet.add} then {@code remove} of {@code Range.closed(s, e)}, boxed as a
   * caller would.
   *
   * @return the range's hash, so that nothing is dead code
   */
  @Benchmark
  public int guavaTreeRangeSet() {
    int i = cursor++ & RangeWorkload.FRESH_MASK;
    Range<Long> range = Range.closed(freshStarts[i], freshEnds[i]);
    guavaTreeRangeSet.add(range);
    guavaTreeRangeSet.remove(range);
    return range.hashCode();
  }

  /**
   * {@code TreeMap.put(s, e)} then {@code remove(s)}: the floor-entry map's add and remove of a
   * range that merges with nothing.
   *
   * @return the removed end, truncated
   */
  @Benchmark
  public int treeMap() {
    int i = cursor++ & RangeWorkload.FRESH_MASK;
    long s = freshStarts[i];
    treeMap.put(s, freshEnds[i]);
    return treeMap.remove(s).intValue();
  }

  /**
   * {@code ConcurrentSkipListMap.put(s, e)} then {@code remove(s)}: the JDK's lock-free sorted map.
   *
   * @return the removed end, truncated
   */
  @Benchmark
  public int skipList() {
    int i = cursor++ & RangeWorkload.FRESH_MASK;
    long s = freshStarts[i];
    skipList.put(s, freshEnds[i]);
    return skipList.remove(s).intValue();
  }

  /**
   * RoaringBitmap {@code add(s, e + 1)} then {@code remove(s, e + 1)} (end exclusive).
   *
   * @return the cursor, so that nothing is dead code
   */
  @Benchmark
  public int roaringBitmap() {
    int i = cursor++ & RangeWorkload.FRESH_MASK;
    long s = freshStarts[i];
    long end = freshEnds[i] + 1;
    roaringBitmap.add(s, end);
    roaringBitmap.remove(s, end);
    return i;
  }
}
