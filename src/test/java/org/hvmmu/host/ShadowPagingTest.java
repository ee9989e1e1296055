package org.hvmmu.host;

import static org.hvmmu.mmu.ControlRegisters.CR0_PE;
import static org.hvmmu.mmu.ControlRegisters.CR0_PG;
import static org.hvmmu.mmu.ControlRegisters.CR0_WP;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.hvmmu.mmu.ControlRegisters.EFER_LMA;
import static org.hvmmu.mmu.ControlRegisters.EFER_LME;
import static org.hvmmu.mmu.ControlRegisters.EFER_NXE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.p2m.shadow.ShadowL1e;
import org.hvmmu.x86.Pte;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Shadow paging on real tables: a guest's 4-level tree in its own memory, shadows built on its page
 * faults level by level (counted), stores into its page tables emulated with the shadows following,
 * the guest's own #PF error codes, the hardened revocation and the seed's shadow defect with the
 * vCPU's TLB, invariant 4 with the shadow flush on and off, CR3 switches and a crash.
 *
 * <p>The guest (RAM 0x100-0x3ff, gfn = mfn for HVM, MMIO frame 0x100000):
 *
 * <pre>
 *   L4 0x180 [0] -> L3 0x181 [0] -> L2 0x182 [2] -> L1A 0x183   linear 0x400000
 *                                           [3] -> L1B 0x184   linear 0x600000
 *                                           [4] -> 2 MiB page at gfn 0x200 (PS)   linear 0x800000
 *   L1A: [0] DATA P RW US   [1] DATA+1 P RW US   [2] MMIO P RW US   [3] L1A itself P RW
 *        [4] L2 P RW        [5] DATA+2 P US      [6] DATA P US, bit 50 (reserved)
 *   L1B: [0] DATA+3 P RW US
 * </pre>
 */
class ShadowPagingTest {
  static final long MMIO = 0x100000;
  static final long L4 = 0x180;
  static final long L3 = 0x181;
  static final long L2 = 0x182;
  static final long L1A = 0x183;
  static final long L1B = 0x184;
  static final long DATA = 0x150;
  static final long LA = 0x40_0000L;
  static final long LA_B = 0x60_0000L;
  static final long LA_SUPER = 0x80_0000L;
  static final long UPPER = 0x7; // P RW US
  static final long CR0 = CR0_PE | CR0_WP | CR0_PG;
  static final long EFER = EFER_LME | EFER_LMA | EFER_NXE;
  static final int W = Access.WRITE;
  static final int U = Access.USER;

  static Policy shadowNoOp() {
    return Policy.HARDENED.withP2m(Policy.HARDENED.p2m().withShadowDropsRwResult(true));
  }

  static List<Arguments> modesAndPolicies() {
    List<Arguments> out = new ArrayList<>();
    for (PagingMode mode : new PagingMode[] {PagingMode.PV_SHADOW, PagingMode.HVM_SHADOW}) {
      out.add(Arguments.of(mode, "seed-2010", Policy.SEED_2010));
      out.add(Arguments.of(mode, "hardened", Policy.HARDENED));
    }
    return out;
  }

