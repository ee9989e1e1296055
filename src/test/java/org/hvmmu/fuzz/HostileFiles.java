package org.hvmmu.fuzz;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Files that are not what a reader expects: FIFOs and sparse files, for the robustness tests. */
public final class HostileFiles {
  private HostileFiles() {}

  /**
   * Makes a FIFO with mkfifo(1); skips the calling test (an assumption) where there is none.
   *
   * @param path where
   * @return {@code path}
   * @throws IOException if the process cannot be waited for
   */
  public static Path mkfifo(Path path) throws IOException {
    try {
      Process p = new ProcessBuilder("mkfifo", path.toString()).redirectErrorStream(true).start();
      assumeTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0,
          "mkfifo failed: FIFO tests skipped");
    } catch (IOException e) {
      assumeTrue(false, "no mkfifo here, FIFO tests skipped: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    assumeTrue(Files.exists(path), "mkfifo made nothing: FIFO tests skipped");
    return path;
  }

  /**
   * Makes a sparse file of {@code size} bytes (no blocks written).
   *
   * @param path where
   * @param size its length
   * @return {@code path}
   * @throws IOException if it cannot be made
   */
  public static Path sparse(Path path, long size) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
      f.setLength(size);
    }
    return path;
  }
}
