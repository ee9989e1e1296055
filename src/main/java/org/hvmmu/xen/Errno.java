package org.hvmmu.xen;

/**
 * Xen's public errno values that hvmmu returns, negated as Xen returns them ({@code -ENOMEM}).
 *
 * <p>The values are those of {@code xen/include/public/errno.h}, which follow the Linux numbering.
 *
 * <table>
 *   <caption>Values and where hvmmu returns them</caption>
 *   <tr><th>Name</th><th>Value</th><th>Returned by</th></tr>
 *   <tr><td>{@link #EPERM}</td><td>1</td><td>PV L1 validation: no I/O memory permission</td></tr>
 *   <tr><td>{@link #ENOENT}</td><td>2</td><td>owned range registrations: removing a registration
 *       the registrant does not hold</td></tr>
 *   <tr><td>{@link #ENXIO}</td><td>6</td><td>MSI-X set-up: the table's BAR reads 0 and the caller
 *       gave no table base</td></tr>
 *   <tr><td>{@link #ENOMEM}</td><td>12</td><td>range set add, remove, claim: the range limit is
 *       reached and a new range would be needed</td></tr>
 *   <tr><td>{@link #EACCES}</td><td>13</td><td>PV L1 validation: a cache attribute change of a Xen
 *       heap page</td></tr>
 *   <tr><td>{@link #EEXIST}</td><td>17</td><td>MSI-X enable: the entry is already enabled</td></tr>
 *   <tr><td>{@link #EBUSY}</td><td>16</td><td>PV L1 validation: the frame cannot be referenced or
 *       typed ("could not pin")</td></tr>
 *   <tr><td>{@link #EINVAL}</td><td>22</td><td>PV L1 validation: disallowed flags, or the invalid-MFN
 *       pattern without permission</td></tr>
 *   <tr><td>{@link #ENOSPC}</td><td>28</td><td>range set claim: no gap is large enough</td></tr>
 *   <tr><td>{@link #ENOSYS}</td><td>38</td><td>PHYSDEVOP_prepare_msix / release_msix under switches
 *       that predate them (2010)</td></tr>
 *   <tr><td>{@link #ENODATA}</td><td>61</td><td>MSI-X set-up from an untrusted context without a
 *       prior prepare</td></tr>
 *   <tr><td>{@link #ERESTART}</td><td>85</td><td>range set consume callbacks asking to be called
 *       again</td></tr>
 *   <tr><td>{@link #EOPNOTSUPP}</td><td>95</td><td>byte-granular protection under a policy that has
 *       none (only hardened has it)</td></tr>
 * </table>
 */
public final class Errno {
  /** Operation not permitted. */
  public static final int EPERM = 1;

  /** No such entry. */
  public static final int ENOENT = 2;

  /** No such device or address. */
  public static final int ENXIO = 6;

  /** Out of memory: the range limit is reached. */
  public static final int ENOMEM = 12;

  /** Permission denied. */
  public static final int EACCES = 13;

  /** Device or resource busy. */
  public static final int EBUSY = 16;

  /** Already exists. */
  public static final int EEXIST = 17;

  /** Invalid argument. */
  public static final int EINVAL = 22;

  /** No space left: no gap of the requested size. */
  public static final int ENOSPC = 28;

  /** Function not implemented. */
  public static final int ENOSYS = 38;

  /** No data available. */
  public static final int ENODATA = 61;

  /** Illegal byte sequence; Xen's {@code subpage_mmio_ro_add} returns it after boot. */
  public static final int EILSEQ = 84;

  /** Xen's "restart the hypercall" code, used by consume callbacks for preemption. */
  public static final int ERESTART = 85;

  /** Operation not supported on transport endpoint (Xen's public errno 95). */
  public static final int EOPNOTSUPP = 95;

  private Errno() {}

  /**
   * The symbolic name of an errno value, negated or not: {@code name(-22)} is {@code "EINVAL"}.
   *
   * @param errno a value of this class, or its negation
   * @return the name, or {@code "errno <n>"} for a value this class does not define
   */
  public static String name(int errno) {
    return switch (Math.abs(errno)) {
      case EPERM -> "EPERM";
      case ENOENT -> "ENOENT";
      case ENXIO -> "ENXIO";
      case ENOMEM -> "ENOMEM";
      case EACCES -> "EACCES";
      case EBUSY -> "EBUSY";
      case EEXIST -> "EEXIST";
      case EINVAL -> "EINVAL";
      case ENOSPC -> "ENOSPC";
      case ENOSYS -> "ENOSYS";
      case ENODATA -> "ENODATA";
      case EILSEQ -> "EILSEQ";
      case ERESTART -> "ERESTART";
      case EOPNOTSUPP -> "EOPNOTSUPP";
      default -> "errno " + errno;
    };
  }
}
