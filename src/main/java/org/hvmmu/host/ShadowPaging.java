package org.hvmmu.host;

import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.shadow.ShadowL1e;
import org.hvmmu.x86.Pte;

/**
 * The shadow path of the host: shadowed domains' guest tables and the shadow entries Xen derives
 * from them ({@code _sh_propagate}, {@code shadow_set_l1e}), with the reverse map of shadow entries
 * that map MMIO. {@link Host} delegates here.
 */
final class ShadowPaging {
  private final Host host;

  ShadowPaging(Host host) {
    this.host = host;
  }

  /**
   * Creates a guest L1 table of shadowed domain {@code d} (all entries not present) and its shadow.
   *
   * @param d a shadowed domain
   * @return the table's number
   */
  int newGuestTable(GuestDomain d) {
    if (!d.mode().shadowed()) {
      throw new IllegalArgumentException(d + " is not shadowed");
    }
    synchronized (d) {
      return d.newGuestTable();
    }
  }

  /**
   * Shadowed domain {@code d} writes entry {@code slot} of its guest table {@code table}; the shadow
   * entry is derived from it ({@code _sh_propagate}) and installed ({@code shadow_set_l1e}). The
   * entry's frame number is a guest frame (looked up in the p2m) for HVM, a machine frame for PV.
   *
   * @param d a shadowed domain
   * @param table its guest table
   * @param slot 0 to 511
   * @param guestEntry the guest's entry
   * @return {@code shadow_set_l1e}'s flags ({@link ShadowL1e#SHADOW_SET_ERROR} when refused)
   */
  int shadowWrite(GuestDomain d, int table, int slot, long guestEntry) {
    Host.requireAlive(d);
    synchronized (d) {
      d.guestTable(table)[slot] = guestEntry;
      return resyncShadow(d, table, slot);
    }
  }

  int resyncShadow(GuestDomain d, int table, int slot) {
    return resyncShadow(d, table, slot, false);
  }

  /**
   * Re-derives one shadow entry from the guest's entry and installs it. With {@code revalidate}, an
   * entry that re-derives to the value already installed is dropped first: {@code shadow_set_l1e}
   * does nothing for an unchanged entry, so without the drop a PV shadow entry (whose flags do not
   * depend on {@code mmio_ro_ranges}) would never meet the validator again and keep R/W on a frame
   * that just became read-only.
   */
  int resyncShadow(GuestDomain d, int table, int slot, boolean revalidate) {
    long guest = d.guestTable(table)[slot];
    long[] shadow = d.shadowTable(table);
    long sl1e = 0;
    if (Pte.isPresent(guest)) {
      long frame = Pte.getMfn(guest);
      if (d.hasP2m()) {
        P2mEntry e = d.shadowLookup;
        if (d.p2m().getEntry(frame, e) && e.mfn() != P2mEntry.INVALID_MFN) {
          sl1e = ShadowL1e.shPropagate(host.policy().p2m(), guest, e.typeCode(), e.mfn(), host.mmioRoRanges());
        }
      } else {
        int ramRw = P2mType.RAM_RW.code(host.policy().p2m().era());
        sl1e = ShadowL1e.shPropagate(host.policy().p2m(), guest, ramRw, frame, host.mmioRoRanges());
      }
    }
    long old = shadow[slot];
    if (revalidate && old == sl1e && Pte.isPresent(old)) {
      ShadowL1e.shadowSetL1e(host.policy().p2m(), host.pvMmu().validator(), d.mmuView(), shadow, slot, 0);
    }
    int flags = ShadowL1e.shadowSetL1e(host.policy().p2m(), host.pvMmu().validator(), d.mmuView(), shadow, slot,
        sl1e);
    long now = shadow[slot];
    if (old != now) {
      if (Pte.isPresent(old) && host.frames().isIomemPage(Pte.getMfn(old))) {
        host.rmap().remove(Pte.getMfn(old), d.id(), MappingKind.SHADOW_L1, table, slot);
      }
      if (Pte.isPresent(now) && host.frames().isIomemPage(Pte.getMfn(now))) {
        host.rmap().add(Pte.getMfn(now), d.id(), MappingKind.SHADOW_L1, table, slot);
      }
    }
    return flags;
  }

  void resyncAllShadows(GuestDomain d) {
    for (int t = 0; t < d.guestTableCount(); t++) {
      for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
        resyncShadow(d, t, slot);
      }
    }
  }

  /** Re-derives the shadow entries whose guest entries point at guest frames {@code [gfn, +n)}. */
  void resyncShadowsOf(GuestDomain d, long gfn, long n) {
    for (int t = 0; t < d.guestTableCount(); t++) {
      long[] guest = d.guestTable(t);
      for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
        long g = Pte.getMfn(guest[slot]);
        if (Pte.isPresent(guest[slot]) && g >= gfn && g - gfn < n) {
          resyncShadow(d, t, slot);
        }
      }
    }
  }
}
