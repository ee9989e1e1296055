package org.hvmmu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.hvmmu.fuzz.ConfigSpaceFuzz;
import org.hvmmu.fuzz.Fuzz;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.msix.MsixLayout;
import org.hvmmu.pci.msix.MsixRegion;
import org.junit.jupiter.api.Test;

/**
 * Issue 15: generated configuration spaces ({@link ConfigSpaceFuzz}) through what {@code hvmmu
 * inspect} does for one device, text and JSON (the hardened prepare included). Nothing is
 * documented: any exception, and a hang, fail. Each usable region's frames are ordered and its
 * bytes do not wrap; the JSON is strict JSON.
 */
class InspectFuzzTest {
  @Test
  void inspectNeverThrowsAndUsableRegionsNeverWrap() {
    AtomicInteger unusable = new AtomicInteger();
    Fuzz.Counts c = Fuzz.campaign("inspect", Fuzz.size(8_000, 1_000_000))
        .run(ConfigSpaceFuzz::draw, input -> {
          PciDevice d = input.device();
          InspectCommand.text(List.of(d));
          StrictJson.parse(InspectCommand.json(List.of(d)));
          MsixLayout layout = MsixLayout.inspect(d);
          if (layout.warnings().stream().anyMatch(w -> w.contains(" unusable: "))) {
            unusable.incrementAndGet();
          }
          for (MsixRegion r : new MsixRegion[] {layout.table(), layout.pba()}) {
            if (!r.usable()) {
              continue;
            }
            long last = r.address() + r.length() - 1;
            if (Long.compareUnsigned(last, r.address()) < 0
                || Long.compareUnsigned(r.firstFrame(), r.lastFrame()) > 0
                || r.firstFrame() != r.address() >>> 12) {
              throw new AssertionError("usable region wraps or is out of order: " + r);
            }
          }
        });
    assertEquals(c.inputs(), c.results(), c.toString());
    System.out.println("  of which with a table or PBA whose address arithmetic leaves range: "
        + unusable);
    assertTrue(unusable.get() > c.inputs() / 20, unusable + " unusable"); // the edges are reached
  }
}
