package org.hvmmu.p2m;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.junit.jupiter.api.Test;

/**
 * A p2m moved into machine memory ({@link RadixP2m#inMachineMemory}): its frames are zeroed, the
 * root is the first, and a hardware walk of the 4-level x86 format from the root (L4 slot = gfn
 * bits 35:27, L3 = 26:18, L2 = 17:9, L1 = 8:0; each entry's frame in bits 51:12) reaches the
 * mapped frame through tables inside the given frames. Only a fresh p2m may move.
 */
class P2mMachineMemoryTest {
  private static final long FIRST = 0x1000;
  private static final int TABLES = 8;
  private static final long FRAME_BITS = 0x000F_FFFF_FFFF_F000L;

  private static PtP2m p2m() {
    RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
    return new PtP2m(P2mSwitches.HARDENED, P2mDomainConfig.DEFAULT, ro, TABLES);
  }

  private static long next(PhysicalMemory m, long table, long slot) {
    long frame = (m.read((table << 12) + 8 * slot, 8) & FRAME_BITS) >>> 12;
    assertTrue(frame >= FIRST && frame < FIRST + TABLES, "table frame 0x" + Long.toHexString(frame));
    return frame;
  }

  @Test
  void theTablesLiveInTheGivenFramesAndAWalkReachesTheMapping() {
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(FIRST, FIRST + TABLES);
    // Leftovers in the first and last frames: zeroed by the move; the frame after is not the
    // p2m's and keeps its bytes.
    m.write((FIRST << 12) + 8, 8, -1L);
    m.write(((FIRST + TABLES - 1) << 12) + 0xff8, 8, -1L);
    m.write((FIRST + TABLES) << 12, 8, 0x1234L);
    PtP2m p = p2m();
    assertNull(p.machineMemory());
    p.inMachineMemory(m, FIRST);
    assertSame(m, p.machineMemory());
    assertEquals(FIRST, p.rootFrame());
    assertEquals(0L, m.read((FIRST << 12) + 8, 8));
    assertEquals(0L, m.read(((FIRST + TABLES - 1) << 12) + 0xff8, 8));
    assertEquals(0x1234L, m.read((FIRST + TABLES) << 12, 8));
    long gfn = 0x1234;
    assertEquals(0, p.setEntry(gfn, 0x5678, PageOrder.ORDER_4K, P2mType.RAM_RW));
    long l3 = next(m, FIRST, 0);
    long l2 = next(m, l3, 0);
    long l1 = next(m, l2, (gfn >>> 9) & 511);
    assertNotEquals(l3, l2);
    assertNotEquals(l2, l1);
    long leaf = m.read((l1 << 12) + 8 * (gfn & 511), 8);
    assertEquals(0x5678L, (leaf & FRAME_BITS) >>> 12);
    assertEquals(4, p.tablePages());
    // p2m_teardown: every table but the root freed, the root emptied; the frames read zero.
    p.teardown();
    assertEquals(1, p.tablePages());
    assertEquals(TABLES - 1, p.freeTablePages());
    assertFalse(p.getEntry(gfn, new P2mEntry()));
    assertEquals(0L, m.read(FIRST << 12, 8));
    assertEquals(0L, m.read((l1 << 12) + 8 * (gfn & 511), 8));
    assertEquals(0, p.setEntry(gfn, 0x5679, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(4, p.tablePages());
  }

  @Test
  void aPooledP2mTearsDownToItsRoot() {
    PtP2m p = p2m();
    assertEquals(TABLES, p.maxTablePages());
    assertSame(P2mSwitches.HARDENED, p.switches());
    assertEquals(0, p.setEntry(0x1234, 0x5678, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(0, p.setEntry(0x40000, 0x5679, PageOrder.ORDER_4K, P2mType.RAM_RW));
    // Root, one L3, and an L2 and an L1 for each gfn (0x40000 is L3 slot 1): 6.
    assertEquals(6, p.tablePages());
    p.teardown();
    assertEquals(1, p.tablePages());
    assertFalse(p.getEntry(0x1234, new P2mEntry()));
    assertFalse(p.getEntry(0x40000, new P2mEntry()));
    // One table page is the least: the root.
    RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
    PtP2m one = new PtP2m(P2mSwitches.HARDENED, P2mDomainConfig.DEFAULT, ro, 1);
    assertEquals(1, one.tablePages());
    assertEquals(0, one.freeTablePages());
    assertThrows(IllegalArgumentException.class,
        () -> new PtP2m(P2mSwitches.HARDENED, P2mDomainConfig.DEFAULT, ro, 0));
  }

  @Test
  void machineFramesUpToTheLargestAreAccepted() {
    PtP2m p = p2m();
    assertEquals(0, p.setEntry(0x10, Pte.MAX_MFN, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT));
    assertThrows(IllegalArgumentException.class,
        () -> p.setEntry(0x11, Pte.MAX_MFN + 1, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT));
  }

  @Test
  void onlyAFreshP2mMoves() {
    PhysicalMemory m = new PhysicalMemory(46);
    m.addRam(FIRST, FIRST + TABLES - 1);
    PtP2m p = p2m();
    assertEquals(0, p.setEntry(0x10, 0x20, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertThrows(IllegalStateException.class, () -> p.inMachineMemory(m, FIRST));
    assertNull(p.machineMemory());
    assertEquals(0L, p.rootFrame());
  }
}
