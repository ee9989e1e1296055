package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.testkit.Action;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.StatefulCheck;
import org.junit.jupiter.api.Test;

/**
 * TLB and paging-structure-cache coherence, stateful: random writes of paging-structure entries at
 * every level, translations, INVLPG, INVPCID, MOV to CR3 and CR4.PGE toggles on two vCPUs sharing
 * one memory.
 *
 * <p>The model is an oracle written here from Intel SDM vol. 3A §4.10: it remembers every value each
 * entry has held and when each vCPU last invalidated what. A vCPU's cached information about an
 * address can only come from entry values held since the last invalidation that covers it: for a
 * global translation since the last INVLPG of the address, CR4.PGE change or INVPCID type 2; for a
 * non-global one also since the last MOV to CR3 or INVPCID of the address (each of those empties
 * the paging-structure caches too). So in strict mode every translation must equal a walk that
 * picks, at each level, a value the entry held in that window (the current one included), and a
 * write may only succeed through a leaf value with D set (one the walk that served it set). In
 * over-flush mode, where every invalidation of more than one address empties everything, a guest
 * that invalidates after each write always gets a walk of the current tables.
 */
class TlbCoherencePropertyTest {
  private static final int VCPUS = 2;
  private static final long ROOT = 0x10000;
  private static final long[] PDPTS = {0x11000, 0x12000};
  private static final long[] PDS = {0x13000, 0x14000};
  private static final long[] PTS = {0x15000, 0x16000, 0x17000};
  private static final long[] FRAMES = {0x100000, 0x101000, 0x102000, 0x103000};
  private static final long[] LARGE = {0x400000, 0x600000};
  private static final long[] LAS = new long[6];
  private static final int[] ACCESSES = {
    Access.READ, Access.WRITE, Access.USER, Access.USER | Access.WRITE, Access.FETCH
  };

  static {
    for (int i = 0; i < 6; i++) {
      LAS[i] = (1L << 39) | ((long) (i / 3) << 21) | ((long) (i % 3) << 12);
    }
  }

  /** The system: one memory, two vCPUs in 4-level paging with PGE, WP and NXE. */
  static final class World {
    final PhysicalMemory memory = new PhysicalMemory(46);
    final Vcpu[] vcpus = new Vcpu[VCPUS];

    World(MmuSwitches switches) {
      memory.addRam(0, 0xFFF);
      write(memory, ROOT + 8, PDPTS[0] | 0x27);
      write(memory, PDPTS[0], PDS[0] | 0x27);
      write(memory, PDPTS[1], PDS[1] | 0x27);
      write(memory, PDS[0], PTS[0] | 0x27);
      write(memory, PDS[0] + 8, PTS[1] | 0x27);
      write(memory, PDS[1], PTS[2] | 0x27);
      write(memory, PDS[1] + 8, LARGE[0] | 0xA7);
      for (int i = 0; i < 3; i++) {
        write(memory, PTS[0] + 8 * i, FRAMES[i] | 0x67);
        write(memory, PTS[1] + 8 * i, FRAMES[i + 1] | 0x67);
        write(memory, PTS[2] + 8 * i, FRAMES[3 - i] | 0x167);
      }
      for (int v = 0; v < VCPUS; v++) {
        vcpus[v] = new Vcpu(memory, MmuFeatures.intel(46), switches, TlbConfig.goldenCove(),
            LatencyModel.GOLDEN_COVE);
        assertEquals(0, vcpus[v].loadState(0x8001_0011L, ROOT,
            ControlRegisters.CR4_PAE | ControlRegisters.CR4_PGE, 0xD00));
      }
    }
  }

  private static void write(PhysicalMemory memory, long pa, long value) {
    memory.write(pa, 8, value);
  }

  /** The oracle's state: entry histories and invalidation times per vCPU. */
  static final class Model {
    final boolean overFlush;
    long time = 1;
    final Map<Long, List<long[]>> history = new HashMap<>();
    final long[][] allSince = new long[VCPUS][LAS.length];
    final long[][] nonGlobalSince = new long[VCPUS][LAS.length];
    /** Writes since the last invalidation (over-flush check). */
    boolean clean = true;

    Model(boolean overFlush) {
      this.overFlush = overFlush;
    }

