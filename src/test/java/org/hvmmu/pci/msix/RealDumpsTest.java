package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.hvmmu.pci.LspciDumpReader;
import org.hvmmu.pci.LspciVerboseText;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciRegs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every real dump in {@code src/test/resources/org/hvmmu/pci/dumps} (copied from the shared test
 * data: pciutils' regression dumps) decodes as lspci decodes it: lspci 3.9.0's {@code -F} run on
 * the same hex ({@code .lspci-F-vvv.txt}) and, for MSI-X, the original machine's output ({@code
 * .vvv.txt}). The expected values are parsed from lspci's text, never from our own output.
 */
class RealDumpsTest {
  static Path dumps() {
    try {
      return Path.of(RealDumpsTest.class.getResource("/org/hvmmu/pci/dumps/").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Stream<String> hexDumps() throws IOException {
    try (Stream<Path> files = Files.list(dumps())) {
      List<String> names =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".xxx.txt"))
              .sorted()
              .toList();
      return names.stream();
    }
  }

  private static String text(String name) throws IOException {
    return Files.readString(dumps().resolve(name), StandardCharsets.UTF_8);
  }

  private static PciDevice only(String hexName) {
    List<PciDevice> devices = LspciDumpReader.read(dumps().resolve(hexName));
    assertEquals(1, devices.size(), hexName);
    return devices.get(0);
  }

  @Test
  void shouldHaveFourteenHexDumps() throws IOException {
    assertEquals(14, hexDumps().count());
  }

  @ParameterizedTest
  @MethodSource("hexDumps")
  void shouldDecodeAsLspciFDoes(String hexName) throws IOException {
    PciDevice device = only(hexName);
    String base = hexName.substring(0, hexName.length() - ".xxx.txt".length());
    List<LspciVerboseText.Device> expected =
        LspciVerboseText.parse(text(base + ".lspci-F-vvv.txt"));
    assertEquals(1, expected.size());
    assertEquals(expected.get(0).address(), device.address(), hexName);
    LspciComparison.assertMsixMatches(device, expected.get(0), hexName + " vs lspci -F");
    LspciComparison.assertBarsMatch(device, expected.get(0), hexName + " vs lspci -F");
    // The dumps are lspci -xxxx: the whole 4 KiB.
    assertEquals(base.contains("virtio") ? 256 : 4096, device.config().size());
  }

  @ParameterizedTest
  @MethodSource("hexDumps")
  void shouldDecodeMsixAsTheOriginalMachineDid(String hexName) throws IOException {
    PciDevice device = only(hexName);
    String base = hexName.substring(0, hexName.length() - ".xxx.txt".length());
    List<LspciVerboseText.Device> expected = LspciVerboseText.parse(text(base + ".vvv.txt"));
    assertEquals(1, expected.size());
    LspciComparison.assertMsixMatches(device, expected.get(0), hexName + " vs original lspci");
    // The original run had sysfs: no -F artifacts, and EA BARs show as [virtual].
    LspciComparison.assertBarsMatch(device, expected.get(0), hexName + " vs original lspci");
  }

  @Test
  void shouldFindNoMsixOnTheRootPortBridge() {
    PciDevice bridge = only("pciutils_intel_sunrisepoint_rootport_NO_MSIX_8086-9d10.xxx.txt");
    assertEquals(PciRegs.HEADER_TYPE_BRIDGE, bridge.headerType());
    // Header type byte 0x81: a multi-function bridge; masked with 0x7f it is type 1, two BARs.
    assertEquals(0x81, bridge.headerTypeRegister());
    assertEquals(2, bridge.barLimit());
    MsixLayout layout = MsixLayout.inspect(bridge);
    assertFalse(layout.capability().isPresent());
    assertEquals(MsixRegion.NONE, layout.table());
    assertTrue(layout.warnings().isEmpty(), layout.warnings().toString());
  }

  @Test
  void shouldWarnThatTheEnhancedAllocationBarsReadZero() {
    // Cavium ThunderX: BARs come from Enhanced Allocation (cap 0x14), so BAR 4 reads 0.
    PciDevice cavium = only("pciutils_cavium_thunderx_nic_ea_177d-a01e.xxx.txt");
    assertTrue(cavium.bars().isEmpty());
    assertTrue(cavium.capabilities().findCapOffset(PciRegs.CAP_ID_EA) != 0);
    MsixLayout layout = MsixLayout.inspect(cavium);
    assertFalse(layout.table().usable());
    assertFalse(layout.pba().usable());
    assertTrue(
        layout
            .warnings()
            .contains("table BIR 4 names BAR 4, which reads 0 (unimplemented or unassigned)"),
        layout.warnings().toString());
    assertTrue(
        layout
            .warnings()
            .contains("PBA BIR 4 names BAR 4, which reads 0 (unimplemented or unassigned)"),
        layout.warnings().toString());
  }

  @Test
  void shouldWarnThatTheAtherosTableAndPbaOverlap() {
    // Count=1, table and PBA both at BAR 0 offset 0: table [0x0, 0xf] (16 bytes) and PBA [0x0, 0x7]
    // (8 bytes, one QWORD).
    MsixLayout layout = MsixLayout.inspect(only("pciutils_atheros_ar928x_168c-002a.xxx.txt"));
    assertTrue(
        layout.warnings().contains("table [0x0, 0xf] and PBA [0x0, 0x7] overlap in BAR 0"),
        layout.warnings().toString());
    // BAR 0 = 0x56100000 (from lspci): both regions are in frame 0x56100.
    assertEquals(0x56100L, layout.table().firstFrame());
    assertEquals(0x56100L, layout.pba().lastFrame());
  }

  @Test
  void shouldNotWarnAboutVirtioRegistersOutsideTheTableAndPbaPages() {
    // virtio-fs: table BAR 0 @0, PBA @0x2000, register blocks at 0x3000..0x3073 and in BAR 2.
    MsixLayout fs = MsixLayout.inspect(only("pciutils_virtio_fs_1af4-105a.xxx.txt"));
    assertEquals(List.of(), fs.warnings());
    // virtio-net: table and PBA in BAR 1, register blocks all in BAR 2.
    MsixLayout net = MsixLayout.inspect(only("pciutils_virtio_net_1af4-1000.xxx.txt"));
    assertEquals(List.of(), net.warnings());
  }

  @Test
  void shouldSkipDecodedOnlyOutputWithoutHex() throws IOException {
    try (Stream<Path> files = Files.list(dumps())) {
      List<Path> decoded =
          files.filter(p -> p.getFileName().toString().startsWith("pxpunx")).toList();
      assertEquals(23, decoded.size());
      for (Path p : decoded) {
        assertEquals(List.of(), LspciDumpReader.read(p), p.toString());
      }
    }
  }
}
