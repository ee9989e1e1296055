package org.hvmmu.pci.msix.regs;

import java.util.Arrays;
import java.util.Objects;
import org.hvmmu.mmu.memory.MmioHandler;

/**
 * A function's MSI-X table and PBA as live registers (PCIe Base §7.7.2; PCI Local Bus 3.0 §6.8),
 * the MMIO handler of the BAR frames that hold them: bytes of the table and the PBA are registers,
 * every other byte goes to the handler behind ({@code rest}, the BAR's other registers).
 *
 * <p>The table has 16-byte entries: +0 Message Address, +4 Message Upper Address, +8 Message Data,
 * +12 Vector Control (bit 0 Mask). After reset every entry is masked and everything else is 0
 * (QEMU {@code msix_reset}, ae1be0bb). The PBA has one Pending bit per entry in QWORDs. Message
 * Control's MSI-X Enable (bit 15) and Function Mask (bit 14) are written through configuration
 * space ({@link #writeMessageControl}). A vector is masked when MSI-X is disabled, the function is
 * masked, or its Mask bit is set (QEMU {@code msix_is_masked}).
 *
 * <p>Accesses arrive naturally aligned ({@link MmioHandler}): an aligned DWORD or QWORD is a
 * register access (a QWORD as its low DWORD, then its high one, QEMU's order); a 1- or 2-byte
 * access (all a misaligned access splits into, but for a QWORD at +4, which becomes two aligned
 * DWORDs) is undefined by the specification and handled by the {@link MsixAccessPolicy}: reads per
 * {@link MsixAccessPolicy#subDwordRead()}, writes dropped. Firing a masked vector sets its Pending
 * bit; unmasking an entry whose Pending bit is set clears it and sends the message. Each message
 * goes to the {@link InterruptSink} decoded ({@link MsiInterrupt}); firing allocates nothing.
 *
 * <p>All state is guarded by this object's lock; the sink is called under it.
 */
public final class MsixRegisters implements MmioHandler {
  /** Bytes per table entry (PCIe Base §7.7.2). */
  public static final int ENTRY_SIZE = 16;
  /** Offset of Message Address (low dword) in an entry. */
  public static final int ADDRESS_LO = 0;
  /** Offset of Message Upper Address in an entry. */
  public static final int ADDRESS_HI = 4;
  /** Offset of Message Data in an entry. */
  public static final int DATA = 8;
  /** Offset of Vector Control in an entry. */
  public static final int VECTOR_CONTROL = 12;
  /** Vector Control bit 0: Mask (PCIe Base §7.7.2; 1 after reset). */
  public static final int VECTOR_MASK = 1;
  /** Message Control bit 15: MSI-X Enable (PCIe Base §7.7.2, Message Control). */
  public static final int CONTROL_ENABLE = 1 << 15;
  /** Message Control bit 14: Function Mask. */
  public static final int CONTROL_FUNCTION_MASK = 1 << 14;
  /** The largest table: 2048 entries (Table Size is 11 bits, N − 1). */
  public static final int MAX_ENTRIES = 2048;

  private final int sourceBdf;
  private final int entries;
  private final long tableAddress;
  private final long pbaAddress;
  private final long pbaBytes;
  private final MsixAccessPolicy policy;
  private final InterruptSink sink;
  private final MmioHandler rest;
  private final int[] table; // 4 dwords per entry, as stored
  private final int[] cached; // address lo, hi, data per entry, as taken at the last unmask
  private final long[] pba;
  private int control;
  private long undefinedAccesses;
  private long droppedWrites;
  private final int[] programmed; // address lo, hi, data per entry, as programmed (permitted)
  private final boolean[] isProgrammed;
  private boolean guarded;
  private boolean permitting;
  private boolean memorySpace = true;
  private long unpermittedChanges;
  private long lastChangeAddress;
  private long lastChangeOld;
  private long lastChangeNew;
  private long unprovenDeliveries;
  private int lastUnprovenEntry;
  private long lastUnprovenAddress;
  private int lastUnprovenData;

