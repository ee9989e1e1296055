package org.hvmmu.p2m.ept;

import org.hvmmu.p2m.P2mAccess;
import org.hvmmu.p2m.P2mDomainConfig;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.MemoryType;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.xen.HypervisorBugException;

/**
 * Xen's {@code ept_p2m_type_to_flags} and the part of {@code epte_get_entry_emt} that concerns MMIO, in
 * both eras ({@code xen/arch/x86/mm/p2m-ept.c}; in 2010 {@code mm/hap/p2m-ept.c}).
 *
 * <table>
 *   <caption>Permissions by type (AD: A/D switch on and the processor has EPT A/D)</caption>
 *   <tr><th>Type</th><th>r</th><th>w</th><th>x</th><th>a</th><th>d</th></tr>
 *   <tr><td>invalid, mmio_dm, pod, paging, broken, unknown</td><td>0</td><td>0</td><td>0</td>
 *       <td>kept</td><td>kept</td></tr>
 *   <tr><td>ram_rw</td><td>1</td><td>1</td><td>1</td><td>AD</td><td>AD</td></tr>
 *   <tr><td>ioreq_server</td><td>1</td><td>not claimed</td><td>0</td><td>AD</td><td>w and AD</td></tr>
 *   <tr><td>mmio_direct</td><td>1</td><td>not in mmio_ro_ranges</td><td>1</td><td>AD</td>
 *       <td>w and AD</td></tr>
 *   <tr><td>ram_logdirty</td><td>1</td><td>PML and 4 KBytes</td><td>1</td><td>AD</td><td>0</td></tr>
 *   <tr><td>ram_ro, ram_shared</td><td>1</td><td>0</td><td>1</td><td>AD</td><td>0</td></tr>
 *   <tr><td>grant_map_rw, map_foreign</td><td>1</td><td>1</td><td>0</td><td>AD</td><td>AD</td></tr>
 *   <tr><td>grant_map_ro</td><td>1</td><td>0</td><td>0</td><td>AD</td><td>0</td></tr>
 * </table>
 *
 * <p>With the A/D switch off (the seed) A and D are never touched and logdirty is never writable. The
 * access type then restricts the permissions ({@link P2mSwitches#eptAccessRestriction()}), and x is
 * cleared on superpages of a domain without {@code exec_sp}. Every method is static and
 * allocation-free.
 */
public final class EptP2mFlags {
  /** Bit of an {@link #entryEmt} result that carries ipat (so that {@code result << 3} is bits 6:3). */
  public static final int EMT_IPAT = 8;

  /** {@link #entryEmt} result: the superpage must be split (Xen returns -1). */
  public static final int EMT_SPLIT = -1;

  private EptP2mFlags() {}

