package org.hvmmu.mmu.dump;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.hvmmu.mmu.memory.PhysicalMemory;

/**
 * Reads the ELF cores of QEMU's {@code dump-guest-memory} (plain ELF, not kdump) and of libvirt's
 * {@code virsh dump --memory-only}, which uses the same writer: ELFCLASS32 or ELFCLASS64,
 * little-endian, {@code ET_CORE}, {@code EM_386} or {@code EM_X86_64}.
 *
 * <p>Every offset, size and count is checked against the file and against MAXPHYADDR before it is
 * used, and every walk is bounded: at most {@link #MAX_PROGRAM_HEADERS} program headers, at most
 * {@link #MAX_NOTE_BYTES} bytes of notes, and a note walk that advances by at least a note header
 * each step. Segment data are copied in {@link DumpFile#CHUNK}-byte chunks, never whole.
 */
final class ElfCoreReader {
  private ElfCoreReader() {}

  /** The most program headers read (QEMU writes one per RAM block, plus one PT_NOTE). */
  static final int MAX_PROGRAM_HEADERS = 1 << 16;

  /** The most bytes of PT_NOTE segments read (QEMU writes under 0x400 bytes per vCPU). */
  static final int MAX_NOTE_BYTES = 1 << 24;

  private static final byte[] MAGIC = {0x7f, 'E', 'L', 'F'};
  private static final int EI_NIDENT = 16;
  private static final int EI_CLASS = 4;
  private static final int EI_DATA = 5;
  private static final int EI_VERSION = 6;
  private static final int ELFDATA2LSB = 1;
  private static final int ELFDATA2MSB = 2;
  private static final int EV_CURRENT = 1;
  private static final int ET_CORE = 4;
  private static final int PT_LOAD = 1;
  private static final int PT_NOTE = 4;

  /** e_phnum value meaning "the count is in section header 0's sh_info". */
  private static final int PN_XNUM = 0xffff;

  private static final int NT_PRSTATUS = 1;
  private static final String CORE_NOTE_NAME = "CORE";
  private static final int NOTE_HEADER_SIZE = 12;

  /**
   * Whether {@code bytes} start with the ELF magic {@code 7f 45 4c 46}.
   *
   * @param bytes the first bytes of a file (fewer than four never match)
   * @param length how many of them are valid
   * @return whether they are an ELF magic
   */
  static boolean hasMagic(byte[] bytes, int length) {
    return length >= MAGIC.length && Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
  }

  /**
   * Reads an ELF core.
   *
   * @param file the open file
   * @param options MAXPHYADDR and frame budget of the memory created
   * @return the dump
   * @throws DumpFormatException if the file is not a well-formed core that fits the options
   */
  static GuestDump read(DumpFile file, DumpOptions options) {
    Header header = readHeader(file);
    List<ProgramHeader> headers = readProgramHeaders(file, header);
    List<LoadSegment> segments = new ArrayList<>();
    long noteBytes = 0;
    for (ProgramHeader ph : headers) {
      if (ph.type == PT_LOAD) {
        checkLoad(file, header, ph, options.maxPhyAddr());
        segments.add(new LoadSegment(ph.paddr, ph.vaddr, ph.offset, ph.filesz, ph.memsz));
      } else if (ph.type == PT_NOTE) {
        checkFileRange(file, header, ph, "PT_NOTE");
        noteBytes += ph.filesz;
        if (noteBytes > MAX_NOTE_BYTES) {
          throw new DumpFormatException(
              file.name(),
              ph.fieldOffset(header.layout.pFilesz),
              "segment "
                  + ph.index
                  + " (PT_NOTE): notes total more than 0x"
                  + Integer.toHexString(MAX_NOTE_BYTES)
                  + " bytes (expected: at most 0x"
                  + Integer.toHexString(MAX_NOTE_BYTES)
                  + ", about 0x400 per vCPU)");
        }
      }
    }
    Notes notes = new Notes();
    for (ProgramHeader ph : headers) {
      if (ph.type == PT_NOTE && ph.filesz > 0) {
        byte[] data = new byte[(int) ph.filesz];
        file.readFully(ph.offset, data, 0, data.length, "segment " + ph.index + " (PT_NOTE) data");
        readNotes(file, header.machine, ph, data, notes);
      }
    }
    PhysicalMemory memory = new PhysicalMemory(options.maxPhyAddr(), options.frameBudget());
    addRam(memory, segments);
    for (ProgramHeader ph : headers) {
      if (ph.type == PT_LOAD) {
        file.copyTo(memory, ph.offset, ph.paddr, ph.filesz, "segment " + ph.index + " (PT_LOAD)");
      }
    }
    return new GuestDump(
        file.path(),
        DumpFormat.ELF_CORE,
        file.compressed(),
        header.elfClass,
        header.machine,
        memory,
        segments,
        notes.vcpus,
        notes.prstatus);
  }

