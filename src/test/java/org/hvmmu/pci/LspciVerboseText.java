package org.hvmmu.pci;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A test-side reader of {@code lspci -vvv} output: the independent source the decoding tests
 * compare against. It reads only what those tests need: each device's address, its top-level {@code
 * Region} lines and its first MSI-X capability, in both the current ({@code Enable+ Count=10
 * Masked-}) and the old ({@code Enable+ Mask- TabSize=10}) format.
 */
public final class LspciVerboseText {
  private LspciVerboseText() {}

  /**
   * One {@code Region n:} line.
   *
   * @param index the BAR number lspci printed
   * @param io whether it says "I/O ports"
   * @param width "32-bit", "64-bit", "low-1M" or "type 3" for memory, null for I/O
   * @param prefetchable whether memory is "prefetchable" rather than "non-prefetchable"
   * @param hasAddress false for {@code <unassigned>}, {@code <ignored>} and the like
   * @param address the hex address (unsigned 64 bits), or 0 without one
   * @param virtual whether lspci marked it "[virtual]" (reported by the OS, not by the device)
   */
  public record Region(
      int index,
      boolean io,
      String width,
      boolean prefetchable,
      boolean hasAddress,
      long address,
      boolean virtual) {}

  /**
   * The first MSI-X capability.
   *
   * @param capOffset the offset in brackets
   * @param count the table size
   * @param enabled Enable+
   * @param masked Masked+ (or Mask+ in the old format)
   * @param tableBir the table's BAR
   * @param tableOffset the table's offset
   * @param pbaBir the PBA's BAR
   * @param pbaOffset the PBA's offset
   */
  public record Msix(
      int capOffset,
      int count,
      boolean enabled,
      boolean masked,
      int tableBir,
      long tableOffset,
      int pbaBir,
      long pbaOffset) {}

  /**
   * One device.
   *
   * @param address its address
   * @param regions its top-level regions (not SR-IOV VF regions)
   * @param msix its MSI-X capability, or null
   */
  public record Device(PciAddress address, List<Region> regions, Msix msix) {}

  private static final Pattern HEADER =
      Pattern.compile("^ {0,3}((?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]) .*");
  private static final Pattern FIELD = Pattern.compile("^(\\s+)\\S.*");
  private static final Pattern REGION =
      Pattern.compile(
          "^(\\s+)Region (\\d): (\\[virtual\\] )?(Memory at|I/O ports at) (\\S+)"
              + "(?: \\(([^,]+), (non-)?prefetchable\\))?.*");
  private static final Pattern MSIX =
      Pattern.compile(
          "^\\s+Capabilities: \\[([0-9a-f]+)\\] MSI-X: Enable([+-]) "
              + "(?:Count=(\\d+) Masked([+-])|Mask([+-]) TabSize=(\\d+)).*");
  private static final Pattern TABLE =
      Pattern.compile("^\\s+Vector table: BAR=(\\d) offset=([0-9a-f]+).*");
  private static final Pattern PBA = Pattern.compile("^\\s+PBA: BAR=(\\d) offset=([0-9a-f]+).*");

  /**
   * Parses the whole output.
   *
   * @param text lspci's output
   * @return the devices in order
   */
  public static List<Device> parse(String text) {
    List<Device> devices = new ArrayList<>();
    PciAddress address = null;
    List<Region> regions = new ArrayList<>();
    Msix msix = null;
    String fieldIndent = null;
    String[] msixHead = null;
    int tableBir = -1;
    long tableOffset = -1;
    for (String line : text.split("\r?\n")) {
      Matcher m = HEADER.matcher(line);
      if (m.matches()) {
        if (address != null) {
          devices.add(new Device(address, List.copyOf(regions), msix));
        }
        address = PciAddress.parse(m.group(1));
        regions = new ArrayList<>();
        msix = null;
        fieldIndent = null;
        msixHead = null;
        continue;
      }
      if (address == null) {
        continue;
      }
      m = FIELD.matcher(line);
      if (fieldIndent == null && m.matches()) {
        fieldIndent = m.group(1);
      }
      m = REGION.matcher(line);
      if (m.matches()) {
        if (!m.group(1).equals(fieldIndent)) {
          continue;
        }
        boolean io = m.group(4).startsWith("I/O");
        String where = m.group(5);
        boolean hasAddress = !where.startsWith("<");
        long addr = hasAddress ? Long.parseUnsignedLong(where, 16) : 0;
        regions.add(
            new Region(
                Integer.parseInt(m.group(2)),
                io,
                io ? null : m.group(6),
                !io && m.group(7) == null,
                hasAddress,
                addr,
                m.group(3) != null));
        continue;
      }
      m = MSIX.matcher(line);
      if (m.matches() && msix == null && msixHead == null) {
        msixHead =
            new String[] {
              m.group(1),
              m.group(3) != null ? m.group(3) : m.group(6),
              m.group(2),
              m.group(4) != null ? m.group(4) : m.group(5)
            };
        continue;
      }
      if (msixHead != null) {
        m = TABLE.matcher(line);
        if (m.matches()) {
          tableBir = Integer.parseInt(m.group(1));
          tableOffset = Long.parseLong(m.group(2), 16);
          continue;
        }
        m = PBA.matcher(line);
        if (m.matches()) {
          msix =
              new Msix(
                  Integer.parseInt(msixHead[0], 16),
                  Integer.parseInt(msixHead[1]),
                  msixHead[2].equals("+"),
                  msixHead[3].equals("+"),
                  tableBir,
                  tableOffset,
                  Integer.parseInt(m.group(1)),
                  Long.parseLong(m.group(2), 16));
          msixHead = null;
        }
      }
    }
    if (address != null) {
      devices.add(new Device(address, List.copyOf(regions), msix));
    }
    return devices;
  }
}
