package org.hvmmu.testkit.host;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import org.hvmmu.host.GuestDomain;
import org.hvmmu.host.GuestVcpu;
import org.hvmmu.host.Host;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.host.script.Scenario;
import org.hvmmu.host.script.ScenarioWriter;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.Fault;
import org.hvmmu.mmu.xen.GuestRegisters;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.msix.MsixLayout;
import org.hvmmu.pci.msix.MsixRegion;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.hvmmu.x86.pv.PageType;

/**
 * A {@link HostSetup} whose guests run: on top of the base host, every guest gets real page tables
 * at every level in its own memory, I/O rights over the host MMIO window and the device's BARs, and
 * {@value #VCPUS} vCPUs running on two different top-level tables, so that loads, stores, fetches,
 * CR3 switches and invalidations on several vCPUs meet protection changes while the TLBs hold
 * translations. Like the base, it prints the scenario-script lines that build the same host.
 *
 * <p>Each guest's tables, at frame offsets from its first RAM frame {@code R} (machine frames for
 * PV and PV in shadow mode, guest frames for HVM, which the set-up's p2m maps to the same machine
 * frames):
 *
 * <table>
 *   <caption>The tables of one guest</caption>
 *   <tr><th>offset</th><th>4-level guests (PV, PV shadow, HVM)</th><th>PV32 (PAE)</th></tr>
 *   <tr><td>{@code 0x8}, {@code 0x9}</td><td>top-level tables A and B (L4): slot 0 names the L3 of
 *       the same tree</td><td>L3 tables A and B: slot 0 names the L2 of the tree, slot 3 its
 *       {@code PGT_pae_xen_l2}</td></tr>
 *   <tr><td>{@code 0xa}, {@code 0xb}</td><td>L3 tables A and B: slot 0 names the L2</td><td>the
 *       slot-3 L2 tables of A and B (Xen fills its slots)</td></tr>
 *   <tr><td>{@code 0xc}, {@code 0xd}</td><td colspan="2">L2 tables A and B: A maps L1 table P at
 *       slot 0 and Q at slot 1, B the other way round</td></tr>
 *   <tr><td>{@code 0x0}, {@code 0x1}</td><td colspan="2">L1 tables P and Q (P is the base set-up's
 *       pinned L1 of a PV guest)</td></tr>
 *   <tr><td>{@code 0x20} to {@code 0x27}</td><td colspan="2">data frames, four per L1
 *       table</td></tr>
 * </table>
 *
 * <p>So linear {@code 0x0} to {@code 0x1fffff} is L1 table P under tree A and Q under tree B, and
 * {@code 0x200000} up the other one. Both L1 tables hold, slot by slot ({@link #SLOT_DATA} ...):
 * four data frames (P RW US; P RW; P US; P RW US NX), the device's MSI-X table, its PBA and a frame
 * of the host window (P RW US; P maps the table at slot 4, Q the PBA), then the page tables
 * themselves: slot 7 maps L1 table P, 8 maps Q, 9 the L2 and 10 the top-level table of the tree
 * the L1 belongs to first (P: A, Q: B). A PV guest maps its tables P US (read-only: stores into L1
 * tables are emulated by Xen's {@code ptwr}), the others P RW (an HVM guest on EPT or NPT writes
 * its tables with plain stores; under shadow paging Xen emulates them). Slot 11 and above are
 * empty.
 *
 * <p>vCPU {@code k} of guest {@code NAME} is {@code NAME.k} in scripts; vCPU 0 runs on tree A,
 * vCPU 1 on tree B. A PV guest pins tree A's top-level table and installs both with {@code
 * MMUEXT_NEW_BASEPTR}; the others load {@link #CR0} 0x80050033, {@link #CR4} 0xa0 (PAE, PGE) and
 * {@link #EFER} 0xd00 with their CR3. A shadowed guest's vCPUs come after the one the base
 * set-up's guest tables made.
 *
 * <pre>{@code
 * HostVcpuSetup setup = HostVcpuSetup.of(Policy.HARDENED, nicConfigSpace);
 * Host host = setup.build();
 * GuestVcpu v = setup.vcpu(host, 1, 0);                 // pv1.0
 * v.write(HostVcpuSetup.linear(0, HostVcpuSetup.SLOT_MSIX_TABLE), 4, 0, Access.USER);
 * String script = String.join("\n", setup.scriptLines());
 * }</pre>
 *
 * <p>Immutable and thread-safe; {@link #build()} makes a new host each call.
 *
 * @param base the host underneath: device, dom0, the guests and their RAM
 */
