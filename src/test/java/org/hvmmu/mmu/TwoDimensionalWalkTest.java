package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Memory references of 2-D walks: g guest levels over h nested levels read g guest entries and
 * translate g + 1 guest-physical addresses of h references each, (g + 1)(h + 1) - 1 in all (Bhargava
 * et al., ASPLOS 2008; reference mmu.md §4.1), for every combination of levels and page sizes, cold;
 * then hand-counted walks that hit the caches.
 */
class TwoDimensionalWalkTest {
  private static final long CR0 = ControlRegisters.CR0_PG | ControlRegisters.CR0_PE
      | ControlRegisters.CR0_WP;
  private static final long EFER = 0xD00; // LME | LMA | NXE
  private static final long DATA_GPA = 0x4000_0000L; // 1 GiB-aligned, in its own 2 MiB region
  private static final long LA = 0x0000_7F12_C000_0000L | 0x3456_7000L & 0x3FFF_FFFFL;

  static List<Arguments> combinations() {
    List<Arguments> out = new ArrayList<>();
    for (NestedPaging kind : new NestedPaging[] {NestedPaging.EPT, NestedPaging.NPT}) {
      for (int guestLevels : new int[] {4, 5}) {
        for (int guestLeaf = 1; guestLeaf <= 3; guestLeaf++) {
          for (int nestedLevels : new int[] {4, 5}) {
            for (int nestedLeaf = 1; nestedLeaf <= 3; nestedLeaf++) {
              int g = guestLevels - guestLeaf + 1;
              int h = nestedLevels - nestedLeaf + 1;
              out.add(Arguments.of(kind, guestLevels, guestLeaf, nestedLevels, nestedLeaf,
                  (g + 1) * (h + 1) - 1));
            }
          }
        }
      }
    }
    return out;
  }

  @ParameterizedTest(name = "{0}: guest {1}-level leaf L{2} over nested {3}-level leaf L{4}: {5}")
  @MethodSource("combinations")
  void shouldCountColdReferences(NestedPaging kind, int guestLevels, int guestLeaf,
      int nestedLevels, int nestedLeaf, int expected) {
    NestedFixture f = new NestedFixture(kind, nestedLevels, nestedLeaf);
    long root = f.guest.newTable();
    f.guest.map(root, guestLevels, LA, DATA_GPA, guestLeaf, 0x27, 0x67);
    long la = LA + 0x123;
    long pageMask = (1L << (12 + 9 * (guestLeaf - 1))) - 1;
    f.mapAll(DATA_GPA + (la & pageMask));
    Vcpu v = f.vcpu(TlbConfig.none());
    long cr4 = ControlRegisters.CR4_PAE | (guestLevels == 5 ? ControlRegisters.CR4_LA57 : 0);
    assertEquals(0, v.loadState(CR0, root, cr4, EFER));
    long r = v.translate(la, Access.READ);
    assertEquals(DATA_GPA + NestedFixture.OFFSET + (la & pageMask), r, () -> Fault.describe(r));
    assertEquals(expected, v.lastWalkReferences());
    assertEquals(expected, v.counters().references2d());
    // 24 for 4 over 4, 35 for 5 over 5, 19 with a 2 MiB guest leaf over 4 levels.
    if (guestLevels == 4 && nestedLevels == 4 && guestLeaf == 1 && nestedLeaf == 1) {
      assertEquals(24, expected);
    }
  }

