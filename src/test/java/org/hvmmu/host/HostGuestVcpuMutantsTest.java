package org.hvmmu.host;

import static org.hvmmu.host.ShadowPagingTest.CR0;
import static org.hvmmu.host.ShadowPagingTest.DATA;
import static org.hvmmu.host.ShadowPagingTest.EFER;
import static org.hvmmu.host.ShadowPagingTest.L1A;
import static org.hvmmu.host.ShadowPagingTest.L4;
import static org.hvmmu.host.ShadowPagingTest.LA;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PCIDE;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.junit.jupiter.api.Test;

/**
 * The guest vCPU's intercepted instructions under shadow paging. The expected values are pinned by
 * the SDM's INVPCID (vol. 2A: #GP(0) for a type above 3, a descriptor PCID above 0xFFF, a
 * non-canonical address for type 0, a non-zero PCID for type 0 or 1 with CR4.PCIDE clear; type 0
 * invalidates one address, types 1 to 3 more) and by Xen's shadow code keeping the guest's own
 * control registers ({@code sh_update_cr3}: the processor's CR3 holds the shadow's frame). The
 * guest is {@link ShadowPagingTest}'s: linear {@code LA} maps DATA (0x1111_0000), its L1 is
 * reachable through the self-map at {@code LA + 0x3000}. The vCPU's other paths: a PV store wider
 * than 8 bytes that faults nowhere stores every byte, in memory order, into the frames its pages
 * map (the processor's store; Xen sees none), and a page it crosses into that is not mapped is the
 * guest's #PF with nothing written; a user-mode fetch from a page without US is a #PF with error
 * code P | U | I/D (SDM vol. 3A 4.7).
 */
class HostGuestVcpuMutantsTest {
  static final long GP0 = Fault.of(FaultKind.GENERAL_PROTECTION, 0);
  static final int U = Access.USER;

  /** The guest reads LA (cached) and remaps it to DATA+5 through its self-map (emulated). */
  static GuestVcpu staleGuest(Host host) {
    GuestVcpu v = ShadowPagingTest.guest(host, PagingMode.HVM_SHADOW);
    assertEquals(0x1111_0000L, v.read(LA, 8, U));
    assertEquals(0x1111_0001L, v.read(LA + 0x1000, 8, U));
    assertEquals(0, v.write(LA + 0x3000, 8, ((DATA + 5) << 12) | 0x67, 0));
    assertEquals(0, v.write(LA + 0x3008, 8, ((DATA + 4) << 12) | 0x67, 0));
    return v;
  }

