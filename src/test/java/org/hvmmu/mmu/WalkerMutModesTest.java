package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * Walker rules by paging mode and entry layout. Expected values: EPT misconfigurations from SDM
 * vol. 3C §28.2.3.1 (memory types 2, 3 and 7 are reserved in a leaf; a 1-GByte leaf needs the
 * capability, IA32_VMX_EPT_VPID_CAP bit 17; a large leaf's frame bits below its size, 29:12 or
 * 20:12, are reserved); the EPT violation qualification bit 6 (SDM vol. 3C table 28-7: executable
 * for user-mode linear addresses, with mode-based execute control); PAE paging (SDM vol. 3A §4.4:
 * CR3 bits 31:5 locate the 32-byte PDPT; PDPTEs have no R/W, U/S or accessed flag, and under
 * nested paging AMD reads them on every walk, APM vol. 2 §15.25.10); shadow-stack pages (SDM vol.
 * 3A §4.6.1: R/W = 0 and D = 1 in the leaf, R/W = 1 above it); and dirty flags (§4.8: a write
 * through a leaf that is already dirty writes nothing).
 */
class WalkerMutModesTest {
  private static final long CR0 = 0x8001_0011L;
  private static final long CR4 = ControlRegisters.CR4_PAE;
  private static final long EFER = 0xD00;
  private static final long DATA = 0x4000_0000L;
  private static final long LA = 0x0000_0012_3456_7000L;
  private static final long OFF = NestedFixture.OFFSET;

  private static void assertOk(long r) {
    assertFalse(Fault.isFault(r), () -> Fault.describe(r));
  }

  private static String outcome(long r) {
    if (!Fault.isFault(r)) {
      return "ok";
    }
    if (Fault.kind(r) == FaultKind.EPT_MISCONFIG) {
      return "misconfig";
    }
    return Fault.kind(r) + " 0x" + Long.toHexString(Fault.code(r));
  }

  private static MmuFeatures intel(boolean ept1g, boolean mbec) {
    return new MmuFeatures(Vendor.INTEL, 46, true, true, true, true, true, true, true, true, true,
        false, mbec, true, false, ept1g, true);
  }

