package org.hvmmu.host;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.host.access.AccessOutcome;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.NestedPaging;
import org.hvmmu.mmu.memory.MmioHandler;
import org.hvmmu.testkit.host.HostVcpuSetup;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A guest's store to a protected page through a vCPU gets the outcome Xen decides (docs/access.md):
 * a PV domU's store to its read-only mapping of an MSI-X table frame is its #PF (error code P | W |
 * U: a 64-bit PV kernel runs in ring 3); the hardware domain's aligned kernel store is dropped
 * ({@code mmio_ro_emulated_write}), its misaligned or read-modify-write store and its user-mode
 * store are #PF, and the seed's Xen emulates none of them; an HVM guest's store to read-only
 * {@code mmio_direct} is discarded by Xen 4.21+ and crashes the seed's guest. Expected values from
 * the reference's vectors P1-P6 and section 2.4, and by hand for the error codes (SDM vol. 3A
 * 4.7).
 */
class HostAccessTest {
  private static final long L4 = 0x100;
  private static final long L3 = 0x101;
  private static final long L2 = 0x102;
  private static final long L1 = 0x103;
  private static final long TABLE = 0xfe010;
  private static final long VA = 0x5000;
  private static final int URW = PAGE_PRESENT | PAGE_RW | PAGE_USER;
  private static final long PF_PWU = Fault.of(FaultKind.PAGE_FAULT, 7);

  /** A device register block: reads return what it holds, writes are counted and kept. */
  private static final class Registers implements MmioHandler {
    long value;
    int writes;

    Registers(long value) {
      this.value = value;
    }

    @Override
    public long read(long pa, int size) {
      return size == 8 ? value : value & ((1L << (8 * size)) - 1);
    }

    @Override
    public void write(long pa, int size, long v) {
      writes++;
      value = v;
    }
  }

  /** Puts a register block behind machine frame {@code mfn}. */
  private static Registers device(Host host, long mfn, long value) {
    Registers r = new Registers(value);
    host.machine().remove(mfn, mfn);
    host.machine().addMmio(mfn, mfn, r);
    return r;
  }

