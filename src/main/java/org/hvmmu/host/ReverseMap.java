package org.hvmmu.host;

import java.util.Arrays;

/**
 * A multimap from machine frames to the mappings of them, in primitive arrays: an open-addressing
 * table of frames (every unsigned 64-bit frame is a key: occupancy is a separate array, and a
 * frame whose last record goes leaves the table), each heading a linked list of mapping records
 * (domain, kind, where, slot) kept in parallel arrays with a free list. {@link #forEach} costs the
 * mappings, not the range: a range shorter than the table is probed frame by frame, a longer one
 * by a scan of the occupied buckets. Adding and removing allocate nothing once the arrays have grown
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

  /** Each bucket's frame, any unsigned 64-bit value: which buckets hold one is in {@link #used}. */
  private long[] keys = new long[64];
  private boolean[] used = new boolean[64];
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
   * -1 stands for "none" on either side (no entry maps frame ~0: PTEs and p2m leaves hold frames of
   * at most 40 bits, {@code Pte.MAX_MFN}).
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
        if (heads[bucket] < 0) {
          deleteBucket(bucket); // no frame without records stays: a scan costs the live frames
        }
        return true;
      }
    }
    return false;
  }

  /** Whether the record is there. */
  synchronized boolean contains(long mfn, int domain, MappingKind kind, long where, int slot) {
    int bucket = bucket(mfn, false);
    for (int n = bucket < 0 ? -1 : heads[bucket]; n >= 0; n = next[n]) {
      if (same(n, domain, kind, where, slot)) {
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
      long[] buf = new long[8];
      int count = 0;
      if (Long.compareUnsigned(first, last) > 0) {
        count = 0; // an empty range
      } else if (Long.compareUnsigned(last - first, keys.length) < 0) {
        // A range shorter than the table: probe its frames (last - first cannot overflow here).
        for (long mfn = first; ; mfn++) {
          int bucket = bucket(mfn, false);
          if (bucket >= 0) {
            buf = record(bucket, buf, count);
            count = countAfter(bucket, count);
          }
          if (mfn == last) {
            break; // last may be ~0
          }
        }
      } else {
        // A longer range: scan the occupied buckets, in frame order as the probe visits them.
        long[] inRange = new long[8];
        int n = 0;
        for (int i = 0; i < keys.length; i++) {
          if (used[i] && heads[i] >= 0 && Long.compareUnsigned(keys[i], first) >= 0
              && Long.compareUnsigned(keys[i], last) <= 0) {
            if (n == inRange.length) {
              inRange = Arrays.copyOf(inRange, n * 2);
            }
            inRange[n++] = keys[i] ^ Long.MIN_VALUE; // signed order of these is unsigned order
          }
        }
        Arrays.sort(inRange, 0, n);
        for (int j = 0; j < n; j++) {
          int bucket = bucket(inRange[j] ^ Long.MIN_VALUE, false);
          buf = record(bucket, buf, count);
          count = countAfter(bucket, count);
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

  /** {@code buf} (grown if needed) with bucket {@code bucket}'s records appended at {@code at}. */
  private long[] record(int bucket, long[] buf, int at) {
    long mfn = keys[bucket];
    for (int n = heads[bucket]; n >= 0; n = next[n]) {
      if (at + 5 > buf.length) {
        buf = Arrays.copyOf(buf, buf.length * 2);
      }
      buf[at++] = mfn;
      buf[at++] = domains[n];
      buf[at++] = kinds[n];
      buf[at++] = wheres[n];
      buf[at++] = slots[n];
    }
    return buf;
  }

  /** {@code at} advanced past the records of bucket {@code bucket}. */
  private int countAfter(int bucket, int at) {
    for (int n = heads[bucket]; n >= 0; n = next[n]) {
      at += 5;
    }
    return at;
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
    int mask = keys.length - 1;
    for (int i = mix(mfn) & mask; ; i = (i + 1) & mask) {
      if (!used[i]) {
        if (!create) {
          return -1;
        }
        if (2 * (usedBuckets + 1) > keys.length) {
          grow();
          return bucket(mfn, true);
        }
        used[i] = true;
        keys[i] = mfn;
        heads[i] = -1;
        usedBuckets++;
        return i;
      }
      if (keys[i] == mfn) {
        return i;
      }
    }
  }

  /** Empties bucket {@code i}, shifting back the entries of its probe run (no tombstones). */
  private void deleteBucket(int i) {
    int mask = keys.length - 1;
    int hole = i;
    for (int j = (i + 1) & mask; used[j]; j = (j + 1) & mask) {
      int home = mix(keys[j]) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) { // the hole lies on j's probe path
        keys[hole] = keys[j];
        heads[hole] = heads[j];
        hole = j;
      }
    }
    used[hole] = false;
    usedBuckets--;
  }

  private void grow() {
    long[] oldKeys = keys;
    boolean[] oldUsed = used;
    int[] oldHeads = heads;
    keys = new long[oldKeys.length * 2];
    used = new boolean[oldKeys.length * 2];
    heads = new int[oldKeys.length * 2];
    int mask = keys.length - 1;
    for (int j = 0; j < oldKeys.length; j++) {
      if (oldUsed[j]) {
        int i = mix(oldKeys[j]) & mask;
        while (used[i]) {
          i = (i + 1) & mask;
        }
        used[i] = true;
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
