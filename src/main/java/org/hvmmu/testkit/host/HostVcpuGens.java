package org.hvmmu.testkit.host;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import org.hvmmu.host.Host;
import org.hvmmu.host.script.Scenario;
import org.hvmmu.host.script.ScenarioWriter;
import org.hvmmu.mmu.ControlRegisters;
import org.hvmmu.testkit.Action;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PvMmuAbi;

/**
 * Generators of what running guests do, for hosts built by a {@link HostVcpuSetup}: vCPU loads,
 * stores, fetches and translations of mapped and unmapped addresses (user and supervisor), guest
 * page-table writes by plain stores through the guests' table mappings (entries pointing at RAM,
 * page tables, MMIO and the device's MSI-X frames), CR3 switches between the two trees, INVLPG and
 * INVPCID, and a PV guest's hypercalls: {@code mmu_update} at every level, {@code
 * update_va_mapping} with each {@code UVMF_*} flush, the {@code mmuext_op} flushes, {@code
 * MMUEXT_NEW_BASEPTR}, pins and unpins; on every vCPU of every guest. Each is a {@link
 * Scenario.Command} and, as an {@link Action}, prints as that command's scenario-script line, so a
 * shrunk counterexample after {@link HostVcpuSetup#scriptLines()} is a script {@code hvmmu replay}
 * runs.
 *
 * <table>
 *   <caption>Generated commands (weights in brackets)</caption>
 *   <tr><th>script line</th><th>guests</th></tr>
 *   <tr><td>{@code read V LA SIZE [user]}, {@code store V LA SIZE VALUE [user]}, {@code fetch V LA
 *       SIZE [user]}, {@code translate V LA [write|fetch] [user]} [10]: the data, MMIO and table
 *       pages of both L1 windows (the MMIO pages two draws in five) at offsets 0, 8, 0xff8 and
 *       0xffc (a store or load there of 8 bytes crosses into the next page), and unmapped
 *       addresses; two accesses in five are stores</td><td>all</td></tr>
 *   <tr><td>{@code store V LA 8|4 VALUE [user]} into a table page [6]: an entry of L1 table P or
 *       Q, an L2 or a top-level table through the guest's own mapping of it (the whole entry, or
 *       either half; the value printed in hex)</td><td>all (PV: Xen emulates stores into L1
 *       tables)</td></tr>
 *   <tr><td>{@code cr V cr3=X} [3]: tree A or B</td><td>all (PV: {@code new_guest_cr3})</td></tr>
 *   <tr><td>{@code cr V cr4=X} [1]: PGE on or off</td><td>HVM and shadowed</td></tr>
 *   <tr><td>{@code invlpg V LA} [2], {@code invpcid V TYPE 0x0 LA} [1]</td><td>all (PV:
 *       #GP)</td></tr>
 *   <tr><td>{@code update D MFN SLOT PTE} [4]: any of the guest's eight tables</td><td>PV,
 *       PV32</td></tr>
 *   <tr><td>{@code update-va V LA PTE none|invlpg|tlb-flush [local|all|multi MASK]}
 *       [3]</td><td>PV, PV32</td></tr>
 *   <tr><td>{@code mmuext V OP [ARG...]} [3]: the TLB flushes and {@code flush-cache}; {@code
 *       mmuext V new-baseptr MFN} [1]</td><td>PV, PV32</td></tr>
 *   <tr><td>{@code pin D MFN lN} and {@code unpin D MFN} [1]</td><td>PV, PV32</td></tr>
 * </table>
 *
 * <p>Entries stored or installed map, most telling first: the MSI-X table, the PBA, the host
 * window, a data frame, each of the guest's tables, more data, another guest's frame and frame 0,
 * with {@link HostGens#pteFlags()}; they shrink toward {@code pte(TABLE, P RW)}. A command on a
 * domain Xen crashed does nothing (shrinking then deletes it).
 *
 * <pre>{@code
 * HostVcpuSetup setup = HostVcpuSetup.of(Policy.HARDENED, config);
 * StatefulCheck.run(PropertyConfig.defaults(), setup::build, () -> null,
 *     HostVcpuGens.operations(setup), 40, HostInvariantCheck.everyInvariant());
 * }</pre>
 *
 * <p>Stateless and thread-safe; the actions assert nothing (check the host with an invariant).
 */
