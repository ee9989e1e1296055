package org.hvmmu.host;

/**
 * What a host does with mappings that already exist when frames become read-only ({@link
 * Policy#existingMappings()}): the three eras differ, so each is a value, never a scattered test.
 */
public enum ExistingMappings {
  /**
   * The seed (2010): the device owner's p2m is re-derived ({@code
   * p2m_change_entry_type_global(mmio_direct, mmio_direct)}, so an HVM owner's leaves of the frames
   * become read-only); PV and shadow mappings keep write access ("XXX How to deal with existing
   * mappings?", reference 3.6 rows 10 and 11).
   */
  REDERIVE_OWNER_P2M,

  /**
   * Xen 4.5 to 4.22: nothing at all. {@code msix_capability_init} adds the frames to {@code
   * mmio_ro_ranges} and still carries the "XXX"; the re-derivation was dropped in 4.5 (061eebe0e9),
   * so every mapping made before, PV or HVM, keeps write access; only new ones are read-only.
   */
  LEAVE,

  /**
   * Hardened: every mapping the host's reverse map lists for the frames (PV L1 entries, p2m leaves,
   * shadow L1 entries) loses write access, followed by Xen's flush; the cost is proportional to
   * those mappings, not to the guests' size.
   */
  REVOKE
}
