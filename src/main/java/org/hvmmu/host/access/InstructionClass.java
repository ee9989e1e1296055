package org.hvmmu.host.access;

/**
 * The kind of instruction that made an access, as far as the hypervisor's emulators tell them apart
 * (reference {@code msix-emulation.md} section 10.6). Alignment, size and privilege are separate
 * inputs of the decisions.
 */
public enum InstructionClass {
  /** A load ({@code mov r, [m]}): it never faults on a read-only page. */
  LOAD,
  /** A plain store of 1, 2, 4 or 8 bytes ({@code mov [m], r}). */
  PLAIN_STORE,
  /**
   * A read-modify-write without LOCK ({@code or [m], r}, {@code add [m], imm}, {@code xchg}): the
   * emulator reads the operand first.
   */
  READ_MODIFY_WRITE,
  /** A locked read-modify-write ({@code lock add}, {@code cmpxchg}): a read, then a cmpxchg. */
  LOCKED,
  /** A string copy ({@code movs}, {@code rep movs}): it reads its source through the emulator. */
  MOVS,
  /** A string store ({@code stos}, {@code rep stos}): element by element, no read. */
  STOS,
  /** A store wider than 8 bytes (SSE, AVX, AVX-512: 16, 32 or 64 bytes). */
  WIDE_STORE,
  /** An instruction Xen's {@code x86_emulate} does not decode or emulate (UNHANDLEABLE). */
  UNEMULATED;

  /**
   * Whether the emulator must read memory before it writes.
   *
   * @return true for RMW, locked and {@code movs}
   */
  public boolean readsMemory() {
    return this == READ_MODIFY_WRITE || this == LOCKED || this == MOVS;
  }

  /**
   * Whether the instruction writes memory.
   *
   * @return false for {@link #LOAD} only
   */
  public boolean writes() {
    return this != LOAD;
  }
}
