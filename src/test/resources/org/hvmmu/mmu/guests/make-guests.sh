#!/usr/bin/env bash
# Reproduces the real-guest MMU test data in this directory:
#   linux-4level/  linux-5level/  linux-pae/
# Each guest directory gets core.elf.gz (a sparse ELF core holding only the
# paging-structure frames, see sparsify_core.py), info-registers-cpuN.txt,
# info-tlb-cpuN.txt.gz, gva2gpa-cpuN.txt and README.md.
#
# Debian 12 (bookworm) packages only: qemu-system-x86, the amd64 and i386
# linux-image packages (downloaded and unpacked, not installed) and
# busybox-static (amd64 and i386). Needs root (apt-get, mknod), ~4 GiB free
# disk in $WORK and a few minutes. NOT run by CI.
#
# Usage: make-guests.sh [GUEST...]        (default: all three)
# Environment:
#   OUT=dir         where the guest directories are written (default: beside this script)
#   WORK=dir        scratch directory (default: a new mktemp -d); kept only with KEEP_WORK=1
#   SKIP_APT=1      do not run apt-get update/install (packages already there)
#   KERNEL_AMD64=pkg   / KERNEL_686PAE=pkg   exact kernel packages to use
#                   (default: what linux-image-amd64 / linux-image-686-pae:i386 depend on)
#   SETTLE=seconds  how long user processes run before the first stop attempt (default 5)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$HERE}"
if [ -z "${WORK:-}" ]; then
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/hvmmu-guests.XXXXXX")"
fi
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
SETTLE="${SETTLE:-5}"
export PYTHONDONTWRITEBYTECODE=1  # keep __pycache__ out of the resources directory
if [ $# -eq 0 ]; then
    set -- linux-4level linux-5level linux-pae
fi
cleanup() {
    if [ "${KEEP_WORK:-0}" != 1 ]; then rm -rf "$WORK"; else echo "work directory kept: $WORK"; fi
}
trap cleanup EXIT
log() { echo "== $*" >&2; }

# ---------------------------------------------------------------- packages
if [ "${SKIP_APT:-0}" != 1 ]; then
    log "installing packages"
    export DEBIAN_FRONTEND=noninteractive
    dpkg --add-architecture i386
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends qemu-system-x86 cpio gzip binutils >/dev/null
    command -v python3 >/dev/null || apt-get install -y -qq --no-install-recommends python3 >/dev/null
fi
dep_of() {  # the linux-image-X.Y.Z-N-flavour package a meta package depends on
    apt-cache depends "$1" | awk '/Depends: linux-image-/ { print $2; exit }'
}
KERNEL_AMD64="${KERNEL_AMD64:-$(dep_of linux-image-amd64)}"
KERNEL_686PAE="${KERNEL_686PAE:-$(dep_of linux-image-686-pae:i386)}"
case "$KERNEL_686PAE" in *:i386) ;; *) KERNEL_686PAE="$KERNEL_686PAE:i386" ;; esac

mkdir -p "$WORK/debs"
log "downloading $KERNEL_AMD64 $KERNEL_686PAE busybox-static:amd64 busybox-static:i386"
chmod 777 "$WORK/debs"   # lets apt's _apt user write there
(cd "$WORK/debs" && apt-get download -q "$KERNEL_AMD64" "$KERNEL_686PAE" busybox-static:amd64 busybox-static:i386 2>&1 \
    | grep -v 'unsandboxed as root' >&2 || true)
deb_of() { ls "$WORK"/debs/"$1"_*_"$2".deb | head -n1; }
DEB_K64="$(deb_of "$KERNEL_AMD64" amd64)"
DEB_K32="$(deb_of "${KERNEL_686PAE%:i386}" i386)"
DEB_BB64="$(deb_of busybox-static amd64)"
DEB_BB32="$(deb_of busybox-static i386)"
pkgver() { echo "$(dpkg-deb -f "$1" Package) $(dpkg-deb -f "$1" Version) ($(dpkg-deb -f "$1" Architecture))"; }

