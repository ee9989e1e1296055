package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;

import org.hvmmu.x86.Pte;

/**
 * {@link PvFixture} with vCPUs, a recorded flush interface, and a 4-level tree of domU (d1).
 *
 * <pre>
 *  domU vCPUs 0, 1, 2 (mask 0x7)
 *  L4 0x140 [0] -> L3 0x141 [1] -> L2 0x142 [2] -> L1 0x143 [3] -> data 0x150 (P RW)
 *                                              [4] -> L1 0x144 [0] -> data 0x151 (P)
 *  so linear address VA maps 0x150 and VA2 maps 0x151.
 * </pre>
 */
final class TreeFixture {
  static final long L4 = 0x140;
  static final long L3 = 0x141;
  static final long L2 = 0x142;
  static final long L1 = 0x143;
  static final long L1B = 0x144;
  static final long DATA = 0x150;
  static final long DATA2 = 0x151;
  /** L4 slot 0, L3 slot 1, L2 slot 2, L1 slot 3. */
  static final long VA = (1L << 30) | (2L << 21) | (3L << 12);
  /** L4 slot 0, L3 slot 1, L2 slot 4, L1 slot 0. */
  static final long VA2 = (1L << 30) | (4L << 21);

  static final int TABLE_FLAGS = PAGE_PRESENT | PAGE_RW | PAGE_USER | PAGE_ACCESSED;

  final PvFixture f;
  final PvMmu mmu;
  final FrameTable frames;
  final Domain domU;
  final FlushRecorder flushes = new FlushRecorder();
  final PvVcpu v0;
  final PvVcpu v1;
  final PvVcpu v2;

  TreeFixture(PvSwitches switches) {
    f = new PvFixture(switches);
    mmu = f.mmu;
    frames = f.frames;
    domU = f.domU;
    mmu.setTlbFlush(flushes);
    v0 = mmu.createVcpu(domU, 0);
    v1 = mmu.createVcpu(domU, 1);
    v2 = mmu.createVcpu(domU, 2);
  }

  static long pde(long mfn) {
    return Pte.fromMfn(mfn, TABLE_FLAGS);
  }

  static long ro(long mfn) {
    return Pte.fromMfn(mfn, PAGE_PRESENT | PAGE_USER | PAGE_ACCESSED);
  }

  /** Writes the tree's entries into ordinary frames (nothing typed yet). */
  TreeFixture write() {
    mmu.writeGuestEntry(domU, L4, 0, pde(L3));
    mmu.writeGuestEntry(domU, L3, 1, pde(L2));
    mmu.writeGuestEntry(domU, L2, 2, pde(L1));
    mmu.writeGuestEntry(domU, L2, 4, pde(L1B));
    mmu.writeGuestEntry(domU, L1, 3, Pte.fromMfn(DATA, PAGE_PRESENT | PAGE_RW));
    mmu.writeGuestEntry(domU, L1B, 0, Pte.fromMfn(DATA2, PAGE_PRESENT));
    return this;
  }
}
