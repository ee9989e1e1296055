package org.hvmmu.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.hvmmu.host.ExistingMappings;
import org.hvmmu.host.GuestDomain;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostDevice;
import org.hvmmu.host.HostInvariants;
import org.hvmmu.host.MappingKind;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.host.Violation;
import org.hvmmu.host.script.Scenario;
import org.hvmmu.host.script.ScenarioException;
import org.hvmmu.host.script.ScenarioParser;
import org.hvmmu.host.script.ScenarioResult;
import org.hvmmu.host.script.ScenarioRunner;
import org.hvmmu.host.script.ScenarioWriter;
import org.hvmmu.host.script.StepOutcome;
import org.hvmmu.internal.InputFiles;
import org.hvmmu.pci.msix.MsixRegion;
import org.hvmmu.pci.msix.MsixSwitches;
import org.hvmmu.pci.msix.PbaSizing;
import org.hvmmu.rangeset.RangeSet;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hvmmu demo [FILE] [--policy P]...}: runs a scenario (by default the bundled {@code
 * demo.hvmmu}: IO-APIC, HPET and MMCFG registrations, an Intel 82576 and a Mellanox ConnectX-3 from
 * real dumps, dom0, a PV guest, an EPT guest, an HVM shadow guest and a PV guest in shadow mode)
 * under {@code seed-2010}, {@code xen-4.22} and {@code hardened} side by side (or the policies
 * {@code --policy} names, in that order). For each step it shows the script's comments, the
 * command, each policy's outcome, the library's log lines it caused (Xen's {@code WARN_ON}s and
 * debug lines such as "Forcing read-only access to MFN") and {@code mmio_ro_ranges} in Xen's format
 * when it changed; a step whose outcome is the same under every policy is shown once, and a policy
 * that saw what an earlier column saw says so in one line. At the end, the invariants under each
 * policy, a table of every mapping the seed leaves writable and hardened does not (of the frames
 * hardened protects), with the seed defect behind each (reference section 3.6), and what Xen 4.22
 * still leaves open that hardened closes: the steps that end differently, the invariants, and the
 * mappings, each with the switch of {@link Policy#XEN_4_22} behind it (or that nothing does).
 *
 * <p>Exit codes: 0; 2 for a script error (one line on stderr) or a usage error.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run a scenario under seed-2010, xen-4.22 and hardened side by side: each step, the log",
      "lines, the mmio_ro_ranges, a final table of what the seed leaves writable and hardened",
      "does not, and what Xen 4.22 still leaves open that hardened closes.",
      "Without FILE, the bundled demo (two real devices, dom0, PV, EPT and shadow guests)."
    })
final class DemoCommand implements Callable<Integer> {
  /** The columns in the order they are shown. */
  private static final List<Scenario.PolicyName> ORDER =
      List.of(Scenario.PolicyName.SEED_2010, Scenario.PolicyName.XEN_4_22,
          Scenario.PolicyName.HARDENED);

  @Spec private CommandSpec spec;

  @Parameters(
      arity = "0..1",
      paramLabel = "FILE",
      description = "A scenario script to show instead of the bundled demo.")
  private Path file;

  @Option(
      names = "--policy",
      paramLabel = "POLICY",
      split = ",",
      description = {
        "seed-2010, xen-4.22 or hardened; repeat (or separate with commas) for several columns,",
        "shown in the order seed-2010, xen-4.22, hardened. Default: all three."
      })
  private List<String> policies;

  /** One step as one policy saw it. */
  record View(Scenario.Step step, StepOutcome outcome, List<String> logs, String ranges) {}

  /** One policy's run. */
  record PolicyRun(String name, ScenarioResult result, List<View> views) {}

  /** A row of a final table. */
  record Row(String domain, String kind, String entry, long mfn, String why) {}

