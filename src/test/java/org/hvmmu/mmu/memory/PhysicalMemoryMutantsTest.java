package org.hvmmu.mmu.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * Region bookkeeping, frame discarding, split accesses and compare-and-set of {@link
 * PhysicalMemory}, each expected value worked by hand in the test from the class's contract (frames
 * of 4 KiB; absent bytes read as all ones; little-endian; an access crossing a page split into
 * naturally aligned pieces, lowest first; a handler's bits above the access size ignored) and the
 * Intel SDM (vol. 2A, CMPXCHG: the destination receives a write cycle whatever the comparison's
 * result). The page directory splits a frame number 13/13 bits: frame 0x1fff is the last of the
 * first leaf block, 0x2000 the first of the second, 2^26 the first of the second top block.
 */
class PhysicalMemoryMutantsTest {
  /** A device that records its accesses and answers every read with 64 bits of pattern. */
  private static final class Recorder implements MmioHandler {
    final List<String> log = new ArrayList<>();

    @Override
    public long read(long pa, int size) {
      log.add("r " + Long.toHexString(pa) + " " + size);
      return 0xA0A1_A2A3_A4A5_A6A7L; // unmasked on purpose: the bits above size are ignored
    }

    @Override
    public void write(long pa, int size, long value) {
      log.add("w " + Long.toHexString(pa) + " " + size + " " + Long.toHexString(value));
    }
  }

  private static final MmioHandler NOTHING = new MmioHandler() {
    @Override
    public long read(long pa, int size) {
      return 0;
    }

    @Override
    public void write(long pa, int size, long value) {
    }
  };

  /** The regions as "first-last kind" strings, frames in hex. */
  private static List<String> regions(PhysicalMemory m) {
    List<String> out = new ArrayList<>();
    m.forEachRegion(
        (f, l, k) -> out.add(Long.toHexString(f) + "-" + Long.toHexString(l) + " " + k));
    return out;
  }

  // ---- regions ----------------------------------------------------------------------------------

