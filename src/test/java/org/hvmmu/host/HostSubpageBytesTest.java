package org.hvmmu.host;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * hvmmu's sub-page protection ({@code subpageOwnedBytes}, hardened): byte-granular registrations
 * with owners, every byte of a store checked, removal, any domain served, and a device's MSI-X
 * table and PBA protected byte for byte. Expected values by hand: which bytes each registration
 * covers, and so which stores touch one. Frame 0xfed00 is a page of device registers; the Intel
 * 82576 of the bundled dump has its 10-entry table at BAR 3 + 0 (0xe0840000, 160 bytes) and its
 * PBA at BAR 3 + 0x2000 (0xe0842000, 8 bytes), per lspci's "Vector table: BAR=3 offset=00000000 PBA:
 * BAR=3 offset=00002000".
 */
class HostSubpageBytesTest {
  private static final long FRAME = 0xfed00;
  private static final long BASE = FRAME << 12;
  private static final long VA = 0x5000;
  private static final int URW = PAGE_PRESENT | PAGE_RW | PAGE_USER;
  private static final long PF_PWU = Fault.of(FaultKind.PAGE_FAULT, 7);

  /** A page of device registers at {@code mfn} (HostMsixtblTest's, every write counted). */
  static HostMsixtblTest.Page device(Host host, long mfn) {
    HostMsixtblTest.Page p = new HostMsixtblTest.Page();
    host.machine().remove(mfn, mfn);
    host.machine().addMmio(mfn, mfn, p);
    return p;
  }

