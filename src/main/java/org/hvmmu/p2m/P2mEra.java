package org.hvmmu.p2m;

/**
 * The two numberings of Xen's p2m types and the two encodings of a type in a generic-format p2m entry.
 *
 * <p>The seed (July 2010) numbers {@code p2m_invalid} 0 and {@code p2m_ram_rw} 1 and stores the type at
 * flag bit 9 (x86-64: {@code (t & 0x3fff) << 9}); EPT entries keep it in bits 11:8. Commit d5688e96d6
 * (2011, Xen 4.2) swapped the two codes, so that plain RAM is type 0 for AMD IOMMU page-table sharing,
 * and moved the type to PTE bits 52 and up ({@code (t & 0x7f) << 12} in the packed flags); EPT entries
 * keep it in bits 57:52. The 2012 changes that add NX to non-RAM types are part of {@link #TODAY}.
 */
public enum P2mEra {
  /** The seed's numbering and encoding (Xen 4.0/4.1 development tree, July 2010). */
  SEED_2010,
  /** Upstream Xen's numbering and encoding since 4.2, unchanged to today. */
  TODAY
}
