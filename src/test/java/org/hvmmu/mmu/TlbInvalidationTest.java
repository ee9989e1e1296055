package org.hvmmu.mmu;

import static org.hvmmu.mmu.VcpuInvGuest.CR0;
import static org.hvmmu.mmu.VcpuInvGuest.EFER;
import static org.hvmmu.mmu.VcpuInvGuest.GLOBAL;
import static org.hvmmu.mmu.VcpuInvGuest.NEW;
import static org.hvmmu.mmu.VcpuInvGuest.OLD;
import static org.hvmmu.mmu.VcpuInvGuest.PAE;
import static org.hvmmu.mmu.VcpuInvGuest.PCIDE;
import static org.hvmmu.mmu.VcpuInvGuest.PGE;
import static org.hvmmu.mmu.VcpuInvGuest.PLAIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Each invalidating operation, table by table from Intel SDM vol. 3A §4.10.4.1 and vol. 3C §28.3.3:
 * what it removes and what a processor may keep (strict retention), and what QEMU and Bochs style
 * over-flush removes. A translation is "kept" when, after its leaf entry is rewritten without an
 * invalidation, the old frame still comes back.
 */
class TlbInvalidationTest {
  @Test
  void shouldKeepEverythingWithoutAnInvalidation() {
    VcpuInvGuest g = new VcpuInvGuest();
    g.fillAndRemap();
    assertTrue(g.kept(PLAIN));
    assertTrue(g.kept(GLOBAL));
  }

  @Test
  void invlpgShouldRemoveTheAddressGlobalOrNot() {
    VcpuInvGuest g = new VcpuInvGuest();
    g.fillAndRemap();
    g.vcpu.invlpg(GLOBAL);
    assertTrue(g.kept(PLAIN));
    assertFalse(g.kept(GLOBAL));
    g.vcpu.invlpg(PLAIN);
    assertFalse(g.kept(PLAIN));
    assertEquals(2, g.vcpu.counters().flushesPartial());
  }

  @Test
  void invlpgShouldEmptyThePagingStructureCaches() {
    // PLAIN's page-directory entry is cached; point it at a new page table without invalidating.
    VcpuInvGuest g = new VcpuInvGuest();
    assertEquals(OLD, g.vcpu.translate(PLAIN, Access.READ));
    long other = PLAIN + 0x3000; // same page table, not in the TLB
    long pt = g.tables.newTable();
    g.memory.write(pt + 8 * ((other >>> 12) & 0x1FF), 8, NEW | 0x67);
    long pde = g.tables.entryAddress(g.root, 4, PLAIN, 2);
    g.memory.write(pde, 8, pt | 0x27);
    // The PDE cache still gives the old page table, whose entry for `other` is not present.
    assertEquals(FaultKind.PAGE_FAULT, Fault.kind(g.vcpu.translate(other, Access.READ)));
    g.vcpu.invlpg(GLOBAL); // any address: the paging-structure caches are emptied
    assertEquals(NEW, g.vcpu.translate(other, Access.READ));
  }

  @Test
  void movToCr3ShouldKeepGlobalTranslations() {
    VcpuInvGuest g = new VcpuInvGuest();
    g.fillAndRemap();
    assertEquals(0, g.vcpu.writeCr3(g.root));
    assertFalse(g.kept(PLAIN));
    assertTrue(g.kept(GLOBAL));
  }

