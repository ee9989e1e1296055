package org.hvmmu.host.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.host.script.Scenario.Command;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.MmuSwitches.TlbMode;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.Property;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PageType;
import org.junit.jupiter.api.Test;

/**
 * The writer and the parser agree on random valid command lists, and arbitrary text gives a
 * scenario or a {@link ScenarioException}, never anything else, and never hangs.
 */
class ScenarioPropertyTest {
  /** One random choice; {@link #build} turns a list of them into a valid command list. */
  record Choice(int kind, long a, long b, int c) {}

  /** The instruction classes a script store may name. */
  static final InstructionClass[] STORE_CLASSES = {
    InstructionClass.PLAIN_STORE, InstructionClass.READ_MODIFY_WRITE, InstructionClass.LOCKED,
    InstructionClass.MOVS, InstructionClass.STOS, InstructionClass.UNEMULATED
  };

  static final Gen<Choice> CHOICES = Gens.zip(
      Gens.zip(Gens.ints(0, 52), Gens.unsignedLongs(), (k, a) -> new long[] {k, a}),
      Gens.zip(Gens.unsignedLongs(), Gens.ints(0, 600), (b, c) -> new long[] {b, c}),
      (x, y) -> new Choice((int) x[0], x[1], y[0], (int) y[1]));

  static final Gen<List<Command>> SCRIPTS = Gens.lists(CHOICES, 0, 40).map(ScenarioPropertyTest::build);

  static final String HEX = "00: 86 80 c9 10 07 04 10 00 01 00 00 02 10 00 80 00";

  static final String ZERO_ROW = "00: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00";

