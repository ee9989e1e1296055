package org.hvmmu.host.script;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.hvmmu.host.GuestDomain;
import org.hvmmu.host.GuestVcpu;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostDevice;
import org.hvmmu.host.HostInvariants;
import org.hvmmu.host.Policy;
import org.hvmmu.host.Violation;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.script.Scenario.Command;
import org.hvmmu.internal.InputFiles;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.LatencyModel;
import org.hvmmu.mmu.TlbConfig;
import org.hvmmu.mmu.xen.GuestRegisters;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.RadixP2m;
import org.hvmmu.pci.LspciDumpReader;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciDumpParseException;
import org.hvmmu.pci.msix.MsixResult;
import org.hvmmu.pci.msix.regs.MsiInterrupt;
import org.hvmmu.pci.msix.regs.MsixFireResult;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.EmulationResult;
import org.hvmmu.xen.HypervisorBugException;

/**
 * Runs a {@link Scenario} against a fresh {@link Host}: each command is the host call the language
 * names ({@code docs/scenarios.md}), each {@code expect} line is evaluated, and a failed one is
 * recorded as {@code SOURCE:LINE: expected ..., but ...} while the script goes on. A script error
 * (a name the host does not know, a dump that cannot be read, a host call the arguments make
 * impossible, such as disabling an entry that is not enabled or using a crashed domain) stops the
 * run with a {@link ScenarioException} naming the line.
 *
 * <pre>{@code
 * Scenario s = ScenarioParser.read(Path.of("docs/scenarios/second-enable.hvmmu"));
 * ScenarioResult seed = ScenarioRunner.scriptPolicy().run(s);            // the script's policy
 * ScenarioResult hardened = ScenarioRunner.forcing(Policy.HARDENED).run(s);
 * List<Failure> failed = hardened.failures();   // second-enable.hvmmu:21: expected ...
 * }</pre>
 *
 * <p>The host gets the policy the runner forces, else the one the script's {@code host} line names,
 * else {@link Policy#HARDENED}. A runner is immutable (the {@code with} methods return new ones)
 * and may be shared; each {@link #run} builds its own host, so runs on different threads are
 * independent.
 */
public final class ScenarioRunner {
  /**
   * Reads the text of a dump file that a {@code device NAME dump PATH} line names.
   */
  @FunctionalInterface
  public interface DumpLoader {
    /**
     * The text of the dump at {@code path}.
     *
     * @param scenario the running scenario (for its directory)
     * @param path the path as the script writes it
     * @return the text
     * @throws UncheckedIOException if it cannot be read
     */
    String load(Scenario scenario, String path);
  }

  /**
   * Reads paths relative to the scenario's directory (absolute paths as they are): regular files
   * (after following links) of at most {@link LspciDumpReader#MAX_FILE_BYTES} bytes; anything else
   * is an {@link UncheckedIOException} {@code "cannot read FILE: WHY"}.
   */
  public static final DumpLoader FILES = (scenario, path) -> {
    Path file = scenario.directory().resolve(path);
    try {
      return new String(InputFiles.readBytes(file, (int) LspciDumpReader.MAX_FILE_BYTES),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + InputFiles.why(e), e);
    }
  };

  private final Policy forced;
  private final DumpLoader dumps;
  private final ScenarioListener listener;

  private ScenarioRunner(Policy forced, DumpLoader dumps, ScenarioListener listener) {
    this.forced = forced;
    this.dumps = dumps;
    this.listener = listener;
  }

  /**
   * A runner that uses the policy the script names ({@link Policy#HARDENED} if none).
   *
   * @return the runner
   */
  public static ScenarioRunner scriptPolicy() {
    return new ScenarioRunner(null, FILES, ScenarioListener.NONE);
  }

  /**
   * A runner that uses {@code policy} whatever the script says ({@code replay --policy}).
   *
   * @param policy the policy, a preset or any combination of switches
   * @return the runner
   */
  public static ScenarioRunner forcing(Policy policy) {
    return new ScenarioRunner(Objects.requireNonNull(policy, "policy"), FILES,
        ScenarioListener.NONE);
  }

  /**
   * This runner reading dumps through {@code loader} (the CLI reads bundled scenarios' dumps from
   * the class path).
   *
   * @param loader the loader
   * @return a new runner
   */
  public ScenarioRunner withDumpLoader(DumpLoader loader) {
    return new ScenarioRunner(forced, Objects.requireNonNull(loader, "loader"), listener);
  }

