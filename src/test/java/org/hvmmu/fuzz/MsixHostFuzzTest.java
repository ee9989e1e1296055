package org.hvmmu.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.hvmmu.host.GuestDomain;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostDevice;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.pci.BarReadMode;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciMemBar;
import org.hvmmu.pci.msix.MsixLayout;
import org.hvmmu.pci.msix.MsixRegion;
import org.hvmmu.pci.msix.MsixResult;
import org.hvmmu.pci.msix.PbaSizing;
import org.hvmmu.rangeset.RangeSet;
import org.junit.jupiter.api.Test;

/**
 * Issue 15: generated configuration spaces ({@link ConfigSpaceFuzz}) through MSI-X set-up on a
 * host, the device assigned to a PV guest (an HVM guest would map every frame of a huge BAR into its p2m: see docs/robustness.md): {@code PHYSDEVOP_prepare_msix} by dom0, assignment,
 * then entry 0 enabled by dom0's device model. No input may throw (nothing is documented: bad
 * configuration is a result) or hang. Under hardened, after a successful enable the frames of the
 * table and PBA (when {@link MsixLayout} finds them usable) are in {@code mmio_ro_ranges}, and no
 * frame outside them is ever protected: in particular no frame of a wrapped address (frame 0 for
 * BAR 0xffffffff00001000 + 0xfffff000). The one exception is Xen's own: a PBA whose BAR reads 0
 * ({@code WARN_ON(!pba_paddr)}) is registered at its offset. Under Xen 4.22 and the seed, only
 * the absence of exceptions is checked.
 */
class MsixHostFuzzTest {
  @Test
  void hardenedSetUpProtectsUsableRegionsAndNothingWrapped() {
    AtomicInteger enabled = new AtomicInteger();
    AtomicInteger unusable = new AtomicInteger();
    Fuzz.Counts c = Fuzz.campaign("msix host hardened", Fuzz.size(3_000, 1_000_000))
        .run(ConfigSpaceFuzz::draw, input -> {
          setUp(input, Policy.HARDENED, true, enabled);
          if (MsixLayout.inspect(input.device()).warnings().stream()
              .anyMatch(w -> w.contains(" unusable: "))) {
            unusable.incrementAndGet();
          }
        });
    assertEquals(c.inputs(), c.results(), c.toString());
    System.out.println("  of which enabled with rc 0: " + enabled + "; with a table or PBA whose"
        + " address arithmetic leaves range: " + unusable);
    // The generator reaches both sides of the property.
    assertTrue(enabled.get() > c.inputs() / 20, enabled + " enabled");
    assertTrue(unusable.get() > c.inputs() / 20, unusable + " unusable");
  }

  @Test
  void xenAndSeedSetUpNeverThrow() {
    Fuzz.Counts c = Fuzz.campaign("msix host xen-4.22 and seed", Fuzz.size(1_500, 500_000))
        .run(ConfigSpaceFuzz::draw, input -> {
          setUp(input, Policy.XEN_4_22, false, new AtomicInteger());
          setUp(input, Policy.SEED_2010, false, new AtomicInteger());
        });
    assertEquals(c.inputs(), c.results(), c.toString());
  }

  /** The regression of D6 through the same body: frame 0 is never protected under hardened. */
  @Test
  void theBodyCatchesAWrappedFrame() {
    byte[] b = new byte[256];
    b[0x06] = 0x10;
    b[0x10] = 0x04; // 64-bit BAR 0 = 0xffffffff00001000
    b[0x11] = 0x10;
    b[0x14] = b[0x15] = b[0x16] = b[0x17] = (byte) 0xff;
    b[0x34] = 0x40;
    b[0x40] = 0x11;
    b[0x45] = (byte) 0xf0; // table offset 0xfffff000, BIR 0
    b[0x46] = b[0x47] = (byte) 0xff;
    b[0x49] = 0x08; // PBA offset 0x800, BIR 0
    ConfigSpaceFuzz.Input input = new ConfigSpaceFuzz.Input(b, new long[6]);
    assertEquals(List.of(), setUp(input, Policy.HARDENED, true, new AtomicInteger()));
    // Under Xen 4.22 the wrapped table lands at frame 0: the body's check would reject that.
    List<long[]> xen = setUp(input, Policy.XEN_4_22, false, new AtomicInteger());
    assertTrue(xen.stream().anyMatch(r -> r[0] == 0), "frame 0 protected under Xen 4.22");
  }

