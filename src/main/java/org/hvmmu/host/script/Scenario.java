package org.hvmmu.host.script;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import org.hvmmu.host.HostInvariants;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.MmuSwitches.TlbMode;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PageType;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.hvmmu.xen.DomainIds;

/**
 * A parsed scenario script: its source name, the directory its relative dump paths resolve
 * against, and its commands, each with the line it was written on. The commands are small
 * immutable records, one per command of the language ({@code docs/scenarios.md}), so that code can
 * build a scenario, run it with {@link ScenarioRunner} and print it with {@link ScenarioWriter}:
 *
 * <pre>{@code
 * List<Scenario.Command> commands = List.of(
 *     new Scenario.CreateDomain("guest", 1, PagingMode.PV, false),
 *     new Scenario.GiveRam("guest", 0x100, 0x1ff),
 *     new Scenario.GrantIomem("guest", 0xfe000, 0xfe0ff),
 *     new Scenario.Protect("ioapic", 0xfe010, 0xfe010),
 *     new Scenario.Pin("guest", 0x100),
 *     new Scenario.MmuUpdate("guest", 0x100, 0, Pte.fromMfn(0xfe010, PAGE_PRESENT | PAGE_RW)),
 *     new Scenario.ExpectPvEntry(false, "guest", 0x100, 0));
 * String script = ScenarioWriter.write(commands);        // line i + 1 holds command i
 * Scenario scenario = Scenario.of("counterexample", commands);
 * ScenarioResult result = ScenarioRunner.forcing(Policy.SEED_2010).run(scenario);
 * }</pre>
 *
 * <p>The records check their own arguments (names, slot and entry bounds, {@code first <= last}
 * as unsigned numbers) and throw {@link IllegalArgumentException}; whether names are declared
 * before use and fit the domain's paging mode is checked when a scenario is parsed ({@link
 * ScenarioParser}) and again when it runs. Immutable and thread-safe.
 *
 * @param source the name used in messages ({@code FILE:LINE: ...})
 * @param directory the directory relative dump paths resolve against
 * @param steps the commands in order, each with its line
 */
public record Scenario(String source, Path directory, List<Step> steps) {

  /** The largest frame-table size a script may ask for ({@code host frames N}): 0x100000 frames. */
  public static final long MAX_HOST_FRAMES = 0x100000;

  /** The frame-table size when a script has no {@code host} command: 0x1000 frames. */
  public static final long DEFAULT_HOST_FRAMES = 0x1000;

