package org.hvmmu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.hvmmu.cli.InspectCommandTest.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code hvmmu replay} and {@code hvmmu demo}: exit codes, messages, and the demo's final table,
 * whose rows were worked out by hand from reference 3.6 for the bundled demo script.
 */
class CliScenarioTest {
  static Run run(String... args) {
    return InspectCommandTest.run(args);
  }

  static Path example(String name) {
    return Path.of("docs/scenarios", name);
  }

  @Test
  void replayShouldExitZeroWhenEveryExpectHolds() {
    Run r = run("replay", example("second-enable.hvmmu").toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().startsWith("replay docs/scenarios/second-enable.hvmmu (policy seed-2010)\n"),
        r.out());
    assertTrue(r.out().contains("  47  expect invariant unprotected-msix fails"), r.out());
    assertTrue(r.out().endsWith("seed-2010: 8 expect line(s), 8 held, 0 failed\n"), r.out());
    assertEquals("", r.err());
  }

  @Test
  void replayShouldExitOneAndNameEachFailedLine() {
    Run r = run("replay", "--policy", "hardened", example("second-enable.hvmmu").toString());
    assertEquals(1, r.code(), r.out() + r.err());
    String f = "docs/scenarios/second-enable.hvmmu:";
    assertTrue(r.out().contains("\n" + f + "40: expected rc -ENOSYS, but 'msix prepare nic'"
        + " (line 39) returned 0\n"), r.out());
    assertTrue(r.out().contains("\n" + f + "43: expected 0xe0840 unprotected, but it is in"
        + " r/o mmio ranges { e0840, e0842 }\n"), r.out());
    assertTrue(r.out().contains("\n" + f + "46: expected guest L1 0x100[0] writable, but it is"
        + " read-only"), r.out());
    assertTrue(r.out().contains("\n" + f + "47: expected invariant unprotected-msix to fail, but"
        + " it holds\n"), r.out());
    assertTrue(r.out().endsWith("hardened: 8 expect line(s), 4 held, 4 failed\n"), r.out());
    assertEquals("", r.err());
  }

  @Test
  void replayPolicyShouldOverrideTheScripts() {
    Run r = run("replay", example("hardened-all-protected.hvmmu").toString(), "--policy",
        "seed-2010");
    assertEquals(1, r.code());
    assertTrue(r.out().contains("(policy seed-2010)"), r.out());
    assertTrue(r.out().endsWith("seed-2010: 13 expect line(s), 4 held, 9 failed\n"), r.out());
    assertEquals(0, run("replay", example("hardened-all-protected.hvmmu").toString()).code());
  }

  @Test
  void replayShouldExitTwoWithOneLineForAScriptError(@TempDir Path dir) throws IOException {
    Path bad = dir.resolve("bad.hvmmu");
    Files.writeString(bad, "domain g 1 pv\n\nram g 0x100-0x1ff\nfrobnicate g\nexpect rc 0\n");
    Run r = run("replay", bad.toString());
    assertEquals(2, r.code());
    assertEquals(bad + ":4: unknown command 'frobnicate'\n", r.err());
    assertFalse(r.err().contains("Exception"), r.err());

    Path runtime = dir.resolve("runtime.hvmmu");
    Files.writeString(runtime, "domain g 1 pv\ncrash g\nexpect rc 0\npin g 0x100\n");
    Run rt = run("replay", runtime.toString());
    assertEquals(2, rt.code());
    assertTrue(rt.out().contains("   3  expect rc 0"), rt.out());
    assertTrue(rt.err().startsWith(runtime + ":4: pin g 0x100: d1 (PV) has crashed"), rt.err());
    assertEquals(1, rt.err().lines().count(), rt.err());

    Run missing = run("replay", dir.resolve("missing.hvmmu").toString());
    assertEquals(2, missing.code());
    assertEquals(dir.resolve("missing.hvmmu") + ": cannot read: no such file\n", missing.err());
  }

