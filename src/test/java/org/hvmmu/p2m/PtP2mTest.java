package org.hvmmu.p2m;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.xen.HypervisorBugException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The generic-format p2m table: round trips at 4K, 2M and 1G, splits, freeing, capacity, superpage rules
 * for read-only MMIO, global re-typing and its checks. Frames below 0x100000 (DEFAULT's max_page) are
 * RAM with frame-table entries; MMIO frames are at 0x3fee00 and up, beyond it.
 */
class PtP2mTest {
  private static final long MMIO = 0x3FEE00L;
  private final RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
  private final P2mEntry cursor = new P2mEntry();

  private PtP2m p2m(P2mSwitches switches, int maxTablePages) {
    return new PtP2m(switches, P2mDomainConfig.DEFAULT, ro, maxTablePages);
  }

  private List<String> leaves(RadixP2m p2m) {
    List<String> out = new ArrayList<>();
    p2m.forEachLeaf(
        (gfn, order, entry) -> {
          out.add(Long.toHexString(gfn) + "/" + order.code + "=" + Long.toHexString(entry));
          return 0;
        });
    return out;
  }

  @Test
  void shouldRoundTripAtEveryOrderToday() {
    PtP2m p2m = p2m(P2mSwitches.HARDENED, 64);
    assertEquals(0, p2m.setEntry(0x1234, 0x5678, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(0, p2m.setEntry(0x400, 0x80000, PageOrder.ORDER_2M, P2mType.RAM_RW));
    assertEquals(0, p2m.setEntry(0x80000, 0xC0000, PageOrder.ORDER_1G, P2mType.RAM_RO));

    assertTrue(p2m.getEntry(0x1234, cursor));
    assertEquals(0x5678, cursor.mfn());
    assertEquals(PageOrder.ORDER_4K, cursor.order());
    assertEquals(P2mType.RAM_RW.code, cursor.typeCode());
    assertEquals(0x0000_0000_0567_8067L, cursor.entry()); // mfn << 12 | P RW US A D

    assertTrue(p2m.getEntry(0x400 + 0x1FF, cursor));
    assertEquals(0x80000 + 0x1FF, cursor.mfn());
    assertEquals(PageOrder.ORDER_2M, cursor.order());
    assertEquals(0x0000_0000_8000_00E7L, cursor.entry()); // 0x67 | PSE 0x80

    assertTrue(p2m.getEntry(0x80000 + 0x12345, cursor));
    assertEquals(0xC0000 + 0x12345, cursor.mfn());
    assertEquals(PageOrder.ORDER_1G, cursor.order());
    assertEquals(P2mType.RAM_RO.code, cursor.typeCode());
    assertEquals(0x0030_0000_C000_00E5L, cursor.entry()); // type 3 at PTE bit 52, 0x65 | PSE

    assertFalse(p2m.getEntry(0x1235, cursor));
    assertEquals(P2mEntry.INVALID_MFN, cursor.mfn());
    assertEquals(P2mType.INVALID.code, cursor.typeCode());
    // root, then L3 + L2 + L1 for the 4K, L2 shared for the 2M (same 1G region), L3 shared for the 1G
    assertEquals(4, p2m.tablePages());
  }

  @Test
  void shouldRoundTripAtEveryOrderInTheSeed() {
    PtP2m p2m = p2m(P2mSwitches.SEED_2010, 64);
    assertEquals(0, p2m.setEntry(0x1234, 0x5678, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(0, p2m.setEntry(0x40200, 0x80000, PageOrder.ORDER_2M, P2mType.RAM_LOGDIRTY));
    assertEquals(0, p2m.setEntry(0x80000, 0xC0000, PageOrder.ORDER_1G, P2mType.RAM_SHARED));
    assertTrue(p2m.getEntry(0x1234, cursor));
    assertEquals(0x0000_0000_0567_8267L, cursor.entry()); // type 1 << 9 = 0x200 | 0x67
    assertEquals(1, cursor.typeCode());
    assertTrue(p2m.getEntry(0x40201, cursor));
    assertEquals(0x0000_0000_8000_04E5L, cursor.entry()); // 0x465 | PSE
    assertTrue(p2m.getEntry(0x80001, cursor));
    assertEquals(0x0010_0000_C000_0AE5L, cursor.entry()); // 13 << 9 = 0x1A00: flag bit 12 is PTE bit 52
    assertEquals(13, cursor.typeCode());
  }

  @Test
  void shouldSplitA2mSuperpageCopyingItsFlags() {
    PtP2m p2m = p2m(P2mSwitches.HARDENED, 64);
    p2m.setEntry(0x200, 0x400, PageOrder.ORDER_2M, P2mType.RAM_RW);
    assertEquals(3, p2m.tablePages());
    assertEquals(0, p2m.setEntry(0x205, 0x9999, PageOrder.ORDER_4K, P2mType.RAM_RO));
    assertEquals(4, p2m.tablePages());
    assertTrue(p2m.getEntry(0x204, cursor));
    assertEquals(0x404, cursor.mfn());
    assertEquals(PageOrder.ORDER_4K, cursor.order());
    assertEquals(0x0000_0000_0040_4067L, cursor.entry()); // PSE cleared on the 4K copy
    assertTrue(p2m.getEntry(0x205, cursor));
    assertEquals(0x9999, cursor.mfn());
    assertEquals(P2mType.RAM_RO.code, cursor.typeCode());
    assertTrue(p2m.getEntry(0x3FF, cursor));
    assertEquals(0x5FF, cursor.mfn());
  }

  @Test
  void shouldSplitA1gSuperpageTwice() {
    PtP2m p2m = p2m(P2mSwitches.HARDENED, 64);
    p2m.setEntry(0x40000, 0x40000, PageOrder.ORDER_1G, P2mType.RAM_RW);
    assertEquals(2, p2m.tablePages());
    assertEquals(0, p2m.setEntry(0x40201, 0x7, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(4, p2m.tablePages());
    assertTrue(p2m.getEntry(0x40400, cursor));
    assertEquals(PageOrder.ORDER_2M, cursor.order());
    assertEquals(0x40400, cursor.mfn());
    assertEquals(0x0000_0000_4040_00E7L, cursor.entry()); // 2M children keep PSE
    assertTrue(p2m.getEntry(0x40200, cursor));
    assertEquals(PageOrder.ORDER_4K, cursor.order());
    assertEquals(0x40200, cursor.mfn());
    assertTrue(p2m.getEntry(0x40201, cursor));
    assertEquals(0x7, cursor.mfn());
  }

  @Test
  void shouldFreeTheSubtreeASuperpageReplaces() {
    PtP2m p2m = p2m(P2mSwitches.HARDENED, 64);
    p2m.setEntry(0x205, 0x9, PageOrder.ORDER_4K, P2mType.RAM_RW);
    assertEquals(4, p2m.tablePages());
    p2m.setEntry(0x200, 0x400, PageOrder.ORDER_2M, P2mType.RAM_RW);
    assertEquals(3, p2m.tablePages());
    assertTrue(p2m.checkInvariants());
    p2m.setEntry(0x0, 0x0, PageOrder.ORDER_1G, P2mType.RAM_RW);
    assertEquals(2, p2m.tablePages());
    p2m.teardown();
    assertEquals(1, p2m.tablePages());
    assertEquals(List.of(), leaves(p2m));
  }

  @Test
  void shouldLeaveThePoolUnchangedWhenTablesRunOut() {
    PtP2m p2m = p2m(P2mSwitches.HARDENED, 3);
    assertEquals(P2mSetResult.NO_MEMORY, p2m.setEntry(0x1, 0x1, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(1, p2m.tablePages());
    assertEquals(List.of(), leaves(p2m));
    assertEquals(0, p2m.setEntry(0x200, 0x400, PageOrder.ORDER_2M, P2mType.RAM_RW));
    assertEquals(0, p2m.freeTablePages());
    List<String> before = leaves(p2m);
    assertEquals(P2mSetResult.NO_MEMORY, p2m.setEntry(0x201, 0x1, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(before, leaves(p2m));
    assertEquals(List.of("200/9=4000e7"), before);
    assertEquals(-12, P2mSetResult.NO_MEMORY);
    assertThrows(IllegalArgumentException.class, () -> p2m(P2mSwitches.HARDENED, 0));
  }

  @Test
  void shouldRefuseAnOverlappingMmioSuperpageToday() {
    PtP2m p2m = p2m(P2mSwitches.HARDENED, 64);
    ro.addSingleton(MMIO + 0x1FF); // last frame of the 2M span
    assertEquals(
        P2mSetResult.RETRY_ORDER_4K,
        p2m.setEntry(0x200, MMIO, PageOrder.ORDER_2M, P2mType.MMIO_DIRECT));
    assertEquals(List.of(), leaves(p2m));
    assertEquals(0, p2m.setEntry(0x3FF, MMIO + 0x1FF, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT));
    assertTrue(p2m.getEntry(0x3FF, cursor));
    assertEquals(0x0050_0003_FEFF_F07DL, cursor.entry()); // 0x507D, no RW, UC
    // the next 2M span does not overlap: mapped, RW, UC-, PSE: 0x5077 | 0x80
    assertEquals(0, p2m.setEntry(0x400, MMIO + 0x200, PageOrder.ORDER_2M, P2mType.MMIO_DIRECT));
    assertTrue(p2m.getEntry(0x400, cursor));
    assertEquals(0x0050_0003_FF00_00F7L, cursor.entry());
  }

  @Test
  void shouldAssertNoValidMmioSuperpageInTheSeed() {
    PtP2m p2m = p2m(P2mSwitches.SEED_2010, 64);
    HypervisorBugException bug =
        assertThrows(
            HypervisorBugException.class,
            () -> p2m.setEntry(0x200, 0x80000, PageOrder.ORDER_2M, P2mType.MMIO_DIRECT));
    assertTrue(bug.getMessage().contains("mfn_valid"), bug.getMessage());
    assertEquals(1, p2m.tablePages());
    // a frame without a frame-table entry: the seed writes the 2M entry empty
    assertEquals(0, p2m.setEntry(0x200, MMIO, PageOrder.ORDER_2M, P2mType.MMIO_DIRECT));
    assertFalse(p2m.getEntry(0x200, cursor));
    assertEquals(0L, cursor.entry());
    assertEquals(P2mType.INVALID.seedCode, cursor.typeCode());
    // at 4K the seed maps it whatever mfn_valid says: 0xA77
    assertEquals(0, p2m.setEntry(0x10, MMIO, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT));
    assertTrue(p2m.getEntry(0x10, cursor));
    assertEquals(0x0000_0003_FEE0_0A77L, cursor.entry());
  }

  /** The seed relies on ot == nt == mmio_direct to revoke write access after a table is registered. */
  @Test
  void shouldRevokeWriteAccessByTheSeedsReDerivation() {
    PtP2m p2m = p2m(P2mSwitches.SEED_2010, 64);
    p2m.setEntry(0x10, MMIO, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT);
    p2m.setEntry(0x11, MMIO + 1, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT);
    p2m.setEntry(0x12, 0x42, PageOrder.ORDER_4K, P2mType.RAM_RW);
    ro.addSingleton(MMIO);
    p2m.getEntry(0x10, cursor);
    assertEquals(0x0000_0003_FEE0_0A77L, cursor.entry()); // stale until re-derived
    p2m.changeTypeGlobal(P2mType.MMIO_DIRECT, P2mType.MMIO_DIRECT);
    p2m.getEntry(0x10, cursor);
    assertEquals(0x0000_0003_FEE0_0A75L, cursor.entry());
    p2m.getEntry(0x11, cursor);
    assertEquals(0x0000_0003_FEE0_1A77L, cursor.entry());
    p2m.getEntry(0x12, cursor);
    assertEquals(0x0000_0000_0004_2267L, cursor.entry());
  }

  /**
   * Today nothing in the p2m revokes an existing writable mapping when a range is added later: upstream
   * relies on registering before the guest has memory, or crashes the domain (reference 3.7). Pinned so
   * that the property test's crash discipline is seen to be needed.
   */
  @Test
  void shouldLeaveAnExistingMappingWritableToday() {
    PtP2m p2m = p2m(P2mSwitches.HARDENED, 64);
    p2m.setEntry(0x10, MMIO, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT);
    ro.addSingleton(MMIO);
    p2m.changeTypeGlobal(P2mType.RAM_RW, P2mType.RAM_LOGDIRTY);
    p2m.getEntry(0x10, cursor);
    assertEquals(0x0050_0003_FEE0_0077L, cursor.entry());
    assertThrows(
        HypervisorBugException.class,
        () -> p2m.changeTypeGlobal(P2mType.MMIO_DIRECT, P2mType.MMIO_DIRECT));
  }

  @Test
  void shouldRetypeGloballyAndBack() {
    PtP2m p2m = p2m(P2mSwitches.HARDENED, 64);
    p2m.setEntry(0x1, 0x11, PageOrder.ORDER_4K, P2mType.RAM_RW);
    p2m.setEntry(0x200, 0x400, PageOrder.ORDER_2M, P2mType.RAM_RW);
    p2m.setEntry(0x2, MMIO, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT);
    p2m.changeTypeGlobal(P2mType.RAM_RW, P2mType.RAM_LOGDIRTY);
    p2m.getEntry(0x1, cursor);
    assertEquals(0x0020_0000_0001_1065L, cursor.entry()); // 0x2065: no RW
    p2m.getEntry(0x201, cursor);
    assertEquals(0x0020_0000_0040_00E5L, cursor.entry()); // 0x2065 | PSE
    p2m.getEntry(0x2, cursor);
    assertEquals(0x0050_0003_FEE0_0077L, cursor.entry()); // untouched
    p2m.changeTypeGlobal(P2mType.RAM_LOGDIRTY, P2mType.RAM_RW);
    p2m.getEntry(0x1, cursor);
    assertEquals(0x0000_0000_0001_1067L, cursor.entry());
  }

  @Test
  void shouldKeepTheSeedsBugOns() {
    PtP2m p2m = p2m(P2mSwitches.SEED_2010, 64);
    assertThrows(
        HypervisorBugException.class, () -> p2m.changeTypeGlobal(P2mType.GRANT_MAP_RW, P2mType.RAM_RW));
    assertThrows(
        HypervisorBugException.class, () -> p2m.changeTypeGlobal(P2mType.RAM_RW, P2mType.GRANT_MAP_RO));
    assertThrows(
        HypervisorBugException.class, () -> p2m.changeTypeGlobal(P2mType.RAM_RW, P2mType.MMIO_DIRECT));
    assertThrows(
        HypervisorBugException.class, () -> p2m.changeTypeGlobal(P2mType.MMIO_DIRECT, P2mType.RAM_RW));
    p2m.changeTypeGlobal(P2mType.MMIO_DIRECT, P2mType.MMIO_DIRECT);
    p2m.changeTypeGlobal(P2mType.MMIO_DM, P2mType.RAM_RW); // the seed checks mmio_direct only
    p2m.changeTypeGlobal(P2mType.RAM_RW, P2mType.RAM_LOGDIRTY);
    assertThrows(
        IllegalArgumentException.class, () -> p2m.changeTypeGlobal(P2mType.IOREQ_SERVER, P2mType.RAM_RW));
  }

  @ParameterizedTest
  @EnumSource(
      value = P2mType.class,
      names = {"MMIO_DIRECT", "MMIO_DM", "GRANT_MAP_RW", "GRANT_MAP_RO", "RAM_RO", "RAM_SHARED"})
  void shouldAcceptOnlyChangeableTypesToday(P2mType type) {
    PtP2m p2m = p2m(P2mSwitches.HARDENED, 64);
    assertThrows(HypervisorBugException.class, () -> p2m.changeTypeGlobal(type, P2mType.RAM_RW));
    assertThrows(HypervisorBugException.class, () -> p2m.changeTypeGlobal(P2mType.RAM_RW, type));
    p2m.changeTypeGlobal(P2mType.RAM_RW, P2mType.RAM_RW);
    p2m.changeTypeGlobal(P2mType.IOREQ_SERVER, P2mType.RAM_LOGDIRTY);
  }

  /** The seed shifts INVALID_MFN unmasked into the entry; today it is clipped to 40 bits (and PSE_PAT). */
  @Test
  void shouldEncodeInvalidMfnPerEra() {
    PtP2m seed = p2m(P2mSwitches.SEED_2010, 64);
    seed.setEntry(0x200, P2mEntry.INVALID_MFN, PageOrder.ORDER_2M, P2mType.POPULATE_ON_DEMAND);
    seed.getEntry(0x200, cursor);
    // ~0 << 12 | 0xC00 (6 << 9) | PSE 0x80: the type bits are overwritten
    assertEquals(0xFFFF_FFFF_FFFF_FC80L, cursor.entry());
    assertEquals(0x3FFE, cursor.typeCode());
    PtP2m today = p2m(P2mSwitches.HARDENED, 64);
    today.setEntry(0x200, P2mEntry.INVALID_MFN, PageOrder.ORDER_2M, P2mType.POPULATE_ON_DEMAND);
    today.getEntry(0x200, cursor);
    // mfn 0xffffffffff & ~1 << 12, type 6 at bit 52, NX at bit 63, PSE
    assertEquals(0x806F_FFFF_FFFF_E080L, cursor.entry());
    assertEquals(P2mType.POPULATE_ON_DEMAND.code, cursor.typeCode());
  }

  @Test
  void shouldRejectCallerErrors() {
    PtP2m p2m = p2m(P2mSwitches.HARDENED, 64);
    assertThrows(
        IllegalArgumentException.class,
        () -> p2m.setEntry(0x201, 0x400, PageOrder.ORDER_2M, P2mType.RAM_RW));
    assertThrows(
        IllegalArgumentException.class,
        () -> p2m.setEntry(0x200, 0x401, PageOrder.ORDER_2M, P2mType.RAM_RW));
    assertThrows(
        IllegalArgumentException.class,
        () -> p2m.setEntry(RadixP2m.GFN_LIMIT, 0x1, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertThrows(
        IllegalArgumentException.class,
        () -> p2m.setEntry(0x1, 0x1, PageOrder.ORDER_4K, P2mType.RAM_PAGING_IN_START));
    assertThrows(IllegalArgumentException.class, () -> p2m.getEntry(-1, cursor));
  }
}
