package org.hvmmu.mmu.dump;

import static org.hvmmu.mmu.dump.ElfCoreBuilder.EM_X86_64;
import static org.hvmmu.mmu.dump.ElfCoreBuilder.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.zip.GZIPOutputStream;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestDumpsTest {
  @TempDir Path dir;

  @Test
  void shouldReadARawImageWithBytesAtTheirPhysicalAddresses() throws IOException {
    byte[] image = pattern(3 * 0x1000 + 5, 7);
    Path file = write("pmem.bin", image);

    GuestDump dump = GuestDumps.read(file);

    assertEquals(DumpFormat.RAW, dump.format());
    assertEquals(ElfClass.NONE, dump.elfClass());
    assertEquals(ElfMachine.NONE, dump.machine());
    assertEquals(List.of(), dump.vcpus());
    assertEquals(List.of(new LoadSegment(0, 0, 0, image.length, image.length)), dump.segments());
    assertEquals(List.of("0-3 RAM"), ElfCoreReaderTest.regions(dump.memory()));
    byte[] read = new byte[image.length];
    dump.memory().readBytes(0, read, 0, read.length);
    assertArrayEquals(image, read);
    assertEquals(0, dump.memory().read(0x3005, 1), "the rest of the last frame is RAM");
    assertEquals(-1L, dump.memory().read(0x4000, 8), "beyond the file is absent");
  }

  @Test
  void shouldKeepRawImagesSparse() throws IOException {
    byte[] image = new byte[0x10_0000];
    image[0x8_1234] = 0x5a;
    GuestDump dump = GuestDumps.readRaw(write("sparse.bin", image), 40);
    assertEquals(1, dump.memory().allocatedFrames());
    assertEquals(0x5a, dump.memory().read(0x8_1234, 1));
    assertEquals(40, dump.memory().maxPhyAddr());
  }

  @Test
  void shouldTellElfFromRawByTheMagic() throws IOException {
    byte[] core = new ElfCoreBuilder(true, EM_X86_64).load(0x1000, pattern(16, 1)).build();
    assertEquals(DumpFormat.ELF_CORE, GuestDumps.read(write("core", core)).format());

    GuestDump raw = GuestDumps.readRaw(write("raw", core), 52);
    assertEquals(DumpFormat.RAW, raw.format());
    assertEquals(0x7f, raw.memory().read(0, 1), "readRaw takes the ELF bytes as memory");

    assertEquals(
        DumpFormat.RAW, GuestDumps.read(write("three", new byte[] {0x7f, 'E', 'L'})).format());
  }

  @Test
  void shouldReadGzipCompressedCoresAndImages() throws IOException {
    ElfCoreBuilder.CpuState cpu = ElfCoreBuilder.CpuState.distinct(0);
    byte[] data = pattern(0x3000, 5);
    byte[] core =
        new ElfCoreBuilder(true, EM_X86_64)
            .note("QEMU", 0, cpu.bytes())
            .load(0x20_0000, data)
            .build();
    TreeSet<String> before = temporaryDumps();
    Path file = write("core.elf.gz", gzip(core));

    GuestDump dump = GuestDumps.read(file);

    assertEquals(DumpFormat.ELF_CORE, dump.format());
    assertTrue(dump.compressed());
    assertEquals(file.toString(), dump.file());
    assertEquals(cpu.cr[3], dump.vcpus().get(0).cr3());
    byte[] read = new byte[data.length];
    dump.memory().readBytes(0x20_0000, read, 0, read.length);
    assertArrayEquals(data, read);

    GuestDump raw = GuestDumps.read(write("pmem.bin.gz", gzip(data)));
    assertEquals(DumpFormat.RAW, raw.format());
    assertTrue(raw.compressed());
    assertEquals(data[0x2fff] & 0xff, raw.memory().read(0x2fff, 1));
    assertEquals(before, temporaryDumps(), "the decompressed copies are deleted");
  }

  @Test
  void shouldRejectBrokenOrOversizedGzipStreams() throws IOException {
    TreeSet<String> before = temporaryDumps();
    byte[] core = new ElfCoreBuilder(true, EM_X86_64).load(0, pattern(0x8000, 3)).build();
    byte[] compressed = gzip(core);

    Path truncated = write("cut.elf.gz", Arrays.copyOf(compressed, compressed.length / 2));
    assertRejects(truncated, GuestDumps::read, "(gunzipped)", "gzip stream ends early");

    byte[] corrupt = compressed.clone();
    for (int i = 20; i < 60; i++) {
      corrupt[i] ^= (byte) 0xa5;
    }
    assertRejects(write("bad.elf.gz", corrupt), GuestDumps::read, "gzip stream");

    byte[] badTrailer = compressed.clone();
    badTrailer[badTrailer.length - 6] ^= 1; // CRC32
    assertRejects(write("crc.elf.gz", badTrailer), GuestDumps::read, "gzip stream is corrupt");

    Path big = write("big.elf.gz", compressed);
    DumpOptions small = DumpOptions.DEFAULTS.withMaxDecompressedBytes(0x1000);
    assertRejects(
        big,
        p -> GuestDumps.read(p, small),
        "decompresses to more than 0x1000",
        "maxDecompressedBytes");

    assertRejects(
        write("empty.gz", gzip(new byte[0])), GuestDumps::read, "decompresses to nothing");
    assertEquals(before, temporaryDumps(), "no decompressed copy is left behind");
  }

  @Test
  void shouldRejectFilesThatAreNotRegular() throws IOException {
    Path missing = dir.resolve("missing.elf");
    assertRejects(missing, GuestDumps::read, "no such file");
    assertRejects(dir, GuestDumps::read, "is a directory");
    Path fifo = dir.resolve("fifo");
    if (mkfifo(fifo)) {
      assertRejects(fifo, GuestDumps::read, "is not a regular file", "FIFO");
    }
    Path devZero = Path.of("/dev/zero");
    Assumptions.assumeTrue(Files.exists(devZero), "/dev/zero exists");
    assertRejects(devZero, GuestDumps::read, "is not a regular file");
    assertRejects(devZero, p -> GuestDumps.readRaw(p, 52), "is not a regular file");
  }

  @Test
  void shouldRejectUnreadableFiles() throws IOException {
    Path file = write("secret.elf", new byte[] {1, 2, 3});
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
    } catch (UnsupportedOperationException e) {
      Assumptions.abort("no POSIX permissions here");
    }
    Assumptions.assumeFalse(Files.isReadable(file), "running as a user that can read anything");
    DumpFormatException e = assertRejects(file, GuestDumps::read, "cannot be read");
    assertInstanceOf(AccessDeniedException.class, e.getCause());
  }

  @Test
  void shouldRejectRawImagesLargerThanTheAddressSpace() throws IOException {
    Path file = dir.resolve("huge.bin");
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength((1L << 32) + 1); // sparse: nothing is written
    }
    assertRejects(
        file,
        p -> GuestDumps.readRaw(p, 32),
        "0x100000001 bytes",
        "MAXPHYADDR 32",
        "at most 0x100000000");
    assertRejects(file, p -> GuestDumps.read(p, 32), "MAXPHYADDR 32");
  }

  @Test
  void shouldRejectOptionsOutOfRange() {
    assertThrows(IllegalArgumentException.class, () -> DumpOptions.DEFAULTS.withMaxPhyAddr(31));
    assertThrows(IllegalArgumentException.class, () -> DumpOptions.DEFAULTS.withMaxPhyAddr(53));
    assertThrows(IllegalArgumentException.class, () -> DumpOptions.DEFAULTS.withFrameBudget(0));
    assertThrows(
        IllegalArgumentException.class, () -> DumpOptions.DEFAULTS.withMaxDecompressedBytes(0));
    assertEquals(52, DumpOptions.DEFAULTS.maxPhyAddr());
    assertEquals(PhysicalMemory.DEFAULT_FRAME_BUDGET, DumpOptions.DEFAULTS.frameBudget());
    assertEquals(16L << 30, DumpOptions.DEFAULTS.maxDecompressedBytes());
    assertThrows(IllegalArgumentException.class, () -> GuestDumps.read(dir, 60));
  }

  @Test
  void shouldMapEnumCodes() {
    for (ElfClass c : ElfClass.values()) {
      assertEquals(c, ElfClass.fromCode(c.code()));
    }
    for (ElfMachine m : ElfMachine.values()) {
      assertEquals(m, ElfMachine.fromCode(m.code()));
    }
    assertThrows(IllegalArgumentException.class, () -> ElfClass.fromCode(3));
    assertThrows(IllegalArgumentException.class, () -> ElfMachine.fromCode(40));
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private Path write(String name, byte[] bytes) throws IOException {
    return Files.write(dir.resolve(name), bytes);
  }

  /** Makes a FIFO with mkfifo(1), if there is one; a read of it would block forever. */
  private static boolean mkfifo(Path path) {
    try {
      Process p = new ProcessBuilder("mkfifo", path.toString()).redirectErrorStream(true).start();
      return p.waitFor() == 0 && Files.exists(path);
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static byte[] gzip(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static TreeSet<String> temporaryDumps() throws IOException {
    TreeSet<String> names = new TreeSet<>();
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp, "hvmmu-dump-*")) {
      files.forEach(f -> names.add(f.getFileName().toString()));
    }
    return names;
  }

  private static DumpFormatException assertRejects(
      Path file, Function<Path, GuestDump> reader, String... fragments) {
    DumpFormatException e = assertThrows(DumpFormatException.class, () -> reader.apply(file));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    for (String fragment : fragments) {
      assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in " + e.getMessage());
    }
    return e;
  }
}
