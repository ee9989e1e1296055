package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.hvmmu.pci.ConfigBuilder;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.rangeset.owned.OwnedRanges;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, D4 and D6: a table or PBA whose address leaves {@code [0, 2^64)} (or, for a 32-bit BAR,
 * 4 GiB) is unusable everywhere, with a warning; the hardened model refuses it with {@code -ENXIO}
 * and protects nothing, and Xen's presets keep Xen's wrapping arithmetic without throwing. Every
 * address below is worked out by hand.
 */
class RegionArithmeticTest {
  /**
   * D4: 64-bit BAR 0 = 0xfffffffffffffff0 (low dword 0xfffffff4: address 0xfffffff0, type bits
   * 2:1 = 10 for 64-bit, bit 3 clear so not prefetchable; high dword 0xffffffff), capability at
   * 0x40, 2 entries, table and PBA at BAR 0 + 0. The table is [0xfffffffffffffff0, +0x20): its
   * last byte would be 2^64 + 0xf. The PBA, 8 bytes (1 byte as Xen sizes it), fits below 2^64.
   */
  static ConfigSpace d4() {
    return ConfigBuilder.normal()
        .set32(0x10, 0xfffffff4L)
        .set32(0x14, 0xffffffffL)
        .set8(0x34, 0x40)
        .msix(0x40, 0, 0x0001, 0, 0)
        .build();
  }

  /**
   * D6: 64-bit BAR 0 = 0xffffffff00001000 (low dword 0x00001004), table at offset 0xfffff000 (BIR
   * 0), 1 entry; 0xffffffff00001000 + 0xfffff000 = 2^64 + 0: the table would land at address 0.
   * The PBA at BAR 0 + 0x800 = 0xffffffff00001800 is fine.
   */
  static ConfigSpace d6() {
    return ConfigBuilder.normal()
        .set32(0x10, 0x00001004L)
        .set32(0x14, 0xffffffffL)
        .set8(0x34, 0x40)
        .msix(0x40, 0, 0x0000, 0xfffff000L, 0x800)
        .build();
  }

  /** A 32-bit BAR 0 = 0xfffff000, table at offset {@code tableOffset}, 1 entry, PBA at + 0x800. */
  static ConfigSpace bar32(long tableOffset) {
    return ConfigBuilder.normal()
        .set32(0x10, 0xfffff000L)
        .set8(0x34, 0x40)
        .msix(0x40, 0, 0x0000, tableOffset, 0x800)
        .build();
  }

  static PciDevice device(ConfigSpace config) {
    return new PciDevice(new PciAddress(0, 3, 0, 0), config, "test");
  }

  static MsixDevice msix(PciDevice device, RangeSet ro, MsixSwitches switches) {
    return new MsixDevice(device, new OwnedRanges(ro, switches.removalPolicy()), switches);
  }

