package org.hvmmu.host.access;

/**
 * msixtbl ({@code arch/x86/hvm/vmsi.c}): Xen's internal MMIO handler in front of the device model
 * for a passed-through MSI-X table an HVM guest accesses through {@code p2m_mmio_dm} ({@code
 * msixtbl_range}, {@code msixtbl_read}, {@code _msixtbl_write}/{@code msixtbl_write}), read at
 * RELEASE-4.22.0 and RELEASE-4.1.0 (reference {@code msix-emulation.md} section 2.3, vectors T1-T8
 * of section 11.1). A reason whose outcome is {@link AccessOutcome#FORWARDED_TO_DM} is msixtbl's
 * UNHANDLEABLE: {@link HapRoAccess} sends it on to an ioreq server or the null handler.
 *
 * <p>The per-entry state is the caller's: {@code accValid} has bit {@code 3 * entry + dword} set
 * when the shadow of address-low (dword 0), address-high (1) or data (2) of entry 0, 1 or 2 has
 * been written; {@code tableFlag} is the entry's bit of {@code table_flags} (address or data
 * written since the last unmask exit). Pure: primitives in, a constant out.
 */
public final class MsixtblAccess {
  /** Bytes per table entry. */
  private static final int ENTRY = 16;

  /** Vector Control's offset in an entry. */
  private static final int VECTOR_CONTROL = 12;

  /** Entries with address/data shadows ({@code MAX_MSIX_ACC_ENTRIES}). */
  public static final int SHADOWED_ENTRIES = 3;

  private MsixtblAccess() {}

  /**
   * A load.
   *
   * @param s the era's switches
   * @param address the guest-physical address
   * @param len 1, 2, 4 or 8
   * @param gtable the table's guest-physical address
   * @param tableLen the table's length in bytes (16 per entry)
   * @param entryBound whether the entry {@code address} falls in has a bound {@code msi_desc}
   * @param accValid which shadow dwords are valid (see the class comment)
   * @param adjacentMapped whether the table's first and last pages have a fixmap (4.19+)
   * @return the reason
   */
  public static AccessReason read(RoMmioSwitches s, long address, int len, long gtable,
      int tableLen, boolean entryBound, int accValid, boolean adjacentMapped) {
    if (!accepts(s, address, gtable, tableLen, entryBound)) {
      return AccessReason.MSIXTBL_NOT_CLAIMED;
    }
    if (s.msixtblAlignmentCheck() && (address & (len - 1)) != 0) {
      return AccessReason.MSIXTBL_READ_UNALIGNED;
    }
    if (!inTable(address, gtable, tableLen)) {
      return adjacentMapped ? AccessReason.MSIXTBL_ADJACENT_READ
          : AccessReason.MSIXTBL_ADJACENT_READ_UNMAPPED;
    }
    if (!sizeServed(s, len)) {
      return AccessReason.MSIXTBL_READ_SIZE;
    }
    long entry = (address - gtable) / ENTRY;
    int offset = (int) (address & (ENTRY - 1));
    if (offset != VECTOR_CONTROL) {
      int dword = offset / 4;
      if (entry >= SHADOWED_ENTRIES) {
        return AccessReason.MSIXTBL_READ_NO_SHADOW;
      }
      if (s.msixtblShadowValidity() && !valid(accValid, entry, dword)) {
        return AccessReason.MSIXTBL_READ_NO_SHADOW;
      }
      if (len != 8) {
        return AccessReason.MSIXTBL_READ_SHADOW;
      }
      if (dword == 0) {
        return !s.msixtblShadowValidity() || valid(accValid, entry, 1)
            ? AccessReason.MSIXTBL_READ_SHADOW : AccessReason.MSIXTBL_READ_NO_SHADOW;
      }
      // An 8-byte read at +8: data from the shadow, the mask bit from the msi_desc.
      return entryBound ? AccessReason.MSIXTBL_READ_SHADOW : AccessReason.MSIXTBL_READ_NO_SHADOW;
    }
    if (!s.msixtblMaskBitOnly()) {
      return AccessReason.MSIXTBL_READ_CONTROL_RAW;
    }
    return entryBound ? AccessReason.MSIXTBL_READ_MASK_BIT : AccessReason.MSIXTBL_NOT_CLAIMED;
  }