public final class HostVcpuGens {
  /** The L1 slots the accesses use: data, MMIO, the tables, and the first empty slot. */
  private static final int PAGES = HostVcpuSetup.SLOT_EMPTY + 1;

  /** Addresses no tree maps: L2 slot 2, the second GiB, the top of the lower half. */
  private static final long[] UNMAPPED = {0x40_0000L, 0x4000_0000L, 0x7fff_ffff_f000L};

  /** The entry slots table stores and updates write. */
  private static final long[] ENTRY_SLOTS = {
    0, 1, 2, 3, HostVcpuSetup.SLOT_MSIX_TABLE, HostVcpuSetup.SLOT_PBA,
    HostVcpuSetup.SLOT_HOST_MMIO, HostVcpuSetup.SLOT_L1_P, HostVcpuSetup.SLOT_L1_Q,
    HostVcpuSetup.SLOT_L2, HostVcpuSetup.SLOT_TOP, HostVcpuSetup.SLOT_EMPTY, 511
  };

  /** The {@code mmuext} flushes, simplest first. */
  private static final Scenario.MmuextName[] FLUSHES = {
    Scenario.MmuextName.TLB_FLUSH_LOCAL, Scenario.MmuextName.INVLPG_LOCAL,
    Scenario.MmuextName.TLB_FLUSH_ALL, Scenario.MmuextName.INVLPG_ALL,
    Scenario.MmuextName.TLB_FLUSH_MULTI, Scenario.MmuextName.INVLPG_MULTI,
    Scenario.MmuextName.FLUSH_CACHE
  };

  /** {@code update-va} flags: none, then INVLPG and TLB_FLUSH each local, all and multi. */
  private static final long[] UVMF = {
    PvMmuAbi.UVMF_NONE,
    PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL,
    PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_ALL,
    PvMmuAbi.UVMF_INVLPG | Scenario.UVMF_MULTI_POINTER,
    PvMmuAbi.UVMF_TLB_FLUSH | PvMmuAbi.UVMF_LOCAL,
    PvMmuAbi.UVMF_TLB_FLUSH | PvMmuAbi.UVMF_ALL,
    PvMmuAbi.UVMF_TLB_FLUSH | Scenario.UVMF_MULTI_POINTER
  };

  private HostVcpuGens() {}

  /**
   * Running guests mixed with the host operations of {@link HostGens#operations} on the base
   * set-up (MSI-X enable, disable, prepare and release, protect and unprotect, assignment, p2m
   * changes, PV updates and shadow writes), one in four draws, so that protection changes meet TLBs
   * full of translations.
   *
   * @param setup the set-up the actions will run on
   * @param <M> the model type of the stateful check, unused by these actions
   * @return the generator
   * @throws IllegalArgumentException if the set-up has no guest
   */
  public static <M> Gen<Action<Host, M>> operations(HostVcpuSetup setup) {
    Objects.requireNonNull(setup, "setup");
    return Gens.<Action<Host, M>>weighted()
        .add(1, HostGens.<M>operations(setup.base()))
        .add(3, vcpuOperations(setup))
        .build();
  }

  /**
   * The running guests' operations alone, as actions (see the class description).
   *
   * @param setup the set-up the actions will run on
   * @param <M> the model type, unused
   * @return the generator
   * @throws IllegalArgumentException if the set-up has no guest
   */
  public static <M> Gen<Action<Host, M>> vcpuOperations(HostVcpuSetup setup) {
    return commands(setup).map(c -> action(setup, c));
  }

  /**
   * The running guests' operations as scenario commands.
   *
   * @param setup the set-up
   * @return the generator
   * @throws IllegalArgumentException if the set-up has no guest (and so no vCPU)
   */
  public static Gen<Scenario.Command> commands(HostVcpuSetup setup) {
    Objects.requireNonNull(setup, "setup");
    return new Commands(setup).build();
  }

