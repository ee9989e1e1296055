package org.hvmmu.pci;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 * <p>Anything else is a {@link PciDumpParseException} naming the source and line. Never loops: each
 * line is looked at once. Stateless and thread-safe.
 */
public final class LspciDumpReader {
  private LspciDumpReader() {}

  private static final Pattern HEADER =
      Pattern.compile(
          "^\\s*(?:([0-9A-Fa-f]{1,8}):)?([0-9A-Fa-f]{1,2}):([0-9A-Fa-f]{1,2})"
              + "\\.([0-9A-Fa-f])(?:\\s.*)?$");
  private static final Pattern ROW =
      Pattern.compile("^\\s*([0-9A-Fa-f]{2,3}):((?:[ \\t]+[0-9A-Fa-f]{2})*)\\s*$");
  private static final Pattern CONTINUATION =
      Pattern.compile("^\\s*[0-9A-Fa-f]{2}(?:[ \\t]+[0-9A-Fa-f]{2})*\\s*$");

  private static final int ROW_BYTES = 16;

  /**
   * Reads a dump file; the file name is the source in error messages.
   *
   * @param file a text file ({@code lspci -xxx > file}); bytes that are not UTF-8 become U+FFFD
   * @return the devices in file order, possibly none
   * @throws PciDumpParseException if the text is malformed
   * @throws UncheckedIOException if the file cannot be read
   */
  public static List<PciDevice> read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return parse(file.toString(), new String(bytes, StandardCharsets.UTF_8));
  }

  /**
   * Parses dump text.
   *
   * @param source the name to give in error messages and {@link PciDevice#source()}
   * @param text the whole text
   * @return the devices in text order, possibly none
   * @throws PciDumpParseException if the text is malformed
   */
  public static List<PciDevice> parse(String source, String text) {
    return new Parser(source).run(text);
  }

  /** One pass over the lines; holds the device being read. */
  private static final class Parser {
    private final String source;
    private final List<PciDevice> devices = new ArrayList<>();
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

    List<PciDevice> run(String text) {
      String[] lines = text.split("\r\n|\r|\n", -1);
      for (int i = 0; i < lines.length; i++) {
        line(i + 1, lines[i]);
      }
      finish(lines.length);
      return List.copyOf(devices);
    }

    private void line(int number, String line) {
      Matcher row = ROW.matcher(line);
      if (row.matches()) {
        startRow(number, Integer.parseInt(row.group(1), 16), row.group(2));
        return;
      }
      if (rowFill > 0 && CONTINUATION.matcher(line).matches()) {
        addBytes(number, line);
        return;
      }
      Matcher header = HEADER.matcher(line);
      if (header.matches()) {
        finish(number);
        address = parseAddress(number, header);
        headerLine = number;
        count = 0;
        return;
      }
      closeRow(number);
    }

    private PciAddress parseAddress(int number, Matcher header) {
      int segment = header.group(1) == null ? 0 : (int) Long.parseLong(header.group(1), 16);
      int bus = Integer.parseInt(header.group(2), 16);
      int device = Integer.parseInt(header.group(3), 16);
      int function = Integer.parseInt(header.group(4), 16);
      try {
        return new PciAddress(segment, bus, device, function);
      } catch (IllegalArgumentException e) {
        throw error(number, "bad device address: " + e.getMessage());
      }
    }

    private void startRow(int number, int offset, String hexBytes) {
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
      if (addBytes(number, hexBytes) == 0) {
        throw error(number, "row at 0x" + Integer.toHexString(offset) + " has no bytes");
      }
    }

    /** Appends the bytes of a row or continuation line; returns how many there were. */
    private int addBytes(int number, String hexBytes) {
      int added = 0;
      for (String token : hexBytes.trim().split("[ \\t]+")) {
        if (token.isEmpty()) {
          continue;
        }
        if (rowFill == ROW_BYTES) {
          throw error(number, "row at 0x" + Integer.toHexString(count) + " has more than 16 bytes");
        }
        bytes[count + rowFill] = (byte) Integer.parseInt(token, 16);
        rowFill++;
        added++;
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

    private void finish(int number) {
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
