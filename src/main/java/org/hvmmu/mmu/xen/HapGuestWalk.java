package org.hvmmu.mmu.xen;

import java.util.Objects;

/**
 * The HAP callers of the walk ({@code xen/arch/x86/mm/hap/guest_walk.c}): {@code hap_gva_to_gfn} and
 * {@code hap_p2m_ga_to_gfn} map the top-level table from CR3 through the p2m, walk, and turn the
 * answer into a gfn or {@link #INVALID_GFN} with an error code for the caller to inject or act on.
 *
 * <p>Today ({@link GuestWalkSwitches.Convention#PFEC}): a paged-out or shared CR3 frame or target
 * gives {@link Pfec#PAGE_PAGED} or {@link Pfec#PAGE_SHARED} as the whole error code; a CR3 frame
 * that is not RAM clears P of the caller's code; a failed walk gives the walk's code; in the last
 * two cases {@link Pfec#INSN_FETCH} is cleared again unless the guest has EFER.NXE or SMEP. The
 * seed ({@link GuestWalkSwitches.Convention#MISSING_FLAGS}, its {@code hap_gva_to_gfn}): the
 * caller's code is kept, P cleared if P was missing, and replaced by {@link Pfec#SEED_PAGE_PAGED} or
 * {@link Pfec#SEED_PAGE_SHARED} for a paged-out or shared frame. Without paging (CR0.PG clear) both
 * return {@code ga >> 12} ({@code hap_gva_to_gfn_real_mode}).
 *
 * <pre>{@code
 * HapGuestWalk hap = new HapGuestWalk(walker);
 * long gfn = hap.hapGvaToGfn(regs, va, Pfec.WRITE_ACCESS);
 * if (gfn == HapGuestWalk.INVALID_GFN) {
 *   if ((hap.pfec() & Pfec.PAGE_PAGED) != 0) { retry later } else { inject #PF hap.pfec() }
 * }
 * }</pre>
 *
 * <p>Not thread-safe: it keeps its last answer ({@link #pfec()}, {@link #pageOrder()}, {@link
 * #walk()}); one instance per thread. Allocation-free.
 */
public final class HapGuestWalk {
  /** Xen's {@code INVALID_GFN} ({@code ~0UL}): no translation. */
  public static final long INVALID_GFN = GuestWalk.INVALID_GFN;

  private final GuestWalker walker;
  private final GuestWalk gw = new GuestWalk();
  private int pfec;
  private int pageOrder;

  /**
   * A caller of {@code walker}.
   *
   * @param walker the domain's walker
   */
  public HapGuestWalk(GuestWalker walker) {
    this.walker = Objects.requireNonNull(walker, "walker");
  }

  /**
   * Xen's {@code hap_gva_to_gfn}: {@link #hapP2mGaToGfn} with the vCPU's own CR3.
   *
   * @param v the vCPU's registers
   * @param gva the linear address
   * @param pfec the caller's error code: the access ({@link Pfec#WRITE_ACCESS}, {@link
   *     Pfec#USER_MODE}, {@link Pfec#INSN_FETCH}, {@link Pfec#IMPLICIT}), usually with {@link
   *     Pfec#PAGE_PRESENT}
   * @return the gfn, or {@link #INVALID_GFN} with {@link #pfec()} set
   */
  public long hapGvaToGfn(GuestRegisters v, long gva, int pfec) {
    return hapP2mGaToGfn(v, v.cr3(), gva, pfec);
  }

