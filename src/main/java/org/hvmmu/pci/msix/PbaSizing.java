package org.hvmmu.pci.msix;

/**
 * How many bytes of Pending Bit Array a table of {@code n} entries is taken to need when its frames
 * are computed (reference §3.4 and §3.6 row 5).
 *
 * <table>
 *   <caption>PBA sizings</caption>
 *   <tr><th>constant</th><th>bytes</th><th>used by</th></tr>
 *   <tr><td>{@link #BITS_TO_LONGS}</td><td>{@code BITS_TO_LONGS(n)} = &lceil;n/64&rceil;</td>
 *       <td>the seed and upstream x86 {@code msi.c} to this day (the {@code sizeof(long)} factor is
 *       missing)</td></tr>
 *   <tr><td>{@link #CORRECTED}</td><td>8 &middot; &lceil;n/64&rceil;</td><td>the PCI
 *       specification (one bit per entry in whole QWORDs), Xen's vPCI, QEMU</td></tr>
 * </table>
 *
 * <p>The two agree on the first frame and differ on the last only when the PBA straddles a page
 * boundary: n = 2048 at page offset 0xfe0 is one page under {@link #BITS_TO_LONGS} but two in
 * truth.
 */
public enum PbaSizing {
  /** {@code BITS_TO_LONGS(n)} bytes, &lceil;n/64&rceil;: the seed's and upstream's computation. */
  BITS_TO_LONGS,
  /** {@code 8 * ceil(n / 64)} bytes: the PBA's real size. */
  CORRECTED;

  /**
   * The PBA length in bytes under this sizing.
   *
   * @param entries the table size, {@code 1..2048}
   * @return the byte count
   * @throws IllegalArgumentException if {@code entries} is out of range
   */
  public long bytes(int entries) {
    MsixTableDescriptor.checkEntries(entries);
    long longs = (entries + 63L) / 64;
    return this == BITS_TO_LONGS ? longs : 8 * longs;
  }
}
