package org.hvmmu.x86;

/**
 * The page sizes an x86-64 page table (and Intel's EPT) can map with one leaf entry, as Xen's page
 * orders: log2 of the number of 4-KByte frames ({@code PAGE_ORDER_4K}, {@code PAGE_ORDER_2M}, {@code
 * PAGE_ORDER_1G}).
 *
 * <p>A leaf of order {@code o} sits in the table of {@link #level()} {@code o / 9 + 1}: 4-KByte pages
 * in L1 tables, 2-MByte superpages in L2 (PS set), 1-GByte superpages in L3 (SDM vol. 3A, 4.5).
 */
public enum PageOrder {
  /** A 4-KByte page: order 0, an L1 entry. */
  ORDER_4K(0),
  /** A 2-MByte superpage: order 9, an L2 entry with PS. */
  ORDER_2M(9),
  /** A 1-GByte superpage: order 18, an L3 entry with PS. */
  ORDER_1G(18);

  private static final PageOrder[] BY_CODE = new PageOrder[19];

  static {
    for (PageOrder order : values()) {
      BY_CODE[order.code] = order;
    }
  }

  /** The order: log2 of the number of 4-KByte frames the leaf maps (0, 9 or 18). */
  public final int code;

  PageOrder(int code) {
    this.code = code;
  }

  /**
   * The order with value {@code code}.
   *
   * @param code 0, 9 or 18
   * @return the order
   * @throws IllegalArgumentException for any other value
   */
  public static PageOrder fromCode(int code) {
    PageOrder order = code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    if (order == null) {
      throw new IllegalArgumentException("page order: " + code + " (expected: 0, 9 or 18)");
    }
    return order;
  }

  /**
   * The number of 4-KByte frames one leaf of this order maps.
   *
   * @return 1, 512 or 262144
   */
  public long pages() {
    return 1L << code;
  }

  /**
   * The page-table level that holds a leaf of this order, 1 for L1.
   *
   * @return 1, 2 or 3
   */
  public int level() {
    return code / 9 + 1;
  }

  /**
   * Whether a leaf of this order is a superpage (PS set).
   *
   * @return true for 2 MByte and 1 GByte
   */
  public boolean isSuperpage() {
    return code != 0;
  }
}
