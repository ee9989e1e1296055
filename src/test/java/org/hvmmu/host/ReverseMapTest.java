package org.hvmmu.host;

import static java.time.Duration.ofSeconds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The reverse map against an independent model (a tree map in unsigned frame order): every unsigned
 * 64-bit frame is a key, and a range visit costs the mappings, not the range.
 */
class ReverseMapTest {
  private static final long[] EDGES = {0, 1, 2, -2, -1, (1L << 34) - 1, 1L << 34,
      (1L << 36) - 1, 1L << 36, Long.MAX_VALUE, Long.MIN_VALUE};

  private static long frame(Random r) {
    return switch (r.nextInt(3)) {
      case 0 -> EDGES[r.nextInt(EDGES.length)];
      case 1 -> r.nextInt(64); // collisions in one small neighbourhood
      default -> r.nextLong();
    };
  }

  /** Records of frames [first, last], in frame order, as "mfn/domain/where/slot". */
  private static List<String> visit(ReverseMap m, long first, long last) {
    List<String> seen = new ArrayList<>();
    m.forEach(first, last, (mfn, domain, kind, where, slot) -> {
      seen.add(Long.toHexString(mfn) + "/" + domain + "/" + where + "/" + slot);
      return true;
    });
    seen.sort(null); // records of one frame in any order
    return seen;
  }

  private static List<String> model(TreeMap<Long, List<int[]>> model, long first, long last) {
    List<String> seen = new ArrayList<>();
    if (Long.compareUnsigned(first, last) <= 0) {
      model.subMap(first, true, last, true).forEach((mfn, recs) -> {
        for (int[] rec : recs) {
          seen.add(Long.toHexString(mfn) + "/" + rec[0] + "/" + rec[1] + "/" + rec[2]);
        }
      });
    }
    seen.sort(null);
    return seen;
  }

  @Test
  void shouldAgreeWithTheModelForEveryFrameIncludingAllOnes() {
    Random r = new Random(15);
    for (int round = 0; round < 40; round++) {
      ReverseMap m = new ReverseMap();
      TreeMap<Long, List<int[]>> model = new TreeMap<>(Long::compareUnsigned);
      for (int op = 0; op < 400; op++) {
        long mfn = frame(r);
        int domain = r.nextInt(3);
        int where = r.nextInt(2);
        int slot = r.nextInt(2);
        List<int[]> recs = model.computeIfAbsent(mfn, k -> new ArrayList<>());
        boolean present = recs.stream()
            .anyMatch(x -> x[0] == domain && x[1] == where && x[2] == slot);
        if (r.nextInt(3) == 0) {
          boolean removed = m.remove(mfn, domain, MappingKind.PV_L1, where, slot);
          assertEquals(present, removed, "remove of frame 0x" + Long.toHexString(mfn));
          recs.removeIf(x -> x[0] == domain && x[1] == where && x[2] == slot);
        } else {
          m.add(mfn, domain, MappingKind.PV_L1, where, slot);
          if (!present) {
            recs.add(new int[] {domain, where, slot});
          }
        }
        if (recs.isEmpty()) {
          model.remove(mfn);
        }
        int size = model.values().stream().mapToInt(List::size).sum();
        assertEquals(size, m.size());
        long a = frame(r);
        long b = r.nextBoolean() ? frame(r) : a + r.nextInt(100);
        long first = Long.compareUnsigned(a, b) <= 0 ? a : b;
        long last = first == a ? b : a;
        assertEquals(model(model, first, last), visit(m, first, last),
            "frames 0x" + Long.toHexString(first) + "-0x" + Long.toHexString(last));
      }
      assertEquals(model(model, 0, -1), visit(m, 0, -1));
      assertEquals(model(model, -1, -1), visit(m, -1, -1));
    }
  }

  @Test
  void anEmptyRangeShouldVisitNothing() {
    ReverseMap m = new ReverseMap();
    m.add(5, 1, MappingKind.P2M_LEAF, 5, 0);
    assertEquals(List.of(), visit(m, 6, 4));
    assertEquals(List.of("5/1/5/0"), visit(m, 5, 5));
  }

  /** D2: a visit of every frame probed each one; it must cost the mappings. */
  @Test
  void hugeRangesShouldCostTheMappingsNotTheRange() {
    ReverseMap m = new ReverseMap();
    m.add(-1, 1, MappingKind.P2M_LEAF, -1, 0);
    m.add(0, 1, MappingKind.P2M_LEAF, 0, 0);
    m.add(0xfec00, 2, MappingKind.PV_L1, 0x100, 3);
    List<String> all = assertTimeoutPreemptively(ofSeconds(5), () -> visit(m, 0, -1));
    assertEquals(List.of("0/1/0/0", "fec00/2/256/3", "ffffffffffffffff/1/-1/0"), all);
    assertEquals(List.of("fec00/2/256/3"),
        assertTimeoutPreemptively(ofSeconds(5), () -> visit(m, 1, -2)));
  }

  /** The visit is in frame order, as a probe of the range gives it, however it is done. */
  @Test
  void shouldVisitInUnsignedFrameOrder() {
    ReverseMap m = new ReverseMap();
    long[] frames = {-1, 7, Long.MIN_VALUE, 0, 1L << 34};
    for (long f : frames) {
      m.add(f, 1, MappingKind.PV_L1, 0, 0);
    }
    List<Long> order = new ArrayList<>();
    m.forEach(0, -1, (mfn, domain, kind, where, slot) -> order.add(mfn));
    assertEquals(List.of(0L, 7L, 1L << 34, Long.MIN_VALUE, -1L), order);
  }
}
