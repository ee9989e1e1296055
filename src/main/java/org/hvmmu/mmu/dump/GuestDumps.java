package org.hvmmu.mmu.dump;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Loads guest dumps into a {@link org.hvmmu.mmu.memory.PhysicalMemory}: ELF cores of QEMU's {@code
 * dump-guest-memory} and libvirt's {@code virsh dump --memory-only} (with each vCPU's registers),
 * and raw physical images. A file starting with the gzip magic {@code 1f 8b} is decompressed first,
 * into a temporary file deleted when the read ends.
 *
 * <pre>{@code
 * GuestDump dump = GuestDumps.read(Path.of("core.elf.gz"));          // ELF or raw, by the magic
 * GuestDump core = GuestDumps.readElf(Path.of("core.elf"), 46);       // ELF only, MAXPHYADDR 46
 * GuestDump image = GuestDumps.readRaw(Path.of("pmem.bin"), DumpOptions.DEFAULTS);
 * }</pre>
 *
 * <p>Every problem with the file, from a missing file to a note too short for CR3, is a {@link
 * DumpFormatException} naming the file, the offset and what was expected; nothing else is thrown
 * for a bad file. Reading streams segment data in 1 MiB chunks, so the heap holds only the frames
 * with non-zero bytes (and at most {@link DumpOptions#frameBudget()} of them).
 *
 * <p>Stateless and thread-safe: each call opens, reads and closes its own file.
 */
public final class GuestDumps {
  private GuestDumps() {}

  /**
   * Reads an ELF core or, if the file does not start with {@code 7f 45 4c 46} (after gzip
   * decompression), a raw image, with the default options (MAXPHYADDR 52).
   *
   * @param path the file
   * @return the dump
   * @throws DumpFormatException if the file cannot be read as a dump
   */
  public static GuestDump read(Path path) {
    return read(path, DumpOptions.DEFAULTS);
  }

  /**
   * Reads an ELF core or, if the file does not start with {@code 7f 45 4c 46} (after gzip
   * decompression), a raw image, into a memory of the given MAXPHYADDR.
   *
   * @param path the file
   * @param maxPhyAddr MAXPHYADDR of the memory, 32 to 52
   * @return the dump
   * @throws IllegalArgumentException if {@code maxPhyAddr} is out of range
   * @throws DumpFormatException if the file cannot be read as a dump
   */
  public static GuestDump read(Path path, int maxPhyAddr) {
    return read(path, DumpOptions.DEFAULTS.withMaxPhyAddr(maxPhyAddr));
  }

  /**
   * Reads an ELF core or, if the file does not start with {@code 7f 45 4c 46} (after gzip
   * decompression), a raw image. A raw image that happens to start with the ELF magic must be read
   * with {@link #readRaw}.
   *
   * @param path the file
   * @param options MAXPHYADDR, frame budget and decompression bound
   * @return the dump
   * @throws DumpFormatException if the file cannot be read as a dump
   */
  public static GuestDump read(Path path, DumpOptions options) {
    Objects.requireNonNull(options, "options");
    try (DumpFile file =
        DumpFile.open(Objects.requireNonNull(path, "path"), options.maxDecompressedBytes())) {
      byte[] magic = new byte[4];
      int n = (int) Math.min(magic.length, file.size());
      file.readFully(0, magic, 0, n, "the magic");
      return ElfCoreReader.hasMagic(magic, n)
          ? ElfCoreReader.read(file, options)
          : RawImageReader.read(file, options);
    }
  }

  /**
   * Reads an ELF core into a memory of the given MAXPHYADDR.
   *
   * @param path the file, plain or gzip-compressed
   * @param maxPhyAddr MAXPHYADDR of the memory, 32 to 52
   * @return the dump
   * @throws IllegalArgumentException if {@code maxPhyAddr} is out of range
   * @throws DumpFormatException if the file is not a well-formed x86 ELF core that fits
   */
  public static GuestDump readElf(Path path, int maxPhyAddr) {
    return readElf(path, DumpOptions.DEFAULTS.withMaxPhyAddr(maxPhyAddr));
  }

  /**
   * Reads an ELF core.
   *
   * @param path the file, plain or gzip-compressed
   * @param options MAXPHYADDR, frame budget and decompression bound
   * @return the dump
   * @throws DumpFormatException if the file is not a well-formed x86 ELF core that fits
   */
  public static GuestDump readElf(Path path, DumpOptions options) {
    Objects.requireNonNull(options, "options");
    try (DumpFile file =
        DumpFile.open(Objects.requireNonNull(path, "path"), options.maxDecompressedBytes())) {
      return ElfCoreReader.read(file, options);
    }
  }

  /**
   * Reads a raw physical image into a memory of the given MAXPHYADDR: byte N of the file is
   * physical address N.
   *
   * @param path the file, plain or gzip-compressed
   * @param maxPhyAddr MAXPHYADDR of the memory, 32 to 52
   * @return the dump, without vCPUs
   * @throws IllegalArgumentException if {@code maxPhyAddr} is out of range
   * @throws DumpFormatException if the file cannot be read or does not fit
   */
  public static GuestDump readRaw(Path path, int maxPhyAddr) {
    return readRaw(path, DumpOptions.DEFAULTS.withMaxPhyAddr(maxPhyAddr));
  }

  /**
   * Reads a raw physical image: byte N of the file is physical address N.
   *
   * @param path the file, plain or gzip-compressed
   * @param options MAXPHYADDR, frame budget and decompression bound
   * @return the dump, without vCPUs
   * @throws DumpFormatException if the file cannot be read or does not fit
   */
  public static GuestDump readRaw(Path path, DumpOptions options) {
    Objects.requireNonNull(options, "options");
    try (DumpFile file =
        DumpFile.open(Objects.requireNonNull(path, "path"), options.maxDecompressedBytes())) {
      return RawImageReader.read(file, options);
    }
  }
}
