package org.hvmmu.testkit.host;

import static org.hvmmu.x86.PteFlags.PAGE_NX_BIT;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.hvmmu.host.ExistingMappings;
import org.hvmmu.host.Policy;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.x86.Pte;
import org.junit.jupiter.api.Test;

class HostScriptTest {
  @Test
  void shouldWriteEntriesAsPteWhenEveryFlagHasAName() {
    assertEquals("pte(0xe0840, P RW US)",
        HostScript.entry(Pte.fromMfn(0xe0840, PAGE_PRESENT | PAGE_RW | PAGE_USER)));
    assertEquals("pte(0x0)", HostScript.entry(0));
    // NX is bit 63, the guest-kernel bit 52
    assertEquals("pte(0x1, P NX)", HostScript.entry(0x8000000000001001L));
    assertEquals("pte(0x1, P GK)", HostScript.entry(0x0010000000001001L));
    assertEquals("pte(0xfffffffff, NX)",
        HostScript.entry(Pte.fromMfn(0xfffffffffL, PAGE_NX_BIT)));
  }

  @Test
  void shouldWriteOtherEntriesAsRawHex() {
    assertEquals("0xffffffffffffffff", HostScript.entry(-1L));
    assertEquals("0x201", HostScript.entry(0x201)); // software bit 9 has no name
  }

  @Test
  void shouldWriteRangesAndNames() {
    assertEquals("0xfec00-0xfec03", HostScript.range(0xfec00, 0xfec03));
    assertEquals("0xe0840", HostScript.range(0xe0840, 0xe0840));
    assertEquals("P RW US", HostScript.flagNames(0x7));
    assertEquals("", HostScript.flagNames(0));
    assertEquals("hvm-shadow", HostScript.modeName(org.hvmmu.host.PagingMode.HVM_SHADOW));
    assertEquals("mmio_direct", HostScript.typeName(org.hvmmu.p2m.P2mType.MMIO_DIRECT));
    assertEquals("2m", HostScript.orderName(org.hvmmu.x86.PageOrder.ORDER_2M));
  }

  @Test
  void shouldWriteConfigSpacesAsLspciLines() {
    byte[] bytes = new byte[256];
    bytes[0] = (byte) 0x86;
    bytes[1] = (byte) 0x80;
    bytes[0xff] = (byte) 0xab;
    List<String> lines = HostScript.hexLines(ConfigSpace.of(bytes));
    assertEquals(16, lines.size());
    assertEquals("00: 86 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00", lines.get(0));
    assertEquals("f0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 ab", lines.get(15));
    List<String> extended = HostScript.hexLines(ConfigSpace.of(new byte[4096]));
    assertEquals(256, extended.size());
    assertEquals("ff0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", extended.get(255));
  }

  @Test
  void shouldNamePoliciesAndTheirDifferences() {
    assertEquals("seed-2010", HostScript.policyName(Policy.SEED_2010));
    assertEquals("hardened", HostScript.policyName(Policy.HARDENED));
    Policy mix = Policy.HARDENED.withExistingMappings(ExistingMappings.REDERIVE_OWNER_P2M)
        .withMsix(Policy.HARDENED.msix().withRegisterOncePerDevice(true));
    assertEquals("", HostScript.policyName(mix));
    assertEquals("hardened", HostScript.describePolicy(Policy.HARDENED));
    assertEquals(
        "hardened with msix.registerOncePerDevice = true,"
            + " existingMappings = REDERIVE_OWNER_P2M",
        HostScript.describePolicy(mix));
  }

  @Test
  void shouldListActionsOnePerLine() {
    assertEquals(List.of("a", "b"), HostScript.lines(List.of("a", "b")));
    assertEquals(List.of("x"), HostScript.lines("x"));
  }
}
