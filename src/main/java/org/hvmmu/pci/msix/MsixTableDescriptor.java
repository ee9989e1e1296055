package org.hvmmu.pci.msix;

import java.util.Optional;

/**
 * Layout of the MSI-X capability, its table and its Pending Bit Array, and the frame arithmetic of
 * Xen's {@code msix_capability_init}.
 * Xen 4.22: {@code xen/arch/x86/msi.c}.
 *
 * <p>The capability (offsets from its header; PCI Local Bus Specification 3.0, §6.8.2):
 *
 * <pre>
 *  +0x0  cap ID 0x11 (8)   +0x1  next (8)   +0x2  Message Control (16)
 *           bits 10:0 Table Size - 1, bit 14 Function Mask, bit 15 MSI-X Enable
 *  +0x4  Table Offset / BIR (32)   bits 2:0 BIR, bits 31:3 offset (QWORD aligned)
 *  +0x8  PBA Offset / BIR (32)     bits 2:0 BIR, bits 31:3 offset (QWORD aligned)
 * </pre>
 *
 * <p>A table entry, 16 bytes, entry {@code i} at {@code table + 16 i}; the PBA holds one pending
 * bit per entry in QWORDs:
 *
 * <pre>
 *  +0x0  Message Address (low 32)   +0x4  Message Upper Address (32)
 *  +0x8  Message Data (32)          +0xc  Vector Control (32; bit 0 = masked)
 * </pre>
 *
 * <p>Frame ranges are inclusive {@code [first, last]} 4 KiB frame numbers, as Xen records them in
 * {@code msix->table} and {@code msix->pba}. Addresses are unsigned 64-bit values; sums wrap as C's
 * {@code u64} does.
 *
 * <pre>{@code
 * // 2048 entries at page offset 0xfe0: the table spans 0xfe0 .. 0xfe0 + 0x8000 - 1 = 0x8fdf
 * MsixTableDescriptor.tableFirstFrame(0xfe0L);        // 0x0
 * MsixTableDescriptor.tableLastFrame(0xfe0L, 2048);   // 0x8
 * }</pre>
 */
public final class MsixTableDescriptor {
  private MsixTableDescriptor() {}

  /** Message Control, 16 bits, at capability + 2 ({@code msix_control_reg}). */
  public static final int FLAGS = 0x2;

  /** Table Offset/BIR, 32 bits, at capability + 4 ({@code msix_table_offset_reg}). */
  public static final int TABLE = 0x4;

  /** PBA Offset/BIR, 32 bits, at capability + 8 ({@code msix_pba_offset_reg}). */
  public static final int PBA = 0x8;

  /** Bytes of the capability structure. */
  public static final int CAPABILITY_SIZE = 12;

  /** Message Control bits 10:0: table size minus one. */
  public static final int FLAGS_QSIZE = 0x7ff;

  /** Message Control bit 14: Function Mask (mask all vectors). */
  public static final int FLAGS_MASKALL = 0x4000;

  /** Message Control bit 15: MSI-X Enable. */
  public static final int FLAGS_ENABLE = 0x8000;

  /** Table and PBA register bits 2:0: the BAR Indicator Register. */
  public static final int BIRMASK = 0x7;

  /** Table and PBA register bits 31:3: the offset in the BAR. */
  public static final long OFFSET_MASK = 0xfffffff8L;

  /** Bytes per table entry. */
  public static final int ENTRY_SIZE = 16;

  /** Entry offset of the Message Address (low dword). */
  public static final int ENTRY_LOWER_ADDR_OFFSET = 0x0;

  /** Entry offset of the Message Upper Address. */
  public static final int ENTRY_UPPER_ADDR_OFFSET = 0x4;

  /** Entry offset of the Message Data. */
  public static final int ENTRY_DATA_OFFSET = 0x8;

  /** Entry offset of the Vector Control dword. */
  public static final int ENTRY_VECTOR_CTRL_OFFSET = 0xc;

  /** Largest table: 2048 entries (an 11-bit size field plus one). */
  public static final int MAX_ENTRIES = 2048;

  /** Frame size shift, Xen's {@code PAGE_SHIFT}. */
  public static final int PAGE_SHIFT = 12;

  /** Frame size in bytes. */
  public static final int PAGE_SIZE = 1 << PAGE_SHIFT;

  /**
   * Most frames a table can touch, Xen's {@code MAX_MSIX_TABLE_PAGES}: {@code PFN_UP(2048 * 16 +
   * 0xff8)} = 9.
   */
  public static final int MAX_TABLE_PAGES = 9;

  static void checkEntries(int entries) {
    if (entries < 1 || entries > MAX_ENTRIES) {
      throw new IllegalArgumentException(
          "MSI-X table of 0x" + Integer.toHexString(entries) + " entries (expected: 0x1..0x800)");
    }
  }

  /**
   * The table size encoded in a Message Control value, Xen's {@code msix_table_size}.
   *
   * @param messageControl the 16-bit register
   * @return {@code (messageControl & 0x7ff) + 1}, {@code 1..2048}
   */
  public static int tableSize(int messageControl) {
    return (messageControl & FLAGS_QSIZE) + 1;
  }

  /**
   * The offset of entry {@code index} from the start of the table.
   *
   * @param index the entry number, {@code 0..2047}
   * @return {@code 16 * index}
   * @throws IllegalArgumentException if {@code index} is out of range
   */
  public static long entryOffset(int index) {
    if (index < 0 || index >= MAX_ENTRIES) {
      throw new IllegalArgumentException(
          "MSI-X entry 0x" + Integer.toHexString(index) + " (expected: 0x0..0x7ff)");
    }
    return (long) ENTRY_SIZE * index;
  }

