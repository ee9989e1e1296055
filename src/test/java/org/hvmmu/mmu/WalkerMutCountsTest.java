package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * Memory references, cache hits and cycles of 2-D walks with paging-structure caches, counted by
 * hand. Intel style (SDM vol. 3A §4.10.3, vol. 3C §28.4: a PML4E, PDPTE or PDE cache entry keyed
 * by the upper bits of a linear or guest-physical address supplies the next table, so the walk
 * reads only the entries below it; guest-physical mappings are cached whole); AMD style (APM vol.
 * 2 §15.25.10 and the model's entry cache: entries of levels 2 and up, guest and nested, cached by
 * their host-physical address). The latency model gives each event a different weight, so the
 * cycle count spells out how many of each there were: 1 per cache hit, 1,000 per memory reference,
 * 1,000,000 per accessed/dirty update.
 */
class WalkerMutCountsTest {
  private static final long CR0 = 0x8001_0011L;
  private static final long CR4 = ControlRegisters.CR4_PAE;
  private static final long EFER = 0xD00;
  private static final long LA1 = 0x0000_0012_3456_7000L;
  private static final long DATA = 0x4000_0000L;
  private static final LatencyModel WEIGHTS =
      new LatencyModel(0, 0, 1, 1_000, 1_000_000, 0, 0, 0, 0);

  /** Guest pages: offset from LA1 and from DATA. */
  private static final long[] PAGES = {0, 0x1000, 0x20_0000, 0x4000_0000L, 0x1_0000_0000L};

  private static NestedFixture fixture(NestedPaging kind, long[] root) {
    NestedFixture f = new NestedFixture(kind, 4, 1);
    root[0] = f.guest.newTable();
    long[] gpas = new long[PAGES.length];
    for (int k = 0; k < PAGES.length; k++) {
      long la = LA1 + (k == 4 ? 0x4000_0000L : PAGES[k]);
      gpas[k] = DATA + PAGES[k];
      if (k < 4) {
        f.guest.map(root[0], 4, la, gpas[k], 1, 0x27, 0x67);
      }
    }
    f.mapAll(gpas);
    return f;
  }

  private static long cycles(Vcpu v, long la) {
    long before = v.counters().cycles();
    long r = v.translate(la, Access.READ);
    assertEquals(false, Fault.isFault(r), () -> Fault.describe(r));
    return v.counters().cycles() - before;
  }

  @Test
  void intelStyleCachesShouldShortenTheTwoDimensionalWalk() {
    long[] root = new long[1];
    NestedFixture f = fixture(NestedPaging.EPT, root);
    Vcpu v = new Vcpu(f.memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT,
        TlbConfig.goldenCove(), WEIGHTS);
    v.configureEpt(f.nestedRoot | 6 | (3 << 3), 1);
    assertEquals(0, v.loadState(CR0, root[0], CR4, EFER));
    // Cold: the guest PML4 page's GPA takes 4 EPT reads; the PDPT, PD and PT pages share its
    // 2-MByte region, so each takes 1 (EPT PDE cache); 4 guest entries; DATA shares only the
    // EPT PML4E: 3 EPT reads. 4 + 3 + 4 + 3 = 14 references, 4 nested cache hits.
    assertEquals(14_004, cycles(v, LA1));
    assertEquals(14, v.lastWalkReferences());
    assertEquals(1, v.counters().pagingStructureCacheMisses());
    assertEquals(5, v.counters().nestedTlbMisses());
    // Next 4-KByte page: the guest PDE cache gives the PT (no nested translation of it), 1 PTE;
    // DATA + 4K hits the EPT PDE cache: 1 EPT read.
    assertEquals(2_002, cycles(v, LA1 + 0x1000));
    assertEquals(1, v.counters().pagingStructureCacheHits(2));
    assertEquals(1, v.counters().pagingStructureCacheMisses());
    // Next 2-MByte region: the guest PDPTE cache gives the PD: 1 PDE; the new PT page: 1 EPT read
    // (EPT PDE cache) and 1 PTE; DATA + 2M: EPT PDPTE cache, 2 EPT reads.
    assertEquals(5_003, cycles(v, LA1 + 0x20_0000)); // 3 cache hits
    assertEquals(1, v.counters().pagingStructureCacheHits(3));
    // Next 1-GByte region: the guest PML4E cache gives the PDPT: 1 PDPTE; the new PD and PT
    // pages: 1 EPT read and 1 guest read each; DATA + 1G: EPT PML4E cache, 3 EPT reads.
    assertEquals(8_004, cycles(v, LA1 + 0x4000_0000L));
    assertEquals(1, v.counters().pagingStructureCacheHits(4));
    assertEquals(0, v.counters().nestedTlbHits());
    assertEquals(1, v.counters().pagingStructureCacheMisses());
    // The TLB now holds LA1: no walk.
    long walks = v.counters().walks();
    assertEquals(0, cycles(v, LA1 + 8));
    assertEquals(walks, v.counters().walks());
  }

  @Test
  void intelStyleCachesShouldShortenAOneDimensionalWalk() {
    GuestTables t = new GuestTables(new PhysicalMemory(46), 0x100);
    t.memory.addRam(0, (8L << 30 >>> 12) - 1);
    long root = t.newTable();
    for (int k = 0; k < 4; k++) {
      t.map(root, 4, LA1 + PAGES[k], DATA + PAGES[k], 1, 0x27, 0x67);
    }
    Vcpu v = new Vcpu(t.memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT,
        TlbConfig.goldenCove(), WEIGHTS);
    assertEquals(0, v.loadState(CR0, root, CR4, EFER));
    assertEquals(4_000, cycles(v, LA1));
    assertEquals(1_001, cycles(v, LA1 + 0x1000));
    assertEquals(2_001, cycles(v, LA1 + 0x20_0000));
    assertEquals(3_001, cycles(v, LA1 + 0x4000_0000L));
    assertEquals(4 + 1 + 2 + 3, v.counters().references1d());
    assertEquals(0, v.counters().references2d());
  }

