package org.hvmmu.host;

import java.util.Objects;
import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.InstructionClass;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.ControlRegisters;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.FaultKind;
import org.hvmmu.mmu.Vcpu;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.mmu.xen.GuestRegisters;
import org.hvmmu.x86.pv.PvVcpu;

/**
 * A vCPU of a {@link GuestDomain}: the MMU layer's {@link Vcpu} (control registers, TLBs and caches,
 * cycle counters) running on the host's machine memory, configured for the domain's paging mode by
 * {@link Host#createVcpu}. Guest loads, stores and fetches go through it; what the hypervisor changes
 * under it (p2m entries, PV entries it revalidates, shadows) is followed by the flushes {@link
 * FlushSwitches} names.
 *
 * <pre>{@code
 * GuestVcpu v = host.createVcpu(hvmGuest);
 * v.loadGuestState(cr0, cr3, cr4, efer);        // the guest's own registers
 * long value = v.read(la, 8, Access.USER);
 * if (v.lastFault() != 0) { ... Fault.describe(v.lastFault()) ... }
 * }</pre>
 *
 * <p>Like its {@link Vcpu}, a guest vCPU belongs to one thread; host operations that flush it (see
 * {@link Host}) must not run while that thread translates.
 */
public final class GuestVcpu {
  /**
   * How often one access may be retried after the hypervisor fixed a fault (a shadow built). A
   * hypervisor that reports a fix the processor does not see ends here, and the access returns the
   * processor's fault. (The shadow code recognises the case itself, a write to read-only MMIO on
   * which Xen would re-enter the guest at the same instruction for ever, and ends it at once.)
   */
  static final int MAX_RETRIES = 16;

  private final GuestDomain domain;
  private final int index;
  private final Vcpu cpu;
  private final PhysicalMemory machine;
  private FaultHandler handler;
  private GuestControl control;
  private PvVcpuControl pv;
  private long lastFault;
  private boolean guestKernelMode = true;
  private InstructionClass instruction = InstructionClass.PLAIN_STORE;
  private AccessReason lastReason;
  private long emulatedValue;

  /*
   * msixtbl's per-vCPU state (Xen's hvm_io.msix_unmask_address, msix_snoop_address and
   * msix_snoop_gpa), guarded by the domain's monitor: the Vector Control address of an unmask to
   * replay when the I/O completes, that of a snooped unmask (0: none), whether the snoop came from
   * a movs, and the dword a movs stored there.
   */
  long msixUnmaskAddress;
  long msixSnoopAddress;
  boolean msixSnoopMovs;
  int msixSnoopData;
  /** Whether the vCPU waits for the device model ({@code VPF_blocked_in_xen} in an ioreq). */
  volatile boolean waitingForIoreq;

  /**
   * What the hypervisor does with a fault the hardware raised before the guest sees it: a shadow
   * page fault builds the missing shadow entries, a store into a guest page table is emulated, an
   * EPT violation on an emulated page is emulated.
   */
  @FunctionalInterface
  interface FaultHandler {
    /** Retry the access: the hypervisor fixed what made the hardware fault (a shadow built). */
    long RETRY = 0;

    /**
     * The access is complete and must not be retried: the hypervisor performed the store itself
     * (an emulated write to a guest page table) or discarded it (a write to read-only memory Xen
     * skips). Only for stores.
     */
    long EMULATED = 1;

    /**
     * The load is complete: the hypervisor emulated it and its value is the one the handler gave
     * {@link GuestVcpu#completeLoad} (all ones from the null handler, a shadow, the device).
     */
    long EMULATED_LOAD = 2;

