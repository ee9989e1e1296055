package org.hvmmu.testkit.host;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.hvmmu.host.Violation;

/**
 * A host broke one of its invariants: thrown by {@link HostInvariantCheck}, an {@link
 * AssertionError} so that JUnit, TestNG, plain {@code assert}-style runners and hvmmu's own harness
 * all report it as a failure. The message lists every {@link Violation}, one per line; {@link
 * #violations()} gives them to code (a test that expects a seed hole asserts which invariant broke).
 *
 * <pre>{@code
 * PropertyFailure failure = assertThrows(PropertyFailure.class, () -> StatefulCheck.run(...));
 * HostInvariantError broken = (HostInvariantError) failure.getCause();
 * broken.invariants();   // [unprotected-msix]
 * }</pre>
 */
public final class HostInvariantError extends AssertionError {
  private static final long serialVersionUID = 1L;

  /** The violations; transient like the harness's counterexamples (violations are not serialisable). */
  private final transient List<Violation> violations;

  /**
   * Creates the error.
   *
   * @param violations the violations found, at least one; copied
   * @throws IllegalArgumentException if there are none
   */
  public HostInvariantError(List<Violation> violations) {
    super(message(violations));
    this.violations = List.copyOf(violations);
  }

  private static String message(List<Violation> violations) {
    if (violations.isEmpty()) {
      throw new IllegalArgumentException("no violations: nothing is broken");
    }
    StringBuilder out = new StringBuilder();
    out.append(violations.size())
        .append(violations.size() == 1 ? " host invariant violation:" : " host invariant violations:");
    for (Violation v : violations) {
      out.append("\n  ").append(v);
    }
    return out.toString();
  }

  /**
   * The violations, in the order {@link org.hvmmu.host.HostInvariants#check} found them.
   *
   * @return an unmodifiable list; empty after deserialisation
   */
  public List<Violation> violations() {
    return violations == null ? List.of() : violations;
  }

  /**
   * The names of the broken invariants, each once, in order of first appearance.
   *
   * @return for example {@code [writable-read-only-mmio]}
   */
  public Set<String> invariants() {
    Set<String> names = new LinkedHashSet<>();
    for (Violation v : violations()) {
      names.add(v.invariant());
    }
    return names;
  }

  /**
   * The violations of one invariant.
   *
   * @param invariant an invariant name such as {@link org.hvmmu.host.HostInvariants#COUNTS}
   * @return those violations, possibly none
   */
  public List<Violation> violationsOf(String invariant) {
    List<Violation> out = new ArrayList<>();
    for (Violation v : violations()) {
      if (v.invariant().equals(invariant)) {
        out.add(v);
      }
    }
    return out;
  }
}
