package org.hvmmu.mmu.xen;

import static org.hvmmu.mmu.ControlRegisters.CR0_WP;
import static org.hvmmu.mmu.ControlRegisters.CR4_LA57;
import static org.hvmmu.mmu.ControlRegisters.CR4_PKE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PKS;
import static org.hvmmu.mmu.ControlRegisters.CR4_PSE;
import static org.hvmmu.mmu.ControlRegisters.CR4_SMAP;
import static org.hvmmu.mmu.ControlRegisters.CR4_SMEP;
import static org.hvmmu.mmu.ControlRegisters.EFER_NXE;
import static org.hvmmu.mmu.ControlRegisters.RFLAGS_AC;
import static org.hvmmu.mmu.xen.Pfec.IMPLICIT;
import static org.hvmmu.mmu.xen.Pfec.INSN_FETCH;
import static org.hvmmu.mmu.xen.Pfec.USER_MODE;
import static org.hvmmu.mmu.xen.Pfec.WRITE_ACCESS;
import static org.hvmmu.mmu.xen.WalkFixture.A;
import static org.hvmmu.mmu.xen.WalkFixture.D;
import static org.hvmmu.mmu.xen.WalkFixture.DATA_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.G;
import static org.hvmmu.mmu.xen.WalkFixture.L1_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.L1_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.L2_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.L2_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.L3_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.L3_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.L4_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.L4_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.NX;
import static org.hvmmu.mmu.xen.WalkFixture.P;
import static org.hvmmu.mmu.xen.WalkFixture.PAT_LARGE;
import static org.hvmmu.mmu.xen.WalkFixture.PCD;
import static org.hvmmu.mmu.xen.WalkFixture.PRW;
import static org.hvmmu.mmu.xen.WalkFixture.PS;
import static org.hvmmu.mmu.xen.WalkFixture.PWT;
import static org.hvmmu.mmu.xen.WalkFixture.RW;
import static org.hvmmu.mmu.xen.WalkFixture.US;
import static org.hvmmu.mmu.xen.WalkFixture.VA4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongUnaryOperator;
import java.util.function.UnaryOperator;
import org.hvmmu.mmu.memory.MmioHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code guest_walk_tables} in both conventions, worked by hand. The table runs every row through
 * today's walker ({@link GuestWalkSwitches#HARDENED}: success and error code) and the seed's ({@link
 * GuestWalkSwitches#SEED_2010}: missing flags) on the 4-level layout of {@link WalkFixture}.
 */
class GuestWalkerTest {
  private static final GuestWalkDomain INTEL = GuestWalkDomain.hapIntel(40);
  private static final GuestWalkDomain AMD = GuestWalkDomain.hapAmd(40);
  private static final long KEY1 = 1L << 59;
  private static final int PF_P = Pfec.PAGE_PRESENT;
  private static final int PF_W = WRITE_ACCESS;
  private static final int PF_U = USER_MODE;
  private static final int PF_R = Pfec.RESERVED_BIT;
  private static final int PF_I = INSN_FETCH;
  private static final int PF_K = Pfec.PROT_KEY;
  private static final int M_P = MissingFlags.PAGE_PRESENT;
  private static final int M_RW = MissingFlags.PAGE_RW;
  private static final int M_U = MissingFlags.PAGE_USER;
  private static final int M_NX = MissingFlags.PAGE_NX_BIT;

  /**
   * One case: tables changed from the layout, registers changed from 4-level with WP and NXE, the
   * request, today's answer and error code, and the seed's missing flags.
   */
  record Row(
      String name,
      Consumer<WalkFixture> tables,
      UnaryOperator<GuestRegisters> regs,
      GuestWalkDomain domain,
      int walk,
      boolean ok,
      int pfec,
      int missing) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static Row row(String name, Consumer<WalkFixture> tables, UnaryOperator<GuestRegisters> regs,
      GuestWalkDomain domain, int walk, boolean ok, int pfec, int missing) {
    return new Row(name, tables, regs, domain, walk, ok, pfec, missing);
  }

  private static Row row(String name, Consumer<WalkFixture> tables, int walk, boolean ok, int pfec,
      int missing) {
    return row(name, tables, r -> r, INTEL, walk, ok, pfec, missing);
  }

  private static Consumer<WalkFixture> entry(int level, LongUnaryOperator change) {
    return f -> {
      long slot = WalkFixture.slot4(level);
      f.set8(slot, change.applyAsLong(f.get8(slot)));
    };
  }

  private static Consumer<WalkFixture> gfn(long gfn, long outcome) {
    return f -> f.overrides.put(gfn, outcome);
  }

  private static final Consumer<WalkFixture> NONE = f -> { };

  static List<Row> rows() {
    return List.of(
        row("user read", NONE, PF_U, true, PF_P | PF_U, 0),
        row("supervisor write", NONE, PF_W, true, PF_P | PF_W, 0),
        row("user write, L3 read-only", entry(3, e -> e & ~RW), PF_U | PF_W, false,
            PF_P | PF_W | PF_U, M_RW),
        row("user read, L2 supervisor", entry(2, e -> e & ~US), PF_U, false, PF_P | PF_U, M_U),
        row("L4 not present", entry(4, e -> e & ~P), PF_U | PF_W, false, PF_W | PF_U, M_P),
        row("L3 not present", entry(3, e -> e & ~P), PF_U | PF_W, false, PF_W | PF_U, M_P),
        row("L2 not present", entry(2, e -> e & ~P), PF_U | PF_W, false, PF_W | PF_U, M_P),
        row("L1 not present", entry(1, e -> e & ~P), PF_U | PF_W, false, PF_W | PF_U, M_P),
        // The seed ORs in every flag the entry lacks, not only P.
        row("L1 zero", entry(1, e -> 0), PF_U | PF_W, false, PF_W | PF_U, M_P | M_RW | M_U),
        // Bit 45 is above MAXPHYADDR 40. The seed does not check it: the table's gfn is then beyond
        // the domain (not mapped: P missing), and a leaf's frame simply includes it.
        row("L4 reserved bit 45", entry(4, e -> e | 1L << 45), PF_U | PF_W, false,
            PF_P | PF_W | PF_U | PF_R, M_P),
        row("L3 reserved bit 45", entry(3, e -> e | 1L << 45), PF_U | PF_W, false,
            PF_P | PF_W | PF_U | PF_R, M_P),
        row("L2 reserved bit 45", entry(2, e -> e | 1L << 45), PF_U | PF_W, false,
            PF_P | PF_W | PF_U | PF_R, M_P),
        row("L1 reserved bit 45", entry(1, e -> e | 1L << 45), PF_U | PF_W, false,
            PF_P | PF_W | PF_U | PF_R, 0),
        row("L1 NX without EFER.NXE", entry(1, e -> e | NX), r -> r.withEfer(r.efer() & ~EFER_NXE),
            INTEL, PF_U, false, PF_P | PF_U | PF_R, 0),
        row("L4 PS", entry(4, e -> e | PS), PF_U, false, PF_P | PF_U | PF_R, 0),
        row("L4 G, Intel guest", entry(4, e -> e | G), r -> r, INTEL, PF_U, true, PF_P | PF_U, 0),
        row("L4 G, AMD guest", entry(4, e -> e | G), r -> r, AMD, PF_U, false,
            PF_P | PF_U | PF_R, 0),
        // The seed ignores L3 PS and walks on into "page directory" 0x40000, which is empty.
        row("L3 PS, HAP with host 1G", entry(3, e -> 0x4000_0000L | PS | PRW), PF_U, true,
            PF_P | PF_U, M_P | M_U),
        row("L3 PS, shadow", entry(3, e -> 0x4000_0000L | PS | PRW), r -> r, INTEL.withHap(false),
            PF_U, false, PF_P | PF_U | PF_R, M_P | M_U),
        row("L3 PS, host without 1G", entry(3, e -> 0x4000_0000L | PS | PRW), r -> r,
            INTEL.withHostPage1Gb(false), PF_U, false, PF_P | PF_U | PF_R, M_P | M_U),
        row("L3 PS, misaligned 1G page", entry(3, e -> 0x4000_2000L | PS | PRW), PF_U, false,
            PF_P | PF_U | PF_R, M_P | M_U),
        row("L2 PS, misaligned 2M page", entry(2, e -> 0x20_2000L | PS | PRW), PF_U, false,
            PF_P | PF_U | PF_R, 0),
        row("PKRU AD, user read", entry(1, e -> e | KEY1),
            r -> r.withCr4(r.cr4() | CR4_PKE).withPkru(0x4), INTEL, PF_U, false,
            PF_P | PF_U | PF_K, 0),
        // Keys first: a supervisor page whose key PKRS denies reports PK although U/S denies too.
        row("PKRS AD and U/S both deny", entry(1, e -> (e & ~US) | KEY1),
            r -> r.withCr4(r.cr4() | CR4_PKS).withPkrs(0x4), INTEL, PF_U, false,
            PF_P | PF_U | PF_K, M_U),
        row("PKRU WD and R/W both deny", entry(1, e -> (e & ~RW) | KEY1),
            r -> r.withCr4(r.cr4() | CR4_PKE).withPkru(0x8), INTEL, PF_U | PF_W, false,
            PF_P | PF_W | PF_U | PF_K, M_RW),
        row("PKRU WD, supervisor write, CR0.WP", entry(1, e -> e | KEY1),
            r -> r.withCr4(r.cr4() | CR4_PKE).withPkru(0x8), INTEL, PF_W, false,
            PF_P | PF_W | PF_K, 0),
        row("PKRU WD, supervisor write, no CR0.WP", entry(1, e -> e | KEY1),
            r -> r.withCr4(r.cr4() | CR4_PKE).withPkru(0x8).withCr0(r.cr0() & ~CR0_WP), INTEL,
            PF_W, true, PF_P | PF_W, 0),
        row("PKRU AD ignores fetches: NX", entry(1, e -> e | KEY1 | NX),
            r -> r.withCr4(r.cr4() | CR4_PKE).withPkru(0x4), INTEL, PF_U | PF_I, false,
            PF_P | PF_U | PF_I, M_NX),
        row("NX in L4", entry(4, e -> e | NX), PF_U | PF_I, false, PF_P | PF_U | PF_I, M_NX),
        row("SMAP, AC clear", NONE, r -> r.withCr4(r.cr4() | CR4_SMAP), INTEL, 0, false, PF_P, 0),
        row("SMAP, AC set", NONE, r -> r.withCr4(r.cr4() | CR4_SMAP).withRflags(RFLAGS_AC), INTEL,
            0, true, PF_P, 0),
        row("SMAP, implicit, AC set", NONE,
            r -> r.withCr4(r.cr4() | CR4_SMAP).withRflags(RFLAGS_AC), INTEL, IMPLICIT, false, PF_P,
            0),
        row("SMAP, write, AC clear", NONE, r -> r.withCr4(r.cr4() | CR4_SMAP), INTEL, PF_W, false,
            PF_P | PF_W, 0),
        // SMEP reports I/D even without NX.
        row("SMEP, supervisor fetch of a user page, no NX", NONE,
            r -> r.withCr4(r.cr4() | CR4_SMEP).withEfer(r.efer() & ~EFER_NXE), INTEL, PF_I, false,
            PF_P | PF_I, 0),
        row("supervisor fetch of a user page, no SMEP, no NX", NONE,
            r -> r.withEfer(r.efer() & ~EFER_NXE), INTEL, PF_I, true, PF_P, 0),
        row("fetch, L1 zero, no NX, no SMEP", entry(1, e -> 0),
            r -> r.withEfer(r.efer() & ~EFER_NXE), INTEL, PF_U | PF_I, false, PF_U, M_P | M_U),
        row("fetch, L1 zero, NX", entry(1, e -> 0), PF_U | PF_I, false, PF_U | PF_I,
            M_P | M_U),
        row("supervisor write, read-only, no CR0.WP", entry(1, e -> e & ~RW),
            r -> r.withCr0(r.cr0() & ~CR0_WP), INTEL, PF_W, true, PF_P | PF_W, 0),
        row("supervisor write, read-only, CR0.WP", entry(1, e -> e & ~RW), PF_W, false,
            PF_P | PF_W, M_RW),
        row("L1 table paged out", gfn(L1_FRAME, P2mLookup.PAGED_OUT), PF_U, false,
            PF_U | Pfec.PAGE_PAGED, MissingFlags.PAGE_PAGED),
        // The seed's map_domain_gfn replaces the result: the missing U/S of L4 is lost.
        row("L4 supervisor, L1 table paged out",
            entry(4, e -> e & ~US).andThen(gfn(L1_FRAME, P2mLookup.PAGED_OUT)), PF_U, false,
            PF_U | Pfec.PAGE_PAGED, MissingFlags.PAGE_PAGED),
        row("L3 table shared", gfn(L3_FRAME, P2mLookup.SHARED), PF_U, false,
            PF_U | Pfec.PAGE_SHARED, MissingFlags.PAGE_SHARED),
        // Tables outside RAM read as not present; map_domain_gfn's RSVD|P for an invalid gfn is
        // dropped by the walk.
        row("L2 table not RAM", gfn(L2_FRAME, P2mLookup.NOT_RAM), PF_U, false, PF_U, M_P),
        row("L2 table gfn invalid", gfn(L2_FRAME, P2mLookup.GFN_INVALID), PF_U, false, PF_U, M_P));
  }

  private static long[] snapshot(WalkFixture f) {
    return new long[] {f.get8(L4_SLOT), f.get8(L3_SLOT), f.get8(L2_SLOT), f.get8(L1_SLOT)};
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void shouldReturnTodaysAnswerAndErrorCode(Row row) {
    WalkFixture f = WalkFixture.long4();
    row.tables().accept(f);
    long[] before = snapshot(f);
    GuestWalk gw = new GuestWalk();
    boolean ok = f.walker(row.domain(), GuestWalkSwitches.HARDENED)
        .guestWalkTables(row.regs().apply(WalkFixture.regs4()), VA4, gw, row.walk(), L4_FRAME, 0);
    assertEquals(row.ok(), ok, gw::toString);
    assertEquals(Pfec.describe(row.pfec()), Pfec.describe(gw.pfec()), gw::toString);
    assertEquals(row.pfec(), gw.pfec());
    assertEquals(0, gw.missingFlags());
    if (!ok) {
      assertEquals(List.of(before[0], before[1], before[2], before[3]),
          List.of(f.get8(L4_SLOT), f.get8(L3_SLOT), f.get8(L2_SLOT), f.get8(L1_SLOT)),
          "a failed walk writes no accessed or dirty bit");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void shouldReturnTheSeedsMissingFlags(Row row) {
    WalkFixture f = WalkFixture.long4();
    row.tables().accept(f);
    long[] before = snapshot(f);
    GuestWalk gw = new GuestWalk();
    // The seed's callers pass an error code with P set; mandatory_flags ignores it.
    boolean ok = f.walker(row.domain(), GuestWalkSwitches.SEED_2010).guestWalkTables(
        row.regs().apply(WalkFixture.regs4()), VA4, gw, row.walk() | Pfec.PAGE_PRESENT, L4_FRAME, 0);
    assertEquals(MissingFlags.describe(row.missing()), MissingFlags.describe(gw.missingFlags()),
        gw::toString);
    assertEquals(row.missing(), gw.missingFlags());
    assertEquals(row.missing() == 0, ok);
    assertEquals(0, gw.pfec());
    if (!ok) {
      assertEquals(List.of(before[0], before[1], before[2], before[3]),
          List.of(f.get8(L4_SLOT), f.get8(L3_SLOT), f.get8(L2_SLOT), f.get8(L1_SLOT)),
          "a walk with missing flags writes no accessed or dirty bit");
    }
  }

  @Test
  void shouldSetAccessedAndDirtyBitsAfterASuccessfulWriteInBothEras() {
    for (GuestWalkSwitches s : List.of(GuestWalkSwitches.HARDENED, GuestWalkSwitches.SEED_2010)) {
      WalkFixture f = WalkFixture.long4();
      GuestWalk gw = new GuestWalk();
      assertTrue(f.walker(INTEL, s).guestWalkTables(
          WalkFixture.regs4(), VA4, gw, PF_U | PF_W, L4_FRAME, 0));
      assertEquals((L3_FRAME << 12) | PRW | A, f.get8(L4_SLOT));
      assertEquals((L2_FRAME << 12) | PRW | A, f.get8(L3_SLOT));
      assertEquals((L1_FRAME << 12) | PRW | A, f.get8(L2_SLOT));
      assertEquals((DATA_FRAME << 12) | PRW | A | D, f.get8(L1_SLOT));
      for (int level = 1; level <= 4; level++) {
        assertTrue(gw.accessedDirtyWritten(level));
        assertEquals(f.get8(WalkFixture.slot4(level)), gw.entry(level));
        assertEquals(WalkFixture.slot4(level), gw.entryAddress(level));
        assertEquals(WalkFixture.slot4(level) >>> 12, gw.mfn(level));
      }
      assertEquals(1, gw.leafLevel());
      assertEquals(DATA_FRAME, gw.gfn());
      assertEquals((DATA_FRAME << 12) | 0x567, gw.gpa());
      assertEquals(0, gw.pageOrder());
      // A second walk finds the bits set and writes nothing.
      assertTrue(f.walker(INTEL, s).guestWalkTables(
          WalkFixture.regs4(), VA4, gw, PF_U | PF_W, L4_FRAME, 0));
      for (int level = 1; level <= 4; level++) {
        assertFalse(gw.accessedDirtyWritten(level));
      }
    }
  }

  @Test
  void shouldLeaveTheTablesAloneWhenTheWalkFails() {
    for (GuestWalkSwitches s : List.of(GuestWalkSwitches.HARDENED, GuestWalkSwitches.SEED_2010)) {
      WalkFixture f = WalkFixture.long4();
      f.set8(L1_SLOT, (DATA_FRAME << 12) | P | US); // read-only
      long[] before = snapshot(f);
      GuestWalk gw = new GuestWalk();
      assertFalse(f.walker(INTEL, s).guestWalkTables(
          WalkFixture.regs4(), VA4, gw, PF_U | PF_W, L4_FRAME, 0));
      assertEquals(before[0], f.get8(L4_SLOT));
      assertEquals(before[3], f.get8(L1_SLOT));
      assertEquals(1, gw.leafLevel(), "a rights failure has a leaf");
      for (int level = 1; level <= 4; level++) {
        assertFalse(gw.accessedDirtyWritten(level));
      }
    }
  }

  /**
   * The L1 table sits in a frame whose entry changes between the walk's read and its
   * compare-and-set (as another vCPU's store would change it): the update is dropped, the walk
   * succeeds with what it read.
   */
  @Test
  void shouldSucceedWhenTheAccessedBitCompareAndSetFails() {
    for (GuestWalkSwitches s : List.of(GuestWalkSwitches.HARDENED, GuestWalkSwitches.SEED_2010)) {
      WalkFixture f = WalkFixture.long4();
      long racyFrame = 0x90000;
      long leaf = (DATA_FRAME << 12) | PRW;
      int[] reads = new int[1];
      int[] writes = new int[1];
      f.memory.addMmio(racyFrame, racyFrame, new MmioHandler() {
        @Override
        public long read(long pa, int size) {
          if (pa != (racyFrame << 12) + 32) {
            return 0;
          }
          reads[0]++;
          return reads[0] == 1 ? leaf : leaf | 0x200; // the guest sets a software bit meanwhile
        }

        @Override
        public void write(long pa, int size, long value) {
          writes[0]++;
        }
      });
      f.overrides.put(L1_FRAME, racyFrame); // a test-only p2m: the L1 table is that frame
      GuestWalk gw = new GuestWalk();
      assertTrue(f.walker(INTEL, s).guestWalkTables(
          WalkFixture.regs4(), VA4, gw, PF_W, L4_FRAME, 0));
      assertEquals(leaf | A | D, gw.l1e(), "the walk's copy has the bits");
      assertFalse(gw.accessedDirtyWritten(1));
      assertEquals(0, writes[0], "the changed entry is left alone");
      assertEquals(2, reads[0]);
      assertTrue(gw.accessedDirtyWritten(2));
      assertEquals(DATA_FRAME, gw.gfn());
    }
  }

  /**
   * A recursive entry: PD index 3 points to the PD itself, so with L1 index 3 the same word is the
   * L2 entry and the (leaf) L1 entry. Today's leaf-first order sets A and D on it and then fails the
   * L2 compare-and-set; the seed's top-down order sets A through L2 and then loses D.
   */
  @Test
  void shouldOrderAccessedDirtyUpdatesLeafFirstToday() {
    long va = (1L << 39) | (2L << 30) | (3L << 21) | (3L << 12);
    long self = (L2_FRAME << 12) | PRW;
    long slot = L2_SLOT;
    GuestWalkSwitches topDown =
        GuestWalkSwitches.HARDENED.withAccessedDirtyOrder(GuestWalkSwitches.AccessedDirtyOrder.TOP_DOWN);
    GuestWalkSwitches seedLeafFirst =
        GuestWalkSwitches.SEED_2010.withAccessedDirtyOrder(GuestWalkSwitches.AccessedDirtyOrder.LEAF_FIRST);
    for (GuestWalkSwitches s : List.of(GuestWalkSwitches.HARDENED, seedLeafFirst)) {
      WalkFixture f = WalkFixture.long4();
      f.set8(slot, self);
      GuestWalk gw = new GuestWalk();
      assertTrue(f.walker(INTEL, s).guestWalkTables(WalkFixture.regs4(), va, gw, PF_W, L4_FRAME, 0));
      assertEquals(self | A | D, f.get8(slot), s.toString());
      assertTrue(gw.accessedDirtyWritten(1));
      assertFalse(gw.accessedDirtyWritten(2));
      assertEquals(self | A, gw.l2e());
      assertEquals(L2_FRAME, gw.gfn());
    }
    for (GuestWalkSwitches s : List.of(GuestWalkSwitches.SEED_2010, topDown)) {
      WalkFixture f = WalkFixture.long4();
      f.set8(slot, self);
      GuestWalk gw = new GuestWalk();
      assertTrue(f.walker(INTEL, s).guestWalkTables(WalkFixture.regs4(), va, gw, PF_W, L4_FRAME, 0));
      assertEquals(self | A, f.get8(slot), "dirty bit lost: " + s);
      assertTrue(gw.accessedDirtyWritten(2));
      assertFalse(gw.accessedDirtyWritten(1));
      assertEquals(self | A | D, gw.l1e(), "only the walk's copy is dirty");
    }
  }

  @Test
  void shouldFabricateTheL1EntryOfA2MegabytePage() {
    long l2e = (0x201L << 12) | PS | PRW | PWT | PCD | G | (3L << 59) | NX;
    WalkFixture f = WalkFixture.long4();
    f.set8(L2_SLOT, l2e);
    GuestWalk gw = new GuestWalk();
    assertTrue(f.walker(INTEL, GuestWalkSwitches.HARDENED)
        .guestWalkTables(WalkFixture.regs4(), VA4, gw, PF_U | PF_W, L4_FRAME, 0));
    // Frame 0x200 + L1 index 4; P|U|RW|A|D; PAT (bit 12 set) at bit 7, PWT, PCD and the key; no G,
    // no NX (NX is enforced through the walk's rights).
    assertEquals(0x1800_0000_0020_40FFL, gw.l1e());
    assertEquals(2, gw.leafLevel());
    assertEquals(9, gw.pageOrder());
    assertEquals(0x204, gw.gfn());
    assertEquals(GuestWalk.INVALID_MFN, gw.mfn(1));
    assertEquals(-1, gw.entryAddress(1));
    assertEquals(l2e | A | D, f.get8(L2_SLOT), "the leaf gets A and D");
    assertEquals((L2_FRAME << 12) | PRW | A, f.get8(L3_SLOT));
    assertEquals((DATA_FRAME << 12) | PRW, f.get8(L1_SLOT), "no L1 entry used");

    // The seed: frame bit 0 cleared, no key.
    f = WalkFixture.long4();
    f.set8(L2_SLOT, l2e & ~NX);
    assertTrue(f.walker(INTEL, GuestWalkSwitches.SEED_2010)
        .guestWalkTables(WalkFixture.regs4(), VA4, gw, PF_U | PF_W | PF_P, L4_FRAME, 0));
    assertEquals(0x2040FFL, gw.l1e());

    // Without the large-page PAT bit, the fabricated entry has no PAT.
    f = WalkFixture.long4();
    f.set8(L2_SLOT, (0x200L << 12) | PS | PRW);
    assertTrue(f.walker(INTEL, GuestWalkSwitches.HARDENED)
        .guestWalkTables(WalkFixture.regs4(), VA4, gw, PF_U, L4_FRAME, 0));
    assertEquals(0x204067L, gw.l1e());
  }

  @Test
  void shouldFabricateTheL1EntryOfA1GigabytePage() {
    WalkFixture f = WalkFixture.long4();
    f.set8(L3_SLOT, 0x4000_0000L | PS | PRW | PCD | PAT_LARGE);
    GuestWalk gw = new GuestWalk();
    assertTrue(f.walker(INTEL, GuestWalkSwitches.HARDENED)
        .guestWalkTables(WalkFixture.regs4(), VA4, gw, PF_U, L4_FRAME, 0));
    // gfn 0x40001 (PAT) aligned to 0x40000, plus (3 << 9) + 4 = 0x604.
    assertEquals((0x40604L << 12) | 0x67 | PCD | PS, gw.l1e());
    assertEquals(3, gw.leafLevel());
    assertEquals(18, gw.pageOrder());
    assertEquals(GuestWalk.INVALID_MFN, gw.mfn(2));
    assertEquals(GuestWalk.INVALID_MFN, gw.mfn(1));
    assertEquals(0L, gw.l2e());
    assertEquals(0x4000_0000L | PS | PRW | PCD | PAT_LARGE | A, f.get8(L3_SLOT));
  }

  // ---- 2-level guests -----------------------------------------------------------------------

  private static final long VA2 = (5L << 22) | (6L << 12) | 0x89;
  private static final long PD2 = 0x200_000L;
  private static final long PDE2 = PD2 + 5 * 4;
  private static final long PTE2 = 0x201_000L + 6 * 4;

  private static WalkFixture twoLevel(long pde) {
    WalkFixture f = new WalkFixture(40);
    f.set4(PDE2, pde);
    f.set4(PTE2, 0x7000 | PRW);
    return f;
  }

  /**
   * Without CR4.PSE a PDE's PS bit is ignored: both walk the page table. Today's walk clears the bit
   * in its copy, so its accessed-bit compare-and-set on the PDE fails: the guest's PDE never gets A.
   */
  @Test
  void shouldIgnorePdePsWithoutCr4Pse() {
    long pde = 0x201_000L | PS | PRW;
    GuestRegisters regs = GuestRegisters.twoLevel(PD2);

    WalkFixture f = twoLevel(pde);
    GuestWalk gw = new GuestWalk();
    assertTrue(f.walker(INTEL, GuestWalkSwitches.HARDENED)
        .guestWalkTables(regs, VA2, gw, PF_U, PD2 >>> 12, 0));
    assertEquals(7, gw.gfn());
    assertEquals(1, gw.leafLevel());
    assertEquals((pde & ~PS) | A, gw.l2e());
    assertEquals(pde, f.get4(PDE2), "Xen's quirk: A never reaches a PDE with PS set");
    assertFalse(gw.accessedDirtyWritten(2));
    assertEquals(0x7000 | PRW | A, f.get4(PTE2));

    f = twoLevel(pde);
    assertTrue(f.walker(INTEL, GuestWalkSwitches.HARDENED.withClearIgnoredL2Pse(false))
        .guestWalkTables(regs, VA2, gw, PF_U, PD2 >>> 12, 0));
    assertEquals(pde | A, f.get4(PDE2));

    f = twoLevel(pde);
    assertTrue(f.walker(INTEL, GuestWalkSwitches.SEED_2010)
        .guestWalkTables(regs, VA2, gw, PF_U | PF_P, PD2 >>> 12, 0));
    assertEquals(pde | A, gw.l2e());
    assertEquals(pde | A, f.get4(PDE2));
    assertEquals(7, gw.gfn());
  }

  @Test
  void shouldMapA4MegabytePageWithCr4Pse() {
    GuestRegisters regs = GuestRegisters.twoLevel(PD2).withCr4(CR4_PSE);
    for (GuestWalkSwitches s : List.of(GuestWalkSwitches.HARDENED, GuestWalkSwitches.SEED_2010)) {
      WalkFixture f = twoLevel(0x0080_0000L | PS | PRW);
      GuestWalk gw = new GuestWalk();
      assertTrue(f.walker(INTEL, s).guestWalkTables(regs, VA2, gw, PF_U | PF_W, PD2 >>> 12, 0));
      assertEquals(0x806067L, gw.l1e());
      assertEquals(0x806, gw.gfn());
      assertEquals(10, gw.pageOrder());
      assertEquals(0x0080_0000L | PS | PRW | A | D, f.get4(PDE2));
    }
  }

  /**
   * PSE-36: PDE bits 20:13 are physical bits 39:32. Today (HAP, host PSE-36) the page is at
   * 0x3_0040_0000; the seed keeps those bits in the frame number (0x406, bit 0 cleared).
   */
  @Test
  void shouldTranslatePse36PagesTodayOnly() {
    GuestRegisters regs = GuestRegisters.twoLevel(PD2).withCr4(CR4_PSE);
    long pde = 0x0040_0000L | (3L << 13) | PS | PRW;
    GuestWalk gw = new GuestWalk();
    WalkFixture f = twoLevel(pde);
    assertTrue(f.walker(INTEL, GuestWalkSwitches.HARDENED)
        .guestWalkTables(regs, VA2, gw, PF_U, PD2 >>> 12, 0));
    assertEquals(0x3_0040_6067L, gw.l1e(), "64 bits wide (Xen's el1e)");
    assertEquals(0x300406, gw.gfn());

    f = twoLevel(pde);
    assertTrue(f.walker(INTEL, GuestWalkSwitches.SEED_2010)
        .guestWalkTables(regs, VA2, gw, PF_U | PF_P, PD2 >>> 12, 0));
    assertEquals(0x40C067L, gw.l1e());
    assertEquals(0x40C, gw.gfn());

    // Shadow paging has no PSE-36: bits 21:13 are reserved.
    f = twoLevel(pde);
    assertFalse(f.walker(INTEL.withHap(false), GuestWalkSwitches.HARDENED)
        .guestWalkTables(regs, VA2, gw, PF_U, PD2 >>> 12, 0));
    assertEquals(PF_P | PF_U | PF_R, gw.pfec());

    // MAXPHYADDR 36: PDE bits 20:17 (physical 39:36) are reserved, and bit 21 always.
    for (long bit : new long[] {1L << 17, 1L << 21}) {
      f = twoLevel(0x0040_0000L | bit | PS | PRW);
      assertFalse(f.walker(GuestWalkDomain.hapIntel(36), GuestWalkSwitches.HARDENED)
          .guestWalkTables(regs, VA2, gw, PF_U, PD2 >>> 12, 0), Long.toHexString(bit));
      assertEquals(PF_P | PF_U | PF_R, gw.pfec());
    }
    f = twoLevel(0x0040_0000L | (1L << 16) | PS | PRW);
    assertTrue(f.walker(GuestWalkDomain.hapIntel(36), GuestWalkSwitches.HARDENED)
        .guestWalkTables(regs, VA2, gw, PF_U, PD2 >>> 12, 0));
    assertEquals(0x8_0040_6L, gw.gfn()); // physical bit 35
  }

  // ---- PAE guests ---------------------------------------------------------------------------

  private static final long CR3_PAE = 0x300_040L;
  private static final long VA3 = (2L << 30) | (3L << 21) | (4L << 12) | 0x10;
  private static final long PDPTE = CR3_PAE + 2 * 8;

  private static WalkFixture pae() {
    WalkFixture f = new WalkFixture(40);
    f.set8(PDPTE, 0x301_000L | P);
    f.set8(0x301_000L + 3 * 8, 0x302_000L | PRW);
    f.set8(0x302_000L + 4 * 8, 0x7000 | PRW);
    f.set8(0x303_000L + 3 * 8, 0x304_000L | PRW);
    f.set8(0x304_000L + 4 * 8, 0x9000 | PRW);
    return f;
  }

  /**
   * Xen reads the PDPTE from guest memory on every walk (hardware uses the PDPTE registers loaded
   * at the last MOV to CR3): a change of the PDPT is seen by the next walk.
   */
  @Test
  void shouldReReadThePdpteOnEveryWalk() {
    GuestRegisters regs = GuestRegisters.pae(CR3_PAE);
    for (GuestWalkSwitches s : List.of(GuestWalkSwitches.HARDENED, GuestWalkSwitches.SEED_2010)) {
      WalkFixture f = pae();
      HapGuestWalk hap = new HapGuestWalk(f.walker(INTEL, s));
      assertEquals(7, hap.hapGvaToGfn(regs, VA3, PF_P | PF_U));
      assertEquals(0x300, hap.walk().mfn(3));
      assertEquals(PDPTE, hap.walk().entryAddress(3));
      assertEquals(0x301_000L | P, f.get8(PDPTE), "a PDPTE has no accessed bit");
      f.set8(PDPTE, 0x303_000L | P);
      assertEquals(9, hap.hapGvaToGfn(regs, VA3, PF_P | PF_U));
    }
  }

  @Test
  void shouldCheckPdpteReservedBitsToday() {
    GuestRegisters regs = GuestRegisters.pae(CR3_PAE);
    GuestWalk gw = new GuestWalk();
    for (long bit : new long[] {RW, US, A, D, PS, G, NX, 1L << 52, 1L << 45}) {
      WalkFixture f = pae();
      f.set8(PDPTE, 0x301_000L | P | bit);
      assertFalse(f.walker(INTEL, GuestWalkSwitches.HARDENED)
          .guestWalkTables(regs, VA3, gw, PF_U, 0x300, 0x40), Long.toHexString(bit));
      assertEquals(PF_P | PF_U | PF_R, gw.pfec());
      if (bit != 1L << 45) {
        // The seed checks P only (bit 45 would move the PD beyond the domain).
        assertTrue(f.walker(INTEL, GuestWalkSwitches.SEED_2010)
            .guestWalkTables(regs, VA3, gw, PF_U | PF_P, 0x300, 0x40), Long.toHexString(bit));
        assertEquals(7, gw.gfn());
      }
    }
    WalkFixture f = pae();
    f.set8(PDPTE, 0x301_000L);
    assertFalse(f.walker(INTEL, GuestWalkSwitches.HARDENED)
        .guestWalkTables(regs, VA3, gw, PF_U, 0x300, 0x40));
    assertEquals(PF_U, gw.pfec());
    assertFalse(f.walker(INTEL, GuestWalkSwitches.SEED_2010)
        .guestWalkTables(regs, VA3, gw, PF_U | PF_P, 0x300, 0x40));
    assertEquals(M_P, gw.missingFlags());
  }

  @Test
  void shouldReserveBits62To52InPaeEntriesOnly() {
    GuestWalk gw = new GuestWalk();
    WalkFixture f = pae();
    f.set8(0x302_000L + 4 * 8, 0x7000 | PRW | (1L << 52));
    assertFalse(f.walker(INTEL, GuestWalkSwitches.HARDENED)
        .guestWalkTables(GuestRegisters.pae(CR3_PAE), VA3, gw, PF_U, 0x300, 0x40));
    assertEquals(PF_P | PF_U | PF_R, gw.pfec());
    // 4-level: bits 58:52 are ignored.
    f = WalkFixture.long4();
    f.set8(L1_SLOT, f.get8(L1_SLOT) | (1L << 52));
    assertTrue(f.walker(INTEL, GuestWalkSwitches.HARDENED)
        .guestWalkTables(WalkFixture.regs4(), VA4, gw, PF_U, L4_FRAME, 0));
    assertEquals(DATA_FRAME, gw.gfn());
  }

  // ---- caller errors ------------------------------------------------------------------------

  @Test
  void shouldRejectCallerErrors() {
    WalkFixture f = WalkFixture.long4();
    GuestWalker w = f.walker(INTEL, GuestWalkSwitches.HARDENED);
    GuestWalk gw = new GuestWalk();
    GuestRegisters r = WalkFixture.regs4();
    assertThrows(IllegalArgumentException.class,
        () -> w.guestWalkTables(r, VA4, gw, IMPLICIT | PF_U, L4_FRAME, 0));
    assertThrows(IllegalArgumentException.class,
        () -> w.guestWalkTables(r, VA4, gw, IMPLICIT | PF_I, L4_FRAME, 0));
    assertThrows(IllegalArgumentException.class,
        () -> w.guestWalkTables(r.withCr4(r.cr4() | CR4_LA57), VA4, gw, 0, L4_FRAME, 0));
    assertThrows(IllegalArgumentException.class,
        () -> w.guestWalkTables(r.withCr0(0x11), VA4, gw, 0, L4_FRAME, 0));
    assertThrows(IllegalArgumentException.class, () -> w.guestWalkTables(r, VA4, gw, 0, -1, 0));
    assertThrows(IllegalArgumentException.class,
        () -> w.guestWalkTables(r, VA4, gw, 0, L4_FRAME, 0x20));
    assertThrows(IllegalArgumentException.class,
        () -> w.guestWalkTables(GuestRegisters.pae(CR3_PAE), VA3, gw, 0, 0x300, 0x48));
    assertThrows(IllegalStateException.class, gw::pageOrder);
    // The seed's walk has no implicit accesses and no such check.
    assertTrue(f.walker(INTEL, GuestWalkSwitches.SEED_2010)
        .guestWalkTables(r, VA4, gw, IMPLICIT | PF_U, L4_FRAME, 0));
    // An undefined lookup outcome is the lookup's bug.
    f.overrides.put(L3_FRAME, -99L);
    assertThrows(IllegalStateException.class, () -> w.guestWalkTables(r, VA4, gw, 0, L4_FRAME, 0));
  }

  @Test
  void shouldIgnoreRequestBitsOutsideTheWalkMask() {
    WalkFixture f = WalkFixture.long4();
    GuestWalk gw = new GuestWalk();
    assertTrue(f.walker(INTEL, GuestWalkSwitches.HARDENED).guestWalkTables(
        WalkFixture.regs4(), VA4, gw, PF_P | PF_U | PF_R | Pfec.PAGE_PAGED, L4_FRAME, 0));
    assertEquals(PF_P | PF_U, gw.pfec());
  }

  @Test
  void shouldDescribeAWalk() {
    WalkFixture f = WalkFixture.long4();
    GuestWalk gw = new GuestWalk();
    f.walker(INTEL, GuestWalkSwitches.HARDENED)
        .guestWalkTables(WalkFixture.regs4(), VA4, gw, PF_U, L4_FRAME, 0);
    assertEquals("GuestWalk[va=0x8080604567, levels=4, l4e=0x101027 (mfn 0x100),"
        + " l3e=0x102027 (mfn 0x101), l2e=0x103027 (mfn 0x102), l1e=0x5000027 (mfn 0x103),"
        + " leaf=1, pfec=P|U, missing=0]", gw.toString());
  }
}
