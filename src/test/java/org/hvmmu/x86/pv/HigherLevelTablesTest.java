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
import static org.hvmmu.x86.pv.TreeFixture.pde;
import static org.hvmmu.x86.pv.TreeFixture.ro;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.Pte;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code get_page_from_l2e} / {@code l3e} / {@code l4e} table by table: every kind of entry an L2,
 * L3 or L4 table may be asked to hold, through {@code mod_lN_entry} on a validated table and through
 * {@code alloc_lN_table} when a frame holding it is pinned, under the seed's and the hardened
 * switches, with Xen's errno; a reject changes no count and no entry.
 */
class HigherLevelTablesTest {
  private static final int EINVAL = -Errno.EINVAL;
  private static final int EBUSY = -Errno.EBUSY;
  private static final int SLOT = 7;

  /** The frames each case refers to, for a table level of 2, 3 or 4. */
  static final class Env {
    static final long PARENT = 0x160;
    static final long LOWER = 0x161;
    static final long FRESH = 0x162;
    static final long SAME = 0x163;
    static final long OTHER = 0x164;
    static final long SAME_UNVALIDATED = 0x165;
    static final long PIN_TARGET = 0x166;
    static final long WRITABLE_DATA = 0x170;
    static final long FOREIGN = 0x205;
    static final long INVALID = 0x100000;
    static final long MMIO = 0x802;

    final int level;
    final PageType type;
    final TreeFixture t;
    final long failingLower;

    Env(int level, PvSwitches switches) {
      this.level = level;
      this.type = PageType.ofLevel(level);
      this.t = new TreeFixture(switches);
      PvMmu mmu = t.mmu;
      Domain d = t.domU;
      PageType below = PageType.ofLevel(level - 1);
      assertEquals(0, mmu.pinTable(d, PARENT, type));
      assertEquals(0, mmu.pinTable(d, LOWER, below));
      assertEquals(0, mmu.pinTable(d, SAME, type));
      PageType other = level == 2 ? PageType.L3_PAGE_TABLE
          : level == 3 ? PageType.L1_PAGE_TABLE : PageType.L2_PAGE_TABLE;
      assertEquals(0, mmu.pinTable(d, OTHER, other));
      assertEquals(0, mmu.pinTable(d, SAME_UNVALIDATED, type));
      assertEquals(0, mmu.unpinTable(d, SAME_UNVALIDATED)); // typed, count 0, not validated
      if (level == 4) {
        // A released L4 keeps Xen's self-map in slot 258 (see xenSlotsShouldOutliveTheL4).
        mmu.writeGuestEntry(d, SAME_UNVALIDATED, PvMmuAbi.LINEAR_PT_SLOT, 0);
      }
      // A data frame mapped writable by a pinned L1.
      mmu.writeGuestEntry(d, 0x171, 0, Pte.fromMfn(WRITABLE_DATA, PAGE_PRESENT | PAGE_RW));
      assertEquals(0, mmu.pinTable(d, 0x171, PageType.L1_PAGE_TABLE));
      // A chain that fails at L1: the L1 maps dom0's frame.
      mmu.writeGuestEntry(d, 0x172, 3, Pte.fromMfn(0x205, PAGE_PRESENT));
      mmu.writeGuestEntry(d, 0x173, 0, pde(0x172));
      mmu.writeGuestEntry(d, 0x174, 0, pde(0x173));
      failingLower = 0x172 + (level - 2);
      assertEquals(List.of(), mmu.countViolations());
    }
  }

  /** One row: a case name, the entry it asks for (given the table it goes into), and the results. */
  record Row(String name, BiFunction<Env, Long, Long> entry, int seed, int hardened) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static Row row(String name, BiFunction<Env, Long, Long> entry, int seed, int hardened) {
    return new Row(name, entry, seed, hardened);
  }

