package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The paging modes' rules, one SDM table at a time (Intel SDM vol. 3A §4.3-4.5): entry formats,
 * page sizes, reserved bits, PAE's PDPTE registers, canonical addresses, and the accessed-flag
 * switch. Expected values are computed by hand from the tables.
 */
class PagingModesTest {
  private static final long CR0 = 0x8001_0011L;

  private static PhysicalMemory memory() {
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(0, 0xFFFFF);
    return m;
  }

  private static Vcpu vcpu(PhysicalMemory m) {
    return new Vcpu(m, MmuFeatures.intel(46), MmuSwitches.DEFAULT, TlbConfig.none(),
        LatencyModel.GOLDEN_COVE);
  }

  // ---- 32-bit paging (SDM tables 4-4 to 4-6) ------------------------------------------------

  @Test
  void shouldWalkThirtyTwoBitPaging() {
    PhysicalMemory m = memory();
    long dir = 0x1000;
    long table = 0x2000;
    m.write(dir + 4 * 0x301, 4, table | 0x27); // la 0xc04xxxxx
    m.write(table + 4 * 0x05, 4, 0x0012_3000L | 0x25);
    m.write(dir + 4 * 0x302, 4, 0x0840_0000L | 0xA7); // a 4-MByte page (PS)
    // PSE-36: PDE bits 20:13 are physical-address bits 39:32.
    m.write(dir + 4 * 0x303, 4, 0x0840_0000L | (0x5AL << 13) | 0xA7);
    Vcpu v = vcpu(m);
    assertEquals(0, v.loadState(CR0, dir, ControlRegisters.CR4_PSE, 0));
    assertEquals(PagingMode.LEGACY_32, v.pagingMode());
    assertEquals(0x0012_3456L, v.translate(0xC040_5456L, Access.USER));
    assertEquals(2, v.lastWalkReferences());
    assertEquals(0x0856_789AL, v.translate(0xC096_789AL, Access.READ));
    assertEquals(22, v.lastPageShift());
    assertEquals(0x5A_0840_0001L, v.translate(0xC0C0_0001L, Access.READ));
    // A user write to a read-only page: #PF 0x7; a fetch reports I only with SMEP (no NX here).
    assertEquals(Fault.pageFault(7), v.translate(0xC040_5000L, Access.USER | Access.WRITE));
    assertEquals(Fault.pageFault(0), v.translate(0x1000_0000L, Access.FETCH));
    // EFER.NXE means nothing in 32-bit paging: still no I bit (found by the Xen walker's
    // differential test); SMEP brings it.
    Vcpu nx = vcpu(m);
    assertEquals(0, nx.loadState(0x8001_0001L, dir, ControlRegisters.CR4_PSE, 0x800));
    m.write(dir + 4 * 0x100, 4, 0x83); // a supervisor 4-MByte page
    assertEquals(Fault.pageFault(0x5), nx.translate(0x4000_0000L, Access.FETCH | Access.USER));
    assertEquals(0, nx.writeCr4(ControlRegisters.CR4_PSE | ControlRegisters.CR4_SMEP));
    assertEquals(Fault.pageFault(0x15), nx.translate(0x4000_0000L, Access.FETCH | Access.USER));
  }

  @Test
  void shouldIgnorePsWithoutCr4PseAndCheckTheBitsItReserves() {
    PhysicalMemory m = memory();
    long dir = 0x1000;
    m.write(dir + 4 * 0x302, 4, 0x0000_3000L | 0xA7); // PS set, but CR4.PSE = 0: a page table
    m.write(0x3000 + 4 * 0x96, 4, 0x0077_7000L | 0x27);
    Vcpu v = vcpu(m);
    assertEquals(0, v.loadState(CR0, dir, 0, 0));
    assertEquals(0x0077_7123L, v.translate(0xC089_6123L, Access.READ));
    // With CR4.PSE, bit 21 of a 4-MByte PDE is reserved; so are PSE-36 bits above MAXPHYADDR.
    PhysicalMemory n = new PhysicalMemory(36);
    n.addRam(0, 0xFFF);
    n.write(dir + 4 * 0x302, 4, 0x0840_0000L | (1L << 21) | 0xA7);
    n.write(dir + 4 * 0x303, 4, 0x0840_0000L | (1L << 17) | 0xA7); // PA bit 36 >= MAXPHYADDR
    n.write(dir + 4 * 0x304, 4, 0x0840_0000L | (1L << 16) | 0xA7); // PA bit 35: fine
    Vcpu w = new Vcpu(n, MmuFeatures.intel(36), MmuSwitches.DEFAULT, TlbConfig.none(),
        LatencyModel.GOLDEN_COVE);
    assertEquals(0, w.loadState(CR0, dir, ControlRegisters.CR4_PSE, 0));
    assertEquals(Fault.pageFault(9), w.translate(0xC080_0000L, Access.READ));
    assertEquals(Fault.pageFault(9), w.translate(0xC0C0_0000L, Access.READ));
    assertEquals(0x8_0840_0000L, w.translate(0xC100_0000L, Access.READ));
  }

