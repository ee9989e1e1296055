package org.hvmmu.host;

/**
 * How a guest's memory is translated, which decides whose entries can map a read-only frame writable.
 */
public enum PagingMode {
  /** A 64-bit PV guest: it writes its own L1 tables, validated by {@code get_page_from_l1e}. */
  PV,
  /** A 32-bit PAE PV guest on 64-bit Xen. */
  PV32,
  /**
   * A PV guest run in shadow reference-counting mode (Xen's {@code XEN_DOMCTL_SHADOW_ENABLE_REFCOUNT}):
   * not translated, so every frame has p2m type {@code ram_rw} and only {@code shadow_set_l1e}'s use
   * of the validator's verdict keeps read-only MMIO read-only.
   */
  PV_SHADOW,
  /** An HVM guest on Intel EPT. */
  HVM_EPT,
  /** An HVM guest on the generic p2m format (AMD NPT). */
  HVM_NPT,
  /** An HVM guest with shadow paging: shadow entries from its own entries and its p2m. */
  HVM_SHADOW;

  /**
   * Whether guest frame numbers go through a p2m ({@code paging_mode_translate}).
   *
   * @return true for the HVM modes
   */
  public boolean translated() {
    return this == HVM_EPT || this == HVM_NPT || this == HVM_SHADOW;
  }

  /**
   * Whether the guest's entries are shadowed.
   *
   * @return true for the shadow modes
   */
  public boolean shadowed() {
    return this == PV_SHADOW || this == HVM_SHADOW;
  }

  /**
   * Whether the guest writes validated PV L1 tables.
   *
   * @return true for PV and PV32
   */
  public boolean pvTables() {
    return this == PV || this == PV32;
  }
}
