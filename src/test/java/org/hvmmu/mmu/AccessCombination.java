package org.hvmmu.mmu;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The combinations of the permission matrix: flag bits in one {@code long}, their names, the
 * legality filter, and an indexed enumeration of the legal ones (for counting, sampling and the
 * exhaustive run).
 *
 * <p>Bits 0-29 are those of kvm-unit-tests' {@code x86/access.c}, in its order (its bit 30, FEP,
 * forces KVM's emulator and has no meaning here). Bits 31 and up add what {@code access.c} leaves
 * out: SMAP with RFLAGS.AC and implicit supervisor accesses, PKS with IA32_PKRS, and 1-GByte pages
 * (a PDPTE with PS, with its own flags and its reserved bit 13).
 *
 * <p>The filter follows {@code access.c}'s {@code ac_test_legal}: a fetch is never a write; PKRU
 * AD/WD only with CR4.PKE (PKRS AD/WD only with CR4.PKS, RFLAGS.AC only with CR4.SMAP); bit 13 only
 * in a large leaf; at most one reserved-bit flag (NX counts as one without EFER.NX); bit 36 only
 * when MAXPHYADDR is at most 36 and bit 51 only when it is at most 51 (else they are address bits,
 * not reserved). Two differences, both removing exact repeats: CR4.SMEP is enumerated (access.c
 * drops it for reasons of its own harness), and the flags of entries below a leaf must be clear
 * (access.c varies PTE flags under a 2-MByte PDE although it never writes that PTE).
 */
final class AccessCombination {
  private AccessCombination() {}

  static final long PTE_W = 1L;
  static final long PTE_U = 1L << 1;
  static final long PTE_A = 1L << 2;
  static final long PTE_D = 1L << 3;
  static final long PTE_NX = 1L << 4;
  static final long PTE_P = 1L << 5;
  static final long PTE_BIT51 = 1L << 6;
  static final long PTE_BIT36 = 1L << 7;

  static final long PDE_W = 1L << 8;
  static final long PDE_U = 1L << 9;
  static final long PDE_A = 1L << 10;
  static final long PDE_D = 1L << 11;
  static final long PDE_PSE = 1L << 12;
  static final long PDE_NX = 1L << 13;
  static final long PDE_P = 1L << 14;
  static final long PDE_BIT51 = 1L << 15;
  static final long PDE_BIT36 = 1L << 16;
  static final long PDE_BIT13 = 1L << 17;

  /** A non-leaf PDPTE without R/W (otherwise PML5E, PML4E and PDPTE are P, R/W, U/S). */
  static final long PDPTE_RO = 1L << 18;

  static final long PKRU_AD = 1L << 19;
  static final long PKRU_WD = 1L << 20;
  /** The leaf's protection key is 1 (else 0); non-leaf entries always carry key 2. */
  static final long PKEY = 1L << 21;

  static final long USER = 1L << 22;
  static final long WRITE = 1L << 23;
  static final long FETCH = 1L << 24;
  /** A supervisor explicit read of the address first (filling the TLB, setting A bits). */
  static final long TWICE = 1L << 25;

  static final long EFER_NX = 1L << 26;
  static final long CR0_WP = 1L << 27;
  static final long CR4_SMEP = 1L << 28;
  static final long CR4_PKE = 1L << 29;

  static final long CR4_SMAP = 1L << 31;
  static final long RFLAGS_AC = 1L << 32;
  /** An implicit supervisor-mode access (descriptor tables, TSS): a data read or write. */
  static final long IMPLICIT = 1L << 33;
  static final long CR4_PKS = 1L << 34;
  static final long PKRS_AD = 1L << 35;
  static final long PKRS_WD = 1L << 36;

  static final long PDPTE_W = 1L << 37;
  static final long PDPTE_U = 1L << 38;
  static final long PDPTE_A = 1L << 39;
  static final long PDPTE_D = 1L << 40;
  /** The PDPTE maps a 1-GByte page (its other PDPTE_* flags then apply; PDE and PTE are unused). */
  static final long PDPTE_PS = 1L << 41;
  static final long PDPTE_NX = 1L << 42;
  static final long PDPTE_P = 1L << 43;
  static final long PDPTE_BIT51 = 1L << 44;
  static final long PDPTE_BIT36 = 1L << 45;
  static final long PDPTE_BIT13 = 1L << 46;

