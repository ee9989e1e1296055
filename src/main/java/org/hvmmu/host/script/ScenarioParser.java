package org.hvmmu.host.script;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.host.script.Scenario.Command;
import org.hvmmu.host.script.Scenario.PolicyName;
import org.hvmmu.internal.InputFiles;
import org.hvmmu.internal.LineReader;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.MmuSwitches.TlbMode;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.pci.LspciDumpReader;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciDumpParseException;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PageType;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;

/**
 * Reads scenario scripts ({@code docs/scenarios.md}) into a {@link Scenario}: one command per line,
 * {@code #} comments, blank lines ignored, numbers in decimal or {@code 0x} hex (unsigned 64-bit),
 * entries as numbers or {@code pte(MFN, FLAGS...)}, {@code device NAME hex} ... {@code end} blocks.
 * Every name must be declared before use and every command must fit the paging mode of the domain
 * it names; inline hex blocks are read with {@link LspciDumpReader} at once. Anything else is a
 * {@link ScenarioException} naming the source and line; the parser throws nothing else, and its
 * work is linear in the text (no backtracking patterns), so arbitrary text cannot hang it.
 *
 * <pre>{@code
 * Scenario s = ScenarioParser.read(Path.of("docs/scenarios/second-enable.hvmmu"));
 * Scenario t = ScenarioParser.parse("inline", "domain guest 1 pv\nram guest 0x100-0x1ff\n");
 * }</pre>
 *
 * <p>Stateless and thread-safe.
 */
public final class ScenarioParser {
  private ScenarioParser() {}

  /** The registers of {@code cr}, in {@link Scenario.LoadRegisters}'s order. */
  private static final List<String> REGISTERS = List.of("cr0", "cr3", "cr4", "efer");

  /** Longest token quoted back in an error message; longer ones are cut. */
  private static final int QUOTE_LIMIT = 40;

  /** The largest script file read, in bytes (64 MiB, a million lines and more). */
  public static final long MAX_SCRIPT_BYTES = InputFiles.MAX_TEXT_BYTES;

  /** The longest script line, in characters; a longer one is a {@link ScenarioException}. */
  public static final int MAX_LINE_CHARS = InputFiles.MAX_LINE_CHARS;

  /**
   * Reads a script file, a line at a time; relative dump paths resolve against the file's
   * directory.
   *
   * @param file the script: a regular file (after following links) of at most {@link
   *     #MAX_SCRIPT_BYTES} bytes
   * @return the scenario, whose source is {@code file} as given
   * @throws ScenarioException if the file cannot be read, is not a regular file or is too large
   *     (with {@link ScenarioException#NO_LINE}, {@code "FILE: cannot read: WHY"}), or the script
   *     is wrong, or a line is longer than {@link #MAX_LINE_CHARS}
   */
  public static Scenario read(Path file) {
    Path parent = file.toAbsolutePath().getParent();
    Path directory = parent == null ? Path.of("") : parent;
    try (Reader in = InputFiles.openText(file, MAX_SCRIPT_BYTES)) {
      return new Scenario(file.toString(), directory, new Run(file.toString(), in).run());
    } catch (IOException e) {
      throw new ScenarioException(file.toString(), ScenarioException.NO_LINE,
          "cannot read: " + InputFiles.why(e), e);
    }
  }

  /**
   * Parses script text; relative dump paths resolve against the working directory.
   *
   * @param source the name for messages
   * @param text the script
   * @return the scenario
   * @throws ScenarioException if the script is wrong
   */
  public static Scenario parse(String source, String text) {
    return parse(source, Path.of(""), text);
  }

  /**
   * Parses script text.
   *
   * @param source the name for messages
   * @param directory where relative dump paths resolve
   * @param text the script
   * @return the scenario
   * @throws ScenarioException if the script is wrong
   */
  public static Scenario parse(String source, Path directory, String text) {
    try {
      return new Scenario(source, directory, new Run(source, new StringReader(text)).run());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read a string", e); // a StringReader does not fail
    }
  }

  /** What the parser knows about a declared domain. */
  private record DomainInfo(String name, PagingMode mode, int[] tables) {}

  /** One pass over the lines, with the declarations seen so far. */
  private static final class Run {
    private final String source;
    private final LineReader lines;
    private final List<Scenario.Step> steps = new ArrayList<>();
    private final Map<String, DomainInfo> domains = new HashMap<>();
    private final Set<Integer> domainIds = new HashSet<>();
    private final Set<String> devices = new HashSet<>();
    private final Set<String> registrants = new HashSet<>();
    private final Map<String, String> vcpus = new HashMap<>();
    private boolean rcAvailable;
    private boolean accessAvailable;
    private int line;
    private List<String> tokens;
    private int next;

    Run(String source, Reader text) {
      this.source = source;
      this.lines = new LineReader(text, MAX_LINE_CHARS);
    }

