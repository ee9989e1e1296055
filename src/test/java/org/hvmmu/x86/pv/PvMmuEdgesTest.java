package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_DIRTY;
import static org.hvmmu.x86.PteFlags.PAGE_GLOBAL;
import static org.hvmmu.x86.PteFlags.PAGE_PCD;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.hvmmu.x86.pv.PvFixture.RW_ABOVE;
import static org.hvmmu.x86.pv.PvFixture.pte;
import static org.hvmmu.x86.pv.TreeFixture.L1;
import static org.hvmmu.x86.pv.TreeFixture.L1B;
import static org.hvmmu.x86.pv.TreeFixture.L2;
import static org.hvmmu.x86.pv.TreeFixture.L4;
import static org.hvmmu.x86.pv.TreeFixture.VA;
import static org.hvmmu.x86.pv.TreeFixture.pde;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.Pte;
import org.hvmmu.xen.Errno;
import org.hvmmu.xen.HypervisorBugException;
import org.junit.jupiter.api.Test;

/**
 * {@link PvMmu} at the edges of its contracts, each expected value from Xen 4.22 ({@code mm.c},
 * {@code pv/ro-page-fault.c}) or from the documented contract: {@code mod_l1_entry} and {@code
 * mod_l2_entry} refuse disallowed flags before their fast paths, a frame that is not a live table
 * is not locked or written as one, every vCPU operation checks its vCPU, a partial compare and
 * exchange merges the expected value as it merges the new one, {@code MMU_PT_UPDATE_PRESERVE_AD}
 * keeps exactly A and D, and the listener hears of live entries only.
 */
class PvMmuEdgesTest {
  private static final int P = PAGE_PRESENT;
  private static final long TABLE = 0x110;

  private static TreeFixture pinnedTree(PvSwitches switches) {
    TreeFixture t = new TreeFixture(switches).write();
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    return t;
  }

  @Test
  void disallowedFlagsAreRefusedBeforeTheFastPaths() {
    // The seed's fast paths compare only P and R/W (L1) or P (L2 to L4): the flag check must
    // come first (mod_l1_entry: l1_disallow_mask; mod_l2_entry: L2_DISALLOW_MASK).
    TreeFixture t = pinnedTree(PvSwitches.SEED_2010);
    long[] counts = t.f.counts();
    long l1e = t.mmu.readEntry(L1, 3);
    assertEquals(-Errno.EINVAL, t.mmu.modL1Entry(t.domU, L1, 3, l1e | 1L << 62, t.domU),
        "the grant-table marker is never allowed");
    assertEquals(l1e, t.mmu.readEntry(L1, 3));
    long l2e = t.mmu.readEntry(L2, 2);
    assertEquals(-Errno.EINVAL, t.mmu.modL2Entry(t.domU, L2, 2, l2e | PAGE_PCD));
    assertEquals(l2e, t.mmu.readEntry(L2, 2));
    assertArrayEquals(counts, t.f.counts());
  }

