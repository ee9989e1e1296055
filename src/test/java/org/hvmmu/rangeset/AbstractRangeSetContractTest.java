package org.hvmmu.rangeset;

import org.hvmmu.xen.Errno;

import static org.hvmmu.rangeset.RangeSetTestRanges.of;
import static org.hvmmu.rangeset.RangeSetTestRanges.reported;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The contract every correct {@link RangeSet} passes: Xen's rangeset semantics with every Xen
 * defect fixed (what {@link XenListRangeSet.Variant#CORRECTED} implements). A subclass per
 * implementation supplies {@link #newSet} and {@link #invariantsHold}; the exhaustive small-domain
 * checks at the end compare every pair of operations against a brute-force model.
 *
 * <p>Expected values are written by hand (from the Xen reference's vectors where one exists), never
 * computed by the code under test.
 */
abstract class AbstractRangeSetContractTest {
  private static final long MAX = ~0L;

  /**
   * A new, empty, unlimited set of the implementation under test.
   *
   * @param name the name, or null
   * @param flags the flags
   * @return the set
   */
  protected abstract RangeSet newSet(String name, int flags);

  /**
   * Whether the implementation's own invariants hold (its package-private {@code
   * checkInvariants()}).
   *
   * @param set a set made by {@link #newSet}
   * @return true if they hold
   */
  protected abstract boolean invariantsHold(RangeSet set);

  /** A set holding the given ranges, added in order, each add checked to succeed. */
  private RangeSet set(long... bounds) {
    RangeSet set = newSet("t", 0);
    for (int i = 0; i < bounds.length; i += 2) {
      assertEquals(0, set.addRange(bounds[i], bounds[i + 1]));
    }
    return set;
  }

  private void assertRanges(RangeSet set, long... want) {
    assertEquals(of(want), reported(set));
    assertEquals(want.length / 2, set.rangeCount(), "rangeCount");
    assertEquals(want.length == 0, set.isEmpty(), "isEmpty");
    assertTrue(invariantsHold(set), "invariants");
  }

  // ---------------------------------------------------------------------------------------------
  // Construction, names, flags, printing.

  @Test
  void shouldNameUnnamedSetNoName() {
    RangeSet set = newSet(null, 0);
    assertEquals("(no name)", set.name());
    assertEquals("(no name)  { }", set.toString());
  }

  @Test
  void shouldAcceptNamesUpTo31CharactersOnly() {
    String name31 = "abcdefghijklmnopqrstuvwxyz01234";
    assertEquals(name31, newSet(name31, 0).name());
    assertThrows(IllegalArgumentException.class, () -> newSet(name31 + "5", 0));
  }

  @Test
  void shouldCheckFlags() {
    int both = RangeSet.PRETTYPRINT_HEX | RangeSet.NO_PRINT;
    assertEquals(both, newSet("f", both).flags());
    assertEquals(0, newSet("f", 0).flags());
    assertThrows(IllegalArgumentException.class, () -> newSet("f", 1 << 2));
    assertThrows(IllegalArgumentException.class, () -> newSet("f", Integer.MIN_VALUE));
  }

  @Test
  void shouldPrintEmptySet() {
    assertEquals("name       { }", newSet("name", 0).toString());
    assertEquals("name       { }", newSet("name", RangeSet.PRETTYPRINT_HEX).toString());
  }

  @Test
  void shouldPrintInHexAndDecimalAsV18() {
    RangeSet ro = newSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX);
    assertEquals(0, ro.addRange(1, 3));
    assertEquals(0, ro.addSingleton(5));
    assertEquals(0, ro.addSingleton(0xfed00));
    assertEquals("r/o mmio ranges { 1-3, 5, fed00 }", ro.toString());
    RangeSet unnamed = newSet(null, 0);
    assertEquals(0, unnamed.addRange(10, 20));
    assertEquals("(no name)  { 10-20 }", unnamed.toString());
  }

  @Test
  void shouldPrintExtremesUnsigned() {
    RangeSet hex = newSet("x", RangeSet.PRETTYPRINT_HEX);
    hex.addSingleton(0xABC);
    hex.addRange(MAX - 1, MAX);
    assertEquals("x          { abc, fffffffffffffffe-ffffffffffffffff }", hex.toString());
    RangeSet dec = newSet("x", 0);
    dec.addRange(0, 0);
    dec.addSingleton(MAX);
    assertEquals("x          { 0, 18446744073709551615 }", dec.toString());
  }

  // ---------------------------------------------------------------------------------------------
  // Argument checks.

  @Test
  void shouldRejectInvertedRangesNamingBothBoundsInHex() {
    RangeSet set = set(0, 100);
    List<Executable> calls =
        List.of(
            () -> set.addRange(0x10, 0x5),
            () -> set.removeRange(0x10, 0x5),
            () -> set.containsRange(0x10, 0x5),
            () -> set.overlapsRange(0x10, 0x5),
            () -> set.reportRanges(0x10, 0x5, (s, e) -> 0));
    for (Executable call : calls) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
      assertTrue(e.getMessage().contains("0x10"), e::getMessage);
      assertTrue(e.getMessage().contains("0x5"), e::getMessage);
    }
    assertRanges(set, 0, 100);
  }

  @Test
  void shouldCompareBoundsUnsigned() {
    RangeSet set = newSet("u", 0);
    assertThrows(IllegalArgumentException.class, () -> set.addRange(MAX, 0));
    assertThrows(
        IllegalArgumentException.class, () -> set.addRange(Long.MIN_VALUE, Long.MAX_VALUE));
    assertEquals(0, set.addRange(Long.MAX_VALUE, Long.MIN_VALUE));
    assertRanges(set, Long.MAX_VALUE, Long.MIN_VALUE);
    assertTrue(set.containsSingleton(Long.MIN_VALUE));
    assertFalse(set.containsSingleton(-2));
    assertFalse(set.containsSingleton(0));
  }

  // ---------------------------------------------------------------------------------------------
  // Add.

  @Test
  void shouldMergeOverlappingAndTouchingRangesAsV1() {
    assertRanges(set(1, 3, 5, 5, 4, 4), 1, 5);
    assertRanges(set(1, 3, 7, 9, 4, 6), 1, 9);
    assertRanges(set(1, 3, 10, 12, 20, 22, 2, 21), 1, 22);
  }

  @Test
  void shouldMergeOnEitherSide() {
    assertRanges(set(10, 20, 21, 25), 10, 25);
    assertRanges(set(10, 20, 5, 9), 5, 20);
    assertRanges(set(10, 20, 5, 12), 5, 20);
    assertRanges(set(10, 20, 15, 30), 10, 30);
    assertRanges(set(10, 20, 0, 100), 0, 100);
    assertRanges(set(10, 20, 22, 30), 10, 20, 22, 30);
    assertRanges(set(10, 20, 0, 8), 0, 8, 10, 20);
  }

  @Test
  void shouldSwallowSeveralRanges() {
    assertRanges(set(1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 2, 8), 1, 9);
    assertRanges(set(1, 1, 3, 3, 5, 5, 7, 7, 20, 20, 0, 18), 0, 18, 20, 20);
    assertRanges(set(1, 1, 3, 3, 5, 5, 7, 7, 20, 20, 4, 19), 1, 1, 3, 20);
  }

  @Test
  void shouldNotChangeWhenAddingCoveredRange() {
    RangeSet set = set(10, 20, 30, 40);
    assertEquals(0, set.addRange(12, 18));
    assertEquals(0, set.addRange(10, 20));
    assertEquals(0, set.addSingleton(40));
    assertRanges(set, 10, 20, 30, 40);
  }

  @Test
  void shouldAddAtExtremes() {
    RangeSet set = set(MAX - 1, MAX);
    assertRanges(set, MAX - 1, MAX);
    assertTrue(set.containsSingleton(MAX));
    assertEquals(0, set.addRange(MAX - 3, MAX - 2));
    assertRanges(set, MAX - 3, MAX);
    assertEquals(0, set.addSingleton(0));
    assertRanges(set, 0, 0, MAX - 3, MAX);
    assertEquals(0, set.addRange(1, MAX - 4));
    assertRanges(set, 0, MAX);
    assertTrue(set.containsRange(0, MAX));
    assertRanges(set(5, 9, 20, MAX, 10, 19), 5, MAX); // V13
  }

  // ---------------------------------------------------------------------------------------------
  // Remove.

  @Test
  void shouldSplitAsV2() {
    RangeSet set = set(5, 10);
    assertEquals(0, set.removeRange(7, 8));
    assertRanges(set, 5, 6, 9, 10);
  }

  @Test
  void shouldRemoveEdgesAsV3() {
    RangeSet set = set(10, 20);
    assertEquals(0, set.removeRange(10, 12));
    assertRanges(set, 13, 20);
    assertEquals(0, set.removeRange(18, 30));
    assertRanges(set, 13, 17);
    assertEquals(0, set.removeRange(0, 5));
    assertRanges(set, 13, 17);
    assertEquals(0, set.removeRange(0, 100));
    assertRanges(set);
  }

  @Test
  void shouldRemoveAcrossRangesAsUpstreamT0ToT3() {
    RangeSet t0 = set(0, 1, 4, 5);
    assertEquals(0, t0.removeRange(3, 4));
    assertRanges(t0, 0, 1, 5, 5);
    RangeSet t1 = set(0, 1, 4, 5, 7, 8);
    assertEquals(0, t1.removeRange(3, 7));
    assertRanges(t1, 0, 1, 8, 8);
    RangeSet t2 = set(0, 1, 4, 5);
    assertEquals(0, t2.removeRange(2, 3));
    assertRanges(t2, 0, 1, 4, 5);
    RangeSet t3 = set(0, 1, 4, 5);
    assertEquals(0, t3.removeRange(1, 4));
    assertRanges(t3, 0, 0, 5, 5);
    RangeSet v4 = set(0, 1, 4, 5);
    assertEquals(0, v4.removeRange(2, 5));
    assertRanges(v4, 0, 1);
  }

  @Test
  void shouldRemoveAtExtremesWithoutWrapping() {
    RangeSet v14 = set(0, MAX);
    assertEquals(0, v14.removeRange(100, 200));
    assertRanges(v14, 0, 99, 201, MAX);
    assertEquals(0, v14.removeRange(300, MAX));
    assertRanges(v14, 0, 99, 201, 299);

    RangeSet v15 = set(0x10, 0x20, 0x30, 0x40, 0x50, 0x60);
    assertEquals(0, v15.removeRange(0x35, MAX));
    assertRanges(v15, 0x10, 0x20, 0x30, 0x34);

    RangeSet several = set(0, 9, 0x100, 0x200, MAX - 1, MAX);
    assertEquals(0, several.removeRange(5, MAX));
    assertRanges(several, 0, 4);

    RangeSet fromBelow = set(0x10, 0x20, 0x30, 0x40);
    assertEquals(0, fromBelow.removeRange(5, MAX));
    assertRanges(fromBelow);

    RangeSet fromGap = set(0x10, 0x20, 0x30, MAX);
    assertEquals(0, fromGap.removeRange(0x25, MAX));
    assertRanges(fromGap, 0x10, 0x20);

    RangeSet top = set(MAX - 5, MAX);
    assertEquals(0, top.removeSingleton(MAX));
    assertRanges(top, MAX - 5, MAX - 1);
    assertEquals(0, top.removeRange(0, MAX));
    assertRanges(top);
  }

  // ---------------------------------------------------------------------------------------------
  // Limit.

  @Test
  void shouldEnforceLimitAsV10() {
    RangeSet set = newSet("v10", 0);
    set.setLimit(2);
    assertEquals(0, set.addSingleton(1));
    assertEquals(0, set.addSingleton(3));
    assertEquals(-Errno.ENOMEM, set.addSingleton(5));
    assertRanges(set, 1, 1, 3, 3);
    assertEquals(0, set.addSingleton(2));
    assertRanges(set, 1, 3);
    assertEquals(0, set.addSingleton(5));
    assertEquals(-Errno.ENOMEM, set.removeSingleton(2));
    assertRanges(set, 1, 3, 5, 5);
    assertEquals(0, set.removeSingleton(1)); // trims, no new range
    assertEquals(0, set.addSingleton(4));
    assertRanges(set, 2, 5);
  }

  @Test
  void shouldRefuseEveryNewRangeAtLimitZero() {
    RangeSet set = newSet("zero", 0);
    set.setLimit(0);
    assertEquals(-Errno.ENOMEM, set.addRange(0, MAX));
    assertEquals(-Errno.ENOMEM, set.claimRange(1, new long[1]));
    assertRanges(set);
  }

  @Test
  void shouldRefuseALimitBelowTheCount() {
    RangeSet set = set(1, 1, 3, 3, 5, 5);
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> set.setLimit(2));
    assertTrue(ex.getMessage().contains("2") && ex.getMessage().contains("3"), ex.getMessage());
    assertRanges(set, 1, 1, 3, 3, 5, 5); // nothing lost, and still unlimited
    assertEquals(0, set.addSingleton(9));
    set.setLimit(4); // equal to the count: allowed
    assertEquals(-Errno.ENOMEM, set.addSingleton(7));
    assertEquals(0, set.addRange(5, 6)); // extends
    assertEquals(0, set.removeSingleton(1));
    assertEquals(0, set.addSingleton(11)); // three ranges, limit 4
    assertEquals(-Errno.ENOMEM, set.addSingleton(13)); // count == limit
    assertEquals(0, set.addSingleton(4));
    assertRanges(set, 3, 6, 9, 9, 11, 11);
  }

  @Test
  void shouldRefuseAConsumerThatMakesNoProgress() {
    RangeSet set = set(1, 4, 8, 9);
    int[] offers = {0};
    IllegalStateException ex =
        assertThrows(
            IllegalStateException.class,
            () ->
                set.consumeRanges(
                    (s, e, consumed) -> {
                      offers[0]++;
                      consumed[0] = offers[0] == 1 ? 2 : 0; // progress once, then none
                      return 0;
                    }));
    assertTrue(ex.getMessage().contains("0x3"), ex.getMessage());
    assertEquals(2, offers[0]);
    assertRanges(set, 3, 4, 8, 9);
  }

  @Test
  void shouldKeepLimitAcrossPurge() {
    RangeSet set = newSet("purge", 0);
    set.setLimit(1);
    assertEquals(0, set.addSingleton(1));
    set.purge();
    assertRanges(set);
    assertEquals(0, set.addSingleton(3));
    assertEquals(-Errno.ENOMEM, set.addSingleton(5));
    assertRanges(set, 3, 3);
  }

  @Test
  void shouldLiftLimitWithUnlimited() {
    RangeSet set = newSet("lift", 0);
    set.setLimit(1);
    assertEquals(0, set.addSingleton(1));
    assertEquals(-Errno.ENOMEM, set.addSingleton(3));
    set.setLimit(RangeSet.UNLIMITED);
    assertEquals(0, set.addSingleton(3));
    assertEquals(0, set.addSingleton(5));
    assertRanges(set, 1, 1, 3, 3, 5, 5);
    assertThrows(IllegalArgumentException.class, () -> set.setLimit(-2));
    assertThrows(IllegalArgumentException.class, () -> set.setLimit(Long.MIN_VALUE));
  }

  // ---------------------------------------------------------------------------------------------
  // Queries.

  @Test
  void shouldAnswerContainsAsV5() {
    RangeSet set = set(10, 20, 30, 40);
    assertTrue(set.containsRange(10, 20));
    assertFalse(set.containsRange(10, 21));
    assertFalse(set.containsRange(9, 20));
    assertTrue(set.containsSingleton(15));
    assertFalse(set.containsSingleton(25));
    assertFalse(set.containsRange(20, 30));
    assertFalse(set.containsRange(0, MAX));
    assertFalse(newSet("e", 0).containsSingleton(0));
    assertFalse(newSet("e", 0).containsSingleton(MAX));
  }

  @Test
  void shouldAnswerOverlapsAsV6() {
    RangeSet set = set(10, 20, 30, 40);
    assertFalse(set.overlapsRange(0, 9));
    assertTrue(set.overlapsRange(0, 10));
    assertFalse(set.overlapsRange(21, 29));
    assertTrue(set.overlapsRange(21, 30));
    assertFalse(set.overlapsRange(41, 50));
    assertTrue(set.overlapsRange(40, 50));
    assertTrue(set.overlapsRange(5, 45));
    assertTrue(set.overlapsRange(0, MAX));
    assertTrue(set(MAX, MAX).overlapsRange(0, MAX));
    assertFalse(newSet("e", 0).overlapsRange(0, MAX));
  }

  @Test
  void shouldReportClippedRanges() {
    RangeSet set = set(10, 20, 30, 40);
    assertEquals(of(15, 20, 30, 35), reported(set, 15, 35));
    assertEquals(of(), reported(set, 0, 5));
    assertEquals(of(10, 20, 30, 35), reported(set, 0, 35)); // V20, fixed
    assertEquals(of(30, 35), reported(set, 25, 35));
    assertEquals(of(), reported(set, 21, 29));
    assertEquals(of(40, 40), reported(set, 40, MAX));
    assertEquals(of(12, 12), reported(set, 12, 12));
    assertEquals(of(), reported(newSet("e", 0)));
  }

  @Test
  void shouldStopReportAtVisitorsFirstNonZeroResult() {
    RangeSet set = set(1, 1, 3, 3, 5, 5);
    List<Long> seen = new ArrayList<>();
    int rc =
        set.reportRanges(
            0,
            MAX,
            (s, e) -> {
              seen.add(s);
              return s == 3 ? 7 : 0;
            });
    assertEquals(7, rc);
    assertEquals(List.of(1L, 3L), seen);
    assertEquals(-Errno.ERESTART, set.reportRanges(0, MAX, (s, e) -> -Errno.ERESTART));
    assertRanges(set, 1, 1, 3, 3, 5, 5);
  }

  @Test
  void shouldLetVisitorReadTheSet() {
    RangeSet set = set(1, 1, 3, 3);
    int[] hits = {0};
    set.reportRanges(
        0,
        MAX,
        (s, e) -> {
          if (set.containsSingleton(s) && set.overlapsRange(0, MAX) && !set.isEmpty()) {
            hits[0]++;
          }
          return set.reportRanges(s, e, (a, b) -> 0);
        });
    assertEquals(2, hits[0]);
  }

  // ---------------------------------------------------------------------------------------------
  // Claim.

  @Test
  void shouldClaimFromEmptySet() {
    RangeSet set = newSet("c", 0);
    long[] start = {-1};
    assertEquals(0, set.claimRange(1, start));
    assertEquals(0, start[0]);
    assertRanges(set, 0, 0);

    RangeSet huge = newSet("c", 0);
    assertEquals(0, huge.claimRange(MAX, start));
    assertEquals(0, start[0]);
    assertRanges(huge, 0, MAX - 1);
    assertEquals(0, huge.claimRange(1, start));
    assertEquals(MAX, start[0]);
    assertRanges(huge, 0, MAX);
    start[0] = 42;
    assertEquals(-Errno.ENOSPC, huge.claimRange(1, start));
    assertEquals(42, start[0]);
    assertRanges(huge, 0, MAX);
  }

  @Test
  void shouldClaimLowestGapAndMergeWithNeighbours() {
    RangeSet set = set(0, 4, 7, 9, 20, 30);
    long[] start = {-1};
    assertEquals(0, set.claimRange(2, start));
    assertEquals(5, start[0]);
    assertRanges(set, 0, 9, 20, 30);
    assertEquals(0, set.claimRange(5, start));
    assertEquals(10, start[0]);
    assertRanges(set, 0, 14, 20, 30);
    assertEquals(0, set.claimRange(6, start)); // [15,19] holds only 5
    assertEquals(31, start[0]);
    assertRanges(set, 0, 14, 20, 36);

    RangeSet head = set(5, 9);
    assertEquals(0, head.claimRange(5, start));
    assertEquals(0, start[0]);
    assertRanges(head, 0, 9);
    assertTrue(head.containsRange(0, 9));

    RangeSet apart = set(5, 9);
    assertEquals(0, apart.claimRange(2, start));
    assertEquals(0, start[0]);
    assertRanges(apart, 0, 1, 5, 9);
  }

  @Test
  void shouldClaimTopGapExactly() {
    RangeSet set = set(0, 9);
    long[] start = {-1};
    assertEquals(-Errno.ENOSPC, set.claimRange(-9L, start)); // the gap [10, ~0] holds 2^64 - 10
    assertEquals(0, set.claimRange(-10L, start));
    assertEquals(10, start[0]);
    assertRanges(set, 0, MAX);
  }

  @Test
  void shouldRefuseClaimWhenNoGapIsLargeEnough() {
    long[] start = {42};
    RangeSet full = set(0, MAX);
    assertEquals(-Errno.ENOSPC, full.claimRange(1, start));
    assertRanges(full, 0, MAX);
    RangeSet holes = set(1, 1, 3, MAX);
    assertEquals(-Errno.ENOSPC, holes.claimRange(2, start));
    assertRanges(holes, 1, 1, 3, MAX);
    RangeSet middle = set(10, 20);
    assertEquals(-Errno.ENOSPC, middle.claimRange(MAX, start));
    assertRanges(middle, 10, 20);
    assertEquals(42, start[0]);
  }

  @Test
  void shouldRejectBadClaimArguments() {
    RangeSet set = set(5, 9);
    assertThrows(IllegalArgumentException.class, () -> set.claimRange(0, new long[1]));
    assertThrows(IllegalArgumentException.class, () -> set.claimRange(1, new long[0]));
    assertThrows(IllegalArgumentException.class, () -> set.claimRange(1, null));
    assertRanges(set, 5, 9);
  }

  @Test
  void shouldChargeClaimToLimitOnlyForNewRange() {
    RangeSet set = set(5, 9);
    set.setLimit(1);
    long[] start = {-1};
    assertEquals(-Errno.ENOMEM, set.claimRange(2, start));
    assertEquals(-1, start[0]);
    assertRanges(set, 5, 9);
    assertEquals(0, set.claimRange(5, start));
    assertEquals(0, start[0]);
    assertEquals(0, set.claimRange(3, start));
    assertEquals(10, start[0]);
    assertRanges(set, 0, 12);
  }

  // ---------------------------------------------------------------------------------------------
  // Consume.

  @Test
  void shouldConsumeEverything() {
    RangeSet set = set(0, 9, 20, 29, MAX - 1, MAX);
    List<String> offers = new ArrayList<>();
    int rc =
        set.consumeRanges(
            (s, e, consumed) -> {
              assertEquals(0, consumed[0]);
              offers.add(of(s, e));
              consumed[0] = e - s + 1;
              return 0;
            });
    assertEquals(0, rc);
    assertEquals(List.of(of(0, 9), of(20, 29), of(MAX - 1, MAX)), offers);
    assertRanges(set);
  }

  @Test
  void shouldConsumePartiallyUntilEmpty() {
    RangeSet set = set(0, 6, 20, 21);
    List<String> offers = new ArrayList<>();
    int rc =
        set.consumeRanges(
            (s, e, consumed) -> {
              offers.add(of(s, e));
              consumed[0] = Math.min(3, e - s + 1);
              return 0;
            });
    assertEquals(0, rc);
    assertEquals(List.of(of(0, 6), of(3, 6), of(6, 6), of(20, 21)), offers);
    assertRanges(set);
  }

  @Test
  void shouldStopConsumingAtCallbacksResultKeepingWhatWasConsumed() {
    RangeSet set = set(0, 9, 20, 29);
    int rc =
        set.consumeRanges(
            (s, e, consumed) -> {
              consumed[0] = 3;
              return -Errno.ERESTART;
            });
    assertEquals(-Errno.ERESTART, rc);
    assertRanges(set, 3, 9, 20, 29);

    int[] calls = {0};
    rc =
        set.consumeRanges(
            (s, e, consumed) -> {
              calls[0]++;
              consumed[0] = e - s + 1;
              return 7;
            });
    assertEquals(7, rc);
    assertEquals(1, calls[0]);
    assertRanges(set, 20, 29);

    rc = set.consumeRanges((s, e, consumed) -> 5); // consumes nothing, stops
    assertEquals(5, rc);
    assertRanges(set, 20, 29);
  }

  @Test
  void shouldNotCallConsumerOnEmptySet() {
    int[] calls = {0};
    assertEquals(
        0,
        newSet("e", 0)
            .consumeRanges(
                (s, e, consumed) -> {
                  calls[0]++;
                  return 1;
                }));
    assertEquals(0, calls[0]);
  }

  @Test
  void shouldRejectConsumingMoreThanTheRange() {
    RangeSet set = set(0, 9, 20, 29);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            set.consumeRanges(
                (s, e, consumed) -> {
                  consumed[0] = 11;
                  return 0;
                }));
    assertRanges(set, 0, 9, 20, 29);
  }

  @Test
  void shouldConsumeAtExtremesWithoutWrapping() {
    RangeSet set = set(5, MAX);
    assertEquals(
        0,
        set.consumeRanges(
            (s, e, consumed) -> {
              consumed[0] = e - s + 1;
              return 0;
            }));
    assertRanges(set);

    // [0, ~0] holds 2^64 values, more than a count can say: it can be consumed only in part.
    RangeSet all = set(0, MAX);
    assertEquals(
        1,
        all.consumeRanges(
            (s, e, consumed) -> {
              consumed[0] = MAX;
              return 1;
            }));
    assertRanges(all, MAX, MAX);
  }

  // ---------------------------------------------------------------------------------------------
  // Merge and subtract.

  @Test
  void shouldMergeAnotherSet() {
    RangeSet set = set(1, 3, 10, 12);
    RangeSet other = set(4, 5, 20, 22, MAX, MAX);
    assertEquals(0, set.merge(other));
    assertRanges(set, 1, 5, 10, 12, 20, 22, MAX, MAX);
    assertRanges(other, 4, 5, 20, 22, MAX, MAX);
    assertEquals(0, set.merge(newSet("empty", 0)));
    assertRanges(set, 1, 5, 10, 12, 20, 22, MAX, MAX);
  }

  @Test
  void shouldSubtractAnotherSet() {
    RangeSet set = set(0, 100);
    RangeSet other = set(10, 20, 50, 60, 1000, 2000);
    assertEquals(0, set.subtract(other));
    assertRanges(set, 0, 9, 21, 49, 61, 100);
    assertRanges(other, 10, 20, 50, 60, 1000, 2000);

    RangeSet v15 = set(0x10, 0x20, 0x30, 0x40, 0x50, 0x60);
    assertEquals(0, v15.subtract(set(0x35, MAX)));
    assertRanges(v15, 0x10, 0x20, 0x30, 0x34);
  }

  @Test
  void shouldMergeAndSubtractItself() {
    RangeSet set = set(1, 3, 10, 12);
    assertEquals(0, set.merge(set));
    assertRanges(set, 1, 3, 10, 12);
    assertEquals(0, set.subtract(set));
    assertRanges(set);
  }

  @Test
  void shouldKeepPartialMergeAndSubtractAtLimit() {
    RangeSet into = newSet("into", 0);
    into.setLimit(2);
    assertEquals(-Errno.ENOMEM, into.merge(set(1, 1, 3, 3, 5, 5)));
    assertRanges(into, 1, 1, 3, 3);

    RangeSet from = set(0, 100);
    from.setLimit(2);
    assertEquals(-Errno.ENOMEM, from.subtract(set(10, 10, 20, 20)));
    assertRanges(from, 0, 9, 11, 100);
  }

  // ---------------------------------------------------------------------------------------------
  // Purge, emptiness, count.

  @Test
  void shouldPurgeAndCount() {
    RangeSet set = newSet("p", 0);
    assertTrue(set.isEmpty());
    assertEquals(0, set.rangeCount());
    set.addRange(1, 2);
    set.addRange(4, 5);
    assertFalse(set.isEmpty());
    assertEquals(2, set.rangeCount());
    set.purge();
    assertRanges(set);
    set.purge();
    assertRanges(set);
    assertEquals(0, set.addRange(7, 8));
    assertRanges(set, 7, 8);
  }

  // ---------------------------------------------------------------------------------------------
  // Callbacks must not modify the set they run on.

  @Test
  void shouldRefuseModificationFromOwnVisitorAndKeepSet() {
    RangeSet set = set(10, 20, 30, 40);
    RangeSet other = set(50, 60);
    List<Consumer<RangeSet>> modifications =
        List.of(
            s -> s.addRange(50, 60),
            s -> s.addRange(12, 13),
            s -> s.removeRange(10, 10),
            s -> s.removeRange(100, 200),
            s -> s.purge(),
            s -> s.claimRange(1, new long[1]),
            s -> s.consumeRanges((a, b, c) -> 1),
            s -> s.merge(other),
            s -> s.subtract(other),
            s -> s.subtract(s));
    for (Consumer<RangeSet> modification : modifications) {
      assertThrows(
          IllegalStateException.class,
          () ->
              set.reportRanges(
                  0,
                  MAX,
                  (s, e) -> {
                    modification.accept(set);
                    return 0;
                  }));
      assertRanges(set, 10, 20, 30, 40);
      assertThrows(
          IllegalStateException.class,
          () ->
              set.consumeRanges(
                  (s, e, consumed) -> {
                    modification.accept(set);
                    return 1;
                  }));
      assertRanges(set, 10, 20, 30, 40);
    }
    // The refusals leave the set fully usable.
    assertEquals(0, set.addRange(21, 29));
    assertRanges(set, 10, 40);
  }

  @Test
  void shouldLetVisitorModifyAnotherSet() {
    RangeSet set = set(10, 20, 30, 40);
    RangeSet copy = newSet("copy", 0);
    assertEquals(0, set.reportRanges(0, MAX, copy::addRange));
    assertRanges(copy, 10, 20, 30, 40);
  }

  // ---------------------------------------------------------------------------------------------
  // Exhaustive small domain: every pair of add/remove operations on 0..8 against a boolean[].

  /** Largest value an operation touches; queries go one further, to 9. */
  private static final int SMALL_MAX = 8;

  /** Every add and remove of a range {@code [s, e]}, {@code 0 <= s <= e <= 8}: {kind, s, e}. */
  private static List<long[]> smallOps() {
    List<long[]> ops = new ArrayList<>(); // kind 1 is add, 0 is remove
    for (int kind = 1; kind >= 0; kind--) {
      for (int s = 0; s <= SMALL_MAX; s++) {
        for (int e = s; e <= SMALL_MAX; e++) {
          ops.add(new long[] {kind, s, e});
        }
      }
    }
    assertEquals(90, ops.size());
    return ops;
  }

  @Test
  void shouldMatchBruteForceOnEveryPairOfOperationsOverZeroToEight() {
    List<long[]> ops = smallOps();
    long[] actual = new long[16];
    for (long[] first : ops) {
      for (long[] second : ops) {
        RangeSet set = newSet("small", 0);
        boolean[] model = new boolean[SMALL_MAX + 2];
        Supplier<String> where = () -> describe(first) + " then " + describe(second);
        applySmall(set, model, first, where);
        checkSmall(set, model, actual, where);
        applySmall(set, model, second, where);
        checkSmall(set, model, actual, where);
      }
    }
  }

  /**
   * Pairs of operations on an empty set never remove across two ranges (that takes two adds first),
   * which is where Xen's remove bug lives; so also start from every subset of 0..8, built by adding
   * its maximal runs, and apply every single operation.
   */
  @Test
  void shouldMatchBruteForceOnEveryOperationFromEveryStateOverZeroToEight() {
    List<long[]> ops = smallOps();
    long[] actual = new long[16];
    for (int mask = 0; mask < 1 << (SMALL_MAX + 1); mask++) {
      for (long[] op : ops) {
        RangeSet set = newSet("states", 0);
        boolean[] model = new boolean[SMALL_MAX + 2];
        int initial = mask;
        Supplier<String> where =
            () -> "from " + Integer.toBinaryString(initial) + ", " + describe(op);
        for (int x = 0; x <= SMALL_MAX; x++) {
          if ((mask & 1 << x) != 0 && (x == 0 || (mask & 1 << (x - 1)) == 0)) {
            int end = x;
            while (end < SMALL_MAX && (mask & 1 << (end + 1)) != 0) {
              end++;
            }
            applySmall(set, model, new long[] {1, x, end}, where);
          }
        }
        applySmall(set, model, op, where);
        checkSmall(set, model, actual, where);
      }
    }
  }

  private static String describe(long[] op) {
    return (op[0] == 1 ? "add " : "remove ") + of(op[1], op[2]);
  }

  private static void applySmall(RangeSet set, boolean[] model, long[] op, Supplier<String> where) {
    int rc = op[0] == 1 ? set.addRange(op[1], op[2]) : set.removeRange(op[1], op[2]);
    if (rc != 0) {
      fail(where.get() + ": returned " + rc);
    }
    Arrays.fill(model, (int) op[1], (int) op[2] + 1, op[0] == 1);
  }

  private void checkSmall(RangeSet set, boolean[] model, long[] actual, Supplier<String> where) {
    if (!invariantsHold(set)) {
      fail(where.get() + ": invariants broken, " + set);
    }
    int n = model.length;
    for (int x = 0; x < n; x++) {
      if (set.containsSingleton(x) != model[x]) {
        fail(where.get() + ": containsSingleton(" + x + ") should be " + model[x] + " in " + set);
      }
    }
    for (int s = 0; s < n; s++) {
      boolean all = true;
      boolean any = false;
      for (int e = s; e < n; e++) {
        all &= model[e];
        any |= model[e];
        if (set.containsRange(s, e) != all) {
          fail(
              where.get()
                  + ": containsRange("
                  + s
                  + ", "
                  + e
                  + ") should be "
                  + all
                  + " in "
                  + set);
        }
        if (set.overlapsRange(s, e) != any) {
          fail(
              where.get()
                  + ": overlapsRange("
                  + s
                  + ", "
                  + e
                  + ") should be "
                  + any
                  + " in "
                  + set);
        }
      }
    }
    long[] runs = new long[2 * n];
    int size = 0;
    for (int x = 0; x < n; x++) {
      if (model[x] && (x == 0 || !model[x - 1])) {
        runs[size++] = x;
      }
      if (model[x] && (x == n - 1 || !model[x + 1])) {
        runs[size++] = x;
      }
    }
    checkRuns(set, Arrays.copyOf(runs, size), actual, where);
  }

  /** Checks the report of {@code [0, ~0]}, the count and emptiness against the expected runs. */
  private static void checkRuns(RangeSet set, long[] want, long[] actual, Supplier<String> where) {
    int[] size = {0};
    int rc =
        set.reportRanges(
            0,
            MAX,
            (s, e) -> {
              if (size[0] + 2 > actual.length) {
                return 1;
              }
              actual[size[0]++] = s;
              actual[size[0]++] = e;
              return 0;
            });
    if (rc != 0 || !Arrays.equals(want, Arrays.copyOf(actual, size[0]))) {
      fail(where.get() + ": report " + reported(set) + " should be " + of(want));
    }
    if (set.rangeCount() != want.length / 2 || set.isEmpty() != (want.length == 0)) {
      fail(where.get() + ": count " + set.rangeCount() + " should be " + want.length / 2);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Exhaustive extreme domain: ranges between 0, 1, ~0 - 1 and ~0, every sequence of three
  // add/remove operations, against a model of five segments whose coverage such ranges cannot
  // split.

  /** Segments {0}, {1}, [2, ~0 - 2], {~0 - 1}, {~0}: their lowest and highest values. */
  private static final long[] SEG_LO = {0, 1, 2, MAX - 1, MAX};

  private static final long[] SEG_HI = {0, 1, MAX - 2, MAX - 1, MAX};

  /** The four endpoint values and the segment each is in. */
  private static final long[] ENDPOINTS = {0, 1, MAX - 1, MAX};

  private static final int[] ENDPOINT_SEG = {0, 1, 3, 4};

  /** Probe values, ascending unsigned, and their segments. */
  private static final long[] PROBES = {
    0, 1, 2, Long.MAX_VALUE, Long.MIN_VALUE, MAX - 2, MAX - 1, MAX
  };

  private static final int[] PROBE_SEG = {0, 1, 2, 2, 2, 2, 3, 4};

  @Test
  void shouldMatchModelOnEveryTripleOfOperationsAtExtremes() {
    List<int[]> ops = new ArrayList<>(); // {kind (1 add, 0 remove), endpoint index i, j}
    for (int kind = 1; kind >= 0; kind--) {
      for (int i = 0; i < ENDPOINTS.length; i++) {
        for (int j = i; j < ENDPOINTS.length; j++) {
          ops.add(new int[] {kind, i, j});
        }
      }
    }
    assertEquals(20, ops.size());
    long[] actual = new long[16];
    for (int[] a : ops) {
      for (int[] b : ops) {
        for (int[] c : ops) {
          RangeSet set = newSet("extreme", 0);
          boolean[] model = new boolean[SEG_LO.length];
          int[][] sequence = {a, b, c};
          Supplier<String> where = () -> describeExtreme(sequence);
          for (int[] op : sequence) {
            applyExtreme(set, model, op, where);
            checkExtreme(set, model, actual, where);
          }
        }
      }
    }
  }

  private static String describeExtreme(int[][] sequence) {
    StringBuilder out = new StringBuilder();
    for (int[] op : sequence) {
      out.append(op[0] == 1 ? "add " : "remove ")
          .append(of(ENDPOINTS[op[1]], ENDPOINTS[op[2]]))
          .append("; ");
    }
    return out.toString();
  }

  private static void applyExtreme(
      RangeSet set, boolean[] model, int[] op, Supplier<String> where) {
    long s = ENDPOINTS[op[1]];
    long e = ENDPOINTS[op[2]];
    int rc = op[0] == 1 ? set.addRange(s, e) : set.removeRange(s, e);
    if (rc != 0) {
      fail(where.get() + ": returned " + rc);
    }
    Arrays.fill(model, ENDPOINT_SEG[op[1]], ENDPOINT_SEG[op[2]] + 1, op[0] == 1);
  }

  private void checkExtreme(RangeSet set, boolean[] model, long[] actual, Supplier<String> where) {
    if (!invariantsHold(set)) {
      fail(where.get() + ": invariants broken, " + set);
    }
    for (int p = 0; p < PROBES.length; p++) {
      if (set.containsSingleton(PROBES[p]) != model[PROBE_SEG[p]]) {
        fail(where.get() + ": containsSingleton(0x" + Long.toHexString(PROBES[p]) + ") in " + set);
      }
      for (int q = p; q < PROBES.length; q++) {
        boolean all = true;
        boolean any = false;
        for (int seg = PROBE_SEG[p]; seg <= PROBE_SEG[q]; seg++) {
          all &= model[seg];
          any |= model[seg];
        }
        String range = of(PROBES[p], PROBES[q]);
        if (set.containsRange(PROBES[p], PROBES[q]) != all) {
          fail(where.get() + ": containsRange" + range + " should be " + all + " in " + set);
        }
        if (set.overlapsRange(PROBES[p], PROBES[q]) != any) {
          fail(where.get() + ": overlapsRange" + range + " should be " + any + " in " + set);
        }
      }
    }
    long[] runs = new long[2 * model.length];
    int size = 0;
    for (int seg = 0; seg < model.length; seg++) {
      if (model[seg] && (seg == 0 || !model[seg - 1])) {
        runs[size++] = SEG_LO[seg];
      }
      if (model[seg] && (seg == model.length - 1 || !model[seg + 1])) {
        runs[size++] = SEG_HI[seg];
      }
    }
    checkRuns(set, Arrays.copyOf(runs, size), actual, where);
  }
}
