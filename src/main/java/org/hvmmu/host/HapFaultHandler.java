package org.hvmmu.host;

import org.hvmmu.host.access.AccessOutcome;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.HapRoAccess;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.host.access.SubpageAccess;
import org.hvmmu.host.access.SubpageState;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.EptQualification;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.NpfExitInfo;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mEra;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.RadixP2m;

/**
 * Xen in front of an EPT or NPT vCPU: an EPT violation or nested page fault of the final
 * translation on a read-only {@code mmio_direct} frame or a {@code p2m_mmio_dm} page goes to
 * {@code hvm_hap_nested_page_fault}, decided by {@link HapRoAccess} and recorded on the vCPU: a
 * store Xen discards completes, a load the null handler serves returns all ones, #GP(0) replaces
 * the exit when emulation fails, and a crash crashes the domain ({@link Host#crashDomain}) and
 * returns the processor's exit. A {@code p2m_mmio_dm} page of a table registered with {@link
 * Host#registerMsixtbl} goes to msixtbl first ({@link Msixtbl}); what it passes on, and what no
 * internal handler takes, goes to the host's {@link DeviceModel} if it claims the address, else to
 * the null handler. Every other exit goes back unchanged.
 * Xen 4.22: {@code xen/arch/x86/hvm/hvm.c}, entered from {@code ept_handle_violation} ({@code
 * xen/arch/x86/hvm/vmx/vmx.c}) or {@code svm_do_nested_pgfault} ({@code
 * xen/arch/x86/hvm/svm/svm.c}).
 */
final class HapFaultHandler implements GuestVcpu.FaultHandler {
  private final Host host;

  HapFaultHandler(Host host) {
    this.host = host;
  }

  @Override
  public long handle(GuestVcpu v, long fault, long la, int access, int size, long value) {
    long r = access(v, fault, access, size, value);
    if (v.domain().hasMsixtbl()) {
      Msixtbl.writeCompletion(host, v); // hvm_do_resume: vcpu_ioreq_handle_completion
    }
    return r;
  }

