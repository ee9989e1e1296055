package org.hvmmu.host.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.hvmmu.host.ExistingMappings;
import org.hvmmu.host.Policy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Expect semantics, failures that do not stop a script, errors that do, the bundled examples. */
class ScenarioRunnerTest {
  static String bundled(String name) {
    try (InputStream in = ScenarioRunnerTest.class.getResourceAsStream(
        "/org/hvmmu/cli/scenarios/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Each example, its own policy, and the lines that fail under the other policy, worked out by
   * hand from reference 3.6 and HostMsixTest / HostTest (not from the runner's output).
   */
  static Stream<Arguments> examples() {
    return Stream.of(
        // hardened: prepare succeeds (40), re-registers (43), the update is forced read-only (46),
        // the enabled device's frames are protected (47).
        Arguments.of("second-enable.hvmmu", Policy.SEED_2010, List.of(40, 43, 46, 47)),
        // hardened: prepare (35); the PBA is at 0xe0842, not 2 (39, 40); its leaf revoked (42, 43).
        Arguments.of("bar-mask.hvmmu", Policy.SEED_2010, List.of(35, 39, 40, 42, 43)),
        // hardened: prepare (38); revocation of the existing mapping (42, 43).
        Arguments.of("existing-pv-mappings.hvmmu", Policy.SEED_2010, List.of(38, 42, 43)),
        // hardened: the shadow entry loses R/W (14, 15).
        Arguments.of("shadow-rw-noop.hvmmu", Policy.SEED_2010, List.of(14, 15)),
        // seed: no prepare (49), PBA at 2 (53, 54), existing PV mapping (55), the PBA's p2m leaf
        // (57), dom0's exemption (60), the PV-shadow no-op (66), the PBA mapping (68), and so the
        // invariants (69). The HVM shadow (63) and the owner's table leaf (56) hold under both.
        Arguments.of("hardened-all-protected.hvmmu", Policy.HARDENED,
            List.of(49, 53, 54, 55, 57, 60, 66, 68, 69)));
  }

  @ParameterizedTest
  @MethodSource("examples")
  void bundledExamplesShouldHoldUnderTheirPolicyAndFailAtTheRightLinesUnderTheOther(String name,
      Policy own, List<Integer> failingLines) {
    Scenario s = ScenarioParser.parse(name, bundled(name));
    ScenarioResult mine = ScenarioRunner.scriptPolicy().run(s);
    assertEquals(own, mine.policy());
    assertEquals(List.of(), mine.failures());
    assertTrue(mine.expects() > failingLines.size());
    Policy other = own == Policy.SEED_2010 ? Policy.HARDENED : Policy.SEED_2010;
    ScenarioResult theirs = ScenarioRunner.forcing(other).run(s);
    List<Integer> lines = new ArrayList<>();
    for (Failure f : theirs.failures()) {
      lines.add(f.line());
      assertTrue(f.toString().startsWith(name + ":" + f.line() + ": expected "), f.toString());
      assertTrue(f.toString().contains(", but "), f.toString());
    }
    assertEquals(failingLines, lines, theirs.failures().toString());
  }

  @Test
  void bundledExamplesShouldBeCopiedToDocs() throws IOException {
    for (String name : new String[] {"second-enable.hvmmu", "bar-mask.hvmmu",
        "existing-pv-mappings.hvmmu", "shadow-rw-noop.hvmmu", "hardened-all-protected.hvmmu"}) {
      Path doc = Path.of("docs/scenarios", name);
      assertEquals(bundled(name), Files.readString(doc), doc + " differs from the bundled copy");
    }
  }

  private static ScenarioResult run(Policy policy, String script) {
    return ScenarioRunner.forcing(policy).run(ScenarioParser.parse("t", script));
  }

  @Test
  void failedExpectsShouldNotStopTheScript() {
    String script = String.join("\n",
        "protect ioapic 0xfec00",          // 1
        "expect rc -EINVAL",               // 2: fails
        "expect unprotected 0xfec00",      // 3: fails
        "protect hpet 0xfed00",            // 4: still runs
        "expect protected 0xfec00-0xfec00",// 5
        "expect protected 0xfed00",        // 6
        "expect protected 0xfec00-0xfed00" // 7: fails, frames between are not protected
    );
    ScenarioResult r = run(Policy.HARDENED, script);
    assertEquals(5, r.expects());
    assertEquals(List.of(2, 3, 7), r.failures().stream().map(Failure::line).toList());
    assertEquals("t:2: expected rc -EINVAL, but 'protect ioapic 0xfec00' (line 1) returned 0",
        r.failures().get(0).toString());
    assertEquals("t:3: expected 0xfec00 unprotected, but it is in r/o mmio ranges { fec00 }",
        r.failures().get(1).toString());
    assertTrue(r.host().mmioRoRanges().containsSingleton(0xfed00));
    assertFalse(r.passed());
  }

  @Test
  void expectRcShouldReferToTheLastCommandBeforeIt() {
    String script = String.join("\n",
        "domain g 1 pv",
        "ram g 0x100-0x1ff",
        "pin g 0x900",              // 3: not the guest's frame
        "expect rc -EINVAL",
        "expect rc -EINVAL",        // still line 3's
        "print ranges",
        "expect rc -EINVAL",        // print has no code of its own
        "pin g 0x100",
        "expect rc 0");
    assertEquals(List.of(), run(Policy.SEED_2010, script).failures());
  }

  @Test
  void entryExpectationsShouldReadTheRightTables() {
    String script = String.join("\n",
        "domain g 1 pv",
        "ram g 0x100-0x1ff",
        "iomem g 0xfe000-0xfe00f",
        "domain h 2 hvm-npt",
        "ram h 0x200-0x2ff",
        "iomem h 0xfe000-0xfe00f",
        "domain s 3 pv-shadow",
        "ram s 0x300-0x3ff",
        "iomem s 0xfe000-0xfe00f",
        "table s",
        "protect ioapic 0xfe001",
        "pin g 0x100",
        "update g 0x100 0 pte(0xfe000, P RW US)",
        "update g 0x100 1 pte(0xfe001, P RW US)",
        "expect writable g pv 0x100 0",
        "expect read-only g pv 0x100 1",
        "expect read-only g pv 0x100 2",            // not present
        "expect writable h p2m 0xfe000",
        "expect read-only h p2m 0xfe001",           // hardened revoked it
        "expect read-only h p2m 0x5000",            // not mapped
        "shadow s 0 9 pte(0xfe001, P RW)",
        "expect read-only s shadow 0 9",
        "expect invariants hold");
    ScenarioResult r = run(Policy.HARDENED, script);
    assertEquals(List.of(), r.failures());
    ScenarioResult seed = run(Policy.SEED_2010, script);
    // The seed leaves the NPT leaf (a host registration re-derives nobody) and the PV-shadow entry
    // writable, and so invariant 1 fails.
    assertEquals(List.of(19, 22, 23), seed.failures().stream().map(Failure::line).toList());
    assertEquals("t:20: expected h p2m gfn 0x5000 writable, but it is not mapped",
        run(Policy.HARDENED, script.replace("read-only h p2m 0x5000", "writable h p2m 0x5000"))
            .failures().get(0).toString());
  }

  @Test
  void invariantExpectationsShouldNameTheInvariant() {
    String script = "domain g 1 pv\nram g 0x100-0x1ff\niomem g 0xfe000\npin g 0x100\n"
        + "update g 0x100 0 pte(0xfe000, P RW)\nprotect ioapic 0xfe000\n"
        + "expect invariant writable-read-only-mmio fails\nexpect invariant counts fails\n"
        + "expect invariants hold\n";
    ScenarioResult seed = run(Policy.SEED_2010, script);
    assertEquals(List.of(8, 9), seed.failures().stream().map(Failure::line).toList());
    assertEquals("t:8: expected invariant counts to fail, but it holds",
        seed.failures().get(0).toString());
    assertTrue(seed.failures().get(1).toString().startsWith("t:9: expected the invariants to hold,"
        + " but 1 violation(s): writable-read-only-mmio: d1 (PV) L1 table 0x100[0]"),
        seed.failures().get(1).toString());
  }

  @Test
  void scriptErrorsShouldStopTheRunAndNameTheLine() {
    String script = "device nic dump nic.txt\n";
    ScenarioException e = assertThrows(ScenarioException.class,
        () -> ScenarioRunner.scriptPolicy().run(ScenarioParser.parse("t", Path.of("/nonexistent"),
            script)));
    assertEquals(1, e.line());
    assertTrue(e.getMessage().startsWith("t:1: device nic dump nic.txt: cannot read"),
        e.getMessage());

    List<Integer> seen = new ArrayList<>();
    String crash = "domain g 1 pv\nram g 0x100\ncrash g\nexpect rc 0\npin g 0x100\nexpect rc 0\n";
    ScenarioException c = assertThrows(ScenarioException.class,
        () -> ScenarioRunner.scriptPolicy()
            .withListener((step, outcome, host) -> seen.add(step.line()))
            .run(ScenarioParser.parse("t", crash)));
    assertEquals(5, c.line());
    assertTrue(c.getMessage().contains("has crashed"), c.getMessage());
    assertEquals(List.of(1, 2, 3, 4), seen, "nothing runs after the error");
  }

  @Test
  void runTimeErrorsOfTheHostShouldBeScenarioExceptions(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("nic.txt"), bundled("second-enable.hvmmu").lines()
        .dropWhile(l -> !l.startsWith("01:00.0")).takeWhile(l -> !l.equals("end"))
        .reduce("", (a, b) -> a + b + "\n"));
    Files.writeString(dir.resolve("s.hvmmu"), "device nic dump nic.txt\nmsix disable nic 0\n");
    ScenarioException e = assertThrows(ScenarioException.class,
        () -> ScenarioRunner.scriptPolicy().run(ScenarioParser.read(dir.resolve("s.hvmmu"))));
    assertEquals(2, e.line());
    assertTrue(e.getMessage().endsWith("msix disable nic 0: MSI-X entry 0x0 of 01:00.0 is not"
        + " enabled"), e.getMessage());
    // index beyond the file
    Files.writeString(dir.resolve("t.hvmmu"), "device nic dump nic.txt index 1\n");
    ScenarioException i = assertThrows(ScenarioException.class,
        () -> ScenarioRunner.scriptPolicy().run(ScenarioParser.read(dir.resolve("t.hvmmu"))));
    assertTrue(i.getMessage().endsWith("nic.txt holds 1 device(s), no index 1"), i.getMessage());
    // a p2m type the seed's numbering does not have
    ScenarioException t = assertThrows(ScenarioException.class, () -> run(Policy.SEED_2010,
        "domain h 1 hvm-ept\np2m h 0 0 4k map_foreign\n"));
    assertEquals(2, t.line());
  }

  @Test
  void theScriptPolicyAppliesUnlessForced() {
    Scenario s = ScenarioParser.parse("t", "host frames 16 policy seed-2010\n");
    assertSame(Policy.SEED_2010, ScenarioRunner.scriptPolicy().run(s).policy());
    assertSame(Policy.HARDENED, ScenarioRunner.forcing(Policy.HARDENED).run(s).policy());
    assertSame(Policy.HARDENED, ScenarioRunner.scriptPolicy()
        .run(ScenarioParser.parse("t", "protect r 1\n")).policy());
    assertEquals(16, ScenarioRunner.scriptPolicy().run(s).host().frames().frameCount());
    assertEquals("custom", ScenarioRunner.policyName(Policy.HARDENED.withExistingMappings(
        ExistingMappings.LEAVE)));
  }

  @Test
  void theListenerShouldSeeEveryStepWithItsOutcome() {
    List<String> seen = new ArrayList<>();
    ScenarioRunner.forcing(Policy.HARDENED)
        .withListener((step, outcome, host) -> seen.add(step.line() + " " + outcome.summary()
            + outcome.output()))
        .run(ScenarioParser.parse("t", "protect a 0x10-0x12\n\nprint ranges\nexpect rc -EPERM\n"));
    assertEquals(List.of("1 rc 0[]", "3 r/o mmio ranges { 10-12 }[r/o mmio ranges { 10-12 }]",
        "4 FAILED: expected rc -EPERM, but 'protect a 0x10-0x12' (line 1) returned 0[]"), seen);
  }
}
