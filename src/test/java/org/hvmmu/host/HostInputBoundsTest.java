package org.hvmmu.host;

import static java.time.Duration.ofSeconds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.hvmmu.host.script.Failure;
import org.hvmmu.host.script.ScenarioParser;
import org.hvmmu.host.script.ScenarioResult;
import org.hvmmu.host.script.ScenarioRunner;
import org.hvmmu.mmu.memory.RegionKind;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.pci.ConfigBuilder;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 15: every frame a user or guest gives has a bound and a typed answer at it (frames up to ~0,
 * huge ranges, guest frames beyond the p2m).
 */
class HostInputBoundsTest {
  /** The policies by name, for parameterised tests. */
  enum PolicyName {
    SEED_2010(Policy.SEED_2010), HARDENED(Policy.HARDENED), XEN_4_22(Policy.XEN_4_22);

    private final Policy policy;

    PolicyName(Policy policy) {
      this.policy = policy;
    }

    Policy policy() {
      return policy;
    }
  }

  private static ScenarioResult run(Policy policy, String script) {
    return ScenarioRunner.forcing(policy).run(ScenarioParser.parse("t", script));
  }

  private static List<Integer> failedLines(ScenarioResult r) {
    return r.failures().stream().map(Failure::line).toList();
  }

  /** D1: frame ~0 was the reverse map's "empty" key; its node was freed while still linked. */
  @Test
  void protectingFrameAllOnesShouldNotCorruptTheReverseMap() {
    String script = String.join("\n",
        "domain g 1 hvm-ept",
        "iomem g 0xfec00",
        "protect r 0xffffffffffffffff",
        "expect rc 0",
        "iomem g 0xfec01",
        "protect ioapic 0xfec00",
        "expect read-only g p2m 0xfec00",
        "expect writable g p2m 0xfec01",
        "expect invariants hold");
    ScenarioResult r = assertTimeoutPreemptively(ofSeconds(20), () -> run(Policy.HARDENED, script));
    assertEquals(List.of(), failedLines(r));
  }

  /** D1 on an empty host: the scan of frame ~0 used to loop until the heap was gone. */
  @Test
  void protectingFrameAllOnesOnAnEmptyHostShouldReturn() {
    ScenarioResult r = assertTimeoutPreemptively(ofSeconds(20), () -> run(Policy.HARDENED,
        "protect r 0xffffffffffffffff\nexpect protected 0xffffffffffffffff\n"));
    assertEquals(List.of(), failedLines(r));
  }

  /** D2: revocation probed every frame of the range under the host lock. */
  @Test
  void protectingHugeRangesShouldCostTheMappings() {
    String script = String.join("\n",
        "domain g 1 hvm-ept",
        "iomem g 0xfec00-0xfec01",
        "protect r 0-0xffffffff",
        "expect read-only g p2m 0xfec00",
        "expect read-only g p2m 0xfec01",
        "protect s 0-0xfffffffffffffffe",
        "expect rc 0",
        "protect t 0-0xffffffffffffffff",
        "expect rc 0",
        "expect protected 0-0xffffffffffffffff",
        "expect invariants hold");
    ScenarioResult r = assertTimeoutPreemptively(ofSeconds(10), () -> run(Policy.HARDENED, script));
    assertEquals(List.of(), failedLines(r));
  }

  /** D5: a guest entry whose frame is beyond the p2m is a frame the p2m does not map. */
  @ParameterizedTest
  @EnumSource(names = {"SEED_2010", "HARDENED", "XEN_4_22"})
  void aShadowedEntryBeyondTheP2mShouldNotBePresent(PolicyName name) {
    Policy policy = name.policy();
    String script = String.join("\n",
        "domain g 1 hvm-shadow",
        "ram g 0x100-0x1ff",
        "table g",
        "shadow g 0 0 pte(0x1000000000, P)",
        "shadow g 0 1 pte(0xfffffffff, P RW)",
        "shadow g 0 2 pte(0xffffffffff, P RW)",
        "shadow g 0 3 pte(0x150, P RW)",
        "expect read-only g shadow 0 0",
        "expect read-only g shadow 0 2",
        "expect writable g shadow 0 3",
        "expect invariants hold");
    ScenarioResult r = assertTimeoutPreemptively(ofSeconds(10), () -> run(policy, script));
    assertEquals(List.of(), failedLines(r));
    GuestDomain g = r.host().domain(1);
    // The guest's table holds what it wrote; the shadows are not present (Xen's invalid p2m entry).
    assertEquals(0x1000000000001L, g.guestEntry(0, 0) & ~0x60L); // A and D aside
    assertEquals(0xffffffffff003L, g.guestEntry(0, 2) & ~0x60L);
    assertEquals(0, g.shadowEntry(0, 0) & 1);
    assertEquals(0, g.shadowEntry(0, 1) & 1);
    assertEquals(0, g.shadowEntry(0, 2) & 1);
    assertEquals(0x150L, g.shadowEntry(0, 3) >>> 12 & 0xfffffffffL);
  }

