package org.hvmmu.testkit.host;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.hvmmu.host.GuestDomain;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostDevice;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.p2m.P2mEntry;
import org.hvmmu.p2m.P2mSwitches;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.p2m.RadixP2m;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.PciRegs;
import org.hvmmu.pci.msix.MsixLayout;
import org.hvmmu.pci.msix.MsixRegion;
import org.hvmmu.testkit.Action;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;

/**
 * Generators for testing a {@link Host}: page-table entries with edge-biased flags and frames for a
 * host's layout, well-formed PCI configuration spaces (BARs of every kind, MSI-X anywhere), host
 * set-ups, and random host operations as {@link Action}s whose {@code toString()} is one line of
 * hvmmu's scenario-script language. Everything is built from {@link Gens} combinators, so every
 * value shrinks toward simple ones: flags toward {@code P RW}, frames toward the MSI-X table's
 * first frame (frames reach the edges too: 0, 1, the frame table's end, MAXPHYADDR's and the p2m's
 * limits, ~0 - 1 and ~0; an entry holds at most {@link Pte#MAX_MFN}), slots toward 0, entries toward 0, orders toward 4K, table sizes toward 1.
 *
 * <pre>{@code
 * HostSetup setup = HostSetup.of(Policy.HARDENED, config);
 * StatefulCheck.run(
 *     Property.tries(200),                 // or PropertyConfig.defaults()
 *     setup::build, () -> null,            // the system, and no model
 *     HostGens.operations(setup), 30,      // up to 30 random operations
 *     HostInvariantCheck.all());           // checked after every one
 * }</pre>
 *
 * <p>The operations (weights in brackets) pick their domain among those whose paging mode has the
 * operation:
 *
 * <table>
 *   <caption>Generated operations</caption>
 *   <tr><th>script line</th><th>host call</th><th>domains</th></tr>
 *   <tr><td>{@code update D MFN SLOT PTE} [5]</td><td>{@link Host#mmuUpdate}</td><td>PV, PV32 (on
 *       their two L1 candidates: the pinned first RAM frame and the next)</td></tr>
 *   <tr><td>{@code ptwr D MFN OFFSET BYTES VALUE [cmpxchg OLD]} [2]</td><td>{@link
 *       Host#ptwrEmulatedUpdate}: 8-byte stores and compare-and-exchanges, 4-byte halves</td><td>PV,
 *       PV32</td></tr>
 *   <tr><td>{@code write D MFN SLOT PTE} [1], {@code pin D MFN} [1], {@code unpin D MFN}
 *       [1]</td><td>{@link Host#writeGuestEntry}, {@link Host#pinL1Table}, {@link
 *       Host#unpinTable}</td><td>PV, PV32</td></tr>
 *   <tr><td>{@code shadow D TABLE SLOT PTE} [4]</td><td>{@link Host#shadowWrite} (tables 0 and
 *       1)</td><td>shadowed</td></tr>
 *   <tr><td>{@code p2m D GFN MFN ORDER TYPE} [3]</td><td>{@link Host#setP2mEntry}: RAM types on the
 *       domain's own RAM (4K), {@code mmio_direct} on MMIO frames (4K and 2M), {@code invalid}
 *       (unmap, 4K to 1G)</td><td>HVM</td></tr>
 *   <tr><td>{@code retype D OLD NEW} [1]</td><td>{@link Host#changeTypeGlobal}: the pairs the
 *       policy allows ({@code ram_rw}/{@code ram_logdirty}; the seed's {@code mmio_direct}
 *       re-derivation too)</td><td>HVM</td></tr>
 *   <tr><td>{@code msix enable dev E} [4], {@code msix enable dev E by D} [1], {@code msix disable
 *       dev E} [3], {@code msix prepare dev} [2], {@code msix release dev} [1]</td><td>the MSI-X
 *       calls of {@link Host}; entries 0, 1, 2 and the table's last and first invalid</td><td>the
 *       device</td></tr>
 *   <tr><td>{@code assign dev D} [2]</td><td>{@link Host#assignDevice}</td><td>any</td></tr>
 *   <tr><td>{@code protect R RANGE} [2], {@code unprotect R RANGE} [1]</td><td>{@link
 *       Host#protect}, {@link Host#unprotect}; registrants {@code ioapic} and {@code hpet}, ranges
 *       of 1, 2 or 4 frames from the host window or the device's MSI-X frames, and one in six an
 *       edge range: frame 1, ~0 - 1 to ~0, ~0, the frame table's end, MAXPHYADDR's limit (frames
 *       2^34 - 1 and 2^34), the p2m's ({@code GFN_LIMIT - 1} and {@code GFN_LIMIT}), the frame
 *       table's end to 0xffffffff and to ~0, 0-0xffffffff, 0-(~0 - 1), 0-~0</td><td></td></tr>
 *   <tr><td>{@code iomem D RANGE} [1]</td><td>{@link Host#grantIomem}: 1 or 2 frames at the host
 *       window or the MSI-X frames, or an edge range but those ending at 0xffffffff</td><td>any
 *       </td></tr>
 * </table>
 *
 * <p>An operation the host would refuse with an exception rather than a result (anything on a
 * domain Xen crashed, a disable of an entry that is not enabled, a guest write to a frame in use as
 * a page table) does nothing instead, so generated sequences never throw on a sound host. Such a
 * skipped line changes nothing, so shrinking deletes it: a shrunk counterexample contains none.
 *
 * <p>All generators are stateless and thread-safe; a generator is built once per set-up and then
 * draws without touching the set-up again. Drawing allocates the action and its line; running an
 * action allocates only what the host call does.
 */