  // ---- PAE paging (SDM tables 4-7 to 4-11) ------------------------------------------------

  @Test
  void shouldUsePdpteRegistersLoadedAtMovToCr3() {
    PhysicalMemory m = memory();
    long pdpt = 0x1020; // 32-byte aligned
    long pd = 0x2000;
    long pt = 0x3000;
    m.write(pdpt + 8 * 3, 8, pd | 1);
    m.write(pd + 8 * 0x1FF, 8, pt | 0x27);
    m.write(pt + 8 * 0x1FF, 8, 0x0044_4000L | 0x67 | (1L << 63));
    Vcpu v = vcpu(m);
    assertEquals(0, v.loadState(CR0, pdpt, ControlRegisters.CR4_PAE, ControlRegisters.EFER_NXE));
    assertEquals(pd | 1, v.pdpte(3));
    assertEquals(0x0044_4FFFL, v.translate(0xFFFF_FFFFL, Access.READ));
    assertEquals(2, v.lastWalkReferences(), "the PDPTE is a register");
    assertEquals(Fault.pageFault(0x11), v.translate(0xFFFF_F000L, Access.FETCH), "NX");
    // Changing the PDPTE in memory does nothing until the next MOV to CR3.
    m.write(pdpt + 8 * 3, 8, 0);
    assertEquals(0x0044_4FFFL, v.translate(0xFFFF_FFFFL, Access.READ));
    assertEquals(0, v.writeCr3(pdpt));
    assertEquals(Fault.pageFault(0), v.translate(0xFFFF_FFFFL, Access.READ));
    // A present PDPTE with reserved bits (2:1) makes the MOV to CR3 fault; CR3 stays.
    m.write(0x4008, 8, pd | 1 | 2);
    assertEquals(Fault.GP0, v.writeCr3(0x4000));
    assertEquals(pdpt, v.cr3());
    m.write(pdpt, 8, pd | 1 | (1L << 46)); // bits 63:MAXPHYADDR
    assertEquals(Fault.GP0, v.writeCr3(pdpt));
    // Not present: its reserved bits do not matter.
    m.write(pdpt, 8, 0xFFFF_FFFF_FFFF_FFFEL);
    assertEquals(0, v.writeCr3(pdpt));
  }

  @Test
  void shouldReloadPdptesOnTheControlRegisterWritesOfSdm441() {
    // SDM vol. 3A §4.4.1: with PAE paging in use after it, a MOV to CR0 or CR4 that changes
    // CR0.CD, NW or PG, or CR4.PAE, PGE, PSE or SMEP loads the PDPTEs from CR3; other changes
    // (CR0.WP, CR4.SMAP) keep the registers. A reserved bit in a present PDPTE is #GP.
    PhysicalMemory m = memory();
    long pdpt = 0x1020;
    long pd = 0x2000;
    m.write(pdpt + 8 * 3, 8, pd | 1);
    Vcpu v = vcpu(m);
    long pae = ControlRegisters.CR4_PAE;
    long cd = 1L << 30;
    assertEquals(0, v.loadState(CR0, pdpt, pae, ControlRegisters.EFER_NXE));
    m.write(pdpt + 8 * 3, 8, 0);
    assertEquals(0, v.writeCr0(CR0 & ~ControlRegisters.CR0_WP));
    assertEquals(pd | 1, v.pdpte(3), "WP: no load");
    assertEquals(0, v.writeCr0(CR0 | cd));
    assertEquals(0, v.pdpte(3), "CD: loaded");
    m.write(pdpt + 8 * 3, 8, pd | 1);
    long smap = ControlRegisters.CR4_SMAP;
    assertEquals(0, v.writeCr4(pae | smap));
    assertEquals(0, v.pdpte(3), "SMAP: no load");
    assertEquals(0, v.writeCr4(pae | smap | ControlRegisters.CR4_PGE));
    assertEquals(pd | 1, v.pdpte(3), "PGE: loaded");
    m.write(pdpt + 8 * 3, 8, 0);
    assertEquals(0, v.writeCr4(pae | smap | ControlRegisters.CR4_PGE | ControlRegisters.CR4_SMEP));
    assertEquals(0, v.pdpte(3), "SMEP: loaded");
    m.write(pdpt + 8 * 3, 8, pd | 1);
    assertEquals(0, v.writeCr4(pae | ControlRegisters.CR4_PSE));
    assertEquals(pd | 1, v.pdpte(3), "PSE (and PGE, SMEP, SMAP cleared): loaded");
    m.write(pdpt + 8 * 3, 8, pd | 1 | 2);
    assertEquals(Fault.GP0, v.writeCr0(CR0));
    assertEquals(CR0 | cd, v.cr0(), "CR0 unchanged after the #GP");
    assertEquals(Fault.GP0, v.writeCr4(pae));
    assertEquals(pae | ControlRegisters.CR4_PSE, v.cr4(), "CR4 unchanged after the #GP");
    assertEquals(pd | 1, v.pdpte(3));
  }

