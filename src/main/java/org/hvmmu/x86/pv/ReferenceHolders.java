package org.hvmmu.x86.pv;

/**
 * Entries outside PV L1 tables that hold references the validator took, such as shadow L1 entries:
 * {@link PvMmu#countViolations(ReferenceHolders)} counts them too.
 */
@FunctionalInterface
public interface ReferenceHolders {
  /** No entries outside PV L1 tables. */
  ReferenceHolders NONE = visitor -> {};

  /** Receives one entry. */
  @FunctionalInterface
  interface EntryVisitor {
    /**
     * One installed entry.
     *
     * @param owner the domain the entry was validated for (Xen's {@code l1e_owner})
     * @param l1e the entry as installed
     */
    void entry(Domain owner, long l1e);
  }

  /**
   * Hands every installed entry to {@code visitor}.
   *
   * @param visitor the receiver
   */
  void forEachEntry(EntryVisitor visitor);
}
