package org.hvmmu.x86.pv;

/**
 * Bit layout of the two 64-bit words Xen keeps per frame in {@code struct page_info}: {@code
 * count_info} (general reference count and flags) and {@code type_info} (page type, its use count and
 * flags), as x86-64 Xen 4.0/4.1 defines them in {@code asm-x86/mm.h} ({@code PG_shift(idx)} is bit
 * {@code 64 - idx}).
 * Xen 4.22: {@code xen/arch/x86/include/asm/mm.h}.
 *
 * <pre>
 *  type_info:   63..61  60      59         58          57       56      55..0
 *               type    pinned  validated  pae_xen_l2  partial  locked  type count
 *
 *  count_info:  63         62        61          60..58     57      56..55  54..0
 *               allocated  xen_heap  page_table  cacheattr  broken  state   reference count
 * </pre>
 */
public final class PageInfo {
  /** Mask of the page type, type_info bits 63:61 ({@code PGT_type_mask}). */
  public static final long PGT_TYPE_MASK = 7L << 61;

  /** Shift of the page type field. */
  public static final int PGT_TYPE_SHIFT = 61;

  /** The owner has pinned the page to its current type, bit 60. */
  public static final long PGT_PINNED = 1L << 60;

  /** The page has been validated for its current type, bit 59. */
  public static final long PGT_VALIDATED = 1L << 59;

  /** PAE only: an L2 with Xen-private mappings, bit 58. */
  public static final long PGT_PAE_XEN_L2 = 1L << 58;

  /** The page is partially validated (preempted validation), bit 57. */
  public static final long PGT_PARTIAL = 1L << 57;

  /** The page is locked by {@code page_lock}, bit 56. */
  public static final long PGT_LOCKED = 1L << 56;

  /** Mask of the type use count, bits 55:0 ({@code PGT_count_mask}). */
  public static final long PGT_COUNT_MASK = (1L << 56) - 1;

  /** The owner has not freed the page, count_info bit 63 ({@code PGC_allocated}). */
  public static final long PGC_ALLOCATED = 1L << 63;

  /** The page is a Xen heap page, bit 62. */
  public static final long PGC_XEN_HEAP = 1L << 62;

  /** The page is in use as a page table (shadow code), bit 61. */
  public static final long PGC_PAGE_TABLE = 1L << 61;

  /** Shift of the 3-bit cache-attribute hint (the PAT index of the frame's mappings). */
  public static final int PGC_CACHEATTR_BASE = 58;

  /** Mask of the cache-attribute hint, bits 60:58. */
  public static final long PGC_CACHEATTR_MASK = 7L << PGC_CACHEATTR_BASE;

  /** The page is broken, bit 57. */
  public static final long PGC_BROKEN = 1L << 57;

  /** Mask of the page state, bits 56:55. */
  public static final long PGC_STATE = 3L << 55;

  /** Mask of the general reference count, bits 54:0 ({@code PGC_count_mask}). */
  public static final long PGC_COUNT_MASK = (1L << 55) - 1;

  private PageInfo() {}

  /**
   * The page type of a {@code type_info} word.
   *
   * @param typeInfo a type_info word
   * @return its type
   */
  public static PageType type(long typeInfo) {
    return PageType.fromCode((int) (typeInfo >>> PGT_TYPE_SHIFT));
  }

  /**
   * The type use count of a {@code type_info} word.
   *
   * @param typeInfo a type_info word
   * @return the count
   */
  public static long typeCount(long typeInfo) {
    return typeInfo & PGT_COUNT_MASK;
  }

  /**
   * The general reference count of a {@code count_info} word.
   *
   * @param countInfo a count_info word
   * @return the count
   */
  public static long count(long countInfo) {
    return countInfo & PGC_COUNT_MASK;
  }

  /**
   * The cache-attribute hint (a PAT index, 0 to 7) of a {@code count_info} word.
   *
   * @param countInfo a count_info word
   * @return the hint
   */
  public static int cacheAttr(long countInfo) {
    return (int) ((countInfo & PGC_CACHEATTR_MASK) >>> PGC_CACHEATTR_BASE);
  }
}