  /**
   * {@code ept_p2m_type_to_flags}: the entry with R, W, X (and A, D, PW where the switches and the
   * processor say so) derived from the p2m type, the frame and superpage bit already in {@code entry},
   * and the access type.
   *
   * @param switches the era and defect switches
   * @param cpu the processor's features
   * @param domain the domain's settings (PML, exec_sp, ioreq claim)
   * @param mmioRoRanges the host's read-only MMIO frames
   * @param entry the entry, with frame and superpage bit set
   * @param typeCode the type, in the era's numbering; unknown codes take Xen's {@code default:}
   * @param access the access type
   * @return the new entry
   * @throws HypervisorBugException today, for a read-only mmio_direct superpage ({@code
   *     ASSERT(entry->w || !is_epte_superpage(entry))})
   */
  public static long typeToFlags(
      P2mSwitches switches,
      CpuFeatures cpu,
      P2mDomainConfig domain,
      RangeSet mmioRoRanges,
      long entry,
      int typeCode,
      P2mAccess access) {
    boolean superpage = EptEntry.isSuperpage(entry);
    boolean setAd = switches.eptAccessedDirty();
    boolean ad = setAd && cpu.eptAccessedDirty();
    boolean a = (entry & EptEntry.A) != 0;
    boolean d = (entry & EptEntry.D) != 0;
    boolean r;
    boolean w;
    boolean x;
    if (!P2mType.isKnown(switches.era(), typeCode)) {
      r = false;
      w = false;
      x = false;
    } else {
      switch (P2mType.fromCode(switches.era(), typeCode)) {
        case INVALID, MMIO_DM, POPULATE_ON_DEMAND, RAM_PAGING_OUT, RAM_PAGED, RAM_PAGING_IN,
            RAM_PAGING_IN_START, RAM_BROKEN -> {
          r = false;
          w = false;
          x = false;
        }
        case RAM_RW -> {
          r = true;
          w = true;
          x = true;
          if (setAd) {
            a = ad;
            d = ad;
          }
        }
        case IOREQ_SERVER -> {
          r = true;
          w = !domain.ioreqClaimsWrite();
          x = false;
          if (setAd) {
            a = ad;
            d = w && ad;
          }
        }
        case MMIO_DIRECT -> {
          r = true;
          x = true;
          w = !mmioRoRanges.containsSingleton(EptEntry.mfn(entry));
          if (!w
              && superpage
              && switches.superpageRoMmio() == P2mSwitches.SuperpageRoMmio.REFUSE_RETRY_4K) {
            throw new HypervisorBugException(
                "ept_p2m_type_to_flags: ASSERT(entry->w || !is_epte_superpage(entry)) failed: mfn 0x"
                    + Long.toHexString(EptEntry.mfn(entry)));
          }
          if (setAd) {
            a = ad;
            d = w && ad;
          }
        }
        case RAM_LOGDIRTY -> {
          r = true;
          x = true;
          w = setAd && domain.pmlEnabled() && !superpage;
          if (setAd) {
            a = ad;
            d = false;
          }
        }
        case RAM_RO, RAM_SHARED -> {
          r = true;
          w = false;
          x = true;
          if (setAd) {
            a = ad;
            d = false;
          }
        }
        case GRANT_MAP_RW, MAP_FOREIGN -> {
          r = true;
          w = true;
          x = false;
          if (setAd) {
            a = ad;
            d = ad;
          }
        }
        case GRANT_MAP_RO -> {
          r = true;
          w = false;
          x = false;
          if (setAd) {
            a = ad;
            d = false;
          }
        }
        default -> throw new AssertionError(typeCode);
      }
    }
    boolean pw = (entry & EptEntry.PW) != 0;
    if (switches.eptAccessRestriction()) {
      switch (access) {
        case N, N2RWX -> {
          r = false;
          w = false;
          x = false;
        }
        case R -> {
          w = false;
          x = false;
        }
        case R_PW -> {
          w = false;
          x = false;
          pw = pw || cpu.eptPagingWrite();
        }
        case W -> {
          r = false;
          x = false;
        }
        case X -> {
          r = false;
          w = false;
        }
        case RX, RX2RW -> w = false;
        case WX -> r = false;
        case RW -> x = false;
        case RWX -> {}
        default -> throw new AssertionError(access);
      }
    }
    if (superpage && !domain.execSuperpages()) {
      x = false;
    }
    long bits =
        (r ? EptEntry.R : 0)
            | (w ? EptEntry.W : 0)
            | (x ? EptEntry.X : 0)
            | (a ? EptEntry.A : 0)
            | (d ? EptEntry.D : 0)
            | (pw ? EptEntry.PW : 0);
    return (entry & ~(EptEntry.RWX_MASK | EptEntry.A | EptEntry.D | EptEntry.PW)) | bits;
  }

  /**
   * The MMIO part of {@code epte_get_entry_emt}: the memory type and ipat for a leaf of {@code order}
   * mapping frames from {@code mfn}.
   *
   * <ol>
   *   <li>If the span {@code [mfn, mfn | (2^order - 1)]} overlaps mmio_ro_ranges: for a 4-KByte leaf or
   *       a span wholly inside, UC with ipat ({@link P2mSwitches#roMmioForcesUc()}); otherwise {@link
   *       #EMT_SPLIT} ({@link P2mSwitches#eptSplitRoMmioSuperpages()}). With the switch off, the rules
   *       below apply instead.
   *   <li>mmio_direct: UC, ipat clear.
   *   <li>Anything else: WB, ipat clear. hvmmu does not model guest or host MTRRs, pinned cache
   *       attributes or special pages, which decide this case in Xen.
   * </ol>
   *
   * @param switches the era and defect switches
   * @param mmioRoRanges the host's read-only MMIO frames
   * @param typeCode the type, in the era's numbering
   * @param mfn the first frame
   * @param order the leaf's order
   * @return the memory type in bits 2:0 plus {@link #EMT_IPAT}, or {@link #EMT_SPLIT}
   */
  public static int entryEmt(
      P2mSwitches switches, RangeSet mmioRoRanges, int typeCode, long mfn, PageOrder order) {
    long last = mfn | (order.pages() - 1);
    if (mmioRoRanges.overlapsRange(mfn, last)) {
      if (!order.isSuperpage() || mmioRoRanges.containsRange(mfn, last)) {
        if (switches.roMmioForcesUc()) {
          return MemoryType.UC.code | EMT_IPAT;
        }
      } else if (switches.eptSplitRoMmioSuperpages()) {
        return EMT_SPLIT;
      }
    }
    return typeCode == P2mType.MMIO_DIRECT.code(switches.era())
        ? MemoryType.UC.code
        : MemoryType.WB.code;
  }
}
