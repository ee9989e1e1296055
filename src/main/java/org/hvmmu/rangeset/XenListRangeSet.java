package org.hvmmu.rangeset;

import org.hvmmu.xen.Errno;

import java.util.Objects;

/**
 * Xen's own range set algorithm, era by era: a sorted doubly linked list of inclusive ranges {@code
 * [s, e]} scanned linearly, with add and remove written as Xen's case analysis ({@code
 * xen/common/rangeset.c}). It is the model of Xen's exact behaviour, quirks included, and the
 * baseline the fast {@code IntervalTreeRangeSet} is benchmarked and checked against; it is not
 * meant for hot paths (every operation is O(number of ranges) and each range is a node object).
 *
 * <p>The core is Xen's {@code find_range(k)}: the <em>last</em> range whose start is at most {@code
 * k}, which may end before {@code k}, or none when {@code k} is below the first range. Add and
 * remove look up {@code x = find_range(s)} and {@code y = find_range(e)} and then distinguish
 * {@code x == y} (no range starts inside {@code (s, e]}) from {@code x != y}; contains asks {@code
 * find_range(s)}, overlaps asks {@code find_range(e)}. The {@link Variant} picks which Xen is
 * modelled:
 *
 * <table>
 *   <caption>Behaviour per variant</caption>
 *   <tr><th>Aspect</th><th>{@link Variant#XEN_2010}</th><th>{@link Variant#XEN_4_22}</th>
 *       <th>{@link Variant#CORRECTED}</th></tr>
 *   <tr><td>Remove of several ranges whose start range ends below {@code s - 1}</td>
 *       <td>truncates it to {@code s - 1} unconditionally, which <em>extends</em> it:
 *       {@code {[0,1],[4,5]}} minus {@code [3,4]} gives {@code {[0,2],[5,5]}}</td>
 *       <td>fixed by e118fc98e7 (Xen 4.21): only a range reaching {@code s} is truncated</td>
 *       <td>fixed</td></tr>
 *   <tr><td>Report with {@code s} below the first range</td>
 *       <td>starts at {@code find_range(s)}, so reports nothing</td>
 *       <td>fixed by b1c780cd31 (Xen 4.6): starts at the first range</td>
 *       <td>fixed</td></tr>
 *   <tr><td>Remove of several ranges with {@code e = ~0}</td>
 *       <td colspan="2">{@code e + 1} wraps to 0: the last range becomes {@code [0, y.e]} and
 *       stays, leaving an unsorted set ({@code {[0x10,0x20],[0x30,0x40],[0x50,0x60]}} minus
 *       {@code [0x35, ~0]} gives {@code {[0x10,0x20],[0x30,0x34],[0,0x60]}}); still present
 *       upstream</td>
 *       <td>the last range is destroyed</td></tr>
 *   <tr><td>Range limit</td>
 *       <td>none: {@link #setLimit} throws {@link UnsupportedOperationException}</td>
 *       <td>Xen's budget (236f3d2ae4, Xen 4.5): it starts at -1 and counts down per new range, so
 *       an unlimited set never reaches 0; {@link #setLimit} <em>overwrites</em> it (truncated to
 *       32 bits, as Xen's {@code unsigned int} parameter is), so on a non-empty set the ranges
 *       already held are not counted and the set can end up holding more ranges than the limit; a
 *       new range fails when the budget is 0 and a destroyed one gives budget back</td>
 *       <td>a true maximum: a new range is refused iff {@link #rangeCount()} is at or above the
 *       limit; {@link #setLimit} may be called at any time</td></tr>
 *   <tr><td>Add of a range that touches only the range after it, at the limit</td>
 *       <td>no limit</td>
 *       <td>{@code -ENOMEM}: Xen allocates a new node and only then merges it with the range
 *       after it ({@code {[5,9]}} at a budget of 0 refuses {@code [4,4]})</td>
 *       <td>the range after it grows downwards, no new range is needed: {@code {[4,9]}}</td></tr>
 *   <tr><td>Claim on an empty set</td>
 *       <td rowspan="3">{@code rangeset_claim_range} did not exist: {@link #claimRange} throws
 *       {@link UnsupportedOperationException}</td>
 *       <td>{@code -ENOSPC}: the size of the gap {@code [0, ~0]} is computed as
 *       {@code (~0 - 0) + 1}, which wraps to 0</td>
 *       <td>succeeds at 0 (the gap holds 2^64 values)</td></tr>
 *   <tr><td>Claimed range next to the following range</td>
 *       <td>not merged: {@code {[5,9]}} claim 5 gives {@code {[0,4],[5,9]}}, and then
 *       {@code containsRange(0, 9)} is false because contains only looks at
 *       {@code find_range(0)}</td>
 *       <td>merged with both neighbours: {@code {[0,9]}}</td></tr>
 *   <tr><td>Claim of 0 values</td>
 *       <td colspan="2">{@link IllegalArgumentException}. Xen would take the first gap it meets
 *       (every gap holds at least 0 values, and on an empty set the wrapped size 0 of
 *       {@code [0, ~0]} is enough too) with no previous range, and insert a new range
 *       {@code [0, 0 + 0 - 1]} = {@code [0, ~0]} at the head, in front of the ranges already
 *       there: it returns 0, the set holds every value and its list is no longer disjoint. That is
 *       neither well defined nor harmless, so it is refused, in line with
 *       {@link RangeSet#claimRange}</td></tr>
 *   <tr><td>Consume the whole of a range ending at {@code ~0}</td>
 *       <td rowspan="2">{@code rangeset_consume_ranges} did not exist: throws
 *       {@link UnsupportedOperationException}</td>
 *       <td>the start advances past {@code ~0} and wraps to 0: the range becomes
 *       {@code [0, ~0]} instead of disappearing</td>
 *       <td>the range is destroyed</td></tr>
 *   <tr><td>Consume from {@code [0, ~0]}</td>
 *       <td>any non-zero count is an {@link IllegalArgumentException}: Xen's check compares it
 *       with the range length, which wraps to 0</td>
 *       <td>any count from 1 to {@code ~0} is consumed</td></tr>
 *   <tr><td>{@link #merge} and {@link #subtract}</td>
 *       <td>did not exist: throw {@link UnsupportedOperationException}</td>
 *       <td colspan="2">report the other set's ranges and add or remove each, stopping at the
 *       first error</td></tr>
 * </table>
 *
 * <p>Common to every variant, and divergences from Xen:
 *
 * <ul>
 *   <li>{@code s > e} (unsigned) is an {@link IllegalArgumentException} naming both values in hex;
 *       Xen only has a debug {@code ASSERT}.
 *   <li>Names longer than 31 characters are refused rather than truncated; {@code null} names the
 *       set {@code "(no name)"}; unknown flag bits are refused (Xen's {@code BUG_ON}). {@link
 *       RangeSet#NO_PRINT} is accepted by every variant although Xen only defined it in 2024.
 *   <li>{@link #merge merge(this)} changes nothing and returns 0; {@link #subtract subtract(this)}
 *       empties the set. Xen would deadlock on both (it takes the second set's read lock and then
 *       the first set's write lock).
 *   <li>{@link #merge} and {@link #subtract} first copy the other set's ranges (through its {@link
 *       #reportRanges}) and then apply them under this set's lock, instead of holding both locks at
 *       once as Xen does, so two sets merging into each other cannot deadlock. Because the copy
 *       goes through the other set's {@code reportRanges(0, ~0)}, a {@link Variant#XEN_2010} source
 *       that does not start at 0 contributes nothing, as its report would.
 *   <li>A visitor of {@link #reportRanges} or a consumer of {@link #consumeRanges} that tries to
 *       modify this set gets an {@link IllegalStateException} and the set is left as it was (Xen
 *       would deadlock on its own lock). Reading the set from a callback is allowed.
 *   <li>{@link #toString()} walks the list itself (Xen's {@code rangeset_printk}), so it shows the
 *       list as stored even where a {@link Variant#XEN_2010} report would show nothing, and shows
 *       the corruption left by the wrap bugs.
 * </ul>
 *
 * <p>Thread safety: every method that touches the ranges or the limit holds the set's monitor
 * ({@code synchronized}); {@link #name()}, {@link #flags()} and {@link #variant()} read final
 * fields. That is simple and correct, but it serialises readers: this class is the model, not the
 * fast implementation. Callbacks run with the monitor held; {@link #merge} and {@link #subtract}
 * copy the other set before taking this set's monitor, so they never hold two monitors. Each new
 * range allocates a node; nothing else allocates except {@link #merge}, {@link #subtract} (a copy
 * of the other set), {@link #consumeRanges} (one {@code long[1]} per offer) and {@link
 * #toString()}.
 *
 * <pre>{@code
 * RangeSet today = new XenListRangeSet("t0", 0, XenListRangeSet.Variant.XEN_4_22);
 * RangeSet old = new XenListRangeSet("t0", 0, XenListRangeSet.Variant.XEN_2010);
 * for (RangeSet r : List.of(today, old)) {
 *   r.addRange(0, 1);
 *   r.addRange(4, 5);
 *   r.removeRange(3, 4);
 * }
 * today.toString();   // "t0         { 0-1, 5 }"
 * old.toString();     // "t0         { 0-2, 5 }"   (the 2010 remove bug)
 * }</pre>
 */
