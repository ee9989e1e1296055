package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import org.hvmmu.mmu.memory.RegionKind;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, found by {@code MsixHostFuzzTest}: adding a device whose BAR overlaps another device's
 * MMIO used to map the BAR frame by frame, and a BAR of 2^44 bytes never finished. The BAR's frames
 * that are not MMIO yet are now mapped a gap at a time.
 */
class HugeBarTest {
  /** A 64-bit BAR 0 at {@code address} of {@code size} bytes (known size). */
  static PciDevice device(int slot, long address, long size) {
    byte[] b = new byte[256];
    long low = (address & 0xfffffff0L) | 0x4; // 64-bit memory
    for (int i = 0; i < 4; i++) {
      b[0x10 + i] = (byte) (low >>> (8 * i));
      b[0x14 + i] = (byte) (address >>> (32 + 8 * i));
    }
    return new PciDevice(new PciAddress(0, slot, 0, 0), ConfigSpace.of(b), "test",
        new long[] {size});
  }

  @Test
  void aHugeBarOverAnotherDevicesMmioIsMappedByGaps() {
    Host host = new Host(0x200, Policy.HARDENED);
    host.addDevice(device(1, 0x300000L, 0x1000)); // frame 0x300
    host.addDevice(device(2, 0x2000000L, 0x1000)); // frame 0x2000
    // 2^44 bytes from 0x1000000: frames 0x1000 .. 0x1000 + 2^32 - 1, around device 2's frame.
    assertTimeoutPreemptively(Duration.ofSeconds(5),
        () -> host.addDevice(device(3, 0x1000000L, 1L << 44)));
    // Frames 0x1000 .. 0x1000 + 2^32 - 1 are MMIO, 0x2000 kept as it was, 0x300 untouched.
    assertEquals(RegionKind.MMIO, host.machine().kind(0x1000));
    assertEquals(RegionKind.MMIO, host.machine().kind(0x1fff));
    assertEquals(RegionKind.MMIO, host.machine().kind(0x2000));
    assertEquals(RegionKind.MMIO, host.machine().kind(0x2001));
    assertEquals(RegionKind.MMIO, host.machine().kind(0x1000L + (1L << 32) - 1));
    assertEquals(RegionKind.ABSENT, host.machine().kind(0x1000L + (1L << 32)));
    assertEquals(RegionKind.MMIO, host.machine().kind(0x300));
  }
}
