package org.hvmmu.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EytzingerRangesTest {
  @Test
  void shouldFindTheFloorOfEveryValueInSmallSets() {
    // n = 1, 2, 3 and every shape up to five full levels; values below the first start and above
    // the
    // last end included.
    for (int n = 1; n <= 70; n++) {
      long[] starts = new long[n];
      long[] ends = new long[n];
      for (int i = 0; i < n; i++) {
        starts[i] = 10L * i + 5;
        ends[i] = starts[i] + i % 3;
      }
      EytzingerRanges eytzinger = new EytzingerRanges(starts, ends);
      BinarySearchRanges binarySearch = new BinarySearchRanges(starts, ends);
      for (long q = 0; q <= 10L * n + 20; q++) {
        int floor = BruteForce.floorIndex(starts, q);
        String where = "n=" + n + " q=" + q;
        assertEquals(floor, binarySearch.floorIndex(q), where);
        assertEquals(floor, eytzinger.floorIndex(q), where);
        boolean hit = floor >= 0 && q <= ends[floor];
        assertEquals(hit, binarySearch.contains(q), where);
        assertEquals(hit, eytzinger.contains(q), where);
      }
    }
  }

  @Test
  void shouldMissBelowTheFirstAndAboveTheLastRange() {
    EytzingerRanges one = new EytzingerRanges(new long[] {100}, new long[] {100});
    assertEquals(-1, one.floorIndex(0));
    assertEquals(-1, one.floorIndex(99));
    assertEquals(0, one.floorIndex(100));
    assertEquals(0, one.floorIndex((1L << 62) - 1));
    assertEquals(false, one.contains(99));
    assertEquals(true, one.contains(100));
    assertEquals(false, one.contains(101));
    assertEquals(false, one.contains((1L << 62) - 1));
    assertEquals(true, one.containsRange(100, 100));
    assertEquals(false, one.containsRange(100, 101));
    assertThrows(IllegalArgumentException.class, () -> one.containsRange(101, 100));
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 1024, 65536})
  void shouldAgreeWithBinarySearchOnTheWorkload(int n) {
    RangeWorkload w = RangeWorkload.of(n);
    EytzingerRanges eytzinger = RangeStructures.eytzinger(w);
    BinarySearchRanges binarySearch = RangeStructures.binarySearch(w);
    for (long q : w.queries) {
      assertEquals(binarySearch.floorIndex(q), eytzinger.floorIndex(q), "q=" + q);
    }
    for (int i = 0; i < n; i++) {
      for (long q : new long[] {w.starts[i] - 1, w.starts[i], w.ends[i], w.ends[i] + 1}) {
        assertEquals(binarySearch.floorIndex(q), eytzinger.floorIndex(q), "q=" + q);
        assertEquals(binarySearch.contains(q), eytzinger.contains(q), "q=" + q);
      }
    }
  }
}
