package org.hvmmu.rangeset;

import org.hvmmu.xen.Errno;

import java.util.ArrayList;
import java.util.List;

/**
 * The simplest correct range set: a list of disjoint, non-adjacent inclusive ranges rebuilt by brute
 * force on every change. Slow and obviously right; the oracle of the differential properties.
 */
final class RangeSetModel {
  /** Sorted by start: {s, e} pairs. */
  private List<long[]> ranges = new ArrayList<>();

  private long limit = RangeSet.UNLIMITED;

  static boolean le(long a, long b) {
    return Long.compareUnsigned(a, b) <= 0;
  }

  List<long[]> ranges() {
    return ranges;
  }

  long count() {
    return ranges.size();
  }

  void setLimit(long limit) {
    this.limit = limit;
  }

  long limit() {
    return limit;
  }

  /** The ranges after adding [s, e], without changing this model. */
  private List<long[]> withAdded(long s, long e) {
    List<long[]> out = new ArrayList<>();
    long ns = s;
    long ne = e;
    for (long[] r : ranges) {
      boolean touchesBelow = r[1] == -1L || le(ns, r[1] + 1); // r ends at or after ns - 1
      boolean touchesAbove = ne == -1L || le(r[0], ne + 1); // r starts at or before ne + 1
      if (touchesBelow && touchesAbove) {
        ns = le(r[0], ns) ? r[0] : ns;
        ne = le(ne, r[1]) ? r[1] : ne;
      } else {
        out.add(r);
      }
    }
    out.add(new long[] {ns, ne});
    out.sort((a, b) -> Long.compareUnsigned(a[0], b[0]));
    return out;
  }

  /** The ranges after removing [s, e], without changing this model. */
  private List<long[]> withRemoved(long s, long e) {
    List<long[]> out = new ArrayList<>();
    for (long[] r : ranges) {
      if (Long.compareUnsigned(r[1], s) < 0 || Long.compareUnsigned(r[0], e) > 0) {
        out.add(r);
        continue;
      }
      if (Long.compareUnsigned(r[0], s) < 0) {
        out.add(new long[] {r[0], s - 1});
      }
      if (Long.compareUnsigned(r[1], e) > 0) {
        out.add(new long[] {e + 1, r[1]});
      }
    }
    return out;
  }

  /** Replaces the ranges unless that needs a new range at the limit. */
  private int commit(List<long[]> next) {
    if (limit != RangeSet.UNLIMITED && next.size() > ranges.size() && ranges.size() >= limit) {
      return -Errno.ENOMEM;
    }
    ranges = next;
    return 0;
  }

  int add(long s, long e) {
    return commit(withAdded(s, e));
  }

  int remove(long s, long e) {
    return commit(withRemoved(s, e));
  }

  void purge() {
    ranges = new ArrayList<>();
  }

  boolean contains(long x) {
    for (long[] r : ranges) {
      if (le(r[0], x) && le(x, r[1])) {
        return true;
      }
    }
    return false;
  }

  boolean containsRange(long s, long e) {
    for (long[] r : ranges) {
      if (le(r[0], s) && le(e, r[1])) {
        return true;
      }
    }
    return false;
  }

  boolean overlaps(long s, long e) {
    for (long[] r : ranges) {
      if (le(r[0], e) && le(s, r[1])) {
        return true;
      }
    }
    return false;
  }

  /** The lowest start of a gap of {@code size} values, or -1 with found[0] false. */
  long claimStart(long size, boolean[] found) {
    long gap = 0;
    for (long[] r : ranges) {
      if (le(size, r[0] - gap)) {
        found[0] = true;
        return gap;
      }
      if (r[1] == -1L) {
        found[0] = false;
        return -1;
      }
      gap = r[1] + 1;
    }
    found[0] = le(size - 1, -1L - gap);
    return gap;
  }

  /** The intersections with [s, e], as {@link RangeSetTestRanges#of} formats them. */
  String reported(long s, long e) {
    List<Long> bounds = new ArrayList<>();
    for (long[] r : ranges) {
      if (le(r[0], e) && le(s, r[1])) {
        bounds.add(le(s, r[0]) ? r[0] : s);
        bounds.add(le(r[1], e) ? r[1] : e);
      }
    }
    long[] flat = new long[bounds.size()];
    for (int i = 0; i < flat.length; i++) {
      flat[i] = bounds.get(i);
    }
    return RangeSetTestRanges.of(flat);
  }
}
