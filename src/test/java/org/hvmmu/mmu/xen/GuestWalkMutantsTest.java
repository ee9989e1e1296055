package org.hvmmu.mmu.xen;

import static org.hvmmu.mmu.ControlRegisters.CR0_PE;
import static org.hvmmu.mmu.ControlRegisters.CR0_PG;
import static org.hvmmu.mmu.ControlRegisters.CR0_WP;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PKE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PKS;
import static org.hvmmu.mmu.ControlRegisters.CR4_PSE;
import static org.hvmmu.mmu.ControlRegisters.CR4_SMAP;
import static org.hvmmu.mmu.ControlRegisters.CR4_SMEP;
import static org.hvmmu.mmu.ControlRegisters.EFER_LMA;
import static org.hvmmu.mmu.ControlRegisters.EFER_LME;
import static org.hvmmu.mmu.xen.WalkFixture.A;
import static org.hvmmu.mmu.xen.WalkFixture.D;
import static org.hvmmu.mmu.xen.WalkFixture.DATA_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.L1_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.L1_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.L2_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.L2_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.L3_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.L3_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.L4_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.P;
import static org.hvmmu.mmu.xen.WalkFixture.PRW;
import static org.hvmmu.mmu.xen.WalkFixture.PS;
import static org.hvmmu.mmu.xen.WalkFixture.RW;
import static org.hvmmu.mmu.xen.WalkFixture.US;
import static org.hvmmu.mmu.xen.WalkFixture.VA4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Xen's {@code guest_walk_tables} (xen/arch/x86/mm/guest_walk.c, RELEASE-4.1.0 for the seed's
 * missing-flags walker, RELEASE-4.22.0 for today's), {@code hap_p2m_ga_to_gfn}
 * (xen/arch/x86/mm/hap/guest_walk.c) and the {@code walk_t} accessors ({@code guest_walk_to_gfn},
 * {@code guest_walk_to_gpa}), with every expected entry, frame and error code computed by hand
 * here from those sources and the SDM's table layouts (vol. 3A §4.4, §4.5): PAE indexes from
 * linear bits 31:30, 29:21, 20:12; 2-level from 31:22, 21:12; a superpage's fabricated L1 entry
 * is P|RW|US|A|D, the leaf's PWT/PCD/PAT (bit 7 kept only when bit 12, PSE-PAT, is set) and the
 * frame plus the linear address's page index within the superpage.
 */
class GuestWalkMutantsTest {
  private static final GuestWalkDomain HAP = GuestWalkDomain.hapIntel(40);

  // ---- walk_t -----------------------------------------------------------------------------------

  @Test
  void anEmptyRecordShouldHoldInvalidFramesAndNoTranslation() {
    GuestWalk gw = new GuestWalk();
    assertEquals(0, gw.va());
    assertEquals(0, gw.levels());
    for (int l = 1; l <= 4; l++) {
      assertEquals(GuestWalk.INVALID_MFN, gw.mfn(l));
      assertEquals(-1, gw.entryAddress(l));
      assertEquals(0, gw.entry(l));
      assertFalse(gw.accessedDirtyWritten(l));
    }
    assertEquals(GuestWalk.INVALID_GFN, gw.gfn());
    assertEquals(GuestWalk.INVALID_PADDR, gw.gpa());
  }

  @Test
  void levelsOutsideOneToFourShouldBeRejected() {
    GuestWalk gw = new GuestWalk();
    for (int level : new int[] {0, 5}) {
      assertThrows(IndexOutOfBoundsException.class, () -> gw.entry(level));
      assertThrows(IndexOutOfBoundsException.class, () -> gw.mfn(level));
      assertThrows(IndexOutOfBoundsException.class, () -> gw.entryAddress(level));
      assertThrows(IndexOutOfBoundsException.class, () -> gw.accessedDirtyWritten(level));
    }
  }

