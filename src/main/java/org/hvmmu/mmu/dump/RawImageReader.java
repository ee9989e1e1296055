package org.hvmmu.mmu.dump;

import java.util.List;
import org.hvmmu.mmu.memory.PhysicalMemory;

/**
 * Reads raw physical images: byte N of the file is physical address N, the frames covering the file
 * become RAM, and there is no vCPU state. QEMU's {@code pmemsave 0 SIZE FILE} and a copy of {@code
 * /dev/mem} give such images.
 */
final class RawImageReader {
  private RawImageReader() {}

  /**
   * Reads a raw image.
   *
   * @param file the open file
   * @param options MAXPHYADDR and frame budget of the memory created
   * @return the dump, with one segment covering the file
   * @throws DumpFormatException if the image is larger than {@code 2^maxPhyAddr} bytes, cannot be
   *     read, or exceeds the frame budget
   */
  static GuestDump read(DumpFile file, DumpOptions options) {
    long size = file.size();
    long limit = 1L << options.maxPhyAddr();
    if (size > limit) {
      throw new DumpFormatException(
          file.name(),
          DumpFormatException.NO_OFFSET,
          "raw image of 0x"
              + Long.toHexString(size)
              + " bytes is larger than the physical address space of"
              + " MAXPHYADDR "
              + options.maxPhyAddr()
              + " (expected: at most 0x"
              + Long.toHexString(limit)
              + " bytes)");
    }
    PhysicalMemory memory = new PhysicalMemory(options.maxPhyAddr(), options.frameBudget());
    memory.addRam(0, (size - 1) >>> PhysicalMemory.PAGE_SHIFT);
    file.copyTo(memory, 0, 0, size, "the raw image");
    return new GuestDump(
        file.path(),
        DumpFormat.RAW,
        file.compressed(),
        ElfClass.NONE,
        ElfMachine.NONE,
        memory,
        List.of(new LoadSegment(0, 0, 0, size, size)),
        List.of(),
        0);
  }
}
