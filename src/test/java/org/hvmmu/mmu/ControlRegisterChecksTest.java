package org.hvmmu.mmu;

import static org.hvmmu.mmu.ControlRegisters.CR0_PE;
import static org.hvmmu.mmu.ControlRegisters.CR0_PG;
import static org.hvmmu.mmu.ControlRegisters.CR0_WP;
import static org.hvmmu.mmu.ControlRegisters.CR4_CET;
import static org.hvmmu.mmu.ControlRegisters.CR4_LA57;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PCIDE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PSE;
import static org.hvmmu.mmu.ControlRegisters.EFER_LMA;
import static org.hvmmu.mmu.ControlRegisters.EFER_LME;
import static org.hvmmu.mmu.ControlRegisters.EFER_NXE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * The checks of MOV to CR0, CR3 and CR4 and of WRMSR to IA32_EFER and IA32_PKRS (Intel SDM vol. 2B
 * "MOV—Move to/from Control Registers" and vol. 3A §2.5, §4.1.1; vol. 4 for the MSRs), and of the
 * EPTP and nested CR3 a VM entry would take (vol. 3C §24.6.11, §26.2.1.1; AMD APM vol. 2 §15.25.4):
 * each #GP(0) or refusal condition alone, with the register left as it was, and the IA-32e
 * activation (EFER.LMA) that CR0.PG brings. Expected values are read off those sections.
 */
class ControlRegisterChecksTest {
  private static final long CR0 = CR0_PG | CR0_WP | CR0_PE | 0x10;

  private static Vcpu vcpu(MmuFeatures features) {
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(0, 0xFFFF);
    return new Vcpu(m, features, MmuSwitches.DEFAULT, TlbConfig.none(), LatencyModel.FREE);
  }

  private static Vcpu longMode() {
    Vcpu v = vcpu(MmuFeatures.intel(46));
    assertEquals(0, v.loadState(CR0, 0x1000, CR4_PAE, EFER_LME | EFER_LMA | EFER_NXE));
    return v;
  }

  @Test
  void movToCr0ShouldFaultOnEachConditionAndChangeNothing() {
    Vcpu v = longMode();
    // Bits 63:32 set.
    assertEquals(Fault.GP0, v.writeCr0(CR0 | (1L << 32)));
    // PG without PE.
    assertEquals(Fault.GP0, v.writeCr0(CR0 & ~CR0_PE));
    assertEquals(CR0, v.cr0());
    assertEquals(PagingMode.LONG_4, v.pagingMode());
    // Clearing PG deactivates IA-32e mode: LMA goes with it.
    assertEquals(0, v.writeCr0(CR0 & ~CR0_PG));
    assertEquals(EFER_LME | EFER_NXE, v.efer());
    assertEquals(PagingMode.NONE, v.pagingMode());
    // PG with LME but without PAE.
    assertEquals(0, v.writeCr4(0));
    assertEquals(Fault.GP0, v.writeCr0(CR0));
    assertEquals(CR0 & ~CR0_PG, v.cr0());
    // With PAE, PG activates IA-32e mode.
    assertEquals(0, v.writeCr4(CR4_PAE));
    assertEquals(0, v.writeCr0(CR0));
    assertEquals(EFER_LME | EFER_LMA | EFER_NXE, v.efer());
    assertEquals(PagingMode.LONG_4, v.pagingMode());
    assertEquals(3, v.counters().generalProtectionFaults());
  }

  @Test
  void movToCr0ShouldNotClearPagingWithPcids() {
    Vcpu v = longMode();
    assertEquals(0, v.writeCr4(CR4_PAE | CR4_PCIDE));
    assertEquals(Fault.GP0, v.writeCr0(CR0 & ~CR0_PG));
    assertEquals(CR0, v.cr0());
    assertEquals(EFER_LME | EFER_LMA | EFER_NXE, v.efer());
  }

  @Test
  void movToCr0WithoutLmeShouldGiveLegacyOrPaePaging() {
    Vcpu v = vcpu(MmuFeatures.intel(46));
    assertEquals(0, v.loadState(CR0_PE, 0x1000, 0, 0));
    assertEquals(0, v.writeCr0(CR0));
    assertEquals(0, v.efer(), "no LME, no LMA");
    assertEquals(PagingMode.LEGACY_32, v.pagingMode());
  }