  /** Builds commands from choices, declaring what each command needs first. */
  static List<Command> build(List<Choice> choices) {
    List<Command> out = new ArrayList<>();
    Map<String, PagingMode> domains = new HashMap<>();
    Map<String, Integer> tables = new HashMap<>();
    Map<String, PagingMode> vcpus = new HashMap<>();
    List<String> devices = new ArrayList<>();
    List<String> registrants = new ArrayList<>();
    int[] nextId = {0};
    boolean first = true;
    for (Choice ch : choices) {
      long lo = Long.compareUnsigned(ch.a(), ch.b()) <= 0 ? ch.a() : ch.b();
      long hi = lo == ch.a() ? ch.b() : ch.a();
      int slot = ch.c() % 512;
      long entry = (ch.c() & 1) == 0 ? ch.b()
          : Pte.fromMfn(ch.a() & Pte.MAX_MFN, (int) ch.b() & ScenarioWriterFlags.NAMED);
      PagingMode mode = PagingMode.values()[Math.floorMod(ch.c(), PagingMode.values().length)];
      switch (ch.kind()) {
        case 0 -> {
          if (first) {
            out.add(new Scenario.HostConfig(1 + Long.remainderUnsigned(ch.a(), 0x100000),
                Scenario.PolicyName.values()[ch.c() % Scenario.PolicyName.values().length],
                TlbMode.values()[(ch.c() >> 2) % TlbMode.values().length]));
          } else {
            out.add(new Scenario.PrintRanges());
          }
        }
        case 1 -> {
          String name = "dev" + devices.size();
          devices.add(name);
          out.add((ch.c() & 1) == 0 ? new Scenario.DeviceDump(name, "x/" + name + ".txt",
              ch.c() % 4) : new Scenario.DeviceHex(name, List.of(HEX, ZERO_ROW.replace("00:", "10:"),
              ZERO_ROW.replace("00:", "20:"), ZERO_ROW.replace("00:", "30:"))));
        }
        case 2 -> domain(out, domains, tables, nextId, mode, ch.c());
        case 3 -> out.add(new Scenario.GiveRam(any(out, domains, tables, nextId), lo, hi));
        case 4 -> out.add((ch.c() & 1) == 0 ? new Scenario.MmioHole(lo, hi)
            : new Scenario.Mmcfg(0, 0, Math.floorMod(ch.c(), 256), lo << 20));
        case 5 -> out.add(new Scenario.GrantIomem(any(out, domains, tables, nextId), lo, hi));
        case 6 -> out.add(new Scenario.Assign(device(out, devices),
            any(out, domains, tables, nextId)));
        case 7 -> {
          String r = "reg_" + (ch.c() % 3);
          registrants.add(r);
          out.add(new Scenario.Protect(r, lo, hi));
        }
        case 8 -> {
          if (registrants.isEmpty()) {
            registrants.add("r.0:x-y");
            out.add(new Scenario.Protect("r.0:x-y", lo, lo));
          }
          out.add(new Scenario.Unprotect(registrants.get(0), lo, hi));
        }
        case 9 -> out.add(new Scenario.MsixEnable(device(out, devices), ch.c() % 2048,
            (ch.c() & 1) == 0 ? "" : any(out, domains, tables, nextId)));
        case 10 -> out.add(new Scenario.MsixDisable(device(out, devices), ch.c() % 2048));
        case 11 -> out.add(new Scenario.MsixPrepare(device(out, devices)));
        case 12 -> out.add(new Scenario.MsixRelease(device(out, devices)));
        case 13 -> out.add(new Scenario.Pin(of(out, domains, tables, nextId, PagingMode.PV),
            ch.a(), PageType.ofLevel(1 + ch.c() % 4)));
        case 14 -> out.add(new Scenario.Unpin(of(out, domains, tables, nextId, PagingMode.PV32),
            ch.a()));
        case 15 -> out.add(new Scenario.GuestWrite(of(out, domains, tables, nextId, PagingMode.PV),
            ch.a(), slot, entry));
        case 16 -> out.add(new Scenario.MmuUpdate(of(out, domains, tables, nextId, PagingMode.PV),
            ch.a(), slot, entry));
        case 17 -> out.add(new Scenario.Ptwr(of(out, domains, tables, nextId, PagingMode.PV),
            ch.a(), ch.c() % 4096, 1 + ch.c() % 8, entry, (ch.c() & 2) != 0,
            (ch.c() & 2) != 0 ? ch.a() : 0));
        case 18 -> out.add(new Scenario.SetP2m(of(out, domains, tables, nextId,
            PagingMode.HVM_NPT), ch.a(), ch.b(), PageOrder.values()[ch.c() % 3],
            P2mType.values()[ch.c() % P2mType.values().length]));
        case 19 -> out.add(new Scenario.Retype(of(out, domains, tables, nextId,
            PagingMode.HVM_EPT), P2mType.values()[ch.c() % P2mType.values().length],
            P2mType.values()[(int) Long.remainderUnsigned(ch.a(), P2mType.values().length)]));
        case 20 -> {
          String d = of(out, domains, tables, nextId, PagingMode.HVM_SHADOW);
          tables.merge(d, 1, Integer::sum);
          out.add(new Scenario.NewTable(d));
        }
        case 21 -> {
          String d = table(out, domains, tables, nextId);
          out.add(new Scenario.ShadowWrite(d, ch.c() % tables.get(d), slot, entry));
        }
        case 22 -> out.add(new Scenario.Crash(any(out, domains, tables, nextId)));
        case 23 -> {
          if (out.stream().allMatch(c -> c.isExpect() || c instanceof Scenario.PrintRanges
              || c instanceof Scenario.PrintInvariants)) {
            out.add(new Scenario.MmioHole(lo, hi)); // expect rc needs a command before it
          }
          int rc = (ch.c() & 1) == 0 ? -(ch.c() % 90) : (int) ch.a();
          out.add(new Scenario.ExpectRc(rc));
        }
        case 24 -> out.add(new Scenario.ExpectPvEntry((ch.c() & 1) == 0,
            of(out, domains, tables, nextId, PagingMode.PV), ch.a(), slot));
        case 25 -> out.add(new Scenario.ExpectP2mEntry((ch.c() & 1) == 0,
            of(out, domains, tables, nextId, PagingMode.HVM_EPT), ch.a()));
        case 26 -> {
          String d = table(out, domains, tables, nextId);
          out.add(new Scenario.ExpectShadowEntry((ch.c() & 1) == 0, d, ch.c() % tables.get(d),
              slot));
        }
        case 27 -> out.add(new Scenario.ExpectProtected((ch.c() & 1) == 0, lo, hi));
        case 28 -> out.add(new Scenario.ExpectInvariantsHold());
        case 29 -> out.add(new Scenario.ExpectInvariantFails(
            new String[] {"writable-read-only-mmio", "unprotected-msix", "counts"}[ch.c() % 3]));
        case 30 -> vcpu(out, domains, tables, nextId, vcpus, mode);
        case 31 -> {
          OptionalLong[] r = new OptionalLong[4];
          for (int i = 0; i < 4; i++) {
            r[i] = (ch.c() & (1 << i)) != 0 || i == 3 && (ch.c() & 7) == 0
                ? OptionalLong.of(i % 2 == 0 ? ch.a() : ch.b()) : OptionalLong.empty();
          }
          out.add(new Scenario.LoadRegisters(vcpu(out, domains, tables, nextId, vcpus, mode),
              r[0], r[1], r[2], r[3]));
        }
        case 32 -> out.add(new Scenario.Read(vcpu(out, domains, tables, nextId, vcpus, mode),
            ch.a(), SIZES[ch.c() % 4], (ch.c() & 4) != 0));
        case 33 -> out.add(new Scenario.Store(vcpu(out, domains, tables, nextId, vcpus, mode),
            ch.a(), SIZES[ch.c() % 4], entry, (ch.c() & 4) != 0,
            STORE_CLASSES[(ch.c() >>> 3) % STORE_CLASSES.length]));
        case 34 -> out.add(new Scenario.Fetch(vcpu(out, domains, tables, nextId, vcpus, mode),
            ch.a(), SIZES[ch.c() % 4], (ch.c() & 4) != 0));
        case 35 -> out.add(new Scenario.Translate(vcpu(out, domains, tables, nextId, vcpus, mode),
            ch.a(), (ch.c() & 3) == 1, (ch.c() & 3) == 2, (ch.c() & 4) != 0));
        case 36 -> out.add(new Scenario.Invlpg(vcpu(out, domains, tables, nextId, vcpus, mode),
            ch.a()));
        case 37 -> out.add(new Scenario.Invpcid(vcpu(out, domains, tables, nextId, vcpus, mode),
            ch.c() % 4, ch.b(), ch.a()));
        case 38 -> {
          Scenario.MmuextName op = Scenario.MmuextName.values()[
              ch.c() % Scenario.MmuextName.values().length];
          boolean hasArg1 = op.arity() == 2 || (op.arity() == 1
              && op != Scenario.MmuextName.TLB_FLUSH_MULTI);
          boolean hasArg2 = op.arity() == 2 || op == Scenario.MmuextName.TLB_FLUSH_MULTI;
          out.add(new Scenario.Mmuext(vcpu(out, domains, tables, nextId, vcpus,
              (ch.c() & 8) == 0 ? PagingMode.PV : PagingMode.PV32), op, hasArg1 ? ch.a() : 0,
              hasArg2 ? ch.b() : 0));
        }
        case 39 -> {
          long[] flags = {0, 1, 2, 1 | 4, 2 | 4, 1 | Scenario.UVMF_MULTI_POINTER,
              2 | Scenario.UVMF_MULTI_POINTER};
          long f = flags[ch.c() % flags.length];
          out.add(new Scenario.UpdateVa(vcpu(out, domains, tables, nextId, vcpus, PagingMode.PV),
              ch.a(), entry, f, (f & Scenario.UVMF_MULTI_POINTER) != 0 ? ch.b() : 0));
        }
        case 40 -> out.add(new Scenario.Poke(any(out, domains, tables, nextId),
            ch.a() & ~0xFFFL, SIZES[ch.c() % 4], entry));
        case 41 -> out.add(new Scenario.ExpectMemory(any(out, domains, tables, nextId),
            (ch.a() & ~0xFFFL) | (0xFF8 & ch.c()), 8, entry));
        case 42, 43, 44 -> {
          if (out.stream().noneMatch(ScenarioRunner::isAccess)) {
            out.add(new Scenario.Read(vcpu(out, domains, tables, nextId, vcpus, mode), ch.b(), 8,
                false));
          }
          if (ch.kind() == 42) {
            out.add(new Scenario.ExpectValue(entry));
          } else if (ch.kind() == 43) {
            out.add(new Scenario.ExpectOk());
          } else {
            FaultKind kind = FaultKind.values()[ch.c() % FaultKind.values().length];
            long code = Scenario.ExpectFault.hasCode(kind) ? ch.a() & ((1L << 52) - 1) : 0;
            OptionalLong at = Scenario.ExpectFault.hasAddress(kind) && (ch.c() & 8) != 0
                ? OptionalLong.of(ch.b()) : OptionalLong.empty();
            out.add(new Scenario.ExpectFault(kind, code, at));
          }
        }
        case 45 -> out.add(new Scenario.ExpectInvariantFails("tlb-writable-read-only-mmio"));
        case 46 -> out.add(new Scenario.MsixFire(device(out, devices), ch.c() % 2048));
        case 47 -> {
          int size = SIZES[ch.c() % 3]; // 1, 2, 4
          long mask = (1L << (8 * size)) - 1;
          out.add(new Scenario.ConfigWrite(device(out, devices), (ch.c() * size) % 4096, size,
              ch.a() & mask));
        }
        case 48 -> out.add((ch.c() & 1) == 0 ? new Scenario.ExpectSent(true, 0, 0)
            : new Scenario.ExpectSent(false, ch.a(), ch.b() & 0xffff_ffffL));
        case 49 -> out.add(new Scenario.MsixProgram(device(out, devices), ch.c() % 2048, ch.a(),
            ch.b() & 0xffff_ffffL));
        default -> out.add(new Scenario.PrintInvariants());
      }
      first = false;
    }
    return out;
  }

