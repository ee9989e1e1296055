package org.hvmmu.mmu.xen;

import static org.hvmmu.mmu.ControlRegisters.CR0_PE;
import static org.hvmmu.mmu.ControlRegisters.CR0_PG;
import static org.hvmmu.mmu.ControlRegisters.CR0_WP;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PGE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PKE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PKS;
import static org.hvmmu.mmu.ControlRegisters.CR4_PSE;
import static org.hvmmu.mmu.ControlRegisters.CR4_SMAP;
import static org.hvmmu.mmu.ControlRegisters.CR4_SMEP;
import static org.hvmmu.mmu.ControlRegisters.EFER_LMA;
import static org.hvmmu.mmu.ControlRegisters.EFER_LME;
import static org.hvmmu.mmu.ControlRegisters.EFER_NXE;
import static org.hvmmu.mmu.ControlRegisters.RFLAGS_AC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.LatencyModel;
import org.hvmmu.mmu.MmuFeatures;
import org.hvmmu.mmu.MmuSwitches;
import org.hvmmu.mmu.TlbConfig;
import org.hvmmu.mmu.Vcpu;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.PropertyConfig;
import org.junit.jupiter.api.Test;

/**
 * Xen's software walk against hvmmu's hardware walk ({@link Vcpu}), where they must agree: today's
 * convention, a 4-level guest on HAP (the host's 1-GByte pages are the vCPU's), the identity p2m
 * over RAM (no paged, shared or non-RAM tables), one walk on a fresh vCPU, distinct tables. Over
 * random entries (every flag, keys, NX, PS at every level, reserved bits above MAXPHYADDR, misaligned
 * superpages, ignored bits), registers (WP, SMEP, SMAP, PKE, PKS, NXE, AC, PKRU, PKRS), vendors and
 * accesses (user and supervisor reads, writes and fetches, implicit accesses), Xen's success and
 * translation must be the vCPU's, Xen's error code bits 6:0 the vCPU's #PF error code, and the
 * accessed and dirty bits left in the tables the same.
 *
 * <p>Xen checks protection keys before the other rights and stops there; the SDM sets PK whenever
 * the key denies a data access, whatever else denies it, so the order never changes the error code
 * (the generator makes both deny often). Xen sets accessed bits leaf first and only after success,
 * the vCPU (with {@link MmuSwitches.AccessedOnFault#SUCCESS_ONLY}) top down after success, retrying
 * on a lost race: with distinct tables and one thread the bits agree. Where the two differ by
 * design, the example tests below pin the difference.
 */
class GuestWalkerVcpuPropertyTest {
  private static final long TABLE = 0x10; // L4 at frame 0x10, L3 0x11, L2 0x12, L1 0x13
  private static final int[] ACCESSES = {
    0,
    Pfec.WRITE_ACCESS,
    Pfec.INSN_FETCH,
    Pfec.USER_MODE,
    Pfec.USER_MODE | Pfec.WRITE_ACCESS,
    Pfec.USER_MODE | Pfec.INSN_FETCH,
    Pfec.IMPLICIT,
    Pfec.IMPLICIT | Pfec.WRITE_ACCESS
  };
  private static final long[] OPTIONAL_CR4 = {CR4_PSE, CR4_PGE, CR4_SMEP, CR4_SMAP, CR4_PKE, CR4_PKS};

