package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_DIRTY;
import static org.hvmmu.x86.PteFlags.PAGE_NX_BIT;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;

import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.hvmmu.xen.Errno;
import org.hvmmu.xen.HypervisorBugException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Xen's validation of PV L2, L3 and L4 page tables, of 64-bit guests and of 32-bit PAE guests on
 * 64-bit Xen ("compat", 32-on-64): the {@code get_page_from_lNe} / {@code put_page_from_lNe} pairs,
 * the linear page-table rule, {@code alloc_lN_table} / {@code free_lN_table} (today {@code
 * promote_lN_table} / {@code demote_lN_table}) and {@code mod_lN_entry}, as {@link PvMmu} calls
 * them from the frame table's type changes, from {@code mmu_update} and from {@code new_guest_cr3}.
 * Xen 4.22: {@code xen/arch/x86/mm.c}; {@code init_xen_pae_l2_slots} in {@code
 * xen/arch/x86/pv/mm.c}.
 *
 * <p>A present entry of a live L{n} table holds a general and an L{n-1} type reference on the frame
 * it names; a linear entry (same level) holds a general and an L{n} type reference, and a self-map
 * holds none. Xen's preemption ({@code -ERESTART}, {@code PGT_partial}) and its deferred puts
 * ({@code old_guest_table}) are not modelled as states: an operation completes before it returns,
 * which gives the counts Xen reaches once its continuations have run.
 *
 * <p>A 32-on-64 guest has PAE tables: an L3 whose slots 0 to 3 translate (Xen clears 4 to 511 when
 * it validates the table, and refuses {@code mod_l3_entry} of slot 3 and above), L2 and L1 tables.
 * The L2 in slot 3 is typed {@code PGT_pae_xen_l2}: it may sit in that one slot of one L3 only, and
 * its slots from {@code COMPAT_L2_PAGETABLE_FIRST_XEN_SLOT} (428) are Xen's. Its L3s hang below the
 * per-vCPU L4 Xen keeps ({@code setup_compat_l4}; slot 0 only is the guest's).
 */
final class HigherLevelTables {
  /** {@code mod_lN_entry} succeeded and the old entry's references must now be dropped. */
  static final int PUT_OLD = 1;

  /**
   * How many tables a teardown may nest before the model gives up as Xen's stack would overflow
   * (and before the JVM's would): only chains of linear tables ({@link
   * LinearPageTables#UNRESTRICTED}, XSA-240) get near it; a 4-level tree nests at most 5 deep under
   * {@link LinearPageTables#SINGLE_LEVEL}. The bound is the model's, not a figure of Xen's stack.
   */
  static final int MAX_TEARDOWN_DEPTH = 256;

  /** Xen's {@code COMPAT_L3_DISALLOW_MASK} for 32-on-64 guests' L3 entries (packed flags). */
  static final int COMPAT_L3_DISALLOW_MASK = 0xFFFFF198 & PteFlags.ALL;

  /**
   * The flags the 64-bit fast paths may change without re-validation ({@code
   * FASTPATH_PDE_FLAG_WHITELIST} with {@code CONFIG_PV_LINEAR_PT}): NX, the software bits, G, D, A
   * and U/S.
   */
  static final int FASTPATH_PDE_FLAG_WHITELIST = L1eValidator.FASTPATH_FLAG_WHITELIST;

  private static final Logger LOG = LoggerFactory.getLogger(HigherLevelTables.class);

  private final FrameTable frames;
  private final PvSwitches switches;
  private final int baseDisallowMask;

  HigherLevelTables(FrameTable frames, CpuFeatures cpu, PvSwitches switches) {
    this.frames = frames;
    this.switches = switches;
    // base_disallow_mask: everything but P, RW, U/S, A, D, the software bits and NX (if present).
    this.baseDisallowMask =
        L1eValidator.BASE_DISALLOW_MASK & ~(cpu.nx() ? PAGE_NX_BIT : 0) & PteFlags.ALL;
  }

  // ---- masks and slots ------------------------------------------------------------------------------

  /**
   * Xen's {@code L2_DISALLOW_MASK} ({@code base_disallow_mask}): PWT, PCD, PSE and G (and NX without
   * the processor feature). PSE is refused, so a PV guest has no superpages, as in today's Xen.
   */
  int l2DisallowMask() {
    return baseDisallowMask;
  }

  /** Xen's {@code l3_disallow_mask(d)}: the base mask, or the compat mask for 32-on-64 guests. */
  int l3DisallowMask(Domain d) {
    return d.guestType() == GuestType.PV32 ? COMPAT_L3_DISALLOW_MASK : baseDisallowMask;
  }

  /** Xen's {@code L4_DISALLOW_MASK} ({@code base_disallow_mask}). */
  int l4DisallowMask() {
    return baseDisallowMask;
  }

  private int disallowMask(int level, Domain d) {
    return switch (level) {
      case 2 -> l2DisallowMask();
      case 3 -> l3DisallowMask(d);
      case 4 -> l4DisallowMask();
      default -> throw new AssertionError(level);
    };
  }

  /**
   * Xen's {@code is_guest_l4_slot}: slots 256 to 271 of a 64-bit guest's L4 are Xen's; a 32-on-64
   * guest owns slot 0 only.
   *
   * @param d the table's owner
   * @param slot 0 to 511
   * @return true if the guest controls the slot
   */
  static boolean isGuestL4Slot(Domain d, int slot) {
    if (d.guestType() == GuestType.PV32) {
      return slot == 0;
    }
    return slot < PvMmuAbi.ROOT_PAGETABLE_FIRST_XEN_SLOT
        || slot > PvMmuAbi.ROOT_PAGETABLE_LAST_XEN_SLOT;
  }

  /**
   * Xen's {@code is_guest_l2_slot}: every slot of an L2 is the guest's, except in the L2 typed
   * {@code PGT_pae_xen_l2} (the one in slot 3 of a 32-on-64 guest's L3), whose slots from {@link
   * #compatL2FirstXenSlot} on hold Xen's compat mappings. The type decides, not the domain: a
   * 32-on-64 guest's other L2 tables have 512 guest slots.
   *
   * @param d the table's owner
   * @param typeInfo the table's {@code type_info}
   * @param slot 0 to 511
   * @return true if the guest controls the slot
   */
  static boolean isGuestL2Slot(Domain d, long typeInfo, int slot) {
    return (typeInfo & PageInfo.PGT_PAE_XEN_L2) == 0 || slot < compatL2FirstXenSlot(d);
  }

  /**
   * Xen's {@code COMPAT_L2_PAGETABLE_FIRST_XEN_SLOT(d)}: {@code l2_table_offset} of the domain's
   * {@code HYPERVISOR_COMPAT_VIRT_START}, 428 for the default 0xF5800000.
   *
   * @param d a 32-on-64 domain
   * @return the first slot of a PAE L2 that is Xen's
   */
  static int compatL2FirstXenSlot(Domain d) {
    return (int) (d.hypervisorCompatVirtStart() >>> 21) & 0x1FF;
  }

  /**
   * {@code is_guest_l2_slot}, {@code is_guest_l3_slot} (every slot) and {@code is_guest_l4_slot}.
   */
  private static boolean isGuestSlot(int level, Domain d, long typeInfo, int slot) {
    return switch (level) {
      case 2 -> isGuestL2Slot(d, typeInfo, slot);
      case 4 -> isGuestL4Slot(d, slot);
      default -> true;
    };
  }

  private static boolean isCompat(Domain d) {
    return d.guestType() == GuestType.PV32;
  }

  // ---- get_page_from_lNe ------------------------------------------------------------------------

  /**
   * Xen's {@code get_page_and_type_from_mfn}: a general reference on a frame of {@code d} and a type
   * reference of {@code type} (validating it first if needed); nothing is kept on failure.
   *
   * @return 0, {@code -EINVAL} if the frame is not {@code d}'s or is in use as another type, or the
   *     validation's error
   */
  int getPageAndTypeFromMfn(long mfn, PageType type, Domain d) {
    if (!frames.mfnValid(mfn) || !frames.getPage(mfn, d.id())) {
      return -Errno.EINVAL;
    }
    int rc = frames.getPageType(mfn, type);
    if (rc != 0) {
      frames.putPage(mfn);
    }
    return rc;
  }

  /**
   * Xen's {@code get_page_from_l2e}: a present L2 entry of {@code d}'s table {@code l2mfn} must have
   * no disallowed flag and name an L1 table of {@code d} (validated now if needed), or be an
   * acceptable linear entry.
   *
   * @return 0, or {@code -EINVAL} for bad flags, a foreign or mistyped frame, or a refused linear
   *     entry, or the L1 validation's error
   */
  int getPageFromL2e(long l2e, long l2mfn, Domain d) {
    return getPageFromPde(2, l2e, l2mfn, d);
  }

  /** Xen's {@code get_page_from_l3e}: as {@link #getPageFromL2e} one level up (an L2 table). */
  int getPageFromL3e(long l3e, long l3mfn, Domain d) {
    return getPageFromPde(3, l3e, l3mfn, d);
  }

  /** Xen's {@code get_page_from_l4e}: as {@link #getPageFromL2e} two levels up (an L3 table). */
  int getPageFromL4e(long l4e, long l4mfn, Domain d) {
    return getPageFromPde(4, l4e, l4mfn, d);
  }

  private int getPageFromPde(int level, long pde, long pdeMfn, Domain d) {
    int bad = Pte.getFlags(pde) & disallowMask(level, d);
    if (bad != 0) {
      if (LOG.isDebugEnabled()) {
        LOG.debug("d{}: Bad L{} flags {}", d.id(), level, Integer.toHexString(bad));
      }
      return -Errno.EINVAL;
    }
    int rc = getPageAndTypeFromMfn(Pte.getMfn(pde), PageType.ofLevel(level - 1), d);
    // A refusal as the level below may still be a same-level (linear) entry; 32-on-64 guests have
    // no linear L3 entries since XSA-185 (the seed allowed them).
    if (rc == -Errno.EINVAL
        && !(level == 3 && isCompat(d) && !switches.compatL3LinearPageTables())
        && getLinearPagetable(level, pde, pdeMfn, d)) {
      rc = 0;
    }
    return rc;
  }

  /** Xen's {@code get_l2_linear_pagetable}: whether {@code pde} may map an L2 table linearly. */
  boolean getL2LinearPagetable(long pde, long pdeMfn, Domain d) {
    return getLinearPagetable(2, pde, pdeMfn, d);
  }

  /** Xen's {@code get_l3_linear_pagetable}. */
  boolean getL3LinearPagetable(long pde, long pdeMfn, Domain d) {
    return getLinearPagetable(3, pde, pdeMfn, d);
  }

  /** Xen's {@code get_l4_linear_pagetable}. */
  boolean getL4LinearPagetable(long pde, long pdeMfn, Domain d) {
    return getLinearPagetable(4, pde, pdeMfn, d);
  }

  /**
   * The linear rule: read-only; a self-map is free; otherwise the target must be a validated table
   * of the same level owned by {@code d}, and under {@link LinearPageTables#SINGLE_LEVEL} the table
   * holding the entry must be {@code d}'s, hold no linear use itself, and the target hold no linear
   * entry. On success a general and a type reference are held on the target.
   */
  private boolean getLinearPagetable(int level, long pde, long pdeMfn, Domain d) {
    LinearPageTables mode = switches.linearPageTables();
    if (mode == LinearPageTables.DISABLED) {
      LOG.debug("Attempt to create linear p.t. (feature disabled)");
      return false;
    }
    if ((pde & PAGE_RW) != 0) {
      LOG.debug("Attempt to create linear p.t. with write perms");
      return false;
    }
    long mfn = Pte.getMfn(pde);
    if (mfn == pdeMfn) {
      return true;
    }
    boolean singleLevel = mode == LinearPageTables.SINGLE_LEVEL;
    if (singleLevel && frames.owner(pdeMfn) != d.id()) {
      return false;
    }
    if (!frames.mfnValid(mfn) || !frames.getPage(mfn, d.id())) {
      return false;
    }
    if (singleLevel) {
      if (!frames.incLinearEntries(pdeMfn)) {
        frames.putPage(mfn);
        return false;
      }
      if (!frames.incLinearUses(mfn)) {
        frames.decLinearEntries(pdeMfn);
        frames.putPage(mfn);
        return false;
      }
    }
    if (!frames.getValidatedTableType(mfn, PageType.ofLevel(level))) {
      if (singleLevel) {
        frames.decLinearUses(mfn);
        frames.decLinearEntries(pdeMfn);
      }
      frames.putPage(mfn);
      return false;
    }
    return true;
  }

  // ---- put_page_from_lNe --------------------------------------------------------------------------

  /**
   * Xen's {@code put_page_from_l2e}: drops what an installed L2 entry of table {@code l2mfn} holds
   * (nothing for a non-present entry or a self-map); the last type reference of the table it names
   * frees that table in turn.
   *
   * @param depth tables being freed around this one
   */
  void putPageFromL2e(long l2e, long l2mfn, int depth) {
    putPageFromPde(l2e, l2mfn, depth);
  }

  /** Xen's {@code put_page_from_l3e}. */
  void putPageFromL3e(long l3e, long l3mfn, int depth) {
    putPageFromPde(l3e, l3mfn, depth);
  }

  /** Xen's {@code put_page_from_l4e}. */
  void putPageFromL4e(long l4e, long l4mfn, int depth) {
    putPageFromPde(l4e, l4mfn, depth);
  }

  private void putPageFromPde(long pde, long pdeMfn, int depth) {
    long mfn = Pte.getMfn(pde);
    if (!Pte.isPresent(pde) || mfn == pdeMfn) {
      return;
    }
    putPtPage(mfn, pdeMfn, depth);
  }

  /**
   * Xen's {@code put_pt_page} without deferral: {@code _put_page_type(pg, ptpg)} then {@code
   * put_page}; a same-level (linear) reference also gives back its {@code linear_pt_count}s.
   */
  private void putPtPage(long mfn, long ptpg, int depth) {
    PageType type = frames.pageType(mfn);
    frames.putPageType(mfn, depth);
    if (switches.linearPageTables() == LinearPageTables.SINGLE_LEVEL
        && type == frames.pageType(ptpg)) {
      frames.decLinearUses(mfn);
      frames.decLinearEntries(ptpg);
    }
    frames.putPage(mfn);
  }

  // ---- alloc_lN_table / free_lN_table ----------------------------------------------------------

  /**
   * Xen's {@code alloc_l2_table} (today {@code promote_l2_table}): validates every present entry of
   * {@code d}'s frame as it becomes an L2 table, storing each accepted entry adjusted ({@code
   * adjust_guest_l2e}). On a reject the references taken for the earlier entries are dropped again
   * (the final counts of Xen's deferred tear-down), and those entries keep their adjustment.
   *
   * @return 0 or the reject's negated errno
   */
  int allocL2Table(long mfn, Domain d) {
    return allocTable(2, mfn, d);
  }

  /**
   * Xen's {@code alloc_l3_table} (today {@code promote_l3_table}). A 64-bit guest's L3 is validated
   * as {@link #allocL2Table} does one level down. A 32-on-64 guest's is its PAE page directory
   * pointer table: slots 4 to 511 are cleared (the processor walks all 512 in long mode; the guest
   * need only have written four), slots 0 to 2 are validated as usual (no linear entries unless
   * {@link PvSwitches#compatL3LinearPageTables()}), and slot 3 must be present, within {@link
   * #COMPAT_L3_DISALLOW_MASK}, and name an L2 of the guest that takes the {@code PGT_pae_xen_l2}
   * type (validated now if needed, which writes Xen's slots) and that no other entry holds ({@code
   * pae_xen_mappings_check}, Xen's {@code create_pae_xen_mappings}), else {@code -EINVAL}. Accepted
   * entries get U/S and R/W ({@code adjust_guest_l3e}); on a reject the earlier ones lose U/S, R/W
   * and A again ({@code unadjust_guest_l3e}) and give back their references.
   */
  int allocL3Table(long mfn, Domain d) {
    return allocTable(3, mfn, d);
  }

  /**
   * Xen's {@code alloc_l4_table} (today {@code promote_l4_table}): validates the guest's slots (Xen's
   * 256 to 271 are skipped, whatever the guest left there), then {@code init_xen_l4_slots}.
   */
  int allocL4Table(long mfn, Domain d) {
    int rc = allocTable(4, mfn, d);
    if (rc == 0) {
      initXenL4Slots(mfn, d);
    }
    return rc;
  }

  private int allocTable(int level, long mfn, Domain d) {
    requirePv(d, level);
    if (level == 3 && isCompat(d)) {
      return allocCompatL3Table(mfn, d);
    }
    long typeInfo = frames.typeInfo(mfn);
    for (int i = 0; i < Pte.ENTRIES_PER_TABLE; i++) {
      if (!isGuestSlot(level, d, typeInfo, i)) {
        continue;
      }
      long pde = frames.readEntry(mfn, i);
      if (!Pte.isPresent(pde)) {
        continue;
      }
      int rc = getPageFromPde(level, pde, mfn, d);
      if (rc < 0) {
        if (LOG.isDebugEnabled()) {
          LOG.debug("Failure {} in alloc_l{}_table: slot {}", rc, level, Integer.toHexString(i));
        }
        while (i-- > 0) {
          if (isGuestSlot(level, d, typeInfo, i)) {
            putPageFromPde(frames.readEntry(mfn, i), mfn, 0);
          }
        }
        return rc;
      }
      long adjusted = adjust(level, pde, d);
      if (adjusted != pde) {
        frames.storeEntry(mfn, i, adjusted);
      }
    }
    if (level == 2 && (typeInfo & PageInfo.PGT_PAE_XEN_L2) != 0) {
      initXenPaeL2Slots(mfn, d);
    }
    return 0;
  }

  /** {@code alloc_l3_table} for a 32-on-64 guest: see {@link #allocL3Table}. */
  private int allocCompatL3Table(long mfn, Domain d) {
    for (int i = PvMmuAbi.COMPAT_L3_ENTRIES; i < Pte.ENTRIES_PER_TABLE; i++) {
      frames.storeEntry(mfn, i, 0);
    }
    int rc = 0;
    int i;
    for (i = 0; i < PvMmuAbi.COMPAT_L3_ENTRIES - 1; i++) {
      long l3e = frames.readEntry(mfn, i);
      if (!Pte.isPresent(l3e)) {
        continue;
      }
      rc = getPageFromPde(3, l3e, mfn, d);
      if (rc < 0) {
        break;
      }
      long adjusted = adjustGuestL3e(l3e, d);
      if (adjusted != l3e) {
        frames.storeEntry(mfn, i, adjusted);
      }
    }
    if (rc == 0) {
      rc = getPaeXenL2(mfn, d);
      if (rc == 0) {
        return 0;
      }
    }
    if (LOG.isDebugEnabled()) {
      LOG.debug("Failure {} in alloc_l3_table: slot {}", rc, Integer.toHexString(i));
    }
    while (i-- > 0) {
      long l3e = frames.readEntry(mfn, i);
      long unadjusted = unadjustGuestL3e(l3e, d);
      if (unadjusted != l3e) {
        frames.storeEntry(mfn, i, unadjusted);
      }
      putPageFromPde(l3e, mfn, 0);
    }
    return rc;
  }

  /**
   * Slot 3 of a 32-on-64 guest's L3 as {@code alloc_l3_table} validates it: the L2 it names takes a
   * general and a {@code PGT_l2_page_table | PGT_pae_xen_l2} type reference, which must be its only
   * type reference. When it is not (the L2 is shared), today's Xen keeps the reference it took (it
   * tears down from slot 2), a leak; the model gives it back, as the seed did.
   */
  private int getPaeXenL2(long l3mfn, Domain d) {
    long l3e = frames.readEntry(l3mfn, 3);
    int bad = Pte.getFlags(l3e) & l3DisallowMask(d);
    if (!Pte.isPresent(l3e) || bad != 0) {
      LOG.debug("d{}: PAE L3 3rd slot is empty or has bad flags {}", d.id(),
          Integer.toHexString(bad));
      return -Errno.EINVAL;
    }
    long l2mfn = Pte.getMfn(l3e);
    if (!frames.mfnValid(l2mfn) || !frames.getPage(l2mfn, d.id())) {
      return -Errno.EINVAL;
    }
    int rc = frames.getPageType(l2mfn, PageType.L2_PAGE_TABLE, true);
    if (rc != 0) {
      frames.putPage(l2mfn);
      return rc;
    }
    if (!paeXenMappingsCheck(d, l2mfn)) {
      frames.putPageType(l2mfn, 0);
      frames.putPage(l2mfn);
      return -Errno.EINVAL;
    }
    long adjusted = adjustGuestL3e(l3e, d);
    if (adjusted != l3e) {
      frames.storeEntry(l3mfn, 3, adjusted);
    }
    return 0;
  }

  /**
   * Xen's {@code pae_xen_mappings_check} (the seed's {@code create_pae_xen_mappings}): the L2 in
   * slot 3 of a 32-on-64 guest's L3 must hold exactly one type reference, that slot's, so that no
   * other L3 shares it.
   *
   * @param d the L3's owner
   * @param l2mfn the L2 slot 3 names, typed {@code PGT_pae_xen_l2}
   * @return false if the L2 is shared
   * @throws HypervisorBugException where Xen's {@code BUG_ON}s fire: the L2 is pinned, not typed
   *     {@code PGT_pae_xen_l2}, or held by no type reference
   */
  boolean paeXenMappingsCheck(Domain d, long l2mfn) {
    long x = frames.typeInfo(l2mfn);
    if ((x & PageInfo.PGT_PINNED) != 0 || (x & PageInfo.PGT_PAE_XEN_L2) == 0
        || PageInfo.typeCount(x) == 0) {
      throw new HypervisorBugException("pae_xen_mappings_check: d" + d.id() + ": mfn 0x"
          + Long.toHexString(l2mfn) + " in L3 slot 3 has type_info 0x" + Long.toHexString(x)
          + " (expected: PGT_pae_xen_l2, unpinned, in use)");
    }
    if (PageInfo.typeCount(x) != 1) {
      LOG.debug("d{}: PAE L3 3rd slot is shared", d.id());
      return false;
    }
    return true;
  }

  /**
   * Xen's {@code init_xen_pae_l2_slots}: slots {@code COMPAT_L2_PAGETABLE_FIRST_XEN_SLOT(d)} to 511
   * of a validated {@code PGT_pae_xen_l2} table get Xen's compat mappings ({@code
   * compat_idle_pg_table_l2}: the read-only compat machine-to-phys table in 2 MiB superpages,
   * supervisor-only), replacing whatever the guest left there. The model has no Xen memory: the
   * slots are cleared. Xen's entries hold no references.
   */
  void initXenPaeL2Slots(long l2mfn, Domain d) {
    for (int i = compatL2FirstXenSlot(d); i <= PvMmuAbi.COMPAT_L2_PAGETABLE_LAST_XEN_SLOT; i++) {
      frames.storeEntry(l2mfn, i, 0);
    }
  }

  /**
   * Xen's {@code init_xen_l4_slots} as far as the model has Xen mappings: slots 256 to 271 are
   * cleared of anything the guest left, and slot 258 ({@code LINEAR_PT_VIRT_START}) maps the L4
   * itself for Xen ({@code __PAGE_HYPERVISOR_RW}: P, R/W, A, D, NX; supervisor only). Xen's other
   * slots (read-only M2P, MMCFG, per-domain area, Xen's text and direct map) stay empty: the model
   * has no Xen memory. Xen's entries hold no references. The per-vCPU L4 of a 32-on-64 guest gets
   * the same (its slot 4, Xen's mirror of the per-domain area, stays empty as well).
   */
  void initXenL4Slots(long l4mfn, Domain d) {
    for (int i = PvMmuAbi.ROOT_PAGETABLE_FIRST_XEN_SLOT;
        i <= PvMmuAbi.ROOT_PAGETABLE_LAST_XEN_SLOT; i++) {
      frames.storeEntry(l4mfn, i, 0);
    }
    int hypervisorRw = PAGE_PRESENT | PAGE_RW | PAGE_ACCESSED | PAGE_DIRTY | PAGE_NX_BIT;
    frames.storeEntry(l4mfn, PvMmuAbi.LINEAR_PT_SLOT, Pte.fromMfn(l4mfn, hypervisorRw));
  }

  /**
   * Xen's {@code free_l2_table} (today {@code demote_l2_table}): drops what every guest entry holds,
   * from slot 511 down, then clears {@code PGT_pae_xen_l2}.
   */
  void freeL2Table(long mfn, Domain d, int depth) {
    freeTable(2, mfn, d, depth);
  }

  /**
   * Xen's {@code free_l3_table} (today {@code demote_l3_table}); a 32-on-64 guest's entries that
   * held a reference lose U/S, R/W and A again ({@code unadjust_guest_l3e}).
   */
  void freeL3Table(long mfn, Domain d, int depth) {
    freeTable(3, mfn, d, depth);
  }

  /** Xen's {@code free_l4_table} (today {@code demote_l4_table}): the guest's slots only. */
  void freeL4Table(long mfn, Domain d, int depth) {
    freeTable(4, mfn, d, depth);
  }

  private void freeTable(int level, long mfn, Domain d, int depth) {
    long typeInfo = frames.typeInfo(mfn);
    for (int i = Pte.ENTRIES_PER_TABLE - 1; i >= 0; i--) {
      if (!isGuestSlot(level, d, typeInfo, i)) {
        continue;
      }
      long pde = frames.readEntry(mfn, i);
      putPageFromPde(pde, mfn, depth + 1);
      if (level == 3 && Pte.isPresent(pde) && Pte.getMfn(pde) != mfn) {
        long unadjusted = unadjustGuestL3e(pde, d);
        if (unadjusted != pde) {
          frames.storeEntry(mfn, i, unadjusted);
        }
      }
    }
    if ((typeInfo & PageInfo.PGT_PAE_XEN_L2) != 0) {
      frames.clearPaeXenL2(mfn);
    }
  }

  // ---- mod_lN_entry ------------------------------------------------------------------------------

  /**
   * Xen's {@code mod_l2_entry} on a locked, validated L2 table of {@code d}: a present new entry
   * with disallowed flags is refused ({@code -EINVAL}); one that maps the same frame with the flags
   * the fast path compares unchanged is stored without re-validation; otherwise it is validated
   * ({@link #getPageFromL2e}) and stored. The caller then drops the old entry's references, after
   * unlocking (Xen defers that put, {@code PTF_defer}).
   *
   * @return 0 (fast path, nothing to drop), {@link #PUT_OLD} (stored; drop the old entry), or a
   *     negated errno (nothing changed)
   */
  int modL2Entry(Domain d, long mfn, int slot, long nl2e, boolean preserveAd) {
    return modPde(2, d, mfn, slot, nl2e, preserveAd);
  }

  /**
   * Xen's {@code mod_l3_entry}, as {@link #modL2Entry}; for a 32-on-64 guest slots 3 to 511 are
   * refused ({@code -EINVAL}), and with {@link PvSwitches#compatL3UpdateRechecksSlot3()} a
   * validated change re-checks slot 3's L2 as the seed did.
   */
  int modL3Entry(Domain d, long mfn, int slot, long nl3e, boolean preserveAd) {
    return modPde(3, d, mfn, slot, nl3e, preserveAd);
  }

  /**
   * Xen's {@code mod_l4_entry}, as {@link #modL2Entry}; Xen's slots 256 to 271 are refused ({@code
   * -EINVAL}).
   */
  int modL4Entry(Domain d, long mfn, int slot, long nl4e, boolean preserveAd) {
    return modPde(4, d, mfn, slot, nl4e, preserveAd);
  }

  private int modPde(int level, Domain d, long mfn, int slot, long npde, boolean preserveAd) {
    requirePv(d, level);
    if (!isGuestSlot(level, d, frames.typeInfo(mfn), slot)) {
      if (LOG.isDebugEnabled()) {
        LOG.debug("L{} update in Xen-private area, slot {}", level, Integer.toHexString(slot));
      }
      return level == 2 ? -Errno.EPERM : -Errno.EINVAL;
    }
    boolean compatL3 = level == 3 && isCompat(d);
    if (compatL3 && slot >= PvMmuAbi.COMPAT_L3_ENTRIES - 1) {
      // Slot 3 holds the L2 with Xen's mappings; the others do not translate.
      return -Errno.EINVAL;
    }
    long opde = frames.readEntry(mfn, slot);
    if (Pte.isPresent(npde)) {
      int bad = Pte.getFlags(npde) & disallowMask(level, d);
      if (bad != 0) {
        if (LOG.isDebugEnabled()) {
          LOG.debug("d{}: Bad L{} flags {}", d.id(), level, Integer.toHexString(bad));
        }
        return -Errno.EINVAL;
      }
      long adjusted = adjust(level, npde, d);
      // The seed's fast path compares the frame and P only; upstream's (XSA-182) every flag
      // outside the whitelist, so R/W or cache changes are re-validated.
      int compared = switches.fastPathComparesCacheBits()
          ? ~FASTPATH_PDE_FLAG_WHITELIST & PteFlags.ALL
          : PAGE_PRESENT;
      if (!Pte.hasChanged(opde, adjusted, compared)) {
        updateEntry(mfn, slot, opde, adjusted, preserveAd);
        return 0;
      }
      // The seed validated the entry as given and adjusted it afterwards (bffdfb4175, so that a
      // compat L3 entry could be linear); today's Xen validates the adjusted entry. Only a compat
      // L3 entry's adjustment (R/W) can change a verdict, and only that of a linear entry.
      long validated = compatL3 && switches.compatL3LinearPageTables() ? npde : adjusted;
      int rc = getPageFromPde(level, validated, mfn, d);
      if (rc < 0) {
        return rc;
      }
      npde = adjusted;
    }
    updateEntry(mfn, slot, opde, npde, preserveAd);
    if (compatL3 && switches.compatL3UpdateRechecksSlot3()) {
      recheckPaeXenMappings(mfn, d);
    }
    return PUT_OLD;
  }

  /**
   * The seed's {@code create_pae_xen_mappings} call at the end of {@code mod_l3_entry}, whose
   * failure is a {@code BUG()}: slot 3 of the changed compat L3 must still name an L2 held by that
   * slot alone.
   */
  private void recheckPaeXenMappings(long l3mfn, Domain d) {
    long l3e3 = frames.readEntry(l3mfn, 3);
    if (!Pte.isPresent(l3e3) || !paeXenMappingsCheck(d, Pte.getMfn(l3e3))) {
      throw new HypervisorBugException("mod_l3_entry: d" + d.id() + ": L3 0x"
          + Long.toHexString(l3mfn) + " slot 3 (" + Pte.toHex(l3e3) + ") is "
          + (Pte.isPresent(l3e3) ? "shared" : "empty") + " after an update: BUG()");
    }
  }

  /** Xen's {@code UPDATE_ENTRY} under the page lock. */
  private void updateEntry(long mfn, int slot, long opde, long npde, boolean preserveAd) {
    if (preserveAd) {
      npde |= opde & (PAGE_ACCESSED | PAGE_DIRTY);
    }
    frames.storeEntry(mfn, slot, npde);
  }

  /**
   * Drops what {@code opde}, the entry a {@link #modL2Entry} family call replaced, held.
   *
   * @param level 2 to 4
   */
  void putOld(int level, long opde, long mfn) {
    switch (level) {
      case 2 -> putPageFromL2e(opde, mfn, 0);
      case 3 -> putPageFromL3e(opde, mfn, 0);
      case 4 -> putPageFromL4e(opde, mfn, 0);
      default -> throw new AssertionError(level);
    }
  }

  // ---- adjust_guest_lNe ---------------------------------------------------------------------------

  /** Xen's {@code adjust_guest_l2e}: a 64-bit guest's present L2 entries are user entries. */
  static long adjustGuestL2e(long l2e, Domain d) {
    if (Pte.isPresent(l2e) && d.guestType() != GuestType.PV32) {
      return Pte.addFlags(l2e, PAGE_USER);
    }
    return l2e;
  }

  /** Xen's {@code adjust_guest_l3e}: U/S, and R/W too for a 32-on-64 guest. */
  static long adjustGuestL3e(long l3e, Domain d) {
    if (Pte.isPresent(l3e)) {
      return Pte.addFlags(l3e, d.guestType() == GuestType.PV32 ? PAGE_USER | PAGE_RW : PAGE_USER);
    }
    return l3e;
  }

  /**
   * Xen's {@code unadjust_guest_l3e}: a 32-on-64 guest's present L3 entry loses U/S, R/W and A
   * (which PAE's PDPTEs do not have) when its table is released or fails validation; 64-bit
   * guests' entries are left alone.
   */
  static long unadjustGuestL3e(long l3e, Domain d) {
    if (d.guestType() == GuestType.PV32 && Pte.isPresent(l3e)) {
      return Pte.removeFlags(l3e, PAGE_USER | PAGE_RW | PAGE_ACCESSED);
    }
    return l3e;
  }

  /**
   * Xen's {@code adjust_guest_l4e}: A always (since Xen 4.11; the seed added U/S only, and the
   * processor sets A on the first walk anyway), U/S for a 64-bit guest.
   */
  static long adjustGuestL4e(long l4e, Domain d) {
    if (Pte.isPresent(l4e)) {
      return Pte.addFlags(
          l4e, PAGE_ACCESSED | (d.guestType() == GuestType.PV32 ? 0 : PAGE_USER));
    }
    return l4e;
  }

  private static long adjust(int level, long pde, Domain d) {
    return switch (level) {
      case 2 -> adjustGuestL2e(pde, d);
      case 3 -> adjustGuestL3e(pde, d);
      case 4 -> adjustGuestL4e(pde, d);
      default -> throw new AssertionError(level);
    };
  }

  private static void requirePv(Domain d, int level) {
    if (d.guestType() == GuestType.HVM || d.isDomIo()) {
      throw new HypervisorBugException(d + ": L" + level + " table of a domain that is not PV");
    }
  }

  /** The teardown guard: a chain this deep would overflow Xen's stack (XSA-240). */
  static void checkTeardownDepth(long mfn, int depth) {
    if (depth > MAX_TEARDOWN_DEPTH) {
      throw new HypervisorBugException("put_page_type: freeing mfn 0x" + Long.toHexString(mfn)
          + " nests " + depth + " page tables (a chain of linear tables, XSA-240): Xen's stack"
          + " would overflow");
    }
  }
}
