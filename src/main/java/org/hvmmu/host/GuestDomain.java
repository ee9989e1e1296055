package org.hvmmu.host;

import java.util.Arrays;
import org.hvmmu.p2m.RadixP2m;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.Domain;

/**
 * A domain of a {@link Host}: its id, paging mode and the tables through which it maps memory. The
 * PV MMU's view of it ({@link #mmuView()}: privilege, {@code iomem_caps}) serves every mode, since
 * PV tables and shadow entries both go through {@code get_page_from_l1e}; HVM modes add a p2m, and
 * shadow modes the guest's own L1 tables with one shadow table each.
 *
 * <p>Made by {@link Host#createDomain}. Changes to its tables go through the host, which keeps its
 * reverse map and invariants; the accessors here only read.
 */
public final class GuestDomain {
  private final PagingMode mode;
  private final Domain mmuView;
  private final RadixP2m p2m;
  private long[][] guestTables = new long[0][];
  private long[][] shadowTables = new long[0][];
  /** Reusable p2m cursors, used while the domain's monitor is held: no allocation per update. */
  final org.hvmmu.p2m.P2mEntry lookup = new org.hvmmu.p2m.P2mEntry();

  final org.hvmmu.p2m.P2mEntry shadowLookup = new org.hvmmu.p2m.P2mEntry();

  /** mmio_direct superpage leaves: gfn, mfn, order code, triples; few, so kept in a flat list. */
  private long[] mmioSuperpages = new long[0];
  private final java.util.List<GuestVcpu> vcpus = new java.util.concurrent.CopyOnWriteArrayList<>();
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
   * The number of guest L1 tables a shadowed domain has.
   *
   * @return 0 for modes without shadows
   */
  public int guestTableCount() {
    return guestTables.length;
  }

  /**
   * Entry {@code slot} of the guest's own L1 table {@code table} (shadow modes).
   *
   * @param table a table number below {@link #guestTableCount()}
   * @param slot 0 to 511
   * @return the guest's entry
   */
  public long guestEntry(int table, int slot) {
    return guestTables[checkTable(table)][slot];
  }

  /**
   * Entry {@code slot} of the shadow of guest table {@code table}.
   *
   * @param table a table number below {@link #guestTableCount()}
   * @param slot 0 to 511
   * @return the shadow entry
   */
  public long shadowEntry(int table, int slot) {
    return shadowTables[checkTable(table)][slot];
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
   * @return an unmodifiable live view
   */
  public java.util.List<GuestVcpu> vcpus() {
    return java.util.Collections.unmodifiableList(vcpus);
  }

  int vcpuCount() {
    return vcpus.size();
  }

  void addVcpu(GuestVcpu v) {
    vcpus.add(v);
  }

  void addRamFrames(long n) {
    ramFrames += n;
  }

  void markCrashed() {
    crashed = true;
  }

  int newGuestTable() {
    int n = guestTables.length;
    guestTables = Arrays.copyOf(guestTables, n + 1);
    shadowTables = Arrays.copyOf(shadowTables, n + 1);
    guestTables[n] = new long[Pte.ENTRIES_PER_TABLE];
    shadowTables[n] = new long[Pte.ENTRIES_PER_TABLE];
    return n;
  }

  long[] guestTable(int table) {
    return guestTables[checkTable(table)];
  }

  long[] shadowTable(int table) {
    return shadowTables[checkTable(table)];
  }

  long[] mmioSuperpages() {
    return mmioSuperpages;
  }

  void setMmioSuperpages(long[] triples) {
    mmioSuperpages = triples;
  }

  private int checkTable(int table) {
    if (table < 0 || table >= guestTables.length) {
      throw new IllegalArgumentException("guest table " + table + " of " + this + " (expected: 0 to "
          + (guestTables.length - 1) + ")");
    }
    return table;
  }

  @Override
  public String toString() {
    return "d" + id() + " (" + mode + (privileged() ? ", privileged)" : ")");
  }
}
