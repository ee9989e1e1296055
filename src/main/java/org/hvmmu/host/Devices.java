package org.hvmmu.host;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.hvmmu.mmu.memory.MmioHandler;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.mmu.memory.RegionKind;
import org.hvmmu.pci.BarReadMode;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciMemBar;
import org.hvmmu.pci.msix.MsixCapability;
import org.hvmmu.pci.msix.MsixDevice;
import org.hvmmu.pci.msix.MsixRegion;
import org.hvmmu.pci.msix.MsixResult;
import org.hvmmu.pci.msix.regs.MsixAccessPolicy;
import org.hvmmu.pci.msix.regs.MsixRegisters;
import org.hvmmu.x86.pv.FrameTable;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;

/**
 * The host's PCI functions: their BARs as MMIO regions of the machine memory (and {@code dom_io}
 * frames of the frame table), assignment to a domain, and the MSI-X set-up whose registrations
 * protect the table and PBA frames ({@link Protection} then handles existing mappings). {@link Host}
 * delegates here, under its configuration lock.
 */
final class Devices {
  private final Host host;
  /** Copy on write: MMCFG reads and writes look devices up from vCPU threads. */
  private final List<HostDevice> devices = new CopyOnWriteArrayList<>();
  /** The MMCFG windows, replaced whole on each registration: vCPU threads read it. */
  private volatile MmcfgWindow[] mmcfg = new MmcfgWindow[0];

  Devices(Host host) {
    this.host = host;
  }

  /** See {@link Host#addDevice(PciDevice, MsixAccessPolicy)}. */
  HostDevice add(PciDevice pci, MsixAccessPolicy access) {
    boolean msix = MsixCapability.find(pci).isPresent();
    HostDevice dev = new HostDevice(pci,
        msix ? new MsixDevice(pci, host.registrations(), host.policy().msix()) : null);
    long[] bars = dev.barFrames();
    DeviceMemory other = new DeviceMemory(pci.address().toString());
    MmioHandler registers = other;
    if (msix) {
      MsixRegion table = dev.trueTable();
      MsixRegion pba = dev.truePba();
      int entries = MsixCapability.find(pci).tableSize();
      if (table.usable() && pba.usable()
          && MsixRegisters.layoutProblem(entries, table.address(), pba.address()) == null) {
        MsixRegisters live = new MsixRegisters(pci.address().bdf(), entries, table.address(),
            pba.address(), access, host.interrupts(), other);
        dev.setMsixRegisters(live);
        registers = live; // the table and PBA bytes; every other byte of the BARs is the store
      }
    }
    FrameTable frames = host.frames();
    for (int i = 0; i < bars.length; i += 2) {
      for (long mfn = bars[i]; mfn <= bars[i + 1] && frames.mfnValid(mfn); mfn++) {
        if (frames.owner(mfn) == DomainIds.OWNER_NONE) {
          frames.shareWithDomIo(mfn, mfn);
        }
      }
      mapBar(bars[i], bars[i + 1], registers);
    }
    if (msix) {
      dev.msix().assign(0, true); // the hardware domain has it until it is assigned
    }
    devices.add(dev);
    return dev;
  }

  /**
   * Makes a BAR's frames MMIO regions of the machine memory, except frames another device's BAR
   * already claims (a configuration a real PCI bus would not have; the first device keeps them).
   */
  private void mapBar(long first, long last, MmioHandler registers) {
    PhysicalMemory machine = host.machine();
    if (Long.compareUnsigned(last, machine.lastFrame()) > 0) {
      return; // beyond MAXPHYADDR: no machine address decodes it
    }
    // The MMIO regions inside the BAR, in order: the BAR's frames between them are its own. Region
    // by region, not frame by frame: a 64-bit BAR may span 2^34 frames.
    List<long[]> claimed = new ArrayList<>();
    machine.forEachRegion((f, l, kind) -> {
      if (kind == RegionKind.MMIO && Long.compareUnsigned(f, last) <= 0
          && Long.compareUnsigned(l, first) >= 0) {
        claimed.add(new long[] {f, l});
      }
    });
    claimed.sort((a, b) -> Long.compareUnsigned(a[0], b[0]));
    long next = first; // the first frame not yet looked at
    boolean done = false;
    for (long[] c : claimed) {
      if (Long.compareUnsigned(c[0], next) > 0) {
        machine.remove(next, c[0] - 1);
        machine.addMmio(next, c[0] - 1, registers);
      }
      if (Long.compareUnsigned(c[1], last) >= 0) {
        done = true;
        break;
      }
      if (Long.compareUnsigned(c[1], next) >= 0) {
        next = c[1] + 1;
      }
    }
    if (!done) {
      machine.remove(next, last);
      machine.addMmio(next, last, registers);
    }
  }

  /** The live register block whose table contains machine address {@code pa}, or null. */
  HostDevice withTableAt(long pa) {
    for (HostDevice dev : all()) {
      MsixRegisters regs = dev.msixRegistersOrNull();
      if (regs != null && Long.compareUnsigned(pa - regs.tableAddress(),
          (long) MsixRegisters.ENTRY_SIZE * regs.entries()) < 0) {
        return dev;
      }
    }
    return null;
  }

  /**
   * The device at {@code segment}, {@code bdf} ({@code pci_get_pdev}), or null.
   */
  HostDevice at(int segment, int bdf) {
    for (HostDevice dev : devices) {
      if (dev.pci().address().segment() == segment && dev.pci().address().bdf() == bdf) {
        return dev;
      }
    }
    return null;
  }

