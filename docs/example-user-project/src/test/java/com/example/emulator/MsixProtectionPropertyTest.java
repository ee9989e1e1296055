package com.example.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostInvariants;
import org.hvmmu.host.Policy;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.testkit.Action;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.PropertyConfig;
import org.hvmmu.testkit.PropertyFailure;
import org.hvmmu.testkit.StatefulCheck;
import org.hvmmu.testkit.host.HostGens;
import org.hvmmu.testkit.host.HostInvariantCheck;
import org.hvmmu.testkit.host.HostInvariantError;
import org.hvmmu.testkit.host.HostScript;
import org.hvmmu.testkit.host.HostSetup;
import org.junit.jupiter.api.Test;

/**
 * What a user of hvmmu writes to check that the machine their emulator embeds keeps the MSI-X table
 * of a passed-through device read-only, whatever the guests do.
 */
class MsixProtectionPropertyTest {
  /**
   * The device our emulator passes through, as {@code lspci -xxx} shows it: BAR0 at 0xfe000000
   * (32-bit memory), MSI-X at 0x50 with 8 entries, table at BAR0 + 0x2000, PBA at BAR0 + 0x3000.
   */
  static ConfigSpace ourNic() {
    byte[] b = new byte[256];
    b[0x00] = (byte) 0x86; // vendor 0x8086
    b[0x01] = (byte) 0x80;
    b[0x04] = 0x06; // memory decoding, bus master
    b[0x06] = 0x10; // capability list
    b[0x13] = (byte) 0xfe; // BAR0 = 0xfe000000
    b[0x34] = 0x50; // first capability
    b[0x50] = 0x11; // MSI-X, last on the chain
    b[0x52] = 0x07; // 8 entries
    b[0x55] = 0x20; // table offset 0x2000, BIR 0 (dword 0x54)
    b[0x59] = 0x30; // PBA offset 0x3000, BIR 0 (dword 0x58)
    return ConfigSpace.of(b);
  }

  /** The table is at 0xfe002000: frame 0xfe002. */
  static final long TABLE_FRAME = 0xfe002;

  @Test
  void hardenedHostKeepsTheTableReadOnlyWhateverGuestsDo() {
    // dom0, a PV guest, a PV guest in shadow mode, and HVM guests on EPT, NPT and shadow paging;
    // random sequences of up to 40 operations; every invariant checked after each one.
    HostSetup setup = HostSetup.of(Policy.HARDENED, ourNic());
    StatefulCheck.run(
        PropertyConfig.defaults().tries(100),
        setup::build,
        () -> null,
        HostGens.operations(setup),
        40,
        HostInvariantCheck.all());
  }

  @Test
  void ourOwnOperationsMixWithTheKits() {
    // An operation of our own (the emulator's device model protects the table page itself),
    // printed as a script line like the kit's, mixed with the kit's random operations.
    HostSetup setup = HostSetup.of(Policy.HARDENED, ourNic());
    Action<Host, Object> deviceModelProtects = Action.of(
        "protect devmodel " + HostScript.hex(TABLE_FRAME),
        (host, model) -> assertEquals(0, host.protect("devmodel", TABLE_FRAME, TABLE_FRAME)));
    Gen<Action<Host, Object>> operations = Gens.<Action<Host, Object>>weighted()
        .add(9, HostGens.operations(setup))
        .add(1, Gens.constant(deviceModelProtects))
        .build();
    StatefulCheck.run(PropertyConfig.defaults().tries(100), setup::build, () -> null, operations,
        40, HostInvariantCheck.all());
  }

  @Test
  void theSeedLeavesTheTableOrPbaWritableAndTheKitSaysHow() {
    HostSetup setup = HostSetup.of(Policy.SEED_2010, ourNic());
    PropertyFailure failure = assertThrows(PropertyFailure.class, () -> StatefulCheck.run(
        PropertyConfig.defaults().tries(1000), setup::build, () -> null,
        HostGens.operations(setup), 40, HostInvariantCheck.all()));
    HostInvariantError broken = (HostInvariantError) failure.getCause();
    assertTrue(broken.invariants().contains(HostInvariants.UNPROTECTED_MSIX)
        || broken.invariants().contains(HostInvariants.WRITABLE_READ_ONLY_MMIO), broken.getMessage());
    // The shrunk sequence is a scenario script: save it and run `hvmmu replay FILE`.
    String script = HostScript.script(setup, failure.shrunkCounterexample());
    List<String> steps = HostScript.lines(failure.shrunkCounterexample());
    assertTrue(steps.size() <= 3, script);
    assertTrue(script.startsWith("# hvmmu testkit host set-up"), script);
  }
}
