package org.hvmmu.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.hvmmu.internal.InputFiles;
import org.hvmmu.pci.LspciDumpReader;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.SysfsReader;

/**
 * Turns what the user names on the command line into devices: an {@code lspci -x/-xxx/-xxxx} text
 * dump, a sysfs {@code config} file, a sysfs device directory, or a devices directory; and reads the
 * bundled sample dumps.
 */
final class DeviceSources {
  private DeviceSources() {}

  /** Where the bundled dumps live on the class path, with an {@code INDEX} of their names. */
  static final String SAMPLES = "/org/hvmmu/cli/samples/";

  /** A path that names no device source; the message is for the user. */
  static final class SourceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SourceException(String message) {
      super(message);
    }
  }

  /**
   * Reads the devices a path names. Every file is checked to be a regular file (after following
   * links) and read with a bound: a text dump at most {@link LspciDumpReader#MAX_FILE_BYTES} bytes,
   * a line at a time, a {@code config} file at most 4096 bytes.
   *
   * @param path a dump file, a {@code config} file, a device directory or a devices directory
   * @param problems receives one message per entry of a devices directory that cannot be read
   *     (the other entries are still read)
   * @return the devices; empty only if every entry of a devices directory is in {@code problems}
   * @throws SourceException if the path names nothing readable as devices
   * @throws org.hvmmu.pci.PciDumpParseException if a file is malformed
   * @throws UncheckedIOException if a file cannot be read, is not a regular file or is too large;
   *     the message says which file and why, in words
   */
  static List<PciDevice> read(Path path, List<String> problems) {
    if (!Files.exists(path)) {
      throw new SourceException(path + ": no such file or directory");
    }
    if (Files.isDirectory(path)) {
      if (Files.exists(path.resolve("config"))) {
        return List.of(SysfsReader.readDevice(path));
      }
      if (!hasDeviceEntries(path)) {
        throw new SourceException(
            path
                + ": neither a PCI device directory (holding a config file) nor a devices directory"
                + " (holding entries named like 0000:00:03.0)");
      }
      SysfsReader.DevicesRead read = SysfsReader.readDevicesReporting(path);
      problems.addAll(read.problems());
      return read.devices();
    }
    try {
      InputFiles.requireRegular(path, LspciDumpReader.MAX_FILE_BYTES);
    } catch (IOException e) {
      throw new SourceException(path + ": " + InputFiles.why(e)
          + " (expected: a regular file or a directory)");
    }
    Path name = path.getFileName();
    if (name != null && name.toString().equals("config")) {
      return List.of(config(path));
    }
    // A text dump is read a line at a time; a sysfs config copied under another name is binary:
    // it holds a NUL byte in its 4096 bytes.
    try (InputStream in = Files.newInputStream(path)) {
      byte[] head = in.readNBytes(SysfsReader.MAX_CONFIG_BYTES + 1);
      if (head.length <= SysfsReader.MAX_CONFIG_BYTES && hasNul(head)) {
        return List.of(config(path));
      }
      Reader text = InputFiles.text(
          new SequenceInputStream(new ByteArrayInputStream(head), in),
          LspciDumpReader.MAX_FILE_BYTES);
      List<PciDevice> devices = LspciDumpReader.read(path.toString(), text);
      if (devices.isEmpty()) {
        throw new SourceException(
            path + ": no device hex dump found (expected lspci -x, -xxx or -xxxx output)");
      }
      return devices;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path + ": " + InputFiles.why(e), e);
    }
  }

  /** A binary config file: in its device's sysfs directory if there is one. */
  private static PciDevice config(Path path) {
    Path parent = path.toAbsolutePath().getParent();
    Path dirName = parent == null ? null : parent.getFileName();
    if (dirName != null && PciAddress.isAddress(dirName.toString())) {
      return SysfsReader.readDevice(parent);
    }
    return new PciDevice(new PciAddress(0, 0, 0, 0), SysfsReader.readConfig(path),
        path.toString());
  }

  private static boolean hasNul(byte[] bytes) {
    for (byte b : bytes) {
      if (b == 0) {
        return true;
      }
    }
    return false;
  }

  private static boolean hasDeviceEntries(Path dir) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        Path name = entry.getFileName();
        if (name != null && PciAddress.isAddress(name.toString())) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + ": " + InputFiles.why(e), e);
    }
  }

  /**
   * Reads the bundled sample dumps, in {@code INDEX} order.
   *
   * @return their devices
   */
  static List<PciDevice> samples() {
    List<PciDevice> devices = new ArrayList<>();
    for (String name : resource("INDEX").split("\n")) {
      if (!name.isBlank()) {
        devices.addAll(LspciDumpReader.parse("samples/" + name.trim(), resource(name.trim())));
      }
    }
    return devices;
  }

  private static String resource(String name) {
    try (InputStream in = DeviceSources.class.getResourceAsStream(SAMPLES + name)) {
      if (in == null) {
        throw new IllegalStateException("bundled sample " + SAMPLES + name + " is missing");
      }
      return new String(InputFiles.readBytes(in, (int) LspciDumpReader.MAX_FILE_BYTES),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read bundled sample " + name, e);
    }
  }
}
