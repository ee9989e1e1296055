package org.hvmmu.host.script;

import java.util.List;
import java.util.Objects;
import org.hvmmu.host.Host;
import org.hvmmu.host.Policy;

/**
 * The end of a scenario run that met no script error.
 *
 * @param scenario the scenario
 * @param policy the policy it ran under
 * @param host the host in its final state
 * @param failures every {@code expect} that did not hold, in line order
 * @param expects the number of {@code expect} lines run
 */
public record ScenarioResult(
    Scenario scenario, Policy policy, Host host, List<Failure> failures, int expects) {
  /**
   * Checks and copies the arguments.
   *
   * @param scenario the scenario
   * @param policy the policy
   * @param host the host
   * @param failures the failures
   * @param expects the expect count
   */
  public ScenarioResult {
    Objects.requireNonNull(scenario, "scenario");
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(host, "host");
    failures = List.copyOf(failures);
  }

  /**
   * Whether every {@code expect} held.
   *
   * @return true if there are no failures
   */
  public boolean passed() {
    return failures.isEmpty();
  }
}
