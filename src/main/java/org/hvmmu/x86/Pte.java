package org.hvmmu.x86;

/**
 * Static codec of x86-64 page-table entries held as a {@code long}: the frame number in bits 51:12
 * and the flags in bits 11:0 and 63:52, as Xen's {@code l1e_*} macros read and build them.
 * Xen 4.22: {@code xen/arch/x86/include/asm/page.h} and {@code
 * xen/arch/x86/include/asm/x86_64/page.h}.
 *
 * <p>No object is made per entry: every method takes and returns primitives, so it is free on the
 * hot path. Flags are in Xen's 24-bit packed form ({@link PteFlags}).
 *
 * <pre>{@code
 * long pte = Pte.fromMfn(0xfee00, PAGE_PRESENT | PAGE_RW | PAGE_PCD);   // 0x00000000fee00013
 * Pte.getMfn(pte);                                                       // 0xfee00
 * Pte.removeFlags(pte, PAGE_RW);                                         // 0x00000000fee00011
 * }</pre>
 */
public final class Pte {
  /** log2 of the 4-KByte page size. */
  public static final int PAGE_SHIFT = 12;

  /** Number of physical address bits Xen supports on x86-64 ({@code PADDR_BITS}). */
  public static final int PADDR_BITS = 52;

  /** Mask of a physical address, bits 51:0 ({@code PADDR_MASK}). */
  public static final long PADDR_MASK = (1L << PADDR_BITS) - 1;

  /** Mask of the frame-number field of an entry, bits 51:12. */
  public static final long MFN_FIELD_MASK = PADDR_MASK & ~0xFFFL;

  /** Largest frame number an entry can hold, 2^40 - 1. */
  public static final long MAX_MFN = PADDR_MASK >>> PAGE_SHIFT;

  /**
   * The frame number Xen treats as "invalid MFN" when it meets it in an entry: all 40 frame bits set
   * ({@code PADDR_MASK >> PAGE_SHIFT}, 0xffffffffff). The PV validator does not log failed mappings
   * of it.
   */
  public static final long INVALID_MFN_PATTERN = MAX_MFN;

  /** Entries per 4-KByte table at every level ({@code L1_PAGETABLE_ENTRIES}). */
  public static final int ENTRIES_PER_TABLE = 512;

  /** Mask of the 64-bit entry bits that hold flags: 63:52 and 11:0. */
  public static final long FLAG_BITS = ~MFN_FIELD_MASK;

  private Pte() {}

  /**
   * Xen's {@code get_pte_flags}: packs PTE bits 63:52 into flag bits 23:12 and keeps bits 11:0.
   *
   * @param pte a page-table entry
   * @return its 24-bit packed flags
   */
  public static int getFlags(long pte) {
    return (int) (((pte >>> 40) & ~0xFFFL) | (pte & 0xFFFL));
  }

  /**
   * Xen's {@code put_pte_flags}: the inverse of {@link #getFlags(long)}; bits above 23 of {@code
   * flags} are ignored, as in Xen, where the 24-bit value cannot hold them.
   *
   * @param flags packed flags
   * @return the entry bits those flags occupy
   */
  public static long putFlags(int flags) {
    long x = flags & 0xFF_FFFFL;
    return ((x & ~0xFFFL) << 40) | (x & 0xFFFL);
  }

  /**
   * Xen's {@code l1e_get_pfn}: the frame number in bits 51:12.
   *
   * @param pte a page-table entry
   * @return its frame number, 0 to {@link #MAX_MFN}
   */
  public static long getMfn(long pte) {
    return (pte & MFN_FIELD_MASK) >>> PAGE_SHIFT;
  }

  /**
   * Xen's {@code l1e_from_pfn}: an entry mapping frame {@code mfn} with {@code flags}.
   *
   * @param mfn a frame number, 0 to {@link #MAX_MFN}
   * @param flags packed flags
   * @return the entry
   * @throws IllegalArgumentException if {@code mfn} does not fit in 40 bits
   */
  public static long fromMfn(long mfn, int flags) {
    if ((mfn & ~MAX_MFN) != 0) {
      throw new IllegalArgumentException(
          "mfn: 0x" + Long.toHexString(mfn) + " (expected: at most 0x" + Long.toHexString(MAX_MFN)
              + ")");
    }
    return (mfn << PAGE_SHIFT) | putFlags(flags);
  }

  /**
   * Xen's {@code l1e_add_flags}.
   *
   * @param pte an entry
   * @param flags packed flags to set
   * @return the entry with those flags set
   */
  public static long addFlags(long pte, int flags) {
    return pte | putFlags(flags);
  }

  /**
   * Xen's {@code l1e_remove_flags}.
   *
   * @param pte an entry
   * @param flags packed flags to clear
   * @return the entry with those flags clear
   */
  public static long removeFlags(long pte, int flags) {
    return pte & ~putFlags(flags);
  }

  /**
   * Xen's {@code l1e_flip_flags}: toggles {@code flags}, as callers apply the flip mask that
   * upstream's {@code get_page_from_l1e} returns.
   *
   * @param pte an entry
   * @param flags packed flags to toggle
   * @return the entry with those flags toggled
   */
  public static long flipFlags(long pte, int flags) {
    return pte ^ putFlags(flags);
  }

  /**
   * Xen's {@code l1e_has_changed}: whether two entries differ in their frame number or in any of
   * {@code flags}.
   *
   * @param a an entry
   * @param b another entry
   * @param flags packed flags to compare
   * @return true if the frame or any of those flags differ
   */
  public static boolean hasChanged(long a, long b, int flags) {
    return ((a ^ b) & (MFN_FIELD_MASK | putFlags(flags))) != 0;
  }

  /**
   * Whether {@code flags} include {@link PteFlags#PAGE_PRESENT}.
   *
   * @param pte an entry
   * @return true if the entry is present
   */
  public static boolean isPresent(long pte) {
    return (pte & PteFlags.PAGE_PRESENT) != 0;
  }

  /**
   * Whether the entry is present and writable.
   *
   * @param pte an entry
   * @return true if P and R/W are both set
   */
  public static boolean isPresentWritable(long pte) {
    return (pte & (PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW))
        == (PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW);
  }

  /**
   * The entry as Xen prints it ({@code PRIpte}, 16 lower-case hex digits).
   *
   * @param pte an entry
   * @return e.g. {@code "00000000fee00013"}
   */
  public static String toHex(long pte) {
    String hex = Long.toHexString(pte);
    return "0000000000000000".substring(hex.length()) + hex;
  }
}
