package org.hvmmu.mmu;

/**
 * The expected outcome of one linear-address access under 4- or 5-level paging, written from the
 * Intel SDM vol. 3A rules alone, so that it shares no code and no constant with {@code
 * org.hvmmu.mmu}: §4.5 (entry formats and reserved bits), §4.6.1 (access rights, SMEP, SMAP),
 * §4.6.2 (protection keys, PKRU and IA32_PKRS), §4.7 (the #PF error code) and §4.8 (accessed and
 * dirty flags).
 *
 * <p>The entries of the walk are given by level ({@code entries[5]} the PML5E, {@code entries[1]}
 * the PTE; index 0 unused) and are updated in place to what memory holds after the access: on
 * success every entry used gets A and the leaf gets D for a write; on a fault nothing changes (the
 * model's default {@code AccessedOnFault.SUCCESS_ONLY}; the SDM lets a processor also set A in
 * upper entries of a faulting walk, which kvm-unit-tests' {@code access.c} therefore ignores).
 *
 * <pre>{@code
 * long[] e = {0, pte, pde, pdpte, pml4e, 0};
 * long r = AccessOracle.access(la, e, registers, AccessOracle.WRITE | AccessOracle.USER);
 * if (r < 0) { int errorCode = AccessOracle.errorCode(r); } else { long pa = r; }
 * }</pre>
 */
final class AccessOracle {
  private AccessOracle() {}

  // Register bits (SDM vol. 3A §2.5, §4.1.1).
  static final long CR0_PE = 1L;
  static final long CR0_WP = 1L << 16;
  static final long CR0_PG = 1L << 31;
  static final long CR4_PAE = 1L << 5;
  static final long CR4_LA57 = 1L << 12;
  static final long CR4_SMEP = 1L << 20;
  static final long CR4_SMAP = 1L << 21;
  static final long CR4_PKE = 1L << 22;
  static final long CR4_PKS = 1L << 24;
  static final long EFER_LME = 1L << 8;
  static final long EFER_LMA = 1L << 10;
  static final long EFER_NXE = 1L << 11;
  static final long RFLAGS_FIXED = 1L << 1;
  static final long RFLAGS_AC = 1L << 18;

  // Paging-structure entry bits (SDM vol. 3A tables 4-15 to 4-20).
  static final long P = 1L;
  static final long RW = 1L << 1;
  static final long US = 1L << 2;
  static final long A = 1L << 5;
  static final long D = 1L << 6;
  static final long PS = 1L << 7;
  static final long XD = 1L << 63;
  static final int KEY_SHIFT = 59;

  // #PF error code bits (SDM vol. 3A §4.7).
  static final int PF_P = 1;
  static final int PF_W = 1 << 1;
  static final int PF_U = 1 << 2;
  static final int PF_RSVD = 1 << 3;
  static final int PF_I = 1 << 4;
  static final int PF_PK = 1 << 5;

  // The oracle's own access encoding (a supervisor explicit data read is 0).
  static final int WRITE = 1;
  static final int FETCH = 2;
  static final int USER = 4;
  static final int IMPLICIT = 8;

  /**
   * The registers that decide an access.
   *
   * @param cr0 CR0
   * @param cr4 CR4 (PAE set; LA57 picks 5 levels)
   * @param efer IA32_EFER (LMA set)
   * @param pkru PKRU
   * @param pkrs IA32_PKRS
   * @param rflags RFLAGS
   * @param maxPhyAddr MAXPHYADDR
   */
  record Registers(long cr0, long cr4, long efer, int pkru, int pkrs, long rflags, int maxPhyAddr) {
    int levels() {
      return (cr4 & CR4_LA57) != 0 ? 5 : 4;
    }

    @Override
    public String toString() {
      return "CR0=0x" + Long.toHexString(cr0) + " CR4=0x" + Long.toHexString(cr4) + " EFER=0x"
          + Long.toHexString(efer) + " PKRU=0x" + Integer.toHexString(pkru) + " PKRS=0x"
          + Integer.toHexString(pkrs) + " RFLAGS=0x" + Long.toHexString(rflags) + " MAXPHYADDR="
          + maxPhyAddr;
    }
  }

