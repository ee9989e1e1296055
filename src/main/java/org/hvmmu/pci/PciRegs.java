package org.hvmmu.pci;

/**
 * Configuration-space register offsets and bit fields, named after Linux's and Xen's {@code
 * pci_regs.h} macros without their {@code PCI_} prefix.
 *
 * <p>The type-0 (normal) header, offsets in hex; a type-1 (bridge) header has only BAR 0 and BAR 1,
 * a type-2 (CardBus) header only BAR 0, and puts its capability pointer at 0x14:
 *
 * <pre>
 *  0x00  vendor id (16)        0x02  device id (16)
 *  0x04  command (16)          0x06  status (16; bit 4 = capability list present)
 *  0x08  revision (8)          0x09  class code (24)
 *  0x0e  header type (8; bits 6:0 type, bit 7 multi-function)
 *  0x10  BAR 0 ... 0x24  BAR 5 (32 each; a 64-bit BAR takes two slots, low dword first)
 *  0x34  capability pointer (8)          0x40..0xff  capabilities
 *  0x100..0xfff  PCI Express extended capabilities (4-byte headers)
 * </pre>
 *
 * <p>The SR-IOV extended capability, offsets from its header (PCI Express Base Specification,
 * §9.3.3):
 *
 * <pre>
 *  +0x00  extended capability header      +0x08  SR-IOV control (16; bit 0 VFE, bit 3 MSE)
 *  +0x10  NumVFs (16)                     +0x14  First VF Offset (16)
 *  +0x16  VF Stride (16)                  +0x24  VF BAR 0 ... +0x38  VF BAR 5
 * </pre>
 */
public final class PciRegs {
  private PciRegs() {}

  /** Vendor ID, 16 bits. */
  public static final int VENDOR_ID = 0x00;

  /** Device ID, 16 bits. */
  public static final int DEVICE_ID = 0x02;

  /** Command register, 16 bits. */
  public static final int COMMAND = 0x04;

  /** Command bit 0: the function decodes I/O space. */
  public static final int COMMAND_IO = 0x1;

  /** Command bit 1: the function decodes memory space. */
  public static final int COMMAND_MEMORY = 0x2;

  /** Status register, 16 bits. */
  public static final int STATUS = 0x06;

  /** Status bit 4: the function has a capability list. */
  public static final int STATUS_CAP_LIST = 0x10;

  /** Revision ID, 8 bits. */
  public static final int REVISION_ID = 0x08;

  /** Programming interface, the low byte of the 24-bit class code. */
  public static final int CLASS_PROG = 0x09;

  /** Base class and subclass, the high 16 bits of the class code. */
  public static final int CLASS_DEVICE = 0x0a;

  /** Header type, 8 bits: the type in bits 6:0, the multi-function flag in bit 7. */
  public static final int HEADER_TYPE = 0x0e;

  /** Bits 6:0 of the header type byte: the layout of the rest of the header. */
  public static final int HEADER_TYPE_MASK = 0x7f;

  /** Bit 7 of the header type byte: the device has more than one function. */
  public static final int HEADER_TYPE_MULTI_FUNCTION = 0x80;

  /** Header type 0: an endpoint, six BARs. */
  public static final int HEADER_TYPE_NORMAL = 0;

  /** Header type 1: a PCI-to-PCI bridge, two BARs. */
  public static final int HEADER_TYPE_BRIDGE = 1;

  /** Header type 2: a CardBus bridge, one BAR. */
  public static final int HEADER_TYPE_CARDBUS = 2;

  /** The first Base Address Register; BAR {@code n} is at {@code 0x10 + 4n}. */
  public static final int BASE_ADDRESS_0 = 0x10;

  /** BAR bit 0: the space indicator. */
  public static final int BASE_ADDRESS_SPACE = 0x01;

  /** BAR bit 0 set: an I/O BAR. */
  public static final int BASE_ADDRESS_SPACE_IO = 0x01;

  /** BAR bit 0 clear: a memory BAR. */
  public static final int BASE_ADDRESS_SPACE_MEMORY = 0x00;

  /** Memory BAR bits 2:1, the locatable type. */
  public static final int BASE_ADDRESS_MEM_TYPE_MASK = 0x06;

