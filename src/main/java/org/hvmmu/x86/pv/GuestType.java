package org.hvmmu.x86.pv;

/** How a domain runs, as far as the PV MMU cares. */
public enum GuestType {
  /** A 64-bit PV guest: its L1 entries get Xen's 64-bit adjustment ({@code adjust_guest_l1e}). */
  PV64,
  /**
   * A 32-bit PAE PV guest on a 64-bit Xen ({@code is_pv_32on64_domain}): no entry adjustment, and the
   * PAE half-write fix-up applies to its emulated page-table writes.
   */
  PV32,
  /**
   * A hardware-virtualised guest: its memory is translated ({@code paging_mode_external}), so foreign
   * writable mappings of its pages by another domain take no type reference.
   */
  HVM
}
