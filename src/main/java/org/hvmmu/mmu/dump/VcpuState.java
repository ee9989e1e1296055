package org.hvmmu.mmu.dump;

import java.util.Objects;

/**
 * The state of one vCPU as a QEMU ELF core records it in its "QEMU" note ({@code QEMUCPUState}, see
 * {@link QemuCpuStateDescriptor}), plus an EFER that the dump does not hold and that is therefore
 * <em>derived</em>.
 *
 * <p><b>EFER is an assumption, not dump data.</b> {@code QEMUCPUState} has no EFER, so {@link
 * #efer()} is {@link #assumedEfer} of the vCPU's CR0, CR4 and CS and the core's {@code e_machine}:
 *
 * <ul>
 *   <li>0xd01 ({@code SCE | LME | LMA | NXE}, what 64-bit Linux and Windows run with) when CR0.PG
 *       and CR4.PAE are set and the vCPU is in long mode: CS.L is set (only long mode runs 64-bit
 *       code), or the core's machine is {@code EM_X86_64} (QEMU writes it exactly when the first
 *       vCPU has EFER.LMA; a vCPU in compatibility mode has CS.L clear);
 *   <li>0x800 ({@code NXE}, as 32-bit PAE kernels set it on CPUs with NX) when CR4.PAE is set
 *       otherwise;
 *   <li>0 otherwise.
 * </ul>
 *
 * <p>A guest that runs without NX, or with SCE clear, or a 32-bit PAE guest without NXE, has
 * another EFER: the walk then sees NX bits as reserved or as ignored where the real vCPU did not.
 * Callers that know better pass their own EFER (the command line's {@code --efer}), for example
 * with {@link #withEfer}.
 *
 * @param index the vCPU's position among the core's "QEMU" notes, from 0 (QEMU writes them in CPU
 *     order)
 * @param registers the general-purpose registers
 * @param rip RIP (EIP zero-extended for 32-bit guests)
 * @param rflags RFLAGS
 * @param cs CS
 * @param ds DS
 * @param es ES
 * @param fs FS
 * @param gs GS
 * @param ss SS
 * @param ldt LDTR
 * @param tr TR
 * @param gdt GDTR (base and limit only)
 * @param idt IDTR (base and limit only)
 * @param cr0 CR0
 * @param cr2 CR2
 * @param cr3 CR3
 * @param cr4 CR4
 * @param kernelGsBase the IA32_KERNEL_GS_BASE MSR, or 0 when {@code hasKernelGsBase} is false
 * @param hasKernelGsBase whether the note was large enough to hold {@code kernel_gs_base}
 * @param efer the <em>assumed</em> EFER (see above), or one the caller supplied
 */
