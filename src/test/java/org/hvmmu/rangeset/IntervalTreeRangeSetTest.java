package org.hvmmu.rangeset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Large sets, where the tree has several levels and every write splits, empties and collapses nodes:
 * the interval tree against {@link RangeSetModel}, with both twin trees compared byte for byte.
 */
class IntervalTreeRangeSetTest {
  @ParameterizedTest
  @ValueSource(longs = {0L, 0x7FFF_FFFF_FFFF_F000L, -200_000L})
  void shouldMatchTheModelThroughManyLevels(long base) {
    SplittableRandom random = new SplittableRandom(base ^ 0xC0FFEEL);
    IntervalTreeRangeSet set = new IntervalTreeRangeSet("big", RangeSet.PRETTYPRINT_HEX);
    RangeSetModel model = new RangeSetModel();
    long span = 150_000;
    for (int step = 0; step < 12_000; step++) {
      long s = base + random.nextLong(span);
      long len = random.nextInt(10) == 0 ? random.nextLong(300) : random.nextLong(4);
      long e = Long.compareUnsigned(s + len, s) < 0 ? -1L : s + len;
      boolean add = step < 3_000 || random.nextInt(5) < 3;
      if (add) {
        assertEquals(model.add(s, e), set.addRange(s, e));
      } else {
        assertEquals(model.remove(s, e), set.removeRange(s, e));
      }
      if (step % 500 == 0) {
        assertTrue(set.checkInvariants());
      }
      long x = base + random.nextLong(span);
      assertEquals(model.contains(x), set.containsSingleton(x), "contains " + x);
    }
    assertTrue(set.checkInvariants());
    assertTrue(set.rangeCount() > 1_000, "the tree had several levels: " + set.rangeCount());
    assertEquals(model.reported(0, -1L), RangeSetTestRanges.reported(set, 0, -1L));
    // empty it range by range from the top, then refill: nodes are freed and reused
    assertEquals(0, set.removeRange(base + span / 2, -1L));
    assertEquals(0, model.remove(base + span / 2, -1L));
    assertTrue(set.checkInvariants());
    assertEquals(model.reported(0, -1L), RangeSetTestRanges.reported(set, 0, -1L));
    assertEquals(0, set.removeRange(0, -1L));
    assertTrue(set.isEmpty());
    for (int i = 0; i < 5_000; i++) {
      assertEquals(0, set.addRange(base + 3L * i, base + 3L * i + 1));
    }
    assertTrue(set.checkInvariants());
    assertEquals(5_000, set.rangeCount());
  }
}
