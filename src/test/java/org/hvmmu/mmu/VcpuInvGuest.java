package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.hvmmu.mmu.memory.PhysicalMemory;

/**
 * A 4-level guest for the invalidation tests of {@code VcpuInv*}: one plain and one global 4-KByte
 * page mapped to {@link #OLD} (+ page), built from the SDM's entry layouts by {@link GuestTables}.
 * The "kept vs removed" technique of {@code TlbInvalidationTest}: a translation is kept when, after
 * its leaf is rewritten without an invalidation, the old frame still comes back. The same with the
 * paging-structure caches: {@link #movePageTable()} points the page directory entry of the two
 * pages at a new page table without invalidating, and {@link #stale()} says whether a walk of
 * {@link #OTHER} still used the old entry.
 */
final class VcpuInvGuest {
  static final long CR0 = 0x8001_0011L; // PG | WP | ET | PE
  static final long EFER = 0xD00; // NXE | LMA | LME
  static final long PLAIN = 0x0000_0040_0000_1000L;
  static final long GLOBAL = 0x0000_0040_0000_2000L;
  /** Same page table as PLAIN and GLOBAL, not mapped until {@link #movePageTable()}. */
  static final long OTHER = 0x0000_0040_0000_4000L;
  static final long OLD = 0x10_0000;
  static final long NEW = 0x20_0000;
  static final long PCIDE = ControlRegisters.CR4_PCIDE;
  static final long PGE = ControlRegisters.CR4_PGE;
  static final long PAE = ControlRegisters.CR4_PAE;

  final PhysicalMemory memory = new PhysicalMemory(46);
  final GuestTables tables;
  final long root;
  final long root2;
  final Vcpu vcpu;

  VcpuInvGuest(MmuSwitches switches, TlbConfig tlbs, long cr4) {
    memory.addRam(0, 0xFFFF);
    tables = new GuestTables(memory, 0x1000);
    root = tables.newTable();
    tables.map(root, 4, PLAIN, OLD, 1, 0x27, 0x67);
    tables.map(root, 4, GLOBAL, OLD + 0x1000, 1, 0x27, 0x167);
    root2 = tables.newTable();
    memory.write(root2, 8, memory.read(root, 8));
    vcpu = new Vcpu(memory, MmuFeatures.intel(46), switches, tlbs, LatencyModel.GOLDEN_COVE);
    assertEquals(0, vcpu.loadState(CR0, root | ((cr4 & PCIDE) != 0 ? 1 : 0), cr4, EFER));
  }

  VcpuInvGuest(MmuSwitches switches, long cr4) {
    this(switches, TlbConfig.goldenCove(), cr4);
  }

  VcpuInvGuest() {
    this(MmuSwitches.DEFAULT, PAE | PGE);
  }

  void fill() {
    assertEquals(OLD, vcpu.translate(PLAIN, Access.READ));
    assertEquals(OLD + 0x1000, vcpu.translate(GLOBAL, Access.READ));
  }

  void fillAndRemap() {
    fill();
    remap();
  }

  void remap() {
    memory.write(tables.entryAddress(root, 4, PLAIN, 1), 8, NEW | 0x67);
    memory.write(tables.entryAddress(root, 4, GLOBAL, 1), 8, NEW + 0x1000 | 0x167);
  }

  /** Asserts whether both pages' old translations are kept. */
  void assertKept(boolean expected) {
    assertEquals(expected, kept(PLAIN));
    assertEquals(expected, kept(GLOBAL));
  }

  boolean kept(long la) {
    long r = vcpu.translate(la, Access.READ);
    long base = la == PLAIN ? 0 : 0x1000;
    if (r == OLD + base) {
      return true;
    }
    assertEquals(NEW + base, r);
    return false;
  }

  /** Points the PDE of PLAIN, GLOBAL and OTHER at a new table mapping only OTHER (to NEW). */
  void movePageTable() {
    movePageTable(tables, root, OTHER);
  }

  boolean stale() {
    return stale(vcpu, OTHER, NEW);
  }

  /** Points the PDE of {@code other} at a new table mapping only {@code other} to NEW. */
  static void movePageTable(GuestTables t, long root, long other) {
    long pt = t.newTable();
    t.write(pt + 8 * ((other >>> 12) & 0x1FF), NEW | 0x67);
    t.write(t.entryAddress(root, 4, other, 2), pt | 0x27);
  }

  /** Whether the walk of {@code other} used the old PDE (a #PF: not present in the old table). */
  static boolean stale(Vcpu v, long other, long expected) {
    long r = v.translate(other, Access.READ);
    if (r == expected) {
      return false;
    }
    assertEquals(FaultKind.PAGE_FAULT, kindOf(r));
    return true;
  }

  /** The kind of a fault, or null for a successful translation (an address). */
  static FaultKind kindOf(long result) {
    return Fault.isFault(result) ? Fault.kind(result) : null;
  }

  /** Paging-structure caches only: no TLB array, no nested caches. */
  static TlbConfig pscOnly() {
    CacheGeometry n = CacheGeometry.NONE;
    return new TlbConfig(List.of(), CacheGeometry.fullyAssociative(2),
        CacheGeometry.fullyAssociative(4), CacheGeometry.fullyAssociative(4),
        CacheGeometry.of(32, 4), n, n, n, n, n, 0x5EEDL);
  }

  /** A nested TLB (guest-physical mappings) only. */
  static TlbConfig nestedTlbOnly() {
    CacheGeometry n = CacheGeometry.NONE;
    return new TlbConfig(List.of(), n, n, n, n, n, CacheGeometry.of(64, 4), n, n, n, 0x5EEDL);
  }

  /** Golden Cove's structures with a 64-entry fully associative AMD-style entry cache. */
  static TlbConfig bigEntryCache() {
    TlbConfig g = TlbConfig.goldenCove();
    return new TlbConfig(g.tlbs(), g.pml5Cache(), g.pml4Cache(), g.pdptCache(), g.pdCache(),
        CacheGeometry.fullyAssociative(64), g.nestedTlb(), g.nestedPml4Cache(),
        g.nestedPdptCache(), g.nestedPdCache(), g.seed());
  }

  /** Golden Cove's TLBs and paging-structure caches, without any nested structure. */
  static TlbConfig withoutNestedCaches() {
    TlbConfig g = TlbConfig.goldenCove();
    CacheGeometry n = CacheGeometry.NONE;
    return new TlbConfig(g.tlbs(), g.pml5Cache(), g.pml4Cache(), g.pdptCache(), g.pdCache(),
        g.entryCache(), n, n, n, n, g.seed());
  }

  /** The AMD-style cache of entries tagged by physical address, every Intel structure else. */
  static MmuSwitches entryCache(MmuSwitches s) {
    return s.withPscStyle(MmuSwitches.PscStyle.AMD_PHYSICAL);
  }

  /** Full, partial and elided flush counts. */
  static long[] flushes(Vcpu v) {
    MmuCounters c = v.counters();
    return new long[] {c.flushesFull(), c.flushesPartial(), c.flushesElided()};
  }

  /** Asserts how each flush count grew since {@code before}. */
  static void assertFlushes(long[] before, Vcpu v, int full, int partial, int elided) {
    long[] now = flushes(v);
    assertEquals(full, now[0] - before[0], "full flushes");
    assertEquals(partial, now[1] - before[1], "partial flushes");
    assertEquals(elided, now[2] - before[2], "elided flushes");
  }
}
