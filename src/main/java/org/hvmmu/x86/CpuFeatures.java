package org.hvmmu.x86;

/**
 * The processor features the modelled hypervisor consults, passed in rather than read from a global
 * (Xen reads {@code cpu_has_nx} and the VMX capability MSRs).
 *
 * @param nx the processor supports execute-disable (PTE bit 63); without it Xen disallows the bit in
 *     PV entries
 */
public record CpuFeatures(boolean nx) {
  /** Every feature present: the usual modern host. */
  public static final CpuFeatures ALL = new CpuFeatures(true);
}
