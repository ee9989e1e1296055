package org.hvmmu.p2m.shadow;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_DIRTY;
import static org.hvmmu.x86.PteFlags.PAGE_NX_BIT;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;

import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.Pte;

/**
 * The rest of Xen's {@code _sh_propagate} ({@code xen/arch/x86/mm/shadow/multi.c}, the same in the
 * seed and today for what is modelled) around {@link ShadowL1e#shPropagate}, and the upper-level
 * installers {@code shadow_set_l2e}, {@code shadow_set_l3e} and {@code shadow_set_l4e}: what a 4-level
 * shadow entry is, given the guest's entry and what it points to.
 *
 * <table>
 *   <caption>The steps, per level</caption>
 *   <tr><th>Step</th><th>L1 (and the L1 of a guest superpage)</th><th>L2, L3, L4</th></tr>
 *   <tr><td>flags copied</td><td>the guest's, through the read-only step of {@link
 *       ShadowFlags#shPropagateFlags} ({@link ShadowL1e#shPropagate})</td><td>P, R/W, U/S, A; NX
 *       with guest NX; A and D always set ("each of these entries may also serve as a shadow L1
 *       entry")</td></tr>
 *   <tr><td>NX without the guest's EFER.NXE</td><td colspan="2">dropped ({@code pass_thru_flags}
 *       has NX only if {@code guest_supports_nx})</td></tr>
 *   <tr><td>guest A clear</td><td colspan="2">P cleared: the access faults, the guest walk sets
 *       A</td></tr>
 *   <tr><td>guest D clear</td><td>R/W cleared: the first write faults and the walk sets D</td><td>R/W
 *       cleared for an L2 superpage entry ("D bits exist in L1es and PSE L2es")</td></tr>
 *   <tr><td>the target frame is a guest page table</td><td>R/W cleared ("protect guest page
 *       tables")</td><td>-</td></tr>
 * </table>
 *
 * <p>Left out of the model: cache attributes from the guest's PAT and MTRRs, log-dirty and
 * dirty-VRAM write protection, magic not-present and MMIO entries, and a PV guest's forced U/S.
 * Every method is static and allocation-free.
 */
public final class ShadowPropagate {
  /** The frame bits of an entry, 51:12. */
  private static final long FRAME_MASK = Pte.MFN_FIELD_MASK;

  /** Bit 63. */
  private static final long NX = 1L << 63;

  /** Bit 7: PS in an L2 entry. */
  private static final long PS = 1L << 7;

  /** Raw flags an upper-level shadow entry takes from the guest's entry (without NX). */
  private static final long UPPER_PASS_THRU = 0x27; // P RW US A

  private ShadowPropagate() {}

  /**
   * {@code _sh_propagate} at level 1: the shadow L1 entry for guest entry {@code guestL1e}, whose
   * guest frame the p2m gives as {@code targetMfn} of type {@code p2mTypeCode}.
   *
   * @param switches the era and defect switches
   * @param guestL1e the guest's entry (after the walk set A and D), or the L1 entry Xen's walk
   *     fabricates for a guest superpage
   * @param p2mTypeCode the p2m type of the guest frame, in the era's numbering
   * @param targetMfn the machine frame
   * @param mmioRoRanges the host's read-only MMIO frames
   * @param guestNx whether the guest has NX (EFER.NXE)
   * @param targetIsPageTable whether the target frame has a shadow (is a guest page table)
   * @return the shadow entry; 0 for a guest entry that is not present
   */
  public static long l1e(
      P2mSwitches switches,
      long guestL1e,
      int p2mTypeCode,
      long targetMfn,
      RangeSet mmioRoRanges,
      boolean guestNx,
      boolean targetIsPageTable) {
    long s = ShadowL1e.shPropagate(switches, guestL1e, p2mTypeCode, targetMfn, mmioRoRanges);
    if (s == 0) {
      return 0;
    }
    int guest = Pte.getFlags(guestL1e);
    int flags = Pte.getFlags(s);
    if (!guestNx) {
      flags &= ~PAGE_NX_BIT;
    }
    if ((guest & PAGE_ACCESSED) == 0) {
      flags &= ~PAGE_PRESENT;
    }
    if ((guest & PAGE_DIRTY) == 0 || targetIsPageTable) {
      flags &= ~PAGE_RW;
    }
    return Pte.fromMfn(targetMfn, flags);
  }

