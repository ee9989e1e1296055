package org.hvmmu.p2m;

import java.util.Objects;

/**
 * The behaviours in which the seed (July 2010) and hardened (today's upstream) p2m, EPT and shadow code
 * differ, one named switch per difference, so that no era test is scattered through the code.
 *
 * <p>{@link #SEED_2010} reproduces the seed bit for bit, defects included; {@link #HARDENED} is Xen as
 * of today, and {@link #XEN_4_22}, the release, is the same in every switch. Other combinations are
 * allowed, to isolate one difference in a test.
 *
 * <table>
 *   <caption>Switches and the presets</caption>
 *   <tr><th>Switch</th><th>Seed</th><th>Hardened</th><th>Xen 4.22</th><th>Upstream change</th></tr>
 *   <tr><td>{@link #era()}</td><td>SEED_2010</td><td>TODAY</td><td>TODAY</td><td>d5688e96d6 (2011)
 *       numbering and type position; NX on non-RAM types (2012)</td></tr>
 *   <tr><td>{@link #roMmioForcesUc()}</td><td>false</td><td>true</td><td>true</td><td>XSA-154
 *       (2016)</td></tr>
 *   <tr><td>{@link #superpageRoMmio()}</td><td>ASSERT_NO_VALID_MFN</td><td>REFUSE_RETRY_4K</td>
 *       <td>REFUSE_RETRY_4K</td><td>c3c756bde3 (2016)</td></tr>
 *   <tr><td>{@link #globalRetype()}</td><td>SEED_MMIO_DIRECT_SAME_ONLY</td><td>CHANGEABLE_ONLY</td>
 *       <td>CHANGEABLE_ONLY</td><td>061eebe0e9 (2014)</td></tr>
 *   <tr><td>{@link #eptAccessedDirty()}</td><td>false</td><td>true</td><td>true</td><td>EPT A/D and
 *       PML (2015)</td></tr>
 *   <tr><td>{@link #eptAccessRestriction()}</td><td>false</td><td>true</td><td>true</td>
 *       <td>mem_access (2011)</td></tr>
 *   <tr><td>{@link #eptSplitRoMmioSuperpages()}</td><td>false</td><td>true</td><td>true</td>
 *       <td>c3c756bde3 (2016)</td></tr>
 *   <tr><td>{@link #shadowDropsRwResult()}</td><td>true</td><td>false</td><td>false</td><td>XSA-154
 *       (2016)</td></tr>
 * </table>
 *
 * @param era the type numbering, and where and how the generic p2m format encodes types (type at flag
 *     bit 9 and no NX in the seed; type at PTE bit 52 and NX on non-RAM types today); also where EPT
 *     entries keep the type (bits 11:8 or 57:52) and whether they have access and suppress-#VE fields
 * @param roMmioForcesUc read-only mmio_direct mappings are made uncacheable: the generic p2m entry gets
 *     PCD|PWT (UC) instead of PCD alone, EPT gets memory type UC with ipat, and the shadow entry's cache
 *     bits are replaced by PCD|PWT
 * @param superpageRoMmio what {@code p2m_set_entry} does with an mmio_direct superpage
 * @param globalRetype which types {@code p2m_change_type_global} accepts
 * @param eptAccessedDirty EPT leaves get the accessed and dirty bits set up front when the processor
 *     has EPT A/D ({@link org.hvmmu.x86.CpuFeatures#eptAccessedDirty()}), and PML keeps 4-KByte logdirty
 *     pages writable
 * @param eptAccessRestriction EPT permissions are restricted by the entry's {@link P2mAccess}
 * @param eptSplitRoMmioSuperpages an EPT superpage whose frames partly overlap mmio_ro_ranges gets an
 *     invalid memory type and is split, so that read-only frames end up in 4-KByte entries
 * @param shadowDropsRwResult the seed's shadow defect (reference section 3.6, row 9): when {@code
 *     shadow_set_l1e} hears "map read-only" from {@code get_page_from_l1e} it computes the entry without
 *     RW and discards the result, so the shadow entry stays writable. Read only by {@link
 *     org.hvmmu.p2m.shadow.ShadowL1e#shadowSetL1e}
 */
