package org.hvmmu.mmu;

/**
 * What a translation can raise instead of a physical address. Each kind carries its architectural
 * number: an exception vector, a VMX basic exit reason, or an SVM exit code.
 */
public enum FaultKind {
  /** #SS(0), vector 12: a non-canonical address through the SS segment. */
  STACK_FAULT(12, "#SS"),
  /** #GP(0), vector 13: a non-canonical address, or a bad register load. */
  GENERAL_PROTECTION(13, "#GP"),
  /** #PF, vector 14: the code is the error code, CR2 the linear address. */
  PAGE_FAULT(14, "#PF"),
  /** VM exit, basic reason 48 (Intel SDM vol. 3C appendix C): the code is the exit qualification. */
  EPT_VIOLATION(48, "EPT violation"),
  /** VM exit, basic reason 49: an EPT entry with reserved bits or a reserved combination; code 0. */
  EPT_MISCONFIG(49, "EPT misconfig"),
  /** SVM exit code VMEXIT_NPF 0x400 (AMD APM vol. 2 appendix C): the code is EXITINFO1. */
  NESTED_PAGE_FAULT(0x400, "#NPF");

  private static final FaultKind[] BY_CODE = new FaultKind[0x401];

  static {
    for (FaultKind kind : values()) {
      BY_CODE[kind.code] = kind;
    }
  }

  private final int code;
  private final String label;

  FaultKind(int code, String label) {
    this.code = code;
    this.label = label;
  }

  /**
   * The architectural number: vector, exit reason or exit code.
   *
   * @return the code
   */
  public int code() {
    return code;
  }

  /**
   * The name the command line prints: {@code "#PF"}, {@code "EPT violation"}, ...
   *
   * @return the label
   */
  public String label() {
    return label;
  }

  /**
   * The kind with architectural number {@code code}.
   *
   * @param code a vector, exit reason or exit code
   * @return the kind
   * @throws IllegalArgumentException if no kind has that code
   */
  public static FaultKind fromCode(int code) {
    FaultKind kind = code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    if (kind == null) {
      throw new IllegalArgumentException("fault kind code: 0x" + Integer.toHexString(code)
          + " (expected: 12, 13, 14, 48, 49 or 0x400)");
    }
    return kind;
  }
}