  // ---- the ELF header ---------------------------------------------------------------------------

  /** Where the fields of the header and of a program header are, for one class. */
  private static final class Layout {
    static final Layout ELF32 =
        new Layout(ElfClass.ELF32, 52, 28, 32, 42, 44, 46, 40, 28, 32, 4, 8, 12, 16, 20);
    static final Layout ELF64 =
        new Layout(ElfClass.ELF64, 64, 32, 40, 54, 56, 58, 64, 44, 56, 8, 16, 24, 32, 40);

    final ElfClass elfClass;
    final int headerSize;
    final int ePhoff;
    final int eShoff;
    final int ePhentsize;
    final int ePhnum;
    final int eShentsize;
    final int shdrSize;
    final int shInfo;
    final int phdrSize;
    final int pOffset;
    final int pVaddr;
    final int pPaddr;
    final int pFilesz;
    final int pMemsz;

    Layout(
        ElfClass elfClass,
        int headerSize,
        int ePhoff,
        int eShoff,
        int ePhentsize,
        int ePhnum,
        int eShentsize,
        int shdrSize,
        int shInfo,
        int phdrSize,
        int pOffset,
        int pVaddr,
        int pPaddr,
        int pFilesz,
        int pMemsz) {
      this.elfClass = elfClass;
      this.headerSize = headerSize;
      this.ePhoff = ePhoff;
      this.eShoff = eShoff;
      this.ePhentsize = ePhentsize;
      this.ePhnum = ePhnum;
      this.eShentsize = eShentsize;
      this.shdrSize = shdrSize;
      this.shInfo = shInfo;
      this.phdrSize = phdrSize;
      this.pOffset = pOffset;
      this.pVaddr = pVaddr;
      this.pPaddr = pPaddr;
      this.pFilesz = pFilesz;
      this.pMemsz = pMemsz;
    }

    boolean wide() {
      return elfClass == ElfClass.ELF64;
    }

    String phdrName() {
      return wide() ? "Elf64_Phdr" : "Elf32_Phdr";
    }
  }

  private static final class Header {
    final Layout layout;
    final ElfClass elfClass;
    final ElfMachine machine;
    final long phoff;
    final int phnum;

    Header(Layout layout, ElfMachine machine, long phoff, int phnum) {
      this.layout = layout;
      this.elfClass = layout.elfClass;
      this.machine = machine;
      this.phoff = phoff;
      this.phnum = phnum;
    }
  }

