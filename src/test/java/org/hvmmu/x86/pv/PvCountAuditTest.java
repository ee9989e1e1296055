package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.pv.TreeFixture.DATA;
import static org.hvmmu.x86.pv.TreeFixture.L1;
import static org.hvmmu.x86.pv.TreeFixture.L1B;
import static org.hvmmu.x86.pv.TreeFixture.L2;
import static org.hvmmu.x86.pv.TreeFixture.L4;
import static org.hvmmu.x86.pv.TreeFixture.pde;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.x86.Pte;
import org.junit.jupiter.api.Test;

/**
 * {@link PvMmu#countViolations}, the recount behind every count assertion, made to find what it
 * exists to find: references taken or entries stored behind the MMU's back. Each case breaks one
 * count of a consistent tree through the frame table directly, and the expected report is worked
 * by hand from Xen's counting rules (a live L1 entry holds a general reference, and a writable type
 * reference if R/W maps a non-translated domain's frame; an L2 to L4 entry a general and a type
 * reference of the level below; a pin and a vCPU's base one of each; {@code linear_pt_count} is
 * linear entries minus linear uses; the {@code PGT_pae_xen_l2} L2 sits, unpinned, in slot 3 of
 * one compat L3).
 */
class PvCountAuditTest {
  /** The tree of {@link TreeFixture}, pinned by its L4 and installed as vCPU 0's base. */
  private static TreeFixture pinnedTree(PvSwitches switches) {
    TreeFixture t = new TreeFixture(switches).write();
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    assertEquals(0x140000, t.mmu.newGuestCr3(t.v0, L4));
    assertEquals(List.of(), t.mmu.countViolations());
    return t;
  }

  private static List<String> audit(PvMmu mmu, ReferenceHolders holders) {
    List<String> seen = new ArrayList<>();
    mmu.forEachCountMismatch(holders, (mfn, message) -> {
      assertEquals("mfn 0x" + Long.toHexString(mfn) + ": ",
          message.substring(0, message.indexOf(": ") + 2), "the message starts with its frame");
      seen.add(message);
    });
    assertEquals(seen, mmu.countViolations(holders));
    return seen;
  }

  /** The report of {@code mmu} with no holders is exactly {@code expected}, in order. */
  private static void assertReport(PvMmu mmu, String... expected) {
    assertEquals(List.of(expected), audit(mmu, ReferenceHolders.NONE));
  }

  @Test
  void strayGeneralAndTypeReferencesAreReported() {
    TreeFixture t = pinnedTree(PvSwitches.HARDENED);
    // DATA: its allocation and L1's writable entry, so 2 general and 1 writable type reference.
    assertEquals(2, t.frames.generalCount(DATA));
    assertTrue(t.frames.getPage(DATA, 1));
    assertReport(t.mmu, "mfn 0x150: general count 3, expected 2");
    t.frames.putPage(DATA);
    assertEquals(0, t.frames.getPageType(DATA, PageType.WRITABLE_PAGE));
    assertReport(t.mmu, "mfn 0x150: WRITABLE_PAGE count 2, expected 1");
    // L4: allocation, pin and v0's base: 3 general, 2 type references.
    t.frames.putPageType(DATA);
    assertEquals(3, t.frames.generalCount(L4));
    assertEquals(2, t.frames.typeCount(L4));
    t.frames.putPage(L4);
    assertReport(t.mmu, "mfn 0x140: general count 2, expected 3");
  }

  @Test
  void entriesStoredBehindTheMmuAreReported() {
    TreeFixture t = pinnedTree(PvSwitches.HARDENED);
    // An L2 entry naming a writable page: it would hold a general and an L1 type reference.
    t.frames.storeEntry(L2, 5, pde(DATA));
    // An L2 entry naming a frame without a frame-table entry.
    t.frames.storeEntry(L2, 6, pde(0x1000));
    assertReport(t.mmu, "mfn 0x142: L2_PAGE_TABLE slot 5 names 0x150 typed WRITABLE_PAGE",
        "mfn 0x142: L2_PAGE_TABLE slot 6 names invalid frame 0x1000",
        "mfn 0x150: general count 2, expected 3",
        "mfn 0x150: WRITABLE_PAGE count 1, expected 2");
  }

  @Test
  void aWritableMappingOfATableIsReported() {
    TreeFixture t = pinnedTree(PvSwitches.HARDENED);
    // L1 maps L1B writable: one more general reference and a writable type it cannot have.
    t.frames.storeEntry(L1, 5, Pte.fromMfn(L1B, PAGE_PRESENT | PAGE_RW));
    assertReport(t.mmu, "mfn 0x144: general count 2, expected 3",
        "mfn 0x144: L1_PAGE_TABLE count 1, expected 2",
        "mfn 0x144: mapped writable 1 times but typed L1_PAGE_TABLE");
  }

