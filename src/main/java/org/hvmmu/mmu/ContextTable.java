package org.hvmmu.mmu;

import java.util.Arrays;

/**
 * Maps the tags of cached translations (VPID, PCID, EP4TA, ...) to small context ids that TLB tags
 * carry, so that invalidating every entry of a context is giving it a new id (the old entries can
 * never match again): a flush by epoch, O(contexts) and allocation-free. When ids run out, or the
 * table is full, the owner wipes its structures and the table starts over ({@link #onWipe}).
 *
 * <p>A context is a pair of longs: {@code scope} (VPID, PCID and a kind, packed by the caller) and
 * {@code root} (an EP4TA or nested CR3; 0 without nesting). Each slot remembers whether entries were
 * filled under its current id since it got that id ({@code dirty}), which tells elided flushes from
 * real ones.
 */
final class ContextTable {
  /** Ids are 16 bits and never 0xFFFF, so a tag with the id at bit 47 is never -1. */
  static final int MAX_ID = 0xFFFE;

  private static final int CAPACITY = 1024;

  private final long[] scopes = new long[CAPACITY];
  private final long[] roots = new long[CAPACITY];
  private final int[] ids = new int[CAPACITY];
  private final boolean[] used = new boolean[CAPACITY];
  private final boolean[] dirty = new boolean[CAPACITY];
  /** The used slots, densely, so that renumbering visits only them. */
  private final int[] usedSlots = new int[CAPACITY];
  private int count;
  private int nextId = 1;
  private final Runnable onWipe;

  ContextTable(Runnable onWipe) {
    this.onWipe = onWipe;
  }

  /** The slot of context (scope, root), created if new; may wipe the owner when full. */
  int slot(long scope, long root) {
    int mask = CAPACITY - 1;
    int h = hash(scope, root) & mask;
    for (int probe = 0; probe < CAPACITY; probe++) {
      int s = (h + probe) & mask;
      if (!used[s]) {
        break;
      }
      if (scopes[s] == scope && roots[s] == root) {
        return s;
      }
    }
    if (count >= CAPACITY / 2 || nextId > MAX_ID) {
      wipe();
      h = hash(scope, root) & mask;
    }
    int s = h;
    while (used[s]) {
      s = (s + 1) & mask;
    }
    used[s] = true;
    usedSlots[count] = s;
    scopes[s] = scope;
    roots[s] = root;
    ids[s] = nextId++;
    dirty[s] = false;
    count++;
    return s;
  }

  int id(int slot) {
    return ids[slot];
  }

  /** Whether some context has id {@code id} now (entries tagged with a retired id are dead). */
  boolean isLive(int id) {
    for (int u = 0; u < count; u++) {
      if (ids[usedSlots[u]] == id) {
        return true;
      }
    }
    return false;
  }

  void markDirty(int slot) {
    dirty[slot] = true;
  }

  /** Packs a scope: VPID bits 15:0, PCID bits 27:16, kind bits 31:28. */
  static long scope(int vpid, int pcid, int kind) {
    return (vpid & 0xFFFFL) | ((pcid & 0xFFFL) << 16) | ((long) kind << 28);
  }

  /**
   * Gives a new id to every context whose VPID is {@code vpid} (any: -1; any but 0: {@link
   * #ANY_BUT_ZERO}), PCID {@code pcid} (any: -1), kind one of the bits of {@code kinds}, and root
   * {@code root} (any: {@link #ANY}; any but 0: {@link #ANY_NONZERO}).
   *
   * @return whether any of them had entries
   */
  boolean renumber(int vpid, int pcid, int kinds, long root) {
    boolean any = false;
    for (int u = 0; u < count; u++) {
      int s = usedSlots[u];
      long sc = scopes[s];
      long v = sc & 0xFFFF;
      boolean match = (vpid == -1 || (vpid == ANY_BUT_ZERO ? v != 0 : v == vpid))
          && (pcid < 0 || ((sc >>> 16) & 0xFFF) == pcid)
          && ((kinds >>> (int) (sc >>> 28)) & 1) != 0
          && (root == ANY || (root == ANY_NONZERO ? roots[s] != 0 : roots[s] == root));
      if (match) {
        if (dirty[s]) {
          any = true;
          if (nextId > MAX_ID) {
            wipe();
            return true;
          }
          ids[s] = nextId++;
          dirty[s] = false;
        }
      }
    }
    return any;
  }

  /** Forgets every context and lets the owner clear its structures. */
  void wipe() {
    Arrays.fill(used, false);
    count = 0;
    nextId = 1;
    onWipe.run();
  }

  /** A root that matches every root in {@link #renumber}. */
  static final long ANY = Long.MIN_VALUE;

  /** A root that matches every root but 0 (no nesting) in {@link #renumber}. */
  static final long ANY_NONZERO = Long.MIN_VALUE + 1;

  /** A VPID that matches every VPID but 0000H in {@link #renumber}. */
  static final int ANY_BUT_ZERO = -2;

  private static int hash(long scope, long root) {
    long h = scope * 0x9E3779B97F4A7C15L + root * 0xC2B2AE3D27D4EB4FL;
    return (int) (h ^ (h >>> 29) ^ (h >>> 47));
  }
}