public final class HostGens {
  private static final int P_RW = PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW;

  /** Flag combinations a third of the draws of {@link #pteFlags()} take. */
  private static final int[] EDGE_FLAGS = {
    P_RW | PteFlags.PAGE_USER,
    P_RW,
    PteFlags.PAGE_PRESENT,
    0,
    PteFlags.PAGE_RW,
    P_RW | PteFlags.PAGE_USER | PteFlags.PAGE_ACCESSED | PteFlags.PAGE_DIRTY,
    P_RW | PteFlags.PAGE_PCD | PteFlags.PAGE_PWT,
    P_RW | PteFlags.PAGE_PAT,
    P_RW | PteFlags.PAGE_NX_BIT,
    P_RW | PteFlags.PAGE_GLOBAL,
    P_RW | PteFlags.PAGE_GUEST_KERNEL,
    PteFlags.PAGE_PRESENT | PteFlags.PAGE_USER,
    HostScript.NAMED_FLAGS
  };

  /** Named flags in the order shrinking tries to clear them (P and R/W last). */
  private static final int[] SHRINK_ORDER = {
    PteFlags.PAGE_GUEST_KERNEL,
    PteFlags.PAGE_NX_BIT,
    PteFlags.PAGE_GLOBAL,
    PteFlags.PAGE_PAT,
    PteFlags.PAGE_DIRTY,
    PteFlags.PAGE_ACCESSED,
    PteFlags.PAGE_PCD,
    PteFlags.PAGE_PWT,
    PteFlags.PAGE_USER,
    PteFlags.PAGE_RW,
    PteFlags.PAGE_PRESENT
  };

  private static final Gen<Integer> PTE_FLAGS =
      Gens.of(
          random -> {
            if (random.nextInt(100) < 35) {
              return EDGE_FLAGS[random.nextInt(EDGE_FLAGS.length)];
            }
            int flags = random.nextInt() & HostScript.NAMED_FLAGS;
            return random.nextInt(4) != 0 ? flags | P_RW : flags;
          },
          HostGens::shrinkFlags);

  /** The p2m types operations use, simplest first. */
  private static final P2mType[] P2M_TYPES = {
    P2mType.MMIO_DIRECT, P2mType.RAM_RW, P2mType.RAM_RO, P2mType.RAM_LOGDIRTY, P2mType.INVALID
  };

  private static final PageOrder[] ORDERS = {
    PageOrder.ORDER_4K, PageOrder.ORDER_2M, PageOrder.ORDER_1G
  };

  /** The host's last machine frame: MAXPHYADDR is {@value Host#MAX_PHYS_ADDR} bits. */
  private static final long MACHINE_LAST = (1L << (Host.MAX_PHYS_ADDR - Pte.PAGE_SHIFT)) - 1;

  /**
   * Frames at the edges of what the host and its guests can name, after the layout's frames: 1,
   * MAXPHYADDR's last frame and the next, the p2m's last guest frame and its limit, ~0 - 1 and ~0.
   */
  private static final long[] EDGE_FRAMES = {1, MACHINE_LAST, MACHINE_LAST + 1,
      RadixP2m.GFN_LIMIT - 1, RadixP2m.GFN_LIMIT, -2, -1};

  /**
   * Ranges at the edges (first, last pairs), simplest first: frame 1, the frame table's end,
   * MAXPHYADDR's and the p2m's limits, ~0, and the huge ranges: everything beyond the frame table
   * (to 0xffffffff and to ~0; RAM inside the table makes a protection of 0-... {@code -EINVAL}),
   * 0-0xffffffff, 0-(~0 - 1) and 0-~0.
   */
  private static final long[][] EDGE_RANGES = {
    {1, 1}, {HostSetup.FRAMES - 1, HostSetup.FRAMES}, {MACHINE_LAST, MACHINE_LAST},
    {MACHINE_LAST, MACHINE_LAST + 1}, {RadixP2m.GFN_LIMIT - 1, RadixP2m.GFN_LIMIT}, {-2, -1},
    {-1, -1}, {HostSetup.FRAMES, 0xffffffffL}, {HostSetup.FRAMES, -1}, {0, 0xffffffffL},
    {0, -2}, {0, -1}
  };

  /** Registrants of {@code protect} and {@code unprotect}. */
  private static final String[] REGISTRANTS = {"ioapic", "hpet"};

  /** The largest MSI-X entry a script may name. */
  private static final int MAX_SCRIPT_ENTRY = 2047;

  private HostGens() {}

  // ---- page-table entries ------------------------------------------------------------------------

  /**
   * Packed PTE flags ({@link Pte#getFlags}) drawn from the flags a {@code pte(...)} can name: a
   * third of the draws are edge combinations ({@code P RW US}, {@code P RW}, {@code P}, none, {@code
   * RW} without {@code P}, cache bits, {@code PAT}, {@code NX}, {@code G}, {@code GK}, all), the
   * rest random subsets, three quarters of them with {@code P RW}.
   *
   * @return the generator; flags shrink by clearing bits, {@code P} and {@code RW} last, so a
   *     failure that needs a writable entry shrinks to exactly {@code P RW}
   */
  public static Gen<Integer> pteFlags() {
    return PTE_FLAGS;
  }

