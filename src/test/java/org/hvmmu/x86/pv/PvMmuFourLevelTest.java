package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_GUEST_KERNEL;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.hvmmu.x86.pv.TreeFixture.DATA;
import static org.hvmmu.x86.pv.TreeFixture.DATA2;
import static org.hvmmu.x86.pv.TreeFixture.L1;
import static org.hvmmu.x86.pv.TreeFixture.L1B;
import static org.hvmmu.x86.pv.TreeFixture.L2;
import static org.hvmmu.x86.pv.TreeFixture.L3;
import static org.hvmmu.x86.pv.TreeFixture.L4;
import static org.hvmmu.x86.pv.TreeFixture.VA;
import static org.hvmmu.x86.pv.TreeFixture.VA2;
import static org.hvmmu.x86.pv.TreeFixture.pde;
import static org.hvmmu.x86.pv.TreeFixture.ro;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.Vcpu;
import org.hvmmu.x86.Pte;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Complete 4-level PV page tables: pinning at every level, {@code MMUEXT_NEW_BASEPTR}, subtrees
 * replaced through {@code mod_lN_entry}, {@code update_va_mapping} and the {@code MMUEXT} TLB
 * operations with exactly the flush requests Xen makes, Xen's own flushes, and a hardware vCPU
 * walking the tables the MMU validated in the same memory.
 */
class PvMmuFourLevelTest {
  private static final int EINVAL = -Errno.EINVAL;

  /** The two presets, as a parameter. */
  enum Preset {
    SEED(PvSwitches.SEED_2010),
    HARDENED(PvSwitches.HARDENED);

    final PvSwitches switches;

    Preset(PvSwitches switches) {
      this.switches = switches;
    }
  }

  /** Every frame's general count is its allocation and its type count 0 ("counts back to zero"). */
  private static void assertAllReleased(TreeFixture t, long... tables) {
    for (long mfn : tables) {
      assertEquals(1, t.frames.generalCount(mfn), "general count of 0x" + Long.toHexString(mfn));
      assertEquals(0, t.frames.typeCount(mfn), "type count of 0x" + Long.toHexString(mfn));
    }
    assertEquals(List.of(), t.mmu.countViolations());
  }

  // ---- pin and unpin at every level --------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(Preset.class)
  void pinningTheL4ShouldValidateTheWholeTreeAndUnpinningReleaseIt(Preset p) {
    TreeFixture t = new TreeFixture(p.switches).write();
    long[] before = t.f.counts();
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    // Each table: its allocation plus the one reference that holds it.
    assertEquals(2, t.frames.generalCount(L4));
    assertEquals(1, t.frames.typeCount(L4));
    for (long table : new long[] {L3, L2, L1, L1B}) {
      assertEquals(2, t.frames.generalCount(table), "0x" + Long.toHexString(table));
      assertEquals(1, t.frames.typeCount(table), "0x" + Long.toHexString(table));
    }
    assertEquals(PageType.L3_PAGE_TABLE, t.frames.pageType(L3));
    assertEquals(PageType.L2_PAGE_TABLE, t.frames.pageType(L2));
    assertEquals(PageType.L1_PAGE_TABLE, t.frames.pageType(L1));
    assertEquals(PageType.WRITABLE_PAGE, t.frames.pageType(DATA));
    assertEquals(1, t.frames.typeCount(DATA));
    assertEquals(List.of(), t.mmu.countViolations());

    assertEquals(0, t.mmu.unpinTable(t.domU, L4));
    assertArrayEquals(before, t.f.counts(), "unpinning the root releases every level");
    assertAllReleased(t, L4, L3, L2, L1, L1B, DATA, DATA2);
  }

