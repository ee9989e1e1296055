package org.hvmmu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.hvmmu.cli.InspectCommandTest.Run;
import org.hvmmu.fuzz.HostileFiles;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, D3, D8 and D9 at the command line: every file input ({@code replay FILE}, a script's
 * {@code device NAME dump FILE}, {@code demo FILE}, {@code inspect PATH}, {@code pagetables DUMP})
 * given {@code /dev/zero}, a FIFO, a directory, a link to {@code /dev/zero} and an oversized sparse
 * file gives one line on stderr, no stack trace, and the documented exit code, at once.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileInputFilesTest {
  private static final String NOT_REGULAR = "not a regular file (a device, FIFO or socket)";

  @TempDir Path dir;

  private Path fifo;
  private Path link;
  private Path bigText;

  @BeforeEach
  void files() throws IOException {
    fifo = HostileFiles.mkfifo(dir.resolve("fifo"));
    link = Files.createSymbolicLink(dir.resolve("zero"), Path.of("/dev/zero"));
    bigText = HostileFiles.sparse(dir.resolve("big.txt"), (64L << 20) + 1);
  }

  private static void assertOneLine(Run r, int code, String err) {
    assertEquals(code, r.code(), r.out() + r.err());
    assertEquals(err + "\n", r.err());
    assertFalse(r.out().contains("\tat "), r.out());
  }

  @Test
  void replayRefusesEachAtOnce() {
    for (Path p : new Path[] {Path.of("/dev/zero"), fifo, link}) {
      assertOneLine(InspectCommandTest.run("replay", p.toString()), 2,
          p + ": cannot read: " + NOT_REGULAR);
    }
    assertOneLine(InspectCommandTest.run("replay", dir.toString()), 2,
        dir + ": cannot read: is a directory");
    assertOneLine(InspectCommandTest.run("replay", bigText.toString()), 2,
        bigText + ": cannot read: larger than 0x4000000 bytes");
  }

  @Test
  void aScriptsDeviceDumpRefusesEach() throws IOException {
    Path[] bad = {Path.of("/dev/zero"), fifo, link, dir, bigText};
    String[] why = {NOT_REGULAR, NOT_REGULAR, NOT_REGULAR, "is a directory",
        "larger than 0x4000000 bytes"};
    for (int i = 0; i < bad.length; i++) {
      Path script = Files.writeString(dir.resolve("s" + i + ".hvmmu"),
          "# line 1\ndevice n dump " + bad[i] + "\n");
      assertOneLine(InspectCommandTest.run("replay", script.toString()), 2,
          script + ":2: device n dump " + bad[i] + ": cannot read " + bad[i] + ": " + why[i]);
    }
  }

  @Test
  void demoRefusesEach() {
    assertOneLine(InspectCommandTest.run("demo", fifo.toString()), 2,
        fifo + ": cannot read: " + NOT_REGULAR);
    assertOneLine(InspectCommandTest.run("demo", "/dev/zero"), 2,
        "/dev/zero: cannot read: " + NOT_REGULAR);
    assertOneLine(InspectCommandTest.run("demo", bigText.toString()), 2,
        bigText + ": cannot read: larger than 0x4000000 bytes");
  }

  @Test
  void inspectReportsEachAndShowsTheOtherPaths() throws IOException {
    Path good = InspectCommandTest.bundled("pciutils_intel_82576_10c9.xxx.txt");
    Path longRow = Files.writeString(dir.resolve("long.txt"),
        "01:00.0 x\n00:" + " 00".repeat(1300) + "\n");
    for (Path p : new Path[] {Path.of("/dev/zero"), fifo, link, bigText}) {
      String why = p == bigText ? "larger than 0x4000000 bytes" : NOT_REGULAR;
      Run r = InspectCommandTest.run("inspect", "--json", p.toString(), good.toString());
      assertOneLine(r, 1, "hvmmu inspect: " + p + ": " + why
          + " (expected: a regular file or a directory)");
      assertTrue(r.out().contains("\"deviceId\": \"10c9\""), r.out());
    }
    Run r = InspectCommandTest.run("inspect", "--json", longRow.toString(), good.toString());
    assertOneLine(r, 1, "hvmmu inspect: " + longRow + ":2: row at 0x0 has more than 16 bytes");
    assertTrue(r.out().contains("\"deviceId\": \"10c9\""), r.out());
  }

  @Test
  void inspectShowsTheReadableEntriesOfADevicesDirectory() throws IOException {
    Path devices = Files.createDirectories(dir.resolve("devices"));
    Path good = Files.createDirectories(devices.resolve("0000:00:02.0"));
    byte[] config = new byte[64];
    config[0] = (byte) 0x86;
    config[1] = (byte) 0x80;
    config[2] = (byte) 0xc9;
    config[3] = (byte) 0x10;
    Files.write(good.resolve("config"), config);
    Path bad = Files.createDirectories(devices.resolve("0000:00:03.0"));
    Files.createSymbolicLink(bad.resolve("config"), Path.of("/dev/zero"));
    Run r = InspectCommandTest.run("inspect", "--json", devices.toString());
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().startsWith("hvmmu inspect: cannot read " + bad.resolve("config") + ": "
        + NOT_REGULAR + "\n"), r.err());
    assertTrue(r.out().contains("\"address\": \"0000:00:02.0\""), r.out());
    assertTrue(r.out().contains("\"deviceId\": \"10c9\""), r.out());
    // A device directory of its own: the same message.
    Run one = InspectCommandTest.run("inspect", bad.toString());
    assertOneLine(one, 1, "hvmmu inspect: cannot read " + bad.resolve("config") + ": "
        + NOT_REGULAR);
  }

  @Test
  void anUnreadableDefaultDevicesDirectoryFallsBackToTheSamplesWithOneLine() throws IOException {
    // The default directory is one device's directory whose config is a link to /dev/zero.
    Path sys = Files.createDirectories(dir.resolve("0000:00:07.0"));
    Files.createSymbolicLink(sys.resolve("config"), Path.of("/dev/zero"));
    Run r = InspectCommandTest.run(sys, "inspect", "--json");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().startsWith("hvmmu inspect: cannot read " + sys.resolve("config") + ": "
        + NOT_REGULAR + "\nhvmmu inspect: no PCI functions in " + sys), r.err());
    assertTrue(r.out().contains("\"deviceId\": \"10c9\""), r.out()); // the bundled 82576
  }

  @Test
  void pagetablesRefusesEach() throws IOException {
    for (Path p : new Path[] {Path.of("/dev/zero"), fifo, link, dir}) {
      Run r = InspectCommandTest.run("pagetables", "--cr3", "0x1000", p.toString());
      assertEquals(2, r.code(), r.err());
      assertEquals(1, r.err().lines().count(), r.err());
      assertTrue(r.err().startsWith("hvmmu pagetables: " + p + ": "), r.err());
      assertTrue(r.err().contains(p.equals(dir) ? "is a directory" : "is not a regular file"),
          r.err());
    }
    // A raw image one page beyond the default frame budget's 16 GiB, sparse: refused before
    // reading it (reading 16 GiB of holes takes half a minute here).
    Path huge = HostileFiles.sparse(dir.resolve("huge.img"), (16L << 30) + 4096);
    long start = System.nanoTime();
    Run r = InspectCommandTest.run("pagetables", "--cr3", "0x1000", huge.toString());
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().contains("the raw image of 0x400001000 bytes would take the bytes read"
        + " from this dump beyond 0x400000000"), r.err());
    assertTrue(System.nanoTime() - start < 10_000_000_000L, "took too long");
  }
}