  /**
   * This runner telling {@code l} about every step.
   *
   * @param l the listener
   * @return a new runner
   */
  public ScenarioRunner withListener(ScenarioListener l) {
    return new ScenarioRunner(forced, dumps, Objects.requireNonNull(l, "listener"));
  }

  /**
   * The policy a run of {@code scenario} uses.
   *
   * @param scenario the scenario
   * @return the forced policy, else the script's, else {@link Policy#HARDENED}
   */
  public Policy policyFor(Scenario scenario) {
    if (forced != null) {
      return forced;
    }
    if (!scenario.steps().isEmpty()
        && scenario.steps().get(0).command() instanceof Scenario.HostConfig h) {
      return h.policy().policy();
    }
    return Policy.HARDENED;
  }

  /**
   * A policy's script name.
   *
   * @param policy a policy
   * @return {@code seed-2010}, {@code hardened}, {@code xen-4.22}, or {@code custom} for a mix of
   *     switches
   */
  public static String policyName(Policy policy) {
    for (Scenario.PolicyName name : Scenario.PolicyName.values()) {
      if (name != Scenario.PolicyName.UNSPECIFIED && name.policy().equals(policy)) {
        return name.scriptName();
      }
    }
    return "custom";
  }

  /**
   * Runs the scenario on a new host.
   *
   * @param scenario the scenario
   * @return the host, the policy and the failed expectations
   * @throws ScenarioException at the first script error
   */
  public ScenarioResult run(Scenario scenario) {
    return new Execution(scenario, policyFor(scenario)).run();
  }

  /** The most MSI-X messages a run keeps for {@code expect sent}; older ones are forgotten. */
  static final int MAX_SENT = 4096;

  /** The state of one run. */
  private final class Execution {
    private final Scenario scenario;
    private final Policy policy;
    private final Map<String, GuestDomain> domains = new HashMap<>();
    private final Map<String, HostDevice> devices = new HashMap<>();
    private final List<Failure> failures = new ArrayList<>();
    private final P2mEntry lookup = new P2mEntry();
    private final Map<String, GuestVcpu> vcpus = new HashMap<>();
    private Host host;
    private int rc;
    private Scenario.Step rcStep;
    private int expects;
    /** The last vCPU access: its step, value, fault (0 for none) and the fault's address. */
    private Scenario.Step accessStep;
    private long accessValue;
    private long accessFault;
    private long accessAddress;
    /** MSI-X messages sent and not yet expected: {address, data} pairs, oldest first. */
    private final ArrayDeque<long[]> sent = new ArrayDeque<>();

    Execution(Scenario scenario, Policy policy) {
      this.scenario = scenario;
      this.policy = policy;
    }

    ScenarioResult run() {
      for (Scenario.Step step : scenario.steps()) {
        StepOutcome outcome;
        try {
          if (host == null) {
            long frames = step.command() instanceof Scenario.HostConfig h ? h.frames()
                : Scenario.DEFAULT_HOST_FRAMES;
            host = new Host(frames, policy);
            host.setInterruptSink((bdf, entry, address, data, interrupt) -> {
              if (sent.size() == MAX_SENT) {
                sent.poll(); // bounded: the oldest unexpected message goes
              }
              sent.add(new long[] {address, data & 0xffff_ffffL});
            });
            if (step.command() instanceof Scenario.HostConfig h) {
              host.configureVcpus(TlbConfig.goldenCove(), LatencyModel.GOLDEN_COVE, h.tlb());
            }
          }
          outcome = step(step);
        } catch (ScenarioException e) {
          throw e;
        } catch (IllegalArgumentException | IllegalStateException | IndexOutOfBoundsException
            | UncheckedIOException | HypervisorBugException e) {
          String why = e instanceof UncheckedIOException u && u.getCause() != null
              && !(u.getCause() instanceof InputFiles.RefusedException)
              && !e.getMessage().endsWith(InputFiles.why(u.getCause()))
              ? e.getMessage() + ": " + u.getCause().getMessage() : e.getMessage();
          if (e instanceof HypervisorBugException) {
            why = "Xen would BUG(): " + why;
          }
          throw new ScenarioException(scenario.source(), step.line(),
              firstLine(ScenarioWriter.command(step.command())) + ": " + why, e);
        }
        if (!step.command().isExpect() && !(step.command() instanceof Scenario.PrintRanges)
            && !(step.command() instanceof Scenario.PrintInvariants)) {
          rc = outcome.rc();
          rcStep = step;
        }
        failures.addAll(outcome.failures());
        listener.stepDone(step, outcome, host);
      }
      if (host == null) {
        host = new Host(Scenario.DEFAULT_HOST_FRAMES, policy);
      }
      return new ScenarioResult(scenario, policy, host, failures, expects);
    }