public final class XenListRangeSet implements RangeSet {

  /** Which Xen's rangeset this set reproduces. */
  public enum Variant {
    /**
     * The rangeset of Xen commit b5aadd4248 (2010-09-20, first released in 4.1.0), with its remove
     * bug, its report bug and the remove-to-{@code ~0} wrap bug, and without the functions added
     * later (limit, claim, consume, merge, subtract).
     */
    XEN_2010,

    /**
     * Today's upstream rangeset (Xen 4.22): the remove and report bugs fixed, the range budget of
     * {@code rangeset_limit}, claim, consume, merge and subtract, and the quirks still present (the
     * remove-to-{@code ~0} wrap, the consume-to-{@code ~0} wrap, claim on an empty set failing, a
     * claimed range not merged with the next one, budget drift when the limit is set on a non-empty
     * set).
     */
    XEN_4_22,

    /**
     * The same algorithm with every defect fixed: the results are those of a mathematically correct
     * sorted, disjoint, non-adjacent set, and the limit is a true maximum number of ranges.
     */
    CORRECTED
  }

  /** One inclusive range {@code [s, e]}, linked into the set's circular list. */
  private static final class Node {
    /** First value, unsigned. */
    long s;

    /** Last value, unsigned, inclusive. */
    long e;

    /** The previous node, or the sentinel. */
    Node prev;

