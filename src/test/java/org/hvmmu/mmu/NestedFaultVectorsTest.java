package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvmmu.p2m.P2mAccess;
import org.hvmmu.p2m.P2mDomainConfig;
import org.hvmmu.p2m.P2mEra;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.PtP2mFlags;
import org.hvmmu.p2m.ept.EptEntry;
import org.hvmmu.p2m.ept.EptP2mFlags;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.Pte;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * EPT violation qualifications and NPT EXITINFO1 values against golden vectors: kvm-unit-tests
 * {@code x86/vmx_tests.c} ({@code ept_access_test_*}, the "paddr" tests) and {@code x86/svm_npt.c}
 * (reference mmu.md §2.4, §2.5), the SDM's table 27-7, and Xen's EPT and p2m-pt flags for a
 * read-only {@code mmio_direct} frame (mmu.md §1.4: 0x1AA and 0x1_0000_0007).
 */
class NestedFaultVectorsTest {
  private static final long CR0 = 0x8001_0011L; // PG WP ET PE
  private static final long CR4 = ControlRegisters.CR4_PAE;
  private static final long EFER = 0xD00;
  private static final long DATA_GPA = 0x4000_0000L;
  private static final long LA = 0x0000_0012_3456_7000L;
  private static final long GLA = 0x80; // GLA valid
  private static final long TRANSLATED = 0x100; // the access was to the translation

  /** A guest whose single data page's EPT leaf carries {@code leafPerms}. */
  private static final class EptGuest {
    final NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    final long root = f.guest.newTable();
    final Vcpu vcpu;

    EptGuest(long leafPerms, long guestLeaf, MmuFeatures features, boolean accessedDirty) {
      f.guest.map(root, 4, LA, DATA_GPA, 1, 0x27, guestLeaf);
      f.mapAll(DATA_GPA);
      long leaf = f.nestedEntry(DATA_GPA, 1);
      f.memory.write(leaf, 8, (DATA_GPA + NestedFixture.OFFSET) | (6L << 3) | leafPerms);
      vcpu = new Vcpu(f.memory, features, MmuSwitches.DEFAULT, TlbConfig.goldenCove(),
          LatencyModel.GOLDEN_COVE);
      vcpu.configureEpt(f.nestedRoot | 6 | (3 << 3) | (accessedDirty ? 1 << 6 : 0), 1);
      assertEquals(0, vcpu.loadState(CR0, root, CR4, EFER));
    }

    EptGuest(long leafPerms) {
      this(leafPerms, 0x67, MmuFeatures.intel(46).withEpt(false, false, true, false), false);
    }
  }

  private static long run(Vcpu v, String op) {
    switch (op) {
      case "read":
        return v.translate(LA + 0x10, Access.READ);
      case "write":
        return v.translate(LA + 0x10, Access.WRITE);
      default:
        return v.translate(LA + 0x10, Access.FETCH);
    }
  }

  /** "ok", "misconfig", or the qualification in hex. */
  private static String outcome(Vcpu v, long r) {
    if (!Fault.isFault(r)) {
      return "ok";
    }
    if (Fault.kind(r) == FaultKind.EPT_MISCONFIG) {
      return "misconfig";
    }
    assertEquals(FaultKind.EPT_VIOLATION, Fault.kind(r), () -> Fault.describe(r));
    return "0x" + Long.toHexString(Fault.code(r));
  }

  // vmx_tests.c ept_access_test_*: every violation carries LADDR_VLD | PADDR (0x180); bits 9-11
  // are not compared there (no advanced exit information here).
  @ParameterizedTest(name = "EPT leaf {0}: {1} -> {2}")
  @CsvSource({
    "0, read, 0x181", "0, write, 0x182", "0, fetch, 0x184",
    "1, read, ok", "1, write, 0x18a", "1, fetch, 0x18c",
    "2, read, misconfig", "2, write, misconfig", "2, fetch, misconfig",
    "6, read, misconfig", "6, fetch, misconfig",
    "3, read, ok", "3, write, ok", "3, fetch, 0x19c",
    "4, read, misconfig", "4, fetch, misconfig",
    "5, read, ok", "5, write, 0x1aa", "5, fetch, ok",
    "7, read, ok", "7, write, ok", "7, fetch, ok"
  })
  void shouldQualifyLeafPermissionViolations(long perms, String op, String expected) {
    EptGuest g = new EptGuest(perms);
    long r = run(g.vcpu, op);
    assertEquals(expected, outcome(g.vcpu, r), () -> Fault.isFault(r) ? Fault.describe(r) : "ok");
    if (expected.startsWith("0x") || expected.equals("misconfig")) {
      assertEquals(DATA_GPA + 0x10, g.vcpu.faultGuestPhysical());
    }
    if (expected.startsWith("0x")) {
      assertEquals(LA + 0x10, g.vcpu.faultGuestLinear());
    }
  }

