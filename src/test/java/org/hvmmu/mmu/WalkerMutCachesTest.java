package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link TranslationCache} beyond set 0 and {@link ContextTable}'s id lifecycle. Expected values
 * are computed here by hand: true LRU and tree pseudo-LRU as {@link Replacement} documents them,
 * Marsaglia's xorshift64 generator (shifts 13, 7, 17; "Xorshift RNGs", J. Stat. Softw. 8(14), 2003)
 * for the random policy, and {@link ContextTable}'s documented contract (ids 1 to 0xFFFE, never
 * 0xFFFF; the owner wiped when ids run out or half the 1024 slots are used; a renumbered context
 * leaves its old id dead).
 */
class WalkerMutCachesTest {
  private static final int NON_SET0 = 2;

  /** Fills {@code set}'s ways with keys 0..ways-1, touches {@code order}, returns the victim. */
  private static int victimWay(TranslationCache c, int set, int... order) {
    for (int k = 0; k < c.ways; k++) {
      c.fill(c.victim(set), k, 0, 0, 0, 0);
    }
    for (int k : order) {
      c.touch(c.find(set, k, k));
    }
    int v = c.victim(set);
    assertEquals(set, v / c.ways, "the victim lies in the set");
    return (int) c.tag[v];
  }

  @Test
  void lruShouldAgeOnlyTheWaysOfTheTouchedSet() {
    // 16 entries, 4 ways: 4 sets. In set 2, after filling keys 0..3 and using 0 again, the least
    // recently used is 1.
    TranslationCache c = new TranslationCache("t", CacheGeometry.of(16, 4), false, 1);
    assertEquals(1, victimWay(c, NON_SET0, 0));
    TranslationCache d = new TranslationCache("t", CacheGeometry.of(16, 4), false, 1);
    assertEquals(2, victimWay(d, 3, 0, 1, 3));
    // Six ways are not a power of two: the set base is found by division.
    TranslationCache e = new TranslationCache("t", CacheGeometry.of(24, 6), false, 1);
    assertEquals(4, victimWay(e, 3, 0, 1, 2, 3, 5));
  }

  @Test
  void treePseudoLruShouldKeepOneTreePerSet() {
    // 4 ways: after using 3 then 0, the root points away from 0's half, to the pair (2, 3), and
    // that pair's bit points away from 3: way 2. Set 1 has its own tree.
    TranslationCache c =
        new TranslationCache("t", new CacheGeometry(16, 4, Replacement.TREE_PLRU), false, 1);
    assertEquals(2, victimWay(c, 1, 3, 0));
    assertEquals(2, victimWay(
        new TranslationCache("t", new CacheGeometry(16, 4, Replacement.TREE_PLRU), false, 1),
        3, 3, 0));
    // Using 1 then 2: the root points to (0, 1), whose bit points away from 1: way 0.
    assertEquals(0, victimWay(
        new TranslationCache("t", new CacheGeometry(16, 4, Replacement.TREE_PLRU), false, 1),
        2, 1, 2));
  }

  private static long xorshift64(long x) {
    x ^= x << 13;
    x ^= x >>> 7;
    x ^= x << 17;
    return x;
  }

  @Test
  void randomShouldDrawWaysFromXorshift64() {
    for (long seed : new long[] {42, 0x5EEDL, -3}) {
      TranslationCache c =
          new TranslationCache("t", new CacheGeometry(32, 8, Replacement.RANDOM), false, seed);
      int set = 3;
      for (int k = 0; k < 8; k++) {
        c.fill(c.victim(set), k, 0, 0, 0, 0); // invalid ways first: no draw
      }
      long x = seed;
      for (int n = 0; n < 40; n++) {
        x = xorshift64(x);
        int expected = set * 8 + (int) Long.remainderUnsigned(x, 8);
        assertEquals(expected, c.victim(set), "draw " + n + " seed " + seed);
      }
    }
  }

