package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.mmu.Access;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The unmask msixtbl leaves to the device model, replayed when the vCPU's I/O completes ({@code
 * msix_write_completion}, {@code xen/arch/x86/hvm/vmsi.c} at RELEASE-4.22.0, called from {@code
 * vcpu_ioreq_handle_completion} in {@code xen/common/ioreq.c}), and the unmask {@code
 * msixtbl_range} snoops for an entry not yet bound (3a6222bd57, 854c6aab46). Vector T4 of
 * msix-emulation.md section 11.1; the expected device state is worked out from those functions by
 * hand. The table is HostMsixtblTest's: 8 entries at guest 0xf0000000, entries 0, 1 and 5 bound,
 * every entry's Vector Control masked (1) at the start.
 */
class HostMsixWriteCompletionTest {
  private static final long LA = HostMsixtblTest.LA;

  /**
   * A device model that logs writes and, like QEMU's xen_pt on a guest unmask of an entry it has
   * not bound yet, binds the entry's pirq ({@code xc_domain_update_msi_irq}) while handling the
   * write, if asked to.
   */
  private static final class Qemu implements DeviceModel {
    final List<String> log = new ArrayList<>();
    Host host;
    int bindOnWrite = -1;
    int bindResult = Integer.MIN_VALUE;

    @Override
    public boolean claims(GuestDomain d, long gpa, int size) {
      return gpa >>> 12 == HostMsixtblTest.GTABLE >>> 12;
    }

    @Override
    public long read(GuestDomain d, long gpa, int size) {
      return 0;
    }

    @Override
    public void write(GuestDomain d, long gpa, int size, long value) {
      log.add("w 0x" + Long.toHexString(gpa) + " " + size + " 0x" + Long.toHexString(value));
      if (bindOnWrite >= 0) {
        bindResult = host.bindMsixtbl(d, HostMsixtblTest.GTABLE, bindOnWrite, true);
      }
    }
  }

  private static HostMsixtblTest.Page maskedTable() {
    HostMsixtblTest.Page page = new HostMsixtblTest.Page();
    for (int e = 0; e < 8; e++) {
      page.write(e * 16 + 12, 4, 1);
    }
    page.writes = 0;
    return page;
  }

  private static Policy with(boolean replay, boolean snoop) {
    return Policy.HARDENED.withRoMmio(Policy.HARDENED.roMmio().withMsixtblUnmask(replay, snoop));
  }

