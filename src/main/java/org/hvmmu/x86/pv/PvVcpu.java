package org.hvmmu.x86.pv;

/**
 * The PV MMU's state of one vCPU: which domain it belongs to, its id, and its kernel page-table base
 * ({@code v->arch.guest_table}).
 *
 * <p>For a 64-bit vCPU the base is the L4 table {@code MMUEXT_NEW_BASEPTR} installed, and holds a
 * general and an L4 type reference on that frame for as long as it is installed. A 32-on-64 vCPU
 * made with {@link PvMmu#createVcpu(Domain, int, long)} has Xen's own L4 as its base from the start
 * ({@code setup_compat_l4}: a frame no guest owns, holding one L4 type reference and no general
 * one); {@code MMUEXT_NEW_BASEPTR} writes slot 0 of that L4 to point at the guest's PAE L3, which
 * slot holds the general and L3 type reference. Hardware runs such a vCPU in long mode on that L4
 * (4-level paging; the guest's 32-bit addresses all fall in slot 0).
 *
 * <p>Made by {@link PvMmu#createVcpu}, one per id per domain; a host keeps one beside each of the
 * domain's hardware vCPUs ({@code org.hvmmu.mmu.Vcpu}) and loads {@link #cr3()} into it. One vCPU's
 * operations run on one thread; {@link #baseptr()} may be read from any thread.
 */
public final class PvVcpu {
  /** {@link #baseptr()} of a vCPU with no page-table base (Xen's {@code pagetable_null}). */
  public static final long NO_BASEPTR = -1;

  /** The most vCPUs a domain may have in the model: vCPU sets are one 64-bit mask. */
  public static final int MAX_VCPUS = 64;

  private final Domain domain;
  private final int id;
  private final long compatL4;
  private volatile long baseptr;

  PvVcpu(Domain domain, int id) {
    this(domain, id, NO_BASEPTR);
  }

  PvVcpu(Domain domain, int id, long compatL4) {
    this.domain = domain;
    this.id = id;
    this.compatL4 = compatL4;
    this.baseptr = compatL4;
  }

  /**
   * The domain this vCPU belongs to.
   *
   * @return the domain
   */
  public Domain domain() {
    return domain;
  }

  /**
   * The vCPU id within its domain.
   *
   * @return 0 to {@link #MAX_VCPUS} - 1
   */
  public int id() {
    return id;
  }

  /**
   * This vCPU as a one-element vCPU set, the mask of "local" flushes.
   *
   * @return {@code 1L << id()}
   */
  public long mask() {
    return 1L << id;
  }

  /**
   * The frame of the installed L4 table ({@code pagetable_get_mfn(v->arch.guest_table)}): for a
   * 32-on-64 vCPU with a compat L4, always that L4 ({@link #compatL4()}).
   *
   * @return a frame, or {@link #NO_BASEPTR}
   */
  public long baseptr() {
    return baseptr;
  }

  /**
   * The L4 Xen made for this 32-on-64 vCPU ({@code setup_compat_l4}), whose slot 0 {@code
   * MMUEXT_NEW_BASEPTR} points at the guest's L3.
   *
   * @return the frame, or {@link #NO_BASEPTR} for a 64-bit vCPU (or a 32-on-64 one made without)
   */
  public long compatL4() {
    return compatL4;
  }

  /**
   * Whether this vCPU runs on a compat L4 of Xen's ({@link #compatL4()} is a frame).
   *
   * @return true for a 32-on-64 vCPU made with its compat L4
   */
  public boolean hasCompatL4() {
    return compatL4 != NO_BASEPTR;
  }

  /**
   * The CR3 value Xen loads for this vCPU ({@code v->arch.cr3}): the L4's machine address, PCID 0
   * (the model does not use Xen's PV PCIDs). A 32-on-64 vCPU's is its compat L4's address from the
   * start, whether or not slot 0 points at an L3 yet (Xen zeroes {@code v->arch.cr3} in {@code
   * vcpu_destroy_pagetables}, but such a vCPU does not run again before {@code
   * arch_set_info_guest} reloads it from the compat L4; the model reports that value throughout).
   *
   * @return {@code baseptr() << 12}, or 0 with no base
   */
  public long cr3() {
    long b = baseptr;
    return b == NO_BASEPTR ? 0 : b << 12;
  }

  void setBaseptr(long mfn) {
    baseptr = mfn;
  }

  @Override
  public String toString() {
    return domain + " vcpu " + id;
  }
}