  List<HostDevice> all() {
    return new ArrayList<>(devices);
  }

  /** See {@link Host#assignDevice}. */
  int assign(HostDevice dev, GuestDomain d) {
    long[] bars = dev.barFrames();
    for (int i = 0; i < bars.length; i += 2) {
      int refused = host.checkIomemRange(d, bars[i], bars[i + 1]);
      if (refused != 0) {
        return refused; // before any change
      }
    }
    int rc = 0;
    for (int i = 0; i < bars.length && rc == 0; i += 2) {
      rc = host.grantIomem(d, bars[i], bars[i + 1]);
    }
    dev.setOwner(d);
    if (dev.hasMsix()) {
      dev.msix().assign(d.id(), d.ramFrames() != 0);
    }
    d.mmuView().setAssignedDeviceCount(d.mmuView().assignedDeviceCount() + 1);
    return rc;
  }

  /** See {@link Host#enableMsix(HostDevice, int, int)}. */
  MsixResult enableMsix(HostDevice dev, int entry, int callerId) {
    MsixDevice m = dev.msix();
    long tableBase = PciMemBar.readPciMemBar(dev.pci().config(), m.capability().tableBir(),
        BarReadMode.CORRECTED);
    int before = host.registrations().registrationCount(m.registrant());
    long used = m.usedEntries();
    MsixResult result = m.pciEnableMsix(callerId, entry, tableBase);
    afterMsixSetUp(dev, before, used, result);
    return result;
  }

  /** See {@link Host#prepareMsix}. */
  MsixResult prepareMsix(HostDevice dev) {
    int before = host.registrations().registrationCount(dev.msix().registrant());
    long used = dev.msix().usedEntries();
    MsixResult result = dev.msix().pciPrepareMsix();
    afterMsixSetUp(dev, before, used, result);
    return result;
  }

  /**
   * After an MSI-X set-up: frames it registered are handled as existing mappings (the seed
   * re-derives the owner's p2m, hardened revokes), and a domain Xen crashed is torn down. A first
   * vector or prepare ({@code used_entries} 0 to 1) leaves Function Mask as the guest asked.
   */
  private void afterMsixSetUp(HostDevice dev, int before, long usedBefore, MsixResult result) {
    MsixDevice m = dev.msix();
    MsixRegisters regs = dev.msixRegistersOrNull();
    if (regs != null && usedBefore == 0 && m.usedEntries() == 1) {
      dev.masking().firstVectorSetUp(host.policy().roMmio(), regs);
    }
    if (host.registrations().registrationCount(m.registrant()) > before) {
      host.handleExistingMappings(m.tableFirst(), m.tableLast(), dev.owner());
      host.handleExistingMappings(m.pbaFirst(), m.pbaLast(), dev.owner());
    }
    if (DomainIds.isOrdinary(result.crashedDomain())) {
      GuestDomain victim = host.domainArray()[result.crashedDomain()];
      if (victim != null) {
        host.crashDomain(victim);
      }
    }
  }
  /** See {@link Host#addMmcfg}; the caller holds the host's configuration lock. */
  int addMmcfg(int segment, int startBus, int endBus, long address) {
    if (segment < 0 || segment > PciAddress.MAX_SEGMENT || startBus < 0 || startBus > endBus
        || endBus > PciAddress.MAX_BUS || address < 0 || (address & ((1L << 20) - 1)) != 0) {
      return -Errno.EINVAL;
    }
    MmcfgWindow w = new MmcfgWindow(this, segment, startBus, endBus, address);
    long first = w.firstFrame();
    long last = w.lastFrame();
    PhysicalMemory machine = host.machine();
    if (Long.compareUnsigned(last, machine.lastFrame()) > 0) {
      return -Errno.EINVAL;
    }
    for (MmcfgWindow other : mmcfg) {
      if (other.firstFrame() <= last && other.lastFrame() >= first) {
        return -Errno.EINVAL;
      }
    }
    boolean[] overlapsMmio = new boolean[1];
    machine.forEachRegion((f, l, kind) -> {
      if (kind == RegionKind.MMIO && f <= last && l >= first) {
        overlapsMmio[0] = true;
      }
    });
    if (overlapsMmio[0]) {
      return -Errno.EINVAL;
    }
    FrameTable frames = host.frames();
    for (long mfn = first; mfn <= last && frames.mfnValid(mfn); mfn++) {
      int owner = frames.owner(mfn);
      if (owner != DomainIds.OWNER_NONE && owner != DomainIds.DOMID_IO) {
        return -Errno.EINVAL; // a domain's frame
      }
    }
    for (long mfn = first; mfn <= last && frames.mfnValid(mfn); mfn++) {
      if (frames.owner(mfn) == DomainIds.OWNER_NONE) {
        frames.shareWithDomIo(mfn, mfn);
      }
    }
    machine.remove(first, last);
    machine.addMmio(first, last, w);
    MmcfgWindow[] next = Arrays.copyOf(mmcfg, mmcfg.length + 1);
    next[mmcfg.length] = w;
    mmcfg = next;
    return 0;
  }

  /** The MMCFG window holding machine frame {@code mfn} ({@code pci_mmcfg_decode}), or null. */
  MmcfgWindow mmcfgWindow(long mfn) {
    for (MmcfgWindow w : mmcfg) {
      if (w.contains(mfn)) {
        return w;
      }
    }
    return null;
  }
}
