package org.hvmmu.rangeset;

import java.util.Arrays;
import org.hvmmu.internal.IntervalBTree;

/**
 * An immutable copy of a set's ranges that {@link IntervalTreeRangeSet}'s queries read with no
 * lock, no sequence number and no allocation: the ranges cut into leaves of at most {@link
 * #LEAF}, each leaf an Eytzinger-ordered array, under an Eytzinger-ordered index of the leaves'
 * first starts.
 *
 * <p>A query descends the index to the leaf whose span holds its key, then the leaf, each with one
 * conditional add per level and no branch but the loop's, and compares one end: two short
 * branch-free searches and two dependent loads more than a single Eytzinger array, but a write
 * rebuilds only the leaves it touched and the index, never the whole copy.
 *
 * <p>Leaf format ({@link #leaf}): {@code n + 1} starts then {@code n + 1} ends, slots 1 to {@code
 * n} in Eytzinger order (slot {@code k}'s children are {@code 2k} and {@code 2k + 1}); slot 0 of
 * the starts holds {@code n}, or {@code ~n} when one of the leaf's ranges reaches 2^62 (its
 * compares must then be unsigned); slot 0 of the ends is unused. Index format: {@link #index}
 * holds the leaves' first starts in the same order, slot 0 the leaf count or, when a first start
 * reaches 2^62, its complement, and {@link #leafAt} the leaf at each slot, with slot 0 an empty
 * leaf (a key below every range finds none).
 *
 * <p>Leaf {@code i} (in order) spans the keys from its first start (from 0 for the first leaf) to
 * the next leaf's first start less one (to {@code ~0} for the last). A write whose effect lies in
 * {@code [lo, hi]} changes only the leaves spanning {@code lo} to {@code hi}: {@link #update}
 * re-reads their ranges from the writer's tree, cuts them into leaves again and rebuilds the index:
 * O(k + L) for k ranges in those leaves and L leaves, so O(N / {@value #LEAF}) for a write that
 * touches one leaf, and O(N) for one that swallows or splits many ranges at once.
 */
final class RangeSnapshot {
  /** The most ranges in a leaf: about one microsecond to rebuild, six levels to search. */
  static final int LEAF = 64;

  /** The leaf of no range: what a key below every range finds. */
  private static final long[] NO_LEAF = leaf(new long[0], new long[0], 0, 0);

  /** The copy of an empty set. */
  static final RangeSnapshot EMPTY = new Builder(0).build(0);

  /** How many ranges the copy holds. */
  final long count;

  /**
   * The leaves' first starts in Eytzinger order; slot 0 the leaf count, or its complement when a
   * first start reaches 2^62 (the index's compares must then be unsigned).
   */
  private final long[] index;

  /** The leaf at each slot of {@link #index}; slot 0 is {@link #NO_LEAF}. */
  private final long[][] leafAt;

  private RangeSnapshot(long count, long[] index, long[][] leafAt) {
    this.count = count;
    this.index = index;
    this.leafAt = leafAt;
  }

  /** Places leaves, given in order, into a new index. */
  private static final class Builder {
    final int n;
    final long[] index;
    final long[][] leafAt;
    int slot;

    Builder(int n) {
      this.n = n;
      index = new long[n + 1];
      leafAt = new long[n + 1][];
      leafAt[0] = NO_LEAF;
    }

    void place(long[] leaf, long first) {
      slot = slot == 0 ? leftmost(n) : nextInOrder(slot, n);
      index[slot] = first;
      leafAt[slot] = leaf;
    }

