package org.hvmmu.host;

import java.util.Arrays;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.ControlRegisters;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;

/**
 * The numbered "guest tables" of scripts and tests ({@link Host#newGuestTable}, {@link
 * Host#shadowWrite}) as a thin layer over real shadow paging. On its first table the layer builds,
 * in the domain's own RAM (its highest free frames), a 4-level tree the way a loader would, makes a
 * vCPU of its own and loads it with that tree:
 *
 * <pre>
 *   L4[0] -> L3[1] -> L2[n]   -> table n         linear 0x40000000 + n * 2 MiB (n = 0 to 507)
 *                    L2[511] -> window L1        linear 0x7fe00000: [0] L4, [1] L3, [2] L2,
 *                                                  [3] the window itself, [4 + n] table n
 * </pre>
 *
 * <p>Table n is a guest L1 table; entry s maps linear {@code 0x40000000 + n * 2 MiB + s * 4 KiB}. The
 * guest reaches its own tables through the window, so writing an entry is an ordinary store that
 * the shadow code write-protects and emulates like any other. {@link #write} is that store followed
 * by the guest's INVLPG and a touch of the address ({@link GuestVcpu#translate} with the access the
 * entry allows: a write if it has R/W, a user access if it has U/S), which builds the shadow entry on
 * the page fault, the guest's walk setting A (and D).
 */
final class ShadowTables {
  /** The linear address table 0 maps. */
  static final long TABLES_LA = 0x4000_0000L;

  /** The linear range one table maps: 2 MiB. */
  static final long TABLE_SPAN = 0x20_0000L;

  /** The window onto the guest's own page tables. */
  static final long WINDOW_LA = TABLES_LA + 511 * TABLE_SPAN;

  /** The most tables: window slots 4 to 511. */
  static final int MAX_TABLES = 508;

  private static final long UPPER = PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW | PteFlags.PAGE_USER;
  private static final long WINDOW_ENTRY = PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW;

  private final Host host;
  private final ShadowPaging paging;
  private final GuestDomain domain;
  private final GuestVcpu vcpu;
  private long[] frames = new long[4]; // L4, L3, L2, window, then the tables
  private int frameCount;

  ShadowTables(Host host, ShadowPaging paging, GuestDomain domain) {
    this.host = host;
    this.paging = paging;
    this.domain = domain;
    for (int i = 0; i < 4; i++) {
      allocateFrame();
    }
    long l4 = frames[0];
    long l3 = frames[1];
    long l2 = frames[2];
    long window = frames[3];
    store(l4, 0, (l3 << Pte.PAGE_SHIFT) | UPPER);
    store(l3, 1, (l2 << Pte.PAGE_SHIFT) | UPPER);
    store(l2, 511, (window << Pte.PAGE_SHIFT) | UPPER);
    for (int i = 0; i < 4; i++) {
      store(window, i, (frames[i] << Pte.PAGE_SHIFT) | WINDOW_ENTRY);
    }
    this.vcpu = host.createVcpu(domain);
    vcpu.loadGuestState(ControlRegisters.CR0_PE | ControlRegisters.CR0_WP | ControlRegisters.CR0_PG,
        l4 << Pte.PAGE_SHIFT, ControlRegisters.CR4_PAE,
        ControlRegisters.EFER_LME | ControlRegisters.EFER_LMA | ControlRegisters.EFER_NXE);
  }

  /** The number of tables. */
  int count() {
    return frameCount - 4;
  }

  /** The guest frame of table {@code table}. */
  long frame(int table) {
    return frames[4 + table];
  }

  /** The layer's vCPU. */
  GuestVcpu vcpu() {
    return vcpu;
  }

  /** A new, empty table linked into the tree and the window by the guest's own stores. */
  int newTable() {
    if (count() == MAX_TABLES) {
      throw new IllegalStateException(domain + " has " + MAX_TABLES + " guest tables (the most)");
    }
    int n = count();
    long frame = allocateFrame();
    vcpu.write(WINDOW_LA + 3 * 0x1000L + 8L * (4 + n), 8, (frame << Pte.PAGE_SHIFT) | WINDOW_ENTRY,
        0);
    vcpu.cpu().invlpg(WINDOW_LA + 0x1000L * (4 + n));
    vcpu.write(WINDOW_LA + 2 * 0x1000L + 8L * n, 8, (frame << Pte.PAGE_SHIFT) | UPPER, 0);
    vcpu.cpu().invlpg(TABLES_LA + TABLE_SPAN * n);
    return n;
  }

  /**
   * The guest writes entry {@code slot} of table {@code table} (a supervisor store through the
   * window), invalidates the address it maps and, for a present entry, touches it.
   */
  void write(int table, int slot, long entry) {
    long la = TABLES_LA + TABLE_SPAN * table + 0x1000L * slot;
    vcpu.write(WINDOW_LA + 0x1000L * (4 + table) + 8L * slot, 8, entry, 0);
    vcpu.cpu().invlpg(la);
    if (Pte.isPresent(entry)) {
      int flags = Pte.getFlags(entry);
      int access = ((flags & PteFlags.PAGE_RW) != 0 ? Access.WRITE : 0)
          | ((flags & PteFlags.PAGE_USER) != 0 ? Access.USER : 0);
      vcpu.translate(la, access);
    }
  }

  /** The next free RAM frame of the domain, zeroed by the loader. */
  private long allocateFrame() {
    long frame = paging.freeRamFrame(domain, frames, frameCount);
    if (frame < 0) {
      throw new IllegalStateException(domain + " has no free RAM frame for the page tables of its"
          + " guest tables (give it RAM first)");
    }
    for (int slot = 0; slot < Pte.ENTRIES_PER_TABLE; slot++) {
      store(frame, slot, 0);
    }
    if (frameCount == frames.length) {
      frames = Arrays.copyOf(frames, frames.length * 2);
    }
    frames[frameCount++] = frame;
    return frame;
  }

  /** A loader's store into the guest's frame ({@link Host#writeGuestPhysical}). */
  private void store(long frame, int slot, long value) {
    host.writeGuestPhysical(domain, (frame << Pte.PAGE_SHIFT) + 8L * slot, 8, value);
  }
}