    /** The next node, or the sentinel. */
    Node next;

    /**
     * An unlinked node.
     *
     * @param s first value
     * @param e last value
     */
    Node(long s, long e) {
      this.s = s;
      this.e = e;
    }
  }

  /** The name {@link #toString()} prints. */
  private final String name;

  /** The flags given at construction. */
  private final int flags;

  /** Which Xen this set reproduces. */
  private final Variant variant;

  /** Sentinel of the circular list, as Xen's {@code range_list} head; never holds a range. */
  private final Node head = new Node(0, 0);

  /** The number of nodes in the list. */
  private long count;

  /** {@link Variant#XEN_4_22}: Xen's {@code nr_ranges}, the allocation budget (-1: unlimited). */
  private long budget = -1;

  /** {@link Variant#CORRECTED}: the most ranges, or {@link RangeSet#UNLIMITED}. */
  private long limit = UNLIMITED;

  /**
   * {@link Variant#CORRECTED}: the bound {@link #checkInvariants} holds the count to: the limit, or
   * the count when the limit was set below it (no range is added until the count drops).
   */

  /** Whether a report or consume callback of this set is running. */
  private boolean reporting;

  /**
   * Creates an empty set; {@code rangeset_new}.
   *
   * @param name the name {@link #toString()} prints, at most 31 characters; {@code null} gives
   *     {@code "(no name)"}
   * @param flags {@link RangeSet#PRETTYPRINT_HEX} and/or {@link RangeSet#NO_PRINT}, or 0
   * @param variant which Xen to reproduce
   * @throws IllegalArgumentException if the name is too long or a flag is unknown
   * @throws NullPointerException if {@code variant} is null
   */
  public XenListRangeSet(String name, int flags, Variant variant) {
    this.name = Ranges.checkName(name);
    this.flags = Ranges.checkFlags(flags);
    this.variant = Objects.requireNonNull(variant, "variant");
    head.prev = head;
    head.next = head;
  }

  /**
   * The Xen this set reproduces.
   *
   * @return the variant given at construction
   */
  public Variant variant() {
    return variant;
  }

  // ---------------------------------------------------------------------------------------------
  // List primitives, named after Xen's private helpers.

  /**
   * Xen's {@code find_range}.
   *
   * @param k the value looked up, unsigned
   * @return the last range whose start is at most {@code k} (it may end before {@code k}), or null
   */
  private Node findRange(long k) {
    Node found = null;
    for (Node y = head.next; y != head; y = y.next) {
      if (Ranges.lt(k, y.s)) {
        break;
      }
      found = y;
    }
    return found;
  }

  /**
   * Xen's {@code first_range}.
   *
   * @return the first range, or null when the set is empty
   */
  private Node firstRange() {
    return head.next == head ? null : head.next;
  }

  /**
   * Xen's {@code next_range}.
   *
   * @param x a range of this set
   * @return the range after {@code x}, or null when {@code x} is the last
   */
  private Node nextRange(Node x) {
    return x.next == head ? null : x.next;
  }

  /**
   * Links a new range into the list; Xen's {@code insert_range}.
   *
   * @param x the range to insert after, or null to insert first
   * @param y the unlinked new range
   */
  private void insertRange(Node x, Node y) {
    Node anchor = x == null ? head : x;
    y.prev = anchor;
    y.next = anchor.next;
    anchor.next.prev = y;
    anchor.next = y;
  }

  /**
   * Unlinks a range and gives its budget back; Xen's {@code destroy_range}.
   *
   * @param x the range to drop
   */
  private void destroyRange(Node x) {
    x.prev.next = x.next;
    x.next.prev = x.prev;
    x.prev = null;
    x.next = null;
    count--;
    if (variant == Variant.XEN_4_22) {
      budget++;
    }
  }

  /**
   * Counts a new range against the variant's limit; Xen's {@code alloc_range}.
   *
   * @param s first value of the new range
   * @param e last value of the new range
   * @return the new unlinked range, or null when the limit refuses it
   */
  private Node allocRange(long s, long e) {
    switch (variant) {
      case XEN_2010:
        break;
      case XEN_4_22:
        // Xen refuses only at exactly 0: an unlimited budget starts at -1 and moves away from 0.
        if (budget == 0) {
          return null;
        }
        budget--;
        break;
      case CORRECTED:
        if (limit != UNLIMITED && count >= limit) {
          return null;
        }
        break;
      default:
        throw new AssertionError(variant);
    }
    count++;
    return new Node(s, e);
  }

