package org.hvmmu.host;

import static org.hvmmu.pci.msix.regs.MsixRegisters.CONTROL_ENABLE;
import static org.hvmmu.pci.msix.regs.MsixRegisters.CONTROL_FUNCTION_MASK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Path;
import org.hvmmu.pci.LspciDumpReader;
import org.hvmmu.pci.PciDevice;
import org.junit.jupiter.api.Test;

/**
 * The MMCFG (ECAM) window read and written directly, not through the machine memory (which would
 * cut a value to the access size). Expected values by hand from the PCI Express ECAM layout
 * (address = base + (bus << 20 | device << 15 | function << 12 | register)), from the bundled
 * lspci dumps, and from PCI's rule that a read of a function nobody decodes completes with all
 * ones in every byte read. The 82576 is 0000:01:00.0 (frame 0xf8100 of a window at 0xf8000000);
 * its first bytes are 86 80 c9 10 07 04 (vendor 8086, device 10c9, Command 0x0407), its MSI-X
 * capability at 0x70 (11 a0 09 80: Message Control 0x8009). The virtio NIC is 0000:00:09.0
 * (base + 9 << 15 = base + 0x48000) and its dump holds only the 256-byte header.
 */
class MsixMutMmcfgTest {
  private static final long BASE = 0xf800_0000L;
  private static final long NIC = BASE + (1L << 20);
  private static final long VIRTIO = BASE + (9L << 15);

  static PciDevice dump(String name) {
    try {
      return LspciDumpReader.read(Path.of(MsixMutMmcfgTest.class.getResource(
          "/org/hvmmu/pci/dumps/" + name).toURI())).get(0);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Host host() {
    Host host = new Host(0x1000, Policy.XEN_4_22);
    assertEquals(0, host.addMmcfg(0, 0, 63, BASE));
    return host;
  }

  @Test
  void theWindowShouldSpanFromItsStartBusToFunctionSevenOfDeviceThirtyOneOfItsEndBus() {
    // Segment 1, buses 2-3, bus 0 at 0xe0000000. Bus 2 device 0 function 0: 0xe0000000 + 2 << 20
    // = 0xe0200000 (frame 0xe0200). Bus 3 device 31 function 7: 0xe0000000 + (3 << 20 | 31 << 15
    // | 7 << 12) = 0xe0000000 + 0x300000 + 0xf8000 + 0x7000 = 0xe03ff000 (frame 0xe03ff).
    MmcfgWindow w = new MmcfgWindow(new Devices(new Host(0x1000, Policy.XEN_4_22)), 1, 2, 3,
        0xe000_0000L);
    assertEquals(0xe0200, w.firstFrame());
    assertEquals(0xe03ff, w.lastFrame());
    assertFalse(w.contains(0xe01ff), "bus 1 is not in the window");
    assertTrue(w.contains(0xe0200));
    assertTrue(w.contains(0xe0300));
    assertTrue(w.contains(0xe03ff));
    assertFalse(w.contains(0xe0400), "bus 4 is not in the window");
    assertEquals(1, w.segment());
    assertEquals(0x0301, w.bdf(0xe0301), "bus 3, device 0, function 1");
    assertEquals("mmcfg 0001:02-03 at 0xe0000000", w.toString());
  }

  @Test
  void aFunctionNobodyDecodesShouldReadAllOnesOfTheSizeRead() {
    Host host = host();
    MmcfgWindow w = host.mmcfgWindow(0xf8000);
    long fn1 = BASE + (1L << 20 | 1L << 12); // 01:00.1: unknown
    assertEquals(0xffL, w.read(fn1, 1));
    assertEquals(0xffffL, w.read(fn1 + 2, 2));
    assertEquals(0xffff_ffffL, w.read(fn1, 4));
    assertEquals(-1L, w.read(fn1, 8));
  }

  @Test
  void aKnownFunctionShouldReadExactlyTheBytesAsked() {
    Host host = host();
    host.addDevice(dump("pciutils_intel_82576_10c9.xxx.txt"));
    MmcfgWindow w = host.mmcfgWindow(NIC >>> 12);
    assertEquals(0x86, w.read(NIC, 1));
    assertEquals(0x8086, w.read(NIC, 2));
    assertEquals(0x10c9_8086L, w.read(NIC, 4));
    assertEquals(0x0010_0407_10c9_8086L, w.read(NIC, 8));
    assertEquals(0x11, w.read(NIC + 0x70, 1), "MSI-X capability ID");
    // Message Control: table size 9 (10 entries) from the dump; Enable and Function Mask from the
    // live registers, both clear after reset.
    assertEquals(0x0009, w.read(NIC + 0x72, 2));
    // The virtio NIC's dump stops at 0xff: the bytes beyond read as all ones.
    host.addDevice(dump("pciutils_virtio_net_1af4-1000.xxx.txt"));
    MmcfgWindow same = host.mmcfgWindow(VIRTIO >>> 12);
    assertEquals(0x1000_1af4L, same.read(VIRTIO, 4), "vendor 1af4, device 1000");
    assertEquals(0xffff_ffffL, same.read(VIRTIO + 0x100, 4));
    assertEquals(0xffff_0000L, same.read(VIRTIO + 0xfe, 4), "bytes 0xfe-0xff: 00 00, then two ff");
  }

  @Test
  void aQwordStoreShouldReachBothDwordsOfTheFunction() {
    Host host = host();
    HostDevice nic = host.addDevice(dump("pciutils_intel_82576_10c9.xxx.txt"));
    MmcfgWindow w = host.mmcfgWindow(NIC >>> 12);
    assertTrue(nic.memoryDecoded(), "Command 0x0407: Memory Space set");
    // Bytes 0-7: vendor/device ID (read-only) in the low dword, Command in the high one.
    w.write(NIC, 8, 0x0010_0405_10c9_8086L);
    assertFalse(nic.memoryDecoded(), "the high dword is Command 0x0405");
    w.write(NIC, 8, 0x0010_0407_10c9_8086L);
    assertTrue(nic.memoryDecoded(), "and 0x0407 sets Memory Space again");
    // Bytes 0x70-0x77: the low dword holds Message Control's upper byte (0x73): Enable and
    // Function Mask.
    w.write(NIC + 0x70, 8, 0x0000_0003_c009_a011L);
    assertEquals(CONTROL_ENABLE | CONTROL_FUNCTION_MASK, nic.msixRegisters().messageControl());
    w.write(NIC + 0x70, 4, 0x8009_a011L);
    assertEquals(CONTROL_ENABLE, nic.msixRegisters().messageControl());
  }

  @Test
  void aStoreBeyondTheDumpedSpaceShouldReachNothing() {
    Host host = host();
    HostDevice virtio = host.addDevice(dump("pciutils_virtio_net_1af4-1000.xxx.txt"));
    MmcfgWindow w = host.mmcfgWindow(VIRTIO >>> 12);
    assertEquals(256, virtio.pci().config().size());
    w.write(VIRTIO + 0x100, 4, 0xffff_ffffL); // dropped, not refused
    w.write(VIRTIO + 0xffc, 4, 0);
    assertTrue(virtio.memoryDecoded(), "Command 0x0507 as dumped");
    w.write(VIRTIO + 0x04, 2, 0x0505);
    assertFalse(virtio.memoryDecoded(), "a store inside the 256 bytes does reach Command");
  }
}