  /** The guest of the class description, its tables written by a loader, one vCPU on them. */
  static GuestVcpu guest(Host host, PagingMode mode) {
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x3ff));
    assertEquals(0, host.grantIomem(d, MMIO, MMIO));
    put(host, d, L4, 0, (L3 << 12) | UPPER);
    put(host, d, L3, 0, (L2 << 12) | UPPER);
    put(host, d, L2, 2, (L1A << 12) | UPPER);
    put(host, d, L2, 3, (L1B << 12) | UPPER);
    put(host, d, L2, 4, (0x200L << 12) | UPPER | 0x80);
    put(host, d, L1A, 0, (DATA << 12) | UPPER);
    put(host, d, L1A, 1, ((DATA + 1) << 12) | UPPER);
    put(host, d, L1A, 2, (MMIO << 12) | UPPER);
    put(host, d, L1A, 3, (L1A << 12) | 0x3);
    put(host, d, L1A, 4, (L2 << 12) | 0x3);
    put(host, d, L1A, 5, ((DATA + 2) << 12) | 0x5);
    put(host, d, L1A, 6, (DATA << 12) | 0x5 | (1L << 50));
    put(host, d, L1B, 0, ((DATA + 3) << 12) | UPPER);
    for (long f = 0; f < 6; f++) {
      host.writeGuestPhysical(d, (DATA + f) << 12, 8, 0x1111_0000L + f);
    }
    host.writeGuestPhysical(d, (0x205L << 12) + 8, 8, 0x5205);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.loadGuestState(CR0, L4 << 12, CR4_PAE, EFER));
    return v;
  }

  static void put(Host host, GuestDomain d, long frame, int slot, long value) {
    host.writeGuestPhysical(d, (frame << 12) + 8L * slot, 8, value);
  }

  static long guestEntry(Host host, GuestDomain d, long frame, int slot) {
    return host.readGuestPhysical(d, (frame << 12) + 8L * slot, 8);
  }

  /** The shadow of guest table {@code frame} at {@code type}, entry {@code slot}. */
  static long shadowEntry(Host host, GuestDomain d, long frame, byte type, int slot) {
    ShadowDomain sd = d.shadow();
    int page = sd.lookup(frame, type);
    assertTrue(page > 0, "no shadow of 0x" + Long.toHexString(frame) + " as type " + type);
    return host.machine().read((sd.frame(page) << 12) + 8L * slot, 8);
  }

  static long shadowFrame(GuestDomain d, long frame, byte type) {
    return d.shadow().frame(d.shadow().lookup(frame, type));
  }

  static long[] built(ShadowDomain sd) {
    return new long[] {sd.entriesBuilt[4], sd.entriesBuilt[3], sd.entriesBuilt[2],
        sd.entriesBuilt[1]};
  }

  static List<Violation> tlb(Host host) {
    List<Violation> out = new ArrayList<>();
    HostInvariants.tlbWritableReadOnlyMmio(host, out);
    return out;
  }

  /** The pool's records agree, and no shadow L1 entry lets a write reach a guest page table. */
  static void checkShadows(GuestDomain d) {
    ShadowDomain sd = d.shadow();
    synchronized (d) {
      assertTrue(sd.checkInvariants());
      sd.paging.forEachShadowL1e(d, (table, slot, e) -> assertFalse(
          Pte.isPresentWritable(e) && sd.isPageTable(Pte.getMfn(e)),
          "shadow 0x" + Long.toHexString(table) + "[" + slot + "] = " + Pte.toHex(e)
              + " lets the guest write a page table"));
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void shouldBuildExactlyTheMissingShadowEntriesLevelByLevel(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(1, sd.shadowsMade, "the CR3 load made the top-level shadow");
    assertEquals(shadowFrame(d, L4, ShadowDomain.L4) << 12, v.cpu().cr3());
    assertEquals(L4 << 12, v.guestRegisters().cr3(), "the guest's CR3 is its own");

    // The first access: one entry at each level, three new shadow pages.
    assertEquals(0x1111_0000L, v.read(LA, 8, U));
    assertEquals(0, v.lastFault());
    assertEquals(1, sd.faults);
    assertEquals(4, sd.shadowsMade);
    assertEquals(List.of(1L, 1L, 1L, 1L), List.of(box(built(sd))));
    // Each shadow entry points at the shadow of the guest's next table; the walk set A.
    long sl3 = shadowFrame(d, L3, ShadowDomain.L3);
    long sl2 = shadowFrame(d, L2, ShadowDomain.L2);
    long sl1 = shadowFrame(d, L1A, ShadowDomain.L1);
    assertEquals((sl3 << 12) | 0x67, shadowEntry(host, d, L4, ShadowDomain.L4, 0));
    assertEquals((sl2 << 12) | 0x67, shadowEntry(host, d, L3, ShadowDomain.L3, 0));
    assertEquals((sl1 << 12) | 0x67, shadowEntry(host, d, L2, ShadowDomain.L2, 2));
    assertEquals((DATA << 12) | 0x27, guestEntry(host, d, L1A, 0), "A set, D not");
    assertEquals((DATA << 12) | 0x25, shadowEntry(host, d, L1A, ShadowDomain.L1, 0),
        "read-only until the guest's D is set");

    // The next page of the same table: the L1 entry only.
    assertEquals(0x1111_0001L, v.read(LA + 0x1000, 8, U));
    assertEquals(List.of(1L, 1L, 1L, 2L), List.of(box(built(sd))));
    // Another L1 table under the same L2: its L2 entry and its L1 entry, one new shadow page.
    assertEquals(0x1111_0003L, v.read(LA_B, 8, U));
    assertEquals(List.of(1L, 1L, 2L, 3L), List.of(box(built(sd))));
    assertEquals(5, sd.shadowsMade);
    // A write to the page read so far: the walk sets D, the L1 entry becomes writable.
    assertEquals(0, v.write(LA, 8, 42, U));
    assertEquals(42, host.readGuestPhysical(d, DATA << 12, 8));
    assertEquals((DATA << 12) | 0x67, guestEntry(host, d, L1A, 0));
    assertEquals((DATA << 12) | 0x67, shadowEntry(host, d, L1A, ShadowDomain.L1, 0));
    assertEquals(List.of(1L, 1L, 2L, 4L), List.of(box(built(sd))));
    // A 2-MByte guest page: the L2 entry points at a shadow L1 that splits it (keyed by gfn).
    assertEquals(0x5205, v.read(LA_SUPER + 0x5008, 8, U));
    assertEquals(List.of(1L, 1L, 3L, 5L), List.of(box(built(sd))));
    assertEquals(6, sd.shadowsMade);
    // The fabricated L1 entry has every right (P RW US A D); the L2 entry, whose D is clear after a
    // read, withholds R/W.
    assertEquals((0x205L << 12) | 0x67, shadowEntry(host, d, 0x200, ShadowDomain.FL1, 5));
    assertEquals((shadowFrame(d, 0x200, ShadowDomain.FL1) << 12) | 0x65,
        shadowEntry(host, d, L2, ShadowDomain.L2, 4));
    assertEquals(0x200, d.shadowedFrame(shadowFrame(d, 0x200, ShadowDomain.FL1)));
    // Nothing faults twice: what is built stays.
    long faults = sd.faults;
    v.cpu().flushAll();
    assertEquals(42, v.read(LA, 8, U));
    assertEquals(0x1111_0003L, v.read(LA_B, 8, U));
    assertEquals(faults, sd.faults);
    assertEquals(List.of(), HostInvariants.check(host));
    checkShadows(d);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void guestStoresToItsPageTablesShouldBeEmulatedAndTheShadowsFollow(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0x1111_0000L, v.read(LA, 8, U)); // L1A and L2 are shadowed now
    assertEquals(0x1111_0003L, v.read(LA_B, 8, U)); // and L1B
    // The guest reads its own L1A through the self-map: a read-only shadow entry.
    assertEquals((DATA << 12) | 0x27, v.read(LA + 0x3000, 8, 0));
    assertEquals((L1A << 12) | 0x21, shadowEntry(host, d, L1A, ShadowDomain.L1, 3));
    // A store of a new entry: the processor faults, Xen emulates it, and the shadow entry is made
    // from it at once (it has A and D).
    long faults = sd.faults;
    assertEquals(0, v.write(LA + 0x3000 + 8 * 7, 8, ((DATA + 4) << 12) | 0x67, 0));
    assertEquals(faults + 1, sd.faults);
    assertEquals(1, sd.emulatedWrites);
    assertEquals(((DATA + 4) << 12) | 0x67, guestEntry(host, d, L1A, 7));
    assertEquals(((DATA + 4) << 12) | 0x67, shadowEntry(host, d, L1A, ShadowDomain.L1, 7));
    assertEquals(0x1111_0004L, v.read(LA + 0x7000, 8, U));
    assertEquals(faults + 1, sd.faults, "the shadow followed: no fault");
    // The guest remaps page 0 and invalidates it, as it must: the next read sees the new frame.
    assertEquals(0, v.write(LA + 0x3000, 8, ((DATA + 5) << 12) | 0x67, 0));
    v.cpu().invlpg(LA);
    assertEquals(0x1111_0005L, v.read(LA, 8, U));
    assertEquals(faults + 2, sd.faults);
    // An upper level: the guest points L2[2] at L1B (a store through its L2 mapping). The shadow L2
    // entry now points at L1B's shadow; the old one pointed elsewhere, so Xen flushed.
    long flushes = sd.flushes;
    assertEquals(0, v.write(LA + 0x4000 + 8 * 2, 8, (L1B << 12) | UPPER, 0));
    assertEquals(3, sd.emulatedWrites);
    // (Not present until the guest's walk sets A in its new entry.)
    assertEquals((shadowFrame(d, L1B, ShadowDomain.L1) << 12) | 0x66,
        shadowEntry(host, d, L2, ShadowDomain.L2, 2));
    assertEquals(flushes + 1, sd.flushes);
    assertEquals(0x1111_0003L, v.read(LA, 8, U));
    assertEquals((shadowFrame(d, L1B, ShadowDomain.L1) << 12) | 0x67,
        shadowEntry(host, d, L2, ShadowDomain.L2, 2));
    // A loader's write into a shadowed table is followed too, and since the change is not the
    // guest's, Xen flushes what it took away: the cached translation of the old frame goes.
    put(host, d, L1B, 1, ((DATA + 1) << 12) | 0x67);
    assertEquals(((DATA + 1) << 12) | 0x67, shadowEntry(host, d, L1B, ShadowDomain.L1, 1));
    assertEquals(0x1111_0001L, v.read(LA + 0x1000, 8, U)); // through L1B[1], now cached
    put(host, d, L1B, 1, ((DATA + 2) << 12) | 0x67);
    assertEquals(0x1111_0002L, v.read(LA + 0x1000, 8, U));
    assertEquals(List.of(), HostInvariants.check(host));
    checkShadows(d);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void theGuestShouldSeeItsOwnPageFaults(PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    boolean seed = policy == Policy.SEED_2010;
    // A user write to a read-only page: P|W|U either way (the seed takes the processor's code,
    // W|U for a shadow not yet built, and sets P as the guest's entries are present).
    long r = v.write(LA + 0x5000, 8, 1, U);
    assertEquals(Fault.of(FaultKind.PAGE_FAULT, 0x7), r, () -> Fault.describe(r));
    assertEquals(LA + 0x5000, v.cpu().cr2());
    assertEquals(0x1111_0002L, host.readGuestPhysical(d, (DATA + 2) << 12, 8), "not written");
    // Not present: U, P clear.
    assertEquals(0, v.read(LA + 0x8000, 8, U));
    assertEquals(Fault.of(FaultKind.PAGE_FAULT, 0x4), v.lastFault());
    assertEquals(LA + 0x8000, v.cpu().cr2());
    // Not present in a supervisor write.
    assertEquals(Fault.of(FaultKind.PAGE_FAULT, 0x2), v.write(LA + 0x9000, 8, 1, 0));
    if (!seed) {
      // A reserved bit (50, above MAXPHYADDR 46): RSVD|P|U. The seed checks no reserved bits.
      assertEquals(0, v.read(LA + 0x6000, 8, U));
      assertEquals(Fault.of(FaultKind.PAGE_FAULT, 0xd), v.lastFault());
    }
    assertEquals(seed ? 3 : 4, d.shadow().guestFaults);
    // With the guest's CR0.WP clear, a supervisor write through a read-only entry works: the
    // processor runs with WP, and Xen emulates the store.
    assertEquals(0, v.loadGuestState(CR0 & ~CR0_WP, L4 << 12, CR4_PAE, EFER));
    assertEquals(0, v.write(LA + 0x5000, 8, 9, 0));
    assertEquals(9, host.readGuestPhysical(d, (DATA + 2) << 12, 8));
    assertEquals(1, d.shadow().emulatedWrites);
    checkShadows(d);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void hardenedRevocationShouldTakeWriteAccessFromTheShadowAndTheTlb(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    assertEquals(0, v.write(LA + 0x2000, 4, 1, U)); // cached, writable: nothing protects it yet
    assertTrue(Pte.isPresentWritable(shadowEntry(host, d, L1A, ShadowDomain.L1, 2)));
    assertEquals(List.of(), tlb(host));
    assertEquals(0, host.protect("msix-table", MMIO, MMIO));
    assertFalse(Pte.isPresentWritable(shadowEntry(host, d, L1A, ShadowDomain.L1, 2)));
    assertEquals(List.of(), HostInvariants.check(host));
    // The next write faults for good (Xen would let it fault for ever); reads still work.
    assertEquals(Fault.of(FaultKind.PAGE_FAULT, 0x7), v.write(LA + 0x2000, 4, 2, U));
    assertTrue(d.shadow().unfixable > 0);
    v.read(LA + 0x2000, 4, U);
    assertEquals(0, v.lastFault());
    assertEquals(List.of(), HostInvariants.check(host));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void withoutTheShadowFlushAStaleTranslationShouldStillWrite(PagingMode mode) {
    Host host = new Host(0x1000,
        Policy.HARDENED.withFlushes(FlushSwitches.XEN.withShadowFlush(false)));
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    assertEquals(0, v.write(LA + 0x2000, 4, 1, U));
    assertEquals(0, host.protect("msix-table", MMIO, MMIO));
    assertFalse(Pte.isPresentWritable(shadowEntry(host, d, L1A, ShadowDomain.L1, 2)),
        "the shadow entry is revoked");
    List<Violation> bad = tlb(host);
    assertEquals(2, bad.size(), bad.toString()); // the first-level DTLB and the STLB
    for (Violation x : bad) {
      assertEquals(HostInvariants.TLB_WRITABLE_READ_ONLY_MMIO, x.invariant());
      assertEquals(MMIO, x.mfn());
      assertEquals(MappingKind.TLB, x.kind());
    }
    assertEquals(0, v.write(LA + 0x2000, 4, 2, U), "the stale translation writes");
    assertEquals(0, d.shadow().flushes);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void theSeedsShadowDefectShouldKeepAPvShadowWritable(PagingMode mode) {
    // shadow_set_l1e drops the result of removing _PAGE_RW (reference 3.6 row 9): with revocation
    // (hardened otherwise), a PV guest in shadow mode keeps R/W on the protected frame. An HVM guest
    // does not: _sh_propagate cleared R/W for the read-only mmio_direct frame already.
    Host host = new Host(0x1000, shadowNoOp());
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    assertEquals(0, v.write(LA + 0x2000, 4, 1, U));
    assertEquals(0, host.protect("msix-table", MMIO, MMIO));
    boolean pv = mode == PagingMode.PV_SHADOW;
    assertEquals(pv, Pte.isPresentWritable(shadowEntry(host, d, L1A, ShadowDomain.L1, 2)));
    assertEquals(List.of(), tlb(host), "the revocation flushed all the same");
    long r = v.write(LA + 0x2000, 4, 2, U);
    assertEquals(pv ? 0 : Fault.of(FaultKind.PAGE_FAULT, 0x7), r);
    List<Violation> found = HostInvariants.check(host);
    // The entry (invariant 1) and, after the write, the translation cached from it (invariant 4).
    assertEquals(pv ? 3 : 0, found.size(), found.toString());
    if (pv) {
      assertEquals(MappingKind.SHADOW_L1, found.get(0).kind());
      assertEquals(shadowFrame(d, L1A, ShadowDomain.L1), found.get(0).where());
      assertEquals(2, found.get(0).slot());
      assertEquals(L1A, d.shadowedFrame(found.get(0).where()));
    }
    // The seed itself: no revocation at all, and a mapping made after protection keeps R/W too.
    Host seed = new Host(0x1000, Policy.SEED_2010);
    assertEquals(0, seed.protect("msix-table", MMIO, MMIO));
    GuestVcpu s = guest(seed, mode);
    assertEquals(pv ? 0 : Fault.of(FaultKind.PAGE_FAULT, 0x7), s.write(LA + 0x2000, 4, 1, U));
    assertEquals(pv, Pte.isPresentWritable(
        shadowEntry(seed, s.domain(), L1A, ShadowDomain.L1, 2)));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void aCr3SwitchShouldShareTheShadowsBelowTheTop(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0x1111_0000L, v.read(LA, 8, U));
    long made = sd.shadowsMade;
    long[] before = built(sd);
    // A second address space sharing L3 with the first.
    put(host, d, 0x185, 0, (L3 << 12) | UPPER);
    assertEquals(0, v.writeGuestCr3(0x185L << 12));
    assertEquals(made + 1, sd.shadowsMade);
    assertEquals(shadowFrame(d, 0x185, ShadowDomain.L4) << 12, v.cpu().cr3());
    assertEquals(0x1111_0000L, v.read(LA, 8, U));
    long[] after = built(sd);
    assertEquals(before[0] + 1, after[0], "one L4 entry");
    assertEquals(before[1], after[1]);
    assertEquals(before[2], after[2]);
    assertEquals(before[3], after[3], "the L1 entry re-propagates unchanged");
    assertEquals(made + 1, sd.shadowsMade);
    // A CR3 outside the guest's RAM: -EINVAL; Xen crashes an HVM guest (hvm_set_cr3's bad_cr3).
    assertEquals(-Errno.EINVAL, v.writeGuestCr3(0x5000L << 12));
    assertEquals(mode == PagingMode.HVM_SHADOW, d.crashed());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void aCrashShouldDropEveryShadowAndItsReferences(PagingMode mode) {
    Host host = new Host(0x1000, Policy.SEED_2010);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0, v.write(LA + 0x2000, 4, 1, U));
    assertEquals(0, v.write(LA, 8, 1, U));
    v.read(LA_SUPER, 8, U);
    assertEquals(1, shadowRecords(host));
    assertTrue(host.frames().generalCount(DATA) > 1, "the shadow entry holds a reference");
    assertEquals(List.of(), HostInvariants.check(host));
    host.crashDomain(d);
    assertEquals(0, shadowRecords(host));
    assertEquals(1, host.frames().generalCount(DATA), "the allocation only");
    assertEquals(1, sd.pagesInUse(), "the blank page only");
    assertEquals(sd.blankFrame() << 12, v.cpu().cr3());
    assertTrue(sd.checkInvariants());
    assertEquals(List.of(), HostInvariants.check(host));
    v.read(LA, 8, U);
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(v.lastFault()));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void aFullPoolShouldCrashTheDomain(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    host.shadowPaging().poolPages = 8; // the blank page, L4, L3, L2 and four L1 shadows
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    put(host, d, L4, 0, (L3 << 12) | UPPER);
    put(host, d, L3, 0, (L2 << 12) | UPPER);
    for (int t = 0; t < 5; t++) {
      put(host, d, L2, t, ((0x190L + t) << 12) | UPPER);
      put(host, d, 0x190 + t, 0, (DATA << 12) | UPPER);
    }
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.loadGuestState(CR0, L4 << 12, CR4_PAE, EFER));
    for (int t = 0; t < 4; t++) {
      v.read((long) t << 21, 8, U);
      assertEquals(0, v.lastFault());
    }
    assertEquals(8, d.shadow().pagesInUse());
    v.read(4L << 21, 8, U);
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(v.lastFault()));
    assertTrue(d.crashed(), "no shadow memory left: domain_crash");
    assertEquals(1, d.shadow().pagesInUse());
    assertEquals(1, host.frames().generalCount(DATA));
    assertEquals(List.of(), HostInvariants.check(host));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void theNumberedTablesShouldBeAThinLayerOverTheRealPath(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, MMIO, MMIO));
    GuestDomain other = host.createDomain(2, PagingMode.PV, false);
    assertEquals(0, host.giveRam(other, 0x200, 0x2ff));
    assertEquals(0, host.newGuestTable(d));
    assertEquals(1, host.newGuestTable(d));
    assertEquals(2, d.guestTableCount());
    assertEquals(1, d.vcpus().size(), "the layer's vCPU");
    // The loader's frames are the guest's highest: L4, L3, L2, the window, then the tables.
    assertEquals(0x1fb, d.guestTableFrame(0));
    assertEquals(0x1fa, d.guestTableFrame(1));
    assertEquals(0x1ffL << 12, d.vcpus().get(0).guestRegisters().cr3());
    // A writable entry: stored, then touched with a write, whose walk sets A and D.
    int flags = host.shadowWrite(d, 0, 7, Pte.fromMfn(0x150, 0x7));
    assertEquals(ShadowL1e.SHADOW_SET_CHANGED, flags);
    assertEquals(Pte.fromMfn(0x150, 0x67), d.guestEntry(0, 7));
    assertEquals(Pte.fromMfn(0x150, 0x67), d.shadowEntry(0, 7));
    // Table 0 is shadowed now: the next store into it is emulated.
    ShadowDomain sd = d.shadow();
    long emulated = sd.emulatedWrites;
    assertEquals(ShadowL1e.SHADOW_SET_CHANGED, host.shadowWrite(d, 0, 8, Pte.fromMfn(0x151, 0x5)));
    assertEquals(emulated + 1, sd.emulatedWrites);
    assertEquals(Pte.fromMfn(0x151, 0x25), d.shadowEntry(0, 8), "read-only: no D");
    // Unchanged: 0. A frame of another domain: refused, SHADOW_SET_ERROR, an empty entry.
    assertEquals(0, host.shadowWrite(d, 0, 8, Pte.fromMfn(0x151, 0x25)));
    int refused = host.shadowWrite(d, 1, 0, Pte.fromMfn(0x250, 0x3));
    if (mode == PagingMode.PV_SHADOW) {
      assertEquals(ShadowL1e.SHADOW_SET_ERROR | ShadowL1e.SHADOW_SET_CHANGED, refused);
    } else {
      assertEquals(0, refused, "the HVM guest's gfn 0x250 has no p2m entry: its own #PF");
    }
    assertEquals(0, d.shadowEntry(1, 0));
    // A guest frame that is one of its own page tables: the shadow entry is read-only.
    host.shadowWrite(d, 1, 1, Pte.fromMfn(0x1fb, 0x7));
    assertEquals(Pte.fromMfn(0x1fb, 0x65), d.shadowEntry(1, 1));
    // Not present: the shadow entry goes.
    host.shadowWrite(d, 0, 7, 0);
    assertEquals(0, d.shadowEntry(0, 7));
    assertEquals(List.of(), HostInvariants.check(host));
    checkShadows(d);
  }

  /**
   * The measurement in docs/shadow.md: how many shadow entries a fault builds, for a guest touching
   * 2048 pages in order (four L1 tables under one L2), reading then writing each, and for one that
   * touches one page in each of 64 2-MByte regions.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void shouldBuildAboutOneEntryPerFaultForASequentialWorkload(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x3ff));
    put(host, d, L4, 0, (L3 << 12) | UPPER);
    put(host, d, L3, 0, (L2 << 12) | UPPER);
    for (int t = 0; t < 68; t++) {
      long l1 = 0x190 + t;
      put(host, d, L2, 8 + t, (l1 << 12) | UPPER);
      for (int s = 0; s < 512; s++) {
        put(host, d, l1, s, ((0x200L + s) << 12) | UPPER);
      }
    }
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.loadGuestState(CR0, L4 << 12, CR4_PAE, EFER));
    ShadowDomain sd = d.shadow();
    long base = 8L << 21;
    for (int p = 0; p < 2048; p++) {
      v.read(base + ((long) p << 12), 8, U);
      assertEquals(0, v.lastFault());
    }
    assertEquals(2048, sd.faults);
    assertEquals(List.of(1L, 1L, 4L, 2048L), List.of(box(built(sd))));
    for (int p = 0; p < 2048; p++) {
      assertEquals(0, v.write(base + ((long) p << 12), 8, p, U));
    }
    assertEquals(4096, sd.faults, "one more fault per page: the first write sets D");
    assertEquals(List.of(1L, 1L, 4L, 4096L), List.of(box(built(sd))));
    for (int r = 0; r < 64; r++) {
      v.read(base + ((4L + r) << 21) + 0x3000, 8, U);
    }
    assertEquals(4096 + 64, sd.faults);
    assertEquals(List.of(1L, 1L, 68L, 4160L), List.of(box(built(sd))), "two entries per fault");
    assertEquals(3 + 68, sd.shadowsMade);
    checkShadows(d);
  }

  static int shadowRecords(Host host) {
    int[] n = {0};
    host.rmap().forEach(MMIO, MMIO, (mfn, domain, kind, where, slot) -> {
      if (kind == MappingKind.SHADOW_L1) {
        n[0]++;
      }
      return true;
    });
    return n[0];
  }

  private static Long[] box(long[] values) {
    Long[] out = new Long[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }
}
