package org.hvmmu.host;

import static org.hvmmu.host.HostGuestVcpuMutantsTest.VA;
import static org.hvmmu.host.HostGuestVcpuMutantsTest.pv;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The guest vCPU's fault path: the handler's turn and the retries, the split of an HVM store that
 * crosses a page into an EPT or NPT violation, the wide-store handler, and the intercepted
 * instructions of a PV vCPU. The expected values are pinned by the vCPU's contract
 * ({@link GuestVcpu#MAX_RETRIES}: the hypervisor may fix a fault and retry an access 16 times,
 * then the processor's fault stands; {@code EMULATED} ends a store, {@code EMULATED_LOAD} a load
 * with the value given to {@code completeLoad}, a negative result is the guest's fault), by Xen's
 * {@code linear_write} ({@code xen/arch/x86/hvm/emulate.c}, 4.22: a store that crosses a page is
 * made as two parts, first the bytes up to the page end, then the rest, the first part that fails
 * ending it) with {@code hvmemul_phys_mmio_access} (an MMIO part in chunks of the largest power of
 * two that fits, low bytes first), and by the SDM (vol. 2A INVPCID: #GP(0) at CPL above 0 or for
 * a type above 3; a PV kernel runs in ring 3). The guest's page tables are written here by hand:
 * LA 0x40_0000 maps the MMIO frame 0xfe000, LA 0x40_1000 RAM at 0x15_0000, LA 0x40_2000 (where
 * asked) the MMIO frame again, LA 0x40_3000 nothing.
 */
class HapMutGuestVcpuTest {
  static final long MMIO = 0xfe000;
  static final long LA_MMIO = 0x40_0000L;
  static final long LA_RAM = 0x40_1000L;
  static final long LA_MMIO2 = 0x40_2000L;
  static final long LA_HOLE = 0x40_3000L;
  static final long RAM_GPA = 0x15_0000L;
  static final long RAM2_GPA = 0x16_0000L;
  static final long PT = 0x10_3000L;
  static final long GP0 = Fault.of(FaultKind.GENERAL_PROTECTION, 0);

  /** An HVM guest with RAM at gfn 0x100-0x1ff and the MMIO frame, paging on. */
  static GuestVcpu hvm(Host host, PagingMode mode, boolean mmioAfterRam) {
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, MMIO, MMIO));
    long pml4 = 0x10_0000L;
    host.writeGuestPhysical(d, pml4, 8, 0x10_1000L | 0x23);
    host.writeGuestPhysical(d, 0x10_1000L, 8, 0x10_2000L | 0x23);
    host.writeGuestPhysical(d, 0x10_2000L + 8 * 2, 8, PT | 0x23);
    host.writeGuestPhysical(d, PT, 8, (MMIO << 12) | 0x63); // supervisor, writable
    host.writeGuestPhysical(d, PT + 8, 8, RAM_GPA | 0x63);
    if (mmioAfterRam) {
      host.writeGuestPhysical(d, PT + 16, 8, (MMIO << 12) | 0x63);
    }
    GuestVcpu v = host.createVcpu(d);
    assertEquals(0, v.cpu().loadState(0x8005_0033L, pml4, 0x20, 0xD00));
    return v;
  }

  /** One call of a fault handler: what it was given, and the instruction class it saw. */
  record Call(long fault, long la, int access, int size, long value, InstructionClass insn) {}

  /** A handler that records its calls and answers from {@code answer}. */
  static final class Recorder implements GuestVcpu.FaultHandler {
    final List<Call> calls = new ArrayList<>();
    final GuestVcpu.FaultHandler answer;

    Recorder(GuestVcpu.FaultHandler answer) {
      this.answer = answer;
    }

    @Override
    public long handle(GuestVcpu v, long fault, long la, int access, int size, long value) {
      calls.add(new Call(fault, la, access, size, value, v.instruction()));
      if (calls.size() > 100) {
        throw new AssertionError("the vCPU retries for ever");
      }
      return answer.handle(v, fault, la, access, size, value);
    }
  }

  static Recorder install(GuestVcpu v, GuestVcpu.FaultHandler answer) {
    Recorder r = new Recorder(answer);
    v.setFaultHandler(r);
    return r;
  }

  static long mask(long value, int size) {
    return size == 8 ? value : value & ((1L << (8 * size)) - 1);
  }

  // ---- the handler's turn and the retries

  @Test
  void aLoadTheHandlerFixesShouldBeRetriedOnce() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, PagingMode.HVM_EPT, false);
    host.writeGuestPhysical(v.domain(), RAM2_GPA + 8, 8, 0x0123_4567_89AB_CDEFL);
    Recorder r = install(v, (g, f, la, a, s, x) -> {
      host.writeGuestPhysical(g.domain(), PT + 24, 8, RAM2_GPA | 0x63);
      return GuestVcpu.FaultHandler.RETRY;
    });
    assertEquals(0x0123_4567_89AB_CDEFL, v.read(LA_HOLE + 8, 8, Access.READ));
    assertEquals(0, v.lastFault());
    assertEquals(1, r.calls.size());
    Call c = r.calls.get(0);
    assertEquals(FaultKind.PAGE_FAULT.code(), Fault.kindCode(c.fault()));
    assertEquals(LA_HOLE + 8, c.la());
    assertEquals(8, c.size());
    assertEquals(InstructionClass.LOAD, c.insn());
  }

  @Test
  void aStoreTheHandlerFixesShouldBeRetriedOnce() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, PagingMode.HVM_EPT, false);
    Recorder r = install(v, (g, f, la, a, s, x) -> {
      host.writeGuestPhysical(g.domain(), PT + 24, 8, RAM2_GPA | 0x63);
      return GuestVcpu.FaultHandler.RETRY;
    });
    assertEquals(0, v.write(LA_HOLE + 16, 4, 0xCAFE_F00DL, Access.READ,
        InstructionClass.READ_MODIFY_WRITE));
    assertEquals(0xCAFE_F00DL, host.readGuestPhysical(v.domain(), RAM2_GPA + 16, 4));
    assertEquals(1, r.calls.size());
    Call c = r.calls.get(0);
    assertEquals(Access.WRITE, c.access());
    assertEquals(0xCAFE_F00DL, c.value());
    assertEquals(InstructionClass.READ_MODIFY_WRITE, c.insn());
  }

  @Test
  void aHandlerThatAlwaysRetriesShouldBeCalledSixteenTimes() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, PagingMode.HVM_EPT, false);
    Recorder r = install(v, (g, f, la, a, s, x) -> GuestVcpu.FaultHandler.RETRY);
    assertEquals(0, v.read(LA_HOLE, 8, Access.READ));
    long pf = v.lastFault();
    assertEquals(FaultKind.PAGE_FAULT.code(), Fault.kindCode(pf));
    assertEquals(16, r.calls.size());
    r.calls.clear();
    assertEquals(Fault.kindCode(pf), Fault.kindCode(v.write(LA_HOLE, 8, 1, Access.READ)));
    assertTrue(v.lastFault() < 0);
    assertEquals(16, r.calls.size());
    r.calls.clear();
    long t = v.translate(LA_HOLE, Access.READ);
    assertEquals(FaultKind.PAGE_FAULT.code(), Fault.kindCode(t));
    assertEquals(16, r.calls.size());
  }

  @Test
  void aLoadTheHandlerEmulatesShouldReturnTheValueItGave() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, PagingMode.HVM_EPT, false);
    Recorder r = install(v, (g, f, la, a, s, x) -> g.completeLoad(0x5A5A));
    assertEquals(0x5A5A, v.read(LA_HOLE, 2, Access.READ));
    assertEquals(0, v.lastFault());
    assertEquals(1, r.calls.size());
  }

  @Test
  void aHandlerThatEmulatesALoadAsAStoreShouldBeRefused() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, PagingMode.HVM_EPT, false);
    install(v, (g, f, la, a, s, x) -> GuestVcpu.FaultHandler.EMULATED);
    assertThrows(IllegalStateException.class, () -> v.read(LA_HOLE, 8, Access.READ));
  }

  @Test
  void aFaultTheHandlerGivesShouldBeTheGuestsAtOnce() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, PagingMode.HVM_EPT, false);
    Recorder r = install(v, (g, f, la, a, s, x) -> GP0);
    assertEquals(0, v.read(LA_HOLE, 8, Access.READ));
    assertEquals(GP0, v.lastFault());
    assertEquals(GP0, v.write(LA_HOLE, 8, 1, Access.READ));
    assertEquals(GP0, v.lastFault());
    assertEquals(GP0, v.translate(LA_HOLE, Access.WRITE));
    assertEquals(3, r.calls.size());
  }

  @Test
  void aStoreTheHandlerEmulatesShouldComplete() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, PagingMode.HVM_EPT, false);
    Recorder r = install(v, (g, f, la, a, s, x) -> {
      g.recordAccess(AccessReason.NULL_HANDLER_WRITE);
      return GuestVcpu.FaultHandler.EMULATED;
    });
    assertEquals(0, v.write(LA_HOLE, 8, 1, Access.READ));
    assertEquals(0, v.lastFault());
    assertEquals(AccessReason.NULL_HANDLER_WRITE, v.lastAccessReason());
    assertEquals(1, r.calls.size());
    assertEquals(InstructionClass.PLAIN_STORE, r.calls.get(0).insn());
    // The next access that meets nothing protected forgets the decision.
    assertEquals(0, v.read(LA_RAM, 8, Access.READ));
    assertNull(v.lastAccessReason());
    assertEquals(0, v.write(LA_HOLE, 8, 1, Access.READ));
    assertNotNull(v.lastAccessReason());
    assertEquals(0, v.write(LA_RAM, 8, 2, Access.READ));
    assertNull(v.lastAccessReason());
    assertEquals(0, v.write(LA_HOLE, 8, 1, Access.READ));
    assertEquals(RAM_GPA, v.translate(LA_RAM, Access.WRITE));
    assertNull(v.lastAccessReason());
  }

  @Test
  void aTranslationTheHandlerEmulatesShouldReturnTheProcessorsFault() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, PagingMode.HVM_EPT, false);
    long[] answer = {GuestVcpu.FaultHandler.EMULATED};
    Recorder r = install(v, (g, f, la, a, s, x) -> answer[0]);
    long t = v.translate(LA_HOLE, Access.WRITE);
    assertEquals(FaultKind.PAGE_FAULT.code(), Fault.kindCode(t));
    assertEquals(1, r.calls.size());
    Call c = r.calls.get(0);
    assertEquals(t, c.fault());
    assertEquals(0, c.size(), "a translation carries no data");
    assertEquals(InstructionClass.PLAIN_STORE, c.insn());
    answer[0] = GuestVcpu.FaultHandler.EMULATED_LOAD;
    long t2 = v.translate(LA_HOLE, Access.READ);
    assertEquals(FaultKind.PAGE_FAULT.code(), Fault.kindCode(t2));
    assertEquals(2, r.calls.size());
    assertEquals(t2, r.calls.get(1).fault());
    assertEquals(InstructionClass.LOAD, r.calls.get(1).insn());
    assertEquals(Access.READ, r.calls.get(1).access());
    answer[0] = GP0;
    assertEquals(GP0, v.translate(LA_HOLE, Access.READ));
    assertEquals(3, r.calls.size());
  }

  @Test
  void aUserFetchShouldReachTheHandlerAsAUserFetch() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, PagingMode.HVM_EPT, false);
    Recorder r = install(v, (g, f, la, a, s, x) -> f);
    assertEquals(0, v.fetch(LA_HOLE, 4, true));
    assertEquals(0, v.fetch(LA_HOLE, 4, false));
    assertEquals(Access.FETCH | Access.USER, r.calls.get(0).access());
    assertEquals(Access.FETCH, r.calls.get(1).access());
    // SDM vol. 3A 4.7: P = 0, U/S = 1, I/D = 1 for the user fetch; the kernel's has no U/S.
    assertEquals(0x14, Fault.code(r.calls.get(0).fault()));
    assertEquals(0x10, Fault.code(r.calls.get(1).fault()));
  }

  @Test
  void withoutAHandlerTheProcessorsFaultShouldStand() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, PagingMode.HVM_EPT, false);
    v.setFaultHandler(null);
    long f = v.write(LA_HOLE, 8, 1, Access.READ);
    assertEquals(FaultKind.PAGE_FAULT.code(), Fault.kindCode(f));
    assertEquals(f, v.lastFault());
    assertEquals(0, v.read(LA_HOLE, 8, Access.READ));
    assertEquals(FaultKind.PAGE_FAULT.code(), Fault.kindCode(v.lastFault()));
  }

  // ---- a store across a page into an EPT or NPT violation

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void aStoreFromMmioIntoRamShouldBeSplitAtThePage(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, mode, false);
    assertEquals(0, host.protect("test", MMIO, MMIO));
    Recorder r = install(v, (g, f, la, a, s, x) -> GuestVcpu.FaultHandler.EMULATED);
    // 7 bytes up to the page end, then 1: the MMIO part in chunks of 4, 2 and 1 (emulated),
    // then the RAM part, which the processor stores.
    long value = 0x8877_6655_4433_2211L;
    assertEquals(0, v.write(LA_MMIO + 0xFF9, 8, value, Access.READ));
    assertEquals(3, r.calls.size(), r.calls.toString());
    long[][] expected = {{LA_MMIO + 0xFF9, 4, 0x4433_2211L}, {LA_MMIO + 0xFFD, 2, 0x6655},
        {LA_MMIO + 0xFFF, 1, 0x77}};
    for (int i = 0; i < 3; i++) {
      Call c = r.calls.get(i);
      assertEquals(expected[i][0], c.la(), "chunk " + i);
      assertEquals(expected[i][1], c.size(), "chunk " + i);
      assertEquals(expected[i][2], mask(c.value(), c.size()), "chunk " + i);
      assertEquals(Access.WRITE, c.access());
      assertTrue(Fault.kindCode(c.fault()) == FaultKind.EPT_VIOLATION.code()
          || Fault.kindCode(c.fault()) == FaultKind.NESTED_PAGE_FAULT.code());
    }
    assertEquals(0x88, host.readGuestPhysical(v.domain(), RAM_GPA, 1));
    assertEquals(0, host.readGuestPhysical(v.domain(), RAM_GPA + 1, 1));
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void aStoreFromRamIntoMmioShouldWriteTheRamPartFirst(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, mode, true);
    assertEquals(0, host.protect("test", MMIO, MMIO));
    Recorder r = install(v, (g, f, la, a, s, x) -> GuestVcpu.FaultHandler.EMULATED);
    long value = 0x0807_0605_0403_0201L;
    // 3 bytes of RAM (0xFFD-0xFFF), then 5 of MMIO in chunks of 4 and 1.
    assertEquals(0, v.write(LA_RAM + 0xFFD, 8, value, Access.READ));
    assertEquals(0x0302_0100_0000_0000L, host.readGuestPhysical(v.domain(), RAM_GPA + 0xFF8, 8));
    assertEquals(2, r.calls.size(), r.calls.toString());
    assertEquals(LA_MMIO2, r.calls.get(0).la());
    assertEquals(4, r.calls.get(0).size());
    assertEquals(0x0706_0504L, mask(r.calls.get(0).value(), 4));
    assertEquals(LA_MMIO2 + 4, r.calls.get(1).la());
    assertEquals(1, r.calls.get(1).size());
    assertEquals(0x08, mask(r.calls.get(1).value(), 1));
    assertEquals(0, v.lastFault());
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void aPartThatFaultsShouldEndTheSplitStore(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, mode, false);
    assertEquals(0, host.protect("test", MMIO, MMIO));
    Recorder r = install(v, (g, f, la, a, s, x) -> GP0);
    assertEquals(GP0, v.write(LA_MMIO + 0xFFC, 8, -1L, Access.READ));
    assertEquals(GP0, v.lastFault());
    assertEquals(1, r.calls.size());
    assertEquals(4, r.calls.get(0).size());
    assertEquals(0, host.readGuestPhysical(v.domain(), RAM_GPA, 8), "the RAM part is not made");
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void aStoreEndingAtThePageEndShouldReachTheHandlerWhole(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, mode, false);
    assertEquals(0, host.protect("test", MMIO, MMIO));
    Recorder r = install(v, (g, f, la, a, s, x) -> GuestVcpu.FaultHandler.EMULATED);
    assertEquals(0, v.write(LA_MMIO + 0xFFC, 4, 0x1234_5678L, Access.READ));
    assertEquals(1, r.calls.size());
    assertEquals(LA_MMIO + 0xFFC, r.calls.get(0).la());
    assertEquals(4, r.calls.get(0).size());
    assertEquals(0x1234_5678L, r.calls.get(0).value());
  }

  @ParameterizedTest
  @EnumSource(value = PagingMode.class, names = {"HVM_EPT", "HVM_NPT"})
  void aCrossingStoreIntoANotPresentPageShouldNotBeSplit(PagingMode mode) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, mode, false);
    // LA_RAM's page is RAM, the next one is not present: the guest's #PF for the whole store
    // (Xen's handler passes a #PF through), and no byte of it is stored.
    long f = v.write(LA_RAM + 0xFFC, 8, -1L, Access.READ);
    assertEquals(FaultKind.PAGE_FAULT.code(), Fault.kindCode(f));
    assertEquals(0, host.readGuestPhysical(v.domain(), RAM_GPA + 0xFFC, 4));
    assertEquals(f, v.lastFault());
  }

  // ---- the wide-store handler (PV)

  static byte[] bytes(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (0x40 + i);
    }
    return b;
  }

  @Test
  void aWideStoreTheHandlerAlwaysRetriesShouldEndWithTheFault() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pv(host);
    Recorder r = install(v, (g, f, la, a, s, x) -> GuestVcpu.FaultHandler.RETRY);
    long f = v.writeWide(VA + 0x2000, bytes(16), Access.USER);
    assertEquals(FaultKind.PAGE_FAULT.code(), Fault.kindCode(f));
    assertEquals(f, v.lastFault());
    assertEquals(16, r.calls.size());
    Call c = r.calls.get(0);
    assertEquals(Access.USER | Access.WRITE, c.access());
    assertEquals(16, c.size());
    assertEquals(InstructionClass.WIDE_STORE, c.insn());
    v.setFaultHandler(null);
    assertEquals(f, v.writeWide(VA + 0x2000, bytes(32), Access.USER));
    assertEquals(f, v.lastFault());
  }

  @Test
  void aWideStoreTheHandlerAnswersShouldEndAtOnce() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pv(host);
    long[] answer = {GP0};
    Recorder r = install(v, (g, f, la, a, s, x) -> {
      g.recordAccess(AccessReason.NULL_HANDLER_WRITE);
      return answer[0];
    });
    assertEquals(GP0, v.writeWide(VA + 0x2000, bytes(16), Access.USER));
    assertEquals(GP0, v.lastFault());
    assertEquals(1, r.calls.size());
    answer[0] = GuestVcpu.FaultHandler.EMULATED;
    assertEquals(0, v.writeWide(VA + 0x1FF8, bytes(16), Access.USER));
    assertEquals(0, v.lastFault());
    assertEquals(2, r.calls.size());
    assertEquals(AccessReason.NULL_HANDLER_WRITE, v.lastAccessReason());
    // Nothing of the refused or emulated stores reached frame 0x160's end.
    assertEquals(0, host.machine().read((0x160L << 12) + 0xFF8, 8));
    // A wide store that faults nowhere forgets the last decision.
    assertEquals(0, v.writeWide(VA, bytes(16), Access.USER));
    assertNull(v.lastAccessReason());
    assertEquals(0x4746_4544_4342_4140L, host.machine().read(0x150L << 12, 8));
  }

  @Test
  void aWideStoreTheHandlerMapsShouldLandInTheNewFrame() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pv(host);
    Recorder r = install(v, (g, f, la, a, s, x) -> {
      long flags = PvMmuAbi.UVMF_INVLPG | PvMmuAbi.UVMF_LOCAL;
      assertEquals(0, host.updateVaMapping(g, VA + 0x2000, Pte.fromMfn(0x170, 0x7), flags, 0));
      return GuestVcpu.FaultHandler.RETRY;
    });
    assertEquals(0, v.writeWide(VA + 0x1FF8, bytes(16), Access.USER));
    assertEquals(1, r.calls.size());
    assertEquals(0x4746_4544_4342_4140L, host.machine().read((0x160L << 12) + 0xFF8, 8));
    assertEquals(0x4F4E_4D4C_4B4A_4948L, host.machine().read(0x170L << 12, 8));
  }

  // ---- what a PV or hardware vCPU does with INVPCID, and its accessors

  @Test
  void aPvKernelShouldGetGpFromInvpcidAndInvlpg() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = pv(host);
    assertEquals(GP0, v.invpcid(0, 0, VA));
    assertEquals(GP0, v.invpcid(2, 0, 0));
    assertEquals(GP0, v.invlpg(VA));
    assertNotNull(v.pvVcpu());
  }

  @Test
  void aHardwareVcpuShouldExecuteInvpcidOnTheProcessor() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, PagingMode.HVM_EPT, false);
    assertNull(v.guestControl());
    // SDM vol. 2A INVPCID: a type above 3 is #GP(0); a PCID for type 1 needs CR4.PCIDE.
    assertEquals(GP0, v.invpcid(4, 0, 0));
    assertEquals(GP0, v.invpcid(1, 1, 0));
    assertEquals(0, v.invpcid(2, 0, 0));
    assertEquals(0, v.invlpg(LA_RAM));
    assertNull(v.pvVcpu());
  }

  @Test
  void aHardwareVcpusCr3AndFlagsShouldBeTheProcessors() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, PagingMode.HVM_EPT, false);
    // SDM vol. 2B MOV to CR3 in IA-32e mode: #GP(0) for a bit set at or above MAXPHYADDR (46).
    assertEquals(GP0, v.writeGuestCr3(1L << 50));
    assertEquals(0x10_0000L, v.guestRegisters().cr3());
    assertEquals(0, v.guestRegisters().rflags());
    v.cpu().setRflags(1L << 18); // EFLAGS.AC
    assertEquals(1L << 18, v.guestRegisters().rflags());
  }

  @Test
  void theAccessorsShouldNameWhatTheHostInstalled() {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestVcpu v = hvm(host, PagingMode.HVM_NPT, false);
    assertInstanceOf(HapFaultHandler.class, v.faultHandler());
    assertEquals("d1 (HVM_NPT) vcpu 0", v.toString());
    GuestVcpu s = ShadowPagingTest.guest(new Host(0x1000, Policy.HARDENED),
        PagingMode.HVM_SHADOW);
    assertNotNull(s.guestControl());
    assertNotNull(s.faultHandler());
  }
}
