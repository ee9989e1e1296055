package org.hvmmu.mmu.memory;

/** What a 4-KByte frame of {@link PhysicalMemory} is. */
public enum RegionKind {
  /** Nothing decodes the address: reads return all ones and writes are dropped, as on a PC. */
  ABSENT,
  /** Memory: reads of a frame never written return zeroes; the first write allocates the frame. */
  RAM,
  /** A device: accesses go to the region's {@link MmioHandler}. */
  MMIO
}
