package org.hvmmu.host;

import static org.hvmmu.pci.msix.regs.MsixRegisters.VECTOR_CONTROL;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.pci.msix.regs.MsixRegisters;
import org.junit.jupiter.api.Test;

/**
 * msixtbl's table state driven directly. Expected values from {@code xen/arch/x86/hvm/vmsi.c}:
 * at RELEASE-4.1.0 {@code msixtbl_write} stores a 4-byte write at offset {@code o} != 12 of entry
 * {@code n < 3} into {@code gentries[n].msi_ad[o / 4]} without checking {@code o} (an unaligned
 * write at +13 indexes {@code msi_ad[3]}, which in {@code struct msixtbl_entry} is {@code
 * gentries[n + 1].msi_ad[0]}, and past {@code gentries[2]} lies other state: the model keeps
 * nothing there), and writes Vector Control raw to the device ({@code writel(val, virt)}), a write
 * Xen makes for the owner (issue 12 §3: a permitted write of the register block, which the block
 * does not count as an unpermitted change); {@code msix_write_completion} (RELEASE-4.22.0)
 * replays a latched unmask as a 4-byte 0 to its Vector Control, which only a running vCPU does:
 * {@code domain_crash} stops the domain's vCPUs for good.
 */
class MsixMutMsixtblTest {
  private static final long GTABLE = 0xF000_0000L;
  private static final long TABLE = 0xE000_0000L;
  private static final RoMmioSwitches SEED = RoMmioSwitches.SEED_2010;

