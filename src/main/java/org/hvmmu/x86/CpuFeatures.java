package org.hvmmu.x86;

/**
 * The processor features the modelled hypervisor consults, passed in rather than read from a global
 * (Xen reads {@code cpu_has_nx} and the VMX capability MSRs).
 *
 * @param nx the processor supports execute-disable (PTE bit 63); without it Xen disallows the bit in
 *     PV entries
 * @param eptAccessedDirty the processor supports EPT accessed and dirty flags (bits 8 and 9 of an EPT
 *     entry; Xen's {@code cpu_has_vmx_ept_ad}, IA32_VMX_EPT_VPID_CAP bit 21)
 * @param eptPagingWrite the processor supports EPT paging-write control (bit 58 of an EPT entry), which
 *     Xen's {@code p2m_access_r_pw} uses
 */
public record CpuFeatures(boolean nx, boolean eptAccessedDirty, boolean eptPagingWrite) {
  /** Every feature present: the usual modern host. */
  public static final CpuFeatures ALL = new CpuFeatures(true, true, true);

  /**
   * Features with only execute-disable chosen; the EPT features are present, as on every processor
   * that has them since 2014.
   *
   * @param nx the processor supports execute-disable
   */
  public CpuFeatures(boolean nx) {
    this(nx, true, true);
  }
}