  @Test
  void aSuccessfulWalkShouldRecordItsEntriesAndTranslation() {
    WalkFixture f = WalkFixture.long4();
    GuestWalker w = f.walker(HAP, GuestWalkSwitches.XEN_4_22);
    assertSame(f.memory, w.machine());
    assertSame(HAP, w.domain());
    GuestWalk gw = new GuestWalk();
    assertTrue(w.guestWalkTables(WalkFixture.regs4(), VA4, gw, 0, L4_FRAME, 0));
    assertEquals(VA4, gw.va());
    assertEquals(4, gw.levels());
    // The entries as the walk saw them, with the A bit it set ORed in.
    assertEquals((L3_FRAME << 12) | PRW | A, gw.l4e());
    assertEquals((L2_FRAME << 12) | PRW | A, gw.l3e());
    assertEquals((L1_FRAME << 12) | PRW | A, gw.l2e());
    assertEquals(DATA_FRAME, gw.gfn());
    assertEquals((DATA_FRAME << 12) | 0x567, gw.gpa());
  }

  @Test
  void aNotPresentL1EntryShouldGiveNoGfnWhateverItsOtherBits() {
    // guest_walk_to_gfn: INVALID_GFN unless the l1e has _PAGE_PRESENT.
    WalkFixture f = WalkFixture.long4();
    f.set8(L1_SLOT, (DATA_FRAME << 12) | RW | US);
    GuestWalk gw = new GuestWalk();
    GuestWalker w = f.walker(HAP, GuestWalkSwitches.XEN_4_22);
    assertFalse(w.guestWalkTables(WalkFixture.regs4(), VA4, gw, 0, L4_FRAME, 0));
    assertEquals((DATA_FRAME << 12) | RW | US, gw.l1e());
    assertEquals(GuestWalk.INVALID_GFN, gw.gfn());
    assertEquals(GuestWalk.INVALID_PADDR, gw.gpa());
  }

  // ---- tables in machine frame 0 ----------------------------------------------------------------

  @Test
  void frameZeroShouldServeAsTopTableAndAsLowerTable() {
    WalkFixture f = WalkFixture.long4();
    // VA4's L4 index is 1: the top table in frame 0 holds its entry at offset 8.
    f.set8(8, (L3_FRAME << 12) | PRW);
    for (GuestWalkSwitches s : new GuestWalkSwitches[] {
        GuestWalkSwitches.XEN_4_22, GuestWalkSwitches.SEED_2010}) {
      GuestWalk gw = new GuestWalk();
      assertTrue(f.walker(HAP, s).guestWalkTables(WalkFixture.regs4(), VA4, gw, 0, 0, 0));
      assertEquals(0, gw.mfn(4));
      assertEquals(DATA_FRAME, gw.gfn());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> f.walker(HAP, GuestWalkSwitches.XEN_4_22)
            .guestWalkTables(WalkFixture.regs4(), VA4, new GuestWalk(), 0, -1, 0));
    assertTrue(e.getMessage().startsWith("topMfn"), e.getMessage());
    // The L2 table in frame 0 (index 3: offset 24), below the L3 entry.
    WalkFixture g = WalkFixture.long4();
    g.set8(L3_SLOT, PRW);
    g.set8(24, (L1_FRAME << 12) | PRW);
    for (GuestWalkSwitches s : new GuestWalkSwitches[] {
        GuestWalkSwitches.XEN_4_22, GuestWalkSwitches.SEED_2010}) {
      GuestWalk gw = new GuestWalk();
      assertTrue(g.walker(HAP, s).guestWalkTables(WalkFixture.regs4(), VA4, gw, 0, L4_FRAME, 0));
      assertEquals(0, gw.mfn(2));
      assertEquals(24, gw.entryAddress(2));
      assertEquals(DATA_FRAME, gw.gfn());
    }
  }