    /**
     * Handles {@code fault}, raised by {@code v}'s hardware for an access of kind {@code access} at
     * {@code la} (for a #PF the faulting address itself is {@code v.cpu().cr2()}: a split access's
     * second page).
     *
     * @param v the vCPU
     * @param fault the hardware's fault
     * @param la the access's linear address
     * @param access {@link Access} bits ({@link Access#WRITE} for a store)
     * @param size 1 to 8 for a load or a store; 0 for a translation ({@link GuestVcpu#translate}),
     *     which carries no data and so cannot be emulated
     * @param value the value a store writes (0 otherwise)
     * @return {@link #RETRY}, {@link #EMULATED} (stores only), {@link #EMULATED_LOAD} (loads only),
     *     or the fault the guest sees (negative)
     */
    long handle(GuestVcpu v, long fault, long la, int access, int size, long value);
  }

  /**
   * Where the guest's own control registers live apart from the processor's: under shadow paging
   * the processor runs on the shadows (its CR3 is the shadow of the guest's top-level table) and
   * the hypervisor keeps the guest's CR0, CR3, CR4 and EFER.
   */
  interface GuestControl {
    /**
     * The guest loads its control registers (MOV to CR0/CR3/CR4, WRMSR EFER).
     *
     * @return 0 or a negated errno
     */
    long loadGuestState(GuestVcpu v, long cr0, long cr3, long cr4, long efer);

    /** The guest's registers as its page walks read them. */
    GuestRegisters guestRegisters(GuestVcpu v);
  }

  GuestVcpu(GuestDomain domain, int index, Vcpu cpu, PhysicalMemory machine) {
    this.domain = Objects.requireNonNull(domain, "domain");
    this.index = index;
    this.cpu = Objects.requireNonNull(cpu, "cpu");
    this.machine = Objects.requireNonNull(machine, "machine");
  }

  void setFaultHandler(FaultHandler handler) {
    this.handler = handler;
  }

  FaultHandler faultHandler() {
    return handler;
  }

  void setPv(PvVcpuControl pv) {
    this.pv = pv;
  }

  PvVcpuControl pv() {
    return pv;
  }

  /**
   * The PV MMU's state of this vCPU (its page-table base), for a vCPU of a PV or PV32 domain.
   *
   * @return the PV vCPU, or null for a vCPU of another mode
   */
  public PvVcpu pvVcpu() {
    return pv == null ? null : pv.pv();
  }

  void setGuestControl(GuestControl control) {
    this.control = control;
  }

  GuestControl guestControl() {
    return control;
  }

  /**
   * The guest loads its control registers. For a vCPU on EPT, NPT or PV tables they are the
   * processor's ({@link Vcpu#loadState}); for a shadowed domain's vCPU the hypervisor keeps them and
   * points the processor's CR3 at the shadow of the guest's top-level table, building it if needed
   * (Xen's {@code sh_update_cr3}); the hypervisor's shadows serve 4-level guests only, so until the
   * guest loads 4-level paging every access faults.
   *
   * @param cr0 the guest's CR0
   * @param cr3 the guest's CR3 (a guest-physical address for HVM, a machine address for PV)
   * @param cr4 the guest's CR4
   * @param efer the guest's EFER
   * @return 0, the processor's fault for a hardware load, or a negated errno ({@code -EINVAL} for
   *     a top-level table outside the guest's RAM: Xen crashes an HVM guest then)
   */
  public long loadGuestState(long cr0, long cr3, long cr4, long efer) {
    return control != null ? control.loadGuestState(this, cr0, cr3, cr4, efer)
        : cpu.loadState(cr0, cr3, cr4, efer);
  }

  /**
   * The guest's MOV to CR3: {@link Vcpu#writeCr3}, or for a shadowed domain {@link
   * #loadGuestState} with the guest's other registers unchanged.
   *
   * @param cr3 the new CR3
   * @return 0, the processor's fault, or a negated errno
   */
  public long writeGuestCr3(long cr3) {
    if (control == null) {
      return cpu.writeCr3(cr3);
    }
    GuestRegisters r = control.guestRegisters(this);
    return control.loadGuestState(this, r.cr0(), cr3, r.cr4(), r.efer());
  }