  static final int BITS = 47;

  private static final String[] NAMES = {
    "pte.rw", "pte.user", "pte.a", "pte.d", "pte.nx", "pte.p", "pte.51", "pte.36",
    "pde.rw", "pde.user", "pde.a", "pde.d", "pde.pse", "pde.nx", "pde.p", "pde.51", "pde.36",
    "pde.13", "pdpte.ro", "pkru.ad", "pkru.wd", "pkey=1", "user", "write", "fetch", "twice",
    "efer.nx", "cr0.wp", "cr4.smep", "cr4.pke", "(fep)", "cr4.smap", "rflags.ac", "implicit",
    "cr4.pks", "pkrs.ad", "pkrs.wd", "pdpte.rw", "pdpte.user", "pdpte.a", "pdpte.d", "pdpte.ps",
    "pdpte.nx", "pdpte.p", "pdpte.51", "pdpte.36", "pdpte.13"
  };

  static final long PTE_FLAGS = 0xFFL;
  static final long PDE_FLAGS = 0x3FF00L;
  static final long PDPTE_LEAF_FLAGS = 0x3FFL << 37;
  static final long ENTRY_FLAGS = PTE_FLAGS | PDE_FLAGS | PDPTE_RO | PDPTE_LEAF_FLAGS;
  static final long ENVIRONMENT_FLAGS = PKRU_AD | PKRU_WD | PKEY | USER | WRITE | FETCH | TWICE
      | EFER_NX | CR0_WP | CR4_SMEP | CR4_PKE | CR4_SMAP | RFLAGS_AC | IMPLICIT | CR4_PKS | PKRS_AD
      | PKRS_WD;

  private static final long BIT51_FLAGS = PTE_BIT51 | PDE_BIT51 | PDPTE_BIT51;
  private static final long BIT36_FLAGS = PTE_BIT36 | PDE_BIT36 | PDPTE_BIT36;
  private static final long RESERVED_FLAGS = BIT51_FLAGS | BIT36_FLAGS | PDE_BIT13 | PDPTE_BIT13;
  private static final long NX_FLAGS = PTE_NX | PDE_NX | PDPTE_NX;

  /**
   * The legality filter.
   *
   * @param f the flags
   * @param maxPhyAddr MAXPHYADDR of the vCPU
   * @return whether the combination is run
   */
  static boolean isLegal(long f, int maxPhyAddr) {
    if ((f & ~(ENTRY_FLAGS | ENVIRONMENT_FLAGS)) != 0) {
      return false;
    }
    if (has(f, FETCH) && has(f, WRITE)) {
      return false;
    }
    if (has(f, IMPLICIT) && (has(f, USER) || has(f, FETCH))) {
      return false; // implicit accesses are supervisor-mode data accesses
    }
    if (!has(f, CR4_PKE) && (f & (PKRU_AD | PKRU_WD)) != 0) {
      return false;
    }
    if (!has(f, CR4_PKS) && (f & (PKRS_AD | PKRS_WD)) != 0) {
      return false;
    }
    if (!has(f, CR4_SMAP) && has(f, RFLAGS_AC)) {
      return false;
    }
    if (has(f, PDPTE_PS)) {
      if ((f & (PTE_FLAGS | PDE_FLAGS | PDPTE_RO)) != 0) {
        return false; // a 1-GByte leaf: no PDE or PTE; its own R/W replaces pdpte.ro
      }
    } else if ((f & PDPTE_LEAF_FLAGS) != 0) {
      return false;
    }
    if (has(f, PDE_PSE) && (f & PTE_FLAGS) != 0) {
      return false; // a 2-MByte leaf: the PTE is not used
    }
    if (!has(f, PDE_PSE) && has(f, PDE_BIT13)) {
      return false; // bit 13 is an address bit of a PDE that references a page table
    }
    if ((f & BIT36_FLAGS) != 0 && maxPhyAddr > 36) {
      return false;
    }
    if ((f & BIT51_FLAGS) != 0 && maxPhyAddr > 51) {
      return false;
    }
    long reserved = f & (RESERVED_FLAGS | (has(f, EFER_NX) ? 0 : NX_FLAGS));
    return (reserved & (reserved - 1)) == 0;
  }