  private static long vectorControl(HostMsixtblTest.Page page, int entry) {
    return page.read(entry * 16 + 12, 4);
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void t4TheDeferredUnmaskShouldBeReplayedOnCompletion(PagingMode mode) {
    for (boolean replay : new boolean[] {true, false}) {
      Host host = new Host(0x1000, with(replay, true));
      Qemu qemu = new Qemu();
      host.setDeviceModel(qemu);
      HostMsixtblTest.Page page = maskedTable();
      GuestVcpu v = HostMsixtblTest.guest(host, page, mode);
      // T4: entry 5's data, then an unmask. The data write flags the entry; the unmask finds the
      // flag, clears it, latches msix_unmask_address and goes to the device model.
      assertEquals(0, v.write(LA + 5 * 16 + 8, 4, 0x4041, Access.READ));
      assertEquals(0, v.write(LA + 5 * 16 + 12, 4, 0, Access.READ));
      assertEquals(AccessReason.MSIXTBL_UNMASK_DEFERRED, v.lastAccessReason());
      assertEquals(List.of("w 0xf0000058 4 0x4041", "w 0xf000005c 4 0x0"), qemu.log,
          "the replay is msixtbl_write's own, not sent to the device model");
      // On completion the replay is a 4-byte 0 through msixtbl_write: flag clear, entry bound,
      // so guest_mask_msi_irq(desc, 0) clears bit 0 in the device. Without 74fd0036de the
      // unmask is lost and the vector stays masked (the "network disconnection" it fixed).
      assertEquals(replay ? 0 : 1, vectorControl(page, 5), "replay " + replay);
      assertEquals(1, vectorControl(page, 1), "no other entry touched");
    }
  }

  @Test
  void aMaskingWriteShouldKeepTheChangeRecordedSince46() {
    // 70a3cbb8c9 (4.6): a mask write after an address change is applied at once and leaves
    // table_flags set, so the later unmask is still the device model's (and replayed).
    Host host = new Host(0x1000, Policy.HARDENED);
    Qemu qemu = new Qemu();
    host.setDeviceModel(qemu);
    HostMsixtblTest.Page page = maskedTable();
    page.write(12, 4, 0); // entry 0 unmasked
    GuestVcpu v = HostMsixtblTest.guest(host, page, PagingMode.HVM_EPT);
    assertEquals(0, v.write(LA, 4, 0xfee0_1000L, Access.READ));
    assertEquals(0, v.write(LA + 12, 4, 1, Access.READ));
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK, v.lastAccessReason());
    assertEquals(1, vectorControl(page, 0));
    assertEquals(0, v.write(LA + 12, 4, 0, Access.READ));
    assertEquals(AccessReason.MSIXTBL_UNMASK_DEFERRED, v.lastAccessReason());
    assertEquals(0, vectorControl(page, 0), "replayed");
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void theFirstUnmaskOfAnUnboundEntryShouldBeSnoopedAndReplayedAfterTheBind(PagingMode mode) {
    for (boolean snoop : new boolean[] {true, false}) {
      Host host = new Host(0x1000, with(true, snoop));
      Qemu qemu = new Qemu();
      qemu.host = host;
      qemu.bindOnWrite = 2;
      host.setDeviceModel(qemu);
      HostMsixtblTest.Page page = maskedTable();
      GuestVcpu v = HostMsixtblTest.guest(host, page, mode);
      // Entry 2 has no msi_desc: msixtbl_range refuses the unmask (snooping it), the device model
      // gets it and binds the entry while the vCPU waits; msixtbl_pt_register turns the snoop
      // into msix_unmask_address, and completion replays it through the now-bound entry.
      assertEquals(0, v.write(LA + 2 * 16 + 12, 4, 0, Access.READ));
      assertEquals(AccessReason.MSIXTBL_NOT_CLAIMED, v.lastAccessReason());
      assertEquals(List.of("w 0xf000002c 4 0x0"), qemu.log);
      assertEquals(0, qemu.bindResult);
      assertEquals(snoop ? 0 : 1, vectorControl(page, 2), "snoop " + snoop);
    }
  }

  @Test
  void aSnoopShouldEndWithItsIoWhenNoBindCame() {
    Host host = new Host(0x1000, Policy.HARDENED);
    Qemu qemu = new Qemu();
    qemu.host = host;
    host.setDeviceModel(qemu);
    HostMsixtblTest.Page page = maskedTable();
    GuestVcpu v = HostMsixtblTest.guest(host, page, PagingMode.HVM_EPT);
    assertEquals(0, v.write(LA + 2 * 16 + 12, 4, 0, Access.READ));
    // The bind comes later, when no vCPU waits: msix_write_completion already cleared the snoop.
    assertEquals(0, host.bindMsixtbl(v.domain(), HostMsixtblTest.GTABLE, 2, true));
    assertEquals(0, v.write(LA + 8, 4, 0x41, Access.READ)); // any later I/O completes too
    assertEquals(1, vectorControl(page, 2), "the first unmask is the guest's to repeat");
    assertEquals(0, v.write(LA + 2 * 16 + 12, 4, 0, Access.READ));
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK, v.lastAccessReason(), "bound now: msixtbl's");
    assertEquals(0, vectorControl(page, 2));
  }

  @Test
  void aMaskingOrMisplacedStoreShouldNotBeSnooped() {
    Host host = new Host(0x1000, Policy.HARDENED);
    Qemu qemu = new Qemu();
    qemu.host = host;
    qemu.bindOnWrite = 2;
    host.setDeviceModel(qemu);
    HostMsixtblTest.Page page = maskedTable();
    GuestVcpu v = HostMsixtblTest.guest(host, page, PagingMode.HVM_EPT);
    assertEquals(0, v.write(LA + 2 * 16 + 12, 4, 1, Access.READ)); // a mask: bit 0 set
    assertEquals(0, host.bindMsixtbl(v.domain(), HostMsixtblTest.GTABLE, 2, false));
    assertEquals(0, v.write(LA + 2 * 16 + 12, 2, 0, Access.READ)); // 2 bytes: not a dword
    assertEquals(0, host.bindMsixtbl(v.domain(), HostMsixtblTest.GTABLE, 2, false));
    assertEquals(0, v.write(LA + 2 * 16 + 8, 4, 0, Access.READ)); // the data dword
    assertEquals(1, vectorControl(page, 2));
    // An 8-byte store at +8 whose high half unmasks counts as a 4-byte store at +12.
    assertEquals(0, host.bindMsixtbl(v.domain(), HostMsixtblTest.GTABLE, 2, false));
    assertEquals(0, v.write(LA + 2 * 16 + 8, 8, 0x0000_0000_0000_4042L, Access.READ));
    assertEquals(0, vectorControl(page, 2));
  }

