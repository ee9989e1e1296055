package org.hvmmu.x86.pv;

/**
 * The mutually exclusive PV page types, with Xen's codes (the value of type_info bits 63:61, {@code
 * PGT_*} in {@code asm-x86/mm.h}). A frame's type decides what may map it: a frame in use as a page
 * table (L1 to L4) or a descriptor table cannot also be mapped writable, and the reverse.
 * Xen 4.22: {@code xen/arch/x86/include/asm/mm.h}.
 */
public enum PageType {
  /** No special use ({@code PGT_none}). */
  NONE(0),
  /** An L1 page table ({@code PGT_l1_page_table}). */
  L1_PAGE_TABLE(1),
  /** An L2 page table. */
  L2_PAGE_TABLE(2),
  /** An L3 page table. */
  L3_PAGE_TABLE(3),
  /** An L4 page table. */
  L4_PAGE_TABLE(4),
  /** A GDT or LDT page ({@code PGT_seg_desc_page}). */
  SEG_DESC_PAGE(5),
  /** A copy-on-write shared page ({@code PGT_shared_page}). */
  SHARED_PAGE(6),
  /** A page with writable mappings ({@code PGT_writable_page}). */
  WRITABLE_PAGE(7);

  private static final PageType[] BY_CODE = new PageType[8];

  static {
    for (PageType type : values()) {
      BY_CODE[type.code] = type;
    }
  }

  /** Xen's code: the value of type_info bits 63:61. */
  public final int code;

  PageType(int code) {
    this.code = code;
  }

  /**
   * The type with code {@code code}.
   *
   * @param code 0 to 7
   * @return the type
   * @throws IllegalArgumentException if {@code code} is outside 0 to 7
   */
  public static PageType fromCode(int code) {
    if ((code & ~7) != 0) {
      throw new IllegalArgumentException("page type code: " + code + " (expected: 0 to 7)");
    }
    return BY_CODE[code];
  }

  /**
   * This type as it sits in a type_info word (the code shifted to bits 63:61).
   *
   * @return the type_info bits
   */
  public long typeInfoBits() {
    return (long) code << PageInfo.PGT_TYPE_SHIFT;
  }

  /**
   * Whether a frame of this type must be validated entry by entry before use: the page tables and
   * descriptor pages (Xen's {@code (type & PGT_type_mask) <= PGT_l4_page_table} plus seg-desc).
   *
   * @return true for L1 to L4 and seg-desc pages
   */
  public boolean needsValidation() {
    return this != NONE && this != SHARED_PAGE && this != WRITABLE_PAGE;
  }

  /**
   * Whether this is a page-table type, L1 to L4 (Xen's {@code (type & PGT_type_mask) <=
   * PGT_l4_page_table} for a non-zero type).
   *
   * @return true for L1 to L4
   */
  public boolean isPageTable() {
    return code >= 1 && code <= 4;
  }

  /**
   * The paging level of a page-table type.
   *
   * @return 1 to 4 for L1 to L4
   * @throws IllegalStateException for a type that is not a page table
   */
  public int level() {
    if (!isPageTable()) {
      throw new IllegalStateException(this + " is not a page-table type");
    }
    return code;
  }

  /**
   * The page-table type of {@code level}.
   *
   * @param level 1 to 4
   * @return L1 to L4
   * @throws IllegalArgumentException if {@code level} is outside 1 to 4
   */
  public static PageType ofLevel(int level) {
    if (level < 1 || level > 4) {
      throw new IllegalArgumentException("level: " + level + " (expected: 1 to 4)");
    }
    return BY_CODE[level];
  }
}
