package org.hvmmu.rangeset;

import java.util.Arrays;

/**
 * Turns range sets and expected bounds into one comparable text, {@code {[0x0, 0x1], [0x5, 0x5]}},
 * so that a failed assertion shows both sets whole. The expected side is always written by hand in
 * the tests; the code under test only ever supplies the actual side.
 */
final class RangeSetTestRanges {
  private RangeSetTestRanges() {}

  /**
   * Formats bounds given in pairs.
   *
   * @param bounds {@code s0, e0, s1, e1, ...}
   * @return the text form
   */
  static String of(long... bounds) {
    if (bounds.length % 2 != 0) {
      throw new IllegalArgumentException("bounds come in pairs: " + Arrays.toString(bounds));
    }
    StringBuilder out = new StringBuilder("{");
    for (int i = 0; i < bounds.length; i += 2) {
      if (i > 0) {
        out.append(", ");
      }
      out.append("[0x")
          .append(Long.toHexString(bounds[i]))
          .append(", 0x")
          .append(Long.toHexString(bounds[i + 1]))
          .append(']');
    }
    return out.append('}').toString();
  }

  /**
   * What {@code set.reportRanges(s, e, ...)} reports.
   *
   * @param set the set
   * @param s first value of the window
   * @param e last value of the window
   * @return the text form of the reported ranges
   */
  static String reported(RangeSet set, long s, long e) {
    long[][] seen = {new long[8]};
    int[] size = {0};
    int rc =
        set.reportRanges(
            s,
            e,
            (a, b) -> {
              if (size[0] + 2 > seen[0].length) {
                seen[0] = Arrays.copyOf(seen[0], seen[0].length * 2);
              }
              seen[0][size[0]++] = a;
              seen[0][size[0]++] = b;
              return 0;
            });
    if (rc != 0) {
      throw new AssertionError("a visitor returning 0 made the report return " + rc);
    }
    return of(Arrays.copyOf(seen[0], size[0]));
  }

  /**
   * What {@code set.reportRanges(0, ~0, ...)} reports: every range of a sound set.
   *
   * @param set the set
   * @return the text form of its ranges
   */
  static String reported(RangeSet set) {
    return reported(set, 0, ~0L);
  }

  /**
   * The nodes of a {@link XenListRangeSet} as stored, bypassing the report (which the 2010 variant
   * gets wrong when the set does not start at 0).
   *
   * @param set the set
   * @return the text form of its list
   */
  static String listed(XenListRangeSet set) {
    return of(set.listRanges());
  }
}