  /**
   * A register block in its reset state.
   *
   * @param sourceBdf the requester ID messages carry ({@code bus << 8 | devfn})
   * @param entries the table size N, 1..2048
   * @param tableAddress the table's physical address, QWORD aligned
   * @param pbaAddress the PBA's physical address, QWORD aligned, not overlapping the table
   * @param policy the undefined corners
   * @param sink where messages go
   * @param rest the handler of the other bytes of the frames this block is mapped on
   * @throws IllegalArgumentException if the layout is not valid ({@link #layoutProblem})
   */
  public MsixRegisters(int sourceBdf, int entries, long tableAddress, long pbaAddress,
      MsixAccessPolicy policy, InterruptSink sink, MmioHandler rest) {
    String problem = layoutProblem(entries, tableAddress, pbaAddress);
    if (problem != null) {
      throw new IllegalArgumentException("MSI-X registers of " + bdfText(sourceBdf) + ": "
          + problem);
    }
    this.sourceBdf = sourceBdf;
    this.entries = entries;
    this.tableAddress = tableAddress;
    this.pbaAddress = pbaAddress;
    this.pbaBytes = pbaBytes(entries);
    this.policy = Objects.requireNonNull(policy, "policy");
    this.sink = Objects.requireNonNull(sink, "sink");
    this.rest = Objects.requireNonNull(rest, "rest");
    this.table = new int[4 * entries];
    this.cached = new int[3 * entries];
    this.programmed = new int[3 * entries];
    this.isProgrammed = new boolean[entries];
    this.pba = new long[(entries + 63) / 64];
    reset();
  }

  /**
   * The PBA's size: ceil(N / 64) QWORDs (PCIe Base §7.7.2).
   *
   * @param entries N
   * @return bytes
   */
  public static long pbaBytes(int entries) {
    return 8L * ((entries + 63) / 64);
  }

  /**
   * Why a layout cannot be a register block, or null if it can: N outside 1..2048, an address not
   * QWORD aligned (Table/PBA Offset bits 2:0 are the BIR), a structure that wraps past 2^64, or a
   * table and PBA that overlap (QEMU {@code msix_init} refuses these).
   *
   * @param entries N
   * @param tableAddress the table's physical address
   * @param pbaAddress the PBA's physical address
   * @return the reason, or null
   */
  public static String layoutProblem(int entries, long tableAddress, long pbaAddress) {
    if (entries < 1 || entries > MAX_ENTRIES) {
      return "table size " + entries + " (expected 1.." + MAX_ENTRIES + ")";
    }
    if ((tableAddress & 7) != 0 || (pbaAddress & 7) != 0) {
      return "table 0x" + Long.toHexString(tableAddress) + " or PBA 0x"
          + Long.toHexString(pbaAddress) + " not QWORD aligned";
    }
    long tableLast = tableAddress + (16L * entries - 1);
    long pbaLast = pbaAddress + (pbaBytes(entries) - 1);
    if (Long.compareUnsigned(tableLast, tableAddress) < 0
        || Long.compareUnsigned(pbaLast, pbaAddress) < 0) {
      return "table or PBA wraps past 2^64";
    }
    if (Long.compareUnsigned(tableAddress, pbaLast) <= 0
        && Long.compareUnsigned(pbaAddress, tableLast) <= 0) {
      return "table [0x" + Long.toHexString(tableAddress) + ", 0x" + Long.toHexString(tableLast)
          + "] overlaps PBA [0x" + Long.toHexString(pbaAddress) + ", 0x"
          + Long.toHexString(pbaLast) + "]";
    }
    return null;
  }

  /**
   * Function reset: every entry 0 and masked, no Pending bit, Enable and Function Mask clear.
   */
  public synchronized void reset() {
    Arrays.fill(table, 0);
    for (int e = 0; e < entries; e++) {
      table[4 * e + 3] = VECTOR_MASK;
    }
    Arrays.fill(cached, 0);
    Arrays.fill(pba, 0);
    control = 0;
    endProvenance();
    unpermittedChanges = 0;
    unprovenDeliveries = 0;
  }

