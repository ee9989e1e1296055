package org.hvmmu.testkit;

import java.util.ArrayList;
import java.util.List;

/** Candidate lists for numbers: binary search towards a target, the target itself first. */
final class Shrinking {
  private Shrinking() {}

  /**
   * Candidates between {@code target} and {@code x}, unsigned, {@code target <= x}: {@code x - d},
   * {@code x - d/2}, {@code x - d/4}, ..., {@code x - 1} where {@code d = x - target}. Halving the
   * step finds the boundary of a failing region, and {@code x - 1} keeps it exact.
   */
  static List<Long> towardsUnsigned(long target, long x) {
    List<Long> out = new ArrayList<>(64);
    for (long step = x - target; step != 0; step >>>= 1) {
      out.add(x - step);
    }
    return out;
  }

  /** As {@link #towardsUnsigned} for signed values on either side of {@code target}. */
  static List<Long> towardsSigned(long target, long x) {
    if (x >= target) {
      return towardsUnsigned(target, x);
    }
    List<Long> out = new ArrayList<>(64);
    for (long step = target - x; step != 0; step >>>= 1) {
      out.add(x + step);
    }
    return out;
  }
}
