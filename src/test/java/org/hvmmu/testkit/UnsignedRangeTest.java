package org.hvmmu.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Validation, containment and printing of {@link UnsignedRange}. */
class UnsignedRangeTest {
  @Test
  void shouldPrintInHexWhateverTheLocale() {
    // Surefire runs with -Duser.language=hi -Duser.country=IN, whose digits are not ASCII.
    assertEquals("[0x10, 0x1f]", new UnsignedRange(0x10, 0x1f).toString());
    assertEquals("[0x0, 0xffffffffffffffff]", new UnsignedRange(0, -1L).toString());
  }

  @Test
  void shouldRejectAStartAboveTheEndUnsigned() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new UnsignedRange(-1L, 0));
    assertEquals("range start 0xffffffffffffffff is above its end 0x0", e.getMessage());
    assertEquals(Long.MIN_VALUE, new UnsignedRange(Long.MAX_VALUE, Long.MIN_VALUE).end());
  }

  @Test
  void shouldContainItsInclusiveBoundsOnly() {
    UnsignedRange r = new UnsignedRange(Long.MAX_VALUE, Long.MIN_VALUE);
    assertTrue(r.contains(Long.MAX_VALUE));
    assertTrue(r.contains(Long.MIN_VALUE));
    assertFalse(r.contains(Long.MIN_VALUE + 1));
    assertFalse(r.contains(0));
    assertTrue(new UnsignedRange(0, -1L).contains(-1L));
  }
}