  /**
   * The guest's own registers: the processor's, or for a shadowed domain the ones the hypervisor
   * keeps (the processor's then hold the shadows).
   *
   * @return a new record
   */
  public GuestRegisters guestRegisters() {
    if (control != null) {
      return control.guestRegisters(this);
    }
    return new GuestRegisters(cpu.cr0(), cpu.cr3(), cpu.cr4(), cpu.efer(),
        cpu.alignmentCheck() ? ControlRegisters.RFLAGS_AC : 0, cpu.pkru(), cpu.pkrs());
  }

  /**
   * The domain it belongs to.
   *
   * @return the domain
   */
  public GuestDomain domain() {
    return domain;
  }

  /**
   * Its index in the domain (Xen's {@code vcpu_id}).
   *
   * @return 0, 1, ...
   */
  public int index() {
    return index;
  }

  /**
   * The MMU layer's vCPU: registers, translation, invalidations, counters.
   *
   * @return the vCPU
   */
  public Vcpu cpu() {
    return cpu;
  }

  /**
   * A guest load: {@link Vcpu#read}.
   *
   * @param la the linear address
   * @param size 1, 2, 4 or 8
   * @param access {@link Access} bits
   * @return the value, or 0 with {@link #lastFault()} set
   */
  public long read(long la, int size, int access) {
    if (lastReason != null) {
      lastReason = null; // a test, not a store, on the hit path
    }
    long value = cpu.read(la, size, access);
    long fault = cpu.lastFault();
    if (fault == 0) {
      lastFault = 0;
      return value; // the hit path: small enough for the caller to inline it
    }
    return readFaulted(la, size, access, value, fault);
  }

  /** {@link #read} after its first try faulted: the handler's turn, then the retries. */
  private long readFaulted(long la, int size, int access, long value, long fault) {
    for (int tries = 0; ; tries++) {
      if (tries > 0) {
        value = cpu.read(la, size, access);
        fault = cpu.lastFault();
      }
      if (fault == 0 || handler == null || tries == MAX_RETRIES) {
        lastFault = fault;
        return value;
      }
      instruction = InstructionClass.LOAD; // what the handler reads; only on the fault path
      long r = handler.handle(this, fault, la, access, size, 0);
      if (r == FaultHandler.EMULATED_LOAD) {
        lastFault = 0;
        return emulatedValue;
      }
      if (r == FaultHandler.EMULATED) {
        throw new IllegalStateException("a fault handler emulated a load at 0x"
            + Long.toHexString(la) + " (expected: emulation of stores only)");
      }
      if (r != FaultHandler.RETRY) {
        lastFault = r;
        return 0;
      }
    }
  }

  /**
   * A guest store: {@link Vcpu#write}; the hypervisor may emulate it (a store into a guest page
   * table under shadow paging) or discard it (a write to read-only RAM).
   *
   * @param la the linear address
   * @param size 1, 2, 4 or 8
   * @param value the value
   * @param access {@link Access} bits (WRITE is added)
   * @return 0 (also when the hypervisor emulated or discarded the store) or the fault
   */
  public long write(long la, int size, long value, int access) {
    return write(la, size, value, access, InstructionClass.PLAIN_STORE);
  }