  @Test
  void tablesNotInUseAreNeitherLockedNorModified() {
    TreeFixture t = pinnedTree(PvSwitches.HARDENED);
    // Pinned and unpinned: 0x160 keeps its L1 type at count 0, so page_lock refuses it.
    assertEquals(0, t.mmu.pinTable(t.domU, 0x160, PageType.L1_PAGE_TABLE));
    assertEquals(0, t.mmu.unpinTable(t.domU, 0x160));
    assertEquals(PageType.L1_PAGE_TABLE, t.frames.pageType(0x160));
    long typeInfo = t.frames.typeInfo(0x160);
    assertThrows(IllegalStateException.class,
        () -> t.mmu.modL1Entry(t.domU, 0x160, 0, 0, t.domU));
    assertEquals(typeInfo, t.frames.typeInfo(0x160));
    assertEquals(0, t.mmu.pinTable(t.domU, 0x161, PageType.L2_PAGE_TABLE));
    assertEquals(0, t.mmu.unpinTable(t.domU, 0x161));
    long l2TypeInfo = t.frames.typeInfo(0x161);
    assertThrows(IllegalStateException.class, () -> t.mmu.modL2Entry(t.domU, 0x161, 0, 0));
    assertEquals(l2TypeInfo, t.frames.typeInfo(0x161));
    // Not pinned, not PV, no such frame.
    assertEquals(-Errno.EINVAL, t.mmu.unpinTable(t.domU, 0x1000));
    assertEquals(-Errno.EINVAL, t.mmu.pinTable(t.mmu.domIo(), 0x800, PageType.L1_PAGE_TABLE));
    // An L2 entry naming an untyped frame, stored behind the validator: update_va_mapping finds
    // it as VA's L1 table but cannot lock it, and leaves its type word alone.
    t.frames.storeEntry(L2, 2, pde(0x162));
    assertEquals(0x140000, t.mmu.newGuestCr3(t.v0, L4));
    assertEquals(-Errno.EINVAL, t.mmu.updateVaMapping(t.v0, VA, 0, PvMmuAbi.UVMF_NONE, 0));
    assertEquals(0, t.frames.typeInfo(0x162));
  }

