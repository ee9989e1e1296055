package org.hvmmu.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The try loop, planted bugs and their minimal counterexamples, seeds and replay. */
class PropertyTest {
  /** Unsigned maximum with a planted bug: an element equal to the running maximum lowers it. */
  private static long buggyMax(List<Long> xs) {
    long max = xs.get(0);
    for (int i = 1; i < xs.size(); i++) {
      long x = xs.get(i);
      if (Long.compareUnsigned(x, max) > 0) {
        max = x;
      } else if (x == max) {
        max--; // the planted bug
      }
    }
    return max;
  }

  private static long max(List<Long> xs) {
    long max = xs.get(0);
    for (long x : xs) {
      if (Long.compareUnsigned(x, max) > 0) {
        max = x;
      }
    }
    return max;
  }

  @Test
  void shouldShrinkAThresholdBugToExactlyTheThreshold() {
    for (long i = 1; i <= 10; i++) {
      long seed = i;
      PropertyFailure failure =
          assertThrows(
              PropertyFailure.class,
              () ->
                  Property.tries(200)
                      .seed(seed)
                      .forAll(
                          Gens.unsignedLongs(),
                          x -> assertTrue(Long.compareUnsigned(x, 1000) < 0, "x too big")));
      assertEquals(1000L, failure.shrunkCounterexample(), "seed " + seed);
    }
  }

  @Test
  void shouldShrinkTheBuggyMaxToTwoZeros() {
    Gen<List<Long>> lists = Gens.lists(Gens.unsignedLongs(), 1, 20);
    for (long i = 1; i <= 10; i++) {
      long seed = i;
      PropertyFailure failure =
          assertThrows(
              PropertyFailure.class,
              () ->
                  Property.tries(1000)
                      .seed(seed)
                      .forAll(lists, xs -> assertEquals(max(xs), buggyMax(xs), "max of " + xs)));
      assertEquals(List.of(0L, 0L), failure.shrunkCounterexample(), "seed " + seed);
    }
  }

  @Test
  void shouldShrinkAListToItsOneOffendingElement() {
    PropertyFailure failure =
        assertThrows(
            PropertyFailure.class,
            () ->
                Property.tries(500)
                    .seed(79)
                    .forAll(
                        Gens.lists(Gens.unsignedLongsBetween(0, 100_000), 0, 30),
                        xs -> assertTrue(xs.stream().allMatch(x -> x < 500))));
    assertEquals(List.of(500L), failure.shrunkCounterexample());
  }

  @Test
  void shouldReportSeedReplayTryCounterexamplesStepsAndCause() {
    PropertyFailure failure =
        assertThrows(
            PropertyFailure.class,
            () ->
                Property.tries(300)
                    .seed(0xabcdefL)
                    .forAll(
                        Gens.unsignedLongsBetween(0, 1_000_000),
                        x -> assertTrue(x < 1000, "x = " + x + " is too big")));
    String message = failure.getMessage();
    assertEquals(0xabcdefL, failure.seed());
    assertEquals(300, failure.tries());
    assertTrue(failure.tryNumber() >= 1 && failure.tryNumber() <= 300);
    assertTrue(failure.shrinkSteps() > 0 && failure.shrinkAttempts() >= failure.shrinkSteps());
    assertTrue(message.contains("seed 0xabcdef"), message);
    assertTrue(message.contains("-Dhvmmu.seed=0xabcdef"), message);
    assertTrue(message.contains("on try " + failure.tryNumber() + " of 300"), message);
    assertTrue(
        message.contains("original counterexample: " + failure.originalCounterexample()), message);
    assertTrue(message.contains("(" + failure.shrinkSteps() + " shrink steps"), message);
    assertTrue(message.contains("): 1000\n"), message);
    assertTrue(message.contains("x = 1000 is too big"), message);
    assertTrue(failure.getCause() instanceof AssertionError);
    assertTrue(failure.getCause().getMessage().startsWith("x = 1000 is too big"));
  }

  @Test
  void shouldMakeTheSameRunFromTheSameSeed() {
    Gen<Object> gen =
        Gens.oneOf(
            Gens.lists(Gens.unsignedLongs(), 0, 8),
            Gens.adjacentRanges(),
            Gens.unsignedRanges(),
            Gens.ints(-5, 5));
    List<Object> first = new ArrayList<>();
    List<Object> second = new ArrayList<>();
    List<Object> other = new ArrayList<>();
    Property.tries(300).seed(83).forAll(gen, first::add);
    Property.tries(300).seed(83).forAll(gen, second::add);
    Property.tries(300).seed(84).forAll(gen, other::add);
    assertEquals(300, first.size());
    assertEquals(first, second);
    assertNotEquals(first, other);
  }

