package org.hvmmu.host;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.hvmmu.mmu.memory.MmioHandler;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.mmu.memory.RegionKind;
import org.hvmmu.pci.BarReadMode;
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
  MsixRegisters registersAt(long pa) {
    for (HostDevice dev : all()) {
      MsixRegisters regs = dev.msixRegistersOrNull();
      if (regs != null && Long.compareUnsigned(pa - regs.tableAddress(),
          (long) MsixRegisters.ENTRY_SIZE * regs.entries()) < 0) {
        return regs;
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
    MsixResult result = m.pciEnableMsix(callerId, entry, tableBase);
    afterMsixSetUp(dev, before, result);
    return result;
  }

  /** See {@link Host#prepareMsix}. */
  MsixResult prepareMsix(HostDevice dev) {
    int before = host.registrations().registrationCount(dev.msix().registrant());
    MsixResult result = dev.msix().pciPrepareMsix();
    afterMsixSetUp(dev, before, result);
    return result;
  }

  /**
   * After an MSI-X set-up: frames it registered are handled as existing mappings (the seed
   * re-derives the owner's p2m, hardened revokes), and a domain Xen crashed is torn down.
   */
  private void afterMsixSetUp(HostDevice dev, int before, MsixResult result) {
    MsixDevice m = dev.msix();
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
}
