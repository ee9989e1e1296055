package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.TreeSet;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * The walker's 2-D paths that a first walk does not reach: denials decided from a cached
 * guest-physical mapping, nested dirty flags that let later writes hit, accessed flags on a walk
 * that faults, and the guest-physical address kept for a cached translation.
 *
 * <p>Expected values: EPT violation qualifications from SDM vol. 3C table 28-7 (bits 0-2 the
 * access, 3-6 the EPT rights, 7 GLA valid, 8 the access was to the translated address, 9-11 the
 * guest translation's U/S, R/W and XD with advanced VM-exit information), as kvm-unit-tests
 * {@code vmx_tests.c} pins them (reference mmu.md §2.4: R leaf, write: 0x18a; RW leaf, fetch:
 * 0x19c; R on the guest page-table page with the A bit to set: RD+WR+PR = 0x8b); EXITINFO1 of
 * #NPF from AMD APM vol. 2 §15.25.6 and {@code svm_npt.c} (mmu.md §2.5: npt_rw 0x1_0000_0007,
 * npt_nx 0x1_0000_0015, npt_np 0x1_0000_0004); accessed and dirty flags from SDM vol. 3A §4.8 and
 * vol. 3C §28.3.5 (EPT bits 8 and 9).
 */
class WalkerMutantsTest {
  static final long CR0 = 0x8001_0011L; // PG WP ET PE
  static final long CR4 = ControlRegisters.CR4_PAE;
  static final long EFER = 0xD00; // NXE LMA LME
  static final long DATA = 0x4000_0000L;
  static final long LA1 = 0x0000_0012_3456_7000L;
  static final long LA2 = LA1 + 0x1000;
  static final long UPPER = 0x27; // P RW US A
  static final long LEAF = 0x67; // P RW US A D

  /** A 4-level guest on EPT or NPT: LA1 and LA2 both map DATA. */
  static final class Guest {
    final NestedFixture f;
    final long root;
    Vcpu vcpu;

    Guest(NestedPaging kind, long leaf1, long leaf2) {
      f = new NestedFixture(kind, 4, 1);
      root = f.guest.newTable();
      f.guest.map(root, 4, LA1, DATA, 1, UPPER, leaf1);
      f.guest.map(root, 4, LA2, DATA, 1, UPPER, leaf2);
      f.mapAll(DATA);
    }

    void nestedLeaf(long gpa, long value) {
      f.memory.write(f.nestedEntry(gpa, 1), 8, value);
    }

    long nestedLeaf(long gpa) {
      return f.memory.read(f.nestedEntry(gpa, 1), 8);
    }

    Vcpu ept(MmuSwitches switches, MmuFeatures features, boolean accessedDirty) {
      vcpu = new Vcpu(f.memory, features, switches, TlbConfig.goldenCove(),
          LatencyModel.GOLDEN_COVE);
      vcpu.configureEpt(f.nestedRoot | 6 | (3 << 3) | (accessedDirty ? 1 << 6 : 0), 1);
      assertEquals(0, vcpu.loadState(CR0, root, CR4, EFER));
      return vcpu;
    }

    Vcpu ept(boolean advanced) {
      return ept(MmuSwitches.DEFAULT,
          MmuFeatures.intel(46).withEpt(false, false, true, advanced), false);
    }

    Vcpu npt(MmuSwitches switches) {
      vcpu = new Vcpu(f.memory, MmuFeatures.amd(46), switches, TlbConfig.goldenCove(),
          LatencyModel.GOLDEN_COVE);
      vcpu.configureNpt(f.nestedRoot, 1, 0x20, 0xD00);
      assertEquals(0, vcpu.loadState(CR0, root, CR4, EFER));
      return vcpu;
    }
  }

  static long eptLeaf(long perms) {
    return DATA + NestedFixture.OFFSET | (6L << 3) | perms;
  }

  static void assertOk(long r) {
    assertFalse(Fault.isFault(r), () -> Fault.describe(r));
  }

  static void assertFault(FaultKind kind, long code, long r) {
    assertTrue(Fault.isFault(r), "expected a fault, got 0x" + Long.toHexString(r));
    assertEquals(kind, Fault.kind(r), () -> Fault.describe(r));
    assertEquals(code, Fault.code(r), () -> Fault.describe(r));
  }

  // ---- denials from the nested TLB ------------------------------------------------------------

