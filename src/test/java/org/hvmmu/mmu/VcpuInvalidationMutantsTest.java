package org.hvmmu.mmu;

import static org.hvmmu.mmu.VcpuInvGuest.CR0;
import static org.hvmmu.mmu.VcpuInvGuest.EFER;
import static org.hvmmu.mmu.VcpuInvGuest.GLOBAL;
import static org.hvmmu.mmu.VcpuInvGuest.OTHER;
import static org.hvmmu.mmu.VcpuInvGuest.PAE;
import static org.hvmmu.mmu.VcpuInvGuest.PCIDE;
import static org.hvmmu.mmu.VcpuInvGuest.PGE;
import static org.hvmmu.mmu.VcpuInvGuest.PLAIN;
import static org.hvmmu.mmu.VcpuInvGuest.assertFlushes;
import static org.hvmmu.mmu.VcpuInvGuest.flushes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * What each invalidating operation removes, and how it is counted, table by table from Intel SDM
 * vol. 3A §4.10.4.1 (INVLPG, INVPCID types 0-3, MOV to CR3 and CR4), vol. 3C §28.3.3 (INVVPID,
 * INVEPT, VM entries and exits without VPIDs) and AMD APM vol. 2 §15.16.1 (TLB_CONTROL flush of an
 * ASID). The paging-structure caches are both Intel's (tagged by prefix and PCID) and AMD's page
 * walk cache (tagged by physical address): whatever the SDM says invalidates paging-structure
 * caches empties either. The over-flush mode follows Bochs and QEMU: a single-address
 * invalidation removes the address for every context, anything else empties everything.
 *
 * <p>Counting: an operation that removed something counts one full (whole contexts) or partial
 * (addresses) flush, one that found nothing cached counts one elided flush ({@link MmuCounters}).
 */
class VcpuInvalidationMutantsTest {
  private static final MmuSwitches AMD_STYLE = VcpuInvGuest.entryCache(MmuSwitches.DEFAULT);
  private static final MmuSwitches EMULATOR = MmuSwitches.EMULATOR;

  // ---- the paging-structure caches, Intel's and AMD's -------------------------------------------

  @Test
  void withoutAnInvalidationBothCachesShouldKeepTheOldDirectoryEntry() {
    for (MmuSwitches s : new MmuSwitches[] {MmuSwitches.DEFAULT, AMD_STYLE}) {
      VcpuInvGuest g = new VcpuInvGuest(s, PAE | PGE);
      g.fill();
      g.movePageTable();
      assertTrue(g.stale(), s.pscStyle().toString());
    }
  }

  @Test
  void everyPagingStructureInvalidationShouldEmptyTheEntryCache() {
    VcpuInvGuest a = amdStyle(PAE | PGE);
    a.vcpu.invlpg(PLAIN);
    assertFalse(a.stale(), "INVLPG");

    VcpuInvGuest b = amdStyle(PAE | PGE | PCIDE);
    assertEquals(0, b.vcpu.invpcid(0, 1, OTHER));
    assertFalse(b.stale(), "INVPCID type 0");

    VcpuInvGuest c = amdStyle(PAE | PGE | PCIDE);
    assertEquals(0, c.vcpu.invpcid(1, 1, 0));
    assertFalse(c.stale(), "INVPCID type 1");

    VcpuInvGuest d = amdStyle(PAE | PGE);
    d.vcpu.flushAll();
    assertFalse(d.stale(), "a full flush");

    VcpuInvGuest e = amdStyle(PAE | PGE);
    assertEquals(0, e.vcpu.writeCr4(PAE | PGE | ControlRegisters.CR4_SMEP));
    assertFalse(e.stale(), "MOV to CR4 setting SMEP");

    VcpuInvGuest f = new VcpuInvGuest(VcpuInvGuest.entryCache(EMULATOR), PAE | PGE);
    f.fill();
    f.movePageTable();
    f.vcpu.invlpg(PLAIN);
    assertFalse(f.stale(), "INVLPG, over-flushing");
  }

