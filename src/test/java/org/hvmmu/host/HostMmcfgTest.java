package org.hvmmu.host;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.memory.RegionKind;
import org.hvmmu.pci.msix.regs.MsixRegisters;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PvSwitches;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * The host's MMCFG (ECAM) window and the PV hardware domain's stores to it (reference
 * msix-emulation.md section 1.3, vectors M1-M4). The window is the demo's: segment 0, buses 0-63
 * at 0xf8000000 (frames 0xf8000-0xfbfff). The Intel 82576 of the bundled dump is 0000:01:00.0,
 * its MSI-X capability at 0x70 (lspci: "Capabilities: [70] MSI-X"), Message Control 0x8009 in the
 * dump (bytes 0x72-0x73: 09 80). By hand: ECAM address = 0xf8000000 + (1 << 20 | 0 << 15 | 0 <<
 * 12 | reg) = 0xf8100000 + reg, frame 0xf8100. Decisions from {@code mmcfg_intercept_write}
 * (pv/ro-page-fault.c), {@code pci_conf_write_intercept} (pci.c) and {@code
 * pci_msi_conf_write_intercept} (msi.c) at RELEASE-4.22.0.
 */
class HostMmcfgTest {
  private static final long BASE = 0xf8000000L;
  private static final long NIC = BASE + (1L << 20);
  private static final long NIC_FRAME = 0xf8100;
  private static final long VA = 0x5000;
  private static final int URW = PAGE_PRESENT | PAGE_RW | PAGE_USER;
  private static final long PF_USER_WRITE = Fault.of(FaultKind.PAGE_FAULT, 7);

  private static Host host(Policy policy) {
    Host host = new Host(0x1000, policy);
    assertEquals(0, host.addMmcfg(0, 0, 63, BASE));
    assertEquals(0, host.protect("mmcfg", 0xf8000, 0xfbfff));
    return host;
  }

