package org.hvmmu.x86.pv;

import org.hvmmu.x86.PteFlags;

/**
 * The three outcomes of validating an L1 entry, the seed's contract for {@code get_page_from_l1e}:
 * reject, accept, or accept but install read-only.
 *
 * <p>{@link L1eValidator#getPageFromL1e} returns an {@code int} (no object per entry): a negated
 * errno for a reject, otherwise the flip mask of flags the caller must toggle (upstream's convention).
 * {@link #of(int)} classifies such a result; {@link #seedCode()} gives the seed's 1 / 0 / -1.
 */
public enum L1eVerdict {
  /** The entry must not be installed (seed: 0). */
  REJECT(0),
  /** The entry is installed as it is (seed: 1). */
  ACCEPT(1),
  /** The entry is installed with R/W cleared, and possibly its cache type forced (seed: -1). */
  ACCEPT_READ_ONLY(-1);

  private final int seedCode;

  L1eVerdict(int seedCode) {
    this.seedCode = seedCode;
  }

  /**
   * The seed's return value for this verdict.
   *
   * @return 1 accept, 0 reject, -1 accept read-only
   */
  public int seedCode() {
    return seedCode;
  }

  /**
   * Classifies a result of {@link L1eValidator#getPageFromL1e}: negative is a reject, a flip mask
   * with R/W is a read-only accept, anything else an accept (possibly with its cache type forced).
   *
   * @param result a validator result
   * @return the verdict
   */
  public static L1eVerdict of(int result) {
    if (result < 0) {
      return REJECT;
    }
    return (result & PteFlags.PAGE_RW) != 0 ? ACCEPT_READ_ONLY : ACCEPT;
  }
}
