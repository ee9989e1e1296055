package org.hvmmu.host;

import java.util.Arrays;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.mmu.xen.GuestWalker;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.x86.Pte;

/**
 * One shadowed domain's shadow state: its shadow pool (a block of machine frames from Xen's heap,
 * each a 4-level shadow table or free), Xen's shadow hash from (guest frame, shadow type) to shadow
 * page, the walker its page-fault handler runs, reusable scratch state and counters. {@link
 * ShadowPaging} does the work; everything here is read and changed under the domain's monitor.
 *
 * <p>Shadow types are Xen's for 64-bit guests: {@link #L1} to {@link #L4} shadow a guest table (the
 * key is the table's machine frame), {@link #FL1} splits a guest 2-MByte page into 4-KByte shadow
 * entries (the key is the guest frame number in the guest's L2 entry, as Xen keys its {@code
 * fl1_shadow}s). Page 0 is a blank top-level table, never written, that a vCPU runs on until its
 * guest loads 4-level paging. Shadows are never evicted: when the pool is full the domain crashes.
 */
final class ShadowDomain {
  /** A free pool page. */
  static final byte FREE = 0;

  /** The shadow of a guest L1 table ({@code SH_type_l1_64_shadow}). */
  static final byte L1 = 1;

  /** The shadow of a guest L2 table. */
  static final byte L2 = 2;

  /** The shadow of a guest L3 table. */
  static final byte L3 = 3;

  /** The shadow of a guest L4 table (a top-level shadow). */
  static final byte L4 = 4;

  /** A shadow L1 splitting a guest 2-MByte page ({@code SH_type_fl1_64_shadow}). */
  static final byte FL1 = 5;

  /** The blank top-level table of page 0. */
  static final byte BLANK = 6;

  /** Pages of a pool: 1024 (4 MiB of machine frames, written only as shadows are built). */
  static final int POOL_PAGES = 1024;

  final GuestDomain domain;
  final ShadowPaging paging;
  final PhysicalMemory machine;
  final long firstFrame;
  final int capacity;
  final byte[] type;
  final long[] backer;
  /** FL1 shadows: the guest frame number of slot 0, and the flags of the fabricated L1 entries. */
  final long[] fl1Base;

  final long[] fl1Flags;
  private int nextFree = 1;
  private long[] hashKeys;
  private int[] hashPages;

  /** The walker of the domain's page faults, over its tables in guest memory. */
  GuestWalker walker;

  /** Reusable p2m cursors: one for the walker's table lookups, one for target frames. */
  final P2mEntry walkCursor = new P2mEntry();

  final P2mEntry targetCursor = new P2mEntry();

  /** The result of {@link ShadowPaging}'s target lookup: machine frame and p2m type code. */
  long targetMfn;

  int targetType;

  /** One shadow table's worth of entries for {@code shadow_set_l1e}, which works on an array. */
  final long[] scratch = new long[Pte.ENTRIES_PER_TABLE];

  /** Set when a shadow could not be made: the pool is full and the domain is to crash. */
  boolean poolFull;

  /** Whether the guest has NX, from the last 4-level register load of any of its vCPUs. */
  boolean guestNx = true;

  /** The guest-table layer over these shadows ({@link ShadowTables}), made on first use. */
  ShadowTables tables;

  /** Which shadow L1 entry's {@code shadow_set_l1e} flags to collect: guest L1 frame and slot. */
  long watchFrame = -1;

  int watchSlot;

  int watchFlags;

  // ---- counters (read by tests and the measurement in docs/shadow.md) ---------------------------

  /** Shadow page faults handled. */
  long faults;

  /** Faults handed to the guest (its own walk failed, or its frame has no p2m entry). */
  long guestFaults;

  /** Shadow entries written while handling faults, by level (index 1 to 4). */
  final long[] entriesBuilt = new long[5];

  /** Shadow pages made ({@code sh_make_shadow}). */
  long shadowsMade;

  /** Guest stores into its page tables emulated. */
  long emulatedWrites;

  /** Guest stores to read-only memory discarded ({@code emulate_readonly}). */
  long discardedWrites;

  /**
   * Faults whose shadows, once built, still refuse the access for the hypervisor's own reasons
   * (read-only MMIO, a refused entry): Xen would let the guest fault on them for ever.
   */
  long unfixable;

  /** Shadow L1 entries that lost R/W because their frame became a page table. */
  long writeAccessRemovals;

  /** Shadow entries re-derived after a guest store into a page table (validation). */
  long validations;

  /** Domain-wide flushes the shadow code issued. */
  long flushes;

