package org.hvmmu.host.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The edges of the pure access rules, worked from Xen 4.22: {@code msixtbl_range}'s snoop
 * (arch/x86/hvm/vmsi.c: a plain 4-byte store of Vector Control, offset 12 of a 16-byte entry, with
 * bit 0 clear, an 8-byte store's high half counting as a 4-byte store at +4; a forward movs of 4-
 * or 8-byte elements ending at an entry's end, snooped at its last dword), {@code
 * pci_conf_write_intercept}'s window (registers 64 to 255 only), {@code mmio_ro_emulated_write}'s
 * checks (aligned, at the faulting address, at most 4 bytes for MMCFG) and {@code
 * subpage_mmio_read}'s (a power of two from 1 to 8, aligned).
 */
class AccessBoundariesTest {
  @Test
  void plainStoresAreSnoopedOnlyWhenTheyClearTheMaskBitOfVectorControl() {
    assertEquals(0x100cL, MsixtblAccess.snoopAddress(0x100c, 4, 0, false));
    assertEquals(0x100cL, MsixtblAccess.snoopAddress(0x100c, 4, 0xfffffffeL, false));
    assertEquals(-1L, MsixtblAccess.snoopAddress(0x100c, 4, 1, false));
    assertEquals(-1L, MsixtblAccess.snoopAddress(0x1008, 4, 0, false));
    assertEquals(-1L, MsixtblAccess.snoopAddress(0x100c, 2, 0, false));
    assertEquals(-1L, MsixtblAccess.snoopAddress(0x1000, 4, 0, false));
    // 8 bytes at +8: the high half (0) is Vector Control at +12.
    assertEquals(0x100cL, MsixtblAccess.snoopAddress(0x1008, 8, 0x12345679L, false));
    assertEquals(-1L, MsixtblAccess.snoopAddress(0x1008, 8, 0x1_00000000L, false));
    // 8 bytes at +12: the high half lands at the next entry's +0.
    assertEquals(-1L, MsixtblAccess.snoopAddress(0x100c, 8, 0, false));
    assertEquals(-1L, MsixtblAccess.snoopAddress(0x1000, 8, 0, false));
  }

  @Test
  void movsIsSnoopedWhenItEndsAtAnEntrysEnd() {
    assertEquals(0x100cL, MsixtblAccess.snoopAddress(0x100c, 4, 1, true));
    assertEquals(0x100cL, MsixtblAccess.snoopAddress(0x1008, 8, 1, true));
    assertEquals(0x201cL, MsixtblAccess.snoopAddress(0x2018, 8, 0, true));
    assertEquals(-1L, MsixtblAccess.snoopAddress(0x1008, 4, 0, true));
    assertEquals(-1L, MsixtblAccess.snoopAddress(0x1000, 8, 0, true));
    assertEquals(-1L, MsixtblAccess.snoopAddress(0x100e, 2, 0, true));
    assertEquals(-1L, MsixtblAccess.snoopAddress(0x100f, 1, 0, true));
  }

  @Test
  void theConfigWriteInterceptCoversRegisters64To255() {
    // MSI-X capability at 0x40: its 12 bytes are [0x40, 0x4b]; Message Control at 0x42.
    assertEquals(AccessReason.MMCFG_MSIX_CONTROL, PvRoAccess.confWriteIntercept(0x42, 2, 0x40));
    assertEquals(AccessReason.MMCFG_MSIX_VETO, PvRoAccess.confWriteIntercept(0x42, 4, 0x40));
    assertEquals(AccessReason.MMCFG_MSIX_VETO, PvRoAccess.confWriteIntercept(0x40, 2, 0x40));
    assertEquals(AccessReason.MMCFG_MSIX_VETO, PvRoAccess.confWriteIntercept(0x4b, 1, 0x40));
    assertEquals(AccessReason.MMCFG_WRITTEN, PvRoAccess.confWriteIntercept(0x4c, 1, 0x40));
    assertEquals(AccessReason.MMCFG_WRITTEN, PvRoAccess.confWriteIntercept(0x3f, 1, 0x40));
    assertEquals(AccessReason.MMCFG_WRITTEN, PvRoAccess.confWriteIntercept(0x42, 2, 0));
    // A capability at 0xf4 ends at 0xff, the last hooked register; 0x38 starts below 64.
    assertEquals(AccessReason.MMCFG_MSIX_VETO, PvRoAccess.confWriteIntercept(0xff, 1, 0xf4));
    assertEquals(AccessReason.MMCFG_WRITTEN, PvRoAccess.confWriteIntercept(0x100, 1, 0xf8));
    assertEquals(AccessReason.MMCFG_WRITTEN, PvRoAccess.confWriteIntercept(0x3f, 1, 0x38));
    assertEquals(AccessReason.MMCFG_MSIX_VETO, PvRoAccess.confWriteIntercept(0x40, 1, 0x38));
  }

