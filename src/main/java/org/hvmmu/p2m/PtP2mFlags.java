package org.hvmmu.p2m;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_DIRTY;
import static org.hvmmu.x86.PteFlags.PAGE_NX_BIT;
import static org.hvmmu.x86.PteFlags.PAGE_PCD;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_PWT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;

import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.xen.HypervisorBugException;

/**
 * Xen's {@code p2m_type_to_flags} for the generic p2m format (the page-table format AMD's NPT and
 * shadow paging use; {@code xen/arch/x86/mm/p2m-pt.c}, in 2010 {@code p2m.c}), in both eras, as 24-bit
 * packed flags ({@link org.hvmmu.x86.PteFlags}).
 *
 * <p>The flags hold the type: at flag bit 9 in the seed ({@code (t & 0x3fff) << 9}), at flag bit 12,
 * that is PTE bit 52, today ({@code (t & 0x7f) << 12}). {@link #P2M_BASE_FLAGS} is P|US|A|D = 0x65.
 *
 * <table>
 *   <caption>mmio_direct, worked</caption>
 *   <tr><th>Era</th><th>mmio_ro</th><th>Flags</th><th>Bits</th></tr>
 *   <tr><td>seed</td><td>no</td><td>0xA77</td><td>5 &lt;&lt; 9 = 0xA00, base 0x65, RW 0x2, PCD 0x10
 *       </td></tr>
 *   <tr><td>seed</td><td>yes</td><td>0xA75</td><td>0xA00 | 0x65 | PCD 0x10: no RW</td></tr>
 *   <tr><td>today</td><td>no</td><td>0x5077</td><td>5 &lt;&lt; 12 = 0x5000, base 0x65, RW, UC- (PCD)
 *       </td></tr>
 *   <tr><td>today</td><td>yes</td><td>0x507D</td><td>0x5000 | 0x65 | UC (PCD|PWT 0x18): no RW</td></tr>
 * </table>
 *
 * <p>Everything here is static and allocation-free; the only lookup is one {@code
 * containsSingleton} on mmio_ro_ranges, for mmio_direct only.
 */
public final class PtP2mFlags {
  /** {@code P2M_BASE_FLAGS}: present, user, accessed, dirty (0x65). */
  public static final int P2M_BASE_FLAGS = PAGE_PRESENT | PAGE_USER | PAGE_ACCESSED | PAGE_DIRTY;

  /** The flags of an entry pointing to a lower table: base flags plus RW (0x67). */
  public static final int TABLE_FLAGS = P2M_BASE_FLAGS | PAGE_RW;

  /** Seed: the type's shift in the flags (bits 22:9 hold {@code t & 0x3fff}). */
  public static final int SEED_TYPE_SHIFT = 9;

  /** Seed: the type's mask before shifting. */
  public static final int SEED_TYPE_MASK = 0x3FFF;

  /** Today: the type's shift in the packed flags (PTE bits 58:52 hold {@code t & 0x7f}). */
  public static final int TYPE_SHIFT = 12;

  /** Today: the type's mask before shifting. */
  public static final int TYPE_MASK = 0x7F;

  /** UC-: PCD alone (PAT index 2 under Xen's PAT). */
  public static final int CACHE_UC_MINUS = PAGE_PCD;

  /** UC: PCD and PWT (PAT index 3). */
  public static final int CACHE_UC = PAGE_PCD | PAGE_PWT;

  private PtP2mFlags() {}

  /**
   * {@code p2m_type_to_flags} for a type.
   *
   * @param switches the era and defect switches
   * @param type the type; must exist in the era
   * @param mfn the frame the entry maps
   * @param level 0 for a 4-KByte leaf, 1 for 2 MBytes, 2 for 1 GByte (Xen's {@code level} argument)
   * @param mmioRoRanges the host's read-only MMIO frames
   * @param ioreqClaimsWrite an ioreq server claims writes to ioreq_server pages
   * @return the packed flags, without PSE
   * @throws IllegalArgumentException if the type does not exist in the era
   * @throws HypervisorBugException today, for a read-only mmio_direct superpage ({@code ASSERT(!level)})
   */
  public static int typeToFlags(
      P2mSwitches switches,
      P2mType type,
      long mfn,
      int level,
      RangeSet mmioRoRanges,
      boolean ioreqClaimsWrite) {
    int code = type.code(switches.era());
    if (code == P2mType.NONE) {
      throw new IllegalArgumentException(
          "p2m type " + type + " does not exist in " + switches.era());
    }
    return typeToFlags(switches, code, mfn, level, mmioRoRanges, ioreqClaimsWrite);
  }

