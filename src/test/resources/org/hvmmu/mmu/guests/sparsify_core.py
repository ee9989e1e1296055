#!/usr/bin/env python3
"""Shrink a QEMU `dump-guest-memory` ELF core to the frames that hold paging structures.

Standard library only.  Reads the plain ELF core (ELFCLASS32 or ELFCLASS64, little
endian) that QEMU's `dump-guest-memory` writes without -z/-l/-s, decodes the
per-vCPU "QEMU" notes (QEMUCPUState, see below), walks every vCPU's page tables in
its paging mode and writes a new ELF core that keeps

  * the ELF header (only e_phnum, e_phoff, e_shoff change; e_ehsize etc. are copied
    as they are, including QEMU 7.2's e_ehsize=8 quirk),
  * the section header table and the bytes of every section (QEMU 7.2 writes a
    NULL section and .shstrtab; only their sh_offset is moved),
  * every PT_NOTE segment byte for byte,
  * one PT_LOAD per run of consecutive kept 4 KiB frames, where a frame is kept iff
    it holds a paging structure of some vCPU: the frame CR3 points into (for PAE the
    4 KiB frame that contains the 32-byte PDPT) and every table referenced by a
    present non-leaf entry.  p_paddr is the physical address; p_vaddr is carried over
    from the original segment (original p_vaddr + offset into it, or 0 when the
    original p_vaddr is 0, which is what QEMU writes for a dump with paging=false);
    p_flags and p_align are copied from the original segment.  Runs never cross the
    boundary of an original PT_LOAD.

With --elfclass 32 (or 64) the ELF container is re-encoded in that class: same fields,
same note bytes (Elf32_Nhdr and Elf64_Nhdr have the same layout), same section and memory
bytes.  This exists because QEMU 7.2 writes ELFCLASS64 even for a 32-bit guest on the pc
machine: cpu_get_dump_info() picks ELFCLASS64 when any guest RAM/ROM block ends above
UINT_MAX, and the BIOS ROM block 0xfffc0000-0xffffffff ends at 0x100000000.

Physical addresses that are in no PT_LOAD of the sparse core were simply dropped;
everything that is present is byte-identical to the full core.

QEMUCPUState (QEMU 7.2 target/i386/arch_dump.c; note name "QEMU", n_type 0, one per
vCPU, after all the "CORE" NT_PRSTATUS notes), little endian, byte offsets:
    0 u32 version (1)         4 u32 size (440 in 7.2; 432 before kernel_gs_base)
    8 rax  16 rbx  24 rcx  32 rdx  40 rsi  48 rdi  56 rsp  64 rbp      (u64 each)
   72 r8 ... 128 r15 (u64 each)  136 rip  144 rflags
  152 cs  176 ds  200 es  224 fs  248 gs  272 ss  296 ldt  320 tr  344 gdt  368 idt
      each QEMUCPUSegment = {u32 selector, u32 limit, u32 flags, u32 pad, u64 base} (24 bytes)
  392 cr0  400 cr1  408 cr2  416 cr3  424 cr4 (u64 each)
  432 kernel_gs_base (u64, only when size >= 440)
The same struct is used in ELFCLASS32 cores (the note header is Elf32_Nhdr, which has
the same 12-byte layout as Elf64_Nhdr).

EFER is not in the note.  Long mode (EFER.LMA) is taken from e_machine: QEMU writes
EM_X86_64 exactly when the first vCPU has LMA set, EM_386 otherwise (override with
--lma).  Paging mode per vCPU: CR0.PG=0 -> none; LMA and CR4.LA57 -> 5-level; LMA ->
4-level; CR4.PAE -> PAE; else 32-bit (4 MiB pages when CR4.PSE).

Sub-commands (see --help):
  sparsify IN OUT   write the sparse core and verify it against IN
  info CORE         print the ELF layout and the decoded vCPU states as JSON
  tlb CORE CPU      print what QEMU 7.2's `info tlb` prints, computed from CORE
  gva2gpa CORE CPU ADDR...   print what QEMU 7.2's `gva2gpa` prints, from CORE
  verify FULL SPARSE [--tlb CPU=FILE] [--gva2gpa CPU=FILE] [--expect-cr3 CPU=HEX]
"""

import argparse
import json
import mmap
import struct
import sys

PAGE = 4096
EM_386 = 3
EM_X86_64 = 62
PT_LOAD = 1
PT_NOTE = 4
SHT_NOBITS = 8

CR0_PG = 1 << 31
CR4_PSE = 1 << 4
CR4_PAE = 1 << 5
CR4_LA57 = 1 << 12

PG_PRESENT = 1 << 0
PG_RW = 1 << 1
PG_USER = 1 << 2
PG_PWT = 1 << 3
PG_PCD = 1 << 4
PG_ACCESSED = 1 << 5
PG_DIRTY = 1 << 6
PG_PSE = 1 << 7
PG_GLOBAL = 1 << 8
PG_NX = 1 << 63

ADDR_MASK_64 = 0x000FFFFFFFFFF000  # bits 51:12, architectural maximum
U64 = (1 << 64) - 1

SEG_NAMES = ("cs", "ds", "es", "fs", "gs", "ss", "ldt", "tr", "gdt", "idt")
GPR_NAMES = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
             "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags")


