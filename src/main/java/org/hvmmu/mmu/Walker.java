package org.hvmmu.mmu;

import static org.hvmmu.mmu.PageEntry.A;
import static org.hvmmu.mmu.PageEntry.D;
import static org.hvmmu.mmu.PageEntry.EPT_A;
import static org.hvmmu.mmu.PageEntry.EPT_D;
import static org.hvmmu.mmu.PageEntry.EPT_PS;
import static org.hvmmu.mmu.PageEntry.EPT_XU;
import static org.hvmmu.mmu.PageEntry.G;
import static org.hvmmu.mmu.PageEntry.P;
import static org.hvmmu.mmu.PageEntry.PS;
import static org.hvmmu.mmu.PageEntry.RW;
import static org.hvmmu.mmu.PageEntry.US;

import org.hvmmu.mmu.MmuSwitches.AccessedOnFault;
import org.hvmmu.mmu.MmuSwitches.PscStyle;
import org.hvmmu.mmu.memory.PhysicalMemory;

/**
 * The hardware page walker of one vCPU: the guest walk in every paging mode (SDM vol. 3A ch. 4), the
 * EPT walk (vol. 3C ch. 28) and the NPT walk (AMD APM vol. 2 §15.25), and the 2-D walk that sends
 * every guest paging-structure address and the final guest-physical address through the nested
 * walk (SDM vol. 3C §28.3.2). One walker, parameterised by mode; scratch state is reused, so a walk
 * allocates nothing.
 *
 * <p>References are counted as entries read from memory: a cold 2-D walk of g guest levels over h
 * nested levels reads g guest entries and translates g + 1 guest-physical addresses, (g + 1)(h + 1)
 * - 1 in all.
 */
final class Walker {
  /** A walk lost a race to set A/D (the entry changed); it starts again. */
  static final long RESTART = -2L;

  /** Restarts before a walk gives up setting A/D and returns the translation it found. */
  static final int MAX_RESTARTS = 1000;

  // Nested access bits: the low bits are the EPT qualification's bits 0-2, 7 and 8.
  static final int N_READ = 1;
  static final int N_WRITE = 2;
  static final int N_FETCH = 4;
  static final int N_GLA_VALID = 1 << 7;
  static final int N_FINAL = 1 << 8;
  /** The guest translation is user-mode (MBEC picks bit 10; NPT ignores it). */
  static final int N_USER_LINEAR = 1 << 16;

  private final Vcpu cpu;
  private final PhysicalMemory memory;

  // Guest walk scratch, indexed by level (1 = PT ... 5 = PML5).
  private final long[] entryHpa = new long[6];
  private final long[] entryGpa = new long[6];
  private final long[] entryValue = new long[6];
  private final int[] entryNested = new int[6];
  private final int[] rightsThrough = new int[6];
  private final boolean[] fromMemory = new boolean[6];

  // Results of the last successful guest walk, for the TLB fill.
  long pageGpa;
  long pageHpa;
  int pageShift;
  int guestShift;
  int attr;
  boolean global;

  // Results of the last nested translation.
  int nestedAttr;
  int nestedShift;
  long nestedPageHpa;

  /** The EPT leaf entry of the last successful EPT walk (its memory type and ignore-PAT bits). */
  long eptLeaf = -1;

  /** Whether the last walk may be cached (false when it gave up setting A/D after a race). */
  boolean cacheable;

  /** Memory references of the current walk. */
  int references;

  /** Whether the last {@link #readEntry} read memory rather than the entry cache. */
  private boolean lastReadFromMemory;

  /** The nested walk's entries by level, for A/D updates and the entry cache. */
  private final long[] nestedPath = new long[6];
  private final long[] nestedPathValues = new long[6];
  private final boolean[] nestedFromMemory = new boolean[6];

  Walker(Vcpu cpu, PhysicalMemory memory) {
    this.cpu = cpu;
    this.memory = memory;
  }

  // ---- guest dimension ----------------------------------------------------------------------------

  /**
   * Walks the guest tables for {@code la} and, with nesting, the nested tables: the host-physical
   * address, or a fault. Sets the result fields for a TLB fill.
   */
  long walk(long la, int access, int cls) {
    references = 0;
    for (int attempt = 0; ; attempt++) {
      long r = walkOnce(la, access, cls, attempt < MAX_RESTARTS);
      if (r != RESTART) {
        return r;
      }
    }
  }

