package org.hvmmu.mmu;

import static org.hvmmu.mmu.GuestTables.A;
import static org.hvmmu.mmu.GuestTables.P;
import static org.hvmmu.mmu.GuestTables.RW;
import static org.hvmmu.mmu.GuestTables.US;
import static org.hvmmu.mmu.GuestTables.XD;
import static org.hvmmu.mmu.VcpuXlateTables.CR0;
import static org.hvmmu.mmu.VcpuXlateTables.CR4_PAE;
import static org.hvmmu.mmu.VcpuXlateTables.EFER_LONG;
import static org.hvmmu.mmu.VcpuXlateTables.LEAF;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Nested translation through {@link Vcpu} with guest paging off and on. Expected values: Intel SDM
 * vol. 3C §28.3.3 (an EPT violation or misconfiguration removes the guest-physical mappings of its
 * guest-physical address), §28.3.7 (the memory type comes from bits 5:3 of the leaf EPT entry, its
 * ignore-PAT bit is bit 6), §27.2.1 table 27-7 (qualification: bits 2:0 the access, 5:3 the
 * entry's R/W/X, bit 7 guest-linear address valid, bit 8 the access was to the translation of that
 * address; with CR0.PG = 0 bit 9 (user) and bit 10 (writable) are 1 and bit 11 (execute-disable)
 * is 0); AMD APM vol. 2 §15.25.6 and the kvm-unit-tests svm_npt.c vectors in
 * /work/shared/reference/mmu.md §2.5 (npt_rw: 0x1_0000_0007; npt_nx: 0x1_0000_0015).
 */
class VcpuXlateNestedTest {
  private static final long EPT_WB = 6L << 3;

  private static List<Long> mappings(Vcpu v) {
    List<Long> bases = new ArrayList<>();
    v.forEachGuestPhysicalMapping((gpa, shift, hpa, writable) -> bases.add(gpa));
    return bases;
  }

  private static void assertKind(FaultKind kind, long r) {
    assertEquals(kind, Fault.kind(r), Fault.describe(r));
  }

  @Test
  void withPagingOffAndNoNestingTheLinearAddressShouldBeThePhysicalAddress() {
    Vcpu v = Vcpu.create(VcpuXlateTables.ram(46));
    assertEquals(0xFFFF_FFFFL, v.translate(0xFFFF_FFFFL, Access.FETCH));
    assertEquals(0, v.translate(0, Access.WRITE | Access.USER));
  }