    /** The next line, {@code line} its number; null after the last. */
    private String nextLine() throws IOException {
      try {
        String text = lines.next();
        line = lines.number();
        return text;
      } catch (LineReader.LineTooLongException e) {
        line = e.line();
        throw error(e.getMessage());
      }
    }

    List<Scenario.Step> run() throws IOException {
      for (String text = nextLine(); text != null; text = nextLine()) {
        tokens = tokenize(stripComment(text));
        next = 0;
        if (tokens.isEmpty()) {
          continue;
        }
        int start = line;
        Command c;
        try {
          c = command();
        } catch (IllegalArgumentException e) {
          throw error(e.getMessage());
        }
        if (c instanceof Scenario.DeviceHex hex) {
          devices.add(hex.name()); // the block's lines were consumed
        }
        if (!c.isExpect() && !(c instanceof Scenario.PrintRanges)
            && !(c instanceof Scenario.PrintInvariants)) {
          rcAvailable = true;
        }
        if (ScenarioRunner.isAccess(c)) {
          accessAvailable = true;
        }
        steps.add(new Scenario.Step(start, c));
      }
      return steps;
    }

    private ScenarioException error(String reason) {
      return new ScenarioException(source, line, reason);
    }

    // ---- commands ---------------------------------------------------------------------------

    private Command command() throws IOException {
      String verb = word("a command");
      Command c = switch (verb) {
        case "host" -> host();
        case "device" -> device();
        case "domain" -> domain();
        case "ram" -> {
          String d = domain(null);
          long[] r = range();
          yield new Scenario.GiveRam(d, r[0], r[1]);
        }
        case "mmio-hole" -> {
          long[] r = range();
          yield new Scenario.MmioHole(r[0], r[1]);
        }
        case "mmcfg" -> {
          int segment = intNumber("a PCI segment", 0, 0xffff);
          long[] r = range();
          if (Long.compareUnsigned(r[1], 0xff) > 0) {
            throw error("bus range ends at " + r[1] + " (expected: buses 0 to 255)");
          }
          yield new Scenario.Mmcfg(segment, (int) r[0], (int) r[1], number("an address"));
        }
        case "iomem" -> {
          String d = domain(null);
          long[] r = range();
          yield new Scenario.GrantIomem(d, r[0], r[1]);
        }
        case "assign" -> new Scenario.Assign(device(true), domain(null));
        case "protect" -> {
          String name = name("a registrant");
          long[] r = range();
          registrants.add(name);
          yield new Scenario.Protect(name, r[0], r[1]);
        }
        case "unprotect" -> {
          String name = name("a registrant");
          if (!registrants.contains(name)) {
            throw error("undeclared registrant '" + name + "' (no protect before)");
          }
          long[] r = range();
          yield new Scenario.Unprotect(name, r[0], r[1]);
        }
        case "msix" -> msix();
        case "config" -> configWrite();
        case "pin" -> {
          String d = domain(Need.PV);
          long mfn = number("an MFN");
          yield new Scenario.Pin(d, mfn, more() ? level() : PageType.L1_PAGE_TABLE);
        }
        case "unpin" -> new Scenario.Unpin(domain(Need.PV), number("an MFN"));
        case "write" -> new Scenario.GuestWrite(domain(Need.PV), number("an MFN"), slot(),
            entry("an entry"));
        case "update" -> new Scenario.MmuUpdate(domain(Need.PV), number("an MFN"), slot(),
            entry("an entry"));
        case "ptwr" -> ptwr();
        case "p2m" -> new Scenario.SetP2m(domain(Need.P2M), number("a GFN"), number("an MFN"),
            order(), type());
        case "retype" -> new Scenario.Retype(domain(Need.P2M), type(), type());
        case "table" -> {
          String d = domain(Need.SHADOW);
          domains.get(d).tables()[0]++;
          yield new Scenario.NewTable(d);
        }
        case "shadow" -> {
          String d = domain(Need.SHADOW);
          yield new Scenario.ShadowWrite(d, table(d), slot(), entry("an entry"));
        }
        case "crash" -> new Scenario.Crash(domain(null));
        case "vcpu" -> {
          String name = name("a vCPU name");
          if (vcpus.containsKey(name)) {
            throw error("vCPU '" + name + "' is already declared");
          }
          String d = domain(null);
          vcpus.put(name, d);
          yield new Scenario.CreateVcpu(name, d);
        }
        case "cr" -> registers();
        case "read" -> new Scenario.Read(vcpu(null), number("a linear address"), size(), user());
        case "store" -> store();
        case "fetch" -> new Scenario.Fetch(vcpu(null), number("a linear address"), size(), user());
        case "translate" -> translate();
        case "invlpg" -> new Scenario.Invlpg(vcpu(null), number("a linear address"));
        case "invpcid" -> new Scenario.Invpcid(vcpu(null), intNumber("an INVPCID type", 0, 3),
            number("a PCID"), number("a linear address"));
        case "mmuext" -> mmuext();
        case "update-va" -> updateVa();
        case "poke" -> new Scenario.Poke(domain(null), number("a guest-physical address"), size(),
            entry("a value"));
        case "expect" -> expect();
        case "print" -> {
          String what = word("ranges or invariants");
          yield switch (what) {
            case "ranges" -> new Scenario.PrintRanges();
            case "invariants" -> new Scenario.PrintInvariants();
            default -> throw error("print " + quote(what) + ": expected ranges or invariants");
          };
        }
        case "end" -> throw error("'end' without 'device NAME hex'");
        default -> throw error("unknown command " + quote(verb));
      };
      if (!(c instanceof Scenario.HostConfig) && !(c instanceof Scenario.DeviceHex)) {
        endOfLine(verb);
      }
      return c;
    }

