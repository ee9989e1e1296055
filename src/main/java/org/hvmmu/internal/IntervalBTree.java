package org.hvmmu.internal;

import java.util.Arrays;

/**
 * A balanced interval tree of inclusive ranges {@code [start, end]} of unsigned 64-bit values: a B+-tree
 * keyed by start, with every inner node holding, per child, the child's smallest start (for routing)
 * and largest end (the interval-tree augmentation that answers stabbing and overlap queries over
 * overlapping intervals).
 *
 * <p>The whole tree lives in one {@code long[]}: a header, then nodes of {@link #STRIDE} longs. A node
 * holds up to {@link #FANOUT} sorted keys; a lookup runs a four-step branch-free binary search in
 * each node it passes and follows one child, so a lookup over N ranges reads about {@code log16(N)}
 * nodes. No object is created per range, and nothing
 * is allocated unless the node array must grow (it doubles).
 *
 * <p>Keys are stored with the sign bit flipped ({@code start ^ Long.MIN_VALUE}) so that a signed
 * compare orders them unsigned. Unused key slots hold {@link Long#MAX_VALUE}, the flipped {@code ~0},
 * so they never count for a query below {@code ~0}; queries at {@code ~0} take a clamped path. The
 * first key of an inner node is {@link Long#MIN_VALUE} (below everything), so every query routes to some
 * child.
 *
 * <p>Balance: every leaf is at the same depth. Inserting splits a full node (unevenly when appending,
 * so ascending inserts fill nodes); deleting removes a node only when it empties, as many database
 * B-trees do, so the height stays within {@code log8} of the largest size the tree has had.
 *
 * <p>Threads: none of its own. Its users change and read it under their locks ({@code
 * IntervalTreeRangeSet}'s queries read an immutable copy instead, {@code RangeSnapshot}).
 */
public final class IntervalBTree {
  /** Most keys (and children) per node. */
  public static final int FANOUT = 16;

  /** A position that names no entry. */
  public static final int NONE = -1;

  // Node block layout, in longs from the node's base.
  private static final int KEYS = 0; // FANOUT flipped starts
  private static final int VALS = KEYS + FANOUT; // leaf: ends; inner: largest end below each child
  private static final int KIDS = VALS + FANOUT; // inner: child node numbers
  private static final int COUNT = KIDS + FANOUT; // number of keys in use
  private static final int PARENT = COUNT + 1; // parent node number, or -1 at the root
  private static final int NEXT = COUNT + 2; // leaf: next leaf, or -1; free list link when free
  private static final int PREV = COUNT + 3; // leaf: previous leaf, or -1
  private static final int LEAF = COUNT + 4; // 1 for a leaf, 0 for an inner node

  /** Longs per node. */
  static final int STRIDE = LEAF + 1;

  // Header, in longs from index 0 of the array.
  // What lookups read (root, height) sits apart from what every write changes (size, free list), so
  // that a write does not evict the lookups' line from other cores' caches.
  private static final int H_ROOT = 0;
  private static final int H_HEIGHT = 1; // inner levels above the leaves: 0 when the root is a leaf
  private static final int H_SIZE = 8;
  private static final int H_FREE = 9; // first free node, or -1
  private static final int H_USED = 10; // nodes ever handed out (high-water mark)
  private static final int H_FIRST_LEAF = 11;
  private static final int HEADER = 16;

  /** No tree this library builds is higher: 16^16 ranges would not fit in a Java array. */
  private static final int MAX_HEIGHT = 16;

  private static final long PAD = Long.MAX_VALUE;
  private static final long BOTTOM = Long.MIN_VALUE;

  private long[] mem;

  /** Creates an empty tree with room for a few nodes. */
  public IntervalBTree() {
    mem = new long[HEADER + 4 * STRIDE];
    clear();
  }

  /** Removes every entry (keeps the node array). */
  public void clear() {
    long[] m = mem;
    m[H_FREE] = -1;
    m[H_USED] = 0;
    m[H_SIZE] = 0;
    m[H_HEIGHT] = 0;
    int root = allocNode(true);
    m = mem;
    m[H_ROOT] = root;
    m[H_FIRST_LEAF] = root;
  }

  /**
   * The number of entries.
   *
   * @return how many intervals the tree holds
   */
  public long size() {
    return mem[H_SIZE];
  }

