package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * {@link Rights}, exhaustively, against an oracle written here from the architecture rather than
 * from the class: Intel SDM vol. 3A §4.6.1 (user and supervisor accesses, CR0.WP, CR4.SMEP,
 * CR4.SMAP with EFLAGS.AC, execute-disable) and §4.6.1's shadow-stack rules (CET: a shadow-stack
 * access reaches only a shadow-stack page of its own privilege), and SDM vol. 3C §28.3.3.2 (EPT
 * read, write and execute rights; with mode-based execute control the guest page's U/S picks
 * execute-for-user-mode, bit 10, over execute-for-supervisor-mode, bit 2). A write needs read
 * permission too: write-without-read is an EPT misconfiguration (SDM vol. 3C §28.2.3.1), never a
 * right. A fetch is never a write nor a shadow-stack access, so those classes permit nothing.
 */
class WalkerMutRightsTest {
  private static boolean on(int bits, int bit) {
    return (bits & bit) != 0;
  }

  /** SDM vol. 3A §4.6.1, for attributes {@code a} and access class {@code c}. */
  private static boolean guestOracle(int a, int c, boolean wp, boolean smep, boolean smap,
      boolean cet) {
    boolean write = on(c, 1);
    boolean user = on(c, 2);
    boolean fetch = on(c, 4);
    boolean shadow = on(c, 8);
    boolean ac = on(c, 16);
    boolean userPage = on(a, 1);
    boolean writable = on(a, 2);
    boolean nx = on(a, 4);
    boolean sspPage = on(a, 16);
    if (fetch && (write || shadow)) {
      return false;
    }
    if (shadow && cet) {
      return sspPage && (user == userPage);
    }
    if (fetch) {
      if (nx) {
        return false;
      }
      return user ? userPage : !(smep && userPage);
    }
    if (user) {
      return userPage && (!write || writable);
    }
    boolean smapDenies = smap && userPage && !ac;
    boolean wpDenies = write && !writable && wp;
    return !smapDenies && !wpDenies;
  }

  /** SDM vol. 3C §28.3.3.2 with the nested bits NR 5, NW 6, NXS 7, NXU 8. */
  private static boolean nestedOracle(int a, int c, boolean mbec) {
    if (on(c, 4)) {
      boolean userPage = on(a, 1);
      return mbec && userPage ? on(a, 1 << 8) : on(a, 1 << 7);
    }
    boolean read = on(a, 1 << 5);
    boolean writeRight = on(a, 1 << 6);
    return on(c, 1) ? read && writeRight : read;
  }

  @Test
  void guestRulesShouldMatchTheSdmForEveryAttributeAndClass() {
    for (int flags = 0; flags < 16; flags++) {
      boolean wp = on(flags, 1);
      boolean smep = on(flags, 2);
      boolean smap = on(flags, 4);
      boolean cet = on(flags, 8);
      for (int a = 0; a < 32; a++) {
        for (int c = 0; c < 32; c++) {
          assertEquals(guestOracle(a, c, wp, smep, smap, cet),
              Rights.guestAllows(a, c, wp, smep, smap, cet),
              "attr " + a + " class " + c + " flags " + flags);
        }
      }
    }
  }

  @Test
  void nestedRulesShouldMatchTheSdmForEveryAttributeAndClass() {
    for (int m = 0; m < 2; m++) {
      boolean mbec = m == 1;
      for (int a = 0; a < 1 << 10; a++) {
        for (int c = 0; c < 32; c++) {
          assertEquals(nestedOracle(a, c, mbec), Rights.nestedAllows(a, c, mbec),
              "attr 0x" + Integer.toHexString(a) + " class " + c + " mbec " + mbec);
        }
      }
    }
  }

  @Test
  void tablesShouldCoverEveryAttributeValueAndHoldWritesBackWithoutDirtyBits() {
    for (int flags = 0; flags < 32; flags++) {
      boolean wp = on(flags, 1);
      boolean smep = on(flags, 2);
      boolean smap = on(flags, 4);
      boolean cet = on(flags, 8);
      boolean mbec = on(flags, 16);
      int[] permitted = new int[Rights.TABLE_MASK + 1];
      int[] hit = new int[Rights.TABLE_MASK + 1];
      Rights.buildTables(permitted, hit, wp, smep, smap, cet, mbec);
      for (int a = 0; a < 2048; a++) {
        int expected = 0;
        for (int c = 0; c < 32; c++) {
          if (guestOracle(a, c, wp, smep, smap, cet) && nestedOracle(a, c, mbec)) {
            expected |= 1 << c;
          }
        }
        assertEquals(expected, permitted[a], "permitted attr " + a + " flags " + flags);
        // A write may hit only if the guest leaf and the nested leaf are dirty and the frame is
        // not watched (bits D 3, ND 9, SLOW_WRITE 10); otherwise it walks to set them.
        boolean writesHit = on(a, 1 << 3) && on(a, 1 << 9) && !on(a, 1 << 10);
        int writeClasses = 0;
        for (int c = 1; c < 32; c += 2) {
          writeClasses |= 1 << c;
        }
        assertEquals(writesHit ? expected : expected & ~writeClasses, hit[a],
            "hit attr " + a + " flags " + flags);
      }
    }
  }

  @Test
  void classOfShouldMapEachAccessBit() {
    int[] bits = {Access.WRITE, Access.USER, Access.FETCH, Access.SHADOW_STACK, Access.IMPLICIT};
    for (int combo = 0; combo < 32; combo++) {
      int access = 0;
      for (int k = 0; k < 5; k++) {
        if (on(combo, 1 << k)) {
          access |= bits[k];
        }
      }
      int expected = (on(access, Access.WRITE) ? Rights.CLS_WRITE : 0)
          | (on(access, Access.USER) ? Rights.CLS_USER : 0)
          | (on(access, Access.FETCH) ? Rights.CLS_FETCH : 0)
          | (on(access, Access.SHADOW_STACK) ? Rights.CLS_SHADOW : 0);
      assertEquals(expected, Rights.classOf(access, false), "access " + access);
      // EFLAGS.AC matters only for explicit supervisor-mode accesses (SDM vol. 3A §4.6.1).
      boolean explicitSupervisor = !on(access, Access.USER) && !on(access, Access.IMPLICIT);
      assertEquals(expected | (explicitSupervisor ? Rights.CLS_AC : 0),
          Rights.classOf(access, true), "access " + access + " with AC");
    }
  }
}
