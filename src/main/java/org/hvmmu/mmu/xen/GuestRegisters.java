package org.hvmmu.mmu.xen;

import static org.hvmmu.mmu.ControlRegisters.CR0_PE;
import static org.hvmmu.mmu.ControlRegisters.CR0_PG;
import static org.hvmmu.mmu.ControlRegisters.CR0_WP;
import static org.hvmmu.mmu.ControlRegisters.CR4_LA57;
import static org.hvmmu.mmu.ControlRegisters.CR4_PAE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PKE;
import static org.hvmmu.mmu.ControlRegisters.CR4_PKS;
import static org.hvmmu.mmu.ControlRegisters.CR4_PSE;
import static org.hvmmu.mmu.ControlRegisters.CR4_SMAP;
import static org.hvmmu.mmu.ControlRegisters.CR4_SMEP;
import static org.hvmmu.mmu.ControlRegisters.EFER_LMA;
import static org.hvmmu.mmu.ControlRegisters.EFER_LME;
import static org.hvmmu.mmu.ControlRegisters.EFER_NXE;
import static org.hvmmu.mmu.ControlRegisters.RFLAGS_AC;

/**
 * The guest vCPU state a Xen walk reads, as Xen keeps it for an HVM vCPU: {@code guest_cr[0]},
 * {@code guest_cr[3]}, {@code guest_cr[4]}, {@code guest_efer}, the guest's RFLAGS (only AC is read),
 * and the guest's PKRU and PKRS (Xen reads the live registers while the vCPU is loaded). Bit
 * positions are the architectural ones ({@code org.hvmmu.mmu.ControlRegisters}).
 *
 * <p>The number of guest paging levels follows from CR0.PG, CR4.PAE and EFER.LMA, as Xen picks its
 * {@code GUEST_PAGING_LEVELS} instance ({@link #pagingLevels()}). Immutable; the walker reads it
 * without allocating.
 *
 * <pre>{@code
 * GuestRegisters r = GuestRegisters.longMode(cr3).withCr4(cr4 | CR4_SMAP).withRflags(RFLAGS_AC);
 * }</pre>
 *
 * @param cr0 CR0: PG and WP matter
 * @param cr3 CR3: the top-level table ({@code hap_gva_to_gfn} reads it); bits 11:5 locate the PAE
 *     PDPT within its frame
 * @param cr4 CR4: PSE, PAE, LA57, SMEP, SMAP, PKE and PKS matter
 * @param efer IA32_EFER: LMA and NXE matter
 * @param rflags RFLAGS: AC matters (SMAP)
 * @param pkru PKRU (user-page protection keys)
 * @param pkrs IA32_PKRS (supervisor-page protection keys)
 */
