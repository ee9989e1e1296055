package org.hvmmu.rangeset;

import static org.hvmmu.rangeset.RangeSetTestRanges.listed;
import static org.hvmmu.rangeset.RangeSetTestRanges.of;
import static org.hvmmu.rangeset.RangeSetTestRanges.reported;
import static org.hvmmu.rangeset.XenListRangeSet.Variant.CORRECTED;
import static org.hvmmu.rangeset.XenListRangeSet.Variant.XEN_2010;
import static org.hvmmu.rangeset.XenListRangeSet.Variant.XEN_4_22;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.hvmmu.rangeset.XenListRangeSet.Variant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The test vectors of the Xen reference (xen-semantics.md section 1.10): upstream's T0-T3 from
 * {@code tools/tests/rangeset/test-rangeset.c} and V1-V20 observed by running Xen's {@code
 * rangeset.c}, each against the variants it describes, plus the corrected expectations (worked out
 * by hand) for the vectors that show a Xen defect. Vectors marked "derived" are not in the
 * reference: they follow by hand from the Xen source and pin a quirk the reference's vectors do not
 * isolate.
 */
class XenListRangeSetVectorsTest {
  private static final long MAX = ~0L;

  /** One add or remove of an inclusive range, as in upstream's action tables. */
  record Op(boolean add, long s, long e) {
    int applyTo(RangeSet set) {
      return add ? set.addRange(s, e) : set.removeRange(s, e);
    }

    @Override
    public String toString() {
      return (add ? "add " : "remove ") + of(s, e);
    }
  }

  private static Op add(long s, long e) {
    return new Op(true, s, e);
  }

  private static Op remove(long s, long e) {
    return new Op(false, s, e);
  }

  private static List<Op> ops(Op... ops) {
    return List.of(ops);
  }

  private static long[] ranges(long... bounds) {
    return bounds;
  }

  /** One row per variant: the same actions expected to give the same ranges on each. */
  private static Stream<Arguments> rows(
      String vector, List<Op> actions, long[] expected, Variant... variants) {
    return Stream.of(variants).map(v -> Arguments.of(vector, v, actions, expected));
  }

  private static final Variant[] ALL = Variant.values();

  static Stream<Arguments> actionVectors() {
    List<Op> t0 = ops(add(0, 1), add(4, 5), remove(3, 4));
    List<Op> t1 = ops(add(0, 1), add(4, 5), add(7, 8), remove(3, 7));
    List<Op> v3head = ops(add(10, 20), remove(10, 12));
    List<Op> v3tail = append(v3head, remove(18, 30));
    List<Op> v3below = append(v3tail, remove(0, 5));
    List<Op> v15a = ops(add(0x10, 0x20), add(0x30, 0x40), add(0x50, 0x60), remove(0x35, MAX));
    List<Op> v15b = ops(add(0x10, 0x20), add(0x30, 0x40), remove(5, MAX));
    List<Op> v15c = ops(add(0x10, 0x20), add(0x30, 0x40), remove(0x25, MAX));
    List<Stream<Arguments>> all =
        List.of(
            // T0: a remove whose start range ends before s - 1; 2010 extends [0,1] to [0,2].
            rows("T0", t0, ranges(0, 1, 5, 5), XEN_4_22, CORRECTED),
            rows("T0", t0, ranges(0, 2, 5, 5), XEN_2010),
            rows("T1", t1, ranges(0, 1, 8, 8), XEN_4_22, CORRECTED),
            rows("T1", t1, ranges(0, 2, 8, 8), XEN_2010),
            rows("T2", ops(add(0, 1), add(4, 5), remove(2, 3)), ranges(0, 1, 4, 5), ALL),
            rows("T3", ops(add(0, 1), add(4, 5), remove(1, 4)), ranges(0, 0, 5, 5), ALL),
            rows("V1 touching", ops(add(1, 3), add(5, 5), add(4, 4)), ranges(1, 5), ALL),
            rows("V1 bridging", ops(add(1, 3), add(7, 9), add(4, 6)), ranges(1, 9), ALL),
            rows(
                "V1 swallowing",
                ops(add(1, 3), add(10, 12), add(20, 22), add(2, 21)),
                ranges(1, 22),
                ALL),
            rows("V2 split", ops(add(5, 10), remove(7, 8)), ranges(5, 6, 9, 10), ALL),
            rows("V3 head", v3head, ranges(13, 20), ALL),
            rows("V3 tail", v3tail, ranges(13, 17), ALL),
            rows("V3 below", v3below, ranges(13, 17), ALL),
            rows("V3 all", append(v3below, remove(0, 100)), ranges(), ALL),
            // V4: 2010 truncates [0,1] to s - 1 = 1 as well, which happens to change nothing.
            rows("V4", ops(add(0, 1), add(4, 5), remove(2, 5)), ranges(0, 1), ALL),
            rows("V13", ops(add(5, 9), add(20, MAX), add(10, 19)), ranges(5, MAX), ALL),
            rows("V14 split", ops(add(0, MAX), remove(100, 200)), ranges(0, 99, 201, MAX), ALL),
            rows(
                "V14 to top",
                ops(add(0, MAX), remove(100, 200), remove(300, MAX)),
                ranges(0, 99, 201, 299),
                ALL),
            // V15: e + 1 wraps to 0, the last range becomes [0, y.e] and survives, in 2010 and
            // today.
            rows("V15", v15a, ranges(0x10, 0x20, 0x30, 0x34, 0, 0x60), XEN_4_22, XEN_2010),
            rows("V15", v15a, ranges(0x10, 0x20, 0x30, 0x34), CORRECTED),
            rows("V15 from below", v15b, ranges(0, 0x40), XEN_4_22, XEN_2010),
            rows("V15 from below", v15b, ranges(), CORRECTED),
            // Derived: s in a gap, e = ~0. Today skips [0x10,0x20]; 2010 extends it to s - 1 =
            // 0x24.
            rows("V15 from gap (derived)", v15c, ranges(0x10, 0x20, 0, 0x40), XEN_4_22),
            rows("V15 from gap (derived)", v15c, ranges(0x10, 0x24, 0, 0x40), XEN_2010),
            rows("V15 from gap (derived)", v15c, ranges(0x10, 0x20), CORRECTED));
    return all.stream().flatMap(s -> s);
  }

