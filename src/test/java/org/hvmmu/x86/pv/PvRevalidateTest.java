package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.hvmmu.x86.pv.PvFixture.RW_ABOVE;
import static org.hvmmu.x86.pv.PvFixture.pte;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link PvMmu#revalidateMmioEntry}'s refusals, each on its own (its contract: only a present
 * MMIO entry of an L1 table the given domain owns, and only when the validator now flips it), so
 * that every early exit is pinned and none of them changes an entry, a count or the listener's
 * view. The entry at slot 6 maps {@code RW_ABOVE} writable, and that frame then becomes read-only.
 */
class PvRevalidateTest {
  private static final long TABLE = 0x110;
  private static final int SLOT = 6;

  private static PvFixture fixture(boolean hardened) {
    PvFixture f = new PvFixture(hardened ? PvSwitches.HARDENED : PvSwitches.SEED_2010);
    assertEquals(0, f.mmu.pinL1Table(f.domU, TABLE));
    long entry = pte(RW_ABOVE, PAGE_PRESENT | PAGE_RW | PAGE_USER);
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, SLOT, entry, f.domU));
    assertEquals(0, f.mmu.modL1Entry(f.domU, TABLE, 7, pte(0x130, PAGE_PRESENT), f.domU));
    f.mmioRoRanges.addSingleton(RW_ABOVE);
    return f;
  }

  private static void assertUnchanged(PvFixture f, boolean changed, long[] counts, long[] table) {
    assertFalse(changed);
    assertArrayEquals(counts, f.counts());
    assertArrayEquals(table, f.table(TABLE));
    assertEquals(f.liveEntries(), f.reported);
  }

  @ParameterizedTest(name = "hardened: {0}")
  @ValueSource(booleans = {false, true})
  void anotherDomainsTableIsLeftAlone(boolean hardened) {
    PvFixture f = fixture(hardened);
    long[] counts = f.counts();
    long[] table = f.table(TABLE);
    assertUnchanged(f, f.mmu.revalidateMmioEntry(f.noio, TABLE, SLOT), counts, table);
    assertUnchanged(f, f.mmu.revalidateMmioEntry(f.dom0, TABLE, SLOT), counts, table);
    // The owner's own call flips it.
    assertTrue(f.mmu.revalidateMmioEntry(f.domU, TABLE, SLOT));
    assertEquals(0, f.mmu.readEntry(TABLE, SLOT) & PAGE_RW);
    assertEquals(f.liveEntries(), f.reported);
  }

  @ParameterizedTest(name = "hardened: {0}")
  @ValueSource(booleans = {false, true})
  void onlyPresentMmioEntriesOfL1TablesAreLookedAt(boolean hardened) {
    PvFixture f = fixture(hardened);
    long[] counts = f.counts();
    long[] table = f.table(TABLE);
    // A frame of the owner that is no page table, holding the same bytes at the same slot.
    f.mmu.writeGuestEntry(f.domU, 0x140, SLOT, table[SLOT]);
    long[] counts2 = f.counts();
    assertFalse(f.mmu.revalidateMmioEntry(f.domU, 0x140, SLOT));
    assertEquals(table[SLOT], f.mmu.readEntry(0x140, SLOT));
    assertArrayEquals(counts2, f.counts());
    // An empty slot, and a RAM entry.
    assertUnchanged(f, f.mmu.revalidateMmioEntry(f.domU, TABLE, 5), counts2, table);
    assertUnchanged(f, f.mmu.revalidateMmioEntry(f.domU, TABLE, 7), counts2, table);
    assertEquals(counts.length, counts2.length);
  }

  @ParameterizedTest(name = "hardened: {0}")
  @ValueSource(booleans = {false, true})
  void anEntryTheValidatorNowRefusesIsLeftAlone(boolean hardened) {
    PvFixture f = fixture(hardened);
    // The domain loses its I/O memory permission: get_page_from_l1e refuses (-EPERM).
    f.domU.iomemCaps().removeRange(0x100000, 0x10000f);
    long[] counts = f.counts();
    long[] table = f.table(TABLE);
    assertUnchanged(f, f.mmu.revalidateMmioEntry(f.domU, TABLE, SLOT), counts, table);
    assertTrue((f.mmu.readEntry(TABLE, SLOT) & PAGE_RW) != 0);
  }
}
