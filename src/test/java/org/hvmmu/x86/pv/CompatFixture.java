package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_ACCESSED;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;

import org.hvmmu.mmu.AddressSpaceWalker;
import org.hvmmu.x86.Pte;

/**
 * {@link PvFixture} with three vCPUs of the 32-on-64 domain pae (d4), each with its compat L4, a
 * recorded flush interface, and a PAE tree of pae mapping one page in each GiB of its 4 GiB.
 *
 * <pre>
 *  compat L4s (Xen's): v0 0x9f0, v1 0x9f1, v2 0x9f2 (mask 0x7)
 *  L3 0x440  [0] -> L2 0x441  [1]   -> L1 0x445  [2]   -> DATA0 0x450 (P RW)       VA0 0x00202000
 *            [1] -> L2 0x442  [5]   -> L1 0x446  [7]   -> DATA1 0x451 (P RW US)    VA1 0x40a07000
 *            [2] -> L2 0x443  [511] -> L1 0x447  [511] -> DATA2 0x452 (P US)       VA2 0xbffff000
 *            [3] -> L2 0x444  [427] -> L1 0x448  [0]   -> DATA3 0x453 (P RW US)    VA3 0xf5600000
 *  The L3 entries are written as PAE PDPTEs (P only); the L2 entries P RW US A.
 *  0x444 becomes the PGT_pae_xen_l2 L2: its slots 428 (VA 0xf5800000) to 511 are Xen's.
 * </pre>
 */
final class CompatFixture {
  static final long L3 = 0x440;
  static final long L2_0 = 0x441;
  static final long L2_1 = 0x442;
  static final long L2_2 = 0x443;
  static final long L2_3 = 0x444;
  static final long L1_0 = 0x445;
  static final long L1_1 = 0x446;
  static final long L1_2 = 0x447;
  static final long L1_3 = 0x448;
  static final long DATA0 = 0x450;
  static final long DATA1 = 0x451;
  static final long DATA2 = 0x452;
  static final long DATA3 = 0x453;
  /** GiB 0: L3 slot 0, L2 slot 1, L1 slot 2. */
  static final long VA0 = 0x0020_2000L;
  /** GiB 1: L3 slot 1, L2 slot 5, L1 slot 7. */
  static final long VA1 = 0x40A0_7000L;
  /** GiB 2: L3 slot 2, L2 slot 511, L1 slot 511. */
  static final long VA2 = 0xBFFF_F000L;
  /** GiB 3: L3 slot 3, L2 slot 427 (the last guest slot of the PAE L2), L1 slot 0. */
  static final long VA3 = 0xF560_0000L;
  /** Xen's compat area: L3 slot 3, L2 slot 428. */
  static final long XEN_VA = 0xF580_0000L;

  static final long COMPAT_L4_0 = 0x9f0;
  static final long COMPAT_L4_1 = 0x9f1;
  static final long COMPAT_L4_2 = 0x9f2;

  /** An L2 entry as the guest writes it (compat L2 entries are stored as given). */
  static final int TABLE_FLAGS = PAGE_PRESENT | PAGE_RW | PAGE_USER | PAGE_ACCESSED;

  /** CR0 (PE, MP, ET, NE, WP, AM, PG), CR4 (PAE) and EFER (LME, LMA, NXE) of a long-mode vCPU. */
  static final long CR0 = 0x80050033L;
  static final long CR4 = 0x20;
  static final long EFER = 0xD00;

  final PvFixture f;
  final PvMmu mmu;
  final FrameTable frames;
  final Domain pae;
  final FlushRecorder flushes = new FlushRecorder();
  final PvVcpu v0;
  final PvVcpu v1;
  final PvVcpu v2;

  CompatFixture(PvSwitches switches) {
    f = new PvFixture(switches);
    mmu = f.mmu;
    frames = f.frames;
    pae = f.pae;
    mmu.setTlbFlush(flushes);
    v0 = mmu.createVcpu(pae, 0, COMPAT_L4_0);
    v1 = mmu.createVcpu(pae, 1, COMPAT_L4_1);
    v2 = mmu.createVcpu(pae, 2, COMPAT_L4_2);
  }

  /** A PAE PDPTE as a 32-bit guest writes it: P only. */
  static long pdpte(long mfn) {
    return Pte.fromMfn(mfn, PAGE_PRESENT);
  }

  /** The same entry once Xen has validated it: U/S and R/W added. */
  static long adjusted(long mfn) {
    return Pte.fromMfn(mfn, PAGE_PRESENT | PAGE_RW | PAGE_USER);
  }

  static long pde(long mfn) {
    return Pte.fromMfn(mfn, TABLE_FLAGS);
  }

  /** Writes the tree's entries into ordinary frames (nothing typed yet). */
  CompatFixture write() {
    mmu.writeGuestEntry(pae, L3, 0, pdpte(L2_0));
    mmu.writeGuestEntry(pae, L3, 1, pdpte(L2_1));
    mmu.writeGuestEntry(pae, L3, 2, pdpte(L2_2));
    mmu.writeGuestEntry(pae, L3, 3, pdpte(L2_3));
    mmu.writeGuestEntry(pae, L2_0, 1, pde(L1_0));
    mmu.writeGuestEntry(pae, L2_1, 5, pde(L1_1));
    mmu.writeGuestEntry(pae, L2_2, 511, pde(L1_2));
    mmu.writeGuestEntry(pae, L2_3, 427, pde(L1_3));
    mmu.writeGuestEntry(pae, L1_0, 2, Pte.fromMfn(DATA0, PAGE_PRESENT | PAGE_RW));
    mmu.writeGuestEntry(pae, L1_1, 7, Pte.fromMfn(DATA1, PAGE_PRESENT | PAGE_RW | PAGE_USER));
    mmu.writeGuestEntry(pae, L1_2, 511, Pte.fromMfn(DATA2, PAGE_PRESENT | PAGE_USER));
    mmu.writeGuestEntry(pae, L1_3, 0, Pte.fromMfn(DATA3, PAGE_PRESENT | PAGE_RW | PAGE_USER));
    return this;
  }

  /** A walker of what vCPU {@code v}'s hardware sees: long mode, CR3 = its compat L4. */
  AddressSpaceWalker walker(PvVcpu v) {
    return new AddressSpaceWalker(frames.memory(), CR0, v.cr3(), CR4, EFER);
  }
}
