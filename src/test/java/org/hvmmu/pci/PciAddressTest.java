package org.hvmmu.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PciAddressTest {
  @Test
  void shouldParseAndFormatTheSysfsForm() {
    PciAddress a = PciAddress.parse("0000:03:00.0");
    assertEquals(new PciAddress(0, 3, 0, 0), a);
    assertEquals("0000:03:00.0", a.toString());
  }

  @Test
  void shouldDefaultTheSegmentToZeroAsLspciDoes() {
    assertEquals(new PciAddress(0, 0, 0x1c, 0), PciAddress.parse("00:1c.0"));
    assertEquals(new PciAddress(2, 1, 0, 0), PciAddress.parse("0002:01:00.0"));
  }

  @Test
  void shouldFormatInLowerCaseWithFixedWidths() {
    assertEquals("ffff:ff:1f.7", new PciAddress(0xffff, 0xff, 0x1f, 7).toString());
    assertEquals(new PciAddress(0xabcd, 0xef, 0x1a, 3), PciAddress.parse("ABCD:EF:1A.3"));
  }

  @Test
  void shouldPackDevfnAndBdfAsXenDoes() {
    // PCI_DEVFN(0x1c, 2) = 0x1c << 3 | 2 = 0xe2; PCI_BDF = 0x03 << 8 | 0xe2 = 0x3e2.
    PciAddress a = new PciAddress(0, 3, 0x1c, 2);
    assertEquals(0xe2, a.devfn());
    assertEquals(0x3e2, a.bdf());
  }

  @Test
  void shouldRejectFieldsOutOfRangeWithHex() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new PciAddress(0, 0, 0x20, 0));
    assertTrue(e.getMessage().contains("0x20"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new PciAddress(0x10000, 0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new PciAddress(0, 0x100, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new PciAddress(0, 0, 0, 8));
    assertThrows(IllegalArgumentException.class, () -> new PciAddress(-1, 0, 0, 0));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "03:00",
        "03.0",
        "0000:03:00.8",
        "0000:03:20.0",
        "00000:03:00.0",
        "0000:003:00.0",
        "x0:00.0",
        "0:0:0:0.0",
        "03:00.0 ",
        "03:00.",
        ":03:00.0",
        "\u0663:00.0"
      })
  void shouldRejectMalformedText(String text) {
    assertThrows(IllegalArgumentException.class, () -> PciAddress.parse(text));
    assertFalse(PciAddress.isAddress(text));
  }

  @Test
  void shouldRejectNull() {
    assertThrows(IllegalArgumentException.class, () -> PciAddress.parse(null));
    assertFalse(PciAddress.isAddress(null));
  }
}