  /** Memory type 0: anywhere in 32-bit space. */
  public static final int BASE_ADDRESS_MEM_TYPE_32 = 0x00;

  /** Memory type 1: below 1 MiB (legacy). */
  public static final int BASE_ADDRESS_MEM_TYPE_1M = 0x02;

  /** Memory type 2: anywhere in 64-bit space; the next BAR slot holds the high dword. */
  public static final int BASE_ADDRESS_MEM_TYPE_64 = 0x04;

  /** Memory BAR bit 3: prefetchable. */
  public static final int BASE_ADDRESS_MEM_PREFETCH = 0x08;

  /** Address bits of a memory BAR, bits 63:4 ({@code ~0xf}). */
  public static final long BASE_ADDRESS_MEM_MASK = ~0xfL;

  /** Address bits of an I/O BAR, bits 31:2 ({@code ~0x3}). */
  public static final long BASE_ADDRESS_IO_MASK = ~0x3L;

  /** Capability pointer of normal and bridge headers. */
  public static final int CAPABILITY_LIST = 0x34;

  /** Capability pointer of a CardBus header. */
  public static final int CB_CAPABILITY_LIST = 0x14;

  /** Capability header byte 0: the capability ID. */
  public static final int CAP_LIST_ID = 0;

  /** Capability header byte 1: the offset of the next capability. */
  public static final int CAP_LIST_NEXT = 1;

  /** Capability ID 0x09: vendor specific (virtio uses it for its register map). */
  public static final int CAP_ID_VNDR = 0x09;

  /** Capability ID 0x11: MSI-X. */
  public static final int CAP_ID_MSIX = 0x11;

  /** Capability ID 0x14: Enhanced Allocation, which replaces BARs (they then read 0). */
  public static final int CAP_ID_EA = 0x14;

  /** Lowest offset a standard capability may have: the header ends at 0x3f. */
  public static final int STD_HEADER_END = 0x40;

  /** Most standard capabilities Xen's {@code pci_find_cap_offset} visits ({@code max_cap}). */
  public static final int FIND_CAP_TTL = 48;

  /** Offset of the first extended capability header. */
  public static final int EXT_CAP_START = 0x100;

  /**
   * Most extended capabilities a walk visits: {@code (4096 - 256) / 8}, each capability being at
   * least 8 bytes; Linux's and Xen's {@code pci_find_next_ext_capability} TTL.
   */
  public static final int EXT_CAP_TTL = 480;

  /** Extended capability ID 0x0010: Single Root I/O Virtualization. */
  public static final int EXT_CAP_ID_SRIOV = 0x10;

  /** SR-IOV control register, 16 bits, from the capability. */
  public static final int SRIOV_CTRL = 0x08;

  /** SR-IOV control bit 0: VF Enable. */
  public static final int SRIOV_CTRL_VFE = 0x01;

  /** SR-IOV control bit 3: VF Memory Space Enable. */
  public static final int SRIOV_CTRL_MSE = 0x08;

  /** SR-IOV NumVFs, 16 bits, from the capability. */
  public static final int SRIOV_NUM_VF = 0x10;

  /** SR-IOV First VF Offset, 16 bits, from the capability. */
  public static final int SRIOV_VF_OFFSET = 0x14;

  /** SR-IOV VF Stride, 16 bits, from the capability. */
  public static final int SRIOV_VF_STRIDE = 0x16;

  /** SR-IOV VF BAR 0, from the capability; VF BAR {@code n} is at {@code 0x24 + 4n}. */
  public static final int SRIOV_BAR = 0x24;

  /** Number of VF BARs. */
  public static final int SRIOV_NUM_BARS = 6;

  /**
   * The number of BAR slots of a header type, as Xen's {@code read_pci_mem_bar} and lspci count
   * them.
   *
   * @param headerType the header type, already masked with {@link #HEADER_TYPE_MASK} (an unmasked
   *     multi-function type is simply not a known type)
   * @return 6 for normal, 2 for bridge, 1 for CardBus headers, 0 for any other type
   */
  public static int barLimit(int headerType) {
    return switch (headerType) {
      case HEADER_TYPE_NORMAL -> 6;
      case HEADER_TYPE_BRIDGE -> 2;
      case HEADER_TYPE_CARDBUS -> 1;
      default -> 0;
    };
  }
}
