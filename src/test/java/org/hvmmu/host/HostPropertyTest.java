package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.LspciDumpReader;
import org.hvmmu.testkit.PropertyConfig;
import org.hvmmu.testkit.StatefulCheck;
import org.hvmmu.testkit.host.HostGens;
import org.hvmmu.testkit.host.HostInvariantCheck;
import org.hvmmu.testkit.host.HostSetup;
import org.hvmmu.x86.PageOrder;
import org.junit.jupiter.api.Test;

/**
 * The property suite under {@link Policy#HARDENED}: random sequences of host operations (device
 * assignment; PV updates, emulated stores, guest writes, pins and unpins; p2m sets and global
 * re-types; shadow writes; MSI-X enable, disable, prepare, release; host protect and unprotect) on
 * dom0 and guests in every paging mode, with all three {@link HostInvariants} checked after every
 * step. The number of tries is the build's ({@code -Dhvmmu.tries}: 200, 20000 with {@code
 * -Pcampaign}); a failure names the seed that replays it ({@code -Dhvmmu.seed=...}) and prints its
 * shrunk sequence as scenario-script lines. {@link HostSeedHolesPropertyTest} shows that the same
 * suite finds each of the seed's holes.
 */
class HostPropertyTest {
  /** The longest operation sequence of a try. */
  static final int MAX_ACTIONS = 30;

  /**
   * The Intel 82576 of the bundled dump, its first 256 bytes (the rest is zero): header type 0x80,
   * BAR0 0xe0800000, BAR1 0xe0000000, BAR2 I/O, BAR3 0xe0840000; MSI-X at 0x70 with 10 entries,
   * table at BAR3 + 0 (frame 0xe0840), PBA at BAR3 + 0x2000 (frame 0xe0842).
   */
  static ConfigSpace nic() {
    try {
      Path dump = Path.of(HostPropertyTest.class.getResource(
          "/org/hvmmu/pci/dumps/pciutils_intel_82576_10c9.xxx.txt").toURI());
      byte[] all = LspciDumpReader.read(dump).get(0).config().toByteArray();
      return ConfigSpace.of(Arrays.copyOf(all, ConfigSpace.CONVENTIONAL_SIZE));
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void hardenedKeepsEveryInvariantOnTheNic() {
    HostSetup setup = HostSetup.of(Policy.HARDENED, nic());
    StatefulCheck.run(PropertyConfig.defaults(), setup::build, () -> null,
        HostGens.operations(setup), MAX_ACTIONS, HostInvariantCheck.all());
  }

  @Test
  void hardenedKeepsEveryInvariantWithTheNicAssignedToEachGuest() {
    HostSetup base = HostSetup.of(Policy.HARDENED, nic());
    PropertyConfig config = PropertyConfig.defaults();
    // A fifth of the tries for each owner: together as many as the test above.
    PropertyConfig share = config.tries(Math.max(1, config.tries() / 5));
    for (int owner = 1; owner <= base.guests().size(); owner++) {
      HostSetup setup = base.withDeviceOwner(owner);
      StatefulCheck.run(share, setup::build, () -> null, HostGens.operations(setup), MAX_ACTIONS,
          HostInvariantCheck.all());
    }
  }

  @Test
  void hardenedKeepsEveryInvariantOnGeneratedDevicesAndGuests() {
    // Generated configuration spaces (BARs of every kind, MSI-X anywhere), one to five guests in
    // any paging mode including PV32, the device assigned to any of them. A try costs more (a new
    // device and host layout), so it runs half the tries.
    PropertyConfig config = PropertyConfig.defaults();
    config.tries(Math.max(1, config.tries() / 2)).forAll(
        HostGens.scenarios(HostGens.setups(Policy.HARDENED), 20),
        scenario -> scenario.check(HostInvariantCheck.all()));
  }

  @Test
  void pinnedSuperpageSplitByAnotherMappingIsRevokedPageByPage() {
    // Found by hardenedKeepsEveryInvariantOnGeneratedDevicesAndGuests with -Pcampaign (seed
    // 0x597235000993a0df, try 2891), shrunk to a device with BAR0 at 0xc0000000 (table at + 0:
    // frame 0xc0000; PBA at + 0x1000: frame 0xc0001) and BAR1 at 0xc4000000 (frame 0xc4000):
    //   p2m ept1 0xc4000 0xc0000 2m mmio_direct   (gfns 0xc4000-0xc41ff -> mfns 0xc0000-0xc01ff)
    //   assign dev ept1                            (BAR1: gfn 0xc4000 -> mfn 0xc4000, 4K: the p2m
    //                                               splits the superpage; the other 511 pages keep
    //                                               their frames, with no reverse-map record)
    //   msix prepare dev                           (0xc0000 and 0xc0001 become read-only)
    // Revocation looked at the superpage's first gfn only, found it replaced, and skipped every
    // page: gfn 0xc4001 kept write access to the PBA frame 0xc0001.
    byte[] b = new byte[256];
    b[0x06] = 0x10; // capability list
    b[0x13] = (byte) 0xc0; // BAR0 = 0xc0000000
    b[0x17] = (byte) 0xc4; // BAR1 = 0xc4000000
    b[0x34] = 0x40;
    b[0x40] = 0x11; // MSI-X, 4 entries, table BIR 0 offset 0
    b[0x42] = 0x03;
    b[0x49] = 0x10; // PBA BIR 0 offset 0x1000
    HostSetup setup =
        new HostSetup(Policy.HARDENED, ConfigSpace.of(b), List.of(PagingMode.HVM_EPT), 0);
    Host host = setup.build();
    GuestDomain ept = host.domain(1);
    HostDevice dev = host.devices().get(0);
    assertEquals(0, host.setP2mEntry(ept, 0xc4000, 0xc0000, PageOrder.ORDER_2M,
        P2mType.MMIO_DIRECT));
    assertEquals(0, host.assignDevice(dev, ept));
    assertEquals(0, host.prepareMsix(dev).rc());
    P2mEntry e = new P2mEntry();
    long[][] expected = { // gfn, mfn, writable
      {0xc4000, 0xc4000, 1}, {0xc4001, 0xc0001, 0}, {0xc4002, 0xc0002, 1},
      {0xc41ff, 0xc01ff, 1}, {0xc0000, 0xc0000, 0}, {0xc0001, 0xc0001, 0}
    };
    for (long[] x : expected) {
      assertTrue(ept.p2m().getEntry(x[0], e));
      assertEquals(x[1], e.mfn(), Long.toHexString(x[0]));
      assertEquals(x[2] == 1, ept.p2m().isWritable(e.entry()), Long.toHexString(x[0]));
    }
    assertEquals(List.of(), HostInvariants.check(host));
  }

  @Test
  void theSetUpAloneIsSoundUnderEveryPreset() {
    for (Policy policy : List.of(Policy.HARDENED, Policy.SEED_2010, Policy.XEN_4_22)) {
      Host host = HostSetup.of(policy, nic()).build();
      assertEquals(List.of(), HostInvariants.check(host), policy.toString());
      assertEquals(6, host.domains().size());
      assertTrue(host.domain(0).privileged());
      assertTrue(host.mmioRoRanges().isEmpty(), "nothing is protected before MSI-X");
    }
  }
}
