package org.hvmmu.rangeset.owned;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.hvmmu.internal.IntervalBTree;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.xen.Errno;

/**
 * The registrations of a shared range set, with their owners: every registration is an owned
 * interval, a registrant id and an inclusive range {@code [s, e]} of frames, and the range set
 * (Xen's {@code mmio_ro_ranges}) is kept as their union.
 *
 * <p>Several writers put frames into {@code mmio_ro_ranges}: the MSI-X tables and PBAs of several
 * devices (two of them may share a frame), the host's IO-APIC, HPET and MMCFG pages. Xen keeps no
 * owners, so one writer's removal unprotects a frame for every other writer (reference §2, "No
 * refcounting"); {@link RemovalPolicy#XEN_UNREFCOUNTED} reproduces that. Under {@link
 * RemovalPolicy#OWNERSHIP_AWARE}, removing a registration removes from the set only the frames that
 * no other live registration covers.
 *
 * <pre>{@code
 * OwnedRanges registry = new OwnedRanges(ro, RemovalPolicy.OWNERSHIP_AWARE);
 * int ioApic = registry.newRegistrant("IO-APIC 0");
 * int nic = registry.newRegistrant("0000:01:00.0 MSI-X");
 * registry.add(ioApic, 0xfec00, 0xfec00);   // 0
 * registry.add(nic, 0xe0840, 0xe0840);      // 0, or -Errno.ENOMEM if the set's limit is reached
 * registry.remove(nic, 0xe0840, 0xe0840);   // 0; -Errno.ENOENT if nic did not hold [e0840, e0840]
 * }</pre>
 *
 * <p><b>The registry owns the set.</b> It must be empty when the registry is created, and every
 * later write goes through the registry; a frame added to the set directly is registered by no one,
 * and {@link #violations()} reports it. Readers keep asking the set itself: {@code
 * containsSingleton} stays the set's lock-free, allocation-free lookup.
 *
 * <p>Registrations form a multiset: the same registrant may register the same range twice and must
 * remove it twice. Errors of the set are results ({@code -ENOMEM} when its range limit would be
 * exceeded), and a failed call leaves both the set and the registrations as they were, so nothing
 * registered earlier is ever lost.
 *
 * <p>Threads: writes are serialised on this object and may allocate (they are cold: device set-up and
 * tear-down); the interval tree of registrations and the per-registrant lists live in primitive
 * arrays. Lookups on the set may run concurrently with writes, as the set allows.
 */
public final class OwnedRanges {
  private final RangeSet target;
  private final RemovalPolicy policy;

  /** Every live registration by start, possibly overlapping, possibly repeated. */
  private final IntervalBTree tree = new IntervalBTree();

  private final List<Registrant> registrants = new ArrayList<>();

  /** One registrant: its name and its registrations in registration order, as start/end pairs. */
  private static final class Registrant {
    final String name;
    long[] pairs = new long[8];
    int count;

    Registrant(String name) {
      this.name = name;
    }

    int find(long s, long e) {
      for (int i = 0; i < count; i++) {
        if (pairs[2 * i] == s && pairs[2 * i + 1] == e) {
          return i;
        }
      }
      return -1;
    }

    void append(long s, long e) {
      if (2 * count == pairs.length) {
        pairs = Arrays.copyOf(pairs, 2 * pairs.length);
      }
      pairs[2 * count] = s;
      pairs[2 * count + 1] = e;
      count++;
    }

    void removeAt(int i) {
      System.arraycopy(pairs, 2 * i + 2, pairs, 2 * i, 2 * (count - i - 1));
      count--;
    }

    void insertAt(int i, long s, long e) {
      append(0, 0);
      System.arraycopy(pairs, 2 * i, pairs, 2 * i + 2, 2 * (count - 1 - i));
      pairs[2 * i] = s;
      pairs[2 * i + 1] = e;
    }
  }

  /**
   * Creates the registry of a set.
   *
   * @param target the set to maintain, empty, for example the host's {@code mmio_ro_ranges}
   * @param policy what a removal does to frames other registrants cover
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code target} is not empty
   */
  public OwnedRanges(RangeSet target, RemovalPolicy policy) {
    this.target = Objects.requireNonNull(target, "target");
    this.policy = Objects.requireNonNull(policy, "policy");
    if (!target.isEmpty()) {
      throw new IllegalArgumentException(
          "the registry must own \"" + target.name() + "\" from the start, but it holds " + target);
    }
  }

