package org.hvmmu.host.script;

/**
 * A scenario script is wrong: an unknown command, a bad number, a name used before it is declared,
 * a command that does not fit the domain's paging mode, a missing {@code end}, an unreadable dump,
 * or a host operation the script's arguments make impossible. The message is {@code
 * SOURCE:LINE: reason} ({@code SOURCE: reason} when no line is concerned), one line, meant for
 * the user as it is. Thrown by {@link ScenarioParser} and {@link ScenarioRunner}; unchecked.
 */
public final class ScenarioException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The line number of errors that concern no line (the file cannot be read). */
  public static final int NO_LINE = 0;

  private final String source;
  private final int line;
  private final String reason;

  /**
   * Creates the exception.
   *
   * @param source the script's name
   * @param line the 1-based line, or {@link #NO_LINE}
   * @param reason what is wrong
   */
  public ScenarioException(String source, int line, String reason) {
    super(source + (line == NO_LINE ? "" : ":" + line) + ": " + reason);
    this.source = source;
    this.line = line;
    this.reason = reason;
  }

  /**
   * Creates the exception with a cause.
   *
   * @param source the script's name
   * @param line the 1-based line, or {@link #NO_LINE}
   * @param reason what is wrong
   * @param cause the exception behind it
   */
  public ScenarioException(String source, int line, String reason, Throwable cause) {
    this(source, line, reason);
    initCause(cause);
  }

  /**
   * The script's name.
   *
   * @return the source
   */
  public String source() {
    return source;
  }

  /**
   * The line.
   *
   * @return the 1-based line, or {@link #NO_LINE}
   */
  public int line() {
    return line;
  }

  /**
   * What is wrong, without the source and line.
   *
   * @return the reason
   */
  public String reason() {
    return reason;
  }
}
