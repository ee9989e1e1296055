package org.hvmmu.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Pins every lookup benchmark's answer to the workload's, so a fast wrong structure cannot win. */
class RangeSetLookupBenchmarkTest {
  private static RangeSetLookupBenchmark benchmark(int n) {
    RangeSetLookupBenchmark benchmark = new RangeSetLookupBenchmark();
    benchmark.n = n;
    benchmark.setup();
    return benchmark;
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 1024, 65536})
  void shouldCountTheExpectedHitsInEveryBenchmark(int n) {
    RangeWorkload w = RangeWorkload.of(n);
    RangeSetLookupBenchmark b = benchmark(n);
    assertEquals(w.expectedHits, b.intervalTree(), "intervalTree");
    assertEquals(w.expectedHits, b.xenList(), "xenList");
    assertEquals(w.expectedHits, b.guavaTreeRangeSet(), "guavaTreeRangeSet");
    assertEquals(w.expectedHits, b.guavaImmutableRangeSet(), "guavaImmutableRangeSet");
    assertEquals(w.expectedHits, b.treeMapFloorEntry(), "treeMapFloorEntry");
    assertEquals(w.expectedHits, b.skipListFloorEntry(), "skipListFloorEntry");
    assertEquals(w.expectedHits, b.roaringBitmap(), "roaringBitmap");
    assertEquals(w.expectedHits, b.binarySearch(), "binarySearch");
    assertEquals(w.expectedHits, b.eytzinger(), "eytzinger");
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 1024, 65536})
  void shouldAnswerEveryQueryAsTheWorkloadExpects(int n) {
    RangeWorkload w = RangeWorkload.of(n);
    RangeSetLookupBenchmark b = benchmark(n);
    for (int i = 0; i < RangeWorkload.QUERIES; i++) {
      long q = w.queries[i];
      boolean hit = w.expected[i];
      String where = "query 0x" + Long.toHexString(q);
      assertEquals(hit, b.intervalTree.containsSingleton(q), "intervalTree " + where);
      assertEquals(hit, b.xenList.containsSingleton(q), "xenList " + where);
      assertEquals(hit, b.guavaTreeRangeSet.contains(q), "guavaTreeRangeSet " + where);
      assertEquals(hit, b.guavaImmutableRangeSet.contains(q), "guavaImmutableRangeSet " + where);
      Map.Entry<Long, Long> floor = b.treeMap.floorEntry(q);
      assertEquals(hit, floor != null && floor.getValue() >= q, "treeMap " + where);
      assertEquals(hit, b.roaringBitmap.contains((int) q), "roaringBitmap " + where);
      assertEquals(hit, b.binarySearch.contains(q), "binarySearch " + where);
      assertEquals(hit, b.eytzinger.contains(q), "eytzinger " + where);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 1024, 65536})
  void shouldAnswerTheOtherIntervalTreeQueriesAsBruteForce(int n) {
    RangeWorkload w = RangeWorkload.of(n);
    RangeSetLookupBenchmark b = benchmark(n);
    int contained = 0;
    int overlapped = 0;
    long pages = 0;
    for (long q : w.queries) {
      String where = "query 0x" + Long.toHexString(q);
      boolean containsRange = BruteForce.containsRange(w, q, q + 1);
      boolean overlapsRange = BruteForce.overlapsRange(w, q, q + 1);
      long covered = BruteForce.coveredPages(w, q, q + RangeWorkload.REPORT_WINDOW - 1);
      assertEquals(containsRange, b.intervalTree.containsRange(q, q + 1), "containsRange " + where);
      assertEquals(containsRange, b.eytzinger.containsRange(q, q + 1), "eytzinger " + where);
      assertEquals(overlapsRange, b.intervalTree.overlapsRange(q, q + 1), "overlapsRange " + where);
      contained += containsRange ? 1 : 0;
      overlapped += overlapsRange ? 1 : 0;
      pages += covered;
    }
    assertEquals(contained, b.intervalTreeContainsRange());
    assertEquals(contained, b.eytzingerContainsRange());
    assertEquals(overlapped, b.intervalTreeOverlapsRange());
    assertEquals(pages, b.intervalTreeReportRanges());
    assertEquals(pages, b.intervalTreeReportRanges(), "the visitor is reset per invocation");
  }
}
