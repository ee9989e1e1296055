package org.hvmmu.host;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PageType;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.hvmmu.x86.pv.PvVcpu;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * 64-bit PV guests run on their own 4-level tables through the host: the processor walks the tables
 * the PV MMU validated, from the base {@code MMUEXT_NEW_BASEPTR} installed; a store into one of the
 * guest's own L1 tables is emulated as Xen's {@code ptwr} does; the guest's {@code mmuext_op} and
 * {@code update_va_mapping} flushes reach the processors; and a crash releases every base.
 *
 * <p>The guest: L4 0x100, L3 0x101, L2 0x102, L1 0x103 map linear 0x0 to data frame 0x110, 0x1000
 * read-only to the L1 table itself, 0x2000 to data frame 0x111. Expected values are the SDM's
 * (error codes, translations) and Xen's (what is refused), computed by hand.
 */
class HostPvVcpuTest {
  private static final long L4 = 0x100;
  private static final long L3 = 0x101;
  private static final long L2 = 0x102;
  private static final long L1 = 0x103;
  private static final long DATA = 0x110;
  private static final long DATA2 = 0x111;
  private static final long DATA3 = 0x112;
  private static final long MMIO = 0xfe010;
  private static final int URW = PAGE_PRESENT | PAGE_RW | PAGE_USER;

