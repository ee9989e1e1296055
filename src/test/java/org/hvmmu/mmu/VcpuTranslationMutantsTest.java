package org.hvmmu.mmu;

import static org.hvmmu.mmu.GuestTables.A;
import static org.hvmmu.mmu.GuestTables.P;
import static org.hvmmu.mmu.GuestTables.RW;
import static org.hvmmu.mmu.GuestTables.US;
import static org.hvmmu.mmu.VcpuXlateTables.CR0;
import static org.hvmmu.mmu.VcpuXlateTables.CR4_PAE;
import static org.hvmmu.mmu.VcpuXlateTables.EFER_LONG;
import static org.hvmmu.mmu.VcpuXlateTables.LEAF;
import static org.hvmmu.mmu.VcpuXlateTables.array;
import static org.hvmmu.mmu.VcpuXlateTables.only;
import static org.hvmmu.mmu.VcpuXlateTables.ram;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * The TLB lookup and fill path of {@link Vcpu}: which array an access looks in and fills, how the
 * counters move, LRU order, second-level refills. Expected values are hand computations on the
 * model the API documents (TlbStructure: an array serves instructions and/or data, first or second
 * level, the page sizes it holds; {@code Vcpu.translate}: "looks up the first-level TLB of the
 * access's side, then the second level, then walks (filling the caches)"; two arrays of a level
 * holding one size split pages by vpn bit log2(sets); LRU replacement evicts the least recently
 * used way). Stale-entry checks rewrite a PTE without invalidating: an access must see the old
 * frame exactly when an array it may use still holds the page (SDM vol. 3A §4.10.2: TLBs cache
 * translations; a load never uses an entry that only an instruction fetch may use).
 */
class VcpuTranslationMutantsTest {
  private static final LatencyModel COSTS = new LatencyModel(1, 100, 0, 0, 0, 10_000, 0, 0, 0);

  private static Vcpu pae(PhysicalMemory m, VcpuXlateTables.Pae t, TlbConfig tlbs) {
    Vcpu v = new Vcpu(m, MmuFeatures.intel(m.maxPhyAddr()), MmuSwitches.DEFAULT, tlbs, COSTS);
    assertEquals(0, v.loadState(CR0, t.cr3, CR4_PAE, 0x800));
    return v;
  }

  private static Vcpu longMode(PhysicalMemory m, long root, TlbConfig tlbs) {
    Vcpu v = new Vcpu(m, MmuFeatures.intel(m.maxPhyAddr()), MmuSwitches.DEFAULT, tlbs, COSTS);
    assertEquals(0, v.loadState(CR0, root, CR4_PAE, EFER_LONG));
    return v;
  }

  private static long frame(int n) {
    return 0x40_0000L + 0x1000L * n;
  }

  /** L1: 4-set 2-way data array and a 2-way code array; L2: a 4-set 4-way data array. */
  private static TlbConfig twoLevels() {
    return only(
        array("itlb", 1, true, false, TlbStructure.SIZE_4K, 2, 2),
        array("dtlb", 1, false, true, TlbStructure.SIZE_4K, 8, 2),
        array("stlb", 2, false, true, TlbStructure.SIZE_4K, 16, 4));
  }

  @Test
  void aSecondLevelHitShouldRefillTheFirstLevelSetOfItsPage() {
    PhysicalMemory m = ram(46);
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    long[] vpns = {5, 9, 13}; // L1 set 1 of 4 (2 ways), L2 set 1 of 4 (4 ways)
    for (int i = 0; i < vpns.length; i++) {
      t.map4k(vpns[i] << 12, frame(i), LEAF);
      m.write(frame(i) + 8, 8, 0x1000 + i);
    }
    Vcpu v = pae(m, t, twoLevels());
    for (long vpn : vpns) {
      assertEquals(0x1000 + (vpn - 5) / 4, v.read((vpn << 12) + 8, 8, Access.READ));
    }
    // vpn 5 was the least recently used of set 1: the third fill evicted it from L1 only.
    assertEquals(0x1000, v.read(0x5008, 8, Access.READ)); // L2 hit, refill (evicts vpn 9)
    assertEquals(0x1000, v.read(0x5008, 8, Access.READ)); // L1 hit
    assertEquals(0x1002, v.read(0xD008, 8, Access.READ)); // L1 hit: vpn 13 stayed
    MmuCounters c = v.counters();
    assertEquals(3, c.walks());
    assertEquals(6, c.accesses());
    assertEquals(2, c.l1Hits());
    assertEquals(4, c.l1Misses());
    assertEquals(1, c.l2Hits());
    assertEquals(3, c.l2Misses());
    assertEquals(2, c.tlbArrayHits(1));
    assertEquals(1, c.tlbArrayHits(2));
    assertEquals(4, c.tlbArrayFills(1));
    assertEquals(3, c.tlbArrayFills(2));
    assertEquals(6 * 1 + 100, c.cycles(), "one L1 lookup per access, one L2 hit");
  }

