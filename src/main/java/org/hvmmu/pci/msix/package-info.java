/**
 * The MSI-X capability and the frames its table and Pending Bit Array occupy: what Xen's {@code
 * msix_capability_init} reads from a device before it puts those frames into {@code
 * mmio_ro_ranges}.
 *
 * <pre>{@code
 * MsixLayout layout = MsixLayout.inspect(device);
 * if (layout.capability().isPresent() && layout.table().isUsable()) {
 *   long first = layout.table().firstFrame();   // inclusive [first, last]
 *   long last = layout.table().lastFrame();
 * }
 * layout.warnings();   // "table and PBA overlap in BAR 0: ..."
 * }</pre>
 *
 * <p>Values are immutable records; computations are pure static functions. Nothing here logs or
 * prints. Depends on {@code org.hvmmu.pci} only.
 */
package org.hvmmu.pci.msix;
