package org.hvmmu.host;

import static org.hvmmu.mmu.ControlRegisters.CR0_PE;
import static org.hvmmu.mmu.ControlRegisters.CR0_PG;
import static org.hvmmu.mmu.ControlRegisters.CR0_WP;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.hvmmu.mmu.ControlRegisters.EFER_LMA;
import static org.hvmmu.mmu.ControlRegisters.EFER_LME;
import static org.hvmmu.mmu.ControlRegisters.EFER_NXE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.SplittableRandom;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.Vcpu;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.PropertyConfig;
import org.hvmmu.x86.Pte;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A shadowed guest against the processor walking the guest's own tables: random 4-level trees the
 * guest rewrites with its own stores (emulated by the shadow code, the guest reloading CR3 after
 * each, as it must) and a loader rewrites behind its back, CR3 switches between two address spaces,
 * a device frame protected and unprotected, and guest reads and writes. Every access through the
 * shadows must do what a fresh vCPU on the guest's tables says (the same #PF error code, the same
 * frame), except what the hypervisor withholds on purpose: a write to a read-only MMIO frame faults,
 * a write to a guest page table is emulated, a frame the guest may not map faults. After every step the host's invariants hold under
 * hardened (the TLB invariant included: the shadow vCPU keeps its TLBs in strict retention), and no
 * shadow entry lets the guest write a page table.
 *
 * <p>Layout (RAM 0x100-0x1ff; gfn = mfn for HVM): address spaces rooted at L4 tables 0x180 and
 * 0x181; tables and entries drawn among frames 0x182-0x18b and data 0x150-0x157 and the device
 * frame 0x100000; slots 0, 1, 2 at every level. L4[511] of both roots maps a window (supervisor,
 * writable) onto frames 0x180-0x18f at linear 0xffffff8000000000. No PS bits: Xen's shadow walk
 * treats L3 PS as reserved where the processor maps 1 GiB (docs/xen-guest-walk.md).
 */
class ShadowPagingPropertyTest {
  static final long MMIO = 0x100000;
  static final long ROOT_A = 0x180;
  static final long ROOT_B = 0x181;
  static final long WL3 = 0x18c;
  static final long WL2 = 0x18d;
  static final long WL1 = 0x18e;
  static final long WINDOW = 0xFFFF_FF80_0000_0000L;
  static final long CR0 = CR0_PE | CR0_WP | CR0_PG;
  static final long EFER = EFER_LME | EFER_LMA | EFER_NXE;

  /** One step: kind 0 guest store, 1 loader store, 2 access, 3 CR3 switch, 4 (un)protect. */
  record Op(int kind, int frame, int slot, long entry, long la, int access) {
    @Override
    public String toString() {
      return switch (kind) {
        case 0 -> "guest store 0x" + Long.toHexString(0x180 + frame) + "[" + slot + "] = "
            + Pte.toHex(entry);
        case 1 -> "loader store 0x" + Long.toHexString(0x180 + frame) + "[" + slot + "] = "
            + Pte.toHex(entry);
        case 2 -> ((access & Access.WRITE) != 0 ? "write" : "read")
            + ((access & Access.USER) != 0 ? " user" : " supervisor") + " 0x"
            + Long.toHexString(la);
        case 3 -> "cr3 root " + (slot == 0 ? "A" : "B");
        default -> slot == 0 ? "protect mmio" : "unprotect mmio";
      };
    }
  }

  static long entry(SplittableRandom r) {
    long[] targets = {0x182, 0x183, 0x184, 0x185, 0x186, 0x187, 0x188, 0x189, 0x18a, 0x18b,
        0x150, 0x151, 0x152, 0x153, MMIO, ROOT_A};
    long frame = targets[r.nextInt(targets.length)];
    long flags = (r.nextInt(10) != 0 ? 1 : 0) | (r.nextInt(10) < 7 ? 2 : 0)
        | (r.nextInt(10) < 7 ? 4 : 0) | (r.nextBoolean() ? 0x20 : 0) | (r.nextBoolean() ? 0x40 : 0)
        | (r.nextInt(10) == 0 ? 1L << 63 : 0) | (r.nextInt(20) == 0 ? 1L << 50 : 0);
    return (frame << 12) | flags;
  }

