package org.hvmmu.p2m;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.xen.HypervisorBugException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden flags of {@code p2m_type_to_flags}, generic format: reference section 5.2, every row, by hand.
 * Each row gives the 4-KByte flags with the frame outside and inside mmio_ro_ranges; the test runs it at
 * levels 0, 1 and 2 (4K, 2M, 1G). The function adds no PSE (set_entry does, see PtP2mTest), so the
 * expected value is the same at every level, except that today a read-only mmio_direct superpage trips
 * {@code ASSERT(!level)}.
 */
class PtP2mFlagsTest {
  private static final long MFN = 0xFEE01L;

  /** era, type, flags outside mmio_ro_ranges, flags inside. */
  private static final String[][] ROWS = {
    // Seed: (t & 0x3fff) << 9, base P|US|A|D = 0x65, no NX.
    {"SEED_2010", "INVALID", "000", "000"}, // 0 << 9
    {"SEED_2010", "RAM_RW", "267", "267"}, // 1 << 9 = 0x200 | 0x65 | RW 0x2
    {"SEED_2010", "RAM_LOGDIRTY", "465", "465"}, // 0x400 | 0x65
    {"SEED_2010", "RAM_RO", "665", "665"},
    {"SEED_2010", "MMIO_DM", "800", "800"},
    {"SEED_2010", "MMIO_DIRECT", "A77", "A75"}, // 0xA00 | 0x65 | PCD 0x10 (| RW)
    {"SEED_2010", "POPULATE_ON_DEMAND", "C00", "C00"},
    {"SEED_2010", "GRANT_MAP_RW", "E67", "E67"},
    {"SEED_2010", "GRANT_MAP_RO", "1065", "1065"}, // 8 << 9 = 0x1000
    {"SEED_2010", "RAM_PAGING_OUT", "1200", "1200"},
    {"SEED_2010", "RAM_PAGED", "1400", "1400"},
    {"SEED_2010", "RAM_PAGING_IN", "1600", "1600"},
    {"SEED_2010", "RAM_PAGING_IN_START", "1800", "1800"},
    {"SEED_2010", "RAM_SHARED", "1A65", "1A65"},
    {"SEED_2010", "RAM_BROKEN", "1C00", "1C00"},
    // Today: (t & 0x7f) << 12 (PTE bit 52), NX = 0x800000 (PTE bit 63).
    {"TODAY", "RAM_RW", "000067", "000067"},
    {"TODAY", "INVALID", "801000", "801000"},
    {"TODAY", "RAM_LOGDIRTY", "002065", "002065"},
    {"TODAY", "RAM_RO", "003065", "003065"},
    {"TODAY", "MMIO_DM", "804000", "804000"},
    {"TODAY", "MMIO_DIRECT", "005077", "00507D"}, // UC- 0x10 with RW; UC 0x18 without
    {"TODAY", "POPULATE_ON_DEMAND", "806000", "806000"},
    {"TODAY", "GRANT_MAP_RW", "807067", "807067"},
    {"TODAY", "GRANT_MAP_RO", "808065", "808065"},
    {"TODAY", "RAM_PAGING_OUT", "809000", "809000"},
    {"TODAY", "RAM_PAGED", "80A000", "80A000"},
    {"TODAY", "RAM_PAGING_IN", "80B000", "80B000"},
    {"TODAY", "RAM_SHARED", "00C065", "00C065"},
    {"TODAY", "RAM_BROKEN", "80D000", "80D000"},
    {"TODAY", "MAP_FOREIGN", "80E067", "80E067"},
    {"TODAY", "IOREQ_SERVER", "80F067", "80F067"},
  };

  static List<Arguments> rows() {
    List<Arguments> out = new ArrayList<>();
    for (String[] row : ROWS) {
      for (boolean inRo : new boolean[] {false, true}) {
        for (int level = 0; level <= 2; level++) {
          out.add(
              Arguments.of(
                  P2mEra.valueOf(row[0]),
                  P2mType.valueOf(row[1]),
                  inRo,
                  level,
                  Integer.parseInt(inRo ? row[3] : row[2], 16)));
        }
      }
    }
    return out;
  }

  private static P2mSwitches preset(P2mEra era) {
    return era == P2mEra.SEED_2010 ? P2mSwitches.SEED_2010 : P2mSwitches.HARDENED;
  }

  private static RangeSet ranges(boolean inRo) {
    RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
    if (inRo) {
      ro.addRange(MFN, MFN);
    } else {
      ro.addRange(MFN + 1, MFN + 0x10); // adjacent, not containing
    }
    return ro;
  }

  @ParameterizedTest(name = "{0} {1} inRo={2} level={3} -> {4}")
  @MethodSource("rows")
  void shouldMatchReferenceFlags(P2mEra era, P2mType type, boolean inRo, int level, int expected) {
    P2mSwitches switches = preset(era);
    RangeSet ro = ranges(inRo);
    if (era == P2mEra.TODAY && type == P2mType.MMIO_DIRECT && inRo && level > 0) {
      assertThrows(
          HypervisorBugException.class,
          () -> PtP2mFlags.typeToFlags(switches, type, MFN, level, ro, false));
      return;
    }
    int flags = PtP2mFlags.typeToFlags(switches, type, MFN, level, ro, false);
    assertEquals(expected, flags, () -> Integer.toHexString(flags));
    assertEquals(type.code(era), PtP2mFlags.flagsToType(era, flags));
  }

  @Test
  void shouldDropRwForIoreqServerWhenWritesAreClaimed() {
    RangeSet ro = ranges(false);
    // 15 << 12 = 0xF000 | NX | base 0x65, RW removed
    assertEquals(
        0x80F065,
        PtP2mFlags.typeToFlags(P2mSwitches.HARDENED, P2mType.IOREQ_SERVER, MFN, 0, ro, true));
  }

  /** Raw codes outside the era take Xen's default case: type bits only (seed), type bits and NX (today). */
  @ParameterizedTest
  @CsvSource({"SEED_2010, 15, 1E00", "SEED_2010, 0x4001, 0200", "TODAY, 16, 810000", "TODAY, 0x80, 800000"})
  void shouldTakeTheDefaultCaseForUnknownCodes(P2mEra era, String code, String expected) {
    int raw = Integer.decode(code);
    assertEquals(
        Integer.parseInt(expected, 16),
        PtP2mFlags.typeToFlags(preset(era), raw, MFN, 0, ranges(false), false));
  }

  /** Between 2012 and XSA-154 (2016) a read-only mmio_direct page was UC- only: 0x5000 | 0x65 | 0x10. */
  @Test
  void shouldKeepUcMinusWithoutTheUcSwitch() {
    P2mSwitches preXsa154 =
        new P2mSwitches(
            P2mEra.TODAY,
            false,
            P2mSwitches.SuperpageRoMmio.REFUSE_RETRY_4K,
            P2mSwitches.GlobalRetype.CHANGEABLE_ONLY,
            true,
            true,
            true,
            false);
    assertEquals(
        0x005075, PtP2mFlags.typeToFlags(preXsa154, P2mType.MMIO_DIRECT, MFN, 0, ranges(true), false));
  }

  @Test
  void shouldReadAnEmptyEntryAsInvalidToday() {
    assertEquals(P2mType.INVALID.code, PtP2mFlags.flagsToType(P2mEra.TODAY, 0));
    assertEquals(P2mType.INVALID.seedCode, PtP2mFlags.flagsToType(P2mEra.SEED_2010, 0));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            PtP2mFlags.typeToFlags(
                P2mSwitches.SEED_2010, P2mType.MAP_FOREIGN, MFN, 0, ranges(false), false));
  }
}
