package org.hvmmu.p2m;

import java.util.Arrays;
import java.util.Objects;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.hvmmu.xen.HypervisorBugException;

/**
 * A p2m (guest frame to machine frame and type) held as a 4-level radix tree of 512-entry tables, the
 * shape Xen's p2m code walks, with the entry format left to the subclass: {@link PtP2m} for the generic
 * page-table format, {@code org.hvmmu.p2m.ept.EptP2m} for Intel's EPT.
 *
 * <p>The tables live either in a pooled {@code long[]} of the p2m's own (the default), or in frames of
 * the host's machine memory ({@link #inMachineMemory}): a contiguous block of {@link #maxTablePages()}
 * frames from {@link #rootFrame()}, which is then exactly what a hardware walker (EPT, or NPT in the
 * generic format) reads: one format, no second copy.
 *
 * <p>Guest frames are 36 bits wide (a 48-bit guest physical address space). A leaf maps 4 KBytes (an L1
 * entry), 2 MBytes or 1 GByte (an L2 or L3 entry with bit 7 set). Tables live in one pooled {@code
 * long[]}, 512 entries per table page, with a free list; there is no object per entry or per table. A
 * table's frame number, as stored in the entry that points to it, is its index in the pool. The pool
 * holds at most {@link #maxTablePages()} pages, the root included; an update that would need more
 * returns {@link P2mSetResult#NO_MEMORY} and changes nothing.
 *
 * <p>Xen's {@code BUG_ON}s and {@code ASSERT}s throw {@link HypervisorBugException}; they are checked
 * before anything is written, so the table is unchanged afterwards. Caller errors (a misaligned or too
 * large frame, a type the era lacks) throw {@link IllegalArgumentException}.
 *
 * <p>Not thread-safe: Xen serialises updates with the p2m lock, and so must the caller. Lookups allocate
 * nothing; updates allocate only when the pool grows (by doubling, up to its maximum).
 */
public abstract class RadixP2m {
  /** Levels of the tree: L4 (root) to L1. */
  public static final int LEVELS = 4;

  /** Width of a guest frame number. */
  public static final int GFN_BITS = 36;

  /** One more than the largest guest frame number. */
  public static final long GFN_LIMIT = 1L << GFN_BITS;

  private static final int ENTRIES = Pte.ENTRIES_PER_TABLE;
  private static final int ROOT = 0;
  private static final int FULL_CHECK_LIMIT = 64;

  /** The era and defect switches. */
  protected final P2mSwitches switches;

  /** The domain's settings. */
  protected final P2mDomainConfig domain;

  /** The host's read-only MMIO frames, consulted on every derivation, never copied. */
  protected final RangeSet mmioRoRanges;

  private final int maxTablePages;
  private long[] entries;
  /** The machine memory holding the tables, or null for the pooled array. */
  private PhysicalMemory memory;
  /** The machine frame of table 0 (the root) when in machine memory; 0 for the pool. */
  private long frameBase;

  /** The table pages' contents in machine memory, looked up once each (no radix walk per entry). */
  private byte[][] tablePages;
  private int fresh;
  private int[] freeStack = new int[8];
  private int freeTop;
  private int liveTables;

  /**
   * Creates an empty p2m holding only its root table.
   *
   * @param switches the era and defect switches
   * @param domain the domain's settings
   * @param mmioRoRanges the host's read-only MMIO frames ({@code mmio_ro_ranges}), shared, not copied
   * @param maxTablePages the most table pages the p2m may use, the root included; at least 1
   * @throws IllegalArgumentException if {@code maxTablePages < 1}
   */
  protected RadixP2m(
      P2mSwitches switches, P2mDomainConfig domain, RangeSet mmioRoRanges, int maxTablePages) {
    this.switches = Objects.requireNonNull(switches, "switches");
    this.domain = Objects.requireNonNull(domain, "domain");
    this.mmioRoRanges = Objects.requireNonNull(mmioRoRanges, "mmioRoRanges");
    if (maxTablePages < 1) {
      throw new IllegalArgumentException("maxTablePages: " + maxTablePages + " (expected: >= 1)");
    }
    this.maxTablePages = maxTablePages;
    this.entries = new long[Math.min(maxTablePages, 4) * ENTRIES];
    allocTable();
  }

