package org.hvmmu.host;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.pci.msix.MsixRegion;
import org.hvmmu.rangeset.owned.OwnedRanges;
import org.hvmmu.x86.pv.FrameTable;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;

/**
 * How frames become read-only: registrations (host registrants such as an IO-APIC page, and each
 * device's MSI-X frames) whose union is {@code mmio_ro_ranges}, and what then happens to mappings
 * that already exist, as the policy says ({@link ExistingMappings}): the seed re-derives the device
 * owner's p2m and leaves PV mappings writable; Xen 4.22 leaves every mapping; hardened revokes write
 * access from exactly the entries the host's reverse map lists, with Xen's flush after each. {@link Host} delegates here, under its configuration lock.
 */
final class Protection {
  private final Host host;
  private final OwnedRanges registrations;
  private final Map<String, Integer> registrants = new HashMap<>();
  private final SubpageBytes bytes = new SubpageBytes();

  Protection(Host host, OwnedRanges registrations) {
    this.host = host;
    this.registrations = registrations;
  }

  /** hvmmu's byte-granular protection (used under {@code subpageOwnedBytes}). */
  SubpageBytes bytes() {
    return bytes;
  }

  private boolean ownedBytes() {
    return host.policy().roMmio().subpageOwnedBytes();
  }

  OwnedRanges registrations() {
    return registrations;
  }

  /** See {@link Host#protect}. */
  int protect(String registrant, long first, long last) {
    if (Long.compareUnsigned(first, last) > 0 || holdsRam(first, last)) {
      Objects.requireNonNull(registrant, "registrant");
      return -Errno.EINVAL; // nothing changed
    }
    int id = registrantId(registrant);
    int rc = registrations.add(id, first, last);
    if (rc == 0 && ownedBytes()) {
      rc = bytes.addFrames(registrant, first, last); // a whole frame has no writable byte
      if (rc != 0) {
        registrations.remove(id, first, last);
      }
    }
    if (rc == 0) {
      handleExistingMappings(first, last, null);
    }
    return rc;
  }

  /** See {@link Host#unprotect}. */
  int unprotect(String registrant, long first, long last) {
    int rc = registrations.remove(registrantId(registrant), first, last);
    if (rc == 0 && ownedBytes()) {
      bytes.removeFrames(registrant, first, last);
    }
    return rc;
  }

  /** See {@link Host#protectBytes}. */
  int protectBytes(String registrant, long start, long size) {
    Objects.requireNonNull(registrant, "registrant");
    if (!ownedBytes()) {
      return -Errno.EOPNOTSUPP;
    }
    long last = start + size - 1;
    if (size <= 0 || start < 0 || last < start || last >= SubpageBytes.ADDRESS_LIMIT
        || holdsRam(start >>> 12, last >>> 12)) {
      return -Errno.EINVAL;
    }
    int id = registrantId(registrant);
    int rc = registrations.add(id, start >>> 12, last >>> 12);
    if (rc != 0) {
      return rc;
    }
    rc = bytes.add(registrant, start, last);
    if (rc != 0) {
      registrations.remove(id, start >>> 12, last >>> 12);
      return rc;
    }
    handleExistingMappings(start >>> 12, last >>> 12, null);
    return 0;
  }

  /** See {@link Host#unprotectBytes}. */
  int unprotectBytes(String registrant, long start, long size) {
    Objects.requireNonNull(registrant, "registrant");
    if (!ownedBytes()) {
      return -Errno.EOPNOTSUPP;
    }
    long last = start + size - 1;
    if (size <= 0 || start < 0 || last < start || last >= SubpageBytes.ADDRESS_LIMIT) {
      return -Errno.EINVAL;
    }
    int rc = bytes.remove(registrant, start, last);
    if (rc != 0) {
      return rc; // -ENOENT: not held; nothing changed
    }
    return registrations.remove(registrantId(registrant), start >>> 12, last >>> 12);
  }

  /**
   * Keeps a device's MSI-X bytes in step with its frames under {@code subpageOwnedBytes}: while
   * the device holds frames in {@code mmio_ro_ranges}, exactly the bytes of its table ({@code 16 *
   * entries}) and PBA ({@code 8 * ceil(entries / 64)}) are protected, so stores to other registers
   * on their pages reach the device; once it holds none, the bytes go too.
   */
  void syncDeviceBytes(HostDevice dev) {
    if (!ownedBytes() || !dev.hasMsix()) {
      return;
    }
    String name = registrations.registrantName(dev.msix().registrant());
    boolean holdsFrames = registrations.registrationCount(dev.msix().registrant()) > 0;
    boolean holdsBytes = bytes.holds(name);
    if (holdsFrames && !holdsBytes) {
      for (MsixRegion r : new MsixRegion[] {dev.trueTable(), dev.truePba()}) {
        if (r.usable() && r.length() > 0) {
          bytes.add(name, r.address(), r.address() + r.length() - 1);
        }
      }
    } else if (!holdsFrames && holdsBytes) {
      bytes.removeAll(name);
    }
  }

