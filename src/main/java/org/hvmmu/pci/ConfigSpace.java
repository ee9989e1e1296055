package org.hvmmu.pci;

import java.util.Arrays;

/**
 * The configuration space of one PCI function, as far as it is known: 64 bytes (the header only,
 * what an unprivileged read of sysfs {@code config} or {@code lspci -x} gives), 128 bytes (the same
 * for a CardBus bridge), 256 bytes (conventional space, {@code lspci -xxx}) or 4096 bytes (PCI
 * Express extended space, {@code lspci -xxxx}).
 *
 * <p>Reads are little-endian and model Xen's {@code pci_conf_read8/16/32}. A read must lie inside
 * the 4 KiB space and inside the known bytes; anything else is a caller error ({@link
 * IllegalArgumentException} with the offset in hex). Parsers of untrusted layouts check {@link
 * #isKnown} first. Natural alignment is not required: the byte array has no alignment rules, and
 * every register Xen reads is aligned anyway.
 *
 * <pre>{@code
 * ConfigSpace c = ConfigSpace.of(bytes);
 * int vendor = c.read16(PciRegs.VENDOR_ID);        // 0x8086
 * long bar0 = c.read32(PciRegs.BASE_ADDRESS_0) & 0xffffffffL;
 * }</pre>
 *
 * <p>Immutable and thread-safe; {@link #of} copies its argument and reads allocate nothing.
 */
public final class ConfigSpace {
  /** Bytes of the standard header, all that an unprivileged sysfs read returns. */
  public static final int HEADER_SIZE = 64;

  /** Bytes of a CardBus bridge's header, what an unprivileged sysfs read returns for one. */
  public static final int CARDBUS_HEADER_SIZE = 128;

  /** Bytes of conventional PCI configuration space. */
  public static final int CONVENTIONAL_SIZE = 256;

  /** Bytes of PCI Express extended configuration space. */
  public static final int EXTENDED_SIZE = 4096;

  private final byte[] bytes;

  private ConfigSpace(byte[] bytes) {
    this.bytes = bytes;
  }

  /**
   * A configuration space holding a copy of {@code bytes}.
   *
   * @param bytes 64, 128, 256 or 4096 bytes, offset 0 first
   * @return the configuration space
   * @throws IllegalArgumentException if {@code bytes} is null or has another length
   */
  public static ConfigSpace of(byte[] bytes) {
    if (bytes == null) {
      throw new IllegalArgumentException("config space bytes are null");
    }
    if (!isValidSize(bytes.length)) {
      throw new IllegalArgumentException(
          "config space of 0x"
              + Integer.toHexString(bytes.length)
              + " bytes (expected: 0x40, 0x80, 0x100 or 0x1000)");
    }
    return new ConfigSpace(bytes.clone());
  }

  /**
   * Whether {@code length} is a size {@link #of} accepts.
   *
   * @param length a byte count
   * @return whether it is 64, 128, 256 or 4096
   */
  public static boolean isValidSize(int length) {
    return length == HEADER_SIZE
        || length == CARDBUS_HEADER_SIZE
        || length == CONVENTIONAL_SIZE
        || length == EXTENDED_SIZE;
  }

  /**
   * The number of known bytes, offsets {@code [0, size() - 1]}; the rest of the 4 KiB space is
   * unknown (not read, or absent on conventional PCI).
   *
   * @return 64, 128, 256 or 4096
   */
  public int size() {
    return bytes.length;
  }

  /**
   * Whether the extended space (offsets 0x100 to 0xfff) is known.
   *
   * @return whether {@link #size()} is 4096
   */
  public boolean isExtended() {
    return bytes.length == EXTENDED_SIZE;
  }

  /**
   * Whether the bytes {@code [offset, offset + width - 1]} (inclusive) are known; never throws.
   *
   * @param offset the first byte
   * @param width the number of bytes
   * @return whether a read of {@code width} bytes at {@code offset} would succeed
   */
  public boolean isKnown(int offset, int width) {
    return offset >= 0 && width > 0 && offset <= bytes.length - width;
  }

  private void check(int offset, int width) {
    if (offset < 0 || offset > EXTENDED_SIZE - width) {
      throw new IllegalArgumentException(
          "config space read of "
              + width
              + " bytes at 0x"
              + Integer.toHexString(offset)
              + " is outside 0x0..0xfff");
    }
    if (offset > bytes.length - width) {
      throw new IllegalArgumentException(
          "config space read of "
              + width
              + " bytes at 0x"
              + Integer.toHexString(offset)
              + " is beyond the 0x"
              + Integer.toHexString(bytes.length)
              + " bytes known");
    }
  }

  /**
   * Reads one byte, Xen's {@code pci_conf_read8}.
   *
   * @param offset the register offset
   * @return the byte, {@code 0..0xff}
   * @throws IllegalArgumentException if the byte is outside the space or not known
   */
  public int read8(int offset) {
    check(offset, 1);
    return bytes[offset] & 0xff;
  }

  /**
   * Reads a little-endian 16-bit word, Xen's {@code pci_conf_read16}.
   *
   * @param offset the register offset
   * @return the word, {@code 0..0xffff}
   * @throws IllegalArgumentException if a byte is outside the space or not known
   */
  public int read16(int offset) {
    check(offset, 2);
    return (bytes[offset] & 0xff) | (bytes[offset + 1] & 0xff) << 8;
  }

  /**
   * Reads a little-endian 32-bit dword, Xen's {@code pci_conf_read32}. Java has no unsigned int:
   * widen with {@code & 0xffffffffL} before arithmetic.
   *
   * @param offset the register offset
   * @return the dword's 32 bits
   * @throws IllegalArgumentException if a byte is outside the space or not known
   */
  public int read32(int offset) {
    check(offset, 4);
    return (bytes[offset] & 0xff)
        | (bytes[offset + 1] & 0xff) << 8
        | (bytes[offset + 2] & 0xff) << 16
        | (bytes[offset + 3] & 0xff) << 24;
  }

  /**
   * A copy of the known bytes.
   *
   * @return a new array of {@link #size()} bytes
   */
  public byte[] toByteArray() {
    return bytes.clone();
  }

  /**
   * Whether {@code o} is a configuration space with the same known bytes.
   *
   * @param o another object
   * @return whether sizes and contents are equal
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof ConfigSpace other && Arrays.equals(bytes, other.bytes);
  }

  /**
   * A hash of the known bytes.
   *
   * @return the hash code
   */
  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  /**
   * A short description, not the bytes.
   *
   * @return for example {@code "ConfigSpace[8086:10c9, 0x1000 bytes]"}
   */
  @Override
  public String toString() {
    return "ConfigSpace["
        + hex4(read16(PciRegs.VENDOR_ID))
        + ":"
        + hex4(read16(PciRegs.DEVICE_ID))
        + ", 0x"
        + Integer.toHexString(bytes.length)
        + " bytes]";
  }

  private static String hex4(int v) {
    String s = Integer.toHexString(v);
    return "0000".substring(s.length()) + s;
  }
}