  /**
   * Moves this (fresh) p2m's tables into machine memory: table {@code i} becomes machine frame {@code
   * firstFrame + i}, so that entries pointing to tables hold machine frames a hardware walker follows.
   * The caller owns the frames {@code [firstFrame, firstFrame + maxTablePages() - 1]}, which must be
   * RAM of {@code memory}; they are zeroed here (frames never written cost nothing).
   *
   * @param memory the machine memory
   * @param firstFrame the first of {@link #maxTablePages()} contiguous RAM frames
   * @throws IllegalStateException if the p2m maps anything already
   * @throws IllegalArgumentException if the frames are not RAM of the memory
   */
  public final void inMachineMemory(PhysicalMemory memory, long firstFrame) {
    Objects.requireNonNull(memory, "memory");
    if (liveTables != 1 || fresh != 1 || countLeaves() != 0) {
      throw new IllegalStateException("the p2m must be fresh to move into machine memory");
    }
    for (long f = firstFrame; f < firstFrame + maxTablePages; f++) {
      byte[] page = memory.frameContents(f); // frames never written read as zeroes already
      if (page != null) {
        Arrays.fill(page, (byte) 0);
      }
    }
    this.memory = memory;
    this.frameBase = firstFrame;
    this.tablePages = new byte[maxTablePages][];
    this.entries = new long[0];
  }

  /**
   * The machine frame of the root table (EPTP's or nCR3's address bits 51:12), when the tables live
   * in machine memory; the root's pool index (0) otherwise.
   *
   * @return the frame
   */
  public final long rootFrame() {
    return frameBase + ROOT;
  }

  /**
   * The machine memory holding the tables, or null while they live in the p2m's own array.
   *
   * @return the memory or null
   */
  public final PhysicalMemory machineMemory() {
    return memory;
  }

  private int countLeaves() {
    int[] n = new int[1];
    visitTable(ROOT, LEVELS, 0L, (gfn, order, e) -> {
      n[0]++;
      return 0;
    });
    return n[0];
  }

  private long get(int slot) {
    if (memory == null) {
      return entries[slot];
    }
    byte[] page = tablePage(slot >>> 9, false);
    return page == null ? 0 : PhysicalMemory.readFrame(page, (slot & 511) << 3, 8);
  }

  private void set(int slot, long value) {
    if (memory == null) {
      entries[slot] = value;
    } else {
      PhysicalMemory.writeFrame(tablePage(slot >>> 9, true), (slot & 511) << 3, 8, value);
    }
  }

  /**
   * Table {@code table}'s page in machine memory, remembered after the first look-up; a page never
   * written has no contents yet (it reads as zeroes) and is allocated for a write.
   */
  private byte[] tablePage(int table, boolean forWrite) {
    byte[] page = tablePages[table];
    if (page == null) {
      long frame = frameBase + table;
      page = memory.frameContents(frame);
      if (page == null && forWrite) {
        memory.write(frame << 12, 8, 0); // allocates the frame (it reads as zeroes until then)
        page = memory.frameContents(frame);
      }
      tablePages[table] = page;
    }
    return page;
  }

  private void zeroTable(int table) {
    if (memory == null) {
      Arrays.fill(entries, table * ENTRIES, (table + 1) * ENTRIES, 0L);
    } else {
      byte[] page = memory.frameContents(frameBase + table);
      if (page != null) {
        Arrays.fill(page, (byte) 0);
      }
    }
  }

  // ---- format hooks -------------------------------------------------------------------------------

  /**
   * Whether a walk may descend through {@code entry} or treat it as a present leaf; a walk that must
   * go deeper replaces a non-present entry with a new table, as Xen does.
   *
   * @param entry an entry
   * @return true if present
   */
  protected abstract boolean isPresent(long entry);

  /**
   * Whether {@code entry}, found in an L2 or L3 table, is a leaf (bit 7).
   *
   * @param entry an entry
   * @return true for a superpage
   */
  protected abstract boolean isSuperpage(long entry);

