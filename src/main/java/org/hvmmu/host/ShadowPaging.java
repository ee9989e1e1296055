package org.hvmmu.host;

import org.hvmmu.host.access.AccessOutcome;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.host.access.ShadowRoAccess;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.ControlRegisters;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.mmu.xen.GuestRegisters;
import org.hvmmu.mmu.xen.GuestWalk;
import org.hvmmu.mmu.xen.GuestWalkDomain;
import org.hvmmu.mmu.xen.GuestWalkSwitches;
import org.hvmmu.mmu.xen.GuestWalker;
import org.hvmmu.mmu.xen.MissingFlags;
import org.hvmmu.mmu.xen.P2mLookup;
import org.hvmmu.mmu.xen.Pfec;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.P2mTypes;
import org.hvmmu.p2m.RadixP2m;
import org.hvmmu.p2m.shadow.ShadowL1e;
import org.hvmmu.p2m.shadow.ShadowPropagate;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.hvmmu.x86.pv.FrameTable;
import org.hvmmu.x86.pv.PageType;
import org.hvmmu.xen.Errno;

/**
 * The shadow path of the host: Xen's shadow paging for {@link PagingMode#PV_SHADOW} and {@link
 * PagingMode#HVM_SHADOW} domains, on real tables. The guest's 4-level page tables live in its memory
 * (an HVM guest's RAM through its p2m, a PV guest's own machine frames); the shadows are 4-level
 * tables in a pool of machine frames from Xen's heap ({@link ShadowDomain}); the domain's vCPUs run
 * on them (the processor's CR3 is the shadow of the guest's top-level table, {@link ShadowVcpu}).
 * Xen 4.22: {@code xen/arch/x86/mm/shadow/multi.c}; emulated stores in {@code
 * xen/arch/x86/mm/shadow/hvm.c} ({@code hvm_emulate_write}, {@code validate_guest_pt_write}).
 *
 * <ul>
 *   <li>{@link #pageFault} is {@code sh_page_fault}: walk the guest's tables with the policy's
 *       {@code guest_walk_tables}; if the walk fails the guest gets its #PF; else remove write access
 *       to the guest tables about to be shadowed, make the missing shadows and entries from the top
 *       down ({@code shadow_get_and_create_l1e}), propagate the L1 entry ({@code _sh_propagate},
 *       {@code shadow_set_l1e} with the PV validator) and retry; a store into a guest page table is
 *       emulated ({@code sh_x86_emulate_write}) and the shadows that depend on it re-derived ({@code
 *       sh_validate_guest_pt_write}); a store to read-only RAM is discarded.
 *   <li>{@link #loadGuestState} is {@code sh_update_cr3}: the top-level shadow of the guest's new
 *       CR3, made if needed, becomes the processor's CR3.
 *   <li>The host's changes re-derive the shadow entries they affect: p2m changes ({@link
 *       #resyncShadowsOf}, {@link #resyncAllShadows}), hardened revocation ({@link #revoke}), loader
 *       writes ({@link #guestPhysicalWritten}), and a crash empties everything ({@link #teardown}).
 *       After a shadow entry lost rights or changed frame the domain's vCPUs are flushed ({@link
 *       FlushSwitches#shadowFlush()}).
 *   <li>The abstract "guest tables" of scripts and tests are a thin layer on top ({@link
 *       ShadowTables}).
 * </ul>
 *
 * <p>Every shadow L1 entry that maps MMIO is in the host's reverse map as {@link
 * MappingKind#SHADOW_L1}, "where" being the shadow L1 table's machine frame. {@link Host} delegates
 * here; everything runs under the domain's monitor (Xen's paging lock), the fault path without
 * allocating.
 */
final class ShadowPaging {
  /** {@code rederive}'s extra bit: an L1 entry lost rights or changed frame. */
  private static final int LOST = 1 << 8;

  /** The emulator's "discard this write" (Xen's {@code READONLY_GFN}); no #PF encodes as this. */
  private static final long DISCARD = Long.MIN_VALUE;

  private static final long PS = 1L << 7;

  private final Host host;

  /** The pages of the pools made from now on (tests make them small). */
  int poolPages = ShadowDomain.POOL_PAGES;

  ShadowPaging(Host host) {
    this.host = host;
  }

  // ---- set-up -------------------------------------------------------------------------------------

  /** Gives shadowed domain {@code d} its shadow pool (from Xen's heap) and its walker. */
  void attach(GuestDomain d, XenHeap heap) {
    long first = heap.allocate(poolPages);
    ShadowDomain sd = new ShadowDomain(d, this, host.machine(), first, poolPages);
    GuestWalkDomain facts =
        new GuestWalkDomain(Host.MAX_PHYS_ADDR, false, false, true, true, true);
    P2mLookup lookup = gfn -> tableFrame(d, sd, gfn);
    sd.walker = new GuestWalker(host.machine(), lookup, facts, host.policy().guestWalk());
    d.setShadow(sd);
  }

  /**
   * Makes {@code g}, a new vCPU of a shadowed domain, run on shadows: its fault handler and guest
   * registers are a {@link ShadowVcpu}, and the processor starts on the blank top-level table.
   */
  void attachVcpu(GuestVcpu g) {
    GuestDomain d = g.domain();
    ShadowVcpu s = new ShadowVcpu(this);
    long blank;
    synchronized (d) {
      blank = d.shadow().blankFrame();
      s.topShadow = blank;
    }
    g.setFaultHandler(s);
    g.setGuestControl(s);
    g.cpu().loadState(ShadowVcpu.HW_CR0, blank << Pte.PAGE_SHIFT, ShadowVcpu.HW_CR4,
        ShadowVcpu.HW_EFER);
  }

  // ---- the guest's CR3: sh_update_cr3 -------------------------------------------------------------