  @Test
  void withGuestPagingOffAnEptWalkShouldTranslateTheLinearAddressAsAGuestPhysicalOne() {
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 2);
    long gpa = 0x20_0000;
    f.mapAll(gpa);
    // A 2-MByte guest-physical region whose host frame is 0, user-executable (bit 10).
    f.host.map(f.nestedRoot, 4, 0x4000_0000L, 0, 2, NestedFixture.EPT_RWX | 0x400,
        NestedFixture.EPT_LEAF | 0x40 | 0x400);
    Vcpu v = f.vcpu(TlbConfig.goldenCove());
    assertEquals(-1, v.lastEptMemoryType());
    assertEquals(12, v.lastPageShift());
    assertEquals(0, v.translate(0x4000_0000L, Access.READ));
    assertEquals(21, v.lastPageShift());
    assertEquals(6 | 8, v.lastEptMemoryType(), "WB with ignore-PAT");
    assertEquals(gpa + NestedFixture.OFFSET + 0x1234, v.translate(gpa + 0x1234, Access.WRITE));
    assertEquals(6, v.lastEptMemoryType(), "WB");
    assertEquals(0x5678, v.translate(0x4000_5678L, Access.FETCH));
    // With mode-based execute control (SDM §28.3.3.2) a fetch from a user-mode linear address
    // needs bit 10, and with CR0.PG = 0 every linear address is user-mode.
    long r = v.translate(gpa + 0x10, Access.FETCH);
    assertKind(FaultKind.EPT_VIOLATION, r);
    assertEquals(EptQualification.FETCH | EptQualification.PERM_READ
        | EptQualification.PERM_WRITE | EptQualification.PERM_EXEC | EptQualification.GLA_VALID
        | EptQualification.GLA_TRANSLATED | EptQualification.GUEST_USER
        | EptQualification.GUEST_WRITABLE, Fault.code(r));
    long[] access = {Access.READ, Access.WRITE, Access.FETCH, Access.WRITE | Access.USER};
    long[] bits = {EptQualification.READ, EptQualification.WRITE, EptQualification.FETCH,
        EptQualification.WRITE};
    long base = EptQualification.GLA_VALID | EptQualification.GLA_TRANSLATED
        | EptQualification.GUEST_USER | EptQualification.GUEST_WRITABLE;
    for (int i = 0; i < access.length; i++) {
      long la = 0x8000_0000L + 0x10 * i; // no EPT entry
      r = v.translate(la, (int) access[i]);
      assertKind(FaultKind.EPT_VIOLATION, r);
      assertEquals(bits[i] | base, Fault.code(r), EptQualification.describe(Fault.code(r)));
      assertEquals(la, v.faultGuestPhysical());
      assertEquals(la, v.faultGuestLinear());
    }
    assertEquals(21, v.lastPageShift(), "a fault leaves the last successful page size");
  }

  @Test
  void anEptViolationShouldRemoveTheCachedMappingOfItsAddress() {
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 2);
    long gpa = 0x20_0000;
    f.mapAll();
    f.mapNested(gpa, NestedFixture.EPT_RWX, GuestTables.EPT_R | GuestTables.EPT_X | EPT_WB);
    Vcpu v = f.vcpu(TlbConfig.goldenCove());
    assertEquals(gpa + NestedFixture.OFFSET + 8, v.translate(gpa + 8, Access.READ));
    assertTrue(mappings(v).contains(gpa));
    long r = v.translate(gpa + 8, Access.WRITE);
    assertKind(FaultKind.EPT_VIOLATION, r);
    assertEquals(EptQualification.WRITE | EptQualification.PERM_READ | EptQualification.PERM_EXEC
        | EptQualification.GLA_VALID | EptQualification.GLA_TRANSLATED
        | EptQualification.GUEST_USER | EptQualification.GUEST_WRITABLE, Fault.code(r));
    assertEquals(gpa + 8, v.faultGuestPhysical());
    assertFalse(mappings(v).contains(gpa));
  }

  @Test
  void anEptMisconfigurationShouldRemoveTheCachedMappingOfItsAddress() {
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 2);
    long gpa = 0x20_0000;
    f.mapAll(gpa);
    Vcpu v = new Vcpu(f.memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT,
        TlbConfig.goldenCove(), LatencyModel.GOLDEN_COVE);
    v.configureEpt(f.nestedRoot | 6 | (3 << 3) | ControlRegisters.EPTP_ACCESSED_DIRTY, 1);
    assertEquals(gpa + NestedFixture.OFFSET, v.translate(gpa, Access.READ)); // cached, not dirty
    assertTrue(mappings(v).contains(gpa));
    long leaf = f.nestedEntry(gpa, 2);
    f.host.write(leaf, (f.host.read(leaf) & ~7L) | GuestTables.EPT_W); // write-only
    long r = v.translate(gpa, Access.WRITE); // must walk to set the dirty flag
    assertEquals(Fault.of(FaultKind.EPT_MISCONFIG, 0), r, Fault.describe(r));
    assertEquals(gpa, v.faultGuestPhysical());
    assertFalse(mappings(v).contains(gpa));
  }

  @Test
  void aNestedPageFaultShouldRemoveTheCachedMappingOfItsAddress() {
    NestedFixture f = new NestedFixture(NestedPaging.NPT, 4, 1);
    long gpa = 0x20_3000;
    f.mapAll();
    f.mapNested(gpa, NestedFixture.NPT_UPPER, P | US); // read-only
    Vcpu v = f.vcpu(TlbConfig.goldenCove());
    assertEquals(gpa + NestedFixture.OFFSET, v.translate(gpa, Access.READ));
    assertTrue(mappings(v).contains(gpa));
    long r = v.translate(gpa + 0x10, Access.WRITE);
    assertKind(FaultKind.NESTED_PAGE_FAULT, r);
    assertEquals(0x1_0000_0007L, Fault.code(r), "npt_rw");
    assertEquals(gpa + 0x10, v.faultGuestPhysical());
    assertEquals(-1, v.faultGuestLinear());
    assertFalse(mappings(v).contains(gpa));
  }

  @Test
  void aFetchFromANestedNoExecutePageCachedByALoadShouldReportAFetch() {
    NestedFixture f = new NestedFixture(NestedPaging.NPT, 4, 1);
    long root = f.guest.newTable();
    long la = 0x1000;
    long gpa = 0x20_0000;
    f.guest.map(root, 4, la, gpa, 1, P | RW | US | A, LEAF);
    f.mapAll(gpa);
    long slot = f.nestedEntry(gpa, 1);
    f.host.write(slot, f.host.read(slot) | XD);
    Vcpu v = f.vcpu(TlbConfig.goldenCove());
    assertEquals(0, v.loadState(CR0, root, CR4_PAE, EFER_LONG));
    f.memory.write(gpa + NestedFixture.OFFSET, 8, 0x77);
    assertEquals(0x77, v.read(la, 8, Access.READ));
    assertEquals(0x77, v.read(la, 8, Access.READ));
    assertEquals(0, v.fetch(la, 8, false));
    assertKind(FaultKind.NESTED_PAGE_FAULT, v.lastFault());
    assertEquals(0x1_0000_0015L, Fault.code(v.lastFault()), "npt_nx");
    assertEquals(gpa, v.faultGuestPhysical());
    assertEquals(0, v.fetch(la, 8, true));
    assertEquals(0x1_0000_0015L, Fault.code(v.lastFault()));
  }

  @Test
  void cachedNestedRightsShouldReportTheAccessThatTheyDeny() {
    // EPT: an execute-only leaf (kvm-unit-tests ept_access_test: X gives RD+PX for a read and
    // WR+PX for a write), cached by a supervisor fetch from a supervisor page.
    NestedFixture e = new NestedFixture(NestedPaging.EPT, 4, 1);
    long root = e.guest.newTable();
    long la = 0x1000;
    long gpa = 0x20_0000;
    e.guest.map(root, 4, la, gpa, 1, P | RW | US | A, P | RW | A | GuestTables.D);
    e.mapAll();
    e.mapNested(gpa, NestedFixture.EPT_RWX, GuestTables.EPT_X | EPT_WB);
    Vcpu v = e.vcpu(TlbConfig.goldenCove());
    assertEquals(0, v.loadState(CR0, root, CR4_PAE, EFER_LONG));
    assertEquals(gpa + NestedFixture.OFFSET + 4, v.translate(la + 4, Access.FETCH));
    long q = EptQualification.PERM_EXEC | EptQualification.GLA_VALID
        | EptQualification.GLA_TRANSLATED | EptQualification.GUEST_WRITABLE;
    long r = v.translate(la + 8, Access.READ);
    assertKind(FaultKind.EPT_VIOLATION, r);
    assertEquals(EptQualification.READ | q, Fault.code(r),
        EptQualification.describe(Fault.code(r)));
    assertEquals(gpa + NestedFixture.OFFSET + 4, v.translate(la + 4, Access.FETCH));
    r = v.translate(la + 8, Access.WRITE);
    assertEquals(EptQualification.WRITE | q, Fault.code(r),
        EptQualification.describe(Fault.code(r)));
    assertEquals(la + 8, v.faultGuestLinear());
    // NPT: a read-only nested leaf cached by a load; the store is npt_rw.
    NestedFixture n = new NestedFixture(NestedPaging.NPT, 4, 1);
    root = n.guest.newTable();
    n.guest.map(root, 4, la, gpa, 1, P | RW | US | A, LEAF);
    n.mapAll();
    n.mapNested(gpa, NestedFixture.NPT_UPPER, P | US);
    Vcpu w = n.vcpu(TlbConfig.goldenCove());
    assertEquals(0, w.loadState(CR0, root, CR4_PAE, EFER_LONG));
    assertEquals(gpa + NestedFixture.OFFSET, w.translate(la, Access.READ));
    assertEquals(gpa + NestedFixture.OFFSET, w.translate(la, Access.READ));
    r = w.translate(la + 8, Access.WRITE | Access.USER);
    assertKind(FaultKind.NESTED_PAGE_FAULT, r);
    assertEquals(0x1_0000_0007L, Fault.code(r));
    assertEquals(gpa + 8, w.faultGuestPhysical());
  }

  /** A PAE guest under NPT: its PDPT at GPA 1 MiB, a directory, a 2-MByte page at GPA 2 MiB. */
  private static long paeUnderNpt(MmuSwitches switches, long pdpteExtra) {
    NestedFixture f = new NestedFixture(NestedPaging.NPT, 4, 1);
    long pdpt = f.guest.newTable();
    long pd = f.guest.newTable();
    f.guest.write(pdpt, pd | P | pdpteExtra);
    f.guest.write(pd, 0x20_0000L | LEAF | GuestTables.PS);
    f.mapAll(0x20_0000L + 0x1000);
    Vcpu v = f.vcpu(TlbConfig.goldenCove(), switches, MmuFeatures.amd(46));
    assertEquals(0, v.loadState(CR0, pdpt, CR4_PAE, 0));
    return v.translate(0x1234, Access.READ);
  }

  @Test
  void paePdptesReadUnderNptShouldHaveTheirReservedBitsChecked() {
    long rsvd = PageFaultErrorCode.P | PageFaultErrorCode.RSVD;
    MmuSwitches amd = MmuSwitches.AMD;
    assertEquals(0x20_1234L + NestedFixture.OFFSET, paeUnderNpt(amd, 0));
    assertEquals(rsvd, Fault.code(paeUnderNpt(amd, RW)));
    assertEquals(rsvd, Fault.code(paeUnderNpt(amd, 1L << 5)));
    assertEquals(rsvd, Fault.code(paeUnderNpt(amd, 1L << 46)));
    MmuSwitches loose = amd.withPaePdpteBits8To5Reserved(false);
    assertEquals(0x20_1234L + NestedFixture.OFFSET, paeUnderNpt(loose, 1L << 5));
    assertEquals(rsvd, Fault.code(paeUnderNpt(loose, US)));
  }

  @Test
  void aNestedPageFaultFromACachedEntryShouldLeaveThatEntryMostRecentlyUsed() {
    // AMD reports the #NPF from the cached combined entry; the exit removes guest-physical
    // mappings only (APM §15.25), so the linear entry stays and was the last one used.
    NestedFixture f = new NestedFixture(NestedPaging.NPT, 4, 1);
    long root = f.guest.newTable();
    long[] gpas = {0x20_0000, 0x20_1000, 0x20_2000};
    for (int i = 0; i < 3; i++) {
      f.guest.map(root, 4, 0x1000L * (i + 1), gpas[i], 1, P | RW | US | A, LEAF);
    }
    f.mapAll(gpas[1], gpas[2]);
    f.mapNested(gpas[0], NestedFixture.NPT_UPPER, P | US); // A is read-only in the host
    Vcpu v = f.vcpu(VcpuXlateTables.only(VcpuXlateTables.array("dtlb", 1, false, true,
        TlbStructure.SIZE_4K, 2, 2)));
    assertEquals(0, v.loadState(CR0, root, CR4_PAE, EFER_LONG));
    assertEquals(gpas[0] + NestedFixture.OFFSET, v.translate(0x1000, Access.READ));
    assertEquals(gpas[1] + NestedFixture.OFFSET, v.translate(0x2000, Access.READ));
    assertEquals(2, v.counters().walks());
    long r = v.translate(0x1000, Access.WRITE); // denied by the cached entry: A is used
    assertEquals(0x1_0000_0007L, Fault.code(r), Fault.describe(r));
    assertEquals(2, v.counters().walks(), "no walk");
    assertEquals(gpas[2] + NestedFixture.OFFSET, v.translate(0x3000, Access.READ)); // evicts B
    assertEquals(gpas[0] + NestedFixture.OFFSET, v.translate(0x1000, Access.READ));
    assertEquals(3, v.counters().walks(), "A stayed cached");
  }
}