  /** The largest MSI-X entry number a script may name (tables have at most 2048 entries). */
  public static final int MAX_MSIX_ENTRY = 2047;

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.:-]*");

  /**
   * Checks the arguments and copies the steps.
   *
   * @param source the source name
   * @param directory the base directory
   * @param steps the steps
   */
  public Scenario {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(directory, "directory");
    steps = List.copyOf(steps);
  }

  /**
   * A scenario of {@code commands} as {@link ScenarioWriter#write} would write them, with the
   * lines of that text; relative dump paths resolve against the working directory.
   *
   * @param source the source name for messages
   * @param commands the commands
   * @return the scenario
   * @throws ScenarioException if the commands do not form a valid script (say, a name is used
   *     before it is declared)
   */
  public static Scenario of(String source, List<? extends Command> commands) {
    return ScenarioParser.parse(source, ScenarioWriter.write(commands));
  }

  /**
   * The commands without their lines.
   *
   * @return a new list
   */
  public List<Command> commands() {
    List<Command> commands = new ArrayList<>(steps.size());
    for (Step step : steps) {
      commands.add(step.command());
    }
    return commands;
  }

  /**
   * One command and the 1-based line it starts on.
   *
   * @param line the line
   * @param command the command
   */
  public record Step(int line, Command command) {
    /**
     * Checks the arguments.
     *
     * @param line the line, at least 1
     * @param command the command
     */
    public Step {
      if (line < 1) {
        throw new IllegalArgumentException("line: " + line + " (expected: >= 1)");
      }
      Objects.requireNonNull(command, "command");
    }
  }

  /**
   * One command of the language. Each record's Javadoc gives its script form.
   */
  public sealed interface Command
      permits HostConfig, DeviceDump, DeviceHex, CreateDomain, GiveRam, MmioHole, Mmcfg, GrantIomem,
          Assign, Protect, Unprotect, MsixEnable, MsixDisable, MsixPrepare, MsixRelease, Pin, Unpin,
          GuestWrite, MmuUpdate, Ptwr, SetP2m, Retype, NewTable, ShadowWrite, Crash, ExpectRc,
          ExpectPvEntry, ExpectP2mEntry, ExpectShadowEntry, ExpectProtected, ExpectInvariantsHold,
          ExpectInvariantFails, PrintRanges, PrintInvariants, CreateVcpu, LoadRegisters, Read,
          Store, Fetch, Translate, Invlpg, Invpcid, Mmuext, UpdateVa, Poke, ExpectMemory,
          ExpectValue, ExpectOk, ExpectFault, MsixFire, ConfigWrite, ExpectSent, MsixProgram {

    /**
     * Whether this is an {@code expect} line (it checks, changes nothing, and has no return code
     * of its own).
     *
     * @return true for the {@code Expect*} records
     */
    default boolean isExpect() {
      return false;
    }
  }

  /** The host's policy as a script names it. */
  public enum PolicyName {
    /** No policy named: {@link Policy#HARDENED}, the library's default. */
    UNSPECIFIED(""),
    /** {@code seed-2010}: {@link Policy#SEED_2010}. */
    SEED_2010("seed-2010"),
    /** {@code hardened}: {@link Policy#HARDENED}. */
    HARDENED("hardened"),
    /** {@code xen-4.22}: {@link Policy#XEN_4_22}. */
    XEN_4_22("xen-4.22");

    private final String scriptName;

    PolicyName(String scriptName) {
      this.scriptName = scriptName;
    }

    /**
     * The name in scripts and on the command line.
     *
     * @return {@code seed-2010}, {@code hardened}, {@code xen-4.22}, or the empty string for {@link
     *     #UNSPECIFIED}
     */
    public String scriptName() {
      return scriptName;
    }

    /**
     * The policy.
     *
     * @return {@link Policy#SEED_2010}, {@link Policy#HARDENED} or {@link Policy#XEN_4_22}
     */
    public Policy policy() {
      return switch (this) {
        case SEED_2010 -> Policy.SEED_2010;
        case XEN_4_22 -> Policy.XEN_4_22;
        case HARDENED, UNSPECIFIED -> Policy.HARDENED;
      };
    }

    /**
     * The policy named {@code name}.
     *
     * @param name {@code seed-2010}, {@code hardened} or {@code xen-4.22}
     * @return the constant
     * @throws IllegalArgumentException for another name
     */
    public static PolicyName fromScriptName(String name) {
      for (PolicyName p : values()) {
        if (p != UNSPECIFIED && p.scriptName.equals(name)) {
          return p;
        }
      }
      throw new IllegalArgumentException(
          "unknown policy '" + name + "' (expected: seed-2010, hardened or xen-4.22)");
    }
  }

  /**
   * {@code host frames N [policy P] [tlb strict|over-flush]}: the host, only as the first command.
   *
   * @param frames frame-table frames, 1 to {@link #MAX_HOST_FRAMES}
   * @param policy the policy the script asks for (a runner may override it)
   * @param tlb what the vCPUs' invalidations remove ({@code Host.configureVcpus}): strict retention
   *     (the default, so that a missing flush shows) or over-flush
   */
  public record HostConfig(long frames, PolicyName policy, TlbMode tlb) implements Command {
    /**
     * Checks the arguments.
     *
     * @param frames the frame count
     * @param policy the policy name
     * @param tlb the TLB mode
     */
    public HostConfig {
      if (frames < 1 || frames > MAX_HOST_FRAMES) {
        throw new IllegalArgumentException("host frames 0x" + Long.toHexString(frames)
            + " (expected: 1 to 0x" + Long.toHexString(MAX_HOST_FRAMES) + ")");
      }
      Objects.requireNonNull(policy, "policy");
      Objects.requireNonNull(tlb, "tlb");
    }

    /**
     * {@code host frames N [policy P]}, with strict TLB retention.
     *
     * @param frames the frame count
     * @param policy the policy name
     */
    public HostConfig(long frames, PolicyName policy) {
      this(frames, policy, TlbMode.STRICT);
    }
  }

  /**
   * {@code device NAME dump PATH [index I]}: a PCI function from an {@code lspci} dump file.
   *
   * @param name the device's name
   * @param path the file, relative to the script's directory unless absolute; no blanks
   * @param index which device of the file, from 0
   */
  public record DeviceDump(String name, String path, int index) implements Command {
    /**
     * Checks the arguments.
     *
     * @param name the name
     * @param path the path
     * @param index the index
     */
    public DeviceDump {
      checkName(name);
      if (path.isEmpty() || path.chars().anyMatch(c -> Character.isWhitespace(c) || c == '#')) {
        throw new IllegalArgumentException("dump path '" + path + "' (expected: no blanks or #)");
      }
      if (index < 0) {
        throw new IllegalArgumentException("index: " + index + " (expected: >= 0)");
      }
    }
  }

  /**
   * {@code device NAME hex} ... {@code end}: a PCI function from inline {@code lspci -x/-xxx}
   * lines; address 0000:01:00.0 unless the first line is a device header line.
   *
   * @param name the device's name
   * @param lines the lines between {@code device} and {@code end}, trimmed, without comments or
   *     blank lines
   */
  public record DeviceHex(String name, List<String> lines) implements Command {
    /**
     * Checks the arguments and copies the lines.
     *
     * @param name the name
     * @param lines the lines
     */
    public DeviceHex {
      checkName(name);
      lines = List.copyOf(lines);
      if (lines.isEmpty()) {
        throw new IllegalArgumentException("device " + name + " hex: no lines");
      }
      for (String line : lines) {
        if (line.isBlank() || !line.equals(line.strip()) || line.indexOf('#') >= 0
            || line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0 || line.equals("end")) {
          throw new IllegalArgumentException("device " + name + " hex: bad line '" + line + "'");
        }
      }
    }
  }

  /**
   * {@code domain NAME ID MODE [privileged]}: {@code Host.createDomain}.
   *
   * @param name the domain's name
   * @param id its id, an ordinary domain id
   * @param mode its paging mode
   * @param privileged whether it is the hardware domain (PV and PV32 only)
   */
  public record CreateDomain(String name, int id, PagingMode mode, boolean privileged)
      implements Command {
    /**
     * Checks the arguments.
     *
     * @param name the name
     * @param id the id
     * @param mode the mode
     * @param privileged privileged
     */
    public CreateDomain {
      checkName(name);
      if (!DomainIds.isOrdinary(id)) {
        throw new IllegalArgumentException("domain id " + id + " (expected: 0 to "
            + (DomainIds.DOMID_FIRST_RESERVED - 1) + ")");
      }
      Objects.requireNonNull(mode, "mode");
      if (privileged && !mode.pvTables()) {
        throw new IllegalArgumentException(
            "a privileged domain must be pv or pv32, not " + modeName(mode));
      }
    }
  }

  /**
   * {@code ram DOMAIN RANGE}: {@code Host.giveRam}, frames inclusive {@code [first, last]}.
   *
   * @param domain the domain
   * @param first the first frame
   * @param last the last frame
   */
  public record GiveRam(String domain, long first, long last) implements Command {
    /**
     * Checks the arguments.
     *
     * @param domain the domain
     * @param first first
     * @param last last
     */
    public GiveRam {
      checkName(domain);
      checkRange(first, last);
    }
  }

  /**
   * {@code mmio-hole RANGE}: {@code Host.addMmioHole}, frames inclusive {@code [first, last]}.
   *
   * @param first the first frame
   * @param last the last frame
   */
  public record MmioHole(long first, long last) implements Command {
    /**
     * Checks the arguments.
     *
     * @param first first
     * @param last last
     */
    public MmioHole {
      checkRange(first, last);
    }
  }

  /**
   * {@code mmcfg SEGMENT BUSES ADDRESS}: {@code Host.addMmcfg}, an ECAM window for buses {@code
   * [startBus, endBus]} of the segment, bus 0 at machine address {@code address}.
   *
   * @param segment the PCI segment, 0 to 0xffff
   * @param startBus the first bus
   * @param endBus the last bus, {@code startBus} to 255
   * @param address the address of bus 0
   */
  public record Mmcfg(int segment, int startBus, int endBus, long address) implements Command {
    /**
     * Checks the arguments.
     *
     * @param segment segment
     * @param startBus startBus
     * @param endBus endBus
     * @param address address
     */
    public Mmcfg {
      if (segment < 0 || segment > 0xffff || startBus < 0 || startBus > endBus || endBus > 0xff) {
        throw new IllegalArgumentException("mmcfg " + segment + " " + startBus + "-" + endBus
            + " (expected: segment 0 to 0xffff, buses 0 <= first <= last <= 255)");
      }
    }
  }

  /**
   * {@code iomem DOMAIN RANGE}: {@code Host.grantIomem}, frames inclusive {@code [first, last]}.
   *
   * @param domain the domain
   * @param first the first frame
   * @param last the last frame
   */
  public record GrantIomem(String domain, long first, long last) implements Command {
    /**
     * Checks the arguments.
     *
     * @param domain the domain
     * @param first first
     * @param last last
     */
    public GrantIomem {
      checkName(domain);
      checkRange(first, last);
    }
  }

  /**
   * {@code assign DEVICE DOMAIN}: {@code Host.assignDevice}.
   *
   * @param device the device
   * @param domain the domain
   */
  public record Assign(String device, String domain) implements Command {
    /**
     * Checks the arguments.
     *
     * @param device the device
     * @param domain the domain
     */
    public Assign {
      checkName(device);
      checkName(domain);
    }
  }

  /**
   * {@code protect REGISTRANT RANGE}: {@code Host.protect}, frames inclusive {@code [first,
   * last]}; declares the registrant.
   *
   * @param registrant the registrant's name
   * @param first the first frame
   * @param last the last frame
   */
  public record Protect(String registrant, long first, long last) implements Command {
    /**
     * Checks the arguments.
     *
     * @param registrant the registrant
     * @param first first
     * @param last last
     */
    public Protect {
      checkName(registrant);
      checkRange(first, last);
    }
  }

  /**
   * {@code unprotect REGISTRANT RANGE}: {@code Host.unprotect}, frames inclusive {@code [first,
   * last]}.
   *
   * @param registrant a registrant named by an earlier {@code protect}
   * @param first the first frame
   * @param last the last frame
   */
  public record Unprotect(String registrant, long first, long last) implements Command {
    /**
     * Checks the arguments.
     *
     * @param registrant the registrant
     * @param first first
     * @param last last
     */
    public Unprotect {
      checkName(registrant);
      checkRange(first, last);
    }
  }

  /**
   * {@code msix enable DEVICE ENTRY [by DOMAIN]}: {@code Host.enableMsix} on behalf of dom0 (id
   * 0) or of DOMAIN.
   *
   * @param device the device
   * @param entry the table entry, 0 to {@link #MAX_MSIX_ENTRY}
   * @param by the calling domain's name, or the empty string for the hardware domain (id 0)
   */
  public record MsixEnable(String device, int entry, String by) implements Command {
    /**
     * Checks the arguments.
     *
     * @param device the device
     * @param entry the entry
     * @param by the caller or ""
     */
    public MsixEnable {
      checkName(device);
      checkEntry(entry);
      if (!by.isEmpty()) {
        checkName(by);
      }
    }
  }

  /**
   * {@code msix disable DEVICE ENTRY}: {@code Host.disableMsix}.
   *
   * @param device the device
   * @param entry the table entry
   */
  public record MsixDisable(String device, int entry) implements Command {
    /**
     * Checks the arguments.
     *
     * @param device the device
     * @param entry the entry
     */
    public MsixDisable {
      checkName(device);
      checkEntry(entry);
    }
  }

  /**
   * {@code msix fire DEVICE ENTRY}: {@code Host.fireMsix}, the device signals vector ENTRY; the
   * return code is the result's ordinal: 0 delivered, 1 pending, 2 not enabled, 3 out of range, 4
   * no MSI-X registers. A message sent goes to the queue {@code expect sent} reads.
   *
   * @param device the device
   * @param entry the vector, 0 to {@link #MAX_MSIX_ENTRY}
   */
  public record MsixFire(String device, int entry) implements Command {
    /**
     * Checks the arguments.
     *
     * @param device the device
     * @param entry the entry
     */
    public MsixFire {
      checkName(device);
      checkEntry(entry);
    }
  }

  /**
   * {@code config DEVICE OFFSET SIZE VALUE}: {@code Host.writeConfig}, a configuration-space write
   * (it acts on MSI-X Message Control's Enable and Function Mask); return code 0 if it reached them,
   * 1 if not.
   *
   * @param device the device
   * @param offset the byte offset, 0 to 4095, a multiple of the size
   * @param size 1, 2 or 4
   * @param value the value, at most {@code 8 * size} bits
   */
  public record ConfigWrite(String device, int offset, int size, long value) implements Command {
    /**
     * Checks the arguments.
     *
     * @param device the device
     * @param offset the offset
     * @param size the size
     * @param value the value
     */
    public ConfigWrite {
      checkName(device);
      if (size != 1 && size != 2 && size != 4) {
        throw new IllegalArgumentException("config write size " + size + " (expected 1, 2 or 4)");
      }
      if (offset < 0 || offset > 4095 || offset % size != 0) {
        throw new IllegalArgumentException("config write offset " + offset
            + " (expected 0 to 4095, a multiple of " + size + ")");
      }
      if (size < 8 && (value >>> (8 * size)) != 0) {
        throw new IllegalArgumentException("config write value 0x" + Long.toHexString(value)
            + " is wider than " + size + " bytes");
      }
    }
  }

  /**
   * {@code expect sent ADDRESS DATA} or {@code expect sent nothing}: the oldest MSI-X message not
   * yet expected (any device, from a fire, an unmask or a configuration write) had this address and
   * data; or no message is waiting.
   *
   * @param nothing true for {@code nothing}
   * @param address the 64-bit message address (0 with {@code nothing})
   * @param data the 32-bit message data (0 with {@code nothing})
   */
  public record ExpectSent(boolean nothing, long address, long data) implements Command {
    /**
     * Checks the arguments.
     *
     * @param nothing see above
     * @param address see above
     * @param data see above
     */
    public ExpectSent {
      if ((data >>> 32) != 0 || (nothing && (address != 0 || data != 0))) {
        throw new IllegalArgumentException("expect sent: data 0x" + Long.toHexString(data)
            + " (expected 32 bits; address and data 0 with nothing)");
      }
    }

    @Override
    public boolean isExpect() {
      return true;
    }
  }

  /**
   * {@code msix prepare DEVICE}: {@code Host.prepareMsix} (PHYSDEVOP_prepare_msix).
   *
   * @param device the device
   */
  public record MsixPrepare(String device) implements Command {
    /**
     * Checks the argument.
     *
     * @param device the device
     */
    public MsixPrepare {
      checkName(device);
    }
  }

  /**
   * {@code msix release DEVICE}: {@code Host.releaseMsix} (PHYSDEVOP_release_msix).
   *
   * @param device the device
   */
  public record MsixRelease(String device) implements Command {
    /**
     * Checks the argument.
     *
     * @param device the device
     */
    public MsixRelease {
      checkName(device);
    }
  }

  /**
   * {@code pin DOMAIN MFN [l1|l2|l3|l4]}: {@code Host.pinTable}, {@code MMUEXT_PIN_L1_TABLE} to
   * {@code MMUEXT_PIN_L4_TABLE} (PV, PV32); L1 when the level is left out.
   *
   * @param domain the domain
   * @param mfn its frame
   * @param level {@link PageType#L1_PAGE_TABLE} to {@link PageType#L4_PAGE_TABLE}
   */
  public record Pin(String domain, long mfn, PageType level) implements Command {
    /**
     * Checks the arguments.
     *
     * @param domain the domain
     * @param mfn the frame
     * @param level the table's level
     */
    public Pin {
      checkName(domain);
      if (!level.isPageTable()) {
        throw new IllegalArgumentException("level: " + level + " (expected: a page-table type)");
      }
    }

    /**
     * {@code pin DOMAIN MFN}: an L1 table.
     *
     * @param domain the domain
     * @param mfn the frame
     */
    public Pin(String domain, long mfn) {
      this(domain, mfn, PageType.L1_PAGE_TABLE);
    }
  }

  /**
   * {@code unpin DOMAIN MFN}: {@code Host.unpinTable} (PV, PV32).
   *
   * @param domain the domain
   * @param mfn its pinned frame
   */
  public record Unpin(String domain, long mfn) implements Command {
    /**
     * Checks the argument.
     *
     * @param domain the domain
     * @param mfn the frame
     */
    public Unpin {
      checkName(domain);
    }
  }

  /**
   * {@code write DOMAIN MFN SLOT PTE}: {@code Host.writeGuestEntry}, the guest writes its own frame
   * (PV, PV32).
   *
   * @param domain the domain
   * @param mfn the frame
   * @param slot 0 to 511
   * @param entry the 64-bit value
   */
  public record GuestWrite(String domain, long mfn, int slot, long entry) implements Command {
    /**
     * Checks the arguments.
     *
     * @param domain the domain
     * @param mfn the frame
     * @param slot the slot
     * @param entry the entry
     */
    public GuestWrite {
      checkName(domain);
      checkSlot(slot);
    }
  }

  /**
   * {@code update DOMAIN MFN SLOT PTE}: {@code Host.mmuUpdate}, one {@code mmu_update} (PV, PV32).
   *
   * @param domain the domain
   * @param mfn the frame
   * @param slot 0 to 511
   * @param entry the new entry
   */
  public record MmuUpdate(String domain, long mfn, int slot, long entry) implements Command {
    /**
     * Checks the arguments.
     *
     * @param domain the domain
     * @param mfn the frame
     * @param slot the slot
     * @param entry the entry
     */
    public MmuUpdate {
      checkName(domain);
      checkSlot(slot);
    }
  }

  /**
   * {@code ptwr DOMAIN MFN OFFSET BYTES VALUE [cmpxchg OLD]}: {@code Host.ptwrEmulatedUpdate}, an
   * emulated store into an L1 table (PV, PV32); its return code is the {@code X86EMUL_*} code (0
   * okay, 1 unhandleable, 2 exception, 3 retry).
   *
   * @param domain the domain
   * @param mfn the table
   * @param offset the byte offset, 0 to 4095
   * @param bytes the store's size, 1 to 8
   * @param value the value stored
   * @param cmpxchg whether it is a compare-and-exchange
   * @param old the expected value of a compare-and-exchange, 0 otherwise
   */
  public record Ptwr(String domain, long mfn, int offset, int bytes, long value, boolean cmpxchg,
      long old) implements Command {
    /**
     * Checks the arguments.
     *
     * @param domain the domain
     * @param mfn the table
     * @param offset the offset
     * @param bytes the size
     * @param value the value
     * @param cmpxchg cmpxchg
     * @param old the old value
     */
    public Ptwr {
      checkName(domain);
      if (offset < 0 || offset > 4095) {
        throw new IllegalArgumentException("offset: " + offset + " (expected: 0 to 4095)");
      }
      if (bytes < 1 || bytes > 8) {
        throw new IllegalArgumentException("bytes: " + bytes + " (expected: 1 to 8)");
      }
      if (!cmpxchg && old != 0) {
        throw new IllegalArgumentException("old: 0x" + Long.toHexString(old)
            + " (expected: 0 without cmpxchg)");
      }
    }
  }

  /**
   * {@code p2m DOMAIN GFN MFN ORDER TYPE}: {@code Host.setP2mEntry} (HVM modes).
   *
   * @param domain the domain
   * @param gfn the first guest frame
   * @param mfn the first machine frame
   * @param order {@code 4k}, {@code 2m} or {@code 1g}
   * @param type the p2m type
   */
  public record SetP2m(String domain, long gfn, long mfn, PageOrder order, P2mType type)
      implements Command {
    /**
     * Checks the arguments.
     *
     * @param domain the domain
     * @param gfn the guest frame
     * @param mfn the machine frame
     * @param order the order
     * @param type the type
     */
    public SetP2m {
      checkName(domain);
      Objects.requireNonNull(order, "order");
      Objects.requireNonNull(type, "type");
    }
  }

  /**
   * {@code retype DOMAIN OLD NEW}: {@code Host.changeTypeGlobal} (HVM modes).
   *
   * @param domain the domain
   * @param from the old type
   * @param to the new type
   */
  public record Retype(String domain, P2mType from, P2mType to) implements Command {
    /**
     * Checks the arguments.
     *
     * @param domain the domain
     * @param from the old type
     * @param to the new type
     */
    public Retype {
      checkName(domain);
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(to, "to");
    }
  }

  /**
   * {@code table DOMAIN}: {@code Host.newGuestTable} (shadow modes); tables are numbered 0, 1, ...
   * per domain.
   *
   * @param domain the domain
   */
  public record NewTable(String domain) implements Command {
    /**
     * Checks the argument.
     *
     * @param domain the domain
     */
    public NewTable {
      checkName(domain);
    }
  }

  /**
   * {@code shadow DOMAIN TABLE SLOT PTE}: {@code Host.shadowWrite} (shadow modes); its return code
   * is {@code shadow_set_l1e}'s flags.
   *
   * @param domain the domain
   * @param table the guest table's number
   * @param slot 0 to 511
   * @param entry the guest's entry (a guest frame for HVM, a machine frame for PV)
   */
  public record ShadowWrite(String domain, int table, int slot, long entry) implements Command {
    /**
     * Checks the arguments.
     *
     * @param domain the domain
     * @param table the table
     * @param slot the slot
     * @param entry the entry
     */
    public ShadowWrite {
      checkName(domain);
      checkTable(table);
      checkSlot(slot);
    }
  }

  /**
   * {@code crash DOMAIN}: {@code Host.crashDomain}.
   *
   * @param domain the domain
   */
  public record Crash(String domain) implements Command {
    /**
     * Checks the argument.
     *
     * @param domain the domain
     */
    public Crash {
      checkName(domain);
    }
  }

  /**
   * {@code expect rc N}: the previous command (not an {@code expect} or {@code print}) returned
   * {@code N}.
   *
   * @param rc 0, a negated errno, or a non-negative code ({@code ptwr}, {@code shadow})
   */
  public record ExpectRc(int rc) implements Command {
    @Override
    public boolean isExpect() {
      return true;
    }
  }

  /**
   * {@code expect writable|read-only DOMAIN pv MFN SLOT}: the PV L1 entry is (not) present and
   * writable.
   *
   * @param writable true for {@code writable}, false for {@code read-only}
   * @param domain a PV domain
   * @param mfn the table's frame
   * @param slot 0 to 511
   */
  public record ExpectPvEntry(boolean writable, String domain, long mfn, int slot)
      implements Command {
    /**
     * Checks the arguments.
     *
     * @param writable writable
     * @param domain the domain
     * @param mfn the frame
     * @param slot the slot
     */
    public ExpectPvEntry {
      checkName(domain);
      checkSlot(slot);
    }

    @Override
    public boolean isExpect() {
      return true;
    }
  }

  /**
   * {@code expect writable|read-only DOMAIN p2m GFN}: the p2m leaf of GFN is (not) writable (a
   * missing leaf is not writable).
   *
   * @param writable true for {@code writable}
   * @param domain an HVM domain
   * @param gfn the guest frame
   */
  public record ExpectP2mEntry(boolean writable, String domain, long gfn) implements Command {
    /**
     * Checks the arguments.
     *
     * @param writable writable
     * @param domain the domain
     * @param gfn the guest frame
     */
    public ExpectP2mEntry {
      checkName(domain);
    }

    @Override
    public boolean isExpect() {
      return true;
    }
  }

  /**
   * {@code expect writable|read-only DOMAIN shadow TABLE SLOT}: the shadow entry is (not) present
   * and writable.
   *
   * @param writable true for {@code writable}
   * @param domain a shadowed domain
   * @param table the guest table's number
   * @param slot 0 to 511
   */
  public record ExpectShadowEntry(boolean writable, String domain, int table, int slot)
      implements Command {
    /**
     * Checks the arguments.
     *
     * @param writable writable
     * @param domain the domain
     * @param table the table
     * @param slot the slot
     */
    public ExpectShadowEntry {
      checkName(domain);
      checkTable(table);
      checkSlot(slot);
    }

    @Override
    public boolean isExpect() {
      return true;
    }
  }

  /**
   * {@code expect protected RANGE} / {@code expect unprotected RANGE}: every frame of inclusive
   * {@code [first, last]} is (not) in {@code mmio_ro_ranges}.
   *
   * @param isProtected true for {@code protected}
   * @param first the first frame
   * @param last the last frame
   */
  public record ExpectProtected(boolean isProtected, long first, long last) implements Command {
    /**
     * Checks the arguments.
     *
     * @param isProtected protected
     * @param first first
     * @param last last
     */
    public ExpectProtected {
      checkRange(first, last);
    }

    @Override
    public boolean isExpect() {
      return true;
    }
  }

  /** {@code expect invariants hold}: {@code HostInvariants.check} finds nothing. */
  public record ExpectInvariantsHold() implements Command {
    @Override
    public boolean isExpect() {
      return true;
    }
  }

  /**
   * {@code expect invariant NAME fails}: {@code HostInvariants.check} finds a violation of NAME.
   *
   * @param invariant {@link HostInvariants#WRITABLE_READ_ONLY_MMIO}, {@link
   *     HostInvariants#UNPROTECTED_MSIX}, {@link HostInvariants#COUNTS}, {@link
   *     HostInvariants#TLB_WRITABLE_READ_ONLY_MMIO}, {@link HostInvariants#MSIX_TABLE_INTEGRITY} or
   *     {@link HostInvariants#INTERRUPT_PROVENANCE}
   */
  public record ExpectInvariantFails(String invariant) implements Command {
    /**
     * Checks the argument.
     *
     * @param invariant the invariant's name
     */
    public ExpectInvariantFails {
      if (!isInvariantName(invariant)) {
        throw new IllegalArgumentException("unknown invariant '" + invariant + "' (expected: "
            + INVARIANT_NAMES + ")");
      }
    }

    @Override
    public boolean isExpect() {
      return true;
    }
  }

  // ---- vCPUs ----------------------------------------------------------------------------------

  /**
   * {@code vcpu NAME DOMAIN}: {@code Host.createVcpu}. vCPU names share no namespace with domains.
   *
   * @param name the vCPU's name
   * @param domain its domain
   */
  public record CreateVcpu(String name, String domain) implements Command {
    /**
     * Checks the arguments.
     *
     * @param name the name
     * @param domain the domain
     */
    public CreateVcpu {
      checkName(name);
      checkName(domain);
    }
  }

  /**
   * {@code cr VCPU [cr0=V] [cr3=V] [cr4=V] [efer=V]}: the guest loads these control registers at
   * once, the others unchanged ({@code GuestVcpu.loadGuestState}; for a PV guest a CR3 load is
   * {@code new_guest_cr3}). Its outcome is the processor's fault, if any; a refusal by the
   * hypervisor is its return code (a negated errno).
   *
   * @param vcpu the vCPU
   * @param cr0 the new CR0, or empty
   * @param cr3 the new CR3, or empty
   * @param cr4 the new CR4, or empty
   * @param efer the new EFER, or empty
   */
  public record LoadRegisters(String vcpu, OptionalLong cr0, OptionalLong cr3, OptionalLong cr4,
      OptionalLong efer) implements Command {
    /**
     * Checks the arguments.
     *
     * @param vcpu the vCPU
     * @param cr0 CR0
     * @param cr3 CR3
     * @param cr4 CR4
     * @param efer EFER
     */
    public LoadRegisters {
      checkName(vcpu);
      if (cr0.isEmpty() && cr3.isEmpty() && cr4.isEmpty() && efer.isEmpty()) {
        throw new IllegalArgumentException("cr " + vcpu + ": no register (expected: cr0=, cr3=,"
            + " cr4= or efer=)");
      }
    }
  }

  /**
   * {@code read VCPU LA SIZE [user]}: a guest load ({@code GuestVcpu.read}), supervisor unless
   * {@code user}; its outcome is the value or the fault the guest sees.
   *
   * @param vcpu the vCPU
   * @param la the linear address
   * @param size 1, 2, 4 or 8
   * @param user whether it is a user-mode access
   */
  public record Read(String vcpu, long la, int size, boolean user) implements Command {
    /**
     * Checks the arguments.
     *
     * @param vcpu the vCPU
     * @param la the address
     * @param size the size
     * @param user user mode
     */
    public Read {
      checkName(vcpu);
      checkSize(size);
    }
  }

  /**
   * {@code store VCPU LA SIZE VALUE [user] [as CLASS]}: a guest store ({@code GuestVcpu.write});
   * the value is a number or a {@code pte(...)}; CLASS is the instruction class ({@link
   * #instructionClassName}: {@code plain-store}, the default, {@code read-modify-write}, {@code
   * locked}, {@code movs}, {@code stos}, {@code unemulated}; not {@code wide-store}: the processor
   * model stores at most 8 bytes).
   *
   * @param vcpu the vCPU
   * @param la the linear address
   * @param size 1, 2, 4 or 8
   * @param value the value (its low {@code size} bytes are stored)
   * @param user whether it is a user-mode access
   * @param insn the instruction class, not {@link InstructionClass#LOAD} or {@link
   *     InstructionClass#WIDE_STORE}
   */
  public record Store(String vcpu, long la, int size, long value, boolean user,
      InstructionClass insn) implements Command {
    /**
     * Checks the arguments.
     *
     * @param vcpu the vCPU
     * @param la the address
     * @param size the size
     * @param value the value
     * @param user user mode
     * @param insn the instruction class
     */
    public Store {
      checkName(vcpu);
      checkSize(size);
      Objects.requireNonNull(insn, "insn");
      if (insn == InstructionClass.LOAD || insn == InstructionClass.WIDE_STORE) {
        throw new IllegalArgumentException("a store's instruction class: " + insn
            + " (the vCPU stores 1 to 8 bytes)");
      }
    }

    /**
     * A plain store ({@link InstructionClass#PLAIN_STORE}).
     *
     * @param vcpu the vCPU
     * @param la the address
     * @param size the size
     * @param value the value
     * @param user user mode
     */
    public Store(String vcpu, long la, int size, long value, boolean user) {
      this(vcpu, la, size, value, user, InstructionClass.PLAIN_STORE);
    }
  }

  /**
   * An instruction class's script name: the constant's name in lower case, {@code _} as {@code
   * -}.
   *
   * @param insn the class
   * @return for example {@code "read-modify-write"}
   */
  public static String instructionClassName(InstructionClass insn) {
    return insn.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * {@code msix program DEVICE ENTRY ADDRESS DATA}: {@code Host.programMsix}, the permitted path by
   * which Xen writes an entry's message for its programming owner; the return code is 0 or a
   * negated errno.
   *
   * @param device the device
   * @param entry the entry, 0 to {@link #MAX_MSIX_ENTRY}
   * @param address the message address
   * @param data the message data, 0 to 0xffffffff
   */
  public record MsixProgram(String device, int entry, long address, long data) implements Command {
    /**
     * Checks the arguments.
     *
     * @param device the device
     * @param entry the entry
     * @param address the address
     * @param data the data
     */
    public MsixProgram {
      checkName(device);
      checkEntry(entry);
      if (data < 0 || data > 0xffff_ffffL) {
        throw new IllegalArgumentException("MSI-X data 0x" + Long.toHexString(data)
            + " (expected 0 to 0xffffffff)");
      }
    }
  }

  /**
   * {@code fetch VCPU LA SIZE [user]}: a guest instruction fetch ({@code GuestVcpu.fetch}).
   *
   * @param vcpu the vCPU
   * @param la the linear address
   * @param size 1, 2, 4 or 8
   * @param user whether it is a user-mode access
   */
  public record Fetch(String vcpu, long la, int size, boolean user) implements Command {
    /**
     * Checks the arguments.
     *
     * @param vcpu the vCPU
     * @param la the address
     * @param size the size
     * @param user user mode
     */
    public Fetch {
      checkName(vcpu);
      checkSize(size);
    }
  }

  /**
   * {@code translate VCPU LA [write] [fetch] [user]}: a translation ({@code GuestVcpu.translate});
   * its outcome's value is the machine address.
   *
   * @param vcpu the vCPU
   * @param la the linear address
   * @param write whether for a write
   * @param fetch whether for an instruction fetch (not with {@code write})
   * @param user whether it is a user-mode access
   */
  public record Translate(String vcpu, long la, boolean write, boolean fetch, boolean user)
      implements Command {
    /**
     * Checks the arguments.
     *
     * @param vcpu the vCPU
     * @param la the address
     * @param write write
     * @param fetch fetch
     * @param user user mode
     */
    public Translate {
      checkName(vcpu);
      if (write && fetch) {
        throw new IllegalArgumentException("translate: write and fetch at once");
      }
    }
  }

  /**
   * {@code invlpg VCPU LA}: the guest's INVLPG ({@code GuestVcpu.invlpg}); a PV guest's is a #GP.
   *
   * @param vcpu the vCPU
   * @param la the linear address
   */
  public record Invlpg(String vcpu, long la) implements Command {
    /**
     * Checks the argument.
     *
     * @param vcpu the vCPU
     * @param la the address
     */
    public Invlpg {
      checkName(vcpu);
    }
  }

  /**
   * {@code invpcid VCPU TYPE PCID LA}: the guest's INVPCID ({@code GuestVcpu.invpcid}).
   *
   * @param vcpu the vCPU
   * @param type 0 to 3
   * @param pcid the descriptor's PCID
   * @param la the descriptor's linear address
   */
  public record Invpcid(String vcpu, int type, long pcid, long la) implements Command {
    /**
     * Checks the arguments.
     *
     * @param vcpu the vCPU
     * @param type the type
     * @param pcid the PCID
     * @param la the address
     */
    public Invpcid {
      checkName(vcpu);
      if (type < 0 || type > 3) {
        throw new IllegalArgumentException("INVPCID type: " + type + " (expected: 0 to 3)");
      }
    }
  }

  /** The {@code mmuext} operations a script names, with Xen's numbers and their arguments. */
  public enum MmuextName {
    /** {@code new-baseptr MFN}: {@code MMUEXT_NEW_BASEPTR}. */
    NEW_BASEPTR("new-baseptr", PvMmuAbi.MMUEXT_NEW_BASEPTR, "MFN"),
    /** {@code tlb-flush-local}. */
    TLB_FLUSH_LOCAL("tlb-flush-local", PvMmuAbi.MMUEXT_TLB_FLUSH_LOCAL, ""),
    /** {@code invlpg-local LA}. */
    INVLPG_LOCAL("invlpg-local", PvMmuAbi.MMUEXT_INVLPG_LOCAL, "LA"),
    /** {@code tlb-flush-multi MASK}: the vCPU bitmap. */
    TLB_FLUSH_MULTI("tlb-flush-multi", PvMmuAbi.MMUEXT_TLB_FLUSH_MULTI, "MASK"),
    /** {@code invlpg-multi LA MASK}. */
    INVLPG_MULTI("invlpg-multi", PvMmuAbi.MMUEXT_INVLPG_MULTI, "LA MASK"),
    /** {@code tlb-flush-all}. */
    TLB_FLUSH_ALL("tlb-flush-all", PvMmuAbi.MMUEXT_TLB_FLUSH_ALL, ""),
    /** {@code invlpg-all LA}. */
    INVLPG_ALL("invlpg-all", PvMmuAbi.MMUEXT_INVLPG_ALL, "LA"),
    /** {@code flush-cache}. */
    FLUSH_CACHE("flush-cache", PvMmuAbi.MMUEXT_FLUSH_CACHE, "");

    private final String scriptName;
    private final int cmd;
    private final String arguments;

    MmuextName(String scriptName, int cmd, String arguments) {
      this.scriptName = scriptName;
      this.cmd = cmd;
      this.arguments = arguments;
    }

    /**
     * The name in scripts.
     *
     * @return say {@code invlpg-all}
     */
    public String scriptName() {
      return scriptName;
    }

    /**
     * Xen's {@code MMUEXT_*} number.
     *
     * @return the command number
     */
    public int cmd() {
      return cmd;
    }

    /**
     * How many arguments it takes.
     *
     * @return 0, 1 or 2
     */
    public int arity() {
      return arguments.isEmpty() ? 0 : arguments.split(" ").length;
    }

    /**
     * Whether the operation's argument 2 is the vCPU bitmap and argument 1 absent (the {@code
     * tlb-flush-multi} form).
     *
     * @return true for {@link #TLB_FLUSH_MULTI}
     */
    boolean maskOnly() {
      return this == TLB_FLUSH_MULTI;
    }
  }

  /**
   * {@code mmuext VCPU OP [ARG...]}: one {@code mmuext_op} of a PV vCPU ({@code Host.mmuextOp});
   * its return code is Xen's.
   *
   * @param vcpu the vCPU
   * @param op the operation
   * @param arg1 {@code arg1} (the frame or linear address), 0 when the operation takes none
   * @param arg2 the vCPU bitmap of the {@code _MULTI} operations, 0 otherwise
   */
  public record Mmuext(String vcpu, MmuextName op, long arg1, long arg2) implements Command {
    /**
     * Checks the arguments.
     *
     * @param vcpu the vCPU
     * @param op the operation
     * @param arg1 argument 1
     * @param arg2 argument 2
     */
    public Mmuext {
      checkName(vcpu);
      Objects.requireNonNull(op, "op");
      boolean hasArg1 = op.arity() == 2 || (op.arity() == 1 && !op.maskOnly());
      boolean hasArg2 = op.arity() == 2 || op.maskOnly();
      if ((!hasArg1 && arg1 != 0) || (!hasArg2 && arg2 != 0)) {
        throw new IllegalArgumentException("mmuext " + op.scriptName() + ": takes "
            + (op.arguments.isEmpty() ? "no argument" : op.arguments));
      }
    }
  }

  /** The pointer {@link UpdateVa} puts in {@code flags} for {@code UVMF_MULTI}. */
  public static final long UVMF_MULTI_POINTER = 8;

  /**
   * {@code update-va VCPU LA PTE none|invlpg|tlb-flush [local|all|multi MASK]}: {@code
   * update_va_mapping} of a PV vCPU ({@code Host.updateVaMapping}); its return code is Xen's.
   *
   * @param vcpu the vCPU
   * @param la the linear address
   * @param entry the new L1 entry
   * @param flags {@code UVMF_*}: {@code UVMF_NONE} (0), or {@code UVMF_INVLPG} (2) or {@code
   *     UVMF_TLB_FLUSH} (1) with {@code UVMF_LOCAL} (0), {@code UVMF_ALL} (4) or the multi bitmap's
   *     pointer {@link #UVMF_MULTI_POINTER}
   * @param vcpuMask the bitmap with {@code multi}, else 0
   */
  public record UpdateVa(String vcpu, long la, long entry, long flags, long vcpuMask)
      implements Command {
    /**
     * Checks the arguments.
     *
     * @param vcpu the vCPU
     * @param la the address
     * @param entry the entry
     * @param flags the flags
     * @param vcpuMask the bitmap
     */
    public UpdateVa {
      checkName(vcpu);
      long type = flags & PvMmuAbi.UVMF_FLUSHTYPE_MASK;
      long target = flags & ~PvMmuAbi.UVMF_FLUSHTYPE_MASK;
      boolean valid = type == 0 ? flags == 0
          : type != 3 && (target == PvMmuAbi.UVMF_LOCAL || target == PvMmuAbi.UVMF_ALL
              || target == UVMF_MULTI_POINTER);
      if (!valid || (target != UVMF_MULTI_POINTER && vcpuMask != 0)) {
        throw new IllegalArgumentException("update-va flags 0x" + Long.toHexString(flags)
            + " with bitmap 0x" + Long.toHexString(vcpuMask) + " (expected: 0, or 1 or 2 with"
            + " target 0, 4 or 8; a bitmap only with 8)");
      }
    }
  }

  /**
   * {@code poke DOMAIN GPA SIZE VALUE}: the domain's memory written as a loader or the device model
   * writes it ({@code Host.writeGuestPhysical}): through the p2m, no vCPU.
   *
   * @param domain the domain
   * @param gpa the guest-physical address (machine address for PV)
   * @param size 1, 2, 4 or 8, within one page
   * @param value the value
   */
  public record Poke(String domain, long gpa, int size, long value) implements Command {
    /**
     * Checks the arguments.
     *
     * @param domain the domain
     * @param gpa the address
     * @param size the size
     * @param value the value
     */
    public Poke {
      checkName(domain);
      checkSize(size);
      checkInPage(gpa, size);
    }
  }

  /**
   * {@code expect memory DOMAIN GPA SIZE VALUE}: the domain's memory holds {@code VALUE} there
   * ({@code Host.readGuestPhysical}).
   *
   * @param domain the domain
   * @param gpa the guest-physical address
   * @param size 1, 2, 4 or 8, within one page
   * @param value the expected value
   */
  public record ExpectMemory(String domain, long gpa, int size, long value) implements Command {
    /**
     * Checks the arguments.
     *
     * @param domain the domain
     * @param gpa the address
     * @param size the size
     * @param value the value
     */
    public ExpectMemory {
      checkName(domain);
      checkSize(size);
      checkInPage(gpa, size);
    }

    @Override
    public boolean isExpect() {
      return true;
    }
  }

  /**
   * {@code expect value N}: the previous vCPU access completed without a fault and gave {@code N}
   * (the value read or fetched, the machine address of a translation, 0 for the others).
   *
   * @param value the value
   */
  public record ExpectValue(long value) implements Command {
    @Override
    public boolean isExpect() {
      return true;
    }
  }

  /** {@code expect ok}: the previous vCPU access completed without a fault. */
  public record ExpectOk() implements Command {
    @Override
    public boolean isExpect() {
      return true;
    }
  }

  /**
   * {@code expect fault KIND [CODE] [at ADDRESS]}: the previous vCPU access ended with this fault:
   * {@code pf CODE} (#PF with its error code; the address is CR2), {@code ept-violation QUAL} (the
   * exit qualification; the address is the guest-physical one), {@code ept-misconfig}, {@code npf
   * EXITINFO1} (the address is EXITINFO2), {@code gp} or {@code ss} (error code 0).
   *
   * @param kind the fault's kind
   * @param code its error code, qualification or EXITINFO1 (0 for the kinds without one)
   * @param address the address that goes with it, or empty not to check it
   */
  public record ExpectFault(FaultKind kind, long code, OptionalLong address) implements Command {
    /**
     * Checks the arguments.
     *
     * @param kind the kind
     * @param code the code
     * @param address the address
     */
    public ExpectFault {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(address, "address");
      if (!hasCode(kind) && code != 0) {
        throw new IllegalArgumentException(kind.label() + " has no code (expected: 0)");
      }
      if ((code >>> 52) != 0) {
        throw new IllegalArgumentException("fault code 0x" + Long.toHexString(code)
            + " (expected: at most 52 bits)");
      }
      if (address.isPresent() && !hasAddress(kind)) {
        throw new IllegalArgumentException(kind.label() + " has no address");
      }
    }

    @Override
    public boolean isExpect() {
      return true;
    }

    /**
     * Whether faults of {@code kind} carry a code a script writes.
     *
     * @param kind a kind
     * @return true for #PF, EPT violations and #NPF
     */
    public static boolean hasCode(FaultKind kind) {
      return kind == FaultKind.PAGE_FAULT || kind == FaultKind.EPT_VIOLATION
          || kind == FaultKind.NESTED_PAGE_FAULT;
    }

    /**
     * Whether faults of {@code kind} carry an address ({@code at}).
     *
     * @param kind a kind
     * @return true for #PF (CR2) and the nested faults (the guest-physical address)
     */
    public static boolean hasAddress(FaultKind kind) {
      return hasCode(kind) || kind == FaultKind.EPT_MISCONFIG;
    }
  }

  /** {@code print ranges}: reports {@code mmio_ro_ranges} in Xen's format. */
  public record PrintRanges() implements Command {}

  /** {@code print invariants}: reports every violation {@code HostInvariants.check} finds. */
  public record PrintInvariants() implements Command {}

  // ---- names of things in scripts -------------------------------------------------------------

  /**
   * The script name of a paging mode: {@code pv}, {@code pv32}, {@code pv-shadow}, {@code
   * hvm-ept}, {@code hvm-npt}, {@code hvm-shadow}.
   *
   * @param mode the mode
   * @return its name
   */
  public static String modeName(PagingMode mode) {
    return switch (mode) {
      case PV -> "pv";
      case PV32 -> "pv32";
      case PV_SHADOW -> "pv-shadow";
      case HVM_EPT -> "hvm-ept";
      case HVM_NPT -> "hvm-npt";
      case HVM_SHADOW -> "hvm-shadow";
    };
  }

  /**
   * The script name of a fault kind: {@code pf}, {@code gp}, {@code ss}, {@code ept-violation},
   * {@code ept-misconfig}, {@code npf}.
   *
   * @param kind the kind
   * @return its name
   */
  public static String faultName(FaultKind kind) {
    return switch (kind) {
      case PAGE_FAULT -> "pf";
      case GENERAL_PROTECTION -> "gp";
      case STACK_FAULT -> "ss";
      case EPT_VIOLATION -> "ept-violation";
      case EPT_MISCONFIG -> "ept-misconfig";
      case NESTED_PAGE_FAULT -> "npf";
    };
  }

  /**
   * The script name of a TLB mode: {@code strict}, {@code over-flush}.
   *
   * @param mode the mode
   * @return its name
   */
  public static String tlbModeName(TlbMode mode) {
    return mode == TlbMode.STRICT ? "strict" : "over-flush";
  }

  /**
   * The script name of a page-table level: {@code l1} to {@code l4}.
   *
   * @param level a page-table type
   * @return its name
   */
  public static String levelName(PageType level) {
    return "l" + level.level();
  }

  /**
   * The script name of a page order: {@code 4k}, {@code 2m}, {@code 1g}.
   *
   * @param order the order
   * @return its name
   */
  public static String orderName(PageOrder order) {
    return switch (order) {
      case ORDER_4K -> "4k";
      case ORDER_2M -> "2m";
      case ORDER_1G -> "1g";
    };
  }

  /**
   * The script name of a p2m type: its constant in lower case ({@code ram_rw}, {@code
   * mmio_direct}).
   *
   * @param type the type
   * @return its name
   */
  public static String typeName(P2mType type) {
    return type.name().toLowerCase(Locale.ROOT);
  }

  /**
   * Whether {@code name} is a valid name: {@code [A-Za-z_][A-Za-z0-9_.:-]*}.
   *
   * @param name a string
   * @return true if it is a name
   */
  public static boolean isName(String name) {
    return name != null && NAME.matcher(name).matches();
  }

  static boolean isInvariantName(String name) {
    return HostInvariants.WRITABLE_READ_ONLY_MMIO.equals(name)
        || HostInvariants.UNPROTECTED_MSIX.equals(name) || HostInvariants.COUNTS.equals(name)
        || HostInvariants.TLB_WRITABLE_READ_ONLY_MMIO.equals(name)
        || HostInvariants.MSIX_TABLE_INTEGRITY.equals(name)
        || HostInvariants.INTERRUPT_PROVENANCE.equals(name);
  }

  /** The invariant names, for messages. */
  static final String INVARIANT_NAMES = HostInvariants.WRITABLE_READ_ONLY_MMIO + ", "
      + HostInvariants.UNPROTECTED_MSIX + ", " + HostInvariants.COUNTS + ", "
      + HostInvariants.TLB_WRITABLE_READ_ONLY_MMIO + ", " + HostInvariants.MSIX_TABLE_INTEGRITY
      + " or " + HostInvariants.INTERRUPT_PROVENANCE;

  private static void checkSize(int size) {
    if (size != 1 && size != 2 && size != 4 && size != 8) {
      throw new IllegalArgumentException("size: " + size + " (expected: 1, 2, 4 or 8)");
    }
  }

  private static void checkInPage(long address, int size) {
    if ((address & 0xFFF) + size > 0x1000) {
      throw new IllegalArgumentException("address 0x" + Long.toHexString(address) + " with size "
          + size + " (expected: within one page)");
    }
  }

  private static void checkName(String name) {
    if (!isName(name)) {
      throw new IllegalArgumentException(
          "name '" + name + "' (expected: [A-Za-z_][A-Za-z0-9_.:-]*)");
    }
  }

  private static void checkRange(long first, long last) {
    if (Long.compareUnsigned(first, last) > 0) {
      throw new IllegalArgumentException("range 0x" + Long.toHexString(first) + "-0x"
          + Long.toHexString(last) + " (expected: first <= last)");
    }
  }

  private static void checkSlot(int slot) {
    if (slot < 0 || slot >= Pte.ENTRIES_PER_TABLE) {
      throw new IllegalArgumentException("slot: " + slot + " (expected: 0 to 511)");
    }
  }

  private static void checkTable(int table) {
    if (table < 0) {
      throw new IllegalArgumentException("table: " + table + " (expected: >= 0)");
    }
  }

  private static void checkEntry(int entry) {
    if (entry < 0 || entry > MAX_MSIX_ENTRY) {
      throw new IllegalArgumentException(
          "MSI-X entry: " + entry + " (expected: 0 to " + MAX_MSIX_ENTRY + ")");
    }
  }
}
