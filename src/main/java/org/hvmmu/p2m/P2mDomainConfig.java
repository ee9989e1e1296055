package org.hvmmu.p2m;

import java.util.Objects;

/**
 * The per-domain and per-host settings a p2m consults besides its switches, passed in rather than read
 * from globals.
 *
 * @param maxPage one more than the largest frame with a frame-table entry (Xen's {@code max_page}):
 *     {@code mfn_valid(mfn)} is {@code mfn < maxPage}. MMIO frames usually lie above it
 * @param ioreqClaimsWrite an ioreq server claims writes to ioreq_server pages ({@code
 *     XEN_DMOP_IOREQ_MEM_ACCESS_WRITE}), so those pages are mapped read-only
 * @param pmlEnabled EPT page-modification logging is on for the domain, so 4-KByte logdirty pages stay
 *     writable and only lose the dirty bit
 * @param execSuperpages the domain may execute from EPT superpages ({@code exec_sp}); without it x is
 *     cleared on superpages (CVE-2018-12207)
 * @param defaultAccess the access type new entries get ({@code p2m->default_access})
 */
public record P2mDomainConfig(
    long maxPage,
    boolean ioreqClaimsWrite,
    boolean pmlEnabled,
    boolean execSuperpages,
    P2mAccess defaultAccess) {

  /** A domain on a host with 4 GiB of RAM frames (max_page 0x100000), no ioreq claim, no PML. */
  public static final P2mDomainConfig DEFAULT =
      new P2mDomainConfig(0x10_0000L, false, false, true, P2mAccess.RWX);

  /**
   * Checks the values.
   *
   * @param maxPage as the record component, not negative
   * @param ioreqClaimsWrite as the record component
   * @param pmlEnabled as the record component
   * @param execSuperpages as the record component
   * @param defaultAccess as the record component, not null
   * @throws IllegalArgumentException if {@code maxPage} is negative
   */
  public P2mDomainConfig {
    if (maxPage < 0) {
      throw new IllegalArgumentException(
          "maxPage: 0x" + Long.toHexString(maxPage) + " (expected: >= 0)");
    }
    Objects.requireNonNull(defaultAccess, "defaultAccess");
  }

  /**
   * Xen's {@code mfn_valid}: whether the frame has a frame-table entry.
   *
   * @param mfn a frame number
   * @return {@code 0 <= mfn < maxPage}
   */
  public boolean mfnValid(long mfn) {
    return mfn >= 0 && mfn < maxPage;
  }
}