class CoreError(Exception):
    pass


def _align4(n):
    return (n + 3) & ~3


class Core:
    """A read-only view of an ELF core file (mmap'ed)."""

    def __init__(self, path):
        self.path = path
        self._f = open(path, "rb")
        self.data = mmap.mmap(self._f.fileno(), 0, access=mmap.ACCESS_READ)
        d = self.data
        if d[:4] != b"\x7fELF":
            raise CoreError(f"{path}: not an ELF file")
        self.elfclass = d[4]
        if d[5] != 1:
            raise CoreError(f"{path}: not little endian")
        if self.elfclass == 1:
            self.ehdr_fmt, self.phdr_fmt, self.shdr_fmt = "<16sHHIIIIIHHHHHH", "<8I", "<10I"
        elif self.elfclass == 2:
            self.ehdr_fmt, self.phdr_fmt, self.shdr_fmt = "<16sHHIQQQIHHHHHH", "<IIQQQQQQ", "<IIQQQQIIQQ"
        else:
            raise CoreError(f"{path}: bad EI_CLASS {self.elfclass}")
        self.ehdr_size = struct.calcsize(self.ehdr_fmt)
        (self.ident, self.e_type, self.e_machine, self.e_version, self.e_entry,
         self.e_phoff, self.e_shoff, self.e_flags, self.e_ehsize, self.e_phentsize,
         self.e_phnum, self.e_shentsize, self.e_shnum, self.e_shstrndx) = struct.unpack_from(self.ehdr_fmt, d, 0)
        if self.e_type != 4:
            raise CoreError(f"{path}: e_type {self.e_type} is not ET_CORE")
        self.shdrs = [self._shdr(i) for i in range(self.e_shnum)] if self.e_shoff else []
        phnum = self.e_phnum
        if phnum == 0xFFFF and self.shdrs:  # PN_XNUM
            phnum = self.shdrs[0]["info"]
        self.phdrs = [self._phdr(i) for i in range(phnum)]
        self.loads = sorted((p for p in self.phdrs if p["type"] == PT_LOAD), key=lambda p: p["paddr"])
        self.notes = []
        for p in self.phdrs:
            if p["type"] == PT_NOTE:
                self.notes.extend(self._parse_notes(p["offset"], p["filesz"]))
        self.cpus = [decode_qemu_cpu_state(n["desc"]) for n in self.notes
                     if n["name"] == b"QEMU" and n["type"] == 0]

    # -- ELF structures -------------------------------------------------
    def _phdr(self, i):
        off = self.e_phoff + i * self.e_phentsize
        v = struct.unpack_from(self.phdr_fmt, self.data, off)
        if self.elfclass == 1:
            t, o, va, pa, fs, ms, fl, al = v
        else:
            t, fl, o, va, pa, fs, ms, al = v
        return dict(type=t, flags=fl, offset=o, vaddr=va, paddr=pa, filesz=fs, memsz=ms, align=al)

    def _shdr(self, i):
        off = self.e_shoff + i * self.e_shentsize
        v = struct.unpack_from(self.shdr_fmt, self.data, off)
        keys = ("name", "type", "flags", "addr", "offset", "size", "link", "info", "addralign", "entsize")
        return dict(zip(keys, v))

    def _parse_notes(self, off, size):
        notes, pos, end = [], off, off + size
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", self.data, pos)
            name_off = pos + 12
            desc_off = name_off + _align4(namesz)
            nxt = desc_off + _align4(descsz)
            if nxt > end:
                raise CoreError("truncated note")
            name = bytes(self.data[name_off:name_off + namesz]).rstrip(b"\0")
            notes.append(dict(name=name, type=ntype, offset=pos, desc_offset=desc_off,
                              desc=bytes(self.data[desc_off:desc_off + descsz])))
            pos = nxt
        return notes

    @property
    def lma(self):
        return self.e_machine == EM_X86_64

    # -- physical memory ------------------------------------------------
    def find_load(self, pa):
        for p in self.loads:
            if p["paddr"] <= pa < p["paddr"] + p["filesz"]:
                return p
        return None

    def has_phys(self, pa, n):
        p = self.find_load(pa)
        return p is not None and pa + n <= p["paddr"] + p["filesz"]

    def read_phys(self, pa, n):
        p = self.find_load(pa)
        if p is None or pa + n > p["paddr"] + p["filesz"]:
            return None
        o = p["offset"] + (pa - p["paddr"])
        return self.data[o:o + n]

    def close(self):
        self.data.close()
        self._f.close()


def decode_qemu_cpu_state(desc):
    if len(desc) < 432:
        raise CoreError(f"QEMU note too short: {len(desc)} bytes")
    version, size = struct.unpack_from("<II", desc, 0)
    if size != len(desc):
        raise CoreError(f"QEMUCPUState.size {size} != note descsz {len(desc)}")
    s = dict(version=version, size=size)
    regs = struct.unpack_from("<18Q", desc, 8)
    s.update(zip(GPR_NAMES, regs))
    for i, name in enumerate(SEG_NAMES):
        sel, limit, flags, pad, base = struct.unpack_from("<IIIIQ", desc, 152 + 24 * i)
        s[name] = dict(selector=sel, limit=limit, flags=flags, base=base)
    cr = struct.unpack_from("<5Q", desc, 392)
    s["cr"] = list(cr)
    s["kernel_gs_base"] = struct.unpack_from("<Q", desc, 432)[0] if size >= 440 else None
    return s


