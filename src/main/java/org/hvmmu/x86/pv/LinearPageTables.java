package org.hvmmu.x86.pv;

/**
 * Whether and how a PV guest may install "linear" page-table entries: an L2, L3 or L4 entry that
 * points to a table of its own level (Xen's {@code get_l2_linear_pagetable}, {@code
 * get_l3_linear_pagetable} and {@code get_l4_linear_pagetable}). Such an entry makes the target
 * table act one level lower in the hardware walk, so the guest sees its own page tables as data.
 *
 * <p>In every mode that allows them, a linear entry must be read-only (a writable one would let the
 * guest write its own validated tables) and must point to an already validated table of the same
 * level and domain; an entry that maps the table holding it (a self-map) takes no reference.
 */
public enum LinearPageTables {
  /**
   * The seed (Xen 2010): any number of same-level hops, so a guest can build an arbitrarily long
   * chain of tables whose teardown recurses once per table (XSA-240, CVE-2017-15595), and may
   * link to a table of another domain's page-table frame.
   */
  UNRESTRICTED,
  /**
   * Upstream Xen since XSA-240 (6987fc7558, 2017) with {@code pv-linear-pt} at its default (on): a
   * table that holds linear entries may not itself be used as a linear table and the reverse,
   * counted in {@code linear_pt_count} (positive: linear entries held, negative: linear uses), and
   * the table holding the entry must belong to the domain.
   */
  SINGLE_LEVEL,
  /**
   * {@code pv-linear-pt=0} (3285e75dea, 2017) or a build without {@code CONFIG_PV_LINEAR_PT}: every
   * same-level entry is refused, self-maps included.
   */
  DISABLED
}
