package org.hvmmu.mmu;

import static org.hvmmu.mmu.ControlRegisters.CR0_PE;
import static org.hvmmu.mmu.ControlRegisters.CR0_PG;
import static org.hvmmu.mmu.ControlRegisters.CR0_WP;
import static org.hvmmu.mmu.ControlRegisters.CR3_NOFLUSH;
import static org.hvmmu.mmu.ControlRegisters.CR3_PCID_MASK;
import static org.hvmmu.mmu.ControlRegisters.CR4_CET;
import static org.hvmmu.mmu.ControlRegisters.CR4_LA57;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PCIDE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PGE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PKE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PKS;
import static org.hvmmu.mmu.ControlRegisters.CR4_PSE;
import static org.hvmmu.mmu.ControlRegisters.CR4_SMAP;
import static org.hvmmu.mmu.ControlRegisters.CR4_SMEP;
import static org.hvmmu.mmu.ControlRegisters.EFER_LMA;
import static org.hvmmu.mmu.ControlRegisters.EFER_LME;
import static org.hvmmu.mmu.ControlRegisters.EFER_NXE;
import static org.hvmmu.mmu.ControlRegisters.RFLAGS_AC;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.hvmmu.mmu.MmuSwitches.PscStyle;
import org.hvmmu.mmu.MmuSwitches.TlbMode;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.mmu.memory.RegionKind;

/**
 * One logical processor's MMU: its control registers and the MSRs that matter, its TLBs and
 * paging-structure caches, its counters, and the translation an emulator calls on every guest load,
 * store and fetch.
 *
 * <pre>{@code
 * PhysicalMemory memory = new PhysicalMemory(46);
 * memory.addRam(0, 0xffff);
 * Vcpu vcpu = Vcpu.create(memory);
 * vcpu.loadState(cr0, cr3, cr4, efer);             // as a VM entry or a dump sets them
 * long r = vcpu.translate(la, Access.WRITE | Access.USER);
 * if (Fault.isFault(r)) { ... Fault.code(r), vcpu.cr2() ... } else { long pa = r; }
 * long v = vcpu.read(la, 8, Access.USER);           // or vcpu.lastFault() != 0
 * }</pre>
 *
 * <p>Translation follows Intel SDM vol. 3A ch. 4 (32-bit, PAE, 4- and 5-level paging), vol. 3C ch. 28
 * (EPT, VPIDs, cached mappings) and AMD APM vol. 2 §15.25 (NPT); where they let processors differ,
 * {@link MmuSwitches} chooses. Faults are values ({@link Fault}), never exceptions; exceptions are
 * for caller errors only (an invalid access combination, a bad size, a linear address above 2^32
 * outside IA-32e mode).
 *
 * <p>Threads: one vCPU belongs to one thread. Several vCPUs may share one {@link PhysicalMemory};
 * accessed and dirty flags are set with compare-and-set, so a walk racing with another vCPU's walk
 * or with stores to the tables never loses a flag and never sets one on an entry it did not use (a
 * walk whose entry changed under it starts again). Nothing on the translation, read, write or fetch
 * paths allocates, faults included; neither do the invalidations.
 *
 * <p>After changing the regions of the memory (which may drop RAM frames a TLB entry points at), call
 * {@link #flushAll()}.
 */
public final class Vcpu {
  /** Linear-address bits that tags use: 56:0. */
  static final long LA_MASK = (1L << 57) - 1;

  private static final int KIND_NON_GLOBAL = 0;
  private static final int KIND_GLOBAL = 1;
  private static final int BOTH_KINDS = 3;
  private static final int NON_GLOBAL = 1;
  private static final int GLOBAL_ONLY = 2;

  final PhysicalMemory memory;
  final MmuFeatures features;
  final MmuSwitches switches;
  final LatencyModel latency;
  final MmuCounters counters;
  private final Walker walker;

  // Architectural state.
  long cr0;
  long cr2;
  long cr3;
  long cr4;
  long efer;
  int pkru;
  int pkrs;
  boolean ac;
  final long[] pdpte = new long[4];
  PagingMode mode = PagingMode.NONE;
  NestedPaging nesting = NestedPaging.NONE;
  long eptp;
  int eptLevels;
  boolean eptAccessedDirty;
  boolean eptMbec;
  long ncr3;
  int nptLevels = 4;
  boolean hostNxe = true;
  boolean hostSmep;
  int vpid;

  // Derived state.
  boolean nxe;
  boolean pse;
  boolean pge;
  boolean smep;
  long addressMask;
  long reservedHigh;
  private int linearBits = 32;
  private int largeShift = 21;
  private int pcid;
  private final long[] reservedNonLeaf = new long[6];
  private final long[] reservedLeaf = new long[6];
  private final long[] hostReservedNonLeaf = new long[6];
  private final long[] hostReservedLeaf = new long[6];
  final int[] permitted = new int[1 << Rights.TABLE_BITS];
  private final int[] hitAllowed = new int[1 << Rights.TABLE_BITS];
  final int[] keyAllowed = new int[32];

  // The fast path.
  private static final int CLASS_INDEX_MASK = (1 << 10) - 1;
  private final int[] classWithoutAc = new int[CLASS_INDEX_MASK + 1];
  private final int[] classWithAc = new int[CLASS_INDEX_MASK + 1];
  private int[] classTable = classWithoutAc;
  private TranslationCache fastData;
  private TranslationCache fastCode;
  private boolean fastPath;
  private int canonicalShift = 63;
  private boolean sawEntry;

  // Faults.
  private long faultGpa = -1;
  private long faultGla = -1;
  private long lastFault;
  private int lastPageShift = 12;
  private byte[] hitPage;

  // Translation caches.
  private final TranslationCache[] tlbs;
  private final int[] tlbSizes;
  private final TranslationCache[] l1Data;
  private final int[] l1DataSizes;
  private final TranslationCache[] l1Code;
  private final int[] l1CodeSizes;
  private final TranslationCache[] l2Data;
  private final int[] l2DataSizes;
  private final TranslationCache[] l2Code;
  private final int[] l2CodeSizes;
  final TranslationCache[] psc = new TranslationCache[6];
  final TranslationCache entryCache;
  final TranslationCache nestedTlb;
  final TranslationCache[] nestedPsc = new TranslationCache[5];

  // Context ids, shifted into place for tags.
  private final ContextTable tlbContexts;
  private final ContextTable pscContexts;
  private final ContextTable nestedContexts;
  private int tlbSlot;
  private int globalSlot;
  private int pscSlot;
  private int nestedSlot;
  long tlbTag;
  long globalTag;
  long pscTag;
  long nestedTag;

