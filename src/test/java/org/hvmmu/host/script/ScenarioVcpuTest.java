package org.hvmmu.host.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.Policy;
import org.junit.jupiter.api.Test;

/**
 * The scenario language drives vCPUs of every paging mode: control-register loads, loads, stores,
 * fetches and translations with their outcome, invalidations, the PV hypercalls, and the {@code
 * expect} lines for them. The expected values and faults are worked out by hand from the SDM, the
 * APM and Xen (in the comments), never taken from a run.
 */
class ScenarioVcpuTest {
  /**
   * An HVM guest's 4-level tables in its RAM (gfn 0x100-0x1ff): linear 0x0 maps MMIO 0xfe010,
   * 0x1000 RAM 0x150, 0x2000 the page table itself (P RW US everywhere).
   */
  private static final String HVM_TABLES = """
      ram vm 0x100-0x1ff
      iomem vm 0xfe000-0xfe0ff
      poke vm 0x100000 8 0x101007
      poke vm 0x101000 8 0x102007
      poke vm 0x102000 8 0x103007
      poke vm 0x103000 8 0xfe010007
      poke vm 0x103008 8 0x150007
      poke vm 0x103010 8 0x103007
      vcpu cpu0 vm
      cr cpu0 cr0=0x80050033 cr3=0x100000 cr4=0x20 efer=0xd00
      expect ok
      store cpu0 0x1000 8 0x55
      expect ok
      expect memory vm 0x150000 8 0x55
      read cpu0 0x1000 8
      expect value 0x55
      translate cpu0 0x1008 write
      expect value 0x150008
      fetch cpu0 0x1000 1
      expect value 0x55
      store cpu0 0x0 4 1
      expect ok
      """;

  private static List<Integer> failingLines(String text, Policy policy) {
    ScenarioResult r = ScenarioRunner.forcing(policy).run(ScenarioParser.parse("s", text));
    List<Integer> lines = new ArrayList<>();
    for (Failure f : r.failures()) {
      lines.add(f.line());
    }
    return lines;
  }

  private static void assertHolds(String text, Policy policy) {
    ScenarioResult r = ScenarioRunner.forcing(policy).run(ScenarioParser.parse("s", text));
    assertEquals(List.of(), r.failures());
    assertTrue(r.expects() >= 5, "expect lines: " + r.expects());
  }

  @Test
  void anEptGuestShouldRunAndTakeAnEptViolationOnAProtectedFrame() {
    String text = "domain vm 1 hvm-ept\n" + HVM_TABLES + """
        store cpu0 0x2008 8 0x151007
        expect ok
        read cpu0 0x1000 8
        expect value 0x55
        invlpg cpu0 0x1000
        read cpu0 0x1000 8
        expect value 0
        protect ioapic 0xfe010
        store cpu0 0x0 4 2
        expect ok
        expect read-only vm p2m 0xfe010
        expect invariants hold
        """;
    // 24-30: the page-table store is a plain store (EPT leaves guest tables alone); the TLB keeps
    // the old translation until the guest's INVLPG (strict retention). 32-34: the store exits
    // (an EPT violation, 0x7aa: HostVcpuTest checks the qualification) and Xen 4.21+ hands it to
    // handle_mmio_with_translation, whose null handler discards it: no fault for the guest.
    assertHolds(text, Policy.HARDENED);
    // The seed re-derives only the device owner's p2m: the leaf stays writable (34, 35).
    assertEquals(List.of(34, 35), failingLines(text, Policy.SEED_2010));
  }

  @Test
  void anNptGuestShouldTakeANestedPageFault() {
    String text = "domain vm 1 hvm-npt\n" + HVM_TABLES + """
        protect ioapic 0xfe010
        store cpu0 0x0 4 2
        expect ok
        expect read-only vm p2m 0xfe010
        """;
    // The nested page fault (EXITINFO1 P | W | U | final: HostVcpuTest) goes to
    // hvm_hap_nested_page_fault, and Xen 4.21+ discards the store (the null handler).
    assertHolds(text, Policy.HARDENED);
    assertEquals(List.of(27), failingLines(text, Policy.SEED_2010));
  }

  @Test
  void anHvmShadowGuestShouldRunOnShadowsThatFollowItsStores() {
    String text = "domain vm 1 hvm-shadow\n" + HVM_TABLES + """
        store cpu0 0x2008 8 0x151007
        expect ok
        expect memory vm 0x103008 8 0x151007
        read cpu0 0x1000 8
        expect value 0x55
        invlpg cpu0 0x1000
        read cpu0 0x1000 8
        expect value 0
        protect ioapic 0xfe010
        expect read-only vm p2m 0xfe010
        store cpu0 0x0 4 2
        expect fault pf 0x3 at 0x0
        expect invariants hold
        """;
    // 24-30: the store into the (write-protected) page table is emulated and the shadow entry
    // re-derived, without a flush: shadow_set_l1e never asks for one for an L1 entry, the guest
    // must INVLPG as on bare metal. 35: the shadow of a read-only MMIO frame is read-only; Xen
    // would re-enter the guest for ever, the model gives the processor's #PF (present, write,
    // supervisor).
    assertHolds(text, Policy.HARDENED);
    // The seed: the p2m leaf (33) and the shadow (35) stay writable, the invariants fail (36).
    assertEquals(List.of(33, 35, 36), failingLines(text, Policy.SEED_2010));
  }

