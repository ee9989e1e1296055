package org.hvmmu.p2m;

/**
 * Xen's p2m type classes as {@code long} bit masks over type codes ({@code p2m_to_mask(t) = 1UL <<
 * t}), for both numberings: the {@code SEED_*} masks use the seed's codes, the others today's.
 * Today's: Xen 4.22's {@code xen/arch/x86/include/asm/p2m.h}.
 *
 * <p>A class test is one shift and one AND, with no allocation: {@code (RO >>> code & 1) != 0}. The
 * predicates here take the era and a raw code, and answer false for codes outside 0 to 63, as Xen's
 * masks do for a type they do not list.
 *
 * <table>
 *   <caption>Today's classes ({@code asm/p2m.h})</caption>
 *   <tr><th>Mask</th><th>Types</th></tr>
 *   <tr><td>{@link #RAM}</td><td>ram_rw, logdirty, ram_ro, paging_out, paged, paging_in, shared,
 *       ioreq_server</td></tr>
 *   <tr><td>{@link #RO}</td><td>logdirty, ram_ro, grant_map_ro, shared</td></tr>
 *   <tr><td>{@link #DISCARD_WRITE}</td><td>ram_ro, grant_map_ro</td></tr>
 *   <tr><td>{@link #MMIO}</td><td>mmio_dm, mmio_direct</td></tr>
 *   <tr><td>{@link #GRANT}</td><td>grant_map_rw, grant_map_ro</td></tr>
 *   <tr><td>{@link #CHANGEABLE}</td><td>ram_rw, logdirty, ioreq_server</td></tr>
 *   <tr><td>{@link #SPECIAL}</td><td>grant_map_rw, grant_map_ro, map_foreign, mmio_direct</td></tr>
 *   <tr><td>{@link #POD}</td><td>populate_on_demand</td></tr>
 *   <tr><td>{@link #PAGING}</td><td>paging_out, paged, paging_in</td></tr>
 * </table>
 *
 * <p>The seed's classes ({@code xen/include/asm-x86/p2m.h}, 2010) differ: RAM includes
 * paging_in_start and has no ioreq_server, there is no CHANGEABLE, DISCARD_WRITE or SPECIAL class,
 * and populate-on-demand is the "magic" class. mmio_direct is in no read-only class in either era:
 * its read-only-ness is decided per MFN by {@code mmio_ro_ranges}.
 */
public final class P2mTypes {
  /** Today's RAM types: they map real machine frames of the domain. */
  public static final long RAM =
      bit(P2mType.RAM_RW.code)
          | bit(P2mType.RAM_LOGDIRTY.code)
          | bit(P2mType.RAM_RO.code)
          | bit(P2mType.RAM_PAGING_OUT.code)
          | bit(P2mType.RAM_PAGED.code)
          | bit(P2mType.RAM_PAGING_IN.code)
          | bit(P2mType.RAM_SHARED.code)
          | bit(P2mType.IOREQ_SERVER.code);

  /** Today's read-only types: their entries must have write permission clear. */
  public static final long RO =
      bit(P2mType.RAM_LOGDIRTY.code)
          | bit(P2mType.RAM_RO.code)
          | bit(P2mType.GRANT_MAP_RO.code)
          | bit(P2mType.RAM_SHARED.code);

  /** Today's types whose writes are silently discarded. */
  public static final long DISCARD_WRITE =
      bit(P2mType.RAM_RO.code) | bit(P2mType.GRANT_MAP_RO.code);

  /** Today's MMIO types. */
  public static final long MMIO = bit(P2mType.MMIO_DM.code) | bit(P2mType.MMIO_DIRECT.code);

  /** Today's grant types. */
  public static final long GRANT =
      bit(P2mType.GRANT_MAP_RW.code) | bit(P2mType.GRANT_MAP_RO.code);

  /** Today's types a global re-type may change from or to. */
  public static final long CHANGEABLE =
      bit(P2mType.RAM_RW.code) | bit(P2mType.RAM_LOGDIRTY.code) | bit(P2mType.IOREQ_SERVER.code);

  /** Today's types that reference frames outside the domain's own RAM. */
  public static final long SPECIAL =
      GRANT | bit(P2mType.MAP_FOREIGN.code) | bit(P2mType.MMIO_DIRECT.code);

  /** Today's populate-on-demand type. */
  public static final long POD = bit(P2mType.POPULATE_ON_DEMAND.code);

  /** Today's paging types. */
  public static final long PAGING =
      bit(P2mType.RAM_PAGING_OUT.code)
          | bit(P2mType.RAM_PAGED.code)
          | bit(P2mType.RAM_PAGING_IN.code);

