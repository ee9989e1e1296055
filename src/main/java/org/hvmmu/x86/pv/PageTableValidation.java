package org.hvmmu.x86.pv;

/**
 * What the frame table calls when a frame takes or loses a page-table type: Xen's {@code
 * alloc_page_type} and {@code free_page_type} (today {@code validate_page} and {@code
 * devalidate_page}), implemented by {@link PvMmu}, and the type-change hook of {@code
 * _get_page_type} where Xen flushes stale TLB entries.
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
        public void freePageType(long mfn, PageType type, int depth) {}

        @Override
        public void typeChanged(long mfn, PageType from, PageType to) {}
      };

  /**
   * Validates frame {@code mfn} as {@code type}, taking the references its entries need.
   *
   * @return 0 or a negated errno
   */
  int allocPageType(long mfn, PageType type);

  /**
   * Drops the references the frame's entries hold, as it stops being a {@code type}.
   *
   * @param depth how many tables being freed enclose this one (0 for a table whose last type
   *     reference an operation dropped directly)
   */
  void freePageType(long mfn, PageType type, int depth);

  /** The frame's type changed from {@code from} (type count 0) to {@code to}. */
  void typeChanged(long mfn, PageType from, PageType to);
}