  @Test
  void shouldIgnoreCr3FlagsAndStopAtANotPresentPdpte() {
    // SDM vol. 3A table 4-3: in 32-bit paging CR3 bits 31:12 locate the page directory, bits 3
    // and 4 are PWT and PCD. §4.4.1: a PDPTE register with P = 0 gives #PF (code 0 for a
    // supervisor read) whatever its address bits point at.
    PhysicalMemory m = memory();
    m.write(0x1000 + 4 * 0x301, 4, 0x2000 | 0x27); // directory at 0x1000, table at 0x2000
    m.write(0x2000 + 4 * 0x05, 4, 0x0012_3000L | 0x25);
    Vcpu v = vcpu(m);
    assertEquals(0, v.loadState(CR0, 0x1000 | 0x18, 0, 0));
    assertEquals(0x0012_3456L, v.translate(0xC040_5456L, Access.USER));

    PhysicalMemory p = memory();
    long pdpt = 0x1020;
    long pd = 0x2000;
    long pt = 0x3000;
    p.write(pdpt + 8 * 3, 8, pd); // not present
    p.write(pd + 8 * 0x1FF, 8, pt | 0x27);
    p.write(pt + 8 * 0x1FF, 8, 0x0044_4000L | 0x67);
    Vcpu w = vcpu(p);
    assertEquals(0, w.loadState(CR0, pdpt, ControlRegisters.CR4_PAE, ControlRegisters.EFER_NXE));
    assertEquals(Fault.pageFault(0), w.translate(0xFFFF_FFFFL, Access.READ));
    assertEquals(0xFFFF_FFFFL, w.cr2());
  }

  @Test
  void shouldReserveBits62ToMaxPhyAddrInPaeEntries() {
    PhysicalMemory m = memory();
    long pdpt = 0x1000;
    m.write(pdpt, 8, 0x2000 | 1);
    m.write(0x2000, 8, 0x3000 | 0x27 | (1L << 52)); // ignored in IA-32e, reserved in PAE
    Vcpu v = vcpu(m);
    assertEquals(0, v.loadState(CR0, pdpt, ControlRegisters.CR4_PAE, ControlRegisters.EFER_NXE));
    assertEquals(Fault.pageFault(9), v.translate(0x1000, Access.READ));
  }

  // ---- 4- and 5-level paging (SDM tables 4-14 to 4-20) ------------------------------------

