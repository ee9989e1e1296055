package org.hvmmu.p2m.ept;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hvmmu.p2m.P2mAccess;
import org.hvmmu.p2m.P2mDomainConfig;
import org.hvmmu.p2m.P2mEra;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.xen.HypervisorBugException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code ept_p2m_type_to_flags}, reference section 5.3, by hand: the type table (r w x a d) per era and
 * EPT A/D support, the access-type restriction table, then every type x A/D x access x era checked
 * against the two hand tables combined.
 */
class EptP2mFlagsTest {
  private static final long MFN = 0xFEE01L;
  private static final CpuFeatures AD = new CpuFeatures(true, true, false);
  private static final CpuFeatures NO_AD = new CpuFeatures(true, false, false);

  /** era, type, cpu A/D, frame in mmio_ro_ranges, "rwxad". */
  private static final String[][] TYPE_ROWS = {
    {"TODAY", "RAM_RW", "true", "false", "11111"},
    {"TODAY", "INVALID", "true", "false", "00000"},
    {"TODAY", "RAM_LOGDIRTY", "true", "false", "10110"},
    {"TODAY", "RAM_RO", "true", "false", "10110"},
    {"TODAY", "MMIO_DM", "true", "false", "00000"},
    {"TODAY", "MMIO_DIRECT", "true", "false", "11111"},
    {"TODAY", "MMIO_DIRECT", "true", "true", "10110"},
    {"TODAY", "POPULATE_ON_DEMAND", "true", "false", "00000"},
    {"TODAY", "GRANT_MAP_RW", "true", "false", "11011"},
    {"TODAY", "GRANT_MAP_RO", "true", "false", "10010"},
    {"TODAY", "RAM_PAGING_OUT", "true", "false", "00000"},
    {"TODAY", "RAM_PAGED", "true", "false", "00000"},
    {"TODAY", "RAM_PAGING_IN", "true", "false", "00000"},
    {"TODAY", "RAM_SHARED", "true", "false", "10110"},
    {"TODAY", "RAM_BROKEN", "true", "false", "00000"},
    {"TODAY", "MAP_FOREIGN", "true", "false", "11011"},
    {"TODAY", "IOREQ_SERVER", "true", "false", "11011"},
    {"TODAY", "RAM_RW", "false", "false", "11100"},
    {"TODAY", "INVALID", "false", "false", "00000"},
    {"TODAY", "RAM_LOGDIRTY", "false", "false", "10100"},
    {"TODAY", "RAM_RO", "false", "false", "10100"},
    {"TODAY", "MMIO_DM", "false", "false", "00000"},
    {"TODAY", "MMIO_DIRECT", "false", "false", "11100"},
    {"TODAY", "MMIO_DIRECT", "false", "true", "10100"},
    {"TODAY", "POPULATE_ON_DEMAND", "false", "false", "00000"},
    {"TODAY", "GRANT_MAP_RW", "false", "false", "11000"},
    {"TODAY", "GRANT_MAP_RO", "false", "false", "10000"},
    {"TODAY", "RAM_PAGING_OUT", "false", "false", "00000"},
    {"TODAY", "RAM_PAGED", "false", "false", "00000"},
    {"TODAY", "RAM_PAGING_IN", "false", "false", "00000"},
    {"TODAY", "RAM_SHARED", "false", "false", "10100"},
    {"TODAY", "RAM_BROKEN", "false", "false", "00000"},
    {"TODAY", "MAP_FOREIGN", "false", "false", "11000"},
    {"TODAY", "IOREQ_SERVER", "false", "false", "11000"},
    // The seed sets no A/D whatever the processor has; mmio_direct: r = x = 1, w = !mmio_ro.
    {"SEED_2010", "INVALID", "true", "false", "00000"},
    {"SEED_2010", "RAM_RW", "true", "false", "11100"},
    {"SEED_2010", "RAM_LOGDIRTY", "true", "false", "10100"},
    {"SEED_2010", "RAM_RO", "true", "false", "10100"},
    {"SEED_2010", "MMIO_DM", "true", "false", "00000"},
    {"SEED_2010", "MMIO_DIRECT", "true", "false", "11100"},
    {"SEED_2010", "MMIO_DIRECT", "true", "true", "10100"},
    {"SEED_2010", "POPULATE_ON_DEMAND", "true", "false", "00000"},
    {"SEED_2010", "GRANT_MAP_RW", "true", "false", "11000"},
    {"SEED_2010", "GRANT_MAP_RO", "true", "false", "10000"},
    {"SEED_2010", "RAM_PAGING_OUT", "true", "false", "00000"},
    {"SEED_2010", "RAM_PAGED", "true", "false", "00000"},
    {"SEED_2010", "RAM_PAGING_IN", "true", "false", "00000"},
    {"SEED_2010", "RAM_PAGING_IN_START", "true", "false", "00000"},
    {"SEED_2010", "RAM_SHARED", "true", "false", "10100"},
    {"SEED_2010", "RAM_BROKEN", "true", "false", "00000"},
    {"SEED_2010", "RAM_RW", "false", "false", "11100"},
    {"SEED_2010", "MMIO_DIRECT", "false", "true", "10100"},
  };

