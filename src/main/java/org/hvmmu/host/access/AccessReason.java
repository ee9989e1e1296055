package org.hvmmu.host.access;

import static org.hvmmu.host.access.AccessOutcome.DOMAIN_CRASHED;
import static org.hvmmu.host.access.AccessOutcome.DROPPED_LOGGED;
import static org.hvmmu.host.access.AccessOutcome.DROPPED_SILENT;
import static org.hvmmu.host.access.AccessOutcome.FORWARDED_TO_DM;
import static org.hvmmu.host.access.AccessOutcome.GP_INJECTED;
import static org.hvmmu.host.access.AccessOutcome.PERFORMED;
import static org.hvmmu.host.access.AccessOutcome.PF_INJECTED;
import static org.hvmmu.host.access.AccessOutcome.READ_ALL_ONES;
import static org.hvmmu.host.access.AccessOutcome.READ_FROM_DEVICE;
import static org.hvmmu.host.access.AccessOutcome.READ_FROM_SHADOW;
import static org.hvmmu.host.access.AccessOutcome.REFAULT_LOOP;

/**
 * Why an access to a protected page came to its {@link AccessOutcome}: the Xen function that
 * decided it and its source file (paths under {@code xen/}), so that a decision carries its
 * provenance without allocating. The decisions are {@link PvRoAccess}, {@link HapRoAccess}, {@link
 * ShadowRoAccess} and {@link MsixtblAccess}.
 */
public enum AccessReason {
  // ---- PV ---------------------------------------------------------------------------------------

