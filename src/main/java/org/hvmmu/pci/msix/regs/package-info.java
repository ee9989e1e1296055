/**
 * The MSI-X table and PBA as live registers (PCIe Base §7.7.2, PCI Local Bus 3.0 §6.8): {@link
 * org.hvmmu.pci.msix.regs.MsixRegisters} is the register block behind a device's BAR, with the
 * "undefined" corners chosen by an {@link org.hvmmu.pci.msix.regs.MsixAccessPolicy} (one preset per
 * anchor of the reference's §9); a fired vector becomes a message that {@link
 * org.hvmmu.pci.msix.regs.MsiInterrupt} decodes (Intel SDM Vol. 3 "Message Address Register Format"
 * and "Message Data Register Format", VT-d remappable format) and an {@link
 * org.hvmmu.pci.msix.regs.InterruptSink} receives, without allocating.
 */
package org.hvmmu.pci.msix.regs;