  /** Access type and the permissions it leaves ("rwx" mask), today; the seed has no restriction. */
  private static final String[][] ACCESS_ROWS = {
    {"N", "000"}, {"R", "100"}, {"W", "010"}, {"RW", "110"}, {"X", "001"}, {"RX", "101"},
    {"WX", "011"}, {"RWX", "111"}, {"RX2RW", "101"}, {"N2RWX", "000"}, {"R_PW", "100"},
  };

  private static P2mSwitches preset(P2mEra era) {
    return era == P2mEra.SEED_2010 ? P2mSwitches.SEED_2010 : P2mSwitches.HARDENED;
  }

  private static RangeSet ranges(boolean inRo) {
    RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
    if (inRo) {
      ro.addSingleton(MFN);
    }
    return ro;
  }

  private static String rwxad(long e) {
    return bit(e, EptEntry.R) + bit(e, EptEntry.W) + bit(e, EptEntry.X) + bit(e, EptEntry.A)
        + bit(e, EptEntry.D);
  }

  private static String bit(long e, long mask) {
    return (e & mask) != 0 ? "1" : "0";
  }

  private static long derive(
      P2mEra era, P2mType type, boolean cpuAd, boolean inRo, P2mAccess access, long start) {
    return EptP2mFlags.typeToFlags(
        preset(era),
        cpuAd ? AD : NO_AD,
        P2mDomainConfig.DEFAULT,
        ranges(inRo),
        EptEntry.withMfn(start, MFN),
        type.code(era),
        access);
  }

  static List<Arguments> typeRows() {
    List<Arguments> out = new ArrayList<>();
    for (String[] r : TYPE_ROWS) {
      out.add(
          Arguments.of(
              P2mEra.valueOf(r[0]),
              P2mType.valueOf(r[1]),
              Boolean.parseBoolean(r[2]),
              Boolean.parseBoolean(r[3]),
              r[4]));
    }
    return out;
  }

