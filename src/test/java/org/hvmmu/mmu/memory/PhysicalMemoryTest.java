package org.hvmmu.mmu.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PhysicalMemoryTest {
  /** Frame 0 RAM, frame 1 the device, above them nothing (MAXPHYADDR 40). */
  private static PhysicalMemory ramThenDevice(Recorder dev) {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 0);
    m.addMmio(1, 1, dev);
    return m;
  }

  /** A device that records accesses and answers reads with a pattern of its address. */
  private static final class Recorder implements MmioHandler {
    final List<String> log = new ArrayList<>();

    @Override
    public long read(long pa, int size) {
      log.add("r " + Long.toHexString(pa) + " " + size);
      return 0xA0A1A2A3A4A5A6A7L >>> (8 * (8 - size));
    }

    @Override
    public void write(long pa, int size, long value) {
      log.add("w " + Long.toHexString(pa) + " " + size + " " + Long.toHexString(value));
    }
  }

  @Test
  void shouldReadZeroFromUnwrittenRamAndAllOnesFromAbsentFrames() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 0xFF);
    assertEquals(0, m.read(0x1234, 8));
    assertEquals(0, m.allocatedFrames(), "reads allocate nothing");
    assertEquals(0xFFFF_FFFFL, m.read(0x100000, 4));
    assertEquals(-1L, m.read(0x100000, 8));
    assertEquals(0xFF, m.read(0x100003, 1));
    m.write(0x100000, 8, 42); // dropped
    assertEquals(-1L, m.read(0x100000, 8));
    assertEquals(RegionKind.ABSENT, m.kind(0x100));
    assertEquals(RegionKind.RAM, m.kind(0xFF));
  }

  @Test
  void shouldBeLittleEndianAtEverySize() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 0);
    m.write(0x10, 8, 0x0807_0605_0403_0201L);
    assertEquals(0x01, m.read(0x10, 1));
    assertEquals(0x0201, m.read(0x10, 2));
    assertEquals(0x0403_0201L, m.read(0x10, 4));
    assertEquals(0x0504_0302L, m.read(0x11, 4), "unaligned within a page");
    m.write(0x13, 2, 0xBBAA);
    assertEquals(0x0807_06BB_AA03_0201L, m.read(0x10, 8));
    byte[] bytes = new byte[8];
    m.readBytes(0x10, bytes, 0, 8);
    assertArrayEquals(new byte[] {1, 2, 3, (byte) 0xAA, (byte) 0xBB, 6, 7, 8}, bytes);
  }

  @Test
  void shouldSplitAccessesThatCrossAPage() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 1);
    m.write(0xFFC, 8, 0x1122_3344_5566_7788L);
    assertEquals(0x5566_7788L, m.read(0xFFC, 4));
    assertEquals(0x1122_3344L, m.read(0x1000, 4));
    assertEquals(0x1122_3344_5566_7788L, m.read(0xFFC, 8));
  }

  @Test
  void shouldSplitAcrossRegionsIntoNaturallyAlignedPieces() {
    Recorder dev = new Recorder();
    PhysicalMemory m = ramThenDevice(dev);
    m.write(0xFFE, 8, 0x1122_3344_5566_7788L);
    // RAM gets 0x7788 at 0xffe; the device gets the other 6 bytes as 4 at 0x1000 and 2 at 0x1004.
    assertEquals(List.of("w 1000 4 33445566", "w 1004 2 1122"), dev.log);
    assertEquals(0x7788, m.read(0xFFE, 2));
    dev.log.clear();
    long v = m.read(0x1001, 4); // unaligned inside the device: 1 + 2 + 1
    assertEquals(List.of("r 1001 1", "r 1002 2", "r 1004 1"), dev.log);
    assertEquals(0xA0A0_A1A0L, v); // 0xa0, then 0xa0a1, then 0xa0
  }

  @Test
  void shouldDecodeAbsentBytesOfASplitAccessAsOnes() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 0);
    m.write(0xFFC, 4, 0x4433_2211L);
    assertEquals(0xFFFF_FFFF_4433_2211L, m.read(0xFFC, 8));
  }

  @Test
  void shouldCompareAndSetAtomicallyOnlyWhenEqual() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 0);
    assertTrue(m.compareAndSet(0x8, 8, 0, 0x63), "an unwritten frame holds zeroes");
    assertFalse(m.compareAndSet(0x8, 8, 0, 0x67));
    assertTrue(m.compareAndSet(0x8, 8, 0x63, 0x67));
    assertEquals(0x67, m.read(0x8, 8));
    m.write(0x10, 8, 0xAAAA_AAAA_0000_0001L);
    assertTrue(m.compareAndSet(0x10, 4, 1, 0x21), "the other half is untouched");
    assertEquals(0xAAAA_AAAA_0000_0021L, m.read(0x10, 8));
    assertThrows(IllegalArgumentException.class, () -> m.compareAndSet(0x12, 4, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> m.compareAndSet(0x10, 2, 0, 1));
  }

  @Test
  void shouldCompareAndSetOnDevicesAsReadThenWrite() {
    PhysicalMemory m = new PhysicalMemory(40);
    Recorder dev = new Recorder();
    m.addMmio(5, 5, dev);
    assertFalse(m.compareAndSet(0x5000, 4, 0, 1));
    assertTrue(m.compareAndSet(0x5000, 4, 0xA0A1A2A3L, 1));
    assertEquals(List.of("r 5000 4", "r 5000 4", "w 5000 4 1"), dev.log);
  }

  @ParameterizedTest(name = "{0} bytes at 0x{1}")
  @CsvSource({"3, 0", "0, 0", "16, 0", "-1, 0", "8, fffffffffff9", "1, 10000000000"})
  void shouldRejectBadAccessesWithATypedError(int size, String address) {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 0);
    long pa = Long.parseUnsignedLong(address, 16);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> m.read(pa, size));
    assertTrue(e.getMessage().contains("expected"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> m.write(pa, size, 0));
  }

  @Test
  void shouldReachTheTopOfTheAddressSpaceAndNoFurther() {
    PhysicalMemory m = new PhysicalMemory(52);
    long last = m.lastFrame();
    assertEquals((1L << 40) - 1, last);
    m.addRam(last, last);
    long top = (1L << 52) - 8;
    m.write(top, 8, 0x1234);
    assertEquals(0x1234, m.read(top, 8));
    assertThrows(IllegalArgumentException.class, () -> m.read(top + 1, 8));
    assertThrows(IllegalArgumentException.class, () -> m.read(-8, 8));
    assertThrows(IllegalArgumentException.class, () -> m.addRam(last, last + 1));
    assertEquals(RegionKind.ABSENT, m.kind(-1L));
    assertNull(m.frameContents(-1L));
  }

  @Test
  void shouldKeepRegionsDisjointAndLoseNothingOnARejectedAdd() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0x10, 0x1F);
    m.write(0x10000, 8, 7);
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> m.addMmio(0x1F, 0x20, new Recorder()));
    assertTrue(e.getMessage().contains("[0x10, 0x1f]"), e.getMessage());
    assertEquals(7, m.read(0x10000, 8));
    assertEquals(RegionKind.RAM, m.kind(0x1F));
    assertThrows(IllegalArgumentException.class, () -> m.addRam(5, 4));
  }

  @Test
  void shouldSplitRegionsOnRemoveAndDiscardTheirFrames() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 0xF);
    for (int f = 0; f < 16; f++) {
      m.write((long) f << 12, 8, f + 1);
    }
    assertEquals(16, m.allocatedFrames());
    m.remove(4, 7);
    assertEquals(12, m.allocatedFrames());
    assertEquals(RegionKind.ABSENT, m.kind(5));
    assertEquals(-1L, m.read(0x5000, 8));
    assertEquals(4, m.read(0x3000, 8));
    assertEquals(9, m.read(0x8000, 8));
    List<String> regions = new ArrayList<>();
    m.forEachRegion((f, l, k) -> regions.add(Long.toHexString(f) + "-" + Long.toHexString(l)
        + " " + k));
    assertEquals(List.of("0-3 RAM", "8-f RAM"), regions);
    m.addRam(4, 7); // frames come back zeroed
    assertEquals(0, m.read(0x5000, 8));
  }

  @Test
  void shouldRemoveHugeRangesWithoutVisitingEveryFrame() {
    PhysicalMemory m = new PhysicalMemory(52);
    m.addRam(0, m.lastFrame());
    m.write(0x1000, 8, 1);
    m.write((m.lastFrame() << 12), 8, 2);
    m.remove(0, m.lastFrame()); // 2^40 frames: must finish at once
    assertEquals(0, m.allocatedFrames());
  }

  @Test
  void shouldStopAtTheFrameBudgetWithoutWritingAnything() {
    PhysicalMemory m = new PhysicalMemory(40, 2);
    m.addRam(0, 0xF);
    m.write(0x0, 8, 1);
    m.write(0x1000, 8, 2);
    MemoryBudgetExceededException e =
        assertThrows(MemoryBudgetExceededException.class, () -> m.write(0x2000, 8, 3));
    assertEquals(2, e.frame());
    assertEquals(2, e.budget());
    assertEquals(0, m.read(0x2000, 8));
    // A split write whose second page would exceed the budget writes neither byte.
    assertThrows(MemoryBudgetExceededException.class, () -> m.write(0x1FFC, 8, -1L));
    assertEquals(2, m.read(0x1000, 8));
    assertEquals(0, m.read(0x1FFC, 4));
    assertEquals(1, m.read(0x0, 8));
  }

  @Test
  void shouldShareFrameContentsWithViews() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 1);
    assertNull(m.frameContents(1));
    byte[] page = m.frameContentsForWrite(1);
    PhysicalMemory.writeFrame(page, 8, 8, 0x55);
    assertEquals(0x55, m.read(0x1008, 8));
    m.write(0x1010, 4, 0x66);
    assertEquals(0x66, PhysicalMemory.readFrame(page, 0x10, 4));
    assertThrows(IllegalArgumentException.class, () -> m.frameContentsForWrite(2));
  }

  @Test
  void shouldSkipZeroBytesOfBulkLoadsIntoUnwrittenRam() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 0xFF);
    byte[] image = new byte[3 * 4096 + 5];
    image[4096 + 7] = 9;
    image[image.length - 1] = 1;
    m.writeBytes(0, image, 0, image.length);
    assertEquals(2, m.allocatedFrames(), "only the frames with data");
    assertEquals(9, m.read(4096 + 7, 1));
    assertEquals(1, m.read(image.length - 1, 1));
  }

  @Test
  void shouldAcceptMaxPhyAddrFrom32To52Bits() {
    // CPUID.80000008H:EAX[7:0] ranges over 32 to 52 (SDM vol. 3A §4.1.4); frames are 4 KiB.
    assertEquals(0xF_FFFFL, new PhysicalMemory(32).lastFrame());
    assertEquals(0xFF_FFFF_FFFFL, new PhysicalMemory(52).lastFrame());
    assertEquals(52, new PhysicalMemory(52).maxPhyAddr());
    assertThrows(IllegalArgumentException.class, () -> new PhysicalMemory(31));
    assertThrows(IllegalArgumentException.class, () -> new PhysicalMemory(53));
    assertThrows(IllegalArgumentException.class, () -> new PhysicalMemory(40, 0));
    assertEquals(1, new PhysicalMemory(40, 1).frameBudget());
    assertEquals(1L << 22, new PhysicalMemory(40).frameBudget());
  }

  @Test
  void shouldCompareAndSetAbsentBytesAsAllOnesAndDropTheWrite() {
    PhysicalMemory m = new PhysicalMemory(40);
    assertFalse(m.compareAndSet(0x3000, 8, 0, 1));
    assertTrue(m.compareAndSet(0x3000, 8, -1L, 1), "absent bytes read as all ones");
    assertEquals(-1L, m.read(0x3000, 8), "and the write is dropped");
    // A 4-byte compare looks at the low 32 bits of the expected value only.
    assertTrue(m.compareAndSet(0x3004, 4, 0x1234_5678_FFFF_FFFFL, 0));
    assertFalse(m.compareAndSet(0x3004, 4, 0xFFFF_FFFEL, 0));
    assertEquals(0, m.allocatedFrames());
    // A compare on an unwritten RAM frame allocates it (zeroes), then compares.
    m.addRam(4, 4);
    assertTrue(m.compareAndSet(0x4008, 4, 0, 0x1_0000_0067L));
    assertEquals(0x67, m.read(0x4008, 8), "4 bytes written");
    assertEquals(1, m.allocatedFrames());
    assertThrows(IllegalArgumentException.class, () -> m.compareAndSet(1L << 40, 8, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> m.compareAndSet(0x4004, 8, 0, 0));
  }

  @Test
  void shouldCopyBytesAcrossRamDevicesAndHoles() {
    Recorder dev = new Recorder();
    PhysicalMemory m = ramThenDevice(dev);
    m.write(0xFFE, 2, 0xBBAA);
    byte[] out = new byte[8];
    // Two RAM bytes, two device bytes (single-byte reads: the recorder answers 0xa0), at 2.
    m.readBytes(0xFFE, out, 2, 4);
    assertArrayEquals(new byte[] {0, 0, (byte) 0xAA, (byte) 0xBB, (byte) 0xA0, (byte) 0xA0, 0, 0},
        out);
    assertEquals(List.of("r 1000 1", "r 1001 1"), dev.log);
    // Absent frame 2: 0xff.
    m.readBytes(0x2FFF, out, 0, 2);
    assertEquals((byte) 0xFF, out[0]);
    assertEquals((byte) 0xFF, out[1]);
    // Writes: device bytes one at a time, absent bytes dropped, nothing for length 0.
    dev.log.clear();
    m.writeBytes(0xFFF, new byte[] {9, 1, 2, 3}, 1, 2);
    assertEquals(0x01, m.read(0xFFF, 1));
    assertEquals(List.of("w 1000 1 2"), dev.log);
    m.writeBytes(0x2000, new byte[] {5}, 0, 1);
    m.writeBytes(0x0, new byte[] {5}, 0, 0);
    m.readBytes(0x0, out, 8, 0);
    assertEquals(0, m.read(0, 1));
    assertEquals(1, m.allocatedFrames());
    assertThrows(IndexOutOfBoundsException.class, () -> m.readBytes(0, out, 7, 2));
    assertThrows(IndexOutOfBoundsException.class, () -> m.writeBytes(0, out, -1, 1));
    assertThrows(IllegalArgumentException.class, () -> m.readBytes((1L << 40) - 1, out, 0, 2));
    assertThrows(IllegalArgumentException.class, () -> m.writeBytes(-1L, out, 0, 1));
  }
}
