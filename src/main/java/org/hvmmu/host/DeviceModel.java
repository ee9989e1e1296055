package org.hvmmu.host;

/**
 * The embedder's device model for HVM guests: Xen's ioreq server (QEMU, or another emulator that
 * registered MMIO ranges with {@code XEN_DMOP_map_io_range_to_ioreq_server}). An access Xen cannot
 * complete itself ({@code hvmemul_do_io} after the internal handlers, msixtbl among them, returned
 * UNHANDLEABLE) goes to the device model that claims its address ({@code
 * hvm_select_ioreq_server}), else to the {@code null_handler}, which reads all ones and discards
 * writes. Set with {@link Host#setDeviceModel}; {@link #NONE} (claims nothing: the null handler)
 * until then.
 *
 * <p>The methods run on the vCPU's thread, outside the host's locks except {@link #claims}, which
 * runs under the domain's monitor and must not block.
 */
public interface DeviceModel {
  /** No device model: every access goes to the null handler. */
  DeviceModel NONE = new DeviceModel() {
    @Override
    public boolean claims(GuestDomain d, long gpa, int size) {
      return false;
    }

    @Override
    public long read(GuestDomain d, long gpa, int size) {
      throw new IllegalStateException("no device model");
    }

    @Override
    public void write(GuestDomain d, long gpa, int size, long value) {
      throw new IllegalStateException("no device model");
    }

    @Override
    public String toString() {
      return "null handler";
    }
  };

  /**
   * Whether this device model takes an access of domain {@code d} at guest-physical {@code gpa}
   * ({@code hvm_select_ioreq_server}: an ioreq server's MMIO range holds it). An unpopulated gfn
   * it claims is treated as {@code p2m_mmio_dm}, as Xen's {@code get_entry} reports it.
   *
   * @param d the HVM domain
   * @param gpa the guest-physical address
   * @param size 1 to 8 bytes
   * @return whether the access goes to this device model
   */
  boolean claims(GuestDomain d, long gpa, int size);

  /**
   * A load forwarded to the device model ({@code IOREQ_READ}).
   *
   * @param d the domain
   * @param gpa the guest-physical address
   * @param size 1 to 8 bytes
   * @return the value, in the low {@code 8 * size} bits (higher bits are ignored)
   */
  long read(GuestDomain d, long gpa, int size);

  /**
   * A store forwarded to the device model ({@code IOREQ_WRITE}).
   *
   * @param d the domain
   * @param gpa the guest-physical address
   * @param size 1 to 8 bytes
   * @param value the value, in the low {@code 8 * size} bits
   */
  void write(GuestDomain d, long gpa, int size, long value);
}
