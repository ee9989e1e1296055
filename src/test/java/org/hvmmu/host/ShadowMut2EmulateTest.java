package org.hvmmu.host;

import static org.hvmmu.host.ShadowPagingTest.CR0;
import static org.hvmmu.host.ShadowPagingTest.DATA;
import static org.hvmmu.host.ShadowPagingTest.EFER;
import static org.hvmmu.host.ShadowPagingTest.L1A;
import static org.hvmmu.host.ShadowPagingTest.L1B;
import static org.hvmmu.host.ShadowPagingTest.L2;
import static org.hvmmu.host.ShadowPagingTest.L3;
import static org.hvmmu.host.ShadowPagingTest.L4;
import static org.hvmmu.host.ShadowPagingTest.LA;
import static org.hvmmu.host.ShadowPagingTest.LA_B;
import static org.hvmmu.host.ShadowPagingTest.LA_SUPER;
import static org.hvmmu.host.ShadowPagingTest.MMIO;
import static org.hvmmu.host.ShadowPagingTest.U;
import static org.hvmmu.host.ShadowPagingTest.UPPER;
import static org.hvmmu.host.ShadowPagingTest.guestEntry;
import static org.hvmmu.host.ShadowPagingTest.put;
import static org.hvmmu.host.ShadowPagingTest.shadowEntry;
import static org.hvmmu.host.ShadowPagingTest.shadowFrame;
import static org.hvmmu.mmu.ControlRegisters.CR0_PG;
import static org.hvmmu.mmu.ControlRegisters.CR0_WP;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Guest stores into shadowed page tables, CR3 loads and the first page faults, pinned from Xen
 * 4.22's shadow code and the SDM. {@code sh_emulate_map_dest} (shadow/hvm.c) maps each page of a
 * store through the guest's walk with {@code PFEC_write_access}; a store that crosses a page
 * writes the first page from {@code la &
 * 0xfff} to its end and the rest from the start of the second page, in little-endian byte order
 * (SDM vol. 1 1.3.1); {@code sh_validate_guest_pt_write} re-derives every entry the bytes cover
 * in each page; a frame with no p2m entry is the guest's #PF. {@code sh_update_cr3} shadows only
 * 4-level paging (CR0.PG, CR4.PAE, EFER.LMA; SDM vol. 3A 4.1) and a CR3 whose frame is not the
 * guest's RAM is {@code bad_cr3}. {@code gw_remove_write_accesses} takes the writable mappings of
 * a table about to be shadowed, and the domain is flushed. Machine frame 0 is an ordinary frame:
 * nothing in Xen's paths treats it specially. Every #PF error code is hand-computed from SDM vol.
 * 3A 4.7 (P bit 0, W/R bit 1, U/S bit 2).
 *
 * <p>The guest (RAM 0x0-0x3ff, gfn = mfn for HVM, MMIO frame 0x100000):
 *
 * <pre>
 *   L4 0x180 [0] -> L3 0x181 [0] -> L2 0x182 [2] -> L1A 0x183      linear 0x400000
 *                                           [3] -> L1B 0x184      linear 0x600000
 *                                           [4] -> 2 MiB at 0x200 (PS)  linear 0x800000
 *                                           [5] -> frame 0 as an L1     linear 0xa00000
 *                                           [511] -> L1C 0x185    linear 0x3fe00000
 *   L1A: [0] L1A P RW      [1] frame 0 P RW US   [2] DATA P RW US   [3] L1A P RW US
 *        [4] DATA+1 P RW   [5] L2 P RW           [6] DATA+2 P RW    [7] MMIO P RW US
 *        [9] L1A P RW      [10] gfn 0x800 P RW US (no RAM)          [11] DATA+3 P (read-only)
 *        [12] DATA+6 P RW US   [14] DATA+7 P RW   [15] L1A P RW
 *   L1B: [0] DATA+4 P RW US     L1C: [0] DATA+5 P RW US     frame 0: [1] DATA+3 P RW US
 * </pre>
 */
class ShadowMut2EmulateTest {
  /** Both shadow modes under the three presets. */
  static final String SHADOW_MODES = "org.hvmmu.host.ShadowPagingMutantsTest#modesAndPolicies";
  static final long L1C = 0x185;
  static final long LA_ZERO = 0xA0_0000L;
  static final long LA_C = 0x3FE0_0000L;

