/**
 * Registrations with owners over a shared range set: {@link org.hvmmu.rangeset.owned.OwnedRanges}
 * keeps who asked for which inclusive ranges {@code [s, e]} of frames and maintains a {@link
 * org.hvmmu.rangeset.RangeSet} (Xen's {@code mmio_ro_ranges}) as the union of the live
 * registrations, so that one registrant's removal leaves the frames another registrant still covers.
 *
 * <pre>{@code
 * RangeSet ro = new IntervalTreeRangeSet("r/o mmio ranges", RangeSet.PRETTYPRINT_HEX);
 * OwnedRanges registry = new OwnedRanges(ro, RemovalPolicy.OWNERSHIP_AWARE);
 * int a = registry.newRegistrant("0000:03:00.0 MSI-X");
 * int b = registry.newRegistrant("0000:03:00.1 MSI-X");
 * registry.add(a, 0xe0842, 0xe0842);    // two PBAs in one frame
 * registry.add(b, 0xe0842, 0xe0842);
 * registry.remove(a, 0xe0842, 0xe0842);
 * ro.containsSingleton(0xe0842);        // true: b still needs it
 * }</pre>
 *
 * <p>Does not log. Depends on {@code org.hvmmu.rangeset} and the unexported interval tree.
 */
package org.hvmmu.rangeset.owned;
