package org.hvmmu.mmu.dump;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.mmu.memory.RegionKind;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Real QEMU dumps: for each guest directory under {@code org/hvmmu/mmu/guests/} on the test class
 * path that holds a {@code core.elf.gz} (written by {@code dump-guest-memory}), every vCPU's
 * registers must equal what QEMU's {@code info registers} printed for it at the same moment, in
 * {@code info-registers-cpuN.txt} beside the core. Skipped when no such directory exists.
 */
class QemuGuestCoreTest {
  private static final String GUESTS = "org/hvmmu/mmu/guests";
  private static final Pattern INFO_FILE = Pattern.compile("info-registers-cpu(\\d+)\\.txt");
  private static final Pattern REGISTER =
      Pattern.compile("(?<![A-Za-z0-9])(RIP|EIP|RFL|EFL|CR0|CR2|CR3|CR4|EFER)=([0-9a-fA-F]+)");
  private static final Pattern CS_LINE =
      Pattern.compile(
          "^CS =([0-9a-fA-F]+) ([0-9a-fA-F]+) ([0-9a-fA-F]+) ([0-9a-fA-F]+)", Pattern.MULTILINE);

  @TestFactory
  Stream<DynamicTest> shouldMatchQemuInfoRegisters() throws IOException, URISyntaxException {
    List<Path> guests = guestDirectories();
    Assumptions.assumeFalse(guests.isEmpty(), "no QEMU guest dumps under " + GUESTS);
    return guests.stream()
        .map(g -> DynamicTest.dynamicTest(g.getFileName().toString(), () -> checkGuest(g)));
  }

  private static void checkGuest(Path guest) throws IOException {
    GuestDump dump = GuestDumps.read(guest.resolve("core.elf.gz"));
    assertEquals(DumpFormat.ELF_CORE, dump.format());
    assertTrue(dump.compressed());
    assertFalse(dump.segments().isEmpty());
    List<Path> infos = new ArrayList<>();
    try (Stream<Path> files = Files.list(guest)) {
      files
          .filter(f -> INFO_FILE.matcher(f.getFileName().toString()).matches())
          .sorted()
          .forEach(infos::add);
    }
    assertFalse(infos.isEmpty(), "no info-registers-cpuN.txt in " + guest);
    assertEquals(infos.size(), dump.vcpus().size(), "one QEMU note per info-registers file");
    for (Path info : infos) {
      Matcher name = INFO_FILE.matcher(info.getFileName().toString());
      assertTrue(name.matches());
      int cpu = Integer.parseInt(name.group(1));
      String text = Files.readString(info, StandardCharsets.UTF_8);
      Map<String, Long> printed = registers(text);
      VcpuState state = dump.vcpus().get(cpu);
      String where = guest.getFileName() + " cpu" + cpu + ": ";
      assertEquals(printed.get("CR0"), state.cr0(), where + "CR0");
      assertEquals(printed.get("CR3"), state.cr3(), where + "CR3");
      assertEquals(printed.get("CR4"), state.cr4(), where + "CR4");
      if (printed.containsKey("CR2")) {
        assertEquals(printed.get("CR2"), state.cr2(), where + "CR2");
      }
      assertEquals(either(printed, "RIP", "EIP"), state.rip(), where + "RIP");
      assertEquals(either(printed, "RFL", "EFL"), state.rflags(), where + "RFLAGS");
      long root = (state.cr3() & 0x000f_ffff_ffff_f000L) >>> PhysicalMemory.PAGE_SHIFT;
      assertEquals(RegionKind.RAM, dump.memory().kind(root), where + "the frame CR3 points to");
      if (printed.containsKey("EFER")) {
        assertEquals(printed.get("EFER"), state.efer(), where + "EFER (assumed, see VcpuState)");
      }
      Matcher cs = CS_LINE.matcher(text);
      if (cs.find()) {
        assertEquals(Long.parseLong(cs.group(1), 16), state.cs().selector(), where + "CS");
        assertEquals(Long.parseUnsignedLong(cs.group(2), 16), state.cs().base(), where + "CS base");
        assertEquals(
            Long.parseLong(cs.group(3), 16), state.cs().limit() & 0xffff_ffffL, where + "CS limit");
        // The monitor prints flags & 0x00ffff00 (x86_cpu_dump_seg_cache); the note has all bits.
        assertEquals(
            Long.parseLong(cs.group(4), 16), state.cs().flags() & 0x00ff_ff00L, where + "CS flags");
      }
    }
  }

  private static long either(Map<String, Long> printed, String wide, String narrow) {
    Long value = printed.containsKey(wide) ? printed.get(wide) : printed.get(narrow);
    assertTrue(value != null, "neither " + wide + " nor " + narrow + " printed");
    return value;
  }

  private static Map<String, Long> registers(String text) {
    Map<String, Long> values = new HashMap<>();
    Matcher m = REGISTER.matcher(text);
    while (m.find()) {
      values.putIfAbsent(m.group(1), Long.parseUnsignedLong(m.group(2), 16));
    }
    for (String required : new String[] {"CR0", "CR3", "CR4"}) {
      assertTrue(values.containsKey(required), required + " not printed in:\n" + text);
    }
    return values;
  }

  private static List<Path> guestDirectories() throws IOException, URISyntaxException {
    URL root = QemuGuestCoreTest.class.getClassLoader().getResource(GUESTS);
    List<Path> guests = new ArrayList<>();
    if (root == null || !"file".equals(root.getProtocol())) {
      return guests;
    }
    try (Stream<Path> dirs = Files.list(Path.of(root.toURI()))) {
      dirs.filter(d -> Files.isRegularFile(d.resolve("core.elf.gz"))).sorted().forEach(guests::add);
    }
    return guests;
  }
}
