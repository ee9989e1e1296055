package org.hvmmu.p2m.shadow;

import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.Domain;
import org.hvmmu.x86.pv.GuestType;
import org.hvmmu.x86.pv.L1eValidator;
import org.hvmmu.x86.pv.PvMmu;
import org.hvmmu.x86.pv.PvSwitches;

/**
 * A host with two shadowed guests in reference-counting mode, for the shadow tests.
 *
 * <pre>
 *  d1 pvShadow (PV64, not translated): RAM 0x100-0x1ff; every frame's p2m type is ram_rw
 *  d3 hvmShadow (HVM, translated):     RAM 0x300-0x3ff; gfn 0x10-0x13 -> MMIO 0x100000-0x100003
 *  d0 (privileged):                    RAM 0x200-0x2ff
 *  both guests may map I/O memory 0x100000-0x10000f; mmio_ro_ranges = {0x100000-0x100001}
 * </pre>
 */
final class ShadowHost {
  static final long RO_MMIO = 0x100000;

  /** The two presets of both switch records. */
  enum Preset {
    SEED(P2mSwitches.SEED_2010, PvSwitches.SEED_2010),
    HARDENED(P2mSwitches.HARDENED, PvSwitches.HARDENED);

    final P2mSwitches p2m;
    final PvSwitches pv;

    Preset(P2mSwitches p2m, PvSwitches pv) {
      this.p2m = p2m;
      this.pv = pv;
    }
  }

  final RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", RangeSet.PRETTYPRINT_HEX);
  final PvMmu mmu;
  final L1eValidator validator;
  final Domain pvShadow;
  final Domain hvmShadow;
  final long[] pvTable = new long[Pte.ENTRIES_PER_TABLE];
  final long[] hvmTable = new long[Pte.ENTRIES_PER_TABLE];

  ShadowHost(Preset preset) {
    mmu = new PvMmu(0x1000, ro, CpuFeatures.ALL, preset.pv);
    validator = mmu.validator();
    mmu.createDomain(0, true, GuestType.PV64);
    pvShadow = mmu.createDomain(1, false, GuestType.PV64);
    hvmShadow = mmu.createDomain(3, false, GuestType.HVM);
    mmu.frameTable().assignRange(0x100, 0x1ff, 1);
    mmu.frameTable().assignRange(0x200, 0x2ff, 0);
    mmu.frameTable().assignRange(0x300, 0x3ff, 3);
    pvShadow.iomemCaps().addRange(0x100000, 0x10000f);
    hvmShadow.iomemCaps().addRange(0x100000, 0x10000f);
    ro.addRange(0x100000, 0x100001);
  }
}
