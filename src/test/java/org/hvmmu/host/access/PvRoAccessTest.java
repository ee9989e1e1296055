package org.hvmmu.host.access;

import static org.hvmmu.host.access.InstructionClass.LOCKED;
import static org.hvmmu.host.access.InstructionClass.MOVS;
import static org.hvmmu.host.access.InstructionClass.PLAIN_STORE;
import static org.hvmmu.host.access.InstructionClass.READ_MODIFY_WRITE;
import static org.hvmmu.host.access.InstructionClass.STOS;
import static org.hvmmu.host.access.InstructionClass.UNEMULATED;
import static org.hvmmu.host.access.InstructionClass.WIDE_STORE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * {@link PvRoAccess} against the reference's PV vectors (msix-emulation.md section 11.1, P1-P6
 * and M1-M4), each row's source in Xen named in its comment: {@code fixup_page_fault} (traps.c),
 * {@code pv_ro_page_fault}, {@code mmio_ro_emulated_write}, {@code mmcfg_intercept_write}
 * (pv/ro-page-fault.c) and {@code pci_msi_conf_write_intercept} (msi.c), read at RELEASE-4.22.0;
 * the seed's rows at RELEASE-4.1.0, which has no {@code mmio_ro_do_page_fault} (56b3130c1a, 4.2).
 */
class PvRoAccessTest {
  private static final RoMmioSwitches TODAY = RoMmioSwitches.XEN_4_22;

  /** A kernel address of the hardware domain's mapping of an MSI-X table page. */
  private static final long VA = 0xffff_8800_fe01_0000L;

  /** The MSI-X capability's offset in the config space (a typical 0x70). */
  private static final int CAP = 0x70;

  /** dom0, kernel mode, other r/o MMIO, a store at cr2. */
  private static AccessReason dom0(RoMmioSwitches s, InstructionClass insn, long addr, int bytes) {
    return PvRoAccess.write(s, true, true, false, 0, insn, addr, bytes, addr);
  }

  /** dom0's store to its MMCFG window at register {@code reg} of a function with MSI-X at CAP. */
  private static AccessReason mmcfg(RoMmioSwitches s, int reg, int bytes) {
    long addr = VA + 0x8000 + reg;
    return PvRoAccess.write(s, true, true, true, CAP, PLAIN_STORE, addr, bytes, addr);
  }

  @Test
  void p1AnAlignedKernelStoreOfTheHardwareDomainShouldBeDroppedAndRetired() {
    // P1: mov dword [cr2], eax; aligned; no sub-page entry -> OKAY, the write ignored.
    AccessReason r = dom0(TODAY, PLAIN_STORE, VA + 0x10, 4);
    assertEquals(AccessReason.MMIO_RO_DROPPED, r);
    assertEquals(AccessOutcome.DROPPED_SILENT, r.outcome());
    assertEquals("mmio_ro_emulated_write", r.function());
    assertEquals(AccessReason.MMIO_RO_DROPPED, dom0(TODAY, PLAIN_STORE, VA + 0x18, 8));
    assertEquals(AccessReason.MMIO_RO_DROPPED, dom0(TODAY, PLAIN_STORE, VA + 0x1f, 1));
    assertEquals(AccessReason.MMIO_RO_DROPPED, dom0(TODAY, STOS, VA + 0x20, 4), "an element");
  }

  @Test
  void p2AMisalignedStoreShouldBeABadAccessAndThePageFaultReinjected() {
    // P2: cr2 % 4 == 2: ((bytes | offset) & (bytes - 1)) != 0 -> "bad access", UNHANDLEABLE.
    AccessReason r = dom0(TODAY, PLAIN_STORE, VA + 0x12, 4);
    assertEquals(AccessReason.MMIO_RO_BAD_ACCESS, r);
    assertEquals(AccessOutcome.PF_INJECTED, r.outcome());
    assertEquals(AccessReason.MMIO_RO_BAD_ACCESS, dom0(TODAY, PLAIN_STORE, VA + 0x14, 8));
    // A store that starts on the page before: cr2 is this page's start, not the store's address.
    assertEquals(AccessReason.MMIO_RO_BAD_ACCESS, PvRoAccess.write(TODAY, true, true, false, 0,
        PLAIN_STORE, VA - 4, 8, VA));
  }

  @Test
  void p3AnAlignedWideStoreShouldBeDroppedWithoutALog() {
    // P3: 16-byte SSE store, aligned: bytes > 8 and no sub-page entry -> OKAY, nothing logged.
    assertEquals(AccessReason.MMIO_RO_WIDE_DROPPED, dom0(TODAY, WIDE_STORE, VA + 0x40, 16));
    assertEquals(AccessReason.MMIO_RO_WIDE_DROPPED, dom0(TODAY, WIDE_STORE, VA + 0x40, 64));
    assertEquals(AccessReason.MMIO_RO_BAD_ACCESS, dom0(TODAY, WIDE_STORE, VA + 0x50, 32));
    assertEquals(AccessOutcome.DROPPED_SILENT, AccessReason.MMIO_RO_WIDE_DROPPED.outcome());
  }

  @Test
  void p4InstructionsThatReadShouldFailOnTheUnhandleableRead() {
    // P4: or dword [cr2], 1: .read = x86emul_unhandleable_rw -> #PF; likewise lock ops and movs.
    for (InstructionClass insn : new InstructionClass[] {READ_MODIFY_WRITE, LOCKED, MOVS}) {
      AccessReason r = dom0(TODAY, insn, VA + 0x10, 4);
      assertEquals(AccessReason.PV_READ_UNHANDLEABLE, r, insn.name());
      assertEquals(AccessOutcome.PF_INJECTED, r.outcome());
    }
    assertEquals(AccessReason.PV_UNEMULATED, dom0(TODAY, UNEMULATED, VA + 0x10, 4));
  }

