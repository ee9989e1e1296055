package org.hvmmu.host.access;

import static org.hvmmu.host.access.InstructionClass.LOAD;
import static org.hvmmu.host.access.InstructionClass.LOCKED;
import static org.hvmmu.host.access.InstructionClass.PLAIN_STORE;
import static org.hvmmu.host.access.InstructionClass.READ_MODIFY_WRITE;
import static org.hvmmu.host.access.InstructionClass.UNEMULATED;
import static org.hvmmu.host.access.InstructionClass.WIDE_STORE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * {@link HapRoAccess} and {@link ShadowRoAccess} against the reference's HVM vector (section
 * 11.1: "HVM domU, 4.21+: write to a separate PBA page (mmio_direct, ro) -> null handler, dropped,
 * OKAY. Seed/<=4.19: domain_crash") and sections 2.2-2.4, each checked in {@code
 * hvm_hap_nested_page_fault} (hvm.c), {@code hvmemul_do_io}/{@code null_read}/{@code null_write}
 * (emulate.c), {@code ept_handle_violation} (vmx.c), {@code svm_do_nested_pgfault} (svm.c) and
 * {@code sh_page_fault}/{@code _sh_propagate} (shadow/multi.c) at RELEASE-4.1.0 and RELEASE-4.22.0.
 */
class HapRoAccessTest {
  private static final RoMmioSwitches TODAY = RoMmioSwitches.XEN_4_22;
  private static final RoMmioSwitches SEED = RoMmioSwitches.SEED_2010;

  @Test
  void aStoreToASeparatePbaPageShouldBeDiscardedTodayAndCrashTheSeedsGuest() {
    AccessReason today = HapRoAccess.access(TODAY, false, false, PLAIN_STORE, null, false);
    assertEquals(AccessReason.NULL_HANDLER_WRITE, today);
    assertEquals(AccessOutcome.DROPPED_SILENT, today.outcome());
    assertEquals("null_write", today.function());
    AccessReason seed = HapRoAccess.access(SEED, false, false, PLAIN_STORE, null, false);
    assertEquals(AccessReason.EPT_VIOLATION_CRASH, seed);
    assertEquals(AccessOutcome.DOMAIN_CRASHED, seed.outcome());
    assertEquals(AccessReason.NPF_CRASH,
        HapRoAccess.access(SEED, true, false, PLAIN_STORE, null, false));
    assertEquals(AccessReason.NULL_HANDLER_WRITE,
        HapRoAccess.access(SEED.withHvmRoMmioEmulation(true), false, false, PLAIN_STORE, null,
            false), "the one switch closes the difference");
  }

  @Test
  void instructionClassesShouldDecideTheNullHandlersResult() {
    // Derived consequence of section 2.2 item 3: an RMW's read half reads ~0, its write is dropped.
    assertEquals(AccessReason.NULL_HANDLER_RMW,
        HapRoAccess.access(TODAY, false, false, READ_MODIFY_WRITE, null, false));
    assertEquals(AccessReason.NULL_HANDLER_RMW,
        HapRoAccess.access(TODAY, true, false, LOCKED, null, false));
    assertEquals(AccessReason.NULL_HANDLER_WRITE,
        HapRoAccess.access(TODAY, false, false, WIDE_STORE, null, false));
    // movs reads its source elsewhere (RAM): only its store reaches the null handler.
    assertEquals(AccessReason.NULL_HANDLER_WRITE,
        HapRoAccess.access(TODAY, false, false, InstructionClass.MOVS, null, false));
    assertEquals(AccessReason.NULL_HANDLER_WRITE,
        HapRoAccess.access(TODAY, false, false, InstructionClass.STOS, null, false));
    // handle_mmio_with_translation fails -> hvm_inject_hw_exception(X86_EXC_GP, 0).
    AccessReason gp = HapRoAccess.access(TODAY, false, false, UNEMULATED, null, false);
    assertEquals(AccessReason.HANDLE_MMIO_FAILED, gp);
    assertEquals(AccessOutcome.GP_INJECTED, gp.outcome());
    // A load from r/o mmio_direct does not exit at all: the entry is readable.
    assertEquals(AccessReason.HAP_DIRECT_READ,
        HapRoAccess.access(SEED, false, false, LOAD, null, false));
    assertEquals(AccessOutcome.READ_FROM_DEVICE, AccessReason.HAP_DIRECT_READ.outcome());
  }

  @Test
  void aDeviceModelPageShouldGoToTheHandlerThenTheIoreqServerThenTheNullHandler() {
    assertEquals(AccessReason.NULL_HANDLER_READ,
        HapRoAccess.access(TODAY, false, true, LOAD, null, false));
    assertEquals(AccessOutcome.READ_ALL_ONES, AccessReason.NULL_HANDLER_READ.outcome());
    assertEquals(AccessReason.NULL_HANDLER_WRITE,
        HapRoAccess.access(TODAY, false, true, PLAIN_STORE, null, false));
    assertEquals(AccessReason.IOREQ_TO_DM,
        HapRoAccess.access(TODAY, false, true, PLAIN_STORE, null, true));
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, HapRoAccess.access(TODAY, false, true, LOAD,
        AccessReason.MSIXTBL_READ_SHADOW, true), "msixtbl completes it");
    assertEquals(AccessReason.MSIXTBL_WRITE_ADDRESS_DATA, HapRoAccess.access(TODAY, false, true,
        PLAIN_STORE, AccessReason.MSIXTBL_WRITE_ADDRESS_DATA, true), "msixtbl passes it on");
    assertEquals(AccessReason.NULL_HANDLER_READ, HapRoAccess.access(TODAY, false, true, LOAD,
        AccessReason.MSIXTBL_READ_NO_SHADOW, false), "passed on, and nobody there");
    // The seed's p2m_mmio_dm path is the same (handle_mmio, else #GP).
    assertEquals(AccessReason.HANDLE_MMIO_FAILED,
        HapRoAccess.access(SEED, false, true, UNEMULATED, null, true));
    // An ioreq server that claims a r/o mmio_direct page's range gets the store today.
    assertEquals(AccessReason.IOREQ_TO_DM,
        HapRoAccess.access(TODAY, false, false, PLAIN_STORE, null, true));
  }

  @Test
  void aShadowedGuestsStoreToReadOnlyMmioShouldReFaultInBothEras() {
    for (RoMmioSwitches s : new RoMmioSwitches[] {SEED, TODAY}) {
      AccessReason r = ShadowRoAccess.access(s, false, PLAIN_STORE, null, false);
      assertEquals(AccessReason.SHADOW_REFAULT, r);
      assertEquals(AccessOutcome.REFAULT_LOOP, r.outcome());
      assertEquals("sh_page_fault", r.function());
      assertEquals(AccessReason.SHADOW_DIRECT_READ,
          ShadowRoAccess.access(s, false, LOAD, null, false));
    }
    assertEquals(AccessReason.SHADOW_HANDLE_MMIO_FAILED,
        ShadowRoAccess.access(TODAY, true, UNEMULATED, null, false));
    assertEquals(AccessOutcome.PF_INJECTED, AccessReason.SHADOW_HANDLE_MMIO_FAILED.outcome());
    assertEquals(AccessReason.NULL_HANDLER_WRITE,
        ShadowRoAccess.access(TODAY, true, PLAIN_STORE, null, false));
    assertEquals(AccessReason.IOREQ_TO_DM,
        ShadowRoAccess.access(TODAY, true, LOAD, null, true));
  }
}
