package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.hvmmu.pci.ConfigBuilder;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.VirtioPciCap;
import org.junit.jupiter.api.Test;

/**
 * Warnings of {@link MsixLayout#inspect} for two layouts worked by hand: a table is 16 bytes an
 * entry, a PBA 8 bytes per 64 entries (PCIe Base §7.7.2), a page 0x1000 bytes; only header types
 * 0, 1 and 2 define BARs (PCI Local Bus 3.0 §6.1, PCI-to-PCI Bridge 1.2 §3.2, PC Card 8.0), so a
 * function of any other header type has none. A virtio register block (virtio 1.2 §4.1.4: cfg
 * type at +3, BAR at +4, offset at +8, length at +12 of a vendor capability) is write-protected
 * with a table page only if it lies in one of the table's pages.
 */
class MsixLayoutMarginTest {
  /** MSI-X at 0x40 with the given registers; BAR 0 is 32-bit at 0xfe000000. */
  private static ConfigBuilder device(int control, long table, long pba) {
    return ConfigBuilder.normal()
        .bar(0, 0xfe000000L)
        .set8(0x34, 0x40)
        .msix(0x40, 0, control, table, pba);
  }

  @Test
  void aPbaRightAfterTheTableShouldCountEachByteOnce() {
    // 4 entries: table [0x0, 0x3f], PBA [0x40, 0x47], adjacent, one page [0x0, 0xfff] of a
    // 0x1000-byte BAR: 0x1000 - 0x40 - 0x8 = 0xfb8 other bytes.
    assertEquals(
        List.of(
            "the page of the table ([0x0, 0xfff] of BAR 0) also holds 0xfb8 bytes that are neither"
                + " table nor PBA: registers there, if any, become read-only"),
        MsixLayout.inspect(device(0x0003, 0x0, 0x40).device(0x1000)).warnings());
  }

  @Test
  void aHeaderTypeWithoutBarsShouldSaySo() {
    // Header type 3 is none of the three defined layouts: no BAR slots at all.
    List<String> w = MsixLayout.inspect(device(0x0003, 0x0, 0x800).headerType(3).device())
        .warnings();
    assertTrue(w.contains("table BIR 0: header type 0x3 has no BARs"), w.toString());
    assertTrue(w.contains("PBA BIR 0: header type 0x3 has no BARs"), w.toString());
  }

  /** Virtio (vendor 0x1af4), 3 entries at BAR 0 + {@code table}, PBA at 0x2000, one ISR block. */
  private static PciDevice virtio(long table, long offset, long length) {
    return device(0x0002, table, 0x2000)
        .set16(0, VirtioPciCap.VENDOR_ID_VIRTIO)
        .set8(0x41, 0x50)
        .cap(0x50, 0x09, 0)
        .set8(0x52, 16)
        .set8(0x53, VirtioPciCap.ISR_CFG)
        .set8(0x54, 0)
        .set32(0x58, offset)
        .set32(0x5c, length)
        .device(0x4000);
  }

  @Test
  void aVirtioBlockOnThePageAfterATableEndingAtItsPageEndShouldNotWarn() {
    // Table 0x30 bytes at 0xfd0: [0xfd0, 0xfff], page [0x0, 0xfff]. ISR at 0x1000 is on the next
    // page; ISR at 0xffc is on the table's page.
    List<String> after = MsixLayout.inspect(virtio(0xfd0, 0x1000, 4)).warnings();
    assertTrue(after.stream().noneMatch(w -> w.startsWith("virtio")), after.toString());
    List<String> inside = MsixLayout.inspect(virtio(0xfd0, 0xffc, 4)).warnings();
    assertTrue(
        inside.contains(
            "virtio ISR registers [0xffc, 0xfff] (capability at 0x50) share a page with the table"
                + " in BAR 0: they become read-only"),
        inside.toString());
  }
}
