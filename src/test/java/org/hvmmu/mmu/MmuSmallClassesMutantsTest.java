package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The argument checks and copy helpers of the configuration records ({@link TlbStructure},
 * {@link TlbConfig}, {@link MmuFeatures}, {@link MmuSwitches}, {@link CacheGeometry}) and the fault
 * decoding of {@link Fault} and {@link FaultKind}. Expected values come from the records' Javadoc
 * contracts (the documented ranges: levels 1 and 2, at most 16 TLB arrays, MAXPHYADDR 32 to 52,
 * 0 to 65536 entries) and from the architectural codes: vectors 12, 13, 14 (SDM vol. 3A table 6-1),
 * exit reasons 48 and 49 (SDM vol. 3C appendix C), VMEXIT_NPF 0x400 (APM vol. 2 appendix C).
 */
class MmuSmallClassesMutantsTest {
  private static final CacheGeometry G = CacheGeometry.of(16, 4);

  private static TlbStructure tlb(String name, int level, boolean i, boolean d, int sizes) {
    return new TlbStructure(name, level, i, d, sizes, G);
  }

  @Test
  void tlbStructureShouldCheckEachArgument() {
    assertThrows(IllegalArgumentException.class,
        () -> new TlbStructure(null, 1, true, true, TlbStructure.SIZE_4K, G));
    assertThrows(IllegalArgumentException.class,
        () -> new TlbStructure("x", 1, true, true, TlbStructure.SIZE_4K, null));
    assertThrows(IllegalArgumentException.class, () -> tlb("x", 0, true, true, 1));
    assertThrows(IllegalArgumentException.class, () -> tlb("x", 3, true, true, 1));
    assertEquals(1, tlb("x", 1, true, true, 1).level());
    assertEquals(2, tlb("x", 2, true, true, 1).level());
    assertThrows(IllegalArgumentException.class, () -> tlb("x", 1, false, false, 1));
    assertTrue(tlb("x", 1, true, false, 1).instructions());
    assertTrue(tlb("x", 1, false, true, 1).data());
    assertThrows(IllegalArgumentException.class, () -> tlb("x", 1, true, true, 0));
    assertThrows(IllegalArgumentException.class, () -> tlb("x", 1, true, true, 8));
    assertThrows(IllegalArgumentException.class, () -> tlb("x", 1, true, true, 9));
    for (int sizes = 1; sizes <= 7; sizes++) {
      assertEquals(sizes, tlb("x", 1, true, true, sizes).pageSizes());
    }
  }

