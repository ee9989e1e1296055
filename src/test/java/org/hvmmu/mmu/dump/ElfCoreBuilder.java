package org.hvmmu.mmu.dump;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small x86 ELF cores byte by byte, the way QEMU's dump.c lays them out (header, program
 * headers with the PT_NOTE first, the notes, then the segment data), independently of the reader
 * under test: every offset here comes from the ELF specification and QEMU's arch_dump.c, not from
 * the main code.
 */
final class ElfCoreBuilder {
  static final int EM_386 = 3;
  static final int EM_X86_64 = 62;
  static final int PT_NULL = 0;
  static final int PT_LOAD = 1;
  static final int PT_NOTE = 4;

  private final boolean elf64;
  private final int machine;
  private final ByteArrayOutputStream notes = new ByteArrayOutputStream();
  private final List<long[]> loads = new ArrayList<>(); // paddr, memsz, data index
  private final List<byte[]> loadData = new ArrayList<>();
  private int otherSegments;
  private boolean noteSegment;
  private long[] loadOffsets;

  ElfCoreBuilder(boolean elf64, int machine) {
    this.elf64 = elf64;
    this.machine = machine;
  }

  int headerSize() {
    return elf64 ? 64 : 52;
  }

  int phdrSize() {
    return elf64 ? 56 : 32;
  }

  /**
   * The field offsets in a program header: p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz.
   */
  int pOffset() {
    return elf64 ? 8 : 4;
  }

  int pPaddr() {
    return elf64 ? 24 : 12;
  }

  int pFilesz() {
    return elf64 ? 32 : 16;
  }

  int pMemsz() {
    return elf64 ? 40 : 20;
  }

  int ePhnum() {
    return elf64 ? 56 : 44;
  }

  int ePhoff() {
    return elf64 ? 32 : 28;
  }

  int ePhentsize() {
    return elf64 ? 54 : 42;
  }