    private Command host() {
      if (!steps.isEmpty()) {
        throw error("'host' must be the first command");
      }
      keyword("frames");
      long frames = number("a frame count");
      if (frames < 1 || frames > Scenario.MAX_HOST_FRAMES) {
        throw error("host frames " + ScenarioWriter.hex(frames) + ": expected 1 to "
            + ScenarioWriter.hex(Scenario.MAX_HOST_FRAMES));
      }
      PolicyName policy = PolicyName.UNSPECIFIED;
      TlbMode tlb = TlbMode.STRICT;
      if (more() && tokens.get(next).equals("policy")) {
        keyword("policy");
        String name = word("a policy name");
        try {
          policy = PolicyName.fromScriptName(name);
        } catch (IllegalArgumentException e) {
          throw error(e.getMessage());
        }
      }
      if (more()) {
        keyword("tlb");
        String mode = word("strict or over-flush");
        tlb = switch (mode) {
          case "strict" -> TlbMode.STRICT;
          case "over-flush" -> TlbMode.OVER_FLUSH;
          default -> throw error("host tlb " + quote(mode) + ": expected strict or over-flush");
        };
      }
      endOfLine("host");
      return new Scenario.HostConfig(frames, policy, tlb);
    }

    private Command device() throws IOException {
      String name = name("a device name");
      if (devices.contains(name)) {
        throw error("device '" + name + "' is already declared");
      }
      String how = word("dump or hex");
      switch (how) {
        case "dump" -> {
          String path = word("a dump path");
          int index = 0;
          if (more()) {
            keyword("index");
            index = intNumber("a device index", 0, Integer.MAX_VALUE);
          }
          endOfLine("device");
          devices.add(name);
          return new Scenario.DeviceDump(name, path, index);
        }
        case "hex" -> {
          endOfLine("device");
          return hexBlock(name);
        }
        default -> throw error("device " + name + " " + quote(how) + ": expected dump or hex");
      }
    }

    /**
     * Reads the block after {@code device NAME hex} up to {@code end}, from the line reader; leaves
     * {@code line} on {@code end}. The dump reader gets the block's lines with their script line
     * numbers, so that its errors name script lines.
     */
    private Command hexBlock(String name) throws IOException {
      int deviceLine = line;
      List<String> block = new ArrayList<>();
      List<String> read = new ArrayList<>();
      int[] at = new int[16];
      boolean ended = false;
      for (String text = nextLine(); text != null; text = nextLine()) {
        String content = stripComment(text).strip();
        if (content.equals("end")) {
          ended = true;
          break;
        }
        if (!content.isEmpty()) {
          if (block.isEmpty() && isRow(content)) {
            read.add(DEFAULT_HEADER);
            at = append(at, read.size() - 1, deviceLine);
          }
          block.add(content);
          read.add(content);
          at = append(at, read.size() - 1, line);
        }
      }
      if (!ended) {
        line = deviceLine;
        throw error("device " + name + " hex: missing 'end'");
      }
      int end = line;
      if (block.isEmpty()) {
        line = deviceLine;
        throw error("device " + name + " hex: no lines before 'end'");
      }
      List<PciDevice> parsed;
      try {
        parsed = LspciDumpReader.parseLines(source, read, Arrays.copyOf(at, read.size()), end);
      } catch (PciDumpParseException e) {
        line = e.line() == PciDumpParseException.NO_LINE ? deviceLine : e.line();
        throw error("device " + name + ": " + readerReason(e));
      }
      if (parsed.size() != 1) {
        line = deviceLine;
        throw error("device " + name + " hex: expected one device, found " + parsed.size());
      }
      line = end;
      return new Scenario.DeviceHex(name, block);
    }

    private static int[] append(int[] at, int index, int value) {
      int[] out = index < at.length ? at : Arrays.copyOf(at, at.length * 2);
      out[index] = value;
      return out;
    }

