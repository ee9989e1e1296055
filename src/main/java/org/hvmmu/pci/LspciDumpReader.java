package org.hvmmu.pci;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.hvmmu.internal.InputFiles;
import org.hvmmu.internal.LineReader;

/**
 * Reads the hex dumps of {@code lspci -x}, {@code -xxx} and {@code -xxxx}: one or many devices per
 * text, each a header line followed by {@code OO: xx xx ...} rows of 16 bytes.
 *
 * <pre>
 * 0002:01:00.0 Ethernet controller: Cavium, Inc. THUNDERX Network Interface Controller (rev 08)
 * 00: 7d 17 1e a0 06 00 10 00 08 00 00 02 00 00 00 00
 * 10: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
 * ...
 * </pre>
 *
 * <p>Rules:
 *
 * <ul>
 *   <li>A device header line starts (after optional blanks) with {@code [ssss:]bb:dd.f} and a blank
 *       or the end of the line; a missing segment is 0.
 *   <li>A row is an offset of 2 or 3 hex digits, a colon and up to 16 two-digit hex bytes. Rows of
 *       a device must start at 0 and follow each other by 16; a row cut short may continue on the
 *       next line (a wrapped line) with bytes only.
 *   <li>Every other line is decoration and is ignored: the rest of a wrapped header, {@code -v}
 *       output, blank lines, tool messages. A header with no rows (plain {@code lspci -vvv} output)
 *       is skipped.
 *   <li>A device must end with 64, 128, 256 or 4096 bytes.
 * </ul>
 *
 * <p>Anything else is a {@link PciDumpParseException} naming the source and line, as is a line
 * longer than {@link #MAX_LINE_CHARS} characters. Never loops and never recurses: each line is
 * scanned by hand, left to right, at most twice; no regular expression is used. Files are read a
 * line at a time: the heap holds one line and the devices read (at most 4 KiB of configuration
 * space per device, from at least 5 lines of text). Stateless and thread-safe.
 */
public final class LspciDumpReader {
  private LspciDumpReader() {}

  private static final int ROW_BYTES = 16;

  /** The longest line read, in characters; a longer one is a {@link PciDumpParseException}. */
  public static final int MAX_LINE_CHARS = InputFiles.MAX_LINE_CHARS;

  /** The largest dump file read, in bytes (64 MiB); a larger one cannot be read. */
  public static final long MAX_FILE_BYTES = InputFiles.MAX_TEXT_BYTES;

