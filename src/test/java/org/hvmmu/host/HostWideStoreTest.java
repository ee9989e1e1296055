package org.hvmmu.host;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Stores wider than 8 bytes through the vCPU (reference msix-emulation.md section 10.6, vector S4):
 * a PV store is decided once for its whole width ({@code mmio_ro_emulated_write} at RELEASE-4.22.0
 * drops stores above 8 bytes, {@code ptwr} refuses them), an HVM one is split by {@code
 * hvmemul_phys_mmio_access} into chunks of at most 8 bytes, each a separate handler access.
 * Expected values by hand from those functions. Frame 0xfed00 is a page of device registers.
 */
class HostWideStoreTest {
  private static final long FRAME = 0xfed00;
  private static final long VA = 0x5000;
  private static final long PF_PWU = Fault.of(FaultKind.PAGE_FAULT, 7);

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (0x10 + i);
    }
    return b;
  }

  @Test
  void theHardwareDomainsWideStoreShouldBeDroppedWhole() {
    for (Policy policy : new Policy[] {Policy.HARDENED, Policy.XEN_4_22, Policy.SEED_2010}) {
      Host host = new Host(0x1000, policy);
      HostMsixtblTest.Page page = HostSubpageBytesTest.device(host, FRAME);
      assertEquals(0, host.protect("hpet", FRAME, FRAME));
      GuestVcpu v = HostSubpageBytesTest.pv(host, true, FRAME);
      long r = v.writeWide(VA + 0x40, bytes(16), Access.USER);
      if (policy == Policy.SEED_2010) {
        // The seed exempts the privileged domain (IS_PRIV): its mapping stays writable, no fault,
        // no decision, and all 16 bytes reach the device.
        assertEquals(0, r);
        assertNull(v.lastAccessReason());
        assertEquals(0x1716_1514_1312_1110L, page.read((FRAME << 12) + 0x40, 8));
        assertEquals(0x1f1e_1d1c_1b1a_1918L, page.read((FRAME << 12) + 0x48, 8));
        continue;
      }
      assertEquals(0, r, "dropped: the store completes");
      assertEquals(AccessReason.MMIO_RO_WIDE_DROPPED, v.lastAccessReason());
      assertEquals(0, page.writes, policy.toString());
      // A 32-byte store at +0x50 is not naturally aligned: "bad access", the guest's #PF.
      assertEquals(PF_PWU, v.writeWide(VA + 0x50, bytes(32), Access.USER));
      assertEquals(AccessReason.MMIO_RO_BAD_ACCESS, v.lastAccessReason());
    }
  }

  @Test
  void aDomUsWideStoreShouldBeItsPageFaultAndRamShouldTakeIt() {
    Host host = new Host(0x1000, Policy.HARDENED);
    HostSubpageBytesTest.device(host, FRAME);
    assertEquals(0, host.protect("hpet", FRAME, FRAME));
    GuestVcpu v = HostSubpageBytesTest.pv(host, false, FRAME);
    assertEquals(PF_PWU, v.writeWide(VA, bytes(64), Access.USER));
    assertEquals(AccessReason.PV_NOT_HARDWARE_DOMAIN, v.lastAccessReason());
    assertEquals(VA, v.cpu().cr2());
    // Linear 0x4000 maps nothing; map RAM frame 0x1f0 writable there and store across its end
    // into 0x5000 (the protected frame): the second page faults, CR2 is its first byte, and no
    // byte is written.
    GuestDomain d = v.domain();
    assertEquals(0, host.updateVaMapping(v, 0x4000,
        Pte.fromMfn(0x1f0, PAGE_PRESENT | PAGE_RW | PAGE_USER),
        PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL, 0));
    assertEquals(PF_PWU, v.writeWide(0x4ff8, bytes(16), Access.USER));
    assertEquals(0x5000, v.cpu().cr2());
    assertEquals(0, host.machine().read(0x1f0ff8L, 8), "nothing written on the RAM page");
    // Wholly in RAM: every byte, in order.
    assertEquals(0, v.writeWide(0x4100, bytes(32), Access.USER));
    assertEquals(0x1716_1514_1312_1110L, host.machine().read(0x1f0100L, 8));
    assertEquals(0x2f2e_2d2c_2b2a_2928L, host.machine().read(0x1f0118L, 8));
    assertTrue(d.vcpus().contains(v));
  }

  @Test
  void badWidthsShouldBeRefused() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = HostSubpageBytesTest.pv(host, true, FRAME);
    for (int n : new int[] {0, 8, 12, 24, 128}) {
      assertThrows(IllegalArgumentException.class, () -> v.writeWide(VA, new byte[n], 0));
    }
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void anHvmWideStoreShouldReachMsixtblEightBytesAtATime(PagingMode mode) {
    // Entry 1 (bound) of HostMsixtblTest's table, a 16-byte store: chunk 1 at +0 is the 8-byte
    // address (shadowed, flagged, passed on to the device model); chunk 2 at +8 is data then
    // Vector Control 0: the flag is set, so the unmask is deferred to the device model and
    // replayed when the I/O completes.
    Host host = new Host(0x1000, Policy.HARDENED);
    List<String> log = new ArrayList<>();
    host.setDeviceModel(new DeviceModel() {
      @Override
      public boolean claims(GuestDomain d, long gpa, int size) {
        return gpa >>> 12 == HostMsixtblTest.GTABLE >>> 12;
      }

      @Override
      public long read(GuestDomain d, long gpa, int size) {
        return 0;
      }

      @Override
      public void write(GuestDomain d, long gpa, int size, long value) {
        log.add(Long.toHexString(gpa) + " " + size + " " + Long.toHexString(value));
      }
    });
    HostMsixtblTest.Page page = new HostMsixtblTest.Page();
    page.write(16 + 12, 4, 1);
    GuestVcpu v = HostMsixtblTest.guest(host, page, mode);
    byte[] entry = {0x00, 0x10, (byte) 0xe0, (byte) 0xfe, 0, 0, 0, 0, 0x41, 0, 0, 0, 0, 0, 0, 0};
    assertEquals(0, v.writeWide(HostMsixtblTest.LA + 16, entry, Access.READ));
    assertEquals(AccessReason.MSIXTBL_UNMASK_DEFERRED, v.lastAccessReason());
    assertEquals(List.of("f0000010 8 fee01000", "f0000018 8 41"), log);
    assertEquals(0xfee0_1000L, v.read(HostMsixtblTest.LA + 16, 4, Access.READ), "shadow");
    assertEquals(0, page.read(16 + 12, 4), "replayed: unmasked");
  }

  @Test
  void anHvmWideStoreToReadOnlyMmioShouldBeDiscardedChunkByChunk() {
    for (Policy policy : new Policy[] {Policy.HARDENED, Policy.SEED_2010}) {
      Host host = new Host(0x1000, policy);
      HostMsixtblTest.Page page = HostSubpageBytesTest.device(host, FRAME);
      assertEquals(0, host.protect("hpet", FRAME, FRAME));
      GuestVcpu v = HostSubpageBytesTest.hvm(host, PagingMode.HVM_EPT, FRAME);
      long r = v.writeWide(0x40_0000L + 0x80, bytes(32), Access.READ);
      if (policy == Policy.HARDENED) {
        assertEquals(0, r);
        assertEquals(AccessReason.NULL_HANDLER_WRITE, v.lastAccessReason());
      } else {
        // The seed crashes the domain at the first chunk's violation.
        assertTrue(Fault.isFault(r));
        assertTrue(v.domain().crashed());
      }
      assertEquals(0, page.writes);
    }
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void anHvmStoreCrossingFromRamIntoMmioShouldWriteItsRamPart(PagingMode mode) {
    // linear_write: the part on each page on its own. Linear 0x400000 maps RAM frame 0x150,
    // 0x401000 the device frame, whose bytes 0x100-0x1ff hardened protects. An 8-byte store at
    // 0x400ffc: 4 bytes of RAM, then 4 bytes at the device's offset 0, a writable byte range, so
    // the sub-page handler performs them.
    Host host = new Host(0x1000, Policy.HARDENED);
    HostMsixtblTest.Page page = HostSubpageBytesTest.device(host, FRAME);
    assertEquals(0, host.protectBytes("regs", (FRAME << 12) + 0x100, 0x100));
    GuestVcpu v = HostSubpageBytesTest.hvm(host, mode, 0x150);
    GuestDomain d = v.domain();
    assertEquals(0, host.grantIomem(d, FRAME, FRAME));
    host.writeGuestPhysical(d, 0x10_3000L + 8, 8, (FRAME << 12) | 0x63);
    assertEquals(0, v.write(0x40_0ffcL, 8, 0x8877_6655_4433_2211L, Access.READ));
    assertEquals(AccessReason.SUBPAGE_WRITTEN, v.lastAccessReason());
    assertEquals(0x4433_2211L, host.machine().read(0x150ffcL, 4), "the RAM part");
    assertEquals(0x8877_6655L, page.read(FRAME << 12, 4), "the MMIO part, at offset 0");
    // A 4-byte store split 2 + 2: the RAM part, then 2 bytes at the device's offset 0.
    assertEquals(0, v.write(0x40_0ffeL, 4, 0xdead_beefL, Access.READ));
    assertEquals(0xbeefL, host.machine().read(0x150ffeL, 2));
    assertEquals(0xdeadL, page.read(FRAME << 12, 2));
    // Past the RAM page into a frame protected whole: the RAM part written, the rest discarded.
    assertEquals(0, host.protect("hpet", FRAME, FRAME));
    assertEquals(0, v.write(0x40_0ffcL, 8, 0x0102_0304_0506_0708L, Access.READ));
    assertEquals(AccessReason.NULL_HANDLER_WRITE, v.lastAccessReason());
    assertEquals(0x0506_0708L, host.machine().read(0x150ffcL, 4));
    assertEquals(0x8877_deadL, page.read(FRAME << 12, 4), "unchanged");
  }
}
