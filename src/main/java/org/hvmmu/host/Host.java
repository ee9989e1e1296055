package org.hvmmu.host;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.hvmmu.host.access.SubpageState;
import org.hvmmu.mmu.LatencyModel;
import org.hvmmu.mmu.MmuFeatures;
import org.hvmmu.mmu.MmuSwitches;
import org.hvmmu.mmu.TlbConfig;
import org.hvmmu.mmu.Vcpu;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.p2m.P2mAccess;
import org.hvmmu.p2m.P2mDomainConfig;
import org.hvmmu.p2m.P2mSetResult;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.PtP2m;
import org.hvmmu.p2m.RadixP2m;
import org.hvmmu.p2m.ept.EptP2m;
import org.hvmmu.p2m.shadow.ShadowL1e;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.msix.MsixResult;
import org.hvmmu.pci.msix.regs.InterruptSink;
import org.hvmmu.pci.msix.regs.MsixAccessPolicy;
import org.hvmmu.pci.msix.regs.MsixFireResult;
import org.hvmmu.pci.msix.regs.MsixRegisters;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.rangeset.owned.OwnedRanges;
import org.hvmmu.rangeset.owned.RemovalPolicy;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.pv.Domain;
import org.hvmmu.x86.pv.EmulationResult;
import org.hvmmu.x86.pv.FrameTable;
import org.hvmmu.x86.pv.GuestType;
import org.hvmmu.x86.pv.PageInfo;
import org.hvmmu.x86.pv.PageType;
import org.hvmmu.x86.pv.PvMmu;
import org.hvmmu.x86.pv.PvVcpu;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;

/**
 * One emulated machine: its {@code mmio_ro_ranges} (Xen's "r/o mmio ranges"), the registrations that
 * make it up, the frame table and PV MMU, the domains with their tables, and the {@link Policy} that
 * decides every seed-vs-hardened behaviour. Two hosts in one JVM share nothing.
 *
 * <p>Every guest mapping goes through the host, which keeps a reverse map from MMIO frames to the
 * entries that map them (PV L1 entries, p2m leaves, shadow entries). When frames become protected,
 * the policy decides what happens to existing mappings: the seed re-derives the device owner's p2m
 * and leaves PV mappings alone; hardened revokes write access from exactly the entries the reverse
 * map lists.
 *
 * <pre>{@code
 * Host host = new Host(0x10000, Policy.HARDENED);
 * GuestDomain domU = host.createDomain(1, PagingMode.PV, false);
 * host.giveRam(domU, 0x100, 0x1ff);
 * host.grantIomem(domU, 0xfe000, 0xfe0ff);
 * host.pinL1Table(domU, 0x100);
 * host.mmuUpdate(domU, 0x100, 0, Pte.fromMfn(0xfe010, PAGE_PRESENT | PAGE_RW));
 * host.protect("ioapic", 0xfe010, 0xfe010);     // hardened: slot 0 loses R/W now
 * List<Violation> bad = HostInvariants.check(host);
 * }</pre>
 *
 * <p>Thread safety: lookups ({@code mmioRoRanges().containsSingleton}) and PV entry validation
 * ({@link #mmuUpdate}, {@link #ptwrEmulatedUpdate}) may run on many vCPU threads. p2m and shadow
 * updates of one domain are serialised on that domain. Configuration changes (domains, memory, I/O
 * permissions, protection, devices) are serialised by the host. A host operation that flushes
 * (a p2m change, a PV hypercall, a protection that revokes, a shadow change) invalidates other
 * vCPUs' TLBs from the calling thread, as the IPI Xen waits for: the emulator must not let those
 * vCPUs translate at the same moment (each {@link GuestVcpu} belongs to one thread, and the
 * emulator serialises host operations with the vCPUs they touch, as a VM exit does).
 */
public final class Host {
  /** Default capacity of each HVM domain's p2m, in 4-KByte table pages. */
  public static final int DEFAULT_P2M_TABLE_PAGES = 4096;

  /** MAXPHYADDR of the machine and of every vCPU. */
  public static final int MAX_PHYS_ADDR = 46;

  private final PhysicalMemory machine = new PhysicalMemory(MAX_PHYS_ADDR);
  private final XenHeap xenHeap = new XenHeap(machine);
  private TlbConfig vcpuTlbs = TlbConfig.goldenCove();
  private LatencyModel vcpuLatency = LatencyModel.GOLDEN_COVE;
  private MmuSwitches.TlbMode vcpuTlbMode = MmuSwitches.TlbMode.STRICT;
  private int nextVpid = 1;

