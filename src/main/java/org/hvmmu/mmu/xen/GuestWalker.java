package org.hvmmu.mmu.xen;

import java.util.Objects;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.x86.Pte;

/**
 * Xen's software page walker, {@code guest_walk_tables} ({@code xen/arch/x86/mm/guest_walk.c}), for
 * 2-level, PAE and 4-level guests (Xen builds it once per {@code GUEST_PAGING_LEVELS}; there is no
 * 5-level instance), in the convention the {@link GuestWalkSwitches} choose: the seed's missing
 * flags or today's success plus error code.
 *
 * <p>The walker reads the guest's tables from machine memory through the domain's {@link P2mLookup},
 * as {@code map_domain_gfn} maps them, and sets accessed and dirty bits with {@link
 * PhysicalMemory#compareAndSet} after a successful walk only; a compare-and-set that finds the entry
 * changed is dropped silently and the walk still succeeds with what it read. It does not model
 * Xen's HVM emulation read cache ({@code hvmemul_read_cache}), the paging requests a paged-out gfn
 * triggers ({@code p2m_mem_paging_populate}), log-dirty marking (see {@link
 * GuestWalk#accessedDirtyWritten}), nor PV guests.
 *
 * <pre>{@code
 * GuestWalker walker = new GuestWalker(memory, P2mLookup.identity(memory),
 *     GuestWalkDomain.hapIntel(46), GuestWalkSwitches.HARDENED);
 * GuestWalk gw = new GuestWalk();
 * long topMfn = cr3 >>> 12;                                  // the top table's machine frame
 * boolean ok = walker.guestWalkTables(regs, va, gw, Pfec.USER_MODE, topMfn, 0);
 * }</pre>
 *
 * <p>Thread safety: a walker holds only its configuration and may be shared; each thread walks into
 * its own {@link GuestWalk}. Walking allocates nothing.
 */
public final class GuestWalker {
  /** Xen's {@code PADDR_MASK & PAGE_MASK}: the frame bits 51:12 of a PAE or 4-level entry. */
  static final long ADDRESS_MASK = 0x000F_FFFF_FFFF_F000L;

  /** Xen's {@code PADDR_MASK}: physical-address bits 51:0. */
  private static final long PADDR_MASK = (1L << 52) - 1;

  private static final long P = 1L;
  private static final long RW = 1L << 1;
  private static final long US = 1L << 2;
  private static final long PWT = 1L << 3;
  private static final long PCD = 1L << 4;
  private static final long A = 1L << 5;
  private static final long D = 1L << 6;
  /** Bit 7: PS in an upper-level entry, PAT in a 4-KByte entry (Xen's {@code _PAGE_PSE}/{@code _PAGE_PAT}). */
  private static final long PS = 1L << 7;
  private static final long G = 1L << 8;
  private static final long NX = 1L << 63;
  /** Bits 62:59: the protection key of a 4-level leaf ({@code _PAGE_PKEY_BITS} unpacked). */
  private static final long PKEY_BITS = 0xFL << 59;
  private static final int PKEY_SHIFT = 59;
  /** The flags of a fabricated L1 entry before the leaf's cache and key bits are imported. */
  private static final long FABRICATED_FLAGS = P | US | RW | A | D;

  /** Bits 62:52 of PAE entries are reserved ({@code GUEST_L1_PAGETABLE_RSVD} for 3 levels). */
  private static final long PAE_HIGH_RSVD = 0x7FF0_0000_0000_0000L;
  /** A PAE PDPTE's reserved flags and bits 63:52 ({@code GUEST_L3_PAGETABLE_RSVD} for 3 levels). */
  private static final long PAE_L3_RSVD = 0xFFF0_0000_0000_0000L | G | PS | D | A | US | RW;
  /** {@code SUPERPAGE_RSVD(21)}: a 2-MByte page's frame bits 20:13 (bit 12 is PSE-PAT). */
  private static final long SUPERPAGE_RSVD_2M = 0x1F_E000L;
  /** {@code SUPERPAGE_RSVD(22)}: a 4-MByte page's bits 21:13 without PSE-36. */
  private static final long SUPERPAGE_RSVD_4M = 0x3F_E000L;
  /** {@code SUPERPAGE_RSVD(30)}: a 1-GByte page's frame bits 29:13. */
  private static final long SUPERPAGE_RSVD_1G = 0x3FFF_E000L;
  /** {@code GUEST_L3_GFN_MASK} for 4 levels: the 4-KByte frames of a 1-GByte page. */
  private static final long L3_GFN_MASK = (1L << 18) - 1;