  /**
   * The table length in bytes.
   *
   * @param entries the table size, {@code 1..2048}
   * @return {@code 16 * entries}
   * @throws IllegalArgumentException if {@code entries} is out of range
   */
  public static long tableLength(int entries) {
    checkEntries(entries);
    return (long) ENTRY_SIZE * entries;
  }

  /**
   * The first frame of a table, {@code table.first = PFN_DOWN(table_paddr)} in {@code
   * msix_capability_init}.
   *
   * @param tableAddress the table's physical address (BAR + offset)
   * @return {@code tableAddress >>> 12}
   */
  public static long tableFirstFrame(long tableAddress) {
    return tableAddress >>> PAGE_SHIFT;
  }

  /**
   * The last frame of a table, inclusive: {@code table.last = PFN_DOWN(table_paddr + n * 16 - 1)}.
   *
   * @param tableAddress the table's physical address
   * @param entries the table size, {@code 1..2048}
   * @return {@code (tableAddress + 16 * entries - 1) >>> 12}
   * @throws IllegalArgumentException if {@code entries} is out of range
   */
  public static long tableLastFrame(long tableAddress, int entries) {
    return (tableAddress + tableLength(entries) - 1) >>> PAGE_SHIFT;
  }

  /**
   * The first frame of a PBA, {@code pba.first = PFN_DOWN(pba_paddr)}.
   *
   * @param pbaAddress the PBA's physical address
   * @return {@code pbaAddress >>> 12}
   */
  public static long pbaFirstFrame(long pbaAddress) {
    return pbaAddress >>> PAGE_SHIFT;
  }

  /**
   * The last frame of a PBA, inclusive: {@code PFN_DOWN(pba_paddr + length - 1)} with the length of
   * {@code sizing} ({@code BITS_TO_LONGS(n)} upstream).
   *
   * @param pbaAddress the PBA's physical address
   * @param entries the table size, {@code 1..2048}
   * @param sizing how long the PBA is taken to be
   * @return {@code (pbaAddress + sizing.bytes(entries) - 1) >>> 12}
   * @throws IllegalArgumentException if {@code entries} is out of range
   */
  public static long pbaLastFrame(long pbaAddress, int entries, PbaSizing sizing) {
    return (pbaAddress + sizing.bytes(entries) - 1) >>> PAGE_SHIFT;
  }
  /** The last byte a 32-bit memory BAR can decode: {@code 2^32 - 1}. */
  public static final long BAR32_LAST_BYTE = 0xffffffffL;

  /**
   * Why a table or PBA at {@code base + offset}, {@code length} bytes long, cannot be located, with
   * the addition made explicit (unsigned, checked) instead of wrapping as C's {@code u64} does in
   * {@code msix_capability_init}.
   *
   * <ul>
   *   <li>{@code base + offset} wraps past 2^64: the region would land at a low address (frame 0
   *       for a BAR of {@code 0xffffffff00001000} and an offset of {@code 0xfffff000});
   *   <li>the region's last byte, {@code base + offset + length - 1}, wraps past 2^64: its frame
   *       range would run from the top frame {@code 0xfffffffffffff} down to a low one;
   *   <li>a 32-bit BAR's region ends above 4 GiB: a 32-bit BAR decodes only addresses below 2^32
   *       (it is naturally aligned to its power-of-two size), so the region is outside the BAR and
   *       the device answers no access to it; Xen adds in 64 bits and would protect frames above
   *       4 GiB that are not the device's.
   * </ul>
   *
   * <pre>{@code
   * MsixTableDescriptor.unusableReason(0xfffffffffffffff0L, false, 0, 32);  // crosses 2^64
   * MsixTableDescriptor.unusableReason(0xfe000000L, true, 0x2000, 32);      // empty: usable
   * }</pre>
   *
   * @param base the BAR's address, unsigned
   * @param bar32 whether the BAR is a 32-bit memory BAR (false when unknown, as for a caller's
   *     base)
   * @param offset the offset in the BAR, unsigned
   * @param length the region's length in bytes, at least 1
   * @return empty if the region lies in {@code [0, 2^64)} (below 4 GiB for a 32-bit BAR), else one
   *     sentence naming the values in hex
   * @throws IllegalArgumentException if {@code length} is not positive
   */
  public static Optional<String> unusableReason(
      long base, boolean bar32, long offset, long length) {
    if (length < 1) {
      throw new IllegalArgumentException(
          "region length 0x" + Long.toHexString(length) + " (expected: at least 1)");
    }
    long address = base + offset;
    if (Long.compareUnsigned(address, base) < 0) {
      return Optional.of(
          "BAR address " + hex(base) + " + offset " + hex(offset) + " wraps past 2^64 (to "
              + hex(address) + ")");
    }
    long last = address + (length - 1);
    if (Long.compareUnsigned(last, address) < 0) {
      return Optional.of(
          "[" + hex(address) + ", +" + hex(length) + ") crosses 2^64 (its last byte would wrap to "
              + hex(last) + ")");
    }
    if (bar32 && Long.compareUnsigned(last, BAR32_LAST_BYTE) > 0) {
      return Optional.of(
          "[" + hex(address) + ", " + hex(last) + "] of 32-bit BAR " + hex(base)
              + " ends above 4 GiB, which a 32-bit BAR cannot decode");
    }
    return Optional.empty();
  }

  private static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }
}
