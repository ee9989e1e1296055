package org.hvmmu.mmu;

import static org.hvmmu.mmu.ControlRegisters.CR0_PE;
import static org.hvmmu.mmu.ControlRegisters.CR0_PG;
import static org.hvmmu.mmu.ControlRegisters.CR0_WP;
import static org.hvmmu.mmu.ControlRegisters.CR4_CET;
import static org.hvmmu.mmu.ControlRegisters.CR4_LA57;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PCIDE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PKS;
import static org.hvmmu.mmu.ControlRegisters.CR4_SMAP;
import static org.hvmmu.mmu.ControlRegisters.EFER_LMA;
import static org.hvmmu.mmu.ControlRegisters.EFER_LME;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * MOV to CR0, CR3 and CR4 where they must succeed, from Intel SDM vol. 2B "MOV—Move to/from
 * Control Registers" (#GP conditions: PG without PE, bits 63:32 of CR0, CR4.PCIDE going 0 to 1
 * with CR3[11:0] nonzero or outside IA-32e mode, CET without CR0.WP, unsupported CR4 bits) and vol.
 * 3A §2.5, §4.1.1 (IA-32e activation by CR0.PG with EFER.LME), §4.10.1 (CR3 bits 11:0 are a PCID
 * only while CR4.PCIDE = 1) and §4.10.4.1 (what each write invalidates: a MOV to CR0 that does
 * not clear PG, none).
 */
class VcpuInvControlRegistersTest {
  private static final long ET = 0x10;

  private static Vcpu reset(MmuFeatures features) {
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(0, 0xFFFF);
    return new Vcpu(m, features, MmuSwitches.DEFAULT, TlbConfig.goldenCove(),
        LatencyModel.GOLDEN_COVE);
  }

  private static Vcpu reset() {
    return reset(MmuFeatures.intel(46));
  }

  @Test
  void clearingPeWithPagingOffShouldBeAllowed() {
    Vcpu v = reset();
    assertEquals(0, v.writeCr0(ET));
    assertEquals(ET, v.cr0());
    assertEquals(0, v.writeCr0(CR0_PE | ET));
  }

  @Test
  void onlySettingPgShouldActivateIa32eMode() {
    Vcpu v = reset();
    assertEquals(0, v.writeCr4(CR4_PAE));
    assertEquals(0, v.writeEfer(EFER_LME));
    assertEquals(0, v.writeCr0(CR0_PE | CR0_WP | ET)); // PG stays clear
    assertEquals(EFER_LME, v.efer());
    assertEquals(PagingMode.NONE, v.pagingMode());
    assertEquals(0, v.writeCr0(CR0_PG | CR0_PE | CR0_WP | ET));
    assertEquals(EFER_LME | EFER_LMA, v.efer());
    assertEquals(PagingMode.LONG_4, v.pagingMode());
  }

  @Test
  void aMovToCr0ThatKeepsPagingOffShouldInvalidateNothing() {
    Vcpu v = reset();
    long[] before = VcpuInvGuest.flushes(v);
    long cycles = v.counters().cycles();
    assertEquals(0, v.writeCr0(CR0_PE | ET));
    VcpuInvGuest.assertFlushes(before, v, 0, 0, 0);
    assertEquals(cycles, v.counters().cycles());
  }

  @Test
  void cr3BitsShouldBeAPcidOnlyWithPcide() {
    VcpuInvGuest g = new VcpuInvGuest();
    assertEquals(0, g.vcpu.writeCr3(g.root | 0x18)); // PWT | PCD
    assertEquals(g.root | 0x18, g.vcpu.cr3());
    assertEquals(0, g.vcpu.pcid());
  }

