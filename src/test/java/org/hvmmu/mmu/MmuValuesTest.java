package org.hvmmu.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The MMU's value types bit by bit: the #PF error code (Intel SDM vol. 3A §4.7, figure 4-12), the
 * EPT-violation qualification (vol. 3C §27.2.1, table 27-7), AMD's EXITINFO1 bits 32 and 33 (APM
 * vol. 2 §15.25.6), the fault kinds' architectural numbers (vectors 12-14, VMX exit reasons 48 and
 * 49, SVM exit code 0x400), the paging mode chosen by CR0.PG, CR4.PAE, EFER.LMA and CR4.LA57
 * (SDM vol. 3A table 4-1), and the access notation. Every expected value is written by hand from
 * those tables.
 */
class MmuValuesTest {
  @Test
  void shouldPlaceTheErrorCodeBitsAsTheSdmDoes() {
    // SDM vol. 3A figure 4-12: P 0, W/R 1, U/S 2, RSVD 3, I/D 4, PK 5, SS 6.
    assertEquals(0x01, PageFaultErrorCode.P);
    assertEquals(0x02, PageFaultErrorCode.W);
    assertEquals(0x04, PageFaultErrorCode.U);
    assertEquals(0x08, PageFaultErrorCode.RSVD);
    assertEquals(0x10, PageFaultErrorCode.I);
    assertEquals(0x20, PageFaultErrorCode.PK);
    assertEquals(0x40, PageFaultErrorCode.SS);
  }

  @Test
  void shouldPlaceTheQualificationBitsAsTheSdmDoes() {
    // SDM vol. 3C table 27-7, bits 0 to 13.
    long[] bits = {EptQualification.READ, EptQualification.WRITE, EptQualification.FETCH,
        EptQualification.PERM_READ, EptQualification.PERM_WRITE, EptQualification.PERM_EXEC,
        EptQualification.PERM_USER_EXEC, EptQualification.GLA_VALID,
        EptQualification.GLA_TRANSLATED, EptQualification.GUEST_USER,
        EptQualification.GUEST_WRITABLE, EptQualification.GUEST_NX,
        EptQualification.NMI_UNBLOCKING, EptQualification.SHADOW_STACK};
    for (int i = 0; i < bits.length; i++) {
      assertEquals(1L << i, bits[i], "bit " + i);
    }
  }

  @ParameterizedTest(name = "{0} 0x{1}: {2}")
  @CsvSource({
    "PF, 0, 0",
    "PF, 1, P",
    "PF, 7, P|W|U",
    "PF, 9, P|RSVD",
    "PF, 15, P|U|I",
    "PF, 7f, P|W|U|RSVD|I|PK|SS",
    "PF, 80, 0x80",
    "PF, 8000, 0x8000",
    "PF, 100000003, P|W|0x100000000",
    "EPT, 0, 0",
    // mmu.md §1.4: Xen's store to an mmio_ro page: W, readable, executable, GLA valid, translated.
    "EPT, 1aa, W|PR|PX|GLA|GLA-TR",
    "EPT, 1ab, R|W|PR|PX|GLA|GLA-TR",
    "EPT, 7, R|W|X",
    "EPT, 78, PR|PW|PX|PUX",
    "EPT, e00, GU|GW|GNX",
    "EPT, 3000, NMI|SS",
    // Bits above 13 have no name in a qualification.
    "EPT, 4001, R",
  })
  void shouldDescribeErrorCodesAndQualifications(String kind, String code, String text) {
    long value = Long.parseLong(code, 16);
    assertEquals(text, kind.equals("PF") ? PageFaultErrorCode.describe(value)
        : EptQualification.describe(value));
  }

  @Test
  void shouldPlaceTheNpfBitsAboveTheErrorCode() {
    // APM vol. 2 §15.25.6; kvm-unit-tests svm_npt.c: 0x1_0000_0007 and 0x2_0000_0007.
    assertEquals(0x1_0000_0000L, NpfExitInfo.FINAL_TRANSLATION);
    assertEquals(0x2_0000_0000L, NpfExitInfo.GUEST_PAGE_TABLE);
  }

  @Test
  void shouldEncodeFaultsWithTheirArchitecturalNumbers() {
    assertEquals(12, FaultKind.STACK_FAULT.code());
    assertEquals(13, FaultKind.GENERAL_PROTECTION.code());
    assertEquals(14, FaultKind.PAGE_FAULT.code());
    assertEquals(48, FaultKind.EPT_VIOLATION.code());
    assertEquals(49, FaultKind.EPT_MISCONFIG.code());
    assertEquals(0x400, FaultKind.NESTED_PAGE_FAULT.code());
    for (FaultKind k : FaultKind.values()) {
      assertEquals(k, FaultKind.fromCode(k.code()));
      long f = Fault.of(k, 0x1AB);
      assertTrue(Fault.isFault(f));
      assertEquals(k, Fault.kind(f));
      assertEquals(k.code(), Fault.kindCode(f));
      assertEquals(0x1AB, Fault.code(f));
    }
    for (int bad : new int[] {-1, 0, 11, 15, 47, 50, 0x3FF, 0x401, 0x7FF}) {
      assertThrows(IllegalArgumentException.class, () -> FaultKind.fromCode(bad));
    }
    // The package-private encoders agree with Fault.of.
    assertEquals(Fault.of(FaultKind.PAGE_FAULT, 7), Fault.pageFault(7));
    assertEquals(Fault.of(FaultKind.EPT_VIOLATION, 0x1AA), Fault.eptViolation(0x1AA));
    assertEquals(Fault.of(FaultKind.EPT_MISCONFIG, 0), Fault.EPT_MISCONFIG);
    assertEquals(Fault.of(FaultKind.NESTED_PAGE_FAULT, 0x1_0000_0007L),
        Fault.nestedPageFault(0x1_0000_0007L));
    assertEquals(Fault.of(FaultKind.GENERAL_PROTECTION, 0), Fault.GP0);
    assertEquals(Fault.of(FaultKind.STACK_FAULT, 0), Fault.SS0);
    // The code keeps 52 bits; 0 and positive results are translations.
    assertEquals(0xF_FFFF_FFFF_FFFFL, Fault.code(Fault.of(FaultKind.PAGE_FAULT, -1L)));
    assertFalse(Fault.isFault(0));
    assertFalse(Fault.isFault(Long.MAX_VALUE));
    assertThrows(IllegalArgumentException.class, () -> Fault.kind(0));
    assertThrows(IllegalArgumentException.class, () -> Fault.kind(0x1000));
  }