  private static List<Op> append(List<Op> prefix, Op op) {
    List<Op> all = new ArrayList<>(prefix);
    all.add(op);
    return List.copyOf(all);
  }

  @ParameterizedTest(name = "{0} on {1}: {2}")
  @MethodSource("actionVectors")
  void shouldReproduceActionVector(String vector, Variant variant, List<Op> actions, long[] want) {
    XenListRangeSet set = new XenListRangeSet("vector", 0, variant);
    for (Op op : actions) {
      assertEquals(0, op.applyTo(set), () -> vector + ": " + op);
    }
    assertEquals(of(want), listed(set), vector);
    assertEquals(want.length / 2, set.rangeCount(), vector);
    if (variant != XEN_2010) {
      // Today's report starts at the first range, so it shows the list as stored, corrupt or not.
      assertEquals(of(want), reported(set), vector);
    }
  }

  /**
   * Away from {@code ~0} and without a limit, today's Xen is correct: it must agree with {@link
   * Variant#CORRECTED} for every single add or remove from every subset of 0..8, while 2010 must
   * disagree somewhere (its remove bug).
   */
  @Test
  void shouldAgreeWithCorrectedAwayFromMaxOnlySince2025() {
    int disagreements2010 = 0;
    for (int mask = 0; mask < 1 << 9; mask++) {
      for (int add = 0; add <= 1; add++) {
        for (int s = 0; s <= 8; s++) {
          for (int e = s; e <= 8; e++) {
            Op op = add == 1 ? add(s, e) : remove(s, e);
            String today = listed(applyFrom(mask, op, XEN_4_22));
            String fixed = listed(applyFrom(mask, op, CORRECTED));
            int m = mask;
            assertEquals(fixed, today, () -> Integer.toBinaryString(m) + " then " + op);
            if (!fixed.equals(listed(applyFrom(mask, op, XEN_2010)))) {
              disagreements2010++;
            }
          }
        }
      }
    }
    assertTrue(disagreements2010 > 0);
  }

  private static XenListRangeSet applyFrom(int mask, Op op, Variant variant) {
    XenListRangeSet set = new XenListRangeSet("diff", 0, variant);
    for (int x = 0; x <= 8; x++) {
      if ((mask & 1 << x) != 0) {
        assertEquals(0, set.addSingleton(x));
      }
    }
    assertEquals(0, op.applyTo(set));
    return set;
  }