  @Test
  void eptWriteDeniedByACachedReadOnlyMappingShouldQualifyLikeAWalk() {
    Guest g = new Guest(NestedPaging.EPT, LEAF, LEAF);
    g.nestedLeaf(DATA, eptLeaf(1));
    Vcpu v = g.ept(false);
    assertOk(v.translate(LA1 + 8, Access.READ));
    long hits = v.counters().nestedTlbHits();
    // LA2 misses the TLB; its final guest-physical address hits the cached read-only mapping.
    assertFault(FaultKind.EPT_VIOLATION, 0x18A, v.translate(LA2 + 0x10, Access.WRITE));
    assertTrue(v.counters().nestedTlbHits() > hits);
    assertEquals(DATA + 0x10, v.faultGuestPhysical());
    assertEquals(LA2 + 0x10, v.faultGuestLinear());
  }

  @Test
  void eptFetchDeniedByACachedMappingShouldQualifyLikeAWalk() {
    Guest g = new Guest(NestedPaging.EPT, LEAF, LEAF);
    g.nestedLeaf(DATA, eptLeaf(3));
    Vcpu v = g.ept(false);
    assertOk(v.translate(LA1, Access.READ));
    assertFault(FaultKind.EPT_VIOLATION, 0x19C, v.translate(LA2 + 4, Access.FETCH));
    assertEquals(DATA + 4, v.faultGuestPhysical());
  }

  @Test
  void advancedExitInformationShouldDescribeTheGuestTranslation() {
    // LA2's guest leaf: user, writable, execute-disable: bits 9, 10 and 11.
    Guest g = new Guest(NestedPaging.EPT, LEAF, LEAF | GuestTables.XD);
    g.nestedLeaf(DATA, eptLeaf(1));
    Vcpu v = g.ept(true);
    assertOk(v.translate(LA1, Access.READ));
    assertFault(FaultKind.EPT_VIOLATION, 0xF8A, v.translate(LA2, Access.WRITE));
    // A supervisor read-only page without XD: no bit 9, 10 or 11.
    Guest s = new Guest(NestedPaging.EPT, LEAF, 0x61);
    s.nestedLeaf(DATA, eptLeaf(0));
    Vcpu w = s.ept(true);
    assertFault(FaultKind.EPT_VIOLATION, 0x181, w.translate(LA2, Access.READ));
    // Without the capability the bits stay clear.
    Guest n = new Guest(NestedPaging.EPT, LEAF, LEAF | GuestTables.XD);
    n.nestedLeaf(DATA, eptLeaf(1));
    Vcpu x = n.ept(false);
    assertOk(x.translate(LA1, Access.READ));
    assertFault(FaultKind.EPT_VIOLATION, 0x18A, x.translate(LA2, Access.WRITE));
  }

  @Test
  void strictRetentionShouldFaultFromAStaleMappingAndOverFlushShouldWalkAgain() {
    for (MmuSwitches.TlbMode mode : MmuSwitches.TlbMode.values()) {
      Guest g = new Guest(NestedPaging.EPT, LEAF, LEAF);
      g.nestedLeaf(DATA, eptLeaf(1));
      Vcpu v = g.ept(MmuSwitches.DEFAULT.withTlbMode(mode),
          MmuFeatures.intel(46).withEpt(false, false, true, false), false);
      assertOk(v.translate(LA1, Access.READ));
      g.nestedLeaf(DATA, eptLeaf(7)); // rights raised without INVEPT
      long r = v.translate(LA2, Access.WRITE);
      if (mode == MmuSwitches.TlbMode.STRICT) {
        assertFault(FaultKind.EPT_VIOLATION, 0x18A, r);
      } else {
        assertEquals(DATA + NestedFixture.OFFSET, r);
      }
    }
  }

  @Test
  void nptDenialsFromTheNestedTlbShouldCarryExitInfo1() {
    Guest g = new Guest(NestedPaging.NPT, LEAF, LEAF);
    g.nestedLeaf(DATA, DATA + NestedFixture.OFFSET | 5); // P US: read-only
    Vcpu v = g.npt(MmuSwitches.AMD);
    assertOk(v.translate(LA1, Access.READ));
    assertFault(FaultKind.NESTED_PAGE_FAULT, 0x1_0000_0007L, v.translate(LA2, Access.WRITE));
    assertEquals(DATA, v.faultGuestPhysical());

    Guest x = new Guest(NestedPaging.NPT, LEAF, LEAF);
    x.nestedLeaf(DATA, DATA + NestedFixture.OFFSET | 7 | GuestTables.XD);
    Vcpu w = x.npt(MmuSwitches.AMD);
    assertOk(w.translate(LA1, Access.READ));
    assertFault(FaultKind.NESTED_PAGE_FAULT, 0x1_0000_0015L, w.translate(LA2, Access.FETCH));
  }

