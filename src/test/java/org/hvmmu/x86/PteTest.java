package org.hvmmu.x86;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_GUEST_KERNEL;
import static org.hvmmu.x86.PteFlags.PAGE_NX_BIT;
import static org.hvmmu.x86.PteFlags.PAGE_PAT;
import static org.hvmmu.x86.PteFlags.PAGE_PCD;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_PWT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The PTE codec against hand-worked values: Xen's {@code get_pte_flags} keeps bits 11:0 and moves
 * bits 63:52 down by 40 (x86_64/page.h); the frame is bits 51:12 (SDM vol. 3A table 4-19).
 */
class PteTest {
  @ParameterizedTest(name = "get_pte_flags({0}) = {1}")
  @CsvSource({
    // entry,               packed flags: bits 11:0 kept, bit 63 -> 23, bit 62 -> 22, bit 52 -> 12
    "0x0000000000000000, 0x000000",
    "0x00000000fee00013, 0x000013", // P | RW | PCD; the frame bits vanish
    "0x80000000fee00013, 0x800013", // + NX (bit 63 -> packed bit 23)
    "0x4000000000000001, 0x400001", // GNTTAB (bit 62 -> 22)
    "0x0010000000000fff, 0x001fff", // bit 52 -> 12 (GUEST_KERNEL); low 12 bits all set
    "0x7ff0000000000000, 0x7ff000", // software bits 62:52 -> 22:12
    "0x000ffffffffff000, 0x000000", // a frame field full of ones holds no flags
    "0xffffffffffffffff, 0xffffff",
  })
  void shouldPackFlagsAsXenDoes(String entry, String packed) {
    assertEquals(Integer.decode(packed).intValue(), Pte.getFlags(Long.parseUnsignedLong(entry
        .substring(2), 16)));
  }

  @Test
  void shouldInvertPackingForEvery24BitValue() {
    for (int flags = 0; flags <= PteFlags.ALL; flags++) {
      long bits = Pte.putFlags(flags);
      assertEquals(0, bits & Pte.MFN_FIELD_MASK, "flags never reach the frame field");
      if (Pte.getFlags(bits) != flags) {
        assertEquals(flags, Pte.getFlags(bits));
      }
    }
  }

  @Test
  void shouldKeepFlagBitsThroughARoundTrip() {
    Property.forAll(Gens.unsignedLongs(), pte ->
        assertEquals(pte & Pte.FLAG_BITS, Pte.putFlags(Pte.getFlags(pte))));
  }

  @Test
  void shouldIgnoreBitsAbove23AsXensIntCannotHoldThem() {
    assertEquals(0L, Pte.putFlags(1 << 24));
    assertEquals(0x8000000000000000L, Pte.putFlags(PAGE_NX_BIT));
    assertEquals(1L << 52, Pte.putFlags(PAGE_GUEST_KERNEL));
  }

  @Test
  void shouldBuildAndReadFrameNumbers() {
    long pte = Pte.fromMfn(0xfee00, PAGE_PRESENT | PAGE_RW | PAGE_PCD);
    assertEquals(0x00000000fee00013L, pte);
    assertEquals(0xfee00, Pte.getMfn(pte));
    assertEquals(0xfffffffffL << 12 | 1, Pte.fromMfn(0xfffffffffL, PAGE_PRESENT));
    assertEquals(Pte.MAX_MFN, Pte.getMfn(~0L));
    assertEquals(0xffffffffffL, Pte.INVALID_MFN_PATTERN);
    assertThrows(IllegalArgumentException.class, () -> Pte.fromMfn(Pte.MAX_MFN + 1, 0));
    assertThrows(IllegalArgumentException.class, () -> Pte.fromMfn(-1, 0));
  }

  @Test
  void shouldAddRemoveAndFlipFlags() {
    long pte = Pte.fromMfn(0x1234, PAGE_PRESENT | PAGE_RW);
    assertEquals(0x1234001L, Pte.removeFlags(pte, PAGE_RW));
    assertEquals(0x8000000001234003L, Pte.addFlags(pte, PAGE_NX_BIT));
    assertEquals(0x1234019L, Pte.flipFlags(pte, PAGE_RW | PAGE_PWT | PAGE_PCD));
  }

  @Test
  void shouldCompareOnlyFrameAndChosenFlags() {
    long a = Pte.fromMfn(0x10, PAGE_PRESENT | PAGE_RW);
    assertFalse(Pte.hasChanged(a, Pte.addFlags(a, PAGE_ACCESSED), PAGE_RW | PAGE_PRESENT));
    assertTrue(Pte.hasChanged(a, Pte.removeFlags(a, PAGE_RW), PAGE_RW | PAGE_PRESENT));
    assertTrue(Pte.hasChanged(a, Pte.fromMfn(0x11, PAGE_PRESENT | PAGE_RW), 0));
  }

  @ParameterizedTest(name = "PAT index {0}: flags {1}, Xen type {2}")
  @CsvSource({
    // index = PAT<<2 | PCD<<1 | PWT; XEN_MSR_PAT 0x0000050100070406 read byte by byte
    "0, 0x00, WB",
    "1, 0x08, WT",
    "2, 0x10, UC_MINUS",
    "3, 0x18, UC",
    "4, 0x80, WC",
    "5, 0x88, WP",
    "6, 0x90, UC",
    "7, 0x98, UC",
  })
  void shouldMapPatIndicesAsXensPat(int index, String flags, MemoryType type) {
    int f = Integer.decode(flags);
    assertEquals(index, PteFlags.patIndex(f));
    assertEquals(index, PteFlags.patIndex(f | PAGE_PRESENT | PAGE_RW | PAGE_NX_BIT));
    assertEquals(f, PteFlags.cacheAttrFlags(index));
    assertEquals(type, Pat.xenType(index));
    assertEquals(type, Pat.xenTypeOfFlags(f));
  }

  @Test
  void shouldDecodeMemoryTypesBySdmCode() {
    assertEquals(MemoryType.UC, MemoryType.fromCode(0));
    assertEquals(MemoryType.WB, MemoryType.fromCode(6));
    assertEquals(MemoryType.UC_MINUS, MemoryType.fromCode(7));
    assertThrows(IllegalArgumentException.class, () -> MemoryType.fromCode(2));
    assertThrows(IllegalArgumentException.class, () -> MemoryType.fromCode(8));
    assertThrows(IllegalArgumentException.class, () -> PteFlags.cacheAttrFlags(8));
    assertThrows(IllegalArgumentException.class, () -> Pat.xenType(-1));
  }

  @Test
  void shouldPrintEntriesAsXenDoes() {
    assertEquals("00000000fee00013", Pte.toHex(0xfee00013L));
    assertEquals("8000000000000000", Pte.toHex(Long.MIN_VALUE));
  }

  @Test
  void shouldKeepPatBitDistinctFromCacheBits() {
    assertEquals(0x98, PteFlags.PAGE_CACHE_ATTRS);
    assertEquals(PAGE_PAT, PteFlags.PAGE_PSE);
  }
}
