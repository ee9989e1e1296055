package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciMemBar;
import org.hvmmu.rangeset.owned.OwnedRanges;
import org.hvmmu.testkit.Action;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.PropertyConfig;
import org.hvmmu.testkit.PropertyFailure;
import org.hvmmu.testkit.StatefulCheck;
import org.junit.jupiter.api.Test;

/**
 * Random sequences of enable, disable, prepare, release and assignment on three devices, and of
 * registrations by the host (IO-APIC, MMCFG and the like) on frames near theirs. After every step:
 * (1) {@code mmio_ro_ranges} equals the union of the live registrations; (2) the table and PBA
 * frames of every device with a live vector or a prepare (as lspci's decoding gives them: BAR +
 * offset, PBA of 8&middot;&lceil;n/64&rceil; bytes) are in it. The hardened switches keep both; the
 * seed's break them, and the harness shrinks the breach to a few steps, pinned below as examples.
 *
 * <p>Devices: the Intel 82576 dump ({@code nic}: table frame e0840, PBA frame e0842) and two
 * built ones whose PBAs share frame fe100 ({@code a}: table fe000, {@code b}: table fe010).
 */
class MsixLifecyclePropertyTest {
  static final String[] NAMES = {"nic", "a", "b"};

  static List<PciDevice> devices() {
    return List.of(
        MsixDeviceTest.nic(),
        MsixDeviceTest.device(0, 0xfe000000L, 0xfe100000L, 0, 4),
        MsixDeviceTest.device(1, 0xfe010000L, 0xfe100800L, 0, 4));
  }

  /** Frames the host may register: the devices' frames and their neighbours. */
  static final long[] HOST_FRAMES = {
    0xe083fL, 0xe0840L, 0xe0841L, 0xe0842L, 0xfe000L, 0xfe001L, 0xfe010L, 0xfe100L, 0xfe101L
  };

  /** The system: a registry, the three devices, and a host registrant. */
  static final class Host {
    final OwnedRanges registry;
    final List<MsixDevice> devices = new ArrayList<>();
    final int host;
    final List<long[]> hostHeld = new ArrayList<>();

    Host(MsixSwitches switches) {
      registry = MsixDeviceTest.registry(switches);
      host = registry.newRegistrant("host");
      for (PciDevice d : devices()) {
        devices.add(new MsixDevice(d, registry, switches));
      }
    }

    /** What dom0 passes as {@code msi->table_base}: the table BAR, as it reads it itself. */
    long tableBase(int dev) {
      MsixDevice d = devices.get(dev);
      return PciMemBar.readPciMemBar(
          d.device().config(), d.capability().tableBir(), org.hvmmu.pci.BarReadMode.CORRECTED);
    }
  }

  record Enable(int dev, int entry, boolean byGuest) implements Action<Host, Object> {
    @Override
    public void run(Host h, Object model) {
      MsixDevice d = h.devices.get(dev);
      if (d.isEnabled(entry)) {
        return;
      }
      int owner = d.owner();
      int current = byGuest && owner != MsixDevice.HARDWARE_DOMAIN ? owner : 0;
      d.pciEnableMsix(current, entry, h.tableBase(dev));
    }

    @Override
    public String toString() {
      return NAMES[dev] + ".enable(" + entry + (byGuest ? ", by guest)" : ")");
    }
  }

  record Disable(int dev, int entry) implements Action<Host, Object> {
    @Override
    public void run(Host h, Object model) {
      MsixDevice d = h.devices.get(dev);
      if (d.isEnabled(entry)) {
        d.pciDisableMsix(entry);
      }
    }

    @Override
    public String toString() {
      return NAMES[dev] + ".disable(" + entry + ")";
    }
  }

  record Prepare(int dev) implements Action<Host, Object> {
    @Override
    public void run(Host h, Object model) {
      h.devices.get(dev).pciPrepareMsix();
    }

    @Override
    public String toString() {
      return NAMES[dev] + ".prepare()";
    }
  }

