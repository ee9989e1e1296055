package org.hvmmu.testkit.host;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiConsumer;
import org.hvmmu.host.Host;
import org.hvmmu.testkit.Action;

/**
 * A host set-up and a sequence of operations on it: what {@link HostGens#scenarios} draws when the
 * set-up itself is random (a generated device, say), and what it prints as a whole scenario script.
 *
 * <pre>{@code
 * Property.forAll(HostGens.scenarios(HostGens.setups(Policy.HARDENED), 20),
 *     scenario -> scenario.check(HostInvariantCheck.all()));
 * }</pre>
 *
 * <p>A failure's counterexample prints as the script: the set-up's lines, then one line per
 * operation. Immutable if the actions are.
 *
 * @param setup the host set-up
 * @param actions the operations, in order
 */
public record HostScenario(HostSetup setup, List<Action<Host, Object>> actions) {
  /**
   * Checks the arguments and copies the actions.
   *
   * @param setup the set-up
   * @param actions the operations
   */
  public HostScenario {
    Objects.requireNonNull(setup, "setup");
    actions = List.copyOf(actions);
  }

  /**
   * Builds the host, checks {@code invariant} on it, then runs each operation and checks {@code
   * invariant} again after each.
   *
   * @param invariant the check, for example {@link HostInvariantCheck#all()}; it throws when the
   *     host is broken
   * @return the host after the last operation
   * @throws AssertionError naming the step (0 for the set-up) and its line when the invariant or an
   *     operation throws; the cause is what it threw (a {@link HostInvariantError} for a broken
   *     invariant)
   */
  public Host check(BiConsumer<? super Host, Object> invariant) {
    Objects.requireNonNull(invariant, "invariant");
    Host host = setup.build();
    step(0, "the set-up", () -> invariant.accept(host, null));
    for (int i = 0; i < actions.size(); i++) {
      Action<Host, Object> action = actions.get(i);
      step(i + 1, action.toString(), () -> {
        action.run(host, null);
        invariant.accept(host, null);
      });
    }
    return host;
  }

  private static void step(int number, String what, Runnable body) {
    try {
      body.run();
    } catch (RuntimeException | AssertionError e) {
      throw new AssertionError("step " + number + " (" + what + "): " + e.getMessage(), e);
    }
  }

  /**
   * The whole scenario as script lines: {@link HostSetup#scriptLines()}, then one line per
   * operation.
   *
   * @return the lines
   */
  public List<String> scriptLines() {
    List<String> out = new ArrayList<>(setup.scriptLines());
    out.addAll(HostScript.lines(actions));
    return out;
  }

  /**
   * The scenario as a script.
   *
   * @return the lines of {@link #scriptLines()}, each ending with a newline
   */
  @Override
  public String toString() {
    return HostScript.script(setup, actions);
  }
}
