package org.hvmmu.host.script;

import org.hvmmu.host.Host;

/**
 * Watches a scenario run, step by step: {@code hvmmu replay} prints each command and its outcome,
 * {@code hvmmu demo} collects them per policy. Called on the running thread after each command.
 */
@FunctionalInterface
public interface ScenarioListener {
  /** A listener that does nothing. */
  ScenarioListener NONE = (step, outcome, host) -> {};

  /**
   * One command has run.
   *
   * @param step the command and its line
   * @param outcome what it did
   * @param host the host after it, to read (not to change)
   */
  void stepDone(Scenario.Step step, StepOutcome outcome, Host host);
}