public record HostVcpuSetup(HostSetup base) {
  /** vCPUs per guest: {@value}. */
  public static final int VCPUS = 2;

  /** The guests of {@link #of(Policy, ConfigSpace)}: one in each of the six paging modes. */
  public static final List<PagingMode> ALL_MODES = List.of(PagingMode.PV, PagingMode.PV32,
      PagingMode.PV_SHADOW, PagingMode.HVM_EPT, PagingMode.HVM_NPT, PagingMode.HVM_SHADOW);

  /** CR0 of the translated and shadowed guests: PG, AM, WP, NE, ET, MP, PE. */
  public static final long CR0 = 0x8005_0033L;

  /** CR4 of the translated and shadowed guests: PAE and PGE. */
  public static final long CR4 = 0xa0;

  /** EFER of the translated and shadowed guests: NXE, LMA, LME. */
  public static final long EFER = 0xd00;

  /** Frame offset of L1 table P. */
  public static final long L1_P = 0x0;

  /** Frame offset of L1 table Q. */
  public static final long L1_Q = 0x1;

  /** Frame offset of top-level table A (B is the next frame). */
  public static final long TOP = 0x8;

  /** Frame offset of tree A's middle table (L3, or PV32's slot-3 L2; B's is the next frame). */
  public static final long MIDDLE = 0xa;

  /** Frame offset of tree A's L2 table (B's is the next frame). */
  public static final long L2 = 0xc;

  /** Frame offset of the first data frame. */
  public static final long DATA = 0x20;

  /** Data frames per guest. */
  public static final int DATA_FRAMES = 8;

  /** First of the four data slots of each L1 table. */
  public static final int SLOT_DATA = 0;

  /** The L1 slot of the MSI-X table (P) or PBA (Q). */
  public static final int SLOT_MSIX_TABLE = 4;

  /** The L1 slot of the PBA (P) or MSI-X table (Q). */
  public static final int SLOT_PBA = 5;

  /** The L1 slot of a host-window frame. */
  public static final int SLOT_HOST_MMIO = 6;

  /** The L1 slot that maps L1 table P. */
  public static final int SLOT_L1_P = 7;

  /** The L1 slot that maps L1 table Q. */
  public static final int SLOT_L1_Q = 8;

  /** The L1 slot that maps an L2 table. */
  public static final int SLOT_L2 = 9;

  /** The L1 slot that maps a top-level table. */
  public static final int SLOT_TOP = 10;

  /** The first empty L1 slot. */
  public static final int SLOT_EMPTY = 11;

  /** The linear size each L2 slot maps. */
  public static final long WINDOW = 0x20_0000L;

  private static final int URW = PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW | PteFlags.PAGE_USER;

  private static final int[] DATA_FLAGS = {
    PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW | PteFlags.PAGE_USER,
    PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW,
    PteFlags.PAGE_PRESENT | PteFlags.PAGE_USER,
    PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW | PteFlags.PAGE_USER | PteFlags.PAGE_NX_BIT
  };

  /**
   * Checks the argument.
   *
   * @param base the base set-up
   */
  public HostVcpuSetup {
    Objects.requireNonNull(base, "base");
  }

