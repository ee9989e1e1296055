package org.hvmmu.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.hvmmu.host.Policy;
import org.hvmmu.host.script.Failure;
import org.hvmmu.host.script.Scenario;
import org.hvmmu.host.script.ScenarioException;
import org.hvmmu.host.script.ScenarioParser;
import org.hvmmu.host.script.ScenarioResult;
import org.hvmmu.host.script.ScenarioRunner;
import org.hvmmu.host.script.ScenarioWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hvmmu replay FILE [--policy seed-2010|hardened|xen-4.22]}: runs a scenario script and
 * prints each command with its outcome; for an {@code expect} that does not hold, {@code FILE:LINE:
 * expected ..., but ...}. {@code --policy} overrides the script's {@code host ... policy}.
 *
 * <p>Exit codes: 0 when every {@code expect} holds, 1 when some did not, 2 for a script error (one
 * line {@code FILE:LINE: message} on stderr, no stack trace) or a usage error.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = {
      "Run a scenario script (docs/scenarios.md) and check its expect lines.",
      "Exit code 0 if every expect holds, 1 if some failed, 2 for a script or usage error."
    })
final class ReplayCommand implements Callable<Integer> {
  @Spec private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "FILE", description = "The scenario script.")
  private Path file;

  @Option(
      names = "--policy",
      paramLabel = "POLICY",
      description = "seed-2010, hardened or xen-4.22; overrides the script's 'host ... policy'.")
  private String policy;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ScenarioRunner runner = ScenarioRunner.scriptPolicy();
    if (policy != null) {
      try {
        runner = ScenarioRunner.forcing(Scenario.PolicyName.fromScriptName(policy).policy());
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "Invalid value for option '--policy': " + e.getMessage());
      }
    }
    try {
      Scenario scenario = ScenarioParser.read(file);
      Policy chosen = runner.policyFor(scenario);
      out.println("replay " + file + " (policy " + ScenarioRunner.policyName(chosen) + ")");
      ScenarioResult result = runner.withListener((step, outcome, host) -> {
        String text = ScenarioWriter.command(step.command());
        int nl = text.indexOf('\n');
        if (nl >= 0) {
          text = text.substring(0, nl) + " ... end";
        }
        // A failed expect's full message follows on its own line, FILE:LINE: expected ..., but ...
        String summary = outcome.failed() ? "FAILED" : outcome.summary();
        out.printf(Locale.ROOT, "%4d  %-50s %s%n", step.line(), text, summary);
        for (String line : outcome.output()) {
          if (!line.equals(outcome.summary())) {
            out.println("      " + line);
          }
        }
        for (Failure f : outcome.failures()) {
          out.println(f);
        }
        out.flush();
      }).run(scenario);
      int failed = result.failures().size();
      out.printf(Locale.ROOT, "%s: %d expect line(s), %d held, %d failed%n",
          ScenarioRunner.policyName(chosen), result.expects(), result.expects() - failed, failed);
      out.flush();
      return failed == 0 ? 0 : 1;
    } catch (ScenarioException e) {
      out.flush();
      err.println(e.getMessage());
      err.flush();
      return 2;
    }
  }
}
