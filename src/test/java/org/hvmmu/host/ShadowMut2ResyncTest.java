package org.hvmmu.host;

import static org.hvmmu.host.ShadowMut2EmulateTest.SHADOW_MODES;
import static org.hvmmu.host.ShadowMut2EmulateTest.guest;
import static org.hvmmu.host.ShadowPagingTest.CR0;
import static org.hvmmu.host.ShadowPagingTest.DATA;
import static org.hvmmu.host.ShadowPagingTest.EFER;
import static org.hvmmu.host.ShadowPagingTest.L1A;
import static org.hvmmu.host.ShadowPagingTest.L1B;
import static org.hvmmu.host.ShadowPagingTest.L2;
import static org.hvmmu.host.ShadowPagingTest.LA;
import static org.hvmmu.host.ShadowPagingTest.LA_B;
import static org.hvmmu.host.ShadowPagingTest.LA_SUPER;
import static org.hvmmu.host.ShadowPagingTest.MMIO;
import static org.hvmmu.host.ShadowPagingTest.U;
import static org.hvmmu.host.ShadowPagingTest.UPPER;
import static org.hvmmu.host.ShadowPagingTest.put;
import static org.hvmmu.host.ShadowPagingTest.shadowEntry;
import static org.hvmmu.host.ShadowPagingTest.shadowFrame;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.hvmmu.host.ShadowPagingMutantsTest.PolicyName;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.p2m.P2mSetResult;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The shadows following changes the guest did not make through its own faults, pinned from Xen
 * 4.22's shadow code: {@code sh_unshadow_for_p2m_change} (shadow/common.c) for a p2m change of a
 * gfn range (the L1 entries mapping it, including the 4-KByte entries an FL1 shadow fabricates
 * for a guest 2-MByte page, and the upper-level entries pointing at a guest table that moved),
 * flushing only when an entry went; {@code _sh_propagate} for a global re-type to a P2M_RO_TYPES
 * type ({@code sflags &= ~_PAGE_RW}); {@code sh_validate_guest_entry} for a loader's write into a
 * shadowed table ({@code validate_gl2e}: a guest superpage entry points at its FL1 shadow, an entry
 * whose next table has no shadow is empty); the reverse map losing a shadow entry that no longer
 * maps MMIO; and a pool that is exactly full (no shadow can be made: {@code sh_update_cr3} crashes
 * the domain, while a p2m change needs none). The guest is {@link ShadowMut2EmulateTest}'s; the
 * expected entries are hand-computed from those rules (P RW US A D = 0x67, without D 0x65).
 */
class ShadowMut2ResyncTest {
  static final long DIRTY = 0x67;

