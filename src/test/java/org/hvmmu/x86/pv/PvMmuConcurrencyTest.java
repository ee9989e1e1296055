package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.hvmmu.x86.Pte;
import org.junit.jupiter.api.Test;

/**
 * vCPUs of one domain update their own L1 tables at the same time, mapping a shared pool of frames
 * read-only and writable, and MMIO: the compare-and-swap counts must still balance exactly.
 */
class PvMmuConcurrencyTest {
  @Test
  void countsShouldBalanceAfterConcurrentUpdates() throws InterruptedException {
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    int threads = 4;
    for (int t = 0; t < threads; t++) {
      assertEquals(0, f.mmu.pinL1Table(f.domU, 0x110 + t));
    }
    CountDownLatch start = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      long table = 0x110 + t;
      long seed = 0x5EED + t;
      Thread worker = new Thread(() -> {
        SplittableRandom r = new SplittableRandom(seed);
        try {
          start.await();
          for (int i = 0; i < 20_000; i++) {
            long mfn = r.nextInt(5) == 0 ? PvFixture.RO_ABOVE + r.nextInt(4) : 0x130 + r.nextInt(8);
            int flags = PAGE_PRESENT | PAGE_USER | (r.nextBoolean() ? PAGE_RW : 0);
            long entry = r.nextInt(8) == 0 ? 0 : Pte.fromMfn(mfn, flags);
            f.mmu.modL1Entry(f.domU, table, r.nextInt(16), entry, f.domU);
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      });
      workers.add(worker);
      worker.start();
    }
    start.countDown();
    for (Thread worker : workers) {
      worker.join();
    }
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
    assertEquals(List.of(), f.mmu.countViolations());
    assertEquals(f.liveEntries(), f.reported, "every change was reported, in order per slot");
    for (int t = 0; t < threads; t++) {
      assertEquals(0, f.mmu.unpinTable(f.domU, 0x110 + t));
    }
    assertEquals(List.of(), f.mmu.countViolations());
    for (long mfn = 0x130; mfn < 0x138; mfn++) {
      assertEquals(1, f.frames.generalCount(mfn), "only the allocation reference is left");
      assertEquals(0, f.frames.typeCount(mfn));
    }
  }

  @Test
  void sharedLowerTablesShouldBalanceWhenL2EntriesRaceOnThem() throws InterruptedException {
    // Four vCPUs hook a shared pool of L1 tables (each mapping one data frame writable) into their
    // own L2 tables and unhook them: validations, waits on another vCPU's validation, and releases
    // of the last reference race on the same frames.
    PvFixture f = new PvFixture(PvSwitches.HARDENED);
    int threads = 4;
    for (long l1 = 0x140; l1 < 0x148; l1++) {
      f.mmu.writeGuestEntry(f.domU, l1, 1, Pte.fromMfn(l1 + 0x10, PAGE_PRESENT | PAGE_RW));
    }
    for (int t = 0; t < threads; t++) {
      assertEquals(0, f.mmu.pinTable(f.domU, 0x120 + t, PageType.L2_PAGE_TABLE));
    }
    CountDownLatch start = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      long table = 0x120 + t;
      long seed = 0x5EED_0100 + t;
      Thread worker = new Thread(() -> {
        SplittableRandom r = new SplittableRandom(seed);
        try {
          start.await();
          for (int i = 0; i < 20_000; i++) {
            long l1 = 0x140 + r.nextInt(8);
            long entry = r.nextInt(3) == 0 ? 0 : Pte.fromMfn(l1, PAGE_PRESENT | PAGE_RW | PAGE_USER);
            int rc = f.mmu.modL2Entry(f.domU, table, r.nextInt(4), entry);
            if (rc != 0) {
              throw new AssertionError("mod_l2_entry: " + rc);
            }
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      });
      workers.add(worker);
      worker.start();
    }
    start.countDown();
    for (Thread worker : workers) {
      worker.join();
    }
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
    assertEquals(List.of(), f.mmu.countViolations());
    for (int t = 0; t < threads; t++) {
      assertEquals(0, f.mmu.unpinTable(f.domU, 0x120 + t));
    }
    assertEquals(List.of(), f.mmu.countViolations());
    for (long mfn = 0x140; mfn < 0x158; mfn++) {
      assertEquals(1, f.frames.generalCount(mfn), "only the allocation reference is left");
      assertEquals(0, f.frames.typeCount(mfn));
    }
  }
}
