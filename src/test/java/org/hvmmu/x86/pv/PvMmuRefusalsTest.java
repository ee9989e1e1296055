package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_PSE;
import static org.hvmmu.x86.pv.TreeFixture.L1;
import static org.hvmmu.x86.pv.TreeFixture.L2;
import static org.hvmmu.x86.pv.TreeFixture.L3;
import static org.hvmmu.x86.pv.TreeFixture.L4;
import static org.hvmmu.x86.pv.TreeFixture.VA;
import static org.hvmmu.x86.pv.TreeFixture.pde;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.hvmmu.x86.Pte;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * The refusals of {@link PvMmu}'s entry points that the scenario tests pass by: who may be created,
 * which frames {@code do_mmu_update} (Xen 4.22 {@code mm.c}) writes and how, the {@code
 * mod_lN_entry} preconditions, {@code map_guest_l1e}'s walk ({@code pv/mm.c}) and {@code
 * cache_flush_permitted}. Each refusal leaves every count as it was.
 */
class PvMmuRefusalsTest {
  @Test
  void domainsTakeOrdinaryUnusedIdsOnly() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    // Ordinary ids are 0 to DOMID_FIRST_RESERVED - 1 = 0x7fef (public/xen.h).
    assertThrows(IllegalArgumentException.class,
        () -> f.mmu.createDomain(0x7FF0, false, GuestType.PV64));
    assertThrows(IllegalArgumentException.class,
        () -> f.mmu.createDomain(-1, false, GuestType.PV64));
    assertThrows(IllegalArgumentException.class,
        () -> f.mmu.createDomain(1, false, GuestType.PV64), "d1 exists");
    assertSame(f.domU, f.mmu.domain(1));
    Domain last = f.mmu.createDomain(0x7FEF, false, GuestType.PV64);
    assertSame(last, f.mmu.domain(0x7FEF));
    assertSame(f.mmu.domIo(), f.mmu.domain(DomainIds.DOMID_IO));
    assertNull(f.mmu.domain(DomainIds.DOMID_XEN));
    assertNull(f.mmu.domain(5));
  }

  @Test
  void vcpusBelongToPvDomainsOfTheirOwnMmu() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    PvFixture other = new PvFixture(PvSwitches.HARDENED);
    assertThrows(IllegalArgumentException.class, () -> f.mmu.createVcpu(f.hvm, 0));
    assertThrows(IllegalArgumentException.class, () -> f.mmu.createVcpu(f.mmu.domIo(), 0));
    assertThrows(IllegalArgumentException.class, () -> f.mmu.createVcpu(other.domU, 0));
    assertThrows(IllegalArgumentException.class, () -> f.mmu.createVcpu(other.pae, 0, 0x500));
    assertEquals(0, f.frames.typeInfo(0x500), "the frame stays free");
    assertThrows(IllegalArgumentException.class, () -> f.mmu.createVcpu(f.domU, -1));
    PvVcpu v3 = f.mmu.createVcpu(f.domU, 3);
    assertSame(v3, f.domU.vcpu(3));
    assertEquals(0b1000, f.domU.vcpuMask());
    assertThrows(IllegalArgumentException.class, () -> f.mmu.createVcpu(f.domU, 3));
    // A vCPU of the other MMU's d1 is no vCPU of this one.
    PvVcpu foreign = other.mmu.createVcpu(other.domU, 0);
    assertThrows(IllegalArgumentException.class, () -> f.mmu.tlbFlushLocal(foreign));
    assertThrows(IllegalArgumentException.class, () -> f.mmu.newGuestCr3(foreign, L4));
    // Made without a compat L4, a 32-on-64 vCPU has no base and runs no TLB operation wrongly.
    PvVcpu bare = f.mmu.createVcpu(f.pae, 0);
    assertFalse(bare.hasCompatL4());
    assertEquals(0, f.mmu.tlbFlushLocal(bare));
  }

  @Test
  void mmuUpdateOfAHigherTableOnAnotherOwnersRightsIsRefused() {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED).write();
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    long[] counts = t.f.counts();
    t.flushes.take();
    // do_mmu_update: an L2 to L4 update with pg_owner != pt_owner breaks out with -EINVAL.
    for (long table : new long[] {L2, L3, L4}) {
      long before = t.mmu.readEntry(table, 7);
      assertEquals(-Errno.EINVAL,
          t.mmu.mmuUpdate(t.domU, table, 7, 0, t.mmu.domIo(), false), "0x"
              + Long.toHexString(table));
      assertEquals(before, t.mmu.readEntry(table, 7));
    }
    assertEquals(-Errno.EINVAL, t.mmu.mmuUpdate(t.domU, 0x1000, 0, 0, t.domU, false));
    assertEquals(-Errno.EINVAL, t.mmu.mmuUpdate(t.domU, 0x200, 0, 0, t.domU, false));
    assertArrayEquals(counts, t.f.counts());
    assertEquals(List.of(), t.flushes.take(), "nothing flushed after a refusal");
    // The same update on the owner's rights succeeds and flushes every vCPU (XSA-286).
    assertEquals(0, t.mmu.mmuUpdate(t.domU, L2, 7, 0, t.domU, false));
    assertEquals(List.of("tlb d1 0x7"), t.flushes.take());
    // An L1 update is never flushed.
    assertEquals(0, t.mmu.mmuUpdate(t.domU, L1, 7, 0, t.domU, false));
    assertEquals(List.of(), t.flushes.take());
  }

  @Test
  void mmuUpdateWritesOnlyWritableOrUntypedFrames() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    // A descriptor page in use takes no update (do_mmu_update's switch has no case for it).
    assertTrue(f.frames.getPage(0x150, 1));
    assertEquals(0, f.frames.getPageType(0x150, PageType.SEG_DESC_PAGE));
    long[] counts = f.counts();
    assertEquals(-Errno.EINVAL, f.mmu.mmuUpdate(f.domU, 0x150, 0, 0x1234, f.domU, false));
    assertEquals(0, f.mmu.readEntry(0x150, 0));
    assertArrayEquals(counts, f.counts());
    // A frame typed writable and in use is written under its lock.
    assertEquals(0, f.frames.getPageType(0x151, PageType.WRITABLE_PAGE));
    assertEquals(0, f.mmu.mmuUpdate(f.domU, 0x151, 3, 0x1234, f.domU, false));
    assertEquals(0x1234, f.mmu.readEntry(0x151, 3));
    assertEquals(1, f.frames.typeCount(0x151));
    // A frame of count 0 takes the writable type for the write and gives it back.
    assertEquals(0, f.mmu.mmuUpdate(f.domU, 0x152, 3, 0x5678, f.domU, false));
    assertEquals(0x5678, f.mmu.readEntry(0x152, 3));
    assertEquals(PageType.WRITABLE_PAGE, f.frames.pageType(0x152));
    assertEquals(0, f.frames.typeCount(0x152));
    assertEquals(1, f.frames.generalCount(0x152));
  }

  @Test
  void modEntryNeedsAValidatedTableOfItsLevelAndASlot() {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED).write();
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    long[] counts = t.f.counts();
    assertThrows(IllegalArgumentException.class, () -> t.mmu.modL2Entry(t.domU, L2, -1, 0));
    assertThrows(IllegalArgumentException.class, () -> t.mmu.modL2Entry(t.domU, L2, 512, 0));
    assertThrows(IllegalStateException.class, () -> t.mmu.modL3Entry(t.domU, L2, 0, 0));
    assertThrows(IllegalStateException.class, () -> t.mmu.modL2Entry(t.f.noio, L2, 0, 0));
    assertThrows(IllegalStateException.class, () -> t.mmu.modL4Entry(t.domU, 0x160, 0, 0));
    assertThrows(IllegalStateException.class, () -> t.mmu.modL1Entry(t.domU, L2, 0, 0, t.domU));
    assertThrows(IllegalStateException.class,
        () -> t.mmu.modL1Entry(t.f.noio, L1, 0, 0, t.f.noio));
    assertArrayEquals(counts, t.f.counts());
    // MMUEXT_UNPIN_TABLE of a frame another domain pinned: -EINVAL, and it stays pinned.
    assertEquals(0, t.mmu.pinTable(t.f.dom0, 0x210, PageType.L1_PAGE_TABLE));
    long[] pinned = t.f.counts();
    assertEquals(-Errno.EINVAL, t.mmu.unpinTable(t.domU, 0x210));
    assertArrayEquals(pinned, t.f.counts());
    // Slot 511 is the last one.
    assertEquals(0, t.mmu.modL2Entry(t.domU, L2, 511, 0));
  }

  @Test
  void mapGuestL1eWalksOnlyPresentNonSuperpageEntries() {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED).write();
    assertEquals(-1, t.mmu.mapGuestL1e(t.v0, VA), "no base yet");
    assertEquals(0x140000, t.mmu.newGuestCr3(t.v0, L4));
    assertEquals(L1, t.mmu.mapGuestL1e(t.v0, VA));
    // VA's L1 slot (3) does not matter: the walk stops at the L1 table.
    assertEquals(L1, t.mmu.mapGuestL1e(t.v0, VA | 0x1FF000));
    // L2 slot 5 is empty; L3 slot 2 is empty; L4 slot 1 is empty.
    assertEquals(-1, t.mmu.mapGuestL1e(t.v0, VA + (3L << 21)));
    assertEquals(-1, t.mmu.mapGuestL1e(t.v0, VA + (1L << 30)));
    assertEquals(-1, t.mmu.mapGuestL1e(t.v0, VA + (1L << 39)));
    // Xen's hole (__addr_ok): 2^47 up to HYPERVISOR_VIRT_END.
    assertEquals(-1, t.mmu.mapGuestL1e(t.v0, 1L << 47));
    assertEquals(-1, t.mmu.mapGuestL1e(t.v0, 0xFFFF_8000_0000_0000L));
    // A superpage L2 entry (PSE) leads to no L1 table; an entry naming a frame beyond the frame
    // table stops the walk. Stored behind the validator, which would refuse both.
    t.frames.storeEntry(L2, 2, Pte.fromMfn(L1, PAGE_PRESENT | PAGE_PSE));
    assertEquals(-1, t.mmu.mapGuestL1e(t.v0, VA));
    t.frames.storeEntry(L3, 1, pde(0x1000));
    assertEquals(-1, t.mmu.mapGuestL1e(t.v0, VA));
  }

  @Test
  void cacheFlushesNeedIoMemoryIoPortsOrADevice() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    PvVcpu v = f.mmu.createVcpu(f.noio, 0);
    assertEquals(-Errno.EACCES, f.mmu.flushCache(v));
    assertFalse(f.noio.mayUseCacheAttributes());
    f.noio.ioportCaps().addRange(0x3F8, 0x3FF);
    assertEquals(0, f.mmu.flushCache(v));
    assertTrue(f.noio.mayUseCacheAttributes());
    f.noio.ioportCaps().removeRange(0x3F8, 0x3FF);
    f.noio.setAssignedDeviceCount(1);
    assertEquals(0, f.mmu.flushCache(v));
    f.noio.setAssignedDeviceCount(0);
    assertEquals(-Errno.EACCES, f.mmu.flushCache(v));
    assertThrows(IllegalArgumentException.class, () -> f.noio.setAssignedDeviceCount(-1));
    // dom_io stands for a caller's rights: cache attributes are not refused to it.
    assertTrue(f.mmu.domIo().mayUseCacheAttributes());
  }
}
