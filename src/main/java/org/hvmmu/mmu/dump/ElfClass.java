package org.hvmmu.mmu.dump;

/**
 * The ELF class of a core ({@code e_ident[EI_CLASS]}): the width of its header and program header
 * fields. QEMU's {@code dump-guest-memory} writes {@link #ELF64} when the first vCPU is in long
 * mode or guest RAM reaches above 4 GiB, and {@link #ELF32} otherwise ({@code cpu_get_dump_info} in
 * {@code target/i386/arch_dump.c}).
 */
public enum ElfClass {
  /** {@code ELFCLASSNONE}: not an ELF file (a raw image). */
  NONE(0),
  /** {@code ELFCLASS32}: 32-bit fields. */
  ELF32(1),
  /** {@code ELFCLASS64}: 64-bit fields. */
  ELF64(2);

  private static final ElfClass[] BY_CODE = {NONE, ELF32, ELF64};

  private final int code;

  ElfClass(int code) {
    this.code = code;
  }

  /**
   * The value of {@code e_ident[EI_CLASS]}.
   *
   * @return 0, 1 or 2
   */
  public int code() {
    return code;
  }

  /**
   * The class of an {@code e_ident[EI_CLASS]} value.
   *
   * @param code 0, 1 or 2
   * @return the class
   * @throws IllegalArgumentException for any other value
   */
  public static ElfClass fromCode(int code) {
    if (code < 0 || code >= BY_CODE.length) {
      throw new IllegalArgumentException(
          "ELF class: 0x" + Integer.toHexString(code) + " (expected: 0, 1 or 2)");
    }
    return BY_CODE[code];
  }
}
