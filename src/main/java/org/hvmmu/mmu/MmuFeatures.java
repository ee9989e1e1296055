package org.hvmmu.mmu;

/**
 * What the modelled processor supports (CPUID and the VMX capability MSRs): the paging features a
 * vCPU checks its control registers and entries against, and the EPT capabilities.
 *
 * @param vendor Intel or AMD
 * @param maxPhyAddr MAXPHYADDR, 32 to 52 (CPUID 0x80000008 EAX[7:0]); bits at or above it are
 *     reserved in paging-structure entries
 * @param nx execute-disable (CPUID 0x80000001 EDX[20])
 * @param gbPages 1-GByte pages (CPUID 0x80000001 EDX[26]); without them PDPTE.PS is reserved
 * @param la57 5-level paging (CPUID 7 ECX[16])
 * @param pcid process-context identifiers (CPUID 1 ECX[17]) and INVPCID
 * @param smep supervisor-mode execution prevention (CPUID 7 EBX[7])
 * @param smap supervisor-mode access prevention (CPUID 7 EBX[20])
 * @param pku protection keys for user pages (CPUID 7 ECX[3])
 * @param pks protection keys for supervisor pages (CPUID 7 ECX[31])
 * @param cet CET shadow stacks (CPUID 7 ECX[7])
 * @param eptExecuteOnly EPT execute-only translations (IA32_VMX_EPT_VPID_CAP bit 0); without it an
 *     EPT entry with R=0, W=0, X=1 is a misconfiguration
 * @param eptMbec mode-based execute control for EPT (secondary controls bit 22): bit 2 allows
 *     supervisor-mode and bit 10 user-mode linear addresses to execute
 * @param eptAccessedDirty EPT accessed and dirty flags (IA32_VMX_EPT_VPID_CAP bit 21)
 * @param eptAdvancedExitInfo advanced VM-exit information for EPT violations (IA32_VMX_EPT_VPID_CAP
 *     bit 22): qualification bits 9-11
 * @param ept1gPages 1-GByte EPT pages (IA32_VMX_EPT_VPID_CAP bit 17)
 * @param ept5Level 5-level EPT (IA32_VMX_EPT_VPID_CAP bit 7)
 */
public record MmuFeatures(
    Vendor vendor,
    int maxPhyAddr,
    boolean nx,
    boolean gbPages,
    boolean la57,
    boolean pcid,
    boolean smep,
    boolean smap,
    boolean pku,
    boolean pks,
    boolean cet,
    boolean eptExecuteOnly,
    boolean eptMbec,
    boolean eptAccessedDirty,
    boolean eptAdvancedExitInfo,
    boolean ept1gPages,
    boolean ept5Level) {

  /**
   * Checks the arguments.
   *
   * @param vendor the {@code vendor} component
   * @param maxPhyAddr the {@code maxPhyAddr} component
   * @param nx the {@code nx} component
   * @param gbPages the {@code gbPages} component
   * @param la57 the {@code la57} component
   * @param pcid the {@code pcid} component
   * @param smep the {@code smep} component
   * @param smap the {@code smap} component
   * @param pku the {@code pku} component
   * @param pks the {@code pks} component
   * @param cet the {@code cet} component
   * @param eptExecuteOnly the {@code eptExecuteOnly} component
   * @param eptMbec the {@code eptMbec} component
   * @param eptAccessedDirty the {@code eptAccessedDirty} component
   * @param eptAdvancedExitInfo the {@code eptAdvancedExitInfo} component
   * @param ept1gPages the {@code ept1gPages} component
   * @param ept5Level the {@code ept5Level} component
   * @throws IllegalArgumentException if the vendor is null or MAXPHYADDR is out of range
   */
  public MmuFeatures {
    if (vendor == null) {
      throw new IllegalArgumentException("vendor: null");
    }
    if (maxPhyAddr < 32 || maxPhyAddr > 52) {
      throw new IllegalArgumentException("maxPhyAddr: " + maxPhyAddr + " (expected: 32 to 52)");
    }
  }

  /**
   * An Intel processor with every feature, and the given MAXPHYADDR.
   *
   * @param maxPhyAddr MAXPHYADDR
   * @return the features
   */
  public static MmuFeatures intel(int maxPhyAddr) {
    return new MmuFeatures(Vendor.INTEL, maxPhyAddr, true, true, true, true, true, true, true, true,
        true, true, true, true, true, true, true);
  }

  /**
   * An AMD processor with every feature AMD has (no PKS, no EPT), and the given MAXPHYADDR.
   *
   * @param maxPhyAddr MAXPHYADDR
   * @return the features
   */
  public static MmuFeatures amd(int maxPhyAddr) {
    return new MmuFeatures(Vendor.AMD, maxPhyAddr, true, true, true, true, true, true, true, false,
        true, false, false, false, false, false, false);
  }

  /**
   * These features with another MAXPHYADDR.
   *
   * @param bits MAXPHYADDR
   * @return the features
   */
  public MmuFeatures withMaxPhyAddr(int bits) {
    return new MmuFeatures(vendor, bits, nx, gbPages, la57, pcid, smep, smap, pku, pks, cet,
        eptExecuteOnly, eptMbec, eptAccessedDirty, eptAdvancedExitInfo, ept1gPages, ept5Level);
  }

  /**
   * These features with or without 1-GByte pages.
   *
   * @param enabled whether 1-GByte pages are supported
   * @return the features
   */
  public MmuFeatures withGbPages(boolean enabled) {
    return new MmuFeatures(vendor, maxPhyAddr, nx, enabled, la57, pcid, smep, smap, pku, pks, cet,
        eptExecuteOnly, eptMbec, eptAccessedDirty, eptAdvancedExitInfo, ept1gPages, ept5Level);
  }

  /**
   * These features with the EPT capabilities given.
   *
   * @param executeOnly execute-only translations
   * @param mbec mode-based execute control
   * @param accessedDirty accessed and dirty flags
   * @param advancedExitInfo advanced VM-exit information
   * @return the features
   */
  public MmuFeatures withEpt(
      boolean executeOnly, boolean mbec, boolean accessedDirty, boolean advancedExitInfo) {
    return new MmuFeatures(vendor, maxPhyAddr, nx, gbPages, la57, pcid, smep, smap, pku, pks, cet,
        executeOnly, mbec, accessedDirty, advancedExitInfo, ept1gPages, ept5Level);
  }
}
