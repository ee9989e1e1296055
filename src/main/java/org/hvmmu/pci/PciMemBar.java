package org.hvmmu.pci;

/**
 * Xen's {@code read_pci_mem_bar} (xen/arch/x86/msi.c): the physical base address of a memory BAR,
 * read from configuration space, or 0 for "unusable". A pure function of the configuration space.
 *
 * <p>Corrected semantics (reference §3.2):
 *
 * <ol>
 *   <li>Normal function ({@code vf < 0}): header type {@code & 0x7f}; 6, 2 or 1 BARs for normal,
 *       bridge and CardBus headers; any other type reads 0. BARs start at 0x10.
 *   <li>Virtual function ({@code vf >= 0}, the VF's own 16-bit BDF; the configuration space is the
 *       PF's): 0 if the PF has no SR-IOV capability, if VFE or MSE is clear, if NumVFs or First VF
 *       Offset is 0, if NumVFs &gt; 1 with a VF Stride of 0, if {@code bir >= 6}, or if the PF's
 *       recorded VF BAR size {@code vf_rlen[bir]} is 0. Otherwise the VF index is {@code vf -
 *       (pfBdf + offset)}, which must be &gt;= 0, a multiple of a non-zero stride (then divided by
 *       it) and &lt; NumVFs; BARs are the capability's VF BARs at +0x24, 6 of them, and the
 *       displacement is {@code index * vf_rlen[bir]} in 64 bits.
 *   <li>{@code bir} at or beyond the limit reads 0; an I/O BAR reads 0.
 *   <li>A 64-bit BAR: {@code (low & ~0xf) + displacement + (high << 32)}; 0 if it is in the last
 *       slot.
 *   <li>A 32-bit, below-1M (or reserved-type) BAR: {@code (low & ~0xf) + displacement}.
 * </ol>
 *
 * <p>The memory-decode bit of the command register is not checked here (Xen checks it separately).
 * A BAR that legitimately reads 0 is indistinguishable from "unusable", as in Xen. A {@link
 * BarReadMode} switches on the seed's defects; the seed had no VF support, so a VF read under the
 * seed mode is the corrected VF path with the seed's masks applied.
 *
 * <pre>{@code
 * // 82576: BAR 3 = 0xe0840000
 * PciMemBar.readPciMemBar(config, 3, BarReadMode.CORRECTED);   // 0xe0840000
 * PciMemBar.readPciMemBar(config, 3, BarReadMode.SEED_2010);   // 0x0: only the flag bits
 * }</pre>
 *
 * <p>Stateless; allocates only for the VF path's capability walk.
 */
public final class PciMemBar {
  private PciMemBar() {}

  /** The largest value of Xen's {@code u8 bir}. */
  private static final int MAX_BIR = 0xff;

  /** The largest 16-bit BDF. */
  private static final int MAX_BDF = 0xffff;

  /** Bytes an SR-IOV capability needs for its VF BARs: up to VF BAR 5 at +0x38. */
  private static final int SRIOV_CAP_BYTES = PciRegs.SRIOV_BAR + 4 * PciRegs.SRIOV_NUM_BARS;

  /**
   * Reads memory BAR {@code bir} of a normal function, Xen's {@code read_pci_mem_bar(pdev, bir,
   * -1)}.
   *
   * @param config the function's configuration space
   * @param bir the BAR number, Xen's {@code u8}: {@code 0..0xff}
   * @param mode which seed defects to reproduce
   * @return the physical base address, or 0 for unusable
   * @throws IllegalArgumentException if {@code bir} is not {@code 0..0xff}
   */
  public static long readPciMemBar(ConfigSpace config, int bir, BarReadMode mode) {
    return readPciMemBar(config, 0, bir, -1, null, mode);
  }

