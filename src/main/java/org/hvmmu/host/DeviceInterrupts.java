package org.hvmmu.host;

import java.util.Objects;
import org.hvmmu.pci.msix.MsixCapability;
import org.hvmmu.pci.msix.regs.InterruptSink;
import org.hvmmu.pci.msix.regs.MsixFireResult;
import org.hvmmu.pci.msix.regs.MsixRegisters;

/**
 * The host's side of device interrupts: the embedder's {@link InterruptSink} (every device's
 * register block sends through this object, so the sink can be replaced at any time), firing a
 * vector, and configuration-space writes of MSI-X Message Control. {@link Host} delegates here.
 */
final class DeviceInterrupts implements InterruptSink {
  private volatile InterruptSink target = InterruptSink.DISCARD;

  void setTarget(InterruptSink sink) {
    target = Objects.requireNonNull(sink, "sink");
  }

  @Override
  public void deliver(int sourceBdf, int entry, long address, int data, long interrupt) {
    target.deliver(sourceBdf, entry, address, data, interrupt);
  }

  /** See {@link Host#fireMsix}. */
  static MsixFireResult fire(HostDevice dev, int entry) {
    MsixRegisters regs = dev.msixRegistersOrNull();
    return regs == null ? MsixFireResult.NO_MSIX : regs.fire(entry);
  }

  /**
   * See {@link Host#writeConfig}: of the bytes written, Command's Memory Space Enable and Message
   * Control's upper byte (offset capability + 3, bits 15:8, holding Enable and Function Mask) have
   * an effect, the latter as in QEMU's {@code msix_write_config}, which acts only on a write
   * covering that byte.
   */
  static boolean writeConfig(HostDevice dev, int offset, int size, int value) {
    if ((size != 1 && size != 2 && size != 4) || offset < 0 || offset % size != 0
        || offset + size > dev.pci().config().size()) {
      throw new IllegalArgumentException("configuration write of " + size + " bytes at 0x"
          + Integer.toHexString(offset) + " of " + dev + " (expected 1, 2 or 4 bytes, aligned, "
          + "within the " + dev.pci().config().size() + "-byte space)");
    }
    if (offset <= HostDevice.PCI_COMMAND && HostDevice.PCI_COMMAND < offset + size) {
      int command = value >>> (8 * (HostDevice.PCI_COMMAND - offset));
      dev.setMemoryDecoded((command & HostDevice.COMMAND_MEMORY) != 0);
    }
    MsixRegisters regs = dev.msixRegistersOrNull();
    if (regs == null) {
      return false;
    }
    int high = MsixCapability.find(dev.pci()).capOffset() + 3;
    if (high < offset || high >= offset + size) {
      return false;
    }
    int controlHigh = value >>> (8 * (high - offset)) & 0xff;
    regs.writeMessageControl(controlHigh << 8);
    return true;
  }
}
