package org.hvmmu.testkit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Factories of {@link Gen}s: unsigned 64-bit values biased to the edges, bounded and nearby values,
 * {@link UnsignedRange}s, lists, one-of and weighted choice.
 *
 * <p>Numbers are biased: a good share of the draws (about a third) are edge values, because the
 * bugs this project hunts live there: {@code 0}, {@code 1}, {@code 2^63 - 1}, {@code 2^63}, {@code
 * ~0 - 1}, {@code ~0}, the bounds of a range and their neighbours, and {@code e + 1 == s}
 * adjacency. Every number shrinks by binary search towards its simplest value (0, the lower bound,
 * or the centre), so a property that fails from some threshold on shrinks to exactly that
 * threshold.
 *
 * <pre>{@code
 * Gen<UnsignedRange> ranges = Gens.unsignedRanges();
 * Gen<List<Long>> frames = Gens.lists(Gens.unsignedLongsBetween(0, 0xff), 0, 16);
 * Gen<Long> justAfter = Gens.longsNear(0x1fL, 1);          // 0x1e, 0x1f or 0x20
 * Gen<String> op = Gens.<String>weighted()
 *     .add(5, Gens.constant("add"))
 *     .add(1, Gens.constant("remove"))
 *     .build();
 * }</pre>
 *
 * <p>All generators are stateless and thread-safe; drawing and shrinking allocate.
 */
public final class Gens {
  /** {@code 0, 1, 2, 2^63 - 1, 2^63, 2^63 + 1, ~0 - 1, ~0}. */
  private static final long[] UNSIGNED_EDGES = {
    0L, 1L, 2L, Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1, -2L, -1L
  };

  /** Percentage of number draws taken from the edge values. */
  private static final int EDGE_PERCENT = 35;

  /**
   * Percentage of number draws taken near the simplest value (below 256 or near the lower bound).
   */
  private static final int SMALL_PERCENT = 20;

  private static final Gen<Long> UNSIGNED_LONGS = new UnsignedLongs();

  private static final Gen<Boolean> BOOLEANS = new Booleans();

  private Gens() {}

  /**
   * Unsigned 64-bit values over the whole domain, biased to the edges: about 35% are one of {@code
   * 0, 1, 2, 2^63 - 1, 2^63, 2^63 + 1, ~0 - 1, ~0}, 20% are below 256, 15% are a power of two or
   * one of its neighbours, and the rest are uniform over all 64 bits.
   *
   * @return the generator; values shrink towards 0, unsigned
   */
  public static Gen<Long> unsignedLongs() {
    return UNSIGNED_LONGS;
  }

  /**
   * Unsigned values in the inclusive range {@code [lo, hi]}, biased to {@code lo}, {@code lo + 1},
   * {@code hi - 1}, {@code hi}, the edges of {@link #unsignedLongs()} that fall inside, and small
   * offsets from {@code lo}.
   *
   * @param lo the smallest value, unsigned
   * @param hi the largest value, unsigned
   * @return the generator; values shrink towards {@code lo}
   * @throws IllegalArgumentException if {@code lo > hi} unsigned
   */
  public static Gen<Long> unsignedLongsBetween(long lo, long hi) {
    return new UnsignedBetween(lo, hi);
  }

  /**
   * Values in the inclusive range {@code [value - radius, value + radius]}, wrapping around the
   * unsigned 64-bit domain, biased to {@code value} and its neighbours {@code value - 1}, {@code
   * value + 1}, {@code value - 2}, {@code value + 2} and to the ends of the window. Use it to make
   * {@code e + 1 == s} adjacency likely: {@code longsNear(e + 1, 1)}.
   *
   * @param value the centre
   * @param radius how far from the centre values may lie; not negative
   * @return the generator; values shrink towards {@code value}
   * @throws IllegalArgumentException if {@code radius} is negative
   */
  public static Gen<Long> longsNear(long value, int radius) {
    if (radius < 0) {
      throw new IllegalArgumentException("radius " + radius + " (expected: >= 0)");
    }
    return new Near(value, radius);
  }

