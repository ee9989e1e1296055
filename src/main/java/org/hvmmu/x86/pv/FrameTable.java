package org.hvmmu.x86.pv;

import static org.hvmmu.x86.pv.PageInfo.PGC_ALLOCATED;
import static org.hvmmu.x86.pv.PageInfo.PGC_CACHEATTR_BASE;
import static org.hvmmu.x86.pv.PageInfo.PGC_CACHEATTR_MASK;
import static org.hvmmu.x86.pv.PageInfo.PGC_COUNT_MASK;
import static org.hvmmu.x86.pv.PageInfo.PGC_XEN_HEAP;
import static org.hvmmu.x86.pv.PageInfo.PGT_COUNT_MASK;
import static org.hvmmu.x86.pv.PageInfo.PGT_LOCKED;
import static org.hvmmu.x86.pv.PageInfo.PGT_PAE_XEN_L2;
import static org.hvmmu.x86.pv.PageInfo.PGT_PINNED;
import static org.hvmmu.x86.pv.PageInfo.PGT_TYPE_MASK;
import static org.hvmmu.x86.pv.PageInfo.PGT_VALIDATED;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.mmu.memory.RegionKind;
import org.hvmmu.x86.Pte;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.HypervisorBugException;

/**
 * The host's frame table: for every machine frame below {@link #frameCount()}, its owner, its
 * general reference count ({@code count_info}), its page type state ({@code type_info}) and, when the
 * frame holds guest data the model reads (page tables), its 512 entries.
 * Xen 4.22: {@code xen/arch/x86/mm.c}.
 *
 * <p>Frames at or above {@link #frameCount()} have no frame-table entry: Xen's {@code mfn_valid} is
 * false for them, and the PV code treats them as MMIO without reference counting. MMIO frames inside
 * the table are owned by {@link DomainIds#DOMID_IO}.
 *
 * <p>The counting operations follow Xen's {@code get_page}, {@code put_page}, {@code get_page_type}
 * and {@code put_page_type} with the same compare-and-swap loops, so they are safe from many threads
 * and allocate nothing. The state is kept in primitive arrays; {@link PageInfo} gives the bit layout.
 * Set-up operations ({@link #assignPage}, {@link #shareWithDomIo}, ...) are meant for one thread
 * before or between guest activity.
 */