  private long walkOnce(long la, int access, int cls, boolean updateAccessedDirty) {
    Vcpu c = cpu;
    c.counters.walks++;
    PagingMode mode = c.mode;
    boolean nested = c.nesting != NestedPaging.NONE;
    boolean everyLevel = c.switches.accessedOnFault() == AccessedOnFault.EVERY_LEVEL_USED;
    int entrySize = mode.entrySize();
    int level;
    long tableGpa;
    int rw = 1;
    int us = 1;
    int xd = 0;
    int top;
    if (mode == PagingMode.PAE && c.nesting != NestedPaging.NPT) {
      long pdpte = c.pdpte[(int) (la >>> 30) & 3];
      if ((pdpte & P) == 0) {
        return pageFault(la, access, 0, false);
      }
      entryValue[3] = pdpte;
      fromMemory[3] = false;
      tableGpa = pdpte & c.addressMask;
      top = 2;
    } else if (mode == PagingMode.PAE) {
      // Under NPT the PDPTEs are read from guest memory on every walk (APM vol. 2 §15.25.10).
      tableGpa = c.cr3 & 0xFFFF_FFE0L;
      top = 3;
    } else if (mode == PagingMode.LEGACY_32) {
      tableGpa = c.cr3 & 0xFFFF_F000L;
      top = 2;
    } else {
      tableGpa = c.cr3 & c.addressMask;
      top = mode.levels();
    }
    level = top;
    long tableHpaFromCache = -1;
    int startLevel = top;
    int nestedOfTable = Rights.NESTED_ALL;
    // Intel-style paging-structure caches: the deepest hit skips the levels above it.
    if (c.switches.pscStyle() == PscStyle.INTEL_PREFIX) {
      for (int l = 2; l <= top; l++) {
        TranslationCache psc = c.psc[l];
        if (psc == null || !psc.enabled() || (mode == PagingMode.PAE && l == 3)) {
          continue;
        }
        int i = findPrefix(psc, mode, l, la, c.pscTag);
        if (i >= 0) {
          psc.touch(i);
          c.counters.pscHits[l]++;
          c.counters.cycles += c.latency.pagingStructureCacheHit();
          tableHpaFromCache = psc.value[i];
          tableGpa = psc.aux[i];
          int a = psc.attr[i];
          us = a & 1;
          rw = (a >>> 1) & 1;
          xd = (a >>> 2) & 1;
          nestedOfTable = a >>> 3;
          level = l - 1;
          startLevel = level;
          break;
        }
      }
      if (startLevel == top) {
        c.counters.pscMisses++;
      }
    }
    long value;
    boolean leaf;
    int rwAbove = rw;
    for (; ; level--) {
      int shift = levelShift(mode, level);
      int index = (int) (la >>> shift) & (entrySize == 4 ? 0x3FF : 0x1FF);
      if (mode == PagingMode.PAE && level == 3) {
        index = (int) (la >>> 30) & 3;
      }
      long gpa = tableGpa + (long) index * entrySize;
      long hpa;
      if (tableHpaFromCache >= 0) {
        hpa = tableHpaFromCache + (long) index * entrySize;
        entryNested[level] = nestedOfTable;
        tableHpaFromCache = -1;
      } else if (nested) {
        long r = nestedTranslate(gpa, guestTableAccess(), la, 0);
        if (r < 0) {
          return r;
        }
        hpa = r;
        entryNested[level] = nestedAttr;
      } else {
        hpa = gpa;
        entryNested[level] = Rights.NESTED_ALL;
      }
      value = readEntry(hpa, entrySize, level, false);
      fromMemory[level] = lastReadFromMemory;
      entryHpa[level] = hpa;
      entryGpa[level] = gpa;
      entryValue[level] = value;
      if ((value & P) == 0) {
        return pageFault(la, access, 0, true);
      }
      if ((value & c.reserved(level, value)) != 0) {
        return pageFault(la, access, PageFaultErrorCode.P | PageFaultErrorCode.RSVD, true);
      }
      rwAbove = rw;
      if (!(mode == PagingMode.PAE && level == 3)) {
        rw &= (int) (value >>> 1) & 1;
        us &= (int) (value >>> 2) & 1;
        if (c.nxe) {
          xd |= (int) (value >>> 63);
        }
      }
      rightsThrough[level] = us | (rw << 1) | (xd << 2);
      leaf = level == 1 || (level == 2 && (value & PS) != 0 && (mode != PagingMode.LEGACY_32 || c.pse))
          || (level == 3 && (value & PS) != 0 && mode.isLongMode());
      if (everyLevel && updateAccessedDirty && (value & A) == 0 && !(mode == PagingMode.PAE
          && level == 3)) {
        long r = setAccessedDirty(level, entrySize, A, la);
        if (r != 0) {
          return r;
        }
        value |= A;
      }
      if (leaf) {
        break;
      }
      tableGpa = nextTable(mode, value, c);
    }
    // The leaf.
    int leafLevel = level;
    int shift = leafShift(mode, leafLevel);
    long frame = leafFrame(mode, leafLevel, value, c);
    boolean dirty = (value & D) != 0;
    // A shadow-stack page: the leaf read-only and dirty, every entry above it writable (SDM vol. 3A
    // §4.6.1).
    boolean ssp = (value & RW) == 0 && dirty && rwAbove == 1;
    int key = mode.isLongMode() ? (int) (value >>> PageEntry.KEY_SHIFT) & 15 : 0;
    int guestAttr = us | (rw << 1) | (xd << 2) | (dirty ? Rights.D : 0) | (ssp ? Rights.SSP : 0)
        | (key << Rights.KEY_SHIFT);
    boolean write = (cls & Rights.CLS_WRITE) != 0;
    // Rights are checked on the guest translation before A/D and before the final nested access.
    int allowed = c.permitted[(guestAttr | Rights.NESTED_ALL) & Rights.TABLE_MASK]
        & c.keyAllowed[key | (us << 4)];
    if (((allowed >>> cls) & 1) == 0) {
      boolean keyDenied = ((c.keyAllowed[key | (us << 4)] >>> cls) & 1) == 0;
      return pageFault(la, access,
          PageFaultErrorCode.P | (keyDenied ? PageFaultErrorCode.PK : 0), true);
    }
    // Accessed and dirty flags, top down, with a locked compare-and-set each.
    if (updateAccessedDirty) {
      for (int l = startLevel; l >= leafLevel; l--) {
        if (mode == PagingMode.PAE && l == 3) {
          continue; // PAE PDPTEs have no accessed flag
        }
        long v = entryValue[l];
        long need = (v & A) == 0 ? A : 0;
        if (l == leafLevel && write && (v & D) == 0) {
          need |= D;
        }
        if (need != 0) {
          long r = setAccessedDirty(l, entrySize, need, la);
          if (r != 0) {
            return r;
          }
        }
      }
      if (write) {
        dirty = true;
        guestAttr |= Rights.D;
      }
    }
    long offsetMask = (1L << shift) - 1;
    long gpaOfAccess = frame | (la & offsetMask);
    long hpa;
    int combinedShift = shift;
    int nAttr = Rights.NESTED_ALL;
    if (nested) {
      int na = finalAccess(cls) | N_GLA_VALID | N_FINAL | (us != 0 ? N_USER_LINEAR : 0);
      long r = nestedTranslate(gpaOfAccess, na, la, guestAttr);
      if (r < 0) {
        return r;
      }
      hpa = r;
      nAttr = nestedAttr;
      combinedShift = Math.min(shift, nestedShift);
    } else {
      hpa = gpaOfAccess;
    }
    if (updateAccessedDirty) {
      fillPagingStructureCaches(la, mode, startLevel, leafLevel, top);
    }
    guestShift = shift;
    pageShift = combinedShift;
    long sizeMask = (1L << combinedShift) - 1;
    pageGpa = gpaOfAccess & ~sizeMask;
    pageHpa = hpa & ~sizeMask;
    attr = guestAttr | nAttr;
    global = (value & G) != 0 && c.pge;
    cacheable = updateAccessedDirty;
    return hpa;
  }

