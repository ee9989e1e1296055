package org.hvmmu.host;

import static org.hvmmu.pci.msix.regs.MsixRegisters.CONTROL_ENABLE;
import static org.hvmmu.pci.msix.regs.MsixRegisters.CONTROL_FUNCTION_MASK;
import static org.hvmmu.pci.msix.regs.MsixRegisters.VECTOR_CONTROL;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.host.access.AccessReason;
import org.hvmmu.mmu.Access;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.pci.msix.regs.MsixFireResult;
import org.hvmmu.pci.msix.regs.MsixRegisters;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * Xen masking a device's vectors: the entry masked when Xen disables it ({@code __pci_disable_msix},
 * both eras), the mask-all state Xen keeps beside the hardware domain's ({@code host_maskall},
 * {@code guest_maskall}: 484d7c852e and 082fdc6ce8, switch {@code msixHostMaskall}), and the
 * function's memory decoding, which decides between them ({@code memory_decoded}). Sequences from
 * {@code msi_set_mask_bit}, {@code __pci_disable_msix}, {@code msix_capability_init} and {@code
 * pci_msi_conf_write_intercept} in {@code xen/arch/x86/msi.c} at RELEASE-4.22.0 and
 * RELEASE-4.1.0, followed by hand; vector M1 of msix-emulation.md section 11 ("MASKALL forced on
 * if host_maskall"). The device is the 82576 of the bundled dump (Command 0x0407: memory decoded;
 * MSI-X capability at 0x70), reached through HostMmcfgTest's ECAM window by a PV hardware domain.
 */
class HostMsixMaskingTest {
  private static final long BASE = 0xf8000000L;
  private static final long NIC_FRAME = 0xf8100;
  private static final long VA = 0x5000;
  private static final int URW = PAGE_PRESENT | PAGE_RW | PAGE_USER;
  private static final int MSIX_CONTROL = 0x72;
  private static final long ADDRESS = 0xfee0_0000L;
  private static final int DATA = 0x4041;

  private static Policy withoutMaskall() {
    return Policy.XEN_4_22.withRoMmio(Policy.XEN_4_22.roMmio().withMsixHostMaskall(false));
  }

  private record Rig(Host host, HostDevice nic, MsixRegisters regs, GuestVcpu dom0) {}

