package org.hvmmu.mmu.dump;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.hvmmu.fuzz.HostileFiles;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 D9 for dumps: the bytes copied from one dump are bounded (frame budget * 4096, at least
 * 1 GiB), so a sparse image far beyond any guest is refused before it is read.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DumpCopyLimitTest {
  @Test
  void theLimitIsTheBudgetsBytesAndAtLeastOneGib() {
    // 2^22 frames of 4 KiB = 16 GiB; 1 frame gives the 1 GiB floor; a huge budget saturates.
    assertEquals(1L << 34, DumpFile.copyLimit(
        new PhysicalMemory(52, 1L << 22)));
    assertEquals(1L << 30, DumpFile.copyLimit(new PhysicalMemory(52, 1)));
    assertEquals(Long.MAX_VALUE, DumpFile.copyLimit(
        new PhysicalMemory(52, Long.MAX_VALUE)));
  }

  @Test
  void aSparseRawImageOverTheLimitIsRefusedAtOnce(@TempDir Path dir) throws IOException {
    Path image = HostileFiles.sparse(dir.resolve("a.img"), (1L << 30) + 4096);
    DumpFormatException e = assertThrows(DumpFormatException.class,
        () -> GuestDumps.read(image, DumpOptions.DEFAULTS.withFrameBudget(1)));
    assertTrue(e.getMessage().startsWith(image + " at offset 0x0: the raw image of 0x40001000"
        + " bytes would take the bytes read from this dump beyond 0x40000000"), e.getMessage());
    // A 1 TiB image (file systems cap sparse files below 2^52): refused as quickly.
    Path huge = HostileFiles.sparse(dir.resolve("huge.img"), 1L << 40);
    assertThrows(DumpFormatException.class, () -> GuestDumps.read(huge, DumpOptions.DEFAULTS));
  }
}
