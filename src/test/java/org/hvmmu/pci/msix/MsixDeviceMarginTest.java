package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.hvmmu.pci.ConfigBuilder;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.LspciDumpReader;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.rangeset.owned.OwnedRanges;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The set-up's warnings and the bookkeeping of failed removals. Expected values are worked by hand
 * from Xen's {@code msix_capability_init} and {@code _pci_cleanup_msix} (4.1.0's {@code
 * WARN_ON(dev->msix_table.first != (table_paddr >> PAGE_SHIFT))} with {@code table_paddr =
 * msi->table_base + table_offset}; the seed's {@code WARN_ON} when the table's frames are already
 * in {@code mmio_ro_ranges}; {@code WARN()} when {@code rangeset_remove_range} fails), from Xen's
 * rangeset limit ({@code -ENOMEM} when a removal would split a range while the set is at its
 * limit; no reference counts, so a removal unprotects frames another device registered: reference
 * §2), and from the 32-bit BAR rule (a 32-bit BAR decodes nothing above {@code 2^32 - 1}). The
 * frames come from the dumps' lspci decoding (82576: BAR 3 at e0840000, table at offset 0, PBA at
 * 0x2000) or from the BARs written in the test.
 */
class MsixDeviceMarginTest {
  private static final long NIC_BAR3 = 0xe0840000L;

