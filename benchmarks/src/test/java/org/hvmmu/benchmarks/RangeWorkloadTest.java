package org.hvmmu.benchmarks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RangeWorkloadTest {
  @Test
  void shouldBeDeterministic() {
    RangeWorkload a = RangeWorkload.of(1024);
    RangeWorkload b = RangeWorkload.of(1024);
    assertArrayEquals(a.starts, b.starts);
    assertArrayEquals(a.ends, b.ends);
    assertArrayEquals(a.queries, b.queries);
    assertArrayEquals(a.expected, b.expected);
    assertArrayEquals(a.freshStarts, b.freshStarts);
    assertArrayEquals(a.freshEnds, b.freshEnds);
  }

  @Test
  void shouldRejectFewerThanTwoRanges() {
    assertThrows(IllegalArgumentException.class, () -> RangeWorkload.of(1));
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 16, 1024, 65536})
  void shouldGenerateSortedDisjointNonAdjacentRanges(int n) {
    RangeWorkload w = RangeWorkload.of(n);
    assertEquals(n, w.size());
    assertEquals(RangeWorkload.BASE, w.starts[0]);
    for (int i = 0; i < n; i++) {
      long pages = w.ends[i] - w.starts[i] + 1;
      assertTrue(pages >= 1 && pages <= RangeWorkload.MAX_RANGE_PAGES, "length " + pages);
      if (i > 0) {
        long gap = w.starts[i] - w.ends[i - 1] - 1;
        assertTrue(gap >= 1 && gap <= RangeWorkload.MAX_GAP_PAGES, "gap " + gap);
      }
    }
    assertTrue(w.ends[n - 1] < (1L << 31), "every page fits a 32-bit RoaringBitmap");
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 16, 1024, 65536})
  void shouldAnswerEveryQueryAsBruteForce(int n) {
    RangeWorkload w = RangeWorkload.of(n);
    int hits = 0;
    for (int q = 0; q < RangeWorkload.QUERIES; q++) {
      long x = w.queries[q];
      assertTrue(x >= w.starts[0] && x <= w.ends[n - 1], "query inside the span");
      assertEquals(BruteForce.contains(w, x), w.expected[q], "query 0x" + Long.toHexString(x));
      hits += w.expected[q] ? 1 : 0;
    }
    assertEquals(RangeWorkload.QUERIES / 2, hits);
    assertEquals(hits, w.expectedHits);
  }

  @Test
  void shouldShuffleQueries() {
    RangeWorkload w = RangeWorkload.of(1024);
    int runs = 1;
    for (int q = 1; q < RangeWorkload.QUERIES; q++) {
      runs += w.expected[q] != w.expected[q - 1] ? 1 : 0;
    }
    // Hits and misses interleave (a random order has about QUERIES / 2 runs), not two sorted
    // blocks.
    assertTrue(runs > RangeWorkload.QUERIES / 4, "runs " + runs);
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 16, 1024, 65536})
  void shouldPlaceFreshRangesInGapsAwayFromNeighbours(int n) {
    RangeWorkload w = RangeWorkload.of(n);
    for (int f = 0; f < RangeWorkload.FRESH_RANGES; f++) {
      long s = w.freshStarts[f];
      long e = w.freshEnds[f];
      assertTrue(s <= e && e - s < RangeWorkload.MAX_RANGE_PAGES);
      int i = BruteForce.floorIndex(w.starts, s);
      assertTrue(i >= 0 && i < n - 1, "inside the span");
      assertTrue(w.ends[i] + 1 < s, "not adjacent to the range below");
      assertTrue(e + 1 < w.starts[i + 1], "not adjacent to the range above");
    }
  }
}
