package org.hvmmu.mmu;

/**
 * Bits of x86 paging-structure entries (Intel SDM vol. 3A tables 4-4 to 4-20; AMD APM vol. 2 §5.3)
 * and of EPT entries (SDM vol. 3C tables 28-1 to 28-11), as the hardware walkers read them.
 */
public final class PageEntry {
  private PageEntry() {}

  /** P, bit 0. */
  public static final long P = 1L;

  /** R/W, bit 1. */
  public static final long RW = 1L << 1;

  /** U/S, bit 2. */
  public static final long US = 1L << 2;

  /** PWT, bit 3. */
  public static final long PWT = 1L << 3;

  /** PCD, bit 4. */
  public static final long PCD = 1L << 4;

  /** A, bit 5: accessed. */
  public static final long A = 1L << 5;

  /** D, bit 6: dirty (leaf entries). */
  public static final long D = 1L << 6;

  /** PS, bit 7: the entry maps a page (PDE, PDPTE); reserved in PML4Es and PML5Es. */
  public static final long PS = 1L << 7;

  /** G, bit 8: global (leaf entries with CR4.PGE). */
  public static final long G = 1L << 8;

  /** PAT bit of a 2-MByte, 4-MByte or 1-GByte page, bit 12. */
  public static final long LARGE_PAT = 1L << 12;

  /** XD, bit 63: execute-disable (with EFER.NXE; reserved without it). */
  public static final long XD = 1L << 63;

  /** Bits 62:59: the protection key of a leaf entry in IA-32e paging. */
  public static final int KEY_SHIFT = 59;

  /** EPT bit 0: reads allowed. */
  public static final long EPT_R = 1L;

  /** EPT bit 1: writes allowed. */
  public static final long EPT_W = 1L << 1;

  /** EPT bit 2: instruction fetches allowed (supervisor-mode linear addresses with MBEC). */
  public static final long EPT_X = 1L << 2;

  /** EPT bits 5:3 of a leaf: the memory type (0 UC, 1 WC, 4 WT, 5 WP, 6 WB; 2, 3, 7 reserved). */
  public static final long EPT_MEMORY_TYPE_MASK = 0x38L;

  /** Shift of {@link #EPT_MEMORY_TYPE_MASK}. */
  public static final int EPT_MEMORY_TYPE_SHIFT = 3;

  /** EPT bit 6 of a leaf: ignore the guest PAT. */
  public static final long EPT_IGNORE_PAT = 1L << 6;

  /** EPT bit 7: the entry maps a page (levels 2 and 3). */
  public static final long EPT_PS = 1L << 7;

  /** EPT bit 8: accessed (with EPT A/D enabled). */
  public static final long EPT_A = 1L << 8;

  /** EPT bit 9: dirty (leaf, with EPT A/D enabled). */
  public static final long EPT_D = 1L << 9;

  /** EPT bit 10: user-mode linear addresses may execute (with mode-based execute control). */
  public static final long EPT_XU = 1L << 10;

  /** EPT bit 63: suppress #VE. */
  public static final long EPT_SUPPRESS_VE = 1L << 63;
}