    private ScenarioException error(Scenario.Step step, String reason) {
      return new ScenarioException(scenario.source(), step.line(), reason);
    }

    private GuestDomain domain(Scenario.Step step, String name) {
      GuestDomain d = domains.get(name);
      if (d == null) {
        throw error(step, "undeclared domain '" + name + "'");
      }
      return d;
    }

    private HostDevice device(Scenario.Step step, String name) {
      HostDevice d = devices.get(name);
      if (d == null) {
        throw error(step, "undeclared device '" + name + "'");
      }
      return d;
    }

    private StepOutcome done(int code) {
      return new StepOutcome(code, "rc " + ScenarioWriter.rc(code), List.of(), List.of());
    }

    private StepOutcome done(int code, String detail) {
      return new StepOutcome(code, "rc " + ScenarioWriter.rc(code) + ", " + detail, List.of(),
          List.of());
    }

    private StepOutcome step(Scenario.Step step) {
      Command command = step.command();
      if (command.isExpect()) {
        expects++;
        String[] verdict = expect(step, command); // {expected, actual} or {expected}
        if (verdict.length == 1) {
          return new StepOutcome(rc, "holds", List.of(), List.of());
        }
        Failure f = new Failure(scenario.source(), step.line(), verdict[0], verdict[1]);
        return new StepOutcome(rc, "FAILED: expected " + verdict[0] + ", but " + verdict[1],
            List.of(f), List.of());
      }
      if (command instanceof Scenario.HostConfig) {
        return new StepOutcome(0, "host with " + ScenarioWriter.hex(host.frames().frameCount())
            + " frames, policy " + policyName(policy), List.of(), List.of());
      }
      if (command instanceof Scenario.DeviceDump c) {
        String text = dumps.load(scenario, c.path());
        List<PciDevice> found = LspciDumpReaderCall.parse(c.path(), text);
        if (c.index() >= found.size()) {
          throw error(step, c.path() + " holds " + found.size() + " device(s), no index "
              + c.index());
        }
        return addDevice(c.name(), found.get(c.index()));
      }
      if (command instanceof Scenario.DeviceHex c) {
        String header = ScenarioParser.isRow(c.lines().get(0)) ? ScenarioParser.DEFAULT_HEADER + "\n" : "";
        String text = header
            + String.join("\n", c.lines()) + "\n";
        List<PciDevice> found = LspciDumpReaderCall.parse(scenario.source(), text);
        if (found.size() != 1) {
          throw error(step, "device " + c.name() + " hex: expected one device, found "
              + found.size());
        }
        return addDevice(c.name(), found.get(0));
      }
      if (command instanceof Scenario.CreateDomain c) {
        if (domains.containsKey(c.name())) {
          throw error(step, "domain '" + c.name() + "' is already declared");
        }
        GuestDomain d = host.createDomain(c.id(), c.mode(), c.privileged());
        domains.put(c.name(), d);
        return new StepOutcome(0, d.toString(), List.of(), List.of());
      }
      if (command instanceof Scenario.GiveRam c) {
        return done(host.giveRam(domain(step, c.domain()), c.first(), c.last()));
      }
      if (command instanceof Scenario.MmioHole c) {
        host.addMmioHole(c.first(), c.last());
        return done(0);
      }
      if (command instanceof Scenario.Mmcfg c) {
        return done(host.addMmcfg(c.segment(), c.startBus(), c.endBus(), c.address()));
      }
      if (command instanceof Scenario.GrantIomem c) {
        return done(host.grantIomem(domain(step, c.domain()), c.first(), c.last()));
      }
      if (command instanceof Scenario.Assign c) {
        return done(host.assignDevice(device(step, c.device()), domain(step, c.domain())));
      }
      if (command instanceof Scenario.Protect c) {
        return done(host.protect(c.registrant(), c.first(), c.last()));
      }
      if (command instanceof Scenario.Unprotect c) {
        return done(host.unprotect(c.registrant(), c.first(), c.last()));
      }
      if (command instanceof Scenario.MsixEnable c) {
        int caller = c.by().isEmpty() ? 0 : domain(step, c.by()).id();
        return msix(host.enableMsix(device(step, c.device()), c.entry(), caller));
      }
      if (command instanceof Scenario.MsixDisable c) {
        return msix(host.disableMsix(device(step, c.device()), c.entry()));
      }
      if (command instanceof Scenario.MsixPrepare c) {
        return msix(host.prepareMsix(device(step, c.device())));
      }
      if (command instanceof Scenario.MsixRelease c) {
        return msix(host.releaseMsix(device(step, c.device())));
      }
      if (command instanceof Scenario.MsixProgram c) {
        int before = sent.size();
        int rc = host.programMsix(device(step, c.device()), c.entry(), c.address(),
            (int) c.data());
        return new StepOutcome(rc, (rc == 0 ? "programmed" : "refused")
            + (sent.size() > before ? ", " + (sent.size() - before) + " sent" : ""), List.of(),
            List.of());
      }
      if (command instanceof Scenario.MsixFire c) {
        int before = sent.size();
        MsixFireResult r = host.fireMsix(device(step, c.device()), c.entry());
        return new StepOutcome(r.ordinal(), r.name().toLowerCase(Locale.ROOT).replace('_', ' ')
            + (sent.size() > before ? ": " + message(sent.peekLast()) : ""), List.of(), List.of());
      }
      if (command instanceof Scenario.ConfigWrite c) {
        int before = sent.size();
        boolean reached = host.writeConfig(device(step, c.device()), c.offset(), c.size(),
            (int) c.value());
        return new StepOutcome(reached ? 0 : 1, (reached ? "Message Control written"
            : "no effect") + (sent.size() > before ? ", " + (sent.size() - before) + " sent" : ""),
            List.of(), List.of());
      }
      if (command instanceof Scenario.Pin c) {
        return done(host.pinTable(domain(step, c.domain()), c.mfn(), c.level()));
      }
      if (command instanceof Scenario.Unpin c) {
        return done(host.unpinTable(domain(step, c.domain()), c.mfn()));
      }
      if (command instanceof Scenario.GuestWrite c) {
        host.writeGuestEntry(domain(step, c.domain()), c.mfn(), c.slot(), c.entry());
        return done(0);
      }
      if (command instanceof Scenario.MmuUpdate c) {
        int code = host.mmuUpdate(domain(step, c.domain()), c.mfn(), c.slot(), c.entry());
        return done(code, pvEntry(c.mfn(), c.slot()));
      }
      if (command instanceof Scenario.Ptwr c) {
        EmulationResult r = host.ptwrEmulatedUpdate(domain(step, c.domain()), c.mfn(), c.offset(),
            c.old(), c.value(), c.bytes(), c.cmpxchg());
        return new StepOutcome(r.code, "X86EMUL_" + r + ", " + pvEntry(c.mfn(), c.offset() / 8),
            List.of(), List.of());
      }
      if (command instanceof Scenario.SetP2m c) {
        GuestDomain d = domain(step, c.domain());
        requireInEra(step, c.type());
        int code = host.setP2mEntry(d, c.gfn(), c.mfn(), c.order(), c.type());
        return done(code, p2mEntry(d, c.gfn()));
      }
      if (command instanceof Scenario.Retype c) {
        requireInEra(step, c.from());
        requireInEra(step, c.to());
        host.changeTypeGlobal(domain(step, c.domain()), c.from(), c.to());
        return done(0);
      }
      if (command instanceof Scenario.NewTable c) {
        int table = host.newGuestTable(domain(step, c.domain()));
        return new StepOutcome(0, "guest table " + table, List.of(), List.of());
      }
      if (command instanceof Scenario.ShadowWrite c) {
        GuestDomain d = domain(step, c.domain());
        int flags = host.shadowWrite(d, c.table(), c.slot(), c.entry());
        return new StepOutcome(flags, "flags 0x" + Integer.toHexString(flags) + ", "
            + shadowEntry(d, c.table(), c.slot()), List.of(), List.of());
      }
      if (command instanceof Scenario.Crash c) {
        host.crashDomain(domain(step, c.domain()));
        return done(0);
      }
      StepOutcome vcpuOutcome = vcpuStep(step, command);
      if (vcpuOutcome != null) {
        return vcpuOutcome;
      }
      if (command instanceof Scenario.PrintRanges) {
        String ranges = host.mmioRoRanges().toString();
        return new StepOutcome(rc, ranges, List.of(), List.of(ranges));
      }
      if (command instanceof Scenario.PrintInvariants) {
        List<String> lines = new ArrayList<>();
        for (Violation v : HostInvariants.check(host)) {
          lines.add(v.toString());
        }
        String summary = lines.isEmpty() ? "invariants hold" : lines.size() + " violation(s)";
        return new StepOutcome(rc, summary, List.of(), lines.isEmpty() ? List.of(summary) : lines);
      }
      throw new AssertionError(command);
    }

