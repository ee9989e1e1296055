package org.hvmmu.host;

import org.hvmmu.host.access.AccessOutcome;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.PvRoAccess;
import org.hvmmu.mmu.ControlRegisters;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.PageFaultErrorCode;
import org.hvmmu.mmu.Vcpu;
import org.hvmmu.mmu.memory.RegionKind;
import org.hvmmu.mmu.xen.GuestRegisters;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.hvmmu.x86.pv.Domain;
import org.hvmmu.x86.pv.EmulationResult;
import org.hvmmu.x86.pv.FrameTable;
import org.hvmmu.x86.pv.GuestType;
import org.hvmmu.x86.pv.L1eListener;
import org.hvmmu.x86.pv.PageType;
import org.hvmmu.x86.pv.PvMmu;
import org.hvmmu.x86.pv.PvMmuAbi;
import org.hvmmu.x86.pv.PvTlbFlush;
import org.hvmmu.x86.pv.PvVcpu;
import org.hvmmu.xen.DomainIds;
import org.hvmmu.xen.Errno;

/**
 * The PV path of the host: a PV guest's page-table hypercalls ({@code mmu_update}, pinning at every
 * level, {@code MMUEXT_NEW_BASEPTR}, the TLB-maintenance {@code mmuext_op}s, {@code
 * update_va_mapping}, emulated page-table writes) on the PV MMU; its vCPUs, whose processors walk
 * the guest's own 4-level tables from the base pointer; the flushes the PV MMU asks for; and the
 * reverse map of its L1 entries that map MMIO. {@link Host} delegates here.
 * Xen 4.22: {@code xen/arch/x86/mm.c}, {@code xen/arch/x86/pv/ro-page-fault.c} and {@code
 * fixup_page_fault} in {@code xen/arch/x86/traps.c}.
 */
final class PvPaging {
  /** The processor's CR0 for a PV guest: protected mode, paging, and WP as Xen runs. */
  static final long HW_CR0 =
      ControlRegisters.CR0_PE | ControlRegisters.CR0_WP | ControlRegisters.CR0_PG;

  /**
   * The processor's CR4 for a PV guest: PAE and PGE (Xen runs with global pages; a 64-bit PV
   * guest's user mappings are global). Xen's SMEP and SMAP are left out: a 64-bit PV kernel runs in
   * ring 3, and Xen turns both off for 32-bit PV guests, whose kernel runs in ring 1.
   */
  static final long HW_CR4 = ControlRegisters.CR4_PAE | ControlRegisters.CR4_PGE;

  /** The processor's EFER: long mode (a 32-bit PV guest runs in its compatibility mode), NX. */
  static final long HW_EFER = ControlRegisters.EFER_SCE | ControlRegisters.EFER_LME
      | ControlRegisters.EFER_LMA | ControlRegisters.EFER_NXE;

  private final Host host;

  /** Xen's idle page table: an empty L4 from Xen's heap, the CR3 of a vCPU with no base. */
  private long idleTable = -1;

  PvPaging(Host host) {
    this.host = host;
  }

  // ---- vCPUs ---------------------------------------------------------------------------------------

  /**
   * Gives {@code g}, a new vCPU of a PV domain, its PV MMU state and its processor's registers: long
   * mode on Xen's empty idle table until the guest installs a base ({@code MMUEXT_NEW_BASEPTR} or
   * a MOV to CR3, which Xen emulates as {@code new_guest_cr3}). Called under the host's
   * configuration lock.
   */
  void attachVcpu(GuestVcpu g) {
    if (idleTable < 0) {
      idleTable = host.xenHeap().allocate(1);
    }
    Domain view = g.domain().mmuView();
    PvVcpu pv = view.guestType() == GuestType.PV32
        ? host.pvMmu().createVcpu(view, g.index(), freeFrame())
        : host.pvMmu().createVcpu(view, g.index());
    PvVcpuControl control = new PvVcpuControl(this, pv);
    g.setPv(control);
    g.setFaultHandler(control);
    g.setGuestControl(control);
    long fault = g.cpu().loadState(HW_CR0, processorCr3(pv), HW_CR4, HW_EFER);
    if (fault != 0) {
      throw new AssertionError("the processor refuses the PV state: " + Fault.describe(fault));
    }
  }

