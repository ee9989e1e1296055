package org.hvmmu.host;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.hvmmu.mmu.Vcpu;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mSetResult;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.RadixP2m;
import org.hvmmu.x86.PageOrder;

/**
 * The p2m path of the host: HVM domains' p2m changes ({@code p2m_set_entry}, global re-type, the
 * hardened re-derivation of one leaf, splitting mmio_direct superpages), the reverse map of their
 * mmio_direct leaves, and Xen's synchronisation of the vCPUs that walk the p2m (EPT and NPT, the 2-D
 * path) after each change. {@link Host} delegates here.
 * Xen 4.22: {@code xen/arch/x86/mm/p2m.c} ({@code p2m_tlb_flush_sync}) and {@code
 * xen/arch/x86/mm/p2m-ept.c} ({@code ept_sync_domain}).
 */
final class P2mPaging {
  /** EPTP memory type: write-back (Intel SDM vol. 3C 24.6.11). */
  private static final long EPTP_WB = 6;

  /** EPTP bits 5:3: the page-walk length minus one, a 4-level walk. */
  private static final long EPTP_WALK_4 = 3 << 3;

  /** EPTP bit 6: accessed and dirty flags. */
  private static final long EPTP_AD = 1 << 6;

  private final Host host;

  P2mPaging(Host host) {
    this.host = host;
  }

  /**
   * {@code p2m_set_entry} for HVM domain {@code d}. An {@code mmio_direct} superpage the p2m refuses
   * because read-only frames lie inside is set as 4-KByte entries instead, as Xen's callers retry.
   *
   * @param d an HVM domain
   * @param gfn the first guest frame, aligned to the order
   * @param mfn the first machine frame, aligned to the order
   * @param order the page size
   * @param type the p2m type
   * @return {@link P2mSetResult#OK} or {@link P2mSetResult#NO_MEMORY}
   */
  int setP2mEntry(GuestDomain d, long gfn, long mfn, PageOrder order, P2mType type) {
    Host.requireAlive(d);
    RadixP2m p2m = d.p2m();
    synchronized (d) {
      P2mEntry old = d.lookup;
      int rc = p2m.setEntry(gfn, mfn, order, type, old);
      if (rc == P2mSetResult.RETRY_ORDER_4K) {
        rc = P2mSetResult.OK;
        for (long i = 0; i < order.pages() && rc == P2mSetResult.OK; i++) {
          rc = setP2mEntry(d, gfn + i, mfn + i, PageOrder.ORDER_4K, type);
        }
        return rc;
      }
      if (rc != P2mSetResult.OK) {
        return rc;
      }
      int mmio = P2mType.MMIO_DIRECT.code(host.policy().p2m().era());
      // The reverse map lists 4-KByte mmio_direct leaves; superpages are kept in a list of their own.
      long oldListed = old.mfn() != P2mEntry.INVALID_MFN && old.typeCode() == mmio
          && old.order() == PageOrder.ORDER_4K ? old.mfn() : -1;
      boolean mmioLeaf = type == P2mType.MMIO_DIRECT && mfn != P2mEntry.INVALID_MFN;
      long newListed = mmioLeaf && order == PageOrder.ORDER_4K ? mfn : -1;
      if (oldListed != newListed) {
        host.rmap().replace(oldListed, newListed, d.id(), MappingKind.P2M_LEAF, gfn, 0);
      } else if (newListed != -1) {
        // The same frame again: make sure it is listed (a piece of a split superpage was not).
        host.rmap().add(newListed, d.id(), MappingKind.P2M_LEAF, gfn, 0);
      }
      if (mmioLeaf) {
        if (order != PageOrder.ORDER_4K) {
          d.addMmioSuperpage(gfn, mfn, order.code);
        }
      }
      if (d.mode().shadowed()) {
        host.shadowPaging().resyncShadowsOf(d, gfn, order.pages());
      }
      syncP2m(d);
      return rc;
    }
  }

  /**
   * {@code p2m_change_type_global} (or EPT's) for domain {@code d}: every leaf of type {@code ot}
   * becomes {@code nt} and every leaf's flags are re-derived; a shadowed domain's shadows follow.
   *
   * @param d an HVM domain
   * @param ot the old type
   * @param nt the new type
   */
  void changeTypeGlobal(GuestDomain d, P2mType ot, P2mType nt) {
    synchronized (d) {
      d.p2m().changeTypeGlobal(ot, nt);
      if (d.mode().shadowed()) {
        host.shadowPaging().resyncAllShadows(d);
      }
      syncP2m(d);
    }
  }

  /** Hardened revocation of one 4K leaf: set it again, which derives its flags anew. */
  void rederiveLeaf(GuestDomain d, long mfn, long gfn) {
    synchronized (d) {
      P2mEntry e = d.lookup;
      int mmio = P2mType.MMIO_DIRECT.code(host.policy().p2m().era());
      if (!d.p2m().getEntry(gfn, e) || e.mfn() != mfn || e.typeCode() != mmio
          || e.order() != PageOrder.ORDER_4K) {
        host.rmap().remove(mfn, d.id(), MappingKind.P2M_LEAF, gfn, 0); // stale: replaced since
        return;
      }
      d.p2m().setEntry(gfn, mfn, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT);
      if (d.mode().shadowed()) {
        host.shadowPaging().resyncShadowsOf(d, gfn, 1);
      }
      syncP2m(d);
    }
  }

