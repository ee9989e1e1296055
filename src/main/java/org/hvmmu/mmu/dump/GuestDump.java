package org.hvmmu.mmu.dump;

import java.util.List;
import java.util.Objects;
import org.hvmmu.mmu.memory.PhysicalMemory;

/**
 * A loaded guest dump: the guest's physical memory and, for an ELF core, its vCPUs' registers.
 *
 * <pre>{@code
 * GuestDump dump = GuestDumps.read(Path.of("core.elf.gz"));
 * VcpuState cpu0 = dump.vcpus().get(0);
 * long pml4e = dump.memory().read((cpu0.cr3() & ~0xfffL) + 8 * 0x1ff, 8);
 * }</pre>
 *
 * <p>The record is immutable except for {@link #memory()}, which belongs to the caller from now on
 * (an emulator may write to it; see {@link PhysicalMemory} for its thread safety).
 *
 * @param file the file read, as named by the caller
 * @param format what the file held once decompressed
 * @param compressed whether the file was gzip-compressed
 * @param elfClass the core's class; {@link ElfClass#NONE} for a raw image
 * @param machine the core's {@code e_machine}; {@link ElfMachine#NONE} for a raw image
 * @param memory the physical memory: every frame of a segment is RAM, everything else absent
 * @param segments the {@code PT_LOAD} segments in program header order (one segment covering the
 *     file for a raw image)
 * @param vcpus one state per "QEMU" note, in note order; empty for a raw image or a core without
 *     such notes
 * @param prstatusNotes how many {@code NT_PRSTATUS} notes the core has (QEMU writes one per vCPU
 *     beside its "QEMU" note; a core with these and no "QEMU" notes has no control registers)
 */
public record GuestDump(
    String file,
    DumpFormat format,
    boolean compressed,
    ElfClass elfClass,
    ElfMachine machine,
    PhysicalMemory memory,
    List<LoadSegment> segments,
    List<VcpuState> vcpus,
    int prstatusNotes) {

  /**
   * Checks the values and copies the lists.
   *
   * @param file as the record component, not null
   * @param format as the record component, not null
   * @param compressed as the record component
   * @param elfClass as the record component, not null
   * @param machine as the record component, not null
   * @param memory as the record component, not null
   * @param segments as the record component, not null
   * @param vcpus as the record component, not null
   * @param prstatusNotes as the record component, not negative
   * @throws IllegalArgumentException if {@code prstatusNotes} is negative
   */
  public GuestDump {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(elfClass, "elfClass");
    Objects.requireNonNull(machine, "machine");
    Objects.requireNonNull(memory, "memory");
    segments = List.copyOf(segments);
    vcpus = List.copyOf(vcpus);
    if (prstatusNotes < 0) {
      throw new IllegalArgumentException("prstatusNotes: " + prstatusNotes + " (expected: >= 0)");
    }
  }
}