  private static List<Integer> shrinkFlags(Integer value) {
    int v = value;
    List<Integer> out = new ArrayList<>();
    if ((v & ~P_RW) != 0) {
      out.add(v & P_RW);
    }
    for (int bit : SHRINK_ORDER) {
      if ((v & bit) != 0 && !out.contains(v & ~bit)) {
        out.add(v & ~bit);
      }
    }
    return out;
  }

  /**
   * The frames worth mapping for domain {@code domainId} of {@code setup}, most telling first: the
   * device's MSI-X table and PBA frames and their neighbours, the host MMIO window and the frame
   * after it, the domain's own RAM (a data frame, its first and last), another domain's RAM, 0, the
   * last frame-table frame and the first frame beyond it, each memory BAR's frames, then the edges:
   * 1, MAXPHYADDR's last frame (2^34 - 1) and the next, the p2m's {@code GFN_LIMIT - 1} and {@code
   * GFN_LIMIT}, ~0 - 1 and ~0.
   *
   * @param setup the host set-up
   * @param domainId 0 or a guest id
   * @return the generator; frames shrink toward the table's first frame (or the host window when the
   *     device has no usable MSI-X table)
   */
  public static Gen<Long> frames(HostSetup setup, int domainId) {
    long[] frames = distinct(frameCandidates(setup, domainId));
    return index(frames.length).map(i -> frames[(int) (long) i]);
  }

  /**
   * Page-table entries for domain {@code domainId} of {@code setup}: nine in ten map a frame of
   * {@link #frames(HostSetup, int)} with flags of {@link #pteFlags()}, the rest are the raw edges 0
   * and ~0.
   *
   * @param setup the host set-up
   * @param domainId 0 or a guest id
   * @return the generator; entries shrink toward {@code pte(TABLE, P RW)} through frame and flags
   */
  public static Gen<Long> ptes(HostSetup setup, int domainId) {
    return Gens.<Long>weighted()
        .add(9, Gens.zip(frames(setup, domainId), PTE_FLAGS,
            (frame, flags) -> Pte.fromMfn(entryFrame(frame), flags)))
        .add(1, Gens.elements(0L, -1L))
        .build();
  }

  /** Index-stable candidates (positions mean the same thing for every domain). */
  private static long[] frameCandidates(HostSetup setup, int id) {
    MsixLayout layout = setup.msixLayout();
    MsixRegion table = layout.table();
    MsixRegion pba = layout.pba();
    long tableFirst = table.usable() ? table.firstFrame() : HostSetup.HOST_MMIO_FIRST;
    long tableLast = table.usable() ? table.lastFrame() : HostSetup.HOST_MMIO_FIRST;
    long pbaFirst = pba.usable() ? pba.firstFrame() : tableFirst;
    long pbaLast = pba.usable() ? pba.lastFrame() : tableFirst;
    int other = id == 0 ? (setup.guests().isEmpty() ? 0 : 1) : 0;
    List<Long> out = new ArrayList<>();
    out.add(tableFirst);
    out.add(pbaFirst);
    out.add(HostSetup.HOST_MMIO_FIRST);
    out.add(setup.ramFirst(id) + 2);
    out.add(tableLast + 1);
    out.add(tableFirst == 0 ? 0 : tableFirst - 1);
    out.add(pbaLast);
    out.add(HostSetup.HOST_MMIO_LAST);
    out.add(HostSetup.HOST_MMIO_LAST + 1);
    out.add(setup.ramFirst(id));
    out.add(setup.ramLast(id));
    out.add(setup.ramFirst(other) + 3);
    out.add(0L);
    out.add(HostSetup.FRAMES - 1);
    out.add(HostSetup.FRAMES);
    long[] bars = setup.barFrames();
    for (long f : bars) {
      out.add(f);
    }
    for (long f : EDGE_FRAMES) {
      out.add(f);
    }
    long[] array = new long[out.size()];
    for (int i = 0; i < array.length; i++) {
      array[i] = out.get(i);
    }
    return array;
  }

  /** {@code frame}, or the largest frame an entry holds if it is above (unsigned). */
  private static long entryFrame(long frame) {
    return Long.compareUnsigned(frame, Pte.MAX_MFN) > 0 ? Pte.MAX_MFN : frame;
  }

  /** The MMIO frames {@code mmio_direct} entries and host registrations use. */
  private static long[] mmioCandidates(HostSetup setup) {
    long[] all = frameCandidates(setup, 0);
    // table, PBA, window, (skip RAM), table + 1, table - 1, PBA last, window last, BAR frames
    List<Long> out = new ArrayList<>();
    for (int i : new int[] {0, 1, 2, 4, 5, 6, 7}) {
      out.add(all[i]);
    }
    for (int i = 15; i < all.length; i++) {
      out.add(all[i]);
    }
    long[] array = new long[out.size()];
    for (int i = 0; i < array.length; i++) {
      array[i] = out.get(i);
    }
    return array;
  }

  private static long[] distinct(long[] values) {
    Set<Long> seen = new LinkedHashSet<>();
    for (long v : values) {
      seen.add(v);
    }
    long[] out = new long[seen.size()];
    int i = 0;
    for (long v : seen) {
      out[i++] = v;
    }
    return out;
  }

