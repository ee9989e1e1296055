package org.hvmmu.pci.msix;

import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciRegs;

/**
 * A function's MSI-X capability: its offset and its three registers, raw, with the fields decoded
 * on demand. See {@link MsixTableDescriptor} for the layout.
 *
 * <pre>{@code
 * // Mellanox ConnectX-3 Pro: [9c] MSI-X: Enable+ Count=256 Masked-, table BAR=0 offset=0007c000
 * MsixCapability c = MsixCapability.find(device);
 * c.tableSize();    // 256
 * c.tableBir();     // 0
 * c.tableOffset();  // 0x7c000
 * }</pre>
 *
 * <p>{@link #ABSENT} stands for "no MSI-X capability" (offset 0, Xen's not-found value), so lookups
 * never return null.
 *
 * @param capOffset the capability's offset, or 0 for {@link #ABSENT}
 * @param messageControl the 16-bit Message Control register
 * @param tableRegister the 32-bit Table Offset/BIR register
 * @param pbaRegister the 32-bit PBA Offset/BIR register
 */
public record MsixCapability(
    int capOffset, int messageControl, int tableRegister, int pbaRegister) {
  /** No MSI-X capability: every field 0. */
  public static final MsixCapability ABSENT = new MsixCapability(0, 0, 0, 0);

  /**
   * Validates the fields.
   *
   * @param capOffset see {@link #capOffset()}
   * @param messageControl see {@link #messageControl()}
   * @param tableRegister see {@link #tableRegister()}
   * @param pbaRegister see {@link #pbaRegister()}
   * @throws IllegalArgumentException if the offset is neither 0 nor a dword from 0x40 to 0xfc (a
   *     capability at 0xf8 or 0xfc has registers in the extended space, as Xen would read them), or
   *     the control value is wider than 16 bits
   */
  public MsixCapability {
    if (capOffset != 0
        && (capOffset < PciRegs.STD_HEADER_END
            || capOffset > ConfigSpace.CONVENTIONAL_SIZE - 4
            || (capOffset & 3) != 0)) {
      throw new IllegalArgumentException(
          "MSI-X capability offset 0x"
              + Integer.toHexString(capOffset)
              + " (expected: 0 or a dword in 0x40..0xfc)");
    }
    if ((messageControl & ~0xffff) != 0) {
      throw new IllegalArgumentException(
          "Message Control 0x" + Integer.toHexString(messageControl) + " is wider than 16 bits");
    }
  }

  /**
   * Reads the capability at {@code capOffset}.
   *
   * @param config the function's configuration space
   * @param capOffset the capability's offset, as found on the chain
   * @return the capability
   * @throws IllegalArgumentException if the offset is invalid or its 12 bytes are not all known
   */
  public static MsixCapability read(ConfigSpace config, int capOffset) {
    if (!config.isKnown(capOffset, MsixTableDescriptor.CAPABILITY_SIZE)) {
      throw new IllegalArgumentException(
          "MSI-X capability at 0x"
              + Integer.toHexString(capOffset)
              + " is not within the 0x"
              + Integer.toHexString(config.size())
              + " bytes known");
    }
    return new MsixCapability(
        capOffset,
        config.read16(capOffset + MsixTableDescriptor.FLAGS),
        config.read32(capOffset + MsixTableDescriptor.TABLE),
        config.read32(capOffset + MsixTableDescriptor.PBA));
  }

  /**
   * The device's first MSI-X capability on its chain, as Xen's {@code pci_find_cap_offset(...,
   * PCI_CAP_ID_MSIX)} finds it.
   *
   * @param device a device
   * @return the capability, or {@link #ABSENT} if there is none or if its registers are cut off by
   *     the end of the known bytes ({@link MsixLayout#inspect} says which)
   */
  public static MsixCapability find(PciDevice device) {
    int offset = device.capabilities().findCapOffset(PciRegs.CAP_ID_MSIX);
    if (offset == 0 || !device.config().isKnown(offset, MsixTableDescriptor.CAPABILITY_SIZE)) {
      return ABSENT;
    }
    return read(device.config(), offset);
  }

  /**
   * Whether this is a real capability.
   *
   * @return false only for {@link #ABSENT}
   */
  public boolean isPresent() {
    return capOffset != 0;
  }

  /**
   * The number of table entries, Xen's {@code msix_table_size}.
   *
   * @return {@code (messageControl & 0x7ff) + 1}, {@code 1..2048} (lspci's "Count")
   */
  public int tableSize() {
    return MsixTableDescriptor.tableSize(messageControl);
  }

  /**
   * Whether MSI-X is enabled (Message Control bit 15, lspci's "Enable").
   *
   * @return the enable bit
   */
  public boolean enabled() {
    return (messageControl & MsixTableDescriptor.FLAGS_ENABLE) != 0;
  }

  /**
   * Whether all vectors are masked (Message Control bit 14, lspci's "Masked").
   *
   * @return the function mask bit
   */
  public boolean functionMask() {
    return (messageControl & MsixTableDescriptor.FLAGS_MASKALL) != 0;
  }

  /**
   * The BAR holding the table.
   *
   * @return bits 2:0 of the table register, {@code 0..7}
   */
  public int tableBir() {
    return tableRegister & MsixTableDescriptor.BIRMASK;
  }

  /**
   * The table's offset in its BAR.
   *
   * @return the table register with the BIR bits cleared, unsigned
   */
  public long tableOffset() {
    return tableRegister & MsixTableDescriptor.OFFSET_MASK;
  }

  /**
   * The BAR holding the PBA.
   *
   * @return bits 2:0 of the PBA register, {@code 0..7}
   */
  public int pbaBir() {
    return pbaRegister & MsixTableDescriptor.BIRMASK;
  }

  /**
   * The PBA's offset in its BAR.
   *
   * @return the PBA register with the BIR bits cleared, unsigned
   */
  public long pbaOffset() {
    return pbaRegister & MsixTableDescriptor.OFFSET_MASK;
  }
}
