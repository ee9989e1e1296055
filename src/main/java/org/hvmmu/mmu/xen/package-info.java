/**
 * Xen's own software page walker, {@code guest_walk_tables}, as the hypervisor runs it for shadow
 * paging and instruction emulation ({@code xen/arch/x86/mm/guest_walk.c}), with the lookup it maps
 * guest tables through ({@code map_domain_gfn}) and its HAP caller ({@code hap_p2m_ga_to_gfn},
 * {@code xen/arch/x86/mm/hap/guest_walk.c}).
 *
 * <p>Two conventions, chosen by {@link org.hvmmu.mmu.xen.GuestWalkSwitches}: the seed's (Xen 2010,
 * changeset b5aadd4248), which returns the page-table flags the walk found missing, and today's
 * (since Xen 4.9, changeset 4c5d78a10d), which returns success and accumulates a page-fault error
 * code. This is Xen's model of a walk, defects included; the hardware walk is {@code
 * org.hvmmu.mmu.Vcpu}. See {@code docs/xen-guest-walk.md}.
 *
 * <pre>{@code
 * GuestWalker walker = new GuestWalker(memory, P2mLookup.identity(memory),
 *     GuestWalkDomain.hapIntel(46), GuestWalkSwitches.HARDENED);
 * HapGuestWalk hap = new HapGuestWalk(walker);
 * long gfn = hap.hapGvaToGfn(registers, va, Pfec.USER_MODE | Pfec.WRITE_ACCESS);
 * if (gfn == HapGuestWalk.INVALID_GFN) { int errorCode = hap.pfec() & Pfec.ARCH_MASK; ... }
 * }</pre>
 */
package org.hvmmu.mmu.xen;