  /**
   * A command as an action on hosts {@code setup} builds: it runs the command as {@code hvmmu
   * replay} runs its line (nothing when the domain has crashed) and prints as that line; two are
   * equal when their commands are.
   *
   * @param setup the set-up
   * @param command a command of {@link #commands}
   * @param <M> the model type, unused
   * @return the action
   * @throws IllegalArgumentException if the command is of a kind {@link #commands} does not draw
   *     or names no domain or vCPU of the set-up
   */
  public static <M> Action<Host, M> action(HostVcpuSetup setup, Scenario.Command command) {
    return new CommandAction<>(setup, command);
  }

  /** A command run on the host; equal by command. */
  private static final class CommandAction<M> implements Action<Host, M> {
    private final HostVcpuSetup setup;
    private final Scenario.Command command;
    private final String line;

    CommandAction(HostVcpuSetup setup, Scenario.Command command) {
      this.setup = Objects.requireNonNull(setup, "setup");
      this.command = Objects.requireNonNull(command, "command");
      this.line = ScenarioWriter.command(command);
      setup.domainOf(command); // a command of the set-up's names
    }

    @Override
    public void run(Host host, M model) {
      if (setup.alive(host, command)) {
        setup.run(host, command);
      }
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof CommandAction<?> that && command.equals(that.command);
    }

    @Override
    public int hashCode() {
      return command.hashCode();
    }

    @Override
    public String toString() {
      return line;
    }
  }

  /** The command generators of one set-up. */
  private static final class Commands {
    private final HostVcpuSetup setup;
    private final int[] all;
    private final int[] pv;
    /** The guests that load their own CR4 (not PV, whose CR4 is Xen's). */
    private final int[] ownCr4;
    private final long[][] frames;

    Commands(HostVcpuSetup setup) {
      this.setup = setup;
      this.all = setup.guestIds();
      if (all.length == 0) {
        throw new IllegalArgumentException("a set-up without guests has no vCPU to run");
      }
      this.pv = Arrays.stream(all).filter(id -> setup.base().mode(id).pvTables()).toArray();
      this.ownCr4 = Arrays.stream(all).filter(id -> !setup.base().mode(id).pvTables())
          .toArray();
      this.frames = new long[all.length + 1][];
      for (int id : all) {
        frames[id] = valueFrames(id);
      }
    }

    /** Frames entries map, index-stable across guests. */
    private long[] valueFrames(int id) {
      int other = id == 1 ? (all.length > 1 ? 2 : 1) : 1;
      List<Long> out = new ArrayList<>(List.of(setup.msixTableFrame(), setup.pbaFrame(),
          HostSetup.HOST_MMIO_FIRST, setup.frame(id, HostVcpuSetup.DATA)));
      for (HostVcpuSetup.Table t : setup.tables(id)) {
        out.add(t.frame());
      }
      out.add(setup.frame(id, HostVcpuSetup.DATA + 4));
      out.add(setup.frame(id, 2)); // the base set-up's data frame
      out.add(setup.frame(other, HostVcpuSetup.DATA));
      out.add(0L);
      return out.stream().mapToLong(Long::longValue).toArray();
    }

    Gen<Scenario.Command> build() {
      Gens.Weighted<Scenario.Command> ops = Gens.<Scenario.Command>weighted()
          .add(10, access())
          .add(6, tableStore())
          .add(3, cr3())
          .add(2, invlpg())
          .add(1, invpcid());
      if (ownCr4.length > 0) {
        ops = ops.add(1, cr4());
      }
      if (pv.length > 0) {
        ops = ops.add(4, update()).add(3, updateVa()).add(3, mmuext()).add(1, newBaseptr())
            .add(1, pin());
      }
      return ops.build();
    }

    private static Gen<Long> guest(int[] ids) {
      return Gens.ints(0, ids.length - 1).map(i -> (long) ids[i]);
    }

    private static Gen<Long> vcpu() {
      return Gens.elements(0L, 1L);
    }

    private static Gen<Long> bool() {
      return Gens.elements(0L, 1L);
    }

    private String vcpuName(long id, long k) {
      return setup.vcpuName((int) id, (int) k);
    }

    private String name(long id) {
      return setup.base().name((int) id);
    }

