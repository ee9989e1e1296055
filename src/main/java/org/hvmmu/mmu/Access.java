package org.hvmmu.mmu;

/**
 * The kind of a memory access, as an {@code int} of flag bits that the emulator passes to every
 * translation. The bits sit where the #PF error code reports them (Intel SDM vol. 3A §4.7), so the
 * error code of a fault is the access's {@link #WRITE}, {@link #USER}, {@link #FETCH} and {@link
 * #SHADOW_STACK} bits plus what the walk found.
 *
 * <pre>
 *  bit:   9       8         6       4      2     1
 *         STACK   IMPLICIT  SS      FETCH  USER  WRITE      (0 = a supervisor data read)
 * </pre>
 *
 * <ul>
 *   <li>A read is 0, a write {@link #WRITE}, an instruction fetch {@link #FETCH}.
 *   <li>{@link #USER}: a user-mode access (CPL 3 and not an implicit supervisor access).
 *   <li>{@link #IMPLICIT}: an implicit supervisor-mode access (GDT, LDT, IDT, TSS), which SMAP
 *       checks whatever RFLAGS.AC says (SDM vol. 3A §4.6). Never with {@link #USER}.
 *   <li>{@link #SHADOW_STACK}: a CET shadow-stack access (CALL, RET, ...); with {@link #WRITE} for
 *       its stores.
 *   <li>{@link #STACK}: the access uses the SS segment, so a non-canonical address raises #SS rather
 *       than #GP (SDM vol. 3A §6.15, interrupts 12 and 13).
 * </ul>
 *
 * <p>A fetch is never a write or a shadow-stack access; an invalid combination is a caller error
 * ({@link IllegalArgumentException} from the translating method).
 */
public final class Access {
  private Access() {}

  /** A supervisor-mode data read: no bit set. */
  public static final int READ = 0;

  /** Bit 1: a write (the #PF error code's W/R). */
  public static final int WRITE = 1 << 1;

  /** Bit 2: a user-mode access (the #PF error code's U/S). */
  public static final int USER = 1 << 2;

  /** Bit 4: an instruction fetch (the #PF error code's I/D). */
  public static final int FETCH = 1 << 4;

  /** Bit 6: a shadow-stack access (the #PF error code's SS). */
  public static final int SHADOW_STACK = 1 << 6;

  /** Bit 8: an implicit supervisor-mode access (descriptor tables, TSS). */
  public static final int IMPLICIT = 1 << 8;

  /** Bit 9: the access goes through the SS segment (#SS instead of #GP when non-canonical). */
  public static final int STACK = 1 << 9;

  /** Every defined bit. */
  public static final int ALL = WRITE | USER | FETCH | SHADOW_STACK | IMPLICIT | STACK;

  /**
   * Whether {@code access} is a valid combination of the defined bits.
   *
   * @param access the access bits
   * @return false for undefined bits, fetch with write or shadow stack, or user with implicit
   */
  public static boolean isValid(int access) {
    if ((access & ~ALL) != 0) {
      return false;
    }
    if ((access & FETCH) != 0 && (access & (WRITE | SHADOW_STACK)) != 0) {
      return false;
    }
    return (access & (USER | IMPLICIT)) != (USER | IMPLICIT);
  }

  /**
   * Throws unless {@code access} is valid.
   *
   * @param access the access bits
   * @return {@code access}
   * @throws IllegalArgumentException if {@link #isValid} is false
   */
  public static int check(int access) {
    if (!isValid(access)) {
      throw new IllegalArgumentException("access: 0x" + Integer.toHexString(access)
          + " (expected: WRITE, USER, FETCH, SHADOW_STACK, IMPLICIT, STACK bits; a fetch is"
          + " neither a write nor a shadow-stack access; USER excludes IMPLICIT)");
    }
    return access;
  }

  /**
   * The access in the command line's notation: {@code r}, {@code w} or {@code x}, then {@code u},
   * {@code s} or {@code i} (user, supervisor, implicit), with {@code ss} appended for shadow-stack
   * accesses and {@code k} for stack-segment ones.
   *
   * @param access valid access bits
   * @return for example {@code "wu"}
   */
  public static String describe(int access) {
    StringBuilder b = new StringBuilder(4);
    b.append((access & FETCH) != 0 ? 'x' : (access & WRITE) != 0 ? 'w' : 'r');
    b.append((access & USER) != 0 ? 'u' : (access & IMPLICIT) != 0 ? 'i' : 's');
    if ((access & SHADOW_STACK) != 0) {
      b.append("ss");
    }
    if ((access & STACK) != 0) {
      b.append('k');
    }
    return b.toString();
  }

  /**
   * Parses {@link #describe}'s notation: one of {@code r w x}, then one of {@code u s i}, then
   * optionally {@code ss} and {@code k}.
   *
   * @param text for example {@code "ru"}
   * @return the access bits
   * @throws IllegalArgumentException if the text is not in that notation
   */
  public static int parse(String text) {
    if (text.length() < 2) {
      throw badAccess(text);
    }
    int access;
    switch (text.charAt(0)) {
      case 'r':
        access = READ;
        break;
      case 'w':
        access = WRITE;
        break;
      case 'x':
        access = FETCH;
        break;
      default:
        throw badAccess(text);
    }
    switch (text.charAt(1)) {
      case 'u':
        access |= USER;
        break;
      case 's':
        break;
      case 'i':
        access |= IMPLICIT;
        break;
      default:
        throw badAccess(text);
    }
    String rest = text.substring(2);
    if (rest.startsWith("ss")) {
      access |= SHADOW_STACK;
      rest = rest.substring(2);
    }
    if (rest.equals("k")) {
      access |= STACK;
      rest = "";
    }
    if (!rest.isEmpty() || !isValid(access)) {
      throw badAccess(text);
    }
    return access;
  }

  private static IllegalArgumentException badAccess(String text) {
    String shown = text.length() > 16 ? text.substring(0, 16) + "..." : text;
    return new IllegalArgumentException("access '" + shown
        + "' (expected: r, w or x, then u, s or i; optionally ss, then k)");
  }
}
