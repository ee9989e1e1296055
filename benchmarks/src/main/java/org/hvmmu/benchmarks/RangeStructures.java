package org.hvmmu.benchmarks;

import com.google.common.collect.Range;
import com.google.common.collect.TreeRangeSet;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.rangeset.XenListRangeSet;
import org.roaringbitmap.RoaringBitmap;

/**
 * Builds each measured structure from a {@link RangeWorkload}, and checks that it holds exactly the
 * workload's ranges, so a benchmark never measures a set that a failed add left short.
 */
final class RangeStructures {
  private RangeStructures() {}

  /**
   * The library's interval tree, ranges added in ascending order.
   *
   * @param workload the ranges
   * @return the set
   */
  static IntervalTreeRangeSet intervalTree(RangeWorkload workload) {
    IntervalTreeRangeSet set =
        new IntervalTreeRangeSet("bench interval tree", RangeSet.PRETTYPRINT_HEX);
    for (int i = 0; i < workload.n; i++) {
      check(set.addRange(workload.starts[i], workload.ends[i]), "IntervalTreeRangeSet.addRange");
    }
    checkCount(set.rangeCount(), workload.n, "IntervalTreeRangeSet");
    return set;
  }

  /**
   * The Xen-style sorted linked list, ranges added in <em>descending</em> order: Xen's {@code
   * find_range} scans from the head, so each add then stops at the first node and building 65536
   * ranges takes linear rather than quadratic time.
   *
   * @param workload the ranges
   * @return the set
   */
  static XenListRangeSet xenList(RangeWorkload workload) {
    XenListRangeSet set =
        new XenListRangeSet("bench xen list", 0, XenListRangeSet.Variant.XEN_4_22);
    for (int i = workload.n - 1; i >= 0; i--) {
      check(set.addRange(workload.starts[i], workload.ends[i]), "XenListRangeSet.addRange");
    }
    checkCount(set.rangeCount(), workload.n, "XenListRangeSet");
    return set;
  }

  /**
   * Guava's mutable {@code TreeRangeSet} of closed ranges (no two are connected: gaps are at least
   * a page).
   *
   * @param workload the ranges
   * @return the set
   */
  static TreeRangeSet<Long> guavaTreeRangeSet(RangeWorkload workload) {
    TreeRangeSet<Long> set = TreeRangeSet.create();
    for (int i = 0; i < workload.n; i++) {
      set.add(Range.closed(workload.starts[i], workload.ends[i]));
    }
    checkCount(set.asRanges().size(), workload.n, "TreeRangeSet");
    return set;
  }

  /**
   * The JDK's lock-free sorted map, start to end: the peer that, like the interval tree, lets
   * readers run while a writer mutates.
   *
   * @param workload the ranges
   * @return the map
   */
  static ConcurrentSkipListMap<Long, Long> skipList(RangeWorkload workload) {
    ConcurrentSkipListMap<Long, Long> map = new ConcurrentSkipListMap<>();
    for (int i = 0; i < workload.n; i++) {
      map.put(workload.starts[i], workload.ends[i]);
    }
    checkCount(map.size(), workload.n, "ConcurrentSkipListMap");
    return map;
  }

  /**
   * A {@code TreeMap} from each range's start to its end, searched with {@code floorEntry}.
   *
   * @param workload the ranges
   * @return the map
   */
  static TreeMap<Long, Long> treeMap(RangeWorkload workload) {
    TreeMap<Long, Long> map = new TreeMap<>();
    for (int i = 0; i < workload.n; i++) {
      map.put(workload.starts[i], workload.ends[i]);
    }
    checkCount(map.size(), workload.n, "TreeMap");
    return map;
  }

  /**
   * A 32-bit RoaringBitmap of every page of every range, run-optimised.
   *
   * @param workload the ranges (all below {@code 2^31})
   * @return the bitmap
   */
  static RoaringBitmap roaringBitmap(RangeWorkload workload) {
    RoaringBitmap bitmap = new RoaringBitmap();
    long pages = 0;
    for (int i = 0; i < workload.n; i++) {
      bitmap.add(workload.starts[i], workload.ends[i] + 1); // end exclusive
      pages += workload.ends[i] - workload.starts[i] + 1;
    }
    bitmap.runOptimize();
    checkCount(bitmap.getLongCardinality(), pages, "RoaringBitmap pages");
    return bitmap;
  }

  /**
   * The sorted-array baseline.
   *
   * @param workload the ranges
   * @return the arrays
   */
  static BinarySearchRanges binarySearch(RangeWorkload workload) {
    return new BinarySearchRanges(workload.starts, workload.ends);
  }

  /**
   * The Eytzinger-layout baseline.
   *
   * @param workload the ranges
   * @return the arrays
   */
  static EytzingerRanges eytzinger(RangeWorkload workload) {
    return new EytzingerRanges(workload.starts, workload.ends);
  }

  private static void check(int rc, String what) {
    if (rc != 0) {
      throw new IllegalStateException(what + " returned " + rc);
    }
  }

  private static void checkCount(long actual, long expected, String what) {
    if (actual != expected) {
      throw new IllegalStateException(what + " holds " + actual + " (expected: " + expected + ")");
    }
  }
}