  private int guestTableAccess() {
    Vcpu c = cpu;
    // With EPT A/D every guest paging-structure access is a write (SDM vol. 3C §28.3.5); AMD treats
    // guest page-table accesses of a nested walk as user writes (kvm-unit-tests svm_npt.c vectors
    // npt_rw_pfwalk, 0x2_0000_0007, and the reserved-bit PML4E/PDPE cases, 0x2_0000_000F).
    if ((c.nesting == NestedPaging.EPT && c.eptAccessedDirty) || c.nesting == NestedPaging.NPT) {
      return N_READ | N_WRITE | N_GLA_VALID;
    }
    return N_READ | N_GLA_VALID;
  }

  private static int finalAccess(int cls) {
    if ((cls & Rights.CLS_FETCH) != 0) {
      return N_FETCH;
    }
    return (cls & Rights.CLS_WRITE) != 0 ? N_WRITE : N_READ;
  }

  /** Sets {@code bits} in the entry at {@code level}; 0, {@link #RESTART} or a nested fault. */
  private long setAccessedDirty(int level, int entrySize, long bits, long la) {
    Vcpu c = cpu;
    if (c.nesting != NestedPaging.NONE && (entryNested[level] & Rights.NW) == 0) {
      // The locked update needs write access to the page holding the entry.
      return nestedDeniedForUpdate(level, la);
    }
    long old = entryValue[level];
    boolean ok;
    if (entrySize == 8) {
      ok = memory.compareAndSet(entryHpa[level], 8, old, old | bits);
    } else {
      ok = memory.compareAndSet(entryHpa[level], 4, old, old | bits);
    }
    if (!ok) {
      return RESTART;
    }
    entryValue[level] = old | bits;
    c.counters.accessedDirtyWrites++;
    c.counters.cycles += c.latency.accessedDirtyUpdate();
    return 0;
  }

