package org.hvmmu.mmu.dump;

import static org.hvmmu.mmu.dump.ElfCoreBuilder.EM_386;
import static org.hvmmu.mmu.dump.ElfCoreBuilder.EM_X86_64;
import static org.hvmmu.mmu.dump.ElfCoreBuilder.pattern;
import static org.hvmmu.mmu.dump.ElfCoreBuilder.putU16;
import static org.hvmmu.mmu.dump.ElfCoreBuilder.putU32;
import static org.hvmmu.mmu.dump.ElfCoreBuilder.putU64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.hvmmu.mmu.memory.MemoryBudgetExceededException;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ElfCoreReaderTest {
  @TempDir Path dir;

  // ---- well-formed cores ------------------------------------------------------------------------

  @Test
  void shouldReadEveryFieldOfAnElf64Core() throws IOException {
    ElfCoreBuilder.CpuState cpu0 = ElfCoreBuilder.CpuState.distinct(0);
    cpu0.flags[0] = 0x00a0_9b00; // CS: G, L, P, DPL 0, code
    ElfCoreBuilder.CpuState cpu1 = ElfCoreBuilder.CpuState.distinct(1);
    byte[] low = pattern(0x2000, 3);
    byte[] odd = {1, 2, 3, 4, 5};
    ElfCoreBuilder b =
        new ElfCoreBuilder(true, EM_X86_64)
            .note("CORE", 1, ElfCoreBuilder.prstatus64(1))
            .note("CORE", 1, ElfCoreBuilder.prstatus64(2))
            .note("VMCOREINFO", 0, "OSRELEASE=6.1.0\n".getBytes(StandardCharsets.US_ASCII))
            .note("QEMU", 0, cpu0.bytes())
            .note("QEMU", 0, cpu1.bytes())
            .load(0, low, 0x3000)
            .load(0x100_0123, odd);
    Path file = write("core64.elf", b.build());

    GuestDump dump = GuestDumps.read(file);

    assertEquals(file.toString(), dump.file());
    assertEquals(DumpFormat.ELF_CORE, dump.format());
    assertFalse(dump.compressed());
    assertEquals(ElfClass.ELF64, dump.elfClass());
    assertEquals(ElfMachine.X86_64, dump.machine());
    assertEquals(2, dump.prstatusNotes());
    assertEquals(
        List.of(
            new LoadSegment(0, 0, b.loadOffset(0), 0x2000, 0x3000),
            new LoadSegment(0x100_0123, 0, b.loadOffset(1), 5, 5)),
        dump.segments());
    assertEquals(2, dump.vcpus().size());
    assertVcpu(cpu0, 0, dump.vcpus().get(0));
    assertVcpu(cpu1, 1, dump.vcpus().get(1));
    assertEquals(VcpuState.LONG_MODE_EFER, dump.vcpus().get(0).efer());
    assertEquals(0xd01, dump.vcpus().get(1).efer(), "EM_X86_64 gives long mode without CS.L");
    assertTrue(dump.vcpus().get(0).longMode());

    PhysicalMemory memory = dump.memory();
    assertEquals(52, memory.maxPhyAddr());
    byte[] read = new byte[0x2000];
    memory.readBytes(0, read, 0, read.length);
    assertArrayEquals(low, read);
    assertEquals(0, memory.read(0x2000, 8), "p_memsz beyond p_filesz reads as zero");
    assertEquals(0, memory.read(0x2ff8, 8));
    assertEquals(-1L, memory.read(0x3000, 8), "beyond the segment is absent: all ones");
    assertEquals(0x04030201L, memory.read(0x100_0123, 4));
    assertEquals(0x05, memory.read(0x100_0127, 1));
    assertEquals(0, memory.read(0x100_0128, 1), "the rest of a RAM frame reads as zero");
    assertEquals(0xffff_ffffL, memory.read(0x100_1000, 4));
    assertEquals(-1L, memory.read(0xf_ffff_fff8L, 8));
    assertEquals(List.of("0-2 RAM", "1000-1000 RAM"), regions(memory));
    assertEquals(3, memory.allocatedFrames(), "frames 0, 1 and 0x1000; the zero frame 2 is not");
  }

  @Test
  void shouldReadAnElf32CoreWithTheOriginalQemuCpuStateSize() throws IOException {
    ElfCoreBuilder.CpuState pae = ElfCoreBuilder.CpuState.distinct(0);
    pae.size = 0x1b0; // before kernel_gs_base
    pae.cr[4] = 0x6f0; // PAE
    pae.flags[0] = 0x00cf_9b00; // 32-bit code segment
    ElfCoreBuilder.CpuState flat = ElfCoreBuilder.CpuState.distinct(1);
    flat.size = 0x1b0;
    flat.cr[4] = 0x690; // PSE, no PAE
    byte[] rom = pattern(0x1000, 9);
    ElfCoreBuilder b =
        new ElfCoreBuilder(false, EM_386)
            .note("CORE", 1, ElfCoreBuilder.prstatus32(1))
            .note("QEMU", 0, pae.bytes())
            .note("CORE", 1, ElfCoreBuilder.prstatus32(2))
            .note("QEMU", 0, flat.bytes())
            .load(0, pattern(0x1000, 1))
            .load(0xffff_f000L, rom);
    Path file = write("core32.elf", b.build());

    GuestDump dump = GuestDumps.readElf(file, 36);

    assertEquals(ElfClass.ELF32, dump.elfClass());
    assertEquals(ElfMachine.I386, dump.machine());
    assertEquals(36, dump.memory().maxPhyAddr());
    assertEquals(0xffff_f000L, dump.segments().get(1).physicalAddress(), "u32, not sign-extended");
    assertVcpu(pae, 0, dump.vcpus().get(0));
    assertVcpu(flat, 1, dump.vcpus().get(1));
    assertFalse(dump.vcpus().get(0).hasKernelGsBase());
    assertEquals(0, dump.vcpus().get(0).kernelGsBase());
    assertEquals(VcpuState.PAE_EFER, dump.vcpus().get(0).efer());
    assertEquals(0, dump.vcpus().get(1).efer());
    assertFalse(dump.vcpus().get(0).longMode());
    byte[] read = new byte[0x1000];
    dump.memory().readBytes(0xffff_f000L, read, 0, read.length);
    assertArrayEquals(rom, read);
    assertEquals(List.of("0-0 RAM", "fffff-fffff RAM"), regions(dump.memory()));
  }

  @Test
  void shouldReadTheKernelGsBaseAndIgnoreTheTailOfANewerLargerQemuCpuState() throws IOException {
    ElfCoreBuilder.CpuState cpu = ElfCoreBuilder.CpuState.distinct(0);
    cpu.size = 0x200;
    byte[] core =
        new ElfCoreBuilder(true, EM_X86_64)
            .note("QEMU", 0, cpu.bytes())
            .load(0, new byte[16])
            .build();

    VcpuState state = GuestDumps.readElf(write("new.elf", core), 52).vcpus().get(0);

    assertVcpu(cpu, 0, state);
    assertTrue(state.hasKernelGsBase());
  }

  @Test
  void shouldMergeSegmentsThatShareOrAdjoinFrames() throws IOException {
    byte[] first = pattern(0x1800, 1);
    byte[] second = pattern(0x1000, 2);
    byte[] third = pattern(0x1000, 3);
    byte[] core =
        new ElfCoreBuilder(true, EM_X86_64)
            .load(0, first) // frames 0-1
            .load(0x1800, second) // frames 1-2: shares frame 1
            .load(0x2000, third) // frame 2: overlaps the second segment's bytes
            .load(0x5000, pattern(0x1000, 4)) // frame 5
            .load(0x6000, pattern(0x1000, 5)) // frame 6: adjoins frame 5
            .build();

    PhysicalMemory memory = GuestDumps.readElf(write("merge.elf", core), 52).memory();

    assertEquals(List.of("0-2 RAM", "5-6 RAM"), regions(memory));
    assertEquals(first[0x17ff] & 0xff, memory.read(0x17ff, 1));
    assertEquals(second[0] & 0xff, memory.read(0x1800, 1));
    assertEquals(third[0] & 0xff, memory.read(0x2000, 1), "a later segment's bytes win");
    assertEquals(third[0xfff] & 0xff, memory.read(0x2fff, 1));
    assertEquals(-1L, memory.read(0x3000, 8));
  }

  @Test
  void shouldMakeRamOfSegmentsWithoutFileBytes() throws IOException {
    ElfCoreBuilder b = new ElfCoreBuilder(true, EM_X86_64).load(0x10_0000, new byte[0], 0x2000);
    byte[] core = b.build();
    putU64(core, b.phdrOffset(b.loadIndex(0)) + b.pOffset(), -1L); // no bytes: offset unused

    GuestDump dump = GuestDumps.readElf(write("nofile.elf", core), 52);

    assertEquals(List.of("100-101 RAM"), regions(dump.memory()));
    assertEquals(0, dump.memory().read(0x10_1ff8, 8));
    assertEquals(0, dump.memory().allocatedFrames());
  }

  @Test
  void shouldAcceptCoresWithoutVcpuNotes() throws IOException {
    byte[] bare = new ElfCoreBuilder(true, EM_X86_64).nullSegment().load(0, pattern(64, 1)).build();
    GuestDump dump = GuestDumps.readElf(write("bare.elf", bare), 52);
    assertEquals(List.of(), dump.vcpus());
    assertEquals(0, dump.prstatusNotes());

    byte[] prstatusOnly =
        new ElfCoreBuilder(false, EM_386)
            .note("CORE", 1, ElfCoreBuilder.prstatus32(1))
            .note("CORE", 1, ElfCoreBuilder.prstatus32(2))
            .noteBytes(new byte[8]) // zero padding at the end of the segment
            .load(0, pattern(64, 1))
            .build();
    dump = GuestDumps.readElf(write("prstatus.elf", prstatusOnly), 52);
    assertEquals(List.of(), dump.vcpus());
    assertEquals(2, dump.prstatusNotes());
  }

  @Test
  void shouldReadTheProgramHeaderCountFromSectionZeroWhenEPhnumIsPnXnum() throws IOException {
    ElfCoreBuilder b = new ElfCoreBuilder(true, EM_X86_64).load(0, pattern(0x100, 1));
    byte[] core = appendSectionZero(b, b.build(), b.phnum());

    GuestDump dump = GuestDumps.readElf(write("xnum.elf", core), 52);

    assertEquals(1, dump.segments().size());
    assertEquals(pattern(0x100, 1)[0x80] & 0xff, dump.memory().read(0x80, 1));
  }

  @Test
  void shouldTreatAnElf64Em386CoreAsOutsideLongMode() throws IOException {
    // QEMU writes ELFCLASS64 with EM_386 for a guest outside long mode with RAM above 4 GiB.
    ElfCoreBuilder.CpuState cpu = ElfCoreBuilder.CpuState.distinct(0);
    cpu.flags[0] = 0x00cf_9b00;
    byte[] core =
        new ElfCoreBuilder(true, EM_386)
            .note("QEMU", 0, cpu.bytes())
            .load(0x1_0000_0000L, pattern(16, 1))
            .build();

    GuestDump dump = GuestDumps.readElf(write("pae64.elf", core), 52);

    assertEquals(ElfClass.ELF64, dump.elfClass());
    assertEquals(ElfMachine.I386, dump.machine());
    assertEquals(VcpuState.PAE_EFER, dump.vcpus().get(0).efer());
  }

  @ParameterizedTest
  @CsvSource({
    // machine, cr0,        cr4,        cs flags,   efer
    "X86_64,    0x80050033, 0x003606f0, 0x00a09b00, 0xd01", // 64-bit code
    "X86_64,    0x80050033, 0x003606f0, 0x00cf9b00, 0xd01", // compatibility mode
    "I386,      0x80050033, 0x003606f0, 0x00a09b00, 0xd01", // CS.L: long mode whatever e_machine
    "I386,      0x80050033, 0x000006f0, 0x00cf9b00, 0x800", // PAE paging
    "NONE,      0x80050033, 0x000006f0, 0x00cf9b00, 0x800",
    "I386,      0x80050033, 0x00000690, 0x00cf9b00, 0x0", // 32-bit paging
    "X86_64,    0x00000011, 0x00000000, 0x00009b00, 0x0", // an AP in real mode
    "X86_64,    0x00000011, 0x00000020, 0x00009b00, 0x800", // PAE set, paging off
  })
  void shouldAssumeEferFromCr0Cr4CsAndMachine(
      ElfMachine machine, long cr0, long cr4, long csFlags, long efer) {
    assertEquals(efer, VcpuState.assumedEfer(machine, cr0, cr4, (int) csFlags));
  }

  @Test
  void shouldLetCallersReplaceTheAssumedEfer() {
    ElfCoreBuilder.CpuState cpu = ElfCoreBuilder.CpuState.distinct(0);
    VcpuState state =
        new VcpuState(
            0,
            new GeneralRegisters(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            0,
            0,
            SegmentRegister.ZERO,
            SegmentRegister.ZERO,
            SegmentRegister.ZERO,
            SegmentRegister.ZERO,
            SegmentRegister.ZERO,
            SegmentRegister.ZERO,
            SegmentRegister.ZERO,
            SegmentRegister.ZERO,
            SegmentRegister.ZERO,
            SegmentRegister.ZERO,
            cpu.cr[0],
            0,
            cpu.cr[3],
            cpu.cr[4],
            0,
            false,
            0xd01);
    VcpuState noNx = state.withEfer(0x501);
    assertEquals(0x501, noNx.efer());
    assertTrue(noNx.longMode());
    assertEquals(state.cr3(), noNx.cr3());
  }

  // ---- bad headers ------------------------------------------------------------------------------

  @Test
  void shouldRejectAnEmptyFile() throws IOException {
    Path file = write("empty.elf", new byte[0]);
    assertRejects(file, "is empty");
    DumpFormatException e = assertThrows(DumpFormatException.class, () -> GuestDumps.read(file));
    assertEquals(DumpFormatException.NO_OFFSET, e.offset());
    assertThrows(DumpFormatException.class, () -> GuestDumps.readRaw(file, 52));
  }

  @Test
  void shouldRejectATruncatedIdentification() throws IOException {
    assertRejects(
        write("t.elf", new byte[] {0x7f, 'E', 'L', 'F', 2}), "truncated ELF identification");
  }

  @Test
  void shouldRejectATruncatedHeader() throws IOException {
    byte[] core = minimal64();
    byte[] cut = Arrays.copyOf(core, 40);
    assertRejects(write("t.elf", cut), "truncated ELF header", "0x28 bytes", "at least 0x40");
    byte[] core32 = new ElfCoreBuilder(false, EM_386).load(0, new byte[4]).build();
    assertRejects(write("t32.elf", Arrays.copyOf(core32, 51)), "at least 0x34");
  }

  @Test
  void shouldRejectAWrongMagic() throws IOException {
    byte[] core = minimal64();
    core[1] = 'X';
    DumpFormatException e = assertRejects(write("m.elf", core), "not an ELF file", "7f 58 4c 46");
    assertEquals(0, e.offset());
  }

  @Test
  void shouldRejectAnUnknownClass() throws IOException {
    byte[] core = minimal64();
    core[4] = 3;
    assertEquals(4, assertRejects(write("c.elf", core), "EI_CLASS 0x3", "ELFCLASS64").offset());
  }

  @Test
  void shouldRejectBigEndianAndUnknownByteOrders() throws IOException {
    byte[] core = minimal64();
    core[5] = 2;
    assertRejects(write("be.elf", core), "big-endian", "ELFDATA2LSB");
    core[5] = 0;
    assertRejects(write("none.elf", core), "EI_DATA 0x0");
  }

  @Test
  void shouldRejectAnUnknownVersion() throws IOException {
    byte[] core = minimal64();
    core[6] = 0;
    assertRejects(write("v.elf", core), "EI_VERSION 0x0");
    core = minimal64();
    putU32(core, 20, 2);
    assertRejects(write("v2.elf", core), "e_version 0x2");
  }

  @Test
  void shouldRejectFilesThatAreNotCores() throws IOException {
    byte[] core = minimal64();
    putU16(core, 16, 2); // ET_EXEC
    assertRejects(write("exec.elf", core), "e_type 0x2", "ET_CORE");
  }

  @Test
  void shouldRejectOtherMachines() throws IOException {
    byte[] core = minimal64();
    putU16(core, 18, 0x28); // EM_ARM
    assertEquals(18, assertRejects(write("arm.elf", core), "e_machine 0x28", "EM_X86_64").offset());
  }

  @Test
  void shouldRejectAbsurdProgramHeaderSizes() throws IOException {
    ElfCoreBuilder b = new ElfCoreBuilder(true, EM_X86_64).load(0, new byte[4]);
    byte[] core = b.build();
    putU16(core, b.ePhentsize(), 0x20);
    assertRejects(write("phent.elf", core), "e_phentsize 0x20", "0x38", "Elf64_Phdr");
    putU16(core, b.ePhentsize(), 0xffff);
    assertRejects(write("phent2.elf", core), "e_phentsize 0xffff");
  }

  @Test
  void shouldRejectAbsurdProgramHeaderCounts() throws IOException {
    ElfCoreBuilder b = new ElfCoreBuilder(true, EM_X86_64).load(0, new byte[4]);
    byte[] core = b.build();
    putU16(core, b.ePhnum(), 0);
    assertRejects(write("zero.elf", core), "no program headers");
    putU16(core, b.ePhnum(), 0xfffe);
    assertRejects(
        write("many.elf", core),
        "program header table",
        "0xfffe entries",
        "beyond the end of the file");

    byte[] xnum = appendSectionZero(b, b.build(), 0x7fff_ffff);
    assertRejects(write("xnum.elf", xnum), "0x7fffffff program headers", "at most 0x10000");
    byte[] noSection = b.build();
    putU16(noSection, b.ePhnum(), 0xffff);
    assertRejects(write("nosection.elf", noSection), "PN_XNUM", "sh_info");
  }

  @Test
  void shouldRejectAProgramHeaderTableBeyondTheFile() throws IOException {
    ElfCoreBuilder b = new ElfCoreBuilder(true, EM_X86_64).load(0, new byte[4]);
    byte[] core = b.build();
    putU64(core, b.ePhoff(), 0x1_0000);
    assertRejects(write("phoff.elf", core), "e_phoff 0x10000", "beyond the end of the file");
    putU64(core, b.ePhoff(), -8);
    assertRejects(write("phoff2.elf", core), "e_phoff 0xfffffffffffffff8");
  }

  // ---- bad segments -----------------------------------------------------------------------------

  @Test
  void shouldRejectSegmentBytesBeyondTheFile() throws IOException {
    for (boolean elf64 : new boolean[] {true, false}) {
      ElfCoreBuilder b =
          new ElfCoreBuilder(elf64, elf64 ? EM_X86_64 : EM_386).load(0, pattern(0x100, 1));
      int ph = b.phdrOffset(b.loadIndex(0));
      byte[] core = b.build();
      b.putWord(core, ph + b.pOffset(), core.length - 0xff);
      DumpFormatException e =
          assertRejects(
              write("off.elf", core),
              "segment 0 (PT_LOAD)",
              "p_offset 0x",
              "beyond the end of the file at 0x" + Integer.toHexString(core.length));
      assertEquals(ph + b.pOffset(), e.offset());

      core = b.build();
      b.putWord(core, ph + b.pFilesz(), 0x101);
      b.putWord(core, ph + b.pMemsz(), 0x101);
      assertRejects(write("size.elf", core), "p_filesz 0x101", "beyond the end of the file");
    }
    ElfCoreBuilder b = new ElfCoreBuilder(true, EM_X86_64).load(0, pattern(0x100, 1));
    int ph = b.phdrOffset(b.loadIndex(0));
    byte[] core = b.build();
    putU64(core, ph + b.pOffset(), 0xffff_ffff_ffff_fff0L); // offset + filesz wraps
    assertRejects(write("wrap.elf", core), "p_offset 0xfffffffffffffff0", "beyond the end");
  }

  @Test
  void shouldRejectAFileSizeAboveTheMemorySize() throws IOException {
    ElfCoreBuilder b = new ElfCoreBuilder(true, EM_X86_64).load(0, pattern(0x100, 1));
    byte[] core = b.build();
    putU64(core, b.phdrOffset(b.loadIndex(0)) + b.pMemsz(), 0xff);
    assertRejects(write("mem.elf", core), "p_filesz 0x100 exceeds p_memsz 0xff");
  }

  @Test
  void shouldRejectSegmentsBeyondMaxPhyAddr() throws IOException {
    ElfCoreBuilder b =
        new ElfCoreBuilder(true, EM_X86_64).load(0xf_ffff_f000L, pattern(0x100, 1), 0x1000);
    byte[] core = b.build();
    Path fits = write("fits.elf", core);
    assertEquals(
        pattern(0x100, 1)[0], GuestDumps.readElf(fits, 36).memory().read(0xf_ffff_f000L, 1));

    int ph = b.phdrOffset(b.loadIndex(0));
    putU64(core, ph + b.pMemsz(), 0x1001);
    DumpFormatException e =
        assertRejects(
            write("beyond.elf", core),
            36,
            "p_paddr 0xffffff000",
            "p_memsz 0x1001",
            "MAXPHYADDR 36",
            "0x1000000000");
    assertEquals(ph + b.pPaddr(), e.offset());

    putU64(core, ph + b.pPaddr(), 0xffff_ffff_ffff_f000L); // paddr + memsz wraps
    assertRejects(write("wrap.elf", core), "p_paddr 0xfffffffffffff000", "MAXPHYADDR 52");
  }

  @Test
  void shouldRejectNoteSegmentsBeyondTheFileOrTooLarge() throws IOException {
    ElfCoreBuilder b =
        new ElfCoreBuilder(true, EM_X86_64).note("CORE", 1, new byte[8]).load(0, new byte[4]);
    byte[] core = b.build();
    putU64(core, b.phdrOffset(0) + b.pFilesz(), core.length);
    assertRejects(write("note.elf", core), "segment 0 (PT_NOTE)", "beyond the end of the file");

    // A sparse file of 17 MiB whose note segment claims all of it.
    Path big = write("bignote.elf", b.build());
    try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
      raf.setLength(17L << 20);
      raf.seek(b.phdrOffset(0) + b.pFilesz());
      raf.write(le64((17L << 20) - 0x1000));
    }
    assertRejects(big, "notes total more than 0x1000000");
  }

  // ---- bad notes --------------------------------------------------------------------------------

  @Test
  void shouldRejectNotesReachingBeyondTheirSegment() throws IOException {
    byte[] name = {'Q', 'E', 'M', 'U', 0, 0, 0, 0};
    byte[] core =
        new ElfCoreBuilder(true, EM_X86_64)
            .rawNote(5, 0xffff_ffffL, 0, name, new byte[8])
            .load(0, new byte[4])
            .build();
    assertRejects(write("desc.elf", core), "note 0", "n_descsz 0xffffffff", "beyond the segment");

    core =
        new ElfCoreBuilder(true, EM_X86_64)
            .rawNote(0x1000, 0, 0, name, new byte[0])
            .load(0, new byte[4])
            .build();
    assertRejects(write("name.elf", core), "n_namesz 0x1000", "beyond the segment");
  }

  @Test
  void shouldRejectATruncatedNoteHeader() throws IOException {
    ElfCoreBuilder b =
        new ElfCoreBuilder(true, EM_X86_64)
            .note("CORE", 1, new byte[8])
            .noteBytes(new byte[] {5, 0, 0, 0, 0, 0, 0, 0})
            .load(0, new byte[4]);
    DumpFormatException e =
        assertRejects(write("trunc.elf", b.build()), "note 1", "0x8 bytes left", "0xc-byte");
    assertEquals(b.noteOffset() + 12 + 8 + 8, e.offset());
  }

  @Test
  void shouldRejectQemuNotesTooShortForControlRegisters() throws IOException {
    ElfCoreBuilder.CpuState shortNote = ElfCoreBuilder.CpuState.distinct(0);
    shortNote.descsz = 0x100;
    byte[] core =
        new ElfCoreBuilder(true, EM_X86_64)
            .note("QEMU", 0, shortNote.bytes())
            .load(0, new byte[4])
            .build();
    assertRejects(write("short.elf", core), "vCPU 0 QEMU note", "n_descsz 0x100", "0x1b0");

    ElfCoreBuilder.CpuState shortSize = ElfCoreBuilder.CpuState.distinct(0);
    shortSize.size = 0x100;
    shortSize.descsz = 0x1b8;
    core =
        new ElfCoreBuilder(true, EM_X86_64)
            .note("QEMU", 0, shortSize.bytes())
            .load(0, new byte[4])
            .build();
    assertRejects(write("size.elf", core), "QEMUCPUState size 0x100", "cr[0..4]", "0x1b0");

    ElfCoreBuilder.CpuState longSize = ElfCoreBuilder.CpuState.distinct(0);
    longSize.size = 0x1c0;
    longSize.descsz = 0x1b8;
    core =
        new ElfCoreBuilder(true, EM_X86_64)
            .note("QEMU", 0, longSize.bytes())
            .load(0, new byte[4])
            .build();
    assertRejects(write("long.elf", core), "QEMUCPUState size 0x1c0 exceeds n_descsz 0x1b8");
  }

  @Test
  void shouldRejectUnknownQemuCpuStateVersions() throws IOException {
    ElfCoreBuilder.CpuState cpu = ElfCoreBuilder.CpuState.distinct(0);
    cpu.version = 2;
    byte[] core =
        new ElfCoreBuilder(true, EM_X86_64)
            .note("QEMU", 0, cpu.bytes())
            .load(0, new byte[4])
            .build();
    assertRejects(write("v2.elf", core), "QEMUCPUState version 0x2", "expected: 1");
  }

  // ---- limits -----------------------------------------------------------------------------------

  @Test
  void shouldNameTheFileWhenTheFrameBudgetIsUsedUp() throws IOException {
    byte[] core = new ElfCoreBuilder(true, EM_X86_64).load(0, pattern(0x2000, 1)).build();
    Path file = write("budget.elf", core);
    DumpFormatException e =
        assertThrows(
            DumpFormatException.class,
            () -> GuestDumps.readElf(file, DumpOptions.DEFAULTS.withFrameBudget(1)));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("frame budget of 0x1 frames"), e.getMessage());
    assertInstanceOf(MemoryBudgetExceededException.class, e.getCause());
    assertEquals(1, ((MemoryBudgetExceededException) e.getCause()).frame());

    byte[] zeros = new ElfCoreBuilder(true, EM_X86_64).load(0, new byte[0x10000]).build();
    GuestDump dump =
        GuestDumps.readElf(write("zeros.elf", zeros), DumpOptions.DEFAULTS.withFrameBudget(1));
    assertEquals(0, dump.memory().allocatedFrames(), "zero pages cost no frames");
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static void assertVcpu(ElfCoreBuilder.CpuState expected, int index, VcpuState actual) {
    long[] g = expected.gprs;
    assertEquals(index, actual.index());
    assertEquals(
        new GeneralRegisters(
            g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13],
            g[14], g[15]),
        actual.registers());
    assertEquals(g[6], actual.rsp());
    assertEquals(expected.rip, actual.rip());
    assertEquals(expected.rflags, actual.rflags());
    SegmentRegister[] segments = {
      actual.cs(),
      actual.ds(),
      actual.es(),
      actual.fs(),
      actual.gs(),
      actual.ss(),
      actual.ldt(),
      actual.tr(),
      actual.gdt(),
      actual.idt()
    };
    for (int i = 0; i < segments.length; i++) {
      assertEquals(
          new SegmentRegister(
              expected.selector[i], expected.base[i], expected.limit[i], expected.flags[i]),
          segments[i],
          "segment " + i);
    }
    assertEquals(expected.cr[0], actual.cr0());
    assertEquals(expected.cr[2], actual.cr2());
    assertEquals(expected.cr[3], actual.cr3());
    assertEquals(expected.cr[4], actual.cr4());
    if (actual.hasKernelGsBase()) {
      assertEquals(expected.kernelGsBase, actual.kernelGsBase());
    }
  }

  /** Appends a section header 0 whose sh_info holds {@code count}, and sets e_phnum to PN_XNUM. */
  private static byte[] appendSectionZero(ElfCoreBuilder b, byte[] core, long count) {
    byte[] out = Arrays.copyOf(core, core.length + 64);
    putU32(out, core.length + 44, count); // Elf64_Shdr.sh_info
    putU64(out, 40, core.length); // e_shoff
    putU16(out, 58, 64); // e_shentsize
    putU16(out, 60, 1); // e_shnum
    putU16(out, b.ePhnum(), 0xffff);
    return out;
  }

  private static byte[] minimal64() {
    return new ElfCoreBuilder(true, EM_X86_64).load(0, new byte[4]).build();
  }

  private static byte[] le64(long v) {
    return ElfCoreBuilder.le(8).putLong(v).array();
  }

  private Path write(String name, byte[] bytes) throws IOException {
    return Files.write(dir.resolve(name), bytes);
  }

  private static DumpFormatException assertRejects(Path file, String... fragments) {
    return assertRejects(file, 52, fragments);
  }

  private static DumpFormatException assertRejects(Path file, int maxPhyAddr, String... fragments) {
    DumpFormatException e =
        assertThrows(DumpFormatException.class, () -> GuestDumps.readElf(file, maxPhyAddr));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    assertEquals(file.toString(), e.file());
    for (String fragment : fragments) {
      assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in " + e.getMessage());
    }
    return e;
  }

  static List<String> regions(PhysicalMemory memory) {
    List<String> out = new ArrayList<>();
    memory.forEachRegion(
        (first, last, kind) ->
            out.add(Long.toHexString(first) + "-" + Long.toHexString(last) + " " + kind));
    return out;
  }
}
