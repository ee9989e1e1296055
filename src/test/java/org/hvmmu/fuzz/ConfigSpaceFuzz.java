package org.hvmmu.fuzz;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.PciRegs;

/**
 * Configuration spaces for fuzzing campaigns that reach the edges of BAR and offset arithmetic:
 * BARs near 2^32 and 2^64 ({@code 0xfffffff0}, {@code 0xfffff000}, {@code 0xffffffff00001000},
 * {@code 0xfffffffffffff000}, {@code 0xfffffffffffffff0}), 64-bit pairs (one in the last slot too),
 * I/O, all-ones and empty BARs, BAR sizes from 4 KiB to 2^62 and unaligned; header types 0, 1, 2,
 * 0x80 and others; an MSI-X capability (sometimes two, sometimes none) with table sizes 1, 2048 and
 * others, BIRs 0 to 7 (6 and 7 reserved), offsets 0, at the BAR's end, near 2^32 and anywhere;
 * chains with loops, pointers into the header and past the end; virtio vendor capabilities with
 * 64-bit offsets; 64-, 128-, 256- and 4096-byte spaces. Every draw comes from the random source
 * alone.
 */
public final class ConfigSpaceFuzz {
  private ConfigSpaceFuzz() {}

  /** BAR addresses at the edges, without flag bits. */
  static final long[] EDGE_ADDRESSES = {
    0L,
    0x1000L,
    0xfe000000L,
    0xfffff000L,
    0xfffffff0L,
    0x100000000L,
    0xfffffffffffff000L,
    0xfffffffffffffff0L,
    0xffffffff00001000L,
    0xffffffff00000000L,
    0x7ffffffffffff000L,
    0x8000000000000000L,
  };

  /** Offsets at the edges (QWORD aligned, as decoded). */
  static final long[] EDGE_OFFSETS = {
    0L, 0x8L, 0xff0L, 0xff8L, 0x1000L, 0x2000L, 0xfffff000L, 0xfffffff8L, 0x7ffffff8L, 0x80000000L,
  };

  /** Known BAR sizes at the edges; 0 is unknown. */
  static final long[] EDGE_SIZES = {
    0L, 0L, 0L, 0x10L, 0x1000L, 0x4000L, 0x100000L, 0x100000000L, 1L << 62, 0x1234L,
  };

  /**
   * One generated function: its configuration bytes and its BAR sizes.
   *
   * @param bytes 64, 128, 256 or 4096 bytes
   * @param sizes six BAR sizes, 0 for unknown, none negative
   */
  public record Input(byte[] bytes, long[] sizes) {
    /**
     * The function as the library sees it.
     *
     * @return a device at 0000:03:00.0
     */
    public PciDevice device() {
      return new PciDevice(new PciAddress(0, 3, 0, 0), ConfigSpace.of(bytes), "fuzz", sizes);
    }

    /**
     * The non-zero bytes as {@code offset=value} pairs in hex, then the sizes: enough to rebuild
     * the input.
     *
     * @return the description
     */
    @Override
    public String toString() {
      StringBuilder s = new StringBuilder(bytes.length + " bytes:");
      for (int i = 0; i < bytes.length; i++) {
        if (bytes[i] != 0) {
          s.append(String.format(" %03x=%02x", i, bytes[i] & 0xff));
        }
      }
      s.append(" sizes");
      for (long v : sizes) {
        s.append(' ').append(Long.toHexString(v));
      }
      return s.toString();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Input other
          && Arrays.equals(bytes, other.bytes)
          && Arrays.equals(sizes, other.sizes);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.hashCode(bytes) + Arrays.hashCode(sizes);
    }
  }