  /**
   * Performs one access on the entries, as the SDM says a processor does without cached
   * translations.
   *
   * @param la the linear address
   * @param entries the entries by level, updated in place
   * @param r the registers
   * @param access {@link #WRITE}, {@link #FETCH}, {@link #USER}, {@link #IMPLICIT} bits
   * @return the physical address, or {@code ~errorCode} (negative) for a #PF
   */
  static long access(long la, long[] entries, Registers r, int access) {
    boolean write = (access & WRITE) != 0;
    boolean fetch = (access & FETCH) != 0;
    boolean user = (access & USER) != 0;
    boolean implicit = (access & IMPLICIT) != 0;
    boolean nxe = (r.efer() & EFER_NXE) != 0;
    boolean smep = (r.cr4() & CR4_SMEP) != 0;
    boolean smap = (r.cr4() & CR4_SMAP) != 0;
    boolean wp = (r.cr0() & CR0_WP) != 0;
    boolean ac = (r.rflags() & RFLAGS_AC) != 0;

    // §4.7: W/R and U/S describe the access; I/D is set for a fetch only with SMEP, or with PAE
    // paging (always, here) and NXE. P and RSVD describe the cause, PK is added below.
    int code = (write ? PF_W : 0) | (user ? PF_U : 0) | (fetch && (smep || nxe) ? PF_I : 0);

    // §4.5: bits 51:MAXPHYADDR are reserved in every entry; XD (63) is reserved without NXE; PS is
    // reserved in a PML5E and PML4E; a 1-GByte PDPTE reserves 29:13, a 2-MByte PDE 20:13.
    long high = ((1L << 52) - 1) & ~((1L << r.maxPhyAddr()) - 1);
    long reservedAll = high | (nxe ? 0 : XD);
    boolean userAddress = true;
    boolean writable = true;
    boolean executeDisabled = false;
    int leafLevel = 0;
    for (int level = r.levels(); level >= 1; level--) {
      long v = entries[level];
      if ((v & P) == 0) {
        return ~code; // not present: P = 0, and reserved bits are not checked
      }
      boolean leaf = level == 1 || (level <= 3 && (v & PS) != 0);
      long reserved = reservedAll;
      if (level >= 4) {
        reserved |= PS;
      } else if (leaf && level == 3) {
        reserved |= 0x3FFF_E000L;
      } else if (leaf && level == 2) {
        reserved |= 0x1F_E000L;
      }
      if ((v & reserved) != 0) {
        return ~(code | PF_P | PF_RSVD);
      }
      // §4.6.1: a user-mode address has U/S = 1 in every entry; R/W and XD likewise combine.
      userAddress &= (v & US) != 0;
      writable &= (v & RW) != 0;
      executeDisabled |= nxe && (v & XD) != 0;
      if (leaf) {
        leafLevel = level;
        break;
      }
    }
    long leaf = entries[leafLevel];

    // §4.6.1. SMAP blocks supervisor data accesses to user-mode addresses unless the access is
    // explicit and RFLAGS.AC = 1; implicit supervisor accesses are blocked whatever AC says.
    boolean smapDenies = !user && !fetch && userAddress && smap && (implicit || !ac);
    boolean denied;
    if (fetch) {
      // NX applies to both modes; user fetches need a user-mode address; SMEP forbids supervisor
      // fetches from user-mode addresses.
      denied = executeDisabled || (user ? !userAddress : smep && userAddress);
    } else if (write) {
      denied = user ? !userAddress || !writable : smapDenies || (wp && !writable);
    } else {
      denied = user ? !userAddress : smapDenies;
    }

    // §4.6.2 and §4.7 (PK): data accesses only; PKRU (with CR4.PKE) for user-mode addresses,
    // IA32_PKRS (with CR4.PKS) for supervisor-mode addresses; AD forbids every data access, WD
    // forbids writes that are user-mode or done with CR0.WP = 1. The PK condition is evaluated on
    // its own: it is reported even when the ordinary rights deny the access as well.
    boolean keyDenied = false;
    if (!fetch) {
      int key = (int) ((leaf >>> KEY_SHIFT) & 15);
      boolean pke = (r.cr4() & CR4_PKE) != 0;
      boolean pks = (r.cr4() & CR4_PKS) != 0;
      boolean keysApply = userAddress ? pke : pks;
      if (keysApply) {
        int rights = (userAddress ? r.pkru() : r.pkrs()) >>> (2 * key);
        boolean accessDisabled = (rights & 1) != 0;
        boolean writeDisabled = (rights & 2) != 0;
        keyDenied = accessDisabled || (write && writeDisabled && (user || wp));
      }
    }
    if (denied || keyDenied) {
      return ~(code | PF_P | (keyDenied ? PF_PK : 0));
    }

    // §4.8: A in every entry used, D in the leaf for a write.
    for (int level = r.levels(); level >= leafLevel; level--) {
      entries[level] |= A;
    }
    if (write) {
      entries[leafLevel] |= D;
    }
    int shift = 12 + 9 * (leafLevel - 1);
    long frameMask = ((1L << r.maxPhyAddr()) - 1) & ~((1L << shift) - 1);
    return (leaf & frameMask) | (la & ((1L << shift) - 1));
  }

  /**
   * The error code of a fault {@link #access} returned.
   *
   * @param result a negative result
   * @return the #PF error code
   */
  static int errorCode(long result) {
    return (int) ~result;
  }

  /**
   * A result in words: {@code "pa 0x..."} or {@code "#PF 0x11 (P|I)"}.
   *
   * @param result what {@link #access} returned
   * @return the text
   */
  static String describe(long result) {
    if (result >= 0) {
      return "pa 0x" + Long.toHexString(result);
    }
    return describeErrorCode(errorCode(result));
  }

  /**
   * An error code in words.
   *
   * @param code the #PF error code
   * @return for example {@code "#PF 0x7 (P|W|U)"}
   */
  static String describeErrorCode(long code) {
    String[] names = {"P", "W", "U", "RSVD", "I", "PK", "SS"};
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < names.length; i++) {
      if ((code & (1L << i)) != 0) {
        b.append(b.length() == 0 ? "" : "|").append(names[i]);
      }
    }
    if ((code & ~0x7FL) != 0) {
      b.append(b.length() == 0 ? "" : "|").append("0x").append(Long.toHexString(code & ~0x7FL));
    }
    return "#PF 0x" + Long.toHexString(code) + " (" + (b.length() == 0 ? "none" : b) + ")";
  }
}