  /** A PV domain whose linear 0x5000 maps the MSI-X table frame, protected: read-only. */
  private static GuestVcpu pv(Host host, boolean hardwareDomain) {
    GuestDomain d = host.createDomain(hardwareDomain ? 0 : 1, PagingMode.PV, hardwareDomain);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, 0xfe000, 0xfe0ff));
    host.writeGuestEntry(d, L4, 0, Pte.fromMfn(L3, URW));
    host.writeGuestEntry(d, L3, 0, Pte.fromMfn(L2, URW));
    host.writeGuestEntry(d, L2, 0, Pte.fromMfn(L1, URW));
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, host.newBaseptr(v, L4));
    assertEquals(0, host.protect("msix table", TABLE, TABLE));
    assertEquals(0, host.updateVaMapping(v, VA, Pte.fromMfn(TABLE, URW),
        PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL, 0));
    assertFalse(Pte.isPresentWritable(host.pvMmu().readEntry(L1, 5)), "installed read-only");
    return v;
  }

  private static void assertUnchanged(Registers table) {
    assertEquals(0, table.writes, "no store reached the table");
    assertEquals(0x1111_2222_3333_4444L, table.value);
  }

  @Test
  void aPvDomUsStoreToTheTableShouldBeItsPageFault() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pv(host, false);
    Registers table = device(host, TABLE, 0x1111_2222_3333_4444L);
    assertEquals(PF_PWU, v.write(VA + 8, 4, 0xdead, Access.USER));
    assertEquals(PF_PWU, v.lastFault());
    assertEquals(VA + 8, v.cpu().cr2());
    assertEquals(AccessReason.PV_NOT_HARDWARE_DOMAIN, v.lastAccessReason());
    assertEquals(AccessOutcome.PF_INJECTED.code(), v.lastOutcome());
    assertUnchanged(table);
    assertEquals(0x3333_4444L, v.read(VA, 4, Access.USER), "reads reach the table");
    assertNull(v.lastAccessReason(), "an ordinary load decides nothing");
    assertEquals(0, v.lastOutcome());
  }

  @Test
  void aPvDomUsStoreToARealMsixTableShouldBeItsPageFault() {
    // HostVcpuSetup's pv1.0: linear 0x4000 maps the NIC's MSI-X table frame 0xe0840 (slot 4 of
    // L1 table P); msix prepare protects it and the hardened revocation makes the entry read-only.
    // A supervisor store under CR0.WP on a present read-only entry: error code P|W = 3.
    HostVcpuSetup setup = HostVcpuSetup.of(Policy.HARDENED, HostPropertyTest.nic());
    Host host = setup.build();
    GuestVcpu v = setup.vcpu(host, 1, 0);
    assertEquals(0, host.prepareMsix(host.devices().get(0)).rc());
    assertEquals(Fault.of(FaultKind.PAGE_FAULT, 3), v.write(0x4000, 4, 1, Access.READ));
    assertEquals(0x4000, v.cpu().cr2());
    assertEquals(AccessReason.PV_NOT_HARDWARE_DOMAIN, v.lastAccessReason());
    assertEquals(AccessOutcome.PF_INJECTED.code(), v.lastOutcome());
  }

  @Test
  void theHardwareDomainsAlignedKernelStoreShouldBeDropped() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pv(host, true);
    Registers table = device(host, TABLE, 0x1111_2222_3333_4444L);
    // P1: mov dword [cr2], eax -> mmio_ro_emulated_write, OKAY, the write ignored.
    assertEquals(0, v.write(VA + 8, 4, 0xdead, Access.USER));
    assertEquals(0, v.lastFault());
    assertEquals(AccessReason.MMIO_RO_DROPPED, v.lastAccessReason());
    assertEquals(AccessOutcome.DROPPED_SILENT.code(), v.lastOutcome());
    assertEquals(0, v.write(VA, 8, 0, Access.USER, InstructionClass.STOS));
    assertEquals(AccessReason.MMIO_RO_DROPPED, v.lastAccessReason());
    assertUnchanged(table);
    // P2: misaligned -> "bad access", the #PF goes back.
    assertEquals(PF_PWU, v.write(VA + 2, 4, 0xdead, Access.USER));
    assertEquals(AccessReason.MMIO_RO_BAD_ACCESS, v.lastAccessReason());
    // P4: or dword [cr2], 1 -> the read is unhandleable.
    assertEquals(PF_PWU, v.write(VA + 8, 4, 1, Access.USER, InstructionClass.READ_MODIFY_WRITE));
    assertEquals(AccessReason.PV_READ_UNHANDLEABLE, v.lastAccessReason());
    // P5: the same store from a guest process.
    v.setGuestKernelMode(false);
    assertFalse(v.guestKernelMode());
    assertEquals(PF_PWU, v.write(VA + 8, 4, 0xdead, Access.USER));
    assertEquals(AccessReason.PV_USER_MODE, v.lastAccessReason());
    assertUnchanged(table);
  }

  @Test
  void theSeedsXenShouldEmulateNoneOfTheHardwareDomainsStores() {
    Host host = new Host(0x1000, Policy.HARDENED.withRoMmio(RoMmioSwitches.SEED_2010));
    GuestVcpu v = pv(host, true);
    Registers table = device(host, TABLE, 0x1111_2222_3333_4444L);
    assertEquals(PF_PWU, v.write(VA + 8, 4, 0xdead, Access.USER));
    assertEquals(AccessReason.PV_NO_MMIO_RO_EMULATION, v.lastAccessReason());
    assertUnchanged(table);
  }

  @Test
  void aUserModeStoreIntoTheGuestsOwnPageTableShouldNotBeEmulated() {
    // fixup_page_fault: ptwr too only in guest kernel mode.
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pv(host, false);
    assertEquals(0, host.updateVaMapping(v, 0x1000, Pte.fromMfn(L1, PAGE_PRESENT | PAGE_USER),
        PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL, 0));
    v.setGuestKernelMode(false);
    assertEquals(PF_PWU, v.write(0x1000 + 8 * 6, 8, 0, Access.USER));
    assertNull(v.lastAccessReason(), "not a protected page");
    v.setGuestKernelMode(true);
    assertEquals(0, v.write(0x1000 + 8 * 6, 8, 0, Access.USER), "ptwr emulates it");
  }

  @Test
  void wideStoresAndLoadsShouldBeRefusedAsStoreClasses() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pv(host, true);
    assertThrows(IllegalArgumentException.class,
        () -> v.write(VA, 8, 0, Access.USER, InstructionClass.WIDE_STORE));
    assertThrows(IllegalArgumentException.class,
        () -> v.write(VA, 8, 0, Access.USER, InstructionClass.LOAD));
  }

  // ---- HVM on EPT and NPT -----------------------------------------------------------------------

  private static final long MMIO = 0xfe000;
  private static final long LA_MMIO = 0x40_0000L;

  /** An HVM guest whose linear 0x400000 maps MMIO frame 0xfe000 (identity), protected. */
  private static GuestVcpu hvm(Host host, PagingMode mode) {
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.protect("pba", MMIO, MMIO)); // first: 4.22 leaves existing mappings
    assertEquals(0, host.grantIomem(d, MMIO, MMIO));
    long pml4 = 0x10_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x10_1000L | 0x23);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | 0x23);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, 0x10_3000L | 0x23);
    host.writeGuestPhysical(d, 0x10_3000L, 8, (MMIO << 12) | 0x63);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(mode == PagingMode.HVM_EPT ? NestedPaging.EPT : NestedPaging.NPT,
        v.cpu().nestedPaging());
    assertEquals(0, v.cpu().loadState(0x8005_0033L, pml4, 0x20, 0xD00));
    return v;
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void anHvmStoreToReadOnlyMmioShouldBeDiscardedToday(PagingMode mode) {
    for (Policy p : new Policy[] {Policy.HARDENED, Policy.XEN_4_22}) {
      Host host = new Host(0x1000, p);
      GuestVcpu v = hvm(host, mode);
      Registers pba = device(host, MMIO, 0x5a5a_5a5aL);
      assertEquals(0, v.write(LA_MMIO, 4, 1, Access.READ));
      assertEquals(AccessReason.NULL_HANDLER_WRITE, v.lastAccessReason());
      assertEquals(AccessOutcome.DROPPED_SILENT.code(), v.lastOutcome());
      assertTrue(Fault.isFault(v.cpu().lastFault()), "the processor exited");
      assertEquals(0, pba.writes);
      assertFalse(v.domain().crashed());
      // A read-modify-write: its read half reads ~0 from the null handler, its write is dropped.
      assertEquals(0, v.write(LA_MMIO, 4, 1, Access.READ, InstructionClass.LOCKED));
      assertEquals(AccessReason.NULL_HANDLER_RMW, v.lastAccessReason());
      // An instruction the emulator cannot run: #GP(0) instead of the exit.
      assertEquals(Fault.of(FaultKind.GENERAL_PROTECTION, 0),
          v.write(LA_MMIO, 4, 1, Access.READ, InstructionClass.UNEMULATED));
      assertEquals(AccessReason.HANDLE_MMIO_FAILED, v.lastAccessReason());
      // Loads do not exit: the leaf is readable.
      assertEquals(0x5a5a_5a5aL, v.read(LA_MMIO, 4, Access.READ));
      assertNull(v.lastAccessReason());
    }
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void anHvmStoreToReadOnlyMmioShouldCrashTheSeedsGuest(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED.withRoMmio(RoMmioSwitches.SEED_2010));
    GuestVcpu v = hvm(host, mode);
    Registers pba = device(host, MMIO, 0x5a5a_5a5aL);
    long r = v.write(LA_MMIO, 4, 1, Access.READ);
    assertEquals(mode == PagingMode.HVM_EPT ? FaultKind.EPT_VIOLATION
        : FaultKind.NESTED_PAGE_FAULT, Fault.kind(r));
    assertEquals(mode == PagingMode.HVM_EPT ? AccessReason.EPT_VIOLATION_CRASH
        : AccessReason.NPF_CRASH, v.lastAccessReason());
    assertEquals(AccessOutcome.DOMAIN_CRASHED.code(), v.lastOutcome());
    assertTrue(v.domain().crashed());
    assertEquals(0, pba.writes);
  }

  @Test
  void anHvmShadowGuestsStoreToReadOnlyMmioShouldBeTheReFaultLoop() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_SHADOW, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, MMIO, MMIO));
    long pml4 = 0x10_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x10_1000L | 0x27);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | 0x27);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, 0x10_3000L | 0x27);
    host.writeGuestPhysical(d, 0x10_3000L, 8, (MMIO << 12) | 0x67);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.loadGuestState(0x8005_0033L, pml4, 0x20, 0xD00));
    assertEquals(0, host.protect("pba", MMIO, MMIO));
    long r = v.write(LA_MMIO, 4, 1, Access.USER);
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(r), "the model ends Xen's loop at once");
    assertEquals(AccessReason.SHADOW_REFAULT, v.lastAccessReason());
    assertEquals(AccessOutcome.REFAULT_LOOP.code(), v.lastOutcome());
  }
}