public record VcpuState(
    int index,
    GeneralRegisters registers,
    long rip,
    long rflags,
    SegmentRegister cs,
    SegmentRegister ds,
    SegmentRegister es,
    SegmentRegister fs,
    SegmentRegister gs,
    SegmentRegister ss,
    SegmentRegister ldt,
    SegmentRegister tr,
    SegmentRegister gdt,
    SegmentRegister idt,
    long cr0,
    long cr2,
    long cr3,
    long cr4,
    long kernelGsBase,
    boolean hasKernelGsBase,
    long efer) {

  /** CR0.PG, bit 31: paging enabled. */
  public static final long CR0_PG = 1L << 31;

  /** CR4.PAE, bit 5: physical address extension. */
  public static final long CR4_PAE = 1L << 5;

  /** EFER.SCE, bit 0: SYSCALL enable. */
  public static final long EFER_SCE = 1L;

  /** EFER.LME, bit 8: long mode enable. */
  public static final long EFER_LME = 1L << 8;

  /** EFER.LMA, bit 10: long mode active. */
  public static final long EFER_LMA = 1L << 10;

  /** EFER.NXE, bit 11: execute-disable enable. */
  public static final long EFER_NXE = 1L << 11;

  /** The EFER assumed for a vCPU in long mode: SCE, LME, LMA and NXE, 0xd01. */
  public static final long LONG_MODE_EFER = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;

  /** The EFER assumed for a vCPU with PAE paging outside long mode: NXE, 0x800. */
  public static final long PAE_EFER = EFER_NXE;

  /**
   * Checks the values.
   *
   * @param index as the record component, not negative
   * @param registers as the record component, not null
   * @param rip as the record component
   * @param rflags as the record component
   * @param cs as the record component, not null
   * @param ds as the record component, not null
   * @param es as the record component, not null
   * @param fs as the record component, not null
   * @param gs as the record component, not null
   * @param ss as the record component, not null
   * @param ldt as the record component, not null
   * @param tr as the record component, not null
   * @param gdt as the record component, not null
   * @param idt as the record component, not null
   * @param cr0 as the record component
   * @param cr2 as the record component
   * @param cr3 as the record component
   * @param cr4 as the record component
   * @param kernelGsBase as the record component
   * @param hasKernelGsBase as the record component
   * @param efer as the record component
   * @throws IllegalArgumentException if {@code index} is negative
   */
  public VcpuState {
    if (index < 0) {
      throw new IllegalArgumentException("index: " + index + " (expected: >= 0)");
    }
    Objects.requireNonNull(registers, "registers");
    Objects.requireNonNull(cs, "cs");
    Objects.requireNonNull(ds, "ds");
    Objects.requireNonNull(es, "es");
    Objects.requireNonNull(fs, "fs");
    Objects.requireNonNull(gs, "gs");
    Objects.requireNonNull(ss, "ss");
    Objects.requireNonNull(ldt, "ldt");
    Objects.requireNonNull(tr, "tr");
    Objects.requireNonNull(gdt, "gdt");
    Objects.requireNonNull(idt, "idt");
  }

  /**
   * RSP, the stack pointer.
   *
   * @return {@code registers().rsp()}
   */
  public long rsp() {
    return registers.rsp();
  }

  /**
   * Whether {@link #efer()} has LMA set: the vCPU is taken to be in long mode.
   *
   * @return {@code (efer & EFER_LMA) != 0}
   */
  public boolean longMode() {
    return (efer & EFER_LMA) != 0;
  }

  /**
   * This state with another EFER, for callers that know the guest's real EFER.
   *
   * @param newEfer the EFER
   * @return a copy with {@code efer} replaced
   */
  public VcpuState withEfer(long newEfer) {
    return new VcpuState(
        index,
        registers,
        rip,
        rflags,
        cs,
        ds,
        es,
        fs,
        gs,
        ss,
        ldt,
        tr,
        gdt,
        idt,
        cr0,
        cr2,
        cr3,
        cr4,
        kernelGsBase,
        hasKernelGsBase,
        newEfer);
  }

  /**
   * The EFER assumed for a vCPU of a QEMU core, which records no EFER; see the class comment.
   *
   * <pre>{@code
   * assumedEfer(ElfMachine.X86_64, 0x80050033, 0x3606f0, 0x00a09b00);   // 0xd01, long mode
   * assumedEfer(ElfMachine.I386, 0x80050033, 0x6f0, 0x00cf9b00);        // 0x800, PAE
   * assumedEfer(ElfMachine.I386, 0x80050033, 0x690, 0x00cf9b00);        // 0, 32-bit paging
   * }</pre>
   *
   * @param machine the core's {@code e_machine}
   * @param cr0 the vCPU's CR0
   * @param cr4 the vCPU's CR4
   * @param csFlags the vCPU's CS attributes ({@link SegmentRegister#flags()})
   * @return {@link #LONG_MODE_EFER}, {@link #PAE_EFER} or 0
   */
  public static long assumedEfer(ElfMachine machine, long cr0, long cr4, int csFlags) {
    boolean pae = (cr4 & CR4_PAE) != 0;
    boolean paging = (cr0 & CR0_PG) != 0;
    boolean longMode =
        paging && pae && ((csFlags & SegmentRegister.FLAG_L) != 0 || machine == ElfMachine.X86_64);
    if (longMode) {
      return LONG_MODE_EFER;
    }
    return pae ? PAE_EFER : 0;
  }
}
