package org.hvmmu.benchmarks;

import com.google.common.collect.ImmutableRangeSet;
import com.google.common.collect.TreeRangeSet;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeVisitor;
import org.hvmmu.rangeset.XenListRangeSet;
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
import org.roaringbitmap.RoaringBitmap;

/**
 * Point lookups ({@code containsSingleton} and its peers' equivalents) over {@link RangeWorkload}:
 * {@code n} disjoint ranges and {@value RangeWorkload#QUERIES} shuffled queries, half hits. Each
 * method runs the whole query array and returns the hit count, so the score is nanoseconds per
 * lookup.
 *
 * <p>Peers in the same run: the library's {@link IntervalTreeRangeSet} (target: within 1.5x of
 * {@link #eytzinger} at every {@code n}, 0 B/op), the Xen-style {@link XenListRangeSet}, Guava's
 * {@code TreeRangeSet} and {@code ImmutableRangeSet}, {@code TreeMap.floorEntry}, a 32-bit
 * RoaringBitmap, and two static limits: {@code Arrays.binarySearch} over a sorted {@code long[]}
 * and a branch-free Eytzinger search (also as {@link #eytzingerContainsRange}, with the range
 * query's argument check). The interval tree's other queries ({@code containsRange}, {@code
 * overlapsRange}, {@code reportRanges}) are measured too, so that {@code -prof gc} shows each
 * allocates nothing.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar RangeSetLookup -prof gc -rf json -rff lookup.json
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@State(Scope.Benchmark)
public class RangeSetLookupBenchmark {
  /** Number of ranges in the set. */
  @Param({"16", "1024", "65536"})
  int n;

  long[] queries;
  IntervalTreeRangeSet intervalTree;
  XenListRangeSet xenList;
  TreeRangeSet<Long> guavaTreeRangeSet;
  ImmutableRangeSet<Long> guavaImmutableRangeSet;
  TreeMap<Long, Long> treeMap;
  ConcurrentSkipListMap<Long, Long> skipList;
  RoaringBitmap roaringBitmap;
  BinarySearchRanges binarySearch;
  EytzingerRanges eytzinger;
  PageCounter pageCounter;

  /** Counts the pages reported to it; one instance, reused, so that reporting allocates nothing. */
  static final class PageCounter implements RangeVisitor {
    long pages;

    @Override
    public int visit(long s, long e) {
      pages += e - s + 1;
      return 0;
    }
  }

  /** Builds the workload and every structure from the fixed seed. */
  @Setup(Level.Trial)
  public void setup() {
    RangeWorkload workload = RangeWorkload.of(n);
    queries = workload.queries.clone();
    intervalTree = RangeStructures.intervalTree(workload);
    xenList = RangeStructures.xenList(workload);
    guavaTreeRangeSet = RangeStructures.guavaTreeRangeSet(workload);
    guavaImmutableRangeSet = ImmutableRangeSet.copyOf(guavaTreeRangeSet);
    treeMap = RangeStructures.treeMap(workload);
    skipList = RangeStructures.skipList(workload);
    roaringBitmap = RangeStructures.roaringBitmap(workload);
    binarySearch = RangeStructures.binarySearch(workload);
    eytzinger = RangeStructures.eytzinger(workload);
    pageCounter = new PageCounter();
  }

  /**
   * {@link IntervalTreeRangeSet#containsSingleton}: the library's hot path.
   *
   * @return hits
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int intervalTree() {
    IntervalTreeRangeSet set = intervalTree;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += set.containsSingleton(qs[i]) ? 1 : 0;
    }
    return hits;
  }

  /**
   * {@link IntervalTreeRangeSet#containsRange} of the two pages {@code [q, q + 1]}.
   *
   * @return ranges contained
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int intervalTreeContainsRange() {
    IntervalTreeRangeSet set = intervalTree;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += set.containsRange(qs[i], qs[i] + 1) ? 1 : 0;
    }
    return hits;
  }

  /**
   * {@link IntervalTreeRangeSet#overlapsRange} of the two pages {@code [q, q + 1]}.
   *
   * @return ranges overlapped
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int intervalTreeOverlapsRange() {
    IntervalTreeRangeSet set = intervalTree;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += set.overlapsRange(qs[i], qs[i] + 1) ? 1 : 0;
    }
    return hits;
  }

  /**
   * {@link IntervalTreeRangeSet#reportRanges} over {@value RangeWorkload#REPORT_WINDOW} pages from
   * each query, with one reused visitor.
   *
   * @return pages reported
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public long intervalTreeReportRanges() {
    IntervalTreeRangeSet set = intervalTree;
    PageCounter counter = pageCounter;
    long[] qs = queries;
    counter.pages = 0;
    int rc = 0;
    for (int i = 0; i < qs.length; i++) {
      rc |= set.reportRanges(qs[i], qs[i] + RangeWorkload.REPORT_WINDOW - 1, counter);
    }
    return counter.pages + rc;
  }

  /**
   * {@link XenListRangeSet#containsSingleton}: Xen's linear list walk.
   *
   * @return hits
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int xenList() {
    XenListRangeSet set = xenList;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += set.containsSingleton(qs[i]) ? 1 : 0;
    }
    return hits;
  }

  /**
   * Guava {@code TreeRangeSet.contains} (boxes the query).
   *
   * @return hits
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int guavaTreeRangeSet() {
    TreeRangeSet<Long> set = guavaTreeRangeSet;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += set.contains(qs[i]) ? 1 : 0;
    }
    return hits;
  }

  /**
   * Guava {@code ImmutableRangeSet.contains} (binary search over a sorted list; boxes the query).
   *
   * @return hits
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int guavaImmutableRangeSet() {
    ImmutableRangeSet<Long> set = guavaImmutableRangeSet;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += set.contains(qs[i]) ? 1 : 0;
    }
    return hits;
  }

  /**
   * {@code TreeMap<Long, Long>.floorEntry(q)} then {@code end >= q} (boxes the query).
   *
   * @return hits
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int treeMapFloorEntry() {
    return floorEntryHits(treeMap, queries);
  }

  /**
   * {@code ConcurrentSkipListMap.floorEntry}, then the end compared: the JDK's lock-free sorted map.
   *
   * @return hits
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int skipListFloorEntry() {
    return floorEntryHits(skipList, queries);
  }

  /**
   * The start-to-end map lookup both JDK maps use: the floor entry, then its end compared. Each
   * benchmark runs in its own fork, so the {@code floorEntry} call stays monomorphic there.
   */
  private static int floorEntryHits(NavigableMap<Long, Long> map, long[] qs) {
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      long q = qs[i];
      Map.Entry<Long, Long> floor = map.floorEntry(q);
      hits += floor != null && floor.getValue() >= q ? 1 : 0;
    }
    return hits;
  }

  /**
   * RoaringBitmap {@code contains(int)} over every page of every range.
   *
   * @return hits
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int roaringBitmap() {
    RoaringBitmap bitmap = roaringBitmap;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += bitmap.contains((int) qs[i]) ? 1 : 0;
    }
    return hits;
  }

  /**
   * Static limit: {@code Arrays.binarySearch} over a sorted {@code long[]} of starts.
   *
   * @return hits
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int binarySearch() {
    BinarySearchRanges ranges = binarySearch;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += ranges.contains(qs[i]) ? 1 : 0;
    }
    return hits;
  }

  /**
   * Static limit: branch-free search of the starts in Eytzinger order.
   *
   * @return hits
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int eytzinger() {
    EytzingerRanges ranges = eytzinger;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += ranges.contains(qs[i]) ? 1 : 0;
    }
    return hits;
  }

  /**
   * Static limit of {@link #intervalTreeContainsRange}: the Eytzinger search of {@link
   * #eytzinger} for {@code [q, q + 1]}, with the same argument check ({@code s <= e}).
   *
   * @return ranges contained
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int eytzingerContainsRange() {
    EytzingerRanges ranges = eytzinger;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += ranges.containsRange(qs[i], qs[i] + 1) ? 1 : 0;
    }
    return hits;
  }
}