  /**
   * Whether a leaf holds a valid mapping, so that a lookup reports its frame.
   *
   * @param entry a leaf entry
   * @return true if valid
   */
  protected abstract boolean isValid(long entry);

  /**
   * An entry pointing to the table page {@code frame}.
   *
   * @param frame the table's frame number (its pool index, or its machine frame when the tables live
   *     in machine memory)
   * @return the entry
   */
  protected abstract long tableEntry(long frame);

  /**
   * The leaf {@code setEntry} writes; may throw {@link HypervisorBugException} for a Xen assertion.
   *
   * @param typeCode the type, in the era's numbering
   * @param mfn the first frame, or {@link P2mEntry#INVALID_MFN}
   * @param order the leaf's order
   * @param access the access type
   * @return the entry, possibly empty
   */
  protected abstract long leafEntry(int typeCode, long mfn, PageOrder order, P2mAccess access);

  /**
   * The type code an entry holds, in the era's numbering; the invalid type for an empty entry.
   *
   * @param entry an entry
   * @return the code
   */
  protected abstract int entryType(long entry);

  /**
   * Child {@code index} of a superpage being split into the next smaller order.
   *
   * @param parent the superpage entry
   * @param parentOrder its order, 2 MBytes or 1 GByte
   * @param index 0 to 511
   * @return the child entry
   */
  protected abstract long splitChild(long parent, PageOrder parentOrder, int index);

  /**
   * A present leaf re-derived with type {@code newTypeCode}, as the global re-type writes it.
   *
   * @param entry the leaf
   * @param newTypeCode the new type, in the era's numbering
   * @param order the leaf's order
   * @return the new leaf
   */
  protected abstract long rederive(long entry, int newTypeCode, PageOrder order);

  /**
   * Whether the leaf lets the guest write.
   *
   * @param entry a leaf entry
   * @return true if present and writable
   */
  public abstract boolean isWritable(long entry);

  /**
   * The type code a raw entry of this p2m holds, as {@link #getEntry} reports it.
   *
   * @param entry a leaf entry
   * @return the code, in the switches' era numbering
   */
  public final int typeOf(long entry) {
    return entryType(entry);
  }

  /**
   * The frame number a raw entry of this p2m holds (bits 51:12 in both formats).
   *
   * @param entry an entry
   * @return the frame
   */
  public static long frameOf(long entry) {
    return (entry & Pte.MFN_FIELD_MASK) >>> Pte.PAGE_SHIFT;
  }

  /**
   * Whether this format's {@code p2m_set_entry} has the seed's {@code ASSERT(!mfn_valid(mfn) || p2mt
   * != p2m_mmio_direct)} on superpages. The seed added it to the generic format only.
   *
   * @return true if {@link P2mSwitches.SuperpageRoMmio#ASSERT_NO_VALID_MFN} applies here
   */
  protected abstract boolean hasSeedMmioSuperpageAssert();

  /**
   * Whether {@link #recalculateLeaves()} must split a superpage leaf. Default: never.
   *
   * @param entry a present superpage leaf
   * @param order its order
   * @return true to split it
   */
  protected boolean recalcNeedsSplit(long entry, PageOrder order) {
    return false;
  }

  /**
   * A leaf as {@link #recalculateLeaves()} rewrites it when it is not split. Default: unchanged.
   *
   * @param entry a present leaf
   * @param order its order
   * @return the new leaf
   */
  protected long recalcLeaf(long entry, PageOrder order) {
    return entry;
  }

  // ---- public operations --------------------------------------------------------------------------

