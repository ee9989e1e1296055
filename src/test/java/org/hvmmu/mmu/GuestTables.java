package org.hvmmu.mmu;

import org.hvmmu.mmu.memory.PhysicalMemory;

/**
 * Builds x86 page tables in a {@link PhysicalMemory} for tests, independently of the walker: entries
 * are computed here from the SDM's layouts (4-level, 5-level, PAE, 32-bit, EPT and NPT), with
 * table frames handed out from a bump allocator.
 */
final class GuestTables {
  static final long P = 1;
  static final long RW = 2;
  static final long US = 4;
  static final long A = 0x20;
  static final long D = 0x40;
  static final long PS = 0x80;
  static final long G = 0x100;
  static final long XD = 1L << 63;
  static final long EPT_R = 1;
  static final long EPT_W = 2;
  static final long EPT_X = 4;
  static final long EPT_WB = 6L << 3;

  final PhysicalMemory memory;
  private final long hostOffset;
  private long nextFrame;
  private final java.util.List<Long> tables = new java.util.ArrayList<>();

  GuestTables(PhysicalMemory memory, long firstTableFrame) {
    this(memory, firstTableFrame, 0);
  }

  /**
   * Tables whose addresses are guest-physical: the guest-physical address X is stored at host
   * address X + {@code hostOffset} (the nested tables of a test map it there).
   */
  GuestTables(PhysicalMemory memory, long firstTableFrame, long hostOffset) {
    this.memory = memory;
    this.nextFrame = firstTableFrame;
    this.hostOffset = hostOffset;
  }

  /** A new zeroed 4-KByte table; its (guest-)physical address. */
  long newTable() {
    long pa = nextFrame << 12;
    nextFrame++;
    for (int i = 0; i < 4096; i += 8) {
      memory.write(pa + hostOffset + i, 8, 0);
    }
    tables.add(pa);
    return pa;
  }

  /** The (guest-)physical addresses of every table made so far. */
  java.util.List<Long> tables() {
    return tables;
  }

  /** Reads 8 bytes at a (guest-)physical address. */
  long read(long pa) {
    return memory.read(pa + hostOffset, 8);
  }

  /** Writes 8 bytes at a (guest-)physical address. */
  void write(long pa, long value) {
    memory.write(pa + hostOffset, 8, value);
  }

  /**
   * Maps {@code la} to {@code pa} in 4- or 5-level tables rooted at {@code root}: intermediate
   * entries get {@code upper} (P|RW|US|A by default in callers), the leaf at {@code leafLevel}
   * (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB) gets {@code leaf} (with PS added above level 1).
   */
  long map(long root, int levels, long la, long pa, int leafLevel, long upper, long leaf) {
    long table = root;
    for (int level = levels; level > leafLevel; level--) {
      int shift = 12 + 9 * (level - 1);
      long slot = table + ((la >>> shift) & 0x1FF) * 8;
      long e = read(slot);
      if ((e & P) == 0) {
        long next = newTable();
        e = next | upper;
        write(slot, e);
      } else {
        e = (e & ~0xFFFL & ((1L << 52) - 1)) | upper;
        write(slot, e);
      }
      table = e & 0x000F_FFFF_FFFF_F000L;
    }
    int shift = 12 + 9 * (leafLevel - 1);
    long slot = table + ((la >>> shift) & 0x1FF) * 8;
    write(slot, pa | leaf | (leafLevel > 1 ? PS : 0));
    return slot;
  }

  /** The physical address of the entry for {@code la} at {@code level} (tables must exist). */
  long entryAddress(long root, int levels, long la, int level) {
    long table = root;
    for (int l = levels; l > level; l--) {
      int shift = 12 + 9 * (l - 1);
      long e = read(table + ((la >>> shift) & 0x1FF) * 8);
      table = e & 0x000F_FFFF_FFFF_F000L;
    }
    int shift = 12 + 9 * (level - 1);
    return table + ((la >>> shift) & 0x1FF) * 8;
  }
}
