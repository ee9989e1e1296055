package org.hvmmu.x86.pv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;
import org.hvmmu.xen.HypervisorBugException;
import org.junit.jupiter.api.Test;

/**
 * The frame table's count arithmetic word by word, against Xen 4.22's {@code _get_page_type},
 * {@code _put_page_type}, {@code page_lock_unsafe} / {@code page_unlock}, the linear-table counts
 * ({@code inc_linear_entries} and friends) and the bit layout of {@code asm/mm.h}: every expected
 * {@code type_info} and {@code count_info} word is composed by hand from that layout (type in bits
 * 63:61, pinned 60, validated 59, pae_xen_l2 58, locked 56, count 55:0; allocated 63, xen_heap 62,
 * cache attribute 60:58, count 54:0). A recording {@link PageTableValidation} stands for the MMU.
 */
class FrameTableCountsTest {
  // Hand-composed type_info bits (asm/mm.h: PG_shift(idx) is bit 64 - idx).
  private static final long L1 = 1L << 61;
  private static final long L2 = 2L << 61;
  private static final long WRITABLE = 7L << 61;
  private static final long PINNED = 1L << 60;
  private static final long VALIDATED = 1L << 59;
  private static final long PAE_XEN_L2 = 1L << 58;
  private static final long LOCKED = 1L << 56;
  // Hand-composed count_info bits.
  private static final long ALLOCATED = 1L << 63;
  private static final long XEN_HEAP = 1L << 62;

  /** Records the frame table's calls into the MMU; validation answers {@link #answer}. */
  private static final class Recorder implements PageTableValidation {
    final List<String> calls = new ArrayList<>();
    int answer;
    /** Runs inside the validation, while the frame is typed, counted and not yet validated. */
    Runnable duringValidation = () -> {};

    @Override
    public int allocPageType(long mfn, PageType type) {
      calls.add("alloc " + Long.toHexString(mfn) + " " + type);
      duringValidation.run();
      return answer;
    }

    @Override
    public void freePageType(long mfn, PageType type, int depth) {
      calls.add("free " + Long.toHexString(mfn) + " " + type + " " + depth);
    }

    @Override
    public void typeChanged(long mfn, PageType from, PageType to) {
      calls.add("changed " + Long.toHexString(mfn) + " " + from + " " + to);
    }
  }

  private static final PageType L2_TYPE = PageType.L2_PAGE_TABLE;

  private final Recorder recorder = new Recorder();

  private FrameTable table() {
    FrameTable t = new FrameTable(16);
    t.setValidation(recorder);
    t.assignRange(1, 8, 1);
    return t;
  }

  @Test
  void aFreshTableTypeIsValidatedOnceThenCounted() {
    FrameTable t = table();
    assertEquals(0, t.getPageType(2, PageType.L1_PAGE_TABLE));
    // From type none, count 0: the type changes, the frame is validated, count 1.
    assertEquals(L1 | VALIDATED | 1, t.typeInfo(2));
    assertEquals(List.of("changed 2 NONE L1_PAGE_TABLE", "alloc 2 L1_PAGE_TABLE"),
        recorder.calls);
    assertEquals(0, t.getPageType(2, PageType.L1_PAGE_TABLE));
    assertEquals(L1 | VALIDATED | 2, t.typeInfo(2));
    assertEquals(2, recorder.calls.size(), "a validated frame is not validated again");
    assertTrue(t.isLiveL1Table(2));
    assertTrue(t.isLiveTable(2, PageType.L1_PAGE_TABLE));
    assertFalse(t.isLiveTable(2, PageType.L2_PAGE_TABLE));
    // Another type while in use: -EINVAL, nothing taken.
    assertEquals(-Errno.EINVAL, t.getPageType(2, PageType.WRITABLE_PAGE));
    assertEquals(-Errno.EINVAL, t.getPageType(2, PageType.L2_PAGE_TABLE));
    assertEquals(L1 | VALIDATED | 2, t.typeInfo(2));
  }

