package org.hvmmu.mmu;

import static org.hvmmu.mmu.AddressSpaceWalker.NOT_MAPPED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * {@link AddressSpaceWalker} on hand-built tables, the expected mappings worked out by hand from
 * the entry layouts of SDM vol. 3A §4.3 (32-bit paging: 1024 4-byte entries, CR3 bits 31:12, PSE
 * 4-MByte pages), §4.4 (PAE: four PDPTEs at CR3 bits 31:5, a PDPTE with P = 0 maps nothing
 * whatever its other bits), §4.5 (PS is a leaf flag in PDEs and PDPTEs only), the EPT layout of
 * SDM vol. 3C §28.3.2 and the NPT layout of APM vol. 2 §15.25 (a 5-level nested walk with host
 * CR4.LA57), and the class's documented contract (unreadable tables counted and treated as empty;
 * the visitor's non-zero result stops the walk and is returned; {@code entry(level)} only for the
 * levels of the last path).
 */
class WalkerMutAddressSpaceTest {
  private record Leaf(long la, long pa, int shift, long entryAddress) {}

  private static PhysicalMemory memory() {
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(0, 0x7FFF); // 128 MiB
    return m;
  }

  private static List<Leaf> leaves(AddressSpaceWalker w, int leafLevelOfInterest) {
    List<Leaf> out = new ArrayList<>();
    assertEquals(0, w.walk((la, pa, shift, entry, rights) -> {
      out.add(new Leaf(la, pa, shift, w.entryAddress(leafLevelOfInterest)));
      return 0;
    }));
    return out;
  }

  // ---- 32-bit paging -----------------------------------------------------------------------

  /** PD at 0x1000; see {@link #thirtyTwoBitWalkShouldUseAll1024Entries}. */
  private static PhysicalMemory thirtyTwoBit() {
    PhysicalMemory m = memory();
    m.write(0x1000 + 1 * 4, 4, 0x3006); // PDE[1]: P = 0, a frame anyway
    m.write(0x1000 + 2 * 4, 4, 0x1000_0007L); // PDE[2]: a PT outside RAM
    m.write(0x1000 + 0x300 * 4, 4, 0x2007); // PDE[0x300] -> PT 0x2000
    m.write(0x1000 + 0x301 * 4, 4, 0x0080_0087L); // PDE[0x301]: 4 MiB at 8 MiB
    m.write(0x2000 + 0x3FF * 4, 4, 0x5007); // PTE[0x3FF] -> 0x5000
    m.write(0x2000 + 0x3FE * 4, 4, 0x6006); // PTE[0x3FE]: not present
    return m;
  }

  @Test
  void thirtyTwoBitWalkShouldUseAll1024Entries() {
    AddressSpaceWalker w = new AddressSpaceWalker(thirtyTwoBit(), 0x8000_0001L, 0x1000, 0x10, 0);
    List<Leaf> pt = leaves(w, 2);
    // la = PDE index << 22 | PTE index << 12; the PDE addresses are 0x1000 + 4 * index.
    assertEquals(List.of(new Leaf(0xC03F_F000L, 0x5000, 12, 0x1C00),
        new Leaf(0xC040_0000L, 0x80_0000, 22, 0x1C04)), pt);
    assertEquals(1, w.unreadableTables());
    assertEquals(2, w.tablesRead());
    List<Long> pteAddresses = new ArrayList<>();
    w.walk((la, pa, shift, entry, rights) -> {
      if (shift == 12) {
        pteAddresses.add(w.entryAddress(1));
      }
      return 0;
    });
    assertEquals(List.of(0x2FFCL), pteAddresses);
  }