  /**
   * The set this registry maintains; read it freely, write it only through the registry.
   *
   * @return the set given to the constructor
   */
  public RangeSet target() {
    return target;
  }

  /**
   * The removal policy.
   *
   * @return the policy given to the constructor
   */
  public RemovalPolicy policy() {
    return policy;
  }

  /**
   * Creates a registrant.
   *
   * @param name for messages, for example {@code "0000:03:00.0 MSI-X"} or {@code "IO-APIC 0"}
   * @return its id: 0 for the first registrant, then 1, 2, ...
   * @throws NullPointerException if {@code name} is null
   */
  public synchronized int newRegistrant(String name) {
    registrants.add(new Registrant(Objects.requireNonNull(name, "name")));
    return registrants.size() - 1;
  }

  /**
   * The number of registrants created.
   *
   * @return how many ids {@link #newRegistrant} has handed out
   */
  public synchronized int registrantCount() {
    return registrants.size();
  }

  /**
   * A registrant's name.
   *
   * @param registrant an id from {@link #newRegistrant}
   * @return its name
   * @throws IllegalArgumentException if the id is unknown
   */
  public synchronized String registrantName(int registrant) {
    return registrant(registrant).name;
  }

  private Registrant registrant(int id) {
    if (id < 0 || id >= registrants.size()) {
      throw new IllegalArgumentException(
          "registrant 0x"
              + Integer.toHexString(id)
              + " (expected: an id below 0x"
              + Integer.toHexString(registrants.size())
              + ")");
    }
    return registrants.get(id);
  }

  private static void checkRange(long s, long e) {
    if (Long.compareUnsigned(s, e) > 0) {
      throw new IllegalArgumentException(
          "range [0x" + Long.toHexString(s) + ", 0x" + Long.toHexString(e) + "] has s > e");
    }
  }

  /**
   * Registers the inclusive range {@code [s, e]} for {@code registrant} and adds it to the set
   * ({@code rangeset_add_range}).
   *
   * @param registrant an id from {@link #newRegistrant}
   * @param s first frame, unsigned
   * @param e last frame, unsigned, not below {@code s}
   * @return 0, or {@code -Errno.ENOMEM} when the set's limit is reached and the frames would need a
   *     new range; nothing is registered then and the set is unchanged
   * @throws IllegalArgumentException if the id is unknown or {@code s > e} (unsigned)
   */
  public synchronized int add(int registrant, long s, long e) {
    Registrant r = registrant(registrant);
    checkRange(s, e);
    int rc = target.addRange(s, e);
    if (rc != 0) {
      return rc;
    }
    tree.insert(s, e);
    r.append(s, e);
    assert checkInvariants() : violations();
    return 0;
  }