  @Override
  public synchronized long read(long pa, int size) {
    if (!memorySpace) {
      return size == 8 ? -1L : (1L << (8 * size)) - 1; // not decoded: the read master-aborts
    }
    long t = pa - tableAddress;
    if (Long.compareUnsigned(t, 16L * entries) < 0) {
      if (size == 4) {
        return readDword((int) (t >>> 2)) & 0xffff_ffffL;
      }
      if (size == 8) {
        int i = (int) (t >>> 2);
        return (readDword(i) & 0xffff_ffffL) | (long) readDword(i + 1) << 32;
      }
      return undefinedRead(size);
    }
    long p = pa - pbaAddress;
    if (Long.compareUnsigned(p, pbaBytes) < 0) {
      if (size == 8) {
        return pba[(int) (p >>> 3)];
      }
      if (size == 4) {
        return pba[(int) (p >>> 3)] >>> (8 * (p & 4)) & 0xffff_ffffL;
      }
      return undefinedRead(size);
    }
    return rest.read(pa, size);
  }

  @Override
  public synchronized void write(long pa, int size, long value) {
    if (!memorySpace) {
      return; // not decoded: nobody takes the write
    }
    long t = pa - tableAddress;
    if (Long.compareUnsigned(t, 16L * entries) < 0) {
      if (size == 4) {
        writeDword((int) (t >>> 2), (int) value);
      } else if (size == 8) {
        int i = (int) (t >>> 2);
        writeDword(i, (int) value);
        writeDword(i + 1, (int) (value >>> 32));
      } else {
        undefinedAccesses++;
        droppedWrites++;
      }
      return;
    }
    long p = pa - pbaAddress;
    if (Long.compareUnsigned(p, pbaBytes) < 0) {
      if (size < 4) {
        undefinedAccesses++;
      }
      if (policy.pbaWrite() == MsixAccessPolicy.PbaWrite.DROP || size < 4) {
        droppedWrites++;
        return;
      }
      int q = (int) (p >>> 3);
      long old = pba[q];
      if (size == 8) {
        pba[q] = value;
      } else {
        int shift = (int) (8 * (p & 4));
        pba[q] = pba[q] & ~(0xffff_ffffL << shift) | (value & 0xffff_ffffL) << shift;
      }
      if (guarded && !permitting && old != pba[q]) {
        unpermitted(pbaAddress + 8L * q, old, pba[q]);
      }
      return;
    }
    rest.write(pa, size, value);
  }

  private long undefinedRead(int size) {
    undefinedAccesses++;
    return policy.subDwordRead() == MsixAccessPolicy.SubDwordRead.ZERO
        ? 0 : (1L << (8 * size)) - 1;
  }

  private int readDword(int index) {
    int v = table[index];
    return (index & 3) == 3 && policy.vectorControlReserved()
        == MsixAccessPolicy.ReservedBits.READ_ZERO ? v & VECTOR_MASK : v;
  }

  private void writeDword(int index, int value) {
    int entry = index >>> 2;
    int old = table[index];
    if ((index & 3) != 3) {
      table[index] = value;
      audit(index, old);
      return;
    }
    boolean wasMasked = masked(entry);
    table[index] = policy.vectorControlReserved() == MsixAccessPolicy.ReservedBits.KEEP
        ? value : value & VECTOR_MASK;
    audit(index, old);
    if (wasMasked && !masked(entry)) {
      unmasked(entry);
    }
  }

  /** Records a change of table dword {@code index} that no permitted path made, while guarded. */
  private void audit(int index, int old) {
    if (guarded && !permitting && table[index] != old) {
      unpermitted(tableAddress + 4L * index, old & 0xffff_ffffL, table[index] & 0xffff_ffffL);
    }
  }

  private void unpermitted(long address, long old, long now) {
    unpermittedChanges++;
    lastChangeAddress = address;
    lastChangeOld = old;
    lastChangeNew = now;
  }

  private boolean functionMasked() {
    return (control & CONTROL_ENABLE) == 0 || (control & CONTROL_FUNCTION_MASK) != 0;
  }

  private boolean masked(int entry) {
    return functionMasked() || (table[4 * entry + 3] & VECTOR_MASK) != 0;
  }

  /** The entry became unmasked: take address/data, send what is pending (PCIe Base §7.7.2). */
  private void unmasked(int entry) {
    cached[3 * entry] = table[4 * entry];
    cached[3 * entry + 1] = table[4 * entry + 1];
    cached[3 * entry + 2] = table[4 * entry + 2];
    long bit = 1L << (entry & 63);
    if ((pba[entry >>> 6] & bit) != 0) {
      pba[entry >>> 6] &= ~bit;
      send(entry);
    }
  }

