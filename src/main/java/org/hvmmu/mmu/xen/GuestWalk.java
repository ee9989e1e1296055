package org.hvmmu.mmu.xen;

/**
 * The record of one walk, Xen's {@code walk_t} ({@code struct guest_pagetable_walk}), reused from walk
 * to walk so that walking allocates nothing: the address, each level's entry as the walk saw it
 * (with the accessed and dirty bits it set), the machine frame and address each entry was read from,
 * the L1 entry fabricated for a superpage, the leaf level, and the result in the walk's convention
 * ({@link #pfec()} today, {@link #missingFlags()} in the seed's).
 * Xen 4.22: {@code xen/arch/x86/include/asm/guest_pt.h}.
 *
 * <pre>{@code
 * GuestWalk gw = new GuestWalk();
 * if (walker.guestWalkTables(regs, va, gw, Pfec.WRITE_ACCESS, topGfn, topMfn, 0)) {
 *   long gpa = gw.gpa();                  // guest_walk_to_gpa
 * } else {
 *   int errorCode = gw.pfec() & Pfec.ARCH_MASK;
 * }
 * }</pre>
 *
 * <p>Levels are numbered as Xen numbers them: 1 (L1, page table) to 4 (L4); a 2-level guest uses 2
 * and 1, a PAE guest 3 (the PDPTE) to 1. Entries of 2-level guests are 32-bit values, zero-extended,
 * except a fabricated 4-MByte L1 entry, which is 64 bits wide under PSE-36 (Xen's {@code el1e}).
 * Levels the walk did not reach read as 0 with {@link #INVALID_MFN} (Xen's {@code memset} leaves 0).
 *
 * <p>Not thread-safe: one walk record per thread.
 */
public final class GuestWalk {
  /** Xen's {@code INVALID_MFN}: no frame (a fabricated entry, or a level not reached). */
  public static final long INVALID_MFN = -1L;

  /** Xen's {@code INVALID_GFN} ({@code ~0UL}): no translation. */
  public static final long INVALID_GFN = -1L;

  /** Xen's {@code INVALID_PADDR} ({@code ~0UL}): no translation. */
  public static final long INVALID_PADDR = -1L;

  long va;
  int levels;
  final long[] entry = new long[5];
  final long[] mfn = new long[5];
  final long[] entryAddress = new long[5];
  int leafLevel;
  int pfec;
  int missingFlags;
  int accessedDirtyWrites;

  /** An empty record (no walk yet). */
  public GuestWalk() {
    reset(0, 0);
  }

  /** Xen's {@code memset(gw, 0, sizeof(*gw)); gw->va = va}, with frames invalid rather than 0. */
  void reset(long address, int levelCount) {
    va = address;
    levels = levelCount;
    for (int l = 0; l < entry.length; l++) {
      entry[l] = 0;
      mfn[l] = INVALID_MFN;
      entryAddress[l] = -1;
    }
    leafLevel = 0;
    pfec = 0;
    missingFlags = 0;
    accessedDirtyWrites = 0;
  }

  /**
   * The address walked ({@code gw->va}).
   *
   * @return the linear address
   */
  public long va() {
    return va;
  }

  /**
   * The guest paging levels of the walk (Xen's {@code GUEST_PAGING_LEVELS} instance).
   *
   * @return 2, 3 or 4; 0 before any walk
   */
  public int levels() {
    return levels;
  }

  /**
   * The entry of {@code level} as the walk saw it: the guest's value with the accessed and dirty bits
   * the walk set ORed in, even where the write-back lost a race; for level 1 under a superpage, the
   * fabricated entry.
   *
   * @param level 1 to 4
   * @return the entry, 0 if the walk did not reach the level
   * @throws IndexOutOfBoundsException if {@code level} is not 1 to 4
   */
  public long entry(int level) {
    checkLevel(level);
    return entry[level];
  }

  /**
   * {@code gw->l1e}: the L1 entry, or the fabricated one of a superpage ({@code el1e} for a 2-level
   * guest).
   *
   * @return the entry
   */
  public long l1e() {
    return entry[1];
  }

  /**
   * {@code gw->l2e}.
   *
   * @return the entry
   */
  public long l2e() {
    return entry[2];
  }

  /**
   * {@code gw->l3e} (PAE: the PDPTE).
   *
   * @return the entry
   */
  public long l3e() {
    return entry[3];
  }

  /**
   * {@code gw->l4e}.
   *
   * @return the entry
   */
  public long l4e() {
    return entry[4];
  }

  /**
   * {@code gw->l<level>mfn}: the machine frame holding the entry of {@code level} (for a PAE guest's
   * level 3, the PDPT's frame, which Xen's {@code walk_t} does not record).
   *
   * @param level 1 to 4
   * @return the frame, or {@link #INVALID_MFN} for a fabricated entry or a level not reached
   * @throws IndexOutOfBoundsException if {@code level} is not 1 to 4
   */
  public long mfn(int level) {
    checkLevel(level);
    return mfn[level];
  }

