package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import org.hvmmu.pci.ConfigBuilder;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.rangeset.owned.OwnedRanges;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Rules of Xen's {@code msix_capability_init} (xen/arch/x86/msi.c, 4.5 to 4.22) pinned one
 * condition at a time: who may compute the frames ({@code is_hardware_domain(currd) &&
 * (pdev->domain == currd || pdev->domain == dom_io)}), the 2014 {@code domain_crash} rule (crash
 * {@code d = pdev->domain ?: currd} unless it is the hardware domain, or the hardware domain acts
 * for a domain without memory), which of its printks fire, the {@code WARN_ON}s for frames
 * already in {@code mmio_ro_ranges}, and the later-vector path that rebuilds the table address from
 * the recorded frame ({@code (table.first << PAGE_SHIFT) + PAGE_OFFSET(table_offset)}), whose
 * {@code WARN_ON(table.first != table_paddr >> PAGE_SHIFT)} must stay silent.
 */
class MsixDeviceRulesTest {
  private static final int HW = MsixDevice.HARDWARE_DOMAIN;
  private static final long BAR0 = 0xfe000000L;

  /** Xen 4.5-4.14: the crash rule, no -ENODATA, recorded frames kept. */
  private static final MsixSwitches CRASHING =
      MsixSwitches.UPSTREAM.withNoDataForUntrustedSetup(false).withClearRecordedRanges(false);

  /**
   * Function 03:00.0, BAR 0 32-bit at 0xfe000000 holding 4 entries at offset 0x2800 (frame fe002)
   * and the PBA at 0x3800 (frame fe003).
   */
  private static PciDevice device() {
    byte[] bytes =
        ConfigBuilder.normal()
            .bar(0, BAR0)
            .set8(0x34, 0x40)
            .msix(0x40, 0, 0x0003, 0x2800, 0x3800)
            .bytes();
    return new PciDevice(new PciAddress(0, 3, 0, 0), ConfigSpace.of(bytes), "test");
  }

  private static MsixDevice msix(MsixSwitches s) {
    return new MsixDevice(device(), MsixDeviceTest.registry(s), s);
  }