  record Release(int dev) implements Action<Host, Object> {
    @Override
    public void run(Host h, Object model) {
      h.devices.get(dev).pciReleaseMsix();
    }

    @Override
    public String toString() {
      return NAMES[dev] + ".release()";
    }
  }

  record Assign(int dev, int domain, boolean hasMemory) implements Action<Host, Object> {
    @Override
    public void run(Host h, Object model) {
      h.devices.get(dev).assign(domain, hasMemory);
    }

    @Override
    public String toString() {
      return NAMES[dev] + ".assign(d" + domain + (hasMemory ? ", memory)" : ")");
    }
  }

  record HostAdd(int frame) implements Action<Host, Object> {
    @Override
    public void run(Host h, Object model) {
      long f = HOST_FRAMES[frame];
      assertEquals(0, h.registry.add(h.host, f, f));
      h.hostHeld.add(new long[] {f, f});
    }

    @Override
    public String toString() {
      return "host.add(" + Long.toHexString(HOST_FRAMES[frame]) + ")";
    }
  }

  record HostRemove(int index) implements Action<Host, Object> {
    @Override
    public void run(Host h, Object model) {
      if (h.hostHeld.isEmpty()) {
        return;
      }
      long[] r = h.hostHeld.remove(index % h.hostHeld.size());
      assertEquals(0, h.registry.remove(h.host, r[0], r[1]));
    }

    @Override
    public String toString() {
      return "host.remove(#" + index + ")";
    }
  }

  static Gen<Action<Host, Object>> actions() {
    Gen<Integer> dev = Gens.ints(0, 2);
    Gen<Integer> entry = Gens.ints(0, 1);
    return Gens.<Action<Host, Object>>weighted()
        .add(
            5,
            Gens.zip(
                Gens.zip(dev, entry, (d, e) -> new int[] {d, e}),
                Gens.booleans(),
                (de, g) -> new Enable(de[0], de[1], g)))
        .add(4, Gens.zip(dev, entry, Disable::new))
        .add(2, dev.map(Prepare::new))
        .add(2, dev.map(Release::new))
        .add(
            2,
            Gens.zip(
                Gens.zip(dev, Gens.ints(0, 1), (d, dom) -> new int[] {d, dom}),
                Gens.booleans(),
                (dd, m) -> new Assign(dd[0], dd[1], m)))
        .add(2, Gens.ints(0, HOST_FRAMES.length - 1).map(HostAdd::new))
        .add(2, Gens.ints(0, 3).map(HostRemove::new))
        .build();
  }

  /** The property: the set is the union of registrations and covers every live device's frames. */
  static void invariant(Host h, Object model) {
    List<String> violations = h.registry.violations();
    if (!violations.isEmpty()) {
      fail("mmio_ro_ranges is not the union of the registrations: " + violations);
    }
    for (MsixDevice d : h.devices) {
      assertTrue(d.checkInvariants(), d.toString());
      if (d.enabledCount() == 0 && !d.isPrepared()) {
        continue;
      }
      MsixLayout layout = MsixLayout.inspect(d.device());
      for (MsixRegion r : List.of(layout.table(), layout.pba())) {
        if (!h.registry.target().containsRange(r.firstFrame(), r.lastFrame())) {
          fail(
              d
                  + ": frames ["
                  + Long.toHexString(r.firstFrame())
                  + ", "
                  + Long.toHexString(r.lastFrame())
                  + "] are live but writable: "
                  + h.registry.target());
        }
      }
    }
  }

  private static void check(MsixSwitches switches, PropertyConfig config) {
    StatefulCheck.run(config, () -> new Host(switches), Object::new, actions(), 30,
        MsixLifecyclePropertyTest::invariant);
  }

  @Test
  void hardenedShouldKeepEveryLiveTableAndPbaReadOnly() {
    check(MsixSwitches.HARDENED, PropertyConfig.defaults().seed(0x5EED_0005L));
  }

