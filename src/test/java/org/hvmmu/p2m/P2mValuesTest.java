package org.hvmmu.p2m;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.function.IntPredicate;
import org.hvmmu.p2m.ept.EptEntry;
import org.hvmmu.p2m.ept.EptP2m;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.PageOrder;
import org.junit.jupiter.api.Test;

/**
 * Xen's p2m type classes by code, from {@code asm-x86/p2m.h} at RELEASE-4.1.0 (the seed's
 * numbering: invalid 0, ram_rw 1, logdirty 2, ro 3, mmio_dm 4, mmio_direct 5, pod 6, grant_map_rw
 * 7, grant_map_ro 8, paging_out 9, paged 10, paging_in 11, paging_in_start 12, shared 13) and at
 * RELEASE-4.22.0 (ram_rw 0, invalid 1, logdirty 2, ro 3, mmio_dm 4, mmio_direct 5, pod 6,
 * grant_map_rw 7, grant_map_ro 8, paging_out 9, paged 10, paging_in 11, shared 12, broken 13,
 * map_foreign 14, ioreq_server 15), and the small value types.
 */
class P2mValuesTest {
  private static void assertClass(Set<Integer> members, IntPredicate is) {
    for (int code = -1; code <= 70; code++) {
      assertEquals(members.contains(code), is.test(code), "code " + code);
    }
  }

  @Test
  void ramTypesByEra() {
    // P2M_RAM_TYPES: ram_rw, logdirty, ro, the paging types, shared (and today ioreq_server).
    assertClass(Set.of(1, 2, 3, 9, 10, 11, 12, 13), c -> P2mTypes.isRam(P2mEra.SEED_2010, c));
    assertClass(Set.of(0, 2, 3, 9, 10, 11, 12, 15), c -> P2mTypes.isRam(P2mEra.TODAY, c));
  }

  @Test
  void mmioAndGrantTypesByEra() {
    // P2M_MMIO_TYPES: mmio_dm and mmio_direct, 4 and 5 in both eras; grants 7 and 8.
    assertClass(Set.of(4, 5), c -> P2mTypes.isMmio(P2mEra.SEED_2010, c));
    assertClass(Set.of(4, 5), c -> P2mTypes.isMmio(P2mEra.TODAY, c));
    assertClass(Set.of(7, 8), c -> P2mTypes.isGrant(P2mEra.SEED_2010, c));
    assertClass(Set.of(7, 8), c -> P2mTypes.isGrant(P2mEra.TODAY, c));
  }

  @Test
  void accessCodesRunFrom0To10() {
    assertEquals(P2mAccess.N, P2mAccess.fromCode(0));
    assertEquals(P2mAccess.R_PW, P2mAccess.fromCode(10));
    assertThrows(IllegalArgumentException.class, () -> P2mAccess.fromCode(-1));
    assertThrows(IllegalArgumentException.class, () -> P2mAccess.fromCode(11));
  }

  @Test
  void mfnValidIsBelowMaxPage() {
    P2mDomainConfig c = new P2mDomainConfig(0x100, false, false, false, P2mAccess.RWX);
    assertTrue(c.mfnValid(0));
    assertTrue(c.mfnValid(0xff));
    assertFalse(c.mfnValid(0x100));
    assertFalse(c.mfnValid(-1));
    assertFalse(new P2mDomainConfig(0, false, false, false, P2mAccess.RWX).mfnValid(0));
    assertThrows(IllegalArgumentException.class,
        () -> new P2mDomainConfig(-1, false, false, false, P2mAccess.RWX));
  }