  private static Header readHeader(DumpFile file) {
    String name = file.name();
    if (file.size() < EI_NIDENT) {
      throw new DumpFormatException(
          name,
          0,
          "truncated ELF identification: the file has 0x"
              + Long.toHexString(file.size())
              + " bytes (expected: at least 0x10)");
    }
    byte[] ident = new byte[EI_NIDENT];
    file.readFully(0, ident, 0, EI_NIDENT, "e_ident");
    if (!hasMagic(ident, EI_NIDENT)) {
      throw new DumpFormatException(
          name, 0, "not an ELF file: magic " + hexBytes(ident, 4) + " (expected: 7f 45 4c 46)");
    }
    int elfClass = ident[EI_CLASS] & 0xff;
    if (elfClass != ElfClass.ELF32.code() && elfClass != ElfClass.ELF64.code()) {
      throw new DumpFormatException(
          name,
          EI_CLASS,
          "EI_CLASS 0x"
              + Integer.toHexString(elfClass)
              + " (expected: 1 ELFCLASS32 or 2 ELFCLASS64)");
    }
    int data = ident[EI_DATA] & 0xff;
    if (data == ELFDATA2MSB) {
      throw new DumpFormatException(
          name,
          EI_DATA,
          "EI_DATA 2, a big-endian ELF file"
              + " (expected: 1 ELFDATA2LSB; x86 cores are little-endian)");
    }
    if (data != ELFDATA2LSB) {
      throw new DumpFormatException(
          name, EI_DATA, "EI_DATA 0x" + Integer.toHexString(data) + " (expected: 1 ELFDATA2LSB)");
    }
    int identVersion = ident[EI_VERSION] & 0xff;
    if (identVersion != EV_CURRENT) {
      throw new DumpFormatException(
          name,
          EI_VERSION,
          "EI_VERSION 0x" + Integer.toHexString(identVersion) + " (expected: 1 EV_CURRENT)");
    }
    Layout layout = elfClass == ElfClass.ELF64.code() ? Layout.ELF64 : Layout.ELF32;
    if (file.size() < layout.headerSize) {
      throw new DumpFormatException(
          name,
          0,
          "truncated ELF header: the file has 0x"
              + Long.toHexString(file.size())
              + " bytes (expected: at least 0x"
              + Integer.toHexString(layout.headerSize)
              + " for an "
              + layout.elfClass
              + " header)");
    }
    byte[] bytes = new byte[layout.headerSize];
    file.readFully(0, bytes, 0, bytes.length, "the ELF header");
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int type = u16(b, 16);
    if (type != ET_CORE) {
      throw new DumpFormatException(
          name,
          16,
          "e_type 0x" + Integer.toHexString(type) + " (expected: 4 ET_CORE, a core file)");
    }
    int machineCode = u16(b, 18);
    if (machineCode != ElfMachine.I386.code() && machineCode != ElfMachine.X86_64.code()) {
      throw new DumpFormatException(
          name,
          18,
          "e_machine 0x"
              + Integer.toHexString(machineCode)
              + " (expected: 3 EM_386 or 0x3e EM_X86_64)");
    }
    long version = u32(b, 20);
    if (version != EV_CURRENT) {
      throw new DumpFormatException(
          name, 20, "e_version 0x" + Long.toHexString(version) + " (expected: 1 EV_CURRENT)");
    }
    // e_ehsize is not checked: QEMU 7.2 writes sizeof(pointer), 8, there (dump.c
    // prepare_elf*_header).
    long phoff = word(b, layout, layout.ePhoff);
    int phentsize = u16(b, layout.ePhentsize);
    if (phentsize != layout.phdrSize) {
      throw new DumpFormatException(
          name,
          layout.ePhentsize,
          "e_phentsize 0x"
              + Integer.toHexString(phentsize)
              + " (expected: 0x"
              + Integer.toHexString(layout.phdrSize)
              + ", the size of an "
              + layout.phdrName()
              + ")");
    }
    long phnum = u16(b, layout.ePhnum);
    if (phnum == PN_XNUM) {
      phnum = extendedPhnum(file, layout, b);
    }
    if (phnum == 0) {
      throw new DumpFormatException(
          name, layout.ePhnum, "e_phnum 0: no program headers (expected: at least one PT_LOAD)");
    }
    if (phnum > MAX_PROGRAM_HEADERS) {
      throw new DumpFormatException(
          name,
          layout.ePhnum,
          "0x"
              + Long.toHexString(phnum)
              + " program headers (expected: at most 0x"
              + Integer.toHexString(MAX_PROGRAM_HEADERS)
              + ")");
    }
    long tableSize = phnum * layout.phdrSize;
    if (Long.compareUnsigned(phoff, file.size()) > 0 || tableSize > file.size() - phoff) {
      throw new DumpFormatException(
          name,
          layout.ePhoff,
          "the program header table at e_phoff 0x"
              + Long.toHexString(phoff)
              + " with 0x"
              + Long.toHexString(phnum)
              + " entries of 0x"
              + Integer.toHexString(layout.phdrSize)
              + " bytes ends beyond the end of the file at 0x"
              + Long.toHexString(file.size())
              + " (expected: within the file)");
    }
    return new Header(layout, ElfMachine.fromCode(machineCode), phoff, (int) phnum);
  }

