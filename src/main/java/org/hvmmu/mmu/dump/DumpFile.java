package org.hvmmu.mmu.dump;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.hvmmu.mmu.memory.MemoryBudgetExceededException;
import org.hvmmu.mmu.memory.PhysicalMemory;

/**
 * A dump file opened for random access: a regular file as it is, or a gzip-compressed one
 * decompressed into a temporary file that is deleted when this is closed.
 *
 * <p>Why a temporary file: an ELF core is read at its program headers' offsets, in whatever order
 * they give (QEMU's dumps with paging even point several segments at the same bytes), so the reader
 * needs random access. Decompressing into the heap would cap a dump at what the heap holds (a guest
 * with 256 MiB of RAM already gives a 256 MiB core); the temporary file keeps the heap constant and
 * is bounded by {@link DumpOptions#maxDecompressedBytes()}.
 */
final class DumpFile implements Closeable {
  /** The gzip magic, RFC 1952 ID1 and ID2. */
  private static final int GZIP_ID1 = 0x1f;

  private static final int GZIP_ID2 = 0x8b;

  /** Chunk size of decompression and of segment copies. */
  static final int CHUNK = 1 << 20;

  private final String path;
  private final String name;
  private final boolean compressed;
  private final FileChannel channel;
  private final long size;

  /** The buffer of {@link #copyTo}, allocated on first use. */
  private byte[] chunk;

  /** The bytes {@link #copyTo} has copied so far, against {@link #copyLimit}. */
  private long copied;

  private DumpFile(String path, String name, boolean compressed, FileChannel channel, long size) {
    this.path = path;
    this.name = name;
    this.compressed = compressed;
    this.channel = channel;
    this.size = size;
  }

  /**
   * Opens {@code path}, decompressing it into a temporary file if it starts with the gzip magic.
   *
   * @param path the file
   * @param maxDecompressedBytes the most bytes a gzip file may expand to
   * @return the open file; the caller closes it
   * @throws DumpFormatException if the file is missing, not a regular file, unreadable, empty, or a
   *     gzip stream that is corrupt, truncated, empty or too large
   */
  static DumpFile open(Path path, long maxDecompressedBytes) {
    String name = path.toString();
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(path, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw new DumpFormatException(
          name, DumpFormatException.NO_OFFSET, "no such file (expected: a dump file)", e);
    } catch (IOException e) {
      throw new DumpFormatException(name, DumpFormatException.NO_OFFSET, "cannot be read: " + e, e);
    }
    if (attributes.isDirectory()) {
      throw new DumpFormatException(
          name,
          DumpFormatException.NO_OFFSET,
          "is a directory (expected: a regular file holding an ELF core or a raw image)");
    }
    if (!attributes.isRegularFile()) {
      // A FIFO, socket or device has no size to check offsets against and may never end
      // (/dev/zero): refuse it rather than read without a bound.
      throw new DumpFormatException(
          name,
          DumpFormatException.NO_OFFSET,
          "is not a regular file (a device, FIFO or socket; expected: a regular file holding an"
              + " ELF core or a raw image)");
    }
    FileChannel channel = openChannel(path, name);
    try {
      long size = channel.size();
      if (size == 0) {
        throw new DumpFormatException(
            name, DumpFormatException.NO_OFFSET, "is empty (expected: an ELF core or a raw image)");
      }
      if (size >= 2 && isGzip(channel)) {
        return decompress(channel, name, maxDecompressedBytes);
      }
      DumpFile file = new DumpFile(name, name, false, channel, size);
      channel = null;
      return file;
    } catch (IOException e) {
      throw new DumpFormatException(
          name, DumpFormatException.NO_OFFSET, "cannot be read or decompressed: " + e, e);
    } finally {
      closeQuietly(channel);
    }
  }

  private static FileChannel openChannel(Path path, String name) {
    try {
      return FileChannel.open(path, StandardOpenOption.READ);
    } catch (AccessDeniedException e) {
      throw new DumpFormatException(
          name, DumpFormatException.NO_OFFSET, "cannot be read: permission denied", e);
    } catch (IOException e) {
      throw new DumpFormatException(name, DumpFormatException.NO_OFFSET, "cannot be read: " + e, e);
    }
  }

  private static boolean isGzip(FileChannel channel) throws IOException {
    ByteBuffer magic = ByteBuffer.allocate(2);
    while (magic.hasRemaining()) {
      if (channel.read(magic, magic.position()) < 0) {
        return false;
      }
    }
    return (magic.get(0) & 0xff) == GZIP_ID1 && (magic.get(1) & 0xff) == GZIP_ID2;
  }

  /** Decompresses {@code source} (closed by the caller) into a temporary file. */
  private static DumpFile decompress(FileChannel source, String name, long limit)
      throws IOException {
    String shownName = name + " (gunzipped)";
    Path temporary = Files.createTempFile("hvmmu-dump-", ".bin");
    FileChannel target;
    try {
      // DELETE_ON_CLOSE: the decompressed guest memory never outlives this read.
      target =
          FileChannel.open(
              temporary,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE,
              StandardOpenOption.DELETE_ON_CLOSE);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(temporary);
      throw e;
    }
    try {
      long total = inflate(source, target, shownName, name, limit);
      if (total == 0) {
        throw new DumpFormatException(
            name,
            DumpFormatException.NO_OFFSET,
            "decompresses to nothing (expected: an ELF core or a raw image)");
      }
      DumpFile file = new DumpFile(name, shownName, true, target, total);
      target = null;
      return file;
    } finally {
      closeQuietly(target);
    }
  }

