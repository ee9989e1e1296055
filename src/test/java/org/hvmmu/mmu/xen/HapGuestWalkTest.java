package org.hvmmu.mmu.xen;

import static org.hvmmu.mmu.ControlRegisters.EFER_NXE;
import static org.hvmmu.mmu.xen.Pfec.INSN_FETCH;
import static org.hvmmu.mmu.xen.Pfec.PAGE_PRESENT;
import static org.hvmmu.mmu.xen.Pfec.USER_MODE;
import static org.hvmmu.mmu.xen.Pfec.WRITE_ACCESS;
import static org.hvmmu.mmu.xen.WalkFixture.DATA_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.L1_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.L1_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.L2_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.L2_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.L3_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.L4_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.P;
import static org.hvmmu.mmu.xen.WalkFixture.PRW;
import static org.hvmmu.mmu.xen.WalkFixture.PS;
import static org.hvmmu.mmu.xen.WalkFixture.US;
import static org.hvmmu.mmu.xen.WalkFixture.VA4;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@code hap_p2m_ga_to_gfn} and {@code hap_gva_to_gfn}, today's and the seed's. */
class HapGuestWalkTest {
  private static final GuestWalkDomain INTEL = GuestWalkDomain.hapIntel(40);
  private static final long INVALID = HapGuestWalk.INVALID_GFN;

  private static HapGuestWalk hap(WalkFixture f, GuestWalkSwitches s) {
    return new HapGuestWalk(f.walker(INTEL, s));
  }

  @Test
  void shouldReturnTheGfnAndKeepTheCallersErrorCode() {
    for (GuestWalkSwitches s : new GuestWalkSwitches[] {
        GuestWalkSwitches.HARDENED, GuestWalkSwitches.SEED_2010}) {
      HapGuestWalk hap = hap(WalkFixture.long4(), s);
      int pfec = PAGE_PRESENT | USER_MODE | WRITE_ACCESS;
      assertEquals(DATA_FRAME, hap.hapGvaToGfn(WalkFixture.regs4(), VA4, pfec));
      assertEquals(pfec, hap.pfec());
      assertEquals(0, hap.pageOrder());
      assertEquals(1, hap.walk().leafLevel());
    }
  }

  @Test
  void shouldReportThePageOrder() {
    WalkFixture f = WalkFixture.long4();
    f.set8(L3_SLOT, 0x4000_0000L | PS | PRW);
    HapGuestWalk hap = hap(f, GuestWalkSwitches.HARDENED);
    assertEquals(0x40604, hap.hapGvaToGfn(WalkFixture.regs4(), VA4, USER_MODE));
    assertEquals(18, hap.pageOrder());
    f = WalkFixture.long4();
    f.set8(L2_SLOT, 0x20_0000L | PS | PRW);
    hap = hap(f, GuestWalkSwitches.HARDENED);
    assertEquals(0x204, hap.hapGvaToGfn(WalkFixture.regs4(), VA4, USER_MODE));
    assertEquals(9, hap.pageOrder());
  }

  @Test
  void shouldGiveTheWalksErrorCodeOnFailure() {
    WalkFixture f = WalkFixture.long4();
    f.set8(L1_SLOT, (DATA_FRAME << 12) | P | US);
    int pfec = PAGE_PRESENT | USER_MODE | WRITE_ACCESS;
    HapGuestWalk today = hap(f, GuestWalkSwitches.HARDENED);
    assertEquals(INVALID, today.hapGvaToGfn(WalkFixture.regs4(), VA4, pfec));
    assertEquals(pfec, today.pfec());
    // The seed keeps the caller's code; P stays set because only R/W was missing.
    HapGuestWalk seed = hap(f, GuestWalkSwitches.SEED_2010);
    assertEquals(INVALID, seed.hapGvaToGfn(WalkFixture.regs4(), VA4, pfec));
    assertEquals(pfec, seed.pfec());
    assertEquals(MissingFlags.PAGE_RW, seed.walk().missingFlags());

    f.set8(L1_SLOT, 0);
    assertEquals(INVALID, today.hapGvaToGfn(WalkFixture.regs4(), VA4, pfec));
    assertEquals(USER_MODE | WRITE_ACCESS, today.pfec());
    assertEquals(INVALID, seed.hapGvaToGfn(WalkFixture.regs4(), VA4, pfec));
    assertEquals(USER_MODE | WRITE_ACCESS, seed.pfec());
  }

