package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.pci.BarReadMode;
import org.hvmmu.rangeset.owned.RemovalPolicy;
import org.junit.jupiter.api.Test;

/**
 * The presets of {@link MsixSwitches}. The Xen 4.22 values are those read in RELEASE-4.22.0's
 * {@code xen/arch/x86/msi.c} ({@code msix_capability_init}, {@code _pci_cleanup_msix}, {@code
 * pci_prepare_msix}) and {@code xen/drivers/passthrough/msi.c} ({@code pdev_msi_init}).
 */
class MsixSwitchesTest {
  @Test
  void xen422ShouldHoldTheReleasesValues() {
    MsixSwitches s = MsixSwitches.XEN_4_22;
    assertFalse(s.tableBaseFromCaller(), "the BAR; the caller's base only when it reads 0");
    assertEquals(BarReadMode.CORRECTED, s.barReadMode(), "header & 0x7f, address & ~0xf");
    assertFalse(s.registerOncePerDevice(), "add and remove on used_entries 0 <-> 1");
    assertEquals(PbaSizing.BITS_TO_LONGS, s.pbaSizing(), "pba.last = + BITS_TO_LONGS(n) - 1");
    assertTrue(s.clearRecordedRanges(), "_pci_cleanup_msix zeroes table and pba (XSA-337)");
    assertTrue(s.prepareMsix(), "PHYSDEVOP_prepare_msix and release_msix");
    assertFalse(s.releaseRequiresPrepare(), "release whenever used_entries == 1");
    assertTrue(s.crashUnpreparedDomain(), "domain_crash(d) for insecure use");
    assertTrue(s.noDataForUntrustedSetup(), "-ENODATA without recorded frames (XSA-337)");
    assertFalse(s.ownershipAwareRemoval(), "rangeset_remove_range unprotects for everyone");
    assertFalse(s.checkedRegionArithmetic(), "table_paddr += table_offset in u64, unchecked");
    assertEquals(RemovalPolicy.XEN_UNREFCOUNTED, s.removalPolicy());
  }

  @Test
  void xen422ShouldBeUpstreamAndDifferFromHardenedInFourSwitches() {
    assertEquals(MsixSwitches.UPSTREAM, MsixSwitches.XEN_4_22);
    assertEquals(MsixSwitches.XEN_4_22,
        MsixSwitches.HARDENED
            .withPbaSizing(PbaSizing.BITS_TO_LONGS)
            .withReleaseRequiresPrepare(false)
            .withOwnershipAwareRemoval(false)
            .withCheckedRegionArithmetic(false));
    assertNotEquals(MsixSwitches.SEED_2010, MsixSwitches.XEN_4_22);
  }
}
