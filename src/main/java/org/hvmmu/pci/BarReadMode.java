package org.hvmmu.pci;

/**
 * Which of the seed patch's defects {@link PciMemBar#readPciMemBar} reproduces; one switch per
 * defect (reference §3.2 and §3.6 rows 1-2).
 *
 * <table>
 *   <caption>Defects of the 2010 read_pci_mem_bar</caption>
 *   <tr><th>switch</th><th>seed (b5aadd4248)</th><th>corrected</th><th>fixed by</th></tr>
 *   <tr><td>{@code invertedMask}</td><td>{@code bar & 0xf}: only the flag bits (plus the high
 *       dword of a 64-bit BAR)</td><td>{@code bar & ~0xf}</td><td>53c6e9e545, 2010-10-18</td></tr>
 *   <tr><td>{@code unmaskedHeaderType}</td><td>header type byte used whole, so multi-function
 *       devices (bit 7) read 0</td><td>{@code & 0x7f}</td><td>15542fcd1c, 2010-10-20</td></tr>
 * </table>
 *
 * @param invertedMask mask the BAR with the complement of the address mask, as the seed did
 * @param unmaskedHeaderType use the header type byte without masking bit 7, as the seed did
 */
public record BarReadMode(boolean invertedMask, boolean unmaskedHeaderType) {
  /** Both defects of the seed patch. */
  public static final BarReadMode SEED_2010 = new BarReadMode(true, true);

  /** Upstream Xen's behaviour: neither defect. */
  public static final BarReadMode CORRECTED = new BarReadMode(false, false);
}
