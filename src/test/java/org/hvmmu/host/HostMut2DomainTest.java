package org.hvmmu.host;

import static org.hvmmu.mmu.ControlRegisters.CR0_PE;
import static org.hvmmu.mmu.ControlRegisters.CR0_PG;
import static org.hvmmu.mmu.ControlRegisters.CR0_WP;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.hvmmu.mmu.ControlRegisters.EFER_LMA;
import static org.hvmmu.mmu.ControlRegisters.EFER_LME;
import static org.hvmmu.mmu.ControlRegisters.EFER_NXE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.mmu.xen.GuestWalkSwitches;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.msix.MsixDevice;
import org.junit.jupiter.api.Test;

/**
 * The accessors of {@link GuestDomain}, {@link HostDevice}, {@link XenHeap}, {@link Policy} and
 * {@link DeviceModel}, pinned by their documented contracts and independent sources: the PCI spec
 * (Command's Memory Space Enable is bit 1; a function that does not decode memory does not answer,
 * so a read returns all ones; I/O BARs are not memory; a memory BAR spans {@code [address, address
 * + size - 1]}, clamped where it would pass 2^64), Xen's shadow pool (a shadow page records the
 * guest table it shadows; page 0 is the blank table), Xen's domain names ({@code d<id>}), and the
 * heap's documented placement (32 TiB up, contiguous blocks, ending at MAXPHYADDR 46: frame 2^34 -
 * 1).
 */
class HostMut2DomainTest {
  static final long M = 0x100000;

  // ---- GuestDomain ------------------------------------------------------------------------------

