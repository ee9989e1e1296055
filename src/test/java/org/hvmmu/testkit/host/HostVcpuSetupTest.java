package org.hvmmu.testkit.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.GuestVcpu;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostInvariants;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.host.script.ScenarioParser;
import org.hvmmu.host.script.ScenarioResult;
import org.hvmmu.host.script.ScenarioRunner;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.x86.pv.PageType;
import org.junit.jupiter.api.Test;

/**
 * The set-up whose guests run. The device is {@link HostSetupTest#device()}: MSI-X table at frame
 * 0xc0000, PBA at 0xc0001. Expected frames, lines and translations come from the layout in the
 * class description of {@link HostVcpuSetup}, worked out by hand.
 */
class HostVcpuSetupTest {
  static HostVcpuSetup setup() {
    return HostVcpuSetup.of(Policy.HARDENED, HostSetupTest.device());
  }

  @Test
  void shouldLayOutEachGuestsTables() {
    HostVcpuSetup s = setup();
    assertEquals(List.of(PagingMode.PV, PagingMode.PV32, PagingMode.PV_SHADOW,
        PagingMode.HVM_EPT, PagingMode.HVM_NPT, PagingMode.HVM_SHADOW), s.base().guests());
    assertEquals("pae2.1", s.vcpuName(2, 1));
    assertEquals(List.of(
        new HostVcpuSetup.Table(0x108, PageType.L4_PAGE_TABLE),
        new HostVcpuSetup.Table(0x109, PageType.L4_PAGE_TABLE),
        new HostVcpuSetup.Table(0x10a, PageType.L3_PAGE_TABLE),
        new HostVcpuSetup.Table(0x10b, PageType.L3_PAGE_TABLE),
        new HostVcpuSetup.Table(0x10c, PageType.L2_PAGE_TABLE),
        new HostVcpuSetup.Table(0x10d, PageType.L2_PAGE_TABLE),
        new HostVcpuSetup.Table(0x100, PageType.L1_PAGE_TABLE),
        new HostVcpuSetup.Table(0x101, PageType.L1_PAGE_TABLE)), s.tables(1));
    // PV32: PAE L3 tables on top, the slot-3 L2 tables in the middle.
    assertEquals(List.of(PageType.L3_PAGE_TABLE, PageType.L3_PAGE_TABLE, PageType.L2_PAGE_TABLE,
        PageType.L2_PAGE_TABLE, PageType.L2_PAGE_TABLE, PageType.L2_PAGE_TABLE,
        PageType.L1_PAGE_TABLE, PageType.L1_PAGE_TABLE),
        s.tables(2).stream().map(HostVcpuSetup.Table::level).toList());
    assertEquals(0x209000, s.cr3(2, 1));
    assertEquals(0x408000, s.cr3(4, 0));
    assertEquals(0xc0000, s.msixTableFrame());
    assertEquals(0xc0001, s.pbaFrame());
    assertEquals(0x204000, HostVcpuSetup.linear(1, HostVcpuSetup.SLOT_MSIX_TABLE));
    assertEquals(5, s.domainId("npt5.1"));
    assertThrows(IllegalArgumentException.class, () -> s.vcpuName(0, 0));
    assertThrows(IllegalArgumentException.class, () -> s.vcpuName(1, 2));
    assertThrows(IllegalArgumentException.class, () -> s.domainId("pv9"));
  }