  static Op draw(SplittableRandom r) {
    int kind = r.nextInt(20);
    if (kind < 6) {
      return new Op(0, 2 + r.nextInt(10), r.nextInt(3), entry(r), 0, 0);
    }
    if (kind < 8) {
      return new Op(1, r.nextInt(12), r.nextInt(3), entry(r), 0, 0);
    }
    if (kind < 17) {
      long la = ((long) r.nextInt(3) << 39) | ((long) r.nextInt(3) << 30)
          | ((long) r.nextInt(3) << 21) | ((long) r.nextInt(3) << 12) | (8L * r.nextInt(4));
      int access = (r.nextBoolean() ? Access.WRITE : 0) | (r.nextBoolean() ? Access.USER : 0);
      return new Op(2, 0, 0, 0, la, access);
    }
    if (kind < 18) {
      return new Op(3, 0, r.nextInt(2), 0, 0, 0);
    }
    return new Op(4, 0, r.nextInt(3) == 0 ? 1 : 0, 0, 0, 0);
  }

  static final Gen<List<Op>> SCRIPTS = Gens.lists(Gens.of(ShadowPagingPropertyTest::draw,
      op -> op.kind() == 2 && op.access() != 0
          ? List.of(new Op(2, 0, 0, 0, op.la(), 0)) : List.<Op>of()), 1, 40);

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = PagingMode.class, names = {"PV_SHADOW", "HVM_SHADOW"})
  void shadowsShouldTranslateAsTheGuestsTablesSay(PagingMode mode) {
    PropertyConfig.defaults().forAll(SCRIPTS, ops -> run(mode, ops));
  }

  static void put(Host host, GuestDomain d, long frame, int slot, long value) {
    host.writeGuestPhysical(d, (frame << 12) + 8L * slot, 8, value);
  }

  static void run(PagingMode mode, List<Op> ops) {
    Host host = new Host(0x1000, Policy.HARDENED);
    GuestDomain d = host.createDomain(1, mode, false);
    assertEquals(0, host.giveRam(d, 0x100, 0x1ff));
    assertEquals(0, host.grantIomem(d, MMIO, MMIO));
    for (long root : new long[] {ROOT_A, ROOT_B}) {
      put(host, d, root, 511, (WL3 << 12) | 0x63);
      put(host, d, root, 0, (0x182L << 12) | 0x7);
    }
    put(host, d, WL3, 0, (WL2 << 12) | 0x63);
    put(host, d, WL2, 0, (WL1 << 12) | 0x63);
    for (int i = 0; i < 16; i++) {
      put(host, d, WL1, i, ((0x180L + i) << 12) | 0x63);
    }
    for (int i = 0; i < 8; i++) {
      host.writeGuestPhysical(d, (0x150L + i) << 12, 8, 0xDA7A_0000L + i);
    }
    GuestVcpu v = host.createVcpu(d);
    long cr3 = ROOT_A << 12;
    assertEquals(0, v.loadGuestState(CR0, cr3, CR4_PAE, EFER));
    Vcpu oracle = Vcpu.create(host.machine());
    long value = 1;
    for (Op op : ops) {
      switch (op.kind()) {
        case 0 -> {
          long r = v.write(WINDOW + 0x1000L * op.frame() + 8L * op.slot(), 8, op.entry(), 0);
          assertEquals(0, r, () -> op + ": " + Fault.describe(r));
          assertEquals(op.entry(), host.readGuestPhysical(d,
              ((0x180L + op.frame()) << 12) + 8L * op.slot(), 8), op::toString);
          assertEquals(0, v.writeGuestCr3(cr3)); // the guest flushes its TLB
        }
        case 1 -> put(host, d, 0x180 + op.frame(), op.slot(), op.entry());
        case 2 -> access(host, d, v, oracle, cr3, op, value++);
        case 3 -> {
          cr3 = (op.slot() == 0 ? ROOT_A : ROOT_B) << 12;
          assertEquals(0, v.writeGuestCr3(cr3));
        }
        default -> {
          if (op.slot() == 0) {
            assertEquals(0, host.protect("dev", MMIO, MMIO));
          } else {
            host.unprotect("dev", MMIO, MMIO);
          }
        }
      }
      assertEquals(List.of(), HostInvariants.check(host), op::toString);
      ShadowPagingTest.checkShadows(d);
    }
  }

  static void access(Host host, GuestDomain d, GuestVcpu v, Vcpu oracle, long cr3, Op op,
      long value) {
    boolean write = (op.access() & Access.WRITE) != 0;
    long la = op.la();
    boolean ramTables = tablesInRam(host, cr3, la);
    // The processor's answer first: the access may rewrite the tables (a store into one of them).
    oracle.loadState(CR0, cr3, CR4_PAE, EFER);
    long expected = oracle.translate(la, op.access());
    long r = write ? v.write(la, 8, value, op.access()) : 0;
    long read = write ? 0 : v.read(la, 8, op.access());
    long got = write ? r : v.lastFault();
    if (!ramTables) {
      return; // a table outside RAM: Xen reads it as not present, the processor as all ones
    }
    if (expected < 0) {
      assertEquals(Fault.describe(expected), got == 0 ? "no fault" : Fault.describe(got),
          op::toString);
      return;
    }
    long frame = expected >>> 12;
    boolean mmio = frame == MMIO;
    if (!mmio && (frame < 0x100 || frame > 0x1ff) && d.mode() == PagingMode.PV_SHADOW) {
      // A frame the guest may not map (a data word read as an entry): the PV validator refuses
      // the entry, which stays empty (not present), and the guest faults on it.
      long code = op.access() & (Access.WRITE | Access.USER);
      assertEquals(Fault.describe(Fault.of(FaultKind.PAGE_FAULT, code)),
          got == 0 ? "no fault" : Fault.describe(got), op::toString);
      return;
    }
    if (!mmio && (frame < 0x100 || frame > 0x1ff)) {
      // HVM: a gfn with no p2m entry is p2m_mmio_dm (Xen 4.22 p2m_pt_get_entry: "anything not
      // marked as RAM [is] emulated MMIO space"), which sh_page_fault hands to the device model:
      // with none, the null handler reads all ones and drops stores. No fault.
      assertEquals("no fault", got == 0 ? "no fault" : Fault.describe(got), op::toString);
      if (!write) {
        assertEquals(-1L, read, op::toString);
      }
      return;
    }
    if (write && mmio && host.mmioRoRanges().containsSingleton(MMIO)) {
      assertEquals(FaultKind.PAGE_FAULT, got == 0 ? null : Fault.kind(got), op::toString);
      // P|W(|U): Xen's handler would let the guest fault on it for ever.
      assertEquals(1 | (op.access() & (Access.WRITE | Access.USER)), Fault.code(got),
          op::toString);
      return;
    }
    assertEquals("no fault", got == 0 ? "no fault" : Fault.describe(got), op::toString);
    if (!mmio) {
      assertEquals(write ? value : read, host.machine().read(expected, 8), op::toString);
    }
  }

  /** Whether every table the processor's walk of {@code la} reads is RAM of the guest. */
  static boolean tablesInRam(Host host, long cr3, long la) {
    long table = cr3 >>> 12;
    for (int level = 4; level >= 2; level--) {
      long e = host.machine().read((table << 12) + 8L * ((la >>> (12 + 9 * (level - 1))) & 511), 8);
      if ((e & 1) == 0 || (e & (1L << 50)) != 0) {
        return true; // the walk stops here
      }
      table = Pte.getMfn(e);
      if (table < 0x100 || table > 0x1ff) {
        return false;
      }
    }
    return true;
  }
}