  /**
   * A guest store made by an instruction of class {@code insn}: the processor's access is the same
   * (for a read-modify-write or locked instruction the processor reports the write), but the
   * hypervisor's emulation of a store to a protected page depends on the instruction (Xen's PV
   * emulator cannot read r/o MMIO, so a read-modify-write there is the guest's #PF; an HVM
   * read-modify-write reads all ones from the null handler). {@link #lastAccessReason()} says what
   * the hypervisor decided.
   *
   * @param la the linear address
   * @param size 1, 2, 4 or 8 (for {@code stos}, one element)
   * @param value the value
   * @param access {@link Access} bits (WRITE is added)
   * @param insn the instruction's class: not {@link InstructionClass#LOAD} nor {@link
   *     InstructionClass#WIDE_STORE} (a store of more than 8 bytes is {@link #writeWide})
   * @return 0 (also when the hypervisor emulated or discarded the store) or the fault
   * @throws IllegalArgumentException for a load or a wide store
   */
  public long write(long la, int size, long value, int access, InstructionClass insn) {
    if (insn == InstructionClass.LOAD || insn == InstructionClass.WIDE_STORE) {
      throw new IllegalArgumentException("instruction class " + insn
          + " for a store through the vCPU (expected: a store of at most 8 bytes)");
    }
    if (lastReason != null) {
      lastReason = null;
    }
    for (int tries = 0; ; tries++) {
      long fault = cpu.write(la, size, value, access);
      if (fault == 0 || handler == null || tries == MAX_RETRIES) {
        lastFault = fault;
        return fault;
      }
      if (insn == InstructionClass.PLAIN_STORE && ((la & 0xFFF) + size > 4096)
          && isNestedViolation(fault)) {
        return splitAtPage(la, size, value, access);
      }
      instruction = insn;
      long r = handler.handle(this, fault, la, access | Access.WRITE, size, value);
      if (r == FaultHandler.EMULATED) {
        lastFault = 0;
        return 0;
      }
      if (r != FaultHandler.RETRY) {
        lastFault = r;
        return r;
      }
    }
  }

  private static boolean isNestedViolation(long fault) {
    int kind = Fault.kindCode(fault);
    return kind == FaultKind.EPT_VIOLATION.code() || kind == FaultKind.NESTED_PAGE_FAULT.code();
  }

  /**
   * Xen's {@code linear_write} for an HVM store that crosses a page and met an EPT or NPT
   * violation: each page's part on its own, in order, a RAM part written, an MMIO part emulated in
   * chunks of the largest power of two that fits ({@code hvmemul_phys_mmio_access}); the first
   * part that faults for the guest ends it.
   */
  private long splitAtPage(long la, int size, long value, int access) {
    int first = 4096 - (int) (la & 0xFFF);
    long at = la;
    int left = size;
    long v = value;
    while (left > 0) {
      int part = at == la ? first : left;
      int chunk = Math.min(Integer.highestOneBit(part), 8);
      for (int done = 0; done < part; ) {
        while (chunk > part - done) {
          chunk >>= 1;
        }
        long r = write(at, chunk, v, access, InstructionClass.PLAIN_STORE);
        if (r != 0) {
          return r;
        }
        v = chunk == 8 ? 0 : v >>> (8 * chunk);
        at += chunk;
        done += chunk;
      }
      left -= part;
    }
    return 0;
  }

