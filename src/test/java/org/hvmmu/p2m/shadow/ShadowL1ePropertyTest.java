package org.hvmmu.p2m.shadow;

import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.testkit.Action;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.Property;
import org.hvmmu.testkit.PropertyFailure;
import org.hvmmu.testkit.StatefulCheck;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.FrameTable;
import org.junit.jupiter.api.Test;

/**
 * Random guest entries of two shadowed guests, propagated and installed with {@code
 * shadow_set_l1e}. Under hardened switches no shadow entry maps a frame of {@code mmio_ro_ranges}
 * writable and every frame's counts match the shadow entries; under the seed's the first check fails
 * (reference section 3.6 row 9), and the harness shrinks it to one entry.
 */
class ShadowL1ePropertyTest {
  /** One guest entry written and shadowed. */
  private static Action<ShadowHost, Object> randomAction(SplittableRandom r, ShadowHost.Preset p) {
    boolean hvm = r.nextBoolean();
    int slot = r.nextInt(4);
    int target = r.nextInt(8);
    int flags = r.nextInt(0x200) | (r.nextInt(4) != 0 ? PAGE_PRESENT : 0)
        | (r.nextBoolean() ? PAGE_RW : 0);
    flags &= ~0x180; // no PAT/G: they are not what this checks
    int f = flags;
    String who = hvm ? "hvmShadow" : "pvShadow";
    return Action.of(who + ".set(slot " + slot + ", target " + target + ", flags 0x"
        + Integer.toHexString(f) + ")", (h, m) -> {
          long mfn;
          int type;
          if (hvm) {
            // gfn -> mfn through the p2m: RAM for targets 0-3, mmio_direct for 4-7.
            boolean mmio = target >= 4;
            mfn = mmio ? ShadowHost.RO_MMIO + (target - 4) : 0x300 + target;
            type = (mmio ? P2mType.MMIO_DIRECT : P2mType.RAM_RW).code(p.p2m.era());
          } else {
            // Not translated: the frame is the guest's own number, and always ram_rw.
            mfn = target >= 4 ? ShadowHost.RO_MMIO + (target - 4) : 0x100 + target;
            type = P2mType.RAM_RW.code(p.p2m.era());
          }
          long guest = Pte.fromMfn(mfn, f);
          long sl1e = ShadowL1e.shPropagate(p.p2m, guest, type, mfn, h.ro);
          long[] table = hvm ? h.hvmTable : h.pvTable;
          ShadowL1e.shadowSetL1e(p.p2m, h.validator, hvm ? h.hvmShadow : h.pvShadow, table, slot,
              sl1e);
        });
  }

  private static void invariants(ShadowHost h) {
    List<String> bad = new ArrayList<>();
    FrameTable frames = h.mmu.frameTable();
    long[] general = new long[(int) frames.frameCount()];
    long[] writable = new long[general.length];
    for (long[] table : new long[][] {h.pvTable, h.hvmTable}) {
      for (int slot = 0; slot < table.length; slot++) {
        long e = table[slot];
        long mfn = Pte.getMfn(e);
        if (Pte.isPresentWritable(e) && h.ro.containsSingleton(mfn)) {
          bad.add("shadow entry " + Pte.toHex(e) + " maps read-only MMIO writable");
        }
        if (Pte.isPresent(e) && !frames.isIomemPage(mfn)) {
          general[(int) mfn]++;
          writable[(int) mfn] += (e & PAGE_RW) != 0 ? 1 : 0;
        }
      }
    }
    for (int mfn = 0x100; mfn < 0x400; mfn++) {
      if (frames.generalCount(mfn) != 1 + general[mfn] || frames.typeCount(mfn) != writable[mfn]) {
        bad.add("mfn 0x" + Integer.toHexString(mfn) + ": counts " + frames.generalCount(mfn) + "/"
            + frames.typeCount(mfn) + ", expected " + (1 + general[mfn]) + "/" + writable[mfn]);
      }
    }
    if (!bad.isEmpty()) {
      fail(String.join("; ", bad));
    }
  }

  private static void run(ShadowHost.Preset preset, int tries, long seed) {
    Gen<Action<ShadowHost, Object>> actions =
        Gens.of(r -> randomAction(r, preset), a -> List.of());
    StatefulCheck.run(
        Property.tries(tries).seed(seed),
        () -> new ShadowHost(preset),
        Object::new,
        actions,
        30,
        (h, m) -> invariants(h));
  }

  @Test
  void hardenedShouldNeverLeaveReadOnlyMmioWritableInAShadow() {
    run(ShadowHost.Preset.HARDENED, Integer.getInteger("hvmmu.tries", 200), 0x5EED_0004L);
  }

  @Test
  void seedShouldLeaveReadOnlyMmioWritableThroughShadowSetL1e() {
    PropertyFailure failure = assertThrows(PropertyFailure.class,
        () -> run(ShadowHost.Preset.SEED, 2_000, 0x5EED_0004L));
    List<?> shrunk = (List<?>) failure.shrunkCounterexample();
    assertEquals(1, shrunk.size(), failure.getMessage());
    String action = shrunk.get(0).toString();
    // Only the non-translated guest can reach the defect: for the translated one, _sh_propagate
    // already cleared R/W.
    assertTrue(action.startsWith("pvShadow.set("), action);
    assertTrue(failure.getMessage().contains("maps read-only MMIO writable"), failure.getMessage());
  }
}
