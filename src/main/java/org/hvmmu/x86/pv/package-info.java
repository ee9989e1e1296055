/**
 * The paravirtualised (PV) MMU: a frame table with Xen's page ownership, reference counts and page
 * types, the PV domains and their vCPUs, the L1 entry validator {@code get_page_from_l1e} with its
 * three callers ({@code alloc_l1_table}, {@code mod_l1_entry}, {@code ptwr_emulated_update}), the
 * validation of L2 to L4 tables ({@code get_page_from_lNe}, {@code alloc_lN_table}, {@code
 * mod_lN_entry}, the linear page-table rule), pinning at every level, {@code MMUEXT_NEW_BASEPTR},
 * and TLB maintenance ({@code MMUEXT_TLB_FLUSH_*}, {@code MMUEXT_INVLPG_*}, {@code
 * update_va_mapping}) requested from the host through {@link org.hvmmu.x86.pv.PvTlbFlush}, for
 * 64-bit guests (4-level tables) and 32-bit PAE guests on 64-bit Xen (compat: PAE L3 tables with
 * the {@code PGT_pae_xen_l2} L2 in slot 3, below a per-vCPU L4 of Xen's). A guest entry that maps a
 * frame in the host's {@code mmio_ro_ranges} writable is accepted but installed read-only.
 */
package org.hvmmu.x86.pv;
