package org.hvmmu.host;

import static java.time.Duration.ofSeconds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reverse map's contract from its Javadoc, checked by hand-built cases: {@code contains} and
 * {@code replace} record by record (frame 0 and the first node allocated are the edge cases: the
 * hash of 0 is 0, bucket 0), a removal in the middle of a chain, and the cost claims: "a frame
 * whose last record goes leaves the table", "adding and removing allocate nothing once the arrays
 * have grown to the working size" (measured with the JDK's per-thread allocation counter), and a
 * hash that spreads frames differing only in their high bits (every unsigned 64-bit frame is a
 * key).
 */
class ProtMutReverseMapTest {
  private static final MappingKind PV = MappingKind.PV_L1;

  /**
   * The bytes this thread has allocated ({@code com.sun.management.ThreadMXBean}, reached
   * reflectively: the module does not read {@code jdk.management}). Called often enough first that
   * reflection's own set-up is done before a measurement.
   */
  private static long allocated() {
    try {
      Object bean = Class.forName("java.lang.management.ManagementFactory")
          .getMethod("getThreadMXBean").invoke(null);
      Method m = Class.forName("com.sun.management.ThreadMXBean")
          .getMethod("getCurrentThreadAllocatedBytes");
      long v = 0;
      for (int i = 0; i < 40; i++) {
        v = (Long) m.invoke(bean);
      }
      return v;
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  private static List<String> visit(ReverseMap m, long first, long last) {
    List<String> seen = new ArrayList<>();
    m.forEach(first, last, (mfn, domain, kind, where, slot) -> {
      seen.add(mfn + "/" + domain + "/" + kind + "/" + where + "/" + slot);
      return true;
    });
    seen.sort(null);
    return seen;
  }

  @Test
  void containsShouldFindExactlyTheRecordsThere() {
    ReverseMap m = new ReverseMap();
    assertFalse(m.contains(0, 1, PV, 2, 3), "empty");
    m.add(0, 1, PV, 2, 3); // frame 0 hashes to bucket 0; the record is node 0
    assertTrue(m.contains(0, 1, PV, 2, 3));
    assertFalse(m.contains(0, 1, PV, 2, 4), "another slot");
    assertFalse(m.contains(0, 2, PV, 2, 3), "another domain");
    assertFalse(m.contains(0, 1, MappingKind.SHADOW_L1, 2, 3), "another kind");
    assertFalse(m.contains(0, 1, PV, 5, 3), "another table");
    assertFalse(m.contains(1, 1, PV, 2, 3), "another frame");
    assertFalse(m.contains(-1, 1, PV, 2, 3), "frame ~0");
    m.add(-1, 7, MappingKind.P2M_LEAF, 8, 9);
    assertTrue(m.contains(-1, 7, MappingKind.P2M_LEAF, 8, 9));
    assertTrue(m.remove(0, 1, PV, 2, 3));
    assertFalse(m.contains(0, 1, PV, 2, 3));
    assertEquals(1, m.size());
  }

  @Test
  void replacingAFrameWithItselfChangesNothing() {
    ReverseMap m = new ReverseMap();
    m.replace(5, 5, 1, PV, 0x100, 7); // neither side: no record appears
    assertEquals(0, m.size());
    assertFalse(m.contains(5, 1, PV, 0x100, 7));
    m.replace(-1, 5, 1, PV, 0x100, 7);
    m.replace(5, 6, 1, PV, 0x100, 7);
    assertEquals(List.of("6/1/PV_L1/256/7"), visit(m, 0, 10));
    m.replace(6, -1, 1, PV, 0x100, 7);
    assertEquals(0, m.size());
  }

  @Test
  void removingARecordBehindTheFirstNodeKeepsTheChain() {
    ReverseMap m = new ReverseMap();
    m.add(100, 1, PV, 0, 0); // node 0
    m.add(200, 2, PV, 0, 0); // node 1
    assertTrue(m.remove(100, 1, PV, 0, 0)); // node 0 goes to the free list
    m.add(200, 3, PV, 0, 0); // node 0 again, now heading frame 200's chain: 0 -> 1
    // Removing node 1 links node 0 past it: its predecessor is node 0, not the head pointer.
    assertTrue(m.remove(200, 2, PV, 0, 0));
    assertEquals(List.of("200/3/PV_L1/0/0"), visit(m, 0, 1000));
    assertTrue(m.contains(200, 3, PV, 0, 0));
    assertEquals(1, m.size());
  }

  @Test
  void churnOfDistinctFramesShouldAllocateNothing() {
    ReverseMap m = new ReverseMap();
    for (long f = 0; f < 20_000; f++) { // warm up
      m.add(f, 1, PV, 0, 0);
      m.remove(f, 1, PV, 0, 0);
      m.remove(f + 1_000_000, 1, PV, 0, 0); // absent: nothing is created
    }
    long before = allocated();
    for (long f = 0; f < 400_000; f++) {
      m.add(f, 1, PV, 0, 0);
      m.remove(f, 1, PV, 0, 0);
      m.remove(f + 1_000_000, 1, PV, 0, 0);
    }
    long used = allocated() - before;
    assertTrue(used < 64 * 1024, "allocated " + used + " bytes");
    assertEquals(0, m.size());
  }

  @Test
  void aFreedFirstNodeShouldBeReusedBeforeTheArraysGrow() {
    ReverseMap m = new ReverseMap();
    for (int d = 0; d < 4096; d++) { // nodes 0 to 4095: the node arrays are exactly full
      m.add(7, d, PV, 0, 0);
    }
    assertTrue(m.remove(7, 0, PV, 0, 0)); // node 0 is free, the head of the free list
    long before = allocated();
    m.add(7, 100_000, PV, 0, 0); // takes node 0
    long used = allocated() - before;
    assertTrue(used < 16 * 1024, "allocated " + used + " bytes");
    assertEquals(4096, m.size());
    assertTrue(m.contains(7, 100_000, PV, 0, 0));
  }

  @Test
  void framesThatDifferOnlyInTheirHighBitsShouldSpread() {
    ReverseMap m = new ReverseMap();
    // 200,000 frames i << 40: with a hash of the low bits only they would share one probe run,
    // and adding them would cost 2 * 10^10 probes.
    assertTimeoutPreemptively(ofSeconds(5), () -> {
      for (long i = 0; i < 200_000; i++) {
        m.add(i << 40, 1, PV, 0, 0);
      }
    });
    assertEquals(200_000, m.size());
    assertTrue(m.contains(199_999L << 40, 1, PV, 0, 0));
  }
}
