package org.hvmmu.benchmarks;

/**
 * One flat array of sorted, disjoint ranges, in the two layouts a single-array read copy could
 * take, with their builders and queries: what {@link FlatCopyLookupBenchmark} and {@link
 * FlatCopyBuildBenchmark} measure to show what a flat copy would cost the library's range set, whose
 * copy is two-level (leaves under an index) so that a write rebuilds one leaf, not N ranges.
 *
 * <p><b>Eytzinger</b> ({@link #eytzingerByLevels}): the library's leaf
 * format for all N ranges: {@code a[0]} holds n, {@code a[1 .. n]} the starts in Eytzinger order,
 * {@code a[n + 2 .. 2n + 1]} the ends at the same slots, {@code a[n + 1]} unused.
 *
 * <p><b>Sorted, padded to a power of two</b> ({@link #sortedPow2}): {@code p} the power of two
 * above n; {@code a[1 .. p - 1]} the starts ascending, the ends at {@code a[p + i]}, the slots past
 * n repeating the last range (so that the floor of a key past it is still the last range), and
 * {@code a[0]} n. Its insert is two {@code System.arraycopy} calls, as cheap as a flat copy gets.
 *
 * <p>Values must lie below 2^62: the searches compare by the sign of a difference.
 */
final class FlatRangeCopies {
  private FlatRangeCopies() {}

  /**
   * The Eytzinger copy, placed level by level (no data-dependent branch, where walking the slots
   * in order, as the library's leaf builder does, mispredicts about once a range): slot {@code 2^d + j} of a tree with a full last
   * level {@code D} holds rank {@code (2j + 1) 2^(D - d) - 1}, less one for each of the last
   * level's missing slots before it, so that each level is two strided gathers.
   *
   * @param s starts, ascending
   * @param e ends, ascending
   * @return the copy
   */
  static long[] eytzingerByLevels(long[] s, long[] e) {
    int n = s.length;
    int half = n + 1;
    long[] a = new long[2 * half];
    a[0] = n;
    if (n == 0) {
      return a;
    }
    int last = 31 - Integer.numberOfLeadingZeros(n); // the depth of the last level
    int present = n - ((1 << last) - 1); // slots used on it, from the left
    for (int d = 0; d < last; d++) {
      int stride = 1 << (last - d + 1);
      int rank = (1 << (last - d)) - 1; // the rank in a tree whose last level were full
      int k = 1 << d;
      int end = 2 << d;
      for (; k < end && rank < 2 * present - 1; k++, rank += stride) {
        a[k] = s[rank];
        a[half + k] = e[rank];
      }
      for (; k < end; k++, rank += stride) {
        int r = ((rank - 1) >> 1) + present; // past the present slots, half as many ranks
        a[k] = s[r];
        a[half + k] = e[r];
      }
    }
    int k = 1 << last;
    for (int j = 0; j < present; j++) {
      a[k + j] = s[2 * j];
      a[half + k + j] = e[2 * j];
    }
    return a;
  }

  /**
   * The sorted copy padded to a power of two.
   *
   * @param s starts, ascending, at least one
   * @param e ends, ascending
   * @return the copy
   */
  static long[] sortedPow2(long[] s, long[] e) {
    int n = s.length;
    int p = Integer.highestOneBit(n) << 1;
    long[] a = new long[2 * p];
    a[0] = n;
    System.arraycopy(s, 0, a, 1, n);
    System.arraycopy(e, 0, a, p + 1, n);
    for (int i = n + 1; i < p; i++) {
      a[i] = s[n - 1];
      a[p + i] = e[n - 1];
    }
    return a;
  }

  /**
   * The floor of every flat copy's rebuild: a new array of the Eytzinger copy's size filled by
   * two {@code System.arraycopy} calls, sorted.
   *
   * @param s starts, ascending
   * @param e ends, ascending
   * @return the array
   */
  static long[] copyFloor(long[] s, long[] e) {
    int n = s.length;
    int half = n + 1;
    long[] a = new long[2 * half];
    a[0] = n;
    System.arraycopy(s, 0, a, 1, n);
    System.arraycopy(e, 0, a, half + 1, n);
    return a;
  }

  /**
   * Whether an Eytzinger copy holds {@code q}: the library's leaf query, one descent.
   *
   * @param a the copy
   * @param q the value
   * @return true on a hit
   */
  static boolean eytzingerContains(long[] a, long q) {
    int half = a.length >>> 1;
    int i = 1;
    while (i < half) {
      i = 2 * i + (int) ((a[i] - q - 1) >>> 63);
    }
    int slot = i >>> (Integer.numberOfTrailingZeros(i) + 1);
    return slot != 0 & a[half + slot] >= q;
  }

  /**
   * Whether a sorted power-of-two copy holds {@code q}: a branch-free binary search of fixed
   * length.
   *
   * @param a the copy
   * @param q the value
   * @return true on a hit
   */
  static boolean sortedPow2Contains(long[] a, long q) {
    int p = a.length >>> 1;
    int lo = 0;
    for (int h = p >>> 1; h > 0; h >>>= 1) {
      lo += h & (int) ((a[lo + h] - q - 1) >> 63);
    }
    return lo != 0 & a[p + lo] >= q;
  }
}
