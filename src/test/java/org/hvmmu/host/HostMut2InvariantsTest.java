package org.hvmmu.host;

import static org.hvmmu.mmu.ControlRegisters.CR0_PE;
import static org.hvmmu.mmu.ControlRegisters.CR0_PG;
import static org.hvmmu.mmu.ControlRegisters.CR0_WP;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.hvmmu.mmu.ControlRegisters.EFER_LMA;
import static org.hvmmu.mmu.ControlRegisters.EFER_LME;
import static org.hvmmu.mmu.ControlRegisters.EFER_NXE;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.mmu.Access;
import org.hvmmu.pci.BarReadMode;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.junit.jupiter.api.Test;

/**
 * Each invariant check fails on a state built to break it, with the failure's fields, and passes on
 * the consistent state next to it. The states and expected values come from the sources the
 * invariants restate: Xen's counts (a reference nobody holds unbalances a frame's count), the
 * seed's Dom0 exemption ({@code IS_PRIV(pg_owner)} may map {@code mmio_ro_ranges} writable, so
 * invariants 1 and 4 exempt it), Xen 4.22's protection that leaves existing mappings (and so the
 * vCPU's TLB entries), the SDM's TLB (a 2-MByte page cached as one entry over 512 frames, whose
 * linear page is the address of its first byte), the PCI spec's MSI-X table and PBA (82576: table
 * frame 0xe0840, PBA frame 0xe0842), and a superpage leaf reporting each covered frame of the set
 * with its own guest frame. Frame numbers are worked out by hand in each test.
 */
class HostMut2InvariantsTest {
  /** A 2-MByte aligned MMIO block of 512 frames, above the host's RAM. */
  static final long M = 0x100000;
  static final int URW = PAGE_PRESENT | PAGE_RW | PAGE_USER;
  static final long CR0 = CR0_PE | CR0_WP | CR0_PG;
  static final long EFER = EFER_LME | EFER_LMA | EFER_NXE;
  /** Linear 8 MiB: L4[0], L3[0], L2[4]. */
  static final long LINEAR_2M = 0x80_0000L;

  private static List<String> names(List<Violation> all) {
    return all.stream().map(Violation::invariant).toList();
  }

  // ---- invariant 3 ------------------------------------------------------------------------------