  @Test
  void pcideMayStaySetOrBeClearedWithANonZeroPcid() {
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, CR4_PAE | CR4_PCIDE); // PCID 1
    assertEquals(1, g.vcpu.pcid());
    assertEquals(0, g.vcpu.writeCr4(CR4_PAE | CR4_PCIDE | CR4_SMAP), "PCIDE unchanged");
    assertEquals(0, g.vcpu.writeCr4(CR4_PAE | CR4_SMAP), "only 0 -> 1 checks CR3[11:0]");
    assertEquals(0, g.vcpu.pcid());
  }

  @Test
  void withoutCetClearWpShouldAllowOtherCr4Bits() {
    VcpuInvGuest g = new VcpuInvGuest();
    assertEquals(0, g.vcpu.writeCr0(VcpuInvGuest.CR0 & ~CR0_WP));
    assertEquals(0, g.vcpu.writeCr4(CR4_PAE | CR4_SMAP));
    assertEquals(Fault.GP0, g.vcpu.writeCr4(CR4_PAE | CR4_SMAP | CR4_CET));
  }

  @Test
  void supportedCr4BitsShouldBeAccepted() {
    // With paging off LA57 may change (it may not while EFER.LMA = 1).
    Vcpu v = reset();
    assertEquals(0, v.writeCr4(CR4_LA57));
    assertEquals(CR4_LA57, v.cr4());
    assertEquals(0, v.writeCr4(CR4_PKS));
    assertEquals(CR4_PKS, v.cr4());
    MmuFeatures none = new MmuFeatures(Vendor.INTEL, 46, true, true, false, false, false, false,
        false, false, false, false, false, false, false, false, false);
    Vcpu old = reset(none);
    assertEquals(Fault.GP0, old.writeCr4(CR4_LA57));
    assertEquals(Fault.GP0, old.writeCr4(CR4_PKS));
    assertEquals(0, old.cr4());
  }

  @Test
  void aGeneralProtectionFaultShouldBeCountedAndCharged() {
    Vcpu v = reset();
    long cycles = v.counters().cycles();
    long gp = v.counters().generalProtectionFaults();
    assertEquals(Fault.GP0, v.writeCr0(CR0_PE | (1L << 32)));
    assertEquals(gp + 1, v.counters().generalProtectionFaults());
    assertEquals(LatencyModel.GOLDEN_COVE.pageFaultDelivery(), v.counters().cycles() - cycles);
    assertEquals(CR0_PE, v.cr0());
  }

  @Test
  void theAccessorsShouldReturnWhatTheVcpuWasMadeWith() {
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(0, 0xFFFF);
    Vcpu v = Vcpu.create(m);
    assertEquals(MmuFeatures.intel(46), v.features());
    assertSame(MmuSwitches.DEFAULT, v.switches());
    assertTrue(v.toString().startsWith("Vcpu[NONE, cr0=0x1"), v.toString());
    // A read of an unmapped page faults: #PF, not present, read, supervisor (error code 0).
    assertEquals(0, v.loadState(VcpuInvGuest.CR0, 0x1000, CR4_PAE, VcpuInvGuest.EFER));
    assertEquals(0, v.read(0x5000, 8, 0));
    assertEquals(Fault.pageFault(0), v.lastFault());
  }

  @Test
  void theLastEptMemoryTypeShouldBeTheLeafsTypeAndIgnorePat() {
    // SDM vol. 3C §28.3.7: an EPT leaf's bits 5:3 are the memory type, bit 6 ignores the PAT.
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    long gpa = 0x4000_0000L;
    f.mapNested(gpa, NestedFixture.EPT_RWX, 7 | (6L << 3)); // WB
    f.mapNested(gpa + 0x1000, NestedFixture.EPT_RWX, 7 | (6L << 3) | (1L << 6)); // WB, IPAT
    Vcpu v = f.vcpu(TlbConfig.none());
    assertEquals(-1, v.lastEptMemoryType());
    assertEquals(0, v.loadState(CR0_PE | ET, 0, 0, 0));
    assertEquals(gpa + NestedFixture.OFFSET, v.translate(gpa, Access.READ));
    assertEquals(6, v.lastEptMemoryType());
    assertEquals(gpa + 0x1000 + NestedFixture.OFFSET, v.translate(gpa + 0x1000, Access.READ));
    assertEquals(6 | 8, v.lastEptMemoryType());
  }
}