  /** An index below {@code n}, biased to the first five, shrinking toward 0. */
  static Gen<Long> index(int n) {
    Gen<Long> any = Gens.ints(0, n - 1).map(Integer::longValue);
    if (n <= 5) {
      return any;
    }
    return Gens.<Long>weighted()
        .add(3, Gens.ints(0, 4).map(Integer::longValue))
        .add(2, any)
        .build();
  }

  // ---- configuration spaces ----------------------------------------------------------------------

  /** BAR kinds of {@link #configSpaces()}, simplest first. */
  private static final int MEM32 = 0;

  private static final int MEM64 = 1;
  private static final int MEM32_PREFETCH = 2;
  private static final int MEM64_PREFETCH = 3;
  private static final int EMPTY = 4;
  private static final int IO = 5;
  private static final int MEM_BELOW_1M = 6;

  /**
   * Well-formed 256-byte configuration spaces of a normal function (header type 0x00, or 0x80 for a
   * multi-function device) with an MSI-X capability: six BAR slots of every kind (32-bit and 64-bit
   * memory, prefetchable or not, below 1M, I/O, empty, a 64-bit BAR in the last slot), memory BARs
   * at {@code 0xc0000000 + slot * 0x4000000} (64-bit ones possibly above 4G), the capability
   * anywhere from 0x40 to 0xf0 with a power-management capability before or after it or none, the
   * table and PBA in any memory BAR, at any page and offset (the PBA possibly right after the table
   * in the same page), 1 to 2048 entries. The command register enables memory decoding.
   *
   * @return the generator; spaces shrink toward header 0x00, 32-bit BARs, table and PBA in BAR 0,
   *     the capability at 0x40, one entry
   */
  public static Gen<ConfigSpace> configSpaces() {
    Gen<Long> kind = Gens.elements(
        (long) MEM32, (long) MEM64, (long) MEM32_PREFETCH, (long) MEM64_PREFETCH, (long) EMPTY,
        (long) IO, (long) MEM_BELOW_1M);
    List<Gen<Long>> parts = new ArrayList<>();
    parts.add(Gens.elements(0x00L, 0x80L)); // 0 header type
    for (int i = 0; i < 6; i++) {
      parts.add(kind); // 1..6 BAR kinds
    }
    parts.add(Gens.elements(0L, 1L, 0x10L, 0xffL)); // 7 high dword of 64-bit BARs
    parts.add(Gens.ints(0, 5).map(Integer::longValue)); // 8 table BIR choice
    parts.add(Gens.ints(0, 5).map(Integer::longValue)); // 9 PBA BIR choice
    parts.add(Gens.<Long>weighted() // 10 table size
        .add(1, Gens.elements(1L, 2L, 8L, 64L, 65L, 2048L))
        .add(1, Gens.ints(1, 2048).map(Integer::longValue))
        .build());
    parts.add(Gens.ints(0, 0x3f).map(Integer::longValue)); // 11 table page
    parts.add(Gens.elements(0L, 0x800L, 0xff0L)); // 12 table offset in the page
    parts.add(Gens.elements(0L, 1L)); // 13 PBA: own page after the table, or right after it
    parts.add(Gens.ints(0, 0x3f).map(Integer::longValue)); // 14 PBA pages after the table's
    parts.add(Gens.elements(0L, 0x800L, 0xff8L)); // 15 PBA offset in its page
    parts.add(Gens.ints(0x10, 0x3c).map(Integer::longValue)); // 16 capability offset / 4
    parts.add(Gens.elements(0L, 1L, 2L)); // 17 PM capability: none, before, after
    return tuple(parts).map(HostGens::configSpace);
  }

