package org.hvmmu.mmu;

import static org.hvmmu.mmu.GuestTables.A;
import static org.hvmmu.mmu.GuestTables.D;
import static org.hvmmu.mmu.GuestTables.P;
import static org.hvmmu.mmu.GuestTables.RW;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * Loads and stores reach the frame their translation names, whichever cache served it. A frame of
 * RAM has no contents until its first store (the memory is sparse), so a TLB entry made by the
 * store's own translation holds no page; later accesses through that entry must still use their
 * own frame, not the page the previous access left behind (found through the host's scenarios:
 * a load through such an entry returned the bytes of the page-table page stored to just before).
 */
class VcpuDataPathTest {
  private static final long A_LA = 0x1000;
  private static final long B_LA = 0x2000;
  private static final long A_PA = 0x150000;
  private static final long B_PA = 0x160000;

  private static Vcpu longMode(PhysicalMemory m, TlbConfig tlbs) {
    GuestTables t = new GuestTables(m, 0x100);
    long root = t.newTable();
    t.map(root, 4, A_LA, A_PA, 1, P | RW | A, P | RW | A | D);
    t.map(root, 4, B_LA, B_PA, 1, P | RW | A, P | RW | A | D);
    Vcpu v = new Vcpu(m, MmuFeatures.intel(46), MmuSwitches.DEFAULT, tlbs, LatencyModel.GOLDEN_COVE);
    assertEquals(0, v.loadState(0x8001_0033L, root, 0x20, 0xD00));
    return v;
  }

  @Test
  void aLoadThroughAnEntryMadeBeforeItsFrameExistedShouldReadThatFrame() {
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(0, 0xfff);
    m.write(B_PA, 8, 0x2222); // B's frame exists before its entry; A's only after
    Vcpu v = longMode(m, TlbConfig.goldenCove());
    assertEquals(0, v.write(A_LA, 8, 0x1111, Access.READ)); // the entry is made, then the frame
    assertEquals(0, v.write(B_LA + 16, 8, 0x4444, Access.READ)); // through B's page
    assertEquals(0x1111, v.read(A_LA, 8, Access.READ));
    assertEquals(0x2222, v.read(B_LA, 8, Access.READ));
    assertEquals(0, v.write(A_LA + 8, 4, 0x3333, Access.READ));
    assertEquals(0x3333, m.read(A_PA + 8, 4));
    assertEquals(0, m.read(B_PA + 8, 4), "nothing written to the other frame");
    assertEquals(0x1111, v.fetch(A_LA, 8, false));
  }

  @Test
  void theSameShouldHoldWithoutTlbs() {
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(0, 0xfff);
    m.write(B_PA, 8, 0x2222);
    Vcpu v = longMode(m, TlbConfig.none());
    assertEquals(0, v.write(A_LA, 8, 0x1111, Access.READ));
    assertEquals(0, v.write(B_LA + 16, 8, 0x4444, Access.READ));
    assertEquals(0x1111, v.read(A_LA, 8, Access.READ));
  }
}
