package org.hvmmu.pci;

import java.util.ArrayList;
import java.util.List;

/**
 * One Base Address Register of a function's header, decoded.
 *
 * <p>A 64-bit memory BAR occupies its slot and the next one (the high dword); it is one {@code Bar}
 * with {@link #slots()} 2, and the next slot has no {@code Bar} of its own. A 64-bit BAR in the
 * last slot of its header has no high dword: it is decoded with {@link #valid()} false and address
 * 0, as Xen's {@code read_pci_mem_bar} returns 0 for it.
 *
 * <pre>{@code
 * // 82576 BAR 3: 0xe0840000, 32-bit, non-prefetchable, 16 KiB (from sysfs)
 * new Bar(3, BarKind.MEM32, false, 0xe0840000L, 0x4000L, true, 0xe0840000);
 * }</pre>
 *
 * @param index the slot number, {@code 0..5}
 * @param kind I/O or the memory type
 * @param prefetchable whether a memory BAR has bit 3 set (always false for I/O)
 * @param address the base address, flag bits cleared ({@code & ~0xf} for memory, {@code & ~0x3} for
 *     I/O); 0 when unassigned or invalid
 * @param size the size in bytes when known (from sysfs {@code resource}), else 0
 * @param valid false only for a 64-bit BAR in the last slot
 * @param register the raw low dword
 */
public record Bar(
    int index,
    BarKind kind,
    boolean prefetchable,
    long address,
    long size,
    boolean valid,
    int register) {
  /** The size of a BAR whose size is not known. */
  public static final long SIZE_UNKNOWN = 0;

  /**
   * Validates the fields.
   *
   * @param index see {@link #index()}
   * @param kind see {@link #kind()}
   * @param prefetchable see {@link #prefetchable()}
   * @param address see {@link #address()}
   * @param size see {@link #size()}
   * @param valid see {@link #valid()}
   * @param register see {@link #register()}
   * @throws IllegalArgumentException if the index is not {@code 0..5}, the kind is null, or the
   *     size is negative
   */
  public Bar {
    if (index < 0 || index >= PciRegs.SRIOV_NUM_BARS) {
      throw new IllegalArgumentException(
          "BAR index 0x" + Integer.toHexString(index) + " not in 0..5");
    }
    if (kind == null) {
      throw new IllegalArgumentException("BAR kind is null");
    }
    if (size < 0) {
      throw new IllegalArgumentException("BAR size 0x" + Long.toHexString(size) + " is negative");
    }
  }

  /**
   * How many BAR slots this BAR takes.
   *
   * @return 2 for a valid 64-bit BAR, else 1
   */
  public int slots() {
    return kind == BarKind.MEM64 && valid ? 2 : 1;
  }

  /**
   * Whether the BAR has an address: valid and not 0. A BAR that reads 0 is unassigned (or, with
   * Enhanced Allocation, described elsewhere); Xen treats 0 as "unknown".
   *
   * @return whether {@link #address()} is meaningful
   */
  public boolean isAssigned() {
    return valid && address != 0;
  }

  /**
   * Whether the size is known.
   *
   * @return whether {@link #size()} is not {@link #SIZE_UNKNOWN}
   */
  public boolean isSizeKnown() {
    return size != SIZE_UNKNOWN;
  }

  /**
   * Decodes the BARs of a header with unknown sizes; see {@link #decodeAll(ConfigSpace, long[])}.
   *
   * @param config the function's configuration space
   * @return the BARs in slot order
   */
  public static List<Bar> decodeAll(ConfigSpace config) {
    return decodeAll(config, new long[0]);
  }

  /**
   * Decodes the BARs of a header. The header type is masked with 0x7f; there are 6, 2 or 1 slots
   * for normal, bridge and CardBus headers, none for other types. A slot is listed when its
   * register is neither 0 nor all-ones (lspci's rule), or when its size is known; the high-dword
   * slot of a 64-bit BAR is never listed.
   *
   * @param config the function's configuration space
   * @param sizes BAR sizes by slot (0 for unknown); shorter arrays leave later sizes unknown
   * @return the BARs in slot order, unmodifiable
   */
  public static List<Bar> decodeAll(ConfigSpace config, long[] sizes) {
    int limit = PciRegs.barLimit(config.read8(PciRegs.HEADER_TYPE) & PciRegs.HEADER_TYPE_MASK);
    List<Bar> bars = new ArrayList<>(limit);
    for (int i = 0; i < limit; i++) {
      int low = config.read32(PciRegs.BASE_ADDRESS_0 + 4 * i);
      long size = i < sizes.length ? Math.max(0, sizes[i]) : 0;
      boolean present = (low != 0 && low != -1) || size != 0;
      if (!present) {
        continue;
      }
      if (low == -1) {
        low = 0;
      }
      BarKind kind = BarKind.fromRegister(low);
      long lowBits = low & 0xffffffffL;
      if (kind == BarKind.IO) {
        bars.add(new Bar(i, kind, false, lowBits & PciRegs.BASE_ADDRESS_IO_MASK, size, true, low));
        continue;
      }
      boolean prefetchable = (low & PciRegs.BASE_ADDRESS_MEM_PREFETCH) != 0;
      if (kind == BarKind.MEM64) {
        if (i + 1 >= limit) {
          bars.add(new Bar(i, kind, prefetchable, 0, size, false, low));
          continue;
        }
        long high = config.read32(PciRegs.BASE_ADDRESS_0 + 4 * (i + 1)) & 0xffffffffL;
        long address = (lowBits & PciRegs.BASE_ADDRESS_MEM_MASK) | high << 32;
        bars.add(new Bar(i, kind, prefetchable, address, size, true, low));
        i++;
        continue;
      }
      bars.add(
          new Bar(i, kind, prefetchable, lowBits & PciRegs.BASE_ADDRESS_MEM_MASK, size, true, low));
    }
    return List.copyOf(bars);
  }
}
