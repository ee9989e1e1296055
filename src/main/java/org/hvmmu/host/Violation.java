package org.hvmmu.host;

/**
 * One broken invariant, with where it was found.
 *
 * @param invariant which invariant: {@link HostInvariants#WRITABLE_READ_ONLY_MMIO}, {@link
 *     HostInvariants#UNPROTECTED_MSIX} or {@link HostInvariants#COUNTS}
 * @param domainId the domain whose mapping breaks it, or -1 when none does
 * @param kind where the entry lives, or null when no entry is involved
 * @param where the PV table's frame, the guest frame of a p2m leaf, or the guest table's number
 * @param slot the entry's slot, or the p2m leaf's order code
 * @param entry the entry, or 0
 * @param mfn the frame concerned
 * @param message a one-line description in Xen's terms
 */
public record Violation(
    String invariant,
    int domainId,
    MappingKind kind,
    long where,
    int slot,
    long entry,
    long mfn,
    String message) {
  @Override
  public String toString() {
    return invariant + ": " + message;
  }
}
