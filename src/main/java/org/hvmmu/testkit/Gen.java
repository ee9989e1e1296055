package org.hvmmu.testkit;

import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A generator of random values of type {@code T} that can also propose simpler values for
 * shrinking.
 *
 * <p>Two views of the same generator:
 *
 * <ul>
 *   <li>{@link #generate} and {@link #shrink}: a value from a seeded random source, and the simpler
 *       candidates of a value. This is all a hand-written generator needs to implement; a lambda
 *       {@code random -> ...} is a generator that never shrinks.
 *   <li>{@link #sample}: the value together with its whole lazy shrink tree, a {@link Shrinkable}.
 *       The property runners only use this view. By default it unfolds {@link #shrink} from the
 *       generated value; combinators such as {@link #map}, {@link #filter}, {@link #flatMap},
 *       {@link Gens#lists} and {@link Gens#zip} override it to carry the source trees along, so a
 *       mapped value still shrinks through the value it was mapped from.
 * </ul>
 *
 * <p>Generators that produce a value from another one cannot invert the mapping, so their {@link
 * #shrink} returns an empty list; they shrink through {@link #sample} only. Generators whose
 * candidates depend on the value alone (the numbers, booleans and elements of {@link Gens}, lists
 * of those, filters of those) implement both views.
 *
 * <p>Every draw must come from the given {@link SplittableRandom} so that a seed replays a run: no
 * {@code Math.random}, no clock, no iteration over hash-ordered collections. An implementation that
 * overrides {@link #sample} must keep {@code generate(r)} equal to {@code sample(r).value()} for
 * the same random state.
 *
 * <pre>{@code
 * Gen<Long> pageFrames = Gens.unsignedLongsBetween(0, 0xfffff);
 * Gen<Long> pageAddresses = pageFrames.map(pfn -> pfn << 12);   // shrinks through the frame number
 * Gen<Long> evenFrames = pageFrames.filter(pfn -> (pfn & 1) == 0);
 * }</pre>
 *
 * <p>Generators hold no mutable state and may be shared between threads; each call allocates.
 *
 * @param <T> the type of the generated values
 */
@FunctionalInterface
public interface Gen<T> {
  /**
   * Draws a value.
   *
   * @param random the only source of randomness to use
   * @return a value, possibly null if the generator says so
   */
  T generate(SplittableRandom random);

  /**
   * Simpler candidates for {@code value}, simplest first; empty if it cannot shrink or if this
   * generator cannot shrink a value it did not sample itself (the default).
   *
   * @param value a value this generator could have produced
   * @return the candidates, never null
   */
  default List<T> shrink(T value) {
    return List.of();
  }

  /**
   * Draws a value together with its shrink tree. The default unfolds {@link #shrink} from {@link
   * #generate}.
   *
   * @param random the only source of randomness to use
   * @return the value and its lazily computed simpler candidates
   */
  default Shrinkable<T> sample(SplittableRandom random) {
    return Shrinkable.unfold(generate(random), this::shrink);
  }

  /**
   * A generator of {@code mapper(v)} for each value {@code v} of this one; shrinking shrinks {@code
   * v} and maps the candidates. {@link #shrink} of the result returns an empty list.
   *
   * @param mapper a pure function of the value
   * @param <R> the mapped type
   * @return the mapped generator
   */
  default <R> Gen<R> map(Function<? super T, ? extends R> mapper) {
    Objects.requireNonNull(mapper, "mapper");
    Gen<T> source = this;
    return new SampledGen<>(random -> source.sample(random).map(mapper));
  }

  /**
   * A generator of the values of this one that satisfy {@code predicate}. It draws again on a
   * rejection, at most 1000 times in a row, and then throws; shrinking only proposes candidates
   * that satisfy the predicate.
   *
   * @param predicate the values to keep; should accept a good share of them
   * @return the filtered generator, whose {@link #generate} and {@link #sample} throw {@link
   *     IllegalStateException} saying that the filter rejected too many values when it gives up
   */
  default Gen<T> filter(Predicate<? super T> predicate) {
    return new FilteredGen<>(this, predicate);
  }

  /**
   * A generator that draws a value of this one, then a value of the generator that {@code mapper}
   * builds from it. Shrinking first shrinks the outer value (drawing the inner value again with the
   * same random state), then the inner value.
   *
   * <pre>{@code
   * Gen<UnsignedRange> ranges = Gens.unsignedLongs()
   *     .flatMap(s -> Gens.unsignedLongsBetween(s, -1L).map(e -> new UnsignedRange(s, e)));
   * }</pre>
   *
   * @param mapper builds the generator of the second value from the first
   * @param <R> the type of the second value
   * @return the dependent generator
   */
  default <R> Gen<R> flatMap(Function<? super T, ? extends Gen<? extends R>> mapper) {
    Objects.requireNonNull(mapper, "mapper");
    Gen<T> source = this;
    return new SampledGen<>(
        random -> {
          Shrinkable<T> outer = source.sample(random);
          long innerSeed = random.nextLong();
          return SampledGen.bind(outer, mapper, innerSeed);
        });
  }
}