  /** See {@link GuestVcpu#loadGuestState}. */
  long loadGuestState(ShadowVcpu s, GuestVcpu v, long cr0, long cr3, long cr4, long efer) {
    GuestDomain d = v.domain();
    Host.requireAlive(d);
    GuestRegisters regs = new GuestRegisters(cr0, cr3, cr4, efer, 0, 0, 0);
    boolean fourLevel = (cr0 & ControlRegisters.CR0_PG) != 0
        && (cr4 & ControlRegisters.CR4_PAE) != 0 && (efer & ControlRegisters.EFER_LMA) != 0
        && (cr4 & ControlRegisters.CR4_LA57) == 0;
    ShadowDomain sd = d.shadow();
    int error = 0;
    boolean flush = false;
    long processorTop;
    synchronized (d) {
      s.regs = regs;
      s.topGmfn = -1;
      s.topShadow = sd.blankFrame();
      if (fourLevel) {
        long top = tableFrame(d, sd, (cr3 & Pte.MFN_FIELD_MASK) >>> Pte.PAGE_SHIFT);
        if (top < 0) {
          error = Errno.EINVAL;
        } else {
          sd.guestNx = regs.nxeEnabled();
          if (!sd.isPageTable(top)) {
            flush = removeWriteAccess(d, sd, top);
          }
          int page = sd.lookup(top, ShadowDomain.L4);
          if (page < 0) {
            page = sd.make(top, ShadowDomain.L4);
          }
          if (page < 0) {
            error = Errno.ENOMEM;
          } else {
            s.topGmfn = top;
            s.topShadow = sd.frame(page);
          }
        }
      }
      processorTop = s.topShadow;
    }
    if (flush) {
      flushDomain(d, sd);
    }
    long r = v.cpu().loadState(ShadowVcpu.HW_CR0, processorTop << Pte.PAGE_SHIFT,
        ShadowVcpu.HW_CR4, ShadowVcpu.HW_EFER);
    if (error != 0) {
      // hvm_set_cr3's "bad_cr3" crashes an HVM guest; a PV guest's new_guest_cr3 fails; a full pool
      // crashes either.
      if (error == Errno.ENOMEM || d.hasP2m()) {
        host.crashDomain(d);
      }
      return -error;
    }
    return r;
  }

  // ---- the page fault: sh_page_fault --------------------------------------------------------------

  /** See {@link GuestVcpu.FaultHandler#handle}. */
  long pageFault(ShadowVcpu s, GuestVcpu v, long fault, long la, int access, int size, long value) {
    if (Fault.kindCode(fault) != FaultKind.PAGE_FAULT.code()) {
      return fault;
    }
    GuestDomain d = v.domain();
    ShadowDomain sd = d.shadow();
    long result;
    boolean crash;
    s.forwardGpa = -1;
    synchronized (d) {
      if (d.crashed() || s.topGmfn < 0) {
        return fault; // a dead domain, or a guest not in 4-level paging: nothing to shadow
      }
      result = fix(s, v, d, sd, fault, la, access, size, value);
      crash = sd.poolFull;
    }
    if (crash) {
      host.crashDomain(d);
      return fault;
    }
    long gpa = s.forwardGpa;
    if (gpa >= 0) {
      // The device model runs on the vCPU's thread outside the host's locks (DeviceModel).
      DeviceModel dm = host.deviceModel();
      if (s.forwardAlso) {
        HapFaultHandler.forward(v, dm, gpa, size, value, v.instruction(), fault);
      } else {
        result = HapFaultHandler.forward(v, dm, gpa, size, value, v.instruction(), fault);
      }
    }
    if (d.hasMsixtbl()) {
      Msixtbl.writeCompletion(host, v); // hvm_do_resume: vcpu_ioreq_handle_completion
    }
    return result;
  }

