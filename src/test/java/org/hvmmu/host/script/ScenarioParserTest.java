package org.hvmmu.host.script;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_DIRTY;
import static org.hvmmu.x86.PteFlags.PAGE_GLOBAL;
import static org.hvmmu.x86.PteFlags.PAGE_GUEST_KERNEL;
import static org.hvmmu.x86.PteFlags.PAGE_NX_BIT;
import static org.hvmmu.x86.PteFlags.PAGE_PAT;
import static org.hvmmu.x86.PteFlags.PAGE_PCD;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_PWT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.host.script.Scenario.Command;
import org.hvmmu.host.script.Scenario.PolicyName;
import org.hvmmu.mmu.MmuSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Every command of the language, every error with its line, numbers, entries, comments. */
class ScenarioParserTest {
  /** Declarations that the commands below refer to (lines 1-9). */
  static final String PRELUDE = String.join("\n",
      "domain pv 1 pv",
      "domain ept 2 hvm-ept",
      "domain sh 3 hvm-shadow",
      "domain pvs 4 pv-shadow",
      "device nic dump nic.txt",
      "protect ioapic 0xfec00",
      "table sh",
      "table pvs",
      "ram pv 0x100-0x1ff") + "\n";

  static Stream<Arguments> commands() {
    long rwEntry = Pte.fromMfn(0xe0840, PAGE_PRESENT | PAGE_RW | PAGE_USER);
    return Stream.of(
        Arguments.of("ram ept 0x300-0x3ff", new Scenario.GiveRam("ept", 0x300, 0x3ff)),
        Arguments.of("ram ept 0x300", new Scenario.GiveRam("ept", 0x300, 0x300)),
        Arguments.of("mmio-hole 0xa0-0xbf", new Scenario.MmioHole(0xa0, 0xbf)),
        Arguments.of("mmcfg 0 0-63 0xf8000000", new Scenario.Mmcfg(0, 0, 63, 0xf8000000L)),
        Arguments.of("iomem pv 0xe0840-0xe0842", new Scenario.GrantIomem("pv", 0xe0840, 0xe0842)),
        Arguments.of("assign nic ept", new Scenario.Assign("nic", "ept")),
        Arguments.of("protect hpet 0xfed00", new Scenario.Protect("hpet", 0xfed00, 0xfed00)),
        Arguments.of("unprotect ioapic 0xfec00", new Scenario.Unprotect("ioapic", 0xfec00,
            0xfec00)),
        Arguments.of("msix enable nic 3", new Scenario.MsixEnable("nic", 3, "")),
        Arguments.of("msix enable nic 3 by ept", new Scenario.MsixEnable("nic", 3, "ept")),
        Arguments.of("msix disable nic 2047", new Scenario.MsixDisable("nic", 2047)),
        Arguments.of("msix prepare nic", new Scenario.MsixPrepare("nic")),
        Arguments.of("msix release nic", new Scenario.MsixRelease("nic")),
        Arguments.of("pin pv 0x100", new Scenario.Pin("pv", 0x100)),
        Arguments.of("unpin pv 256", new Scenario.Unpin("pv", 0x100)),
        Arguments.of("write pv 0x101 511 0x8000000000000067",
            new Scenario.GuestWrite("pv", 0x101, 511, 0x8000000000000067L)),
        Arguments.of("update pv 0x100 0 pte(0xe0840, P RW US)",
            new Scenario.MmuUpdate("pv", 0x100, 0, rwEntry)),
        Arguments.of("ptwr pv 0x100 0x18 8 pte(0xe0840, P RW US)",
            new Scenario.Ptwr("pv", 0x100, 0x18, 8, rwEntry, false, 0)),
        Arguments.of("ptwr pv 0x100 4 4 0x1 cmpxchg 0",
            new Scenario.Ptwr("pv", 0x100, 4, 4, 1, true, 0)),
        Arguments.of("p2m ept 0x400 0xe0800 2m mmio_direct",
            new Scenario.SetP2m("ept", 0x400, 0xe0800, PageOrder.ORDER_2M, P2mType.MMIO_DIRECT)),
        Arguments.of("p2m sh 0x0 0x0 1g ram_rw",
            new Scenario.SetP2m("sh", 0, 0, PageOrder.ORDER_1G, P2mType.RAM_RW)),
        Arguments.of("retype ept ram_rw ram_logdirty",
            new Scenario.Retype("ept", P2mType.RAM_RW, P2mType.RAM_LOGDIRTY)),
        Arguments.of("table sh", new Scenario.NewTable("sh")),
        Arguments.of("shadow sh 0 7 pte(0xe0840, P RW US)",
            new Scenario.ShadowWrite("sh", 0, 7, rwEntry)),
        Arguments.of("crash ept", new Scenario.Crash("ept")),
        Arguments.of("expect rc 0", new Scenario.ExpectRc(0)),
        Arguments.of("expect rc -EINVAL", new Scenario.ExpectRc(-Errno.EINVAL)),
        Arguments.of("expect rc -enodata", new Scenario.ExpectRc(-Errno.ENODATA)),
        Arguments.of("expect rc -22", new Scenario.ExpectRc(-22)),
        Arguments.of("expect rc 4", new Scenario.ExpectRc(4)),
        Arguments.of("expect writable pv pv 0x100 3", new Scenario.ExpectPvEntry(true, "pv", 0x100,
            3)),
        Arguments.of("expect read-only pv pv 0x100 3",
            new Scenario.ExpectPvEntry(false, "pv", 0x100, 3)),
        Arguments.of("expect writable ept p2m 0xe0842",
            new Scenario.ExpectP2mEntry(true, "ept", 0xe0842)),
        Arguments.of("expect read-only pvs shadow 0 511",
            new Scenario.ExpectShadowEntry(false, "pvs", 0, 511)),
        Arguments.of("expect protected 0xe0840-0xe0842",
            new Scenario.ExpectProtected(true, 0xe0840, 0xe0842)),
        Arguments.of("expect unprotected 2", new Scenario.ExpectProtected(false, 2, 2)),
        Arguments.of("expect invariants hold", new Scenario.ExpectInvariantsHold()),
        Arguments.of("expect invariant unprotected-msix fails",
            new Scenario.ExpectInvariantFails("unprotected-msix")),
        Arguments.of("expect invariant counts fails", new Scenario.ExpectInvariantFails("counts")),
        Arguments.of("print ranges", new Scenario.PrintRanges()),
        Arguments.of("print invariants", new Scenario.PrintInvariants()));
  }

