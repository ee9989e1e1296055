package org.hvmmu.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.hvmmu.host.HostInvariants;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.junit.jupiter.api.Test;

/** Pins what the host benchmarks do, so that a fast wrong facade cannot win. */
class HostBenchmarksTest {
  @Test
  void facadeShouldAgreeWithTheBareModules() {
    HostFacadeBenchmark b = new HostFacadeBenchmark();
    b.n = 1024;
    b.setup();
    assertEquals(0, b.pvModL1EntryBare());
    assertEquals(0, b.pvModL1EntryHost());
    assertEquals(0, b.eptSetEntryBare());
    assertEquals(0, b.eptSetEntryHost());
    RangeWorkload w = RangeWorkload.of(1024);
    P2mEntry bare = new P2mEntry();
    P2mEntry viaHost = new P2mEntry();
    for (int i = RangeWorkload.QUERIES - 512; i < RangeWorkload.QUERIES; i++) {
      long q = w.queries[i];
      long hostEntry = b.host.pvMmu().readEntry(HostFacadeBenchmark.TABLE, i & 511);
      assertEquals(b.barePv.readEntry(HostFacadeBenchmark.TABLE, i & 511), hostEntry);
      assertEquals(!w.expected[i], (hostEntry & PteFlags.PAGE_RW) != 0);
      assertTrue(b.bareEpt.getEntry(q, bare));
      assertTrue(b.eptGuest.p2m().getEntry(q, viaHost));
      assertEquals(bare.entry(), viaHost.entry());
      assertEquals(!w.expected[i], b.bareEpt.isWritable(bare.entry()));
    }
    assertEquals(List.of(), HostInvariants.check(b.host));
  }

  @Test
  void revocationShouldLeaveBothMappingsReadOnly() {
    HostRevocationBenchmark b = new HostRevocationBenchmark();
    b.guestPages = 1024;
    b.setup();
    b.hardened.protect("msix-table", HostRevocationBenchmark.MMIO, HostRevocationBenchmark.MMIO);
    assertFalse(Pte.isPresentWritable(
        b.hardened.pvMmu().readEntry(HostRevocationBenchmark.TABLE, 0)));
    P2mEntry e = new P2mEntry();
    assertTrue(b.hardened.domain(2).p2m().getEntry(HostRevocationBenchmark.MMIO, e));
    assertFalse(b.hardened.domain(2).p2m().isWritable(e.entry()));
    assertEquals(2, b.hardened.reverseMapSize());
    // The test protected the frame once already; the benchmark adds and removes a second claim.
    assertEquals(1, b.hardenedProtectAndRevoke());
    // gfns 0x1000-0x13ff and 0x1000000: the root, one L3, two L2 (L3 slots 0 and 64) and three L1
    // (L2 slots 8 and 9 of the first, slot 0 of the second).
    assertEquals(7, b.seedGlobalRederive());
  }
}
