package org.hvmmu.pci.msix.regs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

/**
 * The handle of a compatibility-format message. Expected values from the SDM's Message Address
 * Register (bits 19:12 destination ID) and VT-d §5.1.2.2 (only a remappable message, address bit 4
 * set, has a handle), worked by hand.
 */
class MsiInterruptMarginTest {
  @Test
  void aCompatibilityFormatMessageShouldHaveNoHandle() {
    // 0xfee03000: bit 4 clear, destination 3.
    long i = MsiInterrupt.decode(0xfee03000L, 0x41, false);
    assertFalse(MsiInterrupt.isRemappable(i));
    assertEquals(3, MsiInterrupt.destination(i));
    assertEquals(0, MsiInterrupt.handle(i));
  }

  @Test
  void aRemappableMessageShouldHaveItsHandle() {
    // 0xfee004b0: bit 4 set, bits 19:5 = 0x4b0 >> 5 = 0x25.
    assertEquals(0x25, MsiInterrupt.handle(MsiInterrupt.decode(0xfee004b0L, 0, false)));
  }
}
