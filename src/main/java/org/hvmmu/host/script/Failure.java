package org.hvmmu.host.script;

import java.util.Objects;

/**
 * An {@code expect} line that did not hold.
 *
 * @param source the script's name
 * @param line the {@code expect} line
 * @param expected what it expected, say {@code "0xe0842 protected"}
 * @param actual what was found, say {@code "0xe0842 is not in r/o mmio ranges { 2, e0840 }"}
 */
public record Failure(String source, int line, String expected, String actual) {
  /**
   * Checks the arguments.
   *
   * @param source the source
   * @param line the line
   * @param expected the expectation
   * @param actual the finding
   */
  public Failure {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(expected, "expected");
    Objects.requireNonNull(actual, "actual");
  }

  /**
   * The failure as {@code hvmmu replay} prints it.
   *
   * @return {@code SOURCE:LINE: expected EXPECTED, but ACTUAL}
   */
  @Override
  public String toString() {
    return source + ":" + line + ": expected " + expected + ", but " + actual;
  }
}
