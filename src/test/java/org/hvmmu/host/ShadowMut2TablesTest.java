package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.Access;
import org.hvmmu.p2m.shadow.ShadowL1e;
import org.hvmmu.x86.Pte;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The numbered guest tables over shadow paging ({@link ShadowTables}), pinned from the layer's
 * own description and the SDM: the loader takes the domain's highest free RAM frames (L4, L3, L2,
 * the window, then one per table), zeroes each whole frame (512 eight-byte entries, SDM vol. 3A
 * 4.5, and not one byte more), and runs out with an {@link IllegalStateException}; there are at
 * most 508 tables (window slots 4 to 511); the guest's store of an entry is followed by its INVLPG
 * of the address the entry maps (SDM vol. 3A 4.10.4.1: without it the processor may keep using
 * the old translation; Xen does not flush for a guest L1 change) and, for a present entry, a touch
 * that builds the shadow entry at once. Frame numbers are counted by hand from the guest's RAM.
 */
class ShadowMut2TablesTest {
  static final int RW_USER = 0x7;

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void aDomainWithoutEnoughRamShouldBeRefused(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain none = host.createDomain(1, mode, false);
    assertThrows(IllegalStateException.class, () -> host.newGuestTable(none));
    // Four frames: the tree and the window fit, table 0 does not.
    GuestDomain four = host.createDomain(2, mode, false);
    assertEquals(0, host.giveRam(four, 0x100, 0x103));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> host.newGuestTable(four));
    assertTrue(e.getMessage().contains("no free RAM frame"), e.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void frameZeroShouldServeAsATable(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0, 4));
    assertEquals(0, host.newGuestTable(d));
    assertEquals(0, d.guestTableFrame(0), "L4 4, L3 3, L2 2, window 1, table 0 at frame 0");
    assertEquals(4L << 12, d.vcpus().get(0).guestRegisters().cr3());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void theLoaderShouldZeroExactlyEachNewFrame(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    // Old contents in the frames the layer will take (0x1ff down to 0x1fa).
    for (long f = 0x1fa; f <= 0x1ff; f++) {
      for (int s = 0; s < 512; s++) {
        host.writeGuestPhysical(d, (f << 12) + 8L * s, 8, 0xDEAD_0000L + s);
      }
    }
    host.writeGuestPhysical(d, 0x1f9L << 12, 8, 0xBEEF); // the next frame down: not taken
    assertEquals(0, host.newGuestTable(d));
    assertEquals(0x1fb, d.guestTableFrame(0));
    // The tree: L4[0] -> L3, L3[1] -> L2, L2[511] -> window, window[0..3] -> L4, L3, L2, window,
    // window[4] -> table 0; every other entry zero. (The walks set A, and D on the written.)
    long[] l4 = entries(host, d, 0x1ff);
    long[] l3 = entries(host, d, 0x1fe);
    long[] l2 = entries(host, d, 0x1fd);
    long[] window = entries(host, d, 0x1fc);
    assertEquals((0x1feL << 12) | RW_USER, l4[0] & ~0x60L);
    assertEquals((0x1fdL << 12) | RW_USER, l3[1] & ~0x60L);
    assertEquals((0x1fcL << 12) | RW_USER, l2[511] & ~0x60L);
    for (int i = 0; i < 4; i++) {
      assertEquals(((0x1ffL - i) << 12) | 0x3, window[i] & ~0x60L, "window " + i);
    }
    assertEquals((0x1fbL << 12) | 0x3, window[4] & ~0x60L);
    assertEquals((0x1fbL << 12) | RW_USER, l2[0] & ~0x60L, "L2[0] -> table 0");
    for (int s = 0; s < 512; s++) {
      assertEquals(s == 0 ? l4[0] : 0, l4[s], "L4 " + s);
      assertEquals(s == 1 ? l3[1] : 0, l3[s], "L3 " + s);
      assertEquals(s == 0 || s == 511 ? l2[s] : 0, l2[s], "L2 " + s);
      assertEquals(s <= 4 ? window[s] : 0, window[s], "window " + s);
      assertEquals(0, d.guestEntry(0, s), "table 0 " + s);
    }
    // Table 0 has an entry; table 1 takes 0x1fa and zeroes it, not table 0's first entry.
    host.shadowWrite(d, 0, 0, Pte.fromMfn(0x150, RW_USER));
    assertEquals(Pte.fromMfn(0x150, 0x67), d.guestEntry(0, 0));
    assertEquals(1, host.newGuestTable(d));
    assertEquals(0x1fa, d.guestTableFrame(1));
    for (int s = 0; s < 512; s++) {
      assertEquals(0, d.guestEntry(1, s), "table 1 " + s);
    }
    assertEquals(Pte.fromMfn(0x150, 0x67), d.guestEntry(0, 0));
    assertEquals(0xBEEFL, host.readGuestPhysical(d, 0x1f9L << 12, 8));
  }

  static long[] entries(Host host, GuestDomain d, long frame) {
    long[] out = new long[512];
    for (int s = 0; s < 512; s++) {
      out[s] = host.readGuestPhysical(d, (frame << 12) + 8L * s, 8);
    }
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void thereShouldBeAtMost508Tables(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x3ff));
    for (int n = 0; n < 508; n++) {
      assertEquals(n, host.newGuestTable(d));
    }
    assertEquals(508, d.guestTableCount());
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> host.newGuestTable(d));
    assertTrue(e.getMessage().contains("508"), e.getMessage());
    assertEquals(508, d.guestTableCount());
    // The last table works like the first.
    host.shadowWrite(d, 507, 3, Pte.fromMfn(0x120, RW_USER));
    assertEquals(Pte.fromMfn(0x120, 0x67), d.shadowEntry(507, 3));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void aRewrittenEntryShouldBeInvalidatedAndTouched(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    host.writeGuestPhysical(d, 0x150L << 12, 8, 0xA150);
    host.writeGuestPhysical(d, 0x151L << 12, 8, 0xA151);
    assertEquals(0, host.newGuestTable(d));
    GuestVcpu v = d.vcpus().get(0);
    assertSame(v, d.shadow().tables.vcpu());
    long la = ShadowTables.TABLES_LA + 7 * 0x1000L;
    // A present entry is touched at once: the shadow entry exists before any access of the test.
    assertEquals(ShadowL1e.SHADOW_SET_CHANGED, host.shadowWrite(d, 0, 7, Pte.fromMfn(0x150,
        RW_USER)));
    assertEquals(Pte.fromMfn(0x150, 0x67), d.shadowEntry(0, 7));
    assertEquals(0xA150L, v.read(la, 8, Access.USER));
    // The entry moves to 0x151: the guest's INVLPG drops the cached translation of 0x150.
    host.shadowWrite(d, 0, 7, Pte.fromMfn(0x151, RW_USER));
    assertEquals(Pte.fromMfn(0x151, 0x67), d.shadowEntry(0, 7));
    assertEquals(0xA151L, v.read(la, 8, Access.USER));
    assertEquals(0, v.write(la, 8, 0xB151, Access.USER));
    assertEquals(0xB151L, host.readGuestPhysical(d, 0x151L << 12, 8));
    assertEquals(0xA150L, host.readGuestPhysical(d, 0x150L << 12, 8));
    // A read-only entry is touched with a read only: the shadow entry is present, A set, no D.
    host.shadowWrite(d, 0, 8, Pte.fromMfn(0x152, 0x5));
    assertEquals(Pte.fromMfn(0x152, 0x25), d.shadowEntry(0, 8));
  }
}