  @ParameterizedTest
  @EnumSource(Preset.class)
  void pinsAtEveryLevelShouldEachHoldOneTypeReference(Preset p) {
    TreeFixture t = new TreeFixture(p.switches).write();
    long[] before = t.f.counts();
    // Bottom up: each pin of a level adds one to its own type count only.
    assertEquals(0, t.mmu.pinTable(t.domU, L1, PageType.L1_PAGE_TABLE));
    assertEquals(0, t.mmu.pinTable(t.domU, L2, PageType.L2_PAGE_TABLE));
    assertEquals(0, t.mmu.pinTable(t.domU, L3, PageType.L3_PAGE_TABLE));
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    assertEquals(2, t.frames.typeCount(L1), "pin + L2 entry");
    assertEquals(2, t.frames.typeCount(L2), "pin + L3 entry");
    assertEquals(2, t.frames.typeCount(L3), "pin + L4 entry");
    assertEquals(1, t.frames.typeCount(L4), "pin");
    assertEquals(3, t.frames.generalCount(L1), "allocation + pin + L2 entry");
    assertEquals(List.of(), t.mmu.countViolations());

    // Xen's errors.
    assertEquals(EINVAL, t.mmu.pinTable(t.domU, L2, PageType.L2_PAGE_TABLE), "already pinned");
    assertEquals(EINVAL, t.mmu.pinTable(t.domU, L2, PageType.L3_PAGE_TABLE), "in use as L2");
    assertEquals(EINVAL, t.mmu.pinTable(t.domU, 0x205, PageType.L2_PAGE_TABLE), "dom0's frame");
    assertEquals(EINVAL, t.mmu.pinTable(t.domU, 0x100000, PageType.L3_PAGE_TABLE), "no frame");
    assertEquals(EINVAL, t.mmu.unpinTable(t.domU, L1B), "not pinned");
    assertEquals(List.of(), t.mmu.countViolations());

    // Top down: the tables below stay while their own pins hold them.
    assertEquals(0, t.mmu.unpinTable(t.domU, L4));
    assertEquals(1, t.frames.typeCount(L3));
    assertEquals(0, t.mmu.unpinTable(t.domU, L3));
    assertEquals(1, t.frames.typeCount(L2));
    assertEquals(1, t.frames.typeCount(L1B), "still held by L2's entry");
    assertEquals(0, t.mmu.unpinTable(t.domU, L2));
    assertEquals(0, t.frames.typeCount(L1B), "released with L2");
    assertEquals(1, t.frames.typeCount(L1), "its own pin");
    assertEquals(0, t.mmu.unpinTable(t.domU, L1));
    assertArrayEquals(before, t.f.counts());
    assertAllReleased(t, L4, L3, L2, L1, L1B, DATA, DATA2);
  }

