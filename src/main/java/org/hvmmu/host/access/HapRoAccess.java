package org.hvmmu.host.access;

/**
 * An HVM guest's access, on EPT or NPT, to a page the guest may not simply write: read-only {@code
 * mmio_direct} (the frame in {@code mmio_ro_ranges}; the EPT or NPT entry has no W) or {@code
 * p2m_mmio_dm} (not present: the device model's, where QEMU leaves a passed-through MSI-X table).
 * The violation reaches {@code hvm_hap_nested_page_fault} ({@code arch/x86/hvm/hvm.c}) with the
 * qualification the processor reported; read at RELEASE-4.22.0 and RELEASE-4.1.0 (reference
 * {@code msix-emulation.md} sections 2.2 and 2.4). Pure: primitives in, a constant out.
 */
public final class HapRoAccess {
  private HapRoAccess() {}

  /**
   * The decision.
   *
   * @param s the era's switches
   * @param npt whether the processor is AMD's (NPT: the crash is {@code svm_do_nested_pgfault}'s)
   * @param mmioDm whether the page is {@code p2m_mmio_dm}; false for read-only {@code mmio_direct}
   * @param insn the instruction's class ({@link InstructionClass#LOAD} for a load)
   * @param handler what the internal MMIO handler that accepts the access decided ({@link
   *     MsixtblAccess}), or null if none accepts it; a handler's {@link
   *     AccessOutcome#FORWARDED_TO_DM} means UNHANDLEABLE, the access goes on to an ioreq server
   * @param ioreqServer whether an ioreq server (the device model) claims the address
   * @return the reason, whose {@link AccessReason#outcome()} is the outcome
   */
  public static AccessReason access(RoMmioSwitches s, boolean npt, boolean mmioDm,
      InstructionClass insn, AccessReason handler, boolean ioreqServer) {
    boolean write = insn.writes();
    if (!mmioDm) {
      if (!write) {
        return AccessReason.HAP_DIRECT_READ;
      }
      if (!s.hvmRoMmioEmulation()) {
        return npt ? AccessReason.NPF_CRASH : AccessReason.EPT_VIOLATION_CRASH;
      }
    }
    if (insn == InstructionClass.UNEMULATED) {
      return AccessReason.HANDLE_MMIO_FAILED;
    }
    return emulated(write, insn, handler, ioreqServer);
  }

  /** {@code hvmemul_do_io}: the internal handler, else an ioreq server, else the null handler. */
  static AccessReason emulated(boolean write, InstructionClass insn, AccessReason handler,
      boolean ioreqServer) {
    if (handler != null && handler.outcome() != AccessOutcome.FORWARDED_TO_DM) {
      return handler;
    }
    if (ioreqServer) {
      return handler != null ? handler : AccessReason.IOREQ_TO_DM;
    }
    if (!write) {
      return AccessReason.NULL_HANDLER_READ;
    }
    // A read-modify-write reads its destination through the null handler; a movs reads its
    // source wherever that is, and only its store lands here.
    boolean rmw = insn == InstructionClass.READ_MODIFY_WRITE || insn == InstructionClass.LOCKED;
    return rmw ? AccessReason.NULL_HANDLER_RMW : AccessReason.NULL_HANDLER_WRITE;
  }
}