  private static ConfigSpace configSpace(long[] p) {
    byte[] b = new byte[ConfigSpace.CONVENTIONAL_SIZE];
    set16(b, PciRegs.VENDOR_ID, 0x15b3);
    set16(b, PciRegs.DEVICE_ID, 0x1007);
    set16(b, PciRegs.COMMAND, PciRegs.COMMAND_MEMORY | 0x4);
    set16(b, PciRegs.STATUS, PciRegs.STATUS_CAP_LIST);
    b[PciRegs.CLASS_DEVICE + 1] = 0x02; // network controller
    b[PciRegs.HEADER_TYPE] = (byte) p[0];
    List<Integer> memoryBars = new ArrayList<>();
    int[] kinds = new int[6];
    for (int i = 0; i < 6; i++) {
      kinds[i] = (int) p[1 + i];
    }
    boolean anyMemory = false;
    for (int i = 0; i < 6; i++) {
      int k = kinds[i];
      anyMemory |= k == MEM32 || k == MEM64 || k == MEM32_PREFETCH || k == MEM64_PREFETCH;
      if (k == MEM64 || k == MEM64_PREFETCH) {
        i++;
      }
    }
    if (!anyMemory) {
      kinds[0] = MEM32;
    }
    for (int i = 0; i < 6; i++) {
      int at = PciRegs.BASE_ADDRESS_0 + 4 * i;
      long base = 0xc0000000L + i * 0x04000000L;
      switch (kinds[i]) {
        case MEM32, MEM32_PREFETCH -> {
          set32(b, at, base | (kinds[i] == MEM32_PREFETCH ? PciRegs.BASE_ADDRESS_MEM_PREFETCH : 0));
          memoryBars.add(i);
        }
        case MEM64, MEM64_PREFETCH -> {
          set32(b, at, base | PciRegs.BASE_ADDRESS_MEM_TYPE_64
              | (kinds[i] == MEM64_PREFETCH ? PciRegs.BASE_ADDRESS_MEM_PREFETCH : 0));
          memoryBars.add(i);
          if (i + 1 < 6) {
            set32(b, at + 4, p[7]);
            i++;
          }
        }
        case IO -> set32(b, at, 0xe000L | (i << 8) | PciRegs.BASE_ADDRESS_SPACE_IO);
        case MEM_BELOW_1M -> set32(b, at, (0xa0000L + i * 0x2000L) | PciRegs.BASE_ADDRESS_MEM_TYPE_1M);
        default -> set32(b, at, 0);
      }
    }
    int tableBir = memoryBars.get((int) (p[8] % memoryBars.size()));
    int pbaBir = memoryBars.get((int) (p[9] % memoryBars.size()));
    int entries = (int) p[10];
    long tableOffset = p[11] * 0x1000 + p[12];
    long pbaOffset = p[13] == 1 && pbaBir == tableBir
        ? (tableOffset + 16L * entries + 7) & ~7L
        : (p[11] + 1 + p[14]) * 0x1000 + p[15];
    int cap = (int) p[16] * 4;
    int pm = cap >= 0x80 ? 0x40 : 0xe0;
    b[cap] = (byte) PciRegs.CAP_ID_MSIX;
    set16(b, cap + 2, entries - 1);
    set32(b, cap + 4, tableOffset | tableBir);
    set32(b, cap + 8, pbaOffset | pbaBir);
    if (p[17] == 0) {
      b[PciRegs.CAPABILITY_LIST] = (byte) cap;
    } else {
      b[pm] = 0x01; // power management
      set16(b, pm + 2, 0x0003);
      if (p[17] == 1) {
        b[PciRegs.CAPABILITY_LIST] = (byte) pm;
        b[pm + 1] = (byte) cap;
      } else {
        b[PciRegs.CAPABILITY_LIST] = (byte) cap;
        b[cap + 1] = (byte) pm;
      }
    }
    return ConfigSpace.of(b);
  }

  private static void set16(byte[] b, int at, int v) {
    b[at] = (byte) v;
    b[at + 1] = (byte) (v >>> 8);
  }

  private static void set32(byte[] b, int at, long v) {
    set16(b, at, (int) v);
    set16(b, at + 2, (int) (v >>> 16));
  }

  // ---- host set-ups ------------------------------------------------------------------------------

  /**
   * Host set-ups under {@code policy}: a device from {@link #configSpaces()}, one to five guests in
   * any paging modes (PV32 included), the device left with dom0 or assigned to one of them.
   *
   * @param policy the policy of every set-up
   * @return the generator; set-ups shrink toward one PV guest, dom0 keeping the device, and a simple
   *     device
   */
  public static Gen<HostSetup> setups(Policy policy) {
    return setups(policy, configSpaces());
  }

  /**
   * Host set-ups under {@code policy} with devices from {@code devices}.
   *
   * @param policy the policy of every set-up
   * @param devices the configuration spaces, for example {@code Gens.constant(nic)}
   * @return the generator
   */
  public static Gen<HostSetup> setups(Policy policy, Gen<ConfigSpace> devices) {
    Objects.requireNonNull(policy, "policy");
    Gen<List<PagingMode>> guests =
        Gens.lists(
            Gens.elements(
                PagingMode.PV,
                PagingMode.PV_SHADOW,
                PagingMode.HVM_EPT,
                PagingMode.HVM_NPT,
                PagingMode.HVM_SHADOW,
                PagingMode.PV32),
            1,
            5);
    return Gens.zip(
        devices,
        Gens.zip(guests, Gens.ints(0, 5), (g, owner) -> new Object[] {g, owner}),
        (device, rest) -> {
          @SuppressWarnings("unchecked")
          List<PagingMode> modes = (List<PagingMode>) rest[0];
          int owner = (Integer) rest[1] % (modes.size() + 1);
          return new HostSetup(policy, device, modes, owner);
        });
  }

  /**
   * Whole scenarios: a set-up from {@code setups}, then up to {@code maxActions} operations of
   * {@link #operations(HostSetup)} for it. Shrinking simplifies the set-up first (drawing the
   * operations again from the same random state), then the operations.
   *
   * @param setups the set-ups
   * @param maxActions the longest sequence, at least 1
   * @return the generator; see {@link HostScenario#check}
   */
  public static Gen<HostScenario> scenarios(Gen<HostSetup> setups, int maxActions) {
    if (maxActions < 1) {
      throw new IllegalArgumentException("maxActions " + maxActions + " (expected: >= 1)");
    }
    return setups.flatMap(
        setup -> Gens.lists(HostGens.<Object>operations(setup), 0, maxActions)
            .map(actions -> new HostScenario(setup, actions)));
  }

  // ---- operations --------------------------------------------------------------------------------

  /**
   * Random host operations for hosts built by {@code setup}, each an {@link Action} that ignores the
   * model (use any model type, or {@code null}) and prints as one scenario-script line; see the
   * class description for the list. The actions make no assertions: check the host with an
   * invariant such as {@link HostInvariantCheck}.
   *
   * @param setup the set-up the actions will run on (its names, frames and policy)
   * @param <M> the model type of the stateful check, unused by these actions
   * @return the generator
   */
  public static <M> Gen<Action<Host, M>> operations(HostSetup setup) {
    Objects.requireNonNull(setup, "setup");
    return new Operations<M>(setup).build();
  }

