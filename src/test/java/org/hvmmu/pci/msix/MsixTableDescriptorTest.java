package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Table and PBA frames for the reference's suggested cases (§7): n in {1, 64, 65, 256, 2048} at
 * page offsets 0, 0xff0 and 0xfe0 of a BAR at 0xfebd0000 (frame 0xfebd0). Worked by hand:
 *
 * <pre>
 *  table length 16n:  n=1 0x10, 64 0x400, 65 0x410, 256 0x1000, 2048 0x8000
 *  PBA, BITS_TO_LONGS(n) bytes:  1, 1, 2, 4, 32      corrected 8*ceil(n/64): 8, 8, 16, 32, 256
 *  last byte = offset + length - 1; frame = 0xfebd0 + (last >> 12)
 * </pre>
 */
class MsixTableDescriptorTest {
  private static final long BAR = 0xfebd0000L;

  @ParameterizedTest
  @CsvSource({
    // n,   offset, tableLast,  pbaLastUpstream, pbaLastCorrected
    // offset 0: table last byte 16n-1 = 0xf, 0x3ff, 0x40f, 0xfff, 0x7fff (frame +7 for 2048);
    //           every PBA ends below 0x100.
    "1,    0x0,   0xfebd0, 0xfebd0, 0xfebd0",
    "64,   0x0,   0xfebd0, 0xfebd0, 0xfebd0",
    "65,   0x0,   0xfebd0, 0xfebd0, 0xfebd0",
    "256,  0x0,   0xfebd0, 0xfebd0, 0xfebd0",
    "2048, 0x0,   0xfebd7, 0xfebd0, 0xfebd0",
    // offset 0xff0: table 0xff0+0xf = 0xfff (+0); 0xff0+0x3ff = 0x13ef (+1); 0xff0+0x40f = 0x13ff
    //   (+1); 0xff0+0xfff = 0x1fef (+1); 0xff0+0x7fff = 0x8fef (+8).
    // PBA upstream: 0xff0+1-1, +1-1, +2-1, +4-1 all < 0x1000 (+0); 0xff0+32-1 = 0x100f (+1).
    // PBA corrected: 0xff0+8-1 = 0xff7, 0xff7, 0xff0+16-1 = 0xfff (+0); 0xff0+32-1 = 0x100f (+1);
    //   0xff0+256-1 = 0x10ef (+1).
    "1,    0xff0, 0xfebd0, 0xfebd0, 0xfebd0",
    "64,   0xff0, 0xfebd1, 0xfebd0, 0xfebd0",
    "65,   0xff0, 0xfebd1, 0xfebd0, 0xfebd0",
    "256,  0xff0, 0xfebd1, 0xfebd0, 0xfebd1",
    "2048, 0xff0, 0xfebd8, 0xfebd1, 0xfebd1",
    // offset 0xfe0: table 0xfef (+0); 0x13df, 0x13ef, 0x1fdf (+1); 0x8fdf (+8).
    // PBA upstream: 0xfe0, 0xfe0, 0xfe1, 0xfe3, 0xfe0+32-1 = 0xfff: all +0.
    // PBA corrected: 0xfe7, 0xfe7, 0xfef, 0xfe0+32-1 = 0xfff (+0); 0xfe0+256-1 = 0x10df (+1):
    //   the reference's example of upstream's missing x8 (n = 2048 at 0xfe0).
    "1,    0xfe0, 0xfebd0, 0xfebd0, 0xfebd0",
    "64,   0xfe0, 0xfebd1, 0xfebd0, 0xfebd0",
    "65,   0xfe0, 0xfebd1, 0xfebd0, 0xfebd0",
    "256,  0xfe0, 0xfebd1, 0xfebd0, 0xfebd0",
    "2048, 0xfe0, 0xfebd8, 0xfebd0, 0xfebd1",
  })
  void shouldComputeTableAndPbaFrames(
      int n, long offset, long tableLast, long pbaLastUpstream, long pbaLastCorrected) {
    long address = BAR + offset;
    // Table and PBA placed at the same address, to exercise both computations on each case.
    assertEquals(0xfebd0L, MsixTableDescriptor.tableFirstFrame(address));
    assertEquals(tableLast, MsixTableDescriptor.tableLastFrame(address, n));
    assertEquals(0xfebd0L, MsixTableDescriptor.pbaFirstFrame(address));
    assertEquals(
        pbaLastUpstream, MsixTableDescriptor.pbaLastFrame(address, n, PbaSizing.BITS_TO_LONGS));
    assertEquals(
        pbaLastCorrected, MsixTableDescriptor.pbaLastFrame(address, n, PbaSizing.CORRECTED));
  }

  @ParameterizedTest
  @CsvSource({
    // n,  BITS_TO_LONGS, corrected = 8 * ceil(n / 64)
    "1,    1,  8",
    "64,   1,  8",
    "65,   2,  16",
    "256,  4,  32",
    "2047, 32, 256",
    "2048, 32, 256",
  })
  void shouldSizeThePba(int n, long upstream, long corrected) {
    assertEquals(upstream, PbaSizing.BITS_TO_LONGS.bytes(n));
    assertEquals(corrected, PbaSizing.CORRECTED.bytes(n));
  }

  @Test
  void shouldDecodeTheTableSizeField() {
    // (control & 0x7ff) + 1, ignoring the enable and mask bits.
    assertEquals(1, MsixTableDescriptor.tableSize(0x0000));
    assertEquals(2048, MsixTableDescriptor.tableSize(0x07ff));
    assertEquals(10, MsixTableDescriptor.tableSize(0x8009));
    assertEquals(1, MsixTableDescriptor.tableSize(0xf800));
  }

  @Test
  void shouldUseUnsignedFrameArithmetic() {
    // A table in the last page of the 64-bit space: frame 0xf_ffff_ffff_ffff, not negative.
    assertEquals(0xfffffffffffffL, MsixTableDescriptor.tableFirstFrame(0xfffffffffffff000L));
    assertEquals(0xfffffffffffffL, MsixTableDescriptor.tableLastFrame(0xfffffffffffff000L, 256));
  }

  @Test
  void shouldLayOutEntries() {
    assertEquals(0L, MsixTableDescriptor.entryOffset(0));
    assertEquals(0x7ff0L, MsixTableDescriptor.entryOffset(2047));
    assertEquals(0x8000L, MsixTableDescriptor.tableLength(2048));
    // Xen's MAX_MSIX_TABLE_PAGES: PFN_UP(2048 * 16 + 0xff8) = PFN_UP(0x8ff8) = 9.
    assertEquals(9, MsixTableDescriptor.MAX_TABLE_PAGES);
    assertEquals(
        MsixTableDescriptor.MAX_TABLE_PAGES,
        MsixTableDescriptor.tableLastFrame(0xff8, 2048)
            - MsixTableDescriptor.tableFirstFrame(0xff8)
            + 1);
  }

  @Test
  void shouldRejectImpossibleTableSizes() {
    assertThrows(IllegalArgumentException.class, () -> MsixTableDescriptor.tableLength(0));
    assertThrows(IllegalArgumentException.class, () -> MsixTableDescriptor.tableLength(2049));
    assertThrows(IllegalArgumentException.class, () -> PbaSizing.CORRECTED.bytes(0));
    assertThrows(IllegalArgumentException.class, () -> MsixTableDescriptor.entryOffset(2048));
  }
}