    private GuestVcpu vcpu(Scenario.Step step, String name) {
      GuestVcpu v = vcpus.get(name);
      if (v == null) {
        throw error(step, "undeclared vCPU '" + name + "'");
      }
      return v;
    }

    /** The vCPU commands, or null for another command. */
    private StepOutcome vcpuStep(Scenario.Step step, Command command) {
      if (command instanceof Scenario.CreateVcpu c) {
        if (vcpus.containsKey(c.name())) {
          throw error(step, "vCPU '" + c.name() + "' is already declared");
        }
        GuestVcpu v = host.createVcpu(domain(step, c.domain()));
        vcpus.put(c.name(), v);
        return new StepOutcome(0, v.toString(), List.of(), List.of());
      }
      if (command instanceof Scenario.LoadRegisters c) {
        GuestVcpu v = vcpu(step, c.vcpu());
        GuestRegisters now = v.guestRegisters();
        long r = v.loadGuestState(c.cr0().orElse(now.cr0()), c.cr3().orElse(now.cr3()),
            c.cr4().orElse(now.cr4()), c.efer().orElse(now.efer()));
        if (r < 0 && r >= -MAX_ERRNO) {
          access(step, v, 0, 0);
          return done((int) r);
        }
        return access(step, v, 0, r);
      }
      if (command instanceof Scenario.Read c) {
        GuestVcpu v = vcpu(step, c.vcpu());
        long before = v.cpu().counters().cycles();
        long value = v.read(c.la(), c.size(), c.user() ? Access.USER : Access.READ);
        return costed(access(step, v, value, v.lastFault()), v, before);
      }
      if (command instanceof Scenario.Store c) {
        GuestVcpu v = vcpu(step, c.vcpu());
        long before = v.cpu().counters().cycles();
        long fault = v.write(c.la(), c.size(), c.value(),
            c.user() ? Access.USER : Access.READ, c.insn());
        StepOutcome o = access(step, v, 0, fault);
        if (fault == 0) {
          o = new StepOutcome(0, v.lastAccessReason() == null ? "performed" : "completed",
              List.of(), List.of());
        }
        return costed(o, v, before);
      }
      if (command instanceof Scenario.Fetch c) {
        GuestVcpu v = vcpu(step, c.vcpu());
        long value = v.fetch(c.la(), c.size(), c.user());
        return access(step, v, value, v.lastFault());
      }
      if (command instanceof Scenario.Translate c) {
        GuestVcpu v = vcpu(step, c.vcpu());
        int bits = (c.write() ? Access.WRITE : 0) | (c.fetch() ? Access.FETCH : 0)
            | (c.user() ? Access.USER : 0);
        long r = v.translate(c.la(), bits);
        return Fault.isFault(r) ? access(step, v, 0, r) : access(step, v, r, 0);
      }
      if (command instanceof Scenario.Invlpg c) {
        GuestVcpu v = vcpu(step, c.vcpu());
        return access(step, v, 0, v.invlpg(c.la()));
      }
      if (command instanceof Scenario.Invpcid c) {
        GuestVcpu v = vcpu(step, c.vcpu());
        return access(step, v, 0, v.invpcid(c.type(), c.pcid(), c.la()));
      }
      if (command instanceof Scenario.Mmuext c) {
        return done(host.mmuextOp(vcpu(step, c.vcpu()), c.op().cmd(), c.arg1(), c.arg2()));
      }
      if (command instanceof Scenario.UpdateVa c) {
        return done(host.updateVaMapping(vcpu(step, c.vcpu()), c.la(), c.entry(), c.flags(),
            c.vcpuMask()));
      }
      if (command instanceof Scenario.Poke c) {
        host.writeGuestPhysical(domain(step, c.domain()), c.gpa(), c.size(), c.value());
        return done(0);
      }
      return null;
    }

