package org.hvmmu.p2m.ept;

import org.hvmmu.p2m.P2mEra;
import org.hvmmu.p2m.P2mType;

/**
 * The layout of an Intel EPT paging-structure entry as Xen uses it ({@code ept_entry_t} in {@code
 * asm/hvm/vmx/vmx.h}; hardware fields per SDM vol. 3C, tables 29-1 to 29-6), with a static codec over
 * {@code long} entries. Nothing here allocates.
 *
 * <pre>
 *  today:  63  62..59  58   57..52   51..12  11  10   9  8  7   6    5..3  2 1 0
 *          sve access  pw  sa_p2mt    mfn   snp rcl   D  A  SP ipat  emt   X W R
 *  seed:   63 ........ 52 (avail2)    mfn    11..8 avail1 = type   SP igmt emt X W R
 * </pre>
 *
 * <p>Hardware fields (R, W, X, memory type, ignore-PAT, superpage, A, D, frame) sit at the same bits in
 * both eras. Xen's software fields moved: the seed keeps the p2m type in {@code avail1}, bits 11:8
 * ({@link #SEED_TYPE_SHIFT}); today it sits in {@code sa_p2mt}, bits 57:52, with the access type in
 * bits 62:59, paging-write (bit 58), and suppress-#VE (bit 63).
 */
public final class EptEntry {
  /** Read permission, bit 0. */
  public static final long R = 1L;

  /** Write permission, bit 1. */
  public static final long W = 1L << 1;

  /** Execute permission, bit 2. */
  public static final long X = 1L << 2;

  /** The three permission bits, 2:0; an entry is present if any is set. */
  public static final long RWX_MASK = 0x7L;

  /** Shift of the memory type field (bits 5:3). */
  public static final int EMT_SHIFT = 3;

  /** Memory type field, bits 5:3 (0 UC, 1 WC, 4 WT, 5 WP, 6 WB). */
  public static final long EMT_MASK = 0x38L;

  /**
   * The memory type value Xen writes to force an EPT misconfiguration exit ({@code MTRR_NUM_TYPES}, 7,
   * reserved by the SDM), so that the entry is recalculated, or split, on first use.
   */
  public static final int EMT_INVALID = 7;

  /** Ignore-PAT, bit 6 (the seed's {@code igmt}). */
  public static final long IPAT = 1L << 6;

  /** Superpage, bit 7 (the seed's {@code sp_avail}). */
  public static final long SP = 1L << 7;

  /** Accessed, bit 8 (today; the seed's {@code avail1} bit 0). */
  public static final long A = 1L << 8;

  /** Dirty, bit 9 (today; the seed's {@code avail1} bit 1). */
  public static final long D = 1L << 9;

  /** Xen's recalculation flag, bit 10 (software). */
  public static final long RECALC = 1L << 10;

  /** VT-d snoop control, bit 11. */
  public static final long SNP = 1L << 11;

  /** Shift of the frame number field (bits 51:12). */
  public static final int MFN_SHIFT = 12;

  /** Frame number field, bits 51:12. */
  public static final long MFN_MASK = 0x000F_FFFF_FFFF_F000L;

  /** Today: shift of the p2m type field {@code sa_p2mt} (bits 57:52). */
  public static final int TYPE_SHIFT = 52;

  /** Today: p2m type field {@code sa_p2mt}, bits 57:52. */
  public static final long TYPE_MASK = 0x03F0_0000_0000_0000L;

  /** Seed: shift of the p2m type field {@code avail1} (bits 11:8). */
  public static final int SEED_TYPE_SHIFT = 8;

  /** Seed: p2m type field {@code avail1}, bits 11:8. */
  public static final long SEED_TYPE_MASK = 0xF00L;

  /** Today: paging-write access, bit 58. */
  public static final long PW = 1L << 58;

  /** Today: shift of the access type field (bits 62:59). */
  public static final int ACCESS_SHIFT = 59;

  /** Today: access type field ({@code p2m_access_t}), bits 62:59. */
  public static final long ACCESS_MASK = 0x7800_0000_0000_0000L;

  /** Today: suppress #VE, bit 63. */
  public static final long SUPPRESS_VE = 1L << 63;

  private EptEntry() {}

