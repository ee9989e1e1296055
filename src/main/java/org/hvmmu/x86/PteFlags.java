package org.hvmmu.x86;

/**
 * The flag bits of an x86-64 page-table entry in Xen's 24-bit packed form, named after Xen's
 * {@code _PAGE_*} macros without the leading underscore.
 *
 * <p>Xen keeps a PTE's flags as one {@code int}: bits 11:0 are PTE bits 11:0 and bits 23:12 are PTE
 * bits 63:52 ({@code xen/arch/x86/include/asm/x86_64/page.h}, {@code get_pte_flags}). So the low
 * constants here equal the hardware bits, and the high ones ({@link #PAGE_NX_BIT}, {@link
 * #PAGE_GNTTAB}, {@link #PAGE_GUEST_KERNEL}) are PTE bits 63, 62 and 52 shifted down by 40. {@link
 * Pte#getFlags(long)} and {@link Pte#putFlags(int)} convert. Hardware meanings are from the Intel SDM
 * vol. 3A, table 4-19 (a 4-KByte page).
 *
 * <pre>
 *  packed:  23 22 21..13  12 | 11..9  8  7   6  5  4   3   2  1  0
 *  PTE bit: 63 62 61..53  52 | 11..9  8  7   6  5  4   3   2  1  0
 *           NX GT  avail  GK | AVAIL  G PAT  D  A PCD PWT US RW P
 * </pre>
 */
public final class PteFlags {
  /** P, bit 0: the entry maps a page. */
  public static final int PAGE_PRESENT = 0x001;

  /** R/W, bit 1: writes are allowed. */
  public static final int PAGE_RW = 0x002;

  /** U/S, bit 2: user-mode accesses are allowed. */
  public static final int PAGE_USER = 0x004;

  /** PWT, bit 3: page-level write-through; bit 0 of the PAT index. */
  public static final int PAGE_PWT = 0x008;

  /** PCD, bit 4: page-level cache disable; bit 1 of the PAT index. */
  public static final int PAGE_PCD = 0x010;

  /** A, bit 5: accessed. */
  public static final int PAGE_ACCESSED = 0x020;

  /** D, bit 6: dirty. */
  public static final int PAGE_DIRTY = 0x040;

  /** PAT, bit 7 of a 4-KByte entry: bit 2 of the PAT index. */
  public static final int PAGE_PAT = 0x080;

  /** PS, bit 7 of a directory entry: the entry maps a superpage. Same bit as {@link #PAGE_PAT}. */
  public static final int PAGE_PSE = 0x080;

  /** G, bit 8: global translation. */
  public static final int PAGE_GLOBAL = 0x100;

  /** Software-available bit 9. */
  public static final int PAGE_AVAIL0 = 0x200;

  /** Software-available bit 10. */
  public static final int PAGE_AVAIL1 = 0x400;

  /** Software-available bit 11. */
  public static final int PAGE_AVAIL2 = 0x800;

  /** The three low software-available bits, 11:9. */
  public static final int PAGE_AVAIL = 0xE00;

  /** PAT bit of a superpage entry, bit 12 (shares the position of the MFN's lowest bit). */
  public static final int PAGE_PSE_PAT = 0x1000;

  /**
   * Packed bit 12 (PTE bit 52): Xen's software marker of a guest-kernel mapping, since a 64-bit PV
   * guest kernel runs in ring 3 and so sets U/S on its own pages too.
   */
  public static final int PAGE_GUEST_KERNEL = 1 << 12;

  /** Packed bits 22:12 (PTE bits 62:52): the high software-available bits. */
  public static final int PAGE_AVAIL_HIGH = 0x7FF << 12;

  /** Packed bit 22 (PTE bit 62): Xen's software marker of a grant mapping. */
  public static final int PAGE_GNTTAB = 1 << 22;

  /** Packed bit 23 (PTE bit 63): XD/NX, execute disable. */
  public static final int PAGE_NX_BIT = 1 << 23;

  /** The three bits that form the PAT index of a 4-KByte entry: PAT, PCD, PWT. */
  public static final int PAGE_CACHE_ATTRS = PAGE_PAT | PAGE_PCD | PAGE_PWT;

  /** All 24 packed flag bits. */
  public static final int ALL = 0xFF_FFFF;

  private PteFlags() {}

  /**
   * The PAT index (0 to 7) that a 4-KByte entry's flags select: PAT is bit 2, PCD bit 1, PWT bit 0
   * (SDM vol. 3A, 12.12.3; Xen's {@code pte_flags_to_cacheattr}).
   *
   * @param flags packed flags
   * @return the PAT index
   */
  public static int patIndex(int flags) {
    return ((flags >>> 5) & 4) | ((flags >>> 3) & 3);
  }

  /**
   * The cache-attribute flags (PAT, PCD, PWT) that select PAT index {@code index}; the inverse of
   * {@link #patIndex(int)}.
   *
   * @param index a PAT index, 0 to 7
   * @return the flags
   * @throws IllegalArgumentException if {@code index} is outside 0 to 7
   */
  public static int cacheAttrFlags(int index) {
    if ((index & ~7) != 0) {
      throw new IllegalArgumentException("PAT index: " + index + " (expected: 0 to 7)");
    }
    return ((index & 4) << 5) | ((index & 3) << 3);
  }
}