  private long fix(ShadowVcpu s, GuestVcpu v, GuestDomain d, ShadowDomain sd, long fault, long la,
      int access, int size, long value) {
    sd.faults++;
    long va = v.cpu().cr2();
    int ec = (int) (Fault.code(fault) & 0xFFFF);
    GuestWalk gw = s.walk;
    if (!sd.walker.guestWalkTables(s.regs, va, gw, ec, s.topGmfn, 0)) {
      sd.guestFaults++;
      return Fault.of(FaultKind.PAGE_FAULT, guestErrorCode(sd, gw, ec));
    }
    if (!target(d, sd, gw.gfn())) {
      long dm = deviceModelAccess(s, v, d, sd, gw.gfn(), va, access, size, value, fault);
      if (dm != NOT_DEVICE_MODEL) {
        return dm;
      }
      // A translation or fetch of a gfn with no p2m entry: Xen's "BAD gfn" bail-out propagates
      // the fault, with P as the guest's tables have it.
      sd.guestFaults++;
      return Fault.of(FaultKind.PAGE_FAULT, ec | Pfec.PAGE_PRESENT);
    }
    long mfn = sd.targetMfn;
    int type = sd.targetType;
    int leaf = gw.leafLevel();
    // gw_remove_write_accesses: the guest tables about to be shadowed lose their writable mappings.
    boolean flush = removeWriteAccessIfNew(d, sd, gw.mfn(3));
    flush |= removeWriteAccessIfNew(d, sd, gw.mfn(2));
    if (leaf == 1) {
      flush |= removeWriteAccessIfNew(d, sd, gw.mfn(1));
    }
    if (flush) {
      flushDomain(d, sd);
    }
    // shadow_get_and_create_l1e: from the top-level shadow down, entries where they are missing.
    boolean nx = s.regs.nxeEnabled();
    boolean write = (ec & Pfec.WRITE_ACCESS) != 0;
    long sl3 = ensure(d, sd, s.topShadow, 4, va, gw.entry(4), gw.mfn(3), ShadowDomain.L3, nx,
        false);
    long sl2 = sl3 < 0 ? -1
        : ensure(d, sd, sl3, 3, va, gw.entry(3), gw.mfn(2), ShadowDomain.L2, nx, false);
    long sl1;
    if (sl2 < 0) {
      sl1 = -1;
    } else if (leaf == 2) {
      long key = (gw.entry(2) & Pte.MFN_FIELD_MASK) >>> Pte.PAGE_SHIFT;
      sl1 = ensure(d, sd, sl2, 2, va, gw.entry(2), key, ShadowDomain.FL1, nx, write);
      int page = sl1 < 0 ? -1 : sd.pageOf(sl1);
      if (page >= 0 && sd.fl1Flags[page] == 0) {
        sd.fl1Base[page] = gw.gfn() - index(va, 1);
        sd.fl1Flags[page] = gw.l1e() & ~Pte.MFN_FIELD_MASK;
      }
    } else {
      sl1 = ensure(d, sd, sl2, 2, va, gw.entry(2), gw.mfn(1), ShadowDomain.L1, nx, false);
    }
    if (sl1 < 0) {
      return fault; // the pool is full: the domain crashes
    }
    long sl1e = ShadowPropagate.l1e(p2mSwitches(), gw.l1e(), type, mfn, host.mmioRoRanges(), nx,
        sd.isPageTable(mfn));
    if ((setL1(d, sd, sl1, index(va, 1), sl1e) & ShadowL1e.SHADOW_SET_CHANGED) != 0) {
      sd.entriesBuilt[1]++;
    }
    if (write) {
      if (sd.isPageTable(mfn)) {
        return size == 0 ? fault : emulateWrite(s, d, sd, la, access, size, value);
      }
      if (P2mTypes.isReadOnly(p2mSwitches().era(), type)) {
        if (size == 0) {
          return fault;
        }
        sd.discardedWrites++;
        return GuestVcpu.FaultHandler.EMULATED; // emulate_readonly: the store is skipped
      }
      if ((ec & (Pfec.USER_MODE | Pfec.INSN_FETCH)) == 0 && !s.regs.wpEnabled()
          && isRam(d, type) && !shadowAllows(sd, s.topShadow, va, ec)) {
        // The processor always runs with CR0.WP; a guest that cleared it writes through read-only
        // entries in supervisor mode, which Xen emulates (on the fault whose code is W|P: the one
        // after the shadow entry is built, so emulating now comes to the same).
        return size == 0 ? fault : emulateWrite(s, d, sd, la, access, size, value);
      }
    }
    if (!shadowAllows(sd, s.topShadow, va, ec)) {
      // Xen reports the fault fixed and the processor faults again on the same entry for ever (a
      // write to read-only MMIO, an entry the validator refused): the model stops at once, with the
      // fault the processor raises on the entries as they now are.
      sd.unfixable++;
      if (write && d.hasP2m() && type == P2mType.MMIO_DIRECT.code(p2mSwitches().era())
          && host.mmioRoRanges().containsSingleton(mfn)) {
        v.recordAccess(ShadowRoAccess.access(host.policy().roMmio(), false, v.instruction(), null,
            false)); // SHADOW_REFAULT: Xen's livelock, ended here
      }
      int code = (ec & ~Pfec.PAGE_PRESENT)
          | (shadowAllows(sd, s.topShadow, va, 0) ? Pfec.PAGE_PRESENT : 0);
      return Fault.of(FaultKind.PAGE_FAULT, code);
    }
    return GuestVcpu.FaultHandler.RETRY;
  }

  /** Whether the shadows now let the processor make the access {@code ec} describes at {@code va}. */
  private static boolean shadowAllows(ShadowDomain sd, long top, long va, int ec) {
    long table = top;
    for (int level = 4; level >= 1; level--) {
      long e = sd.machine.read((table << Pte.PAGE_SHIFT) + 8L * index(va, level), 8);
      if (!Pte.isPresent(e)
          || ((ec & Pfec.WRITE_ACCESS) != 0 && (e & PteFlags.PAGE_RW) == 0)
          || ((ec & Pfec.USER_MODE) != 0 && (e & PteFlags.PAGE_USER) == 0)
          || ((ec & Pfec.INSN_FETCH) != 0 && e < 0)) {
        return false;
      }
      table = Pte.getMfn(e);
    }
    return true;
  }

  /**
   * One level of {@code shadow_get_and_create_l*e}: the entry for {@code va} in shadow table {@code
   * table} (of {@code level}) is kept if present (the shadows follow every guest change), else the
   * shadow of the next level is found or made and the entry propagated from the guest's. Xen
   * re-propagates a present L2 entry of a guest superpage on a write that it keeps read-only (the
   * guest's D bit was clear). Returns the next level's shadow frame, or -1 when the pool is full.
   */
  private long ensure(GuestDomain d, ShadowDomain sd, long table, int level, long va,
      long guestEntry, long key, byte nextType, boolean nx, boolean fixDirty) {
    long address = (table << Pte.PAGE_SHIFT) + 8L * index(va, level);
    long old = sd.machine.read(address, 8);
    if (Pte.isPresent(old) && !(fixDirty && (old & PteFlags.PAGE_RW) == 0)) {
      return Pte.getMfn(old);
    }
    int page = sd.lookup(key, nextType);
    if (page < 0) {
      page = sd.make(key, nextType);
      if (page < 0) {
        sd.poolFull = true;
        return -1;
      }
    }
    long entry = ShadowPropagate.upper(level, guestEntry, sd.frame(page), nx);
    int flags = setUpper(sd, address, old, entry);
    if ((flags & ShadowL1e.SHADOW_SET_CHANGED) != 0) {
      sd.entriesBuilt[level]++;
    }
    if ((flags & ShadowL1e.SHADOW_SET_FLUSH) != 0) {
      flushDomain(d, sd);
    }
    return sd.frame(page);
  }

