package org.hvmmu.x86.pv;

/**
 * Xen's {@code mmio-relax} command-line option (upstream since XSA-154): whether MMIO mappings that
 * are not in {@code mmio_ro_ranges} keep the cache attributes the guest asked for instead of being
 * forced uncached. It never relaxes frames in {@code mmio_ro_ranges}, and has no effect unless
 * cache forcing ({@link PvSwitches#forceUncachedMmio()}) is on.
 */
public enum MmioRelax {
  /** The default: every MMIO mapping is forced uncached. */
  OFF,
  /** {@code mmio-relax} or {@code mmio-relax=1}: the hardware (privileged) domain is relaxed. */
  HARDWARE_DOMAIN,
  /** {@code mmio-relax=all}: every domain is relaxed. */
  ALL
}
