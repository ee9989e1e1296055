package org.hvmmu.host.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@link MsixtblAccess} against the reference's msixtbl vectors T1-T8 (msix-emulation.md section
 * 11.1: entries 0, 1 and 5 bound, shadows for entries 0-2), checked in {@code msixtbl_range},
 * {@code msixtbl_read}, {@code msixtbl_write} and {@code _msixtbl_write} of {@code
 * xen/arch/x86/hvm/vmsi.c} at RELEASE-4.22.0, and the seed's rows at RELEASE-4.1.0 (4-byte only,
 * no alignment check, shadows served unwritten, Vector Control raw, no adjacent accesses).
 */
class MsixtblAccessTest {
  private static final RoMmioSwitches TODAY = RoMmioSwitches.XEN_4_22;
  private static final RoMmioSwitches SEED = RoMmioSwitches.SEED_2010;

  /** The table: 8 entries at guest-physical 0xf000_1000 (one page: 128 bytes). */
  private static final long GTABLE = 0xf000_1000L;
  private static final int LEN = 8 * 16;

  private static boolean bound(long address) {
    long entry = (address - GTABLE) / 16;
    return entry == 0 || entry == 1 || entry == 5;
  }

  private static long at(int entry, int offset) {
    return GTABLE + 16L * entry + offset;
  }

  private static AccessReason read(RoMmioSwitches s, long address, int len, int accValid) {
    return MsixtblAccess.read(s, address, len, GTABLE, LEN, bound(address), accValid, true);
  }

  private static AccessReason write(RoMmioSwitches s, long address, int len, long value,
      boolean flag) {
    return MsixtblAccess.write(s, address, len, value, GTABLE, LEN, bound(address), flag, true,
        false);
  }

