package org.hvmmu.benchmarks;

import java.util.Arrays;

/**
 * Static limit: the ranges as two sorted {@code long[]}, searched with {@link
 * Arrays#binarySearch(long[], long)}. No mutation, no locking, no indirection: what a lookup costs
 * with the plainest layout.
 *
 * <p>Values are compared signed, which is correct for the benchmark workload (all below {@code
 * 2^62}). Immutable and allocation-free after construction.
 */
final class BinarySearchRanges {
  private final long[] starts;
  private final long[] ends;

  /**
   * Copies sorted, disjoint ranges.
   *
   * @param starts range starts, ascending
   * @param ends range ends (inclusive), ascending, {@code ends[i] >= starts[i]}
   */
  BinarySearchRanges(long[] starts, long[] ends) {
    if (starts.length != ends.length) {
      throw new IllegalArgumentException(
          "starts: " + starts.length + ", ends: " + ends.length + " (expected: same length)");
    }
    this.starts = starts.clone();
    this.ends = ends.clone();
  }

  /**
   * The index of the last range whose start is at most {@code q}.
   *
   * @param q the value
   * @return the index, or -1 when {@code q} is below the first start
   */
  int floorIndex(long q) {
    int i = Arrays.binarySearch(starts, q);
    // Not found: binarySearch returns -(insertion point) - 1, and the floor is the insertion point
    // - 1.
    return i >= 0 ? i : -i - 2;
  }

  /**
   * Whether some inclusive range {@code [s, e]} holds {@code q}.
   *
   * @param q the value
   * @return true on a hit
   */
  boolean contains(long q) {
    int i = floorIndex(q);
    return i >= 0 && q <= ends[i];
  }
}
