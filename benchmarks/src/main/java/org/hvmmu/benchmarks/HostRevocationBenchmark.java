package org.hvmmu.benchmarks;

import java.util.concurrent.TimeUnit;
import org.hvmmu.host.GuestDomain;
import org.hvmmu.host.Host;
import org.hvmmu.host.PagingMode;
import org.hvmmu.host.Policy;
import org.hvmmu.p2m.P2mType;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What protecting one frame costs when guests already map it, for two guest sizes: hardened
 * revocation visits only the mappings the reverse map lists for that frame (here a PV L1 entry and
 * an EPT leaf), so its cost must not grow with the guest; the seed's answer for HVM, re-deriving the
 * owner's whole p2m ({@code p2m_change_entry_type_global(mmio_direct, mmio_direct)}), grows with it.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar HostRevocation -prof gc -rf json -rff revocation.json
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@State(Scope.Benchmark)
public class HostRevocationBenchmark {
  static final long MMIO = 0x100_0000L;
  static final long TABLE = 0x10;

  /** 4-KByte RAM pages the EPT guest maps (1024 = 4 MiB, 262144 = 1 GiB). */
  @Param({"1024", "262144"})
  int guestPages;

  Host hardened;
  Host seed;
  GuestDomain seedGuest;

  /** Builds one host per policy with a PV guest and an EPT guest that both map the MMIO frame. */
  @Setup(Level.Trial)
  public void setup() {
    hardened = build(Policy.HARDENED);
    seed = build(Policy.SEED_2010);
    seedGuest = seed.domain(2);
  }

  private Host build(Policy policy) {
    int tablePages = guestPages / 512 + 64;
    Host h = new Host(0x1000 + guestPages, policy, CpuFeatures.ALL, tablePages);
    GuestDomain pv = h.createDomain(1, PagingMode.PV, false);
    check(h.giveRam(pv, TABLE, TABLE));
    check(h.grantIomem(pv, MMIO, MMIO));
    check(h.pinL1Table(pv, TABLE));
    check(h.mmuUpdate(pv, TABLE, 0,
        Pte.fromMfn(MMIO, PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW | PteFlags.PAGE_USER)));
    GuestDomain hvm = h.createDomain(2, PagingMode.HVM_EPT, false);
    check(h.giveRam(hvm, 0x1000, 0x1000 + guestPages - 1L));
    check(h.grantIomem(hvm, MMIO, MMIO));
    return h;
  }

  private static void check(int rc) {
    if (rc != 0) {
      throw new IllegalStateException("set-up failed: " + rc);
    }
  }

  /**
   * Hardened: protect the frame (revoking the two mappings) and unprotect it again.
   *
   * @return the registration count, so nothing is eliminated
   */
  @Benchmark
  public long hardenedProtectAndRevoke() {
    Host h = hardened;
    h.protect("msix-table", MMIO, MMIO);
    h.unprotect("msix-table", MMIO, MMIO);
    return h.registrations().registrationCount();
  }

  /**
   * The seed's HVM answer: re-derive the owner's whole p2m.
   *
   * @return the number of p2m table pages
   */
  @Benchmark
  public int seedGlobalRederive() {
    seed.changeTypeGlobal(seedGuest, P2mType.MMIO_DIRECT, P2mType.MMIO_DIRECT);
    return seedGuest.p2m().tablePages();
  }
}
