package org.hvmmu.testkit.host;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiConsumer;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostInvariants;
import org.hvmmu.host.Violation;

/**
 * {@link HostInvariants} as an assertion: {@link #assertHolds(Host)} throws a {@link
 * HostInvariantError} listing every violation, and the check is a {@link BiConsumer} of a host and
 * any model, so it serves directly as the invariant of a {@link org.hvmmu.testkit.StatefulCheck}.
 * Usable from any test framework: a broken invariant is an {@link AssertionError}.
 *
 * <pre>{@code
 * HostSetup setup = HostSetup.of(Policy.HARDENED, config);
 * StatefulCheck.run(setup::build, () -> null, HostGens.operations(setup), 30,
 *     HostInvariantCheck.all());
 *
 * HostInvariantCheck.all().assertHolds(host);                                 // JUnit, TestNG, ...
 * HostInvariantCheck.only(HostInvariants.UNPROTECTED_MSIX).assertHolds(host); // one invariant
 * }</pre>
 *
 * <p>A check walks the whole host (every L1 table, p2m and shadow), so it costs time proportional
 * to the host's size; it allocates its result. Immutable and thread-safe, but the host must not
 * change while it is checked.
 */
public final class HostInvariantCheck implements BiConsumer<Host, Object> {
  private static final HostInvariantCheck ALL =
      new HostInvariantCheck(
          new String[] {
            HostInvariants.WRITABLE_READ_ONLY_MMIO,
            HostInvariants.UNPROTECTED_MSIX,
            HostInvariants.COUNTS
          });

  private static final HostInvariantCheck EVERY =
      new HostInvariantCheck(
          new String[] {
            HostInvariants.WRITABLE_READ_ONLY_MMIO,
            HostInvariants.UNPROTECTED_MSIX,
            HostInvariants.COUNTS,
            HostInvariants.TLB_WRITABLE_READ_ONLY_MMIO,
            HostInvariants.MSIX_TABLE_INTEGRITY,
            HostInvariants.INTERRUPT_PROVENANCE
          });

  private final String[] invariants;

  private HostInvariantCheck(String[] invariants) {
    this.invariants = invariants;
  }

  /**
   * The check of all three invariants.
   *
   * @return the check
   */
  public static HostInvariantCheck all() {
    return ALL;
  }

  /**
   * The check of all six invariants, as {@link HostInvariants#check}: the three of {@link #all()},
   * {@link HostInvariants#TLB_WRITABLE_READ_ONLY_MMIO}, no vCPU's TLB letting a write reach a
   * read-only frame (for hosts whose guests run on vCPUs, such as {@link HostVcpuSetup}'s), and the
   * register-block invariants {@link HostInvariants#MSIX_TABLE_INTEGRITY} (no write changed a
   * guarded MSI-X table or PBA outside a permitted path) and {@link
   * HostInvariants#INTERRUPT_PROVENANCE} (every message was its entry's programmed one), which
   * hold trivially until something calls {@link Host#programMsix}.
   *
   * @return the check
   */
  public static HostInvariantCheck everyInvariant() {
    return EVERY;
  }

  /**
   * The check of some invariants only.
   *
   * @param invariants names from {@link HostInvariants}: {@link
   *     HostInvariants#WRITABLE_READ_ONLY_MMIO}, {@link HostInvariants#UNPROTECTED_MSIX}, {@link
   *     HostInvariants#COUNTS}, {@link HostInvariants#TLB_WRITABLE_READ_ONLY_MMIO}, {@link
   *     HostInvariants#MSIX_TABLE_INTEGRITY}, {@link HostInvariants#INTERRUPT_PROVENANCE}
   * @return the check
   * @throws IllegalArgumentException if a name is unknown or none is given
   */
  public static HostInvariantCheck only(String... invariants) {
    if (invariants.length == 0) {
      throw new IllegalArgumentException("no invariant named");
    }
    for (String name : invariants) {
      if (!isKnown(name)) {
        throw new IllegalArgumentException("unknown invariant '" + name + "' (expected: "
            + String.join(", ", EVERY.invariants) + ")");
      }
    }
    return new HostInvariantCheck(invariants.clone());
  }

  private static boolean isKnown(String name) {
    for (String known : EVERY.invariants) {
      if (known.equals(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The violations of the checked invariants.
   *
   * @param host the host
   * @return every violation, empty when the checked invariants hold
   */
  public List<Violation> violations(Host host) {
    Objects.requireNonNull(host, "host");
    List<Violation> out = new ArrayList<>();
    for (String name : invariants) {
      switch (name) {
        case HostInvariants.WRITABLE_READ_ONLY_MMIO -> HostInvariants.writableReadOnlyMmio(host, out);
        case HostInvariants.UNPROTECTED_MSIX -> HostInvariants.unprotectedMsix(host, out);
        case HostInvariants.COUNTS -> HostInvariants.counts(host, out);
        case HostInvariants.TLB_WRITABLE_READ_ONLY_MMIO ->
            HostInvariants.tlbWritableReadOnlyMmio(host, out);
        case HostInvariants.MSIX_TABLE_INTEGRITY -> HostInvariants.msixTableIntegrity(host, out);
        case HostInvariants.INTERRUPT_PROVENANCE -> HostInvariants.interruptProvenance(host, out);
        default -> throw new AssertionError(name);
      }
    }
    return out;
  }

  /**
   * Asserts that the checked invariants hold.
   *
   * @param host the host
   * @throws HostInvariantError listing every violation, if there is one
   */
  public void assertHolds(Host host) {
    List<Violation> found = violations(host);
    if (!found.isEmpty()) {
      throw new HostInvariantError(found);
    }
  }

  /**
   * {@link #assertHolds(Host)}, ignoring the model: the form {@link
   * org.hvmmu.testkit.StatefulCheck} calls after every step.
   *
   * @param host the host
   * @param model ignored (any model, or null)
   * @throws HostInvariantError listing every violation, if there is one
   */
  @Override
  public void accept(Host host, Object model) {
    assertHolds(host);
  }

  /**
   * Names the checked invariants.
   *
   * @return for example {@code "HostInvariantCheck[unprotected-msix]"}
   */
  @Override
  public String toString() {
    return "HostInvariantCheck" + java.util.Arrays.toString(invariants);
  }
}
