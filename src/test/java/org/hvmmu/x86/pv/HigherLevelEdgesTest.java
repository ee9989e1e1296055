package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_PCD;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.hvmmu.x86.pv.TreeFixture.L1;
import static org.hvmmu.x86.pv.TreeFixture.L2;
import static org.hvmmu.x86.pv.TreeFixture.L3;
import static org.hvmmu.x86.pv.TreeFixture.L4;
import static org.hvmmu.x86.pv.TreeFixture.ro;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.Pte;
import org.hvmmu.xen.Errno;
import org.hvmmu.xen.HypervisorBugException;
import org.junit.jupiter.api.Test;

/**
 * {@link HigherLevelTables} called directly where {@link PvMmu} never calls it wrongly: Xen 4.22's
 * {@code is_guest_l4_slot} ({@code asm/x86_64/page.h}), {@code adjust_guest_l3e} / {@code
 * unadjust_guest_l3e} / {@code adjust_guest_l4e} ({@code pv/mm.h}), the linear-table rule's undo
 * ({@code get_lN_linear_pagetable} in {@code mm.c}), {@code pae_xen_mappings_check}'s {@code
 * BUG_ON}s, and the adjustment {@code promote_lN_table} stores.
 */
class HigherLevelEdgesTest {
  private static final int P = PAGE_PRESENT;