  ShadowDomain(GuestDomain domain, ShadowPaging paging, PhysicalMemory machine, long firstFrame,
      int capacity) {
    this.domain = domain;
    this.paging = paging;
    this.machine = machine;
    this.firstFrame = firstFrame;
    this.capacity = capacity;
    this.type = new byte[capacity];
    this.backer = new long[capacity];
    this.fl1Base = new long[capacity];
    this.fl1Flags = new long[capacity];
    this.type[0] = BLANK;
    int buckets = Integer.highestOneBit(capacity * 2 - 1) << 1;
    this.hashKeys = new long[buckets];
    this.hashPages = new int[buckets];
  }

  /** The machine frame of pool page {@code page}. */
  long frame(int page) {
    return firstFrame + page;
  }

  /** The pool page at machine frame {@code frame}, or -1 if it is not in the pool. */
  int pageOf(long frame) {
    long page = frame - firstFrame;
    return frame >= firstFrame && page < capacity ? (int) page : -1;
  }

  /** The blank top-level table's machine frame. */
  long blankFrame() {
    return firstFrame;
  }

  /** Xen's {@code get_shadow_status}: the page shadowing {@code key} as {@code shadowType}, or -1. */
  int lookup(long key, byte shadowType) {
    long k = hashKey(key, shadowType);
    int mask = hashKeys.length - 1;
    for (int i = mix(k) & mask; ; i = (i + 1) & mask) {
      if (hashKeys[i] == k) {
        return hashPages[i];
      }
      if (hashKeys[i] == 0) {
        return -1;
      }
    }
  }

  /**
   * Xen's {@code sh_make_shadow} without the promotion: a zeroed page recorded as the shadow of
   * {@code key}, or -1 if the pool is full.
   */
  int make(long key, byte shadowType) {
    if (nextFree == capacity) {
      return -1;
    }
    int page = nextFree++;
    type[page] = shadowType;
    backer[page] = key;
    long k = hashKey(key, shadowType);
    int mask = hashKeys.length - 1;
    int i = mix(k) & mask;
    while (hashKeys[i] != 0) {
      i = (i + 1) & mask;
    }
    hashKeys[i] = k;
    hashPages[i] = page;
    shadowsMade++;
    return page;
  }

  /**
   * Xen's {@code sh_mfn_is_a_page_table}: whether machine frame {@code gmfn} is shadowed as a guest
   * table at any level.
   */
  boolean isPageTable(long gmfn) {
    return gmfn >= 0 && (lookup(gmfn, L1) >= 0 || lookup(gmfn, L2) >= 0 || lookup(gmfn, L3) >= 0
        || lookup(gmfn, L4) >= 0);
  }

  /** The pages in use, below this bound. */
  int pagesUsedBound() {
    return nextFree;
  }

  /** Pages in use, the blank one included. */
  int pagesInUse() {
    return nextFree;
  }

  /**
   * Frees every shadow (their pages must be zero already or are zeroed here) and empties the hash:
   * the pool as it was made.
   */
  void reset() {
    for (int page = 1; page < nextFree; page++) {
      if (type[page] != FREE) {
        long base = frame(page) << Pte.PAGE_SHIFT;
        for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
          if (machine.read(base + 8L * slot, 8) != 0) {
            machine.write(base + 8L * slot, 8, 0);
          }
        }
      }
      type[page] = FREE;
      backer[page] = 0;
      fl1Base[page] = 0;
      fl1Flags[page] = 0;
    }
    nextFree = 1;
    poolFull = false;
    Arrays.fill(hashKeys, 0);
  }

  /**
   * Whether the pool's records are consistent: every used page is in the hash under its key, the
   * hash holds nothing else, and the blank page is empty.
   */
  boolean checkInvariants() {
    int found = 0;
    for (int i = 0; i < hashKeys.length; i++) {
      if (hashKeys[i] != 0) {
        int page = hashPages[i];
        if (page <= 0 || page >= nextFree || type[page] == FREE
            || hashKey(backer[page], type[page]) != hashKeys[i]) {
          return false;
        }
        found++;
      }
    }
    int used = 0;
    for (int page = 1; page < nextFree; page++) {
      if (type[page] != FREE) {
        used++;
      }
    }
    long blank = blankFrame() << Pte.PAGE_SHIFT;
    for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
      if (machine.read(blank + 8L * slot, 8) != 0) {
        return false;
      }
    }
    return found == used;
  }

  private static long hashKey(long key, byte shadowType) {
    return ((key << 3) | shadowType) + 1;
  }

  private static int mix(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32));
  }
}
