package org.hvmmu.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/** {@link Gen#filter}: redraws on rejection, a bounded number of times. */
final class FilteredGen<T> implements Gen<T> {
  /** Consecutive rejections after which the filter gives up. */
  static final int MAX_TRIES = 1000;

  private final Gen<T> source;
  private final Predicate<? super T> predicate;

  FilteredGen(Gen<T> source, Predicate<? super T> predicate) {
    this.source = Objects.requireNonNull(source, "source");
    this.predicate = Objects.requireNonNull(predicate, "predicate");
  }

  @Override
  public T generate(SplittableRandom random) {
    return sample(random).value();
  }

  @Override
  public List<T> shrink(T value) {
    List<T> out = new ArrayList<>();
    for (T candidate : source.shrink(value)) {
      if (predicate.test(candidate)) {
        out.add(candidate);
      }
    }
    return out;
  }

  @Override
  public Shrinkable<T> sample(SplittableRandom random) {
    T last = null;
    for (int i = 0; i < MAX_TRIES; i++) {
      Shrinkable<T> candidate = source.sample(random);
      if (predicate.test(candidate.value())) {
        return candidate.filter(predicate);
      }
      last = candidate.value();
    }
    throw new IllegalStateException(
        "filter rejected too many values: "
            + MAX_TRIES
            + " in a row (the last was "
            + last
            + "); generate the wanted values directly instead of filtering");
  }
}