  /**
   * Xen's {@code p2m_set_entry} (with {@code set_mmio_p2m_entry}'s superpage check for mmio_direct):
   * maps the {@code order.pages()} guest frames from {@code gfn} to the frames from {@code mfn} with
   * type {@code type} and the domain's default access.
   * Xen 4.22: {@code xen/arch/x86/mm/p2m.c}.
   *
   * <p>Missing tables are allocated; a superpage above the target level is split first. A leaf
   * replacing a table frees the table's subtree. mmio_direct superpages follow {@link
   * P2mSwitches#superpageRoMmio()}: the seed's generic format asserts that the frame is not valid, today
   * a superpage overlapping mmio_ro_ranges is refused with {@link P2mSetResult#RETRY_ORDER_4K}.
   *
   * @param gfn the first guest frame, aligned to the order
   * @param mfn the first frame, aligned to the order, at most {@link Pte#MAX_MFN}; or {@link
   *     P2mEntry#INVALID_MFN}
   * @param order the page size
   * @param type the type; must exist in the switches' era
   * @return {@link P2mSetResult#OK}, {@link P2mSetResult#RETRY_ORDER_4K} or {@link
   *     P2mSetResult#NO_MEMORY}; on anything but OK nothing changed
   * @throws HypervisorBugException for the seed's mmio_direct superpage assertion or a flag derivation's
   *     assertion; nothing changed
   * @throws IllegalArgumentException for a misaligned or out-of-range frame or a type the era lacks
   */
  public final int setEntry(long gfn, long mfn, PageOrder order, P2mType type) {
    return setEntry(gfn, mfn, order, type, null);
  }

  /**
   * {@link #setEntry(long, long, PageOrder, P2mType)} that also reports what it replaced, as Xen's
   * {@code ept_set_entry} keeps the old entry: on {@link P2mSetResult#OK}, {@code replaced} holds
   * exactly what {@link #getEntry}{@code (gfn, replaced)} gave just before (the leaf that mapped
   * {@code gfn}, a superpage this call split, or the not-present entry the walk stopped at), read
   * on the way down instead of by a walk of its own. Allocates nothing.
   *
   * @param gfn the first guest frame, aligned to the order
   * @param mfn the first frame, aligned to the order, at most {@link Pte#MAX_MFN}; or {@link
   *     P2mEntry#INVALID_MFN}
   * @param order the page size
   * @param type the type; must exist in the switches' era
   * @param replaced the cursor to fill, or null; untouched unless the result is OK
   * @return as {@link #setEntry(long, long, PageOrder, P2mType)}
   * @throws HypervisorBugException as {@link #setEntry(long, long, PageOrder, P2mType)}
   * @throws IllegalArgumentException as {@link #setEntry(long, long, PageOrder, P2mType)}
   */
  public final int setEntry(long gfn, long mfn, PageOrder order, P2mType type, P2mEntry replaced) {
    Objects.requireNonNull(order, "order");
    int code = typeCode(type);
    checkGfn(gfn, order);
    checkMfn(mfn, order);
    if (order.isSuperpage() && code == P2mType.MMIO_DIRECT.code(switches.era())) {
      switch (switches.superpageRoMmio()) {
        case ASSERT_NO_VALID_MFN -> {
          if (hasSeedMmioSuperpageAssert() && domain.mfnValid(mfn)) {
            throw new HypervisorBugException(
                "p2m_set_entry: ASSERT(!mfn_valid(mfn) || p2mt != p2m_mmio_direct) failed: gfn 0x"
                    + Long.toHexString(gfn) + ", mfn 0x" + Long.toHexString(mfn) + ", order "
                    + order.code);
          }
        }
        case REFUSE_RETRY_4K -> {
          if (mfn != P2mEntry.INVALID_MFN
              && mmioRoRanges.overlapsRange(mfn, mfn + order.pages() - 1)) {
            return P2mSetResult.RETRY_ORDER_4K;
          }
        }
      }
    }
    long leaf = leafEntry(code, mfn, order, domain.defaultAccess());
    int target = order.level();
    if (tablesNeeded(gfn, target) > freeTablePages()) {
      return P2mSetResult.NO_MEMORY;
    }
    int table = ROOT;
    boolean reported = replaced == null;
    for (int level = LEVELS; level > target; level--) {
      int slot = table * ENTRIES + index(gfn, level);
      long e = get(slot);
      if (!isPresent(e) || (level <= 3 && isSuperpage(e))) {
        if (!reported) {
          report(e, level, gfn, replaced); // getEntry would have stopped here
          reported = true;
        }
        table = isPresent(e) ? split(e, orderOfLevel(level)) : allocTable();
        set(slot, tableEntry(frameBase + table));
      } else {
        table = tableOf(e);
      }
    }
    int slot = table * ENTRIES + index(gfn, target);
    long old = get(slot);
    boolean oldIsTable = target > 1 && isPresent(old) && !isSuperpage(old);
    if (!reported) {
      if (oldIsTable) {
        lookupFrom(tableOf(old), target - 1, gfn, replaced); // the leaf below, before it is freed
      } else {
        report(old, target, gfn, replaced);
      }
    }
    if (oldIsTable) {
      freeSubtree(tableOf(old), target - 1);
    }
    set(slot, leaf);
    assert liveTables > FULL_CHECK_LIMIT || checkInvariants();
    return P2mSetResult.OK;
  }

