package org.hvmmu.mmu;

import static org.hvmmu.mmu.ControlRegisters.CR4_LA57;
import static org.hvmmu.mmu.ControlRegisters.CR4_PSE;
import static org.hvmmu.mmu.PageEntry.P;
import static org.hvmmu.mmu.PageEntry.PS;
import static org.hvmmu.mmu.PageEntry.RW;
import static org.hvmmu.mmu.PageEntry.US;
import static org.hvmmu.mmu.PageEntry.XD;

import java.util.Objects;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.mmu.memory.RegionKind;

/**
 * Enumerates the present leaf mappings of one address space: every page that a guest's paging
 * structures map, in the order of QEMU's monitor command {@code info tlb} ({@code
 * target/i386/monitor.c}, functions {@code tlb_info_32}, {@code tlb_info_pae32}, {@code
 * tlb_info_la48} and {@code tlb_info_la57}): ascending table index at every level, depth first, a
 * shared table once per reference. The walk reads the tables through a {@link PhysicalMemory}, and
 * with nested paging ({@link #configureEpt}, {@link #configureNpt}) first translates each guest
 * table's guest-physical address through the EPT or NPT tables.
 *
 * <pre>{@code
 * AddressSpaceWalker w = new AddressSpaceWalker(memory, cr0, cr3, cr4, efer);
 * long[] bytesMapped = {0};
 * int rc = w.walk((la, pa, pageShift, entry, rights) -> {
 *   bytesMapped[0] += 1L << pageShift;
 *   return 0;                                   // non-zero stops the walk and is returned
 * });
 * long pa = w.lookup(0xffffffff81000000L);      // one address; NOT_MAPPED if no leaf maps it
 * }</pre>
 *
 * <p><b>What counts as a mapping.</b> The walk is structural, as QEMU's {@code info tlb} and
 * Linux's page-table dumpers are: an entry is followed when its P bit is set; it is a leaf at level
 * 1, at level 2 when PS is set (in 32-bit paging only with CR4.PSE), and at level 3 in 4- and
 * 5-level paging when PS is set (a 1-GByte page, whatever CPUID says). PS is ignored in PML5Es,
 * PML4Es and PAE PDPTEs, which always reference tables. Reserved bits are not checked and accessed
 * and dirty flags are never set: a mapping visited here may still fault on a real processor (see
 * {@link Vcpu#translate}, which checks everything). The PAE PDPTEs are read from memory at CR3, not
 * from PDPTE registers.
 *
 * <p><b>Addresses.</b> Linear addresses are canonical (sign-extended from bit 47 or, with 5-level
 * paging, bit 56). Table addresses and page frames are bits (MAXPHYADDR-1):12 of the entries (bits
 * 31:12 in 32-bit paging; a 4-MByte page's frame takes PSE-36 bits 20:13 as address bits 39:32);
 * {@code pa} is the page's first byte, guest-physical when nested paging is configured. (QEMU's
 * monitor takes bits 49:12 whatever MAXPHYADDR is; the two differ only for entries with reserved
 * address bits set, which a processor would not use.) A table
 * outside RAM (an absent or MMIO frame, or one at or above 2^MAXPHYADDR) is treated as empty, as
 * QEMU's monitor reads unassigned memory as zeros; so is a table whose guest-physical address the
 * nested tables do not map readably. Such tables are counted in {@link #unreadableTables()}.
 *
 * <p><b>Nested tables</b> are walked simply: EPT entries are present when one of bits 2:0 is set,
 * readable when bit 0 is set at every level, and map a page at level 1 or with bit 7 at levels 2
 * and 3 (4 or 5 levels, from EPTP bits 5:3); NPT entries are in the long-mode format, need P and
 * U/S at every level (nested accesses are user accesses), and map a page at level 1 or with PS at
 * levels 2 and 3. Reserved bits, memory types and misconfigurations are not checked.
 *
 * <p><b>Bounds.</b> The recursion is at most five levels deep whatever the tables hold, so a table
 * that references itself (a recursive PML4 slot) is walked as what it claims to be at each level
 * and the walk ends. A 5-level space can still hold 2^45 mappings: they are streamed to the
 * visitor, nothing is collected, and the visitor can stop the walk.
 *
 * <p>Not thread-safe: one walker belongs to one thread; it holds the path of the current mapping
 * ({@link #entry}, {@link #entryAddress}). Walking allocates nothing.
 */
