package org.hvmmu.rangeset;

import org.hvmmu.xen.Errno;

import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;
import org.hvmmu.internal.IntervalBTree;

/**
 * The product range set: Xen's rangeset semantics, with every upstream defect fixed, on a balanced
 * interval tree (a B+-tree in one primitive array, see {@code docs/rangeset.md}) whose queries are
 * lock-free and allocate nothing.
 *
 * <p>Results equal those of {@link XenListRangeSet.Variant#CORRECTED}: ranges stay sorted, disjoint and
 * non-adjacent; removing {@code [s, ~0]} across several ranges does not wrap {@code e + 1} to 0;
 * claiming on an empty set succeeds at 0 and a claimed range merges with its neighbours; the limit is
 * a true maximum, and {@link #setLimit} refuses a limit below the current count.
 *
 * <p><b>Threads.</b> Any number of threads may query while others modify. {@link #containsSingleton},
 * {@link #containsRange}, {@link #overlapsRange}, {@link #rangeCount} and {@link #isEmpty} take no lock
 * and write no shared memory: the set keeps two identical trees, each with a sequence number; a writer
 * updates the standby tree, publishes it with one volatile write, then brings the other up to date. A
 * query reads the published tree and retries only if a writer finished an update and started the next
 * one on that same tree meanwhile, so some thread always makes progress (lock-free), and a query that
 * starts after a modifying call returned sees its effect (linearizable). Modifications, {@link
 * #reportRanges}, {@link #consumeRanges}, {@link #claimRange} and {@link #toString} serialise on one
 * lock, as Xen's writers do. While the set holds at most 64 ranges (real hosts hold about 16), a
 * modification also publishes an immutable Eytzinger-ordered copy of them with one volatile write,
 * and queries read that copy instead: one reference, then a branch-free descent, no sequence
 * number to re-read.
 *
 * <p><b>Cost.</b> Queries are O(log N) and allocate nothing. A modification is O(log N) per range it
 * creates, changes or swallows, on the standby tree, plus a copy of the few nodes it changed into the
 * other tree, plus, while the set holds at most 64 ranges, an O(N) rebuild of the small copy (which
 * allocates it); {@link #claimRange} scans like Xen's, O(N). Memory is about 0.9 KiB per 16 ranges
 * per tree, so twice that in all.
 *
 * <pre>{@code
 * IntervalTreeRangeSet ro = new IntervalTreeRangeSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX);
 * ro.addRange(0xfee00, 0xfee00);
 * if (ro.containsSingleton(mfn)) { ... force the mapping read-only ... }
 * }</pre>
 */
public final class IntervalTreeRangeSet implements RangeSet {
  private static final int ADD = 0;
  private static final int REMOVE = 1;
  private static final int PURGE = 2;

  private final String name;
  private final int flags;
  private final ReentrantLock lock = new ReentrantLock();

  /**
   * The most ranges a set keeps an Eytzinger copy of ({@link #small}): real hosts hold about 16
   * ({@code docs/performance.md}); rebuilding up to this many on a write costs well under a
   * microsecond.
   */
  static final int SMALL = 64;

  /** The tree queries read when {@link #small} is null. */
  private volatile IntervalBTree current = new IntervalBTree();

  /**
   * While the set holds at most {@link #SMALL} ranges, an immutable copy that queries read instead
   * of the tree: {@code n + 1} starts then {@code n + 1} ends, slots 1 to {@code n} in Eytzinger
   * order (slot {@code k}'s children are {@code 2k} and {@code 2k + 1}); slot 0 of the starts holds
   * {@code n}, or {@code ~n} when a range reaches 2^62; slot 0 of the ends is unused. Null for a larger set. Written
   * under {@link #lock} after {@link #current}, so a query that reads it after a modification
   * returned sees that modification.
   */
  private volatile long[] small = eytzinger(new long[0], new long[0], 0);

  /** The tree the next modification goes to first; guarded by {@link #lock}. */
  private IntervalBTree standby = new IntervalBTree();

  /** Guarded by {@link #lock}. */
  private long limit = UNLIMITED;

  /** True while a visitor or consumer of this set runs; guarded by {@link #lock}. */
  private boolean visiting;

  /**
   * Creates an empty set without a limit; {@code rangeset_new}.
   *
   * @param name the name {@link #toString()} prints, at most 31 characters; null gives {@code "(no
   *     name)"}
   * @param flags {@link #PRETTYPRINT_HEX} and/or {@link #NO_PRINT}, or 0
   * @throws IllegalArgumentException if the name is too long or a flag is unknown
   */
  public IntervalTreeRangeSet(String name, int flags) {
    this.name = Ranges.checkName(name);
    this.flags = Ranges.checkFlags(flags);
  }

  // ---------------------------------------------------------------------------------------------
  // Queries: lock-free

