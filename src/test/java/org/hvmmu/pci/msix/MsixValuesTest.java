package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.pci.msix.regs.MsixAccessPolicy;
import org.hvmmu.pci.msix.regs.MsixAccessPolicy.UnmaskedUpdate;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/** The small value types of the MSI-X model: regions, results, switches and policies. */
class MsixValuesTest {
  @Test
  void aRegionCountsItsFramesInclusively() {
    assertEquals(3, new MsixRegion(0, 0x800, 0x2010, true, 0xfe000800L, 0xfe000, 0xfe002)
        .frameCount());
    assertEquals(1, new MsixRegion(0, 0, 16, true, 0xfe000000L, 0xfe000, 0xfe000).frameCount());
    assertEquals(0, new MsixRegion(0, 0, 16, false, 0, 0, 0).frameCount());
    assertEquals(0, MsixRegion.NONE.frameCount());
  }

  @Test
  void aResultNamesItsErrorsAndItsCrash() {
    assertEquals("0", MsixResult.OK.toString());
    assertEquals("-ENODATA", MsixResult.error(-Errno.ENODATA).toString());
    assertEquals("0 (rangeset -ENOMEM)", new MsixResult(0, -Errno.ENOMEM, DomainIds.DOMID_INVALID)
        .toString());
    assertEquals("0 (rangeset -ENOMEM, domain_crash(d1))",
        new MsixResult(0, -Errno.ENOMEM, 1).toString());
    assertEquals("-EBUSY (domain_crash(d7))", new MsixResult(-Errno.EBUSY, 0, 7).toString());
    assertFalse(MsixResult.OK.domainCrashed());
    assertTrue(new MsixResult(0, 0, 0).domainCrashed());
  }

  @Test
  void switchesAreCopiedWithOneValueChanged() {
    MsixSwitches s = MsixSwitches.HARDENED;
    assertTrue(s.withTableBaseFromCaller(true).tableBaseFromCaller());
    assertFalse(s.withTableBaseFromCaller(true).withTableBaseFromCaller(false)
        .tableBaseFromCaller());
    assertTrue(s.withRegisterOncePerDevice(true).registerOncePerDevice());
    assertFalse(s.withPrepareMsix(false).prepareMsix());
    assertEquals(s, s.withPrepareMsix(false).withPrepareMsix(true));
    assertTrue(s.withCrashUnpreparedDomain(true).crashUnpreparedDomain());
  }

  @Test
  void policiesAreCopiedWithOneRuleChanged() {
    MsixAccessPolicy p = MsixAccessPolicy.QEMU;
    for (UnmaskedUpdate u : UnmaskedUpdate.values()) {
      MsixAccessPolicy q = p.withUnmaskedUpdate(u);
      assertEquals(u, q.unmaskedUpdate());
      assertEquals(p.subDwordRead(), q.subDwordRead());
      assertEquals(p.pbaWrite(), q.pbaWrite());
    }
  }
}