  static boolean has(long f, long flag) {
    return (f & flag) != 0;
  }

  /**
   * The flags in words, in bit order, as {@code access.c} prints them.
   *
   * @param f the flags
   * @return for example {@code "pte.rw pte.p pde.p user write"}
   */
  static String describe(long f) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < BITS; i++) {
      if ((f & (1L << i)) != 0) {
        b.append(b.length() == 0 ? "" : " ").append(NAMES[i]);
      }
    }
    return b.length() == 0 ? "(none)" : b.toString();
  }

  /**
   * Every legal combination for one MAXPHYADDR, indexed: index {@code i} is environment {@code i /
   * entries} with entry-flag set {@code i % entries}, within the half for EFER.NX = 1 and then the
   * half for EFER.NX = 0 (the only flag both halves of the filter read). Consecutive indexes share
   * their registers, so a run in index order reloads them rarely.
   */
  static final class Space {
    final int maxPhyAddr;
    private final long[][] environments = new long[2][];
    private final long[][] entries = new long[2][];
    private final long[] halfSize = new long[2];

    Space(int maxPhyAddr) {
      this.maxPhyAddr = maxPhyAddr;
      for (int nx = 0; nx < 2; nx++) {
        long nxFlag = nx == 0 ? EFER_NX : 0;
        environments[nx] = legalSubsets(ENVIRONMENT_FLAGS & ~EFER_NX, nxFlag);
        List<Long> shapes = new ArrayList<>();
        // 4 KiB pages: PTE flags, PDE flags but PSE and bit 13, pdpte.ro.
        addLegal(shapes, PTE_FLAGS | (PDE_FLAGS & ~PDE_PSE & ~PDE_BIT13) | PDPTE_RO, nxFlag);
        // 2 MiB pages: PDE flags with PSE, pdpte.ro.
        addLegal(shapes, (PDE_FLAGS & ~PDE_PSE) | PDPTE_RO, nxFlag | PDE_PSE);
        // 1 GiB pages: the leaf PDPTE's flags.
        addLegal(shapes, PDPTE_LEAF_FLAGS & ~PDPTE_PS, nxFlag | PDPTE_PS);
        entries[nx] = new long[shapes.size()];
        for (int i = 0; i < entries[nx].length; i++) {
          entries[nx][i] = shapes.get(i);
        }
        halfSize[nx] = (long) environments[nx].length * entries[nx].length;
      }
    }

    private long[] legalSubsets(long mask, long fixed) {
      List<Long> out = new ArrayList<>();
      long sub = 0;
      do {
        if (isLegal(sub | fixed, maxPhyAddr)) {
          out.add(sub | fixed);
        }
        sub = (sub - mask) & mask; // next subset of mask in increasing order
      } while (sub != 0);
      long[] a = new long[out.size()];
      for (int i = 0; i < a.length; i++) {
        a[i] = out.get(i);
      }
      return a;
    }

    private void addLegal(List<Long> out, long mask, long fixed) {
      long sub = 0;
      do {
        long f = sub | fixed;
        if (isLegal(f, maxPhyAddr)) {
          out.add(f & ~EFER_NX);
        }
        sub = (sub - mask) & mask;
      } while (sub != 0);
    }

    /** The number of legal combinations. */
    long size() {
      return halfSize[0] + halfSize[1];
    }

    /** The number of distinct register-and-access settings (environments). */
    int environmentCount() {
      return environments[0].length + environments[1].length;
    }

    /** The numbers of distinct entry settings with EFER.NX = 1 and with EFER.NX = 0, in words. */
    String entryCounts() {
      return String.format(Locale.ROOT, "%,d (efer.nx) or %,d (no efer.nx)", entries[0].length,
          entries[1].length);
    }

    /**
     * The combination at {@code index}.
     *
     * @param index 0 to {@link #size()} - 1
     * @return its flags
     */
    long at(long index) {
      int half = 0;
      if (index >= halfSize[0]) {
        index -= halfSize[0];
        half = 1;
      }
      long[] e = entries[half];
      return environments[half][(int) (index / e.length)] | e[(int) (index % e.length)];
    }
  }
}
