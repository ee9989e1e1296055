package org.hvmmu.testkit.host;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.hvmmu.host.GuestDomain;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostDevice;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.pci.Bar;
import org.hvmmu.pci.BarKind;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.msix.MsixLayout;
import org.hvmmu.pci.msix.MsixRegion;
import org.hvmmu.pci.msix.PbaSizing;
import org.hvmmu.x86.Pte;

/**
 * A host of fixed shape, built the same way every time, and the scenario-script lines that build it
 * (so a counterexample found on it replays with {@code hvmmu replay}). The shape:
 *
 * <table>
 *   <caption>The host a set-up builds</caption>
 *   <tr><th>what</th><th>script name</th><th>frames</th></tr>
 *   <tr><td>a host of 0x1000 frame-table frames</td><td></td><td></td></tr>
 *   <tr><td>one PCI function at 0000:01:00.0 from {@link #device()} (BAR sizes unknown, as from a
 *       dump)</td><td>{@value #DEVICE}</td><td>its memory BARs; beyond the frame table</td></tr>
 *   <tr><td>dom0: PV, privileged, owns the device until it is assigned; I/O rights over the host
 *       window and the device's BARs; L1 table {@code 0xc0} pinned</td><td>{@code dom0}</td><td>RAM
 *       {@code 0xc0-0xff}</td></tr>
 *   <tr><td>guest {@code i} (ids 1, 2, ...) in paging mode {@code guests().get(i - 1)}; PV and PV32
 *       guests have their first RAM frame pinned as an L1 table, shadowed guests two guest
 *       tables (0 and 1)</td><td>mode prefix + id: {@code pv1}, {@code pae2}, {@code pvs3}, {@code
 *       ept4}, {@code npt5}, {@code hvs6}</td><td>RAM {@code 0x100*i} to {@code 0x100*i +
 *       0xff}</td></tr>
 *   <tr><td>a host MMIO window (an IO-APIC, say) that dom0 may map and the host may
 *       protect</td><td>registrants {@code ioapic}, {@code hpet}</td><td>{@code 0xfec00-0xfec03}</td></tr>
 *   <tr><td>the device assigned to guest {@link #deviceOwner()} (0: dom0 keeps it)</td><td>{@code
 *       assign}</td><td></td></tr>
 * </table>
 *
 * <pre>{@code
 * HostSetup setup = HostSetup.of(Policy.HARDENED, nicConfigSpace);
 * Host host = setup.build();
 * String preamble = String.join("\n", setup.scriptLines());   // "host frames 0x1000 policy hardened" ...
 * }</pre>
 *
 * <p>Immutable and thread-safe; {@link #build()} makes a new host each call (two hosts share
 * nothing).
 *
 * @param policy the host's policy
 * @param device the PCI function's configuration space (64, 128, 256 or 4096 bytes)
 * @param guests the paging modes of guests 1, 2, ...; at most {@value #MAX_GUESTS}
 * @param deviceOwner the guest the device is assigned to in the set-up, or 0 to leave it with dom0
 */
