package org.hvmmu.host;

import static org.hvmmu.host.ShadowMut2EmulateTest.guest;
import static org.hvmmu.host.ShadowMut2EmulateTest.pf;
import static org.hvmmu.host.ShadowPagingTest.LA;
import static org.hvmmu.host.ShadowPagingTest.U;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.ShadowPagingMutantsTest.PolicyName;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.mmu.Access;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A shadowed HVM guest's accesses to frames that are not RAM, pinned from Xen 4.22: {@code
 * sh_page_fault}'s {@code p2m_mmio_dm} branch ({@code handle_mmio_with_translation}; an
 * unpopulated gfn is reported as {@code p2m_mmio_dm} by {@code get_entry}), where msixtbl, the
 * ioreq server that claims the address and else the {@code null_handler} (all ones on a read, SDM
 * vol. 1 1.3.1 little-endian: 8 bytes of 0xff for an 8-byte load; a store discarded) answer; a
 * translation or a fetch there has nothing to emulate: the processor's #PF for a {@code
 * p2m_mmio_dm} page, the guest's "BAD gfn" #PF (P set, as the guest's tables have it) for a gfn
 * with nothing behind it. msixtbl's writes ({@code msixtbl_write}, {@code
 * msix_write_completion}) behave as under EPT (HostDeviceModelTest's T4 and the 4.19 mask write).
 * #PF error codes from SDM vol. 3A 4.7 (P bit 0, U/S bit 2).
 */
class ShadowMut2DeviceTest {
  /** A device model that claims the msixtbl table's page (and another if asked), and logs. */
  static final class Qemu implements DeviceModel {
    final List<String> log = new ArrayList<>();
    long alsoClaims = -1;
    Host host;
    int bindOnWrite = -1;

    @Override
    public boolean claims(GuestDomain d, long gpa, int size) {
      return gpa >>> 12 == HostMsixtblTest.GTABLE >>> 12 || gpa >>> 12 == alsoClaims;
    }

    @Override
    public long read(GuestDomain d, long gpa, int size) {
      log.add("r 0x" + Long.toHexString(gpa) + " " + size);
      return 0x6789_abcdL;
    }

    @Override
    public void write(GuestDomain d, long gpa, int size, long value) {
      log.add("w 0x" + Long.toHexString(gpa) + " " + size + " 0x" + Long.toHexString(value));
      if (bindOnWrite >= 0) {
        // QEMU's xen_pt binds the entry's pirq while handling the write.
        assertEquals(0, host.bindMsixtbl(d, HostMsixtblTest.GTABLE, bindOnWrite, true));
      }
    }
  }

  /** ShadowMut2EmulateTest's guest: linear 0x40a000 maps gfn 0x800, which has no p2m entry. */
  @ParameterizedTest(name = "{0}")
  @EnumSource(names = {"SEED_2010", "HARDENED", "XEN_4_22"})
  void anUnpopulatedGfnShouldBeTheNullHandlersOrTheGuestsFault(PolicyName p) {
    Host host = new Host(0x1000, p.policy);
    GuestVcpu v = guest(host, PagingMode.HVM_SHADOW);
    ShadowDomain sd = v.domain().shadow();
    long la = LA + 0xA000;
    assertEquals(-1L, v.read(la, 8, U));
    assertEquals(AccessReason.NULL_HANDLER_READ, v.lastAccessReason());
    assertEquals(0, v.lastFault());
    assertEquals(0xFFFFL, v.read(la + 2, 2, U));
    assertEquals(0, v.write(la, 4, 7, U));
    assertEquals(AccessReason.NULL_HANDLER_WRITE, v.lastAccessReason());
    // A translation: the guest's BAD gfn #PF, U | P, counted once.
    long guestFaults = sd.guestFaults;
    assertEquals(pf(0x5), v.translate(la, U));
    assertEquals(guestFaults + 1, sd.guestFaults);
    assertNull(v.lastAccessReason());
    assertEquals(pf(0x1), v.translate(la, 0));
    // A fetch is not emulated either: U | I/D | P (the processor runs with EFER.NXE).
    assertEquals(0, v.fetch(la, 4, true));
    assertEquals(pf(0x15), v.lastFault());
    assertNull(v.lastAccessReason());
  }

  /**
   * An unpopulated gfn a device model claims is {@code p2m_mmio_dm}: its loads go to the device
   * model; a fetch there is not emulated: the processor's #PF (not present: U | I/D).
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(names = {"SEED_2010", "HARDENED", "XEN_4_22"})
  void anUnpopulatedGfnTheDeviceModelClaimsShouldBeItsPage(PolicyName p) {
    Host host = new Host(0x1000, p.policy);
    Qemu qemu = new Qemu();
    qemu.alsoClaims = 0x800;
    host.setDeviceModel(qemu);
    GuestVcpu v = guest(host, PagingMode.HVM_SHADOW);
    long la = LA + 0xA000;
    assertEquals(0x6789_abcdL, v.read(la + 8, 4, U));
    assertEquals(AccessReason.IOREQ_TO_DM, v.lastAccessReason());
    assertEquals(0, v.fetch(la, 4, true));
    assertEquals(pf(0x14), v.lastFault());
    assertEquals(List.of("r 0x800008 4"), qemu.log);
  }

  /**
   * msixtbl under shadow paging: a 4-byte unmask of entry 1 (masked at reset) is deferred to the
   * device model and replayed into the device's Vector Control by {@code msix_write_completion};
   * since 4.19 a mask write msixtbl handles reaches the device model as well.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(booleans = {true, false})
  void msixtblWritesShouldBehaveAsUnderEpt(boolean allWrites) {
    Policy policy = Policy.HARDENED.withRoMmio(
        Policy.HARDENED.roMmio().withMsixtblDmSeesAllWrites(allWrites));
    Host host = new Host(0x1000, policy);
    Qemu qemu = new Qemu();
    host.setDeviceModel(qemu);
    HostMsixtblTest.Page page = new HostMsixtblTest.Page();
    page.write(16 + 12, 4, 1); // entry 1 masked, as at reset
    page.writes = 0;
    GuestVcpu v = tableGuest(host, page);
    long la = HostMsixtblTest.LA;
    // The table's page is msixtbl's: a translation has nothing to emulate.
    assertEquals(pf(0x4), v.translate(la, Access.USER));
    // Entry 0 is bound: a 4-byte mask write is msixtbl's (guest_mask_msi_irq).
    assertEquals(0, v.write(la + 12, 4, 1, Access.USER));
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK, v.lastAccessReason());
    // Entry 1: data, then the unmask, deferred.
    assertEquals(0, v.write(la + 16 + 8, 4, 0x41, Access.USER));
    assertEquals(0, v.write(la + 16 + 12, 4, 0, Access.USER));
    assertEquals(AccessReason.MSIXTBL_UNMASK_DEFERRED, v.lastAccessReason());
    List<String> expected = new ArrayList<>();
    if (allWrites) {
      expected.add("w 0xf000000c 4 0x1");
    }
    expected.add("w 0xf0000018 4 0x41");
    expected.add("w 0xf000001c 4 0x0");
    assertEquals(expected, qemu.log);
    assertEquals(0, page.read(16 + 12, 4), "the replayed unmask cleared bit 0");
  }

  /** An HVM shadow guest whose linear 0x400000 maps HostMsixtblTest's table (entries 0, 1, 5). */
  static GuestVcpu tableGuest(Host host, HostMsixtblTest.Page page) {
    GuestDomain d = host.createDomain(1, PagingMode.HVM_SHADOW, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    long mfn = HostMsixtblTest.TABLE_MFN;
    host.machine().remove(mfn, mfn);
    host.machine().addMmio(mfn, mfn, page);
    host.registerMsixtbl(d, HostMsixtblTest.GTABLE, 8, mfn << 12, 0b10_0011, false);
    long pml4 = 0x10_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x10_1000L | 0x27);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | 0x27);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, 0x10_3000L | 0x27);
    host.writeGuestPhysical(d, 0x10_3000L, 8, HostMsixtblTest.GTABLE | 0x67);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.loadGuestState(0x8005_0033L, pml4, 0x20, 0xD00));
    return v;
  }

  /**
   * 854c6aab46 (HostMsixWriteCompletionTest's movs case) under shadow paging: a forward {@code
   * movs} of 8 bytes ending at entry 3's end, not yet bound, is snooped; the device model binds
   * the entry while handling it, and completion replays the unmask its last dword (0) asks for:
   * the device's Vector Control becomes 0. A plain 8-byte store whose high dword unmasks is
   * snooped too, and {@code msixtbl_pt_register} turns it into the unmask to replay when the
   * entry is bound (3a6222bd57): the same end state.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = InstructionClass.class, names = {"MOVS", "PLAIN_STORE"})
  void aMovsIntoAnUnboundEntryShouldBeReplayedOnceBound(InstructionClass insn) {
    Host host = new Host(0x1000, Policy.HARDENED);
    Qemu qemu = new Qemu();
    qemu.host = host;
    qemu.bindOnWrite = 3;
    host.setDeviceModel(qemu);
    HostMsixtblTest.Page page = new HostMsixtblTest.Page();
    for (int e = 0; e < 8; e++) {
      page.write(e * 16 + 12, 4, 1);
    }
    page.writes = 0;
    GuestVcpu v = tableGuest(host, page);
    assertEquals(0, v.write(HostMsixtblTest.LA + 3 * 16 + 8, 8, 0x4043, Access.USER, insn));
    assertEquals(AccessReason.MSIXTBL_NOT_CLAIMED, v.lastAccessReason());
    assertEquals(List.of("w 0xf0000038 8 0x4043"), qemu.log);
    assertEquals(0, page.read(3 * 16 + 12, 4));
  }
}