  /** The operation generators of one set-up, with what they need precomputed. */
  private static final class Operations<M> {
    private final HostSetup setup;
    private final long[][] frames;
    private final long[] mmio;
    private final int[] pv;
    private final int[] shadowed;
    private final int[] translated;
    private final int[] all;
    private final boolean msix;
    private final long[] entries;
    private final P2mSwitches.GlobalRetype retype;

    Operations(HostSetup setup) {
      this.setup = setup;
      this.all = setup.domainIds();
      this.frames = new long[all.length][];
      for (int id : all) {
        frames[id] = frameCandidates(setup, id);
      }
      this.mmio = mmioCandidates(setup);
      this.pv = select(PagingMode::pvTables);
      this.shadowed = select(PagingMode::shadowed);
      this.translated = select(PagingMode::translated);
      MsixLayout layout = setup.msixLayout();
      this.msix = layout.capability().isPresent();
      int size = msix ? layout.capability().tableSize() : 1;
      long[] candidates = {0, 1, 2, size - 1, size};
      List<Long> list = new ArrayList<>();
      for (long e : candidates) {
        if (e <= MAX_SCRIPT_ENTRY && !list.contains(e)) {
          list.add(e);
        }
      }
      this.entries = list.stream().mapToLong(Long::longValue).toArray();
      this.retype = setup.policy().p2m().globalRetype();
    }

    private int[] select(java.util.function.Predicate<PagingMode> which) {
      return java.util.Arrays.stream(all).filter(id -> which.test(setup.mode(id))).toArray();
    }

    Gen<Action<Host, M>> build() {
      Gens.Weighted<Action<Host, M>> ops = Gens.weighted();
      if (pv.length > 0) {
        ops = ops.add(5, update()).add(2, ptwr()).add(1, write()).add(1, pin(true))
            .add(1, pin(false));
      }
      if (shadowed.length > 0) {
        ops = ops.add(4, shadow());
      }
      if (translated.length > 0) {
        ops = ops.add(3, p2m()).add(1, retype());
      }
      if (msix) {
        ops = ops.add(4, enable(false)).add(3, disable()).add(2, prepare(true))
            .add(1, prepare(false));
        if (all.length > 1) {
          ops = ops.add(1, enable(true));
        }
      }
      ops = ops.add(2, assign()).add(2, protect(true)).add(1, protect(false)).add(1, iomem());
      return ops.build();
    }

    /** A domain of {@code ids}, shrinking toward the first. */
    private static Gen<Long> domain(int[] ids) {
      return Gens.ints(0, ids.length - 1).map(i -> (long) ids[i]);
    }

    private Gen<Long> frameIndex() {
      return index(frames[0].length);
    }

    private long pte(int id, long frameIndex, long flags) {
      return Pte.fromMfn(entryFrame(frames[id][(int) frameIndex]), (int) flags);
    }

    private static Gen<Long> slot() {
      return Gens.elements(0L, 1L, 2L, 511L);
    }

    private static Gen<Long> flags() {
      return PTE_FLAGS.map(Integer::longValue);
    }

    private Action<Host, M> action(String line, Consumer<Host> body) {
      return Action.of(line, (host, model) -> body.accept(host));
    }

    /** The domain, or null when Xen crashed it (its operations are skipped). */
    private static GuestDomain alive(Host host, int id) {
      GuestDomain d = host.domain(id);
      return d.crashed() ? null : d;
    }

    private static HostDevice device(Host host) {
      return host.devices().get(0);
    }

    private long l1(int id, long choice) {
      return setup.ramFirst(id) + choice;
    }

    Gen<Action<Host, M>> update() {
      return tuple(List.of(domain(pv), Gens.elements(0L, 1L), slot(), frameIndex(), flags()))
          .map(t -> {
            int id = (int) t[0];
            long mfn = l1(id, t[1]);
            int slot = (int) t[2];
            long pte = pte(id, t[3], t[4]);
            return action("update " + setup.name(id) + " " + HostScript.hex(mfn) + " " + slot
                + " " + HostScript.entry(pte), host -> {
                  GuestDomain d = alive(host, id);
                  if (d != null) {
                    host.mmuUpdate(d, mfn, slot, pte);
                  }
                });
          });
    }

    Gen<Action<Host, M>> ptwr() {
      // store: 0 an 8-byte store, 1 an 8-byte cmpxchg of 0, 2 the low half, 3 the high half
      return tuple(List.of(domain(pv), Gens.elements(0L, 1L), slot(), frameIndex(), flags(),
              Gens.elements(0L, 1L, 2L, 3L)))
          .map(t -> {
            int id = (int) t[0];
            long mfn = l1(id, t[1]);
            long pte = pte(id, t[3], t[4]);
            int store = (int) t[5];
            int offset = (int) t[2] * 8 + (store == 3 ? 4 : 0);
            int bytes = store >= 2 ? 4 : 8;
            long value = store == 2 ? pte & 0xffffffffL : store == 3 ? pte >>> 32 : pte;
            boolean cmpxchg = store == 1;
            return action("ptwr " + setup.name(id) + " " + HostScript.hex(mfn) + " "
                + HostScript.hex(offset) + " " + bytes + " " + HostScript.entry(value)
                + (cmpxchg ? " cmpxchg " + HostScript.entry(0) : ""), host -> {
                  GuestDomain d = alive(host, id);
                  if (d != null) {
                    host.ptwrEmulatedUpdate(d, mfn, offset, 0, value, bytes, cmpxchg);
                  }
                });
          });
    }

