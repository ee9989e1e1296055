package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.access.AccessOutcome;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The embedder's device model (Xen's ioreq server) behind msixtbl and {@code p2m_mmio_dm}: what
 * msixtbl passes on (vectors T1, T2, T4, T6 of msix-emulation.md section 11.1) and accesses to
 * unpopulated gfns it claims reach it instead of the null handler ({@code hvmemul_do_io} at
 * RELEASE-4.22.0: internal handler, else {@code hvm_select_ioreq_server}, else {@code
 * null_handler}). The table is HostMsixtblTest's: 8 entries at guest 0xf0000000, entries 0, 1 and
 * 5 bound.
 */
class HostDeviceModelTest {
  private static final long UNPOPULATED = 0xe000_0000L;

  /** A device model that claims the table's page and one unpopulated page, and logs. */
  private static final class Qemu implements DeviceModel {
    final List<String> log = new ArrayList<>();

    @Override
    public boolean claims(GuestDomain d, long gpa, int size) {
      long page = gpa >>> 12;
      return page == HostMsixtblTest.GTABLE >>> 12 || page == UNPOPULATED >>> 12;
    }

    @Override
    public long read(GuestDomain d, long gpa, int size) {
      log.add("r 0x" + Long.toHexString(gpa) + " " + size);
      return 0x1_2345_6789_abcdL; // more bits than asked for: the vCPU gets the low ones
    }

    @Override
    public void write(GuestDomain d, long gpa, int size, long value) {
      log.add("w 0x" + Long.toHexString(gpa) + " " + size + " 0x" + Long.toHexString(value));
    }
  }

  private static GuestVcpu guest(Host host, HostMsixtblTest.Page page, PagingMode mode) {
    GuestVcpu v = HostMsixtblTest.guest(host, page, mode);
    // Linear 0x401000 maps the unpopulated guest page 0xe0000000.
    host.writeGuestPhysical(v.domain(), 0x10_3000L + 8, 8, UNPOPULATED | 0x63);
    return v;
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void whatMsixtblPassesOnShouldReachTheDeviceModel(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    Qemu qemu = new Qemu();
    host.setDeviceModel(qemu);
    HostMsixtblTest.Page page = new HostMsixtblTest.Page();
    page.write(16 + 12, 4, 1); // entry 1 masked, as at reset
    page.writes = 0;
    GuestVcpu v = guest(host, page, mode);
    long la = HostMsixtblTest.LA;
    // T1: entry 0's address never written: no shadow, the device model answers.
    assertEquals(0x6789_abcdL, v.read(la, 4, Access.READ));
    assertEquals(AccessReason.MSIXTBL_READ_NO_SHADOW, v.lastAccessReason());
    assertEquals(AccessOutcome.FORWARDED_TO_DM.code(), v.lastOutcome());
    // T2: the write is shadowed and passed on; the read back comes from the shadow.
    assertEquals(0, v.write(la, 4, 0xfee0_0000L, Access.READ));
    assertEquals(AccessReason.MSIXTBL_WRITE_ADDRESS_DATA, v.lastAccessReason());
    assertEquals(0xfee0_0000L, v.read(la, 4, Access.READ));
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, v.lastAccessReason());
    // T4 on entry 1: data written, then the unmask is deferred to the device model.
    assertEquals(0, v.write(la + 16 + 8, 4, 0x41, Access.READ));
    assertEquals(0, v.write(la + 16 + 12, 4, 0, Access.READ));
    assertEquals(AccessReason.MSIXTBL_UNMASK_DEFERRED, v.lastAccessReason());
    // T6: a 2-byte Vector Control write: not msixtbl's.
    assertEquals(0, v.write(la + 16 + 12, 2, 1, Access.READ));
    assertEquals(AccessReason.MSIXTBL_WRITE_SIZE, v.lastAccessReason());
    assertEquals(List.of("r 0xf0000000 4", "w 0xf0000000 4 0xfee00000", "w 0xf0000018 4 0x41",
        "w 0xf000001c 4 0x0", "w 0xf000001c 2 0x1"), qemu.log);
    // Only msix_write_completion's replay of entry 1's unmask reached the table: bit 0 cleared
    // in the device's Vector Control.
    assertEquals(1, page.writes, "the replayed unmask, nothing else");
    assertEquals(0, page.read(16 + 12, 4));
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void aMaskWriteMsixtblHandlesShouldReachTheDeviceModelSince419(PagingMode mode) {
    // Entry 0 is bound: a 4-byte Vector Control write of 1 (mask) is msixtbl's own
    // (guest_mask_msi_irq, X86EMUL_OKAY). Since 64b21662b1 (4.19) _msixtbl_write returns
    // X86EMUL_UNHANDLEABLE after handling it, so the device model sees it as well; before, not.
    long control = HostMsixtblTest.LA + 12;
    for (boolean allWrites : new boolean[] {true, false}) {
      Policy policy = Policy.HARDENED.withRoMmio(
          Policy.HARDENED.roMmio().withMsixtblDmSeesAllWrites(allWrites));
      Host host = new Host(0x1000, policy);
      Qemu qemu = new Qemu();
      host.setDeviceModel(qemu);
      GuestVcpu v = guest(host, new HostMsixtblTest.Page(), mode);
      assertEquals(0, v.write(control, 4, 1, Access.READ));
      assertEquals(AccessReason.MSIXTBL_GUEST_MASK, v.lastAccessReason());
      // An unaligned 2-byte write at +13: msixtbl ignores it (X86EMUL_OKAY), nobody sees it.
      assertEquals(0, v.write(control + 1, 2, 0, Access.READ));
      assertEquals(allWrites ? List.of("w 0xf000000c 4 0x1") : List.of(), qemu.log,
          "msixtblDmSeesAllWrites " + allWrites);
    }
  }

  @Test
  void anUnpopulatedGfnItClaimsShouldBeMmioDm() {
    Host host = new Host(0x1000, Policy.HARDENED);
    Qemu qemu = new Qemu();
    host.setDeviceModel(qemu);
    GuestVcpu v = guest(host, new HostMsixtblTest.Page(), PagingMode.HVM_EPT);
    assertEquals(0xabcdL, v.read(0x40_1002L, 2, Access.READ));
    assertEquals(AccessReason.IOREQ_TO_DM, v.lastAccessReason());
    assertEquals(0, v.write(0x40_1008L, 8, -2L, Access.READ));
    assertEquals(AccessReason.IOREQ_TO_DM, v.lastAccessReason());
    assertEquals(List.of("r 0xe0000002 2", "w 0xe0000008 8 0xfffffffffffffffe"), qemu.log);
  }

  @Test
  void withoutADeviceModelTheNullHandlerShouldAnswerEvenAnUnpopulatedGfn() {
    Host host = new Host(0x1000, Policy.HARDENED);
    assertSame(DeviceModel.NONE, host.deviceModel());
    assertThrows(NullPointerException.class, () -> host.setDeviceModel(null));
    GuestVcpu v = guest(host, new HostMsixtblTest.Page(), PagingMode.HVM_EPT);
    assertEquals(0xFFFF_FFFFL, v.read(HostMsixtblTest.LA, 4, Access.READ));
    assertEquals(AccessReason.NULL_HANDLER_READ, v.lastAccessReason());
    // ept_get_entry reports the unpopulated gfn 0xe0000 as p2m_mmio_dm: handle_mmio, and with
    // no ioreq server claiming it the null handler reads all ones and discards the store.
    assertEquals(0xFFFFL, v.read(0x40_1000L, 2, Access.READ));
    assertEquals(AccessReason.NULL_HANDLER_READ, v.lastAccessReason());
    assertEquals(0, v.lastFault());
    assertTrue(Fault.isFault(v.cpu().lastFault()), "the processor exited");
    assertEquals(0, v.write(0x40_1000L, 4, 7, Access.READ));
    assertEquals(AccessReason.NULL_HANDLER_WRITE, v.lastAccessReason());
    v.fetch(0x40_1000L, 4, false);
    assertNotEquals(0, v.lastFault(), "a fetch is not emulated: the exit comes back");
    assertNull(v.lastAccessReason());
  }

  @Test
  void theSeedsMsixtblShouldPassOnEveryEntryPastTheShadowsToo() {
    Host host = new Host(0x1000, Policy.HARDENED.withRoMmio(RoMmioSwitches.SEED_2010));
    Qemu qemu = new Qemu();
    host.setDeviceModel(qemu);
    GuestVcpu v = guest(host, new HostMsixtblTest.Page(), PagingMode.HVM_EPT);
    // T1 under the seed: the never-written shadow answers (zeros), the device model is not asked.
    assertEquals(0, v.read(HostMsixtblTest.LA, 4, Access.READ));
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, v.lastAccessReason());
    // T3: entry 5's address has no shadow: the device model.
    assertEquals(0x6789_abcdL, v.read(HostMsixtblTest.LA + 5 * 16, 4, Access.READ));
    assertEquals(List.of("r 0xf0000050 4"), qemu.log);
  }

