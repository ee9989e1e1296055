package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.hvmmu.mmu.memory.MmioHandler;
import org.hvmmu.mmu.memory.RegionKind;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.msix.regs.MsixAccessPolicy;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * {@link Devices} at its edges. Expected values: the PCI Firmware spec's MCFG (segment 0 to 0xffff,
 * buses 0 to 255, a base of bus 0 aligned to 1 MiB, 1 MiB of configuration space per bus, so bus
 * {@code b}'s frames start at {@code base >>> 12 + b * 0x100}); Xen's {@code dom_io} ownership of
 * MMIO frames in the frame table ({@code share_xen_page_with_guest(..., dom_io)}); the PCI spec's
 * MSI-X table of 16 bytes per entry (the Intel 82576 dump: 10 entries at 0xe0840000, so bytes
 * 0xe0840000 to 0xe084009f); a machine whose MAXPHYADDR is 46 bits ends at frame 2^34 - 1; and by
 * hand which frames each BAR and region covers (a BAR's frames another device's MMIO already holds
 * stay that device's).
 */
class ProtMutDevicesTest {
  /** A register page that counts the writes it receives. */
  static final class Counting implements MmioHandler {
    int writes;

    @Override
    public long read(long pa, int size) {
      return 0;
    }

    @Override
    public void write(long pa, int size, long value) {
      writes++;
    }
  }

  /** A 64-bit BAR 0 at {@code address} of {@code size} bytes (HugeBarTest's device). */
  static PciDevice device(int slot, long address, long size) {
    byte[] b = new byte[256];
    long low = (address & 0xfffffff0L) | 0x4; // 64-bit memory
    for (int i = 0; i < 4; i++) {
      b[0x10 + i] = (byte) (low >>> (8 * i));
      b[0x14 + i] = (byte) (address >>> (32 + 8 * i));
    }
    return new PciDevice(new PciAddress(0, slot, 0, 0), ConfigSpace.of(b), "test",
        new long[] {size});
  }

  private static Counting claim(Host host, long first, long last) {
    Counting c = new Counting();
    host.machine().remove(first, last);
    host.machine().addMmio(first, last, c);
    return c;
  }

  // ---- MMCFG windows ---------------------------------------------------------------------------

  @Test
  void mmcfgWindowsShouldBeAcceptedUpToEveryLimit() {
    Host host = new Host(0x1000, Policy.HARDENED);
    assertEquals(0, host.addMmcfg(0xffff, 0, 0, 0xf000_0000L), "the last segment");
    assertNotNull(host.mmcfgWindow(0xf0000));
    assertEquals(0, host.addMmcfg(0, 3, 3, 0xe000_0000L), "one bus: start = end");
    assertNotNull(host.mmcfgWindow(0xe0300));
    assertNotNull(host.mmcfgWindow(0xe03ff));
    assertNull(host.mmcfgWindow(0xe02ff));
    assertNull(host.mmcfgWindow(0xe0400));
    assertEquals(0, host.addMmcfg(1, 0, 255, 0x1_0000_0000L), "the last bus");
    assertNotNull(host.mmcfgWindow(0x10_0000L + 0xffff));
    // The topmost 1 MiB below 2^46: its last frame is the machine's last, 2^34 - 1.
    long top = (1L << Host.MAX_PHYS_ADDR) - (1L << 20);
    assertEquals((1L << 34) - 1, host.machine().lastFrame());
    assertEquals(0, host.addMmcfg(2, 0, 0, top));
    assertNotNull(host.mmcfgWindow((1L << 34) - 1));
    assertEquals(-Errno.EINVAL, host.addMmcfg(3, 0, 0, 1L << Host.MAX_PHYS_ADDR));
    int[][] bads = {{-1, 0, 0}, {0x10000, 0, 0}, {4, -1, 0}, {4, 5, 4}, {4, 0, 256}};
    for (int[] bad : bads) {
      assertEquals(-Errno.EINVAL, host.addMmcfg(bad[0], bad[1], bad[2], 0xd000_0000L));
    }
    assertEquals(-Errno.EINVAL, host.addMmcfg(4, 0, 0, -(1L << 20)));
    assertEquals(-Errno.EINVAL, host.addMmcfg(4, 0, 0, 0xd008_0000L), "not 1 MiB aligned");
  }

  @Test
  void aWindowOverFreeFramesOfTheFrameTableShouldGiveThemToDomIo() {
    Host host = new Host(0x1000, Policy.HARDENED);
    // Base 0 (bus 0 at address 0): frames 0 to 0xff.
    assertEquals(0, host.addMmcfg(0, 0, 0, 0));
    assertEquals(RegionKind.MMIO, host.machine().kind(0));
    assertEquals(DomainIds.DOMID_IO, host.frames().owner(0));
    assertEquals(DomainIds.DOMID_IO, host.frames().owner(0xff));
    assertEquals(DomainIds.OWNER_NONE, host.frames().owner(0x100));
    // Base 0x200000, bus 0: frames 0x200 to 0x2ff; the frames on either side stay free RAM.
    assertEquals(0, host.addMmcfg(1, 0, 0, 0x20_0000L));
    assertEquals(DomainIds.DOMID_IO, host.frames().owner(0x200));
    assertEquals(DomainIds.DOMID_IO, host.frames().owner(0x2ff));
    assertEquals(DomainIds.OWNER_NONE, host.frames().owner(0x1ff));
    assertEquals(DomainIds.OWNER_NONE, host.frames().owner(0x300));
    assertEquals(RegionKind.MMIO, host.machine().kind(0x200));
    assertEquals(RegionKind.MMIO, host.machine().kind(0x2ff));
    assertEquals(RegionKind.RAM, host.machine().kind(0x1ff));
    assertEquals(RegionKind.RAM, host.machine().kind(0x300));
  }

  @Test
  void aWindowOverADomainsLastFrameOrTouchingMmioShouldBeRefused() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.PV, false);
    assertEquals(0, host.giveRam(d, 0x3ff, 0x3ff));
    // Frames 0x300 to 0x3ff: the last is the domain's.
    assertEquals(-Errno.EINVAL, host.addMmcfg(0, 0, 0, 0x30_0000L));
    assertEquals(DomainIds.OWNER_NONE, host.frames().owner(0x300), "nothing changed");
    assertEquals(RegionKind.RAM, host.machine().kind(0x300));
    // MMIO at a window's first frame, then at its last.
    claim(host, 0xd0000, 0xd0000);
    assertEquals(-Errno.EINVAL, host.addMmcfg(0, 0, 0, 0xd000_0000L));
    claim(host, 0xc00ff, 0xc00ff);
    assertEquals(-Errno.EINVAL, host.addMmcfg(0, 0, 0, 0xc000_0000L));
    assertNull(host.mmcfgWindow(0xc0000));
    assertNull(host.mmcfgWindow(0xd00ff));
  }

  // ---- BARs ------------------------------------------------------------------------------------

  @Test
  void aBarShouldLeaveAnotherDevicesFrameAtItsLastFrame() {
    Host host = new Host(0x1000, Policy.HARDENED);
    Counting other = claim(host, 0x303, 0x303);
    host.addDevice(device(1, 0x30_0000L, 0x4000)); // frames 0x300 to 0x303
    host.machine().write(0x30_3000L, 4, 1);
    assertEquals(1, other.writes, "frame 0x303 is still the other device's");
    for (long f = 0x300; f <= 0x303; f++) {
      assertEquals(RegionKind.MMIO, host.machine().kind(f));
    }
    assertEquals(RegionKind.RAM, host.machine().kind(0x304));
  }

  @Test
  void aBarShouldLeaveAnotherDevicesFrameAtItsFirstFrame() {
    Host host = new Host(0x1000, Policy.HARDENED);
    Counting other = claim(host, 0x300, 0x300);
    host.addDevice(device(1, 0x30_0000L, 0x4000));
    host.machine().write(0x30_0000L, 4, 1);
    assertEquals(1, other.writes, "frame 0x300 is still the other device's");
    assertEquals(RegionKind.MMIO, host.machine().kind(0x303));
    assertEquals(RegionKind.RAM, host.machine().kind(0x2ff));
  }

  @Test
  void aBarShouldMapTheRamGapsAroundAnotherDevicesFrames() {
    Host host = new Host(0x1000, Policy.HARDENED);
    Counting inner = claim(host, 0x302, 0x302);
    Counting beyond = claim(host, 0x303, 0x305);
    host.addDevice(device(1, 0x30_0000L, 0x4000)); // frames 0x300 to 0x303
    assertEquals(RegionKind.MMIO, host.machine().kind(0x300));
    assertEquals(RegionKind.MMIO, host.machine().kind(0x301));
    host.machine().write(0x30_2000L, 4, 1);
    host.machine().write(0x30_3000L, 4, 1);
    host.machine().write(0x30_5000L, 4, 1);
    assertEquals(1, inner.writes);
    assertEquals(2, beyond.writes);
    assertEquals(RegionKind.RAM, host.machine().kind(0x306));
  }

  // ---- MSI-X tables ----------------------------------------------------------------------------

  @Test
  void theTableShouldBeFoundByEachOfItsBytesOnly() {
    Host host = new Host(0x1000, Policy.HARDENED);
    Devices devices = new Devices(host);
    HostDevice nic = devices.add(HostMsixTest.nic(), MsixAccessPolicy.PCI_SPEC);
    assertNotNull(nic.msixRegistersOrNull());
    assertSame(nic, devices.withTableAt(0xe084_0000L));
    assertSame(nic, devices.withTableAt(0xe084_0001L));
    assertSame(nic, devices.withTableAt(0xe084_009fL));
    assertNull(devices.withTableAt(0xe084_00a0L), "10 entries of 16 bytes end at 0x9f");
    assertNull(devices.withTableAt(0xe083_ffffL));
  }
}
