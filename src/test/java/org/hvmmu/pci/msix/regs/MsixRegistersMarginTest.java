package org.hvmmu.pci.msix.regs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.mmu.memory.MmioHandler;
import org.junit.jupiter.api.Test;

/**
 * Corners of the register block that the other tests leave open. Expected values come from PCIe
 * Base §7.7.2 (16-byte entries, Mask = 1 after reset, a PBA of ceil(N / 64) QWORDs, one Pending
 * bit per entry: entry e is bit e mod 64 of QWORD e / 64), PCI Local Bus 3.0 §6.2.2 (with Memory
 * Space Enable clear the function decodes nothing: a read master-aborts and returns all ones),
 * the BDF text format of lspci ({@code bus:device.function}, requester ID {@code bus << 8 | device
 * << 3 | function}), and {@link MsixRegisters#programEntry}'s contract after Xen's {@code
 * msix_capability_init} ("Ensure MSI-X interrupts are masked during setup": the first programming
 * sets every entry's Mask bit and enables MSI-X) and {@code write_msi_msg} (both address dwords
 * and the data written as given), all worked by hand in the comments; nothing is copied from a
 * run.
 *
 * <p>The function is 0a:03.3: requester ID 0x0a << 8 | 3 << 3 | 3 = 0x0a1b.
 */
class MsixRegistersMarginTest {
  private static final int BDF = 0x0a1b;
  private static final long TABLE = 0x1000;
  private static final long PBA = 0x1800;
  private static final int ENABLE = MsixRegisters.CONTROL_ENABLE;
  private static final MsixAccessPolicy STORE =
      MsixAccessPolicy.PCI_SPEC.withPbaWrite(MsixAccessPolicy.PbaWrite.STORE);

  /** The BAR's other registers: counts what reaches them, reads 0x5a. */
  private static final class Rest implements MmioHandler {
    int accesses;

    @Override
    public long read(long pa, int size) {
      accesses++;
      return 0x5a;
    }

    @Override
    public void write(long pa, int size, long value) {
      accesses++;
    }
  }

  /** Keeps every message as address/data text. */
  private static final class Sink implements InterruptSink {
    final List<String> messages = new ArrayList<>();

    @Override
    public void deliver(int sourceBdf, int entry, long address, int data, long interrupt) {
      messages.add(Integer.toHexString(sourceBdf) + " " + entry + " 0x"
          + Long.toHexString(address) + "/0x" + Integer.toHexString(data));
    }
  }

  private final Sink sink = new Sink();
  private final Rest rest = new Rest();

  private MsixRegisters regs(MsixAccessPolicy policy, int entries, long table, long pba) {
    return new MsixRegisters(BDF, entries, table, pba, policy, sink, rest);
  }

  private MsixRegisters regs(MsixAccessPolicy policy) {
    return regs(policy, 3, TABLE, PBA);
  }

