package org.hvmmu.pci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigSpaceTest {
  private static ConfigSpace sample() {
    byte[] b = new byte[256];
    // 82576 header start: 86 80 c9 10 | 07 04 10 00
    byte[] head = {(byte) 0x86, (byte) 0x80, (byte) 0xc9, 0x10, 0x07, 0x04, 0x10, 0x00};
    System.arraycopy(head, 0, b, 0, head.length);
    b[0xfc] = (byte) 0xff;
    b[0xfd] = (byte) 0xfe;
    b[0xfe] = (byte) 0xfd;
    b[0xff] = (byte) 0x80;
    return ConfigSpace.of(b);
  }

  @Test
  void shouldReadLittleEndian() {
    ConfigSpace c = sample();
    assertEquals(0x86, c.read8(0));
    assertEquals(0x8086, c.read16(0));
    assertEquals(0x10c9, c.read16(2));
    assertEquals(0x10c98086, c.read32(0));
    assertEquals(0x00100407, c.read32(4));
  }

  @Test
  void shouldTreatBytesAsUnsigned() {
    ConfigSpace c = sample();
    assertEquals(0xff, c.read8(0xfc));
    assertEquals(0xfeff, c.read16(0xfc));
    // 0x80fdfeff: bit 31 set, so the int is negative; widened it is the unsigned value.
    assertEquals(0x80fdfeffL, c.read32(0xfc) & 0xffffffffL);
  }

  @Test
  void shouldRejectReadsOutsideTheKnownBytesWithHexOffsets() {
    ConfigSpace c = sample();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.read32(0xfd));
    assertTrue(e.getMessage().contains("0xfd") && e.getMessage().contains("0x100"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> c.read8(0x100));
    assertThrows(IllegalArgumentException.class, () -> c.read16(0xff));
    IllegalArgumentException outside =
        assertThrows(IllegalArgumentException.class, () -> c.read8(-1));
    assertTrue(outside.getMessage().contains("0xffffffff"), outside.getMessage());
    assertThrows(IllegalArgumentException.class, () -> c.read32(0xffd));
    assertFalse(c.isKnown(0xfd, 4));
    assertTrue(c.isKnown(0xfc, 4));
    assertFalse(c.isKnown(-1, 1));
  }

  @Test
  void shouldKnowOnlyTheHeaderOfAnUnprivilegedRead() {
    ConfigSpace c = ConfigSpace.of(new byte[64]);
    assertEquals(64, c.size());
    assertFalse(c.isExtended());
    assertEquals(0, c.read32(0x3c));
    assertThrows(IllegalArgumentException.class, () -> c.read8(0x40));
  }

  @ParameterizedTest
  @ValueSource(ints = {64, 128, 256, 4096})
  void shouldAcceptTheRealSizes(int size) {
    assertEquals(size, ConfigSpace.of(new byte[size]).size());
    assertEquals(size == 4096, ConfigSpace.of(new byte[size]).isExtended());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 48, 63, 65, 255, 512, 4095, 4097})
  void shouldRejectOtherSizes(int size) {
    assertThrows(IllegalArgumentException.class, () -> ConfigSpace.of(new byte[size]));
  }

  @Test
  void shouldCopyItsInputAndOutput() {
    byte[] b = new byte[64];
    ConfigSpace c = ConfigSpace.of(b);
    b[0] = 1;
    assertEquals(0, c.read8(0));
    c.toByteArray()[0] = 2;
    assertEquals(0, c.read8(0));
    assertArrayEquals(new byte[64], c.toByteArray());
  }

  @Test
  void shouldCompareByContent() {
    assertEquals(sample(), sample());
    assertEquals(sample().hashCode(), sample().hashCode());
    assertNotEquals(ConfigSpace.of(new byte[64]), ConfigSpace.of(new byte[128]));
    assertEquals("ConfigSpace[8086:10c9, 0x100 bytes]", sample().toString());
  }
}