public record P2mSwitches(
    P2mEra era,
    boolean roMmioForcesUc,
    SuperpageRoMmio superpageRoMmio,
    GlobalRetype globalRetype,
    boolean eptAccessedDirty,
    boolean eptAccessRestriction,
    boolean eptSplitRoMmioSuperpages,
    boolean shadowDropsRwResult) {

  /** The seed, bit for bit, including its shadow defect. */
  public static final P2mSwitches SEED_2010 =
      new P2mSwitches(
          P2mEra.SEED_2010,
          false,
          SuperpageRoMmio.ASSERT_NO_VALID_MFN,
          GlobalRetype.SEED_MMIO_DIRECT_SAME_ONLY,
          false,
          false,
          false,
          true);

  /** Today's upstream Xen. */
  public static final P2mSwitches HARDENED =
      new P2mSwitches(
          P2mEra.TODAY,
          true,
          SuperpageRoMmio.REFUSE_RETRY_4K,
          GlobalRetype.CHANGEABLE_ONLY,
          true,
          true,
          true,
          false);

  /**
   * Xen 4.22 (RELEASE-4.22.0): every switch as {@link #HARDENED}, which is upstream here.
   * Files: {@code xen/arch/x86/mm/p2m-pt.c}, {@code p2m-ept.c}, {@code p2m.c}, {@code
   * shadow/set.c} and {@code shadow/multi.c} under {@code xen/arch/x86/mm/}.
   *
   * <ul>
   *   <li>era TODAY: {@code p2m_type_to_flags} keeps the type at PTE bit 52, EPT in {@code
   *       sa_p2mt} (bits 57:52)
   *   <li>roMmioForcesUc: a read-only {@code mmio_direct} leaf gets {@code _PAGE_UC}; {@code
   *       epte_get_entry_emt} answers UC with ipat; {@code _sh_propagate} sets UC (XSA-154)
   *   <li>superpageRoMmio REFUSE_RETRY_4K: {@code set_mmio_p2m_entry} returns {@code
   *       PAGE_ORDER_4K + 1} for a superpage overlapping {@code mmio_ro_ranges}, {@code
   *       check_entry} asserts it
   *   <li>globalRetype CHANGEABLE_ONLY: {@code p2m_change_entry_type_global} asserts {@code
   *       p2m_is_changeable} of both types (061eebe0e9)
   *   <li>eptAccessedDirty: {@code ept_p2m_type_to_flags} sets A/D from {@code
   *       cpu_has_vmx_ept_ad} ({@code ept=ad} is on by default except on Avoton), PML keeps 4K
   *       logdirty writable
   *   <li>eptAccessRestriction: the same function restricts r/w/x by {@code entry->access}
   *   <li>eptSplitRoMmioSuperpages: {@code epte_get_entry_emt} returns -1 (split by {@code
   *       resolve_misconfig}) for a superpage only partly in {@code mmio_ro_ranges}
   *   <li>shadowDropsRwResult false: {@code shadow_set_l1e} XORs the flip mask into the entry
   *       (XSA-154, c61a6f74f8)
   * </ul>
   */
  public static final P2mSwitches XEN_4_22 =
      new P2mSwitches(
          P2mEra.TODAY,
          true,
          SuperpageRoMmio.REFUSE_RETRY_4K,
          GlobalRetype.CHANGEABLE_ONLY,
          true,
          true,
          true,
          false);

  /**
   * Checks that no switch is null.
   *
   * @param era the era
   * @param roMmioForcesUc as the record component
   * @param superpageRoMmio the superpage policy
   * @param globalRetype the global re-type check
   * @param eptAccessedDirty as the record component
   * @param eptAccessRestriction as the record component
   * @param eptSplitRoMmioSuperpages as the record component
   * @param shadowDropsRwResult as the record component
   */
  public P2mSwitches {
    Objects.requireNonNull(era, "era");
    Objects.requireNonNull(superpageRoMmio, "superpageRoMmio");
    Objects.requireNonNull(globalRetype, "globalRetype");
  }

  /** What {@code p2m_set_entry} does with a superpage of type mmio_direct. */
  public enum SuperpageRoMmio {
    /**
     * The seed: the generic format's {@code p2m_set_entry} has {@code ASSERT(!mfn_valid(mfn) || p2mt !=
     * p2m_mmio_direct)} on 2-MByte and 1-GByte entries, whatever mmio_ro_ranges holds ({@link
     * org.hvmmu.xen.HypervisorBugException}); an mmio_direct superpage of a frame without a frame-table
     * entry is written empty. The seed's EPT has no such check.
     */
    ASSERT_NO_VALID_MFN,
    /**
     * Today: {@code set_mmio_p2m_entry} refuses a superpage whose frame span overlaps mmio_ro_ranges and
     * returns {@code PAGE_ORDER_4K + 1}, asking the caller to retry with 4-KByte pages ({@link
     * P2mSetResult#RETRY_ORDER_4K}); other mmio_direct superpages are mapped. The flag derivations
     * assert that no read-only mmio_direct superpage is built.
     */
    REFUSE_RETRY_4K
  }

  /** Which types a global re-type ({@code p2m_change_type_global}) accepts. */
  public enum GlobalRetype {
    /**
     * The seed: {@code BUG_ON} a grant type on either side, and {@code BUG_ON} mmio_direct on exactly one
     * side; {@code ot == nt == mmio_direct} is allowed, to re-derive every mmio_direct entry when an
     * MSI-X table is registered (reference section 3.6, row 11).
     */
    SEED_MMIO_DIRECT_SAME_ONLY,
    /**
     * Today: both types must be changeable (ram_rw, logdirty, ioreq_server), which forbids every MMIO
     * and grant type ({@code ASSERT(p2m_is_changeable(ot) && p2m_is_changeable(nt))}).
     */
    CHANGEABLE_ONLY
  }

  /**
   * This record with {@code era} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public P2mSwitches withEra(P2mEra value) {
    return new P2mSwitches(value, roMmioForcesUc, superpageRoMmio, globalRetype, eptAccessedDirty, eptAccessRestriction, eptSplitRoMmioSuperpages, shadowDropsRwResult);
  }

  /**
   * This record with {@code roMmioForcesUc} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public P2mSwitches withRoMmioForcesUc(boolean value) {
    return new P2mSwitches(era, value, superpageRoMmio, globalRetype, eptAccessedDirty, eptAccessRestriction, eptSplitRoMmioSuperpages, shadowDropsRwResult);
  }

  /**
   * This record with {@code superpageRoMmio} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public P2mSwitches withSuperpageRoMmio(SuperpageRoMmio value) {
    return new P2mSwitches(era, roMmioForcesUc, value, globalRetype, eptAccessedDirty, eptAccessRestriction, eptSplitRoMmioSuperpages, shadowDropsRwResult);
  }

  /**
   * This record with {@code globalRetype} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public P2mSwitches withGlobalRetype(GlobalRetype value) {
    return new P2mSwitches(era, roMmioForcesUc, superpageRoMmio, value, eptAccessedDirty, eptAccessRestriction, eptSplitRoMmioSuperpages, shadowDropsRwResult);
  }

  /**
   * This record with {@code eptAccessedDirty} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public P2mSwitches withEptAccessedDirty(boolean value) {
    return new P2mSwitches(era, roMmioForcesUc, superpageRoMmio, globalRetype, value, eptAccessRestriction, eptSplitRoMmioSuperpages, shadowDropsRwResult);
  }

  /**
   * This record with {@code eptAccessRestriction} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public P2mSwitches withEptAccessRestriction(boolean value) {
    return new P2mSwitches(era, roMmioForcesUc, superpageRoMmio, globalRetype, eptAccessedDirty, value, eptSplitRoMmioSuperpages, shadowDropsRwResult);
  }

  /**
   * This record with {@code eptSplitRoMmioSuperpages} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public P2mSwitches withEptSplitRoMmioSuperpages(boolean value) {
    return new P2mSwitches(era, roMmioForcesUc, superpageRoMmio, globalRetype, eptAccessedDirty, eptAccessRestriction, value, shadowDropsRwResult);
  }

  /**
   * This record with {@code shadowDropsRwResult} replaced.
   *
   * @param value the new value
   * @return a new record
   */
  public P2mSwitches withShadowDropsRwResult(boolean value) {
    return new P2mSwitches(era, roMmioForcesUc, superpageRoMmio, globalRetype, eptAccessedDirty, eptAccessRestriction, eptSplitRoMmioSuperpages, value);
  }
}
