package org.hvmmu.mmu.xen;

import static org.hvmmu.mmu.xen.WalkFixture.A;
import static org.hvmmu.mmu.xen.WalkFixture.D;
import static org.hvmmu.mmu.xen.WalkFixture.L1_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.L2_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.L3_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.L4_FRAME;
import static org.hvmmu.mmu.xen.WalkFixture.L4_SLOT;
import static org.hvmmu.mmu.xen.WalkFixture.P;
import static org.hvmmu.mmu.xen.WalkFixture.RW;
import static org.hvmmu.mmu.xen.WalkFixture.US;
import static org.hvmmu.mmu.xen.WalkFixture.VA4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.host.Policy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code guest_walk_tables} of Xen 4.22 ({@code xen/arch/x86/mm/guest_walk.c}, with {@code
 * xen/arch/x86/include/asm/guest_pt.h}), taken from {@link Policy#XEN_4_22}: every hand-worked
 * row of {@link GuestWalkerTest} (reference {@code mmu.md} section 1.1) again, plus two cases
 * written out here. PFEC values ({@code xen/arch/x86/include/asm/processor.h}): present 0x1,
 * write 0x2, user 0x4, reserved bit 0x8.
 */
class GuestWalkXen422Test {
  private static GuestWalker walker(WalkFixture f) {
    return f.walker(GuestWalkDomain.hapIntel(40), Policy.XEN_4_22.guestWalk());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.hvmmu.mmu.xen.GuestWalkerTest#rows")
  void everyRowShouldHoldUnderXen422(GuestWalkerTest.Row row) {
    WalkFixture f = WalkFixture.long4();
    row.tables().accept(f);
    GuestWalk gw = new GuestWalk();
    boolean ok = f.walker(row.domain(), Policy.XEN_4_22.guestWalk())
        .guestWalkTables(row.regs().apply(WalkFixture.regs4()), VA4, gw, row.walk(), L4_FRAME, 0);
    assertEquals(row.ok(), ok, gw::toString);
    assertEquals(row.pfec(), gw.pfec(), gw::toString);
  }

  @Test
  void aUserWriteToAReadOnlyLeafShouldFailWithPresentWriteUser() {
    WalkFixture f = WalkFixture.long4();
    long leaf = f.get8(L1_SLOT) & ~RW;
    f.set8(L1_SLOT, leaf);
    GuestWalk gw = new GuestWalk();
    // The leaf is reached: pfec gets P; the user write to a read-only page fails.
    // 0x1 | 0x2 | 0x4 = 0x7. A failed walk sets no A or D bit.
    assertFalse(walker(f).guestWalkTables(WalkFixture.regs4(), VA4, gw,
        Pfec.USER_MODE | Pfec.WRITE_ACCESS, L4_FRAME, 0));
    assertEquals(0x7, gw.pfec());
    assertEquals(leaf, f.get8(L1_SLOT));
  }

  @Test
  void aSuccessfulWriteShouldSetAOnEveryLevelAndDOnTheLeafOnly() {
    WalkFixture f = WalkFixture.long4();
    GuestWalk gw = new GuestWalk();
    assertTrue(walker(f).guestWalkTables(WalkFixture.regs4(), VA4, gw,
        Pfec.USER_MODE | Pfec.WRITE_ACCESS, L4_FRAME, 0));
    assertEquals(0x7, gw.pfec());
    // set_ad_bits: the leaf gets A|D (0x60), L2, L3 and L4 get A (0x20) alone.
    long prw = P | RW | US;
    assertEquals(prw | A | D, f.get8(L1_SLOT) & 0xfff);
    assertEquals(prw | A, f.get8(L2_SLOT) & 0xfff);
    assertEquals(prw | A, f.get8(L3_SLOT) & 0xfff);
    assertEquals(prw | A, f.get8(L4_SLOT) & 0xfff);
  }
}
