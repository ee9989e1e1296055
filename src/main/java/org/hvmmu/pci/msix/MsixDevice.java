package org.hvmmu.pci.msix;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciMemBar;
import org.hvmmu.rangeset.owned.OwnedRanges;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MSI-X state of one PCI function and the operations that change it, as Xen's {@code msi.c}
 * and {@code physdev.c} drive them: enabling and disabling vectors ({@code __pci_enable_msix} /
 * {@code msix_capability_init}, {@code __pci_disable_msix} / {@code _pci_cleanup_msix}) and
 * PHYSDEVOP_prepare_msix / release_msix ({@code pci_prepare_msix}). Along the way the frames of the
 * MSI-X table and PBA are computed, recorded and put into (or taken out of) {@code mmio_ro_ranges}
 * through an {@link OwnedRanges} registry. Every point where the seed, upstream and hvmmu's
 * hardened model differ is a switch of {@link MsixSwitches}.
 * Xen 4.22: {@code xen/arch/x86/msi.c} (release is {@code pci_prepare_msix} with {@code off}
 * true) and {@code xen/arch/x86/physdev.c}.
 *
 * <pre>{@code
 * RangeSet ro = new IntervalTreeRangeSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX);
 * OwnedRanges registry = new OwnedRanges(ro, MsixSwitches.HARDENED.removalPolicy());
 * MsixDevice nic = new MsixDevice(device, registry, MsixSwitches.HARDENED);
 * nic.pciPrepareMsix();                    // dom0 announces the device: frames registered
 * nic.assign(1, true);                     // passed through to d1
 * nic.pciEnableMsix(0, 0, 0);              // dom0's device model sets up entry 0 for d1
 * ro.containsSingleton(nic.tableFirst());  // true
 * }</pre>
 *
 * <p>State (Xen's {@code struct arch_msix}): {@link #nrEntries()}, {@link #usedEntries()} (live
 * vectors plus one pseudo entry while prepared), the recorded inclusive frame ranges {@code [first,
 * last]} of the table and PBA (0 meaning "not recorded", as since XSA-337), the enabled entries, the
 * owner domain. The hardware domain is domain 0 ({@link #HARDWARE_DOMAIN}).
 *
 * <p>What the guest or the configuration controls is a result ({@link MsixResult}): error codes,
 * range-set failures (logged as Xen's {@code WARN()} and returned), {@code domain_crash}. Disabling an
 * entry that is not enabled is a caller error ({@link IllegalStateException}). Xen's {@code WARN_ON}s
 * and the seed's {@code MSIX..: table@(..), pba@(..)} line are SLF4J warnings and a debug line of
 * this class's logger. Not modelled: the memory-decode check ({@code -ENXIO} when the command
 * register's memory bit is off), virtual functions, the fixmap of the table pages, mask bits.
 *
 * <p>Not thread-safe: Xen holds the PCI devices lock around all of this; callers serialise. Every
 * operation may allocate and log; none is on a hot path.
 */
public final class MsixDevice {
  /** The hardware domain's id (dom0). */
  public static final int HARDWARE_DOMAIN = 0;

  private static final Logger LOG = LoggerFactory.getLogger(MsixDevice.class);

  private final PciDevice device;
  private final MsixCapability capability;
  private final OwnedRanges registry;
  private final MsixSwitches switches;
  private final int registrant;
  private final String name;

  private int owner = HARDWARE_DOMAIN;
  private boolean ownerHasMemory;
  private int nrEntries;
  /** Xen's {@code unsigned int used_entries}: wraps below 0 as C does. */
  private int usedEntries;

  private final boolean[] enabled;
  private int enabledCount;
  private boolean prepared;
  private long tableFirst;
  private long tableLast;
  private long pbaFirst;
  private long pbaLast;

  /** Registrations the device holds in the registry, as start/end pairs. */
  private long[] held = new long[8];

  private int heldCount;

  /**
   * Creates the MSI-X state of a function with an MSI-X capability, owned by the hardware domain,
   * and its registrant in the registry.
   *
   * @param device the function; its configuration space gives the capability and BARs
   * @param registry the registry of the host's {@code mmio_ro_ranges}
   * @param switches the behaviours to model
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the device has no (readable) MSI-X capability, or the
   *     registry's policy is not {@code switches.removalPolicy()}
   */
  public MsixDevice(PciDevice device, OwnedRanges registry, MsixSwitches switches) {
    this.device = Objects.requireNonNull(device, "device");
    this.registry = Objects.requireNonNull(registry, "registry");
    this.switches = Objects.requireNonNull(switches, "switches");
    this.capability = MsixCapability.find(device);
    if (!capability.isPresent()) {
      throw new IllegalArgumentException(device + " has no MSI-X capability");
    }
    if (registry.policy() != switches.removalPolicy()) {
      throw new IllegalArgumentException(
          "registry policy "
              + registry.policy()
              + " does not match the switches' "
              + switches.removalPolicy());
    }
    PciAddress a = device.address();
    this.name = String.format(Locale.ROOT, "%02x:%02x.%x", a.bus(), a.device(), a.function());
    this.registrant = registry.newRegistrant(a + " MSI-X");
    this.enabled = new boolean[capability.tableSize()];
    this.nrEntries = switches.registerOncePerDevice() ? 0 : capability.tableSize();
  }

  /**
   * Assigns the device, Xen's {@code pdev->domain}.
   *
   * @param domain {@link #HARDWARE_DOMAIN}, another ordinary domain id, {@link DomainIds#DOMID_IO},
   *     or {@link DomainIds#OWNER_NONE} for an unowned device
   * @param hasMemory whether that domain already owns memory ({@code domain_tot_pages(d) != 0}),
   *     which decides {@code domain_crash}
   * @throws IllegalArgumentException for another id
   */
  public void assign(int domain, boolean hasMemory) {
    if (!DomainIds.isOrdinary(domain)
        && domain != DomainIds.DOMID_IO
        && domain != DomainIds.OWNER_NONE) {
      throw new IllegalArgumentException(
          "owner 0x" + Integer.toHexString(domain) + " (expected: a domain, DOMID_IO or none)");
    }
    owner = domain;
    ownerHasMemory = hasMemory;
  }

  /**
   * Enables table entry {@code entry} for a vector: Xen's {@code __pci_enable_msix}, then {@code
   * msix_capability_init(dev, msi, desc)}.
   *
   * <p>On the device's first vector (per the switches: the first ever, or the used entries' 0&rarr;1
   * transition) the table and PBA frames are computed and registered; on later vectors the recorded
   * frames are reused. See {@link MsixSwitches} for where the table address comes from, who may
   * compute it, and the {@code -ENODATA} and {@code domain_crash} rules.
   *
   * @param currentDomain the calling domain (Xen's {@code current->domain}): {@link
   *     #HARDWARE_DOMAIN} for dom0 or its device model acting for a guest
   * @param entry the table entry, Xen's {@code msi->entry_nr}
   * @param tableBase the caller-supplied table base, Xen's {@code msi->table_base} (the BAR address
   *     the caller believes in), 0 if none
   * @return the result; see {@link MsixResult}
   * @throws IllegalArgumentException if {@code entry} is negative
   */
  public MsixResult pciEnableMsix(int currentDomain, int entry, long tableBase) {
    if (entry < 0) {
      throw new IllegalArgumentException("MSI-X entry 0x" + Integer.toHexString(entry) + " < 0");
    }
    if (entry >= capability.tableSize()) {
      return MsixResult.error(-Errno.EINVAL);
    }
    if (enabled[entry]) {
      return MsixResult.error(-Errno.EEXIST);
    }
    return capabilityInit(currentDomain, entry, tableBase);
  }

  /**
   * Disables an enabled entry: Xen's {@code __pci_disable_msix}, then {@code _pci_cleanup_msix}.
   * When the used entries drop to 0 the recorded table and PBA frames are removed from {@code
   * mmio_ro_ranges} (ownership-aware: the registrations the device holds), and cleared if the
   * switches say so.
   *
   * @param entry an enabled entry
   * @return {@link MsixResult#OK}, or a result whose {@link MsixResult#rangesetRc()} is the first
   *     failed removal
   * @throws IllegalArgumentException if {@code entry} is not a table entry
   * @throws IllegalStateException if the entry is not enabled (Xen has no descriptor to disable)
   */
  public MsixResult pciDisableMsix(int entry) {
    if (entry < 0 || entry >= enabled.length) {
      throw new IllegalArgumentException(
          "MSI-X entry 0x"
              + Integer.toHexString(entry)
              + " (expected: 0x0..0x"
              + Integer.toHexString(enabled.length - 1)
              + ")");
    }
    if (!enabled[entry]) {
      throw new IllegalStateException(
          "MSI-X entry 0x" + Integer.toHexString(entry) + " of " + name + " is not enabled");
    }
    enabled[entry] = false;
    enabledCount--;
    int rc = cleanup();
    assert checkInvariants();
    return rc == 0 ? MsixResult.OK : new MsixResult(0, rc, DomainIds.DOMID_INVALID);
  }

  /**
   * PHYSDEVOP_prepare_msix: Xen's {@code pci_prepare_msix(seg, bus, devfn, false)}, which runs
   * {@code msix_capability_init(dev, NULL, NULL)}: the frames are computed from the BAR and
   * registered, and a pseudo entry is counted, before any guest can map the device.
   *
   * @return 0; {@code -ENOSYS} without the switch; {@code -EBUSY} if entries are in use; {@code
   *     -ENXIO} if the table's BAR reads 0, or, under {@link
   *     MsixSwitches#checkedRegionArithmetic()}, the table or PBA is unusable
   */
  public MsixResult pciPrepareMsix() {
    if (!switches.prepareMsix()) {
      return MsixResult.error(-Errno.ENOSYS);
    }
    if (usedEntries != 0) {
      return MsixResult.error(-Errno.EBUSY);
    }
    return capabilityInit(HARDWARE_DOMAIN, -1, 0);
  }

  /**
   * PHYSDEVOP_release_msix: Xen's {@code pci_prepare_msix(seg, bus, devfn, true)}, which runs
   * {@code _pci_cleanup_msix} on the pseudo entry.
   *
   * @return 0 (with {@link MsixResult#rangesetRc()} set if a removal failed); {@code -ENOSYS}
   *     without the switch; {@code -EBUSY} unless exactly one entry is in use (and, under {@code
   *     releaseRequiresPrepare}, it is the pseudo entry of a prepare)
   */
  public MsixResult pciReleaseMsix() {
    if (!switches.prepareMsix()) {
      return MsixResult.error(-Errno.ENOSYS);
    }
    boolean ok =
        switches.releaseRequiresPrepare() ? prepared && usedEntries == 1 : usedEntries == 1;
    if (!ok) {
      return MsixResult.error(-Errno.EBUSY);
    }
    prepared = false;
    int rc = cleanup();
    assert checkInvariants();
    return rc == 0 ? MsixResult.OK : new MsixResult(0, rc, DomainIds.DOMID_INVALID);
  }

  /** {@code msix_capability_init}; {@code entry} is -1 for a prepare (no descriptor). */
  private MsixResult capabilityInit(int currentDomain, int entry, long tableBase) {
    boolean preparing = entry < 0;
    int size = capability.tableSize();
    long tableOffset = capability.tableOffset();
    boolean trusted =
        currentDomain == HARDWARE_DOMAIN
            && (owner == currentDomain || owner == DomainIds.DOMID_IO);
    boolean first = switches.registerOncePerDevice() ? nrEntries == 0 : usedEntries == 0;
    // Before XSA-337 (4.15) the frames were computed from the BAR in any context; since then only by
    // a prepare or in a trusted context, and other contexts reuse the recorded frames.
    boolean compute = first
        && (switches.tableBaseFromCaller() || preparing || trusted
            || !switches.noDataForUntrustedSetup());
    long tablePaddr;
    int rangesetRc = 0;
    if (compute) {
      long bar = readPciMemBar(capability.tableBir());
      // The base the table address is computed from, and whether a 32-bit BAR gave it.
      long base;
      boolean base32 = PciMemBar.isMem32(device.config(), capability.tableBir());
      if (switches.tableBaseFromCaller()) {
        if (tableBase != bar) {
          LOG.warn(
              "WARN_ON: MSI-X {}: caller's table base {} differs from BAR {} as read_pci_mem_bar"
                  + " reads it ({})",
              name,
              hex(tableBase),
              capability.tableBir(),
              hex(bar));
        }
        base = tableBase;
        base32 = false; // the caller's base: its BAR's width is unknown
      } else {
        if (!preparing && tableBase != bar) {
          LOG.warn(
              "WARN_ON: MSI-X {}: caller's table base {} differs from BAR {} ({})",
              name,
              hex(tableBase),
              capability.tableBir(),
              hex(bar));
        }
        if (bar == 0) {
          if (preparing || tableBase == 0) {
            return MsixResult.error(-Errno.ENXIO);
          }
          bar = tableBase;
          base32 = false;
        }
        base = bar;
      }
      tablePaddr = base + tableOffset;
      long pbaBar = readPciMemBar(capability.pbaBir());
      if (switches.checkedRegionArithmetic()) {
        Optional<String> tableProblem =
            MsixTableDescriptor.unusableReason(
                base, base32, tableOffset, MsixTableDescriptor.tableLength(size));
        Optional<String> pbaProblem =
            MsixTableDescriptor.unusableReason(
                pbaBar,
                PciMemBar.isMem32(device.config(), capability.pbaBir()),
                capability.pbaOffset(),
                PbaSizing.CORRECTED.bytes(size));
        if (tableProblem.isPresent() || pbaProblem.isPresent()) {
          LOG.warn(
              "MSI-X {}: {}{}{}: unusable, nothing recorded or protected: -ENXIO",
              name,
              tableProblem.map(t -> "table " + t).orElse(""),
              tableProblem.isPresent() && pbaProblem.isPresent() ? "; " : "",
              pbaProblem.map(t -> "PBA " + t).orElse(""));
          return MsixResult.error(-Errno.ENXIO);
        }
      }
      if (switches.registerOncePerDevice()) {
        nrEntries = size;
      }
      tableFirst = MsixTableDescriptor.tableFirstFrame(tablePaddr);
      tableLast = MsixTableDescriptor.tableLastFrame(tablePaddr, size);
      if (switches.registerOncePerDevice()) {
        // The seed checks frame by frame, then adds the table at once.
        for (long pfn = tableFirst; Long.compareUnsigned(pfn, tableLast) <= 0; pfn++) {
          if (registry.target().containsSingleton(pfn)) {
            LOG.warn(
                "WARN_ON: MSI-X {}: table frame {} is already in {}",
                name,
                Long.toHexString(pfn),
                registry.target().name());
          }
        }
        rangesetRc = addFrames("table", tableFirst, tableLast);
      } else {
        warnIfProtected("table", tableFirst, tableLast);
      }
      if (pbaBar == 0) {
        LOG.warn("WARN_ON: MSI-X {}: PBA BAR {} reads 0", name, capability.pbaBir());
      }
      long pbaPaddr = pbaBar + capability.pbaOffset();
      pbaFirst = MsixTableDescriptor.pbaFirstFrame(pbaPaddr);
      pbaLast = MsixTableDescriptor.pbaLastFrame(pbaPaddr, size, switches.pbaSizing());
      if (switches.registerOncePerDevice()) {
        // The seed's PBA check loop starts where the table loop ended and never runs.
        rangesetRc = first(rangesetRc, addFrames("PBA", pbaFirst, pbaLast));
      } else {
        warnIfProtected("PBA", pbaFirst, pbaLast);
      }
      if (LOG.isDebugEnabled()) {
        LOG.debug(
            "MSIX {}: table@({},{}), pba@({},{})",
            name,
            Long.toHexString(tableFirst),
            Long.toHexString(tableLast),
            Long.toHexString(pbaFirst),
            Long.toHexString(pbaLast));
      }
    } else {
      if (switches.noDataForUntrustedSetup() && tableFirst == 0) {
        return MsixResult.error(-Errno.ENODATA);
      }
      tablePaddr =
          switches.tableBaseFromCaller()
              ? tableBase + tableOffset
              : (tableFirst << MsixTableDescriptor.PAGE_SHIFT)
                  + (tableOffset & (MsixTableDescriptor.PAGE_SIZE - 1));
    }
    int crashed = DomainIds.DOMID_INVALID;
    if (!switches.registerOncePerDevice() && usedEntries == 0) {
      rangesetRc = first(rangesetRc, addFrames("table", tableFirst, tableLast));
      rangesetRc = first(rangesetRc, addFrames("PBA", pbaFirst, pbaLast));
    }
    if (!preparing && usedEntries == 0 && switches.crashUnpreparedDomain()) {
      crashed = crashRule(currentDomain);
    }
    if (switches.registerOncePerDevice() && nrEntries != size) {
      LOG.warn("WARN_ON: MSI-X {}: nr_entries {} is not the table size {}", name, nrEntries, size);
    }
    if (tableFirst != tablePaddr >>> MsixTableDescriptor.PAGE_SHIFT) {
      LOG.warn(
          "WARN_ON: MSI-X {}: recorded table frame {} is not the table's frame {}",
          name,
          Long.toHexString(tableFirst),
          Long.toHexString(tablePaddr >>> MsixTableDescriptor.PAGE_SHIFT));
    }
    usedEntries++;
    if (preparing) {
      prepared = true;
    } else {
      enabled[entry] = true;
      enabledCount++;
    }
    assert checkInvariants();
    return rangesetRc == 0 && crashed == DomainIds.DOMID_INVALID
        ? MsixResult.OK
        : new MsixResult(0, rangesetRc, crashed);
  }

  /** The 2014 rule for a first real vector: warn, and crash a domain that may have mappings. */
  private int crashRule(int currentDomain) {
    int d = owner == DomainIds.OWNER_NONE ? currentDomain : owner;
    boolean currdIsHwdom = currentDomain == HARDWARE_DOMAIN;
    if (!currdIsHwdom || d != currentDomain) {
      if (currdIsHwdom) {
        LOG.warn(
            "Potentially insecure use of MSI-X on {} by {}", device.address(), DomainIds.name(d));
      } else {
        LOG.error("Insecure use of MSI-X on {} by {}", device.address(), DomainIds.name(d));
      }
    }
    boolean dHasMemory = d == owner ? ownerHasMemory : true;
    if (d != HARDWARE_DOMAIN && (!currdIsHwdom || dHasMemory)) {
      LOG.warn("domain_crash({}): first MSI-X vector of {} without prepare", DomainIds.name(d), name);
      return d;
    }
    return DomainIds.DOMID_INVALID;
  }

  /** {@code _pci_cleanup_msix}: one entry fewer; on the last, the frames go. */
  private int cleanup() {
    usedEntries--;
    if (usedEntries != 0) {
      return 0;
    }
    int rc;
    if (switches.ownershipAwareRemoval()) {
      rc = removeHeld();
    } else {
      rc = removeFrames("table", tableFirst, tableLast);
      rc = first(rc, removeFrames("PBA", pbaFirst, pbaLast));
    }
    if (switches.clearRecordedRanges()) {
      tableFirst = 0;
      tableLast = 0;
      pbaFirst = 0;
      pbaLast = 0;
    }
    return rc;
  }

  private int addFrames(String what, long first, long last) {
    if (Long.compareUnsigned(first, last) > 0) {
      // Xen's u64 arithmetic wrapped the last frame below the first.
      LOG.warn(
          "ASSERT(s <= e) fails in rangeset_add_range: MSI-X {}: {} frames [{}, {}] wrap past"
              + " 2^64; nothing added (a debug Xen panics, a release Xen inserts the inverted"
              + " range): -EINVAL",
          name,
          what,
          Long.toHexString(first),
          Long.toHexString(last));
      return -Errno.EINVAL;
    }
    int rc = registry.add(registrant, first, last);
    if (rc != 0) {
      LOG.warn(
          "WARN: MSI-X {}: cannot add {} frames [{}, {}] to {}: -{}",
          name,
          what,
          Long.toHexString(first),
          Long.toHexString(last),
          registry.target().name(),
          Errno.name(rc));
      return rc;
    }
    hold(first, last);
    return 0;
  }

  /** Xen's removal of the recorded frames, held or not. */
  private int removeFrames(String what, long first, long last) {
    if (Long.compareUnsigned(first, last) > 0) {
      return 0; // an inverted range was never added (see addFrames)
    }
    boolean wasHeld = indexOfHeld(first, last) >= 0;
    int rc = registry.remove(registrant, first, last);
    if (rc != 0) {
      warnRemove(what, first, last, rc);
      return rc;
    }
    if (wasHeld) {
      unhold(indexOfHeld(first, last));
    }
    return 0;
  }

  /** The ownership-aware removal: every registration the device holds; failures stay held. */
  private int removeHeld() {
    int rc = 0;
    int i = 0;
    while (i < heldCount) {
      long first = held[2 * i];
      long last = held[2 * i + 1];
      int r = registry.remove(registrant, first, last);
      if (r == 0) {
        unhold(i);
      } else {
        warnRemove("MSI-X", first, last, r);
        rc = first(rc, r);
        i++;
      }
    }
    return rc;
  }

  private void warnRemove(String what, long first, long last, int rc) {
    LOG.warn(
        "WARN: MSI-X {}: cannot remove {} frames [{}, {}] from {}: -{}",
        name,
        what,
        Long.toHexString(first),
        Long.toHexString(last),
        registry.target().name(),
        Errno.name(rc));
  }

  private void warnIfProtected(String what, long first, long last) {
    if (Long.compareUnsigned(first, last) <= 0 && registry.target().overlapsRange(first, last)) {
      LOG.warn(
          "WARN_ON: MSI-X {}: {} frames [{}, {}] are already in {}",
          name,
          what,
          Long.toHexString(first),
          Long.toHexString(last),
          registry.target().name());
    }
  }

  private long readPciMemBar(int bir) {
    return PciMemBar.readPciMemBar(device.config(), bir, switches.barReadMode());
  }

  private void hold(long first, long last) {
    if (2 * heldCount == held.length) {
      held = Arrays.copyOf(held, 2 * held.length);
    }
    held[2 * heldCount] = first;
    held[2 * heldCount + 1] = last;
    heldCount++;
  }

  private int indexOfHeld(long first, long last) {
    for (int i = 0; i < heldCount; i++) {
      if (held[2 * i] == first && held[2 * i + 1] == last) {
        return i;
      }
    }
    return -1;
  }

  private void unhold(int i) {
    System.arraycopy(held, 2 * i + 2, held, 2 * i, 2 * (heldCount - i - 1));
    heldCount--;
  }

  private static int first(int rc, int next) {
    return rc != 0 ? rc : next;
  }

  private static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }

  /**
   * The device's state against itself and the registry (STYLE E4): the registrations the device
   * believes it holds are exactly those the registry lists for it, the enabled count matches the
   * enabled entries, and, when a release cannot drop a live vector's count, the used entries are the
   * enabled entries plus the prepare's pseudo entry.
   *
   * @return true if consistent
   */
  boolean checkInvariants() {
    int count = 0;
    for (boolean b : enabled) {
      count += b ? 1 : 0;
    }
    if (count != enabledCount) {
      return false;
    }
    if (switches.releaseRequiresPrepare() && usedEntries != enabledCount + (prepared ? 1 : 0)) {
      return false;
    }
    if (registry.registrationCount(registrant) != heldCount) {
      return false;
    }
    long[] fromRegistry = new long[2 * heldCount];
    int[] n = {0};
    registry.forEachRegistration(
        (id, s, e) -> {
          if (id == registrant) {
            fromRegistry[n[0]++] = s;
            fromRegistry[n[0]++] = e;
          }
          return 0;
        });
    return Arrays.equals(fromRegistry, Arrays.copyOf(held, 2 * heldCount));
  }

  /**
   * The function.
   *
   * @return the device given to the constructor
   */
  public PciDevice device() {
    return device;
  }

  /**
   * The MSI-X capability read from the device.
   *
   * @return the capability
   */
  public MsixCapability capability() {
    return capability;
  }

  /**
   * The switches.
   *
   * @return the switches given to the constructor
   */
  public MsixSwitches switches() {
    return switches;
  }

  /**
   * The device's registrant id in the registry.
   *
   * @return the id
   */
  public int registrant() {
    return registrant;
  }

  /**
   * The owner, Xen's {@code pdev->domain}.
   *
   * @return a domain id, {@link DomainIds#DOMID_IO} or {@link DomainIds#OWNER_NONE}
   */
  public int owner() {
    return owner;
  }

  /**
   * Xen's {@code msix->nr_entries}.
   *
   * @return the table size; under {@code registerOncePerDevice}, 0 until the first vector
   */
  public int nrEntries() {
    return nrEntries;
  }

  /**
   * Xen's {@code msix->used_entries}: live vectors plus the prepare's pseudo entry, as an unsigned
   * 32-bit count (upstream's release of a real vector can make a later disable wrap it).
   *
   * @return the count, {@code 0..0xffffffff}
   */
  public long usedEntries() {
    return Integer.toUnsignedLong(usedEntries);
  }

  /**
   * Whether an entry is enabled.
   *
   * @param entry a table entry
   * @return whether it has a live vector
   * @throws IllegalArgumentException if {@code entry} is not a table entry
   */
  public boolean isEnabled(int entry) {
    if (entry < 0 || entry >= enabled.length) {
      throw new IllegalArgumentException("MSI-X entry 0x" + Integer.toHexString(entry));
    }
    return enabled[entry];
  }

  /**
   * The number of enabled entries.
   *
   * @return how many entries have live vectors
   */
  public int enabledCount() {
    return enabledCount;
  }

  /**
   * Whether a prepare is in force (its pseudo entry counted, not yet released).
   *
   * @return the prepared flag
   */
  public boolean isPrepared() {
    return prepared;
  }

  /**
   * The recorded first table frame, Xen's {@code msix->table.first}.
   *
   * @return the frame, or 0 when not recorded
   */
  public long tableFirst() {
    return tableFirst;
  }

  /**
   * The recorded last table frame, inclusive, Xen's {@code msix->table.last}.
   *
   * @return the frame, or 0 when not recorded
   */
  public long tableLast() {
    return tableLast;
  }

  /**
   * The recorded first PBA frame, Xen's {@code msix->pba.first}.
   *
   * @return the frame, or 0 when not recorded
   */
  public long pbaFirst() {
    return pbaFirst;
  }

  /**
   * The recorded last PBA frame, inclusive, Xen's {@code msix->pba.last}.
   *
   * @return the frame, or 0 when not recorded
   */
  public long pbaLast() {
    return pbaLast;
  }

  /**
   * For example {@code "03:00.0 MSI-X: used 2, table [e0840, e0840], pba [e0842, e0842]"}.
   *
   * @return a short description
   */
  @Override
  public String toString() {
    return name
        + " MSI-X: used "
        + usedEntries()
        + (prepared ? " (prepared)" : "")
        + ", table ["
        + Long.toHexString(tableFirst)
        + ", "
        + Long.toHexString(tableLast)
        + "], pba ["
        + Long.toHexString(pbaFirst)
        + ", "
        + Long.toHexString(pbaLast)
        + "]";
  }
}