  /** A PV domain whose linear 0x5000 maps {@code mfn}. */
  static GuestVcpu pv(Host host, boolean hardwareDomain, long mfn) {
    GuestDomain d = host.createDomain(hardwareDomain ? 0 : 1, PagingMode.PV, hardwareDomain);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, mfn, mfn));
    host.writeGuestEntry(d, 0x100, 0, Pte.fromMfn(0x101, URW));
    host.writeGuestEntry(d, 0x101, 0, Pte.fromMfn(0x102, URW));
    host.writeGuestEntry(d, 0x102, 0, Pte.fromMfn(0x103, URW));
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, host.newBaseptr(v, 0x100));
    assertEquals(0, host.updateVaMapping(v, VA, Pte.fromMfn(mfn, URW),
        PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL, 0));
    return v;
  }

  /** An HVM guest whose linear 0x400000 maps {@code mfn} (identity, mmio_direct). */
  static GuestVcpu hvm(Host host, PagingMode mode, long mfn) {
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, mfn, mfn));
    long pml4 = 0x10_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x10_1000L | 0x23);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | 0x23);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, 0x10_3000L | 0x23);
    host.writeGuestPhysical(d, 0x10_3000L, 8, (mfn << 12) | 0x63);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.cpu().loadState(0x8005_0033L, pml4, 0x20, 0xD00));
    return v;
  }

  @Test
  void twoRegistrantsOfOnePageShouldEachKeepTheirBytes() {
    Host host = new Host(0x1000, Policy.HARDENED);
    HostMsixtblTest.Page page = device(host, FRAME);
    // "a" protects 0x40-0x4b (12 bytes, not a multiple of 8), "b" 0x100-0x1ff.
    assertEquals(0, host.protectBytes("a", BASE + 0x40, 12));
    assertEquals(0, host.protectBytes("b", BASE + 0x100, 0x100));
    assertTrue(host.mmioRoRanges().containsSingleton(FRAME));
    GuestVcpu v = pv(host, false, FRAME);
    // A domU's store that touches no protected byte is performed at its offset.
    assertEquals(0, v.write(VA + 0x4c, 4, 0x1234_5678L, Access.USER));
    assertEquals(AccessReason.SUBPAGE_WRITTEN, v.lastAccessReason());
    assertEquals(0x1234_5678L, page.read(BASE + 0x4c, 4));
    // 0x48-0x4f: bytes 0x48-0x4b are a's. Xen's slot check would look at slot 9 (0x48-0x4f) only;
    // here every byte counts: the domU's #PF, nothing written.
    int before = page.writes;
    assertEquals(PF_PWU, v.write(VA + 0x48, 8, -1L, Access.USER));
    assertEquals(AccessReason.PV_NOT_HARDWARE_DOMAIN, v.lastAccessReason());
    assertEquals(PF_PWU, v.write(VA + 0x1fc, 4, 1, Access.USER));
    assertEquals(before, page.writes);
    // a goes: its bytes are writable, b's stay.
    assertEquals(0, host.unprotectBytes("a", BASE + 0x40, 12));
    assertEquals(0, v.write(VA + 0x48, 8, 0x0102_0304_0506_0708L, Access.USER));
    assertEquals(0x0102_0304_0506_0708L, page.read(BASE + 0x48, 8));
    assertEquals(PF_PWU, v.write(VA + 0x100, 1, 1, Access.USER));
    assertTrue(host.mmioRoRanges().containsSingleton(FRAME), "b still holds the frame");
    // b goes: the frame leaves mmio_ro_ranges.
    assertEquals(-Errno.ENOENT, host.unprotectBytes("b", BASE + 0x100, 0x80), "not b's range");
    assertEquals(0, host.unprotectBytes("b", BASE + 0x100, 0x100));
    assertFalse(host.mmioRoRanges().containsSingleton(FRAME));
    assertEquals(List.of(), host.protectedBytes(FRAME));
  }

  @Test
  void theHardwareDomainsStoreToAProtectedByteShouldBeIgnored() {
    Host host = new Host(0x1000, Policy.HARDENED);
    HostMsixtblTest.Page page = device(host, FRAME);
    assertEquals(0, host.protectBytes("a", BASE + 0x41, 1));
    GuestVcpu v = pv(host, true, FRAME);
    assertEquals(0, v.write(VA + 0x40, 2, 0xffff, Access.USER));
    assertEquals(AccessReason.SUBPAGE_IGNORED, v.lastAccessReason());
    assertEquals(0, page.writes);
    assertEquals(0, v.write(VA + 0x40, 1, 0xff, Access.USER));
    assertEquals(AccessReason.SUBPAGE_WRITTEN, v.lastAccessReason());
    assertEquals(0xff, page.read(BASE + 0x40, 2));
  }

  @Test
  void aWholeFrameRegistrationShouldOverrideTheBytes() {
    Host host = new Host(0x1000, Policy.HARDENED);
    HostMsixtblTest.Page page = device(host, FRAME);
    assertEquals(0, host.protectBytes("a", BASE + 0x800, 8));
    assertEquals(0, host.protect("hpet", FRAME, FRAME));
    assertArrayEquals(new long[] {BASE, BASE + 0xfff}, host.protectedBytes(FRAME).get(0));
    GuestVcpu v = pv(host, false, FRAME);
    assertEquals(PF_PWU, v.write(VA, 4, 1, Access.USER), "wholly read-only");
    assertEquals(0, host.unprotect("hpet", FRAME, FRAME));
    assertEquals(1, host.protectedBytes(FRAME).size());
    assertArrayEquals(new long[] {BASE + 0x800, BASE + 0x807}, host.protectedBytes(FRAME).get(0));
    assertEquals(0, v.write(VA, 4, 1, Access.USER), "a sub-page frame again");
    assertEquals(1, page.writes);
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void anHvmStoreShouldBeCheckedByEveryByte(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    HostMsixtblTest.Page page = device(host, FRAME);
    assertEquals(0, host.protectBytes("a", BASE + 0x44, 4));
    GuestVcpu v = hvm(host, mode, FRAME);
    long la = 0x40_0000L;
    assertEquals(0, v.write(la + 0x40, 4, 0xabcd, Access.READ));
    assertEquals(AccessReason.SUBPAGE_WRITTEN, v.lastAccessReason());
    assertEquals(0, v.write(la + 0x40, 8, -1L, Access.READ), "discarded, the store completes");
    assertEquals(AccessReason.SUBPAGE_IGNORED, v.lastAccessReason());
    assertEquals(0xabcdL, page.read(BASE + 0x40, 8));
    assertEquals(1, page.writes);
  }

  @Test
  void xen422ShouldHaveNoOwnedBytesAndItsSlotCheckOnlyTheStart() {
    Host host = new Host(0x1000, Policy.XEN_4_22);
    HostMsixtblTest.Page page = device(host, FRAME);
    assertEquals(-Errno.EOPNOTSUPP, host.protectBytes("a", BASE + 0x40, 8));
    assertEquals(-Errno.EOPNOTSUPP, host.unprotectBytes("a", BASE + 0x40, 8));
    assertFalse(host.mmioRoRanges().containsSingleton(FRAME), "nothing changed");
    // Xen's subpage_mmio_ro_add(0xfed00048, 8): slot 9 read-only. A 4-byte store at 0x44 starts
    // in slot 8 and is performed; Xen does not look at the bytes past the slot it starts in,
    // though this one ends in slot 8 too. An 8-byte store can only start on a slot, so Xen's
    // start-only check is exact for aligned stores.
    assertEquals(0, host.subpageMmioRoAdd(BASE + 0x48, 8));
    GuestVcpu v = pv(host, true, FRAME);
    assertEquals(0, v.write(VA + 0x44, 4, 7, Access.USER));
    assertEquals(AccessReason.SUBPAGE_WRITTEN, v.lastAccessReason());
    assertEquals(0, v.write(VA + 0x48, 1, 7, Access.USER));
    assertEquals(AccessReason.SUBPAGE_IGNORED, v.lastAccessReason());
    assertEquals(1, page.writes);
    // A domU is not served by Xen's PV path.
    Host other = new Host(0x1000, Policy.XEN_4_22);
    device(other, FRAME);
    assertEquals(0, other.subpageMmioRoAdd(BASE + 0x48, 8));
    GuestVcpu u = pv(other, false, FRAME);
    assertEquals(PF_PWU, u.write(VA, 4, 7, Access.USER));
    assertEquals(AccessReason.PV_NOT_HARDWARE_DOMAIN, u.lastAccessReason());
  }

  @Test
  void hardenedsSubpageMmioRoAddShouldBeExactBytesAndRemovable() {
    Host host = new Host(0x1000, Policy.HARDENED);
    device(host, FRAME);
    assertEquals(0, host.subpageMmioRoAdd(BASE + 0x48, 8));
    assertArrayEquals(new long[] {BASE + 0x48, BASE + 0x4f}, host.protectedBytes(FRAME).get(0));
    assertEquals(0, host.unprotectBytes("subpage", BASE + 0x48, 8));
    assertFalse(host.mmioRoRanges().containsSingleton(FRAME));
  }

  @Test
  void badRangesShouldBeRefusedWithNothingChanged() {
    Host host = new Host(0x1000, Policy.HARDENED);
    assertEquals(-Errno.EINVAL, host.protectBytes("a", BASE, 0));
    assertEquals(-Errno.EINVAL, host.protectBytes("a", BASE, -1));
    assertEquals(-Errno.EINVAL, host.protectBytes("a", -8, 8));
    assertEquals(-Errno.EINVAL, host.protectBytes("a", (1L << 52) - 4, 8), "past 2^52");
    assertEquals(-Errno.EINVAL, host.protectBytes("a", Long.MAX_VALUE, 2), "wraps");
    GuestDomain d = host.createDomain(1, PagingMode.PV, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(-Errno.EINVAL, host.protectBytes("a", 0x100_000L + 8, 8), "a RAM frame");
    assertEquals(0, host.mmioRoRanges().rangeCount());
    assertEquals(-Errno.ENOENT, host.unprotectBytes("a", BASE, 8));
    assertEquals(-Errno.EINVAL, host.unprotectBytes("a", BASE, 0));
  }

  @Test
  void aDevicesMsixTableAndPbaShouldBeProtectedByteForByte() {
    for (Policy policy : new Policy[] {Policy.HARDENED, Policy.XEN_4_22}) {
      Host host = new Host(0x1000, policy);
      HostDevice nic = host.addDevice(HostMsixTest.nic());
      assertEquals(0, host.prepareMsix(nic).rc());
      boolean hardened = policy == Policy.HARDENED;
      assertEquals(hardened ? List.of("[e0840000, e084009f]") : List.of(),
          ranges(host, 0xe0840), "the table's 160 bytes");
      assertEquals(hardened ? List.of("[e0842000, e0842007]") : List.of(),
          ranges(host, 0xe0842), "the PBA's 8 bytes");
      GuestVcpu v = pv(host, false, 0xe0840);
      // Past the table on its page: the device's other bytes.
      long r = v.write(VA + 0x100, 4, 0xcafe, Access.USER);
      assertEquals(hardened ? 0 : PF_PWU, r);
      assertEquals(hardened ? 0xcafeL : 0, host.machine().read(0xe0840100L, 4));
      // Entry 1's data: protected either way.
      assertEquals(PF_PWU, v.write(VA + 0x18, 4, 0x41, Access.USER));
      assertEquals(0, nic.msixRegisters().unpermittedChanges());
      // Released, the device's bytes go with its frames.
      assertEquals(0, host.releaseMsix(nic).rc());
      assertEquals(List.of(), ranges(host, 0xe0840));
      assertFalse(host.mmioRoRanges().containsSingleton(0xe0840));
    }
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void anHvmOwnerShouldReachTheRegistersBesideItsTable(PagingMode mode) {
    for (Policy policy : new Policy[] {Policy.HARDENED, Policy.XEN_4_22}) {
      Host host = new Host(0x1000, policy);
      HostDevice nic = host.addDevice(HostMsixTest.nic());
      assertEquals(0, host.prepareMsix(nic).rc()); // before the guest maps it: read-only leaves
      GuestVcpu v = hvm(host, mode, 0xe0840);
      long la = 0x40_0000L;
      boolean hardened = policy == Policy.HARDENED;
      assertEquals(0, v.write(la + 0x100, 4, 0xcafe, Access.READ));
      assertEquals(hardened ? AccessReason.SUBPAGE_WRITTEN : AccessReason.NULL_HANDLER_WRITE,
          v.lastAccessReason());
      assertEquals(hardened ? 0xcafeL : 0, host.machine().read(0xe0840100L, 4));
      // Entry 0's address: discarded either way (hardened: the sub-page handler ignores it).
      assertEquals(0, v.write(la, 4, 0xfee0_7000L, Access.READ));
      assertEquals(hardened ? AccessReason.SUBPAGE_IGNORED : AccessReason.NULL_HANDLER_WRITE,
          v.lastAccessReason());
      assertEquals(0, nic.msixRegisters().messageAddress(0));
      assertEquals(0, nic.msixRegisters().unpermittedChanges());
    }
  }

  private static List<String> ranges(Host host, long mfn) {
    return host.protectedBytes(mfn).stream()
        .map(p -> "[" + Long.toHexString(p[0]) + ", " + Long.toHexString(p[1]) + "]").toList();
  }
}
