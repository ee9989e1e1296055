package org.hvmmu.host;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.p2m.RadixP2m;
import org.hvmmu.pci.msix.regs.MsixRegisters;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.FrameTable;
import org.hvmmu.x86.pv.ReferenceHolders;

/**
 * The properties that say the design works, checked over a whole {@link Host} from scratch:
 *
 * <ol>
 *   <li>{@link #WRITABLE_READ_ONLY_MMIO}: no leaf mapping of any domain the policy does not exempt
 *       (the seed exempts the privileged domain's PV tables) grants write access to a frame in {@code
 *       mmio_ro_ranges}: PV L1 entries, p2m and EPT leaves, shadow entries;
 *   <li>{@link #UNPROTECTED_MSIX}: every frame of an enabled device's MSI-X table and PBA is in {@code
 *       mmio_ro_ranges};
 *   <li>{@link #COUNTS}: every frame's reference and type counts equal what its allocation, pins and
 *       mappings (PV and shadow) hold;
 *   <li>{@link #TLB_WRITABLE_READ_ONLY_MMIO}: once a host operation has returned, no translation a
 *       vCPU's TLB holds, and no guest-physical mapping its nested TLB holds, lets a write reach a
 *       frame in {@code mmio_ro_ranges} (domains exempt as in invariant 1 aside): the hypervisor
 *       flushed after every change that mattered;
 *   <li>{@link #MSIX_TABLE_INTEGRITY}: while Xen uses a device's MSI-X (from the first {@link
 *       Host#programMsix} until the last entry is disabled or released), no write changed its
 *       MSI-X table or PBA except through a permitted path: Xen's programming on the owner's behalf
 *       and the owner's mask-bit writes that msixtbl passes on;
 *   <li>{@link #INTERRUPT_PROVENANCE}: in that time every message the device sent carried the
 *       address and data programmed into its entry through the permitted path.
 * </ol>
 *
 * <p>Invariants 5 and 6 are about events, not state: the register block counts them as they
 * happen ({@link org.hvmmu.pci.msix.regs.MsixRegisters#unpermittedChanges()}, {@link
 * org.hvmmu.pci.msix.regs.MsixRegisters#unprovenDeliveries()}), and once broken they stay broken.
 *
 * <p>A check returns every violation with its domain, table, entry and frame; an empty list means the
 * host is sound. It reads the whole host, so call it between operations, not on a hot path.
 */
public final class HostInvariants {
  /** Invariant 1. */
  public static final String WRITABLE_READ_ONLY_MMIO = "writable-read-only-mmio";

  /** Invariant 2. */
  public static final String UNPROTECTED_MSIX = "unprotected-msix";

  /** Invariant 3. */
  public static final String COUNTS = "counts";

  /** Invariant 4. */
  public static final String TLB_WRITABLE_READ_ONLY_MMIO = "tlb-writable-read-only-mmio";

  /** Invariant 5. */
  public static final String MSIX_TABLE_INTEGRITY = "msix-table-integrity";

  /** Invariant 6. */
  public static final String INTERRUPT_PROVENANCE = "interrupt-provenance";

  private HostInvariants() {}

  /**
   * Checks all six invariants.
   *
   * @param host the host
   * @return every violation, empty when none
   */
  public static List<Violation> check(Host host) {
    List<Violation> out = new ArrayList<>();
    writableReadOnlyMmio(host, out);
    unprotectedMsix(host, out);
    counts(host, out);
    tlbWritableReadOnlyMmio(host, out);
    msixTableIntegrity(host, out);
    interruptProvenance(host, out);
    return out;
  }

  /**
   * Checks invariant 5 only: every device's register block reports no unpermitted change.
   *
   * @param host the host
   * @param out receives the violations
   */
  public static void msixTableIntegrity(Host host, List<Violation> out) {
    for (HostDevice dev : host.devices()) {
      MsixRegisters regs = dev.msixRegistersOrNull();
      if (regs != null && regs.unpermittedChanges() > 0) {
        out.add(new Violation(MSIX_TABLE_INTEGRITY, ownerId(dev), null, 0, 0, 0,
            regs.tableAddress() >>> 12, dev + ": " + regs.unpermittedChanges()
                + " write(s) changed the MSI-X registers outside a permitted path, the last "
                + regs.lastUnpermittedChange()));
      }
    }
  }

