package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_DIRTY;
import static org.hvmmu.x86.PteFlags.PAGE_GLOBAL;
import static org.hvmmu.x86.PteFlags.PAGE_GUEST_KERNEL;
import static org.hvmmu.x86.PteFlags.PAGE_PCD;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_PWT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.hvmmu.x86.pv.PvFixture.RO_ABOVE;
import static org.hvmmu.x86.pv.PvFixture.RW_ABOVE;
import static org.hvmmu.x86.pv.PvFixture.pte;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.hvmmu.x86.Pte;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The three callers of the validator: {@code alloc_l1_table} (through pinning), {@code mod_l1_entry}
 * and {@code ptwr_emulated_update}, each as the seed patch specifies (reference section 4.1).
 */
class PvMmuCallersTest {
  private static final int P = PAGE_PRESENT;
  private static final int RW = PAGE_RW;
  private static final long TABLE = 0x110;
  /** The bits {@code adjust_guest_l1e} may add to a 64-bit guest's present entry. */
  private static final long ADJUST_BITS = PAGE_USER | PAGE_GLOBAL | 1L << 52;

  // ---- alloc_l1_table --------------------------------------------------------------------------

  private static long slotEntry(int slot) {
    return switch (slot) {
      case 3 -> pte(0x121, P | RW); // writable RAM: a writable type reference
      case 7 -> pte(RO_ABOVE, P | RW); // read-only MMIO: accepted, R/W stripped
      case 9 -> 0x0000_0bad_0000_0002L; // not present: accepted whatever it holds
      default -> pte(0x120 + (slot % 16), P); // read-only RAM
    };
  }

