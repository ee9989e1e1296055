package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.hvmmu.pci.ConfigBuilder;
import org.hvmmu.pci.LspciDumpReader;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.rangeset.owned.OwnedRanges;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The enable / disable / prepare / release path under the seed's, upstream's (and Xen 4.22's, the
 * same) and the hardened switches. Expected frames are worked by hand from the dumps' lspci
 * decoding and the seed's arithmetic (reference §3.4-§3.7).
 *
 * <p>The Intel 82576 dump (lspci: header type 0x80, multi-function; BAR 3 memory at e0840000,
 * 32-bit; MSI-X Count=10, table BAR=3 offset 0, PBA BAR=3 offset 0x2000):
 *
 * <ul>
 *   <li>hardened and upstream: table 0xe0840000 .. + 10 * 16 - 1 = frame e0840; PBA 0xe0842000,
 *       frame e0842 (8 or 1 bytes);
 *   <li>seed: the unmasked header type 0x80 makes {@code read_pci_mem_bar} return 0 for every BAR,
 *       so the table comes from the caller's base (e0840000 + 0: frame e0840) and the PBA from 0 +
 *       0x2000: frame 2, an unrelated frame.
 * </ul>
 */
class MsixDeviceTest {
  static final long NIC_BAR3 = 0xe0840000L;

  static PciDevice nic() {
    return LspciDumpReader.read(RealDumpsTest.dumps().resolve("pciutils_intel_82576_10c9.xxx.txt"))
        .get(0);
  }