public record HostSetup(
    Policy policy, ConfigSpace device, List<PagingMode> guests, int deviceOwner) {

  /** Frame-table frames of the host: {@value}. */
  public static final long FRAMES = 0x1000;

  /** The most guests a set-up holds (their RAM must fit in the frame table): {@value}. */
  public static final int MAX_GUESTS = 14;

  /** The device's name in scripts: {@value}. */
  public static final String DEVICE = "dev";

  /** The device's address (what a {@code device NAME hex} block without a header line gets). */
  public static final PciAddress DEVICE_ADDRESS = new PciAddress(0, 1, 0, 0);

  /** The first frame of the host MMIO window. */
  public static final long HOST_MMIO_FIRST = 0xfec00;

  /** The last frame of the host MMIO window, inclusive. */
  public static final long HOST_MMIO_LAST = 0xfec03;

  /** dom0's first RAM frame; also its pinned L1 table. */
  public static final long DOM0_RAM_FIRST = 0xc0;

  /** dom0's last RAM frame, inclusive. */
  public static final long DOM0_RAM_LAST = 0xff;

  /** The guests of {@link #of(Policy, ConfigSpace)}: one in each paging mode but PV32. */
  public static final List<PagingMode> DEFAULT_GUESTS =
      List.of(
          PagingMode.PV,
          PagingMode.PV_SHADOW,
          PagingMode.HVM_EPT,
          PagingMode.HVM_NPT,
          PagingMode.HVM_SHADOW);

  /** Guest tables each shadowed guest gets in the set-up. */
  public static final int SHADOW_TABLES = 2;

  /**
   * Checks the arguments and copies the guest list.
   *
   * @param policy the policy
   * @param device the configuration space
   * @param guests the guests' paging modes
   * @param deviceOwner 0 or a guest id
   * @throws IllegalArgumentException if there are more than {@value #MAX_GUESTS} guests or the owner
   *     is not 0 or a guest
   */
  public HostSetup {
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(device, "device");
    guests = List.copyOf(guests);
    if (guests.size() > MAX_GUESTS) {
      throw new IllegalArgumentException(
          "guests: " + guests.size() + " (expected: at most " + MAX_GUESTS + ")");
    }
    if (deviceOwner < 0 || deviceOwner > guests.size()) {
      throw new IllegalArgumentException(
          "deviceOwner: " + deviceOwner + " (expected: 0 to " + guests.size() + ")");
    }
  }

  /**
   * The default shape: {@link #DEFAULT_GUESTS}, the device left with dom0.
   *
   * @param policy the policy
   * @param device the device's configuration space
   * @return the set-up
   */
  public static HostSetup of(Policy policy, ConfigSpace device) {
    return new HostSetup(policy, device, DEFAULT_GUESTS, 0);
  }

  /**
   * This set-up with another policy (the same host otherwise).
   *
   * @param value the policy
   * @return a new set-up
   */
  public HostSetup withPolicy(Policy value) {
    return new HostSetup(value, device, guests, deviceOwner);
  }

  /**
   * This set-up with other guests; the device stays with dom0.
   *
   * @param value the guests' paging modes
   * @return a new set-up
   */
  public HostSetup withGuests(List<PagingMode> value) {
    return new HostSetup(policy, device, value, 0);
  }

  /**
   * This set-up with the device assigned to another guest.
   *
   * @param value 0 (dom0 keeps it) or a guest id
   * @return a new set-up
   */
  public HostSetup withDeviceOwner(int value) {
    return new HostSetup(policy, device, guests, value);
  }

  /**
   * The domain ids: 0 (dom0), then the guests 1 to {@code guests().size()}.
   *
   * @return the ids in order
   */
  public int[] domainIds() {
    int[] ids = new int[guests.size() + 1];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = i;
    }
    return ids;
  }

  /**
   * A domain's paging mode.
   *
   * @param id 0 or a guest id
   * @return {@link PagingMode#PV} for dom0
   */
  public PagingMode mode(int id) {
    checkId(id);
    return id == 0 ? PagingMode.PV : guests.get(id - 1);
  }

  /**
   * A domain's name in scripts: {@code dom0}, or the mode's prefix ({@code pv}, {@code pae}, {@code
   * pvs}, {@code ept}, {@code npt}, {@code hvs}) followed by the id.
   *
   * @param id 0 or a guest id
   * @return the name
   */
  public String name(int id) {
    checkId(id);
    if (id == 0) {
      return "dom0";
    }
    String prefix = switch (guests.get(id - 1)) {
      case PV -> "pv";
      case PV32 -> "pae";
      case PV_SHADOW -> "pvs";
      case HVM_EPT -> "ept";
      case HVM_NPT -> "npt";
      case HVM_SHADOW -> "hvs";
    };
    return prefix + id;
  }

  /**
   * A domain's first RAM frame; a PV domain's pinned L1 table.
   *
   * @param id 0 or a guest id
   * @return the frame
   */
  public long ramFirst(int id) {
    checkId(id);
    return id == 0 ? DOM0_RAM_FIRST : 0x100L * id;
  }

  /**
   * A domain's last RAM frame, inclusive.
   *
   * @param id 0 or a guest id
   * @return the frame
   */
  public long ramLast(int id) {
    checkId(id);
    return id == 0 ? DOM0_RAM_LAST : 0x100L * id + 0xff;
  }

  /**
   * The PCI function as the set-up adds it: at {@link #DEVICE_ADDRESS}, BAR sizes unknown.
   *
   * @return a new device object over {@link #device()}
   */
  public PciDevice pciDevice() {
    return new PciDevice(DEVICE_ADDRESS, device, "hvmmu testkit");
  }

  /**
   * The device's MSI-X layout as the host's invariant sees it (corrected BAR read, real PBA size).
   *
   * @return the layout; {@link MsixLayout#table()} is {@link MsixRegion#NONE} without MSI-X
   */
  public MsixLayout msixLayout() {
    return MsixLayout.inspect(pciDevice(), PbaSizing.CORRECTED);
  }

  /**
   * The frames of the device's memory BARs as the host computes them ({@link
   * HostDevice#barFrames()}): {@code first, last} pairs, a BAR of unknown size covering its first
   * frame and the MSI-X frames inside it.
   *
   * @return the pairs
   */
  public long[] barFrames() {
    PciDevice pci = pciDevice();
    MsixLayout layout = MsixLayout.inspect(pci, PbaSizing.CORRECTED);
    List<long[]> ranges = new ArrayList<>();
    for (Bar bar : pci.bars()) {
      if (bar.kind() == BarKind.IO || !bar.valid() || !bar.isAssigned()) {
        continue;
      }
      long first = bar.address() >>> Pte.PAGE_SHIFT;
      long last = first;
      for (MsixRegion r : new MsixRegion[] {layout.table(), layout.pba()}) {
        if (r.usable() && r.bir() == bar.index()) {
          last = Math.max(last, r.lastFrame());
        }
      }
      ranges.add(new long[] {first, last});
    }
    long[] out = new long[2 * ranges.size()];
    for (int i = 0; i < ranges.size(); i++) {
      out[2 * i] = ranges.get(i)[0];
      out[2 * i + 1] = ranges.get(i)[1];
    }
    return out;
  }

  /**
   * Builds the host: the steps of {@link #scriptLines()}, in that order.
   *
   * @return a new host
   * @throws IllegalStateException if a step fails (a p2m out of memory, say)
   */
  public Host build() {
    Host host = new Host(FRAMES, policy);
    HostDevice dev = host.addDevice(pciDevice());
    long[] bars = dev.barFrames();
    for (int id : domainIds()) {
      PagingMode mode = mode(id);
      GuestDomain d = host.createDomain(id, mode, id == 0);
      require(host.giveRam(d, ramFirst(id), ramLast(id)), "ram", id);
      if (id == 0) {
        require(host.grantIomem(d, HOST_MMIO_FIRST, HOST_MMIO_LAST), "iomem", id);
        for (int i = 0; i < bars.length; i += 2) {
          require(host.grantIomem(d, bars[i], bars[i + 1]), "iomem", id);
        }
      }
      if (mode.pvTables()) {
        require(host.pinL1Table(d, ramFirst(id)), "pin", id);
      }
      if (mode.shadowed()) {
        for (int t = 0; t < SHADOW_TABLES; t++) {
          host.newGuestTable(d);
        }
      }
    }
    if (deviceOwner != 0) {
      require(host.assignDevice(dev, host.domain(deviceOwner)), "assign", deviceOwner);
    }
    return host;
  }

  private static void require(int rc, String step, int id) {
    if (rc != 0) {
      throw new IllegalStateException("host set-up: " + step + " for d" + id + " returned " + rc);
    }
  }

  /**
   * The script lines that build the same host as {@link #build()}: a comment naming the policy
   * (when it is neither preset, {@code hvmmu replay} cannot select it; the Java scenario runner
   * can), {@code host}, the {@code device dev hex} block, then per domain {@code domain}, {@code
   * ram}, {@code iomem}, {@code pin} or {@code table}, and finally {@code assign}.
   *
   * @return the lines, without newlines
   */
  public List<String> scriptLines() {
    List<String> out = new ArrayList<>();
    out.add("# hvmmu testkit host set-up; policy: " + HostScript.describePolicy(policy));
    String preset = HostScript.policyName(policy);
    out.add("host frames " + HostScript.hex(FRAMES) + (preset.isEmpty() ? "" : " policy " + preset));
    out.add("device " + DEVICE + " hex");
    out.addAll(HostScript.hexLines(device));
    out.add("end");
    long[] bars = barFrames();
    for (int id : domainIds()) {
      PagingMode mode = mode(id);
      String name = name(id);
      out.add("domain " + name + " " + id + " " + HostScript.modeName(mode)
          + (id == 0 ? " privileged" : ""));
      out.add("ram " + name + " " + HostScript.range(ramFirst(id), ramLast(id)));
      if (id == 0) {
        out.add("iomem " + name + " " + HostScript.range(HOST_MMIO_FIRST, HOST_MMIO_LAST));
        for (int i = 0; i < bars.length; i += 2) {
          out.add("iomem " + name + " " + HostScript.range(bars[i], bars[i + 1]));
        }
      }
      if (mode.pvTables()) {
        out.add("pin " + name + " " + HostScript.hex(ramFirst(id)));
      }
      if (mode.shadowed()) {
        for (int t = 0; t < SHADOW_TABLES; t++) {
          out.add("table " + name);
        }
      }
    }
    if (deviceOwner != 0) {
      out.add("assign " + DEVICE + " " + name(deviceOwner));
    }
    return out;
  }

  private void checkId(int id) {
    if (id < 0 || id > guests.size()) {
      throw new IllegalArgumentException(
          "domain id " + id + " (expected: 0 to " + guests.size() + ")");
    }
  }
}
