package org.hvmmu.p2m;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import org.hvmmu.p2m.ept.EptP2m;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.testkit.Action;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.PropertyConfig;
import org.hvmmu.testkit.PropertyFailure;
import org.hvmmu.testkit.StatefulCheck;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.PageOrder;
import org.junit.jupiter.api.Test;

/**
 * The security property of the HVM paths: no p2m or EPT leaf of type mmio_direct lets the guest write a
 * frame in mmio_ro_ranges. Both tables (generic and EPT) run the same random sequence of set_entry calls,
 * range registrations and removals, and global re-derivations, over a small window of guest frames
 * (GFN 0 to 0x7ff, 2M slots 0 to 3) and MMIO frames (0x400000 to 0x4007ff, above max_page).
 *
 * <ul>
 *   <li>Hardened: the invariant is checked after every step. A range registration follows upstream's
 *       rule (reference 3.7, step 3): ranges are registered while the domain has no memory; if it
 *       already has mappings it is crashed, modelled as {@link RadixP2m#teardown()}. Superpages that
 *       the hardened set_entry refuses are retried page by page, as Xen's callers do.
 *   <li>Seed: MMIO is mapped 4K at a time, as the seed's {@code set_mmio_p2m_entry} did, and the
 *       invariant is checked whenever no range was added since the last re-derivation {@code
 *       p2m_change_type_global(mmio_direct, mmio_direct)}.
 * </ul>
 */
class P2mMmioRoPropertyTest {
  private static final long MMIO_BASE = 0x400000L;
  private static final int TABLES = 64;

  /** The system under test: one shared mmio_ro_ranges, one table per format. */
  static final class Host {
    final P2mSwitches switches;
    final RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
    final PtP2m pt;
    final EptP2m ept;

    Host(P2mSwitches switches) {
      this.switches = switches;
      this.pt = new PtP2m(switches, P2mDomainConfig.DEFAULT, ro, TABLES);
      this.ept = new EptP2m(switches, CpuFeatures.ALL, P2mDomainConfig.DEFAULT, ro, TABLES);
    }

    boolean hasMappings() {
      return pt.forEachLeaf((g, o, e) -> 1) != 0 || ept.forEachLeaf((g, o, e) -> 1) != 0;
    }
  }

  /** The model: whether a range was added since the last re-derivation (the seed's stale window). */
  static final class Model {
    boolean stale;
  }

  record SetEntry(long gfn, long mfn, PageOrder order, P2mType type) implements Action<Host, Model> {
    @Override
    public void run(Host host, Model model) {
      int rc = host.pt.setEntry(gfn, mfn, order, type);
      assertEquals(rc, host.ept.setEntry(gfn, mfn, order, type), "same answer from both formats");
      if (rc == P2mSetResult.RETRY_ORDER_4K) {
        for (long i = 0; i < order.pages(); i++) {
          assertEquals(0, host.pt.setEntry(gfn + i, mfn + i, PageOrder.ORDER_4K, type));
          assertEquals(0, host.ept.setEntry(gfn + i, mfn + i, PageOrder.ORDER_4K, type));
        }
      } else {
        assertEquals(P2mSetResult.OK, rc);
      }
    }

    @Override
    public String toString() {
      return "setEntry(0x" + Long.toHexString(gfn) + ", 0x" + Long.toHexString(mfn) + ", "
          + order + ", " + type + ")";
    }
  }

  record AddRange(long s, long e) implements Action<Host, Model> {
    @Override
    public void run(Host host, Model model) {
      if (host.switches.globalRetype() == P2mSwitches.GlobalRetype.CHANGEABLE_ONLY
          && host.hasMappings()) {
        host.pt.teardown(); // domain_crash: the domain had memory when the table was registered
        host.ept.teardown();
      }
      assertEquals(0, host.ro.addRange(s, e));
      model.stale = true;
    }