  @Test
  void nptUserBitClearShouldDenyEveryAccess() {
    // Nested walks are user accesses (APM vol. 2 §15.25.5): U/S = 0 in the nested leaf denies
    // even a read (svm_npt.c npt_us: 0x1_0000_0005).
    Guest g = new Guest(NestedPaging.NPT, LEAF, LEAF);
    g.nestedLeaf(DATA, DATA + NestedFixture.OFFSET | 3);
    Vcpu v = g.npt(MmuSwitches.AMD);
    assertFault(FaultKind.NESTED_PAGE_FAULT, 0x1_0000_0005L, v.translate(LA1, Access.READ));
    assertFault(FaultKind.NESTED_PAGE_FAULT, 0x1_0000_0007L, v.translate(LA1, Access.WRITE));
  }

  // ---- nested accessed and dirty flags -------------------------------------------------------

  @Test
  void eptDirtyFlagShouldLetLaterWritesHit() {
    for (boolean ad : new boolean[] {false, true}) {
      Guest g = new Guest(NestedPaging.EPT, LEAF, LEAF);
      Vcpu v = g.ept(MmuSwitches.DEFAULT, MmuFeatures.intel(46), ad);
      assertOk(v.translate(LA1, Access.WRITE));
      long walks = v.counters().walks();
      assertOk(v.translate(LA1 + 8, Access.WRITE));
      assertEquals(walks, v.counters().walks(), "the second write hits, EPT A/D " + ad);
      long leaf = g.nestedLeaf(DATA);
      // SDM vol. 3C §28.3.5: with EPT A/D the leaf gets A (bit 8) and, for a write, D (bit 9).
      assertEquals(ad ? 0x300 : 0, leaf & 0x300, "EPT A/D " + ad);
    }
    // A read leaves D clear, so a later write walks again to set it.
    Guest g = new Guest(NestedPaging.EPT, LEAF, LEAF);
    Vcpu v = g.ept(MmuSwitches.DEFAULT, MmuFeatures.intel(46), true);
    assertOk(v.translate(LA1, Access.READ));
    assertEquals(0x100, g.nestedLeaf(DATA) & 0x300);
    long walks = v.counters().walks();
    assertOk(v.translate(LA1, Access.WRITE));
    assertEquals(walks + 1, v.counters().walks());
    assertEquals(0x300, g.nestedLeaf(DATA) & 0x300);
    assertOk(v.translate(LA1, Access.WRITE));
    assertEquals(walks + 1, v.counters().walks());
  }

  @Test
  void nptDirtyFlagShouldLetLaterWritesHit() {
    Guest g = new Guest(NestedPaging.NPT, LEAF, LEAF);
    Vcpu v = g.npt(MmuSwitches.AMD);
    assertOk(v.translate(LA1, Access.READ));
    assertEquals(0x20, g.nestedLeaf(DATA) & 0x60, "a read sets A only");
    long walks = v.counters().walks();
    assertOk(v.translate(LA1, Access.WRITE));
    assertEquals(walks + 1, v.counters().walks(), "the write walks to set D");
    assertEquals(0x60, g.nestedLeaf(DATA) & 0x60);
    assertOk(v.translate(LA1 + 8, Access.WRITE));
    assertEquals(walks + 1, v.counters().walks(), "then writes hit");
  }

  @Test
  void nestedTlbShouldServeASecondPageOfTheSameFrame() {
    for (NestedPaging kind : new NestedPaging[] {NestedPaging.EPT, NestedPaging.NPT}) {
      Guest g = new Guest(kind, LEAF, LEAF);
      Vcpu v = kind == NestedPaging.EPT ? g.ept(false) : g.npt(MmuSwitches.AMD);
      assertOk(v.translate(LA1, Access.READ));
      long hits = v.counters().nestedTlbHits();
      assertEquals(DATA + NestedFixture.OFFSET + 0x18, v.translate(LA2 + 0x18, Access.READ));
      assertTrue(v.counters().nestedTlbHits() > hits, kind + ": DATA's mapping was cached");
    }
  }

  // ---- accessed flags of a walk that faults --------------------------------------------------