  @ParameterizedTest(name = "{0}-level: 0x{1} -> {2}")
  @CsvSource({
    "4, 00007fffffffffff, ok", "4, 0000800000000000, #GP", "4, ffff800000000000, ok",
    "4, fffeffffffffffff, #GP", "5, 00ffffffffffffff, ok", "5, 0100000000000000, #GP",
    "5, ff00000000000000, ok", "5, 0000800000000000, ok"
  })
  void shouldRaiseGeneralProtectionForNonCanonicalAddresses(int levels, String address,
      String expected) {
    PhysicalMemory m = memory();
    Vcpu v = vcpu(m);
    long cr4 = ControlRegisters.CR4_PAE | (levels == 5 ? ControlRegisters.CR4_LA57 : 0);
    assertEquals(0, v.loadState(CR0, 0x1000, cr4, 0xD00));
    long la = Long.parseUnsignedLong(address, 16);
    long r = v.translate(la, Access.READ);
    if (expected.equals("ok")) {
      assertEquals(FaultKind.PAGE_FAULT, Fault.kind(r), "canonical: walks (and finds nothing)");
    } else {
      assertEquals(Fault.GP0, r);
      assertEquals(Fault.SS0, v.translate(la, Access.STACK));
      assertEquals(1, v.counters().pageFaults() + v.counters().generalProtectionFaults() - 1);
    }
  }