def paging_mode(cpu, lma):
    cr0, cr4 = cpu["cr"][0], cpu["cr"][4]
    if not cr0 & CR0_PG:
        return "none"
    if lma:
        return "la57" if cr4 & CR4_LA57 else "la48"
    if cr4 & CR4_PAE:
        return "pae"
    return "32"


# -- page-table walk: the frames that hold paging structures -------------------

def table_frames(core, cpu, lma=None):
    """Return (frames, missing, stats): frames = {frame_pa: set of level names}."""
    lma = core.lma if lma is None else lma
    mode = paging_mode(cpu, lma)
    cr3, cr4 = cpu["cr"][3], cpu["cr"][4]
    frames, missing, seen = {}, set(), set()
    stats = dict(mode=mode, tables=0, leaves={}, nonleaf=0)

    def note_leaf(kind):
        stats["leaves"][kind] = stats["leaves"].get(kind, 0) + 1

    def add(frame, level):
        frames.setdefault(frame, set()).add(level)

    def entries64(frame):
        b = core.read_phys(frame, PAGE)
        if b is None:
            missing.add(frame)
            return ()
        return struct.unpack("<512Q", b)

    # level names from the top: for la57: pml5, pml4, pdpt, pd, pt
    def walk64(frame, levels):
        key = (frame, levels[0])
        if key in seen:
            return
        seen.add(key)
        add(frame, levels[0])
        lvl = levels[0]
        for e in entries64(frame):
            if not e & PG_PRESENT:
                continue
            if lvl == "pt":
                note_leaf("4K")
                continue
            if e & PG_PSE and lvl == "pdpt":
                note_leaf("1G")
                continue
            if e & PG_PSE and lvl == "pd":
                note_leaf("2M")
                continue
            stats["nonleaf"] += 1
            walk64(e & ADDR_MASK_64, levels[1:])

    if mode == "none":
        pass
    elif mode in ("la48", "la57"):
        levels = ("pml5", "pml4", "pdpt", "pd", "pt") if mode == "la57" else ("pml4", "pdpt", "pd", "pt")
        walk64(cr3 & ADDR_MASK_64, levels)
    elif mode == "pae":
        pdpt = cr3 & 0xFFFFFFE0
        add(pdpt & ~(PAGE - 1), "pdpt(32-byte PAE PDPT at 0x%x)" % pdpt)
        b = core.read_phys(pdpt, 32)
        if b is None:
            missing.add(pdpt & ~(PAGE - 1))
        else:
            for e in struct.unpack("<4Q", b):
                if e & PG_PRESENT:
                    stats["nonleaf"] += 1
                    walk64(e & ADDR_MASK_64, ("pd", "pt"))
    elif mode == "32":
        pd = cr3 & 0xFFFFF000
        add(pd, "pd32")
        b = core.read_phys(pd, PAGE)
        if b is None:
            missing.add(pd)
        else:
            for e in struct.unpack("<1024I", b):
                if not e & PG_PRESENT:
                    continue
                if e & PG_PSE and cr4 & CR4_PSE:
                    note_leaf("4M")
                    continue
                stats["nonleaf"] += 1
                pt = e & 0xFFFFF000
                add(pt, "pt32")
                t = core.read_phys(pt, PAGE)
                if t is None:
                    missing.add(pt)
                    continue
                for x in struct.unpack("<1024I", t):
                    if x & PG_PRESENT:
                        note_leaf("4K")
    stats["tables"] = len(frames)
    return frames, missing, stats


def all_table_frames(core, lma=None):
    frames, missing, per_cpu = {}, set(), []
    for i, cpu in enumerate(core.cpus):
        f, m, st = table_frames(core, cpu, lma)
        for k, v in f.items():
            frames.setdefault(k, set()).update(v)
        missing |= m
        st["cpu"] = i
        per_cpu.append(st)
    return frames, missing, per_cpu


# -- QEMU 7.2 `info tlb` and `gva2gpa`, reproduced from the core -----------------
# Mirrors target/i386/monitor.c and target/i386/helper.c of QEMU 7.2 including
# their masks (0x3fffffffff000 = bits 49:12; the PAE 2 MiB line prints
# pde & ~0xfffff, i.e. keeps NX and bits 20:13).

QEMU_ADDR = 0x3FFFFFFFFF000


def _qemu_flags(pte):
    return "".join((
        "X" if pte & PG_NX else "-",
        "G" if pte & PG_GLOBAL else "-",
        "P" if pte & PG_PSE else "-",
        "D" if pte & PG_DIRTY else "-",
        "A" if pte & PG_ACCESSED else "-",
        "C" if pte & PG_PCD else "-",
        "T" if pte & PG_PWT else "-",
        "U" if pte & PG_USER else "-",
        "W" if pte & PG_RW else "-"))


