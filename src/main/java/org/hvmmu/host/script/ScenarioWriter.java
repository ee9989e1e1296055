package org.hvmmu.host.script;

import java.util.List;
import java.util.OptionalLong;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.host.script.Scenario.Assign;
import org.hvmmu.host.script.Scenario.Command;
import org.hvmmu.host.script.Scenario.Crash;
import org.hvmmu.host.script.Scenario.CreateDomain;
import org.hvmmu.host.script.Scenario.CreateVcpu;
import org.hvmmu.host.script.Scenario.DeviceDump;
import org.hvmmu.host.script.Scenario.DeviceHex;
import org.hvmmu.host.script.Scenario.ExpectFault;
import org.hvmmu.host.script.Scenario.ExpectInvariantFails;
import org.hvmmu.host.script.Scenario.ExpectInvariantsHold;
import org.hvmmu.host.script.Scenario.ExpectMemory;
import org.hvmmu.host.script.Scenario.ExpectOk;
import org.hvmmu.host.script.Scenario.ExpectP2mEntry;
import org.hvmmu.host.script.Scenario.ExpectProtected;
import org.hvmmu.host.script.Scenario.ExpectPvEntry;
import org.hvmmu.host.script.Scenario.ExpectRc;
import org.hvmmu.host.script.Scenario.ExpectShadowEntry;
import org.hvmmu.host.script.Scenario.ExpectValue;
import org.hvmmu.host.script.Scenario.Fetch;
import org.hvmmu.host.script.Scenario.GiveRam;
import org.hvmmu.host.script.Scenario.GrantIomem;
import org.hvmmu.host.script.Scenario.GuestWrite;
import org.hvmmu.host.script.Scenario.HostConfig;
import org.hvmmu.host.script.Scenario.Invlpg;
import org.hvmmu.host.script.Scenario.Invpcid;
import org.hvmmu.host.script.Scenario.LoadRegisters;
import org.hvmmu.host.script.Scenario.Mmcfg;
import org.hvmmu.host.script.Scenario.MmioHole;
import org.hvmmu.host.script.Scenario.MmuUpdate;
import org.hvmmu.host.script.Scenario.Mmuext;
import org.hvmmu.host.script.Scenario.MsixDisable;
import org.hvmmu.host.script.Scenario.MsixEnable;
import org.hvmmu.host.script.Scenario.MsixPrepare;
import org.hvmmu.host.script.Scenario.MsixRelease;
import org.hvmmu.host.script.Scenario.NewTable;
import org.hvmmu.host.script.Scenario.Pin;
import org.hvmmu.host.script.Scenario.Poke;
import org.hvmmu.host.script.Scenario.PrintInvariants;
import org.hvmmu.host.script.Scenario.PrintRanges;
import org.hvmmu.host.script.Scenario.Protect;
import org.hvmmu.host.script.Scenario.Ptwr;
import org.hvmmu.host.script.Scenario.Read;
import org.hvmmu.host.script.Scenario.Retype;
import org.hvmmu.host.script.Scenario.SetP2m;
import org.hvmmu.host.script.Scenario.ShadowWrite;
import org.hvmmu.host.script.Scenario.Store;
import org.hvmmu.host.script.Scenario.Translate;
import org.hvmmu.host.script.Scenario.Unpin;
import org.hvmmu.host.script.Scenario.Unprotect;
import org.hvmmu.host.script.Scenario.UpdateVa;
import org.hvmmu.mmu.MmuSwitches.TlbMode;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.hvmmu.x86.pv.PageType;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.hvmmu.xen.Errno;

/**
 * Prints commands as script text that {@link ScenarioParser} reads back to equal commands: {@code
 * ScenarioParser.parse(s, ScenarioWriter.write(x)).commands().equals(x)} for every valid list
 * {@code x}. Each command takes one line (a {@code device NAME hex} block takes its lines plus
 * {@code end}), so a failure's line number points into the written text. Frame numbers and entries
 * are written in hex, counts and slots in decimal, entries as {@code pte(MFN, FLAGS)} when they
 * hold nothing but a frame and named flags (the values of {@code store}, {@code poke} and {@code
 * expect value|memory} in hex). Stateless and thread-safe.
 *
 * <pre>{@code
 * ScenarioWriter.write(List.of(new Scenario.Pin("guest", 0x100)));   // "pin guest 0x100\n"
 * ScenarioWriter.entry(Pte.fromMfn(0xe0840, PAGE_PRESENT | PAGE_RW)); // "pte(0xe0840, P RW)"
 * }</pre>
 */
