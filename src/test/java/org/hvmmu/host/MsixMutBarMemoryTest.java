package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The plain registers of a device's memory BARs ({@link DeviceMemory}): byte-addressed,
 * little-endian (x86 and PCI: the byte at the lowest address is the least significant), each byte
 * holding what was last written to it and 0 before. Every expected value below is worked out by
 * hand from the bytes written, not taken from a run of the class.
 */
class MsixMutBarMemoryTest {
  private static final long BAR = 0xe080_0000L;

  @Test
  void aQwordShouldReadBackByteByByteLittleEndian() {
    DeviceMemory m = new DeviceMemory("0000:01:00.0");
    assertEquals(0, m.read(BAR + 0x10, 4), "nothing written: zero");
    m.write(BAR, 8, 0x8877_6655_4433_2211L);
    assertEquals(0x8877_6655_4433_2211L, m.read(BAR, 8));
    assertEquals(0x11, m.read(BAR, 1));
    assertEquals(0x33, m.read(BAR + 2, 1));
    assertEquals(0x88, m.read(BAR + 7, 1));
    assertEquals(0x4433, m.read(BAR + 2, 2));
    assertEquals(0x8877_6655L, m.read(BAR + 4, 4));
    assertEquals(0x5544_3322L, m.read(BAR + 1, 4), "bytes 1-4");
    assertEquals(0, m.read(BAR + 8, 8), "the next qword is untouched");
  }

  @Test
  void aNarrowWriteShouldChangeOnlyItsBytes() {
    DeviceMemory m = new DeviceMemory("0000:01:00.0");
    m.write(BAR, 8, 0x8877_6655_4433_2211L);
    m.write(BAR + 3, 1, 0xAB);
    assertEquals(0x8877_6655_AB33_2211L, m.read(BAR, 8));
    m.write(BAR + 4, 2, 0xCDEF);
    assertEquals(0x8877_CDEF_AB33_2211L, m.read(BAR, 8));
    // Bits of the value above the access size are not stored.
    m.write(BAR + 1, 1, 0xFFFF_FF99L);
    assertEquals(0x8877_CDEF_AB33_9911L, m.read(BAR, 8));
    m.write(BAR, 4, 0x0102_0304L);
    assertEquals(0x8877_CDEF_0102_0304L, m.read(BAR, 8));
    m.write(BAR + 4, 4, 0);
    assertEquals(0x0102_0304L, m.read(BAR, 8));
    assertEquals(0x01, m.read(BAR + 3, 1));
  }

  @Test
  void itsNameShouldSayWhoseBarsItHolds() {
    assertEquals("BAR memory of 0000:01:00.0", new DeviceMemory("0000:01:00.0").toString());
  }
}
