package org.hvmmu.testkit;

import java.security.SecureRandom;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * How a property runs: the number of tries, the seed, and the shrink budget. Immutable; each setter
 * returns a new configuration.
 *
 * <p>{@link #defaults()} reads the system properties {@value #TRIES_PROPERTY} (the Maven build sets
 * 200, the {@code campaign} profile 20000; {@value #DEFAULT_TRIES} when absent or blank) and
 * {@value #SEED_PROPERTY} (decimal, or hex with a {@code 0x} prefix; a fresh random seed when
 * absent or blank). A seed fixes every value a run generates: try {@code k} draws from the {@code
 * k}-th {@link java.util.SplittableRandom#split()} of {@code new SplittableRandom(seed)}.
 *
 * <pre>{@code
 * Property.tries(1000).seed(0x5eedL).forAll(Gens.unsignedRanges(), r -> check(r));
 * PropertyConfig config = PropertyConfig.defaults().maxShrinkAttempts(100);
 * config.forAll(Gens.unsignedLongs(), x -> check(x));
 * }</pre>
 */
public final class PropertyConfig {
  /** The system property holding the number of tries: {@value}. */
  public static final String TRIES_PROPERTY = "hvmmu.tries";

  /** The system property holding the seed to replay: {@value}. */
  public static final String SEED_PROPERTY = "hvmmu.seed";

  /** Tries when {@value #TRIES_PROPERTY} is absent or blank: {@value}. */
  public static final int DEFAULT_TRIES = 100;

  /** Candidates shrinking tries before it stops with the simplest failure so far: {@value}. */
  public static final int DEFAULT_MAX_SHRINK_ATTEMPTS = 10_000;

  private final int tries;
  private final long seed;
  private final int maxShrinkAttempts;

  private PropertyConfig(int tries, long seed, int maxShrinkAttempts) {
    if (tries < 1) {
      throw new IllegalArgumentException("tries " + tries + " (expected: >= 1)");
    }
    if (maxShrinkAttempts < 0) {
      throw new IllegalArgumentException(
          "maxShrinkAttempts " + maxShrinkAttempts + " (expected: >= 0)");
    }
    this.tries = tries;
    this.seed = seed;
    this.maxShrinkAttempts = maxShrinkAttempts;
  }

  /**
   * The configuration given by the system properties {@value #TRIES_PROPERTY} and {@value
   * #SEED_PROPERTY}; a fresh seed is drawn on each call when no seed is set.
   *
   * @return the configuration
   * @throws IllegalArgumentException if a property is set but malformed
   */
  public static PropertyConfig defaults() {
    return fromSettings(System.getProperty(TRIES_PROPERTY), System.getProperty(SEED_PROPERTY));
  }

  /** The configuration for the given property texts (null or blank means unset). */
  static PropertyConfig fromSettings(String tries, String seed) {
    int t = isBlank(tries) ? DEFAULT_TRIES : parseTries(tries);
    long s = isBlank(seed) ? freshSeed() : parseSeed(seed);
    return new PropertyConfig(t, s, DEFAULT_MAX_SHRINK_ATTEMPTS);
  }

  /**
   * This configuration with another number of tries.
   *
   * @param tries values to check, at least 1
   * @return the new configuration
   * @throws IllegalArgumentException if {@code tries < 1}
   */
  public PropertyConfig tries(int tries) {
    return new PropertyConfig(tries, seed, maxShrinkAttempts);
  }

  /**
   * This configuration with a fixed seed, for example the one a {@link PropertyFailure} reported.
   *
   * @param seed the seed
   * @return the new configuration
   */
  public PropertyConfig seed(long seed) {
    return new PropertyConfig(tries, seed, maxShrinkAttempts);
  }

  /**
   * This configuration with another shrink budget.
   *
   * @param maxShrinkAttempts candidates to try at most while shrinking; 0 turns shrinking off
   * @return the new configuration
   * @throws IllegalArgumentException if {@code maxShrinkAttempts < 0}
   */
  public PropertyConfig maxShrinkAttempts(int maxShrinkAttempts) {
    return new PropertyConfig(tries, seed, maxShrinkAttempts);
  }

  /**
   * The number of tries.
   *
   * @return values checked per run, at least 1
   */
  public int tries() {
    return tries;
  }

  /**
   * The seed of every run made with this configuration.
   *
   * @return the seed
   */
  public long seed() {
    return seed;
  }

  /**
   * The shrink budget.
   *
   * @return candidates tried at most while shrinking
   */
  public int maxShrinkAttempts() {
    return maxShrinkAttempts;
  }

  /**
   * Checks {@code check} against {@link #tries()} values of {@code gen}; see {@link
   * Property#forAll(Gen, Consumer)}.
   *
   * @param gen the generator of the values
   * @param check returns normally when the property holds for the value, throws anything otherwise
   * @param <T> the type of the values
   * @throws PropertyFailure if a value fails; the failure names the seed and the shrunk
   *     counterexample
   */
  public <T> void forAll(Gen<T> gen, Consumer<? super T> check) {
    Objects.requireNonNull(gen, "gen");
    Objects.requireNonNull(check, "check");
    Runner.check(
        this,
        gen,
        value -> {
          Throwable error = Runner.invoke(check, value);
          return error == null ? null : new Runner.Failure(error, "");
        },
        Runner::describe,
        "Property");
  }

  /**
   * Describes the configuration.
   *
   * @return for example {@code "PropertyConfig[tries=200, seed=0x5eed, maxShrinkAttempts=10000]"}
   */
  @Override
  public String toString() {
    return "PropertyConfig[tries="
        + tries
        + ", seed="
        + seedText(seed)
        + ", maxShrinkAttempts="
        + maxShrinkAttempts
        + "]";
  }

  /** The seed as {@link #parseSeed} reads it back: {@code 0x} and unsigned hex. */
  static String seedText(long seed) {
    return "0x" + Long.toHexString(seed);
  }

  /** Parses a seed: {@code 0x} hex (unsigned), or decimal (signed, or unsigned up to 2^64 - 1). */
  static long parseSeed(String text) {
    String s = text.strip();
    try {
      if (s.startsWith("0x") || s.startsWith("0X")) {
        return Long.parseUnsignedLong(s.substring(2), 16);
      }
      if (s.startsWith("-")) {
        return Long.parseLong(s);
      }
      return Long.parseUnsignedLong(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "-D" + SEED_PROPERTY + "=" + text + " is not a seed (expected: decimal or 0x-hex)", e);
    }
  }

  private static int parseTries(String text) {
    try {
      return Integer.parseInt(text.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "-D" + TRIES_PROPERTY + "=" + text + " is not a number of tries", e);
    }
  }

  private static boolean isBlank(String text) {
    return text == null || text.isBlank();
  }

  /** The only nondeterministic draw in the package; the seed is reported on failure. */
  private static long freshSeed() {
    return new SecureRandom().nextLong();
  }
}
