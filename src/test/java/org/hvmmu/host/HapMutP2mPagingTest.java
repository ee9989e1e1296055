package org.hvmmu.host;

import static org.hvmmu.host.HapMutGuestVcpuTest.LA_RAM;
import static org.hvmmu.host.HapMutGuestVcpuTest.RAM_GPA;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mSetResult;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.RadixP2m;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.PageOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The host's p2m path for HVM guests. The expected values are pinned by the SDM (vol. 3C 25.6.11,
 * the EPTP: bits 2:0 the memory type, 6 for write-back; bits 5:3 the walk length minus one, 3 for
 * four levels; bit 6 enables accessed and dirty flags; the EPT and NPT leaf's bit 1 is its write
 * permission), by Xen's p2m code (RELEASE-4.22.0 {@code p2m.c} and {@code p2m-ept.c}: every change
 * of an entry is followed by {@code ept_sync_domain} or {@code p2m_tlb_flush_sync}, so no vCPU
 * keeps a stale translation; {@code p2m_set_entry} of an {@code mmio_direct} superpage over
 * read-only frames is refused and redone as 4-KByte entries, c3c756bde3; a p2m without table pages
 * gives {@code -ENOMEM}; a log-dirty page is mapped without write access when there is no PML), and
 * by hand: the hardened revocation (docs/policy.md, REVOKE) leaves every 4-KByte {@code
 * mmio_direct} leaf listed once in the reverse map and no writable mapping of a read-only frame,
 * splits only the superpages that hold a protected frame, and maps each split page at its own
 * frame.
 */
class HapMutP2mPagingTest {
  static final long BAR = 0x40000; // a 1-GiB-aligned MMIO range above the frame table

  static GuestDomain hvm(Host host, PagingMode mode) {
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    return d;
  }

  static P2mEntry entry(GuestDomain d, long gfn) {
    P2mEntry e = new P2mEntry();
    assertTrue(d.p2m().getEntry(gfn, e), () -> "gfn 0x" + Long.toHexString(gfn));
    return e;
  }

  static boolean writable(P2mEntry e) {
    return (e.entry() & 2) != 0; // EPT bit 1 (write), NPT bit 1 (R/W)
  }

  static int mmio(Host host) {
    return P2mType.MMIO_DIRECT.code(host.policy().p2m().era());
  }

  /** Every gfn of [first, last] maps its own frame as a 4-KByte mmio_direct leaf, listed. */
  static void assertSplit(Host host, GuestDomain d, long first, long last) {
    for (long gfn = first; gfn <= last; gfn++) {
      P2mEntry e = entry(d, gfn);
      assertEquals(gfn, e.mfn(), "gfn 0x" + Long.toHexString(gfn));
      assertEquals(PageOrder.ORDER_4K, e.order(), "gfn 0x" + Long.toHexString(gfn));
      assertEquals(mmio(host), e.typeCode());
      assertTrue(host.rmap().contains(gfn, d.id(), MappingKind.P2M_LEAF, gfn, 0),
          "gfn 0x" + Long.toHexString(gfn));
      assertEquals(!host.mmioRoRanges().containsSingleton(gfn), writable(e));
    }
  }

  // ---- the vCPU's nested structures