  @Test
  void theLastTypeReferenceOfATableFreesItAndKeepsTheType() {
    FrameTable t = table();
    assertEquals(0, t.getPageType(3, PageType.L1_PAGE_TABLE));
    assertEquals(0, t.getPageType(3, PageType.L1_PAGE_TABLE));
    assertTrue(t.testAndSetPinned(3));
    recorder.calls.clear();
    t.putPageType(3);
    assertEquals(L1 | PINNED | VALIDATED | 1, t.typeInfo(3));
    assertEquals(List.of(), recorder.calls, "not the last reference");
    // _put_page_type, count 1 to 0 of a validated table: unvalidate (and unpin), free, count 0.
    t.putPageType(3, 2);
    assertEquals(L1, t.typeInfo(3));
    assertEquals(List.of("free 3 L1_PAGE_TABLE 2"), recorder.calls);
    assertFalse(t.isLiveL1Table(3));
    assertEquals(PageType.L1_PAGE_TABLE, t.pageType(3));
    // Taken again as L1: same type, so no type change, but a fresh validation.
    recorder.calls.clear();
    assertEquals(0, t.getPageType(3, PageType.L1_PAGE_TABLE));
    assertEquals(List.of("alloc 3 L1_PAGE_TABLE"), recorder.calls);
    assertEquals(L1 | VALIDATED | 1, t.typeInfo(3));
    assertThrows(HypervisorBugException.class, () -> new FrameTable(4).putPageType(1));
  }

  @Test
  void writablePagesAreValidatedWithoutLookingAndKeepValidatedAtCountZero() {
    FrameTable t = table();
    assertEquals(0, t.getPageType(4, PageType.WRITABLE_PAGE));
    // _get_page_type: "No special validation needed for writable or shared pages."
    assertEquals(WRITABLE | VALIDATED | 1, t.typeInfo(4));
    assertEquals(List.of("changed 4 NONE WRITABLE_PAGE"), recorder.calls);
    t.putPageType(4);
    assertEquals(WRITABLE | VALIDATED, t.typeInfo(4), "no free_page_type for a writable page");
    assertEquals(1, recorder.calls.size());
    // Count 0: the type may change; the writable-to-table change is reported (Xen flushes).
    assertEquals(0, t.getPageType(4, PageType.L2_PAGE_TABLE));
    assertEquals(L2 | VALIDATED | 1, t.typeInfo(4));
    assertEquals(List.of("changed 4 NONE WRITABLE_PAGE", "changed 4 WRITABLE_PAGE L2_PAGE_TABLE",
        "alloc 4 L2_PAGE_TABLE"), recorder.calls);
    // A shared page needs no validation either; a seg-desc page does.
    assertEquals(0, t.getPageType(5, PageType.SHARED_PAGE));
    assertEquals((6L << 61) | VALIDATED | 1, t.typeInfo(5));
    assertEquals(0, t.getPageType(6, PageType.SEG_DESC_PAGE));
    assertEquals("alloc 6 SEG_DESC_PAGE", recorder.calls.get(recorder.calls.size() - 1));
  }

  @Test
  void aFailedValidationLeavesTheFrameUntypedAndItsPinCleared() {
    FrameTable t = table();
    assertEquals(0, t.getPageType(5, PageType.L1_PAGE_TABLE));
    assertTrue(t.testAndSetPinned(5));
    assertFalse(t.testAndSetPinned(5), "test_and_set_bit: already set");
    assertTrue(t.testAndClearPinned(5));
    assertFalse(t.testAndClearPinned(5), "test_and_clear_bit: already clear");
    assertTrue(t.testAndSetPinned(5));
    t.putPageType(5);
    assertEquals(L1, t.typeInfo(5), "the pin goes with the last reference");
    recorder.answer = -Errno.EBUSY;
    assertEquals(-Errno.EBUSY, t.getPageType(5, PageType.L2_PAGE_TABLE));
    assertEquals(0, t.typeInfo(5));
    // A type change clears a stale pin bit too (nx &= ~(type | validated | pinned)).
    recorder.answer = 0;
    assertEquals(0, t.getPageType(7, PageType.WRITABLE_PAGE));
    assertTrue(t.testAndSetPinned(7));
    t.putPageType(7);
    assertEquals(WRITABLE | PINNED | VALIDATED, t.typeInfo(7));
    assertEquals(0, t.getPageType(7, PageType.L1_PAGE_TABLE));
    assertEquals(L1 | VALIDATED | 1, t.typeInfo(7));
  }

