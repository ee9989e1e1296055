package org.hvmmu.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BarTest {
  @ParameterizedTest
  @CsvSource({
    // register,   kind,         code
    "0x00000001, IO,           0x1",
    "0x0000c061, IO,           0x1",
    "0xfebd6000, MEM32,        0x0",
    "0x000a0002, MEM1M,        0x2",
    "0xe000000c, MEM64,        0x4",
    "0x00000006, MEM_RESERVED, 0x6",
    "0x0000000f, IO,           0x1",
  })
  void shouldClassifyFromTheLowBits(long register, BarKind kind, int code) {
    assertEquals(kind, BarKind.fromRegister((int) register));
    assertEquals(code, kind.code());
    assertEquals(kind, BarKind.fromCode(code));
  }

  @Test
  void shouldRejectUnknownCodes() {
    assertThrows(IllegalArgumentException.class, () -> BarKind.fromCode(0x8));
  }

  @Test
  void shouldDecodeEveryKindOfANormalHeader() {
    ConfigSpace c =
        new ConfigBuilder(64)
            .bar(0, 0x0000c061L) // I/O at 0xc060 (bits 1:0 are flags)
            .bar(1, 0xfebd6000L) // 32-bit, non-prefetchable
            .bar(2, 0x5001000cL) // 64-bit, prefetchable, low dword ...
            .bar(3, 0x00000020L) // ... high dword: 0x20_5001_0000
            .bar(4, 0x000a0002L) // below 1M
            .bar(5, 0x00000006L) // reserved type, address 0: unassigned
            .build();
    List<Bar> bars = Bar.decodeAll(c);
    assertEquals(
        List.of(
            new Bar(0, BarKind.IO, false, 0xc060L, 0, true, 0x0000c061),
            new Bar(1, BarKind.MEM32, false, 0xfebd6000L, 0, true, 0xfebd6000),
            new Bar(2, BarKind.MEM64, true, 0x2050010000L, 0, true, 0x5001000c),
            new Bar(4, BarKind.MEM1M, false, 0xa0000L, 0, true, 0x000a0002),
            new Bar(5, BarKind.MEM_RESERVED, false, 0, 0, true, 0x00000006)),
        bars);
    assertEquals(2, bars.get(2).slots());
    assertTrue(bars.get(2).isAssigned());
    assertFalse(bars.get(4 - 1).isSizeKnown());
    assertFalse(bars.get(4).isAssigned());
  }

  @Test
  void shouldMarkA64BitBarInTheLastSlotInvalid() {
    ConfigSpace c = new ConfigBuilder(64).bar(5, 0xe000000cL).build();
    Bar bar = Bar.decodeAll(c).get(0);
    assertEquals(5, bar.index());
    assertEquals(BarKind.MEM64, bar.kind());
    assertFalse(bar.valid());
    assertEquals(0, bar.address());
    assertFalse(bar.isAssigned());
    assertEquals(1, bar.slots());
  }

  @Test
  void shouldSkipEmptyAndAllOnesSlots() {
    ConfigSpace c = new ConfigBuilder(64).bar(0, 0).bar(1, 0xffffffffL).bar(2, 0xe0000000L).build();
    assertEquals(List.of(2), Bar.decodeAll(c).stream().map(Bar::index).toList());
  }

  @Test
  void shouldListAZeroSlotWhoseSizeIsKnown() {
    // sysfs knows a resource the register does not show (Enhanced Allocation, "[virtual]" in
    // lspci).
    ConfigSpace c = new ConfigBuilder(64).build();
    List<Bar> bars = Bar.decodeAll(c, new long[] {0, 0, 0, 0, 0x100000});
    assertEquals(List.of(new Bar(4, BarKind.MEM32, false, 0, 0x100000, true, 0)), bars);
  }

  @Test
  void shouldLimitBarsByMaskedHeaderType() {
    // Bridge (type 1, multi-function bit set): two slots; a 64-bit BAR in slot 1 is the last slot.
    ConfigSpace bridge =
        new ConfigBuilder(64)
            .headerType(0x81)
            .bar(0, 0xd0000000L)
            .bar(1, 0xd100000cL)
            .bar(2, 0x00020100L) // bus numbers on a bridge, not a BAR
            .build();
    List<Bar> bars = Bar.decodeAll(bridge);
    assertEquals(2, bars.size());
    assertFalse(bars.get(1).valid());
    // CardBus: one slot.
    ConfigSpace cardbus =
        new ConfigBuilder(128).headerType(2).bar(0, 0xa0000000L).bar(1, 0xa1000000L).build();
    assertEquals(List.of(0), Bar.decodeAll(cardbus).stream().map(Bar::index).toList());
    // Unknown header type 3: no BARs at all.
    assertEquals(
        List.of(), Bar.decodeAll(new ConfigBuilder(64).headerType(3).bar(0, 0xa0000000L).build()));
  }

  @Test
  void shouldKnowSizesAndUpperHalvesThroughTheDevice() {
    PciDevice d =
        new ConfigBuilder(64)
            .bar(0, 0xe000000cL)
            .bar(1, 1)
            .bar(2, 0xd0000000L)
            .device(0x4000, 0, 0x1000);
    assertEquals(0x4000, d.bar(0).size());
    assertTrue(d.isUpperHalf(1));
    assertFalse(d.hasBar(1));
    assertFalse(d.isUpperHalf(2));
    assertEquals(0x1000, d.bar(2).size());
    assertThrows(IllegalArgumentException.class, () -> d.bar(1));
    assertThrows(IllegalArgumentException.class, () -> d.barSize(6));
  }

  @Test
  void shouldValidateFields() {
    assertThrows(
        IllegalArgumentException.class, () -> new Bar(6, BarKind.IO, false, 0, 0, true, 1));
    assertThrows(IllegalArgumentException.class, () -> new Bar(0, null, false, 0, 0, true, 1));
    assertThrows(
        IllegalArgumentException.class, () -> new Bar(0, BarKind.IO, false, 0, -1, true, 1));
  }
}