  @Test
  void guestL4SlotsAreXensLayout() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    // 64-bit: all but ROOT_PAGETABLE_FIRST_XEN_SLOT (256) to ROOT_PAGETABLE_LAST_XEN_SLOT (271).
    assertTrue(HigherLevelTables.isGuestL4Slot(f.domU, 255));
    assertFalse(HigherLevelTables.isGuestL4Slot(f.domU, 256));
    assertFalse(HigherLevelTables.isGuestL4Slot(f.domU, 271));
    assertTrue(HigherLevelTables.isGuestL4Slot(f.domU, 272));
    // 32-on-64: slot 0 only.
    assertTrue(HigherLevelTables.isGuestL4Slot(f.pae, 0));
    assertFalse(HigherLevelTables.isGuestL4Slot(f.pae, 1));
    assertFalse(HigherLevelTables.isGuestL4Slot(f.pae, 272));
  }

  @Test
  void higherEntriesAreAdjustedAsPvMmHSays() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    long e = Pte.fromMfn(0x120, P);
    long absent = 0x0BAD_0000L;
    // adjust_guest_l4e: A, and U/S unless 32-on-64; non-present entries as they are.
    assertEquals(Pte.fromMfn(0x120, P | PAGE_ACCESSED | PAGE_USER),
        HigherLevelTables.adjustGuestL4e(e, f.domU));
    assertEquals(Pte.fromMfn(0x120, P | PAGE_ACCESSED), HigherLevelTables.adjustGuestL4e(e, f.pae));
    assertEquals(absent, HigherLevelTables.adjustGuestL4e(absent, f.domU));
    // adjust_guest_l3e: U/S, and R/W too for 32-on-64.
    assertEquals(Pte.fromMfn(0x120, P | PAGE_USER), HigherLevelTables.adjustGuestL3e(e, f.domU));
    assertEquals(Pte.fromMfn(0x120, P | PAGE_USER | PAGE_RW),
        HigherLevelTables.adjustGuestL3e(e, f.pae));
    assertEquals(absent, HigherLevelTables.adjustGuestL3e(absent, f.pae));
    // unadjust_guest_l3e: 32-on-64 only, U/S, R/W and A off.
    long full = Pte.fromMfn(0x120, P | PAGE_USER | PAGE_RW | PAGE_ACCESSED);
    assertEquals(e, HigherLevelTables.unadjustGuestL3e(full, f.pae));
    assertEquals(full, HigherLevelTables.unadjustGuestL3e(full, f.domU));
    // adjust_guest_l2e: U/S for 64-bit guests only.
    assertEquals(Pte.fromMfn(0x120, P | PAGE_USER), HigherLevelTables.adjustGuestL2e(e, f.domU));
    assertEquals(e, HigherLevelTables.adjustGuestL2e(e, f.pae));
  }

  @Test
  void promotionStoresTheAdjustedEntries() {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED);
    // The guest writes its entries with P and R/W only.
    t.mmu.writeGuestEntry(t.domU, L4, 0, Pte.fromMfn(L3, P | PAGE_RW));
    t.mmu.writeGuestEntry(t.domU, L3, 1, Pte.fromMfn(L2, P | PAGE_RW));
    t.mmu.writeGuestEntry(t.domU, L2, 2, Pte.fromMfn(L1, P | PAGE_RW));
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    assertEquals(Pte.fromMfn(L3, P | PAGE_RW | PAGE_USER | PAGE_ACCESSED),
        t.mmu.readEntry(L4, 0));
    assertEquals(Pte.fromMfn(L2, P | PAGE_RW | PAGE_USER), t.mmu.readEntry(L3, 1));
    assertEquals(Pte.fromMfn(L1, P | PAGE_RW | PAGE_USER), t.mmu.readEntry(L2, 2));
  }

  @Test
  void aRefusedLinearEntryGivesEveryCountBack() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    HigherLevelTables single = new HigherLevelTables(f.frames, CpuFeatures.ALL,
        PvSwitches.HARDENED);
    assertEquals(0, f.mmu.pinTable(f.domU, 0x160, PageType.L3_PAGE_TABLE));
    // 0x151 is a writable page in use: it takes the linear counts, then is found no L3 table.
    assertEquals(0, f.frames.getPageType(0x151, PageType.WRITABLE_PAGE));
    long general = f.frames.generalCount(0x151);
    assertFalse(single.getL3LinearPagetable(ro(0x151), 0x160, f.domU));
    assertEquals(0, f.frames.linearPtCount(0x160));
    assertEquals(0, f.frames.linearPtCount(0x151));
    assertTrue(single.getL3LinearPagetable(ro(0x160), 0x160, f.domU), "a self-map");
    assertEquals(general, f.frames.generalCount(0x151));
    assertEquals(1, f.frames.typeCount(0x151));
    // Under SINGLE_LEVEL the entry's table must be the domain's own; the seed does not ask.
    assertEquals(0, f.mmu.pinTable(f.domU, 0x161, PageType.L2_PAGE_TABLE));
    assertFalse(single.getL2LinearPagetable(ro(0x161), 0x200, f.domU));
    HigherLevelTables seed = new HigherLevelTables(f.frames, CpuFeatures.ALL,
        PvSwitches.SEED_2010);
    assertTrue(seed.getL2LinearPagetable(ro(0x161), 0x200, f.domU));
    assertEquals(2, f.frames.typeCount(0x161), "the pin's and the linear entry's");
    // A self-map is free; an L4 linear entry names a validated L4.
    assertTrue(single.getL4LinearPagetable(ro(0x170), 0x170, f.domU));
    assertFalse(single.getL4LinearPagetable(ro(0x171), 0x170, f.domU), "0x171 is no L4");
    assertEquals(0, f.frames.linearPtCount(0x170));
  }

  @Test
  void theEntryGettersCheckFlagsAndTypes() {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED).write();
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    HigherLevelTables h = new HigherLevelTables(t.frames, CpuFeatures.ALL, PvSwitches.HARDENED);
    long l1Types = t.frames.typeCount(L1);
    assertEquals(0, h.getPageFromL2e(TreeFixture.pde(L1), L2, t.domU));
    assertEquals(l1Types + 1, t.frames.typeCount(L1));
    assertEquals(-Errno.EINVAL, h.getPageFromL2e(TreeFixture.pde(L1) | PAGE_PCD, L2, t.domU));
    assertEquals(0, h.getPageFromL3e(TreeFixture.pde(L2), L3, t.domU));
    assertEquals(-Errno.EINVAL, h.getPageFromL3e(TreeFixture.pde(L2) | PAGE_PCD, L3, t.domU));
    assertEquals(0, h.getPageFromL4e(TreeFixture.pde(L3), L4, t.domU));
    assertEquals(-Errno.EINVAL, h.getPageFromL4e(TreeFixture.pde(L1), L4, t.domU),
        "an L1 is no L3, and R/W rules out a linear entry");
  }

  @Test
  void paeXenMappingsCheckHasXensBugOns() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    HigherLevelTables h = new HigherLevelTables(f.frames, CpuFeatures.ALL, PvSwitches.HARDENED);
    // Not typed PGT_pae_xen_l2 / not in use: BUG_ON.
    assertThrows(HypervisorBugException.class, () -> h.paeXenMappingsCheck(f.pae, 0x460));
    assertEquals(0, f.frames.getPageType(0x460, PageType.L2_PAGE_TABLE));
    assertThrows(HypervisorBugException.class, () -> h.paeXenMappingsCheck(f.pae, 0x460));
    assertEquals(0, f.frames.getPageType(0x461, PageType.L2_PAGE_TABLE, true));
    assertTrue(h.paeXenMappingsCheck(f.pae, 0x461), "one type reference: slot 3's");
    assertEquals(0, f.frames.getPageType(0x461, PageType.L2_PAGE_TABLE, true));
    assertFalse(h.paeXenMappingsCheck(f.pae, 0x461), "shared");
    assertTrue(f.frames.testAndSetPinned(0x461));
    assertThrows(HypervisorBugException.class, () -> h.paeXenMappingsCheck(f.pae, 0x461));
  }

  @Test
  void onlyPvDomainsHaveTablesAndTeardownsHaveADepthBound() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    HigherLevelTables h = new HigherLevelTables(f.frames, CpuFeatures.ALL, PvSwitches.HARDENED);
    assertThrows(HypervisorBugException.class, () -> h.modL2Entry(f.hvm, 0x310, 0, 0, false));
    assertThrows(HypervisorBugException.class, () -> h.allocL2Table(0x800, f.mmu.domIo()));
    HigherLevelTables.checkTeardownDepth(0x100, HigherLevelTables.MAX_TEARDOWN_DEPTH);
    assertThrows(HypervisorBugException.class, () -> HigherLevelTables.checkTeardownDepth(0x100,
        HigherLevelTables.MAX_TEARDOWN_DEPTH + 1));
  }
}