  @ParameterizedTest(name = "execute-only EPT leaf: {0} -> {1}")
  @CsvSource({"read, 0x1a1", "write, 0x1a2", "fetch, ok"})
  void shouldAllowExecuteOnlyWithTheCapability(String op, String expected) {
    EptGuest g = new EptGuest(4, 0x67, MmuFeatures.intel(46).withEpt(true, false, true, false),
        false);
    assertEquals(expected, outcome(g.vcpu, run(g.vcpu, op)));
  }

  // Mode-based execute control: bit 2 lets supervisor-mode linear addresses execute, bit 10
  // user-mode ones; the guest page's U/S decides, not the CPL. The guest leaf here is a user page
  // (0x67) fetched by the supervisor (SMEP off).
  // The entries above the leaf allow user-mode execution too (bit 10), since the rights are ANDed.
  @ParameterizedTest(name = "MBEC leaf 0x{0}, execute-only {1}: supervisor fetch of a user page -> {2}")
  @CsvSource({"5, true, 0x1ac", "7, true, 0x1bc", "4, true, 0x1a4", "405, true, ok",
      "401, true, ok", "400, true, ok", "400, false, misconfig", "404, false, misconfig"})
  void shouldUseTheUserExecuteBitWithMbec(String perms, boolean executeOnly, String expected) {
    EptGuest g = new EptGuest(Long.parseLong(perms, 16), 0x67,
        MmuFeatures.intel(46).withEpt(executeOnly, true, true, false), false);
    for (int level = 2; level <= 4; level++) {
      long e = g.f.nestedEntry(DATA_GPA, level);
      g.f.memory.write(e, 8, g.f.memory.read(e, 8) | PageEntry.EPT_XU);
    }
    assertEquals(expected, outcome(g.vcpu, run(g.vcpu, "fetch")));
  }

  @Test
  void shouldUseTheSupervisorExecuteBitForSupervisorPagesWithMbec() {
    // A supervisor page (0x63): bit 2 decides, bit 10 does not help.
    EptGuest xu = new EptGuest(0x401, 0x63, MmuFeatures.intel(46).withEpt(true, true, true, false),
        false);
    assertEquals("0x18c", outcome(xu.vcpu, run(xu.vcpu, "fetch")));
    EptGuest xs = new EptGuest(0x5, 0x63, MmuFeatures.intel(46).withEpt(true, true, true, false),
        false);
    assertEquals("ok", outcome(xs.vcpu, run(xs.vcpu, "fetch")));
  }

  @Test
  void shouldReportTheGuestTranslationWithAdvancedExitInformation() {
    // Bits 9-11: the guest translation is user (9), writable (10), execute-disable (11).
    EptGuest g = new EptGuest(5, 0x67, MmuFeatures.intel(46).withEpt(false, false, true, true),
        false);
    assertEquals("0x7aa", outcome(g.vcpu, run(g.vcpu, "write")));
    EptGuest nx = new EptGuest(1, 0x63 | (1L << 63),
        MmuFeatures.intel(46).withEpt(false, false, true, true), false);
    // Supervisor page (bit 9 clear), writable (10), NX (11).
    assertEquals("0xd8a", outcome(nx.vcpu, run(nx.vcpu, "write")));
  }

  @ParameterizedTest(name = "EPT level {0} restricted to {1}: {2} -> {3}")
  @CsvSource({
    "2, 1, write, 0x18a", "3, 1, write, 0x18a", "4, 1, write, 0x18a",
    "2, 3, fetch, 0x19c", "3, 5, write, 0x1aa", "2, 0, read, 0x181"
  })
  void shouldAndThePermissionsOfEveryLevel(int level, long perms, String op, String expected) {
    EptGuest g = new EptGuest(7);
    long entry = g.f.nestedEntry(DATA_GPA, level);
    long value = g.f.memory.read(entry, 8);
    g.f.memory.write(entry, 8, (value & ~7L) | perms);
    assertEquals(expected, outcome(g.vcpu, run(g.vcpu, op)));
  }

