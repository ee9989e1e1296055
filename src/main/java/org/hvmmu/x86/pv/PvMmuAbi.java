package org.hvmmu.x86.pv;

/**
 * The numbers of the PV memory-management hypercalls: {@code mmuext_op} commands, {@code mmu_update}
 * request types, the {@code UVMF_*} flags of {@code update_va_mapping}, and the layout facts of the
 * 64-bit PV address space a guest must respect. The values are Xen's, from {@code
 * xen/include/public/xen.h} unless a comment names another header.
 *
 * <pre>
 *  update_va_mapping flags (unsigned long):
 *    bits 1:0   UVMF_FLUSHTYPE_MASK: UVMF_NONE 0, UVMF_TLB_FLUSH 1, UVMF_INVLPG 2
 *    bits 63:2  UVMF_LOCAL 0, UVMF_ALL 4, anything else: a guest pointer to a vCPU bitmap (UVMF_MULTI)
 * </pre>
 */
public final class PvMmuAbi {
  // ---- mmu_update request types (the low two bits of the request's ptr) ---------------------------

  /** {@code MMU_NORMAL_PT_UPDATE}, xen/include/public/xen.h: a checked store into a page table. */
  public static final int MMU_NORMAL_PT_UPDATE = 0;

  /** {@code MMU_MACHPHYS_UPDATE}, xen/include/public/xen.h: an M2P update (not modelled). */
  public static final int MMU_MACHPHYS_UPDATE = 1;

  /** {@code MMU_PT_UPDATE_PRESERVE_AD}, xen/include/public/xen.h: as normal, keeping A and D. */
  public static final int MMU_PT_UPDATE_PRESERVE_AD = 2;

  /** {@code MMU_PT_UPDATE_NO_TRANSLATE}, xen/include/public/xen.h: normal, frames untranslated. */
  public static final int MMU_PT_UPDATE_NO_TRANSLATE = 3;

  // ---- mmuext_op commands -------------------------------------------------------------------------

  /** {@code MMUEXT_PIN_L1_TABLE}, xen/include/public/xen.h: pin a frame as an L1 table. */
  public static final int MMUEXT_PIN_L1_TABLE = 0;

  /** {@code MMUEXT_PIN_L2_TABLE}, xen/include/public/xen.h: pin a frame as an L2 table. */
  public static final int MMUEXT_PIN_L2_TABLE = 1;

  /** {@code MMUEXT_PIN_L3_TABLE}, xen/include/public/xen.h: pin a frame as an L3 table. */
  public static final int MMUEXT_PIN_L3_TABLE = 2;

  /** {@code MMUEXT_PIN_L4_TABLE}, xen/include/public/xen.h: pin a frame as an L4 table. */
  public static final int MMUEXT_PIN_L4_TABLE = 3;

  /** {@code MMUEXT_UNPIN_TABLE}, xen/include/public/xen.h: drop a pin. */
  public static final int MMUEXT_UNPIN_TABLE = 4;

  /** {@code MMUEXT_NEW_BASEPTR}, xen/include/public/xen.h: load a new L4 as the vCPU's CR3. */
  public static final int MMUEXT_NEW_BASEPTR = 5;

  /** {@code MMUEXT_TLB_FLUSH_LOCAL}, xen/include/public/xen.h: flush the calling vCPU's TLB. */
  public static final int MMUEXT_TLB_FLUSH_LOCAL = 6;

  /** {@code MMUEXT_INVLPG_LOCAL}, xen/include/public/xen.h: invalidate one address locally. */
  public static final int MMUEXT_INVLPG_LOCAL = 7;

  /** {@code MMUEXT_TLB_FLUSH_MULTI}, xen/include/public/xen.h: flush the TLBs of a vCPU set. */
  public static final int MMUEXT_TLB_FLUSH_MULTI = 8;

  /** {@code MMUEXT_INVLPG_MULTI}, xen/include/public/xen.h: invalidate one address on a vCPU set. */
  public static final int MMUEXT_INVLPG_MULTI = 9;

  /** {@code MMUEXT_TLB_FLUSH_ALL}, xen/include/public/xen.h: flush every vCPU of the domain. */
  public static final int MMUEXT_TLB_FLUSH_ALL = 10;

  /** {@code MMUEXT_INVLPG_ALL}, xen/include/public/xen.h: invalidate one address on every vCPU. */
  public static final int MMUEXT_INVLPG_ALL = 11;

  /** {@code MMUEXT_FLUSH_CACHE}, xen/include/public/xen.h: write back and invalidate caches. */
  public static final int MMUEXT_FLUSH_CACHE = 12;

  /** {@code MMUEXT_SET_LDT}, xen/include/public/xen.h: load an LDT (not modelled). */
  public static final int MMUEXT_SET_LDT = 13;

  /** {@code MMUEXT_NEW_USER_BASEPTR}, xen/include/public/xen.h: user-mode L4 (not modelled). */
  public static final int MMUEXT_NEW_USER_BASEPTR = 15;

  /** {@code MMUEXT_CLEAR_PAGE}, xen/include/public/xen.h: zero a frame (not modelled). */
  public static final int MMUEXT_CLEAR_PAGE = 16;

  /** {@code MMUEXT_COPY_PAGE}, xen/include/public/xen.h: copy a frame (not modelled). */
  public static final int MMUEXT_COPY_PAGE = 17;

  /** {@code MMUEXT_FLUSH_CACHE_GLOBAL}, xen/include/public/xen.h: as FLUSH_CACHE, every CPU. */
  public static final int MMUEXT_FLUSH_CACHE_GLOBAL = 18;

  /** {@code MMUEXT_MARK_SUPER}, xen/include/public/xen.h: PV superpages (not modelled). */
  public static final int MMUEXT_MARK_SUPER = 19;

