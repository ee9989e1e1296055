package org.hvmmu.host.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.hvmmu.host.Policy;
import org.hvmmu.host.access.InstructionClass;
import org.junit.jupiter.api.Test;

/** The lines issue 12 §3 added: a store's instruction class and {@code msix program}. */
class ScenarioAttackLinesTest {
  private static final String PRELUDE = "domain g 1 pv\nvcpu v g\ndevice dev dump nic.txt\n";

  private static Scenario.Command last(String line) {
    List<Scenario.Command> commands = ScenarioParser.parse("t", PRELUDE + line + "\n").commands();
    return commands.get(commands.size() - 1);
  }

  @Test
  void aStoreNamesItsInstructionClass() {
    assertEquals(new Scenario.Store("v", 0x4000, 4, 0xfee07000L, false, InstructionClass.LOCKED),
        last("store v 0x4000 4 0xfee07000 as locked"));
    assertEquals(new Scenario.Store("v", 0x4000, 8, 0x99, true,
        InstructionClass.READ_MODIFY_WRITE),
        last("store v 0x4000 8 0x99 user as read-modify-write"));
    assertEquals(new Scenario.Store("v", 0, 1, 0, false, InstructionClass.PLAIN_STORE),
        last("store v 0 1 0"));
    for (InstructionClass c : List.of(InstructionClass.PLAIN_STORE, InstructionClass.MOVS,
        InstructionClass.STOS, InstructionClass.UNEMULATED)) {
      Scenario.Command store = new Scenario.Store("v", 0x5000, 4, 1, true, c);
      String line = ScenarioWriter.command(store);
      assertEquals(c == InstructionClass.PLAIN_STORE ? "store v 0x5000 4 0x1 user"
          : "store v 0x5000 4 0x1 user as " + Scenario.instructionClassName(c), line);
      assertEquals(store, last(line));
    }
  }

  @Test
  void msixProgramRoundTrips() {
    Scenario.Command c = last("msix program dev 1 0xfee03000 0x41");
    assertEquals(new Scenario.MsixProgram("dev", 1, 0xfee03000L, 0x41), c);
    assertEquals("msix program dev 1 0xfee03000 0x41", ScenarioWriter.command(c));
  }

  @Test
  void badLinesNameTheirFileAndLine() {
    for (String[] bad : new String[][] {
        {"store v 0 4 1 as wide-store", "expected plain-store"},
        {"store v 0 4 1 as load", "expected plain-store"},
        {"store v 0 4 1 as", "missing an instruction class"},
        {"store v 0 4 1 user locked", "expected 'as'"},
        {"store v 0 4 1 sideways", "expected user or as"},
        {"msix program dev 0 0xfee00000 0x100000000", "message data"},
        {"msix program dev 0 0xfee00000", "missing message data"},
        {"msix program dev 2048 0xfee00000 0", "out of range"}}) {
      ScenarioException e = assertThrows(ScenarioException.class,
          () -> ScenarioParser.parse("t", PRELUDE + bad[0] + "\n"), bad[0]);
      assertEquals(4, e.line(), e.getMessage());
      assertTrue(e.getMessage().startsWith("t:4: ") && e.getMessage().contains(bad[1]),
          e.getMessage());
    }
  }

  private static ScenarioResult attack(Policy policy) throws IOException {
    Path p = Path.of("docs/scenarios/msix-attack.hvmmu");
    return ScenarioRunner.forcing(policy).run(ScenarioParser.parse(p.toString(),
        Files.readString(p)));
  }

  @Test
  void theExampleAttackHoldsUnderTheSeed() throws IOException {
    ScenarioResult r = attack(Policy.SEED_2010);
    assertEquals(List.of(), r.failures());
    assertEquals(10, r.expects());
  }

  @Test
  void theExampleAttackFailsUnderHardened() throws IOException {
    List<String> failures = attack(Policy.HARDENED).failures().stream()
        .map(Failure::toString).toList();
    String f = "docs/scenarios/msix-attack.hvmmu:";
    assertEquals(5, failures.size(), failures.toString());
    assertTrue(failures.get(0).startsWith(f + "49: expected guest L1 0x103[0] writable"),
        failures.get(0));
    assertTrue(failures.get(1).startsWith(f + "51: expected no fault"), failures.get(1));
    assertTrue(failures.get(2).startsWith(f + "52: "), failures.get(2));
    assertTrue(failures.get(3).startsWith(f + "55: expected sent 0xfee07000 0x41"),
        failures.get(3));
    assertTrue(failures.get(3).contains("but the device sent 0xfee03000 0x41"), failures.get(3));
    assertTrue(failures.get(4).startsWith(f + "56: "), failures.get(4));
  }
}