  @ParameterizedTest(name = "reserved bits 0x{1} at EPT level {0}: {2}")
  @CsvSource({
    "1, 8000000000000, misconfig", "2, 8000000000000, misconfig",
    "3, 8000000000000, misconfig", "4, 8000000000000, misconfig",
    "2, 8, misconfig", "3, 40, misconfig", "4, 80, misconfig", "4, 8, misconfig",
    "1, 10, misconfig", "1, 18, misconfig", "1, 38, misconfig",
    "1, 100, ok", "1, 200, ok", "1, 400, ok", "1, 800, ok", "1, 7ff0000000000000, ok",
    "2, f00, ok"
  })
  void shouldFindMisconfigurations(int level, String bits, String expected) {
    EptGuest g = new EptGuest(7);
    long entry = g.f.nestedEntry(DATA_GPA, level);
    long value = g.f.memory.read(entry, 8);
    long b = Long.parseUnsignedLong(bits, 16);
    // Memory-type bits replace the leaf's type (0x10: type 2, 0x18: type 3, 0x38: type 7).
    if (level == 1 && (b & 0x38) != 0) {
      value &= ~0x38L;
    }
    g.f.memory.write(entry, 8, value | b);
    long r = run(g.vcpu, "read");
    assertEquals(expected, outcome(g.vcpu, r));
  }

  @Test
  void shouldIgnoreReservedBitsOfNotPresentEntries() {
    EptGuest g = new EptGuest(0);
    long leaf = g.f.nestedEntry(DATA_GPA, 1);
    g.f.memory.write(leaf, 8, g.f.memory.read(leaf, 8) | (1L << 51) | 0x38);
    assertEquals("0x181", outcome(g.vcpu, run(g.vcpu, "read")));
  }

  @Test
  void shouldReportTheEptMemoryTypeAndIgnorePat() {
    EptGuest g = new EptGuest(7);
    assertEquals(-1, g.vcpu.lastEptMemoryType());
    long leaf = g.f.nestedEntry(DATA_GPA, 1);
    // Write-through (4) with ignore-PAT.
    g.f.memory.write(leaf, 8, (g.f.memory.read(leaf, 8) & ~0x78L) | (4 << 3) | 0x40);
    assertEquals("ok", outcome(g.vcpu, run(g.vcpu, "read")));
    assertEquals(4 | 8, g.vcpu.lastEptMemoryType());
  }

