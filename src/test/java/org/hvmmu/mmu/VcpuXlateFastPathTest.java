package org.hvmmu.mmu;

import static org.hvmmu.mmu.GuestTables.A;
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
 * The IA-32e fast path of {@link Vcpu#translate}, {@link Vcpu#read} and {@link Vcpu#write} must
 * answer exactly as a walk would once the TLB is warm. Expected values: SDM vol. 3A §3.3.7.1
 * (canonical addresses: bits 63:47, or 63:56 with 5-level paging, all equal, else #GP(0), or
 * #SS(0) for stack references), §4.6.2 (protection keys: PKRU is checked on every data access to
 * a user-mode page, WRPKRU invalidates nothing, a denied access is #PF with P, U and PK), the
 * {@link Access} contract (an invalid combination is an IllegalArgumentException, whatever the
 * TLB holds), and the page tables each test writes: the result of a hit must be the frame of the
 * page asked for, never of a page whose cached tag only resembles it.
 */
class VcpuXlateFastPathTest {
  private static final long HIGH = 0xFFFF_8000_0000_0000L; // first page of the upper half
  private static final long TOP = 0xFFFF_FFFF_FFFF_F000L; // last page of the address space

  private static long frame(int n) {
    return 0x40_0000L + 0x1000L * n;
  }

  private static Vcpu guest(PhysicalMemory m, long cr4, int levels, long... laThenFrame) {
    GuestTables g = new GuestTables(m, 0x100);
    long root = g.newTable();
    for (int i = 0; i < laThenFrame.length; i += 2) {
      g.map(root, levels, laThenFrame[i], laThenFrame[i + 1], 1, P | RW | US | A, LEAF);
    }
    Vcpu v = new Vcpu(m, MmuFeatures.intel(46), MmuSwitches.DEFAULT, TlbConfig.goldenCove(),
        LatencyModel.GOLDEN_COVE);
    assertEquals(0, v.loadState(CR0, root, cr4, EFER_LONG));
    return v;
  }

  private static void assertFault(FaultKind kind, long r) {
    assertEquals(kind, Fault.kind(r), Fault.describe(r));
    assertEquals(0, Fault.code(r));
  }

  @Test
  void aNonCanonicalAddressShouldFaultEvenWhenItsLowBitsNameACachedPage() {
    PhysicalMemory m = ram(46);
    m.write(frame(0), 8, 0x4242);
    Vcpu v = guest(m, CR4_PAE, 4, HIGH, frame(0), 0x7FFF_FFFF_F000L, frame(1));
    assertEquals(frame(0) + 8, v.translate(HIGH + 8, Access.READ));
    assertEquals(0x4242, v.read(HIGH, 8, Access.READ));
    // Bits 56:0 equal HIGH's (so do the TLB tag bits), bits 63:57 are zero: not canonical.
    long alias = HIGH & Vcpu.LA_MASK;
    assertFault(FaultKind.GENERAL_PROTECTION, v.translate(alias, Access.READ));
    assertFault(FaultKind.STACK_FAULT, v.translate(alias, Access.STACK));
    assertEquals(0, v.read(alias, 8, Access.READ));
    assertFault(FaultKind.GENERAL_PROTECTION, v.lastFault());
    assertFault(FaultKind.GENERAL_PROTECTION, v.write(alias, 8, 1, Access.READ));
    assertEquals(0x4242, m.read(frame(0), 8), "nothing written through the alias");
    // Just past the lower half, just below the upper half.
    assertEquals(frame(1), v.translate(0x7FFF_FFFF_F000L, Access.READ));
    assertFault(FaultKind.GENERAL_PROTECTION, v.translate(0x0000_8000_0000_0000L, Access.READ));
    assertFault(FaultKind.GENERAL_PROTECTION, v.translate(0xFFFF_7FFF_FFFF_F000L, Access.READ));
  }

  @Test
  void withFiveLevelPagingBit47IsAnAddressBitAndBit56TheSignBit() {
    PhysicalMemory m = ram(46);
    long la = 0x0000_8000_0000_0000L;
    Vcpu v = guest(m, CR4_PAE | ControlRegisters.CR4_LA57, 5, la, frame(2),
        0xFF00_0000_0000_0000L, frame(3));
    assertEquals(frame(2) + 4, v.translate(la + 4, Access.READ));
    assertEquals(frame(2) + 4, v.translate(la + 4, Access.READ));
    assertEquals(frame(3), v.translate(0xFF00_0000_0000_0000L, Access.READ));
    assertEquals(frame(3), v.translate(0xFF00_0000_0000_0000L, Access.READ));
    // 0x00FF... has bits 56:0 of the cached upper page but bits 63:57 clear.
    assertFault(FaultKind.GENERAL_PROTECTION,
        v.translate(0x0100_0000_0000_0000L, Access.READ));
    assertFault(FaultKind.GENERAL_PROTECTION,
        v.translate(0xFF00_0000_0000_0000L & Vcpu.LA_MASK, Access.READ));
  }

  @Test
  void aHitShouldBeOnThePageOfTheAddressNotOnAPageWhoseNumberIsAShiftOfIt() {
    PhysicalMemory m = ram(46);
    // vpn 0x1000 is (address 1) << 12; vpn 2^45 - 1 is every vpn bit set.
    Vcpu v = guest(m, CR4_PAE, 4, 0x100_0000L, frame(1), 0, frame(2), TOP, frame(3),
        0x5000, frame(4));
    assertEquals(frame(1), v.translate(0x100_0000L, Access.READ));
    assertEquals(frame(3) + 0xFF8, v.translate(TOP + 0xFF8, Access.READ));
    assertEquals(frame(2) + 1, v.translate(1, Access.READ));
    assertEquals(frame(4), v.translate(0x5000, Access.READ));
    assertEquals(frame(2) + 1, v.translate(1, Access.READ));
    assertEquals(frame(4) + 7, v.translate(0x5007, Access.READ));
    m.write(frame(3) + 0xFF8, 8, 0x1234);
    m.write(frame(4), 8, 0x5678);
    assertEquals(0x1234, v.read(TOP + 0xFF8, 8, Access.READ));
    assertEquals(0x5678, v.read(0x5000, 8, Access.READ));
    assertEquals(0, v.write(0x5000, 8, 0x9999, Access.READ));
    assertEquals(0x1234, m.read(frame(3) + 0xFF8, 8));
    assertEquals(0x9999, m.read(frame(4), 8));
  }

  @Test
  void anInvalidAccessShouldBeRejectedWhateverTheTlbHolds() {
    PhysicalMemory m = ram(46);
    Vcpu v = guest(m, CR4_PAE, 4, 0x5000, frame(4));
    assertEquals(frame(4), v.translate(0x5000, Access.USER));
    assertEquals(frame(4), v.translate(0x5000, Access.FETCH));
    assertEquals(frame(4), v.translate(0x5000, Access.READ));
    assertThrows(IllegalArgumentException.class, () -> v.translate(0x5000, 1 << 10));
    assertThrows(IllegalArgumentException.class, () -> v.read(0x5000, 8, 1 << 12));
    int userImplicit = Access.USER | Access.IMPLICIT;
    assertThrows(IllegalArgumentException.class, () -> v.translate(0x5000, userImplicit));
    assertThrows(IllegalArgumentException.class, () -> v.translate(0x5000, 0x3FF));
    assertThrows(IllegalArgumentException.class,
        () -> v.translate(0x5000, Access.FETCH | Access.USER | Access.STACK | 0x20));
    v.setRflags(ControlRegisters.RFLAGS_AC);
    assertThrows(IllegalArgumentException.class, () -> v.translate(0x5000, userImplicit));
    assertThrows(IllegalArgumentException.class, () -> v.translate(0x5000, 0x3FF));
    assertEquals(frame(4), v.translate(0x5000, Access.USER));
  }

  @Test
  void aCachedLargePageShouldStillBeCheckedAgainstTheCurrentPkru() {
    PhysicalMemory m = ram(46);
    GuestTables g = new GuestTables(m, 0x100);
    long root = g.newTable();
    long la = 0x4000_0000L;
    g.map(root, 4, la, 0x0800_0000L, 2, P | RW | US | A, LEAF | (1L << 59)); // key 1
    Vcpu v = new Vcpu(m, MmuFeatures.intel(46), MmuSwitches.DEFAULT, TlbConfig.goldenCove(),
        LatencyModel.GOLDEN_COVE);
    assertEquals(0, v.loadState(CR0, root, CR4_PAE | ControlRegisters.CR4_PKE, EFER_LONG));
    assertEquals(0x0801_2345L, v.translate(la + 0x1_2345, Access.USER));
    assertEquals(0x0801_2345L, v.translate(la + 0x1_2345, Access.USER)); // a TLB hit
    v.writePkru(1 << 2); // AD for key 1
    long r = v.translate(la + 0x1_2345, Access.USER);
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(r), Fault.describe(r));
    assertEquals(PageFaultErrorCode.P | PageFaultErrorCode.U | PageFaultErrorCode.PK,
        Fault.code(r));
    assertEquals(la + 0x1_2345, v.cr2());
    v.writePkru(1 << 3); // WD for key 1: reads pass, user writes fault
    assertEquals(0x0801_2345L, v.translate(la + 0x1_2345, Access.USER));
    r = v.translate(la + 0x1_2345, Access.USER | Access.WRITE);
    assertEquals(PageFaultErrorCode.P | PageFaultErrorCode.W | PageFaultErrorCode.U
        | PageFaultErrorCode.PK, Fault.code(r));
  }
}