  @Test
  void aPageAtPhysicalZeroShouldBeCachedAndHitAtEveryLevel() {
    PhysicalMemory m = ram(46);
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    t.map4k(0, 0, LEAF); // entry 0 of set 0 in both levels
    t.map4k(0x4000, frame(1), LEAF);
    t.map4k(0x8000, frame(2), LEAF);
    m.write(0, 8, 0x1122_3344_5566_7788L);
    Vcpu v = pae(m, t, twoLevels());
    assertEquals(0, v.translate(0, Access.READ));
    assertEquals(0x1122_3344_5566_7788L, v.read(0, 8, Access.READ));
    assertEquals(0, v.lastFault());
    assertEquals(1, v.counters().walks());
    assertEquals(1, v.counters().l1Hits());
    m.write(frame(1), 8, 0x4444);
    m.write(frame(2), 8, 0x8888);
    assertEquals(0x4444, v.read(0x4000, 8, Access.READ)); // same sets as page 0
    assertEquals(0x8888, v.read(0x8000, 8, Access.READ)); // evicts page 0 from L1 set 0
    assertEquals(0x7788, v.read(0, 2, Access.READ)); // L2 hit at index 0, refilled
    assertEquals(0x1122_3344_5566_7788L, v.read(0, 8, Access.READ));
    assertEquals(3, v.counters().walks());
    assertEquals(1, v.counters().l2Hits());
    assertEquals(2, v.counters().l1Hits());
    assertEquals(0, v.write(0, 4, 0xAABB_CCDDL, Access.READ));
    assertEquals(0x1122_3344_AABB_CCDDL, m.read(0, 8));
    assertEquals(3, v.counters().walks(), "the dirty leaf let the store hit");
  }

  @Test
  void aGlobalPageZeroShouldNotAnswerForOtherPagesOfItsSet() {
    PhysicalMemory m = ram(46);
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    long g = 0x100; // G
    t.map4k(0, frame(0), P | RW | US | A | g); // global, clean
    t.map4k(0x4000, frame(1), LEAF);
    t.map4k(0x8000, frame(2), LEAF | g);
    Vcpu v = new Vcpu(m, MmuFeatures.intel(46), MmuSwitches.DEFAULT, twoLevels(), COSTS);
    assertEquals(0, v.loadState(CR0, t.cr3, CR4_PAE | ControlRegisters.CR4_PGE, 0x800));
    assertEquals(frame(0) + 8, v.translate(8, Access.READ));
    assertEquals(frame(1) + 8, v.translate(0x4008, Access.READ));
    assertEquals(frame(2) + 8, v.translate(0x8008, Access.READ));
    assertEquals(frame(1) + 8, v.translate(0x4008, Access.WRITE));
    assertEquals(3, v.counters().walks());
    // The clean global entry is refilled with D by a store's walk, not duplicated.
    assertEquals(frame(2) + 8, v.translate(0x8008, Access.WRITE));
    assertEquals(frame(0) + 8, v.translate(8, Access.WRITE));
    assertEquals(4, v.counters().walks());
    // Push page 0 out of L1 again: the second level alone must now hold its dirty entry.
    assertEquals(frame(1), v.translate(0x4000, Access.READ));
    assertEquals(frame(2), v.translate(0x8000, Access.READ));
    assertEquals(frame(0) + 16, v.translate(16, Access.WRITE));
    assertEquals(frame(0) + 24, v.translate(24, Access.WRITE));
    assertEquals(4, v.counters().walks(), "the dirty global entry lets stores hit");
    assertEquals(3, v.counters().l2Hits());
  }

