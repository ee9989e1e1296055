package org.hvmmu.p2m;

/**
 * Xen's p2m access types ({@code p2m_access_t}), which restrict the permissions a p2m type grants (the
 * mem_access interface, 2011). EPT applies them in {@code ept_p2m_type_to_flags}; the generic format
 * ignores them.
 */
public enum P2mAccess {
  /** {@code p2m_access_n}: no access. */
  N(0),
  /** {@code p2m_access_r}: read. */
  R(1),
  /** {@code p2m_access_w}: write. */
  W(2),
  /** {@code p2m_access_rw}: read and write. */
  RW(3),
  /** {@code p2m_access_x}: execute. */
  X(4),
  /** {@code p2m_access_rx}: read and execute. */
  RX(5),
  /** {@code p2m_access_wx}: write and execute. */
  WX(6),
  /** {@code p2m_access_rwx}: no restriction. */
  RWX(7),
  /** {@code p2m_access_rx2rw}: read and execute, becoming read-write on the first write. */
  RX2RW(8),
  /** {@code p2m_access_n2rwx}: no access, becoming full access on the first access. */
  N2RWX(9),
  /** {@code p2m_access_r_pw}: read, plus paging-write where the processor supports it. */
  R_PW(10);

  private static final P2mAccess[] BY_CODE = new P2mAccess[11];

  static {
    for (P2mAccess access : values()) {
      BY_CODE[access.code] = access;
    }
  }

  /** Xen's value of the access type, as stored in EPT entry bits 62:59. */
  public final int code;

  P2mAccess(int code) {
    this.code = code;
  }

  /**
   * The access type with Xen value {@code code}.
   *
   * @param code 0 to 10
   * @return the access type
   * @throws IllegalArgumentException for any other value
   */
  public static P2mAccess fromCode(int code) {
    if (code < 0 || code >= BY_CODE.length) {
      throw new IllegalArgumentException("p2m access: " + code + " (expected: 0 to 10)");
    }
    return BY_CODE[code];
  }
}
