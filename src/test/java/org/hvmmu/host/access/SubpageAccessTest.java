package org.hvmmu.host.access;

import static org.hvmmu.host.access.InstructionClass.LOAD;
import static org.hvmmu.host.access.InstructionClass.PLAIN_STORE;
import static org.hvmmu.host.access.InstructionClass.READ_MODIFY_WRITE;
import static org.hvmmu.host.access.InstructionClass.WIDE_STORE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The sub-page vectors S1-S5 (reference msix-emulation.md section 11.1: a page whose qwords
 * 0x40-0x7f are read-only), checked in {@code mmio_ro_emulated_write} (pv/ro-page-fault.c), {@code
 * subpage_mmio_write_emulate} (mm.c) and {@code subpage_mmio_read}/{@code _write} (hvm/mmio.c) at
 * RELEASE-4.22.0, and 4.20's defects at RELEASE-4.20.0 (the write at page offset 0, the size
 * ASSERT).
 */
class SubpageAccessTest {
  private static final RoMmioSwitches TODAY = RoMmioSwitches.XEN_4_22;
  private static final RoMmioSwitches XEN_4_20 = TODAY.withSubpage(true, false);
  private static final long PAGE = 0xffff_8800_fed0_0000L;

  /** The slot state of offset {@code off} on the vectors' page: qwords 0x40-0x7f read-only. */
  private static SubpageState slot(int off) {
    return off >= 0x40 && off < 0x80 ? SubpageState.READ_ONLY_SLOT : SubpageState.WRITABLE_SLOT;
  }

  private static AccessReason dom0(RoMmioSwitches s, InstructionClass insn, int off, int bytes) {
    long a = PAGE + off;
    return PvRoAccess.write(s, true, true, false, 0, insn, a, bytes, a, slot(off));
  }

  @Test
  void s1AStoreIntoAReadOnlySlotShouldBeIgnoredWithALogLine() {
    AccessReason r = dom0(TODAY, PLAIN_STORE, 0x44, 4);
    assertEquals(AccessReason.SUBPAGE_IGNORED, r);
    assertEquals(AccessOutcome.DROPPED_LOGGED, r.outcome());
    assertEquals("subpage_mmio_write_emulate", r.function());
  }

  @Test
  void s2AStoreIntoAWritableSlotShouldReachTheDeviceAtItsOffsetFrom421() {
    AccessReason r = dom0(TODAY, PLAIN_STORE, 0x80, 4);
    assertEquals(AccessReason.SUBPAGE_WRITTEN, r);
    assertEquals(AccessOutcome.PERFORMED, r.outcome());
    assertEquals(AccessReason.SUBPAGE_WRITTEN_AT_PAGE_START, dom0(XEN_4_20, PLAIN_STORE, 0x80, 4),
        "4.20: writeb/w/l/q(data, addr) without the offset");
  }

  @Test
  void s3AQwordStoreStartingInAWritableSlotShouldBePerformed() {
    // Only the start offset's slot is checked: 8 bytes at 0x38 end in slot 0x38 anyway.
    assertEquals(AccessReason.SUBPAGE_WRITTEN, dom0(TODAY, PLAIN_STORE, 0x38, 8));
    // A store starting at 0x3c that would reach slot 0x40 is misaligned: bad access.
    assertEquals(AccessReason.MMIO_RO_BAD_ACCESS, dom0(TODAY, PLAIN_STORE, 0x3c, 8));
  }

  @Test
  void s4AWideStoreShouldBeDroppedWithALogLineFrom421AndHitTheAssertIn420() {
    assertEquals(AccessReason.MMIO_RO_WIDE_LOGGED, dom0(TODAY, WIDE_STORE, 0x80, 16));
    assertEquals(AccessReason.MMIO_RO_WIDE_LOGGED, dom0(TODAY, WIDE_STORE, 0x40, 16));
    assertEquals(AccessReason.SUBPAGE_SIZE_ASSERT, dom0(XEN_4_20, WIDE_STORE, 0x80, 16));
    assertEquals(AccessReason.SUBPAGE_IGNORED, dom0(XEN_4_20, WIDE_STORE, 0x40, 16),
        "4.20 checks the slot before the size");
    // Without the list (the seed, and every frame without an entry): dropped, no log.
    assertEquals(AccessReason.MMIO_RO_WIDE_DROPPED,
        dom0(TODAY.withSubpage(false, false), WIDE_STORE, 0x80, 16));
    assertEquals(AccessReason.MMIO_RO_DROPPED,
        dom0(TODAY.withSubpage(false, false), PLAIN_STORE, 0x80, 4));
  }

  @Test
  void s5AMisalignedHvmReadShouldReturnAllOnes() {
    AccessReason r = SubpageAccess.read(0xfed0_0081L, 2);
    assertEquals(AccessReason.SUBPAGE_READ_INVALID, r);
    assertEquals(AccessOutcome.READ_ALL_ONES, r.outcome());
    assertEquals(AccessReason.SUBPAGE_READ, SubpageAccess.read(0xfed0_0080L, 2));
    assertEquals(AccessReason.SUBPAGE_READ_INVALID, SubpageAccess.read(0xfed0_0080L, 3));
    assertEquals(AccessReason.SUBPAGE_READ_INVALID, SubpageAccess.read(0xfed0_0080L, 16));
    // HVM stores through the handler, which hvm_hap_nested_page_fault reaches from 4.21.
    assertEquals(AccessReason.SUBPAGE_WRITE_INVALID,
        SubpageAccess.write(TODAY, SubpageState.WRITABLE_SLOT, 0xfed0_0081L, 2));
    AccessReason w = SubpageAccess.write(TODAY, slot(0x80), 0xfed0_0080L, 4);
    assertEquals(AccessReason.SUBPAGE_WRITTEN, w);
    assertEquals(w, HapRoAccess.access(TODAY, false, false, PLAIN_STORE, w, false));
    assertEquals(AccessReason.SUBPAGE_IGNORED, HapRoAccess.access(TODAY, false, false,
        PLAIN_STORE, SubpageAccess.write(TODAY, slot(0x40), 0xfed0_0040L, 8), false));
    // The read half of an RMW on the page reads the device through the handler.
    assertEquals(AccessReason.SUBPAGE_READ, HapRoAccess.access(TODAY, false, false,
        READ_MODIFY_WRITE, SubpageAccess.read(0xfed0_0080L, 4), false));
    assertEquals(AccessReason.HAP_DIRECT_READ,
        HapRoAccess.access(TODAY, false, false, LOAD, null, false), "loads do not exit");
  }
}
