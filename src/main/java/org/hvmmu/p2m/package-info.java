/**
 * Xen's p2m for HVM guests: the p2m types in both numberings ({@link org.hvmmu.p2m.P2mType}, {@link
 * org.hvmmu.p2m.P2mTypes}), the era and defect switches ({@link org.hvmmu.p2m.P2mSwitches}), the generic
 * format's flag derivation ({@link org.hvmmu.p2m.PtP2mFlags}, Xen's {@code p2m_type_to_flags}), and a
 * real 4-level p2m table in that format ({@link org.hvmmu.p2m.PtP2m}) over a pooled radix tree ({@link
 * org.hvmmu.p2m.RadixP2m}).
 *
 * <p>The host's read-only MMIO frames ({@code mmio_ro_ranges}) are a {@link
 * org.hvmmu.rangeset.RangeSet} passed in, never a static. Flag derivation and lookups allocate nothing.
 * Subpackages: {@code ept} (Intel EPT format) and {@code shadow} (shadow paging's propagation step).
 */
package org.hvmmu.p2m;
