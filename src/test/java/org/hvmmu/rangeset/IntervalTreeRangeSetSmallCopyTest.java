package org.hvmmu.rangeset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * The Eytzinger copy a set of at most {@link IntervalTreeRangeSet#SMALL} ranges answers queries
 * from: every answer against {@link RangeSetModel} (a sorted list, no shared code) while the set
 * grows past the threshold and shrinks back, at the unsigned edges 0 and ~0, and under a writer
 * that crosses the threshold while readers query.
 */
class IntervalTreeRangeSetSmallCopyTest {
  private static final int SMALL = IntervalTreeRangeSet.SMALL;

  private static void assertSameAnswers(IntervalTreeRangeSet set, RangeSetModel model,
      SplittableRandom random, long universe) {
    assertEquals(model.count(), set.rangeCount());
    for (int q = 0; q < 200; q++) {
      long x = edgeOr(random, universe);
      long y = edgeOr(random, universe);
      long s = Long.compareUnsigned(x, y) <= 0 ? x : y;
      long e = s == x ? y : x;
      assertEquals(model.contains(x), set.containsSingleton(x), () -> "contains " + x);
      assertEquals(model.containsRange(s, e), set.containsRange(s, e),
          () -> "containsRange " + s + " " + e);
      assertEquals(model.overlaps(s, e), set.overlapsRange(s, e),
          () -> "overlaps " + s + " " + e);
    }
  }

  /** A value in {@code [0, universe)}, or near 0 or ~0. */
  private static long edgeOr(SplittableRandom random, long universe) {
    return switch (random.nextInt(8)) {
      case 0 -> random.nextInt(3);
      case 1 -> -1L - random.nextInt(3);
      case 2 -> Long.MIN_VALUE + random.nextInt(3) - 1;
      default -> random.nextLong(universe);
    };
  }

  @Test
  void answersShouldMatchTheModelAcrossTheThreshold() {
    for (long seed = 1; seed <= 6; seed++) {
      SplittableRandom random = new SplittableRandom(seed);
      IntervalTreeRangeSet set = new IntervalTreeRangeSet("small", 0);
      RangeSetModel model = new RangeSetModel();
      long universe = 1_000;
      boolean grew = false;
      for (int step = 0; step < 600; step++) {
        // Grow for 300 steps, then shrink: the count crosses SMALL both ways.
        boolean add = step < 300 ? random.nextInt(10) < 8 : random.nextInt(10) < 2;
        long s = edgeOr(random, universe);
        long e = random.nextInt(4) == 0 ? s : s + random.nextInt(3);
        if (Long.compareUnsigned(e, s) < 0) {
          e = s;
        }
        int expected = add ? model.add(s, e) : model.remove(s, e);
        assertEquals(expected, add ? set.addRange(s, e) : set.removeRange(s, e));
        grew |= model.count() > SMALL;
        if (step % 10 == 0) {
          assertSameAnswers(set, model, random, universe);
        }
      }
      assertTrue(grew, "seed " + seed + " crossed " + SMALL);
      assertSameAnswers(set, model, random, universe);
      set.purge();
      model.purge();
      assertSameAnswers(set, model, random, universe);
    }
  }

  @Test
  void aFullRangeAndTheEdgesShouldBeAnsweredExactly() {
    IntervalTreeRangeSet set = new IntervalTreeRangeSet("edges", 0);
    assertEquals(0, set.addRange(0, -1L));
    assertTrue(set.containsSingleton(0));
    assertTrue(set.containsSingleton(-1L));
    assertTrue(set.containsRange(0, -1L));
    assertEquals(0, set.removeRange(1, -2L));
    assertTrue(set.containsSingleton(0));
    assertTrue(set.containsSingleton(-1L));
    assertEquals(false, set.containsSingleton(1));
    assertEquals(false, set.overlapsRange(1, -2L));
    assertTrue(set.overlapsRange(0, 1));
    assertEquals(2, set.rangeCount());
  }

  /** A value within two of 0, 2^61, 2^62, 2^63 or ~0: the edges of the signed range path. */
  private static long plainEdge(SplittableRandom random) {
    long[] bases = {0, 1L << 61, 1L << 62, 1L << 63, -1L};
    return bases[random.nextInt(bases.length)] + random.nextInt(5) - 2;
  }

  /**
   * {@code containsRange} and {@code overlapsRange} of a small set test the range and the width
   * of its values at once ({@code s} and {@code e - s} below 2^62, no value of the leaf from
   * 2^62): on both sides of each edge they answer as the model does, and a start above the end
   * is refused whichever path the values take.
   */
  @Test
  void rangeQueriesShouldMatchTheModelOnBothSidesOfTheSignedPathsEdges() {
    for (long seed = 1; seed <= 40; seed++) {
      SplittableRandom random = new SplittableRandom(seed);
      IntervalTreeRangeSet set = new IntervalTreeRangeSet("plain", 0);
      RangeSetModel model = new RangeSetModel();
      int ranges = random.nextInt(12);
      for (int i = 0; i < ranges; i++) {
        long s = plainEdge(random);
        long e = s + random.nextInt(3);
        if (Long.compareUnsigned(e, s) < 0) {
          e = -1L;
        }
        assertEquals(model.add(s, e), set.addRange(s, e));
      }
      for (int q = 0; q < 400; q++) {
        long s = plainEdge(random);
        long e = plainEdge(random);
        long qs = s;
        long qe = e;
        if (Long.compareUnsigned(s, e) > 0) {
          Assertions.assertThrows(IllegalArgumentException.class, () -> set.containsRange(qs, qe));
          Assertions.assertThrows(IllegalArgumentException.class, () -> set.overlapsRange(qs, qe));
          continue;
        }
        assertEquals(model.containsRange(s, e), set.containsRange(s, e),
            () -> "containsRange " + qs + " " + qe + " of " + set);
        assertEquals(model.overlaps(s, e), set.overlapsRange(s, e),
            () -> "overlapsRange " + qs + " " + qe + " of " + set);
      }
    }
  }

  @Test
  void readersShouldSeeEveryPublishedMarkerWhileTheSetCrossesTheThreshold() {
    Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), this::crossing);
  }

  private void crossing() throws InterruptedException {
    IntervalTreeRangeSet set = new IntervalTreeRangeSet("crossing", 0);
    int stable = SMALL - 8; // stable ranges at 100k, 100k + 100, ...
    for (int k = 0; k < stable; k++) {
      assertEquals(0, set.addRange(100_000L + 100L * k, 100_000L + 100L * k + 9));
    }
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong published = new AtomicLong(-1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> readers = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      long seed = 17L * r + 3;
      Thread reader = new Thread(() -> {
        SplittableRandom random = new SplittableRandom(seed);
        try {
          while (!done.get()) {
            int k = random.nextInt(stable);
            long v = 100_000L + 100L * k + random.nextInt(10);
            if (!set.containsSingleton(v)) {
              throw new AssertionError("stable value " + v + " read as absent");
            }
            if (set.containsSingleton(100_000L + 100L * k + 50)) {
              throw new AssertionError("untouched value read as present");
            }
            long p = published.get();
            if (p >= 0 && !set.containsSingleton(1_000_000L + 2 * p) && published.get() == p) {
              throw new AssertionError("marker " + p + " published but not seen");
            }
          }
        } catch (Throwable t) {
          failure.compareAndSet(null, t);
        }
      }, "reader-" + r);
      reader.start();
      readers.add(reader);
    }
    try {
      for (long m = 0; m < 40_000 && failure.get() == null; m++) {
        // Churn 16 ranges in and out: the count swings between SMALL - 8 and SMALL + 8.
        int churn = (int) (m % 32);
        long at = 500_000L + 10L * (churn % 16);
        if (churn < 16) {
          assertEquals(0, set.addSingleton(at));
        } else {
          assertEquals(0, set.removeRange(at, at));
        }
        assertEquals(0, set.addSingleton(1_000_000L + 2 * m));
        published.set(m);
        if (m > 0) {
          assertEquals(0, set.removeRange(1_000_000L + 2 * (m - 1), 1_000_000L + 2 * (m - 1)));
        }
      }
    } finally {
      done.set(true);
      for (Thread reader : readers) {
        reader.join();
      }
    }
    assertNull(failure.get(), () -> "reader failed: " + failure.get());
    assertTrue(set.checkInvariants());
  }
}