public final class AddressSpaceWalker {
  /** {@code rights} bit 0: R/W is set in every entry of the walk (PAE PDPTEs have no R/W). */
  public static final int WRITABLE = 1;

  /** {@code rights} bit 1: U/S is set in every entry of the walk (PAE PDPTEs have no U/S). */
  public static final int USER = 1 << 1;

  /**
   * {@code rights} bit 2: XD (bit 63) is set in some entry of the walk. It makes the page
   * execute-disable only with EFER.NXE, and is never set in 32-bit paging.
   */
  public static final int EXECUTE_DISABLE = 1 << 2;

  /** What {@link #lookup} returns for an address no leaf maps (or a non-canonical one). */
  public static final long NOT_MAPPED = -1L;

  /** Receives each leaf mapping from {@link #walk}. */
  @FunctionalInterface
  public interface LeafVisitor {
    /**
     * One present leaf mapping. The entries above the leaf are {@link #entry}{@code (level)} of
     * the walker during the call.
     *
     * @param la the canonical linear address of the page's first byte
     * @param pa the (guest-)physical address of the page's first byte
     * @param pageShift log2 of the page size: 12, 21, 22 or 30
     * @param entry the leaf entry as read (a 4-byte entry zero-extended)
     * @param rights {@link #WRITABLE}, {@link #USER} and {@link #EXECUTE_DISABLE} over the walk
     * @return 0 to go on; anything else stops the walk, which returns it
     */
    int visit(long la, long pa, int pageShift, long entry, int rights);
  }

  private static final int ENTRIES_64 = 512;
  private static final int ENTRIES_32 = 1024;

  private final PhysicalMemory memory;
  private final PagingMode mode;
  private final long cr3;
  private final boolean pse;
  private final long addressMask;
  private final long physicalMask;

  private NestedPaging nesting = NestedPaging.NONE;
  private long nestedRoot;
  private int nestedLevels;

  private final long[] entries = new long[6];
  private final long[] entryAddresses = new long[6];
  private int leafLevel;
  private long unreadableTables;
  private long tablesRead;
  private long mappings;
  private int lookupPageShift;

  /**
   * A walker of the address space that the given registers select ({@link PagingMode#of}).
   *
   * @param memory the physical memory holding the tables (host-physical with nested paging)
   * @param cr0 CR0 (PG selects paging)
   * @param cr3 CR3 (its address bits are the root; PCID and flag bits are ignored)
   * @param cr4 CR4 (PAE, PSE and LA57 matter)
   * @param efer IA32_EFER (LMA selects IA-32e paging)
   */
  public AddressSpaceWalker(PhysicalMemory memory, long cr0, long cr3, long cr4, long efer) {
    this.memory = Objects.requireNonNull(memory, "memory");
    this.mode = PagingMode.of(cr0, cr4, efer);
    this.cr3 = cr3;
    this.pse = (cr4 & CR4_PSE) != 0;
    this.physicalMask = (1L << memory.maxPhyAddr()) - 1;
    this.addressMask = physicalMask & ~0xFFFL;
  }

  /**
   * The paging mode walked.
   *
   * @return the mode; {@link PagingMode#NONE} walks nothing
   */
  public PagingMode mode() {
    return mode;
  }