    /** Records a vCPU access's outcome; its return code is 0, or the fault's kind code. */
    private StepOutcome access(Scenario.Step step, GuestVcpu v, long value, long fault) {
      accessStep = step;
      accessValue = fault == 0 ? value : 0;
      accessFault = fault;
      accessAddress = 0;
      if (fault == 0) {
        return new StepOutcome(0, "ok, value " + ScenarioWriter.hex(value), List.of(), List.of());
      }
      FaultKind kind = Fault.kind(fault);
      if (kind == FaultKind.PAGE_FAULT) {
        accessAddress = v.cpu().cr2();
      } else if (Scenario.ExpectFault.hasAddress(kind)) {
        accessAddress = v.cpu().faultGuestPhysical();
      }
      return new StepOutcome(kind.code(), describe(fault, accessAddress), List.of(), List.of());
    }

    /**
     * Adds to a load's or store's summary the hypervisor's decision about a protected page (the
     * reason, the Xen function, the outcome) and the cycles the vCPU's MMU counters charged it.
     */
    private static StepOutcome costed(StepOutcome o, GuestVcpu v, long cyclesBefore) {
      AccessReason r = v.lastAccessReason();
      String decision = r == null ? ""
          : ", " + r.function() + ": " + r + " (" + r.outcome().name().toLowerCase(Locale.ROOT)
              .replace('_', ' ') + ")";
      long cycles = v.cpu().counters().cycles() - cyclesBefore;
      return new StepOutcome(o.rc(), o.summary() + decision + ", " + cycles + " cycles",
          o.failures(), o.output());
    }