  @Test
  void shouldFindMisconfiguredLargePages() {
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 2);
    long root = f.guest.newTable();
    f.guest.map(root, 4, LA, DATA_GPA, 1, 0x27, 0x67);
    f.mapAll(DATA_GPA);
    long pde = f.nestedEntry(DATA_GPA, 2);
    f.memory.write(pde, 8, f.memory.read(pde, 8) | (1L << 13)); // frame bit below 2 MiB
    Vcpu v = new Vcpu(f.memory, MmuFeatures.intel(46), MmuSwitches.DEFAULT,
        TlbConfig.goldenCove(), LatencyModel.GOLDEN_COVE);
    v.configureEpt(f.nestedRoot | 6 | (3 << 3), 1);
    assertEquals(0, v.loadState(CR0, root, CR4, EFER));
    assertEquals("misconfig", outcome(v, run(v, "read")));
  }

  // vmx_tests.c "paddr" tests: the EPT permissions of the page holding the guest PTE. The
  // violation is on a paging-structure access: GLA valid (bit 7), bit 8 clear; with EPT A/D every
  // guest paging-structure access is a write.
  @ParameterizedTest(name = "guest PT page EPT {0}, PTE A/D {1}, EPT A/D {2}: {3} -> {4}")
  @CsvSource({
    "0, 60, false, read, 0x81", "0, 60, true, read, 0x83",
    "1, 0, false, read, 0x8b", "1, 0, false, fetch, 0x8b", "1, 0, true, read, 0x8b",
    "1, 20, false, read, ok", "1, 20, false, fetch, ok", "1, 20, false, write, 0x8b",
    "1, 20, true, read, 0x8b",
    "1, 60, false, read, ok", "1, 60, false, write, ok", "1, 60, false, fetch, ok",
    "1, 60, true, write, 0x8b",
    "5, 20, false, write, 0xab", "5, 0, true, fetch, 0xab",
    "3, 0, false, write, ok", "3, 0, true, write, ok", "7, 0, true, fetch, ok"
  })
  void shouldQualifyGuestPageTableAccesses(long perms, String accessedDirty, boolean eptAd,
      String op, String expected) {
    long ad = Long.parseLong(accessedDirty, 16);
    EptGuest g = new EptGuest(7, 0x7 | ad,
        MmuFeatures.intel(46).withEpt(false, false, true, false), eptAd);
    long pte = g.f.guest.entryAddress(g.root, 4, LA, 1);
    long ptPage = pte & ~0xFFFL;
    long ptLeaf = g.f.nestedEntry(ptPage, 1);
    g.f.memory.write(ptLeaf, 8, (g.f.memory.read(ptLeaf, 8) & ~7L) | perms);
    long r = run(g.vcpu, op);
    assertEquals(expected, outcome(g.vcpu, r));
    if (!expected.equals("ok")) {
      assertEquals(pte, g.vcpu.faultGuestPhysical());
      assertEquals(LA + 0x10, g.vcpu.faultGuestLinear());
    }
  }

  @Test
  void shouldSetEptAccessedAndDirtyFlags() {
    // EPT A/D on: every EPT entry used gets A; the leaves of written guest-physical pages get D,
    // and guest paging-structure pages are written (SDM vol. 3C §28.3.5).
    EptGuest g = new EptGuest(7, 0x67, MmuFeatures.intel(46), true);
    long pte = g.f.guest.entryAddress(g.root, 4, LA, 1);
    assertFalse(Fault.isFault(run(g.vcpu, "read")));
    for (int level = 1; level <= 4; level++) {
      long e = g.f.memory.read(g.f.nestedEntry(DATA_GPA, level), 8);
      assertTrue((e & PageEntry.EPT_A) != 0, "A at level " + level);
    }
    long dataLeaf = g.f.memory.read(g.f.nestedEntry(DATA_GPA, 1), 8);
    assertEquals(0, dataLeaf & PageEntry.EPT_D, "no D after a read");
    long ptLeaf = g.f.memory.read(g.f.nestedEntry(pte & ~0xFFFL, 1), 8);
    assertTrue((ptLeaf & PageEntry.EPT_D) != 0, "guest page-table page is written");
    long ptPde = g.f.memory.read(g.f.nestedEntry(pte & ~0xFFFL, 2), 8);
    assertEquals(0, ptPde & PageEntry.EPT_D, "D only in the leaf");
    assertFalse(Fault.isFault(run(g.vcpu, "write")));
    dataLeaf = g.f.memory.read(g.f.nestedEntry(DATA_GPA, 1), 8);
    assertTrue((dataLeaf & PageEntry.EPT_D) != 0, "D after a write");
  }

  // ---- Xen's EPT flags for the MSI-X table frame --------------------------------------------

  @Test
  void shouldGiveTheXenMmioRoVectorUnderEpt() {
    // ept_p2m_type_to_flags for p2m_mmio_direct on a frame in mmio_ro_ranges: R=1, W=0, X=1.
    long mfn = (DATA_GPA + NestedFixture.OFFSET) >>> 12;
    RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
    ro.addSingleton(mfn);
    long entry = EptP2mFlags.typeToFlags(P2mSwitches.HARDENED, CpuFeatures.ALL,
        P2mDomainConfig.DEFAULT, ro, EptEntry.withMfn(0, mfn),
        P2mType.MMIO_DIRECT.code(P2mEra.TODAY), P2mAccess.RWX);
    assertEquals(5, entry & 7, "R and X, not W");
    EptGuest g = new EptGuest(7);
    g.f.memory.write(g.f.nestedEntry(DATA_GPA, 1), 8, (entry & ~0xF000_0000_0000_0F00L)
        | (6L << 3));
    assertEquals("0x1aa", outcome(g.vcpu, run(g.vcpu, "write")));
    assertEquals(DATA_GPA + 0x10, g.vcpu.faultGuestPhysical());
    assertEquals("ok", outcome(g.vcpu, run(g.vcpu, "read")));
  }

  @Test
  void shouldGiveTheXenMmioRoVectorUnderNpt() {
    // p2m_type_to_flags (p2m-pt, used for NPT) for the same frame: present, user, no RW.
    long mfn = (DATA_GPA + NestedFixture.OFFSET) >>> 12;
    RangeSet ro = new IntervalTreeRangeSet("mmio_ro_ranges", 0);
    ro.addSingleton(mfn);
    int flags = PtP2mFlags.typeToFlags(P2mSwitches.HARDENED, P2mType.MMIO_DIRECT, mfn, 0, ro,
        false);
    long entry = Pte.fromMfn(mfn, flags);
    assertEquals(0, entry & 2, "not writable");
    NestedFixture f = new NestedFixture(NestedPaging.NPT, 4, 1);
    long root = f.guest.newTable();
    f.guest.map(root, 4, LA, DATA_GPA, 1, 0x27, 0x67);
    f.mapAll(DATA_GPA);
    f.memory.write(f.nestedEntry(DATA_GPA, 1), 8, entry);
    Vcpu v = f.vcpu(TlbConfig.goldenCove());
    assertEquals(0, v.loadState(CR0, root, CR4, EFER));
    long r = v.translate(LA + 0x10, Access.WRITE);
    assertEquals(FaultKind.NESTED_PAGE_FAULT, Fault.kind(r));
    assertEquals(0x1_0000_0007L, Fault.code(r));
    assertEquals(DATA_GPA + 0x10, v.faultGuestPhysical());
    assertFalse(Fault.isFault(v.translate(LA + 0x10, Access.READ)));
  }

  // ---- svm_npt.c ---------------------------------------------------------------------------

  private static final class NptGuest {
    final NestedFixture f = new NestedFixture(NestedPaging.NPT, 4, 1);
    final long root = f.guest.newTable();
    final Vcpu vcpu;

    NptGuest(long hostCr4, long hostEfer, long guestEfer) {
      // The data page in slot 0 of the guest PML4 (la 0x4000_0000), as kvm-unit-tests' identity map.
      f.guest.map(root, 4, DATA_GPA, DATA_GPA, 1, 0x27, 0x67);
      f.mapAll(DATA_GPA);
      vcpu = new Vcpu(f.memory, MmuFeatures.amd(46), MmuSwitches.AMD, TlbConfig.goldenCove(),
          LatencyModel.GOLDEN_COVE);
      vcpu.configureNpt(f.nestedRoot, 1, hostCr4, hostEfer);
      assertEquals(0, vcpu.loadState(CR0, root, CR4, guestEfer));
    }

    NptGuest() {
      this(0x20, 0xD00, 0xD00);
    }

    void change(long gpa, int level, long clear, long set) {
      long e = f.nestedEntry(gpa, level);
      f.memory.write(e, 8, (f.memory.read(e, 8) & ~clear) | set);
    }

    long exitInfo(int access) {
      long r = vcpu.translate(DATA_GPA + 0x10, access);
      assertEquals(FaultKind.NESTED_PAGE_FAULT, Fault.kind(r), () -> Fault.describe(r));
      assertEquals(-1, vcpu.faultGuestLinear());
      return Fault.code(r);
    }
  }

  @Test
  void shouldMatchSvmNptVectors() {
    NptGuest np = new NptGuest();
    np.change(DATA_GPA, 1, 1, 0); // npt_np: not present, read
    assertEquals(0x1_0000_0004L, np.exitInfo(Access.READ));
    assertEquals(DATA_GPA + 0x10, np.vcpu.faultGuestPhysical());

    NptGuest nx = new NptGuest(0x20, 0xD00, 0x500); // guest EFER.NX clear: must not matter
    nx.change(DATA_GPA, 1, 0, 1L << 63); // npt_nx: fetch
    assertEquals(0x1_0000_0015L, nx.exitInfo(Access.FETCH));

    NptGuest us = new NptGuest();
    us.change(DATA_GPA, 1, 4, 0); // npt_us: read of a supervisor nested page
    assertEquals(0x1_0000_0005L, us.exitInfo(Access.READ));

    NptGuest rw = new NptGuest();
    rw.change(DATA_GPA, 1, 2, 0); // npt_rw: write
    assertEquals(0x1_0000_0007L, rw.exitInfo(Access.WRITE));

    NptGuest walk = new NptGuest();
    walk.change(walk.root, 1, 2, 0); // npt_rw_pfwalk: W=0 on the page holding the guest's CR3
    assertEquals(0x2_0000_0007L, walk.exitInfo(Access.READ));
    assertEquals(walk.root, walk.vcpu.faultGuestPhysical());
  }

  @Test
  void shouldMatchSvmNptReservedBitVectors() {
    for (int i = 0; i < 16; i++) {
      boolean hostNx = (i & 1) != 0;
      boolean hostSmep = (i & 2) != 0;
      long hostEfer = hostNx ? 0xD00 : 0x500;
      long hostCr4 = 0x20 | (hostSmep ? ControlRegisters.CR4_SMEP : 0);
      long guestEfer = (i & 4) != 0 ? 0xD00 : 0x500;
      // Reserved bits in the code page's nested PTE and PDE: the final walk. Without host NX the
      // NX bit itself is the reserved bit.
      long pteBits = hostNx ? 1L << 50 : 1L << 63;
      long pdeBits = hostNx ? (1L << 14) | 0x80 : 1L << 63;
      long expectedFinal = 0x1_0000_000DL | (hostNx || hostSmep ? 0x10 : 0);
      for (long[] c : new long[][] {{1, pteBits}, {2, pdeBits}}) {
        NptGuest g = new NptGuest(hostCr4, hostEfer, guestEfer);
        if (c[0] == 2) {
          // A 2 MiB nested leaf for the code page's region, with reserved bits 20:13.
          long pde = g.f.nestedEntry(DATA_GPA, 2);
          g.f.memory.write(pde, 8, (DATA_GPA + NestedFixture.OFFSET) | 0x87 | c[1]);
        } else {
          g.change(DATA_GPA, 1, 0, c[1]);
        }
        assertEquals(expectedFinal, g.exitInfo(Access.FETCH), "case " + i + " level " + c[0]);
      }
      // Reserved bits in the nested PML4E (bit 8 on AMD) or PDPE (PS without or with bits 29:13):
      // the walk of the guest's tables blows up first.
      NptGuest l4 = new NptGuest(hostCr4, hostEfer, guestEfer);
      l4.change(DATA_GPA, 4, 0, 1L << 8);
      assertEquals(0x2_0000_000FL, l4.exitInfo(Access.FETCH), "PML4E case " + i);
    }
  }

  // The same vmx_tests.c vectors as above, now with the guest-physical mapping cached by an
  // allowed access first: SDM vol. 3C §28.3.3.2 lets the cached mapping decide, and the
  // qualification (table 27-7) is the same as after a walk.
  @Test
  void cachedEptMappingsShouldGiveTheColdVectors() {
    EptGuest rw = new EptGuest(3);
    assertEquals("ok", outcome(rw.vcpu, run(rw.vcpu, "read")));
    assertEquals("0x19c", outcome(rw.vcpu, run(rw.vcpu, "fetch")));
    assertEquals(DATA_GPA + 0x10, rw.vcpu.faultGuestPhysical());
    assertEquals(LA + 0x10, rw.vcpu.faultGuestLinear());

    EptGuest r = new EptGuest(1);
    assertEquals("ok", outcome(r.vcpu, run(r.vcpu, "read")));
    assertEquals("0x18a", outcome(r.vcpu, run(r.vcpu, "write")));

    EptGuest rx = new EptGuest(5);
    assertEquals("ok", outcome(rx.vcpu, run(rx.vcpu, "fetch")));
    assertEquals("ok", outcome(rx.vcpu, run(rx.vcpu, "read")));
    assertEquals("0x1aa", outcome(rx.vcpu, run(rx.vcpu, "write")));
  }

  @Test
  void cachedEptMappingOfAGuestTableShouldStillDenyTheDirtyUpdate() {
    // Row "1, 20, false, write, 0x8b" above, after a read has cached the read-only mapping of
    // the page holding the guest PTE: setting the PTE's D is a locked write (bits 0 and 1).
    EptGuest g = new EptGuest(7, 0x27, MmuFeatures.intel(46).withEpt(false, false, true, false),
        false);
    long pte = g.f.guest.entryAddress(g.root, 4, LA, 1);
    long ptLeaf = g.f.nestedEntry(pte & ~0xFFFL, 1);
    g.f.memory.write(ptLeaf, 8, (g.f.memory.read(ptLeaf, 8) & ~7L) | 1);
    assertEquals("ok", outcome(g.vcpu, run(g.vcpu, "read")));
    assertEquals("0x8b", outcome(g.vcpu, run(g.vcpu, "write")));
    assertEquals(pte, g.vcpu.faultGuestPhysical());
    assertEquals(0, g.f.memory.read(pte, 8) & PageEntry.D, "the PTE is not written");
  }

  @Test
  void nptFetchVectorsShouldFollowTheHostsNxeAndSmep() {
    // svm_npt.c npt_nx after a read cached the mapping: 0x1_0000_0015 (P, U, I/D, final GPA).
    NptGuest nx = new NptGuest();
    nx.change(DATA_GPA, 1, 0, 1L << 63);
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x10,
        nx.vcpu.translate(DATA_GPA + 0x10, Access.READ));
    assertEquals(0x1_0000_0015L, nx.exitInfo(Access.FETCH));

    // npt_us's page fetched: the I/D bit of a #PF error code (SDM vol. 3A figure 4-12, APM vol.
    // 2 §8.4.2) needs NXE or SMEP, here the host's (the nested walk uses the host's modes).
    NptGuest plain = new NptGuest(0x20, 0x500, 0xD00);
    plain.change(DATA_GPA, 1, 4, 0);
    assertEquals(0x1_0000_0005L, plain.exitInfo(Access.FETCH));
    NptGuest smep = new NptGuest(0x20 | ControlRegisters.CR4_SMEP, 0x500, 0xD00);
    smep.change(DATA_GPA, 1, 4, 0);
    assertEquals(0x1_0000_0015L, smep.exitInfo(Access.FETCH));
    NptGuest nxe = new NptGuest(0x20, 0xD00, 0x500);
    nxe.change(DATA_GPA, 1, 4, 0);
    assertEquals(0x1_0000_0015L, nxe.exitInfo(Access.FETCH));
  }

  @Test
  void guestPhysicalMappingsShouldOutliveInvlpgAndStillDecide() {
    // SDM vol. 3C §28.3.3.1: INVLPG removes linear and combined mappings, not guest-physical
    // ones; the cached guest-physical mapping then denies the fetch with the cold vector
    // (vmx_tests.c 0x19c; svm_npt.c npt_nx 0x1_0000_0015).
    EptGuest rw = new EptGuest(3);
    assertEquals("ok", outcome(rw.vcpu, run(rw.vcpu, "read")));
    rw.vcpu.invlpg(LA);
    long walks = rw.vcpu.counters().walks();
    assertEquals("0x19c", outcome(rw.vcpu, run(rw.vcpu, "fetch")));
    assertEquals(DATA_GPA + 0x10, rw.vcpu.faultGuestPhysical());
    assertEquals(LA + 0x10, rw.vcpu.faultGuestLinear());
    assertEquals(walks + 1, rw.vcpu.counters().walks(), "one guest walk, no second");

    NptGuest nx = new NptGuest();
    nx.change(DATA_GPA, 1, 0, 1L << 63);
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x10,
        nx.vcpu.translate(DATA_GPA + 0x10, Access.READ));
    nx.vcpu.invlpg(DATA_GPA);
    assertEquals(0x1_0000_0015L, nx.exitInfo(Access.FETCH));
    assertEquals(DATA_GPA + 0x10, nx.vcpu.faultGuestPhysical());
  }

  @Test
  void nptShouldSetAccessedAndDirtyInTheNestedTables() {
    // AMD APM vol. 2 §15.25.5 (nested tables are walked like host tables) and §5.4.2: A in
    // every nested entry used, D in the leaf only on a write; the fixture's entries start clear.
    NptGuest g = new NptGuest();
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x10,
        g.vcpu.translate(DATA_GPA + 0x10, Access.READ));
    for (int level = 1; level <= 4; level++) {
      long e = g.f.memory.read(g.f.nestedEntry(DATA_GPA, level), 8);
      assertEquals(PageEntry.A, e & PageEntry.A, "A at level " + level);
      assertEquals(0, e & PageEntry.D, "no D at level " + level + " after a read");
    }
    assertEquals(DATA_GPA + NestedFixture.OFFSET + 0x10,
        g.vcpu.translate(DATA_GPA + 0x10, Access.WRITE));
    long leaf = g.f.memory.read(g.f.nestedEntry(DATA_GPA, 1), 8);
    assertEquals(PageEntry.D, leaf & PageEntry.D, "D after a write");
    long pde = g.f.memory.read(g.f.nestedEntry(DATA_GPA, 2), 8);
    assertEquals(0, pde & PageEntry.D, "D only in the leaf");
  }
}
