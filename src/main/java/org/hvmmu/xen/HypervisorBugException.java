package org.hvmmu.xen;

/**
 * A broken hypervisor invariant: the model reached a state where Xen would stop with {@code BUG_ON}
 * or a failed {@code ASSERT}.
 *
 * <p>hvmmu checks these conditions always, not only in debug builds, and reports them with this
 * unchecked exception. It is distinct from {@link IllegalArgumentException}, which means the caller
 * broke a method's contract: this exception means the modelled hypervisor itself is in a state Xen
 * treats as fatal (for example, a p2m global re-type of a grant type). The message names the Xen
 * check and the values involved, in hex.
 */
public final class HypervisorBugException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message the Xen check that failed and the values involved
   */
  public HypervisorBugException(String message) {
    super(message);
  }
}
