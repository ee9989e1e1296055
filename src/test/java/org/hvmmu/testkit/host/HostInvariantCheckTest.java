package org.hvmmu.testkit.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostInvariants;
import org.hvmmu.host.Policy;
import org.hvmmu.x86.Pte;
import org.junit.jupiter.api.Test;

class HostInvariantCheckTest {
  /** Under the seed's policy dom0's existing writable mapping of a newly protected frame stays. */
  static Host brokenHost() {
    Host host = HostSetup.of(Policy.SEED_2010.withPv(Policy.HARDENED.pv()),
        HostSetupTest.device()).build();
    assertEquals(0, host.mmuUpdate(host.domain(0), 0xc0, 5, Pte.fromMfn(0xfec01, 0x3)));
    assertEquals(0, host.protect("ioapic", 0xfec01, 0xfec01));
    return host;
  }

  @Test
  void shouldPassASoundHost() {
    Host host = HostSetup.of(Policy.HARDENED, HostSetupTest.device()).build();
    HostInvariantCheck.all().assertHolds(host);
    HostInvariantCheck.all().accept(host, "any model");
    assertEquals(List.of(), HostInvariantCheck.all().violations(host));
  }

  @Test
  void shouldListEveryViolation() {
    Host host = brokenHost();
    HostInvariantError error =
        assertThrows(HostInvariantError.class, () -> HostInvariantCheck.all().assertHolds(host));
    assertEquals(List.of(HostInvariants.WRITABLE_READ_ONLY_MMIO), List.copyOf(error.invariants()));
    assertEquals(1, error.violations().size());
    assertEquals(0xfec01, error.violations().get(0).mfn());
    assertEquals(0xc0, error.violations().get(0).where());
    assertEquals(5, error.violations().get(0).slot());
    assertTrue(error.getMessage().startsWith("1 host invariant violation:\n  writable-read-only-mmio: d0"),
        error.getMessage());
    assertEquals(1, error.violationsOf(HostInvariants.WRITABLE_READ_ONLY_MMIO).size());
    assertEquals(0, error.violationsOf(HostInvariants.COUNTS).size());
  }

  @Test
  void shouldCheckOnlyTheNamedInvariants() {
    Host host = brokenHost();
    HostInvariantCheck.only(HostInvariants.UNPROTECTED_MSIX, HostInvariants.COUNTS)
        .assertHolds(host);
    assertEquals(1, HostInvariantCheck.only(HostInvariants.WRITABLE_READ_ONLY_MMIO)
        .violations(host).size());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> HostInvariantCheck.only("no-such"));
    assertEquals("unknown invariant 'no-such' (expected: writable-read-only-mmio, "
        + "unprotected-msix, counts, tlb-writable-read-only-mmio, msix-table-integrity, "
        + "interrupt-provenance)", e.getMessage());
    assertEquals("HostInvariantCheck[writable-read-only-mmio, unprotected-msix, counts, "
        + "tlb-writable-read-only-mmio, msix-table-integrity, interrupt-provenance]",
        HostInvariantCheck.everyInvariant().toString());
    assertEquals("HostInvariantCheck[writable-read-only-mmio, unprotected-msix, counts]",
        HostInvariantCheck.all().toString());
    assertThrows(IllegalArgumentException.class, HostInvariantCheck::only);
    assertThrows(IllegalArgumentException.class, () -> new HostInvariantError(List.of()));
  }
}
