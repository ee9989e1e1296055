package org.hvmmu.rangeset;

import java.util.Arrays;

/** Argument checks and printing shared by the range set implementations. */
final class Ranges {
  /** Xen keeps names in a 32-byte buffer: 31 characters and a NUL. */
  static final int MAX_NAME_LENGTH = 31;

  /** The name Xen gives a set created without one. */
  static final String NO_NAME = "(no name)";

  private static final int KNOWN_FLAGS = RangeSet.PRETTYPRINT_HEX | RangeSet.NO_PRINT;

  private Ranges() {}

  /** Throws unless {@code s <= e} unsigned; Xen's {@code ASSERT(s <= e)}, always on. */
  static void checkRange(long s, long e) {
    if (Long.compareUnsigned(s, e) > 0) {
      throw badRange(s, e); // the message is built out of line: the query paths stay small
    }
  }

  private static IllegalArgumentException badRange(long s, long e) {
    return new IllegalArgumentException(
        "range start 0x" + Long.toHexString(s) + " is above its end 0x" + Long.toHexString(e));
  }

  /** The stored name: {@link #NO_NAME} for null; longer than Xen's buffer is a caller error. */
  static String checkName(String name) {
    if (name == null) {
      return NO_NAME;
    }
    if (name.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "range set name is "
              + name.length()
              + " characters, Xen keeps at most "
              + MAX_NAME_LENGTH
              + ": \""
              + name
              + "\"");
    }
    return name;
  }

  /** Throws on flag bits Xen does not define ({@code rangeset_new}'s BUG_ON). */
  static int checkFlags(int flags) {
    if ((flags & ~KNOWN_FLAGS) != 0) {
      throw new IllegalArgumentException("unknown range set flags 0x" + Integer.toHexString(flags));
    }
    return flags;
  }

  /** Throws unless {@code maxRanges} is at least 0 or {@link RangeSet#UNLIMITED}. */
  static long checkLimit(long maxRanges) {
    if (maxRanges < RangeSet.UNLIMITED) {
      throw new IllegalArgumentException(
          "range limit " + maxRanges + " is negative (use RangeSet.UNLIMITED for none)");
    }
    return maxRanges;
  }

  /** Throws unless a claim names a size and somewhere to put the start. */
  static void checkClaim(long size, long[] start) {
    if (size == 0) {
      throw new IllegalArgumentException("claim of 0 values");
    }
    if (start == null || start.length < 1) {
      throw new IllegalArgumentException("claim needs a one-element array to receive the start");
    }
  }

  /** Whether {@code a <= b} unsigned. */
  static boolean le(long a, long b) {
    return Long.compareUnsigned(a, b) <= 0;
  }

  /** Whether {@code a < b} unsigned. */
  static boolean lt(long a, long b) {
    return Long.compareUnsigned(a, b) < 0;
  }

  /** The larger of two unsigned values. */
  static long max(long a, long b) {
    return Long.compareUnsigned(a, b) >= 0 ? a : b;
  }

  /** The smaller of two unsigned values. */
  static long min(long a, long b) {
    return Long.compareUnsigned(a, b) <= 0 ? a : b;
  }

  /**
   * The ranges of {@code set} as {@code [s0, e0, s1, e1, ...]}, read with one {@code reportRanges}
   * over {@code [0, ~0]}; merge and subtract copy the other set first, so they never hold two sets'
   * locks at once.
   */
  static long[] snapshot(RangeSet set) {
    long[][] out = {new long[16]};
    int[] n = {0};
    set.reportRanges(
        0,
        -1L,
        (s, e) -> {
          if (n[0] + 2 > out[0].length) {
            out[0] = Arrays.copyOf(out[0], out[0].length * 2);
          }
          out[0][n[0]++] = s;
          out[0][n[0]++] = e;
          return 0;
        });
    return Arrays.copyOf(out[0], n[0]);
  }

  /** Starts {@code rangeset_printk}'s output: the name left-justified in 10 columns, then a brace. */
  static StringBuilder printHeader(String name) {
    StringBuilder out = new StringBuilder(name);
    while (out.length() < 10) {
      out.append(' ');
    }
    return out.append(" {");
  }

  /** Appends one range as {@code rangeset_printk} does; {@code first} omits the comma. */
  static void printRange(StringBuilder out, boolean hex, boolean first, long s, long e) {
    if (!first) {
      out.append(',');
    }
    out.append(' ').append(hex ? Long.toHexString(s) : Long.toUnsignedString(s));
    if (s != e) {
      out.append('-').append(hex ? Long.toHexString(e) : Long.toUnsignedString(e));
    }
  }

  /** Ends {@code rangeset_printk}'s output. */
  static String printFooter(StringBuilder out) {
    return out.append(" }").toString();
  }
}
