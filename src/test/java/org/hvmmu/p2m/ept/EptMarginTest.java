package org.hvmmu.p2m.ept;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.p2m.P2mAccess;
import org.hvmmu.p2m.P2mDomainConfig;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mEra;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.PageOrder;
import org.junit.jupiter.api.Test;

/**
 * EPT entries pinned bit for bit by hand from the Intel SDM's EPT entry format (bits 2:0 R/W/X,
 * 5:3 memory type, 6 ignore-PAT, 7 page size, 8 A, 9 D, 51:12 frame) and Xen's software fields
 * ({@code ept_entry_t}: 57:52 sa_p2mt, 58 pw, 62:59 access, 63 suppress_ve; the seed's type in
 * avail1, bits 11:8). Rules from {@code xen/arch/x86/mm/p2m-ept.c} at RELEASE-4.22.0
 * ({@code ept_set_middle_entry}, {@code ept_set_entry}: emt -1 writes MTRR_NUM_TYPES 7 with ipat
 * false, {@code ept_p2m_type_to_flags}: {@code default:} clears r/w/x and leaves pw) and
 * {@code xen/arch/x86/mm/hap/p2m-ept.c} at RELEASE-4.1.0 ({@code ept_set_entry} writes a leaf if
 * {@code mfn_valid || direct_mmio || p2m_is_paged || p2m_ram_paging_in_start}, and has no
 * mmio_direct superpage assertion). Every expected value is summed in a comment.
 */
class EptMarginTest {
  private static final long INVALID_FRAME = 0x20_0000L; // >= max_page 0x100000
  private final RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
  private final P2mEntry cursor = new P2mEntry();

  private EptP2m ept(P2mSwitches switches, P2mDomainConfig domain) {
    return new EptP2m(switches, CpuFeatures.ALL, domain, ro, 64);
  }

  private static P2mDomainConfig withAccess(P2mAccess access) {
    return new P2mDomainConfig(0x10_0000L, false, false, true, access);
  }

  private long entryAt(EptP2m ept, long gfn) {
    ept.getEntry(gfn, cursor);
    return cursor.entry();
  }

  /** A RAM superpage partly over mmio_ro_ranges: emt 7 (MTRR_NUM_TYPES), ipat clear. */
  @Test
  void shouldWriteTheInvalidMemoryTypeWithoutIpatForAPartlyReadOnlySuperpage() {
    EptP2m ept = ept(P2mSwitches.HARDENED, P2mDomainConfig.DEFAULT);
    ro.addSingleton(0x1005);
    assertEquals(0, ept.setEntry(0x200, 0x1000, PageOrder.ORDER_2M, P2mType.RAM_RW));
    // sve 1 << 63 | access 7 << 59 = 0xb800..., type 0, frame 0x1000 << 12 = 0x100_0000,
    // D|A 0x300, SP 0x80, emt 7 << 3 = 0x38, ipat 0, rwx 7: low 0x3bf
    assertEquals(0xB800_0000_0100_03BFL, entryAt(ept, 0x200));
  }

  /** {@code ept_set_middle_entry}: rwx, frame, default access, A if EPT A/D, suppress_ve. */
  @Test
  void shouldLinkTablesAsEptSetMiddleEntryDoes() {
    long first = 0x1000;
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(first, first + 8);
    EptP2m ept =
        new EptP2m(P2mSwitches.HARDENED, CpuFeatures.ALL, withAccess(P2mAccess.R), ro, 8);
    ept.inMachineMemory(m, first);
    assertEquals(0, ept.setEntry(0x1234, 0x5678, PageOrder.ORDER_4K, P2mType.RAM_RW));
    long root0 = m.read(first << 12, 8);
    long frame = EptEntry.mfn(root0);
    assertTrue(frame > first && frame < first + 8, Long.toHexString(frame));
    // sve 1 << 63 | access r 1 << 59 = 0x8800..., A 0x100, rwx 7
    assertEquals(0x8800_0000_0000_0107L, root0 & ~EptEntry.MFN_MASK);

    PhysicalMemory m2 = new PhysicalMemory(46);
    m2.addRam(first, first + 8);
    EptP2m noAd =
        new EptP2m(
            P2mSwitches.HARDENED,
            new CpuFeatures(true, false, true),
            P2mDomainConfig.DEFAULT,
            ro,
            8);
    noAd.inMachineMemory(m2, first);
    assertEquals(0, noAd.setEntry(0x1234, 0x5678, PageOrder.ORDER_4K, P2mType.RAM_RW));
    // no EPT A/D: a = 0; access rwx 7 << 59 | sve = 0xb800..., rwx 7
    assertEquals(0xB800_0000_0000_0007L, m2.read(first << 12, 8) & ~EptEntry.MFN_MASK);
  }