  /**
   * Checks invariant 6 only: every device's register block reports no message other than its
   * entry's programmed one.
   *
   * @param host the host
   * @param out receives the violations
   */
  public static void interruptProvenance(Host host, List<Violation> out) {
    for (HostDevice dev : host.devices()) {
      MsixRegisters regs = dev.msixRegistersOrNull();
      if (regs != null && regs.unprovenDeliveries() > 0) {
        out.add(new Violation(INTERRUPT_PROVENANCE, ownerId(dev), null, 0, 0, 0,
            regs.tableAddress() >>> 12, dev + ": " + regs.unprovenDeliveries()
                + " message(s) not programmed through a permitted path, the last "
                + regs.lastUnprovenDelivery()));
      }
    }
  }

  private static int ownerId(HostDevice dev) {
    return dev.owner() == null ? -1 : dev.owner().id();
  }

  /**
   * Checks invariant 4 only: every vCPU's cached translations and guest-physical mappings.
   *
   * @param host the host
   * @param out receives the violations
   */
  public static void tlbWritableReadOnlyMmio(Host host, List<Violation> out) {
    boolean exemptPrivileged = host.policy().pv().privilegedExemption();
    RangeSet ro = host.mmioRoRanges();
    for (GuestDomain d : host.domains()) {
      if (d.crashed() || (exemptPrivileged && d.privileged())) {
        continue;
      }
      for (GuestVcpu v : d.vcpus()) {
        v.cpu().forEachCachedTranslation(
            (array, vpid, pcid, global, page, shift, base, writable) -> {
              long first = base >>> 12;
              long last = first + (1L << (shift - 12)) - 1;
              if (writable && ro.overlapsRange(first, last)) {
                out.add(new Violation(TLB_WRITABLE_READ_ONLY_MMIO, d.id(), MappingKind.TLB,
                    page << shift, shift, base, first,
                    v + " " + array + " caches linear page 0x" + Long.toHexString(page << shift)
                        + " -> 0x" + Long.toHexString(base) + " writable, over read-only frames"
                        + " [0x" + Long.toHexString(first) + ", 0x" + Long.toHexString(last)
                        + "]"));
              }
            });
        v.cpu().forEachGuestPhysicalMapping((gpa, shift, hpa, writable) -> {
          long first = hpa >>> 12;
          long last = first + (1L << (shift - 12)) - 1;
          if (writable && ro.overlapsRange(first, last)) {
            out.add(new Violation(TLB_WRITABLE_READ_ONLY_MMIO, d.id(), MappingKind.TLB, gpa, shift,
                hpa, first, v + " nested TLB caches guest-physical 0x" + Long.toHexString(gpa)
                    + " -> 0x" + Long.toHexString(hpa) + " writable, over read-only frames"));
          }
        });
      }
    }
  }

  /**
   * Checks invariant 1 only.
   *
   * @param host the host
   * @param out receives the violations
   */
  public static void writableReadOnlyMmio(Host host, List<Violation> out) {
    boolean exemptPrivileged = host.policy().pv().privilegedExemption();
    forEachWritableMapping(host, host.mmioRoRanges(), (d, kind, where, slot, entry, mfn) -> {
      if (kind == MappingKind.PV_L1 && exemptPrivileged && d.privileged()) {
        return;
      }
      String place = switch (kind) {
        case PV_L1 -> "L1 table 0x" + Long.toHexString(where) + "[" + slot + "]";
        case P2M_LEAF -> "p2m leaf gfn 0x" + Long.toHexString(where) + " (order " + slot + ")";
        case SHADOW_L1 -> "shadow L1 0x" + Long.toHexString(where) + "[" + slot + "] (of 0x"
            + Long.toHexString(d.shadowedFrame(where)) + ")";
        case TLB -> "cached translation 0x" + Long.toHexString(where);
      };
      out.add(new Violation(WRITABLE_READ_ONLY_MMIO, d.id(), kind, where, slot, entry, mfn,
          d + " " + place + " = " + Pte.toHex(entry) + " maps read-only MFN 0x"
              + Long.toHexString(mfn) + " writable"));
    });
  }

  /** Receives one writable mapping; see {@link #forEachWritableMapping}. */
  @FunctionalInterface
  public interface WritableMappingVisitor {
    /**
     * One leaf mapping that grants write access to a frame of the set.
     *
     * @param domain the domain that holds it
     * @param kind where the entry lives
     * @param where the PV table's frame, the guest frame (of this 4-KByte page, for a superpage
     *     leaf), or the shadow L1 table's machine frame
     * @param slot the entry's slot, or the p2m leaf's order code
     * @param entry the entry
     * @param mfn the frame it maps (this 4-KByte frame, for a superpage leaf)
     */
    void visit(GuestDomain domain, MappingKind kind, long where, int slot, long entry, long mfn);
  }

