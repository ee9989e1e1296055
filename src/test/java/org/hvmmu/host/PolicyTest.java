package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.mmu.xen.GuestWalkSwitches;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.pci.msix.MsixSwitches;
import org.hvmmu.testkit.host.HostScript;
import org.hvmmu.x86.pv.LinearPageTables;
import org.hvmmu.x86.pv.MmioRelax;
import org.hvmmu.x86.pv.PvSwitches;
import org.junit.jupiter.api.Test;

/**
 * The three presets of {@link Policy} and the switch records they compose. The expected Xen 4.22
 * values are those read in RELEASE-4.22.0 ({@code xen/arch/x86/mm.c}, {@code msi.c}, the p2m and
 * shadow code); see {@code docs/policy.md}.
 */
class PolicyTest {
  @Test
  void xen422PvSwitchesShouldBeTheReleasesBehaviour() {
    PvSwitches pv = PvSwitches.XEN_4_22;
    assertFalse(pv.privilegedExemption(), "get_page_from_l1e exempts nobody (271ca5bea6)");
    assertTrue(pv.forceUncachedMmio(), "WB, WT, WP MMIO flipped to UC (XSA-154)");
    assertEquals(MmioRelax.OFF, pv.mmioRelax(), "opt_mmio_relax starts at 0");
    assertTrue(pv.fastPathComparesCacheBits(), "FASTPATH_FLAG_WHITELIST (XSA-182)");
    assertTrue(pv.l1eOwnerNeedsIomemPermission(), "l1e_owner needs iomem_access_permitted");
    assertEquals(LinearPageTables.SINGLE_LEVEL, pv.linearPageTables(),
        "CONFIG_PV_LINEAR_PT=y, pv-linear-pt on, linear_pt_count (XSA-240)");
    assertTrue(pv.flushAfterHigherLevelUpdate(), "flush_linear_pt after L2-L4 updates (XSA-286)");
    assertFalse(pv.compatL3LinearPageTables(), "get_page_from_l3e: !is_pv_32bit_domain (XSA-185)");
    assertFalse(pv.compatL3UpdateRechecksSlot3(), "mod_l3_entry has no slot-3 re-check");
    assertEquals(PvSwitches.HARDENED, pv);
  }

  @Test
  void xen422FlushesShouldBeXens() {
    assertEquals(new FlushSwitches(true, true, true), FlushSwitches.XEN_4_22);
    assertEquals(FlushSwitches.XEN, FlushSwitches.XEN_4_22);
  }

  @Test
  void xen422ShouldComposeTheReleasesRecords() {
    Policy p = Policy.XEN_4_22;
    assertSame(PvSwitches.XEN_4_22, p.pv());
    assertSame(P2mSwitches.XEN_4_22, p.p2m());
    assertSame(MsixSwitches.XEN_4_22, p.msix());
    assertEquals(ExistingMappings.LEAVE, p.existingMappings(),
        "msix_capability_init: XXX existing mappings; no re-derivation since 4.5");
    assertSame(FlushSwitches.XEN_4_22, p.flushes());
    assertSame(GuestWalkSwitches.XEN_4_22, p.guestWalk());
    assertSame(RoMmioSwitches.XEN_4_22, p.roMmio());
    assertNotEquals(Policy.SEED_2010, p);
    assertNotEquals(Policy.HARDENED, p);
  }

  @Test
  void xen422ShouldDifferFromHardenedOnlyWhereUpstreamKeepsADefect() {
    assertEquals("hardened with msix.pbaSizing = BITS_TO_LONGS,"
        + " msix.releaseRequiresPrepare = false, msix.ownershipAwareRemoval = false,"
        + " msix.checkedRegionArithmetic = false, existingMappings = LEAVE,"
        + " roMmio.subpageOwnedBytes = false",
        HostScript.describePolicy(Policy.XEN_4_22));
    Policy hardened = Policy.XEN_4_22
        .withMsix(MsixSwitches.HARDENED)
        .withExistingMappings(ExistingMappings.REVOKE)
        .withRoMmio(RoMmioSwitches.HARDENED);
    assertEquals(Policy.HARDENED, hardened);
  }

  @Test
  void theAccessSwitchesShouldBeTheSeedsOrTheReleasesAndReplaceable() {
    assertSame(RoMmioSwitches.SEED_2010, Policy.SEED_2010.roMmio());
    assertSame(RoMmioSwitches.HARDENED, Policy.HARDENED.roMmio());
    // RELEASE-4.1.0 has no mmio_ro_do_page_fault; RELEASE-4.22.0 hands r/o mmio_direct stores to
    // handle_mmio_with_translation.
    assertFalse(Policy.SEED_2010.roMmio().pvMmioRoEmulation());
    assertFalse(Policy.SEED_2010.roMmio().hvmRoMmioEmulation());
    assertTrue(Policy.XEN_4_22.roMmio().pvMmioRoEmulation());
    assertTrue(Policy.XEN_4_22.roMmio().hvmRoMmioEmulation());
    Policy mixed = Policy.HARDENED.withRoMmio(RoMmioSwitches.SEED_2010);
    assertSame(RoMmioSwitches.SEED_2010, mixed.roMmio());
    assertEquals(Policy.HARDENED.pv(), mixed.pv());
    assertEquals(Policy.HARDENED, mixed.withRoMmio(RoMmioSwitches.HARDENED));
    assertSame(RoMmioSwitches.SEED_2010, mixed.withFlushes(FlushSwitches.NONE).roMmio(),
        "the other withers keep it");
  }
}
