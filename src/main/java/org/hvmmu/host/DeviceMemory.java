package org.hvmmu.host;

import java.util.HashMap;
import java.util.Map;
import org.hvmmu.mmu.memory.MmioHandler;

/**
 * The memory BARs of a device as the machine memory sees them: registers that hold what was last
 * written (zero before), byte-exact, with nothing behind them yet. The MSI-X table and PBA become
 * live registers in a later step; until then a guest store to them is visible here, which is what
 * the protection is about.
 */
final class DeviceMemory implements MmioHandler {
  private final String name;
  private final Map<Long, Long> words = new HashMap<>();

  DeviceMemory(String name) {
    this.name = name;
  }

  @Override
  public synchronized long read(long pa, int size) {
    long word = words.getOrDefault(pa & ~7L, 0L);
    long value = word >>> (8 * (pa & 7));
    return size == 8 ? value : value & ((1L << (8 * size)) - 1);
  }

  @Override
  public synchronized void write(long pa, int size, long value) {
    long key = pa & ~7L;
    int shift = (int) (8 * (pa & 7));
    long mask = size == 8 ? -1L : ((1L << (8 * size)) - 1) << shift;
    long word = words.getOrDefault(key, 0L);
    words.put(key, (word & ~mask) | ((value << shift) & mask));
  }

  @Override
  public String toString() {
    return "BAR memory of " + name;
  }
}