  static RangeSet ro() {
    return new IntervalTreeRangeSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX);
  }

  @Test
  void unusableReasonShouldCheckEachAdditionUnsigned() {
    // Fits: 0xfe000000 + 0x2000 .. + 0x1f.
    assertEquals(Optional.empty(), MsixTableDescriptor.unusableReason(0xfe000000L, true, 0x2000, 32));
    // The very last 16 bytes of the address space: 0xfffffffffffffff0 .. 0xffffffffffffffff.
    assertEquals(Optional.empty(),
        MsixTableDescriptor.unusableReason(0xfffffffffffffff0L, false, 0, 16));
    // One byte more crosses 2^64.
    assertTrue(MsixTableDescriptor.unusableReason(0xfffffffffffffff0L, false, 0, 17).get()
        .contains("crosses 2^64"));
    // BAR + offset itself wraps (D6).
    assertTrue(MsixTableDescriptor.unusableReason(0xffffffff00001000L, false, 0xfffff000L, 16)
        .get().contains("wraps past 2^64 (to 0x0)"));
    // A 32-bit BAR: ending at 0xffffffff is fine, at 0x100000000 is not.
    assertEquals(Optional.empty(),
        MsixTableDescriptor.unusableReason(0xfffff000L, true, 0xff0, 16));
    assertTrue(MsixTableDescriptor.unusableReason(0xfffff000L, true, 0xff8, 16).get()
        .contains("above 4 GiB"));
    // The same sum from a 64-bit BAR is a 64-bit address, fine.
    assertEquals(Optional.empty(),
        MsixTableDescriptor.unusableReason(0xfffff000L, false, 0xff8, 16));
  }

  @Test
  void d4LayoutShouldBeUnusableWithAWarning() {
    MsixLayout layout = MsixLayout.inspect(device(d4()));
    assertEquals(2, layout.capability().tableSize());
    assertEquals(new MsixRegion(0, 0, 32, false, 0, 0, 0), layout.table());
    // The PBA, 8 bytes for 2 entries, is [0xfffffffffffffff0, 0xfffffffffffffff7]: it fits.
    assertEquals(new MsixRegion(0, 0, 8, true, 0xfffffffffffffff0L, 0xfffffffffffffL,
        0xfffffffffffffL), layout.pba());
    List<String> w = layout.warnings();
    assertTrue(w.contains("table unusable: [0xfffffffffffffff0, +0x20) crosses 2^64 (its last byte"
        + " would wrap to 0xf); no frames are protected"), w.toString());
    assertFalse(w.stream().anyMatch(x -> x.startsWith("PBA unusable")), w.toString());
  }

  @Test
  void d4HardenedShouldRefuseWithEnxioAndProtectNothing() {
    RangeSet ro = ro();
    MsixDevice m = msix(device(d4()), ro, MsixSwitches.HARDENED);
    assertEquals(-Errno.ENXIO, m.pciPrepareMsix().rc());
    assertEquals(-Errno.ENXIO, m.pciEnableMsix(0, 0, 0xfffffffffffffff0L).rc());
    assertTrue(ro.isEmpty(), ro.toString());
    assertEquals(0, m.tableFirst());
    assertEquals(0, m.usedEntries());
  }

  @Test
  void d4XenShouldKeepXensArithmeticWithoutThrowing() {
    // Xen: table.first = 0xfffffffffffff, table.last = PFN_DOWN(0xf) = 0: rangeset_add_range's
    // ASSERT(s <= e). hvmmu adds nothing and reports -EINVAL in the range-set result.
    RangeSet ro = ro();
    MsixDevice m = msix(device(d4()), ro, MsixSwitches.XEN_4_22);
    MsixResult r = m.pciPrepareMsix();
    assertEquals(0, r.rc());
    assertEquals(-Errno.EINVAL, r.rangesetRc());
    assertEquals(0xfffffffffffffL, m.tableFirst());
    assertEquals(0, m.tableLast());
    assertEquals("r/o mmio ranges { fffffffffffff }", ro.toString(), "the PBA only");
    assertEquals(0, m.pciReleaseMsix().rc());
  }

  @Test
  void d6LayoutShouldWarnAndNotPlaceTheTableAtZero() {
    MsixLayout layout = MsixLayout.inspect(device(d6()));
    assertFalse(layout.table().usable());
    assertTrue(layout.warnings().contains("table unusable: BAR address 0xffffffff00001000 + offset"
        + " 0xfffff000 wraps past 2^64 (to 0x0); no frames are protected"),
        layout.warnings().toString());
    // The PBA: 0xffffffff00001800, frame 0xffffffff00001.
    assertEquals(new MsixRegion(0, 0x800, 8, true, 0xffffffff00001800L, 0xffffffff00001L,
        0xffffffff00001L), layout.pba());
  }

  @Test
  void d6HardenedShouldNeverProtectFrameZero() {
    RangeSet ro = ro();
    MsixDevice m = msix(device(d6()), ro, MsixSwitches.HARDENED);
    assertEquals(-Errno.ENXIO, m.pciPrepareMsix().rc());
    assertEquals(-Errno.ENXIO, m.pciEnableMsix(0, 0, 0xffffffff00001000L).rc());
    assertFalse(ro.containsSingleton(0));
    assertTrue(ro.isEmpty(), ro.toString());
  }

  @Test
  void d6XenShouldProtectFrameZeroAsXenDoes() {
    RangeSet ro = ro();
    MsixDevice m = msix(device(d6()), ro, MsixSwitches.XEN_4_22);
    assertEquals(0, m.pciPrepareMsix().rc());
    assertTrue(ro.containsSingleton(0), "u64 wrap: table_paddr 0, frame 0");
    assertTrue(ro.containsSingleton(0xffffffff00001L), "the PBA");
  }

  @Test
  void aTableEndingAt4GibOfA32BitBarShouldBeUsable() {
    // 0xfffff000 + 0xff0 = 0xffffff0, 16 bytes, last byte 0xffffffff: frame 0xfffff.
    MsixLayout layout = MsixLayout.inspect(device(bar32(0xff0)));
    assertEquals(new MsixRegion(0, 0xff0, 16, true, 0xfffffff0L, 0xfffffL, 0xfffffL),
        layout.table());
    RangeSet ro = ro();
    assertEquals(0, msix(device(bar32(0xff0)), ro, MsixSwitches.HARDENED).pciPrepareMsix().rc());
    assertTrue(ro.containsSingleton(0xfffffL));
  }

  @Test
  void a32BitBarsTableAbove4GibShouldBeUnusable() {
    // 0xfffff000 + 0x1000 = 0x100000000: beyond what a 32-bit BAR decodes. Xen adds in 64 bits and
    // protects frame 0x100000, which is not the device's.
    MsixLayout layout = MsixLayout.inspect(device(bar32(0x1000)));
    assertFalse(layout.table().usable());
    assertTrue(layout.warnings().contains("table unusable: [0x100000000, 0x10000000f] of 32-bit BAR"
        + " 0xfffff000 ends above 4 GiB, which a 32-bit BAR cannot decode; no frames are protected"),
        layout.warnings().toString());
    RangeSet hardened = ro();
    assertEquals(-Errno.ENXIO,
        msix(device(bar32(0x1000)), hardened, MsixSwitches.HARDENED).pciPrepareMsix().rc());
    assertTrue(hardened.isEmpty());
    RangeSet xen = ro();
    assertEquals(0, msix(device(bar32(0x1000)), xen, MsixSwitches.XEN_4_22).pciPrepareMsix().rc());
    assertTrue(xen.containsSingleton(0x100000L));
  }

  @Test
  void theSwitchAloneShouldDecide() {
    assertTrue(MsixSwitches.HARDENED.checkedRegionArithmetic());
    assertFalse(MsixSwitches.XEN_4_22.checkedRegionArithmetic());
    assertFalse(MsixSwitches.SEED_2010.checkedRegionArithmetic());
    RangeSet ro = ro();
    MsixSwitches s = MsixSwitches.XEN_4_22.withCheckedRegionArithmetic(true);
    assertEquals(-Errno.ENXIO, msix(device(d6()), ro, s).pciPrepareMsix().rc());
    assertTrue(ro.isEmpty());
  }
}