  private long access(GuestVcpu v, long fault, int access, int size, long value) {
    int kind = Fault.kindCode(fault);
    boolean npt = kind == FaultKind.NESTED_PAGE_FAULT.code();
    if (size == 0 || (access & Access.FETCH) != 0
        || (kind != FaultKind.EPT_VIOLATION.code() && !npt)) {
      return fault; // translations carry no data; fetches from MMIO are not emulated here
    }
    long code = Fault.code(fault);
    if ((code & (npt ? NpfExitInfo.FINAL_TRANSLATION : EptQualification.GLA_TRANSLATED)) == 0) {
      return fault; // a guest page-table access, not the data access
    }
    GuestDomain d = v.domain();
    long gpa = v.cpu().faultGuestPhysical();
    long mfn;
    boolean mmioDm;
    InstructionClass insn = v.instruction();
    RoMmioSwitches s = host.policy().roMmio();
    AccessReason handled = null;
    long served = 0;
    long subpageWrite = -1;
    DeviceModel dm = host.deviceModel();
    boolean ioreq;
    boolean msixtblWrite = false;
    synchronized (d) {
      if (d.crashed()) {
        return fault;
      }
      P2mEntry e = d.lookup;
      if (gpa >>> 12 >= RadixP2m.GFN_LIMIT) {
        return fault;
      }
      boolean mapped = d.p2m().getEntry(gpa >>> 12, e); // p2m_mmio_dm has no frame
      P2mEra era = host.policy().p2m().era();
      // Xen's get_entry reports an unpopulated gfn as p2m_mmio_dm (ept_get_entry and
      // p2m_pt_get_entry set *t = p2m_mmio_dm first), so handle_mmio takes it: an internal
      // handler, the device model that claims it, else the null handler.
      ioreq = dm.claims(d, gpa, size);
      mmioDm = e.typeCode() == P2mType.MMIO_DM.code(era) || !mapped;
      mfn = e.mfn();
      boolean roMmio = mapped && e.typeCode() == P2mType.MMIO_DIRECT.code(era)
          && host.mmioRoRanges().containsSingleton(mfn);
      if (!mmioDm && !roMmio) {
        return fault;
      }
      if (roMmio && insn.writes() && insn != InstructionClass.UNEMULATED && s.subpageRo()) {
        // The sub-page handler (hvm/mmio.c, 4.21+): .check takes mmio_direct with an entry.
        SubpageState state = host.subpageState(mfn, (int) (gpa & 0xFFF), size);
        if (state != SubpageState.NONE) {
          handled = SubpageAccess.write(s, state, gpa, size);
          if (handled == AccessReason.SUBPAGE_WRITTEN) {
            subpageWrite = (mfn << 12) | (gpa & 0xFFF);
          } else if (handled == AccessReason.SUBPAGE_WRITTEN_AT_PAGE_START) {
            subpageWrite = mfn << 12;
          }
        }
      }
      Msixtbl t = mmioDm && insn != InstructionClass.UNEMULATED ? d.msixtbl(gpa) : null;
      if (t != null) {
        // hvm_io_intercept: msixtbl, the first internal handler that accepts the access.
        handled = insn == InstructionClass.LOAD ? t.read(s, host.machine(), gpa, size)
            : t.write(s, host.machine(), gpa, size, value);
        served = t.value;
        msixtblWrite = insn.writes() && handled != AccessReason.MSIXTBL_NOT_CLAIMED
            && (gpa & (size - 1)) == 0;
        if (insn.writes()) {
          t.afterWrite(s, v, handled, gpa, size, value, insn == InstructionClass.MOVS);
        }
      }
    }
    AccessReason r = HapRoAccess.access(s, npt, mmioDm, insn, handled, ioreq);
    v.recordAccess(r);
    if (r.outcome() == AccessOutcome.FORWARDED_TO_DM) {
      return forward(v, dm, gpa, size, value, insn, fault);
    }
    if (msixtblWrite && r == handled && s.msixtblDmSeesAllWrites() && ioreq) {
      // _msixtbl_write (64b21662b1, 4.19): an aligned write msixtbl handled returns
      // X86EMUL_UNHANDLEABLE all the same, so the device model that claims the page sees it too
      // (without one, the null handler discards it).
      v.waitingForIoreq = true;
      try {
        dm.write(d, gpa, size, value);
      } finally {
        v.waitingForIoreq = false;
      }
    }
    if (r == handled && subpageWrite >= 0) {
      host.machine().write(subpageWrite, size, value);
    }
    if (r == handled && insn == InstructionClass.LOAD) {
      return v.completeLoad(served);
    }
    AccessOutcome o = r.outcome();
    switch (o) {
      case DOMAIN_CRASHED:
        host.crashDomain(d);
        return fault;
      case GP_INJECTED:
        return Fault.of(FaultKind.GENERAL_PROTECTION, 0);
      case READ_ALL_ONES:
        return v.completeLoad(size == 8 ? -1L : (1L << (8 * size)) - 1);
      case READ_FROM_DEVICE:
        return v.completeLoad(host.machine().read((mfn << 12) | (gpa & 0xFFF), size));
      case DROPPED_SILENT:
      case DROPPED_LOGGED:
      case PERFORMED:
        return insn == InstructionClass.LOAD ? fault : EMULATED;
      default:
        return fault; // nothing else is reachable
    }
  }

  /**
   * {@code hvm_send_ioreq}: a load the device model answers, or a store it takes (a
   * read-modify-write sends only its store: the processor model has computed the value, from the
   * load the embedder made through the vCPU first). The vCPU waits meanwhile ({@link
   * GuestVcpu#waitingForIoreq}).
   */
  static long forward(GuestVcpu v, DeviceModel dm, long gpa, int size, long value,
      InstructionClass insn, long fault) {
    if (!insn.writes() && insn != InstructionClass.LOAD) {
      return fault;
    }
    v.waitingForIoreq = true;
    try {
      if (insn == InstructionClass.LOAD) {
        long mask = size == 8 ? -1L : (1L << (8 * size)) - 1;
        return v.completeLoad(dm.read(v.domain(), gpa, size) & mask);
      }
      dm.write(v.domain(), gpa, size, value);
      return EMULATED;
    } finally {
      v.waitingForIoreq = false;
    }
  }
}