  @Test
  void everyLevelUsedShouldSetAccessedInTheNestedEntriesOfAFaultingWalk() {
    for (NestedPaging kind : new NestedPaging[] {NestedPaging.EPT, NestedPaging.NPT}) {
      for (MmuSwitches.AccessedOnFault rule : MmuSwitches.AccessedOnFault.values()) {
        Guest g = new Guest(kind, LEAF, LEAF);
        g.nestedLeaf(DATA, 0); // the data page is not present in the nested tables
        Vcpu v;
        long accessed;
        if (kind == NestedPaging.EPT) {
          v = g.ept(MmuSwitches.DEFAULT.withAccessedOnFault(rule), MmuFeatures.intel(46), true);
          accessed = 0x100;
          // intel() has advanced exit information: a user, writable guest page adds 0x600.
          assertFault(FaultKind.EPT_VIOLATION, 0x781, v.translate(LA1, Access.READ));
        } else {
          v = g.npt(MmuSwitches.AMD.withAccessedOnFault(rule));
          accessed = 0x20;
          assertFault(FaultKind.NESTED_PAGE_FAULT, 0x1_0000_0004L, v.translate(LA1, Access.READ));
        }
        boolean every = rule == MmuSwitches.AccessedOnFault.EVERY_LEVEL_USED;
        // DATA's nested PDPTE and PDE are used by the final translation only.
        for (int level = 2; level <= 3; level++) {
          long e = g.f.memory.read(g.f.nestedEntry(DATA, level), 8);
          assertEquals(every ? accessed : 0, e & accessed, kind + " " + rule + " level " + level);
        }
      }
    }
  }

  @Test
  void everyLevelUsedShouldSetAccessedInTheGuestEntriesOfAFaultingWalk() {
    for (MmuSwitches.AccessedOnFault rule : MmuSwitches.AccessedOnFault.values()) {
      GuestTables t = new GuestTables(new PhysicalMemory(46), 0x100);
      t.memory.addRam(0, 0xFFFFF);
      long root = t.newTable();
      t.map(root, 4, LA1, DATA, 1, 0x7, 0x7);
      long pte = t.entryAddress(root, 4, LA1, 1);
      t.write(pte, 0); // not present
      Vcpu v = new Vcpu(t.memory, MmuFeatures.intel(46),
          MmuSwitches.DEFAULT.withAccessedOnFault(rule), TlbConfig.goldenCove(),
          LatencyModel.GOLDEN_COVE);
      assertEquals(0, v.loadState(CR0, root, CR4, EFER));
      assertFault(FaultKind.PAGE_FAULT, 0, v.translate(LA1, Access.READ));
      boolean every = rule == MmuSwitches.AccessedOnFault.EVERY_LEVEL_USED;
      for (int level = 2; level <= 4; level++) {
        long e = t.read(t.entryAddress(root, 4, LA1, level));
        assertEquals(every ? 0x20 : 0, e & 0x20, rule + " level " + level);
      }
    }
  }

  @Test
  void settingAccessedInAGuestEntryOnAReadOnlyEptPageShouldBeAViolation() {
    // mmu.md §2.4 "paddr": EPT R on the page holding a guest entry whose A flag must be set:
    // RD+WR+PR with GLA valid, bit 8 clear (the access was to a paging structure).
    for (MmuSwitches.AccessedOnFault rule : MmuSwitches.AccessedOnFault.values()) {
      NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
      long root = f.guest.newTable();
      f.guest.map(root, 4, LA1, DATA, 1, 0x7, LEAF); // upper entries without A
      f.mapAll(DATA);
      long pml4e = f.guest.entryAddress(root, 4, LA1, 4);
      long eptPte = f.nestedEntry(root, 1);
      f.memory.write(eptPte, 8, (f.memory.read(eptPte, 8) & ~7L) | 1); // root table: read-only
      Vcpu v = new Vcpu(f.memory, MmuFeatures.intel(46),
          MmuSwitches.DEFAULT.withAccessedOnFault(rule), TlbConfig.goldenCove(),
          LatencyModel.GOLDEN_COVE);
      v.configureEpt(f.nestedRoot | 6 | (3 << 3), 1);
      assertEquals(0, v.loadState(CR0, root, CR4, EFER));
      assertFault(FaultKind.EPT_VIOLATION, 0x8B, v.translate(LA1, Access.READ));
      assertEquals(pml4e, v.faultGuestPhysical(), rule.toString());
      if (rule == MmuSwitches.AccessedOnFault.EVERY_LEVEL_USED) {
        // The walk stops at the PML4E: 4 EPT reads for its page, then the entry itself.
        assertEquals(5, v.lastWalkReferences());
      }
      assertEquals(0x7, f.guest.read(pml4e) & 0xFFF, "the entry is left unchanged");
    }
  }