  /**
   * Draws one function.
   *
   * @param r the random source
   * @return the input
   */
  public static Input draw(SplittableRandom r) {
    int[] lengths = {64, 128, 256, 256, 256, 4096};
    byte[] b = new byte[lengths[r.nextInt(lengths.length)]];
    if (r.nextInt(8) == 0) {
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) r.nextInt(256);
      }
    }
    set16(b, PciRegs.VENDOR_ID, r.nextInt(4) == 0 ? 0x1af4 : 0x8086); // virtio sometimes
    set16(b, PciRegs.DEVICE_ID, r.nextInt(0x10000));
    set16(b, PciRegs.COMMAND, PciRegs.COMMAND_MEMORY);
    set16(b, PciRegs.STATUS, r.nextInt(16) == 0 ? 0 : PciRegs.STATUS_CAP_LIST);
    int[] headers = {0x00, 0x00, 0x00, 0x80, 0x01, 0x02, 0x7f};
    b[PciRegs.HEADER_TYPE] = (byte) headers[r.nextInt(headers.length)];
    long[] sizes = new long[6];
    for (int i = 0; i < 6; i++) {
      int at = PciRegs.BASE_ADDRESS_0 + 4 * i;
      long address = r.nextInt(3) == 0 ? r.nextLong() : EDGE_ADDRESSES[r.nextInt(
          EDGE_ADDRESSES.length)];
      if (r.nextInt(4) == 0) {
        address -= 0x1000L * r.nextInt(4); // just below an edge
      }
      switch (r.nextInt(8)) {
        case 0, 1 -> set32(b, at, address & 0xfffffff0L); // 32-bit memory
        case 2 -> set32(b, at, (address & 0xfffffff0L) | PciRegs.BASE_ADDRESS_MEM_PREFETCH);
        case 3, 4 -> { // 64-bit memory, maybe in the last slot
          set32(b, at, (address & 0xfffffff0L) | PciRegs.BASE_ADDRESS_MEM_TYPE_64
              | (r.nextBoolean() ? PciRegs.BASE_ADDRESS_MEM_PREFETCH : 0));
          if (i + 1 < 6) {
            set32(b, at + 4, address >>> 32);
          }
        }
        case 5 -> set32(b, at, (address & 0xfffcL) | PciRegs.BASE_ADDRESS_SPACE_IO);
        case 6 -> set32(b, at, r.nextBoolean() ? 0xffffffffL : 0);
        default -> set32(b, at, r.nextInt() & 0xffffffffL); // anything, reserved types included
      }
      sizes[i] = r.nextInt(3) == 0 ? r.nextLong() & Long.MAX_VALUE
          : EDGE_SIZES[r.nextInt(EDGE_SIZES.length)];
    }
    int limit = Math.min(b.length, ConfigSpace.CONVENTIONAL_SIZE);
    int msix = r.nextInt(8) == 0 ? 0 : capOffset(r, limit);
    if (msix != 0) {
      b[PciRegs.CAPABILITY_LIST] = (byte) msix;
      if (msix + 12 <= b.length) {
        writeMsix(b, msix, r, sizes);
      } else if (msix < b.length) {
        b[msix] = (byte) PciRegs.CAP_ID_MSIX; // cut off by the end of the space
      }
      int at = msix;
      int extra = r.nextInt(4);
      for (int k = 0; k < extra; k++) {
        int next = nextPointer(r, limit);
        if (at + 1 < b.length) {
          b[at + 1] = (byte) next;
        }
        if (next < 0x40 || next + 16 > b.length) {
          break;
        }
        at = next;
        switch (r.nextInt(3)) {
          case 0 -> writeMsix(b, at, r, sizes); // a second MSI-X capability
          case 1 -> writeVirtio(b, at, r);
          default -> b[at] = (byte) 0x01; // power management
        }
      }
    } else if (r.nextBoolean()) {
      b[PciRegs.CAPABILITY_LIST] = (byte) nextPointer(r, limit);
    }
    return new Input(b, sizes);
  }

  private static int capOffset(SplittableRandom r, int limit) {
    if (limit <= 0x40) {
      return r.nextBoolean() ? 0x40 : 0x3c; // cut off by the end, or in the header
    }
    return 0x40 + 4 * r.nextInt((limit - 0x40) / 4);
  }

  /** A next pointer: 0, back into the chain (a loop), into the header, past the end, anywhere. */
  private static int nextPointer(SplittableRandom r, int limit) {
    return switch (r.nextInt(6)) {
      case 0 -> 0;
      case 1 -> r.nextInt(0x40) & ~3;
      case 2 -> 0xfc;
      case 3 -> r.nextInt(256);
      default -> limit > 0x50 ? 0x40 + 4 * r.nextInt((limit - 0x50) / 4) : 0x40;
    };
  }

  private static void writeMsix(byte[] b, int at, SplittableRandom r, long[] sizes) {
    b[at] = (byte) PciRegs.CAP_ID_MSIX;
    int[] qsize = {0, 0x7ff, 1, 0x3f, 0x40};
    int control = r.nextInt(3) == 0 ? r.nextInt(0x10000) : qsize[r.nextInt(qsize.length)];
    set16(b, at + 2, control);
    set32(b, at + 4, offsetAndBir(r, sizes));
    set32(b, at + 8, offsetAndBir(r, sizes));
  }

  private static long offsetAndBir(SplittableRandom r, long[] sizes) {
    int bir = r.nextInt(4) == 0 ? 6 + r.nextInt(2) : r.nextInt(6);
    long offset = switch (r.nextInt(4)) {
      case 0 -> r.nextInt() & 0xfffffff8L;
      case 1 -> bir < 6 && sizes[bir] != 0 // at the BAR's end, or a table's length before it
          ? (sizes[bir] - (r.nextBoolean() ? 0 : 8L * r.nextInt(4))) & 0xfffffff8L : 0;
      default -> EDGE_OFFSETS[r.nextInt(EDGE_OFFSETS.length)];
    };
    return offset | bir;
  }

  private static void writeVirtio(byte[] b, int at, SplittableRandom r) {
    b[at] = 0x09; // vendor specific
    b[at + 2] = (byte) (r.nextBoolean() ? 16 : 20); // cap_len (20: 64-bit offset and length)
    b[at + 3] = (byte) (1 + r.nextInt(8)); // cfg_type
    b[at + 4] = (byte) r.nextInt(8); // bar
    set32(b, at + 8, r.nextBoolean() ? r.nextInt() & 0xffffffffL : 0xfffff000L);
    set32(b, at + 12, r.nextBoolean() ? r.nextInt() & 0xffffffffL : 0xffffffffL);
  }

  private static void set16(byte[] b, int at, int v) {
    if (at + 1 < b.length) {
      b[at] = (byte) v;
      b[at + 1] = (byte) (v >>> 8);
    }
  }

  private static void set32(byte[] b, int at, long v) {
    set16(b, at, (int) v);
    set16(b, at + 2, (int) (v >>> 16));
  }
}