  /**
   * Reads a dump file; the file name is the source in error messages. The text is read a line at a
   * time: the reader holds one line and the devices found, never the whole text.
   *
   * @param file a regular text file ({@code lspci -xxx > file}) of at most {@link #MAX_FILE_BYTES}
   *     bytes; bytes that are not UTF-8 become U+FFFD
   * @return the devices in file order, possibly none
   * @throws PciDumpParseException if the text is malformed or has a line longer than {@link
   *     #MAX_LINE_CHARS}
   * @throws UncheckedIOException if the file cannot be read, is not a regular file (after following
   *     links) or is larger than {@link #MAX_FILE_BYTES}; the message is {@code "cannot read FILE:
   *     WHY"}
   */
  public static List<PciDevice> read(Path file) {
    Reader text;
    try {
      text = InputFiles.openText(file, MAX_FILE_BYTES);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + InputFiles.why(e), e);
    }
    try (Reader in = text) {
      return read(file.toString(), in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + InputFiles.why(e), e);
    }
  }

  /**
   * Reads dump text from a reader, a line at a time.
   *
   * @param source the name to give in error messages and {@link PciDevice#source()}
   * @param text the text, not closed
   * @return the devices in text order, possibly none
   * @throws PciDumpParseException if the text is malformed or has a line longer than {@link
   *     #MAX_LINE_CHARS}
   * @throws IOException if the reader fails
   */
  public static List<PciDevice> read(String source, Reader text) throws IOException {
    Parser p = new Parser(source);
    LineReader lines = new LineReader(text, MAX_LINE_CHARS);
    try {
      for (String line = lines.next(); line != null; line = lines.next()) {
        p.line(lines.number(), line);
      }
    } catch (LineReader.LineTooLongException e) {
      throw new PciDumpParseException(source, e.line(), e.getMessage());
    }
    p.finish(lines.number());
    return List.copyOf(p.devices);
  }

  /**
   * Parses dump text.
   *
   * @param source the name to give in error messages and {@link PciDevice#source()}
   * @param text the whole text
   * @return the devices in text order, possibly none
   * @throws PciDumpParseException if the text is malformed or has a line longer than {@link
   *     #MAX_LINE_CHARS}
   */
  public static List<PciDevice> parse(String source, String text) {
    try {
      return read(source, new StringReader(text));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read a string", e); // a StringReader does not fail
    }
  }

  /**
   * Parses lines that carry their own numbers: a block inside another file (a scenario script's
   * {@code device NAME hex} block), so that errors name the file's lines.
   *
   * @param source the name to give in error messages and {@link PciDevice#source()}
   * @param lines the lines, each at most {@link #MAX_LINE_CHARS} characters
   * @param numbers the 1-based line number of each line, as many as lines
   * @param endLine the number of the line after the block, for errors about its end
   * @return the devices in order, possibly none
   * @throws PciDumpParseException if the lines are malformed
   */
  public static List<PciDevice> parseLines(
      String source, List<String> lines, int[] numbers, int endLine) {
    if (numbers.length != lines.size()) {
      throw new IllegalArgumentException(
          numbers.length + " line numbers for " + lines.size() + " lines");
    }
    Parser p = new Parser(source);
    for (int i = 0; i < numbers.length; i++) {
      String line = lines.get(i);
      if (line.length() > MAX_LINE_CHARS) {
        throw new PciDumpParseException(
            source, numbers[i], "line longer than " + MAX_LINE_CHARS + " characters");
      }
      p.line(numbers[i], line);
    }
    p.finish(endLine);
    return List.copyOf(p.devices);
  }

  // ---- hand tokenizer: each line is scanned left to right once, nothing recurses --------------

  /** {@code \s} of the old patterns: blank, tab, line ends, vertical tab, form feed. */
  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }

  private static boolean isHex(String s, int i) {
    return i < s.length() && Character.digit(s.charAt(i), 16) >= 0 && s.charAt(i) < 0x80;
  }

  private static int skipSpace(String s, int i) {
    while (i < s.length() && isSpace(s.charAt(i))) {
      i++;
    }
    return i;
  }

  private static int hexRun(String s, int i) {
    while (isHex(s, i)) {
      i++;
    }
    return i;
  }

  /** Whether {@code s} from {@code i} holds only {@code \s} characters. */
  private static boolean onlySpace(String s, int i) {
    return skipSpace(s, i) == s.length();
  }

  /**
   * Counts the byte tokens of {@code ( [ \t]+ HH )* \s*} from {@code i} to the end, or -1 if the
   * text is not of that form; with {@code firstBlank} false the first token needs no blank.
   */
  private static int countBytes(String s, int i, boolean firstBlank) {
    int n = 0;
    while (true) {
      int j = i;
      while (j < s.length() && isBlank(s.charAt(j))) {
        j++;
      }
      boolean blankOk = j > i || (!firstBlank && n == 0);
      if (blankOk && isHex(s, j) && isHex(s, j + 1) && !isHex(s, j + 2)) {
        n++;
        i = j + 2;
        continue;
      }
      return onlySpace(s, i) ? n : -1;
    }
  }

  /** The position after the colon of a row ({@code \s* HHH? :}), or -1. */
  private static int rowStart(String s) {
    int i = skipSpace(s, 0);
    int end = hexRun(s, i);
    int digits = end - i;
    if (digits < 2 || digits > 3 || end >= s.length() || s.charAt(end) != ':') {
      return -1;
    }
    return end + 1;
  }

  /** The fields of a header line ({@code segment, bus, device, function}), or null. */
  private static long[] header(String s) {
    int i = skipSpace(s, 0);
    int a = hexRun(s, i);
    if (a == i || a >= s.length() || s.charAt(a) != ':') {
      return null;
    }
    int b0 = a + 1;
    int b = hexRun(s, b0);
    if (b == b0 || b >= s.length()) {
      return null;
    }
    long segment = 0;
    int busStart = i;
    int busEnd = a;
    int devStart = b0;
    int devEnd = b;
    if (s.charAt(b) == ':') {
      if (a - i > 8) {
        return null;
      }
      segment = Long.parseLong(s.substring(i, a), 16);
      busStart = b0;
      busEnd = b;
      devStart = b + 1;
      devEnd = hexRun(s, devStart);
      if (devEnd >= s.length()) {
        return null;
      }
    }
    if (busEnd - busStart < 1 || busEnd - busStart > 2 || devEnd - devStart < 1
        || devEnd - devStart > 2 || s.charAt(devEnd) != '.') {
      return null;
    }
    int f = devEnd + 1;
    if (!isHex(s, f) || (f + 1 < s.length() && !isSpace(s.charAt(f + 1)))) {
      return null;
    }
    return new long[] {
      segment,
      Integer.parseInt(s.substring(busStart, busEnd), 16),
      Integer.parseInt(s.substring(devStart, devEnd), 16),
      Character.digit(s.charAt(f), 16)
    };
  }

  /** One pass over the lines; holds the device being read. */
  private static final class Parser {
    private final String source;
    final List<PciDevice> devices = new ArrayList<>();
    private PciAddress address;
    private int headerLine;
    private final byte[] bytes = new byte[ConfigSpace.EXTENDED_SIZE];
    private int count;

    /** Bytes of the current row so far, 0 when no row is open. */
    private int rowFill;

    private int rowLine;

    Parser(String source) {
      this.source = source;
    }

    private PciDumpParseException error(int line, String reason) {
      return new PciDumpParseException(source, line, reason);
    }

    void line(int number, String line) {
      int colon = rowStart(line);
      if (colon >= 0 && countBytes(line, colon, true) >= 0) {
        startRow(number, Integer.parseInt(line.substring(0, colon - 1).strip(), 16), line, colon);
        return;
      }
      if (rowFill > 0 && countBytes(line, 0, false) > 0) {
        addBytes(number, line, 0);
        return;
      }
      long[] header = header(line);
      if (header != null) {
        finish(number);
        address = parseAddress(number, header);
        headerLine = number;
        count = 0;
        return;
      }
      closeRow(number);
    }

    private PciAddress parseAddress(int number, long[] header) {
      try {
        return new PciAddress((int) header[0], (int) header[1], (int) header[2], (int) header[3]);
      } catch (IllegalArgumentException e) {
        throw error(number, "bad device address: " + e.getMessage());
      }
    }

    private void startRow(int number, int offset, String line, int from) {
      closeRow(number);
      if (address == null) {
        throw error(number, "hex row before any device header line");
      }
      if (offset != count) {
        throw error(
            number,
            "expected the row at 0x"
                + Integer.toHexString(count)
                + ", found 0x"
                + Integer.toHexString(offset));
      }
      if (count >= ConfigSpace.EXTENDED_SIZE) {
        throw error(number, "row at 0x" + Integer.toHexString(offset) + " is beyond 0xfff");
      }
      rowLine = number;
      rowFill = 0;
      if (addBytes(number, line, from) == 0) {
        throw error(number, "row at 0x" + Integer.toHexString(offset) + " has no bytes");
      }
    }

    /**
     * Appends the bytes of a row or continuation line from {@code from} (checked by {@link
     * #countBytes}: pairs of hex digits between blanks); returns how many there were.
     */
    private int addBytes(int number, String line, int from) {
      int added = 0;
      for (int i = from; i < line.length(); i++) {
        if (!isHex(line, i)) {
          continue;
        }
        if (rowFill == ROW_BYTES) {
          throw error(number, "row at 0x" + Integer.toHexString(count) + " has more than 16 bytes");
        }
        int high = Character.digit(line.charAt(i), 16);
        bytes[count + rowFill] = (byte) (high << 4 | Character.digit(line.charAt(i + 1), 16));
        rowFill++;
        added++;
        i++;
      }
      if (rowFill == ROW_BYTES) {
        count += ROW_BYTES;
        rowFill = 0;
      }
      return added;
    }

    /** A line that cannot continue the open row ends it; a short row is an error. */
    private void closeRow(int number) {
      if (rowFill > 0) {
        throw error(
            rowLine,
            "row at 0x"
                + Integer.toHexString(count)
                + " has "
                + rowFill
                + " bytes, expected 16 (cut short before line "
                + number
                + ")");
      }
    }

    void finish(int number) {
      closeRow(number);
      if (address == null || count == 0) {
        return;
      }
      if (!ConfigSpace.isValidSize(count)) {
        throw error(
            headerLine,
            "device "
                + address
                + " has 0x"
                + Integer.toHexString(count)
                + " bytes of hex dump (expected 0x40, 0x80, 0x100 or 0x1000)");
      }
      byte[] config = new byte[count];
      System.arraycopy(bytes, 0, config, 0, count);
      devices.add(new PciDevice(address, ConfigSpace.of(config), source));
      address = null;
      count = 0;
    }
  }
}
