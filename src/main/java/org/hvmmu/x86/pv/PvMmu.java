package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_DIRTY;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;
import org.hvmmu.xen.HypervisorBugException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PV memory-management unit of one emulated host: its frame table, its PV domains, the L1
 * validator wired to the host's {@code mmio_ro_ranges}, and the three operations through which a PV
 * guest changes its L1 page tables.
 *
 * <ul>
 *   <li>{@link #pinL1Table} ({@code MMUEXT_PIN_L1_TABLE}): types a frame as an L1 table, which runs
 *       Xen's {@code alloc_l1_table} over its 512 entries;
 *   <li>{@link #modL1Entry} / {@link #mmuUpdate} ({@code do_mmu_update}): replaces one entry;
 *   <li>{@link #ptwrEmulatedUpdate}: an emulated guest store of 1 to 8 bytes into one of its L1
 *       tables.
 * </ul>
 *
 * <p>Every entry that reaches a table goes through {@link L1eValidator#getPageFromL1e}: a rejected
 * entry changes nothing; an accepted one is installed with the validator's flip mask applied (R/W
 * cleared for frames in {@code mmio_ro_ranges}), then adjusted for 64-bit guests.
 *
 * <pre>{@code
 * PvMmu mmu = new PvMmu(0x10000, mmioRoRanges, CpuFeatures.ALL, PvSwitches.HARDENED);
 * Domain domU = mmu.createDomain(1, false, GuestType.PV64);
 * mmu.frameTable().assignRange(0x100, 0x1ff, 1);
 * mmu.pinL1Table(domU, 0x100);                                  // 0: an (empty) L1 table
 * mmu.modL1Entry(domU, 0x100, 0, Pte.fromMfn(0x101, PAGE_PRESENT | PAGE_RW), domU);
 * }</pre>
 *
 * <p>Thread safety: the validator and the frame counts are lock-free and may run on many vCPU
 * threads; an L1 table is locked by Xen's {@code page_lock} (the {@code PGT_locked} bit) while an
 * entry of it changes; pinning, unpinning and domain creation are serialised by one lock.
 */
public final class PvMmu {
  private static final Logger LOG = LoggerFactory.getLogger(PvMmu.class);

  private final FrameTable frames;
  private final RangeSet mmioRoRanges;
  private final L1eValidator validator;
  private final Domain[] domains = new Domain[DomainIds.DOMID_FIRST_RESERVED];
  private final Domain domIo = new Domain(DomainIds.DOMID_IO, false, GuestType.PV64);
  private final ReentrantLock configLock = new ReentrantLock();
  private final L1eListener listener;

  /**
   * Creates the PV MMU of a host with {@code frameCount} frames.
   *
   * @param frameCount frames with a frame-table entry (RAM and in-table MMIO holes), 1 to {@link
   *     FrameTable#MAX_FRAMES}
   * @param mmioRoRanges the host's read-only MMIO frames, owned by the host and shared, never copied
   * @param cpu processor features (NX decides whether bit 63 may be set)
   * @param switches the seed's or upstream's behaviour, one switch per difference
   */
  public PvMmu(long frameCount, RangeSet mmioRoRanges, CpuFeatures cpu, PvSwitches switches) {
    this(frameCount, mmioRoRanges, cpu, switches, L1eListener.NONE);
  }

  /**
   * Creates the PV MMU of a host with {@code frameCount} frames, reporting every change of the live
   * L1 entries to {@code listener}.
   *
   * @param frameCount frames with a frame-table entry (RAM and in-table MMIO holes), 1 to {@link
   *     FrameTable#MAX_FRAMES}
   * @param mmioRoRanges the host's read-only MMIO frames, owned by the host and shared, never copied
   * @param cpu processor features (NX decides whether bit 63 may be set)
   * @param switches the seed's or upstream's behaviour, one switch per difference
   * @param listener told of every live entry installed or removed
   */
  public PvMmu(
      long frameCount,
      RangeSet mmioRoRanges,
      CpuFeatures cpu,
      PvSwitches switches,
      L1eListener listener) {
    this(new FrameTable(frameCount), mmioRoRanges, cpu, switches, listener);
  }

  /**
   * Creates the PV MMU of a host over an existing frame table (whose contents are frames of the
   * host's machine memory), reporting every change of the live L1 entries to {@code listener}.
   *
   * @param frames the frame table, fresh (every frame free)
   * @param mmioRoRanges the host's read-only MMIO frames, owned by the host and shared, never copied
   * @param cpu processor features (NX decides whether bit 63 may be set)
   * @param switches the seed's or upstream's behaviour, one switch per difference
   * @param listener told of every live entry installed or removed
   */
  public PvMmu(
      FrameTable frames,
      RangeSet mmioRoRanges,
      CpuFeatures cpu,
      PvSwitches switches,
      L1eListener listener) {
    this.listener = Objects.requireNonNull(listener, "listener");
    this.frames = Objects.requireNonNull(frames, "frames");
    this.mmioRoRanges = Objects.requireNonNull(mmioRoRanges, "mmioRoRanges");
    this.validator =
        new L1eValidator(frames, this::lookupDomain, mmioRoRanges,
            Objects.requireNonNull(cpu, "cpu"), Objects.requireNonNull(switches, "switches"));
    frames.setValidation(new Validation());
  }

  /**
   * The frame table.
   *
   * @return the live table
   */
  public FrameTable frameTable() {
    return frames;
  }

  /**
   * The L1 entry validator.
   *
   * @return the validator
   */
  public L1eValidator validator() {
    return validator;
  }

  /**
   * The host's read-only MMIO frames this MMU consults.
   *
   * @return the shared set
   */
  public RangeSet mmioRoRanges() {
    return mmioRoRanges;
  }

  /**
   * The I/O pseudo-domain {@code dom_io}: as a page owner it stands for "the calling domain's
   * rights".
   *
   * @return dom_io
   */
  public Domain domIo() {
    return domIo;
  }

  /**
   * Creates a domain.
   *
   * @param id an ordinary domain id not used yet on this MMU
   * @param privileged whether it is the privileged control domain ({@code IS_PRIV})
   * @param guestType how it runs
   * @return the domain
   * @throws IllegalArgumentException if the id is reserved or taken
   */
  public Domain createDomain(int id, boolean privileged, GuestType guestType) {
    if (!DomainIds.isOrdinary(id)) {
      throw new IllegalArgumentException(
          "id: 0x" + Integer.toHexString(id) + " (expected: an ordinary domain id below 0x7ff0)");
    }
    Objects.requireNonNull(guestType, "guestType");
    configLock.lock();
    try {
      if (domains[id] != null) {
        throw new IllegalArgumentException("id: " + id + " (expected: unused, but d" + id
            + " exists)");
      }
      Domain d = new Domain(id, privileged, guestType);
      domains[id] = d;
      return d;
    } finally {
      configLock.unlock();
    }
  }

  /**
   * The domain with id {@code id}.
   *
   * @param id a domain id
   * @return the domain, or null if there is none ({@code dom_io} for {@link DomainIds#DOMID_IO})
   */
  public Domain domain(int id) {
    return lookupDomain(id);
  }

  private Domain lookupDomain(int id) {
    if (id == DomainIds.DOMID_IO) {
      return domIo;
    }
    return DomainIds.isOrdinary(id) ? domains[id] : null;
  }

  // ---- guest memory ----------------------------------------------------------------------------

  /**
   * The guest stores {@code value} at entry {@code slot} of its own frame through an ordinary
   * writable mapping, as it fills a page before pinning it as a table. A frame in use as a validated
   * page table cannot be written this way (the guest must use {@link #mmuUpdate} or the emulated
   * path).
   *
   * @param d the domain that owns the frame
   * @param mfn a valid frame of {@code d}
   * @param slot 0 to 511
   * @param value the 64-bit value
   * @throws IllegalArgumentException if the frame is not {@code d}'s
   * @throws IllegalStateException if the frame is a page table in use
   */
  public void writeGuestEntry(Domain d, long mfn, int slot, long value) {
    if (frames.owner(mfn) != d.id()) {
      throw new IllegalArgumentException("mfn 0x" + Long.toHexString(mfn) + " is owned by "
          + DomainIds.name(frames.owner(mfn)) + " (expected: " + DomainIds.name(d.id()) + ")");
    }
    long typeInfo = frames.typeInfo(mfn);
    if (PageInfo.typeCount(typeInfo) != 0 && PageInfo.type(typeInfo).needsValidation()) {
      throw new IllegalStateException("mfn 0x" + Long.toHexString(mfn) + " is in use as "
          + PageInfo.type(typeInfo) + " (expected: an ordinary page)");
    }
    frames.storeEntry(mfn, slot, value);
  }

  /**
   * Entry {@code slot} of frame {@code mfn} as stored.
   *
   * @param mfn a valid frame
   * @param slot 0 to 511
   * @return the entry
   */
  public long readEntry(long mfn, int slot) {
    return frames.readEntry(mfn, slot);
  }

  // ---- MMUEXT_PIN_L1_TABLE / MMUEXT_UNPIN_TABLE -----------------------------------------------

  /**
   * {@code MMUEXT_PIN_L1_TABLE}: {@code d} pins its frame {@code mfn} as an L1 table. The frame takes
   * a general and an L1 type reference; if its type count was 0, its 512 entries are validated first
   * ({@link #allocL1Table}).
   *
   * @param d the domain pinning
   * @param mfn the frame
   * @return 0, or {@code -EINVAL} if the frame is not {@code d}'s, is in use as another type, fails
   *     validation or is already pinned
   */
  public int pinL1Table(Domain d, long mfn) {
    configLock.lock();
    try {
      if (!frames.mfnValid(mfn) || !frames.getPage(mfn, d.id())) {
        LOG.debug("d{}: Error while pinning mfn {}: not its frame", d.id(), Long.toHexString(mfn));
        return -Errno.EINVAL;
      }
      int rc = frames.getPageType(mfn, PageType.L1_PAGE_TABLE);
      if (rc != 0) {
        frames.putPage(mfn);
        LOG.debug("d{}: Error while pinning mfn {}", d.id(), Long.toHexString(mfn));
        return -Errno.EINVAL;
      }
      if (!frames.testAndSetPinned(mfn)) {
        LOG.debug("d{}: Mfn {} already pinned", d.id(), Long.toHexString(mfn));
        frames.putPageAndType(mfn);
        return -Errno.EINVAL;
      }
      return 0;
    } finally {
      configLock.unlock();
    }
  }

  /**
   * {@code MMUEXT_UNPIN_TABLE}: drops the pin's references; the last type reference releases every
   * reference the table's entries hold.
   *
   * @param d the domain unpinning
   * @param mfn the frame
   * @return 0, or {@code -EINVAL} if the frame is not {@code d}'s or not pinned
   */
  public int unpinTable(Domain d, long mfn) {
    configLock.lock();
    try {
      if (!frames.mfnValid(mfn) || !frames.getPage(mfn, d.id())) {
        return -Errno.EINVAL;
      }
      if (!frames.testAndClearPinned(mfn)) {
        frames.putPage(mfn);
        LOG.debug("d{}: Mfn {} not pinned", d.id(), Long.toHexString(mfn));
        return -Errno.EINVAL;
      }
      frames.putPageAndType(mfn);
      frames.putPage(mfn);
      return 0;
    } finally {
      configLock.unlock();
    }
  }

  /**
   * Xen's {@code alloc_l1_table}: validates every entry of the frame, owned by its page owner, as it
   * becomes an L1 table. Each accepted entry is stored back with the validator's flip mask applied
   * (R/W cleared on read-only MMIO) and then adjusted for a 64-bit guest. On a reject, the references
   * taken for the earlier entries are dropped again and the error returned; as in Xen, those earlier
   * entries keep their in-place changes.
   *
   * @param mfn a frame whose type was just set to L1 and is not yet validated
   * @return 0 or the reject's negated errno
   */
  int allocL1Table(long mfn) {
    Domain d = lookupDomain(frames.owner(mfn));
    if (d == null) {
      return -Errno.EINVAL;
    }
    for (int i = 0; i < Pte.ENTRIES_PER_TABLE; i++) {
      long l1e = frames.readEntry(mfn, i);
      int rc = validator.getPageFromL1e(l1e, d, d);
      if (rc < 0) {
        LOG.debug("Failure in alloc_l1_table: entry {}", i);
        while (i-- > 0) {
          long undone = frames.readEntry(mfn, i);
          validator.putPageFromL1e(undone, d);
          if (Pte.isPresent(undone)) {
            listener.changed(d, mfn, i, undone, 0);
          }
        }
        return rc;
      }
      long installed = L1eValidator.adjustGuestL1e(Pte.flipFlags(l1e, rc), d);
      if (installed != l1e) {
        frames.storeEntry(mfn, i, installed);
      }
      if (Pte.isPresent(installed)) {
        listener.changed(d, mfn, i, 0, installed);
      }
    }
    return 0;
  }

  /** Xen's {@code free_l1_table}: drops what every entry of a table that stops being one holds. */
  void freeL1Table(long mfn) {
    Domain d = lookupDomain(frames.owner(mfn));
    if (d == null) {
      throw new HypervisorBugException("free_l1_table: mfn 0x" + Long.toHexString(mfn)
          + " has no owner domain");
    }
    for (int i = 0; i < Pte.ENTRIES_PER_TABLE; i++) {
      long l1e = frames.readEntry(mfn, i);
      validator.putPageFromL1e(l1e, d);
      if (Pte.isPresent(l1e)) {
        listener.changed(d, mfn, i, l1e, 0);
      }
    }
  }

  // ---- do_mmu_update / mod_l1_entry -----------------------------------------------------------

  /**
   * One {@code MMU_NORMAL_PT_UPDATE} (or {@code MMU_PT_UPDATE_PRESERVE_AD}) request of {@code
   * do_mmu_update}: {@code ptOwner} writes {@code value} into entry {@code slot} of its frame {@code
   * mfn}. If the frame is a validated L1 table, this is {@link #modL1Entry}; otherwise it is an
   * ordinary write, allowed if the frame can take the writable type.
   *
   * @param ptOwner the domain whose frame is written
   * @param mfn the frame
   * @param slot the entry, 0 to 511
   * @param value the new entry
   * @param pgOwner the owner of the frames the entry maps (usually {@code ptOwner}; {@link #domIo()}
   *     for MMIO on the caller's rights)
   * @param preserveAd keep the old entry's accessed and dirty bits
   * @return 0 or a negated errno
   */
  public int mmuUpdate(
      Domain ptOwner, long mfn, int slot, long value, Domain pgOwner, boolean preserveAd) {
    if (!frames.mfnValid(mfn) || !frames.getPage(mfn, ptOwner.id())) {
      LOG.debug("d{}: Could not get page for normal update", ptOwner.id());
      return -Errno.EINVAL;
    }
    int rc;
    try {
      if (frames.pageLock(mfn)) {
        try {
          rc = frames.pageType(mfn) == PageType.L1_PAGE_TABLE
              ? modL1EntryLocked(ptOwner, mfn, slot, value, pgOwner, preserveAd)
              : plainWrite(mfn, slot, value);
        } finally {
          frames.pageUnlock(mfn);
        }
      } else if (frames.getPageType(mfn, PageType.WRITABLE_PAGE) == 0) {
        rc = plainWrite(mfn, slot, value);
        frames.putPageType(mfn);
      } else {
        rc = -Errno.EINVAL;
      }
    } finally {
      frames.putPage(mfn);
    }
    return rc;
  }

  private int plainWrite(long mfn, int slot, long value) {
    if (frames.pageType(mfn) != PageType.WRITABLE_PAGE) {
      return -Errno.EINVAL; // a table type this model does not validate (L2 to L4, seg-desc)
    }
    frames.storeEntry(mfn, slot, value);
    return 0;
  }

  /**
   * Xen's {@code mod_l1_entry}: replaces entry {@code slot} of {@code ptDom}'s validated L1 table
   * {@code mfn} with {@code nl1e}.
   *
   * <p>A present new entry with disallowed flags is refused. If it maps the same frame as the old one
   * and the flags the fast path compares are unchanged (P and R/W in the seed; every flag but NX,
   * the software bits, G, D, A and U/S upstream), it is stored without re-validation. Otherwise it is
   * validated; a reject leaves the old entry and every count as they were; an accept is stored with
   * the flip mask applied and adjusted, and the old entry's references are dropped.
   *
   * @param ptDom the domain whose table changes
   * @param mfn the L1 table, pinned or otherwise in use as an L1 table of {@code ptDom}
   * @param slot 0 to 511
   * @param nl1e the new entry
   * @param pgDom the owner of the frame the entry maps
   * @return 0 or a negated errno
   * @throws IllegalStateException if {@code mfn} is not a validated L1 table of {@code ptDom}
   */
  public int modL1Entry(Domain ptDom, long mfn, int slot, long nl1e, Domain pgDom) {
    if (frames.owner(mfn) != ptDom.id() || frames.pageType(mfn) != PageType.L1_PAGE_TABLE
        || !frames.pageLock(mfn)) {
      throw new IllegalStateException("mfn 0x" + Long.toHexString(mfn)
          + " is not a validated L1 table of " + DomainIds.name(ptDom.id()));
    }
    try {
      return modL1EntryLocked(ptDom, mfn, slot, nl1e, pgDom, false);
    } finally {
      frames.pageUnlock(mfn);
    }
  }

  private int modL1EntryLocked(
      Domain ptDom, long mfn, int slot, long nl1e, Domain pgDom, boolean preserveAd) {
    long ol1e = frames.readEntry(mfn, slot);
    if (Pte.isPresent(nl1e)) {
      int bad = validator.disallowedFlags(Pte.getFlags(nl1e), ptDom);
      if (bad != 0) {
        LOG.debug("d{}: Bad L1 flags {}", ptDom.id(), Integer.toHexString(bad));
        return -Errno.EINVAL;
      }
      int compared = validator.switches().fastPathComparesCacheBits()
          ? ~L1eValidator.FASTPATH_FLAG_WHITELIST & PteFlags.ALL
          : PAGE_RW | PAGE_PRESENT;
      if (!Pte.hasChanged(ol1e, nl1e, compared)) {
        updateEntry(ptDom, mfn, slot, ol1e, L1eValidator.adjustGuestL1e(nl1e, ptDom), preserveAd);
        return 0;
      }
      int rc = validator.getPageFromL1e(nl1e, ptDom, pgDom);
      if (rc < 0) {
        return rc;
      }
      nl1e = L1eValidator.adjustGuestL1e(Pte.flipFlags(nl1e, rc), ptDom);
    }
    updateEntry(ptDom, mfn, slot, ol1e, nl1e, preserveAd);
    validator.putPageFromL1e(ol1e, ptDom);
    return 0;
  }

  /** Xen's {@code UPDATE_ENTRY}: the table is locked, so the store cannot race another update. */
  private void updateEntry(
      Domain owner, long mfn, int slot, long ol1e, long nl1e, boolean preserveAd) {
    if (preserveAd) {
      nl1e |= ol1e & (PAGE_ACCESSED | PAGE_DIRTY);
    }
    frames.storeEntry(mfn, slot, nl1e);
    reportChange(owner, mfn, slot, ol1e, nl1e);
  }

  private void reportChange(Domain owner, long mfn, int slot, long ol1e, long nl1e) {
    if (ol1e != nl1e && (Pte.isPresent(ol1e) || Pte.isPresent(nl1e))) {
      listener.changed(owner, mfn, slot, ol1e, nl1e);
    }
  }

  // ---- ptwr_emulated_update -------------------------------------------------------------------

  /**
   * Xen's {@code ptwr_emulated_update}: {@code d} stored {@code bytes} bytes of {@code val} at byte
   * {@code offset} of its L1 table {@code mfn}, which it maps read-only, and Xen emulates the store.
   *
   * <p>The store must be naturally aligned and 1, 2, 4 or 8 bytes; a partial store is merged into the
   * full 8-byte entry (and so is {@code old} for a compare-and-exchange). The new entry is validated:
   * accepted, it is installed with the flip mask applied and adjusted, and the old entry's references
   * are dropped. Rejected, it is {@link EmulationResult#UNHANDLEABLE} and nothing changes, except for
   * a 32-bit PAE guest's 4-byte plain store to the high half of a present entry: Xen assumes the two
   * halves come in the wrong order and installs the entry with P cleared. A compare-and-exchange that
   * finds another value drops the new entry's references again and returns {@link
   * EmulationResult#CMPXCHG_FAILED}.
   *
   * @param d the domain whose vCPU stored
   * @param mfn the frame written
   * @param offset the byte offset in the frame, 0 to 4095
   * @param old for a compare-and-exchange, the expected old value of the bytes written (low {@code
   *     bytes} bytes used)
   * @param val the value stored (low {@code bytes} bytes used)
   * @param bytes the store's width, 1 to 8
   * @param cmpxchg whether the store is a compare-and-exchange
   * @return the emulation result
   * @throws IllegalArgumentException if {@code offset} or {@code bytes} is out of range
   */
  public EmulationResult ptwrEmulatedUpdate(
      Domain d, long mfn, int offset, long old, long val, int bytes, boolean cmpxchg) {
    if (offset < 0 || offset >= 4096) {
      throw new IllegalArgumentException("offset: " + offset + " (expected: 0 to 4095)");
    }
    if (bytes < 1 || bytes > 8) {
      throw new IllegalArgumentException("bytes: " + bytes + " (expected: 1 to 8)");
    }
    if ((bytes & (bytes - 1)) != 0 || (offset & (bytes - 1)) != 0) {
      LOG.debug("ptwr_emulate: bad access (offset={}, bytes={})", offset, bytes);
      return EmulationResult.UNHANDLEABLE;
    }
    // ptwr_do_page_fault: only a write to a read-only mapping of one of the domain's L1 tables is
    // emulated; anything else is not a page-table write and the fault goes to the guest.
    if (!frames.mfnValid(mfn) || !frames.getPage(mfn, d.id())) {
      return EmulationResult.UNHANDLEABLE;
    }
    try {
      if (!frames.pageLock(mfn)) {
        return EmulationResult.UNHANDLEABLE;
      }
      try {
        if (frames.pageType(mfn) != PageType.L1_PAGE_TABLE) {
          return EmulationResult.UNHANDLEABLE;
        }
        return ptwrLocked(d, mfn, offset, old, val, bytes, cmpxchg);
      } finally {
        frames.pageUnlock(mfn);
      }
    } finally {
      frames.putPage(mfn);
    }
  }

  private EmulationResult ptwrLocked(
      Domain d, long mfn, int offset, long old, long val, int bytes, boolean cmpxchg) {
    int slot = offset >>> 3;
    if (bytes != 8) {
      int shift = (offset & 7) * 8;
      long mask = ((1L << (bytes * 8)) - 1) << shift;
      long full = frames.readEntry(mfn, slot) & ~mask;
      val = ((val << shift) & mask) | full;
      old = ((old << shift) & mask) | full;
    }
    long nl1e = val;
    int rc = validator.getPageFromL1e(nl1e, d, d);
    if (rc < 0) {
      if (d.guestType() == GuestType.PV32 && bytes == 4 && (offset & 4) != 0 && !cmpxchg
          && Pte.isPresent(nl1e)) {
        // The guest wrote the high half of a PAE entry first; install it not present until the low
        // half follows.
        LOG.debug("ptwr_emulate: fixing up invalid PAE PTE {}", Pte.toHex(nl1e));
        nl1e = Pte.removeFlags(nl1e, PAGE_PRESENT);
      } else {
        LOG.debug("ptwr_emulate: could not get_page_from_l1e()");
        return EmulationResult.UNHANDLEABLE;
      }
    } else {
      nl1e = Pte.flipFlags(nl1e, rc);
    }
    nl1e = L1eValidator.adjustGuestL1e(nl1e, d);
    long ol1e;
    if (cmpxchg) {
      ol1e = old;
      if (!frames.compareAndSetEntry(mfn, slot, old, nl1e)) {
        validator.putPageFromL1e(nl1e, d);
        return EmulationResult.CMPXCHG_FAILED;
      }
    } else {
      ol1e = frames.readEntry(mfn, slot);
      frames.storeEntry(mfn, slot, nl1e);
    }
    reportChange(d, mfn, slot, ol1e, nl1e);
    validator.putPageFromL1e(ol1e, d);
    return EmulationResult.OKAY;
  }

  // ---- revocation --------------------------------------------------------------------------------

  /**
   * Re-applies the validator to the live MMIO entry at {@code slot} of L1 table {@code mfn}, for a
   * frame that has just become read-only: if the validator would now install it read-only (or with
   * another cache type), the flip is applied in place. Upstream Xen has no such pass; a host whose
   * policy revokes existing mappings calls it for each entry its reverse map lists. RAM entries and
   * entries the validator would now refuse are left as they are.
   *
   * @param owner the table's owner
   * @param mfn a validated L1 table of {@code owner}
   * @param slot 0 to 511
   * @return true if the entry changed
   */
  public boolean revalidateMmioEntry(Domain owner, long mfn, int slot) {
    if (frames.owner(mfn) != owner.id() || !frames.pageLock(mfn)) {
      return false;
    }
    try {
      if (frames.pageType(mfn) != PageType.L1_PAGE_TABLE) {
        return false;
      }
      long l1e = frames.readEntry(mfn, slot);
      if (!Pte.isPresent(l1e) || !frames.isIomemPage(Pte.getMfn(l1e))) {
        return false;
      }
      int rc = validator.getPageFromL1e(l1e, owner, owner); // MMIO: takes no reference
      if (rc <= 0) {
        return false;
      }
      long revoked = Pte.flipFlags(l1e, rc);
      frames.storeEntry(mfn, slot, revoked);
      reportChange(owner, mfn, slot, l1e, revoked);
      return true;
    } finally {
      frames.pageUnlock(mfn);
    }
  }

  // ---- invariants ------------------------------------------------------------------------------

  /**
   * Recounts every reference from scratch and reports each frame whose counts differ: a frame's
   * general count must be its allocation reference, plus one per pin, plus one per present entry of
   * a validated L1 table that maps it (MMIO entries hold none); its type count must be the number of
   * pins (for a table) or of writable entries mapping it (for a writable page).
   *
   * @return one line per mismatch; empty when every count balances
   */
  public List<String> countViolations() {
    return countViolations(ReferenceHolders.NONE);
  }

  /**
   * As {@link #countViolations()}, counting also the references that {@code holders}' entries hold
   * (shadow L1 entries, say), which were taken through the same validator.
   *
   * @param holders entries outside PV L1 tables
   * @return one line per mismatch; empty when every count balances
   */
  public List<String> countViolations(ReferenceHolders holders) {
    List<String> violations = new ArrayList<>();
    forEachCountMismatch(holders, (mfn, message) -> violations.add(message));
    return violations;
  }

  /** Receives one frame whose counts do not balance. */
  @FunctionalInterface
  public interface CountMismatchVisitor {
    /**
     * One mismatch.
     *
     * @param mfn the frame
     * @param message what differs, starting with {@code "mfn 0x<hex>: "}
     */
    void mismatch(long mfn, String message);
  }

  /**
   * The walk behind {@link #countViolations(ReferenceHolders)}: each frame whose counts differ from
   * what its allocation, pins and mappings hold, with its frame number.
   *
   * @param holders entries outside PV L1 tables
   * @param visitor receives each mismatch
   */
  public void forEachCountMismatch(ReferenceHolders holders, CountMismatchVisitor visitor) {
    int n = (int) frames.frameCount();
    long[] general = new long[n];
    long[] writable = new long[n];
    for (int mfn = 0; mfn < n; mfn++) {
      if ((frames.countInfo(mfn) & PageInfo.PGC_ALLOCATED) != 0) {
        general[mfn]++;
      }
      if ((frames.typeInfo(mfn) & PageInfo.PGT_PINNED) != 0) {
        general[mfn]++;
      }
      if (!frames.isLiveL1Table(mfn)) {
        continue;
      }
      int tableOwner = frames.owner(mfn);
      for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
        countMapping(tableOwner, frames.readEntry(mfn, slot), general, writable);
      }
    }
    holders.forEachEntry((owner, l1e) -> countMapping(owner.id(), l1e, general, writable));
    for (int mfn = 0; mfn < n; mfn++) {
      long typeInfo = frames.typeInfo(mfn);
      long typeCount = PageInfo.typeCount(typeInfo);
      long expectedType = (typeInfo & PageInfo.PGT_PINNED) != 0 ? 1 : writable[mfn];
      String where = "mfn 0x" + Long.toHexString(mfn) + ": ";
      if (frames.generalCount(mfn) != general[mfn]) {
        visitor.mismatch(mfn, where + "general count " + frames.generalCount(mfn) + ", expected "
            + general[mfn]);
      }
      if (typeCount != expectedType) {
        visitor.mismatch(mfn, where + PageInfo.type(typeInfo) + " count " + typeCount
            + ", expected " + expectedType);
      }
      if (writable[mfn] != 0 && PageInfo.type(typeInfo) != PageType.WRITABLE_PAGE) {
        visitor.mismatch(mfn, where + "mapped writable " + writable[mfn] + " times but typed "
            + PageInfo.type(typeInfo));
      }
    }
  }

  /** Adds the references an installed entry of {@code tableOwner} holds (put_page_from_l1e's view). */
  private void countMapping(int tableOwner, long l1e, long[] general, long[] writable) {
    long target = Pte.getMfn(l1e);
    if (!Pte.isPresent(l1e) || frames.isIomemPage(target)) {
      return;
    }
    general[(int) target]++;
    Domain targetOwner = lookupDomain(frames.owner(target));
    boolean external = targetOwner != null && targetOwner.guestType() == GuestType.HVM;
    if ((l1e & PAGE_RW) != 0 && (frames.owner(target) == tableOwner || !external)) {
      writable[(int) target]++;
    }
  }

  /** The frame table's hooks into this MMU: L1 tables are validated here. */
  private final class Validation implements PageTableValidation {
    @Override
    public int allocPageType(long mfn, PageType type) {
      return switch (type) {
        case L1_PAGE_TABLE -> allocL1Table(mfn);
        // The model keeps no contents for higher levels: they are typed without validation.
        case L2_PAGE_TABLE, L3_PAGE_TABLE, L4_PAGE_TABLE, SEG_DESC_PAGE -> 0;
        case NONE, SHARED_PAGE, WRITABLE_PAGE ->
            throw new HypervisorBugException("alloc_page_type: bad type " + type);
      };
    }

    @Override
    public void freePageType(long mfn, PageType type) {
      if (type == PageType.L1_PAGE_TABLE) {
        freeL1Table(mfn);
      }
    }
  }
}
