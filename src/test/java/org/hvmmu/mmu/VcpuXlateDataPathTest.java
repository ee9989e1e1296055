package org.hvmmu.mmu;

import static org.hvmmu.mmu.GuestTables.A;
import static org.hvmmu.mmu.GuestTables.D;
import static org.hvmmu.mmu.GuestTables.P;
import static org.hvmmu.mmu.GuestTables.RW;
import static org.hvmmu.mmu.GuestTables.US;
import static org.hvmmu.mmu.VcpuXlateTables.CR0;
import static org.hvmmu.mmu.VcpuXlateTables.CR4_PAE;
import static org.hvmmu.mmu.VcpuXlateTables.EFER_LONG;
import static org.hvmmu.mmu.VcpuXlateTables.LEAF;
import static org.hvmmu.mmu.VcpuXlateTables.ram;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * Multi-byte loads, stores and fetches through {@link Vcpu}, inside a page and across a page
 * boundary. Expected values: little-endian byte order of the frames the test writes; SDM vol. 3A
 * §4.7 (#PF error code: P for a protection fault, W for a write, U for CPL 3, I for a fetch when
 * NXE or SMEP is on; CR2 gets the linear address that faulted, which for an access crossing into
 * a bad page is the first byte of that page) and the documented contract of read/write (both
 * pages are translated before any byte is accessed, so a fault on the second page writes
 * nothing; a fault returns 0 from read with {@link Vcpu#lastFault()} set, and itself from write).
 */
class VcpuXlateDataPathTest {
  private static final long RO = P | US | A | D;

  private static long frame(int n) {
    return 0x40_0000L + 0x1000L * n;
  }

  /** 0x7000 -> frame 7, 0x8000 -> frame 3, 0x9000 unmapped, 0xD000 -> frame 8, 0xE000 -> 0. */
  private static Vcpu guest(PhysicalMemory m, boolean longMode) {
    long[] map = {0x7000, frame(7), 0x8000, frame(3), 0xD000, frame(8), 0xE000, 0,
        0xF000, frame(9), 0x10000, frame(10), 0x11000, frame(11)};
    long[] flags = {LEAF, LEAF, LEAF, LEAF, LEAF, RO, P | RW | A | D};
    long cr3;
    if (longMode) {
      GuestTables g = new GuestTables(m, 0x100);
      cr3 = g.newTable();
      for (int i = 0; i < flags.length; i++) {
        g.map(cr3, 4, map[2 * i], map[2 * i + 1], 1, P | RW | US | A, flags[i]);
      }
    } else {
      VcpuXlateTables.Pae t = new VcpuXlateTables.Pae(m);
      cr3 = t.cr3;
      for (int i = 0; i < flags.length; i++) {
        t.map4k(map[2 * i], map[2 * i + 1], flags[i]);
      }
    }
    m.write(frame(7) + 0xFF8, 8, 0x4433_2211_0000_0000L);
    m.write(frame(3), 8, 0x0000_0099_8877_6655L);
    m.write(frame(8) + 0xFF8, 8, 0xDDCC_BBAA_0000_0000L);
    m.write(0, 8, 0x0000_0000_F1F0_EEEEL);
    Vcpu v = new Vcpu(m, MmuFeatures.intel(46), MmuSwitches.DEFAULT, TlbConfig.goldenCove(),
        LatencyModel.GOLDEN_COVE);
    assertEquals(0, v.loadState(CR0, cr3, CR4_PAE, longMode ? EFER_LONG : 0x800));
    return v;
  }

  private static void crossingLoads(boolean longMode) {
    PhysicalMemory m = ram(46);
    Vcpu v = guest(m, longMode);
    for (int pass = 0; pass < 2; pass++) { // cold, then with both pages cached
      assertEquals(0x8877_6655_4433_2211L, v.read(0x7FFC, 8, Access.READ));
      assertEquals(0x6655_4433L, v.read(0x7FFE, 4, Access.READ));
      assertEquals(0x5544L, v.read(0x7FFF, 2, Access.READ));
      assertEquals(0x4433_2211L, v.read(0x7FFC, 4, Access.READ), "ends at the boundary");
      assertEquals(0x8877_6655_4433_2211L, v.fetch(0x7FFC, 8, false));
      assertEquals(0xEEEE_DDCC_BBAAL, v.read(0xDFFC, 8, Access.READ) & 0xFFFF_FFFF_FFFFL);
      assertEquals(0xF1F0_EEEE_DDCC_BBAAL, v.read(0xDFFC, 8, Access.READ), "into frame 0");
      assertEquals(0, v.lastFault());
    }
    // The last bytes of a page whose successor is unmapped.
    assertEquals(0x0000_0099_8877_6655L, v.read(0x8000, 8, Access.READ));
    assertEquals(0, v.read(0x8FF8, 8, Access.READ));
    assertEquals(0, v.lastFault());
    // Crossing into the unmapped page: a not-present #PF at its first byte.
    v.read(0x8000, 8, Access.READ);
    assertEquals(0, v.read(0x8FFC, 8, Access.USER));
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(v.lastFault()));
    assertEquals(PageFaultErrorCode.U, Fault.code(v.lastFault()));
    assertEquals(0x9000, v.cr2());
    assertEquals(0, v.fetch(0x8FFE, 4, false));
    assertEquals(PageFaultErrorCode.I, Fault.code(v.lastFault()), "EFER.NXE is on");
    assertEquals(0x9000, v.cr2());
    assertEquals(0x5544, v.read(0x7FFF, 2, Access.READ));
    assertEquals(0, v.lastFault(), "each access starts without a fault");
  }

  @Test
  void loadsCrossingAPageShouldJoinBothFramesInLongMode() {
    crossingLoads(true);
  }

  @Test
  void loadsCrossingAPageShouldJoinBothFramesInPaeMode() {
    crossingLoads(false);
  }

  private static void crossingStores(boolean longMode) {
    PhysicalMemory m = ram(46);
    Vcpu v = guest(m, longMode);
    assertEquals(0, v.write(0x7FFD, 4, 0xD4C3_B2A1L, Access.READ));
    assertEquals(0xC3B2_A111_0000_0000L, m.read(frame(7) + 0xFF8, 8));
    assertEquals(0x0000_0099_8877_66D4L, m.read(frame(3), 8));
    // Again, with both pages cached; then into frame 0.
    assertEquals(0, v.write(0x7FF9, 8, 0x0807_0605_0403_0201L, Access.USER));
    assertEquals(0x0706_0504_0302_0100L, m.read(frame(7) + 0xFF8, 8));
    assertEquals(0x0000_0099_8877_6608L, m.read(frame(3), 8));
    assertEquals(0, v.write(0xDFFE, 4, 0x4433_2211L, Access.READ));
    assertEquals(0x2211_BBAA_0000_0000L, m.read(frame(8) + 0xFF8, 8));
    assertEquals(0x0000_0000_F1F0_4433L, m.read(0, 8));
    // Into a read-only page: #PF P|W at its first byte, nothing written on either side.
    long r = v.write(0xFFFE, 4, -1L, Access.READ);
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(r));
    assertEquals(PageFaultErrorCode.P | PageFaultErrorCode.W, Fault.code(r));
    assertEquals(r, v.lastFault());
    assertEquals(0x10000, v.cr2());
    assertEquals(0, m.read(frame(9) + 0xFF8, 8));
    assertEquals(0, m.read(frame(10), 8));
    // Into an unmapped page.
    r = v.write(0x8FFF, 2, 0xFFFF, Access.USER);
    assertEquals(PageFaultErrorCode.W | PageFaultErrorCode.U, Fault.code(r));
    assertEquals(0x9000, v.cr2());
    assertEquals(0x0000_0099_8877_6608L, m.read(frame(3), 8));
  }

  @Test
  void storesCrossingAPageShouldSplitAcrossBothFramesInLongMode() {
    crossingStores(true);
  }

  @Test
  void storesCrossingAPageShouldSplitAcrossBothFramesInPaeMode() {
    crossingStores(false);
  }

  @Test
  void aStoreToAReadOnlyPageShouldReturnItsFault() {
    PhysicalMemory m = ram(46);
    Vcpu v = guest(m, true);
    assertEquals(0, v.read(0x10000, 8, Access.READ));
    assertEquals(0, v.read(0x10000, 8, Access.READ));
    long r = v.write(0x10008, 8, 5, Access.USER);
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(r));
    assertEquals(PageFaultErrorCode.P | PageFaultErrorCode.W | PageFaultErrorCode.U,
        Fault.code(r));
    assertEquals(r, v.lastFault());
    assertEquals(0x10008, v.cr2());
    assertEquals(0, m.read(frame(10) + 8, 8));
    assertEquals(0, v.write(0xF008, 8, 6, Access.USER));
    assertEquals(0, v.lastFault());
    assertEquals(6, m.read(frame(9) + 8, 8));
  }

  @Test
  void aLoadThatFaultsShouldReturnZeroAndRecordTheFault() {
    PhysicalMemory m = ram(46);
    Vcpu v = guest(m, true);
    m.write(frame(11), 8, 0x1234);
    assertEquals(0x1234, v.read(0x11000, 8, Access.READ));
    assertEquals(0, v.read(0x11000, 8, Access.USER));
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(v.lastFault()));
    assertEquals(PageFaultErrorCode.P | PageFaultErrorCode.U, Fault.code(v.lastFault()));
    assertEquals(0x1234, v.fetch(0x11000, 8, false));
    assertEquals(0, v.fetch(0x11000, 8, true), "a user fetch of a supervisor page");
    assertEquals(PageFaultErrorCode.P | PageFaultErrorCode.U | PageFaultErrorCode.I,
        Fault.code(v.lastFault()));
    assertEquals(0x11000, v.cr2());
  }

  @Test
  void sizesOtherThanOneTwoFourOrEightShouldBeRejected() {
    PhysicalMemory m = ram(46);
    Vcpu v = guest(m, true);
    assertEquals(0, v.write(0x7000, 8, 1, Access.READ));
    for (int size : new int[] {0, 3, 5, 16}) {
      assertThrows(IllegalArgumentException.class, () -> v.write(0x7000, size, -1L, Access.READ));
      assertThrows(IllegalArgumentException.class, () -> v.read(0x7000, size, Access.READ));
    }
    assertEquals(1, m.read(frame(7), 8));
  }
}
