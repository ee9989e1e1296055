package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_AVAIL;
import static org.hvmmu.x86.PteFlags.PAGE_AVAIL_HIGH;
import static org.hvmmu.x86.PteFlags.PAGE_CACHE_ATTRS;
import static org.hvmmu.x86.PteFlags.PAGE_DIRTY;
import static org.hvmmu.x86.PteFlags.PAGE_GLOBAL;
import static org.hvmmu.x86.PteFlags.PAGE_GNTTAB;
import static org.hvmmu.x86.PteFlags.PAGE_GUEST_KERNEL;
import static org.hvmmu.x86.PteFlags.PAGE_NX_BIT;
import static org.hvmmu.x86.PteFlags.PAGE_PAT;
import static org.hvmmu.x86.PteFlags.PAGE_PCD;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_PWT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;

import java.util.function.IntFunction;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Xen's {@code get_page_from_l1e} and {@code put_page_from_l1e}: the check every L1 entry a PV guest
 * installs goes through, and its undo.
 * Xen 4.22: {@code xen/arch/x86/mm.c}; {@code adjust_guest_l1e} in {@code xen/arch/x86/pv/mm.h}.
 *
 * <p>{@link #getPageFromL1e} returns an {@code int}: a negated {@link Errno} value means reject (the
 * seed's 0), anything else is the flip mask the caller XORs into the entry before installing it
 * (upstream's convention since XSA-154). A mask with {@link PteFlags#PAGE_RW} is the seed's -1,
 * "accept but install read-only"; a zero mask is the seed's 1. Under {@link PvSwitches#SEED_2010} the
 * mask is only ever 0 or R/W, so XOR and the seed's "clear R/W" agree. {@link L1eVerdict#of(int)}
 * names the outcome.
 *
 * <pre>{@code
 * int rc = validator.getPageFromL1e(l1e, domU, domU);
 * if (rc < 0) { ... reject: nothing was taken ... }
 * else        { l1e = Pte.flipFlags(l1e, rc); ... install ... }
 * }</pre>
 *
 * <p>An accepted entry holds references that {@link #putPageFromL1e} must drop when the entry goes:
 * one general reference to a RAM frame, plus a writable type reference if the entry is writable. MMIO
 * entries (a frame without a frame-table entry, or owned by {@code dom_io}) hold none.
 *
 * <p>Thread-safe and allocation-free: the frame counts change by compare-and-swap, the two range-set
 * lookups are lock-free. The only allocation is the debug message, built only when debug logging is
 * on.
 */
public final class L1eValidator {
  /**
   * Flags no L1 entry may set, before the per-domain adjustments: packed bits 31:23, PAT, PCD, PWT
   * and G ({@code BASE_DISALLOW_MASK}, x86-64: 0xFF800198; bit 23, NX, is allowed when the processor
   * has it).
   */
  public static final int BASE_DISALLOW_MASK = 0xFF80_0198;

  /**
   * Flags a {@code mod_l1_entry} may change without re-validation under upstream's fast path
   * ({@code FASTPATH_FLAG_WHITELIST}): NX, the software bits, G, D, A and U/S.
   */
  public static final int FASTPATH_FLAG_WHITELIST =
      PAGE_NX_BIT | PAGE_AVAIL_HIGH | PAGE_AVAIL | PAGE_GLOBAL | PAGE_DIRTY | PAGE_ACCESSED
          | PAGE_USER;

  private static final Logger LOG = LoggerFactory.getLogger(L1eValidator.class);

  private final FrameTable frames;
  private final IntFunction<Domain> domains;
  private final RangeSet mmioRoRanges;
  private final PvSwitches switches;
  private final int l1DisallowMask;

  L1eValidator(
      FrameTable frames,
      IntFunction<Domain> domains,
      RangeSet mmioRoRanges,
      CpuFeatures cpu,
      PvSwitches switches) {
    this.frames = frames;
    this.domains = domains;
    this.mmioRoRanges = mmioRoRanges;
    this.switches = switches;
    int base = BASE_DISALLOW_MASK & ~(cpu.nx() ? PAGE_NX_BIT : 0);
    // L1 entries may use G (user mappings are global) but never the grant-table marker.
    this.l1DisallowMask = ((base | PAGE_GNTTAB) & ~PAGE_GLOBAL) & PteFlags.ALL;
  }

  /**
   * The switches this validator applies.
   *
   * @return the switches
   */
  public PvSwitches switches() {
    return switches;
  }

  /**
   * Xen's {@code l1_disallow_mask(d)}: the flags domain {@code d} may not set in an L1 entry. A PV
   * domain with no I/O memory, no I/O ports and no device may not set the cache attributes either.
   *
   * @param d the domain whose table holds the entry
   * @return packed flags
   */
  public int l1DisallowMask(Domain d) {
    return d.mayUseCacheAttributes() ? l1DisallowMask & ~PAGE_CACHE_ATTRS : l1DisallowMask;
  }

  /**
   * {@code flags & l1_disallow_mask(d)}, asking the domain about its I/O resources only when the
   * answer depends on it (the flags hold cache bits and nothing else disallowed), so that the common
   * entry costs no range-set reads.
   *
   * @param flags packed flags of an entry
   * @param d the domain whose table holds the entry
   * @return the disallowed flags the entry has, 0 if none
   */
  public int disallowedFlags(int flags, Domain d) {
    int bad = flags & l1DisallowMask;
    if (bad == 0) {
      return 0;
    }
    return d.mayUseCacheAttributes() ? bad & ~PAGE_CACHE_ATTRS : bad;
  }

  /**
   * Xen's {@code get_page_from_l1e(l1e, l1e_owner, pg_owner)}: validates an entry that {@code
   * l1eOwner}'s table is to hold, mapping a frame of {@code pgOwner}, and takes the references it
   * needs.
   *
   * <p>A non-present entry is accepted. For MMIO (a frame without a frame-table entry, or owned by
   * {@code dom_io}), the page owner ({@code l1eOwner} if {@code pgOwner} is {@code dom_io}) needs the
   * frame in its {@code iomem_caps}; then an entry with R/W to a frame in {@code mmio_ro_ranges} is
   * accepted read-only, and with {@link PvSwitches#forceUncachedMmio()} MMIO entries are also made
   * uncached. For RAM, the frame must belong to the page owner (or the page owner must be privileged
   * and map a third domain's frame), and a writable entry needs the frame's writable type, which a
   * frame in use as a page table cannot take.
   *
   * @param l1e the entry
   * @param l1eOwner the domain whose L1 table holds the entry
   * @param pgOwner the domain whose frame the entry maps (the I/O pseudo-domain for "the caller's")
   * @return a flip mask (0 to accept as is), or a negated errno to reject: {@code -EINVAL} bad flags
   *     or the invalid-MFN pattern, {@code -EPERM} no I/O memory permission, {@code -EBUSY} the frame
   *     cannot be referenced or typed, {@code -EACCES} a cache change of a Xen heap page
   */
  public int getPageFromL1e(long l1e, Domain l1eOwner, Domain pgOwner) {
    int flags = Pte.getFlags(l1e);
    if ((flags & PAGE_PRESENT) == 0) {
      return 0;
    }
    int bad = disallowedFlags(flags, l1eOwner);
    if (bad != 0) {
      if (LOG.isDebugEnabled()) {
        LOG.debug("d{}: Bad L1 flags {}", l1eOwner.id(), Integer.toHexString(bad));
      }
      return -Errno.EINVAL;
    }
    long mfn = Pte.getMfn(l1e);
    boolean valid = frames.mfnValid(mfn);
    int realOwner = valid ? frames.getPageOwnerAndReference(mfn) : DomainIds.OWNER_NONE;
    if (!valid || realOwner == DomainIds.DOMID_IO) {
      if (valid) {
        frames.putPage(mfn); // the reference only confirmed dom_io ownership
      }
      return getIoPage(flags, mfn, l1eOwner, pgOwner);
    }
    return getRamPage(flags, mfn, realOwner, l1eOwner, pgOwner);
  }

  private int getIoPage(int flags, long mfn, Domain l1eOwner, Domain pgOwner) {
    // DOMID_IO stands for the caller; the model runs every call on a vCPU of the table's owner.
    Domain owner = pgOwner.isDomIo() ? l1eOwner : pgOwner;
    if (!owner.iomemCaps().containsSingleton(mfn)) {
      return refuseIo(mfn, owner, l1eOwner);
    }
    if (switches.l1eOwnerNeedsIomemPermission()
        && owner != l1eOwner
        && !l1eOwner.iomemCaps().containsSingleton(mfn)) {
      return refuseIo(mfn, owner, l1eOwner);
    }
    if (!mmioRoRanges.containsSingleton(mfn)) {
      if (!switches.forceUncachedMmio() || relaxed(l1eOwner)) {
        return 0;
      }
      return uncachedFlip(flags);
    }
    int flip = 0;
    if ((flags & PAGE_RW) != 0 && !(switches.privilegedExemption() && owner.privileged())) {
      if (LOG.isDebugEnabled()) {
        LOG.debug("d{}: Forcing read-only access to MFN {}", l1eOwner.id(), Long.toHexString(mfn));
      }
      flip = PAGE_RW;
    }
    return switches.forceUncachedMmio() ? flip | uncachedFlip(flags) : flip;
  }

  private int refuseIo(long mfn, Domain owner, Domain l1eOwner) {
    if (mfn == Pte.INVALID_MFN_PATTERN) {
      return -Errno.EINVAL; // Xen does not log the INVALID_MFN pattern
    }
    if (LOG.isDebugEnabled()) {
      if (owner == l1eOwner) {
        LOG.debug("Non-privileged ({}) attempt to map I/O space {}", owner.id(), hex8(mfn));
      } else {
        LOG.debug("d{}: attempt to map I/O space {} of d{} into d{}", l1eOwner.id(), hex8(mfn),
            owner.id(), l1eOwner.id());
      }
    }
    return -Errno.EPERM;
  }

  private boolean relaxed(Domain l1eOwner) {
    return switch (switches.mmioRelax()) {
      case OFF -> false;
      case HARDWARE_DOMAIN -> l1eOwner.privileged();
      case ALL -> true;
    };
  }

  /**
   * The flags that make an entry uncacheable under Xen's PAT, as upstream forces MMIO since XSA-154:
   * WB (PAT index 0) flips PWT and PCD, giving UC (index 3); WT (index 1) and WP (index 5) flip PCD
   * and, for WP, PAT, also giving index 3. UC-, UC and WC entries are left as they are.
   *
   * @param flags packed flags of the entry
   * @return the cache bits to flip
   */
  public static int uncachedFlip(int flags) {
    return switch (flags & PAGE_CACHE_ATTRS) {
      case 0 -> PAGE_PWT | PAGE_PCD;
      case PAGE_PWT, PAGE_PWT | PAGE_PAT -> PAGE_PCD | (flags & PAGE_PAT);
      default -> 0;
    };
  }

  private int getRamPage(int flags, long mfn, int realOwner, Domain l1eOwner, Domain pgOwner) {
    int owner = pgOwner.id();
    if (realOwner != owner) {
      // A privileged domain may map a third domain's frame on that domain's behalf.
      if (realOwner == DomainIds.OWNER_NONE || pgOwner == l1eOwner || !pgOwner.privileged()) {
        return couldNotPin(mfn, realOwner, l1eOwner, pgOwner);
      }
      owner = realOwner;
    }
    Domain ownerDomain = domains.apply(owner);
    boolean external = ownerDomain != null && ownerDomain.guestType() == GuestType.HVM;
    // Foreign mappings of a translated guest's memory take no writable type.
    boolean write = (flags & PAGE_RW) != 0 && (owner == l1eOwner.id() || !external);
    if (write && frames.getPageType(mfn, PageType.WRITABLE_PAGE) != 0) {
      return couldNotPin(mfn, realOwner, l1eOwner, pgOwner);
    }
    int cacheAttr = PteFlags.patIndex(flags);
    if (cacheAttr != frames.cacheAttr(mfn)) {
      if (frames.isXenHeapPage(mfn)) {
        if (write) {
          frames.putPageType(mfn);
        }
        frames.putPage(mfn);
        if (LOG.isDebugEnabled()) {
          LOG.debug("Attempt to change cache attributes of Xen heap page {}", Long.toHexString(mfn));
        }
        return -Errno.EACCES;
      }
      frames.setCacheAttr(mfn, cacheAttr);
    }
    return 0;
  }

  private int couldNotPin(long mfn, int realOwner, Domain l1eOwner, Domain pgOwner) {
    if (LOG.isDebugEnabled()) {
      LOG.debug("Error getting mfn {} from L1 entry for l1e_owner={}, pg_owner={}",
          Long.toHexString(mfn), l1eOwner.id(), pgOwner.id());
    }
    if (realOwner != DomainIds.OWNER_NONE) {
      frames.putPage(mfn);
    }
    return -Errno.EBUSY;
  }

  /**
   * Xen's {@code put_page_from_l1e}: drops the references an installed entry holds. Non-present and
   * MMIO entries hold none. A writable entry to its own domain's frame (or to a frame of a domain
   * that is not translated) holds a general and a writable type reference; any other holds a general
   * reference.
   *
   * @param l1e an entry as it was installed
   * @param l1eOwner the domain whose table held it
   */
  public void putPageFromL1e(long l1e, Domain l1eOwner) {
    if (!Pte.isPresent(l1e)) {
      return;
    }
    long mfn = Pte.getMfn(l1e);
    if (frames.isIomemPage(mfn)) {
      return;
    }
    int owner = frames.owner(mfn);
    Domain ownerDomain = domains.apply(owner);
    boolean external = ownerDomain != null && ownerDomain.guestType() == GuestType.HVM;
    if ((l1e & PAGE_RW) != 0 && (owner == l1eOwner.id() || !external)) {
      frames.putPageAndType(mfn);
    } else {
      frames.putPage(mfn);
    }
  }

  /**
   * Xen's {@code adjust_guest_l1e} for a 64-bit PV guest, whose kernel runs in ring 3: a present
   * supervisor entry becomes a user entry marked {@link PteFlags#PAGE_GUEST_KERNEL}, and a present
   * user entry becomes global. Entries of other guests are returned unchanged.
   *
   * @param l1e the entry
   * @param d the domain whose table holds it
   * @return the adjusted entry
   */
  public static long adjustGuestL1e(long l1e, Domain d) {
    if (!Pte.isPresent(l1e) || d.guestType() != GuestType.PV64) {
      return l1e;
    }
    int flags = Pte.getFlags(l1e);
    if ((flags & (PAGE_GUEST_KERNEL | PAGE_GLOBAL)) == (PAGE_GUEST_KERNEL | PAGE_GLOBAL)
        && LOG.isDebugEnabled()) {
      LOG.debug("Global bit is set to kernel page {}", Long.toHexString(Pte.getMfn(l1e)));
    }
    if ((flags & PAGE_USER) == 0) {
      l1e = Pte.addFlags(l1e, PAGE_GUEST_KERNEL | PAGE_USER);
      flags |= PAGE_GUEST_KERNEL | PAGE_USER;
    }
    if ((flags & PAGE_GUEST_KERNEL) == 0) {
      l1e = Pte.addFlags(l1e, PAGE_GLOBAL | PAGE_USER);
    }
    return l1e;
  }

  private static String hex8(long mfn) {
    String hex = Long.toHexString(mfn);
    return hex.length() >= 8 ? hex : "00000000".substring(hex.length()) + hex;
  }
}
