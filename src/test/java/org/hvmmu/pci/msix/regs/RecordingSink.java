package org.hvmmu.pci.msix.regs;

import java.util.ArrayList;
import java.util.List;

/** An {@link InterruptSink} that keeps every message, for assertions. */
final class RecordingSink implements InterruptSink {
  /** One message as received. */
  record Message(int sourceBdf, int entry, long address, int data, long interrupt) {
    @Override
    public String toString() {
      return String.format("%04x entry %d 0x%x/0x%x (%s)", sourceBdf, entry, address, data,
          MsiInterrupt.toString(interrupt));
    }
  }

  final List<Message> messages = new ArrayList<>();

  @Override
  public void deliver(int sourceBdf, int entry, long address, int data, long interrupt) {
    messages.add(new Message(sourceBdf, entry, address, data, interrupt));
  }
}