  /**
   * Whether any of R, W, X is set (Xen's {@code is_epte_present}).
   *
   * @param entry an entry
   * @return true if present
   */
  public static boolean isPresent(long entry) {
    return (entry & RWX_MASK) != 0;
  }

  /**
   * Whether bit 7 is set (Xen's {@code is_epte_superpage}).
   *
   * @param entry an entry
   * @return true for a superpage
   */
  public static boolean isSuperpage(long entry) {
    return (entry & SP) != 0;
  }

  /**
   * Whether the write permission is set.
   *
   * @param entry an entry
   * @return true if W
   */
  public static boolean isWritable(long entry) {
    return (entry & W) != 0;
  }

  /**
   * The memory type field.
   *
   * @param entry an entry
   * @return 0 to 7
   */
  public static int emt(long entry) {
    return (int) ((entry & EMT_MASK) >>> EMT_SHIFT);
  }

  /**
   * The entry with its memory type field replaced.
   *
   * @param entry an entry
   * @param emt 0 to 7
   * @return the new entry
   */
  public static long withEmt(long entry, int emt) {
    return (entry & ~EMT_MASK) | (((long) emt << EMT_SHIFT) & EMT_MASK);
  }

  /**
   * The frame number field.
   *
   * @param entry an entry
   * @return the frame
   */
  public static long mfn(long entry) {
    return (entry & MFN_MASK) >>> MFN_SHIFT;
  }

  /**
   * The entry with its frame number replaced; only the low 40 bits of {@code mfn} are kept, as Xen's
   * 40-bit bit-field keeps them.
   *
   * @param entry an entry
   * @param mfn a frame number
   * @return the new entry
   */
  public static long withMfn(long entry, long mfn) {
    return (entry & ~MFN_MASK) | ((mfn << MFN_SHIFT) & MFN_MASK);
  }

  /**
   * The p2m type code the entry holds, in the era's numbering and field.
   *
   * @param era the layout
   * @param entry an entry
   * @return the type code (today 0 to 63, seed 0 to 15)
   */
  public static int type(P2mEra era, long entry) {
    return era == P2mEra.SEED_2010
        ? (int) ((entry & SEED_TYPE_MASK) >>> SEED_TYPE_SHIFT)
        : (int) ((entry & TYPE_MASK) >>> TYPE_SHIFT);
  }

  /**
   * The entry with its type field replaced.
   *
   * @param era the layout
   * @param entry an entry
   * @param code a type code of that era
   * @return the new entry
   */
  public static long withType(P2mEra era, long entry, int code) {
    return era == P2mEra.SEED_2010
        ? (entry & ~SEED_TYPE_MASK) | (((long) code << SEED_TYPE_SHIFT) & SEED_TYPE_MASK)
        : (entry & ~TYPE_MASK) | (((long) code << TYPE_SHIFT) & TYPE_MASK);
  }

  /**
   * Today's access type field.
   *
   * @param entry an entry
   * @return 0 to 15
   */
  public static int access(long entry) {
    return (int) ((entry & ACCESS_MASK) >>> ACCESS_SHIFT);
  }

  /**
   * The entry with today's access type field replaced.
   *
   * @param entry an entry
   * @param access 0 to 15
   * @return the new entry
   */
  public static long withAccess(long entry, int access) {
    return (entry & ~ACCESS_MASK) | (((long) access << ACCESS_SHIFT) & ACCESS_MASK);
  }

  /**
   * Whether the entry holds a mapping: today Xen's {@code is_epte_valid} (not zero apart from
   * suppress-#VE, and not of the invalid type); in the seed, a type other than invalid.
   *
   * @param era the layout
   * @param entry an entry
   * @return true if valid
   */
  public static boolean isValid(P2mEra era, long entry) {
    int invalid = P2mType.INVALID.code(era);
    if (era == P2mEra.SEED_2010) {
      return type(era, entry) != invalid;
    }
    return (entry & ~SUPPRESS_VE) != 0 && type(era, entry) != invalid;
  }

  /**
   * The entry as 16 lower-case hex digits.
   *
   * @param entry an entry
   * @return e.g. {@code "d0000000fee00837"}
   */
  public static String toHex(long entry) {
    String hex = Long.toHexString(entry);
    return "0000000000000000".substring(hex.length()) + hex;
  }
}
