package org.hvmmu.x86.pv;

import java.util.ArrayList;
import java.util.List;

/** A {@link PvTlbFlush} test double that records every request as a short string. */
final class FlushRecorder implements PvTlbFlush {
  final List<String> requests = new ArrayList<>();

  @Override
  public synchronized void flushTlbMask(Domain d, long vcpuMask) {
    if (vcpuMask == 0) {
      throw new AssertionError("empty vCPU set");
    }
    requests.add("tlb d" + d.id() + " 0x" + Long.toHexString(vcpuMask));
  }

  @Override
  public synchronized void flushTlbOneMask(Domain d, long vcpuMask, long linearAddress) {
    if (vcpuMask == 0) {
      throw new AssertionError("empty vCPU set");
    }
    requests.add("one d" + d.id() + " 0x" + Long.toHexString(vcpuMask) + " 0x"
        + Long.toHexString(linearAddress));
  }

  /** The requests since the last call, then forgets them. */
  synchronized List<String> take() {
    List<String> out = List.copyOf(requests);
    requests.clear();
    return out;
  }
}
