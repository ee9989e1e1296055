package org.hvmmu.p2m;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class P2mTypeTest {
  /** Reference section 5.1: today's and the seed's codes, by hand. */
  @ParameterizedTest
  @CsvSource({
    "RAM_RW, 0, 1",
    "INVALID, 1, 0",
    "RAM_LOGDIRTY, 2, 2",
    "RAM_RO, 3, 3",
    "MMIO_DM, 4, 4",
    "MMIO_DIRECT, 5, 5",
    "POPULATE_ON_DEMAND, 6, 6",
    "GRANT_MAP_RW, 7, 7",
    "GRANT_MAP_RO, 8, 8",
    "RAM_PAGING_OUT, 9, 9",
    "RAM_PAGED, 10, 10",
    "RAM_PAGING_IN, 11, 11",
    "RAM_PAGING_IN_START, -1, 12",
    "RAM_SHARED, 12, 13",
    "RAM_BROKEN, 13, 14",
    "MAP_FOREIGN, 14, -1",
    "IOREQ_SERVER, 15, -1",
  })
  void shouldCarryBothNumberings(P2mType type, int today, int seed) {
    assertEquals(today, type.code);
    assertEquals(seed, type.seedCode);
    assertEquals(today, type.code(P2mEra.TODAY));
    assertEquals(seed, type.code(P2mEra.SEED_2010));
    if (today >= 0) {
      assertSame(type, P2mType.fromCode(today));
    }
    if (seed >= 0) {
      assertSame(type, P2mType.fromCode(P2mEra.SEED_2010, seed));
    }
  }

  @Test
  void shouldRejectCodesAnEraLacks() {
    assertThrows(IllegalArgumentException.class, () -> P2mType.fromCode(16));
    assertThrows(IllegalArgumentException.class, () -> P2mType.fromCode(-1));
    assertThrows(IllegalArgumentException.class, () -> P2mType.fromCode(P2mEra.SEED_2010, 15));
    assertFalse(P2mType.isKnown(P2mEra.SEED_2010, 15));
    assertTrue(P2mType.isKnown(P2mEra.TODAY, 15));
    assertFalse(P2mType.IOREQ_SERVER.existsIn(P2mEra.SEED_2010));
  }

  /** Today's class masks (reference 5.1), as literal bit sets over today's codes. */
  @Test
  void shouldBuildTodaysClassMasks() {
    // RAM: ram_rw 0, logdirty 2, ram_ro 3, paging 9..11, shared 12, ioreq 15
    assertEquals((1L << 0) | (1L << 2) | (1L << 3) | (7L << 9) | (1L << 12) | (1L << 15), P2mTypes.RAM);
    assertEquals((1L << 2) | (1L << 3) | (1L << 8) | (1L << 12), P2mTypes.RO);
    assertEquals((1L << 3) | (1L << 8), P2mTypes.DISCARD_WRITE);
    assertEquals((1L << 4) | (1L << 5), P2mTypes.MMIO);
    assertEquals((1L << 7) | (1L << 8), P2mTypes.GRANT);
    assertEquals((1L << 0) | (1L << 2) | (1L << 15), P2mTypes.CHANGEABLE);
    assertEquals((1L << 7) | (1L << 8) | (1L << 14) | (1L << 5), P2mTypes.SPECIAL);
    assertFalse(P2mTypes.isReadOnly(P2mEra.TODAY, P2mType.MMIO_DIRECT.code));
  }

  /** The seed's masks over the seed's codes: the RO class is logdirty 2, ram_ro 3, grant_ro 8, shared 13. */
  @Test
  void shouldBuildTheSeedsClassMasks() {
    assertEquals((1L << 2) | (1L << 3) | (1L << 8) | (1L << 13), P2mTypes.SEED_RO);
    assertEquals(
        (1L << 1) | (1L << 2) | (1L << 3) | (1L << 9) | (1L << 10) | (1L << 11) | (1L << 12)
            | (1L << 13),
        P2mTypes.SEED_RAM);
    assertTrue(P2mTypes.isReadOnly(P2mEra.SEED_2010, 13));
    assertFalse(P2mTypes.isReadOnly(P2mEra.TODAY, 13));
    assertTrue(P2mTypes.isGrant(P2mEra.SEED_2010, 7));
    assertFalse(P2mTypes.isChangeable(P2mEra.SEED_2010, 1));
    assertFalse(P2mTypes.isReadOnly(P2mEra.TODAY, 64));
    assertFalse(P2mTypes.isReadOnly(P2mEra.TODAY, -1));
  }
}
