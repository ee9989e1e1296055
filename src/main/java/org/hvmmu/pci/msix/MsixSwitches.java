package org.hvmmu.pci.msix;

import java.util.Objects;
import org.hvmmu.pci.BarReadMode;
import org.hvmmu.rangeset.owned.RemovalPolicy;

/**
 * The behaviours in which the seed (Xen 2010, b5aadd4248), upstream Xen and hvmmu's hardened model
 * differ when MSI-X is enabled and disabled, one named switch each (reference §3.4-§3.7). {@link
 * #SEED_2010} reproduces the seed, {@link #UPSTREAM} today's Xen, {@link #XEN_4_22} the 4.22
 * release (the same values), {@link #HARDENED} upstream plus hvmmu's own fixes. Mix them with the
 * withers to see which fix closes which hole.
 *
 * <table>
 *   <caption>Switches by preset</caption>
 *   <tr><th>switch</th><th>{@link #SEED_2010}</th><th>{@link #UPSTREAM}, {@link
 *       #XEN_4_22}</th><th>{@link #HARDENED}</th></tr>
 *   <tr><td>{@code tableBaseFromCaller}</td><td>true</td><td>false</td><td>false</td></tr>
 *   <tr><td>{@code barReadMode}</td><td>{@link BarReadMode#SEED_2010}</td><td>{@link
 *       BarReadMode#CORRECTED}</td><td>{@link BarReadMode#CORRECTED}</td></tr>
 *   <tr><td>{@code registerOncePerDevice}</td><td>true</td><td>false</td><td>false</td></tr>
 *   <tr><td>{@code pbaSizing}</td><td>{@link PbaSizing#BITS_TO_LONGS}</td><td>{@link
 *       PbaSizing#BITS_TO_LONGS}</td><td>{@link PbaSizing#CORRECTED}</td></tr>
 *   <tr><td>{@code clearRecordedRanges}</td><td>false</td><td>true</td><td>true</td></tr>
 *   <tr><td>{@code prepareMsix}</td><td>false</td><td>true</td><td>true</td></tr>
 *   <tr><td>{@code releaseRequiresPrepare}</td><td>false</td><td>false</td><td>true</td></tr>
 *   <tr><td>{@code crashUnpreparedDomain}</td><td>false</td><td>true</td><td>true</td></tr>
 *   <tr><td>{@code noDataForUntrustedSetup}</td><td>false</td><td>true</td><td>true</td></tr>
 *   <tr><td>{@code ownershipAwareRemoval}</td><td>false</td><td>false</td><td>true</td></tr>
 *   <tr><td>{@code checkedRegionArithmetic}</td><td>false</td><td>false</td><td>true</td></tr>
 * </table>
 *
 * @param tableBaseFromCaller the seed computes the table's address from the caller-supplied {@code
 *     msi->table_base} plus the table offset, in any context, and reads the BAR only for a {@code
 *     WARN_ON} (§3.6 row 3). False: the address comes from the BAR; with {@code
 *     noDataForUntrustedSetup} it is computed only by a prepare or in a trusted context (the
 *     hardware domain acting for itself or for {@code dom_io}), the
 *     caller's base serves only when the BAR reads 0 there (else {@code -ENXIO}), and other
 *     contexts reuse the recorded frames (2013).
 * @param barReadMode how {@code read_pci_mem_bar} reads every BAR here: for the table (or the
 *     seed's {@code WARN_ON}) and for the PBA base (§3.6 rows 1, 2 and 4: the seed's PBA frames
 *     come from the BAR's flag bits plus the offset)
 * @param registerOncePerDevice the seed computes and registers the frames only while the device's
 *     {@code msix_nr_entries} is still 0, once per device lifetime, but removes them whenever the
 *     used entries drop to 0: a second enable leaves the table writable (§3.6 row 7). False:
 *     registration and removal on the used-entries 0&harr;1 transitions, and {@code nr_entries} is
 *     the table size from the moment the device is added (2013, 2019)
 * @param pbaSizing the PBA length the PBA's frames are computed with (§3.4: {@code
 *     BITS_TO_LONGS(n)} bytes in the seed and upstream, 8&middot;&lceil;n/64&rceil; in truth)
 * @param clearRecordedRanges zero the recorded table and PBA frames when they are removed
 *     (XSA-337, 4.15); the seed keeps them
 * @param prepareMsix PHYSDEVOP_prepare_msix and release_msix exist (4.3, 2013); without them both
 *     return {@code -ENOSYS}, as an unknown physdev op does
 * @param releaseRequiresPrepare release only undoes a prepare: {@code -EBUSY} unless the device is
 *     prepared and has no live vector. Upstream releases whenever exactly one entry is used, even a
 *     real vector, which leaves that vector's table writable and makes its later disable wrap the
 *     count (hvmmu's fix)
 * @param crashUnpreparedDomain when the first vector of a device is set up by a real vector (not a
 *     prepare) for a domain other than the hardware domain, that domain is crashed, unless the
 *     hardware domain does it before the domain owns memory (4.5, 2014; §3.7 step 3)
 * @param noDataForUntrustedSetup an untrusted context cannot set up the first vector of a device
 *     whose frames were never recorded: {@code -ENODATA} (XSA-337, 4.15; §3.7 step 4); before it,
 *     the frames were computed from the BAR in any context
 * @param ownershipAwareRemoval removal keeps the frames another registrant still covers ({@link
 *     RemovalPolicy#OWNERSHIP_AWARE}), and a device removes only what it holds; false is Xen's
 *     {@code rangeset_remove_range} of the recorded frames, which unprotects them for everyone
 * @param checkedRegionArithmetic the table's and PBA's addresses are computed with checked
 *     unsigned arithmetic ({@link MsixTableDescriptor#unusableReason}): a table or PBA whose BAR +
 *     offset wraps past 2^64, whose last byte crosses 2^64, or that a 32-bit BAR places above 4
 *     GiB is unusable, and the set-up fails with {@code -ENXIO} (the error Xen gives for a table
 *     BAR it cannot use) with a warning, recording and protecting nothing (hvmmu's fix). False is
 *     Xen's {@code u64} arithmetic: the address wraps silently (a wrapped table protects frame 0),
 *     and a range whose last frame wraps below its first reaches {@code rangeset_add_range}'s
 *     {@code ASSERT(s <= e)}, which a debug build fails and a release build ignores, inserting an
 *     inverted range; hvmmu adds nothing then, logs the assertion and reports {@code -EINVAL} in
 *     {@link MsixResult#rangesetRc()}
 */
