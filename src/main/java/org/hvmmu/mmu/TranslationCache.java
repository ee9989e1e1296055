package org.hvmmu.mmu;

import java.util.Arrays;

/**
 * One set-associative structure (a TLB, a paging-structure cache or a nested TLB) as columns of
 * primitives: no object per entry. The caller computes the set from the address and the tag from
 * the address, the page size and the context id; a tag of -1 is an invalid entry.
 *
 * <p>Columns: {@code tag}; {@code value} (a physical address); {@code aux} (a second address, for
 * example the guest-physical page); {@code attr} (rights, see {@link Rights}); {@code meta} (what
 * address-specific invalidations compare: VPID, PCID, global); and, for TLBs only, {@code page} (the
 * host page of a 4-KByte RAM translation, for reads and writes without a radix lookup).
 */
final class TranslationCache {
  static final long INVALID = -1L;

  final String name;
  final int sets;
  final int ways;
  final int setMask;
  /** log2(ways) when ways is a power of two (no division on hits), else -1. */
  private final int waysShift;
  final Replacement replacement;
  final long[] tag;
  final long[] value;
  final long[] aux;
  final int[] attr;
  final long[] meta;
  final byte[][] page;
  /** LRU: per-entry age (0 = most recent). */
  private final byte[] age;
  /** Tree pseudo-LRU: per-set node bits. */
  private final long[] plru;
  private final long[] plruClear;
  private final long[] plruSet;
  private final int plruLevels;
  private long random;
  private int valid;
  /** Hits, counted by the vCPU. */
  long hits;
  /** Entries filled. */
  long fills;

  TranslationCache(String name, CacheGeometry geometry, boolean withPages, long seed) {
    this.name = name;
    int entries = geometry.entries();
    this.sets = Math.max(geometry.sets(), 1);
    this.ways = entries == 0 ? 0 : geometry.ways();
    this.setMask = sets - 1;
    this.waysShift = ways > 0 && Integer.bitCount(ways) == 1 ? Integer.numberOfTrailingZeros(ways)
        : -1;
    this.replacement = geometry.replacement();
    this.tag = new long[entries];
    Arrays.fill(tag, INVALID);
    this.value = new long[entries];
    this.aux = new long[entries];
    this.attr = new int[entries];
    this.meta = new long[entries];
    this.page = withPages ? new byte[entries][] : null;
    this.age = replacement == Replacement.LRU ? new byte[entries] : null;
    if (replacement == Replacement.TREE_PLRU && ways > 1) {
      plruLevels = Integer.numberOfTrailingZeros(ways);
      plru = new long[sets];
      plruClear = new long[ways];
      plruSet = new long[ways];
      for (int w = 0; w < ways; w++) {
        int node = 1;
        for (int l = plruLevels - 1; l >= 0; l--) {
          int bit = (w >>> l) & 1;
          plruClear[w] |= 1L << node;
          if (bit == 0) {
            plruSet[w] |= 1L << node; // point away from the way just used
          }
          node = 2 * node + bit;
        }
      }
    } else {
      plruLevels = 0;
      plru = null;
      plruClear = null;
      plruSet = null;
    }
    this.random = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
    if (entries > 0 && ways > 0) {
      resetAges();
    }
  }

  boolean enabled() {
    return ways > 0;
  }

  int validEntries() {
    return valid;
  }

  /** The index of the entry with {@code key} or {@code altKey} in {@code set}, or -1. */
  int find(int set, long key, long altKey) {
    int base = set * ways;
    for (int i = base; i < base + ways; i++) {
      long t = tag[i];
      if (t == key || t == altKey) {
        return i;
      }
    }
    return -1;
  }

  /** Records a hit on entry {@code index} for replacement. */
  void touch(int index) {
    if (age != null) {
      byte a = age[index];
      if (a != 0) {
        int base = waysShift >= 0 ? index & -ways : index - index % ways;
        for (int i = base; i < base + ways; i++) {
          if (age[i] < a) {
            age[i]++;
          }
        }
        age[index] = 0;
      }
    } else if (plru != null) {
      int set = index >>> waysShift; // tree pseudo-LRU needs a power-of-two number of ways
      int w = index & (ways - 1);
      plru[set] = (plru[set] & ~plruClear[w]) | plruSet[w];
    }
  }

  /** Chooses the entry to fill in {@code set}: an invalid one first, else the policy's victim. */
  int victim(int set) {
    int base = set * ways;
    for (int i = base; i < base + ways; i++) {
      if (tag[i] == INVALID) {
        return i;
      }
    }
    switch (replacement) {
      case LRU: {
        int oldest = base;
        for (int i = base + 1; i < base + ways; i++) {
          if (age[i] > age[oldest]) {
            oldest = i;
          }
        }
        return oldest;
      }
      case TREE_PLRU: {
        if (plru == null) {
          return base;
        }
        long bits = plru[set];
        int node = 1;
        for (int l = 0; l < plruLevels; l++) {
          node = 2 * node + (int) ((bits >>> node) & 1);
        }
        return base + node - ways;
      }
      default: {
        long x = random;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        random = x;
        return base + (int) Long.remainderUnsigned(x, ways);
      }
    }
  }

  /** Fills entry {@code index} and makes it the most recently used. */
  void fill(int index, long key, long value, long aux, int attr, long meta) {
    fills++;
    if (tag[index] == INVALID) {
      valid++;
    }
    tag[index] = key;
    this.value[index] = value;
    this.aux[index] = aux;
    this.attr[index] = attr;
    this.meta[index] = meta;
    if (page != null) {
      page[index] = null;
    }
    touch(index);
  }

  void invalidate(int index) {
    if (tag[index] != INVALID) {
      tag[index] = INVALID;
      valid--;
      if (page != null) {
        page[index] = null;
      }
    }
  }

  /** Invalidates every entry; returns whether any was valid. */
  boolean clear() {
    if (valid == 0) {
      return false;
    }
    Arrays.fill(tag, INVALID);
    if (page != null) {
      Arrays.fill(page, null);
    }
    valid = 0;
    return true;
  }

  private void resetAges() {
    if (age != null) {
      for (int i = 0; i < age.length; i++) {
        age[i] = (byte) Math.min(i % ways, 127);
      }
    }
  }
}