class _PhysReader:
    """cpu_physical_memory_read on a core; unknown memory is reported as missing."""

    def __init__(self, core):
        self.core = core
        self.missing = set()

    def q(self, pa):
        b = self.core.read_phys(pa, 8)
        if b is None:
            self.missing.add(pa & ~(PAGE - 1))
            return 0
        return struct.unpack("<Q", b)[0]

    def l(self, pa):
        b = self.core.read_phys(pa, 4)
        if b is None:
            self.missing.add(pa & ~(PAGE - 1))
            return 0
        return struct.unpack("<I", b)[0]

    def table64(self, pa):
        b = self.core.read_phys(pa, PAGE)
        if b is None:
            self.missing.add(pa)
            return (0,) * 512
        return struct.unpack("<512Q", b)


def qemu_info_tlb(core, cpu, lma=None):
    """Return (text, missing_frames) as QEMU 7.2 `info tlb` would print it (\\n line ends)."""
    lma = core.lma if lma is None else lma
    cr0, cr3, cr4 = cpu["cr"][0], cpu["cr"][3], cpu["cr"][4]
    rd = _PhysReader(core)
    out = []
    la57 = bool(cr4 & CR4_LA57) and lma

    def canon(a):
        if lma:  # TARGET_X86_64 only; for i386 targets addresses are < 4 GiB anyway
            if la57:
                if a & (1 << 56):
                    a |= (U64 ^ ((1 << 57) - 1))
            elif a & (1 << 47):
                a |= (U64 ^ ((1 << 48) - 1))
        return a & U64

    def pr(addr, pte, mask):
        out.append("%016x: %016x %s\n" % (canon(addr), pte & mask & U64, _qemu_flags(pte)))

    def la48(l0, pml4):
        for l1, e4 in enumerate(rd.table64(pml4)):
            if not e4 & PG_PRESENT:
                continue
            for l2, e3 in enumerate(rd.table64(e4 & QEMU_ADDR)):
                if not e3 & PG_PRESENT:
                    continue
                if e3 & PG_PSE:
                    pr((l0 << 48) + (l1 << 39) + (l2 << 30), e3, 0x3FFFFC0000000)
                    continue
                for l3, e2 in enumerate(rd.table64(e3 & QEMU_ADDR)):
                    if not e2 & PG_PRESENT:
                        continue
                    if e2 & PG_PSE:
                        pr((l0 << 48) + (l1 << 39) + (l2 << 30) + (l3 << 21), e2, 0x3FFFFFFE00000)
                        continue
                    for l4, e1 in enumerate(rd.table64(e2 & QEMU_ADDR)):
                        if e1 & PG_PRESENT:
                            pr((l0 << 48) + (l1 << 39) + (l2 << 30) + (l3 << 21) + (l4 << 12),
                               e1 & ~PG_PSE, QEMU_ADDR)

    if not cr0 & CR0_PG:
        out.append("PG disabled\n")
    elif cr4 & CR4_PAE:
        if lma:
            if la57:
                for l0, e5 in enumerate(rd.table64(cr3 & QEMU_ADDR)):
                    if e5 & PG_PRESENT:
                        la48(l0, e5 & QEMU_ADDR)
            else:
                la48(0, cr3 & QEMU_ADDR)
        else:
            pdp = cr3 & ~0x1F & U64
            for l1 in range(4):
                e3 = rd.q(pdp + l1 * 8)
                if not e3 & PG_PRESENT:
                    continue
                for l2, e2 in enumerate(rd.table64(e3 & QEMU_ADDR)):
                    if not e2 & PG_PRESENT:
                        continue
                    if e2 & PG_PSE:
                        pr((l1 << 30) + (l2 << 21), e2, U64 ^ ((1 << 20) - 1))
                    else:
                        for l3, e1 in enumerate(rd.table64(e2 & QEMU_ADDR)):
                            if e1 & PG_PRESENT:
                                pr((l1 << 30) + (l2 << 21) + (l3 << 12), e1 & ~PG_PSE, U64 ^ 0xFFF)
    else:
        pgd = cr3 & ~0xFFF & 0xFFFFFFFF
        for l1 in range(1024):
            pde = rd.l(pgd + l1 * 4)
            if not pde & PG_PRESENT:
                continue
            if pde & PG_PSE and cr4 & CR4_PSE:
                # QEMU: mask ~((1 << 21) - 1) as an int, sign-extended to hwaddr
                pr(l1 << 22, pde, U64 ^ ((1 << 21) - 1))
            else:
                for l2 in range(1024):
                    pte = rd.l((pde & ~0xFFF) + l2 * 4)
                    if pte & PG_PRESENT:
                        pr((l1 << 22) + (l2 << 12), pte & ~PG_PSE, U64 ^ 0xFFF)
    return "".join(out), rd.missing


PG_ADDRESS_MASK = 0x000FFFFFFFFFF000


