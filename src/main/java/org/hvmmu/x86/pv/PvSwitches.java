package org.hvmmu.x86.pv;

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
 *     software bits, G, D, A and U/S is unchanged. True is upstream's behaviour.
 * @param l1eOwnerNeedsIomemPermission upstream also requires the domain whose table receives a
 *     foreign MMIO mapping to have I/O memory permission for the frame; the seed checks only the page
 *     owner. True is upstream's behaviour.
 */
public record PvSwitches(
    boolean privilegedExemption,
    boolean forceUncachedMmio,
    MmioRelax mmioRelax,
    boolean fastPathComparesCacheBits,
    boolean l1eOwnerNeedsIomemPermission) {

  /** The seed exactly. */
  public static final PvSwitches SEED_2010 =
      new PvSwitches(true, false, MmioRelax.OFF, false, false);

  /** Upstream Xen's behaviour: no exemption, uncached MMIO, strict fast path. */
  public static final PvSwitches HARDENED =
      new PvSwitches(false, true, MmioRelax.OFF, true, true);

  /**
   * Checks the arguments.
   *
   * @param privilegedExemption the seed's Dom0 exemption
   * @param forceUncachedMmio upstream's cache forcing of MMIO
   * @param mmioRelax upstream's {@code mmio-relax} option
   * @param fastPathComparesCacheBits upstream's stricter {@code mod_l1_entry} fast path
   * @param l1eOwnerNeedsIomemPermission upstream's permission check of the receiving domain
   * @throws NullPointerException if {@code mmioRelax} is null
   */
  public PvSwitches {
    java.util.Objects.requireNonNull(mmioRelax, "mmioRelax");
  }

  /**
   * This record with {@code privilegedExemption} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withPrivilegedExemption(boolean value) {
    return new PvSwitches(value, forceUncachedMmio, mmioRelax, fastPathComparesCacheBits,
        l1eOwnerNeedsIomemPermission);
  }

  /**
   * This record with {@code forceUncachedMmio} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withForceUncachedMmio(boolean value) {
    return new PvSwitches(privilegedExemption, value, mmioRelax, fastPathComparesCacheBits,
        l1eOwnerNeedsIomemPermission);
  }

  /**
   * This record with {@code mmioRelax} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withMmioRelax(MmioRelax value) {
    return new PvSwitches(privilegedExemption, forceUncachedMmio, value, fastPathComparesCacheBits,
        l1eOwnerNeedsIomemPermission);
  }

  /**
   * This record with {@code fastPathComparesCacheBits} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withFastPathComparesCacheBits(boolean value) {
    return new PvSwitches(privilegedExemption, forceUncachedMmio, mmioRelax, value,
        l1eOwnerNeedsIomemPermission);
  }

  /**
   * This record with {@code l1eOwnerNeedsIomemPermission} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public PvSwitches withL1eOwnerNeedsIomemPermission(boolean value) {
    return new PvSwitches(privilegedExemption, forceUncachedMmio, mmioRelax,
        fastPathComparesCacheBits, value);
  }
}