  @Test
  void shouldMapOneGigabytePagesOnlyWithTheFeature() {
    PhysicalMemory m = memory();
    GuestTables t = new GuestTables(m, 0x100);
    long root = t.newTable();
    long la = 0x0000_0040_4000_0000L;
    t.map(root, 4, la, 0x80_0000_0000L, 3, 0x27, 0x67);
    Vcpu v = vcpu(m);
    assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, 0xD00));
    assertEquals(0x80_1234_5678L, v.translate(la + 0x1234_5678L, Access.READ));
    assertEquals(30, v.lastPageShift());
    Vcpu noGb = new Vcpu(m, MmuFeatures.intel(46).withGbPages(false), MmuSwitches.DEFAULT,
        TlbConfig.none(), LatencyModel.GOLDEN_COVE);
    assertEquals(0, noGb.loadState(CR0, root, ControlRegisters.CR4_PAE, 0xD00));
    assertEquals(Fault.pageFault(9), noGb.translate(la, Access.READ), "PDPTE.PS is reserved");
    // Frame bits 29:13 of a 1-GByte page are reserved (bit 12 is PAT).
    long pdpte = t.entryAddress(root, 4, la, 3);
    m.write(pdpte, 8, m.read(pdpte, 8) | (1L << 13));
    assertEquals(Fault.pageFault(9), v.translate(la + 0x1000, Access.READ));
    m.write(pdpte, 8, (m.read(pdpte, 8) & ~(1L << 13)) | (1L << 12));
    assertEquals(0x80_0000_1000L, v.translate(la + 0x1000, Access.READ));
  }

  @ParameterizedTest(name = "{0} at level {1} -> error code {2}")
  @CsvSource({
    "bit 45 (MAXPHYADDR 46 is fine), 1, 0x0000200000000000, ok",
    "bit 46, 1, 0x0000400000000000, 0x9", "bit 51, 3, 0x0008000000000000, 0x9",
    "PS in the PML4E, 4, 0x80, 0x9", "G in the PML4E (Intel: ignored), 4, 0x100, ok",
    "XD without NXE, 2, 0x8000000000000000, 0x9", "bits 62:52 (ignored), 1, 0x7ff0000000000000, ok"
  })
  void shouldCheckReservedBitsAtEveryLevel(String what, int level, String bits, String expected) {
    PhysicalMemory m = memory();
    GuestTables t = new GuestTables(m, 0x100);
    long root = t.newTable();
    long la = 0x0000_1234_5678_9000L;
    t.map(root, 4, la, 0x0003_0000L, 1, 0x27, 0x67);
    long entry = t.entryAddress(root, 4, la, level);
    m.write(entry, 8, m.read(entry, 8) | Long.parseUnsignedLong(bits.substring(2), 16));
    Vcpu v = vcpu(m);
    long efer = what.startsWith("XD") ? 0x500 : 0xD00;
    assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, efer));
    long r = v.translate(la, Access.READ);
    if (expected.equals("ok")) {
      assertEquals(0x0003_0000L + (what.startsWith("bit 45") ? 0x2000_0000_0000L : 0), r);
    } else {
      assertEquals(Fault.pageFault(Long.parseLong(expected.substring(2), 16)), r);
    }
  }

  @Test
  void shouldReserveThePml4GlobalBitOnAmd() {
    PhysicalMemory m = memory();
    GuestTables t = new GuestTables(m, 0x100);
    long root = t.newTable();
    long la = 0x0000_1234_5678_9000L;
    t.map(root, 4, la, 0x0003_0000L, 1, 0x127, 0x67);
    Vcpu amd = new Vcpu(m, MmuFeatures.amd(46), MmuSwitches.AMD, TlbConfig.none(),
        LatencyModel.GOLDEN_COVE);
    assertEquals(0, amd.loadState(CR0, root, ControlRegisters.CR4_PAE, 0xD00));
    assertEquals(Fault.pageFault(9), amd.translate(la, Access.READ));
    Vcpu intel = vcpu(m);
    assertEquals(0, intel.loadState(CR0, root, ControlRegisters.CR4_PAE, 0xD00));
    assertEquals(0x0003_0000L, intel.translate(la, Access.READ));
  }

  @Test
  void shouldWalkFiveLevels() {
    PhysicalMemory m = memory();
    GuestTables t = new GuestTables(m, 0x100);
    long root = t.newTable();
    long la = 0xFF12_3456_789A_B000L; // canonical in 57 bits
    t.map(root, 5, la, 0x0055_5000L, 1, 0x27, 0x67);
    Vcpu v = vcpu(m);
    assertEquals(0, v.loadState(CR0, root,
        ControlRegisters.CR4_PAE | ControlRegisters.CR4_LA57, 0xD00));
    assertEquals(PagingMode.LONG_5, v.pagingMode());
    assertEquals(0x0055_5CDEL, v.translate(la + 0xCDE, Access.READ));
    assertEquals(5, v.lastWalkReferences());
  }

  // ---- accessed and dirty flags -------------------------------------------------------------

  @Test
  void shouldSetAccessedFlagsOfAFaultingWalkOnlyWhenTheSwitchSaysSo() {
    for (MmuSwitches.AccessedOnFault rule : MmuSwitches.AccessedOnFault.values()) {
      PhysicalMemory m = memory();
      GuestTables t = new GuestTables(m, 0x100);
      long root = t.newTable();
      long la = 0x0000_1234_5678_9000L;
      t.map(root, 4, la, 0x0003_0000L, 1, 0x7, 0x5); // no A anywhere; leaf read-only
      Vcpu v = new Vcpu(m, MmuFeatures.intel(46), MmuSwitches.DEFAULT.withAccessedOnFault(rule),
          TlbConfig.none(), LatencyModel.GOLDEN_COVE);
      assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, 0xD00));
      assertEquals(Fault.pageFault(7), v.translate(la, Access.USER | Access.WRITE));
      boolean every = rule == MmuSwitches.AccessedOnFault.EVERY_LEVEL_USED;
      for (int level = 4; level >= 1; level--) {
        long e = m.read(t.entryAddress(root, 4, la, level), 8);
        assertEquals(every ? 0x20 : 0, e & 0x20, rule + " level " + level);
        assertEquals(0, e & 0x40, "never D on a fault");
      }
      // A successful read sets A everywhere, D nowhere.
      assertEquals(0x0003_0000L, v.translate(la, Access.USER));
      for (int level = 4; level >= 1; level--) {
        long e = m.read(t.entryAddress(root, 4, la, level), 8);
        assertEquals(0x20, e & 0x60, rule + " level " + level);
      }
    }
  }

  // ---- cycles ---------------------------------------------------------------------------

  @Test
  void shouldChargeTheLatencyModelExactly() {
    PhysicalMemory m = memory();
    GuestTables t = new GuestTables(m, 0x100);
    long root = t.newTable();
    long la = 0x0000_1234_5678_9000L;
    t.map(root, 4, la, 0x0003_0000L, 1, 0x7, 0x7); // A and D clear everywhere
    LatencyModel lat = new LatencyModel(1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 7, 3);
    Vcpu v = new Vcpu(m, MmuFeatures.intel(46), MmuSwitches.DEFAULT, TlbConfig.goldenCove(), lat);
    assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, 0xD00));
    long base = v.counters().cycles(); // loadState's flush of nothing: elided but charged (3)
    assertEquals(3, base);
    // Cold write: L1 lookup 1, 4 references 4,000, A on 4 levels + D on the leaf: 4 CAS
    // (the leaf gets A and D in one), 40,000.
    assertEquals(0x0003_0000L, v.translate(la, Access.WRITE));
    assertEquals(base + 1 + 4_000 + 40_000, v.counters().cycles());
    // Hit: 1.
    assertEquals(0x0003_0000L, v.translate(la, Access.READ));
    assertEquals(base + 44_002, v.counters().cycles());
    // A neighbour: PDE cache hit 100, one reference, A 10,000; then a #PF 100,000 for an
    // unmapped one (PDE cache hit again, one reference).
    t.map(root, 4, la + 0x1000, 0x0004_0000L, 1, 0x7, 0x7);
    assertEquals(0x0004_0000L, v.translate(la + 0x1000, Access.READ));
    assertEquals(base + 44_002 + 1 + 100 + 1_000 + 10_000, v.counters().cycles());
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(v.translate(la + 0x5000, Access.READ)));
    assertEquals(base + 55_103 + 1 + 100 + 1_000 + 100_000, v.counters().cycles());
    // INVLPG 7 (and nothing else: partial).
    v.invlpg(la);
    assertEquals(base + 156_204 + 7, v.counters().cycles());
    // Same inputs, same cycles: a second vCPU doing the same has the same counters.
    PhysicalMemory m2 = memory();
    GuestTables t2 = new GuestTables(m2, 0x100);
    long root2 = t2.newTable();
    t2.map(root2, 4, la, 0x0003_0000L, 1, 0x7, 0x7);
    Vcpu w = new Vcpu(m2, MmuFeatures.intel(46), MmuSwitches.DEFAULT, TlbConfig.goldenCove(), lat);
    assertEquals(0, w.loadState(CR0, root2, ControlRegisters.CR4_PAE, 0xD00));
    w.translate(la, Access.WRITE);
    w.translate(la, Access.READ);
    t2.map(root2, 4, la + 0x1000, 0x0004_0000L, 1, 0x7, 0x7);
    w.translate(la + 0x1000, Access.READ);
    w.translate(la + 0x5000, Access.READ);
    w.invlpg(la);
    assertEquals(v.counters().toString(), w.counters().toString());
  }

  @Test
  void shouldRejectCallerErrors() {
    PhysicalMemory m = memory();
    Vcpu v = vcpu(m);
    assertEquals(0, v.loadState(CR0, 0x1000, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> v.translate(0x1_0000_0000L, Access.READ));
    assertThrows(IllegalArgumentException.class,
        () -> v.translate(0, Access.FETCH | Access.WRITE));
    assertThrows(IllegalArgumentException.class,
        () -> v.translate(0, Access.USER | Access.IMPLICIT));
    assertThrows(IllegalArgumentException.class, () -> v.translate(0, 1 << 20));
    assertThrows(IllegalArgumentException.class, () -> v.read(0, 3, Access.READ));
    assertThrows(IllegalArgumentException.class, () -> v.configureEpt(0x1000 | 6 | (5 << 3), 1));
    assertThrows(IllegalArgumentException.class, () -> v.configureEpt(0x1000 | 6 | (3 << 3), -1));
    assertThrows(IllegalArgumentException.class, () -> new Vcpu(m, MmuFeatures.intel(40),
        MmuSwitches.DEFAULT, TlbConfig.none(), LatencyModel.FREE));
  }

  @Test
  void shouldReadAndWriteAcrossPagesThroughTheMmu() {
    PhysicalMemory m = memory();
    GuestTables t = new GuestTables(m, 0x100);
    long root = t.newTable();
    long la = 0x0000_1234_5678_9000L;
    t.map(root, 4, la, 0x0003_0000L, 1, 0x27, 0x67);
    t.map(root, 4, la + 0x1000, 0x0007_0000L, 1, 0x27, 0x65); // read-only second page
    Vcpu v = vcpu(m);
    assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, 0xD00));
    m.write(0x0003_0FFCL, 4, 0x4433_2211L);
    m.write(0x0007_0000L, 4, 0x8877_6655L);
    assertEquals(0x8877_6655_4433_2211L, v.read(la + 0xFFC, 8, Access.READ));
    assertEquals(0, v.lastFault());
    // A write to both pages faults on the second, reports its first byte in CR2, writes nothing.
    assertEquals(Fault.pageFault(3), v.write(la + 0xFFE, 4, 0xDDCC_BBAAL, Access.READ));
    assertEquals(la + 0x1000, v.cr2());
    assertEquals(0x4433_2211L, m.read(0x0003_0FFCL, 4));
    assertEquals(0, v.write(la + 0xFF8, 8, 0x0102_0304_0506_0708L, Access.READ));
    assertEquals(0x0102_0304_0506_0708L, v.read(la + 0xFF8, 8, Access.READ));
    assertEquals(0x0708, v.fetch(la + 0xFF8, 2, false));
  }
}