  /** The seed's RAM types. */
  public static final long SEED_RAM =
      bit(P2mType.RAM_RW.seedCode)
          | bit(P2mType.RAM_LOGDIRTY.seedCode)
          | bit(P2mType.RAM_RO.seedCode)
          | bit(P2mType.RAM_PAGING_OUT.seedCode)
          | bit(P2mType.RAM_PAGED.seedCode)
          | bit(P2mType.RAM_PAGING_IN_START.seedCode)
          | bit(P2mType.RAM_PAGING_IN.seedCode)
          | bit(P2mType.RAM_SHARED.seedCode);

  /** The seed's read-only types. */
  public static final long SEED_RO =
      bit(P2mType.RAM_LOGDIRTY.seedCode)
          | bit(P2mType.RAM_RO.seedCode)
          | bit(P2mType.GRANT_MAP_RO.seedCode)
          | bit(P2mType.RAM_SHARED.seedCode);

  /** The seed's MMIO types. */
  public static final long SEED_MMIO =
      bit(P2mType.MMIO_DM.seedCode) | bit(P2mType.MMIO_DIRECT.seedCode);

  /** The seed's grant types. */
  public static final long SEED_GRANT =
      bit(P2mType.GRANT_MAP_RW.seedCode) | bit(P2mType.GRANT_MAP_RO.seedCode);

  /** The seed's "magic" types (populate-on-demand). */
  public static final long SEED_MAGIC = bit(P2mType.POPULATE_ON_DEMAND.seedCode);

  /** The seed's paging types. */
  public static final long SEED_PAGING =
      bit(P2mType.RAM_PAGING_OUT.seedCode)
          | bit(P2mType.RAM_PAGED.seedCode)
          | bit(P2mType.RAM_PAGING_IN_START.seedCode)
          | bit(P2mType.RAM_PAGING_IN.seedCode);

  private P2mTypes() {}

  private static long bit(int code) {
    return 1L << code;
  }

  private static boolean in(long mask, int code) {
    return (code & ~63) == 0 && ((mask >>> code) & 1) != 0;
  }

  /**
   * Xen's {@code p2m_is_ram}.
   *
   * @param era the numbering of {@code code}
   * @param code a type code
   * @return true for a RAM type
   */
  public static boolean isRam(P2mEra era, int code) {
    return in(era == P2mEra.SEED_2010 ? SEED_RAM : RAM, code);
  }

  /**
   * Xen's {@code p2m_is_readonly}.
   *
   * @param era the numbering of {@code code}
   * @param code a type code
   * @return true for a read-only type
   */
  public static boolean isReadOnly(P2mEra era, int code) {
    return in(era == P2mEra.SEED_2010 ? SEED_RO : RO, code);
  }

  /**
   * Xen's {@code p2m_is_mmio}.
   *
   * @param era the numbering of {@code code}
   * @param code a type code
   * @return true for mmio_dm and mmio_direct
   */
  public static boolean isMmio(P2mEra era, int code) {
    return in(era == P2mEra.SEED_2010 ? SEED_MMIO : MMIO, code);
  }

  /**
   * Xen's {@code p2m_is_grant}.
   *
   * @param era the numbering of {@code code}
   * @param code a type code
   * @return true for the grant types
   */
  public static boolean isGrant(P2mEra era, int code) {
    return in(era == P2mEra.SEED_2010 ? SEED_GRANT : GRANT, code);
  }

  /**
   * Xen's {@code p2m_is_changeable}; the seed has no such class and answers false.
   *
   * @param era the numbering of {@code code}
   * @param code a type code
   * @return true for ram_rw, logdirty and ioreq_server today
   */
  public static boolean isChangeable(P2mEra era, int code) {
    return era == P2mEra.TODAY && in(CHANGEABLE, code);
  }

  /**
   * Whether {@code code} is the mmio_direct type of {@code era} (5 in both).
   *
   * @param era the numbering of {@code code}
   * @param code a type code
   * @return true for mmio_direct
   */
  public static boolean isMmioDirect(P2mEra era, int code) {
    return code == P2mType.MMIO_DIRECT.code(era);
  }

  /**
   * Whether {@code code} is in {@code mask}; the allocation-free test behind every predicate here.
   *
   * @param mask a class mask of this class
   * @param code a type code
   * @return true if bit {@code code} of {@code mask} is set
   */
  public static boolean inClass(long mask, int code) {
    return in(mask, code);
  }
}
