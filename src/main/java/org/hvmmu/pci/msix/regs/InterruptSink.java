package org.hvmmu.pci.msix.regs;

/**
 * Where a device's MSI-X messages go: the embedder's interrupt controller, a recorder in a test, or
 * nothing. One call per message the device sends; the arguments are primitives so that delivery
 * allocates nothing.
 *
 * <p>{@link MsixRegisters} calls the sink while it holds its own lock: a sink must not access the
 * same register block (it may record, count, or hand the interrupt to another thread).
 */
@FunctionalInterface
public interface InterruptSink {
  /** A sink that discards every message. */
  InterruptSink DISCARD = (sourceBdf, entry, address, data, interrupt) -> { };

  /**
   * Receives one message.
   *
   * @param sourceBdf the requester: {@code bus << 8 | device << 3 | function}
   * @param entry the table entry (vector number of the function) that sent it
   * @param address the 64-bit message address, as the entry held it when sent
   * @param data the 32-bit message data
   * @param interrupt the message decoded, packed as {@link MsiInterrupt} describes
   */
  void deliver(int sourceBdf, int entry, long address, int data, long interrupt);
}
