package org.hvmmu.mmu;

/**
 * The rights of a cached translation in one {@code int}, and the tables that turn them into "which
 * accesses may hit" under the current CR0.WP, CR4.SMEP, CR4.SMAP, CR4.CET, PKRU and PKRS.
 *
 * <p>A translation's attributes are fixed when it is cached (Intel SDM vol. 3A §4.10.2.2: a TLB
 * entry holds the rights of the entries used), while the registers that decide what they allow may
 * change without an invalidation. So the hit test is two table lookups, recomputed when a register
 * changes, indexed by the attributes and by the access class:
 *
 * <pre>
 *  attr bit: 14..11  10         9    8    7    6    5    4     3  2   1  0
 *            KEY     SLOW_WRITE ND   NXU  NXS  NW   NR   SSP   D  NX  W  U
 * </pre>
 *
 * <ul>
 *   <li>U, W: U/S and R/W are 1 in every entry used; NX: XD is 1 in some entry (with EFER.NXE); D: the
 *       leaf's dirty flag; SSP: a shadow-stack page (leaf R/W = 0 and D = 1, every other R/W 1).
 *   <li>NR, NW, NXS, NXU: the nested translation allows reads, writes, supervisor-mode and user-mode
 *       execution (all 1 without nesting); ND: the nested leaf's dirty flag is set, or the nested
 *       tables keep none.
 *   <li>SLOW_WRITE: writes must not hit (the frame is watched).
 *   <li>KEY: the leaf's protection key (bits 62:59).
 * </ul>
 *
 * <p>An access class is 5 bits: write (0), user (1), fetch (2), shadow stack (3), and "supervisor
 * explicit access with RFLAGS.AC = 1" (4), the only case in which SMAP lets a supervisor access a
 * user page.
 */
final class Rights {
  private Rights() {}

  static final int U = 1;
  static final int W = 1 << 1;
  static final int NX = 1 << 2;
  static final int D = 1 << 3;
  static final int SSP = 1 << 4;
  static final int NR = 1 << 5;
  static final int NW = 1 << 6;
  static final int NXS = 1 << 7;
  static final int NXU = 1 << 8;
  static final int ND = 1 << 9;
  static final int SLOW_WRITE = 1 << 10;
  static final int KEY_SHIFT = 11;
  static final int NESTED_ALL = NR | NW | NXS | NXU | ND;
  /** The attributes the rights tables are indexed by. */
  static final int TABLE_BITS = 11;
  static final int TABLE_MASK = (1 << TABLE_BITS) - 1;

  static final int CLS_WRITE = 1;
  static final int CLS_USER = 2;
  static final int CLS_FETCH = 4;
  static final int CLS_SHADOW = 8;
  static final int CLS_AC = 16;

  /** Access classes that write (bit 0 of the class set): plain and shadow-stack writes. */
  static final int WRITE_CLASSES = 0xAAAA_AAAA;

  /** The class of a valid access, given RFLAGS.AC. */
  static int classOf(int access, boolean ac) {
    int cls = ((access >>> 1) & 1) // WRITE bit 1 -> 0
        | ((access >>> 1) & 2) // USER bit 2 -> 1
        | ((access >>> 2) & 4) // FETCH bit 4 -> 2
        | ((access >>> 3) & 8); // SHADOW_STACK bit 6 -> 3
    if (ac && (access & (Access.USER | Access.IMPLICIT)) == 0) {
      cls |= CLS_AC;
    }
    return cls;
  }

