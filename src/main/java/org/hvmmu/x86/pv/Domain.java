package org.hvmmu.x86.pv;

import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.xen.DomainIds;

/**
 * A domain as the PV MMU sees it: its id, whether it is privileged ({@code IS_PRIV}), how it runs,
 * and the I/O resources it may map: {@code iomem_caps} (frames) and {@code ioport_caps} (ports).
 *
 * <p>A privileged domain starts with every frame and port permitted ({@code [0, ~0]} and {@code [0,
 * 0xffff]}), as Xen's Dom0 does; others start with none. The capability sets are range sets the
 * caller may change (device assignment adds a device's BAR frames). Domains are made by {@link
 * PvMmu#createDomain}, one per id per MMU.
 */
public final class Domain {
  private final int id;
  private final boolean privileged;
  private final GuestType guestType;
  private final RangeSet iomemCaps;
  private final RangeSet ioportCaps;
  private volatile int assignedDeviceCount;
  private final PvVcpu[] vcpus = new PvVcpu[PvVcpu.MAX_VCPUS];
  private volatile long vcpuMask;

  Domain(int id, boolean privileged, GuestType guestType) {
    this.id = id;
    this.privileged = privileged;
    this.guestType = guestType;
    this.iomemCaps = new IntervalTreeRangeSet("I/O Memory", RangeSet.PRETTYPRINT_HEX);
    this.ioportCaps = new IntervalTreeRangeSet("I/O Ports", RangeSet.PRETTYPRINT_HEX);
    if (privileged) {
      iomemCaps.addRange(0, ~0L);
      ioportCaps.addRange(0, 0xFFFF);
    }
  }

  /**
   * The domain id.
   *
   * @return an ordinary id, or {@link DomainIds#DOMID_IO} for the I/O pseudo-domain
   */
  public int id() {
    return id;
  }

  /**
   * Xen's {@code IS_PRIV}: whether this is the privileged control domain.
   *
   * @return true for a privileged domain
   */
  public boolean privileged() {
    return privileged;
  }

  /**
   * How the domain runs.
   *
   * @return its guest type
   */
  public GuestType guestType() {
    return guestType;
  }

  /**
   * Xen's {@code HYPERVISOR_COMPAT_VIRT_START(d)} ({@code d->arch.pv.hv_compat_vstart}): where
   * Xen's part of a 32-on-64 guest's address space starts. Xen sets it to {@link
   * PvMmuAbi#HYPERVISOR_COMPAT_VIRT_START} (0xF5800000) when the domain becomes 32-on-64 ({@code
   * switch_compat}); only a 32-bit dom0 may ask for a lower value through its ELF notes, which the
   * model does not build, so every {@link GuestType#PV32} domain has the default. It decides which
   * slots of the L2 in slot 3 of its L3 tables are the guest's: those below {@code
   * l2_table_offset} of this address, slot 428.
   *
   * @return 0xF5800000 for a 32-on-64 domain, 0 for the others (Xen leaves the field zero)
   */
  public long hypervisorCompatVirtStart() {
    return guestType == GuestType.PV32 ? PvMmuAbi.HYPERVISOR_COMPAT_VIRT_START : 0;
  }

  /**
   * Whether this is the I/O pseudo-domain {@code dom_io}.
   *
   * @return true for dom_io
   */
  public boolean isDomIo() {
    return id == DomainIds.DOMID_IO;
  }

  /**
   * The frames this domain may map ({@code iomem_caps}); Xen's {@code iomem_access_permitted} asks
   * whether it contains a frame.
   *
   * @return the live, mutable set
   */
  public RangeSet iomemCaps() {
    return iomemCaps;
  }

  /**
   * The I/O ports this domain may access ({@code arch.ioport_caps}).
   *
   * @return the live, mutable set
   */
  public RangeSet ioportCaps() {
    return ioportCaps;
  }

  /**
   * The number of PCI devices assigned to the domain; non-zero is Xen's {@code has_arch_pdevs}.
   *
   * @return the count
   */
  public int assignedDeviceCount() {
    return assignedDeviceCount;
  }

  /**
   * Records the number of PCI devices assigned to the domain.
   *
   * @param count at least 0
   */
  public void setAssignedDeviceCount(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("count: " + count + " (expected: >= 0)");
    }
    assignedDeviceCount = count;
  }

  /**
   * Whether the domain may use cache attributes in its L1 entries: it has I/O memory, I/O ports or a
   * device, or is not PV (the condition of Xen's {@code l1_disallow_mask}).
   *
   * @return true if PAT, PCD and PWT are allowed
   */
  public boolean mayUseCacheAttributes() {
    return isDomIo()
        || !iomemCaps.isEmpty()
        || !ioportCaps.isEmpty()
        || assignedDeviceCount != 0
        || guestType == GuestType.HVM;
  }

  /**
   * The PV vCPU with id {@code id}, made by {@link PvMmu#createVcpu}.
   *
   * @param id 0 to {@link PvVcpu#MAX_VCPUS} - 1
   * @return the vCPU, or null if the domain has none with that id
   * @throws IllegalArgumentException if {@code id} is out of range
   */
  public PvVcpu vcpu(int id) {
    checkVcpuId(id);
    return vcpus[id];
  }

  /**
   * Every vCPU of the domain as a vCPU set (bit {@code i} for vCPU {@code i}): the model's {@code
   * d->dirty_cpumask}, which counts every vCPU as possibly holding translations.
   *
   * @return the mask, 0 if the domain has no vCPU
   */
  public long vcpuMask() {
    return vcpuMask;
  }

  /** Registers a vCPU; the caller serialises creation. */
  void addVcpu(PvVcpu v) {
    if (vcpus[v.id()] != null) {
      throw new IllegalArgumentException("vcpu id: " + v.id() + " (expected: unused, but "
          + this + " has it)");
    }
    vcpus[v.id()] = v;
    vcpuMask |= v.mask();
  }

  static void checkVcpuId(int id) {
    if (id < 0 || id >= PvVcpu.MAX_VCPUS) {
      throw new IllegalArgumentException("vcpu id: " + id + " (expected: 0 to "
          + (PvVcpu.MAX_VCPUS - 1) + ")");
    }
  }

  @Override
  public String toString() {
    return DomainIds.name(id) + (privileged ? " (privileged " : " (") + guestType + ")";
  }
}