    Gen<Action<Host, M>> write() {
      return tuple(List.of(domain(pv), slot(), frameIndex(), flags())).map(t -> {
        int id = (int) t[0];
        long mfn = l1(id, 1);
        int slot = (int) t[1];
        long pte = pte(id, t[2], t[3]);
        return action("write " + setup.name(id) + " " + HostScript.hex(mfn) + " " + slot + " "
            + HostScript.entry(pte), host -> {
              GuestDomain d = alive(host, id);
              if (d != null && !inUse(host, mfn)) {
                host.writeGuestEntry(d, mfn, slot, pte);
              }
            });
      });
    }

    /** Whether the frame is a page table in use (a guest cannot write it directly). */
    private static boolean inUse(Host host, long mfn) {
      return host.frames().typeCount(mfn) != 0 && host.frames().pageType(mfn).needsValidation();
    }

    Gen<Action<Host, M>> pin(boolean pin) {
      return Gens.zip(domain(pv), Gens.elements(1L, 0L), (idLong, choice) -> {
        int id = (int) (long) idLong;
        long mfn = l1(id, choice);
        return action((pin ? "pin " : "unpin ") + setup.name(id) + " " + HostScript.hex(mfn),
            host -> {
              GuestDomain d = alive(host, id);
              if (d != null) {
                if (pin) {
                  host.pinL1Table(d, mfn);
                } else {
                  host.unpinTable(d, mfn);
                }
              }
            });
      });
    }

    Gen<Action<Host, M>> shadow() {
      return tuple(List.of(domain(shadowed), Gens.elements(0L, 1L), slot(), frameIndex(), flags()))
          .map(t -> {
            int id = (int) t[0];
            int table = (int) t[1];
            int slot = (int) t[2];
            long pte = pte(id, t[3], t[4]);
            return action("shadow " + setup.name(id) + " " + table + " " + slot + " "
                + HostScript.entry(pte), host -> {
                  GuestDomain d = alive(host, id);
                  if (d != null) {
                    host.shadowWrite(d, table, slot, pte);
                  }
                });
          });
    }

    Gen<Action<Host, M>> p2m() {
      return tuple(List.of(domain(translated),
              Gens.ints(0, P2M_TYPES.length - 1).map(Integer::longValue),
              Gens.<Long>weighted().add(4, Gens.constant(0L)).add(1, Gens.elements(1L, 2L))
                  .build(),
              frameIndex(), index(mmio.length)))
          .map(t -> {
            int id = (int) t[0];
            P2mType type = P2M_TYPES[(int) t[1]];
            PageOrder order = ORDERS[(int) t[2]];
            if (type == P2mType.MMIO_DIRECT && order == PageOrder.ORDER_1G) {
              order = PageOrder.ORDER_2M; // a 1G MMIO mapping is split into 262144 leaves
            } else if (type != P2mType.MMIO_DIRECT && type != P2mType.INVALID) {
              order = PageOrder.ORDER_4K; // RAM maps the domain's own frames, 256 of them
            }
            long frame = frames[id][(int) t[3]];
            long gfn = align(Long.compareUnsigned(frame, RadixP2m.GFN_LIMIT) >= 0
                ? RadixP2m.GFN_LIMIT - 1 : frame, order);
            long mfn;
            if (type == P2mType.INVALID) {
              mfn = P2mEntry.INVALID_MFN;
            } else if (type == P2mType.MMIO_DIRECT) {
              mfn = align(entryFrame(mmio[(int) t[4]]), order);
            } else {
              long[] ram = {setup.ramFirst(id) + 2, setup.ramFirst(id), setup.ramLast(id)};
              mfn = align(ram[(int) (t[4] % ram.length)], order);
            }
            PageOrder o = order;
            long m = mfn;
            return action("p2m " + setup.name(id) + " " + HostScript.hex(gfn) + " "
                + HostScript.hex(mfn) + " " + HostScript.orderName(order) + " "
                + HostScript.typeName(type), host -> {
                  GuestDomain d = alive(host, id);
                  if (d != null) {
                    host.setP2mEntry(d, gfn, m, o, type);
                  }
                });
          });
    }

    private static long align(long frame, PageOrder order) {
      return frame & -order.pages();
    }

    Gen<Action<Host, M>> retype() {
      List<P2mType[]> pairs = new ArrayList<>();
      pairs.add(new P2mType[] {P2mType.RAM_RW, P2mType.RAM_LOGDIRTY});
      pairs.add(new P2mType[] {P2mType.RAM_LOGDIRTY, P2mType.RAM_RW});
      pairs.add(new P2mType[] {P2mType.RAM_RW, P2mType.RAM_RW});
      if (retype == P2mSwitches.GlobalRetype.SEED_MMIO_DIRECT_SAME_ONLY) {
        pairs.add(new P2mType[] {P2mType.MMIO_DIRECT, P2mType.MMIO_DIRECT});
      }
      return Gens.zip(domain(translated), Gens.ints(0, pairs.size() - 1), (idLong, p) -> {
        int id = (int) (long) idLong;
        P2mType from = pairs.get(p)[0];
        P2mType to = pairs.get(p)[1];
        return action("retype " + setup.name(id) + " " + HostScript.typeName(from) + " "
            + HostScript.typeName(to), host -> {
              GuestDomain d = alive(host, id);
              if (d != null) {
                host.changeTypeGlobal(d, from, to);
              }
            });
      });
    }

