package org.hvmmu.host;

import java.util.Objects;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.mmu.xen.GuestWalkSwitches;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.pci.msix.MsixSwitches;
import org.hvmmu.x86.pv.PvSwitches;

/**
 * Every behaviour in which the seed (Xen's 2010 patch, b5aadd4248), Xen 4.22 and hvmmu's hardened
 * model differ, as named switches grouped by the part of the hypervisor they belong to. {@link
 * #SEED_2010} is the seed exactly, defects included; {@link #HARDENED} (the default) fixes every
 * defect the reference lists in section 3.6 and adds hvmmu's own fixes; {@link #XEN_4_22} is Xen as
 * released in 4.22, with the defects upstream still has. Combine switches with the withers to see
 * which fix closes which hole; {@code docs/policy.md} documents each one.
 *
 * @param pv the PV L1 validator and its callers ({@link PvSwitches}: Dom0 exemption, cache forcing,
 *     fast path, foreign permission)
 * @param p2m HVM paging ({@link P2mSwitches}: era encodings, superpage rules, global re-type, EPT,
 *     the shadow defect)
 * @param msix MSI-X set-up ({@link MsixSwitches}: table base, registration keying, PBA size,
 *     prepare/release, ownership-aware removal)
 * @param existingMappings when frames become protected ({@link ExistingMappings}): the seed
 *     re-derives the device owner's p2m globally (HVM) and does nothing for PV ("XXX How to deal
 *     with existing mappings?", reference 3.6 row 10); Xen 4.22 leaves every existing mapping as it
 *     is; hardened revokes write access from every existing mapping of those frames in every
 *     domain, through the host's reverse map, touching only those entries
 * @param flushes the TLB flushes Xen issues after changing entries vCPUs may cache ({@link
 *     FlushSwitches}; Xen's in every preset)
 * @param guestWalk Xen's software walk of the guest's page tables, {@code guest_walk_tables}, as the
 *     shadow code's page-fault handler runs it ({@link GuestWalkSwitches}: the seed's missing-flags
 *     walk or today's error-code walk with reserved bits, SMEP, SMAP and protection keys)
 * @param roMmio what a guest's access to a protected page does ({@link RoMmioSwitches}: PV
 *     write emulation for the hardware domain, the MMCFG intercept, HVM emulation of read-only
 *     {@code mmio_direct} stores instead of a crash, msixtbl's era differences)
 */
public record Policy(
    PvSwitches pv,
    P2mSwitches p2m,
    MsixSwitches msix,
    ExistingMappings existingMappings,
    FlushSwitches flushes,
    GuestWalkSwitches guestWalk,
    RoMmioSwitches roMmio) {

  /** The seed exactly. */
  public static final Policy SEED_2010 =
      new Policy(PvSwitches.SEED_2010, P2mSwitches.SEED_2010, MsixSwitches.SEED_2010,
          ExistingMappings.REDERIVE_OWNER_P2M, FlushSwitches.XEN, GuestWalkSwitches.SEED_2010,
          RoMmioSwitches.SEED_2010);

  /** Every defect fixed: the default. */
  public static final Policy HARDENED =
      new Policy(PvSwitches.HARDENED, P2mSwitches.HARDENED, MsixSwitches.HARDENED,
          ExistingMappings.REVOKE, FlushSwitches.XEN, GuestWalkSwitches.HARDENED,
          RoMmioSwitches.HARDENED);

  /**
   * Xen 4.22 (RELEASE-4.22.0) as released: every fix upstream made, and the defects it still has.
   * The PV, p2m and guest-walk switches are {@link #HARDENED}'s, whose values there are all
   * upstream's; the MSI-X switches are {@link MsixSwitches#XEN_4_22} (the PBA sized {@code
   * BITS_TO_LONGS(n)} bytes, release of a real vector, removal that unprotects for everyone); and
   * existing mappings are {@link ExistingMappings#LEAVE}: {@code msix_capability_init} adds the
   * frames to {@code mmio_ro_ranges}, crashes an unprepared domU that owns memory, and still carries
   * the seed's "XXX How to deal with existing mappings?"; the owner's p2m is no longer re-derived
   * (dropped in 4.5, 061eebe0e9).
   */
  public static final Policy XEN_4_22 =
      new Policy(PvSwitches.XEN_4_22, P2mSwitches.XEN_4_22, MsixSwitches.XEN_4_22,
          ExistingMappings.LEAVE, FlushSwitches.XEN_4_22, GuestWalkSwitches.XEN_4_22,
          RoMmioSwitches.XEN_4_22);

  /**
   * Checks the arguments.
   *
   * @param pv the PV switches
   * @param p2m the p2m switches
   * @param msix the MSI-X switches
   * @param existingMappings what happens to existing mappings of newly read-only frames
   * @param flushes the flushes
   * @param guestWalk the guest walk
   * @param roMmio the protected-page access switches
   * @throws NullPointerException if a switch record is null
   */
  public Policy {
    Objects.requireNonNull(pv, "pv");
    Objects.requireNonNull(p2m, "p2m");
    Objects.requireNonNull(msix, "msix");
    Objects.requireNonNull(existingMappings, "existingMappings");
    Objects.requireNonNull(flushes, "flushes");
    Objects.requireNonNull(guestWalk, "guestWalk");
    Objects.requireNonNull(roMmio, "roMmio");
  }

  /**
   * This policy with other PV switches.
   *
   * @param value the new switches
   * @return a new policy
   */
  public Policy withPv(PvSwitches value) {
    return new Policy(value, p2m, msix, existingMappings, flushes, guestWalk, roMmio);
  }

  /**
   * This policy with other p2m switches.
   *
   * @param value the new switches
   * @return a new policy
   */
  public Policy withP2m(P2mSwitches value) {
    return new Policy(pv, value, msix, existingMappings, flushes, guestWalk, roMmio);
  }

  /**
   * This policy with other MSI-X switches.
   *
   * @param value the new switches
   * @return a new policy
   */
  public Policy withMsix(MsixSwitches value) {
    return new Policy(pv, p2m, value, existingMappings, flushes, guestWalk, roMmio);
  }

  /**
   * This policy with {@code existingMappings} replaced.
   *
   * @param value the new value
   * @return a new policy
   */
  public Policy withExistingMappings(ExistingMappings value) {
    return new Policy(pv, p2m, msix, value, flushes, guestWalk, roMmio);
  }

  /**
   * This policy with other flush switches.
   *
   * @param value the new switches
   * @return a new policy
   */
  public Policy withFlushes(FlushSwitches value) {
    return new Policy(pv, p2m, msix, existingMappings, value, guestWalk, roMmio);
  }

  /**
   * This policy with another guest walk.
   *
   * @param value the new switches
   * @return a new policy
   */
  public Policy withGuestWalk(GuestWalkSwitches value) {
    return new Policy(pv, p2m, msix, existingMappings, flushes, value, roMmio);
  }

  /**
   * This policy with other protected-page access switches.
   *
   * @param value the new switches
   * @return a new policy
   */
  public Policy withRoMmio(RoMmioSwitches value) {
    return new Policy(pv, p2m, msix, existingMappings, flushes, guestWalk, value);
  }
}
