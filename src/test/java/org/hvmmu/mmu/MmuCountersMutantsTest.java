package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * Every counter of {@link MmuCounters} driven to a value other than zero, then reset. Expected
 * values are counted by hand from the definitions in the class's Javadoc and docs/mmu.md ("every
 * translation counts one access and then exactly one of a first-level hit, a second-level hit, or
 * a walk"; cycles: "every access pays the first-level lookup, then what its path added") and
 * {@link LatencyModel}'s sum rule; each latency is distinct (first-level lookup 3, so that a
 * product and a quotient differ) and the TLBs are one-entry arrays so that every eviction is
 * known. Reference counts are 1-D walks of 4 levels cut by paging-structure-cache hits (SDM vol.
 * 3A §4.10.3: a PDE-cache hit leaves one reference, a PDPTE-cache hit two), and the 2-D walk's
 * (4 + 1)(4 + 1) - 1 = 24 (mmu.md §4.1).
 */
class MmuCountersMutantsTest {
  private static final long CR0 = 0x8001_0011L; // PG | WP | ET | PE
  private static final long EFER = 0xD00; // LME | LMA | NXE
  private static final LatencyModel LAT =
      new LatencyModel(3, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 7, 50);
  /** A 4-KByte page with A and D set. */
  private static final long LA_A = 0x0000_1234_5678_9000L;
  /** The next 4-KByte page, same page table, its PTE without A. */
  private static final long LA_B = LA_A + 0x1000;
  /** The next 2-MByte region (PD index + 1, same PDPTE): one 2-MByte page. */
  private static final long LA_C = 0x0000_1234_5680_0000L;
  /** Same page table as A, not present. */
  private static final long LA_D = LA_A + 0x5000;

  private static TlbConfig oneEntryTlbs() {
    CacheGeometry none = CacheGeometry.NONE;
    CacheGeometry four = CacheGeometry.fullyAssociative(4);
    return new TlbConfig(
        List.of(
            new TlbStructure("l1d-4k", 1, false, true, TlbStructure.SIZE_4K,
                CacheGeometry.fullyAssociative(1)),
            new TlbStructure("l1d-2m", 1, false, true, TlbStructure.SIZE_LARGE,
                CacheGeometry.fullyAssociative(1)),
            new TlbStructure("l2", 2, false, true, TlbStructure.SIZE_4K | TlbStructure.SIZE_LARGE,
                CacheGeometry.fullyAssociative(8))),
        none, four, four, four, none, none, none, none, none, 1);
  }

