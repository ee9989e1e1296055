package org.hvmmu.host;

import static org.hvmmu.host.ShadowPagingTest.guestEntry;
import static org.hvmmu.host.ShadowPagingTest.put;
import static org.hvmmu.host.ShadowPagingTest.shadowEntry;
import static org.hvmmu.mmu.ControlRegisters.CR0_PE;
import static org.hvmmu.mmu.ControlRegisters.CR0_PG;
import static org.hvmmu.mmu.ControlRegisters.CR0_WP;
import static org.hvmmu.mmu.ControlRegisters.CR4_LA57;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.hvmmu.mmu.ControlRegisters.EFER_LMA;
import static org.hvmmu.mmu.ControlRegisters.EFER_LME;
import static org.hvmmu.mmu.ControlRegisters.EFER_NXE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.x86.PageOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Shadow paging cases pinned from Xen 4.22's shadow code and the SDM, each test naming its source:
 * {@code sh_update_cr3} (only 4-level paging is shadowed; a new top-level table loses its writable
 * mappings), {@code sh_remove_write_access}, {@code _sh_propagate} for P2M_RO_TYPES, {@code
 * sh_unshadow_for_p2m_change}, the pool running out ({@code domain_crash}), the PV validator
 * refusing an entry, and guest stores into a shadowed page table that cross into the next page,
 * as Xen's shadow emulator handles them ({@code xen/arch/x86/mm/shadow/hvm.c}: {@code
 * sh_emulate_map_dest} maps both pages of a store that crosses a page boundary, each through the
 * guest's own walk with PFEC_write_access; a failing walk of either page is the guest's #PF and
 * nothing is written; a page that is not RAM ({@code p2m_is_ram} false, or an invalid mfn for a
 * PV guest) is {@code MAPPING_UNHANDLEABLE}, the store dropped; otherwise the bytes are written in
 * memory order, the first page's part from offset {@code la & 0xfff} to its end and the rest from
 * the start of the second page, and {@code sh_validate_guest_pt_write} re-derives the shadows of
 * each page over the bytes it took).
 *
 * <p>The expected values are hand computations from those rules and the SDM's little-endian byte
 * order (vol. 1 1.3.1) and #PF error code (vol. 3A 4.7: P=1 for a protection fault, W=1 for a
 * write, U=0 in supervisor mode).
 *
 * <p>The guest (RAM 0x100-0x3ff, gfn = mfn, MMIO frame 0x100000):
 *
 * <pre>
 *   L4 0x180 [0] -> L3 0x181 [0] -> L2 0x182 [2] -> L1A 0x183   linear 0x400000
 *   L1A: [0] DATA P RW US   [3] L1A P RW   [4] DATA+2 P US (read-only)   [5] L2 P RW
 *        [6] DATA P RW      [7] L3 P RW    [8] MMIO P RW                  [9] L3 P RW
 *        [10] L1A P RW      [11] DATA+1 P RW US
 * </pre>
 */
class ShadowPagingMutantsTest {
  static final long MMIO = 0x100000;
  static final long L4 = 0x180;
  static final long L3 = 0x181;
  static final long L2 = 0x182;
  static final long L1A = 0x183;
  static final long DATA = 0x150;
  static final long LA = 0x40_0000L;
  static final long UPPER = 0x7; // P RW US
  static final int U = Access.USER;
  static final long CR0 = CR0_PE | CR0_WP | CR0_PG;
  static final long EFER = EFER_LME | EFER_LMA | EFER_NXE;
  /** A supervisor write to a present read-only page: P | W (SDM vol. 3A 4.7). */
  static final long WRITE_PROTECTION_FAULT = Fault.of(FaultKind.PAGE_FAULT, 0x3);

  static List<Arguments> modesAndPolicies() {
    List<Arguments> out = new ArrayList<>();
    for (PagingMode mode : new PagingMode[] {PagingMode.PV_SHADOW, PagingMode.HVM_SHADOW}) {
      out.add(Arguments.of(mode, "seed-2010", Policy.SEED_2010));
      out.add(Arguments.of(mode, "hardened", Policy.HARDENED));
      out.add(Arguments.of(mode, "xen-4.22", Policy.XEN_4_22));
    }
    return out;
  }