  /**
   * Xen's {@code get_entry}: fills {@code out} with the mapping of guest frame {@code gfn}. Allocates
   * nothing.
   * Xen 4.22: {@code p2m_pt_get_entry} in {@code xen/arch/x86/mm/p2m-pt.c}, {@code
   * ept_get_entry} in {@code xen/arch/x86/mm/p2m-ept.c}.
   *
   * @param gfn a guest frame, below {@link #GFN_LIMIT}
   * @param out the cursor to fill
   * @return true if the frame has a valid mapping (then {@code out.mfn()} is its frame)
   * @throws IllegalArgumentException if {@code gfn} is out of range
   */
  public final boolean getEntry(long gfn, P2mEntry out) {
    checkGfn(gfn, PageOrder.ORDER_4K);
    return lookupFrom(ROOT, LEVELS, gfn, out);
  }

  /** {@link #getEntry}'s walk from table {@code table} at level {@code level} down. */
  private boolean lookupFrom(int table, int level, long gfn, P2mEntry out) {
    for (; ; level--) {
      long e = get(table * ENTRIES + index(gfn, level));
      if (level == 1 || !isPresent(e) || (level <= 3 && isSuperpage(e))) {
        return report(e, level, gfn, out);
      }
      table = tableOf(e);
    }
  }

  /**
   * Fills {@code out} with entry {@code e} of level {@code level}, where a walk for {@code gfn}
   * stops (a leaf, or a not-present entry).
   *
   * @return true if it is a valid mapping
   */
  private boolean report(long e, int level, long gfn, P2mEntry out) {
    boolean leaf = level == 1 || (level <= 3 && isPresent(e) && isSuperpage(e));
    PageOrder order = orderOfLevel(Math.min(level, 3));
    boolean valid = leaf && isValid(e);
    long mfn = valid ? frameOf(e) + (gfn & (order.pages() - 1)) : P2mEntry.INVALID_MFN;
    out.set(e, mfn, entryType(e), order);
    return valid;
  }

