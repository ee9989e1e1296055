package org.hvmmu.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.hvmmu.host.GuestVcpu;
import org.hvmmu.host.access.AccessOutcome;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.junit.jupiter.api.Test;

/**
 * Pins the outcome of each protected-page store the benchmark measures (docs/access.md, by hand):
 * the PV domU's #PF with error code P|W|U = 7 (a 64-bit PV kernel runs in ring 3) at the table's
 * address, given back ({@code PV_NOT_HARDWARE_DOMAIN}); dom0's store dropped ({@code
 * MMIO_RO_DROPPED}, no fault); EPT and NPT stores discarded by the null handler with the exit left
 * in the processor; the shadow guest's re-fault ended with a #PF P|W|U. The same on every repeat.
 */
class ProtectedStoreBenchmarkTest {
  private static final long PF_PWU = Fault.of(FaultKind.PAGE_FAULT, 7);

  @Test
  void eachStoreShouldComeToItsOutcomeEveryTime() {
    ProtectedStoreBenchmark b = new ProtectedStoreBenchmark();
    b.setup();
    for (int round = 0; round < 3; round++) {
      assertEquals(PF_PWU + AccessOutcome.PF_INJECTED.code(), b.pvDomU(), "round " + round);
      assertOutcome(b.pvDomU, AccessReason.PV_NOT_HARDWARE_DOMAIN, PF_PWU);
      assertEquals(ProtectedStoreBenchmark.PV_VA + 8, b.pvDomU.cpu().cr2());

      assertEquals(AccessOutcome.DROPPED_SILENT.code(), b.pvDom0(), "round " + round);
      assertOutcome(b.pvDom0, AccessReason.MMIO_RO_DROPPED, 0);

      assertEquals(AccessOutcome.DROPPED_SILENT.code(), b.hvmEpt(), "round " + round);
      assertOutcome(b.ept, AccessReason.NULL_HANDLER_WRITE, 0);
      assertEquals(FaultKind.EPT_VIOLATION, Fault.kind(b.ept.cpu().lastFault()), "the exit");
      assertFalse(b.ept.domain().crashed());

      assertEquals(AccessOutcome.DROPPED_SILENT.code(), b.hvmNpt(), "round " + round);
      assertOutcome(b.npt, AccessReason.NULL_HANDLER_WRITE, 0);
      assertEquals(FaultKind.NESTED_PAGE_FAULT, Fault.kind(b.npt.cpu().lastFault()), "the exit");

      assertEquals(PF_PWU + AccessOutcome.REFAULT_LOOP.code(), b.hvmShadow(), "round " + round);
      assertOutcome(b.shadow, AccessReason.SHADOW_REFAULT, PF_PWU);
    }
  }

  private static void assertOutcome(GuestVcpu v, AccessReason reason, long fault) {
    assertEquals(reason, v.lastAccessReason());
    assertEquals(fault, v.lastFault());
  }
}
