package org.hvmmu.testkit.host;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.host.script.ScenarioRunner;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.x86.PageOrder;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;

/**
 * The text of hvmmu's scenario-script language ({@code docs/scenarios.md}) for the values the test
 * kit generates: page-table entries, frame ranges, paging modes, p2m orders and types, inline
 * configuration-space blocks and policies. Every {@link org.hvmmu.testkit.Action} of {@link
 * HostGens#operations} prints itself with these, so a shrunk counterexample, put after its {@link
 * HostSetup#scriptLines() set-up}, is a script {@code hvmmu replay} runs.
 *
 * <pre>{@code
 * HostScript.entry(Pte.fromMfn(0xe0840, PAGE_PRESENT | PAGE_RW));   // "pte(0xe0840, P RW)"
 * HostScript.range(0xfec00, 0xfec03);                               // "0xfec00-0xfec03"
 * HostScript.script(failure.shrunkCounterexample());                // one action per line
 * }</pre>
 *
 * <p>Stateless and thread-safe; every method allocates its result.
 */
public final class HostScript {
  /** Flag names of {@code pte(...)}, in the order they are printed. */
  private static final String[] FLAG_NAMES = {
    "P", "RW", "US", "PWT", "PCD", "A", "D", "PAT", "G", "NX", "GK"
  };

  /** The packed flag bit ({@link Pte#getFlags}) of each name. */
  private static final int[] FLAG_BITS = {
    PteFlags.PAGE_PRESENT,
    PteFlags.PAGE_RW,
    PteFlags.PAGE_USER,
    PteFlags.PAGE_PWT,
    PteFlags.PAGE_PCD,
    PteFlags.PAGE_ACCESSED,
    PteFlags.PAGE_DIRTY,
    PteFlags.PAGE_PAT,
    PteFlags.PAGE_GLOBAL,
    PteFlags.PAGE_NX_BIT,
    PteFlags.PAGE_GUEST_KERNEL
  };

  /** Every packed flag a {@code pte(...)} can name. */
  public static final int NAMED_FLAGS;

  static {
    int all = 0;
    for (int bit : FLAG_BITS) {
      all |= bit;
    }
    NAMED_FLAGS = all;
  }

  private HostScript() {}

  /**
   * A number as the language writes frames and entries: {@code 0x} and lower-case hex, unsigned.
   *
   * @param value any 64-bit value
   * @return for example {@code "0xe0840"}, {@code "0xffffffffffffffff"} for -1
   */
  public static String hex(long value) {
    return "0x" + Long.toHexString(value);
  }

  /**
   * The inclusive frame range {@code [first, last]}: {@code 0xFIRST-0xLAST}, or one number when
   * {@code first == last}.
   *
   * @param first the first frame
   * @param last the last frame
   * @return for example {@code "0xfec00-0xfec03"} or {@code "0xe0840"}
   */
  public static String range(long first, long last) {
    return org.hvmmu.host.script.ScenarioWriter.range(first, last);
  }

  /**
   * A page-table entry: {@code pte(MFN, FLAGS...)} when it holds nothing but a frame number and
   * flags of {@code P RW US PWT PCD A D PAT G NX GK}, else the raw 64-bit number in hex.
   *
   * @param entry the 64-bit entry
   * @return for example {@code "pte(0xe0840, P RW US)"}, {@code "pte(0x0)"} for 0
   */
  public static String entry(long entry) {
    return org.hvmmu.host.script.ScenarioWriter.entry(entry);
  }