  @Test
  void replayUsageErrorsShouldExitTwo() {
    Run noFile = run("replay");
    assertEquals(2, noFile.code());
    assertTrue(noFile.err().contains("Missing required parameter: 'FILE'"), noFile.err());
    Run badPolicy = run("replay", "--policy", "upstream", example("bar-mask.hvmmu").toString());
    assertEquals(2, badPolicy.code());
    assertTrue(badPolicy.err().contains("unknown policy 'upstream' (expected: seed-2010,"
        + " hardened or xen-4.22)"), badPolicy.err());
  }

  @ParameterizedTest
  @ValueSource(strings = {"demo", "replay", "inspect"})
  void everyCommandShouldHaveHelp(String command) {
    Run r = run(command, "--help");
    assertEquals(0, r.code());
    assertTrue(r.out().startsWith("Usage: hvmmu " + command), r.out());
  }

  @Test
  void withoutArgumentsTheDemoRuns() {
    Run none = run();
    Run demo = run("demo");
    assertEquals(0, none.code(), none.err());
    assertEquals(demo.out(), none.out());
  }

  @Test
  void demoShouldShowThreePoliciesStepsLogsAndRanges() {
    Run r = run("demo");
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    String out = r.out();
    assertTrue(out.startsWith("hvmmu demo: scenarios/demo.hvmmu under seed-2010"), out);
    // The seed's enable of the 82576: both WARN_ONs of its BAR read, the debug line with the PBA at
    // frame 2, and the ranges; hardened registered the right frames at prepare.
    assertTrue(out.contains("  46  msix enable nic 0\n"
        + "        seed-2010  rc 0\n"
        + "                   WARN  MsixDevice: WARN_ON: MSI-X 01:00.0: caller's table base"
        + " 0xe0840000 differs from BAR 3 as read_pci_mem_bar reads it (0x0)\n"
        + "                   WARN  MsixDevice: WARN_ON: MSI-X 01:00.0: PBA BAR 3 reads 0\n"
        + "                   DEBUG MsixDevice: MSIX 01:00.0: table@(e0840,e0840), pba@(2,2)\n"
        + "                   r/o mmio ranges { 2, e0840, f8000-fbfff, fec00, fed00 }\n"
        + "        xen-4.22   rc 0\n"
        + "        hardened   = xen-4.22\n"), out);
    assertTrue(out.contains("DEBUG L1eValidator: d0: Forcing read-only access to MFN e0840"), out);
    assertTrue(out.contains("  seed-2010  r/o mmio ranges { 2, e0840, f8000-fbfff, fec00, fed00 }\n"
        + "  xen-4.22   r/o mmio ranges { c017c-c017d, e0840, e0842, f8000-fbfff, fec00, fed00 }\n"
        + "  hardened   r/o mmio ranges { c017c-c017d, e0840, e0842, f8000-fbfff, fec00, fed00 }\n"),
        out);
    assertTrue(out.contains("  hardened   invariants hold\n"), out);
    // Comments of the script are the narrative.
    assertTrue(out.contains("# The 82576 is passed through to the EPT guest"), out);
  }

