package org.hvmmu.host;

import java.util.Arrays;
import java.util.List;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.RadixP2m;
import org.hvmmu.x86.pv.Domain;

/**
 * A domain of a {@link Host}: its id, paging mode and the tables through which it maps memory. The
 * PV MMU's view of it ({@link #mmuView()}: privilege, {@code iomem_caps}) serves every mode, since
 * PV tables and shadow entries both go through {@code get_page_from_l1e}; HVM modes add a p2m, and
 * shadow modes a shadow pool: 4-level shadows, in machine frames, of the page tables the guest keeps
 * in its own memory (see {@code docs/shadow.md}).
 *
 * <p>Made by {@link Host#createDomain}. Changes to its tables go through the host, which keeps its
 * reverse map and invariants; the accessors here only read.
 */
public final class GuestDomain {
  private final PagingMode mode;
  private final Domain mmuView;
  private final RadixP2m p2m;
  /** The shadow pool and state of a shadowed domain (null otherwise). */
  private ShadowDomain shadow;

  /** A reusable p2m cursor, used while the domain's monitor is held: no allocation per update. */
  final P2mEntry lookup = new P2mEntry();

  /**
   * mmio_direct superpage leaves: gfn, mfn, order code, triples in a flat list, the first {@link
   * #mmioSuperpageLongs} longs used (grown by doubling: a huge grant adds tens of thousands).
   */
  private long[] mmioSuperpages = new long[0];
  private volatile Msixtbl[] msixtbls = new Msixtbl[0];
  private int mmioSuperpageLongs;
  /** The vCPUs, copied on every addition so that flushes iterate them without allocating. */
  private volatile GuestVcpu[] vcpus = new GuestVcpu[0];
  private long ramFrames;
  private volatile boolean crashed;

  GuestDomain(PagingMode mode, Domain mmuView, RadixP2m p2m) {
    this.mode = mode;
    this.mmuView = mmuView;
    this.p2m = p2m;
  }

  /**
   * The domain id.
   *
   * @return the id
   */
  public int id() {
    return mmuView.id();
  }

  /**
   * The paging mode.
   *
   * @return the mode
   */
  public PagingMode mode() {
    return mode;
  }

  /**
   * Whether this is a privileged domain ({@code IS_PRIV}).
   *
   * @return true for the hardware domain
   */
  public boolean privileged() {
    return mmuView.privileged();
  }

  /**
   * The domain as the PV MMU and the validator see it: privilege, guest type, {@code iomem_caps}.
   *
   * @return the view
   */
  public Domain mmuView() {
    return mmuView;
  }

  /**
   * Whether the domain has a p2m (the translated modes).
   *
   * @return true for HVM modes
   */
  public boolean hasP2m() {
    return p2m != null;
  }

  /**
   * The domain's p2m, for reading; change it through the host.
   *
   * @return the p2m
   * @throws IllegalStateException if the domain is not translated
   */
  public RadixP2m p2m() {
    if (p2m == null) {
      throw new IllegalStateException(this + " has no p2m (" + mode + ")");
    }
    return p2m;
  }

  /**
   * The number of numbered guest tables a shadowed domain has ({@link Host#newGuestTable}: guest L1
   * tables in its memory, shadowed on its vCPU's page faults).
   *
   * @return 0 for modes without shadows, and before the first table
   */
  public int guestTableCount() {
    return shadow == null ? 0 : shadow.paging.guestTableCount(this);
  }

  /**
   * The guest frame holding numbered guest table {@code table} (a machine frame; for HVM also the
   * guest frame number, the host giving RAM at gfn = mfn).
   *
   * @param table a table number below {@link #guestTableCount()}
   * @return the frame
   */
  public long guestTableFrame(int table) {
    return paging(table).guestTableFrame(this, table);
  }

  /**
   * Entry {@code slot} of the guest's own numbered L1 table {@code table}, read from its memory.
   *
   * @param table a table number below {@link #guestTableCount()}
   * @param slot 0 to 511
   * @return the guest's entry (with the accessed and dirty bits Xen's walks set)
   */
  public long guestEntry(int table, int slot) {
    return paging(table).guestEntry(this, table, slot);
  }

  /**
   * The shadow of entry {@code slot} of numbered guest table {@code table}: entry {@code slot} of
   * the shadow L1 table of the table's frame, in machine memory.
   *
   * @param table a table number below {@link #guestTableCount()}
   * @param slot 0 to 511
   * @return the shadow entry; 0 while the table has no shadow
   */
  public long shadowEntry(int table, int slot) {
    return paging(table).shadowEntry(this, table, slot);
  }