  /** The #PF error code the guest sees when its own walk fails. */
  private static int guestErrorCode(ShadowDomain sd, GuestWalk gw, int ec) {
    if (sd.walker.switches().convention() == GuestWalkSwitches.Convention.PFEC) {
      return gw.pfec() & Pfec.ARCH_MASK; // today: regs->error_code = gw.pfec & PFEC_arch_mask
    }
    // The seed: the processor's code, with P as the walk found the guest's entries.
    return (ec & ~Pfec.PAGE_PRESENT)
        | ((gw.missingFlags() & MissingFlags.PAGE_PRESENT) == 0 ? Pfec.PAGE_PRESENT : 0);
  }

  // ---- emulated stores: sh_x86_emulate_write and validation --------------------------------------

  /**
   * Performs the guest's store of {@code size} bytes at {@code la} as Xen's emulator does: each page
   * through the guest's walk (a failing walk is the guest's #PF), then the bytes, then the
   * re-derivation of every shadow entry that depends on them.
   */
  private long emulateWrite(ShadowVcpu s, GuestDomain d, ShadowDomain sd, long la, int access,
      int size, long value) {
    int user = (access & Access.USER) != 0 ? Pfec.USER_MODE : 0;
    int first = Math.min(size, 0x1000 - ((int) la & 0xFFF));
    long ma1 = emulationTarget(s, d, sd, la, user);
    long ma2 = first == size || ma1 < 0 ? -1 : emulationTarget(s, d, sd, (la | 0xFFF) + 1, user);
    if (ma1 == DISCARD || ma2 == DISCARD) {
      sd.discardedWrites++;
      return GuestVcpu.FaultHandler.EMULATED;
    }
    if (ma1 < 0) {
      return ma1;
    }
    if (first != size && ma2 < 0) {
      return ma2;
    }
    PhysicalMemory machine = sd.machine;
    if (first == size) {
      machine.write(ma1, size, value);
    } else {
      for (int i = 0; i < size; i++) {
        machine.write(i < first ? ma1 + i : ma2 + (i - first), 1, value >>> (8 * i));
      }
    }
    sd.emulatedWrites++;
    int flags = validate(d, sd, ma1 >>> Pte.PAGE_SHIFT, (int) ma1 & 0xFFF, first);
    if (first != size) {
      flags |= validate(d, sd, ma2 >>> Pte.PAGE_SHIFT, 0, size - first);
    }
    if ((flags & ShadowL1e.SHADOW_SET_FLUSH) != 0) {
      flushDomain(d, sd);
    }
    return GuestVcpu.FaultHandler.EMULATED;
  }

  /** {@code emulate_map_dest}: the machine address of a store, a #PF, or {@link #DISCARD}. */
  private long emulationTarget(ShadowVcpu s, GuestDomain d, ShadowDomain sd, long addr, int user) {
    GuestWalk gw = s.emulationWalk;
    int request = Pfec.WRITE_ACCESS | user;
    if (!sd.walker.guestWalkTables(s.regs, addr, gw, request, s.topGmfn, 0)) {
      sd.guestFaults++;
      return Fault.of(FaultKind.PAGE_FAULT, guestErrorCode(sd, gw, request));
    }
    if (!target(d, sd, gw.gfn())) {
      sd.guestFaults++;
      return Fault.of(FaultKind.PAGE_FAULT, request | Pfec.PAGE_PRESENT);
    }
    if (P2mTypes.isReadOnly(p2mSwitches().era(), sd.targetType) || !isRam(d, sd.targetType)
        || (!d.hasP2m() && tableFrame(d, sd, sd.targetMfn) != sd.targetMfn)) { // get_page(, d)
      return DISCARD;
    }
    return (sd.targetMfn << Pte.PAGE_SHIFT) | (addr & 0xFFF);
  }

  /**
   * Xen's {@code sh_validate_guest_entry}: {@code bytes} bytes at {@code offset} of guest frame
   * {@code gmfn} changed; every shadow of the frame re-derives the entries they cover. Returns the
   * shadow_set flags ORed ({@link ShadowL1e#SHADOW_SET_FLUSH} when an upper-level entry needs a
   * flush), with {@link #LOST} when an L1 entry lost rights.
   */
  private int validate(GuestDomain d, ShadowDomain sd, long gmfn, int offset, int bytes) {
    if (bytes <= 0 || !sd.isPageTable(gmfn)) {
      return 0;
    }
    int first = offset >>> 3;
    int last = (offset + bytes - 1) >>> 3;
    int flags = 0;
    for (byte type = ShadowDomain.L1; type <= ShadowDomain.L4; type++) {
      int page = sd.lookup(gmfn, type);
      if (page < 0) {
        continue;
      }
      for (int slot = first; slot <= last; slot++) {
        sd.validations++;
        flags |= rederive(d, sd, page, slot, false);
      }
    }
    return flags;
  }

