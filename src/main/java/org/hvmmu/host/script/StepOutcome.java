package org.hvmmu.host.script;

import java.util.List;
import java.util.Objects;

/**
 * What one command of a scenario did, as a {@link ScenarioListener} sees it.
 *
 * @param rc the command's return code (0 for commands without one; an {@code expect} or {@code
 *     print} repeats the previous command's)
 * @param summary one line for a person: {@code "rc 0"}, {@code "rc -EPERM"}, {@code "holds"},
 *     {@code "entry 0x100[0] = pte(0xe0840, P US) read-only"}
 * @param failures the failed expectation of an {@code expect} line, else empty
 * @param output what a {@code print} command reports, one element per line, else empty
 */
public record StepOutcome(int rc, String summary, List<Failure> failures, List<String> output) {
  /**
   * Checks and copies the arguments.
   *
   * @param rc the code
   * @param summary the summary
   * @param failures the failures
   * @param output the printed lines
   */
  public StepOutcome {
    Objects.requireNonNull(summary, "summary");
    failures = List.copyOf(failures);
    output = List.copyOf(output);
  }

  /**
   * Whether this step is a failed {@code expect}.
   *
   * @return true if {@link #failures()} is not empty
   */
  public boolean failed() {
    return !failures.isEmpty();
  }
}
