package org.hvmmu.host;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.mmu.Access;
import org.hvmmu.pci.BarReadMode;
import org.hvmmu.pci.msix.regs.MsiInterrupt;
import org.hvmmu.pci.msix.regs.MsixAccessPolicy;
import org.hvmmu.pci.msix.regs.MsixFireResult;
import org.hvmmu.pci.msix.regs.MsixRegisters;
import org.hvmmu.x86.Pte;
import org.junit.jupiter.api.Test;

/**
 * The live MSI-X registers of a host's device: the Intel 82576 dump (01:00.0, BDF 0x100; MSI-X
 * capability at 0x70, Message Control 0x8009 = 10 entries; table at BAR 3 + 0 = 0xe0840000, PBA at
 * BAR 3 + 0x2000 = 0xe0842000, as lspci decodes them). dom0 programs entry 1 through the machine
 * memory (what Xen's {@code msi.c} writes); a guest's store that reaches the table changes what
 * the device sends, a store that is refused does not.
 */
class HostMsixRegistersTest {
  private static final long TABLE = 0xe0840000L;
  private static final long PBA = 0xe0842000L;
  private static final int CONTROL = 0x72; // capability 0x70 + 2
  private static final long L4 = 0x100;
  private static final long L3 = 0x101;
  private static final long L2 = 0x102;
  private static final long L1 = 0x103;
  private static final int URW = PAGE_PRESENT | PAGE_RW | PAGE_USER;

  /** What the sink received, one line per message. */
  private final List<String> received = new ArrayList<>();

  private Host host(Policy policy) {
    Host host = new Host(0x1000, policy);
    host.setInterruptSink((bdf, entry, address, data, interrupt) -> received.add(
        String.format("%04x entry %d 0x%x/0x%x %s", bdf, entry, address, data,
            MsiInterrupt.toString(interrupt))));
    return host;
  }

  /** dom0's programming of entry 1: APIC 3, vector 0x41, then unmasked; MSI-X enabled. */
  private static void dom0Programs(Host host, HostDevice nic) {
    host.machine().write(TABLE + 16, 4, 0xfee03000L);
    host.machine().write(TABLE + 20, 4, 0);
    host.machine().write(TABLE + 24, 4, 0x41);
    host.machine().write(TABLE + 28, 4, 0);
    assertTrue(host.writeConfig(nic, CONTROL, 2, 0x8009));
  }

  @Test
  void theTableAndPbaAreRegistersInTheirResetState() {
    Host host = host(Policy.HARDENED);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    MsixRegisters regs = nic.msixRegisters();
    assertEquals(10, regs.entries());
    assertEquals(TABLE, regs.tableAddress());
    assertEquals(PBA, regs.pbaAddress());
    assertEquals(1, host.machine().read(TABLE + 12, 4), "Mask = 1 after reset");
    assertEquals(1, host.machine().read(TABLE + 9 * 16 + 12, 4));
    assertEquals(0, host.machine().read(PBA, 8));
    assertEquals(0, regs.messageControl(), "reset, whatever the dump says");
    // The rest of the BAR still holds what was written.
    host.machine().write(TABLE + 0xa0, 4, 0x1234);
    assertEquals(0x1234, host.machine().read(TABLE + 0xa0, 4));
    host.machine().write(PBA + 8, 8, 0x77);
    assertEquals(0x77, host.machine().read(PBA + 8, 8), "past the 8-byte PBA");
  }

  @Test
  void dom0sProgrammingIsWhatTheDeviceSends() {
    Host host = host(Policy.HARDENED);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    assertEquals(MsixFireResult.NOT_ENABLED, host.fireMsix(nic, 1));
    dom0Programs(host, nic);
    assertEquals(MsixRegisters.CONTROL_ENABLE, nic.msixRegisters().messageControl());
    assertEquals(MsixFireResult.DELIVERED, host.fireMsix(nic, 1));
    assertEquals(List.of("0100 entry 1 0xfee03000/0x41 dest 0x3 physical fixed edge vector 0x41"),
        received);
    assertEquals(MsixFireResult.PENDING, host.fireMsix(nic, 0), "entry 0 still masked");
    assertEquals(1, host.machine().read(PBA, 4));
    assertEquals(MsixFireResult.OUT_OF_RANGE, host.fireMsix(nic, 10));
    // Function Mask through a 1-byte write of the upper byte: 0xc0 = Enable | Function Mask.
    assertTrue(host.writeConfig(nic, CONTROL + 1, 1, 0xc0));
    assertEquals(MsixFireResult.PENDING, host.fireMsix(nic, 1));
    assertTrue(host.writeConfig(nic, 0x70, 4, 0x8009_a011));
    assertEquals(2, received.size(), "the pending vector 1 is sent at function unmask");
    assertFalse(host.writeConfig(nic, CONTROL, 1, 0), "the lower byte: Table Size, read-only");
    assertFalse(host.writeConfig(nic, 0x04, 2, 0), "the command register: no effect here");
    assertThrows(IllegalArgumentException.class, () -> host.writeConfig(nic, CONTROL + 1, 2, 0));
    assertThrows(IllegalArgumentException.class, () -> host.writeConfig(nic, 0x1000, 1, 0));
  }