  private long nestedDeniedForUpdate(int level, long la) {
    Vcpu c = cpu;
    int n = entryNested[level];
    long gpa = entryGpa[level];
    if (c.nesting == NestedPaging.EPT) {
      long q = EptQualification.READ | EptQualification.WRITE | EptQualification.GLA_VALID
          | eptPermissionBits(n, c.eptMbec);
      return c.eptViolation(q, gpa, la);
    }
    long info = PageFaultErrorCode.P | PageFaultErrorCode.W | PageFaultErrorCode.U
        | NpfExitInfo.GUEST_PAGE_TABLE;
    return c.nestedPageFault(info, gpa);
  }

  static long eptPermissionBits(int nAttr, boolean mbec) {
    long q = 0;
    if ((nAttr & Rights.NR) != 0) {
      q |= EptQualification.PERM_READ;
    }
    if ((nAttr & Rights.NW) != 0) {
      q |= EptQualification.PERM_WRITE;
    }
    if ((nAttr & Rights.NXS) != 0) {
      q |= EptQualification.PERM_EXEC;
    }
    if (mbec && (nAttr & Rights.NXU) != 0) {
      q |= EptQualification.PERM_USER_EXEC;
    }
    return q;
  }

  private long readEntry(long hpa, int size, int level, boolean nestedEntry) {
    Vcpu c = cpu;
    if (c.switches.pscStyle() == PscStyle.AMD_PHYSICAL && level >= 2 && c.entryCache != null
        && c.entryCache.enabled()) {
      TranslationCache ec = c.entryCache;
      long key = hpa | (nestedEntry ? 1L << 62 : 0);
      int set = (int) (hpa >>> 3) & ec.setMask;
      int i = ec.find(set, key, key);
      if (i >= 0) {
        ec.touch(i);
        c.counters.pscHits[level]++;
        c.counters.cycles += c.latency.pagingStructureCacheHit();
        lastReadFromMemory = false;
        return ec.value[i];
      }
    }
    long v = memory.read(hpa, size);
    lastReadFromMemory = true;
    countReference();
    return v;
  }

  private void countReference() {
    Vcpu c = cpu;
    references++;
    if (c.nesting == NestedPaging.NONE) {
      c.counters.references1d++;
    } else {
      c.counters.references2d++;
    }
    c.counters.cycles += c.latency.memoryReference();
  }

  private void fillPagingStructureCaches(long la, PagingMode mode, int startLevel, int leafLevel,
      int top) {
    Vcpu c = cpu;
    if (c.switches.pscStyle() == PscStyle.INTEL_PREFIX) {
      for (int l = startLevel; l > leafLevel; l--) {
        if (mode == PagingMode.PAE && l == 3) {
          continue;
        }
        TranslationCache psc = c.psc[l];
        if (psc == null || !psc.enabled()) {
          continue;
        }
        long prefix = (la & Vcpu.LA_MASK) >>> levelShift(mode, l);
        int set = (int) prefix & psc.setMask;
        long key = prefix | c.pscTag;
        int i = psc.find(set, key, key);
        if (i < 0) {
          i = psc.victim(set);
        }
        long nextHpa = entryHpa[l - 1] & ~0xFFFL;
        long nextGpa = entryGpa[l - 1] & ~0xFFFL;
        psc.fill(i, key, nextHpa, nextGpa, rightsThrough[l] | (entryNested[l - 1] << 3), 0);
        c.markPscDirty();
      }
    } else if (c.switches.pscStyle() == PscStyle.AMD_PHYSICAL && c.entryCache != null
        && c.entryCache.enabled()) {
      for (int l = top; l > leafLevel; l--) {
        if (l < 2 || !fromMemory[l] || (mode == PagingMode.PAE && l == 3 && c.nesting
            != NestedPaging.NPT)) {
          continue;
        }
        cacheEntry(entryHpa[l], entryValue[l], false);
      }
    }
  }

  private void cacheEntry(long hpa, long value, boolean nestedEntry) {
    TranslationCache ec = cpu.entryCache;
    long key = hpa | (nestedEntry ? 1L << 62 : 0);
    int set = (int) (hpa >>> 3) & ec.setMask;
    int i = ec.find(set, key, key);
    if (i < 0) {
      i = ec.victim(set);
    }
    ec.fill(i, key, value, 0, 0, 0);
  }

