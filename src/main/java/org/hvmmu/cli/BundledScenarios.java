package org.hvmmu.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.hvmmu.host.script.Scenario;
import org.hvmmu.internal.InputFiles;
import org.hvmmu.host.script.ScenarioParser;
import org.hvmmu.host.script.ScenarioRunner;

/**
 * The scenario scripts bundled with the CLI ({@code org/hvmmu/cli/scenarios/*.hvmmu}, listed in
 * {@code INDEX}): the demo's and the examples copied to {@code docs/scenarios/}. Their dump paths
 * resolve on the class path, relative to the scenarios' directory, so that they also run from the
 * shaded jar.
 */
final class BundledScenarios {
  private BundledScenarios() {}

  /** The class-path directory of the bundled scripts. */
  static final String DIRECTORY = "org/hvmmu/cli/scenarios/";

  /** The demo's script. */
  static final String DEMO = "demo.hvmmu";

  /** Reads dump paths relative to {@link #DIRECTORY} from the class path. */
  static final ScenarioRunner.DumpLoader CLASS_PATH = (scenario, path) -> resource(
      normalize(DIRECTORY + path));

  /**
   * The names of the bundled scripts, in {@code INDEX} order.
   *
   * @return the file names
   */
  static List<String> names() {
    List<String> names = new ArrayList<>();
    for (String line : resource(DIRECTORY + "INDEX").split("\n")) {
      if (!line.isBlank()) {
        names.add(line.strip());
      }
    }
    return names;
  }

  /**
   * The text of a bundled script.
   *
   * @param name its file name
   * @return the text
   */
  static String text(String name) {
    return resource(DIRECTORY + name);
  }

  /**
   * A bundled script, parsed; its source in messages is {@code scenarios/NAME}.
   *
   * @param name its file name
   * @return the scenario
   */
  static Scenario scenario(String name) {
    return ScenarioParser.parse("scenarios/" + name, text(name));
  }

  static String resource(String path) {
    try (InputStream in = BundledScenarios.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new UncheckedIOException("cannot read " + path,
            new java.io.FileNotFoundException("not on the class path"));
      }
      return new String(InputFiles.readBytes(in, (int) InputFiles.MAX_TEXT_BYTES),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
  }

  /** Resolves {@code .} and {@code ..} in a class-path path. */
  static String normalize(String path) {
    Deque<String> parts = new ArrayDeque<>();
    for (String part : path.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (!parts.isEmpty()) {
          parts.removeLast();
        }
      } else {
        parts.addLast(part);
      }
    }
    return String.join("/", parts);
  }
}
