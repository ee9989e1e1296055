package org.hvmmu.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
   * Reads the devices a path names.
   *
   * @param path a dump file, a {@code config} file, a device directory or a devices directory
   * @return the devices, at least one
   * @throws SourceException if the path names nothing readable as devices
   * @throws org.hvmmu.pci.PciDumpParseException if a file is malformed
   * @throws UncheckedIOException if a file cannot be read
   */
  static List<PciDevice> read(Path path) {
    if (!Files.exists(path)) {
      throw new SourceException(path + ": no such file or directory");
    }
    if (Files.isDirectory(path)) {
      if (Files.isRegularFile(path.resolve("config"))) {
        return List.of(SysfsReader.readDevice(path));
      }
      if (!hasDeviceEntries(path)) {
        throw new SourceException(
            path
                + ": neither a PCI device directory (holding a config file) nor a devices directory"
                + " (holding entries named like 0000:00:03.0)");
      }
      return SysfsReader.readDevices(path);
    }
    if (!Files.isRegularFile(path)) {
      throw new SourceException(path + ": not a regular file or directory");
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
    if (isBinaryConfig(path, bytes)) {
      Path parent = path.toAbsolutePath().getParent();
      Path dirName = parent == null ? null : parent.getFileName();
      if (dirName != null && PciAddress.isAddress(dirName.toString())) {
        return List.of(SysfsReader.readDevice(parent));
      }
      return List.of(new PciDevice(new PciAddress(0, 0, 0, 0), SysfsReader.readConfig(path),
          path.toString()));
    }
    List<PciDevice> devices =
        LspciDumpReader.parse(path.toString(), new String(bytes, StandardCharsets.UTF_8));
    if (devices.isEmpty()) {
      throw new SourceException(
          path + ": no device hex dump found (expected lspci -x, -xxx or -xxxx output)");
    }
    return devices;
  }

  /** A sysfs config file is binary: named {@code config}, or holding a NUL byte. */
  private static boolean isBinaryConfig(Path path, byte[] bytes) {
    Path name = path.getFileName();
    if (name != null && name.toString().equals("config")) {
      return true;
    }
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
      throw new UncheckedIOException("cannot list " + dir, e);
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
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read bundled sample " + name, e);
    }
  }
}
