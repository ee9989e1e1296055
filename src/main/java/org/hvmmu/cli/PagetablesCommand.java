package org.hvmmu.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.AddressSpaceWalker;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.LatencyModel;
import org.hvmmu.mmu.MmuFeatures;
import org.hvmmu.mmu.MmuSwitches;
import org.hvmmu.mmu.PagingMode;
import org.hvmmu.mmu.TlbConfig;
import org.hvmmu.mmu.Vcpu;
import org.hvmmu.mmu.dump.DumpFormat;
import org.hvmmu.mmu.dump.DumpFormatException;
import org.hvmmu.mmu.dump.DumpOptions;
import org.hvmmu.mmu.dump.GuestDump;
import org.hvmmu.mmu.dump.GuestDumps;
import org.hvmmu.mmu.dump.VcpuState;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hvmmu pagetables}: the address space of one vCPU of a guest dump, listed or queried.
 *
 * <pre>
 * hvmmu pagetables [--vcpu N] [--json] DUMP
 * hvmmu pagetables --translate ADDR:ACCESS... DUMP      ('-' as the only address: read stdin)
 *   register overrides: --cr0 --cr3 --cr4 --efer --pkru --pkrs --rflags --maxphyaddr
 *   nested: --eptp VALUE or --ncr3 VALUE
 *   --mmio-ro FRAMES (e.g. 0xe0840,0xfec00-0xfec01)
 * </pre>
 *
 * <p><b>DUMP</b> is an ELF core of QEMU's {@code dump-guest-memory} (its vCPUs' registers come from
 * the "QEMU" notes, EFER as {@link VcpuState} derives it) or a raw physical image (byte N is
 * physical address N), plain or gzip-compressed; it is only read. A dump without vCPU state needs
 * {@code --cr3}; its other registers then default to CR0 0x80010001 (PG, WP, PE), CR4 0, EFER 0
 * (32-bit paging), RFLAGS 0x2. PKRU and PKRS are not in dumps and default to 0. Numbers are hex
 * with {@code 0x} or decimal. MAXPHYADDR (default 52) sizes the physical memory and the vCPU.
 *
 * <p><b>Listing</b> (without {@code --translate}): every present leaf mapping, as {@link
 * AddressSpaceWalker} enumerates them, in exactly the format and order of QEMU 7.2's monitor
 * command {@code info tlb} ({@code target/i386/monitor.c}): {@code %016x: %016x} and the flags
 * {@code XGPDACTUW}; the second column is the entry masked as QEMU masks it (see {@link
 * #qemuLine}). With paging off it prints {@code PG disabled}, as QEMU does. {@code --json} prints
 * one object per line (JSON Lines) with exactly the keys {@code la}, {@code pa} (guest-physical
 * with nesting), {@code pageSize}, {@code entry} (the raw leaf entry), {@code rw} and {@code us}
 * (R/W, U/S set at every level), {@code nx} (XD set at some level), {@code writable} ({@code rw},
 * or CR0.WP clear so that supervisor writes ignore R/W), and with {@code --mmio-ro} also {@code
 * mmioRo}; numbers are {@code "0x..."} strings.
 *
 * <p><b>Translation</b> ({@code --translate}): one line per address, {@code ADDR ACCESS -> PA SIZE}
 * or {@code -> #PF ERRORCODE}, {@code -> EPT violation QUALIFICATION GPA}, {@code -> EPT misconfig
 * GPA}, {@code -> #NPF EXITINFO1 GPA}, {@code -> #GP}, {@code -> #SS}; ADDR has 16 hex digits, PA
 * and the codes are minimal hex with {@code 0x}, SIZE is {@code 4K}, {@code 2M}, {@code 4M} or
 * {@code 1G}; with {@code --mmio-ro} a PA in those frames ends in {@code MMIO-RO}. ACCESS is {@code
 * r}, {@code w} or {@code x}, then {@code u}, {@code s} or {@code i}, as {@link Access#parse} reads
 * it (so {@code ss} and {@code k} may follow: {@code k} makes a non-canonical address #SS). {@code
 * --json} gives one object per line with exactly the keys {@code la}, {@code access}, {@code pa},
 * {@code pageSize}, {@code fault}, {@code errorCode}, {@code gpa} (plus {@code mmioRo} with {@code
 * --mmio-ro}). Each run uses one fresh vCPU without TLBs or paging-structure caches, so every
 * address takes a full walk and lines are independent of each other; accessed and dirty flags are
 * set in the in-memory copy only, which changes no later result.
 *
 * <p><b>Nested paging</b>: {@code --eptp} (an Intel vCPU) or {@code --ncr3} (an AMD vCPU whose host
 * runs 4-level paging with NXE: host CR4 0x20, host EFER 0xd01). CR3 is then guest-physical, the
 * listing reads the guest tables through the nested ones, and every translation takes the 2-D walk.
 *
 * <p>Exit codes: 0; 2 for a usage error, a bad number or token, a bad option combination or a dump
 * that cannot be read (one line {@code hvmmu pagetables: ...} on stderr, no stack trace).
 */
@Command(
    name = "pagetables",
    mixinStandardHelpOptions = true,
    customSynopsis = {
      "hvmmu pagetables [OPTIONS] DUMP",
      "       hvmmu pagetables --translate [OPTIONS] ADDR:ACCESS... DUMP"
    },
    description = {
      "List every present leaf mapping of a vCPU's address space in the format of QEMU's"
          + " 'info tlb', or translate addresses.",
      "DUMP: an ELF core of QEMU's dump-guest-memory or a raw physical image (with --cr3), plain"
          + " or gzip-compressed. Numbers: hex with 0x, or decimal.",
      "ACCESS: r, w or x, then u, s or i (user, supervisor, implicit supervisor); '-' as the only"
          + " address reads ADDR:ACCESS tokens from stdin.",
      "OPTIONS: --json, --vcpu, register overrides, --eptp or --ncr3 (nested paging), --mmio-ro.",
      "Exit code 0, or 2 for a usage error or an unreadable dump (one line on stderr)."
    })
final class PagetablesCommand implements Callable<Integer> {
  /** The most addresses one run translates (from arguments or stdin). */
  static final int MAX_ADDRESSES = 1 << 20;

  /** The longest line read from stdin, in characters. */
  static final int MAX_LINE = 4096;

  /** The most comma-separated items of {@code --mmio-ro}. */
  static final int MAX_FRAME_ITEMS = 4096;

  /** The largest frame number: MAXPHYADDR 52. */
  static final long MAX_FRAME = (1L << 40) - 1;

  /** Registers of a dump without vCPU state. */
  static final long DEFAULT_CR0 = 0x8001_0001L;

  /** The host's CR4 under {@code --ncr3}: PAE, 4-level paging. */
  static final long NPT_HOST_CR4 = 0x20;

  /** The host's EFER under {@code --ncr3}: SCE, LME, LMA, NXE. */
  static final long NPT_HOST_EFER = 0xD01;

  private final InputStream stdin;

  @Spec private CommandSpec spec;

  @Option(names = "--vcpu", paramLabel = "N", description = "The vCPU of the dump (default 0).")
  private String vcpu;

  @Option(names = "--json", description = "One JSON object per line (JSON Lines).")
  private boolean json;

  @Option(
      names = "--translate",
      description = "Translate the ADDR:ACCESS arguments before DUMP instead of listing.")
  private boolean translate;

  @Option(names = "--cr0", paramLabel = "VALUE", description = "Override CR0.")
  private String cr0;

  @Option(
      names = "--cr3",
      paramLabel = "VALUE",
      description = "Override CR3 (needed for a raw image).")
  private String cr3;

  @Option(names = "--cr4", paramLabel = "VALUE", description = "Override CR4.")
  private String cr4;

  @Option(
      names = "--efer",
      paramLabel = "VALUE",
      description = "Override EFER (a dump's is derived).")
  private String efer;

  @Option(names = "--pkru", paramLabel = "VALUE", description = "PKRU (default 0).")
  private String pkru;

  @Option(names = "--pkrs", paramLabel = "VALUE", description = "IA32_PKRS (default 0).")
  private String pkrs;

  @Option(names = "--rflags", paramLabel = "VALUE", description = "Override RFLAGS (AC matters).")
  private String rflags;

  @Option(
      names = "--maxphyaddr",
      paramLabel = "BITS",
      description = "MAXPHYADDR, 32 to 52 (default 52).")
  private String maxPhyAddr;

  @Option(
      names = "--eptp",
      paramLabel = "VALUE",
      description = "Run the vCPU on EPT with this EPT pointer (CR3 is then guest-physical).")
  private String eptp;

  @Option(
      names = "--ncr3",
      paramLabel = "VALUE",
      description = "Run the vCPU on AMD NPT with this nested CR3 (host: 4-level paging, NXE).")
  private String ncr3;

  @Option(
      names = "--mmio-ro",
      paramLabel = "FRAMES",
      description =
          "Frames or inclusive ranges, comma-separated (0xe0840,0xfec00-0xfec01): flag each mapping"
              + " of them, writable ones first.")
  private String mmioRo;

  @Option(
      names = "--qemu-tcg",
      description =
          "Tolerate bits 8:5 of PAE PDPTEs, which QEMU's TCG sets (the accessed flag) though the"
              + " SDM reserves them; without it such a dump's PDPTEs do not load.")
  private boolean qemuTcg;

  @Parameters(arity = "0..*", paramLabel = "ARG", description = "[ADDR:ACCESS...] DUMP")
  private List<String> args = new ArrayList<>();

  PagetablesCommand(InputStream stdin) {
    this.stdin = stdin;
  }

  /** A usage error: one line on stderr, exit code 2. */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message, null, false, false);
    }
  }

  /** The registers a run uses. */
  record Registers(long cr0, long cr3, long cr4, long efer, long rflags) {}

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      return run(out, err);
    } catch (UsageException e) {
      out.flush();
      err.println("hvmmu pagetables: " + e.getMessage());
      err.flush();
      return 2;
    }
  }

  private int run(PrintWriter out, PrintWriter err) {
    long requested = maxPhyAddr == null ? DumpOptions.DEFAULT_MAX_PHYS_ADDR
        : number("--maxphyaddr", maxPhyAddr, -1);
    if (requested < PhysicalMemory.MIN_PHYS_ADDR_BITS
        || requested > PhysicalMemory.MAX_PHYS_ADDR_BITS) {
      throw new UsageException("--maxphyaddr " + shorten(maxPhyAddr) + " (expected: 32 to 52)");
    }
    int bits = (int) requested;
    if (eptp != null && ncr3 != null) {
      throw new UsageException("--eptp and --ncr3 exclude each other (EPT or NPT, not both)");
    }
    if (args.isEmpty()) {
      throw new UsageException("missing DUMP");
    }
    if (!translate && args.size() > 1) {
      throw new UsageException("unexpected argument '" + shorten(args.get(0))
          + "' (only DUMP without --translate)");
    }
    if (translate && args.size() < 2) {
      throw new UsageException("--translate needs ADDR:ACCESS arguments before DUMP");
    }
    long vcpuIndex = vcpu == null ? 0 : number("--vcpu", vcpu, -1);
    Long eptpValue = eptp == null ? null : number("--eptp", eptp, -1);
    Long ncr3Value = ncr3 == null ? null : number("--ncr3", ncr3, -1);
    long pkruValue = pkru == null ? 0 : number("--pkru", pkru, 0xFFFF_FFFFL);
    long pkrsValue = pkrs == null ? 0 : number("--pkrs", pkrs, 0xFFFF_FFFFL);
    Long[] overrides = {
      cr0 == null ? null : number("--cr0", cr0, -1),
      cr3 == null ? null : number("--cr3", cr3, -1),
      cr4 == null ? null : number("--cr4", cr4, -1),
      efer == null ? null : number("--efer", efer, -1),
      rflags == null ? null : number("--rflags", rflags, -1)
    };
    RangeSet frames = mmioRo == null ? null : frames(mmioRo);
    Addresses addresses = null;
    if (translate) {
      List<String> tokens = args.subList(0, args.size() - 1);
      addresses = tokens.size() == 1 && tokens.get(0).equals("-") ? readTokens(stdin)
          : parseTokens(tokens);
    }
    GuestDump dump = load(args.get(args.size() - 1), bits);
    Registers regs = registers(dump, vcpuIndex, overrides);
    Vcpu cpu = newVcpu(dump.memory(), bits, eptpValue, ncr3Value, qemuTcg);
    AddressSpaceWalker walker =
        new AddressSpaceWalker(dump.memory(), regs.cr0(), regs.cr3(), regs.cr4(), regs.efer());
    if (eptpValue != null) {
      walker.configureEpt(eptpValue);
    } else if (ncr3Value != null) {
      walker.configureNpt(ncr3Value, NPT_HOST_CR4);
    }
    if (translate) {
      PagingMode mode = walker.mode();
      for (int i = 0; i < addresses.count; i++) {
        if (!mode.isLongMode() && (addresses.la[i] >>> 32) != 0) {
          throw new UsageException("address 0x" + Long.toHexString(addresses.la[i]) + " in '"
              + addresses.token(i) + "' (expected: below 2^32 in " + modeName(mode) + ")");
        }
      }
      long loaded = cpu.loadState(regs.cr0(), regs.cr3(), regs.cr4(), regs.efer());
      if (Fault.isFault(loaded)) {
        // QEMU's TCG sets the accessed flag in PAE PDPTEs, where bit 5 is reserved (SDM vol. 3A
        // table 4-8): its dumps of PAE guests load with #GP on a faithful vCPU.
        err.println("hvmmu pagetables: note: loading the PAE PDPTEs from CR3 raised "
            + Fault.describe(loaded)
            + (Fault.kind(loaded) == FaultKind.GENERAL_PROTECTION
                ? " (a present PDPTE has reserved bits set, such as bit 5, the accessed flag that"
                    + " QEMU's TCG sets; --qemu-tcg tolerates it)" : "")
            + "; every translation sees non-present PDPTEs");
      }
      cpu.writePkru((int) pkruValue);
      cpu.writePkrs(pkrsValue);
      cpu.setRflags(regs.rflags());
      translateAll(out, cpu, walker, addresses, frames);
    } else {
      list(out, walker, regs, frames);
      if (walker.unreadableTables() > 0) {
        err.println("hvmmu pagetables: note: " + walker.unreadableTables() + " table"
            + (walker.unreadableTables() == 1 ? "" : "s")
            + " outside RAM or not mapped by the nested tables read as empty (QEMU reads"
            + " unassigned memory as zeros)");
      }
    }
    out.flush();
    err.flush();
    return 0;
  }

  // ---- inputs -----------------------------------------------------------------------------------

  private static GuestDump load(String file, int bits) {
    Path path;
    try {
      path = Path.of(file);
    } catch (InvalidPathException e) {
      throw new UsageException("DUMP '" + shorten(file) + "': not a valid path");
    }
    try {
      return GuestDumps.read(path, DumpOptions.DEFAULTS.withMaxPhyAddr(bits));
    } catch (DumpFormatException e) {
      throw new UsageException(oneLine(e.getMessage()));
    }
  }

  /**
   * The dump's registers of vCPU {@code index} with {@code overrides} (CR0, CR3, CR4, EFER, RFLAGS;
   * null keeps the dump's).
   */
  private Registers registers(GuestDump dump, long index, Long[] overrides) {
    List<VcpuState> vcpus = dump.vcpus();
    long c0;
    long c3;
    long c4;
    long ef;
    long fl;
    if (vcpus.isEmpty()) {
      if (overrides[1] == null) {
        throw new UsageException(dump.file() + " has no vCPU state ("
            + (dump.format() == DumpFormat.RAW ? "a raw image" : "an ELF core without QEMU notes")
            + "): give --cr3 (and --cr4, --efer for other than 32-bit paging)");
      }
      if (index != 0) {
        throw new UsageException("--vcpu " + shorten(vcpu) + ": " + dump.file()
            + " has no vCPU state (expected: 0)");
      }
      c0 = DEFAULT_CR0;
      c3 = 0;
      c4 = 0;
      ef = 0;
      fl = 2;
    } else {
      if (Long.compareUnsigned(index, vcpus.size()) >= 0) {
        throw new UsageException("--vcpu " + shorten(vcpu) + ": " + dump.file() + " has "
            + vcpus.size() + " vCPU" + (vcpus.size() == 1 ? "" : "s") + " (expected: 0 to "
            + (vcpus.size() - 1) + ")");
      }
      VcpuState s = vcpus.get((int) index);
      c0 = s.cr0();
      c3 = s.cr3();
      c4 = s.cr4();
      ef = s.efer();
      fl = s.rflags();
    }
    return new Registers(
        overrides[0] == null ? c0 : overrides[0],
        overrides[1] == null ? c3 : overrides[1],
        overrides[2] == null ? c4 : overrides[2],
        overrides[3] == null ? ef : overrides[3],
        overrides[4] == null ? fl : overrides[4]);
  }

  private static Vcpu newVcpu(
      PhysicalMemory memory, int bits, Long eptpValue, Long ncr3Value, boolean qemuTcg) {
    boolean amd = ncr3Value != null;
    MmuSwitches switches = (amd ? MmuSwitches.AMD : MmuSwitches.DEFAULT)
        .withPaePdpteBits8To5Reserved(!qemuTcg);
    Vcpu cpu = new Vcpu(memory, amd ? MmuFeatures.amd(bits) : MmuFeatures.intel(bits),
        switches, TlbConfig.none(), LatencyModel.GOLDEN_COVE);
    try {
      if (eptpValue != null) {
        cpu.configureEpt(eptpValue, 1);
      } else if (ncr3Value != null) {
        cpu.configureNpt(ncr3Value, 1, NPT_HOST_CR4, NPT_HOST_EFER);
      }
    } catch (IllegalArgumentException e) {
      throw new UsageException((eptpValue != null ? "--eptp: " : "--ncr3: ") + e.getMessage());
    }
    return cpu;
  }

  /**
   * Parses a number: hex with {@code 0x} (1 to 16 digits) or decimal, unsigned 64-bit, at most
   * {@code max} (unsigned; -1 for any).
   */
  static long number(String what, String text, long max) {
    long v;
    try {
      if (text.startsWith("0x") || text.startsWith("0X")) {
        String digits = text.substring(2);
        if (digits.isEmpty() || digits.length() > 16 || !digits.chars().allMatch(
            c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
          throw new NumberFormatException();
        }
        v = Long.parseUnsignedLong(digits, 16);
      } else {
        if (text.isEmpty() || text.length() > 20
            || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
          throw new NumberFormatException();
        }
        v = Long.parseUnsignedLong(text, 10);
      }
    } catch (NumberFormatException e) {
      throw new UsageException(what + ": '" + shorten(text)
          + "' is not a number (expected: hex with 0x, or decimal, below 2^64)");
    }
    if (max != -1 && Long.compareUnsigned(v, max) > 0) {
      throw new UsageException(what + ": " + shorten(text) + " (expected: at most 0x"
          + Long.toHexString(max) + ")");
    }
    return v;
  }

  /** Parses {@code --mmio-ro}: frames or inclusive ranges {@code A-B}, comma-separated. */
  static RangeSet frames(String text) {
    RangeSet set = new IntervalTreeRangeSet("mmio-ro frames", RangeSet.PRETTYPRINT_HEX);
    String[] items = text.split(",", -1);
    if (items.length > MAX_FRAME_ITEMS) {
      throw new UsageException("--mmio-ro: " + items.length + " items (expected: at most "
          + MAX_FRAME_ITEMS + ")");
    }
    for (String item : items) {
      if (item.isEmpty()) {
        throw new UsageException("--mmio-ro: empty item in '" + shorten(text)
            + "' (expected: FRAME or FIRST-LAST, comma-separated)");
      }
      int dash = item.indexOf('-');
      long first = number("--mmio-ro", dash < 0 ? item : item.substring(0, dash), -1);
      long last = dash < 0 ? first : number("--mmio-ro", item.substring(dash + 1), -1);
      if (Long.compareUnsigned(first, last) > 0 || Long.compareUnsigned(last, MAX_FRAME) > 0) {
        throw new UsageException("--mmio-ro: '" + shorten(item)
            + "' (expected: FIRST <= LAST <= 0x" + Long.toHexString(MAX_FRAME) + ")");
      }
      set.addRange(first, last);
    }
    return set;
  }

  /** Addresses to translate: parallel arrays, each access's text is {@link Access#describe}'s. */
  static final class Addresses {
    long[] la = new long[16];
    int[] access = new int[16];
    int count;

    void add(long address, int accessBits) {
      if (count == la.length) {
        la = Arrays.copyOf(la, 2 * count);
        access = Arrays.copyOf(access, 2 * count);
      }
      la[count] = address;
      access[count] = accessBits;
      count++;
    }

    String token(int i) {
      return "0x" + Long.toHexString(la[i]) + ":" + Access.describe(access[i]);
    }
  }

  static Addresses parseTokens(List<String> tokens) {
    Addresses a = new Addresses();
    if (tokens.size() > MAX_ADDRESSES) {
      throw new UsageException(tokens.size() + " addresses (expected: at most " + MAX_ADDRESSES
          + ")");
    }
    for (String t : tokens) {
      addToken(a, t);
    }
    return a;
  }

  private static void addToken(Addresses a, String token) {
    int colon = token.lastIndexOf(':');
    if (colon < 0) {
      throw new UsageException("bad address '" + shorten(token)
          + "' (expected: ADDR:ACCESS, e.g. 0xffffffff81000000:rs)");
    }
    long la;
    int access;
    try {
      la = number("address", token.substring(0, colon), -1);
      access = Access.parse(token.substring(colon + 1));
    } catch (UsageException | IllegalArgumentException e) {
      throw new UsageException("bad address '" + shorten(token)
          + "' (expected: ADDR:ACCESS; ADDR hex with 0x or decimal; ACCESS r, w or x, then u, s"
          + " or i)");
    }
    a.add(la, access);
  }

  /**
   * Reads whitespace-separated ADDR:ACCESS tokens from {@code in}: at most {@link #MAX_LINE}
   * characters per line and {@link #MAX_ADDRESSES} tokens (and lines).
   */
  static Addresses readTokens(InputStream in) {
    Addresses a = new Addresses();
    Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8);
    StringBuilder token = new StringBuilder();
    long line = 1;
    int column = 0;
    char[] buffer = new char[8192];
    try {
      for (int n; (n = reader.read(buffer)) >= 0; ) {
        for (int i = 0; i < n; i++) {
          char c = buffer[i];
          if (c == '\n') {
            line++;
            column = 0;
            if (line > MAX_ADDRESSES + 1L) {
              throw new UsageException("stdin: more than " + MAX_ADDRESSES + " lines");
            }
          } else if (++column > MAX_LINE) {
            throw new UsageException("stdin line " + line + ": longer than " + MAX_LINE
                + " characters");
          }
          if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
            flushToken(a, token);
          } else {
            token.append(c);
          }
        }
      }
    } catch (IOException e) {
      throw new UsageException("stdin: " + e.getMessage());
    }
    flushToken(a, token);
    if (a.count == 0) {
      throw new UsageException("--translate -: no ADDR:ACCESS tokens on stdin");
    }
    return a;
  }

  private static void flushToken(Addresses a, StringBuilder token) {
    if (token.length() == 0) {
      return;
    }
    if (a.count == MAX_ADDRESSES) {
      throw new UsageException("stdin: more than " + MAX_ADDRESSES + " addresses");
    }
    addToken(a, token.toString());
    token.setLength(0);
  }

  // ---- listing ----------------------------------------------------------------------------------

  private void list(PrintWriter out, AddressSpaceWalker walker, Registers regs, RangeSet frames) {
    PagingMode mode = walker.mode();
    if (mode == PagingMode.NONE) {
      if (!json) {
        out.print("PG disabled\n");
      }
      return;
    }
    boolean wpClear = (regs.cr0() & WP) == 0;
    StringBuilder b = new StringBuilder(1 << 17);
    walker.walk((la, pa, pageShift, entry, rights) -> {
      if (json) {
        jsonMapping(b, la, pa, pageShift, entry, rights, wpClear, frames);
      } else {
        qemuLine(b, mode, la, pageShift, entry);
      }
      drain(out, b);
      return 0;
    });
    if (frames != null && !json) {
      b.append("\n").append(frames).append(", mappings writable first:\n");
      long[] counts = new long[2];
      for (int pass = 0; pass < 2; pass++) {
        final int p = pass;
        boolean wantWritable = pass == 0;
        walker.walk((la, pa, pageShift, entry, rights) -> {
          boolean writable = (rights & AddressSpaceWalker.WRITABLE) != 0 || wpClear;
          if (writable == wantWritable && covers(frames, pa, pageShift)) {
            hex16(b.append("0x"), la).append(" -> 0x").append(Long.toHexString(pa)).append(' ')
                .append(size(pageShift)).append(writable ? " WRITABLE\n" : " read-only\n");
            counts[p]++;
            drain(out, b);
          }
          return 0;
        });
      }
      long all = counts[0] + counts[1];
      b.append(all == 0 ? "no mappings\n"
          : all + (all == 1 ? " mapping, " : " mappings, ") + counts[0] + " writable\n");
    }
    out.write(b.toString());
  }

  private static final long WP = 1L << 16;

  private static void drain(PrintWriter out, StringBuilder b) {
    if (b.length() >= 1 << 16) {
      out.write(b.toString());
      b.setLength(0);
    }
  }

  /** Whether a page of {@code 2^pageShift} bytes at {@code pa} holds a frame of {@code frames}. */
  static boolean covers(RangeSet frames, long pa, int pageShift) {
    long first = pa >>> PhysicalMemory.PAGE_SHIFT;
    return frames.overlapsRange(first, first + (1L << (pageShift - PhysicalMemory.PAGE_SHIFT)) - 1);
  }

  /**
   * One line of QEMU 7.2's {@code info tlb} ({@code print_pte}): the canonical linear address and
   * the entry masked as QEMU masks it, each {@code %016x}, then {@code XGPDACTUW} (NX, G, PS, D, A,
   * PCD, PWT, U/S, R/W; {@code -} when clear). The masks: 32-bit 4 MiB {@code 0xffe00000} (so the
   * reserved bit 21 shows and PSE-36 bits do not), 32-bit 4 KiB {@code 0xfffff000}; PAE 2 MiB
   * {@code ~0xfffff}, PAE 4 KiB {@code ~0xfff} (both keep XD and bits 62:52); IA-32e 1 GiB {@code
   * 0x3ffffc0000000}, 2 MiB {@code 0x3ffffffe00000}, 4 KiB {@code 0x3fffffffff000} (bits 49:12). A
   * 4 KiB entry has its bit 7 (PAT) cleared first, so {@code P} shows on large pages only.
   *
   * @param b where the line goes, with its {@code \n}
   * @param mode the paging mode
   * @param la the canonical linear address
   * @param pageShift 12, 21, 22 or 30
   * @param entry the leaf entry
   */
  static void qemuLine(StringBuilder b, PagingMode mode, long la, int pageShift, long entry) {
    long pte = entry;
    long shown;
    if (pageShift == 12) {
      pte = entry & ~0x80L;
      shown = pte & (mode == PagingMode.LEGACY_32 ? 0xFFFF_F000L
          : mode == PagingMode.PAE ? ~0xFFFL : 0x3_FFFF_FFFF_F000L);
    } else if (mode == PagingMode.LEGACY_32) {
      shown = entry & 0xFFE0_0000L;
    } else if (mode == PagingMode.PAE) {
      shown = entry & ~0xF_FFFFL;
    } else {
      shown = entry & (pageShift == 30 ? 0x3_FFFF_C000_0000L : 0x3_FFFF_FFE0_0000L);
    }
    hex16(b, la).append(": ");
    hex16(b, shown).append(' ')
        .append(pte < 0 ? 'X' : '-')
        .append((pte & 0x100) != 0 ? 'G' : '-')
        .append((pte & 0x80) != 0 ? 'P' : '-')
        .append((pte & 0x40) != 0 ? 'D' : '-')
        .append((pte & 0x20) != 0 ? 'A' : '-')
        .append((pte & 0x10) != 0 ? 'C' : '-')
        .append((pte & 0x8) != 0 ? 'T' : '-')
        .append((pte & 0x4) != 0 ? 'U' : '-')
        .append((pte & 0x2) != 0 ? 'W' : '-')
        .append('\n');
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /** Appends {@code v} as 16 lower-case hex digits. */
  static StringBuilder hex16(StringBuilder b, long v) {
    for (int shift = 60; shift >= 0; shift -= 4) {
      b.append(HEX[(int) (v >>> shift) & 0xF]);
    }
    return b;
  }

  private static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }

  /** A page size: {@code 4K}, {@code 2M}, {@code 4M}, {@code 1G}. */
  static String size(int pageShift) {
    if (pageShift >= 30) {
      return (1L << (pageShift - 30)) + "G";
    }
    return pageShift >= 20 ? (1L << (pageShift - 20)) + "M" : (1L << (pageShift - 10)) + "K";
  }

  private static void jsonMapping(StringBuilder b, long la, long pa, int pageShift, long entry,
      int rights, boolean wpClear, RangeSet frames) {
    boolean rw = (rights & AddressSpaceWalker.WRITABLE) != 0;
    b.append("{\"la\":\"").append(hex(la))
        .append("\",\"pa\":\"").append(hex(pa))
        .append("\",\"pageSize\":\"").append(hex(1L << pageShift))
        .append("\",\"entry\":\"").append(hex(entry))
        .append("\",\"rw\":").append(rw)
        .append(",\"us\":").append((rights & AddressSpaceWalker.USER) != 0)
        .append(",\"nx\":").append((rights & AddressSpaceWalker.EXECUTE_DISABLE) != 0)
        .append(",\"writable\":").append(rw || wpClear);
    if (frames != null) {
      b.append(",\"mmioRo\":").append(covers(frames, pa, pageShift));
    }
    b.append("}\n");
  }

  // ---- translation ------------------------------------------------------------------------------

  private void translateAll(PrintWriter out, Vcpu cpu, AddressSpaceWalker walker, Addresses a,
      RangeSet frames) {
    boolean nested = eptp != null || ncr3 != null;
    StringBuilder b = new StringBuilder(1 << 17);
    for (int i = 0; i < a.count; i++) {
      long la = a.la[i];
      String access = Access.describe(a.access[i]);
      long r = cpu.translate(la, a.access[i]);
      String fault = null;
      long code = -1;
      long gpa = -1;
      long pa = -1;
      int shift = 0;
      if (Fault.isFault(r)) {
        FaultKind kind = Fault.kind(r);
        fault = kind.label();
        code = kind == FaultKind.EPT_MISCONFIG ? -1 : Fault.code(r);
        if (kind == FaultKind.EPT_VIOLATION || kind == FaultKind.EPT_MISCONFIG
            || kind == FaultKind.NESTED_PAGE_FAULT) {
          gpa = cpu.faultGuestPhysical();
        }
      } else {
        pa = r;
        shift = cpu.lastPageShift();
        if (nested) {
          // The guest-physical address of the access: the guest tables' answer (NOT_MAPPED, -1,
          // prints as null, though a successful 2-D walk implies a guest mapping).
          gpa = walker.lookup(la);
        }
      }
      boolean mmio = pa >= 0 && frames != null && frames.containsSingleton(pa >>> 12);
      if (json) {
        b.append("{\"la\":\"").append(hex(la)).append("\",\"access\":\"").append(access)
            .append("\",\"pa\":").append(pa < 0 ? "null" : "\"" + hex(pa) + "\"")
            .append(",\"pageSize\":").append(pa < 0 ? "null" : "\"" + hex(1L << shift) + "\"")
            .append(",\"fault\":").append(fault == null ? "null" : "\"" + fault + "\"")
            .append(",\"errorCode\":").append(code < 0 ? "null" : "\"" + hex(code) + "\"")
            .append(",\"gpa\":").append(gpa < 0 ? "null" : "\"" + hex(gpa) + "\"");
        if (frames != null) {
          b.append(",\"mmioRo\":").append(mmio);
        }
        b.append("}\n");
      } else {
        hex16(b.append("0x"), la).append(' ').append(access).append(" -> ");
        if (fault == null) {
          b.append(hex(pa)).append(' ').append(size(shift));
          if (mmio) {
            b.append(" MMIO-RO");
          }
        } else {
          b.append(fault);
          if (code >= 0 && !fault.equals("#GP") && !fault.equals("#SS")) {
            b.append(' ').append(hex(code));
          }
          if (gpa >= 0) {
            b.append(' ').append(hex(gpa));
          }
        }
        b.append('\n');
      }
      drain(out, b);
    }
    out.write(b.toString());
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static String modeName(PagingMode mode) {
    switch (mode) {
      case LEGACY_32:
        return "32-bit paging";
      case PAE:
        return "PAE paging";
      default:
        return "a vCPU without paging";
    }
  }

  /** User text in a message: at most 64 characters, control characters replaced. */
  static String shorten(String s) {
    String t = s.length() > 64 ? s.substring(0, 64) + "..." : s;
    StringBuilder b = new StringBuilder(t.length());
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      b.append(c < 0x20 || c == 0x7f ? '?' : c);
    }
    return b.toString();
  }

  private static String oneLine(String s) {
    return s == null ? "unknown error" : s.replace('\n', ' ').replace('\r', ' ');
  }
}