  /** Appends a note: 12-byte header, name with NUL padded to 4, descriptor padded to 4. */
  ElfCoreBuilder note(String name, int type, byte[] desc) {
    byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.US_ASCII);
    return rawNote(nameBytes.length, desc.length, type, nameBytes, desc);
  }

  /** Appends a note whose header sizes are given independently of the bytes that follow. */
  ElfCoreBuilder rawNote(long namesz, long descsz, int type, byte[] name, byte[] desc) {
    noteSegment = true;
    ByteBuffer h = le(12);
    h.putInt((int) namesz).putInt((int) descsz).putInt(type);
    notes.writeBytes(h.array());
    notes.writeBytes(name);
    notes.writeBytes(new byte[pad4(name.length)]);
    notes.writeBytes(desc);
    notes.writeBytes(new byte[pad4(desc.length)]);
    return this;
  }

  /** Appends raw bytes to the note segment. */
  ElfCoreBuilder noteBytes(byte[] bytes) {
    noteSegment = true;
    notes.writeBytes(bytes);
    return this;
  }

  ElfCoreBuilder load(long paddr, byte[] data) {
    return load(paddr, data, data.length);
  }

  ElfCoreBuilder load(long paddr, byte[] data, long memsz) {
    loads.add(new long[] {paddr, memsz});
    loadData.add(data);
    return this;
  }

  /** Adds a PT_NULL program header (readers skip it). */
  ElfCoreBuilder nullSegment() {
    otherSegments++;
    return this;
  }

  int phnum() {
    return (noteSegment ? 1 : 0) + otherSegments + loads.size();
  }

  /** The program header index of load {@code k}. */
  int loadIndex(int k) {
    return (noteSegment ? 1 : 0) + otherSegments + k;
  }

  /** The file offset of program header {@code index}. */
  int phdrOffset(int index) {
    return headerSize() + index * phdrSize();
  }

  int noteOffset() {
    return headerSize() + phnum() * phdrSize();
  }

  /** The file offset of load {@code k}'s data, valid after {@link #build}. */
  long loadOffset(int k) {
    return loadOffsets[k];
  }

  byte[] build() {
    int phnum = phnum();
    ByteBuffer out =
        le(noteOffset() + notes.size() + loadData.stream().mapToInt(d -> d.length).sum());
    // e_ident
    out.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) (elf64 ? 2 : 1), 1, 1, 0});
    out.put(new byte[8]);
    out.putShort((short) 4); // e_type ET_CORE
    out.putShort((short) machine);
    out.putInt(1); // e_version
    if (elf64) {
      out.putLong(0).putLong(64).putLong(0); // e_entry, e_phoff, e_shoff
    } else {
      out.putInt(0).putInt(52).putInt(0);
    }
    out.putInt(0); // e_flags
    out.putShort((short) 8); // e_ehsize: QEMU 7.2 writes sizeof(pointer)
    out.putShort((short) phdrSize());
    out.putShort((short) phnum);
    out.putShort((short) (elf64 ? 64 : 40)); // e_shentsize
    out.putShort((short) 0); // e_shnum
    out.putShort((short) 0); // e_shstrndx
    long offset = noteOffset();
    if (noteSegment) {
      phdr(out, PT_NOTE, offset, 0, 0, notes.size(), notes.size());
      offset += notes.size();
    }
    for (int i = 0; i < otherSegments; i++) {
      phdr(out, PT_NULL, 0, 0, 0, 0, 0);
    }
    loadOffsets = new long[loads.size()];
    for (int k = 0; k < loads.size(); k++) {
      loadOffsets[k] = offset;
      phdr(out, PT_LOAD, offset, 0, loads.get(k)[0], loadData.get(k).length, loads.get(k)[1]);
      offset += loadData.get(k).length;
    }
    out.put(notes.toByteArray());
    for (byte[] data : loadData) {
      out.put(data);
    }
    return out.array();
  }

  private void phdr(
      ByteBuffer out, int type, long offset, long vaddr, long paddr, long filesz, long memsz) {
    if (elf64) {
      out.putInt(type).putInt(4); // p_type, p_flags
      out.putLong(offset).putLong(vaddr).putLong(paddr).putLong(filesz).putLong(memsz);
      out.putLong(0); // p_align
    } else {
      out.putInt(type).putInt((int) offset).putInt((int) vaddr).putInt((int) paddr);
      out.putInt((int) filesz).putInt((int) memsz).putInt(4).putInt(0);
    }
  }

  // ---- descriptors ------------------------------------------------------------------------------

  /**
   * A QEMUCPUState (target/i386/arch_dump.c): u32 version, u32 size, 16 u64 registers (rax, rbx,
   * rcx, rdx, rsi, rdi, rsp, rbp, r8-r15), u64 rip, u64 rflags, 10 segments {u32 selector, u32
   * limit, u32 flags, u32 pad, u64 base} (cs, ds, es, fs, gs, ss, ldt, tr, gdt, idt), u64 cr[5],
   * u64 kernel_gs_base.
   */
  static final class CpuState {
    int version = 1;
    int size = 0x1b8;
    int descsz = -1;
    final long[] gprs = new long[16];
    long rip;
    long rflags;
    final int[] selector = new int[10];
    final int[] limit = new int[10];
    final int[] flags = new int[10];
    final long[] base = new long[10];
    final long[] cr = new long[5];
    long kernelGsBase;

    /** Every field a different value, derived from {@code vcpu} and the field's position. */
    static CpuState distinct(int vcpu) {
      CpuState s = new CpuState();
      long tag = (vcpu + 1L) << 56;
      for (int i = 0; i < 16; i++) {
        s.gprs[i] = tag | 0x0010_0000_0000L | i;
      }
      s.rip = tag | 0x0020_0000_0000L;
      s.rflags = 0x246 + vcpu;
      for (int i = 0; i < 10; i++) {
        s.selector[i] = 0x100 * (vcpu + 1) + i;
        s.limit[i] = 0xf000_0000 | (vcpu << 8) | i;
        s.flags[i] = 0x0000_9300 | (vcpu << 4) | i;
        s.base[i] = tag | 0x0030_0000_0000L | i;
      }
      s.cr[0] = 0x8005_0033L;
      s.cr[1] = tag | 0x0040_0000_0001L;
      s.cr[2] = tag | 0x0040_0000_0002L;
      s.cr[3] = tag | 0x0040_0000_3000L;
      s.cr[4] = 0x0036_06f0L;
      s.kernelGsBase = tag | 0x0050_0000_0000L;
      return s;
    }

    byte[] bytes() {
      int length = descsz >= 0 ? descsz : size;
      ByteBuffer b = le(Math.max(length, 0x1b8));
      b.putInt(version).putInt(size);
      for (long g : gprs) {
        b.putLong(g);
      }
      b.putLong(rip).putLong(rflags);
      for (int i = 0; i < 10; i++) {
        b.putInt(selector[i]).putInt(limit[i]).putInt(flags[i]).putInt(0).putLong(base[i]);
      }
      for (long c : cr) {
        b.putLong(c);
      }
      b.putLong(kernelGsBase);
      byte[] all = b.array();
      byte[] out = new byte[length];
      System.arraycopy(all, 0, out, 0, Math.min(length, all.length));
      return out;
    }
  }

  /** An NT_PRSTATUS descriptor of the x86_64 layout (336 bytes) with pr_pid at 32. */
  static byte[] prstatus64(int pid) {
    ByteBuffer b = le(336);
    b.putInt(32, pid);
    return b.array();
  }

  /** An NT_PRSTATUS descriptor of the i386 layout (144 bytes) with pr_pid at 24. */
  static byte[] prstatus32(int pid) {
    ByteBuffer b = le(144);
    b.putInt(24, pid);
    return b.array();
  }

  // ---- byte patching ----------------------------------------------------------------------------

  static ByteBuffer le(int size) {
    return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
  }

  static void putU16(byte[] bytes, int at, int value) {
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putShort(at, (short) value);
  }

  static void putU32(byte[] bytes, int at, long value) {
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(at, (int) value);
  }

  static void putU64(byte[] bytes, int at, long value) {
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(at, value);
  }

  /** Writes an address field: 4 bytes in ELFCLASS32, 8 in ELFCLASS64. */
  void putWord(byte[] bytes, int at, long value) {
    if (elf64) {
      putU64(bytes, at, value);
    } else {
      putU32(bytes, at, value);
    }
  }

  static byte[] pattern(int length, int seed) {
    byte[] data = new byte[length];
    for (int i = 0; i < length; i++) {
      data[i] = (byte) (1 + (i * 7 + seed) % 251);
    }
    return data;
  }

  private static int pad4(int n) {
    return (4 - (n & 3)) & 3;
  }
}