  @Test
  void demoShouldShowTheInterruptRedirectedUnderTheSeedOnly() {
    String out = run("demo").out();
    // dom0's message through the permitted path (Xen's write_msi_msg, unmask, MSI-X Enable): APIC
    // 0, vector 0x41, both sides.
    assertTrue(out.contains("  69  msix program nic 0 0xfee00000 0x4041\n"
        + "        all        programmed\n"
        + "  70  msix fire nic 0\n"
        + "        all        delivered: 0xfee00000 0x4041 (dest 0x0 physical fixed edge vector"
        + " 0x41)\n"
        + "  71  expect sent 0xfee00000 0x4041\n"
        + "        all        holds\n"), out);
    // The PV guest's stores through L1 0x200[0]. Seed: the entry is writable. The first store walks
    // L4 -> L1: 4 memory references (16 cycles each) and 3 locked A/D updates (19 each: A in the L3
    // and L2 entries, A|D in the L1 entry; Xen's adjust_guest_l4e set the L4 entry's A):
    // 64 + 57 = 121. The second hits the L1 TLB, which the model charges 0. Hardened: the entry is
    // read-only, a #PF (P|W = 0x3) that Xen gives back to a domain that is not the hardware
    // domain: 4 references of the walk and the #PF delivery, 64 + 2687 = 2751 each time (a
    // faulting walk caches nothing). Xen 4.22 left the entry writable as the seed did
    // (existingMappings = LEAVE: the mapping was made at line 37, before the prepare at line 45).
    assertTrue(out.contains("  83  store cpu0 0x0 4 0xfee01000\n"
        + "        seed-2010  performed, 121 cycles\n"
        + "        xen-4.22   = seed-2010\n"
        + "        hardened   pf 0x3 at 0x0, ptwr_do_page_fault: PV_NOT_HARDWARE_DOMAIN (pf"
        + " injected), 2751 cycles\n"
        + "  84  store cpu0 0x8 4 0x40ef\n"
        + "        seed-2010  performed, 0 cycles\n"
        + "        xen-4.22   = seed-2010\n"
        + "        hardened   pf 0x3 at 0x8, ptwr_do_page_fault: PV_NOT_HARDWARE_DOMAIN (pf"
        + " injected), 2751 cycles\n"), out);
    // The next interrupt: where the guest chose (APIC 1, vector 0xef) / where dom0 programmed it.
    assertTrue(out.contains("  88  msix fire nic 0\n"
        + "        seed-2010  delivered: 0xfee01000 0x40ef (dest 0x1 physical fixed edge vector"
        + " 0xef)\n"
        + "        xen-4.22   = seed-2010\n"
        + "        hardened   delivered: 0xfee00000 0x4041 (dest 0x0 physical fixed edge vector"
        + " 0x41)\n"
        + "  89  expect sent 0xfee01000 0x40ef\n"
        + "        seed-2010  holds\n"
        + "        xen-4.22   = seed-2010\n"
        + "        hardened   FAILED: expected sent 0xfee01000 0x40ef"), out);
    // The audit of the programmed entry: under the seed the guest's stores changed entry 0 outside
    // the permitted paths and the next message is not the one dom0 programmed; hardened keeps both.
    String seedEnd = out.lines()
        .filter(l -> l.startsWith("  seed-2010  ") && l.contains("violations"))
        .findFirst().orElseThrow();
    assertTrue(seedEnd.contains("msix-table-integrity"), seedEnd);
    assertTrue(seedEnd.contains("interrupt-provenance"), seedEnd);
    assertTrue(out.contains("  hardened   invariants hold\n"), out);
  }

  @Test
  void demoTableShouldListWhatTheSeedLeavesWritable() {
    String out = run("demo").out();
    String table = out.substring(out.indexOf("What seed-2010 leaves writable"));
    List<String> rows = table.lines().skip(2).takeWhile(l -> !l.isEmpty()).toList();
    // Worked out by hand (see demo.hvmmu's comments and reference 3.6): dom0's exemption; the PV
    // guest's existing mapping; its PBA mapping (PBA at frame 2); the ConnectX-3's table and PBA
    // after the second enable; the EPT guest's PBA leaf; the HVM shadow guest's p2m leaves and
    // shadow entry (not the device owner); the PV-shadow entry.
    String[][] expected = {
      {"d0 dom0 (pv, privileged)", "PV L1", "L1 0x100[0]", "0xe0840", "(row 8)"},
      {"d1 pvguest (pv)", "PV L1", "L1 0x200[0]", "0xe0840", "(row 10)"},
      {"d1 pvguest (pv)", "PV L1", "L1 0x200[1]", "0xe0842", "PBA registered at frame 0x2"},
      {"d1 pvguest (pv)", "PV L1", "L1 0x200[2]", "0xc017c", "(row 7)"},
      {"d1 pvguest (pv)", "PV L1", "L1 0x200[3]", "0xc017d", "frame 0x7d (row 4); registered"},
      {"d2 eptguest (hvm-ept)", "p2m", "gfn 0xe0842", "0xe0842", "header type 0x80"},
      {"d3 shadowguest (hvm-shadow)", "p2m", "gfn 0xe0840", "0xe0840", "(row 11)"},
      {"d3 shadowguest (hvm-shadow)", "p2m", "gfn 0xe0842", "0xe0842", "(row 4)"},
      {"d3 shadowguest (hvm-shadow)", "shadow", "table 0[0]", "0xe0840", "(row 11)"},
      {"d4 pvshadow (pv-shadow)", "shadow", "table 0[0]", "0xe0840", "(row 9)"},
    };
    assertEquals(expected.length, rows.size(), table);
    for (int i = 0; i < expected.length; i++) {
      String row = rows.get(i);
      int at = 0;
      for (String cell : expected[i]) {
        int found = row.indexOf(cell, at);
        assertTrue(found >= at, "row " + i + " lacks '" + cell + "': " + row);
        at = found + cell.length();
      }
    }
  }