  @Test
  void shouldReplaceTheErrorCodeForPagedAndSharedFrames() {
    long cr3Gfn = L4_FRAME;
    long[][] cases = {
      // gfn, outcome, today's pfec, the seed's pfec
      {cr3Gfn, P2mLookup.PAGED_OUT, Pfec.PAGE_PAGED, Pfec.SEED_PAGE_PAGED},
      {cr3Gfn, P2mLookup.SHARED, Pfec.PAGE_SHARED, Pfec.SEED_PAGE_SHARED},
      {DATA_FRAME, P2mLookup.PAGED_OUT, Pfec.PAGE_PAGED, Pfec.SEED_PAGE_PAGED},
      {DATA_FRAME, P2mLookup.SHARED, Pfec.PAGE_SHARED, Pfec.SEED_PAGE_SHARED},
      // A table: today the walk's code with the synthetic bit ORed in; the seed's replaces it.
      {L1_FRAME, P2mLookup.PAGED_OUT, Pfec.PAGE_PAGED | USER_MODE, Pfec.SEED_PAGE_PAGED},
      {L2_FRAME, P2mLookup.SHARED, Pfec.PAGE_SHARED | USER_MODE, Pfec.SEED_PAGE_SHARED},
    };
    for (long[] c : cases) {
      for (int era = 0; era < 2; era++) {
        WalkFixture f = WalkFixture.long4();
        f.overrides.put(c[0], c[1]);
        HapGuestWalk hap =
            hap(f, era == 0 ? GuestWalkSwitches.HARDENED : GuestWalkSwitches.SEED_2010);
        assertEquals(INVALID, hap.hapGvaToGfn(WalkFixture.regs4(), VA4, PAGE_PRESENT | USER_MODE));
        assertEquals(c[2 + era], hap.pfec(),
            "gfn 0x" + Long.toHexString(c[0]) + " " + P2mLookup.describe(c[1]) + " era " + era);
      }
    }
  }

  /**
   * A CR3 frame that is not RAM clears P; today the fetch bit goes too unless the guest has
   * EFER.NXE or SMEP (the seed keeps it). A final frame that is not RAM is still a translation.
   */
  @Test
  void shouldClearPresentAndTheFetchBitForANonRamTop() {
    int pfec = PAGE_PRESENT | USER_MODE | INSN_FETCH;
    GuestRegisters noNx = WalkFixture.regs4().withEfer(WalkFixture.regs4().efer() & ~EFER_NXE);
    WalkFixture f = WalkFixture.long4();
    f.overrides.put(L4_FRAME, P2mLookup.NOT_RAM);
    HapGuestWalk today = hap(f, GuestWalkSwitches.HARDENED);
    assertEquals(INVALID, today.hapGvaToGfn(noNx, VA4, pfec));
    assertEquals(USER_MODE, today.pfec());
    assertEquals(INVALID, today.hapGvaToGfn(WalkFixture.regs4(), VA4, pfec));
    assertEquals(USER_MODE | INSN_FETCH, today.pfec());
    HapGuestWalk seed = hap(f, GuestWalkSwitches.SEED_2010);
    assertEquals(INVALID, seed.hapGvaToGfn(noNx, VA4, pfec));
    assertEquals(USER_MODE | INSN_FETCH, seed.pfec());

    f = WalkFixture.long4();
    f.overrides.put(DATA_FRAME, P2mLookup.NOT_RAM);
    assertEquals(DATA_FRAME, hap(f, GuestWalkSwitches.HARDENED)
        .hapGvaToGfn(WalkFixture.regs4(), VA4, USER_MODE));
  }

  @Test
  void shouldTranslateOneToOneWithoutPaging() {
    HapGuestWalk hap = hap(WalkFixture.long4(), GuestWalkSwitches.HARDENED);
    GuestRegisters real = WalkFixture.regs4().withCr0(0x11);
    assertEquals(0x12345, hap.hapGvaToGfn(real, 0x1234_5678L, WRITE_ACCESS));
    assertEquals(WRITE_ACCESS, hap.pfec());
    assertEquals(0, hap.pageOrder());
  }

  @Test
  void shouldWalkFromAnotherCr3() {
    WalkFixture f = WalkFixture.long4();
    HapGuestWalk hap = hap(f, GuestWalkSwitches.HARDENED);
    GuestRegisters elsewhere = WalkFixture.regs4().withCr3(0x7000);
    assertEquals(DATA_FRAME,
        hap.hapP2mGaToGfn(elsewhere, L4_FRAME << 12, VA4, USER_MODE));
    // Frame 7 holds no tables: its L4 entry is not present.
    assertEquals(INVALID, hap.hapGvaToGfn(elsewhere, VA4, USER_MODE));
    assertEquals(USER_MODE, hap.pfec());
  }
}
