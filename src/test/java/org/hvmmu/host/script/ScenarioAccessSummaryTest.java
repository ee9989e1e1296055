package org.hvmmu.host.script;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.Policy;
import org.junit.jupiter.api.Test;

/**
 * A vCPU store's summary names the hypervisor's decision about a protected page and the cycles the
 * vCPU's MMU counters charged it. Expected values by hand: dom0's kernel store to its mapping of
 * the IO-APIC page; hardened forces the entry read-only, so the store is a #PF that {@code
 * mmio_ro_emulated_write} drops (docs/access.md, P1): the walk's 4 references of 16 cycles and the
 * #PF delivery's 2,687 (LatencyModel.GOLDEN_COVE), 2,751; the seed exempts dom0 (row 8), so the
 * store is performed on the walk alone: 4 references, and one locked update of 19 cycles in each of
 * the L3 and L2 entries (A) and the L1 entry (A and D; Xen's adjust_guest_l4e set the L4 entry's
 * A at validation): 64 + 3 * 19 = 121.
 */
class ScenarioAccessSummaryTest {
  private static final String SCRIPT = """
      protect ioapic 0xfec00
      domain dom0 0 pv privileged
      ram dom0 0x100-0x1ff
      iomem dom0 0xfec00
      poke dom0 0x100000 8 pte(0x101, P RW US)
      poke dom0 0x101000 8 pte(0x102, P RW US)
      poke dom0 0x102000 8 pte(0x103, P RW US)
      vcpu cpu0 dom0
      mmuext cpu0 new-baseptr 0x100
      update dom0 0x103 0 pte(0xfec00, P RW US)
      store cpu0 0x8 4 0x1
      """;

  private static String storeSummary(Policy policy) {
    List<String> summaries = new ArrayList<>();
    ScenarioRunner.forcing(policy)
        .withListener((step, outcome, host) -> summaries.add(outcome.summary()))
        .run(ScenarioParser.parse("t", SCRIPT));
    return summaries.get(summaries.size() - 1);
  }

  @Test
  void hardenedShouldNameTheDropAndItsCycles() {
    assertEquals("completed, mmio_ro_emulated_write: MMIO_RO_DROPPED (dropped silent), 2751 cycles",
        storeSummary(Policy.HARDENED));
  }

  @Test
  void theSeedShouldPerformTheStore() {
    assertEquals("performed, 121 cycles", storeSummary(Policy.SEED_2010));
  }

  @Test
  void everyErrnoTheHostReturnsShouldParse() {
    // Host.subpageMmioRoAdd's -EILSEQ (84): the writer names it, so the parser must read it back
    // (ScenarioPropertyTest's round trip found it missing).
    Scenario s = ScenarioParser.parse("t", "mmio-hole 0-0\nexpect rc -EILSEQ\n");
    assertEquals(new Scenario.ExpectRc(-84), s.commands().get(1));
  }
}
