package org.hvmmu.testkit.host;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.hvmmu.host.GuestDomain;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostInvariants;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.x86.pv.PageType;
import org.junit.jupiter.api.Test;

class HostSetupTest {
  /**
   * A small device: BAR0 32-bit memory at 0xc0000000, MSI-X at 0x40 with 4 entries (control 3),
   * table at BAR0 + 0 (frame 0xc0000), PBA at BAR0 + 0x1000 (frame 0xc0001).
   */
  static ConfigSpace device() {
    byte[] b = new byte[256];
    b[0x06] = 0x10; // status: capability list
    b[0x13] = (byte) 0xc0; // BAR0 = 0xc0000000
    b[0x34] = 0x40;
    b[0x40] = 0x11;
    b[0x42] = 0x03;
    b[0x49] = 0x10; // PBA offset 0x1000, BIR 0
    return ConfigSpace.of(b);
  }

  @Test
  void shouldPrintTheLinesThatBuildTheHost() {
    HostSetup setup = new HostSetup(Policy.HARDENED, device(),
        List.of(PagingMode.PV, PagingMode.HVM_SHADOW), 2);
    List<String> lines = setup.scriptLines();
    List<String> expected = new ArrayList<>(List.of(
        "# hvmmu testkit host set-up; policy: hardened",
        "host frames 0x1000 policy hardened",
        "device dev hex"));
    assertEquals(expected, lines.subList(0, 3));
    assertEquals("00: 00 00 00 00 00 00 10 00 00 00 00 00 00 00 00 00", lines.get(3));
    assertEquals("end", lines.get(19));
    assertEquals(List.of(
        "domain dom0 0 pv privileged",
        "ram dom0 0xc0-0xff",
        "iomem dom0 0xfec00-0xfec03",
        "iomem dom0 0xc0000-0xc0001",
        "pin dom0 0xc0",
        "domain pv1 1 pv",
        "ram pv1 0x100-0x1ff",
        "pin pv1 0x100",
        "domain hvs2 2 hvm-shadow",
        "ram hvs2 0x200-0x2ff",
        "table hvs2",
        "table hvs2",
        "assign dev hvs2"), lines.subList(20, lines.size()));
  }

  @Test
  void shouldBuildWhatItPrints() {
    HostSetup setup = new HostSetup(Policy.HARDENED, device(),
        List.of(PagingMode.PV, PagingMode.HVM_SHADOW), 2);
    Host host = setup.build();
    assertEquals(3, host.domains().size());
    GuestDomain dom0 = host.domain(0);
    assertTrue(dom0.privileged());
    assertEquals(0x40, dom0.ramFrames());
    assertEquals(PageType.L1_PAGE_TABLE, host.frames().pageType(0xc0));
    assertEquals(PageType.L1_PAGE_TABLE, host.frames().pageType(0x100));
    assertEquals(1, host.frames().owner(0x1ff));
    assertEquals(2, host.domain(2).guestTableCount());
    assertEquals(host.domain(2), host.devices().get(0).owner());
    assertTrue(dom0.mmuView().iomemCaps().containsSingleton(0xfec03));
    assertTrue(dom0.mmuView().iomemCaps().containsSingleton(0xc0001));
    assertFalse(host.domain(1).mmuView().iomemCaps().containsSingleton(0xfec00));
    assertTrue(host.domain(2).mmuView().iomemCaps().containsSingleton(0xc0000));
    assertEquals(List.of(), HostInvariants.check(host));
    assertArrayEquals(new long[] {0xc0000, 0xc0001}, setup.barFrames());
  }

  @Test
  void shouldNameDomainsByModeAndId() {
    HostSetup setup = new HostSetup(Policy.SEED_2010, device(), List.of(PagingMode.PV32,
        PagingMode.PV_SHADOW, PagingMode.HVM_EPT, PagingMode.HVM_NPT, PagingMode.HVM_SHADOW,
        PagingMode.PV), 0);
    List<String> names = new ArrayList<>();
    for (int id : setup.domainIds()) {
      names.add(setup.name(id));
    }
    assertEquals(List.of("dom0", "pae1", "pvs2", "ept3", "npt4", "hvs5", "pv6"), names);
    assertEquals(0x600, setup.ramFirst(6));
    assertEquals(0x6ff, setup.ramLast(6));
    assertEquals("host frames 0x1000 policy seed-2010", setup.scriptLines().get(1));
  }

  @Test
  void shouldRejectBadShapes() {
    assertThrows(IllegalArgumentException.class,
        () -> new HostSetup(Policy.HARDENED, device(), List.of(PagingMode.PV), 2));
    assertThrows(IllegalArgumentException.class, () -> new HostSetup(Policy.HARDENED, device(),
        Collections.nCopies(HostSetup.MAX_GUESTS + 1, PagingMode.PV), 0));
    assertThrows(IllegalArgumentException.class,
        () -> HostSetup.of(Policy.HARDENED, device()).name(6));
  }

  @Test
  void shouldBuildHostsThatShareNothing() {
    HostSetup setup = HostSetup.of(Policy.HARDENED, device());
    Host a = setup.build();
    Host b = setup.build();
    assertEquals(0, a.protect("ioapic", 0xfec00, 0xfec00));
    assertTrue(a.mmioRoRanges().containsSingleton(0xfec00));
    assertTrue(b.mmioRoRanges().isEmpty());
  }
}
