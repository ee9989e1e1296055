package org.hvmmu.rangeset;

import org.hvmmu.xen.Errno;

/**
 * The callback of {@link RangeSet#consumeRanges}, modelling Xen's {@code rangeset_consume_ranges}: it is
 * offered the first range of the set, says how many of its leading values it consumed, and returns 0 to
 * be offered the next range or any other value to stop.
 */
@FunctionalInterface
public interface RangeConsumer {
  /**
   * Offers the inclusive range {@code [s, e]}, the set's first.
   *
   * @param s first value of the range
   * @param e last value of the range, inclusive
   * @param consumed a one-element array holding 0 on entry; the callback stores in {@code consumed[0]}
   *     how many values from {@code s} on it consumed, unsigned, at most {@code e - s + 1}; 0 means
   *     none (so the 2^64 values of {@code [0, ~0]} cannot all be consumed in one offer: at most
   *     {@code ~0} of them)
   * @return 0 to go on; any other value (typically {@code -Errno.ERESTART}) stops the loop and is
   *     returned; returning 0 without consuming anything is an error ({@link IllegalStateException}),
   *     since the same range would be offered forever
   */
  int consume(long s, long e, long[] consumed);
}