def qemu_gva2gpa(core, cpu, addr, lma=None):
    """What QEMU 7.2 `gva2gpa addr` prints (without the newline); A20 assumed enabled."""
    lma = core.lma if lma is None else lma
    rd = _PhysReader(core)
    cr0, cr3, cr4 = cpu["cr"][0], cpu["cr"][3], cpu["cr"][4]
    if not lma:
        addr &= 0xFFFFFFFF  # target_ulong of qemu-system-i386 / 32-bit guests
    page = addr & ~0xFFF & U64

    def result():
        if not cr0 & CR0_PG:
            return page, 4096
        if cr4 & CR4_PAE:
            if lma:
                la57 = bool(cr4 & CR4_LA57)
                s = page - (1 << 64) if page >> 63 else page
                sext = s >> 56 if la57 else s >> 47
                if sext not in (0, -1):
                    return None
                if la57:
                    pml5e = rd.q((cr3 & ~0xFFF) + (((page >> 48) & 0x1FF) << 3))
                    if not pml5e & PG_PRESENT:
                        return None
                else:
                    pml5e = cr3
                pml4e = rd.q((pml5e & PG_ADDRESS_MASK) + (((page >> 39) & 0x1FF) << 3))
                if not pml4e & PG_PRESENT:
                    return None
                pdpe = rd.q((pml4e & PG_ADDRESS_MASK) + (((page >> 30) & 0x1FF) << 3))
                if not pdpe & PG_PRESENT:
                    return None
                if pdpe & PG_PSE:
                    return pdpe, 1 << 30
            else:
                pdpe = rd.q(((cr3 & ~0x1F) + ((page >> 27) & 0x18)) & 0xFFFFFFFF)
                if not pdpe & PG_PRESENT:
                    return None
            pde = rd.q((pdpe & PG_ADDRESS_MASK) + (((page >> 21) & 0x1FF) << 3))
            if not pde & PG_PRESENT:
                return None
            if pde & PG_PSE:
                return pde, 2 << 20
            pte = rd.q((pde & PG_ADDRESS_MASK) + (((page >> 12) & 0x1FF) << 3))
            if not pte & PG_PRESENT:
                return None
            return pte, 4096
        pde = rd.l(((cr3 & ~0xFFF) + ((page >> 20) & 0xFFC)) & 0xFFFFFFFF)
        if not pde & PG_PRESENT:
            return None
        if pde & PG_PSE and cr4 & CR4_PSE:
            return pde | ((pde & 0x1FE000) << (32 - 13)), 4 << 20
        pte = rd.l(((pde & ~0xFFF) + ((page >> 10) & 0xFFC)) & 0xFFFFFFFF)
        if not pte & PG_PRESENT:
            return None
        return pte, 4096

    r = result()
    if r is None:
        return "Unmapped", rd.missing
    pte, size = r
    gpa = (pte & PG_ADDRESS_MASK & ~(size - 1)) | (page & (size - 1))
    gpa += addr & 0xFFF
    # C's "%#" PRIx64 prints 0 without the 0x prefix
    return ("gpa: %#x" % gpa if gpa else "gpa: 0"), rd.missing


# -- leaf mappings (for choosing test addresses) -------------------------------

def leaf_mappings(core, cpu, lma=None):
    """Yield (linear_address, size, physical_address, entry) for every present leaf, in address order.

    Shared tables are walked every time they are referenced (like QEMU's `info tlb`)."""
    lma = core.lma if lma is None else lma
    mode = paging_mode(cpu, lma)
    cr3, cr4 = cpu["cr"][3], cpu["cr"][4]

    def table(pa, n=512):
        b = core.read_phys(pa, 8 * n)
        return struct.unpack("<%dQ" % n, b) if b is not None else ()

    def canon(a):
        if mode == "la57" and a & (1 << 56):
            a |= U64 ^ ((1 << 57) - 1)
        if mode == "la48" and a & (1 << 47):
            a |= U64 ^ ((1 << 48) - 1)
        return a

    def walk(pa, shifts, base):
        shift = shifts[0]
        for i, e in enumerate(table(pa)):
            if not e & PG_PRESENT:
                continue
            va = base + (i << shift)
            if shift == 12 or (e & PG_PSE and shift in (21, 30)):
                size = 1 << shift
                yield canon(va), size, e & ADDR_MASK_64 & ~(size - 1), e
            else:
                yield from walk(e & ADDR_MASK_64, shifts[1:], va)

    if mode == "la57":
        yield from walk(cr3 & ADDR_MASK_64, (48, 39, 30, 21, 12), 0)
    elif mode == "la48":
        yield from walk(cr3 & ADDR_MASK_64, (39, 30, 21, 12), 0)
    elif mode == "pae":
        b = core.read_phys(cr3 & 0xFFFFFFE0, 32)
        for i, e in enumerate(struct.unpack("<4Q", b) if b else ()):
            if e & PG_PRESENT:
                yield from walk(e & ADDR_MASK_64, (21, 12), i << 30)
    elif mode == "32":
        b = core.read_phys(cr3 & 0xFFFFF000, PAGE)
        for i, e in enumerate(struct.unpack("<1024I", b) if b else ()):
            if not e & PG_PRESENT:
                continue
            if e & PG_PSE and cr4 & CR4_PSE:
                yield i << 22, 4 << 20, (e & 0xFFC00000) | ((e & 0x1FE000) << 19), e
                continue
            t = core.read_phys(e & 0xFFFFF000, PAGE)
            for j, x in enumerate(struct.unpack("<1024I", t) if t else ()):
                if x & PG_PRESENT:
                    yield (i << 22) | (j << 12), 4096, x & 0xFFFFF000, x


