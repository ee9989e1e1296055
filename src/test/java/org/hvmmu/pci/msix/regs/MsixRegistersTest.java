package org.hvmmu.pci.msix.regs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.mmu.memory.MmioHandler;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The register block's semantics. Expected values are PCIe Base §7.7.2's (entry layout, Mask = 1
 * after reset, Pending set while masked and sent at unmask, Function Mask, read-only PBA) and, for
 * the undefined corners, the reference's §9 matrix per anchor; worked by hand.
 *
 * <p>The block: device 01:00.0 (BDF 0x100), 3 entries, table at 0x1000 (entries at 0x1000, 0x1010,
 * 0x1020), PBA at 0x1800, both on frame 1 of a machine memory whose other bytes are recorded by a
 * stand-in for the BAR's other registers.
 */
class MsixRegistersTest {
  private static final int BDF = 0x100;
  private static final long TABLE = 0x1000;
  private static final long PBA = 0x1800;
  private static final int ENABLE = MsixRegisters.CONTROL_ENABLE;
  private static final int MASKALL = MsixRegisters.CONTROL_FUNCTION_MASK;

  /** The other registers of the frame: remembers what reached them. */
  private static final class Rest implements MmioHandler {
    final List<String> log = new ArrayList<>();

    @Override
    public long read(long pa, int size) {
      log.add("read 0x" + Long.toHexString(pa) + "/" + size);
      return 0x5a;
    }

    @Override
    public void write(long pa, int size, long value) {
      log.add("write 0x" + Long.toHexString(pa) + "/" + size + "=0x" + Long.toHexString(value));
    }
  }

  private final RecordingSink sink = new RecordingSink();
  private final Rest rest = new Rest();

  private MsixRegisters regs(MsixAccessPolicy policy) {
    return regs(policy, 3);
  }

  private MsixRegisters regs(MsixAccessPolicy policy, int entries) {
    return new MsixRegisters(BDF, entries, TABLE, PBA, policy, sink, rest);
  }

  static List<Arguments> presets() {
    return List.of(
        Arguments.of("PCI_SPEC", MsixAccessPolicy.PCI_SPEC),
        Arguments.of("XEN_MSIXTBL", MsixAccessPolicy.XEN_MSIXTBL),
        Arguments.of("XEN_VPCI", MsixAccessPolicy.XEN_VPCI),
        Arguments.of("QEMU", MsixAccessPolicy.QEMU),
        Arguments.of("CLOUD_HYPERVISOR", MsixAccessPolicy.CLOUD_HYPERVISOR));
  }

