package org.hvmmu.host;

/**
 * The TLB flushes Xen issues after it changes an entry that a vCPU's TLB or paging-structure caches
 * may hold, one named switch each, so that a missing flush can be studied (turn one off and the
 * TLB invariant of {@link HostInvariants} shows what a stale translation lets a guest do).
 *
 * <p>No difference between the seed's Xen, Xen 4.22 and hvmmu's hardened model was found for these
 * flushes: every preset flushes ({@link #XEN}, and {@link #XEN_4_22} is the same). What differs
 * between them is whether Xen changes existing entries at all (the seed and 4.22 leave a PV mapping
 * of a newly protected frame alone); that is {@link Policy#existingMappings()}.
 *
 * @param pvRevalidate after Xen rewrites a PV guest's L1 entry itself (the hardened revocation of a
 *     writable mapping of a now read-only frame), {@code flush_tlb_mask(d->dirty_cpumask)}: every vCPU
 *     of the domain drops every non-global translation
 * @param p2mSync after a p2m change of an HVM domain: EPT's {@code ept_sync_domain} (INVEPT of the
 *     domain's EPTP on every vCPU) or NPT's {@code p2m_tlb_flush} (every vCPU's ASID flushed, the
 *     VMCB's TLB_CONTROL)
 * @param shadowFlush after a shadow entry loses rights or changes frame, {@code
 *     flush_tlb_mask(d->dirty_cpumask)} as the shadow code requests it ({@code sh_flush_vcpus})
 */
public record FlushSwitches(boolean pvRevalidate, boolean p2mSync, boolean shadowFlush) {
  /** Xen's flushes, all of them (every era). */
  public static final FlushSwitches XEN = new FlushSwitches(true, true, true);

  /**
   * Xen 4.22's flushes: {@link #XEN}. {@code ept_sync_domain} and {@code p2m_tlb_flush} follow p2m
   * changes and the shadow code still flushes the domain's dirty CPUs; {@code pvRevalidate} has no
   * occasion under 4.22's policy, which never rewrites a PV entry to revoke it, and stays on for
   * mixes that do. Xen 4.22: {@code ept_sync_domain} in {@code xen/arch/x86/mm/p2m-ept.c}; NPT's
   * flush is {@code p2m_tlb_flush_sync} ({@code xen/arch/x86/mm/p2m.c}) calling {@code
   * hap_p2m_tlb_flush} ({@code xen/arch/x86/mm/hap/hap.c}); the shadow code's is {@code
   * guest_flush_tlb_mask(d, d->dirty_cpumask)} ({@code xen/arch/x86/mm/shadow/common.c}).
   */
  public static final FlushSwitches XEN_4_22 = XEN;

  /** No flush at all: what a hypervisor that forgets them would do. */
  public static final FlushSwitches NONE = new FlushSwitches(false, false, false);

  /**
   * These switches with or without the PV revalidation flush.
   *
   * @param on whether to flush
   * @return the switches
   */
  public FlushSwitches withPvRevalidate(boolean on) {
    return new FlushSwitches(on, p2mSync, shadowFlush);
  }

  /**
   * These switches with or without the p2m synchronisation.
   *
   * @param on whether to flush
   * @return the switches
   */
  public FlushSwitches withP2mSync(boolean on) {
    return new FlushSwitches(pvRevalidate, on, shadowFlush);
  }

  /**
   * These switches with or without the shadow code's flush.
   *
   * @param on whether to flush
   * @return the switches
   */
  public FlushSwitches withShadowFlush(boolean on) {
    return new FlushSwitches(pvRevalidate, p2mSync, on);
  }
}
