package org.hvmmu.p2m.ept;

import java.util.Objects;
import org.hvmmu.p2m.P2mAccess;
import org.hvmmu.p2m.P2mDomainConfig;
import org.hvmmu.p2m.P2mEra;
import org.hvmmu.p2m.P2mSetResult;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.P2mTypes;
import org.hvmmu.p2m.RadixP2m;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.PageOrder;

/**
 * A p2m in Intel's EPT format ({@code ept_set_entry}, {@code ept_get_entry}, {@code
 * ept_change_entry_type_global}, {@code ept_split_super_page}): leaves are {@link EptEntry} values whose
 * permissions come from {@link EptP2mFlags#typeToFlags} and memory type from {@link
 * EptP2mFlags#entryEmt}.
 * Xen 4.22: {@code xen/arch/x86/mm/p2m-ept.c}.
 *
 * <p>Unlike the generic format, splitting a superpage re-derives each of the 512 smaller entries from
 * its type and frame, so read-only MMIO frames inside lose W. A leaf is written for a frame that is
 * {@code mfn_valid}, and otherwise for mmio_direct and paged types (seed) or populate-on-demand,
 * mmio_direct and paging types (today); else the entry is empty (today: suppress-#VE only). Today a
 * superpage whose frames partly overlap mmio_ro_ranges is written with the invalid memory type 7, and
 * {@link #memoryTypeChanged()} splits it. A global re-type leaves the memory type as it was.
 *
 * <p>The seed added no mmio_direct superpage check to EPT: its {@code ept_set_entry} maps an
 * mmio_direct superpage and derives W from the first frame only (the seed only ever mapped MMIO with
 * 4-KByte pages, through {@code set_mmio_p2m_entry}). Today the common {@code set_mmio_p2m_entry} check
 * refuses it.
 *
 * <pre>{@code
 * EptP2m ept = new EptP2m(P2mSwitches.HARDENED, CpuFeatures.ALL, P2mDomainConfig.DEFAULT, ro, 64);
 * ept.setEntry(0x100, 0xfee01, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT);
 * }</pre>
 */
public final class EptP2m extends RadixP2m {
  private final CpuFeatures cpu;

  /**
   * Creates an empty EPT p2m.
   *
   * @param switches the era and defect switches
   * @param cpu the processor's features (EPT A/D, paging-write)
   * @param domain the domain's settings
   * @param mmioRoRanges the host's read-only MMIO frames, shared
   * @param maxTablePages the most table pages the p2m may use, the root included; at least 1
   * @throws IllegalArgumentException if {@code maxTablePages < 1}
   */
  public EptP2m(
      P2mSwitches switches,
      CpuFeatures cpu,
      P2mDomainConfig domain,
      RangeSet mmioRoRanges,
      int maxTablePages) {
    super(switches, domain, mmioRoRanges, maxTablePages);
    this.cpu = Objects.requireNonNull(cpu, "cpu");
  }

  /**
   * Xen's {@code ept_memory_type_changed} followed by {@code resolve_misconfig} for every guest frame,
   * done at once rather than on the next access: every valid leaf gets the memory type and ipat of
   * {@link EptP2mFlags#entryEmt}, and a superpage for which it answers {@link EptP2mFlags#EMT_SPLIT} is
   * split, recursively, each smaller entry re-derived.
   *
   * @return {@link P2mSetResult#OK}, or {@link P2mSetResult#NO_MEMORY} with nothing changed
   * @throws org.hvmmu.xen.HypervisorBugException if a split would create a read-only mmio_direct
   *     superpage (Xen's assertion in {@code ept_p2m_type_to_flags}); nothing changed
   */
  public int memoryTypeChanged() {
    return recalculateLeaves();
  }

  /**
   * The processor features this p2m consults.
   *
   * @return the features
   */
  public CpuFeatures cpu() {
    return cpu;
  }

  @Override
  protected boolean isPresent(long entry) {
    return EptEntry.isPresent(entry);
  }

  @Override
  protected boolean isSuperpage(long entry) {
    return EptEntry.isSuperpage(entry);
  }

  @Override
  protected boolean isValid(long entry) {
    return EptEntry.isValid(switches.era(), entry);
  }

  @Override
  public boolean isWritable(long entry) {
    return EptEntry.isWritable(entry);
  }

  @Override
  protected boolean hasSeedMmioSuperpageAssert() {
    return false;
  }