    private static String describe(long fault, long address) {
      FaultKind kind = Fault.kind(fault);
      return Scenario.faultName(kind)
          + (Scenario.ExpectFault.hasCode(kind) ? " " + ScenarioWriter.hex(Fault.code(fault)) : "")
          + (Scenario.ExpectFault.hasAddress(kind) ? " at " + ScenarioWriter.hex(address) : "");
    }

    /** The vCPU expectations: {expected} or {expected, actual}; null for another command. */
    private String[] expectAccess(Scenario.Step step, Command command) {
      if (command instanceof Scenario.ExpectSent c) {
        long[] m = sent.poll();
        if (c.nothing()) {
          return m == null ? new String[] {"nothing sent"}
              : new String[] {"nothing sent", "the device sent " + message(m)};
        }
        String expected = "sent " + message(new long[] {c.address(), c.data()});
        if (m == null) {
          return new String[] {expected, "nothing was sent"};
        }
        return m[0] == c.address() && m[1] == c.data() ? new String[] {expected}
            : new String[] {expected, "the device sent " + message(m)};
      }
      if (command instanceof Scenario.ExpectMemory c) {
        long mask = c.size() == 8 ? -1L : (1L << (8 * c.size())) - 1;
        long actual = host.readGuestPhysical(domain(step, c.domain()), c.gpa(), c.size());
        String expected = c.domain() + " memory " + ScenarioWriter.hex(c.gpa()) + " = "
            + ScenarioWriter.hex(c.value() & mask);
        return actual == (c.value() & mask) ? new String[] {expected}
            : new String[] {expected, "it holds " + ScenarioWriter.hex(actual)};
      }
      if (!(command instanceof Scenario.ExpectValue) && !(command instanceof Scenario.ExpectOk)
          && !(command instanceof Scenario.ExpectFault)) {
        return null;
      }
      if (accessStep == null) {
        throw error(step, "no vCPU access before this expectation");
      }
      String before = "'" + firstLine(ScenarioWriter.command(accessStep.command())) + "' (line "
          + accessStep.line() + ")";
      String actual = accessFault == 0 ? before + " gave " + ScenarioWriter.hex(accessValue)
          : before + " faulted: " + describe(accessFault, accessAddress);
      if (command instanceof Scenario.ExpectValue c) {
        String expected = "value " + ScenarioWriter.hex(c.value());
        return accessFault == 0 && accessValue == c.value() ? new String[] {expected}
            : new String[] {expected, actual};
      }
      if (command instanceof Scenario.ExpectOk) {
        return accessFault == 0 ? new String[] {"no fault"} : new String[] {"no fault", actual};
      }
      if (command instanceof Scenario.ExpectFault c) {
        String expected = "fault " + Scenario.faultName(c.kind())
            + (Scenario.ExpectFault.hasCode(c.kind()) ? " " + ScenarioWriter.hex(c.code()) : "")
            + (c.address().isPresent() ? " at " + ScenarioWriter.hex(c.address().getAsLong())
                : "");
        boolean holds = accessFault != 0 && Fault.kind(accessFault) == c.kind()
            && Fault.code(accessFault) == c.code()
            && (c.address().isEmpty() || c.address().getAsLong() == accessAddress);
        return holds ? new String[] {expected} : new String[] {expected, actual};
      }
      throw new AssertionError(command);
    }

