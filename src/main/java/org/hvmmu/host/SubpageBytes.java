package org.hvmmu.host;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.hvmmu.host.access.SubpageState;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.rangeset.RangeVisitor;
import org.hvmmu.rangeset.owned.OwnedRanges;
import org.hvmmu.rangeset.owned.RemovalPolicy;

/**
 * hvmmu's sub-page protection (switch {@code subpageOwnedBytes}, hardened only): the protected bytes
 * of the machine, as registrations with owners over byte addresses ({@link OwnedRanges}, ownership
 * aware), so that two registrants of one page and later removals work as they do for whole frames,
 * and every byte of an access is checked. A frame is a sub-page frame when some of its bytes are
 * protected and some are not: a store to it that touches no protected byte is performed, one that
 * touches any is not. Whole-frame registrations are mirrored here as whole frames, so a frame some
 * registrant protects whole never is one. Byte addresses stop at 2^52 (the architectural
 * MAXPHYADDR); a frame above has no bytes here and stays wholly read-only.
 *
 * <p>Writes run under the host's configuration lock; {@link #state} reads the byte set without a
 * lock or an allocation.
 */
final class SubpageBytes {
  /** The first byte address past the architectural physical address space. */
  static final long ADDRESS_LIMIT = 1L << 52;

  private final IntervalTreeRangeSet bytes =
      new IntervalTreeRangeSet("r/o mmio bytes", RangeSet.PRETTYPRINT_HEX);
  private final OwnedRanges registry = new OwnedRanges(bytes, RemovalPolicy.OWNERSHIP_AWARE);
  private final Map<String, Integer> ids = new HashMap<>();

  /** Registers bytes {@code [first, last]} for {@code registrant}; clamped to the limit. */
  int add(String registrant, long first, long last) {
    if (Long.compareUnsigned(first, ADDRESS_LIMIT) >= 0) {
      return 0;
    }
    return registry.add(id(registrant), first, Math.min(last, ADDRESS_LIMIT - 1));
  }

  /** Removes a registration {@link #add} made with the same arguments. */
  int remove(String registrant, long first, long last) {
    if (Long.compareUnsigned(first, ADDRESS_LIMIT) >= 0) {
      return 0;
    }
    return registry.remove(id(registrant), first, Math.min(last, ADDRESS_LIMIT - 1));
  }

  /** Mirrors a whole-frame registration: frames {@code [first, last]}, every byte. */
  int addFrames(String registrant, long first, long last) {
    return Long.compareUnsigned(first, ADDRESS_LIMIT >>> 12) >= 0 ? 0
        : add(registrant, first << 12, frameEnd(last));
  }

  /** Undoes {@link #addFrames}. */
  int removeFrames(String registrant, long first, long last) {
    return Long.compareUnsigned(first, ADDRESS_LIMIT >>> 12) >= 0 ? 0
        : remove(registrant, first << 12, frameEnd(last));
  }

  /** Removes every registration of {@code registrant}. */
  int removeAll(String registrant) {
    Integer id = ids.get(registrant);
    return id == null ? 0 : registry.removeAll(id);
  }

  /** Whether {@code registrant} holds at least one registration. */
  boolean holds(String registrant) {
    Integer id = ids.get(registrant);
    return id != null && registry.registrationCount(id) > 0;
  }

  private static long frameEnd(long last) {
    return Long.compareUnsigned(last, (ADDRESS_LIMIT >>> 12) - 1) >= 0 ? ADDRESS_LIMIT - 1
        : last << 12 | 0xFFF;
  }

  private int id(String registrant) {
    return ids.computeIfAbsent(Objects.requireNonNull(registrant, "registrant"),
        registry::newRegistrant);
  }

  /**
   * What a store of {@code size} bytes at {@code offset} of frame {@code mfn} meets: {@link
   * SubpageState#NONE} if the frame is not a sub-page frame (no protected byte, or every byte),
   * {@link SubpageState#READ_ONLY_SLOT} if it touches a protected byte, else {@link
   * SubpageState#WRITABLE_SLOT}. An access past the page's end is checked up to the page's end
   * (the rest is another frame's fault). Allocates nothing.
   */
  SubpageState state(long mfn, int offset, int size) {
    if (Long.compareUnsigned(mfn, ADDRESS_LIMIT >>> 12) >= 0) {
      return SubpageState.NONE;
    }
    long page = mfn << 12;
    if (!bytes.overlapsRange(page, page | 0xFFF) || bytes.containsRange(page, page | 0xFFF)) {
      return SubpageState.NONE;
    }
    long s = page | (offset & 0xFFF);
    long e = Math.min(s + Math.max(size, 1) - 1, page | 0xFFF);
    return bytes.overlapsRange(s, e) ? SubpageState.READ_ONLY_SLOT : SubpageState.WRITABLE_SLOT;
  }

  /** The protected byte ranges within {@code [first, last]}. */
  int report(long first, long last, RangeVisitor visitor) {
    return bytes.reportRanges(first, last, visitor);
  }

  /** The set of protected bytes (read-only view for the host's callers). */
  RangeSet set() {
    return bytes;
  }

  /** The registrations, for the invariants. */
  OwnedRanges registry() {
    return registry;
  }
}