  /** Inflates all of {@code source} into {@code target}; returns the decompressed size. */
  private static long inflate(
      FileChannel source, FileChannel target, String shownName, String name, long limit)
      throws IOException {
    source.position(0);
    long total = 0;
    // Closing the stream ends the inflater's native memory and closes source (closed twice then).
    try (InputStream in = new GZIPInputStream(Channels.newInputStream(source), 1 << 16)) {
      byte[] buffer = new byte[CHUNK];
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        if (n > limit - total) {
          throw new DumpFormatException(
              name,
              DumpFormatException.NO_OFFSET,
              "decompresses to more than 0x"
                  + Long.toHexString(limit)
                  + " bytes (expected: at most DumpOptions.maxDecompressedBytes; raise it or"
                  + " gunzip the file)");
        }
        ByteBuffer slice = ByteBuffer.wrap(buffer, 0, n);
        while (slice.hasRemaining()) {
          target.write(slice, total + slice.position());
        }
        total += n;
      }
      return total;
    } catch (EOFException e) {
      throw new DumpFormatException(
          shownName,
          target.size(),
          "the gzip stream ends early (expected: more compressed data and the gzip trailer)",
          e);
    } catch (ZipException e) {
      throw new DumpFormatException(
          shownName,
          target.size(),
          "the gzip stream is corrupt: " + e.getMessage() + " (expected: gzip deflate data)",
          e);
    }
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        // Nothing was written through a read-only channel, and a temporary file is gone either
        // way on Linux: a failed close loses nothing.
      }
    }
  }

  /** The path as the caller gave it. */
  String path() {
    return path;
  }

  /** The name for messages: the path, with " (gunzipped)" for a compressed file. */
  String name() {
    return name;
  }

  /** Whether the file was gzip-compressed. */
  boolean compressed() {
    return compressed;
  }

  /** The size in bytes, decompressed. */
  long size() {
    return size;
  }

  /**
   * Reads {@code length} bytes at {@code offset} into {@code destination}.
   *
   * @param what what the bytes are, for the message if the file ends first
   * @throws DumpFormatException if the file ends first or cannot be read
   */
  void readFully(long offset, byte[] destination, int destinationOffset, int length, String what) {
    ByteBuffer buffer = ByteBuffer.wrap(destination, destinationOffset, length);
    try {
      while (buffer.hasRemaining()) {
        int n = channel.read(buffer, offset + (buffer.position() - destinationOffset));
        if (n < 0) {
          throw new DumpFormatException(
              name,
              offset,
              what
                  + ": 0x"
                  + Integer.toHexString(length)
                  + " bytes (expected: within the file,"
                  + " which ends at 0x"
                  + Long.toHexString(size)
                  + ")");
        }
      }
    } catch (IOException e) {
      throw new DumpFormatException(name, offset, "cannot read " + what + ": " + e, e);
    }
  }

  /** The least {@link #copyLimit}, whatever the budget: 1 GiB (zero pages cost no frame). */
  static final long MIN_COPY_LIMIT = 1L << 30;

  /**
   * The most bytes all {@link #copyTo} calls of one dump may copy: the frame budget's bytes
   * ({@code frameBudget * 4096}, 16 GiB by default), at least {@link #MIN_COPY_LIMIT}. Zero bytes
   * take no frame, but they take time to read: a sparse raw image of 2^52 bytes would be read for
   * months. Also bounds ELF cores whose segments point at the same bytes many times.
   *
   * @param memory the memory copied into
   * @return the bound in bytes
   */
  static long copyLimit(PhysicalMemory memory) {
    long budget = memory.frameBudget();
    long bytes = budget > Long.MAX_VALUE >>> PhysicalMemory.PAGE_SHIFT
        ? Long.MAX_VALUE : budget << PhysicalMemory.PAGE_SHIFT;
    return Math.max(bytes, MIN_COPY_LIMIT);
  }

  /**
   * Copies {@code length} bytes at {@code offset} to physical address {@code pa}, in chunks of
   * {@link #CHUNK} bytes, so that a segment of any size costs one chunk of heap.
   *
   * @param what what the bytes are, for messages
   * @throws DumpFormatException if the file ends first, cannot be read, the memory's frame
   *     budget is used up, or the copies of this file would exceed {@link #copyLimit}
   */
  void copyTo(PhysicalMemory memory, long offset, long pa, long length, String what) {
    long limit = copyLimit(memory);
    if (Long.compareUnsigned(length, limit - copied) > 0) {
      throw new DumpFormatException(
          name,
          offset,
          what
              + " of 0x"
              + Long.toHexString(length)
              + " bytes would take the bytes read from this dump beyond 0x"
              + Long.toHexString(limit)
              + " (expected: at most DumpOptions.frameBudget * 4096 bytes, and at least 1 GiB,"
              + " of segments or raw image; raise the budget for a larger guest)");
    }
    copied += length;
    if (length > 0 && chunk == null) {
      chunk = new byte[CHUNK];
    }
    long done = 0;
    while (done < length) {
      int n = (int) Math.min(chunk.length, length - done);
      readFully(offset + done, chunk, 0, n, what + " data");
      try {
        memory.writeBytes(pa + done, chunk, 0, n);
      } catch (MemoryBudgetExceededException e) {
        throw new DumpFormatException(
            name,
            offset + done,
            what
                + " at physical address 0x"
                + Long.toHexString(pa + done)
                + " needs RAM frame 0x"
                + Long.toHexString(e.frame())
                + " beyond the frame budget of 0x"
                + Long.toHexString(e.budget())
                + " frames"
                + " (expected: at most DumpOptions.frameBudget frames holding non-zero bytes)",
            e);
      }
      done += n;
    }
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }
}
