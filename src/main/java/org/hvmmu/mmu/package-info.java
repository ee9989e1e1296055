/**
 * The MMU an emulator calls on every guest load, store and fetch: {@link org.hvmmu.mmu.Vcpu} holds a
 * logical processor's control registers, TLBs, paging-structure caches and counters, and translates
 * linear addresses in every paging mode (32-bit, PAE, 4- and 5-level), over EPT or NPT with 2-D
 * walks, returning a physical address or an encoded {@link org.hvmmu.mmu.Fault} (#PF error code, EPT
 * exit qualification, NPF EXITINFO1) without allocating. Where processors may differ, {@link
 * org.hvmmu.mmu.MmuSwitches} chooses; {@link org.hvmmu.mmu.MmuFeatures}, {@link
 * org.hvmmu.mmu.TlbConfig} and {@link org.hvmmu.mmu.LatencyModel} describe the processor modelled
 * (by default Intel's Golden Cove). {@link org.hvmmu.mmu.AddressSpaceWalker} lists an address space's
 * leaf mappings. See {@code docs/mmu.md}.
 */
package org.hvmmu.mmu;
