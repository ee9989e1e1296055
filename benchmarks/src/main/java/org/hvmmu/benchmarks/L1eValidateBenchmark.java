package org.hvmmu.benchmarks;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.hvmmu.x86.pv.Domain;
import org.hvmmu.x86.pv.EmulationResult;
import org.hvmmu.x86.pv.GuestType;
import org.hvmmu.x86.pv.L1eValidator;
import org.hvmmu.x86.pv.PageInfo;
import org.hvmmu.x86.pv.PvMmu;
import org.hvmmu.x86.pv.PvSwitches;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A PV guest installing MMIO entries: {@code get_page_from_l1e} alone, {@code mod_l1_entry} and an
 * emulated 8-byte store ({@code ptwr_emulated_update}), each against the bare {@code
 * containsSingleton} lookup of {@code mmio_ro_ranges} it is built on. The frames are the {@link
 * RangeWorkload} queries (half in {@code mmio_ro_ranges}), all above the frame table, so every entry
 * is MMIO of a domain with I/O memory permission. Target: within 2x of {@link #containsSingleton},
 * 0 B/op.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar L1eValidate -prof gc -rf json -rff l1e.json
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@State(Scope.Benchmark)
public class L1eValidateBenchmark {
  /** The L1 table the guest updates. */
  static final long TABLE = 0x100;

  /** Number of ranges in {@code mmio_ro_ranges}. */
  @Param({"16", "1024", "65536"})
  int n;

  /** The seed's switches or upstream's (which also force MMIO uncached). */
  @Param({"SEED_2010", "HARDENED"})
  String switches;

  long[] queries;
  long[] entries;
  IntervalTreeRangeSet mmioRoRanges;
  PvMmu mmu;
  L1eValidator validator;
  Domain guest;

  /** {@link #pageLockFloor}'s words: one {@code type_info} per slot, as the frame table keeps. */
  final long[] typeInfo = new long[Pte.ENTRIES_PER_TABLE];

  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

  /** Builds the host: a 0x1000-frame table, one guest with all I/O memory, one pinned L1 table. */
  @Setup(Level.Trial)
  public void setup() {
    RangeWorkload workload = RangeWorkload.of(n);
    queries = workload.queries.clone();
    entries = new long[queries.length];
    for (int i = 0; i < queries.length; i++) {
      entries[i] = Pte.fromMfn(queries[i],
          PteFlags.PAGE_PRESENT | PteFlags.PAGE_RW | PteFlags.PAGE_USER);
    }
    mmioRoRanges = RangeStructures.intervalTree(workload);
    PvSwitches sw = switches.equals("SEED_2010") ? PvSwitches.SEED_2010 : PvSwitches.HARDENED;
    mmu = new PvMmu(0x1000, mmioRoRanges, CpuFeatures.ALL, sw);
    validator = mmu.validator();
    guest = mmu.createDomain(1, false, GuestType.PV64);
    guest.iomemCaps().addRange(0, ~0L);
    mmu.frameTable().assignRange(TABLE, TABLE, 1);
    if (mmu.pinL1Table(guest, TABLE) != 0) {
      throw new IllegalStateException("pin failed");
    }
  }

  /**
   * The bare lookup every validation makes.
   *
   * @return hits
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int containsSingleton() {
    IntervalTreeRangeSet set = mmioRoRanges;
    long[] qs = queries;
    int hits = 0;
    for (int i = 0; i < qs.length; i++) {
      hits += set.containsSingleton(qs[i]) ? 1 : 0;
    }
    return hits;
  }

  /**
   * {@link L1eValidator#getPageFromL1e} of a writable MMIO entry.
   *
   * @return the sum of the flip masks
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int getPageFromL1e() {
    L1eValidator v = validator;
    Domain d = guest;
    long[] es = entries;
    int sum = 0;
    for (int i = 0; i < es.length; i++) {
      sum += v.getPageFromL1e(es[i], d, d);
    }
    return sum;
  }

  /**
   * {@link PvMmu#modL1Entry} of a writable MMIO entry into slot {@code i % 512}: validation, the
   * page lock, the store and the release of the old (MMIO) entry.
   *
   * @return the sum of the results (0 when every update succeeds)
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int modL1Entry() {
    PvMmu m = mmu;
    Domain d = guest;
    long[] es = entries;
    int sum = 0;
    for (int i = 0; i < es.length; i++) {
      sum += m.modL1Entry(d, TABLE, i & (Pte.ENTRIES_PER_TABLE - 1), es[i], d);
    }
    return sum;
  }

  /**
   * {@link PvMmu#ptwrEmulatedUpdate} of an 8-byte store of a writable MMIO entry.
   *
   * @return the number of stores emulated
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public int ptwrEmulatedUpdate() {
    PvMmu m = mmu;
    Domain d = guest;
    long[] es = entries;
    int okay = 0;
    for (int i = 0; i < es.length; i++) {
      int offset = (i & (Pte.ENTRIES_PER_TABLE - 1)) * 8;
      okay += m.ptwrEmulatedUpdate(d, TABLE, offset, 0, es[i], 8, false) == EmulationResult.OKAY
          ? 1 : 0;
    }
    return okay;
  }

  /**
   * The floor {@link #modL1Entry} pays whatever the range count: Xen's {@code page_lock} (a
   * compare-and-exchange of {@code type_info}, taking the lock bit and a type reference) and
   * {@code page_unlock} (a locked add giving both back), two locked instructions per update, here
   * on a plain {@code long[]} with nothing else around them.
   *
   * @return the sum of the words seen
   */
  @Benchmark
  @OperationsPerInvocation(RangeWorkload.QUERIES)
  public long pageLockFloor() {
    long[] words = typeInfo;
    long sum = 0;
    for (int i = 0; i < RangeWorkload.QUERIES; i++) {
      int slot = i & (Pte.ENTRIES_PER_TABLE - 1);
      long x = (long) LONGS.getVolatile(words, slot);
      if (LONGS.compareAndSet(words, slot, x, x + (1 | PageInfo.PGT_LOCKED))) {
        sum += (long) LONGS.getAndAdd(words, slot, -(1 | PageInfo.PGT_LOCKED));
      }
    }
    return sum;
  }
}