  /** The program header count of a core with more than 0xfffe: section header 0's sh_info. */
  private static long extendedPhnum(DumpFile file, Layout layout, ByteBuffer header) {
    String name = file.name();
    long shoff = word(header, layout, layout.eShoff);
    int shentsize = u16(header, layout.eShentsize);
    if (shoff == 0 || shentsize != layout.shdrSize) {
      throw new DumpFormatException(
          name,
          layout.ePhnum,
          "e_phnum is PN_XNUM (0xffff) but e_shoff"
              + " is 0x"
              + Long.toHexString(shoff)
              + " and e_shentsize 0x"
              + Integer.toHexString(shentsize)
              + " (expected: a section header 0 of 0x"
              + Integer.toHexString(layout.shdrSize)
              + " bytes holding the count in sh_info)");
    }
    if (Long.compareUnsigned(shoff, file.size()) > 0 || layout.shdrSize > file.size() - shoff) {
      throw new DumpFormatException(
          name,
          layout.eShoff,
          "section header 0 at e_shoff 0x"
              + Long.toHexString(shoff)
              + " ends beyond the end of the file at 0x"
              + Long.toHexString(file.size())
              + " (expected: within the file, since e_phnum is"
              + " PN_XNUM)");
    }
    byte[] section = new byte[layout.shdrSize];
    file.readFully(shoff, section, 0, section.length, "section header 0");
    return u32(ByteBuffer.wrap(section).order(ByteOrder.LITTLE_ENDIAN), layout.shInfo);
  }

  // ---- program headers --------------------------------------------------------------------------

  private static final class ProgramHeader {
    final int index;
    final long entryOffset;
    final long type;
    final long offset;
    final long vaddr;
    final long paddr;
    final long filesz;
    final long memsz;

    ProgramHeader(
        int index,
        long entryOffset,
        long type,
        long offset,
        long vaddr,
        long paddr,
        long filesz,
        long memsz) {
      this.index = index;
      this.entryOffset = entryOffset;
      this.type = type;
      this.offset = offset;
      this.vaddr = vaddr;
      this.paddr = paddr;
      this.filesz = filesz;
      this.memsz = memsz;
    }

    long fieldOffset(int field) {
      return entryOffset + field;
    }
  }

  private static List<ProgramHeader> readProgramHeaders(DumpFile file, Header header) {
    Layout layout = header.layout;
    byte[] table = new byte[header.phnum * layout.phdrSize];
    file.readFully(header.phoff, table, 0, table.length, "the program header table");
    ByteBuffer b = ByteBuffer.wrap(table).order(ByteOrder.LITTLE_ENDIAN);
    List<ProgramHeader> headers = new ArrayList<>(header.phnum);
    for (int i = 0; i < header.phnum; i++) {
      int at = i * layout.phdrSize;
      headers.add(
          new ProgramHeader(
              i,
              header.phoff + at,
              u32(b, at),
              word(b, layout, at + layout.pOffset),
              word(b, layout, at + layout.pVaddr),
              word(b, layout, at + layout.pPaddr),
              word(b, layout, at + layout.pFilesz),
              word(b, layout, at + layout.pMemsz)));
    }
    return headers;
  }