  @Test
  void shouldDescribeFaults() {
    assertEquals("#PF 0x7 (P|W|U)", Fault.describe(Fault.pageFault(7)));
    assertEquals("#PF 0x0 (0)", Fault.describe(Fault.pageFault(0)));
    assertEquals("EPT violation 0x1aa (W|PR|PX|GLA|GLA-TR)",
        Fault.describe(Fault.eptViolation(0x1AA)));
    assertEquals("#NPF 0x100000007 (P|W|U, final)",
        Fault.describe(Fault.nestedPageFault(0x1_0000_0007L)));
    assertEquals("#NPF 0x20000000f (P|W|U|RSVD, guest page table)",
        Fault.describe(Fault.nestedPageFault(0x2_0000_000FL)));
    assertEquals("EPT misconfig", Fault.describe(Fault.EPT_MISCONFIG));
    assertEquals("#GP", Fault.describe(Fault.GP0));
    assertEquals("#SS", Fault.describe(Fault.SS0));
  }

  @ParameterizedTest(name = "CR0 0x{0}, CR4 0x{1}, EFER 0x{2}: {3}")
  @CsvSource({
    // SDM vol. 3A table 4-1: PG, then PAE, then LMA, then LA57.
    "00000001, 00001020, 00000500, NONE, 0, 0, 32",
    "80000001, 00001000, 00000500, LEGACY_32, 2, 4, 32",
    "80000001, 00001020, 00000100, PAE, 3, 8, 32",
    "80000001, 00000020, 00000500, LONG_4, 4, 8, 48",
    "80000001, 00001020, 00000400, LONG_5, 5, 8, 57",
  })
  void shouldChooseThePagingModeFromTheRegisters(String cr0, String cr4, String efer,
      PagingMode mode, int levels, int entrySize, int linearBits) {
    assertEquals(mode, PagingMode.of(Long.parseLong(cr0, 16), Long.parseLong(cr4, 16),
        Long.parseLong(efer, 16)));
    assertEquals(levels, mode.levels());
    assertEquals(entrySize, mode.entrySize());
    assertEquals(linearBits, mode.linearBits());
    assertEquals(levels >= 4, mode.isLongMode());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    // The notation: r/w/x, then u/s/i, then ss, then k; bits as the error code places them.
    "rs, 0", "ws, 2", "xs, 16", "ru, 4", "wu, 6", "xu, 20", "ri, 256", "wi, 258",
    "wsss, 66", "rsss, 64", "wussk, 582", "rsk, 512", "xik, 784",
  })
  void shouldParseAndDescribeAccesses(String text, int access) {
    assertEquals(access, Access.parse(text));
    assertEquals(text, Access.describe(access));
    assertTrue(Access.isValid(access));
    assertEquals(access, Access.check(access));
  }

  @ParameterizedTest(name = "\"{0}\"")
  @CsvSource({
    "''", "r", "qs", "rq", "rsx", "rssk", "rskk", "xsss", "'rs k'", "wsssss", "'rsssk '",
    "ssss",
  })
  void shouldRefuseOtherNotations(String text) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Access.parse(text));
    assertEquals("access '" + text + "' (expected: r, w or x, then u, s or i; optionally ss,"
        + " then k)", e.getMessage());
  }

  @Test
  void shouldCutLongNotationsInTheMessage() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Access.parse("rsrsrsrsrsrsrsrsr"));
    assertTrue(e.getMessage().startsWith("access 'rsrsrsrsrsrsrsrs...' "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Access.parse("rsrsrsrsrsrsrsrs"));
    assertTrue(e.getMessage().startsWith("access 'rsrsrsrsrsrsrsrs' "), e.getMessage());
  }

  @Test
  void shouldTellValidAccessesFromInvalidOnes() {
    assertEquals(0x356, Access.ALL);
    // A fetch is neither a write nor a shadow-stack access; user excludes implicit; undefined bits.
    for (int bad : new int[] {Access.FETCH | Access.WRITE, Access.FETCH | Access.SHADOW_STACK,
        Access.USER | Access.IMPLICIT, 1, 1 << 3, 1 << 5, 1 << 7, 1 << 10, Integer.MIN_VALUE}) {
      assertFalse(Access.isValid(bad), Integer.toHexString(bad));
      assertThrows(IllegalArgumentException.class, () -> Access.check(bad));
    }
    assertTrue(Access.isValid(Access.FETCH | Access.USER | Access.STACK));
    assertTrue(Access.isValid(Access.WRITE | Access.SHADOW_STACK | Access.IMPLICIT));
  }
}
