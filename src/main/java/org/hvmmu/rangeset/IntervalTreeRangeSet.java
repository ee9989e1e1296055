package org.hvmmu.rangeset;

import org.hvmmu.xen.Errno;

import java.util.concurrent.locks.ReentrantLock;
import org.hvmmu.internal.IntervalBTree;

/**
 * The product range set: Xen's rangeset semantics, with every upstream defect fixed, on a balanced
 * interval tree (a B+-tree in one primitive array, see {@code docs/rangeset.md}) whose queries are
 * wait-free and allocate nothing.
 *
 * <p>Results equal those of {@link XenListRangeSet.Variant#CORRECTED}: ranges stay sorted, disjoint and
 * non-adjacent; removing {@code [s, ~0]} across several ranges does not wrap {@code e + 1} to 0;
 * claiming on an empty set succeeds at 0 and a claimed range merges with its neighbours; the limit is
 * a true maximum, and {@link #setLimit} refuses a limit below the current count.
 *
 * <p><b>Threads.</b> Any number of threads may query while others modify. {@link
 * #containsSingleton}, {@link #containsRange}, {@link #overlapsRange}, {@link #rangeCount} and
 * {@link #isEmpty} take no lock, write no shared memory and never retry: they read an immutable
 * copy of the ranges (a {@code RangeSnapshot}: leaves of at most 64 ranges in Eytzinger order
 * under an Eytzinger index, see {@code docs/rangeset.md}) that every modification replaces with
 * one volatile write before it returns, so a query that starts after a modifying call returned
 * sees its effect (linearizable), and a query is wait-free. While the set holds at most 64
 * ranges (real hosts hold about 16), queries read the copy's only leaf directly. Modifications,
 * {@link #reportRanges}, {@link #consumeRanges}, {@link #claimRange} and {@link #toString}
 * serialise on one lock, as Xen's writers do, and work on a B+-tree only they see.
 *
 * <p><b>Cost.</b> Queries are O(log N) and allocate nothing. A modification is O(log N) per
 * range it creates, changes or swallows, on the tree, plus the new copy, which it allocates:
 * <b>O(N / 64)</b> for the index of leaves and the one or two leaves it touched (O(N) for a set
 * of at most 64 ranges, rebuilt whole, which is O(64), and for a modification that swallows or
 * splits ranges across many leaves, or {@link #purge}); {@link #claimRange} scans like Xen's,
 * O(N). Memory is about 0.9 KiB per 16 ranges in the tree, and 16 bytes a range in the copy.
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
   * The most ranges a set answers from one leaf ({@link #small}): real hosts hold about 16
   * ({@code docs/performance.md}).
   */
  static final int SMALL = RangeSnapshot.LEAF;

  /** The ranges; read and written only under {@link #lock}. */
  private final IntervalBTree tree = new IntervalBTree();

  /**
   * The immutable copy of {@link #tree} that queries read; replaced, never changed, under {@link
   * #lock} after each modification.
   */
  private volatile RangeSnapshot copy = RangeSnapshot.EMPTY;

  /**
   * While the set holds at most {@link #SMALL} ranges, {@link #copy}'s only leaf, which queries
   * read instead (one reference less); null for a larger set. Written after {@link #copy}, so a
   * query that finds it null reads a copy at least as new as the one it would have read here.
   */
  private volatile long[] small = RangeSnapshot.EMPTY.onlyLeaf();

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
    return rangeQuery(s, e, s, e);
  }

  @Override
  public boolean overlapsRange(long s, long e) {
    return rangeQuery(s, e, e, s);
  }

  /**
   * {@link #query} for a range {@code [s, e]} the caller has not checked: a small set tests the
   * check and the compares' width at once ({@link RangeSnapshot#isPlain}), anything else checks
   * first.
   */
  private boolean rangeQuery(long s, long e, long key, long bound) {
    long[] a = small;
    if (a != null && RangeSnapshot.isPlain(a, s, e)) {
      return RangeSnapshot.plainQuery(a, key, bound);
    }
    Ranges.checkRange(s, e);
    return query(key, bound);
  }

  /** Whether the range with the largest start not above {@code key} ends at or after {@code bound}. */
  private boolean query(long key, long bound) {
    long[] a = small;
    return a != null ? RangeSnapshot.leafQuery(a, key, bound) : copy.query(key, bound);
  }

  @Override
  public long rangeCount() {
    long[] a = small;
    return a != null ? RangeSnapshot.leafCount(a) : copy.count;
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
      IntervalBTree t = tree;
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
      IntervalBTree t = tree;
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
      long count = tree.size();
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
      IntervalBTree t = tree;
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
        IntervalBTree t = tree;
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
   * Applies one modification to the tree, then publishes a new copy for queries: for a set of at
   * most {@link #SMALL} ranges rebuilt whole, else only the leaves spanning the modification's
   * range and its neighbours ({@code s - 1} and {@code e + 1}, which an add may join and a remove
   * may cut). An operation that fails leaves the tree unchanged, so nothing is published.
   */
  private int modify(int op, long s, long e) {
    lock.lock();
    try {
      checkNotVisiting();
      int rc = apply(tree, op, s, e);
      if (rc != 0) {
        return rc;
      }
      boolean fits = tree.size() <= SMALL;
      RangeSnapshot next =
          op == PURGE || fits
              ? RangeSnapshot.of(tree)
              : copy.update(tree, s == 0 ? 0 : s - 1, e == -1L ? -1L : e + 1);
      copy = next;
      small = fits ? next.onlyLeaf() : null;
      return 0;
    } finally {
      lock.unlock();
    }
  }

  private int apply(IntervalBTree t, int op, long s, long e) {
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

  /** The number of leaves of the copy queries read (for tests of its layout). */
  int leafCount() {
    return copy.leafCount();
  }

  /**
   * Checks the tree's structure, that its ranges are sorted, disjoint and non-adjacent, that their
   * count is within the limit, and that the published copies hold exactly its ranges.
   */
  boolean checkInvariants() {
    lock.lock();
    try {
      IntervalBTree a = tree;
      a.checkInvariants();
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
      RangeSnapshot c = copy;
      c.checkInvariants(a);
      long[] leaf = small;
      if (a.size() <= SMALL ? leaf != c.onlyLeaf() || c.leafCount() > 1 : leaf != null) {
        throw new AssertionError("the small copy is not the copy's only leaf");
      }
      return true;
    } finally {
      lock.unlock();
    }
  }
}
