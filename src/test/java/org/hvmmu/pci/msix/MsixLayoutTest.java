package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.hvmmu.pci.ConfigBuilder;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.VirtioPciCap;
import org.junit.jupiter.api.Test;

class MsixLayoutTest {
  /** MSI-X at 0x40 with the given registers; BAR 0 is 32-bit at 0xfe000000, BAR 1 I/O. */
  static ConfigBuilder device(int control, long table, long pba) {
    return ConfigBuilder.normal()
        .bar(0, 0xfe000000L)
        .bar(1, 0x0000e001L)
        .set8(0x34, 0x40)
        .msix(0x40, 0, control, table, pba);
  }

  private static void assertWarned(MsixLayout layout, String warning) {
    assertTrue(
        layout.warnings().contains(warning), "missing \"" + warning + "\" in " + layout.warnings());
  }

  @Test
  void shouldDecodeTheCapability() {
    // Control 0xc0ff: enable (bit 15), function mask (bit 14), 0xff + 1 = 256 entries.
    MsixCapability c = MsixCapability.find(device(0xc0ff, 0x2000, 0x3000).device());
    assertTrue(c.isPresent());
    assertEquals(0x40, c.capOffset());
    assertEquals(256, c.tableSize());
    assertTrue(c.enabled());
    assertTrue(c.functionMask());
    assertEquals(0, c.tableBir());
    assertEquals(0x2000L, c.tableOffset());
    assertEquals(0x3000L, c.pbaOffset());
  }

  @Test
  void shouldSplitBirAndOffset() {
    // 0xfffffffd: BIR 5, offset 0xfffffff8 (unsigned).
    MsixCapability c = new MsixCapability(0x40, 0, 0xfffffffd, 0x00000803);
    assertEquals(5, c.tableBir());
    assertEquals(0xfffffff8L, c.tableOffset());
    assertEquals(3, c.pbaBir());
    assertEquals(0x800L, c.pbaOffset());
  }

  @Test
  void shouldComputeFramesFromTheBar() {
    // 256 entries at BAR 0 + 0x2000: table 0xfe002000..0xfe002fff, frame 0xfe002 only.
    // PBA at 0xfe003000, 32 bytes: frame 0xfe003.
    MsixLayout layout = MsixLayout.inspect(device(0x00ff, 0x2000, 0x3000).device(0x4000));
    assertEquals(
        new MsixRegion(0, 0x2000, 0x1000, true, 0xfe002000L, 0xfe002L, 0xfe002L), layout.table());
    assertEquals(
        new MsixRegion(0, 0x3000, 32, true, 0xfe003000L, 0xfe003L, 0xfe003L), layout.pba());
    assertEquals(PbaSizing.CORRECTED, layout.pbaSizing());
    // The PBA's page holds 0x1000 - 0x20 = 0xfe0 other bytes.
    assertEquals(
        List.of(
            "the page of the PBA ([0x3000, 0x3fff] of BAR 0) also holds 0xfe0 bytes that are"
                + " neither table nor PBA: registers there, if any, become read-only"),
        layout.warnings());
  }

  @Test
  void shouldUseTheRequestedPbaSizingForFramesOnly() {
    // 2048 entries, PBA at 0xfe0: 32 bytes upstream end at 0xfff, 256 real bytes at 0x10df.
    ConfigBuilder b = device(0x07ff, 0x8000, 0xfe0);
    MsixLayout upstream = MsixLayout.inspect(b.device(), PbaSizing.BITS_TO_LONGS);
    MsixLayout corrected = MsixLayout.inspect(b.device(), PbaSizing.CORRECTED);
    assertEquals(0xfe000L, upstream.pba().lastFrame());
    assertEquals(32, upstream.pba().length());
    assertEquals(0xfe001L, corrected.pba().lastFrame());
    assertEquals(256, corrected.pba().length());
    assertEquals(upstream.warnings(), corrected.warnings());
  }

