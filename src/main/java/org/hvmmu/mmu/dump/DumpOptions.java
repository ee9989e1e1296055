package org.hvmmu.mmu.dump;

import org.hvmmu.mmu.memory.PhysicalMemory;

/**
 * How {@link GuestDumps} loads a dump: the physical address width of the memory it creates and the
 * bounds that keep a bad or huge file from exhausting the heap or the disk.
 *
 * <pre>{@code
 * DumpOptions options = DumpOptions.DEFAULTS.withMaxPhyAddr(46).withFrameBudget(1L << 20);
 * GuestDump dump = GuestDumps.read(Path.of("core.elf.gz"), options);
 * }</pre>
 *
 * @param maxPhyAddr MAXPHYADDR of the {@link PhysicalMemory} created, {@value
 *     PhysicalMemory#MIN_PHYS_ADDR_BITS} to {@value PhysicalMemory#MAX_PHYS_ADDR_BITS}; a segment
 *     reaching beyond {@code 2^maxPhyAddr} is an error
 * @param frameBudget the most RAM frames the memory allocates (frames holding non-zero bytes; zero
 *     pages of a dump cost nothing), at least 1
 * @param maxDecompressedBytes the most bytes a gzip-compressed file may expand to, at least 1; the
 *     decompressed bytes go to a temporary file, so this bounds disk use, not the heap
 */
public record DumpOptions(int maxPhyAddr, long frameBudget, long maxDecompressedBytes) {

  /** The default MAXPHYADDR: 52, the architectural maximum, so that any dump fits. */
  public static final int DEFAULT_MAX_PHYS_ADDR = PhysicalMemory.MAX_PHYS_ADDR_BITS;

  /**
   * The default bound on decompressed bytes: 16 GiB, the bytes the default frame budget ({@value
   * PhysicalMemory#DEFAULT_FRAME_BUDGET} frames) holds.
   */
  public static final long DEFAULT_MAX_DECOMPRESSED_BYTES =
      PhysicalMemory.DEFAULT_FRAME_BUDGET * PhysicalMemory.PAGE_SIZE;

  /** MAXPHYADDR 52, the memory's default frame budget, and 16 GiB of decompressed bytes. */
  public static final DumpOptions DEFAULTS =
      new DumpOptions(
          DEFAULT_MAX_PHYS_ADDR,
          PhysicalMemory.DEFAULT_FRAME_BUDGET,
          DEFAULT_MAX_DECOMPRESSED_BYTES);

  /**
   * Checks the values.
   *
   * @param maxPhyAddr as the record component
   * @param frameBudget as the record component
   * @param maxDecompressedBytes as the record component
   * @throws IllegalArgumentException if a value is out of range
   */
  public DumpOptions {
    if (maxPhyAddr < PhysicalMemory.MIN_PHYS_ADDR_BITS
        || maxPhyAddr > PhysicalMemory.MAX_PHYS_ADDR_BITS) {
      throw new IllegalArgumentException(
          "maxPhyAddr: "
              + maxPhyAddr
              + " (expected: "
              + PhysicalMemory.MIN_PHYS_ADDR_BITS
              + " to "
              + PhysicalMemory.MAX_PHYS_ADDR_BITS
              + ")");
    }
    if (frameBudget < 1) {
      throw new IllegalArgumentException(
          "frameBudget: 0x" + Long.toHexString(frameBudget) + " (expected: >= 1)");
    }
    if (maxDecompressedBytes < 1) {
      throw new IllegalArgumentException(
          "maxDecompressedBytes: 0x"
              + Long.toHexString(maxDecompressedBytes)
              + " (expected: >= 1)");
    }
  }

  /**
   * These options with another MAXPHYADDR.
   *
   * @param bits MAXPHYADDR, 32 to 52
   * @return the new options
   * @throws IllegalArgumentException if {@code bits} is out of range
   */
  public DumpOptions withMaxPhyAddr(int bits) {
    return new DumpOptions(bits, frameBudget, maxDecompressedBytes);
  }

  /**
   * These options with another frame budget.
   *
   * @param frames the most RAM frames allocated, at least 1
   * @return the new options
   * @throws IllegalArgumentException if {@code frames} is below 1
   */
  public DumpOptions withFrameBudget(long frames) {
    return new DumpOptions(maxPhyAddr, frames, maxDecompressedBytes);
  }

  /**
   * These options with another bound on decompressed bytes.
   *
   * @param bytes the most bytes a gzip file may expand to, at least 1
   * @return the new options
   * @throws IllegalArgumentException if {@code bytes} is below 1
   */
  public DumpOptions withMaxDecompressedBytes(long bytes) {
    return new DumpOptions(maxPhyAddr, frameBudget, bytes);
  }
}
