package org.hvmmu.pci;

import java.util.Locale;

/**
 * The address of a PCI function, {@code segment:bus:device.function}, written as Linux and Xen
 * write it: {@code 0000:03:00.0} (segment 4 hex digits, bus 2, device 2, function 1).
 *
 * <pre>{@code
 * PciAddress a = PciAddress.parse("0000:03:00.0");
 * a.bus();      // 3
 * a.bdf();      // 0x300, Xen's PCI_BDF(bus, slot, func)
 * PciAddress.parse("03:00.0").equals(a);   // true: a missing segment is 0, as in lspci
 * }</pre>
 *
 * @param segment the PCI segment (domain), {@code 0..0xffff}
 * @param bus the bus number, {@code 0..0xff}
 * @param device the device (slot) number, {@code 0..0x1f}
 * @param function the function number, {@code 0..7}
 */
public record PciAddress(int segment, int bus, int device, int function) {
  /** Largest segment number. */
  public static final int MAX_SEGMENT = 0xffff;

  /** Largest bus number. */
  public static final int MAX_BUS = 0xff;

  /** Largest device (slot) number. */
  public static final int MAX_DEVICE = 0x1f;

  /** Largest function number. */
  public static final int MAX_FUNCTION = 7;

  /**
   * Validates the fields.
   *
   * @param segment see {@link #segment()}
   * @param bus see {@link #bus()}
   * @param device see {@link #device()}
   * @param function see {@link #function()}
   * @throws IllegalArgumentException if a field is out of its range; the message gives the value in
   *     hex
   */
  public PciAddress {
    check("segment", segment, MAX_SEGMENT);
    check("bus", bus, MAX_BUS);
    check("device", device, MAX_DEVICE);
    check("function", function, MAX_FUNCTION);
  }

  private static void check(String name, int value, int max) {
    if (value < 0 || value > max) {
      throw new IllegalArgumentException(
          "PCI "
              + name
              + " 0x"
              + Integer.toHexString(value)
              + " out of range (expected: 0x0..0x"
              + Integer.toHexString(max)
              + ")");
    }
  }

  /**
   * Parses {@code [segment:]bus:device.function} in hex, as lspci, sysfs and Xen's {@code
   * parse_pci} write it; a missing segment is 0. Upper- and lower-case digits are accepted.
   *
   * @param text for example {@code "0000:03:00.0"} or {@code "03:1f.7"}
   * @return the address
   * @throws IllegalArgumentException if the text is not an address or a field is out of range
   */
  public static PciAddress parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("PCI address is null");
    }
    int dot = text.lastIndexOf('.');
    int lastColon = text.lastIndexOf(':');
    if (dot < 0 || lastColon < 0 || dot < lastColon) {
      throw bad(text);
    }
    int firstColon = text.indexOf(':');
    String segment = firstColon == lastColon ? "0" : text.substring(0, firstColon);
    String bus = text.substring(firstColon == lastColon ? 0 : firstColon + 1, lastColon);
    String device = text.substring(lastColon + 1, dot);
    String function = text.substring(dot + 1);
    if (bus.indexOf(':') >= 0) {
      throw bad(text);
    }
    return new PciAddress(
        field(text, segment, 4),
        field(text, bus, 2),
        field(text, device, 2),
        field(text, function, 1));
  }

  private static int field(String text, String digits, int maxDigits) {
    if (digits.isEmpty() || digits.length() > maxDigits) {
      throw bad(text);
    }
    int value = 0;
    for (int i = 0; i < digits.length(); i++) {
      int d = Character.digit(digits.charAt(i), 16);
      if (d < 0 || digits.charAt(i) > 'f') {
        throw bad(text);
      }
      value = (value << 4) | d;
    }
    return value;
  }

  private static IllegalArgumentException bad(String text) {
    return new IllegalArgumentException(
        "not a PCI address (expected [ssss:]bb:dd.f in hex): \"" + text + "\"");
  }

  /**
   * Whether {@code text} parses as an address; never throws.
   *
   * @param text any text, may be null
   * @return whether {@link #parse} would accept it
   */
  public static boolean isAddress(String text) {
    try {
      parse(text);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * The device and function packed as in Xen's {@code PCI_DEVFN(slot, func)}.
   *
   * @return {@code device << 3 | function}
   */
  public int devfn() {
    return (device << 3) | function;
  }

  /**
   * The 16-bit bus/device/function number, Xen's {@code PCI_BDF(bus, slot, func)}; the form SR-IOV
   * arithmetic uses (routing IDs).
   *
   * @return {@code bus << 8 | devfn}
   */
  public int bdf() {
    return (bus << 8) | devfn();
  }

  /**
   * The canonical form.
   *
   * @return for example {@code "0000:03:00.0"}, lower-case hex
   */
  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%04x:%02x:%02x.%x", segment, bus, device, function);
  }
}
