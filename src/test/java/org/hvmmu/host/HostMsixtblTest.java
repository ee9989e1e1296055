package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hvmmu.host.access.AccessOutcome;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.memory.MmioHandler;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.x86.PageOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * msixtbl through an EPT vCPU: an HVM guest's table page is {@code p2m_mmio_dm} (QEMU does not map
 * the table), Xen's msixtbl takes the accesses it takes and the rest find the null handler (the
 * model's host has no device model). Expected values from the reference's vectors T2, T5, T7 and
 * T8 (msix-emulation.md section 11.1) and {@code msixtbl_read}/{@code msixtbl_write} at
 * RELEASE-4.22.0 and RELEASE-4.1.0, by hand.
 */
class HostMsixtblTest {
  static final long TABLE_MFN = 0xfe020;
  static final long GTABLE = 0xf000_0000L;
  static final long LA = 0x40_0000L;

  /** The device's table registers: a page of bytes. */
  static final class Page implements MmioHandler {
    final byte[] bytes = new byte[4096];
    int writes;

    @Override
    public long read(long pa, int size) {
      long v = 0;
      for (int i = size - 1; i >= 0; i--) {
        v = v << 8 | (bytes[(int) (pa & 0xFFF) + i] & 0xFF);
      }
      return v;
    }

    @Override
    public void write(long pa, int size, long value) {
      writes++;
      for (int i = 0; i < size; i++) {
        bytes[(int) (pa & 0xFFF) + i] = (byte) (value >>> (8 * i));
      }
    }
  }

  /** An EPT guest whose linear 0x400000 maps the table's guest page (p2m_mmio_dm). */
  private static GuestVcpu guest(Host host, Page page) {
    return guest(host, page, PagingMode.HVM_EPT);
  }

