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
 * The {@code hvmmu} command line: {@code inspect} (the default) shows which frames of each PCI
 * function's MSI-X table and PBA would be write-protected; {@code demo} prints the {@code
 * mmio_ro_ranges} of an embedded default host and how the PV validator treats guest mappings of it.
 *
 * <pre>
 * java -jar target/hvmmu-VERSION-cli.jar                      # inspect this machine
 * java -jar target/hvmmu-VERSION-cli.jar inspect --json dump.xxx.txt
 * java -jar target/hvmmu-VERSION-cli.jar demo
 * mvn -q compile exec:java                                    # the same, without the jar
 * </pre>
 *
 * <p>Exit codes: 0, 1 when a PATH could not be read (the message is on stderr, without a stack
 * trace), 2 for a usage error. This package is the only one that prints or exits.
 */
public final class Main {
  private Main() {}

  /** Arguments that select something other than the default {@code inspect}. */
  private static final Set<String> NOT_INSPECT =
      Set.of("inspect", "demo", "help", "-h", "--help", "-V", "--version");

  /** The top-level command: holds the subcommands and the standard options. */
  @Command(
      name = "hvmmu",
      mixinStandardHelpOptions = true,
      version = "hvmmu 0.1.0",
      description = {
        "A model of Xen's protection of PCI MSI-X tables and PBAs from guest writes.",
        "Without a subcommand, runs inspect."
      },
      subcommands = CommandLine.HelpCommand.class)
  static final class Top implements Runnable {
    @Override
    public void run() {
      // Reached only for "hvmmu" with options picocli handles itself; inspect is chosen in run().
    }
  }

  /**
   * Runs the command line and exits with its code if that is not 0 (so that {@code mvn exec:java}
   * ends normally).
   *
   * @param args the arguments; none means {@code inspect} of this machine
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
    if (args.length == 0 || !NOT_INSPECT.contains(args[0])) {
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
            .addSubcommand("demo", new DemoCommand());
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
