package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * What nested faults and nesting changes do to cached translations. Intel SDM vol. 3C §28.3.3.1:
 * an EPT violation or misconfiguration invalidates the guest-physical mappings of the faulting
 * guest-physical address (and, here likewise, AMD's nested page fault); §27.2.1 (table 27-7): bit
 * 7 of the qualification (a valid guest-linear address) is clear only for violations while loading
 * PAE PDPTEs; §28.3.1: combined mappings (EPT on) are never used with EPT off, and a mapping of one
 * context never serves another. Guest-physical accesses are made with paging off (CR0.PG = 0), so
 * that the only cached mapping is that of the accessed page.
 */
class VcpuInvNestedFaultsTest {
  private static final long CR0 = VcpuInvGuest.CR0;
  private static final long EFER = VcpuInvGuest.EFER;
  private static final long NO_PAGING = ControlRegisters.CR0_PE | 0x10;
  private static final long DATA = 0x4000_0000L;
  private static final long H = NestedFixture.OFFSET;
  private static final long EPT_R = 1 | (6L << 3);
  private static final long EPT_W_ONLY = 2 | (6L << 3); // a misconfiguration
  private static final long EPT_RW = 3 | (6L << 3);

  private static Vcpu pagingOff(NestedFixture f, MmuSwitches s) {
    Vcpu v = f.vcpu(TlbConfig.goldenCove(), s,
        f.kind == NestedPaging.EPT ? MmuFeatures.intel(46) : MmuFeatures.amd(46));
    assertEquals(0, v.loadState(NO_PAGING, 0, 0, 0));
    return v;
  }

  @Test
  void anEptViolationShouldRemoveTheMappingOfItsAddress() {
    for (int leaf = 1; leaf <= 2; leaf++) {
      NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, leaf);
      f.mapNested(DATA, NestedFixture.EPT_RWX, EPT_R);
      Vcpu v = pagingOff(f, MmuSwitches.DEFAULT);
      assertEquals(DATA + H, v.translate(DATA, Access.READ));
      long r = v.translate(DATA, Access.WRITE);
      assertEquals(FaultKind.EPT_VIOLATION, VcpuInvGuest.kindOf(r), "read-only");
      assertEquals(DATA, v.faultGuestPhysical());
      assertEquals(DATA, v.faultGuestLinear(), "bit 7 set: the linear address is valid");
      f.mapNested(DATA, NestedFixture.EPT_RWX, EPT_RW); // no INVEPT
      assertEquals(DATA + H, v.translate(DATA, Access.WRITE), "leaf level " + leaf);
    }
  }

  @Test
  void withoutAFaultTheReadOnlyMappingShouldStayCached() {
    // The control of the test above: a cached mapping that denies the write faults again.
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    f.mapNested(DATA, NestedFixture.EPT_RWX, EPT_R);
    Vcpu v = pagingOff(f, MmuSwitches.DEFAULT);
    assertEquals(DATA + H, v.translate(DATA, Access.READ));
    f.mapNested(DATA, NestedFixture.EPT_RWX, EPT_RW);
    assertEquals(FaultKind.EPT_VIOLATION, VcpuInvGuest.kindOf(v.translate(DATA, Access.WRITE)));
  }

  @Test
  void aNestedPageFaultShouldRemoveTheMappingOfItsAddress() {
    NestedFixture f = new NestedFixture(NestedPaging.NPT, 4, 1);
    f.mapNested(DATA, NestedFixture.NPT_UPPER, 0x5); // P | US, read-only
    Vcpu v = pagingOff(f, MmuSwitches.AMD);
    assertEquals(DATA + H, v.translate(DATA, Access.READ));
    assertEquals(FaultKind.NESTED_PAGE_FAULT, VcpuInvGuest.kindOf(v.translate(DATA, Access.WRITE)));
    assertEquals(DATA, v.faultGuestPhysical());
    assertEquals(-1, v.faultGuestLinear());
    f.mapNested(DATA, NestedFixture.NPT_UPPER, 0x7);
    assertEquals(DATA + H, v.translate(DATA, Access.WRITE));
  }

  @Test
  void anEptMisconfigurationShouldRemoveTheMappingOfItsAddress() {
    // Over-flushing walks again when a cached mapping denies: the walk meets the misconfigured
    // leaf; afterwards the next read walks and sees the leaf's new frame.
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    f.mapNested(DATA, NestedFixture.EPT_RWX, EPT_R);
    Vcpu v = pagingOff(f, MmuSwitches.EMULATOR);
    assertEquals(DATA + H, v.translate(DATA, Access.READ));
    long leaf = f.nestedEntry(DATA, 1);
    f.memory.write(leaf, 8, DATA + H | EPT_W_ONLY);
    assertEquals(Fault.EPT_MISCONFIG, v.translate(DATA, Access.WRITE));
    assertEquals(DATA, v.faultGuestPhysical());
    f.memory.write(leaf, 8, DATA + H + 0x1000 | EPT_R);
    assertEquals(DATA + H + 0x1000, v.translate(DATA, Access.READ));
  }

  @Test
  void aPdpteLoadViolationShouldHaveNoGuestLinearAddress() {
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    f.mapNested(DATA, NestedFixture.EPT_RWX, EPT_R);
    Vcpu v = pagingOff(f, MmuSwitches.DEFAULT);
    assertEquals(FaultKind.EPT_VIOLATION, VcpuInvGuest.kindOf(v.translate(DATA, Access.WRITE)));
    assertEquals(DATA, v.faultGuestLinear());
    long pdpt = 0x7000_0000L; // not mapped by the EPT
    long r = v.loadState(0x8000_0011L, pdpt, ControlRegisters.CR4_PAE, 0);
    assertEquals(FaultKind.EPT_VIOLATION, VcpuInvGuest.kindOf(r));
    assertEquals(pdpt, v.faultGuestPhysical());
    assertEquals(-1, v.faultGuestLinear(), "bit 7 clear: no linear address");
    assertEquals(0, v.pdpte(0));
    f.mapNested(DATA + 0x1000, NestedFixture.EPT_RWX, NestedFixture.EPT_LEAF);
    assertEquals(FaultKind.EPT_VIOLATION, VcpuInvGuest.kindOf(v.writeCr3(pdpt + 0x20)));
    assertEquals(pdpt, v.cr3(), "nothing changes on a fault");
  }

  @Test
  void pdptesShouldLoadFromHostPhysicalAddressZero() {
    // The EPT maps the PDPT's page to host frame 0: a valid host-physical address.
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    long pdpt = 0x7000_0000L;
    f.host.map(f.nestedRoot, 4, pdpt, 0, 1, NestedFixture.EPT_RWX, NestedFixture.EPT_LEAF);
    f.memory.write(0, 8, 0x12_3000L | 1);
    f.memory.write(8, 8, 0x45_6000L | 1);
    Vcpu v = pagingOff(f, MmuSwitches.DEFAULT);
    assertEquals(0, v.loadState(0x8000_0011L, pdpt, ControlRegisters.CR4_PAE, 0));
    assertEquals(0x12_3001L, v.pdpte(0));
    assertEquals(0x45_6001L, v.pdpte(1));
  }

  @Test
  void loadStateShouldZeroThePdptesOutsidePaePaging() {
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(0, 0xFFFF);
    m.write(0x1000, 8, 0x12_3001L);
    Vcpu v = Vcpu.create(m);
    assertEquals(0, v.loadState(0x8000_0011L, 0x1000, ControlRegisters.CR4_PAE, 0));
    assertEquals(0x12_3001L, v.pdpte(0));
    assertEquals(0, v.loadState(CR0, 0x1000, ControlRegisters.CR4_PAE, EFER));
    assertEquals(0, v.pdpte(0));
  }

  @Test
  void combinedMappingsShouldNotServeAfterNestingIsDisabled() {
    // EPT with VPID 0 fills a combined mapping; with EPT off the guest tables are read at their
    // guest-physical addresses, where the host memory is zero: a #PF, not the combined mapping.
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    long root = f.guest.newTable();
    f.guest.map(root, 4, DATA, DATA, 1, 0x27, 0x67);
    f.mapAll(DATA);
    Vcpu v = f.vcpu(TlbConfig.goldenCove());
    v.configureEpt(v.eptp(), 0);
    assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, EFER));
    assertEquals(DATA + H, v.translate(DATA, Access.READ));
    v.disableNesting();
    assertEquals(NestedPaging.NONE, v.nestedPaging());
    assertEquals(0, v.vpid());
    assertEquals(FaultKind.PAGE_FAULT, VcpuInvGuest.kindOf(v.translate(DATA, Access.READ)));
  }

  @Test
  void linearMappingsShouldNotServeOnceNptIsOn() {
    // Identity guest tables; the nested tables map them in place and the data page elsewhere.
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(0, 0xFFFF);
    GuestTables guest = new GuestTables(m, 0x1000);
    long root = guest.newTable();
    long la = 0x0000_0040_0000_1000L;
    guest.map(root, 4, la, 0x10_0000L, 1, 0x27, 0x67);
    GuestTables host = new GuestTables(m, 0x8000);
    long nroot = host.newTable();
    for (long t : guest.tables()) {
      host.map(nroot, 4, t, t, 1, 7, 7);
    }
    host.map(nroot, 4, 0x10_0000L, 0x30_0000L, 1, 7, 7);
    Vcpu v = new Vcpu(m, MmuFeatures.amd(46), MmuSwitches.AMD, TlbConfig.goldenCove(),
        LatencyModel.GOLDEN_COVE);
    assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, EFER));
    assertEquals(0x10_0000L, v.translate(la, Access.READ));
    v.configureNpt(nroot, 1, 0x20, 0xD00);
    assertEquals(0x30_0000L, v.translate(la, Access.READ));
  }

  @Test
  void anInvalidEptpShouldSayWhichWalkLengthsAreValid() {
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    Vcpu v = f.vcpu(TlbConfig.goldenCove());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> v.configureEpt(f.nestedRoot | 6 | (1L << 3), 1)); // walk length 2
    assertTrue(e.getMessage().contains("walk length 4 or 5"), e.getMessage());
  }

  @Test
  void modeBasedExecuteControlShouldApplyToCachedTranslations() {
    // SDM vol. 3C §28.3.2: with mode-based execute control, a fetch from a user-mode linear
    // address (U/S = 1 in every guest entry) needs bit 10 (user-execute) of the EPT entries.
    // The translation is cached by a read; the user fetch must still be an EPT violation. CR0.WP
    // stays clear, so configuring EPT is the only change of the rights' inputs.
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    long root = f.guest.newTable();
    f.guest.map(root, 4, DATA, DATA, 1, 0x27, 0x67);
    f.mapAll(DATA); // EPT entries R, W, X (supervisor) without user-execute
    Vcpu v = f.vcpu(TlbConfig.goldenCove());
    assertEquals(0, v.loadState(0x8000_0011L, root, ControlRegisters.CR4_PAE, EFER));
    assertEquals(DATA + H, v.translate(DATA, Access.READ | Access.USER));
    // The page is user-mode (U/S = 1 at every level): any fetch from it needs bit 10.
    assertEquals(FaultKind.EPT_VIOLATION,
        VcpuInvGuest.kindOf(v.translate(DATA, Access.FETCH | Access.USER)));
  }
}