  /**
   * Reads memory BAR {@code bir} of a function or of one of its virtual functions, Xen's {@code
   * read_pci_mem_bar(pdev, bir, vf)}.
   *
   * @param config the configuration space of the function, or of the PF when {@code vf >= 0}
   * @param pfBdf the PF's 16-bit BDF ({@link PciAddress#bdf()}); used only when {@code vf >= 0}
   * @param bir the BAR number, Xen's {@code u8}: {@code 0..0xff}
   * @param vf -1 for a normal function, else the VF's own 16-bit BDF
   * @param vfBarSizes the PF's recorded VF BAR sizes ({@code vf_rlen}), 6 entries; may be null when
   *     {@code vf < 0}
   * @param mode which seed defects to reproduce
   * @return the physical base address, or 0 for unusable
   * @throws IllegalArgumentException if {@code bir}, {@code vf} or {@code pfBdf} is out of range,
   *     or {@code vf >= 0} without 6 VF BAR sizes
   */
  public static long readPciMemBar(
      ConfigSpace config, int pfBdf, int bir, int vf, long[] vfBarSizes, BarReadMode mode) {
    if (bir < 0 || bir > MAX_BIR) {
      throw new IllegalArgumentException(
          "bir 0x" + Integer.toHexString(bir) + " (expected: 0x0..0xff)");
    }
    if (vf < -1 || vf > MAX_BDF) {
      throw new IllegalArgumentException(
          "vf 0x" + Integer.toHexString(vf) + " (expected: -1 or a BDF 0x0..0xffff)");
    }
    if (mode == null) {
      throw new IllegalArgumentException("mode is null");
    }
    int base = PciRegs.BASE_ADDRESS_0;
    int limit;
    long displacement = 0;
    if (vf >= 0) {
      if (pfBdf < 0 || pfBdf > MAX_BDF) {
        throw new IllegalArgumentException(
            "PF BDF 0x" + Integer.toHexString(pfBdf) + " (expected: 0x0..0xffff)");
      }
      if (vfBarSizes == null || vfBarSizes.length != PciRegs.SRIOV_NUM_BARS) {
        throw new IllegalArgumentException("a VF read needs the PF's 6 recorded VF BAR sizes");
      }
      int pos = CapabilityWalker.findExtCapability(config, PciRegs.EXT_CAP_ID_SRIOV);
      if (pos == 0 || !config.isKnown(pos, SRIOV_CAP_BYTES)) {
        return 0;
      }
      int ctrl = config.read16(pos + PciRegs.SRIOV_CTRL);
      int numVf = config.read16(pos + PciRegs.SRIOV_NUM_VF);
      int offset = config.read16(pos + PciRegs.SRIOV_VF_OFFSET);
      int stride = config.read16(pos + PciRegs.SRIOV_VF_STRIDE);
      if ((ctrl & PciRegs.SRIOV_CTRL_VFE) == 0
          || (ctrl & PciRegs.SRIOV_CTRL_MSE) == 0
          || numVf == 0
          || offset == 0
          || (numVf > 1 && stride == 0)
          || bir >= PciRegs.SRIOV_NUM_BARS
          || vfBarSizes[bir] == 0) {
        return 0;
      }
      base = pos + PciRegs.SRIOV_BAR;
      int index = vf - (pfBdf + offset);
      if (index < 0) {
        return 0;
      }
      if (stride != 0) {
        if (index % stride != 0) {
          return 0;
        }
        index /= stride;
      }
      if (index >= numVf) {
        return 0;
      }
      // 64-bit product, wrapping like C's u64 (Xen widened it in 2014, 001bdcee7b).
      displacement = index * vfBarSizes[bir];
      limit = PciRegs.SRIOV_NUM_BARS;
    } else {
      int headerType = config.read8(PciRegs.HEADER_TYPE);
      if (!mode.unmaskedHeaderType()) {
        headerType &= PciRegs.HEADER_TYPE_MASK;
      }
      limit = PciRegs.barLimit(headerType);
      if (limit == 0) {
        return 0;
      }
    }
    if (bir >= limit) {
      return 0;
    }
    long low = config.read32(base + 4 * bir) & 0xffffffffL;
    if ((low & PciRegs.BASE_ADDRESS_SPACE) == PciRegs.BASE_ADDRESS_SPACE_IO) {
      return 0;
    }
    long masked =
        mode.invertedMask()
            ? low & ~PciRegs.BASE_ADDRESS_MEM_MASK
            : low & PciRegs.BASE_ADDRESS_MEM_MASK;
    if ((low & PciRegs.BASE_ADDRESS_MEM_TYPE_MASK) == PciRegs.BASE_ADDRESS_MEM_TYPE_64) {
      if (bir + 1 >= limit) {
        return 0;
      }
      long high = config.read32(base + 4 * (bir + 1)) & 0xffffffffL;
      return masked + displacement + (high << 32);
    }
    return masked + displacement;
  }
  /**
   * Whether BAR {@code bir} of a normal function is a memory BAR that decodes only 32-bit addresses
   * (type 00, or the old below-1M type 01, or the reserved type 11): its region must end below 4
   * GiB. The header type is masked with 0x7f.
   *
   * @param config the function's configuration space
   * @param bir the BAR number, any int
   * @return false for a 64-bit memory BAR, an I/O BAR, or a {@code bir} outside the header's BARs
   */
  public static boolean isMem32(ConfigSpace config, int bir) {
    int limit =
        PciRegs.barLimit(config.read8(PciRegs.HEADER_TYPE) & PciRegs.HEADER_TYPE_MASK);
    if (bir < 0 || bir >= limit) {
      return false;
    }
    int low = config.read32(PciRegs.BASE_ADDRESS_0 + 4 * bir);
    return (low & PciRegs.BASE_ADDRESS_SPACE) != PciRegs.BASE_ADDRESS_SPACE_IO
        && (low & PciRegs.BASE_ADDRESS_MEM_TYPE_MASK) != PciRegs.BASE_ADDRESS_MEM_TYPE_64;
  }
}