  /**
   * Whether frames {@code [first, last]} hold a frame given to a domain as RAM: a walk of the frame
   * table's part of the range, so at most {@link FrameTable#MAX_FRAMES} frames whatever the range.
   */
  private boolean holdsRam(long first, long last) {
    FrameTable frames = host.frames();
    if (Long.compareUnsigned(first, frames.frameCount()) >= 0) {
      return false;
    }
    long end = Long.compareUnsigned(last, frames.frameCount() - 1) < 0 ? last
        : frames.frameCount() - 1;
    for (long mfn = first; mfn <= end; mfn++) {
      if (DomainIds.isOrdinary(frames.owner(mfn))) {
        return true;
      }
    }
    return false;
  }

  private int registrantId(String name) {
    return registrants.computeIfAbsent(
        Objects.requireNonNull(name, "registrant"), registrations::newRegistrant);
  }

  /**
   * What happens to mappings that exist when frames {@code [first, last]} become protected.
   *
   * @param owner the domain that owns the device the frames belong to, or null for host frames
   */
  void handleExistingMappings(long first, long last, GuestDomain owner) {
    switch (host.policy().existingMappings()) {
      case REVOKE -> revoke(first, last);
      case REDERIVE_OWNER_P2M -> rederiveOwnerP2m(owner);
      case LEAVE -> { } // Xen 4.5 on: "XXX How to deal with existing mappings?"
    }
  }

  /** The seed: re-derive the device owner's p2m; PV mappings stay. */
  private void rederiveOwnerP2m(GuestDomain owner) {
    if (owner != null && owner.hasP2m()) {
      synchronized (owner) {
        owner.p2m().changeTypeGlobal(P2mType.MMIO_DIRECT, P2mType.MMIO_DIRECT);
        if (owner.mode().shadowed()) {
          host.shadowPaging().resyncAllShadows(owner);
        }
        host.p2mPaging().syncP2m(owner);
      }
    }
  }

  /**
   * Revokes write access from every mapping the reverse map lists for frames now read-only, then
   * flushes the vCPUs of every PV and shadowed domain: a vCPU may still cache a writable
   * translation from an entry its guest has changed since without flushing (Xen flushes no guest L1
   * change, the guest must: {@code mod_l1_entry}, {@code ptwr}, {@code update_va_mapping} with
   * {@code UVMF_NONE}, an emulated store under shadow paging), an entry the reverse map no longer
   * lists. On EPT and NPT every translation carries the p2m leaf's rights, which the re-derivation
   * synchronised. These flushes follow {@link FlushSwitches#pvRevalidate()} and {@link
   * FlushSwitches#shadowFlush()}.
   */
  private void revoke(long first, long last) {
    GuestDomain[] live = host.liveDomains();
    for (GuestDomain d : live) {
      if (d.hasP2m() && d.hasMmioSuperpages()) {
        host.p2mPaging().splitMmioSuperpages(d, first, last);
      }
    }
    host.rmap().forEach(first, last, (mfn, domainId, kind, where, slot) -> {
      if (!host.mmioRoRanges().containsSingleton(mfn)) {
        return true;
      }
      GuestDomain d = host.domainArray()[domainId];
      switch (kind) {
        case PV_L1 -> {
          if (host.pvMmu().revalidateMmioEntry(d.mmuView(), where, slot)
              && host.policy().flushes().pvRevalidate()) {
            Host.flushDomain(d);
          }
        }
        case P2M_LEAF -> host.p2mPaging().rederiveLeaf(d, mfn, where);
        case SHADOW_L1 -> host.shadowPaging().revoke(d, mfn, where, slot); // re-derive, flush
      }
      return true;
    });
    for (GuestDomain d : live) {
      if (d.crashed()) {
        continue;
      }
      if (d.mode().pvTables() && host.policy().flushes().pvRevalidate()) {
        Host.flushDomain(d);
      } else if (d.mode().shadowed()) {
        host.shadowPaging().flushAfterProtection(d);
      }
    }
  }
}
