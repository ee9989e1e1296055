package org.hvmmu.pci;

/**
 * Builds configuration spaces byte by byte for tests: little-endian stores, nothing clever, so a
 * test states the bytes it means.
 */
public final class ConfigBuilder {
  private final byte[] bytes;

  /**
   * An all-zero space.
   *
   * @param size 64, 128, 256 or 4096
   */
  public ConfigBuilder(int size) {
    bytes = new byte[size];
  }

  /** A 256-byte space of a normal header with the capability-list status bit set. */
  public static ConfigBuilder normal() {
    return new ConfigBuilder(256).set16(PciRegs.STATUS, PciRegs.STATUS_CAP_LIST);
  }

  public ConfigBuilder set8(int offset, int value) {
    bytes[offset] = (byte) value;
    return this;
  }

  public ConfigBuilder set16(int offset, int value) {
    set8(offset, value);
    return set8(offset + 1, value >>> 8);
  }

  public ConfigBuilder set32(int offset, long value) {
    set16(offset, (int) value);
    return set16(offset + 2, (int) (value >>> 16));
  }

  public ConfigBuilder headerType(int type) {
    return set8(PciRegs.HEADER_TYPE, type);
  }

  public ConfigBuilder bar(int index, long value) {
    return set32(PciRegs.BASE_ADDRESS_0 + 4 * index, value);
  }

  /** A standard capability header: ID and next pointer. */
  public ConfigBuilder cap(int offset, int id, int next) {
    return set8(offset, id).set8(offset + 1, next);
  }

  /** An MSI-X capability. */
  public ConfigBuilder msix(int offset, int next, int control, long table, long pba) {
    return cap(offset, PciRegs.CAP_ID_MSIX, next)
        .set16(offset + 2, control)
        .set32(offset + 4, table)
        .set32(offset + 8, pba);
  }

  /** An extended capability header. */
  public ConfigBuilder extCap(int offset, int id, int version, int next) {
    return set32(offset, (id & 0xffffL) | (long) version << 16 | (long) next << 20);
  }

  public byte[] bytes() {
    return bytes.clone();
  }

  public ConfigSpace build() {
    return ConfigSpace.of(bytes);
  }

  public PciDevice device() {
    return new PciDevice(new PciAddress(0, 1, 0, 0), build(), "test");
  }

  public PciDevice device(long... sizes) {
    return new PciDevice(new PciAddress(0, 1, 0, 0), build(), "test", sizes);
  }
}
