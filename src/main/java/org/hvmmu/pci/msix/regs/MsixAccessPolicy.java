package org.hvmmu.pci.msix.regs;

import java.util.Objects;

/**
 * What an MSI-X register block does where the PCI specification leaves the result undefined
 * (reference §6 and §10 item 4), as named switches, with one preset per anchor of the reference's
 * cross-anchor matrix (§9). Every anchor drops a table write smaller than a DWORD (or the pieces of
 * a misaligned one), so that is not a switch; it is counted ({@link
 * MsixRegisters#undefinedAccesses()}).
 *
 * <p>{@link #PCI_SPEC} is the default: it is what a conforming function may do that is also the
 * worst case for the protection hvmmu models, so that a guest store which reaches the table is never
 * hidden by a cache. The other presets are the emulators the reference compares.
 *
 * @param subDwordRead what a 1- or 2-byte read of the table or PBA returns ("software must use
 *     aligned full DWORD or aligned full QWORD transactions; otherwise, the result is undefined",
 *     PCI Local Bus 3.0 §6.8.2 as Xen 7a502b4fbc quotes it)
 * @param vectorControlReserved whether Vector Control bits 31:1 keep what was written or read 0
 *     (PCIe Base §7.7.2: reserved)
 * @param unmaskedUpdate when an address/data write to an unmasked entry takes effect ("If software
 *     changes the Address or Data value of an entry while the entry is unmasked, the result is
 *     undefined", PCI 3.0 §6.8.3.5 as Xen 07edcd17fa cites it)
 * @param pbaWrite what a write to the PBA does (undefined; the PBA is read-only)
 * @param disabledFire what a vector fired while MSI-X Enable is clear does
 * @param extendedDestinationId whether delivered messages are decoded with address bits 11:5 as APIC
 *     ID bits 14:8 ({@link MsiInterrupt#decode})
 */
