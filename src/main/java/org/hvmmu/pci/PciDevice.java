package org.hvmmu.pci;

import java.util.List;
import java.util.Objects;

/**
 * One PCI function read from a real source: its address, its configuration space, the BAR sizes
 * when the source knows them (sysfs {@code resource}), and where it came from. The header's BARs
 * and the capability chains are decoded once, on construction.
 *
 * <pre>{@code
 * PciDevice d = LspciDumpReader.read(Path.of("82576.xxx.txt")).get(0);
 * d.address();                 // 0000:01:00.0
 * d.bars().get(0).address();   // 0xe0800000
 * d.capabilities().findCapOffset(PciRegs.CAP_ID_MSIX);   // 0x70
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class PciDevice {
  private final PciAddress address;
  private final ConfigSpace config;
  private final String source;
  private final long[] barSizes;
  private final List<Bar> bars;
  private final CapabilityList capabilities;

  /**
   * A device with unknown BAR sizes.
   *
   * @param address the function's address
   * @param config its configuration space
   * @param source where it was read from, for messages (a file name, say)
   * @throws NullPointerException if an argument is null
   */
  public PciDevice(PciAddress address, ConfigSpace config, String source) {
    this(address, config, source, new long[0]);
  }

  /**
   * A device.
   *
   * @param address the function's address
   * @param config its configuration space
   * @param source where it was read from, for messages (a file name, say)
   * @param barSizes sizes in bytes by BAR slot, 0 for unknown; at most 6, copied
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if there are more than 6 sizes or a size is negative
   */
  public PciDevice(PciAddress address, ConfigSpace config, String source, long[] barSizes) {
    this.address = Objects.requireNonNull(address, "address");
    this.config = Objects.requireNonNull(config, "config");
    this.source = Objects.requireNonNull(source, "source");
    if (barSizes.length > PciRegs.SRIOV_NUM_BARS) {
      throw new IllegalArgumentException(
          "0x" + Integer.toHexString(barSizes.length) + " BAR sizes (expected: at most 6)");
    }
    this.barSizes = new long[PciRegs.SRIOV_NUM_BARS];
    for (int i = 0; i < barSizes.length; i++) {
      if (barSizes[i] < 0) {
        throw new IllegalArgumentException(
            "BAR " + i + " size 0x" + Long.toHexString(barSizes[i]) + " is negative");
      }
      this.barSizes[i] = barSizes[i];
    }
    this.bars = Bar.decodeAll(config, this.barSizes);
    this.capabilities = CapabilityWalker.walk(config);
  }

  /**
   * The function's address.
   *
   * @return the address
   */
  public PciAddress address() {
    return address;
  }

  /**
   * The configuration space.
   *
   * @return the configuration space as read
   */
  public ConfigSpace config() {
    return config;
  }

  /**
   * Where the device was read from.
   *
   * @return for example a dump file name or a sysfs directory
   */
  public String source() {
    return source;
  }

  /**
   * The vendor ID.
   *
   * @return 16 bits
   */
  public int vendorId() {
    return config.read16(PciRegs.VENDOR_ID);
  }

  /**
   * The device ID.
   *
   * @return 16 bits
   */
  public int deviceId() {
    return config.read16(PciRegs.DEVICE_ID);
  }

  /**
   * The header type byte, unmasked (bit 7 is the multi-function flag).
   *
   * @return 8 bits
   */
  public int headerTypeRegister() {
    return config.read8(PciRegs.HEADER_TYPE);
  }

  /**
   * The header type, masked with 0x7f.
   *
   * @return 0 normal, 1 bridge, 2 CardBus, anything else unknown
   */
  public int headerType() {
    return headerTypeRegister() & PciRegs.HEADER_TYPE_MASK;
  }

  /**
   * The number of BAR slots of the header type.
   *
   * @return 6, 2, 1 or 0; see {@link PciRegs#barLimit}
   */
  public int barLimit() {
    return PciRegs.barLimit(headerType());
  }

  /**
   * The command register.
   *
   * @return 16 bits
   */
  public int command() {
    return config.read16(PciRegs.COMMAND);
  }

  /**
   * The decoded BARs.
   *
   * @return the BARs in slot order, unmodifiable; see {@link Bar#decodeAll(ConfigSpace, long[])}
   */
  public List<Bar> bars() {
    return bars;
  }

  /**
   * Whether a BAR starts in slot {@code index}.
   *
   * @param index a slot number, any int
   * @return whether {@link #bar(int)} would succeed
   */
  public boolean hasBar(int index) {
    for (Bar b : bars) {
      if (b.index() == index) {
        return true;
      }
    }
    return false;
  }

  /**
   * The BAR that starts in slot {@code index}.
   *
   * @param index a slot number
   * @return the BAR
   * @throws IllegalArgumentException if no BAR starts there; check {@link #hasBar} first
   */
  public Bar bar(int index) {
    for (Bar b : bars) {
      if (b.index() == index) {
        return b;
      }
    }
    throw new IllegalArgumentException("no BAR starts in slot 0x" + Integer.toHexString(index));
  }

  /**
   * Whether slot {@code index} holds the high dword of the 64-bit BAR in the slot before it.
   *
   * @param index a slot number, any int
   * @return whether it is an upper half
   */
  public boolean isUpperHalf(int index) {
    for (Bar b : bars) {
      if (b.slots() == 2 && b.index() + 1 == index) {
        return true;
      }
    }
    return false;
  }

  /**
   * The size of BAR slot {@code index} as the source reported it.
   *
   * @param index a slot number, {@code 0..5}
   * @return the size in bytes, or {@link Bar#SIZE_UNKNOWN}
   * @throws IllegalArgumentException if the index is not {@code 0..5}
   */
  public long barSize(int index) {
    if (index < 0 || index >= PciRegs.SRIOV_NUM_BARS) {
      throw new IllegalArgumentException(
          "BAR index 0x" + Integer.toHexString(index) + " not in 0..5");
    }
    return barSizes[index];
  }

  /**
   * The capability chains.
   *
   * @return the walk's result, with its warnings
   */
  public CapabilityList capabilities() {
    return capabilities;
  }

  /**
   * For example {@code "0000:03:00.0 [15b3:1007] from mellanox.xxx.txt"}.
   *
   * @return a short description
   */
  @Override
  public String toString() {
    return address
        + " ["
        + String.format(java.util.Locale.ROOT, "%04x:%04x", vendorId(), deviceId())
        + "] from "
        + source;
  }
}
