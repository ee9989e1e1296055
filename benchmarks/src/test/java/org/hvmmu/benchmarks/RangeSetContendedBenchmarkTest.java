package org.hvmmu.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pins the contended benchmark's answers, and checks its premise: reads stay right during writes.
 */
class RangeSetContendedBenchmarkTest {
  private static RangeSetContendedBenchmark benchmark(int n) {
    RangeSetContendedBenchmark benchmark = new RangeSetContendedBenchmark();
    benchmark.n = n;
    benchmark.setup();
    return benchmark;
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 1024, 65536})
  void shouldAnswerEachQueryInOrderBetweenWrites(int n) {
    RangeWorkload w = RangeWorkload.of(n);
    RangeSetContendedBenchmark b = benchmark(n);
    RangeSetContendedBenchmark.ReadCursor reader = new RangeSetContendedBenchmark.ReadCursor();
    RangeSetContendedBenchmark.ReadCursor contendedReader =
        new RangeSetContendedBenchmark.ReadCursor();
    RangeSetContendedBenchmark.WriteCursor writer = new RangeSetContendedBenchmark.WriteCursor();
    for (int round = 0; round < 2; round++) {
      int hits = 0;
      for (int i = 0; i < RangeWorkload.QUERIES; i++) {
        assertEquals(w.expected[i], b.uncontendedRead(reader), "query " + i);
        assertEquals(0, b.write(writer));
        boolean hit = b.read(contendedReader);
        assertEquals(w.expected[i], hit, "query " + i);
        hits += hit ? 1 : 0;
      }
      assertEquals(w.expectedHits, hits, "the cursor wraps after every query");
    }
    assertEquals(n, b.intervalTree.rangeCount());
  }

  @Test
  void shouldKeepEveryHitWhileAWriterAddsAndRemovesFreshRanges() throws InterruptedException {
    // The writer touches gaps only, so a query inside a range must hit whatever the writer is
    // doing; a
    // query in a gap may briefly hit. Bounded by a write count, not by time.
    RangeWorkload w = RangeWorkload.of(1024);
    RangeSetContendedBenchmark b = benchmark(1024);
    AtomicBoolean done = new AtomicBoolean();
    int[] writeErrors = new int[1];
    Thread writer =
        new Thread(
            () -> {
              RangeSetContendedBenchmark.WriteCursor cursor =
                  new RangeSetContendedBenchmark.WriteCursor();
              for (int i = 0; i < 200_000; i++) {
                writeErrors[0] |= b.write(cursor);
              }
              done.set(true);
            },
            "contended-writer");
    writer.start();
    RangeSetContendedBenchmark.ReadCursor reader = new RangeSetContendedBenchmark.ReadCursor();
    long lookups = 0;
    while (!done.get() || lookups < RangeWorkload.QUERIES) {
      int i = reader.next & RangeWorkload.QUERY_MASK;
      boolean hit = b.read(reader);
      if (w.expected[i]) {
        assertTrue(hit, "lost hit during a write");
      }
      lookups++;
    }
    writer.join();
    assertEquals(0, writeErrors[0]);
    assertEquals(1024, b.intervalTree.rangeCount());
  }
}
