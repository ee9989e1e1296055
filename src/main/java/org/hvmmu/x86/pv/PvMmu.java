package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_DIRTY;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.hvmmu.mmu.memory.RegionKind;
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
 * The PV memory-management unit of one emulated host: its frame table, its PV domains and their
 * vCPUs, the L1 validator wired to the host's {@code mmio_ro_ranges}, the validation of L2 to L4
 * tables, and the hypercalls through which a PV guest changes its page tables: 4-level tables of a
 * 64-bit guest, PAE tables (L3, L2, L1) of a 32-bit guest on 64-bit Xen ({@link GuestType#PV32},
 * "compat"), whose vCPUs run on an L4 of Xen's ({@link #createVcpu(Domain, int, long)}).
 * Xen 4.22: {@code xen/arch/x86/mm.c}; {@code ptwr_emulated_update} in {@code
 * xen/arch/x86/pv/ro-page-fault.c}, {@code map_guest_l1e} in {@code xen/arch/x86/pv/mm.c}.
 *
 * <ul>
 *   <li>{@link #pinTable} ({@code MMUEXT_PIN_L1_TABLE} to {@code MMUEXT_PIN_L4_TABLE}) and {@link
 *       #pinL1Table}: type a frame as a table, which runs Xen's {@code alloc_lN_table} over its
 *       entries and, for L2 to L4, validates the tables below; {@link #unpinTable} releases them;
 *   <li>{@link #modL1Entry} to {@link #modL4Entry} / {@link #mmuUpdate} ({@code do_mmu_update}):
 *       replace one entry;
 *   <li>{@link #ptwrEmulatedUpdate}: an emulated guest store of 1 to 8 bytes into one of its L1
 *       tables;
 *   <li>{@link #newGuestCr3} ({@code MMUEXT_NEW_BASEPTR}): a vCPU switches to another L4 table
 *       (a compat vCPU: to another L3, through slot 0 of its compat L4);
 *   <li>{@link #updateVaMapping} and the {@code MMUEXT} TLB operations ({@link #tlbFlushLocal},
 *       {@link #invlpgMulti}, ...; {@link #doMmuextOp} by number): TLB maintenance, requested from
 *       the host through {@link PvTlbFlush}.
 * </ul>
 *
 * <p>Every L1 entry that reaches a table goes through {@link L1eValidator#getPageFromL1e}: a
 * rejected entry changes nothing; an accepted one is installed with the validator's flip mask
 * applied (R/W cleared for frames in {@code mmio_ro_ranges}), then adjusted for 64-bit guests. L2 to
 * L4 entries may only name the domain's own tables of the level below (or, read-only, of their own
 * level: {@link PvSwitches#linearPageTables()}), hold a general and a type reference on them, and
 * release them recursively when the last type reference of a table goes.
 *
 * <p>Xen flushes TLBs itself in four places, each a call to {@link PvTlbFlush} for every vCPU of the
 * domain ({@code d->dirty_cpumask}): after {@link #revalidateMmioEntry} changes an entry; after a
 * released tree of tables is gone (Xen stamps each freed table and flushes before reuse; the model
 * flushes at once); when a frame typed writable (or as a descriptor page) changes type, so that no
 * stale writable translation of a new table survives; and, with {@link
 * PvSwitches#flushAfterHigherLevelUpdate()}, after an L2 to L4 {@link #mmuUpdate}. {@code
 * mod_l1_entry} never flushes: the guest must, with {@code UVMF_*} or {@code MMUEXT_*}.
 *
 * <pre>{@code
 * PvMmu mmu = new PvMmu(0x10000, mmioRoRanges, CpuFeatures.ALL, PvSwitches.HARDENED);
 * mmu.setTlbFlush(hostFlush);
 * Domain domU = mmu.createDomain(1, false, GuestType.PV64);
 * PvVcpu v0 = mmu.createVcpu(domU, 0);
 * mmu.frameTable().assignRange(0x100, 0x1ff, 1);
 * // 0x100: L4 -> 0x101: L3 -> 0x102: L2 -> 0x103: L1 -> 0x104, at linear address 0
 * mmu.writeGuestEntry(domU, 0x100, 0, Pte.fromMfn(0x101, PAGE_PRESENT | PAGE_RW));
 * mmu.writeGuestEntry(domU, 0x101, 0, Pte.fromMfn(0x102, PAGE_PRESENT | PAGE_RW));
 * mmu.writeGuestEntry(domU, 0x102, 0, Pte.fromMfn(0x103, PAGE_PRESENT | PAGE_RW));
 * mmu.pinTable(domU, 0x100, PageType.L4_PAGE_TABLE);           // validates all four levels
 * long cr3 = mmu.newGuestCr3(v0, 0x100);                       // 0x100000
 * mmu.updateVaMapping(v0, 0, Pte.fromMfn(0x104, PAGE_PRESENT | PAGE_RW), UVMF_INVLPG | UVMF_LOCAL);
 * }</pre>
 *
 * <p>Thread safety: the validator and the frame counts are lock-free and may run on many vCPU
 * threads; a table is locked by Xen's {@code page_lock} (the {@code PGT_locked} bit) while an entry
 * of it changes; pinning, unpinning, domain and vCPU creation are serialised by one lock. One vCPU's
 * operations run on its own thread.
 */
public final class PvMmu {
  private static final Logger LOG = LoggerFactory.getLogger(PvMmu.class);

  private final FrameTable frames;
  private final RangeSet mmioRoRanges;
  private final L1eValidator validator;
  /** The bits of a compat hypercall's {@code unsigned int} argument. */
  private static final long COMPAT_ARG_MASK = 0xFFFF_FFFFL;

  private final Domain[] domains = new Domain[DomainIds.DOMID_FIRST_RESERVED];
  private final Domain domIo = new Domain(DomainIds.DOMID_IO, false, GuestType.PV64);
  private final ReentrantLock configLock = new ReentrantLock();
  private final L1eListener listener;
  private final HigherLevelTables tables;
  private volatile PvTlbFlush tlbFlush = PvTlbFlush.NONE;

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
    this.tables = new HigherLevelTables(frames, cpu, switches);
    frames.setValidation(new Validation());
  }

  /**
   * Sets the interface through which this MMU asks the host to flush vCPU TLBs: the guest's own
   * flush requests, and Xen's flushes after it changes what a guest's tables map. The default,
   * {@link PvTlbFlush#NONE}, flushes nothing.
   *
   * @param flush the host's implementation
   */
  public void setTlbFlush(PvTlbFlush flush) {
    this.tlbFlush = Objects.requireNonNull(flush, "flush");
  }

  /**
   * The flush interface in use.
   *
   * @return the interface set last, or {@link PvTlbFlush#NONE}
   */
  public PvTlbFlush tlbFlush() {
    return tlbFlush;
  }

  /**
   * The switches this MMU applies.
   *
   * @return the switches
   */
  public PvSwitches switches() {
    return validator.switches();
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
   * Creates vCPU {@code vcpuId} of PV domain {@code d} (Xen's {@code vcpu_create} as far as the PV
   * MMU cares): no page-table base until {@link #newGuestCr3}. A 32-on-64 vCPU made this way has no
   * compat L4: its TLB operations work, but {@link #newGuestCr3} refuses it; make it with {@link
   * #createVcpu(Domain, int, long)} to give it page tables.
   *
   * @param d a PV domain of this MMU (64-bit or 32-on-64)
   * @param vcpuId 0 to {@link PvVcpu#MAX_VCPUS} - 1, not used yet in {@code d}
   * @return the vCPU, also {@code d.vcpu(vcpuId)}
   * @throws IllegalArgumentException if the id is out of range or taken, or {@code d} is not PV
   */
  public PvVcpu createVcpu(Domain d, int vcpuId) {
    Domain.checkVcpuId(vcpuId);
    if (d.guestType() == GuestType.HVM || d.isDomIo() || lookupDomain(d.id()) != d) {
      throw new IllegalArgumentException(d + " (expected: a PV domain of this MMU)");
    }
    configLock.lock();
    try {
      PvVcpu v = new PvVcpu(d, vcpuId);
      d.addVcpu(v);
      return v;
    } finally {
      configLock.unlock();
    }
  }

  /**
   * Creates vCPU {@code vcpuId} of 32-on-64 domain {@code d} with the L4 table Xen gives every such
   * vCPU ({@code pv_vcpu_initialise} -> {@code setup_compat_l4}). Xen takes that frame from its own
   * heap; the model has no heap of its own, so the caller hands over a free frame of the frame
   * table ({@code compatL4Frame}, RAM), which from now on is Xen's: owned by {@link
   * org.hvmmu.xen.DomainIds#DOMID_XEN}, no general reference (no one can map or pin it), typed as a
   * validated L4 whose one type reference the vCPU holds, zeroed, then filled by {@code
   * init_xen_l4_slots} (slot 258 maps the L4 itself, supervisor-only). Slot 0 is the guest's:
   * {@link #newGuestCr3} points it at the guest's L3. The frame stays Xen's as long as the vCPU
   * exists (the model destroys no vCPU).
   *
   * <pre>{@code
   * Domain pae = mmu.createDomain(4, false, GuestType.PV32);
   * PvVcpu v0 = mmu.createVcpu(pae, 0, 0x9f0);   // frame 0x9f0: free RAM, becomes Xen's L4
   * v0.cr3();                                    // 0x9f0000, loaded in long mode
   * }</pre>
   *
   * @param d a 32-on-64 domain of this MMU
   * @param vcpuId 0 to {@link PvVcpu#MAX_VCPUS} - 1, not used yet in {@code d}
   * @param compatL4Frame a free frame of the frame table whose memory is RAM
   * @return the vCPU, also {@code d.vcpu(vcpuId)}
   * @throws IllegalArgumentException if the id is out of range or taken, {@code d} is not a
   *     32-on-64 domain of this MMU, or the frame is not a valid RAM frame
   * @throws IllegalStateException if the frame is not free
   */
  public PvVcpu createVcpu(Domain d, int vcpuId, long compatL4Frame) {
    Domain.checkVcpuId(vcpuId);
    if (d.guestType() != GuestType.PV32 || d.isDomIo() || lookupDomain(d.id()) != d) {
      throw new IllegalArgumentException(d + " (expected: a 32-on-64 domain of this MMU)");
    }
    if (!frames.mfnValid(compatL4Frame)
        || frames.memory().kind(compatL4Frame) != RegionKind.RAM) {
      throw new IllegalArgumentException("compatL4Frame: 0x" + Long.toHexString(compatL4Frame)
          + " (expected: a RAM frame of the frame table)");
    }
    configLock.lock();
    try {
      if (d.vcpu(vcpuId) != null) {
        throw new IllegalArgumentException("vcpu id: " + vcpuId + " (expected: unused, but " + d
            + " has it)");
      }
      frames.setUpCompatL4(compatL4Frame);
      tables.initXenL4Slots(compatL4Frame, d);
      PvVcpu v = new PvVcpu(d, vcpuId, compatL4Frame);
      d.addVcpu(v);
      return v;
    } finally {
      configLock.unlock();
    }
  }

  /**
   * The table the guest installed as its base with {@code MMUEXT_NEW_BASEPTR}: a 64-bit vCPU's L4
   * ({@link PvVcpu#baseptr()}), a 32-on-64 vCPU's L3 (the frame slot 0 of its compat L4 names).
   *
   * @param v a vCPU of this MMU
   * @return the frame, or {@link PvVcpu#NO_BASEPTR} if there is none
   */
  public long guestBaseptr(PvVcpu v) {
    requireVcpuOf(v);
    if (!v.hasCompatL4()) {
      return v.baseptr();
    }
    long l4e = frames.readEntry(v.compatL4(), 0);
    return Pte.isPresent(l4e) ? Pte.getMfn(l4e) : PvVcpu.NO_BASEPTR;
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

  // ---- MMUEXT_PIN_Ln_TABLE / MMUEXT_UNPIN_TABLE -----------------------------------------------

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
   * {@code MMUEXT_PIN_L1_TABLE} to {@code MMUEXT_PIN_L4_TABLE} as today's Xen handles them: {@code d}
   * pins its frame {@code mfn} as a table of {@code level}. The frame takes a general and a type
   * reference of that level; if its type count was 0 it is validated first, which for L2 to L4
   * validates (and takes references on) every table below it that is not validated yet.
   *
   * <p>Unlike {@link #pinL1Table}, which keeps its original contract (every failure {@code -EINVAL}),
   * a validation failure returns the validation's errno, as Xen does since 2011. A 32-on-64 domain
   * pins PAE tables: an L3 validates its four entries and the {@code PGT_pae_xen_l2} L2 in slot 3
   * (see {@link #modL3Entry}); an L2 pinned on its own is an ordinary L2 (all 512 slots the
   * guest's), which an L3's slot 3 cannot take while it is in use so. Pinning an L4 table of a
   * 32-on-64 domain does nothing and succeeds, as in Xen; a domain that is not PV is refused, as
   * {@code do_mmuext_op} refuses a non-PV page owner.
   *
   * <pre>{@code
   * mmu.pinTable(domU, 0x140, PageType.L4_PAGE_TABLE);   // validates 0x140 and the tree below it
   * }</pre>
   *
   * @param d the domain pinning (Xen's page owner, {@code DOMID_SELF})
   * @param mfn the frame
   * @param level L1 to L4
   * @return 0; {@code -EINVAL} if the frame is not {@code d}'s, is in use as another type, is
   *     already pinned, or {@code d} is not PV; or the validation's negated errno
   * @throws IllegalArgumentException if {@code level} is not a page-table type
   */
  public int pinTable(Domain d, long mfn, PageType level) {
    if (!level.isPageTable()) {
      throw new IllegalArgumentException("level: " + level + " (expected: L1 to L4)");
    }
    if (d.guestType() == GuestType.HVM || d.isDomIo()) {
      return -Errno.EINVAL;
    }
    if (d.guestType() == GuestType.PV32 && level == PageType.L4_PAGE_TABLE) {
      return 0; // Xen ignores MMUEXT_PIN_L4_TABLE for 32-on-64 guests
    }
    configLock.lock();
    try {
      if (!frames.mfnValid(mfn) || !frames.getPage(mfn, d.id())) {
        LOG.debug("d{}: Error while pinning mfn {}: not its frame", d.id(), Long.toHexString(mfn));
        return -Errno.EINVAL;
      }
      int rc = frames.getPageType(mfn, level);
      if (rc != 0) {
        frames.putPage(mfn);
        if (LOG.isDebugEnabled()) {
          LOG.debug("d{}: Error {} while pinning mfn {}", d.id(), rc, Long.toHexString(mfn));
        }
        return rc;
      }
      if (!frames.testAndSetPinned(mfn)) {
        LOG.debug("d{}: mfn {} already pinned", d.id(), Long.toHexString(mfn));
        frames.putPageAndType(mfn);
        return -Errno.EINVAL;
      }
      return 0;
    } finally {
      configLock.unlock();
    }
  }

  /**
   * {@code MMUEXT_UNPIN_TABLE}, at any level: drops the pin's references; the last type reference of
   * a table releases every reference its entries hold, and for L2 to L4 frees in turn each table
   * below whose last type reference that was (Xen's {@code put_page_and_type_preemptible}, run to
   * completion).
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
   * Xen 4.22: {@code promote_l1_table} in {@code xen/arch/x86/mm.c}.
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
   * mfn}. If the frame is a validated L1 table, this is {@link #modL1Entry}; an L2, L3 or L4 table,
   * {@link #modL2Entry}, {@link #modL3Entry} or {@link #modL4Entry} (whose page owner must be {@code
   * ptOwner}, else {@code -EINVAL}); otherwise it is an ordinary write, allowed if the frame can take
   * the writable type.
   *
   * <p>After a successful L2 to L4 update, with {@link PvSwitches#flushAfterHigherLevelUpdate()}
   * (XSA-286) the TLBs of every vCPU of {@code ptOwner} are flushed; L1 updates are never flushed by
   * Xen (the guest must flush).
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
    int level = 0;
    try {
      if (frames.pageLock(mfn)) {
        long old = 0;
        try {
          PageType type = frames.pageType(mfn);
          switch (type) {
            case L1_PAGE_TABLE ->
                rc = modL1EntryLocked(ptOwner, mfn, slot, value, pgOwner, preserveAd);
            case L2_PAGE_TABLE, L3_PAGE_TABLE, L4_PAGE_TABLE -> {
              if (pgOwner != ptOwner) {
                rc = -Errno.EINVAL;
              } else {
                level = type.level();
                old = frames.readEntry(mfn, slot);
                rc = modPdeLocked(level, ptOwner, mfn, slot, value, preserveAd);
              }
            }
            case WRITABLE_PAGE -> rc = plainWrite(mfn, slot, value);
            default -> rc = -Errno.EINVAL; // seg-desc and shared pages take no updates
          }
        } finally {
          frames.pageUnlock(mfn);
        }
        if (rc == HigherLevelTables.PUT_OLD) {
          // Xen defers this put (PTF_defer) until the table is unlocked.
          tables.putOld(level, old, mfn);
          rc = 0;
        }
        if (rc == 0 && level >= 2 && validator.switches().flushAfterHigherLevelUpdate()) {
          flushTlbMask(ptOwner, ptOwner.vcpuMask());
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

  private int modPdeLocked(
      int level, Domain d, long mfn, int slot, long value, boolean preserveAd) {
    return switch (level) {
      case 2 -> tables.modL2Entry(d, mfn, slot, value, preserveAd);
      case 3 -> tables.modL3Entry(d, mfn, slot, value, preserveAd);
      case 4 -> tables.modL4Entry(d, mfn, slot, value, preserveAd);
      default -> throw new AssertionError(level);
    };
  }

  private int plainWrite(long mfn, int slot, long value) {
    if (frames.pageType(mfn) != PageType.WRITABLE_PAGE) {
      return -Errno.EINVAL;
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

  /**
   * Xen's {@code mod_l2_entry}: replaces entry {@code slot} of {@code d}'s validated L2 table {@code
   * mfn} with {@code nl2e}. A present entry with a disallowed flag (PWT, PCD, PSE or G) is refused; one
   * that maps the same frame with the flags the fast path compares unchanged (P in the seed; every
   * flag but NX, the software bits, G, D, A and U/S upstream) is stored as is; otherwise it must name
   * an L1 table of {@code d} (validated now if needed) or be an acceptable linear entry ({@link
   * PvSwitches#linearPageTables()}). Accepted entries are stored with U/S added; then the old entry's
   * references are dropped, which frees the L1 table it named if that was its last type reference.
   * A reject changes nothing. Xen's {@code mod_l2_entry} does not flush; {@link #mmuUpdate} may. In
   * the {@code PGT_pae_xen_l2} L2 of a 32-on-64 guest, slots 428 to 511 are Xen's and refused with
   * {@code -EPERM}; a 32-on-64 guest's L2 entries are stored as given (no U/S added).
   *
   * @param d the domain whose table changes (also the page owner)
   * @param mfn the L2 table, in use as an L2 table of {@code d}
   * @param slot 0 to 511
   * @param nl2e the new entry
   * @return 0 or a negated errno ({@code -EINVAL} for bad flags, a foreign or mistyped frame, a
   *     refused linear entry; {@code -EPERM} for Xen's slot of a PAE L2; or the L1 validation's
   *     error)
   * @throws IllegalStateException if {@code mfn} is not a validated L2 table of {@code d}
   */
  public int modL2Entry(Domain d, long mfn, int slot, long nl2e) {
    return modPde(PageType.L2_PAGE_TABLE, d, mfn, slot, nl2e);
  }

  /**
   * Xen's {@code mod_l3_entry}: as {@link #modL2Entry} for {@code d}'s validated L3 table {@code
   * mfn}, whose entries name L2 tables (or L3 tables, linearly).
   *
   * <p>For a 32-on-64 guest only slots 0 to 2 may change (slot 3, whose L2 holds Xen's mappings,
   * and the slots that do not translate are refused with {@code -EINVAL}); a present entry must
   * keep clear of {@code COMPAT_L3_DISALLOW_MASK} (PWT, PCD, PSE, G and bits 63:52: no 1 GiB pages,
   * no NX, no software bits), may not be linear (unless {@link
   * PvSwitches#compatL3LinearPageTables()}, XSA-185), and is stored with U/S and R/W added. Under
   * {@link PvSwitches#compatL3UpdateRechecksSlot3()} a validated change then re-checks slot 3 as
   * the seed did, throwing {@link HypervisorBugException} (Xen's {@code BUG()}) if its L2 is
   * shared.
   *
   * @param d the domain whose table changes (also the page owner)
   * @param mfn the L3 table
   * @param slot 0 to 511
   * @param nl3e the new entry
   * @return 0 or a negated errno
   * @throws IllegalStateException if {@code mfn} is not a validated L3 table of {@code d}
   */
  public int modL3Entry(Domain d, long mfn, int slot, long nl3e) {
    return modPde(PageType.L3_PAGE_TABLE, d, mfn, slot, nl3e);
  }

  /**
   * Xen's {@code mod_l4_entry}: as {@link #modL2Entry} for {@code d}'s validated L4 table {@code
   * mfn}, whose entries name L3 tables (or L4 tables, linearly); Xen's slots 256 to 271 are refused
   * with {@code -EINVAL} ({@code is_guest_l4_slot}). Accepted entries get A and U/S.
   *
   * @param d the domain whose table changes (also the page owner)
   * @param mfn the L4 table
   * @param slot 0 to 511
   * @param nl4e the new entry
   * @return 0 or a negated errno
   * @throws IllegalStateException if {@code mfn} is not a validated L4 table of {@code d}
   */
  public int modL4Entry(Domain d, long mfn, int slot, long nl4e) {
    return modPde(PageType.L4_PAGE_TABLE, d, mfn, slot, nl4e);
  }

  private int modPde(PageType type, Domain d, long mfn, int slot, long value) {
    if (slot < 0 || slot >= Pte.ENTRIES_PER_TABLE) {
      throw new IllegalArgumentException("slot: " + slot + " (expected: 0 to 511)");
    }
    if (frames.owner(mfn) != d.id() || frames.pageType(mfn) != type || !frames.pageLock(mfn)) {
      throw new IllegalStateException("mfn 0x" + Long.toHexString(mfn)
          + " is not a validated " + type + " of " + DomainIds.name(d.id()));
    }
    int rc;
    long old;
    try {
      if (frames.pageType(mfn) != type) {
        throw new IllegalStateException("mfn 0x" + Long.toHexString(mfn) + " stopped being "
            + type);
      }
      old = frames.readEntry(mfn, slot);
      rc = modPdeLocked(type.level(), d, mfn, slot, value, false);
    } finally {
      frames.pageUnlock(mfn);
    }
    if (rc == HigherLevelTables.PUT_OLD) {
      tables.putOld(type.level(), old, mfn);
      rc = 0;
    }
    return rc;
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
   * Xen 4.22: {@code xen/arch/x86/pv/ro-page-fault.c}.
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

  // ---- MMUEXT_NEW_BASEPTR ------------------------------------------------------------------------

  /**
   * Xen's {@code new_guest_cr3} ({@code MMUEXT_NEW_BASEPTR}): frame {@code mfn} of the vCPU's
   * domain becomes its page-table base.
   *
   * <p>A 32-on-64 vCPU (made with {@link #createVcpu(Domain, int, long)}) keeps running on its
   * compat L4; {@code mfn} is its new PAE L3, written to slot 0 of that L4 by {@code mod_l4_entry}
   * with P, R/W, U/S and A: the L3 takes a general and an L3 type reference (validated now if
   * needed), or the entry is refused with nothing changed; then CR3 is reloaded (a local flush) and
   * the old L3's references are dropped. The CR3 returned is the compat L4's, as before.
   *
   * <p>For a 64-bit vCPU the frame takes a general and an L4 type reference (validating it, and
   * the tree below, if it is not a validated L4 yet), the vCPU loads it (a local flush, global
   * translations included: Xen's CR3 switch toggles CR4.PGE), then the old base's references are
   * dropped, which frees the old tree if nothing else holds it. Installing the base already
   * installed only reloads CR3.
   *
   * <pre>{@code
   * long cr3 = mmu.newGuestCr3(vcpu0, 0x140);
   * if (cr3 >= 0) { hardwareVcpu.writeCr3(cr3); }
   * }</pre>
   *
   * @param v the calling vCPU
   * @param mfn the new L4 table
   * @return the vCPU's new CR3 ({@code mfn << 12} for a 64-bit vCPU, the compat L4's address for
   *     a 32-on-64 one; non-negative), or a negated errno with nothing changed: {@code -EINVAL} if
   *     the frame is not the domain's or is in use as another type, or the L4 (L3) validation's
   *     error
   * @throws IllegalStateException for a 32-on-64 vCPU made without a compat L4
   */
  public long newGuestCr3(PvVcpu v, long mfn) {
    Domain d = v.domain();
    requireVcpuOf(v);
    if (d.guestType() == GuestType.PV32) {
      return newCompatGuestCr3(v, mfn);
    }
    long old = v.baseptr();
    if (old == mfn) {
      flushTlbMask(d, v.mask()); // write_ptbase
      return v.cr3();
    }
    int rc = tables.getPageAndTypeFromMfn(mfn, PageType.L4_PAGE_TABLE, d);
    if (rc != 0) {
      if (LOG.isDebugEnabled()) {
        LOG.debug("d{}: Error while installing new baseptr {}", d.id(), Long.toHexString(mfn));
      }
      return rc;
    }
    v.setBaseptr(mfn);
    flushTlbMask(d, v.mask()); // write_ptbase
    if (old != PvVcpu.NO_BASEPTR) {
      frames.putPageAndType(old);
    }
    return v.cr3();
  }

  /**
   * The compat half of {@code new_guest_cr3}: {@code mod_l4_entry} of slot 0, then the CR3 load.
   */
  private long newCompatGuestCr3(PvVcpu v, long mfn) {
    Domain d = v.domain();
    long l4 = v.compatL4();
    if (l4 == PvVcpu.NO_BASEPTR) {
      throw new IllegalStateException(v + " has no compat L4 (expected: a vCPU made with"
          + " createVcpu(d, id, compatL4Frame))");
    }
    int rc;
    long old = frames.readEntry(l4, 0);
    if (!frames.mfnValid(mfn)) {
      rc = -Errno.EINVAL; // get_page_from_l4e: no such frame; R/W rules out a linear entry
    } else {
      rc = tables.modL4Entry(d, l4, 0,
          Pte.fromMfn(mfn, PAGE_PRESENT | PAGE_RW | PAGE_USER | PAGE_ACCESSED), false);
    }
    if (rc < 0) {
      if (LOG.isDebugEnabled()) {
        LOG.debug("d{}: Error while installing new compat baseptr {}", d.id(),
            Long.toHexString(mfn));
      }
      return rc;
    }
    flushTlbMask(d, v.mask()); // write_ptbase
    if (rc == HigherLevelTables.PUT_OLD) {
      // mod_l4_entry defers this put (PTF_defer) until after the hypercall.
      tables.putOld(4, old, l4);
    }
    return v.cr3();
  }

  /**
   * Xen's {@code vcpu_destroy_pagetables}: the vCPU drops its page-table base (as when it is torn
   * down or the domain dies); the old tree is freed if nothing else holds it. CR3 becomes 0. A
   * 32-on-64 vCPU keeps its compat L4 (Xen frees it with the vCPU): slot 0 is cleared and the L3 it
   * named is released.
   *
   * @param v the vCPU
   */
  public void vcpuDestroyPagetables(PvVcpu v) {
    requireVcpuOf(v);
    if (v.hasCompatL4()) {
      long l4e = frames.readEntry(v.compatL4(), 0);
      frames.storeEntry(v.compatL4(), 0, 0);
      if (Pte.isPresent(l4e)) {
        frames.putPageAndType(Pte.getMfn(l4e));
      }
      return;
    }
    long old = v.baseptr();
    v.setBaseptr(PvVcpu.NO_BASEPTR);
    if (old != PvVcpu.NO_BASEPTR) {
      frames.putPageAndType(old);
    }
  }

  // ---- TLB maintenance: MMUEXT_TLB_FLUSH_*, MMUEXT_INVLPG_*, MMUEXT_FLUSH_CACHE ----------------

  /**
   * {@code MMUEXT_TLB_FLUSH_LOCAL}: Xen's {@code flush_tlb_local} on the calling vCPU.
   *
   * @param curr the calling vCPU
   * @return 0
   */
  public int tlbFlushLocal(PvVcpu curr) {
    requireVcpuOf(curr);
    flushTlbMask(curr.domain(), curr.mask());
    return 0;
  }

  /**
   * {@code MMUEXT_INVLPG_LOCAL}: Xen's {@code paging_invlpg} on the calling vCPU, which ignores a
   * non-canonical address.
   *
   * @param curr the calling vCPU
   * @param linearAddress the address
   * @return 0
   */
  public int invlpgLocal(PvVcpu curr, long linearAddress) {
    requireVcpuOf(curr);
    if (PvMmuAbi.isCanonical(linearAddress)) {
      flushTlbOneMask(curr.domain(), curr.mask(), linearAddress);
    }
    return 0;
  }

  /**
   * {@code MMUEXT_TLB_FLUSH_MULTI}: {@code flush_tlb_mask} over the guest's vCPU bitmap, of which
   * ids the domain does not have are ignored ({@code vcpumask_to_pcpumask}).
   *
   * @param curr the calling vCPU
   * @param vcpuMask the bitmap's first word: bit {@code i} for vCPU {@code i}
   * @return 0
   */
  public int tlbFlushMulti(PvVcpu curr, long vcpuMask) {
    requireVcpuOf(curr);
    flushTlbMask(curr.domain(), vcpumaskToPcpumask(curr.domain(), vcpuMask));
    return 0;
  }

  /**
   * {@code MMUEXT_INVLPG_MULTI}: {@code flush_tlb_one_mask} over the guest's vCPU bitmap, skipped
   * for an address a guest may not name ({@code __addr_ok}).
   *
   * @param curr the calling vCPU
   * @param linearAddress the address
   * @param vcpuMask the bitmap's first word
   * @return 0
   */
  public int invlpgMulti(PvVcpu curr, long linearAddress, long vcpuMask) {
    requireVcpuOf(curr);
    if (PvMmuAbi.addrOk(linearAddress)) {
      flushTlbOneMask(curr.domain(), vcpumaskToPcpumask(curr.domain(), vcpuMask), linearAddress);
    }
    return 0;
  }

  /**
   * {@code MMUEXT_TLB_FLUSH_ALL}: {@code flush_tlb_mask(d->dirty_cpumask)}, every vCPU of the
   * domain.
   *
   * @param curr the calling vCPU
   * @return 0
   */
  public int tlbFlushAll(PvVcpu curr) {
    requireVcpuOf(curr);
    flushTlbMask(curr.domain(), curr.domain().vcpuMask());
    return 0;
  }

  /**
   * {@code MMUEXT_INVLPG_ALL}: {@code flush_tlb_one_mask(d->dirty_cpumask, va)}, skipped for an
   * address a guest may not name ({@code __addr_ok}).
   *
   * @param curr the calling vCPU
   * @param linearAddress the address
   * @return 0
   */
  public int invlpgAll(PvVcpu curr, long linearAddress) {
    requireVcpuOf(curr);
    if (PvMmuAbi.addrOk(linearAddress)) {
      flushTlbOneMask(curr.domain(), curr.domain().vcpuMask(), linearAddress);
    }
    return 0;
  }

  /**
   * {@code MMUEXT_FLUSH_CACHE} (and {@code MMUEXT_FLUSH_CACHE_GLOBAL}): writes back and invalidates
   * the caches, which touches no TLB; allowed only to a domain with I/O resources or a device
   * ({@code cache_flush_permitted}).
   *
   * @param curr the calling vCPU
   * @return 0, or {@code -EACCES} if the domain may not flush caches
   */
  public int flushCache(PvVcpu curr) {
    requireVcpuOf(curr);
    Domain d = curr.domain();
    boolean permitted = !d.iomemCaps().isEmpty() || !d.ioportCaps().isEmpty()
        || d.assignedDeviceCount() != 0;
    return permitted ? 0 : -Errno.EACCES;
  }

  /**
   * One operation of Xen's {@code do_mmuext_op} with {@code DOMID_SELF} as page owner, by its
   * {@code MMUEXT_*} number ({@link PvMmuAbi}): the pins (through {@link #pinTable}), {@link
   * #unpinTable}, {@link #newGuestCr3} and the TLB and cache operations above.
   *
   * @param curr the calling vCPU
   * @param cmd the {@code MMUEXT_*} command
   * @param arg1 {@code arg1}: the frame ({@code mfn}) or the linear address, as the command reads
   *     it; for a 32-on-64 vCPU only bits 31:0 (the compat structure's field is 32 bits wide)
   * @param arg2 {@code arg2}: for the {@code _MULTI} commands the first word of the vCPU bitmap the
   *     guest's pointer names
   * @return 0 or a negated errno; {@code -ENOSYS} for an unknown command
   * @throws UnsupportedOperationException for commands the model does not implement ({@code
   *     SET_LDT}, {@code NEW_USER_BASEPTR}, {@code CLEAR_PAGE}, {@code COPY_PAGE}, the superpage
   *     marks)
   */
  public int doMmuextOp(PvVcpu curr, int cmd, long arg1, long arg2) {
    Domain d = curr.domain();
    if (d.guestType() == GuestType.PV32) {
      arg1 &= COMPAT_ARG_MASK; // compat_mmuext_op: arg1 (mfn or linear_addr) is 32 bits wide
    }
    return switch (cmd) {
      case PvMmuAbi.MMUEXT_PIN_L1_TABLE, PvMmuAbi.MMUEXT_PIN_L2_TABLE,
          PvMmuAbi.MMUEXT_PIN_L3_TABLE, PvMmuAbi.MMUEXT_PIN_L4_TABLE ->
          pinTable(d, arg1, PageType.ofLevel(cmd - PvMmuAbi.MMUEXT_PIN_L1_TABLE + 1));
      case PvMmuAbi.MMUEXT_UNPIN_TABLE -> unpinTable(d, arg1);
      case PvMmuAbi.MMUEXT_NEW_BASEPTR -> {
        long cr3 = newGuestCr3(curr, arg1);
        yield cr3 < 0 ? (int) cr3 : 0;
      }
      case PvMmuAbi.MMUEXT_TLB_FLUSH_LOCAL -> tlbFlushLocal(curr);
      case PvMmuAbi.MMUEXT_INVLPG_LOCAL -> invlpgLocal(curr, arg1);
      case PvMmuAbi.MMUEXT_TLB_FLUSH_MULTI -> tlbFlushMulti(curr, arg2);
      case PvMmuAbi.MMUEXT_INVLPG_MULTI -> invlpgMulti(curr, arg1, arg2);
      case PvMmuAbi.MMUEXT_TLB_FLUSH_ALL -> tlbFlushAll(curr);
      case PvMmuAbi.MMUEXT_INVLPG_ALL -> invlpgAll(curr, arg1);
      case PvMmuAbi.MMUEXT_FLUSH_CACHE, PvMmuAbi.MMUEXT_FLUSH_CACHE_GLOBAL -> flushCache(curr);
      case PvMmuAbi.MMUEXT_SET_LDT, PvMmuAbi.MMUEXT_NEW_USER_BASEPTR, PvMmuAbi.MMUEXT_CLEAR_PAGE,
          PvMmuAbi.MMUEXT_COPY_PAGE, PvMmuAbi.MMUEXT_MARK_SUPER, PvMmuAbi.MMUEXT_UNMARK_SUPER ->
          throw new UnsupportedOperationException("mmuext_op " + cmd + " is not modelled");
      default -> -Errno.ENOSYS;
    };
  }

  // ---- update_va_mapping ---------------------------------------------------------------------------

  /**
   * Xen's {@code map_guest_l1e}: the L1 table that holds the entry for {@code linearAddress}, found
   * by walking the vCPU's tables from its base as Xen reads them through its linear map: the L4 and
   * L3 entries must be present, the L2 entry present and not a superpage. Rights are not checked
   * (Xen reads in supervisor mode), and a linear entry on the way is walked as hardware walks it.
   *
   * @param v the vCPU whose tables are walked
   * @param linearAddress the address
   * @return the L1 table's frame, or -1 if the address is not one a guest may name ({@code
   *     __addr_ok}), the vCPU has no base, or an entry on the way does not lead to an L1 table
   */
  public long mapGuestL1e(PvVcpu v, long linearAddress) {
    if (!PvMmuAbi.addrOk(linearAddress) || v.baseptr() == PvVcpu.NO_BASEPTR) {
      return -1;
    }
    long table = v.baseptr();
    for (int level = 4; level >= 2; level--) {
      if (!frames.mfnValid(table)) {
        return -1;
      }
      long e = frames.readEntry(table, PvMmuAbi.tableOffset(linearAddress, level));
      if (!Pte.isPresent(e) || (level == 2 && (e & PteFlags.PAGE_PSE) != 0)) {
        return -1;
      }
      table = Pte.getMfn(e);
    }
    return table;
  }

  /**
   * Xen's {@code do_update_va_mapping(va, val, flags)} for flush types that need no vCPU bitmap:
   * {@code flags & ~UVMF_FLUSHTYPE_MASK} is {@link PvMmuAbi#UVMF_LOCAL} or {@link
   * PvMmuAbi#UVMF_ALL}. See {@link #updateVaMapping(PvVcpu, long, long, long, long)}.
   *
   * @param v the calling vCPU
   * @param linearAddress the address whose L1 entry changes
   * @param val the new L1 entry
   * @param flags {@code UVMF_*}
   * @return 0 or a negated errno
   * @throws IllegalArgumentException if {@code flags} carries a bitmap pointer ({@code
   *     UVMF_MULTI}): use the overload with the bitmap
   */
  public int updateVaMapping(PvVcpu v, long linearAddress, long val, long flags) {
    long target = flags & ~PvMmuAbi.UVMF_FLUSHTYPE_MASK;
    long type = flags & PvMmuAbi.UVMF_FLUSHTYPE_MASK;
    if ((type == PvMmuAbi.UVMF_TLB_FLUSH || type == PvMmuAbi.UVMF_INVLPG)
        && target != PvMmuAbi.UVMF_LOCAL && target != PvMmuAbi.UVMF_ALL) {
      throw new IllegalArgumentException("flags: 0x" + Long.toHexString(flags)
          + " (expected: UVMF_LOCAL or UVMF_ALL; a UVMF_MULTI bitmap pointer needs the bitmap)");
    }
    return updateVaMapping(v, linearAddress, val, flags, 0);
  }

  /**
   * Xen's {@code do_update_va_mapping(va, val, flags)}: finds the L1 entry of {@code linearAddress}
   * through the calling vCPU's tables ({@link #mapGuestL1e}), replaces it as {@link #modL1Entry}
   * does (page owner: the vCPU's domain), then flushes as {@code flags} ask: {@code UVMF_NONE} not
   * at all; {@code UVMF_TLB_FLUSH} the whole TLB, {@code UVMF_INVLPG} the one address; of the calling
   * vCPU ({@code UVMF_LOCAL}), of every vCPU of the domain ({@code UVMF_ALL}), or of the vCPUs in the
   * bitmap ({@code UVMF_MULTI}: any other value of bits 63:2, the bitmap's guest pointer). A failed
   * update flushes nothing. For a 32-on-64 vCPU ({@code compat_update_va_mapping}) {@code va} and
   * {@code flags} are 32-bit arguments: their bits 63:32 are dropped.
   *
   * <pre>{@code
   * mmu.updateVaMapping(v, va, pte, UVMF_INVLPG | UVMF_ALL, 0);
   * mmu.updateVaMapping(v, va, pte, UVMF_TLB_FLUSH | UVMF_MULTI | bitmapPointer, 0b101);
   * }</pre>
   *
   * @param v the calling vCPU
   * @param linearAddress the address whose L1 entry changes
   * @param val the new L1 entry
   * @param flags {@code UVMF_*}
   * @param vcpuMask for {@code UVMF_MULTI}, the first word of the bitmap the pointer names (bit
   *     {@code i} for vCPU {@code i}); ignored otherwise
   * @return 0, {@code -EINVAL} if no L1 entry is found (see {@link #mapGuestL1e}) or its table is
   *     not a validated L1 table of the domain, or {@link #modL1Entry}'s error
   */
  public int updateVaMapping(PvVcpu v, long linearAddress, long val, long flags, long vcpuMask) {
    requireVcpuOf(v);
    Domain d = v.domain();
    if (d.guestType() == GuestType.PV32) {
      // compat_update_va_mapping: va and flags are 32-bit arguments.
      linearAddress &= COMPAT_ARG_MASK;
      flags &= COMPAT_ARG_MASK;
    }
    long gl1mfn = mapGuestL1e(v, linearAddress);
    if (gl1mfn < 0 || !frames.mfnValid(gl1mfn) || !frames.getPage(gl1mfn, d.id())) {
      return -Errno.EINVAL;
    }
    int rc;
    try {
      if (!frames.pageLock(gl1mfn)) {
        return -Errno.EINVAL;
      }
      try {
        if (frames.pageType(gl1mfn) != PageType.L1_PAGE_TABLE) {
          return -Errno.EINVAL;
        }
        rc = modL1EntryLocked(d, gl1mfn, PvMmuAbi.tableOffset(linearAddress, 1), val, d, false);
      } finally {
        frames.pageUnlock(gl1mfn);
      }
    } finally {
      frames.putPage(gl1mfn);
    }
    if (rc != 0) {
      return rc;
    }
    long type = flags & PvMmuAbi.UVMF_FLUSHTYPE_MASK;
    long target = flags & ~PvMmuAbi.UVMF_FLUSHTYPE_MASK;
    long mask;
    if (target == PvMmuAbi.UVMF_LOCAL) {
      mask = v.mask();
    } else if (target == PvMmuAbi.UVMF_ALL) {
      mask = d.vcpuMask();
    } else {
      mask = vcpumaskToPcpumask(d, vcpuMask);
    }
    if (type == PvMmuAbi.UVMF_TLB_FLUSH) {
      flushTlbMask(d, mask);
    } else if (type == PvMmuAbi.UVMF_INVLPG) {
      if (target != PvMmuAbi.UVMF_LOCAL || PvMmuAbi.isCanonical(linearAddress)) {
        flushTlbOneMask(d, mask, linearAddress);
      }
    }
    return 0;
  }

  /** Xen's {@code vcpumask_to_pcpumask}: the guest's bitmap, limited to vCPUs the domain has. */
  private static long vcpumaskToPcpumask(Domain d, long vcpuMask) {
    return vcpuMask & d.vcpuMask();
  }

  private void flushTlbMask(Domain d, long vcpuMask) {
    if (vcpuMask != 0) {
      tlbFlush.flushTlbMask(d, vcpuMask);
    }
  }

  private void flushTlbOneMask(Domain d, long vcpuMask, long linearAddress) {
    if (vcpuMask != 0) {
      tlbFlush.flushTlbOneMask(d, vcpuMask, linearAddress);
    }
  }

  private void requireVcpuOf(PvVcpu v) {
    if (lookupDomain(v.domain().id()) != v.domain() || v.domain().vcpu(v.id()) != v) {
      throw new IllegalArgumentException(v + " (expected: a vCPU of this MMU)");
    }
  }

  // ---- revocation --------------------------------------------------------------------------------

  /**
   * Re-applies the validator to the live MMIO entry at {@code slot} of L1 table {@code mfn}, for a
   * frame that has just become read-only: if the validator would now install it read-only (or with
   * another cache type), the flip is applied in place. Upstream Xen has no such pass; a host whose
   * policy revokes existing mappings calls it for each entry its reverse map lists, and then flushes
   * the owner's vCPUs ({@code flush_tlb_mask(d->dirty_cpumask)}, as Xen does whenever it changes a
   * live entry behind the guest's back): the flush is the caller's, so that a host can leave it out
   * to study what a stale translation allows. RAM entries and entries the validator would now
   * refuse are left as they are.
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
    } finally {
      frames.pageUnlock(mfn);
    }
    return true;
  }

  // ---- invariants ------------------------------------------------------------------------------

  /**
   * Recounts every reference from scratch, across all four levels, and reports each frame whose
   * counts differ: a frame's general count must be its allocation reference, plus one per pin, plus
   * one per present entry of a live L1 table that maps it (MMIO entries hold none), plus one per
   * present entry of a live L2, L3 or L4 table that names it (self-maps and Xen's L4 slots hold
   * none), plus one per vCPU whose page-table base it is; its type count must be the number of pins,
   * table entries and bases that hold it (for a table) or of writable entries mapping it (for a
   * writable page). Each table entry must name a frame of the level below (or of its own level: a
   * linear entry), each base an L4 table; under {@link LinearPageTables#SINGLE_LEVEL} each
   * table's {@code linear_pt_count} must be its linear entries minus its linear uses, one of them 0.
   *
   * <p>32-on-64 domains are covered too: a compat vCPU's L4 (Xen's) holds no general reference and
   * one type reference, its vCPU's, and only its slot 0 counts; Xen's slots of a {@code
   * PGT_pae_xen_l2} L2 hold nothing; a compat L3 has slots 4 to 511 clear and slot 3 naming a
   * {@code PGT_pae_xen_l2} L2, which no other L3's slot 3 names; the flag sits only on an unpinned
   * L2 in use.
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
    long[] typeRefs = new long[n];
    long[] writable = new long[n];
    int[] linearEntries = new int[n];
    int[] linearUses = new int[n];
    int[] paeSlot3Refs = new int[n];
    // Xen's per-vCPU L4s of 32-on-64 vCPUs: owned by DOMID_XEN, their slot 0 is the domain's.
    Map<Long, Domain> compatL4Owners = new HashMap<>();
    for (Domain d : domains) {
      for (int id = 0; d != null && id < PvVcpu.MAX_VCPUS; id++) {
        PvVcpu v = d.vcpu(id);
        if (v != null && v.hasCompatL4()) {
          compatL4Owners.put(v.compatL4(), d);
        }
      }
    }
    for (int mfn = 0; mfn < n; mfn++) {
      if ((frames.countInfo(mfn) & PageInfo.PGC_ALLOCATED) != 0) {
        general[mfn]++;
      }
      if ((frames.typeInfo(mfn) & PageInfo.PGT_PINNED) != 0) {
        general[mfn]++;
        typeRefs[mfn]++;
      }
      if (frames.isLiveL1Table(mfn)) {
        int tableOwner = frames.owner(mfn);
        for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
          countMapping(tableOwner, frames.readEntry(mfn, slot), general, writable);
        }
        continue;
      }
      PageType type = frames.pageType(mfn);
      if (type.isPageTable() && frames.isLiveTable(mfn, type)) {
        Domain owner = frames.owner(mfn) == DomainIds.DOMID_XEN
            ? compatL4Owners.get((long) mfn)
            : lookupDomain(frames.owner(mfn));
        if (owner == null) {
          visitor.mismatch(mfn, "mfn 0x" + Long.toHexString(mfn) + ": live " + type + " owned by "
              + DomainIds.name(frames.owner(mfn)) + ", no domain or vCPU of this MMU");
          continue;
        }
        countTableEntries(mfn, type, owner, general, typeRefs, linearEntries, linearUses,
            paeSlot3Refs, visitor);
      }
    }
    holders.forEachEntry((owner, l1e) -> countMapping(owner.id(), l1e, general, writable));
    for (Domain d : domains) {
      if (d == null) {
        continue;
      }
      for (int id = 0; id < PvVcpu.MAX_VCPUS; id++) {
        PvVcpu v = d.vcpu(id);
        long base = v == null ? PvVcpu.NO_BASEPTR : v.baseptr();
        if (base == PvVcpu.NO_BASEPTR) {
          continue;
        }
        if (!frames.mfnValid(base) || frames.pageType(base) != PageType.L4_PAGE_TABLE) {
          visitor.mismatch(base, "mfn 0x" + Long.toHexString(base) + ": base of " + v
              + " is not an L4 table");
          continue;
        }
        if (v.hasCompatL4()) {
          // setup_compat_l4 sets the type count to 1 and takes no general reference.
          if (frames.owner(base) != DomainIds.DOMID_XEN) {
            visitor.mismatch(base, "mfn 0x" + Long.toHexString(base) + ": compat L4 of " + v
                + " is owned by " + DomainIds.name(frames.owner(base)) + ", not Xen");
          }
          typeRefs[(int) base]++;
          continue;
        }
        general[(int) base]++;
        typeRefs[(int) base]++;
      }
    }
    boolean singleLevel =
        validator.switches().linearPageTables() == LinearPageTables.SINGLE_LEVEL;
    for (int mfn = 0; mfn < n; mfn++) {
      long typeInfo = frames.typeInfo(mfn);
      long typeCount = PageInfo.typeCount(typeInfo);
      long expectedType = typeRefs[mfn] + writable[mfn];
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
      if (singleLevel && PageInfo.type(typeInfo).isPageTable() && typeCount != 0) {
        int expected = linearEntries[mfn] - linearUses[mfn];
        int actual = frames.linearPtCount(mfn);
        if (actual != expected || (linearEntries[mfn] != 0 && linearUses[mfn] != 0)) {
          visitor.mismatch(mfn, where + "linear_pt_count " + actual + ", expected " + expected
              + " (" + linearEntries[mfn] + " linear entries, " + linearUses[mfn] + " uses)");
        }
      }
      boolean pae = (typeInfo & PageInfo.PGT_PAE_XEN_L2) != 0;
      if (paeSlot3Refs[mfn] > 1 || (paeSlot3Refs[mfn] == 1 && !pae)) {
        visitor.mismatch(mfn, where + "named by slot 3 of " + paeSlot3Refs[mfn]
            + " L3 tables with PGT_pae_xen_l2 " + (pae ? "set" : "clear")
            + " (expected: one, set)");
      }
      if (pae && (PageInfo.type(typeInfo) != PageType.L2_PAGE_TABLE || typeCount == 0
          || (typeInfo & PageInfo.PGT_PINNED) != 0)) {
        visitor.mismatch(mfn, where + "PGT_pae_xen_l2 on type_info 0x"
            + Long.toHexString(typeInfo) + " (expected: an unpinned L2 in use)");
      }
    }
  }

  /** Adds the references the entries of a live L2, L3 or L4 table hold, checking their targets. */
  private void countTableEntries(
      int mfn,
      PageType type,
      Domain owner,
      long[] general,
      long[] typeRefs,
      int[] linearEntries,
      int[] linearUses,
      int[] paeSlot3Refs,
      CountMismatchVisitor visitor) {
    PageType below = PageType.ofLevel(type.level() - 1);
    long typeInfo = frames.typeInfo(mfn);
    boolean compatL3 = type == PageType.L3_PAGE_TABLE && owner.guestType() == GuestType.PV32;
    for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
      if ((type == PageType.L4_PAGE_TABLE && !HigherLevelTables.isGuestL4Slot(owner, slot))
          || (type == PageType.L2_PAGE_TABLE
              && !HigherLevelTables.isGuestL2Slot(owner, typeInfo, slot))) {
        continue;
      }
      long e = frames.readEntry(mfn, slot);
      String where = "mfn 0x" + Long.toHexString(mfn) + ": " + type + " slot " + slot + " ";
      if (compatL3 && slot >= PvMmuAbi.COMPAT_L3_ENTRIES - 1) {
        if (slot >= PvMmuAbi.COMPAT_L3_ENTRIES && e != 0) {
          visitor.mismatch(mfn, where + "holds " + Pte.toHex(e) + " (expected: cleared)");
          continue;
        }
        if (slot == PvMmuAbi.COMPAT_L3_ENTRIES - 1) {
          if (!Pte.isPresent(e) || !frames.mfnValid(Pte.getMfn(e))) {
            visitor.mismatch(mfn, where + "holds " + Pte.toHex(e)
                + " (expected: the PAE L2 with Xen's slots)");
            continue;
          }
          paeSlot3Refs[(int) Pte.getMfn(e)]++;
        }
      }
      long target = Pte.getMfn(e);
      if (!Pte.isPresent(e) || target == mfn) {
        continue;
      }
      if (!frames.mfnValid(target)) {
        visitor.mismatch(mfn, where + "names invalid frame 0x" + Long.toHexString(target));
        continue;
      }
      general[(int) target]++;
      typeRefs[(int) target]++;
      PageType targetType = frames.pageType(target);
      if (targetType == type) {
        linearEntries[mfn]++;
        linearUses[(int) target]++;
      } else if (targetType != below) {
        visitor.mismatch(mfn, where + "names 0x" + Long.toHexString(target) + " typed "
            + targetType);
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

  /**
   * The frame table's hooks into this MMU: tables are validated and released here, and Xen's own
   * TLB flushes happen here.
   */
  private final class Validation implements PageTableValidation {
    @Override
    public int allocPageType(long mfn, PageType type) {
      return switch (type) {
        case L1_PAGE_TABLE -> allocL1Table(mfn);
        case L2_PAGE_TABLE -> tables.allocL2Table(mfn, tableOwner(mfn, "alloc_l2_table"));
        case L3_PAGE_TABLE -> tables.allocL3Table(mfn, tableOwner(mfn, "alloc_l3_table"));
        case L4_PAGE_TABLE -> tables.allocL4Table(mfn, tableOwner(mfn, "alloc_l4_table"));
        // Descriptor pages are typed without checking their contents (not modelled).
        case SEG_DESC_PAGE -> 0;
        case NONE, SHARED_PAGE, WRITABLE_PAGE ->
            throw new HypervisorBugException("alloc_page_type: bad type " + type);
      };
    }

    @Override
    public void freePageType(long mfn, PageType type, int depth) {
      HigherLevelTables.checkTeardownDepth(mfn, depth);
      switch (type) {
        case L1_PAGE_TABLE -> freeL1Table(mfn);
        case L2_PAGE_TABLE -> tables.freeL2Table(mfn, tableOwner(mfn, "free_l2_table"), depth);
        case L3_PAGE_TABLE -> tables.freeL3Table(mfn, tableOwner(mfn, "free_l3_table"), depth);
        case L4_PAGE_TABLE -> tables.freeL4Table(mfn, tableOwner(mfn, "free_l4_table"), depth);
        default -> {
          return;
        }
      }
      if (depth == 0) {
        // Xen stamps a freed table and flushes the owner's dirty vCPUs before the frame is used
        // as anything else; the model flushes once the whole released tree is gone.
        Domain d = lookupDomain(frames.owner(mfn));
        if (d != null) {
          flushTlbMask(d, d.vcpuMask());
        }
      }
    }

    @Override
    public void typeChanged(long mfn, PageType from, PageType to) {
      // _get_page_type flushes on a type change so that no vCPU keeps a stale writable mapping of a
      // frame about to become a table (tables flushed when they were freed).
      if (from == PageType.NONE || from.isPageTable()) {
        return;
      }
      Domain d = lookupDomain(frames.owner(mfn));
      if (d != null) {
        flushTlbMask(d, d.vcpuMask());
      }
    }

    private Domain tableOwner(long mfn, String what) {
      Domain d = lookupDomain(frames.owner(mfn));
      if (d == null) {
        throw new HypervisorBugException(what + ": mfn 0x" + Long.toHexString(mfn)
            + " has no owner domain");
      }
      return d;
    }
  }
}
