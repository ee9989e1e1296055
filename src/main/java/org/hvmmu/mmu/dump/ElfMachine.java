package org.hvmmu.mmu.dump;

/**
 * The machine of a core ({@code e_machine}). QEMU writes {@link #X86_64} exactly when the first
 * vCPU has {@code EFER.LMA} set and {@link #I386} otherwise, whatever the ELF class ({@code
 * cpu_get_dump_info} in {@code target/i386/arch_dump.c}).
 */
public enum ElfMachine {
  /** {@code EM_NONE}: no machine (a raw image). */
  NONE(0),
  /** {@code EM_386}: IA-32. */
  I386(3),
  /** {@code EM_X86_64}: x86-64. */
  X86_64(62);

  private final int code;

  ElfMachine(int code) {
    this.code = code;
  }

  /**
   * The value of {@code e_machine}.
   *
   * @return 0, 3 or 62
   */
  public int code() {
    return code;
  }

  /**
   * The machine of an {@code e_machine} value.
   *
   * @param code 0, 3 or 62
   * @return the machine
   * @throws IllegalArgumentException for any other value
   */
  public static ElfMachine fromCode(int code) {
    switch (code) {
      case 0:
        return NONE;
      case 3:
        return I386;
      case 62:
        return X86_64;
      default:
        throw new IllegalArgumentException(
            "ELF machine: 0x"
                + Integer.toHexString(code)
                + " (expected: 0 EM_NONE, 3 EM_386 or 0x3e EM_X86_64)");
    }
  }
}