  /** Re-maps as 4-KByte entries every mmio_direct superpage of {@code d} that overlaps the range. */
  void splitMmioSuperpages(GuestDomain d, long first, long last) {
    synchronized (d) {
      long[] list = d.mmioSuperpages();
      List<long[]> split = new ArrayList<>();
      long[] kept = new long[list.length];
      int n = 0;
      for (int i = 0; i < list.length; i += 3) {
        long pages = PageOrder.fromCode((int) list[i + 2]).pages();
        long mfn = list[i + 1];
        if (Long.compareUnsigned(mfn, last) <= 0
            && Long.compareUnsigned(first, mfn + pages - 1) <= 0) {
          split.add(new long[] {list[i], mfn, pages});
        } else {
          System.arraycopy(list, i, kept, n, 3);
          n += 3;
        }
      }
      d.setMmioSuperpages(Arrays.copyOf(kept, n));
      P2mEntry e = new P2mEntry();
      int mmio = P2mType.MMIO_DIRECT.code(host.policy().p2m().era());
      for (long[] s : split) {
        // Page by page, as 4-KByte leaves with reverse-map records of their own. A leaf that still
        // maps the superpage's frames at a larger order is removed first and its pages mapped
        // anew: splitting it would derive read-only superpage children, which Xen's EPT code
        // asserts against. Where the p2m has no table left (-ENOMEM), the rest of that leaf stays
        // unmapped: the guest loses the frames rather than keep them writable. A leaf or hole that
        // is not the superpage's is skipped whole, so the work is bounded by the pages the p2m can
        // hold, not by the superpages' size.
        for (long i = 0; i < s[2]; ) {
          long gfn = s[0] + i;
          boolean mapped = d.p2m().getEntry(gfn, e);
          PageOrder order = e.order();
          long base = gfn & -order.pages();
          long leafEnd = base + order.pages() - s[0]; // past the leaf, counted from s[0]
          if (!mapped || e.mfn() != s[1] + i || e.typeCode() != mmio) {
            i = leafEnd;
          } else if (order == PageOrder.ORDER_4K) {
            if (!host.rmap().contains(e.mfn(), d.id(), MappingKind.P2M_LEAF, gfn, 0)) {
              setP2mEntry(d, gfn, e.mfn(), PageOrder.ORDER_4K, P2mType.MMIO_DIRECT);
            }
            i++;
          } else {
            long mfnBase = s[1] + (base - s[0]);
            setP2mEntry(d, base, P2mEntry.INVALID_MFN, order, P2mType.INVALID);
            for (long j = 0; j < order.pages(); j++) {
              if (setP2mEntry(d, base + j, mfnBase + j, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT)
                  != P2mSetResult.OK) {
                break;
              }
            }
            i = leafEnd;
          }
        }
      }
    }
  }

  /**
   * Points a new vCPU of an EPT or NPT domain at the domain's p2m tables, the nested structures its
   * processor walks: on EPT an EPTP (write-back, 4-level walk, accessed/dirty flags if the policy
   * and the processor have them) and VPID {@code tag}; on NPT the nested CR3 and ASID {@code tag},
   * under the host's CR4 (PAE and PGE) and EFER (SCE, LME, LMA, NXE: 0xD01), the mode Xen runs in;
   * and puts Xen's {@link HapFaultHandler} in front of it.
   */
  void attachVcpu(GuestVcpu g, int tag) {
    GuestDomain d = g.domain();
    Vcpu v = g.cpu();
    g.setFaultHandler(new HapFaultHandler(host));
    if (d.mode() == PagingMode.HVM_EPT) {
      long eptp = (d.p2m().rootFrame() << 12) | EPTP_WB | EPTP_WALK_4
          | (host.policy().p2m().eptAccessedDirty() && host.cpuFeatures().eptAccessedDirty()
              ? EPTP_AD : 0);
      v.configureEpt(eptp, tag);
    } else {
      v.configureNpt(d.p2m().rootFrame() << 12, tag, PvPaging.HW_CR4, PvPaging.HW_EFER);
    }
  }

  /**
   * Xen's synchronisation after a p2m change of {@code d} ({@link FlushSwitches#p2mSync()}): EPT's
   * {@code ept_sync_domain} (INVEPT of the domain's EPTP on every vCPU), NPT's {@code p2m_tlb_flush}
   * (every vCPU's ASID flushed).
   */
  void syncP2m(GuestDomain d) {
    if (!host.policy().flushes().p2mSync()) {
      return;
    }
    for (GuestVcpu g : d.vcpuArray()) {
      Vcpu v = g.cpu();
      if (d.mode() == PagingMode.HVM_EPT) {
        v.invept(1, v.eptp());
      } else if (d.mode() == PagingMode.HVM_NPT) {
        v.flushGuest();
      }
    }
  }

  /** The machine address of guest-physical {@code gpa} (through the p2m), or -1 if unmapped. */
  long machineAddress(GuestDomain d, long gpa, int size) {
    if (((gpa & 0xFFF) + size) > 0x1000) {
      throw new IllegalArgumentException("guest-physical access of " + size + " bytes at 0x"
          + Long.toHexString(gpa) + " (expected: within one page)");
    }
    if (!d.hasP2m()) {
      return gpa;
    }
    synchronized (d) {
      P2mEntry e = d.lookup;
      long gfn = gpa >>> 12;
      if (gfn >= RadixP2m.GFN_LIMIT || !d.p2m().getEntry(gfn, e)
          || e.mfn() == P2mEntry.INVALID_MFN) { // beyond the p2m: not mapped
        return -1;
      }
      return (e.mfn() << 12) | (gpa & 0xFFF);
    }
  }
}