  private final PhysicalMemory machine;
  private final P2mLookup p2m;
  private final GuestWalkDomain domain;
  private final GuestWalkSwitches switches;
  /** The address part of {@code guest_rsvd_bits}: bits from MAXPHYADDR to 51. */
  private final long reservedAddressBits;

  /**
   * A walker for one domain.
   *
   * @param machine the machine memory the guest's tables are in
   * @param p2m the domain's guest-physical to machine lookup
   * @param domain the domain and host facts the walk reads
   * @param switches the seed's or today's behaviour
   */
  public GuestWalker(
      PhysicalMemory machine, P2mLookup p2m, GuestWalkDomain domain, GuestWalkSwitches switches) {
    this.machine = Objects.requireNonNull(machine, "machine");
    this.p2m = Objects.requireNonNull(p2m, "p2m");
    this.domain = Objects.requireNonNull(domain, "domain");
    this.switches = Objects.requireNonNull(switches, "switches");
    this.reservedAddressBits = PADDR_MASK & ~((1L << domain.maxPhysAddr()) - 1);
  }

  /**
   * The machine memory the walker reads.
   *
   * @return the memory
   */
  public PhysicalMemory machine() {
    return machine;
  }

  /**
   * The domain's lookup.
   *
   * @return the lookup
   */
  public P2mLookup p2m() {
    return p2m;
  }

  /**
   * The domain and host facts.
   *
   * @return the domain
   */
  public GuestWalkDomain domain() {
    return domain;
  }

  /**
   * The switches.
   *
   * @return the switches
   */
  public GuestWalkSwitches switches() {
    return switches;
  }

  /**
   * Xen's {@code guest_walk_tables}: walks the guest's tables for {@code va}, filling {@code gw}, and
   * sets the accessed and dirty bits a successful walk needs. The top-level table has been mapped by
   * the caller, as {@code hap_p2m_ga_to_gfn} maps it ({@link HapGuestWalk}); Xen's {@code top_gfn}
   * argument serves only its emulation cache and is not taken here.
   *
   * <p>Today's convention ({@link GuestWalkSwitches.Convention#PFEC}): {@code walk} is masked to
   * {@link Pfec#WALK_INPUT_MASK}; the result is true when a translation exists and its rights allow
   * the access, and {@link GuestWalk#pfec()} holds the error code either way. The seed's ({@link
   * GuestWalkSwitches.Convention#MISSING_FLAGS}): {@code walk} is the caller's error code (bits 4:1
   * select the {@link MissingFlags#mandatoryFlags mandatory flags}); Xen's return value is {@link
   * GuestWalk#missingFlags()}, and the result here is true when it is 0.
   *
   * <pre>{@code
   * // A user write: today, false and pfec P|W|U when the page is read-only;
   * // in the seed, missing flags RW (0x2).
   * walker.guestWalkTables(regs, va, gw, Pfec.USER_MODE | Pfec.WRITE_ACCESS, topMfn, 0);
   * }</pre>
   *
   * @param v the vCPU's registers; paging must be on (CR0.PG)
   * @param va the linear address (2-level and PAE guests use its low 32 bits)
   * @param gw the walk record to fill (reset first)
   * @param walk the requested access: {@link Pfec#WRITE_ACCESS}, {@link Pfec#USER_MODE}, {@link
   *     Pfec#INSN_FETCH}, {@link Pfec#IMPLICIT}
   * @param topMfn the machine frame of the top-level table (CR3's frame)
   * @param topOffset the top table's offset in its frame: CR3 bits 11:5 for a PAE guest (the PDPT
   *     is 32-byte aligned), 0 otherwise
   * @return whether the access is allowed (today) or nothing is missing (the seed)
   * @throws IllegalArgumentException if paging is off or 5-level, if {@code topMfn} is negative or
   *     {@code topOffset} is not as described, or (today's convention) if {@code walk} is implicit
   *     and also user-mode or a fetch (Xen asserts this)
   * @throws IllegalStateException if the lookup returns an undefined negative value
   */
  public boolean guestWalkTables(
      GuestRegisters v, long va, GuestWalk gw, int walk, long topMfn, int topOffset) {
    int levels = v.pagingLevels();
    if (levels == 0) {
      throw new IllegalArgumentException("CR0 0x" + Long.toHexString(v.cr0())
          + " has PG clear (expected: paging on; Xen walks no tables without paging)");
    }
    if (topMfn < 0) {
      throw new IllegalArgumentException(
          "topMfn: 0x" + Long.toHexString(topMfn) + " (expected: a machine frame, >= 0)");
    }
    if (levels == 3 ? (topOffset & ~0xFE0) != 0 : topOffset != 0) {
      throw new IllegalArgumentException("topOffset: 0x" + Integer.toHexString(topOffset)
          + " for " + levels + " levels (expected: "
          + (levels == 3 ? "a multiple of 0x20 below 0x1000)" : "0)"));
    }
    gw.reset(va, levels);
    if (switches.convention() == GuestWalkSwitches.Convention.PFEC) {
      return walkPfec(v, levels, va, gw, walk, topMfn, topOffset);
    }
    return walkMissingFlags(v, levels, va, gw, walk, topMfn, topOffset);
  }

