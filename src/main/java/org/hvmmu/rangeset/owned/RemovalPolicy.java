package org.hvmmu.rangeset.owned;

/**
 * What removing one registration does to the shared range set (reference §2, "No refcounting").
 *
 * <table>
 *   <caption>Removal policies</caption>
 *   <tr><th>policy</th><th>{@code remove(r, s, e)}</th><th>who</th></tr>
 *   <tr><td>{@link #XEN_UNREFCOUNTED}</td><td>{@code rangeset_remove_range(s, e)}: the frames leave
 *       the set even when another registrant still covers them, and even when {@code r} never
 *       registered them</td><td>Xen, the seed and upstream alike</td></tr>
 *   <tr><td>{@link #OWNERSHIP_AWARE}</td><td>drops {@code r}'s registration of exactly {@code [s,
 *       e]} and removes from the set only the frames no live registration still covers; a
 *       registration {@code r} does not hold is {@code -ENOENT}</td><td>hvmmu's hardened
 *       model</td></tr>
 * </table>
 */
public enum RemovalPolicy {
  /** Xen's plain {@code rangeset_remove_range}: one writer's removal unprotects the frames for all. */
  XEN_UNREFCOUNTED,
  /** The set stays the union of the live registrations. */
  OWNERSHIP_AWARE
}