  /**
   * What the shadow page at machine frame {@code shadowMfn} shadows: the machine frame of a guest
   * table (for an L1 to L4 shadow), or the first guest frame of a guest 2-MByte page (for the shadow
   * L1 that splits it).
   *
   * @param shadowMfn a machine frame
   * @return the frame, or -1 if {@code shadowMfn} is not a shadow page of this domain
   */
  public long shadowedFrame(long shadowMfn) {
    if (shadow == null) {
      return -1;
    }
    synchronized (this) {
      int page = shadow.pageOf(shadowMfn);
      if (page < 0) {
        return -1;
      }
      byte type = shadow.type[page];
      if (type == ShadowDomain.FL1) {
        return shadow.fl1Base[page];
      }
      return type >= ShadowDomain.L1 && type <= ShadowDomain.L4 ? shadow.backer[page] : -1;
    }
  }

  /**
   * The number of RAM frames the host gave the domain.
   *
   * @return frames
   */
  public long ramFrames() {
    return ramFrames;
  }

  /**
   * Whether Xen crashed the domain ({@code domain_crash}); a crashed domain maps nothing.
   *
   * @return true once crashed
   */
  public boolean crashed() {
    return crashed;
  }

  /**
   * The domain's vCPUs, in creation order.
   *
   * @return an unmodifiable snapshot
   */
  public List<GuestVcpu> vcpus() {
    return List.of(vcpus);
  }

  /** The vCPUs without a copy, for the flush paths; never modified, replaced on addition. */
  GuestVcpu[] vcpuArray() {
    return vcpus;
  }

  int vcpuCount() {
    return vcpus.length;
  }

  /** Adds a vCPU; called under the host's configuration lock. */
  void addVcpu(GuestVcpu v) {
    GuestVcpu[] next = Arrays.copyOf(vcpus, vcpus.length + 1);
    next[vcpus.length] = v;
    vcpus = next;
  }

  void addRamFrames(long n) {
    ramFrames += n;
  }

  /** Registers an msixtbl entry (under the domain's monitor). */
  void addMsixtbl(Msixtbl t) {
    Msixtbl[] next = Arrays.copyOf(msixtbls, msixtbls.length + 1);
    next[msixtbls.length] = t;
    msixtbls = next;
  }

  /** Whether an msixtbl table is registered (a racy read: a hint for the fault path). */
  boolean hasMsixtbl() {
    return msixtbls.length != 0;
  }

  /** The msixtbl entry at exactly {@code gtable}, or null (domain's monitor). */
  Msixtbl msixtblAt(long gtable) {
    for (Msixtbl t : msixtbls) {
      if (t.gtable == gtable) {
        return t;
      }
    }
    return null;
  }

  /** The msixtbl entry whose table spans the page of {@code gpa}, or null (domain's monitor). */
  Msixtbl msixtbl(long gpa) {
    for (Msixtbl t : msixtbls) {
      if (t.covers(gpa)) {
        return t;
      }
    }
    return null;
  }

  void markCrashed() {
    crashed = true;
  }

  ShadowDomain shadow() {
    return shadow;
  }

  void setShadow(ShadowDomain value) {
    this.shadow = value;
  }

  private ShadowPaging paging(int table) {
    if (shadow == null) {
      throw new IllegalArgumentException(
          "guest table " + table + " of " + this + " (expected: a shadowed domain)");
    }
    return shadow.paging;
  }

  /** The superpage triples (a copy). */
  long[] mmioSuperpages() {
    return Arrays.copyOf(mmioSuperpages, mmioSuperpageLongs);
  }

  /** Whether any mmio_direct superpage is listed. */
  boolean hasMmioSuperpages() {
    return mmioSuperpageLongs != 0;
  }

  void setMmioSuperpages(long[] triples) {
    mmioSuperpages = triples.clone();
    mmioSuperpageLongs = triples.length;
  }

  void addMmioSuperpage(long gfn, long mfn, int orderCode) {
    if (mmioSuperpageLongs + 3 > mmioSuperpages.length) {
      mmioSuperpages = Arrays.copyOf(mmioSuperpages, Math.max(12, 2 * mmioSuperpages.length));
    }
    mmioSuperpages[mmioSuperpageLongs++] = gfn;
    mmioSuperpages[mmioSuperpageLongs++] = mfn;
    mmioSuperpages[mmioSuperpageLongs++] = orderCode;
  }

  @Override
  public String toString() {
    return "d" + id() + " (" + mode + (privileged() ? ", privileged)" : ")");
  }
}
