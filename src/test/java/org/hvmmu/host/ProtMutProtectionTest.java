package org.hvmmu.host;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Vcpu;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mSetResult;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.rangeset.owned.OwnedRanges;
import org.hvmmu.rangeset.owned.RemovalPolicy;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * {@link Protection} at its edges. Expected values come from docs/policy.md's switch descriptions
 * ({@code existingMappings}: the seed re-derives the device owner's p2m, hardened revokes every
 * mapping the reverse map lists and flushes; {@code flushes.pvRevalidate}: {@code
 * flush_tlb_mask(d->dirty_cpumask)} after Xen rewrites a PV L1 entry; {@code
 * roMmio.subpageOwnedBytes}: byte ranges below 2^52), from Xen's {@code mod_l1_entry}
 * (RELEASE-4.1.0 {@code xen/arch/x86/mm.c}: an L1 update flushes nothing, the guest must), from
 * the PCI spec (an MSI-X table entry is 16 bytes, the PBA 8 bytes per 64 entries) and from hand
 * computation (byte
 * {@code b} lies in frame {@code b >>> 12}; {@code OwnedRanges}' documented {@code -ENOENT} and
 * {@code -ENOMEM}).
 *
 * <p>The PV guest is HostPvVcpuTest's: L4 0x100, L3 0x101, L2 0x102, L1 0x103; linear 0x5000 is
 * slot 5 of the L1.
 */
class ProtMutProtectionTest {
  private static final long L4 = 0x100;
  private static final long L3 = 0x101;
  private static final long L2 = 0x102;
  private static final long L1 = 0x103;
  private static final long DATA = 0x110;
  private static final long DATA3 = 0x112;
  private static final long MMIO = 0xfe010;
  private static final long VA = 0x5000;
  private static final int URW = PAGE_PRESENT | PAGE_RW | PAGE_USER;
  private static final long LIMIT = 1L << 52;

