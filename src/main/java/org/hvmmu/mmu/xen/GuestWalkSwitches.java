package org.hvmmu.mmu.xen;

import java.util.Objects;

/**
 * The behaviours in which the seed's walker (Xen 2010, changeset b5aadd4248) and today's (Xen 4.9 and
 * later, changeset 4c5d78a10d and the features added around it) differ, one named switch per
 * difference. {@link #SEED_2010} reproduces the seed, defects included; {@link #HARDENED} is upstream
 * Xen today. Mix them to isolate one difference in a test; the switches that need an error code to
 * report through ({@link #reservedBits()}, {@link #gigabytePages()}, {@link #smep()}, {@link #smap()}, {@link
 * #protectionKeys}) require {@link Convention#PFEC}.
 *
 * <table>
 *   <caption>Switches and the presets</caption>
 *   <tr><th>Switch</th><th>Seed</th><th>Hardened</th><th>Upstream change</th></tr>
 *   <tr><td>{@link #convention()}</td><td>MISSING_FLAGS</td><td>PFEC</td><td>4c5d78a10d (2017, Xen
 *       4.9)</td></tr>
 *   <tr><td>{@link #reservedBits()}</td><td>false</td><td>true</td><td>51ce0a98c8 (October
 *       2010), 6d972a6195 (2011), 46699c7393 (2016), 4c5d78a10d (AMD L4 G, PAE L3)</td></tr>
 *   <tr><td>{@link #gigabytePages()}</td><td>false</td><td>true</td><td>96b740e209 (2011)</td></tr>
 *   <tr><td>{@link #smep()}</td><td>false</td><td>true</td><td>89c9f78710 (2011)</td></tr>
 *   <tr><td>{@link #smap()}</td><td>false</td><td>true</td><td>58658992c1 (2014)</td></tr>
 *   <tr><td>{@link #protectionKeys()}</td><td>false</td><td>true</td><td>ccbe3b1448 (2016), PKS
 *       e96f634b3d (2023)</td></tr>
 *   <tr><td>{@link #accessedDirtyOrder()}</td><td>TOP_DOWN</td><td>LEAF_FIRST</td><td>d9d0dd1079
 *       (2017)</td></tr>
 *   <tr><td>{@link #superpageFrame()}</td><td>PAT_BIT_CLEARED</td><td>ALIGNED</td><td>6d972a6195
 *       (2011), PSE-36 4c5d78a10d</td></tr>
 *   <tr><td>{@link #clearIgnoredL2Pse()}</td><td>false</td><td>true</td><td>4c5d78a10d</td></tr>
 * </table>
 *
 * @param convention what a walk returns and how it checks rights (see {@link Convention})
 * @param reservedBits entries are checked for reserved bits ({@code guest_l*e_rsvd_bits}): bits from
 *     the guest's MAXPHYADDR to 51, NX without guest NX, L4 PS, L4 G on an AMD guest, L3 PS unless
 *     1-GByte pages are usable, every reserved bit of a PAE PDPTE, PAE bits 62:52, a superpage's frame
 *     bits below its size (except PSE-PAT), and a 2-level 4-MByte page's bits beyond PSE-36; a hit
 *     fails the walk with RSVD|P. Without it such bits are ignored, as the seed ignores them
 * @param gigabytePages a 4-level guest's L3 PS maps a 1-GByte page when the domain uses HAP on a host
 *     with 1-GByte pages; otherwise (and always in the seed) the L3 PS bit is reserved (with {@link
 *     #reservedBits}) or ignored, the entry pointing to a page directory
 * @param smep CR4.SMEP stops supervisor fetches from user pages, and makes fetches report
 *     {@link Pfec#INSN_FETCH} even without NX
 * @param smap CR4.SMAP stops supervisor data accesses to user pages when they are implicit or
 *     RFLAGS.AC is clear
 * @param protectionKeys a 4-level guest's data accesses are checked against PKRU (user pages, with
 *     CR4.PKE) and PKRS (supervisor pages, with CR4.PKS), before any other right; a superpage's
 *     fabricated L1 entry carries the leaf's key
 * @param accessedDirtyOrder the order of the accessed/dirty compare-and-sets after a successful walk
 * @param superpageFrame how the frame of a 2- or 4-MByte page's fabricated L1 entry is computed
 * @param clearIgnoredL2Pse a 2-level guest without CR4.PSE has its ignored PDE PS bit cleared in the
 *     walk's copy of the entry; the accessed-bit compare-and-set then compares against that copy and
 *     fails whenever the guest's PDE has PS set, so Xen never sets such a PDE's accessed bit. The
 *     seed keeps the entry as read (and sets the bit)
 */