  @Test
  void shouldLeaveBuggyVariantsFailingTheirInvariantsAfterTheWrapBug() {
    for (Variant variant : ALL) {
      XenListRangeSet set = new XenListRangeSet("v15", 0, variant);
      set.addRange(0x10, 0x20);
      set.addRange(0x30, 0x40);
      set.addRange(0x50, 0x60);
      set.removeRange(0x35, MAX);
      assertEquals(variant == CORRECTED, set.checkInvariants(), variant::name);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // V5, V6, V7, V20: queries on {[10,20],[30,40]}.

  private static XenListRangeSet tenTwentyThirtyForty(Variant variant) {
    XenListRangeSet set = new XenListRangeSet("x", 0, variant);
    assertEquals(0, set.addRange(10, 20));
    assertEquals(0, set.addRange(30, 40));
    return set;
  }

  @ParameterizedTest
  @EnumSource(Variant.class)
  void shouldAnswerContainsAsV5(Variant variant) {
    XenListRangeSet set = tenTwentyThirtyForty(variant);
    assertTrue(set.containsRange(10, 20));
    assertFalse(set.containsRange(10, 21));
    assertTrue(set.containsSingleton(15));
    assertFalse(set.containsSingleton(25));
    assertFalse(set.containsRange(20, 30));
  }

  @ParameterizedTest
  @EnumSource(Variant.class)
  void shouldAnswerOverlapsAsV6(Variant variant) {
    XenListRangeSet set = tenTwentyThirtyForty(variant);
    assertFalse(set.overlapsRange(0, 9));
    assertTrue(set.overlapsRange(0, 10));
    assertFalse(set.overlapsRange(21, 29));
    assertTrue(set.overlapsRange(21, 30));
    assertFalse(set.overlapsRange(41, 50));
    assertTrue(set.overlapsRange(40, 50));
    assertTrue(set.overlapsRange(5, 45));
  }

  @ParameterizedTest
  @EnumSource(Variant.class)
  void shouldReportClippedRangesAsV7(Variant variant) {
    XenListRangeSet set = tenTwentyThirtyForty(variant);
    assertEquals(of(15, 20, 30, 35), reported(set, 15, 35));
    assertEquals(of(), reported(set, 0, 5));
  }

  @ParameterizedTest
  @EnumSource(Variant.class)
  void shouldReportAsV20(Variant variant) {
    XenListRangeSet set = tenTwentyThirtyForty(variant);
    // 2010 starts the report at find_range(0), which is none: nothing at all (fixed by b1c780cd31).
    assertEquals(
        variant == XEN_2010 ? of() : of(10, 20, 30, 35), reported(set, 0, 35), variant::name);
    assertEquals(of(15, 20, 30, 35), reported(set, 15, 35));
    assertEquals(of(30, 35), reported(set, 25, 35));
    assertEquals("x          { 10-20, 30-40 }", set.toString());
  }

  // ---------------------------------------------------------------------------------------------
  // V10: the limit.

  @ParameterizedTest
  @EnumSource(
      value = Variant.class,
      names = {"XEN_4_22", "CORRECTED"})
  void shouldEnforceLimitAsV10(Variant variant) {
    XenListRangeSet set = new XenListRangeSet("v10", 0, variant);
    set.setLimit(2);
    assertEquals(0, set.addSingleton(1));
    assertEquals(0, set.addSingleton(3));
    assertEquals(-12, set.addSingleton(5));
    assertEquals(of(1, 1, 3, 3), listed(set));
    assertEquals(0, set.addSingleton(2)); // merges [1,1],[2,2],[3,3]: a range's budget comes back
    assertEquals(of(1, 3), listed(set));
    assertEquals(0, set.addSingleton(5));
    assertEquals(-12, set.removeSingleton(2)); // a split needs a third range
    assertEquals(of(1, 3, 5, 5), listed(set));
    assertEquals(0, set.addSingleton(4));
    assertEquals(of(1, 5), listed(set));
  }

  @Test
  void shouldDriftBudgetWhenXenLimitIsSetOnNonEmptySet() {
    // Xen overwrites nr_ranges: the two ranges already held are not counted against the limit.
    XenListRangeSet xen = new XenListRangeSet("drift", 0, XEN_4_22);
    xen.addSingleton(1);
    xen.addSingleton(3);
    xen.setLimit(2);
    assertEquals(0, xen.addSingleton(5));
    assertEquals(0, xen.addSingleton(7));
    assertEquals(-12, xen.addSingleton(9));
    assertEquals(4, xen.rangeCount());
    // Destroying the two uncounted ranges hands out budget that was never taken.
    assertEquals(0, xen.removeRange(0, 3));
    assertEquals(0, xen.addSingleton(9));
    assertEquals(0, xen.addSingleton(11));
    assertEquals(-12, xen.addSingleton(13));
    assertEquals(of(5, 5, 7, 7, 9, 9, 11, 11), listed(xen));

    XenListRangeSet fixed = new XenListRangeSet("drift", 0, CORRECTED);
    fixed.addSingleton(1);
    fixed.addSingleton(3);
    fixed.setLimit(2);
    assertEquals(-12, fixed.addSingleton(5));
    assertEquals(0, fixed.removeRange(0, 3)); // destroys both
    assertEquals(0, fixed.addSingleton(9));
    assertEquals(0, fixed.addSingleton(11));
    assertEquals(-12, fixed.addSingleton(13));
    assertEquals(of(9, 9, 11, 11), listed(fixed));
  }

  @Test
  void shouldRefuseXenAddThatOnlyTouchesTheNextRangeAtLimit() {
    // Derived: x = find_range(4) is none, so Xen allocates [4,4] before merging it into [5,9].
    XenListRangeSet xen = new XenListRangeSet("prepend", 0, XEN_4_22);
    xen.addRange(5, 9);
    xen.setLimit(0);
    assertEquals(-12, xen.addSingleton(4));
    assertEquals(0, xen.addSingleton(10)); // touching on the left extends in place
    assertEquals(of(5, 10), listed(xen));

    XenListRangeSet fixed = new XenListRangeSet("prepend", 0, CORRECTED);
    fixed.addRange(5, 9);
    fixed.setLimit(1);
    assertEquals(0, fixed.addSingleton(4));
    assertEquals(0, fixed.addRange(0, 3));
    assertEquals(of(0, 9), listed(fixed));
  }

  @Test
  void shouldTruncateXenLimitTo32BitsAsRangesetLimitsUnsignedIntDoes() {
    XenListRangeSet zero = new XenListRangeSet("trunc", 0, XEN_4_22);
    zero.setLimit(1L << 32); // (unsigned int) 2^32 == 0
    assertEquals(-12, zero.addSingleton(1));
    XenListRangeSet one = new XenListRangeSet("trunc", 0, XEN_4_22);
    one.setLimit((1L << 32) + 1);
    assertEquals(0, one.addSingleton(1));
    assertEquals(-12, one.addSingleton(3));
    XenListRangeSet fixed = new XenListRangeSet("trunc", 0, CORRECTED);
    fixed.setLimit(1L << 32);
    assertEquals(0, fixed.addSingleton(1));
    assertEquals(0, fixed.addSingleton(3));
  }

  @Test
  void shouldRestoreUnlimitedXenBudget() {
    XenListRangeSet set = new XenListRangeSet("unlimited", 0, XEN_4_22);
    set.setLimit(1);
    assertEquals(0, set.addSingleton(1));
    assertEquals(-12, set.addSingleton(3));
    set.setLimit(RangeSet.UNLIMITED);
    assertEquals(0, set.addSingleton(3));
    assertEquals(0, set.addSingleton(5));
  }

  // ---------------------------------------------------------------------------------------------
  // V16, V17: claim.

  @Test
  void shouldFailClaimOnEmptySetAsV16() {
    XenListRangeSet set = new XenListRangeSet("v16", 0, XEN_4_22);
    long[] start = {0x1234};
    assertEquals(-28, set.claimRange(1, start));
    assertEquals(0x1234, start[0]);
    assertTrue(set.isEmpty());
  }

  @Test
  void shouldClaimOnEmptySetWhenCorrected() {
    XenListRangeSet set = new XenListRangeSet("v16", 0, CORRECTED);
    long[] start = {0x1234};
    assertEquals(0, set.claimRange(1, start));
    assertEquals(0, start[0]);
    assertEquals(of(0, 0), listed(set));
    XenListRangeSet huge = new XenListRangeSet("v16", 0, CORRECTED);
    assertEquals(0, huge.claimRange(MAX, start)); // 2^64 - 1 values fit in the 2^64 of [0, ~0]
    assertEquals(0, start[0]);
    assertEquals(of(0, MAX - 1), listed(huge));
  }

  @Test
  void shouldNotMergeClaimedRangeAsV17() {
    XenListRangeSet set = new XenListRangeSet("v17", 0, XEN_4_22);
    set.addRange(5, 9);
    long[] start = {-1};
    assertEquals(0, set.claimRange(5, start));
    assertEquals(0, start[0]);
    assertEquals(of(0, 4, 5, 9), listed(set));
    // contains looks only at find_range(s): [0,4] does not reach 9, although 0..9 are all held.
    assertFalse(set.containsRange(0, 9));
    assertFalse(set.containsRange(4, 5));
    assertTrue(set.containsRange(5, 9));
    assertTrue(set.overlapsRange(4, 5));
    assertFalse(set.checkInvariants());
    assertEquals(0, set.claimRange(1, start));
    assertEquals(10, start[0]);
    assertEquals(of(0, 4, 5, 10), listed(set));
    assertEquals(2, set.rangeCount());
  }

  @Test
  void shouldMergeClaimedRangeWhenCorrected() {
    XenListRangeSet set = new XenListRangeSet("v17", 0, CORRECTED);
    set.addRange(5, 9);
    long[] start = {-1};
    assertEquals(0, set.claimRange(5, start));
    assertEquals(0, start[0]);
    assertEquals(of(0, 9), listed(set));
    assertTrue(set.containsRange(0, 9));
    assertEquals(0, set.claimRange(1, start));
    assertEquals(10, start[0]);
    assertEquals(of(0, 10), listed(set));
    assertTrue(set.checkInvariants());
  }

  @Test
  void shouldMergeClaimWithBothNeighboursWhenCorrectedButOnlyTheLeftInXen() {
    long[] start = {-1};
    XenListRangeSet xen = new XenListRangeSet("gap", 0, XEN_4_22);
    xen.addRange(0, 4);
    xen.addRange(7, 9);
    assertEquals(0, xen.claimRange(2, start));
    assertEquals(5, start[0]);
    assertEquals(of(0, 6, 7, 9), listed(xen));
    XenListRangeSet fixed = new XenListRangeSet("gap", 0, CORRECTED);
    fixed.addRange(0, 4);
    fixed.addRange(7, 9);
    assertEquals(0, fixed.claimRange(2, start));
    assertEquals(5, start[0]);
    assertEquals(of(0, 9), listed(fixed));
  }

  @ParameterizedTest
  @EnumSource(
      value = Variant.class,
      names = {"XEN_4_22", "CORRECTED"})
  void shouldRefuseClaimOfZeroValues(Variant variant) {
    // Xen would insert [0, 0 + 0 - 1] = [0, ~0] in front of the existing ranges.
    XenListRangeSet set = new XenListRangeSet("zero", 0, variant);
    set.addRange(5, 9);
    assertThrows(IllegalArgumentException.class, () -> set.claimRange(0, new long[1]));
    assertEquals(of(5, 9), listed(set));
  }

  @Test
  void shouldNotClaimFromFullSetInXen() {
    XenListRangeSet set = new XenListRangeSet("full", 0, XEN_4_22);
    set.addRange(0, MAX);
    assertEquals(-28, set.claimRange(1, new long[1]));
    assertEquals(of(0, MAX), listed(set));
  }

  @Test
  void shouldChargeOnlyNewHeadRangeOfXenClaimToBudget() {
    XenListRangeSet set = new XenListRangeSet("budget", 0, XEN_4_22);
    set.setLimit(1);
    set.addRange(5, 9);
    long[] start = {-1};
    assertEquals(-12, set.claimRange(5, start)); // the gap [0,4] would be a new (unmerged) range
    assertEquals(-1, start[0]);
    assertEquals(0, set.claimRange(6, start)); // too big for [0,4]: appended to [5,9], no new range
    assertEquals(10, start[0]);
    assertEquals(of(5, 15), listed(set));
  }

  // ---------------------------------------------------------------------------------------------
  // Consume (derived vectors: the reference describes consume but gives no vector).

  @Test
  void shouldWrapWhenXenConsumesWholeRangeEndingAtMax() {
    // x.s += consumed: 5 + (2^64 - 5) wraps to 0, and [0, ~0] is not empty, so it stays.
    XenListRangeSet xen = new XenListRangeSet("consume", 0, XEN_4_22);
    xen.addRange(5, MAX);
    assertEquals(1, xen.consumeRanges((s, e, consumed) -> takeAll(s, e, consumed, 1)));
    assertEquals(of(0, MAX), listed(xen));

    XenListRangeSet fixed = new XenListRangeSet("consume", 0, CORRECTED);
    fixed.addRange(5, MAX);
    assertEquals(0, fixed.consumeRanges((s, e, consumed) -> takeAll(s, e, consumed, 0)));
    assertTrue(fixed.isEmpty());
  }

  private static int takeAll(long s, long e, long[] consumed, int rc) {
    consumed[0] = e - s + 1;
    return rc;
  }

  @Test
  void shouldRefuseAnyConsumptionOfWholeDomainInXenButAllowPartialWhenCorrected() {
    XenListRangeSet xen = new XenListRangeSet("consume", 0, XEN_4_22);
    xen.addRange(0, MAX);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            xen.consumeRanges(
                (s, e, consumed) -> {
                  consumed[0] = 5;
                  return 1;
                }));
    assertEquals(of(0, MAX), listed(xen));

    XenListRangeSet fixed = new XenListRangeSet("consume", 0, CORRECTED);
    fixed.addRange(0, MAX);
    assertEquals(
        1,
        fixed.consumeRanges(
            (s, e, consumed) -> {
              consumed[0] = 5;
              return 1;
            }));
    assertEquals(of(5, MAX), listed(fixed));
  }

  // ---------------------------------------------------------------------------------------------
  // V18: printk.

  @ParameterizedTest
  @EnumSource(Variant.class)
  void shouldPrintAsV18(Variant variant) {
    XenListRangeSet ro = new XenListRangeSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX, variant);
    ro.addRange(1, 3);
    ro.addSingleton(5);
    ro.addSingleton(0xfed00);
    assertEquals("r/o mmio ranges { 1-3, 5, fed00 }", ro.toString());
    XenListRangeSet unnamed = new XenListRangeSet(null, 0, variant);
    unnamed.addRange(10, 20);
    assertEquals("(no name)  { 10-20 }", unnamed.toString());
  }