  @Test
  void fillInvalidateAndClearShouldDropTheCachedPage() {
    TranslationCache c = new TranslationCache("t", CacheGeometry.of(8, 2), true, 1);
    int i = c.victim(1);
    c.fill(i, 5, 0x1000, 0, 0, 0);
    c.page[i] = new byte[4096];
    c.fill(i, 6, 0x2000, 0, 0, 0);
    assertNull(c.page[i], "a refilled entry has no page until the owner sets one");
    c.page[i] = new byte[4096];
    c.invalidate(i);
    assertNull(c.page[i]);
    c.fill(i, 7, 0x3000, 0, 0, 0);
    int j = c.victim(2);
    c.fill(j, 8, 0x4000, 0, 0, 0);
    c.page[i] = new byte[4096];
    c.page[j] = new byte[4096];
    assertTrue(c.clear());
    assertNull(c.page[i]);
    assertNull(c.page[j]);
    assertEquals(-1, c.find(1, 7, 7));
    assertFalse(c.clear());
  }

  // ---- ContextTable ----------------------------------------------------------------------------

  private static final class Owner implements Runnable {
    int wipes;

    @Override
    public void run() {
      wipes++;
    }
  }

  private static final int ALL_KINDS = 0xF;

  @Test
  void slotsShouldStayStableAndDistinctUnderCollisions() {
    Owner o = new Owner();
    ContextTable t = new ContextTable(o);
    int n = 500;
    int[] slots = new int[n];
    int[] ids = new int[n];
    Set<Integer> seen = new HashSet<>();
    for (int k = 0; k < n; k++) {
      slots[k] = t.slot(ContextTable.scope(k & 0xFF, k >>> 8, 0), k * 0x1000L);
      ids[k] = t.id(slots[k]);
      assertTrue(seen.add(slots[k]), "context " + k + " got a used slot");
      assertEquals(k + 1, ids[k], "ids are handed out in order from 1");
    }
    for (int k = n - 1; k >= 0; k--) {
      int s = t.slot(ContextTable.scope(k & 0xFF, k >>> 8, 0), k * 0x1000L);
      assertEquals(slots[k], s, "context " + k + " found again");
      assertEquals(ids[k], t.id(s));
    }
    assertEquals(0, o.wipes);
  }

  @Test
  void tableShouldWipeWhenHalfFull() {
    Owner o = new Owner();
    ContextTable t = new ContextTable(o);
    for (int k = 0; k < 512; k++) {
      t.slot(k, 0);
    }
    assertEquals(0, o.wipes, "512 contexts fit");
    assertTrue(t.isLive(512));
    int s = t.slot(512, 0);
    assertEquals(1, o.wipes, "the 513th starts over");
    assertEquals(1, t.id(s));
    assertFalse(t.isLive(2), "ids of wiped contexts are dead");
    assertEquals(s, t.slot(512, 0), "the new context is found again after the wipe");
    assertEquals(1, t.id(t.slot(512, 0)));
    assertEquals(2, t.id(t.slot(0, 0)), "old contexts come back with new ids");
  }

  @Test
  void isLiveShouldForgetEveryIdOnWipe() {
    Owner o = new Owner();
    ContextTable t = new ContextTable(o);
    int a = t.slot(7, 0);
    assertTrue(t.isLive(t.id(a)));
    assertFalse(t.isLive(0), "ids start at 1");
    assertFalse(t.isLive(2));
    t.wipe();
    assertEquals(1, o.wipes);
    assertFalse(t.isLive(1));
  }

  @Test
  void renumberShouldIgnoreContextsForgottenByAWipe() {
    ContextTable t = new ContextTable(new Owner());
    int a = t.slot(1, 0);
    int b = t.slot(2, 0);
    t.markDirty(b);
    t.wipe();
    assertEquals(a, t.slot(1, 0));
    assertFalse(t.renumber(-1, -1, ALL_KINDS, ContextTable.ANY), "only a clean context is live");
    assertEquals(1, t.id(a));
  }

