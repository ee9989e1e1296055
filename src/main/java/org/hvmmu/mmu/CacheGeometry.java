package org.hvmmu.mmu;

/**
 * The shape of one TLB or paging-structure cache: {@code entries / ways} sets of {@code ways} ways.
 * The number of sets must be a power of two (the set index is address bits); {@link
 * Replacement#TREE_PLRU} needs a power-of-two number of ways. {@code entries == 0} removes the
 * structure.
 *
 * @param entries entries in all, 0 to 65536
 * @param ways ways per set, 1 to 64, dividing {@code entries} (ignored when {@code entries} is 0)
 * @param replacement the replacement policy
 */
public record CacheGeometry(int entries, int ways, Replacement replacement) {
  /** No structure. */
  public static final CacheGeometry NONE = new CacheGeometry(0, 1, Replacement.LRU);

  /**
   * Checks the shape.
   *
   * @param entries the {@code entries} component
   * @param ways the {@code ways} component
   * @param replacement the {@code replacement} component
   * @throws IllegalArgumentException if the shape is not one described above
   */
  public CacheGeometry {
    if (replacement == null) {
      throw new IllegalArgumentException("replacement: null");
    }
    if (entries < 0 || entries > 65536) {
      throw new IllegalArgumentException("entries: " + entries + " (expected: 0 to 65536)");
    }
    if (entries > 0) {
      if (ways < 1 || ways > 64 || entries % ways != 0) {
        throw new IllegalArgumentException("ways: " + ways + " for " + entries
            + " entries (expected: 1 to 64, dividing the entries)");
      }
      int sets = entries / ways;
      if (Integer.bitCount(sets) != 1) {
        throw new IllegalArgumentException(entries + " entries / " + ways + " ways = " + sets
            + " sets (expected: a power of two)");
      }
      if (replacement == Replacement.TREE_PLRU && Integer.bitCount(ways) != 1) {
        throw new IllegalArgumentException(
            "tree pseudo-LRU needs a power-of-two number of ways, not " + ways);
      }
    }
  }

  /**
   * A structure of {@code entries} entries and {@code ways} ways with {@link Replacement#LRU}.
   *
   * @param entries entries in all
   * @param ways ways per set
   * @return the geometry
   */
  public static CacheGeometry of(int entries, int ways) {
    return new CacheGeometry(entries, ways, Replacement.LRU);
  }

  /**
   * A fully associative structure (one set) with {@link Replacement#LRU}.
   *
   * @param entries entries in all
   * @return the geometry
   */
  public static CacheGeometry fullyAssociative(int entries) {
    return new CacheGeometry(entries, Math.max(entries, 1), Replacement.LRU);
  }

  /**
   * This shape with another replacement policy.
   *
   * @param policy the policy
   * @return the geometry
   */
  public CacheGeometry withReplacement(Replacement policy) {
    return new CacheGeometry(entries, ways, policy);
  }

  /**
   * The number of sets.
   *
   * @return {@code entries / ways}, or 0 without a structure
   */
  public int sets() {
    return entries == 0 ? 0 : entries / ways;
  }
}
