import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The build's licence check of the library jar (issue 16): every file in the jar must match a
 * pattern of the allow-list, each of which names the licence its files are under. Run by
 * {@code mvn verify} with the JDK's source launcher:
 * {@code java src/build/LibraryJarCheck.java JAR ALLOWLIST}. Exits 0 when every entry is allowed,
 * 1 listing the others, 2 on a usage or read error.
 */
public final class LibraryJarCheck {
  private LibraryJarCheck() {}

  /** One allow-list line: a licence and the pattern of the paths under it. */
  record Rule(String licence, String glob, Pattern pattern) {}

  /**
   * Runs the check.
   *
   * @param args the jar and the allow-list
   */
  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: java LibraryJarCheck.java JAR ALLOWLIST");
      System.exit(2);
    }
    try {
      List<Rule> rules = rules(Path.of(args[1]));
      List<String> unknown = unknown(Path.of(args[0]), rules);
      if (!unknown.isEmpty()) {
        System.err.println("LibraryJarCheck: " + args[0] + " holds " + unknown.size()
            + " file(s) without a known licence (not in " + args[1] + "):");
        for (String name : unknown) {
          System.err.println("  " + name);
        }
        System.err.println("Third-party files belong in src/cli/resources (the -cli jar only,"
            + " with a NOTICE); hvmmu's own new files, in the allow-list.");
        System.exit(1);
      }
      System.out.println("LibraryJarCheck: every file in " + Path.of(args[0]).getFileName()
          + " is on the allow-list (" + rules.size() + " patterns)");
    } catch (IOException | IllegalArgumentException e) {
      System.err.println("LibraryJarCheck: " + e.getMessage());
      System.exit(2);
    }
  }

  /**
   * Reads the allow-list: {@code LICENCE PATTERN} per line, {@code #} comments.
   *
   * @param file the allow-list
   * @return its rules
   * @throws IOException if it cannot be read
   */
  static List<Rule> rules(Path file) throws IOException {
    List<Rule> rules = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String s = line.strip();
      if (s.isEmpty() || s.startsWith("#")) {
        continue;
      }
      String[] f = s.split("\\s+");
      if (f.length != 2) {
        throw new IllegalArgumentException(file + ": not 'LICENCE PATTERN': " + line);
      }
      rules.add(new Rule(f[0], f[1], glob(f[1])));
    }
    return rules;
  }

  /**
   * The jar's file entries no rule matches, sorted.
   *
   * @param jar the jar
   * @param rules the allow-list
   * @return the names of the files without a known licence
   * @throws IOException if the jar cannot be read
   */
  static List<String> unknown(Path jar, List<Rule> rules) throws IOException {
    List<String> unknown = new ArrayList<>();
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      for (ZipEntry e : Collections.list(zip.entries())) {
        if (e.isDirectory()) {
          continue;
        }
        if (rules.stream().noneMatch(r -> r.pattern().matcher(e.getName()).matches())) {
          unknown.add(e.getName());
        }
      }
    }
    Collections.sort(unknown);
    return unknown;
  }

  static Pattern glob(String glob) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
        re.append(".*");
        i++;
      } else if (c == '*') {
        re.append("[^/]*");
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(re.toString());
  }
}
