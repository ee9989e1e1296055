package org.hvmmu.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The interval tree engine against a brute-force list of possibly overlapping intervals: every position
 * query, every interval query and the structural invariants after every step.
 */
class IntervalBTreeTest {
  /** The model: entries in tree order (by unsigned start, equal starts in insertion order). */
  private final List<long[]> model = new ArrayList<>();

  private void modelInsert(long s, long e) {
    int i = 0;
    while (i < model.size() && Long.compareUnsigned(model.get(i)[0], s) <= 0) {
      i++;
    }
    model.add(i, new long[] {s, e});
  }

  /** Whether the floor of {@code key} exists and ends at or after {@code bound} (unsigned). */
  private static boolean floorEndAtLeast(IntervalBTree t, long key, long bound) {
    int p = t.floor(key);
    return p != IntervalBTree.NONE && Long.compareUnsigned(t.end(p), bound) >= 0;
  }

  private static List<long[]> entries(IntervalBTree t) {
    List<long[]> out = new ArrayList<>();
    for (int p = t.first(); p != IntervalBTree.NONE; p = t.next(p)) {
      out.add(new long[] {t.start(p), t.end(p)});
    }
    return out;
  }

  private void assertSameAsModel(IntervalBTree t, SplittableRandom random, long lo, long span) {
    assertTrue(t.checkInvariants());
    List<long[]> got = entries(t);
    assertEquals(model.size(), got.size(), "entry count");
    assertEquals(model.size(), t.size(), "size()");
    for (int i = 0; i < got.size(); i++) {
      assertEquals(model.get(i)[0], got.get(i)[0], "start of entry " + i);
      assertEquals(model.get(i)[1], got.get(i)[1], "end of entry " + i);
    }
    for (int q = 0; q < 20; q++) {
      long x = lo + random.nextLong(span);
      long y = x + random.nextLong(40);
      // floor: the last entry whose start is not above x
      int floor = -1;
      int ceiling = -1;
      for (int i = 0; i < model.size(); i++) {
        if (Long.compareUnsigned(model.get(i)[0], x) <= 0) {
          floor = i;
        }
        if (ceiling < 0 && Long.compareUnsigned(model.get(i)[0], x) >= 0) {
          ceiling = i;
        }
      }
      int fp = t.floor(x);
      assertEquals(floor < 0, fp == IntervalBTree.NONE, "floor exists for " + x);
      if (floor >= 0) {
        assertEquals(model.get(floor)[0], t.start(fp));
        assertEquals(model.get(floor)[1], t.end(fp));
        boolean expected = Long.compareUnsigned(model.get(floor)[1], y) >= 0;
        assertEquals(expected, floorEndAtLeast(t, x, y), "floor end " + x + " " + y);
      } else {
        assertFalse(floorEndAtLeast(t, x, y));
      }
      int cp = t.ceiling(x);
      assertEquals(ceiling < 0, cp == IntervalBTree.NONE, "ceiling exists for " + x);
      if (ceiling >= 0) {
        assertEquals(model.get(ceiling)[0], t.start(cp));
      }
      // stabbing/overlap over overlapping entries, in tree order
      List<long[]> expectedHits = new ArrayList<>();
      for (long[] m : model) {
        if (Long.compareUnsigned(m[0], y) <= 0 && Long.compareUnsigned(m[1], x) >= 0) {
          expectedHits.add(m);
        }
      }
      List<long[]> hits = new ArrayList<>();
      t.forEachOverlapping(
          x,
          y,
          (s, e) -> {
            hits.add(new long[] {s, e});
            return 0;
          });
      assertEquals(expectedHits.size(), hits.size(), "overlaps of [" + x + ", " + y + "]");
      for (int i = 0; i < hits.size(); i++) {
        assertEquals(expectedHits.get(i)[0], hits.get(i)[0]);
        assertEquals(expectedHits.get(i)[1], hits.get(i)[1]);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {0L, Long.MAX_VALUE - 5_000L, -5_001L})
  void shouldMatchBruteForceOverOverlappingIntervals(long lo) {
    SplittableRandom random = new SplittableRandom(lo ^ 0x5EEDL);
    IntervalBTree t = new IntervalBTree();
    long span = 5_000;
    for (int step = 0; step < 3_000; step++) {
      if (model.isEmpty() || random.nextInt(3) != 0) {
        long s = lo + random.nextLong(span);
        long len = random.nextInt(8) == 0 ? random.nextLong(500) : random.nextLong(6);
        long e = Long.compareUnsigned(s + len, s) < 0 ? -1L : s + len;
        t.insert(s, e);
        modelInsert(s, e);
      } else {
        int index = random.nextInt(model.size());
        int p = t.first();
        for (int i = 0; i < index; i++) {
          p = t.next(p);
        }
        t.delete(p);
        model.remove(index);
      }
      if (step % 7 == 0 || step > 2_900) {
        assertSameAsModel(t, random, lo, span + 50);
      }
    }
  }

  @Test
  void shouldStayConsistentThroughGrowthAndShrinking() {
    IntervalBTree t = new IntervalBTree();
    int n = 50_000;
    for (int i = 0; i < n; i++) {
      t.insert(10L * i, 10L * i + 3);
    }
    assertTrue(t.checkInvariants());
    assertEquals(n, t.size());
    // delete every other entry, back to front, then the rest front to back
    for (int i = n - 1; i >= 0; i -= 2) {
      t.delete(t.floor(10L * i));
    }
    assertTrue(t.checkInvariants());
    assertEquals(n / 2, t.size());
    for (int i = 0; i < n; i++) {
      assertEquals(i % 2 == 0, floorEndAtLeast(t, 10L * i + 2, 10L * i + 2), "entry " + i);
    }
    while (t.size() > 0) {
      t.delete(t.first());
    }
    assertTrue(t.checkInvariants());
    assertEquals(IntervalBTree.NONE, t.first());
    assertFalse(floorEndAtLeast(t, 5, 5));
  }

  @Test
  void shouldAnswerAtTheTopOfTheUnsignedRange() {
    IntervalBTree t = new IntervalBTree();
    for (int i = 0; i < 100; i++) {
      t.insert(-1L - 1000 + 10L * i, -1L - 1000 + 10L * i + 4);
    }
    t.insert(-2L, -1L);
    assertTrue(t.checkInvariants());
    assertTrue(floorEndAtLeast(t, -1L, -1L), "~0 is covered");
    assertTrue(floorEndAtLeast(t, -2L, -2L), "~0 - 1 is covered");
    assertFalse(floorEndAtLeast(t, -3L, -3L), "~0 - 2 falls in a gap");
    assertFalse(floorEndAtLeast(t, 5L, 5L), "nothing below the first start");
    assertEquals(-2L, t.start(t.floor(-1L)));
    t.delete(t.floor(-1L));
    assertFalse(floorEndAtLeast(t, -1L, -1L), "~0 is not covered after the delete");
  }

  @Test
  void shouldVisitOverlapsInOrderAndStopEarly() {
    IntervalBTree t = new IntervalBTree();
    for (int i = 0; i < 40; i++) {
      t.insert(i, i + 100L); // every entry covers 100
    }
    int[] visited = {0};
    int rc =
        t.forEachOverlapping(
            100,
            100,
            (s, e) -> {
              visited[0]++;
              return s == 9 ? 42 : 0;
            });
    assertEquals(42, rc);
    assertEquals(10, visited[0], "entries 0..9 visited, then stopped");
  }
}