public record GuestWalkSwitches(
    Convention convention,
    boolean reservedBits,
    boolean gigabytePages,
    boolean smep,
    boolean smap,
    boolean protectionKeys,
    AccessedDirtyOrder accessedDirtyOrder,
    SuperpageFrame superpageFrame,
    boolean clearIgnoredL2Pse) {

  /** The seed's walker exactly: missing flags, no reserved bits, no 1 GiB, SMEP, SMAP or keys. */
  public static final GuestWalkSwitches SEED_2010 =
      new GuestWalkSwitches(
          Convention.MISSING_FLAGS,
          false,
          false,
          false,
          false,
          false,
          AccessedDirtyOrder.TOP_DOWN,
          SuperpageFrame.PAT_BIT_CLEARED,
          false);

  /** Today's upstream walker (semantics since Xen 4.9, with PKS since 4.17). */
  public static final GuestWalkSwitches HARDENED =
      new GuestWalkSwitches(
          Convention.PFEC,
          true,
          true,
          true,
          true,
          true,
          AccessedDirtyOrder.LEAF_FIRST,
          SuperpageFrame.ALIGNED,
          true);

  /**
   * Xen 4.22's walker: the same as {@link #HARDENED}. The walk has had no defect since Xen 4.9 that
   * the hardened policy would change (the quirks of today's code, such as the A bit of an ignored
   * PSE PDE, are Xen's behaviour and stay switchable on their own).
   * Xen 4.22: {@code xen/arch/x86/mm/guest_walk.c}.
   */
  public static final GuestWalkSwitches XEN_4_22 = HARDENED;

  /**
   * Checks the switches.
   *
   * @param convention the {@code convention} component
   * @param reservedBits the {@code reservedBits} component
   * @param gigabytePages the {@code gigabytePages} component
   * @param smep the {@code smep} component
   * @param smap the {@code smap} component
   * @param protectionKeys the {@code protectionKeys} component
   * @param accessedDirtyOrder the {@code accessedDirtyOrder} component
   * @param superpageFrame the {@code superpageFrame} component
   * @param clearIgnoredL2Pse the {@code clearIgnoredL2Pse} component
   * @throws NullPointerException if an enum switch is null
   * @throws IllegalArgumentException if a switch that reports through the error code is on under
   *     {@link Convention#MISSING_FLAGS}
   */
  public GuestWalkSwitches {
    Objects.requireNonNull(convention, "convention");
    Objects.requireNonNull(accessedDirtyOrder, "accessedDirtyOrder");
    Objects.requireNonNull(superpageFrame, "superpageFrame");
    if (convention == Convention.MISSING_FLAGS
        && (reservedBits || gigabytePages || smep || smap || protectionKeys)) {
      throw new IllegalArgumentException("reservedBits " + reservedBits + ", gigabytePages "
          + gigabytePages + ", smep " + smep + ", smap " + smap + ", protectionKeys "
          + protectionKeys + " under MISSING_FLAGS (expected: all false; they need the PFEC"
          + " convention)");
    }
  }

  /** What {@code guest_walk_tables} returns, and how it decides that an access is allowed. */
  public enum Convention {
    /**
     * The seed: a {@code uint32_t} of the flags found missing ({@link MissingFlags}), 0 for success.
     * The caller's error code selects, through the 16-entry {@code mandatory_flags} table, the flags
     * every entry must have (P, R/W for writes, U/S for user accesses, NX clear for fetches); each
     * entry's missing ones are ORed in and the walk goes on down to the leaf unless P is missing. A
     * table that is paged out or shared replaces the whole result with {@link
     * MissingFlags#PAGE_PAGED} or {@link MissingFlags#PAGE_SHARED}; a table that is not RAM adds
     * P.
     */
    MISSING_FLAGS,
    /**
     * Today: a {@code bool} (a translation exists and the rights allow the access) and an error
     * code in {@code walk_t.pfec}. The walk stops at a not-present entry (P clear), a reserved bit
     * (RSVD|P) or a table it cannot map (P clear, plus {@link Pfec#PAGE_PAGED} or {@link
     * Pfec#PAGE_SHARED}); at the leaf P is set and U/S and R/W (ANDed over the levels) and NX (ORed)
     * are checked in one place: keys, then NX, then U/S and R/W, SMEP, SMAP and CR0.WP.
     */
    PFEC
  }

  /** The order of the accessed and dirty updates after a successful walk. */
  public enum AccessedDirtyOrder {
    /**
     * The seed: the top-level entry first, the leaf last. When one entry is used at two levels (a
     * recursive mapping), the leaf's compare-and-set then sees the upper level's update and fails,
     * and a write leaves the leaf without its dirty bit.
     */
    TOP_DOWN,
    /** Today: the leaf first, then upward, so the leaf's dirty bit wins such a race. */
    LEAF_FIRST
  }

  /** How the fabricated L1 entry of a 2- or 4-MByte page finds its frame. */
  public enum SuperpageFrame {
    /**
     * The seed: the PDE's frame number with bit 0 (PSE-PAT) cleared, plus the L1 index of the address;
     * frame bits below the page size are kept (a misaligned page is honoured, shifted), and a 2-level
     * PDE's bits 20:13 stay frame bits (no PSE-36); a 2-level entry is truncated to 32 bits.
     */
    PAT_BIT_CLEARED,
    /**
     * Today: the frame number aligned down to the page size, plus the index; a 2-level PDE's bits
     * 20:13 are physical bits 39:32 (PSE-36), and the entry is 64 bits wide. 1-GByte pages always
     * use this rule.
     */
    ALIGNED
  }

  /**
   * This record with {@code convention} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public GuestWalkSwitches withConvention(Convention value) {
    return new GuestWalkSwitches(value, reservedBits, gigabytePages, smep, smap, protectionKeys,
        accessedDirtyOrder, superpageFrame, clearIgnoredL2Pse);
  }

  /**
   * This record with {@code reservedBits} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public GuestWalkSwitches withReservedBits(boolean value) {
    return new GuestWalkSwitches(convention, value, gigabytePages, smep, smap, protectionKeys,
        accessedDirtyOrder, superpageFrame, clearIgnoredL2Pse);
  }

  /**
   * This record with {@code gigabytePages} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public GuestWalkSwitches withGigabytePages(boolean value) {
    return new GuestWalkSwitches(convention, reservedBits, value, smep, smap, protectionKeys,
        accessedDirtyOrder, superpageFrame, clearIgnoredL2Pse);
  }

  /**
   * This record with {@code smep} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public GuestWalkSwitches withSmep(boolean value) {
    return new GuestWalkSwitches(convention, reservedBits, gigabytePages, value, smap,
        protectionKeys, accessedDirtyOrder, superpageFrame, clearIgnoredL2Pse);
  }

  /**
   * This record with {@code smap} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public GuestWalkSwitches withSmap(boolean value) {
    return new GuestWalkSwitches(convention, reservedBits, gigabytePages, smep, value,
        protectionKeys, accessedDirtyOrder, superpageFrame, clearIgnoredL2Pse);
  }

  /**
   * This record with {@code protectionKeys} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public GuestWalkSwitches withProtectionKeys(boolean value) {
    return new GuestWalkSwitches(convention, reservedBits, gigabytePages, smep, smap, value,
        accessedDirtyOrder, superpageFrame, clearIgnoredL2Pse);
  }

  /**
   * This record with {@code accessedDirtyOrder} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public GuestWalkSwitches withAccessedDirtyOrder(AccessedDirtyOrder value) {
    return new GuestWalkSwitches(convention, reservedBits, gigabytePages, smep, smap,
        protectionKeys, value, superpageFrame, clearIgnoredL2Pse);
  }

  /**
   * This record with {@code superpageFrame} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public GuestWalkSwitches withSuperpageFrame(SuperpageFrame value) {
    return new GuestWalkSwitches(convention, reservedBits, gigabytePages, smep, smap,
        protectionKeys, accessedDirtyOrder, value, clearIgnoredL2Pse);
  }

  /**
   * This record with {@code clearIgnoredL2Pse} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public GuestWalkSwitches withClearIgnoredL2Pse(boolean value) {
    return new GuestWalkSwitches(convention, reservedBits, gigabytePages, smep, smap,
        protectionKeys, accessedDirtyOrder, superpageFrame, value);
  }
}