  /** One walk: configuration, registers, access, address and the four entries (index = level). */
  record Case(
      int maxPhys,
      boolean amd,
      boolean gbPages,
      long cr0,
      long cr4,
      long efer,
      long rflags,
      int pkru,
      int pkrs,
      int access,
      long va,
      long[] base,
      long[] flags) {

    long entry(int level) {
      return base[level] | flags[level];
    }

    int index(int level) {
      return (int) (va >>> (12 + 9 * (level - 1))) & 0x1FF;
    }

    long slot(int level) {
      return ((TABLE + 4 - level) << 12) + 8L * index(level);
    }

    Case withFlags(int level, long value) {
      long[] f = flags.clone();
      f[level] = value;
      return new Case(maxPhys, amd, gbPages, cr0, cr4, efer, rflags, pkru, pkrs, access, va, base,
          f);
    }

    Case with(long cr0v, long cr4v, long eferv, long rflagsv, int pkruv, int pkrsv, boolean amdv,
        boolean gbv, int accessv) {
      return new Case(maxPhys, amdv, gbv, cr0v, cr4v, eferv, rflagsv, pkruv, pkrsv, accessv, va,
          base, flags);
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder("Case[maxPhys=" + maxPhys + ", amd=" + amd + ", gbPages="
          + gbPages + ", cr0=0x" + Long.toHexString(cr0) + ", cr4=0x" + Long.toHexString(cr4)
          + ", efer=0x" + Long.toHexString(efer) + ", rflags=0x" + Long.toHexString(rflags)
          + ", pkru=0x" + Integer.toHexString(pkru) + ", pkrs=0x" + Integer.toHexString(pkrs)
          + ", access=" + Pfec.describe(access) + ", va=0x" + Long.toHexString(va));
      for (int level = 4; level >= 1; level--) {
        b.append(", l").append(level).append("e=0x").append(Long.toHexString(entry(level)));
      }
      return b.append(']').toString();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Case && toString().equals(o.toString());
    }

    @Override
    public int hashCode() {
      return toString().hashCode();
    }
  }

  static Case draw(SplittableRandom r) {
    int maxPhys = new int[] {36, 40, 46, 52}[r.nextInt(4)];
    long cr0 = CR0_PE | CR0_PG | (r.nextInt(4) != 0 ? CR0_WP : 0);
    long cr4 = CR4_PAE;
    for (long bit : OPTIONAL_CR4) {
      cr4 |= r.nextBoolean() ? bit : 0;
    }
    long efer = EFER_LME | EFER_LMA | (r.nextInt(4) != 0 ? EFER_NXE : 0);
    long va = ((long) r.nextInt(512) << 39) | ((long) r.nextInt(512) << 30)
        | ((long) r.nextInt(512) << 21) | ((long) r.nextInt(512) << 12) | r.nextInt(4096);
    va = (va << 16) >> 16; // canonical
    long[] base = new long[5];
    long[] flags = new long[5];
    for (int level = 4; level >= 1; level--) {
      boolean ps = level == 4 ? r.nextInt(20) == 0 : (level == 2 || level == 3) && r.nextInt(4) == 0;
      boolean leaf = level == 1 || (ps && level != 4);
      if (leaf) {
        long frame = r.nextLong() & ((1L << (maxPhys - 12)) - 1);
        frame &= level == 3 ? ~0x3FFFFL : level == 2 ? ~0x1FFL : ~0L;
        base[level] = frame << 12;
      } else {
        base[level] = (TABLE + 5 - level) << 12;
      }
      long f = 0;
      f |= r.nextInt(16) != 0 ? WalkFixture.P : 0;
      f |= r.nextInt(4) != 0 ? WalkFixture.RW : 0;
      f |= r.nextInt(4) != 0 ? WalkFixture.US : 0;
      f |= r.nextBoolean() ? WalkFixture.PWT : 0;
      f |= r.nextBoolean() ? WalkFixture.PCD : 0;
      f |= r.nextBoolean() ? WalkFixture.A : 0;
      f |= r.nextBoolean() ? WalkFixture.D : 0;
      f |= r.nextInt(4) == 0 ? WalkFixture.G : 0;
      f |= ps || (level == 1 && r.nextInt(8) == 0) ? WalkFixture.PS : 0;
      f |= r.nextInt(8) == 0 ? (long) (1 + r.nextInt(7)) << 9 : 0;
      f |= r.nextInt(5) == 0 ? WalkFixture.NX : 0;
      f |= r.nextInt(3) == 0 ? (long) r.nextInt(16) << 59 : 0;
      f |= r.nextInt(10) == 0 ? 1L << (52 + r.nextInt(7)) : 0;
      if (maxPhys < 52 && r.nextInt(16) == 0) {
        f |= 1L << (maxPhys + r.nextInt(52 - maxPhys));
      }
      if (leaf && level > 1) {
        f |= r.nextInt(4) == 0 ? WalkFixture.PAT_LARGE : 0;
        if (r.nextInt(8) == 0) {
          f |= 1L << (13 + r.nextInt(level == 2 ? 8 : 17));
        }
      }
      flags[level] = f;
    }
    return new Case(maxPhys, r.nextBoolean(), r.nextInt(4) != 0, cr0, cr4, efer,
        r.nextBoolean() ? RFLAGS_AC : 0, r.nextInt(3) == 0 ? 0 : r.nextInt(),
        r.nextInt(3) == 0 ? 0 : r.nextInt(), ACCESSES[r.nextInt(ACCESSES.length)], va, base, flags);
  }

