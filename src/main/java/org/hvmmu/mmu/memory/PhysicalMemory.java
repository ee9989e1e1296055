package org.hvmmu.mmu.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A sparse physical address space of 4-KByte frames: RAM, MMIO regions and absent frames.
 *
 * <p>Addresses are unsigned and below {@code 2^maxPhyAddr} (MAXPHYADDR, 32 to 52). A frame belongs
 * to at most one region; frames in no region are {@link RegionKind#ABSENT}: reads return all ones and
 * writes are dropped, as on a PC. RAM frames are kept in primitive {@code byte[4096]} pages that are
 * allocated on the first write (a RAM frame never written reads as zeroes), up to a budget of
 * allocated frames. MMIO frames go to the region's {@link MmioHandler}.
 *
 * <p>Reads and writes of 1, 2, 4 and 8 bytes are little-endian. An access that crosses a page
 * boundary (and so, regions being whole frames, any region boundary) is split as hardware splits it:
 * into naturally aligned pieces, lowest address first, each going to its own frame's region; RAM
 * within one page is accessed whole. Aligned accesses of 4 and 8 bytes to RAM are single-copy atomic
 * ({@code getOpaque}/{@code setOpaque}), and {@link #compareAndSet} is the locked read-modify-write
 * that page walkers use to set accessed and dirty bits.
 *
 * <pre>{@code
 * PhysicalMemory memory = new PhysicalMemory(46);
 * memory.addRam(0, 0x3ffff);                     // 1 GiB of RAM, frames [0, 0x3ffff]
 * memory.addMmio(0xfee00, 0xfee00, lapic);       // one device frame
 * memory.write(0x1000, 8, 0x2003);               // allocates frame 1
 * memory.read(0x1000, 4);                        // 0x2003
 * memory.read(0xfed00000L, 4);                   // 0xffffffff: absent
 * }</pre>
 *
 * <p>Thread safety: reads, writes and compare-and-set may come from many threads (one per vCPU) at
 * once and take no lock, except the first write to a RAM frame, which allocates under this object's
 * monitor. Region changes ({@link #addRam}, {@link #addMmio}, {@link #remove}) are serialised with
 * each other and published atomically; an access racing with one sees the regions before or after
 * it. Accesses to allocated RAM allocate nothing.
 */
public final class PhysicalMemory {
  /** log2 of the frame size. */
  public static final int PAGE_SHIFT = 12;

  /** The frame size, 4 KiB. */
  public static final int PAGE_SIZE = 1 << PAGE_SHIFT;

  /** The largest MAXPHYADDR the architecture allows (Intel SDM vol. 3A §4.1.4). */
  public static final int MAX_PHYS_ADDR_BITS = 52;

  /** The smallest MAXPHYADDR accepted here (32-bit paging without PSE-36). */
  public static final int MIN_PHYS_ADDR_BITS = 32;

  /** The default budget of allocated RAM frames: 2^22 frames, 16 GiB. */
  public static final long DEFAULT_FRAME_BUDGET = 1L << 22;

  private static final int PAGE_OFFSET_MASK = PAGE_SIZE - 1;
  private static final int LEAF_BITS = 13;
  private static final int MID_BITS = 13;
  private static final int LEAF_MASK = (1 << LEAF_BITS) - 1;
  private static final int MID_MASK = (1 << MID_BITS) - 1;

  /** Sizes 1, 2, 4 and 8 as bits of one int. */
  private static final int VALID_SIZES = (1 << 1) | (1 << 2) | (1 << 4) | (1 << 8);

  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle SHORT =
      MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle PAGES = MethodHandles.arrayElementVarHandle(byte[][].class);
  private static final VarHandle LEAVES = MethodHandles.arrayElementVarHandle(byte[][][].class);
  private static final VarHandle MIDS = MethodHandles.arrayElementVarHandle(byte[][][][].class);

  private final int maxPhyAddr;
  private final long lastFrame;
  private final long frameBudget;
  /** top[frame >>> 26][(frame >>> 13) & 0x1fff][frame & 0x1fff] is a RAM frame's page. */
  private final byte[][][][] top;
  private volatile long allocatedFrames;
  private volatile Regions regions = Regions.EMPTY;

  /**
   * Creates an empty address space (every frame absent) with the default frame budget.
   *
   * @param maxPhyAddr MAXPHYADDR, 32 to 52
   * @throws IllegalArgumentException if {@code maxPhyAddr} is out of range
   */
  public PhysicalMemory(int maxPhyAddr) {
    this(maxPhyAddr, DEFAULT_FRAME_BUDGET);
  }

  /**
   * Creates an empty address space (every frame absent).
   *
   * @param maxPhyAddr MAXPHYADDR, 32 to 52
   * @param frameBudget the most RAM frames that may be allocated, at least 1
   * @throws IllegalArgumentException if an argument is out of range
   */
  public PhysicalMemory(int maxPhyAddr, long frameBudget) {
    if (maxPhyAddr < MIN_PHYS_ADDR_BITS || maxPhyAddr > MAX_PHYS_ADDR_BITS) {
      throw new IllegalArgumentException("maxPhyAddr: " + maxPhyAddr + " (expected: "
          + MIN_PHYS_ADDR_BITS + " to " + MAX_PHYS_ADDR_BITS + ")");
    }
    if (frameBudget < 1) {
      throw new IllegalArgumentException("frameBudget: " + frameBudget + " (expected: >= 1)");
    }
    this.maxPhyAddr = maxPhyAddr;
    this.lastFrame = (1L << (maxPhyAddr - PAGE_SHIFT)) - 1;
    this.frameBudget = frameBudget;
    this.top = new byte[(int) (lastFrame >>> (LEAF_BITS + MID_BITS)) + 1][][][];
  }

  /**
   * MAXPHYADDR: every address is below {@code 2^maxPhyAddr()}.
   *
   * @return 32 to 52
   */
  public int maxPhyAddr() {
    return maxPhyAddr;
  }

  /**
   * The highest frame number, {@code 2^(maxPhyAddr - 12) - 1}.
   *
   * @return the last frame
   */
  public long lastFrame() {
    return lastFrame;
  }

  /**
   * The most RAM frames this memory allocates.
   *
   * @return the budget in frames
   */
  public long frameBudget() {
    return frameBudget;
  }

  /**
   * The RAM frames allocated so far (written at least once and not removed since).
   *
   * @return the count
   */
  public long allocatedFrames() {
    return allocatedFrames;
  }

  // ---- regions ------------------------------------------------------------------------------------

  /**
   * Makes the inclusive frame range {@code [firstFrame, lastFrame]} RAM. Its frames read as zeroes
   * until written.
   *
   * @param firstFrame the first frame
   * @param lastFrame the last frame, not below {@code firstFrame}
   * @throws IllegalArgumentException if the range is empty or beyond MAXPHYADDR
   * @throws IllegalStateException if the range overlaps a region (nothing changes then)
   */
  public void addRam(long firstFrame, long lastFrame) {
    addRegion(firstFrame, lastFrame, RegionKind.RAM, null);
  }

  /**
   * Makes the inclusive frame range {@code [firstFrame, lastFrame]} an MMIO region of {@code
   * handler}.
   *
   * @param firstFrame the first frame
   * @param lastFrame the last frame, not below {@code firstFrame}
   * @param handler the device
   * @throws IllegalArgumentException if the range is empty or beyond MAXPHYADDR
   * @throws IllegalStateException if the range overlaps a region (nothing changes then)
   */
  public void addMmio(long firstFrame, long lastFrame, MmioHandler handler) {
    Objects.requireNonNull(handler, "handler");
    addRegion(firstFrame, lastFrame, RegionKind.MMIO, handler);
  }

  /**
   * Makes the inclusive frame range {@code [firstFrame, lastFrame]} absent, splitting regions that
   * extend beyond it; RAM contents in the range are discarded. Frames already absent stay so.
   *
   * @param firstFrame the first frame
   * @param lastFrame the last frame, not below {@code firstFrame}
   * @throws IllegalArgumentException if the range is empty or beyond MAXPHYADDR
   */
  public synchronized void remove(long firstFrame, long lastFrame) {
    checkFrameRange(firstFrame, lastFrame);
    regions = regions.without(firstFrame, lastFrame);
    discardPages(firstFrame, lastFrame);
  }

  /**
   * What frame {@code frame} is.
   *
   * @param frame a frame number
   * @return its region's kind; {@link RegionKind#ABSENT} for frames beyond MAXPHYADDR too
   */
  public RegionKind kind(long frame) {
    if (Long.compareUnsigned(frame, lastFrame) > 0) {
      return RegionKind.ABSENT;
    }
    Regions r = regions;
    int i = r.find(frame);
    return i < 0 ? RegionKind.ABSENT : r.kinds[i];
  }

  /**
   * Calls {@code consumer} with each region in ascending order.
   *
   * @param consumer receives the inclusive frame range and kind of each region
   */
  public void forEachRegion(RegionConsumer consumer) {
    Regions r = regions;
    for (int i = 0; i < r.size; i++) {
      consumer.accept(r.firsts[i], r.lasts[i], r.kinds[i]);
    }
  }

  /** Receives regions from {@link #forEachRegion}. */
  @FunctionalInterface
  public interface RegionConsumer {
    /**
     * One region.
     *
     * @param firstFrame its first frame
     * @param lastFrame its last frame (inclusive)
     * @param kind {@link RegionKind#RAM} or {@link RegionKind#MMIO}
     */
    void accept(long firstFrame, long lastFrame, RegionKind kind);
  }

  private synchronized void addRegion(
      long firstFrame, long lastFrame, RegionKind kind, MmioHandler handler) {
    checkFrameRange(firstFrame, lastFrame);
    Regions r = regions;
    int overlap = r.firstOverlap(firstFrame, lastFrame);
    if (overlap >= 0) {
      throw new IllegalStateException("frames [0x" + Long.toHexString(firstFrame) + ", 0x"
          + Long.toHexString(lastFrame) + "] overlap the " + r.kinds[overlap] + " region [0x"
          + Long.toHexString(r.firsts[overlap]) + ", 0x" + Long.toHexString(r.lasts[overlap])
          + "] (expected: no overlap; remove it first)");
    }
    regions = r.with(firstFrame, lastFrame, kind, handler);
  }

  private void checkFrameRange(long firstFrame, long lastFrame) {
    if (Long.compareUnsigned(firstFrame, lastFrame) > 0
        || Long.compareUnsigned(lastFrame, this.lastFrame) > 0) {
      throw new IllegalArgumentException("frames [0x" + Long.toHexString(firstFrame) + ", 0x"
          + Long.toHexString(lastFrame) + "] (expected: first <= last <= 0x"
          + Long.toHexString(this.lastFrame) + ", MAXPHYADDR " + maxPhyAddr + ")");
    }
  }

  // ---- frame contents ------------------------------------------------------------------------------

  /**
   * The live contents of an allocated RAM frame, for an MMU's fast path and for views such as a frame
   * table's: 4096 bytes, little-endian, shared with this memory (a write to the array is a write to
   * the frame). Use the {@link VarHandle} access modes this class uses when other threads may access
   * the frame.
   *
   * @param frame a frame number
   * @return the frame's bytes, or null if the frame is not RAM or has never been written
   */
  public byte[] frameContents(long frame) {
    if (Long.compareUnsigned(frame, lastFrame) > 0) {
      return null;
    }
    return page(frame);
  }

  /**
   * The live contents of a RAM frame, allocating them (zeroed) if the frame has never been written.
   *
   * @param frame a RAM frame
   * @return the frame's bytes
   * @throws IllegalArgumentException if the frame is not RAM
   * @throws MemoryBudgetExceededException if a new frame is needed and the budget is used up
   */
  public byte[] frameContentsForWrite(long frame) {
    byte[] page = frameContents(frame);
    if (page != null) {
      return page;
    }
    if (kind(frame) != RegionKind.RAM) {
      throw new IllegalArgumentException(
          "frame 0x" + Long.toHexString(frame) + " is " + kind(frame) + " (expected: RAM)");
    }
    return allocate(frame);
  }

  // ---- accesses -----------------------------------------------------------------------------------

  /**
   * Reads {@code size} bytes at {@code pa}, little-endian.
   *
   * @param pa the physical address; the access must end below {@code 2^maxPhyAddr}
   * @param size 1, 2, 4 or 8
   * @return the value zero-extended to 64 bits (all ones in the bytes of absent frames)
   * @throws IllegalArgumentException if the size is not 1, 2, 4 or 8, or the access reaches beyond
   *     MAXPHYADDR
   */
  public long read(long pa, int size) {
    int offset = (int) pa & PAGE_OFFSET_MASK;
    if (offset + size <= PAGE_SIZE && (pa >>> maxPhyAddr) == 0 && validSize(size)) {
      byte[] page = page(pa >>> PAGE_SHIFT);
      if (page != null) {
        return readPage(page, offset, size);
      }
    }
    checkAccess(pa, size);
    return readPieces(pa, size);
  }

  /**
   * Writes the low {@code 8 * size} bits of {@code value} at {@code pa}, little-endian. Bytes in
   * absent frames are dropped; bytes in MMIO frames go to the handler.
   *
   * @param pa the physical address; the access must end below {@code 2^maxPhyAddr}
   * @param size 1, 2, 4 or 8
   * @param value the value
   * @throws IllegalArgumentException if the size is not 1, 2, 4 or 8, or the access reaches beyond
   *     MAXPHYADDR
   * @throws MemoryBudgetExceededException if a RAM frame must be allocated and the budget is used up
   *     (no byte of the access is written then)
   */
  public void write(long pa, int size, long value) {
    int offset = (int) pa & PAGE_OFFSET_MASK;
    if (offset + size <= PAGE_SIZE && (pa >>> maxPhyAddr) == 0 && validSize(size)) {
      byte[] page = page(pa >>> PAGE_SHIFT);
      if (page != null) {
        writePage(page, offset, size, value);
        return;
      }
    }
    checkAccess(pa, size);
    // Allocate every RAM page the access touches first, so that a budget failure writes nothing.
    byte[] first = pageForWrite(pa);
    byte[] last = pageForWrite(pa + size - 1);
    if (first != null && first == last) {
      writePage(first, offset, size, value);
      return;
    }
    writePieces(pa, size, value);
  }

  /**
   * The locked read-modify-write of an aligned 4- or 8-byte value: if the value at {@code pa} equals
   * the low {@code 8 * size} bits of {@code expected}, replaces it with {@code value}, atomically for
   * RAM. For an MMIO frame this is a read then, if equal, a write through the handler (a device sees
   * a locked cycle as a read and a write); for an absent frame the value reads as all ones and the
   * write is dropped.
   *
   * @param pa the physical address, a multiple of {@code size}
   * @param size 4 or 8
   * @param expected the value expected
   * @param value the new value
   * @return whether the value was equal (and so replaced)
   * @throws IllegalArgumentException if the size is not 4 or 8, {@code pa} is not aligned, or the
   *     access reaches beyond MAXPHYADDR
   * @throws MemoryBudgetExceededException if a RAM frame must be allocated and the budget is used up
   */
  public boolean compareAndSet(long pa, int size, long expected, long value) {
    if ((size != 4 && size != 8) || (pa & (size - 1)) != 0) {
      throw new IllegalArgumentException("compareAndSet of " + size + " bytes at 0x"
          + Long.toHexString(pa) + " (expected: 4 or 8 bytes, naturally aligned)");
    }
    checkAccess(pa, size);
    long frame = pa >>> PAGE_SHIFT;
    int offset = (int) pa & PAGE_OFFSET_MASK;
    byte[] page = page(frame);
    if (page == null) {
      Regions r = regions;
      int i = r.find(frame);
      if (i < 0 || r.kinds[i] == RegionKind.MMIO) {
        long mask = size == 8 ? -1L : 0xFFFF_FFFFL;
        long current = readPieces(pa, size);
        if (current != (expected & mask)) {
          return false;
        }
        writePieces(pa, size, value);
        return true;
      }
      page = allocate(frame);
    }
    if (size == 8) {
      return LONG.compareAndSet(page, offset, expected, value);
    }
    return INT.compareAndSet(page, offset, (int) expected, (int) value);
  }

  /**
   * Copies {@code length} bytes from physical memory at {@code pa} into {@code destination}, as byte
   * reads (absent bytes read as 0xff, MMIO as single-byte reads).
   *
   * @param pa the first physical address
   * @param destination where the bytes go
   * @param offset the first index in {@code destination}
   * @param length the number of bytes
   * @throws IllegalArgumentException if the range reaches beyond MAXPHYADDR
   * @throws IndexOutOfBoundsException if the array range is invalid
   */
  public void readBytes(long pa, byte[] destination, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, destination.length);
    if (length == 0) {
      return;
    }
    checkRange(pa, length);
    int done = 0;
    while (done < length) {
      long address = pa + done;
      int pageOffset = (int) address & PAGE_OFFSET_MASK;
      int chunk = Math.min(length - done, PAGE_SIZE - pageOffset);
      byte[] page = page(address >>> PAGE_SHIFT);
      if (page != null) {
        System.arraycopy(page, pageOffset, destination, offset + done, chunk);
      } else {
        for (int i = 0; i < chunk; i++) {
          destination[offset + done + i] = (byte) readPieces(address + i, 1);
        }
      }
      done += chunk;
    }
  }

  /**
   * Copies {@code length} bytes of {@code source} into physical memory at {@code pa}, as byte writes
   * (dropped in absent frames, single-byte writes to MMIO). Zero bytes going to RAM frames never
   * written are skipped without allocating them, so that loading a mostly empty image stays sparse.
   *
   * @param pa the first physical address
   * @param source the bytes
   * @param offset the first index in {@code source}
   * @param length the number of bytes
   * @throws IllegalArgumentException if the range reaches beyond MAXPHYADDR
   * @throws IndexOutOfBoundsException if the array range is invalid
   * @throws MemoryBudgetExceededException if a RAM frame must be allocated and the budget is used up
   *     (the bytes before that frame are written)
   */
  public void writeBytes(long pa, byte[] source, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, source.length);
    if (length == 0) {
      return;
    }
    checkRange(pa, length);
    int done = 0;
    while (done < length) {
      long address = pa + done;
      long frame = address >>> PAGE_SHIFT;
      int pageOffset = (int) address & PAGE_OFFSET_MASK;
      int chunk = Math.min(length - done, PAGE_SIZE - pageOffset);
      byte[] page = page(frame);
      if (page == null && kind(frame) == RegionKind.RAM) {
        if (!allZero(source, offset + done, chunk)) {
          page = allocate(frame);
        }
      } else if (page == null) {
        for (int i = 0; i < chunk; i++) {
          writePieces(address + i, 1, source[offset + done + i]);
        }
      }
      if (page != null) {
        System.arraycopy(source, offset + done, page, pageOffset, chunk);
      }
      done += chunk;
    }
  }

  // ---- internals ----------------------------------------------------------------------------------

  private static boolean validSize(int size) {
    return size > 0 && size <= 8 && ((VALID_SIZES >>> size) & 1) != 0;
  }

  private void checkAccess(long pa, int size) {
    if (!validSize(size)) {
      throw new IllegalArgumentException("size: " + size + " (expected: 1, 2, 4 or 8)");
    }
    checkRange(pa, size);
  }

  /** Checks that the {@code size} bytes from {@code pa} (size at least 1) lie below MAXPHYADDR. */
  private void checkRange(long pa, int size) {
    long end = pa + size - 1;
    if ((pa >>> maxPhyAddr) != 0 || (end >>> maxPhyAddr) != 0 || Long.compareUnsigned(end, pa) < 0) {
      throw new IllegalArgumentException("physical access of " + size + " bytes at 0x"
          + Long.toHexString(pa) + " (expected: below 2^" + maxPhyAddr + ", MAXPHYADDR)");
    }
  }

  private byte[] page(long frame) {
    byte[][][] mids = (byte[][][]) MIDS.getAcquire(top, (int) (frame >>> (LEAF_BITS + MID_BITS)));
    if (mids == null) {
      return null;
    }
    byte[][] leaves = (byte[][]) LEAVES.getAcquire(mids, (int) (frame >>> LEAF_BITS) & MID_MASK);
    if (leaves == null) {
      return null;
    }
    return (byte[]) PAGES.getAcquire(leaves, (int) frame & LEAF_MASK);
  }

  /** The page of a RAM frame for writing (allocated), or null if the frame is not RAM. */
  private byte[] pageForWrite(long pa) {
    long frame = pa >>> PAGE_SHIFT;
    byte[] page = page(frame);
    if (page != null || kind(frame) != RegionKind.RAM) {
      return page;
    }
    return allocate(frame);
  }

  private synchronized byte[] allocate(long frame) {
    int t = (int) (frame >>> (LEAF_BITS + MID_BITS));
    int m = (int) (frame >>> LEAF_BITS) & MID_MASK;
    int l = (int) frame & LEAF_MASK;
    byte[][][] mids = top[t];
    if (mids == null) {
      mids = new byte[1 << MID_BITS][][];
      MIDS.setRelease(top, t, mids);
    }
    byte[][] leaves = mids[m];
    if (leaves == null) {
      leaves = new byte[1 << LEAF_BITS][];
      LEAVES.setRelease(mids, m, leaves);
    }
    byte[] page = leaves[l];
    if (page != null) {
      return page; // another thread allocated it first
    }
    // A region change may have raced with the caller's check: allocate only what is still RAM.
    if (kind(frame) != RegionKind.RAM) {
      throw new IllegalStateException(
          "frame 0x" + Long.toHexString(frame) + " stopped being RAM during the access");
    }
    if (allocatedFrames >= frameBudget) {
      throw new MemoryBudgetExceededException(frame, frameBudget);
    }
    page = new byte[PAGE_SIZE];
    PAGES.setRelease(leaves, l, page);
    allocatedFrames = allocatedFrames + 1;
    return page;
  }

  /** Drops the pages of frames in [first, last], visiting only the directory parts that exist. */
  private void discardPages(long first, long last) {
    int lastTop = (int) (last >>> (LEAF_BITS + MID_BITS));
    for (int t = (int) (first >>> (LEAF_BITS + MID_BITS)); t <= lastTop; t++) {
      byte[][][] mids = top[t];
      if (mids == null) {
        continue;
      }
      for (int m = 0; m <= MID_MASK; m++) {
        byte[][] leaves = mids[m];
        if (leaves == null) {
          continue;
        }
        long base = ((long) t << (LEAF_BITS + MID_BITS)) | ((long) m << LEAF_BITS);
        if (base + LEAF_MASK < first || base > last) {
          continue;
        }
        for (int l = 0; l <= LEAF_MASK; l++) {
          long frame = base + l;
          if (frame >= first && frame <= last && leaves[l] != null) {
            PAGES.setRelease(leaves, l, (byte[]) null);
            allocatedFrames = allocatedFrames - 1;
          }
        }
      }
    }
  }

  /**
   * Reads {@code size} bytes at {@code offset} of a frame's contents (from {@link #frameContents}),
   * little-endian, as {@link #read} does for RAM: aligned 4- and 8-byte reads are single-copy
   * atomic. For an MMU's fast path.
   *
   * @param page a frame's contents
   * @param offset 0 to 4096 - {@code size}
   * @param size 1, 2, 4 or 8
   * @return the value, zero-extended
   */
  public static long readFrame(byte[] page, int offset, int size) {
    return readPage(page, offset, size);
  }

  /**
   * Writes {@code size} bytes at {@code offset} of a frame's contents, as {@link #write} does for
   * RAM. For an MMU's fast path.
   *
   * @param page a frame's contents
   * @param offset 0 to 4096 - {@code size}
   * @param size 1, 2, 4 or 8
   * @param value the value, in the low {@code 8 * size} bits
   */
  public static void writeFrame(byte[] page, int offset, int size, long value) {
    writePage(page, offset, size, value);
  }

  private static long readPage(byte[] page, int offset, int size) {
    boolean aligned = (offset & (size - 1)) == 0;
    switch (size) {
      case 1:
        return page[offset] & 0xFFL;
      case 2:
        return ((short) SHORT.get(page, offset)) & 0xFFFFL;
      case 4:
        return (aligned ? (int) INT.getOpaque(page, offset) : (int) INT.get(page, offset))
            & 0xFFFF_FFFFL;
      default:
        return aligned ? (long) LONG.getOpaque(page, offset) : (long) LONG.get(page, offset);
    }
  }

  private static void writePage(byte[] page, int offset, int size, long value) {
    boolean aligned = (offset & (size - 1)) == 0;
    switch (size) {
      case 1:
        page[offset] = (byte) value;
        break;
      case 2:
        SHORT.set(page, offset, (short) value);
        break;
      case 4:
        if (aligned) {
          INT.setOpaque(page, offset, (int) value);
        } else {
          INT.set(page, offset, (int) value);
        }
        break;
      default:
        if (aligned) {
          LONG.setOpaque(page, offset, value);
        } else {
          LONG.set(page, offset, value);
        }
        break;
    }
  }

  /** Reads as naturally aligned pieces, each from its own frame's region. */
  private long readPieces(long pa, int size) {
    long value = 0;
    int done = 0;
    while (done < size) {
      long address = pa + done;
      int piece = pieceSize(address, size - done);
      value |= readAligned(address, piece) << (8 * done);
      done += piece;
    }
    return size == 8 ? value : value & ((1L << (8 * size)) - 1);
  }

  private void writePieces(long pa, int size, long value) {
    int done = 0;
    while (done < size) {
      long address = pa + done;
      int piece = pieceSize(address, size - done);
      writeAligned(address, piece, value >>> (8 * done));
      done += piece;
    }
  }

  /** The largest power of two not above {@code remaining} to which {@code address} is aligned. */
  private static int pieceSize(long address, int remaining) {
    int piece = 8;
    while (piece > remaining || (address & (piece - 1)) != 0) {
      piece >>>= 1;
    }
    return piece;
  }

  private long readAligned(long pa, int size) {
    long frame = pa >>> PAGE_SHIFT;
    byte[] page = page(frame);
    if (page != null) {
      return readPage(page, (int) pa & PAGE_OFFSET_MASK, size);
    }
    Regions r = regions;
    int i = r.find(frame);
    if (i < 0) {
      return size == 8 ? -1L : (1L << (8 * size)) - 1;
    }
    if (r.kinds[i] == RegionKind.RAM) {
      return 0;
    }
    long v = r.handlers[i].read(pa, size);
    return size == 8 ? v : v & ((1L << (8 * size)) - 1);
  }

  private void writeAligned(long pa, int size, long value) {
    long frame = pa >>> PAGE_SHIFT;
    byte[] page = page(frame);
    if (page == null) {
      Regions r = regions;
      int i = r.find(frame);
      if (i < 0) {
        return;
      }
      if (r.kinds[i] == RegionKind.MMIO) {
        r.handlers[i].write(pa, size, size == 8 ? value : value & ((1L << (8 * size)) - 1));
        return;
      }
      page = allocate(frame);
    }
    writePage(page, (int) pa & PAGE_OFFSET_MASK, size, value);
  }

  private static boolean allZero(byte[] bytes, int from, int length) {
    for (int i = from; i < from + length; i++) {
      if (bytes[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** An immutable, sorted list of disjoint regions. */
  private static final class Regions {
    static final Regions EMPTY =
        new Regions(new long[0], new long[0], new RegionKind[0], new MmioHandler[0]);

    final long[] firsts;
    final long[] lasts;
    final RegionKind[] kinds;
    final MmioHandler[] handlers;
    final int size;

    Regions(long[] firsts, long[] lasts, RegionKind[] kinds, MmioHandler[] handlers) {
      this.firsts = firsts;
      this.lasts = lasts;
      this.kinds = kinds;
      this.handlers = handlers;
      this.size = firsts.length;
    }

    /** The index of the region holding {@code frame}, or -1. */
    int find(long frame) {
      int lo = 0;
      int hi = size - 1;
      while (lo <= hi) {
        int mid = (lo + hi) >>> 1;
        if (Long.compareUnsigned(firsts[mid], frame) > 0) {
          hi = mid - 1;
        } else if (Long.compareUnsigned(lasts[mid], frame) < 0) {
          lo = mid + 1;
        } else {
          return mid;
        }
      }
      return -1;
    }

    int firstOverlap(long first, long last) {
      for (int i = 0; i < size; i++) {
        if (Long.compareUnsigned(firsts[i], last) <= 0
            && Long.compareUnsigned(lasts[i], first) >= 0) {
          return i;
        }
      }
      return -1;
    }

    Regions with(long first, long last, RegionKind kind, MmioHandler handler) {
      int at = 0;
      while (at < size && Long.compareUnsigned(firsts[at], first) < 0) {
        at++;
      }
      Builder b = new Builder(size + 1);
      for (int i = 0; i < at; i++) {
        b.add(firsts[i], lasts[i], kinds[i], handlers[i]);
      }
      b.add(first, last, kind, handler);
      for (int i = at; i < size; i++) {
        b.add(firsts[i], lasts[i], kinds[i], handlers[i]);
      }
      return b.build();
    }

    Regions without(long first, long last) {
      Builder b = new Builder(size + 1);
      for (int i = 0; i < size; i++) {
        long f = firsts[i];
        long l = lasts[i];
        if (Long.compareUnsigned(l, first) < 0 || Long.compareUnsigned(f, last) > 0) {
          b.add(f, l, kinds[i], handlers[i]);
          continue;
        }
        if (Long.compareUnsigned(f, first) < 0) {
          b.add(f, first - 1, kinds[i], handlers[i]);
        }
        if (Long.compareUnsigned(l, last) > 0) {
          b.add(last + 1, l, kinds[i], handlers[i]);
        }
      }
      return b.build();
    }

    private static final class Builder {
      private final long[] firsts;
      private final long[] lasts;
      private final RegionKind[] kinds;
      private final MmioHandler[] handlers;
      private int n;

      Builder(int capacity) {
        firsts = new long[capacity];
        lasts = new long[capacity];
        kinds = new RegionKind[capacity];
        handlers = new MmioHandler[capacity];
      }

      void add(long first, long last, RegionKind kind, MmioHandler handler) {
        firsts[n] = first;
        lasts[n] = last;
        kinds[n] = kind;
        handlers[n] = handler;
        n++;
      }

      Regions build() {
        return new Regions(
            Arrays.copyOf(firsts, n),
            Arrays.copyOf(lasts, n),
            Arrays.copyOf(kinds, n),
            Arrays.copyOf(handlers, n));
      }
    }
  }
}
