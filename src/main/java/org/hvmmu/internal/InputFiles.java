package org.hvmmu.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Opens the files a user names (dumps, scripts, sysfs attributes) with bounds: only regular files
 * (after following symbolic links), and at most a given number of bytes, counted while reading (a
 * sysfs attribute reports a size of 4096 whatever it holds). A refused file is a {@link
 * RefusedException}, an {@link IOException} whose message says why in words ("not a regular
 * file", "larger than 0x4000000 bytes"); {@link #why} gives such words for any {@link
 * IOException}.
 */
public final class InputFiles {
  private InputFiles() {}

  /**
   * The most bytes a text input (an {@code lspci} dump, a scenario script) may have: 64 MiB, some
   * 4,800 functions of {@code lspci -xxxx} output or a million script lines.
   */
  public static final long MAX_TEXT_BYTES = 64L << 20;

  /** The longest line of a text input, in characters (the longest real one is under 300). */
  public static final int MAX_LINE_CHARS = 4096;

  /** A file is refused before or while it is read; the message says why. */
  public static final class RefusedException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param reason why, in words, without the file's name
     */
    public RefusedException(String reason) {
      super(reason);
    }
  }

  /**
   * Checks that {@code file} is a regular file after following links.
   *
   * @param file the file
   * @throws IOException if it is missing, unreadable or not a regular file ({@link
   *     RefusedException})
   */
  public static void requireRegular(Path file) throws IOException {
    requireRegular(file, Long.MAX_VALUE);
  }

  /**
   * Checks that {@code file} is a regular file after following links and that it says it has at
   * most {@code maxBytes} bytes (a sparse file is refused without reading it; sysfs attributes say
   * 4096, so their reads are bounded again while reading).
   *
   * @param file the file
   * @param maxBytes the bound
   * @throws IOException if it is missing, unreadable, not a regular file or larger ({@link
   *     RefusedException})
   */
  public static void requireRegular(Path file, long maxBytes) throws IOException {
    BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
    if (a.isDirectory()) {
      throw new RefusedException("is a directory");
    }
    if (!a.isRegularFile()) {
      throw new RefusedException("not a regular file (a device, FIFO or socket)");
    }
    if (a.size() > maxBytes) {
      throw tooLarge(maxBytes);
    }
  }

  /**
   * Reads all of a regular file of at most {@code maxBytes} bytes.
   *
   * @param file the file
   * @param maxBytes the bound
   * @return its bytes
   * @throws IOException if it cannot be read, is not a regular file or is larger than {@code
   *     maxBytes}
   */
  public static byte[] readBytes(Path file, int maxBytes) throws IOException {
    requireRegular(file, maxBytes);
    try (InputStream in = Files.newInputStream(file)) {
      return readBytes(in, maxBytes);
    }
  }

  /**
   * Reads a stream of at most {@code maxBytes} bytes; reads one byte past the bound at most.
   *
   * @param in the stream, not closed
   * @param maxBytes the bound
   * @return its bytes
   * @throws IOException if it cannot be read or is longer than {@code maxBytes}
   */
  public static byte[] readBytes(InputStream in, int maxBytes) throws IOException {
    byte[] bytes = in.readNBytes(maxBytes);
    if (bytes.length == maxBytes && in.read() >= 0) {
      throw tooLarge(maxBytes);
    }
    return bytes;
  }

  /**
   * Opens a regular file as UTF-8 text (malformed bytes become U+FFFD) that fails on reading past
   * {@code maxBytes} bytes.
   *
   * @param file the file
   * @param maxBytes the bound
   * @return the reader; the caller closes it
   * @throws IOException if it cannot be opened or is not a regular file
   */
  public static Reader openText(Path file, long maxBytes) throws IOException {
    requireRegular(file, maxBytes);
    return text(Files.newInputStream(file), maxBytes);
  }

  /**
   * A stream as UTF-8 text (malformed bytes become U+FFFD) that fails on reading past {@code
   * maxBytes} bytes.
   *
   * @param in the stream, closed with the reader
   * @param maxBytes the bound
   * @return the reader
   */
  public static Reader text(InputStream in, long maxBytes) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPLACE)
        .onUnmappableCharacter(CodingErrorAction.REPLACE);
    return new InputStreamReader(new Bounded(in, maxBytes), decoder);
  }

  /**
   * Words for the user about a failed read: "no such file", "permission denied", the reason of a
   * {@link RefusedException}, else the exception's message.
   *
   * @param e the failure
   * @return the words
   */
  public static String why(IOException e) {
    if (e instanceof RefusedException) {
      return e.getMessage();
    }
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return String.valueOf(e.getMessage());
  }

  private static RefusedException tooLarge(long maxBytes) {
    return new RefusedException("larger than 0x" + Long.toHexString(maxBytes) + " bytes");
  }

  /** A stream that fails once more than its bound has been read. */
  private static final class Bounded extends InputStream {
    private final InputStream in;
    private final long max;
    private long read;

    Bounded(InputStream in, long max) {
      this.in = in;
      this.max = max;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        count(1);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, (int) Math.min(len, max - read + 1));
      if (n > 0) {
        count(n);
      }
      return n;
    }

    private void count(int n) throws IOException {
      read += n;
      if (read > max) {
        throw tooLarge(max);
      }
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