  @Test
  void thirtyTwoBitWalkShouldStopWhereTheVisitorSays() {
    AddressSpaceWalker w = new AddressSpaceWalker(thirtyTwoBit(), 0x8000_0001L, 0x1000, 0x10, 0);
    assertEquals(5, w.walk((la, pa, shift, entry, rights) -> 5));
    assertEquals(1, w.mappings());
    assertEquals(9, w.walk((la, pa, shift, entry, rights) -> shift == 22 ? 9 : 0));
    assertEquals(2, w.mappings());
  }

  @Test
  void thirtyTwoBitLookupShouldIndexAll1024EntriesAndIgnoreCr3BitsAbove31() {
    for (long cr3 : new long[] {0x1000, 0x1_0000_1000L}) {
      AddressSpaceWalker w = new AddressSpaceWalker(thirtyTwoBit(), 0x8000_0001L, cr3, 0x10, 0);
      assertEquals(0x5ABC, w.lookup(0xC03F_FABCL));
      assertEquals(1, w.leafLevel());
      assertEquals(0x2FFC, w.entryAddress(1));
      assertEquals(0x1C00, w.entryAddress(2));
      assertEquals(NOT_MAPPED, w.lookup(0x0040_0000L), "PDE[1] is not present");
      assertEquals(NOT_MAPPED, w.lookup(0xC03F_E000L), "PTE[0x3FE] is not present");
      assertEquals(0x80_1234, w.lookup(0xC040_1234L));
      assertEquals(22, w.lookupPageShift());
      assertThrows(IllegalArgumentException.class, () -> w.entry(1), "below the 4 MiB leaf");
    }
  }

  @Test
  void aPageDirectoryOutsideRamShouldBeAnEmptyUnreadableTable() {
    AddressSpaceWalker w =
        new AddressSpaceWalker(thirtyTwoBit(), 0x8000_0001L, 0x1000_0000L, 0x10, 0);
    assertEquals(0, leaves(w, 2).size());
    assertEquals(1, w.unreadableTables());
    assertEquals(0, w.tablesRead());
  }

  // ---- PAE ---------------------------------------------------------------------------------

  private static PhysicalMemory pae() {
    PhysicalMemory m = memory();
    m.write(0x1000 + 1 * 8, 8, 0x2000); // PDPTE[1]: P = 0
    m.write(0x1000 + 2 * 8, 8, 0x2001); // PDPTE[2] -> PD 0x2000
    m.write(0x1000 + 4 * 8, 8, 0x3001); // not a PDPTE: the PDPT has four entries
    m.write(0x2000, 8, 0x4007); // PDE[0] -> PT 0x4000
    m.write(0x2000 + 8, 8, 0x20_0087); // PDE[1]: 2 MiB at 2 MiB
    m.write(0x4000 + 8, 8, 0x5007); // PTE[1] -> 0x5000
    m.write(0x3000, 8, 0x40_0087); // would be a 2 MiB page if the fifth "PDPTE" were read
    return m;
  }

  @Test
  void paeWalkShouldReadFourPdptesOnly() {
    AddressSpaceWalker w =
        new AddressSpaceWalker(pae(), 0x8000_0001L, 0x1000, ControlRegisters.CR4_PAE, 0);
    assertEquals(List.of(new Leaf(0x8000_1000L, 0x5000, 12, 0x1010),
        new Leaf(0x8020_0000L, 0x20_0000, 21, 0x1010)), leaves(w, 3));
    assertEquals(7, w.walk((la, pa, shift, entry, rights) -> 7));
    // PDPTE[1] is not present, though its frame holds a PD that would map 0x4000_1000.
    assertEquals(NOT_MAPPED, w.lookup(0x4000_1000L), "PDPTE[1] is not present");
    assertEquals(0x5008, w.lookup(0x8000_1008L));
    AddressSpaceWalker outside =
        new AddressSpaceWalker(pae(), 0x8000_0001L, 0x1000_0000L, ControlRegisters.CR4_PAE, 0);
    assertEquals(0, leaves(outside, 3).size());
    assertEquals(1, outside.unreadableTables());
  }

