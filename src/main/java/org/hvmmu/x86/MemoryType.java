package org.hvmmu.x86;

/**
 * The x86 memory types with their architectural encodings, as PAT entries, MTRRs and EPT's memory
 * type field hold them (SDM vol. 3A, table 12-10 and 12.12).
 */
public enum MemoryType {
  /** Uncacheable. */
  UC(0),
  /** Write-combining. */
  WC(1),
  /** Write-through. */
  WT(4),
  /** Write-protected. */
  WP(5),
  /** Write-back. */
  WB(6),
  /** Uncached, overridable by a WC MTRR; a PAT-only encoding. */
  UC_MINUS(7);

  private static final MemoryType[] BY_CODE = new MemoryType[8];

  static {
    for (MemoryType type : values()) {
      BY_CODE[type.code] = type;
    }
  }

  /** The architectural encoding. */
  public final int code;

  MemoryType(int code) {
    this.code = code;
  }

  /**
   * The type with architectural encoding {@code code}.
   *
   * @param code 0, 1, 4, 5, 6 or 7
   * @return the type
   * @throws IllegalArgumentException for a reserved encoding (2, 3, or outside 0 to 7)
   */
  public static MemoryType fromCode(int code) {
    MemoryType type = (code & ~7) == 0 ? BY_CODE[code] : null;
    if (type == null) {
      throw new IllegalArgumentException("memory type: " + code + " (reserved)");
    }
    return type;
  }

  /**
   * Whether Xen treats this type as uncached when it forces MMIO mappings uncacheable: UC, UC- and
   * WC pass unchanged; WB, WT and WP do not (Xen {@code get_page_from_l1e} since XSA-154).
   *
   * @return true for UC, UC- and WC
   */
  public boolean isUncachedForMmio() {
    return this == UC || this == UC_MINUS || this == WC;
  }
}
