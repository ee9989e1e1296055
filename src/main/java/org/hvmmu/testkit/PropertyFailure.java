package org.hvmmu.testkit;

/**
 * Thrown when a property or stateful check finds a counterexample. The message gives the seed, the
 * {@code -Dhvmmu.seed=...} option that replays the run, the try that failed, the shrunk (minimal)
 * counterexample with the number of shrink steps, the shrunk failure's message, and the original
 * counterexample. The cause is the throwable of the shrunk counterexample's failure.
 *
 * <pre>{@code
 * PropertyFailure failure = assertThrows(PropertyFailure.class,
 *     () -> Property.forAll(Gens.unsignedLongsBetween(0, 1 << 20), x -> assertTrue(x < 1000)));
 * failure.shrunkCounterexample();   // 1000L
 * Property.seed(failure.seed()).forAll(...);   // the same run again
 * }</pre>
 */
public final class PropertyFailure extends AssertionError {
  private static final long serialVersionUID = 1L;

  /** The seed of the run. */
  private final long seed;

  /** The failing try, from 1. */
  private final int tryNumber;

  /** The configured number of tries. */
  private final int tries;

  /** Successful shrink steps. */
  private final int shrinkSteps;

  /** Candidates tried while shrinking. */
  private final int shrinkAttempts;

  private final transient Object originalCounterexample;
  private final transient Object shrunkCounterexample;

  PropertyFailure(
      String message,
      Throwable cause,
      long seed,
      int tryNumber,
      int tries,
      Object originalCounterexample,
      Object shrunkCounterexample,
      int shrinkSteps,
      int shrinkAttempts) {
    super(message, cause);
    this.seed = seed;
    this.tryNumber = tryNumber;
    this.tries = tries;
    this.originalCounterexample = originalCounterexample;
    this.shrunkCounterexample = shrunkCounterexample;
    this.shrinkSteps = shrinkSteps;
    this.shrinkAttempts = shrinkAttempts;
  }

  /**
   * The seed of the run. Given to {@link PropertyConfig#seed(long)}, or as {@code -Dhvmmu.seed=},
   * it replays the run.
   *
   * @return the seed
   */
  public long seed() {
    return seed;
  }

  /**
   * Which try failed, counting from 1.
   *
   * @return the try number
   */
  public int tryNumber() {
    return tryNumber;
  }

  /**
   * How many tries the run was configured for.
   *
   * @return the configured number of tries
   */
  public int tries() {
    return tries;
  }

  /**
   * The counterexample as generated, before shrinking. For a stateful check, the {@code List} of
   * {@link Action}s.
   *
   * @return the original counterexample; null after deserialisation
   */
  public Object originalCounterexample() {
    return originalCounterexample;
  }

  /**
   * The minimal counterexample found by shrinking. For a stateful check, the {@code List} of {@link
   * Action}s.
   *
   * @return the shrunk counterexample; null after deserialisation
   */
  public Object shrunkCounterexample() {
    return shrunkCounterexample;
  }

  /**
   * How many times shrinking moved to a simpler failing counterexample.
   *
   * @return the number of successful shrink steps
   */
  public int shrinkSteps() {
    return shrinkSteps;
  }

  /**
   * How many candidates shrinking tried, failing or not.
   *
   * @return the number of checks run while shrinking
   */
  public int shrinkAttempts() {
    return shrinkAttempts;
  }
}
