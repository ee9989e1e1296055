package org.hvmmu.rangeset.owned;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

class OwnedRangesTest {
  private static RangeSet set() {
    return new IntervalTreeRangeSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX);
  }

  @Test
  void shouldKeepASharedFrameWhileAnotherRegistrantCoversIt() {
    OwnedRanges r = new OwnedRanges(set(), RemovalPolicy.OWNERSHIP_AWARE);
    int a = r.newRegistrant("A");
    int b = r.newRegistrant("B");
    assertEquals(0, r.add(a, 0xe0840, 0xe0842));
    assertEquals(0, r.add(b, 0xe0842, 0xe0842));
    assertEquals(0, r.remove(a, 0xe0840, 0xe0842));
    // Only 0xe0842 is still registered (by B).
    assertEquals("r/o mmio ranges { e0842 }", r.target().toString());
    assertTrue(r.violations().isEmpty(), r.violations().toString());
    assertEquals(0, r.remove(b, 0xe0842, 0xe0842));
    assertTrue(r.target().isEmpty());
    assertTrue(r.checkInvariants());
  }

  @Test
  void xenPolicyShouldUnprotectASharedFrameForEveryone() {
    OwnedRanges r = new OwnedRanges(set(), RemovalPolicy.XEN_UNREFCOUNTED);
    int a = r.newRegistrant("A");
    int b = r.newRegistrant("B");
    assertEquals(0, r.add(a, 0xe0840, 0xe0842));
    assertEquals(0, r.add(b, 0xe0842, 0xe0842));
    assertEquals(0, r.remove(a, 0xe0840, 0xe0842));
    assertTrue(r.target().isEmpty());
    assertTrue(r.holds(b, 0xe0842, 0xe0842));
    assertEquals(
        List.of("frames e0842 are registered but not in \"r/o mmio ranges\""), r.violations());
    // Xen removes what it is told to, held or not.
    assertEquals(0, r.add(b, 0x10, 0x12));
    assertEquals(0, r.remove(a, 0x11, 0x11));
    assertEquals("r/o mmio ranges { 10, 12 }", r.target().toString());
    assertTrue(r.checkInvariants());
  }

  @Test
  void shouldRefuseToRemoveWhatTheRegistrantDoesNotHold() {
    OwnedRanges r = new OwnedRanges(set(), RemovalPolicy.OWNERSHIP_AWARE);
    int a = r.newRegistrant("A");
    int b = r.newRegistrant("B");
    assertEquals(0, r.add(a, 5, 9));
    assertEquals(-Errno.ENOENT, r.remove(b, 5, 9));
    assertEquals(-Errno.ENOENT, r.remove(a, 5, 8));
    assertEquals("r/o mmio ranges { 5-9 }", r.target().toString());
  }

  @Test
  void shouldCountRepeatedRegistrations() {
    OwnedRanges r = new OwnedRanges(set(), RemovalPolicy.OWNERSHIP_AWARE);
    int a = r.newRegistrant("A");
    assertEquals(0, r.add(a, 5, 9));
    assertEquals(0, r.add(a, 5, 9));
    assertEquals(2, r.registrationCount(a));
    assertEquals(0, r.remove(a, 5, 9));
    assertTrue(r.target().containsRange(5, 9));
    assertEquals(0, r.remove(a, 5, 9));
    assertTrue(r.target().isEmpty());
    assertEquals(-Errno.ENOENT, r.remove(a, 5, 9));
  }

  @Test
  void shouldRemoveOnlyTheGapsBetweenOtherRegistrations() {
    // A holds [0, 20]; B [2, 3], C [5, 12] and D [10, 15] overlap it. Removing A leaves
    // [2, 3] and [5, 15]: the gaps 0-1, 4 and 16-20 go.
    OwnedRanges r = new OwnedRanges(set(), RemovalPolicy.OWNERSHIP_AWARE);
    int a = r.newRegistrant("A");
    int b = r.newRegistrant("B");
    int c = r.newRegistrant("C");
    int d = r.newRegistrant("D");
    assertEquals(0, r.add(b, 2, 3));
    assertEquals(0, r.add(c, 5, 12));
    assertEquals(0, r.add(d, 10, 15));
    assertEquals(0, r.add(a, 0, 20));
    assertEquals("r/o mmio ranges { 0-14 }", r.target().toString()); // [0, 20] in hex
    assertEquals(0, r.remove(a, 0, 20));
    assertEquals("r/o mmio ranges { 2-3, 5-f }", r.target().toString());
    assertTrue(r.violations().isEmpty());
  }

  @Test
  void shouldHandleTheTopOfTheUnsignedRange() {
    OwnedRanges r = new OwnedRanges(set(), RemovalPolicy.OWNERSHIP_AWARE);
    int a = r.newRegistrant("A");
    int b = r.newRegistrant("B");
    assertEquals(0, r.add(a, -4L, -1L));
    assertEquals(0, r.add(b, -2L, -1L));
    assertEquals(0, r.remove(a, -4L, -1L));
    assertEquals("r/o mmio ranges { fffffffffffffffe-ffffffffffffffff }", r.target().toString());
    assertEquals(0, r.add(a, 0, -1L));
    assertEquals(0, r.remove(b, -2L, -1L));
    assertEquals("r/o mmio ranges { 0-ffffffffffffffff }", r.target().toString());
    assertTrue(r.checkInvariants());
  }

  @Test
  void shouldLeaveEarlierRegistrationsIntactWhenTheLimitIsReached() {
    RangeSet ro = set();
    OwnedRanges r = new OwnedRanges(ro, RemovalPolicy.OWNERSHIP_AWARE);
    ro.setLimit(2);
    int a = r.newRegistrant("A");
    int b = r.newRegistrant("B");
    assertEquals(0, r.add(a, 0x10, 0x10));
    assertEquals(0, r.add(a, 0x20, 0x20));
    assertEquals(-Errno.ENOMEM, r.add(b, 0x30, 0x30));
    assertFalse(r.holds(b, 0x30, 0x30));
    // Merging needs no new range: allowed at the limit.
    assertEquals(0, r.add(b, 0x11, 0x11));
    assertEquals("r/o mmio ranges { 10-11, 20 }", ro.toString());
    assertTrue(r.violations().isEmpty());
  }

  @Test
  void aRemovalThatWouldSplitAtTheLimitShouldChangeNothing() {
    RangeSet ro = set();
    OwnedRanges r = new OwnedRanges(ro, RemovalPolicy.OWNERSHIP_AWARE);
    int host = r.newRegistrant("host");
    int dev = r.newRegistrant("dev");
    assertEquals(0, r.add(host, 0x10, 0x12));
    assertEquals(0, r.add(dev, 0x13, 0x13));
    assertEquals(0, r.add(host, 0x14, 0x16));
    assertEquals(0, r.add(host, 0x20, 0x20));
    ro.setLimit(2); // { 10-16, 20 }: removing 0x13 would need a third range
    assertEquals(-Errno.ENOMEM, r.remove(dev, 0x13, 0x13));
    assertTrue(r.holds(dev, 0x13, 0x13));
    assertEquals("r/o mmio ranges { 10-16, 20 }", ro.toString());
    assertTrue(r.violations().isEmpty());
    // Several gaps: host [10,12], [14,16] and [20] are removed by host one by one; the dev frame stays.
    ro.setLimit(RangeSet.UNLIMITED);
    assertEquals(0, r.removeAll(host));
    assertEquals("r/o mmio ranges { 13 }", ro.toString());
  }

  @Test
  void aFailedRemovalOfSeveralGapsShouldPutBackTheGapsAlreadyRemoved() {
    // A holds [0, 9]; B holds 2 and 6. Removing A removes the gap 0-1 (a trim), then 3-5, a split
    // that needs a third range: refused at limit 2, so 0-1 comes back.
    RangeSet ro = set();
    OwnedRanges r = new OwnedRanges(ro, RemovalPolicy.OWNERSHIP_AWARE);
    int a = r.newRegistrant("A");
    int b = r.newRegistrant("B");
    assertEquals(0, r.add(a, 0, 9));
    assertEquals(0, r.add(b, 2, 2));
    assertEquals(0, r.add(b, 6, 6));
    assertEquals(0, r.add(b, 0x20, 0x20));
    ro.setLimit(2);
    assertEquals(-Errno.ENOMEM, r.remove(a, 0, 9));
    assertEquals("r/o mmio ranges { 0-9, 20 }", ro.toString());
    assertTrue(r.holds(a, 0, 9));
    assertTrue(r.violations().isEmpty());
  }

  @Test
  void shouldReportFramesAddedBehindItsBack() {
    RangeSet ro = set();
    OwnedRanges r = new OwnedRanges(ro, RemovalPolicy.OWNERSHIP_AWARE);
    int a = r.newRegistrant("A");
    assertEquals(0, r.add(a, 1, 1));
    ro.addRange(5, 6);
    assertEquals(
        List.of("frames 5-6 are in \"r/o mmio ranges\" but registered by no one"), r.violations());
    assertFalse(r.checkInvariants());
  }

  @Test
  void shouldRejectCallerErrors() {
    RangeSet ro = set();
    ro.addSingleton(1);
    assertThrows(
        IllegalArgumentException.class, () -> new OwnedRanges(ro, RemovalPolicy.OWNERSHIP_AWARE));
    OwnedRanges r = new OwnedRanges(set(), RemovalPolicy.OWNERSHIP_AWARE);
    assertThrows(IllegalArgumentException.class, () -> r.add(0, 1, 1));
    int a = r.newRegistrant("A");
    assertThrows(IllegalArgumentException.class, () -> r.add(a, 2, 1));
    assertThrows(IllegalArgumentException.class, () -> r.remove(a + 1, 1, 1));
    assertEquals("A", r.registrantName(a));
    assertEquals(1, r.registrantCount());
  }

  @Test
  void shouldDescribeItself() {
    OwnedRanges r = new OwnedRanges(set(), RemovalPolicy.OWNERSHIP_AWARE);
    int a = r.newRegistrant("IO-APIC 0");
    int b = r.newRegistrant("0000:01:00.0 MSI-X");
    r.add(a, 0xfec00, 0xfec00);
    r.add(b, 0xe0840, 0xe0840);
    r.add(b, 0xe0842, 0xe0843);
    assertEquals(
        "r/o mmio ranges: IO-APIC 0 { fec00 }, 0000:01:00.0 MSI-X { e0840, e0842-e0843 }",
        r.toString());
    assertTrue(r.isRegistered(0xe0843));
    assertFalse(r.isRegistered(0xe0841));
    assertEquals(3, r.registrationCount());
  }
}