  /**
   * Reads the guest tables through EPT: every guest table address is translated through the EPT
   * paging structures {@code eptp} names.
   *
   * @param eptp the EPT pointer: bits 5:3 give the walk length minus one (3 or 4), bits
   *     (MAXPHYADDR-1):12 the root
   * @throws IllegalArgumentException if the walk length is not 4 or 5, or the root is at or above
   *     2^MAXPHYADDR
   */
  public void configureEpt(long eptp) {
    int walk = (int) ((eptp & ControlRegisters.EPTP_WALK_LENGTH_MASK)
        >>> ControlRegisters.EPTP_WALK_LENGTH_SHIFT) + 1;
    if ((walk != 4 && walk != 5) || (eptp & ~0xFFFL & ~physicalMask) != 0) {
      throw new IllegalArgumentException("EPTP 0x" + Long.toHexString(eptp)
          + " (expected: walk length 4 or 5 in bits 5:3, root below 2^" + memory.maxPhyAddr()
          + ")");
    }
    nesting = NestedPaging.EPT;
    nestedRoot = eptp & addressMask;
    nestedLevels = walk;
  }

  /**
   * Reads the guest tables through AMD NPT: every guest table address is translated through the
   * long-mode-format tables rooted at {@code nestedCr3}.
   *
   * @param nestedCr3 the nested CR3 (bits 63:MAXPHYADDR zero)
   * @param hostCr4 the host's CR4: LA57 selects 5-level nested tables
   * @throws IllegalArgumentException if the nested CR3 has bits at or above MAXPHYADDR
   */
  public void configureNpt(long nestedCr3, long hostCr4) {
    if ((nestedCr3 & ~physicalMask) != 0) {
      throw new IllegalArgumentException("nested CR3 0x" + Long.toHexString(nestedCr3)
          + " (expected: bits 63:" + memory.maxPhyAddr() + " zero)");
    }
    nesting = NestedPaging.NPT;
    nestedRoot = nestedCr3 & addressMask;
    nestedLevels = (hostCr4 & CR4_LA57) != 0 ? 5 : 4;
  }

  /** Reads the guest tables directly again: guest-physical addresses are host-physical. */
  public void disableNesting() {
    nesting = NestedPaging.NONE;
  }

  /**
   * The nested paging the walker translates table addresses through.
   *
   * @return none, EPT or NPT
   */
  public NestedPaging nestedPaging() {
    return nesting;
  }

  /**
   * Visits every present leaf mapping in QEMU's {@code info tlb} order; see the class comment.
   *
   * @param visitor receives each mapping
   * @return 0 when every mapping was visited, else the visitor's non-zero result that stopped it
   */
  public int walk(LeafVisitor visitor) {
    Objects.requireNonNull(visitor, "visitor");
    unreadableTables = 0;
    tablesRead = 0;
    mappings = 0;
    switch (mode) {
      case LEGACY_32:
        return walk32(visitor);
      case PAE:
        return walkPae(visitor);
      case LONG_4:
      case LONG_5:
        return walkTable(mode.levels(), cr3 & addressMask, 0, WRITABLE | USER, visitor);
      default:
        return 0;
    }
  }