  /**
   * Removes one registration of the inclusive range {@code [s, e]} by {@code registrant}, and the
   * frames the policy says go with it ({@code rangeset_remove_range}).
   *
   * <table>
   *   <caption>Results</caption>
   *   <tr><th>policy</th><th>{@code registrant} holds {@code [s, e]}</th><th>result</th></tr>
   *   <tr><td>ownership-aware</td><td>yes</td><td>the registration goes; the frames of {@code [s,
   *       e]} that no remaining registration covers leave the set; 0</td></tr>
   *   <tr><td>ownership-aware</td><td>no</td><td>{@code -Errno.ENOENT}, nothing changes</td></tr>
   *   <tr><td>Xen</td><td>yes or no</td><td>the registration goes if held; all of {@code [s, e]}
   *       leaves the set, whoever else covers it; 0</td></tr>
   * </table>
   *
   * @param registrant an id from {@link #newRegistrant}
   * @param s first frame, unsigned
   * @param e last frame, unsigned, not below {@code s}
   * @return 0, {@code -Errno.ENOENT} as above, or {@code -Errno.ENOMEM} when a removal would split a
   *     range of the set at its limit; the registration and the set are then as they were
   * @throws IllegalArgumentException if the id is unknown or {@code s > e} (unsigned)
   */
  public synchronized int remove(int registrant, long s, long e) {
    Registrant r = registrant(registrant);
    checkRange(s, e);
    int index = r.find(s, e);
    if (index < 0 && policy == RemovalPolicy.OWNERSHIP_AWARE) {
      return -Errno.ENOENT;
    }
    if (index >= 0) {
      r.removeAt(index);
      deleteFromTree(s, e);
    }
    long[] pieces =
        policy == RemovalPolicy.OWNERSHIP_AWARE ? uncovered(s, e) : new long[] {s, e};
    int rc = 0;
    int done = 0;
    for (; done < pieces.length; done += 2) {
      rc = target.removeRange(pieces[done], pieces[done + 1]);
      if (rc != 0) {
        break;
      }
    }
    if (rc != 0) {
      // Put back what was removed, last first: each add undoes one removal exactly, and needs a new
      // range only if that removal freed one, so it cannot hit the limit.
      for (int i = done - 2; i >= 0; i -= 2) {
        int undo = target.addRange(pieces[i], pieces[i + 1]);
        if (undo != 0) {
          throw new IllegalStateException(
              "cannot restore [0x"
                  + Long.toHexString(pieces[i])
                  + ", 0x"
                  + Long.toHexString(pieces[i + 1])
                  + "] to \""
                  + target.name()
                  + "\": its limit was lowered behind the registry");
        }
      }
      if (index >= 0) {
        r.insertAt(index, s, e);
        tree.insert(s, e);
      }
      return rc;
    }
    assert checkInvariants() : violations();
    return 0;
  }

  /**
   * Removes every registration of {@code registrant}, oldest first, as {@link #remove} does.
   *
   * @param registrant an id from {@link #newRegistrant}
   * @return 0, or the first error; registrations whose removal failed stay
   * @throws IllegalArgumentException if the id is unknown
   */
  public synchronized int removeAll(int registrant) {
    Registrant r = registrant(registrant);
    int first = 0;
    int kept = 0;
    while (r.count > kept) {
      long s = r.pairs[2 * kept];
      long e = r.pairs[2 * kept + 1];
      int rc = remove(registrant, s, e);
      if (rc != 0) {
        if (first == 0) {
          first = rc;
        }
        kept++;
      }
    }
    return first;
  }

  private void deleteFromTree(long s, long e) {
    for (int pos = tree.ceiling(s); pos != IntervalBTree.NONE && tree.start(pos) == s;
        pos = tree.next(pos)) {
      if (tree.end(pos) == e) {
        tree.delete(pos);
        return;
      }
    }
    throw new AssertionError(
        "registration [0x" + Long.toHexString(s) + ", 0x" + Long.toHexString(e) + "] not in tree");
  }

  /** The pieces of {@code [s, e]} that no registration covers, as start/end pairs in order. */
  private long[] uncovered(long s, long e) {
    Gaps gaps = new Gaps(s, e);
    if (tree.forEachOverlapping(s, e, gaps) == 0) {
      gaps.add(gaps.cursor, e);
    }
    return Arrays.copyOf(gaps.pairs, gaps.count);
  }

  /**
   * Sweeps the registrations that meet {@code [s, e]} in start order, collecting what lies between
   * them; stops (returns 1) once one reaches {@code e}.
   */
  private static final class Gaps implements IntervalBTree.EntryVisitor {
    private final long end;
    long cursor;
    long[] pairs = new long[8];
    int count;

    Gaps(long s, long e) {
      this.cursor = s;
      this.end = e;
    }

    void add(long a, long b) {
      if (count + 2 > pairs.length) {
        pairs = Arrays.copyOf(pairs, 2 * pairs.length);
      }
      pairs[count++] = a;
      pairs[count++] = b;
    }

    @Override
    public int visit(long a, long b) {
      if (Long.compareUnsigned(a, cursor) > 0) {
        add(cursor, a - 1);
      }
      if (Long.compareUnsigned(b, cursor) >= 0) {
        if (Long.compareUnsigned(b, end) >= 0) {
          return 1;
        }
        cursor = b + 1;
      }
      return 0;
    }
  }

