package org.hvmmu.pci.msix.regs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Decoding against the reference's §11.1 "Decode" vectors and the SDM's bit positions (Message
 * Address: 31:20 0xFEE, 19:12 destination, 3 RH, 2 DM; Message Data: 7:0 vector, 10:8 delivery
 * mode, 14 level, 15 trigger), expected values worked by hand.
 */
class MsiInterruptTest {
  @ParameterizedTest(name = "0x{0} / 0x{1}, ext {2}: {3}")
  @CsvSource({
    // physical, dest 0, fixed, edge, vector 0x41
    "fee00000, 0041, false, dest 0x0 physical fixed edge vector 0x41",
    // dest 3, RH = 1, DM = logical, lowest priority (data 10:8 = 001), level (bit 15), deassert
    "fee0300c, 8141, false, dest 0x3 logical rh lowest-priority level deassert vector 0x41",
    // Linux trace "APIC 255 vector 0x22"
    "feeff000, 0022, false, dest 0xff physical fixed edge vector 0x22",
    // bits 11:5 = 1 -> APIC ID bit 8: 0x1ff with the extended destination ID, 0xff without
    "feeff020, 0022, true, dest 0x1ff physical fixed edge vector 0x22",
    "feeff020, 0022, false, dest 0xff physical fixed edge vector 0x22",
    // bits 11:5 all ones, dest 0xab: 0x7f << 8 | 0xab = 0x7fab
    "feeabfe0, 00ff, true, dest 0x7fab physical fixed edge vector 0xff",
    // NMI (100), level assert (bits 15 and 14)
    "fee01000, c402, false, dest 0x1 physical nmi level assert vector 0x2",
    // remappable, bit 3 SHV, bits 19:5 = 0x4b8 >> 5 = 0x25: handle 0x25, IRTE 0x25
    "fee004b8, 0000, false, remappable handle 0x25 shv subhandle 0x0 irte 0x25",
    // bit 2 set: handle bit 15
    "fee004bc, 0000, false, remappable handle 0x8025 shv subhandle 0x0 irte 0x8025",
    // SHV with data 0x10000: reserved-field fault
    "fee004b8, 10000, false, remappable handle 0x25 shv subhandle 0x0 irte 0x25 reserved-data-fault",
    // SHV with subhandle 3: IRTE 0x25 + 3 = 0x28
    "fee004b8, 0003, false, remappable handle 0x25 shv subhandle 0x3 irte 0x28",
    // no SHV: the data is not added
    "fee004b0, 0003, false, remappable handle 0x25 irte 0x25",
    // not 0xFEE: a plain memory write
    "fed00000, 0041, false, not-interrupt dest 0x0 physical fixed edge vector 0x41",
  })
  void decodesTheReferenceVectors(String address, String data, boolean ext, String expected) {
    long i = MsiInterrupt.decode(Long.parseLong(address, 16), Integer.parseInt(data, 16), ext);
    assertEquals(expected, MsiInterrupt.toString(i));
  }

  @Test
  void fieldsOfTheLevelTriggeredLogicalVector() {
    long i = MsiInterrupt.decode(0xfee0300cL, 0x8141, false);
    assertTrue(MsiInterrupt.isInterrupt(i));
    assertEquals(3, MsiInterrupt.destination(i));
    assertTrue(MsiInterrupt.redirectionHint(i));
    assertTrue(MsiInterrupt.isLogical(i));
    assertEquals(MsiInterrupt.DELIVERY_LOWEST_PRIORITY, MsiInterrupt.deliveryMode(i));
    assertTrue(MsiInterrupt.isLevelTriggered(i));
    assertFalse(MsiInterrupt.isAssert(i));
    assertEquals(0x41, MsiInterrupt.vector(i));
    assertFalse(MsiInterrupt.isRemappable(i));
    assertEquals(-1, MsiInterrupt.irteIndex(i));
  }

  @Test
  void aNonZeroUpperAddressIsNotAnInterrupt() {
    // SDM: address bits 63:32 are 0 for interrupts.
    assertFalse(MsiInterrupt.isInterrupt(MsiInterrupt.decode(1L << 32 | 0xfee00000L, 0x41, true)));
    assertTrue(MsiInterrupt.isInterrupt(MsiInterrupt.decode(0xfee00000L, 0x41, true)));
  }

  @Test
  void remappableFields() {
    long i = MsiInterrupt.decode(0xfee004bcL, 0x10005, false);
    assertTrue(MsiInterrupt.isRemappable(i));
    assertTrue(MsiInterrupt.hasSubhandle(i));
    assertEquals(0x8025, MsiInterrupt.handle(i));
    assertEquals(5, MsiInterrupt.subhandle(i));
    assertEquals(0x802a, MsiInterrupt.irteIndex(i));
    assertTrue(MsiInterrupt.hasReservedDataFault(i));
    assertEquals(0, MsiInterrupt.destination(i), "no destination of its own");
  }
}