  /** Runs {@code action} and returns what MsixDevice logged, "LEVEL message" each. */
  private static List<String> logged(Runnable action) {
    Logger logger = (Logger) LoggerFactory.getLogger(MsixDevice.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    Level before = logger.getLevel();
    logger.addAppender(appender);
    logger.setLevel(Level.INFO);
    try {
      action.run();
    } finally {
      logger.detachAppender(appender);
      logger.setLevel(before);
    }
    List<String> lines = new ArrayList<>();
    for (ILoggingEvent e : appender.list) {
      lines.add(e.getLevel() + " " + e.getFormattedMessage());
    }
    return lines;
  }

  private static final String CRASH = "WARN domain_crash(%s): first MSI-X vector of 03:00.0"
      + " without prepare";

  @Test
  void anUnownedDeviceIsTheCallersAndTheHardwareDomainIsNeverCrashed() {
    // pdev->domain NULL: d = currd. The hardware domain's own vector: no printk, no crash.
    MsixDevice d = msix(CRASHING);
    d.assign(DomainIds.OWNER_NONE, false);
    List<MsixResult> r = new ArrayList<>();
    assertEquals(List.of(), logged(() -> r.add(d.pciEnableMsix(HW, 0, BAR0))));
    assertEquals(MsixResult.OK, r.get(0));
    // Another caller on an unowned device: d = currd = d3, "Insecure", crashed.
    MsixDevice e = msix(CRASHING);
    e.assign(DomainIds.OWNER_NONE, false);
    assertEquals(
        List.of(
            "ERROR Insecure use of MSI-X on 0000:03:00.0 by d3", String.format(CRASH, "d3")),
        logged(() -> r.add(e.pciEnableMsix(3, 0, BAR0))));
    assertEquals(new MsixResult(0, 0, 3), r.get(1));
    assertEquals(DomainIds.OWNER_NONE, e.owner());
  }

  @Test
  void theHardwareDomainActingForAGuestCrashesItOnlyIfItHasMemory() {
    MsixDevice d = msix(CRASHING);
    d.assign(1, true);
    assertEquals(1, d.owner());
    List<MsixResult> r = new ArrayList<>();
    assertEquals(
        List.of(
            "WARN Potentially insecure use of MSI-X on 0000:03:00.0 by d1",
            String.format(CRASH, "d1")),
        logged(() -> r.add(d.pciEnableMsix(HW, 0, BAR0))));
    assertEquals(1, r.get(0).crashedDomain());
    // Without memory: the printk, no crash.
    MsixDevice e = msix(CRASHING);
    e.assign(2, false);
    assertEquals(
        List.of("WARN Potentially insecure use of MSI-X on 0000:03:00.0 by d2"),
        logged(() -> r.add(e.pciEnableMsix(HW, 0, BAR0))));
    assertEquals(MsixResult.OK, r.get(1));
    // The guest itself, even without memory: "Insecure", crashed.
    MsixDevice f = msix(CRASHING);
    f.assign(2, false);
    assertEquals(
        List.of("ERROR Insecure use of MSI-X on 0000:03:00.0 by d2", String.format(CRASH, "d2")),
        logged(() -> r.add(f.pciEnableMsix(2, 0, BAR0))));
    assertEquals(2, r.get(2).crashedDomain());
    // A device the hardware domain owns: silent.
    MsixDevice g = msix(CRASHING);
    g.assign(HW, true);
    assertEquals(List.of(), logged(() -> r.add(g.pciEnableMsix(HW, 0, BAR0))));
    assertEquals(MsixResult.OK, r.get(3));
  }

  @Test
  void onlyTheFirstVectorIsJudged() {
    MsixDevice d = msix(CRASHING);
    d.assign(1, true);
    assertEquals(1, d.pciEnableMsix(HW, 0, BAR0).crashedDomain());
    List<MsixResult> r = new ArrayList<>();
    assertEquals(List.of(), logged(() -> r.add(d.pciEnableMsix(HW, 1, BAR0))));
    assertEquals(MsixResult.OK, r.get(0));
    // Without the rule (Xen before 4.5) nobody is crashed.
    MsixDevice e = msix(CRASHING.withCrashUnpreparedDomain(false));
    e.assign(1, true);
    assertEquals(MsixResult.OK, e.pciEnableMsix(HW, 0, BAR0));
  }

  @Test
  void theHardwareDomainMayComputeTheFramesOfItsOwnAndOfDomIosDevices() {
    // (dom_io owns no pages: domain_tot_pages is 0, so the crash rule spares it.)
    for (int owner : new int[] {HW, DomainIds.DOMID_IO}) {
      MsixDevice d = msix(MsixSwitches.XEN_4_22);
      d.assign(owner, false);
      assertEquals(MsixResult.OK, d.pciEnableMsix(HW, 0, BAR0), "owner " + owner);
      assertEquals(0xfe002L, d.tableFirst());
      assertEquals(0xfe003L, d.pbaFirst());
    }
    // A guest's device, an unowned one, or the guest itself: nothing recorded, -ENODATA.
    for (int owner : new int[] {1, DomainIds.OWNER_NONE}) {
      MsixDevice d = msix(MsixSwitches.XEN_4_22);
      d.assign(owner, true);
      assertEquals(-Errno.ENODATA, d.pciEnableMsix(HW, 0, BAR0).rc());
      assertEquals(-Errno.ENODATA, d.pciEnableMsix(1, 0, BAR0).rc());
      assertEquals(0, d.tableFirst());
    }
    // Another domain on a device the hardware domain owns: not trusted either.
    MsixDevice e = msix(MsixSwitches.XEN_4_22);
    assertEquals(-Errno.ENODATA, e.pciEnableMsix(3, 0, BAR0).rc());
  }

  @Test
  void laterVectorsRebuildTheTableAddressFromTheRecordedFrame() {
    // Table offset 0x2800: first vector computes frame fe002; the second rebuilds
    // (fe002 << 12) + 0x800 = 0xfe002800, whose frame is fe002 again: no WARN_ON.
    for (MsixSwitches s :
        List.of(MsixSwitches.HARDENED, MsixSwitches.XEN_4_22, MsixSwitches.UPSTREAM)) {
      MsixDevice d = msix(s);
      assertEquals(MsixResult.OK, d.pciEnableMsix(HW, 0, BAR0));
      List<MsixResult> r = new ArrayList<>();
      assertEquals(List.of(), logged(() -> r.add(d.pciEnableMsix(HW, 3, BAR0))), s.toString());
      assertEquals(MsixResult.OK, r.get(0));
      assertEquals(2, d.usedEntries());
      assertTrue(d.isEnabled(3));
      assertFalse(d.isEnabled(2));
      assertEquals(0xfe002L, d.tableFirst());
      assertEquals(0xfe002L, d.tableLast());
      assertEquals(0xfe003L, d.pbaFirst());
      assertEquals(0xfe003L, d.pbaLast());
      assertEquals(
          "03:00.0 MSI-X: used 2, table [fe002, fe002], pba [fe003, fe003]", d.toString());
    }
  }

  @Test
  void framesAlreadyProtectedAreWarnedAbout() {
    // WARN_ON(rangeset_overlaps_range(mmio_ro_ranges, first, last)) for the table and the PBA.
    OwnedRanges reg = MsixDeviceTest.registry(MsixSwitches.HARDENED);
    int host = reg.newRegistrant("host");
    assertEquals(0, reg.add(host, 0xfe002, 0xfe003));
    MsixDevice d = new MsixDevice(device(), reg, MsixSwitches.HARDENED);
    assertEquals(
        List.of(
            "WARN WARN_ON: MSI-X 03:00.0: table frames [fe002, fe002] are already in r/o mmio"
                + " ranges",
            "WARN WARN_ON: MSI-X 03:00.0: PBA frames [fe003, fe003] are already in r/o mmio"
                + " ranges"),
        logged(() -> d.pciEnableMsix(HW, 0, BAR0)));
    // Frames nobody holds: silent.
    assertEquals(
        List.of(), logged(() -> msix(MsixSwitches.HARDENED).pciEnableMsix(HW, 0, BAR0)));
  }

  @Test
  void aPrepareIsShownAndEntriesAreChecked() {
    MsixDevice d = msix(MsixSwitches.HARDENED);
    assertEquals(MsixResult.OK, d.pciPrepareMsix());
    assertEquals(
        "03:00.0 MSI-X: used 1 (prepared), table [fe002, fe002], pba [fe003, fe003]",
        d.toString());
    assertThrows(IllegalArgumentException.class, () -> d.isEnabled(4));
    assertThrows(IllegalArgumentException.class, () -> d.isEnabled(-1));
    assertFalse(d.isEnabled(0));
    assertEquals(-Errno.EINVAL, d.pciEnableMsix(HW, 4, BAR0).rc());
    assertThrows(IllegalArgumentException.class, () -> d.pciDisableMsix(4));
    assertThrows(IllegalStateException.class, () -> d.pciDisableMsix(3));
    assertEquals(MsixResult.OK, d.pciReleaseMsix());
    assertEquals("03:00.0 MSI-X: used 0, table [0, 0], pba [0, 0]", d.toString());
  }

  @Test
  void aCallersBaseThatIsNotTheBarIsWarnedAbout() {
    // WARN_ON(msi && msi->table_base != table_paddr): a prepare has no msi, so no warning.
    MsixDevice d = msix(MsixSwitches.HARDENED);
    assertEquals(List.of(), logged(d::pciPrepareMsix));
    MsixDevice e = msix(MsixSwitches.HARDENED);
    assertEquals(
        List.of(
            "WARN WARN_ON: MSI-X 03:00.0: caller's table base 0xfd000000 differs from BAR 0"
                + " (0xfe000000)"),
        logged(() -> e.pciEnableMsix(HW, 0, 0xfd000000L)));
    // The BAR wins: the frames are the BAR's.
    assertEquals(0xfe002L, e.tableFirst());
    IllegalArgumentException x =
        assertThrows(IllegalArgumentException.class, () -> e.pciDisableMsix(4));
    assertEquals("MSI-X entry 0x4 (expected: 0x0..0x3)", x.getMessage());
  }
}
