package org.hvmmu.pci;

/**
 * What a Base Address Register decodes: I/O space or one of the four memory types of bits 2:1.
 *
 * <p>Each constant carries its hardware {@link #code()}: the space bit for I/O, the memory type
 * bits for memory. {@link #fromRegister} classifies a BAR's low dword.
 *
 * <table>
 *   <caption>BAR kinds</caption>
 *   <tr><th>kind</th><th>low bits</th><th>{@link #label()}</th><th>lspci</th></tr>
 *   <tr><td>{@link #IO}</td><td>bit 0 = 1</td><td>io</td><td>I/O ports</td></tr>
 *   <tr><td>{@link #MEM32}</td><td>bits 2:1 = 00</td><td>mem32</td><td>32-bit</td></tr>
 *   <tr><td>{@link #MEM1M}</td><td>bits 2:1 = 01</td><td>mem1m</td><td>low-1M</td></tr>
 *   <tr><td>{@link #MEM64}</td><td>bits 2:1 = 10</td><td>mem64</td><td>64-bit</td></tr>
 *   <tr><td>{@link #MEM_RESERVED}</td><td>bits 2:1 = 11</td><td>mem-reserved</td>
 *       <td>type 3</td></tr>
 * </table>
 */
public enum BarKind {
  /** I/O space; Xen's {@code read_pci_mem_bar} returns 0 for it. */
  IO(PciRegs.BASE_ADDRESS_SPACE_IO, "io"),
  /** Memory anywhere below 4 GiB. */
  MEM32(PciRegs.BASE_ADDRESS_MEM_TYPE_32, "mem32"),
  /** Memory below 1 MiB (a PCI 2.x legacy type); Xen treats it as 32-bit. */
  MEM1M(PciRegs.BASE_ADDRESS_MEM_TYPE_1M, "mem1m"),
  /** Memory anywhere in 64-bit space; the BAR takes this slot and the next. */
  MEM64(PciRegs.BASE_ADDRESS_MEM_TYPE_64, "mem64"),
  /** The reserved memory type 3; Xen treats it as 32-bit, lspci prints "type 3". */
  MEM_RESERVED(0x06, "mem-reserved");

  private static final BarKind[] BY_MEMORY_TYPE = {MEM32, MEM1M, MEM64, MEM_RESERVED};

  private final int code;
  private final String label;

  BarKind(int code, String label) {
    this.code = code;
    this.label = label;
  }

  /**
   * The hardware code: {@code 0x1} (the space bit) for I/O, else the memory type bits 2:1 in place.
   *
   * @return {@code 0x1}, {@code 0x0}, {@code 0x2}, {@code 0x4} or {@code 0x6}
   */
  public int code() {
    return code;
  }

  /**
   * A short lower-case name for reports.
   *
   * @return {@code "io"}, {@code "mem32"}, {@code "mem1m"}, {@code "mem64"} or {@code
   *     "mem-reserved"}
   */
  public String label() {
    return label;
  }

  /**
   * Whether this is a memory kind.
   *
   * @return false only for {@link #IO}
   */
  public boolean isMemory() {
    return this != IO;
  }

  /**
   * Classifies a BAR register from its low bits.
   *
   * @param register the BAR's (low) dword
   * @return {@link #IO} if bit 0 is set, else the memory kind of bits 2:1
   */
  public static BarKind fromRegister(int register) {
    if ((register & PciRegs.BASE_ADDRESS_SPACE) == PciRegs.BASE_ADDRESS_SPACE_IO) {
      return IO;
    }
    return BY_MEMORY_TYPE[(register & PciRegs.BASE_ADDRESS_MEM_TYPE_MASK) >>> 1];
  }

  /**
   * The kind with a given {@link #code()}.
   *
   * @param code one of the codes above
   * @return the kind
   * @throws IllegalArgumentException for any other code
   */
  public static BarKind fromCode(int code) {
    for (BarKind kind : values()) {
      if (kind.code == code) {
        return kind;
      }
    }
    throw new IllegalArgumentException("no BAR kind has code 0x" + Integer.toHexString(code));
  }
}