  @Test
  void switchesAreCopiedWithOneValueChanged() {
    P2mSwitches s = P2mSwitches.XEN_4_22;
    assertEquals(P2mEra.SEED_2010, s.withEra(P2mEra.SEED_2010).era());
    assertEquals(!s.roMmioForcesUc(), s.withRoMmioForcesUc(!s.roMmioForcesUc()).roMmioForcesUc());
    for (P2mSwitches.SuperpageRoMmio v : P2mSwitches.SuperpageRoMmio.values()) {
      assertEquals(v, s.withSuperpageRoMmio(v).superpageRoMmio());
    }
    for (P2mSwitches.GlobalRetype v : P2mSwitches.GlobalRetype.values()) {
      assertEquals(v, s.withGlobalRetype(v).globalRetype());
    }
    assertEquals(!s.eptAccessedDirty(),
        s.withEptAccessedDirty(!s.eptAccessedDirty()).eptAccessedDirty());
    assertEquals(!s.eptAccessRestriction(),
        s.withEptAccessRestriction(!s.eptAccessRestriction()).eptAccessRestriction());
    assertEquals(!s.eptSplitRoMmioSuperpages(),
        s.withEptSplitRoMmioSuperpages(!s.eptSplitRoMmioSuperpages()).eptSplitRoMmioSuperpages());
    assertEquals(!s.shadowDropsRwResult(),
        s.withShadowDropsRwResult(!s.shadowDropsRwResult()).shadowDropsRwResult());
    assertEquals(s, s.withEra(P2mEra.SEED_2010).withEra(s.era()));
  }

  @Test
  void onlyRamRwAndWritableMmioEntriesAreWritable() {
    // EPT: W is bit 1; x86: R/W is bit 1. ram_rw is writable, ram_ro never, mmio_direct unless
    // its frame is in mmio_ro_ranges.
    RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
    ro.addSingleton(0x3fee01);
    P2mEntry e = new P2mEntry();
    for (RadixP2m p : List.of(
        new PtP2m(P2mSwitches.HARDENED, P2mDomainConfig.DEFAULT, ro, 16),
        new EptP2m(P2mSwitches.HARDENED, CpuFeatures.ALL, P2mDomainConfig.DEFAULT, ro, 16))) {
      assertEquals(0, p.setEntry(0x10, 0x20, PageOrder.ORDER_4K, P2mType.RAM_RW));
      assertEquals(0, p.setEntry(0x11, 0x21, PageOrder.ORDER_4K, P2mType.RAM_RO));
      assertEquals(0, p.setEntry(0x12, 0x3fee00, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT));
      assertEquals(0, p.setEntry(0x13, 0x3fee01, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT));
      String what = p.getClass().getSimpleName();
      assertTrue(p.getEntry(0x10, e) && p.isWritable(e.entry()), what);
      assertEquals(2, e.entry() & 2, what);
      assertTrue(p.getEntry(0x11, e) && !p.isWritable(e.entry()), what);
      assertTrue(p.getEntry(0x12, e) && p.isWritable(e.entry()), what);
      assertTrue(p.getEntry(0x13, e) && !p.isWritable(e.entry()), what);
      assertEquals(0, e.entry() & 2, what);
    }
  }

  @Test
  void eptFieldsAndTexts() {
    // Intel SDM: EPT memory type in bits 5:3 (WB 6 gives 0x30, UC 0), entries printed as 16
    // hex digits.
    assertEquals(6, EptEntry.emt(0xB800_0000_0567_8337L));
    assertEquals(0, EptEntry.emt(0xB850_0003_FEE0_0307L));
    assertEquals(7, EptEntry.emt(0x38));
    assertEquals("0000000000000005", EptEntry.toHex(5));
    assertEquals("b8500003fee00307", EptEntry.toHex(0xB850_0003_FEE0_0307L));
    RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
    EptP2m ept = new EptP2m(P2mSwitches.HARDENED, CpuFeatures.ALL, P2mDomainConfig.DEFAULT, ro, 8);
    assertSame(CpuFeatures.ALL, ept.cpu());
    P2mEntry e = new P2mEntry();
    assertEquals(0, ept.setEntry(0x1234, 0x5678, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertTrue(ept.getEntry(0x1234, e));
    assertEquals("P2mEntry[entry=0xb800000005678337, mfn=0x5678, type=0, order=0]", e.toString());
  }
}