  @Test
  void theLinearCountIsResetByAFreshValidationOnly() {
    FrameTable t = table();
    assertEquals(0, t.getPageType(2, PageType.L2_PAGE_TABLE));
    assertTrue(t.incLinearEntries(2));
    assertTrue(t.incLinearEntries(2));
    assertEquals(2, t.linearPtCount(2));
    assertEquals(0, t.getPageType(2, PageType.L2_PAGE_TABLE));
    assertEquals(2, t.linearPtCount(2), "a validated frame keeps its count");
    t.putPageType(2);
    t.putPageType(2);
    assertEquals(0, t.getPageType(2, PageType.L2_PAGE_TABLE));
    assertEquals(0, t.linearPtCount(2), "promote: page->linear_pt_count = 0");
  }

  @Test
  void thePaeXenL2FlagIsPartOfTheType() {
    FrameTable t = table();
    assertEquals(0, t.getPageType(2, PageType.L2_PAGE_TABLE, true));
    assertEquals(L2 | VALIDATED | PAE_XEN_L2 | 1, t.typeInfo(2));
    assertTrue(t.isPaeXenL2(2));
    // In use with the flag: a plain L2 is another type, the flagged one the same.
    assertEquals(-Errno.EINVAL, t.getPageType(2, PageType.L2_PAGE_TABLE));
    assertEquals(0, t.getPageType(2, PageType.L2_PAGE_TABLE, true));
    assertEquals(L2 | VALIDATED | PAE_XEN_L2 | 2, t.typeInfo(2));
    t.clearPaeXenL2(2);
    assertEquals(L2 | VALIDATED | 2, t.typeInfo(2));
    assertFalse(t.isPaeXenL2(2));
    // A plain L2 in use refuses the flagged type; at count 0 it is re-validated with the flag.
    assertEquals(-Errno.EINVAL, t.getPageType(2, PageType.L2_PAGE_TABLE, true));
    t.putPageType(2);
    t.putPageType(2);
    recorder.calls.clear();
    assertEquals(0, t.getPageType(2, PageType.L2_PAGE_TABLE, true));
    assertEquals(List.of("alloc 2 L2_PAGE_TABLE"), recorder.calls);
    assertEquals(L2 | VALIDATED | PAE_XEN_L2 | 1, t.typeInfo(2));
  }

  @Test
  void pageLockTakesATypeReferenceOfAValidatedFrameInUse() {
    FrameTable t = table();
    assertFalse(t.pageLock(2), "count 0, not validated");
    assertEquals(0, t.typeInfo(2));
    assertEquals(0, t.getPageType(2, PageType.WRITABLE_PAGE));
    t.putPageType(2);
    assertFalse(t.pageLock(2), "validated but count 0");
    assertEquals(0, t.getPageType(2, PageType.WRITABLE_PAGE));
    assertTrue(t.pageLock(2));
    // page_lock: nx = x + (1 | PGT_locked).
    assertEquals(WRITABLE | VALIDATED | LOCKED | 2, t.typeInfo(2));
    t.pageUnlock(2);
    assertEquals(WRITABLE | VALIDATED | 1, t.typeInfo(2));
    // A frame being validated ("validate locked": type | 1, not validated) cannot be locked.
    recorder.duringValidation = () -> {
      assertEquals(L1 | 1, t.typeInfo(3));
      assertFalse(t.pageLock(3));
      assertFalse(t.isLiveL1Table(3), "not validated yet");
      assertFalse(t.isLiveTable(3, PageType.L1_PAGE_TABLE));
    };
    assertEquals(0, t.getPageType(3, PageType.L1_PAGE_TABLE));
    assertEquals(L1 | VALIDATED | 1, t.typeInfo(3));
  }

  @Test
  void onlyAValidatedTableOfTheLevelTakesALinearReference() {
    FrameTable t = table();
    assertFalse(t.getValidatedTableType(2, PageType.L2_PAGE_TABLE), "untyped");
    assertEquals(0, t.getPageType(2, PageType.L2_PAGE_TABLE));
    assertFalse(t.getValidatedTableType(2, PageType.L3_PAGE_TABLE), "another level");
    assertTrue(t.getValidatedTableType(2, PageType.L2_PAGE_TABLE));
    assertEquals(L2 | VALIDATED | 2, t.typeInfo(2));
    // get_lN_linear_pagetable never waits for a validation: a table being validated is refused.
    recorder.duringValidation = () -> assertFalse(t.getValidatedTableType(3, L2_TYPE));
    assertEquals(0, t.getPageType(3, L2_TYPE));
    assertEquals(L2 | VALIDATED | 1, t.typeInfo(3));
  }

