/**
 * Shadow paging: the read-only step of {@code _sh_propagate}, which keeps a shadow entry from granting
 * write access to read-only p2m types and read-only MMIO frames ({@link
 * org.hvmmu.p2m.shadow.ShadowFlags}).
 */
package org.hvmmu.p2m.shadow;
