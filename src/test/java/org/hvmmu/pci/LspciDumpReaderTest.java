package org.hvmmu.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LspciDumpReaderTest {
  private static final String HEADER_ROWS =
      "00: 86 80 c9 10 07 04 10 00 01 00 00 02 10 00 80 00\n"
          + "10: 00 00 80 e0 00 00 00 e0 21 10 00 00 00 00 84 e0\n"
          + "20: 00 00 00 00 00 00 00 00 00 00 00 00 86 80 3c a0\n"
          + "30: 00 00 80 c7 40 00 00 00 00 00 00 00 0b 01 00 00\n";

  private static String rows(int from, int to) {
    StringBuilder sb = new StringBuilder();
    for (int at = from; at < to; at += 16) {
      sb.append(Integer.toHexString(at)).append(at < 16 ? "0" : "").append(':');
      for (int i = 0; i < 16; i++) {
        sb.append(" 00");
      }
      sb.append('\n');
    }
    return sb.toString().replaceFirst("^00:", "00:");
  }

  @Test
  void shouldReadAnLspciXDumpOf64Bytes() {
    List<PciDevice> devices =
        LspciDumpReader.parse(
            "x.txt", "01:00.0 Ethernet controller: Intel Corporation 82576\n" + HEADER_ROWS);
    assertEquals(1, devices.size());
    PciDevice d = devices.get(0);
    assertEquals(PciAddress.parse("0000:01:00.0"), d.address());
    assertEquals(64, d.config().size());
    assertEquals(0x8086, d.vendorId());
    assertEquals(0x10c9, d.deviceId());
    assertEquals(0xe0840000L, d.bar(3).address());
    assertEquals("x.txt", d.source());
  }

  @Test
  void shouldReadManyDevicesWithDomainsDecorationAndCrlf() {
    String text =
        "lspci: Unable to load libkmod resources: error -2\r\n"
            + "0002:01:00.0 Ethernet controller: Cavium, Inc. THUNDERX Network Interface\r\n"
            + "    Controller (rev 08)\r\n" // a header wrapped by a mail client
            + HEADER_ROWS.replace("\n", "\r\n")
            + "\r\n"
            + "00:1c.0 PCI bridge: Intel Corporation Sunrise Point-LP PCI Express Root Port\n"
            + "\tControl: I/O+ Mem+ BusMaster+\n" // -v decoration between header and hex
            + HEADER_ROWS
            + rows(0x40, 0x100)
            + "\n";
    List<PciDevice> devices = LspciDumpReader.parse("many.txt", text);
    assertEquals(2, devices.size());
    assertEquals(new PciAddress(2, 1, 0, 0), devices.get(0).address());
    assertEquals(64, devices.get(0).config().size());
    assertEquals(new PciAddress(0, 0, 0x1c, 0), devices.get(1).address());
    assertEquals(256, devices.get(1).config().size());
  }

  @Test
  void shouldJoinARowWrappedOntoTheNextLine() {
    String wrapped =
        HEADER_ROWS.replace(
            "10: 00 00 80 e0 00 00 00 e0 21 10 00 00 00 00 84 e0\n",
            "10: 00 00 80 e0 00 00 00 e0\n   21 10 00 00 00 00 84 e0\n");
    PciDevice d = LspciDumpReader.parse("w.txt", "01:00.0 x\n" + wrapped).get(0);
    assertEquals(0xe0840000L, d.bar(3).address());
  }

  @Test
  void shouldReadTheExtendedSpaceOfXxxx() {
    PciDevice d =
        LspciDumpReader.parse("4k.txt", "01:00.0 x\n" + HEADER_ROWS + rows(0x40, 0x1000)).get(0);
    assertEquals(4096, d.config().size());
  }

  @Test
  void shouldIgnoreHeadersWithoutHex() {
    assertEquals(
        List.of(), LspciDumpReader.parse("v.txt", "01:00.0 x\n\tControl: I/O+\n02:00.0 y\n"));
    assertEquals(List.of(), LspciDumpReader.parse("empty.txt", ""));
  }

  private static PciDumpParseException fails(String text) {
    return assertThrows(PciDumpParseException.class, () -> LspciDumpReader.parse("bad.txt", text));
  }

  @Test
  void shouldNameTheLineOfAnOutOfOrderRow() {
    PciDumpParseException e = fails("01:00.0 x\n" + HEADER_ROWS.replace("20:", "30:"));
    assertEquals("bad.txt", e.source());
    assertEquals(4, e.line());
    assertEquals("bad.txt:4: expected the row at 0x20, found 0x30", e.getMessage());
  }

  @Test
  void shouldRejectAShortRow() {
    PciDumpParseException e = fails("01:00.0 x\n" + HEADER_ROWS.replace(" 84 e0\n", "\n"));
    assertEquals(3, e.line());
    assertTrue(e.getMessage().contains("has 14 bytes"), e.getMessage());
  }

  @Test
  void shouldRejectALongRow() {
    PciDumpParseException e = fails("01:00.0 x\n" + HEADER_ROWS.replace(" 84 e0\n", " 84 e0 00\n"));
    assertEquals(3, e.line());
  }

  @Test
  void shouldRejectATruncatedDump() {
    PciDumpParseException e = fails("junk\n01:00.0 x\n" + HEADER_ROWS + rows(0x40, 0x60));
    assertEquals(2, e.line());
    assertTrue(e.getMessage().contains("0x60 bytes"), e.getMessage());
  }

  @Test
  void shouldRejectRowsBeforeAnyHeader() {
    assertEquals(1, fails(HEADER_ROWS).line());
  }

  @Test
  void shouldRejectImpossibleAddresses() {
    PciDumpParseException e = fails("01:20.0 x\n" + HEADER_ROWS);
    assertEquals(1, e.line());
    assertTrue(e.getMessage().contains("0x20"), e.getMessage());
  }

  @Test
  void shouldReadFilesAndNameThem(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("dump.txt");
    Files.writeString(file, "01:00.0 x\n" + HEADER_ROWS.replace("10:", "20:"));
    PciDumpParseException e =
        assertThrows(PciDumpParseException.class, () -> LspciDumpReader.read(file));
    assertEquals(file.toString(), e.source());
    assertTrue(e.getMessage().startsWith(file + ":3: "), e.getMessage());
    assertThrows(
        UncheckedIOException.class, () -> LspciDumpReader.read(dir.resolve("missing.txt")));
  }
}