    private Command domain() {
      String name = name("a domain name");
      if (domains.containsKey(name)) {
        throw error("domain '" + name + "' is already declared");
      }
      int id = intNumber("a domain id", 0, DomainIds.DOMID_FIRST_RESERVED - 1);
      if (domainIds.contains(id)) {
        throw error("domain id " + id + " is already taken");
      }
      String modeWord = word("a paging mode");
      PagingMode mode = null;
      for (PagingMode m : PagingMode.values()) {
        if (Scenario.modeName(m).equals(modeWord)) {
          mode = m;
        }
      }
      if (mode == null) {
        throw error("unknown paging mode " + quote(modeWord)
            + " (expected: pv, pv32, pv-shadow, hvm-ept, hvm-npt, hvm-shadow)");
      }
      boolean privileged = false;
      if (more()) {
        keyword("privileged");
        privileged = true;
        if (!mode.pvTables()) {
          throw error("a privileged domain must be pv or pv32, not " + modeWord);
        }
      }
      domains.put(name, new DomainInfo(name, mode, new int[1]));
      domainIds.add(id);
      return new Scenario.CreateDomain(name, id, mode, privileged);
    }

    private Command msix() {
      String what = word("enable, disable, prepare, release, fire or program");
      return switch (what) {
        case "enable" -> {
          String dev = device(true);
          int entry = intNumber("an MSI-X entry", 0, Scenario.MAX_MSIX_ENTRY);
          String by = "";
          if (more()) {
            keyword("by");
            by = domain(null);
          }
          yield new Scenario.MsixEnable(dev, entry, by);
        }
        case "disable" -> new Scenario.MsixDisable(device(true),
            intNumber("an MSI-X entry", 0, Scenario.MAX_MSIX_ENTRY));
        case "prepare" -> new Scenario.MsixPrepare(device(true));
        case "release" -> new Scenario.MsixRelease(device(true));
        case "fire" -> new Scenario.MsixFire(device(true),
            intNumber("an MSI-X entry", 0, Scenario.MAX_MSIX_ENTRY));
        case "program" -> new Scenario.MsixProgram(device(true),
            intNumber("an MSI-X entry", 0, Scenario.MAX_MSIX_ENTRY), number("a message address"),
            messageData());
        default -> throw error("msix " + quote(what)
            + ": expected enable, disable, prepare, release, fire or program");
      };
    }

    private Command ptwr() {
      String d = domain(Need.PV);
      long mfn = number("an MFN");
      int offset = intNumber("a byte offset", 0, 4095);
      int bytes = intNumber("a byte count", 1, 8);
      long value = entry("a value");
      if (more()) {
        keyword("cmpxchg");
        return new Scenario.Ptwr(d, mfn, offset, bytes, value, true, entry("the old value"));
      }
      return new Scenario.Ptwr(d, mfn, offset, bytes, value, false, 0);
    }

    private Command configWrite() {
      String dev = device(true);
      int offset = intNumber("a configuration-space offset", 0, 4095);
      int size = intNumber("a size (1, 2 or 4)", 1, 4);
      if (size == 3) {
        throw error("config: size 3 (expected 1, 2 or 4)");
      }
      if (offset % size != 0) {
        throw error("config: offset " + offset + " is not a multiple of the size " + size);
      }
      long value = number("a value");
      if ((value >>> (8 * size)) != 0) {
        throw error("config: value " + ScenarioWriter.hex(value) + " is wider than " + size
            + " bytes");
      }
      return new Scenario.ConfigWrite(dev, offset, size, value);
    }