  @Override
  public boolean containsSingleton(long x) {
    return query(x, x);
  }

  @Override
  public boolean containsRange(long s, long e) {
    Ranges.checkRange(s, e);
    return query(s, e);
  }

  @Override
  public boolean overlapsRange(long s, long e) {
    Ranges.checkRange(s, e);
    return query(e, s);
  }

  /** Whether the range with the largest start not above {@code key} ends at or after {@code bound}. */
  private boolean query(long key, long bound) {
    long[] a = small;
    if (a != null) {
      return smallQuery(a, key, bound);
    }
    for (; ; ) {
      IntervalBTree t = current;
      long v = t.readVersion();
      int r = t.floorEndAtLeast(key, bound);
      if (t.validate(v) && r != IntervalBTree.TORN) {
        return r != 0;
      }
      Thread.onSpinWait();
    }
  }

  /**
   * {@link #query} on the Eytzinger copy: descend by the starts (one conditional add per level, no
   * branch but the loop's), the floor is the last node where the search went right, then one
   * compare of its end. Allocates nothing; the copy never changes.
   */
  private static boolean smallQuery(long[] a, long key, long bound) {
    int half = a.length >>> 1;
    int i = 1;
    if (((key | bound) >>> 62 | a[0] >>> 63) == 0) {
      // Every start of the copy (a[0] >= 0) and the key lie below 2^62: a difference of two of
      // them cannot overflow, so its sign is the compare.
      while (i < half) {
        i = 2 * i + (int) ((a[i] - key - 1) >>> 63);
      }
    } else {
      while (i < half) {
        i = 2 * i + (Long.compareUnsigned(a[i], key) <= 0 ? 1 : 0);
      }
    }
    int slot = i >>> (Integer.numberOfTrailingZeros(i) + 1);
    return slot != 0 & Long.compareUnsigned(a[half + slot], bound) >= 0;
  }

  /** The Eytzinger copy of {@code n} sorted ranges (see {@link #small}). */
  private static long[] eytzinger(long[] starts, long[] ends, int n) {
    int half = n + 1;
    long[] a = new long[2 * half];
    // The count, or its complement when a range reaches 2^62 (queries then compare unsigned).
    a[0] = n == 0 || ends[n - 1] >>> 62 == 0 ? n : ~n;
    int k = 1;
    if (n > 0) {
      while (2 * k <= n) {
        k = 2 * k; // the leftmost slot: the smallest start
      }
    }
    for (int i = 0; i < n; i++) {
      a[k] = starts[i];
      a[half + k] = ends[i];
      if (2 * k + 1 <= n) {
        k = 2 * k + 1; // in order: the leftmost slot of the right subtree
        while (2 * k <= n) {
          k = 2 * k;
        }
      } else {
        while ((k & 1) == 1) {
          k >>>= 1; // up while this slot is a right child
        }
        k >>>= 1;
      }
    }
    return a;
  }

  /** The copy of tree {@code t} if it holds at most {@link #SMALL} ranges, else null. */
  private static long[] smallCopy(IntervalBTree t) {
    long size = t.size();
    if (size > SMALL) {
      return null;
    }
    int n = (int) size;
    long[] starts = new long[n];
    long[] ends = new long[n];
    int i = 0;
    for (int pos = t.first(); pos != IntervalBTree.NONE; pos = t.next(pos)) {
      starts[i] = t.start(pos);
      ends[i] = t.end(pos);
      i++;
    }
    return eytzinger(starts, ends, n);
  }

  @Override
  public long rangeCount() {
    long[] a = small;
    if (a != null) {
      long c = a[0]; // slot 0 of the starts holds the count, complemented past 2^62
      return c >= 0 ? c : ~c;
    }
    for (; ; ) {
      IntervalBTree t = current;
      long v = t.readVersion();
      long size = t.size();
      if (t.validate(v)) {
        return size;
      }
      Thread.onSpinWait();
    }
  }

