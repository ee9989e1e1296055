package org.hvmmu.internal;

import java.io.IOException;
import java.io.Reader;

/**
 * Reads lines one at a time with a bound on their length, so that a reader holds one line, not the
 * whole text. Lines end at {@code \r\n}, {@code \r} or {@code \n}; a text of {@code k} line ends
 * has {@code k + 1} lines, the last one possibly empty (as {@code split("\r\n|\r|\n", -1)} gives).
 */
public final class LineReader {
  private final Reader in;
  private final int maxChars;
  private final StringBuilder line = new StringBuilder();
  private final char[] buffer = new char[8192];
  private int pos;
  private int limit;
  private int number;
  private boolean afterCr;
  private boolean done;

  /** A line is longer than the bound; the caller turns it into its own typed error. */
  public static final class LineTooLongException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int line;

    LineTooLongException(int line, int max) {
      super("line longer than " + max + " characters");
      this.line = line;
    }

    /**
     * The line.
     *
     * @return its 1-based number
     */
    public int line() {
      return line;
    }
  }

  /**
   * Creates the reader.
   *
   * @param in the text, not closed by this
   * @param maxChars the longest line allowed, in characters
   */
  public LineReader(Reader in, int maxChars) {
    this.in = in;
    this.maxChars = maxChars;
  }

  /**
   * The next line, without its end.
   *
   * @return the line, or null after the last one
   * @throws IOException if the text cannot be read
   * @throws LineTooLongException if the line is longer than the bound
   */
  public String next() throws IOException {
    if (done) {
      return null;
    }
    line.setLength(0);
    number++;
    while (true) {
      if (pos == limit) {
        limit = in.read(buffer, 0, buffer.length);
        pos = 0;
        if (limit < 0) {
          limit = 0;
          done = true;
          return line.toString();
        }
      }
      char c = buffer[pos++];
      if (afterCr) {
        afterCr = false;
        if (c == '\n') {
          continue;
        }
      }
      if (c == '\n' || c == '\r') {
        afterCr = c == '\r';
        return line.toString();
      }
      if (line.length() == maxChars) {
        throw new LineTooLongException(number, maxChars);
      }
      line.append(c);
    }
  }

  /**
   * The number of the line {@link #next} last returned.
   *
   * @return the 1-based number, 0 before the first
   */
  public int number() {
    return number;
  }
}
