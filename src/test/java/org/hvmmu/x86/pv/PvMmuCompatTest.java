package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_DIRTY;
import static org.hvmmu.x86.PteFlags.PAGE_NX_BIT;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.hvmmu.x86.pv.CompatFixture.COMPAT_L4_0;
import static org.hvmmu.x86.pv.CompatFixture.COMPAT_L4_1;
import static org.hvmmu.x86.pv.CompatFixture.CR0;
import static org.hvmmu.x86.pv.CompatFixture.CR4;
import static org.hvmmu.x86.pv.CompatFixture.DATA0;
import static org.hvmmu.x86.pv.CompatFixture.DATA1;
import static org.hvmmu.x86.pv.CompatFixture.DATA2;
import static org.hvmmu.x86.pv.CompatFixture.DATA3;
import static org.hvmmu.x86.pv.CompatFixture.EFER;
import static org.hvmmu.x86.pv.CompatFixture.L1_0;
import static org.hvmmu.x86.pv.CompatFixture.L1_1;
import static org.hvmmu.x86.pv.CompatFixture.L1_2;
import static org.hvmmu.x86.pv.CompatFixture.L1_3;
import static org.hvmmu.x86.pv.CompatFixture.L2_0;
import static org.hvmmu.x86.pv.CompatFixture.L2_1;
import static org.hvmmu.x86.pv.CompatFixture.L2_2;
import static org.hvmmu.x86.pv.CompatFixture.L2_3;
import static org.hvmmu.x86.pv.CompatFixture.L3;
import static org.hvmmu.x86.pv.CompatFixture.VA0;
import static org.hvmmu.x86.pv.CompatFixture.VA1;
import static org.hvmmu.x86.pv.CompatFixture.VA2;
import static org.hvmmu.x86.pv.CompatFixture.VA3;
import static org.hvmmu.x86.pv.CompatFixture.XEN_VA;
import static org.hvmmu.x86.pv.CompatFixture.adjusted;
import static org.hvmmu.x86.pv.CompatFixture.pde;
import static org.hvmmu.x86.pv.CompatFixture.pdpte;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.AddressSpaceWalker;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.PagingMode;
import org.hvmmu.mmu.Vcpu;
import org.hvmmu.x86.Pte;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;
import org.hvmmu.xen.HypervisorBugException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * 32-on-64 (compat) guests with complete PAE tables: the per-vCPU compat L4, pinning L2 and L3,
 * {@code MMUEXT_NEW_BASEPTR} through slot 0 of the compat L4, a hardware vCPU in long mode walking
 * the guest's L3, L2 and L1 tables, {@code mod_l3_entry} / {@code mod_l2_entry}, {@code
 * update_va_mapping} with 32-bit addresses, the flush requests, the PAE half-write fix-up of {@code
 * ptwr} in a live tree, tear-down to balanced counts, and the two seed defects of compat L3 tables:
 * XSA-185's writable linear L3 entry and the {@code BUG()} of {@code mod_l3_entry}'s slot-3
 * re-check.
 */
class PvMmuCompatTest {
  private static final int EINVAL = -Errno.EINVAL;
  private static final long FOUR_GIB = 1L << 32;

  /** The two presets, as a parameter. */
  enum Preset {
    SEED(PvSwitches.SEED_2010),
    HARDENED(PvSwitches.HARDENED);

    final PvSwitches switches;

    Preset(PvSwitches switches) {
      this.switches = switches;
    }
  }

  private static void assertReleased(CompatFixture c, long... tables) {
    for (long mfn : tables) {
      assertEquals(1, c.frames.generalCount(mfn), "general count of 0x" + Long.toHexString(mfn));
      assertEquals(0, c.frames.typeCount(mfn), "type count of 0x" + Long.toHexString(mfn));
    }
    assertEquals(List.of(), c.mmu.countViolations());
  }

  private static final long[] TREE = {
    L3, L2_0, L2_1, L2_2, L2_3, L1_0, L1_1, L1_2, L1_3, DATA0, DATA1, DATA2, DATA3
  };

  private static Vcpu hardware(CompatFixture c, PvVcpu v) {
    Vcpu cpu = Vcpu.create(c.frames.memory());
    assertEquals(0, cpu.loadState(CR0, v.cr3(), CR4, EFER));
    assertEquals(PagingMode.LONG_4, cpu.pagingMode());
    return cpu;
  }

  /** Every leaf mapping below 4 GiB as "la -> frame rights", in the walker's order. */
  private static List<String> mappingsBelow4G(CompatFixture c, PvVcpu v) {
    List<String> out = new ArrayList<>();
    AddressSpaceWalker w = c.walker(v);
    w.walk((la, pa, pageShift, entry, rights) -> {
      if (Long.compareUnsigned(la, FOUR_GIB) < 0) {
        String r = ((rights & AddressSpaceWalker.WRITABLE) != 0 ? "W" : "-")
            + ((rights & AddressSpaceWalker.USER) != 0 ? "U" : "-");
        out.add("0x" + Long.toHexString(la) + " -> 0x" + Long.toHexString(pa >>> 12) + " " + r);
      }
      return 0;
    });
    return out;
  }

