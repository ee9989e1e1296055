package org.hvmmu.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.hvmmu.pci.LspciDumpReader;
import org.hvmmu.pci.PciDumpParseException;
import org.hvmmu.pci.SysfsReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15's dump campaigns: mutated real dumps (the PCI test dumps and the bundled samples)
 * through {@link LspciDumpReader} (text and file paths) and the sysfs parsers. The only documented
 * error is {@link PciDumpParseException}; a size refusal cannot happen (the inputs stay far below
 * 64 MiB), so an {@link UncheckedIOException} fails the campaign. Sizes: 2,000 per campaign in the
 * default build, 10,000 under {@code -Pfuzz}.
 */
class DumpTextFuzzTest {
  /** A mutated text and where it came from. */
  record Input(String origin, String text) {
    @Override
    public String toString() {
      return origin + ": " + text.replace("\0", "\\0");
    }
  }

  static List<String> seeds() throws IOException {
    List<String> texts = new ArrayList<>();
    for (String dir : List.of("src/test/resources/org/hvmmu/pci/dumps",
        "src/cli/resources/org/hvmmu/cli/samples", "../shared/testdata/pci-dumps")) {
      Path d = Path.of(dir);
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (Stream<Path> files = Files.list(d)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".txt")).sorted().toList()) {
          texts.add(Files.readString(f, StandardCharsets.UTF_8));
        }
      }
    }
    assertTrue(texts.size() >= 14, "seed dumps: " + texts.size());
    return texts;
  }

  @Test
  void mutatedDumpTextsGiveDevicesOrAParseError() throws IOException {
    List<String> seeds = seeds();
    Fuzz.Counts c = Fuzz.campaign("lspci dump texts", Fuzz.size(2_000, 10_000))
        .documented(PciDumpParseException.class)
        .run(r -> {
          int k = r.nextInt(seeds.size());
          return new Input("dump " + k, TextMutator.mutate(r, seeds.get(k)));
        }, in -> LspciDumpReader.parse("fuzz", in.text()));
    assertEquals(c.inputs(), c.results() + c.errors());
    assertTrue(c.results() > 0 && c.errors() > 0, c.toString());
  }

  @Test
  void mutatedDumpFilesAreReadALineAtATime(@TempDir Path dir) throws IOException {
    List<String> seeds = seeds();
    Path file = dir.resolve("dump.txt");
    // Byte-level: the text's UTF-8 with bytes flipped, so that files hold malformed UTF-8 too.
    Fuzz.Counts c = Fuzz.campaign("lspci dump files", Fuzz.size(500, 10_000))
        .documented(PciDumpParseException.class)
        .run(r -> {
          int k = r.nextInt(seeds.size());
          return new Input("dump " + k, TextMutator.mutate(r, seeds.get(k)));
        }, in -> {
          byte[] bytes = in.text().getBytes(StandardCharsets.UTF_8);
          Files.write(file, bytes);
          LspciDumpReader.read(file);
        });
    assertTrue(c.results() > 0 && c.errors() > 0, c.toString());
  }

  @Test
  void mutatedResourceFilesAndConfigFiles(@TempDir Path dir) throws IOException {
    String resource = "0x00000000febd6000 0x00000000febd6fff 0x0000000000040200\n"
        + "0x0000004000000000 0x000000400007ffff 0x0000000000140204\n"
        + "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
        + "0x000000000000c060 0x000000000000c07f 0x0000000000040101\n"
        + "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
        + "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
        + "0x00000000feb80000 0x00000000febbffff 0x0000000000046200\n";
    Fuzz.Counts c = Fuzz.campaign("sysfs resource texts", Fuzz.size(2_000, 10_000))
        .documented(PciDumpParseException.class)
        .run(r -> new Input("resource", TextMutator.mutate(r, resource)),
            in -> SysfsReader.parseResourceSizes("resource", in.text()));
    assertTrue(c.results() > 0 && c.errors() > 0, c.toString());
    // config files of every length around the valid ones, from the bundled 82576's bytes.
    byte[] config = LspciDumpReader.parse("s", sample("pciutils_intel_82576_10c9.xxx.txt"))
        .get(0).config().toByteArray();
    int[] lengths = {0, 1, 63, 64, 65, 127, 128, 129, 255, 256, 257, 4095, 4096, 4097, 9000};
    Path file = dir.resolve("config");
    Fuzz.Counts cc = Fuzz.campaign("sysfs config files", Fuzz.size(300, 10_000))
        .documented(PciDumpParseException.class)
        .run(r -> {
          byte[] b = new byte[lengths[r.nextInt(lengths.length)]];
          for (int i = 0; i < b.length; i++) {
            b[i] = i < config.length ? config[i] : (byte) r.nextInt(256);
          }
          if (b.length > 0) {
            b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
          }
          return b;
        }, b -> {
          Files.write(file, b);
          try {
            SysfsReader.readConfig(file).size();
          } catch (UncheckedIOException e) {
            // Only the documented size refusal, for the files over 4096 bytes.
            if (b.length <= 4096 || !e.getMessage().endsWith(": larger than 0x1000 bytes")) {
              throw e;
            }
          }
        });
    assertTrue(cc.results() > 0 && cc.errors() > 0, cc.toString());
  }

  static String sample(String name) throws IOException {
    try (InputStream in = DumpTextFuzzTest.class.getResourceAsStream(
        "/org/hvmmu/cli/samples/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
