package org.hvmmu.pci.msix;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hvmmu.pci.Bar;
import org.hvmmu.pci.BarKind;
import org.hvmmu.pci.BarReadMode;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciMemBar;
import org.hvmmu.pci.PciRegs;
import org.hvmmu.pci.VirtioPciCap;

/**
 * A device's MSI-X capability, where its table and PBA lie, and what is wrong with them.
 * Xen 4.22: {@code msix_capability_init} in {@code xen/arch/x86/msi.c}.
 *
 * <p>{@link #inspect} reads the BARs with {@link PciMemBar#readPciMemBar} (corrected) as Xen's
 * {@code msix_capability_init} does, adds the offsets, and computes the frames with {@link
 * MsixTableDescriptor}. Real devices break the specification's rules, so the rules are checked as
 * warnings, never exceptions (QEMU's {@code msix_init} and VFIO check the same rules):
 *
 * <ul>
 *   <li>a BIR beyond the header's BARs, or naming an I/O BAR, an unassigned BAR (reads 0, as with
 *       Enhanced Allocation), the upper half of a 64-bit BAR, or a 64-bit BAR in the last slot;
 *   <li>table and PBA overlapping in the same BAR;
 *   <li>a table or PBA that does not fit its BAR, when the BAR's size is known;
 *   <li>other registers sharing a 4 KiB page with the table or PBA (the sub-page problem: those
 *       registers become read-only too). For virtio devices the vendor capabilities give the
 *       register blocks, so only real overlaps are reported; for other devices the bytes of the BAR
 *       in those pages that are neither table nor PBA are reported as possibly holding registers.
 *   <li>more than one MSI-X capability, or one cut off by the end of the known bytes;
 *   <li>a table or PBA whose address cannot be computed: BAR + offset wrapping past 2^64, a last
 *       byte beyond 2^64, or a 32-bit BAR's region ending above 4 GiB ({@link
 *       MsixTableDescriptor#unusableReason}). The region is then unusable, with no frames.
 * </ul>
 *
 * <p>Offsets are QWORD aligned by construction (the low 3 bits of each register are the BIR), so
 * the specification's alignment rule cannot be broken by a decoded value and has no warning. The
 * overlap, fit and page checks use the real PBA size ({@link PbaSizing#CORRECTED}) whatever sizing
 * the frames use. Warnings about the capability chain itself are in {@link
 * PciDevice#capabilities()}, not here.
 *
 * @param capability the capability, or {@link MsixCapability#ABSENT}
 * @param table where the table lies, or {@link MsixRegion#NONE}
 * @param pba where the PBA lies, or {@link MsixRegion#NONE}
 * @param pbaSizing the PBA length the PBA frames were computed with
 * @param warnings one sentence per problem, values in hex
 */