  // ---- IA-32e paging and nested tables ------------------------------------------------------

  private static final long LONG_CR0 = 0x8001_0001L;
  private static final long LONG_EFER = 0xD01;

  /** Guest tables at {@code base}: PML4E[0] with PS (ignored), a 2 MiB and a 1 GiB page. */
  private static void longTables(PhysicalMemory m, long base) {
    m.write(base, 8, (base + 0x1000) | 0x87); // PS in a PML4E references a table anyway
    m.write(base + 0x1000, 8, (base + 0x2000) | 7); // PDPTE[0] -> PD
    m.write(base + 0x1000 + 8, 8, 0x4000_0087L); // PDPTE[1]: 1 GiB at 1 GiB
    m.write(base + 0x2000 + 8, 8, 0x40_0087); // PDE[1]: 2 MiB at 4 MiB
  }

  private static final List<Leaf> LONG_LEAVES = List.of(
      new Leaf(0x20_0000, 0x40_0000, 21, 0), new Leaf(0x4000_0000L, 0x4000_0000L, 30, 0));

  private static List<Leaf> longLeaves(AddressSpaceWalker w) {
    List<Leaf> out = new ArrayList<>();
    assertEquals(0, w.walk((la, pa, shift, entry, rights) -> {
      out.add(new Leaf(la, pa, shift, 0));
      return 0;
    }));
    return out;
  }

  @Test
  void longModeShouldFollowAPml4eWithPsAndStopAtLargePages() {
    for (long base : new long[] {0, 0x10_0000}) {
      PhysicalMemory m = memory();
      longTables(m, base);
      AddressSpaceWalker w = new AddressSpaceWalker(m, LONG_CR0, base, 0x20, LONG_EFER);
      assertEquals(LONG_LEAVES, longLeaves(w), "tables at 0x" + Long.toHexString(base));
      assertEquals(3, w.tablesRead());
      assertEquals(0x4000_1234L, w.lookup(0x4000_1234L));
      assertEquals(3, w.leafLevel());
      assertThrows(IllegalArgumentException.class, () -> w.entry(2));
      assertEquals((base + 0x1000) | 0x87, w.entry(4));
      assertThrows(IllegalArgumentException.class, () -> w.entry(5));
      assertThrows(IllegalArgumentException.class, () -> w.entryAddress(5));
      assertEquals(0x40_0ABC, w.lookup(0x20_0ABC));
      assertEquals(base + 0x2008, w.entryAddress(2));
    }
  }

  @Test
  void entryShouldRejectEveryLevelBeforeALookup() {
    PhysicalMemory m = memory();
    longTables(m, 0x10_0000);
    AddressSpaceWalker w = new AddressSpaceWalker(m, LONG_CR0, 0x10_0000, 0x20, LONG_EFER);
    assertThrows(IllegalArgumentException.class, () -> w.entry(0));
    assertThrows(IllegalArgumentException.class, () -> w.entryAddress(0));
  }

  /** EPT tables at 0x60_0000 mapping guest-physical [0, 2 MiB) with a 2 MiB page at 0x100_0000. */
  private static long ept(PhysicalMemory m, long perms, boolean pml4Large) {
    long root = 0x60_0000;
    m.write(root, 8, (root + 0x1000) | perms | (pml4Large ? 0x80 : 0));
    m.write(root + 0x1000, 8, (root + 0x2000) | perms);
    m.write(root + 0x2000, 8, 0x100_0000L | perms | 0x80);
    return root | 6 | (3 << 3);
  }

