package org.hvmmu.mmu.dump;

/**
 * The sixteen general-purpose registers of a vCPU, as {@code QEMUCPUState} dumps them. In a dump of
 * a 32-bit guest (or of {@code qemu-system-i386}) the high halves and {@code r8}-{@code r15} are 0.
 *
 * @param rax RAX
 * @param rbx RBX
 * @param rcx RCX
 * @param rdx RDX
 * @param rsi RSI
 * @param rdi RDI
 * @param rsp RSP
 * @param rbp RBP
 * @param r8 R8
 * @param r9 R9
 * @param r10 R10
 * @param r11 R11
 * @param r12 R12
 * @param r13 R13
 * @param r14 R14
 * @param r15 R15
 */
public record GeneralRegisters(
    long rax,
    long rbx,
    long rcx,
    long rdx,
    long rsi,
    long rdi,
    long rsp,
    long rbp,
    long r8,
    long r9,
    long r10,
    long r11,
    long r12,
    long r13,
    long r14,
    long r15) {}