  /** Throws when a callback of this set's report or consume tries to modify it. */
  private void checkNotReporting() {
    if (reporting) {
      throw new IllegalStateException(
          "range set '" + name + "' modified from its own report or consume callback");
    }
  }

  /**
   * The exception {@link Variant#XEN_2010} throws for a function added to Xen later.
   *
   * @param xenFunction the Xen function's name
   * @param appeared when it was added
   * @return the exception to throw
   */
  private UnsupportedOperationException notIn2010(String xenFunction, String appeared) {
    return new UnsupportedOperationException(
        xenFunction
            + " did not exist in the 2010 rangeset (Xen b5aadd4248); it appeared later ("
            + appeared
            + ")");
  }

  // ---------------------------------------------------------------------------------------------
  // Mutators.

  /**
   * Adds the inclusive range {@code [s, e]}, merging it with every range it overlaps or touches;
   * {@code rangeset_add_range}, the same case analysis in every variant. Merges give limit back. In
   * {@link Variant#XEN_4_22} an add whose range touches only the range after it (and no range at or
   * below {@code s}) allocates a node before merging it, so at the limit it fails although the
   * result holds no more ranges; {@link Variant#CORRECTED} grows the following range instead.
   *
   * @param s first value, unsigned
   * @param e last value, unsigned, not below {@code s}
   * @return 0, or {@code -Errno.ENOMEM} when a new range is needed and the limit refuses it (the
   *     set is then unchanged)
   * @throws IllegalArgumentException if {@code s > e} (unsigned)
   * @throws IllegalStateException if called from this set's own report or consume callback
   */
  @Override
  public synchronized int addRange(long s, long e) {
    Ranges.checkRange(s, e);
    checkNotReporting();
    int rc = addLocked(s, e);
    assert variant != Variant.CORRECTED || checkInvariants();
    return rc;
  }

  /**
   * Xen's add, with the monitor held and the arguments checked.
   *
   * @param s first value
   * @param e last value
   * @return 0 or {@code -Errno.ENOMEM}
   */
  private int addLocked(long s, long e) {
    Node x = findRange(s);
    Node y = findRange(e);
    if (x == y) {
      // No range starts inside (s, e]: either a new range, or x overlaps or touches s and grows.
      Node after = y == null ? firstRange() : nextRange(y);
      if ((x == null || (Ranges.lt(x.e, s) && x.e + 1 != s))
          && variant == Variant.CORRECTED
          && after != null
          && e + 1 == after.s) {
        // Only touches the range after it: grow that range downwards. Xen allocates a node and
        // merges it right away, so at the limit it refuses an add that needs no new range.
        after.s = s;
        x = after;
      } else if (x == null || (Ranges.lt(x.e, s) && x.e + 1 != s)) {
        Node fresh = allocRange(s, e);
        if (fresh == null) {
          return -Errno.ENOMEM;
        }
        insertRange(y, fresh);
        x = fresh;
      } else if (Ranges.lt(x.e, e)) {
        x.e = e;
      }
    } else {
      // Some range starts inside (s, e]: pick the anchor that will cover [s, e], then swallow.
      if (x == null) {
        x = firstRange();
        x.s = s;
      } else if (Ranges.lt(x.e, s) && x.e + 1 != s) {
        x = nextRange(x);
        x.s = s;
      }
      x.e = Ranges.max(y.e, e);
      for (Node t = nextRange(x); t != null && Ranges.le(t.e, x.e); t = nextRange(x)) {
        destroyRange(t);
      }
    }
    // The range after the anchor may start right after it: Xen's touching-on-the-right merge.
    Node t = nextRange(x);
    if (t != null && x.e + 1 == t.s) {
      x.e = t.e;
      destroyRange(t);
    }
    return 0;
  }

  /**
   * Removes the inclusive range {@code [s, e]}; {@code rangeset_remove_range}. Only a split of one
   * range into two needs a new range. The bugs of {@link Variant#XEN_2010} and {@link
   * Variant#XEN_4_22} (see the class table) apply to the case where {@code [s, e]} spans the start
   * of a range.
   *
   * @param s first value, unsigned
   * @param e last value, unsigned, not below {@code s}
   * @return 0, or {@code -Errno.ENOMEM} when a split is needed and the limit refuses it (the set is
   *     then unchanged)
   * @throws IllegalArgumentException if {@code s > e} (unsigned)
   * @throws IllegalStateException if called from this set's own report or consume callback
   */
  @Override
  public synchronized int removeRange(long s, long e) {
    Ranges.checkRange(s, e);
    checkNotReporting();
    int rc = removeLocked(s, e);
    assert variant != Variant.CORRECTED || checkInvariants();
    return rc;
  }