  /** Fills A, B in a 1-set 2-way array, uses A again, fills C: B must be the one evicted. */
  private interface Use {
    long use(Vcpu v, long la);
  }

  private static void assertLru(Vcpu v, Use use, long base) {
    long a = base;
    long b = base + 0x1000;
    long c = base + 0x2000;
    assertEquals(frame(0) + 0x10, use.use(v, a + 0x10));
    assertEquals(frame(1) + 0x10, use.use(v, b + 0x10));
    assertEquals(frame(0) + 0x20, use.use(v, a + 0x20)); // hit: A becomes most recent
    assertEquals(frame(2), use.use(v, c));
    long walks = v.counters().walks();
    assertEquals(3, walks);
    assertEquals(frame(0), use.use(v, a));
    assertEquals(3, v.counters().walks(), "A must have survived the fill of C");
    assertEquals(frame(1), use.use(v, b));
    assertEquals(4, v.counters().walks(), "B was evicted");
  }

  private static TlbConfig oneSetTwoWays() {
    return only(array("dtlb", 1, false, true, TlbStructure.SIZE_4K, 2, 2),
        array("itlb", 1, true, false, TlbStructure.SIZE_4K, 2, 2));
  }

  private static Vcpu lruGuest(boolean longMode, PhysicalMemory m) {
    for (int i = 0; i < 3; i++) {
      m.write(frame(i), 8, 0xF00 + i);
    }
    if (longMode) {
      GuestTables g = new GuestTables(m, 0x100);
      long root = g.newTable();
      for (int i = 0; i < 3; i++) {
        g.map(root, 4, 0x1000L * (i + 1), frame(i), 1, P | RW | US | A, LEAF);
      }
      return longMode(m, root, oneSetTwoWays());
    }
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    for (int i = 0; i < 3; i++) {
      t.map4k(0x1000L * (i + 1), frame(i), LEAF);
    }
    return pae(m, t, oneSetTwoWays());
  }

  @Test
  void aSlowPathHitShouldMakeTheEntryMostRecentlyUsed() {
    assertLru(lruGuest(false, ram(46)), (v, la) -> v.translate(la, Access.READ), 0x1000);
  }

  @Test
  void aFastPathTranslateHitShouldMakeTheEntryMostRecentlyUsed() {
    assertLru(lruGuest(true, ram(46)), (v, la) -> v.translate(la, Access.READ), 0x1000);
  }

  @Test
  void aFastPathLoadShouldMakeTheEntryMostRecentlyUsed() {
    PhysicalMemory m = ram(46);
    Vcpu v = lruGuest(true, m);
    for (int i = 0; i < 3; i++) {
      m.write(frame(i), 8, frame(i));
      m.write(frame(i) + 0x10, 8, frame(i) + 0x10);
      m.write(frame(i) + 0x20, 8, frame(i) + 0x20);
    }
    assertLru(v, (x, la) -> x.read(la, 8, Access.READ), 0x1000);
    assertEquals(2, v.counters().tlbArrayHits(0), "A twice");
    assertEquals(6, v.counters().accesses());
  }

  @Test
  void aFastPathStoreShouldMakeTheEntryMostRecentlyUsed() {
    PhysicalMemory m = ram(46);
    Vcpu v = lruGuest(true, m);
    long a = 0x1000;
    long b = 0x2000;
    long c = 0x3000;
    assertEquals(0, v.write(a + 0x10, 8, 0x5A, Access.READ));
    assertEquals(0, v.write(b + 0x10, 8, 0x5B, Access.READ));
    assertEquals(0, v.write(a + 0x20, 8, 1, Access.READ)); // fast-path store hit
    assertEquals(2, v.counters().walks());
    long hits = v.counters().tlbArrayHits(0);
    assertEquals(0, v.write(c, 8, 2, Access.READ)); // C evicts B, the least recently used
    assertEquals(3, v.counters().walks());
    assertEquals(0, v.write(a, 8, 3, Access.READ));
    assertEquals(3, v.counters().walks(), "A survived");
    assertEquals(hits + 1, v.counters().tlbArrayHits(0));
    assertEquals(3, m.read(frame(0), 8));
    assertEquals(1, m.read(frame(0) + 0x20, 8));
  }