  @Test
  void linearEntriesAndUsesExcludeEachOtherAndStopAtSixteenBits() {
    FrameTable t = table();
    // inc_linear_entries: oc = nc++, refused if nc <= 0 (uses present, or int16_t wrap).
    assertTrue(t.incLinearEntries(2));
    assertEquals(1, t.linearPtCount(2));
    assertFalse(t.incLinearUses(2), "a table holding linear entries is not used linearly");
    t.decLinearEntries(2);
    assertEquals(0, t.linearPtCount(2));
    // dec_linear_*: ASSERT(oc > 0) / ASSERT(oc < 0), after the add (frames not used again).
    assertThrows(HypervisorBugException.class, () -> t.decLinearEntries(6));
    assertThrows(HypervisorBugException.class, () -> t.decLinearUses(7));
    assertTrue(t.incLinearUses(3));
    assertEquals(-1, t.linearPtCount(3));
    assertFalse(t.incLinearEntries(3), "a table used linearly holds no linear entries");
    t.decLinearUses(3);
    assertEquals(0, t.linearPtCount(3));
    // int16_t: 32767 entries at most, -32768 uses at most.
    for (int i = 0; i < Short.MAX_VALUE; i++) {
      assertTrue(t.incLinearEntries(4));
    }
    assertFalse(t.incLinearEntries(4));
    assertEquals(32767, t.linearPtCount(4));
    for (int i = 0; i < 32768; i++) {
      assertTrue(t.incLinearUses(5));
    }
    assertFalse(t.incLinearUses(5));
    assertEquals(-32768, t.linearPtCount(5));
  }

  @Test
  void theCacheAttributeSitsInBits60To58OfCountInfo() {
    FrameTable t = table();
    t.setCacheAttr(2, 5);
    assertEquals(ALLOCATED | 5L << 58 | 1, t.countInfo(2));
    assertEquals(5, t.cacheAttr(2));
    t.setCacheAttr(2, 2);
    assertEquals(ALLOCATED | 2L << 58 | 1, t.countInfo(2));
    t.setCacheAttr(2, 0);
    assertEquals(ALLOCATED | 1, t.countInfo(2));
  }

  @Test
  void xenHeapPagesAndDomIoPagesAreFlaggedAndOwnedAsXenDoes() {
    FrameTable t = table();
    t.shareXenHeapPage(9, DomainIds.DOMID_XEN);
    assertEquals(ALLOCATED | XEN_HEAP | 1, t.countInfo(9));
    assertEquals(DomainIds.DOMID_XEN, t.owner(9));
    assertTrue(t.isXenHeapPage(9));
    assertFalse(t.isXenHeapPage(1));
    assertThrows(IllegalArgumentException.class,
        () -> t.shareXenHeapPage(10, DomainIds.DOMID_IO));
    assertEquals(DomainIds.OWNER_NONE, t.owner(10));
    t.shareXenHeapPage(10, 2);
    assertEquals(2, t.owner(10));
    t.shareWithDomIo(11, 12);
    assertEquals(ALLOCATED | 1, t.countInfo(12));
    assertEquals(DomainIds.DOMID_IO, t.owner(11));
    assertTrue(t.isIomemPage(11));
    assertFalse(t.isIomemPage(10));
    assertThrows(IllegalArgumentException.class, () -> t.assignRange(14, 13, 1));
    assertEquals(DomainIds.OWNER_NONE, t.owner(13));
  }

