package org.hvmmu.mmu;

/**
 * The exit qualification of an EPT violation (Intel SDM vol. 3C §27.2.1, table 27-7), bit by bit.
 * Names follow kvm-unit-tests' {@code x86/vmx.h} where it names them.
 */
public final class EptQualification {
  private EptQualification() {}

  /** Bit 0: the access was a data read (also set, with {@link #WRITE}, for locked updates here). */
  public static final long READ = 1L;

  /** Bit 1: the access was a data write (guest A/D updates included). */
  public static final long WRITE = 1L << 1;

  /** Bit 2: the access was an instruction fetch. */
  public static final long FETCH = 1L << 2;

  /** Bit 3: the AND of bit 0 (readable) of the EPT entries used. */
  public static final long PERM_READ = 1L << 3;

  /** Bit 4: the AND of bit 1 (writable) of the EPT entries used. */
  public static final long PERM_WRITE = 1L << 4;

  /** Bit 5: the AND of bit 2 (executable; supervisor-executable with MBEC) of the entries used. */
  public static final long PERM_EXEC = 1L << 5;

  /** Bit 6: with mode-based execute control, the AND of bit 10 (user-executable); else 0. */
  public static final long PERM_USER_EXEC = 1L << 6;

  /** Bit 7: the guest-linear-address field is valid (clear for PDPTE loads by MOV to CR). */
  public static final long GLA_VALID = 1L << 7;

  /** Bit 8: with bit 7, the access was to the translation of the linear address (1) or to a guest
   * paging-structure entry (0). */
  public static final long GLA_TRANSLATED = 1L << 8;

  /** Bit 9 (advanced VM-exit information): the guest translation is user-mode. */
  public static final long GUEST_USER = 1L << 9;

  /** Bit 10 (advanced VM-exit information): the guest translation is writable. */
  public static final long GUEST_WRITABLE = 1L << 10;

  /** Bit 11 (advanced VM-exit information): the guest translation is execute-disable. */
  public static final long GUEST_NX = 1L << 11;

  /** Bit 12: NMI unblocking due to IRET (never set by this model). */
  public static final long NMI_UNBLOCKING = 1L << 12;

  /** Bit 13: the access was a shadow-stack access. */
  public static final long SHADOW_STACK = 1L << 13;

  /**
   * The qualification in text, for example {@code "W|PR|PX|GLA|GLA-TR"}.
   *
   * @param qualification the exit qualification
   * @return the names of its set bits 0-13
   */
  public static String describe(long qualification) {
    String[] names = {"R", "W", "X", "PR", "PW", "PX", "PUX", "GLA", "GLA-TR", "GU", "GW", "GNX",
        "NMI", "SS"};
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < names.length; i++) {
      if ((qualification & (1L << i)) != 0) {
        b.append(b.length() == 0 ? "" : "|").append(names[i]);
      }
    }
    return b.length() == 0 ? "0" : b.toString();
  }
}
