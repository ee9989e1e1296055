package org.hvmmu.pci.msix.regs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.memory.MmioHandler;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * The reference's §11.1 vectors that concern the register block itself (msixtbl T6-T8, vPCI, QEMU
 * msix.c), each under its anchor's preset. The block: 3 entries, table at 0x1000, PBA at 0x1800,
 * reached through a machine memory (so misaligned accesses split as the processor's do).
 */
class MsixReferenceVectorsTest {
  private static final long TABLE = 0x1000;
  private static final long PBA = 0x1800;

  private final RecordingSink sink = new RecordingSink();
  private final PhysicalMemory machine = new PhysicalMemory(46);

  private MsixRegisters regs(MsixAccessPolicy policy) {
    MsixRegisters r = new MsixRegisters(0x100, 3, TABLE, PBA, policy, sink, new MmioHandler() {
      @Override
      public long read(long pa, int size) {
        throw new AssertionError("outside: 0x" + Long.toHexString(pa));
      }

      @Override
      public void write(long pa, int size, long value) {
        throw new AssertionError("outside: 0x" + Long.toHexString(pa));
      }
    });
    machine.addMmio(1, 1, r);
    return r;
  }

  @Test
  void msixtblT6ToT8() {
    MsixRegisters r = regs(MsixAccessPolicy.XEN_MSIXTBL);
    machine.write(TABLE + 12, 2, 0); // T6: a 2-byte write at +12 does nothing
    assertEquals(1, r.entryDword(0, MsixRegisters.VECTOR_CONTROL));
    machine.write(TABLE + 2, 4, 0xffff_ffffL); // T7: a 4-byte write at +2 is dropped
    assertEquals(0, r.entryDword(0, MsixRegisters.ADDRESS_LO));
    assertEquals(0, r.entryDword(0, MsixRegisters.ADDRESS_HI));
    machine.write(TABLE + 12, 4, 0xdead_beefL); // T8: a read of +12 gives only bit 0
    assertEquals(1, machine.read(TABLE + 12, 4));
  }

  @Test
  void vpci() {
    MsixRegisters r = regs(MsixAccessPolicy.XEN_VPCI);
    machine.write(TABLE + 8, 4, 0x41);
    assertEquals(0xffff, machine.read(TABLE, 2), "2-byte table read: ~0 truncated");
    assertEquals(1L << 32 | 0x41, machine.read(TABLE + 8, 8), "8-byte read at +8: data | mask<<32");
    r.writeMessageControl(MsixRegisters.CONTROL_ENABLE);
    r.fire(2);
    machine.write(PBA, 8, 0); // a domU's PBA write is ignored
    assertEquals(4, machine.read(PBA, 8));
  }

  @Test
  void qemuMsixC() {
    MsixRegisters r = regs(MsixAccessPolicy.QEMU);
    r.writeMessageControl(MsixRegisters.CONTROL_ENABLE);
    machine.write(TABLE + 16, 8, 0xfee0_0000L);
    machine.write(TABLE + 24, 4, 0x51);
    // msix_notify with the mask set: the PBA bit is set and no message is sent.
    assertEquals(MsixFireResult.PENDING, r.fire(1));
    assertEquals(2, machine.read(PBA, 8));
    assertTrue(sink.messages.isEmpty());
    // Write +12 = 0: the bit is cleared and one message follows.
    machine.write(TABLE + 28, 4, 0);
    assertEquals(0, machine.read(PBA, 8));
    assertEquals(1, sink.messages.size());
    assertEquals(0x51, sink.messages.get(0).data());
    assertEquals(0, machine.read(TABLE, 2), "2-byte table read: 0");
    machine.write(PBA, 8, -1L);
    assertEquals(0, machine.read(PBA, 8), "PBA write: no state change");
    // Enable, disable, notify, enable: delivered at enable.
    r.writeMessageControl(0);
    assertEquals(MsixFireResult.PENDING, r.fire(1));
    assertEquals(1, sink.messages.size());
    r.writeMessageControl(MsixRegisters.CONTROL_ENABLE);
    assertEquals(2, sink.messages.size());
    assertFalse(r.isPending(1));
  }

  @Test
  void remappableMessageIsDeliveredWithItsHandle() {
    // Xen writes remappable-format messages when interrupt remapping is on (reference §8.2): a PV
    // guest reading its table sees 0xFEE004B8 / 0 (handle 0x25, SHV, subhandle 0).
    MsixRegisters r = regs(MsixAccessPolicy.PCI_SPEC);
    r.writeMessageControl(MsixRegisters.CONTROL_ENABLE);
    machine.write(TABLE, 4, 0xfee0_04b8L);
    machine.write(TABLE + 12, 4, 0);
    assertEquals(MsixFireResult.DELIVERED, r.fire(0));
    long i = sink.messages.get(0).interrupt();
    assertTrue(MsiInterrupt.isRemappable(i));
    assertEquals(0x25, MsiInterrupt.irteIndex(i));
  }
}
