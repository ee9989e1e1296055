package org.hvmmu.p2m.shadow;

import static org.hvmmu.x86.PteFlags.PAGE_PCD;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_PWT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.x86.Pte;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * {@code shadow_set_l1e} on the validator's verdict, worked by hand from the seed patch and reference
 * section 6: the seed's read-only case leaves the shadow entry writable, upstream flips R/W and the
 * cache bits.
 */
class ShadowL1eTest {
  private static final int P = PAGE_PRESENT;
  private static final int RW = PAGE_RW;

  @ParameterizedTest
  @EnumSource(ShadowHost.Preset.class)
  void shouldInstallReadOnlyMmioAccordingToTheSwitch(ShadowHost.Preset preset) {
    ShadowHost h = new ShadowHost(preset);
    // A non-translated guest: every frame has type ram_rw, so _sh_propagate keeps R/W.
    int ramRw = P2mType.RAM_RW.code(preset.p2m.era());
    long guest = Pte.fromMfn(ShadowHost.RO_MMIO, P | RW | PAGE_USER);
    long sl1e = ShadowL1e.shPropagate(preset.p2m, guest, ramRw, ShadowHost.RO_MMIO, h.ro);
    assertEquals(guest, sl1e);
    int flags = ShadowL1e.shadowSetL1e(preset.p2m, h.validator, h.pvShadow, h.pvTable, 0, sl1e);
    assertEquals(ShadowL1e.SHADOW_SET_CHANGED, flags);
    long stored = h.pvTable[0];
    if (preset == ShadowHost.Preset.SEED) {
      assertEquals(guest, stored, "the seed discards the R/W removal: still writable");
    } else {
      // flip = RW | PWT | PCD (write-back made UC): 0x7 ^ 0x2 ^ 0x18 = 0x1d.
      assertEquals(Pte.fromMfn(ShadowHost.RO_MMIO, P | PAGE_USER | PAGE_PWT | PAGE_PCD), stored);
    }
  }

  @ParameterizedTest
  @EnumSource(ShadowHost.Preset.class)
  void translatedGuestsAreProtectedByPropagationInBothEras(ShadowHost.Preset preset) {
    ShadowHost h = new ShadowHost(preset);
    int mmioDirect = P2mType.MMIO_DIRECT.code(preset.p2m.era());
    long guest = Pte.fromMfn(0x10, P | RW);
    long sl1e = ShadowL1e.shPropagate(preset.p2m, guest, mmioDirect, ShadowHost.RO_MMIO, h.ro);
    assertEquals(0, sl1e & RW, "_sh_propagate clears R/W on read-only mmio_direct");
    ShadowL1e.shadowSetL1e(preset.p2m, h.validator, h.hvmShadow, h.hvmTable, 3, sl1e);
    assertEquals(0, h.hvmTable[3] & RW);
  }

  @Test
  void shouldEmptyTheSlotOnAReject() {
    ShadowHost h = new ShadowHost(ShadowHost.Preset.HARDENED);
    ShadowL1e.shadowSetL1e(P2mSwitches.HARDENED, h.validator, h.pvShadow, h.pvTable, 1,
        Pte.fromMfn(0x101, P | RW));
    assertEquals(2, h.mmu.frameTable().generalCount(0x101));
    // dom0's frame: -EBUSY, an empty entry, and the old entry's references released.
    int flags = ShadowL1e.shadowSetL1e(P2mSwitches.HARDENED, h.validator, h.pvShadow, h.pvTable, 1,
        Pte.fromMfn(0x200, P));
    assertEquals(ShadowL1e.SHADOW_SET_CHANGED | ShadowL1e.SHADOW_SET_ERROR, flags);
    assertEquals(0, h.pvTable[1]);
    assertEquals(1, h.mmu.frameTable().generalCount(0x101));
    assertEquals(0, h.mmu.frameTable().typeCount(0x101));
    assertEquals(0, ShadowL1e.shadowSetL1e(P2mSwitches.HARDENED, h.validator, h.pvShadow,
        h.pvTable, 1, 0), "nothing to do");
    assertThrows(IllegalArgumentException.class, () -> ShadowL1e.shadowSetL1e(
        P2mSwitches.HARDENED, h.validator, h.pvShadow, new long[4], 0, 0));
  }
}
