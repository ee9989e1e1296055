package org.hvmmu.pci;

import java.util.ArrayList;
import java.util.List;

/**
 * The result of walking a function's capability chains: the capabilities in chain order (not
 * address order) and what was wrong with the chains. A broken chain is a result, not an exception:
 * the walk keeps what it found before the break and says why it stopped in {@link #warnings()}.
 *
 * @param standard the standard capabilities, in chain order
 * @param extended the extended capabilities, in chain order (empty unless the extended space is
 *     known)
 * @param warnings one line per problem: loops, pointers outside the space, IDs of 0xff, chains cut
 *     by the end of the known bytes, TTLs exhausted
 */
public record CapabilityList(
    List<Capability> standard, List<Capability> extended, List<String> warnings) {
  /**
   * Copies the lists.
   *
   * @param standard see {@link #standard()}
   * @param extended see {@link #extended()}
   * @param warnings see {@link #warnings()}
   * @throws NullPointerException if a list or an element is null
   */
  public CapabilityList {
    standard = List.copyOf(standard);
    extended = List.copyOf(extended);
    warnings = List.copyOf(warnings);
  }

  /**
   * The offset of the first standard capability with {@code id} on the chain, Xen's {@code
   * pci_find_cap_offset}.
   *
   * @param id an 8-bit capability ID
   * @return its offset, or 0 (Xen's "not found") if absent
   */
  public int findCapOffset(int id) {
    for (Capability c : standard) {
      if (c.id() == id) {
        return c.offset();
      }
    }
    return 0;
  }

  /**
   * The offset of the first extended capability with {@code id}, Xen's {@code
   * pci_find_ext_capability}.
   *
   * @param id a 16-bit extended capability ID
   * @return its offset, or 0 if absent
   */
  public int findExtCapability(int id) {
    for (Capability c : extended) {
      if (c.id() == id) {
        return c.offset();
      }
    }
    return 0;
  }

  /**
   * Every standard capability with {@code id}, in chain order (a device may have several vendor
   * specific ones, and a broken one two MSI-X capabilities).
   *
   * @param id an 8-bit capability ID
   * @return the capabilities, possibly empty
   */
  public List<Capability> allStandard(int id) {
    List<Capability> out = new ArrayList<>();
    for (Capability c : standard) {
      if (c.id() == id) {
        out.add(c);
      }
    }
    return List.copyOf(out);
  }
}