  @Test
  void shouldPrintTheLinesThatBuildTheHost() {
    HostVcpuSetup s = setup();
    List<String> lines = s.scriptLines();
    List<String> base = s.base().scriptLines();
    assertEquals(base, lines.subList(0, base.size()));
    List<String> pv = lines.subList(base.size(), base.size() + 37);
    assertEquals(List.of(
        "iomem pv1 0xfec00-0xfec03",
        "iomem pv1 0xc0000-0xc0001",
        "update pv1 0x100 7 pte(0x100, P US)",
        "update pv1 0x100 8 pte(0x101, P US)",
        "update pv1 0x100 9 pte(0x10c, P US)",
        "update pv1 0x100 10 pte(0x108, P US)",
        "update pv1 0x100 0 pte(0x120, P RW US)",
        "update pv1 0x100 1 pte(0x121, P RW)",
        "update pv1 0x100 2 pte(0x122, P US)",
        "update pv1 0x100 3 pte(0x123, P RW US NX)",
        "update pv1 0x100 4 pte(0xc0000, P RW US)",
        "update pv1 0x100 5 pte(0xc0001, P RW US)",
        "update pv1 0x100 6 pte(0xfec00, P RW US)",
        "write pv1 0x101 7 pte(0x100, P US)"), pv.subList(0, 14));
    assertEquals(List.of(
        "write pv1 0x101 4 pte(0xc0001, P RW US)",
        "write pv1 0x101 5 pte(0xc0000, P RW US)",
        "write pv1 0x101 6 pte(0xfec01, P RW US)",
        "write pv1 0x10c 0 pte(0x100, P RW US)",
        "write pv1 0x10c 1 pte(0x101, P RW US)",
        "write pv1 0x10a 0 pte(0x10c, P RW US)",
        "write pv1 0x108 0 pte(0x10a, P RW US)",
        "write pv1 0x10d 1 pte(0x100, P RW US)",
        "write pv1 0x10d 0 pte(0x101, P RW US)",
        "write pv1 0x10b 0 pte(0x10d, P RW US)",
        "write pv1 0x109 0 pte(0x10b, P RW US)",
        "pin pv1 0x108 l4",
        "vcpu pv1.0 pv1",
        "vcpu pv1.1 pv1",
        "mmuext pv1.0 new-baseptr 0x108",
        "mmuext pv1.1 new-baseptr 0x109"), pv.subList(21, 37));
    assertTrue(lines.contains("write pae2 0x208 0 pte(0x20c, P)"));
    assertTrue(lines.contains("write pae2 0x208 3 pte(0x20a, P)"));
    assertTrue(lines.contains("pin pae2 0x208 l3"));
    // L1 table P of ept4 is gfn 0x400: its slot 7 maps itself P RW.
    assertTrue(lines.contains("poke ept4 0x400038 8 0x400003"));
    assertEquals(List.of(
        "vcpu hvs6.0 hvs6",
        "vcpu hvs6.1 hvs6",
        "cr hvs6.0 cr0=0x80050033 cr3=0x608000 cr4=0xa0 efer=0xd00",
        "cr hvs6.1 cr0=0x80050033 cr3=0x609000 cr4=0xa0 efer=0xd00"),
        lines.subList(lines.size() - 4, lines.size()));
  }