  /**
   * The frame Xen's heap gives a 32-bit vCPU's own L4 ({@code setup_compat_l4}): the model's Xen
   * takes the highest free RAM frame of the frame table, which is Xen's from then on.
   */
  private long freeFrame() {
    FrameTable frames = host.frames();
    for (long mfn = frames.frameCount() - 1; mfn >= 0; mfn--) {
      if (frames.owner(mfn) == DomainIds.OWNER_NONE
          && host.machine().kind(mfn) == RegionKind.RAM) {
        return mfn;
      }
    }
    throw new IllegalStateException("no free frame left for a 32-bit vCPU's L4 (Xen's heap is"
        + " empty: every frame of the frame table is given away)");
  }

  /** The CR3 the processor runs with: the vCPU's, or Xen's idle table when it has no base. */
  private long processorCr3(PvVcpu pv) {
    // Not pv.cr3() != 0: an L4 at frame 0 (a compat L4 Xen took from frame 0) has CR3 0 too.
    return pv.baseptr() != PvVcpu.NO_BASEPTR ? pv.cr3() : idleTable << Pte.PAGE_SHIFT;
  }

  /**
   * {@code MMUEXT_NEW_BASEPTR} of vCPU {@code g}: Xen's {@code new_guest_cr3}, then the processor's
   * CR3 load.
   *
   * @return 0 or a negated errno (nothing changed)
   */
  int newBaseptr(GuestVcpu g, long mfn) {
    Host.requireAlive(g.domain());
    PvVcpu pv = pv(g);
    long cr3 = host.pvMmu().newGuestCr3(pv, mfn);
    if (cr3 < 0) {
      return (int) cr3;
    }
    loadCr3(g, cr3);
    return 0;
  }

  /** One {@code mmuext_op} of vCPU {@code g}, by command number. */
  int mmuextOp(GuestVcpu g, int cmd, long arg1, long arg2) {
    Host.requireAlive(g.domain());
    if (cmd == PvMmuAbi.MMUEXT_NEW_BASEPTR) {
      return newBaseptr(g, arg1);
    }
    return host.pvMmu().doMmuextOp(pv(g), cmd, arg1, arg2);
  }

  /** {@code update_va_mapping} of vCPU {@code g}. */
  int updateVaMapping(GuestVcpu g, long va, long val, long flags, long vcpuMask) {
    Host.requireAlive(g.domain());
    return host.pvMmu().updateVaMapping(pv(g), va, val, flags, vcpuMask);
  }

  /** A PV domain dies: every vCPU drops its base ({@code vcpu_destroy_pagetables}). */
  void destroyPagetables(GuestDomain d) {
    for (GuestVcpu g : d.vcpuArray()) {
      PvVcpu pv = pv(g);
      host.pvMmu().vcpuDestroyPagetables(pv);
      loadCr3(g, processorCr3(pv));
    }
  }

  private static void loadCr3(GuestVcpu g, long cr3) {
    long fault = g.cpu().writeCr3(cr3);
    if (fault != 0) {
      throw new AssertionError("the processor refuses CR3 0x" + Long.toHexString(cr3) + ": "
          + Fault.describe(fault));
    }
  }

  private static PvVcpu pv(GuestVcpu g) {
    PvVcpuControl c = g.pv();
    if (c == null) {
      throw new IllegalArgumentException(g + " is not a PV vCPU");
    }
    return c.pv();
  }

  /**
   * The guest loads its control registers. Xen emulates the privileged instructions of a PV kernel:
   * a MOV to CR3 becomes {@code new_guest_cr3} of the frame CR3 names ({@code xen_cr3_to_pfn});
   * CR0, CR4 and EFER are Xen's, and a PV guest may not change them here ({@code -EPERM}).
   */
  long loadGuestState(PvVcpuControl c, GuestVcpu g, long cr0, long cr3, long cr4, long efer) {
    Vcpu cpu = g.cpu();
    if (cr0 != cpu.cr0() || cr4 != cpu.cr4() || efer != cpu.efer()) {
      return -Errno.EPERM;
    }
    return newBaseptr(g, cr3ToMfn(g.domain(), cr3));
  }

