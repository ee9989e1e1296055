package org.hvmmu.rangeset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The copy a set of more than one leaf ({@link RangeSnapshot#LEAF} ranges) answers queries from:
 * every answer against {@link RangeSetModel} (a sorted list, no shared code) while writes split,
 * join and empty leaves, at every range's edges (where leaves begin and end), with ranges at and
 * past 2^62 and 2^63, and with {@code checkInvariants} comparing the copy with the tree.
 */
class IntervalTreeRangeSetLeavesTest {
  private static final int LEAF = RangeSnapshot.LEAF;

  /** Every range's start and end, and the values either side, asked of the set and the model. */
  private static void assertEdgesAnswered(IntervalTreeRangeSet set, RangeSetModel model) {
    assertEquals(model.count(), set.rangeCount());
    List<long[]> ranges = model.ranges();
    for (long[] r : ranges) {
      for (long x : new long[] {r[0] - 1, r[0], r[0] + 1, r[1] - 1, r[1], r[1] + 1}) {
        assertEquals(model.contains(x), set.containsSingleton(x), () -> "contains 0x"
            + Long.toHexString(x));
      }
      long below = r[0] - 1;
      long above = r[1] + 1;
      assertTrue(set.containsRange(r[0], r[1]));
      if (r[0] != 0) {
        assertEquals(model.containsRange(below, r[1]), set.containsRange(below, r[1]));
        assertEquals(model.overlaps(below, below), set.overlapsRange(below, below));
      }
      if (r[1] != -1L) {
        assertEquals(model.overlaps(above, above), set.overlapsRange(above, above));
        assertEquals(model.overlaps(r[1], above), set.overlapsRange(r[1], above));
      }
    }
  }

  private static void addBoth(IntervalTreeRangeSet set, RangeSetModel model, long s, long e) {
    assertEquals(model.add(s, e), set.addRange(s, e));
  }

  private static void removeBoth(IntervalTreeRangeSet set, RangeSetModel model, long s, long e) {
    assertEquals(model.remove(s, e), set.removeRange(s, e));
  }

  @Test
  void answersShouldMatchTheModelWhileWritesSplitJoinAndEmptyLeaves() {
    for (long seed = 1; seed <= 3; seed++) {
      SplittableRandom random = new SplittableRandom(seed);
      IntervalTreeRangeSet set = new IntervalTreeRangeSet("leaves", 0);
      RangeSetModel model = new RangeSetModel();
      long universe = 200_000;
      long most = 0;
      for (int step = 0; step < 3_000; step++) {
        long s = random.nextLong(universe);
        int kind = random.nextInt(100);
        if (step < 1_500 ? kind < 85 : kind < 40) {
          addBoth(set, model, s, s + random.nextInt(20)); // grows, then shrinks
        } else if (kind < 97) {
          removeBoth(set, model, s, s + random.nextInt(20));
        } else if (kind < 99) {
          removeBoth(set, model, s, s + random.nextInt(5_000)); // empties leaves
        } else {
          addBoth(set, model, s, s + random.nextInt(5_000)); // swallows leaves
        }
        most = Math.max(most, model.count());
        if (step % 25 == 0) {
          assertTrue(set.checkInvariants());
        }
      }
      assertTrue(most > 10 * LEAF, "seed " + seed + " reached " + most + " ranges");
      assertTrue(set.checkInvariants());
      assertEdgesAnswered(set, model);
    }
  }

  @Test
  void writesThatOnlyTouchARangeShouldChangeItInWhicheverLeafItIs() {
    // Some of these ranges begin a leaf: a write that ends just below one (e + 1) or begins just
    // above one (s - 1) changes a range it does not overlap, in a leaf it does not reach.
    IntervalTreeRangeSet set = new IntervalTreeRangeSet("touching", 0);
    RangeSetModel model = new RangeSetModel();
    for (long k = 0; k < 6 * LEAF; k++) {
      addBoth(set, model, 100 * k + 10, 100 * k + 19);
    }
    for (long k = 0; k < 6 * LEAF; k++) {
      addBoth(set, model, 100 * k + 5, 100 * k + 9); // joins from below: e + 1 is the start
      assertTrue(set.checkInvariants());
      addBoth(set, model, 100 * k + 20, 100 * k + 22); // joins from above: s - 1 is the end
      assertTrue(set.checkInvariants());
    }
    assertEdgesAnswered(set, model);
    for (long k = 0; k < 6 * LEAF; k++) {
      removeBoth(set, model, 100 * k, 100 * k + 5); // cuts the first value of a range
      assertTrue(set.checkInvariants());
      removeBoth(set, model, 100 * k + 22, 100 * k + 40); // cuts the last
      assertTrue(set.checkInvariants());
    }
    assertEdgesAnswered(set, model);
  }

  @Test
  void ascendingAndDescendingFillsShouldSplitLeavesAndShrinkBackToOne() {
    IntervalTreeRangeSet set = new IntervalTreeRangeSet("fills", 0);
    RangeSetModel model = new RangeSetModel();
    for (long k = 0; k < 20 * LEAF; k++) {
      addBoth(set, model, 10 * k, 10 * k + 3); // appends: the last leaf splits each time
    }
    for (long k = 0; k < 20 * LEAF; k++) {
      addBoth(set, model, 1_000_000 - 10 * k, 1_000_000 - 10 * k + 3); // prepends
    }
    assertTrue(set.checkInvariants());
    assertEdgesAnswered(set, model);
    // Join neighbours pairwise (each add swallows the gap between two ranges), then cut them out.
    for (long k = 0; k < 20 * LEAF; k += 2) {
      addBoth(set, model, 10 * k + 4, 10 * k + 9);
    }
    assertTrue(set.checkInvariants());
    assertEdgesAnswered(set, model);
    removeBoth(set, model, 0, 999_700); // keeps the 31 ranges from 999,700
    assertTrue(set.checkInvariants());
    assertEdgesAnswered(set, model);
    assertTrue(model.count() <= LEAF, "shrunk to " + model.count());
    assertEquals(0, set.removeRange(0, -1L));
    assertEquals(0, set.rangeCount());
    assertTrue(set.checkInvariants());
  }

  @Test
  void leavesShouldStayAtLeastHalfFullWhileRangesGoOneByOne() {
    IntervalTreeRangeSet set = new IntervalTreeRangeSet("fill", 0);
    int n = 40 * LEAF;
    for (long k = 0; k < n; k++) {
      assertEquals(0, set.addRange(4 * k, 4 * k + 1));
    }
    // Appending fills leaves up: a full last leaf and one more range become 64 + 1, as B-trees
    // split on ascending inserts. 2,560 = 40 x 64: 40 full leaves.
    assertEquals(n / LEAF, set.leafCount(), "leaves after appending");
    // Remove three ranges of every four, in order: each write empties part of one leaf, and a
    // leaf left with fewer than 32 takes its neighbour in.
    for (long k = 0; k < n; k++) {
      if (k % 4 != 0) {
        assertEquals(0, set.removeRange(4 * k, 4 * k + 1));
      }
    }
    assertTrue(set.checkInvariants());
    long count = set.rangeCount();
    assertEquals(n / 4, count);
    // Without the neighbour rule, 40 leaves of 16 would be left; with it, half full or more on
    // average (16 leaves here).
    assertTrue(set.leafCount() <= count / (LEAF / 2) + 1,
        () -> set.leafCount() + " leaves for " + count + " ranges");
  }

  @Test
  void indexesOfOneToNineLeavesAcross2To63ShouldCompareUnsigned() {
    // L x 64 ranges appended fill exactly L leaves: the first half of the ranges from 0, the rest
    // from 2^63, where a signed difference would order them below the others. Keys on multiples
    // of 4 included; an odd and an even number of leaves each.
    for (int leaves = 1; leaves <= 9; leaves++) {
      IntervalTreeRangeSet set = new IntervalTreeRangeSet("across 2^63", 0);
      RangeSetModel model = new RangeSetModel();
      long count = (long) LEAF * leaves;
      for (long k = 0; k < count; k++) {
        long s = k < count / 2 ? 4 * k : Long.MIN_VALUE + 4 * k;
        addBoth(set, model, s, s + 1);
      }
      assertEquals(leaves, set.leafCount());
      assertTrue(set.checkInvariants());
      assertEdgesAnswered(set, model);
      for (long k = 0; k < count; k++) {
        long x = (k < count / 2 ? 4 * k : Long.MIN_VALUE + 4 * k) + 2; // in a gap
        assertEquals(false, set.containsSingleton(x), () -> "contains 0x" + Long.toHexString(x));
      }
    }
  }

  @Test
  void rangesPastTwoToThe62And63ShouldBeComparedUnsignedInEveryLeaf() {
    IntervalTreeRangeSet set = new IntervalTreeRangeSet("high", 0);
    RangeSetModel model = new RangeSetModel();
    long[] bases = {0, (1L << 62) - 5 * LEAF, 1L << 62, Long.MIN_VALUE - 3 * LEAF, -1L - 8 * LEAF};
    for (long base : bases) {
      for (long k = 0; k < 3 * LEAF / 2; k++) {
        long s = base + 4 * k;
        if (Long.compareUnsigned(s, s + 1) < 0) {
          addBoth(set, model, s, s + 1);
        }
      }
    }
    addBoth(set, model, -2L, -1L); // reaches ~0
    assertTrue(set.checkInvariants());
    assertEdgesAnswered(set, model);
    // A low set (every range below 2^62) asked about keys above it.
    IntervalTreeRangeSet low = new IntervalTreeRangeSet("low", 0);
    for (long k = 0; k < 3 * LEAF; k++) {
      assertEquals(0, low.addRange(4 * k, 4 * k + 1));
    }
    for (long x : new long[] {1L << 62, Long.MIN_VALUE, -1L, 4L * 3 * LEAF}) {
      assertEquals(false, low.containsSingleton(x), () -> "contains 0x" + Long.toHexString(x));
      assertEquals(false, low.overlapsRange(x, -1L));
    }
    assertTrue(low.overlapsRange(0, -1L));
    assertTrue(low.overlapsRange(4L * (3 * LEAF - 1), 1L << 62));
    assertEquals(false, low.containsRange(0, 1L << 62));
  }
}