  private void send(int entry) {
    long lo;
    long hi;
    int data;
    if (policy.unmaskedUpdate() == MsixAccessPolicy.UnmaskedUpdate.IMMEDIATE) {
      lo = table[4 * entry];
      hi = table[4 * entry + 1];
      data = table[4 * entry + 2];
    } else {
      lo = cached[3 * entry];
      hi = cached[3 * entry + 1];
      data = cached[3 * entry + 2];
    }
    long address = (lo & 0xffff_ffffL) | hi << 32;
    if (guarded && (!isProgrammed[entry] || programmedAddress(entry) != address
        || programmed[3 * entry + 2] != data)) {
      unprovenDeliveries++;
      lastUnprovenEntry = entry;
      lastUnprovenAddress = address;
      lastUnprovenData = data;
    }
    sink.deliver(sourceBdf, entry, address, data,
        MsiInterrupt.decode(address, data, policy.extendedDestinationId()));
  }

  /**
   * The function signals vector {@code entry}: sent if unmasked, else made pending (or dropped
   * while MSI-X is disabled, if the policy says so). Allocates nothing.
   *
   * @param entry the vector, {@code 0..N-1}
   * @return what happened
   */
  public synchronized MsixFireResult fire(int entry) {
    if (entry < 0 || entry >= entries) {
      return MsixFireResult.OUT_OF_RANGE;
    }
    if ((control & CONTROL_ENABLE) == 0
        && policy.disabledFire() == MsixAccessPolicy.DisabledFire.DROP) {
      return MsixFireResult.NOT_ENABLED;
    }
    if (masked(entry)) {
      pba[entry >>> 6] |= 1L << (entry & 63);
      return MsixFireResult.PENDING;
    }
    send(entry);
    return MsixFireResult.DELIVERED;
  }

  /**
   * A configuration write of Message Control: only Enable (bit 15) and Function Mask (bit 14) are
   * writable. Per-vector Mask bits do not change; if the function goes from masked to unmasked
   * while enabled, every entry it unmasks sends its pending message (QEMU {@code
   * msix_write_config}). Disabling does nothing else.
   *
   * @param value the 16-bit value written
   */
  public synchronized void writeMessageControl(int value) {
    boolean wasMasked = functionMasked();
    control = value & (CONTROL_ENABLE | CONTROL_FUNCTION_MASK);
    if (!wasMasked || functionMasked()) {
      return;
    }
    for (int e = 0; e < entries; e++) {
      if ((table[4 * e + 3] & VECTOR_MASK) == 0) {
        unmasked(e);
      }
    }
  }

  /**
   * The function's Memory Space Enable (PCI Command bit 1; PCI Local Bus 3.0 section 6.2.2): while
   * it is clear the function decodes no memory access, so a read of the pages this block handles
   * returns all ones and a write, permitted paths' included, reaches nothing. Interrupts are not
   * affected (they are the function's own writes).
   *
   * @param on whether memory accesses are decoded
   */
  public synchronized void setMemorySpace(boolean on) {
    memorySpace = on;
  }

  /**
   * Whether memory accesses are decoded ({@link #setMemorySpace}); true after construction.
   *
   * @return the Memory Space Enable bit
   */
  public synchronized boolean memorySpace() {
    return memorySpace;
  }

  /**
   * Message Control's writable bits.
   *
   * @return {@link #CONTROL_ENABLE} and {@link #CONTROL_FUNCTION_MASK} as set
   */
  public synchronized int messageControl() {
    return control;
  }

  /**
   * A table dword as the function holds it (reserved bits included), not as a read returns it.
   *
   * @param entry the entry
   * @param offset {@link #ADDRESS_LO}, {@link #ADDRESS_HI}, {@link #DATA} or {@link
   *     #VECTOR_CONTROL}
   * @return the dword
   * @throws IndexOutOfBoundsException if the entry or offset is out of range
   */
  public synchronized int entryDword(int entry, int offset) {
    Objects.checkIndex(entry, entries);
    if ((offset & 3) != 0 || offset < 0 || offset > VECTOR_CONTROL) {
      throw new IndexOutOfBoundsException("MSI-X entry offset " + offset + " of "
          + bdfText(sourceBdf) + " (expected 0, 4, 8 or 12)");
    }
    return table[4 * entry + offset / 4];
  }

