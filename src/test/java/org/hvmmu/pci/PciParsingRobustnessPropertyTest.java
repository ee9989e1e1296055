package org.hvmmu.pci;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.hvmmu.pci.msix.MsixLayout;
import org.hvmmu.pci.msix.PbaSizing;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Untrusted input never escapes as anything but a result or {@link PciDumpParseException}, and
 * never hangs: arbitrary configuration bytes through every decoder, arbitrary and corrupted dump
 * text through the lspci reader, arbitrary resource text through the sysfs parser.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PciParsingRobustnessPropertyTest {
  /** Bytes that steer the decoders: pointers, IDs of interest, 0, 0xff, and anything. */
  private static int interestingByte(SplittableRandom r) {
    return switch (r.nextInt(8)) {
      case 0 -> 0x40 + 4 * r.nextInt(48); // a valid pointer
      case 1 -> 0x11; //                     MSI-X ID
      case 2 -> 0x09; //                     vendor specific
      case 3 -> 0xff;
      case 4 -> 0x00;
      case 5 -> r.nextInt(0x40); //          a pointer into the header
      default -> r.nextInt(256);
    };
  }

  static byte[] arbitraryConfig(SplittableRandom r) {
    int[] sizes = {64, 128, 256, 4096};
    byte[] b = new byte[sizes[r.nextInt(sizes.length)]];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) interestingByte(r);
    }
    if (r.nextBoolean()) {
      b[PciRegs.STATUS] |= PciRegs.STATUS_CAP_LIST;
    }
    if (r.nextInt(4) == 0) {
      b[0] = (byte) 0xf4;
      b[1] = 0x1a; // virtio, so the vendor capabilities are decoded
    }
    if (b.length == 4096 && r.nextBoolean()) {
      // Extended headers with next pointers anywhere, loops included.
      for (int at = 0x100; at < 4096; at += 4 * (1 + r.nextInt(16))) {
        int next = r.nextInt(4) == 0 ? 0 : r.nextInt(0x1000);
        int id = r.nextInt(3) == 0 ? PciRegs.EXT_CAP_ID_SRIOV : r.nextInt(0x30);
        int header = id | (1 << 16) | (next << 20);
        for (int k = 0; k < 4; k++) {
          b[at + k] = (byte) (header >>> (8 * k));
        }
      }
    }
    return b;
  }

  @Test
  void shouldDecodeArbitraryBytesWithoutThrowing() {
    Gen<byte[]> configs =
        Gens.of(PciParsingRobustnessPropertyTest::arbitraryConfig, b -> List.of());
    Gen<Long> seeds = Gens.unsignedLongs();
    Property.forAll(
        Gens.zip(configs, seeds, (b, s) -> new Object[] {b, s}),
        pair -> {
          byte[] bytes = (byte[]) pair[0];
          SplittableRandom r = new SplittableRandom((Long) pair[1]);
          long[] sizes = new long[6];
          for (int i = 0; i < 6; i++) {
            sizes[i] = r.nextBoolean() ? 0 : 1L << r.nextInt(40);
          }
          PciDevice d =
              new PciDevice(new PciAddress(0, 0, 1, 0), ConfigSpace.of(bytes), "arbitrary", sizes);
          CapabilityList caps = d.capabilities();
          assertTrue(caps.standard().size() <= PciRegs.FIND_CAP_TTL);
          assertTrue(caps.extended().size() <= PciRegs.EXT_CAP_TTL);
          assertDistinct(caps.standard());
          assertDistinct(caps.extended());
          MsixLayout.inspect(d, PbaSizing.CORRECTED);
          MsixLayout.inspect(d, PbaSizing.BITS_TO_LONGS);
          VirtioPciCap.readAll(d);
          for (int bir = 0; bir < 8; bir++) {
            PciMemBar.readPciMemBar(d.config(), bir, BarReadMode.CORRECTED);
            PciMemBar.readPciMemBar(d.config(), bir, BarReadMode.SEED_2010);
            PciMemBar.readPciMemBar(
                d.config(),
                r.nextInt(0x10000),
                bir,
                r.nextInt(0x10000),
                sizes,
                BarReadMode.CORRECTED);
          }
        });
  }

  private static void assertDistinct(List<Capability> caps) {
    Set<Integer> seen = new HashSet<>();
    for (Capability c : caps) {
      assertTrue(seen.add(c.offset()), "capability offset repeated: " + caps);
    }
  }

  private static final String[] LINE_VOCABULARY = {
    "00:1c.0 PCI bridge: Intel Corporation",
    "0002:01:00.0 Ethernet controller",
    "ffff:ff:1f.7 x",
    "01:20.0 bad device",
    "12345:00:00.0 big domain",
    "00: 86 80 c9 10 07 04 10 00 01 00 00 02 10 00 80 00",
    "10: 00 00 80 e0 00 00 00 e0 21 10 00 00 00 00 84 e0",
    "20: 00 00 00 00",
    "00 00 00 00 00 00 00 00",
    "30: 00 00 80 c7 40 00 00 00 00 00 00 00 0b 01 00 00 00",
    "fff: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
    "\tCapabilities: [40] MSI-X: Enable+ Count=1 Masked-",
    "",
    "\r",
    "zz: 00",
    "40:",
  };

  @Test
  void shouldParseArbitraryDumpTextOrSayWhereItIsBad() {
    Gen<String> texts =
        Gens.of(
            r -> {
              StringBuilder sb = new StringBuilder();
              int lines = r.nextInt(40);
              for (int i = 0; i < lines; i++) {
                if (r.nextInt(5) == 0) {
                  sb.append(randomRow(r));
                } else {
                  sb.append(LINE_VOCABULARY[r.nextInt(LINE_VOCABULARY.length)]);
                }
                sb.append(r.nextInt(10) == 0 ? "\r\n" : "\n");
              }
              return sb.toString();
            },
            s -> List.of());
    Property.forAll(texts, PciParsingRobustnessPropertyTest::parseOrParseException);
  }

  private static String randomRow(SplittableRandom r) {
    StringBuilder sb = new StringBuilder(Integer.toHexString(16 * r.nextInt(0x101)));
    if (sb.length() < 2) {
      sb.insert(0, '0');
    }
    sb.append(':');
    int n = r.nextInt(20);
    for (int i = 0; i < n; i++) {
      sb.append(String.format(java.util.Locale.ROOT, " %02x", r.nextInt(256)));
    }
    return sb.toString();
  }

  private static void parseOrParseException(String text) {
    try {
      List<PciDevice> devices = LspciDumpReader.parse("fuzz", text);
      for (PciDevice d : devices) {
        MsixLayout.inspect(d);
      }
    } catch (PciDumpParseException e) {
      assertTrue(e.getMessage().startsWith("fuzz"), e.getMessage());
      assertTrue(e.line() >= 1, "a text error names its line: " + e.getMessage());
    }
  }

  private static List<String> realDumps() {
    try {
      Path dir =
          Path.of(
              PciParsingRobustnessPropertyTest.class.getResource("/org/hvmmu/pci/dumps/").toURI());
      List<String> texts = new ArrayList<>();
      try (Stream<Path> files = Files.list(dir)) {
        for (Path p : files.filter(p -> p.toString().endsWith(".xxx.txt")).sorted().toList()) {
          texts.add(Files.readString(p, StandardCharsets.UTF_8));
        }
      }
      return texts;
    } catch (IOException | URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void shouldParseTruncatedAndCorruptedRealDumpsOrSayWhereTheyAreBad() {
    List<String> dumps = realDumps();
    Gen<String> corrupted =
        Gens.of(
            r -> {
              String text = dumps.get(r.nextInt(dumps.size()));
              int edits = 1 + r.nextInt(4);
              for (int k = 0; k < edits; k++) {
                text = corrupt(text, r);
              }
              return text;
            },
            s -> List.of());
    Property.forAll(corrupted, PciParsingRobustnessPropertyTest::parseOrParseException);
  }

  private static String corrupt(String text, SplittableRandom r) {
    if (text.isEmpty()) {
      return text;
    }
    int at = r.nextInt(text.length());
    return switch (r.nextInt(6)) {
      case 0 -> text.substring(0, at); // truncated
      case 1 ->
          text.substring(0, at) + text.substring(Math.min(text.length(), at + 1 + r.nextInt(60)));
      case 2 -> text.substring(0, at) + (char) r.nextInt(128) + text.substring(at + 1);
      case 3 -> text.substring(0, at) + "\n" + text.substring(at); // a line wrapped anywhere
      case 4 -> { // a line duplicated
        int start = text.lastIndexOf('\n', at) + 1;
        int end = text.indexOf('\n', at);
        String line = text.substring(start, end < 0 ? text.length() : end + 1);
        yield text.substring(0, start) + line + text.substring(start);
      }
      default -> text.substring(0, at) + "11 " + text.substring(at);
    };
  }

  @Test
  void shouldParseArbitraryResourceTextOrSayWhereItIsBad() {
    String[] vocabulary = {
      "0x0000000000000000 0x0000000000000000 0x0000000000000000",
      "0x00000000febd6000 0x00000000febd6fff 0x0000000000040200",
      "0x0000000000000000 0xffffffffffffffff 0x0",
      "0x10 0x0f 0x0",
      "0x 0x1 0x2",
      "0x1 0x2",
      "+1 0x2 0x3",
      "0x10000000000000000 0x1 0x2",
      "",
    };
    Gen<String> texts =
        Gens.of(
            r -> {
              StringBuilder sb = new StringBuilder();
              for (int i = r.nextInt(10); i > 0; i--) {
                sb.append(vocabulary[r.nextInt(vocabulary.length)]).append('\n');
              }
              return sb.toString();
            },
            s -> List.of());
    Property.forAll(
        texts,
        text -> {
          try {
            long[] sizes = SysfsReader.parseResourceSizes("resource", text);
            assertTrue(sizes.length == 6);
            for (long s : sizes) {
              assertTrue(s >= 0);
            }
          } catch (PciDumpParseException e) {
            assertTrue(e.line() >= 1 && e.line() <= 6, e.getMessage());
          }
        });
  }
}
