package org.hvmmu.x86.pv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.RecordComponent;
import org.junit.jupiter.api.Test;

/**
 * The package's value types against their sources: Xen's page-type codes and {@code type_info} /
 * {@code count_info} fields ({@code asm/mm.h}), the x86 emulator's result codes ({@code
 * x86_emulate.h} at RELEASE-4.1.0: {@code X86EMUL_OKAY} 0, {@code UNHANDLEABLE} 1, {@code
 * EXCEPTION} 2, {@code RETRY} 3, {@code CMPXCHG_FAILED} 3, "maps to X86EMUL_RETRY in caller"; 4.22
 * gives it 7 of its own), the 64-bit PV address space
 * ({@code public/arch-x86/xen-x86_64.h}: Xen's hole from 0xffff800000000000 to 0xffff880000000000;
 * {@code __addr_ok}; 4-level table indices are 9-bit fields from bit 12) and the switches' copies.
 */
class PvValuesTest {
  @Test
  void pageTypesHaveXensCodesAndLevels() {
    // asm/mm.h: PGT_none 0, PGT_l1..l4_page_table 1..4 (<< 61), seg_desc 5, shared 6, writable 7.
    PageType[] byCode = {
      PageType.NONE, PageType.L1_PAGE_TABLE, PageType.L2_PAGE_TABLE, PageType.L3_PAGE_TABLE,
      PageType.L4_PAGE_TABLE, PageType.SEG_DESC_PAGE, PageType.SHARED_PAGE, PageType.WRITABLE_PAGE
    };
    for (int code = 0; code < 8; code++) {
      assertEquals(byCode[code], PageType.fromCode(code));
      assertEquals((long) code << 61, byCode[code].typeInfoBits());
      assertEquals(byCode[code], PageInfo.type(((long) code << 61) | (1L << 59) | 5));
      boolean table = code >= 1 && code <= 4;
      assertEquals(table, byCode[code].isPageTable(), byCode[code].name());
      // validate_page: page tables and descriptor pages; writable, shared and none need nothing.
      assertEquals(code >= 1 && code <= 5, byCode[code].needsValidation(), byCode[code].name());
      if (table) {
        assertEquals(code, byCode[code].level());
        assertEquals(byCode[code], PageType.ofLevel(code));
      } else {
        PageType t = byCode[code];
        assertThrows(IllegalStateException.class, t::level);
      }
    }
    assertThrows(IllegalArgumentException.class, () -> PageType.fromCode(8));
    assertThrows(IllegalArgumentException.class, () -> PageType.fromCode(-1));
    assertThrows(IllegalArgumentException.class, () -> PageType.ofLevel(0));
    assertThrows(IllegalArgumentException.class, () -> PageType.ofLevel(5));
  }

  @Test
  void countFieldsAreTheLowBitsOfTheirWords() {
    // type_info count: bits 55:0; count_info count: bits 54:0; cache attribute: bits 60:58.
    assertEquals((1L << 56) - 1, PageInfo.typeCount(-1L));
    assertEquals((1L << 55) - 1, PageInfo.count(-1L));
    assertEquals(7, PageInfo.cacheAttr(-1L));
    assertEquals(5, PageInfo.cacheAttr(5L << 58));
    assertEquals(0, PageInfo.cacheAttr((1L << 58) - 1 | 1L << 61));
  }

  @Test
  void emulationResultsHaveTheEmulatorsCodes() {
    assertEquals(0, EmulationResult.OKAY.code);
    assertEquals(1, EmulationResult.UNHANDLEABLE.code);
    assertEquals(2, EmulationResult.EXCEPTION.code);
    assertEquals(3, EmulationResult.RETRY.code);
    assertEquals(3, EmulationResult.CMPXCHG_FAILED.code);
    assertEquals(EmulationResult.OKAY, EmulationResult.fromCode(0));
    assertEquals(EmulationResult.UNHANDLEABLE, EmulationResult.fromCode(1));
    assertEquals(EmulationResult.EXCEPTION, EmulationResult.fromCode(2));
    assertEquals(EmulationResult.RETRY, EmulationResult.fromCode(3));
    assertThrows(IllegalArgumentException.class, () -> EmulationResult.fromCode(4));
    assertThrows(IllegalArgumentException.class, () -> EmulationResult.fromCode(-1));
  }

