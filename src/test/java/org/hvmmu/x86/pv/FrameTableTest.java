package org.hvmmu.x86.pv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;
import org.hvmmu.xen.HypervisorBugException;
import org.junit.jupiter.api.Test;

/** Xen's reference counting and page types on the frame table, and its typed errors. */
class FrameTableTest {
  @Test
  void shouldRefuseImpossibleSizesAndFrames() {
    assertThrows(IllegalArgumentException.class, () -> new FrameTable(0));
    assertThrows(IllegalArgumentException.class, () -> new FrameTable(FrameTable.MAX_FRAMES + 1));
    FrameTable t = new FrameTable(16);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> t.owner(0x10));
    assertTrue(e.getMessage().contains("0x10"), e.getMessage());
    assertFalse(t.mfnValid(-1));
    assertTrue(t.isIomemPage(0x10));
    assertThrows(IllegalArgumentException.class, () -> t.assignPage(1, DomainIds.DOMID_IO));
    assertThrows(IllegalArgumentException.class, () -> t.readEntry(1, 512));
  }

  @Test
  void shouldNeverLoseAnAssignedFrame() {
    FrameTable t = new FrameTable(16);
    t.assignPage(3, 1);
    assertThrows(IllegalStateException.class, () -> t.assignPage(3, 2));
    assertThrows(IllegalStateException.class, () -> t.assignRange(2, 4, 2));
    assertEquals(DomainIds.OWNER_NONE, t.owner(2), "a refused range assigns nothing");
    assertEquals(1, t.owner(3));
    assertThrows(IllegalStateException.class, () -> t.shareWithDomIo(3, 3));
    assertEquals(1, t.owner(3));
  }

  @Test
  void shouldFreeAFrameWhenTheLastReferenceGoes() {
    FrameTable t = new FrameTable(16);
    t.assignPage(5, 1);
    assertTrue(t.getPage(5, 1));
    assertFalse(t.getPage(5, 2), "another owner takes no reference");
    assertEquals(2, t.generalCount(5));
    assertTrue(t.releasePage(5));
    assertFalse(t.releasePage(5), "the allocation reference goes once");
    assertEquals(1, t.owner(5), "still referenced by a mapping");
    t.putPage(5);
    assertEquals(DomainIds.OWNER_NONE, t.owner(5));
    assertEquals(0, t.countInfo(5));
    assertEquals(DomainIds.OWNER_NONE, t.getPageOwnerAndReference(5), "a free frame");
    assertThrows(HypervisorBugException.class, () -> t.putPage(5));
  }

  @Test
  void shouldKeepOneTypeAtATime() {
    FrameTable t = new FrameTable(16);
    t.assignPage(6, 1);
    assertEquals(0, t.getPageType(6, PageType.WRITABLE_PAGE));
    assertEquals(0, t.getPageType(6, PageType.WRITABLE_PAGE));
    assertEquals(2, t.typeCount(6));
    assertEquals(-Errno.EINVAL, t.getPageType(6, PageType.SEG_DESC_PAGE));
    t.putPageType(6);
    t.putPageType(6);
    assertEquals(PageType.WRITABLE_PAGE, t.pageType(6), "the type stays while unused");
    assertThrows(HypervisorBugException.class, () -> t.putPageType(6));
    // With no validator, a table type cannot be validated: the frame is left untyped.
    assertEquals(-Errno.EINVAL, t.getPageType(6, PageType.L1_PAGE_TABLE));
    assertEquals(0, t.typeInfo(6));
  }

  @Test
  void shouldRefuseReferencesThatWouldWrap() {
    FrameTable t = new FrameTable(4);
    t.assignPage(1, 1);
    // Xen keeps the last two count values in reserve: take references up to count_mask - 2.
    // Emulate a nearly full count by taking references through the public API would take 2^55
    // steps; instead check the boundary arithmetic on the word directly.
    long full = PageInfo.PGC_COUNT_MASK - 1;
    assertTrue(((full + 2) & PageInfo.PGC_COUNT_MASK) <= 2, "count_mask - 1 is reserved");
    assertFalse(((full - 1 + 2) & PageInfo.PGC_COUNT_MASK) <= 2, "count_mask - 2 may grow");
  }
}
