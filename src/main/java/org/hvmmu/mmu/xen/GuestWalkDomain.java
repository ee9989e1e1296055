package org.hvmmu.mmu.xen;

/**
 * What a Xen walk reads of the domain and the host rather than of the vCPU: the guest's CPUID
 * MAXPHYADDR and vendor, whether the domain runs on HAP (EPT or NPT) or shadow paging, and the host
 * processor's 1-GByte pages, PSE-36 and NX. Xen's walker reads them as {@code
 * d->arch.cpuid->extd.maxphysaddr}, {@code d->arch.cpuid->x86_vendor}, {@code paging_mode_hap(d)},
 * {@code cpu_has_page1gb}, {@code cpu_has_pse36} and {@code cpu_has_nx}. The domain is an HVM domain
 * (PV guests take other paths in Xen's predicates and are not modelled).
 *
 * <pre>{@code
 * GuestWalkDomain.hapIntel(46);                       // EPT guest, 46-bit guest-physical space
 * GuestWalkDomain.hapIntel(46).withHap(false);        // the same guest on shadow paging
 * }</pre>
 *
 * @param maxPhysAddr the guest's MAXPHYADDR, 32 to 52: entry bits from it up to bit 51 are reserved
 * @param vendorAmd the guest's CPUID vendor is AMD ({@code X86_VENDOR_AMD}): bit 8 (G) of an L4
 *     entry is reserved; on Intel it is ignored
 * @param hap the domain uses hardware-assisted paging; shadow paging has no 1-GByte and no PSE-36
 *     superpages (their PS bits are reserved)
 * @param hostPage1Gb the host has 1-GByte pages ({@code cpu_has_page1gb}): with HAP, a 4-level guest's
 *     L3 PS maps 1 GiB whether or not the guest's CPUID advertises it
 * @param hostPse36 the host has PSE-36 ({@code cpu_has_pse36}): with HAP, a 2-level guest's 4-MByte
 *     pages reach physical bits 39:32 through PDE bits 20:13
 * @param hostNx the host has NX ({@code cpu_has_nx}); the seed's {@code guest_supports_nx} requires
 *     it, today's walker relies on the guest's EFER.NXE alone (which needs the feature)
 */
public record GuestWalkDomain(
    int maxPhysAddr,
    boolean vendorAmd,
    boolean hap,
    boolean hostPage1Gb,
    boolean hostPse36,
    boolean hostNx) {

  /**
   * Checks the MAXPHYADDR.
   *
   * @param maxPhysAddr the {@code maxPhysAddr} component
   * @param vendorAmd the {@code vendorAmd} component
   * @param hap the {@code hap} component
   * @param hostPage1Gb the {@code hostPage1Gb} component
   * @param hostPse36 the {@code hostPse36} component
   * @param hostNx the {@code hostNx} component
   * @throws IllegalArgumentException if {@code maxPhysAddr} is not 32 to 52
   */
  public GuestWalkDomain {
    if (maxPhysAddr < 32 || maxPhysAddr > 52) {
      throw new IllegalArgumentException("maxPhysAddr: " + maxPhysAddr + " (expected: 32 to 52)");
    }
  }

  /**
   * An HVM domain on HAP with an Intel CPUID, on a host with 1-GByte pages, PSE-36 and NX.
   *
   * @param maxPhysAddr the guest's MAXPHYADDR
   * @return the domain
   */
  public static GuestWalkDomain hapIntel(int maxPhysAddr) {
    return new GuestWalkDomain(maxPhysAddr, false, true, true, true, true);
  }

  /**
   * An HVM domain on HAP with an AMD CPUID, on a host with 1-GByte pages, PSE-36 and NX.
   *
   * @param maxPhysAddr the guest's MAXPHYADDR
   * @return the domain
   */
  public static GuestWalkDomain hapAmd(int maxPhysAddr) {
    return new GuestWalkDomain(maxPhysAddr, true, true, true, true, true);
  }

  /**
   * This domain with another CPUID vendor.
   *
   * @param amd whether the vendor is AMD
   * @return a new record
   */
  public GuestWalkDomain withVendorAmd(boolean amd) {
    return new GuestWalkDomain(maxPhysAddr, amd, hap, hostPage1Gb, hostPse36, hostNx);
  }

  /**
   * This domain on HAP or on shadow paging.
   *
   * @param value whether the domain uses HAP
   * @return a new record
   */
  public GuestWalkDomain withHap(boolean value) {
    return new GuestWalkDomain(maxPhysAddr, vendorAmd, value, hostPage1Gb, hostPse36, hostNx);
  }

  /**
   * This domain on a host with or without 1-GByte pages.
   *
   * @param value whether the host has them
   * @return a new record
   */
  public GuestWalkDomain withHostPage1Gb(boolean value) {
    return new GuestWalkDomain(maxPhysAddr, vendorAmd, hap, value, hostPse36, hostNx);
  }

  /**
   * This domain on a host with or without PSE-36.
   *
   * @param value whether the host has it
   * @return a new record
   */
  public GuestWalkDomain withHostPse36(boolean value) {
    return new GuestWalkDomain(maxPhysAddr, vendorAmd, hap, hostPage1Gb, value, hostNx);
  }

  /**
   * This domain on a host with or without NX.
   *
   * @param value whether the host has it
   * @return a new record
   */
  public GuestWalkDomain withHostNx(boolean value) {
    return new GuestWalkDomain(maxPhysAddr, vendorAmd, hap, hostPage1Gb, hostPse36, value);
  }
}