  @ParameterizedTest
  @MethodSource("commands")
  void shouldParseEveryCommandAndWriteItBack(String line, Command expected) {
    Scenario s = ScenarioParser.parse("t", PRELUDE + line + "   # a comment\n");
    Scenario.Step last = s.steps().get(s.steps().size() - 1);
    assertEquals(expected, last.command());
    assertEquals(10, last.line());
    Scenario again = ScenarioParser.parse("t", ScenarioWriter.write(s.commands()));
    assertEquals(s.commands(), again.commands());
  }

  @Test
  void shouldParseDeclarations() {
    Scenario s = ScenarioParser.parse("t", String.join("\n",
        "host frames 4096 policy seed-2010",
        "domain dom0 0 pv privileged",
        "domain d32 32751 pv32 privileged", // DOMID_FIRST_RESERVED - 1: the last ordinary id
        "domain n 5 hvm-npt",
        "device d dump ../x/y.txt index 2"));
    assertEquals(List.of(
        new Scenario.HostConfig(0x1000, PolicyName.SEED_2010),
        new Scenario.CreateDomain("dom0", 0, PagingMode.PV, true),
        new Scenario.CreateDomain("d32", 0x7fef, PagingMode.PV32, true),
        new Scenario.CreateDomain("n", 5, PagingMode.HVM_NPT, false),
        new Scenario.DeviceDump("d", "../x/y.txt", 2)), s.commands());
    assertEquals(new Scenario.HostConfig(1, PolicyName.UNSPECIFIED),
        ScenarioParser.parse("t", "host frames 1").commands().get(0));
  }