  /**
   * With the caches warm, the page after the one just translated: counted by hand. A 4-KByte guest
   * leaf: the guest PDE cache (Intel) or the entry cache and the nested TLB (AMD) give the page
   * table, so the walk reads the guest PTE (1) and translates the new guest-physical page: with
   * 4-KByte nested leaves the nested PDE cache (Intel) or entry cache (AMD) leaves one nested read
   * (1), with larger nested leaves the nested TLB entry covers it (0). A larger guest leaf: if the
   * nested leaf is 4 KiB the combined translation was 4 KiB, so the walk reads the guest leaf (1)
   * and one nested entry (1); otherwise the combined translation covers the next page: a TLB hit.
   */
  @ParameterizedTest(name = "{0}: guest {1}-level leaf L{2} over nested {3}-level leaf L{4}, warm")
  @MethodSource("combinations")
  void shouldCountWarmReferences(NestedPaging kind, int guestLevels, int guestLeaf,
      int nestedLevels, int nestedLeaf, int cold) {
    NestedFixture f = new NestedFixture(kind, nestedLevels, nestedLeaf);
    long root = f.guest.newTable();
    long la = LA & ~0x3FFF_FFFFL; // 1 GiB-aligned: offset 0 in a page of any size
    f.guest.map(root, guestLevels, la, DATA_GPA, guestLeaf, 0x27, 0x67);
    if (guestLeaf == 1) {
      f.guest.map(root, guestLevels, la + 0x1000, DATA_GPA + 0x1000, 1, 0x27, 0x67);
    }
    f.mapAll(DATA_GPA, DATA_GPA + 0x1000);
    // AMD's entry cache is indexed by the entry's address: over 5 nested levels entry 0 of many
    // tables would share a 4-way set and evict each other. Fully associative, nothing is evicted
    // and the count is the hand count.
    TlbConfig g = TlbConfig.goldenCove();
    TlbConfig tlbs = new TlbConfig(g.tlbs(), g.pml5Cache(), g.pml4Cache(), g.pdptCache(),
        g.pdCache(), CacheGeometry.fullyAssociative(64), g.nestedTlb(), g.nestedPml4Cache(),
        g.nestedPdptCache(), g.nestedPdCache(), g.seed());
    Vcpu v = f.vcpu(tlbs);
    long cr4 = ControlRegisters.CR4_PAE | (guestLevels == 5 ? ControlRegisters.CR4_LA57 : 0);
    assertEquals(0, v.loadState(CR0, root, cr4, EFER));
    assertEquals(DATA_GPA + NestedFixture.OFFSET, v.translate(la, Access.READ));
    long walks = v.counters().walks();
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x1000, v.translate(la + 0x1000, Access.READ));
    boolean tlbHit = guestLeaf > 1 && nestedLeaf > 1;
    if (tlbHit) {
      assertEquals(walks, v.counters().walks(), "a TLB hit");
    } else {
      int expected = 1 + (nestedLeaf == 1 ? 1 : 0);
      assertEquals(expected, v.lastWalkReferences());
    }
  }

  @Test
  void shouldCountPaeAndLegacyGuests() {
    // PAE over 4-level EPT: the PDPTEs are registers loaded at MOV to CR3, g = 2: 14.
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    long pdpt = f.guest.newTable();
    long pd = f.guest.newTable();
    long pt = f.guest.newTable();
    long la = 0x8040_3123L;
    f.guest.write(pdpt + 8 * 2, pd | 1);
    f.guest.write(pd + 8 * ((la >>> 21) & 0x1FF), pt | 0x27);
    f.guest.write(pt + 8 * ((la >>> 12) & 0x1FF), DATA_GPA | 0x67);
    f.mapAll(DATA_GPA);
    Vcpu v = f.vcpu(TlbConfig.none());
    assertEquals(0, v.loadState(CR0, pdpt, ControlRegisters.CR4_PAE, 0));
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x123, v.translate(la, Access.READ));
    assertEquals(14, v.lastWalkReferences());

    // The same guest over NPT reads the PDPTEs on every walk: g = 3, 19.
    NestedFixture n = new NestedFixture(NestedPaging.NPT, 4, 1);
    pdpt = n.guest.newTable();
    pd = n.guest.newTable();
    pt = n.guest.newTable();
    n.guest.write(pdpt + 8 * 2, pd | 1);
    n.guest.write(pd + 8 * ((la >>> 21) & 0x1FF), pt | 0x27);
    n.guest.write(pt + 8 * ((la >>> 12) & 0x1FF), DATA_GPA | 0x67);
    n.mapAll(DATA_GPA);
    Vcpu w = n.vcpu(TlbConfig.none());
    assertEquals(0, w.loadState(CR0, pdpt, ControlRegisters.CR4_PAE, 0));
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x123, w.translate(la, Access.READ));
    assertEquals(19, w.lastWalkReferences());

    // A 32-bit guest with a 4-MByte page over 4-level EPT: g = 1, 9; with a 4-KByte page 14.
    NestedFixture l = new NestedFixture(NestedPaging.EPT, 4, 1);
    long dir = l.guest.newTable();
    long table = l.guest.newTable();
    long la4m = 0x8040_0000L;
    l.guest.memory.write(dir + NestedFixture.OFFSET + 4 * (la4m >>> 22), 4,
        DATA_GPA | 0xE7); // P RW US A D PS
    l.guest.memory.write(dir + NestedFixture.OFFSET + 4 * (la >>> 22) + 4, 4, table | 0x27);
    long la4k = la + (1L << 22);
    l.guest.memory.write(table + NestedFixture.OFFSET + 4 * ((la4k >>> 12) & 0x3FF), 4,
        DATA_GPA | 0x67);
    l.mapAll(DATA_GPA, DATA_GPA + 0x3000);
    Vcpu x = l.vcpu(TlbConfig.none());
    assertEquals(0, x.loadState(CR0, dir, ControlRegisters.CR4_PSE, 0));
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x3123, x.translate(la4m + 0x3123, Access.READ));
    assertEquals(9, x.lastWalkReferences());
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x123, x.translate(la4k, Access.READ));
    assertEquals(14, x.lastWalkReferences());
  }

  @Test
  void shouldCountWalksThatHitTheCaches() {
    // 4 over 4 on EPT with Golden Cove's caches. The guest's tables and the data page lie in
    // different 2 MiB regions of guest-physical memory.
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    long root = f.guest.newTable();
    f.guest.map(root, 4, LA, DATA_GPA, 1, 0x27, 0x67);
    f.guest.map(root, 4, LA + 0x1000, DATA_GPA + 0x1000, 1, 0x27, 0x67);
    f.guest.map(root, 4, LA + 0x20_0000, DATA_GPA + 0x20_0000, 1, 0x27, 0x67);
    f.mapAll(DATA_GPA, DATA_GPA + 0x1000, DATA_GPA + 0x20_0000);
    Vcpu v = f.vcpu(TlbConfig.goldenCove());
    assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, EFER));

    // Cold: translating CR3 walks 4 EPT levels and fills the nested PSCs (PML4E, PDPTE, PDE
    // caches); the guest PML4, PDPT, PD and PT all lie in the first 2 MiB of guest-physical
    // memory, so the next three table translations hit the nested PDE cache (1 reference each);
    // the data page lies in the second GiB: only the nested PML4E cache hits (3 references):
    // CR3 4 + PML4E 1 + PDPT 1 + PDPTE 1 + PD 1 + PDE 1 + PT 1 + PTE 1 + data 3 = 14.
    assertEquals(DATA_GPA + NestedFixture.OFFSET, v.translate(LA, Access.READ));
    assertEquals(14, v.lastWalkReferences());

    // The neighbouring page: the guest PDE cache gives the PT's host address; read the PTE (1),
    // translate the data GPA: nested TLB misses (another page), the nested PDE cache hits (1).
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x1000, v.translate(LA + 0x1000, Access.READ));
    assertEquals(2, v.lastWalkReferences());

    // The same page again: a TLB hit, no walk.
    long walks = v.counters().walks();
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x1000, v.translate(LA + 0x1000, Access.READ));
    assertEquals(walks, v.counters().walks());
    assertEquals(1, v.counters().l1Hits());

    // 2 MiB further: the guest PDPTE cache gives the PD (host address cached): PDE 1, then the PT
    // is a new guest-physical page in the tables' 2 MiB region: nested PDE cache hit, 1; PTE 1;
    // the data GPA's region is new: nested PDPTE cache hit, PDE + PTE, 2. Total 5.
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x20_0000,
        v.translate(LA + 0x20_0000, Access.READ));
    assertEquals(5, v.lastWalkReferences());
  }
}