  /** Simpler cases: one flag bit cleared, one optional register bit cleared, defaults restored. */
  static List<Case> shrink(Case c) {
    List<Case> out = new ArrayList<>();
    if (c.access() != 0) {
      out.add(c.with(c.cr0(), c.cr4(), c.efer(), c.rflags(), c.pkru(), c.pkrs(), c.amd(),
          c.gbPages(), 0));
    }
    if (c.pkru() != 0 || c.pkrs() != 0 || c.rflags() != 0) {
      out.add(c.with(c.cr0(), c.cr4(), c.efer(), 0, 0, 0, c.amd(), c.gbPages(), c.access()));
    }
    for (long bit : OPTIONAL_CR4) {
      if ((c.cr4() & bit) != 0) {
        out.add(c.with(c.cr0(), c.cr4() & ~bit, c.efer(), c.rflags(), c.pkru(), c.pkrs(), c.amd(),
            c.gbPages(), c.access()));
      }
    }
    if ((c.cr0() & CR0_WP) == 0 || (c.efer() & EFER_NXE) == 0 || c.amd() || !c.gbPages()) {
      out.add(c.with(c.cr0() | CR0_WP, c.cr4(), c.efer() | EFER_NXE, c.rflags(), c.pkru(),
          c.pkrs(), false, true, c.access()));
    }
    for (int level = 4; level >= 1; level--) {
      long f = c.flags()[level];
      // PS of a level-2 or level-3 entry stays: without it the page address would become a table
      // pointer outside RAM, which Xen reads as not present and the vCPU as all ones.
      long keep = level == 2 || level == 3 ? WalkFixture.PS : 0;
      for (long rest = f & ~keep; rest != 0; rest &= rest - 1) {
        out.add(c.withFlags(level, f & ~Long.lowestOneBit(rest)));
      }
    }
    return out;
  }

  static final Gen<Case> CASES = Gens.of(GuestWalkerVcpuPropertyTest::draw,
      GuestWalkerVcpuPropertyTest::shrink);

  private static PhysicalMemory memory(Case c) {
    PhysicalMemory m = new PhysicalMemory(c.maxPhys());
    m.addRam(0, 0xFFF);
    for (int level = 4; level >= 1; level--) {
      m.write(c.slot(level), 8, c.entry(level));
    }
    return m;
  }

  static int hardwareAccess(int walk) {
    return ((walk & Pfec.WRITE_ACCESS) != 0 ? Access.WRITE : 0)
        | ((walk & Pfec.USER_MODE) != 0 ? Access.USER : 0)
        | ((walk & Pfec.INSN_FETCH) != 0 ? Access.FETCH : 0)
        | ((walk & Pfec.IMPLICIT) != 0 ? Access.IMPLICIT : 0);
  }

  static Vcpu vcpu(PhysicalMemory m, boolean amd, boolean gbPages) {
    return new Vcpu(m, MmuFeatures.intel(m.maxPhyAddr()).withGbPages(gbPages),
        MmuSwitches.DEFAULT.withL4GlobalReserved(amd), TlbConfig.goldenCove(),
        LatencyModel.GOLDEN_COVE);
  }

