package org.hvmmu.host;

import org.hvmmu.host.access.AccessReason;
import org.hvmmu.host.access.MsixtblAccess;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.hvmmu.pci.msix.regs.MsixRegisters;

/**
 * One {@code msixtbl_entry} of an HVM domain ({@code xen/arch/x86/hvm/vmsi.c}): a passed-through
 * MSI-X table the guest sees at {@code gtable} through {@code p2m_mmio_dm} pages, with Xen's state
 * for it: the address/data shadows of entries 0 to 2 ({@code gentries}), which of them were written
 * ({@code acc_valid}), the entries whose address or data changed since the last unmask exit ({@code
 * table_flags}), and the guest's mask bit per bound entry ({@code msi_desc->msi_attrib
 * .guest_masked}). {@link MsixtblAccess} decides; this class applies the decision to that state and
 * to the table at its machine address, through the machine memory (whatever MMIO handler is
 * there). Guarded by the domain's monitor.
 */
final class Msixtbl {
  private static final int ENTRY = 16;
  private static final int VECTOR_CONTROL = 12;

  final long gtable;
  final int tableLen;
  private final long tableAddress;
  private long boundEntries;
  private final boolean pbaSharesPage;
  private final int[] gentries = new int[3 * MsixtblAccess.SHADOWED_ENTRIES];
  private int accValid;
  private final long[] tableFlags;
  private final long[] guestMasked;

  /** The value of the last load {@link #read} served. */
  long value;

  /**
   * The Vector Control address the last {@link #write} left to the device model as an unmask
   * ({@code msix_unmask_address}), or 0.
   */
  long latchedUnmask;

  /** The device whose register block is at {@code tableAddress}, or null (then memory). */
  private final HostDevice device;

  /** Its register block, or null (writes then go to memory). */
  private final MsixRegisters registers;

  Msixtbl(long gtable, int entries, long tableAddress, long boundEntries, boolean pbaSharesPage,
      HostDevice device) {
    this.device = device;
    this.registers = device == null ? null : device.msixRegistersOrNull();
    this.gtable = gtable;
    this.tableLen = entries * ENTRY;
    this.tableAddress = tableAddress;
    this.boundEntries = boundEntries;
    this.pbaSharesPage = pbaSharesPage;
    this.tableFlags = new long[(entries + 63) / 64];
    this.guestMasked = new long[(entries + 63) / 64];
  }

  /** Whether {@code gpa} lies on a page the table spans. */
  boolean covers(long gpa) {
    long page = gpa >>> 12;
    return page >= gtable >>> 12 && page <= (gtable + tableLen - 1) >>> 12;
  }

  /**
   * {@code msixtbl_pt_register} / {@code _unregister} for one entry: whether it has a bound {@code
   * msi_desc} (the device model bound or unbound its pirq).
   */
  void bind(int entry, boolean on) {
    boundEntries = on ? boundEntries | 1L << entry : boundEntries & ~(1L << entry);
  }

  /** The address of entry {@code entry}'s Vector Control dword. */
  long vectorControl(int entry) {
    return gtable + (long) entry * ENTRY + VECTOR_CONTROL;
  }

  boolean bound(long gpa) {
    long entry = (gpa - gtable) / ENTRY;
    return gpa >= gtable && entry < 64 && (boundEntries >>> entry & 1) != 0;
  }

  private static boolean bit(long[] bits, long entry) {
    return (bits[(int) (entry >>> 6)] >>> entry & 1) != 0;
  }

  private static void set(long[] bits, long entry, boolean on) {
    long mask = 1L << entry;
    int i = (int) (entry >>> 6);
    bits[i] = on ? bits[i] | mask : bits[i] & ~mask;
  }

  /** A load: the decision, and {@link #value} when msixtbl serves it. */
  AccessReason read(RoMmioSwitches s, PhysicalMemory machine, long gpa, int len) {
    // The adjacent pages always have their mapping here, so MSIXTBL_ADJACENT_READ_UNMAPPED
    // (all ones) never comes back.
    AccessReason r = MsixtblAccess.read(s, gpa, len, gtable, tableLen, bound(gpa), accValid,
        true);
    long entry = (gpa - gtable) / ENTRY;
    int dword = (int) (gpa & (ENTRY - 1)) / 4;
    switch (r) {
      case MSIXTBL_READ_SHADOW -> {
        long v = shadow(entry, dword);
        if (len == 8) {
          v |= dword == 0 ? shadow(entry, 1) << 32 : (bit(guestMasked, entry) ? 1L : 0) << 32;
        }
        value = v;
      }
      case MSIXTBL_READ_MASK_BIT -> value = bit(guestMasked, entry) ? 1 : 0;
      case MSIXTBL_READ_CONTROL_RAW, MSIXTBL_ADJACENT_READ ->
          value = machine.read(tableAddress + (gpa - gtable), len);
      default -> value = 0;
    }
    return r;
  }

  /**
   * The shadow dword (as an unsigned value); 0 where the seed's unaligned index runs past entry
   * 2's shadows (RELEASE-4.1.0 read hypervisor memory there).
   */
  private long shadow(long entry, int dword) {
    long i = 3 * entry + dword;
    return i < gentries.length ? gentries[(int) i] & 0xFFFF_FFFFL : 0;
  }

  private void setShadow(long entry, int dword, long v) {
    long i = 3 * entry + dword;
    if (entry < MsixtblAccess.SHADOWED_ENTRIES && i < gentries.length) {
      gentries[(int) i] = (int) v;
      accValid |= 1 << i;
    }
  }