  /**
   * Entry {@code entry}'s 64-bit message address as stored.
   *
   * @param entry the entry
   * @return upper address {@code << 32 |} address
   * @throws IndexOutOfBoundsException if the entry is out of range
   */
  public synchronized long messageAddress(int entry) {
    Objects.checkIndex(entry, entries);
    return (table[4 * entry] & 0xffff_ffffL) | (long) table[4 * entry + 1] << 32;
  }

  /**
   * Whether entry {@code entry} is masked (by itself, the function mask, or MSI-X disabled).
   *
   * @param entry the entry
   * @return true if masked
   * @throws IndexOutOfBoundsException if the entry is out of range
   */
  public synchronized boolean isMasked(int entry) {
    Objects.checkIndex(entry, entries);
    return masked(entry);
  }

  /**
   * Entry {@code entry}'s Pending bit.
   *
   * @param entry the entry
   * @return true if pending
   * @throws IndexOutOfBoundsException if the entry is out of range
   */
  public synchronized boolean isPending(int entry) {
    Objects.checkIndex(entry, entries);
    return (pba[entry >>> 6] >>> (entry & 63) & 1) != 0;
  }

  /**
   * The table size N.
   *
   * @return entries
   */
  public int entries() {
    return entries;
  }

  /**
   * The table's physical address.
   *
   * @return the address
   */
  public long tableAddress() {
    return tableAddress;
  }

  /**
   * The PBA's physical address.
   *
   * @return the address
   */
  public long pbaAddress() {
    return pbaAddress;
  }

  /**
   * The policy.
   *
   * @return the switches
   */
  public MsixAccessPolicy policy() {
    return policy;
  }

  /**
   * How many accesses were of a size the specification leaves undefined (1 or 2 bytes).
   *
   * @return the count
   */
  public synchronized long undefinedAccesses() {
    return undefinedAccesses;
  }

  /**
   * How many writes to the table or PBA were dropped (sub-DWORD, or to the PBA under {@link
   * MsixAccessPolicy.PbaWrite#DROP}).
   *
   * @return the count
   */
  public synchronized long droppedWrites() {
    return droppedWrites;
  }

  // ---- provenance (issue 12 §3) -----------------------------------------------------------------

  /**
   * The programming owner's permitted path (Xen's {@code write_msi_msg} through its own mapping
   * of the table, on the hardware domain's behalf): entry {@code entry} gets {@code address} and
   * {@code data}, recorded as the entry's programmed message, and is unmasked. The first
   * programming guards the block, as Xen's MSI-X set-up does: every entry is masked and MSI-X
   * enabled (Function Mask clear). From then until {@link #endProvenance()} a table or PBA
   * change no permitted path made is counted ({@link #unpermittedChanges()}), and so is a message
   * that differs from its entry's programmed one ({@link #unprovenDeliveries()}). Unmasking sends
   * a pending message.
   *
   * @param entry the entry
   * @param address the 64-bit message address
   * @param data the message data
   * @throws IndexOutOfBoundsException if the entry is out of range
   */
  public synchronized void programEntry(int entry, long address, int data) {
    Objects.checkIndex(entry, entries);
    permitting = true;
    try {
      if (!guarded) {
        for (int e = 0; e < entries; e++) {
          table[4 * e + 3] |= VECTOR_MASK;
        }
        guarded = true;
        control = CONTROL_ENABLE;
      }
      table[4 * entry] = (int) address;
      table[4 * entry + 1] = (int) (address >>> 32);
      table[4 * entry + 2] = data;
      programmed[3 * entry] = (int) address;
      programmed[3 * entry + 1] = (int) (address >>> 32);
      programmed[3 * entry + 2] = data;
      isProgrammed[entry] = true;
      writeDword(4 * entry + 3, 0);
    } finally {
      permitting = false;
    }
  }

  /**
   * A permitted write of entry {@code entry}'s Vector Control: the owner's mask-bit write that
   * Xen's msixtbl passes to the device ({@code guest_mask_msi_irq}, or the seed's raw write), or
   * Xen's own mask when it disables the entry. Unmasking sends a pending message. Like any memory
   * write it reaches nothing while {@link #memorySpace()} is off.
   *
   * @param entry the entry
   * @param value the dword written
   * @throws IndexOutOfBoundsException if the entry is out of range
   */
  public synchronized void writeVectorControlPermitted(int entry, int value) {
    Objects.checkIndex(entry, entries);
    if (!memorySpace) {
      return;
    }
    permitting = true;
    try {
      writeDword(4 * entry + VECTOR_CONTROL / 4, value);
    } finally {
      permitting = false;
    }
  }

