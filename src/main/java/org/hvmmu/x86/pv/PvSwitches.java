package org.hvmmu.x86.pv;

import java.util.Objects;

/**
 * The behaviours in which the seed (Xen 2010, changeset b5aadd4248) and upstream Xen differ for PV
 * page tables, one named switch each. {@link #SEED_2010} reproduces the seed, defects included;
 * {@link #HARDENED} applies every fix upstream made since. Mix them to see which fix closes which
 * hole.
 *
 * @param privilegedExemption the seed lets a privileged page owner ({@code IS_PRIV(pg_owner)}, Dom0)
 *     map {@code mmio_ro_ranges} frames writable; upstream removed this in 2012 (271ca5bea6,
 *     reference section 3.6 row 8). True is the seed's behaviour.
 * @param forceUncachedMmio upstream since XSA-154 (c61a6f74f8, 2016) also forces MMIO mappings
 *     uncached: write-back, write-through and write-protect entries get PCD/PWT/PAT flipped to UC
 *     (reference section 4.3 step 6); the seed only clears R/W. True is upstream's behaviour.
 * @param mmioRelax upstream's {@code mmio-relax} option, consulted only when {@code
 *     forceUncachedMmio} is on
 * @param fastPathComparesCacheBits the seed's {@code mod_l1_entry} fast path skips validation when
 *     the frame, P and R/W are unchanged, so a rewrite of a forced-uncached entry as write-back would
 *     keep write-back; upstream (XSA-182) takes the fast path only when every flag except NX, the
 *     software bits, G, D, A and U/S is unchanged. The same switch governs {@code mod_l2_entry} to
 *     {@code mod_l4_entry}: the seed's fast path there compares the frame and P only, so a guest can
 *     turn a read-only linear entry writable without re-validation and write its own page tables
 *     (the heart of XSA-182); upstream compares every flag outside the same whitelist. True is
 *     upstream's behaviour.
 * @param l1eOwnerNeedsIomemPermission upstream also requires the domain whose table receives a
 *     foreign MMIO mapping to have I/O memory permission for the frame; the seed checks only the page
 *     owner. True is upstream's behaviour.
 * @param linearPageTables the linear page-table rule of L2, L3 and L4 entries. The seed allows
 *     chains of any length ({@link LinearPageTables#UNRESTRICTED}, XSA-240). {@link #HARDENED}
 *     takes {@link LinearPageTables#SINGLE_LEVEL}, upstream's default: it closes XSA-240 (bounded
 *     teardown, no cross-domain same-level links) while guests that rely on linear tables (NetBSD,
 *     NetWare) keep running, and, with {@code fastPathComparesCacheBits} (XSA-182), no linear entry
 *     can ever become writable. {@link LinearPageTables#DISABLED} ({@code pv-linear-pt=0}) is the
 *     stricter deployment option for hosts without such guests; it fixes no further defect of the
 *     model, so it is not the default.
 * @param flushAfterHigherLevelUpdate upstream since XSA-286 (16a20963b3, 2020) flushes the TLBs of
 *     every vCPU of the table's owner after a successful {@code mmu_update} of an L2, L3 or L4
 *     entry (Xen's own linear-map accesses must not use stale paging-structure caches); the seed
 *     leaves all flushing of such updates to the guest. True is upstream's behaviour.
 * @param compatL3LinearPageTables the seed lets a 32-on-64 guest's L3 entries be linear (read-only
 *     entries naming an L3 table, or the table itself) like a 64-bit guest's; Xen then adds R/W
 *     (and U/S) to every such L3 entry ({@code adjust_guest_l3e}), after validating it (the seed's
 *     order), so the guest gets a writable window on its own page tables and maps whatever it likes
 *     (XSA-185, CVE-2016-7092; c844d637d9, 2016, refuses them). True is the seed's behaviour.
 * @param compatL3UpdateRechecksSlot3 the seed's {@code mod_l3_entry} re-runs {@code
 *     create_pae_xen_mappings} after every validated change of a 32-on-64 guest's L3 and {@code
 *     BUG()}s when the L2 in slot 3 holds a type reference besides that slot's, which a linear
 *     entry of another L2 naming it adds: the guest crashes the host ({@link
 *     org.hvmmu.xen.HypervisorBugException} in the model). Upstream dropped the re-check in 2020
 *     (a4cde0266d). True is the seed's behaviour.
 */
