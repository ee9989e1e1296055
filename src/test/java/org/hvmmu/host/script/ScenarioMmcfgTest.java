package org.hvmmu.host.script;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.hvmmu.host.Policy;
import org.junit.jupiter.api.Test;

/**
 * The {@code mmcfg} line and docs/scenarios/mmcfg-intercept.hvmmu: dom0's stores to the 82576's
 * configuration space through the MMCFG window (vectors M1-M4), which hold under Xen 4.22 and
 * hardened and fail, line by line, under the seed (dom0 maps the window writable there).
 */
class ScenarioMmcfgTest {
  private static Scenario scenario() throws IOException {
    Path p = Path.of("docs/scenarios/mmcfg-intercept.hvmmu");
    return ScenarioParser.parse(p.toString(), Files.readString(p));
  }

  private static List<Integer> failingLines(Policy policy) throws IOException {
    return ScenarioRunner.forcing(policy).run(scenario()).failures().stream()
        .map(Failure::line).toList();
  }

  @Test
  void xen422AndHardenedInterceptTheStores() throws IOException {
    assertEquals(List.of(), failingLines(Policy.XEN_4_22));
    assertEquals(List.of(), failingLines(Policy.HARDENED));
  }

  @Test
  void theSeedLetsDom0WriteTheCapability() throws IOException {
    assertEquals(List.of(55, 59, 62, 63), failingLines(Policy.SEED_2010));
  }

  @Test
  void theLineRoundTripsAndItsReturnCodeIsTheHosts() {
    String line = "mmcfg 0 0-63 0xf8000000";
    Scenario s = ScenarioParser.parse("t", line + "\nexpect rc 0\nmmcfg 1 0-0 0x100\n"
        + "expect rc -EINVAL\n");
    assertEquals(line, ScenarioWriter.command(s.steps().get(0).command()));
    assertEquals(List.of(), ScenarioRunner.forcing(Policy.HARDENED).run(s).failures());
  }
}
