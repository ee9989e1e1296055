package org.hvmmu.mmu.dump;

/**
 * A segment register as QEMU keeps it ({@code SegmentCache}) and dumps it ({@code QEMUCPUSegment}):
 * the visible selector and the hidden base, limit and attributes. Also used for the LDTR and TR,
 * and for the GDTR and IDTR, whose selector and flags are 0.
 *
 * <p>{@code flags} holds the attributes where the second doubleword of a descriptor holds them
 * (QEMU's {@code DESC_*_MASK}, {@code target/i386/cpu.h}): type in bits 11:8, S bit 12, DPL bits
 * 14:13, P bit 15, AVL bit 20, L bit 21, D/B bit 22, G bit 23.
 *
 * @param selector the selector (16 bits in hardware; QEMU stores 32)
 * @param base the base address
 * @param limit the limit in bytes (already scaled by G), unsigned
 * @param flags the attributes, unsigned, laid out as above
 */
public record SegmentRegister(int selector, long base, int limit, int flags) {

  /** Bit 15 of {@code flags}: the segment is present. */
  public static final int FLAG_P = 1 << 15;

  /** Bit 21 of {@code flags}: a 64-bit code segment (meaningful in long mode only). */
  public static final int FLAG_L = 1 << 21;

  /** Bit 22 of {@code flags}: default operation size 32 bits (D/B). */
  public static final int FLAG_DB = 1 << 22;

  /** Bit 23 of {@code flags}: the limit is in 4-KByte units (QEMU has already scaled it). */
  public static final int FLAG_G = 1 << 23;

  /** Shift of the DPL in {@code flags}: bits 14:13. */
  public static final int DPL_SHIFT = 13;

  /** Mask of the DPL in {@code flags}: bits 14:13. */
  public static final int DPL_MASK = 3 << DPL_SHIFT;

  /** The all-zero register: selector, base, limit and flags 0. */
  public static final SegmentRegister ZERO = new SegmentRegister(0, 0, 0, 0);

  /**
   * Whether the L bit is set: for CS, a 64-bit code segment, which only long mode loads.
   *
   * @return bit 21 of {@code flags}
   */
  public boolean longMode() {
    return (flags & FLAG_L) != 0;
  }

  /**
   * The descriptor privilege level; for CS outside real and virtual-8086 mode, the CPL.
   *
   * @return bits 14:13 of {@code flags}
   */
  public int dpl() {
    return (flags & DPL_MASK) >>> DPL_SHIFT;
  }
}
