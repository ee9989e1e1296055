package org.hvmmu.host.access;

/**
 * What an access to a protected page does, era by era: one named switch for each difference
 * between the seed's Xen (RELEASE-4.0.0/4.1.0, the era of b5aadd4248) and Xen 4.22
 * (RELEASE-4.22.0), with the commit that made it. The decisions are {@link PvRoAccess}, {@link
 * HapRoAccess}, {@link ShadowRoAccess} and {@link MsixtblAccess}; {@code docs/access.md} has the
 * tables.
 *
 * <p>Every switch is off in {@link #SEED_2010}; {@link #XEN_4_22} has every switch on but {@code
 * subpageOwnedBytes}, hvmmu's own fix, which {@link #HARDENED} adds: Xen 4.22's sub-page list
 * checks 8-byte slots by a store's start, cannot be removed and serves only the hardware domain's
 * PV stores. No other access decision of 4.22 was found that hvmmu's hardened model should change
 * (the shadow-paging re-fault loop, the same in both eras, is kept as a distinct outcome rather
 * than given a fix Xen does not have).
 *
 * @param pvMmioRoEmulation the hardware domain's kernel-mode stores to read-only MMIO are emulated
 *     by {@code mmio_ro_do_page_fault} (56b3130c1a, 4.2); off: they reach only the page-table
 *     emulator, which refuses them, and the #PF goes to the guest
 * @param pvMmcfgIntercept MMCFG frames go through {@code mmcfg_intercept_write} and {@code
 *     pci_conf_write_intercept} (9256f66c16, 4.6); off: they are read-only MMIO like any other
 * @param msixHostMaskall Xen keeps the host's and the guest's mask-all requests apart ({@code
 *     host_maskall}, {@code guest_maskall}: 484d7c852e) and masks with care where the function's
 *     memory is not decoded (082fdc6ce8), both 4.6: the hardware domain's 2-byte Message Control
 *     write through the MMCFG intercept records {@code guest_maskall} and keeps Function Mask set
 *     while {@code host_maskall} is; an entry Xen cannot mask because memory decoding is off is
 *     masked by forcing Function Mask ({@code host_maskall}); the first vector's set-up makes
 *     Function Mask the guest's; off: the seed's disable clears Enable, writes the entry's mask
 *     (lost while memory is not decoded) and restores Message Control, and nothing tracks mask-all
 * @param hvmRoMmioEmulation an HVM store to read-only {@code mmio_direct} goes to {@code
 *     handle_mmio_with_translation} (8f36bde2b2, 4.21), where the null handler discards it; off:
 *     {@code hvm_hap_nested_page_fault} returns 0 and the domain crashes
 * @param msixtblAlignmentCheck msixtbl refuses misaligned accesses (74c213c506, 4.2: reads go to
 *     the device model, writes are ignored); off: a misaligned access is served as if aligned, at
 *     the dword its offset names
 * @param msixtblQword msixtbl serves 8-byte accesses (284ffb4f9b, 4.6); off: 4 bytes only
 * @param msixtblShadowValidity a shadow dword is served only once written ({@code acc_valid},
 *     df9f5676b3, 4.6); off: entries 0 to 2 are served from their shadows from the start (zeros)
 * @param msixtblMaskBitOnly Vector Control reads return only the guest's mask bit and writes act
 *     only on bit 0 through {@code guest_mask_msi_irq} (74c213c506, 4.2; a35137373a, 4.4); off: the
 *     dword is read from and written to the device raw
 * @param msixtblBoundEntriesOnly {@code msixtbl_range} takes table accesses only for entries with a
 *     bound {@code msi_desc} (as at RELEASE-4.22.0); off: every address of the table whose page has
 *     a fixmap (as at RELEASE-4.1.0)
 * @param msixtblDeferOnlyUnmask only an unmasking Vector Control write (bit 0 clear) after an
 *     address or data change is left to the device model, and the change stays recorded across a
 *     masking write (70a3cbb8c9, 4.6); off: any Vector Control write after such a change is, and
 *     clears the record
 * @param msixtblUnmaskReplay the unmask left to the device model is latched ({@code
 *     msix_unmask_address}) and replayed as a 4-byte write of 0 to Vector Control once the ioreq
 *     completes ({@code msix_write_completion}, 74fd0036de, 4.4); off: it is lost, and the vector
 *     stays masked in the device
 * @param msixtblUnmaskSnoop an unmasking Vector Control write msixtbl does not take (its entry not
 *     yet bound) is snooped ({@code msix_snoop_address}), and turned into a replayed unmask when the
 *     device model binds the entry while the vCPU waits (3a6222bd57, 4.7) or, for a {@code movs},
 *     when the ioreq completes (854c6aab46, 4.7); off: that first unmask is lost
 * @param msixtblAdjacent accesses to other registers on the table's first or last page go to the
 *     device through a fixmap (b2cd07a044, 4.19); off: msixtbl does not take them
 * @param msixtblDmSeesAllWrites every aligned write msixtbl handles is also forwarded to the device
 *     model ({@code XENFEAT_dm_msix_all_writes}, 64b21662b1, 4.19); off: handled writes end in Xen
 * @param subpageRo Xen keeps a sub-page read-only list and emulates stores to a frame's writable
 *     8-byte slots ({@code subpage_mmio_ro_add}, 8847d6e23f, 4.20); off: a frame in {@code
 *     mmio_ro_ranges} is wholly read-only
 * @param subpageFixes the sub-page emulator writes at the store's offset (38d0780979) and drops
 *     stores wider than 8 bytes with a log line (8dbd9966f8), both 4.21; off: 4.20's writes at the
 *     page's offset 0 and its size ASSERT
 * @param subpageOwnedBytes hvmmu's fix, no Xen commit: sub-page protection is byte-granular, with
 *     owners and removal ({@code Host.protectBytes}), checks every byte of a store rather than the
 *     8-byte slot its start falls in, serves any domain that maps the frame (Xen's PV path serves
 *     only the hardware domain), and protects exactly the bytes of an MSI-X table and PBA that
 *     share a page with other registers, so stores to those registers reach the device; off: Xen's
 *     {@code subpage_mmio_ro_add} list only (set-up time, 8-byte slots, no removal), and MSI-X
 *     frames are wholly read-only
 */
