package org.hvmmu.mmu;

import java.util.Arrays;

/**
 * One vCPU's event counters and cycle count, read without allocating. Only the vCPU's own thread
 * updates them; another thread reading them sees values that may be slightly behind.
 *
 * <p>Every translation counts one access and then exactly one of: a first-level TLB hit, a
 * second-level hit (after a first-level miss), or a walk (after misses in both). A walk counts its
 * memory references as 1-D (guest paging without nesting, or the nested walk of a guest-physical
 * address when paging is off) or 2-D (guest paging over EPT or NPT: guest entries and nested
 * entries alike).
 */
public final class MmuCounters {
  /** Accesses that took the slow path (everything but fast first-level hits). */
  long accessesSlow;
  /** First-level hits on the slow path (the fast path counts in the arrays only). */
  long l1Hits;
  long l1Misses;
  long l2Hits;
  long l2Misses;
  final long[] pscHits = new long[6];
  long pscMisses;
  long nestedTlbHits;
  long nestedTlbMisses;
  long walks;
  long references1d;
  long references2d;
  long accessedDirtyWrites;
  long pageFaults;
  long generalProtectionFaults;
  long eptViolations;
  long eptMisconfigs;
  long nestedPageFaults;
  long vmExits;
  long flushesFull;
  long flushesPartial;
  long flushesElided;
  long cycles;

  private final long l1HitCost;
  private TranslationCache[] arrays = new TranslationCache[0];
  private boolean[] firstLevel = new boolean[0];
  private long[] hitBase = new long[0];
  private long[] fillBase = new long[0];

  MmuCounters(long l1HitCost) {
    this.l1HitCost = l1HitCost;
  }

  void attach(TranslationCache[] tlbArrays, boolean[] isFirstLevel) {
    arrays = tlbArrays;
    firstLevel = isFirstLevel;
    hitBase = new long[tlbArrays.length];
    fillBase = new long[tlbArrays.length];
  }

  /** First-level hits of every kind, from the arrays. */
  private long firstLevelHits() {
    long sum = 0;
    for (int i = 0; i < arrays.length; i++) {
      if (firstLevel[i]) {
        sum += arrays[i].hits - hitBase[i];
      }
    }
    return sum;
  }

  /**
   * The number of TLB arrays of the vCPU's {@link TlbConfig}, in its order.
   *
   * @return the count
   */
  public int tlbArrays() {
    return arrays.length;
  }

  /**
   * The name of TLB array {@code index}, as its {@link TlbStructure} gives it.
   *
   * @param index 0 to {@link #tlbArrays()} - 1
   * @return the name
   */
  public String tlbArrayName(int index) {
    return arrays[index].name;
  }

  /**
   * Hits in TLB array {@code index}.
   *
   * @param index 0 to {@link #tlbArrays()} - 1
   * @return the count
   */
  public long tlbArrayHits(int index) {
    return arrays[index].hits - hitBase[index];
  }

  /**
   * Entries filled into TLB array {@code index} (after walks, and from the second level).
   *
   * @param index 0 to {@link #tlbArrays()} - 1
   * @return the count
   */
  public long tlbArrayFills(int index) {
    return arrays[index].fills - fillBase[index];
  }

  /**
   * Translations requested (each page of a split access counts).
   *
   * @return the count
   */
  public long accesses() {
    return accessesSlow + firstLevelHits() - l1Hits;
  }

  /**
   * First-level TLB hits.
   *
   * @return the count
   */
  public long l1Hits() {
    return firstLevelHits();
  }

  /**
   * First-level TLB misses.
   *
   * @return the count
   */
  public long l1Misses() {
    return l1Misses;
  }

  /**
   * Second-level TLB hits.
   *
   * @return the count
   */
  public long l2Hits() {
    return l2Hits;
  }

  /**
   * Second-level TLB misses (each starts a walk).
   *
   * @return the count
   */
  public long l2Misses() {
    return l2Misses;
  }

  /**
   * Paging-structure-cache hits that supplied the entry of {@code level} (5 PML5E, 4 PML4E, 3
   * PDPTE, 2 PDE), guest dimension; in AMD style, hits of the entry cache at that level.
   *
   * @param level 2 to 5
   * @return the count
   * @throws IllegalArgumentException for another level
   */
  public long pagingStructureCacheHits(int level) {
    if (level < 2 || level > 5) {
      throw new IllegalArgumentException("level: " + level + " (expected: 2 to 5)");
    }
    return pscHits[level];
  }

