package org.hvmmu.mmu;

/**
 * The bits of the #PF error code (Intel SDM vol. 3A §4.7, figure 4-12; AMD APM vol. 2 §8.4.2), which
 * are also the low 32 bits of an AMD nested page fault's EXITINFO1.
 */
public final class PageFaultErrorCode {
  private PageFaultErrorCode() {}

  /** Bit 0 (P): 0 for a not-present entry; 1 for a protection or reserved-bit violation. */
  public static final int P = 1;

  /** Bit 1 (W/R): the access was a write. */
  public static final int W = 1 << 1;

  /** Bit 2 (U/S): the access was a user-mode access. */
  public static final int U = 1 << 2;

  /** Bit 3 (RSVD): a reserved bit was set in a paging-structure entry used. */
  public static final int RSVD = 1 << 3;

  /** Bit 4 (I/D): an instruction fetch, reported only with NX enabled or SMEP on. */
  public static final int I = 1 << 4;

  /** Bit 5 (PK): a protection-key violation. */
  public static final int PK = 1 << 5;

  /** Bit 6 (SS): a shadow-stack access. */
  public static final int SS = 1 << 6;

  /**
   * The bits an error code describes in text, for example {@code "P|W|U"}, or {@code "0"}.
   *
   * @param errorCode the error code
   * @return the names of its bits 0-6, then any other bits in hex
   */
  public static String describe(long errorCode) {
    StringBuilder b = new StringBuilder();
    String[] names = {"P", "W", "U", "RSVD", "I", "PK", "SS"};
    for (int i = 0; i < names.length; i++) {
      if ((errorCode & (1L << i)) != 0) {
        b.append(b.length() == 0 ? "" : "|").append(names[i]);
      }
    }
    long rest = errorCode & ~0x7FL;
    if (rest != 0) {
      b.append(b.length() == 0 ? "" : "|").append("0x").append(Long.toHexString(rest));
    }
    return b.length() == 0 ? "0" : b.toString();
  }
}
