package org.hvmmu.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shape and order of shrink trees. */
class ShrinkableTest {
  private static Shrinkable<Long> number(long value) {
    return Shrinkable.unfold(value, x -> Shrinking.towardsUnsigned(0, x));
  }

  private static <T> List<T> values(List<Shrinkable<T>> shrinkables) {
    List<T> out = new ArrayList<>();
    for (Shrinkable<T> s : shrinkables) {
      out.add(s.value());
    }
    return out;
  }

  @Test
  void shouldUnfoldAValueShrinkerLazily() {
    Shrinkable<Long> tree = number(12);
    assertEquals(12L, tree.value());
    assertEquals(List.of(0L, 6L, 9L, 11L), values(tree.shrinks()));
    assertEquals(List.of(0L, 3L, 5L), values(tree.shrinks().get(1).shrinks()));
    assertEquals(List.of(), values(Shrinkable.unshrinkable(5L).shrinks()));
  }

  @Test
  void shouldMapAndFilterTheWholeTree() {
    Shrinkable<String> mapped = number(4).map(x -> "#" + x);
    assertEquals("#4", mapped.value());
    assertEquals(List.of("#0", "#2", "#3"), values(mapped.shrinks()));
    // 0 and 6 fail the filter and give way to their own odd candidates (0 has none, 6 has 3 and 5).
    Shrinkable<Long> odd = number(12).filter(x -> x % 2 == 1);
    assertEquals(List.of(3L, 5L, 9L, 11L), values(odd.shrinks()));
  }

  @Test
  void shouldShrinkTheFirstComponentOfAZipFirst() {
    Shrinkable<List<Long>> pair = Shrinkable.zip(number(2), number(1), List::of);
    assertEquals(
        List.of(List.of(0L, 1L), List.of(1L, 1L), List.of(2L, 0L)), values(pair.shrinks()));
  }

  @Test
  void shouldRemoveChunksThenShrinkEqualElementsTogetherThenEachElement() {
    Shrinkable<List<Long>> list = Shrinkable.list(List.of(number(5), number(2), number(5)), 0);
    List<List<Long>> candidates = values(list.shrinks());
    assertEquals(
        List.of(
            // removals: the whole list, then single elements (a chunk of 3 / 2 is 1)
            List.of(),
            List.of(2L, 5L),
            List.of(5L, 5L),
            List.of(5L, 2L),
            // the two fives together: 5 -> 0, 3, 4
            List.of(0L, 2L, 0L),
            List.of(3L, 2L, 3L),
            List.of(4L, 2L, 4L),
            // each element alone
            List.of(0L, 2L, 5L),
            List.of(3L, 2L, 5L),
            List.of(4L, 2L, 5L),
            List.of(5L, 0L, 5L),
            List.of(5L, 1L, 5L),
            List.of(5L, 2L, 0L),
            List.of(5L, 2L, 3L),
            List.of(5L, 2L, 4L)),
        candidates);
  }

  @Test
  void shouldNeverRemoveBelowTheMinimumSize() {
    Shrinkable<List<Long>> list =
        Shrinkable.list(List.of(number(0), number(0), number(0), number(0)), 3);
    assertEquals(
        List.of(List.of(0L, 0L, 0L), List.of(0L, 0L, 0L), List.of(0L, 0L, 0L), List.of(0L, 0L, 0L)),
        values(list.shrinks()));
    assertThrows(IllegalArgumentException.class, () -> Shrinkable.list(List.of(number(1)), 2));
  }

  @Test
  void shouldRemoveHalvesBeforeSingleElements() {
    Shrinkable<List<Long>> list =
        Shrinkable.list(List.of(number(0), number(1), number(2), number(3)), 1);
    List<List<Long>> candidates = values(list.shrinks());
    assertEquals(
        List.of(
            List.of(2L, 3L),
            List.of(0L, 1L),
            List.of(1L, 2L, 3L),
            List.of(0L, 2L, 3L),
            List.of(0L, 1L, 3L),
            List.of(0L, 1L, 2L)),
        candidates.subList(0, 6));
  }
}