  /** The guest was in user mode: {@code fixup_page_fault} emulates kernel-mode writes only. */
  PV_USER_MODE(PF_INJECTED, "fixup_page_fault", "arch/x86/traps.c"),
  /**
   * Not the hardware domain: {@code pv_ro_page_fault} tries the page-table emulator, which finds no
   * L1 table behind the frame (UNHANDLEABLE); the #PF goes to the guest.
   */
  PV_NOT_HARDWARE_DOMAIN(PF_INJECTED, "ptwr_do_page_fault", "arch/x86/pv/ro-page-fault.c"),
  /**
   * Before {@code mmio_ro_do_page_fault} existed (56b3130c1a, 4.2): even the hardware domain's
   * kernel write reaches only the page-table emulator, which refuses it (the seed's Xen 4.0/4.1).
   */
  PV_NO_MMIO_RO_EMULATION(PF_INJECTED, "ptwr_do_page_fault", "arch/x86/mm.c"),
  /**
   * The instruction reads memory (read-modify-write, locked, {@code movs}); both r/o MMIO op
   * tables read with {@code x86emul_unhandleable_rw}, so emulation fails and the #PF goes back.
   */
  PV_READ_UNHANDLEABLE(PF_INJECTED, "x86emul_unhandleable_rw", "arch/x86/pv/ro-page-fault.c"),
  /** {@code x86_emulate} cannot emulate the instruction (UNHANDLEABLE): the #PF goes back. */
  PV_UNEMULATED(PF_INJECTED, "x86_emulate", "arch/x86/x86_emulate/x86_emulate.c"),
  /**
   * Not a non-zero naturally aligned store at exactly %cr2: logged as "bad access", UNHANDLEABLE,
   * the #PF goes to the guest.
   */
  MMIO_RO_BAD_ACCESS(PF_INJECTED, "mmio_ro_emulated_write", "arch/x86/pv/ro-page-fault.c"),
  /**
   * An aligned store of at most 8 bytes at %cr2, no sub-page entry for the frame: {@code
   * subpage_mmio_write_emulate} ignores it; OKAY, the instruction retires.
   */
  MMIO_RO_DROPPED(DROPPED_SILENT, "mmio_ro_emulated_write", "arch/x86/pv/ro-page-fault.c"),
  /** An aligned store wider than 8 bytes, no sub-page entry: dropped unlogged, OKAY. */
  MMIO_RO_WIDE_DROPPED(DROPPED_SILENT, "mmio_ro_emulated_write", "arch/x86/pv/ro-page-fault.c"),
  /**
   * An aligned store wider than 8 bytes to a frame with a sub-page entry (4.21+): logged as
   * "unsupported N-byte write" and dropped, OKAY.
   */
  MMIO_RO_WIDE_LOGGED(DROPPED_LOGGED, "mmio_ro_emulated_write", "arch/x86/pv/ro-page-fault.c"),
  /** The start offset's 8-byte slot is read-only: "ignoring write to R/O MMIO", OKAY. */
  SUBPAGE_IGNORED(DROPPED_LOGGED, "subpage_mmio_write_emulate", "arch/x86/mm.c"),
  /** The slot is writable: the store goes to the device at its offset ({@code write_mmio}). */
  SUBPAGE_WRITTEN(PERFORMED, "subpage_mmio_write_emulate", "arch/x86/mm.c"),
  /**
   * 4.20's defect (fixed by 38d0780979, 4.21): the writable slot's store goes to the device at the
   * page's offset 0, not at its own.
   */
  SUBPAGE_WRITTEN_AT_PAGE_START(PERFORMED, "subpage_mmio_write_emulate", "arch/x86/mm.c"),
  /**
   * 4.20's defect (fixed by 8dbd9966f8, 4.21): a store wider than 8 bytes reaches the size switch's
   * {@code ASSERT_UNREACHABLE} (a hypervisor crash in debug builds; logged and ignored in release
   * builds, which this reason models).
   */
  SUBPAGE_SIZE_ASSERT(DROPPED_LOGGED, "subpage_mmio_write_emulate", "arch/x86/mm.c"),
  /** The HVM sub-page handler's load: a valid one reads the device ({@code read_mmio}). */
  SUBPAGE_READ(READ_FROM_DEVICE, "subpage_mmio_read", "arch/x86/hvm/mmio.c"),
  /** An invalid load (length 0, above 8, not a power of two, misaligned): ~0, logged. */
  SUBPAGE_READ_INVALID(READ_ALL_ONES, "subpage_mmio_read", "arch/x86/hvm/mmio.c"),
  /** An invalid store: "ignoring write to r/o MMIO subpage", OKAY. */
  SUBPAGE_WRITE_INVALID(DROPPED_LOGGED, "subpage_mmio_write", "arch/x86/hvm/mmio.c"),
  /**
   * An MMCFG store that is not a naturally aligned 1-, 2- or 4-byte store at exactly %cr2: logged
   * as "bad write", UNHANDLEABLE, the #PF goes to the guest.
   */
  MMCFG_BAD_WRITE(PF_INJECTED, "mmcfg_intercept_write", "arch/x86/pv/ro-page-fault.c"),
  /**
   * An MMCFG store outside the MSI and MSI-X capabilities' intercepted registers: {@code
   * pci_conf_write_intercept} lets it through and {@code pci_mmcfg_write} performs it.
   */
  MMCFG_WRITTEN(PERFORMED, "pci_conf_write_intercept", "arch/x86/pci.c"),
  /**
   * A 2-byte write of the MSI-X Message Control: allowed, {@code guest_maskall} recorded from bit
   * 14, MASKALL forced on while {@code host_maskall}; then performed.
   */
  MMCFG_MSIX_CONTROL(PERFORMED, "pci_msi_conf_write_intercept", "arch/x86/msi.c"),
  /**
   * Any other write into the MSI-X capability's 12 bytes: -EACCES, dropped without a word, and the
   * emulation still returns OKAY.
   */
  MMCFG_MSIX_VETO(DROPPED_SILENT, "pci_msi_conf_write_intercept", "arch/x86/msi.c"),

  // ---- HVM on EPT or NPT ------------------------------------------------------------------------