  /** Today's walker (4c5d78a10d and later). */
  private boolean walkPfec(
      GuestRegisters v, int levels, long va, GuestWalk gw, int request, long topMfn, int topOffset) {
    int walk = request & Pfec.WALK_INPUT_MASK;
    boolean implicit = (walk & Pfec.IMPLICIT) != 0;
    boolean fetch = (walk & Pfec.INSN_FETCH) != 0;
    boolean user = (walk & Pfec.USER_MODE) != 0;
    boolean write = (walk & Pfec.WRITE_ACCESS) != 0;
    if (implicit && (fetch || user)) {
      throw new IllegalArgumentException("walk: 0x" + Integer.toHexString(request)
          + " (expected: an implicit access is a supervisor data access)");
    }
    // guest_nx_enabled: NX means nothing without PAE paging.
    boolean nx = levels != 2 && v.nxeEnabled();
    boolean smep = switches.smep() && v.smepEnabled();
    int pfec = walk & (Pfec.USER_MODE | Pfec.WRITE_ACCESS);
    // The I/D bit is reported only when NX or SMEP makes fetches distinguishable (SDM vol. 3A §4.7).
    if (nx || smep) {
      pfec |= walk & Pfec.INSN_FETCH;
    }
    long rsvd = reservedAddressBits | (nx ? 0 : NX);
    boolean l2Superpages = levels != 2 || v.pseEnabled();
    boolean l3Superpages =
        switches.gigabytePages() && levels == 4 && domain.hap() && domain.hostPage1Gb();
    long arAnd = -1L;
    long arOr = 0;
    long tableMfn = topMfn;
    long tableBase = (topMfn << 12) + topOffset;
    int size = levels == 2 ? 4 : 8;
    int leaf;
    for (int level = levels; ; level--) {
      long slot = tableBase + (long) index(levels, level, va) * size;
      long e = machine.read(slot, size);
      gw.entry[level] = e;
      gw.mfn[level] = tableMfn;
      gw.entryAddress[level] = slot;
      if ((e & P) == 0) {
        gw.pfec = pfec;
        return false;
      }
      if (levels == 2 && level == 2 && !l2Superpages) {
        // 2-level paging without CR4.PSE: no reserved bits, and PS is ignored.
        if (switches.clearIgnoredL2Pse()) {
          gw.entry[2] = e & ~PS;
        }
        e &= ~PS;
      } else if (switches.reservedBits()
          && (e & reservedBits(levels, level, e, rsvd, l3Superpages)) != 0) {
        gw.pfec = pfec | Pfec.RESERVED_BIT | Pfec.PAGE_PRESENT;
        return false;
      }
      // A PAE PDPTE carries no rights; elsewhere U/S and R/W are ANDed, NX ORed.
      if (!(levels == 3 && level == 3)) {
        arAnd &= e;
        arOr |= e;
      }
      if (level == 1) {
        leaf = 1;
        break;
      }
      if ((e & PS) != 0 && (level == 2 || (level == 3 && l3Superpages))) {
        gw.entry[1] = fabricateL1e(levels, level, e, va);
        leaf = level;
        break;
      }
      long next = p2m.getPageFromGfn(gfnOf(levels, e));
      if (next < 0) {
        // Only the synthetic part of map_domain_gfn's code is kept: a table that is not RAM, or an
        // invalid gfn, reads as not present.
        gw.pfec = pfec | (mapDomainGfnPfec(next) & Pfec.SYNTH_MASK);
        return false;
      }
      tableMfn = next;
      tableBase = next << 12;
    }
    gw.leafLevel = leaf;
    pfec |= Pfec.PAGE_PRESENT;
    boolean userPage = (arAnd & US) != 0;
    boolean writable = (arAnd & RW) != 0;
    // Without guest NX the bit is reserved, so it only reaches here with reserved-bit checks off;
    // it is then ignored, as the hardware would ignore a bit it does not define.
    boolean noExecute = nx && (arOr & NX) != 0;
    boolean wp = v.wpEnabled();
    // Protection keys come first, for 4-level data accesses; a superpage's key is in the
    // fabricated L1 entry.
    if (levels == 4 && switches.protectionKeys() && !fetch
        && (userPage ? v.pkuEnabled() : v.pksEnabled())) {
      int key = (int) (gw.entry[1] >>> PKEY_SHIFT) & 0xF;
      int register = userPage ? v.pkru() : v.pkrs();
      int rights = (register >>> (2 * key)) & 3;
      boolean accessDisabled = (rights & 1) != 0;
      boolean writeDisabled = (rights & 2) != 0;
      if (accessDisabled || (write && writeDisabled && (user || wp))) {
        gw.pfec = pfec | Pfec.PROT_KEY;
        return false;
      }
    }
    if (fetch && noExecute) {
      gw.pfec = pfec;
      return false;
    }
    if (user) {
      if (!userPage || (write && !writable)) {
        gw.pfec = pfec;
        return false;
      }
    } else {
      if (userPage) {
        if (fetch && smep) {
          gw.pfec = pfec;
          return false;
        }
        if (!fetch && switches.smap() && v.smapEnabled() && (implicit || !v.alignmentCheck())) {
          gw.pfec = pfec;
          return false;
        }
      }
      if (write && !writable && wp) {
        gw.pfec = pfec;
        return false;
      }
    }
    gw.pfec = pfec;
    setAccessedDirty(gw, levels, leaf, write);
    return true;
  }