  private final Policy policy;
  private final CpuFeatures cpu;
  private final IntervalTreeRangeSet mmioRoRanges =
      new IntervalTreeRangeSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX);
  private final Protection protection;
  private final PvMmu pv;
  private final ReverseMap rmap = new ReverseMap();
  private final GuestDomain[] domains = new GuestDomain[DomainIds.DOMID_FIRST_RESERVED];
  private final SubpageList subpages = new SubpageList();
  private boolean domainCreated;
  /** The domains in id order, replaced whole on each creation: what loops over all domains read. */
  private volatile GuestDomain[] live = new GuestDomain[0];
  private final P2mDomainConfig p2mConfig;
  private final int p2mTablePages;
  private final ReentrantLock config = new ReentrantLock();
  private final Devices devices = new Devices(this);
  private volatile DeviceModel deviceModel = DeviceModel.NONE;
  /** The MMCFG windows, replaced whole on each addition: the fault paths read it unlocked. */
  private final DeviceInterrupts interrupts = new DeviceInterrupts();
  private final PvPaging pvPaging = new PvPaging(this);
  private final P2mPaging p2mPaging = new P2mPaging(this);
  private final ShadowPaging shadowPaging = new ShadowPaging(this);

  /**
   * Creates a host with every processor feature and the default p2m capacity.
   *
   * @param frameCount frames with a frame-table entry (RAM and MMIO holes below the top of RAM)
   * @param policy the seed's, hardened, or a mix
   */
  public Host(long frameCount, Policy policy) {
    this(frameCount, policy, CpuFeatures.ALL, DEFAULT_P2M_TABLE_PAGES);
  }

  /**
   * Creates a host.
   *
   * @param frameCount frames with a frame-table entry, 1 to {@link FrameTable#MAX_FRAMES}
   * @param policy the seed's, hardened, or a mix
   * @param cpu processor features
   * @param p2mTablePages capacity of each HVM domain's p2m in table pages, at least 4
   */
  public Host(long frameCount, Policy policy, CpuFeatures cpu, int p2mTablePages) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.cpu = Objects.requireNonNull(cpu, "cpu");
    if (p2mTablePages < 4) {
      throw new IllegalArgumentException("p2mTablePages: " + p2mTablePages + " (expected: >= 4)");
    }
    this.p2mTablePages = p2mTablePages;
    this.protection = new Protection(this, new OwnedRanges(mmioRoRanges,
        policy.msix().ownershipAwareRemoval() ? RemovalPolicy.OWNERSHIP_AWARE
            : RemovalPolicy.XEN_UNREFCOUNTED));
    if (frameCount < 1 || frameCount > FrameTable.MAX_FRAMES) {
      throw new IllegalArgumentException("frameCount: 0x" + Long.toHexString(frameCount)
          + " (expected: 1 to 0x" + Long.toHexString(FrameTable.MAX_FRAMES) + ")");
    }
    machine.addRam(0, frameCount - 1);
    this.pv = new PvMmu(new FrameTable(frameCount, machine), mmioRoRanges, cpu, policy.pv(),
        pvPaging.new PvReverseMapping());
    pv.setTlbFlush(pvPaging.new PvFlushes());
    this.p2mConfig = new P2mDomainConfig(frameCount, false, false, true, P2mAccess.RWX);
  }

  /**
   * The policy.
   *
   * @return the policy this host applies
   */
  public Policy policy() {
    return policy;
  }

  /**
   * The host-wide read-only MMIO frames. Read it freely (lock-free, allocation-free); change it only
   * through {@link #protect}, {@link #unprotect} and the MSI-X operations, so that registrations and
   * existing mappings stay consistent.
   *
   * @return the live set
   */
  public RangeSet mmioRoRanges() {
    return mmioRoRanges;
  }

  /**
   * The registrations whose union is {@link #mmioRoRanges()}.
   *
   * @return the registry
   */
  public OwnedRanges registrations() {
    return protection.registrations();
  }

  /**
   * The PV MMU: frame table, validator, PV tables.
   *
   * @return the MMU
   */
  public PvMmu pvMmu() {
    return pv;
  }

  /**
   * The frame table.
   *
   * @return the table
   */
  public FrameTable frames() {
    return pv.frameTable();
  }

  /**
   * The machine memory: every frame's contents (the frame table's entries are views of it), the
   * HVM domains' p2m tables (the EPT or NPT structures vCPUs walk), Xen's own pages far above, and
   * the devices' BARs as MMIO regions.
   *
   * @return the memory
   */
  public PhysicalMemory machine() {
    return machine;
  }

  // ---- domains and memory -------------------------------------------------------------------------

  /**
   * Creates a domain.
   *
   * @param id an unused ordinary domain id
   * @param mode its paging mode
   * @param privileged whether it is the privileged hardware domain (PV modes only)
   * @return the domain
   * @throws IllegalArgumentException if the id is taken or reserved, or a non-PV domain is privileged
   */
  public GuestDomain createDomain(int id, PagingMode mode, boolean privileged) {
    Objects.requireNonNull(mode, "mode");
    if (privileged && !mode.pvTables()) {
      throw new IllegalArgumentException("a privileged domain must be PV, not " + mode);
    }
    config.lock();
    try {
      domainCreated = true;
      GuestType type = switch (mode) {
        case PV, PV_SHADOW -> GuestType.PV64;
        case PV32 -> GuestType.PV32;
        case HVM_EPT, HVM_NPT, HVM_SHADOW -> GuestType.HVM;
      };
      Domain view = pv.createDomain(id, privileged, type);
      RadixP2m p2m = switch (mode) {
        case HVM_EPT -> new EptP2m(policy.p2m(), cpu, p2mConfig, mmioRoRanges, p2mTablePages);
        case HVM_NPT, HVM_SHADOW -> new PtP2m(policy.p2m(), p2mConfig, mmioRoRanges, p2mTablePages);
        case PV, PV32, PV_SHADOW -> null;
      };
      if (p2m != null && mode != PagingMode.HVM_SHADOW) {
        // The EPT or NPT structures the vCPUs walk are these tables, in machine memory.
        p2m.inMachineMemory(machine, xenHeap.allocate(p2mTablePages));
      }
      GuestDomain d = new GuestDomain(mode, view, p2m);
      if (mode.shadowed()) {
        shadowPaging.attach(d, xenHeap); // its shadow pool, from Xen's heap
      }
      domains[id] = d;
      live = withDomain(live, d);
      return d;
    } finally {
      config.unlock();
    }
  }

  /**
   * The domain with id {@code id}.
   *
   * @param id a domain id
   * @return the domain
   * @throws IllegalArgumentException if there is none
   */
  public GuestDomain domain(int id) {
    GuestDomain d = DomainIds.isOrdinary(id) ? domains[id] : null;
    if (d == null) {
      throw new IllegalArgumentException("no domain d" + id);
    }
    return d;
  }

  /**
   * The domains, in id order.
   *
   * @return a new list
   */
  public List<GuestDomain> domains() {
    return new ArrayList<>(Arrays.asList(live));
  }

  /** {@code all} (in id order) with {@code d} inserted at its place. */
  private static GuestDomain[] withDomain(GuestDomain[] all, GuestDomain d) {
    int at = 0;
    while (at < all.length && all[at].id() < d.id()) {
      at++;
    }
    GuestDomain[] grown = new GuestDomain[all.length + 1];
    System.arraycopy(all, 0, grown, 0, at);
    grown[at] = d;
    System.arraycopy(all, at, grown, at + 1, all.length - at);
    return grown;
  }

  /**
   * Gives frames {@code [first, last]} (inclusive) to domain {@code d} as RAM; a translated domain
   * also gets them in its p2m as {@code ram_rw} at the same guest frame numbers.
   *
   * @param d the domain
   * @param first the first frame
   * @param last the last frame
   * @return 0, {@code -EINVAL} with nothing changed if a frame of the range is in {@code
   *     mmio_ro_ranges} (RAM is never read-only MMIO; see {@link #protect}), or the p2m's negated
   *     errno (the frames stay assigned)
   * @throws IllegalArgumentException if a frame is outside the frame table or {@code first > last}
   *     (nothing changed)
   * @throws IllegalStateException if a frame is not free (nothing changed)
   */
  public int giveRam(GuestDomain d, long first, long last) {
    requireAlive(d);
    config.lock();
    try {
      if (Long.compareUnsigned(first, last) <= 0 && mmioRoRanges.overlapsRange(first, last)) {
        return -Errno.EINVAL;
      }
      frames().assignRange(first, last, d.id());
      d.addRamFrames(last - first + 1);
      int rc = 0;
      if (d.hasP2m()) {
        for (long mfn = first; mfn <= last && rc == 0; mfn++) {
          rc = setP2mEntry(d, mfn, mfn, PageOrder.ORDER_4K, P2mType.RAM_RW);
        }
      }
      return rc;
    } finally {
      config.unlock();
    }
  }

  /**
   * Marks frames {@code [first, last]} inside the frame table as MMIO owned by {@code dom_io} (an MMIO
   * hole below the top of RAM). Frames at or above the frame table's end are MMIO already.
   *
   * @param first the first frame
   * @param last the last frame
   * @throws IllegalArgumentException if a frame is outside the frame table or {@code first > last}
   *     (nothing changed)
   * @throws IllegalStateException if a frame is not free (nothing changed)
   */
  public void addMmioHole(long first, long last) {
    config.lock();
    try {
      frames().shareWithDomIo(first, last);
      machine.remove(first, last); // nothing decodes a hole: reads all ones
    } finally {
      config.unlock();
    }
  }

  /**
   * Lets {@code d} map MMIO frames {@code [first, last]} (inclusive): they join its {@code
   * iomem_caps}, and a translated domain gets them in its p2m as {@code mmio_direct} at the same guest
   * frame numbers (4-KByte entries, as a device model maps BARs).
   *
   * <p>The range is checked before anything changes, as Xen's {@code XEN_DOMCTL_iomem_permission}
   * and {@code XEN_DOMCTL_memory_mapping} check theirs: {@code -EINVAL} if {@code first} is above
   * {@code last} (unsigned; Xen's "Wrap?" test), and for a translated domain if {@code last} is
   * beyond the machine's physical address width ({@link #MAX_PHYS_ADDR} bits: frames up to {@code
   * 2^34 - 1}, below the p2m's {@link RadixP2m#GFN_LIMIT}), which also bounds the p2m work. A PV
   * domain's {@code iomem_caps} take any range (Xen's permission has no width check).
   *
   * @param d the domain
   * @param first the first frame
   * @param last the last frame
   * @return 0, {@code -EINVAL} for a range refused before any change, or the p2m's or range set's
   *     negated errno (the p2m's {@code -ENOMEM} part-way leaves the frames mapped so far, as in Xen)
   */
  public int grantIomem(GuestDomain d, long first, long last) {
    requireAlive(d);
    config.lock();
    try {
      int rc = checkIomemRange(d, first, last);
      if (rc != 0) {
        return rc;
      }
      rc = d.mmuView().iomemCaps().addRange(first, last);
      long mfn = first;
      while (rc == 0 && d.hasP2m() && Long.compareUnsigned(mfn, last) <= 0) {
        // The largest aligned page that fits, as a device model maps a BAR; the p2m splits what
        // overlaps read-only frames.
        PageOrder order = PageOrder.ORDER_4K;
        for (PageOrder o : new PageOrder[] {PageOrder.ORDER_1G, PageOrder.ORDER_2M}) {
          if ((mfn & (o.pages() - 1)) == 0 && last - mfn + 1 >= o.pages()) {
            order = o;
            break;
          }
        }
        rc = setP2mEntry(d, mfn, mfn, order, P2mType.MMIO_DIRECT);
        if (mfn + order.pages() - 1 == last) {
          break;
        }
        mfn += order.pages();
      }
      return rc;
    } finally {
      config.unlock();
    }
  }

  /**
   * Xen's checks of an MMIO range given to a domain: 0, or {@code -EINVAL} if it wraps or a
   * translated domain's range lies beyond the machine's physical address width.
   */
  int checkIomemRange(GuestDomain d, long first, long last) {
    if (Long.compareUnsigned(first, last) > 0) {
      return -Errno.EINVAL;
    }
    if (d.hasP2m() && Long.compareUnsigned(last, machine.lastFrame()) > 0) {
      return -Errno.EINVAL; // ((mfn | mfn_end) >> (paddr_bits - PAGE_SHIFT)) != 0
    }
    return 0;
  }

  // ---- vCPUs ------------------------------------------------------------------------------------

  /**
   * The model every vCPU created from now on gets: its TLBs and caches, its cycle costs, and what its
   * invalidations remove ({@link MmuSwitches.TlbMode#STRICT}, the default, keeps everything the SDM
   * lets a processor keep, so that a missing flush shows).
   *
   * @param tlbs the translation caches
   * @param latency the cycle costs
   * @param mode strict retention or over-flush
   */
  public void configureVcpus(TlbConfig tlbs, LatencyModel latency, MmuSwitches.TlbMode mode) {
    config.lock();
    try {
      this.vcpuTlbs = Objects.requireNonNull(tlbs, "tlbs");
      this.vcpuLatency = Objects.requireNonNull(latency, "latency");
      this.vcpuTlbMode = Objects.requireNonNull(mode, "mode");
    } finally {
      config.unlock();
    }
  }

  /**
   * Creates a vCPU of domain {@code d} on the machine memory, configured for its paging mode: an HVM
   * domain on EPT runs on its p2m's EPT tables (Intel, a VPID of its own), one on NPT on its p2m's
   * tables as nested CR3 (AMD, an ASID of its own); a PV domain's vCPU walks the guest's own tables
   * from its base pointer ({@link #newBaseptr}), on Xen's empty idle table until the guest installs
   * one; a shadowed domain's vCPU runs on the shadows. An HVM guest's own registers start as after
   * RESET (paging off) and the guest loads them itself ({@link GuestVcpu#loadGuestState}).
   *
   * @param d the domain
   * @return the vCPU
   * @throws IllegalStateException if a PV domain has {@link PvVcpu#MAX_VCPUS} vCPUs already
   */
  public GuestVcpu createVcpu(GuestDomain d) {
    requireAlive(d);
    config.lock();
    try {
      if (d.mode().pvTables() && d.vcpuCount() == PvVcpu.MAX_VCPUS) {
        throw new IllegalStateException(d + " has " + PvVcpu.MAX_VCPUS + " vCPUs, the model's limit");
      }
      boolean amd = d.mode() == PagingMode.HVM_NPT;
      // Xen enables neither mode-based execute control nor EPT's execute-only use here.
      MmuFeatures features = amd ? MmuFeatures.amd(MAX_PHYS_ADDR)
          : MmuFeatures.intel(MAX_PHYS_ADDR).withEpt(true, false, cpu.eptAccessedDirty(), true);
      MmuSwitches switches = (amd ? MmuSwitches.AMD : MmuSwitches.DEFAULT).withTlbMode(vcpuTlbMode);
      GuestVcpu g = new GuestVcpu(d, d.vcpuCount(),
          new Vcpu(machine, features, switches, vcpuTlbs, vcpuLatency), machine);
      switch (d.mode()) {
        case HVM_EPT, HVM_NPT -> p2mPaging.attachVcpu(g, nextTag());
        case PV, PV32 -> pvPaging.attachVcpu(g);
        case PV_SHADOW, HVM_SHADOW -> shadowPaging.attachVcpu(g);
      }
      d.addVcpu(g);
      return g;
    } finally {
      config.unlock();
    }
  }

  /** The next VPID or ASID (1 to 0xffff; 0 is the hypervisor's). */
  private int nextTag() {
    int tag = nextVpid++;
    if (nextVpid > 0xFFFF) {
      nextVpid = 1;
    }
    return tag;
  }

  /** Xen's {@code flush_tlb_mask(d->dirty_cpumask)} with global entries: every vCPU of {@code d}. */
  static void flushDomain(GuestDomain d) {
    for (GuestVcpu g : d.vcpuArray()) {
      g.cpu().flushAll();
    }
  }

  /**
   * Reads {@code size} bytes of domain {@code d}'s memory at guest-physical address {@code gpa} (a
   * machine address for PV), as a loader or the device model does: through the p2m, no vCPU.
   *
   * @param d the domain
   * @param gpa the guest-physical address
   * @param size 1, 2, 4 or 8, within one page
   * @return the value, or all ones where nothing is mapped
   */
  public long readGuestPhysical(GuestDomain d, long gpa, int size) {
    long ma = p2mPaging.machineAddress(d, gpa, size);
    return ma < 0 ? (size == 8 ? -1L : (1L << (8 * size)) - 1) : machine.read(ma, size);
  }

  /**
   * Writes {@code size} bytes of domain {@code d}'s memory at guest-physical address {@code gpa}, as
   * a loader or the device model does: through the p2m, no vCPU (writes where nothing is mapped are
   * dropped). A guest builds its page tables this way before it turns paging on.
   *
   * @param d the domain
   * @param gpa the guest-physical address
   * @param size 1, 2, 4 or 8, within one page
   * @param value the value
   */
  public void writeGuestPhysical(GuestDomain d, long gpa, int size, long value) {
    long ma = p2mPaging.machineAddress(d, gpa, size);
    if (ma >= 0) {
      machine.write(ma, size, value);
      if (d.mode().shadowed()) {
        shadowPaging.guestPhysicalWritten(d, ma, size); // a shadowed guest table: shadows follow
      }
    }
  }

  // ---- devices and MSI-X ------------------------------------------------------------------------

  /**
   * Adds a PCI function to the host, its MSI-X registers under {@link MsixAccessPolicy#PCI_SPEC}:
   * see {@link #addDevice(PciDevice, MsixAccessPolicy)}.
   *
   * @param pci the function, from a dump, sysfs or built in code
   * @return the device
   */
  public HostDevice addDevice(PciDevice pci) {
    return addDevice(pci, MsixAccessPolicy.PCI_SPEC);
  }

  /**
   * Adds a PCI function to the host. Its BAR frames inside the frame table become MMIO owned by
   * {@code dom_io} (if still free) and MMIO regions of the machine memory; its MSI-X state uses the
   * host's registrations and the policy's MSI-X switches. The MSI-X table and PBA (at their true
   * addresses) are live registers in their reset state ({@link HostDevice#msixRegisters()}), whose
   * undefined corners {@code access} chooses; the rest of the BARs hold what was written. The host
   * keeps the device until the end.
   *
   * @param pci the function, from a dump, sysfs or built in code
   * @param access the MSI-X register block's policy
   * @return the device
   */
  public HostDevice addDevice(PciDevice pci, MsixAccessPolicy access) {
    Objects.requireNonNull(pci, "pci");
    Objects.requireNonNull(access, "access");
    config.lock();
    try {
      return devices.add(pci, access);
    } finally {
      config.unlock();
    }
  }

  /**
   * Where every device's MSI-X messages go from now on (the embedder's interrupt controller); {@link
   * InterruptSink#DISCARD} until set. The sink runs on the thread that fired or unmasked the vector,
   * under that device's register lock.
   *
   * @param sink the sink
   */
  public void setInterruptSink(InterruptSink sink) {
    interrupts.setTarget(sink);
  }

  /**
   * Device {@code dev} signals MSI-X vector {@code entry}: the message its table entry holds now is
   * decoded and handed to the interrupt sink, or the vector is made pending if masked ({@link
   * MsixRegisters#fire}). Allocates nothing.
   *
   * @param dev the device
   * @param entry the vector
   * @return delivered, pending, not enabled, out of range, or no MSI-X registers
   */
  public MsixFireResult fireMsix(HostDevice dev, int entry) {
    return DeviceInterrupts.fire(dev, entry);
  }

  /**
   * A configuration-space write to device {@code dev}, as the hardware domain's {@code pci_conf}
   * access or a device model would issue it. The configuration space read from a dump stays as it
   * was; the write reaches the live registers where it covers MSI-X Message Control's upper byte
   * (Enable, bit 15, and Function Mask, bit 14; PCIe Base §7.7.2), as QEMU's {@code
   * msix_write_config} acts on it, and Command's low byte, whose Memory Space Enable (bit 1) turns
   * the function's memory decoding on or off ({@link HostDevice#memoryDecoded()}). Other bytes
   * have no effect.
   *
   * @param dev the device
   * @param offset the byte offset, a multiple of {@code size}
   * @param size 1, 2 or 4
   * @param value the value, little-endian in the low {@code 8 * size} bits
   * @return whether the write reached Message Control's writable bits
   * @throws IllegalArgumentException if the size is not 1, 2 or 4, or the access is unaligned or
   *     outside the configuration space
   */
  public boolean writeConfig(HostDevice dev, int offset, int size, int value) {
    return DeviceInterrupts.writeConfig(dev, offset, size, value);
  }

  /**
   * The device model (Xen's ioreq server) HVM accesses Xen forwards go to from now on: what msixtbl
   * passes on, and the rest of a {@code p2m_mmio_dm} page's accesses (an unpopulated gfn the model
   * claims counts as one), and a 4.21+ store to read-only {@code mmio_direct} it claims. {@link
   * DeviceModel#NONE}, the null handler, until set.
   *
   * @param model the device model
   */
  public void setDeviceModel(DeviceModel model) {
    deviceModel = Objects.requireNonNull(model, "model");
  }

  /**
   * The device model.
   *
   * @return the one set, or {@link DeviceModel#NONE}
   */
  public DeviceModel deviceModel() {
    return deviceModel;
  }

  /** The sink every register block sends through. */
  DeviceInterrupts interrupts() {
    return interrupts;
  }

  /**
   * The devices, in the order they were added.
   *
   * @return a new list
   */
  public List<HostDevice> devices() {
    config.lock();
    try {
      return devices.all();
    } finally {
      config.unlock();
    }
  }

  /**
   * Registers an ECAM (MMCFG) window, an entry of Xen's {@code pci_mmcfg_config} (from the ACPI MCFG
   * table): configuration space of segment {@code segment}, buses {@code startBus} to {@code
   * endBus}, at {@code address + (bus << 20 | device << 15 | function << 12 | register)}. Its frames
   * become MMIO of the machine memory (frames inside the frame table are shared with {@code dom_io},
   * as for an MMIO hole): reads return the configuration space of the devices the host knows (all
   * ones for other functions), writes reach {@link #writeConfig}'s path. The window is not protected
   * by this call ({@link #protect} does that, as Xen's {@code pci_mmcfg_arch_enable} adds it to
   * {@code mmio_ro_ranges}); a protected window's frames are what a PV hardware domain's store
   * reaches through {@code mmcfg_intercept_write} ({@code pci_ro_mmcfg_decode}).
   *
   * @param segment the PCI segment, 0 to 0xffff
   * @param startBus the first bus, 0 to 255
   * @param endBus the last bus, {@code startBus} to 255
   * @param address the address of bus 0 of the segment, a multiple of 1 MiB
   * @return 0, or {@code -EINVAL} with nothing changed: an argument out of range, the window beyond
   *     the machine's physical address width, overlapping another window or a device's BAR, or
   *     holding a frame given to a domain
   */
  public int addMmcfg(int segment, int startBus, int endBus, long address) {
    config.lock();
    try {
      return devices.addMmcfg(segment, startBus, endBus, address);
    } finally {
      config.unlock();
    }
  }

  /** The MMCFG window holding machine frame {@code mfn} ({@code pci_mmcfg_decode}), or null. */
  MmcfgWindow mmcfgWindow(long mfn) {
    return devices.mmcfgWindow(mfn);
  }

  /**
   * Assigns a device to domain {@code d}: its memory BARs join {@code d}'s {@code iomem_caps} (and,
   * for HVM, its p2m as {@code mmio_direct}), and Xen's {@code pdev->domain} becomes {@code d}.
   *
   * <p>The BARs are checked first as {@link #grantIomem} checks a range: a BAR it would refuse
   * gives {@code -EINVAL} with nothing changed (no BAR granted, the owner and MSI-X state as they
   * were).
   *
   * @param dev the device
   * @param d the domain
   * @return 0, {@code -EINVAL} for a BAR refused before any change, or a negated errno from the
   *     p2m or range set
   */
  public int assignDevice(HostDevice dev, GuestDomain d) {
    requireAlive(d);
    config.lock();
    try {
      return devices.assign(dev, d);
    } finally {
      config.unlock();
    }
  }

  /**
   * Enables MSI-X table entry {@code entry} of {@code dev} on behalf of the hardware domain (dom0's
   * kernel or device model), passing the BAR address it reads as the table base.
   *
   * @param dev a device with MSI-X
   * @param entry the table entry
   * @return the result of {@code msix_capability_init}
   */
  public MsixResult enableMsix(HostDevice dev, int entry) {
    return enableMsix(dev, entry, 0);
  }

  /**
   * Enables MSI-X table entry {@code entry} of {@code dev} on behalf of domain {@code callerId}.
   * Frames the device registers are then handled as existing mappings (see {@link Policy}); a domain
   * Xen crashes for insecure use is torn down.
   *
   * @param dev a device with MSI-X
   * @param entry the table entry
   * @param callerId the calling domain ({@code current->domain})
   * @return the result of {@code msix_capability_init}
   */
  public MsixResult enableMsix(HostDevice dev, int entry, int callerId) {
    config.lock();
    try {
      MsixResult r = devices.enableMsix(dev, entry, callerId);
      syncDeviceBytes(dev);
      return r;
    } finally {
      config.unlock();
    }
  }

  /**
   * Disables MSI-X table entry {@code entry} of {@code dev} ({@code __pci_disable_msix}): Xen masks
   * the entry in the device first (through its own mapping of the table, a permitted write), or,
   * where the function's memory is not decoded, masks the whole function ({@code host_maskall};
   * switch {@code msixHostMaskall}), then forgets it.
   *
   * @param dev a device with MSI-X
   * @param entry an enabled entry
   * @return the result
   */
  public MsixResult disableMsix(HostDevice dev, int entry) {
    config.lock();
    try {
      MsixRegisters regs = dev.msixRegistersOrNull();
      if (regs != null && entry >= 0 && entry < regs.entries() && dev.msix().isEnabled(entry)) {
        dev.masking().disable(policy.roMmio(), regs, entry);
      }
      MsixResult r = dev.msix().pciDisableMsix(entry);
      endProvenanceIfUnused(dev);
      syncDeviceBytes(dev);
      return r;
    } finally {
      config.unlock();
    }
  }

  /** Xen no longer uses the device's MSI-X: its table is no longer guarded. */
  private static void endProvenanceIfUnused(HostDevice dev) {
    MsixRegisters regs = dev.msixRegistersOrNull();
    if (regs != null && dev.msix().enabledCount() == 0 && !dev.msix().isPrepared()) {
      regs.endProvenance();
    }
  }

  /**
   * The permitted path by which a device's MSI-X entry is programmed: Xen's {@code write_msi_msg}
   * through its own mapping of the table, for the hardware domain's (the programming owner's)
   * {@code pci_enable_msix} of an entry Xen has set up. The entry gets {@code address} and {@code
   * data}, recorded as its programmed message, and is unmasked; the first programming masks every
   * other entry and enables MSI-X (see {@link MsixRegisters#programEntry}). Until Xen stops using
   * the device's MSI-X (the last entry disabled, or released) the register block counts every
   * change no permitted path made and every message that is not its entry's programmed one: the
   * invariants {@link HostInvariants#MSIX_TABLE_INTEGRITY} and {@link
   * HostInvariants#INTERRUPT_PROVENANCE}.
   *
   * @param dev the device
   * @param entry the entry, enabled through {@link #enableMsix}
   * @param address the message address
   * @param data the message data
   * @return 0; {@code -ENXIO} without live MSI-X registers or while the function's memory is not
   *     decoded; {@code -EINVAL} for an entry Xen has not enabled or outside the table
   */
  public int programMsix(HostDevice dev, int entry, long address, int data) {
    config.lock();
    try {
      MsixRegisters regs = dev.msixRegistersOrNull();
      if (regs == null || !dev.memoryDecoded()) {
        return -Errno.ENXIO; // write_msi_msg: msix_memory_decoded
      }
      if (entry < 0 || entry >= regs.entries() || !dev.msix().isEnabled(entry)) {
        return -Errno.EINVAL;
      }
      regs.programEntry(entry, address, data);
      return 0;
    } finally {
      config.unlock();
    }
  }

  /**
   * PHYSDEVOP_prepare_msix for {@code dev}: registers its frames before a guest can map it.
   *
   * @param dev a device with MSI-X
   * @return the result
   */
  public MsixResult prepareMsix(HostDevice dev) {
    config.lock();
    try {
      MsixResult r = devices.prepareMsix(dev);
      syncDeviceBytes(dev);
      return r;
    } finally {
      config.unlock();
    }
  }

  /**
   * PHYSDEVOP_release_msix for {@code dev}.
   *
   * @param dev a device with MSI-X
   * @return the result
   */
  public MsixResult releaseMsix(HostDevice dev) {
    config.lock();
    try {
      MsixResult r = dev.msix().pciReleaseMsix();
      endProvenanceIfUnused(dev);
      syncDeviceBytes(dev);
      return r;
    } finally {
      config.unlock();
    }
  }
  /**
   * {@code msixtbl_pt_register} for HVM domain {@code d} (EPT, NPT or shadow): Xen's msixtbl takes
   * the guest's accesses to a passed-through MSI-X table of {@code entries} entries at
   * guest-physical {@code gtable} (which the device model leaves as {@code p2m_mmio_dm} pages, or
   * unpopulated), whose registers are at machine address {@code tableAddress}; {@code
   * boundEntries} has bit {@code i} set for each entry 0-63 with a bound {@code msi_desc} ({@code
   * pt_irq_create_bind}). What it does with each access is {@link
   * org.hvmmu.host.access.MsixtblAccess}'s decision under the policy's {@code roMmio} switches,
   * applied to Xen's shadows and to the table through the machine memory; {@link
   * GuestVcpu#lastAccessReason()} reports it. What msixtbl passes on goes to the {@link
   * DeviceModel} that claims it ({@link #setDeviceModel}), else to the null handler (loads all
   * ones, stores dropped); an unmask it leaves to the device model is replayed when the vCPU's I/O
   * completes ({@code msix_write_completion}, switch {@code msixtblUnmaskReplay}).
   *
   * @param d an HVM domain
   * @param gtable the table's guest-physical address, 16-byte aligned
   * @param entries 1 to 2048
   * @param tableAddress the table's machine address
   * @param boundEntries entries 0-63 with a bound vector
   * @param pbaSharesPage whether the PBA shares the table's first or last page (writes to other
   *     registers there are then discarded)
   * @throws IllegalArgumentException for a PV domain, a misaligned table or a bad count
   */
  public void registerMsixtbl(GuestDomain d, long gtable, int entries, long tableAddress,
      long boundEntries, boolean pbaSharesPage) {
    requireAlive(d);
    if (!d.hasP2m()) {
      throw new IllegalArgumentException(d + ": msixtbl serves HVM domains only");
    }
    if ((gtable & 15) != 0 || gtable < 0 || entries < 1 || entries > 2048) {
      throw new IllegalArgumentException("msixtbl table at 0x" + Long.toHexString(gtable)
          + " with " + entries + " entries (expected: 16-byte aligned, 1 to 2048 entries)");
    }
    config.lock();
    try {
      synchronized (d) {
        d.addMsixtbl(new Msixtbl(gtable, entries, tableAddress, boundEntries, pbaSharesPage,
            devices.withTableAt(tableAddress)));
      }
    } finally {
      config.unlock();
    }
  }

  /**
   * {@code msixtbl_pt_register} or {@code msixtbl_pt_unregister} for one entry of a table
   * registered with {@link #registerMsixtbl}: the device model bound (or unbound) the entry's pirq
   * ({@code XEN_DOMCTL_bind_pt_irq}), so msixtbl takes (or no longer takes) the entry's accesses.
   * A bind converts the unmask msixtbl snooped on a vCPU waiting for the device model into the
   * unmask it replays when that vCPU's I/O completes (3a6222bd57: the device model binds the entry
   * while handling the guest's first unmask, which Xen would otherwise lose).
   *
   * @param d the HVM domain
   * @param gtable the table's guest-physical address, as registered
   * @param entry the entry, 0 to 63 and within the table
   * @param bound whether the entry is bound from now on
   * @return 0; {@code -ENOENT} if no table is registered at {@code gtable}; {@code -EINVAL} for an
   *     entry outside the table or above 63
   */
  public int bindMsixtbl(GuestDomain d, long gtable, int entry, boolean bound) {
    requireAlive(d);
    config.lock();
    try {
      synchronized (d) {
        Msixtbl t = d.msixtblAt(gtable);
        if (t == null) {
          return -Errno.ENOENT;
        }
        if (entry < 0 || entry > 63 || (long) entry * 16 >= t.tableLen) {
          return -Errno.EINVAL;
        }
        t.bind(entry, bound);
        long vc = t.vectorControl(entry);
        if (bound) {
          for (GuestVcpu v : d.vcpuArray()) {
            if (v.waitingForIoreq && !v.msixSnoopMovs && v.msixSnoopAddress == vc) {
              v.msixUnmaskAddress = vc;
            }
          }
        }
        return 0;
      }
    } finally {
      config.unlock();
    }
  }

  /**
   * Xen's {@code domain_crash}: the domain stops and its mappings go (PV tables unpinned, p2m torn
   * down, shadows emptied). Later operations on it are refused.
   *
   * @param d the domain
   */
  public void crashDomain(GuestDomain d) {
    config.lock();
    try {
      if (d.crashed()) {
        return;
      }
      d.markCrashed();
      if (d.mode().pvTables()) {
        pvPaging.destroyPagetables(d);
        for (long mfn = 0; mfn < frames().frameCount(); mfn++) {
          if (frames().owner(mfn) == d.id()
              && (frames().typeInfo(mfn) & PageInfo.PGT_PINNED) != 0) {
            pv.unpinTable(d.mmuView(), mfn);
          }
        }
      }
      synchronized (d) {
        if (d.mode().shadowed()) {
          shadowPaging.teardown(d);
        }
        if (d.hasP2m()) {
          d.p2m().teardown();
          d.setMmioSuperpages(new long[0]);
        }
      }
      flushDomain(d); // the domain is gone: nothing of it may stay cached
    } finally {
      config.unlock();
    }
  }

  // ---- protection ---------------------------------------------------------------------------------

  /**
   * Xen's {@code subpage_mmio_ro_add(start, size)} (4.20+, {@code xen/arch/x86/mm.c}): the bytes
   * {@code [start, start + size)} become read-only with 8-byte granularity. A partial first or last
   * page gets a sub-page entry whose slots outside the range stay writable through Xen's emulation
   * (the hardware domain's PV stores, {@code mmio_ro_emulated_write}; HVM stores, the sub-page
   * handler), when the policy's {@code roMmio().subpageRo()} is on; every page of the range joins
   * {@code mmio_ro_ranges} (registrant {@code "subpage"}). Init-only, as Xen's: refused once a
   * domain exists (Xen: after {@code SYS_STATE_smp_boot}); there is no removal. Under {@code
   * subpageOwnedBytes} (hardened) the bytes go to {@link #protectBytes} as registrant {@code
   * "subpage"} instead: exactly those bytes, checked whole, and {@link #unprotectBytes} removes
   * them.
   *
   * @param start the first byte's machine address, a multiple of 8
   * @param size the length, a multiple of 8 (0: nothing happens)
   * @return 0, {@code -EINVAL} (misaligned), {@code -EILSEQ} (too late) or the registration's
   *     negated errno
   */
  public int subpageMmioRoAdd(long start, long size) {
    if ((start & 7) != 0 || (size & 7) != 0 || start < 0 || size < 0) {
      return -Errno.EINVAL;
    }
    config.lock();
    try {
      if (domainCreated) {
        return -Errno.EILSEQ;
      }
      if (size == 0) {
        return 0;
      }
      if (policy.roMmio().subpageOwnedBytes()) {
        return protection.protectBytes("subpage", start, size); // exactly the bytes
      }
      long end = start + size; // exclusive
      long first = start >>> 12;
      long last = (end - 1) >>> 12;
      int rc = protection.protect("subpage", first, last);
      if (rc != 0) {
        return rc;
      }
      if ((start & 0xFFF) != 0 || (first == last && (end & 0xFFF) != 0)) {
        int to = first == last ? (int) (end - (first << 12)) : 4096;
        subpages.add(first, (int) (start & 0xFFF), to);
      }
      if (last != first && (end & 0xFFF) != 0) {
        subpages.add(last, 0, (int) (end & 0xFFF));
      }
      return 0;
    } finally {
      config.unlock();
    }
  }

  /** Xen's sub-page list. */
  SubpageList subpages() {
    return subpages;
  }

  /**
   * Registrant {@code registrant} (say "ioapic" or "0000:03:00.0 msix-table") protects frames {@code
   * [first, last]}: they join {@code mmio_ro_ranges}, then existing mappings are handled as the
   * policy says.
   *
   * <p>Any unsigned 64-bit range is accepted, at a cost bounded by the mappings it holds and the
   * frame table, not by its length. {@code mmio_ro_ranges} is for MMIO (Xen adds no RAM to it, and
   * a RAM mapping does not consult it): a range that holds a frame given to a domain as RAM, or
   * whose first frame is above its last (unsigned), gives {@code -EINVAL} with nothing changed.
   *
   * @param registrant a name; the same name is the same registrant
   * @param first the first frame
   * @param last the last frame
   * @return 0, {@code -EINVAL} (see above), or the range set's negated errno ({@code -ENOMEM} at
   *     its limit)
   */
  public int protect(String registrant, long first, long last) {
    config.lock();
    try {
      return protection.protect(registrant, first, last);
    } finally {
      config.unlock();
    }
  }

  /**
   * Registrant {@code registrant} gives up frames {@code [first, last]}. Under ownership-aware
   * removal, frames another registrant still covers stay protected; under Xen's removal they leave
   * {@code mmio_ro_ranges} whoever else needed them.
   *
   * @param registrant the name used to protect them
   * @param first the first frame
   * @param last the last frame
   * @return 0 or a negated errno
   */
  public int unprotect(String registrant, long first, long last) {
    config.lock();
    try {
      return protection.unprotect(registrant, first, last);
    } finally {
      config.unlock();
    }
  }

  /**
   * hvmmu's sub-page protection (the policy's {@code roMmio().subpageOwnedBytes()}: hardened):
   * registrant {@code registrant} protects the bytes {@code [start, start + size)} of machine
   * memory. The frames they touch join {@code mmio_ro_ranges} (so every mapping of them is
   * read-only, existing ones as the policy says, and a store to them faults), and the hypervisor
   * performs a faulting store that touches none of the frame's protected bytes, for any domain
   * that maps it (a PV store through {@code mmio_ro_emulated_write}'s path, an HVM one through the
   * sub-page handler); a store that touches one is dropped. Registrations have owners: two
   * registrants may protect bytes of one page, and {@link #unprotectBytes} removes one
   * registration without unprotecting another's bytes. A frame protected whole by anyone ({@link
   * #protect}, a device's MSI-X frames past its table and PBA bytes) stays wholly read-only. Under
   * hardened a device's MSI-X table and PBA are protected this way: exactly their bytes.
   *
   * @param registrant a name; the same name is the same registrant (shared with {@link #protect})
   * @param start the first byte's machine address
   * @param size the length in bytes, at least 1
   * @return 0; {@code -EINVAL} for an empty range, one past 2^52, or one on a frame given to a
   *     domain as RAM; {@code -EOPNOTSUPP} under a policy without owned sub-page protection (Xen's
   *     sub-page API is {@link #subpageMmioRoAdd}); nothing changes on an error
   */
  public int protectBytes(String registrant, long start, long size) {
    config.lock();
    try {
      return protection.protectBytes(registrant, start, size);
    } finally {
      config.unlock();
    }
  }

  /**
   * Registrant {@code registrant} gives up the bytes {@code [start, start + size)} it protected
   * with {@link #protectBytes} (the same arguments): bytes another registration still covers stay
   * protected, and the frames leave {@code mmio_ro_ranges} only when nobody holds them.
   *
   * @param registrant the name used to protect them
   * @param start the first byte's machine address
   * @param size the length in bytes
   * @return 0; {@code -ENOENT} if the registrant holds no such registration; {@code -EINVAL} for
   *     an empty or out-of-range range; {@code -EOPNOTSUPP} as for {@link #protectBytes}
   */
  public int unprotectBytes(String registrant, long start, long size) {
    config.lock();
    try {
      return protection.unprotectBytes(registrant, start, size);
    } finally {
      config.unlock();
    }
  }

  /**
   * The protected byte ranges of machine frame {@code mfn} under hvmmu's sub-page protection, as
   * {@code {first, last}} byte addresses: empty when the frame has none, one range of the whole
   * page when it is wholly protected.
   *
   * @param mfn the frame
   * @return a new list of pairs
   */
  public List<long[]> protectedBytes(long mfn) {
    List<long[]> out = new ArrayList<>();
    if (Long.compareUnsigned(mfn, SubpageBytes.ADDRESS_LIMIT >>> 12) < 0) {
      protection.bytes().report(mfn << 12, mfn << 12 | 0xFFF, (s, e) -> {
        out.add(new long[] {Math.max(s, mfn << 12), Math.min(e, mfn << 12 | 0xFFF)});
        return 0;
      });
    }
    return out;
  }

  /**
   * The sub-page state a store of {@code size} bytes at {@code offset} of frame {@code mfn}
   * meets: hvmmu's byte-granular check under {@code subpageOwnedBytes}, else Xen's 8-byte list
   * (only the slot the store starts in). Allocates nothing.
   */
  SubpageState subpageState(long mfn, int offset, int size) {
    return policy.roMmio().subpageOwnedBytes() ? protection.bytes().state(mfn, offset, size)
        : subpages.state(mfn, offset);
  }

  /** Keeps a device's protected MSI-X bytes in step with its frames ({@link Protection}). */
  void syncDeviceBytes(HostDevice dev) {
    protection.syncDeviceBytes(dev);
  }

  /** What happens to mappings that exist when frames become protected ({@link Protection}). */
  void handleExistingMappings(long first, long last, GuestDomain owner) {
    protection.handleExistingMappings(first, last, owner);
  }

  // ---- PV guests ---------------------------------------------------------------------------------

  /**
   * Pins frame {@code mfn} of PV domain {@code d} as an L1 table ({@code MMUEXT_PIN_L1_TABLE}).
   *
   * @param d a PV domain
   * @param mfn its frame
   * @return 0 or {@code -EINVAL}
   */
  public int pinL1Table(GuestDomain d, long mfn) {
    return pvPaging.pinL1Table(d, mfn);
  }

  /**
   * Pins frame {@code mfn} of PV domain {@code d} as a table of type {@code level} ({@code
   * MMUEXT_PIN_L1_TABLE} to {@code MMUEXT_PIN_L4_TABLE}): the table and the tree below it are
   * validated ({@code alloc_l1_table} to {@code alloc_l4_table}) and hold a type reference until
   * unpinned.
   *
   * @param d a PV domain
   * @param mfn its frame
   * @param level {@link PageType#L1_PAGE_TABLE} to {@link PageType#L4_PAGE_TABLE}
   * @return 0 or Xen's negated errno
   */
  public int pinTable(GuestDomain d, long mfn, PageType level) {
    return pvPaging.pinTable(d, mfn, level);
  }

  /**
   * {@code MMUEXT_NEW_BASEPTR} of PV vCPU {@code v}: Xen's {@code new_guest_cr3} takes a reference
   * on L4 table {@code mfn} (validating the tree if it is not a validated L4 yet), drops the old
   * base's, and the processor loads the new CR3 (a full flush of that vCPU). A 32-bit guest's base
   * is its L3 table, which Xen links into the vCPU's own L4.
   *
   * @param v a vCPU of a PV domain
   * @param mfn the new top-level table
   * @return 0 or a negated errno (nothing changed)
   */
  public int newBaseptr(GuestVcpu v, long mfn) {
    return pvPaging.newBaseptr(v, mfn);
  }

  /**
   * One {@code mmuext_op} of PV vCPU {@code v} with {@code DOMID_SELF} as page owner: pins, unpin,
   * {@code MMUEXT_NEW_BASEPTR} (as {@link #newBaseptr}), and the TLB and cache operations, whose
   * flushes reach the domain's vCPUs.
   *
   * @param v a vCPU of a PV domain
   * @param cmd the {@code MMUEXT_*} number (see {@code PvMmuAbi})
   * @param arg1 the frame or the linear address
   * @param arg2 for the {@code _MULTI} commands, the vCPU bitmap's first word
   * @return 0 or a negated errno ({@code -ENOSYS} for an unknown command)
   */
  public int mmuextOp(GuestVcpu v, int cmd, long arg1, long arg2) {
    return pvPaging.mmuextOp(v, cmd, arg1, arg2);
  }

  /**
   * {@code update_va_mapping} of PV vCPU {@code v}: the L1 entry that maps {@code va} in the vCPU's
   * tables becomes {@code val} (validated as {@code mod_l1_entry}), then the {@code UVMF_*} flush
   * of {@code flags}.
   *
   * @param v a vCPU of a PV domain
   * @param va the linear address
   * @param val the new L1 entry
   * @param flags {@code UVMF_*}: flush type and target
   * @param vcpuMask for {@code UVMF_MULTI}, the bitmap's first word; ignored otherwise
   * @return 0 or a negated errno
   */
  public int updateVaMapping(GuestVcpu v, long va, long val, long flags, long vcpuMask) {
    return pvPaging.updateVaMapping(v, va, val, flags, vcpuMask);
  }

  /**
   * Unpins a table ({@code MMUEXT_UNPIN_TABLE}).
   *
   * @param d a PV domain
   * @param mfn its pinned table
   * @return 0 or {@code -EINVAL}
   */
  public int unpinTable(GuestDomain d, long mfn) {
    return pvPaging.unpinTable(d, mfn);
  }

  /**
   * The guest writes its own frame through an ordinary mapping (filling a page before pinning it).
   *
   * @param d the domain
   * @param mfn its frame, not a page table in use
   * @param slot 0 to 511
   * @param value the 64-bit value
   */
  public void writeGuestEntry(GuestDomain d, long mfn, int slot, long value) {
    pvPaging.writeGuestEntry(d, mfn, slot, value);
  }

  /**
   * One {@code MMU_NORMAL_PT_UPDATE} of PV domain {@code d} on its own frame, mapping its own frames
   * or MMIO ({@code mod_l1_entry} when the frame is an L1 table).
   *
   * @param d a PV domain
   * @param mfn the frame written
   * @param slot 0 to 511
   * @param value the new entry
   * @return 0 or a negated errno
   */
  public int mmuUpdate(GuestDomain d, long mfn, int slot, long value) {
    return pvPaging.mmuUpdate(d, mfn, slot, value);
  }

  /**
   * An emulated store of {@code bytes} bytes into PV domain {@code d}'s L1 table ({@code
   * ptwr_emulated_update}).
   *
   * @param d a PV domain
   * @param mfn the table
   * @param offset byte offset, 0 to 4095
   * @param old for a cmpxchg, the expected value
   * @param val the value stored
   * @param bytes 1 to 8
   * @param cmpxchg whether it is a compare-and-exchange
   * @return the emulation result
   */
  public EmulationResult ptwrEmulatedUpdate(
      GuestDomain d, long mfn, int offset, long old, long val, int bytes, boolean cmpxchg) {
    return pvPaging.ptwrEmulatedUpdate(d, mfn, offset, old, val, bytes, cmpxchg);
  }

  static void requireAlive(GuestDomain d) {
    if (d.crashed()) {
      throw new IllegalStateException(d + " has crashed (domain_crash)");
    }
  }

  // ---- HVM guests: the p2m -------------------------------------------------------------------------

  /**
   * {@code p2m_set_entry} for HVM domain {@code d}. An {@code mmio_direct} superpage the p2m refuses
   * because read-only frames lie inside is set as 4-KByte entries instead, as Xen's callers retry.
   *
   * @param d an HVM domain
   * @param gfn the first guest frame, aligned to the order
   * @param mfn the first machine frame, aligned to the order
   * @param order the page size
   * @param type the p2m type
   * @return {@link P2mSetResult#OK} or {@link P2mSetResult#NO_MEMORY}
   */
  public int setP2mEntry(GuestDomain d, long gfn, long mfn, PageOrder order, P2mType type) {
    return p2mPaging.setP2mEntry(d, gfn, mfn, order, type);
  }

  /**
   * {@code p2m_change_type_global} (or EPT's) for domain {@code d}: every leaf of type {@code ot}
   * becomes {@code nt} and every leaf's flags are re-derived; a shadowed domain's shadows follow.
   *
   * @param d an HVM domain
   * @param ot the old type
   * @param nt the new type
   */
  public void changeTypeGlobal(GuestDomain d, P2mType ot, P2mType nt) {
    p2mPaging.changeTypeGlobal(d, ot, nt);
  }

  // ---- shadowed guests ---------------------------------------------------------------------------

  /**
   * Creates a numbered guest L1 table of shadowed domain {@code d} (all entries not present): a
   * frame of its RAM that its page tables link in, mapping 2 MiB of its address space, written by
   * its own stores and shadowed on its page faults (a thin layer over the shadow path; see {@code
   * docs/shadow.md}). The first table also builds the guest's 4-level tree in its RAM (its highest
   * free frames) and a vCPU that runs on it.
   *
   * @param d a shadowed domain with RAM
   * @return the table's number
   * @throws IllegalArgumentException if {@code d} is not shadowed
   * @throws IllegalStateException if {@code d} has crashed or has no free RAM frame left
   */
  public int newGuestTable(GuestDomain d) {
    return shadowPaging.newGuestTable(d);
  }

  /**
   * Shadowed domain {@code d} writes entry {@code slot} of its guest table {@code table} with an
   * ordinary store (which Xen emulates once the table is shadowed, re-deriving the shadow entry),
   * invalidates the address the entry maps and touches it with the access the entry allows, which
   * builds the shadow entry on the page fault ({@code _sh_propagate}, {@code shadow_set_l1e}). The
   * entry's frame number is a guest frame (looked up in the p2m) for HVM, a machine frame for PV.
   *
   * @param d a shadowed domain
   * @param table its guest table
   * @param slot 0 to 511
   * @param guestEntry the guest's entry
   * @return the flags of the {@code shadow_set_l1e} calls on the entry's shadow, ORed (0 if it did
   *     not change; {@link ShadowL1e#SHADOW_SET_ERROR} when refused)
   */
  public int shadowWrite(GuestDomain d, int table, int slot, long guestEntry) {
    return shadowPaging.shadowWrite(d, table, slot, guestEntry);
  }

  // ---- the paths' shared state ------------------------------------------------------------------

  ReverseMap rmap() {
    return rmap;
  }

  /** The domains by id (null where there is none); never modified by callers. */
  GuestDomain[] domainArray() {
    return domains;
  }

  /** The domains in id order, without gaps (a snapshot); never modified by callers. */
  GuestDomain[] liveDomains() {
    return live;
  }

  CpuFeatures cpuFeatures() {
    return cpu;
  }

  XenHeap xenHeap() {
    return xenHeap;
  }

  ShadowPaging shadowPaging() {
    return shadowPaging;
  }

  P2mPaging p2mPaging() {
    return p2mPaging;
  }

  /**
   * The number of mappings the reverse map records (MMIO frames only).
   *
   * @return records
   */
  public int reverseMapSize() {
    return rmap.size();
  }

  @Override
  public String toString() {
    return "host with " + frames().frameCount() + " frames, " + mmioRoRanges;
  }
}