  /**
   * Whether {@code registrant} holds a registration of exactly the inclusive range {@code [s, e]}.
   *
   * @param registrant an id from {@link #newRegistrant}
   * @param s first frame
   * @param e last frame, inclusive
   * @return true if it does (at least once)
   * @throws IllegalArgumentException if the id is unknown
   */
  public synchronized boolean holds(int registrant, long s, long e) {
    return registrant(registrant).find(s, e) >= 0;
  }

  /**
   * The number of registrations {@code registrant} holds.
   *
   * @param registrant an id from {@link #newRegistrant}
   * @return its count of live registrations
   * @throws IllegalArgumentException if the id is unknown
   */
  public synchronized int registrationCount(int registrant) {
    return registrant(registrant).count;
  }

  /**
   * The number of live registrations of all registrants.
   *
   * @return the total count
   */
  public synchronized long registrationCount() {
    return tree.size();
  }

  /**
   * Whether some live registration covers {@code frame}: what the set should answer.
   *
   * @param frame a frame number, unsigned
   * @return true if a registration's inclusive range holds it
   */
  public synchronized boolean isRegistered(long frame) {
    return tree.forEachOverlapping(frame, frame, (a, b) -> 1) != 0;
  }

  /**
   * Visits every live registration, registrant by registrant in id order, each registrant's in the
   * order it made them.
   *
   * @param visitor receives each registration; a non-zero result stops the walk
   * @return 0, or the visitor's first non-zero result
   */
  public synchronized int forEachRegistration(RegistrationVisitor visitor) {
    for (int id = 0; id < registrants.size(); id++) {
      Registrant r = registrants.get(id);
      for (int i = 0; i < r.count; i++) {
        int rc = visitor.visit(id, r.pairs[2 * i], r.pairs[2 * i + 1]);
        if (rc != 0) {
          return rc;
        }
      }
    }
    return 0;
  }

  /**
   * Where the set differs from the union of the live registrations, one sentence per difference: a
   * frame range that is registered but not in the set (under Xen's policy, a removal unprotected it
   * for another registrant), or in the set but registered by no one (it was added to the set
   * directly). Under {@link RemovalPolicy#OWNERSHIP_AWARE} with every write through the registry
   * the list is empty.
   *
   * @return the differences, in frame order; empty when the set equals the union
   */
  public synchronized List<String> violations() {
    List<String> out = new ArrayList<>();
    long[] union = union();
    long[] set = setRanges();
    long[] missing = subtract(union, set);
    for (int i = 0; i < missing.length; i += 2) {
      out.add(
          "frames "
              + span(missing[i], missing[i + 1])
              + " are registered but not in \""
              + target.name()
              + "\"");
    }
    long[] stray = subtract(set, union);
    for (int i = 0; i < stray.length; i += 2) {
      out.add(
          "frames "
              + span(stray[i], stray[i + 1])
              + " are in \""
              + target.name()
              + "\" but registered by no one");
    }
    if (!sameMultiset()) {
      out.add("the interval tree and the registrants' lists disagree");
    }
    return out;
  }

  /**
   * The registry's own consistency (STYLE E4): the interval tree is well formed and holds exactly
   * the registrants' registrations; the set holds no frame that no registration covers; and under
   * {@link RemovalPolicy#OWNERSHIP_AWARE} it holds every registered frame.
   *
   * @return true if consistent
   */
  synchronized boolean checkInvariants() {
    if (!tree.checkInvariants() || !sameMultiset()) {
      return false;
    }
    long[] union = union();
    long[] set = setRanges();
    if (subtract(set, union).length != 0) {
      return false;
    }
    return policy != RemovalPolicy.OWNERSHIP_AWARE || subtract(union, set).length == 0;
  }