  @Test
  void shouldReplayTheOriginalCounterexampleFromTheReportedSeed() {
    Gen<List<Long>> lists = Gens.lists(Gens.unsignedLongs(), 1, 20);
    // No fixed seed: a fresh one (or -Dhvmmu.seed) is reported and must replay the same run.
    PropertyFailure failure =
        assertThrows(
            PropertyFailure.class,
            () -> Property.tries(5000).forAll(lists, xs -> assertEquals(max(xs), buggyMax(xs))));
    PropertyFailure replayed =
        assertThrows(
            PropertyFailure.class,
            () ->
                Property.tries(5000)
                    .seed(failure.seed())
                    .forAll(lists, xs -> assertEquals(max(xs), buggyMax(xs))));
    assertEquals(failure.originalCounterexample(), replayed.originalCounterexample());
    assertEquals(failure.tryNumber(), replayed.tryNumber());
    assertEquals(failure.shrunkCounterexample(), replayed.shrunkCounterexample());
    assertEquals(failure.getMessage(), replayed.getMessage());
  }

  @Test
  void shouldRunTheConfiguredNumberOfTriesWhenThePropertyHolds() {
    int[] calls = {0};
    Property.tries(123).seed(1).forAll(Gens.unsignedLongs(), x -> calls[0]++);
    assertEquals(123, calls[0]);
  }

  @Test
  void shouldStopShrinkingAtTheAttemptLimit() {
    Gen<Long> endless = Gens.of(r -> 0L, x -> List.of(x + 1));
    PropertyFailure failure =
        assertThrows(
            PropertyFailure.class,
            () ->
                Property.tries(10)
                    .seed(1)
                    .maxShrinkAttempts(50)
                    .forAll(endless, x -> assertTrue(false)));
    assertEquals(50, failure.shrinkAttempts());
    assertEquals(50L, failure.shrunkCounterexample());
    assertTrue(failure.getMessage().contains("stopped at the limit"));
    PropertyFailure defaultLimit =
        assertThrows(
            PropertyFailure.class,
            () -> Property.tries(1).seed(1).forAll(endless, x -> assertTrue(false)));
    assertEquals(PropertyConfig.DEFAULT_MAX_SHRINK_ATTEMPTS, defaultLimit.shrinkAttempts());
  }

  @Test
  void shouldTreatAnyThrowableAsAFailureAndKeepTheShrunkOneAsCause() {
    IllegalStateException planted = new IllegalStateException("planted");
    PropertyFailure failure =
        assertThrows(
            PropertyFailure.class,
            () ->
                Property.tries(10)
                    .seed(2)
                    .forAll(
                        Gens.ints(0, 10),
                        x -> {
                          throw planted;
                        }));
    assertSame(planted, failure.getCause());
    assertEquals(0, failure.shrunkCounterexample());
  }

  @Test
  void shouldReadTriesAndSeedFromTheirSettings() {
    assertEquals(PropertyConfig.DEFAULT_TRIES, PropertyConfig.fromSettings(null, null).tries());
    assertEquals(PropertyConfig.DEFAULT_TRIES, PropertyConfig.fromSettings(" ", "").tries());
    PropertyConfig config = PropertyConfig.fromSettings("200", "0x10");
    assertEquals(200, config.tries());
    assertEquals(16, config.seed());
    assertEquals(-1L, PropertyConfig.fromSettings("1", "0xffffffffffffffff").seed());
    assertEquals(-1L, PropertyConfig.fromSettings("1", "18446744073709551615").seed());
    assertEquals(-42L, PropertyConfig.fromSettings("1", " -42 ").seed());
    assertEquals(42L, PropertyConfig.fromSettings("1", "42").seed());
    assertThrows(IllegalArgumentException.class, () -> PropertyConfig.fromSettings("many", null));
    assertThrows(IllegalArgumentException.class, () -> PropertyConfig.fromSettings("0", null));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PropertyConfig.fromSettings("1", "0xg"));
    assertTrue(e.getMessage().contains("hvmmu.seed"), e.getMessage());
  }

  @Test
  void shouldPrintSeedsThatParseBack() {
    for (long seed : new long[] {0, 1, -1L, Long.MIN_VALUE, 0x5eedL}) {
      assertEquals(seed, PropertyConfig.parseSeed(PropertyConfig.seedText(seed)));
    }
    assertEquals(
        "PropertyConfig[tries=7, seed=0x5eed, maxShrinkAttempts=10000]",
        Property.tries(7).seed(0x5eedL).toString());
  }
}
