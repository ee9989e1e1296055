package org.hvmmu.mmu;

import java.util.List;

/**
 * The translation caches of one vCPU: its TLB arrays, its paging-structure caches, and the caches of
 * the nested dimension.
 *
 * <p>{@link #goldenCove()} is the default: the TLBs of Intel's Golden Cove core (Alder Lake P-core,
 * also Raptor Cove) as CPUID leaf 0x18 of an i7-12700K reports them (sub-leaves 1-8, decoded from a
 * raw CPUID dump; the same values are reported on a Raptor Cove Xeon Gold 5512U). Intel's 2021
 * architecture disclosure gives 96 first-level load entries for 4-KByte pages where CPUID gives 64;
 * {@link #goldenCove96()} models 96 as 6 ways of 16 sets (the ways are not published). The store-only
 * first-level DTLB (16 entries, all sizes) is not modelled: loads and stores share the load arrays.
 * Intel publishes neither paging-structure-cache sizes nor replacement policies: the PDE cache of 32
 * entries follows reverse-engineering of Skylake-class parts (van Schaik et al., "Malicious
 * Management Unit", USENIX Security 2018), the others are assumptions stated in their fields.
 * Replacement is not published either: {@link #goldenCove()} assumes tree pseudo-LRU everywhere
 * (what reverse-engineering finds in Intel's first-level data caches, Abel and Reineke, "nanoBench",
 * 2020); {@link #goldenCove96()}, whose 6-way array cannot use it, assumes LRU.
 *
 * @param tlbs the TLB arrays; a 4-KByte translation that two second-level arrays can hold goes to
 *     the one bit {@code log2(sets)} of its page number selects
 * @param pml5Cache PML5E cache (Intel style), keyed by linear-address bits 56:48
 * @param pml4Cache PML4E cache, keyed by bits 56:39
 * @param pdptCache PDPTE cache, keyed by bits 56:30
 * @param pdCache PDE cache, keyed by bits 56:21
 * @param entryCache AMD-style page-walk cache of paging-structure entries tagged by their physical
 *     address (used instead of the four above under {@link MmuSwitches.PscStyle#AMD_PHYSICAL})
 * @param nestedTlb guest-physical mappings (EPT or NPT translations of guest-physical pages)
 * @param nestedPml4Cache nested PML4E cache, keyed by guest-physical bits 51:39
 * @param nestedPdptCache nested PDPTE cache, keyed by guest-physical bits 51:30
 * @param nestedPdCache nested PDE cache, keyed by guest-physical bits 51:21
 * @param seed the seed of {@link Replacement#RANDOM} replacement
 */