  static void check(Case c) {
    PhysicalMemory xenMemory = memory(c);
    GuestWalker walker = new GuestWalker(xenMemory, P2mLookup.identity(xenMemory),
        new GuestWalkDomain(c.maxPhys(), c.amd(), true, c.gbPages(), true, true),
        GuestWalkSwitches.HARDENED);
    GuestRegisters regs = new GuestRegisters(c.cr0(), TABLE << 12, c.cr4(), c.efer(), c.rflags(),
        c.pkru(), c.pkrs());
    GuestWalk gw = new GuestWalk();
    boolean ok = walker.guestWalkTables(regs, c.va(), gw, c.access(), TABLE, 0);

    PhysicalMemory hardwareMemory = memory(c);
    Vcpu v = vcpu(hardwareMemory, c.amd(), c.gbPages());
    assertEquals(0, v.loadState(c.cr0(), TABLE << 12, c.cr4(), c.efer()));
    v.writePkru(c.pkru());
    assertEquals(0, v.writePkrs(c.pkrs() & 0xFFFF_FFFFL));
    v.setRflags(c.rflags());
    long r = v.translate(c.va(), hardwareAccess(c.access()));

    if (ok) {
      assertFalse(Fault.isFault(r), () -> "Xen allows, the vCPU faults: " + Fault.describe(r)
          + "; " + gw);
      assertEquals(gw.gpa(), r, gw::toString);
    } else {
      assertTrue(Fault.isFault(r), () -> "Xen faults " + Pfec.describe(gw.pfec())
          + ", the vCPU translates to 0x" + Long.toHexString(r) + "; " + gw);
      assertEquals(FaultKind.PAGE_FAULT, Fault.kind(r));
      assertEquals(Pfec.describe(gw.pfec() & 0x7F),
          Pfec.describe((int) Fault.code(r)), gw::toString);
      assertEquals(0, gw.pfec() & Pfec.SYNTH_MASK);
      assertEquals(c.va(), v.cr2());
    }
    for (int level = 4; level >= 1; level--) {
      int l = level;
      assertEquals(Long.toHexString(hardwareMemory.read(c.slot(level), 8)),
          Long.toHexString(xenMemory.read(c.slot(level), 8)),
          () -> "accessed/dirty bits of the L" + l + " entry; " + gw);
    }
  }

  @Test
  void shouldAgreeWithTheHardwareWalk() {
    PropertyConfig.defaults().forAll(CASES, GuestWalkerVcpuPropertyTest::check);
  }

  /** The generator reaches the interesting outcomes (so the property is not vacuous). */
  @Test
  void shouldCoverEveryOutcome() {
    SplittableRandom r = new SplittableRandom(0x5EED);
    int[] seen = new int[8];
    for (int i = 0; i < 4000; i++) {
      Case c = draw(r);
      PhysicalMemory m = memory(c);
      GuestWalker w = new GuestWalker(m, P2mLookup.identity(m),
          new GuestWalkDomain(c.maxPhys(), c.amd(), true, c.gbPages(), true, true),
          GuestWalkSwitches.HARDENED);
      GuestWalk gw = new GuestWalk();
      boolean ok = w.guestWalkTables(new GuestRegisters(c.cr0(), TABLE << 12, c.cr4(), c.efer(),
          c.rflags(), c.pkru(), c.pkrs()), c.va(), gw, c.access(), TABLE, 0);
      int p = gw.pfec();
      seen[0] += ok ? 1 : 0;
      seen[1] += !ok && (p & Pfec.PAGE_PRESENT) == 0 ? 1 : 0;
      seen[2] += (p & Pfec.RESERVED_BIT) != 0 ? 1 : 0;
      seen[3] += (p & Pfec.PROT_KEY) != 0 ? 1 : 0;
      seen[4] += !ok && (p & (Pfec.PAGE_PRESENT | Pfec.RESERVED_BIT | Pfec.PROT_KEY))
          == Pfec.PAGE_PRESENT ? 1 : 0;
      seen[5] += ok && gw.leafLevel() == 3 ? 1 : 0;
      seen[6] += ok && gw.leafLevel() == 2 ? 1 : 0;
      seen[7] += (p & Pfec.INSN_FETCH) != 0 ? 1 : 0;
    }
    for (int i = 0; i < seen.length; i++) {
      assertTrue(seen[i] >= 20, "outcome " + i + " seen " + seen[i] + " times: "
          + Arrays.toString(seen));
    }
  }