  /**
   * The (guest-)physical address that {@code la} maps to under the same rules as {@link #walk},
   * without checking rights or reserved bits and without setting accessed or dirty flags.
   * Afterwards {@link #entry} and {@link #entryAddress} describe the path and {@link
   * #lookupPageShift()} the page size.
   *
   * @param la a linear address
   * @return the address, or {@link #NOT_MAPPED} if no present leaf maps {@code la} or the address
   *     is not canonical (IA-32e paging) or not below 2^32 (32-bit and PAE paging); without paging,
   *     {@code la} itself if it is below 2^MAXPHYADDR
   */
  public long lookup(long la) {
    if (mode == PagingMode.NONE) {
      lookupPageShift = 12;
      return (la & ~physicalMask) == 0 ? la : NOT_MAPPED;
    }
    if (mode.isLongMode()) {
      int bits = mode.linearBits();
      if ((la << (64 - bits)) >> (64 - bits) != la) {
        return NOT_MAPPED;
      }
    } else if ((la >>> 32) != 0) {
      return NOT_MAPPED;
    }
    int level;
    long table;
    int entrySize = mode.entrySize();
    if (mode == PagingMode.LEGACY_32) {
      level = 2;
      table = cr3 & 0xFFFF_F000L;
    } else if (mode == PagingMode.PAE) {
      long pdpteAddress = (cr3 & 0xFFFF_FFE0L) + ((la >>> 30) & 3) * 8;
      long e = readEntry(pdpteAddress, 8);
      if ((e & P) == 0) {
        return NOT_MAPPED;
      }
      entries[3] = e;
      entryAddresses[3] = pdpteAddress;
      level = 2;
      table = e & addressMask;
    } else {
      level = mode.levels();
      table = cr3 & addressMask;
    }
    for (; ; level--) {
      int shift = levelShift(level);
      long index = (la >>> shift) & (entrySize == 4 ? ENTRIES_32 - 1 : ENTRIES_64 - 1);
      long address = table + index * entrySize;
      long e = readEntry(address, entrySize);
      if ((e & P) == 0) {
        return NOT_MAPPED;
      }
      entries[level] = e;
      entryAddresses[level] = address;
      if (isLeaf(level, e)) {
        leafLevel = level;
        lookupPageShift = shift;
        long base = leafFrame(level, e);
        return base | (la & ((1L << shift) - 1));
      }
      table = nextTable(e);
    }
  }

  /**
   * log2 of the page size of the last successful {@link #lookup}.
   *
   * @return 12, 21, 22 or 30
   */
  public int lookupPageShift() {
    return lookupPageShift;
  }

  /**
   * The entry at {@code level} of the current mapping's walk, during a {@link LeafVisitor#visit}
   * call or after a successful {@link #lookup}: level 1 is a PTE, 2 a PDE, 3 a PDPTE (PAE's too), 4
   * a PML4E, 5 a PML5E.
   *
   * @param level from the leaf's level up to the mode's top level
   * @return the entry as read (a 4-byte entry zero-extended)
   * @throws IllegalArgumentException if {@code level} is not between the leaf's level and the top
   */
  public long entry(int level) {
    checkLevel(level);
    return entries[level];
  }

  /**
   * The (guest-)physical address of the entry at {@code level} of the current mapping's walk.
   *
   * @param level from the leaf's level up to the mode's top level
   * @return the address of the entry
   * @throws IllegalArgumentException if {@code level} is not between the leaf's level and the top
   */
  public long entryAddress(int level) {
    checkLevel(level);
    return entryAddresses[level];
  }

  /**
   * The level of the current mapping's leaf entry: 1 for 4 KiB pages, 2 for 2 or 4 MiB, 3 for 1
   * GiB.
   *
   * @return the level
   */
  public int leafLevel() {
    return leafLevel;
  }

  /**
   * Tables of the last {@link #walk} that could not be read: outside RAM, at or above
   * 2^MAXPHYADDR, or not readably mapped by the nested tables. Each was treated as empty.
   *
   * @return the count
   */
  public long unreadableTables() {
    return unreadableTables;
  }

  /**
   * Tables (and PAE PDPTs) the last {@link #walk} read, counting a shared table once per reference.
   *
   * @return the count
   */
  public long tablesRead() {
    return tablesRead;
  }

  /**
   * Leaf mappings the last {@link #walk} visited.
   *
   * @return the count
   */
  public long mappings() {
    return mappings;
  }

  private void checkLevel(int level) {
    int top = mode.levels();
    if (level < leafLevel || level > top || level < 1) {
      throw new IllegalArgumentException("level: " + level + " (expected: " + leafLevel + " to "
          + top + ")");
    }
  }

  // ---- the walks --------------------------------------------------------------------------------

