package org.hvmmu.p2m.shadow;

import static org.hvmmu.x86.PteFlags.PAGE_CACHE_ATTRS;
import static org.hvmmu.x86.PteFlags.PAGE_PCD;
import static org.hvmmu.x86.PteFlags.PAGE_PWT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;

import org.hvmmu.p2m.P2mEra;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mTypes;
import org.hvmmu.rangeset.RangeSet;

/**
 * The read-only step of Xen's {@code _sh_propagate} ({@code xen/arch/x86/mm/shadow/multi.c}): how the
 * p2m type and the target frame restrict the flags a shadow entry copies from the guest entry.
 *
 * <table>
 *   <caption>The step, per era</caption>
 *   <tr><th>Condition</th><th>Seed</th><th>Hardened ({@link P2mSwitches#roMmioForcesUc()})</th></tr>
 *   <tr><td>read-only p2m type (RO class)</td><td>clear RW</td><td>clear RW</td></tr>
 *   <tr><td>mmio_direct, frame in mmio_ro_ranges</td><td>clear RW</td><td>clear RW and PAT, PCD, PWT;
 *       set PCD|PWT (UC)</td></tr>
 *   <tr><td>anything else</td><td colspan="2">unchanged</td></tr>
 * </table>
 *
 * <p>The other steps of {@code _sh_propagate} (cache attributes from the guest's PAT and MTRRs, guest
 * page-table, log-dirty and dirty-VRAM write protection) are outside hvmmu's model: the flags passed in
 * stand for the result of the steps before this one.
 *
 * <p>{@code shadow_set_l1e}, which installs the shadow entry after {@code get_page_from_l1e} has judged
 * it, belongs beside this class and reads {@link P2mSwitches#shadowDropsRwResult()}: in the seed its
 * "map read-only" case computes the entry without RW and discards the result. All methods here are
 * static and allocation-free.
 */
public final class ShadowFlags {
  /** UC under Xen's PAT: PCD and PWT. */
  public static final int CACHE_UC = PAGE_PCD | PAGE_PWT;

  private ShadowFlags() {}

  /**
   * The read-only step of {@code _sh_propagate}: {@code sflags} restricted for p2m type {@code
   * p2mTypeCode} and target frame {@code targetMfn}.
   *
   * @param switches the era and defect switches (era for the type numbering, {@link
   *     P2mSwitches#roMmioForcesUc()} for UC forcing)
   * @param sflags the shadow flags so far, 24-bit packed
   * @param p2mTypeCode the p2m type of the target frame, in the era's numbering
   * @param targetMfn the frame the shadow entry maps
   * @param mmioRoRanges the host's read-only MMIO frames
   * @return the shadow flags after the step
   */
  public static int shPropagateFlags(
      P2mSwitches switches, int sflags, int p2mTypeCode, long targetMfn, RangeSet mmioRoRanges) {
    P2mEra era = switches.era();
    if (P2mTypes.isReadOnly(era, p2mTypeCode)) {
      return sflags & ~PAGE_RW;
    }
    if (P2mTypes.isMmioDirect(era, p2mTypeCode) && mmioRoRanges.containsSingleton(targetMfn)) {
      return switches.roMmioForcesUc()
          ? (sflags & ~(PAGE_RW | PAGE_CACHE_ATTRS)) | CACHE_UC
          : sflags & ~PAGE_RW;
    }
    return sflags;
  }
}
