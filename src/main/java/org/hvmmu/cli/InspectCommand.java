package org.hvmmu.cli;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.hvmmu.pci.Bar;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciDumpParseException;
import org.hvmmu.pci.msix.MsixCapability;
import org.hvmmu.pci.msix.MsixLayout;
import org.hvmmu.pci.msix.MsixRegion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hvmmu inspect [--json] [PATH...]}: for each PCI function, its address, IDs, BARs, MSI-X
 * capability, the frames its MSI-X table and PBA occupy (PBA sized 8&middot;&lceil;n/64&rceil;
 * bytes, as the hardened model registers it) and the warnings; then what each preset (seed-2010,
 * xen-4.22, hardened) protects once every device's MSI-X is set up: the frames of {@code
 * mmio_ro_ranges}, and the byte ranges of frames that stay partly writable ({@link
 * PresetProtection}).
 *
 * <p>With no PATH it reads {@code /sys/bus/pci/devices}; if that is absent or empty it says so on
 * stderr and shows the bundled sample dumps. A PATH that cannot be read is reported on stderr (one
 * line, no stack trace) and makes the exit code 1; the other PATHs are still shown. So is each
 * entry of a devices directory that cannot be read (its {@code config} unreadable, not a regular
 * file, missing or malformed); the other entries are shown. Bounds: docs/robustness.md.
 *
 * <p>The JSON form is one object {@code {"devices": [...], "protection": {...}}}; each device has
 * exactly the keys {@code address, vendorId, deviceId, headerType, bars, msix, warnings}, and
 * {@code protection} has one object per preset with {@code setUp}, {@code frames} and {@code
 * subpageBytes}; see {@link #json}.
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Show each PCI function's BARs, MSI-X capability and the frames of its MSI-X table and PBA.",
      "PATH: an lspci -x/-xxx/-xxxx dump, a sysfs config file, a sysfs device directory or a"
          + " devices directory. Default: /sys/bus/pci/devices (or the bundled samples if absent)."
    })
final class InspectCommand implements Callable<Integer> {
  private final Path defaultDevicesDir;

  @Spec private CommandSpec spec;

  @Option(names = "--json", description = "Print one JSON object {\"devices\": [...]}.")
  private boolean json;

  @Parameters(arity = "0..*", paramLabel = "PATH", description = "Where to read devices from.")
  private List<Path> paths = new ArrayList<>();

  InspectCommand(Path defaultDevicesDir) {
    this.defaultDevicesDir = defaultDevicesDir;
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<PciDevice> devices = new ArrayList<>();
    int exit = 0;
    if (paths.isEmpty()) {
      devices.addAll(defaultDevices(err));
    } else {
      for (Path path : paths) {
        List<String> problems = new ArrayList<>();
        try {
          devices.addAll(DeviceSources.read(path, problems));
        } catch (DeviceSources.SourceException | PciDumpParseException
            | UncheckedIOException e) {
          // The readers' messages name the file and say why in words: one line each.
          problems.add(e.getMessage());
        }
        for (String problem : problems) {
          err.println("hvmmu inspect: " + problem);
          exit = 1;
        }
      }
    }
    if (devices.stream().anyMatch(d -> d.config().size() < ConfigSpace.CONVENTIONAL_SIZE)) {
      err.println(
          "hvmmu inspect: note: only the header of some functions could be read (reading all of"
              + " sysfs config needs root); their capabilities are not shown");
    }
    if (json) {
      out.println(json(devices));
    } else {
      out.print(text(devices));
    }
    out.flush();
    err.flush();
    return exit;
  }

  private List<PciDevice> defaultDevices(PrintWriter err) {
    if (Files.isDirectory(defaultDevicesDir)) {
      try {
        List<String> problems = new ArrayList<>();
        List<PciDevice> devices = DeviceSources.read(defaultDevicesDir, problems);
        for (String problem : problems) {
          err.println("hvmmu inspect: " + problem);
        }
        if (!devices.isEmpty()) {
          return devices;
        }
      } catch (DeviceSources.SourceException e) {
        // An empty devices directory: no PCI here (a container, say). Fall through to the samples.
      } catch (UncheckedIOException | PciDumpParseException e) {
        // The directory cannot be listed, or is one device's and unreadable: say so, one line.
        err.println("hvmmu inspect: " + e.getMessage());
      }
      err.println(
          "hvmmu inspect: no PCI functions in "
              + defaultDevicesDir
              + "; showing the bundled sample dumps instead");
    } else {
      err.println(
          "hvmmu inspect: "
              + defaultDevicesDir
              + " not found (not Linux, or sysfs not mounted); showing the bundled sample dumps"
              + " instead");
    }
    return DeviceSources.samples();
  }