  /** The named-flag mask, as the writer knows it. */
  static final class ScenarioWriterFlags {
    static final int NAMED;

    static {
      int all = 0;
      for (int bit : ScenarioWriter.FLAG_BITS) {
        all |= bit;
      }
      NAMED = all;
    }
  }

  private static String domain(List<Command> out, Map<String, PagingMode> domains,
      Map<String, Integer> tables, int[] nextId, PagingMode mode, int c) {
    String name = "d" + nextId[0];
    boolean privileged = mode.pvTables() && (c & 4) != 0;
    out.add(new Scenario.CreateDomain(name, nextId[0]++, mode, privileged));
    domains.put(name, mode);
    tables.put(name, 0);
    return name;
  }

  private static String any(List<Command> out, Map<String, PagingMode> domains,
      Map<String, Integer> tables, int[] nextId) {
    return domains.isEmpty() ? domain(out, domains, tables, nextId, PagingMode.HVM_EPT, 0)
        : domains.keySet().iterator().next();
  }

  private static String of(List<Command> out, Map<String, PagingMode> domains,
      Map<String, Integer> tables, int[] nextId, PagingMode mode) {
    for (Map.Entry<String, PagingMode> e : domains.entrySet()) {
      if (e.getValue() == mode) {
        return e.getKey();
      }
    }
    return domain(out, domains, tables, nextId, mode, 0);
  }