  /** Why a mapping writable on one host is not on hardened's. */
  @FunctionalInterface
  interface Why {
    /**
     * The reason.
     *
     * @param host the host on which the mapping is writable
     * @param m the mapping
     * @return the reason, for the table's last column
     */
    String of(Host host, WritableMappings.Mapping m);
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<Policy> chosen = new ArrayList<>();
    try {
      Set<Scenario.PolicyName> named = new HashSet<>();
      for (String p : policies == null ? List.<String>of() : policies) {
        named.add(Scenario.PolicyName.fromScriptName(p.strip()));
      }
      for (Scenario.PolicyName p : ORDER) {
        if (named.isEmpty() || named.contains(p)) {
          chosen.add(p.policy());
        }
      }
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "Invalid value for option '--policy': " + e.getMessage());
    }
    String text;
    Scenario scenario;
    ScenarioRunner.DumpLoader loader;
    try {
      if (file == null) {
        text = BundledScenarios.text(BundledScenarios.DEMO);
        scenario = BundledScenarios.scenario(BundledScenarios.DEMO);
        loader = BundledScenarios.CLASS_PATH;
      } else {
        scenario = ScenarioParser.read(file);
        text = new String(InputFiles.readBytes(file, (int) ScenarioParser.MAX_SCRIPT_BYTES),
            StandardCharsets.UTF_8);
        loader = ScenarioRunner.FILES;
      }
    } catch (ScenarioException e) {
      err.println(e.getMessage());
      return 2;
    } catch (IOException e) {
      err.println(file + ": cannot read: " + InputFiles.why(e));
      return 2;
    } catch (UncheckedIOException e) {
      err.println(file + ": cannot read: " + e.getMessage());
      return 2;
    }
    List<PolicyRun> runs = new ArrayList<>();
    try (LogCapture logs = LogCapture.start()) {
      for (Policy p : chosen) {
        runs.add(run(scenario, p, loader, logs));
      }
    } catch (ScenarioException e) {
      err.println(e.getMessage());
      return 2;
    }
    print(out, scenario, text, runs);
    out.flush();
    return 0;
  }

  static PolicyRun run(Scenario scenario, Policy policy, ScenarioRunner.DumpLoader loader,
      LogCapture logs) {
    List<View> views = new ArrayList<>();
    logs.drain();
    ScenarioResult result = ScenarioRunner.forcing(policy)
        .withDumpLoader(loader)
        .withListener((step, outcome, host) -> views.add(
            new View(step, outcome, logs.drain(), host.mmioRoRanges().toString())))
        .run(scenario);
    return new PolicyRun(ScenarioRunner.policyName(policy), result, views);
  }

  private static String describe(String name) {
    return switch (name) {
      case "seed-2010" -> name + " (Xen's 2010 patch, defects included)";
      case "xen-4.22" -> name + " (Xen as released in 4.22)";
      default -> name;
    };
  }

  private static PolicyRun find(List<PolicyRun> runs, String name) {
    for (PolicyRun r : runs) {
      if (r.name().equals(name)) {
        return r;
      }
    }
    return null;
  }

  static void print(PrintWriter out, Scenario scenario, String text, List<PolicyRun> runs) {
    String[] lines = text.split("\r\n|\r|\n", -1);
    List<String> names = new ArrayList<>();
    for (PolicyRun r : runs) {
      names.add(describe(r.name()));
    }
    String under = names.size() == 1 ? names.get(0)
        : String.join(", ", names.subList(0, names.size() - 1)) + " and "
            + names.get(names.size() - 1) + ", side by side";
    out.println("hvmmu demo: " + scenario.source() + " under " + under);
    String[] previous = new String[runs.size()];
    for (int r = 0; r < runs.size(); r++) {
      previous[r] = emptyRanges(runs.get(r));
    }
    String together = runs.size() == 1 ? runs.get(0).name() : runs.size() == 2 ? "both" : "all";
    int lastLine = 0;
    List<View> first = runs.get(0).views();
    for (int i = 0; i < first.size(); i++) {
      View s = first.get(i);
      int line = s.step().line();
      boolean blank = false;
      for (int k = lastLine; k < line - 1 && k < lines.length; k++) {
        String l = lines[k].strip();
        if (l.isEmpty()) {
          blank = true;
        } else if (l.startsWith("#")) {
          if (blank) {
            out.println();
            blank = false;
          }
          out.println(l);
        }
      }
      if (blank) {
        out.println();
      }
      lastLine = s.step().command() instanceof Scenario.DeviceHex ? endOfBlock(lines, line) : line;
      out.printf(Locale.ROOT, "%4d  %s%n", line, commandText(lines, s.step()));
      List<List<String>> details = new ArrayList<>();
      for (int r = 0; r < runs.size(); r++) {
        View v = runs.get(r).views().get(i);
        details.add(detail(v, previous[r]));
        previous[r] = v.ranges();
      }
      if (details.stream().distinct().count() == 1) {
        block(out, together, details.get(0));
        continue;
      }
      for (int r = 0; r < runs.size(); r++) {
        int same = details.subList(0, r).indexOf(details.get(r));
        if (same >= 0) {
          out.printf(Locale.ROOT, "        %-10s = %s%n", runs.get(r).name(),
              runs.get(same).name());
        } else {
          block(out, runs.get(r).name(), details.get(r));
        }
      }
    }
    out.println();
    out.println("At the end:");
    for (PolicyRun run : runs) {
      out.printf(Locale.ROOT, "  %-10s %s%n", run.name(), run.result().host().mmioRoRanges());
    }
    for (PolicyRun run : runs) {
      out.printf(Locale.ROOT, "  %-10s %s%n", run.name(), invariants(run.result().host()));
    }
    PolicyRun seed = find(runs, "seed-2010");
    PolicyRun xen = find(runs, "xen-4.22");
    PolicyRun hardened = find(runs, "hardened");
    if (seed != null && hardened != null) {
      List<Row> rows = rows(scenario, seed.result().host(), hardened.result().host(),
          DemoCommand::why);
      out.println();
      out.println("What " + seed.name() + " leaves writable and " + hardened.name()
          + " does not (mappings of the frames " + hardened.name() + " protects):");
      table(out, rows, "why (reference 3.6)");
    }
    if (xen != null && hardened != null) {
      printStillOpen(out, scenario, xen, hardened);
    }
  }

  /**
   * What Xen 4.22 leaves open and hardened closes in this run: the steps that end differently, the
   * invariants that fail only under 4.22, and the mappings 4.22 leaves writable, each with the
   * switch behind it.
   */
  private static void printStillOpen(PrintWriter out, Scenario scenario, PolicyRun xen,
      PolicyRun hardened) {
    out.println();
    out.println("What " + xen.name() + " still leaves open that " + hardened.name() + " closes:");
    List<String> steps = new ArrayList<>();
    for (int i = 0; i < xen.views().size(); i++) {
      View x = xen.views().get(i);
      View h = hardened.views().get(i);
      if (x.step().command() instanceof Scenario.HostConfig) {
        continue; // names the policy, nothing else differs
      }
      if (!x.outcome().summary().equals(h.outcome().summary())) {
        steps.add(Integer.toString(x.step().line()));
      }
    }
    Map<String, Integer> xenViolations = violationCounts(xen.result().host());
    Map<String, Integer> hardViolations = violationCounts(hardened.result().host());
    List<String> invariants = new ArrayList<>();
    xenViolations.forEach((k, n) -> {
      int h = hardViolations.getOrDefault(k, 0);
      if (n > h) {
        invariants.add(k + " x" + (n - h));
      }
    });
    List<Row> rows = rows(scenario, xen.result().host(), hardened.result().host(),
        DemoCommand::whyStillOpen);
    if (steps.isEmpty() && invariants.isEmpty() && rows.isEmpty()) {
      out.println("  nothing: every step ends the same under both, and no invariant fails and no"
          + " mapping stays writable under " + xen.name() + " that " + hardened.name()
          + " closes");
      return;
    }
    out.println("  steps whose outcome differs: " + (steps.isEmpty() ? "none"
        : "lines " + String.join(", ", steps)));
    out.println("  invariants failing only under " + xen.name() + ": "
        + (invariants.isEmpty() ? "none" : String.join(", ", invariants)));
    out.println("  mappings " + xen.name() + " leaves writable and " + hardened.name()
        + " does not:");
    table(out, rows, "why (the switch of " + xen.name() + ")");
  }

  private static void table(PrintWriter out, List<Row> rows, String whyHeader) {
    if (rows.isEmpty()) {
      out.println("  nothing");
      return;
    }
    int domainWidth = "domain".length();
    int entryWidth = "entry".length();
    for (Row r : rows) {
      domainWidth = Math.max(domainWidth, r.domain().length());
      entryWidth = Math.max(entryWidth, r.entry().length());
    }
    String format = "  %-" + domainWidth + "s  %-6s  %-" + entryWidth + "s  %-9s  %s%n";
    out.printf(Locale.ROOT, format, "domain", "kind", "entry", "MFN", whyHeader);
    for (Row r : rows) {
      out.printf(Locale.ROOT, format, r.domain(), r.kind(), r.entry(), hex(r.mfn()), r.why());
    }
  }

  private static String emptyRanges(PolicyRun run) {
    return run.views().isEmpty() ? "" : "r/o mmio ranges { }";
  }

  private static int endOfBlock(String[] lines, int line) {
    for (int k = line; k < lines.length; k++) {
      String l = lines[k];
      int hash = l.indexOf('#');
      if ((hash < 0 ? l : l.substring(0, hash)).strip().equals("end")) {
        return k + 1;
      }
    }
    return line;
  }

  /** The command as the author wrote it (without its comment), or as the writer prints it. */
  private static String commandText(String[] lines, Scenario.Step step) {
    if (step.command() instanceof Scenario.DeviceHex hex) {
      return "device " + hex.name() + " hex ... end (" + hex.lines().size() + " lines)";
    }
    if (step.line() <= lines.length) {
      String l = lines[step.line() - 1];
      int hash = l.indexOf('#');
      return (hash < 0 ? l : l.substring(0, hash)).strip();
    }
    return ScenarioWriter.command(step.command());
  }

  private static List<String> detail(View v, String previousRanges) {
    List<String> lines = new ArrayList<>();
    lines.add(v.outcome().summary());
    for (String l : v.outcome().output()) {
      if (!l.equals(v.outcome().summary())) {
        lines.add(l);
      }
    }
    lines.addAll(v.logs());
    if (!v.ranges().equals(previousRanges)) {
      lines.add(v.ranges());
    }
    return lines;
  }

  private static void block(PrintWriter out, String who, List<String> lines) {
    for (int i = 0; i < lines.size(); i++) {
      out.printf(Locale.ROOT, "        %-10s %s%n", i == 0 ? who : "", lines.get(i));
    }
  }

  private static String invariants(Host host) {
    List<Violation> found = HostInvariants.check(host);
    if (found.isEmpty()) {
      return "invariants hold";
    }
    Map<String, Integer> counts = violationCounts(host);
    List<String> parts = new ArrayList<>();
    counts.forEach((k, n) -> parts.add(k + " x" + n));
    return found.size() + " invariant violations: " + String.join(", ", parts);
  }

  private static Map<String, Integer> violationCounts(Host host) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (Violation v : HostInvariants.check(host)) {
      counts.merge(v.invariant(), 1, Integer::sum);
    }
    return counts;
  }

  /**
   * Mappings writable on {@code seed} (the seed's host or another policy's) and not under
   * hardened, of the frames hardened protects, each with {@code why}'s reason.
   */
  static List<Row> rows(Scenario scenario, Host seed, Host hardened, Why why) {
    RangeSet frames = hardened.mmioRoRanges();
    Set<String> stillWritable = new HashSet<>();
    for (WritableMappings.Mapping m : WritableMappings.of(hardened, frames)) {
      stillWritable.add(m.key());
    }
    Map<Integer, String> names = new HashMap<>();
    for (Scenario.Command c : scenario.commands()) {
      if (c instanceof Scenario.CreateDomain d) {
        names.put(d.id(), d.name());
      }
    }
    List<Row> rows = new ArrayList<>();
    for (WritableMappings.Mapping m : WritableMappings.of(seed, frames)) {
      if (stillWritable.contains(m.key())) {
        continue;
      }
      GuestDomain d = m.domain();
      String domain = "d" + d.id() + " " + names.getOrDefault(d.id(), "") + " ("
          + Scenario.modeName(d.mode()) + (d.privileged() ? ", privileged" : "") + ")";
      String kind = switch (m.kind()) {
        case PV_L1 -> "PV L1";
        case P2M_LEAF -> "p2m";
        case SHADOW_L1 -> "shadow";
        case TLB -> "TLB";
      };
      String entry = switch (m.kind()) {
        case PV_L1 -> "L1 " + hex(m.where()) + "[" + m.slot() + "]";
        case P2M_LEAF -> "gfn " + hex(m.where());
        case SHADOW_L1 -> shadowEntry(d, m.where(), m.slot());
        case TLB -> "page " + hex(m.where());
      };
      rows.add(new Row(domain, kind, entry, m.mfn(), why.of(seed, m)));
    }
    return rows;
  }

  /**
   * A shadow L1 entry as the script knows it: "table N[slot]" when it shadows one of the script's
   * numbered guest tables, else the guest frame its shadow table shadows.
   */
  private static String shadowEntry(GuestDomain d, long shadowTable, int slot) {
    long frame = d.shadowedFrame(shadowTable);
    for (int t = 0; t < d.guestTableCount(); t++) {
      if (d.guestTableFrame(t) == frame) {
        return "table " + t + "[" + slot + "]";
      }
    }
    return "shadow of " + hex(frame) + "[" + slot + "]";
  }

  /** Which seed defects leave mapping {@code m} writable, by the rules of reference 3.6. */
  static String why(Host seed, WritableMappings.Mapping m) {
    GuestDomain d = m.domain();
    if (m.kind() == MappingKind.PV_L1 && d.privileged()
        && seed.policy().pv().privilegedExemption()) {
      return "dom0 is exempt (IS_PRIV) from forced read-only (row 8)";
    }
    List<String> reasons = new ArrayList<>();
    if (!seed.mmioRoRanges().containsSingleton(m.mfn())) {
      for (HostDevice dev : seed.devices()) {
        if (!dev.hasMsix()) {
          continue;
        }
        boolean inPba = contains(dev.truePba(), m.mfn());
        boolean inTable = contains(dev.trueTable(), m.mfn());
        if (inPba && dev.msix().pbaFirst() != dev.truePba().firstFrame()) {
          boolean multi = (dev.pci().headerTypeRegister() & 0x80) != 0;
          reasons.add((multi
              ? "BAR read gives 0 (header type 0x80 not masked, row 2)"
              : "BAR read gives the flag bits only (row 1)")
              + ": PBA registered at frame " + hex(dev.msix().pbaFirst()) + " (row 4)");
        }
        if ((inPba || inTable) && dev.msix().enabledCount() > 0
            && seed.registrations().registrationCount(dev.msix().registrant()) == 0) {
          reasons.add("registered once per device, removed on disable: unprotected after the"
              + " second enable (row 7)");
        }
      }
      if (reasons.isEmpty()) {
        reasons.add("not in mmio_ro_ranges");
      }
    } else if (m.kind() == MappingKind.PV_L1) {
      reasons.add("existing PV mapping left writable: \"XXX How to deal with existing"
          + " mappings?\" (row 10)");
    } else if (m.kind() == MappingKind.SHADOW_L1 && d.mode() == PagingMode.PV_SHADOW) {
      reasons.add("shadow_set_l1e drops the result of removing _PAGE_RW (row 9)");
    } else {
      reasons.add("existing mapping of a domain that does not own the device: only"
          + " dev->domain's p2m is re-derived (row 11)");
    }
    return String.join("; ", reasons);
  }

  /**
   * Which switches of {@code host}'s policy (Xen 4.22's, or any other) leave mapping {@code m}
   * writable where hardened revokes or refuses it.
   */
  static String whyStillOpen(Host host, WritableMappings.Mapping m) {
    Policy policy = host.policy();
    if (host.mmioRoRanges().containsSingleton(m.mfn())) {
      if (policy.existingMappings() == ExistingMappings.LEAVE) {
        return "existingMappings = LEAVE: mapped before the frames were protected, not revoked"
            + " (\"XXX How to deal with existing mappings?\")";
      }
      return "protected, but the mapping was not revoked (existingMappings = "
          + policy.existingMappings() + ")";
    }
    List<String> reasons = new ArrayList<>();
    for (HostDevice dev : host.devices()) {
      if (!dev.hasMsix() || !contains(dev.truePba(), m.mfn())) {
        continue;
      }
      boolean registered = dev.msix().enabledCount() > 0
          && Long.compareUnsigned(m.mfn(), dev.msix().pbaFirst()) >= 0
          && Long.compareUnsigned(m.mfn(), dev.msix().pbaLast()) <= 0;
      if (!registered && policy.msix().pbaSizing() == PbaSizing.BITS_TO_LONGS) {
        reasons.add("msix.pbaSizing = BITS_TO_LONGS: the PBA's last frame is not registered"
            + " (3.6 row 5)");
      }
    }
    if (reasons.isEmpty()) {
      MsixSwitches hardened = Policy.HARDENED.msix();
      MsixSwitches msix = policy.msix();
      if (!msix.ownershipAwareRemoval() && hardened.ownershipAwareRemoval()) {
        reasons.add("not in mmio_ro_ranges: msix.ownershipAwareRemoval = false (a removal"
            + " unprotects frames another registrant still holds)");
      } else {
        reasons.add("not in mmio_ro_ranges");
      }
    }
    return String.join("; ", reasons);
  }

  private static boolean contains(MsixRegion r, long mfn) {
    return r.usable() && Long.compareUnsigned(mfn, r.firstFrame()) >= 0
        && Long.compareUnsigned(mfn, r.lastFrame()) <= 0;
  }

  private static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }
}
