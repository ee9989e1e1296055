/**
 * Guest dumps: loading a guest's physical memory and vCPU registers into a {@link
 * org.hvmmu.mmu.memory.PhysicalMemory}, so that the MMU can walk the guest's real page tables.
 *
 * <p>{@link org.hvmmu.mmu.dump.GuestDumps} reads the ELF cores of QEMU's {@code dump-guest-memory}
 * and libvirt's {@code virsh dump --memory-only} (ELFCLASS32 and ELFCLASS64, little-endian, {@code
 * EM_386} and {@code EM_X86_64}) and raw physical images, plain or gzip-compressed. A core's {@code
 * PT_LOAD} segments go to their physical addresses ({@code p_paddr}) and make their frames RAM; its
 * "QEMU" notes give one {@link org.hvmmu.mmu.dump.VcpuState} per vCPU with the general, segment and
 * control registers (the layout is {@link org.hvmmu.mmu.dump.QemuCpuStateDescriptor}).
 *
 * <p><b>EFER is derived, not read</b>: QEMU's dump has no EFER, so {@link
 * org.hvmmu.mmu.dump.VcpuState#efer()} is an assumption from CR0, CR4, CS and {@code e_machine}
 * (see {@link org.hvmmu.mmu.dump.VcpuState#assumedEfer}); callers that know the guest's EFER
 * override it.
 *
 * <pre>{@code
 * GuestDump dump = GuestDumps.read(Path.of("core.elf.gz"));
 * VcpuState cpu0 = dump.vcpus().get(0);
 * AddressSpaceWalker w = new AddressSpaceWalker(dump.memory(), cpu0.cr0(), cpu0.cr3(),
 *     cpu0.cr4(), cpu0.efer());
 * }</pre>
 *
 * <p>Bad input gets a {@link org.hvmmu.mmu.dump.DumpFormatException} naming the file, the offset
 * and what was expected, never a crash, an endless loop or an out-of-memory error: every count,
 * size and offset is checked before use, walks are bounded, segment data are streamed in chunks,
 * and gzip decompression is bounded by {@link
 * org.hvmmu.mmu.dump.DumpOptions#maxDecompressedBytes()}.
 *
 * <p>This package depends on {@code org.hvmmu.mmu.memory} and the JDK only.
 */
package org.hvmmu.mmu.dump;