  private static final List<Row> ROWS = List.of(
      row("validated table of the level below", (e, self) -> pde(Env.LOWER), 0, 0),
      row("fresh frame, validated as the level below now", (e, self) -> pde(Env.FRESH), 0, 0),
      row("read-only entry", (e, self) -> ro(Env.LOWER), 0, 0),
      row("A, D, software bits and NX allowed",
          (e, self) -> Pte.fromMfn(Env.LOWER, PAGE_PRESENT | PAGE_RW | PAGE_ACCESSED | PAGE_DIRTY
              | PAGE_AVAIL | PAGE_NX_BIT), 0, 0),
      row("not present, whatever it holds", (e, self) -> 0x0000_0bad_0000_0f9eL, 0, 0),
      row("PWT disallowed", (e, self) -> pde(Env.LOWER) | PAGE_PWT, EINVAL, EINVAL),
      row("PCD disallowed", (e, self) -> pde(Env.LOWER) | PAGE_PCD, EINVAL, EINVAL),
      row("PSE disallowed: no PV superpages", (e, self) -> pde(Env.LOWER) | PAGE_PSE, EINVAL,
          EINVAL),
      row("G disallowed", (e, self) -> pde(Env.LOWER) | PAGE_GLOBAL, EINVAL, EINVAL),
      row("another domain's frame", (e, self) -> pde(Env.FOREIGN), EINVAL, EINVAL),
      row("frame without a frame-table entry", (e, self) -> pde(Env.INVALID), EINVAL, EINVAL),
      row("MMIO frame owned by dom_io", (e, self) -> pde(Env.MMIO), EINVAL, EINVAL),
      row("data frame mapped writable", (e, self) -> pde(Env.WRITABLE_DATA), EINVAL, EINVAL),
      row("table of another level", (e, self) -> pde(Env.OTHER), EINVAL, EINVAL),
      row("frame that fails validation below", (e, self) -> pde(e.failingLower), EBUSY, EBUSY),
      row("linear: read-only, same level, validated", (e, self) -> ro(Env.SAME), 0, 0),
      row("linear: writable", (e, self) -> pde(Env.SAME), EINVAL, EINVAL),
      row("frame of this level no longer in use: retyped as the level below",
          (e, self) -> ro(Env.SAME_UNVALIDATED), 0, 0),
      row("self-map, read-only", (e, self) -> ro(self), 0, 0),
      row("self-map, writable", (e, self) -> pde(self), EINVAL, EINVAL));

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (int level = 2; level <= 4; level++) {
      for (Row r : ROWS) {
        out.add(Arguments.of(level, r));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "L{0} {1}")
  @MethodSource("cases")
  void modEntryShouldAcceptOrRefuseWithXensErrno(int level, Row r) {
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED)) {
      Env e = new Env(level, switches);
      int expected = switches == PvSwitches.SEED_2010 ? r.seed : r.hardened;
      long entry = r.entry.apply(e, Env.PARENT);
      long[] before = e.t.f.counts();
      int rc = modEntry(e, Env.PARENT, SLOT, entry);
      assertEquals(expected, rc, switches + ": " + r.name);
      if (rc != 0) {
        assertArrayEquals(before, e.t.f.counts(), "a reject takes nothing");
        assertEquals(0, e.t.mmu.readEntry(Env.PARENT, SLOT), "a reject stores nothing");
      } else {
        assertEquals(List.of(), e.t.mmu.countViolations());
        // And the entry goes again, leaving the counts as they were.
        assertEquals(0, modEntry(e, Env.PARENT, SLOT, 0));
        assertArrayEquals(before, e.t.f.counts(), r.name + ": removing the entry gives back all");
      }
    }
  }

  @ParameterizedTest(name = "L{0} {1}")
  @MethodSource("cases")
  void allocTableShouldAcceptOrRefuseWithXensErrno(int level, Row r) {
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED)) {
      Env e = new Env(level, switches);
      int expected = switches == PvSwitches.SEED_2010 ? r.seed : r.hardened;
      long entry = r.entry.apply(e, Env.PIN_TARGET);
      // An accepted entry in slot 1 before the case's, so that a reject must undo it.
      e.t.mmu.writeGuestEntry(e.t.domU, Env.PIN_TARGET, 1, pde(Env.LOWER));
      e.t.mmu.writeGuestEntry(e.t.domU, Env.PIN_TARGET, SLOT, entry);
      long[] before = e.t.f.counts();
      int rc = e.t.mmu.pinTable(e.t.domU, Env.PIN_TARGET, e.type);
      assertEquals(expected, rc, switches + ": " + r.name);
      if (rc != 0) {
        assertArrayEquals(before, e.t.f.counts(), "a failed pin gives back every reference");
        assertEquals(0, e.t.frames.typeInfo(Env.PIN_TARGET), "the half-made type goes");
      } else {
        assertEquals(List.of(), e.t.mmu.countViolations());
        assertEquals(0, e.t.mmu.unpinTable(e.t.domU, Env.PIN_TARGET));
        assertArrayEquals(before, e.t.f.counts(), r.name + ": unpinning gives back all");
      }
    }
  }

  private static int modEntry(Env e, long table, int slot, long entry) {
    return switch (e.level) {
      case 2 -> e.t.mmu.modL2Entry(e.t.domU, table, slot, entry);
      case 3 -> e.t.mmu.modL3Entry(e.t.domU, table, slot, entry);
      default -> e.t.mmu.modL4Entry(e.t.domU, table, slot, entry);
    };
  }

  // ---- the linear page-table switch ---------------------------------------------------------------

  @ParameterizedTest(name = "L{0}")
  @ValueSource(ints = {2, 3, 4})
  void pvLinearPtOffShouldRefuseEverySameLevelEntry(int level) {
    PvSwitches disabled = PvSwitches.HARDENED.withLinearPageTables(LinearPageTables.DISABLED);
    Env e = new Env(level, disabled);
    assertEquals(EINVAL, modEntry(e, Env.PARENT, SLOT, ro(Env.SAME)));
    assertEquals(EINVAL, modEntry(e, Env.PARENT, SLOT, ro(Env.PARENT)), "self-maps too");
    assertEquals(0, modEntry(e, Env.PARENT, SLOT, ro(Env.LOWER)), "ordinary entries stay");
    assertEquals(List.of(), e.t.mmu.countViolations());
  }

  @ParameterizedTest(name = "L{0}")
  @ValueSource(ints = {2, 3, 4})
  void singleLevelShouldRefuseChainsThatTheSeedAllows(int level) {
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED)) {
      boolean seed = switches == PvSwitches.SEED_2010;
      Env e = new Env(level, switches);
      long a = Env.PARENT;
      long b = Env.SAME;
      long c = 0x167;
      assertEquals(0, e.t.mmu.pinTable(e.t.domU, c, e.type));
      // a -> b: a holds a linear entry, b is used linearly.
      assertEquals(0, modEntry(e, a, 1, ro(b)));
      if (!seed) {
        assertEquals(1, e.t.frames.linearPtCount(a));
        assertEquals(-1, e.t.frames.linearPtCount(b));
      }
      // c -> a: a, which holds a linear entry, may not be used linearly (XSA-240).
      assertEquals(seed ? 0 : EINVAL, modEntry(e, c, 1, ro(a)));
      // b -> c: b, used linearly, may not hold a linear entry.
      assertEquals(seed ? 0 : EINVAL, modEntry(e, b, 1, ro(c)));
      // A second use of b is fine.
      assertEquals(0, modEntry(e, c, 2, ro(b)));
      assertEquals(List.of(), e.t.mmu.countViolations(), switches.toString());
      // Tear everything down: the counts balance and linear_pt_count returns to 0.
      for (long table : new long[] {a, b, c}) {
        for (int slot = 1; slot <= 2; slot++) {
          assertEquals(0, modEntry(e, table, slot, 0));
        }
      }
      assertEquals(0, e.t.frames.linearPtCount(a));
      assertEquals(0, e.t.frames.linearPtCount(b));
      assertEquals(List.of(), e.t.mmu.countViolations(), switches.toString());
    }
  }

  @Test
  void seedChainsShouldTearDownRecursively() {
    Env e = new Env(2, PvSwitches.SEED_2010);
    // A chain of 40 L2 tables, each mapping the next linearly; only the head stays pinned.
    long first = 0x180;
    int n = 40;
    for (int i = n - 1; i >= 0; i--) {
      long table = first + i;
      if (i < n - 1) {
        e.t.mmu.writeGuestEntry(e.t.domU, table, 0, ro(table + 1));
      }
      assertEquals(0, e.t.mmu.pinTable(e.t.domU, table, PageType.L2_PAGE_TABLE), "pin " + i);
    }
    for (int i = 1; i < n; i++) {
      assertEquals(0, e.t.mmu.unpinTable(e.t.domU, first + i));
    }
    assertEquals(1, e.t.frames.typeCount(first + 1), "held by the head's entry alone");
    assertEquals(List.of(), e.t.mmu.countViolations());
    assertEquals(0, e.t.mmu.unpinTable(e.t.domU, first));
    for (int i = 0; i < n; i++) {
      assertEquals(0, e.t.frames.typeCount(first + i), "table " + i + " released");
    }
    assertEquals(List.of(), e.t.mmu.countViolations());
  }

  @Test
  void aChainDeeperThanXensStackShouldStopTheModelAsXenWouldCrash() {
    // XSA-240: 300 L2 tables chained linearly; dropping the head releases them recursively.
    org.hvmmu.rangeset.RangeSet none =
        new org.hvmmu.rangeset.IntervalTreeRangeSet("r/o", org.hvmmu.rangeset.RangeSet.PRETTYPRINT_HEX);
    PvMmu mmu = new PvMmu(0x1000, none, CpuFeatures.ALL, PvSwitches.SEED_2010);
    Domain d = mmu.createDomain(1, false, GuestType.PV64);
    long first = 0x100;
    int n = 300;
    mmu.frameTable().assignRange(first, first + n - 1, 1);
    for (int i = n - 1; i >= 0; i--) {
      long table = first + i;
      if (i < n - 1) {
        mmu.writeGuestEntry(d, table, 0, ro(table + 1));
      }
      assertEquals(0, mmu.pinTable(d, table, PageType.L2_PAGE_TABLE));
      if (i < n - 1) {
        assertEquals(0, mmu.unpinTable(d, table + 1));
      }
    }
    org.hvmmu.xen.HypervisorBugException crash = assertThrows(
        org.hvmmu.xen.HypervisorBugException.class, () -> mmu.unpinTable(d, first));
    assertTrue(crash.getMessage().contains("XSA-240"), crash.getMessage());
  }

  @Test
  void singleLevelShouldKeepTeardownShallow() {
    // The same chain under XSA-240's rule stops at its second link.
    Env e = new Env(2, PvSwitches.HARDENED);
    long a = 0x180;
    long b = 0x181;
    long c = 0x182;
    e.t.mmu.writeGuestEntry(e.t.domU, b, 0, ro(c));
    assertEquals(0, e.t.mmu.pinTable(e.t.domU, c, PageType.L2_PAGE_TABLE));
    assertEquals(0, e.t.mmu.pinTable(e.t.domU, b, PageType.L2_PAGE_TABLE));
    e.t.mmu.writeGuestEntry(e.t.domU, a, 0, ro(b));
    assertEquals(EINVAL, e.t.mmu.pinTable(e.t.domU, a, PageType.L2_PAGE_TABLE));
    assertEquals(List.of(), e.t.mmu.countViolations());
  }

  // ---- L4: Xen's slots ----------------------------------------------------------------------------

  @ParameterizedTest(name = "slot {0}")
  @ValueSource(ints = {0, 255, 256, 257, 258, 261, 270, 271, 272, 511})
  void l4ShouldRefuseXensSlots(int slot) {
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED)) {
      Env e = new Env(4, switches);
      boolean xens = slot >= 256 && slot <= 271;
      long before = e.t.mmu.readEntry(Env.PARENT, slot);
      assertEquals(xens ? EINVAL : 0, e.t.mmu.modL4Entry(e.t.domU, Env.PARENT, slot,
          pde(Env.LOWER)));
      assertEquals(xens ? EINVAL : 0, e.t.mmu.modL4Entry(e.t.domU, Env.PARENT, slot, 0),
          "clearing is no different");
      if (xens) {
        assertEquals(before, e.t.mmu.readEntry(Env.PARENT, slot), "Xen's entry stays");
      }
      assertEquals(List.of(), e.t.mmu.countViolations());
    }
  }

  @Test
  void pinningAnL4ShouldIgnoreAndClobberWhatTheGuestLeftInXensSlots() {
    Env e = new Env(4, PvSwitches.HARDENED);
    long l4 = Env.PIN_TARGET;
    // Junk and even a "valid-looking" entry in Xen's slots: not validated, no reference, replaced.
    e.t.mmu.writeGuestEntry(e.t.domU, l4, 256, pde(Env.FOREIGN));
    e.t.mmu.writeGuestEntry(e.t.domU, l4, 260, pde(Env.LOWER) | PAGE_PCD);
    e.t.mmu.writeGuestEntry(e.t.domU, l4, 271, pde(Env.LOWER));
    e.t.mmu.writeGuestEntry(e.t.domU, l4, 272, pde(Env.LOWER));
    long lowerCount = e.t.frames.generalCount(Env.LOWER);
    assertEquals(0, e.t.mmu.pinTable(e.t.domU, l4, PageType.L4_PAGE_TABLE));
    assertEquals(lowerCount + 1, e.t.frames.generalCount(Env.LOWER), "slot 272 only");
    for (int slot = 256; slot <= 271; slot++) {
      long expected = slot == PvMmuAbi.LINEAR_PT_SLOT
          ? Pte.fromMfn(l4, PAGE_PRESENT | PAGE_RW | PAGE_ACCESSED | PAGE_DIRTY | PAGE_NX_BIT)
          : 0;
      assertEquals(expected, e.t.mmu.readEntry(l4, slot), "slot " + slot);
    }
    // Slot 272 adjusted: A and U/S added.
    assertEquals(pde(Env.LOWER) | PAGE_USER | PAGE_ACCESSED, e.t.mmu.readEntry(l4, 272));
    assertEquals(List.of(), e.t.mmu.countViolations());
    assertEquals(0, e.t.mmu.unpinTable(e.t.domU, l4));
    assertEquals(lowerCount, e.t.frames.generalCount(Env.LOWER));
  }

  @Test
  void xenSlotsShouldOutliveTheL4() {
    // demote_l4_table leaves Xen's entries in place: the frame reused as an L3 holds a writable
    // self-map in slot 258, which alloc_l3_table refuses until the guest clears it.
    Env e = new Env(4, PvSwitches.HARDENED);
    long frame = Env.PIN_TARGET;
    assertEquals(0, e.t.mmu.pinTable(e.t.domU, frame, PageType.L4_PAGE_TABLE));
    assertEquals(0, e.t.mmu.unpinTable(e.t.domU, frame));
    assertEquals(EINVAL, e.t.mmu.pinTable(e.t.domU, frame, PageType.L3_PAGE_TABLE));
    e.t.mmu.writeGuestEntry(e.t.domU, frame, PvMmuAbi.LINEAR_PT_SLOT, 0);
    assertEquals(0, e.t.mmu.pinTable(e.t.domU, frame, PageType.L3_PAGE_TABLE));
    assertEquals(List.of(), e.t.mmu.countViolations());
  }

  // ---- adjustments, flags and the fast path ----------------------------------------------------

  @ParameterizedTest(name = "L{0}")
  @ValueSource(ints = {2, 3, 4})
  void acceptedEntriesShouldBeAdjustedAsXenAdjustsThem(int level) {
    Env e = new Env(level, PvSwitches.HARDENED);
    long asked = Pte.fromMfn(Env.LOWER, PAGE_PRESENT | PAGE_RW);
    assertEquals(0, modEntry(e, Env.PARENT, SLOT, asked));
    long extra = level == 4 ? PAGE_USER | PAGE_ACCESSED : PAGE_USER;
    assertEquals(asked | extra, e.t.mmu.readEntry(Env.PARENT, SLOT));
  }

  @Test
  void withoutNxTheNxBitShouldBeDisallowed() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED, new CpuFeatures(false));
    assertEquals(0, f.mmu.pinTable(f.domU, 0x161, PageType.L1_PAGE_TABLE));
    f.mmu.writeGuestEntry(f.domU, 0x160, 0, Pte.fromMfn(0x161, PAGE_PRESENT | PAGE_NX_BIT));
    long[] before = f.counts();
    assertEquals(EINVAL, f.mmu.pinTable(f.domU, 0x160, PageType.L2_PAGE_TABLE));
    assertArrayEquals(before, f.counts());
  }

  @ParameterizedTest(name = "L{0}")
  @ValueSource(ints = {2, 3, 4})
  void seedFastPathShouldTurnALinearEntryWritableAndHardenedShouldNot(int level) {
    // XSA-182: the same frame, P unchanged, R/W now set.
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED)) {
      Env e = new Env(level, switches);
      assertEquals(0, modEntry(e, Env.PARENT, SLOT, ro(Env.SAME)));
      assertEquals(0, modEntry(e, Env.PARENT, 8, ro(Env.PARENT)));
      long[] before = e.t.f.counts();
      int expected = switches == PvSwitches.SEED_2010 ? 0 : EINVAL;
      assertEquals(expected, modEntry(e, Env.PARENT, SLOT, pde(Env.SAME)), "linear");
      assertEquals(expected, modEntry(e, Env.PARENT, 8, pde(Env.PARENT)), "self-map");
      assertArrayEquals(before, e.t.f.counts(), "the fast path takes and drops nothing");
      assertEquals(List.of(), e.t.mmu.countViolations(), "the counts balance all the same");
      boolean writableLinear = (e.t.mmu.readEntry(Env.PARENT, SLOT) & PAGE_RW) != 0
          && (e.t.mmu.readEntry(Env.PARENT, 8) & PAGE_RW) != 0;
      assertEquals(switches == PvSwitches.SEED_2010, writableLinear);
    }
  }

  @ParameterizedTest
  @EnumSource(value = PageType.class, names = {"L2_PAGE_TABLE", "L3_PAGE_TABLE", "L4_PAGE_TABLE"})
  void modEntryShouldRefuseATableThatIsNotOfItsLevel(PageType type) {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED);
    assertEquals(0, t.mmu.pinTable(t.domU, 0x160, PageType.L1_PAGE_TABLE));
    IllegalStateException ex = assertThrows(IllegalStateException.class, () -> {
      switch (type) {
        case L2_PAGE_TABLE -> t.mmu.modL2Entry(t.domU, 0x160, 0, 0);
        case L3_PAGE_TABLE -> t.mmu.modL3Entry(t.domU, 0x160, 0, 0);
        default -> t.mmu.modL4Entry(t.domU, 0x160, 0, 0);
      }
    });
    assertTrue(ex.getMessage().contains("0x160"), ex.getMessage());
  }
}
