package org.hvmmu.mmu;

import static org.hvmmu.mmu.GuestTables.A;
import static org.hvmmu.mmu.GuestTables.D;
import static org.hvmmu.mmu.GuestTables.P;
import static org.hvmmu.mmu.GuestTables.PS;
import static org.hvmmu.mmu.GuestTables.RW;
import static org.hvmmu.mmu.GuestTables.US;

import java.util.List;
import org.hvmmu.mmu.memory.PhysicalMemory;

/**
 * Page tables and TLB shapes for the {@code VcpuXlate*} and {@code VcpuTranslationMutants} tests.
 * PAE and 32-bit tables are laid out here by hand from the SDM's formats (vol. 3A §4.3 tables 4-4
 * to 4-6, §4.4 tables 4-8 to 4-11): a 4-entry PDPT at 1 MiB, directories and tables after it.
 */
final class VcpuXlateTables {
  /** A present, writable, user, accessed and dirty leaf. */
  static final long LEAF = P | RW | US | A | D;
  /** CR0 with PG, WP, NE, ET, MP and PE. */
  static final long CR0 = 0x8001_0033L;
  static final long CR4_PAE = 0x20;
  static final long EFER_LONG = 0xD00; // LME, LMA, NXE

  private VcpuXlateTables() {}

  /** 1 GiB of sparse RAM with MAXPHYADDR {@code m}. */
  static PhysicalMemory ram(int m) {
    PhysicalMemory memory = new PhysicalMemory(m);
    memory.addRam(0, 0x3FFFF);
    return memory;
  }

  /** One TLB array with an LRU geometry. */
  static TlbStructure array(String name, int level, boolean code, boolean data, int sizes,
      int entries, int ways) {
    return new TlbStructure(name, level, code, data, sizes, CacheGeometry.of(entries, ways));
  }

  /** Only the given TLB arrays: no paging-structure caches, no nested TLB. */
  static TlbConfig only(TlbStructure... arrays) {
    return TlbConfig.none().withTlbs(List.of(arrays));
  }

  /** The given TLB arrays and a 16-entry nested TLB. */
  static TlbConfig withNestedTlb(TlbStructure... arrays) {
    CacheGeometry n = CacheGeometry.NONE;
    return new TlbConfig(List.of(arrays), n, n, n, n, n, CacheGeometry.of(16, 4), n, n, n, 1);
  }

  /** Zeroes a 4-KByte table. */
  static long clear(PhysicalMemory m, long table) {
    for (int i = 0; i < 4096; i += 8) {
      m.write(table + i, 8, 0);
    }
    return table;
  }

  /** PAE tables: PDPT at 1 MiB (CR3), directories and page tables allocated after it. */
  static final class Pae {
    final PhysicalMemory m;
    final long cr3 = 0x10_0000;
    private long next = 0x10_1000;

    Pae(PhysicalMemory m) {
      this.m = m;
      clear(m, cr3);
    }

    private long table() {
      long t = next;
      next += 0x1000;
      return clear(m, t);
    }

    /** The address of the PDE for {@code la}, making the directory if needed. */
    long pdeSlot(long la) {
      long pdpteSlot = cr3 + ((la >>> 30) & 3) * 8;
      long e = m.read(pdpteSlot, 8);
      if ((e & P) == 0) {
        e = table() | P; // PDPTE: bits 2:1 and 8:5 reserved
        m.write(pdpteSlot, 8, e);
      }
      return (e & 0xF_FFFF_F000L) + ((la >>> 21) & 0x1FF) * 8;
    }

    /** Maps a 4-KByte page; returns the PTE's address. */
    long map4k(long la, long pa, long flags) {
      long pdeSlot = pdeSlot(la);
      long pde = m.read(pdeSlot, 8);
      if ((pde & P) == 0) {
        pde = table() | P | RW | US | A;
        m.write(pdeSlot, 8, pde);
      }
      long pteSlot = (pde & 0xF_FFFF_F000L) + ((la >>> 12) & 0x1FF) * 8;
      m.write(pteSlot, 8, pa | flags);
      return pteSlot;
    }

    /** Maps a 2-MByte page; returns the PDE's address. */
    long map2m(long la, long pa, long flags) {
      long pdeSlot = pdeSlot(la);
      m.write(pdeSlot, 8, pa | flags | PS);
      return pdeSlot;
    }
  }

  /** 32-bit tables: the directory at 1 MiB (CR3), page tables after it. */
  static final class Legacy {
    final PhysicalMemory m;
    final long cr3 = 0x10_0000;
    private long next = 0x10_1000;

    Legacy(PhysicalMemory m) {
      this.m = m;
      clear(m, cr3);
    }

    /** Maps a 4-KByte page through a page table at {@code table} (0: allocate one). */
    long map4k(long la, long pa, long flags, long table) {
      long pdeSlot = cr3 + (la >>> 22) * 4;
      long pde = m.read(pdeSlot, 4);
      if ((pde & P) == 0) {
        long t = table;
        if (t == 0) {
          t = next;
          next += 0x1000;
        }
        clear(m, t);
        pde = t | P | RW | US | A;
        m.write(pdeSlot, 4, pde);
      }
      long pteSlot = (pde & 0xFFFF_F000L) + ((la >>> 12) & 0x3FF) * 4;
      m.write(pteSlot, 4, pa | flags);
      return pteSlot;
    }

    /** Maps a 4-MByte page with a raw PDE value (frame bits included). */
    long map4m(long la, long pde) {
      long pdeSlot = cr3 + (la >>> 22) * 4;
      m.write(pdeSlot, 4, pde | PS);
      return pdeSlot;
    }
  }
}