  /**
   * Creates a vCPU in the state after RESET with paging off (CR0 = PE only, everything else 0).
   *
   * @param memory the physical memory it accesses (shared with other vCPUs)
   * @param features what the processor supports; its MAXPHYADDR must equal the memory's
   * @param switches the behaviour switches
   * @param tlbConfig its translation caches
   * @param latency its cycle costs
   * @throws IllegalArgumentException if MAXPHYADDR differs from the memory's
   */
  public Vcpu(
      PhysicalMemory memory,
      MmuFeatures features,
      MmuSwitches switches,
      TlbConfig tlbConfig,
      LatencyModel latency) {
    this.memory = Objects.requireNonNull(memory, "memory");
    this.features = Objects.requireNonNull(features, "features");
    this.switches = Objects.requireNonNull(switches, "switches");
    this.latency = Objects.requireNonNull(latency, "latency");
    this.counters = new MmuCounters(latency.l1TlbHit());
    Objects.requireNonNull(tlbConfig, "tlbConfig");
    if (features.maxPhyAddr() != memory.maxPhyAddr()) {
      throw new IllegalArgumentException("features' MAXPHYADDR " + features.maxPhyAddr()
          + " differs from the memory's " + memory.maxPhyAddr());
    }
    this.walker = new Walker(this, memory);
    long seed = tlbConfig.seed();
    List<TlbStructure> list = tlbConfig.tlbs();
    tlbs = new TranslationCache[list.size()];
    tlbSizes = new int[list.size()];
    List<Integer> l1d = new ArrayList<>();
    List<Integer> l1c = new ArrayList<>();
    List<Integer> l2d = new ArrayList<>();
    List<Integer> l2c = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      TlbStructure t = list.get(i);
      tlbs[i] = new TranslationCache(t.name(), t.geometry(), true, seed + i);
      tlbSizes[i] = t.pageSizes();
      if (!tlbs[i].enabled()) {
        continue;
      }
      if (t.data()) {
        (t.level() == 1 ? l1d : l2d).add(i);
      }
      if (t.instructions()) {
        (t.level() == 1 ? l1c : l2c).add(i);
      }
    }
    l1Data = pick(l1d);
    l1DataSizes = sizesOf(l1d);
    l1Code = pick(l1c);
    l1CodeSizes = sizesOf(l1c);
    l2Data = pick(l2d);
    l2DataSizes = sizesOf(l2d);
    l2Code = pick(l2c);
    l2CodeSizes = sizesOf(l2c);
    counters.attach(tlbs, firstLevel(list));
    fastData = firstHolding4k(l1Data, l1DataSizes);
    fastCode = firstHolding4k(l1Code, l1CodeSizes);
    for (int access = 0; access <= CLASS_INDEX_MASK; access++) {
      boolean valid = Access.isValid(access);
      classWithoutAc[access] = valid ? Rights.classOf(access, false) : -1;
      classWithAc[access] = valid ? Rights.classOf(access, true) : -1;
    }
    psc[2] = new TranslationCache("pde-cache", tlbConfig.pdCache(), false, seed + 20);
    psc[3] = new TranslationCache("pdpte-cache", tlbConfig.pdptCache(), false, seed + 21);
    psc[4] = new TranslationCache("pml4e-cache", tlbConfig.pml4Cache(), false, seed + 22);
    psc[5] = new TranslationCache("pml5e-cache", tlbConfig.pml5Cache(), false, seed + 23);
    entryCache = new TranslationCache("entry-cache", tlbConfig.entryCache(), false, seed + 24);
    nestedTlb = new TranslationCache("nested-tlb", tlbConfig.nestedTlb(), false, seed + 25);
    nestedPsc[2] = new TranslationCache("nested-pde-cache", tlbConfig.nestedPdCache(), false,
        seed + 26);
    nestedPsc[3] = new TranslationCache("nested-pdpte-cache", tlbConfig.nestedPdptCache(), false,
        seed + 27);
    nestedPsc[4] = new TranslationCache("nested-pml4e-cache", tlbConfig.nestedPml4Cache(), false,
        seed + 28);
    tlbContexts = new ContextTable(this::clearTlbs);
    pscContexts = new ContextTable(this::clearPscs);
    nestedContexts = new ContextTable(this::clearNested);
    cr0 = CR0_PE;
    recompute();
  }

  /**
   * A vCPU with every feature of an Intel processor with the memory's MAXPHYADDR, the default
   * switches, Golden Cove's TLBs and latencies.
   *
   * @param memory the physical memory
   * @return the vCPU
   */
  public static Vcpu create(PhysicalMemory memory) {
    return new Vcpu(memory, MmuFeatures.intel(memory.maxPhyAddr()), MmuSwitches.DEFAULT,
        TlbConfig.goldenCove(), LatencyModel.GOLDEN_COVE);
  }

  private TranslationCache[] pick(List<Integer> indexes) {
    TranslationCache[] out = new TranslationCache[indexes.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = tlbs[indexes.get(i)];
    }
    return out;
  }

  private static boolean[] firstLevel(List<TlbStructure> list) {
    boolean[] out = new boolean[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = list.get(i).level() == 1;
    }
    return out;
  }

  private static TranslationCache firstHolding4k(TranslationCache[] level, int[] sizes) {
    for (int s = 0; s < level.length; s++) {
      if ((sizes[s] & TlbStructure.SIZE_4K) != 0) {
        return s == 0 ? level[0] : null; // the fast path must not skip an earlier array
      }
    }
    return null;
  }

  private int[] sizesOf(List<Integer> indexes) {
    int[] out = new int[indexes.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = tlbSizes[indexes.get(i)];
    }
    return out;
  }

  // ---- registers ----------------------------------------------------------------------------------

  /**
   * CR0.
   *
   * @return the register
   */
  public long cr0() {
    return cr0;
  }

  /**
   * CR2: the linear address of the last #PF.
   *
   * @return the register
   */
  public long cr2() {
    return cr2;
  }

  /**
   * CR3 (without bit 63 of the MOV that loaded it).
   *
   * @return the register
   */
  public long cr3() {
    return cr3;
  }

  /**
   * CR4.
   *
   * @return the register
   */
  public long cr4() {
    return cr4;
  }

  /**
   * IA32_EFER; LMA is kept as the processor sets it.
   *
   * @return the register
   */
  public long efer() {
    return efer;
  }

  /**
   * PKRU.
   *
   * @return the register
   */
  public int pkru() {
    return pkru;
  }

  /**
   * IA32_PKRS.
   *
   * @return the register
   */
  public int pkrs() {
    return pkrs;
  }

  /**
   * RFLAGS.AC.
   *
   * @return whether it is set
   */
  public boolean alignmentCheck() {
    return ac;
  }

  /**
   * One of the four PAE PDPTE registers, as loaded at the last MOV to CR3 (or CR0, CR4) in PAE mode.
   *
   * @param index 0 to 3
   * @return the register
   */
  public long pdpte(int index) {
    Objects.checkIndex(index, 4);
    return pdpte[index];
  }

  /**
   * The current paging mode.
   *
   * @return the mode
   */
  public PagingMode pagingMode() {
    return mode;
  }

  /**
   * The nested paging in use.
   *
   * @return none, EPT or NPT
   */
  public NestedPaging nestedPaging() {
    return nesting;
  }

  /**
   * The current PCID (CR3 bits 11:0 with CR4.PCIDE, else 0).
   *
   * @return the PCID
   */
  public int pcid() {
    return pcid;
  }

  /**
   * The current VPID (0: "enable VPID" is 0, or no VMX).
   *
   * @return the VPID or ASID
   */
  public int vpid() {
    return vpid;
  }

  /**
   * The EPTP in use (meaningful with {@link NestedPaging#EPT}).
   *
   * @return the EPTP
   */
  public long eptp() {
    return eptp;
  }

  /**
   * The nested CR3 in use (meaningful with {@link NestedPaging#NPT}).
   *
   * @return the nested CR3
   */
  public long nestedCr3() {
    return ncr3;
  }

  /**
   * The features this vCPU models.
   *
   * @return the features
   */
  public MmuFeatures features() {
    return features;
  }

  /**
   * The switches this vCPU follows.
   *
   * @return the switches
   */
  public MmuSwitches switches() {
    return switches;
  }

  /**
   * Sets CR0, CR3, CR4 and EFER at once, as a VM entry or a loaded dump does: no instruction's
   * checks and no per-instruction invalidation; every cached translation of every context is
   * dropped; PAE PDPTEs are loaded from CR3 (through the nested tables when nesting is on, except
   * under NPT, where PAE walks read them from memory). EFER.LMA is taken as given.
   *
   * @param cr0 CR0
   * @param cr3 CR3
   * @param cr4 CR4
   * @param efer IA32_EFER
   * @return 0, or the fault loading the PDPTEs raised (#GP for reserved bits; an EPT violation or
   *     misconfiguration), in which case the registers are set but the PDPTEs are zero
   */
  public long loadState(long cr0, long cr3, long cr4, long efer) {
    this.cr0 = cr0;
    this.cr4 = cr4;
    this.efer = efer;
    this.cr3 = cr3 & ~CR3_NOFLUSH;
    recompute();
    flushAll();
    Arrays.fill(pdpte, 0);
    if (mode == PagingMode.PAE && nesting != NestedPaging.NPT) {
      return loadPdptes(this.cr3, true);
    }
    return 0;
  }

  /**
   * MOV to CR0 (Intel SDM vol. 3A §2.5, §4.10.4.1): checks PE/PG, activates or deactivates IA-32e
   * mode with EFER.LME, loads PAE PDPTEs when paging becomes PAE paging, and invalidates: clearing
   * PG removes every translation of the current VPID. CR0.WP changes need no invalidation (cached
   * rights are checked against the current WP); under {@link TlbMode#OVER_FLUSH} they flush all.
   *
   * @param value the new CR0
   * @return 0, or #GP(0) (nothing changes then), or the fault of a PDPTE load
   */
  public long writeCr0(long value) {
    if ((value >>> 32) != 0 || ((value & CR0_PG) != 0 && (value & CR0_PE) == 0)) {
      return generalProtection();
    }
    long newEfer = efer;
    boolean pgOn = (cr0 & CR0_PG) == 0 && (value & CR0_PG) != 0;
    boolean pgOff = (cr0 & CR0_PG) != 0 && (value & CR0_PG) == 0;
    if (pgOn && (efer & EFER_LME) != 0) {
      if ((cr4 & CR4_PAE) == 0) {
        return generalProtection();
      }
      newEfer |= EFER_LMA;
    }
    if (pgOff) {
      if ((cr4 & CR4_PCIDE) != 0) {
        return generalProtection();
      }
      newEfer &= ~EFER_LMA;
    }
    PagingMode next = PagingMode.of(value, cr4, newEfer);
    if (next == PagingMode.PAE && nesting != NestedPaging.NPT && (pgOn
        || ((value ^ cr0) & (ControlRegisters.CR0_PG | (3L << 29))) != 0)) {
      long r = loadPdptes(cr3, false);
      if (r != 0) {
        return r;
      }
    }
    long changed = cr0 ^ value;
    cr0 = value;
    efer = newEfer;
    recompute();
    if (switches.tlbMode() == TlbMode.OVER_FLUSH) {
      if ((changed & (CR0_PG | CR0_WP)) != 0) {
        fullFlush();
      }
    } else if (pgOff) {
      invalidateVpid(vpid, BOTH_KINDS);
    }
    return 0;
  }

  /**
   * MOV to CR3 (SDM vol. 3A §4.10.4.1): with CR4.PCIDE = 0, removes every non-global translation of
   * PCID 000H; with CR4.PCIDE = 1, those of the new PCID unless bit 63 of {@code value} is set. In
   * PAE mode loads the PDPTEs (#GP if a present one has reserved bits).
   *
   * @param value the source operand (bit 63 is the no-flush hint with PCIDs)
   * @return 0, or #GP(0) or a nested fault of the PDPTE load (nothing changes then)
   */
  public long writeCr3(long value) {
    boolean pcide = (cr4 & CR4_PCIDE) != 0;
    boolean noFlush = pcide && (value & CR3_NOFLUSH) != 0;
    long v = pcide ? value & ~CR3_NOFLUSH : value;
    if (mode.isLongMode()) {
      if ((v >>> features.maxPhyAddr()) != 0) {
        return generalProtection();
      }
    } else if ((v >>> 32) != 0) {
      throw new IllegalArgumentException("CR3 0x" + Long.toHexString(value)
          + " outside IA-32e mode (expected: a 32-bit value)");
    }
    if (mode == PagingMode.PAE && nesting != NestedPaging.NPT) {
      long r = loadPdptes(v, false);
      if (r != 0) {
        return r;
      }
    }
    cr3 = v;
    pcid = (cr4 & CR4_PCIDE) != 0 ? (int) (cr3 & CR3_PCID_MASK) : 0;
    refreshContexts();
    if (switches.tlbMode() == TlbMode.OVER_FLUSH) {
      fullFlush();
      return 0;
    }
    if (noFlush) {
      counters.flushesElided++;
      return 0;
    }
    boolean any = tlbContexts.renumber(vpid, pcid, 1 << KIND_NON_GLOBAL, ContextTable.ANY);
    any |= pscContexts.renumber(vpid, pcid, 1, ContextTable.ANY);
    entryCacheFlush();
    countFull(any);
    refreshContexts();
    return 0;
  }

  /**
   * MOV to CR4 (SDM vol. 3A §4.10.4.1): checks reserved and unsupported bits, the IA-32e rules
   * (PAE may not be cleared nor LA57 changed while EFER.LMA = 1; PCIDE needs IA-32e mode and CR3 bits
   * 11:0 zero; CET needs CR0.WP), reloads PAE PDPTEs, and invalidates: a change of PGE, or PCIDE
   * going 1 to 0, removes every translation of the current VPID, global ones too; a change of PAE,
   * or SMEP going 0 to 1, removes those of the current PCID. Other changes (SMAP, PKE, PKS, SMEP
   * going 1 to 0) need none; under {@link TlbMode#OVER_FLUSH} every change of a paging bit flushes
   * all.
   *
   * @param value the new CR4
   * @return 0, or #GP(0) (nothing changes then), or the fault of a PDPTE load
   */
  public long writeCr4(long value) {
    if ((value & ~supportedCr4()) != 0) {
      return generalProtection();
    }
    long changed = cr4 ^ value;
    boolean lma = (efer & EFER_LMA) != 0;
    if (lma && ((value & CR4_PAE) == 0 || (changed & CR4_LA57) != 0)) {
      return generalProtection();
    }
    if ((changed & CR4_PCIDE) != 0 && (value & CR4_PCIDE) != 0
        && (!lma || (cr3 & CR3_PCID_MASK) != 0)) {
      return generalProtection();
    }
    if ((value & CR4_CET) != 0 && (cr0 & CR0_WP) == 0) {
      return generalProtection();
    }
    PagingMode next = PagingMode.of(cr0, value, efer);
    if (next == PagingMode.PAE && nesting != NestedPaging.NPT
        && (changed & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)) != 0) {
      long r = loadPdptes(cr3, false);
      if (r != 0) {
        return r;
      }
    }
    long oldCr4 = cr4;
    cr4 = value;
    recompute();
    long pagingBits = CR4_PSE | CR4_PAE | CR4_PGE | CR4_LA57 | CR4_PCIDE | CR4_SMEP | CR4_SMAP
        | CR4_PKE | CR4_PKS | CR4_CET;
    if (switches.tlbMode() == TlbMode.OVER_FLUSH) {
      if ((changed & pagingBits) != 0) {
        fullFlush();
      }
      return 0;
    }
    if ((changed & CR4_PGE) != 0 || ((oldCr4 & CR4_PCIDE) != 0 && (value & CR4_PCIDE) == 0)) {
      invalidateVpid(vpid, BOTH_KINDS);
    } else if ((changed & CR4_PAE) != 0 || ((changed & CR4_SMEP) != 0 && (value & CR4_SMEP) != 0)) {
      boolean any = tlbContexts.renumber(vpid, pcid, BOTH_KINDS, ContextTable.ANY);
      any |= pscContexts.renumber(vpid, pcid, 1, ContextTable.ANY);
      entryCacheFlush();
      countFull(any);
      refreshContexts();
    }
    return 0;
  }

  private long supportedCr4() {
    // Bits 0-3, 6, 8-11, 13, 14, 16, 18 (VME ... OSXSAVE) are accepted and have no effect here.
    long s = 0xFL | (1L << 6) | (0xFL << 8) | (1L << 13) | (1L << 14) | (1L << 16) | (1L << 18)
        | CR4_PSE | CR4_PAE | CR4_PGE;
    if (features.la57()) {
      s |= CR4_LA57;
    }
    if (features.pcid()) {
      s |= CR4_PCIDE;
    }
    if (features.smep()) {
      s |= CR4_SMEP;
    }
    if (features.smap()) {
      s |= CR4_SMAP;
    }
    if (features.pku()) {
      s |= CR4_PKE;
    }
    if (features.cet()) {
      s |= CR4_CET;
    }
    if (features.pks()) {
      s |= CR4_PKS;
    }
    return s;
  }

  /**
   * WRMSR to IA32_EFER: LME may not change while paging is on; NXE needs the feature. LMA is
   * read-only (the value's LMA bit is ignored). No invalidation.
   *
   * @param value the new EFER
   * @return 0 or #GP(0)
   */
  public long writeEfer(long value) {
    long allowed = ControlRegisters.EFER_SCE | EFER_LME | EFER_LMA | (features.nx() ? EFER_NXE : 0)
        | (1L << 12) | (1L << 13) | (1L << 14) | (1L << 15);
    if ((value & ~allowed) != 0) {
      return generalProtection();
    }
    if ((cr0 & CR0_PG) != 0 && ((value ^ efer) & EFER_LME) != 0) {
      return generalProtection();
    }
    efer = (value & ~EFER_LMA) | (efer & EFER_LMA);
    recompute();
    return 0;
  }

  /**
   * WRPKRU. No invalidation: cached translations are checked against the current PKRU.
   *
   * @param value the new PKRU
   */
  public void writePkru(int value) {
    pkru = value;
    recomputeKeys();
  }

  /**
   * WRMSR to IA32_PKRS (bits 63:32 reserved). No invalidation.
   *
   * @param value the new PKRS
   * @return 0 or #GP(0)
   */
  public long writePkrs(long value) {
    if ((value >>> 32) != 0) {
      return generalProtection();
    }
    pkrs = (int) value;
    recomputeKeys();
    return 0;
  }

  /**
   * Sets RFLAGS (only AC matters to the MMU: with CR4.SMAP it lets explicit supervisor accesses
   * reach user pages).
   *
   * @param rflags the new RFLAGS
   */
  public void setRflags(long rflags) {
    ac = (rflags & RFLAGS_AC) != 0;
    classTable = ac ? classWithAc : classWithoutAc;
  }

  // ---- nesting ------------------------------------------------------------------------------------

  /**
   * Runs this vCPU as a guest on EPT: every guest-physical address goes through the EPT structures
   * {@code eptp} names, and cached translations are tagged with the EP4TA and {@code vpid}. No
   * invalidation (the tags keep contexts apart).
   *
   * @param eptp the EPT pointer (SDM vol. 3C §24.6.11): memory type 0 or 6, walk length 4 (or 5 with
   *     5-level EPT), A/D only with the capability, bits 11:8 and 63:MAXPHYADDR zero
   * @param vpid the VPID, 0 (no VPID: VM entries and exits flush) to 0xFFFF
   * @throws IllegalArgumentException if the EPTP is invalid (a VM entry would fail)
   */
  public void configureEpt(long eptp, int vpid) {
    long type = eptp & ControlRegisters.EPTP_MEMORY_TYPE_MASK;
    int walk = (int) ((eptp & ControlRegisters.EPTP_WALK_LENGTH_MASK)
        >>> ControlRegisters.EPTP_WALK_LENGTH_SHIFT) + 1;
    boolean ad = (eptp & ControlRegisters.EPTP_ACCESSED_DIRTY) != 0;
    if ((type != 0 && type != 6) || (walk != 4 && !(walk == 5 && features.ept5Level()))
        || (ad && !features.eptAccessedDirty()) || (eptp & 0xF00L) != 0
        || (eptp >>> features.maxPhyAddr()) != 0 || features.vendor() != Vendor.INTEL) {
      throw new IllegalArgumentException("EPTP 0x" + Long.toHexString(eptp)
          + " (expected: memory type 0 or 6, walk length 4" + (features.ept5Level() ? " or 5" : "")
          + ", A/D only if supported, bits 11:8 and 63:" + features.maxPhyAddr()
          + " zero, an Intel vCPU)");
    }
    checkVpid(vpid);
    this.eptp = eptp;
    this.eptLevels = walk;
    this.eptAccessedDirty = ad;
    this.eptMbec = features.eptMbec();
    this.nesting = NestedPaging.EPT;
    this.vpid = vpid;
    recompute();
  }

  /**
   * Runs this vCPU as a guest on AMD NPT: guest-physical addresses go through legacy-format tables
   * rooted at {@code nestedCr3}, in the host's paging mode, as user accesses.
   *
   * @param nestedCr3 the nested CR3 (bits 63:MAXPHYADDR zero)
   * @param asid the ASID, 0 to 0xFFFF, tagging cached translations as a VPID does
   * @param hostCr4 the host's CR4: LA57 selects 5-level nested tables, SMEP the I/D bit of EXITINFO1
   * @param hostEfer the host's EFER: NXE enables the nested execute-disable bit
   * @throws IllegalArgumentException if an argument is invalid
   */
  public void configureNpt(long nestedCr3, int asid, long hostCr4, long hostEfer) {
    if ((nestedCr3 >>> features.maxPhyAddr()) != 0) {
      throw new IllegalArgumentException("nested CR3 0x" + Long.toHexString(nestedCr3)
          + " (expected: bits 63:" + features.maxPhyAddr() + " zero)");
    }
    checkVpid(asid);
    this.ncr3 = nestedCr3;
    this.nptLevels = (hostCr4 & CR4_LA57) != 0 ? 5 : 4;
    this.hostNxe = (hostEfer & EFER_NXE) != 0;
    this.hostSmep = (hostCr4 & CR4_SMEP) != 0;
    this.nesting = NestedPaging.NPT;
    this.vpid = asid;
    recompute();
  }

  /** Stops nested paging: guest-physical addresses are host-physical again (VPID 0). */
  public void disableNesting() {
    nesting = NestedPaging.NONE;
    vpid = 0;
    recompute();
  }

  private static void checkVpid(int vpid) {
    if (vpid < 0 || vpid > 0xFFFF) {
      throw new IllegalArgumentException("vpid: " + vpid + " (expected: 0 to 0xFFFF)");
    }
  }

  // ---- invalidation -------------------------------------------------------------------------------

  /**
   * INVLPG (SDM vol. 3A §4.10.4.1): removes the translations of the page holding {@code la} for the
   * current PCID and the global ones of any PCID (all EP4TAs, current VPID), and every
   * paging-structure-cache entry of the current PCID. With {@link
   * MmuSwitches#invlpgKeepsGlobalsWithPcid()} and CR4.PCIDE = 1, global translations stay.
   *
   * @param la the linear address (a non-canonical one invalidates nothing)
   */
  public void invlpg(long la) {
    counters.cycles += latency.invlpg();
    if (!canonical(la)) {
      counters.flushesElided++;
      return;
    }
    if (switches.tlbMode() == TlbMode.OVER_FLUSH) {
      boolean any = invalidateAddress(la, -1, -1, BOTH_KINDS);
      any |= pscContexts.renumber(-1, -1, 1, ContextTable.ANY);
      entryCacheFlush();
      countPartial(any);
      refreshContexts();
      return;
    }
    boolean keepGlobals = switches.invlpgKeepsGlobalsWithPcid() && (cr4 & CR4_PCIDE) != 0;
    boolean any = invalidateAddress(la, vpid, pcid, NON_GLOBAL);
    if (!keepGlobals) {
      any |= invalidateAddress(la, vpid, -1, GLOBAL_ONLY);
    }
    any |= pscContexts.renumber(vpid, pcid, 1, ContextTable.ANY);
    entryCacheFlush();
    countPartial(any);
    refreshContexts();
  }

  /**
   * INVPCID (SDM vol. 2, INVPCID): type 0 removes the non-global translations of {@code la} in
   * {@code pcid}; type 1 every non-global translation of {@code pcid}; type 2 everything, global
   * ones included; type 3 everything but global translations; each with the paging-structure-cache
   * entries of those PCIDs. Current VPID, all EP4TAs.
   *
   * @param type 0 to 3
   * @param pcid the descriptor's PCID (bits 63:12 of the descriptor's first quadword must be zero)
   * @param la the descriptor's linear address (type 0)
   * @return 0, or #GP(0) for an invalid type, a PCID above 0xFFF, a non-canonical address (type 0),
   *     or a PCID other than 0 while CR4.PCIDE = 0 (types 0 and 1)
   */
  public long invpcid(int type, long pcid, long la) {
    if (type < 0 || type > 3 || pcid < 0 || pcid > 0xFFF
        || (type == 0 && !canonical(la))
        || (type <= 1 && pcid != 0 && (cr4 & CR4_PCIDE) == 0)) {
      return generalProtection();
    }
    int p = (int) pcid;
    if (switches.tlbMode() == TlbMode.OVER_FLUSH) {
      if (type == 0) {
        invlpg(la);
      } else {
        fullFlush();
      }
      return 0;
    }
    boolean any;
    switch (type) {
      case 0:
        counters.cycles += latency.invlpg();
        any = invalidateAddress(la, vpid, p, NON_GLOBAL);
        any |= pscContexts.renumber(vpid, p, 1, ContextTable.ANY);
        entryCacheFlush();
        countPartial(any);
        break;
      case 1:
        any = tlbContexts.renumber(vpid, p, 1 << KIND_NON_GLOBAL, ContextTable.ANY);
        any |= pscContexts.renumber(vpid, p, 1, ContextTable.ANY);
        entryCacheFlush();
        countFull(any);
        break;
      case 2:
        invalidateVpid(vpid, BOTH_KINDS);
        break;
      default:
        invalidateVpid(vpid, 1 << KIND_NON_GLOBAL);
        break;
    }
    refreshContexts();
    return 0;
  }

  /**
   * INVVPID (SDM vol. 3C §28.3.3.3), executed by the hypervisor: type 0 removes the linear and
   * combined translations of {@code la} tagged {@code vpid}; type 1 all of {@code vpid}; type 2 all
   * of every VPID but 0000H; type 3 all of {@code vpid} but global ones; with the paging-structure
   * caches of those VPIDs.
   *
   * @param type 0 to 3
   * @param vpid the descriptor's VPID (not 0 for types 0, 1 and 3)
   * @param la the descriptor's linear address (type 0; must be canonical)
   * @return true, or false where the instruction fails (VMfailValid) and nothing is invalidated
   */
  public boolean invvpid(int type, int vpid, long la) {
    if (type < 0 || type > 3 || vpid < 0 || vpid > 0xFFFF || (type != 2 && vpid == 0)
        || (type == 0 && !canonical64(la))) {
      return false;
    }
    if (switches.tlbMode() == TlbMode.OVER_FLUSH) {
      if (type == 0) {
        counters.cycles += latency.invlpg();
        boolean any = invalidateAddress(la, -1, -1, BOTH_KINDS);
        any |= pscContexts.renumber(-1, -1, 1, ContextTable.ANY);
        entryCacheFlush();
        countPartial(any);
        refreshContexts();
      } else {
        fullFlush();
      }
      return true;
    }
    switch (type) {
      case 0: {
        counters.cycles += latency.invlpg();
        boolean any = invalidateAddress(la, vpid, -1, BOTH_KINDS);
        any |= pscContexts.renumber(vpid, -1, 1, ContextTable.ANY);
        entryCacheFlush();
        countPartial(any);
        refreshContexts();
        break;
      }
      case 1:
        invalidateVpid(vpid, BOTH_KINDS);
        break;
      case 2:
        invalidateVpid(ContextTable.ANY_BUT_ZERO, BOTH_KINDS);
        break;
      default:
        invalidateVpid(vpid, 1 << KIND_NON_GLOBAL);
        break;
    }
    return true;
  }

  /**
   * INVEPT (SDM vol. 3C §28.3.3.3), executed by the hypervisor: type 1 (single context) removes the
   * guest-physical and combined translations tagged with {@code eptp}'s EP4TA; type 2 (all
   * contexts) those of every EP4TA. Linear translations (EPT off) stay.
   *
   * @param type 1 or 2
   * @param eptp the descriptor's EPTP (type 1)
   * @return true, or false where the instruction fails (VMfailValid)
   */
  public boolean invept(int type, long eptp) {
    if (type != 1 && type != 2) {
      return false;
    }
    if (switches.tlbMode() == TlbMode.OVER_FLUSH) {
      fullFlush();
      return true;
    }
    long root = type == 1 ? eptp & addressMaskFor(features.maxPhyAddr()) : ContextTable.ANY_NONZERO;
    boolean any = tlbContexts.renumber(-1, -1, BOTH_KINDS, root);
    any |= pscContexts.renumber(-1, -1, 1, root);
    any |= nestedContexts.renumber(-1, -1, 1, root);
    entryCacheFlush();
    countFull(any);
    refreshContexts();
    return true;
  }

  /**
   * A VM entry: with "enable VPID" = 0 (VPID 0) it removes every linear and combined translation of
   * VPID 0000H (SDM vol. 3C §28.3.3.1); with a VPID it invalidates nothing.
   */
  public void vmEntry() {
    if (vpid == 0 || switches.tlbMode() == TlbMode.OVER_FLUSH) {
      invalidateVpidOrAll(0);
    }
  }

  /**
   * A VM exit: counts an exit and its cost; with "enable VPID" = 0 it removes every linear and
   * combined translation of VPID 0000H.
   */
  public void vmExit() {
    counters.vmExits++;
    counters.cycles += latency.vmExitEntry();
    if (vpid == 0 || switches.tlbMode() == TlbMode.OVER_FLUSH) {
      invalidateVpidOrAll(0);
    }
  }

  /**
   * AMD's VMCB TLB_CONTROL = 3 at the next VMRUN ("flush this guest's TLB entries", what Xen's {@code
   * hvm_asid_flush_vcpu} achieves with a new ASID): removes every translation tagged with the current
   * ASID (VPID), global ones included, its paging-structure-cache entries, and the guest-physical
   * mappings of the current nested root.
   */
  public void flushGuest() {
    if (switches.tlbMode() == TlbMode.OVER_FLUSH) {
      fullFlush();
      return;
    }
    boolean any = tlbContexts.renumber(vpid, -1, BOTH_KINDS, ContextTable.ANY);
    any |= pscContexts.renumber(vpid, -1, 1, ContextTable.ANY);
    any |= nestedContexts.renumber(-1, -1, 1, currentRoot());
    entryCacheFlush();
    countFull(any);
    refreshContexts();
  }

  /**
   * Removes every cached translation of every context (TLBs, paging-structure caches, nested TLB),
   * as a processor may at any time. Needed after changing the memory's regions.
   */
  public void flushAll() {
    fullFlush();
  }

  private void invalidateVpidOrAll(int v) {
    if (switches.tlbMode() == TlbMode.OVER_FLUSH) {
      fullFlush();
    } else {
      invalidateVpid(v, BOTH_KINDS);
    }
  }

  /** Every translation of {@code v} (or {@link ContextTable#ANY_BUT_ZERO}) of the given kinds. */
  private void invalidateVpid(int v, int kinds) {
    boolean any = tlbContexts.renumber(v, -1, kinds, ContextTable.ANY);
    any |= pscContexts.renumber(v, -1, 1, ContextTable.ANY);
    entryCacheFlush();
    countFull(any);
    refreshContexts();
  }

  private void fullFlush() {
    boolean any = tlbContexts.renumber(-1, -1, BOTH_KINDS, ContextTable.ANY);
    any |= pscContexts.renumber(-1, -1, 1, ContextTable.ANY);
    any |= nestedContexts.renumber(-1, -1, 1, ContextTable.ANY);
    entryCacheFlush();
    countFull(any);
    refreshContexts();
  }

  private void countFull(boolean any) {
    counters.cycles += latency.fullFlush();
    if (any) {
      counters.flushesFull++;
    } else {
      counters.flushesElided++;
    }
  }

  private void countPartial(boolean any) {
    if (any) {
      counters.flushesPartial++;
    } else {
      counters.flushesElided++;
    }
  }

  private void entryCacheFlush() {
    // The AMD-style cache is tagged by physical address only: whatever invalidates
    // paging-structure caches empties it.
    entryCache.clear();
  }

  /**
   * Removes TLB entries of the page holding {@code la}: VPID {@code v} (-1 any), PCID {@code p} (-1
   * any), non-global and/or global ones.
   */
  private boolean invalidateAddress(long la, int v, int p, int which) {
    boolean any = false;
    for (int s = 0; s < tlbs.length; s++) {
      TranslationCache t = tlbs[s];
      if (!t.enabled()) {
        continue;
      }
      for (int sizeCode = 0; sizeCode < 3; sizeCode++) {
        if ((tlbSizes[s] & (1 << sizeCode)) == 0) {
          continue;
        }
        int shift = sizeShift(sizeCode);
        long vpn = (la & LA_MASK) >>> shift;
        int set = (int) vpn & t.setMask;
        int base = set * t.ways;
        for (int i = base; i < base + t.ways; i++) {
          long tag = t.tag[i];
          if (tag == TranslationCache.INVALID || (tag & ((1L << 47) - 1))
              != (vpn | ((long) sizeCode << 45))) {
            continue;
          }
          long meta = t.meta[i];
          boolean isGlobal = (meta & (1L << 28)) != 0;
          if ((which & (isGlobal ? GLOBAL_ONLY : NON_GLOBAL)) == 0) {
            continue;
          }
          if (v >= 0 && (int) (meta & 0xFFFF) != v) {
            continue;
          }
          if (p >= 0 && !isGlobal && (int) ((meta >>> 16) & 0xFFF) != p) {
            continue;
          }
          t.invalidate(i);
          any = true;
        }
      }
    }
    return any;
  }

  /** Removes the nested-TLB entries of the guest-physical page holding {@code gpa} (current root). */
  private void invalidateGuestPhysical(long gpa) {
    TranslationCache t = nestedTlb;
    if (!t.enabled()) {
      return;
    }
    for (int sizeCode = 0; sizeCode < 3; sizeCode++) {
      int shift = 12 + 9 * sizeCode;
      long vpn = gpa >>> shift;
      int set = (int) vpn & t.setMask;
      long key = vpn | ((long) sizeCode << 45) | nestedTag;
      int i = t.find(set, key, key);
      if (i >= 0) {
        t.invalidate(i);
      }
    }
  }

  private void clearTlbs() {
    for (TranslationCache t : tlbs) {
      t.clear();
    }
  }

  private void clearPscs() {
    for (TranslationCache t : psc) {
      if (t != null) {
        t.clear();
      }
    }
    entryCache.clear();
  }

  private void clearNested() {
    nestedTlb.clear();
    for (TranslationCache t : nestedPsc) {
      if (t != null) {
        t.clear();
      }
    }
  }

  void markPscDirty() {
    pscContexts.markDirty(pscSlot);
  }

  void markNestedDirty() {
    nestedContexts.markDirty(nestedSlot);
  }

  // ---- translation --------------------------------------------------------------------------------

  /**
   * Translates a linear address for one access: the physical address (host-physical with nesting),
   * or an encoded {@link Fault}. Looks up the first-level TLB of the access's side, then the second
   * level, then walks (filling the caches); counts and charges cycles. A #PF sets CR2; a nested
   * fault sets {@link #faultGuestPhysical()} and {@link #faultGuestLinear()}.
   *
   * @param la the linear address (IA-32e: 64 bits, checked for canonicality; else below 2^32)
   * @param access {@link Access} bits
   * @return a physical address, or a negative fault
   * @throws IllegalArgumentException for an invalid access, or a linear address of 2^32 or more
   *     outside IA-32e mode
   */
  public long translate(long la, int access) {
    TranslationCache t = (access & Access.FETCH) == 0 ? fastData : fastCode;
    if (t != null) {
      int i = fastLookup(t, la, access);
      if (i >= 0) {
        t.touch(i);
        t.hits++;
        lastPageShift = 12;
        return t.value[i] | (la & 0xFFF);
      }
    }
    return translateSlow(la, access);
  }

  /**
   * The fast path: in IA-32e mode, the index of a first-level 4-KByte entry of {@code t} that lets
   * {@code access} hit, or -1. One index, the set's tag compares, two table lookups for the rights.
   */
  private int fastLookup(TranslationCache t, long la, int access) {
    if (!fastPath || (access & ~CLASS_INDEX_MASK) != 0) {
      return -1;
    }
    long ext = la >> canonicalShift;
    if (ext != 0 && ext != -1) {
      return -1;
    }
    long vpn = (la & LA_MASK) >>> 12;
    long key = vpn | tlbTag;
    long globalKey = vpn | globalTag;
    long[] tags = t.tag;
    int i = ((int) vpn & t.setMask) * t.ways;
    for (int end = i + t.ways; i < end; i++) {
      long tag = tags[i];
      if (tag == key || tag == globalKey) {
        int cls = classTable[access];
        int a = t.attr[i];
        if (cls >= 0 && ((hitAllowed[a & Rights.TABLE_MASK]
            & keyAllowed[((a >>> Rights.KEY_SHIFT) & 15) | ((a & Rights.U) << 4)]) >>> cls & 1)
            != 0) {
          return i;
        }
        return -1;
      }
    }
    return -1;
  }

  private long translateSlow(long la, int access) {
    counters.accessesSlow++;
    hitPage = null;
    sawEntry = false;
    PagingMode m = mode;
    if (m.isLongMode()) {
      long ext = la >> (linearBits - 1);
      if (ext != 0 && ext != -1) {
        Access.check(access);
        return nonCanonical(access);
      }
    } else if ((la >>> 32) != 0) {
      throw new IllegalArgumentException("linear address 0x" + Long.toHexString(la) + " in "
          + m + " mode (expected: below 2^32)");
    }
    if (!Access.isValid(access)) {
      Access.check(access);
    }
    if (m == PagingMode.NONE) {
      return translateWithoutPaging(la, access);
    }
    int cls = Rights.classOf(access, ac);
    boolean fetch = (access & Access.FETCH) != 0;
    TranslationCache[] l1 = fetch ? l1Code : l1Data;
    int[] l1Sizes = fetch ? l1CodeSizes : l1DataSizes;
    long found = probe(l1, l1Sizes, la);
    if (found >= 0) {
      TranslationCache t = l1[(int) (found >>> 40)];
      int sizeCode = (int) (found >>> 32) & 3;
      long r = hit(t, (int) found, la, sizeShift(sizeCode), cls, access);
      if (r != MISS) {
        counters.l1Hits++;
        t.hits++;
        return r;
      }
      sawEntry = true;
      return walkAndFill(la, access, cls);
    }
    counters.l1Misses++;
    TranslationCache[] l2 = fetch ? l2Code : l2Data;
    found = probe(l2, fetch ? l2CodeSizes : l2DataSizes, la);
    if (found >= 0) {
      TranslationCache t = l2[(int) (found >>> 40)];
      int sizeCode = (int) (found >>> 32) & 3;
      int i = (int) found;
      long r = hit(t, i, la, sizeShift(sizeCode), cls, access);
      if (r != MISS) {
        counters.l2Hits++;
        t.hits++;
        counters.cycles += latency.l2TlbHit();
        if (r >= 0) {
          // Refill the first level from the second.
          long vpn = (la & LA_MASK) >>> sizeShift(sizeCode);
          fillLevel(l1, l1Sizes, sizeCode, vpn, t.tag[i], t.value[i], t.aux[i], t.attr[i],
              t.meta[i], t.page[i]);
        }
        return r;
      }
      sawEntry = true;
      return walkAndFill(la, access, cls);
    }
    counters.l2Misses++;
    return walkAndFill(la, access, cls);
  }

  private static final long MISS = Long.MIN_VALUE | (0x7FEL << 52);

  /**
   * Looks {@code la} up in the arrays of one level, every page size each holds: the array's index
   * in bits 47:40, the size code in bits 33:32 and the entry's index in bits 31:0; or -1.
   */
  private long probe(TranslationCache[] level, int[] sizes, long la) {
    for (int s = 0; s < level.length; s++) {
      TranslationCache t = level[s];
      for (int sizeCode = 0; sizeCode < 3; sizeCode++) {
        if ((sizes[s] & (1 << sizeCode)) == 0) {
          continue;
        }
        long vpn = (la & LA_MASK) >>> sizeShift(sizeCode);
        long sizeTag = (long) sizeCode << 45;
        int i = t.find((int) vpn & t.setMask, vpn | sizeTag | tlbTag, vpn | sizeTag | globalTag);
        if (i >= 0) {
          return ((long) s << 40) | ((long) sizeCode << 32) | i;
        }
      }
    }
    return -1;
  }

  /** A TLB hit: the physical address, a fault from the cached rights, or {@link #MISS}. */
  private long hit(TranslationCache t, int i, long la, int shift, int cls, int access) {
    int a = t.attr[i];
    int keyIndex = ((a >>> Rights.KEY_SHIFT) & 15) | ((a & Rights.U) << 4);
    int tableIndex = a & Rights.TABLE_MASK;
    if (((hitAllowed[tableIndex] & keyAllowed[keyIndex]) >>> cls & 1) != 0) {
      t.touch(i);
      lastPageShift = shift;
      hitPage = t.page[i];
      return t.value[i] | (la & ((1L << shift) - 1));
    }
    if (((permitted[tableIndex] & keyAllowed[keyIndex]) >>> cls & 1) != 0) {
      return MISS; // allowed, but a write must walk to set D (or the frame is watched)
    }
    if (switches.tlbMode() == TlbMode.OVER_FLUSH) {
      return MISS; // emulators walk again before faulting
    }
    // Strict retention: the cached rights deny the access; fault without a walk (SDM vol. 3A
    // §4.10.4.3); the fault then removes the entry.
    t.touch(i);
    sawEntry = true;
    int guestOnly = (a | Rights.NESTED_ALL) & Rights.TABLE_MASK;
    boolean keyDenied = (keyAllowed[keyIndex] >>> cls & 1) == 0;
    if (keyDenied || (permitted[guestOnly] >>> cls & 1) == 0) {
      long code = PageFaultErrorCode.P | (access & (Access.WRITE | Access.USER | Access.SHADOW_STACK))
          | (keyDenied ? PageFaultErrorCode.PK : 0);
      if ((access & Access.FETCH) != 0 && (nxe || smep)) {
        code |= PageFaultErrorCode.I;
      }
      return pageFault(code, la);
    }
    long gpa = t.aux[i] | (la & ((1L << shift) - 1));
    int nAccess = (cls & Rights.CLS_FETCH) != 0 ? Walker.N_FETCH
        : (cls & Rights.CLS_WRITE) != 0 ? Walker.N_WRITE : Walker.N_READ;
    if (nesting == NestedPaging.EPT) {
      long q = nAccess | Walker.eptPermissionBits(a, eptMbec)
          | Walker.glaBits(Walker.N_GLA_VALID | Walker.N_FINAL, a, this);
      return eptViolation(q, gpa, la);
    }
    long info = PageFaultErrorCode.P | PageFaultErrorCode.U
        | ((nAccess & Walker.N_WRITE) != 0 ? PageFaultErrorCode.W : 0)
        | ((nAccess & Walker.N_FETCH) != 0 && (hostNxe || hostSmep) ? PageFaultErrorCode.I : 0)
        | NpfExitInfo.FINAL_TRANSLATION;
    return nestedPageFault(info, gpa);
  }

  private long walkAndFill(long la, int access, int cls) {
    long r = walker.walk(la, access, cls);
    if (r < 0 || !walker.cacheable) {
      return r;
    }
    int shift = walker.pageShift;
    lastPageShift = shift;
    int sizeCode = shift == 12 ? 0 : shift == 30 ? 2 : 1;
    long vpn = (la & LA_MASK) >>> shift;
    long sizeTag = (long) sizeCode << 45;
    boolean global = walker.global;
    long tag = vpn | sizeTag | (global ? globalTag : tlbTag);
    long meta = vpid | ((long) pcid << 16) | (global ? 1L << 28 : 0);
    int attr = walker.attr;
    byte[] page = null;
    if (shift == 12) {
      long frame = walker.pageHpa >>> 12;
      if (memory.kind(frame) == RegionKind.RAM) {
        page = memory.frameContents(frame);
      }
    }
    boolean fetch = (access & Access.FETCH) != 0;
    fillLevel(fetch ? l1Code : l1Data, fetch ? l1CodeSizes : l1DataSizes, sizeCode, vpn, tag,
        walker.pageHpa, walker.pageGpa, attr, meta, page);
    fillLevel(fetch ? l2Code : l2Data, fetch ? l2CodeSizes : l2DataSizes, sizeCode, vpn, tag,
        walker.pageHpa, walker.pageGpa, attr, meta, page);
    tlbContexts.markDirty(global ? globalSlot : tlbSlot);
    hitPage = page;
    return r;
  }

  /** Fills one array of {@code level} that holds the size; of two, the one vpn bit log2(sets) picks. */
  private void fillLevel(TranslationCache[] level, int[] sizes, int sizeCode, long vpn, long tag,
      long value, long aux, int attr, long meta, byte[] page) {
    int first = -1;
    int second = -1;
    for (int s = 0; s < level.length; s++) {
      if ((sizes[s] & (1 << sizeCode)) != 0) {
        if (first < 0) {
          first = s;
        } else if (second < 0) {
          second = s;
        }
      }
    }
    if (first < 0) {
      return;
    }
    int chosen = first;
    if (second >= 0) {
      int bit = Integer.numberOfTrailingZeros(level[first].sets);
      if (((vpn >>> bit) & 1) != 0) {
        chosen = second;
      }
    }
    TranslationCache t = level[chosen];
    // One entry per page and context: replace a stale copy instead of adding a second.
    int set = (int) vpn & t.setMask;
    long page47 = tag & ((1L << 47) - 1);
    int i = t.find(set, page47 | tlbTag, page47 | globalTag);
    if (i < 0) {
      i = t.victim(set);
    }
    t.fill(i, tag, value, aux, attr, meta);
    t.page[i] = page;
  }

  private long translateWithoutPaging(long la, int access) {
    if (nesting == NestedPaging.NONE) {
      lastPageShift = 12;
      return la;
    }
    int cls = Rights.classOf(access, ac);
    int na = ((cls & Rights.CLS_FETCH) != 0 ? Walker.N_FETCH
        : (cls & Rights.CLS_WRITE) != 0 ? Walker.N_WRITE : Walker.N_READ)
        | Walker.N_GLA_VALID | Walker.N_FINAL | Walker.N_USER_LINEAR;
    walker.references = 0;
    long r = walker.nestedTranslate(la, na, la, Rights.U | Rights.W);
    if (r >= 0) {
      lastPageShift = walker.nestedShift;
    }
    return r;
  }

  private long nonCanonical(int access) {
    counters.generalProtectionFaults++;
    counters.cycles += latency.pageFaultDelivery();
    lastFault = (access & Access.STACK) != 0 ? Fault.SS0 : Fault.GP0;
    return lastFault;
  }

  private long generalProtection() {
    counters.generalProtectionFaults++;
    counters.cycles += latency.pageFaultDelivery();
    return Fault.GP0;
  }

  long pageFault(long errorCode, long la) {
    counters.pageFaults++;
    counters.cycles += latency.pageFaultDelivery();
    cr2 = la;
    // A #PF removes the translations of the faulting address and the paging-structure-cache
    // entries that would serve it (SDM vol. 3A §4.10.4.1), so that a retry does not fault again on
    // cached entries memory no longer holds; after misses in every TLB array there are no
    // translations to remove, but the walk may have started from a cached prefix.
    if (switches.tlbMode() == TlbMode.STRICT && sawEntry) {
      invalidateAddress(la, vpid, pcid, NON_GLOBAL | GLOBAL_ONLY);
    }
    invalidatePrefixes(la);
    return Fault.pageFault(errorCode);
  }

  /**
   * Removes the current context's Intel-style paging-structure-cache entries whose prefix covers
   * {@code la}, at every level (the entries the walker's lookup of {@code la} would hit).
   */
  private void invalidatePrefixes(long la) {
    if (switches.pscStyle() != PscStyle.INTEL_PREFIX) {
      return;
    }
    for (int l = 2; l <= mode.levels(); l++) {
      TranslationCache t = psc[l];
      if (t == null || !t.enabled()) {
        continue;
      }
      int i = Walker.findPrefix(t, mode, l, la, pscTag);
      if (i >= 0) {
        t.invalidate(i);
      }
    }
  }

  long eptViolation(long qualification, long gpa, long la) {
    counters.eptViolations++;
    counters.vmExits++;
    counters.cycles += latency.vmExitEntry();
    faultGpa = gpa;
    faultGla = (qualification & EptQualification.GLA_VALID) != 0 ? la : -1;
    // The exit removes guest-physical mappings of the GPA and combined ones of the linear address
    // (SDM vol. 3C §28.3.3.1).
    invalidateGuestPhysical(gpa);
    if (faultGla != -1) {
      invalidateAddress(la, vpid, pcid, NON_GLOBAL | GLOBAL_ONLY);
    }
    return Fault.eptViolation(qualification);
  }

  long eptMisconfig(long gpa, long la) {
    counters.eptMisconfigs++;
    counters.vmExits++;
    counters.cycles += latency.vmExitEntry();
    faultGpa = gpa;
    faultGla = la;
    invalidateGuestPhysical(gpa);
    return Fault.EPT_MISCONFIG;
  }

  long nestedPageFault(long exitInfo1, long gpa) {
    counters.nestedPageFaults++;
    counters.vmExits++;
    counters.cycles += latency.vmExitEntry();
    faultGpa = gpa;
    faultGla = -1;
    invalidateGuestPhysical(gpa);
    return Fault.nestedPageFault(exitInfo1);
  }

  /**
   * The guest-physical address of the last EPT violation, misconfiguration or nested page fault
   * (EXITINFO2 on AMD); -1 before any.
   *
   * @return the address
   */
  public long faultGuestPhysical() {
    return faultGpa;
  }

  /**
   * The guest-linear address of the last EPT violation (valid when its qualification has bit 7);
   * -1 when not valid, and always -1 after a nested page fault (AMD reports none).
   *
   * @return the address
   */
  public long faultGuestLinear() {
    return faultGla;
  }

  /**
   * The EPT memory type of the leaf the last successful EPT walk used (bits 5:3 of the entry, SDM
   * vol. 3C §28.3.7) in bits 2:0 of the result, and its ignore-PAT bit (bit 6) in bit 3; -1 before
   * any EPT walk. Walks set it; TLB hits leave it.
   *
   * @return the memory type and ignore-PAT bit, or -1
   */
  public int lastEptMemoryType() {
    long leaf = walker.eptLeaf;
    if (leaf == -1) {
      return -1;
    }
    return (int) ((leaf >>> PageEntry.EPT_MEMORY_TYPE_SHIFT) & 7)
        | ((leaf & PageEntry.EPT_IGNORE_PAT) != 0 ? 8 : 0);
  }

  /**
   * log2 of the size of the page of the last successful translation (12, 21, 22 or 30).
   *
   * @return the shift
   */
  public int lastPageShift() {
    return lastPageShift;
  }

  /**
   * Memory references of the last walk (guest and nested entries read), 0 after a TLB hit.
   *
   * @return the count
   */
  public int lastWalkReferences() {
    return walker.references;
  }

  /**
   * This vCPU's counters (the same object every time).
   *
   * @return the counters
   */
  public MmuCounters counters() {
    return counters;
  }

  // ---- introspection ------------------------------------------------------------------------------

  /** Receives cached translations from {@link #forEachCachedTranslation}. */
  @FunctionalInterface
  public interface CachedTranslationVisitor {
    /**
     * One live TLB entry.
     *
     * @param array the TLB array's name
     * @param vpid its VPID (or ASID)
     * @param pcid the PCID it was filled under (a global entry keeps it too, and matches every
     *     PCID: SDM vol. 3A §4.10.2.4)
     * @param global whether it is a global translation
     * @param pageNumber the linear address bits 56:{@code pageShift} it translates
     * @param pageShift log2 of its page size
     * @param physicalBase the (host-)physical address of the page
     * @param writable whether a write may hit it now, for some privilege (under the current CR0.WP,
     *     SMAP, protection keys; an entry filled while D was clear lets no write hit)
     */
    void visit(String array, int vpid, int pcid, boolean global, long pageNumber, int pageShift,
        long physicalBase, boolean writable);
  }

  /**
   * Calls {@code visitor} with every translation a TLB array holds for a live context (any VPID,
   * PCID or EP4TA), for checks such as "no cached translation grants a write to a read-only frame".
   * Not for a hot path: it scans every array.
   *
   * @param visitor the callback
   */
  public void forEachCachedTranslation(CachedTranslationVisitor visitor) {
    for (TranslationCache t : tlbs) {
      for (int i = 0; i < t.tag.length; i++) {
        long tag = t.tag[i];
        if (tag == TranslationCache.INVALID || !tlbContexts.isLive((int) (tag >>> 47))) {
          continue;
        }
        int sizeCode = (int) (tag >>> 45) & 3;
        int shift = sizeShift(sizeCode);
        int a = t.attr[i];
        int keyIndex = ((a >>> Rights.KEY_SHIFT) & 15) | ((a & Rights.U) << 4);
        boolean writable = (hitAllowed[a & Rights.TABLE_MASK] & keyAllowed[keyIndex]
            & Rights.WRITE_CLASSES) != 0;
        long meta = t.meta[i];
        visitor.visit(t.name, (int) (meta & 0xFFFF), (int) ((meta >>> 16) & 0xFFF),
            (meta & (1L << 28)) != 0, tag & ((1L << 45) - 1), shift, t.value[i], writable);
      }
    }
  }

  /** Receives guest-physical mappings from {@link #forEachGuestPhysicalMapping}. */
  @FunctionalInterface
  public interface GuestPhysicalMappingVisitor {
    /**
     * One live nested-TLB entry.
     *
     * @param guestPhysicalBase the guest-physical address of the page
     * @param pageShift log2 of its page size
     * @param hostPhysicalBase the host-physical address of the page
     * @param writable whether a write may use it without a nested walk
     */
    void visit(long guestPhysicalBase, int pageShift, long hostPhysicalBase, boolean writable);
  }

  /**
   * Calls {@code visitor} with every guest-physical mapping (EPT or NPT translation) the nested TLB
   * holds for a live context.
   *
   * @param visitor the callback
   */
  public void forEachGuestPhysicalMapping(GuestPhysicalMappingVisitor visitor) {
    TranslationCache t = nestedTlb;
    for (int i = 0; i < t.tag.length; i++) {
      long tag = t.tag[i];
      if (tag == TranslationCache.INVALID || !nestedContexts.isLive((int) (tag >>> 47))) {
        continue;
      }
      int shift = 12 + 9 * ((int) (tag >>> 45) & 3);
      int a = t.attr[i];
      boolean writable = (a & Rights.NW) != 0 && (a & Rights.ND) != 0;
      visitor.visit(t.aux[i], shift, t.value[i], writable);
    }
  }

  // ---- memory access through the MMU --------------------------------------------------------------

  /**
   * The fault of the last {@link #read} or {@link #fetch}, or 0 if it succeeded.
   *
   * @return a negative {@link Fault}, or 0
   */
  public long lastFault() {
    return lastFault;
  }

  /**
   * Reads {@code size} bytes at linear address {@code la}. An access that crosses a page boundary
   * translates both pages before reading either (a fault on the second page reports that page's
   * first address in CR2).
   *
   * @param la the linear address
   * @param size 1, 2, 4 or 8
   * @param access {@link Access} bits without {@link Access#WRITE} (a read; {@link Access#FETCH}
   *     for a fetch)
   * @return the value; 0 with {@link #lastFault()} set when it faulted
   * @throws IllegalArgumentException for a bad size or access
   */
  public long read(long la, int size, int access) {
    checkSize(size);
    lastFault = 0;
    int offset = (int) la & 0xFFF;
    if (offset + size <= 4096) {
      TranslationCache t = (access & Access.FETCH) == 0 ? fastData : fastCode;
      if (t != null) {
        int i = fastLookup(t, la, access);
        if (i >= 0) {
          t.touch(i);
          t.hits++;
          lastPageShift = 12;
          byte[] page = t.page[i];
          // An entry made before its frame had contents holds no page: read through the memory
          // (translate() would hit the same entry and leave hitPage as the last slow path set it).
          return page != null ? PhysicalMemory.readFrame(page, offset, size)
              : memory.read(t.value[i] | offset, size);
        }
      }
    }
    long pa = translate(la, access);
    if (pa < 0) {
      lastFault = pa;
      return 0;
    }
    if (offset + size <= 4096) {
      byte[] page = hitPage;
      if (page != null) {
        return PhysicalMemory.readFrame(page, offset, size);
      }
      return memory.read(pa, size);
    }
    int first = 4096 - offset;
    long second = translate(secondPage(la), access);
    if (second < 0) {
      lastFault = second;
      return 0;
    }
    long value = 0;
    for (int i = 0; i < size; i++) {
      long b = memory.read(i < first ? pa + i : second + (i - first), 1);
      value |= b << (8 * i);
    }
    return value;
  }

  /**
   * Writes {@code size} bytes at linear address {@code la}: translates every page it touches with
   * {@link Access#WRITE} first, then writes.
   *
   * @param la the linear address
   * @param size 1, 2, 4 or 8
   * @param value the value, in the low {@code 8 * size} bits
   * @param access {@link Access} bits; {@link Access#WRITE} is added
   * @return 0, or the fault (nothing is written then)
   * @throws IllegalArgumentException for a bad size or access
   */
  public long write(long la, int size, long value, int access) {
    checkSize(size);
    lastFault = 0;
    int a = access | Access.WRITE;
    int offset = (int) la & 0xFFF;
    if (offset + size <= 4096 && fastData != null) {
      int i = fastLookup(fastData, la, a);
      if (i >= 0) {
        fastData.touch(i);
        fastData.hits++;
        lastPageShift = 12;
        byte[] page = fastData.page[i];
        if (page != null) {
          PhysicalMemory.writeFrame(page, offset, size, value);
        } else {
          memory.write(fastData.value[i] | offset, size, value); // see read()
        }
        return 0;
      }
    }
    long pa = translate(la, a);
    if (pa < 0) {
      lastFault = pa;
      return pa;
    }
    if (offset + size <= 4096) {
      byte[] page = hitPage;
      if (page != null) {
        PhysicalMemory.writeFrame(page, offset, size, value);
      } else {
        memory.write(pa, size, value);
      }
      return 0;
    }
    int first = 4096 - offset;
    long second = translate(secondPage(la), a);
    if (second < 0) {
      lastFault = second;
      return second;
    }
    for (int i = 0; i < size; i++) {
      memory.write(i < first ? pa + i : second + (i - first), 1, value >>> (8 * i));
    }
    return 0;
  }

  /**
   * Fetches {@code size} instruction bytes at {@code la}.
   *
   * @param la the linear address
   * @param size 1, 2, 4 or 8
   * @param user whether the fetch is a user-mode access (CPL 3)
   * @return the bytes, little-endian; 0 with {@link #lastFault()} set when it faulted
   */
  public long fetch(long la, int size, boolean user) {
    return read(la, size, Access.FETCH | (user ? Access.USER : 0));
  }

  private long secondPage(long la) {
    long next = (la | 0xFFFL) + 1;
    return mode.isLongMode() ? next : next & 0xFFFF_FFFFL;
  }

  private static void checkSize(int size) {
    if (size != 1 && size != 2 && size != 4 && size != 8) {
      throw new IllegalArgumentException("size: " + size + " (expected: 1, 2, 4 or 8)");
    }
  }

  // ---- derived state ------------------------------------------------------------------------------

  private void recompute() {
    mode = PagingMode.of(cr0, cr4, efer);
    linearBits = mode.linearBits();
    fastPath = mode.isLongMode();
    canonicalShift = linearBits - 1;
    largeShift = mode == PagingMode.LEGACY_32 ? 22 : 21;
    // EFER.NXE has no effect in 32-bit paging, whose entries have no XD bit; so the #PF error code's
    // I/D bit then depends on SMEP alone (SDM vol. 3A §4.7).
    nxe = (efer & EFER_NXE) != 0 && features.nx() && mode != PagingMode.LEGACY_32
        && mode != PagingMode.NONE;
    pse = (cr4 & CR4_PSE) != 0;
    pge = (cr4 & CR4_PGE) != 0;
    smep = (cr4 & CR4_SMEP) != 0;
    pcid = (cr4 & CR4_PCIDE) != 0 ? (int) (cr3 & CR3_PCID_MASK) : 0;
    int m = features.maxPhyAddr();
    addressMask = addressMaskFor(m);
    reservedHigh = ((1L << 52) - 1) & ~((1L << m) - 1);
    computeReservedBits(m);
    boolean wp = (cr0 & CR0_WP) != 0;
    boolean smap = (cr4 & CR4_SMAP) != 0;
    boolean cet = (cr4 & CR4_CET) != 0;
    boolean mbec = nesting == NestedPaging.EPT && eptMbec;
    // The tables depend on five bits only: rebuild them when one changes, not on every MOV to CR3.
    int inputs = (wp ? 1 : 0) | (smep ? 2 : 0) | (smap ? 4 : 0) | (cet ? 8 : 0) | (mbec ? 16 : 0);
    if (inputs != rightsInputs) {
      Rights.buildTables(permitted, hitAllowed, wp, smep, smap, cet, mbec);
      rightsInputs = inputs;
    }
    recomputeKeys();
    refreshContexts();
  }

  private int rightsInputs = -1;

  private void recomputeKeys() {
    Rights.buildKeyTable(keyAllowed, mode.isLongMode(), (cr4 & CR4_PKE) != 0,
        (cr4 & CR4_PKS) != 0, pkru, pkrs, (cr0 & CR0_WP) != 0);
  }

  private static long addressMaskFor(int maxPhyAddr) {
    return ((1L << maxPhyAddr) - 1) & ~0xFFFL;
  }

  /** Reserved-bit masks by level (SDM vol. 3A tables 4-4 to 4-20; APM vol. 2 §5.3.1). */
  private void computeReservedBits(int m) {
    Arrays.fill(reservedNonLeaf, 0);
    Arrays.fill(reservedLeaf, 0);
    long xd = nxe ? 0 : PageEntry.XD;
    if (mode == PagingMode.LEGACY_32) {
      // Only a 4-MByte PDE has reserved bits: bit 21 and the PSE-36 bits above MAXPHYADDR (at most
      // 40 bits in 32-bit paging).
      int bits = Math.min(m, 40);
      reservedLeaf[2] = (1L << 21) | (((1L << 21) - 1) & ~((1L << (13 + bits - 32)) - 1));
    } else if (mode == PagingMode.PAE) {
      long high = ((1L << 63) - 1) & ~((1L << m) - 1); // bits 62:M
      reservedNonLeaf[1] = high | xd;
      reservedNonLeaf[2] = high | xd;
      reservedLeaf[1] = high | xd;
      reservedLeaf[2] = high | xd | 0x1FE000L;
      // PDPTEs read from memory (under NPT): bits 63:M, 8:5 and 2:1.
      reservedNonLeaf[3] = (-1L << m) | (switches.paePdpteBits8To5Reserved() ? 0x1E6L : 0x6L);
      reservedLeaf[3] = reservedNonLeaf[3];
    } else if (mode.isLongMode()) {
      long high = reservedHigh | xd;
      long g = switches.l4GlobalReserved() ? PageEntry.G : 0;
      reservedNonLeaf[5] = high | PageEntry.PS | g;
      reservedNonLeaf[4] = high | PageEntry.PS | g;
      reservedLeaf[5] = reservedNonLeaf[5];
      reservedLeaf[4] = reservedNonLeaf[4];
      reservedNonLeaf[3] = high;
      reservedLeaf[3] = features.gbPages() ? high | 0x3FFFE000L : -1L;
      reservedNonLeaf[2] = high;
      reservedLeaf[2] = high | 0x1FE000L;
      reservedNonLeaf[1] = high;
      reservedLeaf[1] = high;
    }
    // The host's tables under NPT: always IA-32e format, with the host's NXE.
    long hostHigh = reservedHigh | (hostNxe ? 0 : PageEntry.XD);
    long g = switches.l4GlobalReserved() ? PageEntry.G : 0;
    hostReservedNonLeaf[5] = hostHigh | PageEntry.PS | g;
    hostReservedNonLeaf[4] = hostHigh | PageEntry.PS | g;
    hostReservedLeaf[5] = hostReservedNonLeaf[5];
    hostReservedLeaf[4] = hostReservedNonLeaf[4];
    hostReservedNonLeaf[3] = hostHigh;
    hostReservedLeaf[3] = features.gbPages() ? hostHigh | 0x3FFFE000L : -1L;
    hostReservedNonLeaf[2] = hostHigh;
    hostReservedLeaf[2] = hostHigh | 0x1FE000L;
    hostReservedNonLeaf[1] = hostHigh;
    hostReservedLeaf[1] = hostHigh;
  }

  /** The reserved bits of a guest entry at {@code level} with its PS bit as in {@code value}. */
  long reserved(int level, long value) {
    if (mode == PagingMode.LEGACY_32) {
      return level == 2 && pse && (value & PageEntry.PS) != 0 ? reservedLeaf[2] : 0;
    }
    boolean ps = (value & PageEntry.PS) != 0 && (level == 2 || level == 3);
    return ps ? reservedLeaf[level] : reservedNonLeaf[level];
  }

  long hostReserved(int level, long value) {
    boolean ps = (value & PageEntry.PS) != 0 && (level == 2 || level == 3);
    return ps ? hostReservedLeaf[level] : hostReservedNonLeaf[level];
  }

  /**
   * Loads the four PAE PDPTEs from {@code cr3} (SDM vol. 3A §4.4.1): #GP if a present one has
   * reserved bits; under EPT each is read through a nested translation whose violation has bit 7
   * of its qualification clear.
   */
  private long loadPdptes(long cr3Value, boolean force) {
    long base = cr3Value & 0xFFFF_FFE0L;
    long[] loaded = pdpteScratch;
    long reservedMask = (-1L << features.maxPhyAddr())
        | (switches.paePdpteBits8To5Reserved() ? 0x1E6L : 0x6L);
    for (int i = 0; i < 4; i++) {
      long gpa = base + 8L * i;
      long hpa = gpa;
      if (nesting == NestedPaging.EPT) {
        hpa = walker.nestedTranslate(gpa, Walker.N_READ, -1, 0);
        if (hpa < 0) {
          return hpa;
        }
      }
      long v = memory.read(hpa, 8);
      if ((v & PageEntry.P) != 0 && (v & reservedMask) != 0) {
        return generalProtection();
      }
      loaded[i] = v;
    }
    System.arraycopy(loaded, 0, pdpte, 0, 4);
    return 0;
  }

  private final long[] pdpteScratch = new long[4];

  private boolean canonical(long la) {
    if (!mode.isLongMode()) {
      return (la >>> 32) == 0;
    }
    long ext = la >> (linearBits - 1);
    return ext == 0 || ext == -1;
  }

  private boolean canonical64(long la) {
    int bits = features.la57() && (cr4 & CR4_LA57) != 0 ? 57 : 48;
    long ext = la >> (bits - 1);
    return ext == 0 || ext == -1;
  }

  private int sizeShift(int sizeCode) {
    return sizeCode == 0 ? 12 : sizeCode == 1 ? largeShift : 30;
  }

  /** Looks up the current contexts' ids (after any register change or invalidation). */
  private long currentRoot() {
    return nesting == NestedPaging.EPT ? eptp & addressMaskFor(features.maxPhyAddr())
        : nesting == NestedPaging.NPT ? (ncr3 & addressMaskFor(features.maxPhyAddr())) | 1 : 0;
  }

  private void refreshContexts() {
    long root = currentRoot();
    tlbSlot = tlbContexts.slot(ContextTable.scope(vpid, pcid, KIND_NON_GLOBAL), root);
    globalSlot = tlbContexts.slot(ContextTable.scope(vpid, 0, KIND_GLOBAL), root);
    // Creating a slot may have wiped the table and renumbered the first one: read ids last.
    tlbSlot = tlbContexts.slot(ContextTable.scope(vpid, pcid, KIND_NON_GLOBAL), root);
    tlbTag = (long) tlbContexts.id(tlbSlot) << 47;
    globalTag = (long) tlbContexts.id(globalSlot) << 47;
    pscSlot = pscContexts.slot(ContextTable.scope(vpid, pcid, 0), root);
    pscTag = (long) pscContexts.id(pscSlot) << 47;
    nestedSlot = nestedContexts.slot(ContextTable.scope(0, 0, 0), root);
    nestedTag = (long) nestedContexts.id(nestedSlot) << 47;
  }

  @Override
  public String toString() {
    return "Vcpu[" + mode + ", cr0=0x" + Long.toHexString(cr0) + ", cr3=0x" + Long.toHexString(cr3)
        + ", cr4=0x" + Long.toHexString(cr4) + ", efer=0x" + Long.toHexString(efer)
        + ", nesting=" + nesting + ", vpid=" + vpid + ", pcid=" + pcid + "]";
  }
}