  private static void checkLoad(DumpFile file, Header header, ProgramHeader ph, int maxPhyAddr) {
    Layout layout = header.layout;
    if (Long.compareUnsigned(ph.filesz, ph.memsz) > 0) {
      throw new DumpFormatException(
          file.name(),
          ph.fieldOffset(layout.pFilesz),
          "segment "
              + ph.index
              + " (PT_LOAD): p_filesz 0x"
              + Long.toHexString(ph.filesz)
              + " exceeds p_memsz 0x"
              + Long.toHexString(ph.memsz)
              + " (expected: p_filesz <= p_memsz)");
    }
    checkFileRange(file, header, ph, "PT_LOAD");
    long limit = 1L << maxPhyAddr;
    if (ph.memsz != 0
        && (Long.compareUnsigned(ph.paddr, limit) >= 0
            || Long.compareUnsigned(ph.memsz, limit - ph.paddr) > 0)) {
      throw new DumpFormatException(
          file.name(),
          ph.fieldOffset(layout.pPaddr),
          "segment "
              + ph.index
              + " (PT_LOAD): p_paddr 0x"
              + Long.toHexString(ph.paddr)
              + " + p_memsz 0x"
              + Long.toHexString(ph.memsz)
              + " reaches beyond MAXPHYADDR "
              + maxPhyAddr
              + " (expected: p_paddr + p_memsz <= 0x"
              + Long.toHexString(limit)
              + ")");
    }
  }

  private static void checkFileRange(DumpFile file, Header header, ProgramHeader ph, String kind) {
    if (ph.filesz != 0
        && (Long.compareUnsigned(ph.filesz, file.size()) > 0
            || Long.compareUnsigned(ph.offset, file.size() - ph.filesz) > 0)) {
      throw new DumpFormatException(
          file.name(),
          ph.fieldOffset(header.layout.pOffset),
          "segment "
              + ph.index
              + " ("
              + kind
              + "): p_offset 0x"
              + Long.toHexString(ph.offset)
              + " + p_filesz 0x"
              + Long.toHexString(ph.filesz)
              + " reaches beyond the end of the file"
              + " at 0x"
              + Long.toHexString(file.size())
              + " (expected: p_offset + p_filesz <= 0x"
              + Long.toHexString(file.size())
              + ")");
    }
  }

  // ---- memory -----------------------------------------------------------------------------------

  /**
   * Makes the frames of every segment RAM. Segments may share frames (QEMU's RAM blocks need not be
   * page-aligned, and dumps with paging map frames more than once), while {@link PhysicalMemory}
   * refuses overlapping regions: so the inclusive frame ranges are merged first, overlapping and
   * adjacent ones alike.
   */
  private static void addRam(PhysicalMemory memory, List<LoadSegment> segments) {
    List<long[]> ranges = new ArrayList<>();
    for (LoadSegment segment : segments) {
      if (segment.memorySize() != 0) {
        ranges.add(new long[] {segment.firstFrame(), segment.lastFrame()});
      }
    }
    ranges.sort(Comparator.comparingLong(r -> r[0]));
    long[] current = null;
    for (long[] range : ranges) {
      if (current != null && range[0] <= current[1] + 1) {
        current[1] = Math.max(current[1], range[1]);
        continue;
      }
      if (current != null) {
        memory.addRam(current[0], current[1]);
      }
      current = range;
    }
    if (current != null) {
      memory.addRam(current[0], current[1]);
    }
  }

  // ---- notes ------------------------------------------------------------------------------------

  private static final class Notes {
    final List<VcpuState> vcpus = new ArrayList<>();
    int prstatus;
  }

