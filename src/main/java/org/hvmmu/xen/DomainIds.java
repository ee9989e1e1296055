package org.hvmmu.xen;

/**
 * Xen's domain identifiers: ordinary ids below {@link #DOMID_FIRST_RESERVED} and the reserved
 * pseudo-domains above it (values from {@code xen/include/public/xen.h}).
 *
 * <p>hvmmu keeps frame ownership as an {@code int} domain id in primitive arrays, so these constants
 * are the owners of frames that belong to no guest: {@link #DOMID_IO} owns MMIO frames that have a
 * frame-table entry, {@link #DOMID_XEN} owns Xen's own heap pages, and {@link #OWNER_NONE} marks a
 * free frame.
 */
public final class DomainIds {
  /** The first reserved id; also {@code DOMID_SELF}. */
  public static final int DOMID_FIRST_RESERVED = 0x7FF0;

  /** "The calling domain" in hypercall arguments. */
  public static final int DOMID_SELF = 0x7FF0;

  /** The I/O pseudo-domain that owns MMIO frames; as a page owner it means "the caller's rights". */
  public static final int DOMID_IO = 0x7FF1;

  /** The pseudo-domain that owns Xen's heap pages. */
  public static final int DOMID_XEN = 0x7FF2;

  /** The pseudo-domain that owns shared copy-on-write pages. */
  public static final int DOMID_COW = 0x7FF3;

  /** An invalid id. */
  public static final int DOMID_INVALID = 0x7FF4;

  /** The idle domain. */
  public static final int DOMID_IDLE = 0x7FFF;

  /** hvmmu's owner value for a free frame (Xen's {@code NULL} owner); not a Xen id. */
  public static final int OWNER_NONE = -1;

  private DomainIds() {}

  /**
   * Whether {@code id} may name an ordinary domain (0 to {@code DOMID_FIRST_RESERVED - 1}).
   *
   * @param id a domain id
   * @return true for 0 to 0x7fef
   */
  public static boolean isOrdinary(int id) {
    return id >= 0 && id < DOMID_FIRST_RESERVED;
  }

  /**
   * The name Xen's logs use for an owner: {@code d<id>} for ordinary domains, the constant's name for
   * the reserved ones, {@code none} for {@link #OWNER_NONE}.
   *
   * @param id a domain id or {@link #OWNER_NONE}
   * @return a short display name
   */
  public static String name(int id) {
    return switch (id) {
      case OWNER_NONE -> "none";
      case DOMID_SELF -> "DOMID_SELF";
      case DOMID_IO -> "DOMID_IO";
      case DOMID_XEN -> "DOMID_XEN";
      case DOMID_COW -> "DOMID_COW";
      case DOMID_INVALID -> "DOMID_INVALID";
      case DOMID_IDLE -> "DOMID_IDLE";
      default -> "d" + id;
    };
  }
}
