package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import org.hvmmu.pci.ConfigSpace;
import org.junit.jupiter.api.Test;

/**
 * The boundaries of {@link MsixTableDescriptor#unusableReason} and of the capability's own
 * checks, pinned by hand: unsigned 64-bit addition (a sum below its first operand has wrapped; a
 * region of {@code length} bytes ends at its address + length - 1, so one byte ends where it
 * starts and zero bytes is no region), a capability lies in the device-specific area from 0x40
 * to the last dword 0xfc of the 256-byte space (PCI Local Bus 3.0 §6.7), and an MSI-X capability
 * is 12 bytes (PCIe Base §7.7.2).
 */
class MsixTableDescriptorMarginTest {
  @Test
  void aRegionAtOffsetZeroOfItsBarShouldBeUsable() {
    // base + 0 = base: no wrap.
    assertEquals(Optional.empty(), MsixTableDescriptor.unusableReason(0xfe000000L, true, 0, 32));
    assertEquals(Optional.empty(), MsixTableDescriptor.unusableReason(-16L, false, 0, 16));
  }

  @Test
  void aOneByteRegionShouldBeUsableAndAnEmptyOneRefused() {
    // One byte: its last byte is its first, no wrap, below 4 GiB.
    assertEquals(Optional.empty(), MsixTableDescriptor.unusableReason(0xfe000000L, true, 0x10, 1));
    assertEquals(Optional.empty(), MsixTableDescriptor.unusableReason(-1L, false, 0, 1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MsixTableDescriptor.unusableReason(0xfe000000L, true, 0x10, 0));
    assertEquals("region length 0x0 (expected: at least 1)", e.getMessage());
  }

  @Test
  void aCapabilityAtTheFirstDeviceSpecificOffsetShouldBeAccepted() {
    MsixCapability c = new MsixCapability(0x40, 0x8003, 0x0, 0x800);
    assertEquals(0x40, c.capOffset());
    assertEquals(4, c.tableSize());
    assertThrows(IllegalArgumentException.class, () -> new MsixCapability(0x3c, 0, 0, 0));
  }

  @Test
  void aCapabilityAtTheLastDwordOfTheConventionalSpaceShouldBeAccepted() {
    // 0x100 - 4 = 0xfc is the last dword a capability pointer can name.
    assertEquals(0xfc, new MsixCapability(0xfc, 0, 0, 0).capOffset());
    assertThrows(IllegalArgumentException.class, () -> new MsixCapability(0x100, 0, 0, 0));
  }

  @Test
  void aCapabilityCutOffByTheEndOfTheKnownBytesShouldBeRefusedAsSuch() {
    // At 0xf8 of a 256-byte space the 12 bytes run to 0x103: the last four are not known.
    ConfigSpace config = ConfigSpace.of(new byte[ConfigSpace.CONVENTIONAL_SIZE]);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MsixCapability.read(config, 0xf8));
    assertEquals("MSI-X capability at 0xf8 is not within the 0x100 bytes known", e.getMessage());
  }
}
