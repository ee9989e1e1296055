/**
 * The emulated machine's physical address space: {@link org.hvmmu.mmu.memory.PhysicalMemory}, a
 * sparse 64-bit space of 4-KByte frames (up to MAXPHYADDR 52) made of RAM, MMIO regions behind an
 * {@link org.hvmmu.mmu.memory.MmioHandler}, and absent frames that read as all ones. Reads and writes
 * of 1, 2, 4 and 8 bytes are little-endian and split at page boundaries as hardware splits them; the
 * 4- and 8-byte compare-and-set is the locked read-modify-write that page walkers use for A/D bits.
 */
package org.hvmmu.mmu.memory;
