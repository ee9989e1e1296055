package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * The counters and cycles of VM exits, #GP and flushes, each latency a distinct power of ten so
 * every charge shows in the total (the sum rule of {@link LatencyModel}: costs add up per access).
 * Reference counts are the 2-D walk's (g + 1)(h + 1) - 1 cut where the nested walk stops (mmu.md
 * §4.1); qualifications and EXITINFO1 are SDM vol. 3C table 27-7 and the svm_npt.c vectors.
 */
class MmuCountersTest {
  private static final long CR0 = ControlRegisters.CR0_PG | ControlRegisters.CR0_PE
      | ControlRegisters.CR0_WP;
  private static final long EFER = 0xD00; // LME | LMA | NXE
  private static final long DATA_GPA = 0x4000_0000L; // PDPT index 1: outside the tables' 1 GiB
  private static final long LA = 0x0000_7F12_F456_7000L;
  /** l1 1, l2 10, PSC 100, reference 1,000, A/D 10,000, #PF 100,000, exit 1,000,000, INVLPG 7,
   * flush 3. */
  private static final LatencyModel LAT =
      new LatencyModel(1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 7, 3);

  /** A 4-level guest whose tables, but not its data page, are mapped in the nested tables. */
  private static Vcpu guest(NestedFixture f, long dataLeaf) {
    return guest(f, dataLeaf, TlbConfig.none());
  }

  /** The same guest with the given TLBs and caches. */
  private static Vcpu guest(NestedFixture f, long dataLeaf, TlbConfig tlbs) {
    long root = f.guest.newTable();
    f.guest.map(root, 4, LA, DATA_GPA, 1, 0x27, 0x67); // A (and D) set: no guest A/D writes
    boolean ept = f.kind == NestedPaging.EPT;
    for (long t : f.guest.tables()) {
      // Nested entries with A and D set too (NPT) so that no nested A/D write is charged.
      f.mapNested(t, ept ? NestedFixture.EPT_RWX : 0x27, ept ? NestedFixture.EPT_LEAF : 0x67);
    }
    if (dataLeaf >= 0) {
      f.mapNested(DATA_GPA, ept ? NestedFixture.EPT_RWX : 0x27, dataLeaf);
    }
    Vcpu v;
    if (ept) {
      v = new Vcpu(f.memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT, tlbs, LAT);
      v.configureEpt(f.nestedRoot | 6 | (3 << 3), 1);
    } else {
      v = new Vcpu(f.memory, MmuFeatures.amd(46), MmuSwitches.AMD, tlbs, LAT);
      v.configureNpt(f.nestedRoot, 1, ControlRegisters.CR4_PAE, EFER);
    }
    assertEquals(0, v.loadState(CR0, root, ControlRegisters.CR4_PAE, EFER));
    // loadState flushes nothing: elided, charged 3.
    assertEquals(3, v.counters().cycles());
    assertEquals(1, v.counters().flushesElided());
    return v;
  }

  @Test
  void anEptViolationShouldCountOneExitAndItsCost() {
    Vcpu v = guest(new NestedFixture(NestedPaging.EPT, 4, 1), -1);
    long r = v.translate(LA + 0x123, Access.READ);
    // Read, GLA valid, translated, and (advanced information) a user-mode writable translation.
    assertEquals(Fault.eptViolation(0x781), r, () -> Fault.describe(r));
    MmuCounters c = v.counters();
    // 4 guest entries, each after a 4-reference nested walk (20), then the data GPA's PML4E and
    // its not-present PDPTE (2).
    assertEquals(22, c.references2d());
    assertEquals(0, c.references1d());
    assertEquals(1, c.walks());
    assertEquals(1, c.eptViolations());
    assertEquals(1, c.vmExits());
    assertEquals(0, c.eptMisconfigs() + c.nestedPageFaults() + c.pageFaults());
    assertEquals(1, c.accesses());
    assertEquals(3 + 22_000 + 1_000_000 + 1, c.cycles());
    assertEquals(DATA_GPA + 0x123, v.faultGuestPhysical());
    assertEquals(LA + 0x123, v.faultGuestLinear());
  }

  @Test
  void anEptMisconfigurationShouldCountOneExitAndItsCost() {
    // A leaf that is writable but not readable (SDM vol. 3C §28.2.3.1).
    Vcpu v = guest(new NestedFixture(NestedPaging.EPT, 4, 1), 2 | (6L << 3));
    assertEquals(Fault.EPT_MISCONFIG, v.translate(LA, Access.READ));
    MmuCounters c = v.counters();
    assertEquals(24, c.references2d(), "the whole 4-over-4 walk");
    assertEquals(1, c.eptMisconfigs());
    assertEquals(1, c.vmExits());
    assertEquals(0, c.eptViolations());
    assertEquals(3 + 24_000 + 1_000_000 + 1, c.cycles());
    assertEquals(DATA_GPA, v.faultGuestPhysical());
  }