  // ---- the guest-physical address of a cached translation ------------------------------------

  @Test
  void aDenialFromTheTlbShouldReportTheGuestPhysicalAddress() {
    Guest g = new Guest(NestedPaging.EPT, LEAF, LEAF);
    g.nestedLeaf(DATA, eptLeaf(1));
    Vcpu v = g.ept(false);
    assertOk(v.translate(LA1 + 0x20, Access.READ));
    assertFault(FaultKind.EPT_VIOLATION, 0x18A, v.translate(LA1 + 0x348, Access.WRITE));
    assertEquals(DATA + 0x348, v.faultGuestPhysical());
  }

  // ---- entries reached through the paging-structure caches -----------------------------------

  @Test
  void aTableFromThePdeCacheShouldKeepItsNestedWriteRight() {
    // LA2's PTE lacks A. Its PT comes from the PDE cache filled by LA1's walk; setting A needs the
    // EPT write right of the PT page, which the cache entry remembers.
    Guest g = new Guest(NestedPaging.EPT, LEAF, 0x7);
    Vcpu v = g.ept(false);
    assertOk(v.translate(LA1, Access.READ));
    long hits = v.counters().pagingStructureCacheHits(2);
    assertEquals(DATA + NestedFixture.OFFSET + 4, v.translate(LA2 + 4, Access.READ));
    assertEquals(hits + 1, v.counters().pagingStructureCacheHits(2));
    long pte = g.f.guest.entryAddress(g.root, 4, LA2, 1);
    assertEquals(0x27, g.f.guest.read(pte) & 0xFFF, "A set in LA2's PTE");
  }

  @Test
  void aFinalTranslationToHostAddressZeroShouldBeCachedAsSuch() {
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    long root = f.guest.newTable();
    f.guest.map(root, 4, LA1, DATA, 1, UPPER, LEAF);
    f.guest.map(root, 4, LA2, DATA + 0x1000, 1, UPPER, LEAF);
    f.mapAll(DATA, DATA + 0x1000);
    f.memory.write(f.nestedEntry(DATA, 1), 8, (6L << 3) | 7); // DATA -> host page 0
    Vcpu v = new Vcpu(f.memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT,
        TlbConfig.goldenCove(), LatencyModel.GOLDEN_COVE);
    v.configureEpt(f.nestedRoot | 6 | (3 << 3), 1);
    assertEquals(0, v.loadState(CR0, root, CR4, EFER));
    assertEquals(DATA + 0x1000 + NestedFixture.OFFSET, v.translate(LA2, Access.READ));
    assertEquals(0, v.translate(LA1, Access.READ));
    assertEquals(8, v.translate(LA1 + 8, Access.READ));
    assertEquals(0x10, v.translate(LA1 + 0x10, Access.WRITE));
  }

  @Test
  void aFaultingFinalTranslationShouldNotFillThePagingStructureCaches() {
    Guest g = new Guest(NestedPaging.EPT, LEAF, LEAF);
    g.nestedLeaf(DATA, 0);
    Vcpu v = g.ept(false);
    assertFault(FaultKind.EPT_VIOLATION, 0x181, v.translate(LA1, Access.READ));
    assertFault(FaultKind.EPT_VIOLATION, 0x181, v.translate(LA1, Access.READ));
    assertEquals(2, v.counters().pagingStructureCacheMisses());
  }

  @Test
  void aNotPresentEptEntryShouldEndTheWalkWithMbec() {
    // MBEC: an entry is present if bits 2:0 or bit 10 are set. DATA's EPT PDE is all zeros; host
    // page 0 holds what would be a valid PTE if the walk went on.
    Guest g = new Guest(NestedPaging.EPT, LEAF, LEAF);
    g.f.memory.write(g.f.nestedEntry(DATA, 2), 8, 0);
    g.f.memory.write(0, 8, DATA + NestedFixture.OFFSET | (6L << 3) | 7);
    Vcpu v = g.ept(MmuSwitches.DEFAULT, MmuFeatures.intel(46).withEpt(true, true, true, false),
        false);
    assertFault(FaultKind.EPT_VIOLATION, 0x181, v.translate(LA1, Access.READ));
  }