  @Test
  void nonTableFramesAreNotEmulatedOrRevalidatedAsL1Tables() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    // 0x151 is in use as a writable page and holds what looks like a writable MMIO entry.
    long entry = pte(RW_ABOVE, P | PAGE_RW);
    f.mmu.writeGuestEntry(f.domU, 0x151, 6, entry);
    assertEquals(0, f.frames.getPageType(0x151, PageType.WRITABLE_PAGE));
    f.mmioRoRanges.addSingleton(RW_ABOVE);
    assertFalse(f.mmu.revalidateMmioEntry(f.domU, 0x151, 6));
    assertEquals(entry, f.mmu.readEntry(0x151, 6));
    assertEquals(EmulationResult.UNHANDLEABLE,
        f.mmu.ptwrEmulatedUpdate(f.domU, 0x151, 48, 0, pte(0x130, P), 8, false));
    assertEquals(entry, f.mmu.readEntry(0x151, 6));
    // The offset and width checks come before the alignment check.
    assertThrows(IllegalArgumentException.class,
        () -> f.mmu.ptwrEmulatedUpdate(f.domU, TABLE, -1, 0, 0, 3, false));
    assertThrows(IllegalArgumentException.class,
        () -> f.mmu.ptwrEmulatedUpdate(f.domU, TABLE, 4096, 0, 0, 3, false));
    assertEquals(EmulationResult.UNHANDLEABLE,
        f.mmu.ptwrEmulatedUpdate(f.domU, TABLE, 4095, 0, 0, 3, false));
  }

  @Test
  void aHighHalfCompareAndExchangeMergesTheExpectedValue() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    long old = pte(0x130, P | PAGE_USER) | 1L << 63;
    f.mmu.writeGuestEntry(f.domU, TABLE, 2, old);
    assertEquals(0, f.mmu.pinL1Table(f.domU, TABLE));
    long stored = f.mmu.readEntry(TABLE, 2);
    // A 4-byte cmpxchg of bytes 4 to 7 (offset 20): expected = the stored high half (NX, bit 63,
    // is its bit 31), new = that half with NX clear.
    long high = stored >>> 32;
    assertEquals(0x8000_0000L, high);
    assertEquals(EmulationResult.OKAY,
        f.mmu.ptwrEmulatedUpdate(f.domU, TABLE, 20, high, 0, 4, true));
    assertEquals(stored & ~(1L << 63), f.mmu.readEntry(TABLE, 2));
    assertEquals(EmulationResult.CMPXCHG_FAILED,
        f.mmu.ptwrEmulatedUpdate(f.domU, TABLE, 20, high, 0, 4, true), "the half has changed");
    assertEquals(stored & ~(1L << 63), f.mmu.readEntry(TABLE, 2));
  }

  @Test
  void preserveAdKeepsExactlyTheOldAccessedAndDirtyBits() {
    TreeFixture t = pinnedTree(PvSwitches.HARDENED);
    // L2 slot 2 holds L1 with P RW U/S A; replaced by L1B read-only, without A, keeping A only.
    assertEquals(0, t.mmu.mmuUpdate(t.domU, L2, 2, Pte.fromMfn(L1B, P | PAGE_USER), t.domU,
        true));
    assertEquals(Pte.fromMfn(L1B, P | PAGE_USER | PAGE_ACCESSED), t.mmu.readEntry(L2, 2));
    // L1B slot 0 maps DATA2 with P (stored with U/S and the guest-kernel bit 52, no A or D); a
    // user mapping of 0x152 replaces it, gaining G (adjust_guest_l1e) and nothing of the old.
    long oldL1e = t.mmu.readEntry(L1B, 0);
    assertEquals(0, oldL1e & (PAGE_ACCESSED | PAGE_DIRTY));
    assertEquals(0, t.mmu.mmuUpdate(t.domU, L1B, 0, pte(0x152, P | PAGE_USER), t.domU, true));
    assertEquals(pte(0x152, P | PAGE_USER | PAGE_GLOBAL), t.mmu.readEntry(L1B, 0));
    assertEquals(List.of(), t.mmu.countViolations());
  }

  @Test
  void theListenerHearsOfLiveEntriesOnly() {
    List<String> calls = new ArrayList<>();
    RangeSet none = new IntervalTreeRangeSet("mmio_ro_ranges", RangeSet.PRETTYPRINT_HEX);
    PvMmu mmu = new PvMmu(0x1000, none, CpuFeatures.ALL, PvSwitches.HARDENED,
        (owner, table, slot, oldL1e, newL1e) -> calls.add(slot + ": " + Long.toHexString(oldL1e)
            + " -> " + Long.toHexString(newL1e)));
    Domain d = mmu.createDomain(1, false, GuestType.PV32);
    mmu.frameTable().assignRange(0x100, 0x1ff, 1);
    mmu.frameTable().assignPage(0x200, 2);
    // Slots 0 and 2 map the domain's frames, slot 1 is empty but not zero, slot 3 maps another
    // domain's frame (-EBUSY): alloc_l1_table installs 0 and 2, then undoes them, from 2 down.
    mmu.writeGuestEntry(d, TABLE, 0, pte(0x120, P));
    mmu.writeGuestEntry(d, TABLE, 1, 0x0BAD_0000L);
    mmu.writeGuestEntry(d, TABLE, 2, pte(0x122, P));
    mmu.writeGuestEntry(d, TABLE, 3, pte(0x200, P));
    assertEquals(-Errno.EBUSY, mmu.pinTable(d, TABLE, PageType.L1_PAGE_TABLE));
    assertEquals(List.of("0: 0 -> 120001", "2: 0 -> 122001", "2: 122001 -> 0",
        "0: 120001 -> 0"), calls);
    calls.clear();
    // Installed; then an update storing the same entry, and one of an empty slot, are silent.
    mmu.writeGuestEntry(d, TABLE, 3, 0);
    assertEquals(0, mmu.pinTable(d, TABLE, PageType.L1_PAGE_TABLE));
    calls.clear();
    assertEquals(0, mmu.modL1Entry(d, TABLE, 0, pte(0x120, P), d));
    assertEquals(0, mmu.modL1Entry(d, TABLE, 1, 0x0BAD_0002L, d));
    assertEquals(List.of(), calls);
    assertEquals(0, mmu.modL1Entry(d, TABLE, 2, 0, d));
    assertEquals(List.of("2: 122001 -> 0"), calls);
  }

  @Test
  void everyVcpuOperationChecksItsVcpu() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    PvFixture other = new PvFixture(PvSwitches.HARDENED);
    PvVcpu foreign = other.mmu.createVcpu(other.domU, 0);
    // A vCPU of this MMU's domain that the domain never registered.
    PvVcpu stray = new PvVcpu(f.domU, 5);
    for (PvVcpu v : new PvVcpu[] {foreign, stray}) {
      List<Consumer<PvVcpu>> ops = List.of(
          x -> f.mmu.tlbFlushLocal(x), x -> f.mmu.invlpgLocal(x, 0),
          x -> f.mmu.tlbFlushMulti(x, 1), x -> f.mmu.invlpgMulti(x, 0, 1),
          x -> f.mmu.tlbFlushAll(x), x -> f.mmu.invlpgAll(x, 0), x -> f.mmu.flushCache(x),
          x -> f.mmu.vcpuDestroyPagetables(x), x -> f.mmu.guestBaseptr(x),
          x -> f.mmu.updateVaMapping(x, 0, 0, PvMmuAbi.UVMF_NONE, 0),
          x -> f.mmu.newGuestCr3(x, 0x140));
      for (Consumer<PvVcpu> op : ops) {
        assertThrows(IllegalArgumentException.class, () -> op.accept(v), v.toString());
      }
    }
    assertThrows(IllegalArgumentException.class, () -> f.domU.vcpu(64));
    assertThrows(IllegalArgumentException.class, () -> f.domU.vcpu(-1));
  }

  @Test
  void guestBaseptrIsTheL4OrTheCompatL3() {
    TreeFixture t = pinnedTree(PvSwitches.HARDENED);
    assertEquals(PvVcpu.NO_BASEPTR, t.mmu.guestBaseptr(t.v0));
    t.mmu.newGuestCr3(t.v0, L4);
    assertEquals(L4, t.mmu.guestBaseptr(t.v0));
    CompatFixture c = new CompatFixture(PvSwitches.HARDENED).write();
    assertEquals(PvVcpu.NO_BASEPTR, c.mmu.guestBaseptr(c.v0));
    assertEquals(CompatFixture.COMPAT_L4_0 << 12, c.mmu.newGuestCr3(c.v0, CompatFixture.L3));
    assertEquals(CompatFixture.L3, c.mmu.guestBaseptr(c.v0));
    assertEquals(CompatFixture.COMPAT_L4_0, c.v0.baseptr());
  }

  @Test
  void flushTypesNeedingABitmapNeedTheBitmapOverload() {
    TreeFixture t = pinnedTree(PvSwitches.HARDENED);
    long bitmapPointer = 0x7000;
    assertThrows(IllegalArgumentException.class, () -> t.mmu.updateVaMapping(t.v0, VA, 0,
        PvMmuAbi.UVMF_TLB_FLUSH | bitmapPointer));
    assertThrows(IllegalArgumentException.class, () -> t.mmu.updateVaMapping(t.v0, VA, 0,
        PvMmuAbi.UVMF_INVLPG | bitmapPointer));
    // No flush asked: the bitmap is never read.
    t.mmu.newGuestCr3(t.v0, L4);
    t.flushes.take();
    assertEquals(0, t.mmu.updateVaMapping(t.v0, VA, 0, PvMmuAbi.UVMF_NONE | bitmapPointer));
    assertEquals(List.of(), t.flushes.take());
  }

  @Test
  void framesWithoutAnOwnerDomainAreNoTables() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    // 0x500 is free: alloc_l1_table finds no owner (-EINVAL); an L2 to L4 validation has no
    // domain to validate for, which the model reports as a bug.
    assertEquals(-Errno.EINVAL, f.frames.getPageType(0x500, PageType.L1_PAGE_TABLE));
    assertEquals(0, f.frames.typeInfo(0x500));
    assertThrows(HypervisorBugException.class,
        () -> f.frames.getPageType(0x501, PageType.L2_PAGE_TABLE));
    // An HVM domain's frame as a PV table: a bug too (requirePv).
    assertThrows(HypervisorBugException.class,
        () -> f.frames.getPageType(0x310, PageType.L3_PAGE_TABLE));
    assertSame(f.mmioRoRanges, f.mmu.mmioRoRanges());
    assertSame(PvSwitches.HARDENED, f.mmu.switches());
    assertSame(PvTlbFlush.NONE, f.mmu.tlbFlush());
  }
}
