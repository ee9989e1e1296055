package org.hvmmu.host;

import org.hvmmu.mmu.memory.MmioHandler;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.msix.regs.MsixRegisters;

/**
 * One ECAM (MMCFG) window of the host, an entry of Xen's {@code pci_mmcfg_config} ({@code struct
 * acpi_mcfg_allocation}: segment, start and end bus, the address of bus 0): the MMIO handler of its
 * frames in the machine memory. Address {@code address + (bus << 20 | device << 15 | function << 12
 * | register)} is register {@code register} of that function's configuration space.
 *
 * <p>Reads return the configuration space of the device the host knows at that address (as its
 * dump or sysfs gave it, with MSI-X Message Control's Enable and Function Mask as the live
 * registers hold them), all ones for a function the host does not know or a byte its dump does not
 * hold.
 * Writes go to the device's configuration write path ({@link Host#writeConfig}); writes to unknown
 * functions are dropped.
 */
final class MmcfgWindow implements MmioHandler {
  /** Bytes of configuration space per function. */
  static final int FUNCTION_BYTES = 4096;

  private final Devices devices;
  private final int segment;
  private final int startBus;
  private final int endBus;
  private final long address;

  MmcfgWindow(Devices devices, int segment, int startBus, int endBus, long address) {
    this.devices = devices;
    this.segment = segment;
    this.startBus = startBus;
    this.endBus = endBus;
    this.address = address;
  }

  /** The first machine frame of the window (bus {@code startBus}, device 0, function 0). */
  long firstFrame() {
    return (address >>> 12) + ((long) startBus << 8);
  }

  /** The last machine frame of the window (bus {@code endBus}, device 31, function 7). */
  long lastFrame() {
    return (address >>> 12) + ((long) endBus << 8 | 0xff);
  }

  /** Whether machine frame {@code mfn} lies in the window ({@code pci_mmcfg_decode}). */
  boolean contains(long mfn) {
    return mfn >= firstFrame() && mfn <= lastFrame();
  }

  /** The segment. */
  int segment() {
    return segment;
  }

  /** The 16-bit bus/device/function number frame {@code mfn} (in the window) decodes to. */
  int bdf(long mfn) {
    return (int) (mfn - (address >>> 12));
  }

  /**
   * The device the host knows at frame {@code mfn} of the window, or null.
   *
   * @param mfn a frame of the window
   * @return the device or null
   */
  HostDevice deviceAt(long mfn) {
    return devices.at(segment, bdf(mfn));
  }

  @Override
  public long read(long pa, int size) {
    if (size == 8) {
      return read(pa, 4) & 0xFFFF_FFFFL | read(pa + 4, 4) << 32;
    }
    long mask = (1L << (8 * size)) - 1;
    HostDevice dev = deviceAt(pa >>> 12);
    int reg = (int) (pa & (FUNCTION_BYTES - 1));
    if (dev == null) {
      return mask;
    }
    ConfigSpace config = dev.pci().config();
    long value = 0;
    for (int i = 0; i < size; i++) {
      int b = config.isKnown(reg + i, 1) ? config.read8(reg + i) : 0xff;
      value |= (long) liveControlByte(dev, reg + i, b) << (8 * i);
    }
    return value;
  }

  /**
   * Byte {@code reg} as read: Command's low byte takes Memory Space Enable from the device, and
   * Message Control's upper byte bits 15:14 from the registers.
   */
  private static int liveControlByte(HostDevice dev, int reg, int b) {
    if (reg == HostDevice.PCI_COMMAND) {
      return b & ~HostDevice.COMMAND_MEMORY | (dev.memoryDecoded() ? HostDevice.COMMAND_MEMORY : 0);
    }
    MsixRegisters regs = dev.msixRegistersOrNull();
    if (regs == null || reg != dev.msix().capability().capOffset() + 3) {
      return b;
    }
    return (b & 0x3f) | (regs.messageControl() >>> 8);
  }

  @Override
  public void write(long pa, int size, long value) {
    if (size == 8) {
      write(pa, 4, value);
      write(pa + 4, 4, value >>> 32);
      return;
    }
    HostDevice dev = deviceAt(pa >>> 12);
    int reg = (int) (pa & (FUNCTION_BYTES - 1));
    if (dev != null && reg + size <= dev.pci().config().size()) {
      DeviceInterrupts.writeConfig(dev, reg, size, (int) value);
    }
  }

  @Override
  public String toString() {
    return String.format("mmcfg %04x:%02x-%02x at 0x%x", segment, startBus, endBus, address);
  }
}