  @Test
  void p5AUserModeStoreShouldNotBeEmulated() {
    // P5: fixup_page_fault requires guest_kernel_mode.
    AccessReason r = PvRoAccess.write(TODAY, true, false, false, 0, PLAIN_STORE, VA, 4, VA);
    assertEquals(AccessReason.PV_USER_MODE, r);
    assertEquals("fixup_page_fault", r.function());
    assertEquals(AccessOutcome.PF_INJECTED, r.outcome());
  }

  @Test
  void p6AnotherPvDomainsStoreShouldFaultInEveryEra() {
    // P6: not the hardware domain: ptwr_do_page_fault finds no L1 table -> the #PF goes back.
    for (RoMmioSwitches s : new RoMmioSwitches[] {RoMmioSwitches.SEED_2010, TODAY}) {
      AccessReason r = PvRoAccess.write(s, false, true, false, 0, PLAIN_STORE, VA, 4, VA);
      assertEquals(AccessReason.PV_NOT_HARDWARE_DOMAIN, r);
      assertEquals(AccessOutcome.PF_INJECTED, r.outcome());
    }
  }

  @Test
  void theSeedShouldFaultEvenTheHardwareDomainsAlignedKernelStore() {
    // RELEASE-4.1.0: fixup_page_fault reaches only ptwr_do_page_fault (no mmio_ro path).
    AccessReason r = dom0(RoMmioSwitches.SEED_2010, PLAIN_STORE, VA + 0x10, 4);
    assertEquals(AccessReason.PV_NO_MMIO_RO_EMULATION, r);
    assertEquals(AccessOutcome.PF_INJECTED, r.outcome());
    assertEquals(AccessReason.MMIO_RO_DROPPED,
        dom0(RoMmioSwitches.SEED_2010.withPvMmioRoEmulation(true), PLAIN_STORE, VA + 0x10, 4),
        "the one switch closes the difference");
  }

  @Test
  void m1ATwoByteMessageControlWriteShouldBePerformed() {
    // M1: reg == msix_control_reg(pos) && size == 2 -> allowed (guest_maskall recorded).
    AccessReason r = mmcfg(TODAY, CAP + 2, 2);
    assertEquals(AccessReason.MMCFG_MSIX_CONTROL, r);
    assertEquals(AccessOutcome.PERFORMED, r.outcome());
    assertEquals("pci_msi_conf_write_intercept", r.function());
  }

  @Test
  void m2M3OtherWritesIntoTheCapabilityShouldBeVetoedSilently() {
    // M2: 4 bytes at pos; M3: 1 byte at pos+3; and the table and PBA offset registers.
    assertEquals(AccessReason.MMCFG_MSIX_VETO, mmcfg(TODAY, CAP, 4));
    assertEquals(AccessReason.MMCFG_MSIX_VETO, mmcfg(TODAY, CAP + 3, 1));
    assertEquals(AccessReason.MMCFG_MSIX_VETO, mmcfg(TODAY, CAP + 4, 4));
    assertEquals(AccessReason.MMCFG_MSIX_VETO, mmcfg(TODAY, CAP + 8, 4));
    assertEquals(AccessReason.MMCFG_MSIX_VETO, mmcfg(TODAY, CAP + 2, 1));
    assertEquals(AccessOutcome.DROPPED_SILENT, AccessReason.MMCFG_MSIX_VETO.outcome());
    // Outside [pos, pos + 12), below 64 or from 256 the MSI hooks do not look.
    assertEquals(AccessReason.MMCFG_WRITTEN, mmcfg(TODAY, CAP + 12, 4));
    assertEquals(AccessReason.MMCFG_WRITTEN, mmcfg(TODAY, CAP - 4, 4));
    assertEquals(AccessReason.MMCFG_WRITTEN, mmcfg(TODAY, 0x10, 4));
    assertEquals(AccessReason.MMCFG_WRITTEN, mmcfg(TODAY, 0x100, 4));
    assertEquals(AccessReason.MMCFG_WRITTEN, PvRoAccess.confWriteIntercept(CAP, 4, 0),
        "no MSI-X set up: no hook");
  }

  @Test
  void m4AStoreWiderThanFourOrMisalignedShouldBeABadMmcfgWrite() {
    // M4: 8-byte store: bytes > 4 -> "bad write", UNHANDLEABLE -> #PF.
    assertEquals(AccessReason.MMCFG_BAD_WRITE, mmcfg(TODAY, 0x40, 8));
    assertEquals(AccessReason.MMCFG_BAD_WRITE, mmcfg(TODAY, 0x41, 2));
    assertEquals(AccessOutcome.PF_INJECTED, AccessReason.MMCFG_BAD_WRITE.outcome());
  }

  @Test
  void withoutTheMmcfgInterceptAnMmcfgFrameShouldBeOtherReadOnlyMmio() {
    // Before 9256f66c16 (4.6): MMCFG frames in mmio_ro_ranges went through mmio_ro_emulated_write.
    RoMmioSwitches s = TODAY.withPvMmcfgIntercept(false);
    assertEquals(AccessReason.MMIO_RO_DROPPED, mmcfg(s, CAP + 2, 2));
    assertEquals(AccessReason.MMIO_RO_DROPPED, mmcfg(s, 0x40, 8));
  }
}