  /**
   * Xen's remove, with the monitor held and the arguments checked; the variant picks the bugs.
   *
   * @param s first value
   * @param e last value
   * @return 0 or {@code -Errno.ENOMEM}
   */
  private int removeLocked(long s, long e) {
    Node x = findRange(s);
    Node y = findRange(e);
    if (x == y) {
      if (x == null || Ranges.lt(x.e, s)) {
        return 0;
      }
      if (Ranges.lt(x.s, s) && Ranges.lt(e, x.e)) {
        // [s, e] lies strictly inside x: split it.
        Node upper = allocRange(e + 1, x.e);
        if (upper == null) {
          return -Errno.ENOMEM;
        }
        x.e = s - 1;
        insertRange(x, upper);
      } else if (x.s == s && Ranges.le(x.e, e)) {
        destroyRange(x);
      } else if (x.s == s) {
        x.s = e + 1;
      } else if (Ranges.le(x.e, e)) {
        x.e = s - 1;
      }
      return 0;
    }
    if (x == null) {
      x = firstRange();
    }
    if (Ranges.lt(x.s, s)) {
      // 2010 truncated the start range even when it ended before s - 1, which extended it
      // (fixed upstream by e118fc98e7).
      if (variant == Variant.XEN_2010 || Ranges.le(s, x.e)) {
        x.e = s - 1;
      }
      x = nextRange(x);
    }
    while (x != y) {
      Node doomed = x;
      x = nextRange(x);
      destroyRange(doomed);
    }
    if (e == -1L && variant == Variant.CORRECTED) {
      // y lies entirely inside [s, ~0]; Xen computes y.s = e + 1, which wraps to 0 and keeps y.
      destroyRange(y);
    } else {
      y.s = e + 1;
      if (Ranges.lt(y.e, y.s)) {
        destroyRange(y);
      }
    }
    return 0;
  }

  /**
   * Claims the lowest gap of {@code size} values, searching from 0, and adds it; {@code
   * rangeset_claim_range} (added to Xen in 2018). {@link Variant#XEN_4_22} reproduces Xen: an empty
   * set answers {@code -ENOSPC}, and the claimed values are appended to the range before the gap
   * (no new range, so no limit is consumed) or form a new first range, without merging with the
   * range after the gap. {@link Variant#CORRECTED} adds the gap as {@link #addRange} would, merging
   * with both neighbours. In both, a size of 0 is an {@link IllegalArgumentException}: Xen would
   * insert {@code [0, ~0]} in front of the existing ranges (see the class table).
   *
   * @param size how many consecutive values to claim, unsigned, at least 1
   * @param start a one-element array that receives the first claimed value on success
   * @return 0, {@code -Errno.ENOSPC} when no gap is large enough, or {@code -Errno.ENOMEM} when a
   *     new range is needed and the limit refuses it
   * @throws IllegalArgumentException if {@code size} is 0 or {@code start} has no element
   * @throws IllegalStateException if called from this set's own report or consume callback
   * @throws UnsupportedOperationException for {@link Variant#XEN_2010}
   */
  @Override
  public synchronized int claimRange(long size, long[] start) {
    if (variant == Variant.XEN_2010) {
      throw notIn2010("rangeset_claim_range", "2018");
    }
    Ranges.checkClaim(size, start);
    checkNotReporting();
    int rc = variant == Variant.XEN_4_22 ? claimAsXen(size, start) : claimCorrected(size, start);
    assert variant != Variant.CORRECTED || checkInvariants();
    return rc;
  }

  /**
   * Xen's claim, quirks included ({@link Variant#XEN_4_22}).
   *
   * @param size values to claim, at least 1
   * @param start receives the first claimed value on success
   * @return 0, {@code -Errno.ENOSPC} or {@code -Errno.ENOMEM}
   */
  private int claimAsXen(long size, long[] start) {
    long from = 0;
    Node prev = null;
    Node next = firstRange();
    boolean found = false;
    for (; next != null; prev = next, next = nextRange(next)) {
      if (Ranges.le(size, next.s - from)) {
        found = true;
        break;
      }
      if (next.e == -1L) {
        return -Errno.ENOSPC;
      }
      from = next.e + 1;
    }
    // The gap after the last range; for an empty set (from == 0) its size wraps to 0.
    if (!found && !Ranges.le(size, (-1L - from) + 1)) {
      return -Errno.ENOSPC;
    }
    if (prev == null) {
      Node fresh = allocRange(from, from + size - 1);
      if (fresh == null) {
        return -Errno.ENOMEM;
      }
      insertRange(null, fresh);
    } else {
      prev.e += size;
    }
    start[0] = from;
    return 0;
  }

  /**
   * Claim with the quirks fixed ({@link Variant#CORRECTED}): the lowest gap, added as by {@link
   * #addRange}.
   *
   * @param size values to claim, at least 1
   * @param start receives the first claimed value on success
   * @return 0, {@code -Errno.ENOSPC} or {@code -Errno.ENOMEM}
   */
  private int claimCorrected(long size, long[] start) {
    long from = 0;
    boolean found = false;
    Node x = firstRange();
    if (x == null) {
      found = true; // the gap [0, ~0] holds 2^64 values, more than any size
    }
    for (; x != null; x = nextRange(x)) {
      if (Ranges.le(size, x.s - from)) {
        found = true;
        break;
      }
      if (x.e == -1L) {
        return -Errno.ENOSPC;
      }
      from = x.e + 1;
    }
    // Here a last range exists and ends below ~0, so from >= 1 and the top gap's size cannot wrap.
    if (!found && !Ranges.le(size, (-1L - from) + 1)) {
      return -Errno.ENOSPC;
    }
    int rc = addLocked(from, from + size - 1);
    if (rc == 0) {
      start[0] = from;
    }
    return rc;
  }

