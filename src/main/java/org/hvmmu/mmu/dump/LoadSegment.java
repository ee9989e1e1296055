package org.hvmmu.mmu.dump;

import org.hvmmu.mmu.memory.PhysicalMemory;

/**
 * One {@code PT_LOAD} segment of an ELF core, or the whole file of a raw image: the bytes at {@code
 * fileOffset} for {@code fileSize} bytes went to physical address {@code physicalAddress}, and the
 * frames of {@code [physicalAddress, physicalAddress + memorySize)} became RAM.
 *
 * @param physicalAddress {@code p_paddr}, where the bytes go (never {@code p_vaddr})
 * @param virtualAddress {@code p_vaddr}; 0 in QEMU's dumps without paging, and for raw images
 * @param fileOffset {@code p_offset}, in the decompressed bytes of a gzip file
 * @param fileSize {@code p_filesz}, the bytes present in the file
 * @param memorySize {@code p_memsz}, at least {@code fileSize}; the bytes beyond {@code fileSize}
 *     read as zero unless another segment supplies them
 */
public record LoadSegment(
    long physicalAddress, long virtualAddress, long fileOffset, long fileSize, long memorySize) {

  /**
   * The inclusive frame range {@code [firstFrame(), lastFrame()]} the segment makes RAM starts
   * here.
   *
   * @return {@code physicalAddress >>> 12}
   */
  public long firstFrame() {
    return physicalAddress >>> PhysicalMemory.PAGE_SHIFT;
  }

  /**
   * The inclusive frame range {@code [firstFrame(), lastFrame()]} the segment makes RAM ends here.
   *
   * @return the frame of the segment's last byte; meaningless when {@code memorySize} is 0
   */
  public long lastFrame() {
    return (physicalAddress + memorySize - 1) >>> PhysicalMemory.PAGE_SHIFT;
  }
}