  /**
   * The machine address the entry of {@code level} was read from (and its accessed and dirty bits
   * written to).
   *
   * @param level 1 to 4
   * @return the address, or -1 for a fabricated entry or a level not reached
   * @throws IndexOutOfBoundsException if {@code level} is not 1 to 4
   */
  public long entryAddress(int level) {
    checkLevel(level);
    return entryAddress[level];
  }

  /**
   * The level of the leaf: 1 for a 4-KByte page, 2 for a 2- or 4-MByte page, 3 for a 1-GByte page; 0
   * if the walk found no translation (a not-present entry, a reserved bit, a table it could not map).
   * A walk that fails on rights has a leaf.
   *
   * @return 0 to 3
   */
  public int leafLevel() {
    return leafLevel;
  }

  /**
   * {@code gw->pfec}, today's convention: the error code the walk accumulated (P once a translation
   * exists, RSVD, PK, the request's W, U and, with NX or SMEP, I, and the synthetic {@link
   * Pfec#PAGE_PAGED} and {@link Pfec#PAGE_SHARED}). 0 under the seed's convention.
   *
   * @return the error code
   */
  public int pfec() {
    return pfec;
  }

  /**
   * The seed's return value: the flags the walk found missing ({@link MissingFlags}), 0 when it
   * succeeded. 0 under today's convention.
   *
   * @return the missing flags
   */
  public int missingFlags() {
    return missingFlags;
  }

  /**
   * Whether the walk wrote accessed or dirty bits back to the entry of {@code level}: false when the
   * bits were already set, when the compare-and-set found the entry changed (the update is dropped),
   * or when the walk did not succeed. Xen marks the table's frame dirty for log-dirty then.
   *
   * @param level 1 to 4
   * @return whether the entry was written
   * @throws IndexOutOfBoundsException if {@code level} is not 1 to 4
   */
  public boolean accessedDirtyWritten(int level) {
    checkLevel(level);
    return (accessedDirtyWrites & (1 << level)) != 0;
  }

  /**
   * Xen's {@code guest_walk_to_gfn}: the guest frame the address translates to, from the (possibly
   * fabricated) L1 entry.
   *
   * @return the gfn, or {@link #INVALID_GFN} if the L1 entry is not present
   */
  public long gfn() {
    long l1 = entry[1];
    if ((l1 & 1) == 0) {
      return INVALID_GFN;
    }
    if (levels == 2) {
      return l1 >>> 12;
    }
    return (l1 & GuestWalker.ADDRESS_MASK) >>> 12;
  }

  /**
   * Xen's {@code guest_walk_to_gpa}: the guest-physical address of {@link #va()}.
   *
   * @return the address, or {@link #INVALID_PADDR} if the L1 entry is not present
   */
  public long gpa() {
    long gfn = gfn();
    if (gfn == INVALID_GFN) {
      return INVALID_PADDR;
    }
    return (gfn << 12) | (va & 0xFFF);
  }

  /**
   * Xen's {@code guest_walk_to_page_order}, for a walk that found a translation: log2 of the page
   * size in 4-KByte pages.
   *
   * @return 0, 9 (2 MiB), 10 (a 2-level guest's 4 MiB) or 18 (1 GiB)
   * @throws IllegalStateException if the walk found no translation
   */
  public int pageOrder() {
    switch (leafLevel) {
      case 1:
        return 0;
      case 2:
        return levels == 2 ? 10 : 9;
      case 3:
        return 18;
      default:
        throw new IllegalStateException("no translation (leaf level 0) for va 0x"
            + Long.toHexString(va) + " (expected: a walk that found a leaf)");
    }
  }

  private static void checkLevel(int level) {
    if (level < 1 || level > 4) {
      throw new IndexOutOfBoundsException("level: " + level + " (expected: 1 to 4)");
    }
  }

  /**
   * The walk in Xen's {@code print_gw} manner: address, entries with their frames, the result.
   * Allocates.
   *
   * @return the description
   */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("GuestWalk[va=0x").append(Long.toHexString(va));
    b.append(", levels=").append(levels);
    for (int l = Math.max(levels, 1); l >= 1; l--) {
      b.append(", l").append(l).append("e=0x").append(Long.toHexString(entry[l]));
      if (mfn[l] != INVALID_MFN) {
        b.append(" (mfn 0x").append(Long.toHexString(mfn[l])).append(')');
      }
    }
    b.append(", leaf=").append(leafLevel);
    b.append(", pfec=").append(Pfec.describe(pfec));
    b.append(", missing=").append(MissingFlags.describe(missingFlags));
    return b.append(']').toString();
  }
}