  // ---- where they differ by design ----------------------------------------------------------

  /**
   * A recursive entry, one thread: both leave the word accessed and dirty (Xen: the leaf's
   * compare-and-set first; the vCPU: top down, restarting when the L1 update loses to its own L2
   * update). The seed's top-down order without a restart loses the dirty bit.
   */
  @Test
  void shouldAgreeOnARecursiveEntryButTheSeedLosesDirty() {
    long va = (1L << 39) | (2L << 30) | (3L << 21) | (3L << 12);
    long self = (WalkFixture.L2_FRAME << 12) | WalkFixture.PRW;
    for (GuestWalkSwitches s : List.of(GuestWalkSwitches.HARDENED, GuestWalkSwitches.SEED_2010)) {
      WalkFixture f = WalkFixture.long4();
      f.set8(WalkFixture.L2_SLOT, self);
      WalkFixture h = WalkFixture.long4();
      h.set8(WalkFixture.L2_SLOT, self);
      GuestWalk gw = new GuestWalk();
      assertTrue(f.walker(GuestWalkDomain.hapIntel(40), s)
          .guestWalkTables(WalkFixture.regs4(), va, gw, Pfec.WRITE_ACCESS, WalkFixture.L4_FRAME, 0));
      Vcpu v = vcpu(h.memory, false, true);
      GuestRegisters regs = WalkFixture.regs4();
      assertEquals(0, v.loadState(regs.cr0(), regs.cr3(), regs.cr4(), regs.efer()));
      assertEquals(WalkFixture.L2_FRAME << 12, v.translate(va, Access.WRITE));
      long hardware = h.get8(WalkFixture.L2_SLOT);
      assertEquals(self | WalkFixture.A | WalkFixture.D, hardware);
      if (s == GuestWalkSwitches.HARDENED) {
        assertEquals(hardware, f.get8(WalkFixture.L2_SLOT));
      } else {
        assertEquals(self | WalkFixture.A, f.get8(WalkFixture.L2_SLOT));
      }
    }
  }

  /**
   * PAE: the vCPU walks from the PDPTE registers loaded at the last CR3 load; Xen re-reads the PDPTE
   * from memory on every walk, so a PDPT change without a CR3 reload is seen by Xen only. And a
   * PDPTE with a reserved bit is a #GP at the CR3 load for the vCPU, an RSVD #PF at the walk for
   * Xen.
   */
  @Test
  void shouldDifferOnPaePdptes() {
    long cr3 = 0x300_040L;
    long va = (2L << 30) | (3L << 21) | (4L << 12);
    long pdpte = cr3 + 16;
    WalkFixture f = new WalkFixture(40);
    f.set8(pdpte, 0x301_000L | WalkFixture.P);
    f.set8(0x301_018L, 0x302_000L | WalkFixture.PRW);
    f.set8(0x302_020L, 0x7000 | WalkFixture.PRW);
    f.set8(0x303_018L, 0x304_000L | WalkFixture.PRW);
    f.set8(0x304_020L, 0x9000 | WalkFixture.PRW);
    GuestRegisters regs = GuestRegisters.pae(cr3);
    Vcpu v = vcpu(f.memory, false, true);
    assertEquals(0, v.loadState(regs.cr0(), cr3, regs.cr4(), regs.efer()));
    HapGuestWalk hap = new HapGuestWalk(f.walker(GuestWalkDomain.hapIntel(40),
        GuestWalkSwitches.HARDENED));
    assertEquals(0x7000, v.translate(va, Access.USER));
    assertEquals(7, hap.hapGvaToGfn(regs, va, Pfec.USER_MODE));
    f.set8(pdpte, 0x303_000L | WalkFixture.P);
    v.flushAll();
    assertEquals(0x7000, v.translate(va, Access.USER), "the PDPTE register is unchanged");
    assertEquals(9, hap.hapGvaToGfn(regs, va, Pfec.USER_MODE), "Xen reads the new PDPTE");

    f.set8(pdpte, 0x301_000L | WalkFixture.P | WalkFixture.RW);
    assertNotEquals(0, v.loadState(regs.cr0(), cr3, regs.cr4(), regs.efer()), "#GP");
    assertEquals(HapGuestWalk.INVALID_GFN, hap.hapGvaToGfn(regs, va, Pfec.USER_MODE));
    assertEquals(Pfec.PAGE_PRESENT | Pfec.USER_MODE | Pfec.RESERVED_BIT, hap.pfec());
  }