  /**
   * A store.
   *
   * @param s the era's switches
   * @param address the guest-physical address
   * @param len 1, 2, 4 or 8
   * @param value the value stored
   * @param gtable the table's guest-physical address
   * @param tableLen the table's length in bytes
   * @param entryBound whether the entry has a bound {@code msi_desc}
   * @param tableFlag the entry's {@code table_flags} bit before the store
   * @param adjacentMapped whether the table's first and last pages have a fixmap
   * @param pbaSharesPage whether the PBA shares the table's first or last page ({@code
   *     table.last == pba.first} or {@code table.first == pba.last})
   * @return the reason
   */
  public static AccessReason write(RoMmioSwitches s, long address, int len, long value,
      long gtable, int tableLen, boolean entryBound, boolean tableFlag, boolean adjacentMapped,
      boolean pbaSharesPage) {
    if (!accepts(s, address, gtable, tableLen, entryBound)) {
      return AccessReason.MSIXTBL_NOT_CLAIMED;
    }
    if (s.msixtblAlignmentCheck() && (address & (len - 1)) != 0) {
      return AccessReason.MSIXTBL_WRITE_UNALIGNED;
    }
    if (!inTable(address, gtable, tableLen)) {
      return !adjacentMapped || pbaSharesPage ? AccessReason.MSIXTBL_ADJACENT_WRITE_DISCARDED
          : AccessReason.MSIXTBL_ADJACENT_WRITE;
    }
    if (!sizeServed(s, len)) {
      return AccessReason.MSIXTBL_WRITE_SIZE;
    }
    int offset = (int) (address & (ENTRY - 1));
    long control = value;
    boolean flagged = tableFlag;
    if (offset != VECTOR_CONTROL) {
      if (len != 8 || offset / 4 == 0) {
        return AccessReason.MSIXTBL_WRITE_ADDRESS_DATA;
      }
      // An 8-byte store at +8: data shadowed and flagged, then the high half as Vector Control.
      flagged = true;
      control = value >>> 32;
    }
    boolean unmask = (control & 1) == 0;
    if (flagged && (unmask || !s.msixtblDeferOnlyUnmask())) {
      return AccessReason.MSIXTBL_UNMASK_DEFERRED;
    }
    if (!s.msixtblMaskBitOnly()) {
      return AccessReason.MSIXTBL_WRITE_CONTROL_RAW;
    }
    return entryBound ? AccessReason.MSIXTBL_GUEST_MASK : AccessReason.MSIXTBL_NOT_CLAIMED;
  }

  /**
   * {@code msixtbl_range}'s snoop of a store it does not take (3a6222bd57, 854c6aab46): the
   * address of the Vector Control dword the store may unmask, or -1. A plain store (the ioreq
   * carries its data) is snooped when it writes 4 bytes of Vector Control with bit 0 clear, the
   * high half of an 8-byte store counting as a 4-byte store at {@code address + 4}; a forward
   * {@code movs} of one 4- or 8-byte element (the ioreq carries a pointer to its source) when it
   * ends at an entry's end, its last dword then checked when the I/O completes.
   *
   * @param address the guest-physical address
   * @param len the element size
   * @param value the value stored
   * @param movs whether the store is a {@code movs} element
   * @return the snooped Vector Control address, or -1
   */
  public static long snoopAddress(long address, int len, long value, boolean movs) {
    if (movs) {
      return (len == 4 || len == 8) && ((address + len) & (ENTRY - 1)) == 0
          ? address + len - 4 : -1;
    }
    long a = address;
    long v = value;
    int n = len;
    if (n == 8) {
      v >>>= 32;
      a += 4;
      n = 4;
    }
    return n == 4 && (a & (ENTRY - 1)) == VECTOR_CONTROL && (v & 1) == 0 ? a : -1;
  }

  /**
   * {@code msixtbl_range}: whether msixtbl takes the access at all. Today: on a page the table
   * spans, and either outside the table (an adjacent register) or in an entry with a bound {@code
   * msi_desc}; the seed: inside the table.
   *
   * @param s the era's switches
   * @param address the guest-physical address
   * @param gtable the table's guest-physical address
   * @param tableLen the table's length in bytes
   * @param entryBound whether the entry has a bound {@code msi_desc}
   * @return whether msixtbl handles it
   */
  public static boolean accepts(RoMmioSwitches s, long address, long gtable, int tableLen,
      boolean entryBound) {
    if (inTable(address, gtable, tableLen)) {
      return entryBound || !s.msixtblBoundEntriesOnly();
    }
    long page = address >>> 12;
    return s.msixtblAdjacent() && page >= gtable >>> 12
        && page <= (gtable + tableLen - 1) >>> 12;
  }

  private static boolean inTable(long address, long gtable, int tableLen) {
    return address >= gtable && address - gtable < tableLen;
  }

  private static boolean sizeServed(RoMmioSwitches s, int len) {
    return len == 4 || (len == 8 && s.msixtblQword());
  }

  private static boolean valid(int accValid, long entry, int dword) {
    return (accValid >>> (3 * (int) entry + dword) & 1) != 0;
  }
}
