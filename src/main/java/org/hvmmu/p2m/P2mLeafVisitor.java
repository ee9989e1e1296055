package org.hvmmu.p2m;

import org.hvmmu.x86.PageOrder;

/**
 * A primitive callback over the leaf entries of a p2m table, as {@link RadixP2m#forEachLeaf} calls it.
 * A non-zero result stops the walk and is returned, as Xen's range reporting does.
 */
@FunctionalInterface
public interface P2mLeafVisitor {
  /**
   * Visits one non-zero leaf entry.
   *
   * @param gfn the first guest frame the entry maps
   * @param order the entry's order
   * @param entry the raw entry
   * @return 0 to continue, anything else to stop
   */
  int visit(long gfn, PageOrder order, long entry);
}