  @Test
  void t1AShadowNotYetWrittenShouldGoToTheDeviceModel() {
    // T1: acc_bit(test) clear -> goto out (UNHANDLEABLE).
    AccessReason r = read(TODAY, at(0, 0), 4, 0);
    assertEquals(AccessReason.MSIXTBL_READ_NO_SHADOW, r);
    assertEquals(AccessOutcome.FORWARDED_TO_DM, r.outcome());
    // RELEASE-4.1.0: gentries[0].msi_ad[0] is served whether written or not.
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, read(SEED, at(0, 0), 4, 0));
  }

  @Test
  void t2AWrittenAddressShouldBeServedFromTheShadowAndTheWriteSeenByTheDeviceModel() {
    AccessReason w = write(TODAY, at(0, 0), 4, 0xFEE0_0000L, false);
    assertEquals(AccessReason.MSIXTBL_WRITE_ADDRESS_DATA, w);
    assertEquals(AccessOutcome.FORWARDED_TO_DM, w.outcome());
    AccessReason r = read(TODAY, at(0, 0), 4, 1);
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, r);
    assertEquals(AccessOutcome.READ_FROM_SHADOW, r.outcome());
    // 8 bytes at +0 need both address dwords' shadows.
    assertEquals(AccessReason.MSIXTBL_READ_NO_SHADOW, read(TODAY, at(0, 0), 8, 1));
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, read(TODAY, at(0, 0), 8, 0b011));
    // 8 bytes at +8: data | guest mask << 32.
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, read(TODAY, at(1, 8), 8, 0b100_000));
  }

  @Test
  void t3AnEntryWithoutShadowsShouldGoToTheDeviceModel() {
    assertEquals(AccessReason.MSIXTBL_READ_NO_SHADOW, read(TODAY, at(5, 0), 4, 0x1ff));
    assertEquals(AccessReason.MSIXTBL_READ_NO_SHADOW, read(SEED, at(5, 0), 4, 0x1ff));
  }

  @Test
  void t4AnUnmaskAfterADataChangeShouldBeDeferredToTheDeviceModel() {
    assertEquals(AccessReason.MSIXTBL_WRITE_ADDRESS_DATA, write(TODAY, at(5, 8), 4, 0x41, false));
    AccessReason r = write(TODAY, at(5, 12), 4, 0, true);
    assertEquals(AccessReason.MSIXTBL_UNMASK_DEFERRED, r);
    assertEquals(AccessOutcome.FORWARDED_TO_DM, r.outcome());
    // Masking after a change is applied today; the seed defers any Vector Control write then.
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK, write(TODAY, at(5, 12), 4, 1, true));
    assertEquals(AccessReason.MSIXTBL_UNMASK_DEFERRED, write(SEED, at(5, 12), 4, 1, true));
  }

  @Test
  void t5AQwordDataAndControlWriteShouldShadowTheDataThenMask() {
    AccessReason r = write(TODAY, at(1, 8), 8, 0x1_0000_0041L, false);
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK, r);
    assertEquals(AccessOutcome.PERFORMED, r.outcome());
    assertEquals("guest_mask_msi_irq", r.function());
    // The high half unmasks: the data just written flags the entry, so the unmask is deferred.
    assertEquals(AccessReason.MSIXTBL_UNMASK_DEFERRED, write(TODAY, at(1, 8), 8, 0x41, false));
    // The seed serves 4 bytes only.
    assertEquals(AccessReason.MSIXTBL_WRITE_SIZE, write(SEED, at(1, 8), 8, 0x1_0000_0041L, false));
  }

  @Test
  void t6AWordControlWriteShouldBeLeftToTheDeviceModel() {
    AccessReason r = write(TODAY, at(1, 12), 2, 1, false);
    assertEquals(AccessReason.MSIXTBL_WRITE_SIZE, r);
    assertEquals(AccessOutcome.FORWARDED_TO_DM, r.outcome());
    assertEquals(AccessReason.MSIXTBL_READ_SIZE, read(TODAY, at(1, 12), 2, 0));
  }

  @Test
  void t7AMisalignedWriteShouldBeDroppedWithoutForwarding() {
    AccessReason r = write(TODAY, at(0, 2), 4, 0xdead, false);
    assertEquals(AccessReason.MSIXTBL_WRITE_UNALIGNED, r);
    assertEquals(AccessOutcome.DROPPED_SILENT, r.outcome());
    assertEquals(AccessReason.MSIXTBL_READ_UNALIGNED, read(TODAY, at(0, 2), 4, 0x1ff));
    // RELEASE-4.1.0 checks no alignment: offset 2 names dword 0, shadowed as address-low.
    assertEquals(AccessReason.MSIXTBL_WRITE_ADDRESS_DATA, write(SEED, at(0, 2), 4, 0xdead, false));
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, read(SEED, at(0, 2), 4, 0));
  }

  @Test
  void t8AControlReadShouldReturnOnlyTheMaskBitTodayAndTheRawDwordInTheSeed() {
    AccessReason r = read(TODAY, at(0, 12), 4, 0);
    assertEquals(AccessReason.MSIXTBL_READ_MASK_BIT, r);
    assertEquals(AccessOutcome.READ_FROM_SHADOW, r.outcome());
    AccessReason seed = read(SEED, at(0, 12), 4, 0);
    assertEquals(AccessReason.MSIXTBL_READ_CONTROL_RAW, seed);
    assertEquals(AccessOutcome.READ_FROM_DEVICE, seed.outcome());
    // Writes: bit 0 through guest_mask_msi_irq today, the dword raw in the seed.
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK, write(TODAY, at(0, 12), 4, 0xffff_ffffL, false));
    assertEquals(AccessReason.MSIXTBL_WRITE_CONTROL_RAW,
        write(SEED, at(0, 12), 4, 0xffff_ffffL, false));
  }

  @Test
  void unboundEntriesShouldBeTheDeviceModelsTodayAndMsixtblsInTheSeed() {
    assertFalse(MsixtblAccess.accepts(TODAY, at(3, 12), GTABLE, LEN, false));
    assertEquals(AccessReason.MSIXTBL_NOT_CLAIMED, write(TODAY, at(3, 12), 4, 0, false));
    assertTrue(MsixtblAccess.accepts(SEED, at(3, 12), GTABLE, LEN, false));
    assertEquals(AccessReason.MSIXTBL_WRITE_CONTROL_RAW, write(SEED, at(3, 12), 4, 0, false));
  }

  @Test
  void registersSharingTheTablesPageShouldReachTheDeviceFrom419() {
    long adjacent = GTABLE + LEN + 0x40; // same page, past the table
    long otherPage = GTABLE + 0x1000;
    assertTrue(MsixtblAccess.accepts(TODAY, adjacent, GTABLE, LEN, false));
    assertFalse(MsixtblAccess.accepts(TODAY, otherPage, GTABLE, LEN, false));
    assertFalse(MsixtblAccess.accepts(TODAY, GTABLE - 0x1000, GTABLE, LEN, false));
    assertFalse(MsixtblAccess.accepts(TODAY, GTABLE - 4, GTABLE, LEN, false),
        "the page before the table is not the table's");
    assertEquals(AccessReason.MSIXTBL_ADJACENT_READ, read(TODAY, adjacent, 4, 0));
    assertEquals(AccessReason.MSIXTBL_ADJACENT_READ_UNMAPPED,
        MsixtblAccess.read(TODAY, adjacent, 4, GTABLE, LEN, false, 0, false));
    assertEquals(AccessOutcome.READ_ALL_ONES,
        AccessReason.MSIXTBL_ADJACENT_READ_UNMAPPED.outcome());
    assertEquals(AccessReason.MSIXTBL_ADJACENT_WRITE, write(TODAY, adjacent, 4, 1, false));
    AccessReason pba = MsixtblAccess.write(TODAY, adjacent, 4, 1, GTABLE, LEN, false, false, true,
        true);
    assertEquals(AccessReason.MSIXTBL_ADJACENT_WRITE_DISCARDED, pba);
    assertEquals(AccessOutcome.DROPPED_LOGGED, pba.outcome());
    assertEquals(AccessReason.MSIXTBL_NOT_CLAIMED, read(SEED, adjacent, 4, 0));
    assertEquals(AccessReason.MSIXTBL_NOT_CLAIMED, read(TODAY, otherPage, 4, 0));
  }
}