  /**
   * A guest in each of the six paging modes ({@link #ALL_MODES}: {@code pv1}, {@code pae2}, {@code
   * pvs3}, {@code ept4}, {@code npt5}, {@code hvs6}), the device left with dom0.
   *
   * @param policy the policy
   * @param device the device's configuration space
   * @return the set-up
   */
  public static HostVcpuSetup of(Policy policy, ConfigSpace device) {
    return new HostVcpuSetup(new HostSetup(policy, device, ALL_MODES, 0));
  }

  /**
   * This set-up with another policy.
   *
   * @param value the policy
   * @return a new set-up
   */
  public HostVcpuSetup withPolicy(Policy value) {
    return new HostVcpuSetup(base.withPolicy(value));
  }

  /**
   * This set-up with the device assigned to another guest.
   *
   * @param value 0 (dom0 keeps it) or a guest id
   * @return a new set-up
   */
  public HostVcpuSetup withDeviceOwner(int value) {
    return new HostVcpuSetup(base.withDeviceOwner(value));
  }

  /**
   * The policy.
   *
   * @return the base set-up's policy
   */
  public Policy policy() {
    return base.policy();
  }

  /**
   * The guests' ids: 1 to {@code base().guests().size()} (dom0 has no vCPU).
   *
   * @return the ids in order
   */
  public int[] guestIds() {
    int[] ids = new int[base.guests().size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = i + 1;
    }
    return ids;
  }

  // ---- the layout -------------------------------------------------------------------------------

  /**
   * The linear address of slot {@code slot} of the L1 table the current tree maps at L2 slot {@code
   * window}.
   *
   * @param window 0 or 1 (L1 table P under tree A, Q under tree B; the other one at 1)
   * @param slot the L1 slot, 0 to 511
   * @return {@code window * 0x200000 + slot * 0x1000}
   */
  public static long linear(int window, int slot) {
    return window * WINDOW + ((long) slot << Pte.PAGE_SHIFT);
  }

  /**
   * A frame of the guest's layout.
   *
   * @param id a guest id
   * @param offset an offset such as {@link #L1_P}, {@link #TOP} + 1 or {@link #DATA}
   * @return {@code base().ramFirst(id) + offset}
   */
  public long frame(int id, long offset) {
    checkGuest(id);
    return base.ramFirst(id) + offset;
  }

  /**
   * The guest's L1 table P ({@code which} 0) or Q (1).
   *
   * @param id a guest id
   * @param which 0 or 1
   * @return the frame
   */
  public long l1(int id, int which) {
    return frame(id, L1_P + which);
  }

  /**
   * Tree A's ({@code which} 0) or B's (1) top-level table: an L4, or PV32's L3.
   *
   * @param id a guest id
   * @param which 0 or 1
   * @return the frame
   */
  public long top(int id, int which) {
    return frame(id, TOP + which);
  }

  /**
   * Tree A's or B's middle table: an L3, or PV32's slot-3 L2.
   *
   * @param id a guest id
   * @param which 0 or 1
   * @return the frame
   */
  public long middle(int id, int which) {
    return frame(id, MIDDLE + which);
  }

  /**
   * Tree A's or B's L2 table.
   *
   * @param id a guest id
   * @param which 0 or 1
   * @return the frame
   */
  public long l2(int id, int which) {
    return frame(id, L2 + which);
  }

  /**
   * One of the guest's page tables and its level as Xen types it.
   *
   * @param frame the frame (a guest frame for HVM)
   * @param level {@link PageType#L1_PAGE_TABLE} to {@link PageType#L4_PAGE_TABLE}
   */
  public record Table(long frame, PageType level) {
    /**
     * Checks the arguments.
     *
     * @param frame the frame
     * @param level the level
     */
    public Table {
      Objects.requireNonNull(level, "level");
    }
  }