  private static void readNotes(
      DumpFile file, ElfMachine machine, ProgramHeader ph, byte[] data, Notes notes) {
    ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    long at = 0;
    int index = 0;
    while (at < data.length) {
      long base = ph.offset + at;
      if (data.length - at < NOTE_HEADER_SIZE) {
        if (allZero(data, (int) at)) {
          return; // zero padding at the end of the segment
        }
        throw new DumpFormatException(
            file.name(),
            base,
            "segment "
                + ph.index
                + " (PT_NOTE) note "
                + index
                + ": 0x"
                + Long.toHexString(data.length - at)
                + " bytes left (expected: a 0xc-byte note header, or zero padding)");
      }
      int i = (int) at;
      long namesz = u32(b, i);
      long descsz = u32(b, i + 4);
      long type = u32(b, i + 8);
      long nameAt = at + NOTE_HEADER_SIZE;
      long descAt = nameAt + align4(namesz);
      long end = descAt + descsz;
      if (end > data.length) {
        throw new DumpFormatException(
            file.name(),
            base,
            "segment "
                + ph.index
                + " (PT_NOTE) note "
                + index
                + ": n_namesz 0x"
                + Long.toHexString(namesz)
                + " and n_descsz 0x"
                + Long.toHexString(descsz)
                + " reach beyond the segment's 0x"
                + Integer.toHexString(data.length)
                + " bytes (expected: the note within p_filesz)");
      }
      String noteName = name(data, (int) nameAt, (int) namesz);
      if (type == QemuCpuStateDescriptor.NOTE_TYPE
          && noteName.equals(QemuCpuStateDescriptor.NOTE_NAME)) {
        notes.vcpus.add(
            qemuState(
                file,
                machine,
                b,
                (int) descAt,
                (int) descsz,
                ph.offset + descAt,
                notes.vcpus.size()));
      } else if (type == NT_PRSTATUS && noteName.equals(CORE_NOTE_NAME)) {
        notes.prstatus++;
      }
      at = Math.min(data.length, descAt + align4(descsz));
      index++;
    }
  }