  /** A PV guest with RAM 0x100-0x1ff, I/O memory 0xfe000-0xfe0ff, running on vCPU 0. */
  private static GuestVcpu pvGuest(Host host, int id) {
    GuestDomain d = host.createDomain(id, PagingMode.PV, false);
    assertEquals(0, host.giveRam(d, 0x100 + 0x100 * (id - 1), 0x1ff + 0x100 * (id - 1)));
    assertEquals(0, host.grantIomem(d, 0xfe000, 0xfe0ff));
    long base = 0x100L * (id - 1);
    host.writeGuestEntry(d, L4 + base, 0, Pte.fromMfn(L3 + base, URW));
    host.writeGuestEntry(d, L3 + base, 0, Pte.fromMfn(L2 + base, URW));
    host.writeGuestEntry(d, L2 + base, 0, Pte.fromMfn(L1 + base, URW));
    host.writeGuestEntry(d, L1 + base, 0, Pte.fromMfn(DATA + base, URW));
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, host.newBaseptr(v, L4 + base));
    return v;
  }

  private static void mapWritable(Host host, GuestVcpu v, long va, long mfn) {
    assertEquals(0, host.updateVaMapping(v, va, Pte.fromMfn(mfn, URW),
        PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL, 0));
  }

  /** Every full flush the vCPU's processor was asked for, elided ones included. */
  private static long flushes(GuestVcpu v) {
    Vcpu cpu = v.cpu();
    return cpu.counters().flushesFull() + cpu.counters().flushesElided();
  }

  private static List<Violation> tlbViolations(Host host) {
    List<Violation> out = new ArrayList<>();
    HostInvariants.tlbWritableReadOnlyMmio(host, out);
    return out;
  }

  private static void assertRanges(List<long[]> actual, long... pairs) {
    assertEquals(pairs.length / 2, actual.size());
    for (int i = 0; i < actual.size(); i++) {
      assertArrayEquals(new long[] {pairs[2 * i], pairs[2 * i + 1]}, actual.get(i));
    }
  }

  // ---- errors roll back ------------------------------------------------------------------------

  @Test
  void aByteRegistrationRefusedAtTheLimitShouldUndoTheFrameRegistration() {
    Host host = new Host(0x1000, Policy.HARDENED);
    RangeSet frames = new IntervalTreeRangeSet("frames", RangeSet.PRETTYPRINT_HEX);
    Protection p = new Protection(host,
        new OwnedRanges(frames, RemovalPolicy.OWNERSHIP_AWARE));
    assertEquals(0, p.bytes().add("other", 0x10, 0x17)); // one byte range
    p.bytes().set().setLimit(1);
    // Frame 0x200 whole: bytes 0x200000-0x200fff would be a second range.
    assertEquals(-Errno.ENOMEM, p.protect("r", 0x200, 0x200));
    assertFalse(frames.containsSingleton(0x200), "the frame registration is undone");
    // Bytes 0x300040-0x300047: frame 0x300.
    assertEquals(-Errno.ENOMEM, p.protectBytes("r", 0x300040, 8));
    assertFalse(frames.containsSingleton(0x300), "the frame registration is undone");
    assertTrue(frames.isEmpty());
  }

  @Test
  void aFrameRegistrationRefusedAtTheLimitShouldRegisterNoBytes() {
    Host host = new Host(0x1000, Policy.HARDENED);
    RangeSet frames = new IntervalTreeRangeSet("frames", RangeSet.PRETTYPRINT_HEX);
    Protection p = new Protection(host,
        new OwnedRanges(frames, RemovalPolicy.OWNERSHIP_AWARE));
    assertEquals(0, p.protect("s", 0x700, 0x700));
    frames.setLimit(1);
    assertEquals(-Errno.ENOMEM, p.protectBytes("r", 0x900040, 8));
    assertFalse(p.bytes().set().containsSingleton(0x900040));
    assertFalse(p.bytes().holds("r"));
    assertTrue(p.bytes().set().containsRange(0x700000, 0x700fff));
  }

  // ---- byte ranges at their edges --------------------------------------------------------------

  @Test
  void byteRangesShouldBeCheckedAtEveryEdge() {
    Host host = new Host(0x1000, Policy.HARDENED);
    // Byte 0 (frame 0, RAM no domain holds) and a single byte.
    assertEquals(0, host.protectBytes("a", 0, 8));
    assertRanges(host.protectedBytes(0), 0, 7);
    assertEquals(0, host.unprotectBytes("a", 0, 8));
    assertRanges(host.protectedBytes(0));
    assertEquals(0, host.protectBytes("b", 0x5003, 1));
    assertRanges(host.protectedBytes(5), 0x5003, 0x5003);
    assertTrue(host.mmioRoRanges().containsSingleton(5));
    assertEquals(0, host.unprotectBytes("b", 0x5003, 1));
    assertFalse(host.mmioRoRanges().containsSingleton(5));
    // The last byte below 2^52 is allowed, the byte 2^52 is not.
    assertEquals(-Errno.EINVAL, host.protectBytes("c", LIMIT - 8, 9));
    assertFalse(host.mmioRoRanges().containsSingleton((LIMIT >>> 12) - 1));
    assertEquals(0, host.protectBytes("c", LIMIT - 8, 8));
    assertEquals(-Errno.EINVAL, host.unprotectBytes("c", LIMIT - 8, 9));
    assertRanges(host.protectedBytes((LIMIT >>> 12) - 1), LIMIT - 8, LIMIT - 1);
    assertEquals(0, host.unprotectBytes("c", LIMIT - 8, 8));
    assertRanges(host.protectedBytes((LIMIT >>> 12) - 1));
    // Negative starts, empty and wrapping lengths.
    for (long[] bad : new long[][] {{-8, 8}, {0x1000, 0}, {0x1000, -1}, {0x1000, Long.MAX_VALUE}}) {
      assertEquals(-Errno.EINVAL, host.protectBytes("d", bad[0], bad[1]));
      assertEquals(-Errno.EINVAL, host.unprotectBytes("d", bad[0], bad[1]));
    }
    assertTrue(host.mmioRoRanges().isEmpty());
  }

  @Test
  void bytesOnADomainsRamShouldBeRefused() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.PV, false);
    assertEquals(0, host.giveRam(d, 0x150, 0x1ff));
    // Bytes 0x150040-0x150047 lie in frame 0x150, the domain's.
    assertEquals(-Errno.EINVAL, host.protectBytes("e", 0x150040, 8));
    // Bytes 0x14fff8-0x150007: frames 0x14f (free) and 0x150 (the domain's).
    assertEquals(-Errno.EINVAL, host.protectBytes("e", 0x14fff8, 16));
    assertTrue(host.mmioRoRanges().isEmpty());
    assertEquals(0, host.protectBytes("e", 0x14fff8, 8));
    assertTrue(host.mmioRoRanges().containsSingleton(0x14f));
  }

  @Test
  void bytesGivenBackAfterTheirFrameRegistrationWentShouldBeEnoent() {
    Host host = new Host(0x1000, Policy.HARDENED);
    assertEquals(0, host.protectBytes("a", (MMIO << 12) + 0x40, 8));
    // "a" gives up the frame registration protectBytes made; its bytes stay.
    assertEquals(0, host.unprotect("a", MMIO, MMIO));
    assertFalse(host.mmioRoRanges().containsSingleton(MMIO));
    // The bytes go, but "a" no longer holds frame MMIO: -ENOENT, as OwnedRanges.remove says.
    assertEquals(-Errno.ENOENT, host.unprotectBytes("a", (MMIO << 12) + 0x40, 8));
    assertRanges(host.protectedBytes(MMIO));
  }

  // ---- existing mappings -----------------------------------------------------------------------

  @Test
  void protectingBytesShouldRevokeAnExistingWritableMapping() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pvGuest(host, 1);
    mapWritable(host, v, VA, MMIO);
    assertTrue(Pte.isPresentWritable(host.pvMmu().readEntry(L1, 5)));
    assertEquals(0, host.protectBytes("a", (MMIO << 12) + 0x40, 8));
    assertFalse(Pte.isPresentWritable(host.pvMmu().readEntry(L1, 5)),
        "the frame of bytes 0x...40-0x...47 is frame MMIO: its mapping is revoked");
    assertEquals(List.of(), HostInvariants.check(host));
  }

  @Test
  void protectingBytesShouldSplitOnlyTheSuperpagesOverTheirFrame() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    // A 2-MiB mmio_direct leaf: frames 0x200000 to 0x2001ff.
    assertEquals(P2mSetResult.OK,
        host.setP2mEntry(d, 0x200000, 0x200000, PageOrder.ORDER_2M, P2mType.MMIO_DIRECT));
    assertEquals(3, d.mmioSuperpages().length);
    // Bytes of frame MMIO (0xfe010), below the superpage: it stays whole.
    assertEquals(0, host.protectBytes("a", (MMIO << 12) + 0x40, 8));
    assertEquals(3, d.mmioSuperpages().length, "no protected byte in frames 0x200000-0x2001ff");
    // Bytes of frame 0x200100, inside it: split.
    assertEquals(0, host.protectBytes("b", (0x200100L << 12) + 0x40, 8));
    assertEquals(0, d.mmioSuperpages().length);
  }

  @Test
  void aStaleTranslationFromAnEntryTheGuestChangedShouldBeFlushed() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pvGuest(host, 1);
    GuestDomain d = v.domain();
    mapWritable(host, v, VA, MMIO);
    assertEquals(0, v.write(VA, 4, 1, Access.USER)); // cached writable
    // The guest points slot 5 at its own frame DATA3; mod_l1_entry flushes nothing.
    assertEquals(0, host.mmuUpdate(d, L1, 5, Pte.fromMfn(DATA3, URW)));
    assertEquals(0, v.write(VA, 4, 2, Access.USER));
    assertEquals(0, host.machine().read(DATA3 << 12, 4), "the stale translation still hits MMIO");
    assertEquals(0, host.reverseMapSize(), "no entry maps MMIO any more");
    assertEquals(0, host.protect("ioapic", MMIO, MMIO));
    // Nothing in the reverse map, yet the domain's vCPUs are flushed: the store walks again.
    assertEquals(0, v.write(VA, 4, 0xabcd, Access.USER));
    assertEquals(0xabcd, host.machine().read(DATA3 << 12, 4));
    assertEquals(List.of(), tlbViolations(host));
  }

  @Test
  void eachRevokedPvEntryShouldBeFollowedByAFlushAndTheDomainFlushedAfter() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pvGuest(host, 1);
    mapWritable(host, v, VA, MMIO);
    assertEquals(0, v.write(VA, 4, 1, Access.USER));
    long before = flushes(v);
    assertEquals(0, host.protect("ioapic", MMIO, MMIO));
    // One flush after the entry is rewritten, one for the domain at the end.
    assertEquals(before + 2, flushes(v));
    assertFalse(Pte.isPresentWritable(host.pvMmu().readEntry(L1, 5)));
    // A crashed domain is not flushed again.
    GuestVcpu w = pvGuest(host, 2);
    host.crashDomain(w.domain());
    long crashed = flushes(w);
    long live = flushes(v);
    assertEquals(0, host.protect("ioapic", MMIO + 1, MMIO + 1));
    assertEquals(crashed, flushes(w));
    assertEquals(live + 1, flushes(v), "the live domain's final flush only");
  }

  @Test
  void aShadowedDomainShouldBeFlushedAfterProtectionUnlessCrashed() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_SHADOW, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    GuestDomain e = host.createDomain(2, PagingMode.HVM_SHADOW, false);
    assertEquals(0, host.giveRam(e, 0x200, 0x2ff));
    ShadowDomain es = e.shadow();
    host.crashDomain(e);
    long crashedFlushes = es == null ? 0 : es.flushes;
    long before = d.shadow().flushes;
    assertEquals(0, host.protect("ioapic", MMIO, MMIO));
    assertEquals(before + 1, d.shadow().flushes);
    assertEquals(crashedFlushes, es == null ? 0 : es.flushes);
  }

  @Test
  void aFrameThatIsNotReadOnlyShouldKeepItsShadowEntryUnflushed() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_SHADOW, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, MMIO, MMIO + 1));
    int table = host.newGuestTable(d);
    host.shadowWrite(d, table, 7, Pte.fromMfn(MMIO, URW));
    assertTrue(Pte.isPresentWritable(d.shadowEntry(table, 7)));
    long before = d.shadow().flushes;
    // Frame MMIO is not in mmio_ro_ranges: its entry is left alone; the domain's final flush.
    host.handleExistingMappings(MMIO, MMIO, null);
    assertEquals(before + 1, d.shadow().flushes);
    assertTrue(Pte.isPresentWritable(d.shadowEntry(table, 7)));
  }

  @Test
  void aRecordOfAFrameThatIsNotReadOnlyShouldNotEndTheRevocation() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pvGuest(host, 1);
    mapWritable(host, v, VA, MMIO);
    mapWritable(host, v, VA + 0x1000, MMIO + 1);
    // MMIO + 1 becomes read-only behind the host's back; its entry is still writable.
    assertEquals(0, host.mmioRoRanges().addRange(MMIO + 1, MMIO + 1));
    host.handleExistingMappings(MMIO, MMIO + 1, null);
    assertTrue(Pte.isPresentWritable(host.pvMmu().readEntry(L1, 5)), "MMIO is not read-only");
    assertFalse(Pte.isPresentWritable(host.pvMmu().readEntry(L1, 6)));
  }

  @Test
  void theSeedShouldReDeriveAnEptOwnersP2mAndSyncIt() {
    Host host = new Host(0x1000, Policy.SEED_2010);
    host.machine().addMmio(MMIO, MMIO, new DeviceMemory("test"));
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, MMIO, MMIO));
    long pml4 = 0x10_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x10_1000L | 0x23);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | 0x23);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, 0x10_3000L | 0x23);
    host.writeGuestPhysical(d, 0x10_3000L, 8, (MMIO << 12) | 0x63);
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.cpu().loadState(0x8005_0033L, pml4, 0x20, 0xD00));
    assertEquals(0, v.write(0x400000, 4, 1, 0)); // linear 0x400000 is frame MMIO
    // A host registration has no owner: the seed re-derives nobody's p2m.
    assertEquals(0, host.protect("msix-table", MMIO, MMIO));
    P2mEntry e = new P2mEntry();
    assertTrue(d.p2m().getEntry(MMIO, e));
    assertTrue(d.p2m().isWritable(e.entry()));
    assertFalse(tlbViolations(host).isEmpty());
    // As for a device d owns: p2m_change_entry_type_global(mmio_direct, mmio_direct), then the
    // EPT sync.
    host.handleExistingMappings(MMIO, MMIO, d);
    assertTrue(d.p2m().getEntry(MMIO, e));
    assertFalse(d.p2m().isWritable(e.entry()));
    assertEquals(List.of(), tlbViolations(host));
  }

  @Test
  void theSeedShouldResyncAShadowedOwnersShadows() {
    Policy seed = Policy.SEED_2010.withP2m(Policy.SEED_2010.p2m().withShadowDropsRwResult(false));
    Host host = new Host(0x1000, seed);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_SHADOW, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, MMIO, MMIO));
    int table = host.newGuestTable(d);
    host.shadowWrite(d, table, 7, Pte.fromMfn(MMIO, URW));
    assertEquals(0, host.protect("msix-table", MMIO, MMIO));
    assertTrue(Pte.isPresentWritable(d.shadowEntry(table, 7)), "no owner: nothing re-derived");
    host.handleExistingMappings(MMIO, MMIO, d);
    assertFalse(Pte.isPresentWritable(d.shadowEntry(table, 7)));
  }

  // ---- a device's MSI-X bytes ------------------------------------------------------------------

  @Test
  void onlyHardenedShouldProtectAnMsixTablesBytes() {
    for (Policy policy : new Policy[] {Policy.XEN_4_22, Policy.HARDENED}) {
      Host host = new Host(0x1000, policy);
      HostDevice nic = host.addDevice(HostMsixTest.nic());
      assertEquals(0, host.prepareMsix(nic).rc());
      assertTrue(host.mmioRoRanges().containsSingleton(HostMsixTest.TABLE));
      if (policy == Policy.HARDENED) {
        // 10 entries of 16 bytes at 0xe0840000; a PBA of 8 bytes at 0xe0842000.
        assertRanges(host.protectedBytes(HostMsixTest.TABLE), 0xe0840000L, 0xe084009fL);
        assertRanges(host.protectedBytes(HostMsixTest.PBA), 0xe0842000L, 0xe0842007L);
      } else {
        assertRanges(host.protectedBytes(HostMsixTest.TABLE));
        assertRanges(host.protectedBytes(HostMsixTest.PBA));
      }
    }
  }
}