  /** The seed's walker (b5aadd4248). */
  private boolean walkMissingFlags(
      GuestRegisters v, int levels, long va, GuestWalk gw, int pfecIn, long topMfn, int topOffset) {
    // The seed's guest_supports_nx also needs the host's NX.
    boolean supportsNx = levels != 2 && domain.hostNx() && v.nxeEnabled();
    int mflags = MissingFlags.mandatoryFlags(supportsNx, v.wpEnabled(), pfecIn);
    boolean superpages = levels != 2 || v.pseEnabled();
    int rc = 0;
    long tableMfn = topMfn;
    long tableBase = (topMfn << 12) + topOffset;
    int size = levels == 2 ? 4 : 8;
    int leaf = 0;
    for (int level = levels; ; level--) {
      long slot = tableBase + (long) index(levels, level, va) * size;
      long e = machine.read(slot, size);
      gw.entry[level] = e;
      gw.mfn[level] = tableMfn;
      gw.entryAddress[level] = slot;
      if (levels == 3 && level == 3) {
        // The seed checks a PAE PDPTE for P only.
        if ((e & P) == 0) {
          rc |= MissingFlags.PAGE_PRESENT;
          break;
        }
      } else {
        int flags = Pte.getFlags(e) ^ MissingFlags.PAGE_NX_BIT;
        rc |= (flags & mflags) ^ mflags;
        if ((rc & MissingFlags.PAGE_PRESENT) != 0) {
          break;
        }
      }
      if (level == 1) {
        leaf = 1;
        break;
      }
      if (level == 2 && superpages && (e & PS) != 0) {
        gw.entry[1] = fabricateL1e(levels, 2, e, va);
        leaf = 2;
        break;
      }
      long next = p2m.getPageFromGfn(gfnOf(levels, e));
      if (next < 0) {
        rc = mapDomainGfnSeed(next, rc);
        break;
      }
      tableMfn = next;
      tableBase = next << 12;
    }
    gw.leafLevel = leaf;
    if (rc == 0) {
      setAccessedDirty(gw, levels, leaf, (pfecIn & Pfec.WRITE_ACCESS) != 0);
    }
    gw.missingFlags = rc;
    return rc == 0;
  }

