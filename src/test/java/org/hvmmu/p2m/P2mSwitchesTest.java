package org.hvmmu.p2m;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.p2m.P2mSwitches.GlobalRetype;
import org.hvmmu.p2m.P2mSwitches.SuperpageRoMmio;
import org.junit.jupiter.api.Test;

/**
 * The presets of {@link P2mSwitches}. The Xen 4.22 values are those read in RELEASE-4.22.0's
 * {@code p2m-pt.c}, {@code p2m-ept.c}, {@code p2m.c} and {@code shadow/set.c}, {@code
 * shadow/multi.c}.
 */
class P2mSwitchesTest {
  @Test
  void xen422ShouldHoldTheReleasesValues() {
    P2mSwitches s = P2mSwitches.XEN_4_22;
    assertEquals(P2mEra.TODAY, s.era(), "type at PTE bit 52, EPT sa_p2mt");
    assertTrue(s.roMmioForcesUc(), "_PAGE_UC; EPT UC with ipat; shadow UC (XSA-154)");
    assertEquals(SuperpageRoMmio.REFUSE_RETRY_4K, s.superpageRoMmio(),
        "set_mmio_p2m_entry returns PAGE_ORDER_4K + 1");
    assertEquals(GlobalRetype.CHANGEABLE_ONLY, s.globalRetype(),
        "ASSERT(p2m_is_changeable(ot) && p2m_is_changeable(nt))");
    assertTrue(s.eptAccessedDirty(), "a and d from cpu_has_vmx_ept_ad");
    assertTrue(s.eptAccessRestriction(), "r/w/x restricted by entry->access");
    assertTrue(s.eptSplitRoMmioSuperpages(), "epte_get_entry_emt returns -1 for a partial span");
    assertFalse(s.shadowDropsRwResult(), "shadow_set_l1e applies the flip mask");
  }

  @Test
  void xen422ShouldBeHardened() {
    assertEquals(P2mSwitches.HARDENED, P2mSwitches.XEN_4_22);
  }
}