  /** Fetch-only and load-only arrays, no second level: a load can't use what a fetch cached. */
  private static TlbConfig splitFirstLevel() {
    return only(array("itlb", 1, true, false, TlbStructure.SIZE_4K, 2, 2),
        array("dtlb", 1, false, true, TlbStructure.SIZE_4K, 2, 2));
  }

  private static void assertSidesApart(Vcpu v, PhysicalMemory m, long pteOfX, long pteOfY) {
    m.write(frame(0), 8, 0xAAA);
    m.write(frame(1), 8, 0xBBB);
    assertEquals(0xAAA, v.fetch(0x1000, 8, false)); // the code side caches X -> frame 0
    m.write(pteOfX, 8, frame(1) | LEAF); // remap X without invalidating
    assertEquals(0xBBB, v.read(0x1000, 8, Access.READ), "no data array held X");
    assertEquals(0xAAA, v.fetch(0x1000, 8, false), "the code array still does");
    assertEquals(0xAAA, v.read(0x2000, 8, Access.READ)); // Y -> frame 0, cached for data
    m.write(pteOfY, 8, frame(1) | LEAF);
    assertEquals(0xBBB, v.fetch(0x2000, 8, false), "no code array held Y");
    assertEquals(0xAAA, v.read(0x2000, 8, Access.READ), "the data array still does");
  }

  @Test
  void loadsAndFetchesShouldLookOnlyInTheirOwnArraysInLongMode() {
    PhysicalMemory m = ram(46);
    GuestTables g = new GuestTables(m, 0x100);
    long root = g.newTable();
    long x = g.map(root, 4, 0x1000, frame(0), 1, P | RW | US | A, LEAF);
    long y = g.map(root, 4, 0x2000, frame(0), 1, P | RW | US | A, LEAF);
    assertSidesApart(longMode(m, root, splitFirstLevel()), m, x, y);
  }

  @Test
  void loadsAndFetchesShouldLookOnlyInTheirOwnArraysInPaeMode() {
    PhysicalMemory m = ram(46);
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    long x = t.map4k(0x1000, frame(0), LEAF);
    long y = t.map4k(0x2000, frame(0), LEAF);
    assertSidesApart(pae(m, t, splitFirstLevel()), m, x, y);
  }

  /**
   * Code and data sides whose arrays hold different sizes in different orders: L1 code [4K],
   * L1 data [2M, 4K]; L2 code [4K], L2 data [2M, 4K]; one entry per L1 array.
   */
  private static TlbConfig unevenSides() {
    return only(
        array("itlb-4k", 1, true, false, TlbStructure.SIZE_4K, 1, 1),
        array("dtlb-2m", 1, false, true, TlbStructure.SIZE_LARGE, 1, 1),
        array("dtlb-4k", 1, false, true, TlbStructure.SIZE_4K, 1, 1),
        array("stlb-code", 2, true, false, TlbStructure.SIZE_4K, 4, 4),
        array("stlb-2m", 2, false, true, TlbStructure.SIZE_LARGE, 4, 4),
        array("stlb-4k", 2, false, true, TlbStructure.SIZE_4K, 4, 4));
  }

