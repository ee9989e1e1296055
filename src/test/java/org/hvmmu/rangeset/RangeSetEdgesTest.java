package org.hvmmu.rangeset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Edges of Xen's rangeset (common/rangeset.c) that both implementations must share: {@code
 * rangeset_limit} caps the number of ranges, a new range beyond it failing with -ENOMEM (its
 * {@code alloc_range} finds {@code nr_ranges} at 0) while a merge into a neighbour needs none, and
 * {@code rangeset_merge} / {@code rangeset_subtract} over another set of many ranges.
 */
class RangeSetEdgesTest {
  static List<Supplier<RangeSet>> sets() {
    return List.of(
        () -> new IntervalTreeRangeSet("t", RangeSet.PRETTYPRINT_HEX),
        () -> new XenListRangeSet("l", RangeSet.PRETTYPRINT_HEX, XenListRangeSet.Variant.XEN_4_22));
  }

  @ParameterizedTest
  @MethodSource("sets")
  void aLimitRefusesNewRangesButNotMerges(Supplier<RangeSet> make) {
    RangeSet r = make.get();
    r.setLimit(2);
    assertEquals(0, r.addRange(1, 1));
    assertEquals(0, r.addRange(3, 3));
    assertEquals(-Errno.ENOMEM, r.addRange(5, 5));
    assertFalse(r.containsSingleton(5));
    assertEquals(2, r.rangeCount());
    // Growing a range allocates nothing.
    assertEquals(0, r.addRange(4, 4));
    assertTrue(r.containsRange(3, 4));
    // Joining [1,1] and [3,4] frees one range: a new one fits again.
    assertEquals(0, r.addRange(2, 2));
    assertEquals(1, r.rangeCount());
    assertEquals(0, r.addRange(9, 9));
    assertEquals(-Errno.ENOMEM, r.addRange(11, 11));
    // Splitting a range needs a new one.
    assertEquals(-Errno.ENOMEM, r.removeRange(2, 2));
    assertTrue(r.containsRange(1, 4));
    assertThrows(IllegalArgumentException.class, () -> r.setLimit(-2));
    r.setLimit(RangeSet.UNLIMITED);
    assertEquals(0, r.addRange(11, 11));
    assertEquals(3, r.rangeCount());
  }

  @ParameterizedTest
  @MethodSource("sets")
  void mergeAndSubtractTakeEveryRangeOfALargeSet(Supplier<RangeSet> make) {
    RangeSet many = make.get();
    for (long x = 0; x <= 40; x += 2) {
      assertEquals(0, many.addSingleton(x));
    }
    assertEquals(21, many.rangeCount());
    RangeSet into = make.get();
    assertEquals(0, into.merge(many));
    assertEquals(21, into.rangeCount());
    assertTrue(into.containsSingleton(40));
    assertFalse(into.containsSingleton(39));
    RangeSet from = make.get();
    assertEquals(0, from.addRange(0, 45));
    assertEquals(0, from.subtract(many));
    // Left: the 20 odd values 1..39, and [41, 45].
    assertEquals(21, from.rangeCount());
    assertTrue(from.containsRange(41, 45));
    assertTrue(from.containsSingleton(39));
    assertFalse(from.containsSingleton(40));
    assertFalse(from.overlapsRange(0, 0));
  }

  @ParameterizedTest
  @MethodSource("sets")
  void aSetMergedWithItselfIsUnchangedAndSubtractedFromItselfIsEmpty(Supplier<RangeSet> make) {
    RangeSet r = make.get();
    assertEquals(0, r.addRange(3, 5));
    assertEquals(0, r.addRange(9, 9));
    assertEquals(0, r.merge(r));
    assertEquals(2, r.rangeCount());
    assertTrue(r.containsRange(3, 5));
    assertEquals(0, r.subtract(r));
    assertTrue(r.isEmpty());
    assertEquals(0, r.rangeCount());
  }

  @ParameterizedTest
  @MethodSource("sets")
  void aVisitorMayNotChangeTheSetItVisits(Supplier<RangeSet> make) {
    // In Xen the callback runs under the set's read lock: a change would deadlock.
    RangeSet r = make.get();
    assertEquals(0, r.addRange(3, 5));
    assertThrows(IllegalStateException.class, () -> r.reportRanges(0, -1L, (s, e) -> {
      r.setLimit(10);
      return 0;
    }));
    assertThrows(IllegalStateException.class, () -> r.reportRanges(0, -1L, (s, e) -> {
      r.claimRange(1, new long[1]);
      return 0;
    }));
    assertThrows(IllegalStateException.class, () -> r.reportRanges(0, -1L, (s, e) -> {
      r.addRange(7, 7);
      return 0;
    }));
    // The set still works afterwards, unchanged.
    assertEquals(1, r.rangeCount());
    assertEquals(0, r.addRange(7, 7));
    assertEquals(2, r.rangeCount());
  }
}
