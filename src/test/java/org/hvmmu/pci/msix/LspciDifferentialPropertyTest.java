package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.hvmmu.pci.LspciDumpReader;
import org.hvmmu.pci.LspciVerboseText;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciRegs;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.Property;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Differential test against pciutils: random, well-formed configuration spaces (BARs of every kind,
 * capability chains in random order with MSI-X anywhere, noise bytes including 0x11 off the chain)
 * are written as {@code lspci -xxx} text, decoded by {@code lspci -F FILE -vvv} and by hvmmu, and
 * the MSI-X and BAR fields must agree. Skipped when {@code lspci} is not installed (Debian: {@code
 * apt-get install pciutils}). Each try spawns one process, so the try count is fixed at 40 whatever
 * {@code -Dhvmmu.tries} says.
 */
class LspciDifferentialPropertyTest {
  private static final int TRIES = 40;

  @BeforeAll
  static void requireLspci() {
    boolean present;
    try {
      Process p = new ProcessBuilder("lspci", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      present = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      present = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      present = false;
    }
    assumeTrue(
        present, "lspci (pciutils) is not installed: skipping the differential test against it");
  }

  /** A generated device: its 256 bytes and what the generator meant, for failure messages. */
  record Generated(byte[] config, String plan) {
    @Override
    public String toString() {
      return plan + "\n" + hexDump(config);
    }
  }

  private static final int[] HEADER_TYPES = {0x00, 0x80, 0x01, 0x81};

  /** Filler capabilities lspci decodes from their first bytes only: PM, vendor specific, SSVID. */
  private static final int[] FILLER_IDS = {0x01, 0x09, 0x0d, 0x00};

  static Generated generate(SplittableRandom r) {
    byte[] b = new byte[256];
    StringBuilder plan = new StringBuilder();
    for (int i = 0; i < 256; i++) {
      b[i] = (byte) (r.nextInt(10) == 0 ? 0x11 : r.nextInt(256));
    }
    int vendor = 0x0001 + r.nextInt(0xfffe);
    if (vendor == 0x1af4) {
      vendor = 0x1af5;
    }
    set16(b, PciRegs.VENDOR_ID, vendor);
    int headerType = HEADER_TYPES[r.nextInt(HEADER_TYPES.length)];
    b[PciRegs.HEADER_TYPE] = (byte) headerType;
    boolean capList = r.nextInt(10) != 0;
    int status = r.nextInt(0x10000) & ~PciRegs.STATUS_CAP_LIST;
    set16(b, PciRegs.STATUS, capList ? status | PciRegs.STATUS_CAP_LIST : status);
    plan.append("header 0x")
        .append(Integer.toHexString(headerType))
        .append(capList ? "" : " no-cap-list");

    int limit = PciRegs.barLimit(headerType & PciRegs.HEADER_TYPE_MASK);
    for (int i = 0; i < limit; i++) {
      long value;
      String kind;
      switch (r.nextInt(8)) {
        case 0 -> {
          value = 0;
          kind = "empty";
        }
        case 1 -> {
          value = randomAddress(r, 0xfffffffcL) | 0x1;
          kind = "io";
        }
        case 2 -> {
          value = randomAddress(r, 0xfffffff0L) | prefetch(r);
          kind = "mem32";
        }
        case 3 -> {
          value = randomAddress(r, 0x000ffff0L) | 0x2 | prefetch(r);
          kind = "mem1m";
        }
        case 4 -> {
          value = randomAddress(r, 0xfffffff0L) | 0x6 | prefetch(r);
          kind = "type3";
        }
        case 5 -> {
          value = 0xffffffffL;
          kind = "all-ones";
        }
        default -> {
          value = randomAddress(r, 0xfffffff0L) | 0x4 | prefetch(r);
          kind = i + 1 < limit ? "mem64" : "mem64-last-slot";
          if (i + 1 < limit) {
            set32(b, PciRegs.BASE_ADDRESS_0 + 4 * i, value);
            long high = r.nextInt(3) == 0 ? 0 : r.nextLong(0x100000000L);
            plan.append(", BAR").append(i).append(' ').append(kind);
            i++;
            set32(b, PciRegs.BASE_ADDRESS_0 + 4 * i, high);
            continue;
          }
        }
      }
      set32(b, PciRegs.BASE_ADDRESS_0 + 4 * i, value);
      plan.append(", BAR").append(i).append(' ').append(kind);
    }

    // Capabilities: distinct 16-byte slots from 0x40 to 0xf0, each shifted by 0 or 4 bytes.
    List<Integer> slots = new ArrayList<>();
    for (int at = 0x40; at <= 0xf0; at += 0x10) {
      slots.add(at);
    }
    Collections.shuffle(slots, new java.util.Random(r.nextLong()));
    int count = 1 + r.nextInt(6);
    boolean withMsix = r.nextInt(8) != 0;
    List<Integer> chain = new ArrayList<>();
    for (int k = 0; k < count; k++) {
      int at = slots.get(k) + (r.nextBoolean() ? 4 : 0);
      chain.add(at);
      boolean msix = withMsix && k == 0;
      if (msix) {
        b[at] = (byte) PciRegs.CAP_ID_MSIX;
        set16(b, at + 2, r.nextInt(0x10000));
        set32(b, at + 4, r.nextLong(0x100000000L));
        set32(b, at + 8, r.nextLong(0x100000000L));
      } else {
        int id = FILLER_IDS[r.nextInt(FILLER_IDS.length)];
        b[at] = (byte) id;
        if (id == 0x09) {
          b[at + 2] = (byte) (4 + r.nextInt(8));
        }
      }
    }
    Collections.shuffle(chain, new java.util.Random(r.nextLong()));
    // Pointers carry random low bits: both readers must mask them to dwords.
    b[PciRegs.CAPABILITY_LIST] = (byte) (chain.get(0) | r.nextInt(4));
    for (int k = 0; k < chain.size(); k++) {
      int next = k + 1 < chain.size() ? chain.get(k + 1) | r.nextInt(4) : 0;
      b[chain.get(k) + 1] = (byte) next;
    }
    plan.append(", caps");
    for (int at : chain) {
      plan.append(String.format(Locale.ROOT, " 0x%02x:%02x", at, b[at] & 0xff));
    }
    return new Generated(b, plan.toString());
  }

  private static long prefetch(SplittableRandom r) {
    return r.nextBoolean() ? PciRegs.BASE_ADDRESS_MEM_PREFETCH : 0;
  }

  /** An address under {@code mask}; a quarter of the time 0 (unassigned). */
  private static long randomAddress(SplittableRandom r, long mask) {
    return r.nextInt(4) == 0 ? 0 : r.nextLong(0x100000000L) & mask;
  }

  private static void set16(byte[] b, int at, int v) {
    b[at] = (byte) v;
    b[at + 1] = (byte) (v >>> 8);
  }

  private static void set32(byte[] b, int at, long v) {
    set16(b, at, (int) v);
    set16(b, at + 2, (int) (v >>> 16));
  }

  static String hexDump(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (int row = 0; row < b.length; row += 16) {
      sb.append(String.format(Locale.ROOT, "%02x:", row));
      for (int i = row; i < row + 16; i++) {
        sb.append(String.format(Locale.ROOT, " %02x", b[i] & 0xff));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static String runLspci(Path file) {
    try {
      Process p =
          new ProcessBuilder("lspci", "-F", file.toString(), "-vvv")
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "lspci did not finish");
      assertEquals(0, p.exitValue(), "lspci failed:\n" + out);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  void shouldDecodeMsixAndBarsAsLspciDoes(@TempDir Path dir) {
    Gen<Generated> devices = Gens.of(LspciDifferentialPropertyTest::generate, g -> List.of());
    Property.tries(TRIES)
        .forAll(
            devices,
            g -> {
              Path file = dir.resolve("dump.txt");
              String text =
                  String.format(
                          Locale.ROOT,
                          "00:01.0 Class ff00: Device %02x%02x:0000\n",
                          g.config()[1],
                          g.config()[0])
                      + hexDump(g.config());
              try {
                Files.writeString(file, text, StandardCharsets.US_ASCII);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
              List<PciDevice> ours = LspciDumpReader.read(file);
              assertEquals(1, ours.size());
              List<LspciVerboseText.Device> theirs = LspciVerboseText.parse(runLspci(file));
              assertEquals(1, theirs.size(), "lspci devices");
              assertEquals(theirs.get(0).address(), ours.get(0).address());
              LspciComparison.assertMsixMatches(ours.get(0), theirs.get(0), "generated");
              LspciComparison.assertBarsMatch(ours.get(0), theirs.get(0), "generated");
            });
  }

  /** This machine, if it has PCI devices and lspci: the same comparison on real hardware. */
  @Test
  void shouldDecodeThisMachineAsLspciDoes() throws IOException, InterruptedException {
    Path root = org.hvmmu.pci.SysfsReader.DEFAULT_DEVICES_DIR;
    assumeTrue(Files.isDirectory(root), "no " + root + " on this machine");
    List<PciDevice> ours = org.hvmmu.pci.SysfsReader.readDevices(root);
    Process p =
        new ProcessBuilder("lspci", "-D", "-vvv")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    List<LspciVerboseText.Device> theirs = LspciVerboseText.parse(out);
    assertEquals(ours.size(), theirs.size(), out);
    for (int i = 0; i < ours.size(); i++) {
      PciDevice d = ours.get(i);
      assertEquals(theirs.get(i).address(), d.address());
      if (d.config().size() <= 128) {
        continue; // unprivileged: lspci shows no capabilities, and neither can we
      }
      LspciComparison.assertMsixMatches(d, theirs.get(i), d.toString());
      LspciComparison.assertBarsMatch(d, theirs.get(i), d.toString());
    }
  }
}