  @Test
  void mappingsOutsideTheTablesCountThroughTheirHolders() {
    TreeFixture t = pinnedTree(PvSwitches.HARDENED);
    // A holder's writable entry of domU's own frame: a general and a writable type reference; of
    // an HVM (translated) domain's frame: a general reference only; MMIO and absent: none.
    ReferenceHolders holders = visitor -> {
      visitor.entry(t.domU, Pte.fromMfn(0x160, PAGE_PRESENT | PAGE_RW));
      visitor.entry(t.domU, Pte.fromMfn(0x300, PAGE_PRESENT | PAGE_RW));
      visitor.entry(t.domU, Pte.fromMfn(PvFixture.RW_ABOVE, PAGE_PRESENT | PAGE_RW));
      visitor.entry(t.domU, Pte.fromMfn(PvFixture.RW_IN_TABLE, PAGE_PRESENT | PAGE_RW));
      visitor.entry(t.domU, Pte.fromMfn(0x161, PAGE_RW));
    };
    assertEquals(List.of("mfn 0x160: general count 1, expected 2",
        "mfn 0x160: NONE count 0, expected 1",
        "mfn 0x160: mapped writable 1 times but typed NONE",
        "mfn 0x300: general count 1, expected 2"), audit(t.mmu, holders));
  }

  @Test
  void basesThatAreNoL4TablesAreReported() {
    TreeFixture t = pinnedTree(PvSwitches.HARDENED);
    t.v1.setBaseptr(DATA);
    t.v2.setBaseptr(0x1000);
    assertReport(t.mmu, "mfn 0x150: base of d1 (PV64) vcpu 1 is not an L4 table",
        "mfn 0x1000: base of d1 (PV64) vcpu 2 is not an L4 table");
  }

  @Test
  void linearCountsAreAuditedUnderSingleLevelOnly() {
    TreeFixture t = pinnedTree(PvSwitches.HARDENED);
    t.frames.incLinearEntries(L2);
    assertReport(t.mmu, "mfn 0x142: linear_pt_count 1, expected 0 (0 linear entries, 0 uses)");
    // The seed keeps no linear_pt_count (UNRESTRICTED): the same count is not looked at.
    TreeFixture seed = pinnedTree(PvSwitches.SEED_2010);
    seed.frames.incLinearEntries(L2);
    assertReport(seed.mmu);
  }

  @Test
  void aLiveTableWithoutAnOwnerOfThisMmuIsReported() {
    TreeFixture t = pinnedTree(PvSwitches.HARDENED);
    // A compat L4 no vCPU holds: Xen's frame, one type reference nobody accounts for.
    t.frames.setUpCompatL4(0x500);
    assertReport(t.mmu,
        "mfn 0x500: live L4_PAGE_TABLE owned by DOMID_XEN, no domain or vCPU of this MMU",
        "mfn 0x500: L4_PAGE_TABLE count 1, expected 0");
  }

  @Test
  void thePaeXenL2FlagOnAPinnedTableIsReported() {
    TreeFixture t = pinnedTree(PvSwitches.HARDENED);
    assertEquals(0, t.frames.getPageType(0x160, PageType.L2_PAGE_TABLE, true));
    t.frames.testAndSetPinned(0x160);
    // type_info: L2 (2 << 61) | pinned (1 << 60) | validated (1 << 59) | pae_xen_l2 (1 << 58) | 1.
    assertReport(t.mmu, "mfn 0x160: general count 1, expected 2",
        "mfn 0x160: PGT_pae_xen_l2 on type_info 0x5c00000000000001"
            + " (expected: an unpinned L2 in use)");
  }

  @Test
  void compatL3SlotsAreAudited() {
    CompatFixture c = new CompatFixture(PvSwitches.HARDENED).write();
    assertEquals(0, c.mmu.pinTable(c.pae, CompatFixture.L3, PageType.L3_PAGE_TABLE));
    assertReport(c.mmu);
    // Slot 4 does not translate: Xen cleared it when it validated the L3.
    long stray = CompatFixture.pdpte(CompatFixture.DATA0);
    c.frames.storeEntry(CompatFixture.L3, 4, stray);
    assertReport(c.mmu, "mfn 0x440: L3_PAGE_TABLE slot 4 holds " + Pte.toHex(stray)
        + " (expected: cleared)");
    c.frames.storeEntry(CompatFixture.L3, 4, 0);
    // Slot 3 names slot 2's L2, which has no PGT_pae_xen_l2; the flagged L2 is held by nothing.
    long slot3 = c.frames.readEntry(CompatFixture.L3, 3);
    c.frames.storeEntry(CompatFixture.L3, 3, CompatFixture.adjusted(CompatFixture.L2_2));
    assertReport(c.mmu, "mfn 0x443: general count 2, expected 3",
        "mfn 0x443: L2_PAGE_TABLE count 1, expected 2",
        "mfn 0x443: named by slot 3 of 1 L3 tables with PGT_pae_xen_l2 clear (expected: one, set)",
        "mfn 0x444: general count 2, expected 1",
        "mfn 0x444: L2_PAGE_TABLE count 1, expected 0");
    // Slot 3 empty.
    c.frames.storeEntry(CompatFixture.L3, 3, 0);
    assertReport(c.mmu, "mfn 0x440: L3_PAGE_TABLE slot 3 holds 0000000000000000"
            + " (expected: the PAE L2 with Xen's slots)",
        "mfn 0x444: general count 2, expected 1",
        "mfn 0x444: L2_PAGE_TABLE count 1, expected 0");
    c.frames.storeEntry(CompatFixture.L3, 3, slot3);
    assertReport(c.mmu);
  }
}
