package org.hvmmu.x86.pv;

/**
 * The TLB flushes the PV MMU asks for, implemented by the host that owns the vCPUs: Xen's {@code
 * flush_tlb_mask} and {@code flush_tlb_one_mask} over a set of one domain's vCPUs. The PV MMU calls
 * it for the guest's own requests ({@code MMUEXT_TLB_FLUSH_*}, {@code MMUEXT_INVLPG_*}, the {@code
 * UVMF_*} flags of {@code update_va_mapping}, the CR3 load of {@code MMUEXT_NEW_BASEPTR}) and for
 * the flushes Xen issues itself when it changes what the guest's tables map (see {@link PvMmu}).
 *
 * <p>A vCPU set is a bit mask of vCPU ids ({@link PvVcpu#id()}, bit {@code i} for vCPU {@code i}),
 * never empty when called; "local" is the calling vCPU's bit alone. Every flush covers global
 * translations too: Xen flushes with {@code do_tlb_flush} (CR4.PGE toggled, or {@code INVPCID}
 * all-context) and a PV guest's user mappings are global. Paging-structure caches go with the
 * translations, as on hardware.
 *
 * <p>Called on the thread of the operation that needs the flush, after the entries changed and
 * before the operation returns; a table's page lock may be held (a validation that fails inside
 * {@code mod_lN_entry} releases tables while the table being changed is locked), so implementations
 * must be quick and must not call back into the MMU. Implementations decide what "dirty" means: the
 * model passes every vCPU of the domain where Xen passes {@code d->dirty_cpumask}.
 *
 * <pre>{@code
 * mmu.setTlbFlush(new PvTlbFlush() {
 *   public void flushTlbMask(Domain d, long vcpus) { for each set bit: vcpu(d, bit).flushAll(); }
 *   public void flushTlbOneMask(Domain d, long vcpus, long va) { ... vcpu.invlpg(va) ... }
 * });
 * }</pre>
 */
public interface PvTlbFlush {
  /** Flushes nothing: the MMU's default. */
  PvTlbFlush NONE =
      new PvTlbFlush() {
        @Override
        public void flushTlbMask(Domain d, long vcpuMask) {}

        @Override
        public void flushTlbOneMask(Domain d, long vcpuMask, long linearAddress) {}
      };

  /**
   * Xen's {@code flush_tlb_mask}: every translation, global ones included, on vCPUs {@code
   * vcpuMask} of {@code d}.
   *
   * @param d the domain
   * @param vcpuMask bit {@code i} for vCPU {@code i}; not 0
   */
  void flushTlbMask(Domain d, long vcpuMask);

  /**
   * Xen's {@code flush_tlb_one_mask}: the translations of {@code linearAddress} (as {@code INVLPG}
   * removes them, global ones included) on vCPUs {@code vcpuMask} of {@code d}.
   *
   * @param d the domain
   * @param vcpuMask bit {@code i} for vCPU {@code i}; not 0
   * @param linearAddress the address, as the guest gave it
   */
  void flushTlbOneMask(Domain d, long vcpuMask, long linearAddress);
}