# -- writing the sparse core ----------------------------------------------------

def plan_runs(core, frames):
    """Group kept frames into runs of consecutive frames inside one original PT_LOAD."""
    runs = []
    for f in sorted(frames):
        p = core.find_load(f)
        if p is None or f + PAGE > p["paddr"] + p["filesz"]:
            raise CoreError("frame 0x%x is not (wholly) inside a PT_LOAD of the input" % f)
        if runs and runs[-1]["seg"] is p and runs[-1]["start"] + runs[-1]["len"] == f:
            runs[-1]["len"] += PAGE
        else:
            runs.append(dict(seg=p, start=f, len=PAGE))
    return runs


ELF_FORMATS = {1: ("<16sHHIIIIIHHHHHH", "<8I", "<10I"),
               2: ("<16sHHIQQQIHHHHHH", "<IIQQQQQQ", "<IIQQQQIIQQ")}


def write_sparse(core, frames, out_path, elfclass=None):
    """Write the sparse core.  elfclass (1 or 2) re-encodes the ELF container in the other
    class; the note bytes stay the same (Elf32_Nhdr and Elf64_Nhdr are both 3 x u32)."""
    elfclass = elfclass or core.elfclass
    cls64 = elfclass == 2
    ehdr_fmt, phdr_fmt, shdr_fmt = ELF_FORMATS[elfclass]
    ehsize = struct.calcsize(ehdr_fmt)
    phentsize = struct.calcsize(phdr_fmt)
    shentsize = struct.calcsize(shdr_fmt)
    ident = core.ident[:4] + bytes([elfclass]) + core.ident[5:]
    e_phentsize = core.e_phentsize if elfclass == core.elfclass else phentsize
    e_shentsize = core.e_shentsize if elfclass == core.elfclass else shentsize
    runs = plan_runs(core, frames)
    others = [p for p in core.phdrs if p["type"] != PT_LOAD]
    nph = len(others) + len(runs)
    if nph >= 0xFFFF:
        raise CoreError("too many program headers (%d); PN_XNUM not supported" % nph)

    shnum = len(core.shdrs)
    shoff = ehsize if shnum else 0
    phoff = ehsize + shnum * shentsize
    pos = phoff + nph * phentsize
    new_phdrs = []
    blobs = []  # (offset, bytes-like) in file order
    for p in others:
        q = dict(p)
        if p["filesz"]:
            q["offset"] = pos
            blobs.append((pos, core.data[p["offset"]:p["offset"] + p["filesz"]]))
            pos += p["filesz"]
        new_phdrs.append(q)
    for r in runs:
        seg = r["seg"]
        delta = r["start"] - seg["paddr"]
        q = dict(type=PT_LOAD, flags=seg["flags"], offset=pos,
                 vaddr=(seg["vaddr"] + delta) if seg["vaddr"] else 0,
                 paddr=r["start"], filesz=r["len"], memsz=r["len"], align=seg["align"])
        blobs.append((pos, core.data[seg["offset"] + delta:seg["offset"] + delta + r["len"]]))
        pos += r["len"]
        new_phdrs.append(q)
    new_shdrs = []
    for s in core.shdrs:
        q = dict(s)
        if s["type"] not in (0, SHT_NOBITS) and s["size"]:
            q["offset"] = pos
            blobs.append((pos, core.data[s["offset"]:s["offset"] + s["size"]]))
            pos += s["size"]
        new_shdrs.append(q)

    if not cls64:
        for q in new_phdrs + new_shdrs:
            for k, v in q.items():
                if v > 0xFFFFFFFF:
                    raise CoreError("%s=0x%x does not fit an ELFCLASS32 core" % (k, v))
    eh = struct.pack(ehdr_fmt, ident, core.e_type, core.e_machine, core.e_version,
                     core.e_entry, phoff, shoff, core.e_flags, core.e_ehsize, e_phentsize,
                     nph, e_shentsize, shnum, core.e_shstrndx)
    with open(out_path, "wb") as f:
        f.write(eh)
        for s in new_shdrs:
            f.write(struct.pack(shdr_fmt, *(s[k] for k in (
                "name", "type", "flags", "addr", "offset", "size", "link", "info", "addralign", "entsize"))))
        for p in new_phdrs:
            if cls64:
                f.write(struct.pack(phdr_fmt, p["type"], p["flags"], p["offset"], p["vaddr"],
                                    p["paddr"], p["filesz"], p["memsz"], p["align"]))
            else:
                f.write(struct.pack(phdr_fmt, p["type"], p["offset"], p["vaddr"], p["paddr"],
                                    p["filesz"], p["memsz"], p["flags"], p["align"]))
        for off, b in blobs:
            assert f.tell() == off, (f.tell(), off)
            f.write(b)
    return runs


# -- verification ---------------------------------------------------------------