  @Test
  void aNestedPageFaultShouldCountOneExitAndItsCost() {
    Vcpu v = guest(new NestedFixture(NestedPaging.NPT, 4, 1), -1);
    // svm_npt.c npt_np: a read of a not-present nested page, 0x1_0000_0004.
    assertEquals(Fault.nestedPageFault(0x1_0000_0004L), v.translate(LA + 8, Access.READ));
    MmuCounters c = v.counters();
    assertEquals(22, c.references2d());
    assertEquals(1, c.nestedPageFaults());
    assertEquals(1, c.vmExits());
    assertEquals(0, c.accessedDirtyWrites());
    assertEquals(3 + 22_000 + 1_000_000 + 1, c.cycles());
    assertEquals(DATA_GPA + 8, v.faultGuestPhysical());
    assertEquals(-1, v.faultGuestLinear(), "AMD reports no linear address");
  }

  @Test
  void nonCanonicalAddressesShouldCountAGeneralProtectionFault() {
    Vcpu v = guest(new NestedFixture(NestedPaging.EPT, 4, 1), NestedFixture.EPT_LEAF);
    MmuCounters c = v.counters();
    assertEquals(Fault.GP0, v.translate(1L << 47, Access.READ));
    assertEquals(Fault.SS0, v.translate(0xFFFF_4000_0000_0000L, Access.WRITE | Access.STACK));
    assertEquals(2, c.generalProtectionFaults());
    assertEquals(0, c.walks());
    assertEquals(3 + 2 + 200_000, c.cycles());
  }

  @Test
  void vmExitsShouldFlushOnlyWithoutAVpid() {
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    Vcpu v = guest(f, NestedFixture.EPT_LEAF);
    MmuCounters c = v.counters();
    v.vmEntry();
    v.vmExit();
    assertEquals(1, c.vmExits());
    assertEquals(3 + 1_000_000, c.cycles(), "VPID 1: no flush");
    assertEquals(1, c.flushesElided());
    // VPID 0: both flush the (empty) TLBs: elided, 3 each.
    v.configureEpt(f.nestedRoot | 6 | (3 << 3), 0);
    v.vmEntry();
    v.vmExit();
    assertEquals(2, c.vmExits());
    assertEquals(3 + 2_000_000 + 6, c.cycles());
    assertEquals(3, c.flushesElided());
    assertEquals(0, c.flushesFull());
  }

  @Test
  void resetShouldZeroEveryCounter() {
    Vcpu v = guest(new NestedFixture(NestedPaging.EPT, 4, 1), -1);
    v.translate(LA, Access.READ);
    v.translate(1L << 47, Access.READ);
    v.invlpg(LA);
    MmuCounters c = v.counters();
    assertEquals("accesses=2 l1Hits=0 l2Hits=0 walks=1 refs1d=0 refs2d=22 adWrites=0 #PF=0"
        + " eptViolations=1 vmExits=1 flushes=0/0/2 cycles=" + (3 + 22_000 + 1_000_000 + 100_000
        + 7 + 2), c.toString());
    c.reset();
    assertEquals("accesses=0 l1Hits=0 l2Hits=0 walks=0 refs1d=0 refs2d=0 adWrites=0 #PF=0"
        + " eptViolations=0 vmExits=0 flushes=0/0/0 cycles=0", c.toString());
    assertEquals(0, c.generalProtectionFaults() + c.eptMisconfigs() + c.nestedPageFaults()
        + c.l1Misses() + c.l2Misses() + c.pagingStructureCacheMisses() + c.nestedTlbHits()
        + c.nestedTlbMisses());
    for (int level = 2; level <= 5; level++) {
      assertEquals(0, c.pagingStructureCacheHits(level));
    }
    assertThrows(IllegalArgumentException.class, () -> c.pagingStructureCacheHits(1));
    assertThrows(IllegalArgumentException.class, () -> c.pagingStructureCacheHits(6));
  }

  @Test
  void cachedNestedRightsShouldFaultWithoutAWalk() {
    // EPT: a read-only leaf (R, WB). A read fills the TLB; a write then faults from the cached
    // rights (strict retention, SDM vol. 3A §4.10.4.3) with the qualification a walk gives: W,
    // readable, GLA valid and translated, a user-mode writable guest translation (table 27-7).
    Vcpu v = guest(new NestedFixture(NestedPaging.EPT, 4, 1), 1 | (6L << 3),
        TlbConfig.goldenCove());
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x10, v.translate(LA + 0x10, Access.READ));
    long walks = v.counters().walks();
    assertEquals(Fault.eptViolation(0x78A), v.translate(LA + 0x18, Access.WRITE));
    assertEquals(walks, v.counters().walks(), "no walk");
    assertEquals(DATA_GPA + 0x18, v.faultGuestPhysical());
    assertEquals(LA + 0x18, v.faultGuestLinear());
    // The exit removed the combined mapping (vol. 3C §28.3.3.1): the next write walks.
    assertEquals(Fault.eptViolation(0x78A), v.translate(LA + 0x18, Access.WRITE));
    assertEquals(walks + 1, v.counters().walks());
    // NPT: a nested leaf without R/W (P|US|A|D); svm_npt.c npt_rw: 0x1_0000_0007.
    Vcpu n = guest(new NestedFixture(NestedPaging.NPT, 4, 1), 0x65, TlbConfig.goldenCove());
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x10, n.translate(LA + 0x10, Access.READ));
    walks = n.counters().walks();
    assertEquals(Fault.nestedPageFault(0x1_0000_0007L), n.translate(LA + 0x18, Access.WRITE));
    assertEquals(walks, n.counters().walks(), "no walk");
    assertEquals(DATA_GPA + 0x18, n.faultGuestPhysical());
  }
}
