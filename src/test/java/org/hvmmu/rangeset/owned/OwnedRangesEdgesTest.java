package org.hvmmu.rangeset.owned;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * Argument checks, the registration walk's order and early stop, and {@link
 * OwnedRanges#removeAll} when one removal fails: the target's range limit (Xen's {@code
 * rangeset_limit}: no range left to allocate) makes a removal that splits a range fail with
 * -ENOMEM, and that registration stays while the others go. (hvmmu's limit counts the ranges a
 * set may hold, so a limit equal to the ranges held leaves none to allocate.)
 */
class OwnedRangesEdgesTest {
  private static OwnedRanges owned() {
    return new OwnedRanges(
        new IntervalTreeRangeSet("r/o", RangeSet.PRETTYPRINT_HEX), RemovalPolicy.OWNERSHIP_AWARE);
  }

  @Test
  void invertedRangesAreRejected() {
    OwnedRanges r = owned();
    int a = r.newRegistrant("a");
    assertThrows(IllegalArgumentException.class, () -> r.add(a, 5, 4));
    assertThrows(IllegalArgumentException.class, () -> r.remove(a, 5, 4));
    assertEquals(0, r.add(a, 4, 4));
    assertEquals(0, r.add(a, -1L, -1L));
    assertTrue(r.holds(a, -1L, -1L));
    assertEquals(2, r.registrationCount(a));
  }

  @Test
  void registrationsAreVisitedByRegistrantThenInOrderMade() {
    OwnedRanges r = owned();
    int a = r.newRegistrant("a");
    int b = r.newRegistrant("b");
    assertEquals(0, r.add(b, 7, 8));
    assertEquals(0, r.add(a, 30, 30));
    assertEquals(0, r.add(a, 1, 2));
    List<String> seen = new ArrayList<>();
    assertEquals(0, r.forEachRegistration((id, s, e) -> {
      seen.add(id + ":" + s + "-" + e);
      return 0;
    }));
    assertEquals(List.of(a + ":30-30", a + ":1-2", b + ":7-8"), seen);
    List<String> first = new ArrayList<>();
    assertEquals(9, r.forEachRegistration((id, s, e) -> {
      first.add(id + ":" + s + "-" + e);
      return 9;
    }));
    assertEquals(List.of(a + ":30-30"), first);
    assertTrue(r.isRegistered(8));
    assertFalse(r.isRegistered(9));
  }

  @Test
  void removeAllKeepsWhatItCannotRemove() {
    OwnedRanges r = owned();
    int a = r.newRegistrant("a");
    int c = r.newRegistrant("c");
    // The target holds [0, 100] (a's [10, 20] inside c's) and [200, 200].
    assertEquals(0, r.add(c, 0, 9));
    assertEquals(0, r.add(c, 21, 100));
    assertEquals(0, r.add(a, 10, 20));
    assertEquals(0, r.add(a, 200, 200));
    assertEquals(2, r.target().rangeCount());
    r.target().setLimit(2);
    // [10, 20] would split [0, 100]: -ENOMEM, kept. [200, 200] goes.
    assertEquals(-Errno.ENOMEM, r.removeAll(a));
    assertEquals(1, r.registrationCount(a));
    assertTrue(r.holds(a, 10, 20));
    assertFalse(r.isRegistered(200));
    assertTrue(r.target().containsRange(0, 100));
    assertFalse(r.target().containsSingleton(200));
    // With room again, the rest goes.
    r.target().setLimit(RangeSet.UNLIMITED);
    assertEquals(0, r.removeAll(a));
    assertEquals(0, r.registrationCount(a));
    assertFalse(r.target().overlapsRange(10, 20));
    assertTrue(r.target().containsRange(0, 9));
  }

  @Test
  void violationsNameWhatTheTargetLostAndGainedBehindTheRegistrysBack() {
    OwnedRanges r = owned();
    int a = r.newRegistrant("a");
    int b = r.newRegistrant("b");
    // Registered: [0x10, 0x30] (two overlapping), [0x40, 0x50] (adjacent across registrants),
    // and ten single frames 0x100, 0x110, ..., 0x190: twelve ranges in the union.
    assertEquals(0, r.add(a, 0x10, 0x20));
    assertEquals(0, r.add(a, 0x15, 0x30));
    assertEquals(0, r.add(a, 0x40, 0x40));
    assertEquals(0, r.add(b, 0x41, 0x50));
    for (long x = 0x100; x <= 0x190; x += 0x10) {
      assertEquals(0, r.add(b, x, x));
    }
    assertEquals(List.of(), r.violations());
    assertEquals(12, r.target().rangeCount());
    // Behind its back: frames 0x25-0x26 and 0x190 leave the target, 0x60-0x61 and 0x200 join.
    assertEquals(0, r.target().removeRange(0x25, 0x26));
    assertEquals(0, r.target().removeRange(0x190, 0x190));
    assertEquals(0, r.target().addRange(0x60, 0x61));
    assertEquals(0, r.target().addRange(0x200, 0x200));
    assertEquals(
        List.of(
            "frames 25-26 are registered but not in \"r/o\"",
            "frames 190 are registered but not in \"r/o\"",
            "frames 60-61 are in \"r/o\" but registered by no one",
            "frames 200 are in \"r/o\" but registered by no one"),
        r.violations());
  }

  /**
   * The invariant check's set difference of sorted, disjoint ranges, by hand: a piece of {@code b}
   * ending exactly at a range's end removes the rest of it, one ending before it leaves a tail.
   */
  @Test
  void theCheckersDifferenceShouldKeepExactlyThePartsOutside() {
    long[] a = {10, 20};
    assertArrayEquals(new long[] {10, 20}, OwnedRanges.subtract(a, new long[] {0, 9}));
    assertArrayEquals(new long[] {11, 20}, OwnedRanges.subtract(a, new long[] {0, 10}));
    assertArrayEquals(new long[] {10, 11, 15, 20}, OwnedRanges.subtract(a, new long[] {12, 14}));
    assertArrayEquals(new long[] {10, 11}, OwnedRanges.subtract(a, new long[] {12, 20}));
    assertArrayEquals(new long[] {10, 18}, OwnedRanges.subtract(a, new long[] {19, 30}));
    assertArrayEquals(new long[] {10, 19, 21, 21}, OwnedRanges.subtract(
        new long[] {10, 21}, new long[] {20, 20}));
    assertArrayEquals(new long[] {}, OwnedRanges.subtract(a, new long[] {10, 20}));
    assertArrayEquals(new long[] {0, 2, 13, 20, 30, 34, 36, 40},
        OwnedRanges.subtract(new long[] {0, 5, 10, 20, 30, 40}, new long[] {3, 12, 35, 35}));
    assertArrayEquals(new long[] {0, -2L}, OwnedRanges.subtract(
        new long[] {0, -1L}, new long[] {-1L, -1L}));
  }
}
