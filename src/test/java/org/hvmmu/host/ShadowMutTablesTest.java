package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hvmmu.x86.Pte;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The argument checks of the numbered guest tables over shadow paging ({@link
 * Host#newGuestTable}, {@link Host#shadowWrite}, {@link GuestDomain#guestEntry}, {@link
 * GuestDomain#shadowEntry}): a table is 0 to count - 1, a slot 0 to 511 (an x86 page table has
 * 512 eight-byte entries, SDM vol. 3A 4.5), and a crashed domain takes no more tables or entries
 * ({@code domain_crash}).
 */
class ShadowMutTablesTest {

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void tablesAndSlotsShouldBeCheckedAtBothEnds(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, d.guestTableCount());
    assertThrows(IllegalArgumentException.class, () -> d.guestEntry(0, 0));
    assertEquals(0, host.newGuestTable(d));
    assertEquals(1, d.guestTableCount());
    long entry = Pte.fromMfn(0x150, 0x7);
    host.shadowWrite(d, 0, 511, entry);
    assertEquals(entry, d.guestEntry(0, 511) & ~0x60L); // A and D are the walk's
    host.shadowWrite(d, 0, 0, entry);
    assertEquals(entry, d.guestEntry(0, 0) & ~0x60L);
    for (int slot : new int[] {-1, 512}) {
      assertThrows(IllegalArgumentException.class, () -> host.shadowWrite(d, 0, slot, entry));
      assertThrows(IllegalArgumentException.class, () -> d.guestEntry(0, slot));
      assertThrows(IllegalArgumentException.class, () -> d.shadowEntry(0, slot));
    }
    for (int table : new int[] {-1, 1}) {
      assertThrows(IllegalArgumentException.class, () -> host.shadowWrite(d, table, 0, entry));
      assertThrows(IllegalArgumentException.class, () -> d.guestEntry(table, 0));
    }
    host.crashDomain(d);
    assertThrows(IllegalStateException.class, () -> host.shadowWrite(d, 0, 1, entry));
    assertThrows(IllegalStateException.class, () -> host.newGuestTable(d));
  }
}