  static final int[] SIZES = {1, 2, 4, 8};

  /** A vCPU of a domain of {@code mode}, declared (with the domain) if there is none yet. */
  private static String vcpu(List<Command> out, Map<String, PagingMode> domains,
      Map<String, Integer> tables, int[] nextId, Map<String, PagingMode> vcpus, PagingMode mode) {
    for (Map.Entry<String, PagingMode> e : vcpus.entrySet()) {
      if (e.getValue() == mode) {
        return e.getKey();
      }
    }
    String d = of(out, domains, tables, nextId, mode);
    String name = "cpu" + vcpus.size();
    vcpus.put(name, mode);
    out.add(new Scenario.CreateVcpu(name, d));
    return name;
  }

  private static String table(List<Command> out, Map<String, PagingMode> domains,
      Map<String, Integer> tables, int[] nextId) {
    String d = of(out, domains, tables, nextId, PagingMode.PV_SHADOW);
    if (tables.get(d) == 0) {
      tables.put(d, 1);
      out.add(new Scenario.NewTable(d));
    }
    return d;
  }

  private static String device(List<Command> out, List<String> devices) {
    if (devices.isEmpty()) {
      devices.add("nic");
      out.add(new Scenario.DeviceDump("nic", "nic.txt", 0));
    }
    return devices.get(0);
  }

