package org.hvmmu.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.hvmmu.x86.pv.Domain;
import org.hvmmu.x86.pv.GuestType;
import org.hvmmu.x86.pv.L1eVerdict;
import org.hvmmu.x86.pv.PvMmu;
import org.hvmmu.x86.pv.PvSwitches;
import org.hvmmu.xen.Errno;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code hvmmu demo}: builds {@code mmio_ro_ranges} for an embedded default host and prints it as
 * Xen's {@code rangeset_printk} would, then runs a few guest entries through the PV validator under
 * the seed's and the hardened switches.
 *
 * <p>The default host is a typical x86 server: the IO-APIC page at 0xfec00000, the HPET at
 * 0xfed00000 (Xen protects it with {@code ro_hpet}), a 64 MiB MMCFG window at 0xf8000000 (buses
 * 0-63, one MiB each, {@code pci_mmcfg_arch_enable}), and one passed-through Intel 82576 NIC whose
 * MSI-X table sits at offset 0 and whose PBA at offset 0x2000 of BAR 3 at 0xe0840000 (as lspci
 * decodes the dump {@code shared/testdata/pci-dumps/pciutils_intel_82576_10c9}).
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Print mmio_ro_ranges of an embedded default host and PV verdicts (seed vs hardened).")
final class DemoCommand implements Callable<Integer> {
  @Spec private CommandSpec spec;

  @Override
  public Integer call() {
    run(spec.commandLine().getOut());
    return 0;
  }

  static void run(PrintWriter out) {
    RangeSet ro = new IntervalTreeRangeSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX);
    add(out, ro, 0xfec00000L >>> 12, 0xfec00000L >>> 12, "IO-APIC 0");
    add(out, ro, 0xfed00000L >>> 12, 0xfed00000L >>> 12, "HPET (ro_hpet)");
    add(out, ro, 0xf8000000L >>> 12, (0xfc000000L >>> 12) - 1, "MMCFG segment 0, buses 0-63");
    add(out, ro, 0xe0840000L >>> 12, 0xe0840000L >>> 12, "82576 MSI-X table (BAR 3 + 0x0)");
    add(out, ro, 0xe0842000L >>> 12, 0xe0842000L >>> 12, "82576 MSI-X PBA (BAR 3 + 0x2000)");
    out.println(ro);
    out.println(ro.rangeCount() + " ranges");
    out.println();
    out.println("A PV guest with the 82576's BAR 3 (MFN e0840-e0843) in its iomem_caps, and the");
    out.println("privileged dom0, install present writable write-back entries (get_page_from_l1e):");
    out.printf("  %-6s %-6s %-28s %s%n", "domain", "MFN", "seed 2010", "hardened");
    PvMmu seed = pvMmu(ro, PvSwitches.SEED_2010);
    PvMmu hardened = pvMmu(ro, PvSwitches.HARDENED);
    long[] probes = {0xe0840L, 0xe0841L, 0xe0842L, 0xfec00L};
    for (int id = 0; id <= 1; id++) {
      for (long mfn : probes) {
        long l1e = Pte.fromMfn(mfn, PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW);
        out.printf(
            "  %-6s %-6s %-28s %s%n",
            "d" + id,
            Long.toHexString(mfn),
            verdict(seed, id, l1e),
            verdict(hardened, id, l1e));
      }
    }
    out.flush();
  }

  private static PvMmu pvMmu(RangeSet ro, PvSwitches switches) {
    PvMmu mmu = new PvMmu(0x100, ro, CpuFeatures.ALL, switches);
    mmu.createDomain(0, true, GuestType.PV64);
    Domain guest = mmu.createDomain(1, false, GuestType.PV64);
    guest.iomemCaps().addRange(0xe0840L, 0xe0843L);
    return mmu;
  }

  private static String verdict(PvMmu mmu, int id, long l1e) {
    Domain d = mmu.domain(id);
    int rc = mmu.validator().getPageFromL1e(l1e, d, d);
    if (rc < 0) {
      return "rejected (-" + Errno.name(rc) + ")";
    }
    String what =
        switch (L1eVerdict.of(rc)) {
          case ACCEPT -> rc == 0 ? "writable" : "writable, uncached";
          case ACCEPT_READ_ONLY -> rc == PteFlags.PAGE_RW ? "read-only" : "read-only, uncached";
          case REJECT -> throw new AssertionError(rc);
        };
    return what + " (flip 0x" + Integer.toHexString(rc) + ")";
  }

  private static void add(PrintWriter out, RangeSet ro, long s, long e, String what) {
    int rc = ro.addRange(s, e);
    if (rc != 0) {
      throw new IllegalStateException("adding " + what + " failed: " + rc);
    }
    String frames = s == e ? Long.toHexString(s) : Long.toHexString(s) + "-" + Long.toHexString(e);
    out.printf("add %-34s MFN %s%n", what, frames);
  }
}