  /** A load from read-only {@code mmio_direct}: the entry is readable, no exit. */
  HAP_DIRECT_READ(READ_FROM_DEVICE, "ept_p2m_type_to_flags", "arch/x86/mm/p2m-ept.c"),
  /**
   * A store to read-only {@code mmio_direct} before 8f36bde2b2 (4.21): {@code
   * hvm_hap_nested_page_fault} does not handle it (returns 0) and {@code ept_handle_violation}
   * prints "EPT violation" and crashes the domain.
   */
  EPT_VIOLATION_CRASH(DOMAIN_CRASHED, "ept_handle_violation", "arch/x86/hvm/vmx/vmx.c"),
  /** The same on AMD: {@code svm_do_nested_pgfault} crashes the domain. */
  NPF_CRASH(DOMAIN_CRASHED, "svm_do_nested_pgfault", "arch/x86/hvm/svm/svm.c"),
  /**
   * The fault went to {@code handle_mmio_with_translation} and the emulator could not run the
   * instruction: {@code hvm_hap_nested_page_fault} injects #GP(0).
   */
  HANDLE_MMIO_FAILED(GP_INJECTED, "hvm_hap_nested_page_fault", "arch/x86/hvm/hvm.c"),
  /** No internal handler took the access and no ioreq server claims it: writes are discarded. */
  NULL_HANDLER_WRITE(DROPPED_SILENT, "null_write", "arch/x86/hvm/emulate.c"),
  /**
   * The same for a read-modify-write: its read half returns ~0 ({@code null_read}), not the
   * device's value, and its write is discarded.
   */
  NULL_HANDLER_RMW(DROPPED_SILENT, "null_read", "arch/x86/hvm/emulate.c"),
  /** No handler and no ioreq server: a load returns all ones. */
  NULL_HANDLER_READ(READ_ALL_ONES, "null_read", "arch/x86/hvm/emulate.c"),
  /** No internal handler completed the access: an ioreq goes to the device model. */
  IOREQ_TO_DM(FORWARDED_TO_DM, "hvmemul_do_io", "arch/x86/hvm/emulate.c"),

  // ---- shadow paging ----------------------------------------------------------------------------

  /**
   * A store to read-only {@code mmio_direct} under shadow paging: {@code _sh_propagate} strips RW
   * again, {@code sh_page_fault} neither emulates nor skips it ({@code mmio_direct} is neither
   * {@code p2m_mmio_dm} nor read-only) and returns "fixed"; the guest faults again for ever. Read
   * at RELEASE-4.1.0 and RELEASE-4.22.0 alike.
   */
  SHADOW_REFAULT(REFAULT_LOOP, "sh_page_fault", "arch/x86/mm/shadow/multi.c"),
  /** A load from read-only {@code mmio_direct} under shadow paging: the shadow entry is present. */
  SHADOW_DIRECT_READ(READ_FROM_DEVICE, "_sh_propagate", "arch/x86/mm/shadow/multi.c"),
  /**
   * Under shadow paging the emulator could not run the instruction: {@code sh_page_fault} returns
   * 0 ("not a shadow fault") and the #PF goes to the guest ({@code hvm_inject_page_fault}).
   */
  SHADOW_HANDLE_MMIO_FAILED(PF_INJECTED, "sh_page_fault", "arch/x86/mm/shadow/multi.c"),

  // ---- msixtbl (vmsi.c) -------------------------------------------------------------------------