public record TlbConfig(
    List<TlbStructure> tlbs,
    CacheGeometry pml5Cache,
    CacheGeometry pml4Cache,
    CacheGeometry pdptCache,
    CacheGeometry pdCache,
    CacheGeometry entryCache,
    CacheGeometry nestedTlb,
    CacheGeometry nestedPml4Cache,
    CacheGeometry nestedPdptCache,
    CacheGeometry nestedPdCache,
    long seed) {

  /**
   * Checks the arguments and copies the list.
   *
   * @param tlbs the {@code tlbs} component
   * @param pml5Cache the {@code pml5Cache} component
   * @param pml4Cache the {@code pml4Cache} component
   * @param pdptCache the {@code pdptCache} component
   * @param pdCache the {@code pdCache} component
   * @param entryCache the {@code entryCache} component
   * @param nestedTlb the {@code nestedTlb} component
   * @param nestedPml4Cache the {@code nestedPml4Cache} component
   * @param nestedPdptCache the {@code nestedPdptCache} component
   * @param nestedPdCache the {@code nestedPdCache} component
   * @param seed the {@code seed} component
   * @throws IllegalArgumentException if a field is null or a level has no array for some side
   */
  public TlbConfig {
    if (tlbs == null || pml5Cache == null || pml4Cache == null || pdptCache == null
        || pdCache == null || entryCache == null || nestedTlb == null || nestedPml4Cache == null
        || nestedPdptCache == null || nestedPdCache == null) {
      throw new IllegalArgumentException("TlbConfig: no field may be null");
    }
    tlbs = List.copyOf(tlbs);
    if (tlbs.size() > 16) {
      throw new IllegalArgumentException(tlbs.size() + " TLB arrays (expected: at most 16)");
    }
  }

  /**
   * Golden Cove as CPUID reports it (the default).
   *
   * @return the configuration
   */
  public static TlbConfig goldenCove() {
    return goldenCove(CacheGeometry.of(64, 4)).withReplacement(Replacement.TREE_PLRU);
  }

  /**
   * Golden Cove with Intel's published 96 first-level load entries for 4-KByte pages (6 ways, an
   * assumption).
   *
   * @return the configuration
   */
  public static TlbConfig goldenCove96() {
    return goldenCove(CacheGeometry.of(96 / 6 * 6, 6));
  }

  private static TlbConfig goldenCove(CacheGeometry dtlb4k) {
    int large = TlbStructure.SIZE_LARGE;
    return new TlbConfig(
        List.of(
            new TlbStructure("itlb-4k", 1, true, false, TlbStructure.SIZE_4K, CacheGeometry.of(256, 8)),
            new TlbStructure("itlb-2m", 1, true, false, large, CacheGeometry.of(32, 8)),
            new TlbStructure("dtlb-4k", 1, false, true, TlbStructure.SIZE_4K, dtlb4k),
            new TlbStructure("dtlb-2m", 1, false, true, large, CacheGeometry.of(32, 4)),
            new TlbStructure("dtlb-1g", 1, false, true, TlbStructure.SIZE_1G,
                CacheGeometry.fullyAssociative(8)),
            new TlbStructure("stlb-a", 2, true, true, TlbStructure.SIZE_4K | large,
                CacheGeometry.of(1024, 8)),
            new TlbStructure("stlb-b", 2, true, true, TlbStructure.SIZE_4K | TlbStructure.SIZE_1G,
                CacheGeometry.of(1024, 8))),
        CacheGeometry.fullyAssociative(2),
        CacheGeometry.fullyAssociative(4),
        CacheGeometry.fullyAssociative(4),
        CacheGeometry.of(32, 4),
        CacheGeometry.of(64, 4),
        CacheGeometry.of(64, 4),
        CacheGeometry.fullyAssociative(4),
        CacheGeometry.fullyAssociative(4),
        CacheGeometry.of(32, 4),
        0x5EEDL);
  }

  /**
   * No caching at all: every access walks. Useful as an oracle and for counting cold walks.
   *
   * @return the configuration
   */
  public static TlbConfig none() {
    CacheGeometry n = CacheGeometry.NONE;
    return new TlbConfig(List.of(), n, n, n, n, n, n, n, n, n, 0x5EEDL);
  }

  /**
   * This configuration with every structure's replacement policy replaced.
   *
   * @param policy the policy
   * @return the configuration
   */
  public TlbConfig withReplacement(Replacement policy) {
    List<TlbStructure> replaced = tlbs.stream()
        .map(t -> new TlbStructure(t.name(), t.level(), t.instructions(), t.data(), t.pageSizes(),
            t.geometry().withReplacement(policy)))
        .toList();
    return new TlbConfig(replaced, pml5Cache.withReplacement(policy),
        pml4Cache.withReplacement(policy), pdptCache.withReplacement(policy),
        pdCache.withReplacement(policy), entryCache.withReplacement(policy),
        nestedTlb.withReplacement(policy), nestedPml4Cache.withReplacement(policy),
        nestedPdptCache.withReplacement(policy), nestedPdCache.withReplacement(policy), seed);
  }

  /**
   * This configuration with the TLB arrays replaced and every cache kept.
   *
   * @param arrays the TLB arrays
   * @return the configuration
   */
  public TlbConfig withTlbs(List<TlbStructure> arrays) {
    return new TlbConfig(arrays, pml5Cache, pml4Cache, pdptCache, pdCache, entryCache, nestedTlb,
        nestedPml4Cache, nestedPdptCache, nestedPdCache, seed);
  }

  /**
   * This configuration without paging-structure caches (guest and nested) and without a nested TLB,
   * keeping the TLB arrays.
   *
   * @return the configuration
   */
  public TlbConfig withoutPagingStructureCaches() {
    CacheGeometry n = CacheGeometry.NONE;
    return new TlbConfig(tlbs, n, n, n, n, n, n, n, n, n, seed);
  }
}