  /** The guest of the class description, one vCPU on it. */
  static GuestVcpu guest(Host host, PagingMode mode) {
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x0, 0x3ff));
    assertEquals(0, host.grantIomem(d, MMIO, MMIO));
    put(host, d, L4, 0, (L3 << 12) | UPPER);
    put(host, d, L3, 0, (L2 << 12) | UPPER);
    put(host, d, L2, 2, (L1A << 12) | UPPER);
    put(host, d, L2, 3, (L1B << 12) | UPPER);
    put(host, d, L2, 4, (0x200L << 12) | UPPER | 0x80);
    put(host, d, L2, 5, UPPER);
    put(host, d, L2, 511, (L1C << 12) | UPPER);
    put(host, d, L1A, 0, (L1A << 12) | 0x3);
    put(host, d, L1A, 1, UPPER);
    put(host, d, L1A, 2, (DATA << 12) | UPPER);
    put(host, d, L1A, 3, (L1A << 12) | UPPER);
    put(host, d, L1A, 4, ((DATA + 1) << 12) | 0x3);
    put(host, d, L1A, 5, (L2 << 12) | 0x3);
    put(host, d, L1A, 6, ((DATA + 2) << 12) | 0x3);
    put(host, d, L1A, 7, (MMIO << 12) | UPPER);
    put(host, d, L1A, 9, (L1A << 12) | 0x3);
    put(host, d, L1A, 10, (0x800L << 12) | UPPER);
    put(host, d, L1A, 11, ((DATA + 3) << 12) | 0x1);
    put(host, d, L1A, 12, ((DATA + 6) << 12) | UPPER);
    put(host, d, L1A, 14, ((DATA + 7) << 12) | 0x3);
    put(host, d, L1A, 15, (L1A << 12) | 0x3);
    put(host, d, L1B, 0, ((DATA + 4) << 12) | UPPER);
    put(host, d, L1C, 0, ((DATA + 5) << 12) | UPPER);
    put(host, d, 0, 1, ((DATA + 3) << 12) | UPPER);
    for (long f = 0; f < 8; f++) {
      host.writeGuestPhysical(d, (DATA + f) << 12, 8, 0x1111_0000L + f);
    }
    host.writeGuestPhysical(d, (0x205L << 12) + 8, 8, 0x5205);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.loadGuestState(CR0, L4 << 12, CR4_PAE, EFER));
    return v;
  }

  static long pf(int code) {
    return Fault.of(FaultKind.PAGE_FAULT, code);
  }

  /** {@code sh_update_cr3}'s first state: the processor on the blank top-level table. */
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void aNewVcpuShouldStartOnTheBlankTable(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, mode, false);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(d.shadow().blankFrame() << 12, v.cpu().cr3());
    assertEquals(d.shadow().firstFrame << 12, v.cpu().cr3());
    // CR0.PG clear (SDM vol. 3A 4.1.1: no paging): still the blank table.
    GuestVcpu w = guest(new Host(0x1000, Policy.HARDENED), mode);
    GuestDomain e = w.domain();
    assertEquals(0, w.loadGuestState(CR0 & ~CR0_PG, L4 << 12, CR4_PAE, EFER));
    assertEquals(e.shadow().blankFrame() << 12, w.cpu().cr3());
    assertEquals(pf(0x6), w.write(LA + 0x2000, 8, 1, U));
    assertEquals(0L, w.read(LA + 0x2000, 8, U));
    assertEquals(pf(0x4), w.lastFault(), "not present, user read");
  }

  /**
   * A guest whose top-level table is machine frame 0 (and gfn 0): an ordinary 4-level tree; a CR3
   * with a frame above the machine's last (bit 46 and up, MAXPHYADDR 46) is {@code bad_cr3}.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void frameZeroShouldServeAsTheTopLevelTable(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x0, 0xff));
    put(host, d, 0, 0, (0x1L << 12) | UPPER);
    put(host, d, 1, 0, (0x2L << 12) | UPPER);
    put(host, d, 2, 0, (0x3L << 12) | UPPER);
    put(host, d, 3, 5, (0x10L << 12) | UPPER);
    host.writeGuestPhysical(d, 0x10L << 12, 8, 0xF00D);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.loadGuestState(CR0, 0, CR4_PAE, EFER));
    assertEquals(shadowFrame(d, 0, ShadowDomain.L4) << 12, v.cpu().cr3());
    assertEquals(0xF00DL, v.read(0x5000, 8, U));
    assertEquals(0, v.lastFault());
    assertEquals(-Errno.EINVAL, v.writeGuestCr3(1L << 46));
    assertEquals(mode == PagingMode.HVM_SHADOW, d.crashed());
  }

  /** A store crossing from a page table into machine frame 0: both parts, in byte order. */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource(SHADOW_MODES)
  void aCrossingStoreShouldWriteEachByteInOrderIntoFrameZero(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0x1111_0000L, v.read(LA + 0x2000, 8, 0)); // L1A shadowed
    long emulated = sd.emulatedWrites;
    long validations = sd.validations;
    // Linear 0x400ffc is L1A + 0xffc (L1A[511] bits 32-63); 0x401000 is frame 0.
    assertEquals(0, v.write(LA + 0xFFC, 8, 0x8877_6655_4433_2211L, 0));
    assertEquals(emulated + 1, sd.emulatedWrites);
    assertEquals(0x4433_2211L << 32, guestEntry(host, d, L1A, 511));
    assertEquals(0x8877_6655L, host.readGuestPhysical(d, 0, 8));
    assertEquals(validations + 1, sd.validations, "one entry of L1A's one shadow");
    // Frame 0 becomes an L1 table (through L2[5]); its writable mapping goes.
    assertEquals(0x1111_0003L, v.read(LA_ZERO + 0x1000, 8, U));
    assertTrue(sd.isPageTable(0));
    // The same crossing store now covers an entry of each table: two validations.
    validations = sd.validations;
    assertEquals(0, v.write(LA + 0xFFC, 8, 0x0102_0304_0506_0708L, 0));
    assertEquals(0x0506_0708L << 32, guestEntry(host, d, L1A, 511));
    assertEquals(0x0102_0304L, host.readGuestPhysical(d, 0, 8));
    assertEquals(validations + 2, sd.validations);
    // A store at offset 0 of frame 0, now a table (machine address 0): emulated, and followed.
    emulated = sd.emulatedWrites;
    long entry = ((DATA + 7) << 12) | 0x67;
    assertEquals(0, v.write(LA + 0x1000, 8, entry, U));
    assertEquals(emulated + 1, sd.emulatedWrites);
    assertEquals(entry, host.readGuestPhysical(d, 0, 8));
    assertEquals(entry, shadowEntry(host, d, 0, ShadowDomain.L1, 0));
    assertEquals(0x1111_0007L, v.read(LA_ZERO, 8, U));
  }

  /**
   * A user store crossing from a user-writable view of a page table into a supervisor-only page.
   * Xen 4.22 does not emulate a user-mode store to a page table ({@code sh_page_fault}: "We do not
   * emulate user writes", it unshadows the table and the guest retries), so the processor makes
   * the store itself: a user access to a supervisor-only page is a #PF with P | W | U (SDM vol. 3A
   * 4.6, 4.7). The model emulates the store with the user bit in its walk, which must give that
   * #PF; as {@code sh_emulate_map_dest} maps both pages before writing, neither is written.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource(SHADOW_MODES)
  void aUserStoreIntoASupervisorPageShouldBeTheGuestsFault(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0x1111_0000L, v.read(LA + 0x2000, 8, U));
    long emulated = sd.emulatedWrites;
    // Linear 0x403ffc: L1A + 0xffc through L1A[3] (user); 0x404000: DATA+1, supervisor only.
    assertEquals(pf(0x7), v.write(LA + 0x3FFC, 8, -1L, U));
    assertEquals(emulated, sd.emulatedWrites);
    assertEquals(0L, guestEntry(host, d, L1A, 511));
    assertEquals(0x1111_0001L, host.readGuestPhysical(d, (DATA + 1) << 12, 8));
    // The same store in supervisor mode is made.
    assertEquals(0, v.write(LA + 0x3FFC, 8, 0xAAAA_BBBB_0000_0000L, 0));
    assertEquals(0xAAAA_BBBBL, host.readGuestPhysical(d, (DATA + 1) << 12, 4));
  }

  /**
   * A store crossing from an L2 table into RAM takes L2[511]'s frame away: the upper-level change
   * needs a flush (the second page's part needs none), so the cached translation through the old
   * entry goes.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource(SHADOW_MODES)
  void aCrossingStoreShouldFlushForItsFirstPagesUpperEntry(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0x1111_0005L, v.read(LA_C, 8, U)); // L2[511] -> L1C shadowed and cached
    assertEquals(0x1111_0000L, v.read(LA + 0x2000, 8, U));
    long flushes = sd.flushes;
    // Linear 0x405ffc: L2 + 0xffc (L2[511] bits 32-63); 0x406000: DATA+2. L2[511]'s frame
    // becomes L1C + 2^20, which is no RAM of the guest.
    assertEquals(0, v.write(LA + 0x5FFC, 8, 0x0000_0042_0000_0001L, 0));
    assertEquals(((L1C + (1L << 20)) << 12) | 0x27, guestEntry(host, d, L2, 511));
    assertEquals(0x42L, host.readGuestPhysical(d, (DATA + 2) << 12, 8));
    assertEquals(0L, shadowEntry(host, d, L2, ShadowDomain.L2, 511));
    assertEquals(flushes + 1, sd.flushes);
    v.read(LA_C, 8, U);
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(v.lastFault()), "the translation was flushed");
  }

  /**
   * HVM: a store crossing from a page table into a gfn with no p2m entry is the guest's #PF (P | W
   * in supervisor mode), counted as a guest fault, and neither page is written.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(names = {"SEED_2010", "HARDENED", "XEN_4_22"})
  void aStoreRunningIntoAGfnWithoutRamShouldBeTheGuestsFault(
      ShadowPagingMutantsTest.PolicyName p) {
    Host host = new Host(0x1000, p.policy);
    GuestVcpu v = guest(host, PagingMode.HVM_SHADOW);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0x1111_0000L, v.read(LA + 0x2000, 8, U));
    long guestFaults = sd.guestFaults;
    long emulated = sd.emulatedWrites;
    long zero = host.readGuestPhysical(d, 0, 8);
    // Linear 0x409ffc: L1A + 0xffc through L1A[9]; 0x40a000: gfn 0x800.
    assertEquals(pf(0x3), v.write(LA + 0x9FFC, 8, -1L, 0));
    assertEquals(guestFaults + 1, sd.guestFaults);
    assertEquals(emulated, sd.emulatedWrites);
    assertEquals(0L, guestEntry(host, d, L1A, 511));
    assertEquals(zero, host.readGuestPhysical(d, 0, 8));
  }

  /**
   * A PV guest's store crossing from a page table into a frame another domain owns: Xen's {@code
   * emulate_gva_to_mfn} takes the frame with {@code get_page_from_gfn}, which for a non-translated
   * guest is {@code mfn_valid && get_page(page, d)} (asm/p2m.h, 4.22) and fails for a frame the
   * guest does not own: {@code MAPPING_UNHANDLEABLE} (Xen 4.1 refuses every crossing PV store the
   * same way). Nothing is written, neither the other domain's frame nor the first page. (The model
   * wrote the other domain's frame here before.)
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(names = {"SEED_2010", "HARDENED", "XEN_4_22"})
  void aPvStoreRunningIntoAnotherDomainsFrameShouldWriteNothing(
      ShadowPagingMutantsTest.PolicyName p) {
    Host host = new Host(0x1000, p.policy);
    GuestVcpu v = guest(host, PagingMode.PV_SHADOW);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    GuestDomain other = host.createDomain(2, PagingMode.PV, false);
    assertEquals(0, host.giveRam(other, 0x800, 0x8ff));
    host.writeGuestPhysical(other, 0x800L << 12, 8, 0x5555);
    assertEquals(0x1111_0000L, v.read(LA + 0x2000, 8, 0));
    long emulated = sd.emulatedWrites;
    // Linear 0x409ffc: L1A + 0xffc through L1A[9]; 0x40a000: frame 0x800, the other domain's.
    assertEquals(0, v.write(LA + 0x9FFC, 8, -1L, 0));
    assertEquals(emulated, sd.emulatedWrites);
    assertEquals(0x5555L, host.readGuestPhysical(other, 0x800L << 12, 8));
    assertEquals(0L, guestEntry(host, d, L1A, 511));
  }

  /**
   * With the guest's CR0.WP clear a supervisor store through a read-only entry is emulated; a
   * translation for such a store has nothing to emulate: the processor's fault, P | W.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource(SHADOW_MODES)
  void aWriteTranslationWithWpClearShouldReturnTheProcessorsFault(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    assertEquals(0, v.loadGuestState(CR0 & ~CR0_WP, L4 << 12, CR4_PAE, EFER));
    assertEquals(0x1111_0003L, v.read(LA + 0xB000, 8, 0));
    assertEquals(pf(0x3), v.translate(LA + 0xB000, Access.WRITE));
    assertEquals(0x1111_0003L, host.readGuestPhysical(d, (DATA + 3) << 12, 8));
    assertEquals(0, v.write(LA + 0xB000, 8, 0x33, 0));
    assertEquals(0x33L, host.readGuestPhysical(d, (DATA + 3) << 12, 8));
  }

  /**
   * A frame that becomes a guest L3 table on a fault loses its writable shadow mapping and the
   * domain is flushed, though its L2 was a page table already: a store through the old writable
   * translation is emulated.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource(SHADOW_MODES)
  void aNewL3ShouldLoseItsWritableMappingAndFlush(PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    long x = DATA + 6;
    put(host, d, x, 0, (L2 << 12) | UPPER); // DATA+6 as an L3 whose [0] is the L2
    put(host, d, L4, 1, (x << 12) | UPPER);
    assertEquals(0, v.write(LA + 0xC000, 8, (L2 << 12) | 0x27, U)); // writable, cached
    long flushes = sd.flushes;
    long removals = sd.writeAccessRemovals;
    assertEquals(0x1111_0000L, v.read((1L << 39) + LA + 0x2000, 8, U));
    assertTrue(sd.isPageTable(x));
    assertEquals(removals + 1, sd.writeAccessRemovals);
    assertEquals(flushes + 1, sd.flushes);
    long emulated = sd.emulatedWrites;
    assertEquals(0, v.write(LA + 0xC000, 8, (L2 << 12) | 0x67, U));
    assertEquals(emulated + 1, sd.emulatedWrites);
  }

  /**
   * The guest empties L1A[14] (an emulated store; Xen flushes no guest L1 change, SDM vol. 3A
   * 4.10.4.4: the processor may keep the old translation until the guest's INVLPG), then stores
   * across from that page into a view of a page table: the processor faults on the second page,
   * and the emulator's walk of the first page finds the guest's entry not present: the guest's
   * #PF, W (supervisor, not present), and nothing is written.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource(SHADOW_MODES)
  void anEmulatedStoreWhoseFirstPageIsGoneShouldBeTheGuestsFault(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0, v.write(LA + 0xE000, 8, 0x77, 0)); // DATA+7, writable and cached
    assertEquals(0, v.write(LA + 0x3000 + 8 * 14, 8, 0, 0)); // L1A[14] = 0, emulated
    assertEquals(0L, guestEntry(host, d, L1A, 14));
    assertEquals(0L, shadowEntry(host, d, L1A, ShadowDomain.L1, 14));
    long emulated = sd.emulatedWrites;
    // Linear 0x40effc: DATA+7 + 0xffc (stale translation); 0x40f000: L1A through L1A[15].
    assertEquals(pf(0x2), v.write(LA + 0xEFFC, 8, -1L, 0));
    assertEquals(emulated, sd.emulatedWrites);
    assertEquals(0L, host.readGuestPhysical(d, ((DATA + 7) << 12) + 0xFFC, 4));
    assertEquals((L1A << 12) | 0x3, guestEntry(host, d, L1A, 0) & ~0x60L);
  }

  /** The layer's table check names the valid range: 0 to count - 1. */
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void aBadTableShouldNameTheRange(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.newGuestTable(d));
    assertEquals(1, host.newGuestTable(d));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> d.guestEntry(2, 0));
    assertTrue(e.getMessage().contains("(expected: 0 to 1)"), e.getMessage());
  }
}
