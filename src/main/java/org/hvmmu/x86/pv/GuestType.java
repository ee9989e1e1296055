package org.hvmmu.x86.pv;

/** How a domain runs, as far as the PV MMU cares. */
public enum GuestType {
  /** A 64-bit PV guest: its L1 entries get Xen's 64-bit adjustment ({@code adjust_guest_l1e}). */
  PV64,
  /**
   * A 32-bit PAE PV guest on a 64-bit Xen ({@code is_pv_32on64_domain}, "compat"): no L1 or L2
   * entry adjustment, and the PAE half-write fix-up applies to its emulated page-table writes. Its
   * page tables are PAE: L3 (four entries, slot 3 naming the {@code PGT_pae_xen_l2} L2 whose slots
   * from 428 are Xen's), L2 and L1; each vCPU runs in long mode on an L4 of Xen's whose slot 0
   * names the L3 ({@link PvMmu#createVcpu(Domain, int, long)}).
   */
  PV32,
  /**
   * A hardware-virtualised guest: its memory is translated ({@code paging_mode_external}), so foreign
   * writable mappings of its pages by another domain take no type reference.
   */
  HVM
}