public record PvSwitches(
    boolean privilegedExemption,
    boolean forceUncachedMmio,
    MmioRelax mmioRelax,
    boolean fastPathComparesCacheBits,
    boolean l1eOwnerNeedsIomemPermission,
    LinearPageTables linearPageTables,
    boolean flushAfterHigherLevelUpdate,
    boolean compatL3LinearPageTables,
    boolean compatL3UpdateRechecksSlot3) {

  /** The seed exactly. */
  public static final PvSwitches SEED_2010 =
      new PvSwitches(true, false, MmioRelax.OFF, false, false, LinearPageTables.UNRESTRICTED, false,
          true, true);

  /**
   * Upstream Xen's behaviour: no exemption, uncached MMIO, strict fast path, single-level linear
   * page tables, flushes after higher-level updates, no linear L3 entries and no slot-3 re-check
   * for 32-on-64 guests.
   */
  public static final PvSwitches HARDENED =
      new PvSwitches(false, true, MmioRelax.OFF, true, true, LinearPageTables.SINGLE_LEVEL, true,
          false, false);

  /**
   * Xen 4.22 (RELEASE-4.22.0, {@code xen/arch/x86/mm.c}): {@link #HARDENED}, whose PV switches are
   * all upstream's. No exemption in {@code get_page_from_l1e} (271ca5bea6); WB, WT and WP MMIO
   * forced to UC (XSA-154); {@code mmio-relax} off unless given; {@code FASTPATH_FLAG_WHITELIST} on
   * every level (XSA-182); both owners need {@code iomem_access_permitted}; {@code pv-linear-pt} on
   * with {@code linear_pt_count} (XSA-240); {@code flush_linear_pt} after L2 to L4 updates
   * (XSA-286); {@code get_page_from_l3e} refuses linear L3 entries of 32-bit guests (XSA-185); and
   * {@code mod_l3_entry} no longer re-runs the slot-3 check (a4cde0266d).
   */
  public static final PvSwitches XEN_4_22 = HARDENED;

  /**
   * Checks the arguments.
   *
   * @param privilegedExemption the seed's Dom0 exemption
   * @param forceUncachedMmio upstream's cache forcing of MMIO
   * @param mmioRelax upstream's {@code mmio-relax} option
   * @param fastPathComparesCacheBits upstream's stricter {@code mod_l1_entry} fast path
   * @param l1eOwnerNeedsIomemPermission upstream's permission check of the receiving domain
   * @param linearPageTables the linear page-table rule
   * @param flushAfterHigherLevelUpdate upstream's flush after L2 to L4 updates (XSA-286)
   * @param compatL3LinearPageTables the seed's linear L3 entries of 32-on-64 guests (XSA-185)
   * @param compatL3UpdateRechecksSlot3 the seed's slot-3 re-check (and {@code BUG()}) in {@code
   *     mod_l3_entry} of 32-on-64 guests
   * @throws NullPointerException if {@code mmioRelax} or {@code linearPageTables} is null
   */
  public PvSwitches {
    Objects.requireNonNull(mmioRelax, "mmioRelax");
    Objects.requireNonNull(linearPageTables, "linearPageTables");
  }

  /**
   * The switches as they were before 32-on-64 guests had L2 and L3 tables: the two compat switches
   * take upstream's values ({@code compatL3LinearPageTables} and {@code
   * compatL3UpdateRechecksSlot3} false).
   *
   * @param privilegedExemption the seed's Dom0 exemption
   * @param forceUncachedMmio upstream's cache forcing of MMIO
   * @param mmioRelax upstream's {@code mmio-relax} option
   * @param fastPathComparesCacheBits upstream's stricter {@code mod_l1_entry} fast path
   * @param l1eOwnerNeedsIomemPermission upstream's permission check of the receiving domain
   * @param linearPageTables the linear page-table rule
   * @param flushAfterHigherLevelUpdate upstream's flush after L2 to L4 updates (XSA-286)
   * @throws NullPointerException if {@code mmioRelax} or {@code linearPageTables} is null
   */
  public PvSwitches(
      boolean privilegedExemption,
      boolean forceUncachedMmio,
      MmioRelax mmioRelax,
      boolean fastPathComparesCacheBits,
      boolean l1eOwnerNeedsIomemPermission,
      LinearPageTables linearPageTables,
      boolean flushAfterHigherLevelUpdate) {
    this(privilegedExemption, forceUncachedMmio, mmioRelax, fastPathComparesCacheBits,
        l1eOwnerNeedsIomemPermission, linearPageTables, flushAfterHigherLevelUpdate, false, false);
  }

  /**
   * This record with {@code privilegedExemption} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withPrivilegedExemption(boolean value) {
    return new PvSwitches(value, forceUncachedMmio, mmioRelax, fastPathComparesCacheBits,
        l1eOwnerNeedsIomemPermission, linearPageTables, flushAfterHigherLevelUpdate,
        compatL3LinearPageTables, compatL3UpdateRechecksSlot3);
  }

  /**
   * This record with {@code forceUncachedMmio} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withForceUncachedMmio(boolean value) {
    return new PvSwitches(privilegedExemption, value, mmioRelax, fastPathComparesCacheBits,
        l1eOwnerNeedsIomemPermission, linearPageTables, flushAfterHigherLevelUpdate,
        compatL3LinearPageTables, compatL3UpdateRechecksSlot3);
  }

  /**
   * This record with {@code mmioRelax} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withMmioRelax(MmioRelax value) {
    return new PvSwitches(privilegedExemption, forceUncachedMmio, value, fastPathComparesCacheBits,
        l1eOwnerNeedsIomemPermission, linearPageTables, flushAfterHigherLevelUpdate,
        compatL3LinearPageTables, compatL3UpdateRechecksSlot3);
  }

  /**
   * This record with {@code fastPathComparesCacheBits} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withFastPathComparesCacheBits(boolean value) {
    return new PvSwitches(privilegedExemption, forceUncachedMmio, mmioRelax, value,
        l1eOwnerNeedsIomemPermission, linearPageTables, flushAfterHigherLevelUpdate,
        compatL3LinearPageTables, compatL3UpdateRechecksSlot3);
  }

  /**
   * This record with {@code l1eOwnerNeedsIomemPermission} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withL1eOwnerNeedsIomemPermission(boolean value) {
    return new PvSwitches(privilegedExemption, forceUncachedMmio, mmioRelax,
        fastPathComparesCacheBits, value, linearPageTables, flushAfterHigherLevelUpdate,
        compatL3LinearPageTables, compatL3UpdateRechecksSlot3);
  }

  /**
   * This record with {@code linearPageTables} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withLinearPageTables(LinearPageTables value) {
    return new PvSwitches(privilegedExemption, forceUncachedMmio, mmioRelax,
        fastPathComparesCacheBits, l1eOwnerNeedsIomemPermission, value, flushAfterHigherLevelUpdate,
        compatL3LinearPageTables, compatL3UpdateRechecksSlot3);
  }

  /**
   * This record with {@code flushAfterHigherLevelUpdate} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withFlushAfterHigherLevelUpdate(boolean value) {
    return new PvSwitches(privilegedExemption, forceUncachedMmio, mmioRelax,
        fastPathComparesCacheBits, l1eOwnerNeedsIomemPermission, linearPageTables, value,
        compatL3LinearPageTables, compatL3UpdateRechecksSlot3);
  }

  /**
   * This record with {@code compatL3LinearPageTables} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withCompatL3LinearPageTables(boolean value) {
    return new PvSwitches(privilegedExemption, forceUncachedMmio, mmioRelax,
        fastPathComparesCacheBits, l1eOwnerNeedsIomemPermission, linearPageTables,
        flushAfterHigherLevelUpdate, value, compatL3UpdateRechecksSlot3);
  }

  /**
   * This record with {@code compatL3UpdateRechecksSlot3} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withCompatL3UpdateRechecksSlot3(boolean value) {
    return new PvSwitches(privilegedExemption, forceUncachedMmio, mmioRelax,
        fastPathComparesCacheBits, l1eOwnerNeedsIomemPermission, linearPageTables,
        flushAfterHigherLevelUpdate, compatL3LinearPageTables, value);
  }
}
