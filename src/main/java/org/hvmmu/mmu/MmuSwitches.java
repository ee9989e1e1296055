package org.hvmmu.mmu;

/**
 * Where the sources let processors differ, one named switch each. {@link #DEFAULT} is the model of an
 * Intel processor that keeps everything the SDM lets it keep; {@link #AMD} differs where AMD
 * processors do; {@link #EMULATOR} behaves like QEMU's and Bochs' software TLBs.
 *
 * @param accessedOnFault which entries of a walk that faults get their accessed flag
 * @param tlbMode what invalidations remove
 * @param pscStyle how walks are shortened
 * @param l4GlobalReserved whether bit 8 (G) of a PML4E or PML5E is reserved: AMD treats it as "must
 *     be zero" (Xen's {@code guest_walk_tables} and kvm-unit-tests {@code svm_npt.c} rely on it);
 *     Intel ignores it
 * @param invlpgKeepsGlobalsWithPcid the Alder Lake / Raptor Lake erratum: INVLPG does not remove
 *     global translations while CR4.PCIDE = 1 (Linux disables PCIDs on those parts, 2023)
 * @param paePdpteBits8To5Reserved whether bits 8:5 of a PAE PDPTE are reserved, as the SDM says (vol.
 *     3A table 4-8; a present PDPTE with one set makes the MOV to CR3 #GP); false tolerates them as
 *     QEMU's TCG does, which sets bit 5, the accessed flag, in PDPTEs it walks (QEMU 7.2
 *     {@code target/i386/tcg/sysemu/excp_helper.c}), so that PAE guests dumped from QEMU load
 */