    RangeSnapshot build(long count) {
      // The last leaf's first start is the largest: it decides whether the index compares unsigned.
      index[0] = n == 0 || index[rightmost(n)] >>> 62 == 0 ? n : ~n;
      return new RangeSnapshot(count, index, leafAt);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Queries

  /**
   * Whether the range with the largest start not above {@code key} ends at or after {@code bound}
   * (both unsigned); allocates nothing.
   */
  boolean query(long key, long bound) {
    long[] ix = index;
    // The index compares first starts with the key only; the bound is the leaf's business.
    int slot = floorSlot(ix, ix.length, key, (key >>> 62 | ix[0] >>> 63) == 0);
    return leafQuery(leafAt[slot], key, bound);
  }

  /** {@link #query} within one leaf (or the small set's only leaf). */
  static boolean leafQuery(long[] a, long key, long bound) {
    int half = a.length >>> 1;
    int slot = floorSlot(a, half, key, ((key | bound) >>> 62 | a[0] >>> 63) == 0);
    return slot != 0 & Long.compareUnsigned(a[half + slot], bound) >= 0;
  }

  /**
   * Whether {@code s} and {@code e - s} lie below 2^62 and leaf {@code a} holds no value from
   * 2^62: then {@code s <= e < 2^63}, and the signed compares of {@link #plainQuery} of {@code s}
   * or {@code e} with the leaf's values cannot overflow. One test for the range check and the
   * compares' width (a leaf's slot 0 is negative when its values reach 2^62).
   */
  static boolean isPlain(long[] a, long s, long e) {
    return (s | e - s | a[0]) >>> 62 == 0;
  }

  /** {@link #leafQuery} for a key and bound from a range {@link #isPlain} holds for. */
  static boolean plainQuery(long[] a, long key, long bound) {
    int half = a.length >>> 1;
    int slot = floorSlot(a, half, key, true);
    return slot != 0 & a[half + slot] >= bound;
  }

  /** The number of ranges in a leaf. */
  static long leafCount(long[] a) {
    long c = a[0];
    return c >= 0 ? c : ~c;
  }

  /**
   * The slot among {@code a[1 .. limit - 1]} (Eytzinger order) holding the largest value not above
   * {@code key} (unsigned), or 0 if none is.
   *
   * @param small true if every value and the key lie below 2^62, so that the sign of {@code a[i] -
   *     key - 1} (which cannot overflow there) is the compare
   */
  private static int floorSlot(long[] a, int limit, long key, boolean small) {
    int i = 1;
    if (small) {
      while (i < limit) {
        i = 2 * i + (int) ((a[i] - key - 1) >>> 63);
      }
    } else {
      while (i < limit) {
        i = 2 * i + (Long.compareUnsigned(a[i], key) <= 0 ? 1 : 0);
      }
    }
    // The floor is the last slot where the search went right: strip the trailing lefts and it.
    return i >>> (Integer.numberOfTrailingZeros(i) + 1);
  }

  // ---------------------------------------------------------------------------------------------
  // Writers (under the set's lock)

  /** The copy of every range of {@code t}, in as few leaves as hold them. */
  static RangeSnapshot of(IntervalBTree t) {
    long[][] cut = cut(collect(t, 0, -1L, t.size()), false);
    Builder out = new Builder(cut.length);
    for (long[] leaf : cut) {
      out.place(leaf, first(leaf));
    }
    return out.build(t.size());
  }

  /**
   * The copy after a write whose every change lies in {@code [lo, hi]} (unsigned): this copy's
   * leaves outside the leaves spanning {@code lo} to {@code hi} are kept, those are re-read from
   * {@code t}, the tree the write changed.
   */
  RangeSnapshot update(IntervalBTree t, long lo, long hi) {
    int n = leafCount(); // at least 1: the set held a range before this write, else it is small
    int first = leftmost(n);
    int a = slotOf(lo);
    int b = slotOf(hi);
    int touched = 1;
    for (int k = a; k != b; k = nextInOrder(k, n)) {
      touched++;
    }
    Window window = collect(t, spanStart(a), spanEnd(b), t.size());
    if (window.n < LEAF / 2 && touched < n) {
      // Too few for a leaf of their own: take a neighbour in, so leaves stay about half full.
      if (a != first) {
        a = previousInOrder(a);
      } else {
        b = nextInOrder(b, n);
      }
      touched++;
      window = collect(t, spanStart(a), spanEnd(b), t.size());
    }
    // A range appended after the last leaf's last start: fill leaves up, as B-trees do for
    // ascending inserts (frames are often registered in order), instead of halving the last one.
    boolean appending = nextInOrder(b, n) == 0 && Long.compareUnsigned(lo, lastStart(b)) > 0;
    long[][] cut = cut(window, appending);
    if (touched == 1 && cut.length == 1 && first(cut[0]) == index[a]) {
      // One leaf replaced by one with the same first start: the index stays as it is, shared, so
      // readers keep its cache lines; only the slot changes.
      long[][] at = leafAt.clone();
      at[a] = cut[0];
      return new RangeSnapshot(t.size(), index, at);
    }
    Builder out = new Builder(n - touched + cut.length);
    boolean inWindow = false;
    for (int k = first; k != 0; k = nextInOrder(k, n)) {
      if (k == a) {
        inWindow = true;
        for (long[] leaf : cut) {
          out.place(leaf, first(leaf));
        }
      }
      if (!inWindow) {
        out.place(leafAt[k], index[k]);
      }
      if (k == b) {
        inWindow = false;
      }
    }
    return out.build(t.size());
  }

  /** The largest start of the leaf at slot {@code k}. */
  private long lastStart(int k) {
    long[] leaf = leafAt[k];
    return leaf[rightmost((int) leafCount(leaf))];
  }

  /** The first key of the span of the leaf at slot {@code k}: its first start, 0 for the first. */
  private long spanStart(int k) {
    return k == leftmost(leafCount()) ? 0 : index[k];
  }

  /** The last key of the span of the leaf at slot {@code k}: before the next leaf's, or ~0. */
  private long spanEnd(int k) {
    int next = nextInOrder(k, leafCount());
    return next == 0 ? -1L : index[next] - 1;
  }

  /** The slot of the leaf whose span holds {@code key}: the floor's, or the first leaf's. */
  private int slotOf(long key) {
    int slot = floorSlot(index, index.length, key, false);
    return slot != 0 ? slot : leftmost(leafCount());
  }

  /** Ranges read from a tree, in order. */
  private static final class Window {
    long[] starts;
    long[] ends;
    int n;

    Window(int capacity) {
      starts = new long[capacity];
      ends = new long[capacity];
    }

    void add(long s, long e) {
      if (n == starts.length) {
        starts = Arrays.copyOf(starts, 2 * n);
        ends = Arrays.copyOf(ends, 2 * n);
      }
      starts[n] = s;
      ends[n] = e;
      n++;
    }
  }

  /** The ranges of {@code t} whose start lies in {@code [from, to]} (unsigned). */
  private static Window collect(IntervalBTree t, long from, long to, long size) {
    Window out = new Window((int) Math.min(size, 2L * LEAF) + 1);
    for (int pos = t.ceiling(from);
        pos != IntervalBTree.NONE && Long.compareUnsigned(t.start(pos), to) <= 0;
        pos = t.next(pos)) {
      out.add(t.start(pos), t.end(pos));
    }
    return out;
  }

  /**
   * The ranges cut into as few leaves as hold them: of sizes differing by at most one, or, {@code
   * packed}, full but the last.
   */
  private static long[][] cut(Window r, boolean packed) {
    int count = (r.n + LEAF - 1) / LEAF;
    long[][] out = new long[count][];
    int from = 0;
    for (int i = 0; i < count; i++) {
      int to = packed ? Math.min(from + LEAF, r.n) : (int) ((long) r.n * (i + 1) / count);
      out[i] = leaf(r.starts, r.ends, from, to);
      from = to;
    }
    return out;
  }

  /** The leaf of ranges {@code from} to {@code to - 1} of the sorted arrays. */
  private static long[] leaf(long[] starts, long[] ends, int from, int to) {
    int n = to - from;
    int half = n + 1;
    long[] a = new long[2 * half];
    a[0] = n == 0 || ends[to - 1] >>> 62 == 0 ? n : ~n;
    int k = 1;
    for (int i = 0; i < n; i++) {
      k = i == 0 ? leftmost(n) : nextInOrder(k, n);
      a[k] = starts[from + i];
      a[half + k] = ends[from + i];
    }
    return a;
  }

  /** A leaf's smallest start. */
  private static long first(long[] leaf) {
    return leaf[leftmost((int) leafCount(leaf))];
  }

  /** The first slot in order of an Eytzinger tree of {@code n} slots: the leftmost. */
  private static int leftmost(int n) {
    int k = 1;
    while (2 * k <= n) {
      k = 2 * k;
    }
    return k;
  }

  /** The slot after {@code k} in order. */
  private static int nextInOrder(int k, int n) {
    if (2 * k + 1 <= n) {
      k = 2 * k + 1; // the leftmost slot of the right subtree
      while (2 * k <= n) {
        k = 2 * k;
      }
      return k;
    }
    while ((k & 1) == 1) {
      k >>>= 1; // up while this slot is a right child
    }
    return k >>> 1;
  }

  /** The last slot in order of an Eytzinger tree of {@code n >= 1} slots: the rightmost. */
  private static int rightmost(int n) {
    int k = 1;
    while (2 * k + 1 <= n) {
      k = 2 * k + 1;
    }
    return k;
  }

  /** The slot before {@code k} in order, 0 before the first. */
  private int previousInOrder(int k) {
    int n = leafCount();
    if (2 * k <= n) {
      k = 2 * k; // the rightmost slot of the left subtree
      while (2 * k + 1 <= n) {
        k = 2 * k + 1;
      }
      return k;
    }
    while ((k & 1) == 0) {
      k >>>= 1; // up while this slot is a left child
    }
    return k >>> 1;
  }

  // ---------------------------------------------------------------------------------------------
  // Self-check

  /**
   * Checks that this copy holds exactly the ranges of {@code t}, in leaves of 1 to {@link #LEAF}
   * ranges, with a consistent index.
   *
   * @throws AssertionError naming the first difference
   */
  void checkInvariants(IntervalBTree t) {
    if (count != t.size()) {
      throw new AssertionError("the copy holds " + count + " ranges, the tree " + t.size());
    }
    long[] s = new long[(int) count];
    long[] e = new long[(int) count];
    int i = 0;
    for (int pos = t.first(); pos != IntervalBTree.NONE; pos = t.next(pos)) {
      s[i] = t.start(pos);
      e[i] = t.end(pos);
      i++;
    }
    int n = leafCount();
    Builder rebuilt = new Builder(n);
    int at = 0;
    for (int k = n == 0 ? 0 : leftmost(n); k != 0; k = nextInOrder(k, n)) {
      long[] l = leafAt[k];
      int size = (int) leafCount(l);
      if (size < 1 || size > LEAF) {
        throw new AssertionError("leaf at slot " + k + " holds " + size + " ranges");
      }
      if (at + size > count || !Arrays.equals(l, leaf(s, e, at, at + size))) {
        throw new AssertionError("leaf at slot " + k + " differs from the tree's ranges from " + at);
      }
      rebuilt.place(l, s[at]);
      at += size;
    }
    if (at != count) {
      throw new AssertionError("the leaves hold " + at + " of " + count + " ranges");
    }
    RangeSnapshot expected = rebuilt.build(count);
    if (!Arrays.equals(index, expected.index) || !Arrays.equals(leafAt, expected.leafAt)) {
      throw new AssertionError("the index does not match the leaves");
    }
  }

  /** The small set's only leaf: its one leaf, or the empty leaf. */
  long[] onlyLeaf() {
    return leafAt.length == 1 ? NO_LEAF : leafAt[1];
  }

  /** The number of leaves. */
  int leafCount() {
    return leafAt.length - 1;
  }
}
