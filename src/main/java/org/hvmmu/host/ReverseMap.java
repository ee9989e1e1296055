package org.hvmmu.host;

import java.util.Arrays;

/**
 * A multimap from machine frames to the mappings of them, in primitive arrays: an open-addressing
 * table of frames, each heading a linked list of mapping records (domain, kind, where, slot) kept in
 * parallel arrays with a free list. Adding and removing allocate nothing once the arrays have grown
 * to the working size. Synchronised: the PV listener reports from many vCPU threads.
 */
final class ReverseMap {
  /** What {@link #forEach} calls for each record. */
  interface Visitor {
    /**
     * One mapping of frame {@code mfn}.
     *
     * @return false to stop
     */
    boolean visit(long mfn, int domain, MappingKind kind, long where, int slot);
  }

  private static final MappingKind[] KINDS = MappingKind.values();

  private long[] keys = new long[64]; // mfn + 1; 0 marks an empty bucket
  private int[] heads = new int[64];
  private int usedBuckets;

  private int[] next = new int[64];
  private int[] domains = new int[64];
  private byte[] kinds = new byte[64];
  private long[] wheres = new long[64];
  private int[] slots = new int[64];
  private int nodeCount;
  private int freeList = -1;
  private int records;

  synchronized void add(long mfn, int domain, MappingKind kind, long where, int slot) {
    int bucket = bucket(mfn, true);
    for (int n = heads[bucket]; n >= 0; n = next[n]) {
      if (same(n, domain, kind, where, slot)) {
        return; // already recorded
      }
    }
    int node = newNode();
    domains[node] = domain;
    kinds[node] = (byte) kind.ordinal();
    wheres[node] = where;
    slots[node] = slot;
    next[node] = heads[bucket];
    heads[bucket] = node;
    records++;
  }

  /**
   * Moves the record of one entry from frame {@code oldMfn} to frame {@code newMfn} in one step;
   * -1 stands for "none" on either side.
   */
  synchronized void replace(
      long oldMfn, long newMfn, int domain, MappingKind kind, long where, int slot) {
    if (oldMfn == newMfn) {
      return;
    }
    if (oldMfn != -1) {
      remove(oldMfn, domain, kind, where, slot);
    }
    if (newMfn != -1) {
      add(newMfn, domain, kind, where, slot);
    }
  }

  synchronized boolean remove(long mfn, int domain, MappingKind kind, long where, int slot) {
    int bucket = bucket(mfn, false);
    if (bucket < 0) {
      return false;
    }
    int prev = -1;
    for (int n = heads[bucket]; n >= 0; prev = n, n = next[n]) {
      if (same(n, domain, kind, where, slot)) {
        if (prev < 0) {
          heads[bucket] = next[n];
        } else {
          next[prev] = next[n];
        }
        next[n] = freeList;
        freeList = n;
        records--;
        return true;
      }
    }
    return false;
  }

  /**
   * Visits every record of frames {@code first} to {@code last} (inclusive), in a snapshot taken
   * first, so that the visitor may add and remove records.
   *
   * @return the number of records visited
   */
  int forEach(long first, long last, Visitor visitor) {
    long[] snapshot;
    synchronized (this) {
      int count = 0;
      long[] buf = new long[8];
      for (long mfn = first; Long.compareUnsigned(mfn, last) <= 0; mfn++) {
        int bucket = bucket(mfn, false);
        for (int n = bucket < 0 ? -1 : heads[bucket]; n >= 0; n = next[n]) {
          if (count + 5 > buf.length) {
            buf = Arrays.copyOf(buf, buf.length * 2);
          }
          buf[count++] = mfn;
          buf[count++] = domains[n];
          buf[count++] = kinds[n];
          buf[count++] = wheres[n];
          buf[count++] = slots[n];
        }
        if (mfn == last) {
          break; // last may be ~0
        }
      }
      snapshot = Arrays.copyOf(buf, count);
    }
    int visited = 0;
    for (int i = 0; i < snapshot.length; i += 5) {
      visited++;
      if (!visitor.visit(snapshot[i], (int) snapshot[i + 1], KINDS[(int) snapshot[i + 2]],
          snapshot[i + 3], (int) snapshot[i + 4])) {
        break;
      }
    }
    return visited;
  }

  /**
   * The number of records.
   *
   * @return live records
   */
  synchronized int size() {
    return records;
  }

  private boolean same(int n, int domain, MappingKind kind, long where, int slot) {
    return domains[n] == domain && kinds[n] == kind.ordinal() && wheres[n] == where
        && slots[n] == slot;
  }

  private int newNode() {
    if (freeList >= 0) {
      int n = freeList;
      freeList = next[n];
      return n;
    }
    if (nodeCount == next.length) {
      int size = next.length * 2;
      next = Arrays.copyOf(next, size);
      domains = Arrays.copyOf(domains, size);
      kinds = Arrays.copyOf(kinds, size);
      wheres = Arrays.copyOf(wheres, size);
      slots = Arrays.copyOf(slots, size);
    }
    return nodeCount++;
  }

  /** The bucket of {@code mfn}, created if asked; -1 if absent and not created. */
  private int bucket(long mfn, boolean create) {
    long key = mfn + 1;
    int mask = keys.length - 1;
    for (int i = mix(key) & mask; ; i = (i + 1) & mask) {
      if (keys[i] == key) {
        return i;
      }
      if (keys[i] == 0) {
        if (!create) {
          return -1;
        }
        if (2 * (usedBuckets + 1) > keys.length) {
          grow();
          return bucket(mfn, true);
        }
        keys[i] = key;
        heads[i] = -1;
        usedBuckets++;
        return i;
      }
    }
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldHeads = heads;
    keys = new long[oldKeys.length * 2];
    heads = new int[oldKeys.length * 2];
    int mask = keys.length - 1;
    for (int j = 0; j < oldKeys.length; j++) {
      if (oldKeys[j] != 0) {
        int i = mix(oldKeys[j]) & mask;
        while (keys[i] != 0) {
          i = (i + 1) & mask;
        }
        keys[i] = oldKeys[j];
        heads[i] = oldHeads[j];
      }
    }
  }

  private static int mix(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32));
  }
}
