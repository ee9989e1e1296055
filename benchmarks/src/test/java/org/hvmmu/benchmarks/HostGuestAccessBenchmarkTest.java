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
    assertEquals(expected, b.pvBareMmuRead());
    walks = b.pvHit.cpu().counters().walks();
    assertEquals(expected, b.pvReadHit());
    assertEquals(walks, b.pvHit.cpu().counters().walks(), "every PV load hit");
    assertEquals(expected, b.pvReadFourLevelMiss());
    assertEquals(4, b.pvCold.cpu().lastWalkReferences());
    assertEquals(0, b.pvCold.lastFault());
  }

  @Test
  void eachShadowFaultShouldBuildExactlyOneEntry() {
    HostGuestAccessBenchmark b = new HostGuestAccessBenchmark();
    b.setup();
    for (int round = 0; round < 3 * HostGuestAccessBenchmark.PAGES; round++) {
      int page = round % HostGuestAccessBenchmark.PAGES;
      long faults = b.shadow.cpu().counters().pageFaults();
      assertEquals(page + 1, b.shadowFaultBuildingOneEntry());
      assertEquals(0, b.shadow.lastFault());
      // One fault on the shadows, none seen by the guest; the guest's entry has A again.
      assertEquals(faults + 1, b.shadow.cpu().counters().pageFaults(), "round " + round);
      assertEquals(HostGuestAccessBenchmark.shadowData(page) | 0x63,
          b.host.readGuestPhysical(b.shadowDomain, HostGuestAccessBenchmark.shadowPte(page), 8));
    }
  }
}
