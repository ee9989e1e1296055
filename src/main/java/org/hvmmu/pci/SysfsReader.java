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
import org.hvmmu.internal.InputFiles;

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

  /** The most bytes of a {@code config} file: 4096, an extended configuration space. */
  public static final int MAX_CONFIG_BYTES = ConfigSpace.EXTENDED_SIZE;

  /** The most bytes of a {@code resource} file: 16 KiB (Linux writes 17 lines of 57 bytes). */
  public static final int MAX_RESOURCE_BYTES = 16 << 10;

  /**
   * Reads a binary {@code config} file; at most {@link #MAX_CONFIG_BYTES} + 1 bytes are read.
   *
   * @param configFile the file; a regular file after following links (sysfs attributes are)
   * @return its configuration space
   * @throws PciDumpParseException if its size is not 64, 128, 256 or 4096 bytes
   * @throws UncheckedIOException if it cannot be read, is not a regular file or is larger than
   *     4096 bytes; the message is {@code "cannot read FILE: WHY"}, WHY in words ("permission
   *     denied", "not a regular file ...", "larger than 0x1000 bytes")
   */
  public static ConfigSpace readConfig(Path configFile) {
    byte[] bytes = readBytes(configFile, MAX_CONFIG_BYTES);
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
   * @throws UncheckedIOException if it cannot be read, is not a regular file or is larger than
   *     {@link #MAX_RESOURCE_BYTES}
   */
  public static long[] readResourceSizes(Path resourceFile) {
    String text =
        new String(readBytes(resourceFile, MAX_RESOURCE_BYTES), StandardCharsets.UTF_8);
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
    List<Path> dirs = deviceDirs(devicesDir);
    List<PciDevice> devices = new ArrayList<>(dirs.size());
    for (Path dir : dirs) {
      devices.add(readDevice(dir));
    }
    return List.copyOf(devices);
  }

  /** The entries of a devices directory named like addresses, in address order. */
  private static List<Path> deviceDirs(Path devicesDir) {
    List<Path> dirs = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(devicesDir)) {
      for (Path entry : entries) {
        Path name = entry.getFileName();
        if (name != null && PciAddress.isAddress(name.toString())) {
          dirs.add(entry);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + devicesDir + ": " + InputFiles.why(e), e);
    }
    dirs.sort(
        Comparator.comparing(
            (Path p) -> PciAddress.parse(String.valueOf(p.getFileName())), ADDRESS_ORDER));
    return dirs;
  }

  /**
   * What {@link #readDevicesReporting} found: the functions read, and one message per entry that
   * could not be read.
   *
   * @param devices the functions read, ordered by address
   * @param problems for each entry that could not be read, in address order, one line {@code
   *     "cannot read DIR/config: permission denied"} or the {@link PciDumpParseException}'s message
   */
  public record DevicesRead(List<PciDevice> devices, List<String> problems) {
    /**
     * Copies the lists.
     *
     * @param devices the functions read
     * @param problems the messages
     */
    public DevicesRead {
      devices = List.copyOf(devices);
      problems = List.copyOf(problems);
    }
  }

  /**
   * Reads every function of a devices directory like {@link #readDevices}, but an entry that cannot
   * be read (a {@code config} without permission, missing, not a regular file, malformed) is
   * reported and skipped instead of failing the whole directory.
   *
   * @param devicesDir usually {@link #DEFAULT_DEVICES_DIR}
   * @return the devices read and the problems
   * @throws UncheckedIOException if the directory itself cannot be listed
   */
  public static DevicesRead readDevicesReporting(Path devicesDir) {
    List<PciDevice> devices = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (Path dir : deviceDirs(devicesDir)) {
      try {
        devices.add(readDevice(dir));
      } catch (UncheckedIOException | PciDumpParseException e) {
        problems.add(e.getMessage());
      }
    }
    return new DevicesRead(devices, problems);
  }

  private static byte[] readBytes(Path file, int max) {
    try {
      return InputFiles.readBytes(file, max);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + InputFiles.why(e), e);
    }
  }
}
