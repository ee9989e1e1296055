package org.hvmmu.p2m;

import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;

/**
 * A p2m in the generic page-table format ({@code xen/arch/x86/mm/p2m-pt.c}; in 2010 {@code p2m.c}):
 * leaves are x86-64 page-table entries whose flags come from {@link PtP2mFlags#typeToFlags} and hold the
 * type, superpages have PSE, and tables are linked with {@link PtP2mFlags#TABLE_FLAGS}.
 *
 * <p>Which leaves are written for a frame that is not {@code mfn_valid} (anything else not valid is
 * written empty, and reads back as the invalid type):
 *
 * <table>
 *   <caption>Entry written for a frame without a frame-table entry</caption>
 *   <tr><th>Order</th><th>Seed</th><th>Today</th></tr>
 *   <tr><td>1 GByte</td><td>never</td><td>populate-on-demand, mmio_direct, paging types</td></tr>
 *   <tr><td>2 MBytes</td><td>populate-on-demand ({@code p2m_is_magic})</td><td>the same</td></tr>
 *   <tr><td>4 KBytes</td><td>mmio_direct</td><td>the same</td></tr>
 * </table>
 *
 * <p>The seed shifts the frame number into place unmasked, as {@code l1e_from_pfn} did, so an {@code
 * INVALID_MFN} entry has its high flag bits, type included, overwritten; today frames are clipped to
 * {@code PADDR_MASK} (and, in superpages, bit 0 too: {@code _PAGE_PSE_PAT}). Splitting a superpage
 * copies its flags to the 512 smaller entries (PSE cleared on 4-KByte ones) without re-deriving them.
 *
 * <pre>{@code
 * RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
 * PtP2m p2m = new PtP2m(P2mSwitches.HARDENED, P2mDomainConfig.DEFAULT, ro, 64);
 * ro.addSingleton(0xfee01);
 * p2m.setEntry(0x100, 0xfee01, PageOrder.ORDER_4K, P2mType.MMIO_DIRECT);   // OK: flags 0x507d
 * p2m.setEntry(0x200, 0xfee00, PageOrder.ORDER_2M, P2mType.MMIO_DIRECT);   // RETRY_ORDER_4K
 * }</pre>
 */
public final class PtP2m extends RadixP2m {
  /**
   * Creates an empty p2m.
   *
   * @param switches the era and defect switches
   * @param domain the domain's settings
   * @param mmioRoRanges the host's read-only MMIO frames, shared
   * @param maxTablePages the most table pages the p2m may use, the root included; at least 1
   * @throws IllegalArgumentException if {@code maxTablePages < 1}
   */
  public PtP2m(
      P2mSwitches switches, P2mDomainConfig domain, RangeSet mmioRoRanges, int maxTablePages) {
    super(switches, domain, mmioRoRanges, maxTablePages);
  }

  @Override
  protected boolean isPresent(long entry) {
    return (entry & PteFlags.PAGE_PRESENT) != 0;
  }

  @Override
  protected boolean isSuperpage(long entry) {
    return (entry & PteFlags.PAGE_PSE) != 0;
  }

  @Override
  protected boolean isValid(long entry) {
    return isPresent(entry);
  }

  @Override
  public boolean isWritable(long entry) {
    return Pte.isPresentWritable(entry);
  }

  @Override
  protected boolean hasSeedMmioSuperpageAssert() {
    return true;
  }

  @Override
  protected long tableEntry(long frame) {
    return Pte.fromMfn(frame, PtP2mFlags.TABLE_FLAGS);
  }

  @Override
  protected long leafEntry(int typeCode, long mfn, PageOrder order, P2mAccess access) {
    boolean valid = domain.mfnValid(mfn);
    boolean written =
        switch (switches.era()) {
          case SEED_2010 ->
              switch (order) {
                case ORDER_1G -> valid;
                case ORDER_2M -> valid || typeCode == P2mType.POPULATE_ON_DEMAND.seedCode;
                case ORDER_4K -> valid || typeCode == P2mType.MMIO_DIRECT.seedCode;
              };
          case TODAY ->
              valid
                  || P2mTypes.inClass(
                      P2mTypes.POD | P2mTypes.PAGING | (1L << P2mType.MMIO_DIRECT.code), typeCode);
        };
    if (!written) {
      return 0L;
    }
    int flags =
        PtP2mFlags.typeToFlags(
                switches,
                typeCode,
                mfn,
                order.level() - 1,
                mmioRoRanges,
                domain.ioreqClaimsWrite())
            | (order.isSuperpage() ? PteFlags.PAGE_PSE : 0);
    return encode(mfn, flags, order);
  }

  private long encode(long mfn, int flags, PageOrder order) {
    if (switches.era() == P2mEra.SEED_2010) {
      return (mfn << Pte.PAGE_SHIFT) | Pte.putFlags(flags);
    }
    long mask = order.isSuperpage() ? Pte.MAX_MFN & ~1L : Pte.MAX_MFN;
    return ((mfn & mask) << Pte.PAGE_SHIFT) | Pte.putFlags(flags);
  }

  @Override
  protected int entryType(long entry) {
    return PtP2mFlags.flagsToType(switches.era(), Pte.getFlags(entry));
  }

  @Override
  protected long splitChild(long parent, PageOrder parentOrder, int index) {
    long childPages = parentOrder.pages() >>> 9;
    int flags = Pte.getFlags(parent);
    if (childPages == 1) {
      flags &= ~PteFlags.PAGE_PSE;
    }
    return ((frameOf(parent) + index * childPages) << Pte.PAGE_SHIFT) | Pte.putFlags(flags);
  }

  @Override
  protected long rederive(long entry, int newTypeCode, PageOrder order) {
    long mfn = frameOf(entry);
    int flags =
        PtP2mFlags.typeToFlags(
                switches,
                newTypeCode,
                mfn,
                order.level() - 1,
                mmioRoRanges,
                domain.ioreqClaimsWrite())
            | (order.isSuperpage() ? PteFlags.PAGE_PSE : 0);
    return encode(mfn, flags, order);
  }
}
