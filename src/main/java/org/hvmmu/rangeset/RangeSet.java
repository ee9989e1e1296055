package org.hvmmu.rangeset;

import org.hvmmu.xen.Errno;

/**
 * A set of inclusive ranges {@code [s, e]} of unsigned 64-bit values with the semantics of Xen's
 * rangesets ({@code xen/common/rangeset.c}); each method names the Xen function it models.
 *
 * <p>Values are held in Java {@code long} and compared unsigned: {@code 0xFFFF_FFFF_FFFF_FFFFL} ({@code
 * ~0L}) is the largest. A range with {@code s > e} in that order is a caller error and throws {@link
 * IllegalArgumentException} naming both values in hex (Xen only {@code ASSERT}s it).
 *
 * <p>Adding merges overlapping <em>and adjacent</em> ranges, so a set built by add and remove holds
 * sorted, disjoint, non-adjacent ranges. Conditions a guest or the host configuration controls are
 * results, not exceptions: add, remove and claim return 0 or a negated {@link Errno} value.
 *
 * <pre>{@code
 * RangeSet ro = new IntervalTreeRangeSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX);
 * ro.addRange(0x1, 0x3);
 * ro.addSingleton(0x5);
 * ro.addSingleton(0xfed00);
 * ro.containsSingleton(0x2);   // true
 * ro.toString();               // "r/o mmio ranges { 1-3, 5, fed00 }"
 * }</pre>
 *
 * <p>Implementations say in their own documentation how they may be shared between threads.
 */
public interface RangeSet {
  /** Flag {@code RANGESETF_prettyprint_hex} (bit 0): {@link #toString()} prints values in hex. */
  int PRETTYPRINT_HEX = 1;

  /**
   * Flag {@code RANGESETF_no_print} (bit 1, Xen 2024): the set is left out of per-domain listings. It
   * does not change {@link #toString()}.
   */
  int NO_PRINT = 1 << 1;

  /** {@link #setLimit} argument that removes the limit (Xen's {@code nr_ranges = -1}). */
  long UNLIMITED = -1;

  /**
   * Adds the inclusive range {@code [s, e]}, merging it with every range it overlaps or touches; {@code
   * rangeset_add_range}.
   *
   * @param s first value, unsigned
   * @param e last value, unsigned, not below {@code s}
   * @return 0, or {@code -Errno.ENOMEM} when the limit is reached and a new range would be needed (the
   *     set is then unchanged); an add that only merges or extends never fails
   * @throws IllegalArgumentException if {@code s > e} (unsigned)
   */
  int addRange(long s, long e);

  /**
   * Removes the inclusive range {@code [s, e]}; {@code rangeset_remove_range}.
   *
   * @param s first value, unsigned
   * @param e last value, unsigned, not below {@code s}
   * @return 0, or {@code -Errno.ENOMEM} when removing would split a range and the limit is reached (the
   *     set is then unchanged)
   * @throws IllegalArgumentException if {@code s > e} (unsigned)
   */
  int removeRange(long s, long e);

  /**
   * Adds the inclusive range {@code [x, x]}; {@code rangeset_add_singleton}.
   *
   * @param x the value, unsigned
   * @return as {@link #addRange}
   */
  default int addSingleton(long x) {
    return addRange(x, x);
  }

  /**
   * Removes the inclusive range {@code [x, x]}; {@code rangeset_remove_singleton}.
   *
   * @param x the value, unsigned
   * @return as {@link #removeRange}
   */
  default int removeSingleton(long x) {
    return removeRange(x, x);
  }

  /**
   * Whether every value of the inclusive range {@code [s, e]} is in the set; {@code
   * rangeset_contains_range}.
   *
   * @param s first value, unsigned
   * @param e last value, unsigned, not below {@code s}
   * @return true if the whole range is covered (by one range of the set, as Xen decides it)
   * @throws IllegalArgumentException if {@code s > e} (unsigned)
   */
  boolean containsRange(long s, long e);

  /**
   * Whether {@code x} is in the set, the inclusive range {@code [x, x]}; {@code
   * rangeset_contains_singleton}. This is the hot path of the whole library: every guest PTE write that
   * maps MMIO asks it of {@code mmio_ro_ranges}.
   *
   * @param x the value, unsigned
   * @return true if some range holds {@code x}
   */
  boolean containsSingleton(long x);