  /**
   * How many of the 16 key slots at {@code b} hold a key not above {@code k}: a branch-free binary
   * search (four compare-and-add steps count the first 15 slots; the 16th counts only when all 15
   * did, since the keys are sorted). Padding counts only when {@code k} is the padding value itself.
   */
  private static int countNotAbove(long[] m, int b, long k) {
    int c = m[b + KEYS + 7] <= k ? 8 : 0;
    c += m[b + KEYS + c + 3] <= k ? 4 : 0;
    c += m[b + KEYS + c + 1] <= k ? 2 : 0;
    c += m[b + KEYS + c] <= k ? 1 : 0;
    return c + (m[b + KEYS + 15] <= k ? 1 : 0);
  }

  // ---------------------------------------------------------------------------------------------
  // Positions: a leaf node number times FANOUT plus a slot. Valid until the next structural change.

  /**
   * The position of the entry with the largest start not above {@code start} (unsigned); the last of
   * several with that start.
   *
   * @param start the value to find the floor of
   * @return its position, or {@link #NONE} if every start is above it
   */
  public int floor(long start) {
    final long k = start ^ BOTTOM;
    int leaf = descend(k, true);
    int c = countKeys(leaf, k, true);
    return c == 0 ? NONE : leaf * FANOUT + c - 1;
  }

  /**
   * The position of the first entry whose start is not below {@code start} (unsigned).
   *
   * @param start the value to find the ceiling of
   * @return its position, or {@link #NONE} if every start is below it
   */
  public int ceiling(long start) {
    final long k = start ^ BOTTOM;
    int leaf = descend(k, false);
    int c = countKeys(leaf, k, false);
    if (c < count(leaf)) {
      return leaf * FANOUT + c;
    }
    int next = (int) mem[base(leaf) + NEXT];
    return next < 0 ? NONE : next * FANOUT;
  }

  /**
   * The position of the entry with the smallest start.
   *
   * @return its position, or {@link #NONE} if the tree is empty
   */
  public int first() {
    return mem[H_SIZE] == 0 ? NONE : (int) mem[H_FIRST_LEAF] * FANOUT;
  }

  /**
   * The position after {@code pos} in start order.
   *
   * @param pos a valid position
   * @return the next position, or {@link #NONE} after the last entry
   */
  public int next(int pos) {
    int leaf = pos / FANOUT;
    int slot = pos % FANOUT;
    if (slot + 1 < count(leaf)) {
      return pos + 1;
    }
    int next = (int) mem[base(leaf) + NEXT];
    return next < 0 ? NONE : next * FANOUT;
  }

  /**
   * The start of the entry at {@code pos}.
   *
   * @param pos a valid position
   * @return its start
   */
  public long start(int pos) {
    return mem[base(pos / FANOUT) + KEYS + pos % FANOUT] ^ BOTTOM;
  }