  @Override
  protected long tableEntry(long frame) {
    long e = EptEntry.withMfn(EptEntry.RWX_MASK, frame);
    if (switches.era() == P2mEra.TODAY) {
      e = EptEntry.withAccess(e, domain.defaultAccess().code) | EptEntry.SUPPRESS_VE;
    }
    if (switches.eptAccessedDirty() && cpu.eptAccessedDirty()) {
      e |= EptEntry.A;
    }
    return e;
  }

  @Override
  protected long leafEntry(int typeCode, long mfn, PageOrder order, P2mAccess access) {
    P2mEra era = switches.era();
    boolean written =
        switch (era) {
          case SEED_2010 ->
              domain.mfnValid(mfn)
                  || typeCode == P2mType.MMIO_DIRECT.seedCode
                  || typeCode == P2mType.RAM_PAGED.seedCode
                  || typeCode == P2mType.RAM_PAGING_IN_START.seedCode;
          case TODAY ->
              domain.mfnValid(mfn)
                  || P2mTypes.inClass(
                      P2mTypes.POD | P2mTypes.PAGING | (1L << P2mType.MMIO_DIRECT.code), typeCode);
        };
    if (!written) {
      return era == P2mEra.TODAY ? EptEntry.SUPPRESS_VE : 0L;
    }
    long e = EptEntry.withType(era, EptEntry.withMfn(0L, mfn), typeCode);
    if (order.isSuperpage()) {
      e |= EptEntry.SP;
    }
    if (era == P2mEra.TODAY) {
      e = EptEntry.withAccess(e, access.code) | EptEntry.SUPPRESS_VE;
    }
    e = withEmt(e, EptP2mFlags.entryEmt(switches, mmioRoRanges, typeCode, mfn, order));
    return EptP2mFlags.typeToFlags(switches, cpu, domain, mmioRoRanges, e, typeCode, access);
  }

  private static long withEmt(long entry, int emt) {
    if (emt < 0) {
      return EptEntry.withEmt(entry, EptEntry.EMT_INVALID) & ~EptEntry.IPAT;
    }
    long e = EptEntry.withEmt(entry, emt & 7);
    return (emt & EptP2mFlags.EMT_IPAT) != 0 ? e | EptEntry.IPAT : e & ~EptEntry.IPAT;
  }

  private P2mAccess accessOf(long entry) {
    if (switches.era() == P2mEra.SEED_2010) {
      return domain.defaultAccess();
    }
    int code = EptEntry.access(entry);
    return code <= P2mAccess.R_PW.code ? P2mAccess.fromCode(code) : P2mAccess.RWX;
  }

  @Override
  protected int entryType(long entry) {
    P2mEra era = switches.era();
    return EptEntry.isValid(era, entry) ? EptEntry.type(era, entry) : P2mType.INVALID.code(era);
  }

  @Override
  protected long splitChild(long parent, PageOrder parentOrder, int index) {
    long childPages = parentOrder.pages() >>> 9;
    long e = EptEntry.withMfn(parent, EptEntry.mfn(parent) + index * childPages);
    e = childPages > 1 ? e | EptEntry.SP : e & ~EptEntry.SP;
    if (switches.era() == P2mEra.TODAY) {
      e |= EptEntry.SUPPRESS_VE;
    }
    return EptP2mFlags.typeToFlags(
        switches, cpu, domain, mmioRoRanges, e, EptEntry.type(switches.era(), e), accessOf(e));
  }

  @Override
  protected long rederive(long entry, int newTypeCode, PageOrder order) {
    long e = EptEntry.withType(switches.era(), entry, newTypeCode);
    return EptP2mFlags.typeToFlags(
        switches, cpu, domain, mmioRoRanges, e, newTypeCode, accessOf(e));
  }

  @Override
  protected boolean recalcNeedsSplit(long entry, PageOrder order) {
    return isValid(entry)
        && EptP2mFlags.entryEmt(
                switches,
                mmioRoRanges,
                EptEntry.type(switches.era(), entry),
                EptEntry.mfn(entry),
                order)
            == EptP2mFlags.EMT_SPLIT;
  }

  @Override
  protected long recalcLeaf(long entry, PageOrder order) {
    if (!isValid(entry)) {
      return entry;
    }
    int emt =
        EptP2mFlags.entryEmt(
            switches,
            mmioRoRanges,
            EptEntry.type(switches.era(), entry),
            EptEntry.mfn(entry),
            order);
    return withEmt(entry, emt);
  }
}