  @Test
  void aDeviceWithoutMsixHasNoRegisters() {
    Host host = host(Policy.HARDENED);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    assertTrue(nic.hasMsix());
    assertEquals(MsixFireResult.NO_MSIX, DeviceInterrupts.fire(new HostDevice(nic.pci(), null), 0));
  }

  /**
   * A PV guest owning the device: L4 0x100 to L1 0x103, whose slot 0 maps linear 0 to the table
   * frame 0xe0840 if {@code mmu_update} lets it. Returns the vCPU, or null when refused.
   */
  private static GuestVcpu guestMapsTheTable(Host host, HostDevice nic, List<Integer> rcs) {
    GuestDomain pv = host.createDomain(1, PagingMode.PV, false);
    assertEquals(0, host.giveRam(pv, 0x100, 0x1ff));
    assertEquals(0, host.assignDevice(nic, pv));
    host.writeGuestEntry(pv, L4, 0, Pte.fromMfn(L3, URW));
    host.writeGuestEntry(pv, L3, 0, Pte.fromMfn(L2, URW));
    host.writeGuestEntry(pv, L2, 0, Pte.fromMfn(L1, URW));
    GuestVcpu v = host.createVcpu(pv);
    assertEquals(0, host.newBaseptr(v, L4));
    // Entry 0 set up and torn down, then entry 1: the seed does not register the table again.
    // (Hardened and 4.22 want the device model's prepare first; the seed has none.)
    host.prepareMsix(nic);
    assertEquals(0, host.enableMsix(nic, 0).rc());
    assertEquals(0, host.disableMsix(nic, 0).rc());
    assertEquals(0, host.enableMsix(nic, 1).rc());
    rcs.add(host.mmuUpdate(pv, L1, 0, Pte.fromMfn(TABLE >>> 12, URW)));
    return v;
  }

  @Test
  void seedAGuestStoreThroughItsWritableMappingChangesWhatTheDeviceSends() {
    Host host = host(Policy.SEED_2010.withMsix(
        Policy.SEED_2010.msix().withBarReadMode(BarReadMode.CORRECTED)));
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    dom0Programs(host, nic);
    List<Integer> rcs = new ArrayList<>();
    GuestVcpu v = guestMapsTheTable(host, nic, rcs);
    assertEquals(List.of(0), rcs);
    assertFalse(host.mmioRoRanges().containsSingleton(TABLE >>> 12));
    // The guest redirects vector 1 to APIC 7 with vector 0x99, NMI delivery (data 0x499).
    assertEquals(0, v.write(0x10, 4, 0xfee07000L, Access.USER));
    assertEquals(0, v.write(0x18, 4, 0x499, Access.USER));
    assertEquals(MsixFireResult.DELIVERED, host.fireMsix(nic, 1));
    assertEquals(List.of("0100 entry 1 0xfee07000/0x499 dest 0x7 physical nmi edge vector 0x99"),
        received);
    assertEquals(0x499, nic.msixRegisters().entryDword(1, MsixRegisters.DATA));
  }

  @Test
  void hardenedTheGuestsStoreIsRefusedAndDom0sProgrammingStays() {
    Host host = host(Policy.HARDENED);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    dom0Programs(host, nic);
    List<Integer> rcs = new ArrayList<>();
    GuestVcpu v = guestMapsTheTable(host, nic, rcs);
    assertTrue(host.mmioRoRanges().containsSingleton(TABLE >>> 12));
    long entry = host.pvMmu().readEntry(L1, 0);
    assertFalse(rcs.get(0) == 0 && Pte.isPresentWritable(entry),
        "no writable mapping of the table: rc " + rcs.get(0) + ", entry 0x"
            + Long.toHexString(entry));
    assertNotEquals(0, v.write(0x18, 4, 0x499, Access.USER), "the store faults");
    assertEquals(MsixFireResult.DELIVERED, host.fireMsix(nic, 1));
    assertEquals(List.of("0100 entry 1 0xfee03000/0x41 dest 0x3 physical fixed edge vector 0x41"),
        received);
    assertEquals(0x41, nic.msixRegisters().entryDword(1, MsixRegisters.DATA));
  }

  @Test
  void theDevicesPolicyIsTheOneItWasAddedWith() {
    Host host = host(Policy.HARDENED);
    HostDevice nic = host.addDevice(HostMsixTest.nic(), MsixAccessPolicy.QEMU);
    assertEquals(MsixAccessPolicy.QEMU, nic.msixRegisters().policy());
    assertEquals(0, host.machine().read(TABLE + 12, 2), "QEMU: a rejected read gives 0");
    assertEquals(MsixAccessPolicy.PCI_SPEC,
        host(Policy.HARDENED).addDevice(HostMsixTest.nic()).msixRegisters().policy());
  }
}