public record MmuSwitches(
    AccessedOnFault accessedOnFault,
    TlbMode tlbMode,
    PscStyle pscStyle,
    boolean l4GlobalReserved,
    boolean invlpgKeepsGlobalsWithPcid,
    boolean paePdpteBits8To5Reserved) {

  /** Intel, strict retention, Intel-style caches, accessed flags only after a successful walk. */
  public static final MmuSwitches DEFAULT = new MmuSwitches(
      AccessedOnFault.SUCCESS_ONLY, TlbMode.STRICT, PscStyle.INTEL_PREFIX, false, false, true);

  /** AMD: the PML4E G bit reserved, a page-walk cache of entries tagged by physical address. */
  public static final MmuSwitches AMD = new MmuSwitches(
      AccessedOnFault.SUCCESS_ONLY, TlbMode.STRICT, PscStyle.AMD_PHYSICAL, true, false, true);

  /** QEMU and Bochs: every invalidation but a single-address one flushes everything. */
  public static final MmuSwitches EMULATOR = new MmuSwitches(
      AccessedOnFault.SUCCESS_ONLY, TlbMode.OVER_FLUSH, PscStyle.INTEL_PREFIX, false, false, true);

  /**
   * Checks the arguments.
   *
   * @param accessedOnFault the {@code accessedOnFault} component
   * @param tlbMode the {@code tlbMode} component
   * @param pscStyle the {@code pscStyle} component
   * @param l4GlobalReserved the {@code l4GlobalReserved} component
   * @param invlpgKeepsGlobalsWithPcid the {@code invlpgKeepsGlobalsWithPcid} component
   * @param paePdpteBits8To5Reserved the {@code paePdpteBits8To5Reserved} component
   * @throws IllegalArgumentException if one is null
   */
  public MmuSwitches {
    if (accessedOnFault == null || tlbMode == null || pscStyle == null) {
      throw new IllegalArgumentException("MmuSwitches: no field may be null");
    }
  }

  /** Which entries a walk that ends in a fault leaves with A = 1. */
  public enum AccessedOnFault {
    /**
     * None: accessed (and dirty) flags are written only after the whole walk succeeded, as Xen's
     * {@code guest_walk_tables} and Bochs do (the default).
     */
    SUCCESS_ONLY,
    /**
     * Every present entry without reserved bits that the walk used, as it goes down, as the SDM
     * allows (Intel SDM vol. 3A §4.8) and QEMU and gem5 do.
     */
    EVERY_LEVEL_USED
  }

  /** What invalidations remove. */
  public enum TlbMode {
    /**
     * Exactly what Intel SDM vol. 3A §4.10.4 and vol. 3C §28.3.3 require and nothing more, so that a
     * guest or hypervisor that misses an invalidation uses a stale translation; a cached translation
     * that denies an access faults without a new walk (the fault then removes it).
     */
    STRICT,
    /**
     * As QEMU and Bochs: an invalidation of one address removes that address in every context;
     * every other invalidating operation removes every cached translation, global ones too; a
     * cached translation that denies an access is walked again before faulting.
     */
    OVER_FLUSH
  }

  /** How paging-structure caches shorten walks. */
  public enum PscStyle {
    /**
     * Intel: PML5E, PML4E, PDPTE and PDE caches keyed by linear-address prefix, so a hit skips the
     * levels above it (Intel SDM vol. 3A §4.10.3).
     */
    INTEL_PREFIX,
    /**
     * AMD: one cache of paging-structure entries tagged by their physical address; every level is
     * still visited, but a hit replaces the memory reference (Barr, Cox and Rixner, ISCA 2010).
     */
    AMD_PHYSICAL,
    /** No paging-structure caches. */
    NONE
  }

  /**
   * These switches with another accessed-flag rule.
   *
   * @param rule the rule
   * @return the switches
   */
  public MmuSwitches withAccessedOnFault(AccessedOnFault rule) {
    return new MmuSwitches(rule, tlbMode, pscStyle, l4GlobalReserved, invlpgKeepsGlobalsWithPcid,
        paePdpteBits8To5Reserved);
  }

  /**
   * These switches with another TLB mode.
   *
   * @param mode the mode
   * @return the switches
   */
  public MmuSwitches withTlbMode(TlbMode mode) {
    return new MmuSwitches(accessedOnFault, mode, pscStyle, l4GlobalReserved,
        invlpgKeepsGlobalsWithPcid, paePdpteBits8To5Reserved);
  }

  /**
   * These switches with another paging-structure-cache style.
   *
   * @param style the style
   * @return the switches
   */
  public MmuSwitches withPscStyle(PscStyle style) {
    return new MmuSwitches(accessedOnFault, tlbMode, style, l4GlobalReserved,
        invlpgKeepsGlobalsWithPcid, paePdpteBits8To5Reserved);
  }

  /**
   * These switches with or without the PML4E G bit reserved.
   *
   * @param reserved whether it is reserved
   * @return the switches
   */
  public MmuSwitches withL4GlobalReserved(boolean reserved) {
    return new MmuSwitches(accessedOnFault, tlbMode, pscStyle, reserved,
        invlpgKeepsGlobalsWithPcid, paePdpteBits8To5Reserved);
  }

  /**
   * These switches with PAE PDPTE bits 8:5 reserved (the SDM) or tolerated (QEMU's TCG).
   *
   * @param reserved whether they are reserved
   * @return the switches
   */
  public MmuSwitches withPaePdpteBits8To5Reserved(boolean reserved) {
    return new MmuSwitches(accessedOnFault, tlbMode, pscStyle, l4GlobalReserved,
        invlpgKeepsGlobalsWithPcid, reserved);
  }

  /**
   * These switches with or without the Alder Lake INVLPG erratum.
   *
   * @param erratum whether INVLPG keeps global translations while PCIDs are on
   * @return the switches
   */
  public MmuSwitches withInvlpgKeepsGlobalsWithPcid(boolean erratum) {
    return new MmuSwitches(accessedOnFault, tlbMode, pscStyle, l4GlobalReserved, erratum,
        paePdpteBits8To5Reserved);
  }
}
