package org.hvmmu.p2m;

import org.hvmmu.xen.Errno;

/**
 * The results of {@code setEntry} on hvmmu's p2m tables, following {@code p2m_set_entry} and {@code
 * set_mmio_p2m_entry}.
 *
 * <table>
 *   <caption>Results</caption>
 *   <tr><th>Value</th><th>Meaning</th></tr>
 *   <tr><td>{@link #OK} (0)</td><td>the entry is written</td></tr>
 *   <tr><td>{@link #RETRY_ORDER_4K} (1)</td><td>hardened only: an mmio_direct superpage overlaps
 *       mmio_ro_ranges; nothing is written, map it with 4-KByte entries ({@code PAGE_ORDER_4K + 1})
 *       </td></tr>
 *   <tr><td>{@link #NO_MEMORY} (-12, {@code -}{@link Errno#ENOMEM})</td><td>the table-page pool cannot
 *       supply the pages the update needs; nothing is written</td></tr>
 * </table>
 */
public final class P2mSetResult {
  /** The entry is written. */
  public static final int OK = 0;

  /** Retry with 4-KByte pages: Xen's {@code PAGE_ORDER_4K + 1} from {@code set_mmio_p2m_entry}. */
  public static final int RETRY_ORDER_4K = 1;

  /** The table-page pool is exhausted; the p2m is unchanged. */
  public static final int NO_MEMORY = -Errno.ENOMEM;

  private P2mSetResult() {}
}