  /**
   * Fills {@code permitted} (what the rights allow) and {@code hit} (what may hit without a walk:
   * writes also need D and ND, and no SLOW_WRITE) for every attribute value.
   */
  static void buildTables(
      int[] permitted, int[] hit, boolean wp, boolean smep, boolean smap, boolean cet,
      boolean mbec) {
    for (int a = 0; a <= TABLE_MASK; a++) {
      int mask = 0;
      for (int c = 0; c < 32; c++) {
        if (guestAllows(a, c, wp, smep, smap, cet) && nestedAllows(a, c, mbec)) {
          mask |= 1 << c;
        }
      }
      permitted[a] = mask;
      boolean writesHit = (a & D) != 0 && (a & ND) != 0 && (a & SLOW_WRITE) == 0;
      hit[a] = writesHit ? mask : mask & ~WRITE_CLASSES;
    }
  }

  /**
   * Fills {@code allowed[key | userPage << 4]} with the classes protection keys allow (Intel SDM vol.
   * 3A §4.6.2): only data accesses in IA-32e mode are checked; a user page against PKRU if CR4.PKE,
   * a supervisor page against PKRS if CR4.PKS; AD denies every data access, WD denies writes by
   * user-mode accesses and, with CR0.WP, by supervisor-mode ones. Shadow-stack accesses are checked
   * like data accesses, as Bochs' {@code handle_pkeys} does.
   */
  static void buildKeyTable(
      int[] allowed, boolean longMode, boolean pke, boolean pks, int pkru, int pkrs, boolean wp) {
    for (int i = 0; i < 32; i++) {
      int key = i & 15;
      boolean userPage = (i & 16) != 0;
      int register;
      if (!longMode || (userPage && !pke) || (!userPage && !pks)) {
        allowed[i] = -1;
        continue;
      }
      register = userPage ? pkru : pkrs;
      if (((register >>> (2 * key)) & 1) != 0) {
        allowed[i] = FETCH_CLASSES; // access disable: no data access
      } else if (((register >>> (2 * key + 1)) & 1) != 0) {
        // Write disable: no user-mode writes; supervisor-mode writes too with CR0.WP.
        int deniedWrites = WRITE_CLASSES & (wp ? -1 : USER_CLASSES);
        allowed[i] = ~deniedWrites;
      } else {
        allowed[i] = -1;
      }
    }
  }

  /** Classes with the fetch bit (2). */
  static final int FETCH_CLASSES = 0xF0F0_F0F0;

  /** Classes with the user bit (1). */
  static final int USER_CLASSES = 0xCCCC_CCCC;

  /** Intel SDM vol. 3A §4.6.1 and (shadow stacks) §4.6.1's CET rules, for one class. */
  static boolean guestAllows(int a, int c, boolean wp, boolean smep, boolean smap, boolean cet) {
    boolean userPage = (a & U) != 0;
    boolean writable = (a & W) != 0;
    boolean nx = (a & NX) != 0;
    boolean user = (c & CLS_USER) != 0;
    boolean write = (c & CLS_WRITE) != 0;
    boolean fetch = (c & CLS_FETCH) != 0;
    boolean shadow = (c & CLS_SHADOW) != 0;
    if (fetch && (write || shadow)) {
      return false; // no such access
    }
    if (shadow && cet) {
      // Shadow-stack accesses reach shadow-stack pages only, of their own privilege.
      return (a & SSP) != 0 && userPage == user;
    }
    if (user) {
      if (!userPage) {
        return false;
      }
      if (write && !writable) {
        return false;
      }
      return !(fetch && nx);
    }
    if (fetch) {
      if (nx) {
        return false;
      }
      return !(smep && userPage);
    }
    if (userPage && smap && (c & CLS_AC) == 0) {
      return false;
    }
    return !(write && !writable && wp);
  }

  static boolean nestedAllows(int a, int c, boolean mbec) {
    if ((c & CLS_FETCH) != 0) {
      // With mode-based execute control the guest page's U/S picks the bit (SDM vol. 3C §28.2.3.2).
      int bit = mbec && (a & U) != 0 ? NXU : NXS;
      return (a & bit) != 0;
    }
    if ((a & NR) == 0) {
      return false;
    }
    return (c & CLS_WRITE) == 0 || (a & NW) != 0;
  }
}