  /**
   * A store wider than 8 bytes ({@link InstructionClass#WIDE_STORE}: an SSE, AVX or AVX-512 store
   * of 16, 32 or 64 bytes, at any alignment), {@code data} in memory order. Where nothing faults
   * the processor stores every byte. Otherwise, as Xen handles it:
   *
   * <ul>
   *   <li>PV guests (PV, PV32): the hypervisor sees the whole store, so the decision is made once
   *       for its full width ({@code mmio_ro_emulated_write} drops a store wider than 8 bytes,
   *       {@code ptwr} refuses one, an MMCFG write above 4 bytes is the guest's #PF) and nothing
   *       is written unless every page takes it;
   *   <li>HVM guests and shadowed guests: {@code hvmemul_phys_mmio_access} splits an emulated
   *       access into chunks of at most 8 bytes, each a separate access of the handlers (msixtbl,
   *       the sub-page handler, the device model, the null handler), so the store is made 8 bytes
   *       at a time from its start, and stops at the first chunk that faults for the guest.
   * </ul>
   *
   * @param la the linear address
   * @param data 16, 32 or 64 bytes
   * @param access {@link Access} bits (WRITE is added)
   * @return 0 (also when the hypervisor emulated or discarded the store) or the fault
   * @throws IllegalArgumentException for another length
   */
  public long writeWide(long la, byte[] data, int access) {
    int size = data.length;
    if (size != 16 && size != 32 && size != 64) {
      throw new IllegalArgumentException("a wide store of " + size
          + " bytes (expected 16, 32 or 64)");
    }
    if (!domain.mode().pvTables()) {
      for (int i = 0; i < size; i += 8) {
        long chunk = 0;
        for (int b = 7; b >= 0; b--) {
          chunk = chunk << 8 | (data[i + b] & 0xFF);
        }
        long r = write(la + i, 8, chunk, access, InstructionClass.PLAIN_STORE);
        if (r != 0) {
          return r;
        }
      }
      return 0;
    }
    if (lastReason != null) {
      lastReason = null;
    }
    int a = access | Access.WRITE;
    for (int tries = 0; ; tries++) {
      long end = la + size - 1;
      boolean crosses = (end >>> 12) != (la >>> 12);
      long first = cpu.translate(la, a);
      long second = first < 0 || !crosses ? first : cpu.translate(end & ~0xFFFL, a);
      long fault = first < 0 ? first : second < 0 ? second : 0;
      if (fault == 0) {
        for (int i = 0; i < size; i++) {
          long at = la + i;
          long pa = (at >>> 12) == (la >>> 12) ? first + i : second + (at & 0xFFF);
          machine.write(pa, 1, data[i]);
        }
        lastFault = 0;
        return 0;
      }
      if (handler == null || tries == MAX_RETRIES) {
        lastFault = fault;
        return fault;
      }
      instruction = InstructionClass.WIDE_STORE;
      long r = handler.handle(this, fault, la, a, size, 0);
      if (r == FaultHandler.EMULATED) {
        lastFault = 0;
        return 0;
      }
      if (r != FaultHandler.RETRY) {
        lastFault = r;
        return r;
      }
    }
  }

  /**
   * A guest instruction fetch: {@link Vcpu#fetch}.
   *
   * @param la the linear address
   * @param size 1, 2, 4 or 8
   * @param user whether the fetch is a user-mode access
   * @return the bytes, or 0 with {@link #lastFault()} set
   */
  public long fetch(long la, int size, boolean user) {
    return read(la, size, Access.FETCH | (user ? Access.USER : 0));
  }

  /**
   * A translation, as {@link Vcpu#translate}, with the hypervisor handling the faults it handles. A
   * write the hypervisor would emulate rather than let the processor perform (a store into a guest
   * page table under shadow paging) has no translation: the processor's fault comes back.
   *
   * @param la the linear address
   * @param access {@link Access} bits
   * @return the machine address, or the fault the guest sees (or the processor's, as above)
   */
  public long translate(long la, int access) {
    if (lastReason != null) {
      lastReason = null;
    }
    for (int tries = 0; ; tries++) {
      long r = cpu.translate(la, access);
      if (r >= 0 || handler == null || tries == MAX_RETRIES) {
        return r;
      }
      // A translation for a write is decided as a plain store, else as a load (not the class the
      // previous access left behind).
      instruction = (access & Access.WRITE) != 0 ? InstructionClass.PLAIN_STORE
          : InstructionClass.LOAD;
      long h = handler.handle(this, r, la, access, 0, 0);
      if (h != FaultHandler.RETRY) {
        return h == FaultHandler.EMULATED || h == FaultHandler.EMULATED_LOAD ? r : h;
      }
    }
  }

  /**
   * The guest's INVLPG. An HVM guest on EPT or NPT executes it on the processor (Xen does not
   * intercept it: VPIDs and ASIDs tag the guest's translations); under shadow paging Xen intercepts
   * it ({@code paging_invlpg}) and invalidates the address on the processor, the shadows already
   * following the guest's tables; a PV kernel runs deprivileged and Xen does not emulate INVLPG for
   * it (it asks for {@code MMUEXT_INVLPG_LOCAL}): #GP(0).
   *
   * @param la the linear address
   * @return 0, or #GP(0) for a PV guest
   */
  public long invlpg(long la) {
    if (pv != null) {
      return Fault.of(FaultKind.GENERAL_PROTECTION, 0);
    }
    cpu.invlpg(la);
    return 0;
  }

