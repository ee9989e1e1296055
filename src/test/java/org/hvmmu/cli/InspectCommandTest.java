package org.hvmmu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.hvmmu.pci.LspciVerboseText;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code hvmmu inspect} on the bundled dumps, on sysfs trees and on bad input. Expected values come
 * from lspci's decoding of the same dumps ({@code .lspci-F-vvv.txt} in the PCI test resources) and
 * hand arithmetic, never from our own output.
 */
class InspectCommandTest {
  /** The result of one run. */
  record Run(int code, String out, String err) {}

  static Run run(Path devicesDir, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Main.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            devicesDir);
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static Run run(String... args) {
    return run(Path.of("/nonexistent/sys/bus/pci/devices"), args);
  }

  static Path testDumps() {
    try {
      return Path.of(InspectCommandTest.class.getResource("/org/hvmmu/pci/dumps/").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Path bundled(String name) {
    try {
      return Path.of(InspectCommandTest.class.getResource(DeviceSources.SAMPLES + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Stream<String> samples() throws IOException {
    return Files.readAllLines(bundled("INDEX")).stream().filter(l -> !l.isBlank());
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> obj(Object o) {
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o) {
    return (List<Object>) o;
  }

  static List<Map<String, Object>> devices(String json) {
    Map<String, Object> top = obj(StrictJson.parse(json));
    assertEquals(List.of("devices", "protection"), List.copyOf(top.keySet()));
    assertEquals(List.of("seed-2010", "xen-4.22", "hardened"),
        List.copyOf(obj(top.get("protection")).keySet()));
    List<Map<String, Object>> out = new ArrayList<>();
    for (Object d : list(top.get("devices"))) {
      out.add(obj(d));
    }
    return out;
  }

  static final List<String> DEVICE_KEYS =
      List.of("address", "vendorId", "deviceId", "headerType", "bars", "msix", "warnings");
  static final List<String> BAR_KEYS = List.of("index", "kind", "prefetchable", "address", "size");
  static final List<String> MSIX_KEYS =
      List.of("capOffset", "tableSize", "enabled", "functionMask", "table", "pba");
  static final List<String> REGION_KEYS =
      List.of("bir", "offset", "usable", "address", "firstFrame", "lastFrame");

  /** Every object has exactly the keys the issue lists, with values of the listed types. */
  static void assertShape(Map<String, Object> d) {
    assertEquals(DEVICE_KEYS, List.copyOf(d.keySet()));
    assertTrue(((String) d.get("address")).matches("[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]"));
    assertTrue(((String) d.get("vendorId")).matches("[0-9a-f]{4}"));
    assertTrue(((String) d.get("deviceId")).matches("[0-9a-f]{4}"));
    assertTrue(d.get("headerType") instanceof Long);
    for (Object b : list(d.get("bars"))) {
      Map<String, Object> bar = obj(b);
      assertEquals(BAR_KEYS, List.copyOf(bar.keySet()));
      assertTrue(bar.get("index") instanceof Long);
      assertTrue(List.of("io", "mem32", "mem1m", "mem64", "mem-reserved").contains(bar.get("kind")));
      assertTrue(bar.get("prefetchable") instanceof Boolean);
      assertTrue(((String) bar.get("address")).matches("0x[0-9a-f]+"));
      assertTrue(
          bar.get("size") == StrictJson.JSON_NULL
              || ((String) bar.get("size")).matches("0x[0-9a-f]+"));
    }
    if (d.get("msix") != StrictJson.JSON_NULL) {
      Map<String, Object> m = obj(d.get("msix"));
      assertEquals(MSIX_KEYS, List.copyOf(m.keySet()));
      assertTrue(((String) m.get("capOffset")).matches("0x[0-9a-f]+"));
      for (String region : List.of("table", "pba")) {
        Map<String, Object> r = obj(m.get(region));
        assertEquals(REGION_KEYS, List.copyOf(r.keySet()));
        assertTrue(r.get("bir") instanceof Long);
        assertTrue(((String) r.get("offset")).matches("0x[0-9a-f]+"));
        for (String k : List.of("address", "firstFrame", "lastFrame")) {
          assertTrue(
              r.get(k) == StrictJson.JSON_NULL || ((String) r.get(k)).matches("0x[0-9a-f]+"));
        }
      }
    }
    for (Object w : list(d.get("warnings"))) {
      assertTrue(w instanceof String);
    }
  }

  static long hexValue(Object s) {
    String text = (String) s;
    assertTrue(text.startsWith("0x"), text);
    return Long.parseUnsignedLong(text.substring(2), 16);
  }

  static String kindOf(String lspciWidth) {
    return switch (lspciWidth) {
      case "32-bit" -> "mem32";
      case "64-bit" -> "mem64";
      case "low-1M" -> "mem1m";
      case "type 3" -> "mem-reserved";
      default -> throw new AssertionError(lspciWidth);
    };
  }

  @ParameterizedTest
  @MethodSource("samples")
  void jsonOfEachBundledDumpShouldMatchLspci(String name) throws IOException {
    Run r = run("inspect", "--json", bundled(name).toString());
    assertEquals(0, r.code(), r.err());
    List<Map<String, Object>> devices = devices(r.out());
    assertEquals(1, devices.size());
    Map<String, Object> d = devices.get(0);
    assertShape(d);
    String base = name.substring(0, name.length() - ".xxx.txt".length());
    LspciVerboseText.Device want =
        LspciVerboseText.parse(
                Files.readString(testDumps().resolve(base + ".lspci-F-vvv.txt")))
            .get(0);
    assertEquals(want.address().toString(), d.get("address"));
    // The vendor:device pair is in the dump's file name, e.g. ..._8086-0d93.xxx.txt.
    String ids = base.substring(base.lastIndexOf('_') + 1);
    if (ids.matches("[0-9a-f]{4}-[0-9a-f]{4}")) {
      assertEquals(ids.substring(0, 4), d.get("vendorId"));
      assertEquals(ids.substring(5), d.get("deviceId"));
    }
    List<Map<String, Object>> bars = new ArrayList<>();
    list(d.get("bars")).forEach(b -> bars.add(obj(b)));
    for (LspciVerboseText.Region region : want.regions()) {
      Map<String, Object> bar =
          bars.stream().filter(b -> (Long) b.get("index") == region.index()).findFirst()
              .orElse(null);
      if (region.virtual()) {
        assertEquals(null, bar, name + ": virtual region " + region.index());
        continue;
      }
      if (bar == null) {
        // lspci -F lists a non-zero upper half of a 64-bit BAR as a region of its own.
        Map<String, Object> lower =
            bars.stream().filter(b -> (Long) b.get("index") == region.index() - 1).findFirst()
                .orElseThrow(() -> new AssertionError(name + ": no BAR " + region.index()));
        assertEquals("mem64", lower.get("kind"));
        continue;
      }
      assertEquals(region.io() ? "io" : kindOf(region.width()), bar.get("kind"), name);
      if (!region.io()) {
        assertEquals(region.prefetchable(), bar.get("prefetchable"), name);
      }
      if (region.hasAddress()) {
        assertEquals(region.address(), hexValue(bar.get("address")), name);
      }
      assertEquals(StrictJson.JSON_NULL, bar.get("size")); // a dump knows no sizes
    }
    LspciVerboseText.Msix msix = want.msix();
    if (msix == null) {
      assertEquals(StrictJson.JSON_NULL, d.get("msix"), name);
      return;
    }
    Map<String, Object> m = obj(d.get("msix"));
    assertEquals((long) msix.capOffset(), hexValue(m.get("capOffset")));
    assertEquals((long) msix.count(), m.get("tableSize"));
    assertEquals(msix.enabled(), m.get("enabled"));
    assertEquals(msix.masked(), m.get("functionMask"));
    checkRegion(name, want, obj(m.get("table")), msix.tableBir(), msix.tableOffset(),
        16L * msix.count());
    checkRegion(name, want, obj(m.get("pba")), msix.pbaBir(), msix.pbaOffset(),
        8L * ((msix.count() + 63) / 64));
  }

  /** Frames from lspci's region address + offset, and the length: (a + off) >> 12 .. (+ len - 1). */
  private static void checkRegion(String name, LspciVerboseText.Device want,
      Map<String, Object> r, int bir, long offset, long length) {
    assertEquals((long) bir, r.get("bir"));
    assertEquals(offset, hexValue(r.get("offset")));
    LspciVerboseText.Region region =
        want.regions().stream()
            .filter(x -> x.index() == bir && !x.virtual() && !x.io() && x.hasAddress()
                && x.address() != 0)
            .findFirst()
            .orElse(null);
    if (region == null) {
      // No usable memory BAR (EA, I/O, unassigned): no address, no frames.
      assertEquals(StrictJson.JSON_NULL, r.get("address"), name);
      assertEquals(StrictJson.JSON_NULL, r.get("firstFrame"), name);
      assertEquals(StrictJson.JSON_NULL, r.get("lastFrame"), name);
      return;
    }
    long address = region.address() + offset;
    assertEquals(address, hexValue(r.get("address")), name);
    assertEquals(address >>> 12, hexValue(r.get("firstFrame")), name);
    assertEquals((address + length - 1) >>> 12, hexValue(r.get("lastFrame")), name);
  }

  @Test
  void textShouldShowThe82576AsLspciDecodesIt() {
    Run r = run("inspect", bundled("pciutils_intel_82576_10c9.xxx.txt").toString());
    assertEquals(0, r.code(), r.err());
    // lspci: Region 3: Memory at e0840000 (32-bit, non-prefetchable); MSI-X [70] Count=10,
    // table BAR=3 offset 0, PBA BAR=3 offset 0x2000. Table 160 bytes: frame e0840; PBA 8 bytes:
    // frame e0842.
    String out = r.out().replaceAll(" +", " ");
    assertTrue(out.startsWith("0000:01:00.0 [8086:10c9] header type 0, from "), out);
    assertTrue(out.contains(" BAR 3 mem32 non-prefetchable 0xe0840000\n"), out);
    assertTrue(out.contains(" BAR 2 io 0x1020\n"), out);
    assertTrue(out.contains(" MSI-X at 0x70: 10 entries, enabled, function mask clear\n"), out);
    assertTrue(
        out.contains(" table BAR 3 + 0x0 = 0xe0840000 frames 0xe0840-0xe0840 (0xa0 bytes)\n"),
        out);
    assertTrue(
        out.contains(" PBA BAR 3 + 0x2000 = 0xe0842000 frames 0xe0842-0xe0842 (0x8 bytes)\n"),
        out);
    // Per preset, by hand. The seed has no prepare: dom0 enables vector 0 with the table base
    // it reads (0xe0840000, frame e0840), and the seed's read_pci_mem_bar keeps only BAR 3's flag
    // bits (0), so the PBA lands at 0 + 0x2000: frame 2 (reference 3.6 row 1). 4.22 and hardened
    // prepare: frames e0840 and e0842. Hardened protects exactly the table's 10 * 16 = 0xa0 bytes
    // and the PBA's 8 on those frames; the rest of each page stays writable.
    assertTrue(r.out().endsWith("""
        1 function, 1 with MSI-X. What each preset protects once dom0 has set MSI-X up:
          seed-2010  1 set up by their first vector's enable from dom0 (the seed has no prepare)
            r/o mmio ranges { 2, e0840 }
            sub-page: none (MSI-X frames wholly read-only)
          xen-4.22   1 set up by PHYSDEVOP_prepare_msix
            r/o mmio ranges { e0840, e0842 }
            sub-page: none (MSI-X frames wholly read-only)
          hardened   1 set up by PHYSDEVOP_prepare_msix
            r/o mmio ranges { e0840, e0842 }
            sub-page: only these bytes are read-only, the rest of the frame writable
              frame 0xe0840: 0xe0840000-0xe084009f (0xa0 of 0x1000 bytes)
              frame 0xe0842: 0xe0842000-0xe0842007 (0x8 of 0x1000 bytes)
        """), r.out());
  }

  @Test
  void jsonShouldGiveEachPresetsFramesAndSubpageBytes() {
    Run r = run("inspect", "--json", bundled("pciutils_intel_82576_10c9.xxx.txt").toString());
    assertEquals(0, r.code(), r.err());
    Map<String, Object> protection = obj(obj(StrictJson.parse(r.out())).get("protection"));
    Map<String, Object> seed = obj(protection.get("seed-2010"));
    assertEquals(List.of(List.of("0x2", "0x2"), List.of("0xe0840", "0xe0840")),
        seed.get("frames"));
    assertEquals(List.of(), seed.get("subpageBytes"));
    Map<String, Object> hardened = obj(protection.get("hardened"));
    assertEquals(List.of(List.of("0xe0840", "0xe0840"), List.of("0xe0842", "0xe0842")),
        hardened.get("frames"));
    assertEquals(List.of(List.of("0xe0840000", "0xe084009f"),
        List.of("0xe0842000", "0xe0842007")), hardened.get("subpageBytes"));
    assertEquals(List.of(), obj(protection.get("xen-4.22")).get("subpageBytes"));
  }

  @Test
  void withoutSysfsItShouldSayAndShowTheBundledSamples() throws IOException {
    Run r = run("--json");
    assertEquals(0, r.code());
    assertTrue(r.err().contains("/nonexistent/sys/bus/pci/devices not found"), r.err());
    assertTrue(r.err().contains("bundled sample dumps"), r.err());
    List<Map<String, Object>> devices = devices(r.out());
    assertEquals(samples().count(), devices.size());
    devices.forEach(InspectCommandTest::assertShape);
    Run text = run("inspect");
    assertEquals(0, text.code());
    // 13 of the 14 lspci decodings show an MSI-X capability; the Cavium's BAR 4 is provided by
    // Enhanced Allocation and reads 0, so 12 can be prepared.
    assertTrue(
        text.out().contains("14 functions, 13 with MSI-X. What each preset protects"), text.out());
    assertTrue(text.out().contains("  xen-4.22   12 set up by PHYSDEVOP_prepare_msix\n"),
        text.out());
    assertTrue(text.out().contains("  hardened   12 set up by PHYSDEVOP_prepare_msix\n"),
        text.out());
  }

  /** A sysfs-like tree: devices/0000:03:00.0/{config,resource} from a bundled dump's bytes. */
  private static Path sysfsTree(Path dir) throws IOException {
    // The 82576: BAR 0 e0800000 (128 KiB), BAR 1 e0000000 (4 MiB), BAR 2 I/O 1020 (32 ports),
    // BAR 3 e0840000 (16 KiB).
    String dump = Files.readString(bundled("pciutils_intel_82576_10c9.xxx.txt"));
    byte[] config = new byte[4096];
    for (String line : dump.split("\n")) {
      if (line.matches("[0-9a-f]{3}: .*")) {
        int offset = Integer.parseInt(line.substring(0, 3), 16);
        String[] bytes = line.substring(5).trim().split(" ");
        for (int i = 0; i < bytes.length; i++) {
          config[offset + i] = (byte) Integer.parseInt(bytes[i], 16);
        }
      } else if (line.matches("[0-9a-f]{2}: .*")) {
        int offset = Integer.parseInt(line.substring(0, 2), 16);
        String[] bytes = line.substring(4).trim().split(" ");
        for (int i = 0; i < bytes.length; i++) {
          config[offset + i] = (byte) Integer.parseInt(bytes[i], 16);
        }
      }
    }
    Path devices = dir.resolve("devices");
    Path dev = devices.resolve("0000:03:00.0");
    Files.createDirectories(dev);
    Files.write(dev.resolve("config"), config);
    Files.writeString(
        dev.resolve("resource"),
        "0x00000000e0800000 0x00000000e081ffff 0x0000000000040200\n"
            + "0x00000000e0000000 0x00000000e03fffff 0x0000000000040200\n"
            + "0x0000000000001020 0x000000000000103f 0x0000000000040101\n"
            + "0x00000000e0840000 0x00000000e0843fff 0x0000000000040200\n"
            + "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
            + "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
    Files.createDirectories(devices.resolve("not-a-device"));
    return devices;
  }

  @Test
  void shouldReadASysfsTreeADeviceDirectoryAndAConfigFile(@TempDir Path tmp) throws IOException {
    Path devices = sysfsTree(tmp);
    Path dev = devices.resolve("0000:03:00.0");
    for (String path : List.of(devices.toString(), dev.toString(), dev.resolve("config").toString())) {
      Run r = run("inspect", "--json", path);
      assertEquals(0, r.code(), r.err());
      List<Map<String, Object>> all = devices(r.out());
      assertEquals(1, all.size(), path);
      Map<String, Object> d = all.get(0);
      assertShape(d);
      assertEquals("0000:03:00.0", d.get("address"));
      Map<String, Object> bar3 = obj(list(d.get("bars")).get(3));
      assertEquals(3L, bar3.get("index"));
      assertEquals("0xe0840000", bar3.get("address"));
      assertEquals("0x4000", bar3.get("size")); // e0843fff - e0840000 + 1
      Map<String, Object> bar2 = obj(list(d.get("bars")).get(2));
      assertEquals("io", bar2.get("kind"));
      assertEquals("0x20", bar2.get("size"));
    }
    // The same tree as the default devices directory.
    Run r = run(devices, "--json");
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    assertEquals(1, devices(r.out()).size());
    // A bare config file outside sysfs gets address 0000:00:00.0.
    Path bare = tmp.resolve("copied-config.bin");
    Files.copy(dev.resolve("config"), bare);
    Map<String, Object> d = devices(run("--json", bare.toString()).out()).get(0);
    assertEquals("0000:00:00.0", d.get("address"));
    assertEquals("8086", d.get("vendorId"));
  }

  @Test
  void shouldInspectThisMachine() throws IOException {
    Path sys = Path.of("/sys/bus/pci/devices");
    assumeTrue(Files.isDirectory(sys), "no /sys/bus/pci/devices on this machine");
    List<Path> entries;
    try (Stream<Path> s = Files.list(sys)) {
      entries = s.sorted().toList();
    }
    assumeTrue(!entries.isEmpty(), "no PCI functions on this machine");
    Run r = run(sys, "--json");
    assertEquals(0, r.code(), r.err());
    List<Map<String, Object>> devices = devices(r.out());
    assertEquals(entries.size(), devices.size());
    for (int i = 0; i < devices.size(); i++) {
      Map<String, Object> d = devices.get(i);
      assertShape(d);
      Path entry = entries.get(i);
      assertEquals(entry.getFileName().toString(), d.get("address"));
      // sysfs's own vendor and device files, "0x8086\n".
      assertEquals(
          Files.readString(entry.resolve("vendor")).trim().substring(2).toLowerCase(Locale.ROOT),
          d.get("vendorId"));
      assertEquals(
          Files.readString(entry.resolve("device")).trim().substring(2).toLowerCase(Locale.ROOT),
          d.get("deviceId"));
    }
    Run text = run(sys, "inspect");
    assertEquals(0, text.code(), text.err());
    assertTrue(text.out().contains(entries.size() + " function"), text.out());
  }

  private static void assertCleanError(Run r, int code, String message) {
    assertEquals(code, r.code(), r.out() + r.err());
    assertTrue(r.err().contains(message), r.err());
    assertFalse(r.err().contains("Exception"), r.err());
    assertFalse(r.err().contains("\tat "), r.err());
  }

  @Test
  void badPathsShouldGiveAClearMessageAndExitCodeOne(@TempDir Path tmp) throws IOException {
    assertCleanError(
        run("inspect", tmp.resolve("missing.txt").toString()),
        1,
        "missing.txt: no such file or directory");
    Path truncated = tmp.resolve("truncated.xxx.txt");
    Files.writeString(truncated, "01:00.0 Ethernet\n00: 86 80 c9 10\n10: 00 00\n");
    assertCleanError(run(truncated.toString()), 1, "truncated.xxx.txt:2: row at 0x0 has 4 bytes");
    Path vvv = tmp.resolve("decoded.vvv.txt");
    Files.writeString(vvv, "01:00.0 Ethernet controller: Intel\n\tControl: I/O+\n");
    assertCleanError(run(vvv.toString()), 1, "no device hex dump found");
    assertCleanError(run(tmp.toString()), 1, "neither a PCI device directory");
    Path badConfig = tmp.resolve("config");
    Files.write(badConfig, new byte[100]);
    assertCleanError(run(badConfig.toString()), 1, "config file of 0x64 bytes");
    // A bad PATH does not hide the good ones.
    Run mixed =
        run("--json", tmp.resolve("missing").toString(),
            bundled("pciutils_intel_82576_10c9.xxx.txt").toString());
    assertEquals(1, mixed.code());
    assertEquals(1, devices(mixed.out()).size());
  }

  @Test
  void usageErrorsShouldExitWithTwo() {
    Run r = run("inspect", "--no-such-option");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("Unknown option: '--no-such-option'"), r.err());
    assertTrue(r.err().contains("Usage: hvmmu inspect"), r.err());
  }

  @Test
  void helpShouldListEveryCommand() {
    Run help = run("--help");
    assertEquals(0, help.code());
    assertTrue(help.out().contains("inspect"), help.out());
    assertTrue(help.out().contains("demo"), help.out());
    assertTrue(help.out().contains("replay"), help.out());
  }
}