  private boolean sameMultiset() {
    long total = 0;
    for (Registrant r : registrants) {
      total += r.count;
    }
    if (total != tree.size()) {
      return false;
    }
    long[][] fromLists = new long[(int) total][];
    int k = 0;
    for (Registrant r : registrants) {
      for (int i = 0; i < r.count; i++) {
        fromLists[k++] = new long[] {r.pairs[2 * i], r.pairs[2 * i + 1]};
      }
    }
    long[][] fromTree = new long[(int) total][];
    k = 0;
    for (int pos = tree.first(); pos != IntervalBTree.NONE; pos = tree.next(pos)) {
      fromTree[k++] = new long[] {tree.start(pos), tree.end(pos)};
    }
    java.util.Comparator<long[]> order =
        (x, y) -> {
          int c = Long.compareUnsigned(x[0], y[0]);
          return c != 0 ? c : Long.compareUnsigned(x[1], y[1]);
        };
    Arrays.sort(fromLists, order);
    Arrays.sort(fromTree, order);
    return Arrays.deepEquals(fromLists, fromTree);
  }

  /** The union of the registrations as sorted, disjoint, non-adjacent start/end pairs. */
  private long[] union() {
    long[] out = new long[16];
    int n = 0;
    boolean open = false;
    long cs = 0;
    long ce = 0;
    for (int pos = tree.first(); pos != IntervalBTree.NONE; pos = tree.next(pos)) {
      long a = tree.start(pos);
      long b = tree.end(pos);
      if (open && (ce == -1L || Long.compareUnsigned(a, ce + 1) <= 0)) {
        if (Long.compareUnsigned(b, ce) > 0) {
          ce = b;
        }
        continue;
      }
      if (open) {
        if (n + 2 > out.length) {
          out = Arrays.copyOf(out, 2 * out.length);
        }
        out[n++] = cs;
        out[n++] = ce;
      }
      open = true;
      cs = a;
      ce = b;
    }
    if (open) {
      if (n + 2 > out.length) {
        out = Arrays.copyOf(out, out.length + 2);
      }
      out[n++] = cs;
      out[n++] = ce;
    }
    return Arrays.copyOf(out, n);
  }

  private long[] setRanges() {
    List<long[]> ranges = new ArrayList<>();
    target.reportRanges(
        0,
        -1L,
        (s, e) -> {
          ranges.add(new long[] {s, e});
          return 0;
        });
    long[] out = new long[2 * ranges.size()];
    for (int i = 0; i < ranges.size(); i++) {
      out[2 * i] = ranges.get(i)[0];
      out[2 * i + 1] = ranges.get(i)[1];
    }
    return out;
  }

  /** The parts of sorted disjoint ranges {@code a} outside sorted disjoint ranges {@code b}. */
  static long[] subtract(long[] a, long[] b) {
    long[] out = new long[a.length + b.length + 2];
    int n = 0;
    int j = 0;
    for (int i = 0; i < a.length; i += 2) {
      long s = a[i];
      long e = a[i + 1];
      boolean alive = true;
      while (j < b.length && Long.compareUnsigned(b[j + 1], s) < 0) {
        j += 2;
      }
      for (int k = j; alive && k < b.length && Long.compareUnsigned(b[k], e) <= 0; k += 2) {
        if (Long.compareUnsigned(b[k], s) > 0) {
          out[n++] = s;
          out[n++] = b[k] - 1;
        }
        if (Long.compareUnsigned(b[k + 1], e) >= 0) {
          alive = false;
        } else if (Long.compareUnsigned(b[k + 1], s) >= 0) {
          s = b[k + 1] + 1;
        }
      }
      if (alive) {
        out[n++] = s;
        out[n++] = e;
      }
    }
    return Arrays.copyOf(out, n);
  }

  private static String span(long s, long e) {
    return s == e
        ? Long.toHexString(s)
        : Long.toHexString(s) + "-" + Long.toHexString(e);
  }

  /**
   * The registrations, for example {@code "r/o mmio ranges: IO-APIC 0 { fec00 }, 0000:01:00.0
   * MSI-X { e0840, e0842 }"}.
   *
   * @return a description in frame hex
   */
  @Override
  public synchronized String toString() {
    StringBuilder out = new StringBuilder(target.name()).append(':');
    for (int id = 0; id < registrants.size(); id++) {
      Registrant r = registrants.get(id);
      out.append(id == 0 ? " " : ", ").append(r.name).append(" {");
      for (int i = 0; i < r.count; i++) {
        out.append(i == 0 ? " " : ", ").append(span(r.pairs[2 * i], r.pairs[2 * i + 1]));
      }
      out.append(" }");
    }
    return out.toString();
  }
}
