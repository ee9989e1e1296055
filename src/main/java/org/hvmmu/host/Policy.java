package org.hvmmu.host;

import java.util.Objects;
import org.hvmmu.mmu.xen.GuestWalkSwitches;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.pci.msix.MsixSwitches;
import org.hvmmu.x86.pv.PvSwitches;

/**
 * Every behaviour in which the seed (Xen's 2010 patch, b5aadd4248) and hvmmu's hardened model
 * differ, as named switches grouped by the part of the hypervisor they belong to. {@link #SEED_2010}
 * is the seed exactly, defects included; {@link #HARDENED} (the default) fixes every defect the
 * reference lists in section 3.6 and adds hvmmu's own fixes. Combine switches with the withers to see
 * which fix closes which hole; {@code docs/policy.md} documents each one.
 *
 * @param pv the PV L1 validator and its callers ({@link PvSwitches}: Dom0 exemption, cache forcing,
 *     fast path, foreign permission)
 * @param p2m HVM paging ({@link P2mSwitches}: era encodings, superpage rules, global re-type, EPT,
 *     the shadow defect)
 * @param msix MSI-X set-up ({@link MsixSwitches}: table base, registration keying, PBA size,
 *     prepare/release, ownership-aware removal)
 * @param revokeExistingMappings when frames become protected: the seed re-derives the device owner's
 *     p2m globally (HVM) and does nothing for PV ("XXX How to deal with existing mappings?",
 *     reference 3.6 row 10); true revokes write access from every existing mapping of those frames
 *     in every domain, through the host's reverse map, touching only those entries
 * @param flushes the TLB flushes Xen issues after changing entries vCPUs may cache ({@link
 *     FlushSwitches}; Xen's in both presets)
 * @param guestWalk Xen's software walk of the guest's page tables, {@code guest_walk_tables}, as the
 *     shadow code's page-fault handler runs it ({@link GuestWalkSwitches}: the seed's missing-flags
 *     walk or today's error-code walk with reserved bits, SMEP, SMAP and protection keys)
 */
public record Policy(
    PvSwitches pv,
    P2mSwitches p2m,
    MsixSwitches msix,
    boolean revokeExistingMappings,
    FlushSwitches flushes,
    GuestWalkSwitches guestWalk) {

  /** The seed exactly. */
  public static final Policy SEED_2010 =
      new Policy(PvSwitches.SEED_2010, P2mSwitches.SEED_2010, MsixSwitches.SEED_2010, false,
          FlushSwitches.XEN, GuestWalkSwitches.SEED_2010);

  /** Every defect fixed: the default. */
  public static final Policy HARDENED =
      new Policy(PvSwitches.HARDENED, P2mSwitches.HARDENED, MsixSwitches.HARDENED, true,
          FlushSwitches.XEN, GuestWalkSwitches.HARDENED);

  /**
   * Checks the arguments.
   *
   * @param pv the PV switches
   * @param p2m the p2m switches
   * @param msix the MSI-X switches
   * @param revokeExistingMappings whether existing mappings lose write access
   * @param flushes the flushes
   * @param guestWalk the guest walk
   * @throws NullPointerException if a switch record is null
   */
  public Policy {
    Objects.requireNonNull(pv, "pv");
    Objects.requireNonNull(p2m, "p2m");
    Objects.requireNonNull(msix, "msix");
    Objects.requireNonNull(flushes, "flushes");
    Objects.requireNonNull(guestWalk, "guestWalk");
  }

  /**
   * This policy with other PV switches.
   *
   * @param value the new switches
   * @return a new policy
   */
  public Policy withPv(PvSwitches value) {
    return new Policy(value, p2m, msix, revokeExistingMappings, flushes, guestWalk);
  }

  /**
   * This policy with other p2m switches.
   *
   * @param value the new switches
   * @return a new policy
   */
  public Policy withP2m(P2mSwitches value) {
    return new Policy(pv, value, msix, revokeExistingMappings, flushes, guestWalk);
  }

  /**
   * This policy with other MSI-X switches.
   *
   * @param value the new switches
   * @return a new policy
   */
  public Policy withMsix(MsixSwitches value) {
    return new Policy(pv, p2m, value, revokeExistingMappings, flushes, guestWalk);
  }

  /**
   * This policy with {@code revokeExistingMappings} replaced.
   *
   * @param value the new value
   * @return a new policy
   */
  public Policy withRevokeExistingMappings(boolean value) {
    return new Policy(pv, p2m, msix, value, flushes, guestWalk);
  }

  /**
   * This policy with other flush switches.
   *
   * @param value the new switches
   * @return a new policy
   */
  public Policy withFlushes(FlushSwitches value) {
    return new Policy(pv, p2m, msix, revokeExistingMappings, value, guestWalk);
  }

  /**
   * This policy with another guest walk.
   *
   * @param value the new switches
   * @return a new policy
   */
  public Policy withGuestWalk(GuestWalkSwitches value) {
    return new Policy(pv, p2m, msix, revokeExistingMappings, flushes, value);
  }
}
