package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_AVAIL;
import static org.hvmmu.x86.PteFlags.PAGE_DIRTY;
import static org.hvmmu.x86.PteFlags.PAGE_GLOBAL;
import static org.hvmmu.x86.PteFlags.PAGE_NX_BIT;
import static org.hvmmu.x86.PteFlags.PAGE_PCD;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_PSE;
import static org.hvmmu.x86.PteFlags.PAGE_PWT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.hvmmu.x86.pv.CompatFixture.pde;
import static org.hvmmu.x86.pv.CompatFixture.pdpte;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.hvmmu.x86.Pte;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A 32-on-64 guest's PAE L3 and L2 entries table by table: every kind of entry, through {@code
 * mod_l3_entry} / {@code mod_l2_entry} on a validated table and through {@code alloc_l3_table} /
 * {@code alloc_l2_table} when a frame holding it is pinned (and, for L2, validated as the {@code
 * PGT_pae_xen_l2} L2 of an L3), under the seed's and the hardened switches, with Xen's errno; a
 * reject changes no count and no entry. The expected values are read from Xen's {@code mm.c}
 * ({@code COMPAT_L3_DISALLOW_MASK} 0xFFFFF198, {@code is_guest_l2_slot} with {@code
 * HYPERVISOR_COMPAT_VIRT_START} 0xF5800000, XSA-185's refusal of linear L3 entries).
 */
class CompatTablesTest {
  private static final int EINVAL = -Errno.EINVAL;
  private static final int EBUSY = -Errno.EBUSY;
  private static final int EPERM = -Errno.EPERM;

  /** The frames of pae (d4) each case refers to. */
  static final class Env {
    /** A pinned L3 whose slot 3 names {@link #PARENT_PAE}. */
    static final long PARENT = 0x460;
    static final long PARENT_PAE = 0x461;
    /** A pinned, ordinary L2. */
    static final long LOWER_L2 = 0x462;
    static final long FRESH = 0x463;
    /** Another pinned L3, whose slot 3 names {@link #SAME_PAE}. */
    static final long SAME = 0x464;
    static final long SAME_PAE = 0x465;
    /** A pinned L1 table. */
    static final long LOWER_L1 = 0x466;
    /** An unused frame pinned as an L3 or L2 by the alloc cases. */
    static final long PIN_TARGET = 0x467;
    static final long PIN_PAE = 0x468;
    /** A pinned ordinary L2 the L2 cases write into. */
    static final long PARENT_L2 = 0x469;
    /** Mapped writable by the pinned L1 0x471. */
    static final long WRITABLE_DATA = 0x470;
    /** An L1 mapping dom0's frame (fails with -EBUSY) and an L2 naming it. */
    static final long FAILING_L1 = 0x472;
    static final long FAILING_L2 = 0x473;
    static final long FOREIGN = 0x205;
    static final long INVALID = 0x100000;
    static final long MMIO = 0x802;

    final CompatFixture c;
    final PvMmu mmu;
    final Domain d;

    Env(PvSwitches switches) {
      c = new CompatFixture(switches);
      mmu = c.mmu;
      d = c.pae;
      mmu.writeGuestEntry(d, PARENT, 3, pdpte(PARENT_PAE));
      assertEquals(0, mmu.pinTable(d, PARENT, PageType.L3_PAGE_TABLE));
      assertEquals(0, mmu.pinTable(d, LOWER_L2, PageType.L2_PAGE_TABLE));
      mmu.writeGuestEntry(d, SAME, 3, pdpte(SAME_PAE));
      assertEquals(0, mmu.pinTable(d, SAME, PageType.L3_PAGE_TABLE));
      assertEquals(0, mmu.pinTable(d, LOWER_L1, PageType.L1_PAGE_TABLE));
      assertEquals(0, mmu.pinTable(d, PARENT_L2, PageType.L2_PAGE_TABLE));
      mmu.writeGuestEntry(d, 0x471, 0, Pte.fromMfn(WRITABLE_DATA, PAGE_PRESENT | PAGE_RW));
      assertEquals(0, mmu.pinTable(d, 0x471, PageType.L1_PAGE_TABLE));
      mmu.writeGuestEntry(d, FAILING_L1, 3, Pte.fromMfn(FOREIGN, PAGE_PRESENT));
      mmu.writeGuestEntry(d, FAILING_L2, 0, pde(FAILING_L1));
      assertTrue(c.frames.isPaeXenL2(PARENT_PAE));
      assertTrue(c.frames.isPaeXenL2(SAME_PAE));
      assertEquals(List.of(), mmu.countViolations());
    }
  }

  /** One row: a case, the entry it asks for (given the table it goes into), and the results. */
  record Row(String name, BiFunction<Env, Long, Long> entry, int seed, int hardened) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static Row row(String name, BiFunction<Env, Long, Long> entry, int seed, int hardened) {
    return new Row(name, entry, seed, hardened);
  }

  private static int expected(Row r, PvSwitches switches) {
    return switches == PvSwitches.SEED_2010 ? r.seed : r.hardened;
  }

  // ---- L3 slots 0 to 2 --------------------------------------------------------------------------

  private static final List<Row> L3_ROWS = List.of(
      row("validated ordinary L2", (e, self) -> pdpte(Env.LOWER_L2), 0, 0),
      row("fresh frame, validated as an L2 now", (e, self) -> pdpte(Env.FRESH), 0, 0),
      row("R/W, U/S and A already set",
          (e, self) -> Pte.fromMfn(Env.LOWER_L2, PAGE_PRESENT | PAGE_RW | PAGE_USER
              | PAGE_ACCESSED), 0, 0),
      row("D and software bits 11:9 allowed",
          (e, self) -> Pte.fromMfn(Env.LOWER_L2, PAGE_PRESENT | PAGE_DIRTY | PAGE_AVAIL), 0, 0),
      row("not present, whatever it holds", (e, self) -> 0x0000_0bad_0000_0f9eL, 0, 0),
      row("PWT disallowed", (e, self) -> pdpte(Env.LOWER_L2) | PAGE_PWT, EINVAL, EINVAL),
      row("PCD disallowed", (e, self) -> pdpte(Env.LOWER_L2) | PAGE_PCD, EINVAL, EINVAL),
      row("PSE disallowed: no 1 GiB pages", (e, self) -> pdpte(Env.LOWER_L2) | PAGE_PSE, EINVAL,
          EINVAL),
      row("G disallowed", (e, self) -> pdpte(Env.LOWER_L2) | PAGE_GLOBAL, EINVAL, EINVAL),
      row("NX disallowed (bit 63 is in the compat mask)",
          (e, self) -> Pte.fromMfn(Env.LOWER_L2, PAGE_PRESENT | PAGE_NX_BIT), EINVAL, EINVAL),
      row("software bit 52 disallowed", (e, self) -> pdpte(Env.LOWER_L2) | 1L << 52, EINVAL,
          EINVAL),
      row("another domain's frame", (e, self) -> pdpte(Env.FOREIGN), EINVAL, EINVAL),
      row("frame without a frame-table entry", (e, self) -> pdpte(Env.INVALID), EINVAL, EINVAL),
      row("MMIO frame owned by dom_io", (e, self) -> pdpte(Env.MMIO), EINVAL, EINVAL),
      row("data frame mapped writable", (e, self) -> pdpte(Env.WRITABLE_DATA), EINVAL, EINVAL),
      row("an L1 table", (e, self) -> pdpte(Env.LOWER_L1), EINVAL, EINVAL),
      row("the PAE L2 of another L3", (e, self) -> pdpte(Env.SAME_PAE), EINVAL, EINVAL),
      row("frame that fails validation below", (e, self) -> pdpte(Env.FAILING_L2), EBUSY, EBUSY),
      row("linear: another L3, read-only (XSA-185)", (e, self) -> pdpte(Env.SAME), 0, EINVAL),
      row("linear: another L3, writable",
          (e, self) -> Pte.fromMfn(Env.SAME, PAGE_PRESENT | PAGE_RW), EINVAL, EINVAL),
      row("self-map, read-only (XSA-185)", (e, self) -> pdpte(self), 0, EINVAL),
      row("self-map, writable", (e, self) -> Pte.fromMfn(self, PAGE_PRESENT | PAGE_RW), EINVAL,
          EINVAL));

  static Stream<Arguments> l3Rows() {
    return L3_ROWS.stream().map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("l3Rows")
  void modL3EntryShouldAcceptOrRefuseWithXensErrno(Row r) {
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED)) {
      Env e = new Env(switches);
      long entry = r.entry.apply(e, Env.PARENT);
      long[] before = e.c.f.counts();
      int rc = e.mmu.modL3Entry(e.d, Env.PARENT, 1, entry);
      assertEquals(expected(r, switches), rc, switches + ": " + r.name);
      if (rc != 0) {
        assertArrayEquals(before, e.c.f.counts(), "a reject takes nothing");
        assertEquals(0, e.mmu.readEntry(Env.PARENT, 1), "a reject stores nothing");
        continue;
      }
      // adjust_guest_l3e: U/S and R/W on a present entry.
      long stored = Pte.isPresent(entry) ? entry | PAGE_USER | PAGE_RW : entry;
      assertEquals(stored, e.mmu.readEntry(Env.PARENT, 1), r.name);
      assertEquals(List.of(), e.mmu.countViolations());
      assertEquals(0, e.mmu.modL3Entry(e.d, Env.PARENT, 1, 0));
      assertArrayEquals(before, e.c.f.counts(), r.name + ": removing the entry gives back all");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("l3Rows")
  void allocL3TableShouldAcceptOrRefuseWithXensErrno(Row r) {
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED)) {
      Env e = new Env(switches);
      long l3 = Env.PIN_TARGET;
      long entry = r.entry.apply(e, l3);
      // Slot 0 accepted before the case's slot 1, so that a reject must undo it; slot 3 fresh.
      long slot0 = Pte.fromMfn(Env.LOWER_L2, PAGE_PRESENT | PAGE_ACCESSED);
      e.mmu.writeGuestEntry(e.d, l3, 0, slot0);
      e.mmu.writeGuestEntry(e.d, l3, 1, entry);
      e.mmu.writeGuestEntry(e.d, l3, 3, pdpte(Env.PIN_PAE));
      long[] before = e.c.f.counts();
      int rc = e.mmu.pinTable(e.d, l3, PageType.L3_PAGE_TABLE);
      assertEquals(expected(r, switches), rc, switches + ": " + r.name);
      if (rc != 0) {
        assertArrayEquals(before, e.c.f.counts(), "a failed pin gives back every reference");
        assertEquals(0, e.c.frames.typeInfo(l3), "the half-made type goes");
        // unadjust_guest_l3e: the earlier entry loses U/S, R/W and A.
        assertEquals(pdpte(Env.LOWER_L2), e.mmu.readEntry(l3, 0));
        assertEquals(entry, e.mmu.readEntry(l3, 1), "the refused entry is as written");
        assertFalse(e.c.frames.isPaeXenL2(Env.PIN_PAE), "slot 3 was not reached");
        continue;
      }
      assertEquals(CompatFixture.adjusted(Env.LOWER_L2) | PAGE_ACCESSED, e.mmu.readEntry(l3, 0));
      assertTrue(e.c.frames.isPaeXenL2(Env.PIN_PAE));
      assertEquals(List.of(), e.mmu.countViolations());
      assertEquals(0, e.mmu.unpinTable(e.d, l3));
      assertArrayEquals(before, e.c.f.counts(), r.name + ": unpinning gives back all");
      // free_l3_table unadjusts what held a reference: A goes as well.
      assertEquals(pdpte(Env.LOWER_L2), e.mmu.readEntry(l3, 0));
      assertFalse(e.c.frames.isPaeXenL2(Env.PIN_PAE), "demote_l2_table clears the flag");
    }
  }

  // ---- L3 slot 3, and the slots that do not translate -------------------------------------------

  private static final List<Row> SLOT3_ROWS = List.of(
      row("fresh frame: becomes the PAE L2", (e, self) -> pdpte(Env.PIN_PAE), 0, 0),
      row("R/W, U/S and A already set",
          (e, self) -> Pte.fromMfn(Env.PIN_PAE, PAGE_PRESENT | PAGE_RW | PAGE_USER
              | PAGE_ACCESSED), 0, 0),
      row("an L2 no longer in use, retyped as the PAE L2", (e, self) -> {
        e.mmu.writeGuestEntry(e.d, 0x474, 0, pde(Env.LOWER_L1));
        assertEquals(0, e.mmu.pinTable(e.d, 0x474, PageType.L2_PAGE_TABLE));
        assertEquals(0, e.mmu.unpinTable(e.d, 0x474));
        return pdpte(0x474);
      }, 0, 0),
      row("empty", (e, self) -> 0L, EINVAL, EINVAL),
      row("not present, whatever it holds", (e, self) -> pdpte(Env.PIN_PAE) & ~1L, EINVAL,
          EINVAL),
      row("PCD disallowed", (e, self) -> pdpte(Env.PIN_PAE) | PAGE_PCD, EINVAL, EINVAL),
      row("NX disallowed", (e, self) -> pdpte(Env.PIN_PAE) | (long) PAGE_NX_BIT << 40, EINVAL,
          EINVAL),
      row("an ordinary L2 in use (pinned)", (e, self) -> pdpte(Env.LOWER_L2), EINVAL, EINVAL),
      row("the PAE L2 of another L3: shared", (e, self) -> pdpte(Env.SAME_PAE), EINVAL, EINVAL),
      row("an L1 table", (e, self) -> pdpte(Env.LOWER_L1), EINVAL, EINVAL),
      row("another domain's frame", (e, self) -> pdpte(Env.FOREIGN), EINVAL, EINVAL),
      row("frame without a frame-table entry", (e, self) -> pdpte(Env.INVALID), EINVAL, EINVAL),
      row("the L3 itself: never linear", (e, self) -> pdpte(self), EINVAL, EINVAL),
      row("another L3: never linear", (e, self) -> pdpte(Env.SAME), EINVAL, EINVAL),
      row("an L2 that fails validation below", (e, self) -> pdpte(Env.FAILING_L2), EBUSY, EBUSY));

  static Stream<Arguments> slot3Rows() {
    return SLOT3_ROWS.stream().map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("slot3Rows")
  void allocL3TableShouldRequireAnUnsharedPaeL2InSlot3(Row r) {
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED)) {
      Env e = new Env(switches);
      long l3 = Env.PIN_TARGET;
      long entry = r.entry.apply(e, l3);
      e.mmu.writeGuestEntry(e.d, l3, 0, pdpte(Env.LOWER_L2));
      e.mmu.writeGuestEntry(e.d, l3, 3, entry);
      long[] before = e.c.f.counts();
      int rc = e.mmu.pinTable(e.d, l3, PageType.L3_PAGE_TABLE);
      assertEquals(expected(r, switches), rc, switches + ": " + r.name);
      if (rc != 0) {
        assertArrayEquals(before, e.c.f.counts(),
            "a failed pin gives back every reference (today's Xen leaks a shared L2's)");
        assertEquals(pdpte(Env.LOWER_L2), e.mmu.readEntry(l3, 0));
        assertEquals(entry, e.mmu.readEntry(l3, 3));
        assertEquals(List.of(), e.mmu.countViolations());
        continue;
      }
      long l2 = Pte.getMfn(entry);
      assertTrue(e.c.frames.isPaeXenL2(l2));
      assertEquals(entry | PAGE_USER | PAGE_RW, e.mmu.readEntry(l3, 3));
      assertEquals(1, e.c.frames.typeCount(l2), "slot 3 alone holds it");
      assertEquals(List.of(), e.mmu.countViolations());
      assertEquals(0, e.mmu.unpinTable(e.d, l3));
      assertArrayEquals(before, e.c.f.counts(), r.name + ": unpinning gives back all");
      assertFalse(e.c.frames.isPaeXenL2(l2));
    }
  }

  @ParameterizedTest(name = "slot {0}")
  @ValueSource(ints = {3, 4, 5, 256, 511})
  void modL3EntryShouldRefuseSlot3AndTheSlotsThatDoNotTranslate(int slot) {
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED)) {
      Env e = new Env(switches);
      long old = e.mmu.readEntry(Env.PARENT, slot);
      long[] before = e.c.f.counts();
      assertEquals(EINVAL, e.mmu.modL3Entry(e.d, Env.PARENT, slot, pdpte(Env.LOWER_L2)));
      assertEquals(EINVAL, e.mmu.modL3Entry(e.d, Env.PARENT, slot, 0), "clearing too");
      assertEquals(EINVAL, e.mmu.modL3Entry(e.d, Env.PARENT, slot, old), "even the same value");
      assertEquals(EINVAL, e.mmu.mmuUpdate(e.d, Env.PARENT, slot, 0, e.d, false));
      assertArrayEquals(before, e.c.f.counts());
      assertEquals(old, e.mmu.readEntry(Env.PARENT, slot));
    }
  }

  @Test
  void allocL3TableShouldClearSlots4To511WhateverTheGuestLeftThere() {
    Env e = new Env(PvSwitches.HARDENED);
    long l3 = Env.PIN_TARGET;
    e.mmu.writeGuestEntry(e.d, l3, 3, pdpte(Env.PIN_PAE));
    // Entries that would fail (foreign, PCD) or hold references (an L2) if they were validated.
    e.mmu.writeGuestEntry(e.d, l3, 4, pdpte(Env.FOREIGN));
    e.mmu.writeGuestEntry(e.d, l3, 100, pdpte(Env.LOWER_L2) | PAGE_PCD);
    e.mmu.writeGuestEntry(e.d, l3, 511, pdpte(Env.LOWER_L2));
    long lowerCount = e.c.frames.generalCount(Env.LOWER_L2);
    assertEquals(0, e.mmu.pinTable(e.d, l3, PageType.L3_PAGE_TABLE));
    for (int slot = 4; slot < 512; slot++) {
      assertEquals(0, e.mmu.readEntry(l3, slot), "slot " + slot);
    }
    assertEquals(lowerCount, e.c.frames.generalCount(Env.LOWER_L2), "nothing taken for them");
    assertEquals(List.of(), e.mmu.countViolations());
    // Cleared in place even when the validation then fails (slot 3 empty).
    e.mmu.writeGuestEntry(e.d, 0x475, 7, pdpte(Env.FOREIGN));
    assertEquals(EINVAL, e.mmu.pinTable(e.d, 0x475, PageType.L3_PAGE_TABLE));
    assertEquals(0, e.mmu.readEntry(0x475, 7));
  }

  // ---- L2: ordinary and PAE ---------------------------------------------------------------------

  private static final List<Row> L2_ROWS = List.of(
      row("validated L1", (e, self) -> pde(Env.LOWER_L1), 0, 0),
      row("fresh frame, validated as an L1 now", (e, self) -> pde(Env.FRESH), 0, 0),
      row("supervisor-only: stored without U/S",
          (e, self) -> Pte.fromMfn(Env.LOWER_L1, PAGE_PRESENT | PAGE_RW), 0, 0),
      row("A, D, software bits and NX allowed",
          (e, self) -> Pte.fromMfn(Env.LOWER_L1, PAGE_PRESENT | PAGE_RW | PAGE_ACCESSED
              | PAGE_DIRTY | PAGE_AVAIL | PAGE_NX_BIT), 0, 0),
      row("not present, whatever it holds", (e, self) -> 0x0000_0bad_0000_0f9eL, 0, 0),
      row("PWT disallowed", (e, self) -> pde(Env.LOWER_L1) | PAGE_PWT, EINVAL, EINVAL),
      row("PCD disallowed", (e, self) -> pde(Env.LOWER_L1) | PAGE_PCD, EINVAL, EINVAL),
      row("PSE disallowed: no 2 MiB pages", (e, self) -> pde(Env.LOWER_L1) | PAGE_PSE, EINVAL,
          EINVAL),
      row("G disallowed", (e, self) -> pde(Env.LOWER_L1) | PAGE_GLOBAL, EINVAL, EINVAL),
      row("another domain's frame", (e, self) -> pde(Env.FOREIGN), EINVAL, EINVAL),
      row("frame without a frame-table entry", (e, self) -> pde(Env.INVALID), EINVAL, EINVAL),
      row("MMIO frame owned by dom_io", (e, self) -> pde(Env.MMIO), EINVAL, EINVAL),
      row("data frame mapped writable", (e, self) -> pde(Env.WRITABLE_DATA), EINVAL, EINVAL),
      row("an L3 table", (e, self) -> pde(Env.SAME), EINVAL, EINVAL),
      row("frame that fails validation below", (e, self) -> pde(Env.FAILING_L1), EBUSY, EBUSY),
      row("linear: an ordinary L2, read-only", (e, self) -> ro(Env.LOWER_L2), 0, 0),
      row("linear: another L3's PAE L2, read-only", (e, self) -> ro(Env.SAME_PAE), 0, 0),
      row("linear: writable", (e, self) -> pde(Env.LOWER_L2), EINVAL, EINVAL),
      row("self-map, read-only", (e, self) -> ro(self), 0, 0),
      row("self-map, writable", (e, self) -> pde(self), EINVAL, EINVAL));

  private static long ro(long mfn) {
    return Pte.fromMfn(mfn, PAGE_PRESENT | PAGE_USER | PAGE_ACCESSED);
  }

  /** Where an L2 entry goes: an ordinary L2, or a guest slot of the PAE L2 of an L3. */
  enum L2Kind {
    ORDINARY,
    PAE
  }

  static Stream<Arguments> l2Cases() {
    List<Arguments> out = new ArrayList<>();
    for (L2Kind kind : L2Kind.values()) {
      for (Row r : L2_ROWS) {
        out.add(Arguments.of(kind, r));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("l2Cases")
  void modL2EntryShouldAcceptOrRefuseWithXensErrno(L2Kind kind, Row r) {
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED)) {
      Env e = new Env(switches);
      long l2 = kind == L2Kind.ORDINARY ? Env.PARENT_L2 : Env.PARENT_PAE;
      long entry = r.entry.apply(e, l2);
      long[] before = e.c.f.counts();
      int rc = e.mmu.mmuUpdate(e.d, l2, 7, entry, e.d, false);
      assertEquals(expected(r, switches), rc, switches + ": " + r.name);
      if (rc != 0) {
        assertArrayEquals(before, e.c.f.counts(), "a reject takes nothing");
        assertEquals(0, e.mmu.readEntry(l2, 7), "a reject stores nothing");
        continue;
      }
      assertEquals(entry, e.mmu.readEntry(l2, 7), "compat L2 entries are stored as given");
      assertEquals(List.of(), e.mmu.countViolations());
      assertEquals(0, e.mmu.modL2Entry(e.d, l2, 7, 0));
      assertArrayEquals(before, e.c.f.counts(), r.name + ": removing the entry gives back all");
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("l2Cases")
  void allocL2TableShouldAcceptOrRefuseWithXensErrno(L2Kind kind, Row r) {
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED)) {
      Env e = new Env(switches);
      long l2 = Env.PIN_PAE;
      long entry = r.entry.apply(e, l2);
      e.mmu.writeGuestEntry(e.d, l2, 1, pde(Env.LOWER_L1));
      e.mmu.writeGuestEntry(e.d, l2, 7, entry);
      long pinned = l2;
      PageType type = PageType.L2_PAGE_TABLE;
      if (kind == L2Kind.PAE) {
        // Validated as slot 3 of a fresh L3: alloc_l3_table fails with the L2's errno.
        e.mmu.writeGuestEntry(e.d, Env.PIN_TARGET, 3, pdpte(l2));
        pinned = Env.PIN_TARGET;
        type = PageType.L3_PAGE_TABLE;
      }
      long[] before = e.c.f.counts();
      int rc = e.mmu.pinTable(e.d, pinned, type);
      assertEquals(expected(r, switches), rc, switches + ": " + r.name);
      if (rc != 0) {
        assertArrayEquals(before, e.c.f.counts(), "a failed pin gives back every reference");
        assertEquals(0, e.c.frames.typeInfo(l2), "the half-made type (and flag) goes");
        continue;
      }
      assertEquals(kind == L2Kind.PAE, e.c.frames.isPaeXenL2(l2));
      assertEquals(entry, e.mmu.readEntry(l2, 7), "stored as given");
      assertEquals(List.of(), e.mmu.countViolations());
      assertEquals(0, e.mmu.unpinTable(e.d, pinned));
      assertArrayEquals(before, e.c.f.counts(), r.name + ": unpinning gives back all");
    }
  }

  @ParameterizedTest(name = "slot {0}")
  @ValueSource(ints = {0, 426, 427, 428, 429, 500, 511})
  void onlyThePaeL2ShouldReserveSlots428To511ForXen(int slot) {
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED)) {
      Env e = new Env(switches);
      boolean xens = slot >= 428;
      long[] before = e.c.f.counts();
      // mod_l2_entry refuses Xen's slots with -EPERM (is_guest_l2_slot on the PAE type).
      assertEquals(xens ? EPERM : 0, e.mmu.modL2Entry(e.d, Env.PARENT_PAE, slot,
          pde(Env.LOWER_L1)));
      assertEquals(xens ? EPERM : 0, e.mmu.modL2Entry(e.d, Env.PARENT_PAE, slot, 0));
      assertEquals(xens ? EPERM : 0,
          e.mmu.mmuUpdate(e.d, Env.PARENT_PAE, slot, 0, e.d, false));
      assertEquals(0, e.mmu.readEntry(Env.PARENT_PAE, slot));
      // An ordinary L2 of the same guest has 512 slots of its own.
      assertEquals(0, e.mmu.modL2Entry(e.d, Env.PARENT_L2, slot, pde(Env.LOWER_L1)));
      assertEquals(pde(Env.LOWER_L1), e.mmu.readEntry(Env.PARENT_L2, slot));
      assertEquals(0, e.mmu.modL2Entry(e.d, Env.PARENT_L2, slot, 0));
      assertArrayEquals(before, e.c.f.counts());
      assertEquals(List.of(), e.mmu.countViolations());
    }
  }

  @Test
  void validatingThePaeL2ShouldIgnoreAndClobberWhatTheGuestLeftInXensSlots() {
    Env e = new Env(PvSwitches.HARDENED);
    long l2 = Env.PIN_PAE;
    e.mmu.writeGuestEntry(e.d, l2, 427, pde(Env.LOWER_L1));
    e.mmu.writeGuestEntry(e.d, l2, 428, pde(Env.FOREIGN));
    e.mmu.writeGuestEntry(e.d, l2, 450, pde(Env.LOWER_L1) | PAGE_PSE);
    e.mmu.writeGuestEntry(e.d, l2, 511, pde(Env.LOWER_L1));
    e.mmu.writeGuestEntry(e.d, Env.PIN_TARGET, 3, pdpte(l2));
    long l1Count = e.c.frames.generalCount(Env.LOWER_L1);
    assertEquals(0, e.mmu.pinTable(e.d, Env.PIN_TARGET, PageType.L3_PAGE_TABLE));
    assertEquals(l1Count + 1, e.c.frames.generalCount(Env.LOWER_L1), "slot 427 only");
    for (int slot = 428; slot < 512; slot++) {
      assertEquals(0, e.mmu.readEntry(l2, slot), "init_xen_pae_l2_slots: slot " + slot);
    }
    assertEquals(List.of(), e.mmu.countViolations());
    // The same frame pinned as an ordinary L2 validates all 512 slots.
    assertEquals(0, e.mmu.unpinTable(e.d, Env.PIN_TARGET));
    e.mmu.writeGuestEntry(e.d, l2, 511, pde(Env.FOREIGN));
    assertEquals(EINVAL, e.mmu.pinTable(e.d, l2, PageType.L2_PAGE_TABLE));
    e.mmu.writeGuestEntry(e.d, l2, 511, pde(Env.LOWER_L1));
    assertEquals(0, e.mmu.pinTable(e.d, l2, PageType.L2_PAGE_TABLE));
    assertEquals(l1Count + 2, e.c.frames.generalCount(Env.LOWER_L1), "slots 427 and 511");
    assertFalse(e.c.frames.isPaeXenL2(l2));
    assertEquals(List.of(), e.mmu.countViolations());
  }

  @Test
  void thePaeL2ShouldNotBePinnableNorUsableElsewhereWhileInUse() {
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED)) {
      Env e = new Env(switches);
      long[] before = e.c.f.counts();
      assertEquals(EINVAL, e.mmu.pinTable(e.d, Env.PARENT_PAE, PageType.L2_PAGE_TABLE),
          "get_page_type(PGT_l2_page_table) does not match PGT_pae_xen_l2");
      assertEquals(EINVAL, e.mmu.modL3Entry(e.d, Env.SAME, 0, pdpte(Env.PARENT_PAE)));
      assertArrayEquals(before, e.c.f.counts());
      // An ordinary L2 in use cannot become slot 3's either; released, it can.
      e.mmu.writeGuestEntry(e.d, Env.PIN_TARGET, 3, pdpte(Env.PARENT_L2));
      assertEquals(EINVAL, e.mmu.pinTable(e.d, Env.PIN_TARGET, PageType.L3_PAGE_TABLE));
      assertEquals(0, e.mmu.unpinTable(e.d, Env.PARENT_L2));
      assertEquals(0, e.mmu.pinTable(e.d, Env.PIN_TARGET, PageType.L3_PAGE_TABLE));
      assertTrue(e.c.frames.isPaeXenL2(Env.PARENT_L2));
      assertEquals(List.of(), e.mmu.countViolations());
    }
  }
}
