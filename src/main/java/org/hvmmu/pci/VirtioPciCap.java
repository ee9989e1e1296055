package org.hvmmu.pci;

import java.util.ArrayList;
import java.util.List;

/**
 * A virtio register block that a vendor-specific capability (ID 0x09) of a virtio device (vendor
 * 0x1af4) locates in one of its BARs, the virtio specification's {@code struct virtio_pci_cap}.
 *
 * <p>Layout, offsets from the capability; {@code virtio_pci_cap64} (shared memory) adds the high
 * dwords:
 *
 * <pre>
 *  +0  cap_vndr (0x09)   +1  cap_next   +2  cap_len   +3  cfg_type
 *  +4  bar               +5  id         +6  padding (2)
 *  +8  offset (32)       +12 length (32)
 *  +16 offset_hi (32)    +20 length_hi (32)        only for cfg_type 8, cap_len &gt;= 24
 * </pre>
 *
 * <p>These blocks are what share a page with an MSI-X table or PBA on a virtio device when the
 * device model packs them together (the "sub-page" problem of Xen's r/o MMIO).
 *
 * @param capOffset the offset of the vendor capability
 * @param cfgType 1 common, 2 notify, 3 ISR, 4 device, 5 PCI config access, 8 shared memory, others
 *     reserved
 * @param bar the BAR number holding the block
 * @param offset the block's offset in the BAR
 * @param length the block's length in bytes
 */
public record VirtioPciCap(int capOffset, int cfgType, int bar, long offset, long length) {
  /** The virtio vendor ID (Red Hat, Inc.; formerly Qumranet). */
  public static final int VENDOR_ID_VIRTIO = 0x1af4;

  /** cfg_type of the common configuration block. */
  public static final int COMMON_CFG = 1;

  /** cfg_type of the notification block. */
  public static final int NOTIFY_CFG = 2;

  /** cfg_type of the ISR status byte. */
  public static final int ISR_CFG = 3;

  /** cfg_type of the device-specific configuration block. */
  public static final int DEVICE_CFG = 4;

  /** cfg_type of the configuration-space access window; its bar/offset/length are not a block. */
  public static final int PCI_CFG = 5;

  /** cfg_type of a shared memory region ({@code virtio_pci_cap64}). */
  public static final int SHARED_MEMORY_CFG = 8;

  /** Smallest cap_len of a {@code virtio_pci_cap}. */
  public static final int CAP_LENGTH = 16;

  /** Smallest cap_len of a {@code virtio_pci_cap64}. */
  public static final int CAP64_LENGTH = 24;

  /**
   * Whether bar/offset/length name registers in a BAR (false for {@link #PCI_CFG}, whose fields are
   * a window written through configuration space).
   *
   * @return whether the block occupies BAR space
   */
  public boolean isRegisterBlock() {
    return cfgType != PCI_CFG;
  }

  /**
   * The block's name for messages.
   *
   * @return for example {@code "CommonCfg"}, as lspci names them, or {@code "cfg_type 7"}
   */
  public String name() {
    return switch (cfgType) {
      case COMMON_CFG -> "CommonCfg";
      case NOTIFY_CFG -> "Notify";
      case ISR_CFG -> "ISR";
      case DEVICE_CFG -> "DeviceCfg";
      case PCI_CFG -> "PCICfg";
      case SHARED_MEMORY_CFG -> "SharedMemory";
      default -> "cfg_type " + cfgType;
    };
  }

  /**
   * The virtio register blocks of a device: empty unless its vendor is {@link #VENDOR_ID_VIRTIO}.
   * Vendor capabilities that are too short or extend beyond the known bytes are skipped.
   *
   * @param device a device
   * @return the blocks in capability-chain order
   */
  public static List<VirtioPciCap> readAll(PciDevice device) {
    if (device.vendorId() != VENDOR_ID_VIRTIO) {
      return List.of();
    }
    ConfigSpace config = device.config();
    List<VirtioPciCap> out = new ArrayList<>();
    for (Capability cap : device.capabilities().allStandard(PciRegs.CAP_ID_VNDR)) {
      int at = cap.offset();
      if (!config.isKnown(at, CAP_LENGTH)) {
        continue;
      }
      int capLength = config.read8(at + 2);
      if (capLength < CAP_LENGTH) {
        continue;
      }
      int cfgType = config.read8(at + 3);
      long offset = config.read32(at + 8) & 0xffffffffL;
      long length = config.read32(at + 12) & 0xffffffffL;
      if (cfgType == SHARED_MEMORY_CFG
          && capLength >= CAP64_LENGTH
          && config.isKnown(at, CAP64_LENGTH)) {
        offset |= (config.read32(at + 16) & 0xffffffffL) << 32;
        length |= (config.read32(at + 20) & 0xffffffffL) << 32;
      }
      out.add(new VirtioPciCap(at, cfgType, config.read8(at + 4), offset, length));
    }
    return List.copyOf(out);
  }
}
