package org.hvmmu.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.hvmmu.fuzz.HostileFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, D3, D8 and D9 for the PCI readers: a long row, long lines, non-regular and oversized
 * files, and an unreadable entry of a devices directory. Expected messages are written by hand.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HostileDumpInputTest {
  /** {@code 01:00.0 x}, then {@code 00:} and {@code n} times {@code " 00"}. */
  static String longRow(int n) {
    return "01:00.0 x\n00:" + " 00".repeat(n) + "\n";
  }

  @Test
  void aRowOf1300BytesIsAParseErrorNamingTheLineNotAStackOverflow() {
    PciDumpParseException e = assertThrows(PciDumpParseException.class,
        () -> LspciDumpReader.parse("d.txt", longRow(1300)));
    assertEquals(2, e.line());
    assertEquals("d.txt:2: row at 0x0 has more than 16 bytes", e.getMessage());
  }

  @Test
  void aContinuationOf1300BytesIsAParseError() {
    // A row cut short after 8 bytes continues on the next line; 1,300 more bytes overflow it.
    String text = "01:00.0 x\n00:" + " 11".repeat(8) + "\n" + " 22".repeat(1300) + "\n";
    PciDumpParseException e = assertThrows(PciDumpParseException.class,
        () -> LspciDumpReader.parse("d.txt", text));
    assertEquals("d.txt:3: row at 0x0 has more than 16 bytes", e.getMessage());
  }

  @Test
  void aLineOverTheBoundIsAParseErrorAndOneAtTheBoundIsNot() {
    String atBound = "x".repeat(LspciDumpReader.MAX_LINE_CHARS);
    assertEquals(List.of(), LspciDumpReader.parse("d", "# header\n" + atBound + "\n"));
    PciDumpParseException e = assertThrows(PciDumpParseException.class,
        () -> LspciDumpReader.parse("d", "# header\n" + atBound + "y\nmore\n"));
    assertEquals("d:2: line longer than 4096 characters", e.getMessage());
    // A NUL-filled line (binary junk) is bounded the same way.
    e = assertThrows(PciDumpParseException.class,
        () -> LspciDumpReader.parse("d", "\0".repeat(5000)));
    assertEquals(1, e.line());
  }

  @Test
  void theHandTokeniserReadsWhatThePatternsRead() {
    // Segment, wrapped header, CRLF, tabs, a row wrapped after 8 bytes, trailing blanks.
    StringBuilder t = new StringBuilder("0002:0a:1f.7 Ethernet controller: x\r\n");
    for (int row = 0; row < 4; row++) {
      t.append(String.format("%02x:", row * 16));
      for (int b = 0; b < 16; b++) {
        t.append(b == 8 && row == 1 ? "\n\t" : " ").append(String.format("%02x", row * 16 + b));
      }
      t.append(" \r\n");
    }
    List<PciDevice> d = LspciDumpReader.parse("t", t.toString());
    assertEquals(1, d.size());
    assertEquals(new PciAddress(2, 0x0a, 0x1f, 7), d.get(0).address());
    assertEquals(0x0100, d.get(0).vendorId()); // bytes 00 01, little-endian
    assertEquals(0x3f, d.get(0).config().read8(0x3f));
    // Not rows, so decoration: fused bytes, a 4-digit offset, full-width digits.
    assertEquals(List.of(), LspciDumpReader.parse("t", "00: 0a0b\n0000: 00\n\uff10\uff10: 00\n"));
  }

  @Test
  void aDumpFileIsReadALineAtATimeWithTheSameResult(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("long.txt");
    Files.writeString(f, longRow(1300));
    PciDumpParseException e = assertThrows(PciDumpParseException.class,
        () -> LspciDumpReader.read(f));
    assertEquals(f + ":2: row at 0x0 has more than 16 bytes", e.getMessage());
  }

  @Test
  void nonRegularFilesAreRefusedWithAReason(@TempDir Path dir) throws IOException {
    assertRefused(Path.of("/dev/zero"), "not a regular file (a device, FIFO or socket)");
    assertRefused(dir, "is a directory");
    Path link = dir.resolve("zero-link");
    Files.createSymbolicLink(link, Path.of("/dev/zero"));
    assertRefused(link, "not a regular file (a device, FIFO or socket)");
    Path fifo = HostileFiles.mkfifo(dir.resolve("fifo"));
    assertRefused(fifo, "not a regular file (a device, FIFO or socket)");
    Path sparse =
        HostileFiles.sparse(dir.resolve("sparse.txt"), LspciDumpReader.MAX_FILE_BYTES + 1);
    assertRefused(sparse, "larger than 0x4000000 bytes");
    assertRefused(dir.resolve("missing"), "no such file");
  }

  private static void assertRefused(Path file, String why) {
    UncheckedIOException e = assertThrows(UncheckedIOException.class,
        () -> LspciDumpReader.read(file));
    assertEquals("cannot read " + file + ": " + why, e.getMessage());
  }

  @Test
  void sysfsConfigAndResourceReadsAreBounded(@TempDir Path dir) throws IOException {
    Path config = dir.resolve("config");
    Files.write(config, new byte[4097]);
    UncheckedIOException e = assertThrows(UncheckedIOException.class,
        () -> SysfsReader.readConfig(config));
    assertEquals("cannot read " + config + ": larger than 0x1000 bytes", e.getMessage());
    Path zero = dir.resolve("zero");
    Files.createSymbolicLink(zero, Path.of("/dev/zero"));
    e = assertThrows(UncheckedIOException.class, () -> SysfsReader.readConfig(zero));
    assertEquals("cannot read " + zero + ": not a regular file (a device, FIFO or socket)",
        e.getMessage());
    Path resource = dir.resolve("resource");
    Files.writeString(resource, "0x0 0x0 0x0\n".repeat(2000)); // 24,000 bytes > 16 KiB
    e = assertThrows(UncheckedIOException.class, () -> SysfsReader.readResourceSizes(resource));
    assertEquals("cannot read " + resource + ": larger than 0x4000 bytes", e.getMessage());
  }

  @Test
  void oneUnreadableEntryDoesNotHideTheOthers(@TempDir Path dir) throws IOException {
    byte[] header = new ConfigBuilder(64).set16(0, 0x8086).set16(2, 0x10c9).bytes();
    Files.createDirectories(dir.resolve("0000:00:02.0"));
    Files.write(dir.resolve("0000:00:02.0/config"), header);
    Files.createDirectories(dir.resolve("0000:00:03.0/config")); // config is a directory
    Files.createDirectories(dir.resolve("0000:00:04.0"));
    Files.createSymbolicLink(dir.resolve("0000:00:04.0/config"), Path.of("/dev/zero"));
    Files.createDirectories(dir.resolve("0000:00:05.0")); // no config at all
    Files.createDirectories(dir.resolve("0000:00:06.0"));
    Files.write(dir.resolve("0000:00:06.0/config"), new byte[3]); // a size no config has
    SysfsReader.DevicesRead read = SysfsReader.readDevicesReporting(dir);
    assertEquals(1, read.devices().size());
    assertEquals(0x10c9, read.devices().get(0).deviceId());
    assertEquals(List.of(
        "cannot read " + dir + "/0000:00:03.0/config: is a directory",
        "cannot read " + dir + "/0000:00:04.0/config: not a regular file (a device, FIFO or"
            + " socket)",
        "cannot read " + dir + "/0000:00:05.0/config: no such file",
        dir + "/0000:00:06.0/config: config file of 0x3 bytes (expected 0x40, 0x80, 0x100 or"
            + " 0x1000)"), read.problems());
  }

  @Test
  void anUnreadableConfigSaysPermissionDenied(@TempDir Path dir) throws IOException {
    Path config = dir.resolve("config");
    Files.write(config, new byte[64]);
    assumeTrue(config.toFile().setReadable(false, false), "cannot drop the read permission");
    assumeTrue(!Files.isReadable(config), "running as root: the file stays readable");
    UncheckedIOException e = assertThrows(UncheckedIOException.class,
        () -> SysfsReader.readConfig(config));
    assertEquals("cannot read " + config + ": permission denied", e.getMessage());
  }
}