  /**
   * Walks every leaf mapping of every domain that grants write access to a frame of {@code
   * frames}, whatever the policy exempts: PV entries of live L1 tables, p2m and EPT leaves (a
   * superpage once per 4-KByte frame of the set it covers), shadow entries. Invariant 1 is this walk
   * over {@code mmio_ro_ranges}; the demo asks it about other frame sets.
   *
   * @param host the host
   * @param frames the frames of interest
   * @param visitor receives each mapping
   */
  public static void forEachWritableMapping(
      Host host, RangeSet frames, WritableMappingVisitor visitor) {
    FrameTable table = host.frames();
    for (GuestDomain d : host.domains()) {
      if (d.mode().pvTables()) {
        for (long mfn = 0; mfn < table.frameCount(); mfn++) {
          if (table.owner(mfn) != d.id() || !table.isLiveL1Table(mfn)) {
            continue;
          }
          for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
            long l1e = table.readEntry(mfn, slot);
            if (Pte.isPresentWritable(l1e) && frames.containsSingleton(Pte.getMfn(l1e))) {
              visitor.visit(d, MappingKind.PV_L1, mfn, slot, l1e, Pte.getMfn(l1e));
            }
          }
        }
      }
      if (d.hasP2m()) {
        RadixP2m p2m = d.p2m();
        p2m.forEachLeaf((gfn, order, entry) -> {
          long mfn = RadixP2m.frameOf(entry);
          if (p2m.isWritable(entry) && frames.overlapsRange(mfn, mfn + order.pages() - 1)) {
            for (long i = 0; i < order.pages(); i++) {
              if (frames.containsSingleton(mfn + i)) {
                visitor.visit(d, MappingKind.P2M_LEAF, gfn + i, order.code, entry, mfn + i);
              }
            }
          }
          return 0;
        });
      }
      if (d.mode().shadowed()) {
        d.shadow().paging.forEachShadowL1e(d, (sl1, slot, sl1e) -> {
          if (Pte.isPresentWritable(sl1e) && frames.containsSingleton(Pte.getMfn(sl1e))) {
            visitor.visit(d, MappingKind.SHADOW_L1, sl1, slot, sl1e, Pte.getMfn(sl1e));
          }
        });
      }
    }
  }

  /**
   * Checks invariant 2 only.
   *
   * @param host the host
   * @param out receives the violations
   */
  public static void unprotectedMsix(Host host, List<Violation> out) {
    RangeSet ro = host.mmioRoRanges();
    for (HostDevice dev : host.devices()) {
      if (!dev.hasMsix() || dev.msix().enabledCount() == 0) {
        continue;
      }
      for (org.hvmmu.pci.msix.MsixRegion region : new org.hvmmu.pci.msix.MsixRegion[] {
          dev.trueTable(), dev.truePba()}) {
        if (!region.usable()) {
          continue;
        }
        String what = region == dev.trueTable() ? "table" : "PBA";
        for (long mfn = region.firstFrame(); mfn <= region.lastFrame(); mfn++) {
          if (!ro.containsSingleton(mfn)) {
            int owner = dev.owner() == null ? -1 : dev.owner().id();
            out.add(new Violation(UNPROTECTED_MSIX, owner, null, 0, 0, 0, mfn, dev
                + " has " + dev.msix().enabledCount() + " MSI-X entries enabled but its " + what
                + " frame 0x" + Long.toHexString(mfn) + " is not in mmio_ro_ranges"));
          }
        }
      }
    }
  }

  /**
   * Checks invariant 3 only.
   *
   * @param host the host
   * @param out receives the violations
   */
  public static void counts(Host host, List<Violation> out) {
    ReferenceHolders shadows = visitor -> {
      for (GuestDomain d : host.domains()) {
        if (d.mode().shadowed()) {
          d.shadow().paging.forEachShadowL1e(d,
              (table, slot, sl1e) -> visitor.entry(d.mmuView(), sl1e));
        }
      }
    };
    host.pvMmu().forEachCountMismatch(shadows, (mfn, message) ->
        out.add(new Violation(COUNTS, -1, null, 0, 0, 0, mfn, message)));
  }
}
