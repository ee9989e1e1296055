package org.hvmmu.x86.pv;

/**
 * What the frame table calls when a frame takes or loses a page-table type: Xen's {@code
 * alloc_page_type} and {@code free_page_type}, implemented by {@link PvMmu}.
 */
interface PageTableValidation {
  /** For a table without an owner that validates: any validation is refused. */
  PageTableValidation NONE =
      new PageTableValidation() {
        @Override
        public int allocPageType(long mfn, PageType type) {
          return -org.hvmmu.xen.Errno.EINVAL;
        }

        @Override
        public void freePageType(long mfn, PageType type) {}
      };

  /**
   * Validates frame {@code mfn} as {@code type}, taking the references its entries need.
   *
   * @return 0 or a negated errno
   */
  int allocPageType(long mfn, PageType type);

  /** Drops the references the frame's entries hold, as it stops being a {@code type}. */
  void freePageType(long mfn, PageType type);
}