  /** A PV guest with RAM 0x100-0x1ff and its tree written but not yet validated. */
  private static GuestDomain guest(Host host) {
    GuestDomain d = host.createDomain(1, PagingMode.PV, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, 0xfe000, 0xfe0ff));
    host.writeGuestEntry(d, L4, 0, Pte.fromMfn(L3, URW));
    host.writeGuestEntry(d, L3, 0, Pte.fromMfn(L2, URW));
    host.writeGuestEntry(d, L2, 0, Pte.fromMfn(L1, URW));
    host.writeGuestEntry(d, L1, 0, Pte.fromMfn(DATA, URW));
    host.writeGuestEntry(d, L1, 1, Pte.fromMfn(L1, PAGE_PRESENT | PAGE_USER));
    host.writeGuestEntry(d, L1, 2, Pte.fromMfn(DATA2, URW));
    host.machine().write(DATA << 12, 8, 0x1111_2222_3333_4444L);
    host.machine().write(DATA2 << 12, 8, 0x5555_6666_7777_8888L);
    host.machine().write(DATA3 << 12, 8, 0x9999_aaaa_bbbb_ccccL);
    return d;
  }

  private static GuestVcpu running(Host host, GuestDomain d) {
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, host.newBaseptr(v, L4));
    return v;
  }

  private static long pf(long code) {
    return Fault.of(FaultKind.PAGE_FAULT, code);
  }

  private static List<Violation> tlbViolations(Host host) {
    List<Violation> out = new ArrayList<>();
    HostInvariants.tlbWritableReadOnlyMmio(host, out);
    return out;
  }

  @Test
  void aVcpuWithoutABaseShouldFaultOnEveryAccess() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = host.createVcpu(guest(host));
    assertEquals(PvVcpu.NO_BASEPTR, v.pvVcpu().baseptr());
    assertEquals(0, v.read(0, 8, Access.USER));
    assertEquals(pf(4), v.lastFault(), "user read, not present");
    assertEquals(0, v.cpu().cr2());
  }

  @ParameterizedTest
  @EnumSource(value = PolicyPreset.class)
  void theProcessorShouldWalkTheTablesTheBasePointerValidated(PolicyPreset p) {
    Host host = new Host(0x1000, p.policy);
    GuestDomain d = guest(host);
    GuestVcpu v = running(host, d);
    assertEquals(L4 << 12, v.cpu().cr3());
    assertEquals(PageType.L4_PAGE_TABLE, host.frames().pageType(L4));
    assertEquals(PageType.L1_PAGE_TABLE, host.frames().pageType(L1));
    assertEquals(0x1111_2222_3333_4444L, v.read(0, 8, Access.USER));
    assertEquals(0x5555_6666_7777_8888L, v.read(0x2000, 8, Access.USER));
    assertEquals(L1 << 12 | 8, v.translate(0x1008, Access.USER));
    // 4 + 1 references: one cold walk, then the second address shares the paging-structure caches.
    assertTrue(v.cpu().counters().references1d() > 0);
    assertEquals(0, v.cpu().counters().references2d());
    assertTrue(HostInvariants.check(host).isEmpty(), () -> HostInvariants.check(host).toString());
  }

  @Test
  void aStoreIntoTheGuestsOwnL1TableShouldBeEmulatedAndValidated() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = guest(host);
    GuestVcpu v = running(host, d);
    // Slot 3 of the L1 table is linear 0x1018 through the read-only self-mapping at 0x1000.
    assertEquals(0, v.write(0x1018, 8, Pte.fromMfn(DATA3, URW), Access.USER));
    assertEquals(0, v.lastFault());
    long installed = host.pvMmu().readEntry(L1, 3);
    assertEquals(DATA3, Pte.getMfn(installed));
    assertEquals(0x9999_aaaa_bbbb_ccccL, v.read(0x3000, 8, Access.USER));
    // A frame the guest may not map: Xen's validation refuses the store, the guest sees its #PF
    // (present, write, user).
    long foreign = 0x300; // no owner
    assertEquals(pf(7), v.write(0x1020, 8, Pte.fromMfn(foreign, URW), Access.USER));
    assertEquals(0x1020, v.cpu().cr2());
    assertEquals(0, host.pvMmu().readEntry(L1, 4));
    // A misaligned store is not emulated: the processor's #PF.
    assertEquals(pf(7), v.write(0x1021, 4, 0, Access.USER));
    // A store into a read-only data page is no page-table write: the #PF goes to the guest.
    host.writeGuestEntry(d, DATA2, 0, 0); // (not a table: an ordinary store)
    assertEquals(0, host.updateVaMapping(v, 0x2000, Pte.fromMfn(DATA2, PAGE_PRESENT | PAGE_USER),
        PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL, 0));
    assertEquals(pf(7), v.write(0x2000, 8, 1, Access.USER));
  }

  @Test
  void aStoredEntryForReadOnlyMmioShouldBeInstalledReadOnly() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = guest(host);
    GuestVcpu v = running(host, d);
    assertEquals(0, host.protect("ioapic", MMIO, MMIO));
    assertEquals(0, v.write(0x1028, 8, Pte.fromMfn(MMIO, URW), Access.USER));
    long installed = host.pvMmu().readEntry(L1, 5);
    assertEquals(MMIO, Pte.getMfn(installed));
    assertFalse(Pte.isPresentWritable(installed), Pte.toHex(installed));
    assertEquals(MMIO << 12, v.translate(0x5000, Access.USER));
    assertEquals(pf(7), v.translate(0x5000, Access.USER | Access.WRITE));
    assertTrue(HostInvariants.check(host).isEmpty(), () -> HostInvariants.check(host).toString());
  }

  @Test
  void updateVaMappingShouldFlushAsItsFlagsSay() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = guest(host);
    GuestVcpu v0 = running(host, d);
    GuestVcpu v1 = running(host, d);
    assertEquals(0x1111_2222_3333_4444L, v0.read(0, 8, Access.USER));
    assertEquals(0x1111_2222_3333_4444L, v1.read(0, 8, Access.USER));
    // UVMF_NONE: the entry changes, both TLBs keep the old translation (strict retention).
    assertEquals(0, host.updateVaMapping(v0, 0, Pte.fromMfn(DATA2, URW), PvMmuAbi.UVMF_NONE, 0));
    assertEquals(0x1111_2222_3333_4444L, v0.read(0, 8, Access.USER));
    assertEquals(0x1111_2222_3333_4444L, v1.read(0, 8, Access.USER));
    // UVMF_INVLPG | UVMF_LOCAL: only the caller sees the new frame.
    assertEquals(0, host.updateVaMapping(v0, 0, Pte.fromMfn(DATA2, URW),
        PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL, 0));
    assertEquals(0x5555_6666_7777_8888L, v0.read(0, 8, Access.USER));
    assertEquals(0x1111_2222_3333_4444L, v1.read(0, 8, Access.USER));
    // MMUEXT_INVLPG_ALL reaches the other vCPU.
    assertEquals(0, host.mmuextOp(v0, PvMmuAbi.MMUEXT_INVLPG_ALL, 0, 0));
    assertEquals(0x5555_6666_7777_8888L, v1.read(0, 8, Access.USER));
    assertEquals(0x5555_6666_7777_8888L, v0.read(0, 8, Access.USER)); // cached again
    // UVMF_TLB_FLUSH | UVMF_MULTI with vCPU 1 alone in the bitmap.
    assertEquals(0, host.updateVaMapping(v0, 0, Pte.fromMfn(DATA3, URW),
        PvMmuAbi.UVMF_TLB_FLUSH | 0x1000, 0b10));
    assertEquals(0x5555_6666_7777_8888L, v0.read(0, 8, Access.USER));
    assertEquals(0x9999_aaaa_bbbb_ccccL, v1.read(0, 8, Access.USER));
    // MMUEXT_TLB_FLUSH_LOCAL on vCPU 0.
    assertEquals(0, host.mmuextOp(v0, PvMmuAbi.MMUEXT_TLB_FLUSH_LOCAL, 0, 0));
    assertEquals(0x9999_aaaa_bbbb_ccccL, v0.read(0, 8, Access.USER));
  }

  @Test
  void aMovToCr3ShouldBeNewGuestCr3AndOtherControlRegistersXens() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = guest(host);
    GuestVcpu v = host.createVcpu(d);
    long cr0 = v.cpu().cr0();
    assertEquals(0, v.writeGuestCr3(L4 << 12));
    assertEquals(L4, v.pvVcpu().baseptr());
    assertEquals(L4 << 12, v.guestRegisters().cr3());
    assertEquals(-Errno.EPERM, v.loadGuestState(cr0 & ~(1L << 16), L4 << 12, v.cpu().cr4(),
        v.cpu().efer()), "CR0.WP is Xen's");
    // A data frame cannot become a base: the guest maps it writable (Xen's -EINVAL).
    assertEquals(-Errno.EINVAL, v.writeGuestCr3(DATA << 12));
    assertEquals(L4, v.pvVcpu().baseptr());
    assertEquals(L4 << 12, v.cpu().cr3());
  }

  @Test
  void revokingAWritableMmioMappingShouldLeaveNoWritableTranslation() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = guest(host);
    GuestVcpu v = running(host, d);
    assertEquals(0, host.updateVaMapping(v, 0x5000, Pte.fromMfn(MMIO, URW),
        PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL, 0));
    assertEquals(0, v.write(0x5000, 4, 1, Access.USER)); // cached writable
    assertTrue(tlbViolations(host).isEmpty());
    assertEquals(0, host.protect("ioapic", MMIO, MMIO));
    assertTrue(HostInvariants.check(host).isEmpty(), () -> HostInvariants.check(host).toString());
    assertEquals(pf(7), v.write(0x5000, 4, 2, Access.USER));
  }

  @Test
  void withoutTheRevalidationFlushAStaleWritableTranslationShouldShow() {
    Policy noFlush = Policy.HARDENED.withFlushes(FlushSwitches.XEN.withPvRevalidate(false));
    Host host = new Host(0x1000, noFlush);
    GuestDomain d = guest(host);
    GuestVcpu v = running(host, d);
    assertEquals(0, host.updateVaMapping(v, 0x5000, Pte.fromMfn(MMIO, URW),
        PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL, 0));
    assertEquals(0, v.write(0x5000, 4, 1, Access.USER));
    assertEquals(0, host.protect("ioapic", MMIO, MMIO));
    List<Violation> stale = tlbViolations(host);
    assertFalse(stale.isEmpty(), "the entry is read-only, the TLB still writable");
    assertEquals(0, v.write(0x5000, 4, 2, Access.USER), "the stale translation lets it through");
  }

  @Test
  void aCrashShouldReleaseEveryBaseAndBalanceTheCounts() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = guest(host);
    GuestVcpu v0 = running(host, d);
    GuestVcpu v1 = running(host, d);
    assertEquals(0, host.pinTable(d, L4, PageType.L4_PAGE_TABLE));
    assertEquals(0x1111_2222_3333_4444L, v1.read(0, 8, Access.USER));
    host.crashDomain(d);
    assertEquals(PvVcpu.NO_BASEPTR, v0.pvVcpu().baseptr());
    assertEquals(PvVcpu.NO_BASEPTR, v1.pvVcpu().baseptr());
    for (long table : new long[] {L4, L3, L2, L1}) {
      assertEquals(0, host.frames().typeCount(table), "type count of 0x" + Long.toHexString(table));
    }
    assertEquals(List.of(), host.pvMmu().countViolations());
    assertEquals(0, v1.read(0, 8, Access.USER));
    assertEquals(pf(4), v1.lastFault());
    assertThrows(IllegalStateException.class, () -> host.newBaseptr(v0, L4));
  }

  @Test
  void aCompatGuestShouldRunBehindItsOwnL4AndHaveItsL1StoresEmulated() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(2, PagingMode.PV32, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    // PAE: the L3's four PDPTEs carry P only; slot 3 names the L2 Xen shares its mappings with.
    host.writeGuestEntry(d, L4, 0, Pte.fromMfn(L3, PAGE_PRESENT));
    host.writeGuestEntry(d, L4, 3, Pte.fromMfn(L2, PAGE_PRESENT));
    host.writeGuestEntry(d, L3, 0, Pte.fromMfn(L1, URW));
    host.writeGuestEntry(d, L1, 0, Pte.fromMfn(DATA, URW));
    host.writeGuestEntry(d, L1, 1, Pte.fromMfn(L1, PAGE_PRESENT | PAGE_USER));
    host.machine().write(DATA << 12, 4, 0xfeed);
    host.machine().write(DATA2 << 12, 4, 0xbeef);
    GuestVcpu v = host.createVcpu(d);
    long compatL4 = v.pvVcpu().baseptr();
    assertEquals(compatL4 << 12, v.cpu().cr3(), "Xen's L4 from the start");
    assertEquals(0, host.newBaseptr(v, L4)); // the guest's L3 (frame 0x100 here)
    assertEquals(compatL4 << 12, v.cpu().cr3());
    assertEquals(L4 << 12, v.guestRegisters().cr3(), "the guest sees its L3 as CR3");
    assertEquals(0xfeed, v.read(0, 4, Access.USER));
    // Linear 0x1010 is slot 2 of the L1 through its read-only self-mapping: emulated and validated.
    assertEquals(0, v.write(0x1010, 8, Pte.fromMfn(DATA2, URW), Access.USER));
    assertEquals(0xbeef, v.read(0x2000, 4, Access.USER));
    // The second GiB has no L2: not present.
    assertEquals(0, v.read(0x4000_0000L, 4, Access.USER));
    assertEquals(pf(4), v.lastFault());
    assertTrue(HostInvariants.check(host).isEmpty(), () -> HostInvariants.check(host).toString());
  }

  @Test
  void aVcpuOfAnotherModeShouldBeRefusedByThePvCalls() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain hvm = host.createDomain(2, PagingMode.HVM_EPT, false);
    GuestVcpu v = host.createVcpu(hvm);
    assertEquals(null, v.pvVcpu());
    assertThrows(IllegalArgumentException.class, () -> host.newBaseptr(v, 0));
    assertNotEquals(0, v.cpu().vpid());
  }

  /** The policies as a parameter. */
  enum PolicyPreset {
    SEED(Policy.SEED_2010),
    HARDENED(Policy.HARDENED);

    final Policy policy;

    PolicyPreset(Policy policy) {
      this.policy = policy;
    }
  }
}
