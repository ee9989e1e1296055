package org.hvmmu.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.junit.jupiter.api.Test;

/** Pins what the MMU benchmarks compute and how, so that a fast wrong answer cannot win. */
class MmuTranslateBenchmarkTest {
  @Test
  void shouldTranslateEveryPageToItsFrameOnEveryPath() {
    MmuTranslateBenchmark b = new MmuTranslateBenchmark();
    b.setup();
    long expected = 0;
    long expectedRead = 0;
    for (long la : b.addresses) {
      int page = (int) ((la - MmuTranslateBenchmark.BASE) >>> 12);
      expected += MmuTranslateBenchmark.DATA + ((long) page << 12) + (la & 0xFFF);
      expectedRead += (la & 0xFFF) == 8 ? page : 0;
    }
    assertEquals(expected, b.limitDirectMappedProbe());
    long walks = b.hits.counters().walks();
    assertEquals(expected, b.translateHit());
    assertEquals(walks, b.hits.counters().walks(), "every translation hit");
    assertEquals(MmuTranslateBenchmark.PAGES, b.hits.counters().l1Hits());
    assertEquals(expectedRead, b.read8Hit());
    assertEquals(expected, b.walk4LevelCold());
    assertEquals(4, b.noCaches.lastWalkReferences());
    b.walk4LevelPscHit(); // the first call fills the caches
    assertEquals(expected, b.walk4LevelPscHit());
    assertEquals(1, b.noTlb.lastWalkReferences());
    assertEquals(expected + MmuTranslateBenchmark.PAGES * MmuTranslateBenchmark.EPT_OFFSET,
        b.walk2D());
    assertEquals(24, b.twoD.lastWalkReferences());
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(b.pageFault()));
    assertEquals(0, Fault.code(b.pageFault()), "not present, supervisor read");
    long la = b.addresses[0];
    int page = (int) ((la - MmuTranslateBenchmark.BASE) >>> 12);
    assertEquals(MmuTranslateBenchmark.DATA + ((long) page << 12) + (la & 0xFFF),
        b.invlpgAndRefill());
    assertEquals(0, b.movToCr3());
    long full = b.flushAll();
    assertEquals(full, b.noTlb.counters().flushesFull());
  }
}