  /** 32-bit paging: tlb_info_32. */
  private int walk32(LeafVisitor visitor) {
    long pd = cr3 & 0xFFFF_F000L;
    byte[] pdPage = table(pd);
    if (pdPage == null) {
      return 0;
    }
    for (int i = 0; i < ENTRIES_32; i++) {
      long pde = PhysicalMemory.readFrame(pdPage, i * 4, 4);
      if ((pde & P) == 0) {
        continue;
      }
      entries[2] = pde;
      entryAddresses[2] = pd + i * 4L;
      long la = (long) i << 22;
      int rights = rights(WRITABLE | USER, pde);
      if (pse && (pde & PS) != 0) {
        int rc = visit(visitor, 2, la, leafFrame(2, pde), 22, pde, rights);
        if (rc != 0) {
          return rc;
        }
        continue;
      }
      long pt = pde & 0xFFFF_F000L;
      byte[] ptPage = table(pt);
      if (ptPage == null) {
        continue;
      }
      for (int j = 0; j < ENTRIES_32; j++) {
        long pte = PhysicalMemory.readFrame(ptPage, j * 4, 4);
        if ((pte & P) == 0) {
          continue;
        }
        entries[1] = pte;
        entryAddresses[1] = pt + j * 4L;
        int rc = visit(visitor, 1, la | ((long) j << 12), leafFrame(1, pte), 12, pte,
            rights(rights, pte));
        if (rc != 0) {
          return rc;
        }
      }
    }
    return 0;
  }

  /** PAE paging: tlb_info_pae32; the four PDPTEs are read from memory at CR3 bits 31:5. */
  private int walkPae(LeafVisitor visitor) {
    long pdpt = cr3 & 0xFFFF_FFE0L;
    byte[] page = table(pdpt & ~0xFFFL);
    if (page == null) {
      return 0;
    }
    int offset = (int) (pdpt & 0xFFF);
    for (int i = 0; i < 4; i++) {
      long pdpte = PhysicalMemory.readFrame(page, offset + i * 8, 8);
      if ((pdpte & P) == 0) {
        continue;
      }
      entries[3] = pdpte;
      entryAddresses[3] = pdpt + i * 8L;
      // PDPTEs have no R/W, U/S or XD: the rights start with the PDEs.
      int rc = walkTable(2, pdpte & addressMask, (long) i << 30, WRITABLE | USER, visitor);
      if (rc != 0) {
        return rc;
      }
    }
    return 0;
  }

  /** One table of 8-byte entries at {@code level} (PAE levels 2-1, IA-32e levels 5-1). */
  private int walkTable(int level, long tableAddress, long laBase, int rightsAbove,
      LeafVisitor visitor) {
    byte[] page = table(tableAddress);
    if (page == null) {
      return 0;
    }
    int shift = levelShift(level);
    for (int i = 0; i < ENTRIES_64; i++) {
      long e = PhysicalMemory.readFrame(page, i * 8, 8);
      if ((e & P) == 0) {
        continue;
      }
      entries[level] = e;
      entryAddresses[level] = tableAddress + i * 8L;
      long la = laBase | ((long) i << shift);
      int rights = rights(rightsAbove, e);
      int rc;
      if (isLeaf(level, e)) {
        rc = visit(visitor, level, canonical(la), leafFrame(level, e), shift, e, rights);
      } else {
        rc = walkTable(level - 1, e & addressMask, la, rights, visitor);
      }
      if (rc != 0) {
        return rc;
      }
    }
    return 0;
  }

  private int visit(LeafVisitor visitor, int level, long la, long pa, int shift, long entry,
      int rights) {
    leafLevel = level;
    mappings++;
    return visitor.visit(la, pa, shift, entry, rights);
  }

  private static int rights(int above, long e) {
    int r = above;
    if ((e & RW) == 0) {
      r &= ~WRITABLE;
    }
    if ((e & US) == 0) {
      r &= ~USER;
    }
    if ((e & XD) != 0) {
      r |= EXECUTE_DISABLE;
    }
    return r;
  }