  @Test
  void aDomainWithoutShadowsShouldHaveNoGuestTables() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain pv = host.createDomain(1, PagingMode.PV, false);
    GuestDomain ept = host.createDomain(2, PagingMode.HVM_EPT, false);
    assertEquals(0, pv.guestTableCount());
    assertEquals(0, ept.guestTableCount());
    assertEquals(-1, pv.shadowedFrame(0x100));
    assertEquals(-1, ept.shadowedFrame(0x100));
    assertThrows(IllegalArgumentException.class, () -> ept.guestEntry(0, 0));
    assertThrows(IllegalArgumentException.class, () -> ept.shadowEntry(0, 0));
    assertThrows(IllegalArgumentException.class, () -> pv.guestTableFrame(0));
  }

  @Test
  void aShadowedDomainShouldCountItsGuestTables() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_SHADOW, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, d.guestTableCount());
    host.newGuestTable(d);
    host.newGuestTable(d);
    assertEquals(2, d.guestTableCount());
  }

  @Test
  void aShadowPageShouldNameTheGuestTableItShadows() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_SHADOW, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x3ff));
    // L4 0x180 [0] -> L3 0x181 [0] -> L2 0x182 [2] -> L1 0x183 [0] -> 0x150: linear 0x400000.
    put(host, d, 0x180, 0, (0x181L << 12) | 7);
    put(host, d, 0x181, 0, (0x182L << 12) | 7);
    put(host, d, 0x182, 2, (0x183L << 12) | 7);
    put(host, d, 0x183, 0, (0x150L << 12) | 7);
    host.writeGuestPhysical(d, 0x150L << 12, 8, 0x1111);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.loadGuestState(CR0_PE | CR0_WP | CR0_PG, 0x180L << 12, CR4_PAE,
        EFER_LME | EFER_LMA | EFER_NXE));
    assertEquals(0x1111, v.read(0x40_0000L, 8, Access.USER));
    ShadowDomain sd = d.shadow();
    byte[] types = {ShadowDomain.L4, ShadowDomain.L3, ShadowDomain.L2, ShadowDomain.L1};
    for (int level = 0; level < 4; level++) {
      long guestFrame = 0x180 + level;
      int page = sd.lookup(guestFrame, types[level]);
      assertTrue(page > 0, "shadow of 0x" + Long.toHexString(guestFrame));
      assertEquals(guestFrame, d.shadowedFrame(sd.frame(page)));
    }
    assertEquals(-1, d.shadowedFrame(sd.blankFrame()), "the blank table shadows nothing");
    assertEquals(-1, d.shadowedFrame(0x150), "a guest frame is no shadow page");
  }

  private static void put(Host host, GuestDomain d, long frame, int slot, long value) {
    host.writeGuestPhysical(d, (frame << 12) + 8L * slot, 8, value);
  }

  @Test
  void superpagesAndMsixtblShouldBeListedOnlyOnceThere() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    assertFalse(d.hasMmioSuperpages());
    assertFalse(d.hasMsixtbl());
    assertEquals(0, host.grantIomem(d, M, M + 0xf)); // 4-KByte leaves only
    assertFalse(d.hasMmioSuperpages());
    host.registerMsixtbl(d, 0x10_0000, 8, M << 12, 0, false);
    assertTrue(d.hasMsixtbl());
  }

  @Test
  void aDomainShouldBeNamedByIdModeAndPrivilege() {
    Host host = new Host(0x1000, Policy.HARDENED);
    assertEquals("d0 (PV, privileged)", host.createDomain(0, PagingMode.PV, true).toString());
    assertEquals("d1 (HVM_EPT)", host.createDomain(1, PagingMode.HVM_EPT, false).toString());
  }

  // ---- HostDevice -------------------------------------------------------------------------------

  /** A type-0 header: Command {@code command}, a 64-bit BAR 0 at {@code bar0}, I/O BAR 2. */
  static PciDevice device(int command, long bar0, long size0) {
    byte[] b = new byte[256];
    b[4] = (byte) command;
    b[5] = (byte) (command >>> 8);
    long low = (bar0 & 0xfffffff0L) | 0x4; // 64-bit memory
    for (int i = 0; i < 4; i++) {
      b[0x10 + i] = (byte) (low >>> (8 * i));
      b[0x14 + i] = (byte) (bar0 >>> (32 + 8 * i));
    }
    int io = 0xe001; // I/O space at port 0xe000
    b[0x18] = (byte) io;
    b[0x19] = (byte) (io >>> 8);
    return new PciDevice(new PciAddress(0, 3, 0, 0), ConfigSpace.of(b), "test",
        new long[] {size0, 0, 0x20});
  }

  @Test
  void memoryDecodingShouldBeCommandBitOne() {
    assertFalse(new HostDevice(device(0, 0xe0000000L, 0x1000), null).memoryDecoded());
    assertTrue(new HostDevice(device(0x2, 0xe0000000L, 0x1000), null).memoryDecoded());
    // I/O Space and Bus Master (bits 0 and 2) are not Memory Space.
    assertFalse(new HostDevice(device(0x5, 0xe0000000L, 0x1000), null).memoryDecoded());
  }

  @Test
  void barFramesShouldListMemoryBarsOnly() {
    HostDevice dev = new HostDevice(device(0x2, 0xe0000000L, 0x4000), null);
    assertArrayEquals(new long[] {0xe0000, 0xe0003}, dev.barFrames());
    // A 1-byte BAR (only what sysfs reported) holds its one byte's frame.
    dev = new HostDevice(device(0x2, 0xe0000000L, 1), null);
    assertArrayEquals(new long[] {0xe0000, 0xe0000}, dev.barFrames());
    // A sized BAR that reads 0 is unassigned: no frames (Xen reads 0 as unknown).
    dev = new HostDevice(device(0x2, 0, 0x4000), null);
    assertEquals(1, dev.pci().bars().stream().filter(b -> b.index() == 0).count());
    assertArrayEquals(new long[0], dev.barFrames());
  }

  @Test
  void aBarThatWouldWrapShouldEndAtTheTopFrame() {
    // 512 MiB from 2^64 - 256 MiB: the last byte would be 2^64 + 256 MiB - 1.
    HostDevice dev = new HostDevice(device(0x2, 0xFFFF_FFFF_F000_0000L, 0x2000_0000L), null);
    assertArrayEquals(new long[] {0xF_FFFF_FFFF_0000L, 0xF_FFFF_FFFF_FFFFL}, dev.barFrames());
  }

  @Test
  void aDeviceWithoutMsixShouldSaySo() {
    HostDevice dev = new HostDevice(device(0x2, 0xe0000000L, 0x1000), null);
    assertFalse(dev.hasMsix());
    assertThrows(IllegalStateException.class, dev::msix);
    IllegalStateException e = assertThrows(IllegalStateException.class, dev::msixRegisters);
    assertTrue(e.getMessage().contains("(no MSI-X capability)"), e.getMessage());
    assertEquals("0000:03:00.0", dev.toString());
  }

  @Test
  void anMsixDeviceWithoutRegistersShouldSaySo() {
    Host host = new Host(0x1000, Policy.HARDENED);
    PciDevice nic = HostMsixTest.nic();
    HostDevice dev = new HostDevice(nic,
        new MsixDevice(nic, host.registrations(), host.policy().msix()));
    assertTrue(dev.hasMsix());
    IllegalStateException e = assertThrows(IllegalStateException.class, dev::msixRegisters);
    assertTrue(e.getMessage().contains("(table or PBA cannot be placed)"), e.getMessage());
    assertEquals("0000:01:00.0", dev.toString());
  }

  @Test
  void registersOfAFunctionNotDecodingMemoryShouldReadAllOnes() {
    byte[] b = HostMsixTest.nic().config().toByteArray();
    b[4] &= ~0x2; // Memory Space Enable off
    Host host = new Host(0x1000, Policy.HARDENED);
    PciDevice off = new PciDevice(new PciAddress(0, 1, 0, 0), ConfigSpace.of(b), "test");
    HostDevice dev = host.addDevice(off);
    assertFalse(dev.memoryDecoded());
    assertFalse(dev.msixRegisters().memorySpace());
    // Entry 0's Vector Control at 0xe084000c: all ones, not its reset value (masked, 1).
    assertEquals(0xFFFF_FFFFL, host.machine().read(0xe084000cL, 4));
    Host on = new Host(0x1000, Policy.HARDENED);
    HostDevice decoding = on.addDevice(HostMsixTest.nic());
    assertTrue(decoding.msixRegisters().memorySpace());
    assertEquals(1, on.machine().read(0xe084000cL, 4));
  }

  // ---- XenHeap, Policy, DeviceModel -------------------------------------------------------------

  @Test
  void theHeapShouldHandOutContiguousBlocksUpToTheLastFrame() {
    XenHeap heap = new XenHeap(new PhysicalMemory(46));
    assertEquals(1L << 33, heap.allocate(4));
    assertEquals((1L << 33) + 4, heap.allocate(4));
    // Frames 2^33 + 8 to 2^34 - 1: exactly the rest.
    assertEquals((1L << 33) + 8, heap.allocate((1L << 33) - 8));
    assertThrows(IllegalStateException.class, () -> heap.allocate(1));
  }

  @Test
  void withGuestWalkShouldReplaceTheGuestWalkOnly() {
    Policy p = Policy.HARDENED.withGuestWalk(GuestWalkSwitches.SEED_2010);
    assertSame(GuestWalkSwitches.SEED_2010, p.guestWalk());
    assertEquals(Policy.HARDENED.pv(), p.pv());
    assertEquals(Policy.HARDENED.roMmio(), p.roMmio());
  }

  @Test
  void theNullHandlerShouldBeNamed() {
    assertEquals("null handler", DeviceModel.NONE.toString());
  }
}