public record MsixAccessPolicy(
    SubDwordRead subDwordRead,
    ReservedBits vectorControlReserved,
    UnmaskedUpdate unmaskedUpdate,
    PbaWrite pbaWrite,
    DisabledFire disabledFire,
    boolean extendedDestinationId) {

  /** What a 1- or 2-byte read of the table or PBA returns. */
  public enum SubDwordRead {
    /** 0 (QEMU's memory core rejects the size: {@code unassigned_mem_read}). */
    ZERO,
    /** All ones in the bytes read (Xen vPCI ~0; cloud-hypervisor 0xFF fill; a PCIe UR). */
    ALL_ONES
  }

  /** Vector Control bits 31:1. */
  public enum ReservedBits {
    /** Stored as written and read back (QEMU, cloud-hypervisor store the raw dword). */
    KEEP,
    /** Dropped on write, read as 0 (Xen msixtbl and vPCI; PCIe RsvdP reads 0). */
    READ_ZERO
  }

  /** An address or data write to an unmasked entry. */
  public enum UnmaskedUpdate {
    /** Used by the next message (QEMU {@code msix_notify} reads the table at send time; CH). */
    IMMEDIATE,
    /**
     * Ignored until the entry's next unmask: the function cached address/data at unmask (Xen vPCI;
     * msixtbl defers to the device model at unmask).
     */
    AT_NEXT_UNMASK
  }

  /** A write to the PBA. */
  public enum PbaWrite {
    /** Dropped (QEMU since 43b11a91dd, CH, Xen 4.21+, vPCI for a domU). */
    DROP,
    /** Reaches the pending bits (vfio's read/write path does not exclude the PBA; hwdom vPCI). */
    STORE
  }

  /** A vector fired while MSI-X Enable is clear. */
  public enum DisabledFire {
    /** The Pending bit is set; enabling later sends it (QEMU: function masked = !ENABLE). */
    SET_PENDING,
    /** Nothing is sent or recorded (the AMD QDMA PG302 outcome table: no PBA bit). */
    DROP
  }

  /**
   * The default: all ones for sub-DWORD reads, reserved bits read 0, address/data used at once, PBA
   * writes dropped, nothing recorded while disabled ("when clear the function may not use MSI-X"),
   * no extended destination ID (SDM: address bits 11:5 reserved).
   */
  public static final MsixAccessPolicy PCI_SPEC = new MsixAccessPolicy(SubDwordRead.ALL_ONES,
      ReservedBits.READ_ZERO, UnmaskedUpdate.IMMEDIATE, PbaWrite.DROP, DisabledFire.DROP, false);

  /**
   * Xen msixtbl with QEMU behind it (HVM passthrough, §2.3): only the mask bit is visible in Vector
   * Control, address/data changes reach the interrupt binding at the next unmask, PBA writes are
   * discarded (4.21+), the device model's answer to an odd-sized read is taken as all ones, and Xen
   * advertises the extended destination ID.
   */
  public static final MsixAccessPolicy XEN_MSIXTBL = new MsixAccessPolicy(SubDwordRead.ALL_ONES,
      ReservedBits.READ_ZERO, UnmaskedUpdate.AT_NEXT_UNMASK, PbaWrite.DROP,
      DisabledFire.SET_PENDING, true);

  /** Xen vPCI (§2.5): ~0 for sub-DWORD reads, reserved bits 0, deferred to the next unmask. */
  public static final MsixAccessPolicy XEN_VPCI = new MsixAccessPolicy(SubDwordRead.ALL_ONES,
      ReservedBits.READ_ZERO, UnmaskedUpdate.AT_NEXT_UNMASK, PbaWrite.DROP,
      DisabledFire.SET_PENDING, true);

  /** QEMU {@code hw/pci/msix.c} (§3.1): 0 for rejected reads, raw dwords, immediate. */
  public static final MsixAccessPolicy QEMU = new MsixAccessPolicy(SubDwordRead.ZERO,
      ReservedBits.KEEP, UnmaskedUpdate.IMMEDIATE, PbaWrite.DROP, DisabledFire.SET_PENDING, true);

  /** cloud-hypervisor {@code msix.rs} (§5): 0xFF fill, raw, immediate re-route, PBA write dropped. */
  public static final MsixAccessPolicy CLOUD_HYPERVISOR = new MsixAccessPolicy(
      SubDwordRead.ALL_ONES, ReservedBits.KEEP, UnmaskedUpdate.IMMEDIATE, PbaWrite.DROP,
      DisabledFire.SET_PENDING, false);

  /**
   * Checks the switches.
   *
   * @param subDwordRead see the record description
   * @param vectorControlReserved see the record description
   * @param unmaskedUpdate see the record description
   * @param pbaWrite see the record description
   * @param disabledFire see the record description
   * @param extendedDestinationId see the record description
   * @throws NullPointerException if a switch is null
   */
  public MsixAccessPolicy {
    Objects.requireNonNull(subDwordRead, "subDwordRead");
    Objects.requireNonNull(vectorControlReserved, "vectorControlReserved");
    Objects.requireNonNull(unmaskedUpdate, "unmaskedUpdate");
    Objects.requireNonNull(pbaWrite, "pbaWrite");
    Objects.requireNonNull(disabledFire, "disabledFire");
  }

  /**
   * This policy with another PBA write rule.
   *
   * @param value the rule
   * @return a copy
   */
  public MsixAccessPolicy withPbaWrite(PbaWrite value) {
    return new MsixAccessPolicy(subDwordRead, vectorControlReserved, unmaskedUpdate, value,
        disabledFire, extendedDestinationId);
  }

  /**
   * This policy with another rule for address/data writes to unmasked entries.
   *
   * @param value the rule
   * @return a copy
   */
  public MsixAccessPolicy withUnmaskedUpdate(UnmaskedUpdate value) {
    return new MsixAccessPolicy(subDwordRead, vectorControlReserved, value, pbaWrite,
        disabledFire, extendedDestinationId);
  }
}