  // ---- the compat L4 ----------------------------------------------------------------------------

  @Test
  void createVcpuShouldTurnAFreeFrameIntoXensCompatL4() {
    CompatFixture c = new CompatFixture(PvSwitches.HARDENED);
    assertEquals(COMPAT_L4_0, c.v0.compatL4());
    assertEquals(COMPAT_L4_0, c.v0.baseptr());
    assertTrue(c.v0.hasCompatL4());
    assertEquals(COMPAT_L4_0 << 12, c.v0.cr3());
    assertEquals(PvVcpu.NO_BASEPTR, c.mmu.guestBaseptr(c.v0));
    assertEquals(DomainIds.DOMID_XEN, c.frames.owner(COMPAT_L4_0));
    assertEquals(0, c.frames.generalCount(COMPAT_L4_0), "no one holds a general reference");
    assertEquals(PageType.L4_PAGE_TABLE.typeInfoBits() | PageInfo.PGT_VALIDATED | 1,
        c.frames.typeInfo(COMPAT_L4_0), "setup_compat_l4: PGT_l4_page_table|PGT_validated|1");
    // init_xen_l4_slots: slot 258 maps the L4 for Xen (__PAGE_HYPERVISOR_RW), the rest is empty.
    for (int slot = 0; slot < 512; slot++) {
      long expected = slot == PvMmuAbi.LINEAR_PT_SLOT
          ? Pte.fromMfn(COMPAT_L4_0, PAGE_PRESENT | PAGE_RW | PAGE_ACCESSED | PAGE_DIRTY
              | PAGE_NX_BIT)
          : 0;
      assertEquals(expected, c.mmu.readEntry(COMPAT_L4_0, slot), "slot " + slot);
    }
    assertEquals(0xF580_0000L, c.pae.hypervisorCompatVirtStart());
    assertEquals(0, c.f.domU.hypervisorCompatVirtStart());
    assertEquals(List.of(), c.mmu.countViolations());

    // The guest can neither map, pin, update nor write Xen's L4.
    long[] before = c.f.counts();
    assertEquals(EINVAL, c.mmu.pinTable(c.pae, COMPAT_L4_0, PageType.L1_PAGE_TABLE));
    assertEquals(EINVAL, c.mmu.mmuUpdate(c.pae, COMPAT_L4_0, 0, pdpte(L3), c.pae, false));
    assertThrows(IllegalArgumentException.class,
        () -> c.mmu.writeGuestEntry(c.pae, COMPAT_L4_0, 0, pdpte(L3)));
    assertThrows(IllegalStateException.class,
        () -> c.mmu.modL4Entry(c.pae, COMPAT_L4_0, 0, pdpte(L3)));
    assertArrayEquals(before, c.f.counts());
  }

  @Test
  void createVcpuShouldRefuseWhatCannotBeACompatL4() {
    CompatFixture c = new CompatFixture(PvSwitches.HARDENED);
    long free = 0x9f3;
    assertThrows(IllegalArgumentException.class, () -> c.mmu.createVcpu(c.f.domU, 5, free),
        "a 64-bit domain");
    assertThrows(IllegalArgumentException.class, () -> c.mmu.createVcpu(c.pae, 0, free),
        "vCPU 0 exists");
    assertThrows(IllegalArgumentException.class, () -> c.mmu.createVcpu(c.pae, 64, free));
    assertThrows(IllegalArgumentException.class, () -> c.mmu.createVcpu(c.pae, 5, 0x100000),
        "no frame-table entry");
    assertThrows(IllegalStateException.class, () -> c.mmu.createVcpu(c.pae, 5, 0x400),
        "pae's own frame");
    assertThrows(IllegalStateException.class, () -> c.mmu.createVcpu(c.pae, 5, COMPAT_L4_1),
        "another vCPU's compat L4");
    assertEquals(DomainIds.OWNER_NONE, c.frames.owner(free), "a refused vCPU takes no frame");
    assertEquals(0x7, c.pae.vcpuMask());
    // The old two-argument form still makes a vCPU, without page tables.
    PvVcpu bare = c.mmu.createVcpu(c.pae, 5);
    assertFalse(bare.hasCompatL4());
    assertEquals(0, bare.cr3());
    assertThrows(IllegalStateException.class, () -> c.mmu.newGuestCr3(bare, L3));
    assertEquals(0, c.mmu.tlbFlushLocal(bare));
    assertEquals(List.of(), c.mmu.countViolations());
  }