  @Test
  void aFreedFrameIsScrubbedAndItsCountsCleared() {
    FrameTable t = table();
    t.storeEntry(2, 5, 0x1234);
    assertTrue(t.getPage(2, 1));
    assertEquals(0, t.getPageType(2, PageType.WRITABLE_PAGE));
    t.setCacheAttr(2, 3);
    assertTrue(t.releasePage(2));
    // PGC_allocated cleared, one reference (the mapping's) left.
    assertEquals(3L << 58 | 1, t.countInfo(2));
    assertEquals(1, t.owner(2));
    assertEquals(0x1234, t.readEntry(2, 5), "not freed while referenced");
    t.putPage(2);
    assertEquals(DomainIds.OWNER_NONE, t.owner(2));
    assertEquals(0, t.countInfo(2));
    assertEquals(0, t.typeInfo(2), "free_domheap_page clears the type");
    assertEquals(0, t.readEntry(2, 5), "and the contents");
    // A re-assigned frame starts clean as well.
    t.storeEntry(3, 6, 0x99);
    assertTrue(t.incLinearEntries(3));
    t.putPage(3);
    t.assignPage(3, 2);
    assertEquals(ALLOCATED | 1, t.countInfo(3));
    assertEquals(0, t.typeInfo(3));
    assertEquals(0, t.linearPtCount(3));
    assertEquals(0, t.readEntry(3, 6));
  }

  @Test
  void entriesAreStoredLittleEndianAndComparedAsAWhole() {
    FrameTable t = table();
    t.storeEntry(2, 0, 0);
    assertNull(t.memory().frameContents(2), "storing 0 into a frame never written allocates none");
    assertFalse(t.compareAndSetEntry(2, 1, 7, 8), "an unwritten entry is 0");
    assertNull(t.memory().frameContents(2));
    assertTrue(t.compareAndSetEntry(2, 1, 0, 0x0102_0304_0506_0708L));
    byte[] page = t.memory().frameContents(2);
    // Slot 1 is bytes 8 to 15, least significant first.
    assertArrayEquals(new byte[] {8, 7, 6, 5, 4, 3, 2, 1},
        Arrays.copyOfRange(page, 8, 16));
    assertFalse(t.compareAndSetEntry(2, 1, 0, 9));
    assertEquals(0x0102_0304_0506_0708L, t.readEntry(2, 1));
    assertTrue(t.compareAndSetEntry(2, 1, 0x0102_0304_0506_0708L, 9));
    assertEquals(9, t.readEntry(2, 1));
    assertThrows(IllegalArgumentException.class, () -> t.storeEntry(2, -1, 1));
    assertThrows(IllegalArgumentException.class, () -> t.compareAndSetEntry(2, 512, 0, 1));
  }

  @Test
  void rangesAreCheckedToTheirLastFrameAndNewOwnersGetZeroedFrames() {
    FrameTable t = table();
    t.assignPage(12, 2);
    assertThrows(IllegalStateException.class, () -> t.assignRange(10, 12, 1));
    assertThrows(IllegalStateException.class, () -> t.shareWithDomIo(11, 12));
    assertEquals(DomainIds.OWNER_NONE, t.owner(10), "nothing of a refused range changes");
    assertEquals(DomainIds.OWNER_NONE, t.owner(11));
    // assign_pages hands out zeroed frames, whatever a free frame held.
    t.storeEntry(13, 4, 0x77);
    t.assignPage(13, 1);
    assertEquals(0, t.readEntry(13, 4));
    t.storeEntry(14, 4, 0x77);
    t.setUpCompatL4(14);
    assertEquals(0, t.readEntry(14, 4));
    // The smallest table: one frame, of RAM.
    FrameTable one = new FrameTable(1);
    one.assignPage(0, 1);
    one.storeEntry(0, 511, 0x55);
    assertEquals(0x55, one.readEntry(0, 511));
  }

  @Test
  void aTableMustFitItsMemory() {
    PhysicalMemory small = new PhysicalMemory(32);
    // A 32-bit MAXPHYADDR: frames 0 to 0xfffff.
    assertThrows(IllegalArgumentException.class, () -> new FrameTable(0x100001, small));
    assertEquals(0x100000, new FrameTable(0x100000, small).frameCount());
  }

  @Test
  void compatL4FramesAreXensValidatedL4sWithOneTypeReference() {
    FrameTable t = table();
    t.setUpCompatL4(9);
    assertEquals((4L << 61) | VALIDATED | 1, t.typeInfo(9));
    assertEquals(0, t.countInfo(9));
    assertEquals(DomainIds.DOMID_XEN, t.owner(9));
    assertFalse(t.getPage(9, DomainIds.DOMID_XEN), "no general reference to take");
    assertThrows(IllegalStateException.class, () -> t.setUpCompatL4(2));
  }
}