  /**
   * Repeatedly offers the first range to {@code consumer} and removes the values it consumed from
   * its start, until the set is empty or the consumer returns non-zero; {@code
   * rangeset_consume_ranges} (added to Xen in 2018). The values consumed in the offer that returns
   * non-zero are removed too.
   *
   * <p>A consumed count of 0 means nothing was consumed. The length of {@code [0, ~0]}, 2^64, does
   * not fit in 64 bits, so that range can never be consumed whole in one offer: {@link
   * Variant#CORRECTED} accepts any count from 1 to {@code ~0} there (leaving {@code [count, ~0]}),
   * while {@link Variant#XEN_4_22} follows Xen, whose check compares against the wrapped length 0
   * and so refuses any non-zero count. A consumer that returns 0 without consuming anything gets an
   * {@link IllegalStateException} in every variant: Xen would offer it the same range forever. {@link Variant#XEN_4_22} also keeps
   * Xen's wrap: consuming the whole of a range that ends at {@code ~0} leaves {@code [0, ~0]}
   * instead of nothing.
   *
   * @param consumer the callback; it may read this set but not modify it
   * @return the consumer's last result (0 when the set was emptied)
   * @throws IllegalArgumentException if the consumer reports more values than the range holds (the
   *     values of earlier offers stay consumed, the offending offer changes nothing)
   * @throws IllegalStateException if called from, or if the consumer tries to modify the set from,
   *     this set's own report or consume callback, or if the consumer returns 0 without consuming
   * @throws UnsupportedOperationException for {@link Variant#XEN_2010}
   */
  @Override
  public synchronized int consumeRanges(RangeConsumer consumer) {
    if (variant == Variant.XEN_2010) {
      throw notIn2010("rangeset_consume_ranges", "2018");
    }
    Objects.requireNonNull(consumer, "consumer");
    checkNotReporting();
    int rc = 0;
    for (Node x = firstRange(); x != null; x = firstRange()) {
      long[] consumed = {0};
      reporting = true;
      try {
        rc = consumer.consume(x.s, x.e, consumed);
      } finally {
        reporting = false;
      }
      long taken = consumed[0];
      long length = x.e - x.s + 1; // 0 for [0, ~0], whose 2^64 values do not fit in 64 bits
      // Xen ASSERTs taken <= length with the wrapped length, so nothing can be taken from [0, ~0];
      // corrected, any count below 2^64 fits there.
      boolean tooMany = (variant != Variant.CORRECTED || length != 0) && Ranges.lt(length, taken);
      if (tooMany) {
        throw new IllegalArgumentException(
            "consumer took 0x"
                + Long.toHexString(taken)
                + " values of the 0x"
                + Long.toHexString(length)
                + " in [0x"
                + Long.toHexString(x.s)
                + ", 0x"
                + Long.toHexString(x.e)
                + "]");
      }
      if (variant == Variant.CORRECTED && taken != 0 && taken == length) {
        destroyRange(x);
      } else {
        x.s += taken;
        if (Ranges.lt(x.e, x.s)) {
          destroyRange(x);
        }
      }
      if (rc != 0) {
        break;
      }
      if (taken == 0) {
        throw new IllegalStateException(
            "consumer returned 0 without consuming any of [0x"
                + Long.toHexString(x.s)
                + ", 0x"
                + Long.toHexString(x.e)
                + "]: Xen would offer it the same range forever");
      }
    }
    assert variant != Variant.CORRECTED || checkInvariants();
    return rc;
  }

  /**
   * Adds every range of {@code other} to this set; {@code rangeset_merge} (added to Xen in 2018).
   * The other set's ranges are copied through its {@code reportRanges(0, ~0)} and then added one by
   * one under this set's lock; on an error the ranges added so far stay, as in Xen.
   *
   * @param other the set to add; this set itself changes nothing and returns 0
   * @return 0, or the first error of {@link #addRange}
   * @throws IllegalStateException if called from this set's own report or consume callback (except
   *     for {@code merge(this)}, which changes nothing)
   * @throws UnsupportedOperationException for {@link Variant#XEN_2010}
   */
  @Override
  public int merge(RangeSet other) {
    if (variant == Variant.XEN_2010) {
      throw notIn2010("rangeset_merge", "2018");
    }
    Objects.requireNonNull(other, "other");
    if (other == this) {
      return 0;
    }
    long[] ranges = Ranges.snapshot(other); // taken before this set's monitor: no lock order
    synchronized (this) {
      checkNotReporting();
      for (int i = 0; i < ranges.length; i += 2) {
        int rc = addLocked(ranges[i], ranges[i + 1]);
        if (rc != 0) {
          return rc;
        }
      }
      assert variant != Variant.CORRECTED || checkInvariants();
      return 0;
    }
  }