public final class ScenarioWriter {
  private ScenarioWriter() {}

  /** Flag names of {@code pte(...)} and their packed bits, in the order the writer prints them. */
  static final String[] FLAG_NAMES = {"P", "RW", "US", "PWT", "PCD", "A", "D", "PAT", "G", "NX",
      "GK"};

  static final int[] FLAG_BITS = {PteFlags.PAGE_PRESENT, PteFlags.PAGE_RW, PteFlags.PAGE_USER,
      PteFlags.PAGE_PWT, PteFlags.PAGE_PCD, PteFlags.PAGE_ACCESSED, PteFlags.PAGE_DIRTY,
      PteFlags.PAGE_PAT, PteFlags.PAGE_GLOBAL, PteFlags.PAGE_NX_BIT, PteFlags.PAGE_GUEST_KERNEL};

  private static final int NAMED_FLAGS;

  static {
    int all = 0;
    for (int bit : FLAG_BITS) {
      all |= bit;
    }
    NAMED_FLAGS = all;
  }

  /**
   * Writes commands as a script, one line each (plus the block lines of inline devices), each
   * line ending with a newline.
   *
   * @param commands the commands
   * @return the script text
   */
  public static String write(List<? extends Command> commands) {
    StringBuilder out = new StringBuilder();
    for (Command c : commands) {
      out.append(command(c)).append('\n');
    }
    return out.toString();
  }

  /**
   * One command as script text, without a final newline; a {@code device NAME hex} block spans
   * several lines.
   *
   * @param command the command
   * @return its text
   */
  public static String command(Command command) {
    if (command instanceof HostConfig c) {
      return "host frames " + hex(c.frames())
            + (c.policy() == Scenario.PolicyName.UNSPECIFIED ? "" : " policy "
                + c.policy().scriptName())
            + (c.tlb() == TlbMode.STRICT ? "" : " tlb " + Scenario.tlbModeName(c.tlb()));
    }
    if (command instanceof DeviceDump c) {
      return "device " + c.name() + " dump " + c.path()
            + (c.index() == 0 ? "" : " index " + c.index());
    }
    if (command instanceof DeviceHex c) {
      return "device " + c.name() + " hex\n" + String.join("\n", c.lines()) + "\nend";
    }
    if (command instanceof CreateDomain c) {
      return "domain " + c.name() + " " + c.id() + " " + Scenario.modeName(c.mode())
            + (c.privileged() ? " privileged" : "");
    }
    if (command instanceof GiveRam c) {
      return "ram " + c.domain() + " " + range(c.first(), c.last());
    }
    if (command instanceof MmioHole c) {
      return "mmio-hole " + range(c.first(), c.last());
    }
    if (command instanceof Mmcfg c) {
      return "mmcfg " + c.segment() + " " + c.startBus() + "-" + c.endBus() + " "
          + hex(c.address());
    }
    if (command instanceof GrantIomem c) {
      return "iomem " + c.domain() + " " + range(c.first(), c.last());
    }
    if (command instanceof Assign c) {
      return "assign " + c.device() + " " + c.domain();
    }
    if (command instanceof Protect c) {
      return "protect " + c.registrant() + " " + range(c.first(), c.last());
    }
    if (command instanceof Unprotect c) {
      return "unprotect " + c.registrant() + " " + range(c.first(), c.last());
    }
    if (command instanceof MsixEnable c) {
      return "msix enable " + c.device() + " " + c.entry()
            + (c.by().isEmpty() ? "" : " by " + c.by());
    }
    if (command instanceof MsixDisable c) {
      return "msix disable " + c.device() + " " + c.entry();
    }
    if (command instanceof MsixPrepare c) {
      return "msix prepare " + c.device();
    }
    if (command instanceof MsixRelease c) {
      return "msix release " + c.device();
    }
    if (command instanceof Scenario.MsixProgram c) {
      return "msix program " + c.device() + " " + c.entry() + " " + hex(c.address()) + " "
          + hex(c.data());
    }
    if (command instanceof Scenario.MsixFire c) {
      return "msix fire " + c.device() + " " + c.entry();
    }
    if (command instanceof Scenario.ConfigWrite c) {
      return "config " + c.device() + " " + hex(c.offset()) + " " + c.size() + " "
          + hex(c.value());
    }
    if (command instanceof Scenario.ExpectSent c) {
      return c.nothing() ? "expect sent nothing"
          : "expect sent " + hex(c.address()) + " " + hex(c.data());
    }
    if (command instanceof Pin c) {
      return "pin " + c.domain() + " " + hex(c.mfn())
          + (c.level() == PageType.L1_PAGE_TABLE ? "" : " " + Scenario.levelName(c.level()));
    }
    if (command instanceof Unpin c) {
      return "unpin " + c.domain() + " " + hex(c.mfn());
    }
    if (command instanceof GuestWrite c) {
      return "write " + c.domain() + " " + hex(c.mfn()) + " " + c.slot() + " "
            + entry(c.entry());
    }
    if (command instanceof MmuUpdate c) {
      return "update " + c.domain() + " " + hex(c.mfn()) + " " + c.slot() + " "
            + entry(c.entry());
    }
    if (command instanceof Ptwr c) {
      return "ptwr " + c.domain() + " " + hex(c.mfn()) + " " + hex(c.offset()) + " "
            + c.bytes() + " " + entry(c.value()) + (c.cmpxchg() ? " cmpxchg " + entry(c.old()) : "");
    }
    if (command instanceof SetP2m c) {
      return "p2m " + c.domain() + " " + hex(c.gfn()) + " " + hex(c.mfn()) + " "
            + Scenario.orderName(c.order()) + " " + Scenario.typeName(c.type());
    }
    if (command instanceof Retype c) {
      return "retype " + c.domain() + " " + Scenario.typeName(c.from()) + " "
            + Scenario.typeName(c.to());
    }
    if (command instanceof NewTable c) {
      return "table " + c.domain();
    }
    if (command instanceof ShadowWrite c) {
      return "shadow " + c.domain() + " " + c.table() + " " + c.slot() + " "
            + entry(c.entry());
    }
    if (command instanceof Crash c) {
      return "crash " + c.domain();
    }
    if (command instanceof ExpectRc c) {
      return "expect rc " + rc(c.rc());
    }
    if (command instanceof ExpectPvEntry c) {
      return "expect " + access(c.writable()) + " " + c.domain() + " pv "
            + hex(c.mfn()) + " " + c.slot();
    }
    if (command instanceof ExpectP2mEntry c) {
      return "expect " + access(c.writable()) + " " + c.domain() + " p2m "
            + hex(c.gfn());
    }
    if (command instanceof ExpectShadowEntry c) {
      return "expect " + access(c.writable()) + " " + c.domain() + " shadow "
            + c.table() + " " + c.slot();
    }
    if (command instanceof ExpectProtected c) {
      return "expect " + (c.isProtected() ? "protected " : "unprotected ")
            + range(c.first(), c.last());
    }
    if (command instanceof ExpectInvariantsHold) {
      return "expect invariants hold";
    }
    if (command instanceof ExpectInvariantFails c) {
      return "expect invariant " + c.invariant() + " fails";
    }
    if (command instanceof PrintRanges) {
      return "print ranges";
    }
    String vcpuCommand = vcpuCommand(command);
    if (vcpuCommand != null) {
      return vcpuCommand;
    }
    if (command instanceof PrintInvariants) {
      return "print invariants";
    }
    throw new AssertionError(command);
  }