  // ---- pinning ----------------------------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(Preset.class)
  void pinningTheL3ShouldValidateThePaeTreeAndUnpinningReleaseIt(Preset p) {
    CompatFixture c = new CompatFixture(p.switches).write();
    // What a guest may leave in slots that do not translate, or in Xen's slots of the PAE L2.
    c.mmu.writeGuestEntry(c.pae, L3, 4, pdpte(0x205));
    c.mmu.writeGuestEntry(c.pae, L3, 511, pdpte(L2_0));
    c.mmu.writeGuestEntry(c.pae, L2_3, 428, pde(0x205));
    c.mmu.writeGuestEntry(c.pae, L2_3, 511, pde(L1_0));
    long[] before = c.f.counts();
    assertEquals(0, c.mmu.pinTable(c.pae, L3, PageType.L3_PAGE_TABLE));
    assertEquals(2, c.frames.generalCount(L3), "allocation, pin");
    assertEquals(1, c.frames.typeCount(L3));
    for (long table : new long[] {L2_0, L2_1, L2_2, L2_3, L1_0, L1_1, L1_2, L1_3}) {
      assertEquals(2, c.frames.generalCount(table), "0x" + Long.toHexString(table));
      assertEquals(1, c.frames.typeCount(table), "0x" + Long.toHexString(table));
    }
    assertEquals(PageType.L2_PAGE_TABLE, c.frames.pageType(L2_3));
    assertTrue(c.frames.isPaeXenL2(L2_3), "slot 3's L2");
    assertFalse(c.frames.isPaeXenL2(L2_0));
    assertEquals(PageType.L1_PAGE_TABLE, c.frames.pageType(L1_3));
    assertEquals(1, c.frames.typeCount(DATA0), "writable");
    assertEquals(0, c.frames.typeCount(DATA2), "read-only");
    assertEquals(2, c.frames.generalCount(DATA2));
    // alloc_l3_table: slots 0-3 get U/S and R/W, slots 4-511 are cleared.
    for (int slot = 0; slot < 4; slot++) {
      assertEquals(adjusted(new long[] {L2_0, L2_1, L2_2, L2_3}[slot]),
          c.mmu.readEntry(L3, slot));
    }
    for (int slot = 4; slot < 512; slot++) {
      assertEquals(0, c.mmu.readEntry(L3, slot), "L3 slot " + slot);
    }
    // init_xen_pae_l2_slots replaced what the guest left in Xen's slots; guest L2 entries as given.
    for (int slot = 428; slot < 512; slot++) {
      assertEquals(0, c.mmu.readEntry(L2_3, slot), "L2 slot " + slot);
    }
    assertEquals(pde(L1_3), c.mmu.readEntry(L2_3, 427));
    assertEquals(pde(L1_0), c.mmu.readEntry(L2_0, 1));
    assertEquals(List.of(), c.mmu.countViolations());

    assertEquals(0, c.mmu.unpinTable(c.pae, L3));
    assertArrayEquals(before, c.f.counts(), "unpinning the L3 releases every level");
    assertReleased(c, TREE);
    // free_l3_table: U/S and R/W go again; the cleared slots stay cleared.
    for (int slot = 0; slot < 4; slot++) {
      assertEquals(pdpte(new long[] {L2_0, L2_1, L2_2, L2_3}[slot]), c.mmu.readEntry(L3, slot));
    }
    assertEquals(0, c.mmu.readEntry(L3, 4));
    assertFalse(c.frames.isPaeXenL2(L2_3));
  }

  @ParameterizedTest
  @EnumSource(Preset.class)
  void pinsAtEveryLevelShouldEachHoldOneTypeReference(Preset p) {
    CompatFixture c = new CompatFixture(p.switches).write();
    long[] before = c.f.counts();
    assertEquals(0, c.mmu.pinTable(c.pae, L1_0, PageType.L1_PAGE_TABLE));
    assertEquals(0, c.mmu.pinTable(c.pae, L2_0, PageType.L2_PAGE_TABLE));
    // Slot 3's L2 pinned as an ordinary L2 cannot serve as the PAE L2: the L3 is refused.
    assertEquals(0, c.mmu.pinTable(c.pae, L2_3, PageType.L2_PAGE_TABLE));
    long[] mid = c.f.counts();
    assertEquals(EINVAL, c.mmu.pinTable(c.pae, L3, PageType.L3_PAGE_TABLE));
    assertArrayEquals(mid, c.f.counts());
    assertEquals(pdpte(L2_0), c.mmu.readEntry(L3, 0), "slot 0 unadjusted again");
    assertEquals(0, c.mmu.unpinTable(c.pae, L2_3));
    assertEquals(0, c.mmu.pinTable(c.pae, L3, PageType.L3_PAGE_TABLE));
    assertEquals(2, c.frames.typeCount(L1_0), "pin + L2 entry");
    assertEquals(2, c.frames.typeCount(L2_0), "pin + L3 entry");
    assertEquals(1, c.frames.typeCount(L2_3), "slot 3 alone");
    // Xen ignores MMUEXT_PIN_L4_TABLE of a 32-on-64 guest; the PAE L2 cannot be pinned.
    assertEquals(0, c.mmu.pinTable(c.pae, L3, PageType.L4_PAGE_TABLE));
    assertEquals(0, c.mmu.doMmuextOp(c.v0, PvMmuAbi.MMUEXT_PIN_L4_TABLE, 0x410, 0));
    assertEquals(0, c.frames.typeInfo(0x410));
    assertEquals(EINVAL, c.mmu.pinTable(c.pae, L2_3, PageType.L2_PAGE_TABLE));
    assertEquals(EINVAL, c.mmu.pinTable(c.pae, L3, PageType.L3_PAGE_TABLE), "already pinned");
    assertEquals(List.of(), c.mmu.countViolations());

    assertEquals(0, c.mmu.doMmuextOp(c.v0, PvMmuAbi.MMUEXT_UNPIN_TABLE, L3, 0));
    assertEquals(1, c.frames.typeCount(L2_0), "its own pin");
    assertEquals(0, c.frames.typeCount(L2_3));
    assertEquals(0, c.mmu.unpinTable(c.pae, L2_0));
    assertEquals(0, c.mmu.unpinTable(c.pae, L1_0));
    assertArrayEquals(before, c.f.counts());
    assertReleased(c, TREE);
  }