  @Test
  void shouldSkipCommentsAndBlankLinesAndKeepLineNumbers() {
    Scenario s = ScenarioParser.parse("t", "# header\n\n   \t\n  domain a 1 pv  # trailing\n"
        + "#domain b 2 pv\r\nram a 0x100\r\n");
    assertEquals(2, s.steps().size());
    assertEquals(4, s.steps().get(0).line());
    assertEquals(6, s.steps().get(1).line());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
    "0|0",
    "0x0|0",
    "18446744073709551615|-1",
    "0xffffffffffffffff|-1",
    "0XFfFf|65535",
    "0x8000000000000000|-9223372036854775808",
    "007|7"
  })
  void shouldReadUnsignedNumbers(String text, long expected) {
    Scenario s = ScenarioParser.parse("t", "protect r " + text);
    assertEquals(new Scenario.Protect("r", expected, expected), s.commands().get(0));
  }

  @Test
  void shouldReadEveryPteForm() {
    long all = Pte.fromMfn(Pte.MAX_MFN, PAGE_PRESENT | PAGE_RW | PAGE_USER | PAGE_PWT | PAGE_PCD
        | PAGE_ACCESSED | PAGE_DIRTY | PAGE_PAT | PAGE_GLOBAL | PAGE_NX_BIT | PAGE_GUEST_KERNEL);
    String[][] forms = {
      {"pte(0xe0840)", Long.toString(Pte.fromMfn(0xe0840, 0))},
      {"pte(0xe0840,)", Long.toString(Pte.fromMfn(0xe0840, 0))},
      {"pte( 0xe0840 , p rw )", Long.toString(Pte.fromMfn(0xe0840, PAGE_PRESENT | PAGE_RW))},
      {"pte(0xffffffffff, P RW US PWT PCD A D PAT G NX GK)", Long.toString(all)},
      {"pte(1,P)", Long.toString(Pte.fromMfn(1, PAGE_PRESENT))},
      {"0x0", "0"},
    };
    for (String[] f : forms) {
      Scenario s = ScenarioParser.parse("t", "domain g 1 pv\nupdate g 0x100 0 " + f[0]);
      assertEquals(Long.parseLong(f[1]), ((Scenario.MmuUpdate) s.commands().get(1)).entry(), f[0]);
    }
    assertEquals("pte(0xffffffffff, P RW US PWT PCD A D PAT G NX GK)", ScenarioWriter.entry(all));
    assertEquals("0x200", ScenarioWriter.entry(0x200), "an available bit is not a named flag");
    assertEquals("pte(0x0)", ScenarioWriter.entry(0));
  }

  @Test
  void shouldReadAnInlineDeviceAndNameTheRightLineOfItsErrors() {
    String rows = "00: 86 80 c9 10 07 04 10 00 01 00 00 02 10 00 80 00\n"
        + "10: 00 00 80 e0 00 00 00 e0 21 10 00 00 00 00 84 e0\n"
        + "20: 00 00 00 00 00 00 00 00 00 00 00 00 86 80 3c a0\n"
        + "30: 00 00 80 c7 40 00 00 00 00 00 00 00 0b 01 00 00\n";
    Scenario s = ScenarioParser.parse("t", "device nic hex  # 64 bytes\n" + rows
        + "  end  \ndomain g 1 pv\nassign nic g\n");
    assertEquals(3, s.steps().size());
    Scenario.DeviceHex hex = (Scenario.DeviceHex) s.commands().get(0);
    assertEquals(4, hex.lines().size());
    assertEquals(7, s.steps().get(1).line());
    assertEquals(List.of(hex), ScenarioParser.parse("t", ScenarioWriter.write(List.of(hex)))
        .commands());
    // A row out of order, on script line 4.
    ScenarioException e = assertThrows(ScenarioException.class, () -> ScenarioParser.parse("t",
        "# x\ndevice nic hex\n00: 86 80 c9 10 07 04 10 00 01 00 00 02 10 00 80 00\n"
            + "20: 00 00\nend\n"));
    assertEquals(4, e.line(), e.getMessage());
    assertTrue(e.getMessage().startsWith("t:4: device nic: "), e.getMessage());
    // With a header line of its own.
    Scenario withHeader = ScenarioParser.parse("t", "device nic hex\n"
        + "0000:03:00.0 Ethernet controller\n" + rows + "end\n");
    assertEquals(5, ((Scenario.DeviceHex) withHeader.commands().get(0)).lines().size());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
    // script (\\n separates lines) | line | message
    "frobnicate 1|1|unknown command 'frobnicate'",
    "domain g 1 pv\\nram g 0x1g|2|bad number '0x1g'",
    "mmcfg 0 0-256 0xf8000000|1|bus range ends at 256",
    "mmcfg 0x10000 0-1 0|1|out of range",
    "domain g 1 pv\\nram g 18446744073709551616|2|is above 0xffffffffffffffff",
    "domain g 1 pv\\nram g 0x200-0x100|2|first frame above last",
    "domain g 1 pv\\nram g -1|2|bad frame range '-1'",
    "ram nobody 0x100|1|undeclared domain 'nobody'",
    "domain g 1 pv\\nassign nic g|2|undeclared device 'nic'",
    "unprotect ioapic 0xfec00|1|undeclared registrant 'ioapic'",
    "domain g 1 hvm-ept\\npin g 0x100|2|domain 'g' is hvm-ept; this needs pv or pv32",
    "domain g 1 pv\\np2m g 0 0 4k ram_rw|2|this needs hvm-ept, hvm-npt or hvm-shadow",
    "domain g 1 hvm-ept\\ntable g|2|this needs pv-shadow or hvm-shadow",
    "domain g 1 pv-shadow\\nshadow g 0 0 0|2|domain 'g' has no table 0",
    "domain g 1 pv\\nexpect writable g p2m 0|2|domain 'g' is pv",
    "domain g 1 hvm-ept privileged|1|a privileged domain must be pv or pv32",
    "domain g 1 pv\\ndomain h 1 pv|2|domain id 1 is already taken",
    "domain g 1 pv\\ndomain g 2 pv|2|domain 'g' is already declared",
    "domain g 32752 pv|1|out of range",
    "domain g 1 hvm|1|unknown paging mode 'hvm'",
    "# c\\ndevice nic hex\\n00: 00|2|missing 'end'",
    "device nic hex\\nend|1|no lines before 'end'",
    "end|1|'end' without 'device NAME hex'",
    "domain g 1 pv\\nhost frames 16|2|'host' must be the first command",
    "host frames 0x100001|1|expected 1 to 0x100000",
    "host frames 0|1|expected 1 to 0x100000",
    "host frames 16 policy upstream|1|unknown policy 'upstream'",
    "host 16|1|expected 'frames', found '16'",
    "expect rc 0|1|expect rc: no command before it",
    "protect r 1\\nexpect rc -EWHAT|2|unknown errno '-EWHAT'",
    "protect r 1\\nexpect invariant sane fails|2|unknown invariant 'sane'",
    "protect r 1\\nexpect invariants|2|missing 'hold'",
    "protect r 1\\nexpect flying|2|expect 'flying'",
    "domain g 1 pv\\nupdate g 0x100 512 0|2|a slot '512' is out of range",
    "domain g 1 pv\\nupdate g 0x100 0 pte(0x1, P QQ)|2|unknown flag 'QQ'",
    "domain g 1 pv\\nupdate g 0x100 0 pte(0x1, P|2|pte( without a closing )",
    "domain g 1 pv\\nupdate g 0x100 0 pte(0x10000000000)|2|is above 0xffffffffff",
    "domain g 1 pv\\nupdate g 0x100 0 pte(1)x|2|unexpected 'x' after pte(...)",
    "domain g 1 pv\\npin g 0x100 extra|2|unknown table level 'extra' (expected: l1, l2, l3 or l4)",
    "domain g 1 pv\\npin g 0x100 l4 extra|2|unexpected 'extra' at the end of 'pin'",
    "domain g 1 pv\\npin g|2|missing an MFN",
    "domain 9g 1 pv|1|bad name '9g'",
    "domain g 1 hvm-ept\\np2m g 0 0 4m ram_rw|2|unknown page order '4m'",
    "domain g 1 hvm-ept\\np2m g 0 0 4k ram_rx|2|unknown p2m type 'ram_rx'",
    "device d dump x.txt\\nmsix frob d|2|msix 'frob'",
    "device d dump x.txt\\nmsix enable d 2048|2|out of range",
    "print everything|1|expected ranges or invariants",
    "domain g 1 pv\\nptwr g 0x100 4096 8 0|2|out of range",
    "domain g 1 pv\\nptwr g 0x100 0 9 0|2|out of range",
    "domain g 1 pv\\nptwr g 0x100 0 8 0 swap 1|2|expected 'cmpxchg'",
  })
  void shouldNameTheLineOfEveryError(String script, int line, String message) {
    ScenarioException e = assertThrows(ScenarioException.class,
        () -> ScenarioParser.parse("s.hvmmu", script.replace("\\n", "\n")));
    assertEquals(line, e.line(), e.getMessage());
    assertEquals("s.hvmmu", e.source());
    assertTrue(e.getMessage().startsWith("s.hvmmu:" + line + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  @Test
  void shouldReportAnUnreadableFileWithoutALine() {
    Path missing = Path.of("/nonexistent/dir/x.hvmmu");
    ScenarioException e = assertThrows(ScenarioException.class,
        () -> ScenarioParser.read(missing));
    assertEquals(ScenarioException.NO_LINE, e.line());
    assertEquals("/nonexistent/dir/x.hvmmu: cannot read: no such file", e.getMessage());
  }

  @Test
  void shouldCutLongTokensInMessages() {
    String token = "x".repeat(10_000);
    ScenarioException e = assertThrows(ScenarioException.class,
        () -> ScenarioParser.parse("t", token));
    assertTrue(e.getMessage().length() < 200, e.getMessage());
  }

  @Test
  void recordsShouldRefuseBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> new Scenario.Pin("9", 1));
    assertThrows(IllegalArgumentException.class, () -> new Scenario.GiveRam("g", 2, 1));
    assertThrows(IllegalArgumentException.class, () -> new Scenario.MmuUpdate("g", 1, 512, 0));
    assertThrows(IllegalArgumentException.class, () -> new Scenario.HostConfig(0,
        PolicyName.HARDENED));
    assertThrows(IllegalArgumentException.class, () -> new Scenario.DeviceHex("d",
        List.of("00: 00", "end")));
    assertThrows(IllegalArgumentException.class, () -> new Scenario.DeviceDump("d", "a b", 0));
    assertThrows(IllegalArgumentException.class, () -> new Scenario.CreateDomain("d", 1,
        PagingMode.HVM_EPT, true));
    assertThrows(IllegalArgumentException.class, () -> new Scenario.ExpectInvariantFails("x"));
    assertThrows(IllegalArgumentException.class, () -> new Scenario.Ptwr("g", 1, 0, 8, 0, false,
        1));
    assertThrows(IllegalArgumentException.class, () -> Scenario.PolicyName.fromScriptName(""));
  }

  @Test
  void everyPresetShouldHaveAScriptName() {
    Scenario s = ScenarioParser.parse("t", "host frames 0x10 policy xen-4.22 tlb over-flush\n");
    Scenario.HostConfig h = (Scenario.HostConfig) s.commands().get(0);
    assertEquals(PolicyName.XEN_4_22, h.policy());
    assertEquals(Policy.XEN_4_22, h.policy().policy());
    assertEquals(MmuSwitches.TlbMode.OVER_FLUSH, h.tlb());
    assertEquals("xen-4.22", ScenarioRunner.policyName(Policy.XEN_4_22));
    assertEquals("seed-2010", ScenarioRunner.policyName(Policy.SEED_2010));
    assertEquals("hardened", ScenarioRunner.policyName(Policy.HARDENED));
    ScenarioException e = assertThrows(ScenarioException.class,
        () -> ScenarioParser.parse("t", "host frames 0x10 policy xen-4.21\n"));
    assertTrue(e.getMessage().contains("(expected: seed-2010, hardened or xen-4.22)"),
        e.getMessage());
  }

  @Test
  void scenarioOfShouldNumberLinesAsTheWriterWritesThem() {
    List<Command> commands = List.of(new Scenario.CreateDomain("g", 1, PagingMode.PV, false),
        new Scenario.Pin("g", 0x100), new Scenario.ExpectRc(-Errno.EINVAL));
    Scenario s = Scenario.of("cex", commands);
    assertEquals(commands, s.commands());
    assertEquals(3, s.steps().get(2).line());
    assertEquals("domain g 1 pv\npin g 0x100\nexpect rc -EINVAL\n", ScenarioWriter.write(commands));
    assertThrows(ScenarioException.class, () -> Scenario.of("cex",
        List.of(new Scenario.Pin("g", 0x100))));
  }
}