  /** The registers the guest reads: Xen's CR0, CR4 and EFER, and its base pointer as CR3. */
  GuestRegisters guestRegisters(PvVcpuControl c, GuestVcpu g) {
    Vcpu cpu = g.cpu();
    long base = host.pvMmu().guestBaseptr(c.pv());
    long cr3 = base == PvVcpu.NO_BASEPTR ? 0 : mfnToCr3(g.domain(), base);
    return new GuestRegisters(cpu.cr0(), cr3, cpu.cr4(), cpu.efer(), 0, cpu.pkru(), cpu.pkrs());
  }

  /**
   * Xen's {@code xen_cr3_to_pfn}, or for a 32-bit guest {@code compat_cr3_to_pfn}: the frame number
   * in bits 31:12, its bits 43:32 in bits 11:0 (so that a 32-bit CR3 names any frame).
   */
  static long cr3ToMfn(GuestDomain d, long cr3) {
    if (d.mmuView().guestType() == GuestType.PV32) {
      long c = cr3 & 0xFFFF_FFFFL;
      return ((c >>> 12) | (c << 20)) & 0xFFFF_FFFFL;
    }
    return cr3 >>> Pte.PAGE_SHIFT;
  }

  /** The inverse of {@link #cr3ToMfn}: {@code xen_pfn_to_cr3} or {@code compat_pfn_to_cr3}. */
  static long mfnToCr3(GuestDomain d, long mfn) {
    if (d.mmuView().guestType() == GuestType.PV32) {
      return ((mfn << 12) | (mfn >>> 20)) & 0xFFFF_FFFFL;
    }
    return mfn << Pte.PAGE_SHIFT;
  }

  /**
   * A fault of a PV vCPU's processor. A write to a present, read-only mapping of one of the guest's
   * own L1 tables is emulated ({@code ptwr_do_page_fault}: error code P and W without RSVD or I/D;
   * the guest's L1 entry of the address maps an L1 table the domain owns; the store naturally
   * aligned in one page), as {@code ptwr_emulated_update}; a write to a present, read-only mapping
   * of a frame in {@code mmio_ro_ranges} is decided by {@link PvRoAccess} (the hardware domain's
   * kernel stores dropped, or for an MMCFG window's frame performed as configuration writes unless
   * they touch the MSI-X capability, everything else the guest's #PF) and recorded on the vCPU;
   * both only in guest kernel mode ({@code fixup_page_fault}); every other fault goes to the guest
   * as the processor raised it.
   */
  long pageFault(PvVcpuControl c, GuestVcpu g, long fault, long la, int size, long value) {
    if (Fault.kindCode(fault) != FaultKind.PAGE_FAULT.code() || size == 0) {
      return fault;
    }
    long code = Fault.code(fault);
    int mask = PageFaultErrorCode.P | PageFaultErrorCode.W | PageFaultErrorCode.RSVD
        | PageFaultErrorCode.I;
    if ((code & mask) != (PageFaultErrorCode.P | PageFaultErrorCode.W)) {
      return fault;
    }
    if (!g.guestKernelMode()) {
      // fixup_page_fault emulates neither page-table nor MMIO writes outside kernel mode.
      if (mapsReadOnlyMmio(c, g)) {
        g.recordAccess(AccessReason.PV_USER_MODE);
      }
      return fault;
    }
    long addr = g.cpu().cr2();
    PvMmu mmu = host.pvMmu();
    long l1 = mmu.mapGuestL1e(c.pv(), addr);
    if (l1 < 0) {
      return fault;
    }
    long l1e = mmu.readEntry(l1, PvMmuAbi.tableOffset(addr, 1));
    long mfn = Pte.getMfn(l1e);
    FrameTable frames = mmu.frameTable();
    Domain d = g.domain().mmuView();
    if ((l1e & (PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW)) == PteFlags.PAGE_PRESENT
        && host.mmioRoRanges().containsSingleton(mfn)) {
      // pv_ro_page_fault: the hardware domain's write to r/o MMIO goes to mmio_ro_do_page_fault,
      // anyone else's to the page-table emulator, which finds no L1 table there. A frame of an
      // MMCFG window (pci_ro_mmcfg_decode; no function is in ro_map) goes to
      // mmcfg_intercept_write, which asks pci_conf_write_intercept about the function's MSI-X
      // capability (pdev->msix exists for every function with one: alloc_pdev).
      int offset = (int) (addr & 0xFFF);
      MmcfgWindow window = host.mmcfgWindow(mfn);
      HostDevice dev = window == null ? null : window.deviceAt(mfn);
      int msixCapability = dev != null && dev.hasMsix() ? dev.msix().capability().capOffset() : 0;
      AccessReason r = PvRoAccess.write(host.policy().roMmio(), g.domain().privileged(), true,
          window != null, msixCapability, g.instruction(), la, size, addr,
          host.subpageState(mfn, offset, size));
      g.recordAccess(r);
      if (r == AccessReason.SUBPAGE_WRITTEN || r == AccessReason.SUBPAGE_WRITTEN_AT_PAGE_START) {
        // write_mmio at the store's offset; 4.20 wrote at the page's start.
        long at = r == AccessReason.SUBPAGE_WRITTEN ? offset : 0;
        host.machine().write((mfn << Pte.PAGE_SHIFT) | at, size, value);
      } else if (r == AccessReason.MMCFG_WRITTEN) {
        // pci_mmcfg_write through Xen's own mapping of the window.
        host.machine().write((mfn << Pte.PAGE_SHIFT) | offset, size, value);
      } else if (r == AccessReason.MMCFG_MSIX_CONTROL) {
        // pci_msi_conf_write_intercept: guest_maskall recorded, MASKALL kept while host_maskall.
        long written = dev.masking().interceptControlWrite(host.policy().roMmio(), (int) value);
        host.machine().write((mfn << Pte.PAGE_SHIFT) | offset, size, written & 0xFFFF);
      }
      return r.outcome() == AccessOutcome.PF_INJECTED ? fault : GuestVcpu.FaultHandler.EMULATED;
    }
    if (!Pte.isPresent(l1e) || !frames.mfnValid(mfn) || frames.owner(mfn) != d.id()
        || frames.pageType(mfn) != PageType.L1_PAGE_TABLE) {
      return fault;
    }
    int offset = (int) (addr & 0xFFF);
    if (size > 8 || (size & (size - 1)) != 0 || (offset & (size - 1)) != 0) {
      return fault; // ptwr_emulated_update: naturally aligned stores of at most 8 bytes
    }
    EmulationResult r = mmu.ptwrEmulatedUpdate(d, mfn, offset, 0, value, size, false);
    return switch (r) {
      case OKAY -> GuestVcpu.FaultHandler.EMULATED;
      case RETRY, CMPXCHG_FAILED -> GuestVcpu.FaultHandler.RETRY;
      case UNHANDLEABLE, EXCEPTION -> fault;
    };
  }

