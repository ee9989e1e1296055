package org.hvmmu.pci.msix.regs;

/**
 * An x86 MSI message decoded into an interrupt, packed into a {@code long} so that decoding
 * allocates nothing; static accessors read the fields. Two formats (reference §8):
 *
 * <ul>
 *   <li>Compatibility (Intel SDM Vol. 3, "Message Address Register Format" and "Message Data
 *       Register Format"): address bits 31:20 = 0xFEE, 19:12 destination ID, 11:5 the extended
 *       destination ID (bits 14:8 of a 15-bit APIC ID) when the hypervisor advertises it, 3 RH, 2
 *       DM; data bits 7:0 vector, 10:8 delivery mode, 14 level, 15 trigger mode.
 *   <li>Remappable (VT-d §5.1.2.2, address bit 4 = 1): bits 19:5 handle[14:0], bit 2 handle[15],
 *       bit 3 SHV; with SHV the data's bits 15:0 are the subhandle added to the handle, and bits
 *       31:16 must be 0 (else a reserved-field fault).
 * </ul>
 *
 * <p>The packed layout: bits 7:0 vector, 10:8 delivery mode, 11 logical destination mode, 12
 * redirection hint, 13 level-triggered, 14 assert, 15 remappable, 16 SHV, 17 not an interrupt
 * (address bits 31:20 are not 0xFEE, or the high address dword is not 0), 18 reserved-data fault,
 * 47:32 destination ID (compatibility) or handle (remappable), 63:48 subhandle (remappable with
 * SHV). A remappable interrupt has no vector, mode or destination of its own: those are in the
 * interrupt remapping table entry at {@link #irteIndex}.
 */
public final class MsiInterrupt {
  /** Address bits 31:20 of every interrupt message: 0xFEE (SDM, Message Address Register). */
  public static final long ADDRESS_BASE = 0xfee0_0000L;
  /** The bits {@link #ADDRESS_BASE} occupies: 31:20. */
  public static final long ADDRESS_BASE_MASK = 0xfff0_0000L;
  /** Address bits 19:12: destination ID (SDM, Message Address Register). */
  public static final int ADDRESS_DEST_ID_SHIFT = 12;
  /** Address bits 11:5: extended destination ID, APIC ID bits 14:8 (Xen f559232206, KVM). */
  public static final int ADDRESS_EXT_DEST_ID_SHIFT = 5;
  /** Address bit 4: interrupt format, 1 = remappable (VT-d §5.1.2.2). */
  public static final long ADDRESS_REMAPPABLE = 1L << 4;
  /** Address bit 3: redirection hint (compatibility), SHV (remappable). */
  public static final long ADDRESS_RH = 1L << 3;
  /** Address bit 2: destination mode, 1 = logical (compatibility); handle[15] (remappable). */
  public static final long ADDRESS_DM = 1L << 2;
  /** Delivery mode 000: Fixed (SDM, Message Data Register). */
  public static final int DELIVERY_FIXED = 0;
  /** Delivery mode 001: Lowest Priority. */
  public static final int DELIVERY_LOWEST_PRIORITY = 1;
  /** Delivery mode 010: SMI. */
  public static final int DELIVERY_SMI = 2;
  /** Delivery mode 100: NMI. */
  public static final int DELIVERY_NMI = 4;
  /** Delivery mode 101: INIT. */
  public static final int DELIVERY_INIT = 5;
  /** Delivery mode 111: ExtINT. */
  public static final int DELIVERY_EXTINT = 7;
  /** Data bit 14: level, 1 = assert (SDM, Message Data Register). */
  public static final int DATA_LEVEL_ASSERT = 1 << 14;
  /** Data bit 15: trigger mode, 1 = level. */
  public static final int DATA_TRIGGER_LEVEL = 1 << 15;

  private static final long LOGICAL = 1L << 11;
  private static final long RH = 1L << 12;
  private static final long LEVEL_TRIGGERED = 1L << 13;
  private static final long ASSERT = 1L << 14;
  private static final long REMAPPABLE = 1L << 15;
  private static final long SHV = 1L << 16;
  private static final long NOT_INTERRUPT = 1L << 17;
  private static final long RESERVED_DATA = 1L << 18;

