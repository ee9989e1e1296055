package org.hvmmu.host.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.hvmmu.host.Policy;
import org.junit.jupiter.api.Test;

/**
 * The MSI-X register lines of the scenario language: {@code msix fire}, {@code config}, {@code
 * expect sent}; and docs/scenarios/msix-redirect.hvmmu, whose expectations hold under the seed and
 * fail, line by line, under hardened.
 */
class ScenarioMsixTest {
  private static ScenarioResult run(Policy policy, Scenario s) {
    return ScenarioRunner.forcing(policy).run(s);
  }

  private static Scenario redirect() throws IOException {
    Path p = Path.of("docs/scenarios/msix-redirect.hvmmu");
    return ScenarioParser.parse(p.toString(), Files.readString(p));
  }

  @Test
  void theSeedLetsTheGuestRedirectTheInterrupt() throws IOException {
    ScenarioResult r = run(Policy.SEED_2010, redirect());
    assertEquals(List.of(), r.failures());
  }

  @Test
  void hardenedKeepsDom0sMessage() throws IOException {
    ScenarioResult r = run(Policy.HARDENED, redirect());
    List<String> failures = r.failures().stream().map(Failure::toString).toList();
    String f = "docs/scenarios/msix-redirect.hvmmu:";
    assertEquals(3, failures.size(), failures.toString());
    assertTrue(failures.get(0).startsWith(f + "62: expected guest L1 0x103[0] writable, but it is"
        + " read-only"), failures.get(0));
    assertEquals(f + "65: expected no fault, but 'store cpu0 0x18 4 0x499 user' (line 64)"
        + " faulted: pf 0x7 at 0x18", failures.get(1));
    assertEquals(f + "67: expected sent 0xfee07000 0x499 (dest 0x7 physical nmi edge vector"
        + " 0x99), but the device sent 0xfee03000 0x41 (dest 0x3 physical fixed edge vector 0x41)",
        failures.get(2));
  }

  @Test
  void linesRoundTrip() {
    String text = String.join("\n", "msix fire nic 3", "config nic 0x72 2 0x8009",
        "expect sent 0xfee00000 0x41", "expect sent nothing", "");
    Scenario s = ScenarioParser.parse("t", "device nic hex\n" + HEX + "end\n" + text);
    StringBuilder back = new StringBuilder();
    for (Scenario.Step step : s.steps().subList(1, s.steps().size())) {
      back.append(ScenarioWriter.command(step.command())).append('\n');
    }
    assertEquals(text, back.toString());
  }

  @Test
  void badLinesAreRefused() {
    String dev = "device nic hex\n" + HEX + "end\n";
    for (String line : new String[] {"config nic 0x71 2 0", "config nic 0x72 3 0",
        "config nic 0x72 1 0x100", "expect sent 0xfee00000 0x100000000", "msix fire nic 2048",
        "expect sent"}) {
      assertThrows(ScenarioException.class, () -> ScenarioParser.parse("t", dev + line), line);
    }
  }

  @Test
  void anUnprogrammedDeviceSendsNothing() {
    Scenario s = ScenarioParser.parse("t", "device nic hex\n" + HEX + "end\n" + String.join("\n",
        "msix fire nic 0", "expect rc 2", // not enabled (PCI_SPEC drops)
        "config nic 0x73 1 0x80", "expect rc 0",
        "msix fire nic 0", "expect rc 1", // masked at reset: pending
        "msix fire nic 10", "expect rc 3",
        "config nic 0x04 2 0x6", "expect rc 1",
        "expect sent nothing", "expect sent 0xfee00000 0"));
    ScenarioResult r = run(Policy.HARDENED, s);
    assertEquals(1, r.failures().size(), r.failures().toString());
    assertEquals("t:23: expected sent 0xfee00000 0x0 (dest 0x0 physical fixed edge vector 0x0),"
        + " but nothing was sent", r.failures().get(0).toString());
  }

  /** The 82576's first 256 bytes (MSI-X at 0x70, 10 entries, table BAR 3 + 0, PBA + 0x2000). */
  static final String HEX = String.join("\n",
      "01:00.0 Ethernet controller: Intel Corporation Device 10c9 (rev 01)",
      "00: 86 80 c9 10 07 04 10 00 01 00 00 02 10 00 80 00",
      "10: 00 00 80 e0 00 00 00 e0 21 10 00 00 00 00 84 e0",
      "20: 00 00 00 00 00 00 00 00 00 00 00 00 86 80 3c a0",
      "30: 00 00 80 c7 40 00 00 00 00 00 00 00 0b 01 00 00",
      "40: 01 50 23 c8 00 20 00 1a 00 00 00 00 00 00 00 00",
      "50: 05 70 80 01 00 00 00 00 00 00 00 00 00 00 00 00",
      "60: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
      "70: 11 a0 09 80 03 00 00 00 03 20 00 00 00 00 00 00",
      "");
}
