package org.hvmmu.x86.pv;

/**
 * Told when the set of live L1 entries changes: an entry of a validated L1 table appears or goes. A
 * host uses it to keep a reverse map from frames to the entries that map them, so that it can revoke
 * write access to frames that become read-only.
 *
 * <p>Called on the thread that made the change, while the table's page lock is held (or while the
 * table is being validated or released); it must be quick and must not call back into the MMU.
 * Changes to a frame that is not in use as an L1 table are not reported: they map nothing.
 */
public interface L1eListener {
  /** A listener that does nothing. */
  L1eListener NONE =
      new L1eListener() {
        @Override
        public void installed(Domain owner, long tableMfn, int slot, long l1e) {}

        @Override
        public void removed(Domain owner, long tableMfn, int slot, long l1e) {}
      };

  /**
   * A present entry became live in {@code owner}'s L1 table.
   *
   * @param owner the table's owner
   * @param tableMfn the table
   * @param slot 0 to 511
   * @param l1e the entry as installed
   */
  void installed(Domain owner, long tableMfn, int slot, long l1e);

  /**
   * A present live entry went (replaced, cleared, or its table stopped being one).
   *
   * @param owner the table's owner
   * @param tableMfn the table
   * @param slot 0 to 511
   * @param l1e the entry as it was installed
   */
  void removed(Domain owner, long tableMfn, int slot, long l1e);
}
