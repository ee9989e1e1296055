package org.hvmmu.host;

import static org.hvmmu.pci.msix.regs.MsixRegisters.CONTROL_ENABLE;
import static org.hvmmu.pci.msix.regs.MsixRegisters.CONTROL_FUNCTION_MASK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Configuration writes ({@link DeviceInterrupts#writeConfig}) as PCI defines them: a write is 1, 2
 * or 4 bytes, naturally aligned, inside the function's configuration space (PCI Local Bus 3.0
 * section 3.2.2.3.2; the 82576's dump holds the 4096 bytes of a PCI Express function); Command
 * (offset 0x04, Memory Space Enable bit 1) decides memory decoding; MSI-X Message Control's upper
 * byte (capability + 3 = 0x73 on the 82576: Enable bit 15, Function Mask bit 14) reaches the
 * registers only when the write covers that byte. The Sunrise Point root port's dump has no MSI-X
 * capability. Values by hand.
 */
class MsixMutInterruptsTest {
  private static HostDevice nic() {
    Host host = new Host(0x1000, Policy.XEN_4_22);
    return host.addDevice(MsixMutMmcfgTest.dump("pciutils_intel_82576_10c9.xxx.txt"));
  }

  @Test
  void writesOfABadSizeOrAlignmentOrOutsideTheSpaceShouldBeRefused() {
    HostDevice nic = nic();
    for (int size : new int[] {0, 3, 8}) {
      assertThrows(IllegalArgumentException.class,
          () -> DeviceInterrupts.writeConfig(nic, 0x40, size, 0), "size " + size);
    }
    assertThrows(IllegalArgumentException.class,
        () -> DeviceInterrupts.writeConfig(nic, 0x42, 4, 0), "a dword at +2");
    assertThrows(IllegalArgumentException.class,
        () -> DeviceInterrupts.writeConfig(nic, 0x41, 2, 0), "a word at +1");
    assertThrows(IllegalArgumentException.class,
        () -> DeviceInterrupts.writeConfig(nic, -4, 4, 0));
    assertThrows(IllegalArgumentException.class,
        () -> DeviceInterrupts.writeConfig(nic, 0x1000, 4, 0));
    // The first and the last dword of the 4096 bytes are fine, and touch neither register.
    assertFalse(DeviceInterrupts.writeConfig(nic, 0, 4, 0));
    assertFalse(DeviceInterrupts.writeConfig(nic, 0xffc, 4, 0));
    assertFalse(DeviceInterrupts.writeConfig(nic, 0xfff, 1, 0));
    assertTrue(nic.memoryDecoded());
    assertEquals(0, nic.msixRegisters().messageControl());
  }

  @Test
  void commandShouldBeFoundAtOffsetFourInAnyWriteThatCoversIt() {
    HostDevice nic = nic();
    assertFalse(DeviceInterrupts.writeConfig(nic, 0x04, 2, 0x0405));
    assertFalse(nic.memoryDecoded());
    assertFalse(DeviceInterrupts.writeConfig(nic, 0x04, 1, 0x07));
    assertTrue(nic.memoryDecoded());
    assertFalse(DeviceInterrupts.writeConfig(nic, 0x04, 4, 0x0010_0405));
    assertFalse(nic.memoryDecoded());
    // Status (0x06) and the IDs (0x00-0x03) are not Command.
    assertFalse(DeviceInterrupts.writeConfig(nic, 0x06, 2, 0x0002));
    assertFalse(DeviceInterrupts.writeConfig(nic, 0x00, 4, 0x0002_0002));
    assertFalse(nic.memoryDecoded());
  }

  @Test
  void messageControlsUpperByteShouldReachTheRegistersAtAnyWidth() {
    HostDevice nic = nic();
    assertTrue(DeviceInterrupts.writeConfig(nic, 0x73, 1, 0xc0));
    assertEquals(CONTROL_ENABLE | CONTROL_FUNCTION_MASK, nic.msixRegisters().messageControl());
    assertTrue(DeviceInterrupts.writeConfig(nic, 0x72, 2, 0x8009));
    assertEquals(CONTROL_ENABLE, nic.msixRegisters().messageControl());
    assertTrue(DeviceInterrupts.writeConfig(nic, 0x70, 4, 0x4009_a011));
    assertEquals(CONTROL_FUNCTION_MASK, nic.msixRegisters().messageControl());
    // The lower byte alone (table size, read-only) does not cover it.
    assertFalse(DeviceInterrupts.writeConfig(nic, 0x72, 1, 0xff));
    assertEquals(CONTROL_FUNCTION_MASK, nic.msixRegisters().messageControl());
  }

  @Test
  void aFunctionWithoutMsixShouldTakeOnlyCommand() {
    HostDevice port = new HostDevice(
        MsixMutMmcfgTest.dump("pciutils_intel_sunrisepoint_rootport_NO_MSIX_8086-9d10.xxx.txt"),
        null);
    assertTrue(port.memoryDecoded(), "Command 0x0407 as dumped");
    assertFalse(DeviceInterrupts.writeConfig(port, 0x00, 4, 0xffff_ffff));
    assertFalse(DeviceInterrupts.writeConfig(port, 0x04, 4, 0x0010_0405));
    assertFalse(port.memoryDecoded());
  }
}