  /**
   * Removes every range of {@code other} from this set; {@code rangeset_subtract} (added to Xen in
   * 2025, 31703c5d7a). The other set's ranges are copied through its {@code reportRanges(0, ~0)}
   * and then removed one by one under this set's lock; on an error the ranges removed so far stay
   * removed, as in Xen. {@link Variant#XEN_4_22} keeps the remove-to-{@code ~0} wrap bug.
   *
   * @param other the set to remove; this set itself is emptied
   * @return 0, or the first error of {@link #removeRange}
   * @throws IllegalStateException if called from this set's own report or consume callback
   * @throws UnsupportedOperationException for {@link Variant#XEN_2010}
   */
  @Override
  public int subtract(RangeSet other) {
    if (variant == Variant.XEN_2010) {
      throw notIn2010("rangeset_subtract", "2025, 31703c5d7a, Xen 4.21");
    }
    Objects.requireNonNull(other, "other");
    if (other == this) {
      synchronized (this) {
        checkNotReporting();
        purgeLocked();
        return 0;
      }
    }
    long[] ranges = Ranges.snapshot(other); // taken before this set's monitor: no lock order
    synchronized (this) {
      checkNotReporting();
      for (int i = 0; i < ranges.length; i += 2) {
        int rc = removeLocked(ranges[i], ranges[i + 1]);
        if (rc != 0) {
          return rc;
        }
      }
      assert variant != Variant.CORRECTED || checkInvariants();
      return 0;
    }
  }

  /**
   * Limits the number of ranges; {@code rangeset_limit} (236f3d2ae4, Xen 4.5). {@link
   * Variant#XEN_4_22} overwrites Xen's budget with {@code maxRanges} truncated to 32 bits (Xen's
   * parameter is an {@code unsigned int}; {@code 1L << 32} therefore gives a budget of 0), so the
   * ranges already held are not counted: Xen's header asks for the limit to be set while the set is
   * empty. {@link RangeSet#UNLIMITED} restores the budget of a new set, -1, which Xen's own
   * function cannot do. {@link Variant#CORRECTED} makes {@code maxRanges} a true maximum that may
   * be set at any time, and refuses a limit below the current count, so the count never exceeds
   * the limit.
   *
   * @param maxRanges the most ranges, at least 0, or {@link RangeSet#UNLIMITED}
   * @throws IllegalArgumentException if {@code maxRanges} is below -1, or ({@link
   *     Variant#CORRECTED}) below the current count
   * @throws IllegalStateException if called from this set's own report or consume callback
   * @throws UnsupportedOperationException for {@link Variant#XEN_2010}
   */
  @Override
  public synchronized void setLimit(long maxRanges) {
    if (variant == Variant.XEN_2010) {
      throw notIn2010("rangeset_limit", "2014, 236f3d2ae4, Xen 4.5");
    }
    Ranges.checkLimit(maxRanges);
    checkNotReporting();
    if (variant == Variant.XEN_4_22) {
      budget = maxRanges == UNLIMITED ? -1 : maxRanges & 0xFFFF_FFFFL;
    } else {
      if (maxRanges != UNLIMITED && count > maxRanges) {
        throw new IllegalArgumentException(
            "range limit " + maxRanges + " is below the " + count + " ranges '" + name + "' holds");
      }
      limit = maxRanges;
    }
  }

  /**
   * Removes every range; {@code rangeset_purge}. The limit stays: {@link Variant#XEN_4_22} gets one
   * unit of budget back per range, as Xen's {@code destroy_range} does.
   *
   * @throws IllegalStateException if called from this set's own report or consume callback
   */
  @Override
  public synchronized void purge() {
    checkNotReporting();
    purgeLocked();
  }