  @Test
  void shouldPrintT0AsTheClassExampleSays() {
    XenListRangeSet today = new XenListRangeSet("t0", 0, XEN_4_22);
    XenListRangeSet old = new XenListRangeSet("t0", 0, XEN_2010);
    for (XenListRangeSet set : List.of(today, old)) {
      set.addRange(0, 1);
      set.addRange(4, 5);
      set.removeRange(3, 4);
    }
    assertEquals("t0         { 0-1, 5 }", today.toString());
    assertEquals("t0         { 0-2, 5 }", old.toString());
  }

  @Test
  void shouldPrintWhat2010ReportHides() {
    XenListRangeSet set = new XenListRangeSet("hidden", RangeSet.PRETTYPRINT_HEX, XEN_2010);
    set.addRange(0x10, 0x20);
    assertEquals(of(), reported(set));
    assertEquals("hidden     { 10-20 }", set.toString());
  }

  // ---------------------------------------------------------------------------------------------
  // 2010 lacks the later functions.

  static Stream<Arguments> functionsAddedAfter2010() {
    XenListRangeSet set = new XenListRangeSet("old", 0, XEN_2010);
    XenListRangeSet other = new XenListRangeSet("other", 0, XEN_2010);
    return Stream.of(
        Arguments.of("rangeset_claim_range", (Executable) () -> set.claimRange(1, new long[1])),
        Arguments.of(
            "rangeset_consume_ranges", (Executable) () -> set.consumeRanges((s, e, c) -> 0)),
        Arguments.of("rangeset_merge", (Executable) () -> set.merge(other)),
        Arguments.of("rangeset_subtract", (Executable) () -> set.subtract(other)),
        Arguments.of("rangeset_limit", (Executable) () -> set.setLimit(1)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("functionsAddedAfter2010")
  void shouldNotOfferFunctionsAddedAfter2010(String xenFunction, Executable call) {
    UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, call);
    assertTrue(e.getMessage().contains(xenFunction), e::getMessage);
    assertTrue(e.getMessage().contains("later"), e::getMessage);
  }

  @Test
  void shouldPurgeAndKeepWorkingIn2010() {
    XenListRangeSet set = new XenListRangeSet("old", 0, XEN_2010);
    set.addRange(0, 1);
    set.addRange(4, 5);
    set.purge();
    assertTrue(set.isEmpty());
    assertEquals(0, set.rangeCount());
    assertEquals(0, set.addRange(3, 3));
    assertArrayEquals(new long[] {3, 3}, set.listRanges());
  }

  @Test
  void shouldRejectInvertedRangeInEveryVariant() {
    for (Variant variant : ALL) {
      XenListRangeSet set = new XenListRangeSet("inv", 0, variant);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> set.removeRange(0x10, 0x5));
      assertTrue(e.getMessage().contains("0x10") && e.getMessage().contains("0x5"));
    }
  }
}