public record GuestRegisters(
    long cr0, long cr3, long cr4, long efer, long rflags, int pkru, int pkrs) {

  /**
   * 4-level paging with CR0.WP and EFER.NXE, nothing else: CR0 = PE|WP|PG, CR4 = PAE, EFER =
   * LME|LMA|NXE.
   *
   * @param cr3 the top-level table's address
   * @return the registers
   */
  public static GuestRegisters longMode(long cr3) {
    return new GuestRegisters(
        CR0_PE | CR0_WP | CR0_PG, cr3, CR4_PAE, EFER_LME | EFER_LMA | EFER_NXE, 0, 0, 0);
  }

  /**
   * PAE paging with CR0.WP and EFER.NXE: CR0 = PE|WP|PG, CR4 = PAE, EFER = NXE.
   *
   * @param cr3 the PDPT's address (32-byte aligned)
   * @return the registers
   */
  public static GuestRegisters pae(long cr3) {
    return new GuestRegisters(CR0_PE | CR0_WP | CR0_PG, cr3, CR4_PAE, EFER_NXE, 0, 0, 0);
  }

  /**
   * 32-bit (2-level) paging with CR0.WP and without CR4.PSE: CR0 = PE|WP|PG, CR4 = 0, EFER = 0.
   *
   * @param cr3 the page directory's address
   * @return the registers
   */
  public static GuestRegisters twoLevel(long cr3) {
    return new GuestRegisters(CR0_PE | CR0_WP | CR0_PG, cr3, 0, 0, 0, 0, 0);
  }

  /**
   * The guest paging levels Xen walks: 0 without paging (CR0.PG clear), 2 without CR4.PAE, 3 with
   * PAE outside long mode, 4 in long mode.
   *
   * @return 0, 2, 3 or 4
   * @throws IllegalArgumentException with CR4.LA57 in long mode: Xen has no 5-level guest walk
   */
  public int pagingLevels() {
    if ((cr0 & CR0_PG) == 0) {
      return 0;
    }
    if ((cr4 & CR4_PAE) == 0) {
      return 2;
    }
    if ((efer & EFER_LMA) == 0) {
      return 3;
    }
    if ((cr4 & CR4_LA57) != 0) {
      throw new IllegalArgumentException("CR4 0x" + Long.toHexString(cr4)
          + " has LA57 (expected: 4-level paging at most; Xen has no 5-level guest walk)");
    }
    return 4;
  }

  /**
   * Xen's {@code hvm_wp_enabled}: CR0.WP (with paging).
   *
   * @return whether supervisor writes honour R/W
   */
  public boolean wpEnabled() {
    return (cr0 & CR0_PG) != 0 && (cr0 & CR0_WP) != 0;
  }

  /**
   * Xen's {@code hvm_nx_enabled}: EFER.NXE, whatever the paging mode (the walker's {@code
   * guest_nx_enabled} also needs PAE paging).
   *
   * @return EFER.NXE
   */
  public boolean nxeEnabled() {
    return (efer & EFER_NXE) != 0;
  }

  /**
   * Xen's {@code hvm_smep_enabled}: CR4.SMEP with paging.
   *
   * @return whether SMEP is on
   */
  public boolean smepEnabled() {
    return (cr0 & CR0_PG) != 0 && (cr4 & CR4_SMEP) != 0;
  }

  /**
   * Xen's {@code hvm_smap_enabled}: CR4.SMAP with paging.
   *
   * @return whether SMAP is on
   */
  public boolean smapEnabled() {
    return (cr0 & CR0_PG) != 0 && (cr4 & CR4_SMAP) != 0;
  }

  /**
   * Xen's {@code hvm_pku_enabled}: CR4.PKE with paging.
   *
   * @return whether user-page protection keys are on
   */
  public boolean pkuEnabled() {
    return (cr0 & CR0_PG) != 0 && (cr4 & CR4_PKE) != 0;
  }

  /**
   * Xen's {@code hvm_pks_enabled}: CR4.PKS with paging.
   *
   * @return whether supervisor-page protection keys are on
   */
  public boolean pksEnabled() {
    return (cr0 & CR0_PG) != 0 && (cr4 & CR4_PKS) != 0;
  }

  /**
   * CR4.PSE: whether a 2-level guest's PDE PS bit selects a 4-MByte page.
   *
   * @return CR4.PSE
   */
  public boolean pseEnabled() {
    return (cr4 & CR4_PSE) != 0;
  }

  /**
   * RFLAGS.AC: with SMAP, lets explicit supervisor accesses reach user pages.
   *
   * @return RFLAGS.AC
   */
  public boolean alignmentCheck() {
    return (rflags & RFLAGS_AC) != 0;
  }

  /**
   * These registers with another CR0.
   *
   * @param value the new CR0
   * @return a new record
   */
  public GuestRegisters withCr0(long value) {
    return new GuestRegisters(value, cr3, cr4, efer, rflags, pkru, pkrs);
  }

  /**
   * These registers with another CR3.
   *
   * @param value the new CR3
   * @return a new record
   */
  public GuestRegisters withCr3(long value) {
    return new GuestRegisters(cr0, value, cr4, efer, rflags, pkru, pkrs);
  }

  /**
   * These registers with another CR4.
   *
   * @param value the new CR4
   * @return a new record
   */
  public GuestRegisters withCr4(long value) {
    return new GuestRegisters(cr0, cr3, value, efer, rflags, pkru, pkrs);
  }

  /**
   * These registers with another EFER.
   *
   * @param value the new EFER
   * @return a new record
   */
  public GuestRegisters withEfer(long value) {
    return new GuestRegisters(cr0, cr3, cr4, value, rflags, pkru, pkrs);
  }

  /**
   * These registers with another RFLAGS.
   *
   * @param value the new RFLAGS
   * @return a new record
   */
  public GuestRegisters withRflags(long value) {
    return new GuestRegisters(cr0, cr3, cr4, efer, value, pkru, pkrs);
  }

  /**
   * These registers with another PKRU.
   *
   * @param value the new PKRU
   * @return a new record
   */
  public GuestRegisters withPkru(int value) {
    return new GuestRegisters(cr0, cr3, cr4, efer, rflags, value, pkrs);
  }

  /**
   * These registers with another PKRS.
   *
   * @param value the new PKRS
   * @return a new record
   */
  public GuestRegisters withPkrs(int value) {
    return new GuestRegisters(cr0, cr3, cr4, efer, rflags, pkru, value);
  }

  @Override
  public String toString() {
    return "GuestRegisters[cr0=0x" + Long.toHexString(cr0) + ", cr3=0x" + Long.toHexString(cr3)
        + ", cr4=0x" + Long.toHexString(cr4) + ", efer=0x" + Long.toHexString(efer) + ", rflags=0x"
        + Long.toHexString(rflags) + ", pkru=0x" + Integer.toHexString(pkru) + ", pkrs=0x"
        + Integer.toHexString(pkrs) + "]";
  }
}
