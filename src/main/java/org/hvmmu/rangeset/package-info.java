/**
 * Sets of inclusive ranges of unsigned 64-bit values with Xen's rangeset semantics: the engine behind
 * {@code mmio_ro_ranges}, the host-wide set of read-only MMIO frames consulted on every guest
 * page-table-entry write.
 *
 * <p>{@link org.hvmmu.rangeset.RangeSet} is the contract; {@link
 * org.hvmmu.rangeset.IntervalTreeRangeSet} is the product (lock-free reads, no allocation in steady
 * state); {@link org.hvmmu.rangeset.XenListRangeSet} is Xen's own sorted-list algorithm, era by era,
 * kept as the model of Xen's exact behaviour and as the benchmark baseline.
 */
package org.hvmmu.rangeset;
