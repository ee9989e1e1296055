package org.hvmmu.x86.pv;

/**
 * Told when the set of live L1 entries changes: an entry of a validated L1 table appears, goes, or
 * is replaced. A host uses it to keep a reverse map from frames to the entries that map them, so
 * that it can revoke write access to frames that become read-only.
 *
 * <p>Called on the thread that made the change, while the table's page lock is held (or while the
 * table is being validated or released); it must be quick, allocation-free on the hot path, and must
 * not call back into the MMU. Changes to a frame that is not in use as an L1 table are not reported:
 * they map nothing.
 */
@FunctionalInterface
public interface L1eListener {
  /** A listener that does nothing. */
  L1eListener NONE = (owner, tableMfn, slot, oldL1e, newL1e) -> {};

  /**
   * The live entry at {@code slot} of {@code owner}'s L1 table changed from {@code oldL1e} to {@code
   * newL1e}; either may be not present (the entry appeared or went), and they differ.
   *
   * @param owner the table's owner
   * @param tableMfn the table
   * @param slot 0 to 511
   * @param oldL1e the entry as the table held it, or a non-present value (it differs from the
   *     entry installed only in A and D, which the processor may set in the shared memory)
   * @param newL1e the entry as now installed, or a non-present value
   */
  void changed(Domain owner, long tableMfn, int slot, long oldL1e, long newL1e);
}