  private static void fill(PvFixture f, int badSlot) {
    for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
      f.mmu.writeGuestEntry(f.domU, TABLE, slot, slot == badSlot ? pte(0x200, P) : slotEntry(slot));
    }
  }

  @ParameterizedTest(name = "bad slot {0}")
  @ValueSource(ints = {0, 1, 8, 255, 511})
  void allocL1TableShouldUndoExactlyTheEarlierReferences(int badSlot) {
    PvFixture f = new PvFixture(PvSwitches.SEED_2010);
    fill(f, badSlot);
    long[] countsBefore = f.counts();
    long[] entriesBefore = f.table(TABLE);

    assertEquals(-Errno.EINVAL, f.mmu.pinL1Table(f.domU, TABLE));

    assertArrayEquals(countsBefore, f.counts(), "every reference taken is given back");
    assertEquals(0, f.frames.typeInfo(TABLE), "the frame loses the half-made L1 type");
    long[] entriesAfter = f.table(TABLE);
    for (int slot = badSlot; slot < Pte.ENTRIES_PER_TABLE; slot++) {
      assertEquals(entriesBefore[slot], entriesAfter[slot], "slot " + slot + " is not touched");
    }
    // As in Xen, the slots validated before the reject keep their in-place changes.
    if (badSlot > 7) {
      assertEquals(pte(RO_ABOVE, P | PAGE_USER) | 1L << 52, entriesAfter[7]);
    }
    assertEquals(List.of(), f.mmu.countViolations());
  }

  @Test
  void allocL1TableShouldTakeOneReferencePerEntryAndStripRwOnReadOnlyMmio() {
    PvFixture f = new PvFixture(PvSwitches.SEED_2010);
    fill(f, -1);
    long[] countsBefore = f.counts();

    assertEquals(0, f.mmu.pinL1Table(f.domU, TABLE));

    // 512 slots: slot 7 is MMIO and slot 9 not present; the other 510 map 0x120-0x12f. 0x121 gets
    // the slots 1 mod 16 (32 of them) but slot 3 maps it RW instead of mapping 0x123.
    assertEquals(1 + 32 + 1, f.frames.generalCount(0x121));
    assertEquals(PageType.WRITABLE_PAGE, f.frames.pageType(0x121));
    assertEquals(1, f.frames.typeCount(0x121));
    assertEquals(1 + 32 - 1, f.frames.generalCount(0x123));
    assertEquals(1 + 32 - 1, f.frames.generalCount(0x127)); // slot 7 is MMIO
    assertEquals(1 + 32 - 1, f.frames.generalCount(0x129)); // slot 9 is not present
    assertEquals(1 + 32, f.frames.generalCount(0x120));
    // The table itself: allocation + pin, and one L1 type reference.
    assertEquals(2, f.frames.generalCount(TABLE));
    assertEquals(PageType.L1_PAGE_TABLE, f.frames.pageType(TABLE));
    assertEquals(1, f.frames.typeCount(TABLE));
    assertEquals(pte(RO_ABOVE, P | PAGE_USER) | 1L << 52, f.mmu.readEntry(TABLE, 7));
    assertEquals(List.of(), f.mmu.countViolations());

    assertEquals(0, f.mmu.unpinTable(f.domU, TABLE));
    long[] countsAfter = f.counts();
    for (int i = 0; i < countsBefore.length; i += 2) {
      assertEquals(countsBefore[i], countsAfter[i], "count_info of frame 0x"
          + Integer.toHexString(i / 2));
    }
    assertEquals(List.of(), f.mmu.countViolations());
  }

  @Test
  void pinShouldRefuseForeignAndDoublePins() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    assertEquals(-Errno.EINVAL, f.mmu.pinL1Table(f.domU, 0x200));
    assertEquals(0, f.mmu.pinL1Table(f.domU, TABLE));
    long[] before = f.counts();
    assertEquals(-Errno.EINVAL, f.mmu.pinL1Table(f.domU, TABLE));
    assertArrayEquals(before, f.counts());
    assertEquals(-Errno.EINVAL, f.mmu.unpinTable(f.domU, 0x111));
    assertThrows(IllegalStateException.class, () -> f.mmu.writeGuestEntry(f.domU, TABLE, 0, 0));
  }

  // ---- mod_l1_entry ------------------------------------------------------------------------------

  private static PvFixture pinned(PvSwitches switches) {
    PvFixture f = new PvFixture(switches);
    assertEquals(0, f.mmu.pinL1Table(f.domU, TABLE));
    return f;
  }

  @Test
  void modL1EntryShouldForceReadOnlyEveryTimeRwIsAskedFor() {
    PvFixture f = pinned(PvSwitches.SEED_2010);
    long asked = pte(RO_ABOVE, P | RW | PAGE_USER);
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 0, asked, f.domU));
    assertEquals(pte(RO_ABOVE, P | PAGE_USER | PAGE_GLOBAL), f.mmu.readEntry(TABLE, 0));
    // The stored entry lacks R/W, so asking again differs in R/W: the slow path strips it again.
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 0, asked, f.domU));
    assertEquals(pte(RO_ABOVE, P | PAGE_USER | PAGE_GLOBAL), f.mmu.readEntry(TABLE, 0));
    assertEquals(List.of(), f.mmu.countViolations());
  }

  @Test
  void modL1EntryFastPathShouldSkipValidation() {
    PvFixture f = pinned(PvSwitches.SEED_2010);
    long entry = pte(RW_ABOVE, P | RW | PAGE_USER);
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 0, entry, f.domU));
    f.domU.iomemCaps().removeRange(RW_ABOVE, RW_ABOVE);
    // Same frame, same P and R/W: no re-validation, so the lost permission goes unnoticed.
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 0, entry | PAGE_ACCESSED | PAGE_DIRTY,
        f.domU));
    assertEquals(entry | PAGE_ACCESSED | PAGE_DIRTY | PAGE_GLOBAL, f.mmu.readEntry(TABLE, 0));
    // Dropping R/W changes a compared flag: validated, and refused.
    long before = f.mmu.readEntry(TABLE, 0);
    assertEquals(-Errno.EPERM, f.mmu.modL1Entry(f.domU, TABLE, 0, Pte.removeFlags(entry, RW),
        f.domU));
    assertEquals(before, f.mmu.readEntry(TABLE, 0));
  }

  @ParameterizedTest(name = "fast path compares cache bits: {0}")
  @ValueSource(booleans = {false, true})
  void modL1EntryFastPathDecidesWhetherCacheForcingSticks(boolean comparesCacheBits) {
    PvFixture f = pinned(PvSwitches.HARDENED.withFastPathComparesCacheBits(comparesCacheBits));
    long writeBack = pte(RW_ABOVE, P | RW | PAGE_USER);
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 0, writeBack, f.domU));
    long forced = f.mmu.readEntry(TABLE, 0);
    assertEquals(PAGE_PWT | PAGE_PCD, Pte.getFlags(forced) & (PAGE_PWT | PAGE_PCD), "made UC");
    // The guest writes the write-back entry again.
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 0, writeBack, f.domU));
    int cacheBits = Pte.getFlags(f.mmu.readEntry(TABLE, 0)) & (PAGE_PWT | PAGE_PCD);
    // The seed's fast path (P and R/W only) lets write-back through; upstream's re-validates.
    assertEquals(comparesCacheBits ? PAGE_PWT | PAGE_PCD : 0, cacheBits);
  }

  @Test
  void modL1EntryRejectShouldLeaveEntryAndCountsAlone() {
    PvFixture f = pinned(PvSwitches.HARDENED);
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 5, pte(0x130, P | RW), f.domU));
    long[] counts = f.counts();
    long entry = f.mmu.readEntry(TABLE, 5);
    assertEquals(-Errno.EBUSY, f.mmu.modL1Entry(f.domU, TABLE, 5, pte(0x200, P), f.domU));
    assertEquals(-Errno.EINVAL,
        f.mmu.modL1Entry(f.domU, TABLE, 5, pte(0x131, P) | 1L << 62, f.domU));
    assertArrayEquals(counts, f.counts());
    assertEquals(entry, f.mmu.readEntry(TABLE, 5));
  }

  @Test
  void modL1EntryShouldDropTheOldEntrysReferences() {
    PvFixture f = pinned(PvSwitches.HARDENED);
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 5, pte(0x130, P | RW), f.domU));
    assertEquals(2, f.frames.generalCount(0x130));
    assertEquals(1, f.frames.typeCount(0x130));
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 5, pte(0x131, P), f.domU));
    assertEquals(1, f.frames.generalCount(0x130));
    assertEquals(0, f.frames.typeCount(0x130));
    assertEquals(2, f.frames.generalCount(0x131));
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 5, 0, f.domU));
    assertEquals(1, f.frames.generalCount(0x131));
    assertEquals(List.of(), f.mmu.countViolations());
  }

  @Test
  void mmuUpdateShouldPreserveAccessedAndDirtyWhenAsked() {
    PvFixture f = pinned(PvSwitches.SEED_2010);
    long withAd = pte(0x130, P | PAGE_USER | PAGE_ACCESSED | PAGE_DIRTY);
    assertEquals(0, f.mmu.mmuUpdate(f.domU, TABLE, 1, withAd, f.domU, false));
    long without = pte(0x130, P | PAGE_USER);
    assertEquals(0, f.mmu.mmuUpdate(f.domU, TABLE, 1, without, f.domU, true));
    assertEquals(withAd | PAGE_GLOBAL, f.mmu.readEntry(TABLE, 1));
    assertEquals(0, f.mmu.mmuUpdate(f.domU, TABLE, 1, without, f.domU, false));
    assertEquals(without | PAGE_GLOBAL, f.mmu.readEntry(TABLE, 1));
  }

  @Test
  void mmuUpdateOfAnOrdinaryFrameShouldWriteWithoutValidation() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    long foreign = pte(0x200, P | RW);
    assertEquals(0, f.mmu.mmuUpdate(f.domU, 0x150, 0, foreign, f.domU, false));
    assertEquals(foreign, f.mmu.readEntry(0x150, 0));
    assertEquals(1, f.frames.generalCount(0x200), "data, not a mapping: no reference");
    assertEquals(-Errno.EINVAL, f.mmu.mmuUpdate(f.domU, 0x200, 0, 0, f.domU, false));
    assertThrows(IllegalStateException.class,
        () -> f.mmu.modL1Entry(f.domU, 0x150, 0, 0, f.domU));
  }

  // ---- ptwr_emulated_update ------------------------------------------------------------------------

  /** Little-endian merge of {@code bytes} bytes of {@code val} at byte {@code at} of {@code old}. */
  private static long merge(long old, long val, int at, int bytes) {
    ByteBuffer o = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, old);
    ByteBuffer v = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, val);
    for (int i = 0; i < bytes; i++) {
      o.put(at + i, v.get(i));
    }
    return o.getLong(0);
  }

  @Test
  void ptwrShouldHandleEveryAlignedPowerOfTwoWidthAndRefuseTheRest() {
    // Old and target differ in byte 0 (P vs P|RW|A|D) and byte 7 (NX): every mixture is a valid
    // mapping of the domain's own frame 0x140.
    long target = pte(0x140, P | RW | PAGE_ACCESSED | PAGE_DIRTY) | 1L << 63;
    for (int bytes = 1; bytes <= 8; bytes++) {
      for (int at = 0; at < 8; at++) {
        PvFixture f = new PvFixture(PvSwitches.HARDENED);
        f.mmu.writeGuestEntry(f.domU, TABLE, 2, pte(0x140, P));
        assertEquals(0, f.mmu.pinL1Table(f.domU, TABLE));
        long stored = f.mmu.readEntry(TABLE, 2);
        long[] counts = f.counts();
        long val = target >>> (8 * at);
        EmulationResult result =
            f.mmu.ptwrEmulatedUpdate(f.domU, TABLE, 16 + at, 0, val, bytes, false);
        boolean handled = (bytes & (bytes - 1)) == 0 && at % bytes == 0;
        String where = bytes + " bytes at +" + at;
        if (!handled) {
          assertEquals(EmulationResult.UNHANDLEABLE, result, where);
          assertEquals(stored, f.mmu.readEntry(TABLE, 2), where);
          assertArrayEquals(counts, f.counts(), where);
          continue;
        }
        assertEquals(EmulationResult.OKAY, result, where);
        long expected = merge(stored, val, at, bytes);
        assertEquals(expected & ~ADJUST_BITS, f.mmu.readEntry(TABLE, 2) & ~ADJUST_BITS, where);
        assertEquals(List.of(), f.mmu.countViolations(), where);
      }
    }
  }

  @Test
  void ptwrShouldForceReadOnlyMmioAndDropTheOldReference() {
    PvFixture f = pinned(PvSwitches.SEED_2010);
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 4, pte(0x141, P | PAGE_USER), f.domU));
    assertEquals(2, f.frames.generalCount(0x141));
    EmulationResult result = f.mmu.ptwrEmulatedUpdate(f.domU, TABLE, 32, 0,
        pte(RO_ABOVE, P | RW | PAGE_USER), 8, false);
    assertEquals(EmulationResult.OKAY, result);
    assertEquals(pte(RO_ABOVE, P | PAGE_USER | PAGE_GLOBAL), f.mmu.readEntry(TABLE, 4));
    assertEquals(1, f.frames.generalCount(0x141));
  }

  @Test
  void ptwrCmpxchgShouldCompareTheMergedOldValue() {
    PvFixture f = pinned(PvSwitches.HARDENED);
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 4, pte(0x141, P | PAGE_USER), f.domU));
    long stored = f.mmu.readEntry(TABLE, 4);
    long[] counts = f.counts();
    long next = pte(0x142, P | RW | PAGE_USER);
    assertEquals(EmulationResult.CMPXCHG_FAILED,
        f.mmu.ptwrEmulatedUpdate(f.domU, TABLE, 32, stored ^ 0x20, next, 8, true));
    assertEquals(stored, f.mmu.readEntry(TABLE, 4));
    assertArrayEquals(counts, f.counts(), "the new entry's references are given back");
    assertEquals(EmulationResult.OKAY,
        f.mmu.ptwrEmulatedUpdate(f.domU, TABLE, 32, stored, next, 8, true));
    assertEquals(next | PAGE_GLOBAL, f.mmu.readEntry(TABLE, 4));
    assertEquals(1, f.frames.typeCount(0x142));
    // A 4-byte cmpxchg of the low half: old and new are merged with the high half.
    long low = (pte(0x143, P | PAGE_USER)) & 0xffffffffL;
    assertEquals(EmulationResult.OKAY, f.mmu.ptwrEmulatedUpdate(f.domU, TABLE, 32,
        (next | PAGE_GLOBAL) & 0xffffffffL, low, 4, true));
    assertEquals(0x143, Pte.getMfn(f.mmu.readEntry(TABLE, 4)));
    assertEquals(List.of(), f.mmu.countViolations());
  }

  private static PvFixture paeTable(PvSwitches switches) {
    PvFixture f = new PvFixture(switches);
    f.mmu.writeGuestEntry(f.pae, 0x410, 3, pte(0x401, P));
    assertEquals(0, f.mmu.pinL1Table(f.pae, 0x410));
    return f;
  }

  @Test
  void ptwrShouldFixUpAPaeHighHalfWrittenFirst() {
    PvFixture f = paeTable(PvSwitches.SEED_2010);
    assertEquals(2, f.frames.generalCount(0x401));
    // High dword 0x1 turns frame 0x401 into 0x100401: MMIO the PV32 domain may not map.
    EmulationResult result = f.mmu.ptwrEmulatedUpdate(f.pae, 0x410, 3 * 8 + 4, 0, 1, 4, false);
    assertEquals(EmulationResult.OKAY, result);
    assertEquals(0x0000000100401000L, f.mmu.readEntry(0x410, 3), "installed with P cleared");
    assertEquals(1, f.frames.generalCount(0x401), "the old entry's reference is dropped");
    assertEquals(List.of(), f.mmu.countViolations());
  }

  @Test
  void ptwrShouldNotFixUpOtherRejects() {
    // cmpxchg, low half, 8 bytes, and a 64-bit guest are all unhandleable.
    PvFixture f = paeTable(PvSwitches.SEED_2010);
    long stored = f.mmu.readEntry(0x410, 3);
    assertEquals(EmulationResult.UNHANDLEABLE,
        f.mmu.ptwrEmulatedUpdate(f.pae, 0x410, 3 * 8 + 4, stored >>> 32, 1, 4, true));
    assertEquals(EmulationResult.UNHANDLEABLE,
        f.mmu.ptwrEmulatedUpdate(f.pae, 0x410, 3 * 8, 0, 0x00200001L, 4, false));
    assertEquals(EmulationResult.UNHANDLEABLE,
        f.mmu.ptwrEmulatedUpdate(f.pae, 0x410, 3 * 8, 0, 0x0000000100401001L, 8, false));
    assertEquals(stored, f.mmu.readEntry(0x410, 3));
    PvFixture g = pinned(PvSwitches.SEED_2010);
    assertEquals(0, g.mmu.modL1Entry(g.domU, TABLE, 3, pte(0x101, P), g.domU));
    assertEquals(EmulationResult.UNHANDLEABLE,
        g.mmu.ptwrEmulatedUpdate(g.domU, TABLE, 3 * 8 + 4, 0, 1, 4, false));
  }

  @Test
  void ptwrShouldOnlyEmulateWritesToTheDomainsOwnL1Tables() {
    PvFixture f = pinned(PvSwitches.HARDENED);
    assertEquals(EmulationResult.UNHANDLEABLE,
        f.mmu.ptwrEmulatedUpdate(f.domU, 0x111, 0, 0, 0, 8, false));
    assertEquals(EmulationResult.UNHANDLEABLE,
        f.mmu.ptwrEmulatedUpdate(f.noio, TABLE, 0, 0, 0, 8, false));
    assertThrows(IllegalArgumentException.class,
        () -> f.mmu.ptwrEmulatedUpdate(f.domU, TABLE, 0, 0, 0, 0, false));
    assertThrows(IllegalArgumentException.class,
        () -> f.mmu.ptwrEmulatedUpdate(f.domU, TABLE, 0, 0, 0, 9, false));
    assertThrows(IllegalArgumentException.class,
        () -> f.mmu.ptwrEmulatedUpdate(f.domU, TABLE, 4096, 0, 0, 1, false));
    assertTrue(f.mmu.countViolations().isEmpty());
  }

  @Test
  void shouldKeepGuestKernelMarkerConsistent() {
    assertEquals(1L << 52, Pte.putFlags(PAGE_GUEST_KERNEL));
  }

  // ---- revocation ------------------------------------------------------------------------------

  @ParameterizedTest(name = "hardened: {0}")
  @ValueSource(booleans = {false, true})
  void revalidateShouldRevokeWriteAccessToANewlyReadOnlyFrame(boolean hardened) {
    PvFixture f = pinned(hardened ? PvSwitches.HARDENED : PvSwitches.SEED_2010);
    long entry = pte(RW_ABOVE, P | RW | PAGE_USER | PAGE_PCD | PAGE_PWT);
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 6, entry, f.domU));
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 7, pte(0x130, P | RW), f.domU));
    long[] counts = f.counts();
    assertTrue(!f.mmu.revalidateMmioEntry(f.domU, TABLE, 6), "not read-only yet: unchanged");
    f.mmioRoRanges.addSingleton(RW_ABOVE);
    assertTrue(f.mmu.revalidateMmioEntry(f.domU, TABLE, 6));
    assertEquals(Pte.removeFlags(entry, RW) | PAGE_GLOBAL, f.mmu.readEntry(TABLE, 6));
    assertTrue(!f.mmu.revalidateMmioEntry(f.domU, TABLE, 6), "already read-only");
    assertTrue(!f.mmu.revalidateMmioEntry(f.domU, TABLE, 7), "RAM is not touched");
    assertArrayEquals(counts, f.counts());
    assertEquals(f.liveEntries(), f.reported);
  }
}