    @Override
    public String toString() {
      return "addRange(0x" + Long.toHexString(s) + ", 0x" + Long.toHexString(e) + ")";
    }
  }

  record RemoveRange(long s, long e) implements Action<Host, Model> {
    @Override
    public void run(Host host, Model model) {
      assertEquals(0, host.ro.removeRange(s, e));
    }

    @Override
    public String toString() {
      return "removeRange(0x" + Long.toHexString(s) + ", 0x" + Long.toHexString(e) + ")";
    }
  }

  record Rederive(boolean toLogdirty) implements Action<Host, Model> {
    @Override
    public void run(Host host, Model model) {
      if (host.switches.globalRetype() == P2mSwitches.GlobalRetype.SEED_MMIO_DIRECT_SAME_ONLY) {
        host.pt.changeTypeGlobal(P2mType.MMIO_DIRECT, P2mType.MMIO_DIRECT);
        host.ept.changeTypeGlobal(P2mType.MMIO_DIRECT, P2mType.MMIO_DIRECT);
        model.stale = false;
      } else {
        P2mType from = toLogdirty ? P2mType.RAM_RW : P2mType.RAM_LOGDIRTY;
        P2mType to = toLogdirty ? P2mType.RAM_LOGDIRTY : P2mType.RAM_RW;
        host.pt.changeTypeGlobal(from, to);
        host.ept.changeTypeGlobal(from, to);
        assertEquals(P2mSetResult.OK, host.ept.memoryTypeChanged());
      }
    }

    @Override
    public String toString() {
      return "rederive(" + (toLogdirty ? "to logdirty" : "back") + ")";
    }
  }

  private static Gen<Action<Host, Model>> actions(boolean seed) {
    Gen<PageOrder> orders =
        seed ? Gens.constant(PageOrder.ORDER_4K) : Gens.elements(PageOrder.ORDER_4K, PageOrder.ORDER_2M);
    Gen<P2mType> types =
        Gens.<P2mType>weighted()
            .add(6, Gens.constant(P2mType.MMIO_DIRECT))
            .add(1, Gens.elements(P2mType.RAM_RW, P2mType.RAM_LOGDIRTY, P2mType.MMIO_DM))
            .build();
    Gen<Action<Host, Model>> mmio =
        Gens.zip(
            Gens.zip(Gens.ints(0, 0x7FF), Gens.ints(0, 0x7FF), (g, m) -> new long[] {g, m}),
            Gens.zip(orders, types, (o, t) -> new Object[] {o, t}),
            (gm, ot) -> {
              PageOrder order = (PageOrder) ot[0];
              P2mType type = (P2mType) ot[1];
              long mask = ~(order.pages() - 1);
              long gfn = gm[0] & mask;
              long mfn =
                  type == P2mType.MMIO_DIRECT || type == P2mType.MMIO_DM
                      ? (MMIO_BASE + gm[1]) & mask
                      : (0x1000 + gm[1]) & mask;
              return new SetEntry(gfn, mfn, order, type);
            });
    Gen<Action<Host, Model>> add =
        Gens.rangesWithin(MMIO_BASE, MMIO_BASE + 0x7FF).map(r -> new AddRange(r.start(), r.end()));
    Gen<Action<Host, Model>> remove =
        Gens.rangesWithin(MMIO_BASE, MMIO_BASE + 0x7FF)
            .map(r -> new RemoveRange(r.start(), r.end()));
    Gen<Action<Host, Model>> rederive = Gens.booleans().map(Rederive::new);
    return Gens.<Action<Host, Model>>weighted()
        .add(6, mmio)
        .add(2, add)
        .add(1, remove)
        .add(2, rederive)
        .build();
  }

