package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.hvmmu.fuzz.Fuzz;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.LspciDumpReader;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.host.HostGens;
import org.hvmmu.testkit.host.HostInvariantCheck;
import org.hvmmu.testkit.host.HostScenario;
import org.hvmmu.testkit.host.HostSetup;
import org.junit.jupiter.api.Test;

/**
 * Issue 15's host campaign: generated operation sequences under {@link Policy#HARDENED}, with frames
 * and ranges at the edges {@link HostGens} reaches (0, 1, the frame table's end, MAXPHYADDR's and
 * the p2m's limits, ~0 - 1, ~0, 0-0xffffffff, 0-~0), each operation followed by every invariant.
 * No exception is documented: a sound host answers every operation with a result or an errno, so
 * an exception, a broken invariant (an {@link AssertionError} naming the step) or a hang fails the
 * campaign with the seed and the sequence as script lines.
 *
 * <p>Sizes: a seeded sample in the default build, 10,000 sequences under {@code -Pfuzz}. Half the
 * sequences run on the Intel 82576 of the bundled dump with the default guests (one of each paging
 * mode), half on generated devices and guests.
 */
class HostFuzzTest {
  /** The longest sequence. */
  static final int MAX_ACTIONS = 20;

  static ConfigSpace nic() {
    try {
      Path dump = Path.of(HostFuzzTest.class.getResource(
          "/org/hvmmu/pci/dumps/pciutils_intel_82576_10c9.xxx.txt").toURI());
      byte[] all = LspciDumpReader.read(dump).get(0).config().toByteArray();
      return ConfigSpace.of(Arrays.copyOf(all, ConfigSpace.CONVENTIONAL_SIZE));
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Sequences on the NIC, its owner any of the domains, or on generated set-ups. */
  static Gen<HostScenario> scenarios() {
    HostSetup base = HostSetup.of(Policy.HARDENED, nic());
    int domains = base.domainIds().length;
    Gen<HostSetup> onTheNic = Gens.ints(0, domains - 1).map(base::withDeviceOwner);
    Gen<HostSetup> setups = Gens.<HostSetup>weighted()
        .add(1, onTheNic)
        .add(1, HostGens.setups(Policy.HARDENED))
        .build();
    return HostGens.scenarios(setups, MAX_ACTIONS);
  }

  @Test
  void hardenedAnswersEveryEdgeSequenceAndKeepsEveryInvariant() {
    Gen<HostScenario> scenarios = scenarios();
    Fuzz.Counts counts = Fuzz.campaign("host sequences", Fuzz.size(300, 10_000))
        .timeoutMillis(30_000)
        .run(scenarios::generate,
            scenario -> scenario.check(HostInvariantCheck.everyInvariant()));
    assertEquals(counts.inputs(), counts.results(), counts.toString());
  }

  /** The generated sequences do reach the edges (else the campaign would prove little). */
  @Test
  void theSequencesReachTheEdges() {
    Gen<HostScenario> scenarios = scenarios();
    SplittableRandom random = new SplittableRandom(15);
    boolean allOnes = false;
    boolean everything = false;
    boolean beyondTheMachine = false;
    for (int i = 0; i < 300 && !(allOnes && everything && beyondTheMachine); i++) {
      List<String> lines = scenarios.generate(random).scriptLines();
      for (String line : lines) {
        allOnes |= line.contains("0xffffffffffffffff");
        everything |= line.startsWith("protect") && line.endsWith(" 0x0-0xffffffffffffffff");
        beyondTheMachine |= line.startsWith("iomem") && line.contains("0x400000000");
      }
    }
    assertEquals(List.of(true, true, true), List.of(allOnes, everything, beyondTheMachine));
  }
}