  @Test
  void aShadowedGuestsForwardedAccessesShouldReachItToo() {
    Host host = new Host(0x1000, Policy.HARDENED);
    Qemu qemu = new Qemu();
    host.setDeviceModel(qemu);
    // As HostMsixtblTest's shadowed guest: user-accessible tables, the state through Xen.
    GuestDomain d = host.createDomain(1, PagingMode.HVM_SHADOW, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    long mfn = HostMsixtblTest.TABLE_MFN;
    host.machine().remove(mfn, mfn);
    host.machine().addMmio(mfn, mfn, new HostMsixtblTest.Page());
    host.registerMsixtbl(d, HostMsixtblTest.GTABLE, 8, mfn << 12, 0b10_0011, false);
    long pml4 = 0x10_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x10_1000L | 0x27);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | 0x27);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, 0x10_3000L | 0x27);
    host.writeGuestPhysical(d, 0x10_3000L, 8, HostMsixtblTest.GTABLE | 0x67);
    host.writeGuestPhysical(d, 0x10_3000L + 8, 8, UNPOPULATED | 0x67);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.loadGuestState(0x8005_0033L, pml4, 0x20, 0xD00));
    assertEquals(0x6789_abcdL, v.read(HostMsixtblTest.LA + 5 * 16, 4, Access.USER));
    assertEquals(AccessReason.MSIXTBL_READ_NO_SHADOW, v.lastAccessReason());
    assertEquals(0, v.write(0x40_1000L, 4, 7, Access.USER));
    assertEquals(AccessReason.IOREQ_TO_DM, v.lastAccessReason());
    assertEquals(List.of("r 0xf0000050 4", "w 0xe0000000 4 0x7"), qemu.log);
  }
}