  // ---- MMUEXT_NEW_BASEPTR, the hardware walk, tear-down -----------------------------------------

  @ParameterizedTest
  @EnumSource(Preset.class)
  void aPaeTreeShouldBeSwitchedToWalkedInLongModeAndTornDown(Preset p) {
    CompatFixture c = new CompatFixture(p.switches).write();
    long[] before = c.f.counts();
    assertEquals(0, c.mmu.pinTable(c.pae, L3, PageType.L3_PAGE_TABLE));
    assertEquals(COMPAT_L4_0 << 12, c.mmu.newGuestCr3(c.v0, L3), "the CR3 stays the compat L4's");
    assertEquals(List.of("tlb d4 0x1"), c.flushes.take(), "write_ptbase flushes locally");
    // mod_l4_entry of slot 0 with P|RW|US|A (adjust_guest_l4e adds A, present already).
    assertEquals(0x0000_0000_0044_0027L, c.mmu.readEntry(COMPAT_L4_0, 0));
    assertEquals(L3, c.mmu.guestBaseptr(c.v0));
    assertEquals(COMPAT_L4_0, c.v0.baseptr());
    assertEquals(3, c.frames.generalCount(L3), "allocation, pin, compat L4 slot 0");
    assertEquals(2, c.frames.typeCount(L3));
    assertEquals(List.of(), c.mmu.countViolations());

    // The hardware walks the compat L4 (4-level long mode), its slot 0, then the guest's tables.
    Vcpu cpu = hardware(c, c.v0);
    int user = Access.USER;
    int write = Access.WRITE;
    assertEquals((DATA0 << 12) | 0x123, cpu.translate(VA0 | 0x123, write), "GiB 0, kernel");
    assertTrue(Fault.isFault(cpu.translate(VA0, user)), "DATA0 is supervisor-only");
    assertEquals((DATA1 << 12) | 0xFFF, cpu.translate(VA1 | 0xFFF, write | user), "GiB 1");
    assertEquals(DATA2 << 12, cpu.translate(VA2, user), "GiB 2");
    assertTrue(Fault.isFault(cpu.translate(VA2, write)), "DATA2 is read-only (CR0.WP)");
    assertEquals(DATA3 << 12, cpu.translate(VA3, write | user), "GiB 3, below Xen's area");
    assertTrue(Fault.isFault(cpu.translate(XEN_VA, 0)), "Xen's compat area: empty here");
    assertTrue(Fault.isFault(cpu.translate(0xFFFF_F000L, 0)), "PAE L2 slot 511");
    assertTrue(Fault.isFault(cpu.translate(FOUR_GIB, 0)), "L3 slot 4: cleared");
    assertEquals(List.of(
        "0x202000 -> 0x450 W-",
        "0x40a07000 -> 0x451 WU",
        "0xbffff000 -> 0x452 -U",
        "0xf5600000 -> 0x453 WU"), mappingsBelow4G(c, c.v0), "every mapping of the 4 GiB");

    // A second vCPU runs on its own compat L4, pointing at the same L3.
    assertEquals(COMPAT_L4_1 << 12, c.mmu.newGuestCr3(c.v1, L3));
    assertEquals(3, c.frames.typeCount(L3));
    assertEquals(DATA1 << 12, hardware(c, c.v1).translate(VA1, write | user));
    // Same base again: mod_l4_entry's fast path, then only the CR3 reload.
    long[] mid = c.f.counts();
    c.flushes.take();
    assertEquals(COMPAT_L4_1 << 12, c.mmu.newGuestCr3(c.v1, L3));
    assertArrayEquals(mid, c.f.counts());
    assertEquals(List.of("tlb d4 0x2"), c.flushes.take());

    // Tear down: unpin, then both vCPUs drop their base; the last one releases the tree.
    assertEquals(0, c.mmu.unpinTable(c.pae, L3));
    c.mmu.vcpuDestroyPagetables(c.v1);
    assertEquals(1, c.frames.typeCount(L3));
    assertEquals(List.of(), c.flushes.take(), "nothing freed yet");
    c.mmu.vcpuDestroyPagetables(c.v0);
    assertEquals(List.of("tlb d4 0x7"), c.flushes.take(), "the released tree: one flush");
    assertEquals(0, c.mmu.readEntry(COMPAT_L4_0, 0));
    assertEquals(PvVcpu.NO_BASEPTR, c.mmu.guestBaseptr(c.v0));
    assertEquals(COMPAT_L4_0, c.v0.baseptr(), "Xen's L4 stays with the vCPU");
    assertArrayEquals(before, c.f.counts());
    assertReleased(c, TREE);
    assertEquals(List.of(), mappingsBelow4G(c, c.v0));
  }