  /**
   * Xen's {@code p2m_change_type_global} / {@code ept_change_entry_type_global}: every present leaf of
   * type {@code ot} gets type {@code nt}, its permissions re-derived from the new type and its frame
   * (and so from mmio_ro_ranges as it is now). With {@code ot == nt == MMIO_DIRECT} under the seed's
   * switches this is the seed's revocation of write access after an MSI-X table is registered.
   * Xen 4.22: {@code p2m_change_entry_type_global} in {@code xen/arch/x86/mm/p2m.c}, then
   * {@code p2m_pt_change_entry_type_global} ({@code p2m-pt.c}) or {@code
   * ept_change_entry_type_global} ({@code p2m-ept.c}).
   *
   * <p>The types are checked first, per {@link P2mSwitches#globalRetype()}. Xen today marks entries for
   * lazy recalculation; hvmmu re-derives at once, which ends in the same permissions.
   *
   * @param ot the old type
   * @param nt the new type
   * @throws HypervisorBugException if the switches forbid the pair (Xen's {@code BUG_ON} / {@code
   *     ASSERT}); nothing changed
   * @throws IllegalArgumentException for a type the era lacks
   */
  public final void changeTypeGlobal(P2mType ot, P2mType nt) {
    int o = typeCode(ot);
    int n = typeCode(nt);
    P2mEra era = switches.era();
    switch (switches.globalRetype()) {
      case SEED_MMIO_DIRECT_SAME_ONLY -> {
        if (P2mTypes.isGrant(era, o) || P2mTypes.isGrant(era, n)) {
          throw new HypervisorBugException(
              "p2m_change_type_global: BUG_ON(p2m_is_grant(ot) || p2m_is_grant(nt)): ot " + ot
                  + ", nt " + nt);
        }
        if (o != n && (P2mTypes.isMmioDirect(era, o) || P2mTypes.isMmioDirect(era, n))) {
          throw new HypervisorBugException(
              "p2m_change_type_global: BUG_ON(ot != nt && (ot == p2m_mmio_direct || nt =="
                  + " p2m_mmio_direct)): ot " + ot + ", nt " + nt);
        }
      }
      case CHANGEABLE_ONLY -> {
        if (!P2mTypes.isChangeable(P2mEra.TODAY, ot.code)
            || !P2mTypes.isChangeable(P2mEra.TODAY, nt.code)) {
          throw new HypervisorBugException(
              "p2m_change_entry_type_global: ASSERT(p2m_is_changeable(ot) && p2m_is_changeable(nt)):"
                  + " ot " + ot + ", nt " + nt);
        }
      }
    }
    retypeTable(ROOT, LEVELS, o, n);
    assert liveTables > FULL_CHECK_LIMIT || checkInvariants();
  }

  /**
   * Re-derives every present leaf through {@link #recalcLeaf} and splits the superpages {@link
   * #recalcNeedsSplit} names, recursively. Subclasses expose it under Xen's name.
   *
   * @return {@link P2mSetResult#OK}, or {@link P2mSetResult#NO_MEMORY} with nothing changed
   */
  protected final int recalculateLeaves() {
    if (countSplits(ROOT, LEVELS) > freeTablePages()) {
      return P2mSetResult.NO_MEMORY;
    }
    recalcTable(ROOT, LEVELS);
    assert liveTables > FULL_CHECK_LIMIT || checkInvariants();
    return P2mSetResult.OK;
  }

  /**
   * Xen's {@code p2m_teardown}: frees every table but the root and empties the root, as when the domain
   * is destroyed (for example by {@code domain_crash}).
   * Xen 4.22: {@code xen/arch/x86/mm/p2m-basic.c}.
   */
  public final void teardown() {
    if (memory == null) {
      Arrays.fill(entries, 0L);
    } else {
      for (int t = 0; t < fresh; t++) {
        zeroTable(t);
      }
    }
    fresh = 0;
    freeTop = 0;
    liveTables = 0;
    allocTable();
  }

  /**
   * Calls {@code visitor} for every non-zero leaf entry, in guest-frame order.
   *
   * @param visitor the callback
   * @return the first non-zero result of the visitor, or 0
   */
  public final int forEachLeaf(P2mLeafVisitor visitor) {
    Objects.requireNonNull(visitor, "visitor");
    return visitTable(ROOT, LEVELS, 0L, visitor);
  }

  /**
   * Table pages in use, the root included.
   *
   * @return at least 1
   */
  public final int tablePages() {
    return liveTables;
  }

  /**
   * Table pages still available.
   *
   * @return {@link #maxTablePages()} minus {@link #tablePages()}
   */
  public final int freeTablePages() {
    return maxTablePages - liveTables;
  }

  /**
   * The most table pages this p2m may use.
   *
   * @return the capacity given at construction
   */
  public final int maxTablePages() {
    return maxTablePages;
  }

  /**
   * The switches this p2m follows.
   *
   * @return the switches
   */
  public final P2mSwitches switches() {
    return switches;
  }

  // ---- internals ----------------------------------------------------------------------------------

  private int tableOf(long entry) {
    return (int) (frameOf(entry) - frameBase);
  }

  private static int index(long gfn, int level) {
    return (int) (gfn >>> (9 * (level - 1))) & (ENTRIES - 1);
  }

