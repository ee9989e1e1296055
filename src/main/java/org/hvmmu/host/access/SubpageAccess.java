package org.hvmmu.host.access;

/**
 * Xen's sub-page read-only MMIO emulation: {@code subpage_mmio_write_emulate} ({@code
 * arch/x86/mm.c}), which PV's {@code mmio_ro_emulated_write} calls ({@link PvRoAccess}), and the
 * HVM handler {@code subpage_mmio_read}/{@code subpage_mmio_write} ({@code arch/x86/hvm/mmio.c},
 * 4.21+), an internal handler for {@link HapRoAccess} whose {@code .check} takes an {@code
 * mmio_direct} page with a sub-page entry. Read at RELEASE-4.20.0 and RELEASE-4.22.0 (reference
 * {@code msix-emulation.md} section 1.5, vectors S1-S5). Pure.
 */
public final class SubpageAccess {
  private SubpageAccess() {}

  /**
   * {@code subpage_mmio_write_emulate} for a frame with a sub-page entry.
   *
   * @param s the era's switches ({@link RoMmioSwitches#subpageFixes()}: off is 4.20, which writes
   *     at the page's offset 0 and reaches the size ASSERT for stores wider than 8 bytes)
   * @param state the start slot's state ({@link SubpageState#NONE}: no entry, silently ignored)
   * @param bytes the store's width (from PV; 4.21+ drops a store wider than 8 bytes with a log line
   *     before it gets here, 4.20 reaches the slot check and then the size ASSERT)
   * @return the reason
   */
  public static AccessReason emulateWrite(RoMmioSwitches s, SubpageState state, int bytes) {
    if (state == SubpageState.NONE) {
      return bytes <= 8 ? AccessReason.MMIO_RO_DROPPED : AccessReason.MMIO_RO_WIDE_DROPPED;
    }
    if (bytes > 8 && s.subpageFixes()) {
      return AccessReason.MMIO_RO_WIDE_LOGGED; // mmio_ro_emulated_write never calls it then
    }
    if (state == SubpageState.READ_ONLY_SLOT) {
      return AccessReason.SUBPAGE_IGNORED;
    }
    if (bytes > 8) {
      return AccessReason.SUBPAGE_SIZE_ASSERT;
    }
    return s.subpageFixes() ? AccessReason.SUBPAGE_WRITTEN
        : AccessReason.SUBPAGE_WRITTEN_AT_PAGE_START;
  }

  /**
   * The HVM handler's load ({@code subpage_mmio_read}): a length of 0, above 8 or not a power of
   * two, or a misaligned address, reads all ones; otherwise the device.
   *
   * @param address the guest-physical address
   * @param len the length
   * @return the reason
   */
  public static AccessReason read(long address, int len) {
    return valid(address, len) ? AccessReason.SUBPAGE_READ : AccessReason.SUBPAGE_READ_INVALID;
  }

  /**
   * The HVM handler's store ({@code subpage_mmio_write}): an invalid access is logged and dropped;
   * a valid one goes to {@link #emulateWrite}.
   *
   * @param s the era's switches
   * @param state the start slot's state (the page has an entry)
   * @param address the guest-physical address
   * @param len the length
   * @return the reason
   */
  public static AccessReason write(RoMmioSwitches s, SubpageState state, long address, int len) {
    if (!valid(address, len)) {
      return AccessReason.SUBPAGE_WRITE_INVALID;
    }
    return emulateWrite(s, state, len);
  }

  private static boolean valid(long address, int len) {
    return len > 0 && len <= 8 && (len & (len - 1)) == 0 && (address & (len - 1)) == 0;
  }
}
