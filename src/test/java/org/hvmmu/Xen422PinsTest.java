package org.hvmmu;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_DIRTY;
import static org.hvmmu.x86.PteFlags.PAGE_PAT;
import static org.hvmmu.x86.PteFlags.PAGE_PCD;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_PWT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.hvmmu.host.FlushSwitches;
import org.hvmmu.host.Policy;
import org.hvmmu.p2m.P2mAccess;
import org.hvmmu.p2m.P2mDomainConfig;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.PtP2mFlags;
import org.hvmmu.p2m.ept.EptEntry;
import org.hvmmu.p2m.ept.EptP2mFlags;
import org.hvmmu.p2m.shadow.ShadowFlags;
import org.hvmmu.pci.msix.PbaSizing;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.rangeset.XenListRangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.Domain;
import org.hvmmu.x86.pv.GuestType;
import org.hvmmu.x86.pv.L1eValidator;
import org.hvmmu.x86.pv.MmioRelax;
import org.hvmmu.x86.pv.PvMmu;
import org.hvmmu.x86.pv.PvSwitches;
import org.hvmmu.xen.HypervisorBugException;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 13 section 1: {@link Policy#XEN_4_22}, module by module, pinned to Xen 4.22.0
 * (RELEASE-4.22.0). Every switch set below is taken from the policy, never from another preset,
 * and every expected value is worked out by hand in the comment above it from the 4.22 source
 * file named there or from the reference ({@code xen-semantics.md}, {@code msix-emulation.md}).
 * The guest walk is pinned in {@code mmu/xen/GuestWalkXen422Test}; the host-level paths (MSI-X
 * lifecycle, write faults, msixtbl, sub-page) in {@code host/HostXen422Test} and the access tests
 * named in {@code docs/policy.md}, section "Xen 4.22, function by function".
 */
class Xen422PinsTest {
  private static final Policy XEN = Policy.XEN_4_22;

  /**
   * {@code get_page_from_l1e} and {@code mod_l1_entry}, {@code xen/arch/x86/mm.c} at 4.22, with
   * {@code XEN_MSR_PAT} from {@code xen/arch/x86/include/asm/processor.h}: PAT index
   * PAT(bit 7)*4 + PCD(bit 4)*2 + PWT(bit 3) selects 0 WB, 1 WT, 2 UC-, 3 UC, 4 WC, 5 WP, 6 UC,
   * 7 UC. For WB, WT and WP the flip gets {@code (l1f & PAGE_CACHE_ATTRS) ^ _PAGE_UC}, where
   * {@code _PAGE_UC} is PCD|PWT = 0x18; UC-, UC and WC are left alone. A frame in {@code
   * mmio_ro_ranges} with R/W also gets R/W (0x2) in the flip; {@code mmio-relax} only returns 0
   * early for frames outside {@code mmio_ro_ranges} (reference section 4.3, steps 4 to 6).
   */
  @Nested
  class PvEntryValidation {
    /** dom_io frames 0x800-0x80f; 0x800 is in mmio_ro_ranges, 0x802 is not. */
    private static final long RO_FRAME = 0x800;
    private static final long RW_FRAME = 0x802;
    private static final long TABLE = 0x110;

    private final RangeSet mmioRo = new IntervalTreeRangeSet("r/o", RangeSet.PRETTYPRINT_HEX);
    private PvMmu mmu;
    private Domain dom0;
    private Domain domU;

    private void host(PvSwitches switches) {
      mmu = new PvMmu(0x1000, mmioRo, CpuFeatures.ALL, switches);
      dom0 = mmu.createDomain(0, true, GuestType.PV64);
      domU = mmu.createDomain(1, false, GuestType.PV64);
      mmu.frameTable().assignRange(0x100, 0x1ff, 1);
      mmu.frameTable().assignRange(0x200, 0x2ff, 0);
      mmu.frameTable().shareWithDomIo(0x800, 0x80f);
      mmioRo.addRange(RO_FRAME, RO_FRAME + 1);
      domU.iomemCaps().addRange(0x800, 0x80f);
      dom0.iomemCaps().addRange(0x800, 0x80f);
    }

    /**
     * The cache part of the flip, by PAT index: WB (0) 0x00 ^ 0x18 = 0x18; WT (1, PWT) 0x08 ^
     * 0x18 = 0x10; WP (5, PAT|PWT) 0x88 ^ 0x18 = 0x90; the others 0.
     */
    private static final int[] CACHE_FLIP = {0x18, 0x10, 0, 0, 0, 0x90, 0, 0};

    private static int cacheBits(int patIndex) {
      return ((patIndex & 4) != 0 ? PAGE_PAT : 0) | ((patIndex & 2) != 0 ? PAGE_PCD : 0)
          | ((patIndex & 1) != 0 ? PAGE_PWT : 0);
    }

    @Test
    void theSwitchesShouldBeXens() {
      PvSwitches pv = XEN.pv();
      // 4.22 has no IS_PRIV exemption, forces UC (XSA-154), mmio-relax defaults to 0
      // (opt_mmio_relax), and checks both owners' iomem_access_permitted.
      assertEquals(false, pv.privilegedExemption());
      assertEquals(true, pv.forceUncachedMmio());
      assertEquals(MmioRelax.OFF, pv.mmioRelax());
      assertEquals(true, pv.l1eOwnerNeedsIomemPermission());
      assertEquals(true, pv.fastPathComparesCacheBits());
      // FASTPATH_FLAG_WHITELIST (mm.c): NX (1 << 23) | AVAIL_HIGH (0x7ff << 12) | AVAIL (0xe00)
      // | G 0x100 | D 0x40 | A 0x20 | U 0x4 = 0x800000 + 0x7ff000 + 0xe00 + 0x164 = 0xffff64.
      assertEquals(0xffff64, L1eValidator.FASTPATH_FLAG_WHITELIST);
    }

    @Test
    void flipMaskShouldBeXensForEveryPatIndexRwAndRange() {
      host(XEN.pv());
      for (int pat = 0; pat < 8; pat++) {
        for (boolean rw : new boolean[] {false, true}) {
          int flags = PAGE_PRESENT | PAGE_USER | (rw ? PAGE_RW : 0) | cacheBits(pat);
          int inRo = (rw ? PAGE_RW : 0) | CACHE_FLIP[pat];
          assertEquals(inRo, mmu.validator().getPageFromL1e(Pte.fromMfn(RO_FRAME, flags), domU,
              domU), "in mmio_ro_ranges, PAT index " + pat + ", rw " + rw);
          assertEquals(CACHE_FLIP[pat], mmu.validator().getPageFromL1e(
              Pte.fromMfn(RW_FRAME, flags), domU, domU), "outside, PAT index " + pat);
        }
      }
    }

    @ParameterizedTest(name = "mmio-relax {0}")
    @EnumSource(MmioRelax.class)
    void mmioRelaxShouldSpareOnlyFramesOutsideTheReadOnlySet(MmioRelax relax) {
      host(XEN.pv().withMmioRelax(relax));
      long wbRw = Pte.fromMfn(RW_FRAME, PAGE_PRESENT | PAGE_RW);
      long wbRo = Pte.fromMfn(RO_FRAME, PAGE_PRESENT | PAGE_RW);
      // opt_mmio_relax 0: nobody; 1: is_hardware_domain(l1e_owner) only; -1 (all): everybody.
      boolean domURelaxed = relax == MmioRelax.ALL;
      boolean dom0Relaxed = relax != MmioRelax.OFF;
      assertEquals(domURelaxed ? 0 : 0x18, mmu.validator().getPageFromL1e(wbRw, domU, domU));
      assertEquals(dom0Relaxed ? 0 : 0x18, mmu.validator().getPageFromL1e(wbRw, dom0, dom0));
      // A read-only frame is never relaxed: R/W 0x2 plus WB's 0x18 = 0x1a, dom0 included.
      assertEquals(0x1a, mmu.validator().getPageFromL1e(wbRo, domU, domU));
      assertEquals(0x1a, mmu.validator().getPageFromL1e(wbRo, dom0, dom0));
    }

    @Test
    void modL1EntryShouldStoreTheFlippedEntryAndRevalidateCacheChanges() {
      host(XEN.pv());
      assertEquals(0, mmu.pinL1Table(domU, TABLE));
      // mod_l1_entry XORs the flip into the entry (l1e_flip_flags): P|RW|U WB on the r/o frame
      // becomes P|U|PCD|PWT = 0x1 | 0x4 | 0x18 = 0x1d. adjust_guest_l1e may add U, G and the
      // guest-kernel bit (bit 52) to a 64-bit guest's entry; those are masked off here.
      long asked = Pte.fromMfn(RO_FRAME, PAGE_PRESENT | PAGE_RW | PAGE_USER);
      assertEquals(0, mmu.modL1Entry(domU, TABLE, 0, asked, domU));
      assertEquals(0x1d, Pte.getFlags(mmu.readEntry(TABLE, 0)) & 0xff);
      // Writing it back with A|D set changes only whitelisted flags: the fast path, as stored.
      long stored = mmu.readEntry(TABLE, 0);
      assertEquals(0, mmu.modL1Entry(domU, TABLE, 0, stored | PAGE_ACCESSED | PAGE_DIRTY, domU));
      assertEquals(0x7d, Pte.getFlags(mmu.readEntry(TABLE, 0)) & 0xff);
      // Clearing PCD|PWT (WB again) is outside FASTPATH_FLAG_WHITELIST: re-validated (XSA-182),
      // the flip 0x18 applies again and the entry stays UC: 0x7d.
      long writeBack = Pte.removeFlags(stored | PAGE_ACCESSED | PAGE_DIRTY, PAGE_PCD | PAGE_PWT);
      assertEquals(0, mmu.modL1Entry(domU, TABLE, 0, writeBack, domU));
      assertEquals(0x7d, Pte.getFlags(mmu.readEntry(TABLE, 0)) & 0xff);
    }
  }

  /**
   * {@code p2m_type_to_flags} ({@code xen/arch/x86/mm/p2m-pt.c}), {@code ept_p2m_type_to_flags}
   * and {@code epte_get_entry_emt} ({@code xen/arch/x86/mm/p2m-ept.c}) and the read-only step of
   * {@code _sh_propagate} ({@code xen/arch/x86/mm/shadow/multi.c}) at 4.22, with the switches of
   * {@link Policy#XEN_4_22} (reference sections 5.2, 5.3 and 6).
   */
  @Nested
  class P2mFlags {
    private static final long RO = 0xfee00;
    private static final long RW = 0xfee02;
    private final RangeSet mmioRo = new IntervalTreeRangeSet("r/o", RangeSet.PRETTYPRINT_HEX);

    P2mFlags() {
      mmioRo.addRange(RO, RO + 1);
    }

    private P2mSwitches s() {
      return XEN.p2m();
    }

    /**
     * Flags are 24-bit: type (t & 0x7f) << 12, NX 0x800000; BASE = P|U|A|D = 0x65, RW 0x2, UC-
     * = PCD 0x10, UC = PCD|PWT 0x18, type codes of today's p2m.h.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
      // ram_rw 0: BASE|RW = 0x67.
      "RAM_RW, 000067, 000067",
      // ram_logdirty 2: (2 << 12) | BASE = 0x2065.
      "RAM_LOGDIRTY, 002065, 002065",
      // mmio_dm 4: (4 << 12) | NX = 0x804000.
      "MMIO_DM, 804000, 804000",
      // mmio_direct 5: (5 << 12) | BASE | RW | UC- = 0x5077; r/o: BASE | UC = 0x507d.
      "MMIO_DIRECT, 005077, 00507D",
      // grant_map_ro 8: (8 << 12) | BASE | NX = 0x808065.
      "GRANT_MAP_RO, 808065, 808065",
      // map_foreign 14: (0xe << 12) | BASE | RW | NX = 0x80e067.
      "MAP_FOREIGN, 80E067, 80E067"
    })
    void ptFlagsShouldBeXens(P2mType type, String outside, String inside) {
      assertEquals(Integer.parseInt(outside, 16),
          PtP2mFlags.typeToFlags(s(), type, RW, 0, mmioRo, false));
      assertEquals(Integer.parseInt(inside, 16),
          PtP2mFlags.typeToFlags(s(), type, RO, 0, mmioRo, false));
    }

    @Test
    void ptFlagsShouldAssertOnAReadOnlySuperpage() {
      // ASSERT(!level) in the mmio_direct case when the frame is in mmio_ro_ranges.
      assertThrows(HypervisorBugException.class,
          () -> PtP2mFlags.typeToFlags(s(), P2mType.MMIO_DIRECT, RO, 1, mmioRo, false));
    }

    /** r 0x1, w 0x2, x 0x4, a 0x100, d 0x200, on a processor with EPT A/D. */
    @ParameterizedTest(name = "{0} r/o {1}")
    @CsvSource({
      // mmio_direct: r = x = 1, w = !mmio_ro, a = AD, d = w && AD.
      "MMIO_DIRECT, false, 307",
      "MMIO_DIRECT, true, 105",
      // ram_rw: rwx, a and d = AD.
      "RAM_RW, false, 307",
      // grant_map_ro: r only, a = AD, d = 0.
      "GRANT_MAP_RO, false, 101",
      // mmio_dm: nothing, a and d untouched (0 here).
      "MMIO_DM, false, 0"
    })
    void eptFlagsShouldBeXens(P2mType type, boolean readOnly, String want) {
      long entry = EptEntry.withMfn(0L, readOnly ? RO : RW);
      long got = EptP2mFlags.typeToFlags(s(), new CpuFeatures(true, true, false),
          P2mDomainConfig.DEFAULT, mmioRo, entry, type.code(s().era()), P2mAccess.RWX);
      long mask = EptEntry.RWX_MASK | EptEntry.A | EptEntry.D;
      assertEquals(Long.parseLong(want, 16), got & mask);
    }

    @Test
    void eptMemoryTypeShouldBeXens() {
      int direct = P2mType.MMIO_DIRECT.code(s().era());
      int ram = P2mType.RAM_RW.code(s().era());
      // epte_get_entry_emt: a 4K frame in mmio_ro_ranges -> UC (0) with ipat (bit 6, here 8).
      assertEquals(8, EptP2mFlags.entryEmt(s(), mmioRo, direct, RO, PageOrder.ORDER_4K));
      // mmio_direct elsewhere -> UC, ipat clear.
      assertEquals(0, EptP2mFlags.entryEmt(s(), mmioRo, direct, RW, PageOrder.ORDER_4K));
      // A 2M span 0xfee00-0xfefff only partly r/o -> -1, split by resolve_misconfig.
      assertEquals(-1, EptP2mFlags.entryEmt(s(), mmioRo, direct, RO, PageOrder.ORDER_2M));
      // RAM with no MTRR modelled -> WB (6).
      assertEquals(6, EptP2mFlags.entryEmt(s(), mmioRo, ram, 0x100, PageOrder.ORDER_4K));
    }

    @Test
    void shadowReadOnlyStepShouldBeXens() {
      int direct = P2mType.MMIO_DIRECT.code(s().era());
      int ramRo = P2mType.RAM_RO.code(s().era());
      // mmio_direct in mmio_ro_ranges: RW and PAT|PCD|PWT cleared, UC 0x18 set:
      // P|RW|U|A|D = 0x67 -> 0x65 | 0x18 = 0x7d; WP (PAT|PWT, 0x88) -> the same 0x7d.
      assertEquals(0x7d, ShadowFlags.shPropagateFlags(s(), 0x67, direct, RO, mmioRo));
      assertEquals(0x7d, ShadowFlags.shPropagateFlags(s(), 0x67 | 0x88, direct, RO, mmioRo));
      // Outside mmio_ro_ranges nothing changes.
      assertEquals(0x67, ShadowFlags.shPropagateFlags(s(), 0x67, direct, RW, mmioRo));
      // A read-only type (ram_ro) loses RW only: 0x77 -> 0x75.
      assertEquals(0x75, ShadowFlags.shPropagateFlags(s(), 0x77, ramRo, 0x100, mmioRo));
    }
  }

  /**
   * {@code xen/common/rangeset.c} at 4.22 (reference section 1.10): the vectors of {@code
   * tools/tests/rangeset} (T0-T3) and the observed ones (V1-V4, V13-V15). The list with {@link
   * XenListRangeSet.Variant#XEN_4_22} must give them all; the interval tree, which the host uses
   * for {@code mmio_ro_ranges}, must give the same except for V15, the remove-to-{@code ~0} wrap,
   * which needs an end of {@code ~0}: no frame number reaches it (frames are below 2^52).
   */
  @Nested
  class RangeSets {
    private List<String> run(RangeSet set, Consumer<RangeSet> ops) {
      ops.accept(set);
      List<String> out = new ArrayList<>();
      set.reportRanges(0, -1L, (s, e) -> {
        out.add(Long.toHexString(s) + "-" + Long.toHexString(e));
        return 0;
      });
      return out;
    }

    private void both(Consumer<RangeSet> ops, String... want) {
      List<String> expected = List.of(want);
      assertEquals(expected, run(new XenListRangeSet("x", 0, XenListRangeSet.Variant.XEN_4_22),
          ops), "list, XEN_4_22");
      assertEquals(expected, run(new IntervalTreeRangeSet("t", 0), ops), "tree");
    }

    @Test
    void upstreamVectorsShouldHoldForTheListAndTheTree() {
      both(r -> { // T0
        r.addRange(0, 1);
        r.addRange(4, 5);
        r.removeRange(3, 4);
      }, "0-1", "5-5");
      both(r -> { // T1
        r.addRange(0, 1);
        r.addRange(4, 5);
        r.addRange(7, 8);
        r.removeRange(3, 7);
      }, "0-1", "8-8");
      both(r -> { // T2
        r.addRange(0, 1);
        r.addRange(4, 5);
        r.removeRange(2, 3);
      }, "0-1", "4-5");
      both(r -> { // T3
        r.addRange(0, 1);
        r.addRange(4, 5);
        r.removeRange(1, 4);
      }, "0-0", "5-5");
    }

    @Test
    void observedVectorsShouldHoldForTheListAndTheTree() {
      both(r -> { // V1: merges across two neighbours
        r.addRange(1, 3);
        r.addRange(10, 12);
        r.addRange(20, 22);
        r.addRange(2, 21);
      }, "1-16");
      both(r -> { // V2: split
        r.addRange(5, 10);
        r.removeRange(7, 8);
      }, "5-6", "9-a");
      both(r -> { // V3: edge removes
        r.addRange(10, 20);
        r.removeRange(10, 12);
        r.removeRange(18, 30);
        r.removeRange(0, 5);
      }, "d-11");
      both(r -> { // V4
        r.addRange(0, 1);
        r.addRange(4, 5);
        r.removeRange(2, 5);
      }, "0-1");
      both(r -> { // V13: a merge up to ~0
        r.addRange(5, 9);
        r.addRange(20, -1L);
        r.addRange(10, 19);
      }, "5-ffffffffffffffff");
      both(r -> { // V14
        r.addRange(0, -1L);
        r.removeRange(100, 200);
        r.removeRange(300, -1L);
      }, "0-63", "c9-12b");
    }

    @Test
    void theWrapBugShouldBeTheListsAlone() {
      Consumer<RangeSet> v15 = r -> {
        r.addRange(0x10, 0x20);
        r.addRange(0x30, 0x40);
        r.addRange(0x50, 0x60);
        r.removeRange(0x35, -1L);
      };
      // V15 as Xen 4.22 gives it: the last range's start wraps to 0 instead of being removed.
      assertEquals(List.of("10-20", "30-34", "0-60"),
          run(new XenListRangeSet("x", 0, XenListRangeSet.Variant.XEN_4_22), v15));
      assertEquals(List.of("10-20", "30-34"), run(new IntervalTreeRangeSet("t", 0), v15));
    }
  }

  /**
   * {@code msix_capability_init}, {@code xen/arch/x86/msi.c} at 4.22 (lines 846-848): {@code
   * pba.last = PFN_DOWN(pba_paddr + BITS_TO_LONGS(nr_entries) - 1)}, a count of longs used as a
   * byte count (reference section 3.6 row 5, unchanged upstream). BITS_TO_LONGS(n) = ceil(n/64).
   */
  @Nested
  class Msix {
    @ParameterizedTest(name = "{0} entries")
    @CsvSource({"1, 1", "64, 1", "65, 2", "256, 4", "2048, 32"})
    void pbaShouldBeSizedInLongsNotBytes(int entries, long bytes) {
      PbaSizing sizing = XEN.msix().pbaSizing();
      assertEquals(bytes, sizing.bytes(entries));
      // The real size is 8 bytes per long: 2048 entries, 256 bytes.
      assertEquals(8 * bytes, PbaSizing.CORRECTED.bytes(entries));
    }
  }

  /**
   * The flushes of 4.22: {@code ept_sync_domain} ({@code xen/arch/x86/mm/p2m-ept.c}) after EPT
   * changes, {@code p2m_tlb_flush_sync} ({@code xen/arch/x86/mm/p2m.c}, then {@code
   * hap_p2m_tlb_flush} in {@code mm/hap/hap.c}) for NPT, and the shadow code's {@code
   * guest_flush_tlb_mask(d, d->dirty_cpumask)} ({@code xen/arch/x86/mm/shadow/common.c}).
   */
  @Test
  void flushesShouldAllBeOn() {
    FlushSwitches f = XEN.flushes();
    assertTrue(f.p2mSync());
    assertTrue(f.shadowFlush());
    assertTrue(f.pvRevalidate());
  }
}