  /** A guest on EPT whose nested leaves are at {@code nestedLeaf}; LA maps DATA. */
  private static NestedFixture eptGuest(int nestedLeaf, long[] root) {
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, nestedLeaf);
    root[0] = f.guest.newTable();
    f.guest.map(root[0], 4, LA, DATA, 1, 0x27, 0x67);
    f.mapAll(DATA);
    return f;
  }

  private static Vcpu eptVcpu(NestedFixture f, long root, MmuFeatures features) {
    Vcpu v = new Vcpu(f.memory, features, MmuSwitches.DEFAULT, TlbConfig.goldenCove(),
        LatencyModel.GOLDEN_COVE);
    v.configureEpt(f.nestedRoot | 6 | (3 << 3), 1);
    assertEquals(0, v.loadState(CR0, root, CR4, EFER));
    return v;
  }

  // ---- EPT misconfigurations ----------------------------------------------------------------

  @Test
  void reservedMemoryTypesInA4kLeafShouldBeMisconfigurations() {
    String[] expected = {"ok", "ok", "misconfig", "misconfig", "ok", "ok", "ok", "misconfig"};
    for (int type = 0; type < 8; type++) {
      long[] root = new long[1];
      NestedFixture f = eptGuest(1, root);
      f.memory.write(f.nestedEntry(DATA, 1), 8, DATA + OFF | ((long) type << 3) | 7);
      Vcpu v = eptVcpu(f, root[0], intel(true, false));
      assertEquals(expected[type], outcome(v.translate(LA, Access.READ)), "type " + type);
    }
  }

  @Test
  void oneGigabyteLeavesShouldNeedTheCapability() {
    for (boolean cap : new boolean[] {true, false}) {
      long[] root = new long[1];
      NestedFixture f = eptGuest(3, root);
      Vcpu v = eptVcpu(f, root[0], intel(cap, false));
      assertEquals(cap ? "ok" : "misconfig", outcome(v.translate(LA, Access.READ)));
      if (cap) {
        assertEquals(DATA + OFF, v.translate(LA, Access.READ));
        // A 4-KByte guest page over a 1-GByte nested page is cached as 4 KBytes.
        assertEquals(12, v.lastPageShift());
      }
    }
  }

  @Test
  void largeLeafFrameBitsBelowThePageSizeShouldBeMisconfigurations() {
    // 1 GByte: bits 29:12 reserved; 2 MByte: bits 20:12.
    long[] bits1g = {1L << 12, 1L << 16, 1L << 20, 1L << 29};
    for (long bit : bits1g) {
      long[] root = new long[1];
      NestedFixture f = eptGuest(3, root);
      long e = f.nestedEntry(DATA, 3);
      f.memory.write(e, 8, f.memory.read(e, 8) | bit);
      assertEquals("misconfig", outcome(eptVcpu(f, root[0], intel(true, false))
          .translate(LA, Access.READ)), "1G bit 0x" + Long.toHexString(bit));
    }
    for (long bit : new long[] {1L << 12, 1L << 20}) {
      long[] root = new long[1];
      NestedFixture f = eptGuest(2, root);
      long e = f.nestedEntry(DATA, 2);
      f.memory.write(e, 8, f.memory.read(e, 8) | bit);
      assertEquals("misconfig", outcome(eptVcpu(f, root[0], intel(true, false))
          .translate(LA, Access.READ)), "2M bit 0x" + Long.toHexString(bit));
    }
  }

  @Test
  void userExecutePermissionShouldBeReportedWithMbec() {
    // R + XU leaf (bit 10), every entry above it R W X XU: a write is RD... WR + PR + PUX.
    long[] perms = {0x401, 0x1, 0x405};
    long[] expected = {0x1CA, 0x18A, 0x1EA};
    for (int k = 0; k < perms.length; k++) {
      long[] root = new long[1];
      NestedFixture f = eptGuest(1, root);
      for (int level = 2; level <= 4; level++) {
        long e = f.nestedEntry(DATA, level);
        f.memory.write(e, 8, f.memory.read(e, 8) | PageEntry.EPT_XU);
      }
      f.memory.write(f.nestedEntry(DATA, 1), 8, DATA + OFF | (6L << 3) | perms[k]);
      Vcpu v = eptVcpu(f, root[0], intel(true, true));
      assertEquals("EPT_VIOLATION 0x" + Long.toHexString(expected[k]),
          outcome(v.translate(LA, Access.WRITE)), "perms 0x" + Long.toHexString(perms[k]));
    }
    // Without MBEC bit 10 is ignored and bit 6 is never reported: R X leaf, write.
    long[] root = new long[1];
    NestedFixture f = eptGuest(1, root);
    f.memory.write(f.nestedEntry(DATA, 1), 8, DATA + OFF | (6L << 3) | 0x405);
    assertEquals("EPT_VIOLATION 0x1aa",
        outcome(eptVcpu(f, root[0], intel(true, false)).translate(LA, Access.WRITE)));
  }

  @Test
  void mbecShouldPickTheUserExecuteBitForAUserPage() {
    // A user page (0x67) fetched by the supervisor, SMEP off: bit 10 decides with MBEC.
    long[][] cases = {{0x405, 1}, {0x5, 0}, {0x401, 1}};
    for (long[] c : cases) {
      long[] root = new long[1];
      NestedFixture f = eptGuest(1, root);
      for (int level = 2; level <= 4; level++) {
        long e = f.nestedEntry(DATA, level);
        f.memory.write(e, 8, f.memory.read(e, 8) | PageEntry.EPT_XU);
      }
      f.memory.write(f.nestedEntry(DATA, 1), 8, DATA + OFF | (6L << 3) | c[0]);
      MmuFeatures features = new MmuFeatures(Vendor.INTEL, 46, true, true, true, true, true, true,
          true, true, true, true, true, true, false, true, true);
      Vcpu v = eptVcpu(f, root[0], features);
      String expected = c[1] == 1 ? "ok" : "EPT_VIOLATION 0x1ac";
      assertEquals(expected, outcome(v.translate(LA, Access.FETCH)),
          "perms 0x" + Long.toHexString(c[0]));
    }
  }

  // ---- PAE paging ---------------------------------------------------------------------------

  private static final long PAE_LA = 0x4012_3000L;
  private static final long PAE_EFER = 0x800; // NXE, no long mode

  /** PAE tables: a PDPT at 0x20 into its page (CR3 bits 31:5), PD, PT; returns CR3. */
  private static long paeTables(GuestTables t, long data) {
    long page = t.newTable();
    long pd = t.newTable();
    long pt = t.newTable();
    long pdpt = page + 0x20;
    t.write(pdpt + 8 * ((PAE_LA >>> 30) & 3), pd | 1);
    t.write(pd + 8 * ((PAE_LA >>> 21) & 0x1FF), pt | 0x27);
    t.write(pt + 8 * ((PAE_LA >>> 12) & 0x1FF), data | 0x67);
    t.write(pt + 8 * (((PAE_LA >>> 12) + 1) & 0x1FF), (data + 0x1000) | 0x67);
    return pdpt;
  }

  @Test
  void paeUnderNptShouldReadTheUnalignedPdptFromGuestMemory() {
    for (MmuSwitches.AccessedOnFault rule : MmuSwitches.AccessedOnFault.values()) {
      NestedFixture f = new NestedFixture(NestedPaging.NPT, 4, 1);
      long cr3 = paeTables(f.guest, DATA);
      f.mapAll(DATA, DATA + 0x1000);
      Vcpu v = new Vcpu(f.memory, MmuFeatures.amd(46), MmuSwitches.AMD.withAccessedOnFault(rule),
          TlbConfig.goldenCove(), LatencyModel.GOLDEN_COVE);
      v.configureNpt(f.nestedRoot, 1, 0x20, 0xD00);
      assertEquals(0, v.loadState(CR0, cr3, CR4, PAE_EFER));
      assertEquals(PagingMode.PAE, v.pagingMode());
      long pdpte = cr3 + 8 * ((PAE_LA >>> 30) & 3);
      long before = f.guest.read(pdpte);
      // A user write: the PDPTE has no R/W or U/S flag to deny it.
      assertEquals(DATA + OFF + 0x10, v.translate(PAE_LA + 0x10, Access.WRITE | Access.USER));
      assertEquals(DATA + OFF + 0x1010,
          v.translate(PAE_LA + 0x1010, Access.WRITE | Access.USER), rule.toString());
      assertEquals(before, f.guest.read(pdpte), "PDPTEs have no accessed flag");
    }
  }

  @Test
  void aNotPresentPaePdpteShouldFaultWithoutAWalk() {
    GuestTables t = new GuestTables(new PhysicalMemory(46), 0x100);
    t.memory.addRam(0, 0x7FFFF);
    long cr3 = paeTables(t, DATA);
    Vcpu v = new Vcpu(t.memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT,
        TlbConfig.goldenCove(), LatencyModel.GOLDEN_COVE);
    assertEquals(0, v.loadState(CR0, cr3, CR4, PAE_EFER));
    assertEquals(DATA + 4, v.translate(PAE_LA + 4, Access.READ));
    // PDPTE 0 is not present: #PF, error code 0 for a supervisor read, 2 for a write.
    assertEquals("PAGE_FAULT 0x0", outcome(v.translate(0x1234, Access.READ)));
    assertEquals(0x1234, v.cr2());
    assertEquals("PAGE_FAULT 0x2", outcome(v.translate(0x3FFF_F000L, Access.WRITE)));
    assertEquals(0, v.lastWalkReferences());
  }

  // ---- shadow stacks and dirty flags ---------------------------------------------------------

  private static Vcpu flat(GuestTables t, long root, long cr4) {
    Vcpu v = new Vcpu(t.memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT,
        TlbConfig.goldenCove(), LatencyModel.GOLDEN_COVE);
    assertEquals(0, v.loadState(CR0, root, cr4, EFER));
    return v;
  }

  @Test
  void shadowStackAccessesShouldReachOnlyShadowStackPages() {
    long cet = CR4 | ControlRegisters.CR4_CET;
    // {upper entries, leaf, access, expected}
    Object[][] cases = {
      {0x23L, 0x61L, Access.SHADOW_STACK, "ok"},
      {0x23L, 0x21L, Access.SHADOW_STACK, "PAGE_FAULT 0x41"}, // not dirty
      {0x23L, 0x63L, Access.SHADOW_STACK, "PAGE_FAULT 0x41"}, // writable
      {0x21L, 0x61L, Access.SHADOW_STACK, "PAGE_FAULT 0x41"}, // read-only above
      {0x27L, 0x65L, Access.SHADOW_STACK | Access.USER, "ok"},
      {0x27L, 0x65L, Access.SHADOW_STACK, "PAGE_FAULT 0x41"}, // a user page
      {0x23L, 0x61L, Access.SHADOW_STACK | Access.WRITE, "ok"},
    };
    for (Object[] c : cases) {
      GuestTables t = new GuestTables(new PhysicalMemory(46), 0x100);
      t.memory.addRam(0, 0x7FFFF);
      long root = t.newTable();
      t.map(root, 4, LA, DATA, 1, (Long) c[0], (Long) c[1]);
      Vcpu v = flat(t, root, cet);
      assertEquals(c[3], outcome(v.translate(LA, (Integer) c[2])),
          "upper 0x" + Long.toHexString((Long) c[0]) + " leaf 0x" + Long.toHexString((Long) c[1])
              + " access " + c[2]);
    }
  }

  @Test
  void aWriteThroughADirtyLeafShouldHitAfterARead() {
    GuestTables t = new GuestTables(new PhysicalMemory(46), 0x100);
    t.memory.addRam(0, 0x7FFFF);
    long root = t.newTable();
    long pte = t.map(root, 4, LA, DATA, 1, 0x27, 0x67);
    Vcpu v = flat(t, root, CR4);
    assertOk(v.translate(LA, Access.READ));
    long walks = v.counters().walks();
    assertOk(v.translate(LA + 8, Access.WRITE));
    assertEquals(walks, v.counters().walks(), "the cached translation is dirty already");
    assertEquals(0, v.counters().accessedDirtyWrites());
    assertEquals(0x67, t.read(pte) & 0xFFF);
    // A clean leaf: the write walks and sets D, then writes hit.
    long pte2 = t.map(root, 4, LA + 0x1000, DATA + 0x1000, 1, 0x27, 0x27);
    assertOk(v.translate(LA + 0x1000, Access.READ));
    long w2 = v.counters().walks();
    assertOk(v.translate(LA + 0x1000, Access.WRITE));
    assertEquals(w2 + 1, v.counters().walks());
    assertEquals(0x67, t.read(pte2) & 0xFFF);
    assertEquals(1, v.counters().accessedDirtyWrites());
    assertOk(v.translate(LA + 0x1008, Access.WRITE));
    assertEquals(w2 + 1, v.counters().walks());
    assertTrue(v.counters().accessedDirtyWrites() == 1);
  }
}