  private boolean isLeaf(int level, long e) {
    if (level == 1) {
      return true;
    }
    if ((e & PS) == 0) {
      return false;
    }
    switch (mode) {
      case LEGACY_32:
        return level == 2 && pse;
      case PAE:
        return level == 2;
      default:
        return level == 2 || level == 3;
    }
  }

  private long nextTable(long e) {
    return mode == PagingMode.LEGACY_32 ? e & 0xFFFF_F000L : e & addressMask;
  }

  private long leafFrame(int level, long e) {
    if (mode == PagingMode.LEGACY_32) {
      if (level == 1) {
        return e & 0xFFFF_F000L;
      }
      // PSE-36: PDE bits 20:13 are physical-address bits 39:32 (SDM vol. 3A table 4-4).
      return ((e & 0xFFC0_0000L) | (((e >>> 13) & 0xFFL) << 32)) & physicalMask;
    }
    return e & addressMask & ~((1L << levelShift(level)) - 1);
  }

  private int levelShift(int level) {
    return mode == PagingMode.LEGACY_32 ? (level == 2 ? 22 : 12) : 12 + 9 * (level - 1);
  }

  private long canonical(long la) {
    int bits = mode.linearBits();
    return bits == 32 ? la : (la << (64 - bits)) >> (64 - bits);
  }

  // ---- memory -----------------------------------------------------------------------------------

  /** The contents of the table frame at guest-physical {@code address}, or null (counted). */
  private byte[] table(long address) {
    long hpa = hostAddress(address);
    if (hpa < 0) {
      unreadableTables++;
      return null;
    }
    long frame = hpa >>> PhysicalMemory.PAGE_SHIFT;
    byte[] page = memory.frameContents(frame);
    if (page == null && memory.kind(frame) == RegionKind.RAM) {
      page = ZERO_FRAME; // RAM never written: an empty table
    }
    if (page == null) {
      unreadableTables++;
    } else {
      tablesRead++;
    }
    return page;
  }

  private static final byte[] ZERO_FRAME = new byte[PhysicalMemory.PAGE_SIZE];

  /** One entry for {@link #lookup}: 0 where the table cannot be read (treated as empty). */
  private long readEntry(long address, int size) {
    long hpa = hostAddress(address);
    if (hpa < 0) {
      return 0;
    }
    byte[] page = memory.frameContents(hpa >>> PhysicalMemory.PAGE_SHIFT);
    return page == null ? 0 : PhysicalMemory.readFrame(page, (int) (hpa & 0xFFF), size);
  }

  /** A guest-physical address as host-physical (nested translation), or -1. */
  private long hostAddress(long gpa) {
    if ((gpa & ~physicalMask) != 0) {
      return -1;
    }
    if (nesting == NestedPaging.NONE) {
      return gpa;
    }
    boolean ept = nesting == NestedPaging.EPT;
    long table = nestedRoot;
    for (int level = nestedLevels; ; level--) {
      int shift = 12 + 9 * (level - 1);
      byte[] page = memory.frameContents(table >>> PhysicalMemory.PAGE_SHIFT);
      if (page == null) {
        return -1; // outside RAM, or RAM never written: no entry is present
      }
      long e = PhysicalMemory.readFrame(page, (int) ((gpa >>> shift) & 0x1FF) * 8, 8);
      // EPT: readable needs bit 0 at every level. NPT: P and U/S at every level.
      if (ept ? (e & PageEntry.EPT_R) == 0 : (e & (P | US)) != (P | US)) {
        return -1;
      }
      boolean large = ept ? (e & PageEntry.EPT_PS) != 0 : (e & PS) != 0;
      if (level == 1 || (large && (level == 2 || level == 3))) {
        long size = 1L << shift;
        return (e & addressMask & ~(size - 1)) | (gpa & (size - 1));
      }
      if (large) {
        return -1; // PS in a PML4E or PML5E is reserved
      }
      table = e & addressMask;
    }
  }
}