  /** A store: the decision, applied to the shadows, the flags and the table. */
  AccessReason write(RoMmioSwitches s, PhysicalMemory machine, long gpa, int len, long val) {
    long entry = (gpa - gtable) / ENTRY;
    boolean flag = gpa >= gtable && gpa - gtable < tableLen && bit(tableFlags, entry);
    AccessReason r = MsixtblAccess.write(s, gpa, len, val, gtable, tableLen, bound(gpa), flag,
        true, pbaSharesPage);
    int offset = (int) (gpa & (ENTRY - 1));
    int dword = offset / 4;
    boolean inTable = gpa >= gtable && gpa - gtable < tableLen;
    long control = val;
    if (inTable && offset != VECTOR_CONTROL && r != AccessReason.MSIXTBL_NOT_CLAIMED
        && r != AccessReason.MSIXTBL_WRITE_UNALIGNED && r != AccessReason.MSIXTBL_WRITE_SIZE) {
      // The address/data part: shadowed (entries 0-2), the entry flagged.
      setShadow(entry, dword, val);
      if (len == 8 && dword == 0) {
        setShadow(entry, 1, val >>> 32);
      }
      set(tableFlags, entry, true);
      control = val >>> 32; // an 8-byte store at +8 continues as Vector Control
    }
    long vc = tableAddress + entry * ENTRY + VECTOR_CONTROL;
    latchedUnmask = 0;
    switch (r) {
      case MSIXTBL_UNMASK_DEFERRED -> {
        set(tableFlags, entry, false);
        if ((control & 1) == 0) {
          latchedUnmask = vectorControl((int) entry);
        }
      }
      case MSIXTBL_GUEST_MASK -> {
        // guest_mask_msi_irq -> msi_set_mask_bit(desc, host_masked, guest): the device's dword
        // becomes host_masked | guest_masked (writel(flag)); the host masks nothing here.
        boolean mask = (control & 1) != 0;
        set(guestMasked, entry, mask);
        int e = registerEntry(vc);
        if (e >= 0) {
          device.masking().setMaskBit(s, registers, e, false, mask);
        } else {
          machine.write(vc, 4, mask ? 1 : 0);
        }
      }
      case MSIXTBL_WRITE_CONTROL_RAW -> controlWrite(machine, tableAddress + (gpa - gtable),
          control);
      case MSIXTBL_ADJACENT_WRITE -> machine.write(tableAddress + (gpa - gtable), len, val);
      default -> { }
    }
    return r;
  }

  /**
   * After a store msixtbl saw: latches the unmask it left to the device model, or snoops one it
   * did not take ({@code msixtbl_write}, {@code msixtbl_range}). Under the domain's monitor.
   */
  void afterWrite(RoMmioSwitches s, GuestVcpu v, AccessReason r, long gpa, int len, long val,
      boolean movs) {
    if (r == AccessReason.MSIXTBL_UNMASK_DEFERRED && latchedUnmask != 0
        && s.msixtblUnmaskReplay()) {
      v.msixUnmaskAddress = latchedUnmask;
    } else if (r == AccessReason.MSIXTBL_NOT_CLAIMED && s.msixtblUnmaskSnoop()) {
      long snoop = MsixtblAccess.snoopAddress(gpa, len, val, movs);
      if (snoop >= 0) {
        v.msixSnoopAddress = snoop;
        v.msixSnoopMovs = movs;
        v.msixSnoopData = (int) (len == 8 ? val >>> 32 : val);
      }
    }
  }

  /**
   * {@code msix_write_completion}, when the vCPU's I/O has completed: a snooped {@code movs} whose
   * last dword unmasks an entry that is now bound becomes the unmask to replay; the unmask to
   * replay, if any, is written as a 4-byte 0 to its Vector Control through {@code msixtbl_write}
   * (not forwarded to the device model). Takes the domain's monitor.
   */
  static void writeCompletion(Host host, GuestVcpu v) {
    GuestDomain d = v.domain();
    RoMmioSwitches s = host.policy().roMmio();
    synchronized (d) {
      long ctrl = v.msixUnmaskAddress;
      long snoop = v.msixSnoopAddress;
      v.msixSnoopAddress = 0;
      if (ctrl == 0 && snoop != 0 && v.msixSnoopMovs) {
        Msixtbl t = d.msixtbl(snoop);
        if (t != null && t.bound(snoop) && (v.msixSnoopData & 1) == 0) {
          ctrl = snoop;
        }
      }
      if (ctrl == 0 || d.crashed()) {
        return;
      }
      v.msixUnmaskAddress = 0;
      Msixtbl t = d.msixtbl(ctrl);
      if (t != null) {
        t.write(s, host.machine(), ctrl, 4, 0);
      }
    }
  }

  /**
   * The owner's Vector Control write, passed on by msixtbl: a permitted write of the device's
   * register block (issue 12 §3), or a plain machine write where there is none.
   */
  private void controlWrite(PhysicalMemory machine, long pa, long value) {
    int e = registerEntry(pa);
    if (e >= 0 && ((pa - registers.tableAddress()) & (ENTRY - 1)) == VECTOR_CONTROL) {
      registers.writeVectorControlPermitted(e, (int) value);
    } else {
      machine.write(pa, 4, value);
    }
  }

  /** The entry of the device's register block that machine address {@code pa} falls in, or -1. */
  private int registerEntry(long pa) {
    long t = registers == null ? -1 : pa - registers.tableAddress();
    return t >= 0 && t < (long) ENTRY * registers.entries() ? (int) (t / ENTRY) : -1;
  }
}
