package org.hvmmu.benchmarks;

import java.util.SplittableRandom;

/**
 * The seeded workload every range-set benchmark shares: {@code n} disjoint inclusive ranges {@code
 * [s, e]} of page frame numbers, a shuffled query array with half hits, and fresh ranges for add +
 * remove.
 *
 * <p>The ranges start at {@link #BASE}; each is 1 to {@link #MAX_RANGE_PAGES} pages long and is
 * followed by a gap of 1 to {@link #MAX_GAP_PAGES} free pages, so no two ranges touch and no set
 * merges them. With at most 65536 ranges every value stays below {@code 2^27}: far below {@code
 * 2^31}, so the 32-bit RoaringBitmap holds them, and below {@code 2^62}, so the baselines may
 * compare with signed arithmetic.
 *
 * <p>Queries: {@link #QUERIES} values, exactly half a random page of a random range (hits) and half
 * a random page of a random gap (misses), all inside {@code [starts[0], ends[n - 1]]}, shuffled
 * with the same seeded generator. {@link #expected} holds each answer.
 *
 * <p>Fresh ranges: {@link #FRESH_RANGES} ranges, each 1 to 4 pages inside a gap and at least one
 * page away from both neighbours, so adding one creates a new range and removing it restores the
 * set exactly.
 *
 * <p>Instances are immutable after construction; the arrays are shared, and callers must not modify
 * them.
 */
public final class RangeWorkload {
  /** The seed of every benchmark run. */
  public static final long SEED = 0x5EEDL;

  /** The first range's start: 4 GiB of 4 KiB pages, a typical MMIO hole base. */
  public static final long BASE = 0x10_0000L;

  /** Longest range, in pages. */
  public static final int MAX_RANGE_PAGES = 4;

  /** Widest gap between two ranges, in pages; the narrowest is 1. */
  public static final int MAX_GAP_PAGES = 1000;

  /** Queries per workload: a power of two, so that {@code i & QUERY_MASK} cycles through them. */
  public static final int QUERIES = 4096;

  /** Mask of an index into {@link #queries}. */
  public static final int QUERY_MASK = QUERIES - 1;

  /** Pages covered by the window that the report benchmark visits from each query. */
  public static final int REPORT_WINDOW = 8;

  /** Fresh ranges per workload: a power of two, cycled with {@link #FRESH_MASK}. */
  public static final int FRESH_RANGES = 1024;

  /** Mask of an index into {@link #freshStarts}. */
  public static final int FRESH_MASK = FRESH_RANGES - 1;

  /** Number of ranges. */
  final int n;

  /** Range starts, ascending. */
  final long[] starts;

  /** Range ends (inclusive), ascending; {@code ends[i] + 1 < starts[i + 1]}. */
  final long[] ends;

  /** Query values in shuffled order. */
  final long[] queries;

  /** Whether {@code queries[i]} lies in some range. */
  final boolean[] expected;

  /** How many queries hit: {@code QUERIES / 2}. */
  final int expectedHits;

  /** Starts of the fresh ranges. */
  final long[] freshStarts;

  /** Ends (inclusive) of the fresh ranges. */
  final long[] freshEnds;

  /**
   * Generates the workload of {@code n} ranges from {@link #SEED}.
   *
   * @param n number of ranges, at least 2 (misses need a gap)
   * @return the workload
   */
  public static RangeWorkload of(int n) {
    return new RangeWorkload(n, SEED);
  }

  /**
   * Generates a workload.
   *
   * @param n number of ranges, at least 2 (misses need a gap)
   * @param seed the generator's seed
   * @throws IllegalArgumentException if {@code n < 2}
   */
  public RangeWorkload(int n, long seed) {
    if (n < 2) {
      throw new IllegalArgumentException("range count: " + n + " (expected: >= 2)");
    }
    SplittableRandom random = new SplittableRandom(seed);
    this.n = n;
    starts = new long[n];
    ends = new long[n];
    long next = BASE;
    for (int i = 0; i < n; i++) {
      starts[i] = next;
      ends[i] = next + random.nextInt(MAX_RANGE_PAGES);
      next = ends[i] + 1 + 1 + random.nextInt(MAX_GAP_PAGES);
    }

    queries = new long[QUERIES];
    expected = new boolean[QUERIES];
    for (int q = 0; q < QUERIES; q++) {
      boolean hit = q < QUERIES / 2;
      if (hit) {
        int i = random.nextInt(n);
        queries[q] = starts[i] + random.nextLong(ends[i] - starts[i] + 1);
      } else {
        int gap = random.nextInt(n - 1);
        queries[q] = ends[gap] + 1 + random.nextLong(starts[gap + 1] - ends[gap] - 1);
      }
      expected[q] = hit;
    }
    for (int q = QUERIES - 1; q > 0; q--) {
      int other = random.nextInt(q + 1);
      long value = queries[q];
      queries[q] = queries[other];
      queries[other] = value;
      boolean answer = expected[q];
      expected[q] = expected[other];
      expected[other] = answer;
    }
    expectedHits = QUERIES / 2;

    freshStarts = new long[FRESH_RANGES];
    freshEnds = new long[FRESH_RANGES];
    for (int f = 0; f < FRESH_RANGES; ) {
      int gap = random.nextInt(n - 1);
      long first = ends[gap] + 2;
      long last = starts[gap + 1] - 2;
      if (first > last) {
        continue; // a gap of 1 or 2 pages has no room for a non-adjacent range
      }
      long s = first + random.nextLong(last - first + 1);
      freshStarts[f] = s;
      freshEnds[f] = Math.min(s + random.nextInt(MAX_RANGE_PAGES), last);
      f++;
    }
  }

  /**
   * The number of ranges.
   *
   * @return {@code n}
   */
  public int size() {
    return n;
  }
}
