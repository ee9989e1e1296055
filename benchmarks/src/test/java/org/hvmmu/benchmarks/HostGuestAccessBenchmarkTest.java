package org.hvmmu.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Pins what the host guest-access benchmarks compute and how. */
class HostGuestAccessBenchmarkTest {
  @Test
  void shouldReadEveryPagesValueOnEveryPath() {
    HostGuestAccessBenchmark b = new HostGuestAccessBenchmark();
    b.setup();
    long expected = (long) HostGuestAccessBenchmark.PAGES * (HostGuestAccessBenchmark.PAGES + 1)
        / 2;
    assertEquals(expected, b.bareMmuRead());
    long walks = b.eptHit.cpu().counters().walks();
    assertEquals(expected, b.eptReadHit());
    assertEquals(walks, b.eptHit.cpu().counters().walks(), "every load hit");
    assertEquals(expected, b.eptReadTwoDimensionalMiss());
    assertEquals(24, b.eptCold.cpu().lastWalkReferences());
    assertEquals(0, b.eptCold.lastFault());
  }
}
