package org.hvmmu.mmu;

/** How a set-associative structure chooses the way to replace when a set is full. */
public enum Replacement {
  /** True least-recently-used: the way whose last hit or fill is oldest. */
  LRU,
  /** Tree pseudo-LRU (ways a power of two): one bit per inner node of a binary tree over the ways. */
  TREE_PLRU,
  /** A way drawn from a per-structure xorshift generator seeded from the configuration. */
  RANDOM
}