    private StepOutcome addDevice(String name, PciDevice pci) {
      HostDevice dev = host.addDevice(pci);
      devices.put(name, dev);
      String msix = !dev.hasMsix() ? "no MSI-X"
          : "MSI-X table " + frames(dev.trueTable()) + ", PBA " + frames(dev.truePba());
      return new StepOutcome(0, dev + String.format(java.util.Locale.ROOT, " [%04x:%04x] ",
          pci.vendorId(), pci.deviceId()) + msix, List.of(), List.of());
    }

    private String frames(org.hvmmu.pci.msix.MsixRegion r) {
      return r.usable() ? "frame " + ScenarioWriter.range(r.firstFrame(), r.lastFrame())
          : "unusable";
    }

    private String message(long[] m) {
      return ScenarioWriter.hex(m[0]) + " " + ScenarioWriter.hex(m[1]) + " ("
          + MsiInterrupt.toString(MsiInterrupt.decode(m[0], (int) m[1], false)) + ")";
    }

    private StepOutcome msix(MsixResult r) {
      StringBuilder s = new StringBuilder("rc ").append(ScenarioWriter.rc(r.rc()));
      if (r.rangesetRc() != 0) {
        s.append(", rangeset rc ").append(ScenarioWriter.rc(r.rangesetRc()));
      }
      if (r.domainCrashed()) {
        s.append(", domain_crash(d").append(r.crashedDomain()).append(')');
      }
      return new StepOutcome(r.rc(), s.toString(), List.of(), List.of());
    }

    private void requireInEra(Scenario.Step step, P2mType type) {
      if (!type.existsIn(policy.p2m().era())) {
        throw error(step, "p2m type " + Scenario.typeName(type) + " does not exist in the "
            + policy.p2m().era() + " numbering");
      }
    }

    private String pvEntry(long mfn, int slot) {
      long e = host.pvMmu().readEntry(mfn, slot);
      return ScenarioWriter.hex(mfn) + "[" + slot + "] = " + ScenarioWriter.entry(e) + " "
          + access(e);
    }

    private String shadowEntry(GuestDomain d, int table, int slot) {
      long e = d.shadowEntry(table, slot);
      return "shadow " + table + "[" + slot + "] = " + ScenarioWriter.entry(e) + " " + access(e);
    }

    private String p2mEntry(GuestDomain d, long gfn) {
      if (Long.compareUnsigned(gfn, RadixP2m.GFN_LIMIT) >= 0 || !d.p2m().getEntry(gfn, lookup)) {
        return "gfn " + ScenarioWriter.hex(gfn) + " not mapped";
      }
      boolean w = d.p2m().isWritable(lookup.entry());
      return "gfn " + ScenarioWriter.hex(gfn) + " -> mfn " + ScenarioWriter.hex(lookup.mfn())
          + (w ? " writable" : " read-only");
    }

    private static String access(long e) {
      return !Pte.isPresent(e) ? "not present" : Pte.isPresentWritable(e) ? "writable"
          : "read-only";
    }