  /**
   * Signed ints in the inclusive range {@code [lo, hi]}, biased to the bounds, their neighbours,
   * {@code 0}, {@code 1} and {@code -1} when inside.
   *
   * @param lo the smallest value
   * @param hi the largest value
   * @return the generator; values shrink towards 0, or towards the bound nearest to 0 when 0 is
   *     outside
   * @throws IllegalArgumentException if {@code lo > hi}
   */
  public static Gen<Integer> ints(int lo, int hi) {
    if (lo > hi) {
      throw new IllegalArgumentException("ints: lo " + lo + " is above hi " + hi);
    }
    return new Ints(lo, hi);
  }

  /**
   * {@code false} and {@code true}, equally likely.
   *
   * @return the generator; {@code true} shrinks to {@code false}
   */
  public static Gen<Boolean> booleans() {
    return BOOLEANS;
  }

  /**
   * Always {@code value}.
   *
   * @param value the value, may be null
   * @param <T> the type of the value
   * @return the generator; the value does not shrink
   */
  public static <T> Gen<T> constant(T value) {
    return new Gen<T>() {
      @Override
      public T generate(SplittableRandom random) {
        return value;
      }

      @Override
      public String toString() {
        return "constant(" + value + ")";
      }
    };
  }

  /**
   * One of the given values, equally likely.
   *
   * @param values the values; at least one
   * @param <T> the type of the values
   * @return the generator; a value shrinks towards the values listed before it
   * @throws IllegalArgumentException if no value is given
   */
  @SafeVarargs
  public static <T> Gen<T> elements(T... values) {
    List<T> list = new ArrayList<>(values.length);
    for (T value : values) {
      list.add(value);
    }
    return elementsOf(list);
  }