  @Test
  void aReferenceNobodyHoldsShouldUnbalanceTheCounts() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.PV, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(List.of(), HostInvariants.check(host));
    assertTrue(host.frames().getPage(0x150, 1));
    List<Violation> all = HostInvariants.check(host);
    assertEquals(List.of(HostInvariants.COUNTS), names(all));
    assertEquals(0x150, all.get(0).mfn());
    assertEquals(-1, all.get(0).domainId());
    List<Violation> counts = new ArrayList<>();
    HostInvariants.counts(host, counts);
    assertEquals(1, counts.size());
    host.frames().putPage(0x150);
    assertEquals(List.of(), HostInvariants.check(host));
  }

  // ---- invariants 5 and 6 -----------------------------------------------------------------------

  @Test
  void msixEventViolationsShouldNameTheTableFrameAndNoOwner() {
    Host host = new Host(0x1000, Policy.HARDENED);
    host.createDomain(0, PagingMode.PV, true);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    assertEquals(0, host.enableMsix(nic, 0).rc());
    assertEquals(0, host.programMsix(nic, 0, 0xfee03000L, 0x41));
    assertEquals(List.of(), HostInvariants.check(host));
    // A store that changes entry 0's data outside a permitted path, then the message it sends.
    host.machine().write(0xe0840008L, 4, 0x99);
    host.fireMsix(nic, 0);
    List<Violation> all = HostInvariants.check(host);
    assertEquals(List.of(HostInvariants.MSIX_TABLE_INTEGRITY,
        HostInvariants.INTERRUPT_PROVENANCE), names(all));
    for (Violation v : all) {
      assertEquals(0xe0840, v.mfn(), v.toString());
      assertEquals(-1, v.domainId(), "the host keeps the device: no owner");
    }
  }

  @Test
  void msixEventViolationsShouldNameTheOwner() {
    Host host = new Host(0x1000, Policy.HARDENED);
    host.createDomain(0, PagingMode.PV, true);
    GuestDomain pv = host.createDomain(3, PagingMode.PV, false);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    assertEquals(0, host.assignDevice(nic, pv));
    assertEquals(0, host.prepareMsix(nic).rc()); // else -ENODATA: a domU's device, unprepared
    assertEquals(0, host.enableMsix(nic, 0).rc());
    assertEquals(0, host.programMsix(nic, 0, 0xfee03000L, 0x41));
    host.machine().write(0xe0840008L, 4, 0x99);
    List<Violation> out = new ArrayList<>();
    HostInvariants.msixTableIntegrity(host, out);
    assertEquals(1, out.size());
    assertEquals(3, out.get(0).domainId());
  }

  // ---- invariant 2 ------------------------------------------------------------------------------

  @Test
  void anUnprotectedTableFrameShouldBeCalledTheTable() {
    // The seed's second enable: the table was removed from mmio_ro_ranges when the used entries
    // reached 0 and is not registered again; nor is the PBA.
    Host host = new Host(0x1000, Policy.SEED_2010.withMsix(
        Policy.SEED_2010.msix().withBarReadMode(BarReadMode.CORRECTED)));
    GuestDomain pv = host.createDomain(1, PagingMode.PV, false);
    HostDevice nic = host.addDevice(HostMsixTest.nic());
    host.assignDevice(nic, pv);
    assertEquals(0, host.enableMsix(nic, 0).rc());
    List<Violation> out = new ArrayList<>();
    HostInvariants.unprotectedMsix(host, out);
    assertEquals(List.of(), out);
    assertEquals(0, host.disableMsix(nic, 0).rc());
    assertEquals(0, host.enableMsix(nic, 1).rc());
    HostInvariants.unprotectedMsix(host, out);
    assertEquals(2, out.size(), out.toString());
    assertEquals(0xe0840, out.get(0).mfn());
    assertTrue(out.get(0).message().contains("its table frame 0xe0840"), out.get(0).message());
    assertEquals(0xe0842, out.get(1).mfn());
    assertTrue(out.get(1).message().contains("its PBA frame 0xe0842"), out.get(1).message());
    assertEquals(1, out.get(0).domainId());
  }

  // ---- invariant 1 and its walk -----------------------------------------------------------------

  @Test
  void aSuperpageLeafShouldReportEachCoveredFrameOfTheSetOnce() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    // One 2-MByte mmio_direct leaf: gfn = mfn = M to M + 0x1ff.
    assertEquals(0, host.grantIomem(d, M, M + 0x1ff));
    RangeSet frames = new IntervalTreeRangeSet("frames", RangeSet.PRETTYPRINT_HEX);
    frames.addRange(M + 5, M + 5);
    frames.addRange(M + 0x200, M + 0x200); // the first frame past the leaf
    List<long[]> seen = new ArrayList<>();
    HostInvariants.forEachWritableMapping(host, frames, (g, kind, where, slot, entry, mfn) -> {
      assertEquals(d, g);
      assertEquals(MappingKind.P2M_LEAF, kind);
      seen.add(new long[] {where, slot, mfn});
    });
    assertEquals(1, seen.size());
    assertEquals(M + 5, seen.get(0)[0], "the guest frame of this 4-KByte page");
    assertEquals(PageOrder.ORDER_2M.code, seen.get(0)[1]);
    assertEquals(M + 5, seen.get(0)[2]);
  }

  /**
   * Dom0 (PV, privileged) with RAM 0x100-0x1ff: L4 0x100, L3 0x101, L2 0x102, L1 0x103; linear
   * 0x3000 maps read-only MMIO frame 0xfe010 writable, which the seed lets the privileged page
   * owner keep.
   */
  private static GuestVcpu seedDom0(Host host) {
    GuestDomain d = host.createDomain(0, PagingMode.PV, true);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, 0xfe000, 0xfe0ff));
    assertEquals(0, host.protect("ioapic", 0xfe010, 0xfe010));
    host.writeGuestEntry(d, 0x100, 0, Pte.fromMfn(0x101, URW));
    host.writeGuestEntry(d, 0x101, 0, Pte.fromMfn(0x102, URW));
    host.writeGuestEntry(d, 0x102, 0, Pte.fromMfn(0x103, URW));
    host.writeGuestEntry(d, 0x103, 3, Pte.fromMfn(0xfe010, URW));
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, host.newBaseptr(v, 0x100));
    v.write(0x3000, 4, 0x1234, Access.WRITE | Access.USER);
    assertEquals(0, v.lastFault());
    return v;
  }

  @Test
  void theSeedsDom0ShouldBeExemptFromInvariantsOneAndFour() {
    Host host = new Host(0x1000, Policy.SEED_2010);
    GuestVcpu v = seedDom0(host);
    // The mapping and the cached translation are there, writable, over a read-only frame...
    assertTrue(Pte.isPresentWritable(host.pvMmu().readEntry(0x103, 3)));
    List<Long> writableBases = new ArrayList<>();
    v.cpu().forEachCachedTranslation((array, vpid, pcid, global, page, shift, base, writable) -> {
      if (writable) {
        writableBases.add(base);
      }
    });
    assertTrue(writableBases.contains(0xfe010L << 12), writableBases.toString());
    List<long[]> walked = new ArrayList<>();
    HostInvariants.forEachWritableMapping(host, host.mmioRoRanges(),
        (g, kind, where, slot, entry, mfn) -> walked.add(new long[] {where, slot, mfn}));
    assertEquals(1, walked.size());
    assertEquals(0x103, walked.get(0)[0]);
    assertEquals(3, walked.get(0)[1]);
    // ... and the seed's exemption covers both.
    List<Violation> out = new ArrayList<>();
    HostInvariants.writableReadOnlyMmio(host, out);
    assertEquals(List.of(), out);
    HostInvariants.tlbWritableReadOnlyMmio(host, out);
    assertEquals(List.of(), out);
  }

  // ---- invariant 4 ------------------------------------------------------------------------------

  /**
   * An HVM guest on EPT: RAM 0x100-0x3ff, the MMIO block M granted (one 2-MByte leaf), its tables
   * L4 0x180, L3 0x181, L2 0x182 with L2[4] a 2-MByte page at gfn M; one write through linear 8 MiB
   * + 0x5000 caches the 2-MByte translation.
   */
  private static GuestVcpu hvmOn2MegabyteMmio(Host host) {
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x3ff));
    assertEquals(0, host.grantIomem(d, M, M + 0x1ff));
    host.writeGuestPhysical(d, 0x180L << 12, 8, (0x181L << 12) | 0x7);
    host.writeGuestPhysical(d, 0x181L << 12, 8, (0x182L << 12) | 0x7);
    host.writeGuestPhysical(d, (0x182L << 12) + 8 * 4, 8, (M << 12) | 0x87); // P RW US PS
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.loadGuestState(CR0, 0x180L << 12, CR4_PAE, EFER));
    v.write(LINEAR_2M + 0x5000, 4, 1, Access.WRITE | Access.USER);
    assertEquals(0, v.lastFault());
    return v;
  }

  @Test
  void aCachedTwoMegabytePageShouldBeCheckedOverItsFramesExactly() {
    // Xen 4.22 leaves existing mappings on protection, and with them what the vCPU cached.
    Host host = new Host(0x1000, Policy.XEN_4_22);
    hvmOn2MegabyteMmio(host);
    List<Violation> out = new ArrayList<>();
    // The first frame past the page: nothing cached reaches it.
    assertEquals(0, host.protect("next", M + 0x200, M + 0x200));
    HostInvariants.tlbWritableReadOnlyMmio(host, out);
    assertEquals(List.of(), out);
    // The sixth frame of the page: every cached form of the page reaches it.
    assertEquals(0, host.protect("inside", M + 5, M + 5));
    HostInvariants.tlbWritableReadOnlyMmio(host, out);
    assertTrue(!out.isEmpty());
    int linear = 0;
    int nested = 0;
    for (Violation v : out) {
      assertEquals(HostInvariants.TLB_WRITABLE_READ_ONLY_MMIO, v.invariant());
      assertEquals(1, v.domainId());
      assertEquals(MappingKind.TLB, v.kind());
      assertEquals(21, v.slot(), "a 2-MByte entry");
      assertEquals(M << 12, v.entry());
      assertEquals(M, v.mfn(), "the entry's first frame");
      if (v.message().contains("nested TLB")) {
        nested++;
        assertEquals(M << 12, v.where(), "guest-physical = machine for a granted frame");
      } else {
        linear++;
        assertEquals(LINEAR_2M, v.where());
        assertTrue(v.message().contains("linear page 0x800000 -> 0x100000000"), v.message());
      }
    }
    assertTrue(linear > 0, out.toString());
    assertTrue(nested > 0, out.toString());
  }
}