  static GuestVcpu guest(Host host, Page page, PagingMode mode) {
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    // p2m_mmio_dm with INVALID_MFN: an empty EPT entry, which Xen's ept_get_entry reports as
    // p2m_mmio_dm.
    assertEquals(0, host.setP2mEntry(d, GTABLE >>> 12, P2mEntry.INVALID_MFN, PageOrder.ORDER_4K,
        P2mType.MMIO_DM));
    host.machine().remove(TABLE_MFN, TABLE_MFN);
    host.machine().addMmio(TABLE_MFN, TABLE_MFN, page);
    // Entries 0, 1 and 5 bound, as in the reference's vectors; 8 entries.
    host.registerMsixtbl(d, GTABLE, 8, TABLE_MFN << 12, 0b10_0011, false);
    long pml4 = 0x10_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x10_1000L | 0x23);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | 0x23);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, 0x10_3000L | 0x23);
    host.writeGuestPhysical(d, 0x10_3000L, 8, GTABLE | 0x63);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.cpu().loadState(0x8005_0033L, pml4, 0x20, 0xD00));
    return v;
  }

  @Test
  void t2AWrittenAddressShouldReadBackFromTheShadowAndNotReachTheDevice() {
    Page page = new Page();
    GuestVcpu v = guest(new Host(0x1000, Policy.HARDENED), page);
    assertEquals(-1L & 0xFFFF_FFFFL, v.read(LA, 4, Access.READ), "T1: no shadow, no DM: ~0");
    assertEquals(AccessReason.NULL_HANDLER_READ, v.lastAccessReason());
    assertEquals(0, v.write(LA, 4, 0xFEE0_0000L, Access.READ));
    assertEquals(AccessReason.NULL_HANDLER_WRITE, v.lastAccessReason(), "passed on: nobody there");
    assertEquals(0xFEE0_0000L, v.read(LA, 4, Access.READ));
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, v.lastAccessReason());
    assertEquals(AccessOutcome.READ_FROM_SHADOW.code(), v.lastOutcome());
    assertEquals(0, page.writes, "address and data are the device model's to write");
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void t5T8TheMaskBitShouldReachTheDeviceAndReadBackAloneToday(PagingMode mode) {
    Page page = new Page();
    page.write(16 + 12, 4, 0xABCD_0000L); // entry 1's Vector Control: reserved bits set
    page.writes = 0;
    GuestVcpu v = guest(new Host(0x1000, Policy.HARDENED), page, mode);
    assertEquals(0, v.write(LA + 16 + 8, 8, 0x1_0000_0041L, Access.READ));
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK, v.lastAccessReason());
    // msi_set_mask_bit writes the whole dword as the flag (writel(flag)): the reserved bits the
    // device held are written as 0.
    assertEquals(1, page.read(16 + 12, 4), "writel(host_masked | guest_masked)");
    assertEquals(1, v.read(LA + 16 + 12, 4, Access.READ), "T8: only the mask bit");
    assertEquals(AccessReason.MSIXTBL_READ_MASK_BIT, v.lastAccessReason());
    assertEquals(0x1_0000_0041L, v.read(LA + 16 + 8, 8, Access.READ), "data | mask << 32");
    // Unmask: the data just written flags the entry, so the unmask is the device model's; when
    // the I/O completes (the null handler's, at once) msix_write_completion replays it as a
    // 4-byte 0, which the cleared flag lets through to guest_mask_msi_irq.
    assertEquals(0, v.write(LA + 16 + 12, 4, 0, Access.READ));
    assertEquals(AccessReason.NULL_HANDLER_WRITE, v.lastAccessReason());
    assertEquals(0, page.read(16 + 12, 4), "deferred, then replayed: unmasked");
    assertEquals(0, v.write(LA + 16 + 12, 4, 1, Access.READ));
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK, v.lastAccessReason(), "flag cleared: applied");
    assertEquals(1, page.read(16 + 12, 4));
    v.fetch(LA + 4, 4, false);
    assertNotEquals(0, v.lastFault(), "a fetch is not emulated: the exit comes back");
    assertNull(v.lastAccessReason());
  }

  @Test
  void t7AMisalignedStoreShouldBeDroppedAndAnUnboundEntryLeftToTheNullHandler() {
    Page page = new Page();
    GuestVcpu v = guest(new Host(0x1000, Policy.HARDENED), page);
    assertEquals(0, v.write(LA + 2, 4, 0xdead, Access.READ));
    assertEquals(AccessReason.MSIXTBL_WRITE_UNALIGNED, v.lastAccessReason());
    assertEquals(0, v.write(LA + 3 * 16 + 12, 4, 1, Access.READ));
    assertEquals(AccessReason.NULL_HANDLER_WRITE, v.lastAccessReason(), "entry 3 is not bound");
    assertEquals(0, page.writes);
  }

  @Test
  void theSeedShouldReadAndWriteVectorControlRaw() {
    Page page = new Page();
    page.write(12, 4, 0xABCD_0000L);
    page.writes = 0;
    GuestVcpu v = guest(new Host(0x1000, Policy.HARDENED.withRoMmio(RoMmioSwitches.SEED_2010)),
        page);
    assertEquals(0xABCD_0000L, v.read(LA + 12, 4, Access.READ));
    assertEquals(AccessReason.MSIXTBL_READ_CONTROL_RAW, v.lastAccessReason());
    assertEquals(0, v.write(LA + 12, 4, 0xFFFF_FFFFL, Access.READ));
    assertEquals(AccessReason.MSIXTBL_WRITE_CONTROL_RAW, v.lastAccessReason());
    assertEquals(0xFFFF_FFFFL, page.read(12, 4), "reserved bits reach the device");
    assertEquals(0, v.read(LA + 4, 4, Access.READ), "shadows served unwritten: zero");
    assertEquals(AccessReason.MSIXTBL_READ_SHADOW, v.lastAccessReason());
  }

  @Test
  void aShadowedGuestShouldReachMsixtblThroughShPageFault() {
    // sh_page_fault: p2m_mmio_dm (an unpopulated gfn, as get_gfn reports it) ->
    // handle_mmio_with_translation -> msixtbl, else the null handler.
    Page page = new Page();
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_SHADOW, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    host.machine().remove(TABLE_MFN, TABLE_MFN);
    host.machine().addMmio(TABLE_MFN, TABLE_MFN, page);
    host.registerMsixtbl(d, GTABLE, 8, TABLE_MFN << 12, 0b10_0011, false);
    long pml4 = 0x10_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x10_1000L | 0x27);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | 0x27);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, 0x10_3000L | 0x27);
    host.writeGuestPhysical(d, 0x10_3000L, 8, GTABLE | 0x67);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.loadGuestState(0x8005_0033L, pml4, 0x20, 0xD00));
    assertEquals(0, v.write(LA + 16 + 12, 4, 1, Access.USER));
    assertEquals(AccessReason.MSIXTBL_GUEST_MASK, v.lastAccessReason());
    assertEquals(1, page.read(16 + 12, 4));
    assertEquals(1, v.read(LA + 16 + 12, 4, Access.USER));
    assertEquals(AccessReason.MSIXTBL_READ_MASK_BIT, v.lastAccessReason());
    assertEquals(0xFFFF_FFFFL, v.read(LA + 5 * 16, 4, Access.USER), "entry 5: no shadow, ~0");
    assertEquals(AccessReason.NULL_HANDLER_READ, v.lastAccessReason());
    // An instruction the emulator cannot run: sh_page_fault returns 0, the #PF goes to the guest.
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(v.write(LA + 16 + 12, 4, 0, Access.USER,
        InstructionClass.UNEMULATED)));
    assertEquals(AccessReason.SHADOW_HANDLE_MMIO_FAILED, v.lastAccessReason());
  }

  @Test
  void registrationShouldBeRefusedForPvAndForBadTables() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain pv = host.createDomain(2, PagingMode.PV, false);
    assertThrows(IllegalArgumentException.class,
        () -> host.registerMsixtbl(pv, GTABLE, 8, TABLE_MFN << 12, 1, false));
    GuestDomain hvm = host.createDomain(3, PagingMode.HVM_EPT, false);
    assertThrows(IllegalArgumentException.class,
        () -> host.registerMsixtbl(hvm, GTABLE + 8, 8, TABLE_MFN << 12, 1, false));
    assertThrows(IllegalArgumentException.class,
        () -> host.registerMsixtbl(hvm, GTABLE, 0, TABLE_MFN << 12, 1, false));
  }
}