  @Test
  void tlbConfigShouldRejectEachNullField() {
    CacheGeometry n = CacheGeometry.NONE;
    List<TlbStructure> l = List.of();
    for (int hole = 0; hole < 10; hole++) {
      CacheGeometry[] g = new CacheGeometry[9];
      for (int k = 0; k < 9; k++) {
        g[k] = hole == k + 1 ? null : n;
      }
      List<TlbStructure> list = hole == 0 ? null : l;
      assertThrows(IllegalArgumentException.class,
          () -> new TlbConfig(list, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], 1),
          "null field " + hole);
    }
    assertDoesNotThrow(() -> new TlbConfig(l, n, n, n, n, n, n, n, n, n, 1));
  }

  @Test
  void tlbConfigShouldAcceptSixteenArraysButNotSeventeen() {
    List<TlbStructure> arrays = new ArrayList<>();
    for (int k = 0; k < 16; k++) {
      arrays.add(tlb("t" + k, 1, true, true, 1));
    }
    TlbConfig sixteen = TlbConfig.none().withTlbs(arrays);
    assertEquals(16, sixteen.tlbs().size());
    arrays.add(tlb("t16", 1, true, true, 1));
    assertThrows(IllegalArgumentException.class, () -> TlbConfig.none().withTlbs(arrays));
  }

  @Test
  void tlbConfigHelpersShouldReturnTheDescribedConfigurations() {
    TlbConfig g96 = TlbConfig.goldenCove96();
    assertNotNull(g96);
    TlbStructure dtlb = g96.tlbs().stream().filter(t -> t.name().equals("dtlb-4k")).findFirst()
        .orElseThrow();
    assertEquals(96, dtlb.geometry().entries());
    assertEquals(6, dtlb.geometry().ways());
    TlbConfig one = TlbConfig.none().withTlbs(List.of(tlb("only", 2, false, true, 4)));
    assertEquals("only", one.tlbs().get(0).name());
    assertEquals(0x5EEDL, one.seed());
    TlbConfig bare = TlbConfig.goldenCove().withoutPagingStructureCaches();
    assertEquals(7, bare.tlbs().size());
    assertEquals(0, bare.pdCache().entries());
    assertEquals(0, bare.nestedTlb().entries());
    assertEquals(0, bare.entryCache().entries());
  }

  @Test
  void mmuFeaturesShouldCheckVendorAndMaxPhyAddr() {
    MmuFeatures intel = MmuFeatures.intel(46);
    assertThrows(IllegalArgumentException.class, () -> new MmuFeatures(null, 46, true, true, true,
        true, true, true, true, true, true, true, true, true, true, true, true));
    assertThrows(IllegalArgumentException.class, () -> intel.withMaxPhyAddr(31));
    assertThrows(IllegalArgumentException.class, () -> intel.withMaxPhyAddr(53));
    assertEquals(32, intel.withMaxPhyAddr(32).maxPhyAddr());
    assertEquals(52, intel.withMaxPhyAddr(52).maxPhyAddr());
    assertEquals(Vendor.INTEL, intel.withMaxPhyAddr(40).vendor());
    MmuFeatures amd = MmuFeatures.amd(48);
    assertEquals(Vendor.AMD, amd.vendor());
    assertEquals(false, amd.withGbPages(false).gbPages());
    assertEquals(48, amd.withGbPages(false).maxPhyAddr());
    MmuFeatures ept = intel.withEpt(false, true, false, true);
    assertEquals(false, ept.eptExecuteOnly());
    assertEquals(true, ept.eptMbec());
    assertEquals(false, ept.eptAccessedDirty());
    assertEquals(true, ept.eptAdvancedExitInfo());
  }

  @Test
  void mmuSwitchesShouldRejectNullsAndCopyFields() {
    MmuSwitches d = MmuSwitches.DEFAULT;
    assertThrows(IllegalArgumentException.class, () -> d.withAccessedOnFault(null));
    assertThrows(IllegalArgumentException.class, () -> d.withTlbMode(null));
    assertThrows(IllegalArgumentException.class, () -> d.withPscStyle(null));
    MmuSwitches over = d.withTlbMode(MmuSwitches.TlbMode.OVER_FLUSH);
    assertEquals(MmuSwitches.TlbMode.OVER_FLUSH, over.tlbMode());
    assertEquals(MmuSwitches.PscStyle.INTEL_PREFIX, over.pscStyle());
    MmuSwitches pdpte = d.withPaePdpteBits8To5Reserved(false);
    assertEquals(false, pdpte.paePdpteBits8To5Reserved());
    assertEquals(MmuSwitches.TlbMode.STRICT, pdpte.tlbMode());
    assertEquals(MmuSwitches.AccessedOnFault.EVERY_LEVEL_USED,
        d.withAccessedOnFault(MmuSwitches.AccessedOnFault.EVERY_LEVEL_USED).accessedOnFault());
    assertEquals(MmuSwitches.PscStyle.NONE, d.withPscStyle(MmuSwitches.PscStyle.NONE).pscStyle());
    assertEquals(true, d.withL4GlobalReserved(true).l4GlobalReserved());
    assertEquals(true, d.withInvlpgKeepsGlobalsWithPcid(true).invlpgKeepsGlobalsWithPcid());
  }

  @Test
  void cacheGeometryShouldCheckItsRanges() {
    assertThrows(IllegalArgumentException.class, () -> new CacheGeometry(16, 4, null));
    assertThrows(IllegalArgumentException.class, () -> CacheGeometry.of(-1, 1));
    assertThrows(IllegalArgumentException.class, () -> CacheGeometry.of(65537, 1));
    assertEquals(65536, CacheGeometry.of(65536, 1).entries());
    // 131072 entries would make a power-of-two number of sets: only the entry limit rejects it.
    assertThrows(IllegalArgumentException.class, () -> CacheGeometry.of(131072, 1));
    assertEquals(0, CacheGeometry.of(0, 1).sets());
    // The ways must divide the entries: 10 entries in 4 ways would be 2.5 sets.
    assertThrows(IllegalArgumentException.class, () -> CacheGeometry.of(10, 4));
    // Tree pseudo-LRU needs a power-of-two number of ways; LRU and random do not.
    assertThrows(IllegalArgumentException.class,
        () -> new CacheGeometry(6, 6, Replacement.TREE_PLRU));
    assertEquals(1, new CacheGeometry(6, 6, Replacement.LRU).sets());
    assertEquals(1, new CacheGeometry(6, 6, Replacement.RANDOM).sets());
    assertEquals(2, new CacheGeometry(8, 4, Replacement.TREE_PLRU).sets());
  }

  @Test
  void faultKindShouldRejectCodesOutsideItsTable() {
    assertEquals(FaultKind.NESTED_PAGE_FAULT, FaultKind.fromCode(0x400));
    assertEquals(FaultKind.EPT_MISCONFIG, FaultKind.fromCode(49));
    assertThrows(IllegalArgumentException.class, () -> FaultKind.fromCode(0x401));
    assertThrows(IllegalArgumentException.class, () -> FaultKind.fromCode(-1));
    assertThrows(IllegalArgumentException.class, () -> FaultKind.fromCode(0));
  }

  @Test
  void faultKindOfZeroShouldSayItIsNotAFault() {
    // 0 is a valid host-physical address, not a fault: the check is on the sign alone.
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Fault.kind(0L));
    assertTrue(e.getMessage().startsWith("not a fault"), e.getMessage());
    assertEquals(FaultKind.GENERAL_PROTECTION, Fault.kind(Fault.GP0));
    assertEquals(FaultKind.STACK_FAULT, Fault.kind(Fault.SS0));
  }
}
