package org.hvmmu.p2m.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.p2m.P2mEra;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code _sh_propagate}'s steps around the read-only step, and the upper-level installers. */
class ShadowPropagateTest {
  private static final long NX = 1L << 63;
  private final RangeSet ro = new IntervalTreeRangeSet("r/o", RangeSet.PRETTYPRINT_HEX);

  @ParameterizedTest(name = "level {0}, guest {1} -> {3}")
  @CsvSource({
    // level, guest entry, guest NX, shadow entry (pointing at shadow frame 0x2000)
    "4, 0x0000000000123007, true,  0x0000000002000066",   // P RW US, A missing: not present
    "4, 0x0000000000123027, true,  0x0000000002000067",   // A: present; A D always set
    "3, 0x0000000000123025, true,  0x0000000002000065",   // read-only stays read-only
    "2, 0x0000000000123123, true,  0x0000000002000063",   // G, PS-free: only P RW US A taken
    "2, 0x00000000001230a7, true,  0x0000000002000065",   // PS without D: R/W withheld
    "2, 0x00000000001230e7, true,  0x0000000002000067",   // PS with D
    "3, 0x80000000001230a7, true,  0x8000000002000067",   // NX kept with guest NX (PS ignored at L3)
    "3, 0x8000000000123027, false, 0x0000000002000067",   // and dropped without
    "4, 0x0000000000123026, true,  0x0000000000000000",   // not present
  })
  void upperLevelsShouldTakeTheGuestsRightsAndSetAccessedAndDirty(
      int level, String guest, boolean nx, String shadow) {
    long expected = Long.parseUnsignedLong(shadow.substring(2), 16);
    long g = Long.parseUnsignedLong(guest.substring(2), 16);
    long s = ShadowPropagate.upper(level, g, 0x2000, nx);
    assertEquals(expected, s, Long.toHexString(s));
  }

  @Test
  void upperShouldRefuseOtherLevelsAndMissingShadows() {
    assertThrows(IllegalArgumentException.class, () -> ShadowPropagate.upper(1, 0x27, 5, true));
    assertEquals(0, ShadowPropagate.upper(2, 0x27, -1, true));
  }

  @Test
  void l1ShouldWithholdWhatTheGuestsAccessedAndDirtyBitsDoNotAllowYet() {
    P2mSwitches sw = P2mSwitches.HARDENED;
    int ram = P2mType.RAM_RW.code(P2mEra.TODAY);
    int mmio = P2mType.MMIO_DIRECT.code(P2mEra.TODAY);
    assertEquals(0x5004L, ShadowPropagate.l1e(sw, 0x9007, ram, 5, ro, true, false), "no A, no D");
    assertEquals(0x5025L, ShadowPropagate.l1e(sw, 0x9027, ram, 5, ro, true, false), "no D");
    assertEquals(0x5067L, ShadowPropagate.l1e(sw, 0x9067, ram, 5, ro, true, false));
    assertEquals(0x5065L, ShadowPropagate.l1e(sw, 0x9067, ram, 5, ro, true, true), "page table");
    assertEquals(0x5067L, ShadowPropagate.l1e(sw, NX | 0x9067, ram, 5, ro, false, false));
    assertEquals(NX | 0x5067L, ShadowPropagate.l1e(sw, NX | 0x9067, ram, 5, ro, true, false));
    assertEquals(0, ShadowPropagate.l1e(sw, 0x9066, ram, 5, ro, true, false), "not present");
    ro.addSingleton(5);
    assertEquals(0x507dL, ShadowPropagate.l1e(sw, 0x9067, mmio, 5, ro, true, false),
        "read-only MMIO: R/W off, UC (hardened)");
  }

  @Test
  void setUpperFlagsShouldAskForAFlushWhenRightsOrTheTargetGo() {
    assertEquals(0, ShadowPropagate.setUpperFlags(0x2067, 0x2067));
    assertEquals(ShadowL1e.SHADOW_SET_CHANGED, ShadowPropagate.setUpperFlags(0, 0x2067));
    assertEquals(ShadowL1e.SHADOW_SET_CHANGED, ShadowPropagate.setUpperFlags(0x2065, 0x2067));
    int flush = ShadowL1e.SHADOW_SET_CHANGED | ShadowL1e.SHADOW_SET_FLUSH;
    assertEquals(flush, ShadowPropagate.setUpperFlags(0x2067, 0x3067), "another table");
    assertEquals(flush, ShadowPropagate.setUpperFlags(0x2067, 0x2065), "R/W lost");
    assertEquals(flush, ShadowPropagate.setUpperFlags(0x2067, NX | 0x2067), "execute lost");
    assertEquals(flush, ShadowPropagate.setUpperFlags(0x2067, 0), "gone");
  }

  @Test
  void permsStrictlyIncreasedShouldTreatNxAsALostRight() {
    assertTrue(ShadowPropagate.permsStrictlyIncreased(0x5, 0x7));
    assertTrue(ShadowPropagate.permsStrictlyIncreased(NX | 0x7, 0x7));
    assertFalse(ShadowPropagate.permsStrictlyIncreased(0x7, NX | 0x7));
    assertFalse(ShadowPropagate.permsStrictlyIncreased(0x7, 0x3));
    assertTrue(ShadowPropagate.lostRights(0x5067, 0x6067));
    assertTrue(ShadowPropagate.lostRights(0x5067, 0x5065));
    assertTrue(ShadowPropagate.lostRights(0x5067, 0));
    assertFalse(ShadowPropagate.lostRights(0x5065, 0x5067));
    assertFalse(ShadowPropagate.lostRights(0, 0x5067));
  }
}