    /** Every value the entry at {@code pa} held at a time at or after {@code since}. */
    List<Long> valuesSince(PhysicalMemory memory, long pa, long since) {
      Set<Long> out = new LinkedHashSet<>();
      out.add(memory.read(pa, 8) & ~0x20L);
      List<long[]> h = history.get(pa);
      if (h != null) {
        for (int i = h.size() - 1; i >= 0; i--) {
          long[] e = h.get(i); // {old value, new value, time}
          if (e[2] >= since) {
            out.add(e[0] & ~0x20L);
            out.add(e[1] & ~0x20L);
          } else {
            break;
          }
        }
      }
      return new ArrayList<>(out);
    }

    void invalidateAll(int v) {
      for (int i = 0; i < LAS.length; i++) {
        allSince[v][i] = time;
        nonGlobalSince[v][i] = time;
      }
    }

    void invalidateNonGlobal(int v) {
      for (int i = 0; i < LAS.length; i++) {
        nonGlobalSince[v][i] = time;
      }
    }
  }

  /** The results a walk may give with entry values from a window; {@code globalOnly} filters. */
  private static void walk(Model m, PhysicalMemory memory, long la, int access, long since,
      boolean globalOnly, Set<Long> out) {
    walkLevel(m, memory, la, access, since, globalOnly, ROOT, 4, 1, 1, 0, out);
  }

  private static void walkLevel(Model m, PhysicalMemory memory, long la, int access, long since,
      boolean globalOnly, long table, int level, int rw, int us, int nx, Set<Long> out) {
    long pa = table + ((la >>> (12 + 9 * (level - 1))) & 0x1FF) * 8;
    for (long e : m.valuesSince(memory, pa, since)) {
      boolean user = (access & Access.USER) != 0;
      boolean write = (access & Access.WRITE) != 0;
      boolean fetch = (access & Access.FETCH) != 0;
      long bits = (write ? 2 : 0) | (user ? 4 : 0) | (fetch ? 0x10 : 0);
      if ((e & 1) == 0) {
        if (!globalOnly) {
          out.add(Fault.of(FaultKind.PAGE_FAULT, bits));
        }
        continue;
      }
      int r = rw & (int) (e >>> 1) & 1;
      int u = us & (int) (e >>> 2) & 1;
      int x = nx | (int) (e >>> 63);
      boolean leaf = level == 1 || (level == 2 && (e & 0x80) != 0);
      if (!leaf) {
        walkLevel(m, memory, la, access, since, globalOnly, e & 0xF_FFFF_FFFF_F000L, level - 1,
            r, u, x, out);
        continue;
      }
      if (globalOnly && (e & 0x100) == 0) {
        continue;
      }
      boolean denied = (user && u == 0) || (write && r == 0) || (fetch && x != 0);
      if (denied) {
        out.add(Fault.of(FaultKind.PAGE_FAULT, 1 | bits));
      } else if (write && (e & 0x40) == 0) {
        // A write never succeeds through an entry whose D was clear when it was read: it walks
        // again and sets D, so the value it used is one with D set (the current one).
        continue;
      } else {
        long size = level == 1 ? 0x1000 : 0x20_0000;
        out.add((e & 0xF_FFFF_FFFF_F000L & ~(size - 1)) | (la & (size - 1)));
      }
    }
  }

  record Write(int level, int laIndex, int choice, int flags)
      implements Action<World, Model> {
    @Override
    public void run(World w, Model m) {
      long la = LAS[laIndex];
      long table = ROOT;
      for (int l = 4; l > level; l--) {
        long e = w.memory.read(table + ((la >>> (12 + 9 * (l - 1))) & 0x1FF) * 8, 8);
        if ((e & 1) == 0 || (l == 2 && (e & 0x80) != 0)) {
          return; // no entry at this level on the current path
        }
        table = e & 0xF_FFFF_FFFF_F000L;
      }
      long pa = table + ((la >>> (12 + 9 * (level - 1))) & 0x1FF) * 8;
      long value = value();
      long old = w.memory.read(pa, 8);
      m.time++;
      m.history.computeIfAbsent(pa, k -> new ArrayList<>()).add(new long[] {old, value, m.time});
      w.memory.write(pa, 8, value);
      m.clean = false;
    }

    long value() {
      if (choice == 0) {
        return flags & 0x66; // not present
      }
      long rights = 1 | (flags & 0x6) | 0x20 | ((flags & 8) != 0 ? 1L << 63 : 0);
      switch (level) {
        case 4:
          return PDPTS[choice % 2] | rights;
        case 3:
          return PDS[choice % 2] | rights;
        case 2:
          return choice >= 3 ? LARGE[choice % 2] | rights | 0x80 | ((flags & 16) != 0 ? 0x100 : 0)
              : PTS[choice % 3] | rights;
        default:
          return FRAMES[choice % 4] | rights | ((flags & 16) != 0 ? 0x100 : 0);
      }
    }

    @Override
    public String toString() {
      return "write(level " + level + ", la " + laIndex + ", 0x" + Long.toHexString(value()) + ")";
    }
  }

