package org.hvmmu.testkit;

/**
 * An inclusive range {@code [start, end]} of unsigned 64-bit values, {@code start <= end} unsigned,
 * as the generators of {@link Gens} produce it.
 *
 * <pre>{@code
 * new UnsignedRange(0x10, 0x1f).toString();   // "[0x10, 0x1f]"
 * new UnsignedRange(0, -1L).contains(-1L);     // true: -1L is ~0, the largest value
 * }</pre>
 *
 * @param start the first value, unsigned
 * @param end the last value, unsigned, not below {@code start}
 */
public record UnsignedRange(long start, long end) {
  /**
   * Checks the bounds of the inclusive range {@code [start, end]}.
   *
   * @param start the first value, unsigned
   * @param end the last value, unsigned, not below {@code start}
   * @throws IllegalArgumentException if {@code start > end} unsigned; the message gives both in hex
   */
  public UnsignedRange {
    if (Long.compareUnsigned(start, end) > 0) {
      throw new IllegalArgumentException(
          "range start 0x"
              + Long.toHexString(start)
              + " is above its end 0x"
              + Long.toHexString(end));
    }
  }

  /**
   * Whether the inclusive range {@code [start, end]} holds {@code value}, unsigned.
   *
   * @param value an unsigned value
   * @return {@code start <= value <= end}, unsigned
   */
  public boolean contains(long value) {
    return Long.compareUnsigned(start, value) <= 0 && Long.compareUnsigned(value, end) <= 0;
  }

  /**
   * The range in hex, independent of the default locale.
   *
   * @return for example {@code "[0x10, 0x1f]"}
   */
  @Override
  public String toString() {
    return "[0x" + Long.toHexString(start) + ", 0x" + Long.toHexString(end) + "]";
  }
}
