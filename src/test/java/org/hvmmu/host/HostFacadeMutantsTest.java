package org.hvmmu.host;

import static org.hvmmu.host.ShadowPagingTest.LA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.host.access.SubpageState;
import org.hvmmu.mmu.Access;
import org.hvmmu.x86.pv.FrameTable;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * The host facade's argument checks and its sub-page registration. The expected values are pinned
 * by Xen: {@code subpage_mmio_ro_add} in {@code xen/arch/x86/mm.c} (RELEASE-4.22.0: start and
 * size multiples of {@code MMIO_RO_SUBPAGE_GRAN} = 8, else {@code -EINVAL}; every page of {@code
 * [start, start + size)} joins {@code mmio_ro_ranges}; a partial first or last page gets a
 * sub-page entry whose {@code ro_elems} bits are the 8-byte slots of the range, a whole page none),
 * the PCI spec's MSI-X table (16-byte entries, 1 to 2048 of them) and {@code msixtbl_pt_register}
 * (entries 0-63 carry a bound bit), a device model's read of unmapped guest memory (all ones, as
 * {@code hvm_copy_from_guest_phys} of {@code p2m_mmio_dm} reads through the null handler), and
 * {@code domain_crash} with {@code flush_tlb_mask} (nothing of the domain stays cached).
 */
class HostFacadeMutantsTest {
  static final Policy XEN = Policy.HARDENED.withRoMmio(RoMmioSwitches.XEN_4_22);
  /** A frame above the host's RAM (0x1000 frames): MMIO. */
  static final long MMIO = 0x100000;

  static SubpageState state(Host host, long mfn, int offset) {
    return host.subpages().state(mfn, offset);
  }

  @Test
  void subpageAddShouldCheckAlignmentAndSign() {
    Host host = new Host(0x1000, XEN);
    assertEquals(-Errno.EINVAL, host.subpageMmioRoAdd((MMIO << 12) + 4, 8));
    assertEquals(-Errno.EINVAL, host.subpageMmioRoAdd(MMIO << 12, 12));
    assertEquals(-Errno.EINVAL, host.subpageMmioRoAdd(-8, 8));
    assertEquals(-Errno.EINVAL, host.subpageMmioRoAdd(MMIO << 12, -8));
    assertEquals(0, host.subpageMmioRoAdd(MMIO << 12, 0)); // nothing
    assertTrue(host.subpages().isEmpty());
    assertFalse(host.mmioRoRanges().containsSingleton(MMIO));
  }

  @Test
  void subpageAddOfAPartOfOnePageShouldMarkItsSlots() {
    Host host = new Host(0x1000, XEN);
    assertEquals(0, host.subpageMmioRoAdd((MMIO << 12) + 8, 16));
    assertTrue(host.mmioRoRanges().containsSingleton(MMIO));
    assertFalse(host.mmioRoRanges().containsSingleton(MMIO + 1));
    assertEquals(SubpageState.WRITABLE_SLOT, state(host, MMIO, 0));
    assertEquals(SubpageState.READ_ONLY_SLOT, state(host, MMIO, 8));
    assertEquals(SubpageState.READ_ONLY_SLOT, state(host, MMIO, 16));
    assertEquals(SubpageState.WRITABLE_SLOT, state(host, MMIO, 24));
    // From the page's start, ending inside it.
    assertEquals(0, host.subpageMmioRoAdd((MMIO + 2) << 12, 0x20));
    assertEquals(SubpageState.READ_ONLY_SLOT, state(host, MMIO + 2, 0));
    assertEquals(SubpageState.READ_ONLY_SLOT, state(host, MMIO + 2, 0x18));
    assertEquals(SubpageState.WRITABLE_SLOT, state(host, MMIO + 2, 0x20));
  }

  @Test
  void subpageAddAcrossPagesShouldMarkThePartialEnds() {
    Host host = new Host(0x1000, XEN);
    assertEquals(0, host.subpageMmioRoAdd((MMIO << 12) + 0xFF8, 0x10));
    assertTrue(host.mmioRoRanges().containsRange(MMIO, MMIO + 1));
    assertEquals(SubpageState.WRITABLE_SLOT, state(host, MMIO, 0xFF0));
    assertEquals(SubpageState.READ_ONLY_SLOT, state(host, MMIO, 0xFF8));
    assertEquals(SubpageState.READ_ONLY_SLOT, state(host, MMIO + 1, 0));
    assertEquals(SubpageState.WRITABLE_SLOT, state(host, MMIO + 1, 8));
    // Whole first page, partial last page: the last page only has an entry.
    assertEquals(0, host.subpageMmioRoAdd((MMIO + 4) << 12, 0x1010));
    assertEquals(SubpageState.NONE, state(host, MMIO + 4, 0));
    assertEquals(SubpageState.READ_ONLY_SLOT, state(host, MMIO + 5, 8));
    assertEquals(SubpageState.WRITABLE_SLOT, state(host, MMIO + 5, 0x10));
    // Partial first page, whole last page: the first page only.
    assertEquals(0, host.subpageMmioRoAdd(((MMIO + 8) << 12) + 0x800, 0x1800));
    assertEquals(SubpageState.WRITABLE_SLOT, state(host, MMIO + 8, 0x7F8));
    assertEquals(SubpageState.READ_ONLY_SLOT, state(host, MMIO + 8, 0x800));
    assertEquals(SubpageState.NONE, state(host, MMIO + 9, 0));
    assertTrue(host.mmioRoRanges().containsRange(MMIO + 8, MMIO + 9));
  }

