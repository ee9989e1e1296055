package org.hvmmu.rangeset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * One writer mutates while several readers query without locks. Stable values must never read absent,
 * untouched values never present, and a marker range published after {@code addRange} returned must be
 * seen by every reader that learns of it.
 */
class IntervalTreeRangeSetConcurrencyTest {
  private static final int BLOCKS = 2_000;
  private static final long BLOCK = 1_000;
  private static final long MARKER_BASE = 0x7FFF_FFFF_0000_0000L;
  private static final int WRITES = 150_000;
  private static final int READERS = 3;

  /** Block k: [k*1000, k*1000+9] stable, [k*1000+10, +29] and [+500, +509] churn, [+700, +799] never. */
  private static long stable(int k, int i) {
    return k * BLOCK + i;
  }

  @Test
  void shouldNeverLoseStableValuesWhileAWriterMutates() {
    Assertions.assertTimeoutPreemptively(Duration.ofSeconds(120), this::run);
  }

  private void run() throws InterruptedException {
    IntervalTreeRangeSet set = new IntervalTreeRangeSet("concurrent", RangeSet.PRETTYPRINT_HEX);
    for (int k = 0; k < BLOCKS; k++) {
      assertEquals(0, set.addRange(stable(k, 0), stable(k, 9)));
    }
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong published = new AtomicLong(-1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicLong reads = new AtomicLong();
    List<Thread> readers = new ArrayList<>();
    for (int r = 0; r < READERS; r++) {
      long seed = 31L * r + 7;
      Thread reader =
          new Thread(
              () -> {
                SplittableRandom random = new SplittableRandom(seed);
                long n = 0;
                try {
                  while (!done.get()) {
                    int k = random.nextInt(BLOCKS);
                    long v = stable(k, random.nextInt(10));
                    if (!set.containsSingleton(v)) {
                      throw new AssertionError("stable value " + v + " read as absent");
                    }
                    if (!set.containsRange(stable(k, 0), stable(k, 9))) {
                      throw new AssertionError("stable range of block " + k + " not contained");
                    }
                    long never = stable(k, 700 + random.nextInt(100));
                    if (set.containsSingleton(never) || set.overlapsRange(never, never + 5)) {
                      throw new AssertionError("untouched value " + never + " read as present");
                    }
                    long marker = published.get();
                    if (marker >= 0 && !set.containsSingleton(MARKER_BASE + 2 * marker)) {
                      throw new AssertionError("marker " + marker + " published but not seen");
                    }
                    n++;
                  }
                } catch (Throwable t) {
                  failure.compareAndSet(null, t);
                } finally {
                  reads.addAndGet(n);
                }
              },
              "reader-" + r);
      reader.start();
      readers.add(reader);
    }
    SplittableRandom random = new SplittableRandom(42);
    try {
      for (int i = 0; i < WRITES && failure.get() == null; i++) {
        int k = random.nextInt(BLOCKS);
        switch (i % 4) {
          case 0: // merge with the stable range, then split it off again
            assertEquals(0, set.addRange(stable(k, 10), stable(k, 29)));
            assertEquals(0, set.removeRange(stable(k, 10), stable(k, 29)));
            break;
          case 1: // a range in the gap
            assertEquals(0, set.addRange(stable(k, 500), stable(k, 509)));
            break;
          case 2:
            assertEquals(0, set.removeRange(stable(k, 500), stable(k, 509)));
            break;
          default: // a permanent marker, then tell the readers
            long marker = i / 4;
            assertEquals(0, set.addSingleton(MARKER_BASE + 2 * marker));
            published.set(marker);
            break;
        }
      }
    } finally {
      done.set(true);
      for (Thread reader : readers) {
        reader.join();
      }
    }
    assertNull(failure.get(), () -> "reader failed: " + failure.get());
    assertTrue(reads.get() > 0, "readers ran");
    assertTrue(set.checkInvariants());
    for (int k = 0; k < BLOCKS; k++) {
      assertTrue(set.containsRange(stable(k, 0), stable(k, 9)));
    }
  }
}