  /** Whether the current fault's address maps a frame in {@code mmio_ro_ranges} read-only. */
  private boolean mapsReadOnlyMmio(PvVcpuControl c, GuestVcpu g) {
    long addr = g.cpu().cr2();
    PvMmu mmu = host.pvMmu();
    long l1 = mmu.mapGuestL1e(c.pv(), addr);
    if (l1 < 0) {
      return false;
    }
    long l1e = mmu.readEntry(l1, PvMmuAbi.tableOffset(addr, 1));
    return (l1e & (PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW)) == PteFlags.PAGE_PRESENT
        && host.mmioRoRanges().containsSingleton(Pte.getMfn(l1e));
  }

  // ---- tables ------------------------------------------------------------------------------------

  /**
   * Pins frame {@code mfn} of PV domain {@code d} as an L1 table ({@code MMUEXT_PIN_L1_TABLE}).
   *
   * @param d a PV domain
   * @param mfn its frame
   * @return 0 or {@code -EINVAL}
   */
  int pinL1Table(GuestDomain d, long mfn) {
    Host.requireAlive(d);
    return host.pvMmu().pinL1Table(pvDomain(d), mfn);
  }

  /**
   * Pins frame {@code mfn} of PV domain {@code d} as a table of type {@code level} ({@code
   * MMUEXT_PIN_L1_TABLE} to {@code MMUEXT_PIN_L4_TABLE}), validating the tree below.
   *
   * @return 0 or a negated errno
   */
  int pinTable(GuestDomain d, long mfn, PageType level) {
    Host.requireAlive(d);
    return host.pvMmu().pinTable(pvDomain(d), mfn, level);
  }