    /** An L1 slot for an access: any, or (two in five) one that maps MMIO. */
    private static Gen<Long> slot() {
      return Gens.<Long>weighted()
          .add(3, Gens.ints(0, PAGES - 1).map(Integer::longValue))
          .add(2, Gens.elements((long) HostVcpuSetup.SLOT_MSIX_TABLE,
              (long) HostVcpuSetup.SLOT_PBA, (long) HostVcpuSetup.SLOT_HOST_MMIO))
          .build();
    }

    /** A mapped address: window, page and offset; or an unmapped one. */
    private static Gen<Long> address() {
      Gen<Long> mapped = HostGens.tuple(List.of(Gens.elements(0L, 1L), slot(),
              Gens.elements(0L, 8L, 0xff8L, 0xffcL)))
          .map(t -> HostVcpuSetup.linear((int) t[0], (int) t[1]) + t[2]);
      return Gens.<Long>weighted().add(9, mapped).add(1, Gens.elements(
          UNMAPPED[0], UNMAPPED[1], UNMAPPED[2])).build();
    }

    /** A page-aligned mapped address. */
    private static Gen<Long> page() {
      return Gens.zip(Gens.elements(0L, 1L), slot(),
          (w, p) -> HostVcpuSetup.linear((int) (long) w, (int) (long) p));
    }

    /** An index into {@link #ENTRY_SLOTS}: any, or (two in five) an MMIO slot. */
    private static Gen<Long> entrySlot() {
      return Gens.<Long>weighted()
          .add(3, Gens.ints(0, ENTRY_SLOTS.length - 1).map(Integer::longValue))
          .add(2, Gens.elements(4L, 5L, 6L))
          .build();
    }

    private long pte(long id, long frameIndex, long flags) {
      long[] f = frames[(int) id];
      return Pte.fromMfn(f[(int) (frameIndex % f.length)], (int) flags);
    }

    private Gen<Long> frameIndex() {
      return HostGens.index(frames[all[0]].length);
    }

    private static Gen<Long> flags() {
      return HostGens.pteFlags().map(Integer::longValue);
    }

    Gen<Scenario.Command> access() {
      // kind: 0 a store (two in five), 1 a load, 2 a fetch, 3 a translation
      return HostGens.tuple(List.of(guest(all), vcpu(), Gens.elements(0L, 0L, 1L, 2L, 3L),
              address(), Gens.elements(1L, 2L, 4L, 8L), Gens.elements(0L, 1L, 0x55L, -1L),
              bool(), Gens.elements(0L, 1L, 2L)))
          .map(t -> {
            String v = vcpuName(t[0], t[1]);
            long la = t[3];
            int size = (int) t[4];
            boolean user = t[6] == 1;
            return switch ((int) t[2]) {
              case 0 -> new Scenario.Store(v, la, size, t[5], user);
              case 1 -> new Scenario.Read(v, la, size, user);
              case 2 -> new Scenario.Fetch(v, la, size, user);
              default -> new Scenario.Translate(v, la, t[7] == 1, t[7] == 2, user);
            };
          });
    }

    Gen<Scenario.Command> tableStore() {
      // part: 0 the whole entry, 1 its low half, 2 its high half
      return HostGens.tuple(List.of(guest(all), vcpu(), Gens.elements(0L, 1L),
              Gens.ints(HostVcpuSetup.SLOT_L1_P, HostVcpuSetup.SLOT_TOP).map(Integer::longValue),
              entrySlot(), frameIndex(), flags(), Gens.elements(0L, 1L, 2L), bool()))
          .map(t -> {
            long pte = pte(t[0], t[5], t[6]);
            int part = (int) t[7];
            long la = HostVcpuSetup.linear((int) t[2], (int) t[3]) + 8 * ENTRY_SLOTS[(int) t[4]]
                + (part == 2 ? 4 : 0);
            long value = part == 0 ? pte : part == 1 ? pte & 0xffff_ffffL : pte >>> 32;
            return new Scenario.Store(vcpuName(t[0], t[1]), la, part == 0 ? 8 : 4, value,
                t[8] == 1);
          });
    }

    Gen<Scenario.Command> cr3() {
      return HostGens.tuple(List.of(guest(all), vcpu(), Gens.elements(1L, 0L))).map(t ->
          new Scenario.LoadRegisters(vcpuName(t[0], t[1]), OptionalLong.empty(),
              OptionalLong.of(setup.cr3((int) t[0], (int) t[2])), OptionalLong.empty(),
              OptionalLong.empty()));
    }