  /** The vCPU commands and their expectations, or null for another command. */
  private static String vcpuCommand(Command command) {
    if (command instanceof CreateVcpu c) {
      return "vcpu " + c.name() + " " + c.domain();
    }
    if (command instanceof LoadRegisters c) {
      StringBuilder out = new StringBuilder("cr ").append(c.vcpu());
      register(out, "cr0", c.cr0());
      register(out, "cr3", c.cr3());
      register(out, "cr4", c.cr4());
      register(out, "efer", c.efer());
      return out.toString();
    }
    if (command instanceof Read c) {
      return "read " + c.vcpu() + " " + hex(c.la()) + " " + c.size() + user(c.user());
    }
    if (command instanceof Store c) {
      return "store " + c.vcpu() + " " + hex(c.la()) + " " + c.size() + " " + hex(c.value())
          + user(c.user()) + (c.insn() == InstructionClass.PLAIN_STORE ? ""
          : " as " + Scenario.instructionClassName(c.insn()));
    }
    if (command instanceof Fetch c) {
      return "fetch " + c.vcpu() + " " + hex(c.la()) + " " + c.size() + user(c.user());
    }
    if (command instanceof Translate c) {
      return "translate " + c.vcpu() + " " + hex(c.la()) + (c.write() ? " write" : "")
          + (c.fetch() ? " fetch" : "") + user(c.user());
    }
    if (command instanceof Invlpg c) {
      return "invlpg " + c.vcpu() + " " + hex(c.la());
    }
    if (command instanceof Invpcid c) {
      return "invpcid " + c.vcpu() + " " + c.type() + " " + hex(c.pcid()) + " " + hex(c.la());
    }
    if (command instanceof Mmuext c) {
      StringBuilder out = new StringBuilder("mmuext ").append(c.vcpu()).append(' ')
          .append(c.op().scriptName());
      if (c.op() == Scenario.MmuextName.TLB_FLUSH_MULTI) {
        out.append(' ').append(hex(c.arg2()));
      } else if (c.op().arity() >= 1) {
        out.append(' ').append(hex(c.arg1()));
        if (c.op().arity() == 2) {
          out.append(' ').append(hex(c.arg2()));
        }
      }
      return out.toString();
    }
    if (command instanceof UpdateVa c) {
      long type = c.flags() & PvMmuAbi.UVMF_FLUSHTYPE_MASK;
      long target = c.flags() & ~PvMmuAbi.UVMF_FLUSHTYPE_MASK;
      String flush = type == PvMmuAbi.UVMF_NONE ? "none"
          : type == PvMmuAbi.UVMF_INVLPG ? "invlpg" : "tlb-flush";
      String to = type == PvMmuAbi.UVMF_NONE ? ""
          : target == PvMmuAbi.UVMF_LOCAL ? " local"
          : target == PvMmuAbi.UVMF_ALL ? " all" : " multi " + hex(c.vcpuMask());
      return "update-va " + c.vcpu() + " " + hex(c.la()) + " " + entry(c.entry()) + " " + flush
          + to;
    }
    if (command instanceof Poke c) {
      return "poke " + c.domain() + " " + hex(c.gpa()) + " " + c.size() + " " + hex(c.value());
    }
    if (command instanceof ExpectMemory c) {
      return "expect memory " + c.domain() + " " + hex(c.gpa()) + " " + c.size() + " "
          + hex(c.value());
    }
    if (command instanceof ExpectValue c) {
      return "expect value " + hex(c.value());
    }
    if (command instanceof ExpectOk) {
      return "expect ok";
    }
    if (command instanceof ExpectFault c) {
      return "expect fault " + Scenario.faultName(c.kind())
          + (ExpectFault.hasCode(c.kind()) ? " " + hex(c.code()) : "")
          + (c.address().isPresent() ? " at " + hex(c.address().getAsLong()) : "");
    }
    return null;
  }