  /**
   * Walks that found nothing in the paging-structure caches (guest dimension).
   *
   * @return the count
   */
  public long pagingStructureCacheMisses() {
    return pscMisses;
  }

  /**
   * Guest-physical translations found in the nested TLB.
   *
   * @return the count
   */
  public long nestedTlbHits() {
    return nestedTlbHits;
  }

  /**
   * Guest-physical translations that needed a nested walk.
   *
   * @return the count
   */
  public long nestedTlbMisses() {
    return nestedTlbMisses;
  }

  /**
   * Page walks started (restarts after a lost A/D race count again).
   *
   * @return the count
   */
  public long walks() {
    return walks;
  }

  /**
   * Paging-structure entries read in 1-D walks.
   *
   * @return the count
   */
  public long references1d() {
    return references1d;
  }

  /**
   * Paging-structure entries read in 2-D walks (guest and nested).
   *
   * @return the count
   */
  public long references2d() {
    return references2d;
  }

  /**
   * Locked accessed/dirty updates written (guest, EPT and NPT entries).
   *
   * @return the count
   */
  public long accessedDirtyWrites() {
    return accessedDirtyWrites;
  }

  /**
   * #PF faults reported.
   *
   * @return the count
   */
  public long pageFaults() {
    return pageFaults;
  }

  /**
   * #GP and #SS faults reported (non-canonical addresses, bad register loads).
   *
   * @return the count
   */
  public long generalProtectionFaults() {
    return generalProtectionFaults;
  }

  /**
   * EPT violations.
   *
   * @return the count
   */
  public long eptViolations() {
    return eptViolations;
  }

  /**
   * EPT misconfigurations.
   *
   * @return the count
   */
  public long eptMisconfigs() {
    return eptMisconfigs;
  }

  /**
   * AMD nested page faults.
   *
   * @return the count
   */
  public long nestedPageFaults() {
    return nestedPageFaults;
  }

  /**
   * VM exits: EPT violations, misconfigurations, nested page faults and {@link Vcpu#vmExit()}.
   *
   * @return the count
   */
  public long vmExits() {
    return vmExits;
  }

  /**
   * Invalidations that removed every translation of at least one context.
   *
   * @return the count
   */
  public long flushesFull() {
    return flushesFull;
  }

  /**
   * Invalidations of single addresses that removed something.
   *
   * @return the count
   */
  public long flushesPartial() {
    return flushesPartial;
  }

  /**
   * Invalidations that found nothing to remove.
   *
   * @return the count
   */
  public long flushesElided() {
    return flushesElided;
  }

  /**
   * Cycles added by the {@link LatencyModel}: every access pays the first-level lookup, then what
   * its path added.
   *
   * @return the total
   */
  public long cycles() {
    return cycles + accesses() * l1HitCost;
  }

  /** Sets every counter to 0. */
  public void reset() {
    accessesSlow = 0;
    l1Hits = 0;
    for (int i = 0; i < arrays.length; i++) {
      hitBase[i] = arrays[i].hits;
      fillBase[i] = arrays[i].fills;
    }
    l1Misses = 0;
    l2Hits = 0;
    l2Misses = 0;
    Arrays.fill(pscHits, 0);
    pscMisses = 0;
    nestedTlbHits = 0;
    nestedTlbMisses = 0;
    walks = 0;
    references1d = 0;
    references2d = 0;
    accessedDirtyWrites = 0;
    pageFaults = 0;
    generalProtectionFaults = 0;
    eptViolations = 0;
    eptMisconfigs = 0;
    nestedPageFaults = 0;
    vmExits = 0;
    flushesFull = 0;
    flushesPartial = 0;
    flushesElided = 0;
    cycles = 0;
  }

  @Override
  public String toString() {
    return "accesses=" + accesses() + " l1Hits=" + l1Hits() + " l2Hits=" + l2Hits + " walks=" + walks
        + " refs1d=" + references1d + " refs2d=" + references2d + " adWrites="
        + accessedDirtyWrites + " #PF=" + pageFaults + " eptViolations=" + eptViolations
        + " vmExits=" + vmExits + " flushes=" + flushesFull + "/" + flushesPartial + "/"
        + flushesElided + " cycles=" + cycles();
  }
}
