package org.hvmmu.cli;

import java.io.PrintStream;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;

/**
 * Builds {@code mmio_ro_ranges} for an embedded default host and prints it as Xen's {@code
 * rangeset_printk} would, with the frames a few guest mappings would hit.
 *
 * <p>The default host is a typical x86 server: the IO-APIC page at 0xfec00000, the HPET at 0xfed00000
 * (Xen protects it with {@code ro_hpet}), a 64 MiB MMCFG window at 0xf8000000 (buses 0-63, one MiB
 * each, {@code pci_mmcfg_arch_enable}), and one passed-through Intel 82576 NIC whose MSI-X table sits at
 * offset 0 and whose PBA at offset 0x2000 of BAR 3 at 0xe0840000 (as lspci decodes the dump {@code
 * shared/testdata/pci-dumps/pciutils_intel_82576_10c9}).
 */
public final class Main {
  private Main() {}

  /**
   * Runs the example.
   *
   * @param args ignored for now
   */
  public static void main(String[] args) {
    PrintStream out = System.out;
    RangeSet ro = new IntervalTreeRangeSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX);
    add(ro, 0xfec00000L >>> 12, 0xfec00000L >>> 12, "IO-APIC 0");
    add(ro, 0xfed00000L >>> 12, 0xfed00000L >>> 12, "HPET (ro_hpet)");
    add(ro, 0xf8000000L >>> 12, (0xfc000000L >>> 12) - 1, "MMCFG segment 0, buses 0-63");
    add(ro, 0xe0840000L >>> 12, 0xe0840000L >>> 12, "82576 MSI-X table (BAR 3 + 0x0)");
    add(ro, 0xe0842000L >>> 12, 0xe0842000L >>> 12, "82576 MSI-X PBA (BAR 3 + 0x2000)");
    out.println(ro);
    out.println(ro.rangeCount() + " ranges");
    long[] probes = {0xfec00L, 0xfec01L, 0xf8042L, 0xe0840L, 0xe0841L, 0xe0842L, 0xfee00L};
    for (long mfn : probes) {
      out.printf(
          "guest maps MFN %x writable: %s%n",
          mfn, ro.containsSingleton(mfn) ? "forced read-only" : "allowed");
    }
  }

  private static void add(RangeSet ro, long s, long e, String what) {
    int rc = ro.addRange(s, e);
    if (rc != 0) {
      throw new IllegalStateException("adding " + what + " failed: " + rc);
    }
    String frames = s == e ? Long.toHexString(s) : Long.toHexString(s) + "-" + Long.toHexString(e);
    System.out.printf("add %-34s MFN %s%n", what, frames);
  }
}
