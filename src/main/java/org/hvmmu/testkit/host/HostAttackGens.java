package org.hvmmu.testkit.host;

import java.util.List;
import java.util.Objects;
import java.util.function.ToIntFunction;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostDevice;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.host.script.Scenario;
import org.hvmmu.testkit.Action;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;

/**
 * Generators of the attack on a device's MSI-X table and PBA (issue 12 §3), for hosts built by a
 * {@link HostVcpuSetup}: guest stores aimed at the table and PBA pages through the mappings every
 * guest's L1 tables hold ({@link HostVcpuSetup#SLOT_MSIX_TABLE}, {@link HostVcpuSetup#SLOT_PBA}),
 * in every store {@link InstructionClass} the vCPU runs (not {@code WIDE_STORE}: it stores at
 * most 8 bytes), the programming owner's permitted path ({@code msix
 * program}, {@link Host#programMsix}), Xen's enables and disables of entries, and the device's
 * interrupts ({@code msix fire}); mixed with everything {@link HostVcpuGens#operations} draws, so
 * that mappings, TLBs and protection change in between. Each action prints as the scenario line
 * {@code hvmmu replay} runs.
 *
 * <table>
 *   <caption>Generated commands (weights in brackets)</caption>
 *   <tr><td>{@code store V LA 4|8 VALUE [user] [as CLASS]} [6]: either window's table or PBA slot,
 *       at entry 0 or 1's address, upper address, data and Vector Control and the PBA's first
 *       QWORD; values {@code 0xfee07000} (another APIC), {@code 0x99}, 0 (unmask), ~0</td></tr>
 *   <tr><td>{@code msix program dev E ADDRESS DATA} [3]: entry 0 or 1, {@code 0xfee03000} or
 *       {@code 0xfee01000}, data {@code 0x41} or {@code 0x42}</td></tr>
 *   <tr><td>{@code msix fire dev E} [3], {@code msix enable dev E} [2], {@code msix disable dev
 *       E} [1]</td></tr>
 *   <tr><td>one of {@link HostVcpuGens#operations} [5]</td></tr>
 * </table>
 *
 * <pre>{@code
 * HostVcpuSetup setup = HostVcpuSetup.of(Policy.HARDENED, config);
 * StatefulCheck.run(PropertyConfig.defaults(), setup::build, () -> null,
 *     HostAttackGens.operations(setup), 30, HostInvariantCheck.everyInvariant());
 * }</pre>
 *
 * <p>Stateless and thread-safe; the actions assert nothing (check the host with an invariant).
 */
public final class HostAttackGens {
  /** The store classes, simplest first. */
  private static final InstructionClass[] STORES = {
    InstructionClass.PLAIN_STORE, InstructionClass.STOS, InstructionClass.MOVS,
    InstructionClass.READ_MODIFY_WRITE, InstructionClass.LOCKED, InstructionClass.UNEMULATED
  };

  private HostAttackGens() {}

  /**
   * The attack mixed with the running guests' and the host's operations (see the class
   * description).
   *
   * @param setup the set-up the actions will run on
   * @param <M> the model type, unused
   * @return the generator
   * @throws IllegalArgumentException if the set-up has no guest
   */
  public static <M> Gen<Action<Host, M>> operations(HostVcpuSetup setup) {
    Objects.requireNonNull(setup, "setup");
    return Gens.<Action<Host, M>>weighted()
        .add(6, stores(setup))
        .add(3, program())
        .add(3, fire())
        .add(2, Gens.ints(0, 1).map(e -> device("msix enable " + HostSetup.DEVICE + " " + e,
            (host, dev) -> host.enableMsix(dev, e).rc())))
        .add(1, Gens.ints(0, 1).map(e -> device("msix disable " + HostSetup.DEVICE + " " + e,
            (host, dev) -> dev.msix().isEnabled(e) ? host.disableMsix(dev, e).rc() : 0)))
        .add(5, HostVcpuGens.<M>operations(setup))
        .build();
  }

  /**
   * Guest stores aimed at the table and PBA pages, in every store class.
   *
   * @param setup the set-up
   * @param <M> the model type, unused
   * @return the generator
   * @throws IllegalArgumentException if the set-up has no guest
   */
  public static <M> Gen<Action<Host, M>> stores(HostVcpuSetup setup) {
    int[] ids = setup.guestIds();
    if (ids.length == 0) {
      throw new IllegalArgumentException("a set-up without guests has no vCPU to run");
    }
    return HostGens.tuple(List.of(Gens.ints(0, ids.length - 1).map(Integer::longValue),
            Gens.elements(0L, 1L), Gens.elements(0L, 1L),
            Gens.elements((long) HostVcpuSetup.SLOT_MSIX_TABLE, (long) HostVcpuSetup.SLOT_PBA),
            Gens.elements(0L, 8L, 4L, 0xcL, 0x10L, 0x18L, 0x1cL),
            Gens.elements(4L, 8L), Gens.elements(0xfee0_7000L, 0x99L, 0L, -1L),
            Gens.ints(0, STORES.length - 1).map(Integer::longValue), Gens.elements(0L, 1L)))
        .map(t -> HostVcpuGens.<M>action(setup, new Scenario.Store(
            setup.vcpuName(ids[(int) t[0]], (int) t[1]),
            HostVcpuSetup.linear((int) t[2], (int) t[3]) + t[4], (int) t[5],
            t[5] == 4 ? t[6] & 0xffff_ffffL : t[6], t[8] == 1, STORES[(int) t[7]])));
  }

  /**
   * The programming owner's permitted path: {@code msix program dev E ADDRESS DATA}.
   *
   * @param <M> the model type, unused
   * @return the generator
   */
  public static <M> Gen<Action<Host, M>> program() {
    return HostGens.tuple(List.of(Gens.elements(0L, 1L), Gens.elements(0xfee0_3000L,
            0xfee0_1000L), Gens.elements(0x41L, 0x42L)))
        .map(t -> device("msix program " + HostSetup.DEVICE + " " + t[0] + " 0x"
            + Long.toHexString(t[1]) + " 0x" + Long.toHexString(t[2]),
            (host, dev) -> host.programMsix(dev, (int) t[0], t[1], (int) t[2])));
  }

  /**
   * The device's interrupts: {@code msix fire dev E}.
   *
   * @param <M> the model type, unused
   * @return the generator
   */
  public static <M> Gen<Action<Host, M>> fire() {
    return Gens.ints(0, 1).map(e -> device("msix fire " + HostSetup.DEVICE + " " + e,
        (host, dev) -> host.fireMsix(dev, e).ordinal()));
  }

  private static <M> Action<Host, M> device(String line, DeviceStep step) {
    return new DeviceAction<>(line, host -> step.run(host, host.devices().get(0)));
  }

  /** A step on the set-up's device; its result is ignored. */
  @FunctionalInterface
  private interface DeviceStep {
    int run(Host host, HostDevice dev);
  }

  /** A host operation printed as its script line; equal by line. */
  private static final class DeviceAction<M> implements Action<Host, M> {
    private final String line;
    private final ToIntFunction<Host> step;

    DeviceAction(String line, ToIntFunction<Host> step) {
      this.line = line;
      this.step = step;
    }

    @Override
    public void run(Host host, M model) {
      step.applyAsInt(host);
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof DeviceAction<?> that && line.equals(that.line);
    }

    @Override
    public int hashCode() {
      return line.hashCode();
    }

    @Override
    public String toString() {
      return line;
    }
  }
}
