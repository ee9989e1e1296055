package org.hvmmu.pci.msix.regs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.hvmmu.mmu.memory.MmioHandler;
import org.junit.jupiter.api.Test;

/**
 * vCPU threads and the device at once: one thread fires vector 0 while another masks and unmasks
 * it through table stores. No message is sent while the vector is masked, none is lost (every
 * PENDING is sent by a later unmask, at most one per unmask), and none is duplicated.
 */
class MsixRegistersConcurrencyTest {
  private static final long TABLE = 0x1000;
  private static final int ROUNDS = 20_000;

  @Test
  void firesAndMaskTogglesFromTwoThreads() throws InterruptedException {
    AtomicInteger messages = new AtomicInteger();
    AtomicReference<String> problem = new AtomicReference<>();
    MsixRegisters[] self = new MsixRegisters[1];
    MmioHandler none = new MmioHandler() {
      @Override
      public long read(long pa, int size) {
        return 0;
      }

      @Override
      public void write(long pa, int size, long value) {}
    };
    MsixRegisters r = new MsixRegisters(0x100, 1, TABLE, 0x1800, MsixAccessPolicy.PCI_SPEC,
        (bdf, entry, address, data, interrupt) -> {
          if (self[0].isMasked(entry)) {
            problem.compareAndSet(null, "a message while masked");
          }
          messages.incrementAndGet();
        }, none);
    self[0] = r;
    r.write(TABLE, 4, 0xfee00000L);
    r.write(TABLE + 8, 4, 0x41);
    r.writeMessageControl(MsixRegisters.CONTROL_ENABLE);
    int[] delivered = new int[1];
    int[] pending = new int[1];
    int[] unmasks = new int[1];
    CountDownLatch start = new CountDownLatch(1);
    Thread device = new Thread(() -> {
      await(start);
      for (int i = 0; i < ROUNDS; i++) {
        MsixFireResult f = r.fire(0);
        if (f == MsixFireResult.DELIVERED) {
          delivered[0]++;
        } else if (f == MsixFireResult.PENDING) {
          pending[0]++;
        }
      }
    });
    Thread vcpu = new Thread(() -> {
      await(start);
      for (int i = 0; i < ROUNDS; i++) {
        r.write(TABLE + 12, 4, 1);
        r.write(TABLE + 12, 4, 0);
        unmasks[0]++;
      }
    });
    device.start();
    vcpu.start();
    start.countDown();
    device.join(60_000);
    vcpu.join(60_000);
    assertFalse(device.isAlive() || vcpu.isAlive(), "threads finished");
    assertEquals(null, problem.get());
    assertFalse(r.isMasked(0));
    assertFalse(r.isPending(0), "the last unmask sent what was pending");
    assertEquals(ROUNDS, delivered[0] + pending[0], "every fire delivered or pending");
    int fromUnmask = messages.get() - delivered[0];
    assertTrue(fromUnmask >= (pending[0] > 0 ? 1 : 0) && fromUnmask <= pending[0],
        "sent at unmask: " + fromUnmask + ", pending fires: " + pending[0]);
    assertTrue(fromUnmask <= unmasks[0]);
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