  /**
   * Unpins a table ({@code MMUEXT_UNPIN_TABLE}).
   *
   * @param d a PV domain
   * @param mfn its pinned table
   * @return 0 or {@code -EINVAL}
   */
  int unpinTable(GuestDomain d, long mfn) {
    return host.pvMmu().unpinTable(pvDomain(d), mfn);
  }

  /**
   * The guest writes its own frame through an ordinary mapping (filling a page before pinning it).
   *
   * @param d the domain
   * @param mfn its frame, not a page table in use
   * @param slot 0 to 511
   * @param value the 64-bit value
   */
  void writeGuestEntry(GuestDomain d, long mfn, int slot, long value) {
    host.pvMmu().writeGuestEntry(d.mmuView(), mfn, slot, value);
  }

  /**
   * One {@code MMU_NORMAL_PT_UPDATE} of PV domain {@code d} on its own frame, mapping its own frames
   * or MMIO ({@code mod_l1_entry} when the frame is an L1 table).
   *
   * @param d a PV domain
   * @param mfn the frame written
   * @param slot 0 to 511
   * @param value the new entry
   * @return 0 or a negated errno
   */
  int mmuUpdate(GuestDomain d, long mfn, int slot, long value) {
    Host.requireAlive(d);
    Domain view = pvDomain(d);
    return host.pvMmu().mmuUpdate(view, mfn, slot, value, view, false);
  }

  /**
   * An emulated store of {@code bytes} bytes into PV domain {@code d}'s L1 table ({@code
   * ptwr_emulated_update}).
   *
   * @param d a PV domain
   * @param mfn the table
   * @param offset byte offset, 0 to 4095
   * @param old for a cmpxchg, the expected value
   * @param val the value stored
   * @param bytes 1 to 8
   * @param cmpxchg whether it is a compare-and-exchange
   * @return the emulation result
   */
  EmulationResult ptwrEmulatedUpdate(
      GuestDomain d, long mfn, int offset, long old, long val, int bytes, boolean cmpxchg) {
    Host.requireAlive(d);
    return host.pvMmu().ptwrEmulatedUpdate(pvDomain(d), mfn, offset, old, val, bytes, cmpxchg);
  }

  static Domain pvDomain(GuestDomain d) {
    if (!d.mode().pvTables()) {
      throw new IllegalArgumentException(d + " does not write PV page tables");
    }
    return d.mmuView();
  }

  /**
   * The flushes the PV MMU asks for, on the domain's processors: {@code flush_tlb_mask} as a full
   * flush (global translations and paging-structure caches included), {@code flush_tlb_one_mask}
   * as an {@code INVLPG} of the address. Delivered at once, as an IPI Xen waits for.
   */
  final class PvFlushes implements PvTlbFlush {
    @Override
    public void flushTlbMask(Domain d, long vcpuMask) {
      for (GuestVcpu g : host.domain(d.id()).vcpuArray()) {
        if ((vcpuMask & (1L << g.index())) != 0) {
          g.cpu().flushAll();
        }
      }
    }

    @Override
    public void flushTlbOneMask(Domain d, long vcpuMask, long linearAddress) {
      for (GuestVcpu g : host.domain(d.id()).vcpuArray()) {
        if ((vcpuMask & (1L << g.index())) != 0) {
          g.cpu().invlpg(linearAddress);
        }
      }
    }
  }

  /** Keeps the reverse map of PV entries that map MMIO: one synchronised step per change. */
  final class PvReverseMapping implements L1eListener {
    @Override
    public void changed(Domain owner, long tableMfn, int slot, long oldL1e, long newL1e) {
      FrameTable frames = host.pvMmu().frameTable();
      long oldMfn = Pte.getMfn(oldL1e);
      long newMfn = Pte.getMfn(newL1e);
      boolean oldIo = Pte.isPresent(oldL1e) && frames.isIomemPage(oldMfn);
      boolean newIo = Pte.isPresent(newL1e) && frames.isIomemPage(newMfn);
      if (oldIo || newIo) {
        host.rmap().replace(oldIo ? oldMfn : -1, newIo ? newMfn : -1, owner.id(), MappingKind.PV_L1,
            tableMfn, slot);
      }
    }
  }
}