  private long pageFault(long la, int access, int bits, boolean walked) {
    Vcpu c = cpu;
    long code = bits | (access & (Access.WRITE | Access.USER | Access.SHADOW_STACK));
    if ((access & Access.FETCH) != 0 && (c.nxe || c.smep)) {
      code |= PageFaultErrorCode.I;
    }
    return c.pageFault(code, la);
  }

  /**
   * The slot of the Intel-style paging-structure cache {@code psc} (level {@code level}) holding
   * the prefix of {@code la} under the context tag {@code tag}, or -1.
   */
  static int findPrefix(TranslationCache psc, PagingMode mode, int level, long la, long tag) {
    long prefix = (la & Vcpu.LA_MASK) >>> levelShift(mode, level);
    return psc.find((int) prefix & psc.setMask, prefix | tag, prefix | tag);
  }

  static int levelShift(PagingMode mode, int level) {
    if (mode == PagingMode.LEGACY_32) {
      return level == 2 ? 22 : 12;
    }
    return 12 + 9 * (level - 1);
  }

  private static int leafShift(PagingMode mode, int level) {
    return levelShift(mode, level);
  }

  private static long nextTable(PagingMode mode, long value, Vcpu c) {
    if (mode == PagingMode.LEGACY_32) {
      return value & 0xFFFF_F000L;
    }
    return value & c.addressMask;
  }

  private static long leafFrame(PagingMode mode, int level, long value, Vcpu c) {
    if (mode == PagingMode.LEGACY_32) {
      if (level == 1) {
        return value & 0xFFFF_F000L;
      }
      // PSE-36: PDE bits 20:13 are physical-address bits 39:32 (SDM vol. 3A table 4-4).
      return (value & 0xFFC0_0000L) | (((value >>> 13) & 0xFFL) << 32);
    }
    long size = 1L << levelShift(mode, level);
    return value & c.addressMask & ~(size - 1);
  }

  // ---- nested dimension ---------------------------------------------------------------------------

  /**
   * Translates a guest-physical address through EPT or NPT: the host-physical address, or a fault.
   * Sets {@link #nestedAttr} and {@link #nestedShift}. {@code guestAttr} gives the advanced
   * exit-information bits of a final access.
   */
  long nestedTranslate(long gpa, int nAccess, long la, int guestAttr) {
    Vcpu c = cpu;
    // Guest-physical mappings (the nested TLB).
    TranslationCache ntlb = c.nestedTlb;
    if (ntlb.enabled()) {
      for (int sizeCode = 0; sizeCode < 3; sizeCode++) {
        int shift = 12 + 9 * sizeCode;
        long vpn = gpa >>> shift;
        int set = (int) vpn & ntlb.setMask;
        long key = vpn | ((long) sizeCode << 45) | c.nestedTag;
        int i = ntlb.find(set, key, key);
        if (i >= 0) {
          int a = ntlb.attr[i];
          boolean write = (nAccess & N_WRITE) != 0;
          if (nestedAllowed(a, nAccess, c) && (!write || (a & Rights.ND) != 0)) {
            ntlb.touch(i);
            c.counters.nestedTlbHits++;
            c.counters.cycles += c.latency.pagingStructureCacheHit();
            nestedAttr = a;
            nestedShift = shift;
            nestedPageHpa = ntlb.value[i];
            return ntlb.value[i] | (gpa & ((1L << shift) - 1));
          }
          if (!nestedAllowed(a, nAccess, c) && c.switches.tlbMode() == MmuSwitches.TlbMode.STRICT) {
            // A cached guest-physical mapping that denies the access faults without a walk.
            ntlb.touch(i);
            c.counters.nestedTlbHits++;
            return nestedDenied(a, nAccess, gpa, la, guestAttr);
          }
          break;
        }
      }
      c.counters.nestedTlbMisses++;
    }
    for (int attempt = 0; ; attempt++) {
      long r = c.nesting == NestedPaging.EPT
          ? eptWalk(gpa, nAccess, la, guestAttr, attempt < MAX_RESTARTS)
          : nptWalk(gpa, nAccess, la, attempt < MAX_RESTARTS);
      if (r != RESTART) {
        return r;
      }
    }
  }

  private static boolean nestedAllowed(int a, int nAccess, Vcpu c) {
    if ((nAccess & N_FETCH) != 0) {
      int bit = c.eptMbec && (nAccess & N_USER_LINEAR) != 0 ? Rights.NXU : Rights.NXS;
      return (a & bit) != 0;
    }
    if ((a & Rights.NR) == 0) {
      return false;
    }
    return (nAccess & N_WRITE) == 0 || (a & Rights.NW) != 0;
  }