  @Test
  void pcidsShouldKeepEachAddressSpaceApart() {
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | PCIDE); // PCID 1 on root
    g.fillAndRemap();
    // Switch to PCID 2 (bit 63 clear: PCID 2's translations go; PCID 1's stay).
    assertEquals(0, g.vcpu.writeCr3(g.root2 | 2));
    assertFalse(g.kept(PLAIN));
    assertTrue(g.kept(GLOBAL), "global translations serve every PCID");
    g.remap(); // PCID 2 now caches NEW; put OLD back for clarity of what PCID 1 keeps
    g.memory.write(g.tables.entryAddress(g.root, 4, PLAIN, 1), 8, NEW | 0x67);
    // Back to PCID 1 with bit 63: nothing invalidated, PCID 1 still has OLD.
    assertEquals(0, g.vcpu.writeCr3(g.root | 1 | ControlRegisters.CR3_NOFLUSH));
    assertEquals(1, g.vcpu.pcid());
    assertTrue(g.kept(PLAIN));
    // Without bit 63 PCID 1's non-global translations go.
    assertEquals(0, g.vcpu.writeCr3(g.root | 1));
    assertFalse(g.kept(PLAIN));
  }

  @Test
  void cr4ChangesShouldInvalidateAsTheSdmSays() {
    VcpuInvGuest pge = new VcpuInvGuest();
    pge.fillAndRemap();
    assertEquals(0, pge.vcpu.writeCr4(PAE));
    assertFalse(pge.kept(GLOBAL), "changing PGE removes global translations");

    VcpuInvGuest smep = new VcpuInvGuest();
    smep.fillAndRemap();
    assertEquals(0, smep.vcpu.writeCr4(PAE | PGE | ControlRegisters.CR4_SMEP));
    assertFalse(smep.kept(PLAIN), "SMEP 0 -> 1 removes the current PCID's translations");

    VcpuInvGuest smepOff = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | ControlRegisters.CR4_SMEP);
    smepOff.fillAndRemap();
    assertEquals(0, smepOff.vcpu.writeCr4(PAE | PGE));
    assertTrue(smepOff.kept(PLAIN), "SMEP 1 -> 0 needs no invalidation");

    VcpuInvGuest smap = new VcpuInvGuest();
    smap.fillAndRemap();
    assertEquals(0, smap.vcpu.writeCr4(PAE | PGE | ControlRegisters.CR4_SMAP));
    smap.vcpu.setRflags(ControlRegisters.RFLAGS_AC); // the pages are user pages
    assertTrue(smap.kept(PLAIN), "SMAP needs no invalidation");

    VcpuInvGuest pcide = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | PCIDE);
    pcide.fillAndRemap();
    assertEquals(0, pcide.vcpu.writeCr3(pcide.root)); // PCID 0, so that PCIDE may be cleared
    pcide.remap();
    assertEquals(0, pcide.vcpu.writeCr4(PAE | PGE));
    assertFalse(pcide.kept(GLOBAL), "PCIDE 1 -> 0 removes everything");
  }

  @Test
  void cr0ChangesShouldInvalidateAsTheSdmSays() {
    VcpuInvGuest wp = new VcpuInvGuest();
    wp.fillAndRemap();
    assertEquals(0, wp.vcpu.writeCr0(CR0 & ~ControlRegisters.CR0_WP));
    assertTrue(wp.kept(PLAIN), "WP needs no invalidation");

    // Clearing PG (from compatibility mode; CS is not modelled) leaves IA-32e mode and removes
    // everything, global translations included.
    VcpuInvGuest pg = new VcpuInvGuest();
    pg.fillAndRemap();
    assertEquals(0, pg.vcpu.writeCr0(CR0 & ~ControlRegisters.CR0_PG));
    assertEquals(PagingMode.NONE, pg.vcpu.pagingMode());
    assertEquals(0, pg.vcpu.efer() & ControlRegisters.EFER_LMA);
    assertEquals(0, pg.vcpu.writeCr0(CR0));
    assertEquals(PagingMode.LONG_4, pg.vcpu.pagingMode());
    assertFalse(pg.kept(GLOBAL));

    VcpuInvGuest pcid = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | PCIDE);
    assertEquals(Fault.GP0, pcid.vcpu.writeCr0(CR0 & ~ControlRegisters.CR0_PG),
        "clearing PG with CR4.PCIDE = 1 is #GP");
    assertEquals(Fault.GP0, pcid.vcpu.writeCr0(ControlRegisters.CR0_PG), "PG without PE");
  }

  @Test
  void invpcidShouldInvalidateByType() {
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | PCIDE);
    g.fillAndRemap();
    assertEquals(0, g.vcpu.invpcid(0, 1, GLOBAL)); // individual address: not global ones
    assertTrue(g.kept(GLOBAL));
    assertEquals(0, g.vcpu.invpcid(0, 2, PLAIN)); // another PCID
    assertTrue(g.kept(PLAIN));
    assertEquals(0, g.vcpu.invpcid(0, 1, PLAIN));
    assertFalse(g.kept(PLAIN));

    VcpuInvGuest single = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | PCIDE);
    single.fillAndRemap();
    assertEquals(0, single.vcpu.invpcid(1, 1, 0));
    assertFalse(single.kept(PLAIN));
    assertTrue(single.kept(GLOBAL));

    VcpuInvGuest all = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | PCIDE);
    all.fillAndRemap();
    assertEquals(0, all.vcpu.invpcid(3, 0, 0)); // all contexts but global
    assertFalse(all.kept(PLAIN));
    assertTrue(all.kept(GLOBAL));
    all.remap();
    assertEquals(0, all.vcpu.invpcid(2, 0, 0)); // all contexts, global too
    assertFalse(all.kept(GLOBAL));

    assertEquals(Fault.GP0, g.vcpu.invpcid(4, 0, 0));
    assertEquals(Fault.GP0, g.vcpu.invpcid(0, 0x1000, 0));
    assertEquals(Fault.GP0, g.vcpu.invpcid(0, 1, 0x8000_0000_0000_0000L));
    VcpuInvGuest noPcid = new VcpuInvGuest();
    assertEquals(Fault.GP0, noPcid.vcpu.invpcid(1, 1, 0), "PCID 1 without CR4.PCIDE");
  }

  @Test
  void alderLakeErratumShouldKeepGlobalsOnInvlpgWithPcids() {
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT.withInvlpgKeepsGlobalsWithPcid(true),
        PAE | PGE | PCIDE);
    g.fillAndRemap();
    g.vcpu.invlpg(GLOBAL);
    assertTrue(g.kept(GLOBAL));
    VcpuInvGuest fixed = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | PCIDE);
    fixed.fillAndRemap();
    fixed.vcpu.invlpg(GLOBAL);
    assertFalse(fixed.kept(GLOBAL));
  }

  @Test
  void overFlushShouldFlushEverythingButSingleAddresses() {
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.EMULATOR, PAE | PGE | PCIDE);
    g.fillAndRemap();
    assertEquals(0, g.vcpu.writeCr3(g.root | 1 | ControlRegisters.CR3_NOFLUSH));
    assertFalse(g.kept(PLAIN), "QEMU flushes on every CR3 load");
    assertFalse(g.kept(GLOBAL), "global ones too");

    VcpuInvGuest s = new VcpuInvGuest(MmuSwitches.EMULATOR, PAE | PGE);
    s.fillAndRemap();
    assertEquals(0, s.vcpu.writeCr4(PAE | PGE | ControlRegisters.CR4_SMAP));
    s.vcpu.setRflags(ControlRegisters.RFLAGS_AC);
    assertFalse(s.kept(PLAIN));

    VcpuInvGuest one = new VcpuInvGuest(MmuSwitches.EMULATOR, PAE | PGE);
    one.fillAndRemap();
    one.vcpu.invlpg(PLAIN);
    assertFalse(one.kept(PLAIN));
    assertTrue(one.kept(GLOBAL));
  }

  @Test
  void staleDenialShouldFaultOnceInStrictModeAndWalkInOverFlushMode() {
    for (MmuSwitches s : new MmuSwitches[] {MmuSwitches.DEFAULT, MmuSwitches.EMULATOR}) {
      VcpuInvGuest g = new VcpuInvGuest(s, PAE | PGE);
      long pte = g.tables.entryAddress(g.root, 4, PLAIN, 1);
      g.memory.write(pte, 8, OLD | 0x65); // read-only
      assertEquals(OLD, g.vcpu.translate(PLAIN, Access.READ));
      g.memory.write(pte, 8, OLD | 0x67); // writable now, no invalidation (SDM: optional)
      long r = g.vcpu.translate(PLAIN, Access.WRITE);
      if (s == MmuSwitches.DEFAULT) {
        assertEquals(Fault.pageFault(PageFaultErrorCode.P | PageFaultErrorCode.W), r,
            "a spurious fault from the cached rights");
        assertEquals(PLAIN, g.vcpu.cr2());
        // The fault removed the translation: the retry walks and succeeds.
        assertEquals(OLD, g.vcpu.translate(PLAIN, Access.WRITE));
      } else {
        assertEquals(OLD, r, "emulators walk again before faulting");
      }
    }
  }

  @Test
  void vpidsShouldKeepGuestsApart() {
    // Two guests on one logical processor, both on the same EPT, VPIDs 1 and 2.
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    long root = f.guest.newTable();
    long la = 0x4000_0000L;
    f.guest.map(root, 4, la, 0x4000_0000L, 1, 0x27, 0x67);
    f.mapAll(0x4000_0000L, 0x4000_1000L);
    Vcpu v = f.vcpu(TlbConfig.goldenCove());
    long eptp = v.eptp();
    assertEquals(0, v.loadState(CR0, root, PAE, EFER));
    assertEquals(0x4000_0000L + NestedFixture.OFFSET, v.translate(la, Access.READ));
    long pte = f.guest.entryAddress(root, 4, la, 1) + NestedFixture.OFFSET;
    f.memory.write(pte, 8, 0x4000_1000L | 0x67);
    v.configureEpt(eptp, 2); // the other guest: its own context
    assertEquals(0x4000_1000L + NestedFixture.OFFSET, v.translate(la, Access.READ));
    v.configureEpt(eptp, 1);
    v.vmExit();
    v.vmEntry();
    assertEquals(0x4000_0000L + NestedFixture.OFFSET, v.translate(la, Access.READ),
        "with a VPID, VM exits and entries keep the guest's translations");
    assertTrue(v.invvpid(1, 2, 0));
    assertEquals(0x4000_0000L + NestedFixture.OFFSET, v.translate(la, Access.READ),
        "INVVPID of VPID 2 leaves VPID 1");
    assertTrue(v.invvpid(0, 1, la));
    assertEquals(0x4000_1000L + NestedFixture.OFFSET, v.translate(la, Access.READ));
    assertFalse(v.invvpid(1, 0, 0), "VPID 0 is not a valid single context");
    assertFalse(v.invvpid(0, 1, 0x8000_0000_0000_0000L), "non-canonical address");
    assertFalse(v.invept(3, eptp));

    // Without a VPID, every VM exit and entry empties VPID 0000H.
    v.configureEpt(eptp, 0);
    f.memory.write(pte, 8, 0x4000_0000L | 0x67);
    assertEquals(0x4000_0000L + NestedFixture.OFFSET, v.translate(la, Access.READ));
    f.memory.write(pte, 8, 0x4000_1000L | 0x67);
    v.vmExit();
    assertEquals(0x4000_1000L + NestedFixture.OFFSET, v.translate(la, Access.READ));
  }

  @Test
  void inveptShouldRemoveGuestPhysicalAndCombinedMappings() {
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    long root = f.guest.newTable();
    long la = 0x4000_0000L;
    f.guest.map(root, 4, la, 0x4000_0000L, 1, 0x27, 0x67);
    f.mapAll(0x4000_0000L);
    Vcpu v = f.vcpu(TlbConfig.goldenCove());
    assertEquals(0, v.loadState(CR0, root, PAE, EFER));
    assertEquals(0x4000_0000L + NestedFixture.OFFSET, v.translate(la, Access.READ));
    // Move the data page's EPT mapping to another host frame, without invalidation.
    long leaf = f.nestedEntry(0x4000_0000L, 1);
    f.memory.write(leaf, 8, 0x9000_0000L | NestedFixture.EPT_LEAF);
    assertEquals(0x4000_0000L + NestedFixture.OFFSET, v.translate(la, Access.READ));
    assertTrue(v.invept(1, v.eptp() + 0x1000)); // another EP4TA: nothing
    assertEquals(0x4000_0000L + NestedFixture.OFFSET, v.translate(la, Access.READ));
    assertTrue(v.invept(1, v.eptp()));
    assertEquals(0x9000_0000L, v.translate(la, Access.READ));
    f.memory.write(leaf, 8, 0xA000_0000L | NestedFixture.EPT_LEAF);
    assertTrue(v.invept(2, 0));
    assertEquals(0xA000_0000L, v.translate(la, Access.READ));
    assertTrue(v.counters().flushesFull() >= 2);
  }

  @Test
  void aFlushOfNothingShouldBeCountedAsElided() {
    VcpuInvGuest g = new VcpuInvGuest();
    long elided = g.vcpu.counters().flushesElided();
    g.vcpu.invlpg(PLAIN); // nothing cached yet
    assertEquals(elided + 1, g.vcpu.counters().flushesElided());
    g.vcpu.translate(PLAIN, Access.READ);
    long full = g.vcpu.counters().flushesFull();
    assertEquals(0, g.vcpu.writeCr3(g.root));
    assertEquals(full + 1, g.vcpu.counters().flushesFull());
    assertEquals(0, g.vcpu.writeCr3(g.root));
    assertEquals(elided + 2, g.vcpu.counters().flushesElided(), "nothing cached since");
  }

  @Test
  void invlpgOfANonCanonicalAddressShouldBeANop() {
    // SDM vol. 2A, INVLPG: in 64-bit mode a non-canonical address makes INVLPG a NOP.
    VcpuInvGuest g = new VcpuInvGuest();
    g.fillAndRemap();
    long elided = g.vcpu.counters().flushesElided();
    g.vcpu.invlpg(PLAIN | 0x8000_0000_0000_0000L);
    assertEquals(elided + 1, g.vcpu.counters().flushesElided());
    assertTrue(g.kept(PLAIN));
    assertTrue(g.kept(GLOBAL));
  }

  @Test
  void invpcidShouldIgnoreTheDescriptorFieldsItsTypeDoesNotUse() {
    // SDM vol. 2A, INVPCID: the linear address matters for type 0 only, the PCID for types 0
    // and 1 only (#GP for PCID != 0 with CR4.PCIDE = 0 applies to those two); PCIDs are 12 bits.
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | PCIDE);
    g.fillAndRemap();
    assertEquals(0, g.vcpu.invpcid(1, 2, 0x8000_0000_0000_0000L), "type 1: address ignored");
    assertTrue(g.kept(PLAIN), "PCID 2's context is not the current PCID 1's");
    assertEquals(0, g.vcpu.invpcid(0, 0xFFF, PLAIN), "PCID 0xFFF is valid");
    assertTrue(g.kept(PLAIN));
    long full = g.vcpu.counters().flushesFull();
    assertEquals(0, g.vcpu.invpcid(1, 1, 0));
    assertEquals(full + 1, g.vcpu.counters().flushesFull());
    assertFalse(g.kept(PLAIN));
    assertTrue(g.kept(GLOBAL), "single-context leaves global translations");

    VcpuInvGuest noPcid = new VcpuInvGuest();
    noPcid.fillAndRemap();
    assertEquals(0, noPcid.vcpu.invpcid(3, 5, 0), "type 3 ignores the PCID");
    assertFalse(noPcid.kept(PLAIN));
    assertTrue(noPcid.kept(GLOBAL));
    noPcid.remap();
    assertEquals(0, noPcid.vcpu.invpcid(2, 5, 0), "type 2 ignores the PCID");
    assertFalse(noPcid.kept(GLOBAL));
    assertEquals(Fault.GP0, noPcid.vcpu.invpcid(-1, 0, 0));
    assertEquals(Fault.GP0, noPcid.vcpu.invpcid(2, -1, 0));
  }

  @Test
  void movToCr4ShouldNotInvalidateWhenPcideOrPkeIsSet() {
    // SDM vol. 3A §4.10.4.1: MOV to CR4 invalidates on a change of PGE, PCIDE 1 -> 0, PAE, or
    // SMEP 0 -> 1; setting PCIDE (CR3 bits 11:0 zero) or PKE invalidates nothing.
    VcpuInvGuest g = new VcpuInvGuest();
    g.fillAndRemap();
    assertEquals(0, g.vcpu.writeCr4(PAE | PGE | PCIDE));
    assertEquals(0, g.vcpu.pcid());
    g.assertKept(true);
    assertEquals(0, g.vcpu.writeCr4(PAE | PGE | PCIDE | ControlRegisters.CR4_PKE));
    g.assertKept(true);
  }

  @Test
  void movToCr0ShouldFlushOnWpOnlyWhenOverFlushing() {
    // SDM vol. 3A §4.10.4.1: CR0.WP and CR0.CD changes need no invalidation; QEMU's
    // cpu_x86_update_cr0 flushes the whole TLB when PG or WP changes (the over-flush mode).
    VcpuInvGuest cd = new VcpuInvGuest(MmuSwitches.EMULATOR, PAE | PGE);
    cd.fillAndRemap();
    assertEquals(0, cd.vcpu.writeCr0(CR0 | (1L << 30)));
    cd.assertKept(true); // CD (bit 30) is not a paging bit
    assertEquals(0, cd.vcpu.writeCr0(CR0 & ~ControlRegisters.CR0_WP));
    cd.assertKept(false);
  }

  @Test
  void overFlushShouldFlushOnPagingBitsOfCr4Only() {
    // QEMU's cpu_x86_update_cr4 flushes the TLB when PGE, PAE, PSE, SMEP, SMAP or LA57
    // changes; OSFXSR (bit 9) is no paging bit.
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.EMULATOR, PAE | PGE);
    g.fillAndRemap();
    assertEquals(0, g.vcpu.writeCr4(PAE | PGE | (1L << 9)));
    g.assertKept(true);
    assertEquals(0, g.vcpu.writeCr4(PAE | PGE | (1L << 9) | ControlRegisters.CR4_PSE));
    g.assertKept(false);
  }

  @Test
  void wrmsrToEferShouldChangeTheXdBitsMeaningWithoutInvalidating() {
    // SDM vol. 3A §4.5 (table 4-19) and figure 4-12: with EFER.NXE = 0 bit 63 of an entry is
    // reserved (#PF P|RSVD = 0x9); with NXE = 1 a fetch from an XD page is #PF P|I = 0x11.
    // WRMSR to EFER is not among §4.10.4.1's invalidating operations; LMA is read-only.
    VcpuInvGuest g = new VcpuInvGuest();
    long xd = 0x0000_0040_0000_5000L;
    long xd2 = 0x0000_0040_0000_6000L;
    g.tables.map(g.root, 4, xd, OLD + 0x5000, 1, 0x27, 0x8000_0000_0000_0067L);
    g.tables.map(g.root, 4, xd2, OLD + 0x6000, 1, 0x27, 0x8000_0000_0000_0067L);
    assertEquals(Fault.pageFault(PageFaultErrorCode.P | PageFaultErrorCode.I),
        g.vcpu.translate(xd, Access.FETCH));
    assertEquals(OLD + 0x5000, g.vcpu.translate(xd, Access.READ));
    g.fillAndRemap();
    assertEquals(0, g.vcpu.writeEfer(ControlRegisters.EFER_LME));
    assertEquals(ControlRegisters.EFER_LME | ControlRegisters.EFER_LMA, g.vcpu.efer());
    assertTrue(g.kept(PLAIN));
    assertTrue(g.kept(GLOBAL));
    assertEquals(Fault.pageFault(PageFaultErrorCode.P | PageFaultErrorCode.RSVD),
        g.vcpu.translate(xd2, Access.READ));
    assertEquals(0, g.vcpu.writeEfer(EFER));
    assertEquals(OLD + 0x6000, g.vcpu.translate(xd2, Access.READ));
  }

  /**
   * A nested guest on {@code root} mapping 0x4000_0000 (plain) and 0x4000_1000 (global) to the
   * same guest-physical addresses, those and {@code more} mapped by the nested tables; PGE on.
   */
  private static Vcpu plainAndGlobal(NestedFixture f, long root, long... more) {
    f.guest.map(root, 4, 0x4000_0000L, 0x4000_0000L, 1, 0x27, 0x67);
    f.guest.map(root, 4, 0x4000_1000L, 0x4000_1000L, 1, 0x27, 0x167);
    f.mapAll(0x4000_0000L, 0x4000_1000L);
    f.mapAll(more);
    Vcpu v = f.vcpu(TlbConfig.goldenCove());
    assertEquals(0, v.loadState(CR0, root, PAE | PGE, EFER));
    return v;
  }

  @Test
  void invvpidShouldRemoveByTypeAndSpareVpidZero() {
    // SDM vol. 3C §28.3.3.3 and vol. 3C INVVPID: type 3 keeps global translations, type 2
    // removes every VPID but 0000H; the address is checked for type 0 only, VPID 0 is invalid
    // for types 0, 1 and 3, and types above 3 fail.
    NestedFixture f = new NestedFixture(NestedPaging.EPT, 4, 1);
    long root = f.guest.newTable();
    long la = 0x4000_0000L;
    long gla = 0x4000_1000L;
    Vcpu v = plainAndGlobal(f, root, 0x4000_2000L, 0x4000_3000L);
    long pte = f.guest.entryAddress(root, 4, la, 1) + NestedFixture.OFFSET;
    long gpte = f.guest.entryAddress(root, 4, gla, 1) + NestedFixture.OFFSET;
    long h = NestedFixture.OFFSET;
    assertEquals(0x4000_0000L + h, v.translate(la, Access.READ));
    assertEquals(0x4000_1000L + h, v.translate(gla, Access.READ));
    f.memory.write(pte, 8, 0x4000_2000L | 0x67);
    f.memory.write(gpte, 8, 0x4000_3000L | 0x167);
    assertFalse(v.invvpid(4, 1, 0));
    assertFalse(v.invvpid(3, 0, 0));
    assertTrue(v.invvpid(1, 2, 0x8000_0000_0000_0000L), "type 1 ignores the address");
    assertEquals(0x4000_0000L + h, v.translate(la, Access.READ));
    assertTrue(v.invvpid(3, 1, 0));
    assertEquals(0x4000_2000L + h, v.translate(la, Access.READ));
    assertEquals(0x4000_1000L + h, v.translate(gla, Access.READ), "global kept by type 3");
    assertTrue(v.invvpid(2, 0, 0));
    assertEquals(0x4000_3000L + h, v.translate(gla, Access.READ));

    // VPID 0: all-context invalidation spares it.
    long eptp = v.eptp();
    v.configureEpt(eptp, 0);
    f.memory.write(pte, 8, 0x4000_0000L | 0x67);
    assertEquals(0x4000_0000L + h, v.translate(la, Access.READ));
    f.memory.write(pte, 8, 0x4000_2000L | 0x67);
    assertTrue(v.invvpid(2, 0, 0));
    assertEquals(0x4000_0000L + h, v.translate(la, Access.READ));
  }

  @Test
  void flushGuestShouldRemoveTheAsidsTranslationsAndNestedMappings() {
    // AMD APM vol. 2 §15.16.1, TLB_CONTROL = 3: flush this guest's TLB entries (global ones
    // too); with them go the guest-physical mappings cached for the nested root.
    NestedFixture f = new NestedFixture(NestedPaging.NPT, 4, 1);
    Vcpu v = plainAndGlobal(f, f.guest.newTable());
    long h = NestedFixture.OFFSET;
    assertEquals(0x4000_0000L + h, v.translate(0x4000_0000L, Access.READ));
    assertEquals(0x4000_1000L + h, v.translate(0x4000_1000L, Access.READ));
    // Move both data pages' nested mappings without invalidating.
    f.memory.write(f.nestedEntry(0x4000_0000L, 1), 8, 0x9000_0000L | NestedFixture.NPT_LEAF);
    f.memory.write(f.nestedEntry(0x4000_1000L, 1), 8, 0x9000_1000L | NestedFixture.NPT_LEAF);
    assertEquals(0x4000_0000L + h, v.translate(0x4000_0000L, Access.READ));
    long full = v.counters().flushesFull();
    v.flushGuest();
    assertEquals(full + 1, v.counters().flushesFull());
    assertEquals(0x9000_0000L, v.translate(0x4000_0000L, Access.READ));
    assertEquals(0x9000_1000L, v.translate(0x4000_1000L, Access.READ));
  }

  @Test
  void cachedTranslationsShouldFaultWithTheArchitecturalErrorCodes() {
    // SDM vol. 3A §4.6 and figure 4-12: a user fetch from a supervisor page is #PF P|U|I (0x15)
    // with EFER.NXE = 1, P|U (0x5) with NXE = 0 and SMEP = 0; a user write to a read-only page
    // P|W|U (0x7). The translations are cached by allowed accesses first (§4.10.2.3).
    VcpuInvGuest g = new VcpuInvGuest();
    long sup = 0x0000_0040_0000_7000L;
    long ro = 0x0000_0040_0000_8000L;
    g.tables.map(g.root, 4, sup, OLD + 0x7000, 1, 0x27, 0x63);
    g.tables.map(g.root, 4, ro, OLD + 0x8000, 1, 0x27, 0x65);
    assertEquals(OLD + 0x7000, g.vcpu.translate(sup, Access.FETCH));
    assertEquals(OLD + 0x8000, g.vcpu.translate(ro, Access.USER));
    assertEquals(Fault.pageFault(0x7), g.vcpu.translate(ro, Access.USER | Access.WRITE));
    assertEquals(ro, g.vcpu.cr2());
    assertEquals(Fault.pageFault(0x15), g.vcpu.translate(sup, Access.USER | Access.FETCH));
    assertEquals(sup, g.vcpu.cr2());
    assertEquals(OLD + 0x7000, g.vcpu.translate(sup, Access.FETCH));
    assertEquals(0, g.vcpu.writeEfer(ControlRegisters.EFER_LME));
    assertEquals(Fault.pageFault(0x5), g.vcpu.translate(sup, Access.USER | Access.FETCH));
  }

  @Test
  void protectionKeysShouldDenyCachedTranslationsAfterWrpkru() {
    // SDM vol. 3A §4.6.2: PKRU bit 2i (AD) denies every data access to a user page with key i,
    // bit 2i+1 (WD) writes (supervisor ones only with CR0.WP = 1); #PF with PK (bit 5). WRPKRU
    // needs no invalidation (§4.10.4.1 does not list it).
    VcpuInvGuest g = new VcpuInvGuest(MmuSwitches.DEFAULT, PAE | PGE | ControlRegisters.CR4_PKE);
    long la = 0x0000_0040_0000_9000L;
    g.tables.map(g.root, 4, la, OLD + 0x9000, 1, 0x27, 0x67 | (1L << 59)); // key 1
    assertEquals(OLD + 0x9000, g.vcpu.translate(la, Access.USER | Access.WRITE));
    g.vcpu.writePkru(1 << 3); // WD1
    assertEquals(OLD + 0x9000, g.vcpu.translate(la, Access.USER));
    assertEquals(Fault.pageFault(0x27), g.vcpu.translate(la, Access.USER | Access.WRITE));
    assertEquals(OLD + 0x9000, g.vcpu.translate(la, Access.USER));
    assertEquals(Fault.pageFault(0x23), g.vcpu.translate(la, Access.WRITE));
    g.vcpu.writePkru(1 << 2); // AD1
    assertEquals(Fault.pageFault(0x25), g.vcpu.translate(la, Access.USER));
    assertEquals(Fault.pageFault(0x21), g.vcpu.translate(la, Access.READ));
    assertEquals(OLD + 0x9000, g.vcpu.translate(la, Access.FETCH), "keys do not apply to fetches");
    g.vcpu.writePkru(1 << 4); // key 2 only
    assertEquals(OLD + 0x9000, g.vcpu.translate(la, Access.USER | Access.WRITE));
  }
}
