package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * msixtbl's per-table state, driven directly. The expected values are pinned by the PCI spec's
 * MSI-X table layout (16-byte entries: address low at +0, address high at +4, data at +8, Vector
 * Control at +12, its bit 0 the mask) and by Xen's {@code hvm/vmsi.c} at RELEASE-4.22.0: {@code
 * msixtbl_range} takes a page the table spans, {@code msixtbl_pt_register} binds an entry, {@code
 * _msixtbl_write} keeps shadows of address and data of the first {@code MAX_MSIX_ACC_ENTRIES} (3)
 * entries (an 8-byte store at +0 fills address low and high, {@code acc_valid} then set), {@code
 * msixtbl_read} serves a shadow only when its {@code acc_valid} bit is set, and a store outside
 * the table on its page goes to the device's page ({@code adjacent_write}) unless the PBA shares
 * it. At RELEASE-4.1.0 ({@link RoMmioSwitches#SEED_2010}) an unaligned read indexed the shadows
 * with the raw offset and ran past entry 2's: the model reads 0 there.
 */
class HostMsixtblMutantsTest {
  static final long GTABLE = 0xF000_0000L;
  static final long TABLE = 0xE000_0000L;
  static final RoMmioSwitches TODAY = RoMmioSwitches.XEN_4_22;

  static PhysicalMemory machine() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(TABLE >>> 12, TABLE >>> 12); // the device's table page, as plain memory
    return m;
  }

  static Msixtbl table(int entries, long bound) {
    return new Msixtbl(GTABLE, entries, TABLE, bound, false, null);
  }

  @Test
  void coversShouldBeThePagesTheTableSpans() {
    Msixtbl t = table(256, 0); // 4096 bytes: exactly page 0xF0000
    assertTrue(t.covers(GTABLE));
    assertTrue(t.covers(GTABLE + 0xFFF));
    assertFalse(t.covers(GTABLE + 0x1000));
    assertFalse(t.covers(GTABLE - 1));
    Msixtbl two = new Msixtbl(GTABLE + 0xFF0, 2, TABLE, 0, false, null); // pages 0xF0000-1
    assertTrue(two.covers(GTABLE + 0x1000));
    assertTrue(two.covers(GTABLE + 0x1FFF));
    assertFalse(two.covers(GTABLE + 0x2000));
  }

  @Test
  void bindShouldSetAndClearTheEntrysBit() {
    Msixtbl t = table(64, 0);
    t.bind(3, true);
    assertTrue(t.bound(GTABLE + 3 * 16));
    assertTrue(t.bound(GTABLE + 3 * 16 + 12));
    assertFalse(t.bound(GTABLE + 2 * 16));
    assertFalse(t.bound(GTABLE + 4 * 16));
    t.bind(0, true);
    assertTrue(t.bound(GTABLE));
    // Entry 64 is none of the 64 bits (not bit 0 again).
    assertFalse(t.bound(GTABLE + 64 * 16));
    t.bind(3, false);
    assertFalse(t.bound(GTABLE + 3 * 16));
    assertTrue(t.bound(GTABLE));
  }

  @Test
  void anEightByteStoreAtAddressLowShouldFillBothShadows() {
    PhysicalMemory m = machine();
    Msixtbl t = table(64, 0b111);
    assertEquals(AccessReason.MSIXTBL_WRITE_ADDRESS_DATA,
        t.write(TODAY, m, GTABLE + 16, 8, 0x1234_5678_9ABC_DEF0L));
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, t.read(TODAY, m, GTABLE + 16, 8));
    assertEquals(0x1234_5678_9ABC_DEF0L, t.value);
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, t.read(TODAY, m, GTABLE + 16, 4));
    assertEquals(0x9ABC_DEF0L, t.value);
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, t.read(TODAY, m, GTABLE + 20, 4));
    assertEquals(0x1234_5678L, t.value);
    // The data dword was not written: no shadow.
    assertEquals(AccessReason.MSIXTBL_READ_NO_SHADOW, t.read(TODAY, m, GTABLE + 24, 4));
  }

  @Test
  void aFirstEntryStoreAtTheTableStartShouldBeShadowed() {
    PhysicalMemory m = machine();
    Msixtbl t = table(64, 0b1);
    assertEquals(AccessReason.MSIXTBL_WRITE_ADDRESS_DATA,
        t.write(TODAY, m, GTABLE, 4, 0xFEE0_1000L));
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, t.read(TODAY, m, GTABLE, 4));
    assertEquals(0xFEE0_1000L, t.value);
  }

  @Test
  void storesMsixtblRefusesShouldLeaveNoShadow() {
    PhysicalMemory m = machine();
    Msixtbl t = table(64, 0b1);
    // Unaligned, and of a size msixtbl does not serve.
    assertEquals(AccessReason.MSIXTBL_WRITE_UNALIGNED, t.write(TODAY, m, GTABLE + 2, 4, 1));
    assertEquals(AccessReason.MSIXTBL_WRITE_SIZE, t.write(TODAY, m, GTABLE, 2, 1));
    assertEquals(AccessReason.MSIXTBL_READ_NO_SHADOW, t.read(TODAY, m, GTABLE, 4));
    // An entry without a bound msi_desc: not msixtbl's.
    assertEquals(AccessReason.MSIXTBL_NOT_CLAIMED, t.write(TODAY, m, GTABLE + 16, 4, 7));
    t.bind(1, true);
    assertEquals(AccessReason.MSIXTBL_READ_NO_SHADOW, t.read(TODAY, m, GTABLE + 16, 4));
    // Vector Control of entry 0 is no shadow of entry 1's address (3 * 0 + 3).
    t.write(TODAY, m, GTABLE + 12, 4, 1);
    assertEquals(AccessReason.MSIXTBL_READ_NO_SHADOW, t.read(TODAY, m, GTABLE + 16, 4));
  }

  @Test
  void aStoreNextToTheTableShouldReachTheDevicesPage() {
    PhysicalMemory m = machine();
    Msixtbl t = table(64, 0b1); // 1024 bytes; the rest of the page is adjacent
    assertEquals(AccessReason.MSIXTBL_ADJACENT_WRITE, t.write(TODAY, m, GTABLE + 0x400, 4,
        0xCAFE));
    assertEquals(0xCAFE, m.read(TABLE + 0x400, 4));
    assertEquals(AccessReason.MSIXTBL_ADJACENT_WRITE, t.write(TODAY, m, GTABLE + 0x808, 8,
        0x1122_3344_5566_7788L));
    assertEquals(0x1122_3344_5566_7788L, m.read(TABLE + 0x808, 8));
    assertEquals(AccessReason.MSIXTBL_ADJACENT_READ, t.read(TODAY, m, GTABLE + 0x80C, 4));
    assertEquals(0x1122_3344L, t.value);
    // Entry 0 is still bound and unshadowed.
    assertEquals(AccessReason.MSIXTBL_READ_NO_SHADOW, t.read(TODAY, m, GTABLE, 4));
  }

  @Test
  void theSeedsUnalignedReadPastEntryTwoShouldReadZero() {
    PhysicalMemory m = machine();
    RoMmioSwitches seed = RoMmioSwitches.SEED_2010;
    Msixtbl t = table(4, 0);
    t.write(seed, m, GTABLE + 0x20, 4, 0x55);
    // Offset 13 of entry 2: dword 3, index 3 * 2 + 3 = 9, past the 9 shadows.
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, t.read(seed, m, GTABLE + 0x2D, 4));
    assertEquals(0, t.value);
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, t.read(seed, m, GTABLE + 0x20, 4));
    assertEquals(0x55, t.value);
  }
}