    Gen<Scenario.Command> cr4() {
      return HostGens.tuple(List.of(guest(ownCr4), vcpu(), bool())).map(t -> {
        long cr4 = t[2] == 0 ? HostVcpuSetup.CR4 & ~ControlRegisters.CR4_PGE : HostVcpuSetup.CR4;
        return new Scenario.LoadRegisters(vcpuName(t[0], t[1]), OptionalLong.empty(),
            OptionalLong.empty(), OptionalLong.of(cr4), OptionalLong.empty());
      });
    }

    Gen<Scenario.Command> invlpg() {
      return HostGens.tuple(List.of(guest(all), vcpu(), address())).map(t ->
          new Scenario.Invlpg(vcpuName(t[0], t[1]), t[2]));
    }

    Gen<Scenario.Command> invpcid() {
      return HostGens.tuple(List.of(guest(all), vcpu(), Gens.ints(0, 3).map(Integer::longValue),
              address()))
          .map(t -> new Scenario.Invpcid(vcpuName(t[0], t[1]), (int) t[2], 0, t[3]));
    }

    Gen<Scenario.Command> update() {
      return HostGens.tuple(List.of(guest(pv), Gens.elements(6L, 7L, 4L, 5L, 2L, 3L, 0L, 1L),
              entrySlot(), frameIndex(), flags()))
          .map(t -> {
            HostVcpuSetup.Table table = setup.tables((int) t[0]).get((int) t[1]);
            return new Scenario.MmuUpdate(name(t[0]), table.frame(),
                (int) ENTRY_SLOTS[(int) t[2]], pte(t[0], t[3], t[4]));
          });
    }

    Gen<Scenario.Command> updateVa() {
      return HostGens.tuple(List.of(guest(pv), vcpu(), page(), frameIndex(), flags(),
              Gens.ints(0, UVMF.length - 1).map(Integer::longValue), Gens.elements(1L, 2L, 3L)))
          .map(t -> {
            long flags = UVMF[(int) t[5]];
            boolean multi = (flags & ~PvMmuAbi.UVMF_FLUSHTYPE_MASK) == Scenario.UVMF_MULTI_POINTER;
            return new Scenario.UpdateVa(vcpuName(t[0], t[1]), t[2], pte(t[0], t[3], t[4]), flags,
                multi ? t[6] : 0);
          });
    }

    Gen<Scenario.Command> mmuext() {
      return HostGens.tuple(List.of(guest(pv), vcpu(),
              Gens.ints(0, FLUSHES.length - 1).map(Integer::longValue), address(),
              Gens.elements(1L, 2L, 3L)))
          .map(t -> {
            Scenario.MmuextName op = FLUSHES[(int) t[2]];
            long arg1 = op.arity() == 2 || (op.arity() == 1 && op != Scenario.MmuextName
                .TLB_FLUSH_MULTI) ? t[3] : 0;
            long arg2 = op == Scenario.MmuextName.TLB_FLUSH_MULTI
                || op == Scenario.MmuextName.INVLPG_MULTI ? t[4] : 0;
            return new Scenario.Mmuext(vcpuName(t[0], t[1]), op, arg1, arg2);
          });
    }

    Gen<Scenario.Command> newBaseptr() {
      // tops A and B, then tables that are no top-level table (refused)
      return HostGens.tuple(List.of(guest(pv), vcpu(), Gens.elements(1L, 0L, 7L, 5L)))
          .map(t -> new Scenario.Mmuext(vcpuName(t[0], t[1]), Scenario.MmuextName.NEW_BASEPTR,
              setup.tables((int) t[0]).get((int) t[2]).frame(), 0));
    }

    Gen<Scenario.Command> pin() {
      return HostGens.tuple(List.of(guest(pv), Gens.ints(0, 7).map(Integer::longValue), bool()))
          .map(t -> {
            HostVcpuSetup.Table table = setup.tables((int) t[0]).get((int) t[1]);
            return t[2] == 0 ? new Scenario.Unpin(name(t[0]), table.frame())
                : new Scenario.Pin(name(t[0]), table.frame(), table.level());
          });
    }
  }
}
