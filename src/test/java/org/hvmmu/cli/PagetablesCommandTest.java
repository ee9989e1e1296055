package org.hvmmu.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.hvmmu.cli.InspectCommandTest.Run;
import org.hvmmu.mmu.dump.GuestDump;
import org.hvmmu.mmu.dump.GuestDumps;
import org.hvmmu.mmu.dump.VcpuState;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code hvmmu pagetables}: byte-for-byte equality with QEMU 7.2's {@code info tlb} for every vCPU
 * of the real guests, translations against QEMU's {@code gva2gpa}, the JSON forms, and raw images
 * built here (32-bit paging with 4 MiB pages, EPT and NPT with faults, {@code --mmio-ro}) whose
 * expected output was worked out by hand from the SDM and QEMU's {@code monitor.c}.
 */
class PagetablesCommandTest {
  static Run run(String... args) {
    return InspectCommandTest.run(args);
  }

  /** Runs with {@code input} as standard input (Main gives the command System.in). */
  static synchronized Run runWithStdin(String input, String... args) {
    InputStream saved = System.in;
    System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
    try {
      return run(args);
    } finally {
      System.setIn(saved);
    }
  }

  static Path guests() {
    try {
      java.net.URL url = PagetablesCommandTest.class.getResource("/org/hvmmu/mmu/guests");
      return url == null ? null : Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] gunzip(Path file) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
      return in.readAllBytes();
    }
  }

  /** One vCPU of a guest: its directory and index. */
  record GuestCpu(Path dir, int cpu) {
    @Override
    public String toString() {
      return dir.getFileName() + " cpu" + cpu;
    }
  }

  static List<GuestCpu> guestCpus(String prefix) throws IOException {
    Path g = guests();
    List<GuestCpu> out = new ArrayList<>();
    if (g == null) {
      return out;
    }
    Pattern name = Pattern.compile(Pattern.quote(prefix) + "(\\d+)\\.txt(\\.gz)?");
    try (Stream<Path> dirs = Files.list(g)) {
      for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
        try (Stream<Path> files = Files.list(dir)) {
          for (Path f : files.sorted().toList()) {
            Matcher m = name.matcher(f.getFileName().toString());
            if (m.matches()) {
              out.add(new GuestCpu(dir, Integer.parseInt(m.group(1))));
            }
          }
        }
      }
    }
    return out;
  }

  // ---- the acceptance test: QEMU's info tlb, byte for byte --------------------------------------

  @TestFactory
  Stream<DynamicTest> listingShouldEqualQemuInfoTlbByteForByte() throws IOException {
    List<GuestCpu> cpus = guestCpus("info-tlb-cpu");
    Assumptions.assumeFalse(cpus.isEmpty(), "no QEMU guests on the class path");
    List<DynamicTest> tests = new ArrayList<>();
    for (GuestCpu gc : cpus) {
      try (Stream<Path> files = Files.list(gc.dir())) {
        for (Path core : files.filter(f -> f.getFileName().toString().matches("core.*\\.elf\\.gz"))
            .sorted().toList()) {
          tests.add(DynamicTest.dynamicTest(gc + " " + core.getFileName(), () -> {
            byte[] expected = gunzip(gc.dir().resolve("info-tlb-cpu" + gc.cpu() + ".txt.gz"));
            Run r = run("pagetables", "--vcpu", Integer.toString(gc.cpu()), core.toString());
            assertEquals("", r.err());
            assertEquals(0, r.code());
            byte[] actual = r.out().getBytes(StandardCharsets.UTF_8);
            if (!java.util.Arrays.equals(expected, actual)) {
              assertEquals(new String(expected, StandardCharsets.UTF_8), r.out(), gc.toString());
            }
            assertArrayEquals(expected, actual);
          }));
        }
      }
    }
    return tests.stream();
  }

  // ---- translations against QEMU's gva2gpa ------------------------------------------------------

  static final Pattern GVA2GPA =
      Pattern.compile("(0x[0-9a-f]+) -> (gpa: (0x[0-9a-f]+|0)|Unmapped)");

  /** A gva2gpa line: the address and QEMU's answer (-1 for Unmapped). */
  record Answer(long la, long gpa) {}

  static List<Answer> answers(GuestCpu gc) throws IOException {
    List<Answer> out = new ArrayList<>();
    for (String line : Files.readAllLines(gc.dir().resolve("gva2gpa-cpu" + gc.cpu() + ".txt"))) {
      Matcher m = GVA2GPA.matcher(line);
      assertTrue(m.matches(), line);
      long gpa = m.group(3) == null ? -1 : Long.decode(m.group(3));
      out.add(new Answer(Long.parseUnsignedLong(m.group(1).substring(2), 16), gpa));
    }
    return out;
  }

  /** A user read below the kernel half (bit 63 clear; below 0xc0000000 in 32-bit guests). */
  static String access(long la, boolean wide) {
    return (wide ? la >= 0 : la < 0xC000_0000L) ? "ru" : "rs";
  }

  /**
   * The QEMU cores with the accessed flag that QEMU's TCG sets in PAE PDPTEs cleared (it is a
   * reserved bit there, SDM vol. 3A table 4-8, so a faithful vCPU raises #GP loading them): the
   * PDPTs are found by their bytes in the decompressed core.
   */
  static Path withoutPdpteAccessedFlags(Path core, Path dir) throws IOException {
    GuestDump dump = GuestDumps.read(core);
    byte[] bytes = gunzip(core);
    List<byte[]> patterns = new ArrayList<>();
    for (VcpuState s : dump.vcpus()) {
      long pdpt = s.cr3() & 0xFFFF_FFE0L;
      byte[] pattern = new byte[32];
      for (int i = 0; i < 4; i++) {
        long e = dump.memory().read(pdpt + 8 * i, 8);
        for (int b = 0; b < 8; b++) {
          pattern[8 * i + b] = (byte) (e >>> (8 * b));
        }
      }
      patterns.add(pattern);
    }
    int[] found = new int[patterns.size()];
    for (int at = 0; at + 32 <= bytes.length; at++) {
      for (int p = 0; p < patterns.size(); p++) {
        if (java.util.Arrays.equals(bytes, at, at + 32, patterns.get(p), 0, 32)) {
          found[p]++;
        }
      }
    }
    for (int p = 0; p < patterns.size(); p++) {
      assertTrue(found[p] > 0, "the PDPT of cpu " + p + " in the core's bytes");
    }
    for (int at = 0; at + 32 <= bytes.length; at++) {
      for (byte[] pattern : patterns) {
        if (java.util.Arrays.equals(bytes, at, at + 32, pattern, 0, 32)) {
          for (int i = 0; i < 4; i++) {
            bytes[at + 8 * i] &= (byte) ~0x20;
          }
        }
      }
    }
    Path out = dir.resolve(core.getParent().getFileName() + "-pdpte-a-cleared.elf.gz");
    try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(out))) {
      o.write(bytes);
    }
    return out;
  }

  @TestFactory
  Stream<DynamicTest> translationsShouldGiveWhatQemuGva2gpaGave(@TempDir Path tmp)
      throws IOException {
    List<GuestCpu> cpus = guestCpus("gva2gpa-cpu");
    Assumptions.assumeFalse(cpus.isEmpty(), "no QEMU guests on the class path");
    return cpus.stream().map(gc -> DynamicTest.dynamicTest(gc.toString(), () -> {
      Path core = gc.dir().resolve("core.elf.gz");
      GuestDump dump = GuestDumps.read(core);
      VcpuState s = dump.vcpus().get(gc.cpu());
      boolean wide = s.longMode();
      boolean la57 = (s.cr4() & 0x1000) != 0;
      List<Answer> answers = answers(gc);
      List<String> args = new ArrayList<>(List.of("pagetables", "--translate", "--vcpu",
          Integer.toString(gc.cpu())));
      for (Answer a : answers) {
        args.add("0x" + Long.toHexString(a.la()) + ":" + access(a.la(), wide));
      }
      Run original = run(concat(args, core.toString()));
      assertEquals(0, original.code(), original.err());
      if (!wide && (s.cr4() & 0x20) != 0) {
        // PAE: QEMU set the reserved accessed flag in the PDPTEs; the vCPU says so and faults.
        assertEquals("hvmmu pagetables: note: loading the PAE PDPTEs from CR3 raised #GP (a"
            + " present PDPTE has reserved bits set, such as bit 5, the accessed flag that QEMU's"
            + " TCG sets; --qemu-tcg tolerates it); every translation sees non-present PDPTEs\n",
            original.err());
        for (String line : original.out().lines().toList()) {
          assertTrue(line.matches("0x[0-9a-f]{16} r[us] -> #PF 0x[04]"), line);
        }
        // --qemu-tcg on QEMU's core answers as the core with the flags cleared does.
        Run tolerant = run(args(args, "--qemu-tcg", core.toString()));
        assertEquals("", tolerant.err());
        core = withoutPdpteAccessedFlags(core, tmp);
        assertEquals(run(concat(args, core.toString())).out(), tolerant.out());
      }
      Run r = run(concat(args, core.toString()));
      assertEquals("", r.err());
      assertEquals(0, r.code());
      Run json = run(args(args, "--json", core.toString()));
      assertEquals(0, json.code(), json.err());
      List<String> lines = r.out().lines().toList();
      List<String> objects = json.out().lines().toList();
      assertEquals(answers.size(), lines.size(), r.out());
      assertEquals(answers.size(), objects.size(), json.out());
      Pattern mapped = Pattern.compile("0x([0-9a-f]{16}) (r[us]) -> 0x([0-9a-f]+) (4K|2M|4M|1G)");
      Pattern unmapped = Pattern.compile("0x([0-9a-f]{16}) (r[us]) -> #PF 0x([0-9a-f]+)");
      for (int i = 0; i < answers.size(); i++) {
        Answer a = answers.get(i);
        String line = lines.get(i);
        Map<String, Object> o = InspectCommandTest.obj(StrictJson.parse(objects.get(i)));
        assertEquals(List.of("la", "access", "pa", "pageSize", "fault", "errorCode", "gpa"),
            List.copyOf(o.keySet()));
        assertEquals(a.la(), InspectCommandTest.hexValue(o.get("la")));
        assertEquals(access(a.la(), wide), o.get("access"));
        assertEquals(StrictJson.JSON_NULL, o.get("gpa"));
        int bits = la57 ? 57 : 48;
        boolean canonical = !wide || (a.la() << (64 - bits)) >> (64 - bits) == a.la();
        if (a.gpa() >= 0) {
          Matcher m = mapped.matcher(line);
          assertTrue(m.matches(), line);
          assertEquals(a.la(), Long.parseUnsignedLong(m.group(1), 16), line);
          assertEquals(a.gpa(), Long.parseLong(m.group(3), 16), line);
          assertEquals(a.gpa(), InspectCommandTest.hexValue(o.get("pa")));
          assertEquals(StrictJson.JSON_NULL, o.get("fault"));
          assertEquals(StrictJson.JSON_NULL, o.get("errorCode"));
          long size = InspectCommandTest.hexValue(o.get("pageSize"));
          assertEquals(m.group(4), PagetablesCommand.size(Long.numberOfTrailingZeros(size)));
        } else if (!canonical) {
          // gva2gpa says Unmapped for a non-canonical address; the vCPU raises #GP.
          assertEquals(String.format(java.util.Locale.ROOT, "0x%016x %s -> #GP", a.la(),
              access(a.la(), wide)), line);
          assertEquals("#GP", o.get("fault"));
          assertEquals("0x0", o.get("errorCode"));
          assertEquals(StrictJson.JSON_NULL, o.get("pa"));
        } else {
          Matcher m = unmapped.matcher(line);
          assertTrue(m.matches(), line);
          long code = Long.parseLong(m.group(3), 16);
          assertEquals(0, code & 1, "a not-present #PF (P = 0): " + line);
          assertEquals(m.group(2).equals("ru") ? 4 : 0, code & 4, line);
          assertEquals("#PF", o.get("fault"));
          assertEquals(code, InspectCommandTest.hexValue(o.get("errorCode")));
          assertEquals(StrictJson.JSON_NULL, o.get("pageSize"));
        }
      }
      // The same tokens from stdin, whitespace-separated over several lines, give the same lines.
      StringBuilder stdin = new StringBuilder();
      for (int i = 4; i < args.size(); i++) {
        stdin.append(args.get(i)).append(i % 3 == 0 ? "\n" : " \t ");
      }
      Run piped = runWithStdin(stdin.toString(), "pagetables", "--translate", "--vcpu",
          Integer.toString(gc.cpu()), "-", core.toString());
      assertEquals("", piped.err());
      assertEquals(r.out(), piped.out());
    }));
  }

  static String[] concat(List<String> list, String... more) {
    List<String> all = new ArrayList<>(list);
    all.addAll(List.of(more));
    return all.toArray(new String[0]);
  }

  // ---- JSON listing -----------------------------------------------------------------------------

  static final List<String> LISTING_KEYS =
      List.of("la", "pa", "pageSize", "entry", "rw", "us", "nx", "writable");

  /** The JSON listing of the PAE guest: one object per QEMU line, with the same values. */
  @Test
  void jsonListingShouldDescribeTheSameMappingsAsQemu() throws IOException {
    Path g = guests();
    Assumptions.assumeTrue(g != null && Files.exists(g.resolve("linux-pae/core.elf.gz")));
    Path dir = g.resolve("linux-pae");
    List<String> qemu = new String(gunzip(dir.resolve("info-tlb-cpu0.txt.gz")),
        StandardCharsets.UTF_8).lines().toList();
    Run r = run("pagetables", "--json", dir.resolve("core.elf.gz").toString());
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    assertTrue(r.out().endsWith("}\n"));
    List<String> lines = r.out().lines().toList();
    assertEquals(qemu.size(), lines.size());
    int nx = 0;
    for (int i = 0; i < lines.size(); i++) {
      Map<String, Object> o = InspectCommandTest.obj(StrictJson.parse(lines.get(i)));
      assertEquals(LISTING_KEYS, List.copyOf(o.keySet()));
      String[] q = qemu.get(i).split("[: ]+");
      long entry = InspectCommandTest.hexValue(o.get("entry"));
      long size = InspectCommandTest.hexValue(o.get("pageSize"));
      long shown = Long.parseUnsignedLong(q[1], 16);
      assertEquals(Long.parseUnsignedLong(q[0], 16), InspectCommandTest.hexValue(o.get("la")));
      // PAE: QEMU shows entry & ~0xfff (4 KiB, bit 7 cleared) or & ~0xfffff (2 MiB), XD included.
      assertEquals(shown, size == 0x1000 ? entry & ~0xFFFL & ~0x80L : entry & ~0xF_FFFFL);
      assertEquals(shown & 0x000F_FFFF_FFFF_FFFFL & -size,
          InspectCommandTest.hexValue(o.get("pa")));
      if (o.get("rw").equals(true)) {
        assertEquals('W', q[2].charAt(8)); // R/W at every level implies R/W in the leaf
      }
      if (o.get("us").equals(true)) {
        assertEquals('U', q[2].charAt(7));
      }
      if (q[2].charAt(0) == 'X') {
        assertEquals(true, o.get("nx"));
        nx++;
      }
      assertEquals(o.get("rw"), o.get("writable")); // CR0.WP is set
    }
    assertTrue(nx > 0, "the PAE guest has execute-disable pages");
  }

  // ---- raw images built here --------------------------------------------------------------------

  /** A raw physical image under construction: little-endian entries at physical addresses. */
  static final class Image {
    final byte[] bytes;

    Image(int size) {
      bytes = new byte[size];
    }

    Image put(long pa, int size, long value) {
      for (int i = 0; i < size; i++) {
        bytes[(int) pa + i] = (byte) (value >>> (8 * i));
      }
      return this;
    }

    Image put32(long pa, long value) {
      return put(pa, 4, value);
    }

    Image put64(long pa, long value) {
      return put(pa, 8, value);
    }

    Path write(Path dir, String name) throws IOException {
      Path p = dir.resolve(name);
      Files.write(p, bytes);
      return p;
    }
  }

  /**
   * 32-bit paging, PD at 0x1000, in a 64 KiB image:
   *
   * <ul>
   *   <li>PD[0] = 0x2027 -> PT 0x2000 [1] = 0x51f7 (P RW US PCD A D PAT G): QEMU clears bit 7 of a
   *       4 KiB entry, so the flags are -G-DAC-UW and the address 0x5000; la 0x1000.
   *   <li>PD[1] = 0x6060a9 (P PWT A PS, reserved bit 21, PSE-36 bits 20:13 = 0x03): a 4 MiB page at
   *       la 0x400000; QEMU prints pde &amp; 0xffe00000 = 0x600000 (bit 21 shows, bits 20:13 do
   *       not) and --P-A-T--. Its physical address is 0x300400000.
   *   <li>PD[2] = 0x3081 (P PS; bit 13 is PSE-36 address bit 32): la 0x800000, shown 0, --P------;
   *       physical 0x100000000. Without CR4.PSE it is a table at 0x3000, whose [0x3ff] = 0x9005
   *       maps 0x9000 at la 0xbff000 (-------U-).
   *   <li>PD[3] = 0xffc00083: 4 MiB at 0xffc00000, la 0xc00000, --P-----W.
   * </ul>
   */
  static Image image32() {
    return new Image(0x10000)
        .put32(0x1000, 0x2027)
        .put32(0x2000 + 4, 0x51F7)
        .put32(0x1000 + 4, 0x6060A9)
        .put32(0x1000 + 8, 0x3081)
        .put32(0x3000 + 0x3FF * 4, 0x9005)
        .put32(0x1000 + 12, 0xFFC0_0083L);
  }

  static final String QEMU_32_PSE = ""
      + "0000000000001000: 0000000000005000 -G-DAC-UW\n"
      + "0000000000400000: 0000000000600000 --P-A-T--\n"
      + "0000000000800000: 0000000000000000 --P------\n"
      + "0000000000c00000: 00000000ffc00000 --P-----W\n";

  @Test
  void shouldListA32BitRawImageInQemuFormat(@TempDir Path dir) throws IOException {
    Path img = image32().write(dir, "pmem32.bin");
    Run pse = run("pagetables", "--cr3", "0x1000", "--cr4", "0x10", img.toString());
    assertEquals("", pse.err());
    assertEquals(0, pse.code());
    assertEquals(QEMU_32_PSE, pse.out());
    // Without CR4.PSE the PS PDEs are tables: 0x606000 and 0xffc00000 are outside the image.
    Run noPse = run("pagetables", "--cr3", "4096", img.toString());
    assertEquals(0, noPse.code());
    assertEquals(""
        + "0000000000001000: 0000000000005000 -G-DAC-UW\n"
        + "0000000000bff000: 0000000000009000 -------U-\n", noPse.out());
    assertEquals("hvmmu pagetables: note: 2 tables outside RAM or not mapped by the nested tables"
        + " read as empty (QEMU reads unassigned memory as zeros)\n", noPse.err());
    // Paging off: QEMU's words.
    Run off = run("pagetables", "--cr3", "0x1000", "--cr0", "1", img.toString());
    assertEquals("PG disabled\n", off.out());
    assertEquals(0, off.code());
    Run offJson = run("pagetables", "--json", "--cr3", "0x1000", "--cr0", "1", img.toString());
    assertEquals("", offJson.out());
  }

  @Test
  void shouldListA32BitRawImageAsJsonLines(@TempDir Path dir) throws IOException {
    Path img = image32().write(dir, "pmem32.bin");
    Run r = run("pagetables", "--json", "--cr3", "0x1000", "--cr4", "0x10", img.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(""
        + "{\"la\":\"0x1000\",\"pa\":\"0x5000\",\"pageSize\":\"0x1000\",\"entry\":\"0x51f7\","
        + "\"rw\":true,\"us\":true,\"nx\":false,\"writable\":true}\n"
        + "{\"la\":\"0x400000\",\"pa\":\"0x300400000\",\"pageSize\":\"0x400000\","
        + "\"entry\":\"0x6060a9\",\"rw\":false,\"us\":false,\"nx\":false,\"writable\":false}\n"
        + "{\"la\":\"0x800000\",\"pa\":\"0x100000000\",\"pageSize\":\"0x400000\","
        + "\"entry\":\"0x3081\",\"rw\":false,\"us\":false,\"nx\":false,\"writable\":false}\n"
        + "{\"la\":\"0xc00000\",\"pa\":\"0xffc00000\",\"pageSize\":\"0x400000\","
        + "\"entry\":\"0xffc00083\",\"rw\":true,\"us\":false,\"nx\":false,\"writable\":true}\n",
        r.out());
    for (String line : r.out().lines().toList()) {
      assertEquals(LISTING_KEYS, List.copyOf(InspectCommandTest.obj(StrictJson.parse(line))
          .keySet()));
    }
  }

  /**
   * Translations in the 32-bit image (CR0 0x80010001: WP set; CR4.PSE): a user write through the
   * PT; the 4 MiB page with reserved bit 21 (#PF P|RSVD = 0x9); a supervisor write to a read-only
   * page (#PF P|W = 0x3, WP is set) and the read of it (PSE-36: 0x100000010); a user read of a
   * supervisor page (#PF P|U = 0x5); a not-present PDE (#PF 0 for a supervisor read, 0x6 for a
   * user write).
   */
  @Test
  void shouldTranslateIn32BitPaging(@TempDir Path dir) throws IOException {
    Path img = image32().write(dir, "pmem32.bin");
    Run r = run("pagetables", "--translate", "--cr3", "0x1000", "--cr4", "0x10", "0x1abc:wu",
        "0x400123:rs", "0x800010:ws", "0x800010:rs", "0xc00000:ru", "16777216:rs",
        "0x1000000:wu", "0xc0babc:xs", img.toString());
    assertEquals("", r.err());
    assertEquals(0, r.code());
    assertEquals(""
        + "0x0000000000001abc wu -> 0x5abc 4K\n"
        + "0x0000000000400123 rs -> #PF 0x9\n"
        + "0x0000000000800010 ws -> #PF 0x3\n"
        + "0x0000000000800010 rs -> 0x100000010 4M\n"
        + "0x0000000000c00000 ru -> #PF 0x5\n"
        + "0x0000000001000000 rs -> #PF 0x0\n"
        + "0x0000000001000000 wu -> #PF 0x6\n"
        + "0x0000000000c0babc xs -> 0xffc0babc 4M\n", r.out());
    // CR0.WP clear: the supervisor write goes through.
    Run wp = run("pagetables", "--translate", "--cr0", "0x80000001", "--cr3", "0x1000", "--cr4",
        "0x10", "0x800010:ws", img.toString());
    assertEquals("0x0000000000800010 ws -> 0x100000010 4M\n", wp.out());
  }

  /**
   * {@code --mmio-ro 0x5,0xffc00-0xffc01,0x100000}: the 4 KiB page of frame 5 (R/W in PDE and PTE)
   * and the 4 MiB page at 0xffc00000 (R/W) are writable; the 4 MiB page at 0x100000000 (no R/W) is
   * read-only. Writable ones first, each group in walk order; the QEMU listing above is unchanged.
   */
  @Test
  void shouldFlagMappingsOfMmioRoFramesWritableFirst(@TempDir Path dir) throws IOException {
    Path img = image32().write(dir, "pmem32.bin");
    Run r = run("pagetables", "--cr3", "0x1000", "--cr4", "0x10", "--mmio-ro",
        "0x5,0xffc00-0xffc01,0x100000,0xffc01", img.toString());
    assertEquals("", r.err());
    assertEquals(0, r.code());
    assertEquals(QEMU_32_PSE
        + "\n"
        + "mmio-ro frames { 5, ffc00-ffc01, 100000 }, mappings writable first:\n"
        + "0x0000000000001000 -> 0x5000 4K WRITABLE\n"
        + "0x0000000000c00000 -> 0xffc00000 4M WRITABLE\n"
        + "0x0000000000800000 -> 0x100000000 4M read-only\n"
        + "3 mappings, 2 writable\n", r.out());
    // CR0.WP clear: supervisor writes ignore R/W, so every mapping is writable.
    Run wp = run("pagetables", "--cr0", "0x80000001", "--cr3", "0x1000", "--cr4", "0x10",
        "--mmio-ro", "0x100000", img.toString());
    assertTrue(wp.out().endsWith("mappings writable first:\n"
        + "0x0000000000800000 -> 0x100000000 4M WRITABLE\n"
        + "1 mapping, 1 writable\n"), wp.out());
    Run none = run("pagetables", "--cr3", "0x1000", "--cr4", "0x10", "--mmio-ro", "0x77",
        img.toString());
    assertTrue(none.out().endsWith("\nmmio-ro frames { 77 }, mappings writable first:\n"
        + "no mappings\n"), none.out());
    // JSON: one more key per object.
    Run json = run("pagetables", "--json", "--cr3", "0x1000", "--cr4", "0x10", "--mmio-ro", "5",
        img.toString());
    List<String> lines = json.out().lines().toList();
    assertEquals(4, lines.size());
    List<Boolean> flagged = new ArrayList<>();
    for (String line : lines) {
      Map<String, Object> o = InspectCommandTest.obj(StrictJson.parse(line));
      List<String> keys = new ArrayList<>(LISTING_KEYS);
      keys.add("mmioRo");
      assertEquals(keys, List.copyOf(o.keySet()));
      flagged.add((Boolean) o.get("mmioRo"));
    }
    assertEquals(List.of(true, false, false, false), flagged);
    // Translation marks results in those frames.
    Run t = run("pagetables", "--translate", "--cr3", "0x1000", "--cr4", "0x10", "--mmio-ro",
        "0x5", "0x1abc:wu", "0xc00000:rs", img.toString());
    assertEquals("0x0000000000001abc wu -> 0x5abc 4K MMIO-RO\n"
        + "0x0000000000c00000 rs -> 0xffc00000 4M\n", t.out());
    Run tj = run("pagetables", "--translate", "--json", "--cr3", "0x1000", "--cr4", "0x10",
        "--mmio-ro", "0x5", "0x1abc:wu", img.toString());
    assertEquals("{\"la\":\"0x1abc\",\"access\":\"wu\",\"pa\":\"0x5abc\",\"pageSize\":\"0x1000\","
        + "\"fault\":null,\"errorCode\":null,\"gpa\":null,\"mmioRo\":true}\n", tj.out());
  }

  /**
   * A 4-level guest on EPT or NPT, in a 192 KiB image. Guest tables at GPA 0x1000 (PML4), 0x2000
   * (PDPT), 0x3000 (PD), 0x4000 (PT), stored at HPA GPA + 0x20000; PML4[0] = 0x2007, PML4[1] =
   * 0x400007 (a PDPT at GPA 0x400000, which the nested tables do not map), PDPT[0] = 0x3007, PD[2]
   * = 0x4007, PT[0] = 0x5007 (la 0x400000 -> GPA 0x5000), PT[1] = 0x6007 (la 0x401000 -> GPA
   * 0x6000), PT[2] = 0x300007 (la 0x402000 -> GPA 0x300000, not mapped). Nested tables from HPA
   * 0x10000: PML4 0x10000 -> PDPT 0x11000 -> PD 0x12000 -> PT 0x13000, whose entries 1-4 map GPA
   * 0x1000-0x4000 to HPA 0x21000-0x24000 with full rights; entry 5 maps GPA 0x5000 to HPA 0x25000
   * read-only; entry 6 (GPA 0x6000) is {@code sixth}.
   */
  static Image nestedImage(boolean ept, long sixth) {
    long off = 0x20000;
    Image im = new Image(0x30000)
        .put64(off + 0x1000, 0x2007)
        .put64(off + 0x1008, 0x40_0007L)
        .put64(off + 0x2000, 0x3007)
        .put64(off + 0x3000 + 2 * 8, 0x4007)
        .put64(off + 0x4000, 0x5007)
        .put64(off + 0x4008, 0x6007)
        .put64(off + 0x4010, 0x30_0007L)
        .put64(0x10000, 0x11007)
        .put64(0x11000, 0x12007)
        .put64(0x12000, 0x13007);
    long full = ept ? 0x37 : 0x7; // EPT: RWX, write-back; NPT: P RW US
    for (int i = 1; i <= 4; i++) {
      im.put64(0x13000 + 8 * i, (off + ((long) i << 12)) | full);
    }
    im.put64(0x13000 + 8 * 5, (off + 0x5000) | (ept ? 0x31 : 0x5)); // read-only
    im.put64(0x13000 + 8 * 6, sixth);
    return im;
  }

  static final String[] LONG_MODE = {"--cr3", "0x1000", "--cr4", "0x20", "--efer", "0xd01"};

  /**
   * EPT (EPTP 0x1001e: root 0x10000, write-back, 4 levels). The Intel vCPU has mode-based execute
   * control and advanced EPT exit information. Qualifications, bit by bit (SDM vol. 3C table 27-7):
   *
   * <ul>
   *   <li>0x400010:ru: read-only EPT page, a read: HPA 0x25010, GPA 0x5010.
   *   <li>0x400010:wu: a write (bit 1), the EPT entries allow read only (bit 3), the linear address
   *       is valid (bit 7) and this is the access to the translation (bit 8); advanced information:
   *       user (bit 9), writable (bit 10): 0x2 | 0x8 | 0x80 | 0x100 | 0x200 | 0x400 = 0x78a; GPA
   *       0x5010.
   *   <li>0x401000:ru: GPA 0x6000's EPT entry is 0x32, write without read: EPT misconfiguration.
   *   <li>0x402004:ru: GPA 0x300004 is not mapped (EPT PD[1] absent): a read (bit 0), no
   *       permission bits, 0x80 | 0x100 | 0x200 | 0x400: 0x781.
   *   <li>0x8000000000:rs: the guest's PDPT at GPA 0x400000 is not mapped: a read of a guest
   *       paging-structure entry (bits 0 and 7, not 8, no advanced information): 0x81, GPA
   *       0x400000.
   *   <li>0x600000:ru: guest PD[3] is not present: #PF U = 0x4.
   *   <li>0x800000000000:rsk: not canonical, through SS: #SS.
   * </ul>
   */
  @Test
  void shouldTranslateThroughEptWithViolationsAndMisconfigurations(@TempDir Path dir)
      throws IOException {
    Path img = nestedImage(true, (0x20000 + 0x6000) | 0x32).write(dir, "ept.bin");
    String[] addresses = {"0x400010:ru", "0x400010:wu", "0x401000:ru", "0x402004:ru",
        "0x8000000000:rs", "0x600000:ru", "0x800000000000:rsk"};
    Run r = run(args("pagetables", "--translate", "--eptp", "0x1001e", LONG_MODE, addresses,
        img.toString()));
    assertEquals("", r.err());
    assertEquals(0, r.code());
    assertEquals(""
        + "0x0000000000400010 ru -> 0x25010 4K\n"
        + "0x0000000000400010 wu -> EPT violation 0x78a 0x5010\n"
        + "0x0000000000401000 ru -> EPT misconfig 0x6000\n"
        + "0x0000000000402004 ru -> EPT violation 0x781 0x300004\n"
        + "0x0000008000000000 rs -> EPT violation 0x81 0x400000\n"
        + "0x0000000000600000 ru -> #PF 0x4\n"
        + "0x0000800000000000 rsk -> #SS\n", r.out());
    Run json = run(args("pagetables", "--translate", "--json", "--eptp", "0x1001e", LONG_MODE,
        addresses, img.toString()));
    assertEquals(""
        + "{\"la\":\"0x400010\",\"access\":\"ru\",\"pa\":\"0x25010\",\"pageSize\":\"0x1000\","
        + "\"fault\":null,\"errorCode\":null,\"gpa\":\"0x5010\"}\n"
        + "{\"la\":\"0x400010\",\"access\":\"wu\",\"pa\":null,\"pageSize\":null,"
        + "\"fault\":\"EPT violation\",\"errorCode\":\"0x78a\",\"gpa\":\"0x5010\"}\n"
        + "{\"la\":\"0x401000\",\"access\":\"ru\",\"pa\":null,\"pageSize\":null,"
        + "\"fault\":\"EPT misconfig\",\"errorCode\":null,\"gpa\":\"0x6000\"}\n"
        + "{\"la\":\"0x402004\",\"access\":\"ru\",\"pa\":null,\"pageSize\":null,"
        + "\"fault\":\"EPT violation\",\"errorCode\":\"0x781\",\"gpa\":\"0x300004\"}\n"
        + "{\"la\":\"0x8000000000\",\"access\":\"rs\",\"pa\":null,\"pageSize\":null,"
        + "\"fault\":\"EPT violation\",\"errorCode\":\"0x81\",\"gpa\":\"0x400000\"}\n"
        + "{\"la\":\"0x600000\",\"access\":\"ru\",\"pa\":null,\"pageSize\":null,"
        + "\"fault\":\"#PF\",\"errorCode\":\"0x4\",\"gpa\":null}\n"
        + "{\"la\":\"0x800000000000\",\"access\":\"rsk\",\"pa\":null,\"pageSize\":null,"
        + "\"fault\":\"#SS\",\"errorCode\":\"0x0\",\"gpa\":null}\n", json.out());
    for (String line : json.out().lines().toList()) {
      assertEquals(List.of("la", "access", "pa", "pageSize", "fault", "errorCode", "gpa"),
          List.copyOf(InspectCommandTest.obj(StrictJson.parse(line)).keySet()));
    }
    // The listing reads the guest tables through EPT: guest-physical addresses in QEMU's format;
    // the PDPT at GPA 0x400000 cannot be read.
    Run list = run(args("pagetables", "--eptp", "0x1001e", LONG_MODE, img.toString()));
    assertEquals(""
        + "0000000000400000: 0000000000005000 -------UW\n"
        + "0000000000401000: 0000000000006000 -------UW\n"
        + "0000000000402000: 0000000000300000 -------UW\n", list.out());
    assertEquals("hvmmu pagetables: note: 1 table outside RAM or not mapped by the nested tables"
        + " read as empty (QEMU reads unassigned memory as zeros)\n", list.err());
    // Without EPT the same CR3 reads HPA 0x1000, which is zero: nothing is mapped.
    Run flat = run(args("pagetables", LONG_MODE, img.toString()));
    assertEquals("", flat.out());
  }

  /**
   * NPT (nested CR3 0x10000, host 4-level with NXE). EXITINFO1 (APM vol. 2 §15.25.6) is a #PF error
   * code of a user access plus bit 32 (final translation) or 33 (guest page table):
   *
   * <ul>
   *   <li>0x400010:wu: the nested entry of GPA 0x5000 is read-only: P | W | U | bit 32 =
   *       0x100000007, GPA 0x5010.
   *   <li>0x401000:ru: GPA 0x6000 maps read-only and user: HPA 0x26000.
   *   <li>0x402004:ru: GPA 0x300004 not mapped: U | bit 32 = 0x100000004.
   *   <li>0x8000000000:rs: the guest PDPT at GPA 0x400000 is not mapped; AMD walks guest tables
   *       with user writes: W | U | bit 33 = 0x200000006.
   * </ul>
   */
  @Test
  void shouldTranslateThroughNptWithNestedPageFaults(@TempDir Path dir) throws IOException {
    Path img = nestedImage(false, (0x20000 + 0x6000) | 0x5).write(dir, "npt.bin");
    String[] addresses = {"0x400010:wu", "0x401000:ru", "0x402004:ru", "0x8000000000:rs"};
    Run r = run(args("pagetables", "--translate", "--ncr3", "0x10000", LONG_MODE, addresses,
        img.toString()));
    assertEquals("", r.err());
    assertEquals(""
        + "0x0000000000400010 wu -> #NPF 0x100000007 0x5010\n"
        + "0x0000000000401000 ru -> 0x26000 4K\n"
        + "0x0000000000402004 ru -> #NPF 0x100000004 0x300004\n"
        + "0x0000008000000000 rs -> #NPF 0x200000006 0x400000\n", r.out());
    Run json = run(args("pagetables", "--translate", "--json", "--ncr3", "0x10000", LONG_MODE,
        addresses, img.toString()));
    List<String> lines = json.out().lines().toList();
    assertEquals(4, lines.size());
    Map<String, Object> first = InspectCommandTest.obj(StrictJson.parse(lines.get(0)));
    assertEquals("#NPF", first.get("fault"));
    assertEquals("0x100000007", first.get("errorCode"));
    assertEquals("0x5010", first.get("gpa"));
    Map<String, Object> second = InspectCommandTest.obj(StrictJson.parse(lines.get(1)));
    assertEquals("0x26000", second.get("pa"));
    assertEquals("0x6000", second.get("gpa"));
    Run list = run(args("pagetables", "--ncr3", "0x10000", LONG_MODE, img.toString()));
    assertEquals(""
        + "0000000000400000: 0000000000005000 -------UW\n"
        + "0000000000401000: 0000000000006000 -------UW\n"
        + "0000000000402000: 0000000000300000 -------UW\n", list.out());
  }

  /** Flattens strings, string arrays and lists of strings into one argument array. */
  static String[] args(Object... parts) {
    List<String> all = new ArrayList<>();
    for (Object p : parts) {
      if (p instanceof String[] a) {
        all.addAll(List.of(a));
      } else if (p instanceof List<?> l) {
        l.forEach(x -> all.add((String) x));
      } else {
        all.add((String) p);
      }
    }
    return all.toArray(new String[0]);
  }

  @Test
  void shouldNeverModifyTheDump(@TempDir Path dir) throws IOException {
    Path img = nestedImage(true, 0).write(dir, "ept.bin");
    byte[] before = Files.readAllBytes(img);
    FileTime time = Files.getLastModifiedTime(img);
    Run r = run(args("pagetables", "--translate", "--eptp", "0x1001e", LONG_MODE, "0x400010:ru",
        "0x400010:rs", img.toString()));
    assertEquals(0, r.code(), r.err());
    assertArrayEquals(before, Files.readAllBytes(img));
    assertEquals(time, Files.getLastModifiedTime(img));
  }

  // ---- errors -----------------------------------------------------------------------------------

  static Stream<Object[]> usageErrors() {
    return Stream.of(
        new Object[] {List.of(), "missing DUMP"},
        new Object[] {List.of("--cr3", "0xzz", "IMG"),
            "--cr3: '0xzz' is not a number (expected: hex with 0x, or decimal, below 2^64)"},
        new Object[] {List.of("--cr3", "-1", "IMG"),
            "--cr3: '-1' is not a number (expected: hex with 0x, or decimal, below 2^64)"},
        new Object[] {List.of("--cr4", "0x", "IMG"),
            "--cr4: '0x' is not a number (expected: hex with 0x, or decimal, below 2^64)"},
        new Object[] {List.of("--efer", "18446744073709551616", "IMG"),
            "--efer: '18446744073709551616' is not a number (expected: hex with 0x, or decimal,"
                + " below 2^64)"},
        new Object[] {List.of("--pkru", "0x100000000", "IMG"),
            "--pkru: 0x100000000 (expected: at most 0xffffffff)"},
        new Object[] {List.of("--maxphyaddr", "31", "IMG"), "--maxphyaddr 31 (expected: 32 to 52)"},
        new Object[] {List.of("--maxphyaddr", "53", "IMG"), "--maxphyaddr 53 (expected: 32 to 52)"},
        new Object[] {List.of("--eptp", "0x1001e", "--ncr3", "0x10000", "IMG"),
            "--eptp and --ncr3 exclude each other (EPT or NPT, not both)"},
        new Object[] {List.of("--translate", "IMG"),
            "--translate needs ADDR:ACCESS arguments before DUMP"},
        new Object[] {List.of("0x1000:rs", "IMG"),
            "unexpected argument '0x1000:rs' (only DUMP without --translate)"},
        new Object[] {List.of("--translate", "0x1000", "IMG"),
            "bad address '0x1000' (expected: ADDR:ACCESS, e.g. 0xffffffff81000000:rs)"},
        new Object[] {List.of("--translate", "0x1000:rz", "IMG"),
            "bad address '0x1000:rz' (expected: ADDR:ACCESS; ADDR hex with 0x or decimal; ACCESS"
                + " r, w or x, then u, s or i)"},
        new Object[] {List.of("--translate", "0x1000:wx", "IMG"),
            "bad address '0x1000:wx' (expected: ADDR:ACCESS; ADDR hex with 0x or decimal; ACCESS"
                + " r, w or x, then u, s or i)"},
        new Object[] {List.of("--translate", "-", "0x1000:rs", "IMG"),
            "bad address '-' (expected: ADDR:ACCESS, e.g. 0xffffffff81000000:rs)"},
        new Object[] {List.of("--mmio-ro", "0x5,,6", "IMG"),
            "--mmio-ro: empty item in '0x5,,6' (expected: FRAME or FIRST-LAST, comma-separated)"},
        new Object[] {List.of("--mmio-ro", "7-3", "IMG"),
            "--mmio-ro: '7-3' (expected: FIRST <= LAST <= 0xffffffffff)"},
        new Object[] {List.of("--mmio-ro", "0x10000000000", "IMG"),
            "--mmio-ro: '0x10000000000' (expected: FIRST <= LAST <= 0xffffffffff)"},
        new Object[] {List.of("--mmio-ro", "e0840", "IMG"),
            "--mmio-ro: 'e0840' is not a number (expected: hex with 0x, or decimal, below 2^64)"},
        new Object[] {List.of("--mmio-ro", ",".repeat(5000), "IMG"),
            "--mmio-ro: 5001 items (expected: at most 4096)"},
        new Object[] {List.of("IMG"),
            "IMG has no vCPU state (a raw image): give --cr3 (and --cr4, --efer for other than"
                + " 32-bit paging)"},
        new Object[] {List.of("--cr3", "0x1000", "--vcpu", "1", "IMG"),
            "--vcpu 1: IMG has no vCPU state (expected: 0)"},
        new Object[] {List.of("--translate", "--cr3", "0x1000", "0x100000000:rs", "IMG"),
            "address 0x100000000 in '0x100000000:rs' (expected: below 2^32 in 32-bit paging)"},
        new Object[] {List.of("--eptp", "0x10016", "--cr3", "0x1000", "IMG"),
            "--eptp: EPTP 0x10016 (expected: memory type 0 or 6, walk length 4 or 5, A/D only if"
                + " supported, bits 11:8 and 63:52 zero, an Intel vCPU)"},
        new Object[] {List.of("--ncr3", "0x10000000000000", "--cr3", "0x1000", "IMG"),
            "--ncr3: nested CR3 0x10000000000000 (expected: bits 63:52 zero)"},
        new Object[] {List.of("MISSING"), "MISSING: cannot read: no such file"});
  }

  @ParameterizedTest
  @MethodSource("usageErrors")
  void usageErrorsShouldExitTwoWithOneLine(List<String> args, String message, @TempDir Path dir)
      throws IOException {
    Path img = image32().write(dir, "img.bin");
    List<String> all = new ArrayList<>(List.of("pagetables"));
    String expected = message.replace("IMG", img.toString())
        .replace("MISSING", dir.resolve("missing.bin").toString());
    for (String a : args) {
      all.add(a.equals("IMG") ? img.toString()
          : a.equals("MISSING") ? dir.resolve("missing.bin").toString() : a);
    }
    Run r = run(all.toArray(new String[0]));
    assertEquals(2, r.code(), r.out() + r.err());
    assertEquals("", r.out());
    if (!expected.contains("cannot read")) {
      assertEquals("hvmmu pagetables: " + expected + "\n", r.err());
    } else {
      assertTrue(r.err().startsWith("hvmmu pagetables: " + dir.resolve("missing.bin")), r.err());
      assertEquals(1, r.err().lines().count(), r.err());
    }
    assertFalse(r.err().contains("Exception"), r.err());
  }

  @Test
  void badDumpsAndVcpusShouldExitTwoWithOneLine(@TempDir Path dir) throws IOException {
    Path bad = dir.resolve("bad.elf");
    byte[] junk = new byte[100];
    junk[0] = 0x7f;
    junk[1] = 'E';
    junk[2] = 'L';
    junk[3] = 'F';
    Files.write(bad, junk);
    Run r = run("pagetables", bad.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("hvmmu pagetables: " + bad), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
    assertFalse(r.err().contains("Exception"), r.err());
    Path g = guests();
    Assumptions.assumeTrue(g != null && Files.exists(g.resolve("linux-pae/core.elf.gz")));
    Path core = g.resolve("linux-pae/core.elf.gz");
    Run range = run("pagetables", "--vcpu", "2", core.toString());
    assertEquals(2, range.code());
    assertEquals("hvmmu pagetables: --vcpu 2: " + core + " has 2 vCPUs (expected: 0 to 1)\n",
        range.err());
    Run huge = run("pagetables", "--vcpu", "0xffffffffffffffff", core.toString());
    assertEquals(2, huge.code());
    assertTrue(huge.err().startsWith("hvmmu pagetables: --vcpu 0xffffffffffffffff: "), huge.err());
  }

  @Test
  void stdinShouldBeBoundedAndCheckedToken(@TempDir Path dir) throws IOException {
    Path img = image32().write(dir, "img.bin");
    String[] args = {"pagetables", "--translate", "--cr3", "0x1000", "--cr4", "0x10", "-",
        img.toString()};
    Run ok = runWithStdin("0x1abc:wu\n\n   0xc00000:rs\r\n", args);
    assertEquals("", ok.err());
    assertEquals("0x0000000000001abc wu -> 0x5abc 4K\n"
        + "0x0000000000c00000 rs -> 0xffc00000 4M\n", ok.out());
    Run bad = runWithStdin("0x1abc:wu\n0x1000:qq 0x2000:rs\n", args);
    assertEquals(2, bad.code());
    assertEquals("", bad.out());
    assertEquals("hvmmu pagetables: bad address '0x1000:qq' (expected: ADDR:ACCESS; ADDR hex with"
        + " 0x or decimal; ACCESS r, w or x, then u, s or i)\n", bad.err());
    Run longLine = runWithStdin("0x1abc:wu " + " ".repeat(PagetablesCommand.MAX_LINE) + "\n",
        args);
    assertEquals(2, longLine.code());
    assertEquals("hvmmu pagetables: stdin line 1: longer than 4096 characters\n", longLine.err());
    Run empty = runWithStdin(" \n\t\n", args);
    assertEquals(2, empty.code());
    assertEquals("hvmmu pagetables: --translate -: no ADDR:ACCESS tokens on stdin\n", empty.err());
    Run tooMany = runWithStdin("0:rs\n".repeat(PagetablesCommand.MAX_ADDRESSES + 1), args);
    assertEquals(2, tooMany.code());
    assertEquals(1, tooMany.err().lines().count(), tooMany.err());
    assertTrue(tooMany.err().startsWith("hvmmu pagetables: stdin: more than 1048576 "),
        tooMany.err());
  }

  @Test
  void helpShouldShowTheSynopsis() {
    Run r = run("pagetables", "--help");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("hvmmu pagetables --translate"), r.out());
    Run top = run("--help");
    assertTrue(top.out().contains("pagetables"), top.out());
  }

  // ---- helpers ----------------------------------------------------------------------------------

  @Test
  void qemuLinesShouldFollowPrintPte() {
    StringBuilder b = new StringBuilder();
    // PAE 2 MiB with XD, 0x1e3 = P RW A D PS G: QEMU's mask ~0xfffff keeps XD and bit 20.
    PagetablesCommand.qemuLine(b, org.hvmmu.mmu.PagingMode.PAE, 0xC000_0000L, 21,
        0x8000_0000_0030_01E3L);
    // 4-level 4 KiB, 0xff = P RW US PWT PCD A D PAT, protection key 3 (bits 62:59): PAT cleared,
    // key masked.
    PagetablesCommand.qemuLine(b, org.hvmmu.mmu.PagingMode.LONG_4, 0xFFFF_8000_0000_0000L, 12,
        0x9800_0000_1234_50FFL);
    // 5-level 1 GiB, 0xa5 = P US A PS: mask 0x3ffffc0000000 (bits 49:30).
    PagetablesCommand.qemuLine(b, org.hvmmu.mmu.PagingMode.LONG_5, 0xFF00_0000_4000_0000L, 30,
        0x000F_FFFF_FFFF_F0A5L);
    assertEquals(""
        + "00000000c0000000: 8000000000300000 XGPDA---W\n"
        + "ffff800000000000: 0000000012345000 X--DACTUW\n"
        + "ff00000040000000: 0003ffffc0000000 --P-A--U-\n", b.toString());
    assertEquals("4K", PagetablesCommand.size(12));
    assertEquals("2M", PagetablesCommand.size(21));
    assertEquals("4M", PagetablesCommand.size(22));
    assertEquals("1G", PagetablesCommand.size(30));
  }

  @Test
  void hexShouldNotDependOnTheLocale() {
    StringBuilder b = new StringBuilder();
    PagetablesCommand.hex16(b, 0x0123_4567_89AB_CDEFL);
    assertEquals("0123456789abcdef", b.toString());
  }
}