  private long nestedDenied(int a, int nAccess, long gpa, long la, int guestAttr) {
    Vcpu c = cpu;
    if (c.nesting == NestedPaging.EPT) {
      long q = (nAccess & 7) | eptPermissionBits(a, c.eptMbec) | glaBits(nAccess, guestAttr, c);
      return c.eptViolation(q, gpa, la);
    }
    long info = PageFaultErrorCode.P | PageFaultErrorCode.U
        | ((nAccess & N_WRITE) != 0 ? PageFaultErrorCode.W : 0)
        | ((nAccess & N_FETCH) != 0 && (c.hostNxe || c.hostSmep) ? PageFaultErrorCode.I : 0)
        | ((nAccess & N_FINAL) != 0 ? NpfExitInfo.FINAL_TRANSLATION : NpfExitInfo.GUEST_PAGE_TABLE);
    return c.nestedPageFault(info, gpa);
  }

  /**
   * Qualification bits 7 and 8 of a nested access and, for a final access with the advanced
   * information capability, bits 9-11 from the guest translation's rights.
   */
  static long glaBits(int nAccess, int guestAttr, Vcpu c) {
    long q = nAccess & (N_GLA_VALID | N_FINAL);
    if ((nAccess & N_FINAL) != 0 && (nAccess & N_GLA_VALID) != 0
        && c.features.eptAdvancedExitInfo()) {
      if ((guestAttr & Rights.U) != 0) {
        q |= EptQualification.GUEST_USER;
      }
      if ((guestAttr & Rights.W) != 0) {
        q |= EptQualification.GUEST_WRITABLE;
      }
      if ((guestAttr & Rights.NX) != 0) {
        q |= EptQualification.GUEST_NX;
      }
    }
    return q;
  }

  private long eptWalk(long gpa, int nAccess, long la, int guestAttr, boolean updateAccessedDirty) {
    Vcpu c = cpu;
    boolean mbec = c.eptMbec;
    int top = c.eptLevels;
    long table = c.eptp & c.addressMask;
    int level = top;
    long rights = PageEntry.EPT_R | PageEntry.EPT_W | PageEntry.EPT_X | EPT_XU;
    if (c.switches.pscStyle() == PscStyle.INTEL_PREFIX) {
      for (int l = 2; l <= Math.min(top, 4); l++) {
        TranslationCache psc = c.nestedPsc[l];
        if (psc == null || !psc.enabled()) {
          continue;
        }
        long prefix = gpa >>> (12 + 9 * (l - 1));
        int set = (int) prefix & psc.setMask;
        long key = prefix | c.nestedTag;
        int i = psc.find(set, key, key);
        if (i >= 0) {
          psc.touch(i);
          c.counters.cycles += c.latency.pagingStructureCacheHit();
          table = psc.value[i];
          rights = psc.aux[i];
          level = l - 1;
          break;
        }
      }
    }
    int startLevel = level;
    boolean everyLevel = c.switches.accessedOnFault() == AccessedOnFault.EVERY_LEVEL_USED;
    boolean ad = c.eptAccessedDirty;
    long value;
    for (; ; level--) {
      int shift = 12 + 9 * (level - 1);
      long pa = table + ((gpa >>> shift) & 0x1FF) * 8;
      value = readEntry(pa, 8, level, true);
      nestedPath[level] = pa;
      nestedPathValues[level] = value;
      nestedFromMemory[level] = lastReadFromMemory;
      boolean present = (value & 7) != 0 || (mbec && (value & EPT_XU) != 0);
      if (!present) {
        long q = (nAccess & 7) | glaBits(nAccess, guestAttr, c);
        return c.eptViolation(q, gpa, la);
      }
      if (eptMisconfigured(value, level, c)) {
        return c.eptMisconfig(gpa, la);
      }
      rights &= value;
      if (ad && everyLevel && updateAccessedDirty && (value & EPT_A) == 0) {
        if (!setNestedBits(level, EPT_A)) {
          return RESTART;
        }
      }
      if (level == 1 || (value & EPT_PS) != 0) {
        break;
      }
      table = value & c.addressMask;
    }
    int leafLevel = level;
    int shift = 12 + 9 * (leafLevel - 1);
    int a = ((rights & 1) != 0 ? Rights.NR : 0) | ((rights & 2) != 0 ? Rights.NW : 0)
        | ((rights & 4) != 0 ? Rights.NXS : 0)
        | ((mbec ? (rights & EPT_XU) != 0 : (rights & 4) != 0) ? Rights.NXU : 0);
    if (!nestedAllowed(a, nAccess, c)) {
      long q = (nAccess & 7) | eptPermissionBits(a, mbec) | glaBits(nAccess, guestAttr, c);
      return c.eptViolation(q, gpa, la);
    }
    boolean write = (nAccess & N_WRITE) != 0;
    // SDM vol. 3C §28.3.5: A in every entry used, D in the leaf for a write.
    if (ad && updateAccessedDirty
        && !setNestedAccessedDirty(startLevel, leafLevel, write, EPT_A, EPT_D)) {
      return RESTART;
    }
    value = nestedPathValues[leafLevel];
    eptLeaf = value;
    if (!ad || (value & EPT_D) != 0) {
      a |= Rights.ND;
    }
    long pageBase = value & c.addressMask & ~((1L << shift) - 1);
    if (updateAccessedDirty) {
      cacheNestedWalk(gpa, startLevel, leafLevel, shift, pageBase, a);
    }
    nestedAttr = a;
    nestedShift = shift;
    nestedPageHpa = pageBase;
    return pageBase | (gpa & ((1L << shift) - 1));
  }

