/**
 * The paravirtualised (PV) MMU: a frame table with Xen's page ownership, reference counts and page
 * types, the PV domains, and the L1 entry validator {@code get_page_from_l1e} with its three callers
 * ({@code alloc_l1_table}, {@code mod_l1_entry}, {@code ptwr_emulated_update}). A guest entry that maps
 * a frame in the host's {@code mmio_ro_ranges} writable is accepted but installed read-only.
 */
package org.hvmmu.x86.pv;