  @Test
  void addingBelowAnExistingRegionShouldKeepIt() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0x10, 0x20);
    m.addMmio(0x30, 0x40, NOTHING);
    m.addRam(0, 5);
    assertEquals(List.of("0-5 RAM", "10-20 RAM", "30-40 MMIO"), regions(m));
    m.addRam(0x21, 0x2F);
    assertEquals(List.of("0-5 RAM", "10-20 RAM", "21-2f RAM", "30-40 MMIO"), regions(m));
    assertEquals(RegionKind.MMIO, m.kind(0x40));
    assertEquals(RegionKind.RAM, m.kind(0x10));
  }

  @Test
  void rangesTouchingARegionAtOneFrameShouldOverlapIt() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 1);
    m.addMmio(10, 20, NOTHING);
    // [5, 10] ends on the region's first frame, [20, 25] starts on its last: both overlap.
    assertThrows(IllegalStateException.class, () -> m.addMmio(5, 10, NOTHING));
    assertThrows(IllegalStateException.class, () -> m.addRam(20, 25));
    // The exception names the region that is in the way (the second one here, [0xa, 0x14]).
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> m.addRam(15, 16));
    assertTrue(e.getMessage().contains("MMIO region [0xa, 0x14]"), e.getMessage());
    assertEquals(List.of("0-1 RAM", "a-14 MMIO"), regions(m));
    // Frames next to the region do not overlap it.
    m.addRam(9, 9);
    m.addRam(21, 21);
    assertEquals(List.of("0-1 RAM", "9-9 RAM", "a-14 MMIO", "15-15 RAM"), regions(m));
  }

  @Test
  void removeShouldTrimRegionsThatShareOnlyAnEdgeFrame() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 2);
    m.addRam(4, 6);
    m.addMmio(10, 20, NOTHING);
    m.addRam(30, 40);
    // [6, 10]: (0, 2) lies below it, (4, 6) loses its last frame, (10, 20) its first, (30, 40)
    // lies above it.
    m.remove(6, 10);
    assertEquals(List.of("0-2 RAM", "4-5 RAM", "b-14 MMIO", "1e-28 RAM"), regions(m));
    // Removing a region's first frames leaves no empty piece below; its last, none above.
    m.remove(11, 12);
    assertEquals(List.of("0-2 RAM", "4-5 RAM", "d-14 MMIO", "1e-28 RAM"), regions(m));
    m.remove(19, 20);
    assertEquals(List.of("0-2 RAM", "4-5 RAM", "d-12 MMIO", "1e-28 RAM"), regions(m));
    // A range inside a region splits it in two.
    m.remove(33, 35);
    assertEquals(List.of("0-2 RAM", "4-5 RAM", "d-12 MMIO", "1e-20 RAM", "24-28 RAM"),
        regions(m));
    assertEquals(RegionKind.ABSENT, m.kind(6));
    assertEquals(RegionKind.ABSENT, m.kind(12));
    assertEquals(RegionKind.MMIO, m.kind(13));
  }

  @Test
  void removeShouldRejectAnEmptyOrTooHighRange() {
    PhysicalMemory m = new PhysicalMemory(32);
    m.addRam(0, 0xFFFFF);
    assertThrows(IllegalArgumentException.class, () -> m.remove(5, 4));
    assertThrows(IllegalArgumentException.class, () -> m.remove(0, 0x100000));
    assertEquals(List.of("0-fffff RAM"), regions(m), "nothing removed");
  }

  // ---- discarding frames ------------------------------------------------------------------------

  @Test
  void removeShouldDiscardFramesOnBothSidesOfALeafBlockBoundary() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 0x3FFF);
    m.write(0x1FFEL << 12, 8, 0x1E);
    m.write(0x1FFFL << 12, 8, 0x1F);
    m.write(0x2000L << 12, 8, 0x20);
    m.write(0x2001L << 12, 8, 0x21);
    assertEquals(4, m.allocatedFrames());
    m.remove(0x1FFF, 0x2000);
    assertEquals(2, m.allocatedFrames());
    assertEquals(-1L, m.read(0x1FFFL << 12, 8), "absent now");
    assertEquals(-1L, m.read(0x2000L << 12, 8), "absent now");
    assertNull(m.frameContents(0x1FFF));
    assertNull(m.frameContents(0x2000));
    assertEquals(0x1E, m.read(0x1FFEL << 12, 8));
    assertEquals(0x21, m.read(0x2001L << 12, 8));
    // RAM again: the old contents are gone.
    m.addRam(0x1FFF, 0x2000);
    assertEquals(0, m.read(0x1FFFL << 12, 8));
    assertEquals(0, m.read(0x2000L << 12, 8));
  }

  @Test
  void removeShouldDiscardFramesAboveTheFirstTopBlock() {
    PhysicalMemory m = new PhysicalMemory(40);
    long base = 1L << 26; // top index 1, middle 0, leaf 0
    m.addRam(base, base + 0x2005);
    m.write((base + 3) << 12, 4, 0xCAFE);
    m.write((base + 0x2003) << 12, 4, 0xBEEF); // middle index 1
    assertEquals(2, m.allocatedFrames());
    m.remove(base + 3, base + 3);
    assertEquals(1, m.allocatedFrames());
    assertEquals(0xFFFF_FFFFL, m.read((base + 3) << 12, 4));
    m.remove(base + 0x2003, base + 0x2003);
    assertEquals(0, m.allocatedFrames());
    assertEquals(0xFFFF_FFFFL, m.read((base + 0x2003) << 12, 4));
  }

  // ---- frame contents ---------------------------------------------------------------------------

  @Test
  void theLastFrameShouldHaveContents() {
    PhysicalMemory m = new PhysicalMemory(32);
    m.addRam(0xFFFFF, 0xFFFFF);
    m.write(0xFFFF_F000L, 4, 0xDEAD_BEEFL);
    byte[] page = m.frameContents(0xFFFFF);
    assertNotNull(page);
    assertEquals((byte) 0xEF, page[0]);
    assertEquals((byte) 0xDE, page[3]);
    assertNull(m.frameContents(0x100000), "beyond MAXPHYADDR");
  }

  @Test
  void frameContentsForWriteShouldReturnTheSamePageEachTime() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(5, 5);
    byte[] first = m.frameContentsForWrite(5);
    byte[] again = m.frameContentsForWrite(5);
    assertNotNull(again);
    assertSame(first, again);
    assertEquals(1, m.allocatedFrames());
  }

  // ---- split and unaligned accesses -------------------------------------------------------------

  @Test
  void unalignedWritesWithinAPageShouldStoreEveryByte() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 0);
    m.write(0, 8, 0); // allocated: later writes take the in-page path
    m.write(0x101, 4, 0x4433_2211L);
    m.write(0x209, 8, 0x8877_6655_4433_2211L);
    m.write(0x303, 2, 0xBBAA);
    for (int i = 0; i < 4; i++) {
      assertEquals(0x11 * (i + 1), m.read(0x101 + i, 1));
    }
    for (int i = 0; i < 8; i++) {
      assertEquals(0x11 * (i + 1), m.read(0x209 + i, 1));
    }
    assertEquals(0xAA, m.read(0x303, 1));
    assertEquals(0xBB, m.read(0x304, 1));
    assertEquals(0, m.read(0x100, 1));
    assertEquals(0, m.read(0x105, 1));
    assertEquals(0, m.read(0x208, 1));
    assertEquals(0, m.read(0x211, 1));
    // The static frame accessors agree.
    byte[] page = m.frameContents(0);
    PhysicalMemory.writeFrame(page, 0x401, 4, 0x0D0C_0B0AL);
    PhysicalMemory.writeFrame(page, 0x411, 8, 0x0807_0605_0403_0201L);
    assertEquals(0x0B, m.read(0x402, 1));
    assertEquals(0x0D, m.read(0x404, 1));
    assertEquals(0x01, m.read(0x411, 1));
    assertEquals(0x08, m.read(0x418, 1));
    assertEquals(0x0D0C_0B0AL, PhysicalMemory.readFrame(page, 0x401, 4));
    assertEquals(0x0807_0605_0403_0201L, PhysicalMemory.readFrame(page, 0x411, 8));
  }

  @Test
  void absentLowPiecesOfASplitReadShouldBeOnesOnlyInTheirBytes() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(1, 1);
    m.write(0x1000, 4, 0x1234_5678L);
    // 8 bytes at 0xffc: 4 absent (0xffffffff), then 4 of frame 1.
    assertEquals(0x1234_5678_FFFF_FFFFL, m.read(0xFFC, 8));
    // 4 bytes at 0xffe: 2 absent (0xffff), then 2 of frame 1 (0x5678).
    assertEquals(0x5678_FFFFL, m.read(0xFFE, 4));
    // 2 bytes at 0xfff: 1 absent, 1 of frame 1 (0x78).
    assertEquals(0x78FFL, m.read(0xFFF, 2));
  }

  @Test
  void aDevicePieceShouldContributeOnlyItsOwnBytes() {
    PhysicalMemory m = new PhysicalMemory(40);
    Recorder dev = new Recorder();
    m.addMmio(0, 0, dev);
    m.addRam(1, 1);
    m.write(0x1000, 4, 0x1122_3344L);
    // 8 bytes at 0xffc: the device's 4 bytes (its low 32 bits, 0xa4a5a6a7), then RAM's 4.
    assertEquals(0x1122_3344_A4A5_A6A7L, m.read(0xFFC, 8));
    // 8 aligned bytes: one piece, the handler's whole value.
    assertEquals(0xA0A1_A2A3_A4A5_A6A7L, m.read(0x20, 8));
    // 8 unaligned bytes inside the device frame: pieces 1, 2, 4, 1 at 0x11, 0x12, 0x14, 0x18.
    dev.log.clear();
    assertEquals(0xA7_A4A5A6A7_A6A7_A7L, m.read(0x11, 8));
    assertEquals(List.of("r 11 1", "r 12 2", "r 14 4", "r 18 1"), dev.log);
  }

  @Test
  void devicesShouldReceiveWritesMaskedToTheirSize() {
    PhysicalMemory m = new PhysicalMemory(40);
    Recorder dev = new Recorder();
    m.addMmio(0, 0, dev);
    m.write(0x0, 8, 0x0102_0304_0506_0708L);
    m.write(0x8, 4, 0xFFFF_FFFF_1234_5678L);
    m.write(0x10, 2, 0xFFFF_ABCDL);
    m.write(0x18, 1, 0x1FFL);
    assertEquals(List.of("w 0 8 102030405060708", "w 8 4 12345678", "w 10 2 abcd", "w 18 1 ff"),
        dev.log);
  }

  // ---- byte copies ------------------------------------------------------------------------------

  @Test
  void readBytesShouldCopyWholePagesFromAnyFrame() {
    PhysicalMemory m = new PhysicalMemory(32);
    m.addRam(0, 0xFF);
    for (int i = 0; i < 16; i++) {
      m.write(0x4000 + i, 1, 0x30 + i);
    }
    m.write(0xFFE, 2, 0x0201);
    m.write(0x1000, 2, 0x0403);
    byte[] out = new byte[17];
    m.readBytes(0x4000, out, 1, 16);
    for (int i = 0; i < 16; i++) {
      assertEquals(0x30 + i, out[1 + i]);
    }
    assertEquals(0, out[0]);
    // Across frames 0 and 1, both allocated, into the array at 3.
    byte[] cross = new byte[8];
    m.readBytes(0xFFE, cross, 3, 4);
    assertArrayEquals(new byte[] {0, 0, 0, 1, 2, 3, 4, 0}, cross);
  }

  @Test
  void writeBytesShouldSendEachDeviceByteToItsAddress() {
    PhysicalMemory m = new PhysicalMemory(40);
    Recorder dev = new Recorder();
    m.addRam(0, 0);
    m.addMmio(1, 1, dev);
    // Source bytes 1 to 4: two to RAM at 0xffe, two to the device at 0x1000 and 0x1001.
    m.writeBytes(0xFFE, new byte[] {9, 1, 2, 3, 4, 9}, 1, 4);
    assertEquals(1, m.read(0xFFE, 1));
    assertEquals(2, m.read(0xFFF, 1));
    assertEquals(List.of("w 1000 1 3", "w 1001 1 4"), dev.log);
    // Three bytes to the device only, from source index 2.
    dev.log.clear();
    m.writeBytes(0x1010, new byte[] {0, 0, 7, 8, 9}, 2, 3);
    assertEquals(List.of("w 1010 1 7", "w 1011 1 8", "w 1012 1 9"), dev.log);
  }

  @Test
  void writeBytesShouldLookOnlyAtEachFramesOwnBytesForZeroes() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 1);
    // Four zero bytes to frame 0 (skipped: it stays unallocated), one 7 to frame 1.
    m.writeBytes(0xFFC, new byte[] {0, 0, 0, 0, 7, 0}, 0, 5);
    assertEquals(1, m.allocatedFrames());
    assertNull(m.frameContents(0));
    assertEquals(7, m.read(0x1000, 1));
    assertEquals(0, m.read(0xFFC, 4));
  }

  // ---- compare-and-set --------------------------------------------------------------------------

  @Test
  void anEightByteCompareShouldCompareAllSixtyFourBits() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 0);
    m.write(0x10, 8, 0x1_0000_0000L);
    assertFalse(m.compareAndSet(0x10, 8, 0, 5), "the high halves differ");
    assertEquals(0x1_0000_0000L, m.read(0x10, 8));
    assertTrue(m.compareAndSet(0x10, 8, 0x1_0000_0000L, 0x2_0000_0007L));
    assertEquals(0x2_0000_0007L, m.read(0x10, 8));
  }

  @Test
  void aFourByteCompareShouldTouchOnlyItsFourBytes() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 0);
    m.write(0xFF8, 8, 0x1111_2222_0000_0000L);
    // The last 4 bytes of the page.
    assertTrue(m.compareAndSet(0xFFC, 4, 0x1111_2222L, 0xAABB_CCDDL));
    assertEquals(0xAABB_CCDD_0000_0000L, m.read(0xFF8, 8));
    assertFalse(m.compareAndSet(0xFFC, 4, 0x1111_2222L, 0));
  }

  @Test
  void aFailedCompareOnUnwrittenRamShouldStillWriteTheFrame() {
    // SDM vol. 2A, CMPXCHG: "the destination operand receives a write cycle without regard to the
    // result of the comparison": the frame is written (allocated, holding its zeroes).
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(2, 3);
    m.addRam(8, 8);
    assertFalse(m.compareAndSet(0x2008, 8, 1, 5));
    assertEquals(1, m.allocatedFrames());
    assertNotNull(m.frameContents(2));
    assertEquals(0, m.read(0x2008, 8));
    assertFalse(m.compareAndSet(0x8010, 4, 0xFFFF_FFFFL, 5));
    assertEquals(2, m.allocatedFrames());
    assertEquals(0, m.read(0x8010, 4));
    // With the budget used up, that write cycle cannot be made.
    PhysicalMemory small = new PhysicalMemory(40, 1);
    small.addRam(0, 1);
    small.write(0x1000, 1, 1);
    assertThrows(MemoryBudgetExceededException.class, () -> small.compareAndSet(0x0, 8, 9, 5));
  }

  // ---- threads ----------------------------------------------------------------------------------

  @Test
  void racingFirstWritesShouldShareOneFrame() throws InterruptedException {
    // Threads write their own 8 bytes of the same fresh frames in the same order, so that they
    // keep meeting at the allocation of each frame; none of their writes may be lost, and each
    // frame is allocated once.
    int frames = 2048;
    int threads = 4;
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, frames - 1);
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> started = new ArrayList<>();
    for (int k = 0; k < threads; k++) {
      int slot = k;
      Thread t = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        for (long f = 0; f < frames; f++) {
          m.write((f << 12) + 8 * slot, 8, (f << 8) | slot);
        }
      });
      t.start();
      started.add(t);
    }
    start.countDown();
    for (Thread t : started) {
      t.join();
    }
    assertEquals(frames, m.allocatedFrames());
    for (long f = 0; f < frames; f++) {
      for (int k = 0; k < threads; k++) {
        assertEquals((f << 8) | k, m.read((f << 12) + 8 * k, 8));
      }
    }
  }

  @Test
  void racingFirstRequestsForContentsShouldAllGetTheOnePage() throws InterruptedException {
    // frameContentsForWrite allocates a never-written frame; threads asking for the same fresh
    // frames at once must all get its one page.
    int frames = 2048;
    int threads = 4;
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, frames - 1);
    byte[][][] got = new byte[threads][frames][];
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> started = new ArrayList<>();
    for (int k = 0; k < threads; k++) {
      byte[][] mine = got[k];
      Thread t = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        for (int f = 0; f < frames; f++) {
          mine[f] = m.frameContentsForWrite(f);
        }
      });
      t.start();
      started.add(t);
    }
    start.countDown();
    for (Thread t : started) {
      t.join();
    }
    assertEquals(frames, m.allocatedFrames());
    for (int f = 0; f < frames; f++) {
      byte[] page = m.frameContents(f);
      assertNotNull(page);
      for (int k = 0; k < threads; k++) {
        assertSame(page, got[k][f], "thread " + k + ", frame " + f);
      }
    }
  }
}