  @Test
  void eptShouldNeedReadPermissionAtEveryLevel() {
    // perms, PS in the PML4E, mappings expected: RW without X is readable; X alone is not.
    Object[][] cases = {{3L, false, 2}, {1L, false, 2}, {7L, false, 2}, {4L, false, 0},
        {7L, true, 0}};
    for (Object[] c : cases) {
      PhysicalMemory m = memory();
      longTables(m, 0x100_0000L); // host copy of the guest tables at GPA 0 (HPA 16 MiB)
      AddressSpaceWalker w = new AddressSpaceWalker(m, LONG_CR0, 0, 0x20, LONG_EFER);
      w.configureEpt(ept(m, (Long) c[0], (Boolean) c[1]));
      assertEquals(NestedPaging.EPT, w.nestedPaging());
      // The guest tables were written at host 16 MiB + GPA: PML4E values hold guest addresses.
      m.write(0x100_0000L, 8, 0x1087);
      m.write(0x100_1000L, 8, 0x2007);
      m.write(0x100_1008L, 8, 0x4000_0087L);
      m.write(0x100_2008L, 8, 0x40_0087);
      int expected = (Integer) c[2];
      List<Leaf> got = longLeaves(w);
      assertEquals(expected == 0 ? List.of() : LONG_LEAVES, got, "perms " + c[0] + " " + c[1]);
      assertEquals(expected == 0 ? 1 : 0, w.unreadableTables());
    }
  }

  @Test
  void eptRootOutsideRamShouldMakeEveryTableUnreadable() {
    PhysicalMemory m = memory();
    longTables(m, 0);
    AddressSpaceWalker w = new AddressSpaceWalker(m, LONG_CR0, 0, 0x20, LONG_EFER);
    w.configureEpt(0x1000_0000L | 6 | (3 << 3));
    assertEquals(0, longLeaves(w).size());
    assertEquals(1, w.unreadableTables());
    assertEquals(NOT_MAPPED, w.lookup(0x4000_0000L));
    w.disableNesting();
    assertEquals(LONG_LEAVES, longLeaves(w));
  }

  @Test
  void configureEptShouldCheckWalkLengthAndRoot() {
    AddressSpaceWalker w = new AddressSpaceWalker(memory(), LONG_CR0, 0, 0x20, LONG_EFER);
    assertThrows(IllegalArgumentException.class, () -> w.configureEpt(0x60_0000L | 6 | (2 << 3)));
    assertThrows(IllegalArgumentException.class, () -> w.configureEpt(0x60_0000L | 6 | (5 << 3)));
    assertThrows(IllegalArgumentException.class,
        () -> w.configureEpt((1L << 46) | 0x60_0000L | 6 | (3 << 3)));
    w.configureEpt(0x60_0000L | 6 | (4 << 3));
    assertEquals(NestedPaging.EPT, w.nestedPaging());
    assertThrows(IllegalArgumentException.class, () -> w.configureNpt(1L << 46, 0));
  }

  @Test
  void nptShouldNeedPresentAndUserAtEveryLevelAndHonourFiveLevels() {
    // Guest tables at GPA 3 MiB (identity): the nested walk must reach past the first 2 MiB.
    long g = 0x30_0000;
    for (int levels = 4; levels <= 5; levels++) {
      for (long perms : new long[] {5, 7, 3}) {
        PhysicalMemory m = memory();
        longTables(m, g);
        // Nested: [root 0x70_0000] (PML5 ->) PML4 -> PDPT -> 1 GiB identity page.
        long root = 0x70_0000;
        long t = root;
        for (int l = levels; l > 3; l--) {
          m.write(t, 8, (t + 0x1000) | perms);
          t += 0x1000;
        }
        m.write(t, 8, 0x87 & ~7L | perms);
        AddressSpaceWalker w = new AddressSpaceWalker(m, LONG_CR0, g, 0x20, LONG_EFER);
        w.configureNpt(root, levels == 5 ? ControlRegisters.CR4_LA57 : 0);
        assertEquals(NestedPaging.NPT, w.nestedPaging());
        boolean readable = (perms & 5) == 5;
        assertEquals(readable ? LONG_LEAVES : List.of(), longLeaves(w),
            levels + " levels, perms " + perms);
      }
    }
  }
}