  @ParameterizedTest
  @EnumSource(Preset.class)
  void newBaseptrShouldValidateAnUnpinnedL3AndReleaseTheOldTree(Preset p) {
    CompatFixture c = new CompatFixture(p.switches).write();
    long[] before = c.f.counts();
    // Not pinned: slot 0 of the compat L4 alone holds the tree.
    assertEquals(0, c.mmu.doMmuextOp(c.v0, PvMmuAbi.MMUEXT_NEW_BASEPTR, L3 | 1L << 32, 0),
        "compat_mmuext_op's mfn is 32 bits wide");
    assertEquals(L3, c.mmu.guestBaseptr(c.v0));
    assertEquals(1, c.frames.typeCount(L3));
    assertEquals(1, c.frames.typeCount(L2_3));
    assertEquals(1, c.frames.typeCount(L1_0));
    c.flushes.take();
    // Switch to another L3 (slot 3 -> a fresh L2): the CR3 reload, then the old tree goes.
    c.mmu.writeGuestEntry(c.pae, 0x460, 3, pdpte(0x461));
    assertEquals(COMPAT_L4_0 << 12, c.mmu.newGuestCr3(c.v0, 0x460));
    assertEquals(List.of("tlb d4 0x1", "tlb d4 0x7"), c.flushes.take());
    assertReleased(c, TREE);
    assertEquals(1, c.frames.typeCount(0x460));
    assertTrue(c.frames.isPaeXenL2(0x461));
    assertEquals(List.of(), mappingsBelow4G(c, c.v0), "the new L3 maps nothing yet");
    c.mmu.vcpuDestroyPagetables(c.v0);
    assertEquals(List.of("tlb d4 0x7"), c.flushes.take());
    assertArrayEquals(before, c.f.counts());
  }

  @Test
  void newBaseptrShouldRefuseWhatIsNotAPaeL3OfTheDomain() {
    CompatFixture c = new CompatFixture(PvSwitches.HARDENED).write();
    assertEquals(0, c.mmu.pinTable(c.pae, L2_0, PageType.L2_PAGE_TABLE));
    long[] before = c.f.counts();
    assertEquals(EINVAL, c.mmu.newGuestCr3(c.v0, L2_0), "an L2 table");
    assertEquals(EINVAL, c.mmu.newGuestCr3(c.v0, 0x205), "dom0's frame");
    assertEquals(EINVAL, c.mmu.newGuestCr3(c.v0, 0x100000), "no frame-table entry");
    assertEquals(EINVAL, c.mmu.newGuestCr3(c.v0, PvFixture.RW_IN_TABLE), "dom_io's MMIO");
    assertEquals(EINVAL, c.mmu.newGuestCr3(c.v0, COMPAT_L4_0), "its own compat L4");
    assertEquals(EINVAL, c.mmu.newGuestCr3(c.v0, COMPAT_L4_1), "another vCPU's compat L4");
    c.mmu.writeGuestEntry(c.pae, 0x460, 0, pdpte(L2_1));
    assertEquals(EINVAL, c.mmu.newGuestCr3(c.v0, 0x460), "an L3 without slot 3");
    // L3 [3] -> L2 [0] -> L1 [3] -> dom0's frame: the L1 refuses, -EBUSY reaches the caller.
    c.mmu.writeGuestEntry(c.pae, 0x461, 3, pdpte(0x462));
    c.mmu.writeGuestEntry(c.pae, 0x462, 0, pde(0x463));
    c.mmu.writeGuestEntry(c.pae, 0x463, 3, Pte.fromMfn(0x205, PAGE_PRESENT));
    assertEquals(-Errno.EBUSY, c.mmu.newGuestCr3(c.v0, 0x461), "an L1 two levels down fails");
    assertArrayEquals(before, c.f.counts());
    assertEquals(0, c.mmu.readEntry(COMPAT_L4_0, 0));
    assertEquals(List.of("tlb d4 0x7"), c.flushes.take(),
        "no CR3 load; one flush for the subtree of L2_1, validated and released again");
    // A refusal with a base installed keeps it.
    assertEquals(COMPAT_L4_0 << 12, c.mmu.newGuestCr3(c.v0, L3));
    long installed = c.mmu.readEntry(COMPAT_L4_0, 0);
    c.flushes.take();
    assertEquals(EINVAL, c.mmu.newGuestCr3(c.v0, L2_0));
    assertEquals(installed, c.mmu.readEntry(COMPAT_L4_0, 0));
    assertEquals(List.of(), c.flushes.take());
    assertEquals(List.of(), c.mmu.countViolations());
  }

  // ---- mod_l3_entry, mod_l2_entry, update_va_mapping --------------------------------------------

