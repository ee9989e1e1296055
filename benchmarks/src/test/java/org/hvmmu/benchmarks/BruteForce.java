package org.hvmmu.benchmarks;

/**
 * The oracle: linear scans over a workload's ranges, too slow to benchmark and too simple to be
 * wrong.
 */
final class BruteForce {
  private BruteForce() {}

  static boolean contains(RangeWorkload w, long q) {
    for (int i = 0; i < w.n; i++) {
      if (w.starts[i] <= q && q <= w.ends[i]) {
        return true;
      }
    }
    return false;
  }

  static boolean containsRange(RangeWorkload w, long s, long e) {
    for (int i = 0; i < w.n; i++) {
      if (w.starts[i] <= s && e <= w.ends[i]) {
        return true;
      }
    }
    return false;
  }

  static boolean overlapsRange(RangeWorkload w, long s, long e) {
    for (int i = 0; i < w.n; i++) {
      if (w.starts[i] <= e && s <= w.ends[i]) {
        return true;
      }
    }
    return false;
  }

  static long coveredPages(RangeWorkload w, long s, long e) {
    long pages = 0;
    for (int i = 0; i < w.n; i++) {
      long lo = Math.max(s, w.starts[i]);
      long hi = Math.min(e, w.ends[i]);
      if (lo <= hi) {
        pages += hi - lo + 1;
      }
    }
    return pages;
  }

  /** The index of the last range starting at or below {@code q}, or -1. */
  static int floorIndex(long[] starts, long q) {
    int floor = -1;
    for (int i = 0; i < starts.length && starts[i] <= q; i++) {
      floor = i;
    }
    return floor;
  }
}
