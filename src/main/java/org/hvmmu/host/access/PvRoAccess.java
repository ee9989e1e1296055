package org.hvmmu.host.access;

/**
 * A PV guest's store to a frame in {@code mmio_ro_ranges} through a read-only mapping: the #PF
 * (error code P and W, neither RSVD nor I/D) as {@code fixup_page_fault} ({@code
 * arch/x86/traps.c}), {@code pv_ro_page_fault} and {@code mmio_ro_do_page_fault} ({@code
 * arch/x86/pv/ro-page-fault.c}) decide it, read at RELEASE-4.22.0, and at RELEASE-4.1.0 for the
 * seed (reference {@code msix-emulation.md} section 1). Pure: primitives in, a constant out.
 */
public final class PvRoAccess {
  /** Offset of Message Control in the MSI-X capability. */
  private static final int MSIX_CONTROL = 2;

  /** Length of the MSI-X capability: up to and including the PBA offset register. */
  private static final int MSIX_CAPABILITY_LENGTH = 12;

  /** First config register the MSI hooks look at ({@code pci_conf_write_intercept}). */
  private static final int MSI_HOOKS_FIRST = 64;

  /** First config register past the ones the MSI hooks look at. */
  private static final int MSI_HOOKS_END = 256;

  private PvRoAccess() {}

  /**
   * The decision for a store that faulted on a present, read-only mapping of a frame in {@code
   * mmio_ro_ranges}.
   *
   * @param s the era's switches
   * @param hardwareDomain whether the domain is the hardware domain (dom0)
   * @param kernelMode whether the guest was in kernel mode ({@code guest_kernel_mode}: for a
   *     64-bit PV guest Xen's flag, not the processor's CPL, which is 3 for the kernel too)
   * @param mmcfg whether the frame lies in an MMCFG window for a function not in {@code ro_map}
   *     ({@code pci_ro_mmcfg_decode})
   * @param msixCapability for an MMCFG frame, the config-space offset of the MSI-X capability of
   *     the function the address names if Xen has set MSI-X up for it ({@code pdev->msix}), else 0
   * @param insn the instruction's class
   * @param address the linear address the instruction stores to
   * @param bytes how many bytes it stores at once (an element for {@code stos})
   * @param cr2 the faulting address the processor reported
   * @return the reason, whose {@link AccessReason#outcome()} is the outcome
   */
  public static AccessReason write(RoMmioSwitches s, boolean hardwareDomain, boolean kernelMode,
      boolean mmcfg, int msixCapability, InstructionClass insn, long address, int bytes,
      long cr2) {
    return write(s, hardwareDomain, kernelMode, mmcfg, msixCapability, insn, address, bytes, cr2,
        SubpageState.NONE);
  }

  /**
   * The decision for a store that faulted on a present, read-only mapping of a frame in {@code
   * mmio_ro_ranges} that may have a sub-page entry (Xen 4.20+, {@link SubpageAccess}).
   *
   * @param s the era's switches
   * @param hardwareDomain whether the domain is the hardware domain
   * @param kernelMode whether the guest was in kernel mode
   * @param mmcfg whether the frame lies in an MMCFG window
   * @param msixCapability the MSI-X capability's offset for an MMCFG frame, else 0
   * @param insn the instruction's class
   * @param address the linear address the instruction stores to
   * @param bytes how many bytes it stores at once
   * @param cr2 the faulting address
   * @param subpage the frame's sub-page state: Xen's at the store's start offset, or under {@link
   *     RoMmioSwitches#subpageOwnedBytes()} over every byte of the store, which then emulates any
   *     domain's store that touches no protected byte (not only the hardware domain's)
   * @return the reason
   */
  public static AccessReason write(RoMmioSwitches s, boolean hardwareDomain, boolean kernelMode,
      boolean mmcfg, int msixCapability, InstructionClass insn, long address, int bytes, long cr2,
      SubpageState subpage) {
    if (!kernelMode) {
      return AccessReason.PV_USER_MODE;
    }
    if (!hardwareDomain && !(s.subpageOwnedBytes() && subpage == SubpageState.WRITABLE_SLOT)) {
      // Hardened also performs another domain's store that touches no protected byte.
      return AccessReason.PV_NOT_HARDWARE_DOMAIN;
    }
    if (!s.pvMmioRoEmulation()) {
      return AccessReason.PV_NO_MMIO_RO_EMULATION;
    }
    if (insn == InstructionClass.UNEMULATED) {
      return AccessReason.PV_UNEMULATED;
    }
    if (insn.readsMemory()) {
      return AccessReason.PV_READ_UNHANDLEABLE;
    }
    boolean aligned = bytes > 0 && ((bytes | address) & (bytes - 1)) == 0;
    if (mmcfg && s.pvMmcfgIntercept()) {
      if (!aligned || bytes > 4 || address != cr2) {
        return AccessReason.MMCFG_BAD_WRITE;
      }
      return confWriteIntercept((int) (address & 0xFFF), bytes, msixCapability);
    }
    if (!aligned || address != cr2) {
      return AccessReason.MMIO_RO_BAD_ACCESS;
    }
    if (s.subpageRo() && subpage != SubpageState.NONE) {
      return SubpageAccess.emulateWrite(s, subpage, bytes);
    }
    return bytes <= 8 ? AccessReason.MMIO_RO_DROPPED : AccessReason.MMIO_RO_WIDE_DROPPED;
  }

  /**
   * {@code pci_conf_write_intercept} with {@code pci_msi_conf_write_intercept}'s MSI-X rule, for an
   * accepted MMCFG store: registers 64 to 255 inside the MSI-X capability's 12 bytes take only a
   * 2-byte write of Message Control; every other write there is vetoed (-EACCES) and dropped.
   * (The MSI capability's rules, for functions with per-vector masking, are not modelled.)
   *
   * @param reg the config register, 0 to 4095
   * @param bytes 1, 2 or 4
   * @param msixCapability the MSI-X capability's offset, or 0 when Xen has not set MSI-X up
   * @return {@link AccessReason#MMCFG_WRITTEN}, {@link AccessReason#MMCFG_MSIX_CONTROL} or {@link
   *     AccessReason#MMCFG_MSIX_VETO}
   */
  public static AccessReason confWriteIntercept(int reg, int bytes, int msixCapability) {
    if (reg < MSI_HOOKS_FIRST || reg >= MSI_HOOKS_END || msixCapability == 0
        || reg < msixCapability || reg >= msixCapability + MSIX_CAPABILITY_LENGTH) {
      return AccessReason.MMCFG_WRITTEN;
    }
    return reg == msixCapability + MSIX_CONTROL && bytes == 2
        ? AccessReason.MMCFG_MSIX_CONTROL : AccessReason.MMCFG_MSIX_VETO;
  }
}
