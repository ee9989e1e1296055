package org.hvmmu.pci.msix;

/**
 * Where an MSI-X table or PBA lies: its BAR and offset, its length, and, when the BAR has a usable
 * address, its physical address and the inclusive range {@code [firstFrame, lastFrame]} of 4 KiB
 * frames it occupies.
 *
 * <p>When the BAR is unusable ({@code read_pci_mem_bar} gives 0: an I/O BAR, an unassigned one, a
 * BIR beyond the header's BARs) {@link #usable()} is false and the address and frames are 0; Xen
 * would refuse to set up the table ({@code -ENXIO}) or WARN for the PBA. A region is also unusable
 * when its address cannot be computed: BAR + offset wraps past 2^64, its last byte lies beyond
 * 2^64, or a 32-bit BAR places it above 4 GiB ({@link MsixTableDescriptor#unusableReason}); the
 * layout warns then, and hvmmu's hardened model refuses to set it up ({@code -ENXIO}).
 *
 * @param bir the BAR Indicator Register, {@code 0..7}
 * @param offset the offset in the BAR
 * @param length the length in bytes that the frames were computed for
 * @param usable whether the BAR read gave an address and the address arithmetic stayed in range
 * @param address the physical address (BAR + offset), or 0
 * @param firstFrame the first frame, or 0
 * @param lastFrame the last frame, inclusive, or 0
 */
public record MsixRegion(
    int bir,
    long offset,
    long length,
    boolean usable,
    long address,
    long firstFrame,
    long lastFrame) {
  /** The region of an absent capability. */
  public static final MsixRegion NONE = new MsixRegion(0, 0, 0, false, 0, 0, 0);

  /**
   * The number of frames.
   *
   * @return {@code lastFrame - firstFrame + 1}, or 0 when not usable
   */
  public long frameCount() {
    return usable ? lastFrame - firstFrame + 1 : 0;
  }
}
