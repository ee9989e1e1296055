package org.hvmmu.host;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.pci.Bar;
import org.hvmmu.pci.BarKind;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.msix.MsixDevice;
import org.hvmmu.pci.msix.MsixLayout;
import org.hvmmu.pci.msix.MsixRegion;
import org.hvmmu.pci.msix.PbaSizing;
import org.hvmmu.pci.msix.regs.MsixRegisters;
import org.hvmmu.x86.Pte;

/**
 * A PCI function of a {@link Host}: its configuration space, where its memory BARs lie in frames,
 * its owner, and (if it has the capability) its MSI-X state, which registers the table and PBA
 * frames in the host's {@code mmio_ro_ranges}. Made by {@link Host#addDevice}; driven through the
 * host.
 */
public final class HostDevice {
  /** The PCI Command register's offset (PCI Local Bus 3.0 section 6.2.2). */
  static final int PCI_COMMAND = 0x04;

  /** Command's Memory Space Enable bit. */
  static final int COMMAND_MEMORY = 0x2;

  private final PciDevice pci;
  private final MsixDevice msix;
  private final long[] barFrames; // first, last pairs of each memory BAR
  private final MsixRegion trueTable;
  private final MsixRegion truePba;
  private GuestDomain owner;
  private MsixRegisters msixRegisters;
  private final MsixMasking masking = new MsixMasking(this);
  private volatile boolean memoryDecoded;

  HostDevice(PciDevice pci, MsixDevice msix) {
    this.pci = pci;
    this.msix = msix;
    // PCI Command's Memory Space Enable as dumped; a dump without it decodes.
    this.memoryDecoded = !pci.config().isKnown(PCI_COMMAND, 2)
        || (pci.config().read16(PCI_COMMAND) & COMMAND_MEMORY) != 0;
    MsixLayout layout = msix == null ? null : MsixLayout.inspect(pci, PbaSizing.CORRECTED);
    this.trueTable = layout == null ? MsixRegion.NONE : layout.table();
    this.truePba = layout == null ? MsixRegion.NONE : layout.pba();
    List<long[]> ranges = new ArrayList<>();
    for (Bar bar : pci.bars()) {
      if (bar.kind() == BarKind.IO || !bar.valid() || !bar.isAssigned()) {
        continue;
      }
      long first = bar.address() >>> Pte.PAGE_SHIFT;
      long last = first;
      if (bar.isSizeKnown()) {
        long lastByte = bar.address() + (bar.size() - 1);
        // A sized BAR is aligned to its size and ends by 2^64; a bad one that would wrap ends there.
        last = (Long.compareUnsigned(lastByte, bar.address()) < 0 ? -1L : lastByte)
            >>> Pte.PAGE_SHIFT;
      } else {
        // Size unknown (a dump without sysfs): at least the frames MSI-X puts in this BAR.
        for (MsixRegion r : new MsixRegion[] {trueTable, truePba}) {
          if (r.usable() && r.bir() == bar.index()) {
            last = Math.max(last, r.lastFrame());
          }
        }
      }
      ranges.add(new long[] {first, last});
    }
    this.barFrames = new long[2 * ranges.size()];
    for (int i = 0; i < ranges.size(); i++) {
      barFrames[2 * i] = ranges.get(i)[0];
      barFrames[2 * i + 1] = ranges.get(i)[1];
    }
  }

  /**
   * The PCI function.
   *
   * @return its configuration space and address
   */
  public PciDevice pci() {
    return pci;
  }

  /**
   * Whether the function has an MSI-X capability.
   *
   * @return true if it does
   */
  public boolean hasMsix() {
    return msix != null;
  }

  /**
   * The MSI-X state, for reading; drive it through the host.
   *
   * @return the state
   * @throws IllegalStateException if the function has no MSI-X capability
   */
  public MsixDevice msix() {
    if (msix == null) {
      throw new IllegalStateException(pci.address() + " has no MSI-X capability");
    }
    return msix;
  }

  /**
   * The frames of the memory BARs, as {@code first, last} pairs (inclusive); a BAR of unknown size
   * covers at least the MSI-X frames inside it.
   *
   * @return a copy
   */
  public long[] barFrames() {
    return barFrames.clone();
  }

  /**
   * The MSI-X table's true frames (corrected BAR read), for the invariant.
   *
   * @return the region; {@link MsixRegion#usable()} is false if the BAR cannot be read
   */
  public MsixRegion trueTable() {
    return trueTable;
  }

  /**
   * The PBA's true frames (corrected BAR read, real size), for the invariant.
   *
   * @return the region
   */
  public MsixRegion truePba() {
    return truePba;
  }

  /**
   * The domain the device is assigned to.
   *
   * @return the owner, or null while the host (dom0 or nobody) keeps it
   */
  public GuestDomain owner() {
    return owner;
  }

  void setOwner(GuestDomain owner) {
    this.owner = owner;
  }

  /**
   * The live MSI-X table and PBA behind the BAR: what a guest store that reaches them changes and
   * what {@link Host#fireMsix} sends.
   *
   * @return the register block
   * @throws IllegalStateException if the function has no MSI-X capability, or its table and PBA
   *     cannot be registers ({@link MsixRegisters#layoutProblem}, or a BAR without an address)
   */
  public MsixRegisters msixRegisters() {
    if (msixRegisters == null) {
      throw new IllegalStateException(pci.address() + " has no live MSI-X registers"
          + (msix == null ? " (no MSI-X capability)" : " (table or PBA cannot be placed)"));
    }
    return msixRegisters;
  }

  MsixRegisters msixRegistersOrNull() {
    return msixRegisters;
  }

  void setMsixRegisters(MsixRegisters regs) {
    this.msixRegisters = regs;
    regs.setMemorySpace(memoryDecoded);
  }

  /**
   * Whether the function decodes memory: PCI Command's Memory Space Enable (bit 1), as dumped, then
   * as configuration writes ({@link Host#writeConfig}) set it. While it is clear the MSI-X table
   * and PBA read as all ones and take no write, and Xen masks by Function Mask instead of the
   * entry ({@code memory_decoded} in {@code xen/arch/x86/msi.c}).
   *
   * @return the Memory Space Enable bit
   */
  public boolean memoryDecoded() {
    return memoryDecoded;
  }

  void setMemoryDecoded(boolean on) {
    memoryDecoded = on;
    if (msixRegisters != null) {
      msixRegisters.setMemorySpace(on);
    }
  }

  /**
   * Xen's {@code host_maskall} for the device: Xen itself needs every vector masked (it could not
   * mask one because memory was not decoded), so Function Mask stays set whatever the hardware
   * domain writes.
   *
   * @return the flag
   */
  public boolean hostMaskall() {
    return masking.hostMaskall();
  }

  /**
   * Xen's {@code guest_maskall} for the device: the Function Mask the hardware domain last wrote
   * through Xen's configuration-write intercept.
   *
   * @return the flag
   */
  public boolean guestMaskall() {
    return masking.guestMaskall();
  }

  MsixMasking masking() {
    return masking;
  }

  @Override
  public String toString() {
    return pci.address().toString();
  }
}