  /**
   * Today's {@code map_domain_gfn} error code for a lookup result: {@link Pfec#PAGE_PRESENT} for a
   * frame, RSVD|P for an invalid gfn, {@link Pfec#PAGE_PAGED}, {@link Pfec#PAGE_SHARED}, or 0 for no
   * RAM. The walker keeps only the synthetic bits of it.
   */
  static int mapDomainGfnPfec(long lookup) {
    if (lookup >= 0) {
      return Pfec.PAGE_PRESENT;
    }
    if (lookup == P2mLookup.GFN_INVALID) {
      return Pfec.RESERVED_BIT | Pfec.PAGE_PRESENT;
    }
    if (lookup == P2mLookup.PAGED_OUT) {
      return Pfec.PAGE_PAGED;
    }
    if (lookup == P2mLookup.SHARED) {
      return Pfec.PAGE_SHARED;
    }
    if (lookup == P2mLookup.NOT_RAM) {
      return 0;
    }
    throw undefinedOutcome(lookup);
  }

  /**
   * The seed's {@code map_domain_gfn} for a failed lookup: the walk's result after it. Paged-out and
   * shared tables replace the result (the flags missing so far are lost); a table that is not RAM
   * adds P.
   */
  static int mapDomainGfnSeed(long lookup, int rc) {
    if (lookup == P2mLookup.PAGED_OUT) {
      return MissingFlags.PAGE_PAGED;
    }
    if (lookup == P2mLookup.SHARED) {
      return MissingFlags.PAGE_SHARED;
    }
    if (lookup == P2mLookup.GFN_INVALID || lookup == P2mLookup.NOT_RAM) {
      return rc | MissingFlags.PAGE_PRESENT;
    }
    throw undefinedOutcome(lookup);
  }

  static IllegalStateException undefinedOutcome(long lookup) {
    return new IllegalStateException("p2m lookup returned 0x" + Long.toHexString(lookup)
        + " (expected: a frame >= 0, PAGED_OUT, SHARED, GFN_INVALID or NOT_RAM)");
  }

  /** {@code guest_l<level>e_rsvd_bits} as a mask over the entry {@code e}. */
  private long reservedBits(int levels, int level, long e, long rsvd, boolean l3Superpages) {
    boolean ps = (e & PS) != 0;
    if (levels == 4) {
      switch (level) {
        case 4:
          return rsvd | PS | (domain.vendorAmd() ? G : 0);
        case 3:
          return rsvd | (l3Superpages ? 0 : PS) | (ps ? SUPERPAGE_RSVD_1G : 0);
        case 2:
          return rsvd | (ps ? SUPERPAGE_RSVD_2M : 0);
        default:
          return rsvd;
      }
    }
    if (levels == 3) {
      switch (level) {
        case 3:
          return rsvd | PAE_L3_RSVD;
        case 2:
          return rsvd | PAE_HIGH_RSVD | (ps ? SUPERPAGE_RSVD_2M : 0);
        default:
          return rsvd | PAE_HIGH_RSVD;
      }
    }
    // 2-level entries are 32 bits wide; level 2 is only checked when CR4.PSE makes PS meaningful.
    long low = rsvd & 0xFFFF_FFFFL;
    if (level == 2 && ps) {
      // With HAP and PSE-36, PDE bits 20:13 are physical bits 39:32: those at or above MAXPHYADDR
      // are reserved, and bit 21 always (PSE-36 stops at 40 bits); without, all of 21:13.
      return low | (domain.hap() && domain.hostPse36()
          ? foldPse36(rsvd | (1L << 40))
          : SUPERPAGE_RSVD_4M);
    }
    return low;
  }