  private static void register(StringBuilder out, String name, OptionalLong value) {
    if (value.isPresent()) {
      out.append(' ').append(name).append('=').append(hex(value.getAsLong()));
    }
  }

  private static String user(boolean user) {
    return user ? " user" : "";
  }

  /**
   * A page-table entry as {@code pte(MFN, FLAGS)} if it holds only a frame number and flags of
   * {@code P RW US PWT PCD A D PAT G NX GK}, else as a raw hex number.
   *
   * @param entry the 64-bit entry
   * @return {@code pte(0xe0840, P RW US)} or {@code 0x...}
   */
  public static String entry(long entry) {
    int flags = Pte.getFlags(entry);
    long mfn = Pte.getMfn(entry);
    if ((flags & ~NAMED_FLAGS) != 0 || Pte.fromMfn(mfn, flags) != entry) {
      return hex(entry);
    }
    StringBuilder out = new StringBuilder("pte(").append(hex(mfn));
    String sep = ", ";
    for (int i = 0; i < FLAG_NAMES.length; i++) {
      if ((flags & FLAG_BITS[i]) != 0) {
        out.append(sep).append(FLAG_NAMES[i]);
        sep = " ";
      }
    }
    return out.append(')').toString();
  }

  /**
   * A return code as {@code expect rc} writes it: {@code -EINVAL} for a negated errno hvmmu names,
   * else decimal.
   *
   * @param rc the code
   * @return its text
   */
  public static String rc(int rc) {
    if (rc < 0 && rc != Integer.MIN_VALUE && !Errno.name(rc).startsWith("errno")) {
      return "-" + Errno.name(rc);
    }
    return Integer.toString(rc);
  }

  /**
   * An inclusive frame range {@code [first, last]} as {@code 0xFIRST-0xLAST}, or one number when
   * {@code first == last}.
   *
   * @param first the first frame
   * @param last the last frame
   * @return its text
   */
  public static String range(long first, long last) {
    return first == last ? hex(first) : hex(first) + "-" + hex(last);
  }

  static String hex(long value) {
    return "0x" + Long.toHexString(value);
  }

  private static String access(boolean writable) {
    return writable ? "writable" : "read-only";
  }
}
