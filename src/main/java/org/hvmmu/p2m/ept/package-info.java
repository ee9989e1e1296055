/**
 * Intel EPT as Xen's p2m: the entry layout and codec ({@link org.hvmmu.p2m.ept.EptEntry}), {@code
 * ept_p2m_type_to_flags} and the MMIO part of {@code epte_get_entry_emt} ({@link
 * org.hvmmu.p2m.ept.EptP2mFlags}), and a 4-level EPT p2m table ({@link org.hvmmu.p2m.ept.EptP2m}).
 */
package org.hvmmu.p2m.ept;