  /**
   * {@code _sh_propagate} at level 2, 3 or 4: the shadow entry for guest entry {@code guestEntry},
   * pointing at the shadow table {@code shadowMfn} of what it points to.
   *
   * @param level 2, 3 or 4
   * @param guestEntry the guest's entry
   * @param shadowMfn the shadow of the next level (an L1 shadow, or for an L2 superpage entry the
   *     shadow L1 that splits it), or a negative value for none
   * @param guestNx whether the guest has NX (EFER.NXE)
   * @return the shadow entry; 0 for a guest entry that is not present or no shadow to point at
   * @throws IllegalArgumentException if {@code level} is not 2 to 4
   */
  public static long upper(int level, long guestEntry, long shadowMfn, boolean guestNx) {
    if (level < 2 || level > 4) {
      throw new IllegalArgumentException("level: " + level + " (expected: 2 to 4)");
    }
    if ((guestEntry & PAGE_PRESENT) == 0 || shadowMfn < 0) {
      return 0;
    }
    long flags = (guestEntry & UPPER_PASS_THRU) | (guestNx ? guestEntry & NX : 0);
    flags |= PAGE_ACCESSED | PAGE_DIRTY;
    if ((guestEntry & PAGE_ACCESSED) == 0) {
      flags &= ~PAGE_PRESENT;
    }
    if (level == 2 && (guestEntry & PS) != 0 && (guestEntry & PAGE_DIRTY) == 0) {
      flags &= ~PAGE_RW;
    }
    return ((shadowMfn << Pte.PAGE_SHIFT) & FRAME_MASK) | flags;
  }

  /**
   * The flags {@code shadow_set_l2e}, {@code shadow_set_l3e} and {@code shadow_set_l4e} report for
   * replacing {@code oldEntry} by {@code newEntry}: 0 if they are equal, else {@link
   * ShadowL1e#SHADOW_SET_CHANGED}, plus {@link ShadowL1e#SHADOW_SET_FLUSH} when a present old entry
   * pointed elsewhere or the new rights are not a strict increase (the caller flushes the domain's
   * TLBs then). Xen's shadow reference counts are not modelled.
   *
   * @param oldEntry the entry in the shadow table
   * @param newEntry the entry to install
   * @return the flags
   */
  public static int setUpperFlags(long oldEntry, long newEntry) {
    if (oldEntry == newEntry) {
      return 0;
    }
    int flags = ShadowL1e.SHADOW_SET_CHANGED;
    if (Pte.isPresent(oldEntry) && ((oldEntry & FRAME_MASK) != (newEntry & FRAME_MASK)
        || !permsStrictlyIncreased(oldEntry, newEntry))) {
      flags |= ShadowL1e.SHADOW_SET_FLUSH;
    }
    return flags;
  }

  /**
   * Whether replacing {@code oldEntry} by {@code newEntry} can leave a stale translation that grants
   * more than the new entry: the old one was present and the new one is not present, maps another
   * frame, or grants less. After a change the hypervisor itself makes (not the guest), Xen flushes
   * then.
   *
   * @param oldEntry the entry before
   * @param newEntry the entry after
   * @return true if a flush is due
   */
  public static boolean lostRights(long oldEntry, long newEntry) {
    return Pte.isPresent(oldEntry) && (!Pte.isPresent(newEntry)
        || (oldEntry & FRAME_MASK) != (newEntry & FRAME_MASK)
        || !permsStrictlyIncreased(oldEntry, newEntry));
  }

  /**
   * Xen's {@code perms_strictly_increased}: whether every right of {@code oldEntry} (P, R/W, U/S,
   * execute) is in {@code newEntry} too (the new entry may add rights).
   *
   * @param oldEntry an entry
   * @param newEntry an entry
   * @return true if the rights did not decrease
   */
  public static boolean permsStrictlyIncreased(long oldEntry, long newEntry) {
    long of = (oldEntry & 0x7) | ((~oldEntry & NX) >>> 60);
    long nf = (newEntry & 0x7) | ((~newEntry & NX) >>> 60);
    return (of | (of ^ nf)) == nf;
  }
}
