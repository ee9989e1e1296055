package org.hvmmu.rangeset;

/**
 * Receives the inclusive ranges {@code [s, e]} that {@link RangeSet#reportRanges} reports, in ascending
 * order; models the callback of Xen's {@code rangeset_report_ranges}.
 *
 * <p>A visitor works in primitives so that reporting allocates nothing. It runs while the set holds its
 * writer lock: it may read the set, and any other set, but must not modify the set it visits (an
 * {@link IllegalStateException} says so if it tries).
 *
 * <pre>{@code
 * long[] total = new long[1];
 * set.reportRanges(0, ~0L, (s, e) -> { total[0] += e - s + 1; return 0; });
 * }</pre>
 */
@FunctionalInterface
public interface RangeVisitor {
  /**
   * Visits one inclusive range {@code [s, e]} (unsigned, {@code s <= e}).
   *
   * @param s first value of the range
   * @param e last value of the range, inclusive
   * @return 0 to go on; any other value stops the report, which returns it
   */
  int visit(long s, long e);
}
