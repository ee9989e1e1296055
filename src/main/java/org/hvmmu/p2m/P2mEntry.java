package org.hvmmu.p2m;

import org.hvmmu.x86.PageOrder;

/**
 * A reusable cursor that {@link RadixP2m#getEntry(long, P2mEntry)} fills with what Xen's {@code
 * get_entry} returns for one guest frame: the frame, the type, the order of the entry that maps it, and
 * the raw entry.
 *
 * <p>One cursor serves any number of lookups, so a lookup allocates nothing. Not thread-safe: give
 * each thread its own cursor.
 *
 * <pre>{@code
 * P2mEntry e = new P2mEntry();
 * p2m.getEntry(0x12345, e);     // true if a valid mapping
 * e.mfn();                      // the frame of gfn 0x12345 (base frame plus the offset in a superpage)
 * e.typeCode();                 // in the p2m's era numbering
 * }</pre>
 */
public final class P2mEntry {
  /** The frame number hvmmu reports for "no frame", Xen's {@code INVALID_MFN} ({@code ~0UL}). */
  public static final long INVALID_MFN = -1L;

  private long entry;
  private long mfn = INVALID_MFN;
  private int typeCode;
  private PageOrder order = PageOrder.ORDER_4K;

  /** Creates an empty cursor. */
  public P2mEntry() {}

  void set(long entry, long mfn, int typeCode, PageOrder order) {
    this.entry = entry;
    this.mfn = mfn;
    this.typeCode = typeCode;
    this.order = order;
  }

  /**
   * The raw entry found (generic page-table or EPT format), 0 if the walk met an empty entry.
   *
   * @return the entry bits
   */
  public long entry() {
    return entry;
  }

  /**
   * The frame that maps the looked-up guest frame, or {@link #INVALID_MFN} if the entry holds no valid
   * mapping.
   *
   * @return a frame number or {@link #INVALID_MFN}
   */
  public long mfn() {
    return mfn;
  }

  /**
   * The p2m type code, in the era numbering of the p2m's switches; the invalid type for an empty entry.
   *
   * @return the code (an unknown value is possible, as in Xen, for a corrupted entry)
   */
  public int typeCode() {
    return typeCode;
  }

  /**
   * The order of the entry where the walk stopped: the leaf's order, or for a missing table the order of
   * an entry at that level, capped at 1 GByte.
   *
   * @return the order
   */
  public PageOrder order() {
    return order;
  }

  @Override
  public String toString() {
    return "P2mEntry[entry=0x" + Long.toHexString(entry) + ", mfn=0x" + Long.toHexString(mfn)
        + ", type=" + typeCode + ", order=" + order.code + "]";
  }
}