  @Test
  void renumberShouldGiveDirtyMatchingContextsNewIds() {
    ContextTable t = new ContextTable(new Owner());
    long[][] ctx = {
      {ContextTable.scope(0, 0, 0), 0},
      {ContextTable.scope(5, 0, 0), 0},
      {ContextTable.scope(5, 3, 0), 0},
      {ContextTable.scope(5, 3, 1), 0},
      {ContextTable.scope(5, 3, 0), 0x7000},
      {ContextTable.scope(6, 0, 2), 0x9000},
    };
    // {vpid, pcid, kinds, root-selector (0 ANY, 1 ANY_NONZERO, 2 exact 0x7000)} and which match.
    Object[][] cases = {
      {-1, -1, 0xF, 0, new boolean[] {true, true, true, true, true, true}},
      {ContextTable.ANY_BUT_ZERO, -1, 0xF, 0, new boolean[] {false, true, true, true, true, true}},
      {5, -1, 0xF, 0, new boolean[] {false, true, true, true, true, false}},
      {0, -1, 0xF, 0, new boolean[] {true, false, false, false, false, false}},
      {5, 3, 0xF, 0, new boolean[] {false, false, true, true, true, false}},
      {5, 0, 0xF, 0, new boolean[] {false, true, false, false, false, false}},
      {-1, -1, 1, 0, new boolean[] {true, true, true, false, true, false}},
      {-1, -1, 2, 0, new boolean[] {false, false, false, true, false, false}},
      {-1, -1, 4, 0, new boolean[] {false, false, false, false, false, true}},
      {-1, -1, 0xF, 1, new boolean[] {false, false, false, false, true, true}},
      {-1, -1, 0xF, 2, new boolean[] {false, false, false, false, true, false}},
    };
    for (Object[] k : cases) {
      int[] slots = new int[ctx.length];
      int[] before = new int[ctx.length];
      for (int i = 0; i < ctx.length; i++) {
        slots[i] = t.slot(ctx[i][0], ctx[i][1]);
        t.markDirty(slots[i]);
        before[i] = t.id(slots[i]);
      }
      int sel = (Integer) k[3];
      long root = sel == 0 ? ContextTable.ANY : sel == 1 ? ContextTable.ANY_NONZERO : 0x7000;
      assertTrue(t.renumber((Integer) k[0], (Integer) k[1], (Integer) k[2], root));
      boolean[] match = (boolean[]) k[4];
      boolean[] renumbered = new boolean[ctx.length];
      for (int i = 0; i < ctx.length; i++) {
        renumbered[i] = t.id(slots[i]) != before[i];
        assertEquals(!renumbered[i], t.isLive(before[i]));
      }
      assertArrayEquals(match, renumbered, "vpid " + k[0] + " pcid " + k[1] + " kinds " + k[2]
          + " root " + sel);
    }
    // A clean context keeps its id: nothing was cached under it.
    t.renumber(-1, -1, 0xF, ContextTable.ANY);
    int s = t.slot(ctx[1][0], 0);
    int id = t.id(s);
    assertFalse(t.renumber(5, 0, 0xF, ContextTable.ANY));
    assertEquals(id, t.id(s));
  }

  @Test
  void idsShouldRunToFffeAndNeverReachFfff() {
    Owner o = new Owner();
    ContextTable t = new ContextTable(o);
    int s = t.slot(1, 0);
    // Renumber the one context until it holds id 0xFFFD; the next id handed out is 0xFFFE.
    while (t.id(s) < 0xFFFD) {
      t.markDirty(s);
      assertTrue(t.renumber(-1, -1, ALL_KINDS, ContextTable.ANY));
    }
    assertEquals(0, o.wipes);
    int b = t.slot(2, 0);
    assertEquals(ContextTable.MAX_ID, t.id(b), "0xFFFE is a valid id");
    assertEquals(0, o.wipes);
    int c = t.slot(3, 0);
    assertEquals(1, o.wipes, "no id is left for a third context");
    assertEquals(1, t.id(c));
    // The same limit through renumbering: ids 0xFFFD and 0xFFFE are handed out, then a wipe.
    while (t.id(c) < 0xFFFD) {
      t.markDirty(c);
      t.renumber(-1, -1, ALL_KINDS, ContextTable.ANY);
    }
    t.markDirty(c);
    assertTrue(t.renumber(-1, -1, ALL_KINDS, ContextTable.ANY));
    assertEquals(ContextTable.MAX_ID, t.id(c));
    assertEquals(1, o.wipes);
    t.markDirty(c);
    assertTrue(t.renumber(-1, -1, ALL_KINDS, ContextTable.ANY));
    assertEquals(2, o.wipes);
    assertNotEquals(0xFFFF, t.id(c));
    assertFalse(t.isLive(ContextTable.MAX_ID));
  }
}
