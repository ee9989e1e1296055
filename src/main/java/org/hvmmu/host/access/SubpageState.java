package org.hvmmu.host.access;

/**
 * What Xen's sub-page read-only list ({@code subpage_mmio_ro_add}, Xen 4.20+, {@code
 * xen/arch/x86/mm.c}) says about the frame of an access and the 8-byte slot its start offset falls
 * in; Xen checks only that slot ({@code test_bit(offset / MMIO_RO_SUBPAGE_GRAN, ro_elems)}).
 */
public enum SubpageState {
  /** The frame has no sub-page entry: wholly read-only (MSI-X tables and PBAs). */
  NONE,
  /** The frame has an entry and the slot is writable. */
  WRITABLE_SLOT,
  /** The frame has an entry and the slot is read-only. */
  READ_ONLY_SLOT
}
