package org.hvmmu.pci;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Reads PCI functions from Linux sysfs: the binary {@code config} file of one function, its {@code
 * resource} file, and the whole {@code /sys/bus/pci/devices} tree.
 *
 * <p>{@code config} holds the configuration space: 4096 bytes for PCI Express functions and 256 for
 * conventional ones when read with {@code CAP_SYS_ADMIN}, only the 64-byte header (128 for CardBus
 * bridges) otherwise; {@link ConfigSpace} marks the rest unknown. {@code resource} has one line per
 * resource, {@code 0xSTART 0xEND 0xFLAGS}, the first six being the BARs; a BAR's size is {@code END
 * - START + 1}, and a line of zeros means unknown.
 *
 * <pre>{@code
 * List<PciDevice> devices = SysfsReader.readDevices(SysfsReader.DEFAULT_DEVICES_DIR);
 * devices.get(0).bars().get(0).size();     // 0x80000, from resource
 * }</pre>
 *
 * <p>Stateless and thread-safe; it reads the files once and keeps nothing open.
 */
public final class SysfsReader {
  private SysfsReader() {}

  /** Where Linux lists every PCI function: {@code /sys/bus/pci/devices}. */
  public static final Path DEFAULT_DEVICES_DIR = Path.of("/sys/bus/pci/devices");

  /** Order of {@link #readDevices}: segment, bus, device, function. */
  private static final Comparator<PciAddress> ADDRESS_ORDER =
      Comparator.comparingInt(PciAddress::segment)
          .thenComparingInt(PciAddress::bus)
          .thenComparingInt(PciAddress::device)
          .thenComparingInt(PciAddress::function);

  /**
   * Reads a binary {@code config} file.
   *
   * @param configFile the file
   * @return its configuration space
   * @throws PciDumpParseException if its size is not 64, 128, 256 or 4096 bytes
   * @throws UncheckedIOException if it cannot be read
   */
  public static ConfigSpace readConfig(Path configFile) {
    byte[] bytes = readBytes(configFile);
    if (!ConfigSpace.isValidSize(bytes.length)) {
      throw new PciDumpParseException(
          configFile.toString(),
          PciDumpParseException.NO_LINE,
          "config file of 0x"
              + Integer.toHexString(bytes.length)
              + " bytes (expected 0x40, 0x80, 0x100 or 0x1000)");
    }
    return ConfigSpace.of(bytes);
  }

  /**
   * Reads the BAR sizes from a {@code resource} file: its first six lines.
   *
   * @param resourceFile the file
   * @return six sizes in bytes, 0 where unknown (a line of zeros, or fewer than six lines)
   * @throws PciDumpParseException if a line is not three hex numbers or has its end below its start
   * @throws UncheckedIOException if it cannot be read
   */
  public static long[] readResourceSizes(Path resourceFile) {
    String text = new String(readBytes(resourceFile), StandardCharsets.UTF_8);
    return parseResourceSizes(resourceFile.toString(), text);
  }

  /**
   * Parses the text of a {@code resource} file; see {@link #readResourceSizes}.
   *
   * @param source the name to give in error messages
   * @param text the file's text
   * @return six sizes in bytes, 0 where unknown
   * @throws PciDumpParseException if one of the first six lines is malformed
   */
  public static long[] parseResourceSizes(String source, String text) {
    long[] sizes = new long[PciRegs.SRIOV_NUM_BARS];
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length && i < sizes.length; i++) {
      String line = lines[i].trim();
      if (line.isEmpty()) {
        continue;
      }
      String[] fields = line.split("\\s+");
      if (fields.length != 3) {
        throw new PciDumpParseException(
            source, i + 1, "expected 0xSTART 0xEND 0xFLAGS, found \"" + line + "\"");
      }
      long start = hex(source, i + 1, fields[0]);
      long end = hex(source, i + 1, fields[1]);
      hex(source, i + 1, fields[2]);
      if (start == 0 && end == 0) {
        continue;
      }
      if (Long.compareUnsigned(end, start) < 0) {
        throw new PciDumpParseException(
            source,
            i + 1,
            "resource end 0x"
                + Long.toHexString(end)
                + " is below its start 0x"
                + Long.toHexString(start));
      }
      long size = end - start + 1;
      // A whole-space resource (size 2^64) cannot be a BAR; report it as unknown.
      sizes[i] = size > 0 ? size : 0;
    }
    return sizes;
  }

  private static long hex(String source, int line, String field) {
    String digits = field.startsWith("0x") || field.startsWith("0X") ? field.substring(2) : field;
    try {
      if (digits.isEmpty() || digits.length() > 16 || digits.charAt(0) == '+') {
        throw new NumberFormatException(field);
      }
      return Long.parseUnsignedLong(digits, 16);
    } catch (NumberFormatException e) {
      throw new PciDumpParseException(source, line, "not a hex number: \"" + field + "\"");
    }
  }

  /**
   * Reads one function's sysfs directory: {@code config}, and {@code resource} if present. The
   * directory's name must be the function's address.
   *
   * @param deviceDir for example {@code /sys/bus/pci/devices/0000:00:03.0}
   * @return the device; its source is the directory
   * @throws PciDumpParseException if the name is not an address or a file is malformed
   * @throws UncheckedIOException if {@code config} cannot be read
   */
  public static PciDevice readDevice(Path deviceDir) {
    Path name = deviceDir.getFileName();
    String text = name == null ? "" : name.toString();
    if (!PciAddress.isAddress(text)) {
      throw new PciDumpParseException(
          deviceDir.toString(),
          PciDumpParseException.NO_LINE,
          "directory name is not a PCI address");
    }
    ConfigSpace config = readConfig(deviceDir.resolve("config"));
    Path resource = deviceDir.resolve("resource");
    long[] sizes = Files.isRegularFile(resource) ? readResourceSizes(resource) : new long[0];
    return new PciDevice(PciAddress.parse(text), config, deviceDir.toString(), sizes);
  }

  /**
   * Reads every function of a devices directory, skipping entries whose names are not addresses.
   *
   * @param devicesDir usually {@link #DEFAULT_DEVICES_DIR}
   * @return the devices ordered by address
   * @throws PciDumpParseException if a function's files are malformed
   * @throws UncheckedIOException if the directory or a {@code config} file cannot be read
   */
  public static List<PciDevice> readDevices(Path devicesDir) {
    List<Path> dirs = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(devicesDir)) {
      for (Path entry : entries) {
        Path name = entry.getFileName();
        if (name != null && PciAddress.isAddress(name.toString())) {
          dirs.add(entry);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + devicesDir, e);
    }
    dirs.sort(
        Comparator.comparing(
            (Path p) -> PciAddress.parse(String.valueOf(p.getFileName())), ADDRESS_ORDER));
    List<PciDevice> devices = new ArrayList<>(dirs.size());
    for (Path dir : dirs) {
      devices.add(readDevice(dir));
    }
    return List.copyOf(devices);
  }

  private static byte[] readBytes(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
