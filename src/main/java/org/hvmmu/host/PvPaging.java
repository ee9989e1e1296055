package org.hvmmu.host;

import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.Domain;
import org.hvmmu.x86.pv.EmulationResult;
import org.hvmmu.x86.pv.FrameTable;
import org.hvmmu.x86.pv.L1eListener;

/**
 * The PV path of the host: a PV guest's page-table hypercalls ({@code mmu_update}, pinning, emulated
 * page-table writes) on the PV MMU, and the reverse map of its L1 entries that map MMIO. {@link Host}
 * delegates here.
 */
final class PvPaging {
  private final Host host;

  PvPaging(Host host) {
    this.host = host;
  }

  /**
   * Pins frame {@code mfn} of PV domain {@code d} as an L1 table ({@code MMUEXT_PIN_L1_TABLE}).
   *
   * @param d a PV domain
   * @param mfn its frame
   * @return 0 or {@code -EINVAL}
   */
  int pinL1Table(GuestDomain d, long mfn) {
    Host.requireAlive(d);
    return host.pvMmu().pinL1Table(pvDomain(d), mfn);
  }

  /**
   * Unpins a table ({@code MMUEXT_UNPIN_TABLE}).
   *
   * @param d a PV domain
   * @param mfn its pinned table
   * @return 0 or {@code -EINVAL}
   */
  int unpinTable(GuestDomain d, long mfn) {
    return host.pvMmu().unpinTable(pvDomain(d), mfn);
  }

  /**
   * The guest writes its own frame through an ordinary mapping (filling a page before pinning it).
   *
   * @param d the domain
   * @param mfn its frame, not a page table in use
   * @param slot 0 to 511
   * @param value the 64-bit value
   */
  void writeGuestEntry(GuestDomain d, long mfn, int slot, long value) {
    host.pvMmu().writeGuestEntry(d.mmuView(), mfn, slot, value);
  }

  /**
   * One {@code MMU_NORMAL_PT_UPDATE} of PV domain {@code d} on its own frame, mapping its own frames
   * or MMIO ({@code mod_l1_entry} when the frame is an L1 table).
   *
   * @param d a PV domain
   * @param mfn the frame written
   * @param slot 0 to 511
   * @param value the new entry
   * @return 0 or a negated errno
   */
  int mmuUpdate(GuestDomain d, long mfn, int slot, long value) {
    Host.requireAlive(d);
    Domain view = pvDomain(d);
    return host.pvMmu().mmuUpdate(view, mfn, slot, value, view, false);
  }

  /**
   * An emulated store of {@code bytes} bytes into PV domain {@code d}'s L1 table ({@code
   * ptwr_emulated_update}).
   *
   * @param d a PV domain
   * @param mfn the table
   * @param offset byte offset, 0 to 4095
   * @param old for a cmpxchg, the expected value
   * @param val the value stored
   * @param bytes 1 to 8
   * @param cmpxchg whether it is a compare-and-exchange
   * @return the emulation result
   */
  EmulationResult ptwrEmulatedUpdate(
      GuestDomain d, long mfn, int offset, long old, long val, int bytes, boolean cmpxchg) {
    Host.requireAlive(d);
    return host.pvMmu().ptwrEmulatedUpdate(pvDomain(d), mfn, offset, old, val, bytes, cmpxchg);
  }

  static Domain pvDomain(GuestDomain d) {
    if (!d.mode().pvTables()) {
      throw new IllegalArgumentException(d + " does not write PV page tables");
    }
    return d.mmuView();
  }

  /** Keeps the reverse map of PV entries that map MMIO: one synchronised step per change. */
  final class PvReverseMapping implements L1eListener {
    @Override
    public void changed(Domain owner, long tableMfn, int slot, long oldL1e, long newL1e) {
      FrameTable frames = host.pvMmu().frameTable();
      long oldMfn = Pte.getMfn(oldL1e);
      long newMfn = Pte.getMfn(newL1e);
      boolean oldIo = Pte.isPresent(oldL1e) && frames.isIomemPage(oldMfn);
      boolean newIo = Pte.isPresent(newL1e) && frames.isIomemPage(newMfn);
      if (oldIo || newIo) {
        host.rmap().replace(oldIo ? oldMfn : -1, newIo ? newMfn : -1, owner.id(), MappingKind.PV_L1,
            tableMfn, slot);
      }
    }
  }
}
