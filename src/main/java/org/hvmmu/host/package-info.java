/**
 * The emulated machine an emulator embeds: {@link org.hvmmu.host.Host} owns one {@code
 * mmio_ro_ranges} with the registrations that make it up, the frame table and PV MMU, the domains in
 * every paging mode (PV, PV32, PV in shadow mode, HVM on EPT, NPT or shadow), and a {@link
 * org.hvmmu.host.Policy} of named switches (the seed's or hardened). {@link
 * org.hvmmu.host.HostInvariants} checks the properties that say the design works.
 */
package org.hvmmu.host;