  /** A split re-derives each child with the access type it carries, r_pw (10) included. */
  @Test
  void shouldKeepTheRPwAccessTypeWhenSplitting() {
    EptP2m ept = ept(P2mSwitches.HARDENED, withAccess(P2mAccess.R_PW));
    assertEquals(0, ept.setEntry(0x200, 0x1000, PageOrder.ORDER_2M, P2mType.RAM_RW));
    // sve 0x8000... | access 10 << 59 = 0x5000... | pw 1 << 58 = 0x0400...: 0xd400...
    // frame 0x100_0000, D|A 0x300, SP 0x80, WB 6 << 3 = 0x30, r only 0x1: low 0x3b1
    assertEquals(0xD400_0000_0100_03B1L, entryAt(ept, 0x200));
    assertEquals(0, ept.setEntry(0x205, 0x77, PageOrder.ORDER_4K, P2mType.RAM_RW));
    // child 4: frame 0x1004 << 12 = 0x100_4000, SP clear: low 0x331
    assertEquals(0xD400_0000_0100_4331L, entryAt(ept, 0x204));
    assertEquals(PageOrder.ORDER_4K, cursor.order());
  }

  /**
   * The seed's entries have no access field; a split takes the domain's default access, which
   * restricts the children once the access restriction is switched on.
   */
  @Test
  void shouldUseTheDefaultAccessForSeedSplits() {
    P2mSwitches switches = P2mSwitches.SEED_2010.withEptAccessRestriction(true);
    EptP2m ept = ept(switches, withAccess(P2mAccess.R));
    assertEquals(0, ept.setEntry(0x200, 0x1000, PageOrder.ORDER_2M, P2mType.RAM_RW));
    // seed type 1 << 8 = 0x100, SP 0x80, WB 0x30, r only: 0x1b1; frame 0x100_0000
    assertEquals(0x0000_0000_0100_01B1L, entryAt(ept, 0x200));
    assertEquals(0, ept.setEntry(0x205, 0x77, PageOrder.ORDER_4K, P2mType.RAM_RW));
    // child 4: frame 0x100_4000, 0x100 | 0x30 | 0x1
    assertEquals(0x0000_0000_0100_4131L, entryAt(ept, 0x204));
  }

  /** Xen 4.1 writes mmio_direct, paged and paging_in_start leaves for frames without a page. */
  @Test
  void shouldWriteSeedLeavesForFramesWithoutFrameTableEntries() {
    EptP2m ept = ept(P2mSwitches.SEED_2010, P2mDomainConfig.DEFAULT);
    ept.setEntry(0x10, INVALID_FRAME, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT);
    ept.setEntry(0x11, INVALID_FRAME + 1, PageOrder.ORDER_4K, P2mType.RAM_PAGED);
    ept.setEntry(0x12, INVALID_FRAME + 2, PageOrder.ORDER_4K, P2mType.RAM_PAGING_IN_START);
    ept.setEntry(0x13, INVALID_FRAME + 3, PageOrder.ORDER_4K, P2mType.RAM_RW);
    // frame 0x200000 << 12 = 0x2_0000_0000; type 5 << 8, UC 0, rwx 7
    assertEquals(0x0000_0002_0000_0507L, entryAt(ept, 0x10));
    // type 10 << 8 = 0xa00, WB 0x30, no permissions
    assertEquals(0x0000_0002_0000_1A30L, entryAt(ept, 0x11));
    // type 12 << 8 = 0xc00, WB 0x30
    assertEquals(0x0000_0002_0000_2C30L, entryAt(ept, 0x12));
    assertEquals(0L, entryAt(ept, 0x13));
    assertFalse(ept.getEntry(0x13, cursor));
  }

