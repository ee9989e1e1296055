package org.hvmmu.p2m.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvmmu.p2m.P2mEra;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code _sh_propagate}'s read-only step for every p2m type, both eras, frame in and out of
 * mmio_ro_ranges (reference section 6). Guest flags 0x06F = P 0x1 | RW 0x2 | US 0x4 | PWT 0x8 | A 0x20 |
 * D 0x40, so that cache forcing is visible: without RW 0x06D; hardened read-only MMIO clears RW and
 * PAT|PCD|PWT and sets PCD|PWT: 0x06F & ~0x9A | 0x18 = 0x07D.
 */
class ShadowFlagsTest {
  private static final int GUEST = 0x06F;
  private static final long MFN = 0xFEE01L;

  @ParameterizedTest(name = "{0} {1}: out {2}, in {3}")
  @CsvSource({
    "SEED_2010, INVALID, 06F, 06F",
    "SEED_2010, RAM_RW, 06F, 06F",
    "SEED_2010, RAM_LOGDIRTY, 06D, 06D",
    "SEED_2010, RAM_RO, 06D, 06D",
    "SEED_2010, MMIO_DM, 06F, 06F",
    "SEED_2010, MMIO_DIRECT, 06F, 06D",
    "SEED_2010, POPULATE_ON_DEMAND, 06F, 06F",
    "SEED_2010, GRANT_MAP_RW, 06F, 06F",
    "SEED_2010, GRANT_MAP_RO, 06D, 06D",
    "SEED_2010, RAM_PAGING_OUT, 06F, 06F",
    "SEED_2010, RAM_PAGED, 06F, 06F",
    "SEED_2010, RAM_PAGING_IN, 06F, 06F",
    "SEED_2010, RAM_PAGING_IN_START, 06F, 06F",
    "SEED_2010, RAM_SHARED, 06D, 06D",
    "SEED_2010, RAM_BROKEN, 06F, 06F",
    "TODAY, RAM_RW, 06F, 06F",
    "TODAY, INVALID, 06F, 06F",
    "TODAY, RAM_LOGDIRTY, 06D, 06D",
    "TODAY, RAM_RO, 06D, 06D",
    "TODAY, MMIO_DM, 06F, 06F",
    "TODAY, MMIO_DIRECT, 06F, 07D",
    "TODAY, POPULATE_ON_DEMAND, 06F, 06F",
    "TODAY, GRANT_MAP_RW, 06F, 06F",
    "TODAY, GRANT_MAP_RO, 06D, 06D",
    "TODAY, RAM_PAGING_OUT, 06F, 06F",
    "TODAY, RAM_PAGED, 06F, 06F",
    "TODAY, RAM_PAGING_IN, 06F, 06F",
    "TODAY, RAM_SHARED, 06D, 06D",
    "TODAY, RAM_BROKEN, 06F, 06F",
    "TODAY, MAP_FOREIGN, 06F, 06F",
    "TODAY, IOREQ_SERVER, 06F, 06F",
  })
  void shouldRestrictPerTypeAndFrame(P2mEra era, P2mType type, String out, String in) {
    P2mSwitches switches = era == P2mEra.SEED_2010 ? P2mSwitches.SEED_2010 : P2mSwitches.HARDENED;
    RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
    int code = type.code(era);
    assertEquals(
        Integer.parseInt(out, 16), ShadowFlags.shPropagateFlags(switches, GUEST, code, MFN, ro));
    ro.addSingleton(MFN);
    assertEquals(
        Integer.parseInt(in, 16), ShadowFlags.shPropagateFlags(switches, GUEST, code, MFN, ro));
  }

  /** The hardened step replaces a guest PAT selection too: 0x0E7 (PAT 0x80) becomes 0x065 | 0x18. */
  @ParameterizedTest
  @CsvSource({"0E7, 07D", "077, 07D", "065, 07D"})
  void shouldForceUcWhateverTheGuestChose(String guest, String expected) {
    RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
    ro.addSingleton(MFN);
    assertEquals(
        Integer.parseInt(expected, 16),
        ShadowFlags.shPropagateFlags(
            P2mSwitches.HARDENED,
            Integer.parseInt(guest, 16),
            P2mType.MMIO_DIRECT.code,
            MFN,
            ro));
  }
}
