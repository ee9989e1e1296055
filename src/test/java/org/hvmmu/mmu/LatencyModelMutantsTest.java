package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * {@link LatencyModel}'s documented check, "no cost is negative": zero is a valid cost for every
 * parameter (the model's own figures use it for first-level and paging-structure-cache hits),
 * -1 is invalid for every one. The published figures are docs/mmu.md's (STLB hit 7, a walk's load
 * 16, LOCK CMPXCHG 19, #PF 2,687, VM exit and entry 1,020, INVLPG 260, MOV to CR3 96).
 */
class LatencyModelMutantsTest {
  /** A model with every cost 5 except {@code index}, which is {@code value}. */
  private static LatencyModel with(int index, long value) {
    long[] c = {5, 5, 5, 5, 5, 5, 5, 5, 5};
    c[index] = value;
    return new LatencyModel(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
  }

  @Test
  void everyCostMayBeZero() {
    for (int i = 0; i < 9; i++) {
      LatencyModel m = with(i, 0);
      long[] got = {m.l1TlbHit(), m.l2TlbHit(), m.pagingStructureCacheHit(), m.memoryReference(),
          m.accessedDirtyUpdate(), m.pageFaultDelivery(), m.vmExitEntry(), m.invlpg(),
          m.fullFlush()};
      for (int j = 0; j < 9; j++) {
        assertEquals(j == i ? 0 : 5, got[j], "component " + j + " of model " + i);
      }
    }
    LatencyModel free = new LatencyModel(0, 0, 0, 0, 0, 0, 0, 0, 0);
    assertEquals(LatencyModel.FREE, free);
  }

  @Test
  void everyCostMustNotBeNegative() {
    for (int i = 0; i < 9; i++) {
      int index = i;
      assertThrows(IllegalArgumentException.class, () -> with(index, -1), "component " + i);
      assertThrows(IllegalArgumentException.class, () -> with(index, Long.MIN_VALUE));
    }
  }

  @Test
  void goldenCoveShouldHoldThePublishedFigures() {
    assertEquals(new LatencyModel(0, 7, 0, 16, 19, 2_687, 1_020, 260, 96),
        LatencyModel.GOLDEN_COVE);
  }
}
