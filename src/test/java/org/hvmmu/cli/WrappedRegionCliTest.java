package org.hvmmu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.hvmmu.cli.InspectCommandTest.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, D4 through the CLI: 64-bit BAR 0 = 0xfffffffffffffff0, MSI-X at 0x40 with 2 entries,
 * table and PBA at BAR 0 + 0 (config bytes 006=10 010=f4 011..017=ff 034=40 040=11 042=01, the
 * rest 0). The table [0xfffffffffffffff0, +0x20) crosses 2^64; the 8-byte PBA ends at
 * 0xfffffffffffffff7 and fits (frame 0xfffffffffffff).
 */
class WrappedRegionCliTest {
  static final String DUMP =
      "03:00.0 Non-VGA unclassified device: Device 0000:0000\n"
          + "00: 00 00 00 00 00 00 10 00 00 00 00 00 00 00 00 00\n"
          + "10: f4 ff ff ff ff ff ff ff 00 00 00 00 00 00 00 00\n"
          + "20: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
          + "30: 00 00 00 00 40 00 00 00 00 00 00 00 00 00 00 00\n"
          + "40: 11 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
          + "50: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
          + "60: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
          + "70: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
          + "80: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
          + "90: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
          + "a0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
          + "b0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
          + "c0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
          + "d0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
          + "e0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
          + "f0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n";

  static final String WARNING = "table unusable: [0xfffffffffffffff0, +0x20) crosses 2^64 (its last"
      + " byte would wrap to 0xf); no frames are protected";

  static Path dump(Path dir) throws IOException {
    Path file = dir.resolve("d4.x.txt");
    Files.writeString(file, DUMP, StandardCharsets.US_ASCII);
    return file;
  }

  @Test
  void inspectTextShouldShowTheTableUnusableWithTheWarning(@TempDir Path dir) throws IOException {
    Run r = InspectCommandTest.run("inspect", dump(dir).toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("    table  BAR 0 + 0x0             unusable, no frames\n"),
        r.out());
    assertTrue(r.out().contains("    PBA    BAR 0 + 0x0            = 0xfffffffffffffff0  frames"
        + " 0xfffffffffffff-0xfffffffffffff  (0x8 bytes)\n"), r.out());
    assertTrue(r.out().contains("  warning: " + WARNING + "\n"), r.out());
    // The hardened prepare refuses (-ENXIO): nothing is protected. Xen 4.22 keeps the wrap: the
    // table's range (first fffffffffffff, last 0) fails rangeset_add_range's ASSERT(s <= e) and
    // is not added, the PBA's 8 bytes at 0xfffffffffffffff0 are frame fffffffffffff.
    assertTrue(r.out().contains("  hardened   0 set up by PHYSDEVOP_prepare_msix\n"
        + "    r/o mmio ranges { }\n"), r.out());
    assertTrue(r.out().contains("  xen-4.22   1 set up by PHYSDEVOP_prepare_msix\n"
        + "    r/o mmio ranges { fffffffffffff }\n"), r.out());
  }

  @Test
  void inspectJsonShouldShowTheTableUnusableWithTheWarning(@TempDir Path dir) throws IOException {
    Run r = InspectCommandTest.run("inspect", "--json", dump(dir).toString());
    assertEquals(0, r.code(), r.out() + r.err());
    Map<String, Object> top = InspectCommandTest.obj(StrictJson.parse(r.out()));
    List<?> devices = (List<?>) top.get("devices");
    Map<String, Object> d = InspectCommandTest.obj(devices.get(0));
    Map<String, Object> m = InspectCommandTest.obj(d.get("msix"));
    Map<String, Object> table = InspectCommandTest.obj(m.get("table"));
    assertEquals(false, table.get("usable"));
    assertSame(StrictJson.JSON_NULL, table.get("address"));
    assertSame(StrictJson.JSON_NULL, table.get("firstFrame"));
    assertSame(StrictJson.JSON_NULL, table.get("lastFrame"));
    Map<String, Object> pba = InspectCommandTest.obj(m.get("pba"));
    assertEquals(true, pba.get("usable"));
    assertEquals("0xfffffffffffff", pba.get("firstFrame"));
    assertEquals("0xfffffffffffff", pba.get("lastFrame"));
    assertTrue(((List<?>) d.get("warnings")).contains(WARNING), r.out());
  }

  @Test
  void replayShouldAcceptTheScriptAndReportEnxio(@TempDir Path dir) throws IOException {
    Path script = dir.resolve("d4.hvmmu");
    Files.writeString(script, "host frames 0x1000 policy hardened\n"
        + "device dev hex\n" + DUMP + "end\n"
        + "msix prepare dev\n"
        + "expect rc -ENXIO\n"
        + "msix enable dev 0\n"
        + "expect rc -ENXIO\n"
        + "expect unprotected 0\n"
        + "expect unprotected 0xfffffffffffff\n", StandardCharsets.US_ASCII);
    Run r = InspectCommandTest.run("replay", script.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().endsWith("hardened: 4 expect line(s), 4 held, 0 failed\n"), r.out());
    assertFalse(r.err().contains("Exception"), r.err());
  }

  @Test
  void replayUnderXenShouldReportTheRangesetAssertion(@TempDir Path dir) throws IOException {
    // Xen 4.22: table.first 0xfffffffffffff > table.last 0: not added, -EINVAL in the range-set
    // result; the PBA (1 byte as Xen sizes it) is frame 0xfffffffffffff.
    Path script = dir.resolve("d4.hvmmu");
    Files.writeString(script, "host frames 0x1000 policy xen-4.22\n"
        + "device dev hex\n" + DUMP + "end\n"
        + "msix prepare dev\n"
        + "expect rc 0\n"
        + "expect protected 0xfffffffffffff\n"
        + "expect unprotected 0\n", StandardCharsets.US_ASCII);
    Run r = InspectCommandTest.run("replay", script.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("rc 0, rangeset rc -EINVAL"), r.out());
  }
}