  @Test
  void aPvGuestShouldRunOnItsValidatedTablesWithHypercallsAndEmulatedStores() {
    String text = """
        domain guest 1 pv
        ram guest 0x100-0x1ff
        iomem guest 0xfe000-0xfe0ff
        write guest 0x100 0 pte(0x101, P RW US)
        write guest 0x101 0 pte(0x102, P RW US)
        write guest 0x102 0 pte(0x103, P RW US)
        write guest 0x103 0 pte(0x110, P RW US)
        write guest 0x103 1 pte(0x103, P US)
        pin guest 0x100 l4
        expect rc 0
        vcpu cpu0 guest
        read cpu0 0x0 8 user
        expect fault pf 0x4 at 0x0
        mmuext cpu0 new-baseptr 0x110
        expect rc -EINVAL
        mmuext cpu0 new-baseptr 0x100
        expect rc 0
        poke guest 0x110000 8 0x1122334455667788
        read cpu0 0x0 8 user
        expect value 0x1122334455667788
        store cpu0 0x1018 8 pte(0xfe010, P RW US) user
        expect ok
        expect writable guest pv 0x103 3
        store cpu0 0x3000 4 1 user
        expect ok
        protect ioapic 0xfe010
        expect read-only guest pv 0x103 3
        store cpu0 0x3000 4 2 user
        expect fault pf 0x7 at 0x3000
        update-va cpu0 0x0 pte(0x111, P RW US) invlpg local
        expect rc 0
        poke guest 0x111000 8 0x99
        read cpu0 0x0 8 user
        expect value 0x99
        invlpg cpu0 0x0
        expect fault gp
        mmuext cpu0 tlb-flush-all
        expect rc 0
        expect invariants hold
        crash guest
        expect invariants hold
        """;
    // 12-13: before a base, Xen's empty idle table: not present, user read. 14-15: a data frame
    // cannot be an L4 (-EINVAL). 21-23: a store through the read-only self-mapping of the L1 is
    // emulated (ptwr) and validated. 26-29: hardened revokes write access and flushes; the guest's
    // store faults (present, write, user). 36: a PV kernel's INVLPG is a #GP (Xen does not emulate
    // it; the guest asks for MMUEXT_INVLPG_LOCAL).
    assertHolds(text, Policy.HARDENED);
    // The seed leaves the existing mapping writable (27), so the store succeeds (29) and the
    // invariants fail (39) until the crash.
    assertEquals(List.of(27, 29, 39), failingLines(text, Policy.SEED_2010));
  }

  @Test
  void aPv32GuestShouldRunOnPaeTablesBehindItsCompatL4() {
    String text = """
        domain guest 2 pv32
        ram guest 0x100-0x1ff
        write guest 0x100 0 pte(0x101, P)
        write guest 0x100 3 pte(0x102, P)
        write guest 0x101 0 pte(0x103, P RW US)
        write guest 0x103 0 pte(0x110, P RW US)
        vcpu cpu0 guest
        mmuext cpu0 new-baseptr 0x100
        expect rc 0
        poke guest 0x110000 4 0xcafe
        read cpu0 0x0 4 user
        expect value 0xcafe
        read cpu0 0x40000000 4 user
        expect fault pf 0x4 at 0x40000000
        cr cpu0 cr3=0x101000
        expect rc -EINVAL
        expect invariants hold
        """;
    // A compat guest's L3 holds 4 PDPTEs (P only); slot 3 names the L2 Xen shares its mappings
    // with. 13-14: the second GiB has no L2: not present. 15-16: a MOV to CR3 is new_guest_cr3 of
    // the frame CR3 names (compat_cr3_to_pfn); an L2 cannot be a base.
    assertHolds(text, Policy.HARDENED);
  }

  @Test
  void aPvShadowGuestShouldRunOnShadowsOfItsTables() {
    String text = """
        domain guest 1 pv-shadow
        ram guest 0x100-0x1ff
        poke guest 0x100000 8 0x101007
        poke guest 0x101000 8 0x102007
        poke guest 0x102000 8 0x103007
        poke guest 0x103000 8 0x150007
        vcpu cpu0 guest
        cr cpu0 cr0=0x80010001 cr3=0x100000 cr4=0x20 efer=0x500
        expect ok
        store cpu0 0x0 8 0x77
        expect ok
        expect memory guest 0x150000 8 0x77
        read cpu0 0x1000 8
        expect fault pf 0x0 at 0x1000
        expect invariants hold
        """;
    assertHolds(text, Policy.HARDENED);
  }