  static OwnedRanges registry(MsixSwitches switches) {
    return new OwnedRanges(
        new IntervalTreeRangeSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX),
        switches.removalPolicy());
  }

  private static String ro(OwnedRanges registry) {
    return registry.target().toString();
  }

  /**
   * A device with BAR 0 (32-bit) at {@code bar0} holding the table at offset 0 and BAR 2 (32-bit)
   * at {@code bar2} holding the PBA at offset {@code pbaOffset}; {@code entries} entries.
   */
  static PciDevice device(int function, long bar0, long bar2, long pbaOffset, int entries) {
    byte[] bytes =
        ConfigBuilder.normal()
            .set16(0, 0x8086)
            .set16(2, 0x10c9)
            .bar(0, bar0)
            .bar(2, bar2)
            .set8(0x34, 0x40)
            .msix(0x40, 0, 0x8000 | (entries - 1), 0x0, pbaOffset | 2)
            .bytes();
    return new PciDevice(
        new PciAddress(0, 3, 0, function), org.hvmmu.pci.ConfigSpace.of(bytes), "test");
  }

  @Test
  void seedShouldLeaveTheTableWritableAfterASecondEnable() {
    OwnedRanges reg = registry(MsixSwitches.SEED_2010);
    MsixDevice d = new MsixDevice(nic(), reg, MsixSwitches.SEED_2010);
    assertEquals(0, d.nrEntries());
    assertEquals(MsixResult.OK, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, NIC_BAR3));
    assertEquals("r/o mmio ranges { 2, e0840 }", ro(reg));
    assertEquals(10, d.nrEntries());
    assertEquals(0xe0840L, d.tableFirst());
    assertEquals(0xe0840L, d.tableLast());
    assertEquals(0x2L, d.pbaFirst());
    assertEquals(0x2L, d.pbaLast());
    assertEquals(MsixResult.OK, d.pciDisableMsix(0));
    assertEquals("r/o mmio ranges { }", ro(reg));
    assertEquals(0xe0840L, d.tableFirst()); // kept
    // The next guest: nr_entries is set, so nothing is registered again.
    assertEquals(MsixResult.OK, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, NIC_BAR3));
    assertEquals(1, d.usedEntries());
    assertFalse(reg.target().containsSingleton(0xe0840L));
    assertEquals("r/o mmio ranges { }", ro(reg));
  }

  @Test
  void hardenedShouldProtectTheTableOnEveryEnable() {
    for (MsixSwitches s :
        List.of(MsixSwitches.HARDENED, MsixSwitches.UPSTREAM, MsixSwitches.XEN_4_22)) {
      OwnedRanges reg = registry(s);
      MsixDevice d = new MsixDevice(nic(), reg, s);
      assertEquals(10, d.nrEntries());
      for (int round = 0; round < 3; round++) {
        assertEquals(MsixResult.OK, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, NIC_BAR3));
        assertEquals(MsixResult.OK, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 9, NIC_BAR3));
        assertEquals("r/o mmio ranges { e0840, e0842 }", ro(reg), s.toString());
        assertEquals(MsixResult.OK, d.pciDisableMsix(9));
        assertEquals("r/o mmio ranges { e0840, e0842 }", ro(reg));
        assertEquals(MsixResult.OK, d.pciDisableMsix(0));
        assertEquals("r/o mmio ranges { }", ro(reg));
        assertEquals(0, d.tableFirst()); // cleared (XSA-337)
        assertEquals(0, d.pbaLast());
      }
    }
  }

  @Test
  void shouldCheckTheEntry() {
    MsixDevice d = new MsixDevice(nic(), registry(MsixSwitches.HARDENED), MsixSwitches.HARDENED);
    assertEquals(-Errno.EINVAL, d.pciEnableMsix(0, 10, NIC_BAR3).rc());
    assertEquals(MsixResult.OK, d.pciEnableMsix(0, 3, NIC_BAR3));
    assertEquals(-Errno.EEXIST, d.pciEnableMsix(0, 3, NIC_BAR3).rc());
    assertThrows(IllegalStateException.class, () -> d.pciDisableMsix(4));
    assertThrows(IllegalArgumentException.class, () -> d.pciDisableMsix(10));
    assertThrows(IllegalArgumentException.class, () -> d.pciEnableMsix(0, -1, NIC_BAR3));
  }

  @Test
  void theHardenedPbaSizeShouldCoverAPbaThatStraddlesAPage() {
    // 2048 entries: table 0x8000 bytes at 0xfe000000 (frames fe000-fe007); PBA at BAR 2 + 0xfe0.
    // BITS_TO_LONGS(2048) = 32 bytes: 0xfe0..0xfff, one frame; 8 * 32 = 256: 0xfe0..0x10df, two.
    PciDevice dev = device(0, 0xfe000000L, 0xfe100000L, 0xfe0, 2048);
    for (MsixSwitches s : List.of(MsixSwitches.UPSTREAM, MsixSwitches.XEN_4_22)) {
      OwnedRanges upstream = registry(s);
      new MsixDevice(dev, upstream, s).pciPrepareMsix();
      assertEquals("r/o mmio ranges { fe000-fe007, fe100 }", ro(upstream));
    }
    OwnedRanges hardened = registry(MsixSwitches.HARDENED);
    new MsixDevice(dev, hardened, MsixSwitches.HARDENED).pciPrepareMsix();
    assertEquals("r/o mmio ranges { fe000-fe007, fe100-fe101 }", ro(hardened));
  }

  @Test
  void prepareAndReleaseShouldNotExistInTheSeed() {
    MsixDevice d = new MsixDevice(nic(), registry(MsixSwitches.SEED_2010), MsixSwitches.SEED_2010);
    assertEquals(-Errno.ENOSYS, d.pciPrepareMsix().rc());
    assertEquals(-Errno.ENOSYS, d.pciReleaseMsix().rc());
  }

  @Test
  void aPreparedDeviceShouldStayProtectedWhileItsGuestUsesIt() {
    OwnedRanges reg = registry(MsixSwitches.HARDENED);
    MsixDevice d = new MsixDevice(nic(), reg, MsixSwitches.HARDENED);
    assertEquals(-Errno.EBUSY, d.pciReleaseMsix().rc());
    assertEquals(MsixResult.OK, d.pciPrepareMsix());
    assertTrue(d.isPrepared());
    assertEquals(1, d.usedEntries());
    assertEquals("r/o mmio ranges { e0840, e0842 }", ro(reg));
    assertEquals(-Errno.EBUSY, d.pciPrepareMsix().rc());
    d.assign(1, true);
    // dom0's device model sets up d1's vector: untrusted, but the frames are recorded.
    assertEquals(MsixResult.OK, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, NIC_BAR3));
    assertEquals(2, d.usedEntries());
    assertEquals(-Errno.EBUSY, d.pciReleaseMsix().rc());
    assertEquals(MsixResult.OK, d.pciDisableMsix(0));
    assertEquals("r/o mmio ranges { e0840, e0842 }", ro(reg));
    assertEquals(MsixResult.OK, d.pciReleaseMsix());
    assertFalse(d.isPrepared());
    assertEquals(0, d.usedEntries());
    assertEquals("r/o mmio ranges { }", ro(reg));
  }

  @Test
  void anUnpreparedGuestDeviceShouldGetNoData() {
    for (MsixSwitches s :
        List.of(MsixSwitches.HARDENED, MsixSwitches.UPSTREAM, MsixSwitches.XEN_4_22)) {
      OwnedRanges reg = registry(s);
      MsixDevice d = new MsixDevice(nic(), reg, s);
      d.assign(1, true);
      assertEquals(-Errno.ENODATA, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, NIC_BAR3).rc());
      assertEquals(-Errno.ENODATA, d.pciEnableMsix(1, 0, NIC_BAR3).rc());
      assertEquals(0, d.usedEntries());
      assertFalse(d.isEnabled(0));
      assertEquals("r/o mmio ranges { }", ro(reg));
    }
  }

  @Test
  void before2020AnUnpreparedGuestWasCrashedIfItCouldHaveMappings() {
    // Xen 4.5-4.14: no -ENODATA, recorded frames kept. A prepare then release records the frames;
    // the hardware domain then sets up the guest's first vector.
    MsixSwitches s =
        MsixSwitches.UPSTREAM.withNoDataForUntrustedSetup(false).withClearRecordedRanges(false);
    OwnedRanges reg = registry(s);
    MsixDevice d = new MsixDevice(nic(), reg, s);
    assertEquals(MsixResult.OK, d.pciPrepareMsix());
    assertEquals(MsixResult.OK, d.pciReleaseMsix());
    d.assign(1, true);
    MsixResult r = d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, NIC_BAR3);
    assertEquals(0, r.rc());
    assertTrue(r.domainCrashed());
    assertEquals(1, r.crashedDomain());
    assertEquals("r/o mmio ranges { e0840, e0842 }", ro(reg));
    assertEquals(MsixResult.OK, d.pciDisableMsix(0));
    // A guest without memory yet has no mappings: no crash when the hardware domain acts.
    d.assign(2, false);
    assertEquals(MsixResult.OK, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, NIC_BAR3));
    assertEquals(MsixResult.OK, d.pciDisableMsix(0));
    // The guest itself is never trusted.
    assertEquals(2, d.pciEnableMsix(2, 0, NIC_BAR3).crashedDomain());
    assertEquals("0 (domain_crash(d2))", new MsixResult(0, 0, 2).toString());
  }

  @Test
  void upstreamReleaseOfARealVectorLeavesItUnprotected() {
    for (MsixSwitches s : List.of(MsixSwitches.UPSTREAM, MsixSwitches.XEN_4_22)) {
      OwnedRanges reg = registry(s);
      MsixDevice d = new MsixDevice(nic(), reg, s);
      assertEquals(MsixResult.OK, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, NIC_BAR3));
      assertEquals(MsixResult.OK, d.pciReleaseMsix());
      assertTrue(d.isEnabled(0));
      assertEquals("r/o mmio ranges { }", ro(reg));
      assertEquals(MsixResult.OK, d.pciDisableMsix(0));
      assertEquals(0xffffffffL, d.usedEntries()); // unsigned wrap, as in C
    }

    OwnedRanges hardened = registry(MsixSwitches.HARDENED);
    MsixDevice h = new MsixDevice(nic(), hardened, MsixSwitches.HARDENED);
    assertEquals(MsixResult.OK, h.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, NIC_BAR3));
    assertEquals(-Errno.EBUSY, h.pciReleaseMsix().rc());
    assertEquals("r/o mmio ranges { e0840, e0842 }", ro(hardened));
  }

  @Test
  void anUnassignedTableBarShouldFallBackToTheTrustedCallersBase() {
    // BAR 0 reads 0: prepare has no base (-ENXIO); the hardware domain's own enable uses its base.
    PciDevice dev = device(0, 0, 0xfe100000L, 0x0, 4);
    OwnedRanges reg = registry(MsixSwitches.HARDENED);
    MsixDevice d = new MsixDevice(dev, reg, MsixSwitches.HARDENED);
    assertEquals(-Errno.ENXIO, d.pciPrepareMsix().rc());
    assertEquals(-Errno.ENXIO, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, 0).rc());
    assertEquals(MsixResult.OK, d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, 0xfd000000L));
    assertEquals("r/o mmio ranges { fd000, fe100 }", ro(reg));
  }

  @Test
  void twoDevicesPbasInOneFrame() {
    // A: table fe000000 (frame fe000), PBA fe100000 (frame fe100); B: table fe010000, PBA
    // fe100800: the same frame fe100. A host registrant holds the MMCFG-like frame fe000 too.
    PciDevice a = device(0, 0xfe000000L, 0xfe100000L, 0, 4);
    PciDevice b = device(1, 0xfe010000L, 0xfe100800L, 0, 4);
    for (MsixSwitches s :
        List.of(MsixSwitches.HARDENED, MsixSwitches.UPSTREAM, MsixSwitches.XEN_4_22)) {
      OwnedRanges reg = registry(s);
      int host = reg.newRegistrant("host");
      assertEquals(0, reg.add(host, 0xfe000, 0xfe000));
      MsixDevice da = new MsixDevice(a, reg, s);
      MsixDevice db = new MsixDevice(b, reg, s);
      assertEquals(MsixResult.OK, da.pciEnableMsix(0, 0, 0xfe000000L));
      assertEquals(MsixResult.OK, db.pciEnableMsix(0, 0, 0xfe010000L));
      assertEquals("r/o mmio ranges { fe000, fe010, fe100 }", ro(reg));
      assertEquals(MsixResult.OK, da.pciDisableMsix(0));
      if (s.ownershipAwareRemoval()) {
        assertEquals("r/o mmio ranges { fe000, fe010, fe100 }", ro(reg));
        assertEquals(List.of(), reg.violations());
      } else {
        // Xen: A's removal unprotects B's PBA and the host's frame.
        assertEquals("r/o mmio ranges { fe010 }", ro(reg));
        assertEquals(2, reg.violations().size());
      }
    }
    // The seed reads BAR 2 as its flag bits (0): both PBAs land in frame 0 + 0 >> 12 = 0.
    OwnedRanges reg = registry(MsixSwitches.SEED_2010);
    MsixDevice da = new MsixDevice(a, reg, MsixSwitches.SEED_2010);
    MsixDevice db = new MsixDevice(b, reg, MsixSwitches.SEED_2010);
    assertEquals(MsixResult.OK, da.pciEnableMsix(0, 0, 0xfe000000L));
    assertEquals(MsixResult.OK, db.pciEnableMsix(0, 0, 0xfe010000L));
    assertEquals("r/o mmio ranges { 0, fe000, fe010 }", ro(reg));
    assertEquals(MsixResult.OK, da.pciDisableMsix(0));
    assertEquals("r/o mmio ranges { fe010 }", ro(reg));
  }

  @Test
  void aFullSetShouldLoseNothingAlreadyRegistered() {
    PciDevice a = device(0, 0xfe000000L, 0xfe100000L, 0, 4);
    PciDevice b = device(1, 0xfe010000L, 0xfe100800L, 0, 4);
    OwnedRanges reg = registry(MsixSwitches.HARDENED);
    reg.target().setLimit(2);
    MsixDevice da = new MsixDevice(a, reg, MsixSwitches.HARDENED);
    MsixDevice db = new MsixDevice(b, reg, MsixSwitches.HARDENED);
    assertEquals(MsixResult.OK, da.pciPrepareMsix());
    // B's table needs a third range: refused; its PBA frame is already a range: accepted.
    MsixResult r = db.pciPrepareMsix();
    assertEquals(0, r.rc());
    assertEquals(-Errno.ENOMEM, r.rangesetRc());
    assertEquals("0 (rangeset -ENOMEM)", r.toString());
    assertEquals("r/o mmio ranges { fe000, fe100 }", ro(reg));
    assertEquals(1, reg.registrationCount(db.registrant()));
    assertEquals(MsixResult.OK, db.pciReleaseMsix());
    assertEquals("r/o mmio ranges { fe000, fe100 }", ro(reg));
    assertEquals(0, reg.registrationCount(db.registrant()));
    assertEquals(List.of(), reg.violations());
    assertTrue(da.checkInvariants());
    assertTrue(db.checkInvariants());
  }

  @Test
  void aFailedRemovalShouldKeepTheFramesAndBeRetried() {
    // Xen's removal (upstream): host [e0830, e0850] and the NIC's table frame inside it; at the
    // limit, removing e0840 would split the host's range: -ENOMEM, WARN, and the frame stays.
    OwnedRanges reg = registry(MsixSwitches.UPSTREAM);
    int host = reg.newRegistrant("host");
    assertEquals(0, reg.add(host, 0xe0830, 0xe0850));
    MsixDevice d = new MsixDevice(nic(), reg, MsixSwitches.UPSTREAM);
    assertEquals(MsixResult.OK, d.pciEnableMsix(0, 0, NIC_BAR3));
    reg.target().setLimit(1);
    MsixResult r = d.pciDisableMsix(0);
    assertEquals(-Errno.ENOMEM, r.rangesetRc());
    assertEquals("r/o mmio ranges { e0830-e0850 }", ro(reg));
    assertTrue(d.checkInvariants());
  }

  @Test
  void shouldLogTheSeedsWarningsAndItsTableLine() {
    Logger logger = (Logger) LoggerFactory.getLogger(MsixDevice.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    Level before = logger.getLevel();
    logger.addAppender(appender);
    logger.setLevel(Level.DEBUG);
    try {
      MsixDevice d =
          new MsixDevice(nic(), registry(MsixSwitches.SEED_2010), MsixSwitches.SEED_2010);
      d.pciEnableMsix(MsixDevice.HARDWARE_DOMAIN, 0, NIC_BAR3);
    } finally {
      logger.detachAppender(appender);
      logger.setLevel(before);
    }
    List<String> lines =
        appender.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
    assertEquals(
        List.of(
            "WARN WARN_ON: MSI-X 01:00.0: caller's table base 0xe0840000 differs from BAR 3 as"
                + " read_pci_mem_bar reads it (0x0)",
            "WARN WARN_ON: MSI-X 01:00.0: PBA BAR 3 reads 0",
            "DEBUG MSIX 01:00.0: table@(e0840,e0840), pba@(2,2)"),
        lines);
  }

  @Test
  void shouldRejectMismatchedRegistriesAndDevicesWithoutMsix() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new MsixDevice(nic(), registry(MsixSwitches.SEED_2010), MsixSwitches.HARDENED));
    PciDevice plain = ConfigBuilder.normal().device();
    assertThrows(
        IllegalArgumentException.class,
        () -> new MsixDevice(plain, registry(MsixSwitches.HARDENED), MsixSwitches.HARDENED));
    MsixDevice d = new MsixDevice(nic(), registry(MsixSwitches.HARDENED), MsixSwitches.HARDENED);
    assertThrows(IllegalArgumentException.class, () -> d.assign(DomainIds.DOMID_XEN, false));
  }
}