  /**
   * The guest's page tables, top-level first: tops A and B, middles A and B, L2 A and B, L1 P and
   * Q.
   *
   * @param id a guest id
   * @return eight tables
   */
  public List<Table> tables(int id) {
    boolean pae = base.mode(id) == PagingMode.PV32;
    List<Table> out = new ArrayList<>();
    for (int w = 0; w < 2; w++) {
      out.add(new Table(top(id, w), pae ? PageType.L3_PAGE_TABLE : PageType.L4_PAGE_TABLE));
    }
    for (int w = 0; w < 2; w++) {
      out.add(new Table(middle(id, w), pae ? PageType.L2_PAGE_TABLE : PageType.L3_PAGE_TABLE));
    }
    for (int w = 0; w < 2; w++) {
      out.add(new Table(l2(id, w), PageType.L2_PAGE_TABLE));
    }
    for (int w = 0; w < 2; w++) {
      out.add(new Table(l1(id, w), PageType.L1_PAGE_TABLE));
    }
    return out;
  }

  /**
   * The MSI-X table's first frame, or the host window's first frame when the device has no usable
   * table (what the guests map at {@link #SLOT_MSIX_TABLE} of L1 table P).
   *
   * @return the frame
   */
  public long msixTableFrame() {
    MsixRegion table = base.msixLayout().table();
    return table.usable() ? table.firstFrame() : HostSetup.HOST_MMIO_FIRST;
  }

  /**
   * The PBA's first frame, or {@link #msixTableFrame()} when the device has no usable PBA.
   *
   * @return the frame
   */
  public long pbaFrame() {
    MsixLayout layout = base.msixLayout();
    return layout.pba().usable() ? layout.pba().firstFrame() : msixTableFrame();
  }

  /**
   * The CR3 value that selects tree {@code which} of guest {@code id}: the top-level table's
   * address (a guest-physical address for HVM; for PV32 Xen's {@code compat_pfn_to_cr3}, the same
   * for frames below 2^20).
   *
   * @param id a guest id
   * @param which 0 or 1
   * @return the value
   */
  public long cr3(int id, int which) {
    long mfn = top(id, which);
    if (base.mode(id) == PagingMode.PV32) {
      return ((mfn << Pte.PAGE_SHIFT) | (mfn >>> 20)) & 0xFFFF_FFFFL;
    }
    return mfn << Pte.PAGE_SHIFT;
  }

  /**
   * vCPU {@code k}'s name in scripts.
   *
   * @param id a guest id
   * @param k 0 to {@value #VCPUS} - 1
   * @return for example {@code "ept4.1"}
   */
  public String vcpuName(int id, int k) {
    checkGuest(id);
    if (k < 0 || k >= VCPUS) {
      throw new IllegalArgumentException("vCPU " + k + " (expected: 0 to " + (VCPUS - 1) + ")");
    }
    return base.name(id) + "." + k;
  }

  /**
   * vCPU {@code k} of guest {@code id} in a host this set-up built.
   *
   * @param host the host
   * @param id a guest id
   * @param k 0 to {@value #VCPUS} - 1
   * @return the vCPU
   */
  public GuestVcpu vcpu(Host host, int id, int k) {
    checkGuest(id);
    List<GuestVcpu> all = host.domain(id).vcpus();
    return all.get(firstVcpu(id) + k);
  }

  /** The domain's vCPUs before this set-up's: the guest-table layer's one of a shadowed guest. */
  private int firstVcpu(int id) {
    return base.mode(id).shadowed() && HostSetup.SHADOW_TABLES > 0 ? 1 : 0;
  }

  // ---- building ---------------------------------------------------------------------------------

  /**
   * The commands this set-up runs after the base set-up, in order: per guest {@code iomem} for the
   * host window and the BARs, its table entries ({@code update} into a PV guest's pinned L1 table
   * P, {@code write} into its other frames, {@code poke} for the others), a PV guest's {@code pin}
   * of top-level table A, the two {@code vcpu}s, and their {@code mmuext new-baseptr} or {@code
   * cr}.
   *
   * @return the commands
   */
  public List<Scenario.Command> commands() {
    List<Scenario.Command> out = new ArrayList<>();
    for (int id : guestIds()) {
      guestCommands(id, out);
    }
    return out;
  }