  private static PageOrder orderOfLevel(int level) {
    return switch (level) {
      case 1 -> PageOrder.ORDER_4K;
      case 2 -> PageOrder.ORDER_2M;
      case 3 -> PageOrder.ORDER_1G;
      default -> throw new AssertionError("level " + level);
    };
  }

  private int typeCode(P2mType type) {
    Objects.requireNonNull(type, "type");
    int code = type.code(switches.era());
    if (code == P2mType.NONE) {
      throw new IllegalArgumentException(
          "p2m type " + type + " does not exist in " + switches.era());
    }
    return code;
  }

  private static void checkGfn(long gfn, PageOrder order) {
    if (gfn < 0 || gfn >= GFN_LIMIT || (gfn & (order.pages() - 1)) != 0) {
      throw new IllegalArgumentException(
          "gfn: 0x" + Long.toHexString(gfn) + " (expected: below 0x" + Long.toHexString(GFN_LIMIT)
              + ", aligned to order " + order.code + ")");
    }
  }

  private static void checkMfn(long mfn, PageOrder order) {
    if (mfn == P2mEntry.INVALID_MFN) {
      return;
    }
    if (mfn < 0 || mfn > Pte.MAX_MFN || (mfn & (order.pages() - 1)) != 0) {
      throw new IllegalArgumentException(
          "mfn: 0x" + Long.toHexString(mfn) + " (expected: at most 0x"
              + Long.toHexString(Pte.MAX_MFN) + ", aligned to order " + order.code
              + ", or INVALID_MFN)");
    }
  }

  private int tablesNeeded(long gfn, int target) {
    int table = ROOT;
    for (int level = LEVELS; level > target; level--) {
      long e = get(table * ENTRIES + index(gfn, level));
      if (!isPresent(e)) {
        return level - target;
      }
      if (level <= 3 && isSuperpage(e)) {
        validateSplits(e, level, gfn, target);
        return level - target;
      }
      table = tableOf(e);
    }
    return 0;
  }

  /** Derives every entry the splits on the path would write, so that an assertion fires first. */
  private void validateSplits(long superpage, int level, long gfn, int target) {
    long e = superpage;
    for (int lv = level; lv > target; lv--) {
      long next = 0;
      int slot = index(gfn, lv - 1);
      for (int i = 0; i < ENTRIES; i++) {
        long child = splitChild(e, orderOfLevel(lv), i);
        if (i == slot) {
          next = child;
        }
      }
      if (!isPresent(next) || !isSuperpage(next)) {
        return;
      }
      e = next;
    }
  }

  private int split(long superpage, PageOrder order) {
    int table = allocTable();
    int base = table * ENTRIES;
    for (int i = 0; i < ENTRIES; i++) {
      set(base + i, splitChild(superpage, order, i));
    }
    return table;
  }

  private void retypeTable(int table, int level, int ot, int nt) {
    int base = table * ENTRIES;
    for (int i = 0; i < ENTRIES; i++) {
      long e = get(base + i);
      if (!isPresent(e)) {
        continue;
      }
      if (level == 1 || (level <= 3 && isSuperpage(e))) {
        if (entryType(e) == ot) {
          set(base + i, rederive(e, nt, orderOfLevel(level)));
        }
      } else {
        retypeTable(tableOf(e), level - 1, ot, nt);
      }
    }
  }

  private int countSplits(int table, int level) {
    int base = table * ENTRIES;
    int count = 0;
    for (int i = 0; i < ENTRIES && level > 1; i++) {
      long e = get(base + i);
      if (!isPresent(e)) {
        continue;
      }
      if (level <= 3 && isSuperpage(e)) {
        count += splitCost(e, level);
      } else {
        count += countSplits(tableOf(e), level - 1);
      }
    }
    return count;
  }

  private int splitCost(long superpage, int level) {
    PageOrder order = orderOfLevel(level);
    if (!recalcNeedsSplit(superpage, order)) {
      return 0;
    }
    int count = 1;
    for (int i = 0; i < ENTRIES; i++) {
      long child = splitChild(superpage, order, i);
      if (level - 1 > 1 && isPresent(child)) {
        count += splitCost(child, level - 1);
      }
    }
    return count;
  }

