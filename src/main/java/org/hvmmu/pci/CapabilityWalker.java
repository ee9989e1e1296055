package org.hvmmu.pci;

import java.util.ArrayList;
import java.util.List;

/**
 * Walks a function's standard and extended capability chains the way Xen and Linux do, bounded so
 * that untrusted bytes cannot make it loop.
 *
 * <p>Standard chain: only if the status register's capability-list bit is set; the first pointer is
 * at 0x34 (0x14 for a CardBus header, as in the PCI specification and Linux; Xen's {@code
 * pci_find_cap_offset} always reads 0x34, which no device on x86 Xen ever needed otherwise). Each
 * pointer is masked to a dword ({@code & 0xfc}); a pointer below 0x40 ends the chain, as does an ID
 * of 0xff; at most 48 capabilities are visited ({@code max_cap} in Xen). Extended chain (only when
 * the 4 KiB space is known): from 0x100, each header's bits 31:20 give the next offset, masked to a
 * dword; 0 ends it, at most 480 are visited, and a header of 0 or all-ones means no (further)
 * capability.
 *
 * <p>Both walks also remember the offsets they visited, so a loop is reported at the first repeated
 * offset instead of being followed until the TTL runs out. Bytes that look like capabilities but
 * are not on the chain (an 0x11 at an aligned offset, say) are never reported.
 *
 * <pre>{@code
 * CapabilityList caps = CapabilityWalker.walk(config);
 * int msix = caps.findCapOffset(PciRegs.CAP_ID_MSIX);     // 0 if absent
 * caps.warnings();   // e.g. "capability chain loops back to 0x50 ..."
 * }</pre>
 *
 * <p>Stateless; each walk allocates its result.
 */
public final class CapabilityWalker {
  private CapabilityWalker() {}

  /**
   * Walks both chains.
   *
   * @param config the function's configuration space
   * @return the capabilities found and the problems met
   */
  public static CapabilityList walk(ConfigSpace config) {
    List<Capability> standard = new ArrayList<>();
    List<Capability> extended = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    walkStandard(config, standard, warnings);
    if (config.isExtended()) {
      walkExtended(config, extended, warnings);
    }
    return new CapabilityList(standard, extended, warnings);
  }

  /**
   * The offset of the first standard capability with {@code id}, Xen's {@code pci_find_cap_offset}
   * (with the CardBus start noted in the class comment).
   *
   * @param config the function's configuration space
   * @param id an 8-bit capability ID
   * @return its offset, or 0 if absent
   */
  public static int findCapOffset(ConfigSpace config, int id) {
    return walk(config).findCapOffset(id);
  }

  /**
   * The offset of the first extended capability with {@code id}, Xen's {@code
   * pci_find_ext_capability}.
   *
   * @param config the function's configuration space
   * @param id a 16-bit extended capability ID
   * @return its offset, or 0 if absent or if the extended space is not known
   */
  public static int findExtCapability(ConfigSpace config, int id) {
    return walk(config).findExtCapability(id);
  }

  private static String hex(int v) {
    return "0x" + Integer.toHexString(v);
  }

  private static void walkStandard(
      ConfigSpace config, List<Capability> out, List<String> warnings) {
    int headerType = config.read8(PciRegs.HEADER_TYPE) & PciRegs.HEADER_TYPE_MASK;
    int start =
        headerType == PciRegs.HEADER_TYPE_CARDBUS
            ? PciRegs.CB_CAPABILITY_LIST
            : PciRegs.CAPABILITY_LIST;
    int pointer = config.read8(start);
    if ((config.read16(PciRegs.STATUS) & PciRegs.STATUS_CAP_LIST) == 0) {
      if (pointer != 0) {
        warnings.add(
            "status register says there is no capability list, but the pointer at "
                + hex(start)
                + " is "
                + hex(pointer)
                + ": not followed");
      }
      return;
    }
    boolean[] visited = new boolean[ConfigSpace.CONVENTIONAL_SIZE];
    int from = start;
    for (int ttl = PciRegs.FIND_CAP_TTL; ttl > 0; ttl--) {
      if (pointer < PciRegs.STD_HEADER_END) {
        if (pointer != 0) {
          warnings.add(
              "capability pointer "
                  + hex(pointer)
                  + " at "
                  + hex(from)
                  + " points into the header (below 0x40): chain ends");
        }
        return;
      }
      int offset = pointer & 0xfc;
      if (!config.isKnown(offset, 2)) {
        warnings.add(
            "capability at "
                + hex(offset)
                + " is beyond the "
                + hex(config.size())
                + " bytes known: chain not followed further");
        return;
      }
      if (visited[offset]) {
        warnings.add(
            "capability chain loops back to "
                + hex(offset)
                + " (from "
                + hex(from)
                + "): chain ends");
        return;
      }
      visited[offset] = true;
      int id = config.read8(offset + PciRegs.CAP_LIST_ID);
      if (id == 0xff) {
        warnings.add("capability at " + hex(offset) + " has ID 0xff: chain broken");
        return;
      }
      out.add(new Capability(false, id, 0, offset));
      from = offset + PciRegs.CAP_LIST_NEXT;
      pointer = config.read8(from);
    }
    if (pointer >= PciRegs.STD_HEADER_END) {
      // 48 steps visit every dword from 0x40 to 0xfc at most once, so a further pointer repeats
      // one.
      warnings.add(
          visited[pointer & 0xfc]
              ? "capability chain loops back to "
                  + hex(pointer & 0xfc)
                  + " (from "
                  + hex(from)
                  + "): chain ends"
              : "more than "
                  + PciRegs.FIND_CAP_TTL
                  + " standard capabilities: chain not followed further");
    }
  }

  private static void walkExtended(
      ConfigSpace config, List<Capability> out, List<String> warnings) {
    int offset = PciRegs.EXT_CAP_START;
    int header = config.read32(offset);
    if (header == 0 || header == -1) {
      return;
    }
    boolean[] visited = new boolean[ConfigSpace.EXTENDED_SIZE];
    for (int ttl = PciRegs.EXT_CAP_TTL; ttl > 0; ttl--) {
      visited[offset] = true;
      out.add(new Capability(true, header & 0xffff, (header >>> 16) & 0xf, offset));
      int next = (header >>> 20) & 0xffc;
      if (next == 0) {
        return;
      }
      if (next < PciRegs.EXT_CAP_START) {
        warnings.add(
            "extended capability at "
                + hex(offset)
                + " points to "
                + hex(next)
                + ", below 0x100: chain ends");
        return;
      }
      if (visited[next]) {
        warnings.add(
            "extended capability chain loops back to "
                + hex(next)
                + " (from "
                + hex(offset)
                + "): chain ends");
        return;
      }
      int nextHeader = config.read32(next);
      if (nextHeader == 0 || nextHeader == -1) {
        warnings.add(
            "extended capability at "
                + hex(offset)
                + " points to "
                + hex(next)
                + ", whose header is "
                + (nextHeader == 0 ? "0" : "all-ones")
                + ": chain broken");
        return;
      }
      offset = next;
      header = nextHeader;
    }
    warnings.add(
        "more than " + PciRegs.EXT_CAP_TTL + " extended capabilities: chain not followed further");
  }
}
