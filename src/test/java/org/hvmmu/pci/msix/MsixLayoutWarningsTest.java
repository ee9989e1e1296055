package org.hvmmu.pci.msix;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.hvmmu.pci.ConfigBuilder;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.VirtioPciCap;
import org.junit.jupiter.api.Test;

/**
 * The complete warning list of {@link MsixLayout#inspect}, in order, for layouts whose byte counts
 * are worked by hand: a table is 16 bytes an entry, a PBA 8 bytes per 64 entries (reference
 * §3.4), a page 0x1000 bytes. Pinning whole lists, not single warnings, also pins the warnings that
 * must not appear.
 */
class MsixLayoutWarningsTest {
  private static final String OTHER_BYTES =
      " bytes that are neither table nor PBA: registers there, if any, become read-only";

  private static List<String> warnings(PciDevice d) {
    return MsixLayout.inspect(d).warnings();
  }

  private static String page(String what, long first, long last, int bir, long rest) {
    boolean many = last - first + 1 > 0x1000;
    return "the page"
        + (many ? "s" : "")
        + " of the "
        + what
        + " ([0x"
        + Long.toHexString(first)
        + ", 0x"
        + Long.toHexString(last)
        + "] of BAR "
        + bir
        + (many ? ") also hold 0x" : ") also holds 0x")
        + Long.toHexString(rest)
        + OTHER_BYTES;
  }

  @Test
  void aPbaInTheTablesPageIsCountedOnceWithTheTable() {
    // 4 entries: table [0x0, 0x3f], PBA [0x800, 0x807]; page [0x0, 0xfff] holds
    // 0x1000 - 0x40 - 8 = 0xfb8 other bytes. The PBA's page is the table's: no second warning.
    assertEquals(
        List.of(page("table", 0x0, 0xfff, 0, 0xfb8)),
        warnings(MsixLayoutTest.device(0x0003, 0x0, 0x800).device(0x4000)));
  }

  @Test
  void aTableOverTwoPagesAndAPbaOnTheNext() {
    // 512 entries: table [0x800, 0x27ff] (0x2000 bytes), pages [0x0, 0x2fff]: 0x1000 other bytes.
    // PBA 512 / 64 * 8 = 0x40 bytes at 0x3000: page [0x3000, 0x3fff], 0xfc0 other bytes.
    assertEquals(
        List.of(page("table", 0x0, 0x2fff, 0, 0x1000), page("PBA", 0x3000, 0x3fff, 0, 0xfc0)),
        warnings(MsixLayoutTest.device(0x01ff, 0x800, 0x3000).device(0x4000)));
  }

  @Test
  void overlappingBytesAreCountedOnce() {
    // 65 entries: table [0x0, 0x40f]; PBA 16 bytes [0x400, 0x40f] inside it. Other bytes in
    // [0x0, 0xfff]: 0x1000 - 0x410 = 0xbf0.
    assertEquals(
        List.of(
            "table [0x0, 0x40f] and PBA [0x400, 0x40f] overlap in BAR 0",
            page("table", 0x0, 0xfff, 0, 0xbf0)),
        warnings(MsixLayoutTest.device(0x0040, 0x0, 0x400).device(0x1000)));
  }

  @Test
  void aPbaBeforeTheTableInItsPage() {
    // 4 entries: table [0x100, 0x13f], PBA [0x0, 0x7], one page: 0x1000 - 0x48 = 0xfb8; the
    // PBA's page is the table's.
    assertEquals(
        List.of(page("table", 0x0, 0xfff, 0, 0xfb8)),
        warnings(MsixLayoutTest.device(0x0003, 0x100, 0x0).device(0x2000)));
  }

  @Test
  void pagesAreCutAtTheEndOfTheBar() {
    // 256 entries at 0x800 in a 0x1000-byte BAR: [0x800, 0x17ff] does not fit; its pages
    // [0x0, 0x1fff] end at the BAR's 0xfff: 0x800 table bytes and the 0x20-byte PBA at 0 leave
    // 0x7e0. A BAR of exactly a page is not "smaller than a page".
    assertEquals(
        List.of(
            "table [0x800, 0x17ff] does not fit BAR 0 of 0x1000 bytes",
            page("table", 0x0, 0xfff, 0, 0x7e0)),
        warnings(MsixLayoutTest.device(0x00ff, 0x800, 0x0).device(0x1000)));
  }

  @Test
  void aPbaBeyondTheBarHasNoPageInIt() {
    // 1 entry: table [0x0, 0xf]; PBA [0x8000, 0x8007] beyond a 0x2000-byte BAR: its page starts
    // past the BAR's end, so only the table's page (0x1000 - 0x10 = 0xff0) is reported.
    assertEquals(
        List.of(
            "PBA [0x8000, 0x8007] does not fit BAR 0 of 0x2000 bytes",
            page("table", 0x0, 0xfff, 0, 0xff0)),
        warnings(MsixLayoutTest.device(0x0000, 0x0, 0x8000).device(0x2000)));
  }

