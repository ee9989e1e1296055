package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.pci.Bar;
import org.hvmmu.pci.BarKind;
import org.hvmmu.pci.LspciVerboseText;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciRegs;

/**
 * Asserts that hvmmu decodes a device as lspci does: MSI-X fields, and BAR index, I/O vs memory
 * width, prefetchability and address.
 *
 * <p>One pciutils quirk is accounted for: with {@code -F} (no sysfs), lspci 3.9.0 prints the high
 * dword of a 64-bit BAR as a region of its own when it is not zero (the {@code .lspci-F-vvv.txt} of
 * the Intel 0b25 shows "Region 1: I/O ports at &lt;unassigned&gt;" for the high dword 0x206f of BAR
 * 0). Such a region must be the upper half of one of our 64-bit BARs and its dword must be
 * non-zero; it is otherwise ignored.
 */
final class LspciComparison {
  private LspciComparison() {}

  static String width(BarKind kind) {
    return switch (kind) {
      case MEM32 -> "32-bit";
      case MEM1M -> "low-1M";
      case MEM64 -> "64-bit";
      case MEM_RESERVED -> "type 3";
      case IO -> null;
    };
  }

  static void assertMsixMatches(PciDevice device, LspciVerboseText.Device expected, String where) {
    MsixCapability msix = MsixCapability.find(device);
    LspciVerboseText.Msix want = expected.msix();
    if (want == null) {
      assertFalse(msix.isPresent(), where + ": lspci shows no MSI-X, we found " + msix);
      return;
    }
    assertTrue(msix.isPresent(), where + ": lspci shows MSI-X at " + want.capOffset());
    assertEquals(want.capOffset(), msix.capOffset(), where + ": MSI-X offset");
    assertEquals(want.count(), msix.tableSize(), where + ": Count");
    assertEquals(want.enabled(), msix.enabled(), where + ": Enable");
    assertEquals(want.masked(), msix.functionMask(), where + ": Masked");
    assertEquals(want.tableBir(), msix.tableBir(), where + ": table BAR");
    assertEquals(want.tableOffset(), msix.tableOffset(), where + ": table offset");
    assertEquals(want.pbaBir(), msix.pbaBir(), where + ": PBA BAR");
    assertEquals(want.pbaOffset(), msix.pbaOffset(), where + ": PBA offset");
  }

  static void assertBarsMatch(PciDevice device, LspciVerboseText.Device expected, String where) {
    for (LspciVerboseText.Region r : expected.regions()) {
      String at = where + ": Region " + r.index();
      if (r.virtual()) {
        // Reported by the OS from sysfs, not by the device: its register reads 0 in the dump.
        assertFalse(device.hasBar(r.index()), at + " is virtual, the register should read 0");
        continue;
      }
      if (device.isUpperHalf(r.index())) {
        int dword = device.config().read32(PciRegs.BASE_ADDRESS_0 + 4 * r.index());
        assertNotEquals(0, dword, at + ": lspci lists an upper half only when it is non-zero");
        continue;
      }
      assertTrue(device.hasBar(r.index()), at + " missing from " + device.bars());
      Bar bar = device.bar(r.index());
      assertEquals(r.io(), bar.kind() == BarKind.IO, at + ": I/O vs memory");
      if (!r.io()) {
        assertEquals(r.width(), width(bar.kind()), at + ": width");
        assertEquals(r.prefetchable(), bar.prefetchable(), at + ": prefetchable");
      }
      if (!r.hasAddress()) {
        assertFalse(bar.isAssigned(), at + ": lspci says unassigned, we say " + bar);
      } else {
        assertEquals(r.address(), bar.address(), at + ": address");
      }
    }
    for (Bar bar : device.bars()) {
      assertTrue(
          expected.regions().stream().anyMatch(r -> r.index() == bar.index() && !r.virtual()),
          where + ": our " + bar + " is not among lspci's regions " + expected.regions());
    }
  }
}