  private MsiInterrupt() {}

  /**
   * Decodes a message.
   *
   * @param address the 64-bit message address
   * @param data the 32-bit message data
   * @param extendedDestinationId whether address bits 11:5 are destination ID bits 14:8 (the
   *     hypervisor advertises it); if not they are reserved and ignored
   * @return the packed interrupt
   */
  public static long decode(long address, int data, boolean extendedDestinationId) {
    long packed = 0;
    if ((address & ~0xffff_ffffL) != 0 || (address & ADDRESS_BASE_MASK) != ADDRESS_BASE) {
      packed |= NOT_INTERRUPT;
    }
    if ((address & ADDRESS_REMAPPABLE) != 0) {
      long handle = (address >>> 5 & 0x7fff) | ((address & ADDRESS_DM) != 0 ? 0x8000 : 0);
      packed |= REMAPPABLE | handle << 32;
      if ((address & ADDRESS_RH) != 0) {
        packed |= SHV | (long) (data & 0xffff) << 48;
        if ((data & 0xffff_0000) != 0) {
          packed |= RESERVED_DATA;
        }
      }
      return packed;
    }
    long dest = address >>> ADDRESS_DEST_ID_SHIFT & 0xff;
    if (extendedDestinationId) {
      dest |= (address >>> ADDRESS_EXT_DEST_ID_SHIFT & 0x7f) << 8;
    }
    packed |= data & 0x7ff | dest << 32;
    packed |= (address & ADDRESS_DM) != 0 ? LOGICAL : 0;
    packed |= (address & ADDRESS_RH) != 0 ? RH : 0;
    packed |= (data & DATA_TRIGGER_LEVEL) != 0 ? LEVEL_TRIGGERED : 0;
    packed |= (data & DATA_LEVEL_ASSERT) != 0 ? ASSERT : 0;
    return packed;
  }

  /**
   * Whether the message is an interrupt at all (address bits 31:20 = 0xFEE, high dword 0).
   *
   * @param interrupt a packed interrupt
   * @return false for a message that would be a plain memory write (or a VT-d fault)
   */
  public static boolean isInterrupt(long interrupt) {
    return (interrupt & NOT_INTERRUPT) == 0;
  }

  /**
   * The vector (data bits 7:0; compatibility format).
   *
   * @param interrupt a packed interrupt
   * @return 0..255
   */
  public static int vector(long interrupt) {
    return (int) (interrupt & 0xff);
  }

  /**
   * The delivery mode (data bits 10:8; compatibility format).
   *
   * @param interrupt a packed interrupt
   * @return one of the {@code DELIVERY_} constants, or 3 or 6 (reserved)
   */
  public static int deliveryMode(long interrupt) {
    return (int) (interrupt >>> 8 & 7);
  }

  /**
   * Whether the destination mode is logical (address bit 2).
   *
   * @param interrupt a packed interrupt
   * @return true for logical, false for physical
   */
  public static boolean isLogical(long interrupt) {
    return (interrupt & LOGICAL) != 0;
  }

  /**
   * The redirection hint (address bit 3).
   *
   * @param interrupt a packed interrupt
   * @return true for lowest-priority redirection among the destinations
   */
  public static boolean redirectionHint(long interrupt) {
    return (interrupt & RH) != 0;
  }

  /**
   * Whether the trigger mode is level (data bit 15).
   *
   * @param interrupt a packed interrupt
   * @return true for level, false for edge
   */
  public static boolean isLevelTriggered(long interrupt) {
    return (interrupt & LEVEL_TRIGGERED) != 0;
  }

  /**
   * The level (data bit 14; meaningful for level trigger only).
   *
   * @param interrupt a packed interrupt
   * @return true for assert, false for deassert
   */
  public static boolean isAssert(long interrupt) {
    return (interrupt & ASSERT) != 0;
  }

  /**
   * The destination APIC ID (compatibility format): 8 bits, or 15 with the extended ID.
   *
   * @param interrupt a packed interrupt
   * @return the destination ID
   */
  public static int destination(long interrupt) {
    return (interrupt & REMAPPABLE) != 0 ? 0 : (int) (interrupt >>> 32 & 0xffff);
  }