  @ParameterizedTest(name = "{0} {1} ad={2} inRo={3} -> {4}")
  @MethodSource("typeRows")
  void shouldMatchTheTypeTable(P2mEra era, P2mType type, boolean cpuAd, boolean inRo, String rwxad) {
    assertEquals(rwxad, rwxad(derive(era, type, cpuAd, inRo, P2mAccess.RWX, 0L)));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "N, 000", "R, 100", "W, 010", "RW, 110", "X, 001", "RX, 101", "WX, 011", "RWX, 111",
    "RX2RW, 101", "N2RWX, 000", "R_PW, 100",
  })
  void shouldRestrictRamRwByAccessToday(P2mAccess access, String rwx) {
    long e = derive(P2mEra.TODAY, P2mType.RAM_RW, true, false, access, 0L);
    assertEquals(rwx, rwxad(e).substring(0, 3));
    assertEquals(0L, e & EptEntry.PW); // this processor lacks paging-write
  }

  @Test
  void shouldSetPagingWriteForRpwWhenSupported() {
    long e =
        EptP2mFlags.typeToFlags(
            P2mSwitches.HARDENED,
            CpuFeatures.ALL,
            P2mDomainConfig.DEFAULT,
            ranges(false),
            EptEntry.withMfn(0L, MFN),
            P2mType.RAM_RW.code,
            P2mAccess.R_PW);
    assertEquals(EptEntry.PW, e & EptEntry.PW);
    assertEquals("10011", rwxad(e)); // r only, A and D still set for ram_rw
  }

  /** Every type x A/D x access x era: the type table's rwx ANDed with the access table's mask. */
  @Test
  void shouldCombineTypeAndAccessForEveryType() {
    Map<String, String> access = new HashMap<>();
    for (String[] r : ACCESS_ROWS) {
      access.put(r[0], r[1]);
    }
    int checked = 0;
    for (String[] r : TYPE_ROWS) {
      P2mEra era = P2mEra.valueOf(r[0]);
      for (P2mAccess a : P2mAccess.values()) {
        String mask = era == P2mEra.SEED_2010 ? "111" : access.get(a.name());
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 3; i++) {
          expected.append(r[4].charAt(i) == '1' && mask.charAt(i) == '1' ? '1' : '0');
        }
        expected.append(r[4], 3, 5);
        long e =
            derive(
                era,
                P2mType.valueOf(r[1]),
                Boolean.parseBoolean(r[2]),
                Boolean.parseBoolean(r[3]),
                a,
                0L);
        assertEquals(expected.toString(), rwxad(e), r[0] + " " + r[1] + " " + a);
        checked++;
      }
    }
    assertEquals(TYPE_ROWS.length * 11, checked);
  }

  @Test
  void shouldKeepAccessedAndDirtyForNonPresentTypes() {
    long start = EptEntry.A | EptEntry.D;
    assertEquals("00011", rwxad(derive(P2mEra.TODAY, P2mType.MMIO_DM, true, false, P2mAccess.RWX, start)));
    // the seed never touches A/D (in 2010 these bits were avail1, the type field)
    assertEquals(
        "11111", rwxad(derive(P2mEra.SEED_2010, P2mType.RAM_RW, false, false, P2mAccess.RWX, start)));
  }

  @Test
  void shouldKeepLogdirtyWritableOnlyWithPmlAt4k() {
    P2mDomainConfig pml = new P2mDomainConfig(0x100000, false, true, true, P2mAccess.RWX);
    long small =
        EptP2mFlags.typeToFlags(
            P2mSwitches.HARDENED, AD, pml, ranges(false), EptEntry.withMfn(0L, MFN), 2, P2mAccess.RWX);
    long large =
        EptP2mFlags.typeToFlags(
            P2mSwitches.HARDENED,
            AD,
            pml,
            ranges(false),
            EptEntry.withMfn(EptEntry.SP, MFN & ~511L),
            2,
            P2mAccess.RWX);
    assertEquals("11110", rwxad(small));
    assertEquals("10110", rwxad(large));
  }

  @Test
  void shouldClearExecuteOnSuperpagesWithoutExecSp() {
    P2mDomainConfig noExecSp = new P2mDomainConfig(0x100000, false, false, false, P2mAccess.RWX);
    long e =
        EptP2mFlags.typeToFlags(
            P2mSwitches.HARDENED,
            AD,
            noExecSp,
            ranges(false),
            EptEntry.withMfn(EptEntry.SP, 0x200),
            P2mType.RAM_RW.code,
            P2mAccess.RWX);
    assertEquals("11011", rwxad(e));
  }

  @Test
  void shouldAssertNoReadOnlyMmioSuperpageToday() {
    long sp = EptEntry.withMfn(EptEntry.SP, MFN);
    assertThrows(
        HypervisorBugException.class,
        () ->
            EptP2mFlags.typeToFlags(
                P2mSwitches.HARDENED,
                AD,
                P2mDomainConfig.DEFAULT,
                ranges(true),
                sp,
                P2mType.MMIO_DIRECT.code,
                P2mAccess.RWX));
    // the seed has no such assertion: a read-only superpage is built, W clear
    long seed =
        EptP2mFlags.typeToFlags(
            P2mSwitches.SEED_2010,
            AD,
            P2mDomainConfig.DEFAULT,
            ranges(true),
            sp,
            P2mType.MMIO_DIRECT.seedCode,
            P2mAccess.RWX);
    assertEquals("10100", rwxad(seed));
  }

  /** epte_get_entry_emt's MMIO rules: UC = 0, WB = 6, ipat = 8 in the result, -1 = split. */
  @ParameterizedTest(name = "{0} {1} order {2} ro [{3}, {4}] -> {5}")
  @CsvSource({
    "TODAY, MMIO_DIRECT, 0, 0, 0, 0", // no ranges that overlap: UC, ipat 0
    "TODAY, MMIO_DIRECT, 0, 0xfee01, 0xfee01, 8", // 4K inside: UC | ipat
    "TODAY, MMIO_DIRECT, 9, 0xfee01, 0xfee01, -1", // 2M partly: split
    "TODAY, MMIO_DIRECT, 9, 0xfee00, 0xfefff, 8", // 2M wholly inside: UC | ipat
    "TODAY, RAM_RW, 0, 0, 0, 6", // RAM: WB
    "TODAY, RAM_RW, 9, 0xfee01, 0xfee01, -1", // any type's superpage overlapping is split
    "SEED_2010, MMIO_DIRECT, 0, 0xfee01, 0xfee01, 0", // seed: UC, no ipat, no split
    "SEED_2010, MMIO_DIRECT, 9, 0xfee01, 0xfee01, 0",
    "SEED_2010, RAM_RW, 0, 0, 0, 6",
  })
  void shouldComputeTheMemoryType(
      P2mEra era, P2mType type, int order, String s, String e, int expected) {
    RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
    long start = Long.decode(s);
    if (start != 0) {
      ro.addRange(start, Long.decode(e));
    }
    long mfn = order == 0 ? 0xFEE01L : 0xFEE00L;
    assertEquals(
        expected,
        EptP2mFlags.entryEmt(preset(era), ro, type.code(era), mfn, PageOrder.fromCode(order)));
  }
}
