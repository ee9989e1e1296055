package org.hvmmu.host.access;

/**
 * What a guest's access to a protected page (a frame in {@code mmio_ro_ranges}: an MSI-X table or
 * PBA page, an MMCFG window, other read-only MMIO) comes to, as the hypervisor decides it: the
 * eleven kinds of reference {@code msix-emulation.md} section 10.1. Each {@link AccessReason} has
 * exactly one outcome.
 */
public enum AccessOutcome {
  /** The access took effect: a store reached the device or a config register. */
  PERFORMED(1),
  /** A store was discarded and the guest was told it succeeded; nothing is logged. */
  DROPPED_SILENT(2),
  /** A store was discarded and the guest was told it succeeded; Xen logs a line. */
  DROPPED_LOGGED(3),
  /** The access went to the device model (an ioreq to the ioreq server, e.g. QEMU). */
  FORWARDED_TO_DM(4),
  /** A load returned what the device holds. */
  READ_FROM_DEVICE(5),
  /** A load returned all ones (~0), no device involved. */
  READ_ALL_ONES(6),
  /** A load returned the hypervisor's copy (msixtbl's shadows or its mask bit). */
  READ_FROM_SHADOW(7),
  /** The guest received a page fault (the processor's, re-injected). */
  PF_INJECTED(8),
  /** The guest received #GP(0). */
  GP_INJECTED(9),
  /** Xen crashed the domain ({@code domain_crash}). */
  DOMAIN_CRASHED(10),
  /**
   * Xen reported the fault fixed without changing what made the processor fault: the guest re-runs
   * the instruction and faults again, for ever.
   */
  REFAULT_LOOP(11);

  private final int code;

  AccessOutcome(int code) {
    this.code = code;
  }

  /**
   * A small integer for the outcome, 1 to 11 (0 means "no decision" where an int is returned).
   *
   * @return the code
   */
  public int code() {
    return code;
  }

  /**
   * The outcome with {@code code}.
   *
   * @param code 1 to 11
   * @return the outcome
   * @throws IllegalArgumentException for another code
   */
  public static AccessOutcome fromCode(int code) {
    AccessOutcome[] all = values();
    if (code < 1 || code > all.length) {
      throw new IllegalArgumentException("access outcome code " + code + " (expected: 1 to "
          + all.length + ")");
    }
    return all[code - 1];
  }
}
