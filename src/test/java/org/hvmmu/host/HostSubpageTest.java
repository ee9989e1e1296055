package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * Xen's sub-page read-only MMIO through the host (reference msix-emulation.md section 1.5, vectors
 * S1-S3): {@code subpage_mmio_ro_add(0xfed00040, 0x40)} makes bytes 0x40-0x7f of frame 0xfed00
 * read-only and the frame wholly read-only in {@code mmio_ro_ranges}; the hardware domain's PV
 * stores and an HVM guest's stores to the other slots are emulated at their offset (4.21+; 4.20 at
 * offset 0), stores to the read-only slots ignored with a log line. Expected values by hand from
 * {@code subpage_mmio_ro_add}, {@code subpage_mmio_write_emulate} (mm.c) and {@code
 * subpage_mmio_write} (hvm/mmio.c) at RELEASE-4.22.0 and RELEASE-4.20.0.
 */
class HostSubpageTest {
  private static final long FRAME = 0xfed00;
  private static final long VA = 0x5000;

  /** The device's registers at FRAME: a page of bytes, every write counted. */
  private static HostMsixtblTest.Page device(Host host) {
    return HostSubpageBytesTest.device(host, FRAME);
  }

  /** A PV domain whose linear 0x5000 maps the frame (read-only: it is in mmio_ro_ranges). */
  private static GuestVcpu pv(Host host, boolean hardwareDomain) {
    return HostSubpageBytesTest.pv(host, hardwareDomain, FRAME);
  }

  private static Host host(RoMmioSwitches s) {
    Host host = new Host(0x1000, Policy.HARDENED.withRoMmio(s));
    assertEquals(0, host.subpageMmioRoAdd(FRAME << 12 | 0x40, 0x40));
    return host;
  }

  @Test
  void theListShouldBeInitOnlyAndEightByteGrained() {
    Host host = new Host(0x1000, Policy.HARDENED);
    assertEquals(-Errno.EINVAL, host.subpageMmioRoAdd(FRAME << 12 | 0x44, 0x40));
    assertEquals(-Errno.EINVAL, host.subpageMmioRoAdd(FRAME << 12 | 0x40, 0x44));
    assertEquals(0, host.subpageMmioRoAdd(FRAME << 12, 0), "size 0: nothing");
    assertFalse(host.mmioRoRanges().containsSingleton(FRAME));
    assertEquals(0, host.subpageMmioRoAdd(FRAME << 12 | 0x40, 0x40));
    assertTrue(host.mmioRoRanges().containsSingleton(FRAME), "the whole page is added");
    host.createDomain(1, PagingMode.PV, false);
    assertEquals(-Errno.EILSEQ, host.subpageMmioRoAdd((FRAME + 1) << 12 | 0x40, 0x40));
  }

  @Test
  void s1S2S3TheHardwareDomainsStoresShouldReachOnlyTheWritableSlots() {
    Host host = host(RoMmioSwitches.XEN_4_22);
    GuestVcpu v = pv(host, true);
    HostMsixtblTest.Page page = device(host);
    assertEquals(0, v.write(VA + 0x44, 4, 0xdead, Access.USER)); // S1
    assertEquals(AccessReason.SUBPAGE_IGNORED, v.lastAccessReason());
    assertEquals(0, page.writes);
    assertEquals(0, v.write(VA + 0x80, 4, 0x1234_5678L, Access.USER)); // S2
    assertEquals(AccessReason.SUBPAGE_WRITTEN, v.lastAccessReason());
    assertEquals(0x1234_5678L, page.read(FRAME << 12 | 0x80, 4));
    assertEquals(0, v.write(VA + 0x38, 8, 0x1111_2222_3333_4444L, Access.USER)); // S3
    assertEquals(0x1111_2222_3333_4444L, page.read(FRAME << 12 | 0x38, 8));
    assertEquals(2, page.writes);
    // Another domain's store is its #PF, as ever.
    Host other = host(RoMmioSwitches.XEN_4_22);
    GuestVcpu u = pv(other, false);
    assertEquals(Fault.of(FaultKind.PAGE_FAULT, 7), u.write(VA + 0x80, 4, 1, Access.USER));
  }

  @Test
  void xen420ShouldWriteAtThePagesStartAndTheSeedNotAtAll() {
    Host host = host(RoMmioSwitches.XEN_4_22.withSubpage(true, false));
    GuestVcpu v = pv(host, true);
    HostMsixtblTest.Page page = device(host);
    assertEquals(0, v.write(VA + 0x80, 4, 0x1234_5678L, Access.USER));
    assertEquals(AccessReason.SUBPAGE_WRITTEN_AT_PAGE_START, v.lastAccessReason());
    assertEquals(0x1234_5678L, page.read(FRAME << 12, 4), "38d0780979's bug: offset 0");
    assertEquals(0, page.read(FRAME << 12 | 0x80, 4));
    Host seed = host(RoMmioSwitches.XEN_4_22.withSubpage(false, false));
    GuestVcpu w = pv(seed, true);
    HostMsixtblTest.Page untouched = device(seed);
    assertEquals(0, w.write(VA + 0x80, 4, 1, Access.USER));
    assertEquals(AccessReason.MMIO_RO_DROPPED, w.lastAccessReason());
    assertEquals(0, untouched.writes);
  }

  @Test
  void anHvmGuestsStoresShouldGoThroughTheSubpageHandler() {
    Host host = host(RoMmioSwitches.XEN_4_22);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, FRAME, FRAME));
    long pml4 = 0x10_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x10_1000L | 0x23);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | 0x23);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, 0x10_3000L | 0x23);
    host.writeGuestPhysical(d, 0x10_3000L, 8, (FRAME << 12) | 0x63);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.cpu().loadState(0x8005_0033L, pml4, 0x20, 0xD00));
    HostMsixtblTest.Page page = device(host);
    long la = 0x40_0000L;
    assertEquals(0, v.write(la + 0x80, 4, 0xabcd, Access.READ));
    assertEquals(AccessReason.SUBPAGE_WRITTEN, v.lastAccessReason());
    assertEquals(0xabcd, page.read(FRAME << 12 | 0x80, 4));
    assertEquals(0, v.write(la + 0x40, 8, 1, Access.READ));
    assertEquals(AccessReason.SUBPAGE_IGNORED, v.lastAccessReason());
    assertEquals(1, page.writes);
  }
}