  /**
   * Ends the guard ({@code PHYSDEVOP_release_msix}, or reset): no entry is programmed any more and
   * changes are no longer audited. The counts stay.
   */
  public synchronized void endProvenance() {
    guarded = false;
    Arrays.fill(isProgrammed, false);
    Arrays.fill(programmed, 0);
  }

  /**
   * Whether the block is guarded: programmed through the permitted path since reset or the last
   * {@link #endProvenance()}.
   *
   * @return true if guarded
   */
  public synchronized boolean isGuarded() {
    return guarded;
  }

  /**
   * Whether entry {@code entry} holds a message programmed through the permitted path.
   *
   * @param entry the entry
   * @return true if programmed
   * @throws IndexOutOfBoundsException if the entry is out of range
   */
  public synchronized boolean isProgrammed(int entry) {
    Objects.checkIndex(entry, entries);
    return isProgrammed[entry];
  }

  /**
   * The 64-bit address last programmed into entry {@code entry} through the permitted path.
   *
   * @param entry the entry
   * @return the address, 0 if never programmed
   * @throws IndexOutOfBoundsException if the entry is out of range
   */
  public synchronized long programmedAddress(int entry) {
    Objects.checkIndex(entry, entries);
    return (programmed[3 * entry] & 0xffff_ffffL) | (long) programmed[3 * entry + 1] << 32;
  }

  /**
   * The data last programmed into entry {@code entry} through the permitted path.
   *
   * @param entry the entry
   * @return the data, 0 if never programmed
   * @throws IndexOutOfBoundsException if the entry is out of range
   */
  public synchronized int programmedData(int entry) {
    Objects.checkIndex(entry, entries);
    return programmed[3 * entry + 2];
  }

  /**
   * How many writes changed a table dword or PBA QWORD while the block was guarded without coming
   * through a permitted path (a CPU store through a mapping of the frames, whoever made it).
   *
   * @return the count
   */
  public synchronized long unpermittedChanges() {
    return unpermittedChanges;
  }

  /**
   * The last unpermitted change, described.
   *
   * @return for example {@code "table 0xe0840000: 0xfee03000 -> 0xfee07000"}, or null if none
   */
  public synchronized String lastUnpermittedChange() {
    if (unpermittedChanges == 0) {
      return null;
    }
    String where = Long.compareUnsigned(lastChangeAddress - pbaAddress, pbaBytes) < 0 ? "PBA"
        : "table";
    return where + " 0x" + Long.toHexString(lastChangeAddress) + ": 0x"
        + Long.toHexString(lastChangeOld) + " -> 0x" + Long.toHexString(lastChangeNew);
  }

  /**
   * How many messages this block sent while guarded that were not their entry's programmed
   * address and data (or came from an entry never programmed).
   *
   * @return the count
   */
  public synchronized long unprovenDeliveries() {
    return unprovenDeliveries;
  }

  /**
   * The last unproven message, described.
   *
   * @return for example {@code "entry 0 sent 0xfee07000/0x99, programmed 0xfee03000/0x41"}, or
   *     null if none
   */
  public synchronized String lastUnprovenDelivery() {
    if (unprovenDeliveries == 0) {
      return null;
    }
    int e = lastUnprovenEntry;
    return "entry " + e + " sent 0x" + Long.toHexString(lastUnprovenAddress) + "/0x"
        + Integer.toHexString(lastUnprovenData) + (isProgrammed[e] ? ", programmed 0x"
        + Long.toHexString(programmedAddress(e)) + "/0x"
        + Integer.toHexString(programmed[3 * e + 2]) : ", never programmed");
  }

  private static String bdfText(int bdf) {
    return String.format("%02x:%02x.%x", bdf >>> 8 & 0xff, bdf >>> 3 & 0x1f, bdf & 7);
  }

  @Override
  public String toString() {
    return "MSI-X registers of " + bdfText(sourceBdf) + ": " + entries + " entries, table 0x"
        + Long.toHexString(tableAddress) + ", PBA 0x" + Long.toHexString(pbaAddress);
  }
}