  /** Destroys every range, with the monitor held. */
  private void purgeLocked() {
    for (Node x = firstRange(); x != null; x = firstRange()) {
      destroyRange(x);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Queries.

  /**
   * Whether the inclusive range {@code [s, e]} is covered; {@code rangeset_contains_range}: true
   * iff {@code find_range(s)} exists and ends at or after {@code e}. A range split over two
   * adjacent unmerged ranges (left by a {@link Variant#XEN_4_22} claim) is therefore not contained.
   *
   * @param s first value, unsigned
   * @param e last value, unsigned, not below {@code s}
   * @return true if one range covers {@code [s, e]}
   * @throws IllegalArgumentException if {@code s > e} (unsigned)
   */
  @Override
  public synchronized boolean containsRange(long s, long e) {
    Ranges.checkRange(s, e);
    Node x = findRange(s);
    return x != null && Ranges.le(e, x.e);
  }

  /**
   * Whether {@code x}, the inclusive range {@code [x, x]}, is in the set; {@code
   * rangeset_contains_singleton}.
   *
   * @param x the value, unsigned
   * @return true if {@code find_range(x)} holds {@code x}
   */
  @Override
  public synchronized boolean containsSingleton(long x) {
    Node r = findRange(x);
    return r != null && Ranges.le(x, r.e);
  }

  /**
   * Whether the inclusive range {@code [s, e]} meets the set; {@code rangeset_overlaps_range}: true
   * iff {@code find_range(e)} exists and ends at or after {@code s}.
   *
   * @param s first value, unsigned
   * @param e last value, unsigned, not below {@code s}
   * @return true if some range meets {@code [s, e]}
   * @throws IllegalArgumentException if {@code s > e} (unsigned)
   */
  @Override
  public synchronized boolean overlapsRange(long s, long e) {
    Ranges.checkRange(s, e);
    Node x = findRange(e);
    return x != null && Ranges.le(s, x.e);
  }

  /**
   * Visits the intersection of each range with the inclusive range {@code [s, e]}, in list order;
   * {@code rangeset_report_ranges}. The walk stops at the first range starting after {@code e} or
   * at the first non-zero visitor result. {@link Variant#XEN_2010} starts the walk at {@code
   * find_range(s)}, so it reports nothing when {@code s} is below the first range (fixed by
   * b1c780cd31); the other variants start at the first range.
   *
   * @param s first value, unsigned
   * @param e last value, unsigned, not below {@code s}
   * @param visitor called with the clipped bounds; it may read this set but not modify it
   * @return 0, or the first non-zero value the visitor returned
   * @throws IllegalArgumentException if {@code s > e} (unsigned)
   */
  @Override
  public synchronized int reportRanges(long s, long e, RangeVisitor visitor) {
    Ranges.checkRange(s, e);
    Objects.requireNonNull(visitor, "visitor");
    boolean outer = reporting;
    reporting = true;
    try {
      int rc = 0;
      Node x = variant == Variant.XEN_2010 ? findRange(s) : firstRange();
      for (; x != null && Ranges.le(x.s, e) && rc == 0; x = nextRange(x)) {
        if (Ranges.le(s, x.e)) {
          rc = visitor.visit(Ranges.max(x.s, s), Ranges.min(x.e, e));
        }
      }
      return rc;
    } finally {
      reporting = outer;
    }
  }

  /**
   * The number of nodes in the list: the number of disjoint ranges while the set is sound.
   *
   * @return how many ranges the list holds
   */
  @Override
  public synchronized long rangeCount() {
    return count;
  }

  /**
   * Whether the list is empty; {@code rangeset_is_empty}.
   *
   * @return true if no range is held
   */
  @Override
  public synchronized boolean isEmpty() {
    return head.next == head;
  }

  /**
   * The set's name.
   *
   * @return the name given at construction, or {@code "(no name)"}
   */
  @Override
  public String name() {
    return name;
  }

  /**
   * The set's flags.
   *
   * @return the flags given at construction
   */
  @Override
  public int flags() {
    return flags;
  }

  /**
   * Prints the set as Xen's {@code rangeset_printk}: the name left-justified in 10 columns, <code>
   * " &#123;"</code>, each range as {@code " s"} or {@code " s-e"} separated by commas, then <code>
   * " &#125;"</code>; hex without {@code 0x} with {@link RangeSet#PRETTYPRINT_HEX}, unsigned
   * decimal otherwise. It walks the list as stored, so it shows every node even where a {@link
   * Variant#XEN_2010} report would not.
   *
   * @return the printed set, for example {@code "r/o mmio ranges { 1-3, 5, fed00 }"}
   */
  @Override
  public synchronized String toString() {
    boolean hex = (flags & PRETTYPRINT_HEX) != 0;
    StringBuilder out = Ranges.printHeader(name);
    boolean first = true;
    for (Node x = head.next; x != head; x = x.next) {
      Ranges.printRange(out, hex, first, x.s, x.e);
      first = false;
    }
    return Ranges.printFooter(out);
  }

  // ---------------------------------------------------------------------------------------------
  // Package-private checks for tests.

  /**
   * The list as stored, bypassing {@link #reportRanges} (whose {@link Variant#XEN_2010} form hides
   * ranges): {@code [s0, e0, s1, e1, ...]}.
   *
   * @return the bounds of every node in list order
   */
  synchronized long[] listRanges() {
    long[] bounds = new long[Math.toIntExact(2 * count)];
    int i = 0;
    for (Node x = head.next; x != head; x = x.next) {
      bounds[i++] = x.s;
      bounds[i++] = x.e;
    }
    return bounds;
  }

  /**
   * Checks the list: links consistent, node count equal to {@link #rangeCount()}, every range with
   * {@code s <= e}, ranges sorted, disjoint and non-adjacent (unsigned), and for {@link
   * Variant#CORRECTED} the count within the limit. The buggy variants legitimately fail it once one
   * of their bugs has struck (or after a {@link Variant#XEN_4_22} claim left adjacent ranges).
   *
   * @return true if every invariant holds
   */
  synchronized boolean checkInvariants() {
    long nodes = 0;
    Node prev = head;
    for (Node x = head.next; x != head; prev = x, x = x.next) {
      if (x.prev != prev || Ranges.lt(x.e, x.s)) {
        return false;
      }
      // Non-adjacent and sorted: prev.e + 1 < x.s, where prev.e == ~0 leaves no room for x.
      if (prev != head && (prev.e == -1L || !Ranges.lt(prev.e + 1, x.s))) {
        return false;
      }
      nodes++;
    }
    if (head.prev != prev || nodes != count) {
      return false;
    }
    return variant != Variant.CORRECTED || limit == UNLIMITED || count <= limit;
  }
}
