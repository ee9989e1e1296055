/**
 * What a guest's access to a protected page does, era by era: the decisions Xen's PV fault path
 * ({@link org.hvmmu.host.access.PvRoAccess}), its EPT/NPT violation path ({@link
 * org.hvmmu.host.access.HapRoAccess}), its shadow page-fault path ({@link
 * org.hvmmu.host.access.ShadowRoAccess}), msixtbl ({@link
 * org.hvmmu.host.access.MsixtblAccess}) and the sub-page emulator ({@link
 * org.hvmmu.host.access.SubpageAccess}) make, each returned as an {@link
 * org.hvmmu.host.access.AccessReason} naming the Xen function, whose {@link
 * org.hvmmu.host.access.AccessOutcome} is one of eleven kinds; {@link
 * org.hvmmu.host.access.RoMmioSwitches} names every difference between the eras. The decisions
 * are pure and allocate nothing.
 */
package org.hvmmu.host.access;
