package org.hvmmu.host.access;

/**
 * An HVM guest's access, under shadow paging, to read-only {@code mmio_direct} or {@code
 * p2m_mmio_dm}, as {@code sh_page_fault} ({@code arch/x86/mm/shadow/multi.c}) decides it. The
 * reference flags the read-only case as unverified (section 2.2 item 5); read at RELEASE-4.1.0 and
 * RELEASE-4.22.0: {@code _sh_propagate} strips {@code _PAGE_RW} for an {@code mmio_direct} frame in
 * {@code mmio_ro_ranges} (4.22 lines 621-624), and {@code sh_page_fault} hands only {@code
 * p2m_mmio_dm} to {@code handle_mmio_with_translation} and skips stores only to {@code
 * p2m_is_readonly} types ({@code emulate_readonly}); {@code mmio_direct} is neither, so the fault
 * ends as "fixed" with the same read-only entry and the guest re-faults for ever. Pure.
 */
public final class ShadowRoAccess {
  private ShadowRoAccess() {}

  /**
   * The decision.
   *
   * @param s the era's switches (no shadow difference between the eras was found)
   * @param mmioDm whether the page is {@code p2m_mmio_dm}; false for read-only {@code mmio_direct}
   * @param insn the instruction's class
   * @param handler the accepting internal handler's decision, or null (as {@link HapRoAccess})
   * @param ioreqServer whether an ioreq server claims the address
   * @return the reason
   */
  public static AccessReason access(RoMmioSwitches s, boolean mmioDm, InstructionClass insn,
      AccessReason handler, boolean ioreqServer) {
    boolean write = insn.writes();
    if (!mmioDm) {
      return write ? AccessReason.SHADOW_REFAULT : AccessReason.SHADOW_DIRECT_READ;
    }
    if (insn == InstructionClass.UNEMULATED) {
      return AccessReason.SHADOW_HANDLE_MMIO_FAILED;
    }
    return HapRoAccess.emulated(write, insn, handler, ioreqServer);
  }
}