  @Test
  void amdStyleEntryCacheShouldServeGuestAndNestedEntries() {
    long[] root = new long[1];
    NestedFixture f = fixture(NestedPaging.NPT, root);
    Vcpu v = new Vcpu(f.memory, MmuFeatures.amd(46), MmuSwitches.AMD, TlbConfig.goldenCove(),
        WEIGHTS);
    v.configureNpt(f.nestedRoot, 1, 0x20, 0xD00);
    assertEquals(0, v.loadState(CR0, root[0], CR4, EFER));
    // Cold: the PML4 page's GPA: 4 nested reads, each entry gets A (4 updates); the PDPT, PD and
    // PT pages: nested PML4E, PDPTE and PDE from the entry cache (3 hits), 1 nested PTE read and
    // its A; 4 guest entries (A already set); DATA: nested PML4E cached, 3 reads, 3 A updates.
    // 14 references, 10 updates, 10 hits.
    assertEquals(10_014_010, cycles(v, LA1));
    assertEquals(14, v.lastWalkReferences());
    assertEquals(10, v.counters().accessedDirtyWrites());
    assertEquals(4, v.counters().pagingStructureCacheHits(4));
    assertEquals(3, v.counters().pagingStructureCacheHits(3));
    assertEquals(3, v.counters().pagingStructureCacheHits(2));
    // Next page: the 4 table pages' GPAs hit the nested TLB (4 hits), the guest PML4E, PDPTE and
    // PDE come from the entry cache (3 hits), 1 guest PTE read; DATA + 4K: 3 nested entries
    // cached, 1 nested PTE read and its A.
    assertEquals(1_002_010, cycles(v, LA1 + 0x1000));
    assertEquals(2, v.lastWalkReferences());
    assertEquals(4, v.counters().nestedTlbHits());
    assertEquals(6, v.counters().pagingStructureCacheHits(4));
    assertEquals(5, v.counters().pagingStructureCacheHits(3));
    assertEquals(5, v.counters().pagingStructureCacheHits(2));
  }

  @Test
  void aPdpteCacheHitShouldRefreshItsEntryForReplacement() {
    // The PDPTE cache of goldenCove() holds 4 entries under tree pseudo-LRU. Regions R0..R3
    // (1 GByte each) fill its ways 0..3; a hit on R0 then makes the tree point away from way 0,
    // at the pair (2, 3) and in it at way 2, so R4 replaces R2 and R0 still hits afterwards.
    GuestTables t = new GuestTables(new PhysicalMemory(46), 0x100);
    t.memory.addRam(0, 0x7FFFF);
    long root = t.newTable();
    long base = 0x0000_0012_0000_0000L;
    long[] las = {base, base + (1L << 30), base + (2L << 30), base + (3L << 30),
        base + 0x20_0000, base + (4L << 30), base + 0x40_0000};
    for (long la : las) {
      t.map(root, 4, la, DATA, 1, 0x27, 0x67);
    }
    Vcpu v = new Vcpu(t.memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT,
        TlbConfig.goldenCove(), WEIGHTS);
    assertEquals(0, v.loadState(CR0, root, CR4, EFER));
    long[] pdpteHits = {0, 0, 0, 0, 1, 1, 2};
    long[] pml4eHits = {0, 1, 2, 3, 3, 4, 4};
    for (int k = 0; k < las.length; k++) {
      cycles(v, las[k]);
      assertEquals(pdpteHits[k], v.counters().pagingStructureCacheHits(3), "access " + k);
      assertEquals(pml4eHits[k], v.counters().pagingStructureCacheHits(4), "access " + k);
    }
  }

  @Test
  void anEptPdpteCacheHitShouldRefreshItsEntryForReplacement() {
    // The EPT PDPTE cache (4 entries, tree pseudo-LRU) fills with the 1-GByte regions 0 (the guest
    // tables), 1, 5 and 6; a hit on region 1 makes region 5 the victim, so after region 7 comes
    // in, region 5 takes 3 EPT reads again (from the PML4E cache) instead of 2.
    long g = 1L << 30;
    long[] gpas = {g, 5 * g, 6 * g, g + 0x20_0000, 7 * g, 5 * g + 0x20_0000};
    int[] references = {14, 4, 4, 3, 4, 4};
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    long root = f.guest.newTable();
    for (int k = 0; k < gpas.length; k++) {
      f.guest.map(root, 4, LA1 + k * 0x1000L, gpas[k], 1, 0x27, 0x67);
    }
    f.mapAll(gpas);
    Vcpu v = new Vcpu(f.memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT,
        TlbConfig.goldenCove(), WEIGHTS);
    v.configureEpt(f.nestedRoot | 6 | (3 << 3), 1);
    assertEquals(0, v.loadState(CR0, root, CR4, EFER));
    for (int k = 0; k < gpas.length; k++) {
      assertEquals(gpas[k] + NestedFixture.OFFSET, v.translate(LA1 + k * 0x1000L, Access.READ));
      assertEquals(references[k], v.lastWalkReferences(), "access " + k);
    }
  }
}