  @Test
  void demoShouldEndWithWhatXen422StillLeavesOpen() {
    String out = run("demo").out();
    String section = out.substring(out.indexOf("\nWhat xen-4.22 still leaves open that hardened"
        + " closes:\n") + 1);
    List<String> lines = section.lines().toList();
    // Worked out from the reference, not from the output: Xen 4.22 differs from hardened in five
    // switches (docs/policy.md). The bundled demo's BARs are sane (checkedRegionArithmetic), no
    // device is released (releaseRequiresPrepare), no PBA crosses a page (pbaSizing) and no frame
    // has two registrants (ownershipAwareRemoval), so only existingMappings = LEAVE can show: the
    // mappings of the 82576's table (0xe0840) and PBA (0xe0842) that exist before 'msix prepare
    // nic' (line 45) keep write access. They are the PV guest's L1 0x200[0] (line 37), the EPT guest's
    // mmio_direct leaves from its assignment (line 30), the HVM shadow guest's leaves from its
    // iomem grant (line 32) and its shadow entry (line 39). Everything after the prepare is forced
    // read-only as under hardened. The PV guest's stores (lines 83, 84) then reach the table, the
    // interrupt (88) goes where the guest chose and the attacker's expect (89) holds.
    assertEquals("  steps whose outcome differs: lines 83, 84, 88, 89", lines.get(1));
    assertTrue(lines.get(2).startsWith("  invariants failing only under xen-4.22: "
        + "writable-read-only-mmio x6, "), lines.get(2));
    assertTrue(lines.get(2).contains("msix-table-integrity x1"), lines.get(2));
    assertTrue(lines.get(2).contains("interrupt-provenance x1"), lines.get(2));
    String[][] expected = {
      {"d1 pvguest (pv)", "PV L1", "L1 0x200[0]", "0xe0840"},
      {"d2 eptguest (hvm-ept)", "p2m", "gfn 0xe0840", "0xe0840"},
      {"d2 eptguest (hvm-ept)", "p2m", "gfn 0xe0842", "0xe0842"},
      {"d3 shadowguest (hvm-shadow)", "p2m", "gfn 0xe0840", "0xe0840"},
      {"d3 shadowguest (hvm-shadow)", "p2m", "gfn 0xe0842", "0xe0842"},
      {"d3 shadowguest (hvm-shadow)", "shadow", "table 0[0]", "0xe0840"},
    };
    List<String> rows = lines.subList(5, lines.size());
    assertEquals(expected.length, rows.size(), section);
    for (int i = 0; i < expected.length; i++) {
      String row = rows.get(i);
      int at = 0;
      for (String cell : expected[i]) {
        int found = row.indexOf(cell, at);
        assertTrue(found >= at, "row " + i + " lacks '" + cell + "': " + row);
        at = found + cell.length();
      }
      assertTrue(row.endsWith("existingMappings = LEAVE: mapped before the frames were protected,"
          + " not revoked (\"XXX How to deal with existing mappings?\")"), row);
    }
    assertTrue(out.endsWith(rows.get(rows.size() - 1) + "\n"), "the section ends the output");
  }