  private static PciDevice nic() {
    try {
      Path dumps = Path.of(MsixDeviceMarginTest.class.getResource("/org/hvmmu/pci/dumps/").toURI());
      return LspciDumpReader.read(dumps.resolve("pciutils_intel_82576_10c9.xxx.txt")).get(0);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Function 03:00.{@code function}: BAR 0 (32-bit) {@code bar0} holds the table at {@code
   * tableOffset}, BAR 2 (32-bit) {@code bar2} the PBA at {@code pbaOffset}; {@code entries}
   * entries.
   */
  private static PciDevice device(
      int function, long bar0, long tableOffset, long bar2, long pbaOffset, int entries) {
    byte[] bytes =
        ConfigBuilder.normal()
            .set16(0, 0x8086)
            .set16(2, 0x10c9)
            .bar(0, bar0)
            .bar(2, bar2)
            .set8(0x34, 0x40)
            .msix(0x40, 0, 0x8000 | (entries - 1), tableOffset, pbaOffset | 2)
            .bytes();
    return new PciDevice(
        new PciAddress(0, 3, 0, function), ConfigSpace.of(bytes), "test");
  }

  private static OwnedRanges registry(MsixSwitches switches) {
    return new OwnedRanges(
        new IntervalTreeRangeSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX),
        switches.removalPolicy());
  }

  private static String ro(OwnedRanges registry) {
    return registry.target().toString();
  }

  /** Runs {@code action} and returns the WARN lines of {@link MsixDevice}'s logger. */
  private static List<String> warnings(Runnable action) {
    Logger logger = (Logger) LoggerFactory.getLogger(MsixDevice.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    Level before = logger.getLevel();
    logger.addAppender(appender);
    logger.setLevel(Level.WARN);
    try {
      action.run();
    } finally {
      logger.detachAppender(appender);
      logger.setLevel(before);
    }
    return appender.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  private static List<String> containing(List<String> lines, String part) {
    return lines.stream().filter(l -> l.contains(part)).toList();
  }

  private static final String ABOVE_4G =
      " of 32-bit BAR 0xfffff000 ends above 4 GiB, which a 32-bit BAR cannot decode";
  private static final String REFUSED = ": unusable, nothing recorded or protected: -ENXIO";

  /**
   * Prepares {@code dev} under the hardened switches, expects -ENXIO and nothing protected, and
   * returns the "unusable" warnings.
   */
  private static List<String> hardenedRefusal(PciDevice dev) {
    OwnedRanges reg = registry(MsixSwitches.HARDENED);
    MsixDevice d = new MsixDevice(dev, reg, MsixSwitches.HARDENED);
    int[] rc = new int[1];
    List<String> w = warnings(() -> rc[0] = d.pciPrepareMsix().rc());
    assertEquals(-Errno.ENXIO, rc[0]);
    assertEquals("r/o mmio ranges { }", ro(reg));
    return containing(w, "unusable");
  }

  @Test
  void hardenedShouldRefuseATableAloneThatEndsAbove4Gib() {
    // 2 entries: 32 bytes at 0xfffff000 + 0xff0 = [0xfffffff0, 0x10000000f]; the PBA at
    // 0xfe100000 fits.
    assertEquals(
        List.of("MSI-X 03:00.0: table [0xfffffff0, 0x10000000f]" + ABOVE_4G + REFUSED),
        hardenedRefusal(device(0, 0xfffff000L, 0xff0, 0xfe100000L, 0, 2)));
  }

  @Test
  void hardenedShouldRefuseAPbaAloneThatEndsAbove4Gib() {
    // 65 entries: the table, 0x410 bytes at 0xfe000000, fits; the PBA, 16 bytes at 0xfffff000 +
    // 0xff8 = [0xfffffff8, 0x100000007], does not.
    assertEquals(
        List.of("MSI-X 03:00.0: PBA [0xfffffff8, 0x100000007]" + ABOVE_4G + REFUSED),
        hardenedRefusal(device(0, 0xfe000000L, 0, 0xfffff000L, 0xff8, 65)));
  }

  @Test
  void hardenedShouldNameBothUnusableRegionsInOneWarning() {
    // 2 entries: table [0xfffffff0, 0x10000000f]; PBA, 8 bytes at 0xfffff000 + 0x1000 =
    // [0x100000000, 0x100000007].
    assertEquals(
        List.of(
            "MSI-X 03:00.0: table [0xfffffff0, 0x10000000f]"
                + ABOVE_4G
                + "; PBA [0x100000000, 0x100000007]"
                + ABOVE_4G
                + REFUSED),
        hardenedRefusal(device(0, 0xfffff000L, 0xff0, 0xfffff000L, 0x1000, 2)));
  }

  @Test
  void seedShouldWarnWhenALaterTableFrameIsAlreadyProtected() {
    // 512 entries: 0x2000 bytes from the caller's base 0xfe000000, frames fe000-fe001; another
    // registrant already holds fe001 (the table's last frame), not fe000.
    PciDevice dev = device(0, 0xfe000000L, 0, 0xfe100000L, 0, 512);
    OwnedRanges reg = registry(MsixSwitches.SEED_2010);
    int host = reg.newRegistrant("host");
    assertEquals(0, reg.add(host, 0xfe001, 0xfe001));
    MsixDevice d = new MsixDevice(dev, reg, MsixSwitches.SEED_2010);
    List<String> w =
        warnings(() -> d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, 0xfe000000L));
    List<String> already = containing(w, "already in");
    assertEquals(1, already.size(), w.toString());
    assertTrue(already.get(0).contains("fe001"), already.get(0));
    assertEquals(0xfe000L, d.tableFirst());
    assertEquals(0xfe001L, d.tableLast());
  }

  @Test
  void seedShouldWarnWhenALaterCallersTableIsNotTheRecordedFrame() {
    // Table at offset 0x2000: the first enable records 0xfe000000 + 0x2000, frame fe002; the
    // second caller's base 0xfd000000 gives 0xfd002000, frame fd002.
    PciDevice dev = device(0, 0xfe000000L, 0x2000, 0xfe100000L, 0, 4);
    MsixDevice d =
        new MsixDevice(dev, registry(MsixSwitches.SEED_2010), MsixSwitches.SEED_2010);
    assertEquals(MsixResult.OK, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, 0xfe000000L));
    assertEquals(0xfe002L, d.tableFirst());
    List<String> same =
        warnings(() -> d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 1, 0xfe000000L));
    assertEquals(List.of(), containing(same, "recorded table frame"));
    List<String> other =
        warnings(() -> d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 2, 0xfd000000L));
    assertEquals(
        List.of(
            "WARN_ON: MSI-X 03:00.0: recorded table frame fe002 is not the table's frame fd002"),
        containing(other, "recorded table frame"));
    assertEquals(3, d.usedEntries());
  }

  @Test
  void seedsFailedTableRemovalShouldWarnAndKeepOnlyTheTableHeld() {
    // The seed registers the table from the caller's base (frame e0840, inside the host's
    // [e0830, e0850]) and the PBA from its buggy BAR read: 0 + 0x2000, frame 2. At the limit of 2
    // ranges, removing e0840 would split the host's range: -ENOMEM; frame 2 goes.
    OwnedRanges reg = registry(MsixSwitches.SEED_2010);
    int host = reg.newRegistrant("host");
    assertEquals(0, reg.add(host, 0xe0830, 0xe0850));
    MsixDevice d = new MsixDevice(nic(), reg, MsixSwitches.SEED_2010);
    assertEquals(MsixResult.OK, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, NIC_BAR3));
    assertEquals("r/o mmio ranges { 2, e0830-e0850 }", ro(reg));
    reg.target().setLimit(2);
    MsixResult[] r = new MsixResult[1];
    List<String> w = warnings(() -> r[0] = d.pciDisableMsix(0));
    assertEquals(-Errno.ENOMEM, r[0].rangesetRc());
    assertEquals(
        List.of("WARN: MSI-X 01:00.0: cannot remove table frames [e0840, e0840] from r/o mmio"
            + " ranges: -ENOMEM"),
        containing(w, "cannot remove"));
    assertEquals("r/o mmio ranges { e0830-e0850 }", ro(reg));
    assertEquals(1, reg.registrationCount(d.registrant()));
    assertTrue(reg.holds(d.registrant(), 0xe0840, 0xe0840));
    assertTrue(d.checkInvariants());
    // The next guest: nothing is registered again (nr_entries is set); at its last vector the
    // table's removal fails again (one range, limit 1) and the PBA, no longer held, is removed
    // without a registration.
    assertEquals(MsixResult.OK, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, NIC_BAR3));
    reg.target().setLimit(1);
    assertEquals(-Errno.ENOMEM, d.pciDisableMsix(0).rangesetRc());
    assertEquals("r/o mmio ranges { e0830-e0850 }", ro(reg));
    assertEquals(1, reg.registrationCount(d.registrant()));
    assertTrue(d.checkInvariants());
  }

  @Test
  void upstreamReleaseOfATableNeverAddedShouldStillRemoveThePba() {
    // A: table fe000, PBA fe100. B: table fe010, PBA fe100800 (frame fe100). At a limit of 2
    // ranges B's table needs a third: -ENOMEM, not registered; its PBA frame is already a range.
    PciDevice a = device(0, 0xfe000000L, 0, 0xfe100000L, 0, 4);
    PciDevice b = device(1, 0xfe010000L, 0, 0xfe100000L, 0x800, 4);
    OwnedRanges reg = registry(MsixSwitches.UPSTREAM);
    reg.target().setLimit(2);
    MsixDevice da = new MsixDevice(a, reg, MsixSwitches.UPSTREAM);
    MsixDevice db = new MsixDevice(b, reg, MsixSwitches.UPSTREAM);
    assertEquals(MsixResult.OK, da.pciPrepareMsix());
    assertEquals(-Errno.ENOMEM, db.pciPrepareMsix().rangesetRc());
    assertEquals(1, reg.registrationCount(db.registrant()));
    // Xen removes both recorded ranges without reference counts: fe010 was never in the set, and
    // fe100 goes although A still uses it.
    assertEquals(MsixResult.OK, db.pciReleaseMsix());
    assertEquals("r/o mmio ranges { fe000 }", ro(reg));
    assertEquals(0, reg.registrationCount(db.registrant()));
    assertTrue(db.checkInvariants());
  }

  @Test
  void hardenedFailedRemovalsShouldStayHeldWithAWarningEach() {
    // The NIC's table frame e0840 and PBA frame e0842 between the host's e083f, e0841 and e0843:
    // one range [e083f, e0843]. At a limit of 1 either removal would split it: -ENOMEM twice.
    OwnedRanges reg = registry(MsixSwitches.HARDENED);
    int host = reg.newRegistrant("host");
    for (long f : new long[] {0xe083f, 0xe0841, 0xe0843}) {
      assertEquals(0, reg.add(host, f, f));
    }
    MsixDevice d = new MsixDevice(nic(), reg, MsixSwitches.HARDENED);
    assertSame(MsixSwitches.HARDENED, d.switches());
    assertEquals(MsixResult.OK, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, NIC_BAR3));
    assertEquals("r/o mmio ranges { e083f-e0843 }", ro(reg));
    reg.target().setLimit(1);
    MsixResult[] r = new MsixResult[1];
    List<String> w = warnings(() -> r[0] = d.pciDisableMsix(0));
    assertEquals(-Errno.ENOMEM, r[0].rangesetRc());
    assertEquals(
        List.of(
            "WARN: MSI-X 01:00.0: cannot remove MSI-X frames [e0840, e0840] from r/o mmio ranges:"
                + " -ENOMEM",
            "WARN: MSI-X 01:00.0: cannot remove MSI-X frames [e0842, e0842] from r/o mmio ranges:"
                + " -ENOMEM"),
        containing(w, "cannot remove"));
    assertEquals("r/o mmio ranges { e083f-e0843 }", ro(reg));
    assertEquals(2, reg.registrationCount(d.registrant()));
    assertTrue(d.checkInvariants());
  }

  @Test
  void hardenedRegistrationsLeftByFailedRemovalsShouldAccumulateAndStayConsistent() {
    // BAR 0 reads 0: each trusted enable takes the caller's base, 0xfd000000 + k * 0x10000, table
    // frame T_k = fd0k0 (k = 1..4), between the host's fd0(k-1)f and fd0k1. The PBA is in BAR 2,
    // frame fe100, a range of its own. Before each disable the limit is the current range count,
    // so every T_k removal (a split) fails and the PBA's (a whole range) succeeds.
    PciDevice dev = device(0, 0, 0, 0xfe100000L, 0, 4);
    OwnedRanges reg = registry(MsixSwitches.HARDENED);
    int host = reg.newRegistrant("host");
    for (int k = 1; k <= 4; k++) {
      long t = 0xfd000 + 0x10L * k;
      assertEquals(0, reg.add(host, t - 1, t - 1));
      assertEquals(0, reg.add(host, t + 1, t + 1));
    }
    MsixDevice d = new MsixDevice(dev, reg, MsixSwitches.HARDENED);
    for (int k = 1; k <= 4; k++) {
      reg.target().setLimit(RangeSet.UNLIMITED);
      long base = 0xfd000000L + 0x10000L * k;
      assertEquals(MsixResult.OK, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, base));
      assertEquals(k + 1, reg.registrationCount(d.registrant()), "T_1..T_k and the PBA");
      // 8 host ranges, k pairs of them merged by T_1..T_k (8 - k), and the PBA's: 9 - k.
      reg.target().setLimit(9 - k);
      assertEquals(-Errno.ENOMEM, d.pciDisableMsix(0).rangesetRc());
      assertEquals(k, reg.registrationCount(d.registrant()), "T_1..T_k stay");
      assertTrue(d.checkInvariants(), "cycle " + k);
    }
    assertEquals(
        "r/o mmio ranges { fd00f-fd011, fd01f-fd021, fd02f-fd031, fd03f-fd041 }", ro(reg));
  }
}