  /** Throws if a leaf of type mmio_direct is writable while any frame it maps is in mmio_ro_ranges. */
  static void noWritableReadOnlyMmio(Host host, RadixP2m p2m) {
    int mmioDirect = P2mType.MMIO_DIRECT.code(host.switches.era());
    p2m.forEachLeaf(
        (gfn, order, entry) -> {
          if (p2m.typeOf(entry) == mmioDirect && p2m.isWritable(entry)) {
            long mfn = RadixP2m.frameOf(entry);
            if (host.ro.overlapsRange(mfn, mfn + order.pages() - 1)) {
              fail(
                  p2m.getClass().getSimpleName() + " leaf at gfn 0x" + Long.toHexString(gfn)
                      + " order " + order.code + " entry 0x" + Long.toHexString(entry)
                      + " is writable over " + host.ro);
            }
          }
          return 0;
        });
  }

  private static void invariant(Host host, Model model, boolean onlyAfterRederive) {
    if (onlyAfterRederive && model.stale) {
      return;
    }
    noWritableReadOnlyMmio(host, host.pt);
    noWritableReadOnlyMmio(host, host.ept);
  }

  private static PropertyConfig config() {
    return PropertyConfig.defaults().tries(Math.min(PropertyConfig.defaults().tries(), 200));
  }

  @Test
  void shouldNeverMapReadOnlyMmioWritableWhenHardened() {
    StatefulCheck.run(
        config(),
        () -> new Host(P2mSwitches.HARDENED),
        Model::new,
        actions(false),
        30,
        (host, model) -> invariant(host, model, false));
  }

  @Test
  void shouldNeverMapReadOnlyMmioWritableAfterTheSeedsReDerivation() {
    StatefulCheck.run(
        config(),
        () -> new Host(P2mSwitches.SEED_2010),
        Model::new,
        actions(true),
        30,
        (host, model) -> invariant(host, model, true));
  }

  /**
   * The check is not vacuous: under the seed, checked after every step instead of after re-derivation,
   * it finds the stale window and shrinks it to a mapping followed by a registration.
   */
  @Test
  void shouldFindTheSeedsStaleWindowWhenCheckedAfterEveryStep() {
    PropertyFailure failure =
        assertThrows(
            PropertyFailure.class,
            () ->
                StatefulCheck.run(
                    config().seed(0x5EEDL),
                    () -> new Host(P2mSwitches.SEED_2010),
                    Model::new,
                    actions(true),
                    30,
                    (host, model) -> invariant(host, model, false)));
    List<?> shrunk = (List<?>) failure.shrunkCounterexample();
    assertEquals(2, shrunk.size(), failure.getMessage());
    assertEquals(SetEntry.class, shrunk.get(0).getClass());
    assertEquals(AddRange.class, shrunk.get(1).getClass());
  }

  /**
   * The hardened check is not vacuous either: with today's encodings but without the superpage refusal,
   * a 2M mmio_direct entry over a read-only frame that is not its first stays writable.
   */
  @Test
  void shouldFailWithoutTheSuperpageRefusal() {
    P2mSwitches noRefusal =
        new P2mSwitches(
            P2mEra.TODAY,
            true,
            P2mSwitches.SuperpageRoMmio.ASSERT_NO_VALID_MFN,
            P2mSwitches.GlobalRetype.CHANGEABLE_ONLY,
            true,
            true,
            true,
            false);
    assertThrows(
        PropertyFailure.class,
        () ->
            StatefulCheck.run(
                config().seed(0x5EEDL),
                () -> new Host(noRefusal),
                Model::new,
                actions(false),
                30,
                (host, model) -> invariant(host, model, false)));
  }

  /** The shrunk counterexample above, worked by hand: map MMIO 4K, then register its frame. */
  @Test
  void shouldPinTheStaleWindowExample() {
    Host host = new Host(P2mSwitches.SEED_2010);
    Model model = new Model();
    new SetEntry(0x0, MMIO_BASE, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT).run(host, model);
    new AddRange(MMIO_BASE, MMIO_BASE).run(host, model);
    assertThrows(AssertionError.class, () -> invariant(host, model, false));
    new Rederive(false).run(host, model);
    invariant(host, model, false);
  }
}
