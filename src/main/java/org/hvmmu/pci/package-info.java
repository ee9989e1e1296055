/**
 * PCI configuration space as Xen reads it: the bytes of a function's configuration space, its
 * address, the header and its Base Address Registers, the capability lists, and readers for real
 * dumps ({@code lspci -x} text, Linux sysfs).
 *
 * <p>Everything here is an immutable value or a pure function of one: nothing prints, nothing holds
 * global state, and nothing but the readers touches files. Conditions that a device or a dump
 * controls (a broken capability chain, a BAR in an impossible slot) are results with warnings; only
 * a caller's broken contract throws ({@link java.lang.IllegalArgumentException}), and only the
 * readers throw {@link org.hvmmu.pci.PciDumpParseException}.
 *
 * <pre>{@code
 * for (PciDevice device : SysfsReader.readDevices(SysfsReader.DEFAULT_DEVICES_DIR)) {
 *   long bar0 = PciMemBar.readPciMemBar(device.config(), 0, BarReadMode.CORRECTED);
 * }
 * }</pre>
 *
 * <p>This package is a leaf: it depends on the JDK only. {@code org.hvmmu.pci.msix} builds on it.
 */
package org.hvmmu.pci;
