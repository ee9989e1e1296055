package org.hvmmu.testkit.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.hvmmu.host.FlushSwitches;
import org.hvmmu.host.GuestDomain;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostInvariants;
import org.hvmmu.host.Policy;
import org.hvmmu.host.Violation;
import org.hvmmu.host.script.Scenario;
import org.hvmmu.host.script.ScenarioException;
import org.hvmmu.host.script.ScenarioParser;
import org.hvmmu.host.script.ScenarioResult;
import org.hvmmu.host.script.ScenarioRunner;
import org.hvmmu.mmu.Access;
import org.hvmmu.testkit.Action;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.PropertyConfig;
import org.hvmmu.testkit.StatefulCheck;
import org.junit.jupiter.api.Test;

class HostVcpuGensTest {
  @Test
  void everyGeneratedLineShouldParseAfterTheSetUp() {
    HostVcpuSetup setup = HostVcpuSetupTest.setup();
    Gen<Action<Host, Object>> ops = HostVcpuGens.operations(setup);
    SplittableRandom random = new SplittableRandom(37);
    List<String> lines = new ArrayList<>();
    Set<String> words = new HashSet<>();
    for (int i = 0; i < 4000; i++) {
      String line = ops.generate(random).toString();
      assertFalse(line.contains("\n"), line);
      lines.add(line);
      String[] w = line.split(" ");
      if (w[0].equals("msix")) {
        words.add("msix " + w[1]);
      } else if (w[0].equals("mmuext")) {
        words.add("mmuext " + w[2]);
      } else if (w[0].equals("update-va")) {
        words.add("update-va " + (line.endsWith(" none") ? "none"
            : line.matches(".* invlpg (local|all|multi).*") ? "invlpg" : "tlb-flush"));
      } else {
        words.add(w[0]);
      }
    }
    // The whole script parses: every name declared, every command fits its domain's mode. (The
    // parser wants a registrant's first line to be a protect; the two lines below declare both,
    // since an unprotect drawn before any protect changes nothing and never survives shrinking.)
    String preamble = String.join("\n", setup.scriptLines())
        + "\nprotect ioapic 0xfec00\nprotect hpet 0xfec00\n";
    Scenario parsed = ScenarioParser.parse("generated", preamble + String.join("\n", lines));
    assertEquals(ScenarioParser.parse("setup", preamble).steps().size() + lines.size(),
        parsed.steps().size());
    for (String expected : List.of("read", "store", "fetch", "translate", "cr", "invlpg",
        "invpcid", "update", "update-va none", "update-va invlpg", "update-va tlb-flush",
        "mmuext new-baseptr", "mmuext tlb-flush-local", "mmuext invlpg-local",
        "mmuext tlb-flush-multi", "mmuext invlpg-multi", "mmuext tlb-flush-all",
        "mmuext invlpg-all", "mmuext flush-cache", "pin", "unpin", "msix enable",
        "msix disable", "msix prepare", "protect", "unprotect", "assign", "p2m", "shadow",
        "ptwr")) {
      assertTrue(words.contains(expected), expected + " in " + words);
    }
    assertTrue(lines.stream().anyMatch(l -> l.matches("update-va .* invlpg multi 0x[123]")));
    assertTrue(lines.stream().anyMatch(l -> l.matches("update-va .* tlb-flush all")));
    assertTrue(lines.stream().anyMatch(l -> l.matches("cr \\S+ cr3=0x\\p{XDigit}+")));
    assertTrue(lines.stream().anyMatch(l -> l.matches("cr \\S+ cr4=0x20")));
    assertTrue(lines.stream().anyMatch(l -> l.matches("read \\S+ \\S+ \\d user")));
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("store pv1.1 0x7")));
    assertTrue(lines.stream().anyMatch(l -> l.matches("pin pae2 0x20[89] l3")));
    assertTrue(lines.stream().anyMatch(l -> l.matches("pin pv1 0x10[89] l4")));
    assertTrue(lines.stream().anyMatch(l -> l.matches("pin pv1 0x10[ab] l3")));
  }

  @Test
  void theSameSeedShouldDrawTheSameCommands() {
    HostVcpuSetup setup = HostVcpuSetupTest.setup();
    Gen<Scenario.Command> commands = HostVcpuGens.commands(setup);
    SplittableRandom a = new SplittableRandom(41);
    SplittableRandom b = new SplittableRandom(41);
    for (int i = 0; i < 200; i++) {
      assertEquals(commands.generate(a), commands.generate(b));
    }
  }

  @Test
  void actionsShouldDoWhatTheirLinesDoWhenReplayed() {
    HostVcpuSetup setup = HostVcpuSetupTest.setup();
    Gen<List<Action<Host, Object>>> sequences =
        Gens.lists(HostVcpuGens.<Object>operations(setup), 20, 20);
    SplittableRandom random = new SplittableRandom(43);
    int compared = 0;
    for (int i = 0; i < 30; i++) {
      List<Action<Host, Object>> sequence = sequences.generate(random);
      Host direct = setup.build();
      for (Action<Host, Object> action : sequence) {
        action.run(direct, null);
      }
      if (direct.domains().stream().anyMatch(GuestDomain::crashed)) {
        continue; // later commands on the crashed domain were skipped, which a script cannot say
      }
      ScenarioResult replay;
      try {
        replay = ScenarioRunner.forcing(Policy.HARDENED).run(ScenarioParser.parse("replay",
            String.join("\n", setup.scriptLines()) + "\n"
                + String.join("\n", HostScript.lines(sequence)) + "\n"));
      } catch (ScenarioException e) {
        continue; // a host operation the action skipped (say a disable of an unused entry)
      }
      assertEquals(fingerprint(setup, direct), fingerprint(setup, replay.host()),
          String.join("\n", HostScript.lines(sequence)));
      compared++;
    }
    assertTrue(compared >= 10, "compared " + compared);
  }

  /** What the host looks like: protection, invariants, table entries, translations. */
  private static List<String> fingerprint(HostVcpuSetup setup, Host host) {
    List<String> out = new ArrayList<>();
    out.add(host.mmioRoRanges().toString());
    out.add(HostInvariants.check(host).toString());
    for (int id : setup.guestIds()) {
      GuestDomain d = host.domain(id);
      for (HostVcpuSetup.Table t : setup.tables(id)) {
        StringBuilder entries = new StringBuilder();
        for (int slot = 0; slot < 16; slot++) {
          entries.append(Long.toHexString(
              host.readGuestPhysical(d, (t.frame() << 12) + 8L * slot, 8))).append(' ');
        }
        out.add(entries.toString());
      }
      for (int k = 0; k < HostVcpuSetup.VCPUS; k++) {
        out.add(Long.toHexString(setup.vcpu(host, id, k).guestRegisters().cr3()));
        out.add(Long.toHexString(setup.vcpu(host, id, k).translate(0x4000, Access.WRITE)));
      }
    }
    return out;
  }

  @Test
  void aStatefulCheckWithRunningGuestsShouldHold() {
    HostVcpuSetup setup = HostVcpuSetupTest.setup();
    StatefulCheck.run(PropertyConfig.defaults().tries(10).seed(47), setup::build, () -> null,
        HostVcpuGens.operations(setup), 20, HostInvariantCheck.everyInvariant());
  }

  @Test
  void everyInvariantShouldIncludeTheTlbs() {
    // Without Xen's p2m synchronisation, ept4.0 keeps its writable translation of the MSI-X table
    // (slot 4 of L1 table P) after the frame is protected: only the fourth invariant sees it.
    HostVcpuSetup setup = HostVcpuSetupTest.setup().withPolicy(
        Policy.HARDENED.withFlushes(FlushSwitches.XEN.withP2mSync(false)));
    Host host = setup.build();
    assertEquals(0, setup.vcpu(host, 4, 0).write(0x4000, 4, 1, Access.READ));
    assertEquals(0, host.protect("ioapic", 0xc0000, 0xc0000));
    assertEquals(List.of(), HostInvariantCheck.all().violations(host));
    List<Violation> found = HostInvariantCheck.everyInvariant().violations(host);
    assertFalse(found.isEmpty());
    for (Violation v : found) {
      assertEquals(HostInvariants.TLB_WRITABLE_READ_ONLY_MMIO, v.invariant());
      assertEquals(0xc0000, v.mfn());
      assertEquals(4, v.domainId());
    }
    assertEquals(found, HostInvariantCheck.only(HostInvariants.TLB_WRITABLE_READ_ONLY_MMIO)
        .violations(host));
    assertEquals(found, HostInvariants.check(host));
  }
}
