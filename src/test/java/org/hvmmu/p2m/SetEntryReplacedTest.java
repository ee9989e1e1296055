package org.hvmmu.p2m;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.p2m.ept.EptP2m;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.PropertyConfig;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.PageOrder;
import org.junit.jupiter.api.Test;

/**
 * {@link RadixP2m#setEntry(long, long, PageOrder, P2mType, P2mEntry)} reports, read on its way
 * down, exactly what {@link RadixP2m#getEntry} gave just before the call: for both formats, with
 * the tables in a pool and in machine memory, over sequences that map 4-KByte, 2-MByte and 1-GByte
 * leaves into the same window so that leaves replace leaves, superpages are split and tables are
 * freed under a new superpage.
 */
class SetEntryReplacedTest {
  private static final int TABLES = 64;
  private static final P2mType[] TYPES = {
    P2mType.RAM_RW, P2mType.RAM_RO, P2mType.MMIO_DIRECT, P2mType.RAM_LOGDIRTY, P2mType.INVALID
  };
  private static final PageOrder[] ORDERS = {
    PageOrder.ORDER_4K, PageOrder.ORDER_4K, PageOrder.ORDER_4K, PageOrder.ORDER_2M,
    PageOrder.ORDER_1G
  };

  /** One set_entry call: the frame is taken from a window at 1 GiB-aligned offsets. */
  record Call(long gfn, long mfn, PageOrder order, P2mType type) {
    static Call draw(SplittableRandom r) {
      PageOrder order = ORDERS[r.nextInt(ORDERS.length)];
      long pages = order.pages();
      // Two 1-GiB slots, 4 2-MiB slots in each, 8 4-KiB frames in each 2-MiB slot.
      long gfn = r.nextInt(2) * 0x40000L;
      if (order != PageOrder.ORDER_1G) {
        gfn += r.nextInt(4) * 0x200L;
      }
      if (order == PageOrder.ORDER_4K) {
        gfn += r.nextInt(8);
      }
      P2mType type = TYPES[r.nextInt(TYPES.length)];
      // RAM below max_page (0x100000, else Xen writes no valid leaf), MMIO above it.
      long base = type == P2mType.MMIO_DIRECT
          ? 0x100000L * (1 + r.nextInt(3))
          : 0x80000L * r.nextInt(2);
      long mfn = r.nextInt(8) == 0 ? P2mEntry.INVALID_MFN : base + gfn;
      return new Call(gfn, mfn, order, type);
    }

    @Override
    public String toString() {
      return "set(0x" + Long.toHexString(gfn) + ", "
          + (mfn == P2mEntry.INVALID_MFN ? "INVALID" : "0x" + Long.toHexString(mfn)) + ", "
          + order + ", " + type + ")";
    }
  }

  static List<RadixP2m> tables() {
    RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
    ro.addRange(0x100003, 0x100003); // an mmio_direct 4K leaf of this frame is read-only
    List<RadixP2m> all = new ArrayList<>();
    for (int inMemory = 0; inMemory < 2; inMemory++) {
      RadixP2m pt = new PtP2m(P2mSwitches.HARDENED, P2mDomainConfig.DEFAULT, ro, TABLES);
      RadixP2m ept =
          new EptP2m(P2mSwitches.HARDENED, CpuFeatures.ALL, P2mDomainConfig.DEFAULT, ro, TABLES);
      if (inMemory == 1) {
        PhysicalMemory memory = new PhysicalMemory(46);
        memory.addRam(0x1000, 0x1000 + 2 * TABLES - 1);
        pt.inMachineMemory(memory, 0x1000);
        ept.inMachineMemory(memory, 0x1000 + TABLES);
      }
      all.add(pt);
      all.add(ept);
    }
    return all;
  }

  private static void checkSequence(List<Call> calls) {
    for (RadixP2m p2m : tables()) {
      P2mEntry before = new P2mEntry();
      P2mEntry replaced = new P2mEntry();
      for (Call c : calls) {
        p2m.getEntry(c.gfn(), before);
        int rc = p2m.setEntry(c.gfn(), c.mfn(), c.order(), c.type(), replaced);
        if (rc != P2mSetResult.OK) {
          continue; // a refused superpage, or the pool is full: nothing changed, nothing reported
        }
        String where = p2m.getClass().getSimpleName() + " after " + c;
        assertEquals(before.entry(), replaced.entry(), where);
        assertEquals(before.mfn(), replaced.mfn(), where);
        assertEquals(before.typeCode(), replaced.typeCode(), where);
        assertEquals(before.order(), replaced.order(), where);
      }
    }
  }

  @Test
  void reportsWhatGetEntryGaveBeforeTheCall() {
    PropertyConfig.defaults().forAll(
        Gens.lists(Gens.of(Call::draw, c -> List.<Call>of()), 1, 40),
        SetEntryReplacedTest::checkSequence);
  }

  @Test
  void eachKindOfReplacementByHand() {
    long g = 0x40000L;
    List<Call> calls = List.of(
        new Call(g + 0x205, 0x100205, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT), // nothing there
        new Call(g + 0x205, 0x205, PageOrder.ORDER_4K, P2mType.RAM_RW), // a 4K leaf
        new Call(g + 0x200, 0x80200, PageOrder.ORDER_2M, P2mType.RAM_RW), // a table: leaf below
        new Call(g + 0x207, 0x207, PageOrder.ORDER_4K, P2mType.RAM_RO), // a 2M leaf, split
        new Call(g, 0x80000, PageOrder.ORDER_1G, P2mType.RAM_RW), // tables under a 1G leaf
        new Call(g + 3, 3, PageOrder.ORDER_4K, P2mType.RAM_RW)); // the 1G leaf, split twice
    checkSequence(calls);
    for (RadixP2m p2m : tables()) {
      P2mEntry replaced = new P2mEntry();
      for (Call c : calls.subList(0, calls.size() - 1)) {
        assertEquals(P2mSetResult.OK, p2m.setEntry(c.gfn(), c.mfn(), c.order(), c.type()));
      }
      assertEquals(P2mSetResult.OK,
          p2m.setEntry(g + 3, 3, PageOrder.ORDER_4K, P2mType.RAM_RW, replaced));
      // The 1-GByte leaf at 0x80000 covered gfn g + 3: frame 0x80003, order 1G, ram_rw.
      assertEquals(0x80003L, replaced.mfn());
      assertEquals(PageOrder.ORDER_1G, replaced.order());
      assertEquals(P2mType.RAM_RW.code(P2mSwitches.HARDENED.era()), replaced.typeCode());
    }
  }
}