  /** The fabricated L1 entry of a superpage whose leaf is {@code e} at {@code level}. */
  private long fabricateL1e(int levels, int level, long e, long va) {
    // The leaf's cache bits come along: PAT is bit 12 of the superpage entry and bit 7 of a 4-KByte
    // one, and bit 7 of the superpage entry (PS) is always set, so it is taken and then cleared
    // unless bit 12 (bit 0 of the frame number) is set.
    long imported = PS | PWT | PCD | (switches.protectionKeys() ? PKEY_BITS : 0);
    if (level == 3) {
      long start = (e & ADDRESS_MASK) >>> 12;
      long flags = FABRICATED_FLAGS | (e & imported);
      if ((start & 1) == 0) {
        flags &= ~PS;
      }
      start = (start & ~L3_GFN_MASK) + ((va >>> 12) & L3_GFN_MASK);
      return (start << 12) | flags;
    }
    int indexMask = levels == 2 ? 0x3FF : 0x1FF;
    long start;
    if (switches.superpageFrame() == GuestWalkSwitches.SuperpageFrame.ALIGNED) {
      start = levels == 2 ? unfoldPse36(e & 0xFFFF_FFFFL) >>> 12 : (e & ADDRESS_MASK) >>> 12;
    } else {
      start = gfnOf(levels, e);
    }
    long flags = FABRICATED_FLAGS | (e & imported);
    if ((start & 1) == 0) {
      flags &= ~PS;
    }
    if (switches.superpageFrame() == GuestWalkSwitches.SuperpageFrame.ALIGNED) {
      start = (start & ~(long) indexMask) + ((va >>> 12) & indexMask);
      return (start << 12) | flags;
    }
    start = (start & ~1L) + ((va >>> 12) & indexMask);
    long l1 = (start << 12) | flags;
    // The seed's 2-level l1e is a 32-bit value.
    return levels == 2 ? l1 & 0xFFFF_FFFFL : l1;
  }

  /** The gfn an entry points to ({@code guest_l*e_get_gfn}). */
  private static long gfnOf(int levels, long e) {
    return levels == 2 ? (e & 0xFFFF_F000L) >>> 12 : (e & ADDRESS_MASK) >>> 12;
  }

  /** The entry index of {@code va} at {@code level}. */
  private static int index(int levels, int level, long va) {
    if (levels == 2) {
      return (int) (va >>> (level == 2 ? 22 : 12)) & 0x3FF;
    }
    if (levels == 3 && level == 3) {
      return (int) (va >>> 30) & 3;
    }
    return (int) (va >>> (12 + 9 * (level - 1))) & 0x1FF;
  }

  /** {@code fold_pse36}: moves bits 40:32 to 21:13, as a 32-bit value. */
  static long foldPse36(long value) {
    return ((value & ~(0x1FFL << 13)) | ((value & (0x1FFL << 32)) >>> 19)) & 0xFFFF_FFFFL;
  }

  /** {@code unfold_pse36}: moves bits 21:13 of a 32-bit PDE to 40:32. */
  static long unfoldPse36(long value) {
    return (value & ~(0x1FFL << 13)) | ((value & (0x1FFL << 13)) << 19);
  }

  /** The accessed and dirty updates of a successful walk, in the switches' order. */
  private void setAccessedDirty(GuestWalk gw, int levels, int leaf, boolean write) {
    int size = levels == 2 ? 4 : 8;
    if (switches.accessedDirtyOrder() == GuestWalkSwitches.AccessedDirtyOrder.LEAF_FIRST) {
      for (int l = leaf; l <= levels; l++) {
        setAdBits(gw, levels, l, size, write && l == leaf);
      }
    } else {
      for (int l = levels; l >= leaf; l--) {
        setAdBits(gw, levels, l, size, write && l == leaf);
      }
    }
  }

  /**
   * Xen's {@code set_ad_bits}: ORs A (and D) into the walk's copy of the entry, and writes it back if
   * the guest's entry still holds the copy's old value.
   */
  private void setAdBits(GuestWalk gw, int levels, int level, int size, boolean dirty) {
    if (levels == 3 && level == 3) {
      return; // a PAE PDPTE has no accessed flag
    }
    long old = gw.entry[level];
    long updated = old | A | (dirty ? D : 0);
    if (old == updated) {
      return;
    }
    gw.entry[level] = updated;
    if (machine.compareAndSet(gw.entryAddress[level], size, old, updated)) {
      gw.accessedDirtyWrites |= 1 << level;
    }
  }
}