  /**
   * {@code msixtbl_range} does not take the access (not on a registered table's page, or an entry
   * with no bound {@code msi_desc}): it goes on to the device model.
   */
  MSIXTBL_NOT_CLAIMED(FORWARDED_TO_DM, "msixtbl_range", "arch/x86/hvm/vmsi.c"),
  /** A load not aligned to its size: UNHANDLEABLE, the device model serves it. */
  MSIXTBL_READ_UNALIGNED(FORWARDED_TO_DM, "msixtbl_read", "arch/x86/hvm/vmsi.c"),
  /** A load in the table of a size msixtbl does not serve (not 4 or 8; the seed: not 4). */
  MSIXTBL_READ_SIZE(FORWARDED_TO_DM, "msixtbl_read", "arch/x86/hvm/vmsi.c"),
  /**
   * An address or data dword with no valid shadow (entry 3 or above, or not yet written): the
   * device model serves it.
   */
  MSIXTBL_READ_NO_SHADOW(FORWARDED_TO_DM, "msixtbl_read", "arch/x86/hvm/vmsi.c"),
  /** An address or data dword of entries 0 to 2 from Xen's shadow ({@code gentries}). */
  MSIXTBL_READ_SHADOW(READ_FROM_SHADOW, "msixtbl_read", "arch/x86/hvm/vmsi.c"),
  /** Vector Control: only bit 0, the guest's mask ({@code guest_masked}); other bits read 0. */
  MSIXTBL_READ_MASK_BIT(READ_FROM_SHADOW, "msixtbl_read", "arch/x86/hvm/vmsi.c"),
  /** The seed: Vector Control read raw from the device ({@code readl} through the fixmap). */
  MSIXTBL_READ_CONTROL_RAW(READ_FROM_DEVICE, "msixtbl_read", "arch/x86/hvm/vmsi.c"),
  /** A register sharing the table's first or last page: read from the device. */
  MSIXTBL_ADJACENT_READ(READ_FROM_DEVICE, "adjacent_read", "arch/x86/hvm/vmsi.c"),
  /** The same when that page has no fixmap: all ones, warned once. */
  MSIXTBL_ADJACENT_READ_UNMAPPED(READ_ALL_ONES, "adjacent_read", "arch/x86/hvm/vmsi.c"),
  /** A store not aligned to its size: ignored, OKAY, not forwarded. */
  MSIXTBL_WRITE_UNALIGNED(DROPPED_SILENT, "_msixtbl_write", "arch/x86/hvm/vmsi.c"),
  /** A store in the table of a size msixtbl ignores: the device model sees it. */
  MSIXTBL_WRITE_SIZE(FORWARDED_TO_DM, "msixtbl_write", "arch/x86/hvm/vmsi.c"),
  /**
   * An address or data dword: shadowed (entries 0 to 2) and the entry flagged in {@code
   * table_flags}; the device model performs it.
   */
  MSIXTBL_WRITE_ADDRESS_DATA(FORWARDED_TO_DM, "msixtbl_write", "arch/x86/hvm/vmsi.c"),
  /**
   * A Vector Control write of an entry whose address or data changed since: the flag is cleared and
   * the write left to the device model, which rebinds and then (today) has Xen replay the unmask
   * ({@code msix_write_completion}).
   */
  MSIXTBL_UNMASK_DEFERRED(FORWARDED_TO_DM, "msixtbl_write", "arch/x86/hvm/vmsi.c"),
  /**
   * A Vector Control write: bit 0 goes to the physical vector through {@code guest_mask_msi_irq}
   * (the device's mask is host OR guest); other bits never reach the device. From 4.19 the device
   * model sees the write too.
   */
  MSIXTBL_GUEST_MASK(PERFORMED, "guest_mask_msi_irq", "arch/x86/msi.c"),
  /** The seed: Vector Control written raw to the device ({@code writel}), reserved bits too. */
  MSIXTBL_WRITE_CONTROL_RAW(PERFORMED, "msixtbl_write", "arch/x86/hvm/vmsi.c"),
  /** A register sharing the table's page: written to the device ({@code adjacent_write}). */
  MSIXTBL_ADJACENT_WRITE(PERFORMED, "adjacent_write", "arch/x86/hvm/vmsi.c"),
  /**
   * The PBA shares that page, or the page has no fixmap: the write is discarded with a warning
   * (once per domain).
   */
  MSIXTBL_ADJACENT_WRITE_DISCARDED(DROPPED_LOGGED, "adjacent_write", "arch/x86/hvm/vmsi.c");

  private final AccessOutcome outcome;
  private final String function;
  private final String file;

  AccessReason(AccessOutcome outcome, String function, String file) {
    this.outcome = outcome;
    this.function = function;
    this.file = file;
  }

  /**
   * What the access came to.
   *
   * @return the outcome
   */
  public AccessOutcome outcome() {
    return outcome;
  }

  /**
   * The Xen function that decided it.
   *
   * @return a function name, e.g. {@code mmio_ro_emulated_write}
   */
  public String function() {
    return function;
  }

  /**
   * The source file of {@link #function()}, relative to {@code xen/}.
   *
   * @return a path
   */
  public String file() {
    return file;
  }

  /**
   * A small integer for the reason, 1 and up (0 means "no decision" where an int is returned).
   *
   * @return {@code ordinal() + 1}
   */
  public int code() {
    return ordinal() + 1;
  }

  /**
   * The reason with {@code code}.
   *
   * @param code 1 and up
   * @return the reason
   * @throws IllegalArgumentException for another code
   */
  public static AccessReason fromCode(int code) {
    AccessReason[] all = values();
    if (code < 1 || code > all.length) {
      throw new IllegalArgumentException("access reason code " + code + " (expected: 1 to "
          + all.length + ")");
    }
    return all[code - 1];
  }
}
