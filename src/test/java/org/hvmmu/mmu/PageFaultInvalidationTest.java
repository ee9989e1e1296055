package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * What a page fault invalidates, from Intel SDM vol. 3A §4.10.4.1: a #PF for a linear address
 * removes the TLB entries for its page number and every paging-structure-cache entry that would be
 * used for it (current PCID), so that re-executing the access does not fault again on cached
 * entries that no longer match memory.
 */
class PageFaultInvalidationTest {

  @Test
  void aFaultFromACachedDirectoryEntryShouldNotRecur() {
    VcpuInvGuest g = new VcpuInvGuest();
    g.fill(); // caches the PML4E, PDPTE and PDE that also serve OTHER
    g.movePageTable(); // OTHER is present only in the new table, no invalidation
    assertTrue(g.stale(), "the walk used the cached PDE: #PF");
    assertFalse(g.stale(), "the #PF removed the cached PDE: the walk reads memory");
  }

  @Test
  void theFaultShouldKeepOtherPagesTranslations() {
    VcpuInvGuest g = new VcpuInvGuest();
    g.fill();
    g.movePageTable();
    assertTrue(g.stale());
    g.remap(); // PLAIN and GLOBAL now map NEW in memory; their TLB entries still say OLD
    assertTrue(g.kept(VcpuInvGuest.PLAIN), "another page's translation is not the fault's");
    assertTrue(g.kept(VcpuInvGuest.GLOBAL));
  }
}
