package org.hvmmu.rangeset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.hvmmu.rangeset.XenListRangeSet.Variant;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What {@code rangeset_merge}, {@code rangeset_subtract}, {@code rangeset_limit} and {@code
 * rangeset_claim_range} (Xen's common/rangeset.c) do at a range budget: merge and subtract stop at
 * the first range the budget refuses and return its -ENOMEM, keeping what they did before it;
 * Xen 4.22's limit is a 32-bit budget that ignores the ranges already held; a claim past the last
 * range grows it. Expected sets are worked out by hand from Xen's code.
 */
class RangeSetFirstErrorTest {
  static List<Supplier<RangeSet>> correctedSets() {
    return List.of(
        () -> new IntervalTreeRangeSet("t", 0),
        () -> new XenListRangeSet("l", 0, Variant.CORRECTED));
  }

  private static RangeSet of(long... pairs) {
    RangeSet r = new IntervalTreeRangeSet("other", 0);
    for (int i = 0; i < pairs.length; i += 2) {
      assertEquals(0, r.addRange(pairs[i], pairs[i + 1]));
    }
    return r;
  }

  @ParameterizedTest
  @MethodSource("correctedSets")
  void mergeShouldStopAtTheFirstRangeTheLimitRefuses(Supplier<RangeSet> make) {
    RangeSet r = make.get();
    assertEquals(0, r.addRange(0, 0));
    r.setLimit(2);
    // [10,10] is the second range; [20,20] would be the third.
    assertEquals(-Errno.ENOMEM, r.merge(of(10, 10, 20, 20, 30, 30)));
    assertArrayEquals(new long[] {0, 0, 10, 10}, Ranges.snapshot(r));
  }

  @ParameterizedTest
  @MethodSource("correctedSets")
  void subtractShouldStopAtTheFirstSplitTheLimitRefuses(Supplier<RangeSet> make) {
    RangeSet r = make.get();
    assertEquals(0, r.addRange(0, 100));
    r.setLimit(2);
    // Removing 10 splits [0,100] in two; removing 20 would need a third range.
    assertEquals(-Errno.ENOMEM, r.subtract(of(10, 10, 20, 20)));
    assertArrayEquals(new long[] {0, 9, 11, 100}, Ranges.snapshot(r));
  }

  @Test
  void xen422LimitShouldBeA32BitBudgetThatIgnoresTheRangesHeld() {
    RangeSet xen = new XenListRangeSet("x", 0, Variant.XEN_4_22);
    assertEquals(0, xen.addRange(0, 0));
    assertEquals(0, xen.addRange(2, 2));
    xen.setLimit(1); // a budget of one more range, whatever is held
    assertEquals(0, xen.addRange(4, 4));
    assertEquals(-Errno.ENOMEM, xen.addRange(6, 6));
    xen.setLimit(1L << 32); // unsigned int: truncated to a budget of 0
    assertEquals(-Errno.ENOMEM, xen.addRange(8, 8));
    RangeSet corrected = new XenListRangeSet("c", 0, Variant.CORRECTED);
    assertEquals(0, corrected.addRange(0, 0));
    assertEquals(0, corrected.addRange(2, 2));
    assertThrows(IllegalArgumentException.class, () -> corrected.setLimit(1));
    corrected.setLimit(1L << 32);
    assertEquals(0, corrected.addRange(8, 8));
  }

  @Test
  void variantShouldBeTheOneGiven() {
    for (Variant v : Variant.values()) {
      assertEquals(v, new XenListRangeSet("v", 0, v).variant());
    }
  }

  @Test
  void aClaimPastTheLastRangeShouldGrowIt() {
    for (Variant v : new Variant[] {Variant.XEN_4_22, Variant.CORRECTED}) {
      RangeSet r = new XenListRangeSet("c", 0, v);
      assertEquals(0, r.addRange(0, 9));
      long[] start = new long[1];
      assertEquals(0, r.claimRange(100, start), v.name());
      assertEquals(10, start[0], v.name());
      assertArrayEquals(new long[] {0, 109}, Ranges.snapshot(r), v.name());
    }
  }

  @Test
  void anAddTouchingOnlyTheFirstRangeShouldNeedNoNewRangeOnlyWhenCorrected() {
    RangeSet corrected = new XenListRangeSet("c", 0, Variant.CORRECTED);
    assertEquals(0, corrected.addRange(10, 20));
    corrected.setLimit(1);
    assertEquals(0, corrected.addRange(5, 9));
    assertArrayEquals(new long[] {5, 20}, Ranges.snapshot(corrected));
    // Xen allocates the new range before it merges it: at the budget the add is refused.
    RangeSet xen = new XenListRangeSet("x", 0, Variant.XEN_4_22);
    assertEquals(0, xen.addRange(10, 20));
    xen.setLimit(0);
    assertEquals(-Errno.ENOMEM, xen.addRange(5, 9));
    assertArrayEquals(new long[] {10, 20}, Ranges.snapshot(xen));
  }

  /**
   * Every operation that takes the interval tree's writer lock gives it back, errors included: a
   * second thread can modify the set afterwards (a lock kept by the first thread would block it).
   */
  @Test
  void everyLockedOperationShouldReleaseTheLockForAnotherThread() throws Exception {
    IntervalTreeRangeSet r = new IntervalTreeRangeSet("locks", 0);
    List<Runnable> operations = List.of(
        () -> r.addRange(10, 20),
        () -> r.removeRange(12, 12),
        () -> r.reportRanges(0, -1L, (s, e) -> 0),
        () -> r.toString(),
        () -> r.setLimit(RangeSet.UNLIMITED),
        () -> r.claimRange(4, new long[1]),
        () -> r.consumeRanges((s, e, consumed) -> {
          consumed[0] = 1;
          return 1;
        }),
        () -> r.purge(),
        () -> assertThrows(IllegalArgumentException.class, () -> r.setLimit(-2)));
    ExecutorService other = Executors.newSingleThreadExecutor();
    try {
      long next = 100;
      for (Runnable op : operations) {
        op.run();
        long at = next;
        Future<Integer> add = other.submit(() -> r.addRange(at, at));
        assertEquals(0, add.get(5, TimeUnit.SECONDS), "after " + op);
        next += 2;
      }
    } finally {
      other.shutdownNow();
    }
  }
}
