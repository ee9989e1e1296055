package org.hvmmu.host.script;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.hvmmu.host.HostInvariants;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
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
      permits HostConfig, DeviceDump, DeviceHex, CreateDomain, GiveRam, MmioHole, GrantIomem,
          Assign, Protect, Unprotect, MsixEnable, MsixDisable, MsixPrepare, MsixRelease, Pin, Unpin,
          GuestWrite, MmuUpdate, Ptwr, SetP2m, Retype, NewTable, ShadowWrite, Crash, ExpectRc,
          ExpectPvEntry, ExpectP2mEntry, ExpectShadowEntry, ExpectProtected, ExpectInvariantsHold,
          ExpectInvariantFails, PrintRanges, PrintInvariants {

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
    HARDENED("hardened");

    private final String scriptName;

    PolicyName(String scriptName) {
      this.scriptName = scriptName;
    }

    /**
     * The name in scripts and on the command line.
     *
     * @return {@code seed-2010}, {@code hardened}, or the empty string for {@link #UNSPECIFIED}
     */
    public String scriptName() {
      return scriptName;
    }

    /**
     * The policy.
     *
     * @return {@link Policy#SEED_2010} or {@link Policy#HARDENED}
     */
    public Policy policy() {
      return this == SEED_2010 ? Policy.SEED_2010 : Policy.HARDENED;
    }

    /**
     * The policy named {@code name}.
     *
     * @param name {@code seed-2010} or {@code hardened}
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
          "unknown policy '" + name + "' (expected: seed-2010 or hardened)");
    }
  }

  /**
   * {@code host frames N [policy P]}: the host, only as the first command.
   *
   * @param frames frame-table frames, 1 to {@link #MAX_HOST_FRAMES}
   * @param policy the policy the script asks for (a runner may override it)
   */
  public record HostConfig(long frames, PolicyName policy) implements Command {
    /**
     * Checks the arguments.
     *
     * @param frames the frame count
     * @param policy the policy name
     */
    public HostConfig {
      if (frames < 1 || frames > MAX_HOST_FRAMES) {
        throw new IllegalArgumentException("host frames 0x" + Long.toHexString(frames)
            + " (expected: 1 to 0x" + Long.toHexString(MAX_HOST_FRAMES) + ")");
      }
      Objects.requireNonNull(policy, "policy");
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
   * {@code pin DOMAIN MFN}: {@code Host.pinL1Table} (PV, PV32).
   *
   * @param domain the domain
   * @param mfn its frame
   */
  public record Pin(String domain, long mfn) implements Command {
    /**
     * Checks the argument.
     *
     * @param domain the domain
     * @param mfn the frame
     */
    public Pin {
      checkName(domain);
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
   *     HostInvariants#UNPROTECTED_MSIX} or {@link HostInvariants#COUNTS}
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
            + HostInvariants.WRITABLE_READ_ONLY_MMIO + ", " + HostInvariants.UNPROTECTED_MSIX
            + " or " + HostInvariants.COUNTS + ")");
      }
    }

    @Override
    public boolean isExpect() {
      return true;
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
    return type.name().toLowerCase(java.util.Locale.ROOT);
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
        || HostInvariants.UNPROTECTED_MSIX.equals(name) || HostInvariants.COUNTS.equals(name);
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
