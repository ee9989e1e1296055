package org.hvmmu.host;

import org.hvmmu.mmu.memory.PhysicalMemory;

/**
 * Machine frames for Xen's own structures (p2m and shadow pages), handed out in contiguous blocks
 * from high in the machine address space, far above the frame table and any BAR, so that no guest
 * mapping or I/O permission covers them. Each block becomes RAM of the machine memory; frames never
 * written cost nothing.
 */
final class XenHeap {
  /** The first frame handed out: 32 TiB. */
  static final long BASE_FRAME = 1L << 33;

  private final PhysicalMemory machine;
  private long next = BASE_FRAME;

  XenHeap(PhysicalMemory machine) {
    this.machine = machine;
  }

  /** A block of {@code frames} contiguous RAM frames; its first frame. */
  synchronized long allocate(long frames) {
    long first = next;
    long last = first + frames - 1;
    if (last > machine.lastFrame()) {
      throw new IllegalStateException("Xen's heap is exhausted: 0x" + Long.toHexString(frames)
          + " frames more would pass the machine's last frame 0x"
          + Long.toHexString(machine.lastFrame()));
    }
    machine.addRam(first, last);
    next = last + 1;
    return first;
  }
}
