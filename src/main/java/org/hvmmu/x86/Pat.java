package org.hvmmu.x86;

/**
 * The page attribute table Xen programs into {@code MSR_IA32_CR_PAT}, and the memory type each PAT
 * index selects under it.
 *
 * <p>Xen's value is {@code 0x0000050100070406} ({@code XEN_MSR_PAT}): one byte per index, index 0 in
 * the low byte. So index 0 is WB, 1 WT, 2 UC-, 3 UC, 4 WC, 5 WP, 6 UC and 7 UC. Indices 0 to 3 match
 * the power-on default, so PWT and PCD keep their legacy meaning; PAT (bit 7) reaches WC and WP.
 */
public final class Pat {
  /** Xen's PAT MSR value. */
  public static final long XEN_MSR_PAT = 0x0000_0501_0007_0406L;

  private static final MemoryType[] XEN_TYPES = new MemoryType[8];

  static {
    for (int i = 0; i < 8; i++) {
      XEN_TYPES[i] = MemoryType.fromCode((int) (XEN_MSR_PAT >>> (8 * i)) & 0xFF);
    }
  }

  private Pat() {}

  /**
   * The memory type that PAT index {@code index} selects under Xen's PAT.
   *
   * @param index 0 to 7
   * @return the type
   * @throws IllegalArgumentException if {@code index} is outside 0 to 7
   */
  public static MemoryType xenType(int index) {
    if ((index & ~7) != 0) {
      throw new IllegalArgumentException("PAT index: " + index + " (expected: 0 to 7)");
    }
    return XEN_TYPES[index];
  }

  /**
   * The memory type a 4-KByte entry's flags select under Xen's PAT.
   *
   * @param flags packed flags
   * @return the type
   */
  public static MemoryType xenTypeOfFlags(int flags) {
    return XEN_TYPES[PteFlags.patIndex(flags)];
  }
}
