package org.hvmmu.host;

import java.util.HashMap;
import java.util.Map;
import org.hvmmu.mmu.memory.MmioHandler;

/**
 * The memory BARs of a device as the machine memory sees them, apart from the MSI-X table and PBA
 * (live registers, {@link org.hvmmu.pci.msix.regs.MsixRegisters}, which hand every other byte of
 * the BARs here): registers that hold what was last written (zero before), byte-exact, with nothing
 * behind them. A device whose table or PBA cannot be placed has all its BAR bytes here.
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
