package org.hvmmu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue 16's build layout, the parts the build itself cannot see: the shade plugin lists the files
 * of {@code src/cli/resources} one by one (they are kept out of the library jar), so the list must
 * follow the directory; the README's test-kit example is an excerpt of
 * {@code docs/example-user-project}, which {@code mvn verify} compiles and runs; and that project
 * depends on the version this build makes.
 */
class BuildLayoutTest {
  private static final Path CLI_RESOURCES = Path.of("src/cli/resources");

  private static String read(String path) throws IOException {
    Path p = Path.of(path);
    assertTrue(Files.isRegularFile(p), "run from the project directory: " + path);
    return Files.readString(p, StandardCharsets.UTF_8);
  }

  @Test
  void theShadedJarShouldIncludeEveryFileOfTheCliResourcesAndNothingElse() throws IOException {
    Set<String> files;
    try (Stream<Path> walk = Files.walk(CLI_RESOURCES)) {
      files = walk.filter(Files::isRegularFile)
          .map(p -> CLI_RESOURCES.relativize(p).toString().replace('\\', '/'))
          .collect(Collectors.toCollection(TreeSet::new));
    }
    Set<String> included = new TreeSet<>();
    Matcher m = Pattern.compile(
        "<resource>([^<]+)</resource>\\s*<file>src/cli/resources/([^<]+)</file>")
        .matcher(read("pom.xml"));
    while (m.find()) {
      assertEquals(m.group(1), m.group(2), "an included resource keeps its path");
      included.add(m.group(1));
    }
    assertEquals(files, included, "pom.xml's IncludeResourceTransformers vs src/cli/resources");
  }

  @Test
  void theReadmesTestKitExampleShouldBeAnExcerptOfTheExampleProject() throws IOException {
    String readme = read("README.md");
    int section = readme.indexOf("## Using hvmmu in your project");
    assertTrue(section >= 0, "README section");
    int start = readme.indexOf("```java\n", section);
    int end = readme.indexOf("```\n", start + 1);
    assertTrue(start > 0 && end > start, "README's java block");
    Set<String> example = read(
        "docs/example-user-project/src/test/java/com/example/emulator/"
            + "MsixProtectionPropertyTest.java").lines().map(String::strip)
        .collect(Collectors.toSet());
    List<String> missing = new ArrayList<>();
    for (String line : readme.substring(start + 8, end).split("\n")) {
      if (!line.isBlank() && !example.contains(line.strip())) {
        missing.add(line);
      }
    }
    assertEquals(List.of(), missing, "README lines not in the example project's test");
  }

  @Test
  void theExampleProjectShouldDependOnThisVersion() throws IOException {
    Matcher own = Pattern.compile("<artifactId>hvmmu</artifactId>\\s*<version>([^<]+)</version>")
        .matcher(read("pom.xml"));
    Matcher dep = Pattern.compile("<artifactId>hvmmu</artifactId>\\s*<version>([^<]+)</version>")
        .matcher(read("docs/example-user-project/pom.xml"));
    assertTrue(own.find() && dep.find(), "versions");
    assertEquals(own.group(1), dep.group(1));
    assertTrue(read("README.md").contains("<version>" + own.group(1) + "</version>"),
        "README's dependency snippet names " + own.group(1));
  }
}