  /** D7: a range beyond the p2m threw, and the script form spent 40 s and 1.5 GB first. */
  @Test
  void iomemBeyondTheMachineShouldBeRefusedAtOnceWithNothingChanged() {
    String script = String.join("\n",
        "domain g 1 hvm-ept",
        "iomem g 0-0xffffffffff",
        "expect rc -EINVAL",
        "iomem g 0x400000000",
        "expect rc -EINVAL",
        "iomem g 0x3ffffffff",
        "expect rc 0",
        "expect writable g p2m 0x3ffffffff",
        "expect read-only g p2m 0",
        "expect read-only g p2m 0x400000000",
        "expect read-only g p2m 0xffffffffffffffff",
        "expect invariants hold");
    ScenarioResult r = assertTimeoutPreemptively(ofSeconds(10), () -> run(Policy.HARDENED, script));
    assertEquals(List.of(), failedLines(r));
    GuestDomain g = r.host().domain(1);
    assertFalse(g.mmuView().iomemCaps().containsSingleton(0), "no half-granted range");
    assertTrue(g.mmuView().iomemCaps().containsSingleton(0x3ffffffffL));
  }

  @Test
  void grantIomemShouldCheckTheRangeAsXenDoes() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain hvm = host.createDomain(1, PagingMode.HVM_NPT, false);
    GuestDomain pv = host.createDomain(2, PagingMode.PV, false);
    assertEquals(-Errno.EINVAL, host.grantIomem(hvm, 5, 4), "wraps");
    assertEquals(-Errno.EINVAL, host.grantIomem(pv, -1, 0), "wraps");
    assertEquals(-Errno.EINVAL, host.grantIomem(hvm, 0, -1), "beyond 46 bits");
    assertEquals(-Errno.EINVAL, host.grantIomem(hvm, 1L << 34, 1L << 34), "beyond 46 bits");
    assertFalse(hvm.mmuView().iomemCaps().containsSingleton(0));
    // XEN_DOMCTL_iomem_permission has no width check: a PV domain's caps take any range.
    assertEquals(0, assertTimeoutPreemptively(ofSeconds(5), () -> host.grantIomem(pv, 0, -1)));
    assertTrue(pv.mmuView().iomemCaps().containsSingleton(-1));
  }

  @Test
  void assigningADeviceWithABarBeyondTheMachineShouldChangeNothing() {
    // BAR 0: 64-bit memory at 0x4000_0000_0000 (frame 2^34, beyond 46 bits); BAR 2 at 0xfe000000.
    PciDevice pci = new PciDevice(new PciAddress(0, 3, 0, 0), ConfigBuilder.normal()
        .set16(0, 0x8086)
        .set16(2, 0x10c9)
        .bar(2, 0xfe000000L)
        .bar(0, 0x4L)
        .bar(1, 0x4000L)
        .build(), "test");
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain hvm = host.createDomain(1, PagingMode.HVM_EPT, false);
    HostDevice dev = host.addDevice(pci);
    assertEquals(List.of(1L << 34, 1L << 34, 0xfe000L, 0xfe000L),
        Arrays.stream(dev.barFrames()).boxed().toList(), "the BARs as this test means them");
    assertEquals(-Errno.EINVAL, host.assignDevice(dev, hvm));
    assertNull(dev.owner());
    assertFalse(hvm.mmuView().iomemCaps().containsSingleton(0xfe000));
    assertEquals(0, hvm.mmuView().assignedDeviceCount());
    assertEquals(List.of(), HostInvariants.check(host));
  }

  /**
   * A 1-GByte mmio_direct leaf, then frames inside it protected: splitting it derived read-only
   * 2-MByte children, which Xen's EPT code asserts against (HypervisorBugException); hardened now
   * removes the leaf and maps its pages anew as 4-KByte leaves.
   */
  @Test
  void protectingFramesInsideAGigabyteGrantShouldRevokeThemPageByPage() {
    String script = String.join("\n",
        "domain g 1 hvm-ept",
        "iomem g 0x40000-0x7ffff",
        "protect r 0x40000-0x401ff",
        "expect read-only g p2m 0x40000",
        "expect read-only g p2m 0x401ff",
        "expect writable g p2m 0x40200",
        "expect writable g p2m 0x7ffff",
        "expect invariants hold");
    ScenarioResult r = assertTimeoutPreemptively(ofSeconds(30), () -> run(Policy.HARDENED, script));
    assertEquals(List.of(), failedLines(r));
  }

  /**
   * The largest grant a translated domain can have (every frame below 2^34: 65,536 1-GByte leaves),
   * then every frame protected, in a p2m of 256 table pages: the leaves cannot all be re-mapped as
   * 4-KByte ones; what cannot be is left unmapped, not writable, and the work stops at the p2m's
   * capacity instead of visiting 2^34 pages.
   */
  @Test
  void protectingAllOfTheLargestGrantShouldEndWithNoWritableReadOnlyFrame() {
    Host host = new Host(0x1000, Policy.HARDENED, CpuFeatures.ALL, 256);
    GuestDomain g = host.createDomain(1, PagingMode.HVM_EPT, false);
    assertTimeoutPreemptively(ofSeconds(30), () -> {
      assertEquals(0, host.grantIomem(g, 0, (1L << 34) - 1));
      assertEquals(0, host.protect("r", 0, -1));
    });
    assertEquals(List.of(), HostInvariants.check(host));
    P2mEntry e = new P2mEntry();
    for (long gfn : new long[] {0, 1, 0x3ffff, 0x40000, (1L << 34) - 1}) {
      assertFalse(g.p2m().getEntry(gfn, e) && g.p2m().isWritable(e.entry()),
          "gfn 0x" + Long.toHexString(gfn));
    }
  }

  /**
   * mmio_ro_ranges is for MMIO: a RAM mapping never consults it, so a protection holding RAM could
   * not be kept (found by the edge ranges: protect 0-0xffffffff left every guest's RAM "read-only
   * MMIO" and writable). Such a range, and RAM given inside protected frames, are refused.
   */
  @Test
  void protectingRamShouldBeRefusedWithNothingChanged() {
    String script = String.join("\n",
        "domain g 1 hvm-ept",
        "ram g 0x100-0x1ff",
        "protect r 0-0xffffffff",
        "expect rc -EINVAL",
        "protect r 0x1ff-0x200",
        "expect rc -EINVAL",
        "protect r 0x200-0xffffffffffffffff",
        "expect rc 0",
        "protect r 0-0xff",
        "expect rc 0",
        "expect unprotected 0x100-0x1ff",
        "expect protected 0x200",
        "ram g 0x200",
        "expect rc -EINVAL",
        "expect writable g p2m 0x1ff",
        "expect invariants hold");
    ScenarioResult r = assertTimeoutPreemptively(ofSeconds(10), () -> run(Policy.HARDENED, script));
    assertEquals(List.of(), failedLines(r));
    assertEquals(0x100, r.host().domain(1).ramFrames());
  }

  /**
   * A BAR over another device's BAR is claimed around it, region by region (it was frame by frame:
   * a 64-bit BAR may span 2^34 frames). Device A: 4 KiB at 0xfe000000; device B: 8 MiB at
   * 0xfdc00000 (frames 0xfdc00-0xfe3ff), added second.
   */
  @Test
  void aBarOverAnotherShouldBeClaimedAroundIt() {
    Host host = new Host(0x1000, Policy.HARDENED);
    host.addDevice(new PciDevice(new PciAddress(0, 3, 0, 0),
        ConfigBuilder.normal().set16(0, 0x8086).bar(0, 0xfe000000L).build(), "a",
        new long[] {0x1000}));
    host.addDevice(new PciDevice(new PciAddress(0, 4, 0, 0),
        ConfigBuilder.normal().set16(0, 0x8086).bar(0, 0xfdc00004L).bar(1, 0).build(), "b",
        new long[] {0x800000}));
    List<String> mmio = new ArrayList<>();
    host.machine().forEachRegion((f, l, kind) -> {
      if (kind == RegionKind.MMIO) {
        mmio.add(Long.toHexString(f) + "-" + Long.toHexString(l));
      }
    });
    assertEquals(List.of("fdc00-fdfff", "fe000-fe000", "fe001-fe3ff"), mmio);
  }
}
