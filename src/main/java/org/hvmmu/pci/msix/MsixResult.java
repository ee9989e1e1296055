package org.hvmmu.pci.msix;

import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;

/**
 * What one MSI-X operation of {@link MsixDevice} did: Xen's return value, the first error of the
 * range-set writes (which Xen only {@code WARN}s about), and the domain it crashed, if any.
 *
 * <table>
 *   <caption>Return values</caption>
 *   <tr><th>{@link #rc()}</th><th>when</th></tr>
 *   <tr><td>0</td><td>done (even when a range-set write failed: see {@link #rangesetRc()})</td></tr>
 *   <tr><td>{@code -Errno.EINVAL}</td><td>enable: the entry is not below the table size</td></tr>
 *   <tr><td>{@code -Errno.EEXIST}</td><td>enable: the entry is already enabled</td></tr>
 *   <tr><td>{@code -Errno.ENXIO}</td><td>the table's BAR reads 0 and there is no caller
 *       base; or, under {@link MsixSwitches#checkedRegionArithmetic()}, the table or PBA is
 *       unusable ({@link MsixTableDescriptor#unusableReason})</td></tr>
 *   <tr><td>{@code -Errno.ENODATA}</td><td>an untrusted first set-up of a device never
 *       prepared</td></tr>
 *   <tr><td>{@code -Errno.EBUSY}</td><td>prepare with entries in use, release of a device not
 *       prepared</td></tr>
 *   <tr><td>{@code -Errno.ENOSYS}</td><td>prepare and release under switches without them</td></tr>
 * </table>
 *
 * <p>{@code domain_crash} does not fail the call in Xen: {@link #rc()} is 0 and {@link
 * #crashedDomain()} names the domain.
 *
 * @param rc 0 or a negated {@link Errno} value, as Xen returns it
 * @param rangesetRc 0, or the first non-zero result of adding or removing the table or PBA frames
 *     ({@code -Errno.ENOMEM} at the set's limit; {@code -Errno.ENOENT} when an ownership-aware
 *     registry was asked to remove frames the device does not hold; {@code -Errno.EINVAL} when
 *     Xen's wrapping arithmetic gave a last frame below the first, which is not added)
 * @param crashedDomain the domain {@code domain_crash} was called on, or {@link
 *     DomainIds#DOMID_INVALID}
 */
public record MsixResult(int rc, int rangesetRc, int crashedDomain) {
  /** Success with nothing to report. */
  public static final MsixResult OK = new MsixResult(0, 0, DomainIds.DOMID_INVALID);

  /**
   * A plain error.
   *
   * @param rc a negated errno value
   * @return the result
   */
  static MsixResult error(int rc) {
    return new MsixResult(rc, 0, DomainIds.DOMID_INVALID);
  }

  /**
   * Whether a domain was crashed.
   *
   * @return whether {@link #crashedDomain()} names one
   */
  public boolean domainCrashed() {
    return crashedDomain != DomainIds.DOMID_INVALID;
  }

  /**
   * For example {@code "0"}, {@code "-ENODATA"} or {@code "0 (rangeset -ENOMEM, domain_crash(d1))"}.
   *
   * @return a short description
   */
  @Override
  public String toString() {
    String base = rc == 0 ? "0" : "-" + Errno.name(rc);
    if (rangesetRc == 0 && !domainCrashed()) {
      return base;
    }
    StringBuilder out = new StringBuilder(base).append(" (");
    if (rangesetRc != 0) {
      out.append("rangeset -").append(Errno.name(rangesetRc));
    }
    if (domainCrashed()) {
      out.append(rangesetRc != 0 ? ", " : "")
          .append("domain_crash(")
          .append(DomainIds.name(crashedDomain))
          .append(')');
    }
    return out.append(')').toString();
  }
}