  @Test
  void shouldNameTheFunctionAsBusDeviceFunction() {
    assertEquals("MSI-X registers of 0a:03.3: 3 entries, table 0x1000, PBA 0x1800",
        regs(MsixAccessPolicy.PCI_SPEC).toString());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> regs(MsixAccessPolicy.PCI_SPEC, 0, TABLE, PBA));
    assertEquals("MSI-X registers of 0a:03.3: table size 0 (expected 1..2048)", e.getMessage());
  }

  @Test
  void shouldRefuseEntryOffsetsOtherThanTheFourDwords() {
    MsixRegisters r = regs(MsixAccessPolicy.PCI_SPEC);
    // -4 from entry 1 would be entry 0's Vector Control: an index that exists, still refused.
    IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
        () -> r.entryDword(1, -4));
    assertEquals("MSI-X entry offset -4 of 0a:03.3 (expected 0, 4, 8 or 12)", e.getMessage());
    assertThrows(IndexOutOfBoundsException.class, () -> r.entryDword(0, 16));
    assertThrows(IndexOutOfBoundsException.class, () -> r.entryDword(0, 2));
    assertEquals(1, r.entryDword(0, MsixRegisters.VECTOR_CONTROL));
  }

  @Test
  void shouldAcceptTheSmallestAndLargestTables() {
    // N = 1: table [0x1000, 0x100f], PBA [0x1010, 0x1017], adjacent, not overlapping.
    assertNull(MsixRegisters.layoutProblem(1, TABLE, TABLE + 16));
    // N = 2048: table 0x8000 bytes [0x10000, 0x17fff], PBA 2048 / 64 * 8 = 0x100 bytes.
    assertNull(MsixRegisters.layoutProblem(2048, 0x10000, 0x18000));
    // A PBA just before the table: [0x1000, 0x1007] and [0x1008, 0x1037].
    assertNull(MsixRegisters.layoutProblem(3, 0x1008, 0x1000));
  }

  @Test
  void shouldPutTheLastOf2048PendingBitsInBit63OfTheLastQword() {
    MsixRegisters r = regs(MsixAccessPolicy.PCI_SPEC, 2048, 0x10000, 0x18000);
    r.writeMessageControl(ENABLE);
    assertEquals(MsixFireResult.PENDING, r.fire(2047));
    // 2047 = 31 * 64 + 63: QWORD 31 at 0x18000 + 31 * 8 = 0x180f8, bit 63.
    assertEquals(Long.MIN_VALUE, r.read(0x180f8, 8));
    assertEquals(0x8000_0000L, r.read(0x180fc, 4));
    assertTrue(r.isPending(2047));
  }

  @Test
  void shouldRefuseAMisalignedPba() {
    assertEquals("table 0x1000 or PBA 0x1804 not QWORD aligned",
        MsixRegisters.layoutProblem(3, TABLE, PBA + 4));
  }

  @Test
  void shouldRefuseAPbaThatWrapsPast2To64() {
    // 65 entries: a 16-byte PBA at 2^64 - 8 would end at byte 7 after wrapping.
    assertEquals("table or PBA wraps past 2^64", MsixRegisters.layoutProblem(65, TABLE, -8L));
    // 3 entries: an 8-byte PBA at 2^64 - 8 ends exactly at 2^64 - 1: no wrap.
    assertNull(MsixRegisters.layoutProblem(3, TABLE, -8L));
  }

  @Test
  void shouldReadAllOnesAndDropWritesWhileMemorySpaceIsOff() {
    MsixRegisters r = regs(MsixAccessPolicy.QEMU);
    assertTrue(r.memorySpace(), "decoded after construction");
    r.setMemorySpace(false);
    assertFalse(r.memorySpace());
    // A master abort returns all ones in the bytes read, whatever the policy's sub-DWORD rule.
    assertEquals(0xffff_ffffL, r.read(TABLE + 12, 4));
    assertEquals(-1L, r.read(TABLE, 8));
    assertEquals(0xffffL, r.read(PBA, 2));
    assertEquals(0xffL, r.read(PBA + 9, 1));
    assertEquals(0xffff_ffffL, r.read(0x2000, 4), "the other registers are not decoded either");
    r.write(TABLE, 4, 0xfee0_3000L);
    r.write(0x2000, 4, 1);
    assertEquals(0, rest.accesses);
    r.setMemorySpace(true);
    assertTrue(r.memorySpace());
    assertEquals(0, r.read(TABLE, 4), "the write reached nothing");
    assertEquals(1, r.read(TABLE + 12, 4), "Mask as after reset");
  }

  @Test
  void firstProgrammingShouldMaskEveryOtherEntryKeepingReservedBits() {
    // QEMU keeps Vector Control's reserved bits (raw dwords).
    MsixRegisters r = regs(MsixAccessPolicy.QEMU);
    r.write(TABLE + 16 + 12, 4, 0xffff_fffeL); // entry 1: Mask clear, reserved bits set
    r.write(TABLE + 32 + 12, 4, 0); // entry 2: Mask clear
    r.programEntry(0, 0x0000_0012_fee0_3000L, 0x41);
    // The set-up masks every entry: the Mask bit is set (ORed in), the other bits stay as kept.
    assertEquals(0xffff_ffff, r.entryDword(1, MsixRegisters.VECTOR_CONTROL));
    assertEquals(1, r.entryDword(2, MsixRegisters.VECTOR_CONTROL));
    assertTrue(r.isMasked(1));
    assertTrue(r.isMasked(2));
    // The programmed entry: both address dwords, the data, unmasked, MSI-X enabled.
    assertEquals(0xfee0_3000, r.entryDword(0, MsixRegisters.ADDRESS_LO));
    assertEquals(0x12, r.entryDword(0, MsixRegisters.ADDRESS_HI));
    assertEquals(0x41, r.entryDword(0, MsixRegisters.DATA));
    assertEquals(0, r.entryDword(0, MsixRegisters.VECTOR_CONTROL));
    assertEquals(0x0000_0012_fee0_3000L, r.messageAddress(0));
    assertEquals(0x0000_0012_fee0_3000L, r.programmedAddress(0));
    assertEquals(0x41, r.programmedData(0));
    assertTrue(r.isProgrammed(0));
    assertFalse(r.isProgrammed(1));
    assertEquals(ENABLE, r.messageControl());
    assertTrue(r.isGuarded());
    // What the entry sends is what was programmed: no unproven delivery.
    assertEquals(MsixFireResult.DELIVERED, r.fire(0));
    assertEquals(List.of("a1b 0 0x12fee03000/0x41"), sink.messages);
    assertEquals(0, r.unprovenDeliveries());
    assertEquals(MsixFireResult.PENDING, r.fire(1));
  }

  @Test
  void resetShouldClearTheTablePendingBitsAndProvenance() {
    MsixRegisters r = regs(MsixAccessPolicy.QEMU);
    r.writeMessageControl(ENABLE);
    r.write(TABLE, 4, 0xfee0_5000L);
    r.write(TABLE + 8, 4, 0x55);
    assertEquals(MsixFireResult.PENDING, r.fire(1));
    r.programEntry(2, 0xfee0_1000L, 0x31);
    assertTrue(r.isGuarded());
    r.reset();
    assertEquals(0, r.entryDword(0, MsixRegisters.ADDRESS_LO));
    assertEquals(0, r.entryDword(0, MsixRegisters.DATA));
    assertEquals(0, r.entryDword(2, MsixRegisters.ADDRESS_LO));
    for (int e = 0; e < 3; e++) {
      assertEquals(1, r.entryDword(e, MsixRegisters.VECTOR_CONTROL));
      assertFalse(r.isPending(e));
      assertFalse(r.isProgrammed(e));
    }
    assertEquals(0, r.read(PBA, 8));
    assertFalse(r.isGuarded());
    assertEquals(0, r.programmedAddress(2));
    assertEquals(0, r.programmedData(2));
    assertEquals(0, r.messageControl());
    // Not guarded any more: a CPU store is not an unpermitted change.
    r.write(TABLE + 32, 4, 0xfee0_7000L);
    assertEquals(0, r.unpermittedChanges());
    assertNull(r.lastUnpermittedChange());
  }

  @Test
  void subDwordPbaWritesShouldBeUndefinedAndDroppedEvenWhenThePbaStoresWrites() {
    MsixRegisters r = regs(STORE);
    r.write(PBA, 4, 0x5);
    assertEquals(0, r.undefinedAccesses(), "a DWORD write is defined");
    assertEquals(0, r.droppedWrites());
    r.write(PBA, 2, 0xffff);
    r.write(PBA + 1, 1, 0xff);
    assertEquals(2, r.undefinedAccesses());
    assertEquals(2, r.droppedWrites());
    assertEquals(0x5, r.read(PBA, 8), "neither reached the Pending bits");
  }

  @Test
  void storedPbaWritesShouldReplaceTheDwordOrQwordWritten() {
    MsixRegisters r = regs(STORE);
    r.write(PBA, 4, 0x5);
    r.write(PBA + 4, 4, 0x8000_0000L);
    r.write(PBA + 4, 4, 0x1); // the high dword replaced, not ORed
    assertEquals(0x0000_0001_0000_0005L, r.read(PBA, 8));
    r.write(PBA, 8, 0x8000_0000_0000_0003L); // all 64 bits
    assertEquals(0x8000_0000_0000_0003L, r.read(PBA, 8));
    assertEquals(0x8000_0000L, r.read(PBA + 4, 4));
    assertEquals(0, r.undefinedAccesses());
    assertEquals(0, r.droppedWrites());
  }

  @Test
  void anUnpermittedPbaChangeShouldNameTheQwordItChanged() {
    // 65 entries: table [0x1000, 0x140f], PBA 16 bytes at 0x2000; QWORD 1 is at 0x2008.
    MsixRegisters r = regs(STORE, 65, TABLE, 0x2000);
    r.programEntry(0, 0xfee0_0000L, 0x30);
    r.write(0x2008, 4, 0x1); // bit 0 of QWORD 1: entry 64's Pending bit
    assertEquals(1, r.unpermittedChanges());
    assertEquals("PBA 0x2008: 0x0 -> 0x1", r.lastUnpermittedChange());
    assertTrue(r.isPending(64));
  }

  @Test
  void aTableChangeJustPastThePbaShouldBeNamedATableChange() {
    // PBA [0x1000, 0x1007], table from 0x1008: entry 0's address is the byte after the PBA.
    MsixRegisters r = regs(MsixAccessPolicy.PCI_SPEC, 3, 0x1008, 0x1000);
    r.programEntry(0, 0xfee0_3000L, 0x41);
    r.write(0x1008, 4, 0xfee0_7000L);
    assertEquals(1, r.unpermittedChanges());
    assertEquals("table 0x1008: 0xfee03000 -> 0xfee07000", r.lastUnpermittedChange());
  }
}
