package org.hvmmu.host;

import java.util.Arrays;
import org.hvmmu.host.access.SubpageState;

/**
 * Xen's sub-page read-only list ({@code subpage_ro_ranges}, {@code xen/arch/x86/mm.c}, 4.20+): per
 * frame, a bitmap of its 512 read-only 8-byte slots ({@code ro_elems}). Sorted arrays, so that the
 * fault path's lookup allocates nothing; entries are only added (Xen has no removal). Changes run
 * under the host's configuration lock; the arrays are replaced, never changed in place.
 */
final class SubpageList {
  /** Bytes per slot ({@code MMIO_RO_SUBPAGE_GRAN}). */
  static final int GRAN = 8;

  private volatile long[] frames = new long[0];
  private volatile long[][] bits = new long[0][];

  /** Marks slots {@code [from, to)} (byte offsets, multiples of 8) of {@code mfn} read-only. */
  void add(long mfn, int from, int to) {
    long[] f = frames;
    long[][] b = bits;
    int i = Arrays.binarySearch(f, mfn);
    long[] map;
    if (i >= 0) {
      map = b[i].clone();
    } else {
      map = new long[4096 / GRAN / 64];
    }
    for (int slot = from / GRAN; slot < to / GRAN; slot++) {
      map[slot >>> 6] |= 1L << slot;
    }
    if (i >= 0) {
      long[][] nb = b.clone();
      nb[i] = map;
      bits = nb;
      return;
    }
    int at = -i - 1;
    long[] nf = new long[f.length + 1];
    long[][] nb = new long[b.length + 1][];
    System.arraycopy(f, 0, nf, 0, at);
    System.arraycopy(b, 0, nb, 0, at);
    nf[at] = mfn;
    nb[at] = map;
    System.arraycopy(f, at, nf, at + 1, f.length - at);
    System.arraycopy(b, at, nb, at + 1, b.length - at);
    bits = nb;
    frames = nf;
  }

  /** Whether the list is empty ({@code subpage_ro_active}). */
  boolean isEmpty() {
    return frames.length == 0;
  }

  /** The state of {@code mfn}'s slot holding byte {@code offset}. */
  SubpageState state(long mfn, int offset) {
    long[] f = frames;
    int i = Arrays.binarySearch(f, mfn);
    if (i < 0) {
      return SubpageState.NONE;
    }
    long[][] b = bits;
    if (i >= b.length || b[i] == null) {
      return SubpageState.NONE; // a concurrent add in progress: not yet visible
    }
    int slot = (offset & 0xFFF) / GRAN;
    return (b[i][slot >>> 6] >>> slot & 1) != 0 ? SubpageState.READ_ONLY_SLOT
        : SubpageState.WRITABLE_SLOT;
  }
}