  /**
   * {@code p2m_type_to_flags} for a raw type code of the switches' era; codes the era does not define
   * take Xen's {@code default:} case (the type bits alone in the seed, type bits and NX today).
   *
   * @param switches the era and defect switches
   * @param code a type code, any value
   * @param mfn the frame the entry maps
   * @param level 0 for a 4-KByte leaf, 1 for 2 MBytes, 2 for 1 GByte
   * @param mmioRoRanges the host's read-only MMIO frames
   * @param ioreqClaimsWrite an ioreq server claims writes to ioreq_server pages
   * @return the packed flags, without PSE
   * @throws HypervisorBugException for a read-only mmio_direct superpage when {@link
   *     P2mSwitches#superpageRoMmio()} is {@code REFUSE_RETRY_4K} ({@code ASSERT(!level)})
   */
  public static int typeToFlags(
      P2mSwitches switches,
      int code,
      long mfn,
      int level,
      RangeSet mmioRoRanges,
      boolean ioreqClaimsWrite) {
    P2mEra era = switches.era();
    if (era == P2mEra.SEED_2010) {
      int flags = (code & SEED_TYPE_MASK) << SEED_TYPE_SHIFT;
      if (!P2mType.isKnown(era, code)) {
        return flags;
      }
      return switch (P2mType.fromCode(era, code)) {
        case INVALID, MMIO_DM, POPULATE_ON_DEMAND, RAM_PAGING_OUT, RAM_PAGED, RAM_PAGING_IN,
            RAM_PAGING_IN_START, RAM_BROKEN, MAP_FOREIGN, IOREQ_SERVER -> flags;
        case RAM_RW, GRANT_MAP_RW -> flags | P2M_BASE_FLAGS | PAGE_RW;
        case RAM_LOGDIRTY, RAM_RO, GRANT_MAP_RO, RAM_SHARED -> flags | P2M_BASE_FLAGS;
        case MMIO_DIRECT ->
            flags | P2M_BASE_FLAGS | mmioDirectBits(switches, mfn, level, mmioRoRanges);
      };
    }
    int flags = (code & TYPE_MASK) << TYPE_SHIFT;
    if (!P2mType.isKnown(era, code)) {
      return flags | PAGE_NX_BIT;
    }
    return switch (P2mType.fromCode(era, code)) {
      case INVALID, MMIO_DM, POPULATE_ON_DEMAND, RAM_PAGING_OUT, RAM_PAGED, RAM_PAGING_IN,
          RAM_PAGING_IN_START, RAM_BROKEN -> flags | PAGE_NX_BIT;
      case GRANT_MAP_RO -> flags | P2M_BASE_FLAGS | PAGE_NX_BIT;
      case IOREQ_SERVER ->
          flags | P2M_BASE_FLAGS | PAGE_NX_BIT | (ioreqClaimsWrite ? 0 : PAGE_RW);
      case RAM_RO, RAM_LOGDIRTY, RAM_SHARED -> flags | P2M_BASE_FLAGS;
      case RAM_RW -> flags | P2M_BASE_FLAGS | PAGE_RW;
      case GRANT_MAP_RW, MAP_FOREIGN -> flags | P2M_BASE_FLAGS | PAGE_RW | PAGE_NX_BIT;
      case MMIO_DIRECT ->
          flags | P2M_BASE_FLAGS | mmioDirectBits(switches, mfn, level, mmioRoRanges);
    };
  }

  /**
   * The RW and cache bits of an mmio_direct entry: RW and UC- unless the frame is in mmio_ro_ranges;
   * then UC- (seed) or UC ({@link P2mSwitches#roMmioForcesUc()}) without RW.
   */
  private static int mmioDirectBits(
      P2mSwitches switches, long mfn, int level, RangeSet mmioRoRanges) {
    if (!mmioRoRanges.containsSingleton(mfn)) {
      return PAGE_RW | CACHE_UC_MINUS;
    }
    if (level != 0
        && switches.superpageRoMmio() == P2mSwitches.SuperpageRoMmio.REFUSE_RETRY_4K) {
      throw new HypervisorBugException(
          "p2m_type_to_flags: ASSERT(!level) failed: read-only mmio_direct mfn 0x"
              + Long.toHexString(mfn) + " at level " + level);
    }
    return switches.roMmioForcesUc() ? CACHE_UC : CACHE_UC_MINUS;
  }

  /**
   * Xen's {@code p2m_flags_to_type}: the type code stored in an entry's packed flags. Today an entirely
   * empty entry (flags 0) is the invalid type, not ram_rw, whose code is 0.
   *
   * @param era the encoding
   * @param flags packed flags
   * @return the type code in the era's numbering
   */
  public static int flagsToType(P2mEra era, int flags) {
    if (era == P2mEra.SEED_2010) {
      return (flags >>> SEED_TYPE_SHIFT) & SEED_TYPE_MASK;
    }
    return flags == 0 ? P2mType.INVALID.code : (flags >>> TYPE_SHIFT) & TYPE_MASK;
  }
}
