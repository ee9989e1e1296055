package org.hvmmu.host;

import org.hvmmu.mmu.xen.GuestRegisters;
import org.hvmmu.x86.pv.PvVcpu;

/**
 * A PV domain's vCPU as Xen's PV code sees it: the PV MMU's vCPU (its page-table base), the
 * {@link GuestVcpu.FaultHandler} that emulates a store into one of the guest's own L1 tables
 * ({@code ptwr_do_page_fault}), and the {@link GuestVcpu.GuestControl} that turns the guest's MOV
 * to CR3 into {@code new_guest_cr3}. {@link PvPaging} does the work.
 */
final class PvVcpuControl implements GuestVcpu.FaultHandler, GuestVcpu.GuestControl {
  private final PvPaging paging;
  private final PvVcpu pv;

  PvVcpuControl(PvPaging paging, PvVcpu pv) {
    this.paging = paging;
    this.pv = pv;
  }

  /** The PV MMU's vCPU. */
  PvVcpu pv() {
    return pv;
  }

  @Override
  public long handle(GuestVcpu v, long fault, long la, int access, int size, long value) {
    return paging.pageFault(this, v, fault, la, size, value);
  }

  @Override
  public long loadGuestState(GuestVcpu v, long cr0, long cr3, long cr4, long efer) {
    return paging.loadGuestState(this, v, cr0, cr3, cr4, efer);
  }

  @Override
  public GuestRegisters guestRegisters(GuestVcpu v) {
    return paging.guestRegisters(this, v);
  }
}