public final class FrameTable {
  /** The most frames a table may hold (64 GiB of 4-KByte frames). */
  public static final long MAX_FRAMES = 1L << 24;

  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
  private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);

  private final long[] countInfo;
  private final long[] typeInfo;
  private final int[] owner;
  /**
   * Xen's {@code linear_pt_count} (an {@code int16_t}): positive, the number of linear entries the
   * table holds; negative, the number of other same-level tables that map it linearly.
   */
  private final int[] linearPtCount;
  /** The machine memory that holds every frame's contents: the table's entries are views of it. */
  private final PhysicalMemory memory;
  private static final VarHandle ENTRY =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private PageTableValidation validation = PageTableValidation.NONE;

  /**
   * Creates a table of {@code frameCount} frames, all free ({@link DomainIds#OWNER_NONE}, counts 0).
   *
   * @param frameCount the number of frames with a frame-table entry, 1 to {@link #MAX_FRAMES}
   * @throws IllegalArgumentException if {@code frameCount} is outside that range
   */
  public FrameTable(long frameCount) {
    this(frameCount, ownMemory(frameCount));
  }

  /**
   * Creates a table of {@code frameCount} frames, all free, whose contents are frames of {@code
   * memory} (one memory, one truth: a page table written here is the page table a vCPU walks there).
   * Frames below {@code frameCount} must be RAM of {@code memory} where they hold page tables.
   *
   * @param frameCount the number of frames with a frame-table entry, 1 to {@link #MAX_FRAMES}
   * @param memory the machine memory
   * @throws IllegalArgumentException if {@code frameCount} is outside that range or beyond the
   *     memory's MAXPHYADDR
   */
  public FrameTable(long frameCount, PhysicalMemory memory) {
    if (frameCount < 1 || frameCount > MAX_FRAMES) {
      throw new IllegalArgumentException(
          "frameCount: 0x" + Long.toHexString(frameCount) + " (expected: 1 to 0x"
              + Long.toHexString(MAX_FRAMES) + ")");
    }
    this.memory = Objects.requireNonNull(memory, "memory");
    if (frameCount - 1 > memory.lastFrame()) {
      throw new IllegalArgumentException("frameCount: 0x" + Long.toHexString(frameCount)
          + " (expected: within the memory's 0x" + Long.toHexString(memory.lastFrame() + 1)
          + " frames)");
    }
    int n = (int) frameCount;
    countInfo = new long[n];
    typeInfo = new long[n];
    owner = new int[n];
    linearPtCount = new int[n];
    Arrays.fill(owner, DomainIds.OWNER_NONE);
  }

  /** A memory of its own whose first {@code frameCount} frames are RAM, for a stand-alone table. */
  private static PhysicalMemory ownMemory(long frameCount) {
    PhysicalMemory m = new PhysicalMemory(PhysicalMemory.MAX_PHYS_ADDR_BITS);
    if (frameCount >= 1 && frameCount <= MAX_FRAMES) {
      m.addRam(0, frameCount - 1);
    }
    return m;
  }

  /**
   * The machine memory holding the frames' contents.
   *
   * @return the memory
   */
  public PhysicalMemory memory() {
    return memory;
  }

  void setValidation(PageTableValidation validation) {
    this.validation = validation;
  }

  /**
   * The number of frames with a frame-table entry.
   *
   * @return frames 0 to {@code frameCount() - 1} are valid
   */
  public long frameCount() {
    return countInfo.length;
  }

  /**
   * Xen's {@code mfn_valid}: whether frame {@code mfn} has a frame-table entry.
   *
   * @param mfn a frame number (unsigned)
   * @return true if {@code mfn} is below {@link #frameCount()}
   */
  public boolean mfnValid(long mfn) {
    return Long.compareUnsigned(mfn, countInfo.length) < 0;
  }

  /**
   * Xen's {@code page_get_owner}: the id of the domain that owns frame {@code mfn}.
   *
   * @param mfn a valid frame
   * @return a domain id, {@link DomainIds#DOMID_IO}, {@link DomainIds#DOMID_XEN}, or {@link
   *     DomainIds#OWNER_NONE} for a free frame
   * @throws IllegalArgumentException if {@code mfn} is not valid
   */
  public int owner(long mfn) {
    return (int) INTS.getAcquire(owner, index(mfn));
  }

  /**
   * The frame's {@code count_info} word ({@link PageInfo} gives the layout).
   *
   * @param mfn a valid frame
   * @return the word
   */
  public long countInfo(long mfn) {
    return (long) LONGS.getVolatile(countInfo, index(mfn));
  }

  /**
   * The frame's {@code type_info} word ({@link PageInfo} gives the layout).
   *
   * @param mfn a valid frame
   * @return the word
   */
  public long typeInfo(long mfn) {
    return (long) LONGS.getVolatile(typeInfo, index(mfn));
  }

  /**
   * The frame's general reference count.
   *
   * @param mfn a valid frame
   * @return the count
   */
  public long generalCount(long mfn) {
    return PageInfo.count(countInfo(mfn));
  }

  /**
   * The frame's current page type.
   *
   * @param mfn a valid frame
   * @return the type
   */
  public PageType pageType(long mfn) {
    return PageInfo.type(typeInfo(mfn));
  }

  /**
   * The frame's type use count.
   *
   * @param mfn a valid frame
   * @return the count
   */
  public long typeCount(long mfn) {
    return PageInfo.typeCount(typeInfo(mfn));
  }

  /**
   * Xen's {@code is_iomem_page}: an invalid frame, or one owned by {@link DomainIds#DOMID_IO}.
   *
   * @param mfn a frame number (unsigned)
   * @return true if the PV code treats the frame as MMIO
   */
  public boolean isIomemPage(long mfn) {
    return !mfnValid(mfn) || owner(mfn) == DomainIds.DOMID_IO;
  }

  /**
   * Whether the frame is a live L1 page table: typed L1, validated, and in use.
   *
   * @param mfn a valid frame
   * @return true if its entries are live mappings
   */
  public boolean isLiveL1Table(long mfn) {
    long x = typeInfo(mfn);
    return PageInfo.type(x) == PageType.L1_PAGE_TABLE && (x & PGT_VALIDATED) != 0
        && (x & PGT_COUNT_MASK) != 0;
  }

  /**
   * Whether the frame is a live page table of {@code type}: typed so, validated, and in use.
   *
   * @param mfn a valid frame
   * @param type L1 to L4
   * @return true if its entries are live
   */
  public boolean isLiveTable(long mfn, PageType type) {
    long x = typeInfo(mfn);
    return PageInfo.type(x) == type && (x & PGT_VALIDATED) != 0 && (x & PGT_COUNT_MASK) != 0;
  }

  /**
   * Xen's {@code is_xen_heap_page}.
   *
   * @param mfn a valid frame
   * @return true if the frame is a Xen heap page
   */
  public boolean isXenHeapPage(long mfn) {
    return (countInfo(mfn) & PGC_XEN_HEAP) != 0;
  }

  // ---- set-up: who owns which frame -------------------------------------------------------------

  /**
   * Gives a free frame to domain {@code domainId}, as Xen's {@code assign_pages} does: the owner is
   * set and the allocation holds one reference ({@code PGC_allocated}, count 1). The frame's contents
   * are zero.
   *
   * @param mfn a valid, free frame
   * @param domainId an ordinary domain id
   * @throws IllegalArgumentException if the frame is invalid or the id is not an ordinary one
   * @throws IllegalStateException if the frame is not free
   */
  public void assignPage(long mfn, int domainId) {
    if (!DomainIds.isOrdinary(domainId)) {
      throw new IllegalArgumentException("domainId: 0x" + Integer.toHexString(domainId)
          + " (expected: an ordinary domain id)");
    }
    allocate(mfn, domainId, PGC_ALLOCATED | 1);
  }

  /**
   * Gives frames {@code [first, last]} (inclusive) to domain {@code domainId}, one by one as {@link
   * #assignPage} does; on failure no frame of the range is changed.
   *
   * @param first the first frame
   * @param last the last frame, at least {@code first}
   * @param domainId an ordinary domain id
   */
  public void assignRange(long first, long last, int domainId) {
    requireFree(first, last);
    for (long mfn = first; mfn <= last; mfn++) {
      assignPage(mfn, domainId);
    }
  }

  /**
   * Marks frames {@code [first, last]} (inclusive) as MMIO owned by {@link DomainIds#DOMID_IO}, as Xen
   * does at boot for MMIO holes inside the frame table ({@code share_xen_page_with_guest(dom_io)}):
   * owner dom_io, one allocation reference.
   *
   * @param first the first frame
   * @param last the last frame, at least {@code first}
   */
  public void shareWithDomIo(long first, long last) {
    requireFree(first, last);
    for (long mfn = first; mfn <= last; mfn++) {
      allocate(mfn, DomainIds.DOMID_IO, PGC_ALLOCATED | 1);
    }
  }

  /**
   * Makes a free frame a Xen heap page shared with {@code ownerId} ({@code share_xen_page_with_guest}
   * of a Xen heap page, such as a shared-info page): owned by that id, flagged {@code PGC_xen_heap},
   * one allocation reference. Xen refuses to change the cache attribute of such a page.
   *
   * @param mfn a valid, free frame
   * @param ownerId an ordinary domain id or {@link DomainIds#DOMID_XEN}
   */
  public void shareXenHeapPage(long mfn, int ownerId) {
    if (!DomainIds.isOrdinary(ownerId) && ownerId != DomainIds.DOMID_XEN) {
      throw new IllegalArgumentException("ownerId: 0x" + Integer.toHexString(ownerId)
          + " (expected: an ordinary domain id or DOMID_XEN)");
    }
    allocate(mfn, ownerId, PGC_ALLOCATED | PGC_XEN_HEAP | 1);
  }

  /**
   * The owner gives a frame back, as Xen's {@code decrease_reservation} does: the allocation
   * reference is dropped ({@code PGC_allocated} cleared, then {@code put_page}); the frame becomes free
   * once no mapping references it any more.
   *
   * @param mfn a valid frame
   * @return false if the frame had no allocation reference to drop
   */
  public boolean releasePage(long mfn) {
    int i = index(mfn);
    long x;
    do {
      x = (long) LONGS.getVolatile(countInfo, i);
      if ((x & PGC_ALLOCATED) == 0) {
        return false;
      }
    } while (!LONGS.compareAndSet(countInfo, i, x, x & ~PGC_ALLOCATED));
    putPage(mfn);
    return true;
  }

  private void allocate(long mfn, int ownerId, long count) {
    int i = index(mfn);
    if (owner[i] != DomainIds.OWNER_NONE || (countInfo[i] & PGC_COUNT_MASK) != 0) {
      throw new IllegalStateException("mfn 0x" + Long.toHexString(mfn) + " is owned by "
          + DomainIds.name(owner[i]) + " (expected: free)");
    }
    typeInfo[i] = 0;
    linearPtCount[i] = 0;
    clearContents(mfn);
    LONGS.setVolatile(countInfo, i, count);
    INTS.setRelease(owner, i, ownerId);
  }

  // ---- Xen's reference counting -----------------------------------------------------------------

  /**
   * Xen's {@code page_get_owner_and_reference}: takes a general reference and returns the owner, or
   * takes nothing and returns {@link DomainIds#OWNER_NONE} if the frame is free or its count would
   * wrap (Xen keeps the last two values in reserve).
   *
   * @param mfn a valid frame
   * @return the owner, or {@link DomainIds#OWNER_NONE} with no reference taken
   */
  public int getPageOwnerAndReference(long mfn) {
    int i = index(mfn);
    long x;
    do {
      x = (long) LONGS.getVolatile(countInfo, i);
      if (((x + 2) & PGC_COUNT_MASK) <= 2) {
        return DomainIds.OWNER_NONE;
      }
    } while (!LONGS.compareAndSet(countInfo, i, x, x + 1));
    return owner(mfn);
  }

  /**
   * Xen's {@code get_page}: takes a general reference if frame {@code mfn} is owned by {@code
   * domainId}.
   *
   * @param mfn a valid frame
   * @param domainId the expected owner
   * @return true if the reference was taken
   */
  public boolean getPage(long mfn, int domainId) {
    int actual = getPageOwnerAndReference(mfn);
    if (actual == domainId && actual != DomainIds.OWNER_NONE) {
      return true;
    }
    if (actual != DomainIds.OWNER_NONE) {
      putPage(mfn);
    }
    return false;
  }

  /**
   * Xen's {@code put_page}: drops a general reference; the last one frees the frame (owner none, type
   * and contents cleared).
   *
   * @param mfn a valid frame
   * @throws HypervisorBugException if the count is already 0 (Xen's {@code ASSERT})
   */
  public void putPage(long mfn) {
    int i = index(mfn);
    long x;
    long nx;
    do {
      x = (long) LONGS.getVolatile(countInfo, i);
      if ((x & PGC_COUNT_MASK) == 0) {
        throw new HypervisorBugException(
            "put_page: mfn 0x" + Long.toHexString(mfn) + " has no reference to drop");
      }
      nx = x - 1;
    } while (!LONGS.compareAndSet(countInfo, i, x, nx));
    if ((nx & PGC_COUNT_MASK) == 0) {
      // free_domheap_page: the frame returns to the free pool, scrubbed.
      INTS.setRelease(owner, i, DomainIds.OWNER_NONE);
      LONGS.setVolatile(typeInfo, i, 0L);
      LONGS.setVolatile(countInfo, i, 0L);
      clearContents(mfn);
    }
  }

  /**
   * Xen's {@code get_page_type}: takes a type reference for {@code type}. A frame whose type count is
   * 0 may change type; a page-table type is then validated entry by entry (for an L1 table, Xen's
   * {@code alloc_l1_table}; L2 to L4 validate the tables below them in turn) before the reference
   * counts. A frame in use as another type is refused. A frame another thread is validating as
   * {@code type} is waited for, as Xen spins.
   *
   * @param mfn a valid frame on which the caller holds a general reference
   * @param type the type wanted
   * @return 0, or a negated {@link org.hvmmu.xen.Errno} value: {@code -EINVAL} for a type conflict or
   *     overflow, or the validation's error
   */
  public int getPageType(long mfn, PageType type) {
    return getPageType(mfn, type, false);
  }

  /**
   * {@link #getPageType(long, PageType)} with Xen's {@code PGT_pae_xen_l2} flag as part of the type
   * wanted, as {@code alloc_l3_table} asks for the L2 in slot 3 of a 32-on-64 guest's L3: the flag
   * must match a frame in use (an L2 in use without it, or with it, is another type), and a frame
   * taking the type from count 0 gets it set before it is validated, so that its validation knows
   * which slots are Xen's.
   *
   * @param paeXenL2 whether the L2 type wanted is the PAE one with Xen's compat mappings (only with
   *     {@link PageType#L2_PAGE_TABLE})
   */
  int getPageType(long mfn, PageType type, boolean paeXenL2) {
    int i = index(mfn);
    long want = type.typeInfoBits() | (paeXenL2 ? PGT_PAE_XEN_L2 : 0);
    long typeAndFlag = PGT_TYPE_MASK | PGT_PAE_XEN_L2;
    long x;
    long nx;
    for (;;) {
      x = (long) LONGS.getVolatile(typeInfo, i);
      nx = x + 1;
      if ((nx & PGT_COUNT_MASK) == 0) {
        return -org.hvmmu.xen.Errno.EINVAL; // type count would overflow
      }
      if ((x & PGT_COUNT_MASK) == 0) {
        if ((x & typeAndFlag) != want) {
          // The type changes: the new type starts unvalidated, except for types with no contents
          // to check.
          nx &= ~(typeAndFlag | PGT_VALIDATED | PGT_PINNED);
          nx |= want;
          if (!type.needsValidation()) {
            nx |= PGT_VALIDATED;
          }
        }
      } else if ((x & typeAndFlag) != want) {
        return -org.hvmmu.xen.Errno.EINVAL; // in use as another type (or L2 flavour)
      } else if ((x & PGT_VALIDATED) == 0) {
        // Another vCPU is validating the frame as this type: wait until it finishes or fails.
        Thread.onSpinWait();
        continue;
      }
      if (LONGS.compareAndSet(typeInfo, i, x, nx)) {
        break;
      }
    }
    if ((x & PGT_COUNT_MASK) == 0 && (x & PGT_TYPE_MASK) != type.typeInfoBits()) {
      validation.typeChanged(mfn, PageInfo.type(x), type);
    }
    if ((nx & PGT_VALIDATED) == 0) {
      // A fresh validation: no linear entries or uses yet (Xen clears linear_pt_count here).
      INTS.setVolatile(linearPtCount, i, 0);
      int rc = validation.allocPageType(mfn, type);
      if (rc != 0) {
        // alloc_page_type's failure path: the frame loses its type and the count just taken.
        LONGS.setVolatile(typeInfo, i, 0L);
        return rc;
      }
      orTypeInfo(i, PGT_VALIDATED);
    }
    return 0;
  }

  /**
   * Whether the frame is typed as the L2 table in slot 3 of a 32-on-64 guest's L3 ({@code
   * PGT_pae_xen_l2}): its slots from {@link PvMmuAbi#COMPAT_L2_PAGETABLE_FIRST_XEN_SLOT} hold Xen's
   * compat mappings, not the guest's. The flag is set when such an L2 is validated and cleared when
   * it is released.
   *
   * @param mfn a valid frame
   * @return true for a PAE L2 with Xen's slots
   */
  public boolean isPaeXenL2(long mfn) {
    return (typeInfo(mfn) & PGT_PAE_XEN_L2) != 0;
  }

  /** Clears {@code PGT_pae_xen_l2}, as {@code free_l2_table} does once the table is released. */
  void clearPaeXenL2(long mfn) {
    int i = index(mfn);
    long x;
    do {
      x = (long) LONGS.getVolatile(typeInfo, i);
    } while (!LONGS.compareAndSet(typeInfo, i, x, x & ~PGT_PAE_XEN_L2));
  }

  /**
   * Turns a free RAM frame into the per-vCPU L4 Xen gives a 32-on-64 vCPU ({@code
   * setup_compat_l4}): no guest owns it (the model's owner is {@link DomainIds#DOMID_XEN}), it
   * holds no general reference (Xen allocates it without an owner, so {@code get_page} on it
   * fails), and its type is set directly to a validated L4 with one type reference, which the vCPU
   * holds. Its contents are zeroed.
   *
   * @param mfn a valid, free frame of RAM
   * @throws IllegalStateException if the frame is not free
   */
  void setUpCompatL4(long mfn) {
    int i = index(mfn);
    if (owner[i] != DomainIds.OWNER_NONE || (countInfo[i] & PGC_COUNT_MASK) != 0) {
      throw new IllegalStateException("mfn 0x" + Long.toHexString(mfn) + " is owned by "
          + DomainIds.name(owner[i]) + " (expected: free)");
    }
    linearPtCount[i] = 0;
    clearContents(mfn);
    LONGS.setVolatile(countInfo, i, 0L);
    LONGS.setVolatile(typeInfo, i, PageType.L4_PAGE_TABLE.typeInfoBits() | PGT_VALIDATED | 1);
    INTS.setRelease(owner, i, DomainIds.DOMID_XEN);
  }

  /**
   * Xen's {@code put_page_type}: drops a type reference; when the last reference to a validated
   * page-table type goes, the table's own references are dropped first ({@code free_page_type},
   * which for L2 to L4 drops the type references of the tables below, recursively) and the frame is
   * no longer validated. Waits while another thread holds the frame's page lock and this would
   * drop the last reference but the lock's, as Xen spins.
   *
   * @param mfn a valid frame
   * @throws HypervisorBugException if the type count is already 0
   */
  public void putPageType(long mfn) {
    putPageType(mfn, 0);
  }

  /** {@link #putPageType(long)} for a frame whose release is nested in {@code depth} others. */
  void putPageType(long mfn, int depth) {
    int i = index(mfn);
    for (;;) {
      long x = (long) LONGS.getVolatile(typeInfo, i);
      if ((x & PGT_COUNT_MASK) == 0) {
        throw new HypervisorBugException(
            "put_page_type: mfn 0x" + Long.toHexString(mfn) + " has no type reference to drop");
      }
      long nx = x - 1;
      if ((nx & (PGT_LOCKED | PGT_COUNT_MASK)) == (PGT_LOCKED | 1)) {
        // page_unlock does no clean-up: the last real reference must wait for the lock holder.
        Thread.onSpinWait();
        continue;
      }
      PageType type = PageInfo.type(x);
      if ((nx & PGT_COUNT_MASK) == 0 && type.needsValidation() && (nx & PGT_VALIDATED) != 0) {
        // Unvalidate first so that no one else uses the table, then release what it references,
        // then drop the count.
        long unvalidated = x & ~(PGT_VALIDATED | PGT_PINNED);
        if (!LONGS.compareAndSet(typeInfo, i, x, unvalidated)) {
          continue;
        }
        validation.freePageType(mfn, type, depth);
        addTypeInfo(i, -1);
        return;
      }
      if (LONGS.compareAndSet(typeInfo, i, x, nx)) {
        return;
      }
    }
  }

  /**
   * Xen's {@code put_page_and_type}.
   *
   * @param mfn a valid frame
   */
  public void putPageAndType(long mfn) {
    putPageType(mfn);
    putPage(mfn);
  }

  /**
   * Xen's {@code page_lock}: locks a validated frame in use as its type, taking a type reference.
   * Waits while another thread holds the lock, as Xen spins.
   *
   * @param mfn a valid frame
   * @return false if the frame is not validated or has no type reference
   */
  boolean pageLock(long mfn) {
    int i = index(mfn);
    for (;;) {
      long x = (long) LONGS.getVolatile(typeInfo, i);
      if ((x & PGT_LOCKED) != 0) {
        Thread.onSpinWait();
        continue;
      }
      long nx = x + (1 | PGT_LOCKED);
      if ((x & PGT_VALIDATED) == 0 || (x & PGT_COUNT_MASK) == 0 || (nx & PGT_COUNT_MASK) == 0) {
        return false;
      }
      if (LONGS.compareAndSet(typeInfo, i, x, nx)) {
        return true;
      }
    }
  }

  /** Xen's {@code page_unlock}. */
  void pageUnlock(long mfn) {
    addTypeInfo(index(mfn), -(1 | PGT_LOCKED));
  }

  /**
   * Sets {@code PGT_pinned}, Xen's {@code test_and_set_bit(_PGT_pinned)}.
   *
   * @return false if it was already set
   */
  boolean testAndSetPinned(long mfn) {
    int i = index(mfn);
    long x;
    do {
      x = (long) LONGS.getVolatile(typeInfo, i);
      if ((x & PGT_PINNED) != 0) {
        return false;
      }
    } while (!LONGS.compareAndSet(typeInfo, i, x, x | PGT_PINNED));
    return true;
  }

  /**
   * Clears {@code PGT_pinned}, Xen's {@code test_and_clear_bit(_PGT_pinned)}.
   *
   * @return false if it was not set
   */
  boolean testAndClearPinned(long mfn) {
    int i = index(mfn);
    long x;
    do {
      x = (long) LONGS.getVolatile(typeInfo, i);
      if ((x & PGT_PINNED) == 0) {
        return false;
      }
    } while (!LONGS.compareAndSet(typeInfo, i, x, x & ~PGT_PINNED));
    return true;
  }

  /**
   * The frame's cache-attribute hint: the PAT index its mappings use.
   *
   * @param mfn a valid frame
   * @return 0 to 7
   */
  public int cacheAttr(long mfn) {
    return PageInfo.cacheAttr(countInfo(mfn));
  }

  /** Records a new cache-attribute hint, as Xen's cmpxchg loop on count_info does. */
  void setCacheAttr(long mfn, int cacheAttr) {
    int i = index(mfn);
    long x;
    long nx;
    do {
      x = (long) LONGS.getVolatile(countInfo, i);
      nx = (x & ~PGC_CACHEATTR_MASK) | ((long) cacheAttr << PGC_CACHEATTR_BASE);
    } while (!LONGS.compareAndSet(countInfo, i, x, nx));
  }

  /**
   * The type-count loop of Xen's {@code get_lN_linear_pagetable}: takes a type reference only if
   * the frame is a validated table of {@code type} whose count can grow; never validates.
   *
   * @return false, with nothing taken, otherwise
   */
  boolean getValidatedTableType(long mfn, PageType type) {
    int i = index(mfn);
    long want = type.typeInfoBits() | PGT_VALIDATED;
    long x;
    do {
      x = (long) LONGS.getVolatile(typeInfo, i);
      if ((x & PGT_COUNT_MASK) == PGT_COUNT_MASK || (x & (PGT_TYPE_MASK | PGT_VALIDATED)) != want) {
        return false;
      }
    } while (!LONGS.compareAndSet(typeInfo, i, x, x + 1));
    return true;
  }

  // ---- linear page tables (XSA-240) ----------------------------------------------------------------

  /**
   * The frame's {@code linear_pt_count}: positive, the linear entries its table holds; negative, the
   * number of same-level tables that map it; 0 otherwise. Only kept under {@link
   * LinearPageTables#SINGLE_LEVEL}.
   *
   * @param mfn a valid frame
   * @return -32768 to 32767
   */
  public int linearPtCount(long mfn) {
    return (int) INTS.getVolatile(linearPtCount, index(mfn));
  }

  /**
   * Xen's {@code inc_linear_entries}: one more linear entry in table {@code mfn}, refused (false) if
   * the table is itself used linearly or the 16-bit count would wrap.
   */
  boolean incLinearEntries(long mfn) {
    int i = index(mfn);
    int oc;
    int nc;
    do {
      oc = (int) INTS.getVolatile(linearPtCount, i);
      nc = (short) (oc + 1);
      if (nc <= 0) {
        return false;
      }
    } while (!INTS.compareAndSet(linearPtCount, i, oc, nc));
    return true;
  }

  /** Xen's {@code dec_linear_entries}. */
  void decLinearEntries(long mfn) {
    int oc = (int) INTS.getAndAdd(linearPtCount, index(mfn), -1);
    if (oc <= 0) {
      throw new HypervisorBugException("dec_linear_entries: mfn 0x" + Long.toHexString(mfn)
          + " holds no linear entry (count " + oc + ")");
    }
  }

  /**
   * Xen's {@code inc_linear_uses}: table {@code mfn} is mapped linearly once more, refused (false)
   * if it holds linear entries itself or the 16-bit count would wrap.
   */
  boolean incLinearUses(long mfn) {
    int i = index(mfn);
    int oc;
    int nc;
    do {
      oc = (int) INTS.getVolatile(linearPtCount, i);
      nc = (short) (oc - 1);
      if (nc >= 0) {
        return false;
      }
    } while (!INTS.compareAndSet(linearPtCount, i, oc, nc));
    return true;
  }

  /** Xen's {@code dec_linear_uses}. */
  void decLinearUses(long mfn) {
    int oc = (int) INTS.getAndAdd(linearPtCount, index(mfn), 1);
    if (oc >= 0) {
      throw new HypervisorBugException("dec_linear_uses: mfn 0x" + Long.toHexString(mfn)
          + " is not used linearly (count " + oc + ")");
    }
  }

  // ---- frame contents -----------------------------------------------------------------------------

  /**
   * Entry {@code slot} of frame {@code mfn} read as a page-table entry (0 for a frame never written).
   *
   * @param mfn a valid frame
   * @param slot 0 to 511
   * @return the 64-bit entry
   */
  public long readEntry(long mfn, int slot) {
    index(mfn);
    checkSlot(slot);
    byte[] page = memory.frameContents(mfn);
    return page == null ? 0 : (long) ENTRY.getAcquire(page, slot * 8);
  }

  /** Stores an entry, allocating the frame's contents on first write (set-up path only). */
  void storeEntry(long mfn, int slot, long value) {
    index(mfn);
    checkSlot(slot);
    byte[] page = memory.frameContents(mfn);
    if (page == null) {
      if (value == 0) {
        return;
      }
      page = memory.frameContentsForWrite(mfn);
    }
    // Stores happen under the table's page lock; release order suffices for lock-free readers.
    ENTRY.setRelease(page, slot * 8, value);
  }

  /** Compare-and-swap of one entry, Xen's {@code paging_cmpxchg_guest_entry}. */
  boolean compareAndSetEntry(long mfn, int slot, long expected, long value) {
    index(mfn);
    checkSlot(slot);
    byte[] page = memory.frameContents(mfn);
    if (page == null) {
      if (expected != 0) {
        return false;
      }
      page = memory.frameContentsForWrite(mfn);
    }
    return ENTRY.compareAndSet(page, slot * 8, expected, value);
  }

  /** Scrubs a frame that is freed or reallocated (Xen scrubs freed domheap pages). */
  private void clearContents(long mfn) {
    if (memory.kind(mfn) != RegionKind.RAM) {
      return;
    }
    byte[] page = memory.frameContents(mfn);
    if (page != null) {
      Arrays.fill(page, (byte) 0);
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private void orTypeInfo(int i, long bits) {
    long x;
    do {
      x = (long) LONGS.getVolatile(typeInfo, i);
    } while (!LONGS.compareAndSet(typeInfo, i, x, x | bits));
  }

  private void addTypeInfo(int i, long delta) {
    long x;
    do {
      x = (long) LONGS.getVolatile(typeInfo, i);
    } while (!LONGS.compareAndSet(typeInfo, i, x, x + delta));
  }

  private int index(long mfn) {
    if (!mfnValid(mfn)) {
      throw new IllegalArgumentException("mfn: 0x" + Long.toHexString(mfn)
          + " (expected: below 0x" + Long.toHexString(countInfo.length) + ", a valid frame)");
    }
    return (int) mfn;
  }

  /** Checks that {@code [first, last]} is a valid range of free frames, before changing any. */
  private void requireFree(long first, long last) {
    checkRange(first, last);
    for (long mfn = first; mfn <= last; mfn++) {
      if (owner(mfn) != DomainIds.OWNER_NONE) {
        throw new IllegalStateException("mfn 0x" + Long.toHexString(mfn) + " is owned by "
            + DomainIds.name(owner(mfn)) + " (expected: free)");
      }
    }
  }

  private void checkRange(long first, long last) {
    index(first);
    index(last);
    if (first > last) {
      throw new IllegalArgumentException("range: [0x" + Long.toHexString(first) + ", 0x"
          + Long.toHexString(last) + "] (expected: first <= last)");
    }
  }

  private static void checkSlot(int slot) {
    if (slot < 0 || slot >= Pte.ENTRIES_PER_TABLE) {
      throw new IllegalArgumentException("slot: " + slot + " (expected: 0 to 511)");
    }
  }
}
