package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.NestedPaging;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * HVM guests on EPT and NPT run on the MMU layer: their page tables live in their RAM, written as a
 * loader writes them; the vCPU takes the 2-D walk through the p2m's own tables in machine memory;
 * protecting a frame re-derives the p2m leaf and Xen's synchronisation removes what the vCPUs cached,
 * so that no cached translation lets a write reach a read-only frame (invariant 4), and without the
 * synchronisation a stale translation does.
 */
class HostVcpuTest {
  private static final long MMIO = 0xfe000;
  private static final long LA_MMIO = 0x40_0000L;
  private static final long LA_RAM = 0x40_1000L;
  private static final long RAM_GPA = 0x15_0000L;

  /** An HVM guest with RAM at gfn 0x100-0x1ff, one MMIO frame, and 4-level tables of its own. */
  private static GuestVcpu guest(Host host, PagingMode mode) {
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, MMIO, MMIO));
    long pml4 = 0x10_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x10_1000L | 0x23);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | 0x23);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, 0x10_3000L | 0x23);
    host.writeGuestPhysical(d, 0x10_3000L, 8, (MMIO << 12) | 0x63); // supervisor, writable
    host.writeGuestPhysical(d, 0x10_3000L + 8, 8, RAM_GPA | 0x63);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(mode == PagingMode.HVM_EPT ? NestedPaging.EPT : NestedPaging.NPT,
        v.cpu().nestedPaging());
    assertEquals(0, v.cpu().loadState(0x8005_0033L, pml4, 0x20, 0xD00));
    return v;
  }

  private static List<Violation> tlbViolations(Host host) {
    List<Violation> out = new ArrayList<>();
    HostInvariants.tlbWritableReadOnlyMmio(host, out);
    return out;
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void guestStoresShouldReachItsRamThroughTheTwoDimensionalWalk(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = guest(host, mode);
    assertEquals(0, v.write(LA_RAM + 8, 8, 0x1122_3344_5566_7788L, Access.READ));
    // One memory: the host reads the guest's RAM where the vCPU wrote it.
    assertEquals(0x1122_3344_5566_7788L, host.readGuestPhysical(v.domain(), RAM_GPA + 8, 8));
    assertEquals(0x1122_3344_5566_7788L, host.machine().read(RAM_GPA + 8, 8));
    assertEquals(0x1122_3344_5566_7788L, v.read(LA_RAM + 8, 8, Access.READ));
    assertEquals(0, v.lastFault());
    assertTrue(v.cpu().counters().references2d() > 0, "2-D walks");
    assertEquals(0, v.cpu().counters().references1d());
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void protectingAFrameShouldLeaveNoCachedWritableTranslation(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = guest(host, mode);
    assertEquals(0, v.write(LA_MMIO, 4, 1, Access.READ)); // cached, writable
    assertTrue(tlbViolations(host).isEmpty(), "nothing is read-only yet");
    assertEquals(0, host.protect("test", MMIO, MMIO));
    assertTrue(tlbViolations(host).isEmpty(), () -> tlbViolations(host).toString());
    // Xen 4.21+ discards the store (handle_mmio's null handler); the processor's exit stays.
    assertEquals(0, v.write(LA_MMIO, 4, 2, Access.READ));
    assertEquals(AccessReason.NULL_HANDLER_WRITE, v.lastAccessReason());
    long r = v.cpu().lastFault();
    if (mode == PagingMode.HVM_EPT) {
      // W | PR | PX | GLA valid | translated, plus the guest translation's writable bit (10).
      assertEquals(Fault.of(FaultKind.EPT_VIOLATION, 0x5AA), r, () -> Fault.describe(r));
    } else {
      assertEquals(Fault.of(FaultKind.NESTED_PAGE_FAULT, 0x1_0000_0007L), r,
          () -> Fault.describe(r));
    }
    assertEquals(MMIO << 12, v.cpu().faultGuestPhysical());
    assertEquals(0, v.read(LA_MMIO, 4, Access.READ) & 0, "reads still work");
    assertEquals(0, v.lastFault());
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void withoutTheSynchronisationAStaleTranslationShouldStillWrite(PagingMode mode) {
    Host host = new Host(0x1000,
        Policy.HARDENED.withFlushes(FlushSwitches.XEN.withP2mSync(false)));
    GuestVcpu v = guest(host, mode);
    assertEquals(0, v.write(LA_MMIO, 4, 1, Access.READ));
    assertEquals(0, host.protect("test", MMIO, MMIO));
    // The first-level DTLB, the STLB and the nested TLB all still let the write through.
    List<Violation> bad = tlbViolations(host);
    assertEquals(3, bad.size(), bad.toString());
    for (Violation x : bad) {
      assertEquals(HostInvariants.TLB_WRITABLE_READ_ONLY_MMIO, x.invariant());
      assertEquals(MMIO, x.mfn());
    }
    assertEquals(0, v.write(LA_MMIO, 4, 2, Access.READ), "the stale translation writes");
    assertFalse(HostInvariants.check(host).isEmpty());
  }

  @Test
  void eachVcpuShouldHaveItsOwnTagAndCount() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu a = guest(host, PagingMode.HVM_EPT);
    GuestVcpu b = host.createVcpu(a.domain());
    assertEquals(1, b.index());
    assertEquals(2, a.domain().vcpus().size());
    assertTrue(a.cpu().vpid() != b.cpu().vpid());
    assertEquals(a.cpu().eptp(), b.cpu().eptp(), "one p2m, one EPTP");
    assertEquals(0, b.cpu().loadState(0x8005_0033L, 0x10_0000L, 0x20, 0xD00));
    assertEquals(0, a.write(LA_RAM, 8, 7, Access.READ));
    assertEquals(7, b.read(LA_RAM, 8, Access.READ));
  }
}