public record MsixLayout(
    MsixCapability capability,
    MsixRegion table,
    MsixRegion pba,
    PbaSizing pbaSizing,
    List<String> warnings) {
  /**
   * Copies the warnings.
   *
   * @param capability see {@link #capability()}
   * @param table see {@link #table()}
   * @param pba see {@link #pba()}
   * @param pbaSizing see {@link #pbaSizing()}
   * @param warnings see {@link #warnings()}
   * @throws NullPointerException if the warnings or one of them is null
   */
  public MsixLayout {
    warnings = List.copyOf(warnings);
  }

  /**
   * Inspects a device with the real PBA size, as hvmmu's hardened model registers it.
   *
   * @param device a device
   * @return its layout; for a device without MSI-X, {@link MsixCapability#ABSENT} and no regions
   */
  public static MsixLayout inspect(PciDevice device) {
    return inspect(device, PbaSizing.CORRECTED);
  }

  /**
   * Inspects a device.
   *
   * @param device a device
   * @param pbaSizing the PBA length to compute the PBA's frames with
   * @return its layout; for a device without MSI-X, {@link MsixCapability#ABSENT} and no regions
   */
  public static MsixLayout inspect(PciDevice device, PbaSizing pbaSizing) {
    List<String> warnings = new ArrayList<>();
    int offset = device.capabilities().findCapOffset(PciRegs.CAP_ID_MSIX);
    int count = device.capabilities().allStandard(PciRegs.CAP_ID_MSIX).size();
    if (count > 1) {
      warnings.add(
          count + " MSI-X capabilities on the chain; the first, at " + hex(offset) + ", is used");
    }
    MsixCapability capability = MsixCapability.find(device);
    if (!capability.isPresent()) {
      if (offset != 0) {
        warnings.add(
            "MSI-X capability at "
                + hex(offset)
                + " is cut off by the end of the "
                + hex(device.config().size())
                + " bytes known");
      }
      return new MsixLayout(capability, MsixRegion.NONE, MsixRegion.NONE, pbaSizing, warnings);
    }
    int entries = capability.tableSize();
    long tableLength = MsixTableDescriptor.tableLength(entries);
    long pbaLength = PbaSizing.CORRECTED.bytes(entries);

    long tableBar = barAddress(device, capability.tableBir());
    MsixRegion table =
        region(
            device,
            "table",
            capability.tableBir(),
            tableBar,
            capability.tableOffset(),
            tableLength,
            tableLength,
            warnings);
    if (table.usable()) {
      long address = table.address();
      table =
          new MsixRegion(
              capability.tableBir(),
              capability.tableOffset(),
              tableLength,
              true,
              address,
              MsixTableDescriptor.tableFirstFrame(address),
              MsixTableDescriptor.tableLastFrame(address, entries));
    }
    long pbaBar = barAddress(device, capability.pbaBir());
    MsixRegion pba =
        region(
            device,
            "PBA",
            capability.pbaBir(),
            pbaBar,
            capability.pbaOffset(),
            pbaSizing.bytes(entries),
            Math.max(pbaLength, pbaSizing.bytes(entries)),
            warnings);
    if (pba.usable()) {
      long address = pba.address();
      pba =
          new MsixRegion(
              capability.pbaBir(),
              capability.pbaOffset(),
              pbaSizing.bytes(entries),
              true,
              address,
              MsixTableDescriptor.pbaFirstFrame(address),
              MsixTableDescriptor.pbaLastFrame(address, entries, pbaSizing));
    }

    boolean tableBarOk = checkBar(device, "table", capability.tableBir(), warnings);
    boolean pbaBarOk = checkBar(device, "PBA", capability.pbaBir(), warnings);
    if (capability.tableBir() == capability.pbaBir()
        && overlaps(capability.tableOffset(), tableLength, capability.pbaOffset(), pbaLength)) {
      warnings.add(
          "table "
              + span(capability.tableOffset(), tableLength)
              + " and PBA "
              + span(capability.pbaOffset(), pbaLength)
              + " overlap in BAR "
              + capability.tableBir());
    }
    if (tableBarOk) {
      checkFit(
          device, "table", capability.tableBir(), capability.tableOffset(), tableLength, warnings);
    }
    if (pbaBarOk) {
      checkFit(device, "PBA", capability.pbaBir(), capability.pbaOffset(), pbaLength, warnings);
    }
    List<VirtioPciCap> virtio = VirtioPciCap.readAll(device);
    if (device.vendorId() == VirtioPciCap.VENDOR_ID_VIRTIO) {
      checkVirtioSharing(
          virtio, "table", capability.tableBir(), capability.tableOffset(), tableLength, warnings);
      checkVirtioSharing(
          virtio, "PBA", capability.pbaBir(), capability.pbaOffset(), pbaLength, warnings);
    } else {
      checkPageSharing(device, capability, "table", true, tableBarOk, warnings);
      checkPageSharing(device, capability, "PBA", false, pbaBarOk, warnings);
    }
    return new MsixLayout(capability, table, pba, pbaSizing, warnings);
  }

  /**
   * A region with its address but no frames yet, or an unusable one: its BAR reads 0, or the
   * address arithmetic leaves {@code [0, 2^64)} or a 32-bit BAR's 4 GiB (a warning then).
   */
  private static MsixRegion region(
      PciDevice device,
      String what,
      int bir,
      long bar,
      long offset,
      long length,
      long checkedLength,
      List<String> warnings) {
    MsixRegion unusable = new MsixRegion(bir, offset, length, false, 0, 0, 0);
    if (bar == 0) {
      return unusable;
    }
    Optional<String> problem =
        MsixTableDescriptor.unusableReason(
            bar, PciMemBar.isMem32(device.config(), bir), offset, checkedLength);
    if (problem.isPresent()) {
      warnings.add(what + " unusable: " + problem.get() + "; no frames are protected");
      return unusable;
    }
    return new MsixRegion(bir, offset, length, true, bar + offset, 0, 0);
  }

  private static long barAddress(PciDevice device, int bir) {
    return PciMemBar.readPciMemBar(device.config(), bir, BarReadMode.CORRECTED);
  }

  /** Checks the BAR a BIR names; true if it is a memory BAR worth checking further. */
  private static boolean checkBar(PciDevice device, String what, int bir, List<String> warnings) {
    int limit = device.barLimit();
    String prefix = what + " BIR " + bir;
    if (bir >= limit) {
      warnings.add(
          limit == 0
              ? prefix + ": header type " + hex(device.headerType()) + " has no BARs"
              : prefix
                  + " is beyond the "
                  + limit
                  + " BARs of header type "
                  + hex(device.headerType()));
      return false;
    }
    if (device.isUpperHalf(bir)) {
      warnings.add(prefix + " names the upper half of 64-bit BAR " + (bir - 1));
      return false;
    }
    if (!device.hasBar(bir)) {
      warnings.add(prefix + " names BAR " + bir + ", which reads 0 (unimplemented or unassigned)");
      return false;
    }
    Bar bar = device.bar(bir);
    if (bar.kind() == BarKind.IO) {
      warnings.add(prefix + " names I/O BAR " + bir);
      return false;
    }
    if (!bar.valid()) {
      warnings.add(prefix + " names 64-bit BAR " + bir + " in the last slot, which is invalid");
      return false;
    }
    if (bar.address() == 0) {
      warnings.add(prefix + " names BAR " + bir + ", which is unassigned (address 0)");
      return true;
    }
    return true;
  }

  private static void checkFit(
      PciDevice device, String what, int bir, long offset, long length, List<String> warnings) {
    long size = device.barSize(bir);
    if (size == Bar.SIZE_UNKNOWN) {
      return;
    }
    if (Long.compareUnsigned(offset, size) >= 0
        || Long.compareUnsigned(length, size - offset) > 0) {
      warnings.add(
          what
              + " "
              + span(offset, length)
              + " does not fit BAR "
              + bir
              + " of "
              + hex(size)
              + " bytes");
    }
  }

  private static void checkVirtioSharing(
      List<VirtioPciCap> blocks,
      String what,
      int bir,
      long offset,
      long length,
      List<String> warnings) {
    long firstPage = offset & ~(MsixTableDescriptor.PAGE_SIZE - 1L);
    long lastPage = (offset + length - 1) | (MsixTableDescriptor.PAGE_SIZE - 1L);
    for (VirtioPciCap block : blocks) {
      if (!block.isRegisterBlock() || block.bar() != bir || block.length() == 0) {
        continue;
      }
      if (overlaps(firstPage, lastPage - firstPage + 1, block.offset(), block.length())) {
        warnings.add(
            "virtio "
                + block.name()
                + " registers "
                + span(block.offset(), block.length())
                + " (capability at "
                + hex(block.capOffset())
                + ") share a page with the "
                + what
                + " in BAR "
                + bir
                + ": they become read-only");
      }
    }
  }

  /**
   * Reports the bytes of a region's pages, within its BAR, that are neither table nor PBA:
   * registers there, if any, are write-protected with the region.
   */
  private static void checkPageSharing(
      PciDevice device,
      MsixCapability capability,
      String what,
      boolean isTable,
      boolean barOk,
      List<String> warnings) {
    if (!barOk) {
      return;
    }
    int entries = capability.tableSize();
    int bir = isTable ? capability.tableBir() : capability.pbaBir();
    long offset = isTable ? capability.tableOffset() : capability.pbaOffset();
    long length =
        isTable ? MsixTableDescriptor.tableLength(entries) : PbaSizing.CORRECTED.bytes(entries);
    long size = device.barSize(bir);
    if (size != Bar.SIZE_UNKNOWN && size < MsixTableDescriptor.PAGE_SIZE) {
      warnings.add(
          what
              + " is in BAR "
              + bir
              + " of "
              + hex(size)
              + " bytes, smaller than a page: the rest of its page is outside the BAR and may hold"
              + " other devices' registers");
      return;
    }
    long pageMask = MsixTableDescriptor.PAGE_SIZE - 1L;
    long first = offset & ~pageMask;
    long last = (offset + length - 1) | pageMask;
    if (size != Bar.SIZE_UNKNOWN && Long.compareUnsigned(last, size - 1) > 0) {
      last = size - 1;
    }
    if (Long.compareUnsigned(first, last) > 0) {
      return;
    }
    if (!isTable && capability.tableBir() == bir) {
      // The PBA's pages are all table pages: the table's warning already counted them.
      long tableFirst = capability.tableOffset() & ~pageMask;
      long tableLast =
          (capability.tableOffset() + MsixTableDescriptor.tableLength(entries) - 1) | pageMask;
      if (first >= tableFirst && last <= tableLast) {
        return;
      }
    }
    long span = last - first + 1;
    long covered = overlap(first, last, offset, offset + length - 1);
    if (capability.tableBir() == capability.pbaBir()) {
      long otherOffset = isTable ? capability.pbaOffset() : capability.tableOffset();
      long otherLength =
          isTable ? PbaSizing.CORRECTED.bytes(entries) : MsixTableDescriptor.tableLength(entries);
      long other = overlap(first, last, otherOffset, otherOffset + otherLength - 1);
      long both =
          overlap(
              Math.max(first, offset),
              Math.min(last, offset + length - 1),
              otherOffset,
              otherOffset + otherLength - 1);
      covered += other - both;
    }
    long rest = span - covered;
    if (rest > 0) {
      warnings.add(
          "the page"
              + (span > MsixTableDescriptor.PAGE_SIZE ? "s" : "")
              + " of the "
              + what
              + " ("
              + span(first, span)
              + " of BAR "
              + bir
              + (span > MsixTableDescriptor.PAGE_SIZE ? ") also hold " : ") also holds ")
              + hex(rest)
              + " bytes that are neither table nor PBA: registers there, if any, become read-only");
    }
  }

  /**
   * Bytes of {@code [a1, a2]} inside {@code [b1, b2]}, inclusive, unsigned-safe for BAR offsets.
   */
  private static long overlap(long a1, long a2, long b1, long b2) {
    long lo = Math.max(a1, b1);
    long hi = Math.min(a2, b2);
    return hi < lo ? 0 : hi - lo + 1;
  }

  /** Whether two non-empty byte ranges overlap, unsigned, their ends saturating at 2^64 - 1. */
  private static boolean overlaps(long offsetA, long lengthA, long offsetB, long lengthB) {
    return Long.compareUnsigned(offsetA, lastByte(offsetB, lengthB)) <= 0
        && Long.compareUnsigned(offsetB, lastByte(offsetA, lengthA)) <= 0;
  }

  /** The last byte of a non-empty range, {@code 2^64 - 1} if it would wrap. */
  private static long lastByte(long offset, long length) {
    long last = offset + (length - 1);
    return Long.compareUnsigned(last, offset) < 0 ? -1L : last;
  }

  private static String span(long offset, long length) {
    return "[" + hex(offset) + ", " + hex(lastByte(offset, length)) + "]";
  }

  private static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }
}