  @Test
  void movToCr4ShouldFaultOnEachConditionAndChangeNothing() {
    Vcpu v = longMode();
    // Reserved bit 25 and the unsupported bits of a processor without them.
    assertEquals(Fault.GP0, v.writeCr4(CR4_PAE | (1L << 25)));
    assertEquals(Fault.GP0, v.writeCr4(CR4_PAE | (1L << 32)));
    // IA-32e mode: PAE may not be cleared, LA57 may not change.
    assertEquals(Fault.GP0, v.writeCr4(0));
    assertEquals(Fault.GP0, v.writeCr4(CR4_PAE | CR4_LA57));
    // CET needs CR0.WP.
    assertEquals(0, v.writeCr0(CR0 & ~CR0_WP));
    assertEquals(Fault.GP0, v.writeCr4(CR4_PAE | CR4_CET));
    assertEquals(0, v.writeCr0(CR0));
    assertEquals(0, v.writeCr4(CR4_PAE | CR4_CET));
    assertEquals(CR4_PAE | CR4_CET, v.cr4());
    // PCIDE needs CR3 bits 11:0 zero.
    assertEquals(0, v.writeCr3(0x1001));
    assertEquals(Fault.GP0, v.writeCr4(CR4_PAE | CR4_CET | CR4_PCIDE));
    assertEquals(0, v.writeCr3(0x1000));
    assertEquals(0, v.writeCr4(CR4_PAE | CR4_CET | CR4_PCIDE));
    assertEquals(CR4_PAE | CR4_CET | CR4_PCIDE, v.cr4());
    // Setting PCIDE again (no change) is no 0 -> 1 transition: CR3 bits 11:0 may be a PCID now.
    assertEquals(0, v.writeCr3(0x1005));
    assertEquals(5, v.pcid());
    assertEquals(0, v.writeCr4(CR4_PAE | CR4_CET | CR4_PCIDE | CR4_PSE));
    Vcpu none = vcpu(new MmuFeatures(Vendor.INTEL, 46, true, true, false, false, false, false,
        false, false, false, false, false, false, false, false, false));
    assertEquals(0, none.loadState(CR0, 0x1000, CR4_PAE, EFER_LME | EFER_LMA));
    for (long bit : new long[] {CR4_LA57, CR4_PCIDE, ControlRegisters.CR4_SMEP,
        ControlRegisters.CR4_SMAP, ControlRegisters.CR4_PKE, CR4_CET, ControlRegisters.CR4_PKS}) {
      assertEquals(Fault.GP0, none.writeCr4(CR4_PAE | bit), Long.toHexString(bit));
    }
    assertEquals(CR4_PAE, none.cr4());
    // The bits with no effect here (VME ... OSXSAVE) are accepted.
    long harmless = 0xFL | (1L << 6) | (0xFL << 8) | (1L << 13) | (1L << 14) | (1L << 16)
        | (1L << 18);
    assertEquals(0, none.writeCr4(CR4_PAE | harmless));
  }

  @Test
  void pcidsShouldNeedIa32eMode() {
    Vcpu v = vcpu(MmuFeatures.intel(46));
    assertEquals(0, v.loadState(CR0, 0x1000, CR4_PAE, 0));
    assertEquals(PagingMode.PAE, v.pagingMode());
    assertEquals(Fault.GP0, v.writeCr4(CR4_PAE | CR4_PCIDE));
    // Outside IA-32e mode PAE may be cleared.
    assertEquals(0, v.writeCr4(0));
    assertEquals(PagingMode.LEGACY_32, v.pagingMode());
  }