  @Test
  void theEptpShouldBeWriteBackFourLevelsWithAccessedDirtyWhereBothHaveIt() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = hvm(host, PagingMode.HVM_EPT);
    GuestVcpu v = host.createVcpu(d);
    assertEquals((d.p2m().rootFrame() << 12) | 0x5E, v.cpu().eptp());
    Policy noAd = Policy.HARDENED.withP2m(Policy.HARDENED.p2m().withEptAccessedDirty(false));
    Host h2 = new Host(0x1000, noAd);
    GuestDomain d2 = hvm(h2, PagingMode.HVM_EPT);
    assertEquals((d2.p2m().rootFrame() << 12) | 0x1E, h2.createVcpu(d2).cpu().eptp());
    Host h3 = new Host(0x1000, Policy.HARDENED, new CpuFeatures(true, false, true), 64);
    GuestDomain d3 = hvm(h3, PagingMode.HVM_EPT);
    assertEquals((d3.p2m().rootFrame() << 12) | 0x1E, h3.createVcpu(d3).cpu().eptp());
  }

  @Test
  void anNptVcpuShouldWalkTheP2mAsItsNestedCr3() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = hvm(host, PagingMode.HVM_NPT);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(d.p2m().rootFrame() << 12, v.cpu().nestedCr3());
    assertTrue(v.faultHandler() instanceof HapFaultHandler);
  }

  // ---- synchronisation after a change

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void aRemappedFrameShouldTakeTheNextStore(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = HapMutGuestVcpuTest.hvm(host, mode, false);
    GuestDomain d = v.domain();
    assertEquals(0, v.write(LA_RAM, 8, 1, Access.READ)); // the translation is cached
    assertEquals(1, host.machine().read(RAM_GPA, 8));
    // gfn 0x150 now maps frame 0x170: ept_sync_domain / p2m_tlb_flush_sync.
    assertEquals(0, host.setP2mEntry(d, 0x150, 0x170, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(0, v.write(LA_RAM, 8, 2, Access.READ));
    assertEquals(1, host.machine().read(RAM_GPA, 8), "the old frame is not written");
    assertEquals(2, host.machine().read(0x170L << 12, 8));
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void aGlobalRetypeShouldTakeTheCachedWriteAway(PagingMode mode) {
    Policy noPml = Policy.HARDENED.withP2m(Policy.HARDENED.p2m().withEptAccessedDirty(false));
    Host host = new Host(0x1000, noPml);
    GuestVcpu v = HapMutGuestVcpuTest.hvm(host, mode, false);
    assertEquals(0, v.write(LA_RAM, 8, 1, Access.READ));
    host.changeTypeGlobal(v.domain(), P2mType.RAM_RW, P2mType.RAM_LOGDIRTY);
    long f = v.write(LA_RAM, 8, 2, Access.READ);
    assertEquals(mode == PagingMode.HVM_EPT ? FaultKind.EPT_VIOLATION.code()
        : FaultKind.NESTED_PAGE_FAULT.code(), Fault.kindCode(f), () -> Fault.describe(f));
    assertEquals(1, host.machine().read(RAM_GPA, 8));
  }

  @Test
  void aCrashedDomainsP2mShouldNotChange() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = hvm(host, PagingMode.HVM_EPT);
    host.crashDomain(d);
    assertThrows(IllegalStateException.class,
        () -> host.setP2mEntry(d, 0x100, 0x100, PageOrder.ORDER_4K, P2mType.RAM_RW));
  }

  // ---- mmio_direct superpages and the reverse map

  @Test
  void aSuperpageOverAReadOnlyFrameShouldBeMappedPageByPage() {
    Host host = new Host(0x1000, Policy.HARDENED);
    assertEquals(0, host.protect("test", BAR + 0x34, BAR + 0x34));
    GuestDomain d = hvm(host, PagingMode.HVM_EPT);
    int before = host.reverseMapSize();
    assertEquals(0, host.grantIomem(d, BAR, BAR + 0x1FF));
    assertSplit(host, d, BAR, BAR + 0x1FF);
    assertFalse(writable(entry(d, BAR + 0x34)));
    assertTrue(writable(entry(d, BAR + 0x35)));
    assertEquals(before + 512, host.reverseMapSize());
    assertEquals(0, d.mmioSuperpages().length);
  }

  @Test
  void aP2mOutOfTablesShouldSayEnomemAndListOnlyWhatItMapped() {
    int rc = 0;
    for (int pages = 4; pages <= 8 && rc == 0; pages++) {
      Host host = new Host(0x1000, Policy.HARDENED, CpuFeatures.ALL, pages);
      assertEquals(0, host.protect("test", BAR + 0x34, BAR + 0x34));
      GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
      host.giveRam(d, 0x100, 0x1ff);
      rc = host.grantIomem(d, BAR, BAR + 0x1FF);
      int mapped = 0;
      P2mEntry e = new P2mEntry();
      for (long gfn = BAR; gfn <= BAR + 0x1FF; gfn++) {
        if (d.p2m().getEntry(gfn, e) && e.mfn() == gfn) {
          mapped++;
        }
      }
      assertTrue(rc == 0 || rc == P2mSetResult.NO_MEMORY, "rc " + rc);
      assertEquals(rc == 0 ? 512 : 0, mapped, "pages " + pages);
      assertEquals(mapped, host.reverseMapSize(), "pages " + pages);
    }
    assertEquals(-12, rc, "one of the small p2ms runs out of tables");
  }

  @Test
  void theReverseMapShouldFollowA4kLeaf() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = hvm(host, PagingMode.HVM_EPT);
    long gfn = 0x50000;
    assertEquals(0, host.grantIomem(d, gfn, gfn));
    assertEquals(1, host.reverseMapSize());
    assertTrue(host.rmap().contains(gfn, d.id(), MappingKind.P2M_LEAF, gfn, 0));
    assertEquals(0, host.setP2mEntry(d, gfn, gfn + 1, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT));
    assertEquals(1, host.reverseMapSize());
    assertFalse(host.rmap().contains(gfn, d.id(), MappingKind.P2M_LEAF, gfn, 0));
    assertTrue(host.rmap().contains(gfn + 1, d.id(), MappingKind.P2M_LEAF, gfn, 0));
    assertEquals(0, host.setP2mEntry(d, gfn, gfn + 1, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT));
    assertEquals(1, host.reverseMapSize());
    assertEquals(0, host.setP2mEntry(d, gfn, 0x150, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(0, host.reverseMapSize(), "RAM is not listed");
    assertEquals(0, host.setP2mEntry(d, gfn, gfn + 2, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT));
    assertEquals(1, host.reverseMapSize());
    assertEquals(0, host.setP2mEntry(d, gfn, P2mEntry.INVALID_MFN, PageOrder.ORDER_4K,
        P2mType.INVALID));
    assertEquals(0, host.reverseMapSize());
    // A 2-MiB mmio_direct leaf is kept as a superpage, not listed.
    assertEquals(0, host.grantIomem(d, BAR, BAR + 0x1FF));
    assertEquals(0, host.reverseMapSize());
    assertArrayEquals(new long[] {BAR, BAR, PageOrder.ORDER_2M.code}, d.mmioSuperpages());
    assertEquals(PageOrder.ORDER_2M, entry(d, BAR).order());
  }

  @Test
  void protectingFramesBesideASuperpageShouldNotSplitIt() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = hvm(host, PagingMode.HVM_EPT);
    assertEquals(0, host.grantIomem(d, BAR, BAR + 0x3FF));
    long[] both = {BAR, BAR, 9, BAR + 0x200, BAR + 0x200, 9};
    assertArrayEquals(both, d.mmioSuperpages());
    assertEquals(0, host.protect("test", BAR - 1, BAR - 1));
    assertEquals(0, host.protect("test", BAR + 0x400, BAR + 0x400));
    assertArrayEquals(both, d.mmioSuperpages());
    assertEquals(PageOrder.ORDER_2M, entry(d, BAR).order());
    assertEquals(PageOrder.ORDER_2M, entry(d, BAR + 0x3FF).order());
    assertEquals(0, host.reverseMapSize());
  }

  @Test
  void protectingASuperpagesLastFrameShouldSplitOnlyIt() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = hvm(host, PagingMode.HVM_EPT);
    assertEquals(0, host.grantIomem(d, BAR, BAR + 0x3FF));
    assertEquals(0, host.protect("test", BAR + 0x1FF, BAR + 0x1FF));
    assertArrayEquals(new long[] {BAR + 0x200, BAR + 0x200, 9}, d.mmioSuperpages());
    assertSplit(host, d, BAR, BAR + 0x1FF);
    assertEquals(PageOrder.ORDER_2M, entry(d, BAR + 0x200).order());
    assertEquals(512, host.reverseMapSize());
    assertTrue(HostInvariants.check(host).isEmpty(), () -> HostInvariants.check(host).toString());
  }

  @Test
  void protectingASuperpagesFirstFrameShouldSplitOnlyIt() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = hvm(host, PagingMode.HVM_EPT);
    assertEquals(0, host.grantIomem(d, BAR, BAR + 0x3FF));
    assertEquals(0, host.protect("test", BAR + 0x200, BAR + 0x200));
    assertArrayEquals(new long[] {BAR, BAR, 9}, d.mmioSuperpages());
    assertSplit(host, d, BAR + 0x200, BAR + 0x3FF);
    assertEquals(PageOrder.ORDER_2M, entry(d, BAR + 0x1FF).order());
    assertEquals(512, host.reverseMapSize());
  }

  @Test
  void aSplitSuperpageShouldNotReachPastItsEnd() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = hvm(host, PagingMode.HVM_EPT);
    assertEquals(0, host.grantIomem(d, BAR, BAR + 0x1FF));
    assertEquals(0, host.protect("test", BAR + 0x34, BAR + 0x34));
    assertSplit(host, d, BAR, BAR + 0x1FF);
    assertEquals(0, d.mmioSuperpages().length);
    assertFalse(d.p2m().getEntry(BAR + 0x200, new P2mEntry()), "nothing mapped past the end");
    assertFalse(d.p2m().getEntry(BAR - 1, new P2mEntry()));
    assertEquals(512, host.reverseMapSize());
  }

  @Test
  void aSuperpageTheP2mSplitAlreadyShouldBeListedPageByPage() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = hvm(host, PagingMode.HVM_EPT);
    assertEquals(0, host.grantIomem(d, BAR, BAR + 0x1FF));
    // Setting one 4-KByte entry inside splits the 2-MiB leaf; only that entry is listed.
    assertEquals(0, host.setP2mEntry(d, BAR + 1, BAR + 1, PageOrder.ORDER_4K,
        P2mType.MMIO_DIRECT));
    assertEquals(PageOrder.ORDER_4K, entry(d, BAR + 0x100).order());
    assertEquals(1, host.reverseMapSize());
    // A hole and a leaf of another frame inside the superpage's range.
    assertEquals(0, host.setP2mEntry(d, BAR + 0x10, P2mEntry.INVALID_MFN, PageOrder.ORDER_4K,
        P2mType.INVALID));
    assertEquals(0, host.setP2mEntry(d, BAR + 0x20, 0x150, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(0, host.protect("test", BAR + 0x34, BAR + 0x34));
    assertSplit(host, d, BAR, BAR + 0xF);
    assertSplit(host, d, BAR + 0x11, BAR + 0x1F);
    assertSplit(host, d, BAR + 0x21, BAR + 0x1FF);
    assertFalse(d.p2m().getEntry(BAR + 0x10, new P2mEntry()));
    assertEquals(0x150, entry(d, BAR + 0x20).mfn());
    assertEquals(510, host.reverseMapSize());
    assertEquals(0, d.mmioSuperpages().length);
  }

  @Test
  void leavesOfAnotherTypeOrFrameInsideTheRangeShouldBeLeftAlone() {
    // Frames with a frame-table entry (mfn_valid), so that RAM types map them too.
    Host host = new Host(0x2000, Policy.HARDENED);
    GuestDomain d = hvm(host, PagingMode.HVM_EPT);
    long bar = 0x800;
    assertEquals(0, host.grantIomem(d, bar, bar + 0x1FF));
    assertEquals(PageOrder.ORDER_2M, entry(d, bar).order());
    // The superpage's own frame as RAM, and mmio_direct of a frame outside it.
    assertEquals(0, host.setP2mEntry(d, bar + 0x20, bar + 0x20, PageOrder.ORDER_4K,
        P2mType.RAM_RW));
    assertEquals(0, host.setP2mEntry(d, bar + 0x21, 0x50000, PageOrder.ORDER_4K,
        P2mType.MMIO_DIRECT));
    assertEquals(1, host.reverseMapSize());
    assertEquals(0, host.protect("test", bar + 0x34, bar + 0x34));
    P2mEntry ram = entry(d, bar + 0x20);
    assertEquals(P2mType.RAM_RW.code(host.policy().p2m().era()), ram.typeCode());
    assertFalse(host.rmap().contains(bar + 0x20, d.id(), MappingKind.P2M_LEAF, bar + 0x20, 0));
    assertEquals(0x50000, entry(d, bar + 0x21).mfn());
    assertSplit(host, d, bar, bar + 0x1F);
    assertSplit(host, d, bar + 0x22, bar + 0x1FF);
    assertEquals(511, host.reverseMapSize());
  }

  @Test
  void aGigabytePagesTwoMegabyteLeavesShouldMapTheirOwnFrames() {
    // Tables: the root, the L3, the L2 the 1-GiB leaf splits into, the L1 of its first 2 MiB,
    // and one more L1: the second 2 MiB is mapped anew, the rest is lost for want of tables.
    Host host = new Host(0x1000, Policy.HARDENED, CpuFeatures.ALL, 5);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    assertEquals(0, host.grantIomem(d, BAR, BAR + 0x3FFFF));
    assertArrayEquals(new long[] {BAR, BAR, PageOrder.ORDER_1G.code}, d.mmioSuperpages());
    assertEquals(0, host.setP2mEntry(d, BAR + 1, BAR + 1, PageOrder.ORDER_4K,
        P2mType.MMIO_DIRECT));
    assertEquals(PageOrder.ORDER_2M, entry(d, BAR + 0x200).order());
    assertEquals(0, host.protect("test", BAR + 0x234, BAR + 0x234));
    assertSplit(host, d, BAR, BAR + 0x3FF);
    P2mEntry e = new P2mEntry();
    assertFalse(d.p2m().getEntry(BAR + 0x400, e), "no table left: unmapped, not writable");
    assertTrue(HostInvariants.check(host).isEmpty(), () -> HostInvariants.check(host).toString());
  }

  @Test
  void protectingAFrameAShadowedGuestMapsShouldTakeItsShadowsWriteAway() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = ShadowPagingTest.guest(host, PagingMode.HVM_SHADOW);
    GuestDomain d = v.domain();
    long la = ShadowPagingTest.LA + 0x2000; // L1A slot 2: the MMIO frame
    assertEquals(0, v.write(la, 4, 1, Access.USER));
    long before = ShadowPagingTest.shadowEntry(host, d, ShadowPagingTest.L1A, ShadowDomain.L1, 2);
    assertEquals(2, before & 2, "a writable shadow");
    assertEquals(0, host.protect("test", ShadowPagingTest.MMIO, ShadowPagingTest.MMIO));
    long after = ShadowPagingTest.shadowEntry(host, d, ShadowPagingTest.L1A, ShadowDomain.L1, 2);
    assertEquals(1, after & 1, "still present");
    assertEquals(0, after & 2, "no longer writable");
    assertFalse(writable(entry(d, ShadowPagingTest.MMIO)));
    assertTrue(HostInvariants.check(host).isEmpty(), () -> HostInvariants.check(host).toString());
  }

  // ---- guest-physical accesses through the p2m

  @Test
  void aGuestPhysicalAccessShouldStayInOnePage() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = hvm(host, PagingMode.HVM_EPT);
    host.writeGuestPhysical(d, 0x150FF8, 8, 0x1122_3344_5566_7788L);
    assertEquals(0x1122_3344_5566_7788L, host.readGuestPhysical(d, 0x150FF8, 8));
    assertEquals(0x11, host.readGuestPhysical(d, 0x150FFF, 1));
    assertThrows(IllegalArgumentException.class, () -> host.readGuestPhysical(d, 0x150FFC, 8));
    assertThrows(IllegalArgumentException.class, () -> host.readGuestPhysical(d, 0x150FFF, 2));
    assertThrows(IllegalArgumentException.class,
        () -> host.writeGuestPhysical(d, 0x150FFD, 4, 0));
  }

  @Test
  void aGuestPhysicalAccessWhereNothingIsMappedShouldReadAllOnes() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = hvm(host, PagingMode.HVM_EPT);
    assertEquals(-1L, host.readGuestPhysical(d, RadixP2m.GFN_LIMIT << 12, 8));
    assertEquals(-1L, host.readGuestPhysical(d, (RadixP2m.GFN_LIMIT - 1) << 12, 8));
    assertEquals(0, host.setP2mEntry(d, 0x60000, P2mEntry.INVALID_MFN, PageOrder.ORDER_4K,
        P2mType.MMIO_DM));
    assertEquals(0xFFFF_FFFFL, host.readGuestPhysical(d, 0x6000_0010L, 4));
    host.writeGuestPhysical(d, 0x6000_0010L, 4, 0); // dropped
    assertEquals(0xFFFF_FFFFL, host.readGuestPhysical(d, 0x6000_0010L, 4));
    assertNotEquals(-1L, host.readGuestPhysical(d, 0x150000, 8));
  }
}