  @Test
  void everyCounterShouldCountItsEventsAndResetToZero() {
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(0, 0xFFFFF);
    GuestTables t = new GuestTables(m, 0x100);
    long root = t.newTable();
    t.map(root, 4, LA_A, 0x30000, 1, 0x27, 0x67);
    t.map(root, 4, LA_B, 0x40000, 1, 0x27, 0x07);
    t.map(root, 4, LA_C, 0x60_0000, 2, 0x27, 0x67);
    Vcpu v = new Vcpu(m, MmuFeatures.intel(46), MmuSwitches.DEFAULT, oneEntryTlbs(), LAT);
    assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, EFER));
    MmuCounters c = v.counters();
    long base = c.cycles();
    assertEquals(50, base, "loadState's (elided) full flush");
    assertEquals(3, c.tlbArrays());
    assertEquals("l1d-4k", c.tlbArrayName(0));
    assertEquals("l1d-2m", c.tlbArrayName(1));
    assertEquals("l2", c.tlbArrayName(2));

    // 1. A, cold: misses in both levels, a walk with no cache hit, 4 references.
    assertEquals(0x30000 + 0x123, v.translate(LA_A + 0x123, Access.READ));
    // 2. A again: a first-level hit.
    assertEquals(0x30000 + 0x456, v.translate(LA_A + 0x456, Access.READ));
    // 3. B: misses (the one-entry array holds A), a PDE-cache hit, 1 reference, A set on the
    // PTE (1 A/D write); B replaces A in the first level.
    assertEquals(0x40000, v.translate(LA_B, Access.READ));
    // 4. A: a first-level miss, a second-level hit that refills the first level.
    assertEquals(0x30000 + 8, v.translate(LA_A + 8, Access.READ));
    // 5. C: misses, a PDPTE-cache hit, 1 reference (the 2-MByte PDE).
    assertEquals(0x60_0000 + 0x1_2345, v.translate(LA_C + 0x1_2345, Access.READ));
    // 6. C again: a first-level hit in the 2-MByte array.
    assertEquals(0x60_0000 + 0x10, v.translate(LA_C + 0x10, Access.READ));
    // 7. D: misses, a PDE-cache hit, 1 reference to a not-present PTE: #PF.
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(v.translate(LA_D, Access.READ)));

    assertEquals(7, c.accesses());
    assertEquals(2, c.l1Hits(), "steps 2 and 6");
    assertEquals(5, c.l1Misses(), "steps 1, 3, 4, 5 and 7");
    assertEquals(1, c.l2Hits(), "step 4");
    assertEquals(4, c.l2Misses(), "steps 1, 3, 5 and 7");
    assertEquals(4, c.walks());
    assertEquals(4 + 1 + 1 + 1, c.references1d());
    assertEquals(0, c.references2d());
    assertEquals(1, c.accessedDirtyWrites());
    assertEquals(1, c.pageFaults());
    assertEquals(2, c.pagingStructureCacheHits(2), "steps 3 and 7");
    assertEquals(1, c.pagingStructureCacheHits(3), "step 5");
    assertEquals(0, c.pagingStructureCacheHits(4));
    assertEquals(1, c.pagingStructureCacheMisses(), "step 1");
    assertEquals(1, c.tlbArrayHits(0), "step 2");
    assertEquals(1, c.tlbArrayHits(1), "step 6");
    assertEquals(1, c.tlbArrayHits(2), "step 4");
    assertEquals(3, c.tlbArrayFills(0), "A, B, A again from the second level");
    assertEquals(1, c.tlbArrayFills(1), "C");
    assertEquals(3, c.tlbArrayFills(2), "A, B, C");
    // 7 first-level lookups at 3; references 7,000; PSC hits 300; one A/D write 10,000; one
    // second-level hit 10; one #PF 100,000.
    assertEquals(base + 7 * 3 + 7_000 + 300 + 10_000 + 10 + 100_000, c.cycles());

    c.reset();
    assertEquals(0, c.accesses());
    assertEquals(0, c.l1Hits());
    assertEquals(0, c.cycles());
    for (int level = 2; level <= 5; level++) {
      assertEquals(0, c.pagingStructureCacheHits(level));
    }
    for (int i = 0; i < 3; i++) {
      assertEquals(0, c.tlbArrayHits(i));
      assertEquals(0, c.tlbArrayFills(i));
    }
    // 8. A: still in the first level (steps 5 to 7 did not touch it): one hit since the reset.
    assertEquals(0x30000, v.translate(LA_A, Access.READ));
    assertEquals(1, c.accesses());
    assertEquals(1, c.l1Hits());
    assertEquals(1, c.tlbArrayHits(0));
    assertEquals(3, c.cycles());
    // 9. C: a first-level hit in the 2-MByte array.
    assertEquals(0x60_0000 + 0x20, v.translate(LA_C + 0x20, Access.READ));
    assertEquals(2, c.accesses());
    assertEquals(2, c.l1Hits());
    assertEquals(1, c.tlbArrayHits(1));
    assertEquals(0, c.tlbArrayFills(0) + c.tlbArrayFills(1) + c.tlbArrayFills(2));
    assertEquals(6, c.cycles());
    // 10. INVLPG of C, cached: a partial flush (7). 11. Reloading the registers drops every
    // cached translation: a full flush (50). 12. INVLPG of C again finds nothing: elided (7).
    v.invlpg(LA_C);
    assertEquals(1, c.flushesPartial());
    assertEquals(6 + 7, c.cycles());
    assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, EFER));
    assertEquals(1, c.flushesFull());
    assertEquals(6 + 7 + 50, c.cycles());
    v.invlpg(LA_C);
    assertEquals(1, c.flushesElided());
    assertEquals(1, c.flushesPartial());
    assertEquals(6 + 7 + 50 + 7, c.cycles());
  }

  @Test
  void theNestedTlbShouldCountMissesThenHits() {
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    long dataGpa = 0x4000_0000L;
    long root = f.guest.newTable();
    f.guest.map(root, 4, LA_A, dataGpa, 1, 0x27, 0x67);
    f.mapAll(dataGpa);
    CacheGeometry none = CacheGeometry.NONE;
    TlbConfig onlyNestedTlb = new TlbConfig(List.of(), none, none, none, none, none,
        CacheGeometry.fullyAssociative(8), none, none, none, 1);
    Vcpu v = f.vcpu(onlyNestedTlb);
    assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, EFER));
    MmuCounters c = v.counters();
    long host = dataGpa + NestedFixture.OFFSET;
    // Cold: the guest-physical addresses of CR3's table, the three tables below it and the data
    // page each miss and take a 4-reference nested walk: 4 + 5 * 4 = 24 references.
    assertEquals(host + 0x10, v.translate(LA_A + 0x10, Access.READ));
    assertEquals(5, c.nestedTlbMisses());
    assertEquals(0, c.nestedTlbHits());
    assertEquals(24, c.references2d());
    // Again (no guest TLB): the same 5 addresses hit; only the 4 guest entries are read.
    assertEquals(host + 0x18, v.translate(LA_A + 0x18, Access.READ));
    assertEquals(5, c.nestedTlbMisses());
    assertEquals(5, c.nestedTlbHits());
    assertEquals(28, c.references2d());
    assertEquals(2, c.walks());
    c.reset();
    assertEquals(0, c.nestedTlbHits() + c.nestedTlbMisses() + c.references2d() + c.walks());
  }
}