    private Command expect() {
      String what = word("what to expect");
      switch (what) {
        case "rc" -> {
          if (!rcAvailable) {
            throw error("expect rc: no command before it");
          }
          return new Scenario.ExpectRc(rc());
        }
        case "writable", "read-only" -> {
          boolean writable = what.equals("writable");
          String d = name("a domain name");
          String where = word("pv, p2m or shadow");
          switch (where) {
            case "pv" -> {
              check(d, Need.PV);
              return new Scenario.ExpectPvEntry(writable, d, number("an MFN"), slot());
            }
            case "p2m" -> {
              check(d, Need.P2M);
              return new Scenario.ExpectP2mEntry(writable, d, number("a GFN"));
            }
            case "shadow" -> {
              check(d, Need.SHADOW);
              return new Scenario.ExpectShadowEntry(writable, d, table(d), slot());
            }
            default -> throw error("expect " + what + " " + d + " " + quote(where)
                + ": expected pv, p2m or shadow");
          }
        }
        case "protected", "unprotected" -> {
          long[] r = range();
          return new Scenario.ExpectProtected(what.equals("protected"), r[0], r[1]);
        }
        case "invariants" -> {
          keyword("hold");
          return new Scenario.ExpectInvariantsHold();
        }
        case "sent" -> {
          if (more() && tokens.get(next).equals("nothing")) {
            next++;
            return new Scenario.ExpectSent(true, 0, 0);
          }
          long address = number("a message address");
          long data = number("message data");
          if ((data >>> 32) != 0) {
            throw error("expect sent: data " + ScenarioWriter.hex(data) + " is wider than 32 bits");
          }
          return new Scenario.ExpectSent(false, address, data);
        }
        case "memory" -> {
          return new Scenario.ExpectMemory(domain(null), number("a guest-physical address"),
              size(), entry("a value"));
        }
        case "value", "ok", "fault" -> {
          if (!accessAvailable) {
            throw error("expect " + what + ": no vCPU access before it");
          }
          if (what.equals("value")) {
            return new Scenario.ExpectValue(entry("a value"));
          }
          return what.equals("ok") ? new Scenario.ExpectOk() : fault();
        }
        case "invariant" -> {
          String name = word("an invariant name");
          if (!Scenario.isInvariantName(name)) {
            throw error("unknown invariant " + quote(name) + " (expected: "
                + Scenario.INVARIANT_NAMES + ")");
          }
          keyword("fails");
          return new Scenario.ExpectInvariantFails(name);
        }
        default -> throw error("expect " + quote(what) + ": expected rc, writable, read-only,"
            + " protected, unprotected, invariants, invariant, memory, value, ok or fault");
      }
    }

    private Command registers() {
      String v = vcpu(null);
      OptionalLong[] regs = {OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
          OptionalLong.empty()};
      if (!more()) {
        throw error("cr " + v + ": missing a register (cr0=, cr3=, cr4= or efer=)");
      }
      while (more()) {
        String w = word("a register");
        int eq = w.indexOf('=');
        int r = eq < 0 ? -1 : REGISTERS.indexOf(w.substring(0, eq));
        if (r < 0 || w.substring(0, eq).isEmpty()) {
          throw error("cr " + v + ": " + quote(w) + " (expected: cr0=, cr3=, cr4= or efer="
              + " and a number)");
        }
        if (regs[r].isPresent()) {
          throw error("cr " + v + ": " + REGISTERS.get(r) + " given twice");
        }
        regs[r] = OptionalLong.of(parseNumber(w.substring(eq + 1), REGISTERS.get(r)));
      }
      return new Scenario.LoadRegisters(v, regs[0], regs[1], regs[2], regs[3]);
    }

    private Command translate() {
      String v = vcpu(null);
      long la = number("a linear address");
      boolean write = false;
      boolean fetch = false;
      boolean user = false;
      while (more()) {
        String w = word("write, fetch or user");
        boolean repeated;
        switch (w) {
          case "write" -> {
            repeated = write;
            write = true;
          }
          case "fetch" -> {
            repeated = fetch;
            fetch = true;
          }
          case "user" -> {
            repeated = user;
            user = true;
          }
          default -> throw error("translate: " + quote(w) + " (expected: write, fetch or user)");
        }
        if (repeated) {
          throw error("translate: " + w + " given twice");
        }
      }
      if (write && fetch) {
        throw error("translate: write and fetch at once");
      }
      return new Scenario.Translate(v, la, write, fetch, user);
    }

    private Command mmuext() {
      String v = vcpu(Need.PV);
      String w = word("an mmuext operation");
      Scenario.MmuextName op = null;
      for (Scenario.MmuextName o : Scenario.MmuextName.values()) {
        if (o.scriptName().equals(w)) {
          op = o;
        }
      }
      if (op == null) {
        throw error("unknown mmuext operation " + quote(w) + " (expected: new-baseptr,"
            + " tlb-flush-local, invlpg-local, tlb-flush-multi, invlpg-multi, tlb-flush-all,"
            + " invlpg-all or flush-cache)");
      }
      long arg1 = 0;
      long arg2 = 0;
      if (op == Scenario.MmuextName.TLB_FLUSH_MULTI) {
        arg2 = number("a vCPU bitmap");
      } else if (op.arity() >= 1) {
        arg1 = number(op == Scenario.MmuextName.NEW_BASEPTR ? "an MFN" : "a linear address");
        if (op.arity() == 2) {
          arg2 = number("a vCPU bitmap");
        }
      }
      return new Scenario.Mmuext(v, op, arg1, arg2);
    }