  /**
   * Sets up MSI-X; with {@code check}, asserts the hardened property.
   *
   * @param input the function
   * @param policy the host's policy
   * @param check whether to assert the hardened property
   * @param enabledCount counts a successful enable
   * @return the ranges of {@code mmio_ro_ranges} outside the device's usable regions
   */
  static List<long[]> setUp(
      ConfigSpaceFuzz.Input input, Policy policy, boolean check, AtomicInteger enabledCount) {
    PciDevice pci = input.device();
    Host host = new Host(0x200, policy);
    List<long[]> initial = ranges(host.mmioRoRanges());
    HostDevice dev = host.addDevice(pci);
    if (!dev.hasMsix()) {
      return List.of();
    }
    GuestDomain guest = host.createDomain(1, PagingMode.PV, false);
    MsixResult prepared = host.prepareMsix(dev);
    host.assignDevice(dev, guest);
    MsixResult enabled = host.enableMsix(dev, 0);
    MsixLayout layout = MsixLayout.inspect(pci, PbaSizing.CORRECTED);
    List<long[]> allowed = new ArrayList<>(initial);
    for (MsixRegion r : new MsixRegion[] {layout.table(), layout.pba()}) {
      if (r.usable()) {
        allowed.add(new long[] {r.firstFrame(), r.lastFrame()});
      }
    }
    int pbaBir = layout.capability().pbaBir();
    if (PciMemBar.readPciMemBar(pci.config(), pbaBir, BarReadMode.CORRECTED) == 0) {
      long first = layout.capability().pbaOffset() >>> 12;
      long last = (layout.capability().pbaOffset() + layout.pba().length() - 1) >>> 12;
      allowed.add(new long[] {first, last}); // Xen's WARN_ON(!pba_paddr): offset from 0
    }
    List<long[]> outside = new ArrayList<>();
    for (long[] r : ranges(host.mmioRoRanges())) {
      if (initial.stream().anyMatch(i -> Long.compareUnsigned(i[0], r[0]) <= 0
          && Long.compareUnsigned(r[1], i[1]) <= 0)) {
        continue; // the host's own registrations, which may be large
      }
      for (long f = r[0]; Long.compareUnsigned(f, r[1]) <= 0; f++) {
        if (!inside(f, allowed)) {
          outside.add(new long[] {f, f});
        }
        if (f == r[1]) {
          break;
        }
      }
    }
    if (enabled.rc() == 0) {
      enabledCount.incrementAndGet();
    }
    if (check) {
      if (enabled.rc() == 0) {
        for (MsixRegion r : new MsixRegion[] {layout.table(), layout.pba()}) {
          if (r.usable() && !host.mmioRoRanges().containsRange(r.firstFrame(), r.lastFrame())) {
            throw new AssertionError("enabled (prepare " + prepared + "), but " + r
                + " is not in " + host.mmioRoRanges());
          }
        }
      }
      if (!outside.isEmpty()) {
        throw new AssertionError("frame " + Long.toHexString(outside.get(0)[0])
            + " protected outside the device's usable regions: " + host.mmioRoRanges()
            + ", layout " + layout);
      }
    }
    return outside;
  }

  private static boolean inside(long f, List<long[]> ranges) {
    for (long[] r : ranges) {
      if (Long.compareUnsigned(f, r[0]) >= 0 && Long.compareUnsigned(f, r[1]) <= 0) {
        return true;
      }
    }
    return false;
  }

  private static List<long[]> ranges(RangeSet set) {
    List<long[]> out = new ArrayList<>();
    set.reportRanges(0, -1L, (s, e) -> {
      out.add(new long[] {s, e});
      return 0;
    });
    return out;
  }
}
