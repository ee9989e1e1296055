package org.hvmmu.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pins the mutation benchmarks: each fresh range is a new range, and add + remove restores the set.
 */
class RangeSetMutationBenchmarkTest {
  private static RangeSetMutationBenchmark benchmark(int n) {
    RangeSetMutationBenchmark benchmark = new RangeSetMutationBenchmark();
    benchmark.n = n;
    benchmark.setup();
    return benchmark;
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 1024, 65536})
  void shouldAddEachFreshRangeAsANewRange(int n) {
    RangeWorkload w = RangeWorkload.of(n);
    RangeSetMutationBenchmark b = benchmark(n);
    for (int f = 0; f < RangeWorkload.FRESH_RANGES; f++) {
      long s = w.freshStarts[f];
      long e = w.freshEnds[f];
      assertEquals(0, b.intervalTree.addRange(s, e));
      assertEquals(n + 1, b.intervalTree.rangeCount(), "intervalTree merged a fresh range");
      assertEquals(0, b.intervalTree.removeRange(s, e));
      assertEquals(0, b.xenList.addRange(s, e));
      assertEquals(n + 1, b.xenList.rangeCount(), "xenList merged a fresh range");
      assertEquals(0, b.xenList.removeRange(s, e));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 1024, 65536})
  void shouldLeaveEveryStructureAsItWas(int n) {
    RangeWorkload w = RangeWorkload.of(n);
    RangeSetMutationBenchmark b = benchmark(n);
    String intervalTreeBefore = b.intervalTree.toString();
    String xenListBefore = b.xenList.toString();
    long pages = b.roaringBitmap.getLongCardinality();
    for (int i = 0; i < 2 * RangeWorkload.FRESH_RANGES + 1; i++) {
      assertEquals(0, b.intervalTree());
      assertEquals(0, b.xenList());
      b.guavaTreeRangeSet();
      b.treeMap();
      b.skipList();
      b.roaringBitmap();
    }
    assertEquals(intervalTreeBefore, b.intervalTree.toString());
    assertEquals(xenListBefore, b.xenList.toString());
    assertEquals(n, b.intervalTree.rangeCount());
    assertEquals(n, b.xenList.rangeCount());
    assertEquals(n, b.guavaTreeRangeSet.asRanges().size());
    assertEquals(n, b.treeMap.size());
    assertEquals(n, b.skipList.size());
    assertEquals(pages, b.roaringBitmap.getLongCardinality());
    for (int i = 0; i < RangeWorkload.QUERIES; i++) {
      long q = w.queries[i];
      assertEquals(w.expected[i], b.intervalTree.containsSingleton(q));
      assertEquals(w.expected[i], b.xenList.containsSingleton(q));
      assertEquals(w.expected[i], b.guavaTreeRangeSet.contains(q));
      assertEquals(w.expected[i], b.roaringBitmap.contains((int) q));
    }
  }
}
