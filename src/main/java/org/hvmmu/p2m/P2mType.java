package org.hvmmu.p2m;

/**
 * Xen's p2m types ({@code p2m_type_t}) with their explicit codes in both numberings, the seed's and
 * today's ({@link P2mEra}).
 *
 * <p>Codes are fixed by Xen, not by declaration order: {@code ordinal()} is never an encoding. A type
 * absent from an era has code {@link #NONE} there: {@link #RAM_PAGING_IN_START} exists only in the
 * seed, {@link #MAP_FOREIGN} and {@link #IOREQ_SERVER} only today.
 *
 * <table>
 *   <caption>Codes ({@code xen/include/asm-x86/p2m.h} in 2010, {@code asm/p2m.h} today)</caption>
 *   <tr><th>Type</th><th>Seed</th><th>Today</th></tr>
 *   <tr><td>ram_rw</td><td>1</td><td>0</td></tr>
 *   <tr><td>invalid</td><td>0</td><td>1</td></tr>
 *   <tr><td>ram_logdirty, ram_ro, mmio_dm, mmio_direct</td><td>2 to 5</td><td>2 to 5</td></tr>
 *   <tr><td>populate_on_demand, grant_map_rw, grant_map_ro</td><td>6 to 8</td><td>6 to 8</td></tr>
 *   <tr><td>ram_paging_out, ram_paged, ram_paging_in</td><td>9 to 11</td><td>9 to 11</td></tr>
 *   <tr><td>ram_paging_in_start</td><td>12</td><td>-</td></tr>
 *   <tr><td>ram_shared</td><td>13</td><td>12</td></tr>
 *   <tr><td>ram_broken</td><td>14</td><td>13</td></tr>
 *   <tr><td>map_foreign</td><td>-</td><td>14</td></tr>
 *   <tr><td>ioreq_server</td><td>-</td><td>15</td></tr>
 * </table>
 */
public enum P2mType {
  /** {@code p2m_ram_rw}: normal guest RAM. */
  RAM_RW(0, 1),
  /** {@code p2m_invalid}: nothing is mapped. */
  INVALID(1, 0),
  /** {@code p2m_ram_logdirty}: RAM, temporarily read-only while dirty pages are tracked. */
  RAM_LOGDIRTY(2, 2),
  /** {@code p2m_ram_ro}: read-only RAM; writes are discarded. */
  RAM_RO(3, 3),
  /** {@code p2m_mmio_dm}: emulated by the device model; not present. */
  MMIO_DM(4, 4),
  /** {@code p2m_mmio_direct}: passed-through MMIO, read-only if its MFN is in mmio_ro_ranges. */
  MMIO_DIRECT(5, 5),
  /** {@code p2m_populate_on_demand}: a placeholder populated on first access. */
  POPULATE_ON_DEMAND(6, 6),
  /** {@code p2m_grant_map_rw}: a writable grant mapping of another domain's frame. */
  GRANT_MAP_RW(7, 7),
  /** {@code p2m_grant_map_ro}: a read-only grant mapping. */
  GRANT_MAP_RO(8, 8),
  /** {@code p2m_ram_paging_out}: RAM being paged out. */
  RAM_PAGING_OUT(9, 9),
  /** {@code p2m_ram_paged}: RAM that has been paged out. */
  RAM_PAGED(10, 10),
  /** {@code p2m_ram_paging_in}: RAM being paged in. */
  RAM_PAGING_IN(11, 11),
  /** {@code p2m_ram_paging_in_start}: the seed's first paging-in state; gone since 2011. */
  RAM_PAGING_IN_START(P2mType.NONE, 12),
  /** {@code p2m_ram_shared}: shared (copy-on-write) RAM. */
  RAM_SHARED(12, 13),
  /** {@code p2m_ram_broken}: a broken page; access crashes the domain. */
  RAM_BROKEN(13, 14),
  /** {@code p2m_map_foreign}: a mapping of another domain's RAM by a privileged domain (2014). */
  MAP_FOREIGN(14, P2mType.NONE),
  /** {@code p2m_ioreq_server}: RAM whose accesses an ioreq server may claim (2016). */
  IOREQ_SERVER(15, P2mType.NONE);

  /** The code of a type in an era that does not have it. */
  public static final int NONE = -1;

  /** One more than the largest code in either era: codes are 0 to 15. */
  public static final int CODE_LIMIT = 16;

  private static final P2mType[] BY_CODE = new P2mType[CODE_LIMIT];
  private static final P2mType[] BY_SEED_CODE = new P2mType[CODE_LIMIT];

  static {
    for (P2mType type : values()) {
      if (type.code != NONE) {
        BY_CODE[type.code] = type;
      }
      if (type.seedCode != NONE) {
        BY_SEED_CODE[type.seedCode] = type;
      }
    }
  }

  /** Today's code, or {@link #NONE}. */
  public final int code;

  /** The seed's (2010) code, or {@link #NONE}. */
  public final int seedCode;

  P2mType(int code, int seedCode) {
    this.code = code;
    this.seedCode = seedCode;
  }

  /**
   * The code of this type in {@code era}.
   *
   * @param era the numbering
   * @return the code, or {@link #NONE} if the era has no such type
   */
  public int code(P2mEra era) {
    return era == P2mEra.SEED_2010 ? seedCode : code;
  }

  /**
   * Whether {@code era} has this type.
   *
   * @param era the numbering
   * @return true if the type has a code in that era
   */
  public boolean existsIn(P2mEra era) {
    return code(era) != NONE;
  }

  /**
   * The type with today's code {@code code}.
   *
   * @param code 0 to 15
   * @return the type
   * @throws IllegalArgumentException for any other value
   */
  public static P2mType fromCode(int code) {
    return fromCode(P2mEra.TODAY, code);
  }

  /**
   * The type with code {@code code} in {@code era}.
   *
   * @param era the numbering
   * @param code a code of that era
   * @return the type
   * @throws IllegalArgumentException if the era has no type with that code
   */
  public static P2mType fromCode(P2mEra era, int code) {
    if (!isKnown(era, code)) {
      throw new IllegalArgumentException(
          "p2m type code: " + code + " (no such type in " + era + ")");
    }
    return (era == P2mEra.SEED_2010 ? BY_SEED_CODE : BY_CODE)[code];
  }

  /**
   * Whether {@code era} defines a type with code {@code code}; Xen's flag derivations send every other
   * code to their {@code default:} case.
   *
   * @param era the numbering
   * @param code any value
   * @return true if {@link #fromCode(P2mEra, int)} would succeed
   */
  public static boolean isKnown(P2mEra era, int code) {
    return code >= 0
        && code < CODE_LIMIT
        && (era == P2mEra.SEED_2010 ? BY_SEED_CODE : BY_CODE)[code] != null;
  }
}
