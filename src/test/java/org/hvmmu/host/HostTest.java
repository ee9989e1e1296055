package org.hvmmu.host;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.x86.Pte;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The host's handling of mappings that exist when a frame becomes protected, in every paging mode:
 * the seed and Xen 4.22 leave them (the "XXX How to deal with existing mappings?" both carry),
 * hardened revokes write access through the reverse map.
 */
class HostTest {
  static final long MMIO = 0x100000;

  /** Which policy, as a parameter. */
  enum Which {
    SEED(Policy.SEED_2010),
    XEN_4_22(Policy.XEN_4_22),
    HARDENED(Policy.HARDENED);

    final Policy policy;

    Which(Policy policy) {
      this.policy = policy;
    }
  }

  private static Host host(Which which) {
    return new Host(0x1000, which.policy);
  }

  /** A guest in {@code mode} with RAM 0x100-0x1ff and the right to map MMIO 0x100000-0x10000f. */
  private static GuestDomain guest(Host host, PagingMode mode) {
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, MMIO, MMIO + 0xf));
    return d;
  }

  private static long writableMmio(long mfn) {
    return Pte.fromMfn(mfn, PAGE_PRESENT | PAGE_RW | PAGE_USER);
  }

  @ParameterizedTest
  @EnumSource(Which.class)
  void existingPvMappingLosesWriteAccessOnlyWhenHardened(Which which) {
    Host host = host(which);
    GuestDomain d = guest(host, PagingMode.PV);
    assertEquals(0, host.pinL1Table(d, 0x100));
    assertEquals(0, host.mmuUpdate(d, 0x100, 0, writableMmio(MMIO)));
    assertEquals(0, host.mmuUpdate(d, 0x100, 1, Pte.fromMfn(0x101, PAGE_PRESENT | PAGE_RW)));
    assertEquals(1, host.reverseMapSize(), "only the MMIO mapping is recorded");
    assertEquals(List.of(), HostInvariants.check(host));

    assertEquals(0, host.protect("msix-table", MMIO, MMIO));

    long entry = host.pvMmu().readEntry(0x100, 0);
    List<Violation> violations = HostInvariants.check(host);
    if (which != Which.HARDENED) {
      assertTrue(Pte.isPresentWritable(entry), "the seed and 4.22 leave the existing mapping");
      assertEquals(1, violations.size(), violations.toString());
      Violation v = violations.get(0);
      assertEquals(HostInvariants.WRITABLE_READ_ONLY_MMIO, v.invariant());
      assertEquals(MappingKind.PV_L1, v.kind());
      assertEquals(0x100, v.where());
      assertEquals(0, v.slot());
      assertEquals(MMIO, v.mfn());
    } else {
      assertFalse(Pte.isPresentWritable(entry));
      assertEquals(List.of(), violations);
    }
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void existingP2mLeafLosesWriteAccessWhenHardened(PagingMode mode) {
    for (Which which : Which.values()) {
      Host host = host(which);
      GuestDomain d = guest(host, mode);
      P2mEntry e = new P2mEntry();
      assertTrue(d.p2m().getEntry(MMIO, e));
      assertTrue(d.p2m().isWritable(e.entry()));
      assertEquals(0, host.protect("msix-table", MMIO, MMIO));
      assertTrue(d.p2m().getEntry(MMIO, e));
      // A host registration has no device owner, so the seed re-derives nobody's p2m; 4.22 never
      // does.
      assertEquals(which != Which.HARDENED, d.p2m().isWritable(e.entry()), which + " " + mode);
      assertEquals(which != Which.HARDENED ? 1 : 0, HostInvariants.check(host).size());
      assertTrue(d.p2m().getEntry(MMIO + 1, e));
      assertTrue(d.p2m().isWritable(e.entry()), "the next frame is not protected");
    }
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void existingShadowEntryLosesWriteAccessWhenHardened(PagingMode mode) {
    for (Which which : Which.values()) {
      Host host = host(which);
      GuestDomain d = guest(host, mode);
      int table = host.newGuestTable(d);
      host.shadowWrite(d, table, 7, writableMmio(MMIO));
      assertTrue(Pte.isPresentWritable(d.shadowEntry(table, 7)));
      assertEquals(0, host.protect("msix-table", MMIO, MMIO));
      boolean writable = Pte.isPresentWritable(d.shadowEntry(table, 7));
      assertEquals(which != Which.HARDENED, writable, which + " " + mode);
      List<Violation> counts = new java.util.ArrayList<>();
      HostInvariants.counts(host, counts);
      assertEquals(List.of(), counts, "no references held on MMIO; the shadows' counted");
    }
  }

  @Test
  void newMappingsAfterProtectionAreReadOnlyInEveryMode() {
    for (PagingMode mode : new PagingMode[] {
        PagingMode.PV, PagingMode.HVM_EPT, PagingMode.HVM_NPT, PagingMode.HVM_SHADOW}) {
      Host host = new Host(0x1000, Policy.HARDENED);
      assertEquals(0, host.protect("msix-table", MMIO, MMIO));
      GuestDomain d = guest(host, mode);
      if (mode == PagingMode.PV) {
        assertEquals(0, host.pinL1Table(d, 0x100));
        assertEquals(0, host.mmuUpdate(d, 0x100, 0, writableMmio(MMIO)));
      } else if (mode.shadowed()) {
        host.shadowWrite(d, host.newGuestTable(d), 0, writableMmio(MMIO));
      }
      assertEquals(List.of(), HostInvariants.check(host), mode.toString());
    }
  }

  @Test
  void seedShadowOfAPvGuestKeepsReadOnlyMmioWritable() {
    Host host = new Host(0x1000, Policy.SEED_2010);
    assertEquals(0, host.protect("msix-table", MMIO, MMIO));
    GuestDomain d = guest(host, PagingMode.PV_SHADOW);
    int table = host.newGuestTable(d);
    host.shadowWrite(d, table, 0, writableMmio(MMIO));
    List<Violation> violations = HostInvariants.check(host);
    // The shadow entry, and the translation the guest's touch left in its first-level and second-
    // level TLBs (nothing changed the entry since, so nothing flushed).
    assertEquals(3, violations.size(), violations.toString());
    assertEquals(MappingKind.SHADOW_L1, violations.get(0).kind());
    assertEquals(MMIO, violations.get(0).mfn());
    for (Violation v : violations.subList(1, 3)) {
      assertEquals(HostInvariants.TLB_WRITABLE_READ_ONLY_MMIO, v.invariant());
      assertEquals(MMIO, v.mfn());
    }
    // The same with only the shadow fix applied: closed.
    Host fixed = new Host(0x1000, Policy.SEED_2010.withP2m(
        Policy.SEED_2010.p2m().withShadowDropsRwResult(false)));
    assertEquals(0, fixed.protect("msix-table", MMIO, MMIO));
    GuestDomain g = guest(fixed, PagingMode.PV_SHADOW);
    fixed.shadowWrite(g, fixed.newGuestTable(g), 0, writableMmio(MMIO));
    assertEquals(List.of(), HostInvariants.check(fixed));
  }

  @Test
  void shouldRefuseWrongUses() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain hvm = guest(host, PagingMode.HVM_EPT);
    assertThrows(IllegalArgumentException.class, () -> host.pinL1Table(hvm, 0x100));
    assertThrows(IllegalArgumentException.class, () -> host.newGuestTable(hvm));
    assertThrows(IllegalArgumentException.class, () -> host.createDomain(1, PagingMode.PV, false));
    assertThrows(IllegalArgumentException.class,
        () -> host.createDomain(2, PagingMode.HVM_EPT, true));
    assertThrows(IllegalArgumentException.class, () -> host.domain(9));
    assertThrows(IllegalStateException.class,
        () -> host.createDomain(3, PagingMode.PV, false).p2m());
  }

  @Test
  void twoHostsShareNothing() {
    Host a = new Host(0x1000, Policy.HARDENED);
    Host b = new Host(0x1000, Policy.HARDENED);
    GuestDomain da = guest(a, PagingMode.PV);
    GuestDomain db = guest(b, PagingMode.PV);
    assertEquals(0, a.protect("ioapic", MMIO, MMIO));
    assertTrue(a.mmioRoRanges().containsSingleton(MMIO));
    assertFalse(b.mmioRoRanges().containsSingleton(MMIO));
    assertEquals(0, b.pinL1Table(db, 0x100));
    assertEquals(0, b.mmuUpdate(db, 0x100, 0, writableMmio(MMIO)));
    assertTrue(Pte.isPresentWritable(b.pvMmu().readEntry(0x100, 0)), "b's frame is not protected");
    assertEquals(0, a.pinL1Table(da, 0x100));
    assertEquals(0, a.mmuUpdate(da, 0x100, 0, writableMmio(MMIO)));
    assertFalse(Pte.isPresentWritable(a.pvMmu().readEntry(0x100, 0)));
    assertEquals(1, a.reverseMapSize());
    assertEquals(1, b.reverseMapSize());
  }
}
