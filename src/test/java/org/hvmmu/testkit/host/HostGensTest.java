package org.hvmmu.testkit.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.hvmmu.host.Host;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.pci.BarReadMode;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciMemBar;
import org.hvmmu.pci.msix.MsixCapability;
import org.hvmmu.pci.msix.MsixLayout;
import org.hvmmu.testkit.Action;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Property;
import org.hvmmu.testkit.PropertyConfig;
import org.hvmmu.testkit.PropertyFailure;
import org.hvmmu.x86.Pte;
import org.junit.jupiter.api.Test;

class HostGensTest {
  static final int P_RW = 0x3;

  @Test
  void flagsUseNamedBitsOnlyAndShrinkToPresentWritable() {
    Property.forAll(HostGens.pteFlags(),
        f -> assertEquals(0, f & ~HostScript.NAMED_FLAGS, Integer.toHexString(f)));
    PropertyFailure failure = assertThrows(PropertyFailure.class,
        () -> Property.tries(200).seed(7).forAll(HostGens.pteFlags(),
            f -> assertFalse((f & P_RW) == P_RW)));
    assertEquals(P_RW, failure.shrunkCounterexample());
  }

  @Test
  void framesCoverTheLayoutOfTheHost() {
    // HostSetupTest's device: table frame 0xc0000, PBA frame 0xc0001, one BAR [0xc0000, 0xc0001].
    HostSetup setup = HostSetup.of(Policy.HARDENED, HostSetupTest.device());
    // Then the edges: 1, MAXPHYADDR's (46 bits: frames 2^34 - 1, 2^34), the p2m's (2^36 - 1, 2^36),
    // ~0 - 1, ~0.
    Set<Long> expected = Set.of(0xc0000L, 0xc0001L, 0xfec00L, 0x102L, 0xbffffL, 0xfec03L,
        0xfec04L, 0x100L, 0x1ffL, 0xc3L, 0L, 0xfffL, 0x1000L, 1L, 0x3ffffffffL, 0x400000000L,
        0xfffffffffL, 0x1000000000L, 0xfffffffffffffffeL, 0xffffffffffffffffL);
    Gen<Long> frames = HostGens.frames(setup, 1);
    SplittableRandom random = new SplittableRandom(11);
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 3000; i++) {
      seen.add(frames.generate(random));
    }
    assertEquals(expected, seen);
    PropertyFailure failure = assertThrows(PropertyFailure.class,
        () -> Property.tries(100).seed(3).forAll(frames,
            f -> assertTrue(Long.compareUnsigned(f, 0x100) < 0)));
    assertEquals(0xc0000L, failure.shrunkCounterexample(), "frames shrink toward the table");
  }

  @Test
  void ptesShrinkToAWritableMappingOfTheTable() {
    HostSetup setup = HostSetup.of(Policy.HARDENED, HostSetupTest.device());
    PropertyFailure failure = assertThrows(PropertyFailure.class,
        () -> Property.tries(200).seed(5).forAll(HostGens.ptes(setup, 1),
            pte -> assertFalse(Pte.isPresentWritable(pte) && Pte.getMfn(pte) >= 0xc0000)));
    assertEquals(Pte.fromMfn(0xc0000, P_RW), failure.shrunkCounterexample());
  }

  @Test
  void configSpacesAreWellFormedWithMsixAnywhere() {
    Set<Integer> tableBirs = new HashSet<>();
    Set<Integer> headerTypes = new HashSet<>();
    int[] usable = {0};
    int tries = 500;
    Property.tries(tries).seed(13).forAll(HostGens.configSpaces(), config -> {
      PciDevice pci = new PciDevice(HostSetup.DEVICE_ADDRESS, config, "generated");
      MsixCapability cap = MsixCapability.find(pci);
      assertTrue(cap.isPresent());
      assertEquals(0, pci.capabilities().warnings().size(), pci.capabilities().warnings().toString());
      tableBirs.add(cap.tableBir());
      headerTypes.add(pci.headerTypeRegister());
      assertTrue(pci.hasBar(cap.tableBir()), "the table BIR names a BAR start");
      assertTrue(pci.hasBar(cap.pbaBir()), "the PBA BIR names a BAR start");
      long tableBar = PciMemBar.readPciMemBar(config, cap.tableBir(), BarReadMode.CORRECTED);
      MsixLayout layout = MsixLayout.inspect(pci);
      if (tableBar != 0) {
        usable[0]++;
        assertTrue(layout.table().usable());
        assertEquals((tableBar + cap.tableOffset()) >>> 12, layout.table().firstFrame());
      }
      assertEquals(256, config.size());
    });
    assertEquals(Set.of(0, 1, 2, 3, 4, 5), tableBirs);
    assertEquals(Set.of(0x00, 0x80), headerTypes);
    assertTrue(usable[0] > tries * 9 / 10, usable[0] + " of " + tries + " have a usable table");
  }

  @Test
  void configSpacesShrinkToTheSimplestDevice() {
    PropertyFailure failure = assertThrows(PropertyFailure.class,
        () -> Property.tries(50).seed(17).forAll(HostGens.configSpaces(),
            config -> assertFalse(MsixCapability.find(new PciDevice(HostSetup.DEVICE_ADDRESS,
                config, "generated")).isPresent())));
    ConfigSpace simplest = (ConfigSpace) failure.shrunkCounterexample();
    // header 0, six 32-bit BARs at 0xc0000000 + slot * 0x4000000, MSI-X at 0x40, one entry,
    // table at BAR0 + 0, PBA at BAR0 + 0x1000
    assertEquals(0x00, simplest.read8(0x0e));
    for (int slot = 0; slot < 6; slot++) {
      assertEquals(0xc0000000L + slot * 0x04000000L, simplest.read32(0x10 + 4 * slot) & 0xffffffffL);
    }
    assertEquals(0x40, simplest.read8(0x34));
    assertEquals(0x11, simplest.read8(0x40));
    assertEquals(0, simplest.read16(0x42));
    assertEquals(0, simplest.read32(0x44));
    assertEquals(0x1000, simplest.read32(0x48));
  }

  @Test
  void operationsPrintOneScriptLineAndReplayTheSame() {
    HostSetup setup = HostSetup.of(Policy.HARDENED, HostSetupTest.device());
    Gen<Action<Host, Object>> ops = HostGens.operations(setup);
    Set<String> commands = new HashSet<>();
    List<String> first = new ArrayList<>();
    SplittableRandom random = new SplittableRandom(19);
    for (int i = 0; i < 3000; i++) {
      String line = ops.generate(random).toString();
      assertFalse(line.contains("\n"), line);
      String[] words = line.split(" ");
      commands.add(words[0].equals("msix") ? "msix " + words[1] : words[0]);
      if (i < 50) {
        first.add(line);
      }
    }
    assertEquals(Set.of("update", "ptwr", "write", "pin", "unpin", "shadow", "p2m", "retype",
        "msix enable", "msix disable", "msix prepare", "msix release", "assign", "protect",
        "unprotect", "iomem"), commands);
    SplittableRandom again = new SplittableRandom(19);
    for (String line : first) {
      assertEquals(line, ops.generate(again).toString(), "the same seed draws the same lines");
    }
  }

  /** Issue 15: protect, unprotect and iomem reach the edge ranges, and they replay as scripts. */
  @Test
  void rangeOperationsReachTheEdges() {
    HostSetup setup = HostSetup.of(Policy.HARDENED, HostSetupTest.device());
    Gen<Action<Host, Object>> ops = HostGens.operations(setup);
    SplittableRandom random = new SplittableRandom(29);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 20000; i++) {
      String[] words = ops.generate(random).toString().split(" ");
      if (words[0].equals("protect") || words[0].equals("iomem")) {
        seen.add(words[0] + " " + words[2]);
      }
    }
    for (String range : List.of("0x1", "0xfff-0x1000", "0x3ffffffff", "0x3ffffffff-0x400000000",
        "0xfffffffff-0x1000000000", "0xfffffffffffffffe-0xffffffffffffffff",
        "0xffffffffffffffff", "0x1000-0xffffffffffffffff", "0x0-0xfffffffffffffffe",
        "0x0-0xffffffffffffffff")) {
      assertTrue(seen.contains("protect " + range), "protect " + range);
      assertTrue(seen.contains("iomem " + range), "iomem " + range);
    }
    assertTrue(seen.contains("protect 0x0-0xffffffff"));
    assertTrue(seen.contains("protect 0x1000-0xffffffff"));
    assertFalse(seen.contains("iomem 0x0-0xffffffff"), "4,096 1-GByte leaves: too slow to revoke");
    assertFalse(seen.contains("iomem 0x1000-0xffffffff"));
  }

  @Test
  void operationsOnlyUseTheModesTheSetUpHas() {
    HostSetup setup = HostSetup.of(Policy.HARDENED, HostSetupTest.device())
        .withGuests(List.of(PagingMode.HVM_EPT));
    Gen<Action<Host, Object>> ops = HostGens.operations(setup);
    SplittableRandom random = new SplittableRandom(23);
    for (int i = 0; i < 1000; i++) {
      String line = ops.generate(random).toString();
      assertFalse(line.startsWith("shadow"), line);
      assertFalse(line.startsWith("update ept1") || line.startsWith("pin ept1"), line);
      assertFalse(line.startsWith("p2m dom0"), line);
    }
  }

  @Test
  void scenariosPrintTheWholeScript() {
    HostScenario scenario = HostGens.scenarios(
        HostGens.setups(Policy.HARDENED, org.hvmmu.testkit.Gens.constant(HostSetupTest.device())),
        3).generate(new SplittableRandom(29));
    List<String> lines = scenario.scriptLines();
    assertEquals(scenario.setup().scriptLines(), lines.subList(0, scenario.setup().scriptLines().size()));
    assertEquals(scenario.actions().size() + scenario.setup().scriptLines().size(), lines.size());
    assertEquals(String.join("\n", lines) + "\n", scenario.toString());
    scenario.check(HostInvariantCheck.all());
  }

  @Test
  void aStatefulCheckWithTheKitRunsFromAnyFramework() {
    HostSetup setup = HostSetup.of(Policy.HARDENED, HostSetupTest.device());
    org.hvmmu.testkit.StatefulCheck.run(PropertyConfig.defaults().tries(20).seed(31),
        setup::build, () -> null, HostGens.operations(setup), 10, HostInvariantCheck.all());
  }
}
