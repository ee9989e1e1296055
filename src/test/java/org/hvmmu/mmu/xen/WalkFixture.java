package org.hvmmu.mmu.xen;

import java.util.HashMap;
import java.util.Map;
import org.hvmmu.mmu.memory.PhysicalMemory;

/**
 * Guest tables for the walker's tests, written by hand into a {@link PhysicalMemory} with frames
 * 0 to 0x7ffff of RAM, and a p2m that is the identity except for the gfns a test overrides.
 *
 * <p>The 4-level layout {@link #long4()} maps {@link #VA4} (L4 index 1, L3 index 2, L2 index 3, L1
 * index 4, offset 0x567) through tables at frames 0x100 to 0x103 to data frame 0x5000, every entry
 * P|RW|US.
 */
final class WalkFixture {
  static final long P = 1;
  static final long RW = 2;
  static final long US = 4;
  static final long PWT = 8;
  static final long PCD = 0x10;
  static final long A = 0x20;
  static final long D = 0x40;
  static final long PS = 0x80;
  static final long G = 0x100;
  static final long PAT_LARGE = 0x1000;
  static final long NX = 1L << 63;
  static final long PRW = P | RW | US;

  /** L4 index 1, L3 index 2, L2 index 3, L1 index 4, offset 0x567. */
  static final long VA4 = (1L << 39) | (2L << 30) | (3L << 21) | (4L << 12) | 0x567;
  static final long L4_FRAME = 0x100;
  static final long L3_FRAME = 0x101;
  static final long L2_FRAME = 0x102;
  static final long L1_FRAME = 0x103;
  static final long DATA_FRAME = 0x5000;
  static final long L4_SLOT = (L4_FRAME << 12) + 8;
  static final long L3_SLOT = (L3_FRAME << 12) + 16;
  static final long L2_SLOT = (L2_FRAME << 12) + 24;
  static final long L1_SLOT = (L1_FRAME << 12) + 32;

  final PhysicalMemory memory;
  final Map<Long, Long> overrides = new HashMap<>();
  final P2mLookup p2m;

  WalkFixture(int maxPhysAddr) {
    memory = new PhysicalMemory(maxPhysAddr);
    memory.addRam(0, 0x7FFFF);
    P2mLookup identity = P2mLookup.identity(memory);
    p2m = gfn -> {
      Long o = overrides.get(gfn);
      return o != null ? o : identity.getPageFromGfn(gfn);
    };
  }

  /** The 4-level layout, in a 40-bit MAXPHYADDR memory. */
  static WalkFixture long4() {
    WalkFixture f = new WalkFixture(40);
    f.set8(L4_SLOT, (L3_FRAME << 12) | PRW);
    f.set8(L3_SLOT, (L2_FRAME << 12) | PRW);
    f.set8(L2_SLOT, (L1_FRAME << 12) | PRW);
    f.set8(L1_SLOT, (DATA_FRAME << 12) | PRW);
    return f;
  }

  /** The slot of the 4-level layout's entry at {@code level}. */
  static long slot4(int level) {
    switch (level) {
      case 4:
        return L4_SLOT;
      case 3:
        return L3_SLOT;
      case 2:
        return L2_SLOT;
      default:
        return L1_SLOT;
    }
  }

  long get8(long pa) {
    return memory.read(pa, 8);
  }

  void set8(long pa, long value) {
    memory.write(pa, 8, value);
  }

  long get4(long pa) {
    return memory.read(pa, 4);
  }

  void set4(long pa, long value) {
    memory.write(pa, 4, value);
  }

  GuestWalker walker(GuestWalkDomain domain, GuestWalkSwitches switches) {
    return new GuestWalker(memory, p2m, domain, switches);
  }

  static GuestRegisters regs4() {
    return GuestRegisters.longMode(L4_FRAME << 12);
  }
}
