package org.hvmmu.mmu;

import org.hvmmu.mmu.memory.PhysicalMemory;

/**
 * A guest on EPT or NPT for tests: guest tables at guest-physical addresses from 1 MiB, stored at
 * host address GPA + {@link #OFFSET}; nested tables from host 3 GiB mapping each guest-physical
 * region the guest uses to GPA + {@link #OFFSET} with leaves at a chosen level.
 */
final class NestedFixture {
  static final long OFFSET = 0x4000_0000L;
  static final long EPT_RWX = 7;
  static final long EPT_LEAF = 7 | (6L << 3);
  static final long NPT_UPPER = 7; // P | RW | US
  static final long NPT_LEAF = 7;

  final PhysicalMemory memory = new PhysicalMemory(46);
  final GuestTables guest;
  final GuestTables host;
  final NestedPaging kind;
  final int nestedLevels;
  final int nestedLeaf;
  final long nestedRoot;

  NestedFixture(NestedPaging kind, int nestedLevels, int nestedLeaf) {
    this.kind = kind;
    this.nestedLevels = nestedLevels;
    this.nestedLeaf = nestedLeaf;
    memory.addRam(0, (16L << 30 >>> 12) - 1); // 16 GiB of (sparse) RAM
    guest = new GuestTables(memory, 0x100, OFFSET);
    host = new GuestTables(memory, 0xC0000); // host tables from 3 GiB
    nestedRoot = host.newTable();
  }

  /** Maps the nested region holding {@code gpa} (its size: the nested leaf's) to GPA + OFFSET. */
  void mapNested(long gpa, long upper, long leaf) {
    int shift = 12 + 9 * (nestedLeaf - 1);
    long base = gpa & ~((1L << shift) - 1);
    host.map(nestedRoot, nestedLevels, base, base + OFFSET, nestedLeaf, upper, leaf);
  }

  /** Maps every guest table and the given guest-physical addresses with full rights. */
  void mapAll(long... gpas) {
    long upper = kind == NestedPaging.EPT ? EPT_RWX : NPT_UPPER;
    long leaf = kind == NestedPaging.EPT ? EPT_LEAF : NPT_LEAF;
    for (long t : guest.tables()) {
      mapNested(t, upper, leaf);
    }
    for (long g : gpas) {
      mapNested(g, upper, leaf);
    }
  }

  /** The host address of the nested entry for {@code gpa} at {@code level}. */
  long nestedEntry(long gpa, int level) {
    return host.entryAddress(nestedRoot, nestedLevels, gpa, level);
  }

  Vcpu vcpu(TlbConfig tlbs, MmuSwitches switches, MmuFeatures features) {
    Vcpu v = new Vcpu(memory, features, switches, tlbs, LatencyModel.GOLDEN_COVE);
    if (kind == NestedPaging.EPT) {
      long eptp = nestedRoot | 6 | ((long) (nestedLevels - 1) << 3);
      v.configureEpt(eptp, 1);
    } else {
      long hostCr4 = 0x20 | (nestedLevels == 5 ? ControlRegisters.CR4_LA57 : 0);
      v.configureNpt(nestedRoot, 1, hostCr4, 0xD00);
    }
    return v;
  }

  Vcpu vcpu(TlbConfig tlbs) {
    return kind == NestedPaging.EPT
        ? vcpu(tlbs, MmuSwitches.DEFAULT, MmuFeatures.intel(46))
        : vcpu(tlbs, MmuSwitches.AMD, MmuFeatures.amd(46));
  }
}
