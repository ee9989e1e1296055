package org.hvmmu.rangeset;

/**
 * Xen's public errno values that the range set returns, negated as Xen returns them ({@code -ENOMEM}).
 *
 * <table>
 *   <caption>Values (xen/include/public/errno.h)</caption>
 *   <tr><th>Name</th><th>Value</th><th>Returned by</th></tr>
 *   <tr><td>{@link #ENOMEM}</td><td>12</td><td>add, remove, claim: the range limit is reached and a new
 *       range would be needed</td></tr>
 *   <tr><td>{@link #ENOSPC}</td><td>28</td><td>claim: no gap is large enough</td></tr>
 *   <tr><td>{@link #ERESTART}</td><td>85</td><td>consume callbacks asking to be called again</td></tr>
 * </table>
 */
public final class Errno {
  /** Out of memory: the range limit is reached. */
  public static final int ENOMEM = 12;

  /** No space left: no gap of the requested size. */
  public static final int ENOSPC = 28;

  /** Xen's "restart the hypercall" code, used by consume callbacks for preemption. */
  public static final int ERESTART = 85;

  private Errno() {}
}
