package org.hvmmu.mmu.xen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hvmmu.mmu.xen.GuestWalkSwitches.AccessedDirtyOrder;
import org.hvmmu.mmu.xen.GuestWalkSwitches.Convention;
import org.hvmmu.mmu.xen.GuestWalkSwitches.SuperpageFrame;
import org.junit.jupiter.api.Test;

class GuestWalkSwitchesTest {
  @Test
  void shouldHoldEachErasValues() {
    assertEquals(new GuestWalkSwitches(Convention.MISSING_FLAGS, false, false, false, false, false,
        AccessedDirtyOrder.TOP_DOWN, SuperpageFrame.PAT_BIT_CLEARED, false),
        GuestWalkSwitches.SEED_2010);
    assertEquals(new GuestWalkSwitches(Convention.PFEC, true, true, true, true, true,
        AccessedDirtyOrder.LEAF_FIRST, SuperpageFrame.ALIGNED, true),
        GuestWalkSwitches.HARDENED);
  }

  @Test
  void shouldReachEitherPresetOneSwitchAtATime() {
    GuestWalkSwitches s = GuestWalkSwitches.SEED_2010
        .withConvention(Convention.PFEC)
        .withReservedBits(true)
        .withGigabytePages(true)
        .withSmep(true)
        .withSmap(true)
        .withProtectionKeys(true)
        .withAccessedDirtyOrder(AccessedDirtyOrder.LEAF_FIRST)
        .withSuperpageFrame(SuperpageFrame.ALIGNED)
        .withClearIgnoredL2Pse(true);
    assertEquals(GuestWalkSwitches.HARDENED, s);
    GuestWalkSwitches back = GuestWalkSwitches.HARDENED
        .withReservedBits(false)
        .withGigabytePages(false)
        .withSmep(false)
        .withSmap(false)
        .withProtectionKeys(false)
        .withAccessedDirtyOrder(AccessedDirtyOrder.TOP_DOWN)
        .withSuperpageFrame(SuperpageFrame.PAT_BIT_CLEARED)
        .withClearIgnoredL2Pse(false)
        .withConvention(Convention.MISSING_FLAGS);
    assertEquals(GuestWalkSwitches.SEED_2010, back);
  }

  @Test
  void shouldRejectErrorCodeFeaturesWithoutAnErrorCode() {
    GuestWalkSwitches seed = GuestWalkSwitches.SEED_2010;
    assertThrows(IllegalArgumentException.class, () -> seed.withReservedBits(true));
    assertThrows(IllegalArgumentException.class, () -> seed.withGigabytePages(true));
    assertThrows(IllegalArgumentException.class, () -> seed.withSmep(true));
    assertThrows(IllegalArgumentException.class, () -> seed.withSmap(true));
    assertThrows(IllegalArgumentException.class, () -> seed.withProtectionKeys(true));
    assertThrows(IllegalArgumentException.class,
        () -> GuestWalkSwitches.HARDENED.withConvention(Convention.MISSING_FLAGS));
    assertThrows(NullPointerException.class, () -> seed.withAccessedDirtyOrder(null));
  }

  @Test
  void shouldCheckTheDomain() {
    assertThrows(IllegalArgumentException.class, () -> GuestWalkDomain.hapIntel(31));
    assertThrows(IllegalArgumentException.class, () -> GuestWalkDomain.hapAmd(53));
    GuestWalkDomain d = GuestWalkDomain.hapIntel(46).withVendorAmd(true).withHap(false)
        .withHostPage1Gb(false).withHostPse36(false).withHostNx(false);
    assertEquals(new GuestWalkDomain(46, true, false, false, false, false), d);
  }

  @Test
  void xen422ShouldBeTodaysWalker() {
    assertEquals(GuestWalkSwitches.HARDENED, GuestWalkSwitches.XEN_4_22);
    assertEquals(Convention.PFEC, GuestWalkSwitches.XEN_4_22.convention());
  }
}
