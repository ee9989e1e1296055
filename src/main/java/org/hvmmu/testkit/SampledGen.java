package org.hvmmu.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Function;

/** A generator defined by its {@link Gen#sample} view; the base of the combinators. */
final class SampledGen<T> implements Gen<T> {
  private final Function<? super SplittableRandom, ? extends Shrinkable<T>> sampler;

  SampledGen(Function<? super SplittableRandom, ? extends Shrinkable<T>> sampler) {
    this.sampler = Objects.requireNonNull(sampler, "sampler");
  }

  @Override
  public T generate(SplittableRandom random) {
    return sample(random).value();
  }

  @Override
  public Shrinkable<T> sample(SplittableRandom random) {
    return Objects.requireNonNull(sampler.apply(random), "sampler returned null");
  }

  /**
   * Views a generator of a subtype as a generator of {@code T} (it then only shrinks by sample).
   */
  static <T> Gen<T> widen(Gen<? extends T> gen) {
    Objects.requireNonNull(gen, "gen");
    return new SampledGen<T>(random -> Shrinkable.narrow(gen.sample(random)));
  }

  /** The tree of a flatMap: the inner value is drawn from a fresh random seeded with innerSeed. */
  static <T, R> Shrinkable<R> bind(
      Shrinkable<T> outer, Function<? super T, ? extends Gen<? extends R>> mapper, long innerSeed) {
    Gen<? extends R> inner = Objects.requireNonNull(mapper.apply(outer.value()), "flatMap gen");
    return bindNode(
        outer, Shrinkable.narrow(inner.sample(new SplittableRandom(innerSeed))), mapper, innerSeed);
  }

  private static <T, R> Shrinkable<R> bindNode(
      Shrinkable<T> outer,
      Shrinkable<R> inner,
      Function<? super T, ? extends Gen<? extends R>> mapper,
      long innerSeed) {
    return Shrinkable.of(
        inner.value(),
        () -> {
          List<Shrinkable<R>> out = new ArrayList<>();
          for (Shrinkable<T> candidate : outer.shrinks()) {
            out.add(bind(candidate, mapper, innerSeed));
          }
          for (Shrinkable<R> candidate : inner.shrinks()) {
            out.add(bindNode(outer, candidate, mapper, innerSeed));
          }
          return out;
        });
  }
}