  static GuestVcpu guest(Host host, PagingMode mode) {
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x3ff));
    assertEquals(0, host.grantIomem(d, MMIO, MMIO));
    put(host, d, L4, 0, (L3 << 12) | UPPER);
    put(host, d, L3, 0, (L2 << 12) | UPPER);
    put(host, d, L2, 2, (L1A << 12) | UPPER);
    put(host, d, L1A, 0, (DATA << 12) | UPPER);
    put(host, d, L1A, 3, (L1A << 12) | 0x3);
    put(host, d, L1A, 4, ((DATA + 2) << 12) | 0x5);
    put(host, d, L1A, 5, (L2 << 12) | 0x3);
    put(host, d, L1A, 6, (DATA << 12) | 0x3);
    put(host, d, L1A, 7, (L3 << 12) | 0x3);
    put(host, d, L1A, 8, (MMIO << 12) | 0x3);
    put(host, d, L1A, 9, (L3 << 12) | 0x3);
    put(host, d, L1A, 10, (L1A << 12) | 0x3);
    put(host, d, L1A, 11, ((DATA + 1) << 12) | UPPER);
    host.writeGuestPhysical(d, DATA << 12, 8, 0x1111_0000L);
    for (long f = 1; f < 7; f++) {
      host.writeGuestPhysical(d, (DATA + f) << 12, 8, 0x1111_0000L + f);
    }
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.loadGuestState(CR0, L4 << 12, CR4_PAE, EFER));
    return v;
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void aStoreFromAPageTableIntoRamShouldWriteBothPartsInByteOrder(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0x1111_0000L, v.read(LA, 8, 0)); // L1A, L2, L3 shadowed
    long emulated = sd.emulatedWrites;
    // 8 bytes at L2 + 0xffc (linear 0x405ffc): bytes 0-3 into L2[511] bits 32-63, bytes 4-7 into
    // DATA bytes 0-3 (linear 0x406000).
    assertEquals(0, v.write(LA + 0x5FFC, 8, 0x0000_00AB_0000_0010L, 0));
    assertEquals(emulated + 1, sd.emulatedWrites);
    assertEquals(0x10L << 32, guestEntry(host, d, L2, 511));
    assertEquals(0xABL, host.readGuestPhysical(d, DATA << 12, 8));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void aStoreFromAPageTableIntoAnotherShouldReDeriveTheSecondTablesShadow(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0x1111_0000L, v.read(LA, 8, 0)); // L1A, L2, L3 shadowed
    // 8 bytes at L3 + 0xffc (linear 0x409ffc, L1A[9]) run into L1A[0] bytes 0-3 (linear 0x40a000,
    // L1A[10]): the guest's L1A[0] becomes DATA+1 with A and D, and its shadow follows.
    long newEntry = ((DATA + 1) << 12) | 0x67;
    assertEquals(0, v.write(LA + 0x9FFC, 8, newEntry << 32, 0));
    assertEquals(0L, guestEntry(host, d, L3, 511));
    assertEquals(newEntry, guestEntry(host, d, L1A, 0));
    assertEquals(newEntry, shadowEntry(host, d, L1A, ShadowDomain.L1, 0));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void aStoreRunningIntoAReadOnlyPageShouldBeTheGuestsFaultAndWriteNothing(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0x1111_0000L, v.read(LA, 8, 0));
    long emulated = sd.emulatedWrites;
    long before = guestEntry(host, d, L1A, 511);
    long guestFaults = sd.guestFaults;
    // L1A + 0xffc (linear 0x403ffc) into DATA+2, which the guest maps read-only (linear 0x404000).
    assertEquals(WRITE_PROTECTION_FAULT, v.write(LA + 0x3FFC, 8, -1L, 0));
    assertEquals(guestFaults + 1, sd.guestFaults, "the emulator's walk of the second page");
    assertEquals(emulated, sd.emulatedWrites);
    assertEquals(before, guestEntry(host, d, L1A, 511));
    assertEquals(0x1111_0002L, host.readGuestPhysical(d, (DATA + 2) << 12, 8));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void aStoreRunningIntoMmioShouldBeDropped(PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0x1111_0000L, v.read(LA, 8, 0));
    long emulated = sd.emulatedWrites;
    long discarded = sd.discardedWrites;
    // L3 + 0xffc (linear 0x407ffc) into the MMIO frame (linear 0x408000): not RAM, dropped whole.
    assertEquals(0, v.write(LA + 0x7FFC, 8, -1L, 0));
    assertEquals(emulated, sd.emulatedWrites);
    assertEquals(discarded + 1, sd.discardedWrites);
    assertEquals(0L, guestEntry(host, d, L3, 511));
  }

  static final long DIRTY_USER_RW = 0x67; // P RW US A D

  /** An HVM guest whose L1A[0] (DATA) and L1A[11] (DATA+1) are shadowed writable and cached. */
  static GuestVcpu writtenGuest(Host host) {
    GuestVcpu v = guest(host, PagingMode.HVM_SHADOW);
    GuestDomain d = v.domain();
    assertEquals(0, v.write(LA, 8, 0xA0, U));
    assertEquals(0, v.write(LA + 0xB000, 8, 0xA1, U));
    assertEquals((DATA << 12) | DIRTY_USER_RW, shadowEntry(host, d, L1A, ShadowDomain.L1, 0));
    assertEquals(((DATA + 1) << 12) | DIRTY_USER_RW,
        shadowEntry(host, d, L1A, ShadowDomain.L1, 11));
    return v;
  }

  /**
   * {@code sh_unshadow_for_p2m_change} (Xen 4.22 shadow/common.c): a p2m change of one gfn takes
   * the shadow entries that map that gfn, only those, and flushes; the next access re-derives the
   * entry from the new p2m entry.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(names = {"SEED_2010", "HARDENED", "XEN_4_22"})
  void aP2mChangeOfOneGfnShouldMoveOnlyTheShadowEntriesMappingIt(PolicyName p) {
    Host host = new Host(0x1000, p.policy);
    GuestVcpu v = writtenGuest(host);
    GuestDomain d = v.domain();
    // gfn DATA+1 now maps machine frame DATA+6: L1A[11] follows, L1A[0] keeps DATA.
    assertEquals(0, host.setP2mEntry(d, DATA + 1, DATA + 6, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals((DATA << 12) | DIRTY_USER_RW, shadowEntry(host, d, L1A, ShadowDomain.L1, 0));
    long e11 = shadowEntry(host, d, L1A, ShadowDomain.L1, 11);
    assertTrue(e11 == 0 || e11 == (((DATA + 6) << 12) | DIRTY_USER_RW), Long.toHexString(e11));
    assertEquals(0x1111_0006L, v.read(LA + 0xB000, 8, U), "the old translation was flushed");
    assertEquals(0xA0L, v.read(LA, 8, U));
    // gfn DATA now maps DATA+5: L1A[0] follows, L1A[11] stays on DATA+6.
    assertEquals(0, host.setP2mEntry(d, DATA, DATA + 5, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(0x1111_0005L, v.read(LA, 8, U), "the old translation was flushed");
    assertEquals(((DATA + 5) << 12) | DIRTY_USER_RW, shadowEntry(host, d, L1A, ShadowDomain.L1, 0));
    assertEquals(((DATA + 6) << 12) | DIRTY_USER_RW,
        shadowEntry(host, d, L1A, ShadowDomain.L1, 11));
    assertEquals(0x1111_0006L, v.read(LA + 0xB000, 8, U));
  }

  /**
   * {@code _sh_propagate} (Xen 4.22 multi.c: {@code if ( p2m_is_readonly(p2mt) ) sflags &=
   * ~_PAGE_RW}): after a global re-type of RAM to p2m_ram_logdirty (one of
   * P2M_RO_TYPES) every shadow L1 entry of RAM is read-only, the vCPUs are flushed, and a store
   * is dropped ({@code emulate_readonly}).
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(names = {"SEED_2010", "HARDENED", "XEN_4_22"})
  void aGlobalReTypeToReadOnlyShouldTakeRwFromEveryShadowL1Entry(PolicyName p) {
    Host host = new Host(0x1000, p.policy);
    GuestVcpu v = writtenGuest(host);
    GuestDomain d = v.domain();
    host.changeTypeGlobal(d, P2mType.RAM_RW, P2mType.RAM_LOGDIRTY);
    assertEquals((DATA << 12) | 0x65, shadowEntry(host, d, L1A, ShadowDomain.L1, 0));
    assertEquals(((DATA + 1) << 12) | 0x65, shadowEntry(host, d, L1A, ShadowDomain.L1, 11));
    ShadowDomain sd = d.shadow();
    long faults = sd.faults;
    long discarded = sd.discardedWrites;
    assertEquals(0, v.write(LA, 8, 0xB0, U));
    assertEquals(faults + 1, sd.faults, "one fault, handled once");
    assertEquals(discarded + 1, sd.discardedWrites);
    // A translation for a write has nothing to emulate: the processor's #PF (P | W | U), once.
    assertEquals(Fault.of(FaultKind.PAGE_FAULT, 0x7), v.translate(LA, Access.WRITE | U));
    assertEquals(faults + 2, sd.faults);
    assertEquals(discarded + 1, sd.discardedWrites);
    assertEquals(0xA0L, v.read(LA, 8, U), "the cached writable translation was flushed");
    assertEquals(0xA0L, host.readGuestPhysical(d, DATA << 12, 8));
  }

  /**
   * {@code sh_update_cr3} shadows the guest's tables only in 4-level paging (CR0.PG, CR4.PAE,
   * EFER.LMA, no CR4.LA57: the only guest paging mode the model shadows); otherwise the processor
   * stays on the blank table and every access is the processor's #PF, passed on unchanged: a user
   * write to a not-present entry has error code W | U (SDM vol. 3A 4.7).
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void aGuestNotInFourLevelPagingShouldRunOnTheBlankTable(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    long notPresentUserWrite = Fault.of(FaultKind.PAGE_FAULT, 0x6);
    long[][] states = {
      {CR0, CR4_PAE, EFER_LME | EFER_NXE}, // LMA clear
      {CR0, 0, EFER}, // PAE clear
      {CR0, CR4_PAE | CR4_LA57, EFER}, // 5-level
    };
    for (long[] st : states) {
      assertEquals(0, v.loadGuestState(st[0], L4 << 12, st[1], st[2]));
      assertEquals(d.shadow().blankFrame() << 12, v.cpu().cr3());
      long faults = d.shadow().faults;
      assertEquals(notPresentUserWrite, v.write(LA, 8, 1, U));
      assertEquals(faults, d.shadow().faults, "nothing to shadow");
    }
    assertEquals(0x1111_0000L, host.readGuestPhysical(d, DATA << 12, 8));
    assertEquals(0, v.loadGuestState(CR0, L4 << 12, CR4_PAE, EFER));
    assertEquals(0, v.write(LA, 8, 1, U));
    assertEquals(1L, host.readGuestPhysical(d, DATA << 12, 8));
  }

  /** A crashed domain's vCPU cannot load guest state ({@code requireAlive}). */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void aCrashedDomainShouldRefuseAGuestStateLoad(PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    host.crashDomain(v.domain());
    assertThrows(IllegalStateException.class,
        () -> v.loadGuestState(CR0, L4 << 12, CR4_PAE, EFER));
  }

  /**
   * A frame that becomes a guest's top-level table loses its writable shadow mappings ({@code
   * sh_remove_write_access}) and the domain is flushed, so another vCPU that cached a writable
   * translation of it faults on its next store, which is then emulated ({@code
   * sh_x86_emulate_write}) and not made directly.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void aNewTopLevelTableShouldLoseItsWritableMappingsOnEveryVcpu(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    GuestVcpu w = host.createVcpu(d);
    assertEquals(0, v.write(LA, 8, 0xA0, U)); // DATA writable, cached by v
    long emulated = sd.emulatedWrites;
    assertEquals(0, w.loadGuestState(CR0, DATA << 12, CR4_PAE, EFER)); // DATA is an L4 now
    assertTrue(sd.isPageTable(DATA));
    assertEquals(DATA << 12 | 0x65, shadowEntry(host, d, L1A, ShadowDomain.L1, 0));
    assertEquals(0, v.write(LA, 8, 0xA2, U));
    assertEquals(emulated + 1, sd.emulatedWrites);
    assertEquals(0xA2L, host.readGuestPhysical(d, DATA << 12, 8));
  }

  /**
   * A full shadow pool crashes the domain ({@code shadow_alloc}'s {@code domain_crash}); the
   * faulting access gets back the processor's #PF (here a user write to an entry the blank table
   * does not have: W | U).
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void aFullPoolShouldCrashTheDomainAndReturnTheFault(PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    host.shadowPaging().poolPages = 4; // the blank page, L4, L3 and L2: no room for an L1
    GuestVcpu v = guest(host, mode);
    assertEquals(Fault.of(FaultKind.PAGE_FAULT, 0x6), v.write(LA, 8, 1, U));
    assertTrue(v.domain().crashed());
  }

  /**
   * The pool runs out at each level of {@code shadow_get_and_create_l1e} (L3, L2, L1): the domain
   * crashes and the access gets the processor's #PF on the blank table (W | U).
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void aPoolFullAtAnyLevelShouldCrashTheDomain(PagingMode mode, String name, Policy policy) {
    for (int pages = 2; pages <= 4; pages++) {
      Host host = new Host(0x1000, policy);
      host.shadowPaging().poolPages = pages; // the blank page and the L4, then L3, L2
      GuestVcpu v = guest(host, mode);
      assertEquals(Fault.of(FaultKind.PAGE_FAULT, 0x6), v.write(LA, 8, 1, U), "pool " + pages);
      assertTrue(v.domain().crashed(), "pool " + pages);
    }
  }

  /**
   * A PV guest's entry for a machine frame it does not own: its own walk succeeds, but the PV
   * validator ({@code get_page_from_l1e}, as {@code shadow_set_l1e} calls it) refuses the shadow
   * entry, so the processor faults on a not-present entry again (W | U, SDM vol. 3A 4.7): Xen
   * would report the fault fixed for ever; the model gives the guest that #PF after one try.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(names = {"SEED_2010", "HARDENED", "XEN_4_22"})
  void aPvEntryTheValidatorRefusesShouldFaultOnce(PolicyName p) {
    Host host = new Host(0x1000, p.policy);
    GuestVcpu v = guest(host, PagingMode.PV_SHADOW);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    put(host, d, L1A, 12, (0x900L << 12) | UPPER);
    long faults = sd.faults;
    long unfixable = sd.unfixable;
    assertEquals(Fault.of(FaultKind.PAGE_FAULT, 0x6), v.write(LA + 0xC000, 8, 1, U));
    assertEquals(faults + 1, sd.faults);
    assertEquals(unfixable + 1, sd.unfixable);
    assertEquals(0L, shadowEntry(host, d, L1A, ShadowDomain.L1, 12));
  }

  /**
   * {@code sh_remove_write_access}: when a frame becomes a guest page table, every shadow L1 entry
   * that maps it writable, in any shadow L1 table and at any slot, loses R/W (and only those).
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void aFrameBecomingAnL1ShouldLoseEveryWritableMapping(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    long l1b = 0x184;
    put(host, d, L2, 3, (l1b << 12) | UPPER);
    put(host, d, l1b, 0, (DATA << 12) | UPPER);
    put(host, d, L1A, 511, (DATA << 12) | UPPER);
    put(host, d, L2, 5, (DATA << 12) | UPPER); // DATA as an L1 table at linear 0xa00000
    long toData1 = ((DATA + 1) << 12) | UPPER; // DATA's entry 0, stored through each mapping
    assertEquals(0, v.write(LA, 8, toData1, U)); // L1A[0]
    assertEquals(0, v.write(LA + 0x1FF000, 8, toData1, U)); // L1A[511]
    assertEquals(0, v.write(0x60_0000L, 8, toData1, U)); // L1B[0]
    assertEquals(0, v.write(LA + 0xB000, 8, 0xA1, U)); // L1A[11]: DATA+1
    long dirty = DIRTY_USER_RW;
    assertEquals((DATA << 12) | dirty, shadowEntry(host, d, L1A, ShadowDomain.L1, 511));
    assertEquals((DATA << 12) | dirty, shadowEntry(host, d, l1b, ShadowDomain.L1, 0));
    long removals = sd.writeAccessRemovals;
    // A read through L2[5]: DATA is shadowed as an L1, its writable mappings go.
    assertEquals(0xA1L, v.read(0xA0_0000L, 8, U));
    assertEquals(3, sd.writeAccessRemovals - removals);
    long readOnly = (DATA << 12) | 0x65;
    assertEquals(readOnly, shadowEntry(host, d, L1A, ShadowDomain.L1, 0));
    assertEquals(readOnly, shadowEntry(host, d, L1A, ShadowDomain.L1, 511));
    assertEquals(readOnly, shadowEntry(host, d, l1b, ShadowDomain.L1, 0));
    assertEquals(((DATA + 1) << 12) | dirty, shadowEntry(host, d, L1A, ShadowDomain.L1, 11));
    // Every vCPU was flushed: the store through the old writable translation is emulated.
    long emulated = sd.emulatedWrites;
    assertEquals(0, v.write(0x60_0000L, 8, toData1 | 0x60, U));
    assertEquals(emulated + 1, sd.emulatedWrites);
  }

  /**
   * A loader's write into a shadowed guest L1 ({@code sh_validate_guest_entry} over the bytes
   * written) re-derives exactly the entry at the written offset, at either end of the table.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modesAndPolicies")
  void aLoaderWriteShouldReDeriveTheEntryAtItsOffset(PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    assertEquals(0x1111_0000L, v.read(LA, 8, U)); // L1A shadowed
    long e0 = ((DATA + 3) << 12) | DIRTY_USER_RW;
    long e511 = ((DATA + 4) << 12) | DIRTY_USER_RW;
    put(host, d, L1A, 0, e0);
    assertEquals(e0, shadowEntry(host, d, L1A, ShadowDomain.L1, 0));
    put(host, d, L1A, 511, e511);
    assertEquals(e511, shadowEntry(host, d, L1A, ShadowDomain.L1, 511));
    assertEquals(e0, shadowEntry(host, d, L1A, ShadowDomain.L1, 0));
    assertEquals(0x1111_0003L, v.read(LA, 8, U), "the old translation was flushed");
    assertEquals(0x1111_0004L, v.read(LA + 0x1FF000, 8, U));
  }

  /**
   * A guest 2-MiB page (SDM vol. 3A 4.5: PS in the L2 entry) is shadowed by an L1 of 4-KByte
   * entries fabricated from the guest's L2 entry (Xen's FL1 shadows); a p2m change of one of its
   * gfns ({@code sh_unshadow_for_p2m_change}) moves that entry, and the next access reads the new
   * frame.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(names = {"SEED_2010", "HARDENED", "XEN_4_22"})
  void aGuestSuperpagesShadowShouldFollowTheP2m(PolicyName p) {
    Host host = new Host(0x1000, p.policy);
    GuestVcpu v = guest(host, PagingMode.HVM_SHADOW);
    GuestDomain d = v.domain();
    long superLa = 0x80_0000L;
    put(host, d, L2, 4, (0x200L << 12) | UPPER | 0x80); // PS, A and D clear
    host.writeGuestPhysical(d, (0x205L << 12) + 8, 8, 0x5205);
    host.writeGuestPhysical(d, (0x106L << 12) + 8, 8, 0x5106);
    assertEquals(0x5205L, v.read(superLa + 0x5008, 8, U));
    // gfn 0x205 now maps machine frame 0x106.
    assertEquals(0, host.setP2mEntry(d, 0x205, 0x106, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(0x5106L, v.read(superLa + 0x5008, 8, U));
    // A store sets the guest L2 entry's D (shadowed read-only until then) and completes.
    assertEquals(0, v.write(superLa + 0x5010, 8, 0x77, U));
    assertEquals(0x77L, v.read(superLa + 0x5010, 8, U));
  }

  enum PolicyName {
    SEED_2010(Policy.SEED_2010), HARDENED(Policy.HARDENED), XEN_4_22(Policy.XEN_4_22);

    final Policy policy;

    PolicyName(Policy policy) {
      this.policy = policy;
    }
  }
}