  private void guestCommands(int id, List<Scenario.Command> out) {
    PagingMode mode = base.mode(id);
    String name = base.name(id);
    out.add(new Scenario.GrantIomem(name, HostSetup.HOST_MMIO_FIRST, HostSetup.HOST_MMIO_LAST));
    long[] bars = base.barFrames();
    for (int i = 0; i < bars.length; i += 2) {
      out.add(new Scenario.GrantIomem(name, bars[i], bars[i + 1]));
    }
    for (long[] e : entries(id)) {
      long table = e[0];
      int slot = (int) e[1];
      if (!mode.pvTables()) {
        out.add(new Scenario.Poke(name, (table << Pte.PAGE_SHIFT) + 8L * slot, 8, e[2]));
      } else if (table == l1(id, 0)) {
        out.add(new Scenario.MmuUpdate(name, table, slot, e[2])); // pinned by the base set-up
      } else {
        out.add(new Scenario.GuestWrite(name, table, slot, e[2]));
      }
    }
    if (mode.pvTables()) {
      out.add(new Scenario.Pin(name, top(id, 0), tables(id).get(0).level()));
    }
    for (int k = 0; k < VCPUS; k++) {
      out.add(new Scenario.CreateVcpu(vcpuName(id, k), name));
    }
    for (int k = 0; k < VCPUS; k++) {
      if (mode.pvTables()) {
        out.add(new Scenario.Mmuext(vcpuName(id, k), Scenario.MmuextName.NEW_BASEPTR,
            top(id, k % 2), 0));
      } else {
        out.add(new Scenario.LoadRegisters(vcpuName(id, k), OptionalLong.of(CR0),
            OptionalLong.of(cr3(id, k % 2)), OptionalLong.of(CR4), OptionalLong.of(EFER)));
      }
    }
  }

  /** The guest's table entries: {table, slot, entry}, L1 table P first (its self-map first). */
  private List<long[]> entries(int id) {
    boolean pv = base.mode(id).pvTables();
    boolean pae = base.mode(id) == PagingMode.PV32;
    int tableFlags = pv ? PteFlags.PAGE_PRESENT | PteFlags.PAGE_USER
        : PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW;
    long[] mmio = {msixTableFrame(), pbaFrame()};
    List<long[]> out = new ArrayList<>();
    for (int w = 0; w < 2; w++) {
      long l1 = l1(id, w);
      out.add(new long[] {l1, SLOT_L1_P, Pte.fromMfn(l1(id, 0), tableFlags)});
      out.add(new long[] {l1, SLOT_L1_Q, Pte.fromMfn(l1(id, 1), tableFlags)});
      out.add(new long[] {l1, SLOT_L2, Pte.fromMfn(l2(id, w), tableFlags)});
      out.add(new long[] {l1, SLOT_TOP, Pte.fromMfn(top(id, w), tableFlags)});
      for (int s = 0; s < 4; s++) {
        out.add(new long[] {l1, SLOT_DATA + s, Pte.fromMfn(frame(id, DATA + 4L * w + s),
            DATA_FLAGS[s])});
      }
      out.add(new long[] {l1, SLOT_MSIX_TABLE, Pte.fromMfn(mmio[w], URW)});
      out.add(new long[] {l1, SLOT_PBA, Pte.fromMfn(mmio[1 - w], URW)});
      out.add(new long[] {l1, SLOT_HOST_MMIO, Pte.fromMfn(HostSetup.HOST_MMIO_FIRST + w,
          URW)});
    }
    for (int w = 0; w < 2; w++) {
      out.add(new long[] {l2(id, w), w, Pte.fromMfn(l1(id, 0), URW)});
      out.add(new long[] {l2(id, w), 1 - w, Pte.fromMfn(l1(id, 1), URW)});
      if (pae) {
        out.add(new long[] {top(id, w), 0, Pte.fromMfn(l2(id, w), PteFlags.PAGE_PRESENT)});
        out.add(new long[] {top(id, w), 3, Pte.fromMfn(middle(id, w), PteFlags.PAGE_PRESENT)});
      } else {
        out.add(new long[] {middle(id, w), 0, Pte.fromMfn(l2(id, w), URW)});
        out.add(new long[] {top(id, w), 0, Pte.fromMfn(middle(id, w), URW)});
      }
    }
    return out;
  }