  @Test
  void eachSideShouldProbeAndFillItsOwnArraysForEverySize() {
    PhysicalMemory m = ram(46);
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    long x = 0x1000;
    long y = 0x2000;
    t.map4k(x, frame(0), LEAF);
    t.map4k(y, frame(1), LEAF);
    long z = 0x4000_0000L; // 2-MByte pages at 1 GiB and 1 GiB + 2 MiB
    long z2 = 0x4020_0000L;
    t.map2m(z, 0x0800_0000L, LEAF);
    t.map2m(z2, 0x0A00_0000L, LEAF);
    m.write(frame(0), 8, 0x10);
    m.write(frame(1), 8, 0x11);
    m.write(0x0801_2340L, 8, 0x12);
    Vcpu v = pae(m, t, unevenSides());
    MmuCounters c = v.counters();
    assertEquals(0x10, v.read(x, 8, Access.READ)); // walk 1
    assertEquals(0x10, v.read(x, 8, Access.READ)); // dtlb-4k hit
    assertEquals(0x11, v.read(y, 8, Access.READ)); // walk 2, evicts X from dtlb-4k
    assertEquals(0x10, v.read(x, 8, Access.READ)); // stlb-4k hit, refill
    assertEquals(0x10, v.read(x, 8, Access.READ)); // dtlb-4k hit
    assertEquals(2, c.walks());
    assertEquals(0x10, v.fetch(x, 8, false)); // walk 3: nothing on the code side
    assertEquals(0x10, v.fetch(x, 8, false)); // itlb hit
    assertEquals(0x11, v.fetch(y, 8, false)); // walk 4
    assertEquals(0x10, v.fetch(x, 8, false)); // stlb-code hit
    assertEquals(4, c.walks());
    assertEquals(0x12, v.read(z + 0x1_2340, 8, Access.READ)); // walk 5
    assertEquals(0x0801_2348L, v.translate(z + 0x1_2348, Access.READ)); // dtlb-2m hit
    assertEquals(0x0A00_0000L, v.translate(z2, Access.READ)); // walk 6, evicts Z from L1
    assertEquals(0x0801_2340L, v.translate(z + 0x1_2340, Access.WRITE)); // stlb-2m hit
    assertEquals(0x12, v.read(z + 0x1_2340, 8, Access.READ)); // dtlb-2m hit
    assertEquals(6, c.walks());
    long[] hits = {1, 2, 2, 1, 1, 1};
    long[] fills = {3, 3, 3, 2, 2, 2};
    for (int i = 0; i < 6; i++) {
      assertEquals(hits[i], c.tlbArrayHits(i), c.tlbArrayName(i));
      assertEquals(fills[i], c.tlbArrayFills(i), c.tlbArrayName(i));
    }
  }

  @Test
  void twoSecondLevelArraysOfOneSizeShouldSplitPagesByTheVpnBitAboveTheSetIndex() {
    PhysicalMemory m = ram(46);
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    for (int vpn = 0; vpn < 8; vpn++) {
      t.map4k(0x10_0000_0L + ((long) vpn << 12), frame(vpn), LEAF);
    }
    Vcpu v = pae(m, t, only(
        array("dtlb", 1, false, true, TlbStructure.SIZE_4K, 1, 1),
        array("stlb-a", 2, false, true, TlbStructure.SIZE_4K, 8, 2),
        array("stlb-b", 2, false, true, TlbStructure.SIZE_4K, 8, 2)));
    MmuCounters c = v.counters();
    long base = 0x10_0000_0L; // vpn 0x1000: bit 2 (log2 of 4 sets) clear
    assertEquals(frame(0), v.translate(base, Access.READ));
    assertEquals(1, c.tlbArrayFills(1));
    assertEquals(0, c.tlbArrayFills(2));
    assertEquals(frame(4), v.translate(base + 0x4000, Access.READ)); // vpn bit 2 set
    assertEquals(1, c.tlbArrayFills(1));
    assertEquals(1, c.tlbArrayFills(2));
    assertEquals(frame(3), v.translate(base + 0x3000, Access.READ));
    assertEquals(frame(7), v.translate(base + 0x7000, Access.READ));
    assertEquals(2, c.tlbArrayFills(1));
    assertEquals(2, c.tlbArrayFills(2));
    assertEquals(frame(0), v.translate(base, Access.READ));
    assertEquals(frame(4), v.translate(base + 0x4000, Access.READ));
    assertEquals(1, c.tlbArrayHits(1));
    assertEquals(1, c.tlbArrayHits(2));
    assertEquals(4, c.walks());
  }