def verify(full, sparse, frames=None, tlb_files=(), gva_files=(), expect_cr3=(), log=print):
    """Raise CoreError on any inconsistency between the full and the sparse core."""
    problems = []
    if frames is None:
        frames, missing, _ = all_table_frames(full)
        if missing:
            problems.append("full core lacks table frames %s" % sorted(hex(m) for m in missing))
    # header and notes
    same_class = full.elfclass == sparse.elfclass
    if full.ident[:4] + full.ident[5:] != sparse.ident[:4] + sparse.ident[5:]:
        problems.append("e_ident differs")
    for k in ("e_type", "e_machine", "e_version", "e_entry", "e_flags", "e_ehsize",
              "e_shnum", "e_shstrndx") + (("e_phentsize", "e_shentsize") if same_class else ()):
        if getattr(full, k) != getattr(sparse, k):
            problems.append("ELF header field %s differs" % k)
    if not same_class:
        log("note: %s is ELFCLASS%d, re-encoded from ELFCLASS%d" % (sparse.path, 32 * sparse.elfclass, 32 * full.elfclass))
    fn = [p for p in full.phdrs if p["type"] != PT_LOAD]
    sn = [p for p in sparse.phdrs if p["type"] != PT_LOAD]
    if len(fn) != len(sn):
        problems.append("non-LOAD program headers differ in number")
    for a, b in zip(fn, sn):
        if {k: v for k, v in a.items() if k != "offset"} != {k: v for k, v in b.items() if k != "offset"}:
            problems.append("program header differs: %r vs %r" % (a, b))
        if full.data[a["offset"]:a["offset"] + a["filesz"]] != sparse.data[b["offset"]:b["offset"] + b["filesz"]]:
            problems.append("segment bytes differ (type %d)" % a["type"])
    for a, b in zip(full.shdrs, sparse.shdrs):
        if {k: v for k, v in a.items() if k != "offset"} != {k: v for k, v in b.items() if k != "offset"}:
            problems.append("section header differs")
        if a["type"] not in (0, SHT_NOBITS) and \
                full.data[a["offset"]:a["offset"] + a["size"]] != sparse.data[b["offset"]:b["offset"] + b["size"]]:
            problems.append("section bytes differ")
    if [n["desc"] for n in full.notes] != [n["desc"] for n in sparse.notes]:
        problems.append("notes differ")
    # memory: exactly the kept frames, byte-identical
    covered = set()
    for p in sparse.loads:
        if p["filesz"] != p["memsz"] or p["paddr"] % PAGE or p["filesz"] % PAGE:
            problems.append("odd PT_LOAD %r" % p)
        for f in range(p["paddr"], p["paddr"] + p["filesz"], PAGE):
            covered.add(f)
            fp = full.find_load(f)
            if fp is None or (fp["vaddr"] and p["vaddr"] != fp["vaddr"] + (p["paddr"] - fp["paddr"])):
                problems.append("PT_LOAD vaddr/paddr mismatch at 0x%x" % f)
            if full.read_phys(f, PAGE) != sparse.read_phys(f, PAGE):
                problems.append("frame 0x%x differs" % f)
    if covered != set(frames):
        problems.append("covered frames != table frames (%d vs %d)" % (len(covered), len(frames)))
    # the walk on the sparse core finds the same tables and nothing missing
    sframes, smissing, _ = all_table_frames(sparse)
    if smissing:
        problems.append("sparse core lacks table frames %s" % sorted(hex(m) for m in smissing))
    if set(sframes) != set(frames):
        problems.append("walk of sparse core finds other tables")
    for cpu, want in expect_cr3:
        got = sparse.cpus[cpu]["cr"][3]
        if got != want:
            problems.append("cpu %d: CR3 in note 0x%x != expected 0x%x" % (cpu, got, want))
    for cpu, path in tlb_files:
        want = open(path, "rb").read().decode()
        for name, c in (("full", full), ("sparse", sparse)):
            got, miss = qemu_info_tlb(c, c.cpus[cpu])
            if miss:
                problems.append("%s: info tlb of cpu %d reads missing frames %s" % (name, cpu, sorted(map(hex, miss))))
            if got != want:
                problems.append("%s: reproduced info tlb of cpu %d differs from %s" % (name, cpu, path))
        log("info tlb cpu %d: reproduced byte for byte from full and sparse core (%d lines)" % (cpu, want.count("\n")))
    for cpu, path in gva_files:
        n = 0
        for line in open(path):
            addr_s, _, said = line.rstrip("\n").partition(" -> ")
            for name, c in (("full", full), ("sparse", sparse)):
                got, miss = qemu_gva2gpa(c, c.cpus[cpu], int(addr_s, 16))
                if miss:
                    problems.append("%s: gva2gpa %s reads missing memory" % (name, addr_s))
                if got != said:
                    problems.append("%s: gva2gpa cpu %d %s: QEMU said %r, core gives %r" % (name, cpu, addr_s, said, got))
            n += 1
        log("gva2gpa cpu %d: %d answers reproduced from full and sparse core" % (cpu, n))
    if problems:
        raise CoreError("verification failed:\n  " + "\n  ".join(problems[:50]))
    log("verified: %d PT_LOADs, %d frames, headers/notes/sections identical" % (len(sparse.loads), len(covered)))


