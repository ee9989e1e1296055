/**
 * Xen's ABI values that every hvmmu model shares: the public errno codes, the domain ids with their
 * reserved pseudo-domains, and {@link org.hvmmu.xen.HypervisorBugException} for a state where Xen
 * would stop with {@code BUG_ON}. A leaf package: it depends on nothing else in hvmmu.
 */
package org.hvmmu.xen;