    /** Evaluates an expect line: {expected} when it holds, {expected, actual} when not. */
    private String[] expect(Scenario.Step step, Command command) {
      if (command instanceof Scenario.ExpectRc c) {
        String expected = "rc " + ScenarioWriter.rc(c.rc());
        if (rc == c.rc()) {
          return new String[] {expected};
        }
        String what = rcStep == null ? "nothing"
            : "'" + firstLine(ScenarioWriter.command(rcStep.command())) + "' (line "
                + rcStep.line() + ")";
        return new String[] {expected, what + " returned " + ScenarioWriter.rc(rc)};
      }
      if (command instanceof Scenario.ExpectPvEntry c) {
        domain(step, c.domain());
        long e = host.pvMmu().readEntry(c.mfn(), c.slot());
        String expected = c.domain() + " L1 " + ScenarioWriter.hex(c.mfn()) + "[" + c.slot()
            + "] " + (c.writable() ? "writable" : "read-only");
        return entryVerdict(expected, c.writable(), e);
      }
      if (command instanceof Scenario.ExpectShadowEntry c) {
        GuestDomain d = domain(step, c.domain());
        long e = d.shadowEntry(c.table(), c.slot());
        String expected = c.domain() + " shadow " + c.table() + "[" + c.slot() + "] "
            + (c.writable() ? "writable" : "read-only");
        return entryVerdict(expected, c.writable(), e);
      }
      if (command instanceof Scenario.ExpectP2mEntry c) {
        GuestDomain d = domain(step, c.domain());
        String expected = c.domain() + " p2m gfn " + ScenarioWriter.hex(c.gfn()) + " "
            + (c.writable() ? "writable" : "read-only");
        boolean mapped = Long.compareUnsigned(c.gfn(), RadixP2m.GFN_LIMIT) < 0
            && d.p2m().getEntry(c.gfn(), lookup); // beyond the p2m: not mapped
        boolean writable = mapped && d.p2m().isWritable(lookup.entry());
        if (writable == c.writable()) {
          return new String[] {expected};
        }
        return new String[] {expected, !mapped ? "it is not mapped"
            : "it is " + (writable ? "writable" : "read-only") + " (mfn "
                + ScenarioWriter.hex(lookup.mfn()) + ", entry " + ScenarioWriter.hex(lookup.entry())
                + ")"};
      }
      if (command instanceof Scenario.ExpectProtected c) {
        String frames = ScenarioWriter.range(c.first(), c.last());
        String expected = frames + (c.isProtected() ? " protected" : " unprotected");
        boolean holds = c.isProtected() ? host.mmioRoRanges().containsRange(c.first(), c.last())
            : !host.mmioRoRanges().overlapsRange(c.first(), c.last());
        if (holds) {
          return new String[] {expected};
        }
        String ranges = host.mmioRoRanges().toString();
        return new String[] {expected, c.isProtected()
            ? (c.first() == c.last() ? "it is" : "not every frame is") + " missing from " + ranges
            : (c.first() == c.last() ? "it is" : "some of it is") + " in " + ranges};
      }
      if (command instanceof Scenario.ExpectInvariantsHold) {
        List<Violation> found = HostInvariants.check(host);
        if (found.isEmpty()) {
          return new String[] {"the invariants to hold"};
        }
        StringBuilder s = new StringBuilder().append(found.size()).append(" violation(s): ")
            .append(found.get(0));
        if (found.size() > 1) {
          s.append(" (and ").append(found.size() - 1).append(" more)");
        }
        return new String[] {"the invariants to hold", s.toString()};
      }
      String[] access = expectAccess(step, command);
      if (access != null) {
        return access;
      }
      if (command instanceof Scenario.ExpectInvariantFails c) {
        String expected = "invariant " + c.invariant() + " to fail";
        for (Violation v : HostInvariants.check(host)) {
          if (v.invariant().equals(c.invariant())) {
            return new String[] {expected};
          }
        }
        return new String[] {expected, "it holds"};
      }
      throw new AssertionError(command);
    }

    private String[] entryVerdict(String expected, boolean wantWritable, long e) {
      boolean writable = Pte.isPresentWritable(e);
      if (writable == wantWritable) {
        return new String[] {expected};
      }
      return new String[] {expected, "it is " + access(e) + " (" + ScenarioWriter.entry(e) + ")"};
    }
  }

  /**
   * Whether {@code command} is a vCPU access, whose outcome {@code expect value}, {@code expect ok}
   * and {@code expect fault} check.
   *
   * @param command a command
   * @return true for {@code cr}, {@code read}, {@code store}, {@code fetch}, {@code translate},
   *     {@code invlpg} and {@code invpcid}
   */
  static boolean isAccess(Command command) {
    return command instanceof Scenario.LoadRegisters || command instanceof Scenario.Read
        || command instanceof Scenario.Store || command instanceof Scenario.Fetch
        || command instanceof Scenario.Translate || command instanceof Scenario.Invlpg
        || command instanceof Scenario.Invpcid;
  }

  /** The largest errno; a negative result above {@code -MAX_ERRNO} is an errno, not a fault. */
  private static final long MAX_ERRNO = 4095;

  private static String firstLine(String text) {
    int nl = text.indexOf('\n');
    return nl < 0 ? text : text.substring(0, nl);
  }

  /** The dump reader, its content errors turned into {@link IllegalArgumentException}s. */
  private static final class LspciDumpReaderCall {
    static List<PciDevice> parse(String source, String text) {
      try {
        return LspciDumpReader.parse(source, text);
      } catch (PciDumpParseException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
    }
  }
}