  /**
   * Sets {@code accessed} in every nested entry the walk read and {@code dirty} in its leaf for a
   * write; false if an entry changed meanwhile (the walk starts again).
   */
  private boolean setNestedAccessedDirty(int startLevel, int leafLevel, boolean write,
      long accessed, long dirty) {
    for (int l = startLevel; l >= leafLevel; l--) {
      long v = nestedPathValues[l];
      long need = (v & accessed) == 0 ? accessed : 0;
      if (l == leafLevel && write && (v & dirty) == 0) {
        need |= dirty;
      }
      if (need != 0 && !setNestedBits(l, need)) {
        return false;
      }
    }
    return true;
  }

  /** Sets {@code bits} in the nested entry at {@code level} with a locked compare-and-set. */
  private boolean setNestedBits(int level, long bits) {
    long old = nestedPathValues[level];
    if (!memory.compareAndSet(nestedPath[level], 8, old, old | bits)) {
      return false;
    }
    nestedPathValues[level] = old | bits;
    Vcpu c = cpu;
    c.counters.accessedDirtyWrites++;
    c.counters.cycles += c.latency.accessedDirtyUpdate();
    return true;
  }

  /** Fills the nested TLB and the nested paging-structure or entry caches after a nested walk. */
  private void cacheNestedWalk(long gpa, int startLevel, int leafLevel, int shift, long pageBase,
      int a) {
    Vcpu c = cpu;
    fillNestedTlb(gpa, shift, pageBase, a);
    PscStyle style = c.switches.pscStyle();
    long rights = PageEntry.EPT_R | PageEntry.EPT_W | PageEntry.EPT_X | EPT_XU;
    for (int l = startLevel; l > leafLevel; l--) {
      long v = nestedPathValues[l];
      rights &= v;
      if (style == PscStyle.INTEL_PREFIX && c.nesting == NestedPaging.EPT && l <= 4) {
        cacheNestedPrefix(gpa, l, v & c.addressMask, rights);
      } else if (style == PscStyle.AMD_PHYSICAL && nestedFromMemory[l] && c.entryCache != null
          && c.entryCache.enabled() && l >= 2) {
        cacheEntry(nestedPath[l], v, true);
      }
    }
  }

  /** SDM vol. 3C §28.2.3.1: reserved bits and reserved combinations of a present entry. */
  private static boolean eptMisconfigured(long value, int level, Vcpu c) {
    long rwx = value & 7;
    if ((rwx & 3) == 2) {
      return true; // write without read
    }
    if (!c.features.eptExecuteOnly() && (value & 1) == 0
        && ((value & 4) != 0 || (c.eptMbec && (value & EPT_XU) != 0))) {
      return true; // execute-only without the capability
    }
    if ((value & c.reservedHigh) != 0) {
      return true;
    }
    boolean large = (value & EPT_PS) != 0 && level >= 2;
    if (level >= 4 && (value & 0xF8L) != 0) {
      return true; // PML5E and PML4E bits 7:3
    }
    if (level == 3 && large && !c.features.ept1gPages()) {
      return true;
    }
    if ((level == 3 || level == 2) && !large && (value & 0x78L) != 0) {
      return true; // bits 6:3 of an entry that references a table
    }
    if (level == 1 || large) {
      int type = (int) ((value & PageEntry.EPT_MEMORY_TYPE_MASK) >>> PageEntry.EPT_MEMORY_TYPE_SHIFT);
      if (type == 2 || type == 3 || type == 7) {
        return true;
      }
      if (large && (value & (((1L << (12 + 9 * (level - 1))) - 1) & ~0xFFFL)) != 0) {
        return true; // frame bits below the page size
      }
    }
    return false;
  }

