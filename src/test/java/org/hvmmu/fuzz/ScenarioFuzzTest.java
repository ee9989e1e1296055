package org.hvmmu.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.hvmmu.host.script.Scenario;
import org.hvmmu.host.script.ScenarioException;
import org.hvmmu.host.script.ScenarioParser;
import org.hvmmu.host.script.ScenarioRunner;
import org.junit.jupiter.api.Test;

/**
 * Issue 15's script campaign: mutated bundled scenarios (the CLI's {@code org/hvmmu/cli/scenarios},
 * copies of {@code docs/scenarios}) through the parser and the runner, as {@code hvmmu replay} runs
 * them (the script's policy; dumps from the class path as the CLI reads the bundled ones). The
 * documented error is {@link ScenarioException}, the parser's and the runner's FILE:LINE error; a
 * failed {@code expect} is a result. Numbers are pushed to their edges (0, 2^32, 2^52, 2^64 - 1,
 * past 2^64, whole-space ranges). Sizes: 500 in the default build, 10,000 under {@code -Pfuzz}.
 */
class ScenarioFuzzTest {
  private static final String DIRECTORY = "org/hvmmu/cli/scenarios/";

  /** A mutated script. */
  record Input(String origin, String text) {
    @Override
    public String toString() {
      return origin + ":\n" + text.replace("\0", "\\0");
    }
  }

  static String resource(String path) {
    try (InputStream in = ScenarioFuzzTest.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new UncheckedIOException("cannot read " + path,
            new FileNotFoundException("not on the class path"));
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
  }

  /** As the CLI's loader of bundled dumps: relative to the scenarios' directory. */
  static final ScenarioRunner.DumpLoader CLASS_PATH = (scenario, path) -> {
    Path p = Path.of(DIRECTORY).resolve(path).normalize();
    return resource(p.toString().replace('\\', '/'));
  };

  static List<String[]> seeds() {
    List<String[]> seeds = new ArrayList<>();
    for (String name : resource(DIRECTORY + "INDEX").split("\n")) {
      if (!name.isBlank()) {
        seeds.add(new String[] {name.strip(), resource(DIRECTORY + name.strip())});
      }
    }
    assertTrue(seeds.size() >= 6, "bundled scenarios: " + seeds.size());
    return seeds;
  }

  /** Mutates a script: text mutations, and whole lines whose numbers go to their edges. */
  static Input draw(SplittableRandom r, List<String[]> seeds) {
    String[] seed = seeds.get(r.nextInt(seeds.size()));
    String text = seed[1];
    if (r.nextInt(3) == 0) {
      // Edge numbers on several command lines, keeping the rest of the script valid.
      String[] lines = text.split("\n", -1);
      int n = 1 + r.nextInt(3);
      for (int i = 0; i < n; i++) {
        int at = r.nextInt(lines.length);
        if (!lines[at].startsWith("#")) {
          lines[at] = TextMutator.edgeNumbers(r, lines[at]);
        }
      }
      text = String.join("\n", lines);
    } else {
      text = TextMutator.mutate(r, text);
    }
    return new Input(seed[0], text);
  }

  @Test
  void mutatedScriptsRunOrGiveAScriptError() {
    List<String[]> seeds = seeds();
    Fuzz.Counts c = Fuzz.campaign("scenario scripts", Fuzz.size(500, 10_000))
        .documented(ScenarioException.class)
        .run(r -> draw(r, seeds), in -> {
          Scenario s = ScenarioParser.parse("scenarios/" + in.origin(), Path.of(DIRECTORY),
              in.text());
          ScenarioRunner.scriptPolicy().withDumpLoader(CLASS_PATH).run(s);
        });
    assertEquals(c.inputs(), c.results() + c.errors());
    assertTrue(c.results() > 0 && c.errors() > 0, c.toString());
  }
}
