package org.hvmmu.host;

import static org.hvmmu.x86.PteFlags.PAGE_NX_BIT;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.host.access.AccessReason;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * {@link PvPaging} at its edges. Expected values: Xen's CR3 encodings (RELEASE-4.22.0 {@code
 * xen/arch/x86/include/asm/mm.h}: {@code compat_cr3_to_pfn(cr3) = ((unsigned)cr3 >> 12) |
 * ((unsigned)cr3 << 20)}, {@code compat_pfn_to_cr3(pfn) = ((unsigned)pfn << 12) | ((unsigned)pfn
 * >> 20)}; {@code xen-x86_64.h}: a plain shift by 12), computed by hand; {@code do_mmuext_op}'s
 * {@code -ENOSYS} for an unknown command; {@code fixup_page_fault}, which hands every fault it does
 * not fix to the guest once (one processor #PF per access, counted by the vCPU's counters), and
 * emulates nothing outside guest kernel mode; a vCPU without a base runs on Xen's idle table, an
 * empty L4 from Xen's heap; frame 0 is a frame like any other (a base, an L1 table, the only free
 * frame left for a 32-bit vCPU's L4).
 *
 * <p>The guest: L4, L3, L2 and L1 tables, linear 0x0 maps a data frame, 0x1000 the L1 itself
 * read-only, 0x4000 a data frame read-only, 0x5000 frame {@code MMIO} read-only, 0x7000 the L1
 * read-only and not executable.
 */
class ProtMutPvPagingTest {
  private static final long DATA = 0x110;
  private static final long DATA2 = 0x111;
  private static final long MMIO = 0xfe010;
  private static final int URW = PAGE_PRESENT | PAGE_RW | PAGE_USER;
  private static final int UR = PAGE_PRESENT | PAGE_USER;

  private static long pf(long code) {
    return Fault.of(FaultKind.PAGE_FAULT, code);
  }

  /** A PV guest with RAM 0 to 0x1ff whose tables are at the frames given, running. */
  private static GuestVcpu guest(Host host, long l4, long l3, long l2, long l1) {
    GuestDomain d = host.createDomain(1, PagingMode.PV, false);
    assertEquals(0, host.giveRam(d, 0, 0x1ff));
    assertEquals(0, host.grantIomem(d, 0xfe000, 0xfe0ff));
    host.writeGuestEntry(d, l4, 0, Pte.fromMfn(l3, URW));
    host.writeGuestEntry(d, l3, 0, Pte.fromMfn(l2, URW));
    host.writeGuestEntry(d, l2, 0, Pte.fromMfn(l1, URW));
    host.writeGuestEntry(d, l1, 0, Pte.fromMfn(DATA, URW));
    host.writeGuestEntry(d, l1, 1, Pte.fromMfn(l1, UR));
    host.writeGuestEntry(d, l1, 4, Pte.fromMfn(DATA2, UR));
    host.writeGuestEntry(d, l1, 5, Pte.fromMfn(MMIO, UR));
    host.writeGuestEntry(d, l1, 7, Pte.fromMfn(l1, UR | PAGE_NX_BIT));
    host.machine().write(DATA << 12, 8, 0x1111_2222_3333_4444L);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, host.newBaseptr(v, l4));
    return v;
  }

  private static long pageFaults(GuestVcpu v) {
    return v.cpu().counters().pageFaults();
  }

  @Test
  void cr3ShouldBeEncodedAsXenDoesForEachGuestType() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain pv32 = host.createDomain(1, PagingMode.PV32, false);
    GuestDomain pv64 = host.createDomain(2, PagingMode.PV, false);
    // compat: 0x12345678 >> 12 = 0x12345; (0x12345678 << 20) mod 2^32 = 0x67800000.
    assertEquals(0x6781_2345L, PvPaging.cr3ToMfn(pv32, 0x1234_5678L));
    // (unsigned) drops bits 63:32: 0x1000 >> 12 = 1.
    assertEquals(1, PvPaging.cr3ToMfn(pv32, 0xabcd_0000_1000L));
    // (0x67812345 << 12) mod 2^32 = 0x12345000; 0x67812345 >> 20 = 0x678.
    assertEquals(0x1234_5678L, PvPaging.mfnToCr3(pv32, 0x6781_2345L));
    assertEquals(0x10_0000L, PvPaging.mfnToCr3(pv32, 0x100));
    assertEquals(0x100, PvPaging.cr3ToMfn(pv32, 0x10_0000L));
    // 64-bit: a shift by 12 either way.
    assertEquals(0x12345, PvPaging.cr3ToMfn(pv64, 0x1234_5678L));
    assertEquals(0xabcd_0000_1L, PvPaging.cr3ToMfn(pv64, 0xabcd_0000_1000L));
    assertEquals(0x6781_2345_000L, PvPaging.mfnToCr3(pv64, 0x6781_2345L));
  }

  @Test
  void mmuextOpsShouldBeRefusedForACrashedDomainAndUnknownCommandsBeEnosys() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = guest(host, 0x100, 0x101, 0x102, 0x103);
    assertEquals(-Errno.ENOSYS, host.mmuextOp(v, 0x7fff, 0, 0));
    assertEquals(0, host.mmuextOp(v, PvMmuAbi.MMUEXT_TLB_FLUSH_LOCAL, 0, 0));
    host.crashDomain(v.domain());
    assertThrows(IllegalStateException.class,
        () -> host.mmuextOp(v, PvMmuAbi.MMUEXT_TLB_FLUSH_LOCAL, 0, 0));
  }

  @Test
  void cr4AndEferShouldBeXensAndAVcpuWithoutABaseReadCr3Zero() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.PV, false);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.guestRegisters().cr3(), "no base: the guest reads CR3 as 0");
    // The processor runs on Xen's idle table, a page of Xen's heap outside the frame table.
    long idle = v.cpu().cr3();
    assertEquals(0, idle & 0xfff);
    assertTrue(Long.compareUnsigned(idle >>> 12, host.frames().frameCount()) >= 0,
        "CR3 0x" + Long.toHexString(idle));
    assertEquals(0, v.read(0, 4, Access.USER));
    assertEquals(pf(4), v.lastFault(), "an empty L4");
    long cr0 = v.cpu().cr0();
    long cr4 = v.cpu().cr4();
    long efer = v.cpu().efer();
    assertEquals(-Errno.EPERM, v.loadGuestState(cr0, 0, cr4 ^ (1L << 7), efer), "CR4.PGE");
    assertEquals(-Errno.EPERM, v.loadGuestState(cr0, 0, cr4, efer ^ (1L << 11)), "EFER.NXE");
    assertEquals(-Errno.EPERM, v.loadGuestState(cr0 ^ (1L << 16), 0, cr4, efer), "CR0.WP");
    assertEquals(cr4, v.cpu().cr4());
    assertEquals(efer, v.cpu().efer());
  }

  @Test
  void frameZeroShouldServeAsABase() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = guest(host, 0, 1, 2, 3);
    assertEquals(0, v.cpu().cr3(), "the processor runs on frame 0");
    assertEquals(0, v.guestRegisters().cr3());
    assertEquals(0x1111_2222_3333_4444L, v.read(0, 8, Access.USER));
  }

  @Test
  void frameZeroShouldServeAsAnL1Table() {
    Host host = new Host(0x1000, Policy.HARDENED);
    assertEquals(0, host.protect("ioapic", MMIO, MMIO));
    GuestVcpu v = guest(host, 0x100, 0x101, 0x102, 0);
    // Linear 0x1010 is slot 2 of L1 frame 0 through its read-only self-mapping: emulated.
    assertEquals(0, v.write(0x1010, 8, Pte.fromMfn(DATA, URW), Access.USER));
    assertEquals(0x1111_2222_3333_4444L, v.read(0x2000, 8, Access.USER));
    // Outside kernel mode a store to read-only MMIO is recorded as such and is the guest's #PF.
    v.setGuestKernelMode(false);
    assertEquals(pf(7), v.write(0x5000, 4, 1, Access.USER));
    assertEquals(AccessReason.PV_USER_MODE, v.lastAccessReason());
  }

  @Test
  void theOnlyFreeFrameZeroShouldBecomeA32BitVcpusL4() {
    Host host = new Host(0x200, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.PV32, false);
    assertEquals(0, host.giveRam(d, 1, 0x1ff));
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.pvVcpu().baseptr(), "setup_compat_l4 took frame 0");
    assertEquals(0, v.cpu().cr3());
  }

  @Test
  void faultsXenDoesNotFixShouldReachTheGuestAfterOneProcessorFault() {
    Host host = new Host(0x1000, Policy.HARDENED);
    assertEquals(0, host.protect("ioapic", MMIO, MMIO));
    GuestVcpu v = guest(host, 0x100, 0x101, 0x102, 0x103);
    // A load from an address with no L1 entry: not present, user (4).
    long before = pageFaults(v);
    assertEquals(0, v.read(0x9000, 4, Access.USER));
    assertEquals(pf(4), v.lastFault());
    assertEquals(before + 1, pageFaults(v));
    // A store to a read-only data frame: present, write, user (7); not an L1 table, not MMIO.
    before = pageFaults(v);
    assertEquals(pf(7), v.write(0x4000, 4, 1, Access.USER));
    assertEquals(before + 1, pageFaults(v));
    // A misaligned 8-byte store into the L1 table: ptwr takes naturally aligned stores only.
    before = pageFaults(v);
    assertEquals(pf(7), v.write(0x1004, 8, 0, Access.USER));
    assertEquals(before + 1, pageFaults(v));
    // A fetch from the non-executable mapping of the L1: present, user, fetch (0x15); no store
    // is emulated, the table is unchanged.
    long slot0 = host.pvMmu().readEntry(0x103, 0);
    before = pageFaults(v);
    assertEquals(0, v.fetch(0x7000, 4, true));
    assertEquals(pf(0x15), v.lastFault());
    assertEquals(before + 1, pageFaults(v));
    assertEquals(slot0, host.pvMmu().readEntry(0x103, 0));
    // A store to a non-canonical address: #GP(0), which is no page fault Xen fixes.
    long gp = v.cpu().counters().generalProtectionFaults();
    assertEquals(Fault.of(FaultKind.GENERAL_PROTECTION, 0),
        v.write(0x0000_8000_0000_0000L, 4, 1, Access.USER));
    assertEquals(gp + 1, v.cpu().counters().generalProtectionFaults());
    // A domU's translation for a write of its read-only MMIO: the fault, and no access decided.
    assertEquals(pf(7), v.translate(0x5000, Access.WRITE | Access.USER));
    assertNull(v.lastAccessReason());
    // Outside kernel mode: the guest's #PF at once.
    v.setGuestKernelMode(false);
    before = pageFaults(v);
    assertEquals(pf(7), v.write(0x5000, 4, 1, Access.USER));
    assertEquals(AccessReason.PV_USER_MODE, v.lastAccessReason());
    assertEquals(before + 1, pageFaults(v));
  }
}
