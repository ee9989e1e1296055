package org.hvmmu.mmu.dump;

/**
 * The layout of {@code QEMUCPUState}, the descriptor of the "QEMU" note (type 0) that QEMU's {@code
 * dump-guest-memory} writes for each vCPU ({@code qemu_get_cpustate} and {@code
 * cpu_write_qemu_note} in {@code target/i386/arch_dump.c}). All fields are little-endian; the
 * struct is the same in ELFCLASS32 and ELFCLASS64 cores.
 *
 * <pre>
 *   0x000  u32 version             (1, {@code QEMUCPUSTATE_VERSION})
 *   0x004  u32 size                (sizeof(QEMUCPUState): 0x1b0 before kernel_gs_base, 0x1b8 since)
 *   0x008  u64 rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp      (0x008 to 0x040)
 *   0x048  u64 r8 ... r15                                   (0x048 to 0x080)
 *   0x088  u64 rip
 *   0x090  u64 rflags
 *   0x098  QEMUCPUSegment cs, ds, es, fs, gs, ss, ldt, tr, gdt, idt   (0x18 bytes each)
 *            +0x00 u32 selector  +0x04 u32 limit  +0x08 u32 flags  +0x0c u32 pad  +0x10 u64 base
 *   0x188  u64 cr[5]               (cr0 0x188, cr1 0x190, cr2 0x198, cr3 0x1a0, cr4 0x1a8)
 *   0x1b0  u64 kernel_gs_base      (only when size &gt;= 0x1b8)
 * </pre>
 *
 * <p>QEMU keeps the version at 1 and appends optional fields at the end, so readers tell them apart
 * by {@code size}; a different version would mean a different layout.
 */
public final class QemuCpuStateDescriptor {
  private QemuCpuStateDescriptor() {}

  /** The note name, without its terminating NUL ({@code n_namesz} is 5). */
  public static final String NOTE_NAME = "QEMU";

  /** The note type ({@code n_type}). */
  public static final int NOTE_TYPE = 0;

  /** The only version whose layout is known. */
  public static final int VERSION = 1;

  /** Offset of the u32 version. */
  public static final int VERSION_OFFSET = 0x000;

  /** Offset of the u32 size. */
  public static final int SIZE_OFFSET = 0x004;

  /** Offset of the sixteen u64 general registers, in the order of {@link GeneralRegisters}. */
  public static final int GENERAL_REGISTERS_OFFSET = 0x008;

  /** Offset of the u64 RIP. */
  public static final int RIP_OFFSET = 0x088;

  /** Offset of the u64 RFLAGS. */
  public static final int RFLAGS_OFFSET = 0x090;

  /** Offset of the first segment (CS); ds, es, fs, gs, ss, ldt, tr, gdt and idt follow. */
  public static final int SEGMENTS_OFFSET = 0x098;

  /** Size of one {@code QEMUCPUSegment}. */
  public static final int SEGMENT_SIZE = 0x18;

  /** Offset within a segment of the u32 selector. */
  public static final int SEGMENT_SELECTOR_OFFSET = 0x00;

  /** Offset within a segment of the u32 limit. */
  public static final int SEGMENT_LIMIT_OFFSET = 0x04;

  /** Offset within a segment of the u32 flags. */
  public static final int SEGMENT_FLAGS_OFFSET = 0x08;

  /** Offset within a segment of the u64 base. */
  public static final int SEGMENT_BASE_OFFSET = 0x10;

  /** Index of CS among the segments. */
  public static final int CS = 0;

  /** Index of DS among the segments. */
  public static final int DS = 1;

  /** Index of ES among the segments. */
  public static final int ES = 2;

  /** Index of FS among the segments. */
  public static final int FS = 3;

  /** Index of GS among the segments. */
  public static final int GS = 4;

  /** Index of SS among the segments. */
  public static final int SS = 5;

  /** Index of LDTR among the segments. */
  public static final int LDT = 6;

  /** Index of TR among the segments. */
  public static final int TR = 7;

  /** Index of GDTR among the segments. */
  public static final int GDT = 8;

  /** Index of IDTR among the segments. */
  public static final int IDT = 9;

  /** The number of segments. */
  public static final int SEGMENT_COUNT = 10;

  /** Offset of the u64 {@code cr[0]}; {@code cr[n]} is at {@code CR_OFFSET + 8 * n}. */
  public static final int CR_OFFSET = 0x188;

  /** Offset of the u64 {@code kernel_gs_base}, present when {@code size} is at least 0x1b8. */
  public static final int KERNEL_GS_BASE_OFFSET = 0x1b0;

  /** The smallest size that holds every field up to {@code cr[4]}: version 1 as first released. */
  public static final int MIN_SIZE = 0x1b0;

  /** The smallest size that holds {@code kernel_gs_base}, which newer QEMUs append. */
  public static final int SIZE_WITH_KERNEL_GS_BASE = 0x1b8;

  /**
   * The offset of segment {@code index} ({@link #CS} to {@link #IDT}).
   *
   * @param index the segment's index
   * @return {@code SEGMENTS_OFFSET + index * SEGMENT_SIZE}
   */
  public static int segmentOffset(int index) {
    return SEGMENTS_OFFSET + index * SEGMENT_SIZE;
  }

  /**
   * The offset of {@code cr[n]}.
   *
   * @param n 0 to 4
   * @return {@code CR_OFFSET + 8 * n}
   */
  public static int crOffset(int n) {
    return CR_OFFSET + 8 * n;
  }
}