  /**
   * Re-derives entry {@code slot} of shadow page {@code page} from the guest's entry ({@code
   * validate_gl*e}, or the fabricated entry of a superpage's L1 shadow) and installs it. With {@code
   * revalidate}, an L1 entry that re-derives to the value already installed is dropped first, so
   * that it meets the validator again ({@code shadow_set_l1e} does nothing for an unchanged entry).
   */
  private int rederive(GuestDomain d, ShadowDomain sd, int page, int slot, boolean revalidate) {
    byte type = sd.type[page];
    long address = (sd.frame(page) << Pte.PAGE_SHIFT) + 8L * slot;
    long old = sd.machine.read(address, 8);
    if (type == ShadowDomain.L1 || type == ShadowDomain.FL1) {
      long guest = guestL1e(sd, page, slot);
      long entry = l1eFor(d, sd, guest);
      if (revalidate && entry == old && Pte.isPresent(old)) {
        setL1(d, sd, sd.frame(page), slot, 0);
      }
      int flags = setL1(d, sd, sd.frame(page), slot, entry);
      long now = sd.machine.read(address, 8);
      return flags | (ShadowPropagate.lostRights(old, now) ? LOST : 0);
    }
    long guest = sd.machine.read((sd.backer[page] << Pte.PAGE_SHIFT) + 8L * slot, 8);
    long next = -1;
    if (Pte.isPresent(guest)) {
      long gfn = (guest & Pte.MFN_FIELD_MASK) >>> Pte.PAGE_SHIFT;
      int nextPage;
      if (type == ShadowDomain.L2 && (guest & PS) != 0) {
        nextPage = sd.lookup(gfn, ShadowDomain.FL1);
      } else {
        long table = tableFrame(d, sd, gfn);
        nextPage = table < 0 ? -1 : sd.lookup(table, (byte) (type - 1));
      }
      next = nextPage < 0 ? -1 : sd.frame(nextPage);
    }
    return setUpper(sd, address, old, ShadowPropagate.upper(type, guest, next, sd.guestNx));
  }

  /** The guest's L1 entry behind slot {@code slot} of an L1 or FL1 shadow page. */
  private static long guestL1e(ShadowDomain sd, int page, int slot) {
    if (sd.type[page] == ShadowDomain.FL1) {
      return ((sd.fl1Base[page] + slot) << Pte.PAGE_SHIFT) | sd.fl1Flags[page];
    }
    return sd.machine.read((sd.backer[page] << Pte.PAGE_SHIFT) + 8L * slot, 8);
  }

  /** {@code l1e_propagate_from_guest} with {@code ft_prefetch}: 0 when the frame has no p2m entry. */
  private long l1eFor(GuestDomain d, ShadowDomain sd, long guest) {
    if (!Pte.isPresent(guest) || !target(d, sd, Pte.getMfn(guest))) {
      return 0;
    }
    return ShadowPropagate.l1e(p2mSwitches(), guest, sd.targetType, sd.targetMfn,
        host.mmioRoRanges(), sd.guestNx, sd.isPageTable(sd.targetMfn));
  }

  // ---- installing entries --------------------------------------------------------------------------

  /**
   * {@code shadow_set_l1e} on the shadow L1 table at machine frame {@code table}: the PV validator
   * judges the new entry and the old one's references are dropped ({@link ShadowL1e#shadowSetL1e});
   * the reverse map follows MMIO mappings.
   */
  private int setL1(GuestDomain d, ShadowDomain sd, long table, int slot, long entry) {
    long address = (table << Pte.PAGE_SHIFT) + 8L * slot;
    long old = sd.machine.read(address, 8);
    long[] t = sd.scratch;
    t[slot] = old;
    int flags = ShadowL1e.shadowSetL1e(p2mSwitches(), host.pvMmu().validator(), d.mmuView(), t,
        slot, entry);
    long now = t[slot];
    if (now != old) {
      sd.machine.write(address, 8, now);
      FrameTable frames = host.frames();
      boolean oldIo = Pte.isPresent(old) && frames.isIomemPage(Pte.getMfn(old));
      boolean newIo = Pte.isPresent(now) && frames.isIomemPage(Pte.getMfn(now));
      if (oldIo || newIo) {
        host.rmap().replace(oldIo ? Pte.getMfn(old) : -1, newIo ? Pte.getMfn(now) : -1, d.id(),
            MappingKind.SHADOW_L1, table, slot);
      }
    }
    if (sd.watchFrame >= 0 && slot == sd.watchSlot) {
      int page = sd.pageOf(table);
      if (page >= 0 && sd.type[page] == ShadowDomain.L1 && sd.backer[page] == sd.watchFrame) {
        sd.watchFlags |= flags;
      }
    }
    return flags;
  }

  /** {@code shadow_set_l2e}/{@code l3e}/{@code l4e} at {@code address}, whose entry is {@code old}. */
  private static int setUpper(ShadowDomain sd, long address, long old, long entry) {
    int flags = ShadowPropagate.setUpperFlags(old, entry);
    if (flags != 0) {
      sd.machine.write(address, 8, entry);
    }
    return flags;
  }

