package org.hvmmu.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Pins what the p2m benchmarks compute, against the reference's flag values. */
class P2mBenchmarksTest {
  @ParameterizedTest
  @ValueSource(ints = {16, 1024, 65536})
  void flagDerivationShouldGiveTheReferenceFlags(int n) {
    P2mFlagDerivationBenchmark b = new P2mFlagDerivationBenchmark();
    b.n = n;
    b.setup();
    long half = RangeWorkload.QUERIES / 2;
    // Seed mmio_direct: 0xA75 read-only, 0xA77 writable; today: 0x507D and 0x5077 (reference 5.2).
    assertEquals(half * 0xA75 + half * 0xA77, b.ptSeed());
    assertEquals(half * 0x507D + half * 0x5077, b.ptHardened());
    // Shadow of a P|RW|U|A|D guest entry (0x67): read-only MMIO loses RW and becomes UC (0x7D).
    assertEquals(half * 0x7D + half * 0x67, b.shadowHardened());
  }

  @Test
  void seedRetypeShouldRevokeWritesToReadOnlyFramesOnly() {
    P2mRetypeGlobalBenchmark b = new P2mRetypeGlobalBenchmark();
    b.preset = "SEED";
    b.format = "PT";
    b.n = 1024;
    b.setup();
    // Root, one L3, one L2 and 512 L1 tables.
    assertEquals(515, b.retypeGlobal());
    RangeWorkload w = RangeWorkload.of(1024);
    P2mEntry entry = new P2mEntry();
    long firstRo = w.starts[0] - RangeWorkload.BASE;
    long firstGap = w.ends[0] + 1 - RangeWorkload.BASE;
    assertTrue(b.p2m.getEntry(firstRo, entry));
    assertEquals(P2mType.MMIO_DIRECT.seedCode, entry.typeCode());
    assertFalse(b.p2m.isWritable(entry.entry()), "frame in mmio_ro_ranges");
    assertTrue(b.p2m.getEntry(firstGap, entry));
    assertTrue(b.p2m.isWritable(entry.entry()), "frame outside");
  }
}