extract_kernel() {  # deb -> vmlinuz
    dpkg-deb --fsys-tarfile "$1" | tar -x -O --wildcards './boot/vmlinuz-*' > "$2"
}
build_initrd() {  # busybox deb, output
    local deb="$1" out="$2" root
    root="$(mktemp -d "$WORK/initrd.XXXXXX")"
    dpkg-deb -x "$deb" "$root/pkg"
    mkdir -p "$root/fs/bin" "$root/fs/dev" "$root/fs/proc" "$root/fs/sys" "$root/fs/tmp"
    cp "$root/pkg/bin/busybox" "$root/fs/bin/busybox"
    mknod "$root/fs/dev/console" c 5 1
    cat > "$root/fs/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
echo "hvmmu: uname: $(uname -a)"
echo "hvmmu: $(grep -m1 vendor_id /proc/cpuinfo)"
echo "hvmmu: $(grep -m1 'model name' /proc/cpuinfo)"
echo "hvmmu: $(grep -m1 '^flags' /proc/cpuinfo)"
echo "hvmmu: meltdown: $(cat /sys/devices/system/cpu/vulnerabilities/meltdown 2>&1)"
echo "hvmmu: cmdline: $(cat /proc/cmdline)"
sh -c 'while :; do :; done' &
sh -c 'while :; do :; done' &
sh -c 'while :; do :; done' &
sleep 1000 &
echo "hvmmu: maps of a busybox process (sleep, pid $!):"
sed 's/^/hvmmu:   /' /proc/$!/maps
echo "hvmmu: user processes:"
ps | grep -v ' \[' | sed 's/^/hvmmu:   /'
echo HVMMU-INIT-READY
while :; do sleep 3600; done
EOF
    chmod 755 "$root/fs/init"
    (cd "$root/fs" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 -n > "$out"
    rm -rf "$root"
}

log "unpacking kernels, building initramfs images"
extract_kernel "$DEB_K64" "$WORK/vmlinuz-amd64"
extract_kernel "$DEB_K32" "$WORK/vmlinuz-686-pae"
build_initrd "$DEB_BB64" "$WORK/initrd-amd64.gz"
build_initrd "$DEB_BB32" "$WORK/initrd-i386.gz"

# ---------------------------------------------------------------- driver
cat > "$WORK/capture_guest.py" <<'PYEOF'
"""Boot one guest under QEMU/TCG, stop it with user code on the vCPUs, capture monitor output and a core."""
import json, os, random, re, shlex, socket, subprocess, sys, time

sys.path.insert(0, os.environ["HVMMU_TOOLS"])
import sparsify_core as sc

name, outdir = sys.argv[1], sys.argv[2]
qemu_args = json.loads(sys.argv[3])
meta = json.loads(sys.argv[4])
settle = float(os.environ.get("SETTLE", "5"))
os.makedirs(outdir, exist_ok=True)
qmp_path = os.path.join(outdir, "qmp.sock")
serial = os.path.join(outdir, "serial.log")
for p in (qmp_path, serial):
    if os.path.exists(p):
        os.unlink(p)
cmd = qemu_args + ["-qmp", "unix:%s,server=on,wait=off" % qmp_path, "-serial", "file:%s" % serial]


class QMP:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.f = self.s.makefile("rwb", buffering=0)
        self.greeting = self._read()
        self.cmd("qmp_capabilities")

    def _read(self):
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("QMP closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def cmd(self, name, **args):
        req = {"execute": name}
        if args:
            req["arguments"] = args
        self.f.write(json.dumps(req).encode() + b"\n")
        msg = self._read()
        if "error" in msg:
            raise RuntimeError("%s: %s" % (name, msg["error"]))
        return msg["return"]

    def hmp(self, line, cpu):
        """Exact HMP output (human-monitor-command is the HMP handler; no prompt, no echo)."""
        out = self.cmd("human-monitor-command", **{"command-line": line, "cpu-index": cpu})
        return out


def lf(text):
    """The monitor ends lines with \\r\\n; the files use \\n."""
    assert "\r" not in text.replace("\r\n", "\n"), "stray CR"
    return text.replace("\r\n", "\n")


log = lambda *a: print("[%s]" % name, *a, file=sys.stderr, flush=True)
log("starting:", " ".join(shlex.quote(c) for c in cmd))
proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=open(os.path.join(outdir, "qemu.out"), "w"),
                        stderr=subprocess.STDOUT)
try:
    for _ in range(600):
        if os.path.exists(qmp_path):
            break
        time.sleep(0.1)
    q = QMP(qmp_path)
    version = q.cmd("query-version")
    t0 = time.time()
    while True:
        text = open(serial, errors="replace").read() if os.path.exists(serial) else ""
        if "HVMMU-INIT-READY" in text:
            break
        if proc.poll() is not None or time.time() - t0 > 600:
            raise SystemExit("guest did not reach HVMMU-INIT-READY; see %s" % serial)
        time.sleep(0.5)
    log("init ready after %.1f s; letting user processes run %.1f s" % (time.time() - t0, settle))
    time.sleep(settle)
    ncpu = len(q.cmd("query-cpus-fast"))

    # stop with user code current on every vCPU (on one at least, after many tries)
    rnd = random.Random(1)
    for attempt in range(1, 41):
        q.cmd("stop")
        regs = [lf(q.hmp("info registers", c)) for c in range(ncpu)]
        cpl = [int(re.search(r"CPL=(\d)", r).group(1)) for r in regs]
        if all(c == 3 for c in cpl) or (attempt > 20 and 3 in cpl):
            break
        log("attempt %d: CPL per vCPU %s, continuing" % (attempt, cpl))
        q.cmd("cont")
        time.sleep(0.2 + rnd.random())
    else:
        raise SystemExit("never stopped with user code on a vCPU")
    log("stopped at attempt %d, CPL per vCPU %s" % (attempt, cpl))

    tlb = [lf(q.hmp("info tlb", c)) for c in range(ncpu)]
    core_path = os.path.join(outdir, "core-full.elf")
    if os.path.exists(core_path):
        os.unlink(core_path)
    q.cmd("dump-guest-memory", paging=False, protocol="file:" + core_path)
    st = q.cmd("query-dump")
    assert st["status"] == "completed", st
    core = sc.Core(core_path)
    assert len(core.cpus) == ncpu, (len(core.cpus), ncpu)

    # choose the gva2gpa addresses from each vCPU's own page tables
    def picks_for(c):
        cpu = core.cpus[c]
        mode = sc.paging_mode(cpu, core.lma)
        wide = mode in ("la48", "la57")
        amask = sc.U64 if wide else 0xFFFFFFFF
        uniq = {}
        for va, size, pa, e in sc.leaf_mappings(core, cpu):
            uniq.setdefault(va, (va, size, pa, e))
        leaves = sorted(uniq.values())
        user = [l for l in leaves if l[3] & sc.PG_USER]
        kern = [l for l in leaves if not l[3] & sc.PG_USER]
        out, seen = [], set()

        def add(a, label):
            a &= amask
            if a not in seen and len(out) < 40:
                seen.add(a)
                out.append((a, label))

        def mapped(a):
            return any(l[0] <= a < l[0] + l[1] for l in leaves)

        add(cpu["rip"], "RIP")
        add(cpu["rsp"], "RSP")
        if user:
            add(user[0][0] + 0x123, "first user page")
            exe = [l for l in user if not l[3] & sc.PG_NX]
            if exe:
                add(exe[len(exe) // 2][0] + 0x456, "user code page (no NX)")
            rw = [l for l in user if l[3] & sc.PG_RW]
            if rw:
                add(rw[0][0] + 0xabc, "first writable user page")
                add(rw[-1][0] + 0xff8, "last writable user page (stack)")
            add(user[-1][0] + 0xfff, "last user page, last byte (vDSO)")
            for i in range(len(user) - 1):
                end = user[i][0] + user[i][1]
                if end != user[i + 1][0]:
                    add(end + 0x10, "hole after a user mapping")
                    break
        add(cpu["gdt"]["base"], "GDT base")
        add(cpu["idt"]["base"], "IDT base")
        add(cpu["tr"]["base"], "TR (TSS) base")
        if wide and cpu.get("kernel_gs_base"):
            add(cpu["kernel_gs_base"], "KERNEL_GS_BASE (per-CPU area)")
        for size, nm in ((1 << 30, "1 GiB"), (2 << 20, "2 MiB"), (4 << 20, "4 MiB")):
            big = [l for l in leaves if l[1] == size]
            if big:
                add(big[0][0] + size // 2 + 0x1234, "first %s page, inside" % nm)
                add(big[len(big) // 2][0] + 0x10, "a %s page in the middle of the list" % nm)
                add(big[-1][0] + size - 1, "last %s page, last byte" % nm)
        kbase = 0xFFFFFFFF80000000 if wide else 0xC0000000
        kend = 0xFFFFFFFFC0000000 if wide else 0x100000000
        ktext = [l for l in kern if not l[3] & sc.PG_NX and kbase <= l[0] < kend]
        if ktext:
            add(ktext[0][0] + 0x10, "kernel text, first executable supervisor page")
            add(ktext[len(ktext) // 2][0] + 0x800, "kernel text, middle")
        kmod = [l for l in kern if not l[3] & sc.PG_NX and l[0] >= kend]
        if kmod:
            add(kmod[0][0] + 0x40, "executable supervisor page above the kernel image (module area)")
        espfix = [l for l in kern if wide and 0xFFFFFF0000000000 <= l[0] < 0xFFFFFF8000000000]
        if espfix:
            add(espfix[0][0] + 0x100, "espfix64, first mapping")
            add(espfix[-1][0] + 0xf00, "espfix64, last mapping (same frame, shared tables)")
        k4 = [l for l in kern if l[1] == 4096 and l not in espfix]
        if k4:
            add(k4[0][0], "first supervisor 4 KiB page")
            add(k4[len(k4) // 4][0] + 0x321, "supervisor 4 KiB page, 1/4 through the list")
            add(k4[len(k4) // 2][0] + 0x654, "supervisor 4 KiB page, 1/2 through the list")
            add(k4[3 * len(k4) // 4][0] + 0x987, "supervisor 4 KiB page, 3/4 through the list")
            add(k4[-1][0] + 0xffc, "last supervisor 4 KiB page (fixmap/local APIC)")
        for i in range(len(kern) - 1):
            end = kern[i][0] + kern[i][1]
            if end != kern[i + 1][0] and not mapped(end):
                add(end + 0x20, "hole after a supervisor mapping")
                break
        add(0, "NULL")
        if wide:
            add(0x00007FFFFFFFF000, "top of the 47-bit user half")
            add(0x0000800000000000, "bit 47 set: non-canonical with 4 levels, canonical with 5")
            add(0x00FF000000000000, "bits 55:48 set: non-canonical with 4 levels, canonical with 5")
            add(0xDEAD000000000000, "non-canonical in both modes")
            add(0xFFFF800000000000, "first address of the 4-level kernel half")
            add(0xFF00000000000000, "first address of the 5-level kernel half")
        else:
            add(0xBFFFF000, "last page below the 3 GiB split")
        add(amask, "last linear address")
        return out, mode, wide

    gva = []
    labels = []
    for c in range(ncpu):
        picks, mode, wide = picks_for(c)
        lines = []
        for a, label in picks:
            s = ("0x%016x" if wide else "0x%08x") % a
            said = lf(q.hmp("gva2gpa " + s, c))
            assert said.endswith("\n") and said.count("\n") == 1, repr(said)
            lines.append("%s -> %s\n" % (s, said[:-1]))
            labels.append((c, s, label, said[:-1]))
        gva.append("".join(lines))

    # still the same instant?
    regs2 = [lf(q.hmp("info registers", c)) for c in range(ncpu)]
    tlb2 = [lf(q.hmp("info tlb", c)) for c in range(ncpu)]
    assert regs2 == regs and tlb2 == tlb, "monitor output changed while stopped"
    q.cmd("quit")
    proc.wait(timeout=60)
except BaseException:
    proc.kill()
    raise

# ------------------------------------------------------------------ checks
def parse_regs(text):
    d = {}
    for k, v in re.findall(r"\b([A-Z][A-Z0-9]*) ?=([0-9a-f]+)\b", text):
        d.setdefault(k, int(v, 16))
    segs = {}
    for m in re.finditer(r"^(ES|CS|SS|DS|FS|GS|LDT|TR) ?=([0-9a-f]{4}) ([0-9a-f]+) ([0-9a-f]{8}) ([0-9a-f]{8})", text, re.M):
        segs[m.group(1).lower()] = dict(selector=int(m.group(2), 16), base=int(m.group(3), 16),
                                        limit=int(m.group(4), 16), flags=int(m.group(5), 16))
    for m in re.finditer(r"^(GDT|IDT)=\s+([0-9a-f]+) ([0-9a-f]{8})", text, re.M):
        segs[m.group(1).lower()] = dict(base=int(m.group(2), 16), limit=int(m.group(3), 16))
    return d, segs


mismatch = []
for c in range(ncpu):
    d, segs = parse_regs(regs[c])
    n = core.cpus[c]
    wide = core.elfclass == 2 and core.lma
    names = {"rax": "AX", "rbx": "BX", "rcx": "CX", "rdx": "DX", "rsi": "SI", "rdi": "DI", "rsp": "SP",
             "rbp": "BP", "rip": "IP"}
    for k, short in names.items():
        key = ("R" if "R" + short in d else "E") + short
        if d[key] != n[k]:
            mismatch.append("cpu %d %s: monitor %x note %x" % (c, key, d[key], n[k]))
    for i in range(8, 16):
        key = "R%d" % i
        if key in d and d[key] != n["r%d" % i]:
            mismatch.append("cpu %d %s" % (c, key))
    rfl = d.get("RFL", d.get("EFL"))
    if rfl != n["rflags"]:
        mismatch.append("cpu %d RFL: monitor %x note %x" % (c, rfl, n["rflags"]))
    for k in ("CR0", "CR2", "CR3", "CR4"):
        if d[k] != n["cr"][int(k[2])]:
            mismatch.append("cpu %d %s: monitor %x note %x" % (c, k, d[k], n["cr"][int(k[2])]))
    for s, v in segs.items():
        for f, x in v.items():
            # info registers prints segment flags & 0x00ffff00
            if (n[s][f] & 0x00FFFF00 if f == "flags" else n[s][f]) != x:
                mismatch.append("cpu %d %s.%s: monitor %x note %x" % (c, s, f, x, n[s][f]))
if any("CR" in m for m in mismatch):
    raise SystemExit("QEMU note disagrees with info registers: %s" % mismatch)

for c in range(ncpu):
    open(os.path.join(outdir, "info-registers-cpu%d.txt" % c), "w", newline="").write(regs[c])
    open(os.path.join(outdir, "info-tlb-cpu%d.txt" % c), "w", newline="").write(tlb[c])
    open(os.path.join(outdir, "gva2gpa-cpu%d.txt" % c), "w", newline="").write(gva[c])
text = open(serial, errors="replace").read()
info = dict(
    qemu_version=version, command_line=cmd, ncpu=ncpu, stop_attempt=attempt, cpl=cpl,
    note_register_mismatches=mismatch, labels=labels,
    guest_lines=[l for l in text.splitlines() if l.startswith("hvmmu:")],
    kernel_lines=[l for l in text.splitlines() if re.search(
        r"Linux version|Command line:|BIOS-e820|Memory:|5-level|x86/mm|PAE|NX \(Execute|Kernel/User page tables", l)],
    regs={c: {k: "%x" % parse_regs(regs[c])[0][k] for k in ("CR0", "CR3", "CR4", "EFER") if k in parse_regs(regs[c])[0]}
          for c in range(ncpu)},
    tlb_lines=[t.count("\n") for t in tlb],
    modes=[sc.paging_mode(cpu, core.lma) for cpu in core.cpus],
    full_core_size=os.path.getsize(core_path),
    full_core_loads=[dict(paddr="0x%x" % p["paddr"], vaddr="0x%x" % p["vaddr"], size="0x%x" % p["filesz"])
                     for p in core.loads],
    elf="ELFCLASS%d, e_machine %d" % (32 * core.elfclass, core.e_machine),
    notes=["%s/%d descsz %d" % (n["name"].decode(), n["type"], len(n["desc"])) for n in core.notes],
    date=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
)
json.dump(info, open(os.path.join(outdir, "capture.json"), "w"), indent=1)
log("captured: modes %s, CR3 %s, info tlb lines %s" % (info["modes"], [hex(c["cr"][3]) for c in core.cpus], info["tlb_lines"]))
if mismatch:
    log("note/info registers mismatches (non-CR): %s" % mismatch)
PYEOF

# ---------------------------------------------------------------- README
cat > "$WORK/write_readme.py" <<'PYEOF'
import json, os, shlex, sys
name, work, dest = sys.argv[1], sys.argv[2], sys.argv[3]
meta = json.loads(sys.argv[4])
info = json.load(open(os.path.join(work, "capture.json")))
sparse_raw = os.path.getsize(os.path.join(work, "core.elf"))
sizes = {f: os.path.getsize(os.path.join(dest, f)) for f in sorted(os.listdir(dest)) if f != "README.md"}
cmd = " ".join(shlex.quote(a) for a in info["command_line"]).replace(meta["work"], "$WORK")
v = info["qemu_version"]
L = []
w = L.append
w("# %s: real guest MMU state captured from QEMU" % name)
w("")
w(meta["what"])
w("")
w("Generated by `../make-guests.sh` on %s. Do not edit by hand; rerun the script (the data will differ: KASLR, timing)." % info["date"])
w("")
w("## Setup")
w("")
w("- QEMU: %s (`qemu-system-x86` %s), TCG, no KVM; QMP query-version: %d.%d.%d, package \"%s\"."
  % (meta["qemu_bin"], meta["qemu_pkg"], v["qemu"]["major"], v["qemu"]["minor"], v["qemu"]["micro"], v["package"]))
w("- Kernel: `%s`, booted with `-kernel` (vmlinuz from the .deb, unpacked with dpkg-deb, not installed)." % meta["kernel_pkg"])
w("- Initramfs: `%s` (`/bin/busybox` only). `/init` mounts proc/sysfs/devtmpfs, starts three `sh -c 'while :; do :; done'` busy loops and `sleep 1000` in the background, prints `HVMMU-INIT-READY` on ttyS0 and sleeps forever." % meta["busybox_pkg"])
w("- Command line (`$WORK` is the script's temporary directory):")
w("")
w("```")
w(cmd)
w("```")
w("")
w("## Capture")
w("")
w("The script drives QEMU over QMP: it waits for `HVMMU-INIT-READY` on the serial console, lets the busy loops run %s s, then `stop`s the VM and reads `info registers` of every vCPU; if any vCPU is not at CPL 3 it `cont`s and tries again (here: stopped at attempt %d, CPL per vCPU %s). While stopped it captures everything below, then repeats `info registers` and `info tlb` and checks they are unchanged before `quit`, so memory and monitor output are from one instant." % (meta["settle"], info["stop_attempt"], info["cpl"]))
w("")
w("Monitor output is taken with QMP `human-monitor-command` (with `cpu-index`), which runs the same HMP handler as the text monitor and returns its exact output without prompt or echo (checked once against a `-monitor unix:` socket: the bytes after the echoed command line and before the next `(qemu) ` prompt are identical). The monitor ends every line with `\\r\\n`; the files here have each `\\r\\n` converted to `\\n` and nothing else changed.")
w("")
w("- `info-registers-cpuN.txt`: `info registers` of vCPU N (it starts with an empty line and `CPU#N`, as QEMU prints it).")
if all(m in ("la48", "la57") for m in info["modes"]):
    w("- `info-tlb-cpuN.txt.gz`: `info tlb` of vCPU N, gzip -9 -n. Uncompressed it is over 3 MB, because espfix64 maps one 4 KiB stack frame 65536 times (every 64 KiB over a 4 GiB range in the 0xffffff0000000000 slot; 4 PDPT entries share one PD, whose 512 entries share one PT with 32 present entries), and QEMU prints every mapping.")
else:
    w("- `info-tlb-cpuN.txt.gz`: `info tlb` of vCPU N, gzip -9 -n (compressed like the 64-bit guests' files, which are several MB uncompressed).")
w("- `gva2gpa-cpuN.txt`: `gva2gpa ADDR` on vCPU N, one line per address: `ADDR -> answer` where answer is the monitor's single output line (`gpa: 0x...` or `Unmapped`). Addresses were picked from the page tables of that vCPU (labels below).")
w("- `core.elf.gz`: `dump-guest-memory` (plain ELF, paging=false), shrunk by `../sparsify_core.py` to the frames that hold paging structures reachable from the vCPUs' CR3, then gzip -9 -n. Header, section headers, .shstrtab and the whole PT_NOTE are copied unchanged; one PT_LOAD per run of consecutive kept 4 KiB frames, p_paddr = physical address, p_vaddr carried over from the original segment (0 for RAM, as QEMU writes for paging=false; QEMU 7.2 gives the BIOS ROM segment at 0xfffc0000 p_vaddr = p_paddr, but no table lives there). Physical memory not in a PT_LOAD was dropped.")
if os.path.exists(os.path.join(dest, "core-elf32.elf.gz")):
    w("- `core-elf32.elf.gz`: the same sparse core re-encoded as ELFCLASS32 (`sparsify_core.py sparsify --elfclass 32`): same e_machine, e_ehsize, note bytes, section bytes and memory bytes; only the container (ELF/program/section header encoding and offsets) differs. QEMU 7.2 itself wrote ELFCLASS64 here, see Notes. The same checks were run on it.")
w("")
w("Checks done by the script (all passed): the CR0/CR2/CR3/CR4, general registers, RIP, RFLAGS and segment/GDT/IDT values in each QEMU note equal `info registers` (segment flags compared as `flags & 0x00ffff00`, which is what the monitor prints; the note has the raw value); every kept frame is byte-identical to the full dump; the PT_LOADs cover exactly the table frames; walking the sparse core finds the same tables and nothing missing; `info tlb` of every vCPU is reproduced byte for byte from the full and from the sparse core (QEMU 7.2 algorithm and masks); every `gva2gpa` answer is reproduced from both cores.")
if info["note_register_mismatches"]:
    w("")
    w("Note/`info registers` differences outside the control registers: %s" % "; ".join(info["note_register_mismatches"]))
w("")
w("## Values")
w("")
w("| vCPU | paging | CR0 | CR3 | CR4 | EFER | info tlb lines |")
w("| --- | --- | --- | --- | --- | --- | --- |")
for c in range(info["ncpu"]):
    r = info["regs"][str(c)]
    w("| %d | %s | %s | %s | %s | %s | %d |" % (c, info["modes"][c], r["CR0"], r["CR3"], r["CR4"], r.get("EFER", "-"), info["tlb_lines"][c]))
w("")
w("Full dump: %s; PT_LOADs (paddr, vaddr, size): %s; notes in order: %s." % (info["elf"], ", ".join(
    "(%s, %s, %s)" % (l["paddr"], l["vaddr"], l["size"]) for l in info["full_core_loads"]), ", ".join(info["notes"])))
w("")
w("Sizes: full dump %d bytes; sparse core %d bytes uncompressed, %d bytes as core.elf.gz." % (info["full_core_size"], sparse_raw, sizes["core.elf.gz"]))
w("")
w("| file | bytes |")
w("| --- | --- |")
for f, s in sizes.items():
    w("| %s | %d |" % (f, s))
w("")
w("Table frames kept (from `sparsify_core.py sparsify`):")
w("")
w("```")
w(open(os.path.join(work, "sparsify.log")).read().rstrip())
w("```")
w("")
w("## gva2gpa addresses")
w("")
w("| vCPU | address | picked as | QEMU said |")
w("| --- | --- | --- | --- |")
for c, a, label, said in info["labels"]:
    w("| %d | `%s` | %s | `%s` |" % (c, a, label, said))
w("")
w("## Guest console (lines printed by /init)")
w("")
w("```")
L.extend(info["guest_lines"])
w("```")
w("")
w("Kernel messages of interest:")
w("")
w("```")
L.extend(info["kernel_lines"])
w("```")
w("")
w("## Notes (QEMU 7.2 quirks seen in this data)")
w("")
w("- ELF layout written by QEMU 7.2: ELF header, then the section header table at offset 64 (a NULL section and `.shstrtab`), then the program headers, the single PT_NOTE, the memory, and `.shstrtab` (11 bytes) at the very end. `e_ehsize` is 8, not 52/64 (dump.c uses `sizeof(elf_header)` of a pointer); it is copied unchanged. Notes: all `CORE` NT_PRSTATUS notes first (one per vCPU), then all `QEMU` notes (n_type 0, QEMUCPUState, 440 bytes: version 1, size 440, includes kernel_gs_base at offset 432).")
w("- `info tlb` prints `%016x: %016x` then 9 flag characters `XGPDACTUW` (NX, global, PS, dirty, accessed, PCD, PWT, user, writable; `-` when clear), one line per present leaf in ascending table order. The second column is `entry & mask`, not a clean physical address: 4 KiB in 4/5-level: 0x3fffffffff000; 2 MiB: 0x3ffffffe00000; 1 GiB: 0x3ffffc0000000; PAE 4 KiB: `entry & ~0xfff` and PAE 2 MiB: `entry & ~0xfffff`, so in PAE mode NX (bit 63) shows up in the address (e.g. `8000000000200000`). For 4 KiB entries QEMU clears bit 7 (PAT) before printing, so `P` only appears on large pages. In 5-level mode addresses are sign-extended from bit 56, in 4-level mode from bit 47. Shared tables are printed each time they are referenced (espfix64).")
w("- `gva2gpa` prints `gpa: %#lx`, so physical address 0 is printed as `gpa: 0` (no 0x). It ignores permission bits; a non-canonical address gives `Unmapped`.")
w("- The `QEMU` note stores segment flags raw; `info registers` prints `flags & 0x00ffff00`.")
if any(r["CR4"] != info["regs"]["0"]["CR4"] for r in info["regs"].values()):
    w("- The vCPUs' CR4 values differ (as the guest set them; e.g. CR4.PSE, bit 4, set only on the boot CPU by the 64-bit kernel, where it has no effect).")
if info["elf"].startswith("ELFCLASS64") and "e_machine 3" in info["elf"]:
    w("- The full dump is ELFCLASS64 with e_machine EM_386 (3) and 32-bit NT_PRSTATUS notes (144 bytes): QEMU 7.2's cpu_get_dump_info() chooses ELFCLASS64 when any guest memory block ends above 0xffffffff, and the BIOS ROM block 0xfffc0000 + 0x40000 ends at exactly 0x100000000, so a plain 32-bit ELF core is not what this QEMU writes for a pc guest. `core.elf.gz` keeps QEMU's ELFCLASS64; `core-elf32.elf.gz` is the re-encoded ELFCLASS32 variant. Long mode is not active (EFER.LMA=0), so EM_386 is the paging-mode hint for readers.")
if any(m == "pae" for m in info["modes"]):
    w("- CR3 of a PAE guest is 32-byte aligned, not page aligned (Linux allocates PAE PDPTs from a slab); the kept frame is the 4 KiB frame that contains the PDPT, so it may contain other processes' PDPTs as well.")
w("")
open(os.path.join(dest, "README.md"), "w").write("\n".join(L) + "\n")
PYEOF

# ---------------------------------------------------------------- guests
QEMU_PKG="$(dpkg-query -W -f '${Version}' qemu-system-x86)"
run_guest() {  # name qemu-binary cpu smp mem kernel initrd append what
    local name="$1" bin="$2" cpu="$3" smp="$4" mem="$5" kernel="$6" initrd="$7" append="$8" what="$9"
    local kdeb bbdeb
    local gw="$WORK/$name" dest="$OUT/$name"
    if [ "$bin" = qemu-system-i386 ]; then kdeb="$DEB_K32"; bbdeb="$DEB_BB32"; else kdeb="$DEB_K64"; bbdeb="$DEB_BB64"; fi
    log "guest $name"
    rm -rf "$gw"; mkdir -p "$gw"
    local args
    args="$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' \
        "$bin" -accel tcg -machine pc -cpu "$cpu" -smp "$smp" -m "$mem" \
        -kernel "$kernel" -initrd "$initrd" -append "$append" \
        -nodefaults -display none -no-reboot)"
    local meta
    meta="$(python3 -c 'import json,sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' \
        work "$WORK" what "$what" qemu_bin "$($bin --version | head -n1)" qemu_pkg "$QEMU_PKG" \
        kernel_pkg "$(pkgver "$kdeb")" busybox_pkg "$(pkgver "$bbdeb")" settle "$SETTLE")"
    HVMMU_TOOLS="$HERE" SETTLE="$SETTLE" python3 "$WORK/capture_guest.py" "$name" "$gw" "$args" "$meta"
    local ncpu; ncpu="$(ls "$gw"/info-registers-cpu*.txt | wc -l)"
    local opts=() c cr3
    for ((c = 0; c < ncpu; c++)); do
        cr3="$(sed -n 's/.*CR3=\([0-9a-f]*\).*/\1/p' "$gw/info-registers-cpu$c.txt")"
        opts+=(--tlb "$c=$gw/info-tlb-cpu$c.txt" --gva2gpa "$c=$gw/gva2gpa-cpu$c.txt" --expect-cr3 "$c=$cr3")
    done
    python3 "$HERE/sparsify_core.py" sparsify "$gw/core-full.elf" "$gw/core.elf" "${opts[@]}" | tee "$gw/sparsify.log"
    readelf -a "$gw/core.elf" > "$gw/readelf.txt"
    rm -rf "$dest"; mkdir -p "$dest"
    gzip -9 -n -c "$gw/core.elf" > "$dest/core.elf.gz"
    # QEMU 7.2 writes ELFCLASS64 for a 32-bit guest on pc (the BIOS ROM block ends at 4 GiB);
    # also provide the same sparse core re-encoded as ELFCLASS32.
    if python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import sparsify_core as s
c = s.Core(sys.argv[2]); sys.exit(0 if (c.elfclass, c.e_machine) == (2, s.EM_386) else 1)' "$HERE" "$gw/core-full.elf"; then
        python3 "$HERE/sparsify_core.py" sparsify --elfclass 32 "$gw/core-full.elf" "$gw/core-elf32.elf" "${opts[@]}" \
            | tee "$gw/sparsify-elf32.log"
        readelf -a "$gw/core-elf32.elf" > "$gw/readelf-elf32.txt"
        gzip -9 -n -c "$gw/core-elf32.elf" > "$dest/core-elf32.elf.gz"
    fi
    for ((c = 0; c < ncpu; c++)); do
        cp "$gw/info-registers-cpu$c.txt" "$gw/gva2gpa-cpu$c.txt" "$dest/"
        gzip -9 -n -c "$gw/info-tlb-cpu$c.txt" > "$dest/info-tlb-cpu$c.txt.gz"
    done
    python3 "$WORK/write_readme.py" "$name" "$gw" "$dest" "$meta"
    [ "${KEEP_WORK:-0}" = 1 ] || rm -f "$gw/core-full.elf"
    log "guest $name done: $(du -sh "$dest" | cut -f1)"
}

for g in "$@"; do
    case "$g" in
    linux-4level)
        run_guest linux-4level qemu-system-x86_64 max,la57=off 2 256 "$WORK/vmlinuz-amd64" "$WORK/initrd-amd64.gz" \
            "console=ttyS0 panic=-1" \
            "64-bit Linux (Debian amd64 kernel), 4-level paging (CPU model max with la57=off), 2 vCPUs, 256 MiB RAM." ;;
    linux-5level)
        run_guest linux-5level qemu-system-x86_64 max,la57=on 1 3072 "$WORK/vmlinuz-amd64" "$WORK/initrd-amd64.gz" \
            "console=ttyS0 panic=-1" \
            "64-bit Linux (Debian amd64 kernel), 5-level paging (CPU model max with la57=on, CR4.LA57=1), 1 vCPU, 3 GiB RAM (so that the direct map has 1 GiB pages)." ;;
    linux-pae)
        run_guest linux-pae qemu-system-i386 max 2 256 "$WORK/vmlinuz-686-pae" "$WORK/initrd-i386.gz" \
            "console=ttyS0 panic=-1" \
            "32-bit Linux (Debian 686-pae kernel) with PAE paging (CR4.PAE=1, EFER.LMA=0), 2 vCPUs, 256 MiB RAM. QEMU wrote the core as ELFCLASS64 with e_machine EM_386 (see Notes); core-elf32.elf.gz is the same sparse core re-encoded as ELFCLASS32." ;;
    *) echo "unknown guest $g" >&2; exit 2 ;;
    esac
done
log "done; output in $OUT"