  /**
   * Xen's {@code hap_p2m_ga_to_gfn} (the seed: {@code hap_gva_to_gfn}): translates {@code ga}
   * through the guest tables rooted at {@code cr3}. Afterwards {@link #pfec()} is Xen's {@code
   * *pfec} (unchanged on success), {@link #pageOrder()} the page's order on success, and {@link
   * #walk()} the walk (reset and empty when the CR3 frame could not be mapped).
   *
   * @param v the vCPU's registers
   * @param cr3 the top-level table's address (bits 11:5 place a PAE PDPT)
   * @param ga the linear address
   * @param pfec the caller's error code, as for {@link #hapGvaToGfn}
   * @return the gfn, or {@link #INVALID_GFN}
   * @throws IllegalArgumentException as {@link GuestWalker#guestWalkTables} does
   */
  public long hapP2mGaToGfn(GuestRegisters v, long cr3, long ga, int pfec) {
    this.pfec = pfec;
    this.pageOrder = 0;
    int levels = v.pagingLevels();
    gw.reset(ga, levels);
    if (levels == 0) {
      return ga >>> 12;
    }
    boolean seed = walker.switches().convention() == GuestWalkSwitches.Convention.MISSING_FLAGS;
    P2mLookup p2m = walker.p2m();
    long topGfn = cr3 >>> 12;
    long top = p2m.getPageFromGfn(topGfn);
    if (top == P2mLookup.PAGED_OUT) {
      this.pfec = seed ? Pfec.SEED_PAGE_PAGED : Pfec.PAGE_PAGED;
      return INVALID_GFN;
    }
    if (top == P2mLookup.SHARED) {
      this.pfec = seed ? Pfec.SEED_PAGE_SHARED : Pfec.PAGE_SHARED;
      return INVALID_GFN;
    }
    if (top < 0) {
      if (top != P2mLookup.GFN_INVALID && top != P2mLookup.NOT_RAM) {
        throw GuestWalker.undefinedOutcome(top);
      }
      this.pfec &= ~Pfec.PAGE_PRESENT;
      if (!seed) {
        tweakInsnFetch(v);
      }
      return INVALID_GFN;
    }
    int topOffset = levels == 3 ? (int) (cr3 & 0xFE0) : 0;
    boolean ok = walker.guestWalkTables(v, ga, gw, pfec, top, topOffset);
    if (ok) {
      long gfn = gw.gfn();
      long target = p2m.getPageFromGfn(gfn);
      if (target == P2mLookup.PAGED_OUT) {
        this.pfec = seed ? Pfec.SEED_PAGE_PAGED : Pfec.PAGE_PAGED;
        return INVALID_GFN;
      }
      if (target == P2mLookup.SHARED) {
        this.pfec = seed ? Pfec.SEED_PAGE_SHARED : Pfec.PAGE_SHARED;
        return INVALID_GFN;
      }
      // Any other target (RAM, MMIO, nothing) is the caller's business.
      pageOrder = gw.pageOrder();
      return gfn;
    }
    if (seed) {
      int missing = gw.missingFlags();
      if ((missing & MissingFlags.PAGE_PRESENT) != 0) {
        this.pfec &= ~Pfec.PAGE_PRESENT;
      }
      if ((missing & MissingFlags.PAGE_PAGED) != 0) {
        this.pfec = Pfec.SEED_PAGE_PAGED;
      }
      if ((missing & MissingFlags.PAGE_SHARED) != 0) {
        this.pfec = Pfec.SEED_PAGE_SHARED;
      }
      return INVALID_GFN;
    }
    this.pfec = gw.pfec();
    tweakInsnFetch(v);
    return INVALID_GFN;
  }

  /** The SDM reports I/D only with NX or SMEP: Xen clears it again for the caller. */
  private void tweakInsnFetch(GuestRegisters v) {
    boolean smep = walker.switches().smep() && v.smepEnabled();
    if (!v.nxeEnabled() && !smep) {
      pfec &= ~Pfec.INSN_FETCH;
    }
  }

  /**
   * Xen's {@code *pfec} after the last translation: the caller's code on success, else the error
   * code (or synthetic code) to act on.
   *
   * @return the error code
   */
  public int pfec() {
    return pfec;
  }

  /**
   * Xen's {@code *page_order} after a successful translation: 0, 9, 10 or 18 (0 without paging, and
   * after a failure).
   *
   * @return the order
   */
  public int pageOrder() {
    return pageOrder;
  }

  /**
   * The walk of the last translation (the same object every time).
   *
   * @return the walk record
   */
  public GuestWalk walk() {
    return gw;
  }
}
