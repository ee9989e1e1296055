package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.mmu.Access;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.pci.msix.regs.MsixAccessPolicy;
import org.hvmmu.pci.msix.regs.MsixFireResult;
import org.hvmmu.pci.msix.regs.MsixRegisters;
import org.hvmmu.testkit.host.HostInvariantCheck;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * Provenance of MSI-X messages (issue 12 §3) on the Intel 82576 (table at 0xe0840000, 10 entries;
 * PBA at 0xe0842000): what {@link Host#programMsix} records, which writes the register block
 * counts as unpermitted, and the two invariants that read the counts. Expected values by hand.
 */
class HostMsixProvenanceTest {
  private static final long TABLE = 0xe0840000L;
  private static final long PBA = 0xe0842000L;

  private final List<String> received = new ArrayList<>();

  private Host host() {
    Host host = new Host(0x1000, Policy.HARDENED);
    host.createDomain(0, PagingMode.PV, true);
    host.setInterruptSink((bdf, entry, address, data, interrupt) ->
        received.add(entry + " 0x" + Long.toHexString(address) + "/0x"
            + Integer.toHexString(data)));
    return host;
  }

  private static List<String> broken(Host host) {
    return HostInvariants.check(host).stream().map(Violation::invariant).toList();
  }

  @Test
  void programmingIsThePermittedPathAndGuardsTheBlock() {
    Host host = host();
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    MsixRegisters regs = nic.msixRegisters();
    // Before Xen enables the entry dom0 cannot program it.
    assertEquals(-Errno.EINVAL, host.programMsix(nic, 0, 0xfee03000L, 0x41));
    assertFalse(regs.isGuarded());
    // An unguarded block audits nothing: dom0's own machine store to entry 1 is no violation.
    host.machine().write(TABLE + 16, 4, 0x1234);
    assertEquals(0, host.enableMsix(nic, 0).rc());
    assertEquals(0, host.programMsix(nic, 0, 0xfee03000L, 0x41));
    assertTrue(regs.isGuarded());
    assertTrue(regs.isProgrammed(0));
    assertFalse(regs.isProgrammed(1));
    assertEquals(0xfee03000L, regs.programmedAddress(0));
    assertEquals(0x41, regs.programmedData(0));
    // Every other entry masked, entry 0 unmasked, MSI-X enabled.
    assertFalse(regs.isMasked(0));
    assertTrue(regs.isMasked(1));
    assertEquals(MsixRegisters.CONTROL_ENABLE, regs.messageControl());
    assertEquals(0x1234, regs.entryDword(1, MsixRegisters.ADDRESS_LO), "not rewritten");
    assertEquals(MsixFireResult.DELIVERED, host.fireMsix(nic, 0));
    assertEquals(List.of("0 0xfee03000/0x41"), received);
    assertEquals(List.of(), broken(host));
    HostInvariantCheck.everyInvariant().assertHolds(host);
  }

  @Test
  void aMachineStoreToAGuardedTableIsUnpermittedAndTheNextMessageUnproven() {
    Host host = host();
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    MsixRegisters regs = nic.msixRegisters();
    host.enableMsix(nic, 0);
    host.programMsix(nic, 0, 0xfee03000L, 0x41);
    // The same value is no change; a new data is one.
    host.machine().write(TABLE, 4, 0xfee03000L);
    assertEquals(0, regs.unpermittedChanges());
    host.machine().write(TABLE + 8, 4, 0x99);
    assertEquals(1, regs.unpermittedChanges());
    assertEquals("table 0xe0840008: 0x41 -> 0x99", regs.lastUnpermittedChange());
    assertEquals(List.of(HostInvariants.MSIX_TABLE_INTEGRITY), broken(host));
    host.fireMsix(nic, 0);
    assertEquals(List.of("0 0xfee03000/0x99"), received);
    assertEquals("entry 0 sent 0xfee03000/0x99, programmed 0xfee03000/0x41",
        regs.lastUnprovenDelivery());
    assertEquals(List.of(HostInvariants.MSIX_TABLE_INTEGRITY,
        HostInvariants.INTERRUPT_PROVENANCE), broken(host));
    // Reprogramming restores the message, but the events stay counted.
    host.programMsix(nic, 0, 0xfee03000L, 0x41);
    host.fireMsix(nic, 0);
    assertEquals(1, regs.unprovenDeliveries());
    assertEquals(2, broken(host).size());
  }

  @Test
  void anUnprogrammedEntryUnmaskedByAStoreSendsAnUnprovenMessage() {
    Host host = host();
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    MsixRegisters regs = nic.msixRegisters();
    host.enableMsix(nic, 0);
    host.programMsix(nic, 0, 0xfee03000L, 0x41);
    assertEquals(MsixFireResult.PENDING, host.fireMsix(nic, 2));
    // Unmasking entry 2 (a change of Vector Control) sends its pending message: address 0.
    host.machine().write(TABLE + 2 * 16 + 12, 4, 0);
    assertEquals(List.of("2 0x0/0x0"), received);
    assertEquals("entry 2 sent 0x0/0x0, never programmed", regs.lastUnprovenDelivery());
    assertEquals(List.of(HostInvariants.MSIX_TABLE_INTEGRITY,
        HostInvariants.INTERRUPT_PROVENANCE), broken(host));
  }

  @Test
  void theOwnersMaskBitThroughMsixtblIsPermitted() {
    Host host = host();
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    MsixRegisters regs = nic.msixRegisters();
    host.enableMsix(nic, 0);
    host.programMsix(nic, 0, 0xfee03000L, 0x41);
    regs.writeVectorControlPermitted(0, 1);
    assertTrue(regs.isMasked(0));
    assertEquals(MsixFireResult.PENDING, host.fireMsix(nic, 0));
    regs.writeVectorControlPermitted(0, 0);
    assertEquals(List.of("0 0xfee03000/0x41"), received, "the pending message, on unmask");
    assertEquals(0, regs.unpermittedChanges());
    assertEquals(List.of(), broken(host));
  }

  @Test
  void aPbaStoreIsAuditedWhereThePolicyKeepsIt() {
    Host host = host();
    HostDevice nic = host.addDevice(HostMsixTest.nic(),
        MsixAccessPolicy.PCI_SPEC.withPbaWrite(MsixAccessPolicy.PbaWrite.STORE));
    MsixRegisters regs = nic.msixRegisters();
    host.enableMsix(nic, 0);
    host.programMsix(nic, 0, 0xfee03000L, 0x41);
    host.machine().write(PBA, 8, 0);
    assertEquals(0, regs.unpermittedChanges(), "no bit changed");
    host.machine().write(PBA, 8, 2);
    assertEquals("PBA 0xe0842000: 0x0 -> 0x2", regs.lastUnpermittedChange());
  }

  @Test
  void disablingTheLastEntryEndsTheGuard() {
    Host host = host();
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    MsixRegisters regs = nic.msixRegisters();
    host.enableMsix(nic, 0);
    host.enableMsix(nic, 1);
    host.programMsix(nic, 0, 0xfee03000L, 0x41);
    host.disableMsix(nic, 1);
    assertTrue(regs.isGuarded(), "entry 0 is still Xen's");
    host.disableMsix(nic, 0);
    assertFalse(regs.isGuarded());
    assertFalse(regs.isProgrammed(0));
    assertEquals(0, regs.programmedAddress(0));
    host.machine().write(TABLE, 4, 0xfee07000L);
    assertEquals(0, regs.unpermittedChanges());
    assertNull(regs.lastUnpermittedChange());
    assertNull(regs.lastUnprovenDelivery());
    assertEquals(List.of(), broken(host));
  }

  @Test
  void anHvmOwnersMaskBitWritesThroughMsixtblArePermittedEndToEnd() {
    // An EPT guest with msixtbl over the 82576's real table (entries 0 and 1 bound; the table's
    // guest page p2m_mmio_dm, mapped at linear 0x400000). dom0 programs entry 0; the guest masks
    // and unmasks it through msixtbl (guest_mask_msi_irq: bit 0 of the device's Vector Control).
    Host host = host();
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    MsixRegisters regs = nic.msixRegisters();
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    long gtable = 0xf000_0000L;
    assertEquals(0, host.setP2mEntry(d, gtable >>> 12, P2mEntry.INVALID_MFN, PageOrder.ORDER_4K,
        P2mType.MMIO_DM));
    host.registerMsixtbl(d, gtable, 10, TABLE, 0b11, false);
    long pml4 = 0x10_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x10_1000L | 0x23);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | 0x23);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, 0x10_3000L | 0x23);
    host.writeGuestPhysical(d, 0x10_3000L, 8, gtable | 0x63);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.cpu().loadState(0x8005_0033L, pml4, 0x20, 0xD00));
    host.enableMsix(nic, 0);
    host.programMsix(nic, 0, 0xfee03000L, 0x41);
    assertEquals(0, v.write(0x40_0000L + 12, 4, 1, Access.READ));
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK, v.lastAccessReason());
    assertTrue(regs.isMasked(0));
    assertEquals(MsixFireResult.PENDING, host.fireMsix(nic, 0));
    assertEquals(0, v.write(0x40_0000L + 12, 4, 0, Access.READ));
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK, v.lastAccessReason());
    assertEquals(List.of("0 0xfee03000/0x41"), received, "the pending message, on unmask");
    // Its address write goes to the (absent) device model, not the device.
    assertEquals(0, v.write(0x40_0000L, 4, 0xfee07000L, Access.READ));
    assertEquals(0xfee03000L, regs.messageAddress(0));
    assertEquals(0, regs.unpermittedChanges());
    assertEquals(List.of(), broken(host));
    // The same mask bit written by dom0 through the machine memory is not the permitted path.
    host.machine().write(TABLE + 12, 4, 1);
    assertEquals(List.of(HostInvariants.MSIX_TABLE_INTEGRITY), broken(host));
  }
}
