package org.hvmmu.p2m.shadow;

import static org.hvmmu.x86.PteFlags.PAGE_CACHE_ATTRS;
import static org.hvmmu.x86.PteFlags.PAGE_RW;

import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.Domain;
import org.hvmmu.x86.pv.L1eValidator;

/**
 * Xen's {@code shadow_set_l1e} in the reference-counting shadow modes: installs a shadow L1 entry
 * after {@code get_page_from_l1e} has judged it, and releases what the entry it replaces held.
 * Xen 4.22: {@code xen/arch/x86/mm/shadow/set.c} (with {@code shadow_get_page_from_l1e});
 * {@link #shPropagate}: {@code xen/arch/x86/mm/shadow/multi.c}.
 *
 * <p>The validator's verdict (see {@link L1eValidator#getPageFromL1e}) decides:
 *
 * <ul>
 *   <li>a reject: the slot is emptied and {@link #SHADOW_SET_ERROR} is reported;
 *   <li>accept: the entry is installed as it is;
 *   <li>accept read-only (a flip mask): upstream XORs the mask (R/W and, since XSA-154, the cache
 *       bits) into the entry. The seed meant to clear R/W but called the helper that returns the new
 *       entry and dropped its result (reference section 3.6, row 9), so the shadow entry stays
 *       writable: {@link P2mSwitches#shadowDropsRwResult()} reproduces that.
 * </ul>
 *
 * <p>For a translated guest, {@link ShadowFlags#shPropagateFlags} has already cleared R/W on a
 * read-only {@code mmio_direct} frame, so the defect does not show there; it shows for a guest whose
 * p2m types say nothing about MMIO: a non-translated (PV) guest in shadow reference-counting mode,
 * whose every frame has type {@code p2m_ram_rw}. The shadow table is a plain {@code long[512]}: shadow
 * pages are Xen's own memory, not guest frames. Magic (not-present, reserved-bit) shadow entries and
 * the dirty-VRAM tracking are not modelled. Allocation-free.
 */
public final class ShadowL1e {
  /** The entry changed ({@code SHADOW_SET_CHANGED}). */
  public static final int SHADOW_SET_CHANGED = 1;

  /** A TLB flush is needed ({@code SHADOW_SET_FLUSH}); never set for L1 entries. */
  public static final int SHADOW_SET_FLUSH = 2;

  /** The new entry was refused and an empty one installed ({@code SHADOW_SET_ERROR}). */
  public static final int SHADOW_SET_ERROR = 4;

  private ShadowL1e() {}

  /**
   * Xen's {@code shadow_set_l1e}: writes {@code newSl1e} into {@code shadowTable[slot]} for domain
   * {@code d}, taking the new entry's references through {@code validator} and dropping the old
   * one's.
   *
   * @param switches the era and defect switches ({@link P2mSwitches#shadowDropsRwResult()})
   * @param validator the host's PV validator, wired to its frame table and {@code mmio_ro_ranges}
   * @param d the shadowed domain, which both owns the table and the frames (Xen's {@code d, d})
   * @param shadowTable the shadow L1 table, 512 entries
   * @param slot 0 to 511
   * @param newSl1e the shadow entry {@code _sh_propagate} computed
   * @return 0 if nothing changed, else {@link #SHADOW_SET_CHANGED}, plus {@link #SHADOW_SET_ERROR}
   *     when the entry was refused
   * @throws IllegalArgumentException if the table does not have 512 entries or the slot is outside it
   */
  public static int shadowSetL1e(
      P2mSwitches switches,
      L1eValidator validator,
      Domain d,
      long[] shadowTable,
      int slot,
      long newSl1e) {
    if (shadowTable.length != Pte.ENTRIES_PER_TABLE || slot < 0 || slot >= shadowTable.length) {
      throw new IllegalArgumentException("shadow table of " + shadowTable.length + " entries, slot "
          + slot + " (expected: 512 entries, slot 0 to 511)");
    }
    long old = shadowTable[slot];
    if (old == newSl1e) {
      return 0;
    }
    int flags = 0;
    if (Pte.isPresent(newSl1e)) {
      int rc = validator.getPageFromL1e(newSl1e, d, d);
      if (rc < 0) {
        flags |= SHADOW_SET_ERROR;
        newSl1e = 0;
      } else if (rc != 0 && !switches.shadowDropsRwResult()) {
        newSl1e = Pte.flipFlags(newSl1e, rc & (PAGE_RW | PAGE_CACHE_ATTRS));
      }
      // Seed: Pte.removeFlags(newSl1e, PAGE_RW) was computed and thrown away; the entry is unchanged.
    }
    shadowTable[slot] = newSl1e;
    flags |= SHADOW_SET_CHANGED;
    if (Pte.isPresent(old)) {
      validator.putPageFromL1e(old, d);
    }
    return flags;
  }

  /**
   * The shadow entry Xen derives from a guest entry: the guest's flags through {@link
   * ShadowFlags#shPropagateFlags}, pointing at the frame the p2m gives; 0 for a guest entry that is
   * not present.
   *
   * @param switches the era and defect switches
   * @param guestL1e the guest's entry
   * @param p2mTypeCode the p2m type of the guest frame, in the era's numbering
   * @param targetMfn the machine frame the p2m gives for it
   * @param mmioRoRanges the host's read-only MMIO frames
   * @return the shadow entry
   */
  public static long shPropagate(
      P2mSwitches switches,
      long guestL1e,
      int p2mTypeCode,
      long targetMfn,
      org.hvmmu.rangeset.RangeSet mmioRoRanges) {
    if (!Pte.isPresent(guestL1e)) {
      return 0;
    }
    int sflags = ShadowFlags.shPropagateFlags(
        switches, Pte.getFlags(guestL1e), p2mTypeCode, targetMfn, mmioRoRanges);
    return Pte.fromMfn(targetMfn, sflags);
  }
}