  /** {@code MMUEXT_UNMARK_SUPER}, xen/include/public/xen.h: PV superpages (not modelled). */
  public static final int MMUEXT_UNMARK_SUPER = 20;

  // ---- update_va_mapping flags --------------------------------------------------------------------

  /** {@code UVMF_NONE}, xen/include/public/xen.h: no flushing at all. */
  public static final long UVMF_NONE = 0;

  /** {@code UVMF_TLB_FLUSH}, xen/include/public/xen.h: flush entire TLBs. */
  public static final long UVMF_TLB_FLUSH = 1;

  /** {@code UVMF_INVLPG}, xen/include/public/xen.h: flush only the one address. */
  public static final long UVMF_INVLPG = 2;

  /** {@code UVMF_FLUSHTYPE_MASK}, xen/include/public/xen.h: bits 1:0, the flush type. */
  public static final long UVMF_FLUSHTYPE_MASK = 3;

  /** {@code UVMF_MULTI}, xen/include/public/xen.h: a vCPU subset; OR the bitmap's pointer in. */
  public static final long UVMF_MULTI = 0;

  /** {@code UVMF_LOCAL}, xen/include/public/xen.h: the calling vCPU only (bits 63:2 zero). */
  public static final long UVMF_LOCAL = 0;

  /** {@code UVMF_ALL}, xen/include/public/xen.h: every vCPU of the domain. */
  public static final long UVMF_ALL = 4;

  // ---- the 64-bit PV address space -----------------------------------------------------------------

  /** {@code HYPERVISOR_VIRT_START}, xen/include/public/arch-x86/xen-x86_64.h: Xen's hole starts. */
  public static final long HYPERVISOR_VIRT_START = 0xFFFF_8000_0000_0000L;

  /** {@code HYPERVISOR_VIRT_END}, xen/include/public/arch-x86/xen-x86_64.h: the guest's again. */
  public static final long HYPERVISOR_VIRT_END = 0xFFFF_8800_0000_0000L;

  /** {@code ROOT_PAGETABLE_FIRST_XEN_SLOT}, xen/arch/x86/include/asm/config.h: L4 slot 256. */
  public static final int ROOT_PAGETABLE_FIRST_XEN_SLOT = 256;

  /** {@code ROOT_PAGETABLE_LAST_XEN_SLOT}, xen/arch/x86/include/asm/config.h: L4 slot 271. */
  public static final int ROOT_PAGETABLE_LAST_XEN_SLOT = 271;

  /** The L4 slot of {@code LINEAR_PT_VIRT_START}, xen/arch/x86/include/asm/config.h: 258. */
  public static final int LINEAR_PT_SLOT = 258;

  // ---- the 32-on-64 (compat) address space ------------------------------------------------------

  /**
   * {@code __HYPERVISOR_COMPAT_VIRT_START}, xen/arch/x86/include/asm/config.h (the same value in
   * the 2010 seed's xen/include/asm-x86/config.h): where Xen's part of a 32-on-64 guest's 4 GiB
   * starts (its compat machine-to-phys table); every such domain starts with it ({@code
   * switch_compat}).
   */
  public static final long HYPERVISOR_COMPAT_VIRT_START = 0xF580_0000L;

  /**
   * {@code COMPAT_L2_PAGETABLE_FIRST_XEN_SLOT(d)} for {@link #HYPERVISOR_COMPAT_VIRT_START}, from
   * xen/arch/x86/include/asm/config.h: {@code l2_table_offset(0xF5800000)} = 428, the first slot of
   * a PAE L2 in slot 3 of an L3 ({@code PGT_pae_xen_l2}) that holds Xen's compat mappings.
   */
  public static final int COMPAT_L2_PAGETABLE_FIRST_XEN_SLOT = 428;

  /** {@code COMPAT_L2_PAGETABLE_LAST_XEN_SLOT}: {@code l2_table_offset(~0U)} = 511. */
  public static final int COMPAT_L2_PAGETABLE_LAST_XEN_SLOT = 511;

  /** The entries of a 32-on-64 guest's L3 that translate (PAE's four PDPTEs): slots 0 to 3. */
  public static final int COMPAT_L3_ENTRIES = 4;

  private PvMmuAbi() {}

  /**
   * Xen's {@code __addr_ok} for a 64-bit guest: whether {@code va} lies outside Xen's reserved hole,
   * below 2^47 or at or above {@link #HYPERVISOR_VIRT_END} (unsigned). The seed's version (before
   * 773f372b6b, 2011) compared with 2^48; the model uses today's bound under both presets.
   *
   * @param va a linear address
   * @return true if a guest may name it
   */
  public static boolean addrOk(long va) {
    return Long.compareUnsigned(va, 1L << 47) < 0
        || Long.compareUnsigned(va, HYPERVISOR_VIRT_END) >= 0;
  }

  /**
   * Whether {@code va} is canonical for 4-level paging: bits 63:47 all equal.
   *
   * @param va a linear address
   * @return true if canonical
   */
  public static boolean isCanonical(long va) {
    return (va >> 47) == 0 || (va >> 47) == -1;
  }

  /**
   * The index of {@code va}'s entry in a table of {@code level} (4-level paging).
   *
   * @param va a linear address
   * @param level 1 to 4
   * @return 0 to 511
   * @throws IllegalArgumentException if {@code level} is outside 1 to 4
   */
  public static int tableOffset(long va, int level) {
    if (level < 1 || level > 4) {
      throw new IllegalArgumentException("level: " + level + " (expected: 1 to 4)");
    }
    return (int) (va >>> (12 + 9 * (level - 1))) & 0x1FF;
  }
}