    private Command updateVa() {
      String v = vcpu(Need.PV);
      long la = number("a linear address");
      long entry = entry("an entry");
      String flush = word("none, invlpg or tlb-flush");
      long type = switch (flush) {
        case "none" -> PvMmuAbi.UVMF_NONE;
        case "invlpg" -> PvMmuAbi.UVMF_INVLPG;
        case "tlb-flush" -> PvMmuAbi.UVMF_TLB_FLUSH;
        default -> throw error("update-va: " + quote(flush)
            + " (expected: none, invlpg or tlb-flush)");
      };
      if (type == PvMmuAbi.UVMF_NONE) {
        return new Scenario.UpdateVa(v, la, entry, 0, 0);
      }
      String target = word("local, all or multi");
      return switch (target) {
        case "local" -> new Scenario.UpdateVa(v, la, entry, type | PvMmuAbi.UVMF_LOCAL, 0);
        case "all" -> new Scenario.UpdateVa(v, la, entry, type | PvMmuAbi.UVMF_ALL, 0);
        case "multi" -> new Scenario.UpdateVa(v, la, entry, type | Scenario.UVMF_MULTI_POINTER,
            number("a vCPU bitmap"));
        default -> throw error("update-va: " + quote(target) + " (expected: local, all or multi)");
      };
    }

    private Command fault() {
      String w = word("a fault kind");
      FaultKind kind = null;
      for (FaultKind k : FaultKind.values()) {
        if (Scenario.faultName(k).equals(w)) {
          kind = k;
        }
      }
      if (kind == null) {
        throw error("unknown fault " + quote(w)
            + " (expected: pf, gp, ss, ept-violation, ept-misconfig or npf)");
      }
      long code = Scenario.ExpectFault.hasCode(kind) ? number("an error code") : 0;
      if ((code >>> 52) != 0) {
        throw error("fault code " + ScenarioWriter.hex(code) + " is above 52 bits");
      }
      OptionalLong at = OptionalLong.empty();
      if (more()) {
        keyword("at");
        if (!Scenario.ExpectFault.hasAddress(kind)) {
          throw error("expect fault " + w + ": has no address");
        }
        at = OptionalLong.of(number("an address"));
      }
      return new Scenario.ExpectFault(kind, code, at);
    }

    // ---- arguments ----------------------------------------------------------------------------

    /** Which paging modes a command needs. */
    private enum Need {
      PV("pv or pv32"),
      P2M("hvm-ept, hvm-npt or hvm-shadow"),
      SHADOW("pv-shadow or hvm-shadow");

      final String modes;

      Need(String modes) {
        this.modes = modes;
      }

      boolean fits(PagingMode mode) {
        return switch (this) {
          case PV -> mode.pvTables();
          case P2M -> mode.translated();
          case SHADOW -> mode.shadowed();
        };
      }
    }

    private String domain(Need need) {
      String name = name("a domain name");
      check(name, need);
      // The declared name's instance: a million steps naming one domain share one String.
      return domains.get(name).name();
    }

    private String vcpu(Need need) {
      String name = name("a vCPU name");
      String d = vcpus.get(name);
      if (d == null) {
        throw error("undeclared vCPU '" + name + "'");
      }
      DomainInfo info = domains.get(d);
      if (need != null && !need.fits(info.mode())) {
        throw error("vCPU '" + name + "' is of domain '" + d + "', which is "
            + Scenario.modeName(info.mode()) + "; this needs " + need.modes);
      }
      return name;
    }

    private int size() {
      String w = word("a size");
      long value = parseNumber(w, "a size");
      if (value != 1 && value != 2 && value != 4 && value != 8) {
        throw error("size " + quote(w) + " (expected: 1, 2, 4 or 8)");
      }
      return (int) value;
    }

    private Command store() {
      String v = vcpu(null);
      long la = number("a linear address");
      int size = size();
      long value = entry("a value");
      boolean user = false;
      InstructionClass insn = InstructionClass.PLAIN_STORE;
      if (more()) {
        String w = word("user or as");
        if (w.equals("user")) {
          user = true;
        } else if (!w.equals("as")) {
          throw error(quote(w) + ": expected user or as");
        }
        if (user && more()) {
          keyword("as");
          w = "as";
        }
        if (w.equals("as")) {
          insn = storeClass();
        }
      }
      return new Scenario.Store(v, la, size, value, user, insn);
    }

    private InstructionClass storeClass() {
      String w = word("an instruction class");
      for (InstructionClass c : InstructionClass.values()) {
        if (c != InstructionClass.LOAD && c != InstructionClass.WIDE_STORE
            && Scenario.instructionClassName(c).equals(w)) {
          return c;
        }
      }
      throw error(quote(w) + ": expected plain-store, read-modify-write, locked, movs, stos "
          + "or unemulated");
    }

    private boolean user() {
      if (!more()) {
        return false;
      }
      keyword("user");
      return true;
    }

    private PageType level() {
      String w = word("l1, l2, l3 or l4");
      for (int level = 1; level <= 4; level++) {
        if (w.equals("l" + level)) {
          return PageType.ofLevel(level);
        }
      }
      throw error("unknown table level " + quote(w) + " (expected: l1, l2, l3 or l4)");
    }