  /**
   * Whether the message is in the remappable format (address bit 4).
   *
   * @param interrupt a packed interrupt
   * @return true if remappable
   */
  public static boolean isRemappable(long interrupt) {
    return (interrupt & REMAPPABLE) != 0;
  }

  /**
   * The handle (remappable format: address bits 19:5 and bit 2 as bit 15).
   *
   * @param interrupt a packed interrupt
   * @return the handle, or 0 in the compatibility format
   */
  public static int handle(long interrupt) {
    return (interrupt & REMAPPABLE) != 0 ? (int) (interrupt >>> 32 & 0xffff) : 0;
  }

  /**
   * Whether a subhandle is valid (remappable format, address bit 3).
   *
   * @param interrupt a packed interrupt
   * @return true if SHV is set
   */
  public static boolean hasSubhandle(long interrupt) {
    return (interrupt & SHV) != 0;
  }

  /**
   * The subhandle (data bits 15:0, remappable format with SHV).
   *
   * @param interrupt a packed interrupt
   * @return the subhandle, or 0
   */
  public static int subhandle(long interrupt) {
    return (int) (interrupt >>> 48 & 0xffff);
  }

  /**
   * The interrupt remapping table index: handle + (SHV ? subhandle : 0) (VT-d §5.1.3).
   *
   * @param interrupt a packed interrupt
   * @return the index (up to 0x1fffe), or -1 in the compatibility format
   */
  public static int irteIndex(long interrupt) {
    return isRemappable(interrupt) ? handle(interrupt) + subhandle(interrupt) : -1;
  }

  /**
   * Whether the remappable message has data bits 31:16 set while SHV is 1: a reserved-field fault
   * (VT-d; QEMU {@code vtd_interrupt_remap_msi}).
   *
   * @param interrupt a packed interrupt
   * @return true for the fault
   */
  public static boolean hasReservedDataFault(long interrupt) {
    return (interrupt & RESERVED_DATA) != 0;
  }

  /**
   * The interrupt as text for expect lines and messages (allocates; not for the delivery path).
   *
   * @param interrupt a packed interrupt
   * @return e.g. {@code "dest 0x3 logical rh lowest-priority level deassert vector 0x41"} or
   *     {@code "remappable handle 0x25 shv subhandle 0x0 irte 0x25"}
   */
  public static String toString(long interrupt) {
    StringBuilder sb = new StringBuilder();
    if (!isInterrupt(interrupt)) {
      sb.append("not-interrupt ");
    }
    if (isRemappable(interrupt)) {
      sb.append("remappable handle 0x").append(Integer.toHexString(handle(interrupt)));
      if (hasSubhandle(interrupt)) {
        sb.append(" shv subhandle 0x").append(Integer.toHexString(subhandle(interrupt)));
      }
      sb.append(" irte 0x").append(Integer.toHexString(irteIndex(interrupt)));
      if (hasReservedDataFault(interrupt)) {
        sb.append(" reserved-data-fault");
      }
      return sb.toString();
    }
    sb.append("dest 0x").append(Integer.toHexString(destination(interrupt)));
    sb.append(isLogical(interrupt) ? " logical" : " physical");
    if (redirectionHint(interrupt)) {
      sb.append(" rh");
    }
    sb.append(' ').append(modeName(deliveryMode(interrupt)));
    sb.append(isLevelTriggered(interrupt)
        ? (isAssert(interrupt) ? " level assert" : " level deassert") : " edge");
    sb.append(" vector 0x").append(Integer.toHexString(vector(interrupt)));
    return sb.toString();
  }

  private static String modeName(int mode) {
    return switch (mode) {
      case DELIVERY_FIXED -> "fixed";
      case DELIVERY_LOWEST_PRIORITY -> "lowest-priority";
      case DELIVERY_SMI -> "smi";
      case DELIVERY_NMI -> "nmi";
      case DELIVERY_INIT -> "init";
      case DELIVERY_EXTINT -> "extint";
      default -> "reserved-mode-" + mode;
    };
  }
}