  private static PhysicalMemory machine() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(TABLE >>> 12, TABLE >>> 12);
    return m;
  }

  @Test
  void theSeedsUnalignedStoreAtPlusThirteenShouldLandInTheNextEntrysAddressShadow() {
    PhysicalMemory m = machine();
    Msixtbl t = new Msixtbl(GTABLE, 4, TABLE, 0, false, null);
    // Entry 0, offset 13: msi_ad[13 / 4 = 3] of entry 0 = entry 1's address low.
    assertEquals(AccessReason.MSIXTBL_WRITE_ADDRESS_DATA, t.write(SEED, m, GTABLE + 13, 4, 0x77));
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, t.read(SEED, m, GTABLE + 16, 4));
    assertEquals(0x77, t.value);
    // Entry 2, offset 13: past the three shadowed entries; nothing shadowed changes.
    t.write(SEED, m, GTABLE + 0x28, 4, 0x55);
    assertEquals(AccessReason.MSIXTBL_WRITE_ADDRESS_DATA,
        t.write(SEED, m, GTABLE + 0x2D, 4, 0x99));
    t.read(SEED, m, GTABLE + 0x28, 4);
    assertEquals(0x55, t.value, "entry 2's data shadow");
    t.read(SEED, m, GTABLE + 0x20, 4);
    assertEquals(0, t.value, "entry 2's address shadow: never written");
    assertEquals(0, m.read(TABLE, 8) | m.read(TABLE + 0x20, 8) | m.read(TABLE + 0x28, 8),
        "address and data never reach the device");
  }

  /** A host with the 82576, its entries 0 and 1 programmed: the register block is guarded. */
  private static HostDevice nic(Host host) {
    HostDevice nic = host.addDevice(MsixMutMmcfgTest.dump("pciutils_intel_82576_10c9.xxx.txt"));
    MsixRegisters regs = nic.msixRegisters();
    regs.programEntry(0, 0xfee0_0000L, 0x41);
    regs.programEntry(1, 0xfee0_1000L, 0x42);
    return nic;
  }

  @Test
  void theSeedsRawVectorControlWriteShouldBeAPermittedWriteOfTheRegisters() {
    Host host = new Host(0x1000, Policy.XEN_4_22);
    HostDevice nic = nic(host);
    MsixRegisters regs = nic.msixRegisters();
    Msixtbl t = new Msixtbl(GTABLE, regs.entries(), regs.tableAddress(), 0b11, false, nic);
    for (int entry = 0; entry < 2; entry++) {
      long vc = GTABLE + 16L * entry + VECTOR_CONTROL;
      assertEquals(AccessReason.MSIXTBL_WRITE_CONTROL_RAW,
          t.write(SEED, host.machine(), vc, 4, 0xFFFF_FFFFL));
      assertEquals(1, regs.entryDword(entry, VECTOR_CONTROL) & 1, "entry " + entry + " masked");
      assertEquals(AccessReason.MSIXTBL_WRITE_CONTROL_RAW, t.write(SEED, host.machine(), vc, 4, 0));
      assertEquals(0, regs.entryDword(entry, VECTOR_CONTROL), "entry " + entry + " unmasked");
    }
    assertEquals(0, regs.unpermittedChanges(), "Xen wrote for the owner");
  }

  @Test
  void aVectorControlAddressJustPastTheDevicesTableShouldNotBeTakenForAnEntry() {
    // A table registered 4 bytes past the 82576's (10 entries, 160 bytes): entry 9's Vector
    // Control, 4 + 9 * 16 + 12 = 160 bytes into the device's table, is the first byte after it,
    // which is no entry of the device (entries 0-9 end at 159): the mask is a plain write there.
    Host host = new Host(0x1000, Policy.XEN_4_22);
    HostDevice nic = nic(host);
    MsixRegisters regs = nic.msixRegisters();
    assertEquals(10, regs.entries());
    Msixtbl t = new Msixtbl(GTABLE, 10, regs.tableAddress() + 4, 1L << 9, false, nic);
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK,
        t.write(RoMmioSwitches.XEN_4_22, host.machine(), GTABLE + 9 * 16 + VECTOR_CONTROL, 4, 1));
    assertEquals(1, host.machine().read(regs.tableAddress() + 160, 4));
    assertEquals(1, regs.entryDword(9, VECTOR_CONTROL), "entry 9 as reset: masked");
    assertEquals(0, regs.unpermittedChanges());
  }

  @Test
  void theDevicesFirstTableByteShouldBeInItsEntryZero() {
    // A table registered 12 bytes before the 82576's: guest entry 0's Vector Control is the
    // device's first table byte, which falls in the device's entry 0 (bytes 0-15): the guest's
    // mask goes to that entry through msi_set_mask_bit, not to its address dword.
    Host host = new Host(0x1000, Policy.XEN_4_22);
    HostDevice nic = nic(host);
    MsixRegisters regs = nic.msixRegisters();
    Msixtbl t = new Msixtbl(GTABLE, 10, regs.tableAddress() - 12, 1, false, nic);
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK,
        t.write(RoMmioSwitches.XEN_4_22, host.machine(), GTABLE + VECTOR_CONTROL, 4, 1));
    assertEquals(1, regs.entryDword(0, VECTOR_CONTROL), "entry 0 masked");
    assertEquals(0xfee0_0000L, regs.messageAddress(0), "its address untouched");
    assertEquals(0, regs.unpermittedChanges());
  }

  /** An EPT domain with the table at GTABLE (entries 0 and 1 bound) and a vCPU. */
  private static GuestVcpu hvm(Host host, long table) {
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    host.registerMsixtbl(d, GTABLE, 8, table, 0b11, false);
    return host.createVcpu(d);
  }

  @Test
  void aLatchedUnmaskShouldBeReplayedAsAFourByteZero() {
    Host host = new Host(0x1000, Policy.XEN_4_22);
    long table = 0x800_000L; // a host RAM frame standing in for the table
    GuestVcpu v = hvm(host, table);
    host.machine().write(table + 16 + VECTOR_CONTROL, 4, 1);
    v.msixUnmaskAddress = GTABLE + 16 + VECTOR_CONTROL;
    Msixtbl.writeCompletion(host, v);
    assertEquals(0, host.machine().read(table + 16 + VECTOR_CONTROL, 4), "unmasked");
    assertEquals(0, v.msixUnmaskAddress, "consumed");
  }

  @Test
  void aCrashedDomainShouldReplayNoUnmask() {
    Host host = new Host(0x1000, Policy.XEN_4_22);
    long table = 0x800_000L;
    GuestVcpu v = hvm(host, table);
    host.machine().write(table + 16 + VECTOR_CONTROL, 4, 1);
    v.msixUnmaskAddress = GTABLE + 16 + VECTOR_CONTROL;
    host.crashDomain(v.domain());
    Msixtbl.writeCompletion(host, v);
    assertEquals(1, host.machine().read(table + 16 + VECTOR_CONTROL, 4), "still masked");
  }
}