  @Test
  void pinTableShouldFollowXenForOtherGuestsAndTypes() {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED);
    assertEquals(EINVAL, t.mmu.pinTable(t.f.hvm, 0x310, PageType.L2_PAGE_TABLE), "not PV");
    assertEquals(0, t.mmu.pinTable(t.f.pae, 0x410, PageType.L4_PAGE_TABLE), "ignored, 0");
    assertEquals(0, t.frames.typeInfo(0x410), "and nothing happened");
    // A 32-on-64 guest pins an L2 as an ordinary L2 (PvMmuCompatTest has the rest).
    assertEquals(0, t.mmu.pinTable(t.f.pae, 0x410, PageType.L2_PAGE_TABLE));
    assertEquals(0, t.mmu.unpinTable(t.f.pae, 0x410));
    assertThrows(IllegalArgumentException.class,
        () -> t.mmu.pinTable(t.domU, 0x160, PageType.WRITABLE_PAGE));
    // pinTable gives the validation's errno; pinL1Table keeps its -EINVAL.
    t.mmu.writeGuestEntry(t.domU, 0x160, 0, Pte.fromMfn(0x205, PAGE_PRESENT));
    assertEquals(-Errno.EBUSY, t.mmu.pinTable(t.domU, 0x160, PageType.L1_PAGE_TABLE));
    assertEquals(EINVAL, t.mmu.pinL1Table(t.domU, 0x160));
    assertEquals(List.of(), t.mmu.countViolations());
  }

  // ---- MMUEXT_NEW_BASEPTR, a full tree, the hardware walk ------------------------------------

  @ParameterizedTest
  @EnumSource(Preset.class)
  void aFullTreeShouldBeBuiltPinnedSwitchedToWalkedAndTornDown(Preset p) {
    TreeFixture t = new TreeFixture(p.switches).write();
    long[] before = t.f.counts();
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    assertEquals(L4 << 12, t.mmu.newGuestCr3(t.v0, L4));
    assertEquals(L4, t.v0.baseptr());
    assertEquals(List.of("tlb d1 0x1"), t.flushes.take(), "the CR3 load flushes locally");
    assertEquals(3, t.frames.generalCount(L4), "allocation, pin, base");
    assertEquals(2, t.frames.typeCount(L4), "pin, base");
    assertEquals(List.of(), t.mmu.countViolations());

    // One memory, one truth: a hardware vCPU walks exactly what the MMU validated.
    Vcpu cpu = Vcpu.create(t.frames.memory());
    assertEquals(0, cpu.loadState(0x80050033L, t.v0.cr3(), 0x20, 0xD00));
    assertEquals((DATA << 12) | 0x123, cpu.translate(VA | 0x123, Access.WRITE | Access.USER));
    assertEquals(DATA2 << 12, cpu.translate(VA2, Access.USER));
    long fault = cpu.translate(VA2, Access.WRITE | Access.USER);
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(fault), "DATA2 is mapped read-only");
    // Xen's own slot 258 maps the L4 for supervisor accesses only.
    long linear = 0xFFFF_8100_0000_0000L;
    assertTrue(Fault.isFault(cpu.translate(linear, Access.USER)));

    // A second vCPU shares the root.
    assertEquals(L4 << 12, t.mmu.newGuestCr3(t.v1, L4));
    assertEquals(3, t.frames.typeCount(L4));
    // Same base again: only CR3 is reloaded.
    long[] mid = t.f.counts();
    t.flushes.take();
    assertEquals(L4 << 12, t.mmu.newGuestCr3(t.v1, L4));
    assertArrayEquals(mid, t.f.counts());
    assertEquals(List.of("tlb d1 0x2"), t.flushes.take());

    // Tear down: unpin, then both vCPUs drop the base; the last one releases every level.
    assertEquals(0, t.mmu.unpinTable(t.domU, L4));
    t.mmu.vcpuDestroyPagetables(t.v1);
    assertEquals(1, t.frames.typeCount(L4));
    assertEquals(List.of(), t.flushes.take(), "nothing freed yet");
    t.mmu.vcpuDestroyPagetables(t.v0);
    assertEquals(PvVcpu.NO_BASEPTR, t.v0.baseptr());
    assertEquals(0, t.v0.cr3());
    assertEquals(List.of("tlb d1 0x7"), t.flushes.take(), "the released tree: one flush");
    assertArrayEquals(before, t.f.counts());
    assertAllReleased(t, L4, L3, L2, L1, L1B, DATA, DATA2);
  }

  @ParameterizedTest
  @EnumSource(Preset.class)
  void newBaseptrShouldValidateAnUnpinnedL4AndReleaseTheOldTree(Preset p) {
    TreeFixture t = new TreeFixture(p.switches).write();
    long[] before = t.f.counts();
    // Not pinned: the base alone holds the tree.
    assertEquals(L4 << 12, t.mmu.newGuestCr3(t.v0, L4));
    assertEquals(1, t.frames.typeCount(L4));
    assertEquals(1, t.frames.typeCount(L1));
    t.flushes.take();
    // Switch to an empty L4: the old tree goes, with one flush of the domain after the CR3 load.
    long other = 0x148;
    assertEquals(other << 12, t.mmu.newGuestCr3(t.v0, other));
    assertEquals(List.of("tlb d1 0x1", "tlb d1 0x7"), t.flushes.take());
    assertAllReleased(t, L4, L3, L2, L1, L1B, DATA, DATA2);
    assertEquals(1, t.frames.typeCount(other));
    t.mmu.vcpuDestroyPagetables(t.v0);
    assertArrayEquals(before, t.f.counts());
  }

  @Test
  void newBaseptrShouldRefuseWhatIsNotAnL4OfTheDomain() {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED).write();
    assertEquals(0, t.mmu.pinTable(t.domU, L3, PageType.L3_PAGE_TABLE));
    long[] before = t.f.counts();
    assertEquals(EINVAL, t.mmu.newGuestCr3(t.v0, L3), "an L3 table");
    assertEquals(EINVAL, t.mmu.newGuestCr3(t.v0, 0x205), "dom0's frame");
    assertEquals(EINVAL, t.mmu.newGuestCr3(t.v0, 0x100000), "no frame");
    t.mmu.writeGuestEntry(t.domU, 0x148, 3, pde(0x205));
    assertEquals(EINVAL, t.mmu.newGuestCr3(t.v0, 0x148), "an L4 that fails validation");
    t.mmu.writeGuestEntry(t.domU, 0x149, 3, pde(0x14a));
    t.mmu.writeGuestEntry(t.domU, 0x14a, 0, pde(0x14b));
    t.mmu.writeGuestEntry(t.domU, 0x14b, 0, pde(0x14c));
    t.mmu.writeGuestEntry(t.domU, 0x14c, 0, Pte.fromMfn(0x205, PAGE_PRESENT));
    assertEquals(-Errno.EBUSY, t.mmu.newGuestCr3(t.v0, 0x149), "an L1 deep below fails");
    assertArrayEquals(before, t.f.counts());
    assertEquals(PvVcpu.NO_BASEPTR, t.v0.baseptr());
    assertEquals(List.of(), t.flushes.take(), "a refused switch loads nothing");
    assertEquals(EINVAL, t.mmu.doMmuextOp(t.v0, PvMmuAbi.MMUEXT_NEW_BASEPTR, L3, 0));
    assertEquals(0, t.mmu.doMmuextOp(t.v0, PvMmuAbi.MMUEXT_NEW_BASEPTR, L4, 0));
    assertEquals(L4, t.v0.baseptr());
    // A 32-on-64 vCPU made without its compat L4 has nothing to switch.
    assertThrows(IllegalStateException.class,
        () -> t.mmu.newGuestCr3(t.mmu.createVcpu(t.f.pae, 0), 0x410));
  }

  // ---- mod_lN_entry replacing subtrees -----------------------------------------------------------

  @ParameterizedTest
  @EnumSource(Preset.class)
  void modEntriesShouldReplaceSubtreesWithCountsBalanced(Preset p) {
    TreeFixture t = new TreeFixture(p.switches).write();
    long[] before = t.f.counts();
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    assertEquals(L4 << 12, t.mmu.newGuestCr3(t.v0, L4));
    t.flushes.take();
    // A new subtree under L3 slot 1: L2' 0x152 -> L1' 0x153 -> data 0x154.
    t.mmu.writeGuestEntry(t.domU, 0x152, 2, pde(0x153));
    t.mmu.writeGuestEntry(t.domU, 0x153, 3, Pte.fromMfn(0x154, PAGE_PRESENT | PAGE_RW));
    assertEquals(0, t.mmu.modL3Entry(t.domU, L3, 1, pde(0x152)));
    // The old L2 subtree is gone entirely; one flush for it (mod_l3_entry itself flushes not).
    assertAllReleased(t, L2, L1, L1B, DATA, DATA2);
    assertEquals(List.of("tlb d1 0x7"), t.flushes.take());
    assertEquals(1, t.frames.typeCount(0x152));
    assertEquals(1, t.frames.typeCount(0x153));
    assertEquals(1, t.frames.typeCount(0x154));
    Vcpu cpu = Vcpu.create(t.frames.memory());
    cpu.loadState(0x80050033L, t.v0.cr3(), 0x20, 0xD00);
    assertEquals(0x154L << 12, cpu.translate(VA, Access.WRITE | Access.USER));

    // Through mmu_update: an L2 entry swapped for another L1; XSA-286 flushes under hardened.
    t.mmu.writeGuestEntry(t.domU, 0x155, 3, Pte.fromMfn(0x156, PAGE_PRESENT));
    assertEquals(0, t.mmu.mmuUpdate(t.domU, 0x152, 2, pde(0x155), t.domU, false));
    assertAllReleased(t, 0x153, 0x154);
    List<String> expected = p == Preset.HARDENED
        ? List.of("tlb d1 0x7", "tlb d1 0x7")
        : List.of("tlb d1 0x7");
    assertEquals(expected, t.flushes.take(), "free flush, then (hardened) XSA-286's");

    // Xen's L4 slots refuse mmu_update too; a foreign page owner is refused for L2 to L4.
    assertEquals(EINVAL, t.mmu.mmuUpdate(t.domU, L4, 260, pde(L3), t.domU, false));
    assertEquals(EINVAL, t.mmu.mmuUpdate(t.domU, L3, 5, pde(0x152), t.mmu.domIo(), false));

    // Removing the L4 entry releases everything below; the root stays (pin and base).
    assertEquals(0, t.mmu.modL4Entry(t.domU, L4, 0, 0));
    assertAllReleased(t, L3, 0x152, 0x155, 0x156);
    assertEquals(0, t.mmu.unpinTable(t.domU, L4));
    t.mmu.vcpuDestroyPagetables(t.v0);
    assertArrayEquals(before, t.f.counts());
  }

  @ParameterizedTest
  @EnumSource(Preset.class)
  void preserveAdShouldKeepTheOldAccessedAndDirtyBits(Preset p) {
    TreeFixture t = new TreeFixture(p.switches).write();
    assertEquals(0, t.mmu.pinTable(t.domU, L2, PageType.L2_PAGE_TABLE));
    // Pretend the processor set A and D in the L2 entry, then rewrite it without them.
    long ad = pde(L1) | org.hvmmu.x86.PteFlags.PAGE_DIRTY;
    assertEquals(0, t.mmu.mmuUpdate(t.domU, L2, 2, ad, t.domU, false));
    long bare = Pte.fromMfn(L1, PAGE_PRESENT | PAGE_RW | PAGE_USER);
    assertEquals(0, t.mmu.mmuUpdate(t.domU, L2, 2, bare, t.domU, true));
    assertEquals(ad, t.mmu.readEntry(L2, 2));
    assertEquals(0, t.mmu.mmuUpdate(t.domU, L2, 2, bare, t.domU, false));
    assertEquals(bare, t.mmu.readEntry(L2, 2));
    assertEquals(List.of(), t.mmu.countViolations());
  }

  // ---- update_va_mapping -----------------------------------------------------------------------

  private static final long BITMAP_POINTER = 0x7000_1000L;

  static Stream<Arguments> uvmfFlags() {
    String va = "0x" + Long.toHexString(VA);
    return Stream.of(
        Arguments.of("UVMF_NONE", PvMmuAbi.UVMF_NONE, 0L, List.of()),
        Arguments.of("UVMF_TLB_FLUSH|UVMF_LOCAL", PvMmuAbi.UVMF_TLB_FLUSH | PvMmuAbi.UVMF_LOCAL, 0L,
            List.of("tlb d1 0x2")),
        Arguments.of("UVMF_TLB_FLUSH|UVMF_ALL", PvMmuAbi.UVMF_TLB_FLUSH | PvMmuAbi.UVMF_ALL, 0L,
            List.of("tlb d1 0x7")),
        Arguments.of("UVMF_TLB_FLUSH|UVMF_MULTI {0,2}",
            PvMmuAbi.UVMF_TLB_FLUSH | PvMmuAbi.UVMF_MULTI | BITMAP_POINTER, 0b101L,
            List.of("tlb d1 0x5")),
        Arguments.of("UVMF_TLB_FLUSH|UVMF_MULTI {0,1,40}: 40 does not exist",
            PvMmuAbi.UVMF_TLB_FLUSH | BITMAP_POINTER, 0b11L | 1L << 40, List.of("tlb d1 0x3")),
        Arguments.of("UVMF_TLB_FLUSH|UVMF_MULTI {5}: no such vCPU, no flush",
            PvMmuAbi.UVMF_TLB_FLUSH | BITMAP_POINTER, 1L << 5, List.of()),
        Arguments.of("UVMF_INVLPG|UVMF_LOCAL", PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL, 0L,
            List.of("one d1 0x2 " + va)),
        Arguments.of("UVMF_INVLPG|UVMF_ALL", PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_ALL, 0L,
            List.of("one d1 0x7 " + va)),
        Arguments.of("UVMF_INVLPG|UVMF_MULTI {1,2}", PvMmuAbi.UVMF_INVLPG | BITMAP_POINTER,
            0b110L, List.of("one d1 0x6 " + va)),
        Arguments.of("flush type 3: neither", 3L, 0L, List.of()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("uvmfFlags")
  void updateVaMappingShouldFlushExactlyAsItsFlagsAsk(
      String name, long flags, long bitmap, List<String> expected) {
    for (Preset p : Preset.values()) {
      TreeFixture t = new TreeFixture(p.switches).write();
      assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
      assertEquals(L4 << 12, t.mmu.newGuestCr3(t.v1, L4));
      t.flushes.take();
      long val = Pte.fromMfn(0x157, PAGE_PRESENT | PAGE_RW);
      assertEquals(0, t.mmu.updateVaMapping(t.v1, VA, val, flags, bitmap));
      assertEquals(expected, t.flushes.take(), p + " " + name);
      // mod_l1_entry did the update: adjusted, old data frame released, new one typed writable.
      assertEquals(val | PAGE_USER | (long) PAGE_GUEST_KERNEL << 40, t.mmu.readEntry(L1, 3));
      assertEquals(0, t.frames.typeCount(DATA));
      assertEquals(1, t.frames.typeCount(0x157));
      assertEquals(List.of(), t.mmu.countViolations());
      if ((bitmap == 0) || flags == 3) {
        // The overload without a bitmap agrees when no bitmap is involved.
        assertEquals(0, t.mmu.updateVaMapping(t.v1, VA, 0, flags));
        assertEquals(expected, t.flushes.take());
      }
    }
  }

  @Test
  void updateVaMappingShouldRefuseWithoutFlushing() {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED).write();
    long val = Pte.fromMfn(0x157, PAGE_PRESENT | PAGE_RW);
    long all = PvMmuAbi.UVMF_TLB_FLUSH | PvMmuAbi.UVMF_ALL;
    assertEquals(EINVAL, t.mmu.updateVaMapping(t.v0, VA, val, all), "no base yet");
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    t.mmu.newGuestCr3(t.v0, L4);
    t.flushes.take();
    long[] before = t.f.counts();
    assertEquals(-Errno.EBUSY, t.mmu.updateVaMapping(t.v0, VA,
        Pte.fromMfn(0x205, PAGE_PRESENT), all), "mod_l1_entry's reject");
    assertEquals(EINVAL, t.mmu.updateVaMapping(t.v0, VA | 1L << 39, val, all), "no L4 entry");
    assertEquals(EINVAL, t.mmu.updateVaMapping(t.v0, VA ^ 1L << 30, val, all), "no L3 entry");
    assertEquals(EINVAL, t.mmu.updateVaMapping(t.v0, VA + (1L << 21), val, all), "no L2 entry");
    assertEquals(EINVAL, t.mmu.updateVaMapping(t.v0, 0xFFFF_8000_0000_0000L | VA, val, all),
        "Xen's hole");
    assertEquals(EINVAL, t.mmu.updateVaMapping(t.v0, 0x0000_8000_0000_0000L | VA, val, all),
        "non-canonical");
    // An L2 entry that maps an L2 linearly: the "L1" found is not an L1 table.
    assertEquals(0, t.mmu.modL2Entry(t.domU, L2, 5, ro(L2)));
    assertEquals(EINVAL, t.mmu.updateVaMapping(t.v0, (1L << 30) | (5L << 21), val, all));
    assertEquals(0, t.mmu.modL2Entry(t.domU, L2, 5, 0));
    assertArrayEquals(before, t.f.counts());
    assertEquals(List.of(), t.flushes.take(), "a failed update flushes nothing");
    assertThrows(IllegalArgumentException.class, () -> t.mmu.updateVaMapping(t.v0, VA, val,
        PvMmuAbi.UVMF_INVLPG | BITMAP_POINTER));
  }

  @Test
  void updateVaMappingShouldForceReadOnlyMmioReadOnly() {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED).write();
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    t.mmu.newGuestCr3(t.v0, L4);
    assertEquals(0, t.mmu.updateVaMapping(t.v0, VA, Pte.fromMfn(PvFixture.RO_ABOVE,
        PAGE_PRESENT | PAGE_RW | PAGE_USER), PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL));
    assertFalse(Pte.isPresentWritable(t.mmu.readEntry(L1, 3)));
    assertEquals(t.mmu.readEntry(L1, 3), t.f.reported.get(Long.toHexString(L1) + "/3"),
        "the listener saw the change");
  }

  // ---- MMUEXT TLB operations -------------------------------------------------------------------

  private static final long HOLE = 0xFFFF_8000_0000_1000L;
  private static final long NON_CANONICAL = 0x0000_8000_0000_1000L;

  static Stream<Arguments> mmuextOps() {
    return Stream.of(
        Arguments.of("TLB_FLUSH_LOCAL", PvMmuAbi.MMUEXT_TLB_FLUSH_LOCAL, 0L, 0L, 0,
            List.of("tlb d1 0x4")),
        Arguments.of("INVLPG_LOCAL", PvMmuAbi.MMUEXT_INVLPG_LOCAL, VA, 0L, 0,
            List.of("one d1 0x4 0x" + Long.toHexString(VA))),
        Arguments.of("INVLPG_LOCAL in Xen's hole: canonical, flushed",
            PvMmuAbi.MMUEXT_INVLPG_LOCAL, HOLE, 0L, 0,
            List.of("one d1 0x4 0x" + Long.toHexString(HOLE))),
        Arguments.of("INVLPG_LOCAL non-canonical: ignored", PvMmuAbi.MMUEXT_INVLPG_LOCAL,
            NON_CANONICAL, 0L, 0, List.of()),
        Arguments.of("TLB_FLUSH_MULTI {0,1}", PvMmuAbi.MMUEXT_TLB_FLUSH_MULTI, 0L, 0b11L, 0,
            List.of("tlb d1 0x3")),
        Arguments.of("TLB_FLUSH_MULTI {}", PvMmuAbi.MMUEXT_TLB_FLUSH_MULTI, 0L, 0L, 0, List.of()),
        Arguments.of("TLB_FLUSH_MULTI {3}: no such vCPU", PvMmuAbi.MMUEXT_TLB_FLUSH_MULTI, 0L,
            0b1000L, 0, List.of()),
        Arguments.of("INVLPG_MULTI {1,2}", PvMmuAbi.MMUEXT_INVLPG_MULTI, VA, 0b110L, 0,
            List.of("one d1 0x6 0x" + Long.toHexString(VA))),
        Arguments.of("INVLPG_MULTI in Xen's hole: skipped", PvMmuAbi.MMUEXT_INVLPG_MULTI, HOLE,
            0b110L, 0, List.of()),
        Arguments.of("TLB_FLUSH_ALL", PvMmuAbi.MMUEXT_TLB_FLUSH_ALL, 0L, 0L, 0,
            List.of("tlb d1 0x7")),
        Arguments.of("INVLPG_ALL", PvMmuAbi.MMUEXT_INVLPG_ALL, VA, 0L, 0,
            List.of("one d1 0x7 0x" + Long.toHexString(VA))),
        Arguments.of("INVLPG_ALL non-canonical: skipped", PvMmuAbi.MMUEXT_INVLPG_ALL,
            NON_CANONICAL, 0L, 0, List.of()),
        Arguments.of("FLUSH_CACHE: no TLB", PvMmuAbi.MMUEXT_FLUSH_CACHE, 0L, 0L, 0, List.of()),
        Arguments.of("FLUSH_CACHE_GLOBAL", PvMmuAbi.MMUEXT_FLUSH_CACHE_GLOBAL, 0L, 0L, 0,
            List.of()),
        Arguments.of("14: no such command", 14, 0L, 0L, -Errno.ENOSYS, List.of()),
        Arguments.of("21: no such command", 21, 0L, 0L, -Errno.ENOSYS, List.of()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("mmuextOps")
  void mmuextTlbOpsShouldMakeExactlyXensFlushRequests(
      String name, int cmd, long arg1, long arg2, int rc, List<String> expected) {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED);
    assertEquals(rc, t.mmu.doMmuextOp(t.v2, cmd, arg1, arg2));
    assertEquals(expected, t.flushes.take());
  }

  @Test
  void mmuextOpsShouldHaveXensNumbersAndFlushCacheNeedsIoResources() {
    // xen/include/public/xen.h.
    int[] numbers = {
      PvMmuAbi.MMUEXT_PIN_L1_TABLE, PvMmuAbi.MMUEXT_PIN_L2_TABLE, PvMmuAbi.MMUEXT_PIN_L3_TABLE,
      PvMmuAbi.MMUEXT_PIN_L4_TABLE, PvMmuAbi.MMUEXT_UNPIN_TABLE, PvMmuAbi.MMUEXT_NEW_BASEPTR,
      PvMmuAbi.MMUEXT_TLB_FLUSH_LOCAL, PvMmuAbi.MMUEXT_INVLPG_LOCAL,
      PvMmuAbi.MMUEXT_TLB_FLUSH_MULTI, PvMmuAbi.MMUEXT_INVLPG_MULTI,
      PvMmuAbi.MMUEXT_TLB_FLUSH_ALL, PvMmuAbi.MMUEXT_INVLPG_ALL, PvMmuAbi.MMUEXT_FLUSH_CACHE,
      PvMmuAbi.MMUEXT_SET_LDT
    };
    for (int i = 0; i < numbers.length; i++) {
      assertEquals(i, numbers[i]);
    }
    assertEquals(15, PvMmuAbi.MMUEXT_NEW_USER_BASEPTR);
    assertEquals(18, PvMmuAbi.MMUEXT_FLUSH_CACHE_GLOBAL);
    assertEquals(20, PvMmuAbi.MMUEXT_UNMARK_SUPER);
    assertEquals(3, PvMmuAbi.UVMF_FLUSHTYPE_MASK);
    assertEquals(4, PvMmuAbi.UVMF_ALL);

    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    PvVcpu noio = f.mmu.createVcpu(f.noio, 0);
    assertEquals(-Errno.EACCES, f.mmu.flushCache(noio));
    assertEquals(0, f.mmu.flushCache(f.mmu.createVcpu(f.domU, 0)), "domU has I/O memory");
    assertThrows(UnsupportedOperationException.class,
        () -> f.mmu.doMmuextOp(noio, PvMmuAbi.MMUEXT_SET_LDT, 0, 0));
  }

  @Test
  void mmuextPinsShouldGoThroughPinTable() {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED).write();
    assertEquals(0, t.mmu.doMmuextOp(t.v0, PvMmuAbi.MMUEXT_PIN_L4_TABLE, L4, 0));
    assertEquals(0, t.mmu.doMmuextOp(t.v0, PvMmuAbi.MMUEXT_PIN_L2_TABLE, L2, 0));
    assertEquals(EINVAL, t.mmu.doMmuextOp(t.v0, PvMmuAbi.MMUEXT_PIN_L1_TABLE, L2, 0));
    assertEquals(2, t.frames.typeCount(L2));
    assertEquals(0, t.mmu.doMmuextOp(t.v0, PvMmuAbi.MMUEXT_UNPIN_TABLE, L4, 0));
    assertEquals(0, t.mmu.doMmuextOp(t.v0, PvMmuAbi.MMUEXT_UNPIN_TABLE, L2, 0));
    assertAllReleased(t, L4, L3, L2, L1, L1B, DATA, DATA2);
  }

  // ---- Xen's own flushes -----------------------------------------------------------------------

  @Test
  void revalidationShouldLeaveTheFlushToItsCaller() {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED);
    t.mmu.writeGuestEntry(t.domU, 0x160, 0, Pte.fromMfn(PvFixture.RW_ABOVE, PAGE_PRESENT | PAGE_RW));
    assertEquals(0, t.mmu.pinTable(t.domU, 0x160, PageType.L1_PAGE_TABLE));
    assertEquals(List.of(), t.flushes.take());
    assertFalse(t.mmu.revalidateMmioEntry(t.domU, 0x160, 0), "not read-only yet");
    assertEquals(List.of(), t.flushes.take());
    t.f.mmioRoRanges.addSingleton(PvFixture.RW_ABOVE);
    assertTrue(t.mmu.revalidateMmioEntry(t.domU, 0x160, 0));
    // The host flushes (FlushSwitches.pvRevalidate), so that the flush can be switched off.
    assertEquals(List.of(), t.flushes.take());
  }

  @Test
  void aWritableFrameBecomingATableShouldFlushStaleWritableTranslations() {
    TreeFixture t = new TreeFixture(PvSwitches.HARDENED).write();
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    t.mmu.newGuestCr3(t.v0, L4);
    t.flushes.take();
    // The guest maps frame 0x158 writable, then unmaps it without flushing (its own business) ...
    long val = Pte.fromMfn(0x158, PAGE_PRESENT | PAGE_RW);
    assertEquals(0, t.mmu.updateVaMapping(t.v0, VA, val, PvMmuAbi.UVMF_NONE));
    assertEquals(0, t.mmu.updateVaMapping(t.v0, VA, 0, PvMmuAbi.UVMF_NONE));
    assertEquals(List.of(), t.flushes.take());
    // ... then pins it as an L1: Xen flushes so that no stale writable translation survives.
    assertEquals(0, t.mmu.pinTable(t.domU, 0x158, PageType.L1_PAGE_TABLE));
    assertEquals(List.of("tlb d1 0x7"), t.flushes.take());
    // Released and used as data again: the table's release flushed already, the retype not again.
    assertEquals(0, t.mmu.unpinTable(t.domU, 0x158));
    assertEquals(List.of("tlb d1 0x7"), t.flushes.take());
    assertEquals(0, t.mmu.updateVaMapping(t.v0, VA, val, PvMmuAbi.UVMF_NONE));
    assertEquals(List.of(), t.flushes.take());
  }

  @Test
  void domainsWithoutVcpusShouldGetNoFlushCalls() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    FlushRecorder flushes = new FlushRecorder();
    f.mmu.setTlbFlush(flushes);
    f.mmu.writeGuestEntry(f.domU, 0x160, 0, pde(0x161));
    assertEquals(0, f.mmu.pinTable(f.domU, 0x160, PageType.L2_PAGE_TABLE));
    assertEquals(0, f.mmu.unpinTable(f.domU, 0x160));
    assertEquals(List.of(), flushes.take());
  }

  // ---- the seed's fast path, seen by the hardware --------------------------------------------

  @ParameterizedTest
  @EnumSource(Preset.class)
  void seedFastPathShouldLetTheGuestWriteItsOwnL1AndMapReadOnlyMmioWritable(Preset p) {
    // XSA-182 in full: a read-only self-map in the L2 is made writable through the fast path; the
    // L2 then serves as an L1 in the hardware walk, so the guest writes its L1 table with ordinary
    // stores and maps a frame of mmio_ro_ranges writable, validation bypassed.
    TreeFixture t = new TreeFixture(p.switches).write();
    assertEquals(0, t.mmu.pinTable(t.domU, L4, PageType.L4_PAGE_TABLE));
    long cr3 = t.mmu.newGuestCr3(t.v0, L4);
    int self = 9;
    assertEquals(0, t.mmu.modL2Entry(t.domU, L2, self, ro(L2)));
    int rc = t.mmu.modL2Entry(t.domU, L2, self, pde(L2));
    assertEquals(p == Preset.SEED ? 0 : EINVAL, rc);
    Vcpu cpu = Vcpu.create(t.frames.memory());
    cpu.loadState(0x80050033L, cr3, 0x20, 0xD00);
    // L4 0, L3 1, L2 9 (the self-map: L2 read as an L1), "L1" slot 2 -> the L1 table 0x143.
    long l1Window = (1L << 30) | ((long) self << 21) | (2L << 12);
    int userWrite = Access.WRITE | Access.USER;
    long pa = cpu.translate(l1Window, userWrite);
    if (p == Preset.HARDENED) {
      assertTrue(Fault.isFault(pa), "the L1 table stays read-only to the guest");
      assertEquals(L1 << 12, cpu.translate(l1Window, Access.USER), "though readable");
      return;
    }
    assertEquals(L1 << 12, pa);
    // Write slot 5 of the L1 table: the read-only MMIO frame 0x800, P|RW|US.
    long mmio = Pte.fromMfn(PvFixture.RO_IN_TABLE, PAGE_PRESENT | PAGE_RW | PAGE_USER);
    cpu.write(l1Window + 5 * 8, 8, mmio, userWrite);
    assertEquals(0, cpu.lastFault());
    assertEquals(mmio, t.mmu.readEntry(L1, 5), "never validated");
    long mmioVa = VA - (3L << 12) + (5L << 12);
    assertEquals(PvFixture.RO_IN_TABLE << 12, cpu.translate(mmioVa, userWrite),
        "mmio_ro_ranges frame writable");
  }
}