  @Test
  void aStoreThatSetsDirtyShouldReplaceTheCleanEntryNotAddASecond() {
    PhysicalMemory m = ram(46);
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    long pte = t.map4k(0x1000, frame(0), P | RW | US | A); // D clear
    for (boolean longMode : new boolean[] {false, true}) {
      Vcpu v;
      if (longMode) {
        GuestTables g = new GuestTables(m, 0x200);
        long root = g.newTable();
        pte = g.map(root, 4, 0x1000, frame(0), 1, P | RW | US | A, P | RW | US | A);
        v = longMode(m, root, oneSetTwoWays());
      } else {
        v = pae(m, t, oneSetTwoWays());
      }
      assertEquals(frame(0), v.translate(0x1000, Access.READ)); // cached without D
      assertEquals(0, m.read(pte, 8) & GuestTables.D);
      assertEquals(0, v.write(0x1000, 8, 7, Access.READ)); // must walk to set D (SDM §4.8)
      assertEquals(GuestTables.D, m.read(pte, 8) & GuestTables.D);
      assertEquals(2, v.counters().walks());
      assertEquals(0, v.write(0x1008, 8, 8, Access.READ));
      assertEquals(0, v.write(0x1010, 8, 9, Access.READ));
      assertEquals(2, v.counters().walks(), "the refilled entry carries D: stores hit");
      assertEquals(1, v.counters().tlbArrayFills(0) - 1, "one walk refilled, one filled");
    }
  }

  @Test
  void aTranslationShouldUseTheFrameTheEntryNamesNotAnAliasOfItsFrameNumber() {
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(0, 0x2FF_FFFF); // up to 192 GiB, sparse
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    t.map4k(0x1000, 0x2000, LEAF);
    m.write(0x2000, 8, 0xAAAA);
    m.write(0x20_0000_0000L, 8, 0xBBBB); // frame 0x2000 << 12
    Vcpu v = pae(m, t, oneSetTwoWays());
    assertEquals(0xAAAA, v.read(0x1000, 8, Access.READ));
    assertEquals(0xAAAA, v.read(0x1000, 8, Access.READ));
    assertEquals(0, v.write(0x1000, 2, 0xCCCC, Access.READ));
    assertEquals(0xCCCC, m.read(0x2000, 8));
    assertEquals(0xBBBB, m.read(0x20_0000_0000L, 8));
  }

  @Test
  void aDisabledArrayShouldTakeNoFills() {
    PhysicalMemory m = ram(46);
    VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
    t.map4k(0x2000, frame(0), LEAF); // an even page number
    m.write(frame(0), 8, 0x77);
    Vcpu v = pae(m, t, only(
        new TlbStructure("off", 1, true, true, TlbStructure.SIZE_4K, CacheGeometry.NONE),
        array("dtlb", 1, false, true, TlbStructure.SIZE_4K, 2, 2)));
    assertEquals(0x77, v.read(0x2000, 8, Access.READ));
    assertEquals(0x77, v.read(0x2000, 8, Access.READ));
    assertEquals(0, v.counters().tlbArrayFills(0));
    assertEquals(1, v.counters().tlbArrayFills(1));
    assertEquals(1, v.counters().tlbArrayHits(1));
  }

  @Test
  void createShouldGiveAnIntelVcpuWithPagingOff() {
    PhysicalMemory m = ram(40);
    Vcpu v = Vcpu.create(m);
    assertEquals(40, v.features().maxPhyAddr());
    assertEquals(Vendor.INTEL, v.features().vendor());
    assertSame(MmuSwitches.DEFAULT, v.switches());
    assertEquals(PagingMode.NONE, v.pagingMode());
    assertEquals(0x1234_5678L, v.translate(0x1234_5678L, Access.WRITE), "paging off: LA = PA");
    assertEquals(12, v.lastPageShift());
    assertEquals(7, v.counters().tlbArrays());
    String s = v.toString();
    assertNotNull(s);
    assertTrue(s.startsWith("Vcpu[NONE, cr0=0x1,"), s);
    assertTrue(s.contains("nesting=NONE"), s);
  }
}