  @Test
  void aBadPaeOffsetShouldBeReportedAsSuch() {
    WalkFixture f = new WalkFixture(40);
    GuestWalker w = f.walker(HAP, GuestWalkSwitches.XEN_4_22);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> w.guestWalkTables(GuestRegisters.pae(0x20_0000), 0, new GuestWalk(), 0, 0x200, 0x10));
    assertTrue(e.getMessage().contains("a multiple of 0x20"), e.getMessage());
  }

  // ---- PAE --------------------------------------------------------------------------------------

  /** va 0x4030_1567: PDPTE 1, PDE 1, PTE 0x101; PDPT in frame 0x200, PD 0x201, PT 0x202. */
  private static final long PAE_VA = 0x4030_1567L;
  private static final long PDPTE_SLOT = (0x200L << 12) + 8;
  private static final long PDE_SLOT = (0x201L << 12) + 8;
  private static final long PTE_SLOT = (0x202L << 12) + 0x101 * 8;

  private static WalkFixture pae() {
    WalkFixture f = new WalkFixture(40);
    f.set8(PDPTE_SLOT, (0x201L << 12) | P); // a PDPTE has no R/W or U/S (reserved)
    f.set8(PDE_SLOT, (0x202L << 12) | PRW);
    f.set8(PTE_SLOT, (DATA_FRAME << 12) | PRW);
    return f;
  }

  private static GuestWalk paeWalk(WalkFixture f, long va, int access, boolean allowed) {
    GuestWalk gw = new GuestWalk();
    GuestWalker w = f.walker(HAP, GuestWalkSwitches.XEN_4_22);
    assertEquals(allowed,
        w.guestWalkTables(GuestRegisters.pae(0x200L << 12), va, gw, access, 0x200, 0));
    return gw;
  }

  @Test
  void aPaePdpteShouldNotLimitTheRights() {
    GuestWalk gw = paeWalk(pae(), PAE_VA, Pfec.USER_MODE | Pfec.WRITE_ACCESS, true);
    assertEquals(DATA_FRAME, gw.gfn());
    assertEquals(Pfec.PAGE_PRESENT | Pfec.USER_MODE | Pfec.WRITE_ACCESS, gw.pfec());
  }

  @Test
  void aPaeWalkShouldStillAndTheRightsOfItsOtherEntries() {
    WalkFixture f = pae();
    f.set8(PTE_SLOT, (DATA_FRAME << 12) | P | RW);
    GuestWalk gw = paeWalk(f, PAE_VA, Pfec.USER_MODE, false);
    assertEquals(Pfec.PAGE_PRESENT | Pfec.USER_MODE, gw.pfec());
  }

  @Test
  void aFourLevelWalkShouldAndTheRightsOfItsL3Entry() {
    WalkFixture f = WalkFixture.long4();
    f.set8(L3_SLOT, (L2_FRAME << 12) | P | RW);
    GuestWalk gw = new GuestWalk();
    assertFalse(f.walker(HAP, GuestWalkSwitches.XEN_4_22)
        .guestWalkTables(WalkFixture.regs4(), VA4, gw, Pfec.USER_MODE, L4_FRAME, 0));
    assertEquals(Pfec.PAGE_PRESENT | Pfec.USER_MODE, gw.pfec());
    assertEquals(1, gw.leafLevel());
  }

  @Test
  void psShouldMakeALeafOnlyWhereSuperpagesExist() {
    // Reserved-bit checks off, so that PS reaches the leaf test: an L3 PS entry without 1-GByte
    // support, and an L4 PS entry, are tables (guest_walk.c: only guest_can_use_l3_superpages
    // and level 2 look at _PAGE_PSE).
    GuestWalkSwitches lax = GuestWalkSwitches.XEN_4_22.withReservedBits(false);
    WalkFixture f = WalkFixture.long4();
    f.set8(L3_SLOT, (L2_FRAME << 12) | PRW | PS);
    GuestWalk gw = new GuestWalk();
    assertTrue(f.walker(HAP.withHostPage1Gb(false), lax)
        .guestWalkTables(WalkFixture.regs4(), VA4, gw, 0, L4_FRAME, 0));
    assertEquals(1, gw.leafLevel());
    assertEquals(DATA_FRAME, gw.gfn());
    WalkFixture g = WalkFixture.long4();
    g.set8(WalkFixture.L4_SLOT, (L3_FRAME << 12) | PRW | PS);
    assertTrue(g.walker(HAP, lax).guestWalkTables(WalkFixture.regs4(), VA4, gw, 0, L4_FRAME, 0));
    assertEquals(1, gw.leafLevel());
    assertEquals(DATA_FRAME, gw.gfn());
  }

  @Test
  void aProtectionKeyShouldDenyOnlyWhatItsPkruBitsSay() {
    // SDM vol. 3A §4.6.2: PKRU bit 2i is AD for key i, bit 2i + 1 WD. PKRU 0x20: key 2 WD only.
    WalkFixture f = WalkFixture.long4();
    GuestWalker w = f.walker(HAP, GuestWalkSwitches.XEN_4_22);
    GuestRegisters regs = WalkFixture.regs4().withCr4(CR4_PAE | CR4_PKE).withPkru(0x20);
    int userWrite = Pfec.USER_MODE | Pfec.WRITE_ACCESS;
    GuestWalk gw = new GuestWalk();
    f.set8(L1_SLOT, (DATA_FRAME << 12) | PRW | (1L << 59));
    assertTrue(w.guestWalkTables(regs, VA4, gw, userWrite, L4_FRAME, 0), "key 1: no bits");
    f.set8(L1_SLOT, (DATA_FRAME << 12) | PRW | (2L << 59));
    assertFalse(w.guestWalkTables(regs, VA4, gw, userWrite, L4_FRAME, 0), "key 2: WD");
    assertEquals(Pfec.PAGE_PRESENT | userWrite | Pfec.PROT_KEY, gw.pfec());
    assertTrue(w.guestWalkTables(regs, VA4, gw, Pfec.USER_MODE, L4_FRAME, 0), "key 2: reads");
  }

  @Test
  void aFetchShouldFailOnlyWhereAnEntryHasNx() {
    // SDM vol. 3A §4.6: with EFER.NXE, a fetch is denied if XD is set in any entry used.
    WalkFixture f = WalkFixture.long4();
    GuestWalker w = f.walker(HAP, GuestWalkSwitches.XEN_4_22);
    GuestWalk gw = new GuestWalk();
    assertTrue(w.guestWalkTables(WalkFixture.regs4(), VA4, gw, Pfec.INSN_FETCH, L4_FRAME, 0));
    assertEquals(Pfec.PAGE_PRESENT | Pfec.INSN_FETCH, gw.pfec());
    f.set8(L2_SLOT, (L1_FRAME << 12) | PRW | WalkFixture.NX);
    assertFalse(w.guestWalkTables(WalkFixture.regs4(), VA4, gw, Pfec.INSN_FETCH, L4_FRAME, 0));
    assertEquals(Pfec.PAGE_PRESENT | Pfec.INSN_FETCH, gw.pfec());
  }

  @Test
  void aPaeWalkShouldIndexTheTopTableWithLinearBits31To30Only() {
    // Bits 63:32 of the address play no part in a PAE walk.
    GuestWalk gw = paeWalk(pae(), PAE_VA | (1L << 32), 0, true);
    assertEquals(PDPTE_SLOT, gw.entryAddress(3));
    assertEquals(DATA_FRAME, gw.gfn());
  }

  @Test
  void paeDirectoryEntriesShouldHaveTheirReservedBitsChecked() {
    int rsvd = Pfec.RESERVED_BIT | Pfec.PAGE_PRESENT;
    // A 2-MByte page at 4 MiB: gfn 0x400 + PTE index 0x101.
    WalkFixture f = pae();
    f.set8(PDE_SLOT, 0x40_0000L | PS | PRW);
    assertEquals(0x501, paeWalk(f, PAE_VA, 0, true).gfn());
    // Bit 13 of a 2-MByte PDE is reserved (SUPERPAGE_RSVD(21)).
    f.set8(PDE_SLOT, 0x40_2000L | PS | PRW);
    assertEquals(rsvd, paeWalk(f, PAE_VA, 0, false).pfec());
    // Bit 62 is reserved in PAE paging (bits 62:MAXPHYADDR), with or without PS.
    f.set8(PDE_SLOT, 0x40_0000L | PS | PRW | (1L << 62));
    assertEquals(rsvd, paeWalk(f, PAE_VA, 0, false).pfec());
    f.set8(PDE_SLOT, (0x202L << 12) | PRW | (1L << 62));
    assertEquals(rsvd, paeWalk(f, PAE_VA, 0, false).pfec());
    // Address bit 45: above MAXPHYADDR 40.
    f.set8(PDE_SLOT, (0x202L << 12) | PRW | (1L << 45));
    assertEquals(rsvd, paeWalk(f, PAE_VA, 0, false).pfec());
  }

  // ---- superpages -------------------------------------------------------------------------------

  @Test
  void aGigabytePageShouldKeepBit7OfItsL1EntryOnlyWithPsePat() {
    // VA4's page index within its 1 GiB: (3 << 9) | 4 = 0x604; the page at 1 GiB (gfn 0x40000).
    WalkFixture f = WalkFixture.long4();
    GuestWalker w = f.walker(HAP, GuestWalkSwitches.XEN_4_22);
    long fabricated = P | RW | US | A | D;
    f.set8(L3_SLOT, 0x4000_0000L | PS | PRW);
    GuestWalk gw = new GuestWalk();
    assertTrue(w.guestWalkTables(WalkFixture.regs4(), VA4, gw, 0, L4_FRAME, 0));
    assertEquals(3, gw.leafLevel());
    assertEquals(18, gw.pageOrder());
    assertEquals(0x4060_4000L | fabricated, gw.l1e());
    assertEquals(GuestWalk.INVALID_MFN, gw.mfn(1));
    f.set8(L3_SLOT, 0x4000_1000L | PS | PRW | WalkFixture.PWT);
    assertTrue(w.guestWalkTables(WalkFixture.regs4(), VA4, gw, 0, L4_FRAME, 0));
    assertEquals(0x4060_4000L | fabricated | PS | WalkFixture.PWT, gw.l1e());
    assertEquals(0x40604, gw.gfn());
  }

  @Test
  void aTwoMegabytePageShouldBeALeafAtLevelTwo() {
    WalkFixture f = WalkFixture.long4();
    f.set8(L2_SLOT, 0x60_0000L | PS | PRW);
    GuestWalk gw = new GuestWalk();
    assertTrue(f.walker(HAP, GuestWalkSwitches.XEN_4_22)
        .guestWalkTables(WalkFixture.regs4(), VA4, gw, 0, L4_FRAME, 0));
    assertEquals(2, gw.leafLevel());
    assertEquals(9, gw.pageOrder());
    assertEquals(0x604, gw.gfn());
    assertEquals(0x60_4567L, gw.gpa());
  }

  /** A 2-level guest with CR4.PSE, its page directory in frame 0x300. */
  private static GuestRegisters twoLevelPse() {
    return GuestRegisters.twoLevel(0x30_0000).withCr4(CR4_PSE);
  }

  @Test
  void aFourMegabytePageShouldAddTenBitsOfPageIndex() {
    // va: PDE 5, page index 0x2ab within the 4 MiB page at 8 MiB (gfn 0x800).
    long va = (5L << 22) | (0x2ABL << 12) | 0x123;
    WalkFixture f = new WalkFixture(40);
    f.set4((0x300L << 12) + 5 * 4, 0x80_0000L | PS | PRW);
    GuestWalk gw = new GuestWalk();
    assertTrue(f.walker(HAP, GuestWalkSwitches.XEN_4_22)
        .guestWalkTables(twoLevelPse(), va, gw, 0, 0x300, 0));
    assertEquals(0xAAB, gw.gfn());
    assertEquals(0xAAB123, gw.gpa());
    assertEquals(10, gw.pageOrder());
  }

  @Test
  void theSeedsTwoLevelL1EntryShouldBeThirtyTwoBitsWide() {
    // Xen 4.1: start = (gfn & ~1) + l1 offset, gw->l1e = guest_l1e_from_gfn(start, flags) with a
    // 32-bit guest_l1e_t. PDE 0xfffff087: gfn 0xfffff, bit 0 (PSE-PAT) set so bit 7 stays; with
    // l1 offset 0x3ff the frame is 0xffffe + 0x3ff = 0x1003fd, truncated to 0x3fd.
    long va = (5L << 22) | (0x3FFL << 12) | 0x10;
    WalkFixture f = new WalkFixture(40);
    f.set4((0x300L << 12) + 5 * 4, 0xFFFF_F000L | PS | PRW);
    GuestWalk gw = new GuestWalk();
    assertTrue(f.walker(HAP, GuestWalkSwitches.SEED_2010)
        .guestWalkTables(twoLevelPse(), va, gw, 0, 0x300, 0));
    assertEquals(0x003F_D000L | P | RW | US | A | D | PS, gw.l1e());
    assertEquals(0x3FD, gw.gfn());
  }

  // ---- the seed ---------------------------------------------------------------------------------

  @Test
  void theSeedShouldStopAtANotPresentEntry() {
    WalkFixture f = WalkFixture.long4();
    f.set8(L3_SLOT, 0);
    f.set8(8 * 3, (L1_FRAME << 12) | PRW); // what frame 0 would give as an L2 table
    GuestWalk gw = new GuestWalk();
    assertFalse(f.walker(HAP, GuestWalkSwitches.SEED_2010)
        .guestWalkTables(WalkFixture.regs4(), VA4, gw, 0, L4_FRAME, 0));
    assertEquals(MissingFlags.PAGE_PRESENT, gw.missingFlags());
    assertEquals(0, gw.entry(2));
    assertEquals(GuestWalk.INVALID_MFN, gw.mfn(2));
    assertEquals(0, gw.leafLevel());
  }

  @Test
  void theSeedShouldSetDirtyOnlyForAWrite() {
    WalkFixture f = WalkFixture.long4();
    GuestWalker w = f.walker(HAP, GuestWalkSwitches.SEED_2010);
    GuestWalk gw = new GuestWalk();
    assertTrue(w.guestWalkTables(WalkFixture.regs4(), VA4, gw, 0, L4_FRAME, 0));
    assertEquals((DATA_FRAME << 12) | PRW | A, f.get8(L1_SLOT), "a read: A only");
    assertTrue(w.guestWalkTables(WalkFixture.regs4(), VA4, gw, Pfec.WRITE_ACCESS, L4_FRAME, 0));
    assertEquals((DATA_FRAME << 12) | PRW | A | D, f.get8(L1_SLOT), "a write: A and D");
    assertEquals((L1_FRAME << 12) | PRW | A, f.get8(L2_SLOT), "D on the leaf only");
  }

  @Test
  void theSeedsMapDomainGfnShouldAddPresentForAnInvalidGfn() {
    // Xen 4.1 map_domain_gfn: an invalid gfn or no RAM reads as not present (adds P); paged and
    // shared tables replace the result.
    assertEquals(MissingFlags.PAGE_PRESENT | MissingFlags.PAGE_USER,
        GuestWalker.mapDomainGfnSeed(P2mLookup.GFN_INVALID, MissingFlags.PAGE_USER));
    assertEquals(MissingFlags.PAGE_PRESENT,
        GuestWalker.mapDomainGfnSeed(P2mLookup.NOT_RAM, 0));
    assertEquals(MissingFlags.PAGE_PAGED,
        GuestWalker.mapDomainGfnSeed(P2mLookup.PAGED_OUT, MissingFlags.PAGE_RW));
    assertEquals(MissingFlags.PAGE_SHARED,
        GuestWalker.mapDomainGfnSeed(P2mLookup.SHARED, MissingFlags.PAGE_RW));
    assertThrows(IllegalStateException.class, () -> GuestWalker.mapDomainGfnSeed(-9, 0));
  }

  // ---- hap_p2m_ga_to_gfn ------------------------------------------------------------------------

  @Test
  void theHapWalkShouldMapATopTableInFrameZero() {
    WalkFixture f = WalkFixture.long4();
    f.set8(8, (L3_FRAME << 12) | PRW);
    HapGuestWalk hap = new HapGuestWalk(f.walker(HAP, GuestWalkSwitches.XEN_4_22));
    assertEquals(DATA_FRAME, hap.hapGvaToGfn(GuestRegisters.longMode(0), VA4, Pfec.PAGE_PRESENT));
    assertEquals(Pfec.PAGE_PRESENT, hap.pfec());
    assertEquals(0, hap.walk().mfn(4));
  }

  @Test
  void anUnmappableTopTableShouldClearPresentAndEmptyTheWalk() {
    WalkFixture f = WalkFixture.long4();
    HapGuestWalk hap = new HapGuestWalk(f.walker(HAP, GuestWalkSwitches.XEN_4_22));
    GuestRegisters regs = WalkFixture.regs4();
    assertEquals(DATA_FRAME, hap.hapGvaToGfn(regs, VA4, Pfec.PAGE_PRESENT));
    int code = Pfec.PAGE_PRESENT | Pfec.WRITE_ACCESS;
    // CR3 in a hole (frame 0x90000, no RAM): not RAM.
    assertEquals(HapGuestWalk.INVALID_GFN, hap.hapP2mGaToGfn(regs, 0x9000_0000L, VA4 + 8, code));
    assertEquals(Pfec.WRITE_ACCESS, hap.pfec());
    GuestWalk gw = hap.walk();
    assertEquals(VA4 + 8, gw.va());
    assertEquals(0, gw.leafLevel());
    assertEquals(0, gw.entry(4));
    assertEquals(GuestWalk.INVALID_MFN, gw.mfn(4));
    // CR3 beyond MAXPHYADDR 40: an invalid gfn, the same answer.
    assertEquals(HapGuestWalk.INVALID_GFN, hap.hapP2mGaToGfn(regs, 1L << 45, VA4, code));
    assertEquals(Pfec.WRITE_ACCESS, hap.pfec());
    // A lookup outcome the p2m does not define.
    f.overrides.put(0x123L, -9L);
    assertThrows(IllegalStateException.class,
        () -> hap.hapP2mGaToGfn(regs, 0x12_3000L, VA4, code));
  }

  @Test
  void anUnmappableTopTableShouldKeepTheFetchBitOnlyWithNxOrSmep() {
    // out_tweak_pfec: PFEC_insn_fetch is cleared unless hvm_nx_enabled or hvm_smep_enabled.
    WalkFixture f = WalkFixture.long4();
    int code = Pfec.PAGE_PRESENT | Pfec.INSN_FETCH;
    long hole = 0x9000_0000L;
    GuestRegisters nx = WalkFixture.regs4();
    GuestRegisters plain = nx.withEfer(EFER_LME | EFER_LMA);
    GuestRegisters smep = plain.withCr4(CR4_PAE | CR4_SMEP);
    HapGuestWalk today = new HapGuestWalk(f.walker(HAP, GuestWalkSwitches.XEN_4_22));
    today.hapP2mGaToGfn(nx, hole, VA4, code);
    assertEquals(Pfec.INSN_FETCH, today.pfec());
    today.hapP2mGaToGfn(plain, hole, VA4, code);
    assertEquals(0, today.pfec());
    today.hapP2mGaToGfn(smep, hole, VA4, code);
    assertEquals(Pfec.INSN_FETCH, today.pfec());
    // A walker without SMEP support (the switch off) does not count CR4.SMEP.
    HapGuestWalk noSmep = new HapGuestWalk(
        f.walker(HAP, GuestWalkSwitches.XEN_4_22.withSmep(false)));
    noSmep.hapP2mGaToGfn(smep, hole, VA4, code);
    assertEquals(0, noSmep.pfec());
  }

  // ---- registers, domain, lookups, descriptions -------------------------------------------------

  @Test
  void eachControlBitShouldCountOnlyWithPaging() {
    long pg = CR0_PE | CR0_PG;
    GuestRegisters base = new GuestRegisters(pg, 0, CR4_PAE, 0, 0, 0, 0);
    checkBit(base, GuestRegisters::smepEnabled, CR4_SMEP);
    checkBit(base, GuestRegisters::smapEnabled, CR4_SMAP);
    checkBit(base, GuestRegisters::pkuEnabled, CR4_PKE);
    checkBit(base, GuestRegisters::pksEnabled, CR4_PKS);
    // CR0.WP, likewise.
    assertTrue(base.withCr0(pg | CR0_WP).wpEnabled());
    assertFalse(base.wpEnabled());
    assertFalse(base.withCr0(CR0_PE | CR0_WP).wpEnabled());
    assertTrue(base.toString().contains("cr4=0x20"), base.toString());
  }

  private static void checkBit(GuestRegisters base, Predicate<GuestRegisters> enabled, long bit) {
    assertTrue(enabled.test(base.withCr4(CR4_PAE | bit)), "paging and the bit");
    assertFalse(enabled.test(base), "paging without the bit");
    assertFalse(enabled.test(base.withCr0(CR0_PE).withCr4(CR4_PAE | bit)), "the bit, no paging");
  }

  @Test
  void theDomainShouldAcceptMaxPhysAddrFrom32To52() {
    assertEquals(32, GuestWalkDomain.hapIntel(32).maxPhysAddr());
    assertEquals(52, GuestWalkDomain.hapIntel(52).maxPhysAddr());
    assertThrows(IllegalArgumentException.class, () -> GuestWalkDomain.hapIntel(31));
    assertThrows(IllegalArgumentException.class, () -> GuestWalkDomain.hapIntel(53));
    GuestWalkDomain amd = GuestWalkDomain.hapAmd(46);
    assertEquals(new GuestWalkDomain(46, true, true, true, true, true), amd);
  }

  @Test
  void lookupsShouldTellFramesFromOutcomes() {
    assertTrue(P2mLookup.isMfn(0));
    assertTrue(P2mLookup.isMfn(0x1234));
    assertFalse(P2mLookup.isMfn(P2mLookup.PAGED_OUT));
    assertFalse(P2mLookup.isMfn(P2mLookup.NOT_RAM));
    assertEquals("mfn 0x0", P2mLookup.describe(0));
    assertEquals("paged out", P2mLookup.describe(P2mLookup.PAGED_OUT));
    WalkFixture f = new WalkFixture(32);
    P2mLookup id = P2mLookup.identity(f.memory);
    assertEquals(0x7FFFF, id.getPageFromGfn(0x7FFFF));
    assertEquals(P2mLookup.NOT_RAM, id.getPageFromGfn(0xFFFFF));
    assertEquals(P2mLookup.GFN_INVALID, id.getPageFromGfn(0x100000));
    assertEquals(P2mLookup.GFN_INVALID, id.getPageFromGfn(-1L));
  }

  @Test
  void descriptionsShouldSeparateNamedAndUnnamedBits() {
    assertEquals("P|0x100", Pfec.describe(Pfec.PAGE_PRESENT | 0x100));
    assertEquals("0x100", Pfec.describe(0x100));
    assertEquals("P|0x100", MissingFlags.describe(MissingFlags.PAGE_PRESENT | 0x100));
    assertEquals("0x100", MissingFlags.describe(0x100));
  }
}
