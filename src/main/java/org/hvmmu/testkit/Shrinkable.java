package org.hvmmu.testkit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A generated value and the simpler values it can shrink to, as a lazily unfolded tree: {@link
 * #shrinks()} builds the next level only when asked, and each child has its own {@link #shrinks()}.
 *
 * <p>Generators return a {@code Shrinkable} from {@link Gen#sample} so that shrinking composes:
 * {@link #map} maps every value in the tree, {@link #filter} keeps only the candidates that satisfy
 * a predicate, and {@link #zip} and {@link #list} combine trees. The property runner walks the tree
 * greedily, always descending into the first candidate that still fails.
 *
 * <pre>{@code
 * Shrinkable<Long> tree = Shrinkable.unfold(12L, x -> x == 0 ? List.of() : List.of(0L, x / 2));
 * tree.value();                   // 12
 * tree.shrinks().get(1).value();  // 6
 * }</pre>
 *
 * <p>Instances are immutable if their values are; {@link #shrinks()} recomputes the candidates on
 * every call (nothing is cached, so walking a tree does not keep the explored part alive) and
 * allocates freely.
 *
 * @param <T> the type of the value
 */
public final class Shrinkable<T> {
  private final T value;
  private final Supplier<? extends List<Shrinkable<T>>> shrinks;

  private Shrinkable(T value, Supplier<? extends List<Shrinkable<T>>> shrinks) {
    this.value = value;
    this.shrinks = Objects.requireNonNull(shrinks, "shrinks");
  }

  /**
   * A tree node with the given value whose candidates are computed by {@code shrinks} on demand.
   *
   * @param value the value, may be null
   * @param shrinks computes the simpler candidates, simplest first; it must not return null
   * @param <T> the type of the value
   * @return the node
   */
  public static <T> Shrinkable<T> of(T value, Supplier<? extends List<Shrinkable<T>>> shrinks) {
    return new Shrinkable<>(value, shrinks);
  }

  /**
   * A leaf: the value with no simpler candidates.
   *
   * @param value the value, may be null
   * @param <T> the type of the value
   * @return the leaf
   */
  public static <T> Shrinkable<T> unshrinkable(T value) {
    return new Shrinkable<>(value, List::of);
  }

  /**
   * The tree obtained by applying a value-level shrinker again and again: the children of {@code v}
   * are {@code shrinker.apply(v)}, each unfolded the same way.
   *
   * @param value the root value
   * @param shrinker the simpler candidates of a value, simplest first; empty when it cannot shrink
   * @param <T> the type of the value
   * @return the root of the tree
   */
  public static <T> Shrinkable<T> unfold(
      T value, Function<? super T, ? extends List<? extends T>> shrinker) {
    Objects.requireNonNull(shrinker, "shrinker");
    return new Shrinkable<>(
        value,
        () -> {
          List<? extends T> candidates =
              Objects.requireNonNull(shrinker.apply(value), "shrinker returned null");
          List<Shrinkable<T>> out = new ArrayList<>(candidates.size());
          for (T candidate : candidates) {
            out.add(unfold(candidate, shrinker));
          }
          return out;
        });
  }

  /**
   * Views a tree of a subtype as a tree of {@code T}; safe because a {@code Shrinkable} only ever
   * hands values out.
   *
   * @param shrinkable the tree
   * @param <T> the wider type
   * @return the same tree, typed as {@code Shrinkable<T>}
   */
  @SuppressWarnings("unchecked") // read-only, so covariance is sound
  public static <T> Shrinkable<T> narrow(Shrinkable<? extends T> shrinkable) {
    return (Shrinkable<T>) Objects.requireNonNull(shrinkable, "shrinkable");
  }

  /**
   * The value of this node.
   *
   * @return the value, possibly null
   */
  public T value() {
    return value;
  }

  /**
   * The simpler candidates of this node, simplest first; empty when the value cannot shrink.
   * Computed on each call.
   *
   * @return an unmodifiable list of candidate nodes
   */
  public List<Shrinkable<T>> shrinks() {
    List<Shrinkable<T>> candidates = shrinks.get();
    if (candidates == null) {
      throw new IllegalStateException("shrink supplier of " + value + " returned null");
    }
    return Collections.unmodifiableList(candidates);
  }

  /**
   * The same tree with {@code mapper} applied to every value, lazily.
   *
   * @param mapper maps a value; called once per node visited
   * @param <R> the mapped type
   * @return the mapped tree
   */
  public <R> Shrinkable<R> map(Function<? super T, ? extends R> mapper) {
    Objects.requireNonNull(mapper, "mapper");
    R mapped = mapper.apply(value);
    return new Shrinkable<>(
        mapped,
        () -> {
          List<Shrinkable<T>> children = shrinks();
          List<Shrinkable<R>> out = new ArrayList<>(children.size());
          for (Shrinkable<T> child : children) {
            out.add(child.map(mapper));
          }
          return out;
        });
  }

  /**
   * The same tree with only the values that satisfy {@code predicate}. A candidate that fails it is
   * replaced by those of its own candidates that satisfy it (one level deep, so the work stays
   * bounded): filtering the odd numbers out of the candidates of 1004 still offers 1002, a
   * candidate of the rejected 1003. The root itself is kept whatever it holds.
   *
   * @param predicate the values to keep
   * @return the filtered tree
   */
  public Shrinkable<T> filter(Predicate<? super T> predicate) {
    Objects.requireNonNull(predicate, "predicate");
    return new Shrinkable<>(
        value,
        () -> {
          List<Shrinkable<T>> out = new ArrayList<>();
          for (Shrinkable<T> child : shrinks()) {
            if (predicate.test(child.value)) {
              out.add(child.filter(predicate));
            } else {
              for (Shrinkable<T> grandchild : child.shrinks()) {
                if (predicate.test(grandchild.value)) {
                  out.add(grandchild.filter(predicate));
                }
              }
            }
          }
          return out;
        });
  }

  /**
   * Combines two trees into a tree of pairs: the candidates shrink {@code first} (keeping {@code
   * second}), then shrink {@code second} (keeping {@code first}).
   *
   * @param first the first component
   * @param second the second component
   * @param combiner builds the combined value; called once per node visited
   * @param <A> the type of the first component
   * @param <B> the type of the second component
   * @param <R> the combined type
   * @return the combined tree
   */
  public static <A, B, R> Shrinkable<R> zip(
      Shrinkable<A> first,
      Shrinkable<B> second,
      BiFunction<? super A, ? super B, ? extends R> combiner) {
    Objects.requireNonNull(first, "first");
    Objects.requireNonNull(second, "second");
    Objects.requireNonNull(combiner, "combiner");
    return new Shrinkable<>(
        combiner.apply(first.value, second.value),
        () -> {
          List<Shrinkable<R>> out = new ArrayList<>();
          for (Shrinkable<A> a : first.shrinks()) {
            out.add(zip(a, second, combiner));
          }
          for (Shrinkable<B> b : second.shrinks()) {
            out.add(zip(first, b, combiner));
          }
          return out;
        });
  }

  /**
   * Combines element trees into a tree of lists. The candidates, simplest first, are:
   *
   * <ol>
   *   <li>the list with a chunk of elements removed: chunks of the whole size, then half, a quarter
   *       and so on down to single elements, never going below {@code minSize};
   *   <li>for each group of two or more equal elements, all of them shrunk together (the k-th
   *       candidate of each), which takes {@code [5, 5]} to {@code [0, 0]} when only equality
   *       matters;
   *   <li>each element shrunk on its own, first element first.
   * </ol>
   *
   * <p>The value is an unmodifiable list that may hold nulls. Equal elements are grouped with
   * {@link Object#equals} and {@link Object#hashCode}, in order of first appearance.
   *
   * @param elements the element trees, in order
   * @param minSize the smallest size a candidate may have
   * @param <T> the element type
   * @return the list tree
   * @throws IllegalArgumentException if {@code minSize} is negative or above the number of elements
   */
  public static <T> Shrinkable<List<T>> list(List<Shrinkable<T>> elements, int minSize) {
    if (minSize < 0 || minSize > elements.size()) {
      throw new IllegalArgumentException(
          "minSize " + minSize + " (expected: 0 <= minSize <= " + elements.size() + ")");
    }
    List<Shrinkable<T>> copy = new ArrayList<>(elements);
    List<T> values = new ArrayList<>(copy.size());
    for (Shrinkable<T> element : copy) {
      values.add(Objects.requireNonNull(element, "element").value);
    }
    return new Shrinkable<>(Collections.unmodifiableList(values), () -> listShrinks(copy, minSize));
  }

  private static <T> List<Shrinkable<List<T>>> listShrinks(
      List<Shrinkable<T>> elements, int minSize) {
    int n = elements.size();
    List<Shrinkable<List<T>>> out = new ArrayList<>();
    for (int chunk = n; chunk >= 1; chunk /= 2) {
      if (n - chunk < minSize) {
        continue;
      }
      for (int start = 0; start + chunk <= n; start += chunk) {
        List<Shrinkable<T>> rest = new ArrayList<>(n - chunk);
        rest.addAll(elements.subList(0, start));
        rest.addAll(elements.subList(start + chunk, n));
        out.add(list(rest, minSize));
      }
    }
    List<List<Shrinkable<T>>> elementShrinks = new ArrayList<>(n);
    for (Shrinkable<T> element : elements) {
      elementShrinks.add(element.shrinks());
    }
    // Insertion-ordered, so the candidate order depends only on the values, never on hash order.
    Map<T, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      groups.computeIfAbsent(elements.get(i).value, k -> new ArrayList<>()).add(i);
    }
    for (List<Integer> group : groups.values()) {
      if (group.size() < 2) {
        continue;
      }
      int count = Integer.MAX_VALUE;
      for (int index : group) {
        count = Math.min(count, elementShrinks.get(index).size());
      }
      for (int k = 0; k < count; k++) {
        List<Shrinkable<T>> replaced = new ArrayList<>(elements);
        for (int index : group) {
          replaced.set(index, elementShrinks.get(index).get(k));
        }
        out.add(list(replaced, minSize));
      }
    }
    for (int i = 0; i < n; i++) {
      for (Shrinkable<T> candidate : elementShrinks.get(i)) {
        List<Shrinkable<T>> replaced = new ArrayList<>(elements);
        replaced.set(i, candidate);
        out.add(list(replaced, minSize));
      }
    }
    return out;
  }

  /**
   * Describes the node by its value.
   *
   * @return {@code "Shrinkable[" + value + "]"}
   */
  @Override
  public String toString() {
    return "Shrinkable[" + value + "]";
  }
}
