package org.hvmmu.mmu;

/** The second dimension of translation, if any. */
public enum NestedPaging {
  /** No nested paging: the guest's physical addresses are host-physical. */
  NONE,
  /** Intel EPT: guest-physical addresses go through the EPT paging structures the EPTP names. */
  EPT,
  /** AMD NPT: guest-physical addresses go through legacy-format tables from the nested CR3. */
  NPT
}
