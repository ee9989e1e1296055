package org.hvmmu.pci.msix.regs;

/** What became of a device's attempt to send vector N ({@link MsixRegisters#fire}). */
public enum MsixFireResult {
  /** The message was sent: the sink received it. */
  DELIVERED,
  /**
   * The vector, or the whole function, is masked: the Pending bit is set and the message is sent at
   * unmask (PCIe Base §7.7.2, Pending Bits; QEMU {@code msix_notify}).
   */
  PENDING,
  /**
   * MSI-X is disabled and the policy drops the message ({@link
   * MsixAccessPolicy.DisabledFire#DROP}): nothing is sent and nothing becomes pending.
   */
  NOT_ENABLED,
  /** The vector number is not below the table size: nothing happens. */
  OUT_OF_RANGE,
  /** The device has no live MSI-X registers (no capability, or a table that cannot be placed). */
  NO_MSIX
}