  /**
   * Xen's {@code sh_remove_write_access} for a frame becoming a guest page table: every shadow L1
   * entry mapping it writable loses R/W. Returns whether one did (the caller flushes).
   */
  private boolean removeWriteAccess(GuestDomain d, ShadowDomain sd, long gmfn) {
    FrameTable frames = host.frames();
    if (!frames.mfnValid(gmfn) || frames.typeCount(gmfn) == 0
        || frames.pageType(gmfn) != PageType.WRITABLE_PAGE) {
      return false; // Xen's shortcut: no writable mapping holds a writable type reference
    }
    boolean any = false;
    for (int page = 1; page < sd.pagesUsedBound(); page++) {
      byte type = sd.type[page];
      if (type != ShadowDomain.L1 && type != ShadowDomain.FL1) {
        continue;
      }
      long base = sd.frame(page) << Pte.PAGE_SHIFT;
      for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
        long e = sd.machine.read(base + 8L * slot, 8);
        if (Pte.isPresentWritable(e) && Pte.getMfn(e) == gmfn) {
          setL1(d, sd, sd.frame(page), slot, Pte.removeFlags(e, PteFlags.PAGE_RW));
          sd.writeAccessRemovals++;
          any = true;
        }
      }
    }
    return any;
  }

  private boolean removeWriteAccessIfNew(GuestDomain d, ShadowDomain sd, long gmfn) {
    return gmfn >= 0 && !sd.isPageTable(gmfn) && removeWriteAccess(d, sd, gmfn);
  }

  /**
   * Frames became read-only (the hardened revocation): a vCPU of {@code d} may still cache a
   * writable translation from a shadow entry the guest's own store has replaced since (Xen flushes
   * no guest L1 change; the guest must), which no reverse-map record names any more. Flushes the
   * domain's vCPUs as the shadow code does, under {@link FlushSwitches#shadowFlush()}.
   */
  void flushAfterProtection(GuestDomain d) {
    ShadowDomain sd = d.shadow();
    if (sd != null) {
      flushDomain(d, sd);
    }
  }

  /**
   * Xen's {@code flush_tlb_mask(d->dirty_cpumask)} as the shadow code issues it, under {@link
   * FlushSwitches#shadowFlush()}: every vCPU of the domain drops every cached translation.
   */
  private void flushDomain(GuestDomain d, ShadowDomain sd) {
    if (!host.policy().flushes().shadowFlush()) {
      return;
    }
    sd.flushes++;
    for (GuestVcpu g : d.vcpuArray()) {
      g.cpu().flushAll();
    }
  }

  // ---- the host's changes ---------------------------------------------------------------------------

  /**
   * The hardened revocation of one shadow entry the reverse map lists for a frame that became
   * read-only: the entry is re-derived through the validator (dropped first if unchanged), then the
   * domain's vCPUs are flushed.
   *
   * @param d the domain
   * @param mfn the frame the record is for
   * @param table the shadow L1 table's machine frame
   * @param slot the entry
   */
  void revoke(GuestDomain d, long mfn, long table, int slot) {
    ShadowDomain sd = d.shadow();
    boolean flush;
    synchronized (d) {
      int page = sd == null ? -1 : sd.pageOf(table);
      if (page < 0 || (sd.type[page] != ShadowDomain.L1 && sd.type[page] != ShadowDomain.FL1)) {
        host.rmap().remove(mfn, d.id(), MappingKind.SHADOW_L1, table, slot); // stale record
        return;
      }
      rederive(d, sd, page, slot, true);
      flush = true;
    }
    if (flush) {
      flushDomain(d, sd);
    }
  }

  /** Re-derives every shadow L1 entry of {@code d} (a global p2m re-type, the seed's re-derivation). */
  void resyncAllShadows(GuestDomain d) {
    resync(d, 0, -1, true);
  }

  /**
   * Re-derives the shadow entries of {@code d} whose guest entries point at guest frames {@code
   * [gfn, gfn + n)}: L1 entries (their p2m entry changed) and upper-level entries (a guest table
   * moved), as Xen's {@code sh_unshadow_for_p2m_change} removes them.
   */
  void resyncShadowsOf(GuestDomain d, long gfn, long n) {
    resync(d, gfn, n, false);
  }

  private void resync(GuestDomain d, long gfn, long n, boolean all) {
    ShadowDomain sd = d.shadow();
    if (sd == null) {
      return;
    }
    int flags = 0;
    synchronized (d) {
      for (int page = 1; page < sd.pagesUsedBound(); page++) {
        byte type = sd.type[page];
        if (type == ShadowDomain.FREE || type == ShadowDomain.BLANK || (all
            && type != ShadowDomain.L1 && type != ShadowDomain.FL1)) {
          continue;
        }
        for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
          long guest = type == ShadowDomain.L1 || type == ShadowDomain.FL1 ? guestL1e(sd, page, slot)
              : sd.machine.read((sd.backer[page] << Pte.PAGE_SHIFT) + 8L * slot, 8);
          if (!Pte.isPresent(guest) || (type == ShadowDomain.L2 && (guest & PS) != 0)) {
            continue;
          }
          long target = (guest & Pte.MFN_FIELD_MASK) >>> Pte.PAGE_SHIFT;
          if (all || (target >= gfn && target - gfn < n)) {
            flags |= rederive(d, sd, page, slot, false);
          }
        }
      }
    }
    if ((flags & (LOST | ShadowL1e.SHADOW_SET_FLUSH)) != 0) {
      flushDomain(d, sd);
    }
  }

  /**
   * A loader or device model wrote {@code size} bytes of guest memory at machine address {@code ma}
   * ({@link Host#writeGuestPhysical}): if the frame is a shadowed guest table, the shadows follow, and
   * since the change is not the guest's own, lost rights are flushed.
   */
  void guestPhysicalWritten(GuestDomain d, long ma, int size) {
    ShadowDomain sd = d.shadow();
    if (sd == null) {
      return;
    }
    int flags;
    synchronized (d) {
      flags = validate(d, sd, ma >>> Pte.PAGE_SHIFT, (int) ma & 0xFFF, size);
    }
    if ((flags & (LOST | ShadowL1e.SHADOW_SET_FLUSH)) != 0) {
      flushDomain(d, sd);
    }
  }

  /**
   * {@code domain_crash}'s shadow teardown: every shadow L1 entry is emptied through {@code
   * shadow_set_l1e} (its references dropped, its reverse-map record removed), every shadow freed, and
   * the vCPUs put back on the blank table. The caller flushes.
   */
  void teardown(GuestDomain d) {
    ShadowDomain sd = d.shadow();
    if (sd == null) {
      return;
    }
    synchronized (d) {
      for (int page = 1; page < sd.pagesUsedBound(); page++) {
        byte type = sd.type[page];
        if (type != ShadowDomain.L1 && type != ShadowDomain.FL1) {
          continue;
        }
        for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
          if (sd.machine.read((sd.frame(page) << Pte.PAGE_SHIFT) + 8L * slot, 8) != 0) {
            setL1(d, sd, sd.frame(page), slot, 0);
          }
        }
      }
      sd.reset();
      for (GuestVcpu g : d.vcpuArray()) {
        if (g.faultHandler() instanceof ShadowVcpu s) {
          s.topGmfn = -1;
          s.topShadow = sd.blankFrame();
        }
      }
    }
    for (GuestVcpu g : d.vcpuArray()) {
      g.cpu().loadState(ShadowVcpu.HW_CR0, sd.blankFrame() << Pte.PAGE_SHIFT, ShadowVcpu.HW_CR4,
          ShadowVcpu.HW_EFER);
    }
  }

  /** Receives shadow L1 entries from {@link #forEachShadowL1e}. */
  @FunctionalInterface
  interface ShadowL1eVisitor {
    /** One non-zero entry of a shadow L1 table (or of the L1 shadow of a guest superpage). */
    void visit(long table, int slot, long sl1e);
  }

  /**
   * Every non-zero shadow L1 entry of {@code d}, table by table (for the invariants: writable
   * mappings, and the references the entries hold).
   */
  void forEachShadowL1e(GuestDomain d, ShadowL1eVisitor visitor) {
    ShadowDomain sd = d.shadow();
    synchronized (d) {
      for (int page = 1; page < sd.pagesUsedBound(); page++) {
        byte type = sd.type[page];
        if (type != ShadowDomain.L1 && type != ShadowDomain.FL1) {
          continue;
        }
        long table = sd.frame(page);
        for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
          long e = sd.machine.read((table << Pte.PAGE_SHIFT) + 8L * slot, 8);
          if (e != 0) {
            visitor.visit(table, slot, e);
          }
        }
      }
    }
  }

  // ---- the abstract guest tables of scripts: a thin layer -------------------------------------------

  /** See {@link Host#newGuestTable}. */
  int newGuestTable(GuestDomain d) {
    if (!d.mode().shadowed()) {
      throw new IllegalArgumentException(d + " is not shadowed");
    }
    Host.requireAlive(d);
    return tables(d).newTable();
  }

  /** See {@link Host#shadowWrite}. */
  int shadowWrite(GuestDomain d, int table, int slot, long guestEntry) {
    Host.requireAlive(d);
    if (slot < 0 || slot >= Pte.ENTRIES_PER_TABLE) {
      throw new IllegalArgumentException("slot: " + slot + " (expected: 0 to 511)");
    }
    ShadowTables t = existingTables(d, table);
    ShadowDomain sd = d.shadow();
    synchronized (d) {
      sd.watchFrame = t.frame(table);
      sd.watchSlot = slot;
      sd.watchFlags = 0;
    }
    try {
      t.write(table, slot, guestEntry);
    } finally {
      synchronized (d) {
        sd.watchFrame = -1;
      }
    }
    synchronized (d) {
      return sd.watchFlags;
    }
  }

  /** The layer's table count of {@code d} (0 before the first table). */
  int guestTableCount(GuestDomain d) {
    ShadowDomain sd = d.shadow();
    return sd == null || sd.tables == null ? 0 : sd.tables.count();
  }

  /** The guest frame of layer table {@code table}. */
  long guestTableFrame(GuestDomain d, int table) {
    return existingTables(d, table).frame(table);
  }

  /** The guest's entry {@code slot} of layer table {@code table}. */
  long guestEntry(GuestDomain d, int table, int slot) {
    long frame = existingTables(d, table).frame(table);
    return host.machine().read((frame << Pte.PAGE_SHIFT) + 8L * checkSlot(slot), 8);
  }

  /** The shadow of entry {@code slot} of layer table {@code table}, 0 while there is none. */
  long shadowEntry(GuestDomain d, int table, int slot) {
    long frame = existingTables(d, table).frame(table);
    ShadowDomain sd = d.shadow();
    synchronized (d) {
      int page = sd.lookup(frame, ShadowDomain.L1);
      return page < 0 ? 0
          : sd.machine.read((sd.frame(page) << Pte.PAGE_SHIFT) + 8L * checkSlot(slot), 8);
    }
  }

  private static int checkSlot(int slot) {
    if (slot < 0 || slot >= Pte.ENTRIES_PER_TABLE) {
      throw new IllegalArgumentException("slot: " + slot + " (expected: 0 to 511)");
    }
    return slot;
  }

  private ShadowTables existingTables(GuestDomain d, int table) {
    int n = guestTableCount(d);
    if (table < 0 || table >= n) {
      throw new IllegalArgumentException("guest table " + table + " of " + d + " (expected: 0 to "
          + (n - 1) + ")");
    }
    return d.shadow().tables;
  }

  private ShadowTables tables(GuestDomain d) {
    ShadowDomain sd = d.shadow();
    if (sd.tables == null) {
      sd.tables = new ShadowTables(host, this, d);
    }
    return sd.tables;
  }

  /**
   * The highest RAM frame of {@code d} (for HVM, one its p2m maps to itself as RAM) that is not in
   * {@code used}, for the layer's guest page tables; -1 if there is none.
   */
  long freeRamFrame(GuestDomain d, long[] used, int usedCount) {
    FrameTable frames = host.frames();
    ShadowDomain sd = d.shadow();
    synchronized (d) {
      search:
      for (long mfn = frames.frameCount() - 1; mfn >= 0; mfn--) {
        if (frames.owner(mfn) != d.id()) {
          continue;
        }
        for (int i = 0; i < usedCount; i++) {
          if (used[i] == mfn) {
            continue search;
          }
        }
        if (tableFrame(d, sd, mfn) == mfn) {
          return mfn;
        }
      }
    }
    return -1;
  }

  // ---- lookups ------------------------------------------------------------------------------------

  /**
   * The walker's {@code p2m_get_page_from_gfn}: the machine frame of the guest table at {@code gfn}
   * (HVM: a RAM type in the p2m; PV: a frame the domain owns), or a {@link P2mLookup} outcome.
   */
  private long tableFrame(GuestDomain d, ShadowDomain sd, long gfn) {
    if (gfn < 0 || Long.compareUnsigned(gfn, host.machine().lastFrame()) > 0) {
      return P2mLookup.GFN_INVALID;
    }
    if (d.hasP2m()) {
      P2mEntry e = sd.walkCursor;
      if (gfn >= RadixP2m.GFN_LIMIT || !d.p2m().getEntry(gfn, e) || e.mfn() == P2mEntry.INVALID_MFN
          || !P2mTypes.isRam(p2mSwitches().era(), e.typeCode())) {
        return P2mLookup.NOT_RAM;
      }
      return e.mfn();
    }
    FrameTable frames = host.frames();
    return frames.mfnValid(gfn) && frames.owner(gfn) == d.id() ? gfn : P2mLookup.NOT_RAM;
  }

  /**
   * The frame and p2m type guest frame {@code gfn} maps to, into {@link ShadowDomain#targetMfn} and
   * {@link ShadowDomain#targetType}: through the p2m for HVM (false when it has no valid entry), the
   * frame itself with type {@code ram_rw} for a PV guest (every frame, as Xen's non-translated
   * lookup says).
   */
  private boolean target(GuestDomain d, ShadowDomain sd, long gfn) {
    if (d.hasP2m()) {
      P2mEntry e = sd.targetCursor;
      if (gfn < 0 || gfn >= RadixP2m.GFN_LIMIT || !d.p2m().getEntry(gfn, e)
          || e.mfn() == P2mEntry.INVALID_MFN) {
        return false;
      }
      sd.targetMfn = e.mfn();
      sd.targetType = e.typeCode();
      return true;
    }
    sd.targetMfn = gfn;
    sd.targetType = P2mType.RAM_RW.code(p2mSwitches().era());
    return true;
  }

  /** {@link #deviceModelAccess}'s answer when the frame is not the device model's. */
  private static final long NOT_DEVICE_MODEL = 3;

  /**
   * {@code sh_page_fault}'s {@code p2m_mmio_dm} branch: {@code handle_mmio_with_translation}, where
   * msixtbl takes its table's pages, the host's {@link DeviceModel} what is passed on or what it
   * claims, and the null handler the rest, as {@link ShadowRoAccess} decides. Xen's {@code get_gfn}
   * reports an unpopulated gfn as {@code p2m_mmio_dm} ({@code p2m_is_valid} holds for it), so
   * every unpopulated gfn below the p2m's limit is the device model's or the null handler's.
   * Returns {@link #NOT_DEVICE_MODEL} when the frame is not the device model's.
   */
  private long deviceModelAccess(ShadowVcpu sv, GuestVcpu v, GuestDomain d, ShadowDomain sd,
      long gfn, long va, int access, int size, long value, long fault) {
    if (!d.hasP2m() || gfn < 0 || gfn >= RadixP2m.GFN_LIMIT) {
      return NOT_DEVICE_MODEL;
    }
    long gpa = (gfn << Pte.PAGE_SHIFT) | (va & 0xFFF);
    P2mEntry e = sd.targetCursor;
    boolean mapped = d.p2m().getEntry(gfn, e);
    Msixtbl t = d.msixtbl(gpa);
    DeviceModel dm = host.deviceModel();
    boolean ioreq = size != 0 && dm.claims(d, gpa, size);
    boolean dmType = e.typeCode() == P2mType.MMIO_DM.code(p2mSwitches().era()) || t != null;
    if (!dmType && mapped) {
      return NOT_DEVICE_MODEL;
    }
    if (size == 0 || (access & Access.FETCH) != 0) {
      // Nothing to emulate: a translation or a fetch of an unpopulated gfn keeps the "BAD gfn"
      // #PF, one of a p2m_mmio_dm page the processor's fault.
      return dmType || ioreq ? fault : NOT_DEVICE_MODEL;
    }
    InstructionClass insn = v.instruction();
    RoMmioSwitches s = host.policy().roMmio();
    AccessReason handled = null;
    boolean msixtblWrite = false;
    if (t != null && insn != InstructionClass.UNEMULATED) {
      handled = insn == InstructionClass.LOAD ? t.read(s, host.machine(), gpa, size)
          : t.write(s, host.machine(), gpa, size, value);
      if (insn.writes()) {
        t.afterWrite(s, v, handled, gpa, size, value, insn == InstructionClass.MOVS);
        msixtblWrite = handled != AccessReason.MSIXTBL_NOT_CLAIMED && (gpa & (size - 1)) == 0;
      }
    }
    AccessReason r = ShadowRoAccess.access(s, true, insn, handled, ioreq);
    v.recordAccess(r);
    if (r.outcome() == AccessOutcome.FORWARDED_TO_DM) {
      sv.forwardGpa = gpa; // sent by pageFault, outside the domain's monitor
      sv.forwardAlso = false;
      return fault;
    }
    if (msixtblWrite && r == handled && s.msixtblDmSeesAllWrites() && ioreq) {
      sv.forwardGpa = gpa; // _msixtbl_write: the device model sees the handled write too
      sv.forwardAlso = true;
    }
    if (r == handled && insn == InstructionClass.LOAD) {
      return v.completeLoad(t.value);
    }
    return switch (r.outcome()) {
      case READ_ALL_ONES -> v.completeLoad(size == 8 ? -1L : (1L << (8 * size)) - 1);
      case DROPPED_SILENT, DROPPED_LOGGED, PERFORMED ->
          insn == InstructionClass.LOAD ? fault : GuestVcpu.FaultHandler.EMULATED;
      default -> fault; // SHADOW_HANDLE_MMIO_FAILED: the #PF goes to the guest
    };
  }

  private boolean isRam(GuestDomain d, int type) {
    return !d.hasP2m() || P2mTypes.isRam(p2mSwitches().era(), type);
  }

  private P2mSwitches p2mSwitches() {
    return host.policy().p2m();
  }

  /** The entry index of {@code va} at {@code level} of 4-level paging. */
  private static int index(long va, int level) {
    return (int) (va >>> (12 + 9 * (level - 1))) & 0x1FF;
  }
}
