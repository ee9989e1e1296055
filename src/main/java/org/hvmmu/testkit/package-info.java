/**
 * hvmmu's own property-based testing harness: seeded generators that shrink, {@code forAll} checks
 * with replayable seeds, and stateful checks of action sequences against a model. It depends on the
 * JDK only and works from JUnit or any other framework, because a failing check simply throws
 * {@link org.hvmmu.testkit.PropertyFailure}, an {@link java.lang.AssertionError}.
 *
 * <p>The pieces:
 *
 * <ul>
 *   <li>{@link org.hvmmu.testkit.Gen} draws a value from a seeded {@link
 *       java.util.SplittableRandom} as a {@link org.hvmmu.testkit.Shrinkable}: the value plus a
 *       lazily built tree of simpler candidates, so shrinking keeps working through {@code map},
 *       {@code filter} and {@code flatMap}.
 *   <li>{@link org.hvmmu.testkit.Gens} holds the factories: unsigned 64-bit values biased to the
 *       edges ({@code 0}, {@code 1}, {@code 2^63 - 1}, {@code 2^63}, {@code ~0 - 1}, {@code ~0},
 *       and neighbours of a value so that {@code e + 1 == s} comes up), bounded values, {@link
 *       org.hvmmu.testkit.UnsignedRange}s, lists, one-of and weighted choice.
 *   <li>{@link org.hvmmu.testkit.Property} runs a bounded number of tries, and on failure shrinks
 *       to a minimal counterexample and throws a {@link org.hvmmu.testkit.PropertyFailure} naming
 *       the seed to replay with {@code -Dhvmmu.seed=...}; {@link org.hvmmu.testkit.PropertyConfig}
 *       sets tries, seed and the shrink budget explicitly.
 *   <li>{@link org.hvmmu.testkit.StatefulCheck} runs sequences of {@link org.hvmmu.testkit.Action}s
 *       against a system and a model, checks an invariant after every step, and shrinks a failing
 *       sequence by deleting actions and simplifying their arguments.
 * </ul>
 *
 * <p>Runs are deterministic: a seed fixes every generated value, and nothing in this package reads
 * the clock, iterates a hash-ordered collection or uses unseeded randomness, except the one draw of
 * a fresh seed when none is given, and that seed is reported on failure.
 *
 * <pre>{@code
 * Property.forAll(Gens.unsignedRanges(), r ->
 *     assertTrue(Long.compareUnsigned(r.start(), r.end()) <= 0));
 * }</pre>
 */
package org.hvmmu.testkit;