  /**
   * 2-level without CR4.PSE: a PDE's PS bit is ignored by both, but Xen's accessed-bit update
   * compares against its copy with PS cleared and fails, so only the vCPU sets the PDE's A bit.
   */
  @Test
  void shouldDifferOnTheAccessedBitOfAPdeWithIgnoredPs() {
    long pd = 0x200_000L;
    long va = (5L << 22) | (6L << 12);
    long pde = 0x201_000L | WalkFixture.PS | WalkFixture.PRW;
    WalkFixture f = new WalkFixture(40);
    f.set4(pd + 20, pde);
    f.set4(0x201_018L, 0x7000 | WalkFixture.PRW);
    WalkFixture h = new WalkFixture(40);
    h.set4(pd + 20, pde);
    h.set4(0x201_018L, 0x7000 | WalkFixture.PRW);
    GuestRegisters regs = GuestRegisters.twoLevel(pd);
    GuestWalk gw = new GuestWalk();
    assertTrue(f.walker(GuestWalkDomain.hapIntel(40), GuestWalkSwitches.HARDENED)
        .guestWalkTables(regs, va, gw, Pfec.USER_MODE, pd >>> 12, 0));
    Vcpu v = vcpu(h.memory, false, true);
    assertEquals(0, v.loadState(regs.cr0(), pd, regs.cr4(), regs.efer()));
    assertEquals(0x7000, v.translate(va, Access.USER));
    assertEquals(pde, f.get4(pd + 20));
    assertEquals(pde | WalkFixture.A, h.get4(pd + 20));
    assertEquals(f.get4(0x201_018L), h.get4(0x201_018L));
  }

  /**
   * Shadow paging: Xen treats a 2-level PSE-36 page's high bits, and a 4-level L3 PS, as reserved
   * whatever the processor supports; the vCPU (with PSE-36 and 1-GByte pages) translates them.
   */
  @Test
  void shouldDifferOnSuperpagesUnderShadowPaging() {
    long pd = 0x200_000L;
    long va = (5L << 22) | (6L << 12);
    WalkFixture f = new WalkFixture(40);
    f.set4(pd + 20, 0x0040_0000L | (1L << 13) | WalkFixture.PS | WalkFixture.PRW);
    GuestRegisters regs = GuestRegisters.twoLevel(pd).withCr4(CR4_PSE);
    GuestWalk gw = new GuestWalk();
    GuestWalkDomain shadow = GuestWalkDomain.hapIntel(40).withHap(false);
    assertFalse(f.walker(shadow, GuestWalkSwitches.HARDENED)
        .guestWalkTables(regs, va, gw, Pfec.USER_MODE, pd >>> 12, 0));
    assertEquals(Pfec.PAGE_PRESENT | Pfec.USER_MODE | Pfec.RESERVED_BIT, gw.pfec());
    Vcpu v = vcpu(f.memory, false, true);
    assertEquals(0, v.loadState(regs.cr0(), pd, regs.cr4(), regs.efer()));
    assertEquals(0x1_0040_6000L, v.translate(va, Access.USER));
    assertTrue(f.walker(GuestWalkDomain.hapIntel(40), GuestWalkSwitches.HARDENED)
        .guestWalkTables(regs, va, gw, Pfec.USER_MODE, pd >>> 12, 0));
    assertEquals(0x1_0040_6000L, gw.gpa(), "HAP: as the hardware");
  }
}