  /**
   * Builds the host: {@link HostSetup#build()}, then {@link #commands()}.
   *
   * @return a new host whose guests run
   * @throws IllegalStateException if a step fails
   */
  public Host build() {
    Host host = base.build();
    for (Scenario.Command c : commands()) {
      long r = run(host, c);
      if (r != 0) {
        throw new IllegalStateException("host set-up: '" + ScenarioWriter.command(c)
            + "' returned " + (Fault.isFault(r) ? Fault.describe(r) : Long.toString(r)));
      }
    }
    return host;
  }

  /**
   * The script lines that build the same host as {@link #build()}: the base set-up's, then one per
   * command of {@link #commands()}.
   *
   * @return the lines, without newlines
   */
  public List<String> scriptLines() {
    List<String> out = new ArrayList<>(base.scriptLines());
    for (Scenario.Command c : commands()) {
      out.add(ScenarioWriter.command(c));
    }
    return out;
  }

  /**
   * The domain id of a guest or vCPU name of this set-up.
   *
   * @param name a domain name such as {@code pv1} or a vCPU name such as {@code pv1.0}
   * @return the id
   * @throws IllegalArgumentException if the set-up has no such name
   */
  public int domainId(String name) {
    int dot = name.lastIndexOf('.');
    String domain = dot < 0 ? name : name.substring(0, dot);
    for (int id : base.domainIds()) {
      if (base.name(id).equals(domain)) {
        return id;
      }
    }
    throw new IllegalArgumentException("no domain '" + domain + "' in the set-up");
  }

  private GuestVcpu vcpuNamed(Host host, String name) {
    int dot = name.lastIndexOf('.');
    return vcpu(host, domainId(name), Integer.parseInt(name.substring(dot + 1)));
  }

  /**
   * Runs one command on a host this set-up built, as {@code hvmmu replay} runs its line: the
   * commands of {@link #commands()} and the vCPU and PV commands {@link HostVcpuGens} generates.
   *
   * @return the command's return code (0, a negated errno), or the fault of a vCPU access (0 if
   *     none)
   * @throws IllegalArgumentException for a command of another kind
   */
  long run(Host host, Scenario.Command command) {
    if (command instanceof Scenario.GrantIomem c) {
      return host.grantIomem(host.domain(domainId(c.domain())), c.first(), c.last());
    }
    if (command instanceof Scenario.MmuUpdate c) {
      return host.mmuUpdate(host.domain(domainId(c.domain())), c.mfn(), c.slot(), c.entry());
    }
    if (command instanceof Scenario.GuestWrite c) {
      host.writeGuestEntry(host.domain(domainId(c.domain())), c.mfn(), c.slot(), c.entry());
      return 0;
    }
    if (command instanceof Scenario.Pin c) {
      return host.pinTable(host.domain(domainId(c.domain())), c.mfn(), c.level());
    }
    if (command instanceof Scenario.Unpin c) {
      return host.unpinTable(host.domain(domainId(c.domain())), c.mfn());
    }
    if (command instanceof Scenario.Poke c) {
      host.writeGuestPhysical(host.domain(domainId(c.domain())), c.gpa(), c.size(), c.value());
      return 0;
    }
    if (command instanceof Scenario.CreateVcpu c) {
      host.createVcpu(host.domain(domainId(c.domain())));
      return 0;
    }
    return runVcpu(host, command);
  }

