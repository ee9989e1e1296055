package org.hvmmu.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Distribution, bounds and shrink candidates of the generators in {@link Gens}. */
class GensTest {
  private static final long[] EDGES = {
    0L, 1L, 2L, Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1, -2L, -1L
  };

  private static <T> List<T> draw(Gen<T> gen, int count, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<T> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(gen.generate(random));
    }
    return out;
  }

  private static boolean inUnsigned(long value, long lo, long hi) {
    return Long.compareUnsigned(lo, value) <= 0 && Long.compareUnsigned(value, hi) <= 0;
  }

  @Test
  void shouldProduceEveryUnsignedEdgeWithinAFewThousandSamples() {
    for (long seed = 1; seed <= 5; seed++) {
      Set<Long> seen = new HashSet<>(draw(Gens.unsignedLongs(), 2000, seed));
      for (long edge : EDGES) {
        assertTrue(seen.contains(edge), "seed " + seed + " missed 0x" + Long.toHexString(edge));
      }
    }
  }

  @Test
  void shouldAlsoProduceValuesAwayFromTheEdges() {
    List<Long> values = draw(Gens.unsignedLongs(), 2000, 3);
    long large = values.stream().filter(v -> Long.compareUnsigned(v, 1L << 40) > 0).count();
    long distinct = values.stream().distinct().count();
    assertTrue(large > 300, "large values: " + large);
    assertTrue(distinct > 800, "distinct values: " + distinct);
  }

  @Test
  void shouldShrinkUnsignedLongsTowardsZeroByHalving() {
    assertEquals(List.of(0L, 6L, 9L, 11L), Gens.unsignedLongs().shrink(12L));
    List<Long> candidates = Gens.unsignedLongs().shrink(-1L);
    assertEquals(0L, candidates.get(0));
    assertEquals(Long.MIN_VALUE, candidates.get(1));
    assertEquals(-2L, candidates.get(candidates.size() - 1));
    assertEquals(64, candidates.size());
    assertEquals(List.of(), Gens.unsignedLongs().shrink(0L));
  }

  @Test
  void shouldKeepUnsignedLongsBetweenItsBoundsAndHitBoth() {
    long[][] windows = {
      {0x10, 0x1f}, {-16L, -1L}, {0, -1L}, {5, 5}, {Long.MAX_VALUE - 3, Long.MIN_VALUE + 3}, {0, 1}
    };
    for (long[] w : windows) {
      List<Long> values = draw(Gens.unsignedLongsBetween(w[0], w[1]), 1000, 11);
      for (long v : values) {
        assertTrue(inUnsigned(v, w[0], w[1]), "0x" + Long.toHexString(v) + " outside window");
      }
      assertTrue(values.contains(w[0]), "lo never drawn");
      assertTrue(values.contains(w[1]), "hi never drawn");
    }
    List<Long> crossing =
        draw(Gens.unsignedLongsBetween(Long.MAX_VALUE - 3, Long.MIN_VALUE + 3), 1000, 2);
    assertTrue(crossing.contains(Long.MAX_VALUE) && crossing.contains(Long.MIN_VALUE));
  }

  @Test
  void shouldShrinkUnsignedLongsBetweenTowardsLo() {
    Gen<Long> gen = Gens.unsignedLongsBetween(-16L, -1L);
    assertEquals(List.of(-16L, -8L, -4L, -2L), gen.shrink(-1L));
    assertEquals(List.of(), gen.shrink(-16L));
    assertEquals(List.of(), gen.shrink(3L), "outside the window");
  }

  @Test
  void shouldRejectAnUnsignedWindowWhoseLoIsAboveHi() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Gens.unsignedLongsBetween(-1L, 0));
    assertTrue(e.getMessage().contains("0xffffffffffffffff"), e.getMessage());
  }

  @Test
  void shouldProduceNeighboursWithLongsNearIncludingAcrossTheWrap() {
    List<Long> values = draw(Gens.longsNear(-1L, 2), 500, 5);
    assertEquals(Set.of(-3L, -2L, -1L, 0L, 1L), new HashSet<>(values));
    assertEquals(List.of(-1L, 0L), Gens.longsNear(-1L, 2).shrink(1L));
    assertEquals(List.of(-1L, -2L), Gens.longsNear(-1L, 2).shrink(-3L));
    assertEquals(List.of(), Gens.longsNear(-1L, 2).shrink(7L));
  }

  @Test
  void shouldMakeEndPlusOneEqualsStartComeUpWithLongsNear() {
    Gen<long[]> pairs =
        Gens.unsignedRanges()
            .flatMap(r -> Gens.longsNear(r.end(), 2).map(s -> new long[] {r.end(), s}));
    int adjacent = 0;
    for (long[] p : draw(pairs, 1000, 8)) {
      if (p[0] != -1L && p[0] + 1 == p[1]) {
        adjacent++;
      }
    }
    assertTrue(adjacent > 50, "adjacent pairs: " + adjacent);
  }

  @Test
  void shouldProduceRangesWithStartNotAboveEndUnsigned() {
    List<UnsignedRange> ranges = draw(Gens.unsignedRanges(), 5000, 13);
    for (UnsignedRange r : ranges) {
      assertTrue(Long.compareUnsigned(r.start(), r.end()) <= 0, r.toString());
    }
    assertTrue(ranges.contains(new UnsignedRange(0, 0)));
    assertTrue(ranges.contains(new UnsignedRange(-1L, -1L)));
    assertTrue(
        ranges.stream().anyMatch(r -> r.contains(Long.MAX_VALUE) && r.contains(Long.MIN_VALUE)));
  }

  @Test
  void shouldKeepRangesWithinTheirWindow() {
    for (UnsignedRange r : draw(Gens.rangesWithin(0x100, 0x13f), 2000, 17)) {
      assertTrue(inUnsigned(r.start(), 0x100, 0x13f) && inUnsigned(r.end(), 0x100, 0x13f));
      assertTrue(Long.compareUnsigned(r.start(), r.end()) <= 0);
    }
  }

  @Test
  void shouldProduceAdjacentRangePairsIncludingAtTheEdges() {
    List<List<UnsignedRange>> pairs = draw(Gens.adjacentRanges(), 3000, 19);
    boolean touchesZero = false;
    boolean touchesMax = false;
    boolean straddlesSignBit = false;
    for (List<UnsignedRange> pair : pairs) {
      assertEquals(2, pair.size());
      UnsignedRange below = pair.get(0);
      UnsignedRange above = pair.get(1);
      assertEquals(below.end() + 1, above.start(), pair.toString());
      touchesZero |= below.start() == 0;
      touchesMax |= above.end() == -1L;
      straddlesSignBit |= below.end() == Long.MAX_VALUE;
    }
    assertTrue(touchesZero && touchesMax && straddlesSignBit);
  }

  @Test
  void shouldShrinkAdjacentRangesToTheSmallestPair() {
    PropertyFailure failure =
        assertThrows(
            PropertyFailure.class,
            () ->
                Property.tries(500)
                    .seed(23)
                    .forAll(
                        Gens.adjacentRanges(),
                        pair -> assertTrue(Long.compareUnsigned(pair.get(1).start(), 0x40) < 0)));
    assertEquals(
        List.of(new UnsignedRange(0x3f, 0x3f), new UnsignedRange(0x40, 0x40)),
        failure.shrunkCounterexample());
  }

  @Test
  void shouldKeepIntsInBoundsAndShrinkTowardsZero() {
    List<Integer> values = draw(Gens.ints(-10, 10), 2000, 29);
    assertTrue(values.stream().allMatch(v -> v >= -10 && v <= 10));
    assertTrue(values.containsAll(List.of(-10, -9, -1, 0, 1, 9, 10)));
    assertEquals(List.of(0, -4, -6), Gens.ints(-10, 10).shrink(-7));
    assertEquals(List.of(5, 7), Gens.ints(5, 10).shrink(8));
    assertEquals(List.of(-5), Gens.ints(-10, -5).shrink(-6));
    List<Integer> extremes = draw(Gens.ints(Integer.MIN_VALUE, Integer.MAX_VALUE), 2000, 31);
    assertTrue(extremes.contains(Integer.MIN_VALUE) && extremes.contains(Integer.MAX_VALUE));
  }

  @Test
  void shouldProduceBothBooleansAndShrinkTrueToFalse() {
    assertEquals(Set.of(true, false), new HashSet<>(draw(Gens.booleans(), 100, 37)));
    assertEquals(List.of(false), Gens.booleans().shrink(true));
    assertEquals(List.of(), Gens.booleans().shrink(false));
  }

  @Test
  void shouldDrawElementsAndShrinkTowardsEarlierOnes() {
    Gen<String> gen = Gens.elements("a", "b", "c", "d", "e");
    assertEquals(Set.of("a", "b", "c", "d", "e"), new HashSet<>(draw(gen, 200, 41)));
    assertEquals(List.of("a", "c", "d"), gen.shrink("e"));
    assertEquals(List.of(), gen.shrink("a"));
    assertEquals("x", Gens.constant("x").generate(new SplittableRandom(1)));
  }

  @Test
  void shouldKeepListSizesInBoundsAndShrinkWithinThem() {
    Gen<List<Long>> gen = Gens.lists(Gens.unsignedLongs(), 2, 5);
    for (List<Long> list : draw(gen, 500, 43)) {
      assertTrue(list.size() >= 2 && list.size() <= 5, list.toString());
      for (List<Long> candidate : gen.shrink(list)) {
        assertTrue(candidate.size() >= 2, candidate.toString());
      }
    }
    // No removal (the minimum size is 2), no equal elements: each element shrunk, first one first.
    assertEquals(
        List.of(List.of(0L, 3L), List.of(1L, 3L), List.of(2L, 0L), List.of(2L, 2L)),
        gen.shrink(List.of(2L, 3L)));
  }

  @Test
  void shouldChooseEveryAlternativeOfOneOf() {
    Gen<Object> gen = Gens.oneOf(Gens.constant("s"), Gens.constant(1), Gens.booleans());
    Set<Object> seen = new HashSet<>(draw(gen, 300, 47));
    assertTrue(seen.containsAll(List.of("s", 1, true, false)), seen.toString());
  }

  @Test
  void shouldHonourWeights() {
    Gen<String> gen =
        Gens.<String>weighted()
            .add(5, Gens.constant("heavy"))
            .add(1, Gens.constant("light"))
            .build();
    List<String> values = draw(gen, 6000, 53);
    long heavy = values.stream().filter("heavy"::equals).count();
    long light = values.size() - heavy;
    assertTrue(heavy > 3 * light && heavy < 8 * light, heavy + " heavy, " + light + " light");
    assertThrows(IllegalArgumentException.class, () -> Gens.<String>weighted().add(0, gen));
    assertThrows(IllegalStateException.class, () -> Gens.<String>weighted().build());
  }

  @Test
  void shouldShrinkThroughMap() {
    Gen<Long> addresses = Gens.unsignedLongsBetween(0, 0xfffff).map(pfn -> pfn << 12);
    PropertyFailure failure =
        assertThrows(
            PropertyFailure.class,
            () -> Property.tries(200).seed(59).forAll(addresses, a -> assertTrue(a < 0x5000)));
    assertEquals(0x5000L, failure.shrunkCounterexample());
  }

  @Test
  void shouldShrinkThroughFlatMapByRedrawingTheInnerValue() {
    Gen<List<Integer>> gen = Gens.ints(0, 100).flatMap(n -> Gens.lists(Gens.constant(n), n, n));
    PropertyFailure failure =
        assertThrows(
            PropertyFailure.class,
            () -> Property.tries(200).seed(61).forAll(gen, xs -> assertTrue(xs.size() < 10)));
    assertEquals(List.of(10, 10, 10, 10, 10, 10, 10, 10, 10, 10), failure.shrunkCounterexample());
  }

  @Test
  void shouldOnlyProposeShrinksThatPassTheFilter() {
    Gen<Long> odd = Gens.unsignedLongsBetween(0, 1_000_000).filter(x -> x % 2 == 1);
    SplittableRandom random = new SplittableRandom(67);
    for (int i = 0; i < 100; i++) {
      Shrinkable<Long> s = odd.sample(random);
      assertEquals(1, s.value() % 2);
      for (Shrinkable<Long> candidate : s.shrinks()) {
        assertEquals(1, candidate.value() % 2, "candidate " + candidate.value());
      }
    }
    assertTrue(odd.shrink(9L).stream().allMatch(x -> x % 2 == 1));
  }

  @Test
  void shouldShrinkAFilteredValueToTheFirstFailingValueThatPassesTheFilter() {
    Gen<Long> even = Gens.unsignedLongsBetween(0, 1_000_000).filter(x -> x % 2 == 0);
    for (long i = 1; i <= 5; i++) {
      long seed = i;
      PropertyFailure failure =
          assertThrows(
              PropertyFailure.class,
              () -> Property.tries(100).seed(seed).forAll(even, x -> assertTrue(x <= 1000)));
      assertEquals(1002L, failure.shrunkCounterexample(), "seed " + seed);
    }
  }

  @Test
  void shouldThrowAClearExceptionWhenTheFilterRejectsEverything() {
    Gen<Long> nothing = Gens.unsignedLongs().filter(x -> false);
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> nothing.generate(new SplittableRandom(1)));
    assertTrue(e.getMessage().contains("filter rejected too many values"), e.getMessage());
    IllegalStateException fromProperty =
        assertThrows(
            IllegalStateException.class, () -> Property.tries(10).forAll(nothing, x -> {}));
    assertTrue(fromProperty.getMessage().contains("filter rejected too many values"));
  }

  @Test
  void shouldBuildGeneratorsFromAShrinker() {
    Gen<Integer> evens =
        Gens.of(r -> 2 * r.nextInt(1000), x -> x == 0 ? List.of() : List.of(0, x - 2));
    assertTrue(draw(evens, 100, 71).stream().allMatch(x -> x % 2 == 0));
    PropertyFailure failure =
        assertThrows(
            PropertyFailure.class,
            () -> Property.tries(100).seed(73).forAll(evens, x -> assertTrue(x < 100)));
    assertEquals(100, failure.shrunkCounterexample());
  }
}
