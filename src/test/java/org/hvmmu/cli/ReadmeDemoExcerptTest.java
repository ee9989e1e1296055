package org.hvmmu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's excerpt of the demo's output is the output: each run of lines between two "..."
 * lines appears, in order and unchanged, in what {@code hvmmu demo} prints, and the line count the
 * README gives is the output's.
 */
class ReadmeDemoExcerptTest {
  private static final Pattern INTRO =
      Pattern.compile("An excerpt of its output \\((\\d+) lines\\):\n\n```\n(.*?)\n```\n",
          Pattern.DOTALL);

  @Test
  void readmeExcerptShouldBeTheDemosOutput() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    Matcher m = INTRO.matcher(readme);
    assertTrue(m.find(), "README.md has no 'An excerpt of its output (N lines):' block");
    String out = CliScenarioTest.run("demo").out();
    List<String> output = out.lines().toList();
    assertEquals(Integer.parseInt(m.group(1)), output.size(), "the README's line count");
    List<List<String>> chunks = new ArrayList<>();
    List<String> chunk = new ArrayList<>();
    for (String line : m.group(2).split("\n", -1)) {
      if (line.equals("...")) {
        chunks.add(chunk);
        chunk = new ArrayList<>();
      } else {
        chunk.add(line);
      }
    }
    chunks.add(chunk);
    assertTrue(chunks.size() >= 2, "the excerpt should leave something out");
    int at = 0;
    for (List<String> c : chunks) {
      if (c.isEmpty()) {
        continue;
      }
      int found = indexOf(output, c, at);
      assertTrue(found >= 0, "not in the demo's output (after line " + at + "):\n"
          + String.join("\n", c));
      at = found + c.size();
    }
    // The excerpt's first and last chunks are the output's first and last lines.
    assertEquals(output.get(0), chunks.get(0).get(0));
    List<String> last = chunks.get(chunks.size() - 1);
    assertEquals(output.get(output.size() - 1), last.get(last.size() - 1));
  }

  private static int indexOf(List<String> lines, List<String> chunk, int from) {
    for (int i = from; i + chunk.size() <= lines.size(); i++) {
      if (lines.subList(i, i + chunk.size()).equals(chunk)) {
        return i;
      }
    }
    return -1;
  }
}
