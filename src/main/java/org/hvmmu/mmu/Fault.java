package org.hvmmu.mmu;

/**
 * Faults encoded in one negative {@code long}, the way every translating method of {@link Vcpu}
 * returns them: a translation returns a physical address (non-negative, below 2^52) or a fault.
 *
 * <pre>
 *  63   62..52          51..0
 *   1   kind code       error code / exit qualification / EXITINFO1
 * </pre>
 *
 * <p>The kind's code is {@link FaultKind#code()}. The addresses that go with a fault (CR2 for #PF,
 * the guest-physical and guest-linear addresses of a VM exit) are the vCPU's {@link Vcpu#cr2()},
 * {@link Vcpu#faultGuestPhysical()} and {@link Vcpu#faultGuestLinear()}, so no fault allocates.
 *
 * <pre>{@code
 * long r = vcpu.translate(la, Access.WRITE | Access.USER);
 * if (Fault.isFault(r)) {
 *   if (Fault.kind(r) == FaultKind.PAGE_FAULT) inject(14, Fault.code(r), vcpu.cr2());
 * } else {
 *   long pa = r;
 * }
 * }</pre>
 */
public final class Fault {
  private Fault() {}

  private static final int KIND_SHIFT = 52;
  private static final long CODE_MASK = (1L << KIND_SHIFT) - 1;

  /**
   * Encodes a fault.
   *
   * @param kind the kind
   * @param code its code, below 2^52
   * @return the negative encoding
   */
  public static long of(FaultKind kind, long code) {
    return Long.MIN_VALUE | ((long) kind.code() << KIND_SHIFT) | (code & CODE_MASK);
  }

  /** Encodes a #PF with {@code errorCode}; allocation-free. */
  static long pageFault(long errorCode) {
    return Long.MIN_VALUE | (14L << KIND_SHIFT) | errorCode;
  }

  /** Encodes an EPT violation with {@code qualification}. */
  static long eptViolation(long qualification) {
    return Long.MIN_VALUE | (48L << KIND_SHIFT) | qualification;
  }

  /** An EPT misconfiguration. */
  static final long EPT_MISCONFIG = Long.MIN_VALUE | (49L << KIND_SHIFT);

  /** Encodes a #NPF with {@code exitInfo1}. */
  static long nestedPageFault(long exitInfo1) {
    return Long.MIN_VALUE | (0x400L << KIND_SHIFT) | exitInfo1;
  }

  /** #GP(0). */
  static final long GP0 = Long.MIN_VALUE | (13L << KIND_SHIFT);

  /** #SS(0). */
  static final long SS0 = Long.MIN_VALUE | (12L << KIND_SHIFT);

  /**
   * Whether a translation's result is a fault.
   *
   * @param result what a translating method returned
   * @return true if negative
   */
  public static boolean isFault(long result) {
    return result < 0;
  }

  /**
   * The kind of a fault.
   *
   * @param fault a negative result
   * @return its kind
   * @throws IllegalArgumentException if {@code fault} is not a fault
   */
  public static FaultKind kind(long fault) {
    if (fault >= 0) {
      throw new IllegalArgumentException(
          "not a fault: 0x" + Long.toHexString(fault) + " (expected: a negative result)");
    }
    return FaultKind.fromCode((int) ((fault >>> KIND_SHIFT) & 0x7FF));
  }

  /**
   * The kind's architectural code without decoding it to an enum (allocation- and branch-light).
   *
   * @param fault a negative result
   * @return the code, as {@link FaultKind#code()}
   */
  public static int kindCode(long fault) {
    return (int) ((fault >>> KIND_SHIFT) & 0x7FF);
  }

  /**
   * The code of a fault: the #PF error code, the EPT violation's exit qualification, the #NPF's
   * EXITINFO1, or 0.
   *
   * @param fault a negative result
   * @return the code
   */
  public static long code(long fault) {
    return fault & CODE_MASK;
  }

  /**
   * A fault in text, for example {@code "#PF 0x7 (P|W|U)"}.
   *
   * @param fault a negative result
   * @return the description
   */
  public static String describe(long fault) {
    FaultKind kind = kind(fault);
    long code = code(fault);
    switch (kind) {
      case PAGE_FAULT:
      case NESTED_PAGE_FAULT:
        return kind.label() + " 0x" + Long.toHexString(code) + " ("
            + PageFaultErrorCode.describe(code & 0xFFFF_FFFFL)
            + ((code & NpfExitInfo.FINAL_TRANSLATION) != 0 ? ", final" : "")
            + ((code & NpfExitInfo.GUEST_PAGE_TABLE) != 0 ? ", guest page table" : "") + ")";
      case EPT_VIOLATION:
        return kind.label() + " 0x" + Long.toHexString(code) + " ("
            + EptQualification.describe(code) + ")";
      default:
        return kind.label();
    }
  }
}