  /** Xen 4.22 writes populate-on-demand and paging leaves for frames without a page. */
  @Test
  void shouldWritePodAndPagingLeavesForFramesWithoutFrameTableEntriesToday() {
    EptP2m ept = ept(P2mSwitches.HARDENED, P2mDomainConfig.DEFAULT);
    ept.setEntry(0x20, INVALID_FRAME, PageOrder.ORDER_4K, P2mType.POPULATE_ON_DEMAND);
    ept.setEntry(0x21, INVALID_FRAME + 1, PageOrder.ORDER_4K, P2mType.RAM_PAGED);
    // sve | access 7 << 59 | type 6 << 52 = 0xb860...; frame 0x2_0000_0000; WB 0x30; no rwx
    assertEquals(0xB860_0002_0000_0030L, entryAt(ept, 0x20));
    // type 10 << 52 = 0x00a0...: 0xb8a0...; frame 0x2_0000_1000
    assertEquals(0xB8A0_0002_0000_1030L, entryAt(ept, 0x21));
  }

  /** The seed's EPT had no mmio_direct superpage assertion (only p2m.c's PT path had one). */
  @Test
  void shouldMapAValidMmioSuperpageInTheSeed() {
    EptP2m ept = ept(P2mSwitches.SEED_2010, P2mDomainConfig.DEFAULT);
    assertEquals(0, ept.setEntry(0x200, 0x1000, PageOrder.ORDER_2M, P2mType.MMIO_DIRECT));
    // type 5 << 8 = 0x500, SP 0x80, UC 0, rwx 7; frame 0x100_0000
    assertEquals(0x0000_0000_0100_0587L, entryAt(ept, 0x200));
  }

  /** {@code default:} of ept_p2m_type_to_flags clears r/w/x; pw is only set by r_pw. */
  @Test
  void shouldClearPermissionsOfUnknownTypesAndKeepPagingWrite() {
    long frame = EptEntry.withMfn(0L, 0x1234);
    long bits = EptEntry.RWX_MASK | EptEntry.A | EptEntry.D | EptEntry.PW;
    long unknown =
        EptP2mFlags.typeToFlags(
            P2mSwitches.HARDENED,
            CpuFeatures.ALL,
            P2mDomainConfig.DEFAULT,
            ro,
            frame | bits,
            20,
            P2mAccess.RWX);
    // frame 0x123_4000 | pw 1 << 58 | D|A 0x300, rwx cleared
    assertEquals(0x0400_0000_0123_4300L, unknown);
    long ram =
        EptP2mFlags.typeToFlags(
            P2mSwitches.HARDENED,
            CpuFeatures.ALL,
            P2mDomainConfig.DEFAULT,
            ro,
            frame,
            P2mType.RAM_RW.code,
            P2mAccess.RWX);
    // no pw in, none out: frame | D|A 0x300 | rwx 7
    assertEquals(0x0000_0000_0123_4307L, ram);
  }

  @Test
  void shouldDecodeAccessAndSeedValidity() {
    assertEquals(7, EptEntry.access(0xB800_0000_0567_8337L)); // bits 62:59 of 0xb8 = 0111
    assertEquals(10, EptEntry.access(0xD400_0000_0100_4331L)); // 0xd4 >> 3 & 15 = 1010
    assertFalse(EptEntry.isValid(P2mEra.SEED_2010, 0L)); // seed type 0: invalid
    assertTrue(EptEntry.isValid(P2mEra.SEED_2010, 0x0000_0003_FEE0_0507L));
  }
}
