package org.hvmmu.cli;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.Policy;
import org.hvmmu.host.script.Scenario.PolicyName;
import org.hvmmu.pci.BarReadMode;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciMemBar;
import org.hvmmu.pci.msix.MsixCapability;
import org.hvmmu.pci.msix.MsixDevice;
import org.hvmmu.pci.msix.MsixLayout;
import org.hvmmu.pci.msix.MsixRegion;
import org.hvmmu.pci.msix.MsixSwitches;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.rangeset.owned.OwnedRanges;

/**
 * What each preset protects once the hardware domain has set up every device's MSI-X, for {@code
 * hvmmu inspect}: the frames of {@code mmio_ro_ranges}, and the bytes of the frames that stay
 * partly writable. The seed has no {@code PHYSDEVOP_prepare_msix}, so its devices are set up by
 * their first vector's enable from dom0 with the table base dom0 reads from the BAR; Xen 4.22 and
 * hardened prepare them. Only hardened protects sub-page ranges for MSI-X (its {@code
 * subpageOwnedBytes}: exactly the table's and PBA's bytes); Xen 4.22's sub-page list holds only
 * set-up-time registrations such as the XHCI debug capability's, so it protects MSI-X frames
 * whole.
 */
final class PresetProtection {
  /**
   * One preset's protection.
   *
   * @param preset its name on the command line
   * @param how how the devices were set up
   * @param setUp how many were
   * @param frames {@code mmio_ro_ranges}
   * @param subpage frames partly protected, as {@code {frame, protected bytes}} pairs
   * @param bytes the protected byte ranges on those frames, as {@code {first, last}} pairs
   */
  record Result(String preset, String how, int setUp, RangeSet frames, List<long[]> subpage,
      List<long[]> bytes) {}

  private PresetProtection() {}

  /** The three presets, in the order seed-2010, xen-4.22, hardened. */
  static List<Result> of(List<PciDevice> devices) {
    List<Result> out = new ArrayList<>();
    for (PolicyName name : new PolicyName[] {PolicyName.SEED_2010, PolicyName.XEN_4_22,
        PolicyName.HARDENED}) {
      out.add(of(name.scriptName(), name.policy(), devices));
    }
    return out;
  }

  private static Result of(String preset, Policy policy, List<PciDevice> devices) {
    MsixSwitches switches = policy.msix();
    RangeSet frames = new IntervalTreeRangeSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX);
    RangeSet bytes = new IntervalTreeRangeSet("r/o mmio bytes", RangeSet.PRETTYPRINT_HEX);
    OwnedRanges registry = new OwnedRanges(frames, switches.removalPolicy());
    boolean prepare = switches.prepareMsix();
    int setUp = 0;
    for (PciDevice d : devices) {
      MsixCapability c = MsixCapability.find(d);
      if (!c.isPresent()) {
        continue;
      }
      MsixDevice m = new MsixDevice(d, registry, switches);
      int rc = prepare ? m.pciPrepareMsix().rc()
          : m.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0,
              PciMemBar.readPciMemBar(d.config(), c.tableBir(), BarReadMode.CORRECTED)).rc();
      if (rc != 0) {
        continue;
      }
      setUp++;
      if (policy.roMmio().subpageOwnedBytes()) {
        MsixLayout layout = MsixLayout.inspect(d);
        for (MsixRegion r : new MsixRegion[] {layout.table(), layout.pba()}) {
          if (r.usable() && r.length() > 0) {
            bytes.addRange(r.address(), r.address() + r.length() - 1);
          }
        }
      }
    }
    List<long[]> subpage = new ArrayList<>();
    List<long[]> partial = new ArrayList<>();
    bytes.reportRanges(0, -1L, (s, e) -> {
      for (long f = s >>> 12; f <= e >>> 12 && f >= s >>> 12; f++) {
        long page = f << 12;
        if (bytes.containsRange(page, page | 0xFFF) || frameListed(subpage, f)) {
          continue;
        }
        long[] count = {0};
        bytes.reportRanges(page, page | 0xFFF, (a, b) -> {
          long lo = Math.max(a, page);
          long hi = Math.min(b, page | 0xFFF);
          count[0] += hi - lo + 1;
          partial.add(new long[] {lo, hi});
          return 0;
        });
        subpage.add(new long[] {f, count[0]});
      }
      return 0;
    });
    String how = prepare ? "PHYSDEVOP_prepare_msix"
        : "their first vector's enable from dom0 (the seed has no prepare)";
    return new Result(preset, how, setUp, frames, subpage, partial);
  }

  private static boolean frameListed(List<long[]> subpage, long frame) {
    return !subpage.isEmpty() && subpage.get(subpage.size() - 1)[0] == frame;
  }
}
