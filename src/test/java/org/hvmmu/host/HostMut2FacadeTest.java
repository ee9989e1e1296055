package org.hvmmu.host;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.host.access.SubpageState;
import org.hvmmu.mmu.LatencyModel;
import org.hvmmu.mmu.MmuCounters;
import org.hvmmu.mmu.MmuSwitches;
import org.hvmmu.mmu.TlbConfig;
import org.hvmmu.mmu.Vendor;
import org.hvmmu.mmu.memory.RegionKind;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.pci.msix.regs.MsixRegisters;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.EmulationResult;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * The host facade's remaining contracts, each pinned by an independent source: Xen 4.22's
 * hypercalls ({@code xen/arch/x86/mm.c}: {@code MMUEXT_PIN_L1_TABLE} of a frame the domain does
 * not own and {@code MMUEXT_UNPIN_TABLE} of an unpinned one give {@code -EINVAL}, {@code
 * new_guest_cr3} of a foreign frame {@code -EINVAL}, {@code __do_update_va_mapping} without a
 * guest L1 {@code -EINVAL}, {@code get_page_from_l1e} of MMIO outside {@code iomem_caps} {@code
 * -EPERM}; a p2m that cannot allocate a table page {@code -ENOMEM}; {@code domain_crash} of a
 * domain already shutting down does nothing; a hypercall returns with no lock held), the PCI
 * spec's MSI-X layout (16-byte table entries, a PBA of one bit per entry in 8-byte words), the
 * VPID and ASID ranges of the SDM and AMD's APM (1 to 0xffff for guests), and the doc comments'
 * contracts (frames {@code [0, frameCount - 1]} are RAM; domains in id order). The Intel 82576
 * dump ({@link HostMsixTest#nic()}): 10 entries, table at 0xe0840000, PBA at 0xe0842000.
 */
class HostMut2FacadeTest {
  static final Policy XEN = Policy.HARDENED.withRoMmio(RoMmioSwitches.XEN_4_22);
  static final long MMIO = 0x100000;
  static final int URW = PAGE_PRESENT | PAGE_RW | PAGE_USER;
  static final long TABLE = 0xe0840000L;
  static final long PBA = 0xe0842000L;

  /** A call from another thread that takes the configuration lock: it must return. */
  static void assertLockFree(Host host) throws Exception {
    ExecutorService ex = Executors.newSingleThreadExecutor();
    try {
      Future<Integer> f = ex.submit(() -> host.subpageMmioRoAdd(8, 0));
      int rc = f.get(20, TimeUnit.SECONDS);
      assertTrue(rc == 0 || rc == -Errno.EILSEQ, "rc " + rc);
    } finally {
      ex.shutdownNow();
    }
  }

  // ---- construction -----------------------------------------------------------------------------

  @Test
  void theP2mCapacityShouldBeAtLeastFourPages() {
    // An EPT or NPT walk needs a table per level: 4 pages for the first mapping.
    GuestDomain d = new Host(0x1000, XEN, CpuFeatures.ALL, 4)
        .createDomain(1, PagingMode.HVM_EPT, false);
    assertTrue(d.hasP2m());
    assertThrows(IllegalArgumentException.class,
        () -> new Host(0x1000, XEN, CpuFeatures.ALL, 3));
    assertThrows(IllegalArgumentException.class,
        () -> new Host(0x1000, XEN, CpuFeatures.ALL, 0));
  }

  @Test
  void theFrameTablesFramesShouldBeExactlyTheRam() {
    Host host = new Host(0x10, XEN);
    assertEquals(RegionKind.RAM, host.machine().kind(0));
    assertEquals(RegionKind.RAM, host.machine().kind(0xf));
    assertEquals(RegionKind.ABSENT, host.machine().kind(0x10));
    assertEquals(RegionKind.ABSENT, host.machine().kind(0x11));
  }

  @Test
  void toStringShouldNameTheFrameCount() {
    assertTrue(new Host(0x1000, XEN).toString().startsWith("host with 4096 frames, "));
  }

  // ---- domains and memory -----------------------------------------------------------------------

  @Test
  void domainsShouldBeListedInIdOrderWhateverTheCreationOrder() {
    Host host = new Host(0x1000, XEN);
    host.createDomain(1, PagingMode.PV, false);
    host.createDomain(2, PagingMode.HVM_EPT, false);
    assertEquals(List.of(1, 2), ids(host));
    host.createDomain(7, PagingMode.PV, false);
    host.createDomain(4, PagingMode.HVM_NPT, false);
    host.createDomain(0, PagingMode.PV, true);
    assertEquals(List.of(0, 1, 2, 4, 7), ids(host));
  }

  private static List<Integer> ids(Host host) {
    return host.domains().stream().map(GuestDomain::id).toList();
  }

  @Test
  void anMmioHoleShouldBeDomIosAndDecodeNothing() throws Exception {
    Host host = new Host(0x1000, XEN);
    host.addMmioHole(0x800, 0x80f);
    assertEquals(DomainIds.DOMID_IO, host.frames().owner(0x800));
    assertEquals(DomainIds.DOMID_IO, host.frames().owner(0x80f));
    assertEquals(DomainIds.OWNER_NONE, host.frames().owner(0x810));
    assertEquals(RegionKind.ABSENT, host.machine().kind(0x800));
    assertEquals(RegionKind.ABSENT, host.machine().kind(0x80f));
    assertEquals(RegionKind.RAM, host.machine().kind(0x810));
    assertEquals(RegionKind.RAM, host.machine().kind(0x7ff));
    assertLockFree(host);
  }

  @Test
  void aCrashedDomainShouldGetNoMemoryNoIomemNoVcpuNoDevice() throws Exception {
    Host host = new Host(0x1000, XEN);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    host.crashDomain(d);
    assertThrows(IllegalStateException.class, () -> host.giveRam(d, 0x100, 0x10f));
    assertEquals(DomainIds.OWNER_NONE, host.frames().owner(0x100));
    assertThrows(IllegalStateException.class, () -> host.grantIomem(d, MMIO, MMIO));
    assertFalse(d.mmuView().iomemCaps().containsSingleton(MMIO));
    assertThrows(IllegalStateException.class, () -> host.createVcpu(d));
    assertEquals(0, d.vcpuCount());
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    assertThrows(IllegalStateException.class, () -> host.assignDevice(nic, d));
    assertEquals(null, nic.owner());
    // A function without memory BARs: no grant to refuse it, the domain itself is refused.
    HostDevice bare = host.addDevice(HostMut2DomainTest.device(0x2, 0, 0));
    assertEquals(0, bare.barFrames().length);
    assertThrows(IllegalStateException.class, () -> host.assignDevice(bare, d));
    assertEquals(null, bare.owner());
    assertLockFree(host);
  }

  @Test
  void assigningShouldMakeTheDomainTheOwnerAndReleaseTheLock() throws Exception {
    Host host = new Host(0x1000, XEN);
    GuestDomain d = host.createDomain(1, PagingMode.PV, false);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    assertEquals(0, host.assignDevice(nic, d));
    assertEquals(d, nic.owner());
    assertLockFree(host);
  }

  @Test
  void giveRamShouldReportThePoolRunningOut() throws Exception {
    Host host = new Host(0x1000, XEN, CpuFeatures.ALL, 4);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    // Root, L3, L2 and one L1: gfn 0x1ff fits, gfn 0x200 needs a second L1 table.
    assertEquals(-Errno.ENOMEM, host.giveRam(d, 0x1ff, 0x200));
    assertEquals(1, host.frames().owner(0x200), "the frames stay assigned");
    assertLockFree(host);
    assertEquals(-Errno.ENOMEM,
        host.setP2mEntry(d, 0x400, 0x400, PageOrder.ORDER_4K, P2mType.RAM_RW));
  }

  @Test
  void grantIomemShouldReportThePoolRunningOut() {
    Host host = new Host(0x1000, XEN, CpuFeatures.ALL, 4);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    assertEquals(-Errno.ENOMEM, host.grantIomem(d, MMIO + 0x1ff, MMIO + 0x200));
  }

  @Test
  void anAlignedTwoMegabyteGrantShouldBeOneSuperpage() {
    Host host = new Host(0x1000, XEN);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    // Exactly 512 frames from a 2 MiB boundary: one 2-MByte mmio_direct leaf.
    assertEquals(0, host.grantIomem(d, MMIO, MMIO + 0x1ff));
    P2mEntry e = new P2mEntry();
    assertTrue(d.p2m().getEntry(MMIO + 0x1ff, e));
    assertEquals(PageOrder.ORDER_2M, e.order());
    assertTrue(d.hasMmioSuperpages());
    // 511 frames: 4-KByte leaves.
    assertEquals(0, host.grantIomem(d, MMIO + 0x400, MMIO + 0x5fe));
    assertTrue(d.p2m().getEntry(MMIO + 0x400, e));
    assertEquals(PageOrder.ORDER_4K, e.order());
  }

  // ---- vCPUs ------------------------------------------------------------------------------------

  @Test
  void anNptVcpuShouldBeAnAmdProcessorAndAnEptVcpuAnIntelOne() throws Exception {
    Host host = new Host(0x1000, XEN);
    GuestVcpu amd = host.createVcpu(host.createDomain(1, PagingMode.HVM_NPT, false));
    assertEquals(Vendor.AMD, amd.cpu().features().vendor());
    assertEquals(MmuSwitches.PscStyle.AMD_PHYSICAL, amd.cpu().switches().pscStyle());
    assertTrue(amd.cpu().switches().l4GlobalReserved(), "AMD reserves the PML4E G bit");
    GuestVcpu intel = host.createVcpu(host.createDomain(2, PagingMode.HVM_EPT, false));
    assertEquals(Vendor.INTEL, intel.cpu().features().vendor());
    assertEquals(MmuSwitches.PscStyle.INTEL_PREFIX, intel.cpu().switches().pscStyle());
    assertFalse(intel.cpu().switches().l4GlobalReserved());
    assertLockFree(host);
  }

  @Test
  void configuringVcpusShouldReleaseTheLock() throws Exception {
    Host host = new Host(0x1000, XEN);
    host.configureVcpus(TlbConfig.none(), LatencyModel.FREE, MmuSwitches.TlbMode.OVER_FLUSH);
    assertLockFree(host);
    GuestVcpu v = host.createVcpu(host.createDomain(1, PagingMode.HVM_EPT, false));
    assertEquals(MmuSwitches.TlbMode.OVER_FLUSH, v.cpu().switches().tlbMode());
  }

  @Test
  void vpidsShouldRunFromOneTo0xffffThenWrapToOne() throws Exception {
    Host host = new Host(0x1000, XEN);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    assertEquals(1, host.createVcpu(d).cpu().vpid());
    assertEquals(2, host.createVcpu(d).cpu().vpid());
    // 0xfffb more vCPUs would take gigabytes: the allocator's next tag is set as if they existed.
    Field next = Host.class.getDeclaredField("nextVpid");
    next.setAccessible(true);
    next.setInt(host, 0xFFFE);
    assertEquals(0xFFFE, host.createVcpu(d).cpu().vpid());
    assertEquals(0xFFFF, host.createVcpu(d).cpu().vpid(), "the last guest VPID");
    assertEquals(1, host.createVcpu(d).cpu().vpid(), "0 is the hypervisor's: wrap to 1");
    GuestVcpu amd = host.createVcpu(host.createDomain(2, PagingMode.HVM_NPT, false));
    assertEquals(2, amd.cpu().vpid(), "ASIDs come from the same counter");
  }

  // ---- crash ------------------------------------------------------------------------------------

  @Test
  void aCrashShouldForgetTheSuperpagesAndASecondCrashDoNothing() {
    Host host = new Host(0x1000, XEN);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    assertEquals(0, host.grantIomem(d, MMIO, MMIO + 0x1ff));
    assertTrue(d.hasMmioSuperpages());
    GuestVcpu v = host.createVcpu(d);
    host.crashDomain(d);
    assertFalse(d.hasMmioSuperpages());
    assertEquals(0, d.mmioSuperpages().length);
    MmuCounters c = v.cpu().counters();
    long full = c.flushesFull();
    long elided = c.flushesElided();
    long partial = c.flushesPartial();
    host.crashDomain(d); // already dying: Xen's domain_shutdown returns at once
    assertEquals(full, c.flushesFull());
    assertEquals(elided, c.flushesElided());
    assertEquals(partial, c.flushesPartial());
    assertTrue(d.crashed());
  }

  // ---- PV hypercall results ---------------------------------------------------------------------

  @Test
  void pvHypercallsShouldReportXensErrors() {
    Host host = new Host(0x1000, XEN);
    GuestDomain d = host.createDomain(1, PagingMode.PV, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    // Frame 0x300 belongs to nobody: no reference, no pin.
    assertEquals(-Errno.EINVAL, host.pinL1Table(d, 0x300));
    assertEquals(-Errno.EINVAL, host.unpinTable(d, 0x100), "not pinned");
    assertEquals(0, host.pinL1Table(d, 0x100));
    // MMIO outside iomem_caps.
    assertEquals(-Errno.EPERM, host.mmuUpdate(d, 0x100, 0, Pte.fromMfn(MMIO, URW)));
    assertEquals(0, host.mmuUpdate(d, 0x100, 0, Pte.fromMfn(0x101, URW)));
    GuestVcpu v = host.createVcpu(d);
    assertEquals(-Errno.EINVAL, host.newBaseptr(v, 0x300));
    // No base pointer: no guest L1 maps linear 0.
    assertEquals(-Errno.EINVAL, host.updateVaMapping(v, 0, Pte.fromMfn(0x102, URW), 0, 0));
    // A permitted emulated store into the L1 table.
    assertEquals(EmulationResult.OKAY,
        host.ptwrEmulatedUpdate(d, 0x100, 8, 0, Pte.fromMfn(0x103, URW), 8, false));
    assertEquals(0x103, Pte.getMfn(host.pvMmu().readEntry(0x100, 1)));
  }

  // ---- MSI-X ------------------------------------------------------------------------------------

  @Test
  void ownedBytesShouldFollowTheDevicesMsixUse() throws Exception {
    Host host = new Host(0x1000, Policy.HARDENED);
    host.createDomain(0, PagingMode.PV, true);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    assertEquals(1, host.devices().size());
    assertLockFree(host);
    assertEquals(0, host.enableMsix(nic, 0).rc());
    assertLockFree(host);
    // 10 entries of 16 bytes; a PBA of one 8-byte word.
    assertBytes(List.of(new long[] {TABLE, TABLE + 10 * 16 - 1}),
        host.protectedBytes(TABLE >>> 12));
    assertBytes(List.of(new long[] {PBA, PBA + 7}), host.protectedBytes(PBA >>> 12));
    assertEquals(0, host.disableMsix(nic, 0).rc());
    assertLockFree(host);
    assertEquals(List.of(), host.protectedBytes(TABLE >>> 12));
    assertEquals(List.of(), host.protectedBytes(PBA >>> 12));
  }

  @Test
  void releaseShouldEndTheGuardAndEveryCallReleaseTheLock() throws Exception {
    Host host = new Host(0x1000, Policy.HARDENED);
    host.createDomain(0, PagingMode.PV, true);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    MsixRegisters regs = nic.msixRegisters();
    assertEquals(0, host.prepareMsix(nic).rc());
    assertLockFree(host);
    assertEquals(0, host.enableMsix(nic, 0).rc());
    assertEquals(0, host.programMsix(nic, 0, 0xfee03000L, 0x41));
    assertLockFree(host);
    assertTrue(regs.isGuarded());
    assertEquals(0, host.disableMsix(nic, 0).rc());
    assertTrue(regs.isGuarded(), "still prepared: Xen still uses the table");
    assertEquals(0, host.releaseMsix(nic).rc());
    assertLockFree(host);
    assertFalse(regs.isGuarded(), "released: no longer guarded");
  }

  @Test
  void anEntryPastTheTableShouldBeRefused() {
    Host host = new Host(0x1000, Policy.HARDENED);
    host.createDomain(0, PagingMode.PV, true);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    assertEquals(0, host.enableMsix(nic, 0).rc());
    // Entries 0 to 9.
    assertEquals(-Errno.EINVAL, host.programMsix(nic, 10, 0xfee03000L, 0x41));
    assertEquals(-Errno.EINVAL, host.programMsix(nic, -1, 0xfee03000L, 0x41));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> host.disableMsix(nic, 10));
    assertTrue(e.getMessage().contains("0x0..0x9"), e.getMessage());
  }

  // ---- protection -------------------------------------------------------------------------------

  @Test
  void protectedBytesShouldBeClippedToTheFrame() {
    Host host = new Host(0x1000, Policy.HARDENED);
    long start = (MMIO << 12) + 0xFF0;
    assertEquals(0, host.protectBytes("a", start, 0x20));
    assertBytes(List.of(new long[] {start, (MMIO << 12) + 0xFFF}), host.protectedBytes(MMIO));
    assertBytes(List.of(new long[] {(MMIO + 1) << 12, ((MMIO + 1) << 12) + 0xF}),
        host.protectedBytes(MMIO + 1));
    // Frame 2^40 starts at byte 2^52, past every x86 physical address.
    assertEquals(List.of(), host.protectedBytes(1L << 40));
  }

  private static void assertBytes(List<long[]> expected, List<long[]> actual) {
    assertEquals(expected.size(), actual.size());
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(expected.get(i), actual.get(i));
    }
  }

  @Test
  void subpageAddShouldRefuseANegativeSizeFromMidPage() {
    Host host = new Host(0x1000, XEN);
    // [start - 8, start) would lie on the same page: still no range.
    assertEquals(-Errno.EINVAL, host.subpageMmioRoAdd((MMIO << 12) + 0x800, -8));
    assertFalse(host.mmioRoRanges().containsSingleton(MMIO));
    assertTrue(host.subpages().isEmpty());
  }

  @Test
  void subpageAddShouldTakeByteZero() {
    Host host = new Host(0x1000, XEN);
    assertEquals(0, host.subpageMmioRoAdd(0, 8));
    assertTrue(host.mmioRoRanges().containsSingleton(0));
  }

  @Test
  void subpageAddShouldReportAFullRangeSetAndAddNoEntry() {
    Host host = new Host(0x1000, XEN);
    assertEquals(0, host.subpageMmioRoAdd((MMIO << 12) + 8, 8));
    host.mmioRoRanges().setLimit(1);
    assertEquals(-Errno.ENOMEM, host.subpageMmioRoAdd(((MMIO + 4) << 12) + 8, 8));
    assertFalse(host.mmioRoRanges().containsSingleton(MMIO + 4));
    assertEquals(SubpageState.NONE,
        host.subpages().state(MMIO + 4, 8));
  }
}