  @Test
  void subpageAddOfWholePagesShouldMakeNoEntry() {
    Host host = new Host(0x1000, XEN);
    assertEquals(0, host.subpageMmioRoAdd(MMIO << 12, 0x1000));
    assertTrue(host.mmioRoRanges().containsSingleton(MMIO));
    assertFalse(host.mmioRoRanges().containsSingleton(MMIO + 1));
    assertTrue(host.subpages().isEmpty());
    assertEquals(0, host.subpageMmioRoAdd((MMIO + 2) << 12, 0x2000));
    assertTrue(host.mmioRoRanges().containsRange(MMIO + 2, MMIO + 3));
    assertFalse(host.mmioRoRanges().containsSingleton(MMIO + 4));
    assertTrue(host.subpages().isEmpty());
  }

  @Test
  void subpageAddShouldBeRefusedOnceADomainExists() {
    Host host = new Host(0x1000, XEN);
    host.createDomain(1, PagingMode.HVM_EPT, false);
    assertEquals(-Errno.EILSEQ, host.subpageMmioRoAdd((MMIO << 12) + 8, 8));
    assertTrue(host.subpages().isEmpty());
  }

  @Test
  void ownedSubpageBytesBeyondFiftyTwoBitsShouldBeRefused() {
    Host host = new Host(0x1000, Policy.HARDENED);
    // No x86 physical address has more than 52 bits.
    assertEquals(-Errno.EINVAL, host.subpageMmioRoAdd(1L << 52, 8));
    assertEquals(0, host.subpageMmioRoAdd((MMIO << 12) + 8, 8));
  }

  @Test
  void msixtblRegistrationShouldTakeOneTo2048AlignedEntries() {
    Host host = new Host(0x1000, XEN);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    host.registerMsixtbl(d, 0, 1, MMIO << 12, 1, false);
    assertNotNull(d.msixtblAt(0));
    host.registerMsixtbl(d, 0x10_0000, 2048, (MMIO + 1) << 12, 1, false);
    assertEquals(2048 * 16, d.msixtblAt(0x10_0000).tableLen);
    assertThrows(IllegalArgumentException.class,
        () -> host.registerMsixtbl(d, 0x20_0000, 2049, MMIO << 12, 1, false));
    assertThrows(IllegalArgumentException.class,
        () -> host.registerMsixtbl(d, -16, 1, MMIO << 12, 1, false));
    assertNull(d.msixtblAt(0x20_0000));
  }

  @Test
  void msixtblBindShouldTakeEntriesZeroTo63WithinTheTable() {
    Host host = new Host(0x1000, XEN);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    host.registerMsixtbl(d, 0x10_0000, 64, MMIO << 12, 0, false);
    host.registerMsixtbl(d, 0x20_0000, 8, (MMIO + 1) << 12, 0, false);
    host.registerMsixtbl(d, 0x30_0000, 128, (MMIO + 2) << 12, 0, false);
    assertEquals(0, host.bindMsixtbl(d, 0x10_0000, 63, true));
    assertTrue(d.msixtblAt(0x10_0000).bound(0x10_0000 + 63 * 16));
    assertEquals(0, host.bindMsixtbl(d, 0x20_0000, 7, true));
    assertEquals(-Errno.EINVAL, host.bindMsixtbl(d, 0x20_0000, 8, true));
    assertEquals(-Errno.EINVAL, host.bindMsixtbl(d, 0x30_0000, 64, true));
    assertEquals(-Errno.EINVAL, host.bindMsixtbl(d, 0x30_0000, -1, true));
    assertEquals(-Errno.ENOENT, host.bindMsixtbl(d, 0x40_0000, 0, true));
  }

  @Test
  void aCrashedDomainShouldRefuseMsixtblCalls() {
    Host host = new Host(0x1000, XEN);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    host.registerMsixtbl(d, 0x10_0000, 8, MMIO << 12, 0, false);
    host.crashDomain(d);
    assertThrows(IllegalStateException.class,
        () -> host.registerMsixtbl(d, 0x20_0000, 8, MMIO << 12, 0, false));
    assertThrows(IllegalStateException.class, () -> host.bindMsixtbl(d, 0x10_0000, 0, true));
    assertFalse(d.msixtblAt(0x10_0000).bound(0x10_0000));
  }

  @Test
  void unmappedGuestMemoryShouldReadAllOnes() {
    Host host = new Host(0x1000, XEN);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    long gpa = 0x5000_0000L;
    assertEquals(0xFFL, host.readGuestPhysical(d, gpa, 1));
    assertEquals(0xFFFFL, host.readGuestPhysical(d, gpa, 2));
    assertEquals(0xFFFF_FFFFL, host.readGuestPhysical(d, gpa, 4));
    assertEquals(-1L, host.readGuestPhysical(d, gpa, 8));
  }

  @Test
  void guestMemoryAtGuestPhysicalZeroShouldBeRead() {
    Host host = new Host(0x1000, XEN);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    assertEquals(0, host.giveRam(d, 0, 0xF));
    host.writeGuestPhysical(d, 0, 8, 0x1234_5678L);
    assertEquals(0x1234_5678L, host.readGuestPhysical(d, 0, 8));
  }

  @Test
  void theFrameCountShouldBeOneToTheFrameTablesLimit() {
    assertEquals(1, new Host(1, XEN).frames().frameCount());
    assertThrows(IllegalArgumentException.class, () -> new Host(0, XEN));
    assertThrows(IllegalArgumentException.class,
        () -> new Host(FrameTable.MAX_FRAMES + 1, XEN));
  }

  @Test
  void aCrashShouldLeaveNoCachedTranslation() {
    Host host = new Host(0x1000, XEN);
    GuestVcpu v = ShadowPagingTest.guest(host, PagingMode.HVM_EPT);
    assertEquals(0x1111_0000L, v.read(LA, 8, Access.USER));
    host.crashDomain(v.domain());
    v.read(LA, 8, Access.USER);
    assertNotEquals(0, v.lastFault());
  }
}
