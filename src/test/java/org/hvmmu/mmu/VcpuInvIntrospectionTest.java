package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * {@link Vcpu#forEachCachedTranslation} and {@link Vcpu#forEachGuestPhysicalMapping}: after known
 * translations, the visited entries must be exactly those, with the fields computed here by hand
 * from the SDM's layouts (page number = linear address >> page shift; 12, 21 and 30 for 4-KByte,
 * 2-MByte and 1-GByte pages, vol. 3A §4.5), the context of the fill (VPID, PCID, G bit, §4.10.2)
 * and the write rights the SDM gives now: R/W and D (a clean entry must be walked to set D,
 * §4.8), protection keys (PKRU.WD for user pages, §4.6.2), and for guest-physical mappings the
 * nested entries' write and dirty bits (APM vol. 2 §15.25.5). Entries of invalidated contexts are
 * not visited.
 */
class VcpuInvIntrospectionTest {
  private static final long CR0 = 0x8001_0011L;
  private static final long EFER = 0xD00;

  private record Visit(String array, int vpid, int pcid, boolean global, long pageNumber,
      int pageShift, long physicalBase, boolean writable) {}

  private record Mapping(long gpa, int shift, long hpa, boolean writable) {}

  private static List<Visit> visits(Vcpu v) {
    List<Visit> out = new ArrayList<>();
    v.forEachCachedTranslation((a, vpid, pcid, g, pn, shift, pa, w) ->
        out.add(new Visit(a, vpid, pcid, g, pn, shift, pa, w)));
    return out;
  }

  private static List<Mapping> mappings(Vcpu v) {
    List<Mapping> out = new ArrayList<>();
    v.forEachGuestPhysicalMapping((g, shift, h, w) -> out.add(new Mapping(g, shift, h, w)));
    return out;
  }

  private static Visit find(List<Visit> list, long pageNumber, int shift) {
    for (Visit v : list) {
      if (v.pageNumber() == pageNumber && v.pageShift() == shift) {
        return v;
      }
    }
    return null;
  }

  /** One first-level array for every side and page size, so that each page is cached once. */
  private static TlbConfig oneArray() {
    int all = TlbStructure.SIZE_4K | TlbStructure.SIZE_LARGE | TlbStructure.SIZE_1G;
    return TlbConfig.goldenCove().withTlbs(
        List.of(new TlbStructure("all", 1, true, true, all, CacheGeometry.of(64, 4))));
  }

  @Test
  void cachedTranslationsShouldBeVisitedWithTheirFields() {
    PhysicalMemory memory = new PhysicalMemory(46);
    memory.addRam(0, 0x7_FFFF); // 2 GiB
    GuestTables t = new GuestTables(memory, 0x1000);
    long root = t.newTable();
    long plain = 0x0000_0040_0000_1000L;
    long global = 0x0000_0040_0000_2000L;
    long readOnly = 0x0000_0040_0000_3000L;
    long clean = 0x0000_0040_0000_4000L;
    long large = 0x0000_0040_0040_0000L;
    long huge = 0x0000_0080_4000_0000L;
    t.map(root, 4, plain, 0x10_0000L, 1, 0x27, 0x67);
    t.map(root, 4, global, 0x11_0000L, 1, 0x27, 0x167);
    t.map(root, 4, readOnly, 0x12_0000L, 1, 0x27, 0x65);
    t.map(root, 4, clean, 0x13_0000L, 1, 0x27, 0x27); // writable, D clear
    t.map(root, 4, large, 0x60_0000L, 2, 0x27, 0x67);
    t.map(root, 4, huge, 0x4000_0000L, 3, 0x27, 0x67);
    Vcpu v = new Vcpu(memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT, oneArray(),
        LatencyModel.GOLDEN_COVE);
    long cr4 = ControlRegisters.CR4_PAE | ControlRegisters.CR4_PGE | ControlRegisters.CR4_PCIDE;
    assertEquals(0, v.loadState(CR0, root | 0x5, cr4, EFER)); // PCID 5
    assertEquals(List.of(), visits(v), "nothing cached yet");
    assertEquals(0x10_0000L, v.translate(plain, Access.READ));
    assertEquals(0x11_0000L, v.translate(global, Access.READ));
    assertEquals(0x12_0000L, v.translate(readOnly, Access.READ));
    assertEquals(0x13_0000L, v.translate(clean, Access.READ));
    assertEquals(0x60_0123L, v.translate(large + 0x123, Access.READ));
    assertEquals(0x4000_0123L, v.translate(huge + 0x123, Access.READ));
    List<Visit> list = visits(v);
    assertEquals(6, list.size(), list.toString());
    assertEquals(new Visit("all", 0, 5, false, plain >>> 12, 12, 0x10_0000L, true),
        find(list, plain >>> 12, 12));
    Visit g = find(list, global >>> 12, 12);
    assertNotNull(g);
    assertTrue(g.global());
    assertEquals(0x11_0000L, g.physicalBase());
    assertTrue(g.writable());
    assertEquals(new Visit("all", 0, 5, false, readOnly >>> 12, 12, 0x12_0000L, false),
        find(list, readOnly >>> 12, 12));
    assertEquals(new Visit("all", 0, 5, false, clean >>> 12, 12, 0x13_0000L, false),
        find(list, clean >>> 12, 12), "a write must walk to set D");
    assertEquals(new Visit("all", 0, 5, false, large >>> 21, 21, 0x60_0000L, true),
        find(list, large >>> 21, 21));
    assertEquals(new Visit("all", 0, 5, false, huge >>> 30, 30, 0x4000_0000L, true),
        find(list, huge >>> 30, 30));

    // MOV to CR3 without bit 63 removes PCID 5's non-global translations: only the global is left.
    assertEquals(0, v.writeCr3(root | 0x5));
    list = visits(v);
    assertEquals(1, list.size(), list.toString());
    assertTrue(list.get(0).global());
    assertEquals(global >>> 12, list.get(0).pageNumber());
  }