  @Test
  void movToCr3ShouldCheckTheAddressWidth() {
    Vcpu v = longMode();
    assertEquals(Fault.GP0, v.writeCr3(1L << 46), "a bit at MAXPHYADDR");
    assertEquals(0, v.writeCr3((1L << 46) - 0x1000));
    assertEquals((1L << 46) - 0x1000, v.cr3());
    // Without PCIDs bit 63 is no hint: it is a bit above MAXPHYADDR.
    assertEquals(Fault.GP0, v.writeCr3(ControlRegisters.CR3_NOFLUSH | 0x1000));
    // With PCIDs it is the hint, and not stored.
    assertEquals(0, v.writeCr3(0x1000));
    assertEquals(0, v.writeCr4(CR4_PAE | CR4_PCIDE));
    assertEquals(0, v.writeCr3(ControlRegisters.CR3_NOFLUSH | 0x2003));
    assertEquals(0x2003, v.cr3());
    assertEquals(3, v.pcid());
    Vcpu legacy = vcpu(MmuFeatures.intel(46));
    assertEquals(0, legacy.loadState(CR0, 0x1000, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> legacy.writeCr3(1L << 32));
    assertEquals(0, legacy.writeCr3(0xFFFF_F000L));
    assertEquals(0xFFFF_F000L, legacy.cr3());
  }

  @Test
  void wrmsrToEferShouldCheckItsBits() {
    Vcpu v = longMode();
    // Bits 1-7 and 9 are reserved; 12-15 (LMSLE, SVME, FFXSR, TCE) are accepted.
    assertEquals(Fault.GP0, v.writeEfer(EFER_LME | EFER_NXE | 2));
    assertEquals(Fault.GP0, v.writeEfer(EFER_LME | EFER_NXE | (1L << 9)));
    assertEquals(Fault.GP0, v.writeEfer(EFER_LME | EFER_NXE | (1L << 16)));
    assertEquals(0, v.writeEfer(EFER_LME | EFER_NXE | 0xF000L | ControlRegisters.EFER_SCE));
    // LMA is read-only: written as 0 it stays 1.
    assertEquals(EFER_LME | EFER_LMA | EFER_NXE | 0xF001L, v.efer());
    // LME may not change while paging is on.
    assertEquals(Fault.GP0, v.writeEfer(EFER_NXE));
    assertEquals(EFER_LME | EFER_LMA | EFER_NXE | 0xF001L, v.efer());
    // NXE needs the feature.
    Vcpu noNx = vcpu(new MmuFeatures(Vendor.INTEL, 46, false, true, true, true, true, true, true,
        true, true, true, true, true, true, true, true));
    assertEquals(0, noNx.loadState(CR0_PE, 0, 0, 0));
    assertEquals(Fault.GP0, noNx.writeEfer(EFER_NXE));
    assertEquals(0, noNx.writeEfer(EFER_LME), "LME may change with paging off");
    assertEquals(EFER_LME, noNx.efer());
    // Written with LMA set while LMA is clear, it stays clear.
    assertEquals(0, noNx.writeEfer(EFER_LME | EFER_LMA));
    assertEquals(EFER_LME, noNx.efer());
  }

  @Test
  void wrmsrToPkrsShouldReserveBits63To32() {
    Vcpu v = longMode();
    assertEquals(Fault.GP0, v.writePkrs(1L << 32));
    assertEquals(0, v.pkrs());
    assertEquals(0, v.writePkrs(0xFFFF_FFFFL));
    assertEquals(-1, v.pkrs());
    v.writePkru(0x55);
    assertEquals(0x55, v.pkru());
    v.setRflags(ControlRegisters.RFLAGS_AC | 2);
    assertEquals(true, v.alignmentCheck());
    v.setRflags(2);
    assertEquals(false, v.alignmentCheck());
  }

  @Test
  void shouldRefuseEptPointersAVmEntryWouldRefuse() {
    Vcpu v = longMode();
    long good = 0x5000 | 6 | (3 << 3);
    // Memory type: 0 (UC) and 6 (WB) only.
    v.configureEpt(0x5000 | (3 << 3), 0xFFFF);
    assertEquals(NestedPaging.EPT, v.nestedPaging());
    assertEquals(0xFFFF, v.vpid());
    for (long type : new long[] {1, 2, 3, 4, 5, 7}) {
      assertThrows(IllegalArgumentException.class, () -> v.configureEpt(0x5000 | type | (3 << 3),
          1), "type " + type);
    }
    // Walk length 4 (or 5 with 5-level EPT); bits 11:8; bits 63:MAXPHYADDR; VPID range.
    assertThrows(IllegalArgumentException.class, () -> v.configureEpt(0x5000 | 6 | (2 << 3), 1));
    assertThrows(IllegalArgumentException.class, () -> v.configureEpt(good | 0x100, 1));
    assertThrows(IllegalArgumentException.class, () -> v.configureEpt(good | 0x800, 1));
    assertThrows(IllegalArgumentException.class, () -> v.configureEpt(good | (1L << 46), 1));
    assertThrows(IllegalArgumentException.class, () -> v.configureEpt(good, 0x10000));
    v.configureEpt(0x5000 | 6 | (4 << 3), 0);
    assertEquals(0, v.vpid());
    // A/D only with the capability; 5-level only with it; never on AMD.
    MmuFeatures plain = MmuFeatures.intel(46).withEpt(false, false, false, false);
    Vcpu p = vcpu(plain);
    assertThrows(IllegalArgumentException.class,
        () -> p.configureEpt(good | ControlRegisters.EPTP_ACCESSED_DIRTY, 1));
    Vcpu amd = vcpu(MmuFeatures.amd(46));
    assertThrows(IllegalArgumentException.class, () -> amd.configureEpt(good, 1));
    // Nested CR3 bits 63:MAXPHYADDR; ASID range.
    assertThrows(IllegalArgumentException.class, () -> amd.configureNpt(1L << 46, 1, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> amd.configureNpt(0x5000, 0x10000, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> amd.configureNpt(0x5000, -1, 0, 0));
    amd.configureNpt((1L << 46) - 0x1000, 0xFFFF, 0, 0);
    assertEquals(NestedPaging.NPT, amd.nestedPaging());
    assertEquals((1L << 46) - 0x1000, amd.nestedCr3());
    amd.disableNesting();
    assertEquals(NestedPaging.NONE, amd.nestedPaging());
    assertEquals(0, amd.vpid());
  }
}