  /**
   * The end of the entry at {@code pos}.
   *
   * @param pos a valid position
   * @return its end, inclusive
   */
  public long end(int pos) {
    return mem[base(pos / FANOUT) + VALS + pos % FANOUT];
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

  /**
   * Adds the entry {@code [start, end]} after any entries with the same start.
   *
   * @param start first value
   * @param end last value, inclusive, not below {@code start}
   */
  public void insert(long start, long end) {
    final long k = start ^ BOTTOM;
    int leaf = descend(k, true);
    int c = countKeys(leaf, k, true);
    insertIntoNode(leaf, c, k, end, -1);
    mem[H_SIZE]++;
  }

  /**
   * Adds the entry {@code [start, end]} right after the entry at {@code pos}, or first when {@code pos}
   * is {@link #NONE}, without searching; the caller keeps the order ({@code start} is not below the
   * start at {@code pos} nor above the start of the entry after it).
   *
   * @param pos a valid position, or {@link #NONE}
   * @param start first value
   * @param end last value, inclusive, not below {@code start}
   */
  public void insertAfter(int pos, long start, long end) {
    int leaf = pos == NONE ? (int) mem[H_FIRST_LEAF] : pos / FANOUT;
    int at = pos == NONE ? 0 : pos % FANOUT + 1;
    insertIntoNode(leaf, at, start ^ BOTTOM, end, -1);
    mem[H_SIZE]++;
  }

  /**
   * Removes the entry at {@code pos}. Positions before it stay valid.
   *
   * @param pos a valid position
   * @return the position of the entry that followed it, or {@link #NONE}
   */
  public int delete(int pos) {
    int leaf = pos / FANOUT;
    int slot = pos % FANOUT;
    int n = count(leaf);
    int nextLeaf = (int) mem[base(leaf) + NEXT];
    removeFromNode(leaf, slot);
    mem[H_SIZE]--;
    // Leaves keep their numbers: the follower shifted into this slot, or heads the next leaf.
    if (slot < n - 1) {
      return pos;
    }
    return nextLeaf < 0 ? NONE : nextLeaf * FANOUT;
  }

  /**
   * Sets the end of the entry at {@code pos}.
   *
   * @param pos a valid position
   * @param end the new end, not below the entry's start
   */
  public void setEnd(int pos, long end) {
    int leaf = pos / FANOUT;
    mem[base(leaf) + VALS + pos % FANOUT] = end;
    fixMaxUp(leaf);
  }

  /**
   * Sets the start of the entry at {@code pos}; the caller keeps the order (the new start is not below
   * the previous entry's start nor above the next one's).
   *
   * @param pos a valid position
   * @param start the new start, not above the entry's end
   */
  public void setStart(int pos, long start) {
    int leaf = pos / FANOUT;
    int slot = pos % FANOUT;
    mem[base(leaf) + KEYS + slot] = start ^ BOTTOM;
    if (slot == 0) {
      fixMinUp(leaf, start ^ BOTTOM);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Interval queries over possibly overlapping entries (writer side or externally synchronised)

  /**
   * Visits, in start order, every entry that meets the inclusive range {@code [s, e]} (unsigned), using
   * the per-child largest end to skip subtrees that end before {@code s}.
   *
   * @param s first value of the query
   * @param e last value of the query, not below {@code s}
   * @param visitor called with each entry's own bounds; a non-zero result stops the walk
   * @return 0, or the first non-zero result of the visitor
   */
  public int forEachOverlapping(long s, long e, EntryVisitor visitor) {
    return overlapping(root(), height(), s, e ^ BOTTOM, visitor);
  }

  private int overlapping(int node, int level, long s, long ek, EntryVisitor visitor) {
    int b = base(node);
    int n = count(node);
    for (int j = 0; j < n && mem[b + KEYS + j] <= ek; j++) {
      if (Long.compareUnsigned(mem[b + VALS + j], s) < 0) {
        continue;
      }
      int rc;
      if (level == 0) {
        rc = visitor.visit(mem[b + KEYS + j] ^ BOTTOM, mem[b + VALS + j]);
      } else {
        rc = overlapping((int) mem[b + KIDS + j], level - 1, s, ek, visitor);
      }
      if (rc != 0) {
        return rc;
      }
    }
    return 0;
  }

  /** Receives entries from {@link #forEachOverlapping}. */
  @FunctionalInterface
  public interface EntryVisitor {
    /**
     * Visits one entry.
     *
     * @param start its start
     * @param end its end, inclusive
     * @return 0 to go on, anything else to stop
     */
    int visit(long start, long end);
  }

  // ---------------------------------------------------------------------------------------------
  // Node primitives

  private static int base(int node) {
    return HEADER + node * STRIDE;
  }

  private int root() {
    return (int) mem[H_ROOT];
  }

  private int height() {
    return (int) mem[H_HEIGHT];
  }

  private int count(int node) {
    return (int) mem[base(node) + COUNT];
  }

  private int parent(int node) {
    return (int) mem[base(node) + PARENT];
  }

  /** Keys of {@code node} below (strict) or not above {@code k}, clamped to the keys in use. */
  private int countKeys(int node, long k, boolean inclusive) {
    final long[] m = mem;
    final int b = base(node);
    // Keys below k are the keys not above k - 1; nothing is below the bottom.
    int c = inclusive ? countNotAbove(m, b, k) : k == BOTTOM ? 0 : countNotAbove(m, b, k - 1);
    return Math.min(c, (int) m[b + COUNT]);
  }

  /** The leaf where {@code k} belongs: after equal keys when inclusive, before them otherwise. */
  private int descend(long k, boolean inclusive) {
    int node = root();
    for (int level = height(); level > 0; level--) {
      int c = countKeys(node, k, inclusive);
      node = (int) mem[base(node) + KIDS + Math.max(c - 1, 0)];
    }
    return node;
  }

  private int allocNode(boolean leaf) {
    long[] m = mem;
    int node = (int) m[H_FREE];
    if (node >= 0) {
      m[H_FREE] = m[base(node) + NEXT];
    } else {
      node = (int) m[H_USED];
      if (base(node + 1) > m.length) {
        long grown = Math.max(2L * m.length, (long) base(node + 1));
        if (grown > Integer.MAX_VALUE - 16) {
          throw new IllegalStateException("interval tree is full: " + m[H_SIZE] + " entries");
        }
        long[] bigger = new long[(int) grown];
        System.arraycopy(m, 0, bigger, 0, m.length);
        mem = bigger;
        m = bigger;
      }
      m[H_USED] = node + 1;
    }
    int b = base(node);
    for (int i = 0; i < FANOUT; i++) {
      m[b + KEYS + i] = PAD;
      m[b + VALS + i] = 0;
      m[b + KIDS + i] = -1;
    }
    m[b + COUNT] = 0;
    m[b + PARENT] = -1;
    m[b + NEXT] = -1;
    m[b + PREV] = -1;
    m[b + LEAF] = leaf ? 1 : 0;
    return node;
  }

  private void freeNode(int node) {
    int b = base(node);
    mem[b + NEXT] = mem[H_FREE];
    mem[H_FREE] = node;
  }

  private int slotOf(int parent, int child) {
    int b = base(parent);
    int n = count(parent);
    for (int j = 0; j < n; j++) {
      if (mem[b + KIDS + j] == child) {
        return j;
      }
    }
    throw new AssertionError("node " + child + " is not a child of " + parent);
  }

  /** The largest end below {@code node}. */
  private long maxEnd(int node) {
    int b = base(node);
    int n = count(node);
    long max = mem[b + VALS];
    for (int j = 1; j < n; j++) {
      long v = mem[b + VALS + j];
      if (Long.compareUnsigned(v, max) > 0) {
        max = v;
      }
    }
    return max;
  }

  /** Recomputes the largest-end summaries from {@code node} up to the root. */
  private void fixMaxUp(int node) {
    int p = parent(node);
    while (p >= 0) {
      int at = base(p) + VALS + slotOf(p, node);
      long max = maxEnd(node);
      if (mem[at] == max) {
        return; // only node's subtree changed, so nothing above can change either
      }
      mem[at] = max;
      node = p;
      p = parent(node);
    }
  }

  /** Records that the smallest key below {@code node} is now {@code k}, in the first ancestor that routes by it. */
  private void fixMinUp(int node, long k) {
    int p = parent(node);
    while (p >= 0) {
      int j = slotOf(p, node);
      if (j > 0) {
        mem[base(p) + KEYS + j] = k;
        return;
      }
      node = p;
      p = parent(node);
    }
  }

  /**
   * Puts key {@code k} with value {@code v} (and, in an inner node, child {@code kid}) at slot {@code
   * at} of {@code node}, splitting it when full.
   */
  private void insertIntoNode(int node, int at, long k, long v, int kid) {
    int n = count(node);
    if (n < FANOUT) {
      shiftRight(node, at, n);
      put(node, at, k, v, kid);
      mem[base(node) + COUNT] = n + 1;
      if (kid >= 0) {
        mem[base(kid) + PARENT] = node;
      }
      if (at == 0 && isLeaf(node)) {
        fixMinUp(node, k);
      }
      fixMaxUp(node);
      return;
    }
    splitAndInsert(node, at, k, v, kid);
  }

  private boolean isLeaf(int node) {
    return mem[base(node) + LEAF] != 0;
  }

  private void put(int node, int at, long k, long v, int kid) {
    int b = base(node);
    mem[b + KEYS + at] = k;
    mem[b + VALS + at] = v;
    mem[b + KIDS + at] = kid;
  }

  /** Moves slots {@code [at, n)} of {@code node} one to the right. */
  private void shiftRight(int node, int at, int n) {
    int b = base(node);
    int len = n - at;
    System.arraycopy(mem, b + KEYS + at, mem, b + KEYS + at + 1, len);
    System.arraycopy(mem, b + VALS + at, mem, b + VALS + at + 1, len);
    if (mem[b + LEAF] == 0) {
      System.arraycopy(mem, b + KIDS + at, mem, b + KIDS + at + 1, len);
    }
  }

  private void splitAndInsert(int node, int at, long k, long v, int kid) {
    final boolean leaf = isLeaf(node);
    int right = allocNode(leaf); // may grow mem: read bases afterwards
    // Appending keeps the left node full, so ascending inserts fill nodes; otherwise split in half.
    int keep = at == FANOUT ? FANOUT : FANOUT / 2;
    int moved = FANOUT - keep;
    int lb = base(node);
    int rb = base(right);
    System.arraycopy(mem, lb + KEYS + keep, mem, rb + KEYS, moved);
    System.arraycopy(mem, lb + VALS + keep, mem, rb + VALS, moved);
    System.arraycopy(mem, lb + KIDS + keep, mem, rb + KIDS, moved);
    for (int i = keep; i < FANOUT; i++) {
      mem[lb + KEYS + i] = PAD;
      mem[lb + KIDS + i] = -1;
    }
    mem[lb + COUNT] = keep;
    mem[rb + COUNT] = moved;
    if (!leaf) {
      for (int i = 0; i < moved; i++) {
        int child = (int) mem[rb + KIDS + i];
        mem[base(child) + PARENT] = right;
      }
    }
    int parent = parent(node);
    mem[rb + PARENT] = parent;
    if (leaf) {
      int next = (int) mem[lb + NEXT];
      mem[rb + NEXT] = next;
      mem[rb + PREV] = node;
      mem[lb + NEXT] = right;
      if (next >= 0) {
        mem[base(next) + PREV] = right;
      }
    }
    // Place the new entry, then publish the right node's smallest key as its separator.
    int target = at < keep || (at == keep && keep < FANOUT) ? node : right;
    int slot = target == node ? at : at - keep;
    int tn = count(target);
    shiftRight(target, slot, tn);
    put(target, slot, k, v, kid);
    mem[base(target) + COUNT] = tn + 1;
    if (kid >= 0) {
      mem[base(kid) + PARENT] = target;
    }
    long separator = mem[base(right) + KEYS];
    if (!leaf) {
      mem[base(right) + KEYS] = BOTTOM;
    }
    if (parent < 0) {
      int root = allocNode(false);
      int b = base(root);
      put(root, 0, BOTTOM, maxEnd(node), node);
      put(root, 1, separator, maxEnd(right), right);
      mem[b + COUNT] = 2;
      mem[base(node) + PARENT] = root;
      mem[base(right) + PARENT] = root;
      mem[H_ROOT] = root;
      mem[H_HEIGHT]++;
      return;
    }
    mem[base(parent) + VALS + slotOf(parent, node)] = maxEnd(node);
    if (target == node && slot == 0 && leaf) {
      fixMinUp(node, k);
    }
    insertIntoNode(parent, slotOf(parent, node) + 1, separator, maxEnd(right), right);
  }

  /** Removes slot {@code at} of {@code node}, removing the node itself when it empties. */
  private void removeFromNode(int node, int at) {
    int b = base(node);
    int n = count(node);
    long nextMin = at == 0 && n > 1 ? mem[b + KEYS + 1] : PAD;
    int len = n - at - 1;
    System.arraycopy(mem, b + KEYS + at + 1, mem, b + KEYS + at, len);
    System.arraycopy(mem, b + VALS + at + 1, mem, b + VALS + at, len);
    if (mem[b + LEAF] == 0) {
      System.arraycopy(mem, b + KIDS + at + 1, mem, b + KIDS + at, len);
    }
    mem[b + KEYS + n - 1] = PAD;
    mem[b + VALS + n - 1] = 0;
    mem[b + KIDS + n - 1] = -1;
    mem[b + COUNT] = n - 1;
    if (n - 1 == 0) {
      if (node != root()) {
        unlinkNode(node);
      }
      return;
    }
    if (at == 0) {
      if (!isLeaf(node)) {
        mem[b + KEYS] = BOTTOM;
      }
      fixMinUp(node, nextMin);
    }
    fixMaxUp(node);
    collapseRoot();
  }

  /** Takes an empty non-root node out of the tree. */
  private void unlinkNode(int node) {
    int b = base(node);
    if (isLeaf(node)) {
      int next = (int) mem[b + NEXT];
      int prev = (int) mem[b + PREV];
      if (prev >= 0) {
        mem[base(prev) + NEXT] = next;
      } else {
        mem[H_FIRST_LEAF] = next;
      }
      if (next >= 0) {
        mem[base(next) + PREV] = prev;
      }
    }
    int parent = parent(node);
    int slot = slotOf(parent, node);
    freeNode(node);
    removeFromNode(parent, slot);
  }

  /** Shortens the tree while its root is an inner node with one child. */
  private void collapseRoot() {
    int root = root();
    while (!isLeaf(root) && count(root) == 1) {
      int child = (int) mem[base(root) + KIDS];
      mem[base(child) + PARENT] = -1;
      freeNode(root);
      mem[H_ROOT] = child;
      mem[H_HEIGHT]--;
      root = child;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Invariants

  /**
   * Checks every structural invariant: keys sorted and padded, exact separators and largest-end
   * summaries, parent links, the leaf chain, equal leaf depth and the entry count.
   *
   * @return true if they all hold (it throws {@link AssertionError} naming the first that does not)
   */
  public boolean checkInvariants() {
    long[] m = mem;
    int root = root();
    if (parent(root) != -1) {
      throw new AssertionError("root has a parent");
    }
    long[] counted = new long[1];
    int[] lastLeaf = {-1};
    check(root, height(), counted, lastLeaf);
    if (counted[0] != m[H_SIZE]) {
      throw new AssertionError("size " + m[H_SIZE] + " but " + counted[0] + " entries");
    }
    if (lastLeaf[0] >= 0 && m[base(lastLeaf[0]) + NEXT] != -1) {
      throw new AssertionError("last leaf has a successor");
    }
    return true;
  }

  private void check(int node, int level, long[] counted, int[] lastLeaf) {
    int b = base(node);
    int n = count(node);
    if (n < 0 || n > FANOUT || (n == 0 && node != root())) {
      throw new AssertionError("node " + node + " holds " + n + " keys");
    }
    if ((level == 0) != isLeaf(node)) {
      throw new AssertionError("node " + node + " is at the wrong depth");
    }
    for (int i = n; i < FANOUT; i++) {
      if (mem[b + KEYS + i] != PAD) {
        throw new AssertionError("node " + node + " slot " + i + " is not padded");
      }
    }
    for (int i = 1; i < n; i++) {
      if (mem[b + KEYS + i - 1] > mem[b + KEYS + i]) {
        throw new AssertionError("node " + node + " keys out of order at " + i);
      }
    }
    if (level == 0) {
      int prev = lastLeaf[0];
      if (prev >= 0 ? mem[base(prev) + NEXT] != node : mem[H_FIRST_LEAF] != node) {
        throw new AssertionError("leaf chain broken before " + node);
      }
      if (mem[b + PREV] != prev) {
        throw new AssertionError("leaf " + node + " has the wrong predecessor");
      }
      for (int i = 0; i < n; i++) {
        if (Long.compareUnsigned(mem[b + KEYS + i] ^ BOTTOM, mem[b + VALS + i]) > 0) {
          throw new AssertionError("leaf " + node + " slot " + i + " ends before it starts");
        }
      }
      lastLeaf[0] = node;
      counted[0] += n;
      return;
    }
    if (mem[b + KEYS] != BOTTOM) {
      throw new AssertionError("inner node " + node + " key 0 is not the bottom");
    }
    for (int j = 0; j < n; j++) {
      int kid = (int) mem[b + KIDS + j];
      if (parent(kid) != node) {
        throw new AssertionError("node " + kid + " has the wrong parent");
      }
      if (j > 0 && mem[b + KEYS + j] != minKey(kid)) {
        throw new AssertionError("node " + node + " separator " + j + " is not its child's minimum");
      }
      if (mem[b + VALS + j] != maxEnd(kid)) {
        throw new AssertionError("node " + node + " slot " + j + " largest end is stale");
      }
      check(kid, level - 1, counted, lastLeaf);
    }
  }

  private long minKey(int node) {
    while (!isLeaf(node)) {
      node = (int) mem[base(node) + KIDS];
    }
    return mem[base(node) + KEYS];
  }
}