  /**
   * Whether some value of the inclusive range {@code [s, e]} is in the set; {@code
   * rangeset_overlaps_range}.
   *
   * @param s first value, unsigned
   * @param e last value, unsigned, not below {@code s}
   * @return true if the set and {@code [s, e]} intersect
   * @throws IllegalArgumentException if {@code s > e} (unsigned)
   */
  boolean overlapsRange(long s, long e);

  /**
   * Visits, in ascending order, the intersection of each range with the inclusive range {@code [s, e]};
   * {@code rangeset_report_ranges}.
   *
   * @param s first value, unsigned
   * @param e last value, unsigned, not below {@code s}
   * @param visitor called once per intersecting range with the clipped bounds
   * @return 0, or the first non-zero value the visitor returned (the report stops there)
   * @throws IllegalArgumentException if {@code s > e} (unsigned)
   */
  int reportRanges(long s, long e, RangeVisitor visitor);

  /**
   * Claims the lowest gap of {@code size} values and adds it; {@code rangeset_claim_range}.
   *
   * @param size how many consecutive values to claim, unsigned, at least 1
   * @param start a one-element array that receives the first claimed value on success
   * @return 0, {@code -Errno.ENOSPC} when no gap is large enough, or {@code -Errno.ENOMEM} when a new
   *     range is needed at the limit
   * @throws IllegalArgumentException if {@code size} is 0 or {@code start} has no element
   */
  int claimRange(long size, long[] start);

  /**
   * Repeatedly offers the first range to {@code consumer} and removes the values it consumed, until the
   * set is empty or the consumer returns non-zero; {@code rangeset_consume_ranges}.
   *
   * @param consumer the callback
   * @return the consumer's last result (0 when the set was emptied)
   * @throws IllegalArgumentException if the consumer reports more values than the range holds
   */
  int consumeRanges(RangeConsumer consumer);

  /**
   * Adds every range of {@code other} to this set; {@code rangeset_merge}. On an error the ranges added
   * so far stay (as in Xen).
   *
   * @param other the set to add; may be this set (nothing changes)
   * @return 0, or the first error of {@link #addRange}
   */
  int merge(RangeSet other);

  /**
   * Removes every range of {@code other} from this set; {@code rangeset_subtract}. On an error the
   * ranges removed so far stay removed (as in Xen).
   *
   * @param other the set to remove; may be this set (it is then emptied)
   * @return 0, or the first error of {@link #removeRange}
   */
  int subtract(RangeSet other);

  /**
   * Limits the number of ranges the set may hold; {@code rangeset_limit}. Adds and removes that would
   * need a new range beyond the limit return {@code -Errno.ENOMEM}.
   *
   * @param maxRanges the most ranges, at least 0, or {@link #UNLIMITED}
   * @throws IllegalArgumentException if {@code maxRanges} is below -1
   */
  void setLimit(long maxRanges);

  /**
   * The number of ranges in the set.
   *
   * @return how many disjoint ranges the set holds
   */
  long rangeCount();

  /**
   * Whether the set holds no range; {@code rangeset_is_empty}.
   *
   * @return true if empty
   */
  boolean isEmpty();

  /** Removes every range; {@code rangeset_purge}. The limit stays. */
  void purge();

  /**
   * The set's name, {@code "(no name)"} when created without one.
   *
   * @return the name
   */
  String name();

  /**
   * The flags the set was created with ({@link #PRETTYPRINT_HEX}, {@link #NO_PRINT}).
   *
   * @return the flags
   */
  int flags();

  /**
   * Prints the set as Xen's {@code rangeset_printk} does: the name left-justified in 10 columns, a space
   * and {@code {}, each range as {@code " s"} or {@code " s-e"} separated by commas, then {@code " }"};
   * lower-case hex without {@code 0x} with {@link #PRETTYPRINT_HEX}, unsigned decimal otherwise. For
   * example {@code "r/o mmio ranges { 1-3, 5, fed00 }"} and {@code "(no name)  { 10-20 }"}.
   *
   * @return the printed set
   */
  @Override
  String toString();
}
