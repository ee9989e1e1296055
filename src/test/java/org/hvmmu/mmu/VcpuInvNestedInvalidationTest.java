package org.hvmmu.mmu;

import static org.hvmmu.mmu.VcpuInvGuest.assertFlushes;
import static org.hvmmu.mmu.VcpuInvGuest.flushes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Invalidation of a guest's translations by its hypervisor: INVVPID types 0-3 and INVEPT types 1
 * and 2 (Intel SDM vol. 3C §28.3.3.3 and the INVVPID/INVEPT pages of vol. 3C ch. 31), VM entries
 * and exits with and without VPIDs (§28.3.3.1), and AMD's TLB_CONTROL = 3 flush of one ASID (APM
 * vol. 2 §15.16.1). A guest on {@link NestedFixture}'s tables maps a plain page at {@link #PLAIN}
 * and a global one at {@link #GLOBAL}; "kept" means the old frame still comes back after the guest
 * leaf was rewritten without an invalidation. Over-flushing follows Bochs, whose INVVPID of one
 * address flushes that address for every context and whose other invalidations flush everything.
 */
class VcpuInvNestedInvalidationTest {
  private static final long CR0 = VcpuInvGuest.CR0;
  private static final long EFER = VcpuInvGuest.EFER;
  private static final long PLAIN = 0x4000_0000L;
  private static final long GLOBAL = 0x4000_1000L;
  private static final long OTHER = 0x4000_4000L; // same page table
  private static final long H = NestedFixture.OFFSET;

  /** A nested guest with PGE, the two pages and their remapped frames (+0x2000) mapped. */
  private static final class Nested {
    final NestedFixture f;
    final long root;
    final Vcpu v;

    Nested(NestedPaging kind, MmuSwitches switches, TlbConfig tlbs) {
      f = new NestedFixture(kind, 4, 1);
      root = f.guest.newTable();
      f.guest.map(root, 4, PLAIN, PLAIN, 1, 0x27, 0x67);
      f.guest.map(root, 4, GLOBAL, GLOBAL, 1, 0x27, 0x167);
      f.guest.map(root, 4, OTHER, VcpuInvGuest.NEW, 1, 0x27, 0); // OTHER's table, not present
      f.mapAll(PLAIN, GLOBAL, PLAIN + 0x2000, GLOBAL + 0x2000, VcpuInvGuest.NEW);
      v = f.vcpu(tlbs, switches,
          kind == NestedPaging.EPT ? MmuFeatures.intel(46) : MmuFeatures.amd(46));
      assertEquals(0, v.loadState(CR0, root, VcpuInvGuest.PAE | VcpuInvGuest.PGE, EFER));
    }

    Nested(NestedPaging kind, MmuSwitches switches) {
      this(kind, switches, TlbConfig.goldenCove());
    }

    void fill() {
      assertEquals(PLAIN + H, v.translate(PLAIN, Access.READ));
      assertEquals(GLOBAL + H, v.translate(GLOBAL, Access.READ));
    }

    void remap() {
      f.guest.write(f.guest.entryAddress(root, 4, PLAIN, 1), PLAIN + 0x2000 | 0x67);
      f.guest.write(f.guest.entryAddress(root, 4, GLOBAL, 1), GLOBAL + 0x2000 | 0x167);
    }

    void fillAndRemap() {
      fill();
      remap();
    }

    boolean kept(long la) {
      long r = v.translate(la, Access.READ);
      if (r == la + H) {
        return true;
      }
      assertEquals(la + 0x2000 + H, r);
      return false;
    }

    /** Points the PDE at a new table mapping OTHER to NEW, without invalidating. */
    void movePageTable() {
      VcpuInvGuest.movePageTable(f.guest, root, OTHER);
      f.mapAll();
    }

    boolean stale() {
      return VcpuInvGuest.stale(v, OTHER, VcpuInvGuest.NEW + H);
    }

    void vpid(int vpid) {
      if (f.kind == NestedPaging.EPT) {
        v.configureEpt(v.eptp(), vpid);
      } else {
        v.configureNpt(v.nestedCr3(), vpid, 0x20, 0xD00);
      }
    }
  }

  private static Nested ept(MmuSwitches s) {
    return new Nested(NestedPaging.EPT, s);
  }

  // ---- INVVPID ----------------------------------------------------------------------------------

  @Test
  void invvpidShouldCheckItsOperandsAtTheirBounds() {
    // INVVPID fails for a type above 3, a VPID above FFFFH, VPID 0 with types 0, 1 and 3.
    Nested n = ept(MmuSwitches.DEFAULT);
    assertTrue(n.v.invvpid(0, 1, PLAIN));
    assertTrue(n.v.invvpid(3, 1, 0));
    assertTrue(n.v.invvpid(2, 0, 0), "type 2 takes any VPID, 0 included");
    assertTrue(n.v.invvpid(1, 0xFFFF, 0));
    assertFalse(n.v.invvpid(1, 0x10000, 0));
    assertFalse(n.v.invvpid(1, -1, 0));
    assertFalse(n.v.invvpid(-1, 1, 0));
    assertFalse(n.v.invvpid(0, 0, PLAIN));
  }

  @Test
  void invvpidType0ShouldRemoveTheAddressAndTheVpidsCaches() {
    Nested n = ept(MmuSwitches.DEFAULT);
    n.fill();
    long cycles = n.v.counters().cycles();
    long[] before = flushes(n.v);
    assertTrue(n.v.invvpid(0, 1, OTHER)); // nothing cached for OTHER: only the caches
    assertEquals(LatencyModel.GOLDEN_COVE.invlpg(), n.v.counters().cycles() - cycles);
    assertFlushes(before, n.v, 0, 1, 0);
    n.remap();
    before = flushes(n.v);
    assertTrue(n.v.invvpid(0, 1, PLAIN));
    assertFlushes(before, n.v, 0, 1, 0);
    assertFalse(n.kept(PLAIN));
    assertTrue(n.kept(GLOBAL));
  }

  @Test
  void invvpidType0ShouldEmptyThePagingStructureCachesOfTheVpid() {
    for (MmuSwitches s : new MmuSwitches[] {MmuSwitches.DEFAULT, MmuSwitches.EMULATOR,
        VcpuInvGuest.entryCache(MmuSwitches.DEFAULT),
        VcpuInvGuest.entryCache(MmuSwitches.EMULATOR)}) {
      Nested n = ept(s);
      n.fill();
      n.movePageTable();
      assertTrue(n.v.invvpid(0, 1, PLAIN));
      assertFalse(n.stale(), s.toString());
    }
    Nested control = ept(MmuSwitches.DEFAULT);
    control.fill();
    control.movePageTable();
    assertTrue(control.stale());
  }

  @Test
  void invvpidType2ShouldRemoveEveryNonZeroVpid() {
    Nested n = ept(MmuSwitches.DEFAULT);
    n.fillAndRemap();
    assertTrue(n.v.invvpid(2, 0, 0));
    assertFalse(n.kept(PLAIN));
    assertFalse(n.kept(GLOBAL));
  }

  @Test
  void overFlushingInvvpidShouldRemoveTheAddressForEveryVpid() {
    Nested n = ept(MmuSwitches.EMULATOR);
    n.vpid(2);
    n.fillAndRemap();
    n.vpid(1);
    long cycles = n.v.counters().cycles();
    long[] before = flushes(n.v);
    assertTrue(n.v.invvpid(0, 1, PLAIN));
    assertEquals(LatencyModel.GOLDEN_COVE.invlpg(), n.v.counters().cycles() - cycles);
    assertFlushes(before, n.v, 0, 1, 0);
    n.vpid(2);
    assertFalse(n.kept(PLAIN), "VPID 2's translation of the address went too");
    assertTrue(n.kept(GLOBAL), "only the address");

    Nested o = ept(MmuSwitches.EMULATOR);
    o.fill();
    before = flushes(o.v);
    assertTrue(o.v.invvpid(0, 1, OTHER)); // no TLB entry, but the caches
    assertFlushes(before, o.v, 0, 1, 0);

    Nested all = ept(MmuSwitches.EMULATOR);
    all.vpid(2);
    all.fillAndRemap();
    all.vpid(1);
    assertTrue(all.v.invvpid(1, 1, 0));
    all.vpid(2);
    assertFalse(all.kept(PLAIN), "a single-context INVVPID over-flushes every context");
    assertFalse(all.kept(GLOBAL));
  }

  // ---- INVEPT -----------------------------------------------------------------------------------

  @Test
  void inveptShouldCountEachKindOfCache() {
    Nested p = new Nested(NestedPaging.EPT, MmuSwitches.DEFAULT, VcpuInvGuest.pscOnly());
    assertEquals(PLAIN + H, p.v.translate(PLAIN, Access.READ));
    long[] before = flushes(p.v);
    assertTrue(p.v.invept(2, 0));
    assertFlushes(before, p.v, 1, 0, 0);

    Nested t = new Nested(NestedPaging.EPT, MmuSwitches.DEFAULT, VcpuInvGuest.nestedTlbOnly());
    assertEquals(PLAIN + H, t.v.translate(PLAIN, Access.READ));
    before = flushes(t.v);
    assertTrue(t.v.invept(1, t.v.eptp()));
    assertFlushes(before, t.v, 1, 0, 0);
    before = flushes(t.v);
    assertTrue(t.v.invept(1, t.v.eptp()));
    assertFlushes(before, t.v, 0, 0, 1);
  }

  @Test
  void inveptShouldEmptyTheEntryCache() {
    // A large entry cache, so that the nested walks after INVEPT evict nothing from it.
    Nested n = new Nested(NestedPaging.EPT, VcpuInvGuest.entryCache(MmuSwitches.DEFAULT),
        VcpuInvGuest.bigEntryCache());
    n.fill();
    n.movePageTable();
    assertTrue(n.v.invept(1, n.v.eptp()));
    assertFalse(n.stale());
  }

  @Test
  void overFlushingInveptShouldEmptyEverything() {
    Nested n = ept(MmuSwitches.EMULATOR);
    n.fillAndRemap();
    assertTrue(n.v.invept(1, n.v.eptp() + 0x1000), "another EP4TA");
    assertFalse(n.kept(PLAIN));
    assertFalse(n.kept(GLOBAL));
    assertFalse(n.v.invept(0, 0));
  }

  // ---- VM entries and exits ---------------------------------------------------------------------

  @Test
  void vmEntryWithoutVpidShouldRemoveVpidZerosTranslations() {
    Nested n = ept(MmuSwitches.DEFAULT);
    n.vpid(0);
    n.fillAndRemap();
    n.v.vmEntry();
    assertFalse(n.kept(PLAIN));
    assertFalse(n.kept(GLOBAL));
  }

  @Test
  void overFlushingVmEntriesAndExitsShouldEmptyEverything() {
    Nested n = ept(MmuSwitches.EMULATOR);
    n.fillAndRemap();
    n.v.vmEntry();
    assertFalse(n.kept(PLAIN), "even with a VPID");
    assertFalse(n.kept(GLOBAL));

    Nested x = ept(MmuSwitches.EMULATOR);
    x.fillAndRemap();
    long exits = x.v.counters().vmExits();
    x.v.vmExit();
    assertEquals(exits + 1, x.v.counters().vmExits());
    assertFalse(x.kept(PLAIN));
    assertFalse(x.kept(GLOBAL));

    Nested d = ept(MmuSwitches.DEFAULT);
    d.fillAndRemap();
    d.v.vmEntry();
    d.v.vmExit();
    assertTrue(d.kept(PLAIN), "with a VPID and strict retention nothing goes");
  }

  // ---- AMD's flush of one ASID ------------------------------------------------------------------

  @Test
  void flushGuestShouldCountEachKindOfCache() {
    Nested p = new Nested(NestedPaging.NPT, MmuSwitches.DEFAULT, VcpuInvGuest.pscOnly());
    assertEquals(PLAIN + H, p.v.translate(PLAIN, Access.READ));
    long[] before = flushes(p.v);
    p.v.flushGuest();
    assertFlushes(before, p.v, 1, 0, 0);

    Nested t = new Nested(NestedPaging.NPT, MmuSwitches.DEFAULT, VcpuInvGuest.nestedTlbOnly());
    assertEquals(PLAIN + H, t.v.translate(PLAIN, Access.READ));
    before = flushes(t.v);
    t.v.flushGuest();
    assertFlushes(before, t.v, 1, 0, 0);

    before = flushes(t.v);
    t.v.flushAll();
    assertFlushes(before, t.v, 0, 0, 1);
    assertEquals(PLAIN + H, t.v.translate(PLAIN, Access.READ));
    before = flushes(t.v);
    t.v.flushAll();
    assertFlushes(before, t.v, 1, 0, 0);
  }

  @Test
  void flushGuestShouldEmptyThePageWalkCache() {
    Nested n = new Nested(NestedPaging.NPT, MmuSwitches.AMD, VcpuInvGuest.bigEntryCache());
    n.fill();
    n.movePageTable();
    n.v.flushGuest();
    assertFalse(n.stale());
    Nested control = new Nested(NestedPaging.NPT, MmuSwitches.AMD, VcpuInvGuest.bigEntryCache());
    control.fill();
    control.movePageTable();
    assertTrue(control.stale());
  }

  @Test
  void overFlushingFlushGuestShouldEmptyEveryAsid() {
    Nested n = new Nested(NestedPaging.NPT,
        MmuSwitches.AMD.withTlbMode(MmuSwitches.TlbMode.OVER_FLUSH));
    n.fillAndRemap();
    n.vpid(2);
    n.v.flushGuest();
    n.vpid(1);
    assertFalse(n.kept(PLAIN));
    assertFalse(n.kept(GLOBAL));

    Nested s = new Nested(NestedPaging.NPT, MmuSwitches.AMD);
    s.fillAndRemap();
    s.vpid(2);
    s.v.flushGuest();
    s.vpid(1);
    assertTrue(s.kept(PLAIN), "strictly, another ASID's flush leaves ASID 1");
  }

  // ---- more INVVPID and INVLPG ------------------------------------------------------------------

  @Test
  void invvpidType1ShouldRemoveTheVpidsTranslations() {
    Nested n = ept(MmuSwitches.DEFAULT);
    n.fillAndRemap();
    assertTrue(n.v.invvpid(1, 1, 0));
    assertFalse(n.kept(PLAIN));
    assertFalse(n.kept(GLOBAL), "global ones too");
  }

  @Test
  void invlpgShouldRemoveTheAddressForTheCurrentVpidOnly() {
    // SDM vol. 3C §28.3.3.1: INVLPG invalidates mappings of the current VPID.
    Nested n = ept(MmuSwitches.DEFAULT);
    n.fill(); // VPID 1
    n.vpid(0);
    n.fillAndRemap(); // VPID 0
    n.v.invlpg(PLAIN);
    assertFalse(n.kept(PLAIN));
    n.vpid(1);
    assertTrue(n.kept(PLAIN), "VPID 1's translation stays");
  }

  @Test
  void invvpidShouldCheckCanonicalityWithTheGuestsLinearWidth() {
    // INVVPID type 0 fails for a non-canonical address: 48 bits, 57 with CR4.LA57 = 1.
    Nested n = ept(MmuSwitches.DEFAULT);
    long high57 = 0x0000_8000_0000_0000L; // canonical only with 57 bits
    assertFalse(n.v.invvpid(0, 1, high57));
    assertTrue(n.v.invvpid(0, 1, 0xFFFF_8000_0000_0000L));
    assertTrue(n.v.invvpid(0, 1, 0x0000_7FFF_FFFF_F000L));
    assertEquals(0, n.v.loadState(CR0, n.root, VcpuInvGuest.PAE | ControlRegisters.CR4_LA57,
        EFER));
    assertEquals(PagingMode.LONG_5, n.v.pagingMode());
    assertTrue(n.v.invvpid(0, 1, high57));
    assertTrue(n.v.invvpid(0, 1, 0xFF00_0000_0000_0000L));
    assertFalse(n.v.invvpid(0, 1, 0x0100_0000_0000_0000L));
  }

  /**
   * PCID 1 caches a global translation (the TLB's global context and PCID 1's paging-structure
   * caches become non-empty); then PCID 0's MOV to CR4 setting SMEP removes the global
   * translation: afterwards only PCID 1's paging-structure-cache entries are left.
   */
  private static void onlyPagingStructureCachesLeft(Vcpu v, long root) {
    assertEquals(GLOBAL + H, v.translate(GLOBAL, Access.READ));
    assertEquals(0, v.writeCr3(root));
    assertEquals(0, v.writeCr4(VcpuInvGuest.PAE | VcpuInvGuest.PGE | VcpuInvGuest.PCIDE
        | ControlRegisters.CR4_SMEP));
  }

  @Test
  void inveptShouldCountPagingStructureCacheEntriesAlone() {
    Nested n = new Nested(NestedPaging.EPT, MmuSwitches.DEFAULT,
        VcpuInvGuest.withoutNestedCaches());
    assertEquals(0, n.v.loadState(CR0, n.root | 1,
        VcpuInvGuest.PAE | VcpuInvGuest.PGE | VcpuInvGuest.PCIDE, EFER));
    onlyPagingStructureCachesLeft(n.v, n.root);
    long[] before = flushes(n.v);
    assertTrue(n.v.invept(1, n.v.eptp()));
    assertFlushes(before, n.v, 1, 0, 0);
  }

  @Test
  void flushesShouldCountPagingStructureCacheEntriesAlone() {
    for (int op = 0; op < 2; op++) {
      Nested n = new Nested(NestedPaging.EPT, MmuSwitches.DEFAULT,
          VcpuInvGuest.withoutNestedCaches());
      assertEquals(0, n.v.loadState(CR0, n.root | 1,
          VcpuInvGuest.PAE | VcpuInvGuest.PGE | VcpuInvGuest.PCIDE, EFER));
      onlyPagingStructureCachesLeft(n.v, n.root);
      long[] before = flushes(n.v);
      if (op == 0) {
        n.v.flushAll();
      } else {
        n.v.flushGuest();
      }
      assertFlushes(before, n.v, 1, 0, 0);
    }
  }
}
