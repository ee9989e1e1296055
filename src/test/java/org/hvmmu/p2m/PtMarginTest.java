package org.hvmmu.p2m;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.PageOrder;
import org.junit.jupiter.api.Test;

/**
 * Generic-format leaves, pinned from Xen: the seed's {@code set_p2m_entry} (RELEASE-4.1.0,
 * {@code xen/arch/x86/mm/p2m.c}) writes a 4-KByte leaf for a frame without a frame-table entry
 * only for mmio_direct; {@code p2m_pt_set_entry} (RELEASE-4.22.0, {@code p2m-pt.c}) writes one
 * for a valid frame of any type and, for an invalid one, only for {@code p2m_allows_invalid_mfn}
 * types (ram_rw is not one); and {@code p2m_type_to_flags} is called with {@code level} 0
 * for a 4-KByte leaf, so a read-only mmio_direct 4-KByte leaf never trips {@code ASSERT(!level)}
 * when it is re-derived.
 */
class PtMarginTest {
  private static final long INVALID_FRAME = 0x20_0000L; // >= max_page 0x100000
  private final RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
  private final P2mEntry cursor = new P2mEntry();

  @Test
  void shouldWriteSeedMmioLeavesForFramesWithoutFrameTableEntries() {
    PtP2m p2m = new PtP2m(P2mSwitches.SEED_2010, P2mDomainConfig.DEFAULT, ro, 64);
    assertEquals(0, p2m.setEntry(0x10, INVALID_FRAME, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT));
    assertEquals(0, p2m.setEntry(0x11, INVALID_FRAME + 1, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertTrue(p2m.getEntry(0x10, cursor));
    assertEquals(INVALID_FRAME, cursor.mfn());
    assertEquals(P2mType.MMIO_DIRECT.seedCode, cursor.typeCode());
    assertFalse(p2m.getEntry(0x11, cursor));
  }

  @Test
  void shouldWriteLeavesForValidFramesToday() {
    PtP2m p2m = new PtP2m(P2mSwitches.HARDENED, P2mDomainConfig.DEFAULT, ro, 64);
    assertEquals(0, p2m.setEntry(0x10, 0x5678, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertTrue(p2m.getEntry(0x10, cursor));
    assertEquals(0x5678, cursor.mfn());
    assertEquals(P2mType.RAM_RW.code, cursor.typeCode());
    assertTrue(p2m.isWritable(cursor.entry()));
    // ram_rw is not in p2m_allows_invalid_mfn: an invalid frame gets l1e_empty()
    assertEquals(0, p2m.setEntry(0x11, INVALID_FRAME, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertFalse(p2m.getEntry(0x11, cursor));
    assertEquals(0L, cursor.entry());
  }

  /** A global re-type of a read-only mmio_direct 4-KByte leaf passes level 0, as Xen does. */
  @Test
  void shouldReDeriveAReadOnlyMmioLeafAtLevelZero() {
    P2mSwitches switches =
        P2mSwitches.HARDENED.withGlobalRetype(P2mSwitches.GlobalRetype.SEED_MMIO_DIRECT_SAME_ONLY);
    PtP2m p2m = new PtP2m(switches, P2mDomainConfig.DEFAULT, ro, 64);
    assertEquals(0, p2m.setEntry(0x100, 0xFEE01, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT));
    ro.addSingleton(0xFEE01);
    assertDoesNotThrow(() -> p2m.changeTypeGlobal(P2mType.MMIO_DIRECT, P2mType.MMIO_DIRECT));
    assertTrue(p2m.getEntry(0x100, cursor));
    assertEquals(P2mType.MMIO_DIRECT.code, cursor.typeCode());
    assertFalse(p2m.isWritable(cursor.entry()));
  }
}
