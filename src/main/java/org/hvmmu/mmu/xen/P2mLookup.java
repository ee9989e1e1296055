package org.hvmmu.mmu.xen;

import java.util.Objects;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.mmu.memory.RegionKind;

/**
 * The domain's guest-physical to machine lookup that the walker maps guest tables through: Xen's
 * {@code p2m_get_page_from_gfn} with {@code P2M_ALLOC | P2M_UNSHARE} (the seed: {@code
 * gfn_to_mfn_unshare}), as {@code map_domain_gfn} and {@code hap_p2m_ga_to_gfn} call it.
 *
 * <p>A lookup returns the machine frame of a RAM gfn (0 or more), or one negative outcome:
 *
 * <table>
 *   <caption>Outcomes and what each Xen makes of them in a walk</caption>
 *   <tr><th>Result</th><th>Xen's p2m</th><th>Today's walk</th><th>The seed's walk</th></tr>
 *   <tr><td>mfn &ge; 0</td><td>RAM, page reference taken</td><td>table mapped</td><td>table
 *       mapped</td></tr>
 *   <tr><td>{@link #PAGED_OUT}</td><td>{@code p2m_is_paging} (population requested)</td><td>fails,
 *       {@link Pfec#PAGE_PAGED}</td><td>result := {@link MissingFlags#PAGE_PAGED}</td></tr>
 *   <tr><td>{@link #SHARED}</td><td>{@code p2m_is_shared} (unsharing failed)</td><td>fails, {@link
 *       Pfec#PAGE_SHARED}</td><td>result := {@link MissingFlags#PAGE_SHARED}</td></tr>
 *   <tr><td>{@link #GFN_INVALID}</td><td>{@code !gfn_valid}: beyond the domain's
 *       address width</td><td>fails, P clear (the RSVD|P that {@code map_domain_gfn} reports is
 *       dropped)</td><td>result |= P</td></tr>
 *   <tr><td>{@link #NOT_RAM}</td><td>no page: MMIO, hole, grant, ...</td><td>fails, P clear (tables
 *       in non-RAM read as not present)</td><td>result |= P</td></tr>
 * </table>
 *
 * <p>Implementations must be allocation-free and safe to call from every thread that walks. The
 * machine frame must be RAM of the walker's {@link PhysicalMemory}.
 *
 * <pre>{@code
 * P2mLookup p2m = P2mLookup.identity(memory);
 * P2mLookup paged = gfn -> gfn == 0x1234 ? P2mLookup.PAGED_OUT : p2m.getPageFromGfn(gfn);
 * }</pre>
 */
@FunctionalInterface
public interface P2mLookup {
  /** The gfn is paged out ({@code p2m_ram_paging_out}, {@code p2m_ram_paged}, ...). */
  long PAGED_OUT = -1;

  /** The gfn is shared and could not be unshared ({@code p2m_ram_shared}). */
  long SHARED = -2;

  /** The gfn is not valid for the domain ({@code gfn_valid} is false: too wide). */
  long GFN_INVALID = -3;

  /** The gfn has no RAM page behind it (MMIO, a hole, a grant, an invalid entry). */
  long NOT_RAM = -4;

  /**
   * Xen's {@code p2m_get_page_from_gfn}: the machine frame of {@code gfn}, or a negative outcome.
   *
   * @param gfn a guest frame number
   * @return a machine frame number (0 or more), or {@link #PAGED_OUT}, {@link #SHARED}, {@link
   *     #GFN_INVALID} or {@link #NOT_RAM}
   */
  long getPageFromGfn(long gfn);

  /**
   * Whether a lookup result is a machine frame.
   *
   * @param result what {@link #getPageFromGfn} returned
   * @return true if it is 0 or more
   */
  static boolean isMfn(long result) {
    return result >= 0;
  }

  /**
   * The identity p2m over {@code memory}: gfn N is machine frame N when that frame is RAM; beyond
   * MAXPHYADDR a gfn is {@link #GFN_INVALID}; any other frame is {@link #NOT_RAM}. Reads the memory's
   * regions on every call, so later region changes are seen.
   *
   * @param memory the machine memory
   * @return the lookup
   */
  static P2mLookup identity(PhysicalMemory memory) {
    Objects.requireNonNull(memory, "memory");
    return gfn -> {
      if (Long.compareUnsigned(gfn, memory.lastFrame()) > 0) {
        return GFN_INVALID;
      }
      return memory.kind(gfn) == RegionKind.RAM ? gfn : NOT_RAM;
    };
  }

  /**
   * A lookup result in words: {@code "mfn 0x1234"}, {@code "paged out"}, ... Allocates.
   *
   * @param result what {@link #getPageFromGfn} returned
   * @return the description
   */
  static String describe(long result) {
    if (result >= 0) {
      return "mfn 0x" + Long.toHexString(result);
    }
    if (result == PAGED_OUT) {
      return "paged out";
    }
    if (result == SHARED) {
      return "shared";
    }
    if (result == GFN_INVALID) {
      return "invalid gfn";
    }
    if (result == NOT_RAM) {
      return "not RAM";
    }
    return "unknown outcome " + result;
  }
}
