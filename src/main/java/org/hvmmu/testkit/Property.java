package org.hvmmu.testkit;

import java.util.function.Consumer;

/**
 * Entry point of property checks: {@code forAll} draws values, runs a check on each, and when one
 * fails shrinks it to a minimal counterexample and throws {@link PropertyFailure}.
 *
 * <pre>{@code
 * Property.forAll(Gens.lists(Gens.unsignedLongs(), 0, 20), xs ->
 *     assertEquals(naiveMax(xs), fastMax(xs)));
 *
 * Property.tries(5000).seed(0x5eedL).forAll(Gens.unsignedRanges(), r ->
 *     assertTrue(r.contains(r.end())));
 * }</pre>
 *
 * <p>A run makes {@link PropertyConfig#tries()} tries, stopping at the first failure. Its seed
 * fixes every value drawn, and {@code -Dhvmmu.seed=<seed>} (or {@link #seed(long)}) replays it.
 * Shrinking is greedy: it moves to the first simpler candidate that still fails (any throwable
 * counts, as during the tries) and stops when no candidate fails or after {@link
 * PropertyConfig#maxShrinkAttempts()} candidates, so it always ends. An {@link OutOfMemoryError} is
 * not a failure; it propagates at once, and so does an exception thrown by a generator.
 */
public final class Property {
  private Property() {}

  /**
   * Checks {@code check} against values of {@code gen}, configured by {@link
   * PropertyConfig#defaults()}.
   *
   * @param gen the generator of the values
   * @param check returns normally when the property holds for the value, throws anything otherwise
   *     (an {@link AssertionError} from JUnit's assertions, for example)
   * @param <T> the type of the values
   * @throws PropertyFailure if a value fails; the failure names the seed and the shrunk
   *     counterexample, and its cause is the shrunk counterexample's throwable
   */
  public static <T> void forAll(Gen<T> gen, Consumer<? super T> check) {
    PropertyConfig.defaults().forAll(gen, check);
  }

  /**
   * The default configuration with another number of tries.
   *
   * @param tries values to check, at least 1
   * @return the configuration; call {@link PropertyConfig#forAll} on it
   * @throws IllegalArgumentException if {@code tries < 1}
   */
  public static PropertyConfig tries(int tries) {
    return PropertyConfig.defaults().tries(tries);
  }

  /**
   * The default configuration with a fixed seed.
   *
   * @param seed the seed, for example {@link PropertyFailure#seed()} of an earlier failure
   * @return the configuration; call {@link PropertyConfig#forAll} on it
   */
  public static PropertyConfig seed(long seed) {
    return PropertyConfig.defaults().seed(seed);
  }
}