  private long runVcpu(Host host, Scenario.Command command) {
    if (command instanceof Scenario.LoadRegisters c) {
      GuestVcpu v = vcpuNamed(host, c.vcpu());
      GuestRegisters now = v.guestRegisters();
      return v.loadGuestState(c.cr0().orElse(now.cr0()), c.cr3().orElse(now.cr3()),
          c.cr4().orElse(now.cr4()), c.efer().orElse(now.efer()));
    }
    if (command instanceof Scenario.Read c) {
      GuestVcpu v = vcpuNamed(host, c.vcpu());
      v.read(c.la(), c.size(), c.user() ? Access.USER : Access.READ);
      return v.lastFault();
    }
    if (command instanceof Scenario.Store c) {
      return vcpuNamed(host, c.vcpu()).write(c.la(), c.size(), c.value(),
          c.user() ? Access.USER : Access.READ, c.insn());
    }
    if (command instanceof Scenario.Fetch c) {
      GuestVcpu v = vcpuNamed(host, c.vcpu());
      v.fetch(c.la(), c.size(), c.user());
      return v.lastFault();
    }
    if (command instanceof Scenario.Translate c) {
      int bits = (c.write() ? Access.WRITE : 0) | (c.fetch() ? Access.FETCH : 0)
          | (c.user() ? Access.USER : 0);
      long r = vcpuNamed(host, c.vcpu()).translate(c.la(), bits);
      return Fault.isFault(r) ? r : 0;
    }
    if (command instanceof Scenario.Invlpg c) {
      return vcpuNamed(host, c.vcpu()).invlpg(c.la());
    }
    if (command instanceof Scenario.Invpcid c) {
      return vcpuNamed(host, c.vcpu()).invpcid(c.type(), c.pcid(), c.la());
    }
    if (command instanceof Scenario.Mmuext c) {
      return host.mmuextOp(vcpuNamed(host, c.vcpu()), c.op().cmd(), c.arg1(), c.arg2());
    }
    if (command instanceof Scenario.UpdateVa c) {
      return host.updateVaMapping(vcpuNamed(host, c.vcpu()), c.la(), c.entry(), c.flags(),
          c.vcpuMask());
    }
    throw new IllegalArgumentException("not a command of the vCPU set-up: "
        + ScenarioWriter.command(command));
  }

  /**
   * The domain a command acts on (the vCPU's, for a vCPU command), for skipping commands on a
   * domain Xen crashed.
   */
  int domainOf(Scenario.Command command) {
    String name;
    if (command instanceof Scenario.MmuUpdate c) {
      name = c.domain();
    } else if (command instanceof Scenario.Pin c) {
      name = c.domain();
    } else if (command instanceof Scenario.Unpin c) {
      name = c.domain();
    } else if (command instanceof Scenario.Poke c) {
      name = c.domain();
    } else if (command instanceof Scenario.LoadRegisters c) {
      name = c.vcpu();
    } else if (command instanceof Scenario.Read c) {
      name = c.vcpu();
    } else if (command instanceof Scenario.Store c) {
      name = c.vcpu();
    } else if (command instanceof Scenario.Fetch c) {
      name = c.vcpu();
    } else if (command instanceof Scenario.Translate c) {
      name = c.vcpu();
    } else if (command instanceof Scenario.Invlpg c) {
      name = c.vcpu();
    } else if (command instanceof Scenario.Invpcid c) {
      name = c.vcpu();
    } else if (command instanceof Scenario.Mmuext c) {
      name = c.vcpu();
    } else if (command instanceof Scenario.UpdateVa c) {
      name = c.vcpu();
    } else {
      throw new IllegalArgumentException("not a generated command: "
          + ScenarioWriter.command(command));
    }
    return domainId(name);
  }

  /**
   * Whether the domain a generated command acts on is alive in {@code host}.
   *
   * @param host the host
   * @param command a command of {@link HostVcpuGens}
   * @return false if Xen crashed the domain (the command is then skipped)
   */
  boolean alive(Host host, Scenario.Command command) {
    GuestDomain d = host.domain(domainOf(command));
    return !d.crashed();
  }

  private void checkGuest(int id) {
    if (id < 1 || id > base.guests().size()) {
      throw new IllegalArgumentException(
          "guest id " + id + " (expected: 1 to " + base.guests().size() + ")");
    }
  }
}