  @Test
  void theSeedShouldFailAndShrinkToOneEnable() {
    PropertyFailure failure =
        assertThrows(
            PropertyFailure.class,
            () -> check(MsixSwitches.SEED_2010, PropertyConfig.defaults().tries(500).seed(0x5EEDL)));
    assertEquals(List.of("nic.enable(0)"), describe(failure), failure.getMessage());
  }

  @Test
  void theSeedsLifecycleAloneShouldFailAndShrinkToThreeSteps() {
    // The seed's switches with upstream's BAR reads: only the lifecycle defects are left.
    MsixSwitches lifecycle = MsixSwitches.SEED_2010.withBarReadMode(
        org.hvmmu.pci.BarReadMode.CORRECTED).withPbaSizing(PbaSizing.CORRECTED);
    PropertyFailure failure =
        assertThrows(
            PropertyFailure.class,
            () -> check(lifecycle, PropertyConfig.defaults().tries(500).seed(0x5EEDL)));
    assertEquals(
        List.of("a.enable(1)", "a.disable(1)", "a.enable(0)"), describe(failure),
        failure.getMessage());
  }

  @Test
  void shrunkOneEnableShouldStayPinned() {
    // The seed reads the 82576's BARs with its header type 0x80 unmasked: 0 for BAR 3. The table
    // comes from the caller's base, e0840000 + 0: frame e0840; the PBA from 0 + 0x2000: frame 2.
    // lspci puts the PBA at e0840000 + 0x2000: frame e0842, which stays writable.
    Host seed = new Host(MsixSwitches.SEED_2010);
    new Enable(0, 0, false).run(seed, null);
    assertEquals("r/o mmio ranges { 2, e0840 }", seed.registry.target().toString());
    assertThrows(AssertionError.class, () -> invariant(seed, null));
    Host hardened = new Host(MsixSwitches.HARDENED);
    new Enable(0, 0, false).run(hardened, null);
    assertEquals("r/o mmio ranges { e0840, e0842 }", hardened.registry.target().toString());
    invariant(hardened, null);
  }

  @Test
  void shrunkSecondEnableShouldStayPinned() {
    // Device a: table BAR 0 fe000000 + 0 (4 entries: frame fe000), PBA BAR 2 fe100000 + 0 (frame
    // fe100). (1) enable(1): nr_entries is 0, so the frames are computed and added: { fe000,
    // fe100 }, nr_entries 4. (2) disable(1): used entries 1 -> 0, both removed: { }. (3) enable(0):
    // nr_entries is 4, nothing is added, and entry 0 is live with its table writable.
    MsixSwitches lifecycle = MsixSwitches.SEED_2010.withBarReadMode(
        org.hvmmu.pci.BarReadMode.CORRECTED).withPbaSizing(PbaSizing.CORRECTED);
    List<Action<Host, Object>> steps =
        List.of(new Enable(1, 1, false), new Disable(1, 1), new Enable(1, 0, false));
    String[] seedStates = {"{ fe000, fe100 }", "{ }", "{ }"};
    String[] hardenedStates = {"{ fe000, fe100 }", "{ }", "{ fe000, fe100 }"};
    Host seed = new Host(lifecycle);
    Host hardened = new Host(MsixSwitches.HARDENED);
    for (int i = 0; i < steps.size(); i++) {
      steps.get(i).run(seed, null);
      steps.get(i).run(hardened, null);
      assertEquals("r/o mmio ranges " + seedStates[i], seed.registry.target().toString());
      assertEquals("r/o mmio ranges " + hardenedStates[i], hardened.registry.target().toString());
      invariant(hardened, null);
    }
    MsixDevice a = seed.devices.get(1);
    assertEquals(4, a.nrEntries());
    assertEquals(1, a.usedEntries());
    assertEquals(0xfe000L, a.tableFirst());
    assertThrows(AssertionError.class, () -> invariant(seed, null));
  }

  private static List<String> describe(PropertyFailure failure) {
    List<String> out = new ArrayList<>();
    for (Object action : (List<?>) failure.shrunkCounterexample()) {
      out.add(action.toString());
    }
    return out;
  }
}
