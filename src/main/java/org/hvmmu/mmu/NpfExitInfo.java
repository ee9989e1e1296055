package org.hvmmu.mmu;

/**
 * EXITINFO1 of an AMD nested page fault (#NPF, VMEXIT_NPF 0x400; AMD APM vol. 2 §15.25.6): the low
 * 32 bits are a #PF error code ({@link PageFaultErrorCode}) for the nested walk, in which every access
 * is a user access; bits 32 and 33 say which guest access faulted. EXITINFO2 is the guest-physical
 * address.
 */
public final class NpfExitInfo {
  private NpfExitInfo() {}

  /** Bit 32: the fault was on the final guest-physical address of the access. */
  public static final long FINAL_TRANSLATION = 1L << 32;

  /** Bit 33: the fault was on an access to a guest page table (the walk or its A/D update). */
  public static final long GUEST_PAGE_TABLE = 1L << 33;
}