  @ParameterizedTest
  @EnumSource(Preset.class)
  void modEntriesShouldReplaceSubtreesWithCountsBalanced(Preset p) {
    CompatFixture c = new CompatFixture(p.switches).write();
    long[] before = c.f.counts();
    assertEquals(0, c.mmu.pinTable(c.pae, L3, PageType.L3_PAGE_TABLE));
    c.mmu.newGuestCr3(c.v0, L3);
    c.flushes.take();
    // A new subtree for GiB 1: L2 0x460 [5] -> L1 0x461 [7] -> 0x462.
    c.mmu.writeGuestEntry(c.pae, 0x460, 5, pde(0x461));
    c.mmu.writeGuestEntry(c.pae, 0x461, 7, Pte.fromMfn(0x462, PAGE_PRESENT | PAGE_RW | PAGE_USER));
    assertEquals(0, c.mmu.modL3Entry(c.pae, L3, 1, pdpte(0x460)));
    assertEquals(adjusted(0x460), c.mmu.readEntry(L3, 1));
    assertReleased(c, L2_1, L1_1, DATA1);
    assertEquals(List.of("tlb d4 0x7"), c.flushes.take(), "the released subtree");
    Vcpu cpu = hardware(c, c.v0);
    assertEquals(0x462L << 12, cpu.translate(VA1, Access.WRITE | Access.USER));

    // Through mmu_update: the PAE L2's guest slot 427 swapped; XSA-286 flushes under hardened.
    c.mmu.writeGuestEntry(c.pae, 0x463, 0, Pte.fromMfn(0x464, PAGE_PRESENT | PAGE_USER));
    assertEquals(0, c.mmu.mmuUpdate(c.pae, L2_3, 427, pde(0x463), c.pae, false));
    assertReleased(c, L1_3, DATA3);
    List<String> expected = p == Preset.HARDENED
        ? List.of("tlb d4 0x7", "tlb d4 0x7")
        : List.of("tlb d4 0x7");
    assertEquals(expected, c.flushes.take(), "free flush, then (hardened) XSA-286's");
    cpu.flushAll();
    assertEquals(0x464L << 12, cpu.translate(VA3, Access.USER));
    // Xen's slots of the PAE L2 and slot 3 and up of the L3 refuse mmu_update.
    assertEquals(-Errno.EPERM, c.mmu.mmuUpdate(c.pae, L2_3, 428, pde(0x463), c.pae, false));
    assertEquals(EINVAL, c.mmu.mmuUpdate(c.pae, L3, 3, pdpte(0x460), c.pae, false));
    assertEquals(EINVAL, c.mmu.mmuUpdate(c.pae, L3, 2, pdpte(L2_2), c.mmu.domIo(), false),
        "a foreign page owner");

    // Clearing L3 slot 0 releases GiB 0; the L3 stays (pin and base).
    assertEquals(0, c.mmu.modL3Entry(c.pae, L3, 0, 0));
    assertReleased(c, L2_0, L1_0, DATA0);
    cpu.flushAll();
    assertTrue(Fault.isFault(cpu.translate(VA0, 0)));
    assertEquals(0, c.mmu.unpinTable(c.pae, L3));
    c.mmu.vcpuDestroyPagetables(c.v0);
    assertArrayEquals(before, c.f.counts());
    assertReleased(c, L3, L2_2, L2_3, 0x460, 0x461, 0x462, 0x463, 0x464);
  }

  @ParameterizedTest
  @EnumSource(Preset.class)
  void updateVaMappingShouldTakeThirtyTwoBitAddresses(Preset p) {
    CompatFixture c = new CompatFixture(p.switches).write();
    assertEquals(0, c.mmu.pinTable(c.pae, L3, PageType.L3_PAGE_TABLE));
    c.mmu.newGuestCr3(c.v1, L3);
    c.flushes.take();
    long val = Pte.fromMfn(0x460, PAGE_PRESENT | PAGE_RW);
    // compat_update_va_mapping(unsigned int va, ...): bits 63:32 never reach Xen.
    assertEquals(0, c.mmu.updateVaMapping(c.v1, VA1 | 1L << 40, val,
        PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_ALL));
    assertEquals(List.of("one d4 0x7 0x40a07000"), c.flushes.take());
    assertEquals(val, c.mmu.readEntry(L1_1, 7), "compat L1 entries are not adjusted");
    assertEquals(0, c.frames.typeCount(DATA1));
    assertEquals(1, c.frames.typeCount(0x460));
    assertEquals(0, c.mmu.updateVaMapping(c.v1, VA3, val, PvMmuAbi.UVMF_TLB_FLUSH
        | PvMmuAbi.UVMF_LOCAL));
    assertEquals(List.of("tlb d4 0x2"), c.flushes.take());
    assertEquals(2, c.frames.typeCount(0x460));
    long[] before = c.f.counts();
    long all = PvMmuAbi.UVMF_TLB_FLUSH | PvMmuAbi.UVMF_ALL;
    assertEquals(EINVAL, c.mmu.updateVaMapping(c.v1, XEN_VA, val, all), "Xen's compat area");
    assertEquals(EINVAL, c.mmu.updateVaMapping(c.v1, VA1 + (1L << 21), val, all), "no L2 entry");
    assertEquals(EINVAL, c.mmu.updateVaMapping(c.v0, VA1, val, all), "v0 has no L3 yet");
    assertArrayEquals(before, c.f.counts());
    assertEquals(List.of(), c.flushes.take());
    // MMUEXT_INVLPG_*: arg1 is 32 bits wide too.
    assertEquals(0, c.mmu.doMmuextOp(c.v1, PvMmuAbi.MMUEXT_INVLPG_LOCAL, VA2 | 1L << 32, 0));
    assertEquals(List.of("one d4 0x2 0xbffff000"), c.flushes.take());
    assertEquals(List.of(), c.mmu.countViolations());
  }