  @Test
  void aMovsShouldBeSnoopedAndCheckedAtCompletion() {
    // 854c6aab46: a forward movs ending at an entry's end is snooped with a pointer to its
    // source; msixtbl_pt_register does not convert it (msix_snoop_gpa is set), completion reads
    // the source's last dword and replays if it unmasks an entry that is bound by then.
    for (long last : new long[] {0, 1}) {
      Host host = new Host(0x1000, Policy.HARDENED);
      Qemu qemu = new Qemu();
      qemu.host = host;
      qemu.bindOnWrite = 3;
      host.setDeviceModel(qemu);
      HostMsixtblTest.Page page = maskedTable();
      GuestVcpu v = HostMsixtblTest.guest(host, page, PagingMode.HVM_EPT);
      long value = last << 32 | 0x4043;
      assertEquals(0, v.write(LA + 3 * 16 + 8, 8, value, Access.READ, InstructionClass.MOVS));
      assertEquals(AccessReason.MSIXTBL_NOT_CLAIMED, v.lastAccessReason());
      assertEquals(1, qemu.log.size());
      assertEquals(last == 0 ? 0 : 1, vectorControl(page, 3), "last dword " + last);
    }
  }

  @Test
  void aShadowedGuestShouldReplayToo() {
    Host host = new Host(0x1000, Policy.HARDENED);
    Qemu qemu = new Qemu();
    host.setDeviceModel(qemu);
    HostMsixtblTest.Page page = maskedTable();
    GuestVcpu v = ShadowMut2DeviceTest.tableGuest(host, page);
    assertEquals(0, v.write(LA + 16 + 8, 4, 0x41, Access.USER));
    assertEquals(0, v.write(LA + 16 + 12, 4, 0, Access.USER));
    assertEquals(AccessReason.MSIXTBL_UNMASK_DEFERRED, v.lastAccessReason());
    assertEquals(0, vectorControl(page, 1));
    // The mask that follows is msixtbl's own, and since 4.19 the device model sees it as well.
    assertEquals(0, v.write(LA + 16 + 12, 4, 1, Access.USER));
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK, v.lastAccessReason());
    assertEquals(1, vectorControl(page, 1));
    assertEquals(List.of("w 0xf0000018 4 0x41", "w 0xf000001c 4 0x0", "w 0xf000001c 4 0x1"),
        qemu.log);
  }

  @Test
  void bindShouldAnswerBadArgumentsWithErrors() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = HostMsixtblTest.guest(host, maskedTable(), PagingMode.HVM_EPT);
    GuestDomain d = v.domain();
    assertEquals(-Errno.ENOENT, host.bindMsixtbl(d, HostMsixtblTest.GTABLE + 16, 0, true));
    assertEquals(-Errno.EINVAL, host.bindMsixtbl(d, HostMsixtblTest.GTABLE, 8, true));
    assertEquals(-Errno.EINVAL, host.bindMsixtbl(d, HostMsixtblTest.GTABLE, -1, true));
    assertEquals(-Errno.EINVAL, host.bindMsixtbl(d, HostMsixtblTest.GTABLE, 64, true));
    // Unbinding entry 0 hands its accesses back to the null handler.
    assertEquals(0, host.bindMsixtbl(d, HostMsixtblTest.GTABLE, 0, false));
    assertEquals(0, v.write(LA + 12, 4, 0, Access.READ));
    assertEquals(AccessReason.NULL_HANDLER_WRITE, v.lastAccessReason());
  }

  @Test
  void theSeedsSwitchesShouldBeOffAndTheReleaseOn() {
    RoMmioSwitches seed = RoMmioSwitches.SEED_2010;
    RoMmioSwitches today = RoMmioSwitches.XEN_4_22;
    assertEquals(List.of(false, false, true, true), List.of(seed.msixtblUnmaskReplay(),
        seed.msixtblUnmaskSnoop(), today.msixtblUnmaskReplay(), today.msixtblUnmaskSnoop()));
  }
}
