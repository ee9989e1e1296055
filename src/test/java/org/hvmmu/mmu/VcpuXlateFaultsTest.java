package org.hvmmu.mmu;

import static org.hvmmu.mmu.GuestTables.A;
import static org.hvmmu.mmu.GuestTables.D;
import static org.hvmmu.mmu.GuestTables.P;
import static org.hvmmu.mmu.GuestTables.PS;
import static org.hvmmu.mmu.GuestTables.RW;
import static org.hvmmu.mmu.GuestTables.US;
import static org.hvmmu.mmu.GuestTables.XD;
import static org.hvmmu.mmu.VcpuXlateTables.CR0;
import static org.hvmmu.mmu.VcpuXlateTables.CR4_PAE;
import static org.hvmmu.mmu.VcpuXlateTables.EFER_LONG;
import static org.hvmmu.mmu.VcpuXlateTables.LEAF;
import static org.hvmmu.mmu.VcpuXlateTables.ram;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * Reserved bits and canonical checks of {@link Vcpu}'s translation. Expected values: Intel SDM
 * vol. 3A §4.3 (32-bit paging: a 4-MByte PDE reserves bit 21 and, with PSE-36, the bits of 20:13
 * that would give physical-address bits at or above MAXPHYADDR), §4.4.2 and §4.5.4 (PAE and
 * IA-32e: bits 51/62:MAXPHYADDR, XD when IA32_EFER.NXE = 0, PS in a PML5E/PML4E, bits 20:13 of a
 * 2-MByte and 29:13 of a 1-GByte leaf; bit 7 of a PTE is PAT, not PS), §4.7 (a reserved bit gives
 * a #PF with P and RSVD), §3.3.7.1 and vol. 2 INVPCID (type 0 needs a canonical address) and the
 * 5-level paging white paper (canonical means 57 bits when CR4.LA57 = 1); AMD APM vol. 2 §5.3 and
 * §15.25.10 (the nested tables are long-mode tables with the host's reserved bits, the PML4E G
 * bit reserved on AMD; a reserved bit gives a #NPF with P, U, RSVD and bit 32 for a final
 * guest-physical access).
 */
class VcpuXlateFaultsTest {
  private static final long RSVD_READ = PageFaultErrorCode.P | PageFaultErrorCode.RSVD;

  private static long frame(int n) {
    return 0x40_0000L + 0x1000L * n;
  }

  private static void assertPageFault(long code, long r) {
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(r), Fault.describe(r));
    assertEquals(code, Fault.code(r), Fault.describe(r));
  }

  private static Vcpu vcpu(PhysicalMemory m, long cr3, long cr4, long efer) {
    Vcpu v = new Vcpu(m, MmuFeatures.intel(m.maxPhyAddr()), MmuSwitches.DEFAULT,
        TlbConfig.goldenCove(), LatencyModel.GOLDEN_COVE);
    assertEquals(0, v.loadState(CR0, cr3, cr4, efer));
    return v;
  }

  // ---- 32-bit paging ----------------------------------------------------------------------------

  @Test
  void aFourMegabytePdeShouldReserveBit21AndThePse36BitsAboveMaxPhyAddr() {
    PhysicalMemory m = ram(36);
    VcpuXlateTables.Legacy t = new VcpuXlateTables.Legacy(m);
    long base = P | RW | US | A | D;
    t.map4m(0x0040_0000L, 0x0080_0000L | base);
    t.map4m(0x0080_0000L, 0x0080_0000L | base | (1L << 21));
    t.map4m(0x00C0_0000L, 0x0080_0000L | base | (1L << 13)); // PA bit 32
    t.map4m(0x0100_0000L, 0x0080_0000L | base | (1L << 16)); // PA bit 35
    t.map4m(0x0140_0000L, 0x0080_0000L | base | (1L << 17)); // PA bit 36 = MAXPHYADDR
    Vcpu v = vcpu(m, t.cr3, ControlRegisters.CR4_PSE, 0);
    assertEquals(PagingMode.LEGACY_32, v.pagingMode());
    assertEquals(0x0081_2345L, v.translate(0x0041_2345L, Access.READ));
    assertPageFault(RSVD_READ, v.translate(0x0081_2345L, Access.READ));
    assertEquals(0x1_0081_2345L, v.translate(0x00C1_2345L, Access.READ));
    assertEquals(0x8_0081_2345L, v.translate(0x0101_2345L, Access.READ));
    assertPageFault(RSVD_READ | PageFaultErrorCode.W,
        v.translate(0x0141_2345L, Access.WRITE));
  }

  @Test
  void aPdeThatPointsToAPageTableShouldHaveNoReservedBits() {
    PhysicalMemory m = ram(36);
    VcpuXlateTables.Legacy t = new VcpuXlateTables.Legacy(m);
    // The page table sits at 2 MiB + 12 KiB: the PDE has bits 21, 13 and 12 set as address bits.
    t.map4k(0x0040_5000L, frame(1), LEAF, 0x0020_3000L);
    Vcpu v = vcpu(m, t.cr3, ControlRegisters.CR4_PSE, 0);
    assertEquals(frame(1) + 0x10, v.translate(0x0040_5010L, Access.READ));
  }

  @Test
  void anAccessCrossingTheTopOfTheFourGigabyteSpaceShouldWrapToPageZero() {
    PhysicalMemory m = ram(36);
    VcpuXlateTables.Legacy t = new VcpuXlateTables.Legacy(m);
    t.map4k(0xFFFF_F000L, frame(1), LEAF, 0);
    t.map4k(0, frame(2), LEAF, 0);
    m.write(frame(1) + 0xFFC, 4, 0x4433_2211L);
    m.write(frame(2), 4, 0x8877_6655L);
    Vcpu v = vcpu(m, t.cr3, 0, 0);
    assertEquals(0x6655_4433L, v.read(0xFFFF_FFFEL, 4, Access.READ));
    assertEquals(0, v.lastFault());
    assertEquals(0, v.write(0xFFFF_FFFFL, 2, 0xBBAA, Access.READ));
    assertEquals(0xAA33_2211L, m.read(frame(1) + 0xFFC, 4));
    assertEquals(0x8877_66BBL, m.read(frame(2), 4));
  }

  // ---- PAE paging -------------------------------------------------------------------------------

  @Test
  void paeEntriesShouldReserveBitsFromMaxPhyAddrAndXdWithoutNxe() {
    PhysicalMemory m = ram(36);
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    long la = 0x1000;
    t.map4k(la, frame(0), LEAF);
    t.map4k(la + 0x1000, frame(0) | (1L << 36), LEAF);
    t.map4k(la + 0x2000, frame(0) | (1L << 35), LEAF);
    t.map4k(la + 0x3000, frame(0), LEAF | XD);
    t.map4k(la + 0x4000, frame(0) | 0x2000, LEAF | PS); // bit 7 of a PTE is PAT
    t.map2m(0x4000_0000L, 0x0800_0000L, LEAF);
    t.map2m(0x4020_0000L, 0x0800_0000L | (1L << 13), LEAF);
    t.map2m(0x4040_0000L, 0x0800_0000L | (1L << 36), LEAF);
    t.map2m(0x4060_0000L, 0x0800_0000L, LEAF | XD);
    t.map2m(0x4080_0000L, 0x0800_0000L | (1L << 35), LEAF);
    Vcpu v = vcpu(m, t.cr3, CR4_PAE, 0);
    assertEquals(PagingMode.PAE, v.pagingMode());
    assertEquals(frame(0) + 8, v.translate(la + 8, Access.READ));
    assertPageFault(RSVD_READ, v.translate(la + 0x1008, Access.READ));
    assertEquals((1L << 35) | frame(0) | 8, v.translate(la + 0x2008, Access.READ));
    assertPageFault(RSVD_READ, v.translate(la + 0x3008, Access.READ));
    assertEquals(frame(2) + 8, v.translate(la + 0x4008, Access.READ));
    assertEquals(0x0801_2345L, v.translate(0x4001_2345L, Access.READ));
    assertPageFault(RSVD_READ, v.translate(0x4021_2345L, Access.READ));
    assertPageFault(RSVD_READ, v.translate(0x4041_2345L, Access.READ));
    assertPageFault(RSVD_READ, v.translate(0x4061_2345L, Access.READ));
    assertEquals((1L << 35) | 0x0801_2345L, v.translate(0x4081_2345L, Access.READ));
  }

  @Test
  void aPaePdeThatPointsToAPageTableShouldReserveBitsFromMaxPhyAddr() {
    PhysicalMemory m = ram(36);
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    t.map4k(0x1000, frame(0), LEAF);
    long pde = t.pdeSlot(0x1000);
    m.write(pde, 8, m.read(pde, 8) | (1L << 40));
    assertPageFault(RSVD_READ, vcpu(m, t.cr3, CR4_PAE, 0).translate(0x1000, Access.READ));
    m.write(pde, 8, (m.read(pde, 8) & ~(1L << 40)) | XD);
    assertPageFault(RSVD_READ, vcpu(m, t.cr3, CR4_PAE, 0).translate(0x1000, Access.READ));
    assertEquals(frame(0), vcpu(m, t.cr3, CR4_PAE, EFER_LONG & ControlRegisters.EFER_NXE)
        .translate(0x1000, Access.READ));
  }

  // ---- IA-32e paging ----------------------------------------------------------------------------

  @Test
  void largeLeavesShouldReserveTheFrameBitsBelowTheirSize() {
    PhysicalMemory m = ram(46);
    GuestTables g = new GuestTables(m, 0x100);
    long root = g.newTable();
    long upper = P | RW | US | A;
    g.map(root, 4, 0x4000_0000L, 0x0800_0000L, 2, upper, LEAF);
    g.map(root, 4, 0x4020_0000L, 0x0800_0000L | (1L << 13), 2, upper, LEAF);
    g.map(root, 4, 0x4040_0000L, 0x0800_0000L | (1L << 20), 2, upper, LEAF);
    g.map(root, 4, 0x80_0000_0000L, 0x4000_0000L, 3, upper, LEAF);
    g.map(root, 4, 0x80_4000_0000L, 0x4000_0000L | (1L << 13), 3, upper, LEAF);
    g.map(root, 4, 0x80_8000_0000L, 0x4000_0000L | (1L << 29), 3, upper, LEAF);
    g.map(root, 4, 0x5000, frame(0) | 0x2000, 1, upper, LEAF | PS); // PAT, address bit 13
    Vcpu v = vcpu(m, root, CR4_PAE, EFER_LONG);
    assertEquals(0x0801_2345L, v.translate(0x4001_2345L, Access.READ));
    assertPageFault(RSVD_READ, v.translate(0x4021_2345L, Access.READ));
    assertPageFault(RSVD_READ, v.translate(0x4041_2345L, Access.READ));
    assertEquals(0x4123_4567L, v.translate(0x80_0123_4567L, Access.READ));
    assertPageFault(RSVD_READ, v.translate(0x80_4123_4567L, Access.READ));
    assertPageFault(RSVD_READ, v.translate(0x80_8123_4567L, Access.READ));
    assertEquals(frame(2) + 0x10, v.translate(0x5010, Access.READ));
  }

  @Test
  void aPml5eShouldReservePsAndBitsFromMaxPhyAddr() {
    PhysicalMemory m = ram(46);
    GuestTables g = new GuestTables(m, 0x100);
    long root = g.newTable();
    long la = 0x0001_0000_0000_0000L; // PML5 index 2
    g.map(root, 5, la, frame(0), 1, P | RW | US | A, LEAF);
    long cr4 = CR4_PAE | ControlRegisters.CR4_LA57;
    assertEquals(frame(0) + 8, vcpu(m, root, cr4, EFER_LONG).translate(la + 8, Access.READ));
    long slot = g.entryAddress(root, 5, la, 5);
    long e = g.read(slot);
    g.write(slot, e | PS);
    assertPageFault(RSVD_READ, vcpu(m, root, cr4, EFER_LONG).translate(la + 8, Access.READ));
    g.write(slot, e | (1L << 46));
    assertPageFault(RSVD_READ, vcpu(m, root, cr4, EFER_LONG).translate(la + 8, Access.READ));
  }

  // ---- the host's tables under NPT --------------------------------------------------------------

  private static final long NPF_RSVD_READ = PageFaultErrorCode.P | PageFaultErrorCode.U
      | PageFaultErrorCode.RSVD | NpfExitInfo.FINAL_TRANSLATION;

  /** A guest with paging off under NPT: every access is a final guest-physical access. */
  private static long nptRead(NestedFixture f, long gpa) {
    return f.vcpu(TlbConfig.goldenCove()).translate(gpa, Access.READ);
  }

  private static void assertNpf(long info, long r) {
    assertEquals(FaultKind.NESTED_PAGE_FAULT, Fault.kind(r), Fault.describe(r));
    assertEquals(info, Fault.code(r), Fault.describe(r));
  }

  @Test
  void nestedUpperEntriesShouldReservePsAndOnAmdTheL4GlobalBit() {
    long gpa = 0x20_1000;
    NestedFixture f = new NestedFixture(NestedPaging.NPT, 5, 1);
    f.mapAll(gpa);
    assertEquals(gpa + NestedFixture.OFFSET + 8, nptRead(f, gpa + 8));
    for (int level = 5; level >= 4; level--) {
      long slot = f.nestedEntry(gpa, level);
      long e = f.host.read(slot);
      f.host.write(slot, e | PS);
      assertNpf(NPF_RSVD_READ, nptRead(f, gpa + 8));
      if (level == 4) {
        f.host.write(slot, e | GuestTables.G);
        assertNpf(NPF_RSVD_READ, nptRead(f, gpa + 8));
      }
      f.host.write(slot, e | (1L << 46));
      assertNpf(NPF_RSVD_READ, nptRead(f, gpa + 8));
      f.host.write(slot, e);
      assertEquals(gpa + NestedFixture.OFFSET + 8, nptRead(f, gpa + 8));
    }
  }

  @Test
  void nestedLargeLeavesShouldReserveFrameBitsBelowTheirSize() {
    long gpa = 0x4000_0000L + 0x1234;
    NestedFixture gb = new NestedFixture(NestedPaging.NPT, 4, 3);
    gb.mapAll(gpa);
    assertEquals(gpa + NestedFixture.OFFSET, nptRead(gb, gpa));
    long slot = gb.nestedEntry(gpa, 3);
    gb.host.write(slot, gb.host.read(slot) | (1L << 13));
    assertNpf(NPF_RSVD_READ, nptRead(gb, gpa));
    NestedFixture mb = new NestedFixture(NestedPaging.NPT, 4, 2);
    mb.mapAll(gpa);
    assertEquals(gpa + NestedFixture.OFFSET, nptRead(mb, gpa));
    slot = mb.nestedEntry(gpa, 2);
    mb.host.write(slot, mb.host.read(slot) | (1L << 13));
    assertNpf(NPF_RSVD_READ, nptRead(mb, gpa));
    NestedFixture kb = new NestedFixture(NestedPaging.NPT, 4, 1);
    kb.mapAll(gpa);
    slot = kb.nestedEntry(gpa, 1);
    kb.host.write(slot, kb.host.read(slot) | PS | 0x2000); // PAT; bit 13 is an address bit
    assertEquals(gpa + NestedFixture.OFFSET + 0x2000, nptRead(kb, gpa));
  }

  // ---- canonical checks of INVPCID and INVVPID --------------------------------------------------

  private static boolean gp(long r) {
    return Fault.isFault(r) && Fault.kind(r) == FaultKind.GENERAL_PROTECTION;
  }

  @Test
  void invpcidShouldCheckAddressesAgainstTheCurrentLinearAddressWidth() {
    PhysicalMemory m = ram(46);
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    t.map4k(0x1000, frame(0), LEAF);
    Vcpu pae = vcpu(m, t.cr3, CR4_PAE, 0);
    assertEquals(0, pae.invpcid(0, 0, 0x8000_0000L));
    assertEquals(0, pae.invpcid(0, 0, 0xFFFF_F000L));
    assertTrue(gp(pae.invpcid(0, 0, 1L << 32)));
    assertTrue(gp(pae.invpcid(0, 0, -1L)));
    GuestTables g = new GuestTables(m, 0x200);
    long root = g.newTable();
    Vcpu four = vcpu(m, root, CR4_PAE, EFER_LONG);
    assertEquals(0, four.invpcid(0, 0, 0x7FFF_FFFF_F000L));
    assertEquals(0, four.invpcid(0, 0, 0xFFFF_8000_0000_0000L));
    assertTrue(gp(four.invpcid(0, 0, 1L << 47)));
    assertTrue(gp(four.invpcid(0, 0, 0xFFFF_7FFF_FFFF_F000L)));
    assertTrue(gp(four.invpcid(0, 0, 1L << 48)));
    Vcpu five = vcpu(m, root, CR4_PAE | ControlRegisters.CR4_LA57, EFER_LONG);
    assertEquals(0, five.invpcid(0, 0, 1L << 47));
    assertEquals(0, five.invpcid(0, 0, 0xFF00_0000_0000_0000L));
    assertTrue(gp(five.invpcid(0, 0, 1L << 56)));
    assertTrue(gp(five.invpcid(0, 0, 0xFEFF_FFFF_FFFF_F000L)));
  }

  @Test
  void invvpidShouldCheckAddressesAgainstCr4La57() {
    PhysicalMemory m = ram(46);
    GuestTables g = new GuestTables(m, 0x200);
    long root = g.newTable();
    Vcpu four = vcpu(m, root, CR4_PAE, EFER_LONG);
    assertTrue(four.invvpid(0, 1, 0x7FFF_FFFF_F000L));
    assertTrue(four.invvpid(0, 1, 0xFFFF_8000_0000_0000L));
    assertFalse(four.invvpid(0, 1, 1L << 47));
    assertFalse(four.invvpid(0, 1, 0xFFFF_7FFF_FFFF_F000L));
    assertFalse(four.invvpid(0, 1, 1L << 48));
    Vcpu five = vcpu(m, root, CR4_PAE | ControlRegisters.CR4_LA57, EFER_LONG);
    assertTrue(five.invvpid(0, 1, 1L << 47));
    assertTrue(five.invvpid(0, 1, 0xFF00_0000_0000_0000L));
    assertFalse(five.invvpid(0, 1, 1L << 56));
    MmuFeatures noLa57 = new MmuFeatures(Vendor.INTEL, 46, true, true, false, true, true, true,
        true, true, true, true, true, true, true, true, true);
    Vcpu old = new Vcpu(m, noLa57, MmuSwitches.DEFAULT, TlbConfig.goldenCove(),
        LatencyModel.GOLDEN_COVE);
    old.loadState(CR0, root, CR4_PAE | ControlRegisters.CR4_LA57, EFER_LONG);
    assertFalse(old.invvpid(0, 1, 1L << 47), "a 48-bit processor");
    assertTrue(old.invvpid(0, 1, 0xFFFF_8000_0000_0000L));
  }

  // ---- cycles of faults -------------------------------------------------------------------------

  @Test
  void faultsShouldChargeTheirDeliveryCost() {
    PhysicalMemory m = ram(46);
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    t.map4k(0x1000, frame(0), LEAF);
    Vcpu v = new Vcpu(m, MmuFeatures.intel(46), MmuSwitches.DEFAULT, TlbConfig.goldenCove(),
        new LatencyModel(1, 0, 0, 0, 0, 10_000, 0, 0, 0));
    assertEquals(0, v.loadState(CR0, t.cr3, CR4_PAE, 0));
    assertTrue(gp(v.invpcid(4, 0, 0)));
    assertEquals(10_000, v.counters().cycles());
    assertEquals(1, v.counters().generalProtectionFaults());
    assertPageFault(0, v.translate(0x2000, Access.READ));
    assertEquals(0x2000, v.cr2());
    assertEquals(20_001, v.counters().cycles(), "one lookup and two deliveries");
    assertEquals(1, v.counters().pageFaults());
  }
}
