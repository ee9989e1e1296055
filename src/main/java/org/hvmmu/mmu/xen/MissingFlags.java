package org.hvmmu.mmu.xen;

import org.hvmmu.x86.PteFlags;

/**
 * The seed's (2010) walk result: the page-table flags a walk found missing, in Xen's packed 24-bit
 * flag space ({@link org.hvmmu.x86.Pte#getFlags}), with the sense of NX inverted so that every
 * requirement reads "this bit must be set". 0 means the walk succeeded.
 *
 * <pre>
 *  flag bit:  23                     14            13           2       1      0
 *             NX_BIT (inverted: X)   PAGE_SHARED   PAGE_PAGED   USER    RW     PRESENT
 * </pre>
 *
 * <p>{@link #PAGE_PAGED} and {@link #PAGE_SHARED} are not flags of any entry: the seed's {@code
 * map_domain_gfn} puts them in the result when a table's gfn is paged out or shared. They sit in the
 * flag space of PTE software bits 53 and 54 (packed flag bits 13 and 14), so a result can only be
 * told apart from an entry's flags by knowing that the walk never copies those bits; the 2017
 * rewrite (4c5d78a10d) moved them to {@link Pfec#PAGE_PAGED} and {@link Pfec#PAGE_SHARED}, bits an
 * entry cannot reach.
 */
public final class MissingFlags {
  private MissingFlags() {}

  /** {@code _PAGE_PRESENT}: missing in some entry of the walk (or a table is not RAM); the walk stops. */
  public static final int PAGE_PRESENT = PteFlags.PAGE_PRESENT;

  /** {@code _PAGE_RW}: a write needed R/W in every entry. */
  public static final int PAGE_RW = PteFlags.PAGE_RW;

  /** {@code _PAGE_USER}: a user access needed U/S in every entry. */
  public static final int PAGE_USER = PteFlags.PAGE_USER;

  /** {@code _PAGE_NX_BIT}, inverted: a fetch found NX set in some entry. */
  public static final int PAGE_NX_BIT = PteFlags.PAGE_NX_BIT;

  /** The seed's {@code _PAGE_PAGED} (0x2000, PTE bit 53's packed position): a table is paged out. */
  public static final int PAGE_PAGED = 0x2000;

  /** The seed's {@code _PAGE_SHARED} (0x4000, PTE bit 54's packed position): a table is shared. */
  public static final int PAGE_SHARED = 0x4000;

  /**
   * The seed's 16-entry table, indexed by error-code bits 4:1 (fetch, reserved, user, write): the
   * flags an entry must have, NX inverted. The reserved-bit position does not change the row.
   */
  private static final int[] MANDATORY = new int[16];

  static {
    for (int i = 0; i < MANDATORY.length; i++) {
      MANDATORY[i] = PAGE_PRESENT
          | ((i & 1) != 0 ? PAGE_RW : 0)
          | ((i & 2) != 0 ? PAGE_USER : 0)
          | ((i & 8) != 0 ? PAGE_NX_BIT : 0);
    }
  }

  /**
   * Xen 2010's {@code mandatory_flags}: the flags every entry of a walk must have for an access
   * described by the seed's error code {@code pfec}. A fetch demands NX clear only if the guest
   * supports NX; a supervisor write demands R/W only with CR0.WP (an HVM vCPU). Allocation-free.
   *
   * <pre>{@code
   * MissingFlags.mandatoryFlags(true, true, Pfec.USER_MODE | Pfec.WRITE_ACCESS);  // P|RW|USER = 0x7
   * MissingFlags.mandatoryFlags(true, false, Pfec.WRITE_ACCESS);                  // P = 0x1
   * }</pre>
   *
   * @param guestSupportsNx the seed's {@code guest_supports_nx}: not 2-level paging, the host has
   *     NX, and the guest's EFER.NXE
   * @param wpEnabled the guest's CR0.WP
   * @param pfec the caller's error code (bits 4:1 are used)
   * @return the required flags, NX inverted
   */
  public static int mandatoryFlags(boolean guestSupportsNx, boolean wpEnabled, int pfec) {
    int p = pfec;
    if (!guestSupportsNx) {
      p &= ~Pfec.INSN_FETCH;
    }
    if (!wpEnabled && (p & Pfec.USER_MODE) == 0) {
      p &= ~Pfec.WRITE_ACCESS;
    }
    return MANDATORY[(p & 0x1F) >>> 1];
  }

  /**
   * A missing-flags result in words: for example {@code "P|RW|USER"}, {@code "NX"}, {@code "PAGED"}
   * or {@code "0"}. Allocates.
   *
   * @param missing a result of the seed's walk
   * @return the names of its bits, then any other bits in hex
   */
  public static String describe(int missing) {
    StringBuilder b = new StringBuilder();
    int rest = missing;
    int[] bits = {PAGE_PRESENT, PAGE_RW, PAGE_USER, PAGE_NX_BIT, PAGE_PAGED, PAGE_SHARED};
    String[] names = {"P", "RW", "USER", "NX", "PAGED", "SHARED"};
    for (int i = 0; i < bits.length; i++) {
      if ((missing & bits[i]) != 0) {
        b.append(b.length() == 0 ? "" : "|").append(names[i]);
        rest &= ~bits[i];
      }
    }
    if (rest != 0) {
      b.append(b.length() == 0 ? "" : "|").append("0x").append(Integer.toHexString(rest));
    }
    return b.length() == 0 ? "0" : b.toString();
  }
}
