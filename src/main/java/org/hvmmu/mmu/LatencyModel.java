package org.hvmmu.mmu;

/**
 * The cycles each MMU event adds to a vCPU's count, each a named parameter with its source. The
 * figures are for Intel's Golden Cove / Raptor Cove cores (the default {@link TlbConfig}); where no
 * figure for that core was found the nearest one is used and the source says so. Costs add up per
 * access: a first-level TLB hit costs {@link #l1TlbHit}; a second-level hit adds {@link #l2TlbHit};
 * a walk adds {@link #pagingStructureCacheHit} per cache hit, {@link #memoryReference} per entry read
 * (guest and nested), {@link #accessedDirtyUpdate} per A/D write; a fault adds its delivery.
 *
 * @param l1TlbHit a first-level TLB hit: 0, because it is folded into the 5-cycle L1D load-to-use
 *     latency (Chips and Cheese, "Going Armchair Quarterback on Golden Cove's Caches", 2022)
 * @param l2TlbHit the extra cost of a second-level (STLB) hit: 7 cycles, fitted on a Raptor Cove
 *     Xeon Gold 5512U with 4-KByte versus 2-MByte page latency curves (a third-party measurement
 *     guide; 6.9-7.1 cycles)
 * @param pagingStructureCacheHit a paging-structure-cache or nested-TLB hit: 0; no published
 *     figure exists, so a hit is free and its benefit is the memory references it skips
 * @param memoryReference one paging-structure entry read by the walker: 16 cycles, a load hitting
 *     L2 on Raptor Cove (same guide; L1D would be 5, L3 63, DRAM 208 at 2.1 GHz)
 * @param accessedDirtyUpdate one locked A/D update: 19 cycles, the latency of {@code LOCK CMPXCHG
 *     m64, r64} on Alder Lake-P (uops.info)
 * @param pageFaultDelivery delivering a #PF to the guest kernel and returning: 2,687 cycles, Linux
 *     page-fault cost including the handler (Belay et al., "Dune", OSDI 2012, as recalled); weakly
 *     sourced, no hardware-only figure was found
 * @param vmExitEntry one VM exit and the VM entry after it: 1,020 cycles, a KVM CPUID exit round
 *     trip including the handler (S. Christopherson, kvm mailing list, December 2024; CPU not named)
 * @param invlpg one INVLPG, INVPCID, INVVPID or INVEPT of a single address: 260 cycles (I. Molnar,
 *     linux-mm, 2015-06-08, "Re: [PATCH 0/3] TLB flush multiple pages per
 *     IPI v5", {@code __flush_tlb_one()}; CPU not named)
 * @param fullFlush a flush of whole contexts (MOV to CR3, context-wide INV*): 96 cycles for a MOV to
 *     CR3, {@code __flush_tlb()} (same message; refills not included)
 */
public record LatencyModel(
    long l1TlbHit,
    long l2TlbHit,
    long pagingStructureCacheHit,
    long memoryReference,
    long accessedDirtyUpdate,
    long pageFaultDelivery,
    long vmExitEntry,
    long invlpg,
    long fullFlush) {

  /** The figures in the parameter documentation. */
  public static final LatencyModel GOLDEN_COVE =
      new LatencyModel(0, 7, 0, 16, 19, 2_687, 1_020, 260, 96);

  /** Every cost 0: counters without cycles. */
  public static final LatencyModel FREE = new LatencyModel(0, 0, 0, 0, 0, 0, 0, 0, 0);

  /**
   * Checks that no cost is negative.
   *
   * @param l1TlbHit the {@code l1TlbHit} component
   * @param l2TlbHit the {@code l2TlbHit} component
   * @param pagingStructureCacheHit the {@code pagingStructureCacheHit} component
   * @param memoryReference the {@code memoryReference} component
   * @param accessedDirtyUpdate the {@code accessedDirtyUpdate} component
   * @param pageFaultDelivery the {@code pageFaultDelivery} component
   * @param vmExitEntry the {@code vmExitEntry} component
   * @param invlpg the {@code invlpg} component
   * @param fullFlush the {@code fullFlush} component
   * @throws IllegalArgumentException if one is
   */
  public LatencyModel {
    if (l1TlbHit < 0 || l2TlbHit < 0 || pagingStructureCacheHit < 0 || memoryReference < 0
        || accessedDirtyUpdate < 0 || pageFaultDelivery < 0 || vmExitEntry < 0 || invlpg < 0
        || fullFlush < 0) {
      throw new IllegalArgumentException("latencies must not be negative: " + this);
    }
  }
}
