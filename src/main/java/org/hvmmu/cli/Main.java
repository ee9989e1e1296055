package org.hvmmu.cli;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import org.hvmmu.pci.SysfsReader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code hvmmu} command line: {@code demo} (the default without arguments) runs the bundled
 * scenario under the seed's, Xen 4.22's and the hardened policy side by side; {@code replay} runs
 * a scenario script and checks its {@code expect} lines; {@code inspect} shows which frames of each
 * PCI function's MSI-X table and PBA would be write-protected.
 *
 * <pre>
 * java -jar target/hvmmu-VERSION-cli.jar                      # the demo
 * java -jar target/hvmmu-VERSION-cli.jar replay docs/scenarios/second-enable.hvmmu --policy hardened
 * java -jar target/hvmmu-VERSION-cli.jar inspect --json dump.xxx.txt
 * mvn -q compile exec:java                                    # the demo, without the jar
 * </pre>
 *
 * <p>Arguments that start with neither a subcommand nor a help or version option are taken as
 * {@code inspect}'s ({@code hvmmu dump.xxx.txt}, {@code hvmmu --json}), as before {@code demo}
 * became the default.
 *
 * <p>Exit codes: 0; 1 when {@code inspect} could not read a PATH or a {@code replay} expectation
 * failed; 2 for a usage error or a scenario script error (messages on stderr, without a stack
 * trace). This package is the only one that prints or exits.
 */
public final class Main {
  private Main() {}

  /** Arguments that select something other than the default {@code inspect}. */
  private static final Set<String> NOT_INSPECT =
      Set.of("inspect", "demo", "replay", "pagetables", "help", "-h", "--help", "-V", "--version");

  /** The top-level command: holds the subcommands and the standard options. */
  @Command(
      name = "hvmmu",
      mixinStandardHelpOptions = true,
      version = "hvmmu 0.2.0",
      description = {
        "A model of Xen's protection of PCI MSI-X tables and PBAs from guest writes.",
        "Without arguments, runs demo; arguments without a subcommand go to inspect."
      },
      subcommands = CommandLine.HelpCommand.class)
  static final class Top implements Runnable {
    @Override
    public void run() {
      // Reached only for "hvmmu" with options picocli handles itself; the default is chosen in run().
    }
  }

  /**
   * Runs the command line and exits with its code if that is not 0 (so that {@code mvn exec:java}
   * ends normally).
   *
   * @param args the arguments; none means {@code demo}
   */
  public static void main(String[] args) {
    // The CLI's own Logback configuration (warnings to stderr), unless the user gave one.
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "org/hvmmu/cli/logback-cli.xml");
    }
    int code = run(args, System.out, System.err, SysfsReader.DEFAULT_DEVICES_DIR);
    if (code != 0) {
      System.exit(code);
    }
  }

  /**
   * Runs the command line with the given streams, for {@link #main} and tests.
   *
   * @param args the arguments
   * @param out standard output
   * @param err standard error
   * @param devicesDir what {@code inspect} reads without PATH ({@code /sys/bus/pci/devices})
   * @return the exit code
   */
  static int run(String[] args, PrintStream out, PrintStream err, Path devicesDir) {
    String[] effective = args;
    if (args.length == 0) {
      effective = new String[] {"demo"};
    } else if (!NOT_INSPECT.contains(args[0])) {
      effective = new String[args.length + 1];
      effective[0] = "inspect";
      System.arraycopy(args, 0, effective, 1, args.length);
    }
    PrintWriter outWriter =
        new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
    PrintWriter errWriter =
        new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
    CommandLine cli =
        new CommandLine(new Top())
            .addSubcommand("inspect", new InspectCommand(devicesDir))
            .addSubcommand("demo", new DemoCommand())
            .addSubcommand("replay", new ReplayCommand())
            .addSubcommand("pagetables", new PagetablesCommand(System.in));
    cli.setOut(outWriter);
    cli.setErr(errWriter);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          commandLine.getErr().println("hvmmu: " + e);
          commandLine.getErr().flush();
          return 1;
        });
    int code = cli.execute(effective);
    outWriter.flush();
    errWriter.flush();
    return code;
  }
}