  /** A guest 2-MiB page's FL1 entry follows the p2m change of the one gfn it maps. */
  @ParameterizedTest(name = "{0}")
  @EnumSource(names = {"SEED_2010", "HARDENED", "XEN_4_22"})
  void anFl1EntryShouldFollowAP2mChangeOfItsGfn(PolicyName p) {
    Host host = new Host(0x1000, p.policy);
    GuestVcpu v = guest(host, PagingMode.HVM_SHADOW);
    GuestDomain d = v.domain();
    assertEquals(0x5205L, v.read(LA_SUPER + 0x5008, 8, U));
    assertEquals((0x205L << 12) | DIRTY, shadowEntry(host, d, 0x200, ShadowDomain.FL1, 5));
    host.writeGuestPhysical(d, (0x106L << 12) + 8, 8, 0x5106);
    assertEquals(0, host.setP2mEntry(d, 0x205, 0x106, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals((0x106L << 12) | DIRTY, shadowEntry(host, d, 0x200, ShadowDomain.FL1, 5));
    assertEquals(0x5106L, v.read(LA_SUPER + 0x5008, 8, U));
  }

  /** A global re-type to p2m_ram_logdirty takes R/W from the FL1 entries too. */
  @ParameterizedTest(name = "{0}")
  @EnumSource(names = {"SEED_2010", "HARDENED", "XEN_4_22"})
  void aGlobalReTypeShouldTakeRwFromFl1Entries(PolicyName p) {
    Host host = new Host(0x1000, p.policy);
    GuestVcpu v = guest(host, PagingMode.HVM_SHADOW);
    GuestDomain d = v.domain();
    assertEquals(0x5205L, v.read(LA_SUPER + 0x5008, 8, U));
    assertEquals(0, v.write(LA + 0x2000, 8, 0xA0, U));
    host.changeTypeGlobal(d, P2mType.RAM_RW, P2mType.RAM_LOGDIRTY);
    assertEquals((0x205L << 12) | 0x65, shadowEntry(host, d, 0x200, ShadowDomain.FL1, 5));
    assertEquals((DATA << 12) | 0x65, shadowEntry(host, d, L1A, ShadowDomain.L1, 2));
  }

  /**
   * A guest table's gfn moves to another machine frame holding a different table: the L2 entry
   * that pointed at the old table's shadow goes (with a flush), and the next access walks the
   * table the p2m now names.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(names = {"SEED_2010", "HARDENED", "XEN_4_22"})
  void anUpperEntryShouldFollowItsTablesGfn(PolicyName p) {
    Host host = new Host(0x1000, p.policy);
    GuestVcpu v = guest(host, PagingMode.HVM_SHADOW);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0x1111_0004L, v.read(LA_B, 8, U)); // L2[3] -> L1B, cached
    long copy = 0x187;
    put(host, d, copy, 0, ((DATA + 5) << 12) | UPPER);
    long flushes = sd.flushes;
    assertEquals(0, host.setP2mEntry(d, L1B, copy, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(0L, shadowEntry(host, d, L2, ShadowDomain.L2, 3), "no shadow of 0x187 yet");
    assertEquals(flushes + 1, sd.flushes);
    assertEquals(0x1111_0005L, v.read(LA_B, 8, U));
    assertEquals((shadowFrame(d, copy, ShadowDomain.L1) << 12) | DIRTY,
        shadowEntry(host, d, L2, ShadowDomain.L2, 3));
    // A change of a gfn no shadow entry maps removes nothing and flushes nothing.
    flushes = sd.flushes;
    assertEquals(0, host.setP2mEntry(d, 0x300, 0x301, PageOrder.ORDER_4K, P2mType.RAM_RW));
    assertEquals(flushes, sd.flushes);
  }

  /**
   * A guest table whose gfn the p2m re-types to {@code p2m_mmio_direct} (same frame) is no table
   * the walker maps: {@code map_domain_gfn} refuses a gfn that is not {@code p2m_is_ram}, the
   * guest's walk fails and the load is the guest's #PF.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(names = {"SEED_2010", "HARDENED", "XEN_4_22"})
  void aTableGfnThatIsNotRamShouldNotBeWalked(PolicyName p) {
    Host host = new Host(0x1000, p.policy);
    GuestVcpu v = guest(host, PagingMode.HVM_SHADOW);
    GuestDomain d = v.domain();
    assertEquals(0x1111_0004L, v.read(LA_B, 8, U));
    assertEquals(0, host.setP2mEntry(d, L1B, L1B, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT));
    assertEquals(0L, v.read(LA_B, 8, U));
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(v.lastFault()));
  }

  /**
   * A loader's write into a shadowed L2: a 2-MiB entry (now with D) points at its FL1 shadow, an
   * entry for an L1 table that has no shadow yet is empty.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource(SHADOW_MODES)
  void aLoaderWriteIntoAnL2ShouldReDeriveItsEntries(PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    assertEquals(0x5205L, v.read(LA_SUPER + 0x5008, 8, U));
    long fl1 = shadowFrame(d, 0x200, ShadowDomain.FL1);
    assertEquals((fl1 << 12) | 0x65, shadowEntry(host, d, L2, ShadowDomain.L2, 4));
    put(host, d, L2, 4, (0x200L << 12) | 0xE7); // P RW US A D PS
    assertEquals((fl1 << 12) | DIRTY, shadowEntry(host, d, L2, ShadowDomain.L2, 4));
    put(host, d, L2, 7, (0x186L << 12) | 0x27); // an L1 table nobody walked yet
    assertEquals(0L, shadowEntry(host, d, L2, ShadowDomain.L2, 7));
    put(host, d, 0x186, 0, ((DATA + 2) << 12) | UPPER);
    assertEquals(0x1111_0002L, v.read(0xE0_0000L, 8, U));
  }

  /**
   * A loader's write that adds an entry takes no right away: no flush; one that moves a present
   * entry to another frame does.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource(SHADOW_MODES)
  void aLoaderWriteShouldFlushOnlyWhatLostRights(PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0x1111_0000L, v.read(LA + 0x2000, 8, U));
    long flushes = sd.flushes;
    put(host, d, L1A, 20, ((DATA + 4) << 12) | DIRTY);
    assertEquals(((DATA + 4) << 12) | DIRTY, shadowEntry(host, d, L1A, ShadowDomain.L1, 20));
    assertEquals(flushes, sd.flushes);
    put(host, d, L1A, 2, ((DATA + 5) << 12) | DIRTY);
    assertEquals(flushes + 1, sd.flushes);
    assertEquals(0x1111_0005L, v.read(LA + 0x2000, 8, U));
  }

  /** A shadow entry that maps MMIO is in the reverse map while it does, and only then. */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource(SHADOW_MODES)
  void theReverseMapShouldLoseAnEntryThatStopsMappingMmio(
      PagingMode mode, String name, Policy policy) {
    Host host = new Host(0x1000, policy);
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    v.read(LA + 0x7000, 4, U);
    assertEquals(1, ShadowPagingTest.shadowRecords(host));
    put(host, d, L1A, 7, ((DATA + 2) << 12) | DIRTY);
    assertEquals(((DATA + 2) << 12) | DIRTY, shadowEntry(host, d, L1A, ShadowDomain.L1, 7));
    assertEquals(0, ShadowPagingTest.shadowRecords(host));
    put(host, d, L1A, 7, (MMIO << 12) | DIRTY);
    assertEquals(1, ShadowPagingTest.shadowRecords(host));
    assertEquals(List.of(), HostInvariants.check(host));
  }

  /**
   * A pool with every page in use: a p2m change re-derives what is there; a new top-level table
   * first loses its writable mappings, then finds no page for its shadow: -ENOMEM and the domain
   * crashes.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void anExactlyFullPoolShouldStillWorkUntilItNeedsAPage(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    host.shadowPaging().poolPages = 5; // the blank page, L4, L3, L2, L1A
    GuestVcpu v = guest(host, mode);
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    assertEquals(0, v.write(LA + 0x2000, 8, 0xA0, U));
    assertEquals(5, sd.pagesInUse());
    if (mode == PagingMode.HVM_SHADOW) {
      assertEquals(P2mSetResult.OK,
          host.setP2mEntry(d, DATA, DATA + 7, PageOrder.ORDER_4K, P2mType.RAM_RW));
      long e = shadowEntry(host, d, L1A, ShadowDomain.L1, 2);
      assertTrue(e == 0 || e == (((DATA + 7) << 12) | DIRTY), Long.toHexString(e));
      assertEquals(0x1111_0007L, v.read(LA + 0x2000, 8, U));
      assertEquals(0, host.setP2mEntry(d, DATA, DATA, PageOrder.ORDER_4K, P2mType.RAM_RW));
      assertEquals(0xA0L, v.read(LA + 0x2000, 8, U));
    }
    assertFalse(d.crashed());
    assertEquals(-Errno.ENOMEM, v.loadGuestState(CR0, DATA << 12, CR4_PAE, EFER));
    assertTrue(d.crashed());
  }
}