  private static VcpuInvGuest amdStyle(long cr4) {
    VcpuInvGuest g = new VcpuInvGuest(AMD_STYLE, cr4);
    g.fill();
    g.movePageTable();
    return g;
  }

  // ---- INVLPG -----------------------------------------------------------------------------------

  @Test
  void invlpgShouldCountWhatItRemoved() {
    // Without paging-structure caches, only the TLB entries can make a flush real.
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT,
        TlbConfig.goldenCove().withoutPagingStructureCaches(), PAE | PGE);
    assertEquals(GLOBAL - PLAIN + VcpuInvGuest.OLD, g.vcpu.translate(GLOBAL, Access.READ));
    long[] before = flushes(g.vcpu);
    g.vcpu.invlpg(GLOBAL);
    assertFlushes(before, g.vcpu, 0, 1, 0);
    assertEquals(VcpuInvGuest.OLD, g.vcpu.translate(PLAIN, Access.READ));
    before = flushes(g.vcpu);
    g.vcpu.invlpg(PLAIN);
    assertFlushes(before, g.vcpu, 0, 1, 0);
    before = flushes(g.vcpu);
    g.vcpu.invlpg(PLAIN);
    assertFlushes(before, g.vcpu, 0, 0, 1);

    // Another address: no TLB entry, but the paging-structure caches of the PCID go.
    for (MmuSwitches s : new MmuSwitches[] {MmuSwitches.DEFAULT, EMULATOR}) {
      VcpuInvGuest p = new VcpuInvGuest(s, PAE | PGE);
      p.fill();
      before = flushes(p.vcpu);
      p.vcpu.invlpg(OTHER);
      assertFlushes(before, p.vcpu, 0, 1, 0);
      before = flushes(p.vcpu);
      p.vcpu.invlpg(PLAIN);
      assertFlushes(before, p.vcpu, 0, 1, 0);
    }
  }

  @Test
  void theInvlpgErratumShouldNeedPcids() {
    // The Alder Lake erratum leaves global translations only while CR4.PCIDE = 1.
    MmuSwitches erratum = MmuSwitches.DEFAULT.withInvlpgKeepsGlobalsWithPcid(true);
    VcpuInvGuest g = new VcpuInvGuest(erratum, PAE | PGE);
    g.fillAndRemap();
    g.vcpu.invlpg(GLOBAL);
    assertFalse(g.kept(GLOBAL));
    assertTrue(g.kept(PLAIN));

    // Over-flushing emulators remove the address in every context, global or not.
    VcpuInvGuest e = new VcpuInvGuest(EMULATOR.withInvlpgKeepsGlobalsWithPcid(true),
        PAE | PGE | PCIDE);
    e.fillAndRemap();
    e.vcpu.invlpg(GLOBAL);
    assertFalse(e.kept(GLOBAL));
    assertTrue(e.kept(PLAIN));
  }

  // ---- INVPCID ----------------------------------------------------------------------------------

  @Test
  void invpcidType0ShouldChargeAnInvlpgAndCountPartially() {
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | PCIDE);
    g.fill();
    long cycles = g.vcpu.counters().cycles();
    long[] before = flushes(g.vcpu);
    assertEquals(0, g.vcpu.invpcid(0, 1, OTHER)); // no TLB entry; PCID 1's caches
    assertEquals(LatencyModel.GOLDEN_COVE.invlpg(), g.vcpu.counters().cycles() - cycles);
    assertFlushes(before, g.vcpu, 0, 1, 0);
    before = flushes(g.vcpu);
    assertEquals(0, g.vcpu.invpcid(0, 1, PLAIN));
    assertFlushes(before, g.vcpu, 0, 1, 0);
  }

  @Test
  void invpcidType0OfPcidZeroShouldLeaveOtherPcids() {
    // Type 0 removes the address for the descriptor's PCID only (PCID 0 is a PCID like others).
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | PCIDE); // PCID 1
    g.fillAndRemap();
    assertEquals(0, g.vcpu.writeCr3(g.root2)); // PCID 0
    assertEquals(0, g.vcpu.invpcid(0, 0, PLAIN));
    assertEquals(0, g.vcpu.writeCr3(g.root | 1 | ControlRegisters.CR3_NOFLUSH));
    assertTrue(g.kept(PLAIN));
  }

  @Test
  void invpcidType1ShouldCountItsPagingStructureCaches() {
    // Only a global translation is cached: PCID 1 has no non-global TLB entry, but has
    // paging-structure-cache entries (SDM: type 1 invalidates those too).
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | PCIDE);
    assertEquals(VcpuInvGuest.OLD + 0x1000, g.vcpu.translate(GLOBAL, Access.READ));
    long[] before = flushes(g.vcpu);
    assertEquals(0, g.vcpu.invpcid(1, 1, 0));
    assertFlushes(before, g.vcpu, 1, 0, 0);
    assertTrue(g.kept(GLOBAL));
  }

  @Test
  void invpcidShouldOverFlushLikeInvlpgOrAFullFlush() {
    VcpuInvGuest g = new VcpuInvGuest(EMULATOR, PAE | PGE | PCIDE);
    g.fillAndRemap();
    assertEquals(0, g.vcpu.invpcid(0, 1, PLAIN));
    assertFalse(g.kept(PLAIN));
    assertTrue(g.kept(GLOBAL), "type 0 over-flushes one address only");

    VcpuInvGuest gl = new VcpuInvGuest(EMULATOR, PAE | PGE | PCIDE);
    gl.fillAndRemap();
    assertEquals(0, gl.vcpu.invpcid(0, 1, GLOBAL));
    assertFalse(gl.kept(GLOBAL), "over-flushing removes the global translation of the address");
    assertTrue(gl.kept(PLAIN));

    VcpuInvGuest one = new VcpuInvGuest(EMULATOR, PAE | PGE | PCIDE);
    one.fillAndRemap();
    assertEquals(0, one.vcpu.invpcid(1, 1, 0));
    assertFalse(one.kept(GLOBAL), "anything but type 0 empties everything");
  }

  // ---- MOV to CR3 and CR4 -----------------------------------------------------------------------

  @Test
  void movToCr3ShouldCountItsPagingStructureCaches() {
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, VcpuInvGuest.pscOnly(), PAE | PGE);
    assertEquals(VcpuInvGuest.OLD, g.vcpu.translate(PLAIN, Access.READ));
    long[] before = flushes(g.vcpu);
    assertEquals(0, g.vcpu.writeCr3(g.root));
    assertFlushes(before, g.vcpu, 1, 0, 0);

    VcpuInvGuest p = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | PCIDE);
    p.fill();
    before = flushes(p.vcpu);
    assertEquals(0, p.vcpu.writeCr3(p.root | 1 | ControlRegisters.CR3_NOFLUSH));
    assertFlushes(before, p.vcpu, 0, 0, 1);
  }

  @Test
  void movToCr4SettingSmepShouldCountWhatItRemoved() {
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, VcpuInvGuest.pscOnly(), PAE | PGE);
    assertEquals(VcpuInvGuest.OLD, g.vcpu.translate(PLAIN, Access.READ));
    long[] before = flushes(g.vcpu);
    assertEquals(0, g.vcpu.writeCr4(PAE | PGE | ControlRegisters.CR4_SMEP));
    assertFlushes(before, g.vcpu, 1, 0, 0);

    VcpuInvGuest t = new VcpuInvGuest();
    t.fillAndRemap();
    before = flushes(t.vcpu);
    assertEquals(0, t.vcpu.writeCr4(PAE | PGE | ControlRegisters.CR4_SMEP));
    assertFlushes(before, t.vcpu, 1, 0, 0);
    assertFalse(t.kept(PLAIN), "SMEP 0 -> 1 removes the current PCID's translations");
  }

  @Test
  void invpcidType2ShouldCountItsPagingStructureCaches() {
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, VcpuInvGuest.pscOnly(), PAE | PGE);
    assertEquals(VcpuInvGuest.OLD, g.vcpu.translate(PLAIN, Access.READ));
    long[] before = flushes(g.vcpu);
    assertEquals(0, g.vcpu.invpcid(2, 0, 0));
    assertFlushes(before, g.vcpu, 1, 0, 0);
    before = flushes(g.vcpu);
    g.vcpu.flushAll();
    assertFlushes(before, g.vcpu, 0, 0, 1);
    assertEquals(VcpuInvGuest.OLD, g.vcpu.translate(PLAIN, Access.READ));
    before = flushes(g.vcpu);
    g.vcpu.flushAll();
    assertFlushes(before, g.vcpu, 1, 0, 0);
  }

  // ---- paging-structure-cache entries alone -----------------------------------------------------

  /** Caches only GLOBAL: its TLB entry is global, the PCID's paging-structure caches are filled. */
  private static VcpuInvGuest globalOnly(long cr4) {
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, cr4);
    assertEquals(VcpuInvGuest.OLD + 0x1000, g.vcpu.translate(GLOBAL, Access.READ));
    return g;
  }

  @Test
  void nonGlobalInvalidationsShouldCountPagingStructureCacheEntriesAlone() {
    VcpuInvGuest cr3 = globalOnly(PAE | PGE);
    long[] before = flushes(cr3.vcpu);
    assertEquals(0, cr3.vcpu.writeCr3(cr3.root));
    assertFlushes(before, cr3.vcpu, 1, 0, 0);

    VcpuInvGuest type3 = globalOnly(PAE | PGE);
    before = flushes(type3.vcpu);
    assertEquals(0, type3.vcpu.invpcid(3, 0, 0));
    assertFlushes(before, type3.vcpu, 1, 0, 0);

    VcpuInvGuest smep = globalOnly(PAE | PGE | PCIDE); // PCID 1
    before = flushes(smep.vcpu);
    assertEquals(0, smep.vcpu.writeCr4(PAE | PGE | PCIDE | ControlRegisters.CR4_SMEP));
    assertFlushes(before, smep.vcpu, 1, 0, 0);
  }

  @Test
  void theGlobalBitShouldNeedCr4Pge() {
    // SDM vol. 3A §4.10.2.4: a translation is global only if G = 1 and CR4.PGE = 1.
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE);
    g.fillAndRemap();
    assertEquals(0, g.vcpu.writeCr3(g.root));
    assertFalse(g.kept(GLOBAL));
  }

  @Test
  void settingSmapShouldApplyToCachedTranslations() {
    // SDM vol. 3A §4.6.1: with CR4.SMAP = 1 and EFLAGS.AC = 0 a supervisor read of a user page
    // is #PF with error code P; MOV to CR4 changing SMAP needs no invalidation, so the cached
    // translation itself must now deny.
    VcpuInvGuest g = new VcpuInvGuest();
    assertEquals(VcpuInvGuest.OLD, g.vcpu.translate(PLAIN, Access.READ));
    assertEquals(0, g.vcpu.writeCr4(PAE | PGE | ControlRegisters.CR4_SMAP));
    assertEquals(Fault.pageFault(PageFaultErrorCode.P), g.vcpu.translate(PLAIN, Access.READ));
    g.vcpu.setRflags(ControlRegisters.RFLAGS_AC);
    assertEquals(VcpuInvGuest.OLD, g.vcpu.translate(PLAIN, Access.READ));
  }

  @Test
  void invlpgShouldRemoveAWhole4MbytePage() {
    // 32-bit paging with CR4.PSE: a PDE with PS maps 4 MBytes (SDM vol. 3A §4.3); INVLPG of any
    // address in it removes the page.
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(0, 0xFFFF);
    long pd = 0x100_0000L;
    long la = 0x0840_0000L; // PDE index 0x21
    long pde = pd + 4 * (la >>> 22);
    m.write(pde, 4, 0x0400_0000L | 0xE7); // P | RW | US | A | D | PS, frame 64 MiB
    Vcpu v = Vcpu.create(m);
    assertEquals(0, v.loadState(CR0, pd, ControlRegisters.CR4_PSE, 0));
    assertEquals(PagingMode.LEGACY_32, v.pagingMode());
    assertEquals(0x0400_0000L + 0x30_0123L, v.translate(la + 0x30_0123L, Access.READ));
    assertEquals(22, v.lastPageShift());
    m.write(pde, 4, 0x0800_0000L | 0xE7);
    assertEquals(0x0400_0000L + 0x20_0000L, v.translate(la + 0x20_0000L, Access.READ), "cached");
    v.invlpg(la + 0x3F_F000L);
    assertEquals(0x0800_0000L + 0x20_0000L, v.translate(la + 0x20_0000L, Access.READ));
  }

  @Test
  void nonCanonicalAddressesShouldNeverHitIn5LevelPaging() {
    // With 5-level paging bits 63:57 must equal bit 56 (SDM vol. 3A §4.5): 0x0100_0000_0000_0000
    // is non-canonical (#GP) though it shares bits 56:0 with a cached canonical address.
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(0, 0xFFFF);
    GuestTables t = new GuestTables(m, 0x1000);
    long root = t.newTable();
    long la = 0xFF00_0000_0000_0000L;
    t.map(root, 5, la, VcpuInvGuest.OLD, 1, 0x27, 0x67);
    Vcpu v = Vcpu.create(m);
    assertEquals(0, v.loadState(CR0, root, PAE | ControlRegisters.CR4_LA57, EFER));
    assertEquals(VcpuInvGuest.OLD, v.translate(la, Access.READ));
    assertEquals(VcpuInvGuest.OLD, v.translate(la, Access.READ));
    assertEquals(Fault.GP0, v.translate(0x0100_0000_0000_0000L, Access.READ));
  }

  @Test
  void contextsShouldNeverShareEntriesAfterTheContextTableStartsOver() {
    // PCID 1 caches the paging-structure entries of OTHER's page. Then a thousand other PCIDs
    // (the context table fills up and starts over with fresh ids) each walk an empty PML4: every
    // walk must fault (no entry is created from a fault), never use PCID 1's cached entries (SDM
    // vol. 3A §4.10.2.1: a PCID uses only the entries associated with it).
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | PCIDE);
    g.tables.map(g.root, 4, OTHER, VcpuInvGuest.NEW, 1, 0x27, 0x67);
    g.fill();
    long empty = g.tables.newTable();
    for (int p = 2; p < 1100; p++) {
      assertEquals(0, g.vcpu.writeCr3(empty | p));
      long r = g.vcpu.translate(OTHER, Access.READ);
      assertTrue(Fault.isFault(r) && VcpuInvGuest.kindOf(r) == FaultKind.PAGE_FAULT,
          "PCID " + p + ": 0x" + Long.toHexString(r));
    }
    assertEquals(0, g.vcpu.writeCr3(g.root | 1));
    assertEquals(VcpuInvGuest.NEW, g.vcpu.translate(OTHER, Access.READ));
  }

  @Test
  void overFlushingInvlpgShouldEmptyIntelsPagingStructureCaches() {
    VcpuInvGuest g = new VcpuInvGuest(EMULATOR, PAE | PGE);
    g.fill();
    g.movePageTable();
    g.vcpu.invlpg(PLAIN);
    assertFalse(g.stale());
  }

  @Test
  void otherCr4ChangesWithSmepSetShouldInvalidateNothing() {
    // SDM vol. 3A §4.10.4.1: only SMEP going 0 -> 1 invalidates; SMAP changes need nothing.
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT,
        PAE | PGE | ControlRegisters.CR4_SMEP);
    g.fillAndRemap();
    assertEquals(0, g.vcpu.writeCr4(PAE | PGE | ControlRegisters.CR4_SMEP
        | ControlRegisters.CR4_SMAP));
    g.vcpu.setRflags(ControlRegisters.RFLAGS_AC); // the pages are user pages
    assertTrue(g.kept(PLAIN));
    assertTrue(g.kept(GLOBAL));
  }
}