  @Test
  void shouldWarnAboutBirsBeyondTheHeaderAndIoBars() {
    MsixLayout layout = MsixLayout.inspect(device(0, 0x6, 0x1).device());
    assertWarned(layout, "table BIR 6 is beyond the 6 BARs of header type 0x0");
    assertWarned(layout, "PBA BIR 1 names I/O BAR 1");
    assertFalse(layout.table().usable());
    assertFalse(layout.pba().usable());
    // A bridge has 2 BARs: BIR 2 is beyond them.
    MsixLayout bridge = MsixLayout.inspect(device(0, 0x2, 0x0).headerType(0x81).device());
    assertWarned(bridge, "table BIR 2 is beyond the 2 BARs of header type 0x1");
  }

  @Test
  void shouldWarnAboutUnassignedAndHalfBars() {
    ConfigBuilder b =
        device(0, 0x2, 0x4)
            .bar(2, 0)
            .bar(3, 0xd000000cL) // 64-bit, low
            .bar(4, 0x1) //         high half named by the PBA
            .bar(5, 0x0000000c); // 64-bit in the last slot
    MsixLayout layout = MsixLayout.inspect(b.device());
    assertWarned(layout, "table BIR 2 names BAR 2, which reads 0 (unimplemented or unassigned)");
    assertWarned(layout, "PBA BIR 4 names the upper half of 64-bit BAR 3");
    MsixLayout last = MsixLayout.inspect(device(0, 0x5, 0x0).bar(5, 0xc).device());
    assertWarned(last, "table BIR 5 names 64-bit BAR 5 in the last slot, which is invalid");
    MsixLayout zero = MsixLayout.inspect(device(0, 0x2, 0x0).bar(2, 0x8).device());
    assertWarned(zero, "table BIR 2 names BAR 2, which is unassigned (address 0)");
  }

  @Test
  void shouldWarnAboutOverlapAndFit() {
    // 65 entries: table [0x0, 0x40f]; PBA at 0x400: [0x400, 0x40f] (16 bytes) overlaps it.
    MsixLayout overlap = MsixLayout.inspect(device(0x0040, 0x0, 0x400).device(0x1000));
    assertWarned(overlap, "table [0x0, 0x40f] and PBA [0x400, 0x40f] overlap in BAR 0");
    // PBA right after the table does not overlap.
    assertFalse(
        MsixLayout.inspect(device(0x0040, 0x0, 0x410).device(0x1000)).warnings().stream()
            .anyMatch(w -> w.contains("overlap")));
    // 256 entries (0x1000 bytes) at 0x800 in a 0x1000-byte BAR: [0x800, 0x17ff] does not fit.
    MsixLayout fit = MsixLayout.inspect(device(0x00ff, 0x800, 0x0).device(0x1000));
    assertWarned(fit, "table [0x800, 0x17ff] does not fit BAR 0 of 0x1000 bytes");
    // PBA offset beyond the BAR (the Chelsio T5 VF case QEMU works around).
    MsixLayout beyond = MsixLayout.inspect(device(0, 0x0, 0x8000).device(0x2000));
    assertWarned(beyond, "PBA [0x8000, 0x8007] does not fit BAR 0 of 0x2000 bytes");
    // Unknown size: no fit warning.
    assertFalse(
        MsixLayout.inspect(device(0x00ff, 0x800, 0x0).device()).warnings().stream()
            .anyMatch(w -> w.contains("fit")));
  }

  @Test
  void shouldWarnAboutBarsSmallerThanAPage() {
    MsixLayout layout = MsixLayout.inspect(device(0, 0x0, 0x800).device(0x1000 / 2));
    assertWarned(
        layout,
        "table is in BAR 0 of 0x800 bytes, smaller than a page: the rest of its page is outside the"
            + " BAR and may hold other devices' registers");
  }

  @Test
  void shouldReportOnlyPagesHoldingOtherBytes() {
    // 256 entries fill [0x0, 0xfff]; in an 8 KiB BAR the PBA's page [0x1000, 0x1fff] still has
    // 0x1000 - 0x20 other bytes, so only the PBA is reported.
    MsixLayout layout = MsixLayout.inspect(device(0x00ff, 0x0, 0x1000).device(0x2000));
    assertEquals(1, layout.warnings().size(), layout.warnings().toString());
    assertTrue(
        layout.warnings().get(0).startsWith("the page of the PBA"), layout.warnings().toString());
  }