  record Translate(int vcpu, int laIndex, int accessIndex) implements Action<World, Model> {
    @Override
    public void run(World w, Model m) {
      long la = LAS[laIndex] + 0x18;
      int access = ACCESSES[accessIndex];
      long r = w.vcpus[vcpu].translate(la, access);
      Set<Long> allowed = new LinkedHashSet<>();
      walk(m, w.memory, la, access, m.nonGlobalSince[vcpu][laIndex], false, allowed);
      walk(m, w.memory, la, access, m.allSince[vcpu][laIndex], true, allowed);
      Set<Long> current = new LinkedHashSet<>();
      walk(m, w.memory, la, access, Long.MAX_VALUE, false, current);
      assertTrue(allowed.contains(r), () -> "vCPU " + vcpu + " " + Access.describe(access)
          + " 0x" + Long.toHexString(la) + " gave " + show(r) + "; allowed " + showAll(allowed));
      if (m.overFlush && m.clean) {
        assertEquals(current.iterator().next(), r, "over-flush after invalidation: current walk");
      }
    }

    @Override
    public String toString() {
      return "translate(vcpu " + vcpu + ", la " + laIndex + ", "
          + Access.describe(ACCESSES[accessIndex]) + ")";
    }
  }

  record Invlpg(int vcpu, int laIndex) implements Action<World, Model> {
    @Override
    public void run(World w, Model m) {
      m.time++;
      w.vcpus[vcpu].invlpg(LAS[laIndex]);
      // INVLPG removes the address's translations, global ones too, and every paging-structure
      // cache entry: the address's window starts now. (Other addresses keep their TLB entries,
      // but their walks lose the PSC: tracked conservatively by not moving their windows.)
      m.allSince[vcpu][laIndex] = m.time;
      m.nonGlobalSince[vcpu][laIndex] = m.time;
    }

    @Override
    public String toString() {
      return "invlpg(vcpu " + vcpu + ", la " + laIndex + ")";
    }
  }

  record MovCr3(int vcpu) implements Action<World, Model> {
    @Override
    public void run(World w, Model m) {
      m.time++;
      assertEquals(0, w.vcpus[vcpu].writeCr3(ROOT));
      if (m.overFlush) {
        m.invalidateAll(vcpu);
      } else {
        m.invalidateNonGlobal(vcpu);
      }
    }

    @Override
    public String toString() {
      return "movCr3(vcpu " + vcpu + ")";
    }
  }

  record TogglePge(int vcpu) implements Action<World, Model> {
    @Override
    public void run(World w, Model m) {
      m.time++;
      Vcpu v = w.vcpus[vcpu];
      assertEquals(0, v.writeCr4(v.cr4() & ~ControlRegisters.CR4_PGE));
      assertEquals(0, v.writeCr4(v.cr4() | ControlRegisters.CR4_PGE));
      m.invalidateAll(vcpu);
    }

    @Override
    public String toString() {
      return "togglePge(vcpu " + vcpu + ")";
    }
  }

  record Invpcid(int vcpu, int type, int laIndex) implements Action<World, Model> {
    @Override
    public void run(World w, Model m) {
      m.time++;
      assertEquals(0, w.vcpus[vcpu].invpcid(type, 0, LAS[laIndex]));
      if (m.overFlush && type != 0) {
        m.invalidateAll(vcpu);
        return;
      }
      switch (type) {
        case 0:
          m.nonGlobalSince[vcpu][laIndex] = m.time;
          if (m.overFlush) {
            m.allSince[vcpu][laIndex] = m.time;
          }
          break;
        case 2:
          m.invalidateAll(vcpu);
          break;
        default:
          m.invalidateNonGlobal(vcpu);
          break;
      }
    }

    @Override
    public String toString() {
      return "invpcid(vcpu " + vcpu + ", type " + type + ", la " + laIndex + ")";
    }
  }