  @Test
  void invpcidShouldCheckTheDescriptorAsTheSdmSays() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = ShadowPagingTest.guest(host, PagingMode.HVM_SHADOW);
    // The guest's CR4 has no PCIDE.
    assertEquals(GP0, v.invpcid(4, 0, 0));
    assertEquals(GP0, v.invpcid(-1, 0, 0));
    assertEquals(GP0, v.invpcid(2, 0x1000, 0));
    assertEquals(GP0, v.invpcid(2, -1, 0));
    assertEquals(GP0, v.invpcid(0, 0, 1L << 47)); // not canonical in 48 bits
    assertEquals(GP0, v.invpcid(0, 0, 0x0000_8000_0000_0000L));
    assertEquals(GP0, v.invpcid(0, 1, LA)); // PCID 1 without PCIDE
    assertEquals(GP0, v.invpcid(1, 1, 0));
    // Valid descriptors.
    assertEquals(0, v.invpcid(0, 0, 0xFFFF_8000_0000_0000L)); // canonical
    assertEquals(0, v.invpcid(0, 0, 0x7FFF_FFFF_F000L));
    assertEquals(0, v.invpcid(1, 0, 1L << 47)); // the address only matters to type 0
    assertEquals(0, v.invpcid(2, 1, 0)); // types 2 and 3 take any PCID
    assertEquals(0, v.invpcid(3, 0xFFF, 0));
    assertEquals(0, v.invpcid(3, 0, 0));
  }

  @Test
  void invpcidWithPcideShouldTakeANonZeroPcid() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = ShadowPagingTest.guest(host, PagingMode.HVM_SHADOW);
    assertEquals(0, v.loadGuestState(CR0, L4 << 12,
        CR4_PAE | CR4_PCIDE, EFER));
    assertEquals(0, v.invpcid(0, 1, LA));
    assertEquals(0, v.invpcid(1, 0xFFF, 0));
    assertEquals(GP0, v.invpcid(1, 0x1000, 0));
  }

  @Test
  void invpcidTypeZeroShouldInvalidateOnlyTheAddress() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = staleGuest(host);
    assertEquals(0, v.invpcid(0, 0, LA));
    assertEquals(0x1111_0005L, v.read(LA, 8, U));
    // LA + 0x1000 was not invalidated: the processor's cached translation still names DATA+1.
    assertEquals(0x1111_0001L, v.read(LA + 0x1000, 8, U));
  }

  @Test
  void invpcidOtherTypesShouldInvalidateEverything() {
    for (int type = 1; type <= 3; type++) {
      Host host = new Host(0x1000, Policy.HARDENED);
      GuestVcpu v = staleGuest(host);
      assertEquals(0, v.invpcid(type, 0, 0));
      assertEquals(0x1111_0005L, v.read(LA, 8, U), "type " + type);
      assertEquals(0x1111_0004L, v.read(LA + 0x1000, 8, U), "type " + type);
    }
  }

  @Test
  void aShadowedGuestShouldSeeItsOwnCr3() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = ShadowPagingTest.guest(host, PagingMode.HVM_SHADOW);
    assertEquals(L4 << 12, v.guestRegisters().cr3());
    // The processor's CR3 names the shadow of L4, not L4.
    assertNotEquals(L4 << 12, v.cpu().cr3() & ~0xFFFL);
    // A MOV to CR3 keeps the guest's other registers (sh_update_cr3 on the same CR0/CR4/EFER).
    assertEquals(0, v.writeGuestCr3(L4 << 12));
    assertEquals(L4 << 12, v.guestRegisters().cr3());
    assertEquals(CR4_PAE, v.guestRegisters().cr4());
    assertEquals(0x1111_0000L, v.read(LA, 8, U));
    // A top-level table outside the guest's RAM: -EINVAL (Xen crashes the HVM guest).
    assertNotEquals(0, v.writeGuestCr3(0x5000_0000L));
  }

  @Test
  void aHardwareGuestShouldLoadCr3OnTheProcessor() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = ShadowPagingTest.guest(host, PagingMode.HVM_EPT);
    assertEquals(0, v.writeGuestCr3(L1A << 12));
    assertEquals(L1A << 12, v.cpu().cr3());
    assertEquals(L1A << 12, v.guestRegisters().cr3());
  }

  static final long VA = 0x5000;
  static final int URW = PAGE_PRESENT | PAGE_RW | PAGE_USER;

  /** A PV domU: VA maps RAM frame 0x150, VA + 0x1000 frame 0x160, VA + 0x2000 nothing. */
  static GuestVcpu pv(Host host) {
    GuestDomain d = host.createDomain(1, PagingMode.PV, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    host.writeGuestEntry(d, 0x100, 0, Pte.fromMfn(0x101, URW));
    host.writeGuestEntry(d, 0x101, 0, Pte.fromMfn(0x102, URW));
    host.writeGuestEntry(d, 0x102, 0, Pte.fromMfn(0x103, URW));
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, host.newBaseptr(v, 0x100));
    long flags = PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL;
    assertEquals(0, host.updateVaMapping(v, VA, Pte.fromMfn(0x150, URW), flags, 0));
    assertEquals(0, host.updateVaMapping(v, VA + 0x1000, Pte.fromMfn(0x160, URW), flags, 0));
    return v;
  }

  static byte[] bytes(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (0x10 + i);
    }
    return b;
  }

  @Test
  void aPvWideStoreAcrossTwoPagesShouldLandInBothFrames() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pv(host);
    // 16 bytes at VA + 0xff8: 8 at the end of frame 0x150, 8 at the start of frame 0x160 (the
    // two pages' machine frames are not adjacent).
    assertEquals(0, v.writeWide(VA + 0xFF8, bytes(16), Access.USER));
    assertEquals(0x1716_1514_1312_1110L, host.machine().read((0x150L << 12) + 0xFF8, 8));
    assertEquals(0x1F1E_1D1C_1B1A_1918L, host.machine().read(0x160L << 12, 8));
    assertEquals(0, host.machine().read(0x151L << 12, 8));
    // 32 bytes inside one page, in memory order.
    assertEquals(0, v.writeWide(VA + 0x20, bytes(32), Access.USER));
    assertEquals(0x1716_1514_1312_1110L, host.machine().read((0x150L << 12) + 0x20, 8));
    assertEquals(0x2F2E_2D2C_2B2A_2928L, host.machine().read((0x150L << 12) + 0x38, 8));
    assertEquals(0, v.lastFault());
  }

  @Test
  void aPvWideStoreEndingAtAPagesEndShouldNotTouchTheNextPage() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pv(host);
    // 64 bytes ending at the last byte of VA + 0x1000's page; VA + 0x2000 is not mapped.
    assertEquals(0, v.writeWide(VA + 0x1FC0, bytes(64), Access.USER));
    assertEquals(0x4F4E_4D4C_4B4A_4948L, host.machine().read((0x160L << 12) + 0xFF8, 8));
    // One byte further crosses into the unmapped page: the guest's #PF, nothing written.
    byte[] ones = new byte[16];
    Arrays.fill(ones, (byte) -1);
    assertNotEquals(0, v.writeWide(VA + 0x1FF8, ones, Access.USER));
    assertEquals(0x4F4E_4D4C_4B4A_4948L, host.machine().read((0x160L << 12) + 0xFF8, 8));
  }

  @Test
  void aStoreThroughTheVcpuShouldRefuseLoadsAndWideStores() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pv(host);
    assertThrows(IllegalArgumentException.class,
        () -> v.write(VA, 8, 1, Access.USER, InstructionClass.LOAD));
    assertThrows(IllegalArgumentException.class,
        () -> v.write(VA, 8, 1, Access.USER, InstructionClass.WIDE_STORE));
    assertEquals(0, host.machine().read(0x150L << 12, 8));
    assertEquals(0, v.write(VA, 8, 0x55, Access.USER, InstructionClass.READ_MODIFY_WRITE));
    assertEquals(0x55, host.machine().read(0x150L << 12, 8));
  }

  @Test
  void aUserFetchFromASupervisorPageShouldFault() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = ShadowPagingTest.guest(host, PagingMode.HVM_EPT);
    // L1A[3] maps L1A itself, P RW without US (SDM vol. 3A 4.6: a user access faults).
    v.fetch(LA + 0x3000, 8, false);
    assertEquals(0, v.lastFault());
    assertEquals(0, v.fetch(LA + 0x3000, 8, true));
    assertEquals(Fault.of(FaultKind.PAGE_FAULT, 0x15), v.lastFault());
  }
}