  @Test
  void demoPolicyShouldSelectTheColumns() {
    Run two = run("demo", "--policy", "hardened", "--policy", "xen-4.22");
    assertEquals(0, two.code(), two.err());
    String out = two.out();
    // Columns in the fixed order, whatever the order of the options.
    assertTrue(out.startsWith("hvmmu demo: scenarios/demo.hvmmu under xen-4.22 (Xen as released in"
        + " 4.22) and hardened, side by side\n"), out);
    assertTrue(out.contains("  69  msix program nic 0 0xfee00000 0x4041\n"
        + "        both       programmed\n"), out);
    assertFalse(out.contains("        seed-2010  ") || out.contains("\n  seed-2010  "), out);
    assertFalse(out.contains("What seed-2010 leaves writable"), out);
    assertTrue(out.contains("\nWhat xen-4.22 still leaves open that hardened closes:\n"), out);
    assertEquals(out, run("demo", "--policy", "xen-4.22,hardened").out());

    Run one = run("demo", "--policy", "seed-2010");
    assertEquals(0, one.code(), one.err());
    assertTrue(one.out().startsWith("hvmmu demo: scenarios/demo.hvmmu under seed-2010 (Xen's 2010"
        + " patch, defects included)\n"), one.out());
    assertTrue(one.out().contains("  69  msix program nic 0 0xfee00000 0x4041\n"
        + "        seed-2010  programmed\n"), one.out());
    assertFalse(one.out().contains("What "), one.out());

    Run seedAndHardened = run("demo", "--policy", "seed-2010,hardened");
    assertTrue(seedAndHardened.out().contains("What seed-2010 leaves writable"));
    assertFalse(seedAndHardened.out().contains("        xen-4.22   "));
    assertFalse(seedAndHardened.out().contains("What xen-4.22"));

    Run bad = run("demo", "--policy", "upstream");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("unknown policy 'upstream' (expected: seed-2010, hardened or"
        + " xen-4.22)"), bad.err());
  }

  @Test
  void demoShouldSayWhenXen422LeavesNothingOpen() {
    // second-enable.hvmmu shows the seed's row 7: a table unprotected after its device's second
    // enable. Xen 4.22 registers and removes on the used-entries transitions as hardened does
    // (registerOncePerDevice = false), the script maps the frames only after they are protected, on
    // sane BARs, and never releases: none of 4.22's five differences from hardened is met.
    Run r = run("demo", example("second-enable.hvmmu").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().endsWith("What xen-4.22 still leaves open that hardened closes:\n"
        + "  nothing: every step ends the same under both, and no invariant fails and no mapping"
        + " stays writable under xen-4.22 that hardened closes\n"), r.out());
  }

  @Test
  void replayShouldRunTheDemoUnderXen422() {
    // The attack succeeds under 4.22 (existingMappings = LEAVE), so both expects hold.
    Path demo = Path.of("src/cli/resources/org/hvmmu/cli/scenarios/demo.hvmmu");
    Run r = run("replay", demo.toString(), "--policy", "xen-4.22");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().startsWith("replay " + demo + " (policy xen-4.22)\n"), r.out());
    assertTrue(r.out().contains("  83  store cpu0 0x0 4 0xfee01000"), r.out());
    assertTrue(r.out().endsWith("xen-4.22: 2 expect line(s), 2 held, 0 failed\n"), r.out());
  }

  @Test
  void demoOfAFileShouldRunItSideBySide(@TempDir Path dir) throws IOException {
    Files.copy(example("shadow-rw-noop.hvmmu"), dir.resolve("s.hvmmu"));
    Run r = run("demo", dir.resolve("s.hvmmu").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("FAILED: expected guest shadow 0[0] writable"), r.out());
    assertTrue(r.out().contains("d1 guest (pv-shadow)  shadow  table 0[0]  0xfec00    shadow_set_l1e"),
        r.out());
    Files.writeString(dir.resolve("bad.hvmmu"), "pin nobody 1\n");
    Run bad = run("demo", dir.resolve("bad.hvmmu").toString());
    assertEquals(2, bad.code());
    assertEquals(dir.resolve("bad.hvmmu") + ":1: undeclared domain 'nobody'\n", bad.err());
  }

  @Test
  void bundledScenarioPathsShouldNormalise() {
    assertEquals("org/hvmmu/cli/samples/x.txt",
        BundledScenarios.normalize("org/hvmmu/cli/scenarios/../samples/./x.txt"));
    assertTrue(BundledScenarios.names().contains("demo.hvmmu"));
  }
}
