package org.hvmmu.mmu;

/**
 * One TLB array: which accesses it serves, which page sizes it holds, and its shape.
 *
 * @param name a short name for counters and diagnostics, such as {@code "dtlb-4k"}
 * @param level 1 for a first-level TLB, 2 for the second level
 * @param instructions whether it serves instruction fetches
 * @param data whether it serves data accesses
 * @param pageSizes the page sizes it holds: bits of {@link #SIZE_4K}, {@link #SIZE_LARGE}, {@link
 *     #SIZE_1G}
 * @param geometry its shape; {@link CacheGeometry#NONE} removes it
 */
public record TlbStructure(
    String name,
    int level,
    boolean instructions,
    boolean data,
    int pageSizes,
    CacheGeometry geometry) {
  /** 4-KByte pages. */
  public static final int SIZE_4K = 1;

  /** 2-MByte pages (4-MByte in 32-bit paging). */
  public static final int SIZE_LARGE = 2;

  /** 1-GByte pages. */
  public static final int SIZE_1G = 4;

  /**
   * Checks the arguments.
   *
   * @param name the {@code name} component
   * @param level the {@code level} component
   * @param instructions the {@code instructions} component
   * @param data the {@code data} component
   * @param pageSizes the {@code pageSizes} component
   * @param geometry the {@code geometry} component
   * @throws IllegalArgumentException for a level other than 1 or 2, no side, or no page size
   */
  public TlbStructure {
    if (name == null || geometry == null) {
      throw new IllegalArgumentException("name and geometry must not be null");
    }
    if (level != 1 && level != 2) {
      throw new IllegalArgumentException(name + ": level " + level + " (expected: 1 or 2)");
    }
    if (!instructions && !data) {
      throw new IllegalArgumentException(name + ": serves neither instructions nor data");
    }
    if (pageSizes == 0 || (pageSizes & ~(SIZE_4K | SIZE_LARGE | SIZE_1G)) != 0) {
      throw new IllegalArgumentException(name + ": page sizes 0x" + Integer.toHexString(pageSizes)
          + " (expected: a non-empty combination of SIZE_4K, SIZE_LARGE, SIZE_1G)");
    }
  }
}