  @Test
  void nptExecutableLeafShouldLetAFetchHitAfterARead() {
    Guest g = new Guest(NestedPaging.NPT, LEAF, LEAF);
    Vcpu v = g.npt(MmuSwitches.AMD);
    assertOk(v.translate(LA1, Access.READ));
    assertEquals(DATA + NestedFixture.OFFSET + 0x40, v.translate(LA1 + 0x40, Access.FETCH));
    Guest x = new Guest(NestedPaging.NPT, LEAF, LEAF);
    x.nestedLeaf(DATA, DATA + NestedFixture.OFFSET | 7 | GuestTables.XD);
    Vcpu w = x.npt(MmuSwitches.AMD);
    assertOk(w.translate(LA1, Access.READ));
    assertFault(FaultKind.NESTED_PAGE_FAULT, 0x1_0000_0015L, w.translate(LA1, Access.FETCH));
  }

  // ---- accessed and dirty flags of the guest walk ----------------------------------------------

  @Test
  void anEntryWithHighBitsShouldGetItsAccessedFlagWithAnEightByteUpdate() {
    GuestTables t = new GuestTables(new PhysicalMemory(46), 0x100);
    t.memory.addRam(0, 0x7FFFF);
    long root = t.newTable();
    long pte = t.map(root, 4, LA1, DATA, 1, 0x27, 0x5 | GuestTables.XD);
    Vcpu v = new Vcpu(t.memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT,
        TlbConfig.goldenCove(), LatencyModel.GOLDEN_COVE);
    assertEquals(0, v.loadState(CR0, root, CR4, EFER));
    assertEquals(DATA + 0x10, v.translate(LA1 + 0x10, Access.READ));
    assertEquals(DATA | 0x25 | GuestTables.XD, t.read(pte));
    assertEquals(1, v.counters().walks());
    assertEquals(1, v.counters().accessedDirtyWrites());
  }

  @Test
  void everyLevelUsedShouldSetEachFlagOnceInOneWalk() {
    for (MmuSwitches.AccessedOnFault rule : MmuSwitches.AccessedOnFault.values()) {
      GuestTables t = new GuestTables(new PhysicalMemory(46), 0x100);
      t.memory.addRam(0, 0x7FFFF);
      long root = t.newTable();
      long pte = t.map(root, 4, LA1, DATA, 1, 0x7, 0x7);
      Vcpu v = new Vcpu(t.memory, MmuFeatures.intel(46),
          MmuSwitches.DEFAULT.withAccessedOnFault(rule), TlbConfig.goldenCove(),
          LatencyModel.GOLDEN_COVE);
      assertEquals(0, v.loadState(CR0, root, CR4, EFER));
      assertEquals(DATA, v.translate(LA1, Access.WRITE));
      assertEquals(1, v.counters().walks(), rule.toString());
      // Going down: A in all four entries, then D in the leaf; after the walk: A in the three
      // upper entries and A+D in the leaf at once.
      boolean every = rule == MmuSwitches.AccessedOnFault.EVERY_LEVEL_USED;
      assertEquals(every ? 5 : 4, v.counters().accessedDirtyWrites(), rule.toString());
      assertEquals(0x67, t.read(pte) & 0xFFF);
      for (int level = 2; level <= 4; level++) {
        assertEquals(0x27, t.read(t.entryAddress(root, 4, LA1, level)) & 0xFFF);
      }
    }
  }

  @Test
  void theNestedTlbShouldRecordEachGuestPhysicalPageBase() {
    // A cold walk caches the guest-physical pages it used: the four guest tables (1 MiB on) and
    // the data page, each at its page base, mapped to GPA + OFFSET, writable (no EPT A/D).
    Guest g = new Guest(NestedPaging.EPT, LEAF, LEAF);
    Vcpu v = g.ept(false);
    assertEquals(DATA + NestedFixture.OFFSET + 0x123, v.translate(LA1 + 0x123, Access.READ));
    Set<String> seen = new TreeSet<>();
    v.forEachGuestPhysicalMapping((gpa, shift, hpa, writable) -> seen.add(
        Long.toHexString(gpa) + "/" + shift + "/" + Long.toHexString(hpa) + "/" + writable));
    Set<String> expected = new TreeSet<>();
    for (long gpa : new long[] {0x10_0000, 0x10_1000, 0x10_2000, 0x10_3000, DATA}) {
      expected.add(Long.toHexString(gpa) + "/12/" + Long.toHexString(gpa + NestedFixture.OFFSET)
          + "/true");
    }
    assertEquals(expected, seen);
  }
}