  /** Programs entry {@code e} (0xFEE00000 | dest << 12, data) while masked, then unmasks it. */
  private static void program(MsixRegisters r, int e, int dest, int data) {
    long base = TABLE + 16L * e;
    r.write(base, 4, 0xfee00000L | (long) dest << 12);
    r.write(base + 4, 4, 0);
    r.write(base + 8, 4, data);
    r.write(base + 12, 4, 0);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("presets")
  void resetMasksEveryEntryAndClearsEverythingElse(String name, MsixAccessPolicy p) {
    MsixRegisters r = regs(p);
    for (int e = 0; e < 3; e++) {
      assertEquals(0, r.read(TABLE + 16L * e, 4), "address");
      assertEquals(0, r.read(TABLE + 16L * e + 4, 4), "upper address");
      assertEquals(0, r.read(TABLE + 16L * e + 8, 4), "data");
      assertEquals(1, r.read(TABLE + 16L * e + 12, 4), "Mask = 1 after reset");
      assertTrue(r.isMasked(e));
      assertFalse(r.isPending(e));
    }
    assertEquals(0, r.read(PBA, 8));
    assertEquals(0, r.messageControl());
    // A QWORD read at +8 is data | Vector Control << 32.
    assertEquals(1L << 32, r.read(TABLE + 8, 8));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("presets")
  void alignedDwordAndQwordAccessesAreRegisterAccesses(String name, MsixAccessPolicy p) {
    MsixRegisters r = regs(p);
    r.write(TABLE + 16, 8, 0x0000_0001_fee0_300cL); // entry 1 address, upper address 1
    assertEquals(0xfee0300cL, r.read(TABLE + 16, 4));
    assertEquals(1, r.read(TABLE + 20, 4));
    assertEquals(0x0000_0001_fee0_300cL, r.read(TABLE + 16, 8));
    assertEquals(0x0000_0001_fee0_300cL, r.messageAddress(1));
    // Reference T5: an 8-byte write at +8 = 0x1_00000041: data 0x41, then Mask set.
    r.write(TABLE + 16 + 12, 4, 0); // unmask first
    assertEquals(0, r.entryDword(1, MsixRegisters.VECTOR_CONTROL));
    r.write(TABLE + 16 + 8, 8, 0x1_0000_0041L);
    assertEquals(0x41, r.entryDword(1, MsixRegisters.DATA));
    assertEquals(1, r.entryDword(1, MsixRegisters.VECTOR_CONTROL));
    assertEquals(0, r.undefinedAccesses());
    assertEquals(List.of(), rest.log, "nothing reached the other registers");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("presets")
  void subDwordReadsFollowThePolicyAndWritesAreDropped(String name, MsixAccessPolicy p) {
    MsixRegisters r = regs(p);
    program(r, 0, 0, 0x41);
    boolean ones = p.subDwordRead() == MsixAccessPolicy.SubDwordRead.ALL_ONES;
    assertEquals(ones ? 0xff : 0, r.read(TABLE + 8, 1), "byte of the data");
    assertEquals(ones ? 0xffff : 0, r.read(TABLE + 12, 2), "word of Vector Control");
    assertEquals(ones ? 0xffff : 0, r.read(PBA + 6, 2), "word of the PBA");
    r.write(TABLE + 8, 1, 0x42);
    r.write(TABLE + 12, 2, 1); // would mask entry 0
    r.write(TABLE, 2, 0);
    assertEquals(0x41, r.entryDword(0, MsixRegisters.DATA));
    assertEquals(0xfee00000, r.entryDword(0, MsixRegisters.ADDRESS_LO));
    assertEquals(0, r.entryDword(0, MsixRegisters.VECTOR_CONTROL), "still unmasked");
    assertEquals(6, r.undefinedAccesses());
    assertEquals(3, r.droppedWrites());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("presets")
  void misalignedAccessesThroughMachineMemory(String name, MsixAccessPolicy p) {
    MsixRegisters r = regs(p);
    PhysicalMemory machine = new PhysicalMemory(46);
    machine.addMmio(1, 1, r);
    program(r, 0, 0, 0x41);
    boolean ones = p.subDwordRead() == MsixAccessPolicy.SubDwordRead.ALL_ONES;
    // A DWORD at +2 splits into two WORDs: undefined pieces (QEMU: "so it reads 0").
    assertEquals(ones ? 0xffff_ffffL : 0, machine.read(TABLE + 2, 4));
    machine.write(TABLE + 6, 4, 0x1234_5678);
    assertEquals(0, r.entryDword(0, MsixRegisters.ADDRESS_HI));
    assertEquals(0x41, r.entryDword(0, MsixRegisters.DATA));
    // A QWORD at +4 is two aligned DWORDs: both are register writes (QEMU's memory core too).
    machine.write(TABLE + 4, 8, 0x0000_0099_0000_0000L);
    assertEquals(0, r.entryDword(0, MsixRegisters.ADDRESS_HI));
    assertEquals(0x99, r.entryDword(0, MsixRegisters.DATA));
  }

  @Test
  void vectorControlReservedBitsKeptOrReadAsZero() {
    MsixRegisters keep = regs(MsixAccessPolicy.QEMU);
    MsixRegisters zero = regs(MsixAccessPolicy.PCI_SPEC);
    for (MsixRegisters r : List.of(keep, zero)) {
      r.write(TABLE + 12, 4, 0xffff_fffeL);
      assertEquals(0, r.entryDword(0, MsixRegisters.VECTOR_CONTROL) & 1, "unmasked");
    }
    assertEquals(0xffff_fffeL, keep.read(TABLE + 12, 4));
    assertEquals(0, zero.read(TABLE + 12, 4));
    assertEquals(0, zero.entryDword(0, MsixRegisters.VECTOR_CONTROL), "never stored");
    // With the mask bit set, reads give only bit 0 under READ_ZERO.
    zero.write(TABLE + 12, 4, 0x8000_0001L);
    assertEquals(1, zero.read(TABLE + 12, 4));
  }

  @Test
  void pbaIsReadOnlyUnlessThePolicyStoresWrites() {
    MsixRegisters drop = regs(MsixAccessPolicy.PCI_SPEC);
    drop.writeMessageControl(ENABLE);
    assertEquals(MsixFireResult.PENDING, drop.fire(2));
    drop.write(PBA, 8, 0);
    drop.write(PBA, 4, -1L);
    assertEquals(4, drop.read(PBA, 8), "bit 2 stays, nothing else appears");
    assertEquals(2, drop.droppedWrites());
    MsixRegisters store = regs(MsixAccessPolicy.PCI_SPEC.withPbaWrite(
        MsixAccessPolicy.PbaWrite.STORE));
    store.write(PBA + 4, 4, 0x8000_0000L);
    store.write(PBA, 4, 0x3);
    assertEquals(0x8000_0000_0000_0003L, store.read(PBA, 8));
    assertEquals(0x8000_0000L, store.read(PBA + 4, 4));
    assertTrue(store.isPending(1));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("presets")
  void aMaskedVectorBecomesPendingAndIsSentAtUnmask(String name, MsixAccessPolicy p) {
    MsixRegisters r = regs(p);
    r.writeMessageControl(ENABLE);
    r.write(TABLE + 16, 4, 0xfee03000L);
    r.write(TABLE + 24, 4, 0x41);
    assertEquals(MsixFireResult.PENDING, r.fire(1));
    assertEquals(MsixFireResult.PENDING, r.fire(1), "one bit, however often");
    assertEquals(2, r.read(PBA, 4), "Pending bit 1");
    assertEquals(List.of(), sink.messages);
    r.write(TABLE + 28, 4, 0); // unmask entry 1
    assertEquals(1, sink.messages.size());
    RecordingSink.Message m = sink.messages.get(0);
    assertEquals(BDF, m.sourceBdf());
    assertEquals(1, m.entry());
    assertEquals(0xfee03000L, m.address());
    assertEquals(0x41, m.data());
    assertEquals(3, MsiInterrupt.destination(m.interrupt()));
    assertEquals(0x41, MsiInterrupt.vector(m.interrupt()));
    assertEquals(0, r.read(PBA, 8), "cleared when sent");
    assertEquals(MsixFireResult.DELIVERED, r.fire(1));
    assertEquals(2, sink.messages.size());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("presets")
  void functionMaskHoldsEveryVectorAndItsClearSendsThePending(String name, MsixAccessPolicy p) {
    MsixRegisters r = regs(p);
    r.writeMessageControl(ENABLE | MASKALL);
    program(r, 0, 1, 0x30);
    program(r, 2, 2, 0x32);
    assertEquals(0, r.entryDword(0, MsixRegisters.VECTOR_CONTROL), "per-vector bit clear");
    assertTrue(r.isMasked(0), "masked by the function");
    assertEquals(MsixFireResult.PENDING, r.fire(0));
    assertEquals(MsixFireResult.PENDING, r.fire(1)); // entry 1 also masked by itself
    assertEquals(MsixFireResult.PENDING, r.fire(2));
    assertEquals(7, r.read(PBA, 8));
    r.writeMessageControl(ENABLE);
    assertEquals(2, sink.messages.size(), sink.messages.toString());
    assertEquals(0, sink.messages.get(0).entry());
    assertEquals(0x30, sink.messages.get(0).data());
    assertEquals(2, sink.messages.get(1).entry());
    assertEquals(0x32, sink.messages.get(1).data());
    assertEquals(2, r.read(PBA, 8), "entry 1 is still masked by its own bit");
    assertEquals(1, r.entryDword(1, MsixRegisters.VECTOR_CONTROL));
  }

  @Test
  void onlyEnableAndFunctionMaskAreWritable() {
    MsixRegisters r = regs(MsixAccessPolicy.PCI_SPEC);
    r.writeMessageControl(0xffff);
    assertEquals(ENABLE | MASKALL, r.messageControl());
  }

  @Test
  void firingWhileDisabledIsDroppedOrPendingPerPolicy() {
    MsixRegisters spec = regs(MsixAccessPolicy.PCI_SPEC);
    program(spec, 0, 0, 0x41);
    assertEquals(MsixFireResult.NOT_ENABLED, spec.fire(0));
    assertFalse(spec.isPending(0));
    spec.writeMessageControl(ENABLE);
    assertEquals(List.of(), sink.messages, "nothing was recorded");
    // QEMU: enable, disable, notify, enable: delivered at enable (reference §11.1).
    MsixRegisters qemu = regs(MsixAccessPolicy.QEMU);
    qemu.writeMessageControl(ENABLE);
    program(qemu, 0, 0, 0x41);
    qemu.writeMessageControl(0);
    assertEquals(MsixFireResult.PENDING, qemu.fire(0));
    assertTrue(qemu.isPending(0));
    qemu.writeMessageControl(ENABLE);
    assertEquals(1, sink.messages.size());
    assertEquals(0x41, sink.messages.get(0).data());
    assertFalse(qemu.isPending(0));
  }

  @Test
  void vectorsOutsideTheTableDoNothing() {
    MsixRegisters r = regs(MsixAccessPolicy.QEMU);
    r.writeMessageControl(ENABLE);
    assertEquals(MsixFireResult.OUT_OF_RANGE, r.fire(3));
    assertEquals(MsixFireResult.OUT_OF_RANGE, r.fire(-1));
    assertEquals(0, r.read(PBA, 8));
  }

  @Test
  void addressDataWritesWhileUnmaskedAreImmediateOrWaitForTheNextUnmask() {
    MsixRegisters now = regs(MsixAccessPolicy.PCI_SPEC);
    MsixRegisters later = regs(MsixAccessPolicy.XEN_VPCI);
    for (MsixRegisters r : List.of(now, later)) {
      r.writeMessageControl(ENABLE);
      program(r, 0, 0, 0x41);
      r.write(TABLE + 8, 4, 0x42); // while unmasked: undefined
      r.write(TABLE, 4, 0xfee05000L);
      assertEquals(MsixFireResult.DELIVERED, r.fire(0));
    }
    assertEquals(0x42, sink.messages.get(0).data());
    assertEquals(0xfee05000L, sink.messages.get(0).address());
    assertEquals(0x41, sink.messages.get(1).data(), "the values taken at unmask");
    assertEquals(0xfee00000L, sink.messages.get(1).address());
    later.write(TABLE + 12, 4, 1);
    later.write(TABLE + 12, 4, 0);
    later.fire(0);
    assertEquals(0x42, sink.messages.get(2).data(), "taken at the next unmask");
    assertEquals(0xfee05000L, sink.messages.get(2).address());
  }

  @Test
  void aFunctionUnmaskAlsoTakesTheNewValues() {
    MsixRegisters r = regs(MsixAccessPolicy.XEN_VPCI);
    r.writeMessageControl(ENABLE);
    program(r, 0, 0, 0x41);
    r.writeMessageControl(ENABLE | MASKALL);
    r.write(TABLE + 8, 4, 0x43);
    r.writeMessageControl(ENABLE);
    r.fire(0);
    assertEquals(0x43, sink.messages.get(0).data());
  }

  @Test
  void bytesOutsideTheTableAndPbaGoToTheOtherRegisters() {
    MsixRegisters r = regs(MsixAccessPolicy.PCI_SPEC);
    assertEquals(0x5a, r.read(TABLE + 48, 4), "just past entry 2");
    r.write(PBA + 8, 8, 7); // just past the 8-byte PBA
    r.write(TABLE - 4, 4, 1);
    assertEquals(List.of("read 0x1030/4", "write 0x1808/8=0x7", "write 0xffc/4=0x1"), rest.log);
  }

  @Test
  void aSixtyFifthEntryHasItsPendingBitInTheSecondQword() {
    MsixRegisters r = new MsixRegisters(BDF, 65, TABLE, 0x2000, MsixAccessPolicy.PCI_SPEC, sink,
        rest);
    r.writeMessageControl(ENABLE);
    assertEquals(MsixFireResult.PENDING, r.fire(64));
    assertEquals(0, r.read(0x2000, 8));
    assertEquals(1, r.read(0x2008, 8));
    assertEquals(1, r.read(0x2008, 4));
    assertEquals(0x5a, r.read(0x2010, 8), "PBA is ceil(65/64) = 2 QWORDs");
    assertEquals(16, MsixRegisters.pbaBytes(65));
    assertEquals(8, MsixRegisters.pbaBytes(64));
    assertEquals(256, MsixRegisters.pbaBytes(2048));
  }

  @Test
  void layoutsThatCannotBeRegistersAreRefused() {
    assertNull(MsixRegisters.layoutProblem(3, TABLE, TABLE + 48));
    assertEquals("table size 0 (expected 1..2048)", MsixRegisters.layoutProblem(0, TABLE, PBA));
    assertEquals("table size 2049 (expected 1..2048)",
        MsixRegisters.layoutProblem(2049, TABLE, PBA));
    assertEquals("table [0x1000, 0x102f] overlaps PBA [0x1028, 0x102f]",
        MsixRegisters.layoutProblem(3, TABLE, TABLE + 40));
    assertEquals("table 0x1004 or PBA 0x1800 not QWORD aligned",
        MsixRegisters.layoutProblem(3, TABLE + 4, PBA));
    assertEquals("table or PBA wraps past 2^64", MsixRegisters.layoutProblem(3, -16, PBA));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new MsixRegisters(BDF, 3, TABLE, TABLE + 40, MsixAccessPolicy.QEMU, sink, rest));
    assertEquals("MSI-X registers of 01:00.0: table [0x1000, 0x102f] overlaps PBA "
        + "[0x1028, 0x102f]", e.getMessage());
  }

  @Test
  void whatIsWrittenWhileMaskedIsWhatUnmaskSends() {
    Property.forAll(Gens.zip(Gens.unsignedLongs(), Gens.ints(0, 2), (v, e) -> new long[] {v, e}),
        c -> {
          for (MsixAccessPolicy p : List.of(MsixAccessPolicy.PCI_SPEC, MsixAccessPolicy.XEN_VPCI,
              MsixAccessPolicy.QEMU)) {
            RecordingSink s = new RecordingSink();
            MsixRegisters r = new MsixRegisters(BDF, 3, TABLE, PBA, p, s, rest);
            int e = (int) c[1];
            long address = c[0];
            int data = (int) (c[0] >>> 17) ^ 0x5a5a;
            r.writeMessageControl(ENABLE);
            assertEquals(MsixFireResult.PENDING, r.fire(e));
            r.write(TABLE + 16L * e, 8, address);
            r.write(TABLE + 16L * e + 8, 4, data & 0xffff_ffffL);
            r.write(TABLE + 16L * e + 12, 4, 0);
            assertEquals(1, s.messages.size());
            assertEquals(address, s.messages.get(0).address());
            assertEquals(data, s.messages.get(0).data());
            assertEquals(MsiInterrupt.decode(address, data, p.extendedDestinationId()),
                s.messages.get(0).interrupt());
          }
        });
  }
}