  /**
   * One of the given values, equally likely.
   *
   * @param values the values; at least one; copied
   * @param <T> the type of the values
   * @return the generator; a value shrinks towards the values listed before it
   * @throws IllegalArgumentException if {@code values} is empty
   */
  public static <T> Gen<T> elementsOf(List<? extends T> values) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("elements: no values to choose from");
    }
    return new Elements<>(new ArrayList<>(values));
  }

  /**
   * Inclusive ranges {@code [s, e]} whose bounds are two draws of {@code bound}, ordered unsigned.
   *
   * @param bound the generator of both bounds
   * @return the generator; a range shrinks by shrinking its bounds
   */
  public static Gen<UnsignedRange> ranges(Gen<Long> bound) {
    Objects.requireNonNull(bound, "bound");
    return zip(
        bound,
        bound,
        (a, b) ->
            Long.compareUnsigned(a, b) <= 0 ? new UnsignedRange(a, b) : new UnsignedRange(b, a));
  }

  /**
   * Inclusive ranges {@code [s, e]} over the whole unsigned domain, with bounds from {@link
   * #unsignedLongs()} (so {@code [0, 0]}, {@code [0, ~0]}, {@code [~0, ~0]} and ranges around
   * {@code 2^63} come up).
   *
   * @return the generator; ranges shrink towards {@code [0x0, 0x0]}
   */
  public static Gen<UnsignedRange> unsignedRanges() {
    return ranges(UNSIGNED_LONGS);
  }

  /**
   * Inclusive ranges {@code [s, e]} inside the inclusive window {@code [lo, hi]}, for tests against
   * an oracle over a small window.
   *
   * @param lo the smallest bound, unsigned
   * @param hi the largest bound, unsigned
   * @return the generator; ranges shrink towards {@code [lo, lo]}
   * @throws IllegalArgumentException if {@code lo > hi} unsigned
   */
  public static Gen<UnsignedRange> rangesWithin(long lo, long hi) {
    return ranges(unsignedLongsBetween(lo, hi));
  }

  /**
   * Pairs of adjacent inclusive ranges {@code [a, e]} and {@code [s, b]} with {@code e + 1 == s},
   * as a two-element list, lower range first. The boundary {@code s} is biased to the edges (so
   * pairs touching {@code 0}, {@code 2^63} and {@code ~0} come up) and each length to 1 and to its
   * maximum.
   *
   * @return the generator; pairs shrink towards {@code [[0x0, 0x0], [0x1, 0x1]]}
   */
  public static Gen<List<UnsignedRange>> adjacentRanges() {
    return unsignedLongsBetween(1, -1L)
        .flatMap(
            s ->
                zip(
                    unsignedLongsBetween(0, s - 1),
                    unsignedLongsBetween(0, -1L - s),
                    (below, above) ->
                        List.of(
                            new UnsignedRange(s - 1 - below, s - 1),
                            new UnsignedRange(s, s + above))));
  }

  /**
   * Lists of {@code minSize} to {@code maxSize} elements (uniform size), each drawn from {@code
   * element}. A list shrinks by removing chunks of elements (the whole list, halves, quarters, ...,
   * single elements), then by shrinking groups of equal elements together, then by shrinking each
   * element; see {@link Shrinkable#list}.
   *
   * @param element the generator of the elements
   * @param minSize the smallest size, at least 0
   * @param maxSize the largest size, at least {@code minSize}
   * @param <T> the element type
   * @return the generator of unmodifiable lists
   * @throws IllegalArgumentException if the sizes are negative or out of order
   */
  public static <T> Gen<List<T>> lists(Gen<T> element, int minSize, int maxSize) {
    Objects.requireNonNull(element, "element");
    if (minSize < 0 || maxSize < minSize) {
      throw new IllegalArgumentException(
          "lists: sizes " + minSize + ".." + maxSize + " (expected: 0 <= minSize <= maxSize)");
    }
    return new Lists<>(element, minSize, maxSize);
  }

  /**
   * A value of one of the given generators, each chosen equally often.
   *
   * @param gens the alternatives; at least one
   * @param <T> the common type of the values
   * @return the generator; a value shrinks within the alternative that drew it
   * @throws IllegalArgumentException if no generator is given
   */
  @SafeVarargs
  public static <T> Gen<T> oneOf(Gen<? extends T>... gens) {
    List<Gen<? extends T>> list = new ArrayList<>(gens.length);
    for (Gen<? extends T> gen : gens) {
      list.add(gen);
    }
    return oneOf(list);
  }

  /**
   * A value of one of the given generators, each chosen equally often.
   *
   * @param gens the alternatives; at least one; copied
   * @param <T> the common type of the values
   * @return the generator; a value shrinks within the alternative that drew it
   * @throws IllegalArgumentException if {@code gens} is empty
   */
  public static <T> Gen<T> oneOf(List<? extends Gen<? extends T>> gens) {
    if (gens.isEmpty()) {
      throw new IllegalArgumentException("oneOf: no generators to choose from");
    }
    List<Gen<? extends T>> alternatives = new ArrayList<>(gens.size());
    for (Gen<? extends T> gen : gens) {
      alternatives.add(Objects.requireNonNull(gen, "oneOf: null generator"));
    }
    return new SampledGen<>(
        random ->
            Shrinkable.narrow(
                alternatives.get(random.nextInt(alternatives.size())).sample(random)));
  }

  /**
   * Starts a weighted choice between generators.
   *
   * <pre>{@code
   * Gen<Action<Host, Model>> actions = Gens.<Action<Host, Model>>weighted()
   *     .add(5, adds)
   *     .add(2, removes)
   *     .add(1, clears)
   *     .build();
   * }</pre>
   *
   * @param <T> the common type of the values
   * @return an empty builder
   */
  public static <T> Weighted<T> weighted() {
    return new Weighted<>(new int[0], List.of());
  }

  /**
   * Pairs of draws combined by {@code combiner}; a combined value shrinks by shrinking the first
   * draw, then the second.
   *
   * @param first the generator of the first component, drawn first
   * @param second the generator of the second component
   * @param combiner builds the value from both components
   * @param <A> the type of the first component
   * @param <B> the type of the second component
   * @param <R> the combined type
   * @return the generator
   */
  public static <A, B, R> Gen<R> zip(
      Gen<A> first, Gen<B> second, BiFunction<? super A, ? super B, ? extends R> combiner) {
    Objects.requireNonNull(first, "first");
    Objects.requireNonNull(second, "second");
    Objects.requireNonNull(combiner, "combiner");
    return new SampledGen<>(
        random -> {
          Shrinkable<A> a = first.sample(random);
          Shrinkable<B> b = second.sample(random);
          return Shrinkable.zip(a, b, combiner);
        });
  }

  /**
   * A generator from a draw function and a value-level shrinker.
   *
   * <pre>{@code
   * Gen<Integer> evens = Gens.of(r -> 2 * r.nextInt(1000), x -> x == 0 ? List.of() : List.of(0, x - 2));
   * }</pre>
   *
   * @param generator draws a value from the random source it is given, and from nothing else
   * @param shrinker the simpler candidates of a value, simplest first; empty when it cannot shrink
   * @param <T> the type of the values
   * @return the generator
   */
  public static <T> Gen<T> of(
      Function<? super SplittableRandom, ? extends T> generator,
      Function<? super T, ? extends List<? extends T>> shrinker) {
    Objects.requireNonNull(generator, "generator");
    Objects.requireNonNull(shrinker, "shrinker");
    return new Gen<T>() {
      @Override
      public T generate(SplittableRandom random) {
        return generator.apply(random);
      }

      @Override
      public List<T> shrink(T value) {
        return new ArrayList<>(Objects.requireNonNull(shrinker.apply(value), "shrinker"));
      }
    };
  }

  /**
   * A generator defined by its whole shrink tree, for generators that build {@link Shrinkable}s
   * themselves.
   *
   * @param sampler draws a value and its tree from the random source it is given, and from nothing
   *     else
   * @param <T> the type of the values
   * @return the generator; its {@link Gen#shrink} returns an empty list
   */
  public static <T> Gen<T> fromSampler(
      Function<? super SplittableRandom, ? extends Shrinkable<T>> sampler) {
    return new SampledGen<>(sampler);
  }

  /** A value in {@code [0, span]} unsigned, uniformly. */
  static long uniformUnsigned(SplittableRandom random, long span) {
    if (span == -1L) {
      return random.nextLong();
    }
    if (span >= 0 && span != Long.MAX_VALUE) {
      return random.nextLong(span + 1);
    }
    // More than 2^63 values: rejection sampling accepts at least half of the draws.
    while (true) {
      long x = random.nextLong();
      if (Long.compareUnsigned(x, span) <= 0) {
        return x;
      }
    }
  }

  /** The candidates that lie in {@code [lo, hi]} unsigned, without duplicates, in order. */
  private static long[] edgesWithin(long lo, long hi, long... candidates) {
    long[] out = new long[candidates.length];
    int count = 0;
    outer:
    for (long candidate : candidates) {
      if (Long.compareUnsigned(candidate, lo) < 0 || Long.compareUnsigned(candidate, hi) > 0) {
        continue;
      }
      for (int i = 0; i < count; i++) {
        if (out[i] == candidate) {
          continue outer;
        }
      }
      out[count++] = candidate;
    }
    return Arrays.copyOf(out, count);
  }

  /**
   * A weighted choice between generators, built with {@link Gens#weighted()}: a generator of weight
   * {@code w} is chosen with probability {@code w / (sum of weights)}. Immutable: {@link #add}
   * returns a new builder.
   *
   * @param <T> the common type of the values
   */
  public static final class Weighted<T> {
    private final int[] weights;
    private final List<Gen<? extends T>> gens;

    private Weighted(int[] weights, List<Gen<? extends T>> gens) {
      this.weights = weights;
      this.gens = gens;
    }

    /**
     * This choice plus {@code gen} with weight {@code weight}.
     *
     * @param weight the relative weight, at least 1
     * @param gen the generator
     * @return a new builder with the alternative appended
     * @throws IllegalArgumentException if {@code weight < 1} or the total weight overflows an int
     */
    public Weighted<T> add(int weight, Gen<? extends T> gen) {
      Objects.requireNonNull(gen, "gen");
      if (weight < 1) {
        throw new IllegalArgumentException("weight " + weight + " (expected: >= 1)");
      }
      long total = weight;
      for (int w : weights) {
        total += w;
      }
      if (total > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("total weight " + total + " overflows an int");
      }
      int[] newWeights = Arrays.copyOf(weights, weights.length + 1);
      newWeights[weights.length] = weight;
      List<Gen<? extends T>> newGens = new ArrayList<>(gens);
      newGens.add(gen);
      return new Weighted<>(newWeights, List.copyOf(newGens));
    }

    /**
     * The generator of the weighted choice.
     *
     * @return the generator; a value shrinks within the alternative that drew it
     * @throws IllegalStateException if no alternative was added
     */
    public Gen<T> build() {
      if (gens.isEmpty()) {
        throw new IllegalStateException("weighted: no generators added");
      }
      int[] cumulative = new int[weights.length];
      int total = 0;
      for (int i = 0; i < weights.length; i++) {
        total += weights[i];
        cumulative[i] = total;
      }
      int sum = total;
      List<Gen<? extends T>> alternatives = gens;
      return new SampledGen<>(
          random -> {
            int pick = random.nextInt(sum);
            int i = 0;
            while (cumulative[i] <= pick) {
              i++;
            }
            return Shrinkable.narrow(alternatives.get(i).sample(random));
          });
    }
  }

  private static final class UnsignedLongs implements Gen<Long> {
    @Override
    public Long generate(SplittableRandom random) {
      int bucket = random.nextInt(100);
      if (bucket < EDGE_PERCENT) {
        return UNSIGNED_EDGES[random.nextInt(UNSIGNED_EDGES.length)];
      }
      if (bucket < EDGE_PERCENT + SMALL_PERCENT) {
        return (long) random.nextInt(256);
      }
      if (bucket < EDGE_PERCENT + SMALL_PERCENT + 15) {
        return (1L << random.nextInt(64)) + random.nextInt(3) - 1;
      }
      return random.nextLong();
    }

    @Override
    public List<Long> shrink(Long value) {
      return value == null ? List.of() : Shrinking.towardsUnsigned(0, value);
    }

    @Override
    public String toString() {
      return "unsignedLongs()";
    }
  }

  private static final class UnsignedBetween implements Gen<Long> {
    private final long lo;
    private final long hi;
    private final long[] edges;

    UnsignedBetween(long lo, long hi) {
      if (Long.compareUnsigned(lo, hi) > 0) {
        throw new IllegalArgumentException(
            "unsignedLongsBetween: lo 0x"
                + Long.toHexString(lo)
                + " is above hi 0x"
                + Long.toHexString(hi));
      }
      this.lo = lo;
      this.hi = hi;
      long[] candidates =
          Arrays.copyOf(new long[] {lo, lo + 1, hi - 1, hi}, 4 + UNSIGNED_EDGES.length);
      System.arraycopy(UNSIGNED_EDGES, 0, candidates, 4, UNSIGNED_EDGES.length);
      this.edges = edgesWithin(lo, hi, candidates);
    }

    @Override
    public Long generate(SplittableRandom random) {
      int bucket = random.nextInt(100);
      if (bucket < EDGE_PERCENT) {
        return edges[random.nextInt(edges.length)];
      }
      long span = hi - lo;
      if (bucket < EDGE_PERCENT + SMALL_PERCENT) {
        return lo + uniformUnsigned(random, Long.compareUnsigned(span, 255) < 0 ? span : 255);
      }
      return lo + uniformUnsigned(random, span);
    }

    @Override
    public List<Long> shrink(Long value) {
      if (value == null
          || Long.compareUnsigned(value, lo) < 0
          || Long.compareUnsigned(value, hi) > 0) {
        return List.of();
      }
      return Shrinking.towardsUnsigned(lo, value);
    }

    @Override
    public String toString() {
      return "unsignedLongsBetween(0x" + Long.toHexString(lo) + ", 0x" + Long.toHexString(hi) + ")";
    }
  }

  private static final class Near implements Gen<Long> {
    private final long centre;
    private final int radius;
    private final long[] offsets;

    Near(long centre, int radius) {
      this.centre = centre;
      this.radius = radius;
      List<Long> edges = new ArrayList<>();
      for (long offset : new long[] {0, 1, -1, 2, -2, radius, -radius}) {
        if (Math.abs(offset) <= radius && !edges.contains(offset)) {
          edges.add(offset);
        }
      }
      this.offsets = edges.stream().mapToLong(Long::longValue).toArray();
    }

    @Override
    public Long generate(SplittableRandom random) {
      if (random.nextInt(100) < 40) {
        return centre + offsets[random.nextInt(offsets.length)];
      }
      return centre + random.nextLong(2L * radius + 1) - radius;
    }

    @Override
    public List<Long> shrink(Long value) {
      if (value == null) {
        return List.of();
      }
      long offset = value - centre;
      if (offset < -radius || offset > radius) {
        return List.of();
      }
      List<Long> out = new ArrayList<>();
      for (long candidate : Shrinking.towardsSigned(0, offset)) {
        out.add(centre + candidate);
      }
      return out;
    }

    @Override
    public String toString() {
      return "longsNear(0x" + Long.toHexString(centre) + ", " + radius + ")";
    }
  }

  private static final class Ints implements Gen<Integer> {
    private final int lo;
    private final int hi;
    private final int target;
    private final int[] edges;

    Ints(int lo, int hi) {
      this.lo = lo;
      this.hi = hi;
      this.target = lo > 0 ? lo : hi < 0 ? hi : 0;
      List<Integer> list = new ArrayList<>();
      for (long edge : new long[] {lo, lo + 1L, hi - 1L, hi, 0, 1, -1}) {
        if (edge >= lo && edge <= hi && !list.contains((int) edge)) {
          list.add((int) edge);
        }
      }
      this.edges = list.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public Integer generate(SplittableRandom random) {
      if (random.nextInt(100) < EDGE_PERCENT) {
        return edges[random.nextInt(edges.length)];
      }
      return (int) (lo + random.nextLong((long) hi - lo + 1));
    }

    @Override
    public List<Integer> shrink(Integer value) {
      if (value == null || value < lo || value > hi) {
        return List.of();
      }
      List<Integer> out = new ArrayList<>();
      for (long candidate : Shrinking.towardsSigned(target, value)) {
        out.add((int) candidate);
      }
      return out;
    }

    @Override
    public String toString() {
      return "ints(" + lo + ", " + hi + ")";
    }
  }

  private static final class Booleans implements Gen<Boolean> {
    @Override
    public Boolean generate(SplittableRandom random) {
      return random.nextBoolean();
    }

    @Override
    public List<Boolean> shrink(Boolean value) {
      return Boolean.TRUE.equals(value) ? List.of(false) : List.of();
    }

    @Override
    public String toString() {
      return "booleans()";
    }
  }

  private static final class Elements<T> implements Gen<T> {
    private final List<T> values;

    Elements(List<T> values) {
      this.values = values;
    }

    @Override
    public T generate(SplittableRandom random) {
      return values.get(random.nextInt(values.size()));
    }

    @Override
    public List<T> shrink(T value) {
      int index = values.indexOf(value);
      List<T> out = new ArrayList<>();
      if (index > 0) {
        for (long candidate : Shrinking.towardsUnsigned(0, index)) {
          out.add(values.get((int) candidate));
        }
      }
      return out;
    }
  }

  private static final class Lists<T> implements Gen<List<T>> {
    private final Gen<T> element;
    private final int minSize;
    private final int maxSize;

    Lists(Gen<T> element, int minSize, int maxSize) {
      this.element = element;
      this.minSize = minSize;
      this.maxSize = maxSize;
    }

    @Override
    public List<T> generate(SplittableRandom random) {
      return sample(random).value();
    }

    @Override
    public Shrinkable<List<T>> sample(SplittableRandom random) {
      int size = minSize + (int) random.nextLong((long) maxSize - minSize + 1);
      List<Shrinkable<T>> elements = new ArrayList<>(size);
      for (int i = 0; i < size; i++) {
        elements.add(element.sample(random));
      }
      return Shrinkable.list(elements, minSize);
    }

    @Override
    public List<List<T>> shrink(List<T> value) {
      if (value == null || value.size() < minSize || value.size() > maxSize) {
        return List.of();
      }
      List<Shrinkable<T>> elements = new ArrayList<>(value.size());
      for (T e : value) {
        elements.add(Shrinkable.unfold(e, element::shrink));
      }
      List<List<T>> out = new ArrayList<>();
      for (Shrinkable<List<T>> candidate : Shrinkable.list(elements, minSize).shrinks()) {
        out.add(candidate.value());
      }
      return out;
    }
  }
}