  @Test
  void expectationsShouldSayWhatTheAccessDid() {
    String text = "domain vm 1 hvm-ept\n" + HVM_TABLES + """
        read cpu0 0x1000 8
        expect value 0x56
        expect fault pf 0x0
        read cpu0 0x7000 8
        expect ok
        """;
    ScenarioResult r = ScenarioRunner.forcing(Policy.HARDENED)
        .run(ScenarioParser.parse("s", text));
    assertEquals(3, r.failures().size(), r.failures().toString());
    assertEquals("s:25: expected value 0x56, but 'read cpu0 0x1000 8' (line 24) gave 0x55",
        r.failures().get(0).toString());
    assertEquals("s:26: expected fault pf 0x0, but 'read cpu0 0x1000 8' (line 24) gave 0x55",
        r.failures().get(1).toString());
    // 0x7000: PT[7] is not present: #PF, supervisor read, not present.
    assertEquals("s:28: expected no fault, but 'read cpu0 0x7000 8' (line 27) faulted: pf 0x0 at"
        + " 0x7000", r.failures().get(2).toString());
  }

  @Test
  void vcpuLinesShouldBeCheckedWhenParsed() {
    assertError("domain g 1 pv\nread cpu0 0 8", 2, "undeclared vCPU 'cpu0'");
    assertError("domain g 1 pv\nvcpu c g\nvcpu c g", 3, "vCPU 'c' is already declared");
    assertError("domain g 1 hvm-ept\nvcpu c g\nmmuext c tlb-flush-all", 3,
        "vCPU 'c' is of domain 'g', which is hvm-ept; this needs pv or pv32");
    assertError("domain g 1 pv\nvcpu c g\nread c 0 3", 3, "size '3' (expected: 1, 2, 4 or 8)");
    assertError("domain g 1 pv\nvcpu c g\ncr c", 3, "cr c: missing a register");
    assertError("domain g 1 pv\nvcpu c g\ncr c cr2=0", 3, "cr c: 'cr2=0' (expected: cr0=");
    assertError("domain g 1 pv\nvcpu c g\ncr c cr3=1 cr3=2", 3, "cr c: cr3 given twice");
    assertError("domain g 1 pv\nvcpu c g\nexpect ok", 3, "expect ok: no vCPU access before it");
    assertError("domain g 1 pv\nvcpu c g\nread c 0 8\nexpect fault gp 0x1", 4,
        "expected 'at', found '0x1'");
    assertError("domain g 1 pv\nvcpu c g\nread c 0 8\nexpect fault pf 0x10000000000000", 4,
        "fault code 0x10000000000000 is above 52 bits");
    assertError("domain g 1 pv\nvcpu c g\ntranslate c 0 write fetch", 3,
        "translate: write and fetch at once");
    assertError("domain g 1 pv\nvcpu c g\nupdate-va c 0 0 invlpg", 3,
        "missing local, all or multi");
    assertError("domain g 1 pv\nvcpu c g\nmmuext c invlpg-multi 0", 3, "missing a vCPU bitmap");
    assertError("domain g 1 pv\npoke g 0xffc 8 0", 2, "(expected: within one page)");
    assertError("host frames 0x10 tlb sloppy", 1, "host tlb 'sloppy': expected strict or"
        + " over-flush");
  }

  private static void assertError(String text, int line, String message) {
    ScenarioException e = assertThrows(ScenarioException.class,
        () -> ScenarioParser.parse("s", text));
    assertEquals(line, e.line(), e.getMessage());
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  @Test
  void theExampleInTheDocsShouldHoldAndFailWhereItSays() throws IOException {
    String doc = Files.readString(Path.of("docs/scenarios.md"));
    int section = doc.indexOf("## A guest that runs");
    int start = doc.indexOf("```\n", section) + 4;
    String text = doc.substring(start, doc.indexOf("```", start));
    assertHolds(text, Policy.HARDENED);
    assertEquals(List.of(20, 21), failingLines(text, Policy.SEED_2010));
  }

  @Test
  void overFlushModeShouldKeepWhatTheSdmLetsItKeep() {
    String text = "host frames 0x1000 tlb over-flush\ndomain vm 1 hvm-ept\n" + HVM_TABLES + """
        store cpu0 0x2008 8 0x151007
        expect ok
        read cpu0 0x1000 8
        expect value 0x55
        """;
    // Over-flush removes more on every invalidation, but a plain store to a guest table is no
    // invalidation: the cached translation of 0x1000 survives in both modes, as the SDM allows.
    assertHolds(text, Policy.HARDENED);
  }
}