  @ParameterizedTest
  @EnumSource(Preset.class)
  void ptwrPaeHalfWritesShouldWorkInALiveTree(Preset p) {
    // A PAE guest rewrites its L1 entry for VA1 as two 4-byte stores, high half first: the
    // half-made entry (frame 0x100451, which pae may not map) is installed not present, the low
    // half completes frame 0x100005, an MMIO frame of pae's iomem_caps.
    CompatFixture c = new CompatFixture(p.switches).write();
    assertEquals(0, c.mmu.pinTable(c.pae, L3, PageType.L3_PAGE_TABLE));
    c.mmu.newGuestCr3(c.v0, L3);
    Vcpu cpu = hardware(c, c.v0);
    int userWrite = Access.WRITE | Access.USER;
    assertEquals(DATA1 << 12, cpu.translate(VA1, userWrite));
    assertEquals(0x0045_1067L, c.mmu.readEntry(L1_1, 7), "the write set A and D");
    int offset = 7 * 8;
    assertEquals(EmulationResult.OKAY,
        c.mmu.ptwrEmulatedUpdate(c.pae, L1_1, offset + 4, 0, 1, 4, false));
    assertEquals(0x0000_0001_0045_1066L, c.mmu.readEntry(L1_1, 7), "high half in, P cleared");
    assertEquals(0, c.frames.typeCount(DATA1), "the old entry's references went");
    cpu.invlpg(VA1);
    assertTrue(Fault.isFault(cpu.translate(VA1, userWrite)), "not present in between");
    assertEquals(EmulationResult.OKAY,
        c.mmu.ptwrEmulatedUpdate(c.pae, L1_1, offset, 0, 0x0000_5007L, 4, false));
    // Hardened forces MMIO uncached: PCD|PWT flipped in (0x18).
    long expected = p == Preset.HARDENED ? 0x0000_0001_0000_501FL : 0x0000_0001_0000_5007L;
    assertEquals(expected, c.mmu.readEntry(L1_1, 7));
    assertEquals(expected, c.f.reported.get(Long.toHexString(L1_1) + "/7"));
    cpu.invlpg(VA1);
    assertEquals(0x1_0000_5000L, cpu.translate(VA1, userWrite));
    assertEquals(List.of(), c.mmu.countViolations());
  }

  // ---- failures, adjustments and flushes --------------------------------------------------------

  @Test
  void aSharedSlot3L2ShouldBeRefusedWithNothingKept() {
    // pae_xen_mappings_check: another L3 naming the same L2 in slot 3 fails with -EINVAL. Today's
    // Xen keeps the L2's reference it took for the refused L3 (it tears down from slot 2); the
    // model gives it back, as the seed did, so that the counts balance.
    for (Preset p : Preset.values()) {
      CompatFixture c = new CompatFixture(p.switches).write();
      assertEquals(0, c.mmu.pinTable(c.pae, L3, PageType.L3_PAGE_TABLE));
      c.mmu.writeGuestEntry(c.pae, 0x460, 0, pdpte(L2_0));
      c.mmu.writeGuestEntry(c.pae, 0x460, 3, pdpte(L2_3));
      long[] before = c.f.counts();
      assertEquals(EINVAL, c.mmu.pinTable(c.pae, 0x460, PageType.L3_PAGE_TABLE), p.name());
      assertEquals(EINVAL, c.mmu.newGuestCr3(c.v0, 0x460), p.name());
      assertArrayEquals(before, c.f.counts(), p.name());
      assertEquals(1, c.frames.typeCount(L2_3));
      assertEquals(List.of(), c.mmu.countViolations());
    }
  }

  @Test
  void xensAdjustmentsOfL3EntriesShouldGoWhenTheTableDoes() {
    CompatFixture c = new CompatFixture(PvSwitches.HARDENED).write();
    // The guest sets A (PAE PDPTEs do not have it); Xen adds U/S and R/W; release takes all three.
    c.mmu.writeGuestEntry(c.pae, L3, 0, Pte.fromMfn(L2_0, PAGE_PRESENT | PAGE_ACCESSED));
    assertEquals(0, c.mmu.pinTable(c.pae, L3, PageType.L3_PAGE_TABLE));
    assertEquals(adjusted(L2_0) | PAGE_ACCESSED, c.mmu.readEntry(L3, 0));
    c.mmu.newGuestCr3(c.v0, L3);
    // The processor sets A in the entries it walks, U/S and R/W let it through.
    hardware(c, c.v0).translate(VA2, Access.USER);
    assertEquals(adjusted(L2_2) | PAGE_ACCESSED, c.mmu.readEntry(L3, 2));
    c.mmu.vcpuDestroyPagetables(c.v0);
    assertEquals(0, c.mmu.unpinTable(c.pae, L3));
    for (int slot = 0; slot < 4; slot++) {
      assertEquals(pdpte(new long[] {L2_0, L2_1, L2_2, L2_3}[slot]), c.mmu.readEntry(L3, slot),
          "unadjust_guest_l3e: slot " + slot);
    }
    assertReleased(c, TREE);
  }

