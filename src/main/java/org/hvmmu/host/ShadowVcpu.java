package org.hvmmu.host;

import org.hvmmu.mmu.ControlRegisters;
import org.hvmmu.mmu.xen.GuestRegisters;
import org.hvmmu.mmu.xen.GuestWalk;

/**
 * A shadowed domain's vCPU as the shadow code sees it: the guest's own control registers (the
 * processor runs on the shadows), the guest's top-level table and its shadow, and the walk records
 * its page faults reuse. It is the vCPU's {@link GuestVcpu.FaultHandler} ({@code sh_page_fault}) and
 * {@link GuestVcpu.GuestControl} ({@code sh_update_cr3}); {@link ShadowPaging} does the work. Read and
 * changed under the domain's monitor.
 */
final class ShadowVcpu implements GuestVcpu.FaultHandler, GuestVcpu.GuestControl {
  /** The processor's CR0 under shadow paging: PE, WP (Xen forces it), PG. */
  static final long HW_CR0 =
      ControlRegisters.CR0_PE | ControlRegisters.CR0_WP | ControlRegisters.CR0_PG;

  /** The processor's CR4: PAE only (no PGE, so no shadow entry is global; no PCID). */
  static final long HW_CR4 = ControlRegisters.CR4_PAE;

  /** The processor's EFER: long mode with NX. */
  static final long HW_EFER =
      ControlRegisters.EFER_LME | ControlRegisters.EFER_LMA | ControlRegisters.EFER_NXE;

  private final ShadowPaging paging;

  /** The guest's registers, as after RESET until the guest loads its own. */
  GuestRegisters regs = new GuestRegisters(0, 0, 0, 0, 0, 0, 0);

  /** The guest's top-level table's machine frame, or -1 while the guest is not in 4-level paging. */
  long topGmfn = -1;

  /** The machine frame the processor's CR3 points at: the top-level shadow, or the blank page. */
  long topShadow = -1;

  /** The fault's walk, and the emulator's. */
  final GuestWalk walk = new GuestWalk();

  final GuestWalk emulationWalk = new GuestWalk();

  /*
   * An access the fault left to the device model, made after the domain's monitor is released:
   * its guest-physical address (-1: none), and for a write msixtbl handled whether the device
   * model also sees it (forwardAlso).
   */
  long forwardGpa = -1;
  boolean forwardAlso;

  ShadowVcpu(ShadowPaging paging) {
    this.paging = paging;
  }

  @Override
  public long handle(GuestVcpu v, long fault, long la, int access, int size, long value) {
    return paging.pageFault(this, v, fault, la, access, size, value);
  }

  @Override
  public long loadGuestState(GuestVcpu v, long cr0, long cr3, long cr4, long efer) {
    return paging.loadGuestState(this, v, cr0, cr3, cr4, efer);
  }

  @Override
  public GuestRegisters guestRegisters(GuestVcpu v) {
    return regs;
  }
}
