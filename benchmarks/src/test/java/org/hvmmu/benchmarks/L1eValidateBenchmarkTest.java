package org.hvmmu.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pins what the L1 benchmarks compute, so that a fast wrong answer cannot win. */
class L1eValidateBenchmarkTest {
  @ParameterizedTest
  @CsvSource({"16, SEED_2010", "1024, HARDENED", "65536, SEED_2010", "65536, HARDENED"})
  void shouldForceReadOnlyExactlyTheFramesInMmioRoRanges(int n, String switches) {
    L1eValidateBenchmark b = new L1eValidateBenchmark();
    b.n = n;
    b.switches = switches;
    b.setup();
    RangeWorkload w = RangeWorkload.of(n);
    boolean hardened = switches.equals("HARDENED");
    assertEquals(w.expectedHits, b.containsSingleton());
    // Seed: R/W (2) per hit. Hardened: R/W per hit plus PWT|PCD (0x18) for every write-back entry.
    int flips = w.expectedHits * PteFlags.PAGE_RW + (hardened ? RangeWorkload.QUERIES * 0x18 : 0);
    assertEquals(flips, b.getPageFromL1e());
    assertEquals(0, b.modL1Entry());
    // The last 512 updates are what the table now holds.
    for (int i = RangeWorkload.QUERIES - Pte.ENTRIES_PER_TABLE; i < RangeWorkload.QUERIES; i++) {
      long stored = b.mmu.readEntry(L1eValidateBenchmark.TABLE, i & 511);
      assertEquals(w.queries[i], Pte.getMfn(stored));
      assertEquals(!w.expected[i], (stored & PteFlags.PAGE_RW) != 0, "query " + i);
      assertEquals(hardened ? 0x18 : 0, Pte.getFlags(stored) & 0x18);
    }
    assertEquals(RangeWorkload.QUERIES, b.ptwrEmulatedUpdate());
  }
}
