package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Replacement policies and the shapes of set-associative structures. */
class TranslationCacheTest {
  private static TranslationCache oneSet(int ways, Replacement policy) {
    return new TranslationCache("t", new CacheGeometry(ways, ways, policy), false, 42);
  }

  /** Fills ways 0..n-1 with keys 0..n-1 and returns the victim after touching {@code order}. */
  private static int victimAfter(TranslationCache c, int... order) {
    for (int k = 0; k < c.ways; k++) {
      c.fill(c.victim(0), k, 0, 0, 0, 0);
    }
    for (int k : order) {
      c.touch(c.find(0, k, k));
    }
    return (int) c.tag[c.victim(0)];
  }

  @Test
  void lruShouldEvictTheLeastRecentlyUsed() {
    assertEquals(0, victimAfter(oneSet(4, Replacement.LRU)));
    assertEquals(1, victimAfter(oneSet(4, Replacement.LRU), 0));
    assertEquals(3, victimAfter(oneSet(4, Replacement.LRU), 1, 0, 2, 1));
    assertEquals(2, victimAfter(oneSet(6, Replacement.LRU), 0, 1, 3, 4, 5));
  }

  @Test
  void treePseudoLruShouldFollowItsBits() {
    // 4 ways: root bit, then one bit per pair. After using ways 0, 1, 2, 3 in that order the tree
    // points at the pair (0, 1) and within it at way 0.
    assertEquals(0, victimAfter(oneSet(4, Replacement.TREE_PLRU), 0, 1, 2, 3));
    // After 3 then 0: the root points away from 0's half, to (2, 3); that pair points away from 3.
    assertEquals(2, victimAfter(oneSet(4, Replacement.TREE_PLRU), 3, 0));
    // Pseudo-LRU is not LRU: after 0 1 2 3 0 1 2 the least recently used is 3, but the root last
    // pointed away from 2's half, to the pair (0, 1), whose bit last pointed away from 1: way 0.
    assertEquals(3, victimAfter(oneSet(4, Replacement.LRU), 0, 1, 2, 3, 0, 1, 2));
    assertEquals(0, victimAfter(oneSet(4, Replacement.TREE_PLRU), 0, 1, 2, 3, 0, 1, 2));
    assertEquals(0, victimAfter(oneSet(8, Replacement.TREE_PLRU), 0, 1, 2, 3, 4, 5, 6, 7));
    assertEquals(1, victimAfter(oneSet(4, Replacement.TREE_PLRU), 0, 1, 2, 3, 2, 0, 3));
    assertEquals(1, victimAfter(oneSet(4, Replacement.LRU), 0, 1, 2, 3, 2, 0, 3));
  }

  @Test
  void randomShouldBeSeededAndDeterministic() {
    List<Integer> a = new ArrayList<>();
    List<Integer> b = new ArrayList<>();
    TranslationCache x = oneSet(8, Replacement.RANDOM);
    TranslationCache y = oneSet(8, Replacement.RANDOM);
    for (int k = 0; k < 8; k++) {
      x.fill(x.victim(0), k, 0, 0, 0, 0);
      y.fill(y.victim(0), k, 0, 0, 0, 0);
    }
    for (int i = 0; i < 50; i++) {
      a.add(x.victim(0));
      b.add(y.victim(0));
    }
    assertEquals(a, b);
    assertTrue(a.stream().distinct().count() > 4, "spreads over the ways: " + a);
  }

  @Test
  void shouldFillInvalidWaysFirstAndForgetOnClear() {
    TranslationCache c = new TranslationCache("t", CacheGeometry.of(8, 2), false, 1);
    assertEquals(4, c.sets);
    assertEquals(3, c.setMask);
    int i = c.victim(1);
    c.fill(i, 77, 5, 6, 7, 8);
    assertEquals(i, c.find(1, 77, 77));
    assertEquals(-1, c.find(0, 77, 77));
    assertTrue(c.victim(1) != i, "the other way is still invalid");
    assertEquals(1, c.validEntries());
    assertTrue(c.clear());
    assertFalse(c.clear());
    assertEquals(-1, c.find(1, 77, 77));
  }

  @Test
  void shouldRejectShapesHardwareCannotHave() {
    assertThrows(IllegalArgumentException.class, () -> CacheGeometry.of(96, 4)); // 24 sets
    assertThrows(IllegalArgumentException.class, () -> CacheGeometry.of(10, 3));
    assertThrows(IllegalArgumentException.class,
        () -> new CacheGeometry(24, 6, Replacement.TREE_PLRU).sets());
    assertThrows(IllegalArgumentException.class, () -> CacheGeometry.of(-1, 1));
    assertThrows(IllegalArgumentException.class, () -> CacheGeometry.of(128, 128));
    assertEquals(16, CacheGeometry.of(96, 6).sets());
    assertEquals(0, CacheGeometry.NONE.sets());
  }
}
