/**
 * The MSI-X capability and the frames its table and Pending Bit Array occupy: what Xen's {@code
 * msix_capability_init} reads from a device before it puts those frames into {@code
 * mmio_ro_ranges}; and the enable / disable / prepare / release path that puts them there
 * ({@link org.hvmmu.pci.msix.MsixDevice}, switched by {@link org.hvmmu.pci.msix.MsixSwitches}).
 *
 * <pre>{@code
 * MsixLayout layout = MsixLayout.inspect(device);
 * if (layout.capability().isPresent() && layout.table().usable()) {
 *   long first = layout.table().firstFrame();   // inclusive [first, last]
 *   long last = layout.table().lastFrame();
 * }
 * layout.warnings();   // "table and PBA overlap in BAR 0: ..."
 * }</pre>
 *
 * <p>The layout types are immutable records and pure static functions that neither log nor print.
 * {@link org.hvmmu.pci.msix.MsixDevice} is the one mutable, logging (SLF4J) class: it writes the
 * host's {@code mmio_ro_ranges} through an {@link org.hvmmu.rangeset.owned.OwnedRanges} registry.
 * Depends on {@code org.hvmmu.pci}, {@code org.hvmmu.rangeset.owned} and {@code org.hvmmu.xen}.
 */
package org.hvmmu.pci.msix;