    private void check(String name, Need need) {
      DomainInfo info = domains.get(name);
      if (info == null) {
        throw error("undeclared domain '" + name + "'");
      }
      if (need != null && !need.fits(info.mode())) {
        throw error("domain '" + name + "' is " + Scenario.modeName(info.mode()) + "; this needs "
            + need.modes);
      }
    }

    private String device(boolean declared) {
      String name = name("a device name");
      if (declared && !devices.contains(name)) {
        throw error("undeclared device '" + name + "'");
      }
      return name;
    }

    private int table(String domain) {
      int table = intNumber("a table number", 0, Integer.MAX_VALUE);
      int count = domains.get(domain).tables()[0];
      if (table >= count) {
        throw error("domain '" + domain + "' has no table " + table + " (it has " + count
            + "; 'table " + domain + "' makes one)");
      }
      return table;
    }

    private int slot() {
      return intNumber("a slot", 0, Pte.ENTRIES_PER_TABLE - 1);
    }

    private PageOrder order() {
      String w = word("4k, 2m or 1g");
      for (PageOrder o : PageOrder.values()) {
        if (Scenario.orderName(o).equals(w)) {
          return o;
        }
      }
      throw error("unknown page order " + quote(w) + " (expected: 4k, 2m or 1g)");
    }

    private P2mType type() {
      String w = word("a p2m type");
      for (P2mType t : P2mType.values()) {
        if (Scenario.typeName(t).equals(w)) {
          return t;
        }
      }
      throw error("unknown p2m type " + quote(w) + " (expected one of ram_rw, mmio_direct, ...)");
    }

    private int rc() {
      String w = word("a return code");
      if (w.startsWith("-") && w.length() > 1 && Character.isLetter(w.charAt(1))) {
        int errno = errno(w.substring(1));
        if (errno == 0) {
          throw error("unknown errno " + quote(w));
        }
        return -errno;
      }
      boolean negative = w.startsWith("-");
      long value = parseNumber(negative ? w.substring(1) : w, "a return code");
      if (value > Integer.MAX_VALUE + (negative ? 1L : 0L) || value < 0) {
        throw error("return code " + quote(w) + " is out of range");
      }
      return (int) (negative ? -value : value);
    }

    private long[] range() {
      String w = word("a frame range");
      int dash = w.indexOf('-');
      long first;
      long last;
      if (dash == 0 || dash == w.length() - 1) {
        throw error("bad frame range " + quote(w) + " (expected: N or FIRST-LAST)");
      }
      if (dash < 0) {
        first = parseNumber(w, "a frame range");
        last = first;
      } else {
        first = parseNumber(w.substring(0, dash), "the range's first frame");
        last = parseNumber(w.substring(dash + 1), "the range's last frame");
        if (Long.compareUnsigned(first, last) > 0) {
          throw error("range " + quote(w) + ": first frame above last");
        }
      }
      return new long[] {first, last};
    }

    private long entry(String what) {
      String w = word(what);
      if (!w.startsWith("pte(")) {
        return parseNumber(w, what);
      }
      String inner = w.substring(4, w.length() - 1).strip(); // the tokenizer ensured the ')'
      int comma = inner.indexOf(',');
      String mfnText = (comma < 0 ? inner : inner.substring(0, comma)).strip();
      long mfn = parseNumber(mfnText, "the MFN of pte()");
      if (Long.compareUnsigned(mfn, Pte.MAX_MFN) > 0) {
        throw error("pte(): MFN " + quote(mfnText) + " is above " + ScenarioWriter.hex(Pte.MAX_MFN));
      }
      int flags = 0;
      if (comma >= 0) {
        for (String f : inner.substring(comma + 1).strip().split("[\\s]+")) {
          if (f.isEmpty()) {
            continue;
          }
          int bit = flag(f);
          if (bit == 0) {
            throw error("pte(): unknown flag " + quote(f)
                + " (expected: P RW US PWT PCD A D PAT G NX GK)");
          }
          flags |= bit;
        }
      }
      return Pte.fromMfn(mfn, flags);
    }

    private static int flag(String name) {
      for (int i = 0; i < ScenarioWriter.FLAG_NAMES.length; i++) {
        if (ScenarioWriter.FLAG_NAMES[i].equalsIgnoreCase(name)) {
          return ScenarioWriter.FLAG_BITS[i];
        }
      }
      return 0;
    }

    private long messageData() {
      String w = word("message data");
      long value = parseNumber(w, "message data");
      if (Long.compareUnsigned(value, 0xffff_ffffL) > 0) {
        throw error("message data " + quote(w) + " is out of range (expected: 0 to 0xffffffff)");
      }
      return value;
    }

    private long number(String what) {
      return parseNumber(word(what), what);
    }

