package org.hvmmu.mmu;

/** Whose processor is modelled, where Intel and AMD differ. */
public enum Vendor {
  /** Intel: EPT for nested paging; PML4E.G ignored. */
  INTEL,
  /** AMD: NPT for nested paging; PML4E bit 8 (G) is reserved (must be zero). */
  AMD
}