  @Override
  public boolean isEmpty() {
    return rangeCount() == 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Queries under the lock

  @Override
  public int reportRanges(long s, long e, RangeVisitor visitor) {
    Ranges.checkRange(s, e);
    lock.lock();
    try {
      IntervalBTree t = current;
      int pos = t.floor(s);
      if (pos == IntervalBTree.NONE) {
        pos = t.first();
      } else if (Ranges.lt(t.end(pos), s)) {
        pos = t.next(pos);
      }
      visiting = true;
      for (; pos != IntervalBTree.NONE && Ranges.le(t.start(pos), e); pos = t.next(pos)) {
        int rc = visitor.visit(Ranges.max(t.start(pos), s), Ranges.min(t.end(pos), e));
        if (rc != 0) {
          return rc;
        }
      }
      return 0;
    } finally {
      visiting = false;
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    lock.lock();
    try {
      IntervalBTree t = current;
      boolean hex = (flags & PRETTYPRINT_HEX) != 0;
      StringBuilder out = Ranges.printHeader(name);
      int first = t.first();
      for (int pos = first; pos != IntervalBTree.NONE; pos = t.next(pos)) {
        Ranges.printRange(out, hex, pos == first, t.start(pos), t.end(pos));
      }
      return Ranges.printFooter(out);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int flags() {
    return flags;
  }

  // ---------------------------------------------------------------------------------------------
  // Modifications

  @Override
  public int addRange(long s, long e) {
    Ranges.checkRange(s, e);
    return modify(ADD, s, e);
  }

  @Override
  public int removeRange(long s, long e) {
    Ranges.checkRange(s, e);
    return modify(REMOVE, s, e);
  }

  @Override
  public void purge() {
    modify(PURGE, 0, 0);
  }

  @Override
  public void setLimit(long maxRanges) {
    Ranges.checkLimit(maxRanges);
    lock.lock();
    try {
      checkNotVisiting();
      long count = current.size();
      if (maxRanges != UNLIMITED && count > maxRanges) {
        throw new IllegalArgumentException(
            "range limit " + maxRanges + " is below the " + count + " ranges \"" + name + "\" holds");
      }
      limit = maxRanges;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public int claimRange(long size, long[] start) {
    Ranges.checkClaim(size, start);
    lock.lock();
    try {
      checkNotVisiting();
      IntervalBTree t = current;
      long gap = 0;
      for (int pos = t.first(); pos != IntervalBTree.NONE; pos = t.next(pos)) {
        if (Ranges.le(size, t.start(pos) - gap)) {
          return claimAt(gap, size, start);
        }
        if (t.end(pos) == -1L) {
          return -Errno.ENOSPC;
        }
        gap = t.end(pos) + 1;
      }
      // The last gap runs from 'gap' to ~0: ~0 - gap + 1 values, which is 2^64 on an empty set.
      return Ranges.le(size - 1, -1L - gap) ? claimAt(gap, size, start) : -Errno.ENOSPC;
    } finally {
      lock.unlock();
    }
  }

  private int claimAt(long gap, long size, long[] start) {
    int rc = modify(ADD, gap, gap + size - 1);
    if (rc == 0) {
      start[0] = gap;
    }
    return rc;
  }

  @Override
  public int consumeRanges(RangeConsumer consumer) {
    lock.lock();
    try {
      checkNotVisiting();
      long[] consumed = new long[1];
      for (; ; ) {
        IntervalBTree t = current;
        int pos = t.first();
        if (pos == IntervalBTree.NONE) {
          return 0;
        }
        long s = t.start(pos);
        long e = t.end(pos);
        consumed[0] = 0;
        int rc;
        visiting = true;
        try {
          rc = consumer.consume(s, e, consumed);
        } finally {
          visiting = false;
        }
        long n = consumed[0];
        boolean whole = s == 0 && e == -1L; // 2^64 values: any count fits
        if (!whole && Ranges.lt(e - s, n - 1) && n != 0) {
          throw new IllegalArgumentException(
              "consumer took 0x"
                  + Long.toHexString(n)
                  + " values of [0x"
                  + Long.toHexString(s)
                  + ", 0x"
                  + Long.toHexString(e)
                  + "]");
        }
        if (n != 0) {
          modify(REMOVE, s, s + n - 1);
        }
        if (rc != 0) {
          return rc;
        }
        if (n == 0) {
          throw new IllegalStateException(
              "consumer returned 0 without consuming any of [0x"
                  + Long.toHexString(s)
                  + ", 0x"
                  + Long.toHexString(e)
                  + "]: it would be offered the same range forever");
        }
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public int merge(RangeSet other) {
    if (other == this) {
      return 0;
    }
    long[] ranges = Ranges.snapshot(other);
    for (int i = 0; i < ranges.length; i += 2) {
      int rc = addRange(ranges[i], ranges[i + 1]);
      if (rc != 0) {
        return rc;
      }
    }
    return 0;
  }

  @Override
  public int subtract(RangeSet other) {
    if (other == this) {
      purge();
      return 0;
    }
    long[] ranges = Ranges.snapshot(other);
    for (int i = 0; i < ranges.length; i += 2) {
      int rc = removeRange(ranges[i], ranges[i + 1]);
      if (rc != 0) {
        return rc;
      }
    }
    return 0;
  }

  /**
   * Applies one modification to the standby tree, publishes it, then makes the other tree identical
   * by copying the nodes the modification changed. An operation that fails leaves the standby tree
   * unchanged, so nothing is published.
   */
  private int modify(int op, long s, long e) {
    lock.lock();
    try {
      checkNotVisiting();
      IntervalBTree first = standby;
      int rc = apply(first, op, s, e);
      if (rc != 0) {
        return rc;
      }
      IntervalBTree second = current;
      current = first;
      small = smallCopy(first);
      standby = second;
      second.beginWrite();
      try {
        first.copyChangesTo(second);
      } finally {
        second.endWrite();
      }
      return 0;
    } finally {
      lock.unlock();
    }
  }

  private int apply(IntervalBTree t, int op, long s, long e) {
    t.beginWrite();
    try {
      switch (op) {
        case ADD:
          return add(t, s, e);
        case REMOVE:
          return remove(t, s, e);
        case PURGE:
          t.clear();
          return 0;
        default:
          throw new AssertionError(op);
      }
    } finally {
      t.endWrite();
    }
  }

  private boolean atLimit(IntervalBTree t) {
    return limit != UNLIMITED && t.size() >= limit;
  }

  /** {@code rangeset_add_range} on one tree, corrected; changes nothing when it fails. */
  private int add(IntervalBTree t, long s, long e) {
    int p = t.floor(s);
    boolean left = p != IntervalBTree.NONE && (t.end(p) == -1L || Ranges.le(s, t.end(p) + 1));
    int q = p == IntervalBTree.NONE ? t.first() : t.next(p);
    boolean right = q != IntervalBTree.NONE && (e == -1L || Ranges.le(t.start(q), e + 1));
    if (!left && !right) {
      if (atLimit(t)) {
        return -Errno.ENOMEM;
      }
      t.insertAfter(p, s, e);
      return 0;
    }
    // The anchor is the range that survives: the one below s if it touches, else the first above.
    int anchor = left ? p : q;
    if (!left) {
      t.setStart(q, s);
    }
    long newEnd = Ranges.max(e, t.end(anchor));
    int n = t.next(anchor);
    while (n != IntervalBTree.NONE && (e == -1L || Ranges.le(t.start(n), e + 1))) {
      newEnd = Ranges.max(newEnd, t.end(n));
      n = t.delete(n); // the anchor comes before n, so its position stays valid
    }
    t.setEnd(anchor, newEnd);
    return 0;
  }

  /** {@code rangeset_remove_range} on one tree, corrected; changes nothing when it fails. */
  private int remove(IntervalBTree t, long s, long e) {
    int p = t.floor(s);
    int q;
    if (p != IntervalBTree.NONE && Ranges.le(s, t.end(p))) {
      long ps = t.start(p);
      long pe = t.end(p);
      if (ps != s && Ranges.lt(e, pe)) {
        if (atLimit(t)) {
          return -Errno.ENOMEM;
        }
        t.setEnd(p, s - 1);
        t.insertAfter(p, e + 1, pe);
        return 0;
      }
      if (ps != s) {
        t.setEnd(p, s - 1);
        q = t.next(p);
      } else if (Ranges.le(pe, e)) {
        q = t.delete(p);
      } else {
        t.setStart(p, e + 1);
        return 0;
      }
    } else {
      q = p == IntervalBTree.NONE ? t.first() : t.next(p);
    }
    while (q != IntervalBTree.NONE && Ranges.le(t.start(q), e)) {
      if (Ranges.le(t.end(q), e)) {
        q = t.delete(q);
      } else {
        t.setStart(q, e + 1);
        break;
      }
    }
    return 0;
  }

  private void checkNotVisiting() {
    if (visiting) {
      throw new IllegalStateException(
          "range set \"" + name + "\" modified by its own visitor or consumer");
    }
  }

  /**
   * Checks both trees' structure, that they are identical, that their ranges are sorted, disjoint
   * and non-adjacent, and that their count is within the limit.
   */
  boolean checkInvariants() {
    lock.lock();
    try {
      IntervalBTree a = current;
      IntervalBTree b = standby;
      a.checkInvariants();
      b.checkInvariants();
      if (!a.sameAs(b)) {
        throw new AssertionError("the two trees are not identical");
      }
      if (limit != UNLIMITED && a.size() > limit) {
        throw new AssertionError(a.size() + " ranges exceed the limit " + limit);
      }
      long prevEnd = 0;
      for (int p = a.first(); p != IntervalBTree.NONE; p = a.next(p)) {
        if (p != a.first() && (prevEnd == -1L || Ranges.le(a.start(p), prevEnd + 1))) {
          throw new AssertionError("ranges overlap or touch at 0x" + Long.toHexString(a.start(p)));
        }
        prevEnd = a.end(p);
      }
      long[] copy = small;
      long[] expected = smallCopy(a);
      if (copy == null ? expected != null : !Arrays.equals(copy, expected)) {
        throw new AssertionError("the small copy does not hold the tree's ranges");
      }
      return true;
    } finally {
      lock.unlock();
    }
  }
}