  @Test
  void theAddressSpaceFollowsXensLayout() {
    // __addr_ok: below 2^47, or at or above HYPERVISOR_VIRT_END.
    assertTrue(PvMmuAbi.addrOk(0x7FFF_FFFF_FFFFL));
    assertFalse(PvMmuAbi.addrOk(0x8000_0000_0000L));
    assertFalse(PvMmuAbi.addrOk(0xFFFF_87FF_FFFF_FFFFL));
    assertTrue(PvMmuAbi.addrOk(0xFFFF_8800_0000_0000L));
    assertTrue(PvMmuAbi.addrOk(-1L));
    // Canonical: bits 63:47 all equal.
    assertTrue(PvMmuAbi.isCanonical(0x7FFF_FFFF_FFFFL));
    assertFalse(PvMmuAbi.isCanonical(0x8000_0000_0000L));
    assertFalse(PvMmuAbi.isCanonical(0xFFFF_7FFF_FFFF_FFFFL));
    assertTrue(PvMmuAbi.isCanonical(0xFFFF_8000_0000_0000L));
    // 256 << 39 | 1 << 30 | 1 << 21 | 256 << 12, sign-extended: 0xffff_8000_4030_0000.
    long va = 0xFFFF_8000_4030_0000L;
    assertEquals(256, PvMmuAbi.tableOffset(va, 4));
    assertEquals(1, PvMmuAbi.tableOffset(va, 3));
    assertEquals(1, PvMmuAbi.tableOffset(va, 2));
    assertEquals(256, PvMmuAbi.tableOffset(va, 1));
    assertThrows(IllegalArgumentException.class, () -> PvMmuAbi.tableOffset(va, 0));
    assertThrows(IllegalArgumentException.class, () -> PvMmuAbi.tableOffset(va, 5));
    // The compat area starts at L2 slot (0xf5800000 >> 21) & 511 = 428.
    assertEquals(428, PvMmuAbi.COMPAT_L2_PAGETABLE_FIRST_XEN_SLOT);
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    assertEquals(428, HigherLevelTables.compatL2FirstXenSlot(f.pae));
    assertEquals(0xF580_0000L, f.pae.hypervisorCompatVirtStart());
    assertEquals(0, f.domU.hypervisorCompatVirtStart());
    assertEquals("d0 (privileged PV64)", f.dom0.toString());
    assertEquals("d4 (PV32)", f.pae.toString());
  }

  @Test
  void eachSwitchCopyChangesItsOwnComponentOnly() throws ReflectiveOperationException {
    PvSwitches s = PvSwitches.SEED_2010;
    assertOnlyChanged(s.withPrivilegedExemption(false), "privilegedExemption", false);
    assertOnlyChanged(s.withForceUncachedMmio(true), "forceUncachedMmio", true);
    assertOnlyChanged(s.withMmioRelax(MmioRelax.ALL), "mmioRelax", MmioRelax.ALL);
    assertOnlyChanged(s.withFastPathComparesCacheBits(true), "fastPathComparesCacheBits", true);
    assertOnlyChanged(s.withL1eOwnerNeedsIomemPermission(true), "l1eOwnerNeedsIomemPermission",
        true);
    assertOnlyChanged(s.withLinearPageTables(LinearPageTables.DISABLED), "linearPageTables",
        LinearPageTables.DISABLED);
    assertOnlyChanged(s.withFlushAfterHigherLevelUpdate(true), "flushAfterHigherLevelUpdate",
        true);
    assertOnlyChanged(s.withCompatL3LinearPageTables(false), "compatL3LinearPageTables", false);
    assertOnlyChanged(s.withCompatL3UpdateRechecksSlot3(false), "compatL3UpdateRechecksSlot3",
        false);
    // The seven-switch constructor leaves both compat switches off, as upstream has them.
    PvSwitches seven = new PvSwitches(true, false, MmioRelax.OFF, false, false,
        LinearPageTables.UNRESTRICTED, false);
    assertFalse(seven.compatL3LinearPageTables());
    assertFalse(seven.compatL3UpdateRechecksSlot3());
    assertThrows(NullPointerException.class, () -> s.withMmioRelax(null));
    assertThrows(NullPointerException.class, () -> s.withLinearPageTables(null));
  }

  /** {@code copy} is {@link PvSwitches#SEED_2010} with {@code component} set to {@code value}. */
  private static void assertOnlyChanged(PvSwitches copy, String component, Object value)
      throws ReflectiveOperationException {
    for (RecordComponent c : PvSwitches.class.getRecordComponents()) {
      Object expected = c.getName().equals(component)
          ? value
          : c.getAccessor().invoke(PvSwitches.SEED_2010);
      assertEquals(expected, c.getAccessor().invoke(copy), component + " changed " + c.getName());
    }
    assertEquals(value, PvSwitches.class.getMethod(component).invoke(copy));
  }
}
