package org.hvmmu.host;

import static org.hvmmu.pci.msix.regs.MsixRegisters.CONTROL_ENABLE;
import static org.hvmmu.pci.msix.regs.MsixRegisters.CONTROL_FUNCTION_MASK;
import static org.hvmmu.pci.msix.regs.MsixRegisters.VECTOR_CONTROL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.pci.msix.regs.MsixAccessPolicy;
import org.hvmmu.pci.msix.regs.MsixFireResult;
import org.hvmmu.pci.msix.regs.MsixRegisters;
import org.junit.jupiter.api.Test;

/**
 * {@link MsixMasking} driven directly on the 82576's live registers. Expected register values by
 * hand from {@code xen/arch/x86/msi.c}: at RELEASE-4.22.0 {@code msi_set_mask_bit} writes {@code
 * flag} to Vector Control when memory is decoded and, if Enable was set, stops there ({@code
 * break}); otherwise it records {@code host_maskall} and writes Message Control back with
 * Function Mask set if {@code maskall || guest_maskall}; at RELEASE-4.1.0 it only does {@code
 * writel(flag)}, and {@code __pci_disable_msix} clears Enable ({@code msix_set_enable(dev, 0)}),
 * writes 1 to Vector Control and writes Message Control back as read. The device's side follows
 * the PCI Express MSI-X rules: an entry is masked while Enable is clear or Function Mask is set,
 * and a device that latches address and data at unmask ({@link MsixAccessPolicy#XEN_MSIXTBL})
 * latches them again when the function is unmasked.
 */
class MsixMutMaskingTest {
  private static final RoMmioSwitches TODAY = RoMmioSwitches.XEN_4_22;
  private static final RoMmioSwitches SEED = RoMmioSwitches.SEED_2010;

  private record Rig(Host host, HostDevice nic, MsixRegisters regs, List<Long> sent) {}

  /** The NIC; entries 0 and 1 programmed (which enables MSI-X, Function Mask clear). */
  private static Rig rig(MsixAccessPolicy access) {
    Host host = new Host(0x1000, Policy.XEN_4_22);
    List<Long> sent = new ArrayList<>();
    host.setInterruptSink((bdf, entry, address, data, interrupt) -> sent.add(address));
    HostDevice nic = host.addDevice(MsixMutMmcfgTest.dump("pciutils_intel_82576_10c9.xxx.txt"),
        access);
    MsixRegisters regs = nic.msixRegisters();
    regs.programEntry(0, 0xfee0_0000L, 0x41);
    regs.programEntry(1, 0xfee0_1000L, 0x42);
    assertEquals(CONTROL_ENABLE, regs.messageControl());
    return new Rig(host, nic, regs, sent);
  }

  @Test
  void theSeedShouldWriteTheFlagToVectorControlAndNothingElse() {
    Rig r = rig(MsixAccessPolicy.PCI_SPEC);
    MsixMasking m = r.nic.masking();
    m.setMaskBit(SEED, r.regs, 1, false, true);
    assertEquals(1, r.regs.entryDword(1, VECTOR_CONTROL), "writel(1)");
    m.setMaskBit(SEED, r.regs, 1, true, false);
    assertEquals(1, r.regs.entryDword(1, VECTOR_CONTROL));
    m.setMaskBit(SEED, r.regs, 1, false, false);
    assertEquals(0, r.regs.entryDword(1, VECTOR_CONTROL), "writel(0)");
    // Memory not decoded: the write reaches nothing, and the seed has no Function Mask fallback.
    r.nic.setMemoryDecoded(false);
    m.setMaskBit(SEED, r.regs, 1, false, true);
    assertEquals(CONTROL_ENABLE, r.regs.messageControl());
    assertFalse(m.hostMaskall());
    assertEquals(0, r.regs.entryDword(1, VECTOR_CONTROL));
    assertEquals(MsixFireResult.DELIVERED, r.regs.fire(1), "the mask was lost");
  }

  @Test
  void todayAnUnreachableTableShouldBeMaskedWithFunctionMask() {
    Rig r = rig(MsixAccessPolicy.PCI_SPEC);
    MsixMasking m = r.nic.masking();
    r.nic.setMemoryDecoded(false);
    m.setMaskBit(TODAY, r.regs, 1, false, true);
    assertTrue(m.hostMaskall());
    assertEquals(CONTROL_ENABLE | CONTROL_FUNCTION_MASK, r.regs.messageControl());
    assertEquals(MsixFireResult.PENDING, r.regs.fire(1));
  }

