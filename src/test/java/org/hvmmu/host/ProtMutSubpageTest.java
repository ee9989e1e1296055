package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.access.SubpageState;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * The two sub-page structures at their edges. {@link SubpageList} is Xen's {@code
 * subpage_ro_ranges} ({@code subpage_mmio_ro_add} and {@code subpage_mmio_find_page} in
 * RELEASE-4.22.0's {@code xen/arch/x86/mm.c}): one bitmap of 512 read-only 8-byte slots per frame,
 * in frame order, only ever added to. {@link SubpageBytes} is hvmmu's byte-granular, owned variant
 * ({@code roMmio.subpageOwnedBytes} in docs/policy.md): byte addresses stop at 2^52 (MAXPHYADDR),
 * a frame at or past 2^40 has no bytes there. Every expected value is computed by hand in the test:
 * which slot or byte a store touches, what a frame number shifted by 12 is, and the results {@code
 * OwnedRanges} documents ({@code -ENOENT} for a registration not held, {@code -ENOMEM} at the
 * set's limit).
 */
class ProtMutSubpageTest {
  private static final long LIMIT = 1L << 52;

  // ---- SubpageList (Xen 4.22) ------------------------------------------------------------------

  @Test
  void aSecondAddToTheFirstFrameKeepsItsEarlierSlots() {
    SubpageList list = new SubpageList();
    assertTrue(list.isEmpty(), "subpage_ro_active is false before any add");
    list.add(5, 0, 8); // slot 0
    assertFalse(list.isEmpty());
    list.add(5, 8, 16); // slot 1, same frame: its bitmap gains a bit
    assertEquals(SubpageState.READ_ONLY_SLOT, list.state(5, 0));
    assertEquals(SubpageState.READ_ONLY_SLOT, list.state(5, 7));
    assertEquals(SubpageState.READ_ONLY_SLOT, list.state(5, 8));
    assertEquals(SubpageState.WRITABLE_SLOT, list.state(5, 16));
    assertEquals(SubpageState.NONE, list.state(6, 0));
  }

  @Test
  void aFrameAddedBelowTheOthersShiftsThemUp() {
    SubpageList list = new SubpageList();
    list.add(10, 0x100, 0x108); // slot 32
    list.add(20, 0x200, 0x208); // slot 64
    list.add(5, 0, 8); // inserted at index 0: frames 10 and 20 move up with their bitmaps
    assertEquals(SubpageState.READ_ONLY_SLOT, list.state(5, 0));
    assertEquals(SubpageState.WRITABLE_SLOT, list.state(5, 8));
    assertEquals(SubpageState.READ_ONLY_SLOT, list.state(10, 0x100));
    assertEquals(SubpageState.READ_ONLY_SLOT, list.state(10, 0x107));
    assertEquals(SubpageState.WRITABLE_SLOT, list.state(10, 0x0f8));
    assertEquals(SubpageState.WRITABLE_SLOT, list.state(10, 0x108));
    assertEquals(SubpageState.READ_ONLY_SLOT, list.state(20, 0x200));
    assertEquals(SubpageState.WRITABLE_SLOT, list.state(20, 0x100));
    // The offset is taken within the page: 0x1200 & 0xfff is 0x200.
    assertEquals(SubpageState.READ_ONLY_SLOT, list.state(20, 0x1200));
    list.add(15, 0xff8, 0x1000); // slot 511, the last: in the middle of the list
    assertEquals(SubpageState.READ_ONLY_SLOT, list.state(15, 0xfff));
    assertEquals(SubpageState.WRITABLE_SLOT, list.state(15, 0xff7));
    assertEquals(SubpageState.READ_ONLY_SLOT, list.state(20, 0x200));
    assertEquals(SubpageState.READ_ONLY_SLOT, list.state(10, 0x100));
  }

  // ---- SubpageBytes (hardened) -----------------------------------------------------------------

  @Test
  void bytesAtOrPastTwoToThe52AreNotRegistered() {
    SubpageBytes b = new SubpageBytes();
    assertEquals(0, b.add("a", LIMIT, LIMIT + 15));
    assertEquals(0, b.add("a", LIMIT + 0x5000, LIMIT + 0x5fff));
    assertEquals(0, b.remove("a", LIMIT, LIMIT + 15));
    assertTrue(b.set().isEmpty());
    assertFalse(b.holds("a"));
    // A range that crosses the limit is cut at 2^52 - 1.
    assertEquals(0, b.add("a", LIMIT - 16, LIMIT + 100));
    assertTrue(b.set().containsRange(LIMIT - 16, LIMIT - 1));
    assertEquals(1, b.set().rangeCount());
    assertEquals(0, b.remove("a", LIMIT - 16, LIMIT + 100));
    assertTrue(b.set().isEmpty());
  }

  @Test
  void framesWhoseByteAddressWrapsAreNotRegistered() {
    SubpageBytes b = new SubpageBytes();
    // Frame 2^52 would be byte address 2^64, which a long shifted left by 12 wraps to 0.
    assertEquals(0, b.addFrames("a", 1L << 52, 1L << 52));
    assertTrue(b.set().isEmpty());
    assertEquals(0, b.removeFrames("a", 1L << 52, (1L << 52) + 1));
    // Frames 5 up to 2^52: bytes 0x5000 up to 2^52 - 1 (the last frame's end is cut, not wrapped).
    assertEquals(0, b.addFrames("a", 5, 1L << 52));
    assertTrue(b.set().containsRange(0x5000, LIMIT - 1));
    assertFalse(b.set().containsSingleton(0x4fff));
    assertEquals(0, b.removeFrames("a", 5, 1L << 52));
    assertTrue(b.set().isEmpty());
    // Frames 3 to 4: bytes 0x3000 to 0x4fff.
    assertEquals(0, b.addFrames("a", 3, 4));
    assertTrue(b.set().containsRange(0x3000, 0x4fff));
    assertFalse(b.set().containsSingleton(0x5000));
    assertFalse(b.set().containsSingleton(0x2fff));
  }

  @Test
  void removingWhatIsNotHeldIsEnoent() {
    SubpageBytes b = new SubpageBytes();
    assertEquals(0, b.add("a", 0x1000, 0x1007));
    assertEquals(-Errno.ENOENT, b.removeFrames("a", 1, 1), "a holds 8 bytes, not the frame");
    assertEquals(-Errno.ENOENT, b.remove("b", 0x1000, 0x1007), "b holds nothing");
    assertTrue(b.holds("a"));
    assertFalse(b.holds("b"));
    assertEquals(0, b.removeAll("never registered"));
    assertEquals(0, b.remove("a", 0x1000, 0x1007));
    assertFalse(b.holds("a"), "a registrant with no registration left holds nothing");
    assertEquals(0, b.addFrames("b", 1, 1));
    assertTrue(b.holds("b"));
    assertEquals(1, b.registry().registrationCount(1), "b is the second registrant");
    assertEquals(0, b.registry().registrationCount(0));
    assertEquals(0, b.removeAll("b"));
    assertFalse(b.holds("b"));
    assertTrue(b.set().isEmpty());
  }

  @Test
  void errorsOfTheRangeSetAreReturned() {
    SubpageBytes b = new SubpageBytes();
    assertEquals(0, b.add("b", 0, 0xff));
    assertEquals(0, b.add("b", 0xf00, 0xfff));
    assertEquals(0, b.add("a", 0, 0xfff)); // one range [0, 0xfff] now
    assertEquals(1, b.set().rangeCount());
    b.set().setLimit(1);
    // A new range is refused at the limit.
    assertEquals(-Errno.ENOMEM, b.add("a", 0x2000, 0x2007));
    assertEquals(-Errno.ENOMEM, b.addFrames("a", 3, 3));
    // Removing a's registration would leave [0, 0xff] and [0xf00, 0xfff]: two ranges.
    assertEquals(-Errno.ENOMEM, b.removeAll("a"));
    assertTrue(b.holds("a"));
    assertTrue(b.set().containsRange(0, 0xfff));
    // report passes the visitor's first non-zero value on.
    assertEquals(7, b.report(0, 0xffff, (s, e) -> 7));
    List<long[]> seen = new ArrayList<>();
    assertEquals(0, b.report(0x10, 0x20, (s, e) -> {
      seen.add(new long[] {s, e});
      return 0;
    }));
    assertEquals(1, seen.size());
    assertEquals(0x10, seen.get(0)[0]);
    assertEquals(0x20, seen.get(0)[1]);
  }

  @Test
  void aFrameWhoseByteAddressWrapsHasNoSubpageState() {
    SubpageBytes b = new SubpageBytes();
    assertEquals(0, b.add("a", 0x10, 0x17)); // frame 0 is a sub-page frame
    assertEquals(SubpageState.READ_ONLY_SLOT, b.state(0, 0x10, 4));
    assertEquals(SubpageState.WRITABLE_SLOT, b.state(0, 0x18, 4));
    assertEquals(SubpageState.WRITABLE_SLOT, b.state(0, 0x0c, 4));
    assertEquals(SubpageState.READ_ONLY_SLOT, b.state(0, 0x0c, 5));
    // Frames 2^40 and 2^52 lie past the limit (2^52 << 12 wraps to byte 0): not sub-page frames.
    assertEquals(SubpageState.NONE, b.state(1L << 52, 0x10, 4));
    assertEquals(SubpageState.NONE, b.state(1L << 40, 0x10, 4));
    assertEquals(SubpageState.NONE, b.state(1, 0x10, 4));
  }
}
