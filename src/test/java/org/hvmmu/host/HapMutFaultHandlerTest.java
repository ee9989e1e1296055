package org.hvmmu.host;

import static org.hvmmu.host.HapMutGuestVcpuTest.LA_MMIO;
import static org.hvmmu.host.HapMutGuestVcpuTest.LA_RAM;
import static org.hvmmu.host.HapMutGuestVcpuTest.MMIO;
import static org.hvmmu.host.HapMutGuestVcpuTest.PT;
import static org.hvmmu.host.HapMutGuestVcpuTest.RAM_GPA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.p2m.P2mType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Xen in front of an EPT or NPT vCPU ({@code hvm_hap_nested_page_fault}). The expected values are
 * pinned by the SDM (vol. 3C 28.3.3.2, the EPT violation's exit qualification: bit 1 a write, bit
 * 3 the entry readable, bit 5 executable, bit 7 the linear address valid, bit 8 set for the access
 * to the translated address and clear for an access to a guest paging structure, bit 10 the guest
 * translation writable), the APM (vol. 2 15.25.6, the nested page fault's EXITINFO1: bit 0 the
 * entry present, bit 1 a write, bit 2 a user access, as every nested walk is; bit 32 the final
 * translation, bit 33 a guest page-table access), and Xen (RELEASE-4.22.0 {@code hvm.c}: only the
 * final translation of an {@code mmio_dm} page or a store to read-only {@code mmio_direct} is
 * emulated, other exits go elsewhere; {@code emulate.c} {@code null_read} gives all ones for any
 * size; {@code hvm_send_ioreq} sends a load or a store to the device model while the vCPU waits;
 * before 8f36bde2b2 (4.21) {@code ept_handle_violation} and {@code svm_do_nested_pgfault} crash the
 * domain on a store to read-only {@code mmio_direct}; the 4.20 sub-page handler wrote a writable
 * slot's store at the page's offset 0, fixed by 38d0780979 in 4.21). Guest layout: {@link
 * HapMutGuestVcpuTest#hvm}.
 */
class HapMutFaultHandlerTest {
  static final long EPT_WRITE = Fault.of(FaultKind.EPT_VIOLATION, 0x5AA);
  static final long NPF_WRITE = Fault.of(FaultKind.NESTED_PAGE_FAULT, 0x1_0000_0007L);

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void aGuestPageTableInADeviceModelPageShouldNotBeEmulated(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = HapMutGuestVcpuTest.hvm(host, mode, false);
    // LA 0x60_0000's page table lies at gfn 0x300, which the p2m does not map (p2m_mmio_dm).
    host.writeGuestPhysical(v.domain(), 0x10_2000L + 8 * 3, 8, 0x30_0000L | 0x23);
    HapMutGuestVcpuTest.Recorder r = HapMutGuestVcpuTest.install(v, v.faultHandler());
    assertEquals(0, v.read(0x60_0000L, 8, Access.READ));
    assertEquals(1, r.calls.size(), "the exit goes back at once, not retried");
    long f = v.lastFault();
    if (mode == PagingMode.HVM_EPT) {
      assertEquals(FaultKind.EPT_VIOLATION.code(), Fault.kindCode(f), () -> Fault.describe(f));
      assertEquals(0, Fault.code(f) & 0x100, "a paging-structure access");
      assertEquals(0x80, Fault.code(f) & 0x80);
    } else {
      assertEquals(FaultKind.NESTED_PAGE_FAULT.code(), Fault.kindCode(f), () -> Fault.describe(f));
      assertEquals(0, Fault.code(f) & (1L << 32), "not the final translation");
    }
    assertNull(v.lastAccessReason());
    assertEquals(0x30_0000L, v.cpu().faultGuestPhysical());
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void aLoadFromADeviceModelPageShouldReadAllOnes(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = HapMutGuestVcpuTest.hvm(host, mode, false);
    // LA 0x40_3000 maps gfn 0x300: not in the p2m, handle_mmio, the null handler.
    host.writeGuestPhysical(v.domain(), PT + 24, 8, 0x30_0000L | 0x63);
    assertEquals(-1L, v.read(0x40_3000L, 8, Access.READ));
    assertEquals(0, v.lastFault());
    assertEquals(AccessReason.NULL_HANDLER_READ, v.lastAccessReason());
    assertEquals(0xFFFF_FFFFL, v.read(0x40_3008L, 4, Access.READ));
    assertEquals(0xFF, v.read(0x40_3008L, 1, Access.READ));
    assertEquals(0, v.write(0x40_3008L, 8, 5, Access.READ));
    assertEquals(AccessReason.NULL_HANDLER_WRITE, v.lastAccessReason());
    // A fetch from it is not emulated, and a translation carries no data: the exits go back at
    // once.
    HapMutGuestVcpuTest.Recorder r = HapMutGuestVcpuTest.install(v, v.faultHandler());
    assertEquals(0, v.fetch(0x40_3000L, 4, false));
    assertTrue(v.lastFault() < 0);
    assertNull(v.lastAccessReason());
    assertEquals(1, r.calls.size());
    long t = v.translate(0x40_3000L, Access.WRITE);
    assertTrue(t < 0);
    assertNull(v.lastAccessReason());
    assertEquals(2, r.calls.size());
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void beforeXen421AStoreToReadOnlyMmioShouldCrashTheDomain(PagingMode mode) {
    Policy old = Policy.HARDENED.withRoMmio(
        Policy.HARDENED.roMmio().withHvmRoMmioEmulation(false));
    Host host = new Host(0x1000, old);
    GuestVcpu v = HapMutGuestVcpuTest.hvm(host, mode, false);
    assertEquals(0, host.protect("test", MMIO, MMIO));
    HapMutGuestVcpuTest.Recorder c = HapMutGuestVcpuTest.install(v, v.faultHandler());
    long f = v.write(LA_MMIO + 8, 4, 1, Access.READ);
    assertEquals(1, c.calls.size());
    assertEquals(mode == PagingMode.HVM_EPT ? EPT_WRITE : NPF_WRITE, f, () -> Fault.describe(f));
    assertEquals(f, v.lastFault());
    assertEquals(mode == PagingMode.HVM_EPT ? AccessReason.EPT_VIOLATION_CRASH
        : AccessReason.NPF_CRASH, v.lastAccessReason());
    assertTrue(v.domain().crashed());
    // The crashed domain's exits go back unchanged: nothing is emulated for it any more.
    HapMutGuestVcpuTest.Recorder r = HapMutGuestVcpuTest.install(v, v.faultHandler());
    long again = v.read(LA_RAM, 8, Access.READ);
    assertEquals(1, r.calls.size());
    assertEquals(0, again);
    assertTrue(v.lastFault() < 0);
    assertNull(v.lastAccessReason());
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void aCrashedDomainsDataAccessShouldNotBeEmulated(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = HapMutGuestVcpuTest.hvm(host, mode, false);
    // Paging off: the linear address is the guest-physical one, every exit a final translation.
    assertEquals(0, v.cpu().loadState(0x11, 0, 0, 0));
    assertEquals(0, v.write(RAM_GPA, 8, 3, Access.READ));
    host.crashDomain(v.domain());
    HapMutGuestVcpuTest.Recorder r = HapMutGuestVcpuTest.install(v, v.faultHandler());
    assertEquals(0, v.read(RAM_GPA, 8, Access.READ));
    assertEquals(1, r.calls.size());
    long f = v.lastFault();
    assertTrue(Fault.kindCode(f) == FaultKind.EPT_VIOLATION.code()
        || Fault.kindCode(f) == FaultKind.NESTED_PAGE_FAULT.code(), () -> Fault.describe(f));
    assertNull(v.lastAccessReason());
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void aStoreToALogDirtyPageShouldGoBackUnchanged(PagingMode mode) {
    Policy noPml = Policy.HARDENED.withP2m(Policy.HARDENED.p2m().withEptAccessedDirty(false));
    Host host = new Host(0x1000, noPml);
    GuestVcpu v = HapMutGuestVcpuTest.hvm(host, mode, false);
    host.changeTypeGlobal(v.domain(), P2mType.RAM_RW, P2mType.RAM_LOGDIRTY);
    HapMutGuestVcpuTest.Recorder r = HapMutGuestVcpuTest.install(v, v.faultHandler());
    long f = v.write(LA_RAM, 8, 2, Access.READ);
    assertEquals(1, r.calls.size());
    assertTrue(f < 0);
    assertFalse(Fault.kindCode(f) == FaultKind.GENERAL_PROTECTION.code());
    assertNull(v.lastAccessReason(), "not an MMIO access");
    assertEquals(0, host.machine().read(RAM_GPA, 8));
  }

  /** A host whose frame 0 has writable slots below 0x800 (Xen's sub-page list). */
  static Host subpageHost(boolean fixes) {
    Policy p = Policy.XEN_4_22.withRoMmio(Policy.XEN_4_22.roMmio().withSubpage(true, fixes));
    Host host = new Host(0x1000, p);
    assertEquals(0, host.subpageMmioRoAdd(0x800, 0x800));
    return host;
  }

  /** The guest maps frame 0 at LA 0x40_4000. */
  static GuestVcpu subpageGuest(Host host) {
    GuestVcpu v = HapMutGuestVcpuTest.hvm(host, PagingMode.HVM_EPT, false);
    assertEquals(0, host.grantIomem(v.domain(), 0, 0));
    host.writeGuestPhysical(v.domain(), PT + 32, 8, 0x63);
    return v;
  }

  @Test
  void xen420ShouldWriteAtTheStartOfTheSlotsOwnFrame() {
    Policy p = Policy.XEN_4_22.withRoMmio(Policy.XEN_4_22.roMmio().withSubpage(true, false));
    Host host = new Host(0x1000, p);
    assertEquals(0, host.subpageMmioRoAdd((0x800L << 12) + 0x800, 0x800));
    GuestVcpu v = HapMutGuestVcpuTest.hvm(host, PagingMode.HVM_EPT, false);
    assertEquals(0, host.grantIomem(v.domain(), 0x800, 0x800));
    host.writeGuestPhysical(v.domain(), PT + 32, 8, (0x800L << 12) | 0x63);
    assertEquals(0, v.write(0x40_4018L, 2, 0xBEEF, Access.READ));
    assertEquals(AccessReason.SUBPAGE_WRITTEN_AT_PAGE_START, v.lastAccessReason());
    assertEquals(0xBEEF, host.machine().read(0x800L << 12, 2));
    assertEquals(0, host.machine().read((0x800L << 12) + 0x18, 2));
  }

  @Test
  void aStoreToAWritableSlotShouldReachTheDeviceAtItsOffset() {
    Host host = subpageHost(true);
    GuestVcpu v = subpageGuest(host);
    assertEquals(0, v.write(0x40_4010L, 4, 0xA5A5_0001L, Access.READ));
    assertEquals(AccessReason.SUBPAGE_WRITTEN, v.lastAccessReason());
    assertEquals(0xA5A5_0001L, host.machine().read(0x10, 4));
    assertEquals(0, host.machine().read(0, 4));
    // A read-only slot: ignored.
    assertEquals(0, v.write(0x40_4810L, 4, 7, Access.READ));
    assertEquals(AccessReason.SUBPAGE_IGNORED, v.lastAccessReason());
    assertEquals(0, host.machine().read(0x810, 4));
  }

  @Test
  void xen420ShouldWriteAWritableSlotsStoreAtThePageStart() {
    Host host = subpageHost(false);
    GuestVcpu v = subpageGuest(host);
    assertEquals(0, v.write(0x40_4010L, 4, 0xA5A5_0002L, Access.READ));
    assertEquals(AccessReason.SUBPAGE_WRITTEN_AT_PAGE_START, v.lastAccessReason());
    assertEquals(0xA5A5_0002L, host.machine().read(0, 4));
    assertEquals(0, host.machine().read(0x10, 4));
  }

  // ---- hvm_send_ioreq

  /** A device model that claims everything and records what it is sent. */
  static final class Recording implements DeviceModel {
    final List<String> log = new ArrayList<>();
    final GuestVcpu vcpu;

    Recording(GuestVcpu vcpu) {
      this.vcpu = vcpu;
    }

    @Override
    public boolean claims(GuestDomain d, long gpa, int size) {
      return true;
    }

    @Override
    public long read(GuestDomain d, long gpa, int size) {
      log.add("read " + Long.toHexString(gpa) + " " + size + " " + vcpu.waitingForIoreq);
      return 0x1122_3344_5566_7788L;
    }

    @Override
    public void write(GuestDomain d, long gpa, int size, long value) {
      log.add("write " + Long.toHexString(gpa) + " " + size + " " + Long.toHexString(value) + " "
          + vcpu.waitingForIoreq);
    }
  }

  @Test
  void theDeviceModelShouldGetLoadsAndStoresWhileTheVcpuWaits() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = HapMutGuestVcpuTest.hvm(host, PagingMode.HVM_EPT, false);
    Recording dm = new Recording(v);
    long fault = Fault.of(FaultKind.EPT_VIOLATION, 0x181);
    assertEquals(GuestVcpu.FaultHandler.EMULATED_LOAD,
        HapFaultHandler.forward(v, dm, 0x300010, 2, 0, InstructionClass.LOAD, fault));
    assertEquals(GuestVcpu.FaultHandler.EMULATED_LOAD,
        HapFaultHandler.forward(v, dm, 0x300018, 8, 0, InstructionClass.LOAD, fault));
    assertEquals(GuestVcpu.FaultHandler.EMULATED,
        HapFaultHandler.forward(v, dm, 0x300020, 4, 0xBEEF, InstructionClass.MOVS, fault));
    assertEquals(List.of("read 300010 2 true", "read 300018 8 true", "write 300020 4 beef true"),
        dm.log);
    assertFalse(v.waitingForIoreq);
  }

  @Test
  void aLoadTheDeviceModelAnswersShouldGetItsValueMaskedToTheSize() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = HapMutGuestVcpuTest.hvm(host, PagingMode.HVM_NPT, false);
    Recording dm = new Recording(v);
    host.setDeviceModel(dm);
    host.writeGuestPhysical(v.domain(), PT + 24, 8, 0x30_0000L | 0x63);
    assertEquals(0x7788, v.read(0x40_3010L, 2, Access.READ));
    assertEquals(0x1122_3344_5566_7788L, v.read(0x40_3018L, 8, Access.READ));
    assertEquals(AccessReason.IOREQ_TO_DM, v.lastAccessReason());
    assertEquals(0, v.write(0x40_3020L, 4, 0xBEEF, Access.READ));
    assertEquals(List.of("read 300010 2 true", "read 300018 8 true", "write 300020 4 beef true"),
        dm.log);
    assertEquals(0, v.lastFault());
  }
}