  @Test
  void writeDisabledKeysShouldMakeUserTranslationsReadOnly() {
    // PKRU.WD1 (bit 3) with CR0.WP = 1 denies every write to user pages with key 1; supervisor
    // pages use PKRS (0 here), so a supervisor page with key 1 stays writable.
    PhysicalMemory memory = new PhysicalMemory(46);
    memory.addRam(0, 0xFFFF);
    GuestTables t = new GuestTables(memory, 0x1000);
    long root = t.newTable();
    long user1 = 0x0000_0040_0000_1000L;
    long user0 = 0x0000_0040_0000_2000L;
    long sup1 = 0x0000_0040_0000_3000L;
    long key1 = 1L << 59;
    t.map(root, 4, user1, 0x10_0000L, 1, 0x27, 0x67 | key1);
    t.map(root, 4, user0, 0x11_0000L, 1, 0x27, 0x67);
    t.map(root, 4, sup1, 0x12_0000L, 1, 0x27, 0x63 | key1);
    Vcpu v = new Vcpu(memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT, oneArray(),
        LatencyModel.GOLDEN_COVE);
    long cr4 = ControlRegisters.CR4_PAE | ControlRegisters.CR4_PKE;
    assertEquals(0, v.loadState(CR0, root, cr4, EFER));
    v.writePkru(1 << 3);
    assertEquals(0x10_0000L, v.translate(user1, Access.READ));
    assertEquals(0x11_0000L, v.translate(user0, Access.READ));
    assertEquals(0x12_0000L, v.translate(sup1, Access.READ));
    List<Visit> list = visits(v);
    assertEquals(3, list.size());
    assertEquals(false, find(list, user1 >>> 12, 12).writable());
    assertEquals(true, find(list, user0 >>> 12, 12).writable());
    assertEquals(true, find(list, sup1 >>> 12, 12).writable());
  }

  @Test
  void cachedTranslationsShouldCarryTheirVpid() {
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    long root = f.guest.newTable();
    long la = 0x4000_0000L;
    f.guest.map(root, 4, la, la, 1, 0x27, 0x67);
    f.mapAll(la);
    Vcpu v = f.vcpu(oneArray(), MmuSwitches.DEFAULT, MmuFeatures.intel(46));
    v.configureEpt(v.eptp(), 0x1234);
    assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, EFER));
    assertEquals(la + NestedFixture.OFFSET, v.translate(la, Access.READ));
    assertEquals(List.of(new Visit("all", 0x1234, 0, false, la >>> 12, 12,
        la + NestedFixture.OFFSET, true)), visits(v));
  }

  private static Mapping mappingOf(List<Mapping> list, long gpa) {
    for (Mapping m : list) {
      if (m.gpa() == gpa) {
        return m;
      }
    }
    return null;
  }

  @Test
  void guestPhysicalMappingsShouldBeVisitedWithTheirWriteRights() {
    NestedFixture f = new NestedFixture(NestedPaging.NPT, 4, 1);
    long root = f.guest.newTable();
    long data = 0x4000_0000L;
    long ro = 0x4000_1000L;
    f.guest.map(root, 4, data, data, 1, 0x27, 0x67);
    f.guest.map(root, 4, ro, ro, 1, 0x27, 0x67);
    f.mapAll(data);
    f.mapNested(ro, NestedFixture.NPT_UPPER, 0x45); // P | US | D, read-only
    Vcpu v = f.vcpu(TlbConfig.goldenCove());
    assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, EFER));
    assertEquals(List.of(), mappings(v), "nothing cached yet");
    long h = NestedFixture.OFFSET;
    assertEquals(data + h, v.translate(data, Access.READ));
    assertEquals(ro + h, v.translate(ro, Access.READ));
    List<Mapping> list = mappings(v);
    assertEquals(new Mapping(data, 12, data + h, false), mappingOf(list, data),
        "a read leaves the nested D bit clear: a write must walk");
    assertEquals(new Mapping(ro, 12, ro + h, false), mappingOf(list, ro), "not writable");
    // The guest's walk set A bits in its tables: writes, which set the nested D bits.
    assertEquals(new Mapping(root, 12, root + h, true), mappingOf(list, root));
    assertEquals(data + h, v.translate(data, Access.WRITE));
    assertEquals(new Mapping(data, 12, data + h, true), mappingOf(mappings(v), data));

    v.flushGuest();
    assertEquals(List.of(), mappings(v), "the ASID's nested root was flushed");
  }

  @Test
  void largeGuestPhysicalMappingsShouldBeVisitedByTheirBase() {
    for (int leaf = 2; leaf <= 3; leaf++) {
      NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, leaf);
      long root = f.guest.newTable();
      long data = 0x4000_0000L;
      f.guest.map(root, 4, data + 0x5000, data + 0x5000, 1, 0x27, 0x67);
      f.mapAll(data + 0x5000);
      Vcpu v = f.vcpu(TlbConfig.goldenCove());
      assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, EFER));
      long h = NestedFixture.OFFSET;
      assertEquals(data + 0x5000 + h, v.translate(data + 0x5000, Access.READ));
      int shift = 12 + 9 * (leaf - 1);
      assertEquals(new Mapping(data, shift, data + h, true), mappingOf(mappings(v), data),
          "leaf level " + leaf);
    }
  }
}
