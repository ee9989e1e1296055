package org.hvmmu.mmu.xen;

/**
 * Xen's page-fault error-code bits ({@code PFEC_*}, {@code xen/arch/x86/include/asm/processor.h}):
 * the architectural bits 0-6 of the #PF error code and Xen's synthetic bits above them, which the
 * guest never sees. Each constant is the Xen macro without its {@code PFEC_} prefix.
 *
 * <pre>
 *  bit:  18        17           16          6      5        4           3             2          1             0
 *        implicit  page_shared  page_paged  shstk  prot_key insn_fetch  reserved_bit  user_mode  write_access  page_present
 *        (input)   (synthetic)  (synthetic) --------------------- architectural (PFEC_arch_mask = 0xffff) --------------
 * </pre>
 *
 * <p>The seed (2010) numbered its two synthetic codes 5 and 6 ({@link #SEED_PAGE_PAGED}, {@link
 * #SEED_PAGE_SHARED}), the positions protection keys and shadow stacks took later; its HAP caller
 * replaced the whole error code with one of them, never ORed it in.
 */
public final class Pfec {
  private Pfec() {}

  /** {@code PFEC_page_present}, bit 0: a translation exists (protection or reserved-bit fault). */
  public static final int PAGE_PRESENT = 1;

  /** {@code PFEC_write_access}, bit 1: the access is a write. */
  public static final int WRITE_ACCESS = 1 << 1;

  /** {@code PFEC_user_mode}, bit 2: the access is a user-mode access. */
  public static final int USER_MODE = 1 << 2;

  /** {@code PFEC_reserved_bit}, bit 3: an entry of the walk has a reserved bit set. */
  public static final int RESERVED_BIT = 1 << 3;

  /** {@code PFEC_insn_fetch}, bit 4: the access is an instruction fetch (reported with NX or SMEP). */
  public static final int INSN_FETCH = 1 << 4;

  /** {@code PFEC_prot_key}, bit 5: a protection key denied the access. */
  public static final int PROT_KEY = 1 << 5;

  /** {@code PFEC_shstk}, bit 6: a shadow-stack access (never produced by the walker). */
  public static final int SHSTK = 1 << 6;

  /** {@code PFEC_arch_mask}, bits 15:0: the architectural part of an error code. */
  public static final int ARCH_MASK = 0xFFFF;

  /** {@code PFEC_page_paged}, bit 16 (synthetic): a table or the target is paged out. */
  public static final int PAGE_PAGED = 1 << 16;

  /** {@code PFEC_page_shared}, bit 17 (synthetic): a table or the target is shared and not unshared. */
  public static final int PAGE_SHARED = 1 << 17;

  /**
   * {@code PFEC_implicit}, bit 18 (synthetic walk input): an implicit supervisor access (GDT, LDT,
   * IDT, TSS), which SMAP checks whatever RFLAGS.AC says. Never with user mode or a fetch.
   */
  public static final int IMPLICIT = 1 << 18;

  /** {@code PFEC_synth_mask}: every bit above the architectural ones. */
  public static final int SYNTH_MASK = ~ARCH_MASK;

  /**
   * The bits {@code guest_walk_tables} keeps of its {@code walk} argument since Xen 4.9: implicit,
   * fetch, user and write. Anything else a caller passes (Xen's callers often pass {@link
   * #PAGE_PRESENT}) is ignored.
   */
  public static final int WALK_INPUT_MASK = IMPLICIT | INSN_FETCH | USER_MODE | WRITE_ACCESS;

  /** The seed's {@code PFEC_page_paged} (b5aadd4248: bit 5), the whole error code of a paged-out gfn. */
  public static final int SEED_PAGE_PAGED = 1 << 5;

  /** The seed's {@code PFEC_page_shared} (b5aadd4248: bit 6), the whole error code of a shared gfn. */
  public static final int SEED_PAGE_SHARED = 1 << 6;

  private static final String[] NAMES = {
    "P", "W", "U", "RSVD", "I", "PK", "SS", null, null, null, null, null, null, null, null, null,
    "paged", "shared", "implicit"
  };

  /**
   * An error code in words, today's numbering: for example {@code "P|W|U"}, {@code "U|paged"} or
   * {@code "0"}. Allocates.
   *
   * @param pfec an error code
   * @return the names of its bits, then any unnamed bits in hex
   */
  public static String describe(int pfec) {
    StringBuilder b = new StringBuilder();
    int rest = pfec;
    for (int i = 0; i < NAMES.length; i++) {
      if (NAMES[i] != null && (pfec & (1 << i)) != 0) {
        b.append(b.length() == 0 ? "" : "|").append(NAMES[i]);
        rest &= ~(1 << i);
      }
    }
    if (rest != 0) {
      b.append(b.length() == 0 ? "" : "|").append("0x").append(Integer.toHexString(rest));
    }
    return b.length() == 0 ? "0" : b.toString();
  }
}
