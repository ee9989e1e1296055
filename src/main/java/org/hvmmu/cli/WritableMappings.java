package org.hvmmu.cli;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.host.GuestDomain;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostInvariants;
import org.hvmmu.host.MappingKind;
import org.hvmmu.rangeset.RangeSet;

/**
 * Every leaf mapping of a host that grants write access to a frame of a given set, whatever the
 * policy exempts: PV L1 entries of live L1 tables, p2m leaves, shadow entries. The demo asks it
 * about the frames hardened protects, on the seed's host and on hardened's, and shows the
 * difference. (The walk is {@link HostInvariants#forEachWritableMapping}.)
 */
final class WritableMappings {
  private WritableMappings() {}

  /**
   * One writable mapping.
   *
   * @param domain the domain
   * @param kind where the entry lives
   * @param where the PV table's frame, the p2m leaf's guest frame, or the shadow L1 table's machine
   *     frame
   * @param slot the entry's slot (0 for p2m leaves)
   * @param entry the entry
   * @param mfn the frame it maps
   */
  record Mapping(GuestDomain domain, MappingKind kind, long where, int slot, long entry,
      long mfn) {
    /**
     * The key that names the same entry in two hosts built by the same script.
     *
     * @return domain id, kind, where and slot
     */
    String key() {
      return domain.id() + "/" + kind + "/" + where + "/" + slot;
    }
  }

  /**
   * The writable mappings of frames in {@code frames}.
   *
   * @param host the host
   * @param frames the frames
   * @return the mappings, domain by domain
   */
  static List<Mapping> of(Host host, RangeSet frames) {
    List<Mapping> out = new ArrayList<>();
    HostInvariants.forEachWritableMapping(host, frames, (d, kind, where, slot, entry, mfn) ->
        out.add(new Mapping(d, kind, where, kind == MappingKind.P2M_LEAF ? 0 : slot, entry, mfn)));
    return out;
  }
}