  @Test
  void domainsWithoutVcpusShouldGetNoFlushCalls() {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    FlushRecorder flushes = new FlushRecorder();
    f.mmu.setTlbFlush(flushes);
    f.mmu.writeGuestEntry(f.pae, 0x460, 3, pdpte(0x461));
    assertEquals(0, f.mmu.pinTable(f.pae, 0x460, PageType.L3_PAGE_TABLE));
    assertEquals(0, f.mmu.mmuUpdate(f.pae, 0x460, 0, pdpte(0x462), f.pae, false));
    assertEquals(0, f.mmu.unpinTable(f.pae, 0x460));
    assertEquals(List.of(), flushes.take());
    assertEquals(List.of(), f.mmu.countViolations());
  }

  // ---- the seed's compat L3 defects ------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(Preset.class)
  void seedShouldLetACompatGuestWriteItsOwnL1ThroughALinearL3Entry(Preset p) {
    // XSA-185: a read-only self-map in L3 slot 1 passes get_l3_linear_pagetable in the seed, then
    // adjust_guest_l3e adds R/W. Walked as L3 -> L3 (as L2) -> L2 (as L1), GiB 1 maps the guest's
    // page tables writable: the guest stores an L1 entry for dom0's frame that Xen never checked.
    CompatFixture c = new CompatFixture(p.switches).write();
    assertEquals(0, c.mmu.pinTable(c.pae, L3, PageType.L3_PAGE_TABLE));
    c.mmu.newGuestCr3(c.v0, L3);
    long[] before = c.f.counts();
    int rc = c.mmu.modL3Entry(c.pae, L3, 1, pdpte(L3));
    if (p == Preset.HARDENED) {
      assertEquals(EINVAL, rc, "c844d637d9: no linear L3 entries for 32-on-64 guests");
      assertArrayEquals(before, c.f.counts());
      assertEquals(adjusted(L2_1), c.mmu.readEntry(L3, 1));
      return;
    }
    assertEquals(0, rc);
    assertEquals(adjusted(L3), c.mmu.readEntry(L3, 1), "a writable self-map");
    Vcpu cpu = hardware(c, c.v0);
    // GiB 1, "L2" slot 0 = L3 slot 0 (-> L2_0 as an L1), "L1" slot 1 = L2_0 slot 1 -> L1_0.
    long window = (1L << 30) | (0L << 21) | (1L << 12);
    int kernelWrite = Access.WRITE;
    assertEquals(L1_0 << 12, cpu.translate(window, kernelWrite));
    long foreign = Pte.fromMfn(0x205, PAGE_PRESENT | PAGE_RW);
    cpu.write(window + 5 * 8, 8, foreign, kernelWrite);
    assertEquals(0, cpu.lastFault());
    assertEquals(foreign, c.mmu.readEntry(L1_0, 5), "never validated");
    long foreignVa = VA0 - (2L << 12) + (5L << 12);
    assertEquals(0x205L << 12, cpu.translate(foreignVa, kernelWrite), "dom0's frame, writable");
  }

  @Test
  void seedShouldBugWhenAnL3ChangesWhileItsSlot3L2IsMappedLinearly() {
    // The seed's mod_l3_entry re-checks slot 3 after every validated change and BUG()s when its
    // L2 holds a second type reference, which a read-only linear entry of another L2 adds.
    for (PvSwitches switches : List.of(PvSwitches.SEED_2010, PvSwitches.HARDENED,
        PvSwitches.HARDENED.withCompatL3UpdateRechecksSlot3(true))) {
      CompatFixture c = new CompatFixture(switches).write();
      assertEquals(0, c.mmu.pinTable(c.pae, L3, PageType.L3_PAGE_TABLE));
      long linear = Pte.fromMfn(L2_3, PAGE_PRESENT | PAGE_USER | PAGE_ACCESSED);
      assertEquals(0, c.mmu.modL2Entry(c.pae, L2_0, 9, linear));
      assertEquals(2, c.frames.typeCount(L2_3));
      assertEquals(List.of(), c.mmu.countViolations());
      c.mmu.writeGuestEntry(c.pae, 0x460, 0, pde(L1_0));
      if (switches.compatL3UpdateRechecksSlot3()) {
        HypervisorBugException bug = assertThrows(HypervisorBugException.class,
            () -> c.mmu.modL3Entry(c.pae, L3, 1, pdpte(0x460)));
        assertTrue(bug.getMessage().contains("shared"), bug.getMessage());
        continue;
      }
      assertEquals(0, c.mmu.modL3Entry(c.pae, L3, 1, pdpte(0x460)), "a4cde0266d: no re-check");
      assertEquals(0, c.mmu.modL2Entry(c.pae, L2_0, 9, 0));
      assertEquals(0, c.mmu.unpinTable(c.pae, L3));
      assertReleased(c, L3, L2_0, L2_2, L2_3, 0x460, L1_0);
    }
  }
}