  private static AccessReason pv(RoMmioSwitches s, boolean hwdom, boolean mmcfg, long address,
      int bytes, long cr2, SubpageState subpage) {
    return PvRoAccess.write(s, hwdom, true, mmcfg, 0, InstructionClass.PLAIN_STORE, address,
        bytes, cr2, subpage);
  }

  @Test
  void pvStoresMustBeAlignedAndAtTheFaultingAddress() {
    RoMmioSwitches s = RoMmioSwitches.XEN_4_22;
    SubpageState none = SubpageState.NONE;
    // MMCFG: up to 4 bytes.
    assertEquals(AccessReason.MMCFG_WRITTEN, pv(s, true, true, 0x1000, 4, 0x1000, none));
    assertEquals(AccessReason.MMCFG_BAD_WRITE, pv(s, true, true, 0x1000, 8, 0x1000, none));
    assertEquals(AccessReason.MMCFG_BAD_WRITE, pv(s, true, true, 0x1000, 4, 0x1004, none));
    assertEquals(AccessReason.MMCFG_BAD_WRITE, pv(s, true, true, 0x1002, 4, 0x1002, none));
    // Other read-only MMIO: up to 8 bytes dropped, at the faulting address only.
    assertEquals(AccessReason.MMIO_RO_DROPPED, pv(s, true, false, 0x1008, 8, 0x1008, none));
    assertEquals(AccessReason.MMIO_RO_BAD_ACCESS, pv(s, true, false, 0x1008, 8, 0x1000, none));
    assertEquals(AccessReason.MMIO_RO_BAD_ACCESS, pv(s, true, false, 0x1004, 8, 0x1004, none));
  }

  @Test
  void onlyHardenedTakesAnotherDomainsStoreToAWritableSlot() {
    SubpageState w = SubpageState.WRITABLE_SLOT;
    assertEquals(AccessReason.PV_NOT_HARDWARE_DOMAIN,
        pv(RoMmioSwitches.XEN_4_22, false, false, 0x1008, 4, 0x1008, w));
    assertEquals(AccessReason.SUBPAGE_WRITTEN,
        pv(RoMmioSwitches.HARDENED, false, false, 0x1008, 4, 0x1008, w));
    assertEquals(AccessReason.PV_NOT_HARDWARE_DOMAIN,
        pv(RoMmioSwitches.HARDENED, false, false, 0x1008, 4, 0x1008, SubpageState.NONE));
    assertEquals(AccessReason.SUBPAGE_WRITTEN,
        pv(RoMmioSwitches.XEN_4_22, true, false, 0x1008, 4, 0x1008, w));
  }

  @Test
  void subpageAccessesArePowersOfTwoUpTo8Aligned() {
    assertEquals(AccessReason.SUBPAGE_READ, SubpageAccess.read(0x1008, 8));
    assertEquals(AccessReason.SUBPAGE_READ, SubpageAccess.read(0x1004, 4));
    assertEquals(AccessReason.SUBPAGE_READ, SubpageAccess.read(0x1003, 1));
    assertEquals(AccessReason.SUBPAGE_READ_INVALID, SubpageAccess.read(0x1000, 16));
    assertEquals(AccessReason.SUBPAGE_READ_INVALID, SubpageAccess.read(0x1000, 3));
    assertEquals(AccessReason.SUBPAGE_READ_INVALID, SubpageAccess.read(0x1000, 0));
    assertEquals(AccessReason.SUBPAGE_READ_INVALID, SubpageAccess.read(0x1002, 4));
    RoMmioSwitches s = RoMmioSwitches.XEN_4_22;
    assertEquals(AccessReason.SUBPAGE_WRITTEN,
        SubpageAccess.write(s, SubpageState.WRITABLE_SLOT, 0x1008, 8));
    assertEquals(AccessReason.SUBPAGE_WRITE_INVALID,
        SubpageAccess.write(s, SubpageState.WRITABLE_SLOT, 0x1004, 8));
    // No entry: dropped as plain read-only MMIO, wide stores apart.
    assertEquals(AccessReason.MMIO_RO_DROPPED, SubpageAccess.emulateWrite(s, SubpageState.NONE, 8));
    assertEquals(AccessReason.MMIO_RO_WIDE_DROPPED,
        SubpageAccess.emulateWrite(s, SubpageState.NONE, 16));
  }

  @Test
  void switchesAreCopiedWithTheirValues() {
    RoMmioSwitches s = RoMmioSwitches.XEN_4_22;
    assertTrue(s.withMsixtblDmSeesAllWrites(true).msixtblDmSeesAllWrites());
    assertFalse(s.withMsixtblDmSeesAllWrites(false).msixtblDmSeesAllWrites());
    RoMmioSwitches u = s.withMsixtblUnmask(true, false);
    assertTrue(u.msixtblUnmaskReplay());
    assertFalse(u.msixtblUnmaskSnoop());
    assertTrue(s.withSubpageOwnedBytes(true).subpageOwnedBytes());
    assertEquals(RoMmioSwitches.HARDENED, s.withSubpageOwnedBytes(true));
    assertEquals(s, RoMmioSwitches.HARDENED.withSubpageOwnedBytes(false));
  }
}