  /** A virtio device (vendor 0x1af4) with MSI-X at 0x40 and one vendor capability at 0x50. */
  private static PciDevice virtio(int cfgType, int bar, long offset, long length) {
    return device(0x0002, 0x0, 0x2000)
        .set16(0, VirtioPciCap.VENDOR_ID_VIRTIO)
        .set8(0x41, 0x50)
        .cap(0x50, 0x09, 0)
        .set8(0x52, 16)
        .set8(0x53, cfgType)
        .set8(0x54, bar)
        .set32(0x58, offset)
        .set32(0x5c, length)
        .device(0x4000);
  }

  @Test
  void shouldWarnAboutVirtioRegistersInTheTablePage() {
    // Table: 3 entries at BAR 0 offset 0, page [0x0, 0xfff]. ISR at 0x800 shares it.
    PciDevice d = virtio(VirtioPciCap.ISR_CFG, 0, 0x800, 4);
    assertEquals(List.of(new VirtioPciCap(0x50, 3, 0, 0x800, 4)), VirtioPciCap.readAll(d));
    assertEquals(
        List.of(
            "virtio ISR registers [0x800, 0x803] (capability at 0x50) share a page with the table"
                + " in BAR 0: they become read-only"),
        MsixLayout.inspect(d).warnings());
  }

  @Test
  void shouldNotWarnAboutVirtioRegistersElsewhere() {
    assertEquals(
        List.of(), MsixLayout.inspect(virtio(VirtioPciCap.COMMON_CFG, 0, 0x1000, 0x38)).warnings());
    assertEquals(
        List.of(), MsixLayout.inspect(virtio(VirtioPciCap.COMMON_CFG, 2, 0x0, 0x1000)).warnings());
    // The PCI config access window names no BAR space.
    assertEquals(
        List.of(), MsixLayout.inspect(virtio(VirtioPciCap.PCI_CFG, 0, 0x2000, 4)).warnings());
    // The PBA's page [0x2000, 0x2fff]: a notify block ending at 0x2000 shares it.
    assertEquals(
        1,
        MsixLayout.inspect(virtio(VirtioPciCap.NOTIFY_CFG, 0, 0x1000, 0x1001)).warnings().size());
  }

  @Test
  void shouldReportAbsentAndCutOffCapabilities() {
    MsixLayout none = MsixLayout.inspect(ConfigBuilder.normal().device());
    assertEquals(MsixCapability.ABSENT, none.capability());
    assertEquals(MsixRegion.NONE, none.table());
    assertEquals(List.of(), none.warnings());
    // A 256-byte space with MSI-X at 0xf8: its PBA register at 0x100 is not known.
    ConfigSpace cut = ConfigBuilder.normal().set8(0x34, 0xf8).cap(0xf8, 0x11, 0).build();
    MsixLayout layout =
        MsixLayout.inspect(new PciDevice(new org.hvmmu.pci.PciAddress(0, 0, 1, 0), cut, "t"));
    assertFalse(layout.capability().isPresent());
    assertEquals(
        List.of("MSI-X capability at 0xf8 is cut off by the end of the 0x100 bytes known"),
        layout.warnings());
  }

  @Test
  void shouldWarnAboutASecondMsixCapability() {
    PciDevice d = device(0, 0x0, 0x800).set8(0x41, 0x60).msix(0x60, 0, 0x7ff, 0, 0).device();
    MsixLayout layout = MsixLayout.inspect(d);
    assertEquals(0x40, layout.capability().capOffset());
    assertWarned(layout, "2 MSI-X capabilities on the chain; the first, at 0x40, is used");
  }

  @Test
  void shouldValidateTheRecord() {
    assertThrows(IllegalArgumentException.class, () -> new MsixCapability(0x3c, 0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new MsixCapability(0x42, 0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new MsixCapability(0x40, 0x10000, 0, 0));
    assertFalse(MsixCapability.ABSENT.isPresent());
  }
}