  @Test
  void todayAMaskWithEnableSetShouldLeaveMessageControlAlone() {
    Rig r = rig(MsixAccessPolicy.PCI_SPEC);
    MsixMasking m = r.nic.masking();
    // The hardware domain asks for Function Mask (guest_maskall), then Function Mask is cleared
    // behind Xen's back (a raw configuration write, as DeviceInterrupts does).
    r.regs.writeMessageControl(m.interceptControlWrite(TODAY, CONTROL_ENABLE
        | CONTROL_FUNCTION_MASK));
    assertTrue(m.guestMaskall());
    r.regs.writeMessageControl(CONTROL_ENABLE);
    // Enable set, memory decoded: writel(flag), then break: Message Control is not written.
    m.setMaskBit(TODAY, r.regs, 1, false, true);
    assertEquals(1, r.regs.entryDword(1, VECTOR_CONTROL));
    assertEquals(CONTROL_ENABLE, r.regs.messageControl());
    m.setMaskBit(TODAY, r.regs, 1, false, false);
    assertEquals(0, r.regs.entryDword(1, VECTOR_CONTROL));
    assertEquals(CONTROL_ENABLE, r.regs.messageControl());
    assertFalse(m.hostMaskall());
  }

  @Test
  void todayWithEnableClearGuestMaskallShouldSetFunctionMaskOnTheWayBack() {
    Rig r = rig(MsixAccessPolicy.PCI_SPEC);
    MsixMasking m = r.nic.masking();
    r.regs.writeMessageControl(m.interceptControlWrite(TODAY, CONTROL_FUNCTION_MASK));
    assertTrue(m.guestMaskall());
    r.regs.writeMessageControl(0); // behind Xen's back: Enable and Function Mask clear
    // Enable clear: the table is reached under Enable | MASKALL; then host_maskall = maskall (0)
    // and Message Control = control (0) | MASKALL because guest_maskall is set.
    m.setMaskBit(TODAY, r.regs, 1, false, true);
    assertEquals(1, r.regs.entryDword(1, VECTOR_CONTROL));
    assertFalse(m.hostMaskall());
    assertEquals(CONTROL_FUNCTION_MASK, r.regs.messageControl());
    // Without guest_maskall Message Control goes back exactly as read.
    r.regs.writeMessageControl(m.interceptControlWrite(TODAY, 0));
    assertFalse(m.guestMaskall());
    m.setMaskBit(TODAY, r.regs, 1, false, false);
    assertEquals(0, r.regs.entryDword(1, VECTOR_CONTROL));
    assertEquals(0, r.regs.messageControl());
  }

  @Test
  void theSeedsDisableShouldClearEnableAroundTheMask() {
    // Entry 1 unmasked with its address latched; its address then changes behind Xen's back. A
    // device latching at unmask keeps sending the old address until the function is masked and
    // unmasked again, which the seed's msix_set_enable(dev, 0) ... restore of entry 0 does.
    Rig r = rig(MsixAccessPolicy.XEN_MSIXTBL);
    r.regs.write(r.regs.tableAddress() + 16, 4, 0xfee0_2000L);
    assertEquals(MsixFireResult.DELIVERED, r.regs.fire(1));
    assertEquals(List.of(0xfee0_1000L), r.sent, "the address latched at unmask");
    r.nic.masking().disable(SEED, r.regs, 0);
    assertEquals(1, r.regs.entryDword(0, VECTOR_CONTROL), "writel(1)");
    assertEquals(CONTROL_ENABLE, r.regs.messageControl(), "Message Control back as read");
    assertEquals(MsixFireResult.DELIVERED, r.regs.fire(1));
    assertEquals(List.of(0xfee0_1000L, 0xfee0_2000L), r.sent, "latched again at Enable");
    assertEquals(MsixFireResult.PENDING, r.regs.fire(0));
  }

  @Test
  void todaysDisableWithoutDecodingShouldMaskTheFunction() {
    Rig r = rig(MsixAccessPolicy.PCI_SPEC);
    MsixMasking m = r.nic.masking();
    r.nic.setMemoryDecoded(false);
    m.disable(TODAY, r.regs, 0);
    assertTrue(m.hostMaskall());
    assertEquals(CONTROL_ENABLE | CONTROL_FUNCTION_MASK, r.regs.messageControl());
    // A first vector clears host_maskall and Function Mask (guest_maskall clear).
    m.firstVectorSetUp(TODAY, r.regs);
    assertFalse(m.hostMaskall());
    assertEquals(CONTROL_ENABLE, r.regs.messageControl());
  }
}
