package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * Accessed and dirty flags under threads: three vCPUs (one per thread, two without TLBs so that
 * every access walks) translate while a fourth thread keeps replacing leaf entries with entries for
 * new frames. Every replacement is a compare-and-set, so the value each entry held last is known
 * exactly. Each frame identifies one generation of one entry, so a translation says which entry
 * value it used.
 *
 * <p>Then: no flag is lost (every generation a read returned has A, every one a write returned has
 * D), and none is set on an entry no walk used (A only on generations some translation returned, D
 * only on ones a write returned).
 */
class AccessedDirtyConcurrencyTest {
  private static final int ENTRIES = 64;
  private static final int GENERATIONS = 4096;
  private static final long ROOT = 0x1000;
  private static final long PT = 0x4000;
  private static final long FRAME_BASE = 0x100_0000L;

  private static long frame(int entry, int generation) {
    return FRAME_BASE + (((long) entry * GENERATIONS + generation) << 12);
  }

  private static long la(int entry) {
    return ((long) entry) << 12;
  }

  @Test
  void shouldNeitherLoseNorInventAccessedOrDirtyFlags() throws Exception {
    PhysicalMemory memory = new PhysicalMemory(46);
    memory.addRam(0, 0xFFFF);
    memory.write(ROOT, 8, 0x2000 | 0x27);
    memory.write(0x2000, 8, 0x3000 | 0x27);
    memory.write(0x3000, 8, PT | 0x27);
    for (int e = 0; e < ENTRIES; e++) {
      memory.write(PT + 8L * e, 8, frame(e, 0) | 0x7);
    }
    int vcpus = 3;
    int iterations = 60_000;
    BitSet[] usedRead = new BitSet[ENTRIES];
    BitSet[] usedWrite = new BitSet[ENTRIES];
    for (int e = 0; e < ENTRIES; e++) {
      usedRead[e] = new BitSet();
      usedWrite[e] = new BitSet();
    }
    long[][] seen = new long[vcpus][iterations];
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < vcpus; t++) {
      final int id = t;
      TlbConfig tlbs = t == 0 ? TlbConfig.goldenCove() : TlbConfig.none();
      Vcpu v = new Vcpu(memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT, tlbs,
          LatencyModel.GOLDEN_COVE);
      assertEquals(0, v.loadState(0x8001_0011L, ROOT, 0x20, 0xD00));
      threads.add(new Thread(() -> {
        try {
          start.await();
          SplittableRandom r = new SplittableRandom(id);
          for (int i = 0; i < iterations; i++) {
            int e = r.nextInt(ENTRIES);
            boolean write = r.nextInt(3) == 0;
            long pa = v.translate(la(e) + 8, write ? Access.WRITE : Access.READ);
            if (Fault.isFault(pa)) {
              throw new AssertionError("fault " + Fault.describe(pa));
            }
            seen[id][i] = (pa & ~0xFFFL) | (write ? 1 : 0) | ((long) e << 1);
          }
        } catch (Throwable x) {
          failure.compareAndSet(null, x);
        }
      }));
    }
    // The writer: replace random entries with the next generation, each by compare-and-set.
    long[] replaced = new long[ENTRIES * GENERATIONS];
    int[] nextGeneration = new int[ENTRIES];
    int[] replacedCount = new int[1];
    Thread writer = new Thread(() -> {
      try {
        start.await();
        SplittableRandom r = new SplittableRandom(99);
        for (int i = 0; i < 40_000; i++) {
          int e = r.nextInt(ENTRIES);
          if (nextGeneration[e] + 1 >= GENERATIONS) {
            continue;
          }
          int g = ++nextGeneration[e];
          long pa = PT + 8L * e;
          long old;
          do {
            old = memory.read(pa, 8);
          } while (!memory.compareAndSet(pa, 8, old, frame(e, g) | 0x7));
          replaced[replacedCount[0]++] = old;
        }
      } catch (Throwable x) {
        failure.compareAndSet(null, x);
      }
    });
    threads.add(writer);
    for (Thread t : threads) {
      t.start();
    }
    start.countDown();
    for (Thread t : threads) {
      t.join();
    }
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
    for (long[] s : seen) {
      for (long x : s) {
        int e = (int) ((x >>> 1) & 0x3F);
        int g = generationOf(x & ~0xFFFL, e);
        ((x & 1) != 0 ? usedWrite : usedRead)[e].set(g);
      }
    }
    // Every generation's last value: the replaced ones, then the current ones.
    List<long[]> finals = new ArrayList<>();
    for (int i = 0; i < replacedCount[0]; i++) {
      finals.add(new long[] {replaced[i]});
    }
    for (int e = 0; e < ENTRIES; e++) {
      finals.add(new long[] {memory.read(PT + 8L * e, 8)});
    }
    int checked = 0;
    for (long[] f : finals) {
      long value = f[0];
      long frameAddress = value & 0xF_FFFF_FFFF_F000L;
      int e = (int) (((frameAddress - FRAME_BASE) >>> 12) / GENERATIONS);
      int g = generationOf(frameAddress, e);
      boolean a = (value & 0x20) != 0;
      boolean d = (value & 0x40) != 0;
      boolean read = usedRead[e].get(g);
      boolean written = usedWrite[e].get(g);
      String where = "entry " + e + " generation " + g + " value 0x" + Long.toHexString(value);
      if (read || written) {
        assertTrue(a, "A lost: " + where);
      }
      if (written) {
        assertTrue(d, "D lost: " + where);
      }
      if (a) {
        assertTrue(read || written, "A set on a value no walk used: " + where);
      }
      if (d) {
        assertTrue(written, "D set on a value no write used: " + where);
      }
      checked++;
    }
    assertTrue(checked > 10_000, "checked " + checked);
  }

  private static int generationOf(long frameAddress, int entry) {
    return (int) (((frameAddress - FRAME_BASE) >>> 12) - (long) entry * GENERATIONS);
  }
}
