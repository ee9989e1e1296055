package org.hvmmu.benchmarks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The flat copies place every range where the format says and answer every query as a brute-force
 * scan does, so that the flat-copy benchmarks measure correct layouts.
 */
class FlatRangeCopiesTest {
  /** Slots {@code k}, in order, of an Eytzinger tree of n slots, by recursion (shares no code). */
  private static int inOrder(int k, int n, int[] out, int next) {
    if (k > n) {
      return next;
    }
    next = inOrder(2 * k, n, out, next);
    out[next++] = k;
    return inOrder(2 * k + 1, n, out, next);
  }

  @Test
  void levelsShouldPlaceEachRankAtItsInOrderSlotForEverySizeUpTo300() {
    for (int n = 0; n <= 300; n++) {
      long[] s = new long[n];
      long[] e = new long[n];
      for (int i = 0; i < n; i++) {
        s[i] = 10L * i + 3;
        e[i] = s[i] + i % 4;
      }
      int[] slots = new int[n];
      inOrder(1, n, slots, 0);
      long[] expected = new long[2 * (n + 1)];
      expected[0] = n;
      for (int i = 0; i < n; i++) {
        expected[slots[i]] = s[i];
        expected[n + 1 + slots[i]] = e[i];
      }
      assertArrayEquals(expected, FlatRangeCopies.eytzingerByLevels(s, e), "n=" + n);
    }
  }

  @Test
  void sortedPow2ShouldRepeatTheLastRangeUpToThePowerOfTwo() {
    long[] a = FlatRangeCopies.sortedPow2(new long[] {5, 9, 20}, new long[] {6, 9, 30});
    // p = 4: a[0] = n, starts at 1..3, ends at 5..7, a[4] = 0 (no floor's end).
    assertArrayEquals(new long[] {3, 5, 9, 20, 0, 6, 9, 30}, a);
    long[] b = FlatRangeCopies.sortedPow2(new long[] {5, 9, 20, 40}, new long[] {6, 9, 30, 41});
    assertArrayEquals(new long[] {4, 5, 9, 20, 40, 40, 40, 40, 0, 6, 9, 30, 41, 41, 41, 41}, b);
  }

  @Test
  void copyFloorShouldHoldTheRangesSorted() {
    assertArrayEquals(new long[] {2, 5, 9, 0, 6, 9},
        FlatRangeCopies.copyFloor(new long[] {5, 9}, new long[] {6, 9}));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 16, 17, 1024, 65536})
  void bothCopiesShouldAnswerAsABruteForceScan(int n) {
    RangeWorkload w = RangeWorkload.of(Math.max(n, 16));
    long[] s = Arrays.copyOf(w.starts, n);
    long[] e = Arrays.copyOf(w.ends, n);
    long[] eytzinger = FlatRangeCopies.eytzingerByLevels(s, e);
    long[] sorted = FlatRangeCopies.sortedPow2(s, e);
    for (int i = 0; i < n; i += Math.max(1, n / 512)) {
      for (long q : new long[] {s[i] - 1, s[i], e[i], e[i] + 1, 0}) {
        int floor = BruteForce.floorIndex(s, q);
        boolean hit = floor >= 0 && q <= e[floor];
        assertEquals(hit, FlatRangeCopies.eytzingerContains(eytzinger, q), "eytzinger q=" + q);
        assertEquals(hit, FlatRangeCopies.sortedPow2Contains(sorted, q), "sorted q=" + q);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 1024, 65536})
  void theLookupBenchmarkShouldCountTheWorkloadsHits(int n) {
    FlatCopyLookupBenchmark b = new FlatCopyLookupBenchmark();
    b.n = n;
    b.setup();
    int expected = RangeWorkload.of(n).expectedHits;
    assertEquals(expected, b.eytzinger());
    assertEquals(expected, b.publishedEytzinger());
    assertEquals(expected, b.publishedSorted());
  }
}