  /** In the over-flush run, every vCPU flushes everything after each write. */
  record FlushEverywhere() implements Action<World, Model> {
    @Override
    public void run(World w, Model m) {
      m.time++;
      for (int v = 0; v < VCPUS; v++) {
        assertEquals(0, w.vcpus[v].writeCr3(ROOT));
        m.invalidateAll(v);
      }
      m.clean = true;
    }

    @Override
    public String toString() {
      return "flushEverywhere()";
    }
  }

  private static Gen<Action<World, Model>> actions(boolean overFlush) {
    Gen<Action<World, Model>> writes = Gens.zip(Gens.ints(1, 4), Gens.ints(0, 5),
        (level, la) -> new int[] {level, la}).flatMap(p -> Gens.zip(Gens.ints(0, 4),
            Gens.ints(0, 31), (c, f) -> (Action<World, Model>) new Write(p[0], p[1], c, f)));
    Gen<Action<World, Model>> translates = Gens.zip(Gens.ints(0, VCPUS - 1), Gens.ints(0, 5),
        (v, la) -> new int[] {v, la}).flatMap(p -> Gens.ints(0, ACCESSES.length - 1)
            .map(a -> (Action<World, Model>) new Translate(p[0], p[1], a)));
    Gens.Weighted<Action<World, Model>> b = Gens.<Action<World, Model>>weighted()
        .add(3, writes)
        .add(8, translates)
        .add(2, Gens.zip(Gens.ints(0, VCPUS - 1), Gens.ints(0, 5), Invlpg::new))
        .add(1, Gens.ints(0, VCPUS - 1).map(MovCr3::new))
        .add(1, Gens.ints(0, VCPUS - 1).map(TogglePge::new))
        .add(1, Gens.zip(Gens.ints(0, VCPUS - 1), Gens.ints(0, 3), (v, t) -> new int[] {v, t})
            .flatMap(p -> Gens.ints(0, 5).map(la -> new Invpcid(p[0], p[1], la))));
    if (overFlush) {
      b = b.add(3, Gens.constant(new FlushEverywhere()));
    }
    return b.build();
  }

  private static String show(long r) {
    return Fault.isFault(r) ? Fault.describe(r) : "0x" + Long.toHexString(r);
  }

  private static String showAll(Set<Long> rs) {
    List<String> out = new ArrayList<>();
    for (long r : rs) {
      out.add(show(r));
    }
    return out.toString();
  }

  @Test
  void strictRetentionOnlyServesTranslationsAStateSinceTheLastInvalidationAllowed() {
    StatefulCheck.run(() -> new World(MmuSwitches.DEFAULT), () -> new Model(false),
        actions(false), 60, (w, m) -> { });
  }

  @Test
  void strictRetentionWithEveryAccessedFlagOnTheWayDown() {
    MmuSwitches s = MmuSwitches.DEFAULT.withAccessedOnFault(
        MmuSwitches.AccessedOnFault.EVERY_LEVEL_USED);
    StatefulCheck.run(() -> new World(s), () -> new Model(false), actions(false), 60,
        (w, m) -> { });
  }

  @Test
  void amdStyleCachesAreCoherentToo() {
    StatefulCheck.run(() -> new World(MmuSwitches.DEFAULT.withPscStyle(
        MmuSwitches.PscStyle.AMD_PHYSICAL)), () -> new Model(false), actions(false), 60,
        (w, m) -> { });
  }

  @Test
  void overFlushAfterInvalidationAlwaysWalksTheCurrentTables() {
    StatefulCheck.run(() -> new World(MmuSwitches.EMULATOR), () -> new Model(true),
        actions(true), 60, (w, m) -> { });
  }

  @Test
  void shouldNotLetAWriteHitAnEntryFilledWithDirtyClear() {
    World w = new World(MmuSwitches.DEFAULT);
    long la = LAS[0];
    write(w.memory, PTS[0], FRAMES[0] | 0x27); // A set, D clear
    Vcpu v = w.vcpus[0];
    assertEquals(FRAMES[0], v.translate(la, Access.READ));
    long walks = v.counters().walks();
    assertEquals(FRAMES[0], v.translate(la, Access.WRITE));
    assertEquals(walks + 1, v.counters().walks(), "the write walked again");
    assertEquals(FRAMES[0] | 0x67, w.memory.read(PTS[0], 8));
    walks = v.counters().walks();
    assertEquals(FRAMES[0], v.translate(la, Access.WRITE));
    assertEquals(walks, v.counters().walks(), "the refilled entry serves writes");
  }
}
