package org.hvmmu.pci;

/**
 * A dump of PCI configuration space could not be read as one: the text or file is malformed,
 * truncated, or of an impossible size. The message starts with the source and, for text, the
 * 1-based line: {@code "82576.xxx.txt:7: expected the row at 0x30, found 0x40"}.
 *
 * <p>This is the only exception the readers ({@link LspciDumpReader}, {@link SysfsReader}) throw
 * for bad content; failures to read a file at all are {@link java.io.UncheckedIOException}s.
 */
public final class PciDumpParseException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The line number of errors that are not about one line (a binary file's size, say). */
  public static final int NO_LINE = 0;

  private final String source;
  private final int line;

  /**
   * Creates the exception.
   *
   * @param source the file name or other source name
   * @param line the 1-based line, or {@link #NO_LINE}
   * @param reason what is wrong, with values in hex
   */
  public PciDumpParseException(String source, int line, String reason) {
    super(source + (line == NO_LINE ? "" : ":" + line) + ": " + reason);
    this.source = source;
    this.line = line;
  }

  /**
   * The source named in the message.
   *
   * @return the file name or other source name
   */
  public String source() {
    return source;
  }

  /**
   * The line named in the message.
   *
   * @return the 1-based line, or {@link #NO_LINE}
   */
  public int line() {
    return line;
  }
}