  /**
   * Packed flags ({@link Pte#getFlags}) as the names {@code pte(...)} uses, separated by blanks.
   *
   * @param flags packed flags; bits without a name are left out
   * @return for example {@code "P RW US"}, empty for 0
   */
  public static String flagNames(int flags) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < FLAG_NAMES.length; i++) {
      if ((flags & FLAG_BITS[i]) != 0) {
        out.append(out.length() == 0 ? "" : " ").append(FLAG_NAMES[i]);
      }
    }
    return out.toString();
  }

  /**
   * A paging mode's name in {@code domain} commands.
   *
   * @param mode the mode
   * @return {@code pv}, {@code pv32}, {@code pv-shadow}, {@code hvm-ept}, {@code hvm-npt} or {@code
   *     hvm-shadow}
   */
  public static String modeName(PagingMode mode) {
    return org.hvmmu.host.script.Scenario.modeName(mode);
  }

  /**
   * A page order's name in {@code p2m} commands.
   *
   * @param order the order
   * @return {@code 4k}, {@code 2m} or {@code 1g}
   */
  public static String orderName(PageOrder order) {
    return org.hvmmu.host.script.Scenario.orderName(order);
  }

  /**
   * A p2m type's name in {@code p2m} and {@code retype} commands.
   *
   * @param type the type
   * @return its name in lower case, for example {@code mmio_direct}
   */
  public static String typeName(P2mType type) {
    return org.hvmmu.host.script.Scenario.typeName(type);
  }

  /**
   * The body of a {@code device NAME hex} block: the known bytes of {@code config} as {@code lspci
   * -xxx} prints them, 16 to a line, each line starting with its offset ({@code "00: 86 80 c9 10
   * ..."}; offsets of 0x100 and above take three digits, as in {@code lspci -xxxx}).
   *
   * @param config the configuration space
   * @return one string per 16 bytes
   */
  public static List<String> hexLines(ConfigSpace config) {
    byte[] bytes = config.toByteArray();
    List<String> lines = new ArrayList<>(bytes.length / 16);
    for (int row = 0; row < bytes.length; row += 16) {
      StringBuilder line = new StringBuilder(64);
      String offset = Integer.toHexString(row);
      int width = bytes.length > 256 ? 3 : 2;
      for (int pad = offset.length(); pad < width; pad++) {
        line.append('0');
      }
      line.append(offset).append(':');
      for (int i = row; i < row + 16; i++) {
        int b = bytes[i] & 0xff;
        line.append(' ').append(Character.forDigit(b >>> 4, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      lines.add(line.toString());
    }
    return lines;
  }

  /**
   * The script name of a preset policy.
   *
   * @param policy a policy
   * @return {@code "seed-2010"} for {@link Policy#SEED_2010}, {@code "hardened"} for {@link
   *     Policy#HARDENED}, {@code "xen-4.22"} for {@link Policy#XEN_4_22}, the empty string for any
   *     other mix (a script cannot name it)
   */
  public static String policyName(Policy policy) {
    String name = ScenarioRunner.policyName(policy);
    return name.equals("custom") ? "" : name;
  }

  /**
   * How {@code policy} differs from {@link Policy#HARDENED}, switch by switch, for a comment.
   *
   * @param policy a policy
   * @return for example {@code "hardened"}, or {@code "hardened with msix.registerOncePerDevice =
   *     true, msix.clearRecordedRanges = false"}
   */
  public static String describePolicy(Policy policy) {
    Objects.requireNonNull(policy, "policy");
    List<String> changes = new ArrayList<>();
    differences("", policy, Policy.HARDENED, changes);
    return changes.isEmpty() ? "hardened" : "hardened with " + String.join(", ", changes);
  }

  /** Appends {@code prefix.component = value} for every leaf component where the records differ. */
  private static void differences(String prefix, Record a, Record b, List<String> out) {
    for (RecordComponent component : a.getClass().getRecordComponents()) {
      Object x = read(component, a);
      Object y = read(component, b);
      String name = prefix + component.getName();
      if (prefix.isEmpty() && x instanceof Record rx && y instanceof Record ry) {
        differences(name + ".", rx, ry, out);
      } else if (!Objects.equals(x, y)) {
        out.add(name + " = " + x);
      }
    }
  }

  private static Object read(RecordComponent component, Record record) {
    try {
      return component.getAccessor().invoke(record);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot read " + component, e);
    }
  }

  /**
   * The script lines of a sequence of actions, such as a {@link
   * org.hvmmu.testkit.PropertyFailure#shrunkCounterexample()}: each element's {@code toString()},
   * one per line.
   *
   * @param actions a {@code List} of actions (any other object gives its {@code toString()} alone)
   * @return the lines, in order
   */
  public static List<String> lines(Object actions) {
    List<String> out = new ArrayList<>();
    if (actions instanceof List<?> list) {
      for (Object action : list) {
        out.add(String.valueOf(action));
      }
    } else {
      out.add(String.valueOf(actions));
    }
    return out;
  }

  /**
   * A whole script: the set-up's lines, then one line per action, each ending with a newline.
   *
   * @param setup the host set-up the actions ran on
   * @param actions the actions, for example a shrunk counterexample
   * @return the script text
   */
  public static String script(HostSetup setup, Object actions) {
    StringBuilder out = new StringBuilder();
    for (String line : setup.scriptLines()) {
      out.append(line).append('\n');
    }
    for (String line : lines(actions)) {
      out.append(line).append('\n');
    }
    return out.toString();
  }
}
