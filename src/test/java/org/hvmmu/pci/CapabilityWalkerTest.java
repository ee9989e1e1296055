package org.hvmmu.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CapabilityWalkerTest {
  private static List<Integer> offsets(List<Capability> caps) {
    return caps.stream().map(Capability::offset).toList();
  }

  @Test
  void shouldFollowTheChainInChainOrderNotAddressOrder() {
    // 0x34 -> 0x84 (MSI-X) -> 0x50 (PM) -> end; an 0x11 byte at 0x60 is not on the chain.
    ConfigSpace c =
        ConfigBuilder.normal()
            .set8(0x34, 0x84)
            .msix(0x84, 0x50, 0x0002, 1, 0x801)
            .cap(0x50, 0x01, 0x00)
            .set8(0x60, 0x11)
            .set8(0x70, 0x11)
            .build();
    CapabilityList caps = CapabilityWalker.walk(c);
    assertEquals(List.of(0x84, 0x50), offsets(caps.standard()));
    assertEquals(List.of(), caps.warnings());
    assertEquals(0x84, caps.findCapOffset(PciRegs.CAP_ID_MSIX));
    assertEquals(0x84, CapabilityWalker.findCapOffset(c, PciRegs.CAP_ID_MSIX));
    assertEquals(0, caps.findCapOffset(0x05));
  }

  @Test
  void shouldMaskPointersToDwords() {
    // Pointers 0x43 and 0x52 read as 0x40 and 0x50 (the low two bits are reserved).
    ConfigSpace c =
        ConfigBuilder.normal().set8(0x34, 0x43).cap(0x40, 0x01, 0x52).cap(0x50, 0x05, 0).build();
    assertEquals(List.of(0x40, 0x50), offsets(CapabilityWalker.walk(c).standard()));
  }

  @Test
  void shouldReportATwoCapabilityLoop() {
    ConfigSpace c =
        ConfigBuilder.normal().set8(0x34, 0x40).cap(0x40, 0x01, 0x50).cap(0x50, 0x05, 0x40).build();
    CapabilityList caps = CapabilityWalker.walk(c);
    assertEquals(List.of(0x40, 0x50), offsets(caps.standard()));
    assertEquals(
        List.of("capability chain loops back to 0x40 (from 0x51): chain ends"), caps.warnings());
  }

  @Test
  void shouldReportASelfLoop() {
    ConfigSpace c = ConfigBuilder.normal().set8(0x34, 0x40).msix(0x40, 0x40, 0, 0, 0).build();
    CapabilityList caps = CapabilityWalker.walk(c);
    assertEquals(List.of(0x40), offsets(caps.standard()));
    assertEquals(
        List.of("capability chain loops back to 0x40 (from 0x41): chain ends"), caps.warnings());
  }

  @Test
  void shouldStopAtPointersIntoTheHeaderAndAtId0xff() {
    ConfigSpace low = ConfigBuilder.normal().set8(0x34, 0x40).cap(0x40, 0x01, 0x10).build();
    CapabilityList caps = CapabilityWalker.walk(low);
    assertEquals(List.of(0x40), offsets(caps.standard()));
    assertEquals(1, caps.warnings().size());
    assertTrue(caps.warnings().get(0).contains("0x10"), caps.warnings().toString());

    ConfigSpace broken =
        ConfigBuilder.normal().set8(0x34, 0x40).cap(0x40, 0x01, 0x50).cap(0x50, 0xff, 0x60).build();
    CapabilityList b = CapabilityWalker.walk(broken);
    assertEquals(List.of(0x40), offsets(b.standard()));
    assertEquals(List.of("capability at 0x50 has ID 0xff: chain broken"), b.warnings());
  }

  @Test
  void shouldIgnoreThePointerWithoutTheStatusBit() {
    ConfigSpace c = new ConfigBuilder(256).set8(0x34, 0x40).msix(0x40, 0, 0, 0, 0).build();
    CapabilityList caps = CapabilityWalker.walk(c);
    assertEquals(List.of(), caps.standard());
    assertEquals(1, caps.warnings().size());
  }

  @Test
  void shouldStartCardBusChainsAt0x14() {
    ConfigSpace c =
        ConfigBuilder.normal()
            .headerType(PciRegs.HEADER_TYPE_CARDBUS)
            .set8(0x14, 0x80)
            .set8(0x34, 0x40)
            .cap(0x80, 0x01, 0)
            .cap(0x40, 0x11, 0)
            .build();
    assertEquals(List.of(0x80), offsets(CapabilityWalker.walk(c).standard()));
  }

  @Test
  void shouldStopAtTheEndOfTheKnownBytes() {
    // A 64-byte (unprivileged) read: the chain starts at 0x40, beyond what is known.
    ConfigSpace c =
        new ConfigBuilder(64)
            .set16(PciRegs.STATUS, PciRegs.STATUS_CAP_LIST)
            .set8(0x34, 0x90)
            .build();
    CapabilityList caps = CapabilityWalker.walk(c);
    assertEquals(List.of(), caps.standard());
    assertEquals(
        List.of("capability at 0x90 is beyond the 0x40 bytes known: chain not followed further"),
        caps.warnings());
  }

  @Test
  void shouldVisitEachOfThe48DwordsAtMostOnce() {
    // Every dword from 0x40 to 0xfc on one chain, then back to 0x40: 48 capabilities, then a loop.
    ConfigBuilder b = ConfigBuilder.normal().set8(0x34, 0x40);
    for (int at = 0x40; at <= 0xfc; at += 4) {
      b.cap(at, 0x09, at == 0xfc ? 0x40 : at + 4);
    }
    CapabilityList caps = CapabilityWalker.walk(b.build());
    assertEquals(48, caps.standard().size());
    assertEquals(
        List.of("capability chain loops back to 0x40 (from 0xfd): chain ends"), caps.warnings());
  }

  @Test
  void shouldWalkExtendedCapabilities() {
    ConfigBuilder b = new ConfigBuilder(4096);
    b.extCap(0x100, 0x0001, 1, 0x160)
        .extCap(0x160, PciRegs.EXT_CAP_ID_SRIOV, 1, 0x140)
        .extCap(0x140, 0x0003, 2, 0);
    CapabilityList caps = CapabilityWalker.walk(b.build());
    assertEquals(
        List.of(
            new Capability(true, 0x1, 1, 0x100),
            new Capability(true, 0x10, 1, 0x160),
            new Capability(true, 0x3, 2, 0x140)),
        caps.extended());
    assertEquals(0x160, caps.findExtCapability(PciRegs.EXT_CAP_ID_SRIOV));
    assertEquals(List.of(), caps.warnings());
  }

  @Test
  void shouldReportExtendedLoopsAndBadPointers() {
    CapabilityList loop =
        CapabilityWalker.walk(
            new ConfigBuilder(4096).extCap(0x100, 1, 1, 0x200).extCap(0x200, 2, 1, 0x100).build());
    assertEquals(List.of(0x100, 0x200), offsets(loop.extended()));
    assertEquals(
        List.of("extended capability chain loops back to 0x100 (from 0x200): chain ends"),
        loop.warnings());

    CapabilityList self =
        CapabilityWalker.walk(new ConfigBuilder(4096).extCap(0x100, 1, 1, 0x100).build());
    assertEquals(List.of(0x100), offsets(self.extended()));
    assertEquals(1, self.warnings().size());

    CapabilityList below =
        CapabilityWalker.walk(new ConfigBuilder(4096).extCap(0x100, 1, 1, 0x40).build());
    assertEquals(
        List.of("extended capability at 0x100 points to 0x40, below 0x100: chain ends"),
        below.warnings());

    CapabilityList toZero =
        CapabilityWalker.walk(new ConfigBuilder(4096).extCap(0x100, 1, 1, 0x300).build());
    assertEquals(
        List.of("extended capability at 0x100 points to 0x300, whose header is 0: chain broken"),
        toZero.warnings());
  }

  @Test
  void shouldStopLongExtendedChainsAfter480() {
    // 960 four-byte capabilities, 0x100 -> 0x104 -> ... -> 0xffc: the TTL stops the walk at 480.
    ConfigBuilder b = new ConfigBuilder(4096);
    for (int at = 0x100; at <= 0xffc; at += 4) {
      b.extCap(at, 0x0b, 1, at == 0xffc ? 0 : at + 4);
    }
    CapabilityList caps = CapabilityWalker.walk(b.build());
    assertEquals(480, caps.extended().size());
    assertEquals(
        List.of("more than 480 extended capabilities: chain not followed further"),
        caps.warnings());
  }

  @Test
  void shouldNotWalkExtendedCapabilitiesOfConventionalSpace() {
    assertEquals(List.of(), CapabilityWalker.walk(new ConfigBuilder(256).build()).extended());
    assertEquals(0, CapabilityWalker.findExtCapability(new ConfigBuilder(256).build(), 1));
  }
}