  /** A PV domain whose linear 0x5000 maps the 82576's config frame (read-only: protected). */
  private static GuestVcpu pv(Host host, boolean hardwareDomain) {
    GuestDomain d = host.createDomain(hardwareDomain ? 0 : 1, PagingMode.PV, hardwareDomain);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, NIC_FRAME, NIC_FRAME));
    host.writeGuestEntry(d, 0x100, 0, Pte.fromMfn(0x101, URW));
    host.writeGuestEntry(d, 0x101, 0, Pte.fromMfn(0x102, URW));
    host.writeGuestEntry(d, 0x102, 0, Pte.fromMfn(0x103, URW));
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, host.newBaseptr(v, 0x100));
    assertEquals(0, host.updateVaMapping(v, VA, Pte.fromMfn(NIC_FRAME, URW),
        PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL, 0));
    return v;
  }

  @Test
  void theWindowShouldDecodeEcamAddressesToTheKnownFunctions() {
    Host host = host(Policy.XEN_4_22);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    assertEquals(RegionKind.MMIO, host.machine().kind(0xf8000));
    assertEquals(RegionKind.MMIO, host.machine().kind(0xfbfff));
    assertEquals(RegionKind.ABSENT, host.machine().kind(0xfc000));
    assertEquals(0x10c9_8086L, host.machine().read(NIC, 4), "vendor 8086, device 10c9");
    assertEquals(0x11, host.machine().read(NIC + 0x70, 1), "MSI-X capability ID");
    assertEquals(0x0010_0407_10c9_8086L, host.machine().read(NIC, 8));
    // Message Control: the table size from the dump, Enable and Function Mask as the live
    // registers hold them (reset: both clear, though the dump says enabled).
    assertEquals(0x0009, host.machine().read(NIC + 0x72, 2));
    // Function 1 of the same device, bus 0 and bus 63 hold nothing the host knows: all ones.
    assertEquals(0xffff_ffffL, host.machine().read(BASE + (1L << 20 | 1L << 12), 4));
    assertEquals(0xffffL, host.machine().read(BASE, 2));
    assertEquals(0xffL, host.machine().read(BASE + (63L << 20) + 0xfff, 1));
    // A write through the window reaches Message Control: Enable and Function Mask.
    host.machine().write(NIC + 0x72, 2, 0xc009);
    assertEquals(MsixRegisters.CONTROL_ENABLE | MsixRegisters.CONTROL_FUNCTION_MASK,
        nic.msixRegisters().messageControl());
    assertEquals(0xc009, host.machine().read(NIC + 0x72, 2));
    host.machine().write(NIC + 0x70, 4, 0x8009_a011L);
    assertEquals(MsixRegisters.CONTROL_ENABLE, nic.msixRegisters().messageControl());
    host.machine().write(BASE + (1L << 20 | 1L << 12) + 0x72, 2, 0); // absent: dropped
    assertEquals(MsixRegisters.CONTROL_ENABLE, nic.msixRegisters().messageControl());
  }

  @Test
  void addMmcfgShouldRefuseBadWindows() {
    Host host = new Host(0x1000, Policy.XEN_4_22);
    host.addDevice(HostMsixTest.nic()); // BAR 0 at 0xe0800000
    assertEquals(-Errno.EINVAL, host.addMmcfg(0, 0, 63, BASE + 0x1000), "not 1 MiB aligned");
    assertEquals(-Errno.EINVAL, host.addMmcfg(0, 5, 4, BASE), "buses reversed");
    assertEquals(-Errno.EINVAL, host.addMmcfg(0, 0, 256, BASE), "bus 256");
    assertEquals(-Errno.EINVAL, host.addMmcfg(0x10000, 0, 0, BASE), "segment");
    assertEquals(-Errno.EINVAL, host.addMmcfg(0, 0, 0, 0xe0800000L), "over the NIC's BAR 0");
    assertEquals(-Errno.EINVAL, host.addMmcfg(0, 0, 0, 1L << 46), "beyond MAXPHYADDR");
    GuestDomain d = host.createDomain(1, PagingMode.PV, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(-Errno.EINVAL, host.addMmcfg(0, 0, 1, 0), "frames 0-0x1ff: 0x100 on a domain's");
    assertEquals(RegionKind.RAM, host.machine().kind(0), "nothing changed");
    assertEquals(0, host.addMmcfg(0, 0, 63, BASE));
    assertEquals(-Errno.EINVAL, host.addMmcfg(1, 63, 63, BASE), "overlaps the first window");
    assertEquals(0, host.addMmcfg(1, 64, 64, BASE), "segment 1, bus 64 after the first");
    assertEquals(0xffff_ffffL, host.machine().read(BASE + (64L << 20), 4));
  }

  @Test
  void m1M2M3M4TheHardwareDomainsStoresShouldBeInterceptedAsXen422Does() {
    Host host = host(Policy.XEN_4_22);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    MsixRegisters regs = nic.msixRegisters();
    GuestVcpu v = pv(host, true);
    // M1: a 2-byte write of 0xc000 to Message Control (pos + 2): written.
    assertEquals(0, v.write(VA + 0x72, 2, 0xc000, Access.USER));
    assertEquals(AccessReason.MMCFG_MSIX_CONTROL, v.lastAccessReason());
    assertEquals(MsixRegisters.CONTROL_ENABLE | MsixRegisters.CONTROL_FUNCTION_MASK,
        regs.messageControl());
    // M2: a 4-byte write at pos (Enable clear in its upper half): vetoed, dropped, the store
    // completes.
    assertEquals(0, v.write(VA + 0x70, 4, 0x0000_a011L, Access.USER));
    assertEquals(AccessReason.MMCFG_MSIX_VETO, v.lastAccessReason());
    // M3: a 1-byte write at pos + 3 (Message Control's upper byte, 0): vetoed.
    assertEquals(0, v.write(VA + 0x73, 1, 0, Access.USER));
    assertEquals(AccessReason.MMCFG_MSIX_VETO, v.lastAccessReason());
    // The table offset register (pos + 4) and the PBA offset register (pos + 8) too.
    assertEquals(0, v.write(VA + 0x78, 4, 0, Access.USER));
    assertEquals(AccessReason.MMCFG_MSIX_VETO, v.lastAccessReason());
    assertEquals(MsixRegisters.CONTROL_ENABLE | MsixRegisters.CONTROL_FUNCTION_MASK,
        regs.messageControl(), "M2, M3 changed nothing");
    // Past the capability's 12 bytes, and below register 64: performed.
    assertEquals(0, v.write(VA + 0x7c, 4, 0, Access.USER));
    assertEquals(AccessReason.MMCFG_WRITTEN, v.lastAccessReason());
    assertEquals(0, v.write(VA + 0x04, 2, 0x0406, Access.USER));
    assertEquals(AccessReason.MMCFG_WRITTEN, v.lastAccessReason());
    // M4: an 8-byte store, a misaligned 4-byte one: "bad write", the guest's #PF.
    assertEquals(PF_USER_WRITE, v.write(VA + 0x70, 8, 0, Access.USER));
    assertEquals(AccessReason.MMCFG_BAD_WRITE, v.lastAccessReason());
    assertEquals(PF_USER_WRITE, v.write(VA + 0x72, 4, 0, Access.USER));
    assertEquals(AccessReason.MMCFG_BAD_WRITE, v.lastAccessReason());
    // M1 again, unmasking the function: written.
    assertEquals(0, v.write(VA + 0x72, 2, 0x8009, Access.USER));
    assertEquals(MsixRegisters.CONTROL_ENABLE, regs.messageControl());
    assertEquals(0x8009, v.read(VA + 0x72, 2, Access.USER), "dom0 reads it back");
  }

  @Test
  void aFunctionWithoutMsixShouldTakeEveryAlignedWrite() {
    Host host = host(Policy.XEN_4_22);
    GuestVcpu v = pv(host, true); // no device at 01:00.0: pdev is NULL
    assertEquals(0, v.write(VA + 0x70, 4, 0, Access.USER));
    assertEquals(AccessReason.MMCFG_WRITTEN, v.lastAccessReason());
    assertEquals(0xffff_ffffL, host.machine().read(NIC + 0x70, 4));
  }

  @Test
  void earlierErasAndOtherDomainsShouldNotReachTheDevice() {
    // Seed: get_page_from_l1e lets a privileged domain map r/o MMIO writable (IS_PRIV), so dom0's
    // store reaches the window directly, with no decision at all.
    Host seed = host(Policy.SEED_2010);
    HostDevice seedNic = seed.addDevice(HostMsixTest.nic());
    GuestVcpu s = pv(seed, true);
    assertEquals(0, s.write(VA + 0x70, 4, 0xc009_a011L, Access.USER));
    assertNull(s.lastAccessReason());
    assertEquals(MsixRegisters.CONTROL_ENABLE | MsixRegisters.CONTROL_FUNCTION_MASK,
        seedNic.msixRegisters().messageControl(), "what 4.22 vetoes (M2) reaches the device");
    // Seed without that exemption (dom0's mapping read-only): no MMIO emulation yet, #PF.
    Host seedRo =
        host(Policy.SEED_2010.withPv(PvSwitches.SEED_2010.withPrivilegedExemption(false)));
    HostDevice seedRoNic = seedRo.addDevice(HostMsixTest.nic());
    GuestVcpu r = pv(seedRo, true);
    assertEquals(PF_USER_WRITE, r.write(VA + 0x72, 2, 0xc000, Access.USER));
    assertEquals(AccessReason.PV_NO_MMIO_RO_EMULATION, r.lastAccessReason());
    assertEquals(0, seedRoNic.msixRegisters().messageControl());
    // 4.2-4.5: emulated as plain r/o MMIO, dropped without the intercept.
    Host old = host(Policy.XEN_4_22.withRoMmio(
        RoMmioSwitches.XEN_4_22.withPvMmcfgIntercept(false)));
    HostDevice oldNic = old.addDevice(HostMsixTest.nic());
    GuestVcpu o = pv(old, true);
    assertEquals(0, o.write(VA + 0x72, 2, 0xc000, Access.USER));
    assertEquals(AccessReason.MMIO_RO_DROPPED, o.lastAccessReason());
    assertEquals(0, oldNic.msixRegisters().messageControl());
    // 4.22, not the hardware domain: #PF.
    Host host = host(Policy.XEN_4_22);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    GuestVcpu u = pv(host, false);
    assertEquals(PF_USER_WRITE, u.write(VA + 0x72, 2, 0xc000, Access.USER));
    assertEquals(AccessReason.PV_NOT_HARDWARE_DOMAIN, u.lastAccessReason());
    assertEquals(0, nic.msixRegisters().messageControl());
  }

  @Test
  void aFrameOutsideEveryWindowShouldStayPlainReadOnlyMmio() {
    Host host = new Host(0x1000, Policy.XEN_4_22);
    assertEquals(0, host.protect("mmcfg", 0xf8000, 0xfbfff)); // protected, no window registered
    host.addDevice(HostMsixTest.nic());
    GuestVcpu v = pv(host, true);
    assertEquals(0, v.write(VA + 0x72, 2, 0xc000, Access.USER));
    assertEquals(AccessReason.MMIO_RO_DROPPED, v.lastAccessReason());
    assertNull(host.mmcfgWindow(NIC_FRAME));
  }
}
