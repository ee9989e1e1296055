package org.hvmmu.mmu;

import static org.hvmmu.mmu.AddressSpaceWalker.EXECUTE_DISABLE;
import static org.hvmmu.mmu.AddressSpaceWalker.NOT_MAPPED;
import static org.hvmmu.mmu.AddressSpaceWalker.USER;
import static org.hvmmu.mmu.AddressSpaceWalker.WRITABLE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.hvmmu.mmu.dump.GuestDump;
import org.hvmmu.mmu.dump.GuestDumps;
import org.hvmmu.mmu.dump.VcpuState;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link AddressSpaceWalker} on tables built by hand in each paging mode, with the expected
 * mappings worked out by hand (in the comments), and on the real QEMU guests, where every mapping
 * it lists must translate to the same address through {@link Vcpu#translate}, an independent
 * walker.
 */
class AddressSpaceWalkerTest {
  /** One visited mapping. */
  record Leaf(long la, long pa, int pageShift, long entry, int rights) {
    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "Leaf[la=0x%x, pa=0x%x, shift=%d, entry=0x%x,"
          + " rights=%d]", la, pa, pageShift, entry, rights);
    }
  }

  static List<Leaf> leaves(AddressSpaceWalker w) {
    List<Leaf> out = new ArrayList<>();
    assertEquals(0, w.walk((la, pa, shift, entry, rights) -> {
      out.add(new Leaf(la, pa, shift, entry, rights));
      return 0;
    }));
    assertEquals(out.size(), w.mappings());
    return out;
  }

  static PhysicalMemory memory(int maxPhyAddr, long ramFrames) {
    PhysicalMemory m = new PhysicalMemory(maxPhyAddr);
    m.addRam(0, ramFrames - 1);
    return m;
  }

  static final long LONG_CR0 = 0x8001_0001L;
  static final long LONG_EFER = 0xD01;
  static final long CR4_PAE = 0x20;
  static final long CR4_PSE = 0x10;
  static final long CR4_LA57 = 0x1000;

  /**
   * 4-level tables with a 1 GiB page and a recursive PML4 slot: PML4 at 0x1000, PDPT at 0x2000.
   * PML4[0] = 0x2007 (P RW US) -> PDPT[0] = 0x400000e7, a 1 GiB page (P RW US A D PS) at 1 GiB.
   * PML4[511] = 0x8000000000001003 (P RW XD) points at the PML4 itself. Walking it:
   *
   * <ul>
   *   <li>PML4[0] -> PDPT[0]: la 0, 1 GiB at 0x40000000, rights RW|US.
   *   <li>PML4[511] -> "PDPT" 0x1000 [0] = 0x2007 -> "PD" 0x2000 [0] = 0x400000e7 with PS: a 2 MiB
   *       page at 0x40000000, la 511 &lt;&lt; 39 = 0xffffff8000000000, rights RW|XD (no US in
   *       PML4[511]).
   *   <li>"PDPT" 0x1000 [511] -> "PD" 0x1000 [0] = 0x2007 -> "PT" 0x2000 [0]: 4 KiB at 0x40000000
   *       (bit 7 is PAT in a PTE), la 511 &lt;&lt; 39 | 511 &lt;&lt; 30 = 0xffffffffc0000000.
   *   <li>"PD" 0x1000 [511] -> "PT" 0x1000: [0] = 0x2007 maps 0x2000 at 0xffffffffffe00000, [511] =
   *       the PML4E itself maps 0x1000 (XD stripped from the address) at 0xfffffffffffff000.
   * </ul>
   */
  @Test
  void shouldWalkARecursivePml4SlotAndA1GibPage() {
    PhysicalMemory m = memory(52, 0x100);
    m.write(0x1000, 8, 0x2007);
    m.write(0x2000, 8, 0x4000_00E7L);
    long self = 0x8000_0000_0000_1003L;
    m.write(0x1000 + 511 * 8, 8, self);
    AddressSpaceWalker w = new AddressSpaceWalker(m, LONG_CR0, 0x1000, CR4_PAE, LONG_EFER);
    assertEquals(PagingMode.LONG_4, w.mode());
    List<Leaf> expected = List.of(
        new Leaf(0, 0x4000_0000L, 30, 0x4000_00E7L, WRITABLE | USER),
        new Leaf(0xFFFF_FF80_0000_0000L, 0x4000_0000L, 21, 0x4000_00E7L,
            WRITABLE | EXECUTE_DISABLE),
        new Leaf(0xFFFF_FFFF_C000_0000L, 0x4000_0000L, 12, 0x4000_00E7L,
            WRITABLE | EXECUTE_DISABLE),
        new Leaf(0xFFFF_FFFF_FFE0_0000L, 0x2000, 12, 0x2007, WRITABLE | EXECUTE_DISABLE),
        new Leaf(0xFFFF_FFFF_FFFF_F000L, 0x1000, 12, self, WRITABLE | EXECUTE_DISABLE));
    assertEquals(expected, leaves(w));
    // Tables read: PML4, PDPT 0x2000, then "PDPT" 0x1000, "PD" 0x2000, "PD" 0x1000, "PT" 0x2000,
    // "PT" 0x1000.
    assertEquals(7, w.tablesRead());
    assertEquals(0, w.unreadableTables());
    // The path of the last mapping: the same entry at every level.
    for (int level = 1; level <= 4; level++) {
      assertEquals(self, w.entry(level));
      assertEquals(0x1FF8, w.entryAddress(level));
    }
    assertEquals(1, w.leafLevel());
    assertThrows(IllegalArgumentException.class, () -> w.entry(5));
    assertThrows(IllegalArgumentException.class, () -> w.entry(0));
    // Lookups agree with the walk, offsets included.
    assertEquals(0x4123_4567L, w.lookup(0x0123_4567L));
    assertEquals(30, w.lookupPageShift());
    assertEquals(3, w.leafLevel());
    assertEquals(0x4000_00E7L, w.entry(3));
    assertEquals(0x2000, w.entryAddress(3));
    assertEquals(0x4001_2345L, w.lookup(0xFFFF_FF80_0001_2345L));
    assertEquals(21, w.lookupPageShift());
    assertEquals(0x1ABC, w.lookup(0xFFFF_FFFF_FFFF_FABCL));
    assertEquals(NOT_MAPPED, w.lookup(0x80_0000_0000L)); // PML4[1] not present
    assertEquals(NOT_MAPPED, w.lookup(0x8000_0000_0000L)); // not canonical
  }

  /**
   * 5-level tables: PML5 at 0x10000 with [1] and [256] both -> PML4 0x11000 (a shared table, walked
   * once per reference); PML4[0] -> PDPT 0x12000; PDPT[3] -> PD 0x13000; PD[5] = 2 MiB at 0x600000
   * (0x6000e3); PD[6] -> PT 0x14000; PT[7] = 0x777063 (P RW A D, supervisor). PML5[256] has bit 56
   * of the address set, so its addresses are sign-extended from bit 56: 256 &lt;&lt; 48 becomes
   * 0xff00000000000000. 3 &lt;&lt; 30 | 5 &lt;&lt; 21 = 0xc0a00000; 3 &lt;&lt; 30 | 6 &lt;&lt; 21 |
   * 7 &lt;&lt; 12 = 0xc0c07000.
   */
  @Test
  void shouldWalkFiveLevelTablesWithSignExtensionFromBit56() {
    PhysicalMemory m = memory(52, 0x100);
    m.write(0x10000 + 1 * 8, 8, 0x11007);
    m.write(0x10000 + 256 * 8, 8, 0x11007);
    m.write(0x11000, 8, 0x12007);
    m.write(0x12000 + 3 * 8, 8, 0x13007);
    m.write(0x13000 + 5 * 8, 8, 0x6000E3);
    m.write(0x13000 + 6 * 8, 8, 0x14007);
    m.write(0x14000 + 7 * 8, 8, 0x777063);
    AddressSpaceWalker w =
        new AddressSpaceWalker(m, LONG_CR0, 0x10000, CR4_PAE | CR4_LA57, LONG_EFER);
    assertEquals(PagingMode.LONG_5, w.mode());
    assertEquals(List.of(
        new Leaf(0x0001_0000_C0A0_0000L, 0x60_0000, 21, 0x6000E3, WRITABLE),
        new Leaf(0x0001_0000_C0C0_7000L, 0x77_7000, 12, 0x777063, WRITABLE),
        new Leaf(0xFF00_0000_C0A0_0000L, 0x60_0000, 21, 0x6000E3, WRITABLE),
        new Leaf(0xFF00_0000_C0C0_7000L, 0x77_7000, 12, 0x777063, WRITABLE)), leaves(w));
    assertEquals(0x14000 + 7 * 8, w.entryAddress(1));
    assertEquals(0x10000 + 256 * 8, w.entryAddress(5));
    assertEquals(0x777ABC, w.lookup(0xFF00_0000_C0C0_7ABCL));
    assertEquals(0x7F_FFFF, w.lookup(0x0001_0000_C0BF_FFFFL)); // PD[5], offset 0x1fffff
    assertEquals(NOT_MAPPED, w.lookup(0x0100_0000_C0C0_7000L)); // bit 56 set, 63:57 clear
  }

  /**
   * PAE: CR3 = 0x5340 (32-byte aligned, not page aligned). PDPTE[0] = 0x6001 -> PD 0x6000; PDPTE[1]
   * = 0; PDPTE[2] = 0x7081 (PS is ignored in a PDPTE: a table at 0x7000); PDPTE[3] =
   * 0x40_0000_1001, a table at 0x4000001000, outside RAM: unreadable, treated as empty.
   *
   * <ul>
   *   <li>PD 0x6000 [0] = XD | 0x2000e3: 2 MiB at 0x200000, la 0, rights RW|XD (no US).
   *   <li>PD 0x6000 [1] = 0x4007 -> PT 0x4000 [2] = 0x123087 (bit 7 is PAT: still a 4 KiB leaf): la
   *       1 &lt;&lt; 21 | 2 &lt;&lt; 12 = 0x202000, rights RW|US (the PDPTE's bits do not count).
   *   <li>PD 0x7000 [511] = 0xfe00083: 2 MiB at 0xfe00000, la 2 &lt;&lt; 30 | 511 &lt;&lt; 21 =
   *       0xbfe00000, rights RW.
   * </ul>
   */
  @Test
  void shouldWalkPaeTablesFromAnUnalignedCr3() {
    PhysicalMemory m = memory(52, 0x100);
    m.write(0x5340, 8, 0x6001);
    m.write(0x5350, 8, 0x7081);
    m.write(0x5358, 8, 0x40_0000_1001L);
    long nx2m = 0x8000_0000_0020_00E3L;
    m.write(0x6000, 8, nx2m);
    m.write(0x6008, 8, 0x4007);
    m.write(0x4000 + 2 * 8, 8, 0x123087);
    m.write(0x7000 + 511 * 8, 8, 0xFE0_0083L);
    AddressSpaceWalker w = new AddressSpaceWalker(m, 0x8001_0001L, 0x5340, CR4_PAE, 0x800);
    assertEquals(PagingMode.PAE, w.mode());
    assertEquals(List.of(
        new Leaf(0, 0x20_0000, 21, nx2m, WRITABLE | EXECUTE_DISABLE),
        new Leaf(0x20_2000, 0x12_3000, 12, 0x123087, WRITABLE | USER),
        new Leaf(0xBFE0_0000L, 0xFE0_0000L, 21, 0xFE0_0083L, WRITABLE)), leaves(w));
    assertEquals(1, w.unreadableTables());
    assertEquals(4, w.tablesRead()); // the PDPT's frame, PD 0x6000, PT 0x4000, PD 0x7000
    assertEquals(0xFE0_0123L, w.lookup(0xBFE0_0123L));
    assertEquals(0x7081, w.entry(3));
    assertEquals(0x5350, w.entryAddress(3));
    assertEquals(0x7000 + 511 * 8, w.entryAddress(2));
    assertEquals(0x12_3FFF, w.lookup(0x20_2FFF));
    assertEquals(NOT_MAPPED, w.lookup(0x4000_0000L)); // PDPTE[1] not present
    assertEquals(NOT_MAPPED, w.lookup(0xC000_0000L)); // PDPTE[3]'s table outside RAM
    assertEquals(NOT_MAPPED, w.lookup(0x1_0000_0000L)); // above 2^32
  }

  /**
   * 32-bit paging, PD at 0x1000. PD[0] = 0x2003 -> PT 0x2000 [1] = 0x5067 (4 KiB at la 0x1000).
   * PD[2] = 0xc24087: with CR4.PSE a 4 MiB page; bits 31:22 give 0xc00000 and PSE-36 bits 20:13
   * (0x12) give address bits 39:32, so pa = 0x12_00c00000, la 2 &lt;&lt; 22 = 0x800000. PD[3] =
   * 0x3081 (PS, no RW, no US): with PSE a 4 MiB page whose bit 13 makes pa 1 &lt;&lt; 32, la
   * 0xc00000; without PSE a table at 0x3000, whose [0] = 0x7001 maps 0x7000 at la 0xc00000, and
   * PD[2] is a table at 0xc24000 (RAM never written: empty).
   */
  @Test
  void shouldWalk32BitTablesWithAndWithoutPse() {
    PhysicalMemory m = memory(52, 0x1000);
    m.write(0x1000, 4, 0x2003);
    m.write(0x2000 + 4, 4, 0x5067);
    m.write(0x1000 + 2 * 4, 4, 0xC24087);
    m.write(0x1000 + 3 * 4, 4, 0x3081);
    m.write(0x3000, 4, 0x7001);
    AddressSpaceWalker pse = new AddressSpaceWalker(m, 0x8000_0001L, 0x1000, CR4_PSE, 0);
    assertEquals(PagingMode.LEGACY_32, pse.mode());
    assertEquals(List.of(
        new Leaf(0x1000, 0x5000, 12, 0x5067, WRITABLE),
        new Leaf(0x80_0000, 0x12_00C0_0000L, 22, 0xC24087, WRITABLE | USER),
        new Leaf(0xC0_0000, 0x1_0000_0000L, 22, 0x3081, 0)), leaves(pse));
    assertEquals(0x12_00C1_2345L, pse.lookup(0x81_2345));
    assertEquals(22, pse.lookupPageShift());
    AddressSpaceWalker noPse = new AddressSpaceWalker(m, 0x8000_0001L, 0x1000, 0, 0);
    assertEquals(List.of(
        new Leaf(0x1000, 0x5000, 12, 0x5067, WRITABLE),
        new Leaf(0xC0_0000, 0x7000, 12, 0x7001, 0)), leaves(noPse));
    assertEquals(0x7123, noPse.lookup(0xC0_0123));
    assertEquals(0x3081, noPse.entry(2));
    assertEquals(0x1000 + 3 * 4, noPse.entryAddress(2));
    // MAXPHYADDR 36 cuts the PSE-36 address bits 39:36 (they are reserved there).
    PhysicalMemory small = memory(36, 0x1000);
    small.write(0x1000, 4, 0xC24087);
    AddressSpaceWalker cut = new AddressSpaceWalker(small, 0x8000_0001L, 0x1000, CR4_PSE, 0);
    assertEquals(List.of(new Leaf(0, 0x2_00C0_0000L, 22, 0xC24087, WRITABLE | USER)),
        leaves(cut));
  }

  @Test
  void shouldWalkNothingWithoutPaging() {
    PhysicalMemory m = memory(52, 0x10);
    AddressSpaceWalker w = new AddressSpaceWalker(m, 0x11, 0x1000, 0, 0);
    assertEquals(PagingMode.NONE, w.mode());
    assertEquals(List.of(), leaves(w));
    assertEquals(0x1234, w.lookup(0x1234));
    assertEquals(NOT_MAPPED, w.lookup(1L << 52));
  }

  @Test
  void shouldStopWhenTheVisitorSaysSoAndTreatTablesOutsideRamAsEmpty() {
    PhysicalMemory m = memory(46, 0x10);
    for (int i = 0; i < 4; i++) {
      m.write(0x1000 + 8 * i, 8, 0x2003);
    }
    for (int i = 0; i < 512; i++) {
      m.write(0x2000 + 8 * i, 8, ((long) i << 30) | 0x83);
    }
    m.write(0x1000 + 8 * 5, 8, 0x7fff_0000_0003L); // a PDPT in an absent frame
    m.write(0x1000 + 8 * 6, 8, 0x000f_ffff_ffff_f003L); // above 2^46: address bits 45:12 only
    AddressSpaceWalker w = new AddressSpaceWalker(m, LONG_CR0, 0x1000, CR4_PAE, LONG_EFER);
    int[] seen = new int[1];
    assertEquals(42, w.walk((la, pa, shift, entry, rights) -> ++seen[0] == 700 ? 42 : 0));
    assertEquals(700, w.mappings());
    assertEquals(4 * 512, leaves(w).size());
    // The PDPT at 0x7fff00000000 is absent; bits 51:46 of the last entry are not address bits
    // (reserved at MAXPHYADDR 46): its table is 0x3fffffffff000, absent as well.
    assertEquals(2, w.unreadableTables());
  }

  /**
   * A PML4 whose 512 entries all point at itself describes 512^4 = 2^36 mappings of 4 KiB: the
   * walk streams them (the first is la 0 -> the PML4's own frame, 0x1000; the 512th is la 0x1ff000
   * -> 0x1000 again) and stops when the visitor asks, without collecting anything, and without
   * writing to the tables (no accessed flags).
   */
  @Test
  void shouldStreamAFullyRecursivePml4AndLeaveTheTablesUntouched() {
    PhysicalMemory m = memory(52, 0x10);
    for (int i = 0; i < 512; i++) {
      m.write(0x1000 + 8 * i, 8, 0x1007);
    }
    byte[] before = m.frameContents(1).clone();
    AddressSpaceWalker w = new AddressSpaceWalker(m, LONG_CR0, 0x1000, CR4_PAE, LONG_EFER);
    long[] last = new long[2];
    int stop = 1_000_000;
    int[] count = new int[1];
    assertEquals(7, w.walk((la, pa, shift, entry, rights) -> {
      assertEquals(0x1000, pa);
      assertEquals(12, shift);
      assertEquals(WRITABLE | USER, rights);
      last[0] = la;
      if (++count[0] == 512) {
        last[1] = la;
      }
      return count[0] == stop ? 7 : 0;
    }));
    assertEquals(0x1F_F000L, last[1]);
    // Mapping n (from 0) has la n << 12: 999999 = 0xf423f.
    assertEquals((long) (stop - 1) << 12, last[0]);
    assertEquals(stop, w.mappings());
    assertArrayEquals(before, m.frameContents(1));
  }

  // ---- nested paging ----------------------------------------------------------------------------

  /** Guest tables at GPA 0x1000-0x4000, stored at HPA GPA + 0x20000, and one data page. */
  static void guestTables(PhysicalMemory m) {
    long off = 0x20000;
    m.write(off + 0x1000, 8, 0x2007); // PML4[0] -> PDPT 0x2000
    m.write(off + 0x1000 + 8, 8, 0x40_0007L); // PML4[1] -> PDPT at GPA 0x400000 (not mapped)
    m.write(off + 0x2000, 8, 0x3007); // PDPT[0] -> PD 0x3000
    m.write(off + 0x3000 + 2 * 8, 8, 0x4007); // PD[2] -> PT 0x4000
    m.write(off + 0x4000, 8, 0x5007); // PT[0]: la 0x400000 -> GPA 0x5000
    m.write(off + 0x4000 + 8, 8, 0x30_0007L); // PT[1]: la 0x401000 -> GPA 0x300000
  }

  static final List<Leaf> GUEST_LEAVES = List.of(
      new Leaf(0x40_0000, 0x5000, 12, 0x5007, WRITABLE | USER),
      new Leaf(0x40_1000, 0x30_0000, 12, 0x30_0007L, WRITABLE | USER));

  /**
   * EPT at 0x10000 (4 levels): EPT PML4[0] -> 0x11000, PDPT[0] -> 0x12000, PD[0] -> PT 0x13000,
   * whose entries 1-5 map GPA 0x1000-0x5000 to HPA 0x21000-0x25000 (RWX, write-back). GPA 0x400000
   * (PML4[1]'s table) is not mapped: unreadable.
   */
  @Test
  void shouldReadGuestTablesThroughEpt() {
    PhysicalMemory m = memory(46, 0x40);
    guestTables(m);
    m.write(0x10000, 8, 0x11007);
    m.write(0x11000, 8, 0x12007);
    m.write(0x12000, 8, 0x13007);
    for (int i = 1; i <= 5; i++) {
      m.write(0x13000 + 8 * i, 8, (0x20000L + ((long) i << 12)) | 0x37);
    }
    AddressSpaceWalker w = new AddressSpaceWalker(m, LONG_CR0, 0x1000, CR4_PAE, LONG_EFER);
    assertEquals(List.of(), leaves(w)); // HPA 0x1000 is RAM never written
    w.configureEpt(0x10000 | 6 | (3 << 3));
    assertEquals(NestedPaging.EPT, w.nestedPaging());
    assertEquals(GUEST_LEAVES, leaves(w));
    assertEquals(1, w.unreadableTables());
    assertEquals(0x30_0abcL, w.lookup(0x40_1abc));
    assertEquals(0x1000, w.entryAddress(4)); // guest-physical addresses of the entries
    assertEquals(0x4008, w.entryAddress(1));
    // Without read permission at one EPT level the guest's PML4 cannot be read.
    m.write(0x12000, 8, 0x13006);
    assertEquals(List.of(), leaves(w));
    assertEquals(1, w.unreadableTables());
    assertEquals(NOT_MAPPED, w.lookup(0x40_0000));
    // A 2 MiB EPT page at PD[0] maps GPA 0-0x1fffff to HPA 0x200000-0x3fffff: the guest PML4 is
    // then read at HPA 0x201000, which is outside RAM.
    m.write(0x12000, 8, 0x20_0000L | 0xB7);
    assertEquals(List.of(), leaves(w));
    assertEquals(1, w.unreadableTables());
    w.disableNesting();
    assertEquals(NestedPaging.NONE, w.nestedPaging());
    assertThrows(IllegalArgumentException.class, () -> w.configureEpt(0x10000 | 6 | (1 << 3)));
    assertThrows(IllegalArgumentException.class, () -> w.configureEpt((1L << 46) | 6 | (3 << 3)));
  }

  /** The same guest on NPT: long-mode nested tables, P and U/S needed at every level. */
  @Test
  void shouldReadGuestTablesThroughNpt() {
    PhysicalMemory m = memory(46, 0x40);
    guestTables(m);
    m.write(0x10000, 8, 0x11007);
    m.write(0x11000, 8, 0x12007);
    m.write(0x12000, 8, 0x13007);
    for (int i = 1; i <= 5; i++) {
      m.write(0x13000 + 8 * i, 8, (0x20000L + ((long) i << 12)) | 0x5); // P US: read-only is enough
    }
    AddressSpaceWalker w = new AddressSpaceWalker(m, LONG_CR0, 0x1000, CR4_PAE, LONG_EFER);
    w.configureNpt(0x10000, CR4_PAE);
    assertEquals(NestedPaging.NPT, w.nestedPaging());
    assertEquals(GUEST_LEAVES, leaves(w));
    assertEquals(1, w.unreadableTables());
    m.write(0x12000, 8, 0x13003); // no U/S: nested accesses are user accesses
    assertEquals(List.of(), leaves(w));
    assertThrows(IllegalArgumentException.class, () -> w.configureNpt(1L << 46, 0));
  }

  // ---- the real guests --------------------------------------------------------------------------

  /**
   * Every mapping of every vCPU of the QEMU guests translates through {@link Vcpu#translate} (as a
   * user read where U/S allows it, else a supervisor read) to the address the walker gives. QEMU's
   * TCG sets the accessed flag in PAE PDPTEs, where it is reserved (SDM vol. 3A table 4-8), so a
   * faithful MOV to CR3 raises #GP: the in-memory copy has those bits cleared first.
   */
  @TestFactory
  Stream<DynamicTest> shouldAgreeWithTheVcpuOnEveryMappingOfTheQemuGuests() throws IOException {
    List<Path> cores = new ArrayList<>();
    Path guests = guestsDirectory();
    Assumptions.assumeTrue(guests != null, "no QEMU guests on the class path");
    try (Stream<Path> dirs = Files.list(guests)) {
      dirs.map(d -> d.resolve("core.elf.gz")).filter(Files::exists).sorted().forEach(cores::add);
    }
    Assumptions.assumeFalse(cores.isEmpty(), "no QEMU guests on the class path");
    return cores.stream().map(core -> DynamicTest.dynamicTest(
        core.getParent().getFileName().toString(), () -> checkAgainstVcpu(core)));
  }

  static Path guestsDirectory() {
    try {
      java.net.URL url = AddressSpaceWalkerTest.class.getResource("/org/hvmmu/mmu/guests");
      return url == null ? null : Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void checkAgainstVcpu(Path core) {
    GuestDump dump = GuestDumps.read(core);
    PhysicalMemory memory = dump.memory();
    for (VcpuState s : dump.vcpus()) {
      AddressSpaceWalker w =
          new AddressSpaceWalker(memory, s.cr0(), s.cr3(), s.cr4(), s.efer());
      Vcpu cpu = new Vcpu(memory, MmuFeatures.intel(memory.maxPhyAddr()), MmuSwitches.DEFAULT,
          TlbConfig.none(), LatencyModel.GOLDEN_COVE);
      if (w.mode() == PagingMode.PAE) {
        long loaded = cpu.loadState(s.cr0(), s.cr3(), s.cr4(), s.efer());
        assertTrue(Fault.isFault(loaded), "QEMU's accessed flag in the PDPTEs is reserved");
        assertEquals(FaultKind.GENERAL_PROTECTION, Fault.kind(loaded));
        long pdpt = s.cr3() & 0xFFFF_FFE0L;
        for (int i = 0; i < 4; i++) {
          long e = memory.read(pdpt + 8 * i, 8);
          memory.write(pdpt + 8 * i, 8, e & ~PageEntry.A);
        }
      }
      assertEquals(0, cpu.loadState(s.cr0(), s.cr3(), s.cr4(), s.efer()));
      long[] checked = new long[1];
      w.walk((la, pa, shift, entry, rights) -> {
        int access = (rights & USER) != 0 ? Access.USER : Access.READ;
        long last = la + (1L << shift) - 1;
        long r = cpu.translate(last, access);
        if (r != pa + (1L << shift) - 1) {
          throw new AssertionError(core + " cpu " + s.index() + ": 0x" + Long.toHexString(last)
              + " -> " + (Fault.isFault(r) ? Fault.describe(r) : "0x" + Long.toHexString(r))
              + ", walker says 0x" + Long.toHexString(pa) + " + 0x" + Long.toHexString(
              (1L << shift) - 1));
        }
        assertEquals(shift, cpu.lastPageShift());
        checked[0]++;
        return 0;
      });
      assertTrue(checked[0] > 1000, core + ": " + checked[0] + " mappings");
      assertEquals(0, w.unreadableTables(), core + " cpu " + s.index());
      assertFalse(w.tablesRead() == 0);
    }
  }
}
