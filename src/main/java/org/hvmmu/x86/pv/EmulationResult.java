package org.hvmmu.x86.pv;

/**
 * The result codes of Xen's x86 emulator callbacks ({@code X86EMUL_*} in {@code x86_emulate.h}), as
 * {@link PvMmu#ptwrEmulatedUpdate} returns them.
 */
public enum EmulationResult {
  /** The write was performed ({@code X86EMUL_OKAY}, 0). */
  OKAY(0),
  /** The write cannot be emulated; nothing changed ({@code X86EMUL_UNHANDLEABLE}, 1). */
  UNHANDLEABLE(1),
  /** A fault must be delivered to the guest ({@code X86EMUL_EXCEPTION}, 2). */
  EXCEPTION(2),
  /** Retry the instruction; nothing changed ({@code X86EMUL_RETRY}, 3). */
  RETRY(3),
  /**
   * The compare-and-exchange found another value; nothing changed. Xen gives it code 3 and maps it
   * to {@link #RETRY} in the caller ({@code X86EMUL_CMPXCHG_FAILED}).
   */
  CMPXCHG_FAILED(3);

  /** Xen's code. {@link #CMPXCHG_FAILED} shares 3 with {@link #RETRY}. */
  public final int code;

  EmulationResult(int code) {
    this.code = code;
  }

  /**
   * The result with code {@code code}; 3 gives {@link #RETRY}, as Xen's callers read it.
   *
   * @param code 0 to 3
   * @return the result
   * @throws IllegalArgumentException for another code
   */
  public static EmulationResult fromCode(int code) {
    return switch (code) {
      case 0 -> OKAY;
      case 1 -> UNHANDLEABLE;
      case 2 -> EXCEPTION;
      case 3 -> RETRY;
      default -> throw new IllegalArgumentException("emulation result: " + code
          + " (expected: 0 to 3)");
    };
  }
}
