package org.hvmmu.host;

/** Where a guest mapping lives, as the host's invariants and reverse map name it. */
public enum MappingKind {
  /** An entry of a PV guest's validated L1 table; "where" is the table's frame. */
  PV_L1,
  /** A leaf of an HVM guest's p2m (generic or EPT); "where" is the guest frame, "slot" the order. */
  P2M_LEAF,
  /**
   * An entry of a shadow L1 table (or of the shadow L1 that splits a guest superpage); "where" is
   * the shadow table's machine frame, in the domain's shadow pool.
   */
  SHADOW_L1,
  /** A translation a vCPU caches (TLB or nested TLB), in invariant 4's violations. */
  TLB
}