    private int intNumber(String what, int min, int max) {
      String w = word(what);
      long value = parseNumber(w, what);
      if (value < min || value > max) {
        throw error(what + " " + quote(w) + " is out of range (expected: " + min + " to " + max
            + ")");
      }
      return (int) value;
    }

    private long parseNumber(String text, String what) {
      String digits = text;
      int radix = 10;
      if (text.startsWith("0x") || text.startsWith("0X")) {
        digits = text.substring(2);
        radix = 16;
      }
      boolean ok = !digits.isEmpty();
      for (int i = 0; i < digits.length() && ok; i++) {
        ok = Character.digit(digits.charAt(i), radix) >= 0 && digits.charAt(i) < 0x80;
      }
      if (!ok) {
        throw error("bad number " + quote(text) + " for " + what
            + " (expected: decimal or 0x hex, unsigned 64-bit)");
      }
      try {
        return Long.parseUnsignedLong(digits, radix);
      } catch (NumberFormatException e) {
        throw error("number " + quote(text) + " for " + what + " is above 0xffffffffffffffff");
      }
    }

    private String name(String what) {
      String w = word(what);
      if (!Scenario.isName(w)) {
        throw error("bad name " + quote(w) + " for " + what
            + " (expected: [A-Za-z_][A-Za-z0-9_.:-]*)");
      }
      return w;
    }

    private void keyword(String expected) {
      String w = word("'" + expected + "'");
      if (!w.equals(expected)) {
        throw error("expected '" + expected + "', found " + quote(w));
      }
    }

    private String word(String what) {
      if (next >= tokens.size()) {
        throw error("missing " + what + " after " + quote(String.join(" ", tokens)));
      }
      return tokens.get(next++);
    }

    private boolean more() {
      return next < tokens.size();
    }

    private void endOfLine(String verb) {
      if (more()) {
        throw error("unexpected " + quote(tokens.get(next)) + " at the end of '" + verb
            + "' (a comment starts with #)");
      }
    }

    /** Splits a line into words; {@code pte( ... )} is one word whatever blanks it holds. */
    private List<String> tokenize(String text) {
      List<String> out = new ArrayList<>();
      int i = 0;
      int n = text.length();
      while (i < n) {
        char c = text.charAt(i);
        if (Character.isWhitespace(c)) {
          i++;
          continue;
        }
        int start = i;
        if (text.startsWith("pte(", i)) {
          int close = text.indexOf(')', i);
          if (close < 0) {
            throw error("pte( without a closing )");
          }
          i = close + 1;
          if (i < n && !Character.isWhitespace(text.charAt(i))) {
            throw error("unexpected " + quote(text.substring(i)) + " after pte(...)");
          }
        } else {
          while (i < n && !Character.isWhitespace(text.charAt(i))) {
            i++;
          }
        }
        out.add(text.substring(start, i));
      }
      return out;
    }
  }

  // ---- shared -------------------------------------------------------------------------------

  static final String DEFAULT_HEADER = "0000:01:00.0 inline device";

  private static String stripComment(String line) {
    int hash = line.indexOf('#');
    return hash < 0 ? line : line.substring(0, hash);
  }

  /** Whether a block line is a config-space row ({@code 00: 86 80 ...}) rather than a header. */
  static boolean isRow(String line) {
    int colon = line.indexOf(':');
    if (colon < 2 || colon > 3) {
      return false;
    }
    for (int i = 0; i < colon; i++) {
      if (Character.digit(line.charAt(i), 16) < 0) {
        return false;
      }
    }
    return colon + 1 == line.length() || line.charAt(colon + 1) == ' '
        || line.charAt(colon + 1) == '\t';
  }

  /** The reader's message without its {@code source:line: } prefix. */
  private static String readerReason(PciDumpParseException e) {
    String message = String.valueOf(e.getMessage());
    String prefix = e.source() + (e.line() == PciDumpParseException.NO_LINE ? "" : ":" + e.line())
        + ": ";
    return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
  }

  /** An errno by name, 0 if hvmmu does not name it. */
  static int errno(String name) {
    int[] known = {Errno.EPERM, Errno.ENOENT, Errno.ENXIO, Errno.ENOMEM, Errno.EACCES, Errno.EBUSY,
        Errno.EEXIST, Errno.EINVAL, Errno.ENOSPC, Errno.ENOSYS, Errno.ENODATA, Errno.EILSEQ,
        Errno.ERESTART};
    for (int e : known) {
      if (Errno.name(e).equals(name.toUpperCase(Locale.ROOT))) {
        return e;
      }
    }
    return 0;
  }

  /** A token quoted for a message, cut if long. */
  static String quote(String token) {
    String t = token.length() > QUOTE_LIMIT ? token.substring(0, QUOTE_LIMIT) + "..." : token;
    return "'" + t + "'";
  }
}