  @Test
  void writtenScriptsShouldParseBackToTheSameCommands() {
    assertTimeoutPreemptively(Duration.ofMinutes(2), () ->
        Property.tries(Math.min(500, Integer.getInteger("hvmmu.tries", 200))).forAll(SCRIPTS,
            commands -> {
              String text = ScenarioWriter.write(commands);
              Scenario s = ScenarioParser.parse("rt", text);
              assertEquals(commands, s.commands(), text);
              int line = 1;
              for (Scenario.Step step : s.steps()) {
                assertEquals(line, step.line(), text);
                line += ScenarioWriter.command(step.command()).split("\n").length;
              }
            }));
  }

  /** Words of the language, numbers near the edges and noise. */
  static final Gen<String> WORDS = Gens.elements("host", "frames", "policy", "seed-2010",
      "hardened", "xen-4.22", "device", "dump", "hex", "end", "index", "domain", "pv", "pv32", "pv-shadow",
      "hvm-ept", "hvm-npt", "hvm-shadow", "privileged", "ram", "mmio-hole", "iomem", "assign", "mmcfg",
      "protect", "unprotect", "msix", "enable", "disable", "prepare", "release", "by", "pin",
      "unpin", "write", "update", "ptwr", "cmpxchg", "p2m", "retype", "table", "shadow", "crash",
      "expect", "rc", "writable", "read-only", "protected", "unprotected", "invariants", "hold",
      "invariant", "fails", "print", "ranges", "g", "h", "nic", "0", "1", "0x100", "0x1ff",
      "0x100-0x1ff", "512", "4k", "2m", "1g", "ram_rw", "mmio_direct", "-EINVAL", "-",
      "0xffffffffffffffff", "18446744073709551616", "pte(", "pte(0x1, P RW)", "pte(0x1", ")",
      "#", "\n", "\n", "\n", "\r\n", "\t", "00: 86 80", "01:00.0", "10: 00", ",", "(", "\u00e9",
      "\u0000", "-0x", "0x", "9z", "writable-read-only-mmio", "vcpu", "cpu0", "cr", "cr0=0x1",
      "cr3=", "efer=0x500", "cr4=0x20", "read", "store", "fetch", "translate", "user", "invlpg",
      "invpcid", "mmuext", "new-baseptr", "tlb-flush-multi", "invlpg-all", "update-va", "none",
      "tlb-flush", "local", "all", "multi", "poke", "memory", "value", "ok", "fault", "pf",
      "ept-violation", "npf", "gp", "at", "l1", "l4", "tlb", "strict", "over-flush",
      "tlb-writable-read-only-mmio");

  static final Gen<String> TEXTS = Gens.lists(WORDS, 0, 60).map(words -> String.join(" ", words));

  @Test
  void arbitraryTextShouldGiveAScenarioOrAScenarioException() {
    assertTimeoutPreemptively(Duration.ofMinutes(2), () ->
        Property.tries(Math.min(2000, 10 * Integer.getInteger("hvmmu.tries", 200)))
            .forAll(TEXTS, text -> parseOrReject(text)));
  }

  @Test
  void mutatedScriptsShouldGiveAScenarioOrAScenarioException() {
    Gen<String> mutated = Gens.zip(SCRIPTS.map(ScenarioWriter::write),
        Gens.lists(Gens.zip(Gens.ints(0, 10_000), WORDS, (at, w) -> new Object[] {at, w}), 1, 4),
        (text, edits) -> {
          StringBuilder s = new StringBuilder(text);
          for (Object[] e : edits) {
            int at = s.length() == 0 ? 0 : (Integer) e[0] % s.length();
            int cut = Math.min(s.length(), at + ((Integer) e[0] % 3));
            s.replace(at, cut, (String) e[1]);
          }
          return s.toString();
        });
    assertTimeoutPreemptively(Duration.ofMinutes(2), () ->
        Property.tries(Math.min(1000, 5 * Integer.getInteger("hvmmu.tries", 200)))
            .forAll(mutated, text -> parseOrReject(text)));
  }

  private static void parseOrReject(String text) {
    try {
      Scenario s = ScenarioParser.parse("fuzz", text);
      // Whatever parses writes back to the same commands.
      assertEquals(s.commands(), ScenarioParser.parse("fuzz", ScenarioWriter.write(s.commands()))
          .commands());
    } catch (ScenarioException e) {
      if (e.line() < 0 || !e.getMessage().startsWith("fuzz:")) {
        fail("bad error " + e.getMessage());
      }
    }
  }
}