  private static VcpuState qemuState(
      DumpFile file,
      ElfMachine machine,
      ByteBuffer b,
      int at,
      int descsz,
      long fileOffset,
      int vcpu) {
    String what = "vCPU " + vcpu + " QEMU note: ";
    if (descsz < QemuCpuStateDescriptor.MIN_SIZE) {
      throw new DumpFormatException(
          file.name(),
          fileOffset,
          what
              + "n_descsz 0x"
              + Integer.toHexString(descsz)
              + " is too short for a QEMUCPUState up to cr[4]"
              + " (expected: at least 0x"
              + Integer.toHexString(QemuCpuStateDescriptor.MIN_SIZE)
              + ")");
    }
    long version = u32(b, at + QemuCpuStateDescriptor.VERSION_OFFSET);
    if (version != QemuCpuStateDescriptor.VERSION) {
      throw new DumpFormatException(
          file.name(),
          fileOffset,
          what
              + "QEMUCPUState version 0x"
              + Long.toHexString(version)
              + " (expected: 1, the only layout known)");
    }
    long size = u32(b, at + QemuCpuStateDescriptor.SIZE_OFFSET);
    if (size > descsz) {
      throw new DumpFormatException(
          file.name(),
          fileOffset + QemuCpuStateDescriptor.SIZE_OFFSET,
          what
              + "QEMUCPUState size 0x"
              + Long.toHexString(size)
              + " exceeds n_descsz 0x"
              + Integer.toHexString(descsz)
              + " (expected: size <= n_descsz)");
    }
    if (size < QemuCpuStateDescriptor.MIN_SIZE) {
      throw new DumpFormatException(
          file.name(),
          fileOffset + QemuCpuStateDescriptor.SIZE_OFFSET,
          what
              + "QEMUCPUState size 0x"
              + Long.toHexString(size)
              + " is too short for cr[0..4]"
              + " (expected: at least 0x"
              + Integer.toHexString(QemuCpuStateDescriptor.MIN_SIZE)
              + ")");
    }
    int g = at + QemuCpuStateDescriptor.GENERAL_REGISTERS_OFFSET;
    GeneralRegisters registers =
        new GeneralRegisters(
            b.getLong(g),
            b.getLong(g + 8),
            b.getLong(g + 16),
            b.getLong(g + 24),
            b.getLong(g + 32),
            b.getLong(g + 40),
            b.getLong(g + 48),
            b.getLong(g + 56),
            b.getLong(g + 64),
            b.getLong(g + 72),
            b.getLong(g + 80),
            b.getLong(g + 88),
            b.getLong(g + 96),
            b.getLong(g + 104),
            b.getLong(g + 112),
            b.getLong(g + 120));
    SegmentRegister[] s = new SegmentRegister[QemuCpuStateDescriptor.SEGMENT_COUNT];
    for (int i = 0; i < s.length; i++) {
      int seg = at + QemuCpuStateDescriptor.segmentOffset(i);
      s[i] =
          new SegmentRegister(
              b.getInt(seg + QemuCpuStateDescriptor.SEGMENT_SELECTOR_OFFSET),
              b.getLong(seg + QemuCpuStateDescriptor.SEGMENT_BASE_OFFSET),
              b.getInt(seg + QemuCpuStateDescriptor.SEGMENT_LIMIT_OFFSET),
              b.getInt(seg + QemuCpuStateDescriptor.SEGMENT_FLAGS_OFFSET));
    }
    long cr0 = b.getLong(at + QemuCpuStateDescriptor.crOffset(0));
    long cr2 = b.getLong(at + QemuCpuStateDescriptor.crOffset(2));
    long cr3 = b.getLong(at + QemuCpuStateDescriptor.crOffset(3));
    long cr4 = b.getLong(at + QemuCpuStateDescriptor.crOffset(4));
    boolean hasKernelGsBase = size >= QemuCpuStateDescriptor.SIZE_WITH_KERNEL_GS_BASE;
    long kernelGsBase =
        hasKernelGsBase ? b.getLong(at + QemuCpuStateDescriptor.KERNEL_GS_BASE_OFFSET) : 0;
    SegmentRegister cs = s[QemuCpuStateDescriptor.CS];
    return new VcpuState(
        vcpu,
        registers,
        b.getLong(at + QemuCpuStateDescriptor.RIP_OFFSET),
        b.getLong(at + QemuCpuStateDescriptor.RFLAGS_OFFSET),
        cs,
        s[QemuCpuStateDescriptor.DS],
        s[QemuCpuStateDescriptor.ES],
        s[QemuCpuStateDescriptor.FS],
        s[QemuCpuStateDescriptor.GS],
        s[QemuCpuStateDescriptor.SS],
        s[QemuCpuStateDescriptor.LDT],
        s[QemuCpuStateDescriptor.TR],
        s[QemuCpuStateDescriptor.GDT],
        s[QemuCpuStateDescriptor.IDT],
        cr0,
        cr2,
        cr3,
        cr4,
        kernelGsBase,
        hasKernelGsBase,
        VcpuState.assumedEfer(machine, cr0, cr4, cs.flags()));
  }

  // ---- little-endian fields ---------------------------------------------------------------------

  private static int u16(ByteBuffer b, int at) {
    return b.getShort(at) & 0xffff;
  }

  private static long u32(ByteBuffer b, int at) {
    return b.getInt(at) & 0xffff_ffffL;
  }

  /** An address or size field: 32 bits zero-extended in ELFCLASS32, 64 bits in ELFCLASS64. */
  private static long word(ByteBuffer b, Layout layout, int at) {
    return layout.wide() ? b.getLong(at) : u32(b, at);
  }

  private static long align4(long n) {
    return (n + 3) & ~3L;
  }

  /** The note name: the bytes before the first NUL, as ASCII. */
  private static String name(byte[] data, int at, int length) {
    int n = 0;
    while (n < length && data[at + n] != 0) {
      n++;
    }
    return new String(data, at, n, StandardCharsets.US_ASCII);
  }

  private static boolean allZero(byte[] data, int from) {
    for (int i = from; i < data.length; i++) {
      if (data[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static String hexBytes(byte[] bytes, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        sb.append(' ');
      }
      String h = Integer.toHexString(bytes[i] & 0xff);
      sb.append(h.length() == 1 ? "0" : "").append(h);
    }
    return sb.toString();
  }
}
