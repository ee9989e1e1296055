package org.hvmmu.x86.pv;

import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.Pte;

/**
 * A small host for the PV tests.
 *
 * <pre>
 *  frames 0x000-0xfff have frame-table entries:
 *    0x100-0x1ff  RAM of domU (d1, PV64); 0x1f0 is a Xen heap page shared with d1
 *    0x200-0x2ff  RAM of dom0 (d0, privileged)
 *    0x300-0x3ff  RAM of hvm (d3, HVM)
 *    0x400-0x4ff  RAM of pae (d4, PV32)
 *    0x800-0x80f  MMIO inside the table, owned by dom_io
 *  frames from 0x1000 have none (MMIO of a 64-bit BAR, say).
 *  mmio_ro_ranges = {0x800-0x801, 0x100000-0x100001}
 *  domU's iomem_caps = {0x800-0x80f, 0x100000-0x10000f}; pae's = {0x100000-0x10000f}
 *  noio (d2, PV64) owns no frames and has no I/O memory.
 * </pre>
 */
final class PvFixture {
  static final long RO_IN_TABLE = 0x800;
  static final long RW_IN_TABLE = 0x802;
  static final long RO_ABOVE = 0x100000;
  static final long RW_ABOVE = 0x100002;

  /** The live entries as the listener reports them: "table/slot" to entry. */
  final java.util.Map<String, Long> reported = new java.util.concurrent.ConcurrentHashMap<>();

  final RangeSet mmioRoRanges = new IntervalTreeRangeSet("mmio_ro_ranges", RangeSet.PRETTYPRINT_HEX);
  final PvMmu mmu;
  final FrameTable frames;
  final Domain dom0;
  final Domain domU;
  final Domain noio;
  final Domain hvm;
  final Domain pae;

  PvFixture(PvSwitches switches) {
    this(switches, CpuFeatures.ALL);
  }

  PvFixture(PvSwitches switches, CpuFeatures cpu) {
    mmu = new PvMmu(0x1000, mmioRoRanges, cpu, switches, (owner, tableMfn, slot, oldL1e, newL1e) -> {
      String key = Long.toHexString(tableMfn) + "/" + slot;
      Long previous = Pte.isPresent(newL1e) ? reported.put(key, newL1e) : reported.remove(key);
      boolean wasLive = previous != null;
      // The processor may have set A and D in the live entry since it was installed.
      long ad = org.hvmmu.x86.PteFlags.PAGE_ACCESSED | org.hvmmu.x86.PteFlags.PAGE_DIRTY;
      if (wasLive != Pte.isPresent(oldL1e) || (wasLive && ((previous ^ oldL1e) & ~ad) != 0)) {
        throw new AssertionError("0x" + key + ": reported old entry " + Pte.toHex(oldL1e)
            + ", but the live one was " + (wasLive ? Pte.toHex(previous) : "none"));
      }
    });
    frames = mmu.frameTable();
    dom0 = mmu.createDomain(0, true, GuestType.PV64);
    domU = mmu.createDomain(1, false, GuestType.PV64);
    noio = mmu.createDomain(2, false, GuestType.PV64);
    hvm = mmu.createDomain(3, false, GuestType.HVM);
    pae = mmu.createDomain(4, false, GuestType.PV32);
    frames.assignRange(0x100, 0x1ef, 1);
    frames.shareXenHeapPage(0x1f0, 1);
    frames.assignRange(0x1f1, 0x1ff, 1);
    frames.assignRange(0x200, 0x2ff, 0);
    frames.assignRange(0x300, 0x3ff, 3);
    frames.assignRange(0x400, 0x4ff, 4);
    frames.shareWithDomIo(0x800, 0x80f);
    mmioRoRanges.addRange(0x800, 0x801);
    mmioRoRanges.addRange(0x100000, 0x100001);
    domU.iomemCaps().addRange(0x800, 0x80f);
    domU.iomemCaps().addRange(0x100000, 0x10000f);
    pae.iomemCaps().addRange(0x100000, 0x10000f);
  }

  /**
   * Every frame's count_info and type count (with the pinned bit), to compare before and after an
   * operation. The type field itself is left out: a frame whose type count drops back to 0 keeps its
   * last type in Xen (a writable page stays "writable, validated, count 0"), which is free to change
   * and so is not a visible change. Nor is count_info's cache-attribute hint: it records the PAT
   * index of the frame's latest mapping and, as in Xen, a failed pin does not restore it.
   */
  long[] counts() {
    int n = (int) frames.frameCount();
    long[] all = new long[2 * n];
    for (int i = 0; i < n; i++) {
      all[2 * i] = frames.countInfo(i) & ~PageInfo.PGC_CACHEATTR_MASK;
      all[2 * i + 1] = frames.typeInfo(i) & (PageInfo.PGT_COUNT_MASK | PageInfo.PGT_PINNED);
    }
    return all;
  }

  /** The present entries of every live L1 table, as "table/slot" to entry. */
  java.util.Map<String, Long> liveEntries() {
    java.util.Map<String, Long> live = new java.util.HashMap<>();
    for (long mfn = 0; mfn < frames.frameCount(); mfn++) {
      long typeInfo = frames.typeInfo(mfn);
      if (PageInfo.type(typeInfo) != PageType.L1_PAGE_TABLE
          || (typeInfo & PageInfo.PGT_VALIDATED) == 0 || PageInfo.typeCount(typeInfo) == 0) {
        continue;
      }
      for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
        long l1e = frames.readEntry(mfn, slot);
        if (Pte.isPresent(l1e)) {
          live.put(Long.toHexString(mfn) + "/" + slot, l1e);
        }
      }
    }
    return live;
  }

  /** The 512 entries of a frame. */
  long[] table(long mfn) {
    long[] entries = new long[Pte.ENTRIES_PER_TABLE];
    for (int i = 0; i < entries.length; i++) {
      entries[i] = frames.readEntry(mfn, i);
    }
    return entries;
  }

  static long pte(long mfn, int flags) {
    return Pte.fromMfn(mfn, flags);
  }
}
