package org.hvmmu.mmu;

/**
 * The control-register, EFER, RFLAGS and EPTP bits the MMU reads (Intel SDM vol. 3A §2.5, §4.1; vol.
 * 3C §24.6.11 for the EPTP; AMD APM vol. 2 §3.1).
 */
public final class ControlRegisters {
  private ControlRegisters() {}

  /** CR0.PE, bit 0: protected mode. */
  public static final long CR0_PE = 1L;

  /** CR0.WP, bit 16: supervisor writes honour R/W. */
  public static final long CR0_WP = 1L << 16;

  /** CR0.PG, bit 31: paging. */
  public static final long CR0_PG = 1L << 31;

  /** CR3.PWT, bit 3 (without PCIDs). */
  public static final long CR3_PWT = 1L << 3;

  /** CR3.PCD, bit 4 (without PCIDs). */
  public static final long CR3_PCD = 1L << 4;

  /** CR3 bits 11:0: the PCID when CR4.PCIDE = 1. */
  public static final long CR3_PCID_MASK = 0xFFFL;

  /** Bit 63 of a MOV to CR3 source with CR4.PCIDE = 1: do not invalidate the new PCID. */
  public static final long CR3_NOFLUSH = 1L << 63;

  /** CR4.PSE, bit 4: 4-MByte pages in 32-bit paging. */
  public static final long CR4_PSE = 1L << 4;

  /** CR4.PAE, bit 5: PAE (and 4- and 5-level) paging. */
  public static final long CR4_PAE = 1L << 5;

  /** CR4.PGE, bit 7: global pages. */
  public static final long CR4_PGE = 1L << 7;

  /** CR4.LA57, bit 12: 5-level paging. */
  public static final long CR4_LA57 = 1L << 12;

  /** CR4.PCIDE, bit 17: process-context identifiers. */
  public static final long CR4_PCIDE = 1L << 17;

  /** CR4.SMEP, bit 20: supervisor-mode execution prevention. */
  public static final long CR4_SMEP = 1L << 20;

  /** CR4.SMAP, bit 21: supervisor-mode access prevention. */
  public static final long CR4_SMAP = 1L << 21;

  /** CR4.PKE, bit 22: protection keys for user-mode pages. */
  public static final long CR4_PKE = 1L << 22;

  /** CR4.CET, bit 23: control-flow enforcement (shadow stacks). */
  public static final long CR4_CET = 1L << 23;

  /** CR4.PKS, bit 24: protection keys for supervisor-mode pages. */
  public static final long CR4_PKS = 1L << 24;

  /** EFER.SCE, bit 0. */
  public static final long EFER_SCE = 1L;

  /** EFER.LME, bit 8: long mode enable. */
  public static final long EFER_LME = 1L << 8;

  /** EFER.LMA, bit 10: long mode active. */
  public static final long EFER_LMA = 1L << 10;

  /** EFER.NXE, bit 11: execute-disable enable. */
  public static final long EFER_NXE = 1L << 11;

  /** RFLAGS.AC, bit 18: alignment check / SMAP override. */
  public static final long RFLAGS_AC = 1L << 18;

  /** EPTP bits 2:0: the memory type of the EPT paging structures (0 UC or 6 WB). */
  public static final long EPTP_MEMORY_TYPE_MASK = 0x7L;

  /** EPTP bits 5:3: the EPT page-walk length minus 1 (3 for 4 levels, 4 for 5 levels). */
  public static final long EPTP_WALK_LENGTH_MASK = 0x38L;

  /** Shift of {@link #EPTP_WALK_LENGTH_MASK}. */
  public static final int EPTP_WALK_LENGTH_SHIFT = 3;

  /** EPTP bit 6: enable EPT accessed and dirty flags. */
  public static final long EPTP_ACCESSED_DIRTY = 1L << 6;

  /** EPTP bit 7: enforce access rights for supervisor shadow-stack pages. */
  public static final long EPTP_SUPERVISOR_SHADOW_STACK = 1L << 7;
}
