package org.hvmmu.pci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.hvmmu.pci.msix.MsixLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SysfsReaderTest {
  private static final String RESOURCE =
      "0x00000000febd6000 0x00000000febd6fff 0x0000000000040200\n"
          + "0x0000004000000000 0x000000400007ffff 0x0000000000140204\n"
          + "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
          + "0x000000000000c060 0x000000000000c07f 0x0000000000040101\n"
          + "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
          + "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
          + "0x00000000feb80000 0x00000000febbffff 0x0000000000046200\n"; // line 7 (ROM) is not
                                                                          // read

  @Test
  void shouldSizeBarsFromTheResourceFile() {
    // 0xfebd6fff - 0xfebd6000 + 1 = 0x1000; 0x400007ffff - 0x4000000000 + 1 = 0x80000; 0x20 ports.
    assertArrayEquals(
        new long[] {0x1000, 0x80000, 0, 0x20, 0, 0},
        SysfsReader.parseResourceSizes("resource", RESOURCE));
  }

  @Test
  void shouldNameTheLineOfAMalformedResource() {
    PciDumpParseException e =
        assertThrows(
            PciDumpParseException.class,
            () -> SysfsReader.parseResourceSizes("res", "0x0 0x0 0x0\n0x10 0x0f 0x0\n"));
    assertEquals(2, e.line());
    assertEquals("res:2: resource end 0xf is below its start 0x10", e.getMessage());
    assertEquals(
        1,
        assertThrows(
                PciDumpParseException.class,
                () -> SysfsReader.parseResourceSizes("res", "0x0 0x1\n"))
            .line());
    assertEquals(
        1,
        assertThrows(
                PciDumpParseException.class,
                () -> SysfsReader.parseResourceSizes("res", "0xg 0x1 0x0\n"))
            .line());
  }

  private static void writeDevice(Path dir, String name, byte[] config, String resource)
      throws IOException {
    Path d = Files.createDirectories(dir.resolve(name));
    Files.write(d.resolve("config"), config);
    if (resource != null) {
      Files.writeString(d.resolve("resource"), resource, StandardCharsets.US_ASCII);
    }
  }

  @Test
  void shouldReadATreeInAddressOrder(@TempDir Path dir) throws IOException {
    byte[] virtio =
        new ConfigBuilder(256).set16(0, 0x1af4).set16(2, 0x1000).bar(1, 0xfebd6000L).bytes();
    byte[] header = new ConfigBuilder(64).set16(0, 0x8086).bar(0, 0xe0000000L).bytes();
    writeDevice(dir, "0000:00:09.0", virtio, RESOURCE);
    writeDevice(dir, "0000:00:02.0", header, null);
    Files.createDirectories(dir.resolve("not-a-device"));
    List<PciDevice> devices = SysfsReader.readDevices(dir);
    assertEquals(2, devices.size());
    assertEquals(PciAddress.parse("0000:00:02.0"), devices.get(0).address());
    assertEquals(64, devices.get(0).config().size()); // an unprivileged read
    assertEquals(0, devices.get(0).bar(0).size()); // no resource file: unknown
    PciDevice v = devices.get(1);
    assertEquals(0x1af4, v.vendorId());
    assertEquals(0xfebd6000L, v.bar(1).address());
    assertEquals(0x80000, v.bar(1).size());
  }

  @Test
  void shouldRejectAConfigFileOfAnotherSize(@TempDir Path dir) throws IOException {
    writeDevice(dir, "0000:00:01.0", new byte[100], null);
    PciDumpParseException e =
        assertThrows(PciDumpParseException.class, () -> SysfsReader.readDevices(dir));
    assertTrue(e.getMessage().contains("0x64 bytes"), e.getMessage());
    assertEquals(PciDumpParseException.NO_LINE, e.line());
  }

  /**
   * This machine's devices, checked against independent sysfs files: {@code vendor}, {@code
   * device}, and the start of each BAR's {@code resource} line (the BAR's address on x86, where bus
   * and CPU addresses agree).
   */
  @Test
  void shouldReadThisMachinesDevices() throws IOException {
    Path root = SysfsReader.DEFAULT_DEVICES_DIR;
    assumeTrue(Files.isDirectory(root), "no " + root + " on this machine");
    List<PciDevice> devices = SysfsReader.readDevices(root);
    assumeTrue(!devices.isEmpty(), "no PCI devices in " + root);
    for (PciDevice d : devices) {
      Path dir = root.resolve(d.address().toString());
      assertEquals(
          Integer.decode(Files.readString(dir.resolve("vendor")).trim()),
          d.vendorId(),
          d.toString());
      assertEquals(
          Integer.decode(Files.readString(dir.resolve("device")).trim()),
          d.deviceId(),
          d.toString());
      String[] lines = Files.readString(dir.resolve("resource")).split("\n");
      for (Bar bar : d.bars()) {
        if (!bar.isAssigned() || bar.kind() == BarKind.IO) {
          continue;
        }
        long start = Long.parseUnsignedLong(lines[bar.index()].split(" ")[0].substring(2), 16);
        assertEquals(start, bar.address(), d + " BAR " + bar.index());
        assertTrue(bar.isSizeKnown(), d + " BAR " + bar.index());
      }
      MsixLayout.inspect(d); // must not throw on real devices
    }
  }
}