public record MsixSwitches(
    boolean tableBaseFromCaller,
    BarReadMode barReadMode,
    boolean registerOncePerDevice,
    PbaSizing pbaSizing,
    boolean clearRecordedRanges,
    boolean prepareMsix,
    boolean releaseRequiresPrepare,
    boolean crashUnpreparedDomain,
    boolean noDataForUntrustedSetup,
    boolean ownershipAwareRemoval,
    boolean checkedRegionArithmetic) {

  /** The seed exactly. */
  public static final MsixSwitches SEED_2010 =
      new MsixSwitches(
          true,
          BarReadMode.SEED_2010,
          true,
          PbaSizing.BITS_TO_LONGS,
          false,
          false,
          false,
          false,
          false,
          false,
          false);

  /** Upstream Xen today: every fix Xen made, with its PBA sizing and without owners. */
  public static final MsixSwitches UPSTREAM =
      new MsixSwitches(
          false,
          BarReadMode.CORRECTED,
          false,
          PbaSizing.BITS_TO_LONGS,
          true,
          true,
          false,
          true,
          true,
          false,
          false);

  /**
   * Xen 4.22 (RELEASE-4.22.0, {@code xen/arch/x86/msi.c}): the values of {@link #UPSTREAM}, as
   * nothing on these paths has changed between the release and the master the reference read.
   *
   * <ul>
   *   <li>tableBaseFromCaller false: {@code msix_capability_init} takes the BAR ({@code
   *       read_pci_mem_bar}), the caller's {@code table_base} only when it reads 0 (2013)
   *   <li>barReadMode CORRECTED: header type masked with 0x7f, address with {@code
   *       PCI_BASE_ADDRESS_MEM_MASK} (53c6e9e545, 15542fcd1c)
   *   <li>registerOncePerDevice false: {@code rangeset_add_range} when {@code used_entries} is 0,
   *       {@code rangeset_remove_range} when {@code _pci_cleanup_msix} takes it to 0;
   *       {@code nr_entries} read when the device is added ({@code pdev_msi_init})
   *   <li>pbaSizing BITS_TO_LONGS: {@code pba.last} is still {@code pba_paddr +
   *       BITS_TO_LONGS(nr_entries) - 1}, a defect upstream keeps
   *   <li>clearRecordedRanges: {@code _pci_cleanup_msix} zeroes {@code table} and {@code pba}
   *       (XSA-337)
   *   <li>prepareMsix: {@code PHYSDEVOP_prepare_msix} and {@code release_msix} (4245d331e0)
   *   <li>releaseRequiresPrepare false: {@code pci_prepare_msix} releases whenever {@code
   *       used_entries} is 1, a real vector's included
   *   <li>crashUnpreparedDomain: {@code domain_crash} of the owner on a first real vector, unless
   *       the hardware domain sets it up before the owner has pages (061eebe0e9)
   *   <li>noDataForUntrustedSetup: {@code -ENODATA} when the frames were never recorded and the
   *       context is not trusted (XSA-337, beb54596cf)
   *   <li>ownershipAwareRemoval false: {@code mmio_ro_ranges} is not reference-counted; a removal
   *       unprotects the frames for every other registrant
   * </ul>
   */
  public static final MsixSwitches XEN_4_22 =
      new MsixSwitches(
          false,
          BarReadMode.CORRECTED,
          false,
          PbaSizing.BITS_TO_LONGS,
          true,
          true,
          false,
          true,
          true,
          false,
          false);

  /**
   * Upstream plus hvmmu's fixes: the real PBA size, strict release, ownership-aware removal,
   * checked region arithmetic.
   */
  public static final MsixSwitches HARDENED =
      new MsixSwitches(
          false, BarReadMode.CORRECTED, false, PbaSizing.CORRECTED, true, true, true, true, true,
          true, true);

  /**
   * Checks the arguments.
   *
   * @param tableBaseFromCaller see the class description
   * @param barReadMode see the class description
   * @param registerOncePerDevice see the class description
   * @param pbaSizing see the class description
   * @param clearRecordedRanges see the class description
   * @param prepareMsix see the class description
   * @param releaseRequiresPrepare see the class description
   * @param crashUnpreparedDomain see the class description
   * @param noDataForUntrustedSetup see the class description
   * @param ownershipAwareRemoval see the class description
   * @param checkedRegionArithmetic see the class description
   * @throws NullPointerException if {@code barReadMode} or {@code pbaSizing} is null
   */
  public MsixSwitches {
    Objects.requireNonNull(barReadMode, "barReadMode");
    Objects.requireNonNull(pbaSizing, "pbaSizing");
  }

  /**
   * The registry policy these switches need.
   *
   * @return {@link RemovalPolicy#OWNERSHIP_AWARE} if {@code ownershipAwareRemoval}, else {@link
   *     RemovalPolicy#XEN_UNREFCOUNTED}
   */
  public RemovalPolicy removalPolicy() {
    return ownershipAwareRemoval ? RemovalPolicy.OWNERSHIP_AWARE : RemovalPolicy.XEN_UNREFCOUNTED;
  }

  /**
   * This record with {@code tableBaseFromCaller} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public MsixSwitches withTableBaseFromCaller(boolean value) {
    return new MsixSwitches(
        value,
        barReadMode,
        registerOncePerDevice,
        pbaSizing,
        clearRecordedRanges,
        prepareMsix,
        releaseRequiresPrepare,
        crashUnpreparedDomain,
        noDataForUntrustedSetup,
        ownershipAwareRemoval,
        checkedRegionArithmetic);
  }

  /**
   * This record with {@code barReadMode} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public MsixSwitches withBarReadMode(BarReadMode value) {
    return new MsixSwitches(
        tableBaseFromCaller,
        value,
        registerOncePerDevice,
        pbaSizing,
        clearRecordedRanges,
        prepareMsix,
        releaseRequiresPrepare,
        crashUnpreparedDomain,
        noDataForUntrustedSetup,
        ownershipAwareRemoval,
        checkedRegionArithmetic);
  }

  /**
   * This record with {@code registerOncePerDevice} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public MsixSwitches withRegisterOncePerDevice(boolean value) {
    return new MsixSwitches(
        tableBaseFromCaller,
        barReadMode,
        value,
        pbaSizing,
        clearRecordedRanges,
        prepareMsix,
        releaseRequiresPrepare,
        crashUnpreparedDomain,
        noDataForUntrustedSetup,
        ownershipAwareRemoval,
        checkedRegionArithmetic);
  }

  /**
   * This record with {@code pbaSizing} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public MsixSwitches withPbaSizing(PbaSizing value) {
    return new MsixSwitches(
        tableBaseFromCaller,
        barReadMode,
        registerOncePerDevice,
        value,
        clearRecordedRanges,
        prepareMsix,
        releaseRequiresPrepare,
        crashUnpreparedDomain,
        noDataForUntrustedSetup,
        ownershipAwareRemoval,
        checkedRegionArithmetic);
  }

  /**
   * This record with {@code clearRecordedRanges} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public MsixSwitches withClearRecordedRanges(boolean value) {
    return new MsixSwitches(
        tableBaseFromCaller,
        barReadMode,
        registerOncePerDevice,
        pbaSizing,
        value,
        prepareMsix,
        releaseRequiresPrepare,
        crashUnpreparedDomain,
        noDataForUntrustedSetup,
        ownershipAwareRemoval,
        checkedRegionArithmetic);
  }

  /**
   * This record with {@code prepareMsix} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public MsixSwitches withPrepareMsix(boolean value) {
    return new MsixSwitches(
        tableBaseFromCaller,
        barReadMode,
        registerOncePerDevice,
        pbaSizing,
        clearRecordedRanges,
        value,
        releaseRequiresPrepare,
        crashUnpreparedDomain,
        noDataForUntrustedSetup,
        ownershipAwareRemoval,
        checkedRegionArithmetic);
  }

  /**
   * This record with {@code releaseRequiresPrepare} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public MsixSwitches withReleaseRequiresPrepare(boolean value) {
    return new MsixSwitches(
        tableBaseFromCaller,
        barReadMode,
        registerOncePerDevice,
        pbaSizing,
        clearRecordedRanges,
        prepareMsix,
        value,
        crashUnpreparedDomain,
        noDataForUntrustedSetup,
        ownershipAwareRemoval,
        checkedRegionArithmetic);
  }

  /**
   * This record with {@code crashUnpreparedDomain} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public MsixSwitches withCrashUnpreparedDomain(boolean value) {
    return new MsixSwitches(
        tableBaseFromCaller,
        barReadMode,
        registerOncePerDevice,
        pbaSizing,
        clearRecordedRanges,
        prepareMsix,
        releaseRequiresPrepare,
        value,
        noDataForUntrustedSetup,
        ownershipAwareRemoval,
        checkedRegionArithmetic);
  }

  /**
   * This record with {@code noDataForUntrustedSetup} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public MsixSwitches withNoDataForUntrustedSetup(boolean value) {
    return new MsixSwitches(
        tableBaseFromCaller,
        barReadMode,
        registerOncePerDevice,
        pbaSizing,
        clearRecordedRanges,
        prepareMsix,
        releaseRequiresPrepare,
        crashUnpreparedDomain,
        value,
        ownershipAwareRemoval,
        checkedRegionArithmetic);
  }

  /**
   * This record with {@code ownershipAwareRemoval} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public MsixSwitches withOwnershipAwareRemoval(boolean value) {
    return new MsixSwitches(
        tableBaseFromCaller,
        barReadMode,
        registerOncePerDevice,
        pbaSizing,
        clearRecordedRanges,
        prepareMsix,
        releaseRequiresPrepare,
        crashUnpreparedDomain,
        noDataForUntrustedSetup,
        value,
        checkedRegionArithmetic);
  }

  /**
   * This record with {@code checkedRegionArithmetic} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public MsixSwitches withCheckedRegionArithmetic(boolean value) {
    return new MsixSwitches(
        tableBaseFromCaller,
        barReadMode,
        registerOncePerDevice,
        pbaSizing,
        clearRecordedRanges,
        prepareMsix,
        releaseRequiresPrepare,
        crashUnpreparedDomain,
        noDataForUntrustedSetup,
        ownershipAwareRemoval,
        value);
  }
}