  /** The NIC with entry 0 enabled and programmed; dom0's linear 0x5000 maps its config frame. */
  private static Rig rig(Policy policy) {
    Host host = new Host(0x1000, policy);
    assertEquals(0, host.addMmcfg(0, 0, 63, BASE));
    assertEquals(0, host.protect("mmcfg", 0xf8000, 0xfbfff));
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    GuestDomain d = host.createDomain(0, PagingMode.PV, true);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, NIC_FRAME, NIC_FRAME));
    host.writeGuestEntry(d, 0x100, 0, Pte.fromMfn(0x101, URW));
    host.writeGuestEntry(d, 0x101, 0, Pte.fromMfn(0x102, URW));
    host.writeGuestEntry(d, 0x102, 0, Pte.fromMfn(0x103, URW));
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, host.newBaseptr(v, 0x100));
    assertEquals(0, host.updateVaMapping(v, VA, Pte.fromMfn(NIC_FRAME, URW),
        PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL, 0));
    assertEquals(0, host.enableMsix(nic, 0).rc());
    assertEquals(0, host.programMsix(nic, 0, ADDRESS, DATA));
    return new Rig(host, nic, nic.msixRegisters(), v);
  }

  /** dom0's 2-byte Command write through the window (performed: below register 64). */
  private static void command(Rig r, int value) {
    assertEquals(0, r.dom0.write(VA + 0x04, 2, value, Access.USER));
    assertEquals(AccessReason.MMCFG_WRITTEN, r.dom0.lastAccessReason());
  }

  @Test
  void disablingShouldMaskTheEntryInTheDeviceInEveryEra() {
    for (Policy policy : new Policy[] {Policy.XEN_4_22, withoutMaskall(), Policy.SEED_2010}) {
      Rig r = rig(policy);
      assertEquals(0, r.regs.entryDword(0, VECTOR_CONTROL), "programmed: unmasked");
      assertEquals(0, r.host.disableMsix(r.nic, 0).rc());
      // writel(1, ... + PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET) in both eras; Message Control back
      // as it was (the seed clears Enable around the write and restores it).
      assertEquals(1, r.regs.entryDword(0, VECTOR_CONTROL), policy.toString());
      assertEquals(CONTROL_ENABLE, r.regs.messageControl());
      assertEquals(MsixFireResult.PENDING, r.host.fireMsix(r.nic, 0));
      assertEquals(0, r.regs.unpermittedChanges(), "Xen's own write is a permitted one");
    }
  }

  @Test
  void memoryDecodingShouldFollowCommandAndDarkenTheTable() {
    Rig r = rig(Policy.XEN_4_22);
    assertTrue(r.nic.memoryDecoded(), "the dump's Command 0x0407 has Memory Space set");
    long table = r.regs.tableAddress();
    assertEquals(ADDRESS, r.host.machine().read(table, 4));
    command(r, 0x0405); // Memory Space cleared
    assertFalse(r.nic.memoryDecoded());
    assertEquals(0x0405, r.host.machine().read(BASE + (1L << 20) + 0x04, 2), "reads back");
    assertEquals(0xffff_ffffL, r.host.machine().read(table, 4), "not decoded: all ones");
    r.host.machine().write(table, 4, 0x1234);
    assertEquals(ADDRESS, r.regs.messageAddress(0), "the write reached nothing");
    assertEquals(-Errno.ENXIO, r.host.programMsix(r.nic, 0, ADDRESS, DATA),
        "write_msi_msg: msix_memory_decoded");
    assertEquals(MsixFireResult.DELIVERED, r.host.fireMsix(r.nic, 0), "interrupts go on");
    command(r, 0x0407);
    assertEquals(ADDRESS, r.host.machine().read(table, 4));
  }

  @Test
  void m1TheHardwareDomainsFunctionMaskShouldNotUndoXensHostMaskall() {
    Rig r = rig(Policy.XEN_4_22);
    command(r, 0x0405);
    // __pci_disable_msix with memory not decoded: the entry cannot be masked, Function Mask
    // was clear, so Xen masks the function instead: host_maskall, MASKALL set.
    assertEquals(0, r.host.disableMsix(r.nic, 0).rc());
    assertTrue(r.nic.hostMaskall());
    assertEquals(CONTROL_ENABLE | CONTROL_FUNCTION_MASK, r.regs.messageControl());
    assertEquals(0, r.regs.entryDword(0, VECTOR_CONTROL), "the entry itself is still unmasked");
    assertEquals(MsixFireResult.PENDING, r.host.fireMsix(r.nic, 0), "but cannot fire");
    // M1: dom0 writes Enable without Function Mask; guest_maskall records 0, and Xen keeps
    // MASKALL on because host_maskall is set.
    assertEquals(0, r.dom0.write(VA + MSIX_CONTROL, 2, 0x8009, Access.USER));
    assertEquals(AccessReason.MMCFG_MSIX_CONTROL, r.dom0.lastAccessReason());
    assertFalse(r.nic.guestMaskall());
    assertEquals(CONTROL_ENABLE | CONTROL_FUNCTION_MASK, r.regs.messageControl());
    assertEquals(MsixFireResult.PENDING, r.host.fireMsix(r.nic, 0));
  }

  @Test
  void withoutTheSplitADisableUnderNoDecodingShouldLeaveTheVectorLive() {
    // RELEASE-4.1.0: Enable cleared, writel(1) (which a function not decoding memory never
    // sees), Message Control restored: the "disabled" vector still fires where it pointed,
    // what 082fdc6ce8 ("be more careful during teardown") closed.
    Rig r = rig(withoutMaskall());
    command(r, 0x0405);
    assertEquals(0, r.host.disableMsix(r.nic, 0).rc());
    assertFalse(r.nic.hostMaskall());
    assertEquals(CONTROL_ENABLE, r.regs.messageControl());
    assertEquals(MsixFireResult.DELIVERED, r.host.fireMsix(r.nic, 0));
    // M1 passes the value unchanged and records nothing.
    assertEquals(0, r.dom0.write(VA + MSIX_CONTROL, 2, 0xc009, Access.USER));
    assertFalse(r.nic.guestMaskall());
    assertEquals(CONTROL_ENABLE | CONTROL_FUNCTION_MASK, r.regs.messageControl());
  }

  @Test
  void aFirstVectorShouldLeaveFunctionMaskAsTheGuestAsked() {
    for (Policy policy : new Policy[] {Policy.XEN_4_22, withoutMaskall()}) {
      Rig r = rig(policy);
      assertEquals(0, r.host.disableMsix(r.nic, 0).rc()); // used_entries back to 0
      // Function Mask set behind Xen's back (a raw configuration write): guest_maskall is 0.
      r.host.writeConfig(r.nic, MSIX_CONTROL, 2, 0xc009);
      assertEquals(CONTROL_ENABLE | CONTROL_FUNCTION_MASK, r.regs.messageControl());
      assertEquals(0, r.host.enableMsix(r.nic, 0).rc());
      boolean split = policy.roMmio().msixHostMaskall();
      assertEquals(split ? CONTROL_ENABLE : CONTROL_ENABLE | CONTROL_FUNCTION_MASK,
          r.regs.messageControl(), "msix_capability_init: MASKALL from guest_maskall");
      // Through the intercept dom0 asks for Function Mask: the next first vector keeps it.
      assertEquals(0, r.host.disableMsix(r.nic, 0).rc());
      assertEquals(0, r.dom0.write(VA + MSIX_CONTROL, 2, 0xc009, Access.USER));
      assertEquals(split, r.nic.guestMaskall());
      assertEquals(0, r.host.enableMsix(r.nic, 0).rc());
      assertEquals(CONTROL_ENABLE | CONTROL_FUNCTION_MASK, r.regs.messageControl());
    }
  }

  /** An HVM guest of the NIC whose linear 0x400000 maps the table at guest 0xf0000000. */
  private static GuestVcpu hvm(Rig r) {
    GuestDomain d = r.host.createDomain(1, PagingMode.HVM_EPT, false);
    assertEquals(0, r.host.giveRam(d, 0x200, 0x2ff));
    long gtable = HostMsixtblTest.GTABLE;
    assertEquals(0, r.host.setP2mEntry(d, gtable >>> 12, P2mEntry.INVALID_MFN,
        PageOrder.ORDER_4K, P2mType.MMIO_DM));
    r.host.registerMsixtbl(d, gtable, r.regs.entries(), r.regs.tableAddress(), 0b1, false);
    long pml4 = 0x20_0000L;
    r.host.writeGuestPhysical(d, pml4, 8, 0x20_1000L | 0x23);
    r.host.writeGuestPhysical(d, 0x20_1000L, 8, 0x20_2000L | 0x23);
    r.host.writeGuestPhysical(d, 0x20_2000L + 8 * 2, 8, 0x20_3000L | 0x23);
    r.host.writeGuestPhysical(d, 0x20_3000L, 8, gtable | 0x63);
    GuestVcpu v = r.host.createVcpu(d);
    assertEquals(0, v.cpu().loadState(0x8005_0033L, pml4, 0x20, 0xD00));
    return v;
  }

  @Test
  void msixtblsMaskShouldReachTheTableWhileMsixIsDisabledAndFallBackToMaskall() {
    Rig r = rig(Policy.XEN_4_22);
    GuestVcpu v = hvm(r);
    long control = HostMsixtblTest.LA + VECTOR_CONTROL;
    // MSI-X disabled in hardware, memory decoded: Xen enables it with Function Mask to reach the
    // table, writes the mask, and puts Message Control back (host_maskall as before: clear).
    r.host.writeConfig(r.nic, MSIX_CONTROL, 2, 0x0009);
    assertEquals(0, v.write(control, 4, 1, Access.READ));
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK, v.lastAccessReason());
    assertEquals(1, r.regs.entryDword(0, VECTOR_CONTROL));
    assertEquals(0, r.regs.messageControl());
    assertFalse(r.nic.hostMaskall());
    // Unmask, then mask again with memory not decoded: the mask falls back to Function Mask.
    assertEquals(0, v.write(control, 4, 0, Access.READ));
    assertEquals(0, r.regs.entryDword(0, VECTOR_CONTROL));
    r.host.writeConfig(r.nic, 0x04, 2, 0x0405);
    assertEquals(0, v.write(control, 4, 1, Access.READ));
    assertEquals(0, r.regs.entryDword(0, VECTOR_CONTROL), "the table is out of reach");
    assertTrue(r.nic.hostMaskall());
    assertEquals(CONTROL_FUNCTION_MASK, r.regs.messageControl(), "Enable as it was, MASKALL on");
  }
}
