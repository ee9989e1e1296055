package org.hvmmu.mmu.xen;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The seed's {@code mandatory_flags} table and the two code spaces' descriptions. */
class MissingFlagsTest {
  /** Every row of the seed's table: error code (bits 4:1 and P), required flags with NX inverted. */
  @ParameterizedTest(name = "pfec 0x{0} needs 0x{1}")
  @CsvSource({
    "00, 000001", "02, 000003", "04, 000005", "06, 000007",
    "08, 000001", "0a, 000003", "0c, 000005", "0e, 000007",
    "10, 800001", "12, 800003", "14, 800005", "16, 800007",
    "18, 800001", "1a, 800003", "1c, 800005", "1e, 800007",
    "01, 000001", "17, 800007", "1f, 800007"
  })
  void shouldGiveTheSeedsMandatoryFlags(String pfec, String required) {
    assertEquals(Integer.parseInt(required, 16),
        MissingFlags.mandatoryFlags(true, true, Integer.parseInt(pfec, 16)));
  }

  @ParameterizedTest(name = "pfec 0x{0}, NX {1}, WP {2}: 0x{3}")
  @CsvSource({
    // Without guest NX a fetch demands nothing more.
    "10, false, true, 000001",
    "16, false, true, 000007",
    // Without CR0.WP a supervisor write demands no R/W; a user write still does.
    "02, true, false, 000001",
    "12, true, false, 800001",
    "06, true, false, 000007",
    "1e, false, false, 000007",
  })
  void shouldRelaxTheMandatoryFlags(String pfec, boolean nx, boolean wp, String required) {
    assertEquals(Integer.parseInt(required, 16),
        MissingFlags.mandatoryFlags(nx, wp, Integer.parseInt(pfec, 16)));
  }

  @Test
  void shouldDescribeMissingFlags() {
    assertEquals("0", MissingFlags.describe(0));
    assertEquals("P|RW|USER", MissingFlags.describe(7));
    assertEquals("NX", MissingFlags.describe(0x800000));
    assertEquals("PAGED", MissingFlags.describe(MissingFlags.PAGE_PAGED));
    assertEquals("SHARED|0x100", MissingFlags.describe(MissingFlags.PAGE_SHARED | 0x100));
  }

  @Test
  void shouldDescribeErrorCodes() {
    assertEquals("0", Pfec.describe(0));
    assertEquals("P|W|U|RSVD|I|PK|SS", Pfec.describe(0x7F));
    assertEquals("U|paged", Pfec.describe(Pfec.USER_MODE | Pfec.PAGE_PAGED));
    assertEquals("shared|implicit", Pfec.describe(Pfec.PAGE_SHARED | Pfec.IMPLICIT));
    assertEquals("P|0x80100", Pfec.describe(1 | 0x100 | 0x80000));
    assertEquals(0xFFFF_0000, Pfec.SYNTH_MASK);
    assertEquals(0x40016, Pfec.WALK_INPUT_MASK);
  }

  @Test
  void shouldDescribeLookupResults() {
    assertEquals("mfn 0x1234", P2mLookup.describe(0x1234));
    assertEquals("paged out", P2mLookup.describe(P2mLookup.PAGED_OUT));
    assertEquals("shared", P2mLookup.describe(P2mLookup.SHARED));
    assertEquals("invalid gfn", P2mLookup.describe(P2mLookup.GFN_INVALID));
    assertEquals("not RAM", P2mLookup.describe(P2mLookup.NOT_RAM));
    assertEquals("unknown outcome -9", P2mLookup.describe(-9));
  }

  @Test
  void shouldMapLookupResultsAsMapDomainGfnDoes() {
    assertEquals(Pfec.PAGE_PRESENT, GuestWalker.mapDomainGfnPfec(0));
    assertEquals(Pfec.RESERVED_BIT | Pfec.PAGE_PRESENT,
        GuestWalker.mapDomainGfnPfec(P2mLookup.GFN_INVALID));
    assertEquals(Pfec.PAGE_PAGED, GuestWalker.mapDomainGfnPfec(P2mLookup.PAGED_OUT));
    assertEquals(Pfec.PAGE_SHARED, GuestWalker.mapDomainGfnPfec(P2mLookup.SHARED));
    assertEquals(0, GuestWalker.mapDomainGfnPfec(P2mLookup.NOT_RAM));
    assertEquals(MissingFlags.PAGE_PAGED, GuestWalker.mapDomainGfnSeed(P2mLookup.PAGED_OUT, 6));
    assertEquals(MissingFlags.PAGE_SHARED, GuestWalker.mapDomainGfnSeed(P2mLookup.SHARED, 6));
    assertEquals(7, GuestWalker.mapDomainGfnSeed(P2mLookup.NOT_RAM, 6));
    assertEquals(7, GuestWalker.mapDomainGfnSeed(P2mLookup.GFN_INVALID, 6));
  }

  @Test
  void shouldFoldAndUnfoldPse36() {
    // Bits 40:32 <-> 21:13.
    assertEquals(0x3F_E000L, GuestWalker.foldPse36(0x1FFL << 32));
    assertEquals(1L << 21, GuestWalker.foldPse36((1L << 40) | (1L << 45) | (1L << 63)));
    assertEquals(0x3_0040_0087L, GuestWalker.unfoldPse36(0x0040_6087L));
  }
}