  private void recalcTable(int table, int level) {
    int base = table * ENTRIES;
    for (int i = 0; i < ENTRIES; i++) {
      long e = get(base + i);
      if (!isPresent(e)) {
        continue;
      }
      if (level == 1 || (level <= 3 && isSuperpage(e))) {
        PageOrder order = orderOfLevel(level);
        if (level > 1 && recalcNeedsSplit(e, order)) {
          int child = split(e, order);
          set(base + i, tableEntry(frameBase + child));
          recalcTable(child, level - 1);
        } else {
          set(base + i, recalcLeaf(e, order));
        }
      } else {
        recalcTable(tableOf(e), level - 1);
      }
    }
  }

  private int visitTable(int table, int level, long gfnBase, P2mLeafVisitor visitor) {
    int base = table * ENTRIES;
    int shift = 9 * (level - 1);
    for (int i = 0; i < ENTRIES; i++) {
      long e = get(base + i);
      long gfn = gfnBase | ((long) i << shift);
      int rc;
      if (level == 1 || (level <= 3 && (!isPresent(e) || isSuperpage(e)))) {
        rc = e == 0 ? 0 : visitor.visit(gfn, orderOfLevel(level), e);
      } else if (!isPresent(e)) {
        rc = 0;
      } else {
        rc = visitTable(tableOf(e), level - 1, gfn, visitor);
      }
      if (rc != 0) {
        return rc;
      }
    }
    return 0;
  }

  private int allocTable() {
    int table;
    if (freeTop > 0) {
      table = freeStack[--freeTop];
      zeroTable(table);
    } else {
      if (fresh >= maxTablePages) {
        throw new AssertionError("table pool exhausted after the capacity check");
      }
      table = fresh++;
      if (memory == null && (long) fresh * ENTRIES > entries.length) {
        int pages = (int) Math.min((long) maxTablePages, 2L * (entries.length / ENTRIES));
        entries = Arrays.copyOf(entries, pages * ENTRIES);
      }
    }
    liveTables++;
    return table;
  }

  private void freeSubtree(int table, int level) {
    if (level > 1) {
      int base = table * ENTRIES;
      for (int i = 0; i < ENTRIES; i++) {
        long e = get(base + i);
        if (isPresent(e) && !(level <= 3 && isSuperpage(e))) {
          freeSubtree(tableOf(e), level - 1);
        }
      }
    }
    if (freeTop == freeStack.length) {
      freeStack = Arrays.copyOf(freeStack, freeTop * 2);
    }
    freeStack[freeTop++] = table;
    liveTables--;
  }

  /**
   * Checks the pool: every table reachable from the root exactly once, no free table reachable, the
   * live count equal to the reachable count.
   *
   * @return true (a broken invariant throws {@link AssertionError})
   */
  boolean checkInvariants() {
    boolean[] seen = new boolean[fresh];
    int reachable = markTables(ROOT, LEVELS, seen);
    for (int i = 0; i < freeTop; i++) {
      if (seen[freeStack[i]]) {
        throw new AssertionError("free table " + freeStack[i] + " is reachable");
      }
    }
    if (reachable != liveTables || liveTables + freeTop != fresh || liveTables > maxTablePages) {
      throw new AssertionError(
          "tables: reachable " + reachable + ", live " + liveTables + ", free " + freeTop
              + ", fresh " + fresh + ", max " + maxTablePages);
    }
    return true;
  }

  private int markTables(int table, int level, boolean[] seen) {
    if (table < 0 || table >= seen.length || seen[table]) {
      throw new AssertionError("table " + table + " referenced twice or never allocated");
    }
    seen[table] = true;
    int count = 1;
    if (level > 1) {
      int base = table * ENTRIES;
      for (int i = 0; i < ENTRIES; i++) {
        long e = get(base + i);
        if (isPresent(e) && !(level <= 3 && isSuperpage(e))) {
          count += markTables(tableOf(e), level - 1, seen);
        }
      }
    }
    return count;
  }
}
