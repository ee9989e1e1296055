package org.hvmmu.host;

import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.pci.msix.regs.MsixRegisters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Xen's mask-all bookkeeping for one device ({@code arch_msix.host_maskall} and {@code
 * guest_maskall}, {@code xen/arch/x86/msi.c} at RELEASE-4.22.0) and the register sequences that use
 * it: {@code msi_set_mask_bit} (an entry masked or unmasked for msixtbl's {@code
 * guest_mask_msi_irq}), {@code __pci_disable_msix} (the entry masked before Xen forgets it), {@code
 * msix_capability_init}'s Function Mask for a first vector, and {@code
 * pci_msi_conf_write_intercept}'s handling of the hardware domain's Message Control write. Under
 * {@link RoMmioSwitches#msixHostMaskall()} off, the seed's ({@code RELEASE-4.1.0}) sequences, which
 * keep no such state. Thread-safe: every method holds this object's monitor, then the register
 * block's.
 */
final class MsixMasking {
  private static final Logger LOG = LoggerFactory.getLogger(MsixMasking.class);
  private static final int ENABLE = MsixRegisters.CONTROL_ENABLE;
  private static final int MASKALL = MsixRegisters.CONTROL_FUNCTION_MASK;

  private final HostDevice dev;
  private boolean hostMaskall;
  private boolean guestMaskall;

  MsixMasking(HostDevice dev) {
    this.dev = dev;
  }

  synchronized boolean hostMaskall() {
    return hostMaskall;
  }

  synchronized boolean guestMaskall() {
    return guestMaskall;
  }

  /**
   * {@code msi_set_mask_bit(desc, host, guest)} for entry {@code entry}: the entry's Vector Control
   * becomes {@code host | guest} (the whole dword: {@code writel(flag)}); while MSI-X is disabled
   * Xen enables it with Function Mask set to reach the table, and puts Message Control back after;
   * where memory is not decoded the mask is made with Function Mask instead ({@code host_maskall}).
   */
  synchronized void setMaskBit(RoMmioSwitches s, MsixRegisters regs, int entry, boolean host,
      boolean guest) {
    boolean flag = host || guest;
    if (!s.msixHostMaskall()) {
      regs.writeVectorControlPermitted(entry, flag ? 1 : 0);
      return;
    }
    int control = regs.messageControl();
    boolean maskall = hostMaskall;
    if ((control & ENABLE) == 0) {
      hostMaskall = true;
      regs.writeMessageControl(control | ENABLE | MASKALL);
    }
    if (dev.memoryDecoded()) {
      regs.writeVectorControlPermitted(entry, flag ? 1 : 0);
      if ((control & ENABLE) != 0) {
        return;
      }
    } else if (flag && (control & MASKALL) == 0) {
      maskall = true;
      LOG.warn("cannot mask IRQ of entry {}: masking MSI-X on {}", entry, dev);
    }
    restore(regs, control, maskall);
  }

  /**
   * {@code __pci_disable_msix}'s register part for entry {@code entry}: the entry is masked in the
   * device, or where memory is not decoded the whole function is ({@code host_maskall}); Message
   * Control is put back. The seed: Enable cleared, the mask written, Message Control restored (a
   * mask the device does not decode is lost).
   */
  synchronized void disable(RoMmioSwitches s, MsixRegisters regs, int entry) {
    int control = regs.messageControl();
    if (!s.msixHostMaskall()) {
      regs.writeMessageControl(control & ~ENABLE); // msix_set_enable(dev, 0)
      regs.writeVectorControlPermitted(entry, 1);
      regs.writeMessageControl(control);
      return;
    }
    boolean maskall = hostMaskall;
    if ((control & ENABLE) == 0) {
      hostMaskall = true;
      regs.writeMessageControl(control | ENABLE | MASKALL);
    }
    if (dev.memoryDecoded()) {
      regs.writeVectorControlPermitted(entry, 1);
    } else if ((control & MASKALL) == 0) {
      maskall = true;
      LOG.warn("cannot disable IRQ of entry {}: masking MSI-X on {}", entry, dev);
    }
    restore(regs, control, maskall);
  }

  /**
   * {@code msix_capability_init} for the device's first vector or prepare ({@code used_entries}
   * was 0): Function Mask becomes the guest's request and {@code host_maskall} is cleared.
   */
  synchronized void firstVectorSetUp(RoMmioSwitches s, MsixRegisters regs) {
    if (!s.msixHostMaskall()) {
      return;
    }
    int control = regs.messageControl();
    hostMaskall = false;
    regs.writeMessageControl(guestMaskall ? control | MASKALL : control & ~MASKALL);
  }

  /**
   * {@code pci_msi_conf_write_intercept} for an allowed write, the hardware domain's 2-byte
   * Message Control: {@code guest_maskall} is recorded from bit 14, and Function Mask stays set
   * while {@code host_maskall} is.
   *
   * @return the value to write
   */
  synchronized int interceptControlWrite(RoMmioSwitches s, int value) {
    if (!s.msixHostMaskall()) {
      return value;
    }
    guestMaskall = (value & MASKALL) != 0;
    return hostMaskall ? value | MASKALL : value;
  }

  private void restore(MsixRegisters regs, int control, boolean maskall) {
    hostMaskall = maskall;
    regs.writeMessageControl(maskall || guestMaskall ? control | MASKALL : control);
  }
}
