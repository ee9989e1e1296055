package org.hvmmu.mmu;

import static org.hvmmu.mmu.ControlRegisters.CR0_PG;
import static org.hvmmu.mmu.ControlRegisters.CR4_LA57;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.hvmmu.mmu.ControlRegisters.EFER_LMA;

/** The paging mode CR0.PG, CR4.PAE, EFER.LMA and CR4.LA57 select (Intel SDM vol. 3A table 4-1). */
public enum PagingMode {
  /** CR0.PG = 0: linear addresses are physical. */
  NONE(0, 0, 32),
  /** 32-bit paging: two levels of 4-byte entries, 4-KByte and (CR4.PSE) 4-MByte pages. */
  LEGACY_32(2, 4, 32),
  /** PAE paging: four PDPTE registers, then two levels of 8-byte entries; 4 KiB and 2 MiB pages. */
  PAE(3, 8, 32),
  /** 4-level paging: 48-bit linear addresses; 4 KiB, 2 MiB and 1 GiB pages. */
  LONG_4(4, 8, 48),
  /** 5-level paging: 57-bit linear addresses. */
  LONG_5(5, 8, 57);

  private final int levels;
  private final int entrySize;
  private final int linearBits;

  PagingMode(int levels, int entrySize, int linearBits) {
    this.levels = levels;
    this.entrySize = entrySize;
    this.linearBits = linearBits;
  }

  /**
   * The paging levels, counting PAE's PDPTE registers as a level.
   *
   * @return 0, 2, 3, 4 or 5
   */
  public int levels() {
    return levels;
  }

  /**
   * The size of a paging-structure entry.
   *
   * @return 4 or 8 bytes (0 without paging)
   */
  public int entrySize() {
    return entrySize;
  }

  /**
   * The width of linear addresses: 32, 48 or 57.
   *
   * @return the number of significant linear-address bits
   */
  public int linearBits() {
    return linearBits;
  }

  /**
   * Whether this is IA-32e paging (4- or 5-level), where canonical checks and protection keys apply.
   *
   * @return true for {@link #LONG_4} and {@link #LONG_5}
   */
  public boolean isLongMode() {
    return levels >= 4;
  }

  /**
   * The mode the registers select.
   *
   * @param cr0 CR0
   * @param cr4 CR4
   * @param efer IA32_EFER
   * @return the paging mode
   */
  public static PagingMode of(long cr0, long cr4, long efer) {
    if ((cr0 & CR0_PG) == 0) {
      return NONE;
    }
    if ((cr4 & CR4_PAE) == 0) {
      return LEGACY_32;
    }
    if ((efer & EFER_LMA) == 0) {
      return PAE;
    }
    return (cr4 & CR4_LA57) != 0 ? LONG_5 : LONG_4;
  }
}
