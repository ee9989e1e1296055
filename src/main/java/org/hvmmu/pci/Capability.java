package org.hvmmu.pci;

/**
 * One capability found on a function's capability chain.
 *
 * @param extended whether this is a PCI Express extended capability (offsets 0x100 and up, 16-bit
 *     IDs) rather than a standard one (offsets 0x40 to 0xfc, 8-bit IDs)
 * @param id the capability ID, for example {@link PciRegs#CAP_ID_MSIX} or {@link
 *     PciRegs#EXT_CAP_ID_SRIOV}
 * @param version the extended capability version (bits 19:16 of its header); 0 for standard ones
 * @param offset the dword-aligned offset of the capability's header
 */
public record Capability(boolean extended, int id, int version, int offset) {
  /**
   * Validates the fields.
   *
   * @param extended see {@link #extended()}
   * @param id see {@link #id()}
   * @param version see {@link #version()}
   * @param offset see {@link #offset()}
   * @throws IllegalArgumentException if the offset is not dword-aligned inside its space, or the ID
   *     does not fit its width
   */
  public Capability {
    int lo = extended ? PciRegs.EXT_CAP_START : PciRegs.STD_HEADER_END;
    int hi = extended ? ConfigSpace.EXTENDED_SIZE - 4 : ConfigSpace.CONVENTIONAL_SIZE - 4;
    if (offset < lo || offset > hi || (offset & 3) != 0) {
      throw new IllegalArgumentException(
          "capability offset 0x" + Integer.toHexString(offset) + " not a dword in its space");
    }
    if (id < 0 || id > (extended ? 0xffff : 0xff)) {
      throw new IllegalArgumentException(
          "capability ID 0x" + Integer.toHexString(id) + " too wide");
    }
    if (version < 0 || version > 0xf || (!extended && version != 0)) {
      throw new IllegalArgumentException(
          "capability version 0x" + Integer.toHexString(version) + " invalid");
    }
  }

  /**
   * For example {@code "cap 0x11 @0x70"} or {@code "ext-cap 0x10 v1 @0x160"}.
   *
   * @return a short description in hex
   */
  @Override
  public String toString() {
    return extended
        ? "ext-cap 0x"
            + Integer.toHexString(id)
            + " v"
            + version
            + " @0x"
            + Integer.toHexString(offset)
        : "cap 0x" + Integer.toHexString(id) + " @0x" + Integer.toHexString(offset);
  }
}