def _cpu_json(core, i, cpu):
    d = dict(cpu)
    d["mode"] = paging_mode(cpu, core.lma)
    for k, v in list(d.items()):
        if isinstance(v, int) and k not in ("version", "size"):
            d[k] = "0x%x" % v
        elif isinstance(v, dict):
            d[k] = {kk: "0x%x" % vv for kk, vv in v.items()}
    d["cr"] = ["0x%x" % x for x in cpu["cr"]]
    return d


def _pair(s, conv):
    a, _, b = s.partition("=")
    return int(a), conv(b)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("sparsify", help="write the sparse core and verify it")
    a.add_argument("input")
    a.add_argument("output")
    a.add_argument("--elfclass", type=int, choices=(32, 64),
                   help="re-encode the ELF container in this class (default: as the input); "
                        "the notes and memory bytes are unchanged")
    for p in (a, sub.add_parser("verify", help="verify a sparse core against the full one")):
        if p is not a:
            p.add_argument("full")
            p.add_argument("sparse")
        p.add_argument("--tlb", action="append", default=[], metavar="CPU=FILE",
                       help="`info tlb` text of a vCPU to reproduce from both cores")
        p.add_argument("--gva2gpa", action="append", default=[], metavar="CPU=FILE",
                       help="file of 'ADDR -> answer' lines to reproduce from both cores")
        p.add_argument("--expect-cr3", action="append", default=[], metavar="CPU=HEX")
    a = sub.add_parser("info", help="ELF layout and vCPU states as JSON")
    a.add_argument("core")
    a = sub.add_parser("tlb", help="print QEMU 7.2 `info tlb` for a vCPU, from the core")
    a.add_argument("core")
    a.add_argument("cpu", type=int)
    a = sub.add_parser("gva2gpa", help="print QEMU 7.2 `gva2gpa` answers for a vCPU, from the core")
    a.add_argument("core")
    a.add_argument("cpu", type=int)
    a.add_argument("addr", nargs="+")
    a = sub.add_parser("tables", help="list the paging-structure frames as JSON")
    a.add_argument("core")
    args = ap.parse_args(argv)

    if args.cmd == "sparsify":
        core = Core(args.input)
        if not core.cpus:
            raise CoreError("no QEMU notes in %s" % args.input)
        frames, missing, per_cpu = all_table_frames(core)
        if missing:
            raise CoreError("table frames outside the dumped memory: %s" % sorted(map(hex, missing)))
        for st in per_cpu:
            c = core.cpus[st["cpu"]]
            print("cpu %d: mode %s CR0=0x%x CR3=0x%x CR4=0x%x: %d table frames, %d present non-leaf entries "
                  "and present leaf entries %s (each distinct table counted once)"
                  % (st["cpu"], st["mode"], c["cr"][0], c["cr"][3], c["cr"][4], st["tables"],
                     st["nonleaf"], st["leaves"]))
        runs = write_sparse(core, frames, args.output, args.elfclass and args.elfclass // 32)
        print("kept %d frames (%d KiB) in %d PT_LOADs" % (len(frames), len(frames) * 4, len(runs)))
        sparse = Core(args.output)
        verify(core, sparse, frames, [_pair(s, str) for s in args.tlb], [_pair(s, str) for s in args.gva2gpa],
               [_pair(s, lambda x: int(x, 16)) for s in args.expect_cr3])
    elif args.cmd == "verify":
        verify(Core(args.full), Core(args.sparse), None, [_pair(s, str) for s in args.tlb],
               [_pair(s, str) for s in args.gva2gpa], [_pair(s, lambda x: int(x, 16)) for s in args.expect_cr3])
    elif args.cmd == "info":
        core = Core(args.core)
        print(json.dumps(dict(
            elfclass=core.elfclass, e_machine=core.e_machine, e_ehsize=core.e_ehsize,
            e_phoff=core.e_phoff, e_shoff=core.e_shoff, e_shnum=core.e_shnum,
            phdrs=[{k: (hex(v) if k != "type" else v) for k, v in p.items()} for p in core.phdrs],
            notes=[dict(name=n["name"].decode(), type=n["type"], descsz=len(n["desc"]),
                        offset=hex(n["offset"]), desc_offset=hex(n["desc_offset"])) for n in core.notes],
            cpus=[_cpu_json(core, i, c) for i, c in enumerate(core.cpus)]), indent=1))
    elif args.cmd == "tlb":
        core = Core(args.core)
        text, miss = qemu_info_tlb(core, core.cpus[args.cpu])
        sys.stdout.write(text)
        if miss:
            print("missing frames: %s" % sorted(map(hex, miss)), file=sys.stderr)
    elif args.cmd == "gva2gpa":
        core = Core(args.core)
        for s in args.addr:
            said, miss = qemu_gva2gpa(core, core.cpus[args.cpu], int(s, 16))
            print("%s -> %s" % (s, said))
    elif args.cmd == "tables":
        core = Core(args.core)
        frames, missing, per_cpu = all_table_frames(core)
        print(json.dumps(dict(per_cpu=per_cpu, missing=sorted(map(hex, missing)),
                              frames={hex(k): sorted(v) for k, v in sorted(frames.items())}), indent=1))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CoreError as e:
        print("sparsify_core: %s" % e, file=sys.stderr)
        sys.exit(1)
