package org.hvmmu.mmu.memory;

/**
 * The device behind an MMIO region of {@link PhysicalMemory}: the MSI-X table and PBA of a
 * passed-through device, an IO-APIC, an HPET, or anything else an emulator puts there.
 *
 * <p>{@link PhysicalMemory} hands a handler naturally aligned accesses only: {@code size} is 1, 2, 4
 * or 8 and {@code pa} is a multiple of {@code size}. An access that is unaligned, or that crosses
 * into the next page, reaches the handler as the naturally aligned pieces it splits into, lowest
 * address first (see {@link PhysicalMemory#read}).
 *
 * <p>Several vCPU threads may call a handler at once; a handler that keeps state synchronises it
 * itself.
 */
public interface MmioHandler {
  /**
   * Reads {@code size} bytes at physical address {@code pa}.
   *
   * @param pa the physical address, a multiple of {@code size}
   * @param size 1, 2, 4 or 8
   * @return the value, little-endian, in the low {@code 8 * size} bits (higher bits are ignored)
   */
  long read(long pa, int size);

  /**
   * Writes {@code size} bytes at physical address {@code pa}.
   *
   * @param pa the physical address, a multiple of {@code size}
   * @param size 1, 2, 4 or 8
   * @param value the value, little-endian, in the low {@code 8 * size} bits
   */
  void write(long pa, int size, long value);
}