  /** A device's warnings: the capability walk's, then the MSI-X layout's. */
  static List<String> warnings(PciDevice device, MsixLayout layout) {
    List<String> all = new ArrayList<>(device.capabilities().warnings());
    all.addAll(layout.warnings());
    return all;
  }

  static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }

  /**
   * The JSON report. Keys: {@code address} ("0000:03:00.0"), {@code vendorId} and {@code deviceId}
   * (4 lower-case hex digits), {@code headerType} (the header type masked with 0x7f, an integer),
   * {@code bars} ({@code index} integer, {@code kind} "io"/"mem32"/"mem1m"/"mem64"/"mem-reserved",
   * {@code prefetchable}, {@code address} "0x..", {@code size} "0x.." or null), {@code msix} (null,
   * or {@code capOffset} "0x..", {@code tableSize}, {@code enabled}, {@code functionMask}, {@code
   * table} and {@code pba}, each {@code bir} integer, {@code offset} "0x..", {@code usable}
   * boolean, {@code address}, {@code firstFrame}, {@code lastFrame} "0x.." or null when the region
   * is unusable: its BAR reads 0 or its address arithmetic leaves range, with a warning) and {@code
   * warnings}; then {@code protection}: for {@code seed-2010}, {@code xen-4.22} and {@code
   * hardened}, {@code setUp} (how many devices' MSI-X was set up), {@code frames} and {@code
   * subpageBytes} (inclusive {@code ["0x..", "0x.."]} ranges of frames and of bytes).
   *
   * @param devices the devices
   * @return the JSON text
   */
  static String json(List<PciDevice> devices) {
    JsonWriter w = new JsonWriter();
    w.beginObject().name("devices").beginArray();
    for (PciDevice d : devices) {
      MsixLayout layout = MsixLayout.inspect(d);
      w.beginObject();
      w.name("address").value(d.address().toString());
      w.name("vendorId").value(String.format(Locale.ROOT, "%04x", d.vendorId()));
      w.name("deviceId").value(String.format(Locale.ROOT, "%04x", d.deviceId()));
      w.name("headerType").value(d.headerType());
      w.name("bars").beginArray();
      for (Bar bar : d.bars()) {
        w.beginObject();
        w.name("index").value(bar.index());
        w.name("kind").value(bar.kind().label());
        w.name("prefetchable").value(bar.prefetchable());
        w.name("address").value(hex(bar.address()));
        w.name("size").value(bar.isSizeKnown() ? hex(bar.size()) : null);
        w.endObject();
      }
      w.endArray();
      w.name("msix");
      MsixCapability c = layout.capability();
      if (!c.isPresent()) {
        w.nullValue();
      } else {
        w.beginObject();
        w.name("capOffset").value(hex(c.capOffset()));
        w.name("tableSize").value(c.tableSize());
        w.name("enabled").value(c.enabled());
        w.name("functionMask").value(c.functionMask());
        w.name("table");
        region(w, layout.table());
        w.name("pba");
        region(w, layout.pba());
        w.endObject();
      }
      w.name("warnings").beginArray();
      for (String warning : warnings(d, layout)) {
        w.value(warning);
      }
      w.endArray();
      w.endObject();
    }
    w.endArray();
    w.name("protection").beginObject();
    for (PresetProtection.Result r : PresetProtection.of(devices)) {
      w.name(r.preset()).beginObject();
      w.name("setUp").value(r.setUp());
      w.name("frames").beginArray();
      r.frames().reportRanges(0, -1L, (s, e) -> {
        w.beginArray().value(hex(s)).value(hex(e)).endArray();
        return 0;
      });
      w.endArray();
      w.name("subpageBytes").beginArray();
      for (long[] b : r.bytes()) {
        w.beginArray().value(hex(b[0])).value(hex(b[1])).endArray();
      }
      w.endArray();
      w.endObject();
    }
    w.endObject().endObject();
    return w.toString();
  }

  private static void region(JsonWriter w, MsixRegion r) {
    w.beginObject();
    w.name("bir").value(r.bir());
    w.name("offset").value(hex(r.offset()));
    w.name("usable").value(r.usable());
    w.name("address").value(r.usable() ? hex(r.address()) : null);
    w.name("firstFrame").value(r.usable() ? hex(r.firstFrame()) : null);
    w.name("lastFrame").value(r.usable() ? hex(r.lastFrame()) : null);
    w.endObject();
  }

  /**
   * The text report: one block per device, then the {@code mmio_ro_ranges} of the hardened model
   * after a PHYSDEVOP_prepare_msix of every device with MSI-X.
   *
   * @param devices the devices
   * @return the text, lines ending in {@code \n}
   */
  static String text(List<PciDevice> devices) {
    StringBuilder out = new StringBuilder();
    int withMsix = 0;
    for (PciDevice d : devices) {
      MsixLayout layout = MsixLayout.inspect(d);
      out.append(
          String.format(
              Locale.ROOT,
              "%s [%04x:%04x] header type %d, from %s%n",
              d.address(),
              d.vendorId(),
              d.deviceId(),
              d.headerType(),
              d.source()));
      if (d.bars().isEmpty()) {
        out.append("  no BARs\n");
      }
      for (Bar bar : d.bars()) {
        out.append(
            String.format(
                Locale.ROOT,
                "  BAR %d  %-6s %-17s %s%s%n",
                bar.index(),
                bar.kind().label(),
                bar.kind().isMemory()
                    ? (bar.prefetchable() ? "prefetchable" : "non-prefetchable")
                    : "",
                hex(bar.address()),
                bar.isSizeKnown() ? "  size " + hex(bar.size()) : ""));
      }
      MsixCapability c = layout.capability();
      if (!c.isPresent()) {
        out.append("  MSI-X  none\n");
      } else {
        withMsix++;
        out.append(
            String.format(
                Locale.ROOT,
                "  MSI-X  at %s: %d entr%s, %s, function mask %s%n",
                hex(c.capOffset()),
                c.tableSize(),
                c.tableSize() == 1 ? "y" : "ies",
                c.enabled() ? "enabled" : "disabled",
                c.functionMask() ? "set" : "clear"));
        out.append(regionLine("table", layout.table()));
        out.append(regionLine("PBA", layout.pba()));
      }
      for (String warning : warnings(d, layout)) {
        out.append("  warning: ").append(warning).append('\n');
      }
    }
    out.append('\n')
        .append(devices.size())
        .append(devices.size() == 1 ? " function, " : " functions, ")
        .append(withMsix)
        .append(" with MSI-X. What each preset protects once dom0 has set MSI-X up:")
        .append('\n');
    for (PresetProtection.Result r : PresetProtection.of(devices)) {
      out.append(String.format(Locale.ROOT, "  %-10s %d set up by %s%n", r.preset(), r.setUp(),
          r.how()));
      out.append("    ").append(r.frames()).append('\n');
      if (r.subpage().isEmpty()) {
        out.append("    sub-page: none (MSI-X frames wholly read-only)\n");
        continue;
      }
      out.append("    sub-page: only these bytes are read-only, the rest of the frame writable\n");
      for (long[] f : r.subpage()) {
        StringBuilder spans = new StringBuilder();
        for (long[] b : r.bytes()) {
          if (b[0] >>> 12 == f[0]) {
            spans.append(spans.length() == 0 ? "" : ", ").append(hex(b[0])).append('-')
                .append(hex(b[1]));
          }
        }
        out.append(String.format(Locale.ROOT, "      frame %s: %s (%s of 0x1000 bytes)%n",
            hex(f[0]), spans, hex(f[1])));
      }
    }
    return out.toString();
  }

  private static String regionLine(String what, MsixRegion r) {
    String where = "BAR " + r.bir() + " + " + hex(r.offset());
    if (!r.usable()) {
      return String.format(
          Locale.ROOT, "    %-5s  %-22s  unusable, no frames%n", what, where);
    }
    return String.format(
        Locale.ROOT,
        "    %-5s  %-22s = %s  frames %s-%s  (%s bytes)%n",
        what,
        where,
        hex(r.address()),
        hex(r.firstFrame()),
        hex(r.lastFrame()),
        hex(r.length()));
  }
}