    Gen<Action<Host, M>> enable(boolean byGuest) {
      Gen<Long> entry = Gens.ints(0, entries.length - 1).map(i -> entries[i]);
      if (!byGuest) {
        return entry.map(e -> action("msix enable " + HostSetup.DEVICE + " " + e,
            host -> host.enableMsix(device(host), (int) (long) e)));
      }
      int[] guests = java.util.Arrays.copyOfRange(all, 1, all.length);
      return Gens.zip(entry, domain(guests), (e, idLong) -> {
        int id = (int) (long) idLong;
        return action("msix enable " + HostSetup.DEVICE + " " + e + " by " + setup.name(id),
            host -> {
              if (alive(host, id) != null) {
                host.enableMsix(device(host), (int) (long) e, id);
              }
            });
      });
    }

    Gen<Action<Host, M>> disable() {
      return Gens.ints(0, entries.length - 1).map(i -> {
        int e = (int) entries[i];
        return action("msix disable " + HostSetup.DEVICE + " " + e, host -> {
          HostDevice dev = device(host);
          if (e < dev.msix().capability().tableSize() && dev.msix().isEnabled(e)) {
            host.disableMsix(dev, e);
          }
        });
      });
    }

    Gen<Action<Host, M>> prepare(boolean prepare) {
      return Gens.constant(prepare
          ? action("msix prepare " + HostSetup.DEVICE, host -> host.prepareMsix(device(host)))
          : action("msix release " + HostSetup.DEVICE, host -> host.releaseMsix(device(host))));
    }

    Gen<Action<Host, M>> assign() {
      return domain(all).map(idLong -> {
        int id = (int) (long) idLong;
        return action("assign " + HostSetup.DEVICE + " " + setup.name(id), host -> {
          GuestDomain d = alive(host, id);
          if (d != null) {
            host.assignDevice(device(host), d);
          }
        });
      });
    }

    /**
     * {@code iomem D RANGE}: small ranges at the host window and the MSI-X frames, and the edge
     * ranges but those ending at 0xffffffff (a translated domain maps them as thousands of
     * 1-GByte leaves, whose revocation costs seconds: {@code HostInputBoundsTest} covers that).
     */
    Gen<Action<Host, M>> iomem() {
      long[] targets = {HostSetup.HOST_MMIO_FIRST, mmio[0], mmio[1]};
      Gen<long[]> small = tuple(List.of(Gens.ints(0, targets.length - 1)
          .map(Integer::longValue), Gens.elements(0L, 1L)))
          .map(t -> new long[] {targets[(int) t[0]], targets[(int) t[0]] + t[1]});
      Gen<long[]> edges = edgeRanges().filter(r -> r[1] != 0xffffffffL);
      Gen<long[]> ranges = Gens.<long[]>weighted().add(2, small).add(1, edges).build();
      return Gens.zip(domain(all), ranges, (idLong, range) -> {
        int id = (int) (long) idLong;
        long first = range[0];
        long last = range[1];
        return action("iomem " + setup.name(id) + " " + HostScript.range(first, last), host -> {
          GuestDomain d = alive(host, id);
          if (d != null) {
            host.grantIomem(d, first, last);
          }
        });
      });
    }

    Gen<Action<Host, M>> protect(boolean protect) {
      long[] targets = {
        HostSetup.HOST_MMIO_FIRST, mmio[0], mmio[1], HostSetup.HOST_MMIO_LAST, mmio[3]
      };
      Gen<long[]> small = tuple(List.of(Gens.ints(0, targets.length - 1)
          .map(Integer::longValue), Gens.elements(0L, 1L, 3L)))
          .map(t -> new long[] {targets[(int) t[0]], targets[(int) t[0]] + t[1]});
      Gen<long[]> ranges = Gens.<long[]>weighted().add(5, small).add(1, edgeRanges()).build();
      return Gens.zip(Gens.elements(0L, 1L), ranges, (r, range) -> new long[] {r, range[0],
              range[1]})
          .map(t -> {
            String registrant = REGISTRANTS[(int) t[0]];
            long first = t[1];
            long last = t[2];
            return action((protect ? "protect " : "unprotect ") + registrant + " "
                + HostScript.range(first, last), host -> {
                  if (protect) {
                    host.protect(registrant, first, last);
                  } else {
                    host.unprotect(registrant, first, last);
                  }
                });
          });
    }
  }

  /** {@link #EDGE_RANGES}, shrinking toward the first. */
  private static Gen<long[]> edgeRanges() {
    return Gens.ints(0, EDGE_RANGES.length - 1).map(i -> EDGE_RANGES[i].clone());
  }

  /** Draws of every part, as one array; shrinks part by part, first part first. */
  static Gen<long[]> tuple(List<Gen<Long>> parts) {
    Gen<long[]> last = parts.get(parts.size() - 1).map(v -> new long[] {v});
    Gen<long[]> out = last;
    for (int i = parts.size() - 2; i >= 0; i--) {
      Gen<long[]> rest = out;
      out = Gens.zip(parts.get(i), rest, (head, tail) -> {
        long[] all = new long[tail.length + 1];
        all[0] = head;
        System.arraycopy(tail, 0, all, 1, tail.length);
        return all;
      });
    }
    return out;
  }
}