  /**
   * The guest's INVPCID. On EPT and NPT the processor executes it ({@link Vcpu#invpcid}); under
   * shadow paging Xen intercepts it, checks the descriptor as the processor would against the
   * guest's own CR4.PCIDE, and invalidates the address (type 0) or the whole processor TLB (the
   * shadows run without PCIDs or global pages); a PV kernel gets #GP(0).
   *
   * @param type 0 to 3
   * @param pcid the descriptor's PCID
   * @param la the descriptor's linear address (type 0)
   * @return 0 or #GP(0)
   */
  public long invpcid(int type, long pcid, long la) {
    if (pv != null) {
      return Fault.of(FaultKind.GENERAL_PROTECTION, 0);
    }
    if (control == null) {
      return cpu.invpcid(type, pcid, la);
    }
    boolean pcide = (control.guestRegisters(this).cr4() & ControlRegisters.CR4_PCIDE) != 0;
    boolean canonical = (la << 16 >> 16) == la; // 48-bit: the shadows serve 4-level guests
    if (type < 0 || type > 3 || pcid < 0 || pcid > 0xFFF || (type == 0 && !canonical)
        || (type <= 1 && pcid != 0 && !pcide)) {
      return Fault.of(FaultKind.GENERAL_PROTECTION, 0);
    }
    if (type == 0) {
      cpu.invlpg(la);
    } else {
      cpu.flushAll();
    }
    return 0;
  }

  /**
   * The fault the guest saw in the last {@link #read}, {@link #write} or {@link #fetch}, or 0.
   *
   * @return a negative {@link Fault}, or 0
   */
  public long lastFault() {
    return lastFault;
  }

  /**
   * Whether the guest runs in kernel mode, as Xen tracks it for a PV vCPU ({@code
   * guest_kernel_mode}: a 64-bit PV kernel runs in ring 3 like its processes, so the processor's
   * U/S bit does not tell them apart). Xen emulates a PV guest's faulting stores (into its page
   * tables, into read-only MMIO) in kernel mode only. Initially true.
   *
   * @param kernel true for the guest kernel, false for a guest process
   */
  public void setGuestKernelMode(boolean kernel) {
    guestKernelMode = kernel;
  }

  /**
   * Whether the guest runs in kernel mode ({@link #setGuestKernelMode}).
   *
   * @return true initially
   */
  public boolean guestKernelMode() {
    return guestKernelMode;
  }

  /**
   * What the hypervisor decided about the last {@link #read}, {@link #write} or {@link #translate}
   * where it met a protected page (a frame in {@code mmio_ro_ranges}, a device-model page), naming
   * the Xen function; null when it decided nothing of the kind (an ordinary access, a fault it
   * passed through untouched).
   *
   * @return the reason, or null
   */
  public AccessReason lastAccessReason() {
    return lastReason;
  }

  /**
   * The code of the {@link org.hvmmu.host.access.AccessOutcome} of {@link #lastAccessReason()}, or
   * 0 when there is none.
   *
   * @return 0 to 11
   */
  public int lastOutcome() {
    AccessReason r = lastReason;
    return r == null ? 0 : r.outcome().code();
  }

  /** The class of the instruction making the current access. */
  InstructionClass instruction() {
    return instruction;
  }

  /** Records the hypervisor's decision about the current access. */
  void recordAccess(AccessReason reason) {
    lastReason = reason;
  }

  /**
   * Gives the current load the value the hypervisor emulated for it.
   *
   * @return {@link FaultHandler#EMULATED_LOAD}
   */
  long completeLoad(long value) {
    emulatedValue = value;
    return FaultHandler.EMULATED_LOAD;
  }

  @Override
  public String toString() {
    return domain + " vcpu " + index;
  }
}