  private void cacheNestedPrefix(long gpa, int level, long nextTable, long rights) {
    Vcpu c = cpu;
    TranslationCache psc = c.nestedPsc[level];
    if (psc == null || !psc.enabled()) {
      return;
    }
    long prefix = gpa >>> (12 + 9 * (level - 1));
    int set = (int) prefix & psc.setMask;
    long key = prefix | c.nestedTag;
    int i = psc.find(set, key, key);
    if (i < 0) {
      i = psc.victim(set);
    }
    psc.fill(i, key, nextTable, rights, 0, 0);
    c.markNestedDirty();
  }

  private void fillNestedTlb(long gpa, int shift, long pageBase, int a) {
    Vcpu c = cpu;
    TranslationCache ntlb = c.nestedTlb;
    if (!ntlb.enabled()) {
      return;
    }
    int sizeCode = (shift - 12) / 9;
    long vpn = gpa >>> shift;
    int set = (int) vpn & ntlb.setMask;
    long key = vpn | ((long) sizeCode << 45) | c.nestedTag;
    int i = ntlb.find(set, key, key);
    if (i < 0) {
      i = ntlb.victim(set);
    }
    ntlb.fill(i, key, pageBase, gpa & ~((1L << shift) - 1), a, 0);
    c.markNestedDirty();
  }

  private long nptWalk(long gpa, int nAccess, long la, boolean updateAccessedDirty) {
    Vcpu c = cpu;
    int level = c.nptLevels;
    int startLevel = level;
    long table = c.ncr3 & c.addressMask;
    int us = 1;
    int rw = 1;
    int nx = 0;
    boolean write = (nAccess & N_WRITE) != 0;
    boolean fetch = (nAccess & N_FETCH) != 0;
    // EXITINFO1: a #PF error code of a user access (APM vol. 2 §15.25.6), then bit 32 or 33.
    long info = PageFaultErrorCode.U | (write ? PageFaultErrorCode.W : 0)
        | (fetch && (c.hostNxe || c.hostSmep) ? PageFaultErrorCode.I : 0)
        | ((nAccess & N_FINAL) != 0 ? NpfExitInfo.FINAL_TRANSLATION : NpfExitInfo.GUEST_PAGE_TABLE);
    boolean everyLevel = c.switches.accessedOnFault() == AccessedOnFault.EVERY_LEVEL_USED;
    long value;
    for (; ; level--) {
      int shift = 12 + 9 * (level - 1);
      long pa = table + ((gpa >>> shift) & 0x1FF) * 8;
      value = readEntry(pa, 8, level, true);
      nestedPath[level] = pa;
      nestedPathValues[level] = value;
      nestedFromMemory[level] = lastReadFromMemory;
      if ((value & P) == 0) {
        return c.nestedPageFault(info, gpa);
      }
      if ((value & c.hostReserved(level, value)) != 0) {
        return c.nestedPageFault(info | PageFaultErrorCode.P | PageFaultErrorCode.RSVD, gpa);
      }
      us &= (int) (value >>> 2) & 1;
      rw &= (int) (value >>> 1) & 1;
      if (c.hostNxe) {
        nx |= (int) (value >>> 63);
      }
      if (everyLevel && updateAccessedDirty && (value & A) == 0) {
        if (!setNestedBits(level, A)) {
          return RESTART;
        }
      }
      if (level == 1 || (level <= 3 && (value & PS) != 0)) {
        break;
      }
      table = value & c.addressMask;
    }
    int leafLevel = level;
    if (us == 0 || (write && rw == 0) || (fetch && nx != 0)) {
      return c.nestedPageFault(info | PageFaultErrorCode.P, gpa);
    }
    if (updateAccessedDirty && !setNestedAccessedDirty(startLevel, leafLevel, write, A, D)) {
      return RESTART;
    }
    value = nestedPathValues[leafLevel];
    int shift = 12 + 9 * (leafLevel - 1);
    int a = Rights.NR | (rw != 0 ? Rights.NW : 0) | (nx == 0 ? Rights.NXS | Rights.NXU : 0)
        | ((value & D) != 0 ? Rights.ND : 0);
    long pageBase = value & c.addressMask & ~((1L << shift) - 1);
    if (updateAccessedDirty) {
      cacheNestedWalk(gpa, startLevel, leafLevel, shift, pageBase, a);
    }
    nestedAttr = a;
    nestedShift = shift;
    nestedPageHpa = pageBase;
    return pageBase | (gpa & ((1L << shift) - 1));
  }
}
