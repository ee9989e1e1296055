package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * A shadow pool's records ({@link ShadowDomain}) against Xen 4.22's shadow/common.c: the pool is
 * the block of machine frames {@code [first, first + capacity)}, page 0 the blank top-level table;
 * {@code shadow_hash_lookup} finds every shadow {@code sh_make_shadow} recorded under its (frame,
 * type) key and nothing else (a frame of 0 included, and however the keys collide); {@code
 * shadow_alloc} hands out a cleared page ({@code clear_domain_page}), so after the pool is reset
 * a new shadow starts with 512 zero entries, and nothing outside the pool is touched. The expected
 * values are those definitions, counted by hand; no hash detail is assumed.
 */
class ShadowMut2DomainTest {
  static final long FIRST = 0x40;

  static PhysicalMemory memory() {
    PhysicalMemory m = new PhysicalMemory(40);
    m.addRam(0, 0xFFF);
    return m;
  }

  @Test
  void theBlankPageShouldBeTheFirstFrameOfThePool() {
    ShadowDomain sd = new ShadowDomain(null, null, memory(), FIRST, 8);
    assertEquals(FIRST, sd.blankFrame());
    assertEquals(0, sd.pageOf(FIRST));
    assertEquals(7, sd.pageOf(FIRST + 7));
    assertEquals(-1, sd.pageOf(FIRST + 8), "one past the pool");
    assertEquals(-1, sd.pageOf(FIRST - 1));
    assertEquals(FIRST + 3, sd.frame(3));
  }

  @Test
  void anEmptyHashShouldFindNothingNotEvenFrameZero() {
    ShadowDomain sd = new ShadowDomain(null, null, memory(), FIRST, 8);
    for (byte t = ShadowDomain.L1; t <= ShadowDomain.FL1; t++) {
      assertEquals(-1, sd.lookup(0, t), "type " + t);
      assertEquals(-1, sd.lookup(1, t), "type " + t);
    }
    assertFalse(sd.isPageTable(0));
    assertTrue(sd.checkInvariants());
  }

  @Test
  void frameZeroShouldBeAPageTableOnceShadowed() {
    ShadowDomain sd = new ShadowDomain(null, null, memory(), FIRST, 8);
    assertEquals(1, sd.make(0, ShadowDomain.L2));
    assertEquals(1, sd.lookup(0, ShadowDomain.L2));
    assertEquals(-1, sd.lookup(0, ShadowDomain.L1));
    assertTrue(sd.isPageTable(0));
    assertFalse(sd.isPageTable(-1));
    // An FL1 is keyed by a guest frame number, not a table: not a page table.
    assertEquals(2, sd.make(5, ShadowDomain.FL1));
    assertFalse(sd.isPageTable(5));
    assertTrue(sd.checkInvariants());
  }

  @Test
  void aFullPoolShouldFindEveryShadowUnderItsKey() {
    int capacity = 128;
    ShadowDomain sd = new ShadowDomain(null, null, memory(), FIRST, capacity);
    // 127 shadows (every page but the blank one), keys spread over frames and types.
    long[] keys = new long[capacity];
    byte[] types = new byte[capacity];
    for (int page = 1; page < capacity; page++) {
      keys[page] = 0x100 + page / 5;
      types[page] = (byte) (1 + page % 5);
      assertEquals(page, sd.make(keys[page], types[page]));
    }
    assertEquals(-1, sd.make(0x999, ShadowDomain.L1), "the pool is full");
    assertEquals(capacity, sd.pagesInUse());
    for (int page = 1; page < capacity; page++) {
      assertEquals(page, sd.lookup(keys[page], types[page]), "page " + page);
    }
    for (long k = 0x100; k < 0x100 + capacity / 5 + 1; k++) {
      assertEquals(-1, sd.lookup(k, ShadowDomain.BLANK));
    }
    assertEquals(-1, sd.lookup(0x200, ShadowDomain.L1));
    assertTrue(sd.checkInvariants());
  }

  @Test
  void resetShouldClearEveryShadowPageAndNothingBeyondThePool() {
    PhysicalMemory m = memory();
    int capacity = 4;
    ShadowDomain sd = new ShadowDomain(null, null, m, FIRST, capacity);
    long beyond = (FIRST + capacity) << 12;
    m.write(beyond, 8, 0x1234); // the frame after the pool: someone else's
    m.write((FIRST - 1) << 12, 8, 0x5678); // and the one before it
    for (int page = 1; page < capacity; page++) {
      assertEquals(page, sd.make(0x100 + page, (byte) page));
      long base = sd.frame(page) << 12;
      m.write(base, 8, 0x11);
      m.write(base + 8 * 5, 8, 0x22);
      m.write(base + 8 * 511, 8, 0x33);
    }
    sd.fl1Base[2] = 7;
    sd.fl1Flags[2] = 0x67;
    sd.poolFull = true;
    sd.reset();
    assertEquals(1, sd.pagesInUse());
    assertFalse(sd.poolFull);
    for (int page = 1; page < capacity; page++) {
      for (int slot = 0; slot < 512; slot++) {
        assertEquals(0, m.read((sd.frame(page) << 12) + 8L * slot, 8), page + "[" + slot + "]");
      }
      assertEquals(ShadowDomain.FREE, sd.type[page]);
      assertEquals(0, sd.backer[page]);
      assertEquals(-1, sd.lookup(0x100 + page, (byte) page));
    }
    assertEquals(0, sd.fl1Base[2]);
    assertEquals(0, sd.fl1Flags[2]);
    assertEquals(0x1234, m.read(beyond, 8));
    assertEquals(0x5678, m.read((FIRST - 1) << 12, 8));
    // The pool is as made: the next shadow is page 1 again, all zero.
    assertEquals(1, sd.make(0x300, ShadowDomain.L3));
    assertEquals(1, sd.lookup(0x300, ShadowDomain.L3));
    assertTrue(sd.checkInvariants());
  }
}