  @Test
  void everyGuestShouldRunOnItsOwnTables() {
    HostVcpuSetup s = setup();
    Host host = s.build();
    assertEquals(List.of(), HostInvariants.check(host));
    int[] vcpus = {0, 2, 2, 3, 2, 2, 3}; // a shadowed guest's table layer made one more
    for (int id : s.guestIds()) {
      assertEquals(vcpus[id], host.domain(id).vcpus().size(), s.base().name(id));
    }
    // pv1: tree A maps linear 0 through L1 table P to data frame 0x120, tree B through Q to 0x124.
    assertEquals(0x120000, s.vcpu(host, 1, 0).translate(0, Access.READ));
    assertEquals(0x124000, s.vcpu(host, 1, 1).translate(0, Access.READ));
    assertEquals(PageType.L4_PAGE_TABLE, host.frames().pageType(0x109));
    assertEquals(PageType.L3_PAGE_TABLE, host.frames().pageType(0x10b));
    assertEquals(PageType.L1_PAGE_TABLE, host.frames().pageType(0x101));
    // pae2.0: window 1 of tree A is L1 table Q, whose slot 4 maps the PBA.
    assertEquals(0xc0001000L, s.vcpu(host, 2, 0).translate(0x204000, Access.READ));
    assertEquals(PageType.L3_PAGE_TABLE, host.frames().pageType(0x209));
    // pvs3.1: window 0 of tree B is Q, whose slot 5 maps the MSI-X table.
    assertEquals(0xc0000000L, s.vcpu(host, 3, 1).translate(0x5000, Access.READ));
    // ept4.0: slot 9 of P maps L2 table A (gfn = mfn 0x40c), at entry 1.
    assertEquals(0x40c008, s.vcpu(host, 4, 0).translate(0x9008, Access.READ));
    // npt5.1: slot 10 of Q maps top-level table B.
    assertEquals(0x509000, s.vcpu(host, 5, 1).translate(0xa000, Access.WRITE));
    // hvs6.0: slot 1 of P, supervisor-only data frame 0x621; a user access is refused (P|U).
    assertEquals(0x621000, s.vcpu(host, 6, 0).translate(0x1000, Access.WRITE));
    GuestVcpu hvs = s.vcpu(host, 6, 0);
    hvs.read(0x1000, 8, Access.USER);
    assertEquals(Fault.of(FaultKind.PAGE_FAULT, 0x5), hvs.lastFault());
    // Nothing at L2 slot 2: a supervisor read of a page not present.
    GuestVcpu ept = s.vcpu(host, 4, 1);
    ept.read(0x40_0000L, 8, Access.READ);
    assertEquals(Fault.of(FaultKind.PAGE_FAULT, 0), ept.lastFault());
    assertEquals(0x40_0000L, ept.cpu().cr2());
    assertEquals(List.of(), HostInvariants.check(host));
  }

  @Test
  void aPvStoreIntoItsOwnL1TableShouldBeEmulatedAndValidated() {
    HostVcpuSetup s = setup();
    Host host = s.build();
    GuestVcpu v = s.vcpu(host, 1, 0);
    // Slot 7 of L1 table P maps P itself read-only: entry 11 is at 0x7000 + 8 * 11 = 0x7058.
    assertEquals(0, v.write(0x7058, 8, 0x127007, Access.READ));
    // Xen's ptwr validated it: a frame of the guest; adjust_guest_l1e makes a user page of a
    // 64-bit PV guest global (G, 0x100).
    assertEquals(0x127107, host.pvMmu().readEntry(0x100, 11));
    assertEquals(0x127000, v.translate(0xb000, Access.WRITE));
    // The MSI-X table is not protected yet: mapped writable (and made uncached, XSA-154).
    assertEquals(0xc0000000L, v.translate(0x4000, Access.WRITE));
    assertEquals(List.of(), HostInvariants.check(host));
  }

  @Test
  void theScriptShouldBuildTheSameHost() {
    HostVcpuSetup s = setup();
    Host built = s.build();
    ScenarioResult replay = ScenarioRunner.forcing(Policy.HARDENED).run(
        ScenarioParser.parse("setup", String.join("\n", s.scriptLines()) + "\n"));
    assertEquals(List.of(), replay.failures());
    Host replayed = replay.host();
    assertEquals(List.of(), HostInvariants.check(replayed));
    for (int id : s.guestIds()) {
      assertEquals(built.domain(id).vcpus().size(), replayed.domain(id).vcpus().size());
      for (int k = 0; k < HostVcpuSetup.VCPUS; k++) {
        List<Long> a = new ArrayList<>();
        List<Long> b = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
          for (int slot = 0; slot <= HostVcpuSetup.SLOT_EMPTY; slot++) {
            a.add(s.vcpu(built, id, k).translate(HostVcpuSetup.linear(w, slot), Access.READ));
            b.add(s.vcpu(replayed, id, k).translate(HostVcpuSetup.linear(w, slot), Access.READ));
          }
        }
        assertEquals(a, b, s.vcpuName(id, k));
        assertEquals(s.vcpu(built, id, k).guestRegisters().cr3(),
            s.vcpu(replayed, id, k).guestRegisters().cr3());
      }
    }
  }
}
