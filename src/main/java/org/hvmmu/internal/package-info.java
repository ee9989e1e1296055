/**
 * Engines shared by the API packages and not part of the API: the module does not export this package.
 * {@link org.hvmmu.internal.IntervalBTree} is the interval tree behind {@link
 * org.hvmmu.rangeset.IntervalTreeRangeSet}.
 */
package org.hvmmu.internal;
