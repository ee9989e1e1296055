package org.hvmmu.benchmarks;

/**
 * Static limit: the ranges' starts in Eytzinger (breadth-first, 1-based) order with the ends
 * alongside, searched for the floor without a data-dependent branch. The best a read-only layout
 * does; the interval tree's lookup target is within 1.5x of it.
 *
 * <p>Slot {@code k}'s children are {@code 2k} and {@code 2k + 1}; an in-order walk of the slots
 * visits the starts ascending. The search descends {@code k = 2k + (starts[k] <= q)} until {@code k
 * > n}; the low bits of {@code k} then spell the path, a 1 for each step right. The floor is the
 * node of the last step right: drop the trailing zeros (steps left after it) and that 1, {@code k
 * >>>= tz(k) + 1}. When the search never steps right, {@code k} is a power of two and the shift
 * leaves slot 0, which holds the sentinel end -1 so that {@link #contains} misses without a branch.
 *
 * <p>The comparison is computed as the sign of {@code q - starts[k]}, which cannot overflow because
 * the workload's values are below {@code 2^62}. Immutable and allocation-free after construction.
 */
final class EytzingerRanges {
  private final int n;
  private final long[] starts;
  private final long[] ends;
  private final int[] rank;

  /**
   * Lays out sorted, disjoint ranges.
   *
   * @param sortedStarts range starts, ascending, each below {@code 2^62}
   * @param sortedEnds range ends (inclusive), ascending, each below {@code 2^62}
   */
  EytzingerRanges(long[] sortedStarts, long[] sortedEnds) {
    if (sortedStarts.length != sortedEnds.length) {
      throw new IllegalArgumentException(
          "starts: "
              + sortedStarts.length
              + ", ends: "
              + sortedEnds.length
              + " (expected: same length)");
    }
    n = sortedStarts.length;
    starts = new long[n + 1];
    ends = new long[n + 1];
    rank = new int[n + 1];
    starts[0] = Long.MAX_VALUE; // never read by the search
    ends[0] = -1; // floor "none": no value q >= 0 is at most -1
    rank[0] = -1;
    int placed = place(sortedStarts, sortedEnds, 0, 1);
    if (placed != n) {
      throw new AssertionError("placed " + placed + " of " + n);
    }
  }

  /**
   * Fills the subtree rooted at slot {@code k} in order from sorted index {@code i}; returns the
   * next.
   */
  private int place(long[] sortedStarts, long[] sortedEnds, int i, int k) {
    if (k <= n) {
      i = place(sortedStarts, sortedEnds, i, 2 * k);
      starts[k] = sortedStarts[i];
      ends[k] = sortedEnds[i];
      rank[k] = i;
      i = place(sortedStarts, sortedEnds, i + 1, 2 * k + 1);
    }
    return i;
  }

  /**
   * The slot of the last range whose start is at most {@code q}.
   *
   * @param q the value, in {@code [0, 2^62)}
   * @return the slot in {@code [1, n]}, or 0 when {@code q} is below the first start
   */
  int floorSlot(long q) {
    int k = 1;
    while (k <= n) {
      // 1 if starts[k] <= q: the complement of the sign bit of q - starts[k].
      k = 2 * k + (int) (~(q - starts[k]) >>> 63);
    }
    return k >>> (Integer.numberOfTrailingZeros(k) + 1);
  }

  /**
   * The sorted index of the last range whose start is at most {@code q}, as {@link
   * BinarySearchRanges#floorIndex} gives it.
   *
   * @param q the value, in {@code [0, 2^62)}
   * @return the index, or -1 when {@code q} is below the first start
   */
  int floorIndex(long q) {
    return rank[floorSlot(q)];
  }

  /**
   * Whether some inclusive range {@code [s, e]} holds {@code q}.
   *
   * @param q the value, in {@code [0, 2^62)}
   * @return true on a hit
   */
  boolean contains(long q) {
    return q <= ends[floorSlot(q)];
  }

  /**
   * Whether one range holds all of {@code [s, e]}, refusing {@code s > e} as the library's {@code
   * containsRange} does: the limit for a range query, the same descent plus the argument check.
   *
   * @param s the first value, in {@code [0, 2^62)}
   * @param e the last value, in {@code [s, 2^62)}
   * @return true if one range holds them all
   * @throws IllegalArgumentException if {@code s > e}
   */
  boolean containsRange(long s, long e) {
    if (s > e) {
      throw new IllegalArgumentException("range start " + s + " is above its end " + e);
    }
    return e <= ends[floorSlot(s)];
  }
}