public record RoMmioSwitches(
    boolean pvMmioRoEmulation,
    boolean pvMmcfgIntercept,
    boolean msixHostMaskall,
    boolean hvmRoMmioEmulation,
    boolean msixtblAlignmentCheck,
    boolean msixtblQword,
    boolean msixtblShadowValidity,
    boolean msixtblMaskBitOnly,
    boolean msixtblBoundEntriesOnly,
    boolean msixtblDeferOnlyUnmask,
    boolean msixtblUnmaskReplay,
    boolean msixtblUnmaskSnoop,
    boolean msixtblAdjacent,
    boolean msixtblDmSeesAllWrites,
    boolean subpageRo,
    boolean subpageFixes,
    boolean subpageOwnedBytes) {

  /** The seed's era (Xen 4.0/4.1): every switch off. */
  public static final RoMmioSwitches SEED_2010 =
      new RoMmioSwitches(false, false, false, false, false, false, false, false, false, false,
          false, false, false, false, false, false, false);

  /** Xen 4.22 as released: every switch on but hvmmu's {@code subpageOwnedBytes}. */
  public static final RoMmioSwitches XEN_4_22 =
      new RoMmioSwitches(true, true, true, true, true, true, true, true, true, true, true, true,
          true, true, true, true, false);

  /** hvmmu's hardened model: {@link #XEN_4_22} with byte-granular, owned sub-page protection. */
  public static final RoMmioSwitches HARDENED = XEN_4_22.withSubpageOwnedBytes(true);

  /**
   * These switches with {@code pvMmioRoEmulation} replaced.
   *
   * @param on the new value
   * @return the switches
   */
  public RoMmioSwitches withPvMmioRoEmulation(boolean on) {
    return new RoMmioSwitches(on, pvMmcfgIntercept, msixHostMaskall, hvmRoMmioEmulation,
        msixtblAlignmentCheck, msixtblQword, msixtblShadowValidity, msixtblMaskBitOnly,
        msixtblBoundEntriesOnly, msixtblDeferOnlyUnmask, msixtblUnmaskReplay, msixtblUnmaskSnoop,
        msixtblAdjacent, msixtblDmSeesAllWrites, subpageRo, subpageFixes, subpageOwnedBytes);
  }

  /**
   * These switches with {@code pvMmcfgIntercept} replaced.
   *
   * @param on the new value
   * @return the switches
   */
  public RoMmioSwitches withPvMmcfgIntercept(boolean on) {
    return new RoMmioSwitches(pvMmioRoEmulation, on, msixHostMaskall, hvmRoMmioEmulation,
        msixtblAlignmentCheck, msixtblQword, msixtblShadowValidity, msixtblMaskBitOnly,
        msixtblBoundEntriesOnly, msixtblDeferOnlyUnmask, msixtblUnmaskReplay, msixtblUnmaskSnoop,
        msixtblAdjacent, msixtblDmSeesAllWrites, subpageRo, subpageFixes, subpageOwnedBytes);
  }

  /**
   * These switches with {@code msixHostMaskall} replaced.
   *
   * @param on the new value
   * @return the switches
   */
  public RoMmioSwitches withMsixHostMaskall(boolean on) {
    return new RoMmioSwitches(pvMmioRoEmulation, pvMmcfgIntercept, on, hvmRoMmioEmulation,
        msixtblAlignmentCheck, msixtblQword, msixtblShadowValidity, msixtblMaskBitOnly,
        msixtblBoundEntriesOnly, msixtblDeferOnlyUnmask, msixtblUnmaskReplay, msixtblUnmaskSnoop,
        msixtblAdjacent, msixtblDmSeesAllWrites, subpageRo, subpageFixes, subpageOwnedBytes);
  }

  /**
   * These switches with {@code hvmRoMmioEmulation} replaced.
   *
   * @param on the new value
   * @return the switches
   */
  public RoMmioSwitches withHvmRoMmioEmulation(boolean on) {
    return new RoMmioSwitches(pvMmioRoEmulation, pvMmcfgIntercept, msixHostMaskall, on,
        msixtblAlignmentCheck, msixtblQword, msixtblShadowValidity, msixtblMaskBitOnly,
        msixtblBoundEntriesOnly, msixtblDeferOnlyUnmask, msixtblUnmaskReplay, msixtblUnmaskSnoop,
        msixtblAdjacent, msixtblDmSeesAllWrites, subpageRo, subpageFixes, subpageOwnedBytes);
  }

  /**
   * These switches with every msixtbl switch set to {@code on} (the others kept).
   *
   * @param on the new value of the ten msixtbl switches
   * @return the switches
   */
  public RoMmioSwitches withMsixtbl(boolean on) {
    return new RoMmioSwitches(pvMmioRoEmulation, pvMmcfgIntercept, msixHostMaskall,
        hvmRoMmioEmulation, on, on, on, on, on, on, on, on, on, on, subpageRo, subpageFixes,
        subpageOwnedBytes);
  }

  /**
   * These switches with {@code msixtblDmSeesAllWrites} replaced.
   *
   * @param on the new value
   * @return the switches
   */
  public RoMmioSwitches withMsixtblDmSeesAllWrites(boolean on) {
    return new RoMmioSwitches(pvMmioRoEmulation, pvMmcfgIntercept, msixHostMaskall,
        hvmRoMmioEmulation, msixtblAlignmentCheck, msixtblQword, msixtblShadowValidity,
        msixtblMaskBitOnly, msixtblBoundEntriesOnly, msixtblDeferOnlyUnmask, msixtblUnmaskReplay,
        msixtblUnmaskSnoop, msixtblAdjacent, on, subpageRo, subpageFixes, subpageOwnedBytes);
  }

  /**
   * These switches with the unmask replay and snoop on or off ({@code msix_write_completion}).
   *
   * @param replay {@code msixtblUnmaskReplay}
   * @param snoop {@code msixtblUnmaskSnoop}
   * @return the switches
   */
  public RoMmioSwitches withMsixtblUnmask(boolean replay, boolean snoop) {
    return new RoMmioSwitches(pvMmioRoEmulation, pvMmcfgIntercept, msixHostMaskall,
        hvmRoMmioEmulation, msixtblAlignmentCheck, msixtblQword, msixtblShadowValidity,
        msixtblMaskBitOnly, msixtblBoundEntriesOnly, msixtblDeferOnlyUnmask, replay, snoop,
        msixtblAdjacent, msixtblDmSeesAllWrites, subpageRo, subpageFixes, subpageOwnedBytes);
  }

  /**
   * These switches with the sub-page list on or off, and its 4.21 fixes.
   *
   * @param list {@code subpageRo}
   * @param fixes {@code subpageFixes}
   * @return the switches
   */
  public RoMmioSwitches withSubpage(boolean list, boolean fixes) {
    return new RoMmioSwitches(pvMmioRoEmulation, pvMmcfgIntercept, msixHostMaskall,
        hvmRoMmioEmulation, msixtblAlignmentCheck, msixtblQword, msixtblShadowValidity,
        msixtblMaskBitOnly, msixtblBoundEntriesOnly, msixtblDeferOnlyUnmask, msixtblUnmaskReplay,
        msixtblUnmaskSnoop, msixtblAdjacent, msixtblDmSeesAllWrites, list, fixes, subpageOwnedBytes);
  }

  /**
   * These switches with {@code subpageOwnedBytes} replaced.
   *
   * @param on the new value
   * @return the switches
   */
  public RoMmioSwitches withSubpageOwnedBytes(boolean on) {
    return new RoMmioSwitches(pvMmioRoEmulation, pvMmcfgIntercept, msixHostMaskall,
        hvmRoMmioEmulation, msixtblAlignmentCheck, msixtblQword, msixtblShadowValidity,
        msixtblMaskBitOnly, msixtblBoundEntriesOnly, msixtblDeferOnlyUnmask, msixtblUnmaskReplay,
        msixtblUnmaskSnoop, msixtblAdjacent, msixtblDmSeesAllWrites, subpageRo, subpageFixes, on);
  }
}