  @Test
  void aTableEndingExactlyAtTheBarsEndFits() {
    // 256 entries at 0x1000 in a 0x2000-byte BAR: [0x1000, 0x1fff] fits and fills its page. The
    // 32-byte PBA at 0 leaves 0xfe0 bytes of [0x0, 0xfff].
    assertEquals(
        List.of(page("PBA", 0x0, 0xfff, 0, 0xfe0)),
        warnings(MsixLayoutTest.device(0x00ff, 0x1000, 0x0).device(0x2000)));
  }

  @Test
  void unknownSizesCutNothing() {
    // 1 entry at 0, PBA at 0x1000 (8 bytes): 0xff0 and 0xff8 other bytes; no fit warnings.
    assertEquals(
        List.of(page("table", 0x0, 0xfff, 0, 0xff0), page("PBA", 0x1000, 0x1fff, 0, 0xff8)),
        warnings(MsixLayoutTest.device(0x0000, 0x0, 0x1000).device()));
  }

  @Test
  void anUnassignedBarIsStillCheckedForItsPage() {
    // BAR 2 is 32-bit prefetchable memory at address 0: warned, and still checked. The table
    // (1 entry) is in BAR 2, the PBA in BAR 0: each page is reported on its own.
    assertEquals(
        List.of(
            "table BIR 2 names BAR 2, which is unassigned (address 0)",
            page("table", 0x0, 0xfff, 2, 0xff0),
            page("PBA", 0x0, 0xfff, 0, 0xff8)),
        warnings(MsixLayoutTest.device(0, 0x2, 0x0).bar(2, 0x8).device()));
  }

  @Test
  void barsThatCannotHoldARegionGetOneWarningEach() {
    // BIR 6 is beyond the header's BARs; BIR 1 is I/O: nothing else is checked for them.
    assertEquals(
        List.of("table BIR 6 is beyond the 6 BARs of header type 0x0", "PBA BIR 1 names I/O BAR 1"),
        warnings(MsixLayoutTest.device(0, 0x6, 0x1).device(0x1000)));
    ConfigBuilder halves =
        MsixLayoutTest.device(0, 0x4, 0x5).bar(3, 0xd000000cL).bar(4, 0x1).bar(5, 0xc);
    assertEquals(
        List.of(
            "table BIR 4 names the upper half of 64-bit BAR 3",
            "PBA BIR 5 names 64-bit BAR 5 in the last slot, which is invalid"),
        warnings(halves.device(0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000)));
    assertEquals(
        List.of(
            "table BIR 2 names BAR 2, which reads 0 (unimplemented or unassigned)",
            "PBA BIR 2 names BAR 2, which reads 0 (unimplemented or unassigned)"),
        warnings(MsixLayoutTest.device(0, 0x2, 0x802).device(0x1000)));
    // A size for BAR 2 makes it implemented: address 0 is then "unassigned", and its page
    // [0x0, 0xfff] holds the 0x10-byte table and the 8-byte PBA: 0xfe8 other bytes.
    assertEquals(
        List.of(
            "table BIR 2 names BAR 2, which is unassigned (address 0)",
            "PBA BIR 2 names BAR 2, which is unassigned (address 0)",
            page("table", 0x0, 0xfff, 2, 0xfe8)),
        warnings(MsixLayoutTest.device(0, 0x2, 0x802).device(0x1000, 0x1000, 0x1000)));
  }

  /** A virtio device with the table (3 entries) at {@code table} and one register block. */
  private static PciDevice virtio(long table, int cfgType, long offset, long length) {
    return MsixLayoutTest.device(0x0002, table, 0x2000)
        .set16(0, VirtioPciCap.VENDOR_ID_VIRTIO)
        .set8(0x41, 0x50)
        .cap(0x50, 0x09, 0)
        .set8(0x52, 16)
        .set8(0x53, cfgType)
        .set8(0x54, 0)
        .set32(0x58, offset)
        .set32(0x5c, length)
        .device(0x4000);
  }

  private static String shares(String block, long first, long last) {
    return "virtio "
        + block
        + " registers [0x"
        + Long.toHexString(first)
        + ", 0x"
        + Long.toHexString(last)
        + "] (capability at 0x50) share a page with the table in BAR 0: they become read-only";
  }

  @Test
  void virtioBlocksAreMatchedAgainstWholePages() {
    // Table [0x800, 0x82f]: its page is [0x0, 0xfff]. A block at its first byte, or at its last,
    // shares it; an empty block shares nothing.
    assertEquals(
        List.of(shares("ISR", 0x0, 0x3)), warnings(virtio(0x800, VirtioPciCap.ISR_CFG, 0x0, 4)));
    assertEquals(
        List.of(shares("ISR", 0xfff, 0xfff)),
        warnings(virtio(0x800, VirtioPciCap.ISR_CFG, 0xfff, 1)));
    assertEquals(List.of(), warnings(virtio(0x800, VirtioPciCap.ISR_CFG, 0x800, 0)));
  }
}
